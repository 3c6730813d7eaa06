"""Interference measures against closed forms and independent computations: the Ahmad-Hawkins
false-match probability against exact enumeration, scipy's hypergeometric law, and an exact
Markov chain over the union's size; unions of random k-of-N codes against 1 - (1 - w/n)^M;
Jaccard overlaps of identical, disjoint and random codes; superposition on constructed rules
whose pair codes are known exactly."""

import itertools
import math

import numpy as np
import pytest
from scipy.stats import hypergeom

from neurocode.metrics.interference import (
    ahmad_hawkins_false_match,
    class_overlap,
    random_jaccard,
    superposition,
    union_false_match,
    union_on_fraction,
)
from neurocode.metrics.readout import Readout, fit_readout
from neurocode.models.binary import random_codes
from neurocode.rules import CodingRule

pytestmark = pytest.mark.usefixtures("one_blas_thread")


# -- Ahmad-Hawkins closed form --------------------------------------------------------------------
def enumerate_false_match(n, w, s, theta):
    """Fraction of all w-subsets of n units with >= theta units in the stored set {0..s-1}."""
    hits = total = 0
    for probe in itertools.combinations(range(n), w):
        total += 1
        hits += sum(u < s for u in probe) >= theta
    return hits / total


def test_ahmad_hawkins_equals_exact_enumeration_small_n():
    n = 10
    for w in range(0, n + 1, 2):
        for s in range(0, n + 1, 3):
            for theta in range(0, w + 2):
                got = ahmad_hawkins_false_match(n, w, s, theta)
                assert got == pytest.approx(enumerate_false_match(n, w, s, theta), abs=1e-12)


def test_ahmad_hawkins_equals_scipy_hypergeometric_tail_large_n():
    n, w = 2048, 40
    s = np.array([40, 300, 1000, 1700, 2000])[:, None]
    theta = np.array([1, 5, 10, 20, 30, 40])[None, :]
    got = ahmad_hawkins_false_match(n, w, s, theta)
    want = hypergeom.sf(theta - 1, n, s, w)
    assert got.shape == (5, 6)
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-300)
    # tiny probabilities keep their relative precision (log-space sum)
    assert ahmad_hawkins_false_match(2048, 40, 40, 40) == pytest.approx(1 / math.comb(2048, 40),
                                                                         rel=1e-8)


def test_ahmad_hawkins_edges_and_interpolation():
    assert ahmad_hawkins_false_match(100, 10, 50, 0) == 1.0
    assert ahmad_hawkins_false_match(100, 10, 50, 11) == 0.0
    assert ahmad_hawkins_false_match(100, 10, 5, 6) == 0.0           # theta > s
    assert ahmad_hawkins_false_match(100, 10, 100, None) == 1.0      # everything is ON
    full = ahmad_hawkins_false_match(100, 10, 40, None)
    assert full == ahmad_hawkins_false_match(100, 10, 40, 10)
    assert isinstance(ahmad_hawkins_false_match(100, 10, 40, 5), float)
    lo, hi = ahmad_hawkins_false_match(100, 10, 40, 5), ahmad_hawkins_false_match(100, 10, 41, 5)
    assert ahmad_hawkins_false_match(100, 10, 40.25, 5) == pytest.approx(0.75 * lo + 0.25 * hi)
    for bad in [dict(n=0, w=0, s=0), dict(n=10, w=11, s=3), dict(n=10, w=3, s=11),
                dict(n=10, w=3, s=np.nan), dict(n=10, w=2.5, s=3)]:
        with pytest.raises(ValueError):
            ahmad_hawkins_false_match(theta=1, **bad)


def test_union_on_fraction_of_random_codes():
    """E[|union|]/n = 1 - (1 - w/n)^M for unions of random k-of-N codes (built here directly)."""
    n, w, R = 512, 16, 400
    codes = random_codes(R * 64, n, w, random_state=1).reshape(R, 64, n).astype(bool)
    for M in (1, 8, 32, 64):
        frac = codes[:, :M].any(axis=1).mean(axis=1)  # R independent unions
        p = union_on_fraction(n, w, M)
        se = math.sqrt(p * (1 - p) / n / R)  # negatively associated units: binomial bound
        assert abs(frac.mean() - p) < 5 * se + 1e-12
    assert union_on_fraction(n, w, 1) == pytest.approx(w / n)
    assert union_on_fraction(n, w, 0) == 0.0


