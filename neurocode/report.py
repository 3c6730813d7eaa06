"""One report of a results folder: the runs it covers, the claims ledger, the figures.

:func:`write_report` writes two files with the same content into ``out_dir``:

* ``index.html``: one self-contained page (inline CSS, no script, nothing fetched from
  elsewhere; every figure embedded in it as a PNG data URI), which can be mailed or moved
  alone;
* ``report.md``: the Markdown twin, whose figures are links to ``figures/<stem>.png`` beside
  it (the report folder holds them).

Each claim shows what the article says (quoted), the construct that tests it, the design
(families, levels, seeds, budget), the null, the effect with its interval, the verdict, the
numbers, the runs kept out of it (with the reason) and how the verdict moves when each of its
thresholds moves (:mod:`neurocode.claims`). A methods section states the statistics once.

The verdicts come from :mod:`neurocode.claims` (computed from the runs by stated rules), the
runs from :func:`neurocode.results.load_results`, the figures from
:func:`neurocode.figures.draw_all` (or from a folder of figures drawn before). The output
depends on the results only: running it twice on the same results gives the same files.

Measures a run's battery refused to report (fault tolerance of a rule that ignores
``unit_mask``, :func:`neurocode.metrics.battery.not_reported`) are listed with the reason.
Every file is written atomically (a ``.partial`` renamed into place): a full disk or a
read-only folder is a :class:`~neurocode.store.StorageError` naming the path and the cause,
and leaves no truncated file.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from neurocode.claims import VERDICTS, Claim, Verdict, evaluate_all, verdict_counts
from neurocode.report_render import (  # noqa: F401
    _CSS,
    BADGE_STYLE,
    _Badge,
    _data_uri,
    _Details,
    _Figure,
    _FigureRef,
    _fmt,
    _Heading,
    _html_badge,
    _html_cell,
    _Link,
    _List,
    _md_badge,
    _md_cell,
    _md_text,
    _Para,
    _render_html,
    _render_md,
    _Table,
)
from neurocode.results import RunResult, article_network, load_results
from neurocode.store import StorageError, write_file_atomic

__all__ = ["write_report", "ReportError", "SUMMARY_FIGURES", "BADGE_STYLE"]


class ReportError(Exception):
    """The report cannot be written (no results, unreadable figures folder)."""


#: The sum-up figures shown at the end of the report (those that exist).
SUMMARY_FIGURES = ("summary_properties", "summary_table", "theory_codes")

_CAPTIONS = {
    "curves": "learning curves (test accuracy and AVR against iterations) per lambda",
    "tradeoff": "accuracy against average activity (AVR) over the lambda grid",
    "battery": "the code-property battery of the experiment's runs",
    "fields": "receptive fields",
    "summary_properties": "each property of the battery against the activity ratio, one "
                          "marker per configuration (its seeds' mean and standard deviation), coloured by rule; "
                          "runs that did not learn as grey crosses",
    "summary_table": "the battery's main numbers by code type, coloured only where tiers "
                     "differ by more than the seed spread; runs that did not learn in a grey row",
    "detail_capacity": "associative capacity against activity, with Willshaw's closed form",
    "detail_fault": "readout accuracy against the fraction of silenced units",
    "detail_interference": "false matches against unions and class overlap, with theory",
    "detail_decoding": "accuracy against units observed; active synapses per stimulus",
    "theory_codes": "random k-of-N codes measured against the closed forms",
    "dose_fault": "dose-response: fault AUC against activity, one line per family (level "
                  "means with 95 % intervals), the random k-of-N null of each N in grey",
    "dose_interference": "dose-response: readout failures on two superposed stimuli against "
                         "activity, per family, with the random k-of-N null in grey",
    "dose_willshaw": "dose-response: Willshaw information per synapse (half cues) against "
                     "activity, per family, with the random k-of-N null in grey",
    "dose_hopfield": "dose-response: sparse Hopfield (covariance rule) capacity per unit "
                     "against activity, per family, with the random k-of-N null in grey",
    "dose_redundancy": "dose-response: redundancy (fraction of random units a retrained probe "
                       "needs for 90 % of its accuracy) against activity, per family",
    "dose_support": "dose-response: support of a sparse (L1) class detector against activity, "
                    "per family, with the random k-of-N null in grey",
    "dose_dead": "dose-response: fraction of units never active against activity, per family",
}


def _caption(stem: str) -> str:
    if stem in _CAPTIONS:
        return f"{stem}: {_CAPTIONS[stem]}"
    for suffix, text in _CAPTIONS.items():
        if stem.endswith("_" + suffix):
            return f"{stem}: {text} ({stem[: -len(suffix) - 1]})"
    return stem


# --- content -----------------------------------------------------------------------------

def _budget(r: RunResult) -> str:
    it, ep = r.param("train.iterations"), r.param("train.epochs")
    n = r.param("data.n_train")
    if it is not None:
        return f"{it:,} iterations" if isinstance(it, int) else f"{it} iterations"
    if ep is not None:
        return (f"{ep} epoch{'s' if ep != 1 else ''}"
                + (f" of {n:,}" if isinstance(n, int) else ""))
    return f"{n:,} training stimuli" if isinstance(n, int) else "\u2013"


def _runs_table(runs: Sequence[RunResult]) -> _Table:
    from neurocode.design import exclusion

    groups: dict[tuple[str, str], list[RunResult]] = {}
    for r in runs:
        groups.setdefault((r.experiment, r.rule), []).append(r)
    rows = []
    for (exp, rule), g in sorted(groups.items()):
        seeds = sorted({r.seed for r in g})
        n_out = sum(bool(exclusion(r)) for r in g)
        stim = sorted({int(v) for r in g if r.measured
                       and math.isfinite(v := float(r.get("_meta.n_stimuli")))})
        rows.append([exp, rule, len(g), sum(r.measured for r in g),
                     (f"{stim[0]:,}" if len(stim) == 1 else
                      f"{stim[0]:,}-{stim[-1]:,}" if stim else "\u2013"),
                     ", ".join(sorted({_budget(r) for r in g})),
                     ", ".join(str(s) for s in seeds),
                     ", ".join(sorted({r.code_type for r in g})), n_out])
    return _Table(["experiment", "rule", "runs", "measured", "stimuli measured", "budget",
                   "seeds", "code types", "excluded (did not learn)"], rows)


def _claim_anchor(c: Claim) -> str:
    return f"claim-{c.id}"


_ARTICLE_BUDGET = 20_000


#: the article's networks (:data:`~neurocode.rules.tags.ARTICLE_NETWORKS`) in the report's words
_NETWORK_WORDS = (("fc", "FC net"), ("cnn", "CNN"), ("conv-ae", "autoencoder"))


def _budget_line(runs: Sequence[RunResult]) -> str:
    """The budget of the article's networks in these results, against the article's: the runs
    of the rules whose tags declare each network (:func:`neurocode.results.article_network`)."""
    parts = []
    for network, name in _NETWORK_WORDS:
        of = [r for r in runs if article_network(r.rule) == network]
        its = sorted({int(r.param("train.iterations")) for r in of
                      if isinstance(r.param("train.iterations"), (int, float))})
        seeds = sorted({r.seed for r in of})
        if its:
            parts.append(f"the {name} trained {', '.join(f'{i:,}' for i in its)} of the "
                         f"article's {_ARTICLE_BUDGET:,} iterations ({len(seeds)} seed"
                         f"{'s' if len(seeds) != 1 else ''})")
    return ("Budget: " + "; ".join(parts) + "." if parts else
            "Budget: no run of the article's networks in these results.")


def _methods() -> list[Any]:
    from neurocode.claims import THRESHOLDS
    from neurocode.design import MIN_LEARNED_FRACTION
    from neurocode.stats import N_RESAMPLES

    th = [[t.name, f"{t.default:g}", ", ".join(f"{x:g}" for x in t.values), t.meaning]
          for t in THRESHOLDS.values()]
    return [
        _Heading(2, "Methods", "methods"),
        _Para("Design. The unit of analysis is a family: the runs of one experiment and one "
              "rule at one code width N (so one readout and one silencing semantics), whose "
              "configurations (levels) differ in the parameter that sets their sparsity, each "
              "run with several seeds. No verdict pools families of different N or rule; the "
              "local/sparse/dense label is descriptive only."),
        _Para("Nulls. A paired comparison is against lambda = 0 of the same net on the same "
              "seeds; a property of a code is shown beside the random k-of-N code of the same N "
              "and k (its closed form where one exists, else the random-projection k-of-N family "
              "of the same N in the results, interpolated in log activity); a trend against "
              "zero correlation."),
        _Para(f"Intervals ({THRESHOLDS['CONFIDENCE'].default:.0%}). Paired comparisons: the mean "
              f"of per-seed differences with a bootstrap over seeds ({N_RESAMPLES} resamples, "
              f"Hesterberg's expanded percentile interval, which keeps about the nominal coverage "
              f"at few seeds). Trends: Spearman's rank correlation of the measure with the "
              f"activity ratio within a family, with a two-stage cluster bootstrap (levels with "
              f"replacement, then each drawn level's seeds), since seeds of one level are not "
              f"independent configurations. A peak along fixed levels: a bootstrap of each "
              f"level's seeds. A verdict is 'supported' only when the interval excludes the "
              f"null effect on the claimed side, and 'not tested' when the results lack the "
              f"runs the design needs (never 'partly'); 'partly' is kept for claims of several "
              f"parts or families of which some hold."),
        _Para(f"Exclusions. A run whose code is silent, or a supervised run whose test accuracy "
              f"is below {MIN_LEARNED_FRACTION:g} of the way from chance to 1, did not learn: it "
              f"is listed with the reason and kept out of every verdict."),
        _Para("Sensitivity. Each verdict is recomputed with each of its thresholds moved alone "
              "over the range below; the claim's table says whether the verdict is stable."),
        _Table(["threshold", "default", "range tried", "meaning"], th),
    ]


def _claim_blocks(c: Claim, v: Verdict) -> list[Any]:
    b: list[Any] = [_Heading(2, f"Claim {c.id}: {c.title}", _claim_anchor(c), v.verdict),
                    _Para(c.wording, quote=True),
                    _Para(f"Construct: {c.measurement}.")]
    if v.design:
        b.append(_Para(f"Design: {v.design}."))
    if v.null:
        b.append(_Para(f"Null: {v.null}."))
    if v.effect:
        b.append(_Para(f"Effect: {v.effect}."))
    b.append(_Para(f"Rule: {v.rule}", small=True))
    if v.findings:
        b.append(_List(list(v.findings)))
    if v.needs:
        b.append(_Para(f"Not tested: the results lack {v.needs}."))
    if v.definitions:
        b.append(_Para("By definition, or a correction of the article (not verdicts):"))
        b.append(_List(list(v.definitions)))
    if v.rows:
        b.append(_Table(list(v.columns), [list(r) for r in v.rows]))
    if v.excluded:
        b.append(_Para(f"Kept out of the verdict ({len(v.excluded)} runs that did not learn):"))
        b.append(_List(list(v.excluded)))
    if v.sensitivity:
        b.append(_Para("Sensitivity: the verdict with each threshold moved alone.", small=True))
        b.append(_Table(["threshold", "values", "verdicts", ""], [list(r) for r in v.sensitivity]))
    return b


def _build(results_dir: Any, runs: Sequence[RunResult],
           results: Sequence[tuple[Claim, Verdict]], figures: set[str]) -> tuple[str, list[Any]]:
    from neurocode import __version__
    from neurocode.design import exclusion

    title = "neurocode: the article's claims against the measurements"
    counts = verdict_counts(results)
    n_meas = sum(r.measured for r in runs)
    n_out = sum(bool(exclusion(r)) for r in runs)
    b: list[Any] = [_Heading(1, title)]
    b.append(_Para(f"Generated by neurocode {__version__} from the results folder "
                   f"{os.fspath(results_dir)}: {len(runs)} complete runs, {n_meas} of them "
                   f"measured by the code-property battery, {n_out} excluded from the verdicts "
                   f"as not learned. The article is \"Sparse coding: a simple exploration\" "
                   f"(ReLU networks with an L1 penalty on their activations, on MNIST).",
                   small=True))
    b.append(_Para(_budget_line(runs)))
    b.append(_Para("Verdicts: " + ", ".join(f"{n} {v}" for v, n in counts.items()) + ". Each "
                   "is a statistical statement: the effect with its 95 % interval against a "
                   "null, on a stated design (see Methods); \"not tested\" means the results "
                   "lack the runs the design needs, and says which."))
    b.append(_Heading(2, "Runs covered", "runs"))
    b.append(_runs_table(runs))
    cards = _code_cards(runs)
    if cards is not None:
        from neurocode.codes import GivenCodes

        b.append(_Heading(2, "Your codes: their cards", "cards"))
        b.append(_Para(f"Each code measured from a file or an array (rule {GivenCodes.name}), in "
                       "both communities' words, each property beside the closed form for a "
                       "random k-of-N code of the same N and k where one exists (in "
                       "brackets). The same record is in the run's .card.json and .card.csv; "
                       "the sum-up figures below place these codes among the built-in rules."))
        b.append(cards)
    refused = _not_reported(runs)
    if refused:
        b.append(_Para("Measures not reported (missing from the figures and the verdicts), "
                       "with why:"))
        b.append(_Table(["run", "measure", "why"], refused))
    b.append(_Heading(2, "Claims ledger", "ledger"))
    rows = []
    for c, v in results:
        moves = [s[0] for s in v.sensitivity if s[-1] == "moves"]
        more = [s[0] for s in v.sensitivity if s[-1] == "stable where tested"]
        sens = ("moves with " + ", ".join(moves) if moves else
                "stable" + (f" (not tested at higher {', '.join(more)})" if more else "")
                if v.sensitivity else "\u2013")
        rows.append([c.id, _Link(c.title, _claim_anchor(c)), c.measurement,
                     v.effect or v.needs or "\u2013", _Badge(v.verdict), sens,
                     _Details("rule", v.rule)])
    b.append(_Table(["#", "claim", "construct", "effect [95 % interval]", "verdict",
                     "sensitivity", "rule"], rows, "ledger"))
    b += _methods()
    placed: dict[str, str] = {}
    c_first: dict[str, Claim] = {}
    for c, v in results:
        b += _claim_blocks(c, v)
        for s in (s for s in v.figures if s in figures):
            if s in placed:
                b.append(_FigureRef(s, placed[s], _claim_anchor(c_first[s])))
            else:
                placed[s], c_first[s] = f"Claim {c.id}", c
                b.append(_Figure(s, _caption(s)))
        missing = [s for s in v.figures if s not in figures]
        if missing:
            b.append(_Para("Figures not drawn for these results: " + ", ".join(missing) + ".",
                           small=True))
    b.append(_Heading(2, "Sum-up figures", "summary"))
    extra = [s for s in SUMMARY_FIGURES if s in figures]
    extra += sorted(s for s in figures if s.endswith("_battery"))
    for s in extra:
        b.append(_FigureRef(s, placed[s], _claim_anchor(c_first[s])) if s in placed
                 else _Figure(s, _caption(s)))
    if not extra:
        b.append(_Para("No sum-up figure was drawn for these results (they need measured "
                       "runs: `neurocode measure RESULTS`)."))
    fields = sorted(s for s in figures if s.endswith("_fields"))
    if fields:
        b.append(_Heading(2, "Receptive fields", "fields"))
        b.append(_Para("What each learned rule's units respond to: one image per unit "
                       "(its weights on the input grid, most active units first), one figure "
                       "per configuration."))
        b += [_Figure(s, _caption(s)) for s in fields]
    return title, b


#: (column, card field, card field of the random k-of-N null or None)
_CARD_COLUMNS = (("N", "n_units", None), ("activity ratio", "activity_ratio", None),
                 ("L0 (AVR)", "avr", None),
                 ("Treves-Rolls", "treves_rolls", "treves_rolls_random_kofn"),
                 ("dead units", "dead_fraction", None),
                 ("dense units", "dense_feature_fraction", None),
                 ("Willshaw capacity", "willshaw_capacity", "willshaw_capacity_theory"),
                 ("fault AUC", "fault_auc", None),
                 ("class overlap", "interference_overlap", "interference_overlap_random"),
                 ("readout accuracy", "readout_accuracy", None),
                 ("detector support", "detector_support", None))


def _code_cards(runs: Sequence[RunResult]) -> _Table | None:
    """The code card (:func:`neurocode.codes.code_card`) of every measured user code, one
    row each, or None when the results hold none."""
    from neurocode.codes import GivenCodes, code_card

    rows = []
    for r in runs:
        if r.rule != GivenCodes.name or not r.measured:
            continue
        card = code_card(r.battery, name=r.experiment)
        row: list[Any] = [r.experiment]
        for _, field, null in _CARD_COLUMNS:
            v = card.get(field)
            cell = "\u2013" if v is None else _fmt(v)
            if null is not None and card.get(null) is not None and v is not None:
                cell = f"{cell} ({_fmt(card[null])})"
            row.append(cell)
        rows.append(row)
    if not rows:
        return None
    return _Table(["code", *(c for c, _, _ in _CARD_COLUMNS)], rows)


def _not_reported(runs: Sequence[RunResult]) -> list[list[str]]:
    """``[run, measure, why]`` of each measure a run's battery refused to report."""
    from neurocode.metrics.battery import not_reported

    return [[f"{r.experiment}/{r.path.name}", m, why]
            for r in runs for m, why in sorted(not_reported(r.battery).items())]


