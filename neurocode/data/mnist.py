"""Load MNIST and Fashion-MNIST from their original IDX files, verified by checksum.

Where the files are looked for, in order (see :func:`search_roots`):

1. the ``data_dir`` argument (the CLI's ``--data-dir``);
2. the ``NEUROCODE_DATA`` environment variable;
3. ``~/.cache/neurocode`` (where downloads go);
4. ``/usr/share/datasets`` (Debian's ``dataset-*`` packages).

In each root both ``root/<name>/`` and ``root/`` itself are tried; the first folder that
holds all four IDX files (each plain or gzip-compressed) wins.  When no folder does and
downloading is allowed, the files are fetched from the public mirrors into
``~/.cache/neurocode/<name>/``.

Every file is checked before use: IDX magic number, dimensions, byte count against the
header, and the sha256 of its decompressed content against :data:`DATASETS`.  Anything
wrong raises :class:`DatasetError` with one message that says what is wrong and how to fix
it.  Verified files and loaded arrays are cached for the life of the process.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import logging
import os
import shutil
import struct
import tempfile
import urllib.request
import zlib
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "DATASETS",
    "DatasetError",
    "clear_cache",
    "find_dataset",
    "load_mnist",
    "search_roots",
]

log = logging.getLogger(__name__)

#: Seconds to wait on a mirror before giving up on it (per network operation).
DOWNLOAD_TIMEOUT = 60.0

#: Folder under which the system-wide data set packages install (Debian ``dataset-*``).
SYSTEM_ROOT = Path("/usr/share/datasets")

_IMAGES_MAGIC = 2051
_LABELS_MAGIC = 2049
_IMAGE_SHAPE = (28, 28)

#: The four IDX files of each split: (images file, labels file).
_SPLITS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_FILES = (*_SPLITS["train"], *_SPLITS["test"])

#: Known data sets, by name.  For each: ``title`` (for messages), ``files`` (the four IDX
#: file names, each of which may also be present with a ``.gz`` suffix), ``splits``
#: (split -> (images file, labels file)), ``sha256`` (file name -> sha256 of the
#: DECOMPRESSED content; the gzip wrappers differ between mirrors), ``sizes`` (file name ->
#: decompressed bytes), and ``mirrors`` (base URLs serving ``<file>.gz``, tried in order).
DATASETS: dict[str, dict[str, Any]] = {
    "mnist": {
        "title": "MNIST",
        "files": _FILES,
        "splits": _SPLITS,
        "sha256": {
            "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        },
        "sizes": {
            "train-images-idx3-ubyte": 47040016,
            "train-labels-idx1-ubyte": 60008,
            "t10k-images-idx3-ubyte": 7840016,
            "t10k-labels-idx1-ubyte": 10008,
        },
        "mirrors": (
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
        ),
    },
    "fashion-mnist": {
        "title": "Fashion-MNIST",
        "files": _FILES,
        "splits": _SPLITS,
        # Computed from Debian's dataset-fashion-mnist (0.0~git20200523.55506a9-1); they
        # agree with the raw-file hashes other projects publish for the upstream release.
        "sha256": {
            "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        },
        "sizes": {
            "train-images-idx3-ubyte": 47040016,
            "train-labels-idx1-ubyte": 60008,
            "t10k-images-idx3-ubyte": 7840016,
            "t10k-labels-idx1-ubyte": 10008,
        },
        "mirrors": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    },
}


class DatasetError(Exception):
    """A data set is unknown, missing, damaged or cannot be downloaded.

    The message is meant for a person: it names the data set, the file and what is wrong
    with it, and how to fix it.  The CLI prints it as is and exits with status 1.
    """


# --------------------------------------------------------------------------- lookup


def _spec(name: str) -> tuple[str, dict[str, Any]]:
    """Normalise a data set name and return it with its :data:`DATASETS` entry."""
    key = str(name).strip().lower().replace("_", "-")
    if key not in DATASETS:
        known = ", ".join(sorted(DATASETS))
        raise DatasetError(f"Unknown data set {name!r}. Known data sets: {known}.")
    return key, DATASETS[key]


def _cache_root() -> Path:
    return Path.home() / ".cache" / "neurocode"


def _labelled_roots(data_dir: str | os.PathLike[str] | None = None) -> list[tuple[Path, str]]:
    """The search roots in order, each with where it came from (for messages)."""
    candidates: list[tuple[str | os.PathLike[str] | None, str]] = [
        (data_dir, "--data-dir"),
        (os.environ.get("NEUROCODE_DATA") or None, "NEUROCODE_DATA"),
        (_cache_root(), "download cache"),
        (SYSTEM_ROOT, "system data sets"),
    ]
    out: list[tuple[Path, str]] = []
    seen: set[Path] = set()
    for raw, label in candidates:
        if raw is None or str(raw) == "":
            continue
        root = Path(os.path.abspath(os.path.expanduser(os.fspath(raw))))
        if root in seen:
            continue
        seen.add(root)
        out.append((root, label))
    return out


def search_roots(data_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """The folders searched for data sets, in the order they are tried.

    Parameters
    ----------
    data_dir : str or path-like, optional
        Folder given explicitly (the CLI's ``--data-dir``); searched first.

    Returns
    -------
    list of pathlib.Path
        ``data_dir``, ``$NEUROCODE_DATA``, ``~/.cache/neurocode`` and
        ``/usr/share/datasets``, absolute, without unset entries or duplicates.  Each root
        ``r`` is searched as ``r/<name>/`` and then as ``r/`` itself.
    """
    return [root for root, _ in _labelled_roots(data_dir)]


def _file_in(folder: Path, fname: str) -> Path | None:
    """The path of ``fname`` in ``folder``, plain preferred over ``.gz``; None if absent."""
    for candidate in (folder / fname, folder / (fname + ".gz")):
        if os.path.isfile(candidate):
            return candidate
    return None


def _candidate_dirs(name: str, data_dir: str | os.PathLike[str] | None) -> list[tuple[Path, str]]:
    out = []
    for root, label in _labelled_roots(data_dir):
        out.append((root / name, label))
        out.append((root, label))
    return out


def _how_to_fix(name: str) -> str:
    return (
        f"To fix: set NEUROCODE_DATA or pass --data-dir to a folder holding the four IDX "
        f"files (or to the folder above it, holding {name}/), or allow the download "
        f"(download=True, and NEUROCODE_DOWNLOAD not set to 0) so they are fetched into "
        f"{_cache_root() / name}."
    )


def _missing_message(
    name: str,
    spec: dict[str, Any],
    data_dir: str | os.PathLike[str] | None,
    why_no_download: str,
) -> str:
    files = spec["files"]
    lines = [
        f"{spec['title']} data set ({name!r}) not found: no folder holds all four IDX files "
        f"({', '.join(files)}; each may end in .gz).",
        "Searched, in order:",
    ]
    for folder, label in _candidate_dirs(name, data_dir):
        if not os.path.isdir(folder):
            state = "no such folder"
        else:
            have = [f for f in files if _file_in(folder, f) is not None]
            if not have:
                state = "none of the files"
            else:
                missing = [f for f in files if f not in have]
                state = f"{len(have)} of 4 files, missing {', '.join(missing)}"
        lines.append(f"  {folder}  [{label}: {state}]")
    lines.append(why_no_download)
    lines.append(_how_to_fix(name))
    return "\n".join(lines)


def _find(name: str, spec: dict[str, Any], data_dir: str | os.PathLike[str] | None) -> Path | None:
    for folder, _ in _candidate_dirs(name, data_dir):
        if os.path.isdir(folder) and all(_file_in(folder, f) is not None for f in spec["files"]):
            return folder
    return None


def find_dataset(name: str = "mnist", data_dir: str | os.PathLike[str] | None = None) -> Path:
    """Find the folder holding a data set's four IDX files; nothing is downloaded.

    Parameters
    ----------
    name : str, default "mnist"
        A key of :data:`DATASETS` ("mnist" or "fashion-mnist").
    data_dir : str or path-like, optional
        Folder to search first (the CLI's ``--data-dir``).

    Returns
    -------
    pathlib.Path
        The first folder, in :func:`search_roots` order (``root/<name>/`` before
        ``root/``), holding all four files, each plain or ``.gz``.  Only presence is
        checked here; content is checked when the files are loaded.

    Raises
    ------
    DatasetError
        If the name is unknown, or no searched folder holds all four files; the message
        lists every folder searched and what it lacks.
    """
    key, spec = _spec(name)
    found = _find(key, spec, data_dir)
    if found is None:
        raise DatasetError(
            _missing_message(key, spec, data_dir, "Downloading was not attempted (find_dataset only searches).")
        )
    return found


# --------------------------------------------------------------------------- reading


def _read_decompressed(path: Path, title: str) -> bytes:
    """The content of ``path``, gunzipped if it is gzip data (whatever its suffix)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise DatasetError(f"{title} file {path} cannot be read: {exc.strerror or exc}.") from exc
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (EOFError, OSError, zlib.error) as exc:
            raise DatasetError(
                f"{title} file {path} is a damaged or truncated gzip file ({exc}). "
                f"Delete it so it is downloaded again, or replace it with a good copy."
            ) from exc
    return data


def _parse_idx(data: bytes, kind: str, path: Path, title: str) -> np.ndarray:
    """Parse IDX bytes of ``kind`` "images" or "labels" into a read-only uint8 array.

    Checks the magic number, the image size (28x28) and that the byte count is exactly
    what the header announces.
    """
    fix = "Delete it so it is downloaded again, or replace it with a good copy."
    expected_magic = _IMAGES_MAGIC if kind == "images" else _LABELS_MAGIC
    what = f"{title} {kind} file {path}"
    if len(data) < 8:
        raise DatasetError(f"{what} is truncated: {len(data)} bytes, too short for an IDX header. {fix}")
    magic = int.from_bytes(data[:4], "big")
    if magic != expected_magic:
        if magic in (_IMAGES_MAGIC, _LABELS_MAGIC):
            other = "images" if magic == _IMAGES_MAGIC else "labels"
            reason = f"holds {other}, not {kind} (magic number {magic}, expected {expected_magic}); the files are misnamed"
        else:
            reason = (
                f"has a bad magic number {magic} (0x{magic:08x}), expected {expected_magic}: "
                f"it is not an IDX {kind} file, or it is damaged"
            )
        raise DatasetError(f"{what} {reason}. {fix}")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DatasetError(f"{what} is truncated: {len(data)} bytes, shorter than its {header}-byte header. {fix}")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    if kind == "images" and tuple(dims[1:]) != _IMAGE_SHAPE:
        shape = "x".join(str(d) for d in dims[1:])
        raise DatasetError(f"{what} holds images of {shape} pixels, expected 28x28. {fix}")
    count = int(np.prod(dims, dtype=np.int64))
    expected_len = header + count
    n = dims[0]
    if len(data) < expected_len:
        raise DatasetError(
            f"{what} is truncated: its header announces {n} {kind} ({expected_len} bytes) "
            f"but the (decompressed) file holds {len(data)} bytes. {fix}"
        )
    if len(data) > expected_len:
        raise DatasetError(
            f"{what} is damaged: {len(data) - expected_len} bytes follow the {n} {kind} its "
            f"header announces ({expected_len} bytes expected). {fix}"
        )
    return np.frombuffer(data, dtype=np.uint8, count=count, offset=header).reshape(dims)


#: sha256 verifications already done in this process: (path, size, mtime_ns, expected).
_VERIFIED: set[tuple[str, int, int, str]] = set()


def _verify_key(path: Path, expected: str) -> tuple[str, int, int, str]:
    st = os.stat(path)
    return (str(Path(path).resolve()), st.st_size, st.st_mtime_ns, expected)


def _other_match(digest: str) -> str | None:
    """Name the known file whose checksum ``digest`` is, for a clearer mismatch message."""
    for name, spec in DATASETS.items():
        for fname, sha in spec["sha256"].items():
            if sha == digest:
                return f"{spec['title']}'s {fname} ({name!r})"
    return None


def _check_sha256(data: bytes, path: Path, fname: str, spec: dict[str, Any], key: tuple | None) -> None:
    expected = spec["sha256"][fname]
    if key is not None and key in _VERIFIED:
        return
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected:
        other = _other_match(digest)
        if other is not None:
            why = (
                f"It is {other}: the folder holds another data set, or misnamed files. "
                f"Point --data-dir or NEUROCODE_DATA at a folder holding the {spec['title']} "
                f"files (or at the folder above, holding the data sets by name)."
            )
        else:
            why = (
                "The file is corrupted or is not the original release. Delete it so it is "
                "downloaded again, or replace it with a good copy."
            )
        raise DatasetError(
            f"{spec['title']} file {path} failed its checksum: the sha256 of its decompressed "
            f"content is {digest}, expected {expected} for {fname}. {why}"
        )
    if key is not None:
        _VERIFIED.add(key)


#: Arrays loaded in this process, least recently used first, keyed by
#: (resolved path, size, mtime_ns, kind, expected sha256).
_ARRAYS: OrderedDict[tuple[str, int, int, str, str], np.ndarray] = OrderedDict()
_ARRAYS_MAX = 8  # the four files of two data sets


def _load_verified(path: Path, kind: str, fname: str, spec: dict[str, Any]) -> np.ndarray:
    """Read, parse and verify one IDX file, or return it from the per-process cache.

    Messages name ``path`` as found (a link, say), while the cache is keyed by the resolved
    path with its size and mtime, so a file replaced on disk is read again.
    """
    resolved = Path(path).resolve()
    try:
        st = os.stat(resolved)
    except OSError as exc:
        raise DatasetError(f"{spec['title']} file {path} cannot be read: {exc.strerror or exc}.") from exc
    expected = spec["sha256"][fname]
    key = (str(resolved), st.st_size, st.st_mtime_ns, kind, expected)
    if key in _ARRAYS:
        _ARRAYS.move_to_end(key)
        return _ARRAYS[key]
    data = _read_decompressed(path, spec["title"])
    arr = _parse_idx(data, kind, path, spec["title"])
    _check_sha256(data, path, fname, spec, (str(resolved), st.st_size, st.st_mtime_ns, expected))
    _ARRAYS[key] = arr
    while len(_ARRAYS) > _ARRAYS_MAX:
        _ARRAYS.popitem(last=False)
    return arr


def clear_cache() -> None:
    """Forget the arrays loaded and the checksums verified so far in this process."""
    _ARRAYS.clear()
    _VERIFIED.clear()


# --------------------------------------------------------------------------- download


def _download_allowed(download: bool | None) -> bool:
    if download is not None:
        return bool(download)
    return os.environ.get("NEUROCODE_DOWNLOAD", "1").strip().lower() not in ("0", "false", "no", "off")


def _fetch(url: str, dest: Path, timeout: float) -> None:
    """Write the body at ``url`` to the file ``dest`` (overwritten).

    Network errors propagate (``OSError``, ``urllib.error.URLError``,
    ``http.client.HTTPException``); the caller turns them into :class:`DatasetError`.
    Tests replace this function to avoid the network.
    """
    request = urllib.request.Request(url, headers={"User-Agent": "neurocode-dataset-loader"})
    with urllib.request.urlopen(request, timeout=timeout) as response, open(dest, "wb") as out:
        shutil.copyfileobj(response, out, length=1 << 20)


def _download_file(fname: str, spec: dict[str, Any], target_dir: Path) -> tuple[Path | None, list[str]]:
    """Fetch one file from the mirrors into ``target_dir``, verified before it is moved in.

    Returns the final path (None if every mirror failed) and one line per failed mirror.
    """
    failures: list[str] = []
    expected = spec["sha256"][fname]
    for mirror in spec["mirrors"]:
        url = mirror.rstrip("/") + "/" + fname + ".gz"
        fd, tmp_name = tempfile.mkstemp(prefix=f".{fname}.", suffix=".part", dir=target_dir)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            log.info("downloading %s", url)
            _fetch(url, tmp, DOWNLOAD_TIMEOUT)
            with open(tmp, "rb") as fh:
                raw = fh.read()
            is_gzip = raw[:2] == b"\x1f\x8b"
            try:
                data = gzip.decompress(raw) if is_gzip else raw
            except (EOFError, OSError, zlib.error) as exc:
                failures.append(f"  {url}: not a valid gzip file ({exc})")
                continue
            digest = hashlib.sha256(data).hexdigest()
            if digest != expected:
                failures.append(
                    f"  {url}: checksum mismatch (sha256 of the decompressed content {digest}, "
                    f"expected {expected}); the download was discarded"
                )
                continue
            final = target_dir / (fname + ".gz" if is_gzip else fname)
            os.chmod(tmp, 0o644)
            os.replace(tmp, final)
            _VERIFIED.add(_verify_key(final, expected))
            return final, failures
        except (OSError, http.client.HTTPException, ValueError) as exc:
            failures.append(f"  {url}: {type(exc).__name__}: {exc}")
        finally:
            if tmp.exists():
                tmp.unlink()
    return None, failures


def _download(name: str, spec: dict[str, Any], data_dir: str | os.PathLike[str] | None) -> Path:
    """Download the files of ``name`` missing from the cache; return the cache folder."""
    target = _cache_root() / name
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetError(
            _missing_message(
                name, spec, data_dir, f"Could not create the download folder {target}: {exc.strerror or exc}."
            )
        ) from exc
    failures: list[str] = []
    for fname in spec["files"]:
        if _file_in(target, fname) is not None:
            continue
        got, why = _download_file(fname, spec, target)
        if got is None:
            failures.append(f"{fname} could not be downloaded from any mirror:")
            failures.extend(why)
            failures.append("The remaining files were not tried.")
            break
    if failures:
        raise DatasetError(
            _missing_message(name, spec, data_dir, "The download failed:\n" + "\n".join(failures))
        )
    return target


# --------------------------------------------------------------------------- public


def load_mnist(
    name: str = "mnist",
    split: str = "train",
    data_dir: str | os.PathLike[str] | None = None,
    download: bool | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Load one split of MNIST or Fashion-MNIST as uint8 arrays.

    Parameters
    ----------
    name : str, default "mnist"
        A key of :data:`DATASETS`: "mnist" or "fashion-mnist".
    split : {"train", "test"}, default "train"
        "train" (60,000 items) or "test" (10,000 items, the ``t10k`` files).
    data_dir : str or path-like, optional
        Folder to search first (the CLI's ``--data-dir``); see :func:`search_roots`.
    download : bool, optional
        Whether the files may be downloaded into ``~/.cache/neurocode/<name>/`` when no
        searched folder holds them.  None (the default) allows it unless the environment
        variable ``NEUROCODE_DOWNLOAD`` is "0".

    Returns
    -------
    images : numpy.ndarray
        uint8, shape ``(n, 28, 28)``, pixel values 0..255.
    labels : numpy.ndarray
        uint8, shape ``(n,)``, class indices 0..9.

    Raises
    ------
    DatasetError
        Unknown name or split; files missing everywhere (and not downloadable); a file
        that is truncated, has a bad magic number or fails its sha256 check; a failed
        download.

    Notes
    -----
    The arrays are cached per process and shared between callers, so they are read-only:
    convert (``images.astype(np.float32)``) or copy them before modifying.  A file's
    checksum is computed once per process (per path, size and mtime).
    """
    key, spec = _spec(name)
    if split not in spec["splits"]:
        raise DatasetError(
            f"Unknown split {split!r} for the {spec['title']} data set; use one of: {', '.join(spec['splits'])}."
        )
    folder = _find(key, spec, data_dir)
    if folder is None:
        if not _download_allowed(download):
            why = (
                "Downloading is off (download=False)."
                if download is not None
                else "Downloading is off (NEUROCODE_DOWNLOAD=0)."
            )
            raise DatasetError(_missing_message(key, spec, data_dir, why))
        folder = _download(key, spec, data_dir)
    images_name, labels_name = spec["splits"][split]
    images_path = _file_in(folder, images_name)
    labels_path = _file_in(folder, labels_name)
    if images_path is None or labels_path is None:  # removed since the search
        raise DatasetError(_missing_message(key, spec, data_dir, f"Files vanished from {folder} while loading."))
    images = _load_verified(images_path, "images", images_name, spec)
    labels = _load_verified(labels_path, "labels", labels_name, spec)
    if images.shape[0] != labels.shape[0]:
        raise DatasetError(
            f"{spec['title']} {split} files in {folder} disagree: {images.shape[0]} images but "
            f"{labels.shape[0]} labels. Replace them with a matching pair."
        )
    return images, labels
