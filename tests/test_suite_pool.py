"""Issue 19, item 4: a suite runs every part's points through one persistent pool, the
longest first, and queues a part's batteries in that pool when its last point ends; every
run's file and every number are those of the parts run in turn (``parts_in_turn``).

The order is checked on the executor's own queue (what it hands out next is the highest
priority, then the costliest task waiting), the costs against what the demo's wall times say
(the spiking network and the article's nets take longest, the random k-of-N codes least),
and the equality of the two ways on every array and attribute of every run file, the wall
clock's readings aside (the same list as ``tests/test_measure_executors.py``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
import yaml
from pool_tasks import alive, descendants, echo, fake_measure, where

from neurocode import api
from neurocode import executor as executor_mod
from neurocode.config import ConfigError, load_yaml, resolve
from neurocode.executor import Outcome, Task, run_tasks
from neurocode.params import Param
from neurocode.rules import CodingRule, Tags
from neurocode.schedule import MEASURE_PRIORITY, RunOptions, one_pool, run_parts
from neurocode.suite import resolve_suite
from neurocode.sweep import UNDECLARED_COST_S, UNSET_UNITS, estimate_cost

from conftest import needs_mnist, rules_registered

REPO = Path(__file__).resolve().parents[1]
EXE = Path(sys.executable).with_name("neurocode")


# -- the executor's queue: priority, then cost, ties in list order -----------------------------
def test_in_this_process_the_costliest_task_runs_first_and_ties_keep_their_order():
    costs = [1.0, 5.0, 3.0, 5.0, 0.0, 3.0]
    tasks = [Task(echo, (i,), cost=c) for i, c in enumerate(costs)]
    tasks.append(Task(echo, ("urgent",), cost=0.0, priority=1))
    out: list[Outcome] = []
    run_tasks(tasks, out.append, workers=1)
    assert [o.value for o in out] == ["urgent", 1, 3, 2, 5, 0, 4]


def test_tasks_appended_by_report_are_queued_by_priority_and_cost():
    """``report`` appends work an outcome made possible: it runs before the waiting tasks
    of lower priority (and is reported like the others)."""
    tasks = [Task(echo, ("a",), cost=3.0), Task(echo, ("b",), cost=2.0),
             Task(echo, ("c",), cost=1.0)]
    said: list[Any] = []

    def report(o: Outcome) -> None:
        said.append(o.value)
        if o.value == "a":
            tasks.append(Task(echo, ("after a",), priority=1))
            tasks.append(Task(echo, ("late, cheap",), cost=0.5))

    run_tasks(tasks, report, workers=1)
    assert said == ["a", "after a", "b", "c", "late, cheap"]


def test_a_pool_hands_out_the_best_task_waiting_and_takes_appended_ones():
    """On a pool of two: ``wanted`` is asked as each task is handed to a worker, so its calls
    are the order the pool starts them: each time the best task waiting (highest priority,
    then costliest, then first in the list), whatever the list's order, a task appended by
    ``report`` included. ``more`` counts the tasks still to come: one task and one to come
    run on a pool, one task alone in this process."""
    costs = [1.0, 4.0, 2.0, 8.0, 2.0]
    tasks = [Task(where, (i,), cost=c) for i, c in enumerate(costs)]
    started: list[int] = []
    appended_at: dict[int, int] = {}
    out: list[Outcome] = []

    def report(o: Outcome) -> None:
        out.append(o)
        if o.value[0] == 3:
            appended_at[len(tasks)] = len(started)
            tasks.append(Task(where, ("appended",), priority=1))

    run_tasks(tasks, report, workers=2, wanted=lambda i: started.append(i) or True)
    assert started[:2] == [3, 1] and sorted(started) == list(range(6))
    _assert_queue_order(tasks, started, appended_at)
    assert sorted(str(o.value[0]) for o in out) == ["0", "1", "2", "3", "4", "appended"]
    assert all(o.value[1] != os.getpid() for o in out)  # in the pool's workers

    def pids(more: int) -> set[int]:
        got: list[Outcome] = []
        one = [Task(where, (0,))]

        def then(o: Outcome) -> None:
            got.append(o)
            if len(one) == 1 and more:
                one.append(Task(where, (1,)))

        run_tasks(one, then, workers=2, more=more)
        return {o.value[1] for o in got}

    assert pids(0) == {os.getpid()}
    assert os.getpid() not in pids(1)


def _assert_queue_order(tasks: list[Task], started: list[int],
                        appended_at: dict[int, int]) -> None:
    """Each started task was the best of those waiting then (priority, cost, list order)."""
    for n, i in enumerate(started):
        waiting = [j for j in range(len(tasks)) if j not in started[:n]
                   and appended_at.get(j, 0) <= n]
        best = min(waiting, key=lambda j: (-tasks[j].priority, -tasks[j].cost, j))
        assert i == best, (n, i, best, started)


# -- the cost tag and the estimate -------------------------------------------------------------
class _Costly(CodingRule):
    name = "test-costly-rule"
    description = "a plugin rule that declares its cost (test rule)"
    tags = replace(CodingRule.tags, cost=(2.0, 0.5, "model.n_units"))
    params: ClassVar[dict[str, Param]] = {"n_units": Param(int, 4, low=1)}

    def _fit(self, X, y):
        pass

    def _encode(self, X, mask):
        return np.zeros((len(X), self.n_units))


def _spec(rule: str, **model) -> Any:
    return resolve({"name": "x", "model": {"rule": rule, **model},
                    "data": {"dataset": "bars", "n_train": 10, "n_test": 10}})[0]


def test_a_plugin_rule_is_timed_by_its_cost_tag_and_an_undeclared_one_by_the_default():
    assert _Costly.tags.cost == (2.0, 0.5, ("model.n_units",))  # one key: a 1-tuple
    with rules_registered(_Costly):
        assert estimate_cost(_spec("test-costly-rule", n_units=10)) == 2.0 + 0.5 * 10
        bare = type("Bare", (_Costly,), {"name": "test-bare-rule",
                                         "tags": replace(_Costly.tags, cost=None)})
        with rules_registered(bare):
            assert estimate_cost(_spec("test-bare-rule")) == UNDECLARED_COST_S
    spec = _spec("kofn")
    spec.config["model"]["rule"] = "no-such-rule"  # a stored config whose rule is gone
    assert estimate_cost(spec) == UNDECLARED_COST_S


def test_an_unset_unit_count_counts_as_the_largest_split_and_the_budget_scales_the_cost():
    fc = resolve({"name": "x", "model": {"rule": "relu-l1-fc"},
                  "train": {"iterations": 100}, "data": {"dataset": "mnist"}})[0]
    fixed, per_unit, keys = _tags("relu-l1-fc").cost
    assert keys == ("train.iterations",)
    assert estimate_cost(fc) == pytest.approx(fixed + per_unit * 100)
    k = resolve({"name": "x", "model": {"rule": "kofn", "n_units": 100},
                 "data": {"dataset": "mnist", "n_train": None}})[0]
    fixed, per_unit, keys = _tags("kofn").cost
    assert keys == ("data.n_train", "model.n_units")
    assert estimate_cost(k) == pytest.approx(fixed + per_unit * UNSET_UNITS * 100)


def _tags(rule: str) -> Tags:
    from neurocode.rules import get_rule_class

    return get_rule_class(rule).tags


def test_every_built_in_rule_declares_a_cost():
    from neurocode.rules import available_rules, rule_origin

    built_in = [n for n in available_rules() if rule_origin(n)["package"] == "neurocode"
                and n != "given-codes"]
    assert len(built_in) == 14
    assert all(_tags(n).cost is not None for n in built_in), [
        n for n in built_in if _tags(n).cost is None]


def test_the_demo_suite_starts_its_longest_runs_first():
    """``make demo``'s suite sorted as the pool takes it. The demo's wall times (one thread):
    the spiking network's one run about 42 s, the autoencoder's 12.5, the CNN's 9, the FC
    net's 8.5, SAILnet 7, Foldiak 6.5, every other run under 3 s and the random k-of-N codes
    under 1 s. So: Diehl & Cook first, then the three article nets, and the k-of-N codes,
    sanger and oja last; ties in part order."""
    path = REPO / "experiments" / "code_types.yaml"
    suite = resolve_suite(load_yaml(path), path)
    points = [(estimate_cost(s), i, k, p.name) for i, p in enumerate(suite.parts)
              for k, s in enumerate(p.specs)]
    order = [name for *_, name in sorted(points, key=lambda t: (-t[0], t[1], t[2]))]
    assert order[0] == "diehl_cook_mnist"
    nets = 8 + 9 + 21
    assert order[1:1 + nets] == ["article_ae"] * 8 + ["article_cnn"] * 9 + ["article_fc"] * 21
    assert set(order[1 + nets:1 + nets + 4]) == {"sailnet_patches", "foldiak_bars"}
    assert set(order[-38:]) == {"kofn_mnist", "kofn_mnist_256", "oja_mnist", "sanger_mnist"}


@pytest.mark.parametrize("cost, why", [
    ((1.0, 0.1), "must be"),
    ("fast", "must be"),
    ((-1.0, 0.1, ("train.iterations",)), "fixed_s"),
    ((1.0, float("nan"), ("train.iterations",)), "per_unit_s"),
    ((True, 0.1, ("train.iterations",)), "fixed_s"),
    ((1.0, 0.1, ()), "unit_keys"),
    ((1.0, 0.1, ("iterations",)), "not a dotted config key"),
    ((1.0, 0.1, ("seed.x",)), "not a dotted config key"),
    ((1.0, 0.1, ("train.",)), "not a dotted config key"),
    ((1.0, 0.1, ("train.epochs", "train.epochs")), "twice"),
])
def test_a_wrong_cost_is_refused_when_the_class_is_created(cost, why):
    with pytest.raises(TypeError, match=rf"'test-costly-wrong'.*tags\.cost: .*{why}"):
        type("Wrong", (_Costly,), {"name": "test-costly-wrong",
                                   "tags": replace(_Costly.tags, cost=cost)})


def test_the_cost_is_a_timing_guess_left_out_of_comparing_tags():
    a = Tags(code_kind="binary", cost=(1.0, 0.1, ["data.n_train", "train.epochs"]))
    assert a.cost == (1.0, 0.1, ("data.n_train", "train.epochs"))
    assert a == Tags(code_kind="binary") and a != Tags(code_kind="rate")
    assert Tags(cost=(0, 0, "data.n_train")).problems() == []


# -- the suite's option, and when there is one pool ---------------------------------------------
def _suite_raw(**over) -> dict[str, Any]:
    raw = {
        "name": "pool_suite",
        "measure": {"max_stimuli": 120},
        "parts": [
            {"experiment": {"name": "kofn_p", "seed": 0,
                            "model": {"rule": "kofn", "n_units": 48, "preset": "sparse"},
                            "data": {"dataset": "mnist", "n_train": 200, "n_test": 150},
                            "sweep": {"model.preset": ["local", "dense"]}}},
            {"experiment": {"name": "local_p", "seed": 0, "model": {"rule": "local-class"},
                            "data": {"dataset": "mnist", "n_train": 300, "n_test": 150}}},
            {"experiment": {"name": "bars_p", "seed": 1,
                            "model": {"rule": "foldiak", "n_units": 8},
                            "data": {"dataset": "bars", "n_train": 150, "n_test": 80}},
             "measure": False},
        ],
    }
    raw.update(over)
    return raw


def _write(tmp_path: Path, raw: dict[str, Any]) -> Path:
    p = tmp_path / "suite.yaml"
    p.write_text(yaml.safe_dump(raw, sort_keys=False))
    return p


def test_parts_in_turn_is_a_suite_key_and_a_command_line_override(tmp_path):
    path = _write(tmp_path, _suite_raw())
    raw = load_yaml(path)
    assert resolve_suite(raw, path).parts_in_turn is False
    assert resolve_suite(raw, path, {"parts_in_turn": True}).parts_in_turn is True
    raw["parts_in_turn"] = True
    assert resolve_suite(raw, path).parts_in_turn is True
    assert resolve_suite(raw, path, {"parts_in_turn": False}).parts_in_turn is False
    with pytest.raises(ConfigError, match="'parts_in_turn' must be true or false"):
        resolve_suite(raw, path, {"parts_in_turn": "yes"})


def test_a_bad_parts_in_turn_on_the_command_line_exits_2(tmp_path, capsys):
    from neurocode.cli import main

    path = _write(tmp_path, _suite_raw())
    assert main(["run", str(path), "--out", str(tmp_path / "o"),
                 "--set", "parts_in_turn=sometimes"]) == 2
    err = capsys.readouterr().err
    assert "'parts_in_turn' must be true or false" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists() or not list((tmp_path / "o").rglob("*.h5"))


def test_one_pool_only_on_a_local_pool_of_several_workers(tmp_path):
    path = _write(tmp_path, _suite_raw())
    suite = resolve_suite(load_yaml(path), path)
    assert one_pool(suite, RunOptions(workers=2))
    assert not one_pool(suite, RunOptions(workers=1))
    assert not one_pool(suite, RunOptions(workers=2, vectorize=True))
    assert not one_pool(suite, RunOptions(workers=2, executor="dask"))
    assert not one_pool(resolve_suite(load_yaml(path), path, {"parts_in_turn": True}),
                        RunOptions(workers=2))


# -- the orchestration, watched from the executor's side ----------------------------------------
class _Watch:
    """Wraps :func:`neurocode.executor.run_tasks`: records the order tasks are handed out
    (``wanted``), and for each outcome the tasks its report appended."""

    def __init__(self, monkeypatch, workers: int | None = None) -> None:
        self.real = executor_mod.run_tasks
        self.workers = workers
        self.started: list[int] = []
        self.appended_at: dict[int, int] = {}   # task -> how many had started by then
        self.appended_by: dict[int, list[int]] = {}  # outcome index -> tasks it appended
        self.tasks: list[Task] = []
        monkeypatch.setattr(executor_mod, "run_tasks", self)

    def __call__(self, tasks, report, **kw):
        self.tasks = tasks
        wanted = kw.pop("wanted")

        def watch_wanted(i):
            self.started.append(i)
            return wanted(i)

        def watch_report(o):
            before = len(tasks)
            report(o)
            self.appended_by[o.index] = list(range(before, len(tasks)))
            for j in range(before, len(tasks)):
                self.appended_at[j] = len(self.started)

        if self.workers is not None:
            kw["workers"] = self.workers
        return self.real(tasks, watch_report, wanted=watch_wanted, **kw)


@needs_mnist
def test_longest_first_and_a_part_is_measured_as_soon_as_its_last_point_ends(
        tmp_path, monkeypatch):
    """The suite's tasks, run here one at a time (so the order is the queue's alone): each
    task handed out was the best waiting (batteries first, then the costliest point); a
    part's batteries are queued by the outcome of its last point, and they are the next
    tasks to start; the unmeasured part queues none."""
    path = _write(tmp_path, _suite_raw())
    suite = resolve_suite(load_yaml(path), path)
    watch = _Watch(monkeypatch, workers=1)
    said: list[str] = []
    assert run_parts(suite, tmp_path / "out", RunOptions(workers=2), measure=api.measure,
                     measure_task=fake_measure, say=said.append) == 0
    tasks, started = watch.tasks, watch.started
    runs = [i for i, t in enumerate(tasks) if t.priority == 0]
    batteries = [i for i, t in enumerate(tasks) if t.priority == MEASURE_PRIORITY]
    assert len(runs) == 4 and len(batteries) == 3  # kofn_p 2 + local_p 1; bars_p: none
    assert sorted(started) == list(range(7))
    _assert_queue_order(tasks, started, watch.appended_at)
    # the points were handed out longest first: Foldiak's, then the local code's, then kofn's
    first_runs = [tasks[i].args[0][0].experiment for i in started if i in runs]
    assert first_runs == ["bars_p", "local_p", "kofn_p", "kofn_p"]
    # each measured part's batteries came with its last point's outcome, and started next
    by_part: dict[str, list[int]] = {}
    for i in runs:
        by_part.setdefault(tasks[i].args[0][0].experiment, []).append(i)
    for part, points in by_part.items():
        last = max(points, key=started.index)
        appended = watch.appended_by[last]
        assert len(appended) == {"kofn_p": 2, "local_p": 1, "bars_p": 0}[part]
        assert all(tasks[j].args[0].parent.name == part for j in appended)
        if appended:
            at = started.index(last) + 1
            assert started[at:at + len(appended)] == appended
    out = "\n".join(said)
    assert "4 run(s) to train on one pool of 2 processes for the suite's 3 part(s)" in out
    assert "== [1/3] kofn_p: 2 done, 0 skipped (already complete), 0 failed" in out
    assert out.index("[1/1] local_p run:") < out.index("== [2/3] local_p: 1 done") < out.index(
        "local_p: measuring 1 run(s) in the suite's pool") < out.index(": measured (fake)")
    assert "bars_p: measuring" not in out


@needs_mnist
def test_a_failed_write_stops_its_part_only(tmp_path, monkeypatch):
    """The first point of a part cannot be written (a full disk, say): its other points are
    not started (as a sweep stops), the part counts as failed, and the other parts are
    trained and measured."""
    import neurocode.sweep as sweep_mod
    from neurocode.store import StorageError

    raw = _suite_raw()
    raw["parts"][0]["experiment"]["sweep"] = {"model.preset": ["local", "sparse", "dense"]}
    path = _write(tmp_path, raw)
    suite = resolve_suite(load_yaml(path), path)
    watch = _Watch(monkeypatch, workers=1)
    real = sweep_mod.store.write_run

    def full_disk(target, **kw):
        if Path(target).parent.name == "kofn_p":
            raise StorageError(target, OSError(28, "No space left on device"))
        return real(target, **kw)

    monkeypatch.setattr(sweep_mod.store, "write_run", full_disk)
    said: list[str] = []
    assert run_parts(suite, tmp_path / "out", RunOptions(workers=2), measure=api.measure,
                     measure_task=fake_measure, say=said.append, err=said.append) == 1
    out = "\n".join(said)
    assert "== [1/3] kofn_p: 0 done, 0 skipped (already complete), 1 failed" in out
    assert "no space left on device" in out
    kofn_runs = [i for i, t in enumerate(watch.tasks)
                 if t.priority == 0 and t.args[0][0].experiment == "kofn_p"]
    assert len(kofn_runs) == 3 and len(set(kofn_runs) & set(watch.started)) == 3  # asked
    assert "kofn_p: measuring" not in out and "local_p: measuring 1 run(s)" in out
    assert not list((tmp_path / "out" / "kofn_p").glob("*.h5"))


# -- the same files both ways -------------------------------------------------------------------
#: what the wall clock decides (tests/test_measure_executors.py's list, and the run file's
#: own times and dates, and the checksum over them)
TIMED = {"": ("checksum", "created", "wall_time_s"), "battery": ("created",),
         "battery/_meta": ("seconds_",),
         "battery/compute": ("time_", "relative_cost", "sparse_readout_speedup",
                             "encoder_fraction", "repeats"),
         "final": ("fit_seconds", "encode_ms_per_sample")}


def _timed(key: str) -> bool:
    group, _, name = key.rpartition("/")
    name = name.lstrip("@")
    if "@" in key:   # an attribute: "<object>@<name>"
        group, name = key.split("@", 1)
    return name.startswith(TIMED.get(group, ()))


def file_contents(folder: Path) -> dict[str, dict[str, Any]]:
    """Every run file under ``folder`` (by its path there): every dataset and attribute, by
    its HDF5 path (``group/name``, ``object@attribute``), the wall clock's aside."""
    import h5py

    out: dict[str, dict[str, Any]] = {}
    for f in sorted(folder.glob("*/*.h5")):
        with h5py.File(f, "r") as h:
            got = _h5_items(h)
        out[str(f.relative_to(folder))] = {k: v for k, v in got.items() if not _timed(k)}
    return out


