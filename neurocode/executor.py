"""One executor layer: independent tasks run in this process, on a local pool, or on Dask.

Training a sweep (:func:`neurocode.sweep.run_sweep`) and measuring stored runs
(:func:`neurocode.api.measure_files`) hand :func:`run_tasks` a list of :class:`Task` (a
picklable callable and its arguments) and hear of each as it ends through an
:class:`Outcome` (what it returned or raised, or how its worker died). The executor never
writes a file: the tasks store their results atomically, so nothing is left half-written.

Where the tasks run (``neurocode run`` and ``neurocode measure``: ``--executor``,
``--workers``, ``--scheduler``; :func:`plan` says which for a given call):

``local``, one worker (or one task)
    in this process, one task after the other.
``local``, N workers
    a pool of N spawned processes (default: one per core), one task at a time each. A worker
    never outlives this process: it watches its parent (``PR_SET_PDEATHSIG`` on Linux, and a
    thread polling ``os.getppid()`` everywhere) and, when the parent dies, even by SIGKILL,
    unwinds its task (its ``finally`` blocks run: partial files removed, locks released) and
    exits, hard after :data:`GRACE_S` seconds at most (:func:`worker_init`). A worker that
    dies (SIGKILL, out of memory, a segfault) fails the task it was running and no other:
    that task's outcome says how it died, a new worker takes its place, the others go on.
``dask``
    Dask distributed: the scheduler at ``scheduler`` (one started by dask-jobqueue on a
    SLURM cluster, say), or a ``LocalCluster`` of N worker processes when no address is given.
    Dask retries the task of a worker that died on the others, then reports it lost
    (``KilledWorker``). A scheduler that cannot be reached within
    :data:`SCHEDULER_TIMEOUT_S` seconds is a :class:`SchedulerError` before anything runs.
    The LocalCluster's processes end with this process (Dask's own pipe to each, and
    :func:`run_tasks` closes the cluster on the way out).

Ctrl-C, and SIGTERM sent to this process (raised as :class:`Terminated`, a
``KeyboardInterrupt``, while :func:`run_tasks` runs in the main thread), stop every executor
alike: no task starts any more; a pool's workers unwind as above (killed if not gone after
:data:`GRACE_S` s); a LocalCluster is closed, which kills its workers within seconds (a Dask
task runs in a thread that cannot be interrupted: the partial file or lock file it leaves is
removed by the next run of that point); on a remote scheduler the tasks are cancelled and
those already running finish. Then the interrupt propagates. Pool workers ignore SIGINT: a
Ctrl-C at the terminal, which reaches the whole process group, is handled once, here.

``threads`` (:func:`run_threads`) limits every task's torch and BLAS threads, wherever it
runs: numbers do not depend on the executor or the number of workers.

The costliest task waiting starts first (:attr:`Task.cost`, an estimate in seconds; ties,
and tasks of no cost, in list order), so that no long task is left to start last while the
other workers sit idle; a task of higher :attr:`Task.priority` starts before any of lower.
``report`` may append tasks that an outcome made possible (a suite queues a part's measuring,
at a higher priority, when its last run ends: :mod:`neurocode.schedule`). The order changes
no result: each task's numbers are its own.
"""

from __future__ import annotations

import heapq
import numbers
import os
import pickle
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from neurocode.config import ConfigError

EXECUTORS = ("local", "dask")
#: torch and BLAS threads of every run unless asked otherwise (the count changes numbers)
DEFAULT_THREADS = 1
#: seconds to wait for a Dask scheduler to answer
SCHEDULER_TIMEOUT_S = 10.0
#: seconds a stopped pool worker has to unwind its task before it is killed
GRACE_S = 5.0


class ExecutorError(ConfigError):
    """Executor options that cannot be honoured (an unknown executor, ``--workers 0``, a
    ``--scheduler`` without ``--executor dask``, Dask not installed); nothing was run."""


class SchedulerError(ExecutorError):
    """The Dask scheduler named by ``--scheduler`` cannot be reached (nothing was run)."""


class Terminated(KeyboardInterrupt):
    """SIGTERM reached the process running :func:`run_tasks`: it stops as on Ctrl-C."""


@dataclass
class Task:
    """One independent piece of work, ``fn(*args, **kwargs)``; ``name`` labels it (Dask's
    key). Of the tasks waiting, those of the highest ``priority`` start first, and among
    them the costliest (``cost``: estimated seconds; ties in list order). For a pool or
    Dask, ``fn`` must be importable by name in a fresh interpreter (a function at module
    level) and its arguments and result picklable."""

    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    name: str = ""
    cost: float = 0.0
    priority: int = 0


