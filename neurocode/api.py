"""The orchestration API: what the ``neurocode`` command does, as functions a notebook can call.

Each function prints its progress the way the command does (``say``, ``print`` by default;
errors through ``err``, to stderr) and returns how many things failed; a malformed input
raises :class:`~neurocode.config.ConfigError`, a missing data set
:class:`~neurocode.data.DatasetError`, a damaged run file :class:`~neurocode.store.StoreError`.
Ctrl-C raises :class:`KeyboardInterrupt` after saying what was kept (finished runs and
batteries always are; run the same call again to resume)::

    from neurocode import api
    api.run("experiments/article_fc.yaml", out="results", overrides={"train.iterations": 500})
    api.measure(["results/article_fc"])
    api.figures("results", "figures")
    api.report("results", "report", figures_dir="figures")

:mod:`neurocode.cli` is argparse over these functions.
"""

from __future__ import annotations

import errno
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# running a sweep, and a suite's scheduling, live in neurocode.schedule (which does not
# import this module); RunOptions and run_specs are this module's names too
from neurocode.schedule import RunOptions, Say, _print, _stderr, run_specs

__all__ = ["RunOptions", "run", "run_suite", "run_specs", "check_run_options", "check_data",
           "writable", "check_output_folder", "measure", "measure_files", "store_codes",
           "figures", "report"]


def check_run_options(opts: RunOptions) -> None:
    """Raise ConfigError for options this machine cannot honour, before anything trains (the
    executor's through :func:`neurocode.executor.check_executor`, as ``neurocode measure``)."""
    from neurocode import config as cfgmod
    from neurocode.executor import check_executor
    from neurocode.runner import tensorboard_available

    if opts.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise cfgmod.ConfigError("--device cuda: no CUDA device is available to torch here; "
                                     "use --device cpu")
    if opts.tensorboard and not tensorboard_available():
        raise cfgmod.ConfigError("--tensorboard needs the tensorboard package: "
                                 "pip install 'neurocode[tensorboard]'")
    if opts.threads is not None and opts.threads < 1:
        raise cfgmod.ConfigError(f"--threads must be >= 1, got {opts.threads}")
    check_executor(opts.executor, opts.workers, opts.scheduler)


def check_data(specs: Sequence[Any]) -> None:
    """Fail on missing or damaged data before anything trains (downloads, where allowed,
    are cached for the runs), and on a ``data.n_train`` or ``data.n_test`` larger than the
    data set's split (a ConfigError naming the key: the loader would take fewer silently)."""
    from neurocode import config as cfgmod
    from neurocode.data import DATASETS, load_mnist

    for ds, dd in sorted({(s.get("data.dataset"), s.get("data.data_dir")) for s in specs},
                         key=str):
        if ds in DATASETS:
            for split in ("train", "test"):
                _, labels = load_mnist(ds, split=split, data_dir=dd)
                key = f"data.n_{split}"
                asked = max((s.get(key) or 0 for s in specs
                             if s.get("data.dataset") == ds and s.get("data.data_dir") == dd),
                            default=0)
                if asked > len(labels):
                    raise cfgmod.ConfigError(
                        f"config key '{key}': {asked} is more than the {len(labels)} "
                        f"{split} images of {ds}; ask for at most {len(labels)} (or leave it "
                        f"unset for all)")


def check_output_folder(out: str | Path, what: str = "--out") -> Path:
    """Create ``out`` if needed and check that files can be written there, before any
    work: :class:`~neurocode.store.StorageError` naming the folder and the cause (a file in
    the way, a read-only file system, no permission, no space left) otherwise."""
    from neurocode.store import StorageError

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise StorageError(out, f"it is a file, not a folder: choose another {what} folder")
    probe = out / f".write-test-{os.getpid()}"
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"x")
        probe.unlink()
    except OSError as exc:
        try:
            probe.unlink()
        except OSError:
            pass
        raise StorageError(out, exc) from None
    return out


def writable(out: Path, err: Say = _stderr) -> bool:
    """Whether run files can be written to ``out`` (created if needed); says why not."""
    from neurocode.store import StorageError

    try:  # a folder we cannot write to fails here, before anything trains
        check_output_folder(out)
    except StorageError as exc:
        err(f"cannot write run files to {out}: {exc.cause}. "
            f"Choose another --out folder")
        return False
    return True


