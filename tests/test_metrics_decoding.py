"""neurocode.metrics.decoding: accuracy against units observed, m90, active synapses."""

import math

import numpy as np
import pytest
from scipy import stats

import neurocode.metrics.decoding as decoding
from neurocode.metrics.decoding import (
    active_synapses,
    decoding_cost,
    default_m_values,
    m_at_accuracy,
)
from neurocode.models.binary import random_codes


def _local_code(n_per_class, n_classes, n_distractors, rng):
    """One class unit per class (1 for its class, 0 otherwise) plus binary noise units
    independent of the class; exactly ``n_per_class`` stimuli of each class."""
    y = np.repeat(np.arange(n_classes), n_per_class)
    noise = (rng.random((y.size, n_distractors)) < 0.5).astype(float)
    return np.hstack([np.eye(n_classes)[y], noise]), y


@pytest.mark.slow
def test_local_code_follows_hypergeometric_expectation():
    # N = C + D units, of which C are class units. A probe that sees m random units sees
    # K ~ Hypergeom(N, C, m) class units. A stimulus whose class unit is seen is read right;
    # one whose class unit is not seen shows all seen class units silent, and the probe can
    # only guess among the C - K unseen classes with a rule that ignores the class (the
    # noise units carry none), which on a class-balanced test set is right for a fraction
    # 1 / C of the stimuli in all. So acc = (K + 1) / C for K < C, 1 for K = C:
    #     E[acc(m)] = E[min(K + 1, C)] / C
    # (not m/N + (1 - m/N)/C: that ignores that the silent seen class units narrow the guess).
    C, D = 10, 10
    N = C + D
    rng = np.random.default_rng(0)
    Xtr, ytr = _local_code(60, C, D, rng)
    Xte, yte = _local_code(50, C, D, rng)
    ms = np.array([1, 3, 6, 10, 15, 20])
    n_draws = 40
    out = decoding_cost(Xtr, ytr, Xte, yte, m_values=ms, n_draws=n_draws, random_state=1)
    assert out["accuracy_full"] == 1.0
    for j, m in enumerate(ms):
        K = np.arange(0, C + 1)
        pk = stats.hypergeom(N, C, m).pmf(K)
        acc_k = np.minimum(K + 1, C) / C
        mean = float(pk @ acc_k)
        sd = math.sqrt(float(pk @ (acc_k - mean) ** 2) / n_draws)
        assert abs(out["accuracy"][j] - mean) <= 4.5 * sd + 0.02, (m, out["accuracy"][j], mean)