def _h5_items(h: Any) -> dict[str, Any]:
    import h5py

    got: dict[str, Any] = {f"@{k}": v for k, v in h.attrs.items()}

    def visit(name: str, obj: Any) -> None:
        got.update({f"{name}@{k}": v for k, v in obj.attrs.items()})
        if isinstance(obj, h5py.Dataset):
            got[name] = obj[()]

    h.visititems(visit)
    return got


def test_the_timed_keys_are_only_the_clock_s():
    assert _timed("@wall_time_s") and _timed("battery/_meta/seconds_fault")
    assert _timed("battery/compute/time_encode") and _timed("final/fit_seconds")
    assert not _timed("battery/_meta/threads") and not _timed("final/accuracy")
    assert not _timed("@config") and not _timed("battery/compute/readout_ops_dense")
    assert not _timed("battery/activity/avr") and not _timed("curves/step")


@pytest.mark.slow
@needs_mnist
def test_one_pool_makes_the_files_the_parts_in_turn_make(tmp_path, capsys):
    """The same suite from the command line on two workers, once with ``--set
    parts_in_turn=true`` (each part its own sweep and measuring pool) and once on one pool:
    the same file names and every array and attribute equal to the last bit (wall-clock
    readings aside), batteries included. Run again, the pool skips everything and rewrites
    nothing."""
    from neurocode.cli import main

    path = _write(tmp_path, _suite_raw())
    in_turn, pooled = tmp_path / "in_turn", tmp_path / "pooled"
    assert main(["run", str(path), "--out", str(in_turn), "--workers", "2",
                 "--set", "parts_in_turn=true"]) == 0
    said_in_turn = capsys.readouterr().out
    assert main(["run", str(path), "--out", str(pooled), "--workers", "2"]) == 0
    said_pooled = capsys.readouterr().out
    assert "== [1/3] kofn_p (0 s into the suite)" in said_in_turn
    assert "measuring 2 run(s) on 2 processes" in said_in_turn
    assert "one pool of 2 processes" in said_pooled and "(0 s into the suite)" not in said_pooled
    assert "kofn_p: measuring 2 run(s) in the suite's pool" in said_pooled
    a, b = file_contents(in_turn), file_contents(pooled)
    assert sorted(a) == sorted(b) and len(a) == 4
    assert sum(any(k.startswith("battery/") for k in v) for v in a.values()) == 3
    for name in a:
        assert sorted(a[name]) == sorted(b[name]), name
        for key in a[name]:
            np.testing.assert_array_equal(np.asarray(a[name][key]), np.asarray(b[name][key]),
                                          err_msg=f"{name}: {key}")
    mtimes = [f.stat().st_mtime_ns for f in sorted(pooled.glob("*/*.h5"))]
    assert main(["run", str(path), "--out", str(pooled), "--workers", "2"]) == 0
    again = capsys.readouterr().out
    assert "to train" not in again and "measuring" not in again
    assert again.count("already complete, skipped") == 4
    assert [f.stat().st_mtime_ns for f in sorted(pooled.glob("*/*.h5"))] == mtimes


