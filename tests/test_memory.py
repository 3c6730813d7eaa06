"""Willshaw and Hopfield associative memories against their definitions (literal loops) and
closed-form theory: the fraction of set synapses and spurious units of the Willshaw net, the
one-step error rate and the 0.138 N capacity of the Hopfield net, Hopfield's energy theorem."""

import math

import numpy as np
import pytest

from neurocode.models.binary import random_codes
from neurocode.models.memory import (
    Hopfield,
    Willshaw,
    hebbian_couplings,
    hopfield_energy,
    hopfield_run,
    overlap,
    willshaw_recall,
    willshaw_store,
    willshaw_sums,
)
from neurocode.rules import NotFittedError
from neurocode.testing import check_rule

from conftest import registered_fixture

registered = registered_fixture(Willshaw, Hopfield, autouse=True)


pytestmark = pytest.mark.usefixtures("one_blas_thread")


def dense_patterns(M, N, seed):
    return (np.random.default_rng(seed).random((M, N)) < 0.5).astype(np.uint8)


# -- references written from the definitions, one unit and one pattern at a time -------------
def willshaw_reference(A, B):
    W = np.zeros((A.shape[1], B.shape[1]), dtype=bool)
    for a, b in zip(A, B, strict=True):
        for i in np.flatnonzero(a):
            for j in np.flatnonzero(b):
                W[i, j] = True
    return W


def threshold_recall_reference(W, cues):
    out = np.zeros((len(cues), W.shape[1]), dtype=np.uint8)
    for r, c in enumerate(cues):
        theta = int(c.sum())
        for j in range(W.shape[1]):
            out[r, j] = theta > 0 and sum(W[i, j] for i in np.flatnonzero(c)) >= theta
    return out


def hopfield_reference(T, S0, update, max_sweeps, seed):
    """Literal Hopfield dynamics per row; async orders drawn as hopfield_run documents (one
    permutation per sweep, in sequence from the seed, shared by all rows)."""
    rng = np.random.default_rng(seed)
    orders = []
    T = np.asarray(T, dtype=np.float64)
    out = np.array(S0, dtype=np.float64)
    for r in range(len(out)):
        s = out[r].copy()
        for t in range(max_sweeps):
            if update == "sync":
                h = T @ s
                new = np.where(h > 0, 1.0, np.where(h < 0, -1.0, s))
                changed, s = (new != s).any(), new
            else:
                if len(orders) <= t:
                    orders.append(rng.permutation(len(s)))
                changed = False
                for i in orders[t]:
                    h = T[i] @ s
                    if h * s[i] < 0:
                        s[i], changed = -s[i], True
            if not changed:
                break
        out[r] = s
    return out


# -- Willshaw --------------------------------------------------------------------------------
@pytest.mark.parametrize("extra", [{}, {"retrieval": "top-k"}, {"retrieval": "top-k", "k": 3}])
def test_willshaw_passes_the_conformance_suite(extra):
    check_rule(Willshaw(**Willshaw.test_params, **extra))


@pytest.mark.parametrize("method", ["sparse", "dense", "auto"])
@pytest.mark.parametrize("k_in,k_out", [(3, 4), (20, 25)])
def test_willshaw_storage_and_recall_follow_the_definition(method, k_in, k_out):
    A = random_codes(60, 40, k_in, random_state=0)
    B = random_codes(60, 50, k_out, random_state=1)
    W = willshaw_store(np.zeros((40, 50), dtype=bool), A, B, method=method)
    np.testing.assert_array_equal(W, willshaw_reference(A, B))
    cues = (np.random.default_rng(2).random((30, 40)) < 0.15).astype(np.uint8)
    cues[0] = 0  # an empty cue recalls nothing
    sums = willshaw_sums(W, cues, method=method)
    np.testing.assert_array_equal(sums, cues.astype(int) @ W.astype(int))
    np.testing.assert_array_equal(willshaw_recall(W, cues, method=method),
                                  threshold_recall_reference(W, cues))


def test_willshaw_fraction_of_set_synapses_matches_closed_form():
    # Willshaw et al. 1969: after M random k-of-N pairs, P(W_ij = 1) = 1 - (1 - k^2/N^2)^M.
    # N^2 = 10^6 synapses make the sampling error ~0.1%, well inside the 1% asked.
    N, k, M = 1000, 10, 5000
    mem = Willshaw().store_pairs(random_codes(M, N, k, 0), random_codes(M, N, k, 1))
    p1 = 1 - (1 - k**2 / N**2) ** M
    assert mem.n_stored_ == M and mem.n_units == N
    assert abs(mem.fraction_set / p1 - 1) < 0.01, (mem.fraction_set, p1)
    # autoassociative: off the diagonal P(W_ij = 1) = 1 - (1 - k(k-1)/(N(N-1)))^M; diagonal set
    auto = Willshaw().fit(random_codes(M, N, k, 2))
    off = ~np.eye(N, dtype=bool)
    p1_auto = 1 - (1 - k * (k - 1) / (N * (N - 1))) ** M
    assert abs(auto.weights_[off].mean() / p1_auto - 1) < 0.01
    assert auto.weights_.diagonal()[random_codes(M, N, k, 2).any(axis=0)].all()


