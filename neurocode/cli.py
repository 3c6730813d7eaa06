"""The ``neurocode`` command: argparse and printing over :mod:`neurocode.api`.

Exit codes: 0 success; 1 a run failed, an input (data set, run file) is missing or corrupt,
or a file could not be written (no space left, a read-only folder: the message names the
path and the cause; every finished result is kept); 2 a malformed config or command line
(nothing was run); 3 (``run``, ``measure`` of configs) nothing failed, but some runs were
left to another sweep that was running them and are not finished here (run the command
again once it ends); 130 interrupted (finished runs kept).

A plugin that fails to load (or is refused for taking a registered rule's name) never stops
a command: the command says which plugin and why on stderr, and goes on without it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_BUSY, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
#: the fewest units the theory figure's random k-of-N codes can have (k from 1 to N - 1)
MIN_THEORY_UNITS = 4


def experiments_dir() -> Path:
    """The folder of bundled experiment configs: ./experiments, else the source checkout's,
    else the installed package's ``neurocode/experiments`` (a non-editable install that ships
    them as package data)."""
    here = Path.cwd() / "experiments"
    if here.is_dir():
        return here
    checkout = Path(__file__).resolve().parents[1] / "experiments"
    packaged = Path(__file__).resolve().parent / "experiments"
    return packaged if not checkout.is_dir() and packaged.is_dir() else checkout


def _err(msg: str) -> None:
    print(f"neurocode: error: {msg}", file=sys.stderr)


def _opts(args: argparse.Namespace) -> Any:
    from neurocode.api import RunOptions

    return RunOptions(device=args.device, executor=args.executor, workers=args.workers,
                      scheduler=args.scheduler, tensorboard=args.tensorboard,
                      vectorize=args.vectorize, data_dir=args.data_dir,
                      threads=getattr(args, "threads", None))


def cmd_run(args: argparse.Namespace) -> int:
    """``neurocode run CONFIG``: run every point of an experiment's sweep (or every part of a suite)
    into ``--out``. Exit 1 if a run failed, 3 if none failed but some were left to another
    sweep running them, 130 on Ctrl-C (finished runs are kept)."""
    from neurocode import api
    from neurocode import config as cfgmod

    overrides = cfgmod.parse_set(args.set)
    if args.seed is not None:
        overrides["seed"] = args.seed
    out = "results" if args.out is None else args.out
    busy: list[Path] = []
    try:
        failed = api.run(args.config, out=out, overrides=overrides, opts=_opts(args),
                         err=_err, busy=busy)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    if failed:
        return EXIT_FAILED
    if busy:
        _err(f"{len(busy)} run(s) were left to another sweep running them and are not "
             f"finished here (exit {EXIT_BUSY}); run the same command again once it ends")
        return EXIT_BUSY
    return EXIT_OK


def _run_files_of(targets: list[str], args: argparse.Namespace) -> list[Path]:
    """Run files named by paths, folders (searched recursively) or configs (run first)."""
    from neurocode import config as cfgmod
    from neurocode.runner import run_path

    configs = [t for t in targets if Path(t).suffix in (".yaml", ".yml")]
    if not configs and (args.set or args.out is not None):
        given = " and ".join(o for o, v in (("--set", args.set), ("--out", args.out)) if v)
        verb = "apply" if " and " in given else "applies"
        raise cfgmod.ConfigError(f"{given} {verb} to configs that are run first; "
                                 f"{', '.join(targets)} names stored runs, which are measured "
                                 f"where they are: drop {given}, or give a config")
    out = "results" if args.out is None else args.out
    paths: list[Path] = []
    for t in targets:
        p = Path(t)
        if p.suffix in (".yaml", ".yml"):
            ns = argparse.Namespace(config=str(p), set=args.set, seed=None, data_dir=args.data_dir,
                                    device=args.device, tensorboard=None, out=out,
                                    executor=args.executor, workers=args.workers,
                                    scheduler=args.scheduler, vectorize=False, threads=None)
            code = cmd_run(ns)
            if code == EXIT_INTERRUPTED:
                raise KeyboardInterrupt
            if code == EXIT_BUSY:
                args.busy = True
            specs = cfgmod.resolve(cfgmod.load_yaml(p), cfgmod.parse_set(args.set))
            paths += [run_path(out, s) for s in specs]
        elif p.is_dir():
            found = sorted(p.rglob("*.h5"))
            if not found:
                raise cfgmod.ConfigError(f"{t}: holds no run file (*.h5) to measure; give the "
                                         f"--out folder of `neurocode run`, or a config")
            paths += found
        elif p.is_file():
            paths.append(p)
        else:
            raise cfgmod.ConfigError(f"{t}: no such run file, results folder or config")
    return paths


def _check_seed(seed: int | None, option: str = "--seed") -> None:
    from neurocode.config import MAX_SEED, ConfigError

    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise ConfigError(f"{option} {seed} is out of range: a seed is an int from 0 to "
                          f"2**32 - 1 = {MAX_SEED}")


def cmd_measure(args: argparse.Namespace) -> int:
    """``neurocode measure``: run the battery on stored runs (run files, results folders, or
    configs, which are run first), or, with ``--codes FILE``, store given codes as a run and measure
    them. Stored runs are measured in this process unless ``--workers N`` or ``--executor dask``
    (the options and checks of ``neurocode run``; configs are run with them too). Exit 1 if a
    measurement failed, 2 on bad options."""
    from neurocode import api
    from neurocode.config import ConfigError
    from neurocode.executor import check_executor

    if not (args.threshold >= 0 and args.threshold < float("inf")):
        raise ConfigError(f"--threshold must be a finite number >= 0, got {args.threshold}")
    if args.max_stimuli < 1:
        raise ConfigError(f"--max-stimuli must be >= 1, got {args.max_stimuli}")
    _check_seed(args.seed)
    check_executor(args.executor, args.workers, args.scheduler)
    if args.codes:
        if args.targets:
            raise ConfigError("give either run files / folders / configs or --codes FILE, "
                              "not both")
        given = [o for o, v in (("--executor", args.executor != "local"),
                                ("--workers", args.workers not in (None, 1)),
                                ("--scheduler", args.scheduler)) if v]
        if given:
            raise ConfigError(f"{', '.join(given)}: --codes FILE is measured in this process; "
                              f"these options are for run files, folders and configs")
        out = "results" if args.out is None else args.out
        api.check_output_folder(out)
        try:
            for f in args.codes:
                api.store_codes(f, out, name=args.name, codes_key=args.codes_key,
                                labels_key=args.labels_key, test_fraction=args.test_fraction,
                                seed=0 if args.seed is None else args.seed,
                                threshold=args.threshold, max_stimuli=args.max_stimuli)
        except (ValueError, FileNotFoundError) as exc:
            raise ConfigError(str(exc)) from None
        except KeyboardInterrupt:
            _err("interrupted; nothing of the code being measured was stored")
            return EXIT_INTERRUPTED
        return EXIT_OK
    if not args.targets:
        raise ConfigError("nothing to measure: give run files, results folders or configs, "
                          "or --codes FILE")
    args.busy = False
    try:
        paths = _run_files_of(args.targets, args)
    except KeyboardInterrupt:
        _err("interrupted; rerun the same command to resume")
        return EXIT_INTERRUPTED
    try:
        failed = api.measure_files(paths, threshold=args.threshold,
                                   max_stimuli=args.max_stimuli, seed=args.seed,
                                   force=args.force, data_dir=args.data_dir, err=_err,
                                   executor=args.executor, scheduler=args.scheduler,
                                   workers=1 if args.workers is None else args.workers)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    if failed:
        return EXIT_FAILED
    return EXIT_BUSY if args.busy else EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    """``neurocode list``: the registered rules (built-in and plugin) and the bundled experiment
    configs, as text, or with ``--json`` with every rule's parameters; plugins that failed to load
    are reported (on stderr, or in the JSON)."""
    from neurocode.rules import available_rules, plugin_errors, rule_origin

    rules = available_rules()
    errors = plugin_errors()
    exps = []
    for p in sorted(experiments_dir().glob("*.yaml")):
        try:
            from neurocode.config import load_yaml

            raw = load_yaml(p)
            desc = str(raw.get("description", "")).strip()
            rule = (raw.get("model") or {}).get("rule", "")
        except Exception as exc:  # a broken config is listed, not fatal
            desc, rule = f"(unreadable: {exc})", ""
        exps.append({"name": p.stem, "path": str(p), "rule": rule, "description": desc})
    if args.json:
        print(json.dumps({
            "rules": [{"name": k, "description": c.description, "code_kind": c.code_kind,
                       "module": c.__module__, "package": rule_origin(c)["package"],
                       "version": rule_origin(c)["version"],
                       "params": {n: {"default": p.default, "allowed": p.describe(),
                                      "section": p.section, "doc": p.doc}
                                  for n, p in c.params.items()}}
                      for k, c in rules.items()],
            "experiments": exps,
            "plugin_errors": errors}, indent=2, default=str))
        return EXIT_OK
    print("rules:")
    for k, c in rules.items():
        pkg = rule_origin(c)["package"]
        where = "" if pkg == "neurocode" else f" [{pkg or c.__module__}]"
        print(f"  {k:<16} {c.code_kind:<12} {c.description}{where}")
    print("experiments:")
    for e in exps:
        first = e["description"].splitlines()[0] if e["description"] else ""
        print(f"  {e['name']:<16} {first[:100]}")
    for name, err in errors.items():
        _err(_plugin_message(name, err))
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    """``neurocode show RUN``: print a run file's experiment, status, configuration and final
    metrics."""
    from neurocode.store import read_run

    rec = read_run(args.run)
    a = rec.attrs
    print(f"{rec.path}")
    print(f"  experiment {rec.experiment}  run {rec.run_name}  seed {a.get('seed')}  "
          f"status {rec.status}  wall time {float(a.get('wall_time_s', 0)):.1f} s")
    if a.get("rule_package") or a.get("threads"):
        pkg = a.get("rule_package") or "no installed package"
        print(f"  rule {rec.config.get('model', {}).get('rule', '?')} from {pkg} "
              f"{a.get('rule_version', '')}".rstrip()
              + f"  threads {a.get('threads', '?')}  device {a.get('device', '?')}")
    if a.get("reason"):
        print(f"  reason: {a['reason']}")
    for section in ("model", "train", "data"):
        items = rec.config.get(section) or {}
        if items:
            print(f"  {section}: " + ", ".join(f"{k}={v}" for k, v in items.items()))
    width = max((len(k) for k in rec.final), default=0)
    print("  final:")
    for k, v in sorted(rec.final.items()):
        print(f"    {k:<{width}}  {v:.6g}")
    return EXIT_OK


def cmd_figures(args: argparse.Namespace) -> int:
    """``neurocode figures RESULTS``: draw every figure the stored runs allow into ``--out`` and
    print their paths; exit 1 when there is nothing to draw."""
    from neurocode import api
    from neurocode.config import ConfigError

    if args.theory_units < MIN_THEORY_UNITS:
        raise ConfigError(f"--theory-units must be >= {MIN_THEORY_UNITS} (the theory figure's "
                          f"random k-of-N codes need k from 1 to N - 1), got "
                          f"{args.theory_units}")
    if not Path(args.results).is_dir():
        _err(f"{args.results}: no such results folder (the --out folder of `neurocode run`)")
        return EXIT_FAILED
    api.check_output_folder(args.out)
    paths = api.figures(args.results, args.out, theory=args.theory, fields=args.fields,
                        theory_units=args.theory_units,
                        formats=("png", "svg") if args.svg else ("png",))
    if not paths:
        _err(f"nothing to draw: {args.results} holds no complete run with learning curves "
             f"or a battery; run an experiment, then `neurocode measure {args.results}`")
        return EXIT_FAILED
    for p in paths:
        print(p)
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    """``neurocode report RESULTS``: write the claims ledger with its computed verdicts as HTML and
    Markdown, print both paths and a one-line count of the verdicts; exit 1 on a
    :class:`~neurocode.report.ReportError`."""
    from neurocode import api
    from neurocode.report import ReportError, summary_line

    verdicts: list = []
    try:
        if Path(args.results).is_dir():
            api.check_output_folder(args.out)
        html_path, md_path = api.report(args.results, args.out, figures_dir=args.figures,
                                        verdicts=verdicts)
    except ReportError as exc:
        _err(str(exc))
        return EXIT_FAILED
    print(html_path)
    print(md_path)
    print(summary_line(verdicts))
    return EXIT_OK


def _add_executor_options(p: argparse.ArgumentParser, default_workers: str) -> None:
    """``--executor``, ``--workers`` and ``--scheduler``, as ``run`` and ``measure`` take them
    (checked by :func:`neurocode.executor.check_executor`); ``default_workers`` says what no
    ``--workers`` means."""
    from neurocode.executor import EXECUTORS

    p.add_argument("--executor", default="local", choices=EXECUTORS,
                   help="local: a process pool on this machine (default); dask: Dask "
                        "distributed (--scheduler ADDRESS, or a LocalCluster)")
    p.add_argument("--workers", type=int, default=None,
                   help=f"worker processes (default: {default_workers}); 1 runs in this "
                        f"process")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (with --executor dask)")


def build_parser() -> argparse.ArgumentParser:
    """The ``neurocode`` argument parser: one subcommand (run, list, measure, show, figures, report)
    per ``cmd_*`` function, which it sets as ``args.func``."""
    p = argparse.ArgumentParser(prog="neurocode", description=__doc__.splitlines()[0].strip('`. '))
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="run an experiment config (every point of its sweep)")
    r.add_argument("config", help="YAML experiment config, e.g. experiments/article_fc.yaml")
    r.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config entry by dotted key, e.g. train.iterations=2000")
    r.add_argument("--out", default=None, help="output folder (default: results)")
    r.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    r.add_argument("--seed", type=int, default=None, help="override the config's seed")
    r.add_argument("--threads", type=int, default=None, metavar="N",
                   help="torch and BLAS threads of each run (default 1, whatever --workers: "
                        "the count changes the numbers; it is recorded in each run file but "
                        "not part of its name)")
    r.add_argument("--data-dir", default=None, help="folder holding the data set's IDX files")
    r.add_argument("--tensorboard", default=None, metavar="DIR",
                   help="also write TensorBoard scalars (accuracy, loss, AverageDensity) to DIR")
    _add_executor_options(r, "one per core")
    r.add_argument("--vectorize", action="store_true",
                   help="train the lambdas of a ReLU+L1 sweep that share every other setting "
                        "as one vectorised model (pays on a GPU; slower on a small CPU)")
    r.set_defaults(func=cmd_run)

    ls = sub.add_parser("list", help="list models and bundled experiments")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.set_defaults(func=cmd_list)

    m = sub.add_parser("measure", help="run the code-property battery on stored or fresh runs")
    m.add_argument("targets", nargs="*",
                   help="run files, results folders, or configs (which are run first)")
    m.add_argument("--codes", action="append", default=[], metavar="FILE",
                   help="measure codes given as a file instead (.npz with 'codes' and "
                        "'labels', or codes_train/labels_train/codes_test/labels_test; .npy; "
                        ".h5; .nwb: spikes of its Units table counted per trial): stored as a "
                        "run under --out with its card beside it")
    m.add_argument("--codes-key", default=None, metavar="NAME",
                   help="the array or HDF5 dataset holding the codes (default 'codes'); "
                        "for .nwb the intervals table (default 'trials')")
    m.add_argument("--labels-key", default=None, metavar="NAME",
                   help="the array or HDF5 dataset holding the labels (default 'labels' if "
                        "present); for .nwb a column of that table")
    m.add_argument("--test-fraction", type=float, default=0.25,
                   help="share of one split's stimuli measured; the rest train the readout "
                        "(default 0.25)")
    m.add_argument("--name", default=None,
                   help="experiment name of the stored codes (default: the file's stem)")
    m.add_argument("--threshold", type=float, default=0.0,
                   help="a unit is active when |code| > THRESHOLD (default 0)")
    m.add_argument("--max-stimuli", type=int, default=10_000,
                   help="test stimuli measured at most (fewer for very wide codes)")
    m.add_argument("--seed", type=int, default=None, help="seed of the battery's draws "
                   "(default: the run's seed)")
    m.add_argument("--force", action="store_true", help="measure runs already measured again")
    m.add_argument("--out", default=None,
                   help="output folder for configs that are run, and for --codes (default: "
                        "results); an error with stored runs only")
    m.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="config overrides, for configs that are run (an error with stored "
                        "runs only)")
    m.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    m.add_argument("--data-dir", default=None, help="folder holding the data set's IDX files")
    _add_executor_options(m, "1; configs are run on one per core")
    m.set_defaults(func=cmd_measure)

    s = sub.add_parser("show", help="show a run file's final metrics")
    s.add_argument("run", help="a run's .h5 file")
    s.set_defaults(func=cmd_show)

    f = sub.add_parser("figures", help="draw the article's and the battery's figures from stored runs")
    f.add_argument("results", help="results folder (searched recursively for run files)")
    f.add_argument("--out", default="figures", help="output folder (default: figures)")
    f.add_argument("--fields", action=argparse.BooleanOptionalAction, default=True,
                   help="draw the receptive fields of every run whose rule has them "
                        "(default; --no-fields skips them)")
    f.add_argument("--theory", action=argparse.BooleanOptionalAction, default=True,
                   help="draw theory_codes: random k-of-N codes measured against the closed "
                        "forms (capacity over k, unions, survival; a few seconds; default; "
                        "--no-theory skips it)")
    f.add_argument("--theory-units", type=int, default=1024, metavar="N",
                   help="units of the theory figure's codes (default 1024)")
    f.add_argument("--svg", action="store_true",
                   help="write every figure as SVG (text kept as text) beside its PNG; "
                        "default PNG only (SVG is most of the time of drawing)")
    f.set_defaults(func=cmd_figures)

    rp = sub.add_parser("report", help="write the claims ledger with computed verdicts and "
                                       "the figures as one HTML page and its Markdown twin")
    rp.add_argument("results", help="results folder (searched recursively for run files)")
    rp.add_argument("--out", default="report", help="report folder (default: report)")
    rp.add_argument("--figures", default=None, metavar="DIR",
                    help="take the figures from DIR (the --out folder of `neurocode figures`) "
                         "instead of drawing them")
    rp.set_defaults(func=cmd_report)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the ``neurocode`` command on ``argv`` (default: ``sys.argv[1:]``) and return its exit
    code: 2 for a malformed config or command line, 1 for a missing or corrupt data set or run file
    (or a failed run), 130 when interrupted.

    glibc's allocator is tuned first (:func:`neurocode._malloc.tune_allocator`: freed memory is
    kept for the next training step; ``NEUROCODE_MALLOC=default`` leaves it as it is)."""
    from neurocode._malloc import tune_allocator

    tune_allocator()
    from neurocode.config import ConfigError
    from neurocode.data import DatasetError
    from neurocode.store import StoreError

    args = build_parser().parse_args(argv)
    if args.command in ("run", "measure"):
        _warn_plugins(load=True)  # said first: a refused plugin changes what runs
    try:
        return args.func(args)
    except ConfigError as exc:
        _err(str(exc))
        return EXIT_USAGE
    except (DatasetError, StoreError) as exc:
        _err(str(exc))
        return EXIT_FAILED
    except BrokenPipeError:  # stdout closed by its reader (| head): stop quietly
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except OSError:
            pass
        return EXIT_FAILED
    except OSError as exc:  # a write that failed outside the store (a figure, a card)
        from neurocode.store import describe_os_error

        where = exc.filename or "a file"
        _err(getattr(exc, "message", None)
             or f"cannot write {where}: {describe_os_error(exc)}; finished results are kept")
        return EXIT_FAILED
    except KeyboardInterrupt:
        _err("interrupted")
        return EXIT_INTERRUPTED
    finally:
        if args.command not in ("run", "measure", "list"):
            _warn_plugins(load=False)


def _warn_plugins(load: bool) -> None:
    """Say on stderr which plugins failed to load or were refused (``load``: discover them
    now; otherwise only if the command did)."""
    from neurocode import rules

    if not load and not rules._DISCOVERED:
        return
    for name, why in rules.plugin_errors().items():
        _err(_plugin_message(name, why))


def _plugin_message(name: str, why: str) -> str:
    if " (" in name:  # refused: the name is taken by the rule registered first
        return f"plugin rule '{name}' refused; the rule registered first is used: {why}"
    return f"plugin rule '{name}' failed to load and is not available: {why}"


if __name__ == "__main__":
    sys.exit(main())
