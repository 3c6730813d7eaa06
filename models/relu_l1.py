"""The article's ReLU networks with an L1 penalty on the hidden activations.

Source: "Sparse coding: a simple exploration" (the article this project starts from), which
trains three TensorFlow networks on MNIST and adds ``lambda * sum(h)`` to the loss, where ``h``
are the ReLU activations of the hidden layer, to push the code towards sparsity.

Objective, for a mini-batch of ``B`` images ``x_b`` with labels ``y_b``::

    L = (1/B) sum_b CE(softmax(W_o h_b + c_o), y_b)            cross-entropy, batch mean
        + lambda * sum_b sum_i h_{b,i}                          L1 on activations: a SUM
        [+ (1/B) sum_b || x_b - D(h_b) ||^2]                     autoencoder only

with ``h = ReLU(W x + c)`` (fully connected) or ``h = ReLU(conv_{3x3, stride 2, SAME}(x))``
(CNN and autoencoder). Weights are drawn from N(0, 0.1^2) and biases set to 0.1, as in the
article's code. The L1 term is a sum over the batch and the units, not a mean: the article's
lambda values (1e-5 ... 2.7e-3) only make sense that way.

The decoders of the convolutional sparse autoencoder:

* ``subpixel`` (the article's final choice, Shi et al. 2016 "Real-time single image and video
  super-resolution using an efficient sub-pixel convolutional neural network"): a 3x3 SAME
  convolution from the 200 maps to 4 channels (bias 0.1), then a x2 pixel shuffle to 28x28x1.
* ``transposed`` (the article's first choice): a 3x3 stride-2 transposed convolution from the
  200 maps to one 28x28 channel with its own bias, aligned as TensorFlow's ``conv2d_transpose``
  with SAME padding.

In both, as in the article's code, the forward pass uses the raw decoder kernel clipped by its
norm along TensorFlow's last kernel axis (``tf.clip_by_norm(kernel, 1, axes=[3])``): for the
sub-pixel conv that axis is the output channels, for the transposed conv it is the 200 input
maps, which in PyTorch's layouts is dimension 0 of the weight in both cases.

TensorFlow's SAME padding for a stride-2 3x3 convolution of a 28x28 image pads 0 rows/columns
before and 1 after (the odd pixel goes to the bottom/right); the encoder reproduces that
alignment instead of PyTorch's symmetric padding.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from neurocode.params import Param
from neurocode.rules import CodingRule, TrainingFailed

__all__ = [
    "ReluL1FC",
    "ReluL1CNN",
    "ReluL1ConvAE",
    "FCNet",
    "SparseReluLinear",
    "SparseConvCode",
    "ConvNet",
    "ConvAE",
    "Output",
    "build_model",
    "clip_by_norm",
    "MODEL_KINDS",
]

INIT_STD = 0.1
INIT_BIAS = 0.1


@dataclass
class Output:
    """What a forward pass returns: class logits, hidden code, and the reconstruction (AE)."""

    logits: torch.Tensor
    hidden: torch.Tensor  # (batch, n_units), flattened for the convolutional models
    recon: torch.Tensor | None = None  # (batch, 784) for the autoencoder


def _init_(weight: torch.Tensor, bias: torch.Tensor | None, gen: torch.Generator | None) -> None:
    with torch.no_grad():
        weight.normal_(0.0, INIT_STD, generator=gen)
        if bias is not None:
            bias.fill_(INIT_BIAS)


def clip_by_norm(weight: torch.Tensor, max_norm: float = 1.0, dim: int = 0) -> torch.Tensor:
    """``tf.clip_by_norm`` over one axis: ``w * max_norm / max(||w||_dim, max_norm)``."""
    norm = weight.norm(dim=dim, keepdim=True)
    return weight * (max_norm / torch.clamp(norm, min=max_norm))


def _same_pad_stride2(x: torch.Tensor) -> torch.Tensor:
    # TensorFlow SAME, kernel 3, stride 2, even input: pad total 1, all of it after.
    return F.pad(x, (0, 1, 0, 1))


class SparseReluLinear(torch.autograd.Function):
    """``h = ReLU(x W^T + b)`` whose backward skips the units that are silent on the batch.

    The gradient of a hidden unit's input weights is ``sum_b [h_bi > 0] dL/dh_bi x_b``: zero
    for a unit inactive on every image of the batch. The dense backward computes it anyway
    (a ``hidden x batch x inputs`` matmul); this one computes it only for the units active
    somewhere in the batch (``|A| x batch x inputs``) and leaves exact zeros elsewhere, which
    is what the dense gradient holds there. The input itself gets no gradient (it is data).
    The forward pass is the dense one: which units are active is only known after it.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        """The dense ``ReLU(x W^T + b)``; keeps the input and the code for the backward."""
        h = torch.relu(torch.addmm(bias, x, weight.t()))
        ctx.save_for_backward(x, h)
        return h

    @staticmethod
    def backward(ctx, grad_h: torch.Tensor):
        """Gradients of the weights and the bias, computed for the units active somewhere in the
        batch only (exact zeros for the others); none for the input."""
        x, h = ctx.saved_tensors
        on = h > 0
        cols = on.any(dim=0).nonzero().squeeze(1)
        g = grad_h.index_select(1, cols) * on.index_select(1, cols)
        grad_w = torch.zeros(h.shape[1], x.shape[1], dtype=x.dtype, device=x.device)
        grad_w.index_copy_(0, cols, g.t() @ x)
        grad_b = torch.zeros(h.shape[1], dtype=x.dtype, device=x.device)
        grad_b.index_copy_(0, cols, g.sum(dim=0))
        return None, grad_w, grad_b