def _needed_stems(available: set[str]) -> set[str]:
    from neurocode.claims import CLAIMS

    want = {s for c in CLAIMS for s in c.figures} | set(SUMMARY_FIGURES)
    want |= {s for s in available if s.endswith(("_battery", "_fields"))}
    return want & available


def write_report(results_dir: str | os.PathLike, out_dir: str | os.PathLike,
                 figures_dir: str | os.PathLike | None = None,
                 verdicts: list[tuple[Claim, Verdict]] | None = None) -> tuple[Path, Path]:
    """Write ``out_dir/index.html`` and ``out_dir/report.md`` for the runs under ``results_dir``.

    Parameters
    ----------
    results_dir : path
        A results folder (searched recursively for complete run files).
    out_dir : path
        The report folder; created. Figures go to ``out_dir/figures``.
    figures_dir : path or None
        ``None``: draw the figures with :func:`neurocode.figures.draw_all` into
        ``out_dir/figures``. A folder: copy the PNGs the report shows from it into
        ``out_dir/figures`` (so the report folder is self-contained), drawing nothing.
    verdicts : list or None
        The ledger, when the caller has evaluated it already; an empty list is filled with
        it, so a caller that wants the verdicts too evaluates them once.

    Returns
    -------
    (html_path, md_path)

    Raises
    ------
    ReportError
        When ``results_dir`` holds no complete run, or ``figures_dir`` is not a folder.
    neurocode.store.StorageError
        When a file cannot be written (no space left, a read-only folder): the message
        names the path and the cause; no truncated file is left.
    """
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise ReportError(f"{results_dir}: no such results folder (the --out folder of "
                          f"`neurocode run`)")
    runs = load_results(results_dir)
    if not runs:
        raise ReportError(f"{results_dir}: holds no complete run file; run an experiment "
                          f"first (`neurocode run experiments/article_fc.yaml --out "
                          f"{results_dir}`)")
    out = Path(out_dir)
    fig_out = out / "figures"
    try:
        fig_out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(exc.filename or fig_out, exc) from None
    if figures_dir is None:
        from neurocode.figures import draw_all

        try:
            draw_all(results_dir, fig_out)
        except OSError as exc:  # a figure that cannot be written
            raise StorageError(exc.filename or fig_out, exc) from None
    else:
        src = Path(figures_dir)
        if not src.is_dir():
            raise ReportError(f"{src}: no such figures folder (the --out folder of "
                              f"`neurocode figures`)")
        for stem in sorted(_needed_stems({p.stem for p in src.glob("*.png")})):
            target = fig_out / f"{stem}.png"
            if (src / f"{stem}.png").resolve() != target.resolve():
                try:
                    data = (src / f"{stem}.png").read_bytes()
                except OSError as exc:
                    raise ReportError(f"{src / f'{stem}.png'}: cannot read the figure: "
                                      f"{exc.strerror or exc}") from None
                write_file_atomic(target, data)
    figures = {p.stem for p in fig_out.glob("*.png")}
    results = evaluate_all(runs) if not verdicts else verdicts
    if verdicts is not None and not verdicts:
        verdicts.extend(results)
    title, blocks = _build(results_dir, runs, results, figures)
    html_path, md_path = out / "index.html", out / "report.md"
    write_file_atomic(html_path, _render_html(blocks, title, fig_out).encode("utf-8"))
    write_file_atomic(md_path, _render_md(blocks).encode("utf-8"))
    return html_path, md_path


def summary_line(results: Sequence[tuple[Claim, Verdict]]) -> str:
    """``12 claims: 5 supported, 4 partly, 2 not supported, 1 not tested``."""
    counts = verdict_counts(results)
    return f"{len(results)} claims: " + ", ".join(f"{counts[v]} {v}" for v in VERDICTS)
