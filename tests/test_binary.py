"""k-of-N binary codes: exact activity, the presets, and random codes' statistics against
closed forms (binomial unit usage, hypergeometric overlaps)."""

import math

import numpy as np
import pytest

from neurocode.models.binary import KofN, preset_k, random_code_indices, random_codes, top_k_codes
from neurocode.params import ParamError
from neurocode.testing import check_rule

from conftest import needs_mnist, registered_fixture

stats = pytest.importorskip("scipy.stats")


registered = registered_fixture(KofN, autouse=True)


def _usage_pvalues(codes: np.ndarray, k: int) -> tuple[float, float]:
    """Two-sided check that unit usage is uniform.

    Each unit's count over M independent uniform k-of-N rows is Binomial(M, p), p = k/N, and
    the counts sum to M k; Pearson's X^2 = sum_j (c_j - Mp)^2 / (Mp) then has mean N (1 - p)
    and X^2 / (1 - p) is close to chi-square with N - 1 degrees of freedom.
    """
    M, N = codes.shape
    p = k / N
    counts = codes.sum(axis=0).astype(float)
    x2 = ((counts - M * p) ** 2 / (M * p)).sum() / (1 - p)
    return stats.chi2.sf(x2, N - 1), stats.chi2.cdf(x2, N - 1)


def _overlap_matches_hypergeometric(codes: np.ndarray, k: int) -> None:
    """Overlaps of disjoint pairs of independent uniform k-of-N codes are hypergeometric
    (N, k, k): chi-square goodness of fit over the values with enough expected counts."""
    M, N = codes.shape
    half = M // 2
    ov = (codes[:half].astype(np.int64) * codes[half:2 * half].astype(np.int64)).sum(axis=1)
    pmf = stats.hypergeom(N, k, k).pmf(np.arange(k + 1))
    observed = np.bincount(ov, minlength=k + 1).astype(float)
    expected = half * pmf
    obs, exp, o, e = [], [], 0.0, 0.0  # merge neighbouring values until each bin expects >= 5
    for oi, ei in zip(observed, expected, strict=True):
        o, e = o + oi, e + ei
        if e >= 5:
            obs.append(o), exp.append(e)
            o, e = 0.0, 0.0
    obs[-1] += o
    exp[-1] += e
    p = stats.chisquare(obs, exp).pvalue
    assert p > 1e-4, f"overlap distribution is not hypergeometric (p = {p:.2g})"
    assert abs(ov.mean() - k * k / N) < 6 * math.sqrt(pmf @ (np.arange(k + 1) - k * k / N) ** 2 / half)


@pytest.mark.parametrize("extra", [{}, {"mode": "random"}, {"preset": "dense"}, {"center": False},
                                   {"silenced": "dropped"}])
def test_kofn_passes_the_conformance_suite(extra):
    check_rule(KofN(**KofN.test_params, **extra))


@pytest.mark.parametrize("mode", ["projection", "random"])
@pytest.mark.parametrize("k", [1, 5, 31, 64])
def test_exactly_k_units_active(mode, k):
    X = np.random.default_rng(0).random((40, 10))
    rule = KofN(n_units=64, k=k, mode=mode, random_state=1).fit(X)
    codes = rule.encode(X)
    assert set(np.unique(codes)) <= {0.0, 1.0}
    assert np.all(codes.sum(axis=1) == k)


@pytest.mark.parametrize("mode", ["projection", "random"])
def test_silenced_units_cannot_win(mode):
    X = np.random.default_rng(0).random((30, 10))
    rule = KofN(n_units=50, k=8, mode=mode, random_state=2).fit(X)
    mask = np.ones(50, dtype=bool)
    mask[np.random.default_rng(3).choice(50, 40, replace=False)] = False  # 10 alive
    codes = rule.encode(X, unit_mask=mask)
    assert np.all(codes[:, ~mask] == 0)
    assert np.all(codes.sum(axis=1) == 8)  # still k winners, among the alive units
    # the winners are the alive units of largest priority (the drive, or the hashed uniforms)
    pri = rule._priority(X)
    pri[:, ~mask] = -np.inf
    expected = np.zeros_like(codes)
    np.put_along_axis(expected, np.argsort(-pri, axis=1)[:, :8], 1.0, axis=1)
    np.testing.assert_array_equal(codes, expected)
    few = mask & (np.cumsum(mask) <= 3)  # 3 alive < k: all of them fire
    assert np.all(rule.encode(X, unit_mask=few) == few)


@pytest.mark.parametrize("k,theta", [(1, 1), (10, 1), (10, 3)])
def test_dropped_units_follow_the_hypergeometric_survival_law(k, theta):
    # silenced="dropped": a code keeps its winners, minus the silenced ones, so the number of
    # an item's k units that survive m silenced units of N is hypergeometric (scipy's, not ours)
    from scipy.stats import hypergeom

    N, n_items = 200, 4000
    X = np.random.default_rng(0).standard_normal((n_items, 20))
    rule = KofN(n_units=N, k=k, mode="random", silenced="dropped", random_state=0).fit(X)
    intact = rule.encode(X)
    rng = np.random.default_rng(1)
    for m in (50, 100, 150):
        mask = np.ones(N, dtype=bool)
        mask[rng.choice(N, m, replace=False)] = False
        codes = rule.encode(X, unit_mask=mask)
        np.testing.assert_array_equal(codes, intact * mask)  # nothing re-competes
        survived = (codes.sum(axis=1) >= theta).mean()
        p = hypergeom.sf(theta - 1, N, N - m, k)
        assert abs(survived - p) < 5 * math.sqrt(p * (1 - p) / n_items) + 1e-9


