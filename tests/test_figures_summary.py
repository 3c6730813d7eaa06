"""The comparison figures across coding rules (neurocode.figures.summary), drawn from small
synthetic stored results: the batteries are fixtures (shapes only), not results. The theory
curves are checked against closed forms written here independently (binomial integrals,
hypergeometric counts with math.comb)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from matplotlib.colors import to_hex

from neurocode.figures.style import format_number, rule_colour, rule_marker, rule_style, run_legend
from neurocode.figures.summary import (
    PROPERTIES,
    REFERENCE_N,
    draw_summary_figures,
    false_match_at,
    summary_figures,
    table_stats,
    theory_capacity_bits,
    theory_fault_auc,
    theory_m_fraction_90,
    theory_union_false_match,
)
from neurocode.results import load_results
from neurocode.store import write_battery, write_run

STEMS = ("summary_properties", "summary_table", "detail_capacity", "detail_fault",
         "detail_interference", "detail_decoding")

# (experiment, rule, model params, run name stem, N, k, labelled, seeds, code type)
RUNS = (
    ("kofn_mnist", "kofn", {"k": 1}, "k=1", 784, 1, True, (0, 1), "local"),
    ("kwta_mnist", "kwta", {"k": 8}, "k=8", 256, 8, True, (0, 1), "sparse"),
    ("kwta_mnist", "kwta", {"k": 128}, "k=128", 256, 128, True, (0,), "dense"),
    ("article_fc", "relu-l1-fc", {"l1": 0.0001}, "l1=0.0001", 784, 4, True, (0,), "sparse"),
    ("article_fc", "relu-l1-fc", {"l1": 0.0}, "l1=0", 784, 300, True, (0,), "dense"),
    ("sailnet_patches", "sailnet", {}, "run", 256, 3, False, (0,), "sparse"),
    ("plug", "my-plugin", {"alpha": 2}, "alpha=2", 100, 1, True, (0,), "local"),
)


def _battery(N: int, k: int, labelled: bool, rng: np.random.Generator) -> dict:
    a = k / N
    loads = np.array([1.0, 3.0, 10.0, 30.0, 100.0])
    b = {
        "activity": {"avr": float(k), "n_units": float(N), "activity_ratio": a,
                     "treves_rolls": a * rng.uniform(0.8, 1.0),
                     "dead_fraction": rng.uniform(0, 0.3), "code_type": "x"},
        "willshaw": {"loads": loads, "error": np.clip(loads / 300 * rng.uniform(0.5, 1.5), 0, 1),
                     "theory_error": np.clip(loads / 400, 0, 1),
                     "bits_per_synapse_at_capacity": rng.uniform(1e-3, 0.1),
                     "tolerance": 0.1 * k / N},
        "unions": {"loads": loads, "false_match": np.clip(loads * a * rng.uniform(0.5, 1), 0, 1),
                   "theory_false_match": np.clip((loads * a) ** 2, 0, 1)},
        "_meta": {"n_stimuli": 100.0, "n_units": float(N), "readout": "none"},
    }
    if labelled:
        f = np.linspace(0, 1, 11)
        acc = 0.1 + 0.85 * (1 - f ** rng.uniform(1, 4))
        b["fault"] = {"fractions": f, "accuracy_random": acc, "accuracy_intact": 0.95,
                      "chance": 0.1, "auc_random": rng.uniform(0.4, 0.9)}
        m = np.unique(np.geomspace(1, N, 6).round())
        b["decoding"] = {"m_values": m, "accuracy": 0.1 + 0.8 * (m / N) ** 0.3,
                         "accuracy_full": 0.9, "chance": 0.1,
                         "m_fraction_90": rng.uniform(0.05, 0.9),
                         "active_synapses_mean": 10.0 * k}
        b["superposition"] = {"top2_accuracy": rng.uniform(0.05, 0.4), "chance_top2": 1 / 45}
    return b


def _write_results(root: Path, *, measured: bool = True) -> None:
    rng = np.random.default_rng(0)
    for exp, rule, params, name, N, k, labelled, seeds, _ in RUNS:
        for seed in seeds:
            run_name = f"{name},seed={seed}" if len(seeds) > 1 else name
            config = {"name": exp, "seed": seed, "model": {"rule": rule, "n_units": N, **params},
                      "data": {"dataset": "mnist"}}
            path = write_run(root / exp / f"{run_name}.h5", config=config, experiment=exp,
                             run_name=run_name, seed=seed, curves={},
                             final={"avr": float(k), "n_units": float(N), "activity_ratio": k / N})
            if measured:
                write_battery(path, _battery(N, k, labelled, rng))
    # a run that was never measured: skipped
    write_run(root / "unmeasured" / "x.h5", config={"seed": 0, "model": {"rule": "oja"}},
              experiment="unmeasured", run_name="x", seed=0, curves={},
              final={"avr": 3.0, "n_units": 16.0})


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("results")
    _write_results(root)
    return root


@pytest.fixture(scope="module")
def runs(results):
    return load_results(results, measured_only=True)


@pytest.fixture(scope="module")
def figs(runs):
    return summary_figures(runs)


def _labelled_lines(fig):
    for ax in fig.axes:
        for line in ax.lines:
            lbl = line.get_label()
            if lbl and not lbl.startswith("_"):
                yield ax, line, lbl
    for leg in fig.legends:
        for h, t in zip(leg.legend_handles, leg.get_texts(), strict=True):
            yield None, h, t.get_text()


@pytest.mark.slow
def test_draw_writes_every_file_png_and_svg(results, tmp_path):
    paths = draw_summary_figures(results, tmp_path, formats=("png", "svg"))
    names = {p.name for p in paths}
    assert names == {f"{s}.{e}" for s in STEMS for e in ("png", "svg")}
    for p in paths:
        assert p.exists() and p.stat().st_size > 1000
    assert (tmp_path / "summary_properties.png").read_bytes()[:4] == b"\x89PNG"


def test_empty_and_unmeasured_folders_give_no_figures(tmp_path):
    assert draw_summary_figures(tmp_path / "missing_or_empty", tmp_path / "out") == []
    _write_results(tmp_path / "r", measured=False)
    assert draw_summary_figures(tmp_path / "r", tmp_path / "out") == []
    assert summary_figures([]) == {}


def test_sumup_panels_log_activity_axis_and_labels(figs):
    fig = figs["summary_properties"]
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert len(panels) == len(PROPERTIES)
    for ax in panels:
        assert ax.get_xscale() == "log"
        assert "activity ratio" in ax.get_xlabel()
        assert ax.get_ylabel()
    # the properties the brief names, one panel each
    titles = " ".join(ax.get_title() for ax in panels)
    for word in ("capacity", "fault", "interference", "decoding", "energy", "activity"):
        assert word in titles


def test_legends_name_rule_and_parameter(figs):
    texts = [t.get_text() for t in figs["summary_properties"].legends[0].get_texts()]
    assert "kwta k=8 (2 seeds)" in texts
    assert "kofn k=1 (2 seeds)" in texts
    assert texts.index("relu-l1-fc λ=0") > texts.index("relu-l1-fc λ=1e-4")  # by activity
    assert "relu-l1-fc λ=1e-4" in texts and "relu-l1-fc λ=0" in texts
    assert "sailnet" in texts and "my-plugin alpha=2" in texts
    for stem in STEMS[2:]:
        labels = {lbl for _, _, lbl in _labelled_lines(figs[stem])}
        assert "kwta k=8 (2 seeds)" in labels


def test_each_rule_has_one_colour_and_marker_in_every_figure(figs):
    rules = sorted({r[1] for r in RUNS}, key=len, reverse=True)
    seen: dict[str, set] = {}
    for _stem, fig in figs.items():
        for _, line, lbl in _labelled_lines(fig):
            rule = next((r for r in rules if lbl.startswith(r + " ") or lbl == r), None)
            if rule is None:
                continue
            seen.setdefault(rule, set()).add((to_hex(line.get_color()), line.get_marker()))
    assert set(seen) == set(rules)
    for rule, styles in seen.items():
        assert styles == {(to_hex(rule_colour(rule)), rule_marker(rule))}, rule


def test_seed_groups_plot_the_mean(figs, runs):
    ax = next(a for a in figs["summary_properties"].axes if a.get_title().startswith("fault"))
    line = next(ln for ln in ax.lines if ln.get_label() == "kwta k=8 (2 seeds)")
    members = [r for r in runs if r.rule == "kwta" and r.param("model.k") == 8]
    assert len(members) == 2
    np.testing.assert_allclose(line.get_xdata(), [np.mean([r.activity_ratio for r in members])])
    np.testing.assert_allclose(line.get_ydata(), [np.mean([r.get("fault.auc_random") for r in members])])
    assert len(ax.collections) > 0  # error bars


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def test_table_cells_equal_group_statistics(figs, runs):
    expected_type = {}
    for _exp, rule, _params, _name, _N, k, _labelled, _seeds, ctype in RUNS:
        expected_type[(rule, k)] = ctype
    keys = {"capacity": "willshaw.bits_per_synapse_at_capacity", "fault": "fault.auc_random",
            "decoding": "decoding.m_fraction_90", "energy": "decoding.active_synapses_mean",
            "dead": "activity.dead_fraction", "top2": "superposition.top2_accuracy"}
    stats = table_stats(runs)
    table = figs["summary_table"].axes[0].tables[0]
    cells = table.get_celld()
    row_of = {p.key: i + 1 for i, p in enumerate(PROPERTIES)}
    for key, dotted in keys.items():
        for col, ctype in enumerate(("local", "sparse", "dense")):
            v = np.array([r.get(dotted) for r in runs
                          if expected_type[(r.rule, int(r.avr))] == ctype], float)
            v = v[np.isfinite(v)]
            text = cells[row_of[key], col].get_text().get_text()
            if v.size == 0:
                assert text == "no data"
                continue
            s = stats[key][ctype]
            assert s["n"] == v.size
            assert s["median"] == pytest.approx(np.median(v))
            assert text == f"{_fmt(np.median(v))}\n[{_fmt(v.min())} – {_fmt(v.max())}], n = {v.size}"
    # fault row: the seeds of one configuration (kofn k=1, kwta k=8) spread its AUC wider than
    # the medians of the code types differ, so no colour ranks them
    spread = max(np.ptp([r.get("fault.auc_random") for r in runs
                         if r.rule == rule and r.param("model.k") == k]) for rule, k in
                 (("kofn", 1), ("kwta", 8)))
    fault = {c: np.median([r.get("fault.auc_random") for r in runs
                           if r.measured and "fault" in r.battery
                           and expected_type[(r.rule, int(r.avr))] == c]) for c in ("local", "sparse", "dense")}
    assert max(fault.values()) - min(fault.values()) <= spread
    for col in range(3):
        assert to_hex(cells[row_of["fault"], col].get_facecolor()) == "#ffffff"
    # energy row: every configuration's seeds agree (k C synapses), so the medians rank:
    # lower is better, darkest colour on the lowest median
    energy = {c: stats["energy"][c]["median"] for c in ("local", "sparse", "dense")}
    best = min(energy, key=energy.get)
    best_cell = cells[row_of["energy"], ("local", "sparse", "dense").index(best)]
    assert to_hex(best_cell.get_facecolor()) == "#2c7fb8"


def test_theory_fault_auc_is_the_binomial_integral():
    ks = np.array([1, 2, 5, 10, 50])
    np.testing.assert_allclose(theory_fault_auc(ks, 1), ks / (ks + 1), atol=1e-5)
    np.testing.assert_allclose(theory_fault_auc(ks, ks), 1 / (ks + 1), atol=1e-5)
    np.testing.assert_allclose(theory_fault_auc([10], [4]), [(10 - 4 + 1) / 11], atol=1e-5)


def test_theory_decoding_is_the_hypergeometric_catch_probability():
    N = 50
    for k in (1, 3, 10, 25):
        catch = [1 - math.comb(N - k, m) / math.comb(N, m) for m in range(1, N + 1)]
        m90 = next(m for m, p in zip(range(1, N + 1), catch, strict=True) if p >= 0.9)
        assert theory_m_fraction_90([k], N)[0] == pytest.approx(m90 / N)
    assert theory_m_fraction_90([1], 784)[0] == pytest.approx(math.ceil(0.9 * 784) / 784)


def test_theory_unions_is_ahmad_hawkins_full_match():
    # one stored code (M = 1): the union is that code, s = k; a full match is C(k,k)/C(N,k)
    assert theory_union_false_match([3], M=1, N=20)[0] == pytest.approx(1 / math.comb(20, 3), rel=1e-6)
    # a local code: the union of M codes holds s = N (1 - (1 - 1/N)^M) units; P = s / N
    s = 100 * (1 - (1 - 1 / 100) ** 10)
    lo, hi = math.floor(s), math.ceil(s)
    expect = (lo + (s - lo) * (hi - lo)) / 100  # C(s,1)/C(N,1), linear between integers
    assert theory_union_false_match([1], M=10, N=100)[0] == pytest.approx(expect, rel=1e-6)


def test_theory_capacity_peaks_in_the_sparse_band():
    k = np.unique(np.geomspace(2, REFERENCE_N / 2, 40).round())
    bits = theory_capacity_bits(k)
    a_peak = k[np.nanargmax(bits)] / REFERENCE_N
    assert 1.5 / REFERENCE_N < a_peak < 0.11


def test_drawn_theory_curves_match_closed_forms(figs):
    axes = {ax.get_title().split(" (")[0]: ax for ax in figs["summary_properties"].axes}
    fault = next(ln for ln in axes["fault tolerance"].lines if ln.get_label().startswith("random"))
    k = np.rint(fault.get_xdata() * REFERENCE_N)
    np.testing.assert_allclose(fault.get_ydata(), k / (k + 1), atol=1e-5)
    energy = next(ln for ln in axes["computation / energy"].lines
                  if ln.get_label().startswith("k·C, N = 784"))
    np.testing.assert_allclose(energy.get_ydata(), energy.get_xdata() * 784 * 10)
    tr = next(ln for ln in axes["activity: population sparseness"].lines
              if ln.get_label().startswith("random"))
    np.testing.assert_allclose(tr.get_ydata(), tr.get_xdata())


def test_property_nobody_measured_draws_an_empty_panel(runs):
    only = [r for r in runs if r.rule == "sailnet"]  # unlabelled: no fault, no decoding
    figs = summary_figures(only)
    ax = next(a for a in figs["summary_properties"].axes if a.get_title().startswith("fault"))
    assert any("no measured run" in t.get_text() for t in ax.texts)
    dec = figs["detail_decoding"]
    assert any("no" in t.get_text() and "decoding" in t.get_text() for a in dec.axes for t in a.texts)


def test_false_match_at_interpolates_in_log_load(runs):
    r = next(r for r in runs if r.rule == "kofn")
    loads, fm = r.get("unions.loads"), r.get("unions.false_match")
    assert false_match_at(r, 10) == pytest.approx(fm[list(loads).index(10.0)])
    mid = math.sqrt(3 * 10)
    assert false_match_at(r, mid) == pytest.approx((fm[1] + fm[2]) / 2)
    assert math.isnan(false_match_at(r, 1e6))  # past the curve, not saturated


def test_style_labels_and_fallback():
    assert run_legend("relu-l1-fc", "l1=0.0001") == "relu-l1-fc λ=1e-4"
    assert run_legend("kwta", "k=8,seed=3") == "kwta k=8"
    assert run_legend("lca", "run", {"lam": 0.5}) == "lca λ=0.5"
    assert run_legend("sailnet", "run") == "sailnet"
    assert format_number(2.7e-3) == "2.7e-3" and format_number(128) == "128"
    assert rule_style("some-plugin") == rule_style("some-plugin")
    builtin = ("relu-l1-fc", "relu-l1-cnn", "relu-l1-conv-ae", "kofn", "kwta", "lca", "foldiak",
               "oja", "sanger", "diehl-cook", "sailnet", "hopfield", "willshaw")
    assert len({rule_style(r) for r in builtin}) == len(builtin)
    assert len({rule_colour(r) for r in builtin}) == len(builtin)


def test_fully_active_and_silent_codes_fit_the_activity_axis(tmp_path):
    # a signed linear code (Oja: every unit nonzero, a = 1) stays inside the axis; a silent
    # code (a = 0) has no place on a log axis and must not break its limits
    rng = np.random.default_rng(1)
    for name, k in (("dense_all", 16), ("silent", 0), ("sparse", 2)):
        config = {"name": "lin", "seed": 0, "model": {"rule": "oja", "n_units": 16},
                  "data": {"dataset": "mnist"}}
        path = write_run(tmp_path / "lin" / f"{name}.h5", config=config, experiment="lin",
                         run_name=name, seed=0, curves={},
                         final={"avr": float(k), "n_units": 16.0, "activity_ratio": k / 16})
        write_battery(path, _battery(16, max(k, 1), True, rng) | {
            "activity": {"avr": float(k), "n_units": 16.0, "activity_ratio": k / 16,
                         "treves_rolls": k / 16, "dead_fraction": 0.0}})
    fig = summary_figures(load_results(tmp_path, measured_only=True))["summary_properties"]
    for ax in fig.axes:
        if ax.get_xscale() != "log":
            continue
        lo, hi = ax.get_xlim()
        assert 0 < lo < 2 / 16 and hi >= 1.0


@pytest.mark.slow
def test_deleting_figures_and_drawing_again_reproduces_them(results, tmp_path):
    # figures come from stored results only: the same results give the same files, byte for byte
    from neurocode.figures import draw_all

    first = draw_all(results, tmp_path / "a", theory=False, formats=("png", "svg"))
    second = draw_all(results, tmp_path / "b", theory=False, formats=("png", "svg"))
    assert [p.name for p in first] == [p.name for p in second]
    assert {p.stem for p in first} >= set(STEMS)
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