def _decode_dense(maps: torch.Tensor, w: torch.Tensor, bias: torch.Tensor,
                  decoder: str) -> torch.Tensor:
    """The autoencoder's decoder (module docstring) from (batch, F, 14, 14) maps, with the
    kernel ``w`` already clipped: (batch, 784) reconstructions."""
    if decoder == "subpixel":
        y = F.pixel_shuffle(F.conv2d(maps, w, bias, padding=1), 2)
    else:
        # TF conv2d_transpose SAME == transposed conv without padding, cropped to 28x28 at
        # the start (the adjoint of the encoder's "pad after" alignment).
        y = F.conv_transpose2d(maps, w, bias, stride=2)[:, :, :28, :28]
    return y.reshape(y.shape[0], -1)


def _decoder_scatter(decoder: str, b: torch.Tensor, r: torch.Tensor,
                     q: torch.Tensor) -> tuple[torch.Tensor, tuple[int, ...]]:
    """Where each active unit's decoder kernel lands, as flat indices into a per-batch output
    buffer, and that buffer's per-image shape.

    sub-pixel: unit (b, c, r, q) adds ``w[o, c, ky, kx] v`` to the 4-channel conv output at
    (r - ky + 1, q - kx + 1), held in a buffer padded by one on each side (16 x 16);
    transposed: it adds ``w[c, 0, ky, kx] v`` to (2r + ky, 2q + kx) of the 29 x 29 output.
    The kernel taps are ordered as ``_decoder_kernel`` flattens them.
    """
    dev = b.device
    if decoder == "subpixel":
        shape = (4, 16, 16)
        o, ky, kx = torch.meshgrid(torch.arange(4, device=dev), torch.arange(3, device=dev),
                                   torch.arange(3, device=dev), indexing="ij")
        offs = (o * 256 + (2 - ky) * 16 + (2 - kx)).reshape(-1)
        base = b * 1024 + r * 16 + q
    else:
        shape = (1, 29, 29)
        ky, kx = torch.meshgrid(torch.arange(3, device=dev), torch.arange(3, device=dev),
                                indexing="ij")
        offs = (ky * 29 + kx).reshape(-1)
        base = b * 841 + 2 * r * 29 + 2 * q
    return base.unsqueeze(1) + offs, shape


def _decoder_kernel(decoder: str, w: torch.Tensor) -> torch.Tensor:
    """The decoder kernel as (maps, taps) in the order of :func:`_decoder_scatter`."""
    if decoder == "subpixel":  # (4, F, 3, 3) -> (F, 4 * 3 * 3)
        return w.permute(1, 0, 2, 3).reshape(w.shape[1], -1)
    return w.reshape(w.shape[0], -1)  # (F, 1, 3, 3) -> (F, 9)


