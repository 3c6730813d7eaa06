"""Issue 18, defect 3: a full disk and a read-only folder, for real where this machine lets us
(a small tmpfs, mounted and remounted read-only as root) and simulated where it does not (a
file size limit, RLIMIT_FSIZE, in a subprocess; ``os.write`` failing with ENOSPC; a folder
chmod 0o555 for a non-root user). Every command ends with one message naming the path and the
cause, exits 1, leaves no partial or truncated file, and keeps every finished result."""

from __future__ import annotations

import errno
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from neurocode import config as cfgmod
from neurocode import store
from neurocode.cli import main
from neurocode.runner import run_path
from neurocode.sweep import run_sweep

EXE = Path(sys.executable).with_name("neurocode")
ROOT = os.geteuid() == 0


def _bars(n_points: int = 3, name: str = "bars", n_units: int = 256) -> dict:
    """Quick k-WTA runs on bars; 256 units make run files of about 30 kB."""
    return {"name": name, "seed": 0, "model": {"rule": "kwta", "n_units": n_units, "k": 4},
            "train": {"epochs": 1}, "data": {"dataset": "bars", "n_train": 200, "n_test": 100},
            "sweep": {"model.k": list(range(1, n_points + 1))}}


def _write_cfg(tmp_path: Path, raw: dict) -> Path:
    p = tmp_path / f"{raw['name']}.yaml"
    p.write_text(yaml.safe_dump(raw))
    return p


def _leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith((".partial", ".lock"))]


def _no_traceback(text: str) -> None:
    assert "Traceback" not in text and "Exception ignored" not in text, text


def _mount(target: Path, size: str) -> None:
    target.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(target)],
                   check=True, capture_output=True)


def _umount(target: Path) -> None:
    subprocess.run(["umount", "-l", str(target)], capture_output=True)


@pytest.fixture
def tmpfs(tmp_path):
    """A 1 MiB tmpfs (a real file system that fills up); skipped where mounting is not
    permitted."""
    target = tmp_path / "tmpfs"
    try:
        _mount(target, "1m")
    except (subprocess.CalledProcessError, FileNotFoundError) as exc:
        pytest.skip(f"cannot mount a tmpfs here: {exc}")
    yield target
    _umount(target)


def _fill(folder: Path, leave: int) -> None:
    """Fill the file system of ``folder`` until ``leave`` bytes are free."""
    st = os.statvfs(folder)
    free = st.f_bavail * st.f_frsize
    (folder / "filler").write_bytes(b"\0" * max(0, free - leave))


def _run_file_size(tmp_path: Path) -> int:
    specs = cfgmod.resolve(_bars(1, name="probe"))
    run_sweep(specs, tmp_path / "probe", workers=1, echo=lambda m: None)
    return run_path(tmp_path / "probe", specs[0]).stat().st_size


# -- run -------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_full_tmpfs_fails_the_run_that_does_not_fit_and_keeps_the_others(tmp_path, tmpfs,
                                                                          workers):
    """Room for two and a half run files: the third run cannot be stored. With one worker
    HDF5 used to crash the process (exit 139) while writing the partial file; with a pool the
    runs were "worker process died"."""
    size = _run_file_size(tmp_path)
    _fill(tmpfs, int(2.5 * size))
    cfg = _write_cfg(tmp_path, _bars(3))
    proc = subprocess.run([str(EXE), "run", str(cfg), "--out", str(tmpfs), "--workers", workers],
                          capture_output=True, text=True, timeout=300)
    text = proc.stdout + proc.stderr
    assert proc.returncode == 1, text
    _no_traceback(text)
    assert "worker process died" not in text
    specs = cfgmod.resolve(_bars(3))
    paths = [run_path(tmpfs, s) for s in specs]
    complete = [store.is_complete(p) for p in paths]
    assert sum(complete) == 2, text  # the two that fit are finished and kept
    lost = paths[complete.index(False)]
    assert f"cannot write {lost}: no space left on device" in text
    assert not lost.exists() and not _leftovers(tmpfs)


