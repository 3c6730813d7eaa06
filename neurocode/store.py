"""HDF5 run store: one file per run, written atomically, resumable.

Layout of a run file (the contract other code relies on)::

    /                       attributes:
        config              JSON text of the fully resolved run configuration
        status              "complete" only when the run finished; "failed" (with ``reason``)
        reason              why a run failed ("" otherwise)
        experiment          the experiment name (``name`` in the config)
        run_name            the run's label inside the experiment (e.g. ``l1=1e-05``)
        seed                the run's seed
        versions            JSON text: python, neurocode, torch, numpy, h5py, scipy,
                            scikit-learn, and the machine (platform.machine())
        rule_package        the distribution that registered the run's rule ("neurocode"
                            for the built-in rules, a plugin's distribution name otherwise;
                            "" when it came from no installed package)
        rule_version        that distribution's version
        rule_class          ``module:Class`` of the rule
        threads             torch's intra-op (and the BLAS) thread count the run used
        device              the torch device it ran on ("cpu", "cuda")
        git_commit          commit of the working tree that produced it ("" if unknown)
        wall_time_s         wall time of the run in seconds
        created             ISO-8601 UTC time the run finished
        checksum            ``sha256:<hex>`` of every attribute and dataset value of the file
                            (this one excepted): every reader checks it (files written
                            before it existed are checked through their datasets' Fletcher-32
                            checksums only)
    /curves/<name>          1-D series, all of the length of ``curves/step``
    /final/<name>           scalars: the value of each curve at the last step, plus extras
    /battery/<measure>/<x>  the code-property battery (``neurocode measure``): scalars and
                            curves per measure; text values as attributes of the group
    /rule                   the fitted coding rule (name, params, learned arrays), as
                            :func:`neurocode.rules.save_rule` writes it; reload it with
                            ``neurocode.rules.load_rule(path)``

A run file is built in memory, then written to ``<name>.h5.partial`` with plain writes,
fsynced and renamed into place, so a killed run never leaves a file that claims to be
complete, and a write that fails (no space left, a read-only folder) raises
:class:`StorageError` naming the path and the cause, with the partial file removed and any
earlier file at the path untouched (HDF5 never writes to a full disk itself).

Every reader (:func:`read_run`, :func:`read_battery`, :func:`run_status`) checks the whole
file: its ``checksum`` attribute and each dataset's Fletcher-32 checksum; a damaged file is
a :class:`StoreError` (``"corrupt"`` for :func:`run_status`), never numbers read silently.
"""

from __future__ import annotations

import errno
import hashlib
import io
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


class StorageError(StoreError, OSError):
    """A file could not be written (no space left, a read-only folder, no permission): the
    message names the path and the cause; nothing partial is left behind. It is an
    ``OSError`` too (with the cause's ``errno`` and ``filename``), so code that caught the
    ``OSError`` of a failed write still does.

    Attributes
    ----------
    path : pathlib.Path
        The file that could not be written.
    errno : int or None
        The operating system's error number (``errno.ENOSPC``, ``errno.EROFS``, ...).
    cause : str
        The cause in words (``"no space left on device"``).
    """

    def __init__(self, path: str | os.PathLike, cause: BaseException | str = "") -> None:
        self.path = Path(path)
        why = describe_os_error(cause) if isinstance(cause, OSError) else str(cause)
        self.cause = why
        self.message = f"cannot write {self.path}: {why}"
        super().__init__(self.message)
        self.errno = getattr(cause, "errno", None)
        self.strerror = why
        self.filename = str(self.path)

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple:
        cause = OSError(self.errno, self.cause) if self.errno is not None else self.cause
        return (type(self), (self.path, cause))


_CAUSES = {errno.ENOSPC: "no space left on device", errno.EROFS: "read-only file system",
           errno.EACCES: "permission denied", errno.EPERM: "operation not permitted",
           errno.EDQUOT: "disk quota exceeded", errno.EFBIG: "file too large (a file size "
           "limit was reached)", errno.EISDIR: "it is a folder",
           errno.ENOTDIR: "a part of the path is a file, not a folder",
           errno.EEXIST: "a file of that name is in the way", errno.EIO: "input/output error"}


def describe_os_error(exc: BaseException) -> str:
    """The cause of an ``OSError`` in words (``"no space left on device"``, ``"read-only file
    system"``, ...), with the system's own text when it says more.

    Examples
    --------
    >>> import errno
    >>> describe_os_error(OSError(errno.ENOSPC, "No space left on device"))
    'no space left on device'
    """
    code = getattr(exc, "errno", None)
    text = getattr(exc, "strerror", None) or str(exc)
    if code in _CAUSES:
        cause = _CAUSES[code]
        return cause if cause.lower() == str(text).lower() else (
            cause if str(text).lower() in cause.lower() else f"{cause} ({text})")
    return str(text)


