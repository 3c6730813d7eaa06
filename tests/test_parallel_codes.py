"""Synchronous against asynchronous recall of any code's own patterns in a covariance memory
(``code_sync_async_difference``), against what the dynamics must do: a fixed point is one of
both modes; random codes below the capacity of the theory recall well in both; far above it
synchronous 2-cycles make the modes disagree; codes of the same activity but correlated
patterns give a different answer; the numbers match a direct re-implementation; codes that
cannot be stored give NaN, bad arguments a ValueError."""

import math

import numpy as np
import pytest

from neurocode.metrics.parallel import code_sync_async_difference
from neurocode.theory import covariance_capacity

pytestmark = pytest.mark.usefixtures("one_blas_thread")

TIE = 1e-9   # the measure's tie-breaking offset of the threshold


def k_of_n(n, N, k, seed):
    rng = np.random.default_rng(seed)
    X = np.zeros((n, N), dtype=np.uint8)
    for row in X:
        row[rng.choice(N, k, replace=False)] = 1
    return X


def prototype_code(n, N, k, swap, seed):
    """Every row: a fixed prototype of ``k`` active units with ``swap`` of them moved to random
    other units (exactly ``k`` active: the same activity as a random k-of-N code)."""
    rng = np.random.default_rng(seed)
    proto = rng.choice(N, k, replace=False)
    rest = np.setdiff1d(np.arange(N), proto)
    X = np.zeros((n, N), dtype=np.uint8)
    for row in X:
        row[rng.choice(proto, k - swap, replace=False)] = 1
        row[rng.choice(rest, swap, replace=False)] = 1
    return X


def couplings(X, a):
    """The measure's couplings, written out: covariance rule minus the global inhibition
    (1/2 - a) / (N a) between every pair of units."""
    N = X.shape[1]
    Xc = X.astype(np.float64) - a
    J = Xc.T @ Xc / (N * a * (1 - a)) - (0.5 - a) / (N * a)
    np.fill_diagonal(J, 0.0)
    return J


def sync_step(J, V):
    H = V.astype(np.float64) @ J
    return np.where(H > TIE, 1, np.where(H < TIE, 0, V)).astype(np.uint8)


def test_fixed_points_are_fixed_points_of_both_modes():
    """30 patterns of 20 active units in 400 (load 30, a tenth of the capacity alpha N = 340):
    every stored pattern is a fixed point (checked here on the couplings written out); cued
    with the whole pattern, both modes stay there: no difference, no error, no cycle."""
    X = k_of_n(30, 400, 20, 0)
    J = couplings(X, 0.05)
    np.testing.assert_array_equal(sync_step(J, X), X)   # the premise: fixed points
    out = code_sync_async_difference(X, cue_fraction=1.0, random_state=3)
    assert out["measured"] == 1.0
    assert out["load"] == 30.0 and out["n_probe"] == 30.0   # all rows stored and probed
    assert out["fraction_different"] == 0.0
    assert out["units_different_per_active"] == 0.0
    assert out["error_sync"] == 0.0 and out["error_async"] == 0.0
    assert out["sync_cycles"] == 0.0 and out["async_unsettled"] == 0.0


@pytest.mark.parametrize("a, n", [(0.02, 2000), (0.1, 600)])
def test_random_codes_below_capacity_recall_in_both_modes(a, n):
    """Random k-of-N codes of N = 1000 units at half the capacity alpha(a) N of the theory
    (tolerance 0.1 wrong units per active unit), recalled from half cues: both modes end near
    the stored pattern, within the tolerance (measured: a = 0.02, 972 stored: errors 0.03-0.04,
    fraction_different 0.08-0.15, finite size: 10 cue units; a = 0.1, 225 stored: 0.002, 0)."""
    N = 1000
    out = code_sync_async_difference(k_of_n(n, N, int(a * N), 1), n_probe=100, random_state=0)
    alpha = covariance_capacity(a, tolerance=0.1)["alpha"]
    assert out["coding_level"] == pytest.approx(a)
    assert out["theory_capacity"] == pytest.approx(alpha * N)
    assert out["load"] == round(0.5 * alpha * N)
    assert out["theta"] == pytest.approx(0.5 - a) and out["inhibition"] == pytest.approx(0.5 - a)
    assert out["error_sync"] <= 0.1
    assert out["error_async"] <= 0.1
    assert out["fraction_different"] <= 0.25
    assert out["async_unsettled"] == 0.0