@dataclass
class Outcome:
    """How task ``index`` (its place in the list :func:`run_tasks` got) ended: it returned
    ``value``, raised ``error``, or was ``lost``: its worker died (``lost`` says how:
    ``"killed by SIGKILL"``, ``"exit code 1"``, a Dask ``KilledWorker``)."""

    index: int
    value: Any = None
    error: BaseException | None = None
    lost: str = ""

    @property
    def ok(self) -> bool:
        """Whether the task returned (its ``value`` is what it returned)."""
        return self.error is None and not self.lost


# -- options ----------------------------------------------------------------------------------
def default_workers() -> int:
    """Worker processes when none are asked for: one per CPU core, at least one."""
    return max(1, os.cpu_count() or 1)


def check_executor(executor: str = "local", workers: int | None = None,
                   scheduler: str | None = None) -> None:
    """Refuse executor options that cannot be honoured, before anything runs.

    The one check of ``--executor``, ``--workers`` and ``--scheduler``, for ``neurocode run``
    and ``neurocode measure`` alike (and :func:`run_tasks`).

    Raises
    ------
    ExecutorError
        An unknown executor, fewer than one worker, a scheduler address without the ``dask``
        executor, or the ``dask`` executor without Dask distributed installed.
    """
    if executor not in EXECUTORS:
        raise ExecutorError(f"--executor {executor!r}: expected one of {', '.join(EXECUTORS)}")
    if workers is not None and (isinstance(workers, bool)
                                or not isinstance(workers, numbers.Integral) or workers < 1):
        raise ExecutorError(f"--workers must be >= 1, got {workers!r}")
    if scheduler and executor != "dask":
        raise ExecutorError("--scheduler is an address for --executor dask")
    if executor == "dask":
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise ExecutorError("--executor dask needs Dask distributed: "
                                "pip install 'neurocode[dask]'") from None


def plan(executor: str = "local", workers: int | None = None,
         n_tasks: int = 0) -> tuple[str, int]:
    """Where :func:`run_tasks` runs ``n_tasks`` tasks with these options, and on how many
    workers: ``("here", 1)`` (this process), ``("pool", n)`` or ``("dask", n)``.

    Callers use it to give in-process tasks what only this process has (a progress bar, a
    live log). Raises :class:`ExecutorError` for options :func:`check_executor` refuses.

    Examples
    --------
    >>> plan("local", 4, 1), plan("local", 1, 10), plan("local", 4, 10), plan("dask", 8, 3)
    (('here', 1), ('here', 1), ('pool', 4), ('dask', 3))
    """
    check_executor(executor, workers)
    n = max(1, min(default_workers() if workers is None else int(workers), n_tasks))
    if executor == "dask":
        return "dask", n
    return ("here", 1) if n == 1 else ("pool", n)


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


