"""Tests of the MNIST / Fashion-MNIST loader (neurocode.data.mnist).

The real files are read from the shared data folder (``NEUROCODE_DATA`` if set, else
``../shared/datasets`` seen from the repository root).  Most error cases use small fake IDX
files registered as a temporary data set, so they run in milliseconds.  No test touches the
network: every test runs with ``NEUROCODE_DOWNLOAD=0``, a private ``HOME`` and a fetcher that
refuses anything but ``file://`` URLs.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import struct
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from neurocode.data import (
    DATASETS,
    DatasetError,
    clear_cache,
    find_dataset,
    load_mnist,
    mnist,
    search_roots,
)

REPO = Path(__file__).resolve().parents[1]
FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def _holds_all(folder: Path) -> bool:
    return all((folder / f).is_file() or (folder / (f + ".gz")).is_file() for f in FILES)


def _shared_root() -> Path:
    env = os.environ.get("NEUROCODE_DATA")
    if not env:
        return Path(__file__).resolve().parents[2] / "shared" / "datasets"
    root = Path(env).expanduser()
    if not root.is_absolute() and not root.exists():
        root = REPO / root
    return Path(os.path.abspath(root))


SHARED_ROOT = _shared_root()
MNIST_DIR = next((d for d in (SHARED_ROOT / "mnist", SHARED_ROOT) if _holds_all(d)), None)
needs_mnist = pytest.mark.skipif(
    MNIST_DIR is None,
    reason=f"real MNIST not found in {SHARED_ROOT} (set NEUROCODE_DATA to the folder holding mnist/)",
)
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
needs_fashion = pytest.mark.skipif(
    not _holds_all(FASHION_DIR),
    reason=f"Fashion-MNIST not installed in {FASHION_DIR} (apt-get install dataset-fashion-mnist)",
)


def _real(fname: str) -> Path:
    """The real MNIST file ``fname`` (plain or .gz)."""
    assert MNIST_DIR is not None
    plain = MNIST_DIR / fname
    return plain if plain.is_file() else MNIST_DIR / (fname + ".gz")


def _real_bytes(fname: str) -> bytes:
    data = _real(fname).read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No user cache, no env configuration, no system folder, no network."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("NEUROCODE_DATA", raising=False)
    monkeypatch.setenv("NEUROCODE_DOWNLOAD", "0")
    monkeypatch.setattr(mnist, "SYSTEM_ROOT", tmp_path / "system")
    real_fetch = mnist._fetch

    def local_only(url, dest, timeout):
        if not url.startswith("file://"):
            raise AssertionError(f"test tried to reach the network: {url}")
        real_fetch(url, dest, timeout)

    monkeypatch.setattr(mnist, "_fetch", local_only)
    return home


# --------------------------------------------------------------------------- fake data


def idx_bytes(kind: str, n: int, *, magic: int | None = None, seed: int = 0) -> bytes:
    """A small valid IDX file: ``n`` 28x28 images or ``n`` labels."""
    rng = np.random.default_rng(seed)
    if kind == "images":
        header = struct.pack(">IIII", magic or 2051, n, 28, 28)
        body = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8).tobytes()
    else:
        header = struct.pack(">II", magic or 2049, n)
        body = rng.integers(0, 10, size=n, dtype=np.uint8).tobytes()
    return header + body


def fake_contents(n_train: int = 6, n_test: int = 4, seed: int = 0) -> dict[str, bytes]:
    return {
        FILES[0]: idx_bytes("images", n_train, seed=seed),
        FILES[1]: idx_bytes("labels", n_train, seed=seed + 1),
        FILES[2]: idx_bytes("images", n_test, seed=seed + 2),
        FILES[3]: idx_bytes("labels", n_test, seed=seed + 3),
    }


def register_fake(monkeypatch, contents: dict[str, bytes], name: str = "fake", mirrors=()) -> str:
    """Add data set ``name`` to DATASETS with the checksums of ``contents``."""
    spec = dict(DATASETS["mnist"])
    spec.update(
        title="Fake",
        sha256={f: hashlib.sha256(b).hexdigest() for f, b in contents.items()},
        sizes={f: len(b) for f, b in contents.items()},
        mirrors=tuple(mirrors),
    )
    monkeypatch.setitem(DATASETS, name, spec)
    return name


def write_files(folder: Path, contents: dict[str, bytes], gz: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for fname, data in contents.items():
        if gz:
            (folder / (fname + ".gz")).write_bytes(gzip.compress(data, compresslevel=1))
        else:
            (folder / fname).write_bytes(data)
    return folder


def touch_all(folder: Path) -> Path:
    """Empty placeholders: enough for find_dataset, which checks presence only."""
    folder.mkdir(parents=True, exist_ok=True)
    for fname in FILES:
        (folder / fname).touch()
    return folder


# --------------------------------------------------------------------------- real data


@needs_mnist
@pytest.mark.parametrize("split, n", [("train", 60000), ("test", 10000)])
def test_real_mnist_loads(split, n):
    images, labels = load_mnist("mnist", split, data_dir=MNIST_DIR, download=False)
    assert images.shape == (n, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (n,) and labels.dtype == np.uint8
    assert images.min() == 0 and images.max() == 255
    assert set(np.unique(labels).tolist()) == set(range(10))
    assert not images.flags.writeable and not labels.flags.writeable  # shared cache


@needs_mnist
def test_real_mnist_found_through_env_root(monkeypatch):
    monkeypatch.setenv("NEUROCODE_DATA", str(MNIST_DIR.parent))
    assert find_dataset("mnist") in (MNIST_DIR, MNIST_DIR.parent)
    images, labels = load_mnist(split="test")
    assert images.shape == (10000, 28, 28) and labels.shape == (10000,)


@needs_mnist
def test_second_load_returns_cached_arrays():
    first = load_mnist("mnist", "test", data_dir=MNIST_DIR, download=False)
    second = load_mnist("mnist", "test", data_dir=MNIST_DIR, download=False)
    assert first[0] is second[0] and first[1] is second[1]


@needs_fashion
def test_fashion_mnist_loads_by_name(monkeypatch):
    monkeypatch.setattr(mnist, "SYSTEM_ROOT", Path("/usr/share/datasets"))
    assert find_dataset("fashion-mnist") == FASHION_DIR
    for split, n in (("train", 60000), ("test", 10000)):
        images, labels = load_mnist("fashion-mnist", split, download=False)
        assert images.shape == (n, 28, 28) and images.dtype == np.uint8
        assert labels.shape == (n,) and labels.dtype == np.uint8
        assert labels.max() == 9
    # The name is forgiving about case and underscores.
    assert load_mnist("Fashion_MNIST", "test")[0] is images


@needs_mnist
def test_wrong_data_set_in_folder_is_named(tmp_path):
    folder = tmp_path / "data" / "fashion-mnist"
    folder.mkdir(parents=True)
    for fname in FILES:  # MNIST files where Fashion-MNIST is expected
        (folder / _real(fname).name).symlink_to(_real(fname))
    with pytest.raises(DatasetError) as err:
        load_mnist("fashion-mnist", "test", data_dir=tmp_path / "data")
    msg = str(err.value)
    assert "checksum" in msg and "MNIST's t10k-images-idx3-ubyte" in msg
    assert str(folder / _real(FILES[2]).name) in msg  # the path as found, not the link target
    assert "Delete it" not in msg  # the file is fine, the folder is wrong


# --------------------------------------------------------------------------- search


def test_search_roots_order(tmp_path, monkeypatch, isolated):
    monkeypatch.setenv("NEUROCODE_DATA", str(tmp_path / "env"))
    roots = search_roots(tmp_path / "dd")
    assert roots == [
        tmp_path / "dd",
        tmp_path / "env",
        isolated / ".cache" / "neurocode",
        tmp_path / "system",
    ]
    # Unset entries and duplicates are left out; relative paths become absolute.
    monkeypatch.setenv("NEUROCODE_DATA", str(tmp_path / "dd"))
    assert search_roots(tmp_path / "dd") == [tmp_path / "dd", isolated / ".cache" / "neurocode", tmp_path / "system"]
    monkeypatch.delenv("NEUROCODE_DATA")
    monkeypatch.chdir(tmp_path)
    assert search_roots("rel")[0] == tmp_path / "rel"
    assert search_roots()[0] == isolated / ".cache" / "neurocode"


def test_search_order_data_dir_env_cache_system(tmp_path, monkeypatch, isolated):
    dd = touch_all(tmp_path / "dd" / "mnist")
    env = touch_all(tmp_path / "env" / "mnist")
    cache = touch_all(isolated / ".cache" / "neurocode" / "mnist")
    system = touch_all(tmp_path / "system" / "mnist")
    monkeypatch.setenv("NEUROCODE_DATA", str(tmp_path / "env"))
    assert find_dataset("mnist", data_dir=tmp_path / "dd") == dd
    assert find_dataset("mnist") == env
    monkeypatch.delenv("NEUROCODE_DATA")
    assert find_dataset("mnist") == cache
    shutil.rmtree(cache)
    assert find_dataset("mnist") == system
    # A data_dir without the files falls through to the next root.
    assert find_dataset("mnist", data_dir=tmp_path / "empty") == system
    assert env.is_dir()


def test_search_root_itself_and_gz(tmp_path):
    flat = tmp_path / "flat"
    write_files(flat, fake_contents(), gz=True)  # files directly in the root, gzipped
    assert find_dataset("mnist", data_dir=flat) == flat
    # root/<name>/ is preferred to root/ itself.
    nested = touch_all(flat / "mnist")
    assert find_dataset("mnist", data_dir=flat) == nested


def test_partial_folder_is_skipped(tmp_path):
    partial = tmp_path / "dd" / "mnist"
    partial.mkdir(parents=True)
    (partial / FILES[0]).touch()
    full = touch_all(tmp_path / "system" / "mnist")
    assert find_dataset("mnist", data_dir=tmp_path / "dd") == full


# --------------------------------------------------------------------------- errors


def test_missing_files_message_names_every_searched_path(tmp_path, monkeypatch, isolated):
    dd = tmp_path / "dd" / "mnist"
    dd.mkdir(parents=True)
    (dd / FILES[0]).touch()
    (dd / (FILES[1] + ".gz")).touch()
    monkeypatch.setenv("NEUROCODE_DATA", str(tmp_path / "env"))
    with pytest.raises(DatasetError) as err:
        load_mnist("mnist", data_dir=tmp_path / "dd")  # download off through NEUROCODE_DOWNLOAD=0
    msg = str(err.value)
    for folder in (
        tmp_path / "dd" / "mnist",
        tmp_path / "dd",
        tmp_path / "env" / "mnist",
        tmp_path / "env",
        isolated / ".cache" / "neurocode" / "mnist",
        tmp_path / "system",
    ):
        assert f"  {folder}  [" in msg
    assert "MNIST" in msg and "not found" in msg
    assert "2 of 4 files, missing t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte" in msg
    assert "NEUROCODE_DOWNLOAD=0" in msg
    assert "NEUROCODE_DATA" in msg and "--data-dir" in msg
    with pytest.raises(DatasetError, match="download=False"):
        load_mnist("mnist", download=False)
    with pytest.raises(DatasetError, match="not found"):
        find_dataset("mnist")


def test_unknown_name_and_split():
    with pytest.raises(DatasetError) as err:
        load_mnist("kmnist")
    assert "kmnist" in str(err.value) and "fashion-mnist" in str(err.value) and "mnist" in str(err.value)
    with pytest.raises(DatasetError, match="Known data sets"):
        find_dataset("cifar10")
    with pytest.raises(DatasetError, match="split 'validation'"):
        load_mnist("mnist", "validation")


@needs_mnist
def test_truncated_real_file(tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for fname in FILES[:3]:
        (folder / _real(fname).name).symlink_to(_real(fname))
    (folder / FILES[3]).write_bytes(_real_bytes(FILES[3])[:5000])
    with pytest.raises(DatasetError) as err:
        load_mnist("mnist", "test", data_dir=tmp_path)
    msg = str(err.value)
    assert "MNIST" in msg and str(folder / FILES[3]) in msg and "truncated" in msg
    assert "10000 labels" in msg and "Delete it" in msg


@needs_mnist
def test_truncated_gzip_file(tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for fname in FILES[:3]:
        (folder / _real(fname).name).symlink_to(_real(fname))
    gz = gzip.compress(_real_bytes(FILES[3]))
    (folder / (FILES[3] + ".gz")).write_bytes(gz[: len(gz) // 2])
    with pytest.raises(DatasetError, match=r"damaged or truncated gzip"):
        load_mnist("mnist", "test", data_dir=tmp_path)


@needs_mnist
def test_corrupted_real_file_fails_checksum(tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for fname in FILES[:3]:
        (folder / _real(fname).name).symlink_to(_real(fname))
    data = bytearray(_real_bytes(FILES[3]))
    data[100] = (data[100] + 1) % 10  # still a valid label, same size
    (folder / FILES[3]).write_bytes(bytes(data))
    with pytest.raises(DatasetError) as err:
        load_mnist("mnist", "test", data_dir=tmp_path)
    msg = str(err.value)
    assert "checksum" in msg and str(folder / FILES[3]) in msg
    assert DATASETS["mnist"]["sha256"][FILES[3]] in msg and "Delete it" in msg


def test_fake_data_set_loads_plain_and_gz(tmp_path, monkeypatch):
    contents = fake_contents()
    name = register_fake(monkeypatch, contents)
    for gz in (False, True):
        folder = write_files(tmp_path / f"gz{gz}" / name, contents, gz=gz)
        images, labels = load_mnist(name, "train", data_dir=folder.parent)
        assert images.shape == (6, 28, 28) and labels.shape == (6,)
        assert images.tobytes() == contents[FILES[0]][16:]
        assert labels.tobytes() == contents[FILES[1]][8:]
        images, labels = load_mnist(name, "test", data_dir=folder.parent)
        assert images.shape == (4, 28, 28) and labels.shape == (4,)


@pytest.mark.parametrize(
    "fname, magic, expected",
    [
        (FILES[1], 2050, "bad magic number 2050"),
        (FILES[0], 0xDEADBEEF, "bad magic number 3735928559 (0xdeadbeef)"),
        (FILES[1], 2051, "holds images, not labels"),
    ],
)
def test_bad_magic(tmp_path, monkeypatch, fname, magic, expected):
    contents = fake_contents()
    kind = "images" if "images" in fname else "labels"
    body = contents[fname][8 if kind == "labels" else 16 :]
    header = contents[fname][: 8 if kind == "labels" else 16]
    contents[fname] = struct.pack(">I", magic) + header[4:] + body
    name = register_fake(monkeypatch, contents)
    write_files(tmp_path / name, contents)
    with pytest.raises(DatasetError) as err:
        load_mnist(name, "train", data_dir=tmp_path)
    msg = str(err.value)
    assert expected in msg and str(tmp_path / name / fname) in msg and "Fake" in msg


def test_trailing_bytes_and_wrong_image_size(tmp_path, monkeypatch):
    contents = fake_contents()
    contents[FILES[3]] += b"\0\0"
    contents[FILES[2]] = struct.pack(">IIII", 2051, 1, 32, 32) + bytes(32 * 32)
    name = register_fake(monkeypatch, contents)
    write_files(tmp_path / name, contents)
    with pytest.raises(DatasetError, match="32x32 pixels, expected 28x28"):
        load_mnist(name, "test", data_dir=tmp_path)
    contents[FILES[2]] = idx_bytes("images", 4)
    name = register_fake(monkeypatch, contents)
    write_files(tmp_path / name, contents)
    with pytest.raises(DatasetError, match="2 bytes follow the 4 labels"):
        load_mnist(name, "test", data_dir=tmp_path)


def test_images_and_labels_count_mismatch(tmp_path, monkeypatch):
    contents = fake_contents()
    contents[FILES[1]] = idx_bytes("labels", 5)
    name = register_fake(monkeypatch, contents)
    write_files(tmp_path / name, contents)
    with pytest.raises(DatasetError, match="6 images but 5 labels"):
        load_mnist(name, "train", data_dir=tmp_path)


def test_checksum_is_verified_once_per_file_version(tmp_path, monkeypatch):
    contents = fake_contents()
    name = register_fake(monkeypatch, contents)
    folder = write_files(tmp_path / name, contents)
    clear_cache()
    calls = []
    real_sha256 = hashlib.sha256
    monkeypatch.setattr(mnist.hashlib, "sha256", lambda data=b"": calls.append(1) or real_sha256(data))
    load_mnist(name, "train", data_dir=tmp_path)
    assert len(calls) == 2
    mnist._ARRAYS.clear()  # arrays forgotten, verifications kept
    load_mnist(name, "train", data_dir=tmp_path)
    assert len(calls) == 2
    # A changed file (same size, new mtime) is checked again and rejected.
    path = folder / FILES[1]
    data = bytearray(path.read_bytes())
    data[-1] = (data[-1] + 1) % 10
    st = path.stat()
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    with pytest.raises(DatasetError, match="checksum"):
        load_mnist(name, "train", data_dir=tmp_path)
    clear_cache()


# --------------------------------------------------------------------------- download


@needs_mnist
def test_download_from_file_mirror(monkeypatch, isolated):
    monkeypatch.setitem(DATASETS["mnist"], "mirrors", (MNIST_DIR.as_uri() + "/",))
    monkeypatch.setenv("NEUROCODE_DOWNLOAD", "1")
    images, labels = load_mnist("mnist", "test")  # download=None: allowed by the env
    cache = isolated / ".cache" / "neurocode" / "mnist"
    assert sorted(p.name for p in cache.iterdir()) == sorted(f + ".gz" for f in FILES)
    assert images.shape == (10000, 28, 28) and labels.shape == (10000,)
    assert find_dataset("mnist") == cache
    direct = load_mnist("mnist", "test", data_dir=MNIST_DIR)
    assert np.array_equal(images, direct[0]) and np.array_equal(labels, direct[1])


def test_corrupted_download_is_rejected_and_never_moved_in(monkeypatch, isolated):
    contents = fake_contents()
    name = register_fake(monkeypatch, contents, mirrors=("https://bad.invalid/x/",))
    seen = []

    def corrupt_fetch(url, dest, timeout):
        seen.append(url)
        data = bytearray(contents[url.rsplit("/", 1)[1].removesuffix(".gz")])
        data[-1] ^= 1
        Path(dest).write_bytes(gzip.compress(bytes(data)))

    monkeypatch.setattr(mnist, "_fetch", corrupt_fetch)
    with pytest.raises(DatasetError) as err:
        load_mnist(name, "train", download=True)
    msg = str(err.value)
    assert seen == ["https://bad.invalid/x/train-images-idx3-ubyte.gz"]
    assert "checksum mismatch" in msg and seen[0] in msg and "download failed" in msg
    cache = isolated / ".cache" / "neurocode" / name
    assert list(cache.iterdir()) == []  # neither the file nor a temporary left behind


def test_download_falls_back_to_next_mirror(monkeypatch, isolated):
    contents = fake_contents()
    name = register_fake(monkeypatch, contents, mirrors=("https://bad.invalid/", "https://good.invalid/"))

    def fetch(url, dest, timeout):
        fname = url.rsplit("/", 1)[1].removesuffix(".gz")
        if "bad" in url:
            Path(dest).write_bytes(b"<html>not found</html>")
        else:
            Path(dest).write_bytes(gzip.compress(contents[fname]))

    monkeypatch.setattr(mnist, "_fetch", fetch)
    hashed = []
    real_sha256 = hashlib.sha256
    monkeypatch.setattr(mnist.hashlib, "sha256", lambda data=b"": hashed.append(1) or real_sha256(data))
    images, labels = load_mnist(name, "test", download=True)
    assert images.shape == (4, 28, 28) and labels.shape == (4,)
    assert len(hashed) == 8  # 4 rejected + 4 accepted downloads; the load itself hashes nothing
    cache = isolated / ".cache" / "neurocode" / name
    assert sorted(p.name for p in cache.iterdir()) == sorted(f + ".gz" for f in FILES)


def test_network_failure_is_a_dataset_error(monkeypatch):
    name = register_fake(monkeypatch, fake_contents(), mirrors=("https://a.invalid/", "https://b.invalid/"))
    calls = []

    def offline(url, dest, timeout):
        calls.append(url)
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(mnist, "_fetch", offline)
    with pytest.raises(DatasetError) as err:
        load_mnist(name, download=True)
    msg = str(err.value)
    assert "a.invalid" in msg and "b.invalid" in msg and "Name or service not known" in msg
    assert "NEUROCODE_DATA" in msg
    assert len(calls) == 2  # gives up after the first file fails on every mirror


def test_download_switches(monkeypatch):
    name = register_fake(monkeypatch, fake_contents(), mirrors=("https://a.invalid/",))
    calls = []
    monkeypatch.setattr(mnist, "_fetch", lambda url, dest, timeout: calls.append(url))
    with pytest.raises(DatasetError, match="NEUROCODE_DOWNLOAD=0"):
        load_mnist(name)  # env says 0
    monkeypatch.setenv("NEUROCODE_DOWNLOAD", "1")
    with pytest.raises(DatasetError, match="download=False"):
        load_mnist(name, download=False)
    assert calls == []
    with pytest.raises(DatasetError, match="download failed"):
        load_mnist(name)  # env allows: the (empty) fetch is tried and rejected
    assert calls == ["https://a.invalid/train-images-idx3-ubyte.gz"]
