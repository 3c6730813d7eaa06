"""The autoencoder decoder "original-473bc3f": the article's first code as it ran, bugs included.

The reference is the original itself (metaflow-ai/blog at 473bc3f,
sparse-coding/cnn_ae_sparsity.py), written out here again in numpy, line by line and with its
broadcasting spelled out, independently of models/relu_l1:

    line 53  z_decoder = conv2d_transpose(a, clip_by_norm(W_decoder, 1, axes=[3]),
                                          [N, 28, 28, 1], strides 2, SAME) + b1   # [N,28,28,200]
    line 57  loss_classifier = mean(-sum(y_true * log(softmax(out) + 1e-7), 1))
    line 58  loss_ae = mean(sum(square(x_img - z_decoder), [1, 2, 3])) + lam * sum(a)
    line 59  loss_sc = lam * sum(a)
    line 60  loss = loss_classifier + loss_ae + loss_sc
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from neurocode.models.relu_l1 import ConvAE, ReluL1ConvAE, loss_terms

ORIGINAL = "original-473bc3f"
EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Small steps: on a shared 2-core machine torch's threads spin against each other."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _net(maps=5, seed=0, sparse_backward=False):
    """An original-decoder net whose encoder biases differ (so the copies differ) and whose
    own decoder bias is far from anything (so using it would show)."""
    net = ConvAE(maps, decoder=ORIGINAL, generator=torch.Generator().manual_seed(seed),
                 sparse_backward=sparse_backward)
    with torch.no_grad():
        net.encoder.conv.bias.copy_(torch.linspace(-0.2, 0.4, maps))
        net.dec.bias.fill_(7.0)
    return net


def _batch(n=4, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 784, generator=g), torch.randint(0, 10, (n,), generator=g)


def _tf_conv2d_transpose_same(a: np.ndarray, w_tf: np.ndarray) -> np.ndarray:
    """``tf.nn.conv2d_transpose(a, w, [N, 28, 28, 1], strides=[1, 2, 2, 1], padding='SAME')``
    for NHWC ``a`` [N, 14, 14, C] and ``w`` [3, 3, 1, C]: the adjoint of the stride-2 SAME
    convolution, which pads 0 before and 1 after, so tap (ky, kx) of input (r, q) lands on
    output pixel (2r + ky, 2q + kx), kept when inside the 28 x 28 image."""
    out = np.zeros((a.shape[0], 29, 29))
    for ky in range(3):
        for kx in range(3):
            out[:, ky:ky + 28:2, kx:kx + 28:2] += a @ w_tf[ky, kx, 0, :]
    return out[:, :28, :28, None]


def _original_loss(net: ConvAE, x: torch.Tensor, y: torch.Tensor, lam: float) -> dict:
    """The original's summaries in float64 numpy, from the net's weights and code."""
    with torch.no_grad():
        out = net(x)
    n, maps = len(x), net.maps_shape[0]
    a = out.hidden.double().numpy().reshape(n, maps, 14, 14).transpose(0, 2, 3, 1)  # NHWC
    w_tf = net.dec.weight.detach().double().numpy().transpose(2, 3, 1, 0)  # [3, 3, 1, C]
    norm = np.sqrt((w_tf ** 2).sum(axis=3, keepdims=True))  # tf.clip_by_norm(axes=[3])
    w_tf = w_tf * 1.0 / np.maximum(norm, 1.0)
    b1 = net.encoder.conv.bias.detach().double().numpy()
    z_decoder = _tf_conv2d_transpose_same(a, w_tf) + b1  # [N,28,28,1] + [C] -> [N,28,28,C]
    assert z_decoder.shape == (n, 28, 28, maps)
    x_img = x.double().numpy().reshape(n, 28, 28, 1)
    logits = out.logits.double().numpy()
    soft = np.exp(logits - logits.max(1, keepdims=True))
    soft /= soft.sum(1, keepdims=True)
    y_true = np.eye(10)[y.numpy()]
    loss_classifier = np.mean(-np.sum(y_true * np.log(soft + 1e-7), axis=1))
    squared = np.mean(np.sum((x_img - z_decoder) ** 2, axis=(1, 2, 3)))
    loss_sc = lam * a.sum()
    loss_ae = squared + loss_sc
    return {"loss_classifier": loss_classifier, "squared": squared, "loss_sc": loss_sc,
            "loss_ae": loss_ae, "loss": loss_classifier + loss_ae + loss_sc,
            "mean_copy": z_decoder.mean(axis=3).reshape(n, 784), "out": out}


def test_the_loss_is_the_originals_with_its_copies_and_both_l1_terms():
    net, (x, y), lam = _net(), _batch(), 3e-3
    ref = _original_loss(net, x, y, lam)
    with torch.no_grad():
        terms = loss_terms(net, ref["out"], x, y, lam)
    assert float(terms["recon"]) == pytest.approx(ref["squared"], rel=1e-5)
    for k in ("loss_classifier", "loss_sc", "loss_ae"):
        assert float(terms[k]) == pytest.approx(ref[k], rel=1e-5), k
    assert float(terms["total"]) == pytest.approx(ref["loss"], rel=1e-5)
    # the one reconstruction the net returns is the mean of the copies, D(a) + mean(b1)
    np.testing.assert_allclose(ref["out"].recon.numpy(), ref["mean_copy"], rtol=1e-5,
                               atol=1e-6)
    # and the copies matter: their squared error is not that of the mean copy, times 5
    one_copy = ((x.double().numpy() - ref["mean_copy"]) ** 2).sum(1).mean()
    assert ref["squared"] - 5 * one_copy > 1.0


def test_the_cross_entropy_is_that_of_softmax_plus_1e_7():
    """A confidently wrong net (the true class's logit 50 below the rest): the original's
    cross-entropy is capped near -log(1e-7) = 16.1, where the exact one would be about 50."""
    net, (x, _) = _net(), _batch()
    y = torch.zeros(len(x), dtype=torch.int64)
    with torch.no_grad():
        net.out.bias[0] = -50.0
    ref = _original_loss(net, x, y, 0.0)
    with torch.no_grad():
        terms = loss_terms(net, ref["out"], x, y, 0.0)
        exact = float(F.cross_entropy(ref["out"].logits, y))
    assert float(terms["loss_classifier"]) == pytest.approx(ref["loss_classifier"], rel=1e-5)
    assert ref["loss_classifier"] == pytest.approx(-np.log(1e-7), rel=1e-3)
    assert exact > 45


def test_the_l1_term_is_counted_twice():
    net, (x, y) = _net(), _batch()
    with torch.no_grad():
        out = net(x)
    s = float(out.hidden.sum())
    assert s > 0
    lam = 2e-3
    with torch.no_grad():
        t, t0 = loss_terms(net, out, x, y, lam), loss_terms(net, out, x, y, 0.0)
    assert float(t["total"] - t["ce"] - t["recon"]) == pytest.approx(2 * lam * s, rel=1e-4)
    assert float(t["total"] - t0["total"]) == pytest.approx(2 * lam * s, rel=1e-4)
    assert float(t["loss_ae"] - t["recon"]) == pytest.approx(lam * s, rel=1e-4)  # once inside
    assert float(t["loss_sc"]) == pytest.approx(lam * s, rel=1e-6)  # and once beside


def test_the_gradients_are_those_of_the_broadcast_and_b_decoder_gets_none():
    """Autograd through the loss as the original writes it (the [N, 28, 28, F] broadcast, in
    torch, from the parameters) against the implementation's closed form; b_decoder (dec.bias)
    is not in the graph."""
    x, y = _batch()
    lam = 1e-3
    grads = []
    for explicit in (False, True):
        net = _net()
        if explicit:
            b1 = net.encoder.conv.bias
            xpad = F.pad(x.reshape(-1, 1, 28, 28), (0, 1, 0, 1))
            a = torch.relu(F.conv2d(xpad, net.encoder.conv.weight, b1, stride=2))
            logits = net.out(a.reshape(len(x), -1))
            w = net.dec.weight
            w = w / torch.clamp(w.norm(dim=0, keepdim=True), min=1.0)
            d = F.conv_transpose2d(a, w, stride=2)[:, 0, :28, :28]  # no bias: b_decoder unused
            z = d.unsqueeze(-1) + b1  # [N, 28, 28, 1] + [F]
            p = torch.softmax(logits, 1)
            ce = -(torch.log(p + 1e-7) * F.one_hot(y, 10)).sum(1).mean()
            loss_ae = (x.reshape(-1, 28, 28, 1) - z).pow(2).sum((1, 2, 3)).mean() + lam * a.sum()
            total = ce + loss_ae + lam * a.sum()
        else:
            total = loss_terms(net, net(x), x, y, lam)["total"]
        total.backward()
        grads.append({k: p.grad for k, p in net.named_parameters()})
    assert grads[0]["dec.bias"] is None and grads[1]["dec.bias"] is None
    for k in grads[0]:
        if grads[1][k] is not None:
            torch.testing.assert_close(grads[0][k], grads[1][k], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("shift", [0.0, -0.4])
def test_the_sparse_route_gives_the_dense_gradients(shift):
    x, y = _batch(20)
    grads, outs = [], []
    for sparse in (False, True):
        net = _net(6, sparse_backward=sparse)
        net.sparse_route = sparse
        with torch.no_grad():
            net.encoder.conv.bias.add_(shift)
        out = net(x)
        loss_terms(net, out, x, y, 1e-3)["total"].backward()
        grads.append({k: p.grad for k, p in net.named_parameters()})
        outs.append(out)
    torch.testing.assert_close(outs[1].recon, outs[0].recon, rtol=1e-5, atol=1e-6)
    for k in grads[0]:
        if grads[0][k] is None:
            assert grads[1][k] is None, k
        else:
            torch.testing.assert_close(grads[1][k], grads[0][k], rtol=1e-4, atol=1e-5)


def test_the_option_trains_and_records_the_originals_readings():
    """Twenty images, one batch: the original's loss falls, and the curves hold its
    training-batch summaries (train_loss = loss_classifier + loss_ae + loss_sc)."""
    X, y = ReluL1ConvAE.conformance_data(20)
    rule = ReluL1ConvAE(feature_maps=4, decoder=ORIGINAL, l1=1e-3, iterations=30,
                        eval_every=10, batch_size=20, random_state=0).fit(X, y)
    c = rule.curves_
    assert list(c["step"]) == [0, 10, 20, 30]
    assert c["train_loss"][-1] < 0.9 * c["train_loss"][0]
    np.testing.assert_allclose(c["train_loss"], c["loss_classifier"] + c["loss_ae"] + c["loss_sc"],
                               rtol=1e-5)
    assert (c["loss_ae"] > c["loss_sc"]).all()
    assert rule.decode(rule.encode(X[:2])).shape == (2, 784)
    # dec.bias (the original's b_decoder) is stored as created and never trained
    np.testing.assert_array_equal(rule.weights_["dec.bias"], np.float32([0.1]))


def test_vectorised_lambdas_follow_their_separate_runs():
    X, y = ReluL1ConvAE.conformance_data(120)
    kw = dict(feature_maps=3, decoder=ORIGINAL, iterations=20, eval_every=10, batch_size=30,
              random_state=2)
    lams = [0.0, 1e-3]
    many = [ReluL1ConvAE(l1=lam, **kw) for lam in lams]
    assert ReluL1ConvAE.fit_many(many, X, y) == [None, None]
    for lam, b in zip(lams, many, strict=True):
        a = ReluL1ConvAE(l1=lam, **kw).fit(X, y)
        assert a.curves_.keys() == b.curves_.keys() and "loss_ae" in a.curves_
        for k in a.curves_:
            np.testing.assert_allclose(b.curves_[k], a.curves_[k], rtol=1e-4, atol=1e-6)
        for k in a.weights_:
            np.testing.assert_allclose(b.weights_[k], a.weights_[k], rtol=0, atol=1e-5)


def test_the_config_is_the_originals_budget():
    """Lines 78-89 of the original: Adam at 1e-3, these five lambdas, 20,000 iterations of
    batch 100; and the test-set accuracy every 100 iterations (line 97)."""
    from neurocode.config import load_yaml, resolve

    specs = resolve(load_yaml(EXPERIMENTS / "article_ae_473bc3f.yaml"))
    assert [s.get("model.l1") for s in specs] == [0, 1e-5, 5e-5, 1e-4, 5e-4]
    assert {(s.get("model.decoder"), s.get("model.feature_maps"), s.get("train.iterations"),
             s.get("train.batch_size"), s.get("train.lr"), s.get("train.eval_every"))
            for s in specs} == {(ORIGINAL, 200, 20000, 100, 1e-3, 100)}
    assert len({s.filename for s in specs}) == 5
