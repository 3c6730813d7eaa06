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

Executors (``neurocode run --executor``):

``local``   a process pool of ``--workers`` processes (default: one per core). One worker, or
            one point, runs in-process. Pool workers never outlive the sweep: each watches its
            parent (``PR_SET_PDEATHSIG`` on Linux, and a thread polling ``os.getppid()``
            everywhere) and, when the parent dies, even by SIGKILL, stops its run within
            seconds, removing its partial file and releasing its lock.
``dask``    Dask distributed: ``--scheduler ADDRESS`` of a running scheduler (for instance
            one started by dask-jobqueue on a SLURM cluster), or a ``LocalCluster`` of
            ``--workers`` processes when no address is given. Dask retries the points of a
            worker that died on the others. A scheduler that cannot be reached is a
            :class:`SchedulerError` before anything runs.

Every run uses ``threads`` torch (and BLAS) threads, :data:`DEFAULT_THREADS` (1) unless
asked otherwise, whatever the executor and the number of workers, so the same config gives
the same numbers with ``--workers 1`` and with a pool; the count is recorded in the run file
(attribute ``threads``). It is not part of the file name: a run made with other threads
(``--threads``) lands under the same name, its count in the file.

Interrupting (Ctrl-C) stops the workers, keeps every finished run, and the next call of the
same command resumes: complete runs are skipped.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neurocode import store
from neurocode.config import ConfigError, RunSpec

EXECUTORS = ("local", "dask")
#: torch and BLAS threads of every run unless asked otherwise (the count changes numbers)
DEFAULT_THREADS = 1
#: seconds to wait for a Dask scheduler to answer
SCHEDULER_TIMEOUT_S = 10.0


class SchedulerError(ConfigError):
    """The Dask scheduler named by ``--scheduler`` cannot be reached (nothing was run)."""


# -- pool workers that never outlive their parent --------------------------------------------
#: seconds a worker whose parent died waits for its run to unwind before exiting hard
_GRACE_S = 5.0
_POLL_S = 0.5
_STATE = {"in_task": False, "stopping": False}


class _ParentGone(BaseException):
    """Raised in a pool worker's task when it must stop (its parent died, or SIGTERM): it
    unwinds the run (removing its partial file, releasing its lock) like an interrupt."""


def _hard_exit_later() -> None:
    time.sleep(_GRACE_S)
    os._exit(1)


def _on_term(signum: int, frame: Any) -> None:
    if _STATE["stopping"]:
        return
    _STATE["stopping"] = True
    if not _STATE["in_task"]:
        os._exit(128 + signum)
    threading.Thread(target=_hard_exit_later, daemon=True).start()
    raise _ParentGone()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(_POLL_S)
    try:
        os.kill(os.getpid(), signal.SIGTERM)
    finally:
        _hard_exit_later()


def worker_init(parent: int) -> None:
    """Initializer of a pool worker (``initializer=worker_init, initargs=(os.getpid(),)``):
    stop when the process ``parent`` dies, whatever kills it (SIGKILL included).

    The kernel sends the worker SIGTERM when its parent dies (``prctl(PR_SET_PDEATHSIG)``
    on Linux), and a thread polling ``os.getppid()`` does the same everywhere; SIGTERM
    unwinds the task running (its ``finally`` blocks remove partial files and release
    locks) and exits, hard after :data:`_GRACE_S` seconds at most. Tasks must be submitted
    through :func:`guarded`.

    It also tunes glibc's allocator as the ``neurocode`` command does
    (:func:`neurocode._malloc.tune_allocator`; the same results, faster training steps;
    ``NEUROCODE_MALLOC=default`` turns it off).
    """
    from neurocode._malloc import tune_allocator

    tune_allocator()
    signal.signal(signal.SIGTERM, _on_term)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGTERM), 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the kernel could be told
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True,
                     name="neurocode-watch-parent").start()


