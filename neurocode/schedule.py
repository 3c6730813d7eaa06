"""Running an experiment's sweep, or every part of a suite through one pool, longest first.

:func:`run_specs` runs one experiment's points (:func:`neurocode.sweep.run_sweep`) and says
how it went. :func:`run_parts` runs a resolved suite (:mod:`neurocode.suite`) in one of two
ways, with the same files and the same numbers:

one pool (the default on a local pool of several workers)
    every part's points are collected before anything starts, the complete ones skipped, and
    all of them go through **one** pool of worker processes (:func:`neurocode.executor.
    run_tasks`), the longest first (:func:`neurocode.sweep.estimate_cost`; ties in the
    suite's order). When a part's last point ends its summary is said and its batteries (the
    complete runs that lack one) are queued in the same pool at once, ahead of the points
    still waiting (:data:`MEASURE_PRIORITY`): they start on the next free workers, so each
    part is finished as early as it can be. The workers import torch once for the whole
    suite, and no long run is left to start last while the others sit idle.
parts in turn (``--workers 1``, ``--vectorize``, ``--executor dask``, or the suite's
``parts_in_turn: true``, ``--set parts_in_turn=true`` on the command line)
    each part like ``neurocode run PART`` (its own sweep, pool and summary), then its
    measuring (``neurocode measure`` of its runs, on a pool of its own).

The order changes no file name and no number: every run's file is the one its part's own
sweep makes (:func:`neurocode.runner.run_path`), trained with the same threads
(``--threads``, one by default: a lone run at the end is not given more, since the count is
part of the run's numbers) and measured with one thread on the run's own data and seed. An
interrupted suite (Ctrl-C, SIGTERM) stops its workers, keeps every finished run and battery,
and resumes when the same command runs again.

This module does not import :mod:`neurocode.api`: the api hands :func:`run_parts` its
measuring (``measure``, and ``measure_task``, the task that measures one run file), and
re-exports :class:`RunOptions` and :func:`run_specs` under its own name.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from neurocode.suite import Part, Suite
    from neurocode.sweep import SweepSummary

__all__ = ["RunOptions", "run_specs", "run_parts", "one_pool", "needs_battery",
           "MEASURE_PRIORITY"]

Say = Callable[[str], None]

#: the executor priority of a part's batteries: above the points still waiting (priority 0),
#: so a part's measuring starts on the next free worker once its last point has ended (the
#: batteries among themselves in the order they were queued)
MEASURE_PRIORITY = 1


def _print(msg: str) -> None:
    print(msg, flush=True)


def _stderr(msg: str) -> None:
    print(f"neurocode: error: {msg}", file=sys.stderr)


@dataclass
class RunOptions:
    """How runs are executed (the ``neurocode run`` options other than the config)."""

    device: str = "cpu"
    executor: str = "local"          # local | dask
    workers: int | None = None       # None: one per core; 1: in this process
    scheduler: str | None = None     # Dask scheduler address (executor dask)
    tensorboard: str | None = None   # also write TensorBoard scalars to this folder
    vectorize: bool = False          # one vectorised model per ReLU+L1 lambda group
    data_dir: str | None = None      # folder holding the data set's files
    threads: int | None = None       # torch/BLAS threads per run (None: DEFAULT_THREADS, 1)


def run_specs(specs: Sequence[Any], out: str | Path, opts: RunOptions, *, say: Say = _print,
              err: Say = _stderr, busy: list[Path] | None = None) -> int:
    """Run resolved specs (one experiment's sweep) into ``out/<experiment>``; the number of
    runs that failed. ``busy``, when given a list, receives the run files left to another
    sweep that was running them (not finished here)."""
    from neurocode.sweep import run_sweep

    folder = Path(out) / specs[0].experiment
    say(f"{len(specs)} run(s) of {specs[0].experiment} -> {folder}")
    try:
        summary = run_sweep(list(specs), out, executor=opts.executor, workers=opts.workers,
                            scheduler=opts.scheduler, device=opts.device, progress=None,
                            tensorboard_dir=opts.tensorboard, vectorize=opts.vectorize,
                            threads=opts.threads)
    except KeyboardInterrupt:
        err(f"interrupted; finished runs are kept under {folder}. "
            f"Run the same command again to resume: complete runs are skipped.")
        raise
    for line in summary.lines():
        say(line)
    if busy is not None:
        busy.extend(summary.busy)
    return len(summary.failed)


def needs_battery(path: Path) -> bool:
    """Whether a run file lacks a battery, or measures added since its own was written (one
    that cannot be read counts as lacking: measuring it says why)."""
    from neurocode.metrics.battery import missing_measures
    from neurocode.store import StoreError, read_battery

    try:
        return not (b := read_battery(path)) or bool(missing_measures(b))
    except StoreError:
        return True


def one_pool(suite: Suite, opts: RunOptions) -> bool:
    """Whether :func:`run_parts` sends the suite's parts through one pool: on the local
    executor with more than one worker, without ``--vectorize`` (its tasks are a sweep's
    lambda groups), unless the suite asks for its parts in turn (``parts_in_turn``)."""
    from neurocode.executor import default_workers

    workers = default_workers() if opts.workers is None else int(opts.workers)
    return (not suite.parts_in_turn and opts.executor == "local" and not opts.vectorize
            and workers > 1)


def run_parts(suite: Suite, out: str | Path, opts: RunOptions | None = None, *,
              measure: Callable[..., int], measure_task: Callable[..., Any],
              say: Say = _print, err: Say = _stderr, busy: list[Path] | None = None) -> int:
    """Train and measure every part of a resolved suite into ``out/<part>/`` (see the module
    docstring); the number of parts that had failures (a part whose training and measuring
    both had some counts twice).

    Parameters
    ----------
    suite : Suite
        From :func:`neurocode.suite.resolve_suite`; its data and options already checked.
    out : str or Path
        The results folder (``neurocode run --out``).
    opts : RunOptions or None
        The executor, workers, threads and device (None: the defaults). One pool when
        :func:`one_pool` says so, else the parts in turn.
    measure : callable
        Measures a part's runs when the parts run in turn (:func:`neurocode.api.measure`).
    measure_task : callable
        The executor task that measures one run file in the suite's pool, returning what it
        said and whether it failed (``neurocode.api``'s, a function at module level).
    say, err : callable
        Where progress and errors are said.
    busy : list or None
        Receives the run files left to another sweep that was running them.

    Raises
    ------
    KeyboardInterrupt
        Ctrl-C, or SIGTERM, once the workers are stopped (after saying what was kept).
    """
    opts = opts or RunOptions()
    t0 = time.perf_counter()
    try:
        if one_pool(suite, opts):
            failed = _one_pool(suite, Path(out), opts, t0, measure_task, say, err, busy)
        else:
            failed = _in_turn(suite, Path(out), opts, t0, measure, say, err, busy)
    except KeyboardInterrupt:
        err(f"suite interrupted; finished runs and batteries are kept under {out}. "
            f"Run the same command again to resume.")
        raise
    say(f"suite {suite.name} finished in {time.perf_counter() - t0:.0f} s"
        + (f"; {failed} part(s) had failures (see above)" if failed else ""))
    return failed


def _in_turn(suite: Suite, out: Path, opts: RunOptions, t0: float,
             measure: Callable[..., int], say: Say, err: Say,
             busy: list[Path] | None) -> int:
    """The parts one after the other: each its own sweep, then its own measuring."""
    from neurocode.runner import run_path

    failed = 0
    for i, part in enumerate(suite.parts, 1):
        say(f"== [{i}/{len(suite.parts)}] {part.name} "
            f"({time.perf_counter() - t0:.0f} s into the suite)")
        failed += run_specs(part.specs, out, opts, say=say, err=err, busy=busy) > 0
        if part.measure is not None:
            paths = [run_path(out, s) for s in part.specs]
            failed += measure(paths, threshold=float(part.measure["threshold"]),
                              max_stimuli=int(part.measure["max_stimuli"]),
                              data_dir=opts.data_dir, executor=opts.executor,
                              workers=opts.workers, scheduler=opts.scheduler,
                              quiet_skips=True, say=say, err=err) > 0
    return failed


@dataclass
class _PartRun:
    """A part's bookkeeping while the suite's pool runs: its points not yet ended, its
    batteries queued or running, what failed."""

    index: int
    part: Part
    summary: SweepSummary
    left: int = 0                 # points queued or running
    stopped: bool = False         # a write failed: its queued points are not started
    measuring: int = 0            # batteries queued or running
    measure_failed: int = 0
    unwritable: dict[Path, list] = field(default_factory=dict)  # folder -> [cause, left]


def _one_pool(suite: Suite, out: Path, opts: RunOptions, t0: float,
              measure_task: Callable[..., Any], say: Say, err: Say,
              busy: list[Path] | None) -> int:
    """Every part's points, then each part's batteries, as the tasks of one
    :func:`~neurocode.executor.run_tasks`, the costliest first."""
    from neurocode.executor import DEFAULT_THREADS, Outcome, Task, plan, run_tasks
    from neurocode.runner import run_path
    from neurocode.store import run_status
    from neurocode.sweep import (
        PointResult,
        SweepSummary,
        _failed,
        _lost,
        _progress_bar,
        estimate_cost,
        run_task,
    )

    threads = DEFAULT_THREADS if opts.threads is None else int(opts.threads)
    n_parts = len(suite.parts)
    tasks: list[Task] = []
    # per task: ("run", its part, (its place in the part, spec)) or ("measure", part, path)
    jobs: list[tuple[str, _PartRun, Any]] = []
    failed = 0
    bar = _progress_bar(suite.n_runs, None)

    def tell(line: str, to: Say = say) -> None:
        if bar.disable or to is not say:
            to(line)
        else:
            bar.write(line)

    def report(state: _PartRun, k: int, spec: Any, r: PointResult) -> None:
        state.summary.add(r)
        tell(f"[{k}/{len(state.part.specs)}] {spec.experiment} {spec.label}: {r.message}")
        bar.update(1)

    def ended(state: _PartRun) -> None:
        nonlocal failed
        for folder, (cause, left) in state.unwritable.items():
            if left:
                err(f"{left} more run(s) in {folder} not measured: it cannot be written "
                    f"({cause})")
        failed += state.measure_failed > 0

    def trained(state: _PartRun) -> None:
        """A part's last point ended: its summary, then its batteries into the pool."""
        nonlocal failed
        state.summary.seconds = time.perf_counter() - t0
        head, *rest = state.summary.lines()
        tell(f"== [{state.index}/{n_parts}] {state.part.name}: {head} "
             f"({state.summary.seconds:.0f} s into the suite)")
        for line in rest:
            tell(line)
        if busy is not None:
            busy.extend(state.summary.busy)
        failed += len(state.summary.failed) > 0
        m = state.part.measure
        todo = [] if m is None else [
            p for p in (run_path(out, s) for s in state.part.specs)
            if run_status(p, verify=False) == "complete" and needs_battery(p)]
        if not todo:
            ended(state)
            return
        tell(f"{state.part.name}: measuring {len(todo)} run(s) in the suite's pool")
        assert m is not None
        settings = {"threshold": float(m["threshold"]), "max_stimuli": int(m["max_stimuli"]),
                    "seed": None, "force": False, "data_dir": opts.data_dir,
                    "quiet_skips": True}
        state.measuring = len(todo)
        bar.total = (bar.total or 0) + len(todo)
        for p in todo:
            tasks.append(Task(measure_task, (p,), settings, name="neurocode-measure",
                              priority=MEASURE_PRIORITY))
            jobs.append(("measure", state, p))

    def wanted(i: int) -> bool:
        kind, state, what = jobs[i]
        if kind == "run" and state.stopped:   # its folder cannot be written: not started
            state.left -= 1
            bar.update(1)
            if state.left == 0:
                trained(state)
            return False
        if kind == "measure" and what.parent in state.unwritable:
            state.unwritable[what.parent][1] += 1
            state.measure_failed += 1
            state.measuring -= 1
            bar.update(1)
            if state.measuring == 0:
                ended(state)
            return False
        return True

    def on_outcome(o: Outcome) -> None:
        kind, state, what = jobs[o.index]
        if kind == "run":
            k, spec = what
            path = run_path(out, spec)
            if o.ok:
                results = o.value
            elif o.lost:
                results = [_lost(path, o.lost)]
            else:
                assert o.error is not None
                results = [_failed(path, o.error)]
            for r in results:
                report(state, k, spec, r)
            state.stopped = state.stopped or any(r.storage_error for r in results)
            state.left -= 1
            if state.left == 0:
                trained(state)
            return
        if o.ok:
            got = o.value
            for stream, line in got.lines:
                tell(line, say if stream == "say" else err)
        elif o.lost:
            err(f"{what}: the measuring process died ({o.lost}); its file is unchanged. "
                f"Run the same command again to measure it")
            state.measure_failed += 1
            got = None
        else:  # not the battery's failure (that is said and counted): missing data, say
            assert o.error is not None
            raise o.error  # it stops the suite, as it stops a part's measuring in turn
        if got is not None:
            state.measure_failed += bool(got.failed)
            if got.unwritable:
                state.unwritable.setdefault(what.parent, [got.unwritable, 0])
        bar.update(1)
        state.measuring -= 1
        if state.measuring == 0:
            ended(state)

    kwargs = {"device": opts.device, "progress": False, "tensorboard_dir": opts.tensorboard,
              "threads": threads}
    states = []
    more = 0
    for i, part in enumerate(suite.parts, 1):
        state = _PartRun(i, part, SweepSummary())
        states.append(state)
        for k, spec in enumerate(part.specs, 1):
            path = run_path(out, spec)
            if run_status(path) == "complete":  # skipped here, before any worker starts
                report(state, k, spec, PointResult(path, "skipped", "already complete, skipped"))
                continue
            tasks.append(Task(run_task, ([spec], out), kwargs, cost=estimate_cost(spec),
                              name=f"neurocode-{spec.experiment}-{spec.digest}"))
            jobs.append(("run", state, (k, spec)))
            state.left += 1
        if state.left:
            more += len(part.specs) if part.measure is not None else 0
    n_runs = len(tasks)
    for state in states:  # parts with nothing left to train: their batteries queued now
        if state.left == 0:
            trained(state)
    where, n = plan(opts.executor, opts.workers, len(tasks) + more)
    if tasks:
        say(f"{n_runs} run(s) to train"
            + (f" and {len(tasks) - n_runs} to measure" if len(tasks) > n_runs else "")
            + (f" on one pool of {n} processes for the suite's {n_parts} part(s)"
               if where == "pool" else " in this process")
            + ", the longest first")
    try:
        run_tasks(tasks, on_outcome, executor=opts.executor, workers=opts.workers,
                  threads=DEFAULT_THREADS, wanted=wanted, more=more)
    finally:
        bar.close()
    return failed
