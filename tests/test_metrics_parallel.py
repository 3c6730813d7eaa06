"""Synchronous against asynchronous updates, against what Hopfield dynamics must do: stored
patterns below capacity are fixed points of both modes; a two-unit net whose synchronous
dynamics oscillate while the asynchronous ones settle gives the known fraction exactly; far
above capacity synchronous 2-cycles make the modes disagree; asynchronous runs always end at
fixed points (Hopfield's energy theorem)."""

import math

import numpy as np
import pytest

from neurocode.metrics.parallel import supports_update_modes, sync_async_difference
from neurocode.models.binary import KofN
from neurocode.models.foldiak import Foldiak
from neurocode.models.memory import Hopfield, hebbian_couplings, hopfield_run

pytestmark = pytest.mark.usefixtures("one_blas_thread")


def patterns(M, N, seed):
    return (np.random.default_rng(seed).random((M, N)) < 0.5).astype(np.uint8)


@pytest.mark.parametrize("max_sweeps", [100, 99])
def test_two_coupled_units_sync_oscillates_async_settles(max_sweeps):
    """T_12 = +1 (one stored pattern [1, 1]). From a mixed cue (+1, -1) synchronous updates swap
    the two states forever (a 2-cycle: the final code is the cue or its mirror, by the parity
    of max_sweeps); asynchronous ones copy the first updated unit into the second and stop at
    [0, 0] or [1, 1]. The aligned cues are fixed points of both. So half of these cues differ,
    each on one of the two units."""
    net = Hopfield(max_sweeps=max_sweeps, random_state=0).fit([[1, 1]])
    cues = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
    out = sync_async_difference(net, cues, random_state=3)
    assert out["supported"] == 1.0
    assert out["fraction_different"] == 0.5
    assert out["mean_units_different"] == 0.25
    assert out["fraction_sync_unsettled"] == 0.5
    assert out["fraction_async_unsettled"] == 0.0
    assert out["n_stimuli"] == 4.0
    assert net.update == "async" and net.random_state == 0  # the rule itself is untouched


def test_stored_patterns_below_capacity_agree():
    """M = 5 patterns in N = 200 units (load 0.025, far below 0.138): a stored bit is unstable
    with probability about Phi(-sqrt(N / (M - 1))) ~ 1e-12, so each pattern is a fixed point of
    both modes and the cues stay where they are."""
    X = patterns(5, 200, 0)
    for update in ("sync", "async"):
        net = Hopfield(update=update, random_state=0).fit(X)
        out = sync_async_difference(net, X)
        assert out["fraction_different"] == 0.0 and out["mean_units_different"] == 0.0
        assert out["fraction_sync_unsettled"] == 0.0 and out["fraction_async_unsettled"] == 0.0


def test_high_load_noisy_cues_differ_and_async_always_settles():
    """Load 0.3 (above the 0.138 capacity), cues with 20 % of bits flipped: the stored patterns
    are no longer attractors, synchronous runs fall into 2-cycles, and the two modes end in
    different states for most cues; asynchronous runs reach fixed points (the energy falls with
    every flip)."""
    N, M = 200, 60
    X = patterns(M, N, 1)
    rng = np.random.default_rng(2)
    cues = X ^ (rng.random(X.shape) < 0.2)
    net = Hopfield(random_state=0).fit(X)
    out = sync_async_difference(net, cues, random_state=0)
    assert out["fraction_different"] > 0.5
    assert out["fraction_sync_unsettled"] > 0.1
    assert out["fraction_async_unsettled"] == 0.0
    assert 0 < out["mean_units_different"] < 1


def test_sync_codes_and_cycles_match_hopfield_run_on_the_same_couplings():
    """A second computation: synchronous runs by hopfield_run on the Hebbian couplings; the
    cues whose final state is not a fixed point (some unit's field opposes it, checked here
    from the definition) are the measure's unsettled synchronous codes."""
    N, M = 64, 20
    X = patterns(M, N, 4)
    net = Hopfield(max_sweeps=50, random_state=0).fit(X)
    cues = X ^ (np.random.default_rng(5).random(X.shape) < 0.15)
    T = hebbian_couplings(X)
    S_sync, _, conv = hopfield_run(T, cues.astype(np.int8) * 2 - 1, "sync", 50)
    out = sync_async_difference(net, cues, random_state=1)
    # a state is a fixed point when no unit's field opposes it
    fixed = ~np.any(S_sync * (S_sync @ T) < 0, axis=1)
    assert out["fraction_sync_unsettled"] == pytest.approx(1 - fixed.mean())
    np.testing.assert_array_equal(fixed, conv)


def test_rules_without_update_modes_are_reported_unsupported():
    X = np.random.default_rng(0).random((20, 8))
    for rule in (KofN(n_units=12, k=3, random_state=0).fit(X),
                 Foldiak(n_units=4, settle_max_iter=50, random_state=0).fit(X)):
        assert not supports_update_modes(rule)
        out = sync_async_difference(rule, X)
        assert out["supported"] == 0.0
        assert math.isnan(out["fraction_different"])
    assert supports_update_modes(Hopfield())


def test_subsample_and_validation():
    X = patterns(30, 40, 6)
    net = Hopfield(random_state=0).fit(X[:3])
    assert sync_async_difference(net, X, max_stimuli=10)["n_stimuli"] == 10.0
    with pytest.raises(ValueError, match="max_stimuli"):
        sync_async_difference(net, X, max_stimuli=0)
    with pytest.raises(ValueError, match="2-D"):
        sync_async_difference(net, X[0])
    bad = X.astype(float)
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        sync_async_difference(net, bad)
    with pytest.raises(ValueError, match="not fitted"):
        sync_async_difference(Hopfield(), X)
    with pytest.raises(ValueError, match="binary|0 and 1"):
        sync_async_difference(net, X * 0.5)
