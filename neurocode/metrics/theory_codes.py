"""Random k-of-N codes measured by Monte Carlo beside their closed forms: the data of the
``theory_codes`` figure.

:func:`theory_curves` measures, for random k-of-N codes of ``N`` units (the theory's own
object, no coding rule, no data set):

* Willshaw capacity ``M*`` and bits per synapse at ``M*`` against ``k`` (hetero-associative,
  error tolerance ``1 / N``: about one wrong unit per recall), beside
  :func:`neurocode.theory.willshaw_theory` (:func:`~neurocode.metrics.capacity.capacity_vs_k`);
* for a local (``k = 1``), a sparse (``k = max(2, round(2 log2 N))``) and a dense (``k = N/2``)
  code of 3,000 items: the false-match probability of a probe against a union of ``M`` codes,
  beside Ahmad & Hawkins (2016) (:func:`~neurocode.metrics.interference.union_false_match`),
  and the survival of an item that needs ``max(1, k // 2)`` of its units under random unit
  deaths, beside the binomial tail (:func:`~neurocode.metrics.fault.kofn_survival`, 500 items,
  20 draws).

The numbers depend only on ``N`` and the seed, so they are computed once and stored as a small
``.npz`` file (:func:`save_theory_curves`, atomic; :func:`load_theory_curves` reads it back,
bit for bit), which :func:`neurocode.figures.battery.theory_figure` draws: figures only read
stored results. :func:`theory_curves_path` is where a results folder keeps it::

    >>> curves = theory_curves(64)                                     # doctest: +SKIP
    >>> save_theory_curves(curves, theory_curves_path("results", 64))  # doctest: +SKIP
    >>> sorted(load_theory_curves(theory_curves_path("results", 64))["codes"])  # doctest: +SKIP
    ['dense', 'local', 'sparse']
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import numpy as np

__all__ = ["CODE_TYPES", "FORMAT", "TheoryCurvesError", "TheoryCurvesWriteError",
           "code_widths", "theory_k_values", "theory_curves", "theory_curves_path",
           "save_theory_curves", "load_theory_curves"]

#: The three codes whose unions and survival are measured, in the figure's order.
CODE_TYPES = ("local", "sparse", "dense")
#: The ``format`` entry of a stored file (its layout's name and version).
FORMAT = "neurocode-theory-codes-1"

#: Items per code, probes of the union measure, items and draws of the survival measure.
_N_ITEMS, _N_PROBES, _N_SURVIVAL, _N_DRAWS = 3000, 400, 500, 20
#: The curves over k, and the curves of each code type.
_CAPACITY_KEYS = ("k_values", "capacity", "theory_capacity", "bits_per_synapse",
                  "theory_bits_per_synapse")
_CODE_KEYS = ("loads", "false_match", "theory_false_match", "fractions", "survival",
              "theory_survival")


class TheoryCurvesError(ValueError):
    """Bad arguments for the theory curves, or a stored file that is not theirs (the message
    names the file and what is wrong)."""


class TheoryCurvesWriteError(OSError):
    """The theory curves could not be written (full disk, read-only folder, ...): the message
    names the file and the cause; no file or temporary is left in its place."""

    def __init__(self, path: str | os.PathLike, cause: OSError) -> None:
        code = cause.errno
        if code is None and cause.args and isinstance(cause.args[0], int):
            code = cause.args[0]
        reason = cause.strerror or (os.strerror(code) if code is not None else "") or str(cause)
        reason = reason or type(cause).__name__
        super().__init__(code, reason, str(path))
        self.message = (f"cannot write {path} (the theory curves): "
                        f"{reason[:1].lower()}{reason[1:]}")

    def __str__(self) -> str:
        return self.message


def _check_units(n_units: Any) -> int:
    if isinstance(n_units, bool) or not isinstance(n_units, (int, np.integer)):
        raise TheoryCurvesError(f"n_units must be a whole number of units, got {n_units!r}")
    if n_units < 8:
        raise TheoryCurvesError(f"n_units must be at least 8 (a local, a sparse and a dense "
                                f"code of distinct widths), got {n_units}")
    return int(n_units)


def _check_seed(random_state: Any) -> int:
    if (isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer))
            or random_state < 0):
        raise TheoryCurvesError(f"random_state must be a seed, a whole number >= 0 (the stored "
                                f"curves are named by it), got {random_state!r}")
    return int(random_state)


def theory_k_values(n_units: int) -> list[int]:
    """The ``k`` of the capacity curve: 14 geometric steps from 1 to ``N/2 - 1``.

    Examples
    --------
    >>> theory_k_values(64)
    [1, 2, 3, 4, 5, 6, 8, 11, 14, 19, 25, 31]
    """
    N = _check_units(n_units)
    return sorted({int(k) for k in np.unique(np.rint(np.geomspace(1, N // 2, 14)))} - {N // 2}
                  | {N // 2 - 1})


def code_widths(n_units: int) -> dict[str, int]:
    """Active units of the local, sparse and dense code of ``N`` units: ``1``,
    ``max(2, round(2 log2 N))`` and ``N // 2``.

    Examples
    --------
    >>> code_widths(1024)
    {'local': 1, 'sparse': 20, 'dense': 512}
    """
    N = _check_units(n_units)
    return {"local": 1, "sparse": max(2, round(2 * math.log2(N))), "dense": N // 2}


def theory_curves(n_units: int = 1024, random_state: int = 0) -> dict[str, Any]:
    """Measure random k-of-N codes of ``n_units`` units beside their closed forms.

    See the module notes for what is measured. A few seconds at ``N = 1024`` (the capacity
    curve dominates); the result depends only on ``n_units`` and ``random_state``.

    Parameters
    ----------
    n_units : int
        Units ``N`` of the codes (at least 8).
    random_state : int
        Seed (a whole number ``>= 0``: the stored file is named by it).

    Returns
    -------
    dict
        ``n_units``, ``random_state``, ``tolerance`` (``1 / N``); ``capacity``: ``k_values``,
        ``capacity`` (``M*`` measured), ``theory_capacity``, ``bits_per_synapse`` (at ``M*``)
        and ``theory_bits_per_synapse``, arrays over ``k``; ``codes``: ``{"local" | "sparse" |
        "dense": {k, theta, loads, false_match, theory_false_match, fractions, survival,
        theory_survival}}`` (``k`` active units, ``theta`` the units an item needs to survive).

    Raises
    ------
    TheoryCurvesError
        For ``n_units`` below 8 or not whole, or a seed that is not a whole number ``>= 0``.

    Examples
    --------
    >>> curves = theory_curves(64)                                 # doctest: +SKIP
    >>> [(name, c["k"], c["theta"]) for name, c in curves["codes"].items()]  # doctest: +SKIP
    [('local', 1, 1), ('sparse', 12, 6), ('dense', 32, 16)]
    """
    from neurocode.metrics.capacity import capacity_vs_k
    from neurocode.metrics.fault import kofn_survival
    from neurocode.metrics.interference import union_false_match
    from neurocode.random_codes import random_codes

    N = _check_units(n_units)
    seed = _check_seed(random_state)
    tolerance = 1 / N
    cap = capacity_vs_k(N, theory_k_values(N), tolerance=tolerance, random_state=seed)
    out: dict[str, Any] = {"n_units": N, "random_state": seed, "tolerance": tolerance,
                           "capacity": {key: np.asarray(cap[key]) for key in _CAPACITY_KEYS},
                           "codes": {}}
    rng = np.random.default_rng(seed)
    items = {}
    for name, k in code_widths(N).items():  # the codes first, in this order, from one stream
        items[name] = random_codes(_N_ITEMS, N, k, random_state=rng)
        u = union_false_match(items[name], random_state=seed, n_probes=_N_PROBES)
        out["codes"][name] = {"k": int(k), "theta": max(1, int(k) // 2),
                              "loads": np.asarray(u["loads"]),
                              "false_match": np.asarray(u["false_match"]),
                              "theory_false_match": np.asarray(u["theory_false_match"])}
    for name, c in out["codes"].items():
        s = kofn_survival(items[name][:_N_SURVIVAL], c["theta"], n_draws=_N_DRAWS,
                          random_state=seed)
        c.update(fractions=np.asarray(s["fractions"]), survival=np.asarray(s["survival"]),
                 theory_survival=np.asarray(s["theory_survival"]))
    return out


def theory_curves_path(results_dir: str | os.PathLike, n_units: int = 1024,
                       random_state: int = 0) -> Path:
    """Where a results folder keeps the theory curves of ``n_units`` and ``random_state``:
    ``<results_dir>/theory/theory_codes_N<n_units>_seed<random_state>.npz``.

    (Not an ``.h5`` file: the run store's search for run files never meets it.)

    Examples
    --------
    >>> theory_curves_path("results", 1024).as_posix()
    'results/theory/theory_codes_N1024_seed0.npz'
    """
    N = _check_units(n_units)
    seed = _check_seed(random_state)
    return Path(results_dir) / "theory" / f"theory_codes_N{N}_seed{seed}.npz"


def _flatten(curves: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """The curves as the flat arrays of the file, checked: ``capacity.<key>``,
    ``codes.<type>.<key>`` and the scalars as 0-d arrays."""
    try:
        flat = {"format": np.array(FORMAT), "code_types": np.array(CODE_TYPES),
                "n_units": np.array(_check_units(curves["n_units"]), dtype=np.int64),
                "random_state": np.array(_check_seed(curves["random_state"]), dtype=np.int64),
                "tolerance": np.array(float(curves["tolerance"]))}
        for key in _CAPACITY_KEYS:
            flat[f"capacity.{key}"] = np.asarray(curves["capacity"][key])
        for name in CODE_TYPES:
            c = curves["codes"][name]
            flat[f"codes.{name}.k"] = np.array(int(c["k"]), dtype=np.int64)
            flat[f"codes.{name}.theta"] = np.array(int(c["theta"]), dtype=np.int64)
            for key in _CODE_KEYS:
                flat[f"codes.{name}.{key}"] = np.asarray(c[key])
    except (KeyError, TypeError) as exc:
        raise TheoryCurvesError(f"not theory curves (as theory_curves returns them): missing or "
                                f"malformed entry {exc}") from exc
    for key, v in flat.items():
        if v.dtype == object:
            raise TheoryCurvesError(f"theory curves entry {key!r} is not an array of numbers")
    return flat


def save_theory_curves(curves: Mapping[str, Any], path: str | os.PathLike) -> Path:
    """Write :func:`theory_curves`'s result to ``path`` (``.npz``, no pickles), atomically.

    The file is written to a temporary file in the same folder (made when missing), then
    renamed onto ``path``: it is whole or absent, never half-written.

    Parameters
    ----------
    curves : mapping
        What :func:`theory_curves` returns.
    path : path-like
        The file to write (:func:`theory_curves_path` names the one of a results folder).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    TheoryCurvesError
        When ``curves`` is not what :func:`theory_curves` returns.
    TheoryCurvesWriteError
        When the file cannot be written (the temporary is removed, a file there before is
        kept).
    """
    from neurocode.store import StorageError, write_file_atomic

    flat = _flatten(curves)
    path = Path(path)
    buf = io.BytesIO()
    try:
        # in memory; the store's one atomic writer puts it on disk. No entry is named
        # allow_pickle (savez's keyword): typed as arrays, mypy would match them against it
        np.savez(buf, **cast("dict[str, Any]", flat))
        path.parent.mkdir(parents=True, exist_ok=True)
        write_file_atomic(path, buf.getvalue())
    except StorageError as exc:
        raise TheoryCurvesWriteError(path, exc.__cause__ if isinstance(exc.__cause__, OSError)
                                     else exc) from exc
    except OSError as exc:
        raise TheoryCurvesWriteError(path, exc) from exc
    return path


def load_theory_curves(path: str | os.PathLike) -> dict[str, Any]:
    """Read theory curves written by :func:`save_theory_curves`: the same dict, bit for bit.

    Parameters
    ----------
    path : path-like
        The ``.npz`` file.

    Returns
    -------
    dict
        As :func:`theory_curves` returns it.

    Raises
    ------
    FileNotFoundError
        When there is no file at ``path``.
    TheoryCurvesError
        When the file is not theory curves (or is damaged); the message names it and says how
        to make it again.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such theory curves file")
    again = "delete it and draw again, or write it anew with save_theory_curves(theory_curves())"
    try:
        with np.load(path, allow_pickle=False) as f:
            flat = {key: f[key] for key in f.files}
    except (OSError, ValueError, EOFError) as exc:
        raise TheoryCurvesError(f"{path}: not a readable theory curves file ({exc}); {again}") \
            from exc
    if str(flat.get("format", "")) != FORMAT:
        raise TheoryCurvesError(f"{path}: not a theory curves file of format {FORMAT!r} "
                                f"(found {str(flat.get('format', 'none'))!r}); {again}")
    try:
        out: dict[str, Any] = {"n_units": int(flat["n_units"]),
                               "random_state": int(flat["random_state"]),
                               "tolerance": float(flat["tolerance"]),
                               "capacity": {key: flat[f"capacity.{key}"]
                                            for key in _CAPACITY_KEYS},
                               "codes": {}}
        for name in CODE_TYPES:
            c = {"k": int(flat[f"codes.{name}.k"]), "theta": int(flat[f"codes.{name}.theta"])}
            c.update({key: flat[f"codes.{name}.{key}"] for key in _CODE_KEYS})
            out["codes"][name] = c
    except KeyError as exc:
        raise TheoryCurvesError(f"{path}: theory curves file without the entry {exc}; "
                                f"{again}") from exc
    return out
