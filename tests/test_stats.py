"""Intervals of neurocode.stats: coverage of known effects over repeated synthetic draws."""

import numpy as np
import pytest

from neurocode.stats import (
    Interval,
    cluster_bootstrap,
    decide,
    expanded_level,
    mean_interval,
    paired_difference,
    spearman,
)


def _coverage(n, repeats, expanded, seed):
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(repeats):
        x = rng.normal(0.3, 1.0, size=n)
        iv = mean_interval(x, random_state=rng, n_resamples=2000, expanded=expanded)
        hits += iv.low <= 0.3 <= iv.high
    return hits / repeats


def test_mean_interval_covers_a_known_mean_at_about_the_nominal_rate():
    # 400 draws: the coverage estimate's standard error is about 0.011 at 0.95
    assert 0.92 <= _coverage(10, 400, True, seed=1) <= 0.98


def test_expanded_interval_restores_coverage_that_the_plain_percentile_loses_at_five_seeds():
    plain = _coverage(5, 400, False, seed=2)
    expanded = _coverage(5, 400, True, seed=2)
    assert plain < 0.9            # the percentile bootstrap is too narrow at n = 5
    assert expanded > plain + 0.03
    assert expanded >= 0.89


def test_expanded_level_tends_to_the_nominal_level():
    assert expanded_level(5) > expanded_level(20) > expanded_level(1000) > 0.95
    assert expanded_level(1000) == pytest.approx(0.95, abs=1e-3)
    assert np.isnan(expanded_level(1))


def _slope(clusters):
    xs = np.array([x for c in clusters for x, _ in c])
    ys = np.array([y for c in clusters for _, y in c])
    return float(np.polyfit(xs, ys, 1)[0]) if np.ptp(xs) > 0 else float("nan")


@pytest.mark.slow
def test_cluster_bootstrap_covers_a_trend_that_a_seed_level_bootstrap_misses():
    """y = 0.5 level + u_level + e: the level effect u (sd 1) is shared by a level's five
    seeds, so seeds are not independent configurations. Over 100 data sets the two-stage
    bootstrap's interval covers the true slope most of the time; treating the 30 runs as
    independent covers it far less often (its interval is too narrow)."""
    rng = np.random.default_rng(3)
    hit_cluster = hit_naive = 0
    repeats = 100
    for _ in range(repeats):
        clusters = []
        for level in range(6):
            u = rng.normal(0.0, 1.0)
            clusters.append([(float(level), 0.5 * level + u + rng.normal(0.0, 0.3))
                             for _ in range(5)])
        iv = cluster_bootstrap(clusters, _slope, random_state=rng, n_resamples=300)
        hit_cluster += iv.low <= 0.5 <= iv.high
        flat = [[p] for c in clusters for p in c]
        naive = cluster_bootstrap(flat, _slope, random_state=rng, n_resamples=300,
                                  within=False)
        hit_naive += naive.low <= 0.5 <= naive.high
    assert hit_cluster / repeats >= 0.78
    assert hit_naive / repeats <= 0.72
    assert hit_cluster > hit_naive + 15


def test_paired_difference_pairs_by_seed_and_ignores_unpaired_seeds():
    a = {0: 1.0, 1: 2.0, 2: 3.0, 7: 100.0}
    b = {0: 0.5, 1: 1.4, 2: 2.6, 9: -50.0}
    iv = paired_difference(a, b, random_state=0)
    assert iv.n == 3
    assert iv.estimate == pytest.approx(0.5)
    assert iv.low <= 0.5 <= iv.high
    with pytest.raises(ValueError, match="one length"):
        paired_difference([1.0, 2.0], [1.0])


def test_degenerate_inputs():
    one = mean_interval([0.7])
    assert one.estimate == 0.7 and not one.defined and "n = 1" in one.format()
    same = mean_interval([0.2, 0.2, 0.2])
    assert same.low == same.high == same.estimate == pytest.approx(0.2)
    assert mean_interval([np.nan, np.inf]).n == 0
    assert not cluster_bootstrap([[1.0]], lambda c: 1.0).defined


def test_decide_needs_the_whole_interval_on_the_claimed_side():
    iv = Interval(0.3, 0.1, 0.5, 0.95, 5, "")
    assert decide(iv, 0.0, +1) == "supported"
    assert decide(iv, 0.2, +1) == "not supported"       # the null lies inside
    assert decide(iv, 0.6, -1) == "supported"
    assert decide(iv, 0.0, -1) == "not supported"       # wholly on the other side
    assert decide(Interval(0.3, float("nan"), float("nan"), 0.95, 1, ""), 0.0) == "not tested"


def test_spearman_is_zero_for_a_constant_side_and_signed_otherwise():
    assert spearman([1, 2, 3], [5, 5, 5]) == 0.0
    assert spearman([1, 2, 3, 4], [1, 3, 2, 9]) > 0.5
    assert spearman([1, 2, 3, 4], [9, 3, 2, 1]) == -1.0