def _decoder_kernel_grad(decoder: str, g: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    if decoder == "subpixel":
        return g.reshape(shape[1], shape[0], *shape[2:]).permute(1, 0, 2, 3)
    return g.reshape(shape)


class SparseConvCode(torch.autograd.Function):
    """The CNN's code and readout, ``h = ReLU(conv_{3x3/2}(x))`` and ``z = W_o h + c_o`` (and
    the autoencoder's decoder ``D(h)``), whose readout, decoder and backward touch only the
    active (image, unit) pairs.

    With ``A = {(b, j): h_bj > 0}`` (found once, after the dense convolution; which units are
    active is only known after it), every other term of the step is a sum over ``A``::

        z_b            = c_o + sum_{j: (b,j) in A} h_bj W_o[:, j]
        D(h)_b         = d + sum_{j: (b,j) in A} h_bj K_j      (K_j: unit j's decoder kernel,
                                                                placed at its position)
        dL/dW_o[:, j]  = sum_{b: (b,j) in A} h_bj dL/dz_b           dL/dc_o = sum_b dL/dz_b
        dL/dK_j        = sum_{b: (b,j) in A} h_bj dL/dD_b (under K_j's footprint)
        g_bj           = W_o[:, j] . dL/dz_b + K_j . dL/dD_b + dL/dh_bj      (b, j) in A
        dL/dW[c]       = sum_{(b,j) in A, map(j) = c} g_bj P_b(pos(j))  dL/dw_c = sum g_bj

    where ``P_b(p)`` is the 3x3 input patch under position ``p`` and ``dL/dh`` is the gradient
    that reaches the code from elsewhere (the L1 term). Outside ``A`` the ReLU's gradient is
    zero, so these are the dense gradients exactly; the work is ``O(|A|)`` instead of
    ``O(batch x units)`` for the readout, the decoder, their gradients and the convolution's
    weight gradient. The input gets no gradient (it is data). ``decoder`` is ``None`` (the
    CNN: the third output is ``None``), ``"subpixel"`` or ``"transposed"``, with the kernel
    ``dec_w`` already clipped.
    """

    @staticmethod
    def forward(ctx, xpad: torch.Tensor, conv_w: torch.Tensor, conv_b: torch.Tensor,
                out_w: torch.Tensor, out_b: torch.Tensor, dec_w: torch.Tensor | None = None,
                dec_b: torch.Tensor | None = None, decoder: str | None = None):
        """The dense convolution, then the logits, the flattened code ``h`` and the reconstruction
        (None without a ``decoder``) from the active (image, unit) pairs only."""
        maps = torch.relu_(F.conv2d(xpad, conv_w, conv_b, stride=2))
        batch, n_units = maps.shape[0], maps[0].numel()
        h = maps.reshape(batch, n_units)
        # the active pairs in two passes: the (image, map) rows with any activity, then the
        # positions within those rows (2x faster than one nonzero over every unit when sparse)
        spatial = maps.shape[2] * maps.shape[3]
        rows_all = maps.reshape(-1, spatial)
        rows = (rows_all.amax(1) > 0).nonzero().squeeze(1)
        ctx.conv_shape, ctx.out_shape, ctx.decoder = conv_w.shape, out_w.shape, decoder
        ctx.set_materialize_grads(False)
        within = rows_all.index_select(0, rows).nonzero()
        row = rows.index_select(0, within[:, 0])  # = b * maps + c
        pos = within[:, 1]  # the unit's position in its map
        b = torch.div(row, maps.shape[1], rounding_mode="floor")  # the image
        c = row - b * maps.shape[1]  # the unit's map
        j = c * spatial + pos  # the unit
        vals = rows_all[row, pos]
        w_j = out_w.index_select(1, j)  # (classes, |A|)
        logits = out_b.unsqueeze(0).repeat(batch, 1).index_add_(0, b, (w_j * vals).t())
        recon = k_j = where = None
        if decoder is not None:
            r = torch.div(pos, maps.shape[3], rounding_mode="floor")
            where, shape = _decoder_scatter(decoder, b, r, pos - r * maps.shape[3])
            k_j = _decoder_kernel(decoder, dec_w).index_select(0, c)  # (|A|, taps)
            buf = torch.zeros(batch * math.prod(shape), dtype=h.dtype, device=h.device)
            buf.index_add_(0, where.reshape(-1), (k_j * vals.unsqueeze(1)).reshape(-1))
            buf = buf.view(batch, *shape)
            if decoder == "subpixel":
                y = F.pixel_shuffle(buf[:, :, 1:15, 1:15] + dec_b.view(1, -1, 1, 1), 2)
            else:
                y = buf[:, :, :28, :28] + dec_b.view(1, -1, 1, 1)
            recon = y.reshape(batch, -1)
        ctx.save_for_backward(xpad, b, j, c, pos, vals, w_j, k_j, where, dec_w)
        return logits, h, recon

    @staticmethod
    def backward(ctx, g_logits: torch.Tensor | None, g_h: torch.Tensor | None,
                 g_recon: torch.Tensor | None = None):
        """The gradients of the class docstring (readout, decoder, convolution), summed over the
        active pairs only; the padded input and ``decoder`` get none."""
        xpad, b, j, c, pos, vals, w_j, k_j, where, dec_w = ctx.saved_tensors
        grad_out_w = grad_out_b = grad_dec_w = grad_dec_b = None
        g = torch.zeros_like(vals)
        if g_logits is not None:
            g_b = g_logits.index_select(0, b)  # (|A|, classes)
            g = g + (g_b * w_j.t()).sum(1)
            grad_out_w = torch.zeros(ctx.out_shape, dtype=vals.dtype, device=vals.device)
            grad_out_w.index_add_(1, j, (g_b * vals.unsqueeze(1)).t())
            grad_out_b = g_logits.sum(0)
        if g_h is not None:
            g = g + g_h[b, j]  # advanced indexing: no copy of an expanded (L1) gradient
        n_maps = ctx.conv_shape[0]
        if g_recon is not None:
            img = g_recon.reshape(len(g_recon), 1, 28, 28)
            if ctx.decoder == "subpixel":
                g_buf = F.pad(F.pixel_unshuffle(img, 2), (1, 1, 1, 1))
                grad_dec_b = g_buf.sum((0, 2, 3))
            else:
                g_buf = F.pad(img, (0, 1, 0, 1))
                grad_dec_b = g_recon.sum().reshape(1)
            g_k = g_buf.reshape(-1)[where]  # (|A|, taps): dL/dD under each unit's kernel
            g = g + (g_k * k_j).sum(1)
            g_kernel = torch.zeros(n_maps, g_k.shape[1], dtype=vals.dtype, device=vals.device)
            g_kernel.index_add_(0, c, g_k * vals.unsqueeze(1))
            grad_dec_w = _decoder_kernel_grad(ctx.decoder, g_kernel, dec_w.shape)
        patches = F.unfold(xpad, ctx.conv_shape[2:], stride=2)  # (batch, in x 3 x 3, spatial)
        p_bj = patches[b, :, pos]  # (|A|, in x 3 x 3)
        grad_conv_w = torch.zeros(n_maps, p_bj.shape[1], dtype=vals.dtype, device=vals.device)
        grad_conv_w.index_add_(0, c, p_bj * g.unsqueeze(1))
        grad_conv_b = torch.zeros(n_maps, dtype=vals.dtype, device=vals.device).index_add_(0, c, g)
        return (None, grad_conv_w.view(ctx.conv_shape), grad_conv_b, grad_out_w, grad_out_b,
                grad_dec_w, grad_dec_b, None)


class FCNet(nn.Module):
    """784 -> ``hidden`` ReLU -> 10: the article's fully connected network.

    ``sparse_backward``: the hidden layer's backward skips the units silent on the batch
    (:class:`SparseReluLinear`); same gradients, less work when the code is sparse.
    """

    kind = "fc"

    def __init__(self, hidden: int = 784, n_inputs: int = 784, n_classes: int = 10,
                 generator: torch.Generator | None = None, sparse_backward: bool = False) -> None:
        super().__init__()
        self.fc1 = nn.Linear(n_inputs, hidden)
        self.out = nn.Linear(hidden, n_classes)
        for layer in (self.fc1, self.out):
            _init_(layer.weight, layer.bias, generator)
        self.n_units = hidden
        self.sparse_backward = sparse_backward

    def forward(self, x: torch.Tensor) -> Output:
        """Logits and hidden code of a batch (each image flattened to its inputs); while gradients
        are on with ``sparse_backward``, the hidden layer is :class:`SparseReluLinear`."""
        x = x.reshape(x.shape[0], -1)
        if self.sparse_backward and torch.is_grad_enabled():
            h = SparseReluLinear.apply(x, self.fc1.weight, self.fc1.bias)
        else:
            h = F.relu(self.fc1(x))
        return Output(self.out(h), h)


class _ConvEncoder(nn.Module):
    def __init__(self, feature_maps: int, generator: torch.Generator | None) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, feature_maps, 3, stride=2, padding=0)
        _init_(self.conv.weight, self.conv.bias, generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.conv(_same_pad_stride2(x.reshape(x.shape[0], 1, 28, 28))))


