"""What a reader of the figures sees of the runs kept out of the verdicts, and of the table's
colours, drawn from small synthetic stored results (the batteries are fixtures, not results).

The results: the FC net at N = 784 with three lambdas of two seeds each, the largest of which
did not learn (test accuracy 0.2 and 0.25, below chance + half the way to 1 = 0.55) although
its code is sparse (AVR 3), so were it not flagged it would sit in the sparse column and on
the family's line; and k-WTA at N = 256 with three k of three seeds, whose fault tolerance is
set by hand for the table's colouring rule.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.colors import to_hex, to_rgb

from neurocode.design import exclusion
from neurocode.figures.battery import battery_figures, draw_battery_figures
from neurocode.figures.style import RANK_COLOURS, rule_colour
from neurocode.figures.summary import (
    PROPERTIES,
    colour_tiers,
    draw_summary_figures,
    seed_spreads,
    summary_figures,
    table_stats,
)
from neurocode.results import load_results
from neurocode.store import write_battery, write_run

FC_BAD = 0.0027
# lambda -> (AVR, test accuracy, fault AUC) per seed
FC = {0.0: ((300.0, 0.97, 0.80), (310.0, 0.97, 0.82)),
      1e-4: ((12.0, 0.97, 0.60), (13.0, 0.96, 0.62)),
      FC_BAD: ((3.0, 0.20, 0.05), (2.5, 0.25, 0.07))}
# k -> fault AUC per seed: k = 8 and k = 128 differ by 0.02 in the median, less than the 0.1
# between k = 8's own seeds; k = 1 lies 0.45 below both
KWTA_FAULT = {1: (0.20, 0.21, 0.22), 8: (0.60, 0.70, 0.65), 128: (0.66, 0.67, 0.68)}


def _battery(N: int, k: float, fault_auc: float, seed: int) -> dict:
    a = k / N
    f = np.linspace(0, 1, 6)
    loads = np.array([1.0, 3.0, 10.0, 30.0])
    m = np.unique(np.geomspace(1, N, 5).round())
    return {
        "activity": {"avr": float(k), "n_units": float(N), "activity_ratio": a,
                     "treves_rolls": a, "dead_fraction": 0.01 * seed, "code_type": "x"},
        "fault": {"fractions": f, "accuracy_random": 0.9 - 0.7 * f ** 2,
                  "accuracy_most_active": 0.9 - 0.8 * f, "accuracy_intact": 0.9,
                  "chance": 0.1, "auc_random": fault_auc},
        "willshaw": {"loads": loads, "error": np.clip(loads * a, 0, 1),
                     "theory_error": np.clip(loads * a / 2, 0, 1), "tolerance": 0.1 * a,
                     "bits_per_synapse_at_capacity": 0.01 + a / 10},
        "unions": {"loads": loads, "false_match": np.clip(loads * a, 1e-6, 1),
                   "theory_false_match": np.clip((loads * a) ** 2, 1e-9, 1)},
        "decoding": {"m_values": m, "accuracy": 0.1 + 0.8 * (m / N) ** 0.3,
                     "accuracy_full": 0.9, "chance": 0.1, "m_fraction_90": 0.5 - a / 4,
                     "m90": float(m[-2]), "active_synapses_mean": 10.0 * k},
        "superposition": {"top2_accuracy": 0.1 + a / 2, "mean_lost_fraction": 0.4,
                          "mean_spurious_fraction": 0.01},
        "_meta": {"n_stimuli": 100.0, "n_units": float(N), "readout": "logistic"},
    }


def _run(root: Path, exp: str, rule: str, N: int, params: dict, seed: int, k: float,
         fault_auc: float, accuracy: float | None = None) -> None:
    name = ",".join(f"{p}={v}" for p, v in params.items()) + f",seed={seed}"
    config = {"name": exp, "seed": seed, "model": {"rule": rule, "n_units": N, **params},
              "data": {"dataset": "mnist"}}
    final = {"avr": k, "n_units": float(N), "activity_ratio": k / N}
    if accuracy is not None:
        final["accuracy"] = accuracy
    path = write_run(root / exp / f"{name}.h5", config=config, experiment=exp, run_name=name,
                     seed=seed, curves={}, final=final)
    write_battery(path, _battery(N, k, fault_auc, seed))


def _write_results(root: Path) -> None:
    for lam, seeds in FC.items():
        for seed, (avr, acc, auc) in enumerate(seeds):
            _run(root, "article_fc", "relu-l1-fc", 784, {"l1": lam}, seed, avr, auc, acc)
    for k, aucs in KWTA_FAULT.items():
        for seed, auc in enumerate(aucs):
            _run(root, "kwta_mnist", "kwta", 256, {"k": k}, seed, float(k), auc)


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("flag_results")
    _write_results(root)
    return root


@pytest.fixture(scope="module")
def runs(results):
    return load_results(results, measured_only=True)


@pytest.fixture(scope="module")
def bad(runs):
    out = [r for r in runs if r.param("model.l1") == FC_BAD]
    assert len(out) == 2 and all(exclusion(r).startswith("did not learn") for r in out)
    assert all(not exclusion(r) for r in runs if r not in out)
    assert {r.code_type for r in out} == {"sparse"}      # would sit among the sparse codes
    return out


@pytest.fixture(scope="module")
def figs(runs):
    return summary_figures(runs)


def _is_grey(colour) -> bool:
    r, g, b = to_rgb(colour)
    return r == g == b and 0.2 < r < 0.8


def _is_hollow_grey_cross(line) -> bool:
    return (line.get_marker() == "X" and line.get_markerfacecolor() == "none"
            and _is_grey(line.get_markeredgecolor()) and line.get_linestyle() == "None")


# --------------------------------------------------------------------------------------------
# summary_properties and the detail figures
# --------------------------------------------------------------------------------------------


def test_summary_properties_draws_excluded_runs_apart(figs, runs, bad):
    fig = figs["summary_properties"]
    bad_x = sorted(r.activity_ratio for r in bad)
    panels = {ax.get_title().split(" (")[0]: ax for ax in fig.axes if ax.get_title()}
    assert len(panels) == len(PROPERTIES)
    for prop in PROPERTIES:
        ax = next(a for t, a in panels.items() if t == prop.title)
        crosses = [ln for ln in ax.lines if (ln.get_gid() or "").startswith("excluded")]
        assert len(crosses) == 1, prop.key
        (cross,) = crosses
        assert cross.get_gid() == f"excluded-{prop.key}"
        assert _is_hollow_grey_cross(cross)
        # at each excluded run's own values, one point per run
        assert sorted(cross.get_xdata()) == pytest.approx(bad_x)
        np.testing.assert_allclose(sorted(cross.get_ydata()), sorted(prop.value(r) for r in bad))
        # never in a configuration's marker or in a family's line (FC's line joins two levels)
        fc_colour = to_rgb(rule_colour("relu-l1-fc"))
        for line in ax.lines:  # the rules' markers and lines (the grey theory is no run)
            if line is cross or _is_grey(line.get_color()):
                continue
            assert not np.any(np.isclose(np.asarray(line.get_xdata(), float)[:, None],
                                         bad_x).any(axis=1)), (prop.key, line.get_label())
        fc_lines = [ln for ln in ax.lines if to_rgb(ln.get_color()) == fc_colour
                    and len(ln.get_xdata()) > 1]
        assert len(fc_lines) == 1 and len(fc_lines[0].get_xdata()) == 2
    # one legend entry for them, that says why; none per excluded configuration or run
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    handles = fig.legends[0].legend_handles
    ex = [i for i, t in enumerate(texts) if t.startswith("excluded from the verdicts")]
    assert len(ex) == 1
    assert texts[ex[0]].splitlines()[0] == "excluded from the verdicts (2 runs: did not learn)"
    assert "relu-l1-fc λ=2.7e-3 (2 seeds)" in texts[ex[0]]
    assert _is_hollow_grey_cross(handles[ex[0]])
    assert not any(t.startswith("relu-l1-fc λ=2.7e-3") for t in texts)
    assert sum(len(t.splitlines()) > 1 for t in texts) == 1
    assert "2 more runs kept out of the verdicts" in fig._suptitle.get_text()


def test_detail_figures_draw_each_excluded_run_as_a_grey_curve(figs, bad):
    for stem in ("detail_capacity", "detail_fault", "detail_interference", "detail_decoding"):
        fig = figs[stem]
        sparse = next(ax for ax in fig.axes if ax.get_title().startswith("sparse"))
        ex = [ln for ln in sparse.lines if (ln.get_gid() or "").startswith("excluded")]
        assert len(ex) == len(bad), stem
        for line in ex:
            assert _is_grey(line.get_color()) and line.get_marker() == "X"
            assert line.get_markerfacecolor() == "none" and line.get_linestyle() == ":"
            assert line.get_label().startswith("_")
        labels = [t.get_text() for t in sparse.get_legend().get_texts()]
        assert sum(lbl.startswith("excluded from the verdicts") for lbl in labels) == 1
        assert not any("2.7e-3" in lbl for lbl in labels)
        assert "2 excluded runs" in sparse.get_title()
        # the other panels have none
        for ax in fig.axes:
            if ax is not sparse:
                assert not any((ln.get_gid() or "").startswith("excluded") for ln in ax.lines)


# --------------------------------------------------------------------------------------------
# The battery figure
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_battery_figure_draws_excluded_runs_apart(results, bad):
    fig = battery_figures(results)["article_fc_battery"]
    axes = fig.axes
    titled = {ax.get_title()[:3]: ax for ax in axes}
    # (a)-(d): each excluded run's curve grey and dotted with hollow crosses, no theory for it
    for panel, gid in (("(a)", "excluded-fault-random-"), ("(b)", "excluded-willshaw-"),
                       ("(c)", "excluded-unions-"), ("(d)", "excluded-decoding-")):
        ax = titled[panel]
        ex = [ln for ln in ax.lines if (ln.get_gid() or "").startswith(gid)]
        assert len(ex) == len(bad), panel
        for line in ex:
            assert _is_grey(line.get_color()) and line.get_linestyle() == ":"
            assert line.get_marker() == "X" and line.get_markerfacecolor() == "none"
        coloured = [ln for ln in ax.lines if not _is_grey(ln.get_color())
                    and len(ln.get_xdata()) > 1]
        assert coloured, panel
        grey_ids = {ln.get_gid() for ln in ax.lines if (ln.get_gid() or "").startswith("excluded")}
        assert len(grey_ids) == len([ln for ln in ax.lines
                                     if (ln.get_gid() or "").startswith("excluded")])  # unique
    # (c) and (b): the theory is drawn for the kept runs only (4 runs; 2 excluded)
    unions = titled["(c)"]
    dashed = [ln for ln in unions.lines if ln.get_linestyle() == "--"]
    assert len(dashed) == 4
    # (e): hollow, hatched grey bars
    bars = [p for p in titled["(e)"].patches if (p.get_gid() or "").startswith("excluded")]
    assert len(bars) == len(bad) * 3
    for bar in bars:
        assert bar.get_facecolor()[3] == 0 and _is_grey(bar.get_edgecolor()[:3])
        assert bar.get_hatch()
    # (f): hollow grey markers, outside the grey line through the configurations' means
    f = titled["(f)"]
    bad_x = [r.activity_ratio for r in bad]
    pts = [ln for ln in f.lines if (ln.get_gid() or "").startswith("excluded-sumup")]
    assert pts and all(ln.get_markerfacecolor() == "none" and _is_grey(ln.get_markeredgecolor())
                       for ln in pts)
    for ln in pts:
        assert sorted(ln.get_xdata()) == pytest.approx(sorted(bad_x))
    for ln in f.lines:
        if ln in pts:
            continue
        assert not np.any(np.isclose(np.asarray(ln.get_xdata(), float)[:, None],
                                     bad_x).any(axis=1))
    # the legend: the two kept configurations, then one entry for the excluded runs
    (legend,) = fig.legends
    texts = [t.get_text() for t in legend.get_texts()]
    assert [t.split()[0] for t in texts[:2]] == ["l1=0.0", "l1=0.0001"]
    assert len(texts) == 3
    assert texts[2].splitlines() == ["excluded from the verdicts (2 runs: did not learn)",
                                     "  l1=0.0027 (2 seeds)"]
    handle = legend.legend_handles[2]
    assert _is_grey(handle.get_color()) and handle.get_marker() == "X"
    # no configuration colour is spent on them
    assert not any(_is_grey(h.get_color()) for h in legend.legend_handles[:2])
    assert "2 runs kept out of the verdicts (did not learn)" in fig._suptitle.get_text()
    # an experiment without excluded runs says nothing of them
    kw = battery_figures(results)["kwta_mnist_battery"]
    assert not any("excluded" in t.get_text() for t in kw.legends[0].get_texts())
    assert "verdicts" not in kw._suptitle.get_text()


# --------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------


def _cells(fig):
    table = fig.axes[0].tables[0]
    return table.get_celld()


def test_table_marks_excluded_runs_in_a_grey_row_and_in_no_cell(figs, runs, bad):
    cells = _cells(figs["summary_table"])
    n_rows = max(r for r, _ in cells)
    assert n_rows == len(PROPERTIES) + 1
    label = cells[n_rows, -1].get_text().get_text()
    assert label.startswith("excluded from the verdicts: 2 runs")
    sparse = cells[n_rows, 1].get_text().get_text()
    assert sparse.splitlines()[0] == "relu-l1-fc λ=2.7e-3 (2 runs)"
    assert sparse.splitlines()[1] == "did not learn: accuracy 0.2 – 0.25"
    assert "needs >= 0.55" in sparse
    for c in range(3):
        assert to_hex(cells[n_rows, c].get_facecolor()) == "#e6e6e6"
    assert cells[n_rows, 0].get_text().get_text() == ""
    # in no cell: the sparse fault cell holds the kept sparse runs only (FC 1e-4 and k-WTA k=8)
    stats = table_stats(runs)
    assert stats["fault"]["sparse"]["n"] == 2 + 3
    assert stats["fault"]["sparse"]["min"] == pytest.approx(0.60)  # not the excluded 0.05
    assert cells[0, 1].get_text().get_text() == "sparse codes (5 runs)"


def test_seed_spread_is_the_widest_range_over_one_configurations_seeds(runs):
    sp = seed_spreads(runs)["fault"]
    # k-WTA k=8: 0.60-0.70; the excluded FC runs (0.05, 0.07) count for nothing
    assert sp.spread == pytest.approx(0.10)
    assert sp.widest.startswith("kwta k=8") and sp.n_configs == 5


def test_table_colours_never_rank_a_difference_within_the_seed_spread(figs, runs):
    stats = table_stats(runs)["fault"]
    assert stats["sparse"]["median"] == pytest.approx(0.62)
    assert stats["dense"]["median"] == pytest.approx(0.68)
    assert stats["local"]["median"] == pytest.approx(0.21)
    cells = _cells(figs["summary_table"])
    row = 1 + [p.key for p in PROPERTIES].index("fault")
    colour = {c: to_hex(cells[row, i].get_facecolor())
              for i, c in enumerate(("local", "sparse", "dense"))}
    # sparse: FC 1e-4 (0.60, 0.62) and k-WTA k=8 (0.60, 0.70, 0.65), median 0.62; dense: FC
    # lambda 0 (0.80, 0.82) and k-WTA k=128 (0.66-0.68), median 0.68: 0.06 apart, within the
    # seed spread 0.10 (k-WTA k=8's seeds), so one colour although dense is higher
    assert colour["sparse"] == colour["dense"]
    # local (k-WTA k=1, 0.21) lies 0.41 below: a worse tier, never the best colour
    assert colour["local"] != colour["sparse"]
    assert colour["sparse"] == RANK_COLOURS[0] and colour["local"] == RANK_COLOURS[1]
    label = cells[row, -1].get_text().get_text()
    assert "seed spread s = 0.1 " in label and "kwta k=8" in label


def test_colour_tiers_rule():
    # within the spread: one tier, whatever the order or the direction
    assert colour_tiers({"a": 0.50, "b": 0.55, "c": 0.90}, 0.1, "higher") == \
        {"c": 0, "b": 1, "a": 1}
    assert colour_tiers({"a": 0.50, "b": 0.55, "c": 0.90}, 0.1, "lower") == \
        {"a": 0, "b": 0, "c": 1}
    # every median within the spread, a descriptive row, an unknown spread: no colour
    assert colour_tiers({"a": 0.50, "b": 0.55, "c": 0.58}, 0.1, "higher") == {}
    assert colour_tiers({"a": 0.1, "b": 0.9}, 0.1, None) == {}
    assert colour_tiers({"a": 0.1, "b": 0.9}, float("nan"), "higher") == {}
    # a zero spread (seeds agree exactly) ranks every difference
    assert colour_tiers({"a": 1.0, "b": 2.0, "c": 3.0}, 0.0, "lower") == {"a": 0, "b": 1, "c": 2}
    # whatever the medians and the spread: two cells closer than the spread share a tier
    rng = np.random.default_rng(0)
    for _ in range(500):
        med = dict(zip("abc", rng.uniform(0, 1, 3), strict=True))
        spread = float(rng.uniform(0, 0.5))
        tiers = colour_tiers(med, spread, "higher")
        for x in med:
            for y in med:
                if abs(med[x] - med[y]) <= spread:
                    assert tiers.get(x) == tiers.get(y)
                elif tiers:  # further apart than the spread, and ranked: the better is darker
                    hi, lo = (x, y) if med[x] > med[y] else (y, x)
                    assert tiers[hi] <= tiers[lo]


# --------------------------------------------------------------------------------------------
# Figures are stored results only
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_redraw_with_excluded_runs_is_byte_identical(results, tmp_path):
    svg = ("png", "svg")
    a = (draw_summary_figures(results, tmp_path / "a", formats=svg)
         + draw_battery_figures(results, tmp_path / "a", formats=svg))
    b = (draw_summary_figures(results, tmp_path / "b", formats=svg)
         + draw_battery_figures(results, tmp_path / "b", formats=svg))
    assert [p.name for p in a] == [p.name for p in b]
    for x, y in zip(a, b, strict=True):
        assert x.read_bytes() == y.read_bytes(), x.name
    # the SVG ids of the excluded runs' artists are unique (valid SVG)
    import re

    for p in a:
        if p.suffix == ".svg":
            ids = re.findall(r'id="(excluded[^"]*)"', p.read_text())
            assert len(ids) == len(set(ids)), p.name
