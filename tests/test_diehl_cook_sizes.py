"""The Diehl & Cook size table and figure (models/diehl_cook/sizes.py) on constructed runs:
cells grouped by (neurons, passes), the seeds' mean and spread against numpy's, the paper's
numbers beside them, and a clear refusal when no run fits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neurocode.models.diehl_cook.sizes import (
    PAPER_ACCURACY,
    size_figure,
    size_table,
    size_table_markdown,
)
from neurocode.results import RunResult


def _run(n_e, epochs, seed, acc, wall=60.0, **model):
    cfg = {"model": {"rule": "diehl-cook", "n_e": n_e, **model}, "train": {"epochs": epochs},
           "seed": seed}
    return RunResult(Path(f"/x/{n_e}-{epochs}-{seed}.h5"), "diehl_cook_sizes",
                     f"n_e={n_e},epochs={epochs},seed={seed}", cfg,
                     {"accuracy": acc, "spikes_per_sample": 10.0 + seed}, {},
                     attrs={"wall_time_s": wall})


ACC = {(400, 1): [0.80, 0.83, 0.81], (100, 1): [0.70, 0.72, 0.69], (100, 3): [0.78, 0.79]}


def _runs():
    return [_run(n, e, s, a) for (n, e), accs in ACC.items() for s, a in enumerate(accs)]


def test_cells_are_grouped_sorted_and_their_spread_is_numpys():
    cells = size_table(_runs() + [_run(1600, 1, 0, float("nan"))])  # NaN accuracy: left out
    assert [(c.n_e, c.epochs) for c in cells] == [(100, 1), (100, 3), (400, 1)]
    for c in cells:
        accs = ACC[(c.n_e, c.epochs)]
        assert c.seeds == tuple(range(len(accs)))
        assert c.mean == pytest.approx(np.mean(accs))
        assert c.sd == pytest.approx(np.std(accs, ddof=1))
    one = size_table([_run(100, 1, 0, 0.7)])[0]
    assert np.isnan(one.sd)


def test_the_markdown_table_sets_the_papers_number_beside_each_size():
    md = size_table_markdown(size_table(_runs()))
    rows = md.splitlines()[2:]
    assert len(rows) == 3
    assert rows[0].startswith("| 100 | 1 | - | 3 | 70.3 ± 1.5 (69.0-72.0) | 82.9 |")
    assert "| 400 | 1 | - | 3 |" in rows[2] and f"| {100 * PAPER_ACCURACY[400]:.1f} |" in rows[2]
    assert "1.0 min" in rows[0]


def test_the_figure_has_a_line_per_training_length_and_the_paper():
    fig = size_figure(_runs())
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["1 pass (mean of seeds)", "3 passes (mean of seeds)",
                      "Diehl & Cook (2015)"]
    with pytest.raises(ValueError, match="diehl_cook_sizes.yaml"):
        size_figure([])


def test_the_rule_draws_its_size_figure_only_when_the_runs_vary_in_size_or_passes():
    from neurocode.models.diehl_cook import DiehlCook

    assert set(DiehlCook.figures(_runs())) == {"sizes"}
    assert DiehlCook.figures([_run(100, 1, s, 0.7) for s in range(3)]) == {}   # one cell


def test_neurocode_figures_saves_what_a_rule_draws_of_its_own(tmp_path, monkeypatch):
    """draw_rule_figures hands each experiment's runs to the rule's class and saves what it
    returns as <experiment>_<stem>; a rule whose figures fail is named in a warning and the
    others are still drawn."""
    from neurocode.figures import rule_figures
    from neurocode.models.diehl_cook import DiehlCook
    from neurocode.results import Results

    runs = _runs()
    monkeypatch.setattr("neurocode.results.load_results", lambda d: Results(runs))
    paths = rule_figures.draw_rule_figures(tmp_path / "r", tmp_path / "figs")
    assert [p.name for p in paths] == ["diehl_cook_sizes_sizes.png"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    def broken(cls, runs):
        raise RuntimeError("boom")

    monkeypatch.setattr(DiehlCook, "figures", classmethod(broken))
    with pytest.warns(UserWarning, match="'diehl-cook' could not draw its own figures of "
                                         "diehl_cook_sizes: RuntimeError: boom"):
        assert rule_figures.draw_rule_figures(tmp_path / "r", tmp_path / "f2") == []


def test_runs_of_another_setting_are_a_variant_of_their_own_never_pooled():
    """The option is unset in the plain runs (as a stored run omits an unset option) and set in
    two others: those two are a cell of their own, the plain cells are unchanged."""
    runs = _runs() + [_run(100, 1, s, a, refractoriness="brian1")
                      for s, a in enumerate([0.76, 0.75])]
    cells = size_table(runs)
    plain = [c for c in cells if c.variant == ""]
    assert [(c.n_e, c.epochs) for c in plain] == [(100, 1), (100, 3), (400, 1)]
    assert plain[0].accuracies == tuple(ACC[(100, 1)])
    (b1,) = [c for c in cells if c.variant]
    assert b1.variant == "refractoriness=brian1" and b1.accuracies == (0.76, 0.75)
    labels = [t.get_text() for t in size_figure(runs).axes[0].get_legend().get_texts()]
    assert "1 pass, refractoriness=brian1 (mean of seeds)" in labels