# -- running tasks ----------------------------------------------------------------------------
def run_tasks(tasks: Sequence[Task], report: Callable[[Outcome], None], *,
              executor: str = "local", workers: int | None = None,
              scheduler: str | None = None, threads: int | None = None,
              wanted: Callable[[int], bool] | None = None,
              scheduler_timeout: float | None = None, more: int = 0) -> None:
    """Run independent tasks where :func:`plan` says, calling ``report`` with each one's
    :class:`Outcome` as it ends (in this process, in the order they end). Of the tasks
    waiting, the highest :attr:`Task.priority` starts first, then the costliest
    (:attr:`Task.cost`; ties in list order).

    Parameters
    ----------
    tasks : sequence of Task
        The work; each task must not depend on another's result. When it is a list,
        ``report`` (and ``wanted``) may append tasks to it, work that an outcome made
        possible: they are queued with the others and reported alike.
    report : callable
        Called once per task that ran, with its outcome. An exception it raises stops the
        tasks (as an interrupt does) and propagates.
    executor, workers, scheduler : str, int or None, str or None
        As ``neurocode run --executor/--workers/--scheduler``: ``"local"`` or ``"dask"``;
        worker processes (None: one per core; 1: this process); a Dask scheduler's address
        (None with ``"dask"``: a LocalCluster of ``workers`` processes).
    threads : int or None
        Torch and BLAS threads of every task (:func:`run_threads`); None leaves them alone.
    wanted : callable or None
        ``wanted(index)`` is asked before a task starts (on Dask: after each outcome, for the
        tasks still pending); a task it answers False for is not run (or is cancelled) and
        never reported. The sweep stops this way once a write has failed.
    scheduler_timeout : float or None
        Seconds to wait for the scheduler (None: :data:`SCHEDULER_TIMEOUT_S`).
    more : int
        How many tasks ``report`` may append at most, counted with ``tasks`` when
        :func:`plan` chooses the number of workers (0: none expected).

    Raises
    ------
    ExecutorError
        Options that cannot be honoured; :class:`SchedulerError` for a scheduler that cannot
        be reached. Nothing has run.
    KeyboardInterrupt
        Ctrl-C, or :class:`Terminated` for SIGTERM, once the running tasks are stopped.

    Examples
    --------
    >>> out = []
    >>> run_tasks([Task(divmod, (7, 2)), Task(divmod, (1, 0))], out.append, workers=1)
    >>> out[0].value, type(out[1].error).__name__
    ((3, 1), 'ZeroDivisionError')
    """
    check_executor(executor, workers, scheduler)
    tasks = tasks if isinstance(tasks, list) else list(tasks)
    where, n = plan(executor, workers, len(tasks) + max(0, int(more)))
    if not tasks:
        return
    with _sigterm_interrupts():
        if where == "here":
            _run_here(tasks, report, threads, wanted)
        elif where == "pool":
            _run_pool(tasks, report, n, threads, wanted)
        else:
            timeout = SCHEDULER_TIMEOUT_S if scheduler_timeout is None else scheduler_timeout
            _run_dask(tasks, report, n, scheduler, threads, wanted, timeout)


def _call(fn: Callable[..., Any], args: tuple, kwargs: dict, threads: int | None) -> Any:
    """``fn(*args, **kwargs)`` with ``threads`` threads (None: as they are)."""
    with run_threads(threads) if threads is not None else nullcontext():
        return fn(*args, **kwargs)


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """While the block runs in the main thread, SIGTERM raises :class:`Terminated` (once; a
    second SIGTERM while stopping is ignored). A handler someone else set is left alone."""
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL):
        yield
        return
    fired: list[int] = []

    def on_term(signum: int, frame: Any) -> None:
        if fired:
            return
        fired.append(signum)
        raise Terminated("SIGTERM")

    signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


class _Queue:
    """The indices of the tasks not yet given out, the highest priority first, then the
    costliest (ties in list order); it takes in the tasks appended to the list since it last
    looked."""

    def __init__(self, tasks: list[Task]) -> None:
        self.tasks = tasks
        self.seen = 0
        self.heap: list[tuple[int, float, int]] = []

    def _look(self) -> None:
        while self.seen < len(self.tasks):
            t = self.tasks[self.seen]
            heapq.heappush(self.heap, (-int(t.priority), -float(t.cost), self.seen))
            self.seen += 1

    def __bool__(self) -> bool:
        self._look()
        return bool(self.heap)

    def pop(self) -> int:
        """The next task's index (the queue must not be empty)."""
        self._look()
        return heapq.heappop(self.heap)[2]


def _run_here(tasks: list[Task], report: Callable[[Outcome], None], threads: int | None,
              wanted: Callable[[int], bool] | None) -> None:
    queue = _Queue(tasks)
    while queue:
        i = queue.pop()
        task = tasks[i]
        if wanted is not None and not wanted(i):
            continue
        try:
            value = _call(task.fn, task.args, task.kwargs, threads)
        except Exception as exc:  # noqa: BLE001 - this task failed, the others go on
            report(Outcome(i, error=exc))
            continue
        report(Outcome(i, value=value))


# -- pool workers that never outlive their parent ---------------------------------------------
_STATE = {"in_task": False, "stopping": False}


class _ParentGone(BaseException):
    """Raised in a pool worker's task when it must stop (its parent died, or SIGTERM): it
    unwinds the task (removing its partial file, releasing its lock) like an interrupt."""