def test_a_fixed_mid_gap_threshold_fails_sparse_codes_from_half_cues():
    """Why the default threshold follows the activity: a fixed threshold 1/2 - a, the middle of
    the gap of a full pattern, is at the edge of the basin of a half cue for a = 0.02 (its
    units get field about (1 - a)/2 < 1/2 - a + noise), so the same memory that recalls with
    the default fails (measured: errors 0.7-1.0 against 0.04)."""
    X = k_of_n(2000, 1000, 20, 1)
    fixed = code_sync_async_difference(X, n_probe=100, theta=0.48, random_state=0)
    default = code_sync_async_difference(X, n_probe=100, random_state=0)
    assert fixed["inhibition"] == 0.0 and fixed["theta"] == 0.48
    assert fixed["load"] == default["load"]
    assert fixed["error_async"] > 0.4 and fixed["error_sync"] > 0.4
    assert default["error_async"] < 0.1


@pytest.mark.parametrize("seed", [0, 1])
def test_dense_codes_far_above_capacity_differ_by_mode(seed):
    """Dense codes (a = 1/2, the Hopfield rule) at four times their capacity: synchronous
    dynamics fall into 2-cycles (measured: 52-78 % of probes), asynchronous ones settle, and
    the final states differ for (nearly) every probe; the fixed-point case above gives 0."""
    out = code_sync_async_difference(k_of_n(300, 400, 200, seed), relative_load=4, n_probe=50,
                                     random_state=seed)
    assert out["load"] == round(4 * covariance_capacity(0.5)["alpha"] * 400)   # 221 of 300
    assert out["fraction_different"] >= 0.8
    assert out["units_different_per_active"] > 0.2
    assert out["sync_cycles"] >= 0.3
    assert out["async_unsettled"] == 0.0     # asynchronous runs end at fixed points


def test_same_activity_different_structure():
    """Random 50-of-500 codes against codes of exactly the same activity whose rows share 40 of
    their 50 active units (a prototype with 10 units moved). The correlated rows merge into
    one attractor, the prototype: every probe, in both modes, is recalled as the prototype,
    10 missed and 10 spurious units, error 2 * 10 / 50 = 0.4, where random codes recall
    (error < 0.05). Above capacity (3 alpha N stored) the random code's modes disagree for
    (nearly) every probe while the correlated code still falls to the prototype in both."""
    N, k = 500, 50
    rand = code_sync_async_difference(k_of_n(600, N, k, 0), n_probe=60, random_state=0)
    corr = code_sync_async_difference(prototype_code(600, N, k, 10, 0), n_probe=60,
                                      random_state=0)
    assert rand["coding_level"] == corr["coding_level"] == 0.1
    assert rand["load"] == corr["load"]
    assert rand["error_async"] < 0.05 and rand["error_sync"] < 0.05
    assert corr["error_async"] == pytest.approx(0.4, abs=0.02)
    assert corr["error_sync"] == pytest.approx(0.4, abs=0.02)
    rand3 = code_sync_async_difference(k_of_n(1000, N, k, 0), relative_load=3, n_probe=40,
                                       random_state=0)
    corr3 = code_sync_async_difference(prototype_code(1000, N, k, 10, 0), relative_load=3,
                                       n_probe=40, random_state=0)
    assert rand3["fraction_different"] >= 0.8
    assert corr3["fraction_different"] <= 0.1
    assert corr3["error_async"] == pytest.approx(0.4, abs=0.02)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_synchronous_numbers_match_a_direct_implementation(seed):
    """60 rows of 40 active units in 200, at 3 times capacity: all 60 stored (M is clipped to
    n) and probed with their whole patterns, so the synchronous runs are deterministic: 50
    synchronous steps written out give the same error and the same count of states that one
    more step changes (2-cycles)."""
    X = k_of_n(60, 200, 40, seed)
    out = code_sync_async_difference(X, relative_load=3, cue_fraction=1.0, random_state=seed)
    assert out["load"] == 60.0 and out["n_probe"] == 60.0
    J = couplings(X, 0.2)
    V = X.copy()
    for _ in range(50):
        V = sync_step(J, V)
    wrong = (V != X).sum(axis=1) / 40
    cycles = (sync_step(J, V) != V).any(axis=1)
    assert out["error_sync"] == pytest.approx(wrong.mean())
    assert out["sync_cycles"] == pytest.approx(cycles.mean())
    assert out["error_sync"] > 0        # a case where something happens


