"""Computation cost per stimulus (:func:`neurocode.metrics.compute.compute_cost`).

Checked: the affine map recovered from a linear probe reproduces the probe's scores; a readout
that is not affine in the code is detected; the event-driven and dense readouts compute the
same scores; the operation counts are the activity ratio by definition while the measured
cost is not (an encoder doing 20x the work costs clearly more at the same activity); and bad
input is rejected by name. No test puts a threshold on a timing except the 20x encoder one,
whose expected ratio (~15) is far from the asserted 2.
"""

from __future__ import annotations

import math
import types
from typing import Any, ClassVar

import numpy as np
import pytest

from neurocode.metrics import compute
from neurocode.metrics.compute import compute_cost
from neurocode.metrics.readout import Readout, fit_readout
from neurocode.models.binary import KofN
from neurocode.params import Param
from neurocode.rules import CodingRule

TIMES = ("time_encode", "time_readout_dense", "time_readout_sparse", "time_reference",
         "time_total")
KEYS = {*TIMES, "relative_cost", "relative_cost_dense", "sparse_readout_speedup",
        "encoder_fraction", "readout_ops_dense", "readout_ops_event", "readout_affine",
        "readout_linear_residual", "n_batch", "repeats", "n_units", "n_classes"}


# -- test rules -----------------------------------------------------------------------------
class TopKProjection(CodingRule):
    """Top-``k`` of a fixed random projection, computed ``extra`` times (the same result each
    time: only the encoder's cost changes). Its own classifier is affine in the code."""

    name = "test-topk-projection"
    params: ClassVar[dict[str, Param]] = {
        "n_units": Param(int, 256, low=1),
        "k": Param(int, 16, low=1),
        "extra": Param(int, 1, low=1),
        "n_classes": Param(int, 10, low=1),
        "nonlinear_readout": Param(bool, False),
    }

    def _fit(self, X: np.ndarray, y: Any = None) -> None:
        rng = self._rng()
        self.P_ = rng.standard_normal((X.shape[1], self.n_units))
        self.V_ = rng.standard_normal((self.n_units, self.n_classes))
        self.c_ = rng.standard_normal(self.n_classes)

    def _encode(self, X: np.ndarray, mask: np.ndarray) -> np.ndarray:
        for _ in range(self.extra):
            drive = X @ self.P_
        drive = np.abs(drive)
        kth = np.partition(drive, -self.k, axis=1)[:, -self.k][:, None]
        return np.where(drive >= kth, drive, 0.0) * mask

    def decision_function(self, X: Any, unit_mask: Any = None) -> np.ndarray:
        lin = self.encode(X, unit_mask) @ self.V_ + self.c_
        return np.tanh(lin) ** 2 if self.nonlinear_readout else lin


class ClassPairs(CodingRule):
    """A very sparse wide code: the class of a stimulus (argmax of its features) picks 2 of
    ``n_units`` units, firing at a graded rate ``1 + |x_0|``; own classifier affine in it."""

    name = "test-class-pairs"
    params: ClassVar[dict[str, Param]] = {"n_units": Param(int, 4000, low=2)}

    def _fit(self, X: np.ndarray, y: Any = None) -> None:
        rng = self._rng()
        self.pairs_ = rng.choice(self.n_units, size=(X.shape[1], 2), replace=False)
        self.V_ = rng.standard_normal((self.n_units, X.shape[1]))
        self.c_ = rng.standard_normal(X.shape[1])

    def _encode(self, X: np.ndarray, mask: np.ndarray) -> np.ndarray:
        codes = np.zeros((len(X), self.n_units))
        rows = np.arange(len(X))[:, None]
        codes[rows, self.pairs_[X.argmax(axis=1)]] = (1.0 + np.abs(X[:, :1]))
        return codes * mask

    def decision_function(self, X: Any, unit_mask: Any = None) -> np.ndarray:
        return self.encode(X, unit_mask) @ self.V_ + self.c_


def _kofn_setup(n: int = 250):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((n, 20))
    y = X[:, :4].argmax(axis=1)
    rule = KofN(n_units=64, k=6, random_state=0).fit(X)
    return rule, fit_readout(rule, X, y), X


