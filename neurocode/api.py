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

import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["RunOptions", "run", "run_suite", "run_specs", "check_run_options", "check_data",
           "writable", "measure", "measure_files", "store_codes", "figures", "report"]

Say = Callable[[str], None]


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


def check_run_options(opts: RunOptions) -> None:
    """Raise ConfigError for options this machine cannot honour, before anything trains."""
    from neurocode import config as cfgmod
    from neurocode.runner import tensorboard_available

    if opts.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise cfgmod.ConfigError("--device cuda: no CUDA device is available to torch here; "
                                     "use --device cpu")
    if opts.tensorboard and not tensorboard_available():
        raise cfgmod.ConfigError("--tensorboard needs the tensorboard package: "
                                 "pip install 'neurocode[tensorboard]'")
    if opts.workers is not None and opts.workers < 1:
        raise cfgmod.ConfigError(f"--workers must be >= 1, got {opts.workers}")
    if opts.scheduler and opts.executor != "dask":
        raise cfgmod.ConfigError("--scheduler is an address for --executor dask")
    if opts.executor == "dask":
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise cfgmod.ConfigError("--executor dask needs Dask distributed: "
                                     "pip install 'neurocode[dask]'") from None


def check_data(specs: Sequence[Any]) -> None:
    """Fail on missing or damaged data before anything trains (downloads, where allowed,
    are cached for the runs)."""
    from neurocode.data import DATASETS, load_mnist

    for ds, dd in sorted({(s.get("data.dataset"), s.get("data.data_dir")) for s in specs},
                         key=str):
        if ds in DATASETS:
            for split in ("train", "test"):
                load_mnist(ds, split=split, data_dir=dd)


def writable(out: Path, err: Say = _stderr) -> bool:
    """Whether run files can be written to ``out`` (created if needed); says why not."""
    try:  # a folder we cannot write to fails here, before anything trains
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        err(f"cannot write run files to {out}: {exc.strerror or exc}. "
            f"Choose another --out folder")
        return False
    return True


def run_specs(specs: Sequence[Any], out: str | Path, opts: RunOptions, *, say: Say = _print,
              err: Say = _stderr) -> int:
    """Run resolved specs (one experiment's sweep) into ``out/<experiment>``; the number of
    runs that failed."""
    from neurocode.sweep import run_sweep

    folder = Path(out) / specs[0].experiment
    say(f"{len(specs)} run(s) of {specs[0].experiment} -> {folder}")
    try:
        summary = run_sweep(list(specs), out, executor=opts.executor, workers=opts.workers,
                            scheduler=opts.scheduler, device=opts.device, progress=None,
                            tensorboard_dir=opts.tensorboard, vectorize=opts.vectorize)
    except KeyboardInterrupt:
        err(f"interrupted; finished runs are kept under {folder}. "
            f"Run the same command again to resume: complete runs are skipped.")
        raise
    for line in summary.lines():
        say(line)
    return len(summary.failed)


def run(config: str | Path, *, out: str | Path = "results",
        overrides: dict[str, Any] | None = None, opts: RunOptions | None = None,
        say: Say = _print, err: Say = _stderr) -> int:
    """Run an experiment config, or a suite (:mod:`neurocode.suite`); the number of runs
    (for a suite: parts) that failed. ``overrides``: dotted keys, as ``--set`` takes them."""
    from neurocode import config as cfgmod
    from neurocode.suite import is_suite

    opts = opts or RunOptions()
    raw = cfgmod.load_yaml(config)
    overrides = dict(overrides or {})
    if is_suite(raw):
        return run_suite(raw, config, overrides, out=out, opts=opts, say=say, err=err)
    if opts.data_dir is not None:
        overrides["data.data_dir"] = opts.data_dir
    specs = cfgmod.resolve(raw, overrides)
    check_run_options(opts)
    check_data(specs)
    if not writable(Path(out) / specs[0].experiment, err):
        return len(specs)
    return run_specs(specs, out, opts, say=say, err=err)


def run_suite(raw: dict[str, Any], path: str | Path, overrides: dict[str, Any], *,
              out: str | Path = "results", opts: RunOptions | None = None, say: Say = _print,
              err: Say = _stderr) -> int:
    """Run every part of a suite, then measure its runs (see :mod:`neurocode.suite`); the
    number of parts that had failures."""
    from neurocode.runner import run_path
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
    failed = 0
    t0 = time.perf_counter()
    try:
        for i, part in enumerate(suite.parts, 1):
            say(f"== [{i}/{len(suite.parts)}] {part.name} "
                f"({time.perf_counter() - t0:.0f} s into the suite)")
            failed += run_specs(part.specs, out, opts, say=say, err=err) > 0
            if part.measure is not None:
                paths = [run_path(out, s) for s in part.specs]
                failed += measure(paths, threshold=float(part.measure["threshold"]),
                                  max_stimuli=int(part.measure["max_stimuli"]),
                                  data_dir=opts.data_dir, workers=opts.workers, quiet_skips=True,
                                  say=say, err=err) > 0
    except KeyboardInterrupt:
        err(f"suite interrupted; finished runs and batteries are kept under {out}. "
            f"Run the same command again to resume.")
        raise
    say(f"suite {suite.name} finished in {time.perf_counter() - t0:.0f} s"
        + (f"; {failed} part(s) had failures (see above)" if failed else ""))
    return failed


