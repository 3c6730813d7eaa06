"""The executor layer (neurocode.executor): tasks run in this process, on a local pool or on
Dask, with one story for failures, dead workers, threads, Ctrl-C and SIGTERM; and no process
of a pool or of a Dask LocalCluster outlives its parent, whatever signal it gets (sent for
real, and the survivors looked for by pid)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pool_tasks import alive, descendants

from neurocode.config import ConfigError
from neurocode.executor import (
    ExecutorError,
    Outcome,
    SchedulerError,
    Task,
    check_executor,
    plan,
    run_tasks,
)

needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


# -- tasks (module level: a spawned worker imports them from here) ----------------------------
def square(x):
    return x * x


def fail(msg):
    raise ValueError(msg)


class TwoArgError(Exception):
    """An exception whose __init__ takes two arguments: it pickles, but does not unpickle."""

    def __init__(self, a, b):
        super().__init__(f"{a} and {b}")


def fail_oddly():
    raise TwoArgError(1, 2)


def torch_threads():
    import torch

    return torch.get_num_threads()


def wait_then_die(flag):
    """Die by SIGKILL once ``flag`` exists (another worker is inside its task by then)."""
    t = time.monotonic()
    while not Path(flag).exists() and time.monotonic() - t < 60:
        time.sleep(0.02)
    os.kill(os.getpid(), signal.SIGKILL)


def flag_and_sleep(flag, seconds):
    Path(flag).write_text(str(os.getpid()))
    time.sleep(seconds)
    return os.getpid()


def _by_index(outcomes: list[Outcome]) -> dict[int, Outcome]:
    got = {o.index: o for o in outcomes}
    assert len(got) == len(outcomes), "a task was reported twice"
    return got


# -- options ----------------------------------------------------------------------------------
@pytest.mark.parametrize("kw, match", [
    ({"executor": "slurm"}, "--executor 'slurm': expected one of local, dask"),
    ({"workers": 0}, "--workers must be >= 1, got 0"),
    ({"workers": 2.5}, "--workers must be >= 1, got 2.5"),
    ({"scheduler": "tcp://x:1"}, "--scheduler is an address for --executor dask"),
])
def test_bad_options_are_refused_before_anything_runs(kw, match):
    with pytest.raises(ExecutorError, match=match) as info:
        check_executor(**kw)
    assert isinstance(info.value, ConfigError) and isinstance(info.value, ValueError)
    ran = []
    with pytest.raises(ExecutorError, match=match):
        run_tasks([Task(ran.append, (1,))], lambda o: None, **kw)
    assert not ran


def test_plan_runs_one_worker_or_one_task_here():
    assert plan("local", 1, 5) == ("here", 1)
    assert plan("local", 8, 1) == ("here", 1)
    assert plan("local", 8, 3) == ("pool", 3)   # no more workers than tasks
    assert plan("local", 2, 0) == ("here", 1)
    assert plan("local", None, 2)[0] == ("pool" if (os.cpu_count() or 1) > 1 else "here")


# -- in this process --------------------------------------------------------------------------
def test_in_process_outcomes_wanted_and_threads():
    import torch

    before = torch.get_num_threads()
    asked: list[int] = []

    def wanted(i):
        asked.append(i)
        return i != 2

    out: list[Outcome] = []
    run_tasks([Task(square, (3,)), Task(fail, ("no",)), Task(square, (4,)),
               Task(torch_threads)], out.append, workers=1, threads=2, wanted=wanted)
    assert [o.index for o in out] == [0, 1, 3] and asked == [0, 1, 2, 3]
    assert out[0].ok and out[0].value == 9
    assert not out[1].ok and isinstance(out[1].error, ValueError) and str(out[1].error) == "no"
    assert out[2].value == 2                      # the task ran with the threads asked for
    assert torch.get_num_threads() == before      # and this process got its own back


def test_an_error_in_report_is_not_a_task_failure():
    def report(o):
        raise RuntimeError("the caller's bug")

    with pytest.raises(RuntimeError, match="the caller's bug"):
        run_tasks([Task(square, (2,)), Task(square, (3,))], report, workers=1)


def test_sigterm_stops_tasks_in_this_process_as_ctrl_c_does(tmp_path):
    """SIGTERM while a task runs here raises Terminated (a KeyboardInterrupt): the task's
    finally blocks run, no other task starts, and SIGTERM's default comes back afterwards."""
    script = tmp_path / "term.py"
    script.write_text(f"""
import os, signal, sys, time
from neurocode.executor import Task, Terminated, run_tasks

def task(i):
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(30)
    finally:
        open({str(tmp_path / "unwound")!r}, "a").write(str(i))

try:
    run_tasks([Task(task, (i,)) for i in range(3)], print, workers=1)
except Terminated:
    print("terminated", signal.getsignal(signal.SIGTERM) is signal.SIG_DFL)
""")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["terminated", "True"]
    assert (tmp_path / "unwound").read_text() == "0"


def test_an_unreachable_scheduler_is_refused_before_anything_runs():
    pytest.importorskip("distributed")
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ran = []
    t = time.monotonic()
    with pytest.raises(SchedulerError, match=f"--scheduler tcp://127.0.0.1:{port}: cannot "
                                             f"reach the Dask scheduler there within 1 s"):
        run_tasks([Task(ran.append, (1,))], lambda o: None, executor="dask",
                  scheduler=f"tcp://127.0.0.1:{port}", scheduler_timeout=1.0)
    assert not ran and time.monotonic() - t < 20


