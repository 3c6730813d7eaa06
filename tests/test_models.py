"""The article's networks: shapes, initialisation, TensorFlow alignment, and loss terms."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from neurocode.models.relu_l1 import (
    ConvAE,
    build_model,
    clip_by_norm,
    flops_per_iteration,
    loss_terms,
)

KINDS = [("fc", None, 784), ("cnn", None, 39200), ("conv-ae", "subpixel", 39200),
         ("conv-ae", "transposed", 39200)]


@pytest.mark.parametrize("kind,decoder,n_units", KINDS)
def test_shapes(kind, decoder, n_units):
    model = build_model(kind, decoder=decoder, seed=0)
    out = model(torch.rand(5, 784))
    assert model.n_units == n_units
    assert out.logits.shape == (5, 10)
    assert out.hidden.shape == (5, n_units)
    assert (out.hidden >= 0).all()
    if kind == "conv-ae":
        assert out.recon.shape == (5, 784)
    else:
        assert out.recon is None


@pytest.mark.parametrize("kind,decoder,n_units", KINDS)
def test_initialisation_is_normal_01_with_bias_01(kind, decoder, n_units):
    model = build_model(kind, decoder=decoder, seed=3)
    weights = torch.cat([p.detach().flatten() for n, p in model.named_parameters() if n.endswith("weight")])
    biases = torch.cat([p.detach().flatten() for n, p in model.named_parameters() if n.endswith("bias")])
    assert torch.all(biases == 0.1)
    # N(0, 0.1^2): with > 10^4 draws the sample std is within 2% and the mean near 0
    assert abs(weights.std().item() - 0.1) < 0.002
    assert abs(weights.mean().item()) < 0.002
    again = build_model(kind, decoder=decoder, seed=3)
    for a, b in zip(model.parameters(), again.parameters(), strict=True):
        assert torch.equal(a, b)


def _tf_same_conv_stride2(x, w, b):
    """TensorFlow SAME conv (3x3, stride 2) written from its definition: pad 0 before, 1 after."""
    n, h = x.shape[0], x.shape[-1]
    xp = np.zeros((n, h + 1, h + 1))
    xp[:, :h, :h] = x
    out_h = -(-h // 2)
    out = np.zeros((n, w.shape[0], out_h, out_h))
    for i in range(out_h):
        for j in range(out_h):
            patch = xp[:, 2 * i:2 * i + 3, 2 * j:2 * j + 3]
            out[:, :, i, j] = np.einsum("nkl,fkl->nf", patch, w[:, 0]) + b
    return out


def test_encoder_matches_tensorflow_same_padding():
    model = build_model("cnn", feature_maps=4, seed=1)
    x = torch.rand(2, 784, dtype=torch.float64)
    model = model.double()
    maps = F.relu(torch.from_numpy(_tf_same_conv_stride2(
        x.numpy().reshape(2, 28, 28), model.encoder.conv.weight.detach().numpy(),
        model.encoder.conv.bias.detach().numpy())))
    assert torch.allclose(model.encoder(x), maps, atol=1e-12)


def test_transposed_decoder_is_the_adjoint_of_the_same_conv():
    """tf.nn.conv2d_transpose is defined as the gradient of tf.nn.conv2d: <conv(x), y> = <x, convT(y)>."""
    torch.manual_seed(0)
    model = ConvAE(feature_maps=6, decoder="transposed").double()
    with torch.no_grad():
        model.dec.bias.zero_()
        model.dec.weight.mul_(0.01)  # norms below 1: clip_by_norm leaves the kernel as it is
    w = model.dec.weight.detach()  # (6, 1, 3, 3): as a conv from 1 channel to 6 maps
    x = torch.rand(3, 1, 28, 28, dtype=torch.float64)
    y = torch.rand(3, 6, 14, 14, dtype=torch.float64)
    conv_x = F.conv2d(F.pad(x, (0, 1, 0, 1)), w, stride=2)
    lhs = (conv_x * y).sum()
    rhs = (x.reshape(3, -1) * model.decode(y)).sum()
    assert torch.allclose(lhs, rhs, rtol=1e-12)


def test_subpixel_decoder_shape_and_shuffle():
    model = ConvAE(feature_maps=3, decoder="subpixel")
    maps = torch.rand(2, 3, 14, 14)
    out = model.decode(maps).reshape(2, 28, 28)
    w = clip_by_norm(model.dec.weight, 1.0, dim=0)
    z = F.conv2d(maps, w, model.dec.bias, padding=1)  # (2, 4, 14, 14)
    # pixel (2i + a, 2j + b) comes from channel 2a + b at (i, j)
    for a in range(2):
        for b in range(2):
            assert torch.allclose(out[:, a::2, b::2], z[:, 2 * a + b])


def test_clip_by_norm_matches_tensorflow_formula():
    w = torch.randn(4, 7, 3, 3) * torch.tensor([0.1, 1.0, 3.0, 0.5]).reshape(4, 1, 1, 1)
    c = clip_by_norm(w, 1.0, dim=0)
    norms = w.norm(dim=0)
    expected = torch.where(norms > 1.0, w / norms, w)
    assert torch.allclose(c, expected)
    assert (c.norm(dim=0) <= 1.0 + 1e-6).all()


@pytest.mark.parametrize("kind,decoder,n_units", KINDS)
def test_loss_terms(kind, decoder, n_units):
    model = build_model(kind, decoder=decoder, seed=0).double()
    x = torch.rand(4, 784, dtype=torch.float64)
    y = torch.tensor([0, 3, 9, 3])
    out = model(x)
    lam = 2.7e-3
    t = loss_terms(model, out, x, y, lam)
    h = out.hidden.detach().numpy()
    logits = out.logits.detach().numpy()
    logp = logits - np.log(np.exp(logits - logits.max(1, keepdims=True)).sum(1, keepdims=True)) - logits.max(1, keepdims=True)
    ce = -logp[np.arange(4), y.numpy()].mean()
    assert t["ce"].item() == pytest.approx(ce, rel=1e-10)
    # the L1 term is lambda times the SUM of activations over batch and units (not a mean)
    assert t["l1"].item() == pytest.approx(lam * h.sum(), rel=1e-10)
    total = ce + lam * h.sum()
    if kind == "conv-ae":
        r = out.recon.detach().numpy()
        recon = ((r - x.numpy()) ** 2).sum(1).mean()
        assert t["recon"].item() == pytest.approx(recon, rel=1e-10)
        total += recon
    assert t["total"].item() == pytest.approx(total, rel=1e-10)


def test_flops_count_fc():
    model = build_model("fc", seed=0)
    # forward 784*784 + 784*10 multiply-adds per image, x2 flops; the weight gradients as much;
    # the input gradient only for the readout (fc1 reads the data, which needs none)
    assert flops_per_iteration(model, 100) == 2 * 2 * (784 * 784 + 784 * 10) * 100 \
        + 2 * 784 * 10 * 100


def test_unknown_kind():
    with pytest.raises(ValueError, match="unknown model kind"):
        build_model("mlp")


@pytest.mark.parametrize("shift", [0.0, -3.0, -6.0])
def test_sparse_backward_gives_the_dense_gradients(shift):
    """The sparse-aware backward skips units silent on the batch; their dense gradient is
    exactly zero, and the others' equal the dense ones (float32 rounding)."""
    from neurocode.models.relu_l1 import FCNet, loss_terms

    grads = []
    x = torch.rand(100, 784, generator=torch.Generator().manual_seed(1))
    y = torch.randint(0, 10, (100,), generator=torch.Generator().manual_seed(2))
    for sparse in (False, True):
        net = FCNet(784, generator=torch.Generator().manual_seed(0), sparse_backward=sparse)
        with torch.no_grad():
            net.fc1.bias.add_(shift)
        out = net(x)
        loss_terms(net, out, x, y, 1e-4)["total"].backward()
        grads.append({k: p.grad.clone() for k, p in net.named_parameters()})
    silent = ~(out.hidden > 0).any(0)
    for k in grads[0]:
        torch.testing.assert_close(grads[1][k], grads[0][k], rtol=1e-5, atol=1e-6)
    assert (grads[1]["fc1.weight"][silent] == 0).all()
    if shift <= -3.0:
        assert silent.any()


