"""The two draws of neurocode.random_codes against the closed forms of a uniform k-subset.

Checked against scipy (chi-square goodness of fit, the hypergeometric law), not against numbers
of our own runs: each k-subset equally likely, the overlap of two independent rows
hypergeometric, unit usage k / N. The default draw is pinned to the one every stored result
was made with (a re-implementation of it here).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

import neurocode.random_codes as rc
from neurocode.random_codes import METHODS, random_code_indices, random_codes

P_MIN = 1e-3  # a seeded draw; a correct sampler fails this once in a thousand seeds


def keys_reference(n_items: int, n_units: int, k: int, seed: int) -> np.ndarray:
    """The draw of the stored results: the top k of N uniform keys per row, 32 MB chunks."""
    rng = np.random.default_rng(seed)
    out = np.empty((n_items, k), dtype=np.int64)
    step = max(1, (1 << 22) // n_units)
    for s in range(0, n_items, step):
        u = rng.random((min(step, n_items - s), n_units))
        out[s:s + len(u)] = (np.argpartition(u, n_units - k, axis=1)[:, n_units - k:]
                             if k < n_units else np.arange(n_units))
    return np.sort(out, axis=1)


def subset_pvalue(idx: np.ndarray, n_units: int) -> float:
    """Chi-square p-value of the rows against the uniform law over the C(N, k) subsets."""
    k = idx.shape[1]
    subsets = {s: i for i, s in enumerate(itertools.combinations(range(n_units), k))}
    counts = np.bincount([subsets[tuple(r)] for r in idx.tolist()], minlength=len(subsets))
    return float(stats.chisquare(counts).pvalue)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("n_units", "k"), [(1, 1), (2, 1), (10, 1), (10, 5), (10, 6),
                                            (10, 9), (10, 10), (257, 128), (257, 129),
                                            (16_384, 14), (16_384, 9000)])
def test_rows_are_sorted_distinct_units(method, n_units, k):
    idx = random_code_indices(200, n_units, k, random_state=1, method=method)
    assert idx.shape == (200, k) and idx.dtype == np.int64
    assert (np.diff(idx, axis=1) > 0).all()
    assert idx.min() >= 0 and idx.max() < n_units
    codes = random_codes(200, n_units, k, random_state=1, method=method)
    np.testing.assert_array_equal(np.flatnonzero(codes[7]), idx[7])


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("n_units", "k"), [(6, 3), (16, 2), (17, 15), (8, 1), (8, 7)])
def test_every_subset_equally_likely(method, n_units, k):
    # "fast" redraws duplicates at (16, 2) and (8, 1), takes the complement of the redrawn
    # silent units at (17, 15) and (8, 7), and uses the keys at (6, 3)
    n = 400 * math.comb(n_units, k)
    idx = random_code_indices(n, n_units, k, random_state=2, method=method)
    assert subset_pvalue(idx, n_units) > P_MIN


@pytest.mark.parametrize(("n_units", "k"), [(6, 3), (7, 2), (6, 4), (6, 5), (8, 4)])
def test_redrawn_duplicates_are_uniform_at_every_density(monkeypatch, n_units, k):
    # the redraw (and its complement) made to run where the default share hands over to the
    # keys: at k = N / 2 the redraw takes many rounds, the hardest case for it
    monkeypatch.setattr(rc, "SPARSE_SHARE", 2)
    idx = random_code_indices(400 * math.comb(n_units, k), n_units, k, random_state=6,
                              method="fast")
    assert subset_pvalue(idx, n_units) > P_MIN


def test_the_subset_check_rejects_a_biased_draw():
    # k consecutive units (mod N) from a uniform start: every unit active with probability
    # k / N, yet only N of the C(N, k) subsets ever occur
    rng = np.random.default_rng(0)
    n_units, k = 6, 3
    idx = np.sort((rng.integers(0, n_units, 8000)[:, None] + np.arange(k)) % n_units, axis=1)
    assert subset_pvalue(idx, n_units) < 1e-12


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("n_units", "k"), [(60, 6), (60, 56), (60, 30)])
def test_overlap_of_independent_rows_is_hypergeometric(method, n_units, k):
    m = 20_000
    a = random_codes(m, n_units, k, random_state=3, method=method).astype(np.int64)
    overlap = (a[: m // 2] * a[m // 2:]).sum(axis=1)
    law = stats.hypergeom(n_units, k, k)
    support = np.arange(max(0, 2 * k - n_units), k + 1)
    expected = law.pmf(support) * len(overlap)
    observed = np.bincount(overlap - support[0], minlength=len(support))
    big = expected >= 5  # pool the tails into one cell, as the chi-square test wants
    obs = np.append(observed[big], observed[~big].sum())
    exp = np.append(expected[big], expected[~big].sum())
    if exp[-1] == 0:
        obs, exp = obs[:-1], exp[:-1]
    assert stats.chisquare(obs, exp * obs.sum() / exp.sum()).pvalue > P_MIN
    usage = a.mean(axis=0)
    assert abs(usage.mean() - k / n_units) < 1e-12  # exactly k ones per row
    sd = math.sqrt(k / n_units * (1 - k / n_units) / m)
    assert np.abs(usage - k / n_units).max() < 5 * sd


@pytest.mark.parametrize(("n_units", "k"), [(64, 6), (300, 299), (5, 5), (20_000, 3)])
def test_default_draw_is_the_stored_results_draw(n_units, k):
    np.testing.assert_array_equal(random_code_indices(500, n_units, k, random_state=4),
                                  keys_reference(500, n_units, k, 4))


def test_sample_draw_is_reproducible_and_generator_driven():
    a = random_code_indices(100, 1000, 20, random_state=5, method="fast")
    np.testing.assert_array_equal(a, random_code_indices(100, 1000, 20, 5, method="fast"))
    rng = np.random.default_rng(5)
    b = random_code_indices(100, 1000, 20, rng, method="fast")
    c = random_code_indices(100, 1000, 20, rng, method="fast")
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(b, c)


def test_bad_arguments_say_what_is_wrong():
    with pytest.raises(ValueError, match="method must be one of"):
        random_code_indices(3, 10, 2, method="floyd")
    with pytest.raises(ValueError, match="k must be in"):
        random_codes(3, 6, 7, method="fast")
    with pytest.raises(ValueError, match="n_items >= 0"):
        random_code_indices(-1, 6, 2, method="fast")
    assert random_code_indices(0, 6, 4, method="fast").shape == (0, 4)
