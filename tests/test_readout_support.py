"""neurocode.metrics.decoding.readout_support: the fewest units a sparse detector observes.

The article's construct ("the more neurons you need to observe to detect what feature has
been encoded, the more complex it will be to decode"), checked on codes whose answer is
known from outside the code under test: a local code (1 unit per class), redundant blocks
(still 1; the redundancy measure m90 moves instead), independent weak units (the Bayes
theory of summing independent detectors), and class-blind random codes (nothing to detect).
"""

import math

import numpy as np
import pytest
from scipy import stats

import neurocode.metrics.decoding as decoding
from neurocode.metrics.decoding import decoding_cost, readout_support
from neurocode.models.binary import random_codes

C = 10


def _labels(n):
    return np.repeat(np.arange(C), n // C)


def _block_code(n, b, n_noise, rng):
    """Unit block c (``b`` identical units) fires exactly for class c; ``n_noise`` units
    fire with probability 1/2 whatever the class."""
    y = _labels(n)
    return np.hstack([np.repeat(np.eye(C)[y], b, axis=1),
                      rng.random((n, n_noise)) < 0.5]).astype(float), y


def _weak_code(n, s, rng, n_noise=20, p1=0.6, p0=0.3):
    """Two classes; ``s`` units fire independently with probability p1 for class 0 and p0
    for class 1; ``n_noise`` units fire with probability p0 whatever the class."""
    y = np.repeat([0, 1], n // 2)
    p = np.where(y[:, None] == 0, p1, p0) * np.ones((1, s))
    return np.hstack([rng.random(p.shape) < p, rng.random((n, n_noise)) < p0]).astype(float), y


def _bayes_auc(m, p1=0.6, p0=0.3):
    """AUC of the best detector that observes m of the weak units. Given the class the units
    are independent Bernoulli, so the log-likelihood ratio (the logistic regression that is
    exact for this code) is a sum of equal terms, a multiple of the count K of active units:
    K ~ Bin(m, p1) for class 0 and Bin(m, p0) for class 1, and AUC = P(K1 > K0) + P(K1 = K0)/2.
    By Neyman-Pearson no score of the same m units has a larger ROC curve."""
    if m == 0:
        return 0.5
    k = np.arange(m + 1)
    a, b = stats.binom.pmf(k, m, p1), stats.binom.pmf(k, m, p0)
    return float((a * (np.cumsum(b) - b)).sum() + 0.5 * (a * b).sum())


def _auc_se(A, n1, n0):
    """Hanley & McNeil (1982) standard error of an empirical AUC."""
    q1, q2 = A / (2 - A), 2 * A * A / (1 + A)
    return math.sqrt((A * (1 - A) + (n1 - 1) * (q1 - A * A) + (n0 - 1) * (q2 - A * A)) / (n1 * n0))


@pytest.mark.slow
def test_local_code_needs_one_unit_per_class():
    rng = np.random.default_rng(0)
    Xtr, ytr = _block_code(1000, 1, 40, rng)
    Xte, yte = _block_code(1000, 1, 40, rng)
    out = readout_support(Xtr, ytr, Xte, yte)
    assert out["support_per_class"].tolist() == [1.0] * C
    assert out["support_auc_per_class"].tolist() == [1.0] * C      # the class unit is the class
    assert out["support_detected_per_class"].tolist() == [1.0] * C
    assert out["support_mean"] == out["support_median"] == 1.0
    assert out["support_fraction"] == pytest.approx(1 / 50)
    assert out["support_n_classes"] == C and out["support_n_detected"] == C
    assert out["support_target"] == 0.9
    assert out["support_path_units"].shape == out["support_path_auc"].shape == (C, 16)
    assert np.all(out["support_path_units"][:, 0] == 0) and np.all(out["support_path_auc"][:, 0] == 0.5)


@pytest.mark.slow
def test_redundant_blocks_need_one_unit_while_redundancy_m90_falls():
    # b identical copies of each class unit: a detector still needs to observe one of them,
    # while a readout of m random units needs fewer of them the more copies there are
    rng = np.random.default_rng(1)
    m90_fraction = []
    for b in (1, 4, 16):
        Xtr, ytr = _block_code(1000, b, 40, rng)
        Xte, yte = _block_code(1000, b, 40, rng)
        out = readout_support(Xtr, ytr, Xte, yte)
        assert out["support_per_class"].tolist() == [1.0] * C, b
        assert out["support_n_units_distinct"] == C + 40              # the copies merged
        assert out["support_n_units_live"] == C * b + 40
        m90_fraction.append(decoding_cost(Xtr, ytr, Xte, yte, random_state=0)["m_fraction_90"])
    # measured: 0.85, 0.29, 0.11 of N
    assert m90_fraction[0] > 2 * m90_fraction[1] > 0 and m90_fraction[1] > 2 * m90_fraction[2]


@pytest.mark.slow
def test_copies_up_to_a_gain_of_two_are_merged_too():
    rng = np.random.default_rng(2)
    Xtr, ytr = _block_code(600, 1, 10, rng)
    Xte, yte = _block_code(600, 1, 10, rng)
    gains = np.array([1.0, 2.0, 4.0])                                 # exact in binary
    wide_tr = np.hstack([Xtr[:, :C] * g for g in gains] + [Xtr[:, C:]])
    wide_te = np.hstack([Xte[:, :C] * g for g in gains] + [Xte[:, C:]])
    out = readout_support(wide_tr, ytr, wide_te, yte)
    assert out["support_per_class"].tolist() == [1.0] * C
    assert out["support_n_units_distinct"] == C + 10


@pytest.mark.slow
@pytest.mark.parametrize("target", [0.9, 0.98])
def test_weak_units_support_follows_the_bayes_theory_of_summed_detectors(target):
    # s independent weak units per class: the best detector on m of them has AUC _bayes_auc(m),
    # rising with m; the support should be the m at which that curve reaches the target,
    # m* = min{m : A(m) >= 1/2 + target (A* - 1/2)}, with A* the best AUC measured.
    # Bounds, whatever the fit: no detector on m units beats A(m) (Neyman-Pearson), so the
    # support cannot be below m_lo, the m* of the measured threshold lowered by the test
    # noise (4 standard errors); and the selected set, the s informative units plus the few
    # noise units the path admits, cannot need more than s + 1 units.
    rng = np.random.default_rng(3)
    n_test = 20000
    supports = []
    for s in (1, 2, 4, 8, 16):
        Xtr, ytr = _weak_code(2000, s, rng)
        Xte, yte = _weak_code(n_test, s, rng)
        out = readout_support(Xtr, ytr, Xte, yte, target=target)
        A_s = _bayes_auc(s)
        se = _auc_se(A_s, n_test // 2, n_test // 2)
        theory = np.array([_bayes_auc(m) for m in range(s + 1)])
        for ci in range(2):                    # the two detectors read the same units
            best = out["support_best_auc_per_class"][ci]
            assert abs(best - A_s) <= 4 * se + 0.005, (s, best, A_s)
            need = 0.5 + target * (best - 0.5)
            m_star = int(np.flatnonzero(theory >= need)[0]) if theory[-1] >= need else s
            m_lo = int(np.flatnonzero(theory >= need - 4 * se)[0])
            k = out["support_per_class"][ci]
            assert m_lo <= k <= s + 1, (s, target, k, m_lo)
            assert abs(k - m_star) <= 2, (s, target, k, m_star)
            assert out["support_auc_per_class"][ci] >= need
        supports.append(out["support_mean"])
    assert np.all(np.diff(supports) > 0), supports              # grows with s
    # measured, target 0.9: 1, 2, 4, 7, 10 against m* = 1, 2, 4, 6, 10;
    # target 0.98: 1, 2, 4, 8, 15 against m* = 1, 2, 4, 8, 15
    if target == 0.98:
        assert supports[-1] >= 14


@pytest.mark.slow
def test_plain_l1_detector_needs_more_units_than_its_refit():
    # without the refit the path's own detector on k units is shrunk unevenly, so it needs
    # at least as many units as the relaxed one, and never fewer than the Bayes bound
    rng = np.random.default_rng(4)
    s, n_test = 16, 20000
    Xtr, ytr = _weak_code(2000, s, rng)
    Xte, yte = _weak_code(n_test, s, rng)
    relaxed = readout_support(Xtr, ytr, Xte, yte)
    plain = readout_support(Xtr, ytr, Xte, yte, refit=False)
    theory = np.array([_bayes_auc(m) for m in range(s + 1)])
    se = _auc_se(theory[-1], n_test // 2, n_test // 2)
    need = 0.5 + 0.9 * (plain["support_best_auc"] - 0.5)
    assert plain["support_mean"] >= np.flatnonzero(theory >= need - 4 * se)[0]
    assert plain["support_mean"] >= relaxed["support_mean"]
    assert np.array_equal(plain["support_path_auc"], plain["support_path_auc_l1"], equal_nan=True)


@pytest.mark.slow
@pytest.mark.parametrize("k", [1, 5, 40])
def test_random_codes_detect_nothing(k):
    # units fire at random, independent of the class: every detector stays at chance and
    # the support is NaN (flagged not detected), not a small number of units
    rng = np.random.default_rng(5)
    N = 400
    Xtr, Xte = random_codes(2000, N, k, random_state=1), random_codes(2000, N, k, random_state=2)
    ytr, yte = rng.integers(0, C, 2000), rng.integers(0, C, 2000)
    out = readout_support(Xtr, ytr, Xte, yte)
    assert out["support_n_detected"] == 0.0
    assert np.all(out["support_detected_per_class"] == 0)
    assert np.all(np.isnan(out["support_per_class"])) and np.all(np.isnan(out["support_auc_per_class"]))
    for key in ("support_mean", "support_median", "support_fraction", "support_auc"):
        assert math.isnan(out[key]), key
    for ci, c in enumerate(np.unique(ytr)):
        n1 = int((yte == c).sum())
        se0 = math.sqrt((2000 + 1) / (12 * n1 * (2000 - n1)))
        assert 0.5 - 1e-12 <= out["support_best_auc_per_class"][ci] <= 0.5 + 4 * se0


@pytest.mark.slow
def test_a_class_without_a_unit_is_detected_by_the_silence_of_all_the_others():
    # classes 0-4 have a class unit, classes 5-9 none. A class-5 stimulus is the one in which
    # every class unit is silent, so its detector must observe all five: with k of them
    # observed, the class-5 stimuli tie with the 4 other unit-less classes and with the
    # 5 - k classes whose unit is not observed, and score above the k others, so on a
    # balanced test set AUC(k) = 1/2 + k / 18; the best, 1/2 + 5/18, needs k = 5 for
    # 90% of it above chance (k >= 4.5). The noise units can only break the ties at random;
    # the best is a maximum over the path on the test codes, so such tie-breaking can lift
    # it by a standard error (about 0.02 here) and ask for one more (noise) unit, never for
    # fewer than the five: with four, AUC <= 1/2 + 4/18 = 0.72 < 0.75.
    rng = np.random.default_rng(6)

    def code(n):
        X, y = _block_code(n, 1, 30, rng)
        return np.delete(X, range(5, C), axis=1), y

    (Xtr, ytr), (Xte, yte) = code(1000), code(1000)
    out = readout_support(Xtr, ytr, Xte, yte)
    assert out["support_detected_per_class"].tolist() == [1.0] * C
    k = out["support_per_class"]
    assert k[:5].tolist() == [1.0] * 5
    assert set(k[5:].tolist()) <= {5.0, 6.0} and np.sum(k[5:] == 5) >= 3, k   # measured 5 5 5 6 5
    assert np.allclose(out["support_best_auc_per_class"][5:], 0.5 + 5 / 18, atol=0.05)


@pytest.mark.slow
def test_silent_units_gains_and_sparse_storage_change_nothing():
    rng = np.random.default_rng(7)
    s = 6
    Xtr, ytr = _weak_code(1200, s, rng)
    Xte, yte = _weak_code(4000, s, rng)
    ref = readout_support(Xtr, ytr, Xte, yte)
    # 5,000 units that never fire: the support and its AUC are the same, its fraction of N not
    pad = lambda X: np.hstack([X, np.zeros((len(X), 5000))])
    wide = readout_support(pad(Xtr), ytr, pad(Xte), yte)
    assert np.array_equal(wide["support_per_class"], ref["support_per_class"])
    assert np.allclose(wide["support_auc_per_class"], ref["support_auc_per_class"])
    assert wide["support_n_units_live"] == Xtr.shape[1]
    assert wide["support_fraction"] == pytest.approx(ref["support_mean"] / (Xtr.shape[1] + 5000))
    # a positive gain per unit: the codes are standardised, the penalty weighs information
    g = rng.uniform(0.2, 5.0, Xtr.shape[1])
    gained = readout_support(Xtr * g, ytr, Xte * g, yte)
    assert np.array_equal(gained["support_per_class"], ref["support_per_class"])
    # the same code handed to liblinear as a sparse matrix: the same fit up to its tolerance
    old = decoding._SPARSE_BELOW
    decoding._SPARSE_BELOW = 1.01
    try:
        sparse = readout_support(Xtr, ytr, Xte, yte)
    finally:
        decoding._SPARSE_BELOW = old
    assert np.array_equal(sparse["support_per_class"], ref["support_per_class"])


@pytest.mark.slow
def test_training_subsample():
    rng = np.random.default_rng(8)
    Xtr, ytr = _block_code(1000, 1, 10, rng)
    Xte, yte = _block_code(500, 1, 10, rng)
    out = readout_support(Xtr, ytr, Xte, yte, max_train=300)
    assert out["support_n_train"] == 300.0
    assert out["support_per_class"].tolist() == [1.0] * C


@pytest.mark.parametrize("kwargs", [
    dict(codes_test=np.ones((8, 3))),                        # different unit count
    dict(y_train=np.zeros(15)),                              # labels do not match codes
    dict(y_train=np.zeros(16)),                              # one training class
    dict(y_test=np.ones(8)),                                 # one test class
    dict(codes_train=np.full((16, 4), np.nan)),              # NaN codes
    dict(codes_test=np.where(np.eye(8, 4) > 0, np.inf, 0.0)),  # infinite codes
    dict(y_train=np.r_[np.zeros(15), np.nan]),               # NaN label
    dict(codes_train=np.zeros((16, 0)), codes_test=np.zeros((8, 0))),  # no units
    dict(codes_train=np.zeros(16)),                          # 1-D
    dict(target=0.0), dict(target=1.5), dict(target=True), dict(target="high"), dict(tol=None),
    dict(n_C=1), dict(n_C=2.5), dict(C_span=1.0), dict(C_span=np.inf),
    dict(n_refine=-1), dict(max_train=1), dict(tol=0.0), dict(z_detect=-1.0),
])
def test_bad_input_raises(kwargs):
    rng = np.random.default_rng(0)
    args = dict(codes_train=rng.random((16, 4)), y_train=np.arange(16) % 2,
                codes_test=rng.random((8, 4)), y_test=np.arange(8) % 2)
    args.update(kwargs)
    with pytest.raises(ValueError):
        readout_support(**args)


def test_bad_input_messages_name_the_problem():
    rng = np.random.default_rng(0)
    X, y = rng.random((16, 4)), np.arange(16) % 2
    with pytest.raises(ValueError, match="units"):
        readout_support(X, y, rng.random((8, 3)), y[:8])
    with pytest.raises(ValueError, match="two classes"):
        readout_support(X, np.zeros(16), X, y)
    with pytest.raises(ValueError, match="y_test needs at least two classes"):
        readout_support(X, y, X, np.ones(16))
    with pytest.raises(ValueError, match="NaN"):
        readout_support(np.full((16, 4), np.nan), y, X, y)
    with pytest.raises(ValueError, match="target"):
        readout_support(X, y, X, y, target=2.0)