def _finite_positive(res: dict[str, float], keys=TIMES) -> None:
    for k in keys:
        assert math.isfinite(res[k]) and res[k] > 0, (k, res[k])


# -- the affine map of a linear probe --------------------------------------------------------
def test_linear_probe_map_reproduces_the_probe_scores():
    rule, ro, X = _kofn_setup()
    assert ro.kind == "linear probe"
    codes = rule.encode(X)
    S = ro.scores(X)
    W, b, residual, rank = compute._affine_fit(codes, S)
    assert residual < 1e-8
    assert rank <= 64  # k-of-N codes: the constant column is the sum of the units / k
    H32 = np.ascontiguousarray(codes, dtype=np.float32)
    out = compute._dense_readout(H32, W.astype(np.float32), b.astype(np.float32))
    np.testing.assert_allclose(out, S, rtol=1e-5, atol=1e-5 * np.abs(S).max())

    res = compute_cost(rule, ro, X, codes=codes, n_batch=100, repeats=2)
    assert set(res) == KEYS and all(isinstance(v, float) for v in res.values())
    assert res["readout_affine"] == 1.0 and res["readout_linear_residual"] < 1e-5
    _finite_positive(res)
    assert res["n_units"] == 64 and res["n_classes"] == 4 and res["n_batch"] == 100
    assert res["readout_ops_dense"] == 64 * 4
    assert res["readout_ops_event"] == pytest.approx(6 * 4)
    assert res["time_total"] == pytest.approx(
        res["time_encode"] + min(res["time_readout_dense"], res["time_readout_sparse"]))
    assert res["relative_cost"] == pytest.approx(res["time_total"] / res["time_reference"])
    assert res["encoder_fraction"] == pytest.approx(res["time_encode"] / res["time_total"])
    # the same measure when the rule encodes the codes itself
    again = compute_cost(rule, ro, X, n_batch=100, repeats=1)
    assert again["readout_affine"] == 1.0 and again["readout_linear_residual"] < 1e-5


def test_probe_on_a_different_rule_leaves_a_large_residual():
    """A probe fitted on another rule's codes: scores are then not a function of these codes."""
    rule, _, X = _kofn_setup()
    other = KofN(n_units=64, k=6, random_state=5).fit(X)
    ro_other = fit_readout(other, X, X[:, :4].argmax(axis=1))
    mixed = Readout(rule, ro_other.probe)  # the probe reads rule's codes, fitted on other's
    S = mixed.scores(X)
    W, b, residual, _ = compute._affine_fit(rule.encode(X), S)
    assert residual < 1e-8  # a probe is affine in whatever codes it reads
    H = other.encode(X)
    assert compute._affine_fit(H, S)[2] > 1e-2  # but not in another rule's codes


# -- a readout that is not affine in the code ------------------------------------------------
def test_nonlinear_readout_is_detected_and_not_timed():
    X = np.random.default_rng(2).standard_normal((200, 5))
    rule = TopKProjection(n_units=8, k=4, n_classes=3, nonlinear_readout=True,
                          random_state=0).fit(X)
    res = compute_cost(rule, fit_readout(rule, X, None), X, repeats=2)
    assert res["readout_affine"] == 0.0
    assert res["readout_linear_residual"] > 1e-3
    for k in ("time_readout_dense", "time_readout_sparse", "time_total", "relative_cost",
              "relative_cost_dense", "sparse_readout_speedup", "encoder_fraction"):
        assert math.isnan(res[k]), k
    _finite_positive(res, ("time_encode", "time_reference"))
    assert res["readout_ops_event"] / res["readout_ops_dense"] == pytest.approx(0.5)

    linear = TopKProjection(n_units=8, k=4, n_classes=3, random_state=0).fit(X)
    ok = compute_cost(linear, fit_readout(linear, X, None), X, repeats=2)
    assert ok["readout_affine"] == 1.0 and ok["readout_linear_residual"] < 1e-8