# --- measuring -------------------------------------------------------------------------------

def _measure_one(path: Path, threshold: float, max_stimuli: int, data_dir: str | None) -> int:
    """One run's battery in a worker process (one torch thread), its output kept short."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    with threadpool_limits(1):  # one BLAS thread per process: the processes share the cores
        return measure_files([path], threshold=threshold, max_stimuli=max_stimuli,
                             seed=None, force=False, data_dir=data_dir, quiet_skips=True,
                             steps=False)


def measure(paths: Sequence[Path], *, threshold: float = 0.0, max_stimuli: int = 10_000,
            data_dir: str | None = None, workers: int | None = None, quiet_skips: bool = True,
            say: Say = _print, err: Say = _stderr) -> int:
    """Measure the complete runs among ``paths`` that have no battery, or lack measures added
    since theirs was written, on ``workers`` processes (one per core by default); the number
    that failed."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    from neurocode.metrics.battery import missing_measures
    from neurocode.store import read_battery, run_status
    from neurocode.sweep import default_workers

    paths = [Path(p) for p in paths]
    todo = [p for p in paths if run_status(p, verify=False) == "complete"
            and (not (b := read_battery(p)) or missing_measures(b))]
    workers = min(workers or default_workers(), len(todo))
    if workers <= 1:
        return measure_files(todo, threshold=threshold, max_stimuli=max_stimuli, seed=None,
                             force=False, data_dir=data_dir, quiet_skips=quiet_skips, say=say,
                             err=err)
    say(f"measuring {len(todo)} run(s) on {workers} processes")
    failed = 0
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    try:
        futures = {p: pool.submit(_measure_one, p, threshold, max_stimuli, data_dir) for p in todo}
        for p, fut in futures.items():
            try:
                failed += fut.result()
            except BrokenProcessPool:
                err(f"{p}: the measuring process died; its file is unchanged. Run the same "
                    f"command again to measure it")
                failed += 1
    except KeyboardInterrupt:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return failed


def measure_files(paths: Sequence[Path], *, threshold: float = 0.0, max_stimuli: int = 10_000,
                  seed: int | None = None, force: bool = False, data_dir: str | None = None,
                  quiet_skips: bool = False, steps: bool = True, say: Say = _print,
                  err: Say = _stderr) -> int:
    """Run the battery in this process on each complete run file that has none, or lacks
    measures added since (every one with ``force``); the number of files that could not be
    measured. Raises KeyboardInterrupt (after saying so) when interrupted: the file being
    measured is unchanged."""
    from neurocode.data.prepare import load_data
    from neurocode.metrics.battery import missing_measures, run_battery
    from neurocode.rules import load_rule
    from neurocode.store import StoreError, read_battery, read_run, run_status, write_battery

    failed = 0
    for path in paths:
        status = run_status(path)
        if status in ("missing", "corrupt"):
            if quiet_skips and status == "missing":
                continue  # a suite's run that failed before writing: reported by the sweep
            err(f"{path}: {status} run file, not measured; rerun its config to rebuild it")
            failed += 1
            continue
        if status != "complete":
            if not quiet_skips:
                say(f"{path}: skipped (status {status}: only complete runs are measured)")
            continue
        stored = {} if force else read_battery(path)
        only = missing_measures(stored) if stored else None
        if stored and not only:
            if not quiet_skips:
                say(f"{path}: already measured, skipped (--force measures again)")
            continue
        try:
            rec = read_run(path)
            rule = load_rule(path)
        except (StoreError, ValueError) as exc:
            err(f"{path}: cannot measure: {exc}")
            failed += 1
            continue
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
        try:
            results = run_battery(rule, data, threshold=th, max_stimuli=limit, random_state=draw,
                                  progress=(lambda m: say(f"  {m}")) if steps else None,
                                  measures=only)
        except KeyboardInterrupt:
            err(f"interrupted while measuring {path}; its file is unchanged. "
                f"Rerun the same command to resume")
            raise
        except Exception as exc:  # one rule's failure does not stop the others
            err(f"{path}: the battery failed: {type(exc).__name__}: {exc}")
            failed += 1
            continue
        if only is not None:   # the stored battery with the new measures added
            old_meta, new_meta = stored.get("_meta", {}), results["_meta"]
            skipped = {x for m in (old_meta, new_meta)
                       for x in str(m.get("skipped", "")).split(",") if x}
            results = {**stored, **results,
                       "_meta": {**old_meta, **new_meta, "skipped": ",".join(sorted(skipped))}}
        write_battery(path, results)
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
    return failed


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
            fields: bool = True, theory_units: int = 1024) -> list[Path]:
    """Draw every figure the stored runs under ``results_dir`` allow into ``out``; the files."""
    from neurocode.figures import draw_all

    return list(draw_all(results_dir, out, theory=theory, fields=fields,
                         theory_units=theory_units))


def report(results_dir: str | Path, out: str | Path = "report", *,
           figures_dir: str | Path | None = None, verdicts: list | None = None
           ) -> tuple[Path, Path]:
    """Write the claims ledger (HTML and Markdown) for the runs under ``results_dir``;
    ``verdicts``, when given a list, receives the evaluated claims."""
    from neurocode.report import write_report

    return write_report(results_dir, out, figures_dir=figures_dir, verdicts=verdicts)
