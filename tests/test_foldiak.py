"""Földiák's anti-Hebbian network and the bars data set it was shown on."""

import numpy as np
import pytest

from neurocode.data.bars import bars_to_images, make_bars, single_bars
from neurocode.models.foldiak import Foldiak, settle
from neurocode.testing import check_rule

from conftest import registered_fixture

registered = registered_fixture(Foldiak)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# -- the bars data set ------------------------------------------------------------------------
def test_bars_images_are_the_or_of_their_bars():
    X, bars = make_bars(500, random_state=0)
    assert X.shape == (500, 64) and bars.shape == (500, 16) and bars.dtype == bool
    img = X.reshape(-1, 8, 8).astype(bool)
    for n in range(50):
        expect = bars[n, :8][:, None] | bars[n, 8:][None, :]  # row r | column c
        np.testing.assert_array_equal(img[n], expect)
    np.testing.assert_array_equal(single_bars(8)[3].reshape(8, 8)[3], np.ones(8))   # row 3
    np.testing.assert_array_equal(single_bars(8)[8 + 5].reshape(8, 8)[:, 5], np.ones(8))  # column 5
    assert single_bars(8).sum() == 16 * 8
    np.testing.assert_array_equal(bars_to_images(bars), X)


def test_bars_frequencies_match_the_binomial():
    """Each bar is present with probability p; a pixel is on with 1 - (1 - p)^2 (its row bar
    or its column bar). Both estimated from 20,000 images, within 4 standard errors."""
    n, p = 20_000, 1 / 8
    X, bars = make_bars(n, p=p, random_state=1)
    for est, prob, count in ((bars.mean(), p, bars.size), (X.mean(), 1 - (1 - p) ** 2, n)):
        # pixels of one image are dependent, so use the per-image count for the pixel SE
        se = np.sqrt(prob * (1 - prob) / count)
        assert abs(est - prob) < 4 * se, (est, prob)


def test_bars_refuses_bad_arguments():
    with pytest.raises(ValueError, match="n_samples"):
        make_bars(0)
    with pytest.raises(ValueError, match="p must"):
        make_bars(3, p=1.5)
    with pytest.raises(ValueError, match="size"):
        make_bars(3, size=0)


# -- the settling dynamics --------------------------------------------------------------------
def test_settling_without_lateral_weights_is_the_plain_sigmoid():
    """With W = 0 the fixed point of dy/dt = f(drive) - y is y* = sigma(lambda * drive)."""
    rng = np.random.default_rng(0)
    drive = rng.normal(0, 0.5, (40, 12))
    y, ok = settle(drive, np.zeros((12, 12)), 10.0, tol=1e-10, max_iter=10_000)
    assert ok.all()
    np.testing.assert_allclose(y, _sigmoid(10.0 * drive), atol=1e-9)


def test_settling_reaches_a_fixed_point_and_a_silenced_unit_is_removed():
    """With lateral inhibition the result solves y = sigma(lambda (drive + W y)) (residual
    below tol); and silencing units is the same as settling the network without them."""
    rng = np.random.default_rng(1)
    m = 10
    W = -np.abs(rng.normal(0, 0.3, (m, m)))
    W = (W + W.T) / 2
    np.fill_diagonal(W, 0.0)
    drive = rng.normal(0.2, 0.4, (30, m))
    lam, tol = 5.0, 1e-9
    y, ok = settle(drive, W, lam, tol=tol, max_iter=20_000)
    assert ok.all()
    residual = _sigmoid(lam * (drive + y @ W.T)) - y
    assert np.abs(residual).max() < tol

    mask = np.ones(m, dtype=bool)
    mask[[1, 4, 7]] = False
    ym, ok = settle(drive, W, lam, mask=mask, tol=tol, max_iter=20_000)
    assert ok.all() and np.all(ym[:, ~mask] == 0)
    yr, _ = settle(drive[:, mask], W[np.ix_(mask, mask)], lam, tol=tol, max_iter=20_000)
    np.testing.assert_allclose(ym[:, mask], yr, atol=1e-12)


