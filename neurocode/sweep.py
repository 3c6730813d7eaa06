"""Running a sweep: every point of a config, in-process, on a local process pool, or on Dask.

Each point of a sweep is one run and one HDF5 file (:func:`neurocode.runner.run_path`), so
workers never share a file. A point goes through :func:`run_point` wherever it runs:

1. its file is checked (:func:`neurocode.store.run_status`, which reads a "complete" file
   through and checks its checksums): a complete file is skipped; a corrupt or truncated one
   is reported and run again; a failed one is run again;
2. a lock is taken on ``<file>.lock`` (:class:`RunLock`, an ``fcntl`` lock that the kernel
   releases when its process dies, even by SIGKILL): a point locked by another sweep on the
   same output folder is left to it ("busy"), never run twice at once;
3. the rule is fitted and measured (:func:`neurocode.runner.execute`) and the file written
   atomically (built in memory, then ``.partial``, fsync, rename; a ``.partial`` left by a
   writer that died is removed once the lock is held): a killed run leaves no file that
   claims to be complete, and a write that fails (disk full, read-only folder) fails that
   point with the path and the cause, stops the sweep (the next writes would fail too) and
   leaves every finished file as it was.

A point that fails in any other way (its rule raises, its codes are NaN or of the wrong
shape) is stored as failed with the reason, and the other points go on, in a pool or not.

The points run as the tasks of :func:`neurocode.executor.run_tasks` (``neurocode run
--executor local|dask --workers N --scheduler ADDRESS``): in this process for one worker or
one point, else on a local pool of spawned processes (one per core by default) or on Dask
distributed. That module says what each executor guarantees: pool workers never outlive the
sweep, a worker that dies fails its own point only ("its worker process died"; rerun the
sweep to complete it), Ctrl-C and SIGTERM stop the workers and keep every finished run.

Every run uses ``threads`` torch (and BLAS) threads, :data:`DEFAULT_THREADS` (1) unless
asked otherwise, whatever the executor and the number of workers, so the same config gives
the same numbers with ``--workers 1`` and with a pool; the count is recorded in the run file
(attribute ``threads``). It is not part of the file name: a run made with other threads
(``--threads``) lands under the same name, its count in the file.

On a pool (or Dask) the longest points start first (:func:`estimate_cost`, from the cost
the rule declares in its tags and the point's budget; ties in the sweep's order), so that no
long run starts last while the other workers sit idle; in this process, where the order
changes nothing but the log's, they run in the sweep's order. The order changes no file name
and no number: each point's file and results are its own, whenever and wherever it runs.

Interrupting (Ctrl-C) stops the workers, keeps every finished run, and the next call of the
same command resumes: complete runs are skipped.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neurocode import store
from neurocode.config import RunSpec

# the process machinery lives in neurocode.executor; these names are kept here for the code
# that imports them from this module (tests patch SCHEDULER_TIMEOUT_S here: run_sweep reads it)
from neurocode.executor import (
    DEFAULT_THREADS,
    SCHEDULER_TIMEOUT_S,
    Outcome,
    Task,
    check_executor,
    guarded,
    new_pool,
    plan,
    run_tasks,
    run_threads,
)

__all__ = ["DEFAULT_THREADS", "SCHEDULER_TIMEOUT_S", "UNDECLARED_COST_S", "UNSET_UNITS",
           "RunLock", "PointResult", "SweepSummary", "estimate_cost", "run_point", "run_task",
           "run_sweep", "guarded", "new_pool"]

#: the estimated seconds of a run whose rule declares no ``cost`` tag (a plugin's, say)
UNDECLARED_COST_S = 10.0
#: what a ``cost`` unit key set to None counts as (``data.n_train: null``: the whole split,
#: 60,000 images for MNIST, the largest of the bundled data sets)
UNSET_UNITS = 60_000


# -- one point --------------------------------------------------------------------------------
class RunLock:
    """An exclusive, non-blocking lock on ``<run file>.lock`` (``fcntl.flock``).

    ``acquire()`` returns False when another process holds it. The lock file is removed on
    release; a process that opened the old file just before is caught by comparing inodes
    after locking (it retries on the new file, or finds the run complete).
    """

    def __init__(self, run_file: Path) -> None:
        self.path = Path(str(run_file) + ".lock")
        self.fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock without waiting: True when this process now holds it, False when another
        process does (or the lock file kept being replaced under it)."""
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(10):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                try:
                    os.ftruncate(fd, 0)
                    os.write(fd, f"{os.getpid()} {os.uname().nodename}\n".encode())
                except OSError:  # a full disk: release it, the caller reports why
                    os.close(fd)
                    raise
                self.fd = fd
                return True
            os.close(fd)  # locked a file that its holder has just removed: try the new one
        return False

    def release(self) -> None:
        """Remove the lock file and release the lock; nothing to do when it is not held."""
        if self.fd is None:
            return
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        os.close(self.fd)  # closing releases the flock
        self.fd = None