def test_too_few_stimuli_to_check_the_map_gives_nan():
    """30 stimuli with distinct dense 64-unit codes: any 30 scores fit exactly, nothing checked."""
    X = np.random.default_rng(3).standard_normal((30, 5))
    rule = TopKProjection(n_units=64, k=64, n_classes=3, nonlinear_readout=True,
                          random_state=0).fit(X)
    res = compute_cost(rule, fit_readout(rule, X, None), X, repeats=1)
    assert math.isnan(res["readout_affine"]) and math.isnan(res["readout_linear_residual"])
    assert math.isnan(res["time_readout_dense"]) and math.isnan(res["time_total"])
    _finite_positive(res, ("time_encode", "time_reference"))


# -- operations are the activity ratio by definition; the measured cost is not ---------------
@pytest.mark.slow
def test_ops_follow_activity_but_cost_follows_the_encoder():
    X = np.random.default_rng(4).standard_normal((600, 512))  # > 129 rows: the map is checked
    light = TopKProjection(n_units=128, k=8, extra=1, random_state=0).fit(X)
    heavy = TopKProjection(n_units=128, k=8, extra=20, random_state=0).fit(X)
    np.testing.assert_array_equal(light.encode(X[:20]), heavy.encode(X[:20]))
    r_light = compute_cost(light, fit_readout(light, X, None), X, repeats=5)
    r_heavy = compute_cost(heavy, fit_readout(heavy, X, None), X, repeats=5)
    activity = (light.encode(X) > 0).mean()
    assert activity == pytest.approx(8 / 128)
    for r in (r_light, r_heavy):
        assert r["readout_affine"] == 1.0
        _finite_positive(r)
        assert r["readout_ops_event"] / r["readout_ops_dense"] == pytest.approx(activity)
    assert r_light["readout_ops_event"] == r_heavy["readout_ops_event"]
    # 20x the encoder's matrix product: expected ratio ~15, asserted > 2
    assert r_heavy["relative_cost"] / r_light["relative_cost"] > 2
    assert r_heavy["time_encode"] / r_light["time_encode"] > 2
    assert r_heavy["encoder_fraction"] > r_light["encoder_fraction"]