def run(config: str | Path, *, out: str | Path = "results",
        overrides: dict[str, Any] | None = None, opts: RunOptions | None = None,
        say: Say = _print, err: Say = _stderr, busy: list[Path] | None = None) -> int:
    """Run an experiment config, or a suite (:mod:`neurocode.suite`); the number of runs
    (for a suite: parts) that failed. ``overrides``: dotted keys, as ``--set`` takes them.
    ``busy``, when given a list, receives the run files left to another sweep running them
    (``neurocode run`` exits 3 when there are some and nothing failed)."""
    from neurocode import config as cfgmod
    from neurocode.suite import is_suite

    opts = opts or RunOptions()
    raw = cfgmod.load_yaml(config)
    overrides = dict(overrides or {})
    if is_suite(raw):
        return run_suite(raw, config, overrides, out=out, opts=opts, say=say, err=err,
                         busy=busy)
    if opts.data_dir is not None:
        overrides["data.data_dir"] = opts.data_dir
    specs = cfgmod.resolve(raw, overrides)
    check_run_options(opts)
    check_data(specs)
    if not writable(Path(out) / specs[0].experiment, err):
        return len(specs)
    return run_specs(specs, out, opts, say=say, err=err, busy=busy)


def run_suite(raw: dict[str, Any], path: str | Path, overrides: dict[str, Any], *,
              out: str | Path = "results", opts: RunOptions | None = None, say: Say = _print,
              err: Say = _stderr, busy: list[Path] | None = None) -> int:
    """Run every part of a suite and measure its runs (see :mod:`neurocode.suite`): on a
    local pool of several workers every part's points through one pool, the longest first,
    each part's batteries queued there when its last point ends; else, or with the suite's
    ``parts_in_turn``, the parts one after the other (:func:`neurocode.schedule.run_parts`;
    the same files and numbers either way). The number of parts that had failures
    (``busy``: as for :func:`run`)."""
    from neurocode.schedule import run_parts
    from neurocode.suite import resolve_suite

    opts = opts or RunOptions()
    if opts.data_dir is not None:
        for p in raw.get("parts") or []:  # every part's data from that folder
            if isinstance(p, dict):
                p.setdefault("set", {})
                if isinstance(p["set"], dict):
                    p["set"]["data.data_dir"] = opts.data_dir
    suite = resolve_suite(raw, path, overrides)
    check_run_options(opts)
    check_data([s for p in suite.parts for s in p.specs])
    for part in suite.parts:
        if not writable(Path(out) / part.name, err):
            return len(suite.parts)
    say(f"suite {suite.name} (budget {suite.budget}): {len(suite.parts)} experiment(s), "
        f"{suite.n_runs} run(s) -> {out}")
    return run_parts(suite, out, opts, measure=measure, measure_task=_measure_one, say=say,
                     err=err, busy=busy)


# --- measuring -------------------------------------------------------------------------------

@dataclass
class _Measured:
    """What measuring one run file came to: whether it failed, the cause when its folder
    cannot be written (the others of that folder are not measured then), and, from a worker
    process, the lines it had to say (``("say" | "err", line)``, said here in order)."""

    failed: bool = False
    unwritable: str = ""
    lines: list[tuple[str, str]] = field(default_factory=list)


def _measure_one(path: Path, *, threshold: float, max_stimuli: int, seed: int | None,
                 force: bool, data_dir: str | None, quiet_skips: bool) -> _Measured:
    """One run's battery as a worker's task: its output kept short, and sent back to be said
    by the process that asked (the thread count is the executor's, the same as here)."""
    lines: list[tuple[str, str]] = []
    got = _measure_path(Path(path), threshold=threshold, max_stimuli=max_stimuli, seed=seed,
                        force=force, data_dir=data_dir, quiet_skips=quiet_skips, steps=False,
                        say=lambda m: lines.append(("say", m)),
                        err=lambda m: lines.append(("err", m)))
    got.lines = lines
    return got