def test_willshaw_spurious_units_match_closed_form():
    N, k, M, R = 1000, 10, 8000, 2000
    A, B = random_codes(M, N, k, 3), random_codes(M, N, k, 4)
    mem = Willshaw().store_pairs(A, B)
    out = mem.recall_pairs(A[:R]).astype(int)
    assert np.all(out[B[:R] == 1] == 1), "a full cue must recall its whole partner"
    spurious = (out - B[:R]).clip(min=0).sum(axis=1).mean()
    # Exact expectation for one cue: an output unit j outside the partner fires when the
    # cue's k units lie in the union of the inputs of the patterns that contain j. With
    # p = k/N and q_s = C(N-s, k)/C(N, k), inclusion-exclusion over the cue's units gives
    #   E = (N - k) sum_{s=0..k} (-1)^s C(k, s) (1 - p (1 - q_s))^(M - 1).
    p = k / N
    exact = (N - k) * sum((-1) ** s * math.comb(k, s)
                          * (1 - p * (1 - math.comb(N - s, k) / math.comb(N, k))) ** (M - 1)
                          for s in range(k + 1))
    assert abs(spurious / exact - 1) < 0.10, (spurious, exact)
    # Willshaw's (N - k) p1^k treats the k synapses as independent; here the ones onto the
    # same output unit are positively correlated, so it runs ~20% low: allow 35%.
    p1 = 1 - (1 - p * p) ** M
    classic = (N - k) * p1**k
    assert 1 <= spurious / classic < 1.35, (spurious, classic)