class ConvNet(nn.Module):
    """Conv 3x3, ``feature_maps`` maps, stride 2, SAME -> 14x14xF ReLU -> linear -> 10.

    ``sparse_backward``: while training on a sparse code, the readout (and an autoencoder's
    decoder) and the backward run over the active (image, unit) pairs only
    (:class:`SparseConvCode`); same gradients, less work. Every ``ROUTE_EVERY`` training
    steps the network looks at the batch's activity ratio (the fraction of (image, unit) pairs
    active), and takes the sparse route for the next steps while it is at most
    ``SPARSE_BELOW``; above it (an unpenalised or early, still dense code) the index work
    would cost more than it saves, and the steps are the plain ones.
    """

    kind = "cnn"
    #: the sparse route while the activity ratio is at most this: it breaks even near 0.02
    #: (random codes: CNN and autoencoder 1.0-1.6x at 0.02, 0.85-1.05x at 0.05; trained
    #: autoencoders at lambda = 1e-5: 1.33x at 0.0155, 0.86x at 0.0233;
    #: benchmarks/bench_sparse.py)
    SPARSE_BELOW = 0.02
    #: training steps between two looks at the code's density
    ROUTE_EVERY = 20

    def __init__(self, feature_maps: int = 200, n_classes: int = 10,
                 generator: torch.Generator | None = None, sparse_backward: bool = False) -> None:
        super().__init__()
        self.encoder = _ConvEncoder(feature_maps, generator)
        self.n_units = 14 * 14 * feature_maps
        self.maps_shape = (feature_maps, 14, 14)
        self.out = nn.Linear(self.n_units, n_classes)
        _init_(self.out.weight, self.out.bias, generator)
        self.sparse_backward = sparse_backward
        self.sparse_route = False  # the route of the next training steps (see the docstring)
        self._steps = 0

    def _decoder_args(self) -> tuple:
        return ()

    def _heads(self, maps: torch.Tensor) -> Output:
        h = maps.reshape(maps.shape[0], -1)
        return Output(self.out(h), h)

    def forward(self, x: torch.Tensor) -> Output:
        """Logits and flattened code of a batch of 28x28 images (and, for :class:`ConvAE`, the
        reconstruction). While training with ``sparse_backward``, the step takes the sparse route
        (:class:`SparseConvCode`) when the last look at the activity ratio found it at most
        ``SPARSE_BELOW``."""
        if not (self.sparse_backward and torch.is_grad_enabled()):
            return self._heads(self.encoder(x))
        if self.sparse_route:
            xpad = _same_pad_stride2(x.reshape(x.shape[0], 1, 28, 28))
            conv = self.encoder.conv
            out = Output(*SparseConvCode.apply(xpad, conv.weight, conv.bias, self.out.weight,
                                               self.out.bias, *self._decoder_args()))
        else:
            out = self._heads(self.encoder(x))
        if self._steps % self.ROUTE_EVERY == 0:
            with torch.no_grad():
                active = float((out.hidden > 0).float().mean())
            self.sparse_route = active <= self.SPARSE_BELOW
        self._steps += 1
        return out


class ConvAE(ConvNet):
    """The CNN trained jointly with a decoder back to the image (convolutional sparse AE)."""

    kind = "conv-ae"

    def __init__(self, feature_maps: int = 200, n_classes: int = 10, decoder: str = "subpixel",
                 generator: torch.Generator | None = None, sparse_backward: bool = False) -> None:
        super().__init__(feature_maps, n_classes, generator, sparse_backward)
        if decoder not in ("subpixel", "transposed"):
            raise ValueError(f"decoder must be 'subpixel' or 'transposed', got {decoder!r}")
        self.decoder_kind = decoder
        if decoder == "subpixel":
            self.dec = nn.Conv2d(feature_maps, 4, 3, stride=1, padding=1)
        else:
            self.dec = nn.ConvTranspose2d(feature_maps, 1, 3, stride=2, padding=0)
        _init_(self.dec.weight, self.dec.bias, generator)

    def _decoder_args(self) -> tuple:
        return clip_by_norm(self.dec.weight, 1.0, dim=0), self.dec.bias, self.decoder_kind

    def decode(self, maps: torch.Tensor) -> torch.Tensor:
        """Reconstruct (batch, 784) images from (batch, F, 14, 14) feature maps."""
        w = clip_by_norm(self.dec.weight, 1.0, dim=0)
        return _decode_dense(maps, w, self.dec.bias, self.decoder_kind)

    def _heads(self, maps: torch.Tensor) -> Output:
        out = super()._heads(maps)
        out.recon = self.decode(maps)
        return out


MODEL_KINDS = {
    "fc": "ReLU+L1 fully connected net, 784 -> 784 ReLU -> 10 (the article's first experiment)",
    "cnn": "ReLU+L1 CNN, conv 3x3/2 x200 maps (39,200 units) -> 10 (the article's second)",
    "conv-ae": "ReLU+L1 CNN trained jointly with a sub-pixel or transposed-conv decoder (the third)",
}


def build_model(kind: str, *, hidden: int = 784, feature_maps: int = 200,
                decoder: str | None = None, seed: int | None = None) -> nn.Module:
    """Build one of the article's networks, initialised from ``seed``."""
    gen = torch.Generator().manual_seed(seed) if seed is not None else None
    if kind == "fc":
        return FCNet(hidden, generator=gen)
    if kind == "cnn":
        return ConvNet(feature_maps, generator=gen)
    if kind == "conv-ae":
        return ConvAE(feature_maps, decoder=decoder or "subpixel", generator=gen)
    raise ValueError(f"unknown model kind {kind!r}; known: {', '.join(MODEL_KINDS)}")


def loss_terms(model: nn.Module, out: Output, x: torch.Tensor, y: torch.Tensor,
               l1: float) -> dict[str, torch.Tensor]:
    """The article's loss and its parts for one batch (see the module docstring).

    Returns ``ce`` (batch-mean cross-entropy), ``l1`` (lambda times the SUM of hidden
    activations over batch and units), ``recon`` (batch mean of the per-image summed squared
    error, autoencoder only) and ``total``.
    """
    ce = F.cross_entropy(out.logits, y)
    l1_term = l1 * out.hidden.sum()
    terms = {"ce": ce, "l1": l1_term}
    total = ce + l1_term
    if out.recon is not None:
        recon = (out.recon - x.reshape(x.shape[0], -1)).pow(2).sum(dim=1).mean()
        terms["recon"] = recon
        total = total + recon
    terms["total"] = total
    return terms


