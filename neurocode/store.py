"""HDF5 run store: one file per run, written atomically, resumable.

Layout of a run file (the contract other code relies on)::

    /                       attributes:
        config              JSON text of the fully resolved run configuration
        status              "complete" only when the run finished; "failed" (with ``reason``)
        reason              why a run failed ("" otherwise)
        experiment          the experiment name (``name`` in the config)
        run_name            the run's label inside the experiment (e.g. ``l1=1e-05``)
        seed                the run's seed
        versions            JSON text: python, neurocode, torch, numpy, h5py
        git_commit          commit of the working tree that produced it ("" if unknown)
        wall_time_s         wall time of the run in seconds
        created             ISO-8601 UTC time the run finished
    /curves/<name>          1-D series, all of the length of ``curves/step``
    /final/<name>           scalars: the value of each curve at the last step, plus extras
    /battery/<measure>/<x>  the code-property battery (``neurocode measure``): scalars and
                            curves per measure; text values as attributes of the group
    /rule                   the fitted coding rule (name, params, learned arrays), as
                            :func:`neurocode.rules.save_rule` writes it; reload it with
                            ``neurocode.rules.load_rule(path)``

A run is written to ``<name>.h5.partial`` and renamed into place only once it is fully
written and flushed, so a killed run never leaves a file that claims to be complete.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import h5py
import numpy as np

PARTIAL_SUFFIX = ".partial"


class StoreError(Exception):
    """A run file is missing, unreadable, or not a neurocode run."""


def package_versions() -> dict[str, str]:
    """Versions of the packages that shape a run's numbers."""
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for name in ("neurocode", "torch", "numpy", "h5py"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = "unknown"
    return out


def git_commit(cwd: Path | None = None) -> str:
    """The commit of the source tree neurocode runs from, or "" outside a git checkout."""
    here = cwd or Path(__file__).resolve().parent
    try:
        res = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return res.stdout.strip() if res.returncode == 0 else ""


@dataclass
class RunRecord:
    """A run as read back from its file."""

    path: Path
    attrs: dict[str, Any]
    config: dict[str, Any]
    curves: dict[str, np.ndarray]
    final: dict[str, float]

    @property
    def status(self) -> str:
        """The run's ``status`` attribute: ``"complete"``, ``"failed"``, or ``"writing"`` for a file
        whose writer stopped before finishing (``""`` when absent)."""
        return str(self.attrs.get("status", ""))

    @property
    def experiment(self) -> str:
        """The experiment the run belongs to (its ``experiment`` attribute; ``""`` when absent)."""
        return str(self.attrs.get("experiment", ""))

    @property
    def run_name(self) -> str:
        """The run's label within its experiment, e.g. ``"l1=1e-05"`` (its ``run_name`` attribute;
        ``""`` when absent)."""
        return str(self.attrs.get("run_name", ""))


def _attr_str(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _checksummed(arr: np.ndarray) -> dict[str, Any]:
    """Dataset options: a Fletcher-32 checksum on every non-empty array (chunked storage),
    so damaged bytes raise on read instead of returning wrong numbers."""
    return {"fletcher32": True, "chunks": True} if arr.ndim and arr.size else {}


def write_run(
    path: str | os.PathLike,
    *,
    config: Mapping[str, Any],
    experiment: str,
    run_name: str,
    seed: int,
    curves: Mapping[str, Any],
    final: Mapping[str, Any],
    rule: Any = None,
    status: str = "complete",
    reason: str = "",
    wall_time_s: float = 0.0,
) -> Path:
    """Write one run atomically: to ``path + '.partial'``, flushed, fsynced, then renamed.

    Raises ``OSError`` (after removing the partial file) if anything fails while writing; an
    existing file at ``path`` is left untouched in that case.
    """
    if status not in ("complete", "failed"):
        raise ValueError(f"status must be 'complete' or 'failed', got {status!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + PARTIAL_SUFFIX)
    steps = np.asarray(curves.get("step", []))
    try:
        with h5py.File(tmp, "w") as f:
            f.attrs["config"] = json.dumps(config, sort_keys=True)
            f.attrs["experiment"] = experiment
            f.attrs["run_name"] = run_name
            f.attrs["seed"] = int(seed)
            f.attrs["versions"] = json.dumps(package_versions(), sort_keys=True)
            f.attrs["git_commit"] = git_commit()
            f.attrs["wall_time_s"] = float(wall_time_s)
            f.attrs["created"] = datetime.now(UTC).isoformat(timespec="seconds")
            f.attrs["reason"] = reason
            # status is written last: a reader of a half-written file never sees "complete".
            f.attrs["status"] = "writing"
            g = f.create_group("curves")
            for name, values in curves.items():
                arr = np.asarray(values)
                if arr.ndim != 1 or (len(steps) and len(arr) != len(steps)):
                    raise ValueError(
                        f"curve {name!r} has shape {arr.shape}; curves must be 1-D and as long "
                        f"as curves/step ({len(steps)})"
                    )
                g.create_dataset(name, data=arr, **_checksummed(arr))
            g = f.create_group("final")
            for name, value in final.items():
                g.create_dataset(name, data=np.asarray(value))
            if rule is not None:
                from neurocode.rules import save_rule

                save_rule(rule, f, "rule")
            f.attrs["status"] = status
            f.flush()
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink()
        except FileNotFoundError:
            pass
        raise
    return path


def write_battery(path: str | os.PathLike, results: Mapping[str, Mapping[str, Any]]) -> Path:
    """Add (or replace) the ``battery`` group of a complete run file, atomically.

    The file is copied to ``<name>.partial``, the group written there, flushed and fsynced,
    and the copy renamed over the original: a failure at any point leaves the original run
    file as it was.
    """
    import shutil

    path = Path(path)
    if not is_complete(path):
        raise StoreError(f"{path}: not a complete run file (status {run_status(path)!r}); "
                         f"only complete runs can be measured")
    tmp = path.with_name(path.name + PARTIAL_SUFFIX)
    try:
        shutil.copyfile(path, tmp)
        with h5py.File(tmp, "a") as f:
            if "battery" in f:
                del f["battery"]
            root = f.create_group("battery")
            for measure, values in results.items():
                g = root.create_group(measure)
                for name, value in values.items():
                    if isinstance(value, str):
                        g.attrs[name] = value
                    else:
                        arr = np.asarray(value)
                        g.create_dataset(name, data=arr, **_checksummed(arr))
            root.attrs["created"] = datetime.now(UTC).isoformat(timespec="seconds")
            f.flush()
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink()
        except FileNotFoundError:
            pass
        raise
    return path


def read_battery(path: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """The ``battery`` group of a run file as ``{measure: {name: value}}`` ({} if none)."""
    path = Path(path)
    try:
        with h5py.File(path, "r") as f:
            if "battery" not in f:
                return {}
            out: dict[str, dict[str, Any]] = {}
            for measure, g in f["battery"].items():
                vals: dict[str, Any] = {k: _attr_str(v) for k, v in g.attrs.items()}
                for k, ds in g.items():
                    arr = ds[()]
                    vals[k] = arr.item() if np.ndim(arr) == 0 else arr
                out[measure] = vals
            return out
    except OSError as exc:
        raise StoreError(f"{path}: unreadable or corrupted run file ({exc})") from exc


def read_run(path: str | os.PathLike) -> RunRecord:
    """Read a run file back. Raises :class:`StoreError` for a missing or corrupted file."""
    path = Path(path)
    if not path.is_file():
        raise StoreError(f"{path}: no such run file")
    try:
        with h5py.File(path, "r") as f:
            attrs = {k: (_attr_str(v) if isinstance(v, (str, bytes)) else v.item() if hasattr(v, "item") else v)
                     for k, v in f.attrs.items()}
            if "config" not in attrs or "status" not in attrs:
                raise StoreError(f"{path}: not a neurocode run file (no 'config'/'status' attributes)")
            config = json.loads(attrs["config"])
            curves = {k: f["curves"][k][()] for k in f.get("curves", {})}
            final = {k: f["final"][k][()].item() for k in f.get("final", {})}
    except StoreError:
        raise
    except (OSError, KeyError, ValueError) as exc:
        raise StoreError(f"{path}: unreadable or corrupted run file ({exc})") from exc
    return RunRecord(path=path, attrs=attrs, config=config, curves=curves, final=final)


def run_status(path: str | os.PathLike, verify: bool = True) -> str:
    """The status of a run file: "complete", "failed", "missing" or "corrupt".

    With ``verify`` (the default), a file that says "complete" is read through: every
    dataset is read back, and arrays carry a Fletcher-32 checksum (written by
    :func:`write_run`), so a truncated file or one with damaged bytes is "corrupt", never
    "complete".
    """
    path = Path(path)
    if not path.exists():
        return "missing"
    try:
        with h5py.File(path, "r") as f:
            status = _attr_str(f.attrs.get("status", "corrupt"))
            if verify and status == "complete":
                if "config" not in f.attrs:
                    return "corrupt"
                json.loads(_attr_str(f.attrs["config"]))

                def read(name: str, obj: Any) -> None:
                    if isinstance(obj, h5py.Dataset):
                        obj[()]

                f.visititems(read)
            return status
    except (OSError, KeyError, ValueError, RuntimeError):
        return "corrupt"


def is_complete(path: str | os.PathLike) -> bool:
    """Whether the run file at ``path`` is readable and complete (:func:`run_status`)."""
    return run_status(path) == "complete"


def iter_runs(results_dir: str | os.PathLike, *, status: str | None = "complete"):
    """Yield the run records under ``results_dir`` (recursively), sorted by path.

    Files that cannot be read are skipped with a warning on stderr; ``status=None`` yields
    every readable run whatever its status.
    """
    import sys

    for p in sorted(Path(results_dir).rglob("*.h5")):
        try:
            rec = read_run(p)
        except StoreError as exc:
            print(f"warning: skipping {exc}", file=sys.stderr)
            continue
        if status is None or rec.status == status:
            yield rec


class Timer:
    """Wall-clock timer used for the ``wall_time_s`` attribute."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    @property
    def elapsed(self) -> float:
        """Seconds since the timer was made."""
        return time.perf_counter() - self.start
