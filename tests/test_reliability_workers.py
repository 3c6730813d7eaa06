"""Issue 18, defect 2: pool workers never outlive the process that started them, whatever
kills it (SIGKILL included), and they leave no half-written file behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

EXE = Path(sys.executable).with_name("neurocode")


def _children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            out.append(int(d.name))
    return out


def _alive(pid: int) -> bool:
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return False


def _wait(pred, timeout: float, what: str) -> float:
    t = time.monotonic()
    while not pred():
        if time.monotonic() - t > timeout:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)
    return time.monotonic() - t


needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


@needs_proc
@pytest.mark.slow
def test_sigkill_of_neurocode_run_stops_every_worker(tmp_path):
    """``neurocode run`` on the default local pool is killed with SIGKILL while two workers
    are inside long runs; every process it started must be gone within seconds, with no
    partial file and no lock left."""
    # k-WTA on bars with many epochs: each run takes minutes, far longer than the test waits
    raw = {"name": "orphans", "seed": 0, "model": {"rule": "kwta", "n_units": 64, "k": 4},
           "train": {"epochs": 5000}, "data": {"dataset": "bars", "n_train": 1000,
                                               "n_test": 100},
           "sweep": {"seed": [0, 1, 2, 3]}}
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump(raw))
    out = tmp_path / "out"
    proc = subprocess.Popen([str(EXE), "run", str(cfg), "--out", str(out), "--workers", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=tmp_path, start_new_session=True)
    try:
        def busy() -> bool:  # both workers hold a run's lock: they are inside a run
            return len([p for p in out.rglob("*.lock") if p.read_text().strip()]) >= 2

        _wait(busy, 120, "two workers inside their runs")
        kids = _children(proc.pid)
        workers = {int(p.read_text().split()[0]) for p in out.rglob("*.lock")}
        assert workers <= set(kids) and len(workers) == 2, (workers, kids)
        proc.kill()  # SIGKILL: no handler of the main process runs
        proc.wait(timeout=10)
        took = _wait(lambda: not any(_alive(k) for k in kids), 20, f"the workers {kids} to stop")
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # never leave them behind if the test fails
        except ProcessLookupError:
            pass
    assert took < 15
    assert not list(out.rglob("*.partial"))
    assert not list(out.rglob("*.h5"))  # nothing that could look finished
    assert not list(out.rglob("*.lock"))  # each unwound run released its lock


@needs_proc
def test_a_pool_of_new_pool_stops_with_its_parent(tmp_path):
    """The pool every neurocode command uses (runs, and the suites' measures): its worker,
    busy in a task, stops when its parent is SIGKILLed; the task's finally block runs."""
    marker = tmp_path / "unwound"
    script = f"""
import os, sys, time
from neurocode.sweep import guarded, new_pool

def task(marker):
    try:
        time.sleep(600)
    finally:
        open(marker, "w").write("finally ran")

if __name__ == "__main__":
    pool = new_pool(1)
    fut = pool.submit(guarded, task, {str(marker)!r})
    pid = pool.submit(guarded, os.getpid)  # queued behind the task: only to spawn it
    time.sleep(0.5)
    print(" ".join(str(p) for p in pool._processes), flush=True)
    time.sleep(600)
"""
    main = tmp_path / "parent.py"  # a file: spawned workers import its task from it
    main.write_text(script)
    proc = subprocess.Popen([sys.executable, str(main)], stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        line = proc.stdout.readline()
        workers = [int(x) for x in line.split()]
        assert workers and all(_alive(w) for w in workers), line
        time.sleep(1.0)  # the worker is inside its task
        proc.kill()
        proc.wait(timeout=10)
        took = _wait(lambda: not any(_alive(w) for w in workers), 15, "the worker to stop")
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert took < 10
    assert marker.read_text() == "finally ran"  # it unwound: locks and partial files cleaned