# -- learning the bars ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trained():
    X, _ = make_bars(2000, random_state=0)
    rule = Foldiak(random_state=0).fit(X)  # the paper's parameters and 16 units
    Xt, bars_t = make_bars(2000, random_state=1)
    return rule, Xt, bars_t


@pytest.mark.slow
def test_learns_one_unit_per_bar_at_the_target_sparseness(trained):
    """Földiák's result on the bars problem (paper section 4, 16 units, p = 1/8).

    Definition: unit i *responds selectively* to bar k when, the 16 single-bar images being
    presented one at a time, unit i fires for bar k and for no other bar. A bar is
    *represented* when some unit responds selectively to it. A selective unit answers one bar
    only, so the units representing different bars are distinct. Required: at least 14 of the
    16 bars represented; each representing unit agrees with the presence of its bar on at
    least 90% of fresh test images; and the mean activity over the test images within 25% of
    p (the threshold rule's fixed point: every unit fires with probability p).
    """
    rule, Xt, bars_t = trained
    responses = rule.encode(single_bars(8)).astype(bool)    # (bar, unit)
    selective = responses.sum(axis=0) == 1                  # units answering exactly one bar
    unit_of_bar = {int(np.flatnonzero(responses[:, i])[0]): i for i in np.flatnonzero(selective)}
    assert len(unit_of_bar) >= 14, f"only bars {sorted(unit_of_bar)} have a selective unit"
    assert len(set(unit_of_bar.values())) == len(unit_of_bar)

    codes = rule.encode(Xt).astype(bool)
    for k, i in unit_of_bar.items():
        agree = np.mean(codes[:, i] == bars_t[:, k])
        assert agree >= 0.9, f"unit {i} agrees with bar {k} on only {agree:.2f} of the images"
    assert abs(codes.mean() - rule.p) <= 0.25 * rule.p, codes.mean()


@pytest.mark.slow
def test_weights_reach_the_fixed_points_of_their_rules(trained):
    """Hebbian dQ_i = beta y_i (x - Q_i) has the fixed point Q_i = E[x | y_i = 1], estimated
    here on fresh test images (mean absolute difference below 0.1 per unit); the lateral
    weights stay symmetric, non-positive and without self-connections."""
    rule, Xt, _ = trained
    codes = rule.encode(Xt).astype(bool)
    for i in range(rule.n_units):
        assert codes[:, i].sum() >= 50
        cond_mean = Xt[codes[:, i]].mean(axis=0)
        assert np.abs(rule.Q_[i] - cond_mean).mean() < 0.1, i
    W = rule.W_
    assert np.all(W <= 0) and np.all(np.diag(W) == 0)
    np.testing.assert_allclose(W, W.T, atol=1e-12)


def test_silenced_units_neither_fire_nor_inhibit(trained):
    """The settled outputs of the masked network equal those of the network with the silenced
    units removed (their rows and columns of Q, W, t deleted)."""
    rule, Xt, _ = trained
    mask = np.ones(rule.n_units, dtype=bool)
    mask[::3] = False
    ym = rule.settle_continuous(Xt[:200], unit_mask=mask)
    drive = Xt[:200] @ rule.Q_[mask].T - rule.t_[mask]
    yr, _ = settle(drive, rule.W_[np.ix_(mask, mask)], rule.lambda_s,
                   step=rule.settle_step, tol=rule.settle_tol, max_iter=rule.settle_max_iter)
    assert np.all(ym[:, ~mask] == 0)
    np.testing.assert_allclose(ym[:, mask], yr, atol=1e-10)


def test_partial_fit_is_fit_without_shuffling():
    X, _ = make_bars(100, random_state=3)
    a = Foldiak(n_units=8, shuffle=False, random_state=2).fit(X)
    b = Foldiak(n_units=8, random_state=2)
    b.partial_fit(X[:40]).partial_fit(X[40:])
    for name in ("Q_", "W_", "t_"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert b.n_seen_ == 100


def test_conformance(registered):
    check_rule(Foldiak(**Foldiak.test_params))