# -- unions: the measure on random codes ----------------------------------------------------------
def union_size_distribution(n, w, loads):
    """Exact law of the ON count of a union of M random w-of-n codes (a Markov chain: each new
    code adds x ~ Hypergeom(n, n - s, w) new units), for each M in loads."""
    dist = np.zeros(n + 1)
    dist[0] = 1.0
    x = np.arange(w + 1)
    s = np.arange(n + 1)
    add = hypergeom.pmf(x[None, :], n, (n - s)[:, None], w)  # (s, x)
    out, M = {}, 0
    for target in sorted(loads):
        while M < target:
            new = np.zeros(n + 1)
            for xi in x:
                new[xi:] += (dist * add[:, xi])[:n + 1 - xi]
            dist, M = new, M + 1
        out[target] = dist.copy()
    return out


@pytest.mark.slow
@pytest.mark.parametrize("theta", [None, 12])
def test_union_false_match_of_random_codes_against_theory(theta):
    n, w = 1024, 20
    loads = [60, 90, 120, 150] if theta is None else [10, 20, 30, 45]
    n_probes, n_unions = 400, 60
    codes = random_codes(4000, n, w, random_state=3)
    out = union_false_match(codes, loads=loads, theta=theta, n_probes=n_probes,
                            n_unions=n_unions, random_state=0)
    np.testing.assert_array_equal(out["loads"], loads)
    assert out["mean_active"] == w and out["n_units"] == n
    th = w if theta is None else theta
    laws = union_size_distribution(n, w, loads)
    for li, M in enumerate(loads):
        ps = ahmad_hawkins_false_match(n, w, np.arange(n + 1), th)
        exact = float(laws[M] @ ps)                              # E_s[P(s)], exact
        var_between = float(laws[M] @ (ps - exact) ** 2)          # union-to-union spread of P
        var_within = float(laws[M] @ (ps * (1 - ps)))             # probes given a union
        se = math.sqrt(var_within / (n_probes * n_unions) + var_between / n_unions)
        se_cond = math.sqrt(var_within / (n_probes * n_unions))
        # the measurement against the exact mean, and against the formula at each union's size
        assert abs(out["false_match"][li] - exact) < 4.5 * se + 1e-9
        assert abs(out["false_match"][li] - out["theory_false_match_measured_on"][li]) \
            < 4.5 * se_cond + 1e-9
        assert abs(out["false_match_random"][li] - out["theory_false_match_measured_on"][li]) \
            < 4.5 * se_cond + 1e-9
        # Ahmad-Hawkins with the expected ON fraction: the exact mean up to the approximation
        # (computed here exactly), itself within 15 % of the exact mean at n = 1024
        ah = ahmad_hawkins_false_match(n, w, n * union_on_fraction(n, w, M), th)
        assert out["theory_false_match"][li] == pytest.approx(ah, rel=1e-9, abs=1e-15)
        assert abs(ah - exact) <= 0.15 * exact
        assert abs(out["false_match"][li] - ah) < abs(ah - exact) + 4.5 * se + 1e-9
        # the union's ON fraction
        p = union_on_fraction(n, w, M)
        assert out["theory_union_on_fraction"][li] == pytest.approx(p)
        assert abs(out["union_on_fraction"][li] - p) < 5 * math.sqrt(p * (1 - p) / n / n_unions)


def test_union_false_match_local_code_structure_versus_chance():
    """A local code (one unit per item): another item's code never matches the union, while
    a random one-unit code matches it with probability exactly M / n."""
    n = 500
    codes = np.eye(n)
    loads = [50, 100, 250]
    out = union_false_match(codes, loads=loads, n_probes=200, n_unions=5)
    np.testing.assert_array_equal(out["false_match"], 0.0)
    np.testing.assert_allclose(out["theory_false_match_measured_on"], np.array(loads) / n)
    # with w = 1, P = s / n: the expected ON fraction itself
    np.testing.assert_allclose(out["theory_false_match"], union_on_fraction(n, 1, np.array(loads)),
                               rtol=1e-9)
    np.testing.assert_allclose(out["union_on_fraction"], np.array(loads) / n)


