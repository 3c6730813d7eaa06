"""neurocode.metrics.activity: activity, sparseness and dead units against closed forms."""

import math

import numpy as np
import pytest

from neurocode.metrics.activity import (
    DENSE_MIN_RATIO,
    LOCAL_MAX_AVR,
    SILENT_MAX_AVR,
    activity,
    code_type,
)
from neurocode.models.binary import preset_k, random_codes


@pytest.mark.parametrize("n_units,k", [(64, 1), (64, 6), (100, 50), (784, 10), (13, 13)])
def test_binary_k_of_n_closed_forms(n_units, k):
    # Binary k-of-N: AVR = k, Treves-Rolls a = (k/N)^2 / (k/N) = k/N,
    # Hoyer = (sqrt N - k / sqrt k) / (sqrt N - 1) = (sqrt N - sqrt k) / (sqrt N - 1).
    codes = random_codes(500, n_units, k, random_state=1)
    out = activity(codes)
    assert out["avr"] == k
    assert out["avr_std"] == 0.0
    assert out["activity_ratio"] == pytest.approx(k / n_units, rel=1e-14)
    assert out["treves_rolls"] == pytest.approx(k / n_units, rel=1e-12)
    sn = math.sqrt(n_units)
    assert out["hoyer"] == pytest.approx((sn - math.sqrt(k)) / (sn - 1), rel=1e-12, abs=1e-14)
    assert out["silent_stimuli"] == 0.0


def test_one_hot_and_constant_codes():
    n = 50
    one_hot = np.eye(n)[np.arange(200) % n] * 3.7
    out = activity(one_hot)
    assert out["hoyer"] == pytest.approx(1.0, rel=1e-12)
    assert out["treves_rolls"] == pytest.approx(1 / n, rel=1e-12)
    assert out["avr"] == 1.0
    assert out["code_type"] == "local"

    constant = np.full((30, n), 0.7)
    out = activity(constant)
    assert out["hoyer"] == pytest.approx(0.0, abs=1e-12)
    assert out["treves_rolls"] == pytest.approx(1.0, rel=1e-12)
    assert out["avr"] == n
    assert out["code_type"] == "dense"


def test_avr_counts_units_above_threshold_whatever_their_amplitude():
    rng = np.random.default_rng(3)
    k, n = 7, 120
    codes = random_codes(400, n, k, random_state=2).astype(float)
    amp = rng.uniform(0.6, 5.0, size=codes.shape)
    sub = rng.uniform(0.0, 0.5, size=codes.shape)          # sub-threshold background
    graded = np.where(codes > 0, amp, sub)
    assert activity(graded, threshold=0.5)["avr"] == k
    assert activity(graded, threshold=0.0)["avr"] == n     # every background value is > 0


def test_dead_units_known_set():
    rng = np.random.default_rng(0)
    n = 40
    dead = np.array([0, 5, 17, 39])
    codes = rng.random((300, n)) + 0.01
    codes[:, dead] = 0.0
    out = activity(codes)
    assert out["dead_fraction"] == len(dead) / n
    assert out["n_dead"] == len(dead)
    assert np.array_equal(np.flatnonzero(out["unit_activity"] == 0), dead)
    assert np.isnan(out["lifetime_sparseness"][dead]).all()
    alive = np.setdiff1d(np.arange(n), dead)
    assert np.isfinite(out["lifetime_sparseness"][alive]).all()
    # a unit with values that never exceed the threshold is dead too
    codes[:, 3] = 0.05
    out = activity(codes, threshold=0.1)
    assert 3 in np.flatnonzero(out["unit_activity"] == 0)


def test_lifetime_sparseness_closed_form():
    # Unit j takes value a_j on a fraction p_j of the S stimuli and b_j on the rest, so
    # its Treves-Rolls lifetime sparseness is (p a + (1-p) b)^2 / (p a^2 + (1-p) b^2);
    # a binary unit (b = 0) gives p.
    S = 200
    rng = np.random.default_rng(7)
    p = np.array([0.05, 0.25, 0.5, 1.0, 0.1, 0.3])
    a = np.array([1.0, 1.0, 1.0, 2.0, 3.0, 0.5])
    b = np.array([0.0, 0.0, 0.0, 0.0, 1.0, 2.0])
    codes = np.empty((S, p.size))
    for j in range(p.size):
        col = np.full(S, b[j])
        col[: int(round(p[j] * S))] = a[j]
        codes[:, j] = rng.permutation(col)
    codes = np.hstack([codes, np.zeros((S, 1))])             # plus a dead unit
    expected = (p * a + (1 - p) * b) ** 2 / (p * a ** 2 + (1 - p) * b ** 2)
    out = activity(codes)
    assert np.allclose(out["lifetime_sparseness"][:-1], expected, rtol=1e-12)
    assert np.isnan(out["lifetime_sparseness"][-1])
    assert out["lifetime_sparseness_mean"] == pytest.approx(expected.mean(), rel=1e-12)
    assert np.allclose(out["lifetime_sparseness"][:3], p[:3])
    assert np.allclose(out["unit_activity"][:-1], np.where(b > 0, 1.0, p))