def measure(paths: Sequence[Path], *, threshold: float = 0.0, max_stimuli: int = 10_000,
            data_dir: str | None = None, workers: int | None = None, executor: str = "local",
            scheduler: str | None = None, quiet_skips: bool = True, say: Say = _print,
            err: Say = _stderr) -> int:
    """Measure the complete runs among ``paths`` that have no battery, or lack measures added
    since theirs was written, on ``workers`` processes (one per core by default; ``executor``
    and ``scheduler`` as for :func:`measure_files`); the number that failed."""
    from neurocode.executor import check_executor
    from neurocode.schedule import needs_battery
    from neurocode.store import run_status

    check_executor(executor, workers, scheduler)
    todo = [Path(p) for p in paths]  # a corrupt battery counts as lacking: measuring says so
    todo = [p for p in todo if run_status(p, verify=False) == "complete" and needs_battery(p)]
    return measure_files(todo, threshold=threshold, max_stimuli=max_stimuli, seed=None,
                         force=False, data_dir=data_dir, quiet_skips=quiet_skips,
                         executor=executor, workers=workers, scheduler=scheduler, say=say,
                         err=err)


def measure_files(paths: Sequence[Path], *, threshold: float = 0.0, max_stimuli: int = 10_000,
                  seed: int | None = None, force: bool = False, data_dir: str | None = None,
                  quiet_skips: bool = False, steps: bool = True, say: Say = _print,
                  err: Say = _stderr, progress: bool | None = None, executor: str = "local",
                  workers: int | None = 1, scheduler: str | None = None) -> int:
    """Run the battery on each complete run file that has none, or lacks measures added
    since (every one with ``force``); the number of files that could not be measured.

    The files are the tasks of :func:`neurocode.executor.run_tasks`: ``executor``, ``workers``
    and ``scheduler`` as ``neurocode measure --executor/--workers/--scheduler`` (and as
    ``neurocode run``'s): in this process with one worker (the default) or one file, else
    on a pool of ``workers`` processes (None: one per core) or on Dask (the scheduler at
    ``scheduler``, or a LocalCluster). The batteries are the same whichever runs them:
    each runs with :data:`neurocode.executor.DEFAULT_THREADS` torch and BLAS threads
    (recorded as ``_meta.threads``) on the run's own data and seed (``seed`` overrides it).
    In this process each measure is said as it runs (``steps``); a worker's file is said in
    one line when it is done.

    Raises KeyboardInterrupt (after saying so) when interrupted (Ctrl-C; SIGTERM too): the
    files being measured are unchanged, and a pool's workers are stopped. ``progress``: a
    progress bar over the files, with the measure running beside it in this process (None:
    on a terminal only, as the sweep's).

    A file that cannot be written (no space left, a read-only folder) is reported once with
    the path and the cause and left as it was; the other runs of its folder are not measured
    (they would fail alike: one line says how many), those of other folders are. A battery
    that raises fails its file only; an error that is not the battery's (the run's data set
    missing, say) stops the measuring and propagates, wherever the file was measured.
    """
    from tqdm.auto import tqdm

    from neurocode.executor import DEFAULT_THREADS, Outcome, Task, plan, run_tasks

    paths = [Path(p) for p in paths]
    where, n = plan(executor, workers, len(paths))
    failed = 0
    unwritable: dict[Path, list] = {}  # folder -> [cause, runs left unmeasured]
    disable = (not progress) if progress is not None else not sys.stderr.isatty()
    bar = tqdm(total=len(paths), desc="measure", unit="run", disable=disable,
               dynamic_ncols=True, leave=False)

    def on_measure(m: str) -> None:
        bar.set_postfix_str(m.split(":")[0][:40], refresh=True)
        if steps:
            say(f"  {m}")

    settings = {"threshold": threshold, "max_stimuli": max_stimuli, "seed": seed,
                "force": force, "data_dir": data_dir, "quiet_skips": quiet_skips}
    if where == "here":
        tasks = [Task(_measure_path, (p,), {**settings, "steps": steps, "say": say, "err": err,
                                            "on_measure": on_measure}) for p in paths]
    else:
        tasks = [Task(_measure_one, (p,), settings, name="neurocode-measure") for p in paths]
        on = (f"on {n} processes" if where == "pool" else
              f"on the Dask scheduler at {scheduler}" if scheduler else
              f"on a Dask LocalCluster of {n} processes")
        if paths:
            say(f"measuring {len(paths)} run(s) {on}")

    def wanted(i: int) -> bool:
        if paths[i].parent in unwritable:  # its folder cannot be written: not measured
            nonlocal failed
            unwritable[paths[i].parent][1] += 1
            failed += 1
            bar.update(1)
            return False
        return True

    def ended(o: Outcome) -> None:
        nonlocal failed
        path = paths[o.index]
        if o.ok:
            got: _Measured = o.value
            for stream, line in got.lines:
                (say if stream == "say" else err)(line)
        elif o.lost:
            err(f"{path}: the measuring process died ({o.lost}); its file is unchanged. "
                f"Run the same command again to measure it")
            got = _Measured(failed=True)
        else:  # not the battery's failure (that is said and counted): missing data, say
            assert o.error is not None
            raise o.error  # it stops the measuring, wherever it ran, as in this process
        failed += got.failed
        if got.unwritable:
            unwritable.setdefault(path.parent, [got.unwritable, 0])
        bar.update(1)

    try:
        run_tasks(tasks, ended, executor=executor, workers=workers, scheduler=scheduler,
                  threads=DEFAULT_THREADS, wanted=wanted)
    except KeyboardInterrupt:
        if where != "here":
            err("interrupted; the files being measured are unchanged. Rerun the same "
                "command to resume")
        raise
    finally:
        bar.close()
    for folder, (cause, left) in unwritable.items():
        if left:
            err(f"{left} more run(s) in {folder} not measured: it cannot be written ({cause})")
    return failed