@dataclass
class PointResult:
    """What happened to one point: ``done``, ``skipped``, ``busy`` or ``failed``."""

    path: Path
    status: str
    message: str = ""
    reason: str = ""
    storage_error: bool = False  # the run could not be written: the next ones would fail too


def _claim(path: Path) -> tuple[RunLock, str] | PointResult:
    """Claim a point's file: ``(lock, note)`` when this process should run it (the lock held),
    or the point's result when not (complete, busy in another sweep, unwritable)."""
    status = store.run_status(path)
    if status == "complete":
        return PointResult(path, "skipped", "already complete, skipped")
    lock = RunLock(path)
    try:
        got = lock.acquire()
    except OSError as exc:
        why = f"cannot write to {path.parent}: {store.describe_os_error(exc)}"
        return PointResult(path, "failed", f"FAILED: {why}", why, storage_error=True)
    if not got:
        return PointResult(path, "busy", "running in another sweep, left to it")
    if store.run_status(path) == "complete":  # finished by another sweep meanwhile
        lock.release()
        return PointResult(path, "skipped", "completed by another sweep, skipped")
    store.remove_stale_partial(path)  # a dead writer's: nobody else writes it (the lock)
    note = " (its corrupt or truncated file is replaced)" if status == "corrupt" else ""
    return lock, note


def _failed(path: Path, exc: BaseException, where: str = "") -> PointResult:
    """A point that raised: failed, with the exception as its reason (a write that failed is
    a storage error, which stops the sweep)."""
    if isinstance(exc, store.StorageError):
        why = str(exc)
    elif isinstance(exc, OSError):
        why = f"cannot write {exc.filename or path}: {store.describe_os_error(exc)}"
    else:
        why = f"{type(exc).__name__}{where}: {exc}"
    storage = isinstance(exc, (OSError, store.StorageError))
    return PointResult(path, "failed", f"FAILED: {why}", why, storage_error=storage)


def _lost(path: Path, how: str) -> PointResult:
    """A point whose worker process died while running it (``how``: as it died)."""
    why = f"its worker process died ({how or 'killed?'}); rerun the sweep to complete it"
    return PointResult(path, "failed", f"FAILED: {why}", why)


def run_point(spec: RunSpec, out_dir: str | Path, *, device: str = "cpu",
              progress: bool | None = None, tensorboard_dir: str | Path | None = None,
              threads: int | None = None) -> PointResult:
    """Run one point of a sweep (see the module docstring) with ``threads`` threads
    (:data:`DEFAULT_THREADS` for None); safe to call in any process. Never raises for a
    failing run (only ``KeyboardInterrupt`` propagates): the point is failed, with why."""
    from neurocode.runner import execute, run_path, tensorboard_writer

    path = run_path(out_dir, spec)
    claim = _claim(path)
    if isinstance(claim, PointResult):
        return claim
    lock, note = claim
    try:
        with run_threads(threads) as n:
            writer = tensorboard_writer(tensorboard_dir, spec)
            timer = store.Timer()
            try:
                outcome = execute(spec, device=device, progress=progress,
                                  on_eval=_tensorboard_callback(writer))
            finally:
                if writer is not None:
                    writer.close()
            return _store(spec, path, outcome, timer.elapsed, note, threads=n, device=device)
    except Exception as exc:  # noqa: BLE001 - the point fails, the sweep goes on
        return _failed(path, exc)
    finally:
        lock.release()


def _store(spec: RunSpec, path: Path, outcome: Any, seconds: float, note: str = "", *,
           threads: int | None = None, device: str = "cpu") -> PointResult:
    from neurocode.runner import describe

    try:
        store.write_run(
            path, config=spec.config, experiment=spec.experiment, run_name=spec.label,
            seed=spec.config["seed"], curves=outcome.curves, final=outcome.final,
            rule=outcome.rule, status=outcome.status, reason=outcome.reason,
            wall_time_s=seconds, threads=threads, device=device)
    except (OSError, store.StorageError) as exc:
        return _failed(path, exc)
    if outcome.status == "complete":
        return PointResult(path, "done", f"{describe(outcome.final)} ({seconds:.0f} s)"
                           f"{note} -> {path}")
    return PointResult(path, "failed", f"FAILED: {outcome.reason}", outcome.reason)