def test_willshaw_partial_cue_and_top_k():
    N, k, M = 400, 12, 300
    X = random_codes(M, N, k, 5)
    mem = Willshaw().fit(X)
    half = X.copy()
    for row in half:
        row[np.flatnonzero(row)[: k // 2]] = 0
    out = mem.encode(half)
    assert np.all(out[X == 1] == 1), "a partial cue recalls its whole pattern (no misses)"
    # For a full cue the largest possible sum is the cue's activity and the pattern's units
    # reach it, so top-k with k = the cue's activity (ties kept) is the threshold recall.
    topk = Willshaw(retrieval="top-k").fit(X)
    np.testing.assert_array_equal(topk.encode(X), mem.encode(X))
    fixed = mem.recall(X, k=k)
    assert np.all(fixed.sum(axis=1) >= k) and np.all(fixed[X == 1] == 1)


def test_willshaw_online_storage_is_batch_storage():
    X = random_codes(500, 120, 6, 6)
    online = Willshaw().partial_fit(X[:200]).store(X[200:])
    batch = Willshaw().fit(X)
    np.testing.assert_array_equal(online.weights_, batch.weights_)
    assert online.n_stored_ == 500


def test_willshaw_deleted_units_are_removed_from_the_circuit():
    N, k = 200, 8
    X = random_codes(150, N, k, 7)
    mem = Willshaw().fit(X)
    alive = np.random.default_rng(8).random(N) < 0.7
    cues = X.copy()
    got = mem.encode(cues, unit_mask=alive)
    assert np.all(got[:, ~alive] == 0)
    # the same as a memory that never had the deleted units
    small = Willshaw().fit(X[:, alive])
    np.testing.assert_array_equal(got[:, alive], small.encode(cues[:, alive]))
    # hetero-associative: the mask covers the output units
    B = random_codes(150, 60, 5, 9)
    het = Willshaw().store_pairs(X, B)
    out_alive = np.arange(60) % 3 > 0
    np.testing.assert_array_equal(het.recall_pairs(X, unit_mask=out_alive),
                                  het.recall_pairs(X) * out_alive)


def test_willshaw_refuses_non_binary_patterns():
    mem = Willshaw()
    with pytest.raises(ValueError, match="binary.*0 and 1"):
        mem.fit(np.full((3, 4), 0.5))
    with pytest.raises(NotFittedError):
        mem.encode(np.zeros((1, 4)))  # the refused fit left it unfitted
    with pytest.raises(NotFittedError):
        _ = Willshaw().n_units
    mem.fit(np.eye(4))
    with pytest.raises(ValueError, match="0 and 1"):
        mem.encode(2 * np.eye(4))
    with pytest.raises(ValueError, match="0 and 1"):
        mem.store_pairs(np.eye(4), -np.eye(4))
    with pytest.raises(ValueError, match="hetero"):
        Willshaw().store_pairs(np.eye(4), np.eye(4)).partial_fit(np.eye(4))


# -- Hopfield --------------------------------------------------------------------------------
@pytest.mark.parametrize("update", ["async", "sync"])
def test_hopfield_passes_the_conformance_suite(update):
    check_rule(Hopfield(**Hopfield.test_params, update=update))


def test_hopfield_couplings_are_the_hebbian_outer_products():
    P = dense_patterns(30, 25, 0)
    xi = 2.0 * P - 1
    T = np.einsum("mi,mj->ij", xi, xi)
    np.fill_diagonal(T, 0)
    np.testing.assert_array_equal(hebbian_couplings(P), T)
    net = Hopfield().partial_fit(P[:10]).store(P[10:])
    np.testing.assert_array_equal(net.weights_, T)
    np.testing.assert_allclose(net.couplings, T / 25)
    assert net.n_stored_ == 30 and net.load == 30 / 25


@pytest.mark.parametrize("update", ["async", "sync"])
@pytest.mark.parametrize("N,M,sweeps", [(60, 20, 1), (60, 20, 4), (90, 40, 100), (150, 8, 100)])
def test_hopfield_dynamics_follow_the_definition(update, N, M, sweeps):
    T = hebbian_couplings(dense_patterns(M, N, 1))
    S0 = np.where(np.random.default_rng(2).random((25, N)) < 0.5, 1, -1)
    S, n_sweeps, converged = hopfield_run(T, S0, update, sweeps, 7)
    np.testing.assert_array_equal(S, hopfield_reference(T, S0, update, sweeps, 7))
    h = S @ T
    fixed = ~np.any(S * h < 0, axis=1)
    np.testing.assert_array_equal(converged, fixed & (n_sweeps <= sweeps))
    assert np.all(n_sweeps <= sweeps)


def test_hopfield_async_energy_never_increases_and_ends_at_a_fixed_point():
    # Hopfield 1982: with symmetric couplings and zero diagonal, an asynchronous update never
    # raises E = -1/2 s^T T s, so the dynamics reach a fixed point.
    N = 200
    T = hebbian_couplings(dense_patterns(60, N, 3)) / N  # overloaded: long transients
    S = np.where(np.random.default_rng(4).random((20, N)) < 0.5, 1.0, -1.0)
    energies = [hopfield_energy(T, S)]
    for t in range(60):
        S, _, _ = hopfield_run(T, S, "async", 1, t)
        energies.append(hopfield_energy(T, S))
    E = np.array(energies)
    assert np.all(np.diff(E, axis=0) <= 1e-9)
    assert not np.any(S * (S @ T) < 0), "not at a fixed point after 60 sweeps"


def test_hopfield_one_step_error_rate_matches_closed_form():
    # From a stored pattern, unit i's field is xi_i (N-1)/N plus crosstalk: a sum of
    # (M-1)(N-1) products +-1/N. Gaussian approximation: P(flip) = 1/2 erfc(sqrt((N-1)/(2(M-1)))).
    N, M = 1000, 250
    P = dense_patterns(M, N, 5)
    net = Hopfield(update="sync", max_sweeps=1).fit(P)
    rate = float((net.encode(P) != P).mean())
    theory = 0.5 * math.erfc(math.sqrt((N - 1) / (2 * (M - 1))))
    assert abs(rate / theory - 1) < 0.10, (rate, theory)


@pytest.mark.slow
@pytest.mark.parametrize("update", ["async", "sync"])
def test_hopfield_capacity_is_near_0138_N(update):
    # Amit, Gutfreund & Sompolinsky 1985: retrieval states exist up to M = 0.138 N.
    N = 1000
    low = dense_patterns(int(0.05 * N), N, 6)
    net = Hopfield(update=update, random_state=0).fit(low)
    assert overlap(net.encode(low), low).mean() >= 0.97
    high = dense_patterns(int(0.25 * N), N, 7)
    net = Hopfield(update=update, random_state=0).fit(high)
    assert overlap(net.encode(high), high).mean() <= 0.6


def test_hopfield_recalls_from_a_noisy_cue():
    N, M = 500, 25
    P = dense_patterns(M, N, 8)
    net = Hopfield(random_state=0).fit(P)
    noisy = P.copy()
    flip = np.random.default_rng(9).random(P.shape) < 0.1
    noisy[flip] = 1 - noisy[flip]
    codes, sweeps, converged = net.recall(noisy, return_sweeps=True)
    assert overlap(codes, P).mean() >= 0.97 and converged.all()
    assert np.all(net.energy(codes) <= net.energy(noisy))


def test_hopfield_deleted_units_are_removed_from_the_circuit():
    N, M = 120, 10
    P = dense_patterns(M, N, 10)
    alive = np.random.default_rng(11).random(N) < 0.6
    cues = dense_patterns(15, N, 12)
    for update in ("async", "sync"):
        net = Hopfield(update=update, random_state=3).fit(P)
        got = net.encode(cues, unit_mask=alive)
        assert np.all(got[:, ~alive] == 0)
        small = Hopfield(update=update, random_state=3).fit(P[:, alive])
        np.testing.assert_array_equal(got[:, alive], small.encode(cues[:, alive]))


def test_hopfield_refuses_non_binary_patterns():
    with pytest.raises(ValueError, match="0 and 1"):
        Hopfield().fit(2 * dense_patterns(3, 8, 0) - 1)  # +-1 patterns: map to 0/1 first
    with pytest.raises(NotFittedError):
        _ = Hopfield().n_units