@pytest.mark.slow
def test_a_file_size_limit_fails_the_write_cleanly(tmp_path):
    """Unprivileged: RLIMIT_FSIZE below a run file's size makes its write fail (EFBIG)."""
    cfg = _write_cfg(tmp_path, _bars(2, n_units=64))
    out = tmp_path / "out"
    first = cfgmod.resolve(_bars(2, n_units=64))
    run_sweep(first[:1], out, workers=1, echo=lambda m: None)  # a finished run, before
    kept = run_path(out, first[0]).read_bytes()

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write fails with EFBIG, not a signal
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    proc = subprocess.run([str(EXE), "run", str(cfg), "--out", str(out), "--workers", "1"],
                          capture_output=True, text=True, timeout=300, preexec_fn=limited)
    text = proc.stdout + proc.stderr
    assert proc.returncode == 1, text
    _no_traceback(text)
    assert f"cannot write {run_path(out, first[1])}: file too large" in text
    assert run_path(out, first[0]).read_bytes() == kept
    assert not run_path(out, first[1]).exists() and not _leftovers(out)


# -- measure ---------------------------------------------------------------------------------
def _results(tmp_path: Path) -> tuple[Path, list[Path]]:
    """Two experiments of finished runs: two in bars_a, one in bars_b."""
    out = tmp_path / "results"
    paths = []
    for name, n in (("bars_a", 2), ("bars_b", 1)):
        specs = cfgmod.resolve(_bars(n, name=name, n_units=64))
        assert not run_sweep(specs, out, workers=1, echo=lambda m: None).failed
        paths += [run_path(out, s) for s in specs]
    return out, paths


def test_measure_on_a_full_disk_names_the_file_and_measures_the_other_folders(
        tmp_path, monkeypatch, capsys):
    out, paths = _results(tmp_path)
    before = {p: p.read_bytes() for p in paths}
    real = os.write

    def full(fd, data):  # bars_a's device is full
        target = os.readlink(f"/proc/self/fd/{fd}")
        if target.endswith(".partial") and "/bars_a/" in target:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd, data)

    monkeypatch.setattr(os, "write", full)
    assert main(["measure", "--force", str(out)]) == 1
    err = capsys.readouterr().err
    _no_traceback(err)
    assert f"cannot write {paths[0]}: no space left on device" in err
    assert f"1 more run(s) in {paths[0].parent} not measured" in err
    assert paths[0].read_bytes() == before[paths[0]]
    assert paths[1].read_bytes() == before[paths[1]]
    assert store.read_battery(paths[2])  # the other folder is measured
    assert not _leftovers(out)