def _measure_path(path: Path, *, threshold: float, max_stimuli: int, seed: int | None,
                  force: bool, data_dir: str | None, quiet_skips: bool, steps: bool,
                  say: Say, err: Say, on_measure: Say | None = None) -> _Measured:
    """Measure one run file (see :func:`measure_files`), saying what happens through ``say``
    and ``err``; ``on_measure`` hears each measure as it starts."""
    from neurocode.data.prepare import load_data
    from neurocode.executor import run_threads
    from neurocode.metrics.battery import missing_measures, run_battery
    from neurocode.rules import load_rule
    from neurocode.store import (
        StorageError,
        StoreError,
        read_battery,
        read_run,
        run_status,
        write_battery,
    )

    status = run_status(path)
    if status in ("missing", "corrupt"):
        if quiet_skips and status == "missing":
            return _Measured()  # a suite's run that failed before writing: said by the sweep
        err(f"{path}: {status} run file, not measured; rerun its config to rebuild it")
        return _Measured(failed=True)
    if status != "complete":
        if not quiet_skips:
            say(f"{path}: skipped (status {status}: only complete runs are measured)")
        return _Measured()
    try:
        stored = {} if force else read_battery(path)
    except StoreError as exc:
        err(f"{path}: cannot measure: {exc}")
        return _Measured(failed=True)
    only = missing_measures(stored) if stored else None
    if stored and not only:
        if not quiet_skips:
            say(f"{path}: already measured, skipped (--force measures again)")
        return _Measured()
    try:
        rec = read_run(path)
        rule = load_rule(path)
    except (StoreError, ValueError) as exc:
        err(f"{path}: cannot measure: {exc}")
        return _Measured(failed=True)
    run_seed = int(rec.attrs.get("seed", 0))
    data_cfg = dict(rec.config["data"])
    if data_dir is not None:
        data_cfg["data_dir"] = data_dir
    data = load_data(data_cfg, seed=run_seed)  # the run's own data
    th, limit, draw = threshold, max_stimuli, run_seed if seed is None else seed
    if only is not None:   # a battery from before these measures existed: add them, on
        meta = stored.get("_meta", {})   # the same stimuli with the same settings
        th = float(meta.get("threshold", th))
        limit = int(meta.get("n_stimuli", limit))
        draw = int(meta.get("random_state", draw))
    if steps:
        say(f"{path}: measuring {rule.name} ({rule.n_units} units)"
            + (f": adding {', '.join(only)}" if only else ""))
    if not os.access(path.parent, os.W_OK):  # a read-only folder: say so before working
        code = errno.EROFS if _read_only(path.parent) else errno.EACCES
        cause = StorageError(path, OSError(code, os.strerror(code))).cause
        err(f"cannot write {path}: {cause}; not measured")
        return _Measured(failed=True, unwritable=cause)

    def said(m: str) -> None:
        if on_measure is not None:
            on_measure(m)
        elif steps:
            say(f"  {m}")

    try:
        with run_threads(None) as n_threads:
            results = run_battery(rule, data, threshold=th, max_stimuli=limit,
                                  random_state=draw, progress=said, measures=only)
        results["_meta"]["threads"] = float(n_threads)
    except KeyboardInterrupt:
        err(f"interrupted while measuring {path}; its file is unchanged. "
            f"Rerun the same command to resume")
        raise
    except Exception as exc:  # one rule's failure does not stop the others
        err(f"{path}: the battery failed: {type(exc).__name__}: {exc}")
        return _Measured(failed=True)
    if only is not None:   # the stored battery with the new measures added
        old_meta, new_meta = stored.get("_meta", {}), results["_meta"]
        skipped = {x for m in (old_meta, new_meta)
                   for x in str(m.get("skipped", "")).split(",") if x}
        results = {**stored, **results,
                   "_meta": {**old_meta, **new_meta, "skipped": ",".join(sorted(skipped))}}
    try:
        write_battery(path, results)
    except StorageError as exc:
        err(f"{exc}; its run file is unchanged")
        return _Measured(failed=True, unwritable=exc.cause)
    act = results["activity"]
    parts = [f"code {act.get('code_type', '?')}", f"AVR {act['avr']:.2f}",
             f"activity ratio {act['activity_ratio']:.4f}"]
    if "fault" in results and "auc_random" in results["fault"]:
        parts.append(f"fault AUC {results['fault']['auc_random']:.3f}")
    if "capacity" in results.get("willshaw", {}):
        parts.append(f"Willshaw M* {results['willshaw']['capacity']:.0f}")
    meta = results["_meta"]
    total = sum(v for k, v in meta.items() if k.startswith("seconds_"))
    say(f"{'  ' if steps else f'{path.parent.name}/{path.name}: measured, '}"
        f"{', '.join(parts)} ({total:.0f} s)" + (f" -> {path}:battery/" if steps else ""))
    return _Measured()