def test_real_valued_codes_are_binarised_and_wide_codes_subsampled():
    X = k_of_n(300, 400, 40, 4)
    mags = X * np.random.default_rng(1).uniform(0.1, 3.0, X.shape)
    a = code_sync_async_difference(X, random_state=2)
    b = code_sync_async_difference(mags, random_state=2)
    assert a == b
    wide = code_sync_async_difference(k_of_n(300, 3000, 300, 5), max_units=500, n_probe=30)
    assert wide["n_units"] == 500.0 and wide["measured"] == 1.0
    assert 0.08 < wide["coding_level"] < 0.12
    assert code_sync_async_difference(X, random_state=7) == \
        code_sync_async_difference(X, random_state=7)         # seeded: reproducible


def test_silent_rows_are_kept_and_reported():
    X = k_of_n(400, 400, 40, 6)
    X[::4] = 0                                   # a quarter of the stimuli evoke nothing
    out = code_sync_async_difference(X, n_probe=80)
    assert out["measured"] == 1.0
    assert out["fraction_silent"] == 0.25
    assert out["coding_level"] == pytest.approx(0.075)
    assert all(math.isfinite(out[k]) for k in ("fraction_different", "error_sync",
                                                 "error_async"))


@pytest.mark.parametrize("codes", [np.zeros((20, 30)), np.ones((20, 30)),
                                   np.full((5, 8), -2.5)])
def test_codes_that_cannot_be_stored_give_nan(codes):
    out = code_sync_async_difference(codes)
    assert out["measured"] == 0.0
    assert out["load"] == 0.0 and out["n_probe"] == 0.0
    for key in ("fraction_different", "units_different_per_active", "error_sync",
                "error_async", "sync_cycles", "async_unsettled", "theory_capacity", "theta"):
        assert math.isnan(out[key]), key
    assert out["coding_level"] in (0.0, 1.0)
    assert all(isinstance(v, float) for v in out.values())


def test_bad_arguments_raise_value_error_naming_them():
    X = k_of_n(50, 40, 4, 0)
    for kwargs, name in [({"relative_load": 0}, "relative_load"),
                         ({"relative_load": -1.0}, "relative_load"),
                         ({"relative_load": float("nan")}, "relative_load"),
                         ({"cue_fraction": 0.0}, "cue_fraction"),
                         ({"cue_fraction": 1.5}, "cue_fraction"),
                         ({"n_probe": 0}, "n_probe"),
                         ({"max_sweeps": 0}, "max_sweeps"),
                         ({"max_units": 0}, "max_units"),
                         ({"tolerance": 0.0}, "tolerance"),
                         ({"theta": float("inf")}, "theta"),
                         ({"theta": "high"}, "theta")]:
        with pytest.raises(ValueError, match=name):
            code_sync_async_difference(X, **kwargs)
    bad = X.astype(float)
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        code_sync_async_difference(bad)
    with pytest.raises(ValueError, match="2-D"):
        code_sync_async_difference(X[0])
    with pytest.raises(ValueError, match="2-D"):
        code_sync_async_difference(X[None])
    with pytest.raises(ValueError, match="codes"):
        code_sync_async_difference(np.zeros((0, 5)))