def test_silent_stimuli_are_left_out_of_population_sparseness():
    n = 64
    codes = random_codes(100, n, 4, random_state=5).astype(float)
    codes[::4] = 0.0                                          # 25 silent stimuli
    out = activity(codes)
    assert out["silent_stimuli"] == 0.25
    assert out["treves_rolls"] == pytest.approx(4 / n, rel=1e-12)
    assert out["hoyer"] == pytest.approx((8 - 2) / 7, rel=1e-12)
    assert out["avr"] == pytest.approx(0.75 * 4, rel=1e-12)
    allzero = activity(np.zeros((10, n)))
    assert np.isnan(allzero["treves_rolls"]) and np.isnan(allzero["hoyer"])
    assert allzero["dead_fraction"] == 1.0 and np.isnan(allzero["lifetime_sparseness_mean"])
    assert allzero["code_type"] == "silent"


def test_signed_codes_read_as_magnitudes():
    rng = np.random.default_rng(11)
    codes = rng.normal(size=(200, 30)) * (rng.random((200, 30)) < 0.2)
    signs = rng.choice([-1.0, 1.0], size=codes.shape)
    a, b = activity(np.abs(codes), 0.3), activity(codes * signs, 0.3)
    for key in ("avr", "treves_rolls", "hoyer", "lifetime_sparseness_mean", "dead_fraction"):
        assert a[key] == pytest.approx(b[key], rel=1e-12)
    assert np.allclose(a["lifetime_sparseness"], b["lifetime_sparseness"], equal_nan=True)


def test_chunked_and_dtype_independent():
    # the codes are read in chunks: a code too large for one chunk gives per-stimulus
    # statistics equal to a direct computation on the full array
    import neurocode.metrics.activity as act

    rng = np.random.default_rng(2)
    codes = (rng.random((300, 50)) < 0.1) * rng.random((300, 50))
    direct = activity(codes.astype(np.float32))
    old = act._CHUNK_VALUES
    act._CHUNK_VALUES = 7 * 50
    try:
        chunked = activity(codes)
    finally:
        act._CHUNK_VALUES = old
    r = np.abs(codes)
    r = r[r.sum(1) > 0]
    tr = (r.mean(1) ** 2 / (r ** 2).mean(1)).mean()
    assert chunked["treves_rolls"] == pytest.approx(tr, rel=1e-12)
    assert direct["treves_rolls"] == pytest.approx(tr, rel=1e-6)
    assert chunked["avr"] == direct["avr"] == (codes > 0).sum(1).mean()


def test_result_types():
    out = activity(random_codes(50, 20, 3, random_state=0))
    for key, value in out.items():
        if key == "code_type":
            assert isinstance(value, str)
        elif isinstance(value, np.ndarray):
            assert value.shape == (20,), key
        else:
            assert type(value) is float, key


@pytest.mark.parametrize("bad", [
    np.zeros(10),                    # 1-D
    np.zeros((3, 4, 5)),             # 3-D
    np.zeros((5, 0)),                # no units
    np.zeros((0, 5)),                # no stimuli
    np.array([[0.0, np.nan]]),       # NaN
    np.array([[0.0, np.inf]]),       # inf
    np.array([["a", "b"]]),          # not numeric
])
def test_bad_codes_raise(bad):
    with pytest.raises(ValueError):
        activity(bad)


@pytest.mark.parametrize("threshold", [-0.1, float("nan"), float("inf"), "x"])
def test_bad_threshold_raises(threshold):
    with pytest.raises(ValueError, match="threshold"):
        activity(np.ones((3, 3)), threshold=threshold)


def test_code_type_thresholds():
    # the dense bound is where a binary unit's entropy is half a bit
    h = -DENSE_MIN_RATIO * math.log2(DENSE_MIN_RATIO) - (1 - DENSE_MIN_RATIO) * math.log2(1 - DENSE_MIN_RATIO)
    assert h == pytest.approx(0.5, abs=1e-3)
    assert code_type(0.0, 784) == code_type(SILENT_MAX_AVR - 1e-9, 784) == "silent"
    assert code_type(1.0, 784) == code_type(LOCAL_MAX_AVR, 784) == "local"
    assert code_type(1.0, 2) == "local"                       # one unit of two is still local
    assert code_type(1.67, 784) == "sparse"                   # the article's "almost local"
    assert code_type(5.4, 784) == "sparse"
    assert code_type(156.3, 784) == "dense"                   # the article's unconstrained net
    assert code_type(DENSE_MIN_RATIO * 1000, 1000) == "dense"
    assert code_type(DENSE_MIN_RATIO * 1000 - 1, 1000) == "sparse"


@pytest.mark.parametrize("n_units", [64, 784, 4096])
@pytest.mark.parametrize("preset", ["local", "sparse", "dense"])
def test_code_type_of_k_of_n_presets(n_units, preset):
    codes = random_codes(50, n_units, preset_k(preset, n_units), random_state=0)
    assert activity(codes)["code_type"] == preset


@pytest.mark.parametrize("avr,n", [(-1.0, 10), (float("nan"), 10), (1.0, 0), (11.0, 10), (1.0, 2.5)])
def test_code_type_bad_input(avr, n):
    with pytest.raises(ValueError):
        code_type(avr, n)