# -- the event-driven readout of a very sparse wide code -------------------------------------
def test_event_readout_of_a_sparse_wide_code_matches_the_dense_one():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((400, 10))
    rule = ClassPairs(n_units=4000, random_state=0).fit(X)
    ro = fit_readout(rule, X, None)
    res = compute_cost(rule, ro, X, n_batch=200, repeats=3)
    assert res["readout_affine"] == 1.0 and res["readout_linear_residual"] < 1e-8
    _finite_positive(res)
    assert res["readout_ops_dense"] == 4000 * 10
    assert res["readout_ops_event"] == pytest.approx(2 * 10)
    assert math.isfinite(res["sparse_readout_speedup"]) and res["sparse_readout_speedup"] > 0

    # the arithmetic of the two timed readouts: the same scores, the rule's own
    H = rule.encode(X)
    S = rule.decision_function(X)
    W, b, _, _ = compute._affine_fit(H, S)
    W32, b32 = W.astype(np.float32), b.astype(np.float32)
    dense = compute._dense_readout(np.ascontiguousarray(H, dtype=np.float32), W32, b32)
    E = compute._events(H, 0.0)
    assert E.nnz == 2 * len(X)
    event = compute._event_readout(E, W32, b32)
    assert isinstance(event, np.ndarray) and event.shape == S.shape
    np.testing.assert_allclose(event, dense, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(event, S, rtol=1e-4, atol=1e-4 * np.abs(S).max())


def test_threshold_removes_events():
    """Units at or below the threshold emit no event: fewer event operations."""
    X = np.random.default_rng(6).standard_normal((100, 10))
    rule = ClassPairs(n_units=500, random_state=0).fit(X)
    H = rule.encode(X)
    t = 1.5
    E = compute._events(H, t)
    assert E.nnz == int((H > t).sum()) < int((H > 0).sum())
    res = compute_cost(rule, fit_readout(rule, X, None), X, threshold=t, repeats=1)
    assert res["readout_ops_event"] == pytest.approx((H > t).sum(axis=1).mean() * 10)


# -- single-threaded timing, restored afterwards ---------------------------------------------
def test_torch_threads_are_limited_while_timing_and_restored(monkeypatch):
    fake = types.SimpleNamespace(threads=6)
    fake.get_num_threads = lambda: fake.threads
    fake.set_num_threads = lambda k: setattr(fake, "threads", k)
    monkeypatch.setitem(__import__("sys").modules, "torch", fake)
    seen: list[int] = []

    class Spy(TopKProjection):
        def _encode(self, X, mask):
            seen.append(fake.threads)
            return super()._encode(X, mask)

    X = np.random.default_rng(7).standard_normal((50, 5))
    rule = Spy(n_units=8, k=2, n_classes=2, random_state=0).fit(X)
    compute_cost(rule, fit_readout(rule, X, None), X, repeats=3, codes=rule.encode(X))
    assert seen[-4:] == [1, 1, 1, 1]  # warm-up and the 3 timed rounds
    assert fake.threads == 6


def test_real_torch_thread_count_is_restored():
    """threadpoolctl lowers the OpenMP pool torch reports: the count is read before it."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        seen: list[int] = []

        class Spy(TopKProjection):
            def _encode(self, X, mask):
                seen.append(torch.get_num_threads())
                return super()._encode(X, mask)

        X = np.random.default_rng(8).standard_normal((50, 5))
        rule = Spy(n_units=8, k=2, n_classes=2, random_state=0).fit(X)
        compute_cost(rule, fit_readout(rule, X, None), X, repeats=2, codes=rule.encode(X))
        assert seen[-3:] == [1, 1, 1]
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


# -- bad input -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small():
    return _kofn_setup(120)


@pytest.mark.parametrize("case, match", [
    ("nan", "NaN"),
    ("width", "features"),
    ("repeats0", "repeats"),
    ("n_batch0", "n_batch"),
    ("unfitted", "not fitted"),
    ("codes_shape", "codes must have shape"),
    ("other_rule", "different rule"),
    ("threshold", "threshold"),
    ("not_a_rule", "CodingRule"),
])
def test_bad_input_is_rejected_by_name(small, case, match):
    rule, ro, X = small
    kwargs: dict[str, Any] = {"repeats": 1}
    args = [rule, ro, X]
    if case == "nan":
        X = X.copy()
        X[3, 2] = np.nan
        args[2] = X
    elif case == "width":
        args[2] = X[:, :7]
    elif case == "repeats0":
        kwargs["repeats"] = 0
    elif case == "n_batch0":
        kwargs["n_batch"] = 0
    elif case == "unfitted":
        args[0] = KofN(n_units=64, k=6)
    elif case == "codes_shape":
        kwargs["codes"] = rule.encode(X)[:, :10]
    elif case == "other_rule":
        args[0] = KofN(n_units=64, k=6, random_state=3).fit(X)
    elif case == "threshold":
        kwargs["threshold"] = -1.0
    elif case == "not_a_rule":
        args[0] = object()
    with pytest.raises(ValueError, match=match):
        compute_cost(*args, **kwargs)


class SlowTopK(TopKProjection):
    """The same code, each encode taking at least 0.25 s (a slow encoder, as a spiking one)."""

    name = "test-slow-topk"

    def _encode(self, X, mask):
        import time

        time.sleep(0.25)
        return super()._encode(X, mask)


@pytest.mark.slow
def test_a_slow_encoder_is_timed_in_fewer_rounds_within_max_seconds():
    """The warm-up round of a 0.25 s encoder says 7 rounds would pass 1 s: int(1 // t_warm) is
    at most 3, and never fewer than 3 are timed; without a budget all 7 are."""
    X = np.random.default_rng(0).random((200, 12))
    rule = SlowTopK(n_units=32, k=4, random_state=0).fit(X)
    ro = fit_readout(rule, X, None)
    codes = rule.encode(X)
    short = compute_cost(rule, ro, X, codes=codes, repeats=7, max_seconds=1.0)
    assert short["repeats"] == 3
    assert short["time_encode"] * short["n_batch"] >= 0.25
    full = compute_cost(rule, ro, X, codes=codes, repeats=7, max_seconds=None)
    assert full["repeats"] == 7