def guarded(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ``fn(*args, **kwargs)`` as a pool worker's task: when the worker is told to stop
    (:func:`worker_init`), the task unwinds and the process exits."""
    _STATE["in_task"] = True
    try:
        return fn(*args, **kwargs)
    except _ParentGone:
        os._exit(1)  # the task's finally blocks have run
    finally:
        _STATE["in_task"] = False


def new_pool(workers: int) -> ProcessPoolExecutor:
    """A process pool of ``workers`` spawned processes that stop when this process dies
    (:func:`worker_init`); submit to it through :func:`guarded`."""
    import multiprocessing as mp

    # spawn: a clean interpreter per worker (torch and fork do not mix)
    return ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"),
                               initializer=worker_init, initargs=(os.getpid(),))


@contextmanager
def run_threads(threads: int | None) -> Iterator[int]:
    """Run a block with ``threads`` torch intra-op and BLAS/OpenMP threads
    (:data:`DEFAULT_THREADS` for None), restoring the counts afterwards; yields the count."""
    import torch
    from threadpoolctl import threadpool_limits

    n = DEFAULT_THREADS if threads is None else int(threads)
    if n < 1:
        raise ValueError(f"threads must be >= 1, got {n}")
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpool_limits(limits=n):
            yield torch.get_num_threads()
    finally:
        torch.set_num_threads(before)


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


def _claim(path: Path) -> tuple[RunLock | None, PointResult | None, str]:
    """Claim a point's file: ``(lock, None, note)`` when this process should run it (the lock
    held), ``(None, result, "")`` when not (complete, busy in another sweep, unwritable)."""
    status = store.run_status(path)
    if status == "complete":
        return None, PointResult(path, "skipped", "already complete, skipped"), ""
    lock = RunLock(path)
    try:
        got = lock.acquire()
    except OSError as exc:
        why = f"cannot write to {path.parent}: {store.describe_os_error(exc)}"
        return None, PointResult(path, "failed", f"FAILED: {why}", why,
                                 storage_error=True), ""
    if not got:
        return None, PointResult(path, "busy", "running in another sweep, left to it"), ""
    if store.run_status(path) == "complete":  # finished by another sweep meanwhile
        lock.release()
        return None, PointResult(path, "skipped", "completed by another sweep, skipped"), ""
    store.remove_stale_partial(path)  # a dead writer's: nobody else writes it (the lock)
    note = " (its corrupt or truncated file is replaced)" if status == "corrupt" else ""
    return lock, None, note


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


def run_point(spec: RunSpec, out_dir: str | Path, *, device: str = "cpu",
              progress: bool | None = None, tensorboard_dir: str | Path | None = None,
              threads: int | None = None) -> PointResult:
    """Run one point of a sweep (see the module docstring) with ``threads`` threads
    (:data:`DEFAULT_THREADS` for None); safe to call in any process. Never raises for a
    failing run (only ``KeyboardInterrupt`` propagates): the point is failed, with why."""
    from neurocode.runner import execute, run_path, tensorboard_writer

    path = run_path(out_dir, spec)
    lock, result, note = _claim(path)
    if lock is None:
        return result
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
            lock, result, note = _claim(path)
            if lock is None:
                results[i] = result
                continue
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


def default_workers() -> int:
    """Worker processes when none are asked for: one per CPU core, at least one."""
    return max(1, os.cpu_count() or 1)


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
    sweep (the next writes would fail too). Every run uses ``threads`` torch and BLAS
    threads (:data:`DEFAULT_THREADS` for None), however many workers run them. With ``vectorize``, points that differ only in ``model.l1`` of a rule with
    ``fit_many`` (the article's networks) train together as one vectorised model (one task;
    not with ``tensorboard_dir``). Off by default: on a 2-core CPU it does not pay (the FC step
    is already near the matmul peak; vmapped convolutions run 2.4x slower); a GPU is where it
    should. ``KeyboardInterrupt`` propagates after the workers are stopped; every finished
    run is on disk.
    """
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}: expected one of {EXECUTORS}")
    workers = default_workers() if workers is None else int(workers)
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
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
        if store.run_status(run_path(out_dir, spec)) == "complete":
            report(spec, PointResult(run_path(out_dir, spec), "skipped", "already complete, skipped"))
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
    kw = {"device": device, "tensorboard_dir": tensorboard_dir, "threads": threads}
    try:
        if not tasks:
            pass
        elif executor == "dask":
            _run_dask(tasks, out_dir, kw, workers, scheduler, report)
        elif workers == 1 or len(tasks) == 1:
            for task in tasks:
                try:
                    results = run_task(task, out_dir, progress=progress, **kw)
                except Exception as exc:  # noqa: BLE001 - as the pool does: failed, go on
                    results = [_failed(run_path(out_dir, s), exc) for s in task]
                for spec, r in zip(task, results, strict=True):
                    report(spec, r)
                if any(r.storage_error for r in results):
                    break
        else:
            _run_pool(tasks, out_dir, kw, workers, report)
    finally:
        bar.close()
        summary.seconds = time.perf_counter() - t0
    return summary


