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


def _run(n_e, epochs, seed, acc, wall=60.0):
    cfg = {"model": {"rule": "diehl-cook", "n_e": n_e}, "train": {"epochs": epochs},
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
    assert rows[0].startswith("| 100 | 1 | 3 | 70.3 ± 1.5 (69.0-72.0) | 82.9 |")
    assert "| 400 | 1 | 3 |" in rows[2] and f"| {100 * PAPER_ACCURACY[400]:.1f} |" in rows[2]
    assert "1.0 min" in rows[0]


def test_the_figure_has_a_line_per_training_length_and_the_paper():
    fig = size_figure(_runs())
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["1 pass (mean of seeds)", "3 passes (mean of seeds)",
                      "Diehl & Cook (2015)"]
    with pytest.raises(ValueError, match="diehl_cook_sizes.yaml"):
        size_figure([])
