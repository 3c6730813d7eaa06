"""Measure codes you already have: a ``(stimuli x units)`` array from any model or recording.

The battery (:func:`neurocode.metrics.run_battery`) measures a *rule*, because fault
tolerance silences units inside the rule's dynamics and superposition encodes mixed stimuli.
A fixed array of codes has no dynamics: here the code *is* the stimulus.
:class:`GivenCodes` is the identity rule (``encode(X) = X``), and silencing unit ``j`` zeroes
column ``j`` of the stored codes, so the readout sees the loss and nothing else changes (a
model or a rule that silences inside its network, where later units may compensate or
cascade, can give a different curve: measure the model itself for that, e.g. a torch
layer with :class:`neurocode.adapters.TorchLayerCode`). Superposition needs
stimuli to mix and is skipped for given codes; every other measure runs.

From Python::

    from neurocode.codes import measure_codes
    battery = measure_codes(codes, labels)            # one split, divided 75 / 25
    battery = measure_codes(codes_tr, labels_tr, codes_test=codes_te, labels_test=labels_te)

From the command line, ``neurocode measure --codes FILE --out DIR`` reads the codes
(:func:`load_codes`), stores them as an ordinary run file (rule ``given-codes``, its data the
file itself) with its battery, and writes the code card beside it (``.card.json``,
``.card.csv``); ``neurocode figures`` and ``neurocode report`` then show it beside the
built-in rules.

File formats, checks and the split: :mod:`neurocode.data.codes`.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from neurocode.data.codes import CODE_SUFFIXES, CodeSet, load_codes, split_codes
from neurocode.data.prepare import dataset_from_codes
from neurocode.params import Param
from neurocode.rules import CodingRule

__all__ = ["GivenCodes", "CodeSet", "load_codes", "split_codes", "measure_codes",
           "code_card", "write_card", "CODE_SUFFIXES", "CARD_FIELDS"]


class GivenCodes(CodingRule):
    """The identity rule: the stimuli are the codes (``encode(X) = X``; a silenced unit's
    column is 0). Fitting records the code width; nothing is learned."""

    name = "given-codes"
    description = "codes given as an array (from any model or recording): encode is identity"
    tags = replace(CodingRule.tags, silencing="dropped")
    params: ClassVar[dict[str, Param]] = {}
    test_params: ClassVar[dict[str, Any]] = {"random_state": 0}

    @property
    def n_units(self) -> int:
        """The code's width: the number of columns of the codes it was fitted on."""
        self._check_fitted()
        return int(self.n_features_in_)

    def _fit(self, X: np.ndarray, y: np.ndarray | None, **fit_params: Any) -> None:
        self.n_units_ = int(X.shape[1])

    def _encode(self, X: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return np.where(mask[None, :], X, 0).astype(np.float32, copy=False)


def measure_codes(codes: Any, labels: Any = None, *, codes_test: Any = None,
                  labels_test: Any = None, test_fraction: float = 0.25, random_state: int = 0,
                  max_stimuli: int = 10_000, threshold: float = 0.0,
                  measures: Any = None, progress: Any = None) -> dict[str, dict[str, Any]]:
    """The battery on given codes (see the module notes); returns ``{measure: results}``
    as :func:`neurocode.metrics.run_battery` does, with ``_meta["skipped"]`` naming the
    measures that do not apply (superposition always; the labelled ones without labels).
    ``measures``: run only these battery measures (names as in
    :func:`~neurocode.metrics.run_battery`; default all).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 4, 400)
    >>> codes = (rng.random((400, 64)) < 0.05) | (np.arange(64)[None, :] // 16 == y[:, None])
    >>> out = measure_codes(codes.astype(float), y, max_stimuli=100)
    >>> print(sorted(k for k in out if k != "_meta")[:4], out["_meta"]["skipped"])
    ['activity', 'compute', 'decoding', 'fault'] superposition
    """
    from neurocode.metrics.battery import run_battery

    cs = split_codes(codes, labels, codes_test=codes_test, labels_test=labels_test,
                     test_fraction=test_fraction, random_state=random_state)
    rule = GivenCodes(random_state=random_state).fit(cs.codes_train)
    # given codes have no image shape: the battery itself skips superposition and says so
    return run_battery(rule, dataset_from_codes(cs), threshold=threshold,
                       max_stimuli=max_stimuli, random_state=random_state, measures=measures,
                       progress=progress)


# --- the code card ---------------------------------------------------------------------------

#: (card field, battery key, what it is): the neuroscience and the ML names of a code's
#: properties, each with the random k-of-N closed form beside it where the battery has one.
CARD_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("n_units", "activity.n_units", "units N"),
    ("n_stimuli", "activity.n_stimuli", "test stimuli measured"),
    ("activity_ratio", "activity.activity_ratio", "mean fraction of units active per stimulus"),
    ("avr", "activity.avr", "mean active units per stimulus (AVR; the ML L0)"),
    ("treves_rolls", "activity.treves_rolls", "Treves-Rolls population sparseness"),
    ("lifetime_sparseness", "activity.lifetime_sparseness", "mean lifetime sparseness"),
    ("dead_fraction", "activity.dead_fraction", "units never active (dead features)"),
    ("code_type", "activity.code_type", "local / sparse / dense (descriptive)"),
    ("willshaw_capacity", "willshaw.capacity", "Willshaw patterns stored at tolerance"),
    ("willshaw_capacity_theory", "willshaw.theory_capacity", "the same for random k-of-N"),
    ("willshaw_bits_per_synapse", "willshaw.bits_per_synapse_at_capacity",
     "Willshaw information per synapse at capacity (half cues)"),
    ("hopfield_capacity_per_unit", "hopfield.capacity_per_unit",
     "covariance-rule memory capacity per unit"),
    ("hopfield_capacity_theory", "hopfield.theory_capacity", "the same for random codes (M)"),
    ("fault_auc", "fault.auc_random", "readout accuracy under random unit loss (AUC)"),
    ("interference_overlap", "overlap.jaccard_between", "Jaccard overlap between classes"),
    ("interference_overlap_random", "overlap.theory_jaccard_random_between",
     "the same for random sets of the same sizes"),
    ("readout_accuracy", "fault.accuracy_intact", "readout accuracy, all units intact"),
    ("redundancy_m90", "decoding.m_fraction_90",
     "fraction of units (random) for 90 % of the accuracy"),
    ("detector_support", "decoding.support_fraction",
     "fraction of units a sparse detector of a class needs"),
    ("sync_async_difference", "sync_async.fraction_different",
     "recalls that part between parallel and serial updates"),
)