def package_versions() -> dict[str, str]:
    """Versions of the packages that shape a run's numbers, and the machine's architecture."""
    import importlib.metadata as md

    out = {"python": platform.python_version(), "machine": platform.machine()}
    for name in ("neurocode", "torch", "numpy", "h5py", "scipy", "scikit-learn"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = "unknown"
    return out


def _canonical(value: Any) -> bytes:
    """A value's bytes for the checksum, independent of how HDF5 stores it."""
    if isinstance(value, bytes):
        return b"b" + value
    if isinstance(value, str):
        return b"s" + value.encode("utf-8", "surrogatepass")
    arr = np.asarray(value)
    if arr.dtype.kind in "OSUa":
        return b"o" + repr([_attr_str(x) if isinstance(x, (bytes, str)) else repr(x)
                            for x in arr.ravel().tolist()]).encode()
    arr = np.ascontiguousarray(arr)
    return (b"n" + arr.dtype.str.encode() + repr(arr.shape).encode() + arr.tobytes())


def content_checksum(f: h5py.File, values: dict[str, Any] | None = None) -> str:
    """``sha256:<hex>`` over every attribute and dataset value of an open run file, in name
    order (the root's ``checksum`` attribute excepted): what :func:`write_run` stores as
    ``checksum`` and every reader checks. Reading it reads every dataset, so HDF5 checks
    their Fletcher-32 checksums too (a damaged chunk raises ``OSError``). ``values``, when
    given, receives every dataset's value by its path, so a reader need not read it again."""
    h = hashlib.sha256()
    objects: list[tuple[str, Any]] = [("", f)]

    def walk(group: h5py.Group, prefix: str) -> None:
        for k in group.keys():   # each object opened once, from its own group
            obj = group.get(k)
            if obj is None:  # a damaged link
                raise KeyError(f"cannot open {prefix + k}")
            objects.append((prefix + k, obj))
            if isinstance(obj, h5py.Group):
                walk(obj, prefix + k + "/")

    walk(f, "")

    def feed(tag: bytes, data: bytes) -> None:
        h.update(tag + len(data).to_bytes(8, "little") + data)

    for name, obj in sorted(objects, key=lambda item: item[0]):
        feed(b"N", name.encode())
        attrs = obj.attrs
        for k in sorted(attrs):
            if name == "" and k == "checksum":
                continue
            feed(b"A", k.encode())
            feed(b"V", _canonical(attrs[k]))
        if isinstance(obj, h5py.Dataset):
            value = obj[()]
            feed(b"D", _canonical(value))
            if values is not None:
                values[name] = value
    return "sha256:" + h.hexdigest()


#: files this process has verified, by (path, inode, size, mtime): a file changed since is
#: a new key, so it is verified again; reading a run and then its battery checks it once
_VERIFIED: dict[tuple, None] = {}
_LAST: tuple[tuple | None, dict[str, Any] | None] = (None, None)


def _stat_key(path: Path) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (str(Path(path).resolve()), st.st_ino, st.st_size, st.st_mtime_ns)


def _verify(f: h5py.File, path: Path) -> dict[str, Any] | None:
    """Raise StoreError when the open file's content does not match its checksum (or a
    dataset's Fletcher-32 checksum fails); return every dataset's value by path, read in
    that one pass. A file unchanged since this process last verified it (same inode, size
    and modification time) is not read through again: then None (read what you need)."""
    global _LAST
    key = _stat_key(path)
    if key is not None and key in _VERIFIED:
        # the last file verified keeps its values: reading a run, then its battery, is one pass
        return _LAST[1] if _LAST[0] == key else None
    values: dict[str, Any] = {}
    _check_content(f, path, values)
    if key is not None:
        if len(_VERIFIED) >= 65536:
            _VERIFIED.clear()
        _VERIFIED[key] = None
        _LAST = (key, values)
    return values


def _reader(f: h5py.File, values: dict[str, Any] | None):
    """``get(name)``: a dataset's value from the verifying pass, else from the file."""
    if values is None:
        return lambda name: f[name][()]
    # a copy: the values stay cached for the next reader of this file (_verify)
    return lambda name: (values[name].copy() if isinstance(values[name], np.ndarray)
                         else values[name])


def _check_content(f: h5py.File, path: Path, values: dict[str, Any] | None = None) -> None:
    try:
        got = content_checksum(f, values)
    except (OSError, RuntimeError, ValueError, KeyError) as exc:
        raise StoreError(f"{path}: corrupted run file: a dataset cannot be read back "
                         f"({exc}); rerun its config to rebuild it") from exc
    want = f.attrs.get("checksum")
    if want is not None and _attr_str(want) != got:
        raise StoreError(f"{path}: corrupted run file: its content does not match its "
                         f"checksum (damaged bytes); rerun its config to rebuild it")


def write_file_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically: to ``path + '.partial'`` with plain writes,
    fsynced, then renamed over ``path`` (and the folder fsynced).

    Raises :class:`StorageError` naming the path and the cause when anything fails; the
    partial file is removed and an existing file at ``path`` is left as it was.
    """
    path = Path(path)
    tmp = path.with_name(path.name + PARTIAL_SUFFIX)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            view = memoryview(data)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException as exc:
        _remove_quietly(tmp)
        if isinstance(exc, OSError):
            raise StorageError(exc.filename if exc.filename and Path(exc.filename) != tmp
                               else path, exc) from exc
        raise
    try:  # the rename itself survives a crash once the folder is synced
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass
    return path


def _remove_quietly(path: Path) -> None:
    """Remove a partial file; a failure to remove it (a read-only folder) must never hide
    the error being reported."""
    try:
        path.unlink()
    except OSError:
        pass


def remove_stale_partial(path: str | os.PathLike) -> bool:
    """Remove ``<path>.partial`` left by a writer that died (call it holding the run's lock:
    no live writer owns it then); whether there was one."""
    tmp = Path(str(path) + PARTIAL_SUFFIX)
    if tmp.exists():
        _remove_quietly(tmp)
        return True
    return False


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


def _image(build: Any, source: bytes | None = None) -> bytes:
    """The bytes of an HDF5 file built in memory by ``build(f)`` (on a copy of ``source``,
    an existing file's bytes, when given): nothing touches the disk, so a full disk can
    never fail inside HDF5 (which, failing there, can crash the process)."""
    buf = io.BytesIO(source if source is not None else b"")
    with h5py.File(buf, "r+" if source is not None else "w") as f:
        build(f)
        f.attrs["checksum"] = content_checksum(f)
        f.flush()
    return buf.getvalue()


def _rule_provenance(config: Mapping[str, Any], rule: Any) -> dict[str, str]:
    """``rule_package``, ``rule_version``, ``rule_class`` of the rule a config names."""
    from neurocode.rules import UnknownRuleError, rule_origin

    name = rule if rule is not None else (config.get("model") or {}).get("rule")
    if not name:
        return {"rule_package": "", "rule_version": "", "rule_class": ""}
    try:
        o = rule_origin(name)
    except UnknownRuleError:
        return {"rule_package": "", "rule_version": "", "rule_class": ""}
    return {"rule_package": o["package"], "rule_version": o["version"],
            "rule_class": o["class"]}


def current_threads() -> int:
    """torch's intra-op thread count in this process now (0 when torch is not imported)."""
    import sys

    torch = sys.modules.get("torch")
    return int(torch.get_num_threads()) if torch is not None else 0


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
    threads: int | None = None,
    device: str = "cpu",
) -> Path:
    """Write one run atomically: built in memory, written to ``path + '.partial'``, fsynced,
    then renamed.

    ``threads``: the thread count the run used (default: torch's now); the rule's package
    and version are recorded from the registry (``rule_package``, ``rule_version``).
    Raises :class:`StorageError` naming the path and the cause when the file cannot be
    written (the partial file removed; an existing file at ``path`` left untouched), and
    ``ValueError`` for a malformed curve or an unknown status, before anything is written.
    """
    if status not in ("complete", "failed"):
        raise ValueError(f"status must be 'complete' or 'failed', got {status!r}")
    path = Path(path)
    steps = np.asarray(curves.get("step", []))
    arrays: dict[str, np.ndarray] = {}
    for name, values in curves.items():
        arr = np.asarray(values)
        if arr.ndim != 1 or (len(steps) and len(arr) != len(steps)):
            raise ValueError(
                f"curve {name!r} has shape {arr.shape}; curves must be 1-D and as long "
                f"as curves/step ({len(steps)})"
            )
        arrays[name] = arr
    scalars = {name: np.asarray(value) for name, value in final.items()}
    provenance = _rule_provenance(config, getattr(rule, "name", None))

    def build(f: h5py.File) -> None:
        f.attrs["config"] = json.dumps(config, sort_keys=True)
        f.attrs["experiment"] = experiment
        f.attrs["run_name"] = run_name
        f.attrs["seed"] = int(seed)
        f.attrs["versions"] = json.dumps(package_versions(), sort_keys=True)
        for k, v in provenance.items():
            f.attrs[k] = v
        f.attrs["threads"] = int(current_threads() if threads is None else threads)
        f.attrs["device"] = str(device)
        f.attrs["git_commit"] = git_commit()
        f.attrs["wall_time_s"] = float(wall_time_s)
        f.attrs["created"] = datetime.now(UTC).isoformat(timespec="seconds")
        f.attrs["reason"] = reason
        f.attrs["status"] = "writing"
        g = f.create_group("curves")
        for name, arr in arrays.items():
            g.create_dataset(name, data=arr, **_checksummed(arr))
        g = f.create_group("final")
        for name, arr in scalars.items():
            g.create_dataset(name, data=arr)
        if rule is not None:
            from neurocode.rules import save_rule

            save_rule(rule, f, "rule")
        f.attrs["status"] = status

    return write_file_atomic(path, _image(build))


def write_battery(path: str | os.PathLike, results: Mapping[str, Mapping[str, Any]]) -> Path:
    """Add (or replace) the ``battery`` group of a complete run file, atomically.

    The file is read and checked (its checksum), the new file built in memory (every group
    but ``battery`` copied, the new battery written, the checksum renewed), written to
    ``<name>.partial``, fsynced and renamed over the original: a failure at any point
    leaves the original run file as it was (:class:`StorageError` when it cannot be
    written, naming the path and the cause).
    """
    path = Path(path)
    if not is_complete(path):
        raise StoreError(f"{path}: not a complete run file (status {run_status(path)!r}); "
                         f"only complete runs can be measured")
    try:
        source = path.read_bytes()
    except OSError as exc:
        raise StoreError(f"{path}: cannot read the run file: {describe_os_error(exc)}") from exc

    def build(f: h5py.File) -> None:
        with h5py.File(io.BytesIO(source), "r") as src:
            for k, v in src.attrs.items():
                if k != "checksum":
                    f.attrs[k] = v
            for name in src:
                if name != "battery":
                    src.copy(src[name], f, name=name)
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

    return write_file_atomic(path, _image(build))


def read_battery(path: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """The ``battery`` group of a run file as ``{measure: {name: value}}`` ({} if none).

    The whole file is checked first (its checksum, each dataset's Fletcher-32): a damaged
    file raises :class:`StoreError`, never a battery read silently."""
    path = Path(path)
    try:
        with h5py.File(path, "r") as f:
            get = _reader(f, _verify(f, path))
            if "battery" not in f:
                return {}
            out: dict[str, dict[str, Any]] = {}
            for measure, g in f["battery"].items():
                vals: dict[str, Any] = {k: _attr_str(v) for k, v in g.attrs.items()}
                for k in g.keys():
                    arr = get(f"battery/{measure}/{k}")
                    vals[k] = arr.item() if np.ndim(arr) == 0 else arr
                out[measure] = vals
            return out
    except StoreError:
        raise
    except (OSError, RuntimeError, KeyError, ValueError) as exc:
        raise StoreError(f"{path}: unreadable or corrupted run file ({exc})") from exc


def read_run(path: str | os.PathLike) -> RunRecord:
    """Read a run file back, checking it whole first (its ``checksum`` attribute and every
    dataset's Fletcher-32 checksum). Raises :class:`StoreError` for a missing, truncated or
    damaged file."""
    path = Path(path)
    if not path.is_file():
        raise StoreError(f"{path}: no such run file")
    try:
        with h5py.File(path, "r") as f:
            attrs = {k: (_attr_str(v) if isinstance(v, (str, bytes)) else v.item() if hasattr(v, "item") else v)
                     for k, v in f.attrs.items()}
            if "config" not in attrs or "status" not in attrs:
                raise StoreError(f"{path}: not a neurocode run file (no 'config'/'status' attributes)")
            get = _reader(f, _verify(f, path))
            config = json.loads(attrs["config"])
            curves = {k: get(f"curves/{k}") for k in f.get("curves", {})}
            final = {k: get(f"final/{k}").item() for k in f.get("final", {})}
    except StoreError:
        raise
    except (OSError, RuntimeError, KeyError, ValueError) as exc:
        raise StoreError(f"{path}: unreadable or corrupted run file ({exc})") from exc
    return RunRecord(path=path, attrs=attrs, config=config, curves=curves, final=final)


def run_status(path: str | os.PathLike, verify: bool = True) -> str:
    """The status of a run file: "complete", "failed", "missing" or "corrupt".

    With ``verify`` (the default), the file is read through as every reader reads it: its
    ``checksum`` attribute and every dataset's Fletcher-32 checksum are checked (written by
    :func:`write_run`), so a truncated file or one with damaged bytes is "corrupt", never
    "complete".
    """
    path = Path(path)
    if not path.exists():
        return "missing"
    try:
        with h5py.File(path, "r") as f:
            status = _attr_str(f.attrs.get("status", "corrupt"))
            if verify and status in ("complete", "failed"):
                if "config" not in f.attrs:
                    return "corrupt"
                json.loads(_attr_str(f.attrs["config"]))
                _verify(f, path)
            return status
    except (StoreError, OSError, KeyError, ValueError, RuntimeError):
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
