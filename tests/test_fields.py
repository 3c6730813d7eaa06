"""Receptive-field localisation (neurocode.metrics.fields) and the field grid figure."""

import doctest

import numpy as np
import pytest

from neurocode.figures import fields as fields_fig
from neurocode.figures.article import save_figures
from neurocode.figures.fields import field_grid, field_mosaic
from neurocode.metrics import fields as fields_metric
from neurocode.metrics.fields import localisation_index, spatial_spread


def test_spread_of_a_gaussian_blob_is_two_sigma_squared():
    """q = exp(-r^2 / (4 s^2)) has energy q^2 ~ exp(-r^2 / (2 s^2)), a Gaussian of variance s^2
    per axis: spread 2 s^2 (well inside the image, so the grid sum equals the integral)."""
    n, s = 41, 2.5
    yy, xx = np.mgrid[:n, :n] - 20.0
    q = np.exp(-(xx ** 2 + yy ** 2) / (4 * s ** 2))
    assert spatial_spread(q.ravel(), (n, n))[0] == pytest.approx(2 * s ** 2, rel=1e-6)


def test_uniform_field_spread_and_index():
    h, w = 16, 12
    uniform = (h * h - 1) / 12 + (w * w - 1) / 12  # variance of a discrete uniform, per axis
    assert spatial_spread(np.ones(h * w), (h, w))[0] == pytest.approx(uniform)
    block = np.zeros((3, h, w))
    block[:, 6:8, 4:6] = 1.0  # spread 0.5 against about 30 when shuffled
    assert (localisation_index(block.reshape(3, -1), (h, w)) > 0.97).all()
    point = np.zeros(h * w)
    point[5] = 1.0
    assert spatial_spread(point, (h, w))[0] == 0.0
    assert np.isnan(localisation_index(point, (h, w))[0])  # a shuffled point is still a point
    noise = np.random.default_rng(0).standard_normal((200, h * w))
    assert abs(np.median(localisation_index(noise, (h, w)))) < 0.05
    assert np.isnan(spatial_spread(np.zeros(h * w), (h, w))[0])


def test_bad_weights_are_refused():
    with pytest.raises(ValueError, match="image_shape"):
        spatial_spread(np.ones((2, 10)), (3, 3))
    with pytest.raises(ValueError, match="NaN"):
        localisation_index(np.full((2, 9), np.nan), (3, 3))
    with pytest.raises(ValueError, match="image_shape"):
        field_grid(np.ones((2, 10)), (3, 3))
    with pytest.raises(ValueError, match="n_max"):
        field_mosaic(np.ones((2, 9)), (3, 3), n_max=0)


def test_mosaic_layout():
    W = np.arange(5 * 6, dtype=float).reshape(5, 6) + 1
    m = field_mosaic(W, (2, 3), cols=2)
    assert m.shape == (3 * 3 + 1, 2 * 4 + 1)
    np.testing.assert_allclose(m[1:3, 1:4], (W[0] / W[0].max()).reshape(2, 3))
    assert np.isnan(m[0]).all() and np.isnan(m[-3:-1, 5:8]).all()  # gaps and the empty slot
    m2 = field_mosaic(W, (2, 3), order=[4, 0], n_max=1)
    np.testing.assert_allclose(m2[1:3, 1:4], (W[4] / W[4].max()).reshape(2, 3))


def test_field_grid_writes_files(tmp_path):
    W = np.random.default_rng(0).standard_normal((70, 64))
    fig = field_grid(W, (8, 8), n_max=64, title="random fields")
    written = save_figures({"fields": fig}, tmp_path, formats=("png", "svg"))
    assert sorted(p.name for p in written) == ["fields.png", "fields.svg"]
    assert all(p.stat().st_size > 1000 for p in written)
    assert (tmp_path / "fields.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_docstring_examples():
    assert doctest.testmod(fields_metric, raise_on_error=False).failed == 0
    assert doctest.testmod(fields_fig, raise_on_error=False).failed == 0


def test_fields_drawn_once_per_configuration_lowest_seed(tmp_path):
    import yaml

    from neurocode.cli import main
    from neurocode.figures.fields import fields_figures

    cfg = tmp_path / "bars.yaml"
    cfg.write_text(yaml.safe_dump({
        "name": "bars_fields", "model": {"rule": "foldiak", "n_units": 4},
        "data": {"dataset": "bars", "n_train": 100, "n_test": 20},
        "sweep": {"seed": [2, 1], "model.n_units": [4, 8]}}))
    assert main(["run", str(cfg), "--out", str(tmp_path / "out"), "--workers", "1"]) == 0
    figs = fields_figures(tmp_path / "out")
    assert sorted(figs) == ["bars_fields_n_units=4_fields", "bars_fields_n_units=8_fields"]
    assert all("seed" not in fig.texts[0].get_text() for fig in figs.values())