def _hard_exit_later() -> None:
    time.sleep(GRACE_S)
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
        time.sleep(0.5)
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
    locks) and exits, hard after :data:`GRACE_S` seconds at most. Tasks must be submitted
    through :func:`guarded`. SIGINT is ignored: the parent decides what a Ctrl-C stops.

    It also tunes glibc's allocator as the ``neurocode`` command does
    (:func:`neurocode._malloc.tune_allocator`; the same results, faster training steps;
    ``NEUROCODE_MALLOC=default`` turns it off).
    """
    from neurocode._malloc import tune_allocator

    tune_allocator()
    signal.signal(signal.SIGTERM, _on_term)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
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
    """A ``concurrent.futures`` pool of ``workers`` spawned processes that stop when this
    process dies (:func:`worker_init`); submit to it through :func:`guarded`.

    :func:`run_tasks` does not use it: it runs its own workers, so that a worker that dies
    loses its own task only (a broken ``ProcessPoolExecutor`` loses every task in it).
    """
    import multiprocessing as mp

    # spawn: a clean interpreter per worker (torch and fork do not mix)
    return ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"),
                               initializer=worker_init, initargs=(os.getpid(),))


def _worker_main(conn: Any, parent: int, threads: int | None) -> None:
    """A pool worker's loop: take ``(fn, args, kwargs)`` from ``conn``, send back
    ``(True, value)`` or ``(False, exception)``; stop on None or when the pipe closes."""
    worker_init(parent)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        except Exception as exc:  # noqa: BLE001 - a task that cannot be unpickled here
            _reply(conn, False, exc)
            continue
        if job is None:
            return
        try:
            value = guarded(_call, *job, threads)
        except Exception as exc:  # noqa: BLE001 - the task's failure, sent back
            _reply(conn, False, exc)
            continue
        _reply(conn, True, value)


def _reply(conn: Any, ok: bool, value: Any) -> None:
    """Send a task's result back; one that cannot travel (unpicklable, or an exception that
    does not unpickle) is sent as a RuntimeError saying what it was."""
    try:
        data = pickle.dumps((ok, value))
        if not ok:
            pickle.loads(data)  # exceptions whose __init__ takes other arguments do not
    except Exception as exc:  # noqa: BLE001
        what = f"{type(value).__name__}: {value}" if not ok else type(value).__name__
        data = pickle.dumps((False, RuntimeError(
            f"the task's {'exception' if not ok else 'result'} ({what}) cannot be sent back "
            f"from its worker process: {type(exc).__name__}: {exc}")))
    conn.send_bytes(data)


def _how_it_died(code: int | None) -> str:
    """A dead process's end in words: ``killed by SIGKILL``, ``exit code 1``."""
    if code is None or code >= 0:
        return "killed?" if code is None else f"exit code {code}"
    try:
        return f"killed by {signal.Signals(-code).name}"
    except ValueError:  # a real-time signal, say
        return f"killed by signal {-code}"


class _Worker:
    """One pool process and the pipe to it; ``task`` is the index it runs (None: idle)."""

    def __init__(self, ctx: Any, threads: int | None) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, os.getpid(), threads))
        self.proc.start()
        child.close()
        self.task: int | None = None


def _run_pool(tasks: list[Task], report: Callable[[Outcome], None], n: int,
              threads: int | None, wanted: Callable[[int], bool] | None) -> None:
    import multiprocessing as mp
    from multiprocessing.connection import wait

    ctx = mp.get_context("spawn")  # a clean interpreter per worker (torch and fork do not mix)
    queue = _Queue(tasks)
    pool: list[_Worker] = []
    clean = False
    try:
        while True:
            for w in [w for w in pool if w.task is None and not w.proc.is_alive()]:
                pool.remove(w)  # an idle worker that died: replaced below if work is left
                w.conn.close()
            for w in pool:  # hand out work: idle workers first, then new ones up to n
                if w.task is None and queue:
                    _give(w, queue, tasks, report, wanted)
            while queue and len(pool) < n:
                w = _Worker(ctx, threads)
                pool.append(w)
                _give(w, queue, tasks, report, wanted)
            busy = [w for w in pool if w.task is not None]
            if not busy:
                break
            ready = set(wait([w.conn for w in busy] + [w.proc.sentinel for w in busy]))
            for w in busy:
                if w.conn in ready or w.proc.sentinel in ready:
                    _collect(w, pool, report)
        clean = True
    finally:
        _close(pool, clean)


def _give(w: _Worker, queue: _Queue, tasks: list[Task], report: Callable[[Outcome], None],
          wanted: Callable[[int], bool] | None) -> None:
    """Send ``w`` the next task that is still wanted (a task that cannot be pickled is
    reported failed at once)."""
    while queue:
        i = queue.pop()
        if wanted is not None and not wanted(i):
            continue
        t = tasks[i]
        try:
            data = pickle.dumps((t.fn, t.args, t.kwargs))
        except Exception as exc:  # noqa: BLE001 - this task cannot go to a process
            report(Outcome(i, error=exc))
            continue
        w.task = i
        try:
            w.conn.send_bytes(data)
        except OSError:  # the worker is dead already: _collect reports the task lost
            pass
        return