def test_union_false_match_defaults_and_validation():
    codes = random_codes(600, 128, 8, random_state=0)
    out = union_false_match(codes)
    loads = out["loads"]
    assert loads[0] == 1 and np.all(np.diff(loads) > 0) and loads[-1] <= 300
    assert all(np.ndim(v) == 0 or v.shape == loads.shape for v in out.values())
    assert math.isnan(out["theta"])
    with pytest.raises(ValueError, match="loads"):
        union_false_match(codes, loads=[0, 5])
    with pytest.raises(ValueError, match="loads"):
        union_false_match(codes, loads=[600])
    with pytest.raises(ValueError, match="2-D"):
        union_false_match(codes[0])
    bad = codes.astype(float)
    bad[3, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        union_false_match(bad)
    with pytest.raises(ValueError, match="n_probes"):
        union_false_match(codes, n_probes=0)
    with pytest.raises(ValueError, match="theta"):
        union_false_match(codes, theta=0)
    with pytest.raises(ValueError, match="threshold"):
        union_false_match(codes, threshold=-1)
    with pytest.raises(ValueError, match="units"):
        union_false_match(np.zeros((5, 0)))


# -- Jaccard overlap ------------------------------------------------------------------------------
def hypergeometric_jaccard(n, k):
    """E[|A&B| / |A|B|] for two independent random k-subsets of n, from the definition."""
    return sum(math.comb(k, x) * math.comb(n - k, k - x) / math.comb(n, k) * x / (2 * k - x)
               for x in range(0, k + 1))


def test_random_jaccard_against_enumeration_and_closed_form():
    n, a, b = 7, 2, 3
    A = set(range(a))
    js = [len(A & set(B)) / len(A | set(B)) for B in itertools.combinations(range(n), b)]
    assert random_jaccard(n, a, b) == pytest.approx(np.mean(js), abs=1e-12)
    assert random_jaccard(1024, 20, 20) == pytest.approx(hypergeometric_jaccard(1024, 20), rel=1e-9)
    assert random_jaccard(10, 0, 3) == 0.0
    assert math.isnan(random_jaccard(10, 0, 0))
    assert random_jaccard(10, 10, 4) == pytest.approx(0.4)  # A is everything: J = |B| / n
    got = random_jaccard(100, np.array([5, 10]), np.array([[5], [10]]))
    assert got.shape == (2, 2) and got[0, 1] == pytest.approx(random_jaccard(100, 10, 5))


def test_class_overlap_identical_and_disjoint_codes():
    y = np.repeat(np.arange(4), 30)
    same = np.tile((np.arange(40) < 7).astype(float), (len(y), 1))
    out = class_overlap(same, y)
    assert out["jaccard_between"] == 1.0 and out["jaccard_within"] == 1.0
    blocks = np.zeros((len(y), 40))
    for c in range(4):  # class c: units 10c..10c+9, a random half of them per stimulus
        rows = np.flatnonzero(y == c)
        blocks[rows, 10 * c:10 * c + 10] = np.random.default_rng(c).random((30, 10)) < 0.5
    blocks[np.arange(len(y)), 10 * y] = 1.0  # every code has at least its block's first unit
    out = class_overlap(blocks, y, max_pairs=5000)
    assert out["jaccard_between"] == 0.0
    assert out["jaccard_within"] > 0.0
    assert out["n_pairs_between"] == 5000 and out["n_pairs_within"] == 5000


def test_class_overlap_of_random_codes_is_the_hypergeometric_expectation():
    n, k = 256, 12
    codes = random_codes(3000, n, k, random_state=5)
    y = np.random.default_rng(6).integers(0, 10, len(codes))
    out = class_overlap(codes, y, max_pairs=20000, random_state=1)
    want = hypergeometric_jaccard(n, k)
    for kind in ("between", "within"):
        se = out[f"jaccard_{kind}_std"] / math.sqrt(20000)
        assert abs(out[f"jaccard_{kind}"] - want) < 5 * se
        assert out[f"theory_jaccard_random_{kind}"] == pytest.approx(want, rel=1e-9)
    assert out["fraction_empty_between"] == 0.0


def test_class_overlap_threshold_silent_codes_and_validation():
    codes = np.array([[0.5, 0.0], [0.2, 0.0], [0.0, 0.0], [0.0, 0.6]])
    y = np.array([0, 0, 1, 1])
    # threshold 0.3: only units above it count; stimuli 1 and 2 are silent
    out = class_overlap(codes, y, threshold=0.3, max_pairs=2000)
    assert 0 < out["fraction_empty_between"] < 1
    assert out["jaccard_between"] == 0.0
    with pytest.raises(ValueError, match="two classes"):
        class_overlap(codes, np.zeros(4))
    with pytest.raises(ValueError, match="y must"):
        class_overlap(codes, y[:3])
    with pytest.raises(ValueError, match="max_pairs"):
        class_overlap(codes, y, max_pairs=0)


# -- superposition --------------------------------------------------------------------------------
class InputIsCode(CodingRule):
    """The code is the input itself (units = pixels): a pair's code is exactly the union."""

    name = "test-input-is-code"
    code_kind = "binary"

    @property
    def n_units(self):
        return self.n_features_in_

    def _fit(self, X, y=None):
        pass

    def _encode(self, X, mask):
        return X * mask


class WinnerTakesAll(InputIsCode):
    """A local code: only the unit of the largest input fires."""

    name = "test-winner-takes-all"

    def _encode(self, X, mask):
        out = np.zeros(X.shape)
        out[np.arange(len(X)), np.argmax(X * mask, axis=1)] = 1.0
        return out


class BlockProbe:
    """Class c scores the number of active units in block c (units 5c..5c+4)."""

    classes_ = np.arange(4)

    def decision_function(self, codes):
        return np.asarray(codes).reshape(len(codes), 4, 5).sum(axis=2)


class BlockReadout:
    """The same scores, read from stimuli (the path of a rule's own classifier)."""

    probe = None

    def __init__(self, rule):
        self.rule = rule

    def scores(self, X):
        return BlockProbe().decision_function(self.rule.encode(X))


def block_stimuli(n=200, seed=0):
    """Class c lights a random non-empty subset of pixels 5c..5c+4 (one-hot-ish images)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    X = np.zeros((n, 20))
    for i, c in enumerate(y):
        on = rng.random(5) < 0.5
        on[rng.integers(5)] = True
        X[i, 5 * c:5 * c + 5] = on
    return X, y


def test_superposition_of_a_code_that_is_its_input_is_the_union():
    X, y = block_stimuli()
    rule = InputIsCode().fit(X)
    for readout in (Readout(rule, BlockProbe()), BlockReadout(rule), fit_readout(rule, X, y)):
        out = superposition(rule, readout, X, y, n_pairs=300, random_state=2)
        assert out["top2_accuracy"] == 1.0
        assert out["top1_in_pair"] == 1.0
        assert out["single_accuracy"] == 1.0
        np.testing.assert_array_equal(out["spurious_units"], 0)
        np.testing.assert_array_equal(out["lost_units"], 0)
        assert out["mean_spurious_fraction"] == 0.0 and out["mean_lost_fraction"] == 0.0
        assert out["pair_union_jaccard"] == 1.0
        assert out["chance_top2"] == pytest.approx(1 / 6)
        assert out["spurious_units"].shape == (300,)
        assert out["mean_union_size"] >= 2


def test_superposition_of_a_local_winner_take_all_code_loses_one_of_two():
    """One winner per stimulus: the pair keeps one of the two single winners (different classes
    have different winners), so exactly 1 of the 2 union units is lost and the second class is
    never read: top-2 accuracy 0, top-1 always one of the pair."""
    X, y = block_stimuli(seed=1)
    X = X * (1 + np.arange(20) / 100)  # distinct pixel values: a unique winner
    rule = WinnerTakesAll().fit(X)
    out = superposition(rule, Readout(rule, BlockProbe()), X, y, n_pairs=300)
    np.testing.assert_array_equal(out["union_size"], 2)
    np.testing.assert_array_equal(out["lost_units"], 1)
    np.testing.assert_array_equal(out["spurious_units"], 0)
    assert out["mean_lost_fraction"] == 0.5
    assert out["top2_accuracy"] == 0.0 and out["top1_in_pair"] == 1.0


def test_superposition_validation():
    X, y = block_stimuli()
    rule = InputIsCode().fit(X)
    readout = Readout(rule, BlockProbe())
    with pytest.raises(ValueError, match="two classes"):
        superposition(rule, readout, X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="n_pairs"):
        superposition(rule, readout, X, y, n_pairs=0)
    with pytest.raises(ValueError, match="not classes of the readout"):
        superposition(rule, readout, X, y + 10)
    with pytest.raises(ValueError, match="2-D"):
        superposition(rule, readout, X[0], y)
    with pytest.raises(ValueError, match="threshold"):
        superposition(rule, readout, X, y, threshold=np.nan)