# -- a local pool -----------------------------------------------------------------------------
@pytest.mark.slow
def test_a_dead_worker_fails_its_own_task_only(tmp_path):
    """One worker is SIGKILLed while the other is inside a task: only the dead worker's task
    is lost (saying how it died); the other's task returns, and a new worker runs the tasks
    still queued. (A broken concurrent.futures pool would lose both running tasks.)"""
    flag = tmp_path / "inside"
    tasks = [Task(wait_then_die, (str(flag),)), Task(flag_and_sleep, (str(flag), 2.0)),
             Task(square, (5,)), Task(fail, ("bad",)), Task(fail_oddly),
             Task(torch_threads)]
    out: list[Outcome] = []
    run_tasks(tasks, out.append, workers=2, threads=2)
    got = _by_index(out)
    assert sorted(got) == list(range(len(tasks)))
    assert got[0].lost == "killed by SIGKILL" and got[0].value is None
    assert got[1].ok and got[1].value == int(flag.read_text()) != os.getpid()
    assert got[2].value == 25
    assert isinstance(got[3].error, ValueError) and str(got[3].error) == "bad"
    assert isinstance(got[4].error, RuntimeError)  # said in words, as it could not travel
    assert "TwoArgError: 1 and 2" in str(got[4].error)
    assert got[5].value == 2                       # threads, in a worker too


# -- Dask -------------------------------------------------------------------------------------
@pytest.mark.slow
def test_dask_outcomes_match_the_pool(tmp_path):
    """On a running Dask cluster (its scheduler's address, as --scheduler gives it): values,
    the task's own exception and the threads asked for; then a task whose worker dies is
    reported lost (Dask gives up at once here: allowed-failures 0)."""
    pytest.importorskip("distributed")
    import dask
    from distributed import LocalCluster

    flag = tmp_path / "inside"
    flag.write_text("")
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                         dashboard_address=None) as cluster:
        out: list[Outcome] = []
        run_tasks([Task(square, (5,)), Task(fail, ("bad",)), Task(torch_threads)],
                  out.append, executor="dask", scheduler=cluster.scheduler_address, threads=2)
        got = _by_index(out)
        assert sorted(got) == [0, 1, 2]
        assert got[0].value == 25
        assert isinstance(got[1].error, ValueError) and str(got[1].error) == "bad"
        assert got[2].value == 2
        out = []
        run_tasks([Task(wait_then_die, (str(flag),))], out.append, executor="dask",
                  scheduler=cluster.scheduler_address)
    assert len(out) == 1 and out[0].lost.startswith("KilledWorker") and out[0].error is None


# -- no orphans -------------------------------------------------------------------------------
PARENT = """
import os, sys, time
from pathlib import Path

def task(folder, i):
    Path(folder, f"{i}.pid").write_text(str(os.getpid()))
    try:
        time.sleep(600)
    finally:
        Path(folder, f"{i}.unwound").write_text("finally ran")

if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from parent import task
    from neurocode.executor import Task, run_tasks

    try:
        run_tasks([Task(task, (sys.argv[2], i)) for i in range(2)], print,
                  executor=sys.argv[1], workers=2)
    except KeyboardInterrupt as exc:
        print("interrupted:", type(exc).__name__, flush=True)
        sys.exit(130)
"""


@needs_proc
@pytest.mark.slow
@pytest.mark.parametrize("executor, sig", [("local", "SIGTERM"), ("local", "SIGINT"),
                                           ("local", "SIGKILL"), ("dask", "SIGTERM"),
                                           ("dask", "SIGINT"), ("dask", "SIGKILL")])
def test_no_worker_outlives_its_parent(tmp_path, executor, sig):
    """Two tasks sleep in two workers (a pool's, or a Dask LocalCluster's); the parent gets
    the signal; every process it started must be gone within seconds. SIGTERM and SIGINT
    stop it as an interrupt (exit 130 here); a pool's tasks unwind (finally blocks run)."""
    if executor == "dask":
        pytest.importorskip("distributed")
    (tmp_path / "parent.py").write_text(PARENT)
    folder = tmp_path / "tasks"
    folder.mkdir()
    proc = subprocess.Popen([sys.executable, str(tmp_path / "parent.py"), executor,
                             str(folder)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        t = time.monotonic()
        while len(list(folder.glob("*.pid"))) < 2:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() - t < 120, "timed out waiting for both tasks to start"
            time.sleep(0.05)
        workers = {int(p.read_text()) for p in folder.glob("*.pid")}
        family = descendants(proc.pid)
        assert workers <= set(family) and len(workers) == 2, (workers, family)
        proc.send_signal(getattr(signal, sig))
        out, err = proc.communicate(timeout=30)
        t = time.monotonic()
        while any(alive(p) for p in family) and time.monotonic() - t < 20:
            time.sleep(0.05)
        left = [p for p in family if alive(p)]
        assert not left, f"left behind after {sig}: {left}"
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # never leave them behind if the test fails
        except ProcessLookupError:
            pass
    if sig == "SIGKILL":
        assert proc.returncode == -signal.SIGKILL
    else:
        assert proc.returncode == 130, (out, err)
        want = "Terminated" if sig == "SIGTERM" else "KeyboardInterrupt"
        assert out.strip() == f"interrupted: {want}", (out, err)
        assert "Traceback" not in err, err
    if executor == "local":  # told to stop, each pool worker unwound its task
        assert len(list(folder.glob("*.unwound"))) == 2
