"""Short trainings of the article's networks on real MNIST, through the runner."""

import math

import numpy as np
import pytest
import torch

from neurocode import runner
from neurocode.config import resolve
from neurocode.models.relu_l1 import evaluate

from conftest import needs_mnist

pytestmark = needs_mnist
RULE = {"fc": "relu-l1-fc", "cnn": "relu-l1-cnn", "conv-ae": "relu-l1-conv-ae"}


def _spec(kind="fc", l1=0.0, iterations=400, n_test=2000, **train):
    raw = {"name": "t", "seed": 0, "model": {"rule": RULE[kind], "l1": l1},
           "train": {"iterations": iterations, "eval_every": 200, **train},
           "data": {"n_test": n_test}}
    return resolve(raw)[0]


def train_relu_l1(spec, progress=False):
    return runner.execute(spec, progress=progress)


@pytest.mark.slow
def test_fc_learns_and_gets_sparser_with_lambda():
    dense = train_relu_l1(_spec(l1=0.0), progress=False)
    sparse = train_relu_l1(_spec(l1=5e-4), progress=False)
    assert dense.status == sparse.status == "complete"
    assert list(dense.curves["step"]) == [0, 200, 400]
    # chance is 0.1: 400 Adam steps of the article's net reach well above it
    assert dense.final["accuracy"] > 0.9
    assert sparse.final["accuracy"] > 0.8
    assert dense.curves["accuracy"][-1] > dense.curves["accuracy"][0]
    assert sparse.final["avr"] < dense.final["avr"] / 5
    assert dense.final["activity_ratio"] == pytest.approx(dense.final["avr"] / 784)
    assert dense.final["n_units"] == 784


@pytest.mark.slow
def test_same_seed_same_numbers():
    a = train_relu_l1(_spec(iterations=30, eval_every=10), progress=False)
    b = train_relu_l1(_spec(iterations=30, eval_every=10), progress=False)
    for k in a.curves:
        np.testing.assert_array_equal(a.curves[k], b.curves[k])
    for k in a.rule.weights_:
        np.testing.assert_array_equal(a.rule.weights_[k], b.rule.weights_[k])


def test_evaluate_matches_a_direct_computation():
    from neurocode.models.relu_l1 import build_model

    model = build_model("conv-ae", feature_maps=8, decoder="subpixel", seed=0)
    x = torch.rand(50, 784)
    y = torch.randint(0, 10, (50,))
    m = evaluate(model, x, y, l1=1e-3, batch_size=100, chunk=16)
    with torch.no_grad():
        out = model(x)
    h, logits, r = out.hidden.numpy(), out.logits.numpy(), out.recon.numpy()
    assert m["accuracy"] == pytest.approx((logits.argmax(1) == y.numpy()).mean())
    assert m["avr"] == pytest.approx((h > 0).sum(1).mean())
    assert m["loss_l1"] == pytest.approx(1e-3 * 100 * h.sum(1).mean(), rel=1e-5)
    assert m["loss_recon"] == pytest.approx(((r - x.numpy()) ** 2).sum(1).mean(), rel=1e-5)
    q = np.round(np.clip(r, 0, 1) * 255)
    assert m["recon_error"] == pytest.approx(((q - np.round(x.numpy() * 255)) ** 2).mean(), rel=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["cnn", "conv-ae"])
def test_conv_models_train_smoke(kind):
    res = train_relu_l1(_spec(kind=kind, l1=1e-5, iterations=20, eval_every=10, n_test=500),
                        progress=False)
    assert res.status == "complete"
    assert res.final["n_units"] == 39200
    assert 0 <= res.final["accuracy"] <= 1
    if kind == "conv-ae":
        assert res.curves["recon_error"][-1] < res.curves["recon_error"][0]


@pytest.mark.slow
def test_diverging_loss_is_reported_not_raised(monkeypatch):
    """The loss turns NaN at the 250th training step: the run fails with the reason, keeps its
    curves, and does not raise."""
    from neurocode.models.relu_l1 import training as relu_l1  # the loop's module

    real, calls = relu_l1.loss_terms, []

    def diverging(model, out, x, y, l1):
        terms = real(model, out, x, y, l1)
        calls.append(1)
        if len(calls) > 250:  # call 1 is the step-0 evaluation batch
            terms["total"] = terms["total"] * float("nan")
        return terms

    monkeypatch.setattr(relu_l1, "loss_terms", diverging)
    res = train_relu_l1(_spec(iterations=2000, eval_every=100), progress=False)
    assert res.status == "failed" and res.rule is None
    assert "loss became nan at iteration 250" in res.reason
    assert list(res.curves["step"]) == [0, 100, 200]
    assert all(math.isfinite(v) for v in res.curves["loss"])