def run_task(specs: list[RunSpec], out_dir: str | Path, *, device: str = "cpu",
             progress: bool | None = None, tensorboard_dir: str | Path | None = None,
             threads: int | None = None) -> list[PointResult]:
    """Run one task: a single point (:func:`run_point`), or points that share a
    :func:`neurocode.runner.vector_key`, trained together as one vectorised model."""
    if len(specs) == 1:
        return [run_point(specs[0], out_dir, device=device, progress=progress,
                          tensorboard_dir=tensorboard_dir, threads=threads)]
    from neurocode.runner import execute_many, run_path

    results: dict[int, PointResult] = {}
    locks: list[RunLock] = []
    runnable: list[tuple[int, RunSpec, Path, str]] = []
    try:
        for i, spec in enumerate(specs):
            path = run_path(out_dir, spec)
            claim = _claim(path)
            if isinstance(claim, PointResult):
                results[i] = claim
                continue
            lock, note = claim
            locks.append(lock)
            runnable.append((i, spec, path, note))
        if runnable:
            try:
                with run_threads(threads) as n:
                    t = time.perf_counter()
                    outcomes = execute_many([r[1] for r in runnable], device=device,
                                            progress=progress)
                    seconds = (time.perf_counter() - t) / len(runnable)
                    for (i, spec, path, note), outcome in zip(runnable, outcomes, strict=True):
                        note += f" (trained with {len(runnable)} lambdas as one vectorised model)"
                        results[i] = _store(spec, path, outcome, seconds, note, threads=n,
                                            device=device)
            except Exception as exc:  # noqa: BLE001 - these points fail, the sweep goes on
                for i, _spec, path, _note in runnable:
                    results.setdefault(i, _failed(path, exc))
    finally:
        for lock in locks:
            lock.release()
    return [results[i] for i in range(len(specs))]


def _tensorboard_callback(writer: Any) -> Callable[[int, dict], None] | None:
    """Every number a rule reports while it learns, as TensorBoard scalars and histograms
    (:func:`neurocode.watch.tensorboard_logger`: the ReLU+L1 rules' evaluation rows under
    the article's names, every other rule's watched code after each pass)."""
    if writer is None:
        return None
    from neurocode.watch import tensorboard_logger

    return tensorboard_logger(writer)


# -- the order: longest first ----------------------------------------------------------------
def estimate_cost(spec: RunSpec) -> float:
    """A run's estimated seconds on one thread, used only to start the longest runs first.

    The rule's ``cost`` tag (:class:`neurocode.rules.Tags`), ``(fixed_s, per_unit_s,
    unit_keys)``, gives ``fixed_s + per_unit_s x`` the product of the run's config entries at
    ``unit_keys``; an entry set to None counts as :data:`UNSET_UNITS`, one that is absent or
    not a number as 1. A rule that declares no cost, or is not installed, counts as
    :data:`UNDECLARED_COST_S`. The order this gives changes no result.

    Examples
    --------
    >>> from neurocode.config import resolve
    >>> def spec(rule, **train):
    ...     return resolve({"name": "x", "model": {"rule": rule}, "train": train,
    ...                     "data": {"dataset": "mnist"}})[0]
    >>> estimate_cost(spec("relu-l1-cnn", iterations=200)) > estimate_cost(
    ...     spec("relu-l1-fc", iterations=200))
    True
    >>> estimate_cost(spec("relu-l1-fc", iterations=2000)) > estimate_cost(
    ...     spec("relu-l1-fc", iterations=200))
    True
    """
    from neurocode.rules import available_rules

    cls = available_rules().get(str(spec.config.get("model", {}).get("rule", "")))
    cost = getattr(getattr(cls, "tags", None), "cost", None)
    if cost is None:
        return UNDECLARED_COST_S
    fixed, per_unit, keys = cost
    units = 1.0
    for key in keys:
        try:
            v = spec.get(key)
        except (KeyError, TypeError):
            continue
        if v is None:
            units *= UNSET_UNITS
        elif isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            units *= max(0.0, float(v))
    return float(fixed) + float(per_unit) * units


# -- the sweep --------------------------------------------------------------------------------
@dataclass
class SweepSummary:
    """The outcome of a sweep: the run files done, skipped (already complete), left to another sweep
    running them (busy) and failed (with why), and the sweep's wall time in seconds."""

    done: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    busy: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, r: PointResult) -> None:
        """Count one point's result under its status (any status but done, skipped or busy is a
        failure)."""
        if r.status == "done":
            self.done.append(r.path)
        elif r.status == "skipped":
            self.skipped.append(r.path)
        elif r.status == "busy":
            self.busy.append(r.path)
        else:
            self.failed.append((r.path, r.reason or r.message))

    def lines(self) -> list[str]:
        """The summary as printed: a line of counts, then one line per failed run saying why,
        and, when some were left to another sweep, that they are not finished here."""
        head = (f"{len(self.done)} done, {len(self.skipped)} skipped (already complete), "
                f"{len(self.failed)} failed")
        if self.busy:
            head += f", {len(self.busy)} left to another sweep running them"
        out = [head]
        out += [f"  failed: {p.name}: {why}" for p, why in self.failed]
        if self.busy:
            out.append(f"  {len(self.busy)} run(s) were still running in another sweep and are "
                       f"not finished here: run the same command again once it ends (complete "
                       f"runs are skipped)")
        return out


