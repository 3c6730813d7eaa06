"""Whitened natural-image patches (neurocode.data.patches) and their config loader."""

import doctest

import numpy as np
import pytest

from neurocode.data import patches as patches_module
from neurocode.data.patches import grey_images, load_patches, make_patches, whiten
from neurocode.data.prepare import load_data


def spectral_slope(img, band=(0.02, 0.2)):
    """Slope of log radially averaged power against log frequency (cycles/pixel) in band."""
    img = img - img.mean()
    h, w = img.shape
    power = np.abs(np.fft.rfft2(img)) ** 2
    f = np.sqrt(np.fft.fftfreq(h)[:, None] ** 2 + np.fft.rfftfreq(w)[None, :] ** 2)
    edges = np.geomspace(*band, 12)
    idx = np.digitize(f.ravel(), edges)
    pm = [power.ravel()[idx == k].mean() for k in range(1, len(edges))]
    fm = np.sqrt(edges[1:] * edges[:-1])
    return np.polyfit(np.log(fm), np.log(pm), 1)[0]


def test_whitening_filter_is_olshausen_field():
    """Two periodic gratings of frequencies f1 and f2 come out scaled by R(f) = f e^{-(f/f0)^4}:
    the ratio of their amplitudes is R(f1)/R(f2) times the input ratio."""
    n, f0 = 64, 0.4
    yy, xx = np.mgrid[:n, :n]
    f1, f2 = 4 / n, 20 / n
    g1, g2 = np.cos(2 * np.pi * f1 * xx), np.cos(2 * np.pi * f2 * yy)
    out = whiten(g1 + g2, f0=f0, pad=0)
    a1, a2 = (out * g1).sum() / (g1 * g1).sum(), (out * g2).sum() / (g2 * g2).sum()
    R = lambda f: f * np.exp(-((f / f0) ** 4))  # noqa: E731
    assert a1 / a2 == pytest.approx(R(f1) / R(f2), rel=1e-9)
    assert out.std() == pytest.approx(1.0)


def test_whitening_flattens_the_natural_image_spectrum():
    """Natural images have power ~ 1/f^2 (Field 1987); the ramp |f| flattens it."""
    for img in grey_images():
        raw, white = spectral_slope(img), spectral_slope(whiten(img))
        assert -3.2 < raw < -1.8, raw
        assert abs(white) < 0.8, white


def test_patches_are_normalised_and_deterministic():
    X = make_patches(2000, 16, random_state=0)
    assert X.shape == (2000, 256) and X.dtype == np.float32
    np.testing.assert_allclose(X.mean(axis=1), 0.0, atol=1e-5)
    np.testing.assert_allclose(X.std(axis=1), 1.0, atol=1e-4)
    np.testing.assert_array_equal(X, make_patches(2000, 16, random_state=0))
    assert not np.array_equal(X, make_patches(2000, 16, random_state=1))
    G = make_patches(2000, 8, random_state=0, normalize="global")
    assert G.std() == pytest.approx(1.0, rel=1e-4)
    np.testing.assert_allclose(G.mean(axis=1), 0.0, atol=1e-5)
    assert G.std(axis=1).std() > 0.1  # contrast kept
    Xtr, Xte = load_patches(100, 50, 8, seed=2)
    assert Xtr.shape == (100, 64) and Xte.shape == (50, 64)


def test_patches_come_from_the_whitened_images():
    """Each patch is a window of a whitened image, standardised (zero mean, unit std), at
    least ``border`` pixels from the edge."""
    X = make_patches(5, 4, random_state=7, dtype=np.float64, border=3)
    found = np.zeros(len(X), dtype=bool)
    for img in patches_module._whitened(0.4):
        win = np.lib.stride_tricks.sliding_window_view(img[3:-3, 3:-3], (4, 4)).reshape(-1, 16)
        win = win - win.mean(axis=1, keepdims=True)
        win = win / win.std(axis=1, keepdims=True)
        for i, x in enumerate(X):
            found[i] |= bool((np.abs(win - x).max(axis=1) < 1e-9).any())
    assert found.all()


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="n_samples"):
        make_patches(0)
    with pytest.raises(ValueError, match="patch_size"):
        make_patches(10, 1)
    with pytest.raises(ValueError, match="normalize"):
        make_patches(10, 8, normalize="zca")
    with pytest.raises(ValueError, match="min_contrast"):
        make_patches(10, 8, min_contrast=1.5)
    with pytest.raises(ValueError, match="does not fit"):
        make_patches(10, 128, border=200)
    with pytest.raises(ValueError, match="NaN"):
        whiten(np.full((8, 8), np.nan))
    with pytest.raises(ValueError, match="2-D"):
        whiten(np.ones(8))


def test_load_data_patches():
    ds = load_data({"dataset": "patches", "n_train": 300, "n_test": 100, "patch_size": 12}, seed=0)
    assert ds.X_train.shape == (300, 144) and ds.X_test.shape == (100, 144)
    assert ds.image_shape == (12, 12) and ds.y_train is None and ds.y_test is None
    d16 = load_data({"dataset": "patches", "n_train": 10, "n_test": 10}, seed=0)
    assert d16.image_shape == (16, 16)
    assert not np.array_equal(ds.X_train[:100], ds.X_test)


def test_docstring_examples():
    assert doctest.testmod(patches_module, raise_on_error=False).failed == 0