# -- Ctrl-C and SIGTERM ------------------------------------------------------------------------
@pytest.mark.slow
@needs_mnist
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_an_interrupted_suite_exits_130_leaves_nothing_half_written_and_resumes(tmp_path, sig):
    """``neurocode run SUITE --workers 2`` gets Ctrl-C (SIGINT to its process group, as a
    terminal sends it) or SIGTERM (to the command) while its longest run is inside a worker:
    exit 130 saying how to resume, no traceback, no partial or lock file left, every file
    there complete, no process left behind. The same command then finishes the suite."""
    from neurocode.store import run_status

    raw = _suite_raw()
    raw["parts"][2]["experiment"]["data"]["n_train"] = 8_000  # the long run: Foldiak's
    path = _write(tmp_path, raw)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([str(EXE), "run", str(path), "--out", str(out), "--workers", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, env=env)
    try:
        t = time.monotonic()
        while not list((out / "bars_p").glob("*.lock")):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() - t < 120, "timed out waiting for the long run to start"
            time.sleep(0.05)
        family = descendants(proc.pid)
        assert len(family) >= 2, family  # the pool's workers
        if sig == "SIGINT":
            os.killpg(proc.pid, signal.SIGINT)
        else:
            proc.send_signal(signal.SIGTERM)
        said, err = proc.communicate(timeout=60)
        t = time.monotonic()
        while any(alive(p) for p in family) and time.monotonic() - t < 20:
            time.sleep(0.05)
        assert not [p for p in family if alive(p)], f"left behind after {sig}"
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert proc.returncode == 130, (said, err)
    assert "suite interrupted; finished runs and batteries are kept under" in err
    assert "Run the same command again to resume" in err and "Traceback" not in err
    assert not list(out.rglob("*.partial")) and not list(out.rglob("*.lock"))
    assert all(run_status(f) == "complete" for f in out.rglob("*.h5"))
    assert not list((out / "bars_p").glob("*.h5"))  # the run it stopped left no file
    if sig == "SIGINT":  # resumed: every run trained, the measured parts measured
        done = subprocess.run([str(EXE), "run", str(path), "--out", str(out), "--workers",
                               "2"], capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        from neurocode.store import read_battery

        files = sorted(out.rglob("*.h5"))
        assert len(files) == 4 and all(run_status(f) == "complete" for f in files)
        assert [bool(read_battery(f)) for f in files] == [False, True, True, True]