def _read_only(folder: Path) -> bool:
    """Whether ``folder`` lies on a file system mounted read-only."""
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False


# --- codes given as files ------------------------------------------------------------------

def store_codes(path: str | Path, out: str | Path = "results", *, name: str | None = None,
                codes_key: str | None = None, labels_key: str | None = None,
                test_fraction: float = 0.25, seed: int = 0, threshold: float = 0.0,
                max_stimuli: int = 10_000, say: Say = _print) -> Path:
    """Measure the codes in ``path`` (:mod:`neurocode.codes`) and store them as an ordinary
    run file under ``out/<name>/`` (``name``: the file's stem), its battery inside it and its
    code card beside it (``.card.json``, ``.card.csv``); the run file's path.

    Bad input (an unreadable file, rows that do not match the labels, NaN, an all-silent
    code) raises ValueError before anything is written; the run file is written atomically
    and only once its battery is measured.
    """
    from neurocode.codes import GivenCodes, code_card, write_card
    from neurocode.config import RunSpec
    from neurocode.data.codes import load_codes
    from neurocode.data.prepare import dataset_from_codes
    from neurocode.metrics.battery import run_battery
    from neurocode.runner import run_path, summary_metrics
    from neurocode.store import write_battery, write_run

    src = Path(path).resolve()
    cs = load_codes(src, codes_key=codes_key, labels_key=labels_key,
                    test_fraction=test_fraction, random_state=seed)
    name = name or src.stem
    safe = "".join(c if c.isalnum() or c in "=.,-_+" else "_" for c in name) or "codes"
    config = {"seed": int(seed), "model": {"rule": GivenCodes.name},
              "data": {"dataset": "codes", "path": str(src), "codes_key": codes_key,
                       "labels_key": labels_key, "test_fraction": float(test_fraction)},
              "train": {}}
    target = run_path(out, RunSpec(safe, "codes", config))  # named as every run file is
    say(f"{src}: {len(cs.codes_train)} training and {len(cs.codes_test)} test stimuli x "
        f"{cs.n_units} units" + ("" if cs.labels_test is not None else ", no labels (the "
                                 "measures that need labels are skipped)"))
    for note in getattr(cs, "notes", ()):   # what reading spikes dropped or assumed
        say(f"{src}: {note}")
    rule = GivenCodes(random_state=seed).fit(cs.codes_train)
    t0 = time.perf_counter()
    battery = run_battery(rule, dataset_from_codes(cs), threshold=threshold,
                          max_stimuli=max_stimuli, random_state=seed,
                          progress=lambda m: say(f"  {m}"))
    final = summary_metrics(rule, cs.codes_test, cs.labels_test)
    write_run(target, config=config, experiment=safe, run_name=safe, seed=seed, curves={},
              final=final, rule=rule, wall_time_s=time.perf_counter() - t0)
    write_battery(target, battery)
    card = code_card(battery, name=safe, source=str(src))
    js, cv = write_card(card, target.with_suffix(""))
    act = battery["activity"]
    say(f"  code {act.get('code_type', '?')}, AVR {act['avr']:.2f} of {cs.n_units}, activity "
        f"ratio {act['activity_ratio']:.4f} -> {target}; card {js.name}, {cv.name}")
    return target