def _get(battery: dict[str, dict[str, Any]], key: str) -> Any:
    m, _, name = key.partition(".")
    v = battery.get(m, {}).get(name)
    if isinstance(v, np.ndarray):
        return float(v) if v.ndim == 0 else None
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    return v


def code_card(battery: dict[str, dict[str, Any]], *, name: str = "",
              source: str = "") -> dict[str, Any]:
    """One record of a measured code's properties (:data:`CARD_FIELDS`): values, NaN-free
    (a property the battery did not measure is None), JSON-ready."""
    card: dict[str, Any] = {"name": name, "source": source}
    for field, key, _ in CARD_FIELDS:
        v = _get(battery, key)
        if isinstance(v, float) and not math.isfinite(v):
            v = None
        card[field] = v
    act = battery.get("activity", {})
    if "avr" in act and "n_units" in act:
        k, n = float(act["avr"]), float(act["n_units"])
        # SAE-style feature counts over the measured window (the test stimuli)
        freq = act.get("unit_activity")
        if isinstance(freq, np.ndarray) and freq.size:
            card["dense_feature_fraction"] = float(np.mean(freq > 0.1))
        card["treves_rolls_random_kofn"] = k / n if n else None
    card["skipped"] = str(battery.get("_meta", {}).get("skipped", ""))
    return card


def write_card(card: dict[str, Any], stem: str | Path) -> tuple[Path, Path]:
    """``<stem>.card.json`` and ``<stem>.card.csv`` (one header row, one value row), each
    written atomically (:func:`neurocode.store.write_file_atomic`: a full disk leaves no
    half-written card and raises an ``OSError`` naming the file)."""
    import io

    from neurocode.store import write_file_atomic

    stem = Path(stem)
    js = stem.with_name(stem.name + ".card.json")
    cv = stem.with_name(stem.name + ".card.csv")
    write_file_atomic(js, (json.dumps(card, indent=2, sort_keys=False, default=str)
                           + "\n").encode("utf-8"))
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow(list(card))
    w.writerow(["" if v is None else v for v in card.values()])
    write_file_atomic(cv, buf.getvalue().encode("utf-8"))
    return js, cv