def flops_per_iteration(model: nn.Module, batch: int) -> float:
    """Approximate floating point operations of one training iteration (forward + backward).

    Counts the multiply-adds of the matmuls/convolutions (2 flops each) and triples them for
    forward + backward (the input-gradient and weight-gradient passes each cost one forward).
    """
    macs = 0
    for m in model.modules():
        if isinstance(m, nn.Linear):
            macs += m.in_features * m.out_features
        elif isinstance(m, nn.Conv2d):
            macs += math.prod(m.weight.shape) * 14 * 14
        elif isinstance(m, nn.ConvTranspose2d):
            macs += math.prod(m.weight.shape) * 14 * 14
    return 3 * 2 * macs * batch


@torch.no_grad()
def evaluate(model, x: torch.Tensor, y: torch.Tensor, l1: float, batch_size: int,
             chunk: int = 1000) -> dict[str, float]:
    """Test-set metrics of the module docstring, computed in chunks of ``chunk`` images."""
    model.eval()
    n = len(x)
    correct = active = act_sum = ce_sum = sse = sse_q = 0.0
    has_recon = False
    for i in range(0, n, chunk):
        xb, yb = x[i:i + chunk], y[i:i + chunk]
        out = model(xb)
        correct += (out.logits.argmax(1) == yb).sum().item()
        active += (out.hidden > 0).sum().item()
        act_sum += out.hidden.sum().item()
        ce_sum += torch.nn.functional.cross_entropy(out.logits, yb, reduction="sum").item()
        if out.recon is not None:
            has_recon = True
            sse += (out.recon - xb).pow(2).sum().item()
            q = torch.round(out.recon.clamp(0, 1) * 255.0)
            sse_q += (q - torch.round(xb * 255.0)).pow(2).sum().item()
    model.train()
    n_units = model.n_units
    m = {
        "accuracy": correct / n,
        "avr": active / n,
        "activity_ratio": active / n / n_units,
        "loss_ce": ce_sum / n,
        "loss_l1": l1 * batch_size * act_sum / n,
    }
    m["loss"] = m["loss_ce"] + m["loss_l1"]
    if has_recon:
        m["loss_recon"] = sse / n
        m["loss"] += m["loss_recon"]
        m["recon_error"] = sse_q / (n * x.shape[1])
    return m


# -- the networks as coding rules -----------------------------------------------------------
_TRAIN_PARAMS = {
    "l1": Param(float, 0.0, low=0.0, high=10.0, doc="lambda: weight of the L1 term (a sum)"),
    "iterations": Param(int, 20000, low=1, high=10_000_000, section="train",
                        doc="Adam iterations"),
    "batch_size": Param(int, 100, low=1, high=60000, section="train", doc="mini-batch size"),
    "lr": Param(float, 1e-3, low=0.0, high=10.0, section="train", doc="Adam learning rate"),
    "eval_every": Param(int, 100, low=1, section="train",
                        doc="iterations between evaluations on the validation data"),
    "eval_batch": Param(int, 100, low=1, high=100_000, section="train",
                        doc="images per chunk when evaluating and encoding (100 keeps a "
                            "CNN chunk's 39,200-unit maps under 16 MB: larger chunks were 3x "
                            "slower, see benchmarks/bench_eval.py)"),
    "sparse_backward": Param(bool, False, section="train", omit_if_unset=True,
                             doc="sparse-aware steps: skip the work of inactive hidden units "
                                 "(FC: the weight gradients of units silent on the batch; "
                                 "CNN and autoencoder: readout, decoder and backward over the "
                                 "active units once the code is sparse); same gradients, "
                                 "faster for sparse codes"),
}