def _progress_bar(total: int, enabled: bool | None):
    from tqdm.auto import tqdm

    # None: shown on a terminal only (quiet in logs and CI)
    disable = (not enabled) if enabled is not None else not sys.stderr.isatty()
    return tqdm(total=total, desc="sweep", unit="run", disable=disable, dynamic_ncols=True,
                leave=False)


def run_sweep(
    specs: list[RunSpec],
    out_dir: str | Path,
    *,
    executor: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    device: str = "cpu",
    progress: bool | None = None,
    tensorboard_dir: str | Path | None = None,
    vectorize: bool = False,
    threads: int | None = None,
    echo: Callable[[str], None] = print,
) -> SweepSummary:
    """Run every point whose complete file does not exist yet; store each as it finishes.

    Prints one line per point as it ends (``[i/n] experiment label: ...``) above an overall
    progress bar (terminal only). Failed runs are stored with status "failed" and their
    reason, and the sweep goes on, with or without a pool; a failure to write stops the
    sweep (the next writes would fail too). On a pool the longest points start first
    (:func:`estimate_cost`; ties in the sweep's order), in this process they run in the
    sweep's order. Every run uses ``threads`` torch and BLAS threads
    (:data:`DEFAULT_THREADS` for None), however many workers run them. With
    ``vectorize``, points that differ only in ``model.l1`` of a rule with ``fit_many`` (the
    article's networks) train together as one vectorised model (one task; not with
    ``tensorboard_dir``). Off by default: on a 2-core CPU it does not pay (the FC step is
    already near the matmul peak; vmapped convolutions run 2.4x slower); a GPU is where it
    should. ``KeyboardInterrupt`` (Ctrl-C, and SIGTERM as
    :class:`neurocode.executor.Terminated`) propagates after the workers are stopped; every
    finished run is on disk. Bad executor options raise
    :class:`neurocode.executor.ExecutorError` (a ``ValueError``) before anything runs.
    """
    check_executor(executor, workers, scheduler)
    threads = DEFAULT_THREADS if threads is None else int(threads)
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    summary = SweepSummary()
    t0 = time.perf_counter()
    n = len(specs)
    index = {id(s): i for i, s in enumerate(specs, 1)}
    bar = _progress_bar(n, progress)

    def report(spec: RunSpec, r: PointResult) -> None:
        summary.add(r)
        line = f"[{index[id(spec)]}/{n}] {spec.experiment} {spec.label}: {r.message}"
        if bar.disable:
            echo(line)
        else:
            bar.write(line)
        bar.update(1)

    # complete files are skipped here, before any worker starts
    from neurocode.runner import run_path, vector_key

    todo = []
    for spec in specs:
        path = run_path(out_dir, spec)
        if store.run_status(path) == "complete":
            report(spec, PointResult(path, "skipped", "already complete, skipped"))
        else:
            todo.append(spec)
    tasks: list[list[RunSpec]] = []
    groups: dict[str, list[RunSpec]] = {}
    for spec in todo:
        key = vector_key(spec) if vectorize and tensorboard_dir is None else None
        if key is None:
            tasks.append([spec])
        elif key in groups:
            groups[key].append(spec)
        else:
            groups[key] = [spec]
            tasks.append(groups[key])
    here = plan(executor, workers, len(tasks))[0] == "here"  # per-run bars in this process only
    jobs = [Task(run_task, (task, out_dir),
                 {"device": device, "progress": progress if here else False,
                  "tensorboard_dir": tensorboard_dir, "threads": threads},
                 name=f"neurocode-{task[0].experiment}-{task[0].digest}",
                 cost=0.0 if here else sum(estimate_cost(s) for s in task)) for task in tasks]
    stop = False  # a write failed: the next ones would fail too

    def ended(o: Outcome) -> None:
        nonlocal stop
        task = tasks[o.index]
        if o.ok:
            results = o.value
        elif o.lost:
            results = [_lost(run_path(out_dir, s), o.lost) for s in task]
        else:
            assert o.error is not None
            results = [_failed(run_path(out_dir, s), o.error) for s in task]
        for spec, r in zip(task, results, strict=True):
            report(spec, r)
        stop = stop or any(r.storage_error for r in results)

    try:
        run_tasks(jobs, ended, executor=executor, workers=workers, scheduler=scheduler,
                  threads=threads, wanted=lambda i: not stop,
                  scheduler_timeout=SCHEDULER_TIMEOUT_S)
    finally:
        bar.close()
        summary.seconds = time.perf_counter() - t0
    return summary
