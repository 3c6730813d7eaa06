"""Capacity measures against closed forms and against a second implementation.

* the bit-packed Willshaw path against :mod:`neurocode.models.memory` (byte matrix, sums);
* set-synapse fraction and spurious units of random k-of-N patterns against Willshaw et al.
  (1969) / Palm (1980); capacity over k peaking at sparse activity;
* the Hopfield net against Amit, Gutfreund & Sompolinsky (1985): recall at 0.05 N, not at 0.25 N;
* log2 C(N, k) against ``math.comb``; distinct codes on constructed code sets;
* channel information against the mutual information summed over the joint table.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from neurocode.metrics.capacity import (
    AGS_CAPACITY,
    associative_capacity,
    capacity_from_curve,
    capacity_vs_k,
    channel_information,
    log2_binomial,
    representational_capacity,
    willshaw_curve,
    willshaw_theory,
)
from neurocode.models.binary import random_code_indices, random_codes
from neurocode.models.memory import Hopfield, overlap, willshaw_recall, willshaw_store


# -- representational capacity ----------------------------------------------------------------
def test_log2_binomial_matches_math_comb():
    for n in range(0, 61):
        ks = np.arange(0, n + 1)
        want = np.array([math.log2(math.comb(n, int(k))) for k in ks])
        np.testing.assert_allclose(log2_binomial(n, ks), want, rtol=1e-12, atol=1e-11)
    # large N through lgamma, against exact big-integer binomials
    for n, k in [(784, 20), (5000, 700), (39200, 1176)]:
        assert log2_binomial(n, k) == pytest.approx(math.log2(math.comb(n, k)), rel=1e-12)
    assert log2_binomial(10, 11) == -np.inf


def test_representational_capacity_on_kofn_codes():
    N, k = 50, 7
    codes = random_codes(300, N, k, random_state=3).astype(np.float64)
    codes *= np.random.default_rng(0).uniform(0.5, 2.0, size=codes.shape)  # rates, same support
    out = representational_capacity(codes)
    assert out["k"] == k and out["k_mean"] == k
    assert out["bits"] == pytest.approx(math.log2(math.comb(N, k)), rel=1e-12)
    assert out["bits_dense"] == N
    assert out["bits_local"] == pytest.approx(math.log2(N))
    assert out["bits_article"] == k
    assert out["bits"] > out["bits_article"]  # C(N, k) > 2^k for 1 < k < N - 1


def test_representational_capacity_threshold_and_rounding():
    # mean activity 2.5 -> k = 3 (half up); values at the threshold are inactive
    codes = np.array([[0.5, 0.5, 0.2, 0.0], [0.5, 0.5, 0.5, 0.2]])
    out = representational_capacity(codes, threshold=0.2)
    assert out["k_mean"] == 2.5 and out["k"] == 3
    assert out["bits"] == pytest.approx(math.log2(math.comb(4, 3)))


def test_distinct_codes_counted_exactly():
    N = 12
    base = [np.eye(N)[i] for i in range(N)]                               # 12 local codes
    base += [np.eye(N)[i] + np.eye(N)[j] for i in range(N) for j in range(i + 1, N)][:25]
    rng = np.random.default_rng(1)
    reps = rng.integers(1, 5, size=len(base))
    rows = np.concatenate([np.repeat(b[None], r, axis=0) for b, r in zip(base, reps, strict=True)])
    rows = rows * rng.uniform(0.1, 3.0, size=rows.shape)                   # same binarisation
    rows = rows[rng.permutation(len(rows))]
    out = representational_capacity(rows)
    assert out["n_distinct"] == 37
    assert out["log2_distinct"] == pytest.approx(math.log2(37))
    assert out["n_samples"] == reps.sum()


# -- the fast Willshaw path against the memory module ----------------------------------------------
@pytest.mark.parametrize("hetero", [False, True])
def test_willshaw_curve_matches_memory_module(hetero):
    rng = np.random.default_rng(5)
    n, N, N_out = 400, 120, 90
    X = (rng.random((n, N)) < rng.uniform(0.02, 0.15, size=(n, 1))).astype(np.uint8)
    Y = (rng.random((n, N_out)) < 0.08).astype(np.uint8) if hetero else X
    lists = [np.flatnonzero(r) for r in X]
    targets = [np.flatnonzero(r) for r in Y] if hetero else None
    loads = [40, 150, 400]
    out = willshaw_curve(lists, N, loads, targets=targets, n_targets=N_out if hetero else None,
                         n_probe=n, stop_after=None)  # every stored pattern is a probe
    for i, M in enumerate(loads):
        W = willshaw_store(np.zeros((N, Y.shape[1]), dtype=bool), X[:M], Y[:M] if hetero else None)
        r = willshaw_recall(W, X[:M]).astype(bool)
        y = Y[:M].astype(bool)
        assert out["spurious"][i] == pytest.approx((r & ~y).sum(axis=1).mean())
        assert out["missed"][i] == pytest.approx((~r & y).sum(axis=1).mean())
        want_p1 = W.mean() if hetero else W[~np.eye(N, dtype=bool)].mean()
        assert out["fraction_set"][i] == pytest.approx(want_p1)
        assert out["n_distinct"][i] == len({tuple(a) + tuple(b) for a, b in
                                            zip(X[:M].tolist(), Y[:M].tolist(), strict=True)})


def test_partial_cue_recalls_supersets():
    # Recall from a subset of a stored pattern fires a superset of the full cue's recall and
    # never misses a stored unit (clipped Hebbian storage, threshold = cue activity).
    idx = random_code_indices(3000, 256, 10, random_state=2)
    kw = dict(loads=[500, 1500, 3000], n_probe=3000, stop_after=None)
    full = willshaw_curve(idx, 256, **kw)
    half = willshaw_curve(idx, 256, cue_fraction=0.5, **kw)
    assert np.all(half["spurious"] >= full["spurious"])
    assert half["spurious"][-1] > full["spurious"][-1]
    assert np.all(full["missed"] == 0) and np.all(half["missed"] == 0)


# -- Willshaw against the closed forms ---------------------------------------------------------
@pytest.mark.parametrize("hetero", [False, True])
def test_willshaw_fraction_set_and_spurious_match_theory(hetero):
    N, k = 1024, 10
    M_max = 20_000
    x = random_code_indices(M_max, N, k, random_state=10)
    y = random_code_indices(M_max, N, k, random_state=11) if hetero else None
    loads = [2000, 6000, 12_000, 16_000, 20_000]
    out = willshaw_curve(x, N, loads, targets=y, n_probe=2000, stop_after=None, random_state=1)
    th = willshaw_theory(N, k, out["loads"], autoassociative=not hetero)
    # fraction of set synapses: exact in expectation, N^2 ~ 10^6 synapses per estimate
    np.testing.assert_allclose(out["fraction_set"], th["fraction_set"], rtol=0.01)
    # spurious units per recall, where there are enough to measure (theory >= 10 per recall);
    # the independence approximation (N - k) p1^k runs a little low at small rates
    sel = th["spurious"] >= 10
    assert sel.sum() >= 2
    np.testing.assert_allclose(out["spurious"][sel], th["spurious"][sel], rtol=0.2)
    np.testing.assert_allclose(out["error"][sel], th["error"][sel], rtol=0.2)
    assert np.all(out["spurious"][th["spurious"] < 1e-3] < 0.01)


def test_willshaw_theory_capacity_solves_its_criterion():
    N, k, tol = 2048, 11, 0.01
    th = willshaw_theory(N, k, 1, tolerance=tol)
    M = th["capacity"]
    # error(M*) = tolerance and spurious(M*_one) = 1, by a second evaluation of the curve
    assert willshaw_theory(N, k, M)["error"] == pytest.approx(tol, rel=1e-9)
    assert willshaw_theory(N, k, th["capacity_one_spurious"])["spurious"] == pytest.approx(1.0)
    grid = np.arange(1, 3 * int(M))
    err = willshaw_theory(N, k, grid)["error"]
    assert grid[err <= tol].max() == math.floor(M)
    # p1 against the direct product formula
    assert willshaw_theory(N, k, 5000)["fraction_set"] == pytest.approx(
        1 - (1 - k * k / N**2) ** 5000)


@pytest.mark.slow
def test_capacity_vs_k_peaks_at_sparse_activity():
    N = 1024
    ks = [1, 2, 5, 10, 32, 128, 512]
    out = capacity_vs_k(N, ks, tolerance=1 / N, random_state=0, n_probe=200)
    cap = out["capacity"]
    assert not np.any(out["capacity_censored"])
    i_log = ks.index(10)  # ~ log2 N
    assert cap[i_log] > cap[0] and cap[i_log] > cap[-1]
    assert 0 < int(np.argmax(cap)) < len(ks) - 1
    assert 0 < int(np.argmax(out["theory_capacity"])) < len(ks) - 1
    assert 0 < int(np.argmax(out["bits_per_synapse"])) < len(ks) - 1
    # the measurement follows the closed form where the independence approximation holds
    sparse = np.array(ks) <= 32
    np.testing.assert_allclose(cap[sparse], out["theory_capacity"][sparse], rtol=0.2)
    # a local code holds about N pairs at this tolerance; a dense one only ~ 4 ln N
    assert 0.8 * N < cap[0] < 1.2 * N
    assert cap[-1] < 8 * math.log(N)


# -- Hopfield ------------------------------------------------------------------------------------
def test_hopfield_recall_within_and_beyond_capacity():
    N = 500
    X = (np.random.default_rng(0).random((N // 2, N)) < 0.5).astype(np.uint8)
    out = associative_capacity(X, loads=[N // 20, N // 4], memory="hopfield", n_probe=100,
                               stop_after=None, random_state=0)
    assert out["error"][0] <= 0.01          # M = 0.05 N: stored patterns are fixed points
    assert out["error"][1] > 0.2            # M = 0.25 N > 0.138 N: retrieval lost
    assert out["theory_capacity"] == pytest.approx(AGS_CAPACITY * N)
    np.testing.assert_allclose(out["overlap"], 1 - out["error"])


def test_hopfield_curve_matches_hopfield_rule():
    # every stored pattern probed, synchronous updates (deterministic): the same overlaps as
    # the Hopfield rule of neurocode.models.memory recalling the stored patterns
    N = 200
    X = (np.random.default_rng(2).random((60, N)) < 0.5).astype(np.uint8)
    loads = [10, 30, 60]
    out = associative_capacity(X, loads=loads, memory="hopfield", update="sync", n_probe=60,
                               max_sweeps=20, stop_after=None)
    for i, M in enumerate(loads):
        net = Hopfield(update="sync", max_sweeps=20).fit(X[:M].astype(float))
        assert out["overlap"][i] == pytest.approx(overlap(net.encode(X[:M].astype(float)),
                                                          X[:M]).mean())


def test_hopfield_capacity_near_ags():
    N = 400
    X = (np.random.default_rng(1).random((N // 4, N)) < 0.5).astype(np.uint8)
    loads = np.unique(np.rint(np.linspace(0.02, 0.25, 24) * N).astype(int))
    out = associative_capacity(X, loads=loads, memory="hopfield", n_probe=100, random_state=0)
    # error = 1 - m <= 0.01 needs m >= 0.99: below alpha_c = 0.138 (m = 0.967 there, AGS 1985)
    assert 0.08 * N < out["capacity"] < AGS_CAPACITY * N * 1.1


# -- capacity from a curve, information -----------------------------------------------------------
def test_capacity_from_curve_interpolates():
    assert capacity_from_curve([10, 20, 40], [0.0, 0.005, 0.015], 0.01) == (30.0, False)
    assert capacity_from_curve([10, 20], [0.0, 0.005], 0.01) == (20.0, True)
    assert capacity_from_curve([10, 20], [0.02, 0.05], 0.01) == (0.0, False)
    # the last load within tolerance counts, even after an excursion above it
    assert capacity_from_curve([1, 2, 3, 4], [0.0, 0.02, 0.0, 0.03], 0.01)[0] == pytest.approx(
        3 + 1 / 3)


def test_channel_information_matches_joint_table():
    rng = np.random.default_rng(0)
    for _ in range(20):
        p, q10, q01 = rng.uniform(0.01, 0.99, size=3)
        joint = np.array([[(1 - p) * (1 - q10), (1 - p) * q10],
                          [p * q01, p * (1 - q01)]])  # rows x = 0, 1; columns y = 0, 1
        px, py = joint.sum(axis=1), joint.sum(axis=0)
        mi = float(np.sum(joint * np.log2(joint / np.outer(px, py))))
        assert channel_information(p, q10, q01) == pytest.approx(mi, rel=1e-10, abs=1e-12)
    assert channel_information(0.5, 0.0) == pytest.approx(1.0)


@pytest.mark.parametrize("hetero", [True, False])
def test_bits_per_synapse_counts_distinct_patterns(hetero):
    # the same 40 patterns (pairs) stored over and over: the stored information stops growing.
    # A full autoassociative cue is credited with nothing (it holds the whole pattern), so the
    # autoassociative case recalls from half cues, drawn afresh per probe: equal within their
    # sampling noise (about 0.1 spurious units per recall, +-3% in bits; counting every copy
    # would grow them 10-fold); hetero pairs from full cues: every pair probed, exactly equal
    idx = random_code_indices(40, 128, 6, random_state=0)
    rep = np.tile(idx, (10, 1))
    tgt = np.tile(random_code_indices(40, 128, 6, random_state=1), (10, 1)) if hetero else None
    out = willshaw_curve(rep, 128, loads=[40, 200, 400], targets=tgt, n_probe=400,
                         stop_after=None, cue_fraction=1.0 if hetero else 0.5)
    assert np.all(out["n_distinct"] == 40)
    b = out["bits_per_synapse"]
    assert b[0] > 0
    np.testing.assert_allclose(b, b[0], rtol=1e-12 if hetero else 0.06)


# -- input checks and the result's shape ----------------------------------------------------------
@pytest.mark.parametrize("bad, msg", [
    (np.zeros(5), "2-D"),
    (np.zeros((0, 5)), "empty"),
    (np.zeros((3, 0)), "no units"),
    (np.array([[0.0, np.nan]]), "NaN"),
    (np.array([["a", "b"]]), "numeric"),
])
def test_representational_capacity_rejects_bad_codes(bad, msg):
    with pytest.raises(ValueError, match=msg):
        representational_capacity(bad)


def test_associative_capacity_rejects_bad_input():
    X = random_codes(20, 16, 3, random_state=0)
    with pytest.raises(ValueError, match="0 and 1"):
        associative_capacity(X * 0.5)
    with pytest.raises(ValueError, match="NaN"):
        associative_capacity(np.where(X == 1, np.nan, 0.0))
    with pytest.raises(ValueError, match="memory"):
        associative_capacity(X, memory="bam")
    with pytest.raises(ValueError, match="only 20 patterns"):
        associative_capacity(X, loads=[5, 30])
    with pytest.raises(ValueError, match="whole numbers"):
        associative_capacity(X, loads=[0, 5])
    with pytest.raises(ValueError, match="tolerance"):
        associative_capacity(X, tolerance=-0.1)
    with pytest.raises(ValueError, match="cue_fraction"):
        associative_capacity(X, cue_fraction=0.0)
    with pytest.raises(ValueError, match="k_values"):
        capacity_vs_k(16, [1, 16])
    with pytest.raises(ValueError, match="outside"):
        willshaw_curve([[0, 16]], 16)
    with pytest.raises(ValueError, match="twice"):
        willshaw_curve([[3, 3]], 16)
    with pytest.raises(ValueError, match="k must be"):
        willshaw_theory(16, 0, 10)


@pytest.mark.parametrize("memory", ["willshaw", "hopfield"])
def test_associative_capacity_smoke_result_shape(memory):
    X = random_codes(300, 64, 8, random_state=0)
    out = associative_capacity(X, memory=memory, n_probe=50, max_units=48)
    n = len(out["loads"])
    assert n >= 1 and out["n_units"] == 48 and out["n_units_given"] == 64
    for key, v in out.items():
        assert isinstance(v, (float, np.ndarray)), key
        if isinstance(v, np.ndarray):
            assert v.shape == (n,), key
    silent = associative_capacity(np.zeros((10, 8), dtype=np.uint8), memory=memory)
    assert np.all(silent["error"] == 0) and silent["capacity_censored"] == 1.0


def test_one_unit_code_has_no_autoassociative_synapse():
    # N = 1: with the diagonal excluded there is no synapse; the fraction set is undefined
    # (NaN) instead of a division by zero that stopped the whole battery
    from neurocode.metrics.capacity import associative_capacity

    patterns = np.ones((50, 1), dtype=np.uint8)
    out = associative_capacity(patterns, memory="willshaw", tolerance=0.1, random_state=0)
    assert np.isnan(out["fraction_set"]).all()


def test_split_modules_keep_every_name_at_its_old_address_with_one_definition():
    # capacity.py was split along its ideas (recall curves, the Willshaw memory, the Hopfield
    # memory); every name a caller imported from it is still there, the very same object
    import ast
    import importlib
    from pathlib import Path

    cap = importlib.import_module("neurocode.metrics.capacity")
    homes = {
        "neurocode.metrics.recall": ["capacity_from_curve", "_check_loads", "_geometric_loads"],
        "neurocode.metrics.willshaw_memory": ["willshaw_curve"],
        "neurocode.metrics.hopfield_memory": ["AGS_CAPACITY"],
        "neurocode.theory.willshaw": ["willshaw_theory", "log2_binomial",
                                      "channel_information", "_distinct_synapses"],
    }
    for module, names in homes.items():
        mod = importlib.import_module(module)
        for name in names:
            assert getattr(cap, name) is getattr(mod, name), name
    for name in cap.__all__:
        assert hasattr(cap, name), name
    for name in ("associative_capacity", "capacity_vs_k", "representational_capacity"):
        assert getattr(cap, name).__module__ == "neurocode.metrics.capacity"
    # one definition of each function across the split modules
    here = Path(cap.__file__).parent
    defs: dict[str, list[str]] = {}
    for f in ("capacity", "recall", "willshaw_memory", "hopfield_memory"):
        tree = ast.parse((here / f"{f}.py").read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                defs.setdefault(node.name, []).append(f)
        assert len((here / f"{f}.py").read_text(encoding="utf-8").splitlines()) <= 600, f
    assert all(len(v) == 1 for v in defs.values()), {k: v for k, v in defs.items() if len(v) > 1}
