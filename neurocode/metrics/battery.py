"""The code-property battery: every measure of :mod:`neurocode.metrics`, on one fitted rule.

:func:`run_battery` encodes the data once (in chunks), then runs, in this order:

``activity``        AVR, activity ratio, Treves-Rolls and Hoyer sparseness, lifetime
                    sparseness, dead units, code type (:mod:`~neurocode.metrics.activity`)
``representation``  log2 C(N, k) and the distinct codes observed (:mod:`~.capacity`)
``willshaw``        recall error against the number of stored binarised codes from half cues
                    (half of each code's active units), capacity M* and the information per
                    synapse the recall adds to the cue (:mod:`~.capacity`)
``hopfield``        the same for a sparse Hopfield memory, the covariance rule of Tsodyks &
                    Feigel'man with k-winners recall (:mod:`~.covariance`), which holds sparse
                    codes (the +-1 Hebbian rule holds about two of any code with activity
                    <= 0.1); both at a tolerance of one wrong unit per ten active units
                    (``0.1 k/N``, ``k`` the codes' mean activity)
``fault``           readout accuracy against the fraction of units silenced, at random and
                    most-active-first, through ``unit_mask`` (:mod:`~.fault`)
``superposition``   two images at once: top-2 readout and spurious/lost units (:mod:`~.interference`)
``unions``          false matches against unions of binarised codes (:mod:`~.interference`)
``overlap``         Jaccard overlap between classes (:mod:`~.interference`)
``decoding``        redundancy (accuracy against the number of random units observed, m90),
                    readout support (the fewest units an L1 detector of each class must
                    observe, ``support_*``) and active synapses per stimulus (:mod:`~.decoding`)
``parallel``        synchronous against asynchronous updates, for rules that have both
                    (:mod:`~.parallel`)
``sync_async``      the same for any code: its binarised codes stored in a covariance-rule
                    memory at half the capacity for random codes of their activity, recalled
                    from half cues by synchronous and by asynchronous threshold dynamics
                    (:func:`~.parallel.code_sync_async_difference`)
``compute``         measured time per stimulus of the encoder plus the readout (dense and
                    event-driven), in units of a fixed reference product (:mod:`~.compute`)

``measures`` picks a subset (the stimuli drawn are the same, so a subset measured later
matches the rest); a battery stored before a measure existed gets it with
:func:`missing_measures` (``neurocode measure`` adds them to the stored battery).

The codes must be finite and of shape ``(n_stimuli, n_units)`` (a ``ValueError`` naming the
rule otherwise: no battery is computed from NaN codes). Before ``fault``, the rule is checked
to honour ``unit_mask`` (:func:`~neurocode.metrics.fault.mask_ignored`): a rule whose
silenced units stay active gets no fault tolerance (it would read as perfect); ``fault`` is
then listed in ``_meta.skipped`` and the reason kept as ``_meta.why_fault``
(:func:`not_reported` reads them back), so figures and the report show it as missing, with
the reason.

Measures that need labels are skipped for unlabelled data; each measure's result is a dict
of scalars and 1-D curves (see each function's docstring for its definition). The readout is
trained once on intact codes of the training split and never retrained.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from neurocode.data.prepare import Dataset
from neurocode.rules import CodingRule

__all__ = ["run_battery", "encode_all", "missing_measures", "not_reported", "MEASURES"]

MEASURES = ("activity", "representation", "willshaw", "hopfield", "fault", "superposition",
            "unions", "overlap", "decoding", "parallel", "sync_async", "compute")


def missing_measures(battery: dict[str, Any]) -> list[str]:
    """The measures of :data:`MEASURES` a stored battery lacks (those it skipped as not
    applicable, e.g. labelled measures on unlabelled data, are not missing). For no battery
    at all (``{}``) that is every measure."""
    skipped = str(battery.get("_meta", {}).get("skipped", "")).split(",")
    return [m for m in MEASURES if m not in battery and m not in skipped]


def not_reported(battery: dict[str, Any]) -> dict[str, str]:
    """The measures a stored battery refused to report, with why (``_meta.why_<measure>``),
    e.g. ``{"fault": "rule 'x' ignores unit_mask: ..."}``.

    Examples
    --------
    >>> not_reported({"_meta": {"skipped": "fault", "why_fault": "ignores unit_mask"}})
    {'fault': 'ignores unit_mask'}
    """
    meta = battery.get("_meta", {})
    return {k[len("why_"):]: str(v) for k, v in meta.items()
            if k.startswith("why_") and str(v)}


def encode_all(rule: CodingRule, X: np.ndarray, chunk: int = 1000) -> np.ndarray:
    """Codes of every row of ``X`` as float32, encoded ``chunk`` stimuli at a time; a
    ``ValueError`` naming the rule when they are of the wrong shape or not finite."""
    from neurocode.runner import check_codes

    parts = []
    for i in range(0, len(X), chunk):
        xb = X[i:i + chunk]
        parts.append(check_codes(rule.encode(xb), len(xb), rule).astype(np.float32))
    codes = np.concatenate(parts)
    if not np.isfinite(codes).all():  # finite values beyond float32's range
        raise ValueError(f"rule '{rule.name}' encoded values too large for float32 codes")
    return codes


def _subsample(n: int, limit: int, rng: np.random.Generator) -> np.ndarray:
    return np.sort(rng.choice(n, size=limit, replace=False)) if n > limit else np.arange(n)


def run_battery(
    rule: CodingRule,
    data: Dataset,
    *,
    threshold: float = 0.0,
    max_stimuli: int = 10_000,
    max_code_values: int = 50_000_000,
    random_state: int = 0,
    progress: Callable[[str], None] | None = None,
    measures: Sequence[str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Run every measure on ``rule`` (fitted) with ``data``; returns ``{measure: results}``.

    Codes of up to ``max_stimuli`` test stimuli are measured, fewer when the rule is so wide
    that more would exceed ``max_code_values`` code entries (a 39,200-unit code keeps about
    1,275 stimuli). ``results["_meta"]`` records what was used: stimuli, units, seconds per
    measure, the readout kind, and the measures skipped as not applicable. ``measures``: run
    only these (default: all of :data:`MEASURES`).
    """
    from neurocode.metrics import (
        activity,
        capacity,
        compute,
        covariance,
        decoding,
        fault,
        interference,
        parallel,
    )
    from neurocode.metrics.readout import fit_readout

    say = progress or (lambda msg: None)
    wanted = set(MEASURES if measures is None else measures)
    unknown = sorted(wanted - set(MEASURES))
    if unknown:
        raise ValueError(f"unknown measure(s) {', '.join(unknown)}; the battery has "
                         f"{', '.join(MEASURES)}")
    skipped: list[str] = []
    rng = np.random.default_rng(random_state)
    n_units = rule.n_units
    limit = max(100, min(max_stimuli, max_code_values // max(n_units, 1)))
    test_idx = _subsample(len(data.X_test), limit, rng)
    train_idx = _subsample(len(data.X_train), limit, rng)
    X_te = data.X_test[test_idx]
    X_tr = data.X_train[train_idx]
    y_te = data.y_test[test_idx] if data.y_test is not None else None
    y_tr = data.y_train[train_idx] if data.y_train is not None else None
    labelled = y_te is not None and y_tr is not None

    out: dict[str, dict[str, Any]] = {}
    seconds: dict[str, float] = {}

    def timed(name: str, fn: Callable[[], dict[str, Any]]) -> None:
        if name not in wanted:
            return
        say(name)
        t = time.perf_counter()
        out[name] = fn()
        seconds[name] = time.perf_counter() - t

    t0 = time.perf_counter()
    codes_te = encode_all(rule, X_te)
    codes_tr = encode_all(rule, X_tr) if labelled else None
    seconds["encode"] = time.perf_counter() - t0
    binary_te = (np.abs(codes_te) > threshold).astype(np.uint8)

    timed("activity", lambda: activity.activity(codes_te, threshold=threshold))
    timed("representation", lambda: capacity.representational_capacity(codes_te, threshold=threshold))
    # recall counts when at most one unit in ten of a pattern's active units is wrong: a
    # tolerance relative to the code's activity (a fixed fraction of N would let an all-off
    # recall of a very sparse code pass)
    k_mean = float(binary_te.sum(axis=1).mean())
    tolerance = 0.1 * k_mean / n_units if k_mean > 0 else 0.01
    timed("willshaw", lambda: capacity.associative_capacity(
        binary_te, memory="willshaw", tolerance=tolerance, random_state=random_state,
        cue_fraction=0.5))
    if 0 < k_mean < n_units:
        timed("hopfield", lambda: covariance.sparse_hopfield_capacity(
            binary_te, tolerance=tolerance, random_state=random_state))
    elif "hopfield" in wanted:  # a silent or an always-on code carries nothing to store
        out["hopfield"] = {"capacity": float("nan"), "k_mean": k_mean, "n_units": float(n_units),
                           "not_measured": 1.0}
    timed("unions", lambda: interference.union_false_match(binary_te, random_state=random_state))
    why: dict[str, str] = {}
    if labelled and "fault" in wanted:  # a rule deaf to unit_mask would read as perfect
        reason = fault.mask_ignored(rule, X_te, random_state=random_state)
        if reason:
            why["fault"] = reason
            skipped.append("fault")
            say(f"fault: not reported: {reason}")
    readout = None
    needs_readout = {"fault", "superposition", "compute"} - set(why)
    if labelled and wanted & needs_readout:
        t = time.perf_counter()
        readout = fit_readout(rule, X_tr, y_tr, random_state=random_state, codes=codes_tr)
        seconds["readout"] = time.perf_counter() - t
    if labelled and "fault" not in why:
        timed("fault", lambda: fault.fault_tolerance(
            rule, readout, X_te, y_te, random_state=random_state, threshold=threshold,
            check_mask=False))
    # labelled, spelled out: codes_tr is encoded exactly when both label sets are there
    if y_te is not None and y_tr is not None and codes_tr is not None:
        if data.image_shape is not None:
            timed("superposition", lambda: interference.superposition(
                rule, readout, X_te, y_te, random_state=random_state, threshold=threshold))
        timed("overlap", lambda: interference.class_overlap(codes_te, y_te, threshold=threshold))
        timed("decoding", lambda: {
            **decoding.decoding_cost(codes_tr, y_tr, codes_te, y_te, random_state=random_state),
            **decoding.readout_support(codes_tr, y_tr, codes_te, y_te, random_state=random_state),
            **decoding.active_synapses(codes_te, fan_out=int(len(np.unique(y_tr))),
                                       threshold=threshold)})
        # the readout's affine map is fitted on test and training stimuli together (a
        # 784-unit code needs more than 785 rows); the timed batch is drawn from them alike
        timed("compute", lambda: compute.compute_cost(
            rule, readout, np.concatenate([X_te, X_tr]),
            codes=np.concatenate([codes_te, codes_tr]), threshold=threshold,
            random_state=random_state))
    else:
        skipped += ["fault", "superposition", "overlap", "decoding", "compute"]
    if labelled and data.image_shape is None:
        skipped.append("superposition")
    timed("parallel", lambda: parallel.sync_async_difference(rule, X_te, random_state=random_state))
    timed("sync_async", lambda: parallel.code_sync_async_difference(
        binary_te, random_state=random_state))
    out["_meta"] = {
        "n_stimuli": float(len(X_te)), "n_units": float(n_units), "threshold": float(threshold),
        "labelled": float(labelled), "random_state": float(random_state),
        "readout": readout.kind if readout is not None else "none",
        "skipped": ",".join(m for m in skipped if m in wanted),
        **{f"why_{k}": v for k, v in why.items()},
        **{f"seconds_{k}": v for k, v in seconds.items()},
    }
    return out