def _collect(w: _Worker, pool: list[_Worker], report: Callable[[Outcome], None]) -> None:
    """Read ``w``'s result, or, when it died first, report its task lost and drop it."""
    i = w.task
    assert i is not None
    got: tuple[bool, Any] | None = None
    try:
        if w.conn.poll():
            got = pickle.loads(w.conn.recv_bytes())
    except (EOFError, OSError):
        got = None
    except Exception as exc:  # noqa: BLE001 - the reply cannot be read here
        got = (False, RuntimeError(f"the task's result cannot be read back: "
                                   f"{type(exc).__name__}: {exc}"))
    w.task = None
    if got is None:
        w.proc.join(timeout=10)
        pool.remove(w)
        w.conn.close()
        report(Outcome(i, lost=_how_it_died(w.proc.exitcode)))
        return
    ok, value = got
    report(Outcome(i, value=value) if ok else Outcome(i, error=value))


def _close(pool: list[_Worker], clean: bool) -> None:
    """Stop the pool's workers: idle ones are told to exit (``clean``); otherwise (an
    interrupt, an error) every one gets SIGTERM, unwinds its task, and is killed after
    :data:`GRACE_S` seconds if it has not exited by then."""
    for w in pool:
        try:
            if clean:
                w.conn.send_bytes(pickle.dumps(None))
            else:
                w.proc.terminate()
        except (OSError, ValueError):
            pass
    deadline = time.monotonic() + GRACE_S + 1.0
    for w in pool:
        w.proc.join(timeout=max(0.0, deadline - time.monotonic()))
    for w in pool:
        if w.proc.is_alive():
            w.proc.kill()
            w.proc.join(timeout=5)
        w.conn.close()


# -- Dask -------------------------------------------------------------------------------------
def _run_dask(tasks: list[Task], report: Callable[[Outcome], None], n: int,
              scheduler: str | None, threads: int | None,
              wanted: Callable[[int], bool] | None, timeout: float) -> None:
    from concurrent.futures import CancelledError

    from distributed import Client, KilledWorker, LocalCluster, as_completed  # checked

    cluster = None
    if scheduler:
        try:
            client = Client(scheduler, timeout=f"{timeout}s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise SchedulerError(
                f"--scheduler {scheduler}: cannot reach the Dask scheduler there within "
                f"{timeout:g} s ({type(exc).__name__}: {exc}); check the address "
                f"(e.g. tcp://host:8786) and that the scheduler is running") from None
    else:
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    tag = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    pending: dict[Any, int] = {}  # future -> task index, until it is reported (or dropped)
    queue = _Queue(tasks)

    def submit() -> list[Any]:  # every task queued, the costliest first
        futs = []
        while queue:
            i = queue.pop()
            if wanted is not None and not wanted(i):
                continue
            t = tasks[i]
            name = t.name or getattr(t.fn, "__name__", "task")
            fut = client.submit(_call, t.fn, t.args, t.kwargs, threads, pure=False,
                                key=f"{name}-{tag}-{i}")
            pending[fut] = i
            futs.append(fut)
        return futs

    try:
        done = as_completed(submit())
        for fut in done:
            i = pending.pop(fut, -1)
            if i < 0:
                continue  # cancelled below: never reported
            try:
                outcome = Outcome(i, value=fut.result())
            except (KilledWorker, CancelledError) as exc:
                outcome = Outcome(i, lost=f"{type(exc).__name__}: {exc}")
            except Exception as exc:  # noqa: BLE001 - the task raised it
                outcome = Outcome(i, error=exc)
            fut.release()  # its result is here: a worker lost later must not recompute it
            report(outcome)
            for new in submit():  # tasks the outcome made possible
                done.add(new)
            if wanted is not None:
                drop = [f for f, j in pending.items() if not wanted(j)]
                for f in drop:
                    del pending[f]
                if drop:
                    client.cancel(drop)
            if not pending:
                break
    except BaseException:
        try:
            client.cancel(list(pending), force=True)
        except Exception:  # noqa: BLE001 - the scheduler may be gone: nothing to cancel
            pass
        raise
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
