"""Fault tolerance: checked against closed forms (binomial / hypergeometric survival of k-of-N
items, the linear decline of a local code, the Hopfield capacity 0.138 N) and against an
independent recomputation (memories rebuilt on the surviving units only)."""

from __future__ import annotations

import doctest
import math
from typing import Any, ClassVar

import numpy as np
import pytest
from scipy.stats import binom

from neurocode.metrics import fault
from neurocode.metrics.fault import (
    fault_tolerance,
    half_range_fraction,
    kofn_survival,
    kofn_survival_theory,
    memory_fault_tolerance,
    n_silenced,
    normalised_auc,
)
from neurocode.metrics.readout import fit_readout
from neurocode.models.binary import random_codes
from neurocode.models.memory import Hopfield, Willshaw
from neurocode.params import Param
from neurocode.rules import CodingRule


# -- test rules -----------------------------------------------------------------------------
class PrototypeCode(CodingRule):
    """Feed-forward class code: a stimulus (one-hot class vector) gets its class's prototype.

    A silenced unit outputs 0 and changes nothing else, so the code's own structure is all that
    decides how the readout degrades: ``prototypes="local"`` is one unit per class (the
    identity), ``"dense"`` a random k-of-N code with ``k = N/2`` per class.
    """

    name = "test-prototype"
    code_kind = "binary"
    params: ClassVar[dict[str, Param]] = {
        "n_units": Param(int, 10, low=1),
        "prototypes": Param(str, "local", choices=("local", "dense")),
    }

    def _fit(self, X: np.ndarray, y: Any = None) -> None:
        C = X.shape[1]
        if self.prototypes == "local":
            assert C == self.n_units
            self.codes_ = np.eye(C)
        else:
            self.codes_ = random_codes(C, self.n_units, self.n_units // 2,
                                       random_state=self.random_state).astype(float)

    def _encode(self, X: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return self.codes_[X.argmax(axis=1)] * mask


def _class_data(n_classes: int, per_class: Any) -> tuple[np.ndarray, np.ndarray]:
    counts = np.broadcast_to(per_class, (n_classes,))
    y = np.repeat(np.arange(n_classes), counts)
    return np.eye(n_classes)[y], y


def _fitted(prototypes: str, n_classes: int, n_units: int, per_class: Any = 25):
    X, y = _class_data(n_classes, per_class)
    rule = PrototypeCode(n_units=n_units, prototypes=prototypes, random_state=0).fit(X)
    return rule, fit_readout(rule, X, y), X, y


# -- survival of k-of-N items ---------------------------------------------------------------
@pytest.mark.parametrize("k, theta", [(1, 1), (10, 1), (10, 3), (10, 8), (20, 10)])
def test_kofn_survival_theory_is_the_binomial_tail(k, theta):
    f = np.linspace(0, 1, 11)
    direct = [sum(math.comb(k, j) * (1 - x) ** j * x ** (k - j) for j in range(theta, k + 1))
              for x in f]
    np.testing.assert_allclose(kofn_survival_theory(k, theta, f), direct, atol=1e-12)


def test_kofn_survival_theory_exact_count_is_hypergeometric():
    # N = 10, k = 2, theta = 2, m = 5 dead: both units alive with probability C(5,2)/C(10,2)
    p = kofn_survival_theory(2, 2, [0.5], n_units=10)[0]
    assert p == pytest.approx(math.comb(5, 2) / math.comb(10, 2))
    # local code: an item survives iff its unit does: 1 - m/N exactly
    np.testing.assert_allclose(kofn_survival_theory(1, 1, [0, 0.3, 1], n_units=10), [1, 0.7, 0])


@pytest.mark.parametrize("k, theta", [(10, 1), (10, 3), (10, 7)])
def test_kofn_survival_matches_theory(k, theta):
    """Monte Carlo of unit deaths on random k-of-N codes against the closed forms."""
    N, n_draws = 2000, 40
    codes = random_codes(3000, N, k, random_state=1)
    res = kofn_survival(codes, theta, n_draws=n_draws, random_state=2)
    f = res["fractions"]
    p = res["theory_survival"]
    # standard error of the mean over draws: measured, floored by the items' own binomial
    # error (the measured spread is 0 where survival is within 1e-6 of 0 or 1)
    se = np.maximum(res["survival_std"] * math.sqrt(n_draws / (n_draws - 1)),
                    np.sqrt(p * (1 - p) / len(codes))) / math.sqrt(n_draws)
    # exactly m(f) dead: the mean over masks is the hypergeometric tail
    assert np.all(np.abs(res["survival"] - res["theory_survival"]) <= 5 * se + 1e-12)
    # the binomial tail (independent deaths), computed here with scipy, for N >> k
    tail = binom.sf(theta - 1, k, 1 - f)
    assert np.all(np.abs(res["survival"] - tail) <= 5 * se + 0.01)
    assert res["survival"][0] == 1.0 and res["survival"][-1] == 0.0
    assert res["k"] == k and res["theta"] == theta


def test_kofn_survival_of_uneven_codes_has_no_theory():
    codes = np.zeros((4, 6))
    codes[0, :2] = codes[1, :3] = codes[2, :1] = codes[3, :4] = 1
    res = kofn_survival(codes, 2, fractions=[0, 1])
    assert "theory_survival" not in res
    np.testing.assert_allclose(res["survival"], [0.75, 0.0])  # 3 of 4 items have >= 2 units


# -- readout accuracy under damage ----------------------------------------------------------
def test_local_code_loses_accuracy_linearly():
    N = 40  # m(f) = 40 f exactly on the default grid
    rule, ro, X, y = _fitted("local", N, N)
    res = fault_tolerance(rule, ro, X, y, n_draws=10, random_state=0, max_stimuli=None)
    f, chance = res["fractions"], res["chance"]
    assert res["accuracy_intact"] == 1.0 and chance == 1 / N
    np.testing.assert_allclose(n_silenced(f, N), 40 * f)
    # a stimulus is right while its class's unit is alive; once silenced its code is all
    # zeros, read as one fixed class c0: a(f) = (1 - f) + [c0 silenced] / N, in expectation
    # (1 - f) + f / N = (1 - f) * 1 + f * chance
    expected = (1 - f) + f * chance
    for key in ("accuracy_random", "accuracy_most_active"):
        acc = res[key]
        assert np.all(acc >= 1 - f - 1e-12) and np.all(acc <= 1 - f + 1 / N + 1e-12), key
        assert np.all(np.abs(acc - expected) <= 1 / N + 1e-12), key
    np.testing.assert_allclose(res["theory_local"], expected)
    assert res["auc_random"] == pytest.approx(0.5, abs=0.02)
    assert res["half_fraction_random"] == pytest.approx(0.5, abs=0.03)


def test_most_active_first_silences_the_busiest_units():
    """Uneven classes: unit c of a local code is active for (c + 1) * 5 stimuli, so the
    most-active order silences the units of the largest classes first."""
    N = 10
    per_class = (np.arange(N) + 1) * 5
    rule, ro, X, y = _fitted("local", N, N, per_class)
    res = fault_tolerance(rule, ro, X, y, orders=("most-active",), max_stimuli=None)
    assert "accuracy_random" not in res
    c0 = int(ro.probe.classes_[ro.scores_from_codes(np.zeros((1, N))).argmax()])
    n = per_class.sum()
    for fi, acc in zip(res["fractions"], res["accuracy_most_active"], strict=True):
        m = int(round(fi * N))
        alive_classes = np.arange(N - m)  # classes N-1, N-2, ... lost first
        expected = per_class[alive_classes].sum() / n + (per_class[c0] / n if c0 >= N - m else 0)
        assert acc == pytest.approx(expected), fi


def test_dense_code_degrades_more_gracefully_than_local():
    N = 40
    local = fault_tolerance(*_fitted("local", N, N), n_draws=5, max_stimuli=None)
    dense = fault_tolerance(*_fitted("dense", N, N), n_draws=5, max_stimuli=None)
    assert dense["accuracy_intact"] == 1.0
    assert dense["auc_random"] > local["auc_random"] + 5 * dense["auc_random_std"]
    assert dense["half_fraction_random"] > local["half_fraction_random"]


def test_fault_tolerance_kofn_rule_smoke():
    from neurocode import get_rule

    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    X = np.eye(3)[y] + 0.1 * rng.standard_normal((300, 3))
    rule = get_rule("kofn", n_units=30, k=4, random_state=0).fit(X)
    ro = fit_readout(rule, X, y)
    a = fault_tolerance(rule, ro, X, y, max_stimuli=100, random_state=3)
    b = fault_tolerance(rule, ro, X, y, max_stimuli=100, random_state=3)
    for key, v in a.items():
        np.testing.assert_array_equal(v, b[key])
        assert isinstance(v, (float, np.ndarray)), key
    assert a["n_stimuli"] == 100 and a["accuracy_random"].shape == a["fractions"].shape == (11,)


# -- curve summaries ------------------------------------------------------------------------
def test_half_range_fraction_interpolates():
    f = [0, 0.25, 0.5, 0.75, 1]
    acc = [0.9, 0.8, 0.6, 0.3, 0.1]
    # level 0.1 + 0.8 / 2 = 0.5, crossed between (0.5, 0.6) and (0.75, 0.3)
    assert half_range_fraction(f, acc, 0.9, 0.1) == pytest.approx(0.5 + 0.1 / 0.3 * 0.25)
    # the intact point (0, 0.9) anchors a curve measured from 0.5 on: crossed on (0, 0.9)-(0.5, 0.1)
    assert half_range_fraction([0.5, 1], [0.1, 0.1], 0.9, 0.1) == pytest.approx(0.25)
    # exactly at the level
    assert half_range_fraction(f, [0.9, 0.5, 0.4, 0.2, 0.1], 0.9, 0.1) == pytest.approx(0.25)
    # never reached, or no range to lose
    assert math.isnan(half_range_fraction(f, [0.9, 0.9, 0.8, 0.7, 0.6], 0.9, 0.1))
    assert math.isnan(half_range_fraction(f, acc, 0.1, 0.1))


def test_normalised_auc():
    f = np.linspace(0, 1, 11)
    assert normalised_auc(f, 0.9 - 0.8 * f, 0.9, 0.1) == pytest.approx(0.5)
    assert normalised_auc(f, np.full(11, 0.9), 0.9, 0.1) == pytest.approx(1.0)
    # drops to chance at the first step: only the first trapezoid, (1 + 0) / 2 * 0.1
    assert normalised_auc(f, np.r_[0.9, np.full(10, 0.1)], 0.9, 0.1) == pytest.approx(0.05)
    # measured on [0.5, 1] only: anchored at (0, intact), mean over [0, 1]
    assert normalised_auc([0.5, 1.0], [0.5, 0.1], 0.9, 0.1) == pytest.approx(
        ((1 + 0.5) / 2 * 0.5 + (0.5 + 0) / 2 * 0.5) / 1.0)
    assert math.isnan(normalised_auc(f, 0.9 - 0.8 * f, 0.1, 0.1))


# -- associative memories -------------------------------------------------------------------
class _Recorder:
    masks: list

    def encode(self, X, unit_mask=None):
        self.masks.append(None if unit_mask is None else np.array(unit_mask))
        return super().encode(X, unit_mask=unit_mask)


class SpyWillshaw(_Recorder, Willshaw):
    pass


class SpyHopfield(_Recorder, Hopfield):
    pass


def _restricted_quality(cls, patterns, alive, **params):
    """Recall quality computed without unit_mask: a fresh memory built on the survivors."""
    if not alive.any():
        return 0.0, 0.0
    sub = patterns[:, alive]
    r = cls(**params).fit(sub).encode(sub)
    agree = (2 * r - 1) * (2 * sub - 1)
    return agree.mean(), (agree > 0).all(axis=1).mean()


@pytest.mark.parametrize("spy, base, patterns", [
    (SpyWillshaw, Willshaw, random_codes(150, 120, 6, random_state=0).astype(float)),
    (SpyHopfield, Hopfield,
     (np.random.default_rng(0).random((12, 120)) < 0.5).astype(float)),
])
def test_memory_fault_tolerance_matches_memory_rebuilt_on_survivors(spy, base, patterns):
    """Deleting units through unit_mask is the same as a memory that never had them: its
    synapses among the survivors are the same (clipped Hebbian / Hebbian sums), and the cue's
    deleted units give no input."""
    net = spy(random_state=0).fit(patterns)
    net.masks = []
    f = np.array([0, 0.2, 0.5, 0.8, 1.0])
    res = memory_fault_tolerance(net, patterns, fractions=f, n_draws=2, random_state=1)
    N = patterns.shape[1]
    # every (draw, fraction) with a survivor encodes once: intact first, all-dead skipped
    assert len(net.masks) == 2 * (len(f) - 1)
    q = np.zeros((2, len(f)))
    p = np.zeros((2, len(f)))
    it = iter(net.masks)
    for d in range(2):
        for j, fi in enumerate(f):
            if fi == 1.0:
                continue
            mask = next(it)
            alive = np.ones(N, dtype=bool) if mask is None else mask
            assert (~alive).sum() == int(round(fi * N))
            q[d, j], p[d, j] = _restricted_quality(base, patterns, alive, random_state=0)
    np.testing.assert_allclose(res["quality"], q.mean(axis=0))
    np.testing.assert_allclose(res["perfect"], p.mean(axis=0))
    np.testing.assert_allclose(res["quality_std"], q.std(axis=0), atol=1e-12)
    assert res["quality"][-1] == 0.0 and res["perfect"][-1] == 0.0  # no unit left


def test_hopfield_collapses_above_capacity_of_survivors():
    """M patterns in the N(1 - f) surviving units: recalled while M / (N(1 - f)) is well below
    0.138 (Amit, Gutfreund & Sompolinsky 1985), lost well above it."""
    N, M = 500, 30
    X = (np.random.default_rng(0).random((M, N)) < 0.5).astype(float)
    net = Hopfield(random_state=0).fit(X)
    f = np.array([0.0, 0.2, 0.3, 0.8, 0.9])  # loads 0.06, 0.075, 0.086 | 0.3, 0.6
    res = memory_fault_tolerance(net, X, fractions=f, n_draws=3, random_state=0)
    assert np.all(res["quality"][:3] >= 0.99)
    assert np.all(res["quality"][3:] <= 0.75)


# -- bad input ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def local10():
    return _fitted("local", 10, 10, 5)


@pytest.mark.parametrize("kwargs, match", [
    ({"fractions": [0, 0.5, 1.2]}, r"\[0, 1\]"),
    ({"fractions": [-0.1, 0.5]}, r"\[0, 1\]"),
    ({"fractions": [0, np.nan]}, "NaN"),
    ({"fractions": []}, "non-empty"),
    ({"n_draws": 0}, "n_draws"),
    ({"orders": ("random", "least-active")}, "least-active"),
    ({"orders": ()}, "orders"),
    ({"threshold": -1.0}, "threshold"),
    ({"max_stimuli": 0}, "max_stimuli"),
])
def test_fault_tolerance_bad_arguments(local10, kwargs, match):
    rule, ro, X, y = local10
    with pytest.raises(ValueError, match=match):
        fault_tolerance(rule, ro, X, y, **kwargs)


def test_fault_tolerance_bad_data(local10):
    rule, ro, X, y = local10
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fault_tolerance(rule, ro, Xn, y)
    with pytest.raises(ValueError, match="empty"):
        fault_tolerance(rule, ro, X[:0], y[:0])
    with pytest.raises(ValueError, match="2-D"):
        fault_tolerance(rule, ro, X[0], y)
    with pytest.raises(ValueError, match="features"):
        fault_tolerance(rule, ro, X[:, :5], y)
    with pytest.raises(ValueError, match="one label per stimulus"):
        fault_tolerance(rule, ro, X, y[:-1])
    with pytest.raises(ValueError, match="NaN"):
        fault_tolerance(rule, ro, X, np.where(y == 0, np.nan, y.astype(float)))
    with pytest.raises(ValueError, match="two classes"):
        fault_tolerance(rule, ro, X[y == 1], y[y == 1])
    other = PrototypeCode(n_units=10).fit(X)
    with pytest.raises(ValueError, match="different rule"):
        fault_tolerance(other, ro, X, y)
    with pytest.raises(ValueError, match="not fitted"):
        fault_tolerance(PrototypeCode(n_units=10), ro, X, y)


def test_memory_and_survival_bad_input():
    P = random_codes(20, 30, 3, random_state=0).astype(float)
    net = Willshaw(random_state=0).fit(P)
    with pytest.raises(ValueError, match="only 0 and 1"):
        memory_fault_tolerance(net, P * 0.5 + 0.25)
    with pytest.raises(ValueError, match="NaN"):
        memory_fault_tolerance(net, np.where(P == 1, np.nan, P))
    with pytest.raises(ValueError, match="units"):
        memory_fault_tolerance(net, P[:, :10])
    with pytest.raises(ValueError, match="empty"):
        memory_fault_tolerance(net, P[:0])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        memory_fault_tolerance(net, P, fractions=[1.5])
    with pytest.raises(ValueError, match="not fitted"):
        memory_fault_tolerance(Willshaw(), P)
    hetero = Willshaw().store_pairs(P, P[:, :10])
    with pytest.raises(ValueError, match="autoassociative"):
        memory_fault_tolerance(hetero, P)
    with pytest.raises(ValueError, match="NaN"):
        kofn_survival(np.where(P == 1, np.nan, P), 1)
    with pytest.raises(ValueError, match="no units"):
        kofn_survival(np.zeros((3, 0)), 1)
    with pytest.raises(ValueError, match="theta"):
        kofn_survival(P, -1)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        kofn_survival_theory(3, 1, [0.2, 2.0])
    with pytest.raises(ValueError, match="k"):
        kofn_survival_theory(0, 1, [0.2])
    with pytest.raises(ValueError, match="n_units"):
        kofn_survival_theory(5, 1, [0.2], n_units=3)
    with pytest.raises(ValueError, match="strictly increasing"):
        half_range_fraction([0.5, 0.2], [1, 0], 1, 0)
    with pytest.raises(ValueError, match="same nonzero length"):
        normalised_auc([0, 1], [1], 1, 0)


def test_docstring_examples():
    assert doctest.testmod(fault, raise_on_error=False).failed == 0