class _ReluL1Rule(CodingRule):
    """Shared training and encoding of the article's three networks (module docstring).

    ``fit(X, y, validation_data=(X_test, y_test))`` trains with Adam on mini-batches drawn in
    a fresh random order each epoch (as TensorFlow's ``mnist.train.next_batch``) and, every
    ``eval_every`` iterations, records on the validation data (test set) in ``curves_``:

    ``accuracy``; ``avr`` (mean number of hidden units with activation > 0 per image: the
    article's "AverageDensity"); ``activity_ratio`` (``avr / n_units``); ``loss_ce`` (mean
    cross-entropy); ``loss_l1`` (the L1 term as the objective sees it on a batch of
    ``batch_size`` images: ``lambda * batch_size * mean_image(sum_units h)``); ``loss_recon``
    (autoencoder: mean per-image summed squared error, pixels in [0, 1]); ``loss`` (their sum);
    ``recon_error`` (autoencoder, the article's reading: mean squared error per pixel after
    quantising the reconstruction back to integers 0..255); ``avr_train`` and ``train_loss``
    (AVR and loss of the training batch of the last update, what the article logged).

    A loss that becomes NaN or infinite stops training with :class:`TrainingFailed`; the
    curves recorded so far stay in ``curves_``. The code of a stimulus is the hidden ReLU
    activation; ``unit_mask`` zeroes silenced hidden units before the readout (and decoder),
    so ``predict`` reports the damaged network's answer.
    """

    # the hidden code is zeroed after the forward pass (feed-forward: nothing else changes)
    tags = replace(CodingRule.tags, code_kind="rate", uses_labels=True, own_readout=True,
                   silencing="dropped",
                   fit_options=("validation_data", "device", "progress", "callback"))
    kind: ClassVar[str] = ""

    def _build(self, generator: torch.Generator | None) -> nn.Module:
        raise NotImplementedError

    @classmethod
    def conformance_data(cls, n_samples: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(0)
        y = rng.integers(0, 10, n_samples)
        X = rng.random((n_samples, 784)).astype(np.float32) * 0.3
        for c in range(10):  # a class-dependent bright block
            X[y == c, c * 70:(c + 1) * 70] += 0.7
        return X, y

    # network state <-> learned arrays
    def _net(self, device: torch.device | str = "cpu") -> nn.Module:
        net = self.__dict__.get("_net_cache")
        if net is None or next(net.parameters()).device != torch.device(device):
            net = self._build(None).to(device)
            net.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in self.weights_.items()})
            net.eval()
            self._net_cache = net
        return net

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        super().set_state(state)
        self.__dict__.pop("_net_cache", None)

    def _setup(self, X: np.ndarray, y: np.ndarray, validation_data: tuple | None,
               device: torch.device) -> tuple:
        """What one training run (or a vectorised group) shares: the seed, the data on the
        device, the batch-order generator and the number of batches per epoch."""
        if X.shape[1] != 784:
            raise ValueError(f"rule '{self.name}' takes 28x28 images flattened to 784 features, "
                             f"got {X.shape[1]}")
        seed = self.random_state if self.random_state is not None else int(
            np.random.default_rng().integers(2**31))
        x_train = torch.as_tensor(X, dtype=torch.float32, device=device)
        y_train = torch.as_tensor(y, dtype=torch.int64, device=device)
        if validation_data is not None:
            x_val = torch.as_tensor(validation_data[0], dtype=torch.float32, device=device)
            y_val = torch.as_tensor(validation_data[1], dtype=torch.int64, device=device)
        else:
            x_val, y_val = x_train, y_train
        n = len(x_train)
        if self.batch_size > n:
            raise ValueError(f"rule '{self.name}' parameter 'batch_size' ({self.batch_size}) is "
                             f"larger than the {n} training samples")
        gen = torch.Generator().manual_seed(seed + 1)  # batch order: its own stream
        return seed, x_train, y_train, x_val, y_val, gen, n, n // self.batch_size

    def _fit(self, X: np.ndarray, y: np.ndarray, validation_data: tuple | None = None,
             device: str | torch.device = "cpu", progress: bool | None = False,
             callback: Callable[[int, dict[str, float]], None] | None = None) -> None:
        from tqdm.auto import tqdm

        device = torch.device(device)
        seed, x_train, y_train, x_val, y_val, gen, n, per_epoch = self._setup(
            X, y, validation_data, device)
        self.__dict__.pop("_net_cache", None)
        model = self._build(torch.Generator().manual_seed(seed)).to(device)
        opt = torch.optim.Adam(model.parameters(), lr=self.lr)
        l1, bs, iters, every = float(self.l1), self.batch_size, self.iterations, self.eval_every
        rows: list[dict[str, float]] = []

        def record(step: int, avr_train: float, train_loss: float) -> dict[str, float]:
            row = {"step": step, **evaluate(model, x_val, y_val, l1, bs, self.eval_batch),
                   "avr_train": avr_train, "train_loss": train_loss}
            rows.append(row)
            if callback is not None:
                callback(step, row)
            return row

        def finish() -> None:
            self.curves_ = {k: np.array([r[k] for r in rows]) for k in rows[0]}
            self.curves_["step"] = self.curves_["step"].astype(np.int64)
            self.weights_ = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}

        perm = torch.randperm(n, generator=gen).to(device)
        with torch.no_grad():
            first = perm[:bs]
            out0 = model(x_train[first])
            t0 = loss_terms(model, out0, x_train[first], y_train[first], l1)
            record(0, (out0.hidden > 0).sum().item() / bs, t0["total"].item())
        bar = tqdm(total=iters, desc=f"{self.name} l1={l1:g}", unit="it", leave=False,
                   disable=(not progress) if progress is not None else None, dynamic_ncols=True)
        # The loss stays on the device between evaluations (no host round trip per step):
        # the first iteration whose loss is not finite, and that loss, are kept on the device
        # and checked at each evaluation (so a diverged run stops within `every` steps).
        first_bad = torch.zeros((), dtype=torch.int64, device=device)
        bad_loss = torch.zeros((), device=device)
        try:
            for it in range(iters):
                j = it % per_epoch
                if it and j == 0:
                    perm = torch.randperm(n, generator=gen).to(device)
                idx = perm[j * bs:(j + 1) * bs]
                xb, yb = x_train[idx], y_train[idx]
                out = model(xb)
                loss = loss_terms(model, out, xb, yb, l1)["total"]
                with torch.no_grad():
                    new = (first_bad == 0) & ~torch.isfinite(loss)
                    first_bad = torch.where(new, it + 1, first_bad)
                    bad_loss = torch.where(new, loss.detach(), bad_loss)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                bar.update(1)
                if (it + 1) % every == 0 or it + 1 == iters:
                    if int(first_bad) > 0:
                        finish()
                        raise TrainingFailed(
                            f"loss became {float(bad_loss)} at iteration {int(first_bad)} "
                            f"(l1={l1:g}, lr={self.lr:g}); lower the learning rate or lambda")
                    row = record(it + 1, (out.hidden > 0).sum().item() / bs, loss.item())
                    bar.set_postfix(acc=f"{row['accuracy']:.4f}", avr=f"{row['avr']:.1f}")
        finally:
            bar.close()
        finish()

    @classmethod
    def fit_many(cls, rules: list[_ReluL1Rule], X: Any, y: Any,
                 validation_data: tuple | None = None, device: str | torch.device = "cpu",
                 progress: bool | None = False) -> list[TrainingFailed | None]:
        """Train rules that differ only in ``l1`` as one batched model: a vectorised sweep.

        The ``L`` networks start from the same initial weights (one seed, as ``L`` separate
        runs with that seed would) and see the same mini-batches; their parameters are stacked
        along a leading axis and the forward pass is vectorised over it
        (:func:`torch.func.vmap` of :func:`torch.func.functional_call`). The objective is the
        sum of the ``L`` losses, so each network's gradient is that of its own loss, and Adam
        acts element by element, so each network follows the updates a separate run would
        make, up to floating-point rounding (the batched matmuls sum in another order). Each
        rule gets its own ``curves_`` and weights; a network whose loss becomes NaN or
        infinite stops recording (its entry of the returned list is the
        :class:`TrainingFailed`, otherwise None) while the others train on.
        """
        import copy

        from torch.func import functional_call, stack_module_state, vmap
        from tqdm.auto import tqdm

        if not rules:
            return []
        base = rules[0]
        same = {k: v for k, v in base.get_params().items() if k != "l1"}
        for r in rules:
            if type(r) is not type(base):
                raise ValueError("fit_many: every rule must be of one class")
            r._validate_params()
            if {k: v for k, v in r.get_params().items() if k != "l1"} != same:
                raise ValueError("fit_many: the rules must differ only in 'l1'")
        X = base._check_X(X, reset=True)
        for r in rules[1:]:
            r._check_X(X, reset=True)
        y = np.asarray(y)
        if y.shape != (X.shape[0],):
            raise ValueError(f"y must have shape ({X.shape[0]},) to match X, got {y.shape}")
        device = torch.device(device)
        seed, x_train, y_train, x_val, y_val, gen, n, per_epoch = base._setup(
            X, y, validation_data, device)
        L = len(rules)
        nets = [r._build(torch.Generator().manual_seed(seed)).to(device) for r in rules]
        for r in rules:
            r.__dict__.pop("_net_cache", None)
        params, buffers = stack_module_state(nets)
        skeleton = copy.deepcopy(nets[0]).to("meta")
        if hasattr(skeleton, "sparse_backward"):
            skeleton.sparse_backward = False  # a custom backward does not vmap: the dense one
        has_recon = isinstance(nets[0], ConvAE)

        def one(p, b, x):
            out = functional_call(skeleton, (p, b), (x,))
            return (out.logits, out.hidden, out.recon) if has_recon else (out.logits, out.hidden)

        forward = vmap(one, in_dims=(0, 0, None))
        lam = torch.tensor([float(r.l1) for r in rules], device=device)
        opt = torch.optim.Adam(list(params.values()), lr=base.lr)
        bs, iters, every = base.batch_size, base.iterations, base.eval_every
        rows: list[list[dict[str, float]]] = [[] for _ in rules]
        failed: list[TrainingFailed | None] = [None] * L

        def losses(out, xb, yb):
            logits, hidden = out[0], out[1]
            ce = F.cross_entropy(logits.reshape(L * len(yb), -1), yb.repeat(L),
                                 reduction="none").view(L, -1).mean(1)
            total = ce + lam * hidden.sum(dim=(1, 2))
            if has_recon:
                total = total + (out[2] - xb.reshape(len(xb), -1)).pow(2).sum(2).mean(1)
            return total

        def load(i: int) -> nn.Module:
            with torch.no_grad():
                for name, p in nets[i].named_parameters():
                    p.copy_(params[name][i])
            return nets[i]

        def record(step: int, hidden: torch.Tensor, total: torch.Tensor) -> None:
            avr_train = ((hidden > 0).sum(dim=(1, 2)) / bs).tolist()
            train_loss = total.tolist()
            for i, r in enumerate(rules):
                if failed[i] is None:
                    rows[i].append({"step": step, **evaluate(load(i), x_val, y_val, float(r.l1),
                                                             bs, base.eval_batch),
                                    "avr_train": avr_train[i], "train_loss": train_loss[i]})

        perm = torch.randperm(n, generator=gen).to(device)
        with torch.no_grad():
            first = perm[:bs]
            out0 = forward(params, buffers, x_train[first])
            record(0, out0[1], losses(out0, x_train[first], y_train[first]))
        first_bad = torch.zeros(L, dtype=torch.int64, device=device)
        bad_loss = torch.zeros(L, device=device)
        bar = tqdm(total=iters, desc=f"{base.name} x{L} lambdas", unit="it", leave=False,
                   disable=(not progress) if progress is not None else None, dynamic_ncols=True)
        try:
            for it in range(iters):
                j = it % per_epoch
                if it and j == 0:
                    perm = torch.randperm(n, generator=gen).to(device)
                idx = perm[j * bs:(j + 1) * bs]
                xb, yb = x_train[idx], y_train[idx]
                out = forward(params, buffers, xb)
                total = losses(out, xb, yb)
                with torch.no_grad():
                    new = (first_bad == 0) & ~torch.isfinite(total)
                    first_bad = torch.where(new, it + 1, first_bad)
                    bad_loss = torch.where(new, total.detach(), bad_loss)
                opt.zero_grad(set_to_none=True)
                total.sum().backward()
                opt.step()
                bar.update(1)
                if (it + 1) % every == 0 or it + 1 == iters:
                    for i, (b, v) in enumerate(zip(first_bad.tolist(), bad_loss.tolist(),
                                                   strict=True)):
                        if b and failed[i] is None:
                            failed[i] = TrainingFailed(
                                f"loss became {v} at iteration {b} (l1={rules[i].l1:g}, "
                                f"lr={base.lr:g}); lower the learning rate or lambda")
                    if all(f is not None for f in failed):
                        break
                    record(it + 1, out[1].detach(), total.detach())
        finally:
            bar.close()
            for i, r in enumerate(rules):
                if rows[i]:
                    r.curves_ = {k: np.array([row[k] for row in rows[i]]) for k in rows[i][0]}
                    r.curves_["step"] = r.curves_["step"].astype(np.int64)
                if failed[i] is None:
                    r.weights_ = {k: v.detach().cpu().numpy()
                                  for k, v in load(i).state_dict().items()}
        return failed

    @torch.no_grad()
    def _forward_masked(self, X: np.ndarray, mask: np.ndarray, want: str) -> np.ndarray:
        net = self._net()
        keep = torch.from_numpy(mask.astype(np.float32))
        outs = []
        for i in range(0, len(X), self.eval_batch):
            x = torch.as_tensor(X[i:i + self.eval_batch], dtype=torch.float32)
            out = net(x)
            h = out.hidden * keep
            if want == "codes":
                outs.append(h)
            elif want == "logits":
                outs.append(net.out(h))
            else:  # reconstruction from the damaged code
                outs.append(net.decode(h.reshape(-1, *net.maps_shape)))
        return torch.cat(outs).numpy()

    def _encode(self, X: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return self._forward_masked(X, mask, "codes")

    def decision_function(self, X: Any, unit_mask: Any = None) -> np.ndarray:
        """Class scores (logits) of the network's own readout, from the (possibly damaged) code."""
        self._check_fitted()
        X = self._check_X(X)
        return self._forward_masked(X, self._check_mask(unit_mask), "logits")

    def predict(self, X: Any, unit_mask: Any = None) -> np.ndarray:
        """Class predicted by the network's own readout, from the (possibly damaged) code."""
        return self.decision_function(X, unit_mask).argmax(1)


class ReluL1FC(_ReluL1Rule):
    """The article's fully connected net: 784 -> ``hidden`` ReLU -> 10, L1 on the hidden layer.

    See :class:`_ReluL1Rule` for training and what is recorded, and the module docstring for
    the objective. Source: "Sparse coding: a simple exploration" (FC experiment).

    Examples
    --------
    >>> from neurocode.models.relu_l1 import ReluL1FC
    >>> X, y = ReluL1FC.conformance_data(200)
    >>> rule = ReluL1FC(hidden=32, l1=1e-4, iterations=50, random_state=0).fit(X, y)
    >>> print(rule.encode(X[:3]).shape)
    (3, 32)
    """

    name = "relu-l1-fc"
    description = "the article's FC net 784 -> 784 ReLU -> 10 with an L1 penalty on the hidden code"
    kind = "fc"
    params = {"hidden": Param(int, 784, low=1, high=100_000, doc="hidden units"),
              **_TRAIN_PARAMS}
    tags = replace(_ReluL1Rule.tags, sparsity_param="l1", legend_params=("l1",))
    test_params = {"hidden": 16, "iterations": 4, "eval_every": 2, "batch_size": 32,
                   "random_state": 0}

    @property
    def n_units(self) -> int:
        """The code's width: the ``hidden`` units of the hidden layer."""
        return int(self.hidden)

    def _build(self, generator):
        return FCNet(self.hidden, generator=generator, sparse_backward=self.sparse_backward)

    def receptive_fields(self) -> np.ndarray | None:
        """The hidden units' input weights, ``(hidden, 784)``, for drawing."""
        self._check_fitted()
        return np.asarray(self.weights_["fc1.weight"])


class ReluL1CNN(_ReluL1Rule):
    """The article's CNN: conv 3x3 stride 2 SAME, ``feature_maps`` maps of 14x14 -> 10.

    Source: "Sparse coding: a simple exploration" (CNN experiment). The code is the flattened
    feature maps (39,200 units for 200 maps).

    Examples
    --------
    >>> from neurocode.models.relu_l1 import ReluL1CNN
    >>> X, y = ReluL1CNN.conformance_data(100)
    >>> rule = ReluL1CNN(feature_maps=2, iterations=5, random_state=0).fit(X, y)
    >>> print(rule.n_units)
    392
    """

    name = "relu-l1-cnn"
    description = "the article's CNN (3x3/2 conv, 200 maps = 39,200 ReLU units) with L1 on the maps"
    kind = "cnn"
    params = {"feature_maps": Param(int, 200, low=1, high=4096, doc="conv feature maps"),
              **_TRAIN_PARAMS}
    tags = replace(_ReluL1Rule.tags, sparsity_param="l1", legend_params=("l1",))
    test_params = {"feature_maps": 2, "iterations": 4, "eval_every": 2, "batch_size": 32,
                   "random_state": 0}

    @property
    def n_units(self) -> int:
        """The code's width: every position of every feature map, ``14 * 14 * feature_maps``."""
        return 14 * 14 * int(self.feature_maps)

    def _build(self, generator):
        return ConvNet(self.feature_maps, generator=generator,
                       sparse_backward=self.sparse_backward)


class ReluL1ConvAE(ReluL1CNN):
    """The article's convolutional sparse autoencoder: the CNN trained jointly with a decoder.

    ``decoder`` is ``"subpixel"`` (the article's final choice) or ``"transposed"``. Generative:
    ``decode(codes)`` reconstructs images (784 pixels in [0, 1] scale) from hidden codes.

    Examples
    --------
    >>> from neurocode.models.relu_l1 import ReluL1ConvAE
    >>> X, y = ReluL1ConvAE.conformance_data(100)
    >>> rule = ReluL1ConvAE(feature_maps=2, iterations=5, random_state=0).fit(X, y)
    >>> print(rule.decode(rule.encode(X[:2])).shape)
    (2, 784)
    """

    name = "relu-l1-conv-ae"
    description = "the article's conv sparse autoencoder (CNN + sub-pixel or transposed-conv decoder)"
    kind = "conv-ae"
    params = {"decoder": Param(str, "subpixel", choices=("subpixel", "transposed"),
                               doc="decoder: sub-pixel conv (final) or transposed conv (first)")}
    tags = replace(ReluL1CNN.tags, legend_params=("decoder", "l1"))

    def _build(self, generator):
        return ConvAE(self.feature_maps, decoder=self.decoder, generator=generator,
                      sparse_backward=self.sparse_backward)

    def _decode(self, codes: np.ndarray) -> np.ndarray:
        net = self._net()
        with torch.no_grad():
            h = torch.as_tensor(codes, dtype=torch.float32)
            return net.decode(h.reshape(len(h), *net.maps_shape)).numpy()


RULES = {c.kind: c for c in (ReluL1FC, ReluL1CNN, ReluL1ConvAE)}
