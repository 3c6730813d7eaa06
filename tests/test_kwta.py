"""k-winners-take-all with competitive learning."""

import numpy as np
import pytest

from neurocode.models.kwta import KWTA, k_winners
from neurocode.params import ParamError
from neurocode.testing import check_rule

from conftest import needs_mnist, registered_fixture

registered = registered_fixture(KWTA)


def _data(n=300, d=24, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d))


N_UNITS = 16


@pytest.fixture(scope="module")
def fitted():
    X = _data()
    return {k: KWTA(n_units=N_UNITS, k=k, epochs=2, batch_size=8, random_state=0).fit(X)
            for k in (1, 3, N_UNITS // 2, N_UNITS)}, X


@pytest.mark.parametrize("k", [1, 3, N_UNITS // 2, N_UNITS])
def test_exactly_k_winners_and_they_are_the_top_k_drives(fitted, k):
    """Every code has exactly k ones, on the k units of largest drive w_i . x (checked
    against numpy's full sort of the drive)."""
    rules_, X = fitted
    rule = rules_[k]
    codes = rule.encode(X)
    assert set(np.unique(codes)) <= {0.0, 1.0}
    np.testing.assert_array_equal(codes.sum(axis=1), k)
    drive = X @ rule.weights_.T
    expect = np.zeros_like(codes)
    np.put_along_axis(expect, np.argsort(-drive, axis=1)[:, :k], 1.0, axis=1)
    np.testing.assert_array_equal(codes, expect)


@pytest.mark.parametrize("n_alive", [0, 2, 3, 5, N_UNITS])
def test_silenced_units_never_win(fitted, n_alive):
    """With k = 3: exactly min(k, n_alive) alive units fire, the alive ones of largest
    drive; silenced units never do."""
    rules_, X = fitted
    rule, k = rules_[3], 3
    rng = np.random.default_rng(n_alive)
    mask = np.zeros(N_UNITS, dtype=bool)
    mask[rng.choice(N_UNITS, n_alive, replace=False)] = True
    codes = rule.encode(X, unit_mask=mask)
    assert np.all(codes[:, ~mask] == 0)
    np.testing.assert_array_equal(codes.sum(axis=1), min(k, n_alive))
    drive = np.where(mask, X @ rule.weights_.T, -np.inf)
    expect = np.zeros_like(codes)
    np.put_along_axis(expect, np.argsort(-drive, axis=1)[:, :min(k, n_alive)], 1.0, axis=1)
    np.testing.assert_array_equal(codes, expect)


def test_k_winners_breaks_ties_by_index():
    codes = k_winners(np.zeros((2, 5)), 2, mask=np.array([False, True, True, True, False]))
    np.testing.assert_array_equal(codes, [[0, 1, 1, 0, 0]] * 2)


def test_k_larger_than_n_units_is_refused():
    with pytest.raises(ParamError, match="'k' must be <= n_units"):
        KWTA(n_units=4, k=5).fit(_data())


@pytest.mark.parametrize("batch_size", [1, 10])
def test_k1_weights_settle_on_the_cluster_mean_directions(batch_size):
    """Competitive learning with k = 1 on unit-norm weights is spherical k-means: a unit
    winning the stimuli S has the fixed point w parallel to E[x / ||x|| | x in S]. On five
    well-separated clusters (random centre directions at least 60 degrees apart, radial
    spread 0.5..2, isotropic noise) with five units, each weight vector ends within 1 degree
    of the mean normalised stimulus of one distinct cluster (computed with numpy from the data)
    and within 2 degrees of that cluster's true centre (the same direction, by symmetry of the
    noise, up to sampling error)."""
    rng = np.random.default_rng(0)
    n_c, d, n = 5, 20, 3000
    while True:
        centres = rng.normal(size=(n_c, d))
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
        if (centres @ centres.T)[~np.eye(n_c, dtype=bool)].max() < 0.5:
            break
    labels = rng.integers(n_c, size=n)
    X = centres[labels] * rng.uniform(0.5, 2.0, (n, 1)) + 0.05 * rng.normal(size=(n, d))
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    means = np.array([Xn[labels == c].mean(axis=0) for c in range(n_c)])
    means /= np.linalg.norm(means, axis=1, keepdims=True)

    rule = KWTA(n_units=n_c, k=1, lr=0.02, epochs=3, batch_size=batch_size, random_state=0).fit(X)
    W = rule.weights_
    np.testing.assert_allclose(np.linalg.norm(W, axis=1), 1.0, atol=1e-12)
    match = np.argmax(W @ centres.T, axis=1)
    assert sorted(match) == list(range(n_c)), f"units share clusters: {match}"
    to_mean = np.degrees(np.arccos(np.clip(np.sum(W * means[match], axis=1), -1, 1)))
    to_centre = np.degrees(np.arccos(np.clip(np.sum(W * centres[match], axis=1), -1, 1)))
    assert to_mean.max() < 1.0, to_mean
    assert to_centre.max() < 2.0, to_centre
    # and the code is the cluster label, up to the unit permutation
    assert np.mean(match[rule.encode(X).argmax(axis=1)] == labels) > 0.99


def test_partial_fit_is_fit_with_a_constant_rate_without_shuffling():
    X = _data(seed=4)
    a = KWTA(n_units=6, k=2, batch_size=5, lr_schedule="constant", shuffle=False,
             random_state=1).fit(X)
    b = KWTA(n_units=6, k=2, batch_size=5, random_state=1).partial_fit(X)
    np.testing.assert_allclose(a.weights_, b.weights_, atol=1e-12)
    np.testing.assert_array_equal(a.wins_, b.wins_)


@needs_mnist
def test_mnist_smoke():
    from neurocode.data import load_mnist
    images, _ = load_mnist("mnist", split="test")
    X = images[:1000].reshape(1000, -1) / 255.0
    rule = KWTA(n_units=32, k=4, batch_size=50, random_state=0).fit(X)
    codes = rule.encode(X)
    np.testing.assert_array_equal(codes.sum(axis=1), 4)
    assert np.all(rule.wins_ > 0)


def test_conformance(registered):
    check_rule(KWTA(**KWTA.test_params))