def test_a_cleanup_error_never_hides_the_write_error(tmp_path, monkeypatch):
    """The partial file cannot even be removed (as on a file system gone read-only): the
    error raised is still the write's, naming the path and the cause."""
    real_write, real_unlink = os.write, Path.unlink

    def full(fd, data):
        if os.readlink(f"/proc/self/fd/{fd}").endswith(".partial"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    def stuck(self, *a, **k):
        if self.name.endswith(".partial"):
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        return real_unlink(self, *a, **k)

    monkeypatch.setattr(os, "write", full)
    monkeypatch.setattr(Path, "unlink", stuck)
    target = tmp_path / "x.h5"
    with pytest.raises(store.StorageError, match=r"x\.h5: no space left on device") as info:
        store.write_run(target, config={"seed": 0}, experiment="x", run_name="x", seed=0,
                        curves={}, final={"a": 1.0})
    assert info.value.errno == errno.ENOSPC and not target.exists()


# -- read-only folders -----------------------------------------------------------------------
@pytest.fixture
def read_only(tmp_path):
    """``make(folder_with_results) -> folder``: the folder made read-only for real: a tmpfs
    remounted read-only as root, a folder chmod 0o555 for other users."""
    mounted: list[Path] = []

    def make(src: Path | None = None) -> Path:
        target = tmp_path / f"ro{len(mounted)}"
        if ROOT:
            try:
                _mount(target, "8m")
            except (subprocess.CalledProcessError, FileNotFoundError) as exc:
                pytest.skip(f"cannot mount a tmpfs here: {exc}")
            mounted.append(target)
            if src is not None:
                subprocess.run(["cp", "-a", f"{src}/.", str(target)], check=True)
            subprocess.run(["mount", "-o", "remount,ro", str(target)], check=True)
        else:
            if src is not None:
                subprocess.run(["cp", "-a", str(src), str(target)], check=True)
            else:
                target.mkdir()
            for d in [target, *[p for p in target.rglob("*") if p.is_dir()]]:
                d.chmod(0o555)
            mounted.append(target)
        return target

    yield make
    for t in mounted:
        if ROOT:
            _umount(t)
        else:
            for d in [t, *[p for p in t.rglob("*") if p.is_dir()]]:
                d.chmod(0o755)


CAUSE = "read-only file system" if ROOT else "permission denied"


def test_measure_in_a_read_only_folder_says_so_and_changes_nothing(tmp_path, read_only, capsys):
    out, paths = _results(tmp_path)
    ro = read_only(out)
    files = sorted(ro.rglob("*.h5"))
    before = {p: p.read_bytes() for p in files}
    assert main(["measure", str(ro)]) == 1
    err = capsys.readouterr().err
    _no_traceback(err)
    assert f"cannot write {files[0]}: {CAUSE}; not measured" in err
    assert all(p.read_bytes() == before[p] for p in files)


def _measured(tmp_path: Path) -> Path:
    out, paths = _results(tmp_path)
    assert main(["measure", str(out)]) == 0
    return out


def test_figures_and_report_into_a_read_only_folder(tmp_path, read_only, capsys):
    results = _measured(tmp_path)
    ro = read_only()
    capsys.readouterr()
    assert main(["figures", str(results), "--out", str(ro / "figs"), "--no-theory",
                 "--no-fields"]) == 1
    err = capsys.readouterr().err
    _no_traceback(err)
    assert f"cannot write {ro / 'figs'}" in err and CAUSE in err
    assert main(["report", str(results), "--out", str(ro / "rep")]) == 1
    err = capsys.readouterr().err
    _no_traceback(err)
    assert f"cannot write {ro / 'rep'}" in err and CAUSE in err


def test_run_into_a_read_only_folder_is_refused_before_training(tmp_path, read_only, capsys):
    ro = read_only()
    cfg = _write_cfg(tmp_path, _bars(2, n_units=64))
    assert main(["run", str(cfg), "--out", str(ro)]) == 1
    err = capsys.readouterr().err
    _no_traceback(err)
    assert f"cannot write run files to {ro / 'bars'}" in err and CAUSE in err


# -- figures and report on a full disk --------------------------------------------------------
@pytest.mark.slow
def test_figures_and_report_on_a_full_disk_leave_no_truncated_file(tmp_path, tmpfs, capsys):
    results = _measured(tmp_path)
    figs = tmp_path / "figs"  # figures drawn before (the report copies those it shows)
    figs.mkdir()
    rng = np.random.default_rng(0)
    for stem in ("summary_properties", "summary_table", "theory_codes"):
        (figs / f"{stem}.png").write_bytes(b"\x89PNG" + rng.bytes(3000))
    _fill(tmpfs, 4096)  # room for one figure at most
    capsys.readouterr()
    assert main(["figures", str(results), "--out", str(tmpfs / "f"), "--no-theory",
                 "--no-fields"]) == 1
    err = capsys.readouterr().err
    _no_traceback(err)
    assert "no space left on device" in err and str(tmpfs / "f") in err
    # the report copies the figures (atomically) and writes its pages (atomically)
    assert main(["report", str(results), "--out", str(tmpfs / "r"), "--figures",
                 str(figs)]) == 1
    err = capsys.readouterr().err
    _no_traceback(err)
    assert "no space left on device" in err and str(tmpfs / "r") in err
    written = [p for p in (tmpfs / "r").rglob("*") if p.is_file()]
    for p in written:  # whatever is there is whole: a copy of a figure, byte for byte
        assert p.suffix == ".png" and p.read_bytes() == (figs / p.name).read_bytes(), p
    assert not _leftovers(tmpfs)
