"""One training loop for single and vectorised ReLU+L1 runs (models/relu_l1/training.py).

A single run steps its network as a module (sparse-aware routes and all); a vectorised sweep
steps L networks as one vmapped model. The two are different computations of the same
updates, so each is checked against the other: they agree to float32 rounding (never bit for
bit: the batched matmuls sum in another order), record the same rows at the same steps, and
fail the same network at the same iteration with the same message.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neurocode.models.relu_l1 import ReluL1CNN, ReluL1ConvAE, ReluL1FC, training
from neurocode.rules import TrainingFailed

KW = dict(iterations=20, eval_every=10, batch_size=32, random_state=1)
NETS = [(ReluL1FC, {"hidden": 16}), (ReluL1CNN, {"feature_maps": 3}),
        (ReluL1ConvAE, {"feature_maps": 3, "decoder": "subpixel"}),
        (ReluL1ConvAE, {"feature_maps": 3, "decoder": "transposed"})]


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Small steps: on a shared 2-core machine torch's threads spin against each other."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def data():
    X, y = ReluL1FC.conformance_data(200)
    return X, y, (X[:60], y[:60])


def _close(a, b, atol=1e-5):
    assert a.curves_.keys() == b.curves_.keys()
    np.testing.assert_array_equal(a.curves_["step"], b.curves_["step"])
    for k in a.curves_:
        np.testing.assert_allclose(b.curves_[k], a.curves_[k], rtol=1e-4, atol=1e-6, err_msg=k)
    assert a.weights_.keys() == b.weights_.keys()
    for k in a.weights_:
        np.testing.assert_allclose(b.weights_[k], a.weights_[k], rtol=0, atol=atol, err_msg=k)


@pytest.mark.parametrize("cls,extra", NETS, ids=["fc", "cnn", "ae-subpixel", "ae-transposed"])
def test_a_one_rule_fit_many_follows_fit(cls, extra, data, monkeypatch):
    """The module path and the vmap path, one network each: the same rows (the callback's
    rows are the curves), the same steps, the weights within float32 rounding; and both
    went through the one loop, each with its own way of stepping."""
    X, y, val = data
    seen, real = [], training.train
    monkeypatch.setattr(training, "train",
                        lambda steps, *a, **k: seen.append(type(steps).__name__) or real(
                            steps, *a, **k))
    rows = []
    one = cls(l1=1e-3, **extra, **KW).fit(X, y, validation_data=val,
                                          callback=lambda step, row: rows.append(row))
    many = [cls(l1=1e-3, **extra, **KW)]
    assert cls.fit_many(many, X, y, validation_data=val) == [None]
    assert seen == ["ModuleSteps", "VmapSteps"]
    assert [r["step"] for r in rows] == [0, 10, 20]
    for k in one.curves_:
        np.testing.assert_array_equal(one.curves_[k], [r[k] for r in rows])
    _close(one, many[0])


@pytest.mark.parametrize("cls,extra", NETS[:2], ids=["fc", "cnn"])
def test_a_network_trains_alike_alone_or_beside_others(cls, extra, data):
    """In a vectorised sweep each network follows its own loss and its own Adam state: its
    result does not depend on the lambdas trained beside it (to float32 rounding, far below
    what a lambda changes)."""
    X, y, val = data
    lams = (1e-2, 0.0, 1e-3)
    group = [cls(l1=lam, **extra, **KW) for lam in lams]
    cls.fit_many(group, X, y, validation_data=val)
    for lam, member in zip(lams, group, strict=True):
        alone = [cls(l1=lam, **extra, **KW)]
        cls.fit_many(alone, X, y, validation_data=val)
        _close(alone[0], member, atol=1e-6)
    gap = max(float(np.abs(group[0].weights_[k] - group[1].weights_[k]).max())
              for k in group[0].weights_)
    assert gap > 1e-3  # the lambdas did change the networks


def test_a_diverging_network_fails_alike_in_both_paths(data):
    """Images scaled by 3e35 make lambda = 10's L1 term overflow to inf at the first step
    (the code's sum passes float32's 3.4e38) while lambda = 0's loss stays finite: the single
    run raises the TrainingFailed the vectorised sweep reports, both keep the rows before it,
    and the other network of the sweep trains on as its own single run does."""
    X, y, _ = data
    Xs = X * np.float32(3e35)
    kw = dict(hidden=16, **KW)
    with pytest.raises(TrainingFailed) as info:
        bad = ReluL1FC(l1=10.0, **kw)
        bad.fit(Xs, y)
    assert "loss became inf at iteration 1 (l1=10, lr=0.001)" in str(info.value)
    good = ReluL1FC(l1=0.0, **kw).fit(Xs, y)
    many = [ReluL1FC(l1=0.0, **kw), ReluL1FC(l1=10.0, **kw)]
    failed = ReluL1FC.fit_many(many, Xs, y)
    assert failed[0] is None and str(failed[1]) == str(info.value)
    assert not hasattr(many[1], "weights_")
    np.testing.assert_array_equal(many[1].curves_["step"], bad.curves_["step"])
    assert list(bad.curves_["step"]) == [0]
    for k in good.weights_:
        np.testing.assert_allclose(many[0].weights_[k], good.weights_[k], rtol=1e-5, atol=0)
    assert np.isfinite(good.curves_["train_loss"]).all()
