"""Short trainings of the article's networks on real MNIST."""

import math

import numpy as np
import pytest
import torch

from neurocode import train as trainmod
from neurocode.config import resolve
from neurocode.train import evaluate, train_relu_l1

from conftest import needs_mnist

pytestmark = needs_mnist


def _spec(kind="fc", l1=0.0, iterations=400, **train):
    raw = {"name": "t", "seed": 0, "model": {"kind": kind, "l1": l1},
           "train": {"iterations": iterations, "eval_every": 200, **train}}
    return resolve(raw)[0]


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


def test_same_seed_same_numbers():
    a = train_relu_l1(_spec(iterations=30, eval_every=10), progress=False)
    b = train_relu_l1(_spec(iterations=30, eval_every=10), progress=False)
    for k in a.curves:
        np.testing.assert_array_equal(a.curves[k], b.curves[k])
    for k in a.weights:
        np.testing.assert_array_equal(a.weights[k], b.weights[k])


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


@pytest.mark.parametrize("kind", ["cnn", "conv-ae"])
def test_conv_models_train_smoke(kind):
    res = train_relu_l1(_spec(kind=kind, l1=1e-5, iterations=20, eval_every=10, eval_batch=2000),
                        progress=False)
    assert res.status == "complete"
    assert res.final["n_units"] == 39200
    assert 0 <= res.final["accuracy"] <= 1
    if kind == "conv-ae":
        assert res.curves["recon_error"][-1] < res.curves["recon_error"][0]


def test_diverging_loss_is_reported_not_raised(monkeypatch):
    real = trainmod.load_split

    def poisoned(dataset, split, data_dir, device):
        x, y = real(dataset, split, data_dir, device)
        if split == "train":
            x = x.clone()
            x[12345] = float("nan")  # one poisoned training image
        return x, y

    monkeypatch.setattr(trainmod, "load_split", poisoned)
    res = train_relu_l1(_spec(iterations=2000, eval_every=100), progress=False)
    assert res.status == "failed"
    assert "nan" in res.reason and "iteration" in res.reason
    done = int(res.final["iterations_done"])
    assert 0 < done < 2000
    assert all(math.isfinite(v) for v in res.curves["loss"])
