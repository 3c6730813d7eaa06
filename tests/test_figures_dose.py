"""The dose-response figures (neurocode.figures.dose) and the legend order of the other
figures, drawn from small synthetic stored results: the batteries are fixtures (shapes
only), not results.

The results hold four families at two code widths (k-WTA at N = 256 with k = 1, 4, 16, 64,
128 and three seeds; the FC net at N = 784 with three lambdas and two seeds, plus one run
that did not learn; k-WTA at N = 784, one seed), and the random k-of-N null at both widths.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import to_rgb

from neurocode import stats
from neurocode.design import families
from neurocode.figures.dose import (
    DOSE_PROPERTIES,
    dose_figures,
    draw_dose_figures,
    family_gid,
    level_interval,
    level_values,
)
from neurocode.figures.style import rule_colour, sort_by_value, value_sort_key
from neurocode.results import load_results
from neurocode.store import write_battery, write_run

KS_256 = (128, 16, 1, 64, 4)        # written in no particular order
KS_784_NULL = (64, 1, 8)
LAMBDAS = (0.0, 1e-4, 1e-3)
PRESENT = {"dose_fault", "dose_interference", "dose_willshaw", "dose_hopfield",
           "dose_redundancy", "dose_dead"}


def _battery(N: int, k: float, seed: int, *, hopfield: bool = True) -> dict:
    a = k / N
    jitter = 0.01 * (seed - 1)
    f, loads = np.linspace(0, 1, 5), np.array([1.0, 3.0, 10.0])
    b = {
        "activity": {"avr": float(k), "n_units": float(N), "activity_ratio": a,
                     "dead_fraction": max(0.0, 0.5 - 4 * a) + abs(jitter), "code_type": "x"},
        "fault": {"auc_random": 0.5 + 0.4 * a ** 0.3 + jitter, "chance": 0.1,
                  "accuracy_intact": 0.9, "fractions": f, "accuracy_random": 0.9 - 0.8 * f},
        "superposition": {"top2_accuracy": 0.05 + 0.3 * a ** 0.5 + jitter},
        "willshaw": {"bits_per_synapse_at_capacity": 0.1 * a * (1 - a) * 4 + jitter / 10,
                     "loads": loads, "error": loads / 100, "tolerance": 0.1 * a},
        "decoding": {"m_fraction_90": 0.8 - 0.5 * a ** 0.3 + jitter, "chance": 0.1,
                     "m_values": loads, "accuracy": 0.1 + loads / 20},
    }
    if hopfield:
        b["hopfield"] = {"capacity_per_unit": 0.01 + 0.2 * a + jitter / 10}
    return b


def _run(root: Path, exp: str, rule: str, N: int, params: dict, k: float, seed: int, *,
         accuracy: float | None = None) -> None:
    name = ",".join(f"{p}={v}" for p, v in params.items()) + f",seed={seed}"
    config = {"name": exp, "seed": seed, "model": {"rule": rule, "n_units": N, **params},
              "data": {"dataset": "mnist"}}
    final = {"avr": float(k), "n_units": float(N), "activity_ratio": k / N}
    if accuracy is not None:
        final["accuracy"] = accuracy
    path = write_run(root / exp / f"{name}.h5", config=config, experiment=exp, run_name=name,
                     seed=seed, curves={}, final=final)
    write_battery(path, _battery(N, k, seed))


def _write_results(root: Path) -> None:
    for k in KS_256:
        for seed in range(3):
            _run(root, "kwta_mnist", "kwta", 256, {"k": k}, k, seed)
            _run(root, "kofn_mnist_256", "kofn", 256, {"k": k}, k, seed)
    for k in KS_784_NULL:
        for seed in range(3):
            _run(root, "kofn_mnist", "kofn", 784, {"k": k}, k, seed)
    for lam, avr in zip(LAMBDAS, (300.0, 12.0, 3.0), strict=True):
        for seed in range(2):
            _run(root, "article_fc", "relu-l1-fc", 784, {"l1": lam}, avr * (1 + 0.05 * seed),
                 seed, accuracy=0.97)
    _run(root, "article_fc", "relu-l1-fc", 784, {"l1": 0.005}, 0.4, 0, accuracy=0.2)
    for k in (4, 32):
        _run(root, "kwta_784", "kwta", 784, {"k": k}, k, 0)


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("dose_results")
    _write_results(root)
    return root


@pytest.fixture(scope="module")
def runs(results):
    return load_results(results)


@pytest.fixture(scope="module")
def figs(runs):
    return dose_figures(runs)


@pytest.fixture(scope="module")
def fams(runs):
    return {f.experiment: f for f in families(runs)}


def _family_lines(fig):
    (ax,) = fig.axes
    return {ln.get_gid(): ln for ln in ax.lines if (ln.get_gid() or "").startswith("family-")
            and not ln.get_gid().endswith(("-cap", "-band", "-bootstrap", "-minmax"))}


def _legend_texts(fig):
    (legend,) = fig.legends
    return [t.get_text() for t in legend.get_texts()]


@pytest.mark.slow
def test_each_present_property_is_drawn_and_an_absent_one_is_not(figs, results, tmp_path):
    assert set(figs) == PRESENT          # no run has decoding.support_fraction: no figure
    for _stem, fig in figs.items():
        (ax,) = fig.axes
        assert ax.get_xscale() == "log" and "activity ratio" in ax.get_xlabel()
        assert ax.get_ylabel()
    paths = draw_dose_figures(results, tmp_path, formats=("png", "svg"))
    assert {p.name for p in paths} == {f"{s}.{e}" for s in PRESENT for e in ("png", "svg")}
    assert all(p.stat().st_size > 1000 for p in paths)
    # a property only some runs lack is still drawn; one that no run has is not
    one = [r for r in load_results(results) if r.experiment == "kwta_mnist"]
    for r in one:
        r.battery.pop("hopfield")
    assert "dose_hopfield" not in dose_figures(one)
    assert dose_figures([]) == {}


def test_one_line_per_family_through_its_level_means(figs, fams):
    prop = {p.stem: p for p in DOSE_PROPERTIES}
    for stem, fig in figs.items():
        lines = _family_lines(fig)
        assert set(lines) == {family_gid(f) for f in fams.values()}, stem
        for fam in fams.values():
            line = lines[family_gid(fam)]
            x = [lv.activity for lv in fam.levels]
            y = [np.mean([prop[stem].value(r) for r in lv.runs]) for lv in fam.levels]
            np.testing.assert_allclose(line.get_xdata(), x)
            np.testing.assert_allclose(line.get_ydata(), y)
            # the line's points are the family's levels only: one N, never two
            assert np.all(np.diff(line.get_xdata()) > 0)


def test_families_of_different_n_are_never_joined(figs, fams, runs):
    n_of = {}                                  # activity ratio -> the widths of runs there
    for r in runs:
        n_of.setdefault(round(float(r.activity_ratio), 9), set()).add(int(r.n_units))
    for fig in figs.values():
        lines = _family_lines(fig)
        for fam in fams.values():
            line = lines[family_gid(fam)]
            members = [r for lv in fam.levels for r in lv.runs]
            assert {int(r.n_units) for r in members} == {fam.n_units}
            for lv, x in zip(fam.levels, line.get_xdata(), strict=True):
                assert {int(r.n_units) for r in lv.runs} == {fam.n_units}
                assert x == pytest.approx(np.mean([r.activity_ratio for r in lv.runs]))
        # k-WTA at N = 256 and at N = 784: one colour and marker (the rule), two lines,
        # two line styles
        a, b = lines[family_gid(fams["kwta_mnist"])], lines[family_gid(fams["kwta_784"])]
        assert a.get_color() == b.get_color() and a.get_marker() == b.get_marker()
        assert a.get_linestyle() != b.get_linestyle()
        assert len(a.get_xdata()) == 5 and len(b.get_xdata()) == 2


def _segments(fig, gid):
    (ax,) = fig.axes
    cols = [c for c in ax.collections if isinstance(c, LineCollection) and c.get_gid() == gid]
    assert len(cols) == 1, gid
    return sorted((float(s[0][0]), float(min(s[0][1], s[1][1])), float(max(s[0][1], s[1][1])))
                  for s in cols[0].get_segments())


def test_error_bars_are_bootstrap_intervals_or_min_max(figs, fams):
    fig = figs["dose_fault"]
    kw = fams["kwta_mnist"]                      # three seeds: bootstrap of the level mean
    got = _segments(fig, family_gid(kw) + "-bootstrap")
    want = []
    for lv in kw.levels:
        v = [r.get("fault.auc_random") for r in lv.runs]
        iv = stats.mean_interval(v, random_state=0)
        want.append((lv.activity, iv.low, iv.high))
        assert level_interval(v)[3] == "bootstrap"
    np.testing.assert_allclose(got, sorted(want))
    fc = fams["article_fc"]                      # two seeds: min-max, dotted
    got = _segments(fig, family_gid(fc) + "-minmax")
    want = sorted((lv.activity, min(r.get("fault.auc_random") for r in lv.runs),
                   max(r.get("fault.auc_random") for r in lv.runs)) for lv in fc.levels)
    np.testing.assert_allclose(got, want)
    (ax,) = fig.axes
    dotted = next(c for c in ax.collections if c.get_gid() == family_gid(fc) + "-minmax")
    assert dotted.get_linestyle()[0][1] is not None          # dashed pattern, not solid
    # one seed: no bar at all; the caption says which bars are which
    assert not [c for c in ax.collections if (c.get_gid() or "").startswith(
        family_gid(fams["kwta_784"]) + "-")]
    caption = fig._supxlabel.get_text()
    assert "95 % bootstrap interval" in caption and "min-max" in caption


def test_null_of_each_n_is_a_grey_band_of_its_level_intervals(figs, fams):
    fig = figs["dose_interference"]
    (ax,) = fig.axes
    bands = {c.get_gid(): c for c in ax.collections if isinstance(c, PolyCollection)
             and (c.get_gid() or "").endswith("-band")}
    nulls = [fams["kofn_mnist_256"], fams["kofn_mnist"]]
    assert set(bands) == {family_gid(f) + "-band" for f in nulls}   # learned codes: no band
    for fam in nulls:
        band = bands[family_gid(fam) + "-band"]
        r, g, b = band.get_facecolor()[0][:3]
        assert r == pytest.approx(g) == pytest.approx(b)             # grey
        verts = band.get_paths()[0].vertices
        for lv in fam.levels:
            m, lo, hi, _ = level_interval([1 - r.get("superposition.top2_accuracy")
                                           for r in lv.runs])
            at = verts[np.isclose(verts[:, 0], lv.activity)][:, 1]
            assert at.min() == pytest.approx(lo) and at.max() == pytest.approx(hi)
    # the two widths' bands have different edge styles, as their lines
    ls = {repr(band.get_linestyle()[0]) for band in bands.values()}
    assert len(ls) == 2


def test_excluded_run_is_a_hollow_grey_cross_and_nowhere_else(figs, fams, runs):
    (bad,) = [r for r in runs if r.param("model.l1") == 0.005]
    assert [r for r, _ in fams["article_fc"].excluded] == [bad]
    for _stem, fig in figs.items():
        (ax,) = fig.axes
        (cross,) = [ln for ln in ax.lines if ln.get_gid() == "excluded"]
        assert cross.get_marker() == "X" and cross.get_markerfacecolor() == "none"
        r, g, b = to_rgb(cross.get_markeredgecolor())
        assert r == g == b
        assert list(cross.get_xdata()) == pytest.approx([bad.activity_ratio])
        # in no family's line, no per-run legend entry
        for line in _family_lines(fig).values():
            assert not np.any(np.isclose(line.get_xdata(), bad.activity_ratio))
        texts = _legend_texts(fig)
        assert sum("excluded" in t for t in texts) == 1
        assert not any("0.005" in t or "5e-3" in t for t in texts)


def test_legend_one_entry_per_family_in_order_by_value(figs, fams):
    texts = _legend_texts(figs["dose_fault"])
    assert len(texts) == len(fams) + 1                    # + the excluded runs' entry
    heads = [t.splitlines()[0] for t in texts]
    assert heads == ["random k-of-N null, N = 256 (kofn_mnist_256)",
                     "random k-of-N null, N = 784 (kofn_mnist)",
                     "relu-l1-fc, N = 784 (article_fc)",
                     "kwta, N = 256 (kwta_mnist)",
                     "kwta, N = 784 (kwta_784)",
                     heads[-1]]
    kw = next(t for t in texts if t.startswith("kwta, N = 256"))
    assert "k = 1, 4, 16, 64, 128" in kw and "5 levels x 3 seeds" in kw
    fc = next(t for t in texts if t.startswith("relu-l1-fc"))
    assert "λ = 0, 1e-4, 1e-3" in fc and "2 seeds" in fc
    null = next(t for t in texts if "N = 784 (kofn_mnist)" in t)
    assert "k = 1, 8, 64" in null


def test_level_values_and_labels_sort_by_value_not_as_text(fams):
    labels = ["k=128", "k=16", "k=1", "k=64", "k=4"]
    assert sorted(labels) == ["k=1", "k=128", "k=16", "k=4", "k=64"]       # text: wrong
    assert sort_by_value(labels) == ["k=1", "k=4", "k=16", "k=64", "k=128"]
    assert sort_by_value(["l1=0.001", "l1=5e-05", "l1=0", "l1=0.0001"]) == \
        ["l1=0", "l1=5e-05", "l1=0.0001", "l1=0.001"]
    assert sort_by_value(["relu-l1-fc λ=1e-3", "relu-l1-fc λ=1e-4"]) == \
        ["relu-l1-fc λ=1e-4", "relu-l1-fc λ=1e-3"]
    assert value_sort_key("k=2,seed=10") > value_sort_key("k=2,seed=9")
    assert level_values(fams["kwta_mnist"]) == "k = 1, 4, 16, 64, 128"


@pytest.mark.slow
def test_battery_legend_one_entry_per_configuration_by_value(results):
    from neurocode.figures.battery import battery_figures

    figs = battery_figures(results)
    (legend,) = figs["kwta_mnist_battery"].legends
    texts = [t.get_text() for t in legend.get_texts()]
    assert [t.split()[0] for t in texts] == ["k=1", "k=4", "k=16", "k=64", "k=128"]
    assert all("3 seeds" in t for t in texts)
    # the seeds of one configuration share its colour
    colours = [h.get_color() for h in legend.legend_handles]
    assert len(set(colours)) == 5


def test_summary_groups_families_and_never_joins_two_n(runs, fams):
    from neurocode.figures.summary import summary_figures

    fig = summary_figures(runs)["summary_properties"]
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    kofn = [t for t in texts if t.startswith("kofn ")]
    # the null at N = 256, then at N = 784, each in order of k (never interleaved)
    assert kofn == [f"kofn k={k}, N=256 (3 seeds)" for k in (1, 4, 16, 64, 128)] + \
        [f"kofn k={k}, N=784 (3 seeds)" for k in (1, 8, 64)]
    # the thin lines join configurations: each joins those of one code width only
    ax = next(a for a in fig.axes if a.get_title().startswith("fault"))
    rules = {to_rgb(rule_colour(r.rule)): r.rule for r in runs}
    joined = 0
    for line in ax.lines:
        rule = rules.get(to_rgb(line.get_color()))
        if line.get_linewidth() != 0.7 or len(line.get_xdata()) < 2 or rule is None:
            continue
        widths = set()
        for x in line.get_xdata():
            widths |= {int(r.n_units) for r in runs if r.rule == rule
                       and abs(np.log(r.activity_ratio / x)) < 0.1}
        assert len(widths) == 1, (rule, widths)
        joined += 1
    assert joined == len(fams)                 # one per family (every family has >= 2 levels)


@pytest.mark.slow
def test_redraw_is_byte_identical(results, tmp_path):
    a = draw_dose_figures(results, tmp_path / "a")
    b = draw_dose_figures(results, tmp_path / "b")
    assert [p.name for p in a] == [p.name for p in b]
    for x, y in zip(a, b, strict=True):
        assert x.read_bytes() == y.read_bytes(), x.name


def test_module_examples():
    import doctest

    from neurocode.figures import dose, style

    assert doctest.testmod(style, raise_on_error=False).failed == 0
    assert doctest.testmod(dose, raise_on_error=False).failed == 0


def test_tradeoff_labels_each_lambda_once_whatever_its_seeds(results):
    from neurocode.figures.article import make_figures

    ax = make_figures(results)["article_fc_tradeoff"].axes[0]
    labels = [t.get_text() for t in ax.texts]
    for lam in ("0", "1e-04", "1e-03"):                  # two seeds each: one label
        assert labels.count(f"λ={lam}") == 1, labels
    assert "2 seeds per λ" in ax.get_title()