def test_gaussian_code_follows_bayes_accuracy():
    # Two classes, x = mu_y + sigma * noise in N dimensions (a dense code). The Bayes
    # accuracy of a readout seeing the unit set S is Phi(||mu_1 - mu_0||_S / (2 sigma)); a
    # logistic regression trained on 3000 codes comes close to it. The expectation over
    # random m-subsets is computed here by Monte Carlo from the known means.
    rng = np.random.default_rng(4)
    N, sigma = 40, 1.0
    mu = rng.normal(0.0, 0.63, size=(2, N))
    delta2 = (mu[1] - mu[0]) ** 2

    def sample(n):
        y = np.repeat([0, 1], n // 2)
        return mu[y] + sigma * rng.normal(size=(n, N)), y

    Xtr, ytr = sample(3000)
    Xte, yte = sample(4000)
    ms = np.array([1, 2, 5, 10, 20, 40])
    n_draws = 20
    out = decoding_cost(Xtr, ytr, Xte, yte, m_values=ms, n_draws=n_draws, random_state=0)
    for j, m in enumerate(ms):
        subsets = np.argsort(rng.random((20000, N)), axis=1)[:, :m]
        bayes = stats.norm.cdf(np.sqrt(delta2[subsets].sum(axis=1)) / (2 * sigma))
        sd = bayes.std() / math.sqrt(n_draws) + math.sqrt(0.25 / len(yte))
        assert abs(out["accuracy"][j] - bayes.mean()) <= 4 * sd + 0.015, (m, out["accuracy"][j], bayes.mean())
    assert np.all(np.diff(out["accuracy"]) > 0)


@pytest.mark.slow
def test_dense_random_code_accuracy_rises_with_m():
    # ReLU of noisy random class prototypes, 10 classes, about half the units active
    rng = np.random.default_rng(5)
    N, C = 100, 10
    proto = rng.normal(size=(C, N))

    def sample(n):
        y = rng.integers(0, C, n)
        return np.maximum(proto[y] + 2.0 * rng.normal(size=(n, N)), 0.0), y

    Xtr, ytr = sample(2000)
    Xte, yte = sample(1000)
    n_draws = 8
    out = decoding_cost(Xtr, ytr, Xte, yte, n_draws=n_draws, random_state=0)
    acc, sd = out["accuracy"], out["accuracy_std"]
    assert np.array_equal(out["m_values"], default_m_values(N).astype(float))
    # non-decreasing up to the sampling noise of the draws (spread over draws / sqrt(draws))
    noise = np.sqrt((sd[1:] ** 2 + sd[:-1] ** 2) / (n_draws - 1))
    assert np.all(np.diff(acc) >= -4 * noise - 0.01)
    assert acc[-1] - acc[0] > 0.4
    assert acc[0] < 0.3 and out["accuracy_full"] > 0.9
    assert out["m90"] == pytest.approx(m_at_accuracy(out["m_values"], acc, 0.9 * out["accuracy_full"]))
    assert out["m_fraction_90"] == pytest.approx(out["m90"] / N)
    assert 1 < out["m90"] < N


def test_m_at_accuracy_on_constructed_curves():
    # accuracy exactly linear in log m: acc = a + b ln m, so m* = exp((target - a) / b)
    m = np.array([1, 2, 5, 13, 40, 100])
    a, b = 0.1, 0.15
    acc = a + b * np.log(m)
    for target in (0.2, 0.35, 0.6, a + b * np.log(100)):
        assert m_at_accuracy(m, acc, target) == pytest.approx(math.exp((target - a) / b), rel=1e-12)
    assert m_at_accuracy(m, acc, 0.05) == 1.0                # reached at the first point
    assert math.isnan(m_at_accuracy(m, acc, 0.9))            # never reached
    # a non-monotone curve: the first crossing counts
    assert m_at_accuracy([1, 10, 100, 1000], [0.2, 0.8, 0.6, 0.9], 0.7) == pytest.approx(10 ** (5 / 6))


def test_sparse_and_dense_probe_paths_agree():
    # a sparse code is probed as a sparse matrix without centring; the penalty leaves the
    # intercept free, so a converged probe gives the same accuracy either way
    rng = np.random.default_rng(8)
    N, C = 60, 4
    y = rng.integers(0, C, 1200)
    mask = rng.random((1200, N)) < 0.08
    codes = mask * (rng.random((1200, N)) + 0.5 * (np.arange(N) % C == y[:, None]))
    runs = []
    for bound in (0.0, 1.0):                                 # force dense, then sparse
        old = decoding._SPARSE_BELOW
        decoding._SPARSE_BELOW = bound
        try:
            runs.append(decoding_cost(codes[:800], y[:800], codes[800:], y[800:],
                                      m_values=[5, 20, 60], n_draws=2, max_iter=2000))
        finally:
            decoding._SPARSE_BELOW = old
    assert np.allclose(runs[0]["accuracy"], runs[1]["accuracy"], atol=0.01)


def test_training_subsample_and_chance():
    rng = np.random.default_rng(1)
    y = np.r_[np.zeros(300, int), np.ones(100, int)]
    codes = rng.random((400, 5)) + y[:, None]
    out = decoding_cost(codes, y, codes[:200], y[:200], m_values=[5], max_train=50)
    assert out["n_train"] == 50.0
    assert out["chance"] == 1.0                              # test rows 0-199 are all class 0
    assert out["accuracy_full"] == 1.0


@pytest.mark.parametrize("n_units,k,fan_out", [(784, 1, 10), (784, 10, 10), (64, 32, 3), (50, 7, 2.5)])
def test_active_synapses_of_k_of_n(n_units, k, fan_out):
    codes = random_codes(300, n_units, k, random_state=0)
    out = active_synapses(codes, fan_out=fan_out)
    assert out["active_synapses_mean"] == k * fan_out
    assert out["active_synapses_std"] == 0.0
    assert out["dense_synapses"] == n_units * fan_out
    assert out["active_synapses_ratio"] == pytest.approx(k / n_units, rel=1e-14)


def test_active_synapses_per_unit_fan_out_and_threshold():
    f = np.array([1.0, 2.0, 3.0, 4.0, 0.0])
    codes = np.array([[0.9, 0.0, 0.2, 0.0, 5.0],     # active above 0.5: units 0, 4 -> 1 + 0
                      [0.0, -0.7, 0.0, 0.6, 0.0]])   # units 1 (|-0.7|), 3  -> 2 + 4
    out = active_synapses(codes, fan_out=f, threshold=0.5)
    assert out["active_synapses_mean"] == (1.0 + 6.0) / 2
    assert out["active_synapses_std"] == 2.5
    assert out["dense_synapses"] == 10.0


@pytest.mark.parametrize("kwargs", [
    dict(codes_test=np.ones((4, 3))),                       # different unit count
    dict(y_train=np.zeros(7)),                              # labels do not match codes
    dict(y_train=np.zeros(8)),                              # one class
    dict(codes_train=np.full((8, 4), np.nan)),              # NaN codes
    dict(codes_train=np.zeros((8, 0)), codes_test=np.zeros((4, 0))),  # no units
    dict(codes_train=np.zeros(8)),                          # 1-D
    dict(m_values=[0, 2]),                                  # m outside [1, N]
    dict(m_values=[2, 5]),
    dict(m_values=[1.5]),
    dict(n_draws=0),
    dict(max_train=1),
    dict(fraction=0.0),
    dict(C=-1.0),
])
def test_decoding_cost_bad_input_raises(kwargs):
    args = dict(codes_train=np.random.default_rng(0).random((8, 4)), y_train=np.arange(8) % 2,
                codes_test=np.random.default_rng(1).random((4, 4)), y_test=np.arange(4) % 2)
    args.update(kwargs)
    with pytest.raises(ValueError):
        decoding_cost(**args)


@pytest.mark.parametrize("fan_out", [0, -1.0, np.ones(3), np.array([1.0, -1.0, 1.0, 1.0]),
                                     np.zeros(4), float("nan"), True])
def test_active_synapses_bad_fan_out_raises(fan_out):
    with pytest.raises(ValueError, match="fan_out"):
        active_synapses(np.ones((2, 4)), fan_out=fan_out)


def test_active_synapses_bad_codes_raise():
    with pytest.raises(ValueError):
        active_synapses(np.array([[np.nan, 1.0]]), fan_out=2)
    with pytest.raises(ValueError, match="threshold"):
        active_synapses(np.ones((2, 2)), fan_out=2, threshold=-1)


def test_m_at_accuracy_bad_input_raises():
    with pytest.raises(ValueError):
        m_at_accuracy([1, 1, 2], [0.1, 0.2, 0.3], 0.2)
    with pytest.raises(ValueError):
        m_at_accuracy([1, 2], [0.1], 0.2)
    with pytest.raises(ValueError):
        m_at_accuracy([0, 2], [0.1, 0.2], 0.2)