def _run_pool(tasks: list[list[RunSpec]], out_dir: str | Path, kw: dict, workers: int,
              report: Callable[[RunSpec, PointResult], None]) -> None:
    from neurocode.runner import run_path

    workers = min(workers, len(tasks))
    pool = new_pool(workers)
    procs: dict[int, Any] = {}
    pending: dict[Future, list[RunSpec]] = {}
    queue = list(tasks)
    try:
        while queue or pending:
            while queue and len(pending) < workers:
                task = queue.pop(0)
                fut = pool.submit(guarded, run_task, task, out_dir, progress=False, **kw)
                pending[fut] = task
                procs.update(getattr(pool, "_processes", None) or {})
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            broken = False
            for fut in finished:
                task = pending.pop(fut)
                try:
                    results = fut.result()
                except BrokenProcessPool:
                    broken = True
                    results = [_lost(run_path(out_dir, s), procs) for s in task]
                except Exception as exc:  # noqa: BLE001 - reported, the sweep goes on
                    results = [_failed(run_path(out_dir, s), exc) for s in task]
                for spec, r in zip(task, results, strict=True):
                    report(spec, r)
                if any(r.storage_error for r in results):
                    queue.clear()
            if broken:  # a worker died: the pool and the runs still in it are lost
                for task in pending.values():
                    for spec in task:
                        report(spec, _lost(run_path(out_dir, spec), procs))
                pending.clear()
                pool.shutdown(wait=False, cancel_futures=True)
                pool = new_pool(workers)
                procs = {}
    except KeyboardInterrupt:
        _kill_pool(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _death(procs: dict[int, Any]) -> str:
    """How the pool's dead workers ended (``killed by SIGSEGV``, ``exit code 1``), if known."""
    ends = []
    for p in procs.values():
        code = getattr(p, "exitcode", None)
        if code is None or code == 0:
            continue
        if code < 0:
            try:
                ends.append(f"killed by {signal.Signals(-code).name}")
            except ValueError:
                ends.append(f"killed by signal {-code}")
        else:
            ends.append(f"exit code {code}")
    return ", ".join(sorted(set(ends)))


def _lost(path: Path, procs: dict[int, Any] | None = None) -> PointResult:
    how = _death(procs or {})
    why = (f"its worker process died ({how or 'killed?'}); rerun the sweep to complete it")
    return PointResult(path, "failed", f"FAILED: {why}", why)


def _kill_pool(pool: ProcessPoolExecutor) -> None:
    """Stop a pool's workers now (an interrupt must not wait for their runs to finish)."""
    procs = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        try:
            p.terminate()
        except Exception:  # noqa: BLE001
            pass
    for p in procs:
        p.join(timeout=10)


def _run_dask(tasks: list[list[RunSpec]], out_dir: str | Path, kw: dict, workers: int,
              scheduler: str | None, report: Callable[[RunSpec, PointResult], None]) -> None:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise RuntimeError("--executor dask needs Dask distributed: "
                           "pip install 'neurocode[dask]'") from None
    from neurocode.runner import run_path

    cluster = None
    if scheduler:
        try:
            client = Client(scheduler, timeout=f"{SCHEDULER_TIMEOUT_S}s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise SchedulerError(
                f"--scheduler {scheduler}: cannot reach the Dask scheduler there within "
                f"{SCHEDULER_TIMEOUT_S:g} s ({type(exc).__name__}: {exc}); check the address "
                f"(e.g. tcp://host:8786) and that the scheduler is running") from None
    else:
        workers = min(workers, len(tasks))
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        futures = {client.submit(run_task, task, out_dir, progress=False,
                                 pure=False, key=f"neurocode-{task[0].experiment}-"
                                 f"{task[0].digest}-{os.getpid()}-{i}", **kw): task
                   for i, task in enumerate(tasks)}
        for fut in as_completed(futures):
            task = futures[fut]
            try:
                results = fut.result()
            except Exception as exc:  # noqa: BLE001 - a lost worker, say: reported
                results = [PointResult(run_path(out_dir, s), "failed",
                                       f"FAILED: {type(exc).__name__}: {exc}; rerun the sweep "
                                       f"to complete it", f"{type(exc).__name__}: {exc}")
                           for s in task]
            for spec, r in zip(task, results, strict=True):
                report(spec, r)
            if any(r.storage_error for r in results):
                for f in futures:
                    f.cancel()
                break
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