@pytest.mark.parametrize("n", [1, 2, 16, 784, 1000, 2048])
def test_presets_give_the_named_activity(n):
    expected = {"local": 1, "sparse": max(1, round(math.log2(n))), "dense": max(1, n // 2)}
    X = np.random.default_rng(0).random((5, 4))
    for preset, k in expected.items():
        assert preset_k(preset, n) == k
        rule = KofN(n_units=n, k=n + 5, preset=preset, random_state=0).fit(X)
        assert rule.k_ == k  # the preset overrides k (even a k > n_units)
        assert np.all(rule.encode(X).sum(axis=1) == k)
    assert preset_k("sparse", 784) == 10 and preset_k("dense", 784) == 392


def test_k_above_n_units_is_refused_naming_k():
    with pytest.raises(ParamError, match="'k'.*must be <= n_units"):
        KofN(n_units=4, k=5, random_state=0).fit(np.ones((3, 2)))
    with pytest.raises(ValueError, match="'preset'"):
        KofN(preset="medium", random_state=0).fit(np.ones((3, 2)))


def test_random_codes_have_k_ones_and_uniform_unit_usage():
    M, N, k = 20000, 100, 5
    codes = random_codes(M, N, k, random_state=0)
    assert codes.shape == (M, N) and codes.dtype == np.uint8
    assert np.all(codes.sum(axis=1) == k)
    upper, lower = _usage_pvalues(codes, k)
    assert upper > 1e-4 and lower > 1e-4, (upper, lower)
    _overlap_matches_hypergeometric(codes, k)
    idx = random_code_indices(M, N, k, random_state=0)
    np.testing.assert_array_equal(np.flatnonzero(codes[7]), idx[7])
    np.testing.assert_array_equal(random_codes(50, N, k, random_state=4),
                                  random_codes(50, N, k, random_state=4))


def test_random_codes_dense_and_edge_cases():
    codes = random_codes(4000, 20, 10, random_state=1)  # dense: k = N/2
    assert np.all(codes.sum(axis=1) == 10)
    upper, lower = _usage_pvalues(codes, 10)
    assert upper > 1e-4 and lower > 1e-4
    _overlap_matches_hypergeometric(codes, 10)
    assert np.all(random_codes(3, 6, 6, random_state=0) == 1)
    with pytest.raises(ValueError, match="k must be"):
        random_codes(3, 6, 7)


def test_random_mode_gives_each_stimulus_an_independent_uniform_code():
    N, k, M = 80, 6, 12000
    X = np.random.default_rng(5).standard_normal((M, 3))
    rule = KofN(n_units=N, k=k, mode="random", random_state=0).fit(X[:10])
    codes = rule.encode(X)
    upper, lower = _usage_pvalues(codes, k)
    assert upper > 1e-4 and lower > 1e-4, (upper, lower)
    _overlap_matches_hypergeometric(codes, k)
    # deterministic per stimulus, whatever the batch: same values -> same code
    np.testing.assert_array_equal(rule.encode(X[::-1][:100]), codes[::-1][:100])
    np.testing.assert_array_equal(rule.encode(X[:5].astype(np.float32).astype(np.float64)),
                                  rule.encode(X[:5].astype(np.float32)))
    ints = np.array([[1, 2, 3], [0, 0, 0]])
    np.testing.assert_array_equal(rule.encode(ints), rule.encode(ints.astype(float)))
    np.testing.assert_array_equal(rule.encode(-0.0 * ints), rule.encode(0.0 * ints))
    # another seed gives other codes
    other = KofN(n_units=N, k=k, mode="random", random_state=1).fit(X[:10]).encode(X[:200])
    assert (other != codes[:200]).any(axis=1).mean() > 0.9


def test_projection_codes_are_top_k_of_the_centred_drive():
    X = np.random.default_rng(0).random((60, 12))
    rule = KofN(n_units=30, k=4, random_state=0).fit(X)
    drive = (X - X.mean(axis=0)) @ rule.components_
    expected = np.zeros((60, 30))
    np.put_along_axis(expected, np.argsort(-drive, axis=1)[:, :4], 1.0, axis=1)
    np.testing.assert_array_equal(rule.encode(X), expected)
    # a top-k of a linear drive does not change when the centred stimulus is scaled up
    scaled = X.mean(axis=0) + 3.0 * (X - X.mean(axis=0))
    np.testing.assert_array_equal(rule.encode(scaled), expected)


def test_top_k_codes_helper():
    pri = np.array([[0.1, 0.5, 0.3, 0.9], [4.0, 3.0, 2.0, 1.0]])
    np.testing.assert_array_equal(top_k_codes(pri, 2), [[0, 1, 0, 1], [1, 1, 0, 0]])
    np.testing.assert_array_equal(top_k_codes(pri, 2, np.array([1, 0, 1, 0], bool)),
                                  [[1, 0, 1, 0], [1, 0, 1, 0]])
    assert np.all(top_k_codes(pri, 2, np.zeros(4, bool)) == 0)


@needs_mnist
def test_kofn_mnist_smoke():
    from neurocode.data import load_mnist

    images, labels = load_mnist("mnist", split="test")
    X = images[:500].reshape(500, -1).astype(np.float64) / 255.0
    rule = KofN(n_units=784, preset="sparse", random_state=0).fit(X)
    codes = rule.encode(X)
    assert codes.shape == (500, 784) and np.all(codes.sum(axis=1) == 10)