@pytest.mark.parametrize("decoder", [None, "subpixel", "transposed"])
@pytest.mark.parametrize("shift", [0.0, -0.4, -1.5])
def test_sparse_conv_code_gives_autograds_gradients(shift, decoder):
    """The CNN's and autoencoder's sparse route (readout, decoder and backward over the active
    pairs) against torch autograd through the plain modules, for a dense code, a sparse one
    and a silent one."""
    from neurocode.models.relu_l1 import ConvNet, loss_terms

    x = torch.rand(30, 784, generator=torch.Generator().manual_seed(1))
    y = torch.randint(0, 10, (30,), generator=torch.Generator().manual_seed(2))
    grads, outs = [], []
    for sparse in (False, True):
        gen = torch.Generator().manual_seed(0)
        net = (ConvNet(6, generator=gen, sparse_backward=sparse) if decoder is None
               else ConvAE(6, decoder=decoder, generator=gen, sparse_backward=sparse))
        net.sparse_route = sparse  # the sparse route whatever the density
        with torch.no_grad():
            net.encoder.conv.bias.add_(shift)
        out = net(x)
        loss_terms(net, out, x, y, 1e-3)["total"].backward()
        grads.append({k: p.grad.clone() for k, p in net.named_parameters()})
        outs.append(out)
    torch.testing.assert_close(outs[1].logits, outs[0].logits, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(outs[1].hidden, outs[0].hidden, rtol=0, atol=0)
    if decoder is not None:
        torch.testing.assert_close(outs[1].recon, outs[0].recon, rtol=1e-5, atol=1e-6)
    for k in grads[0]:
        torch.testing.assert_close(grads[1][k], grads[0][k], rtol=1e-4, atol=1e-6)
    ratio = float((outs[0].hidden > 0).float().mean())
    assert {0.0: ratio > 0.5, -0.4: 0 < ratio < 0.01, -1.5: ratio == 0}[shift]


def test_sparse_conv_code_route_follows_the_density():
    """The route changes only every ROUTE_EVERY steps, and follows the activity ratio:
    sparse for a sparse code, plain for a dense one, plain when not training (no gradients)
    or when the option is off."""
    from neurocode.models.relu_l1 import ConvNet

    x = torch.rand(30, 784, generator=torch.Generator().manual_seed(1))
    net = ConvNet(6, generator=torch.Generator().manual_seed(0), sparse_backward=True)
    assert not net.sparse_route
    net(x)  # dense code (about 80 % of units active): stays plain
    assert not net.sparse_route
    with torch.no_grad():
        net.encoder.conv.bias.add_(-0.4)  # about 0.2 % of units active
    for _ in range(net.ROUTE_EVERY - 1):
        net(x)
    assert not net.sparse_route  # not looked at yet
    net(x)
    assert net.sparse_route
    with torch.no_grad():
        net.encoder.conv.bias.add_(0.4)
    for _ in range(net.ROUTE_EVERY):
        net(x)
    assert not net.sparse_route
    steps = net._steps
    with torch.no_grad():  # evaluation: the plain path, not counted
        net(x)
    assert net._steps == steps
    off = ConvNet(6, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        off.encoder.conv.bias.add_(-0.4)
    for _ in range(2 * off.ROUTE_EVERY):
        off(x)
    assert not off.sparse_route


@pytest.mark.parametrize("decoder", [None, "transposed"])
def test_sparse_conv_code_rule_trains_like_the_dense_one(decoder, monkeypatch):
    from neurocode.models.relu_l1 import ConvNet, ReluL1CNN, ReluL1ConvAE, SparseConvCode

    cls, extra = (ReluL1CNN, {}) if decoder is None else (ReluL1ConvAE, {"decoder": decoder})
    X, y = cls.conformance_data(200)
    kw = dict(feature_maps=4, l1=1e-3, iterations=20, eval_every=10, batch_size=50,
              random_state=0, **extra)
    dense = cls(**kw).fit(X, y)
    calls = []
    apply = SparseConvCode.apply
    monkeypatch.setattr(ConvNet, "SPARSE_BELOW", 1.0)  # sparse from the second step on
    monkeypatch.setattr(SparseConvCode, "apply", lambda *a: calls.append(1) or apply(*a))
    sparse = cls(sparse_backward=True, **kw).fit(X, y)
    assert len(calls) == kw["iterations"] - 1
    for k in dense.weights_:
        np.testing.assert_allclose(sparse.weights_[k], dense.weights_[k], atol=1e-5)
    np.testing.assert_allclose(sparse.curves_["avr"], dense.curves_["avr"], rtol=1e-3)


def test_sparse_backward_rule_trains_like_the_dense_one():
    from neurocode.models.relu_l1 import ReluL1FC

    X, y = ReluL1FC.conformance_data(400)
    kw = dict(hidden=64, l1=1e-3, iterations=30, eval_every=10, batch_size=50, random_state=0)
    dense = ReluL1FC(**kw).fit(X, y)
    sparse = ReluL1FC(sparse_backward=True, **kw).fit(X, y)
    for k in dense.weights_:
        np.testing.assert_allclose(sparse.weights_[k], dense.weights_[k], atol=1e-5)
    np.testing.assert_allclose(sparse.curves_["accuracy"], dense.curves_["accuracy"], atol=1e-6)