# --- figures and report ----------------------------------------------------------------------

def figures(results_dir: str | Path, out: str | Path = "figures", *, theory: bool = True,
            fields: bool = True, theory_units: int = 1024,
            formats: str | Sequence[str] | None = None) -> list[Path]:
    """Draw every figure the stored runs under ``results_dir`` allow into ``out``; the files.

    ``formats``: the files of each figure, ``("png",)`` (the default, ``None``) or
    ``("png", "svg")`` (``neurocode figures --svg``; SVG keeps its text as text and takes most
    of the time); an unknown one is a :class:`~neurocode.figures.style.FigureFormatError` (a
    ``ValueError``) raised before anything is drawn or stored. A figure that cannot be written
    (no space left, a read-only folder) is a :class:`~neurocode.store.StorageError` naming the
    file and the cause; the figures written before it are kept."""
    from neurocode.figures import draw_all
    from neurocode.figures.style import check_formats
    from neurocode.store import StorageError

    formats = check_formats(formats)
    if theory:
        _store_theory_curves(results_dir, theory_units)
    try:
        return list(draw_all(results_dir, out, theory=theory, fields=fields,
                             theory_units=theory_units, formats=formats))
    except OSError as exc:
        raise StorageError(exc.filename or out, exc) from None


def _store_theory_curves(results_dir: str | Path, n_units: int) -> None:
    """Make the theory figure's data a stored result (``<results>/theory/...npz``) when it is
    not there yet, so the figure only reads; a folder that cannot take it (read-only, full)
    is said once, and the figure computes the curves in memory instead."""
    from neurocode.metrics.theory_codes import (
        TheoryCurvesWriteError,
        save_theory_curves,
        theory_curves,
        theory_curves_path,
    )

    path = theory_curves_path(results_dir, n_units)
    if path.exists() or not Path(results_dir).is_dir():
        return
    curves = theory_curves(n_units)   # a bad n_units is a TheoryCurvesError (ValueError)
    try:
        save_theory_curves(curves, path)
    except TheoryCurvesWriteError as exc:
        print(f"warning: the theory curves are not stored ({exc}); drawn from memory",
              file=sys.stderr)


def report(results_dir: str | Path, out: str | Path = "report", *,
           figures_dir: str | Path | None = None, verdicts: list | None = None
           ) -> tuple[Path, Path]:
    """Write the claims ledger (HTML and Markdown) for the runs under ``results_dir``;
    ``verdicts``, when given a list, receives the evaluated claims."""
    from neurocode.report import write_report

    return write_report(results_dir, out, figures_dir=figures_dir, verdicts=verdicts)
