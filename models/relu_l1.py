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
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "FCNet",
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


class FCNet(nn.Module):
    """784 -> ``hidden`` ReLU -> 10: the article's fully connected network."""

    kind = "fc"

    def __init__(self, hidden: int = 784, n_inputs: int = 784, n_classes: int = 10,
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.fc1 = nn.Linear(n_inputs, hidden)
        self.out = nn.Linear(hidden, n_classes)
        for layer in (self.fc1, self.out):
            _init_(layer.weight, layer.bias, generator)
        self.n_units = hidden

    def forward(self, x: torch.Tensor) -> Output:
        h = F.relu(self.fc1(x.reshape(x.shape[0], -1)))
        return Output(self.out(h), h)


class _ConvEncoder(nn.Module):
    def __init__(self, feature_maps: int, generator: torch.Generator | None) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, feature_maps, 3, stride=2, padding=0)
        _init_(self.conv.weight, self.conv.bias, generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.conv(_same_pad_stride2(x.reshape(x.shape[0], 1, 28, 28))))


class ConvNet(nn.Module):
    """Conv 3x3, ``feature_maps`` maps, stride 2, SAME -> 14x14xF ReLU -> linear -> 10."""

    kind = "cnn"

    def __init__(self, feature_maps: int = 200, n_classes: int = 10,
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.encoder = _ConvEncoder(feature_maps, generator)
        self.n_units = 14 * 14 * feature_maps
        self.out = nn.Linear(self.n_units, n_classes)
        _init_(self.out.weight, self.out.bias, generator)

    def forward(self, x: torch.Tensor) -> Output:
        maps = self.encoder(x)
        h = maps.reshape(maps.shape[0], -1)
        return Output(self.out(h), h)


class ConvAE(ConvNet):
    """The CNN trained jointly with a decoder back to the image (convolutional sparse AE)."""

    kind = "conv-ae"

    def __init__(self, feature_maps: int = 200, n_classes: int = 10, decoder: str = "subpixel",
                 generator: torch.Generator | None = None) -> None:
        super().__init__(feature_maps, n_classes, generator)
        if decoder not in ("subpixel", "transposed"):
            raise ValueError(f"decoder must be 'subpixel' or 'transposed', got {decoder!r}")
        self.decoder_kind = decoder
        if decoder == "subpixel":
            self.dec = nn.Conv2d(feature_maps, 4, 3, stride=1, padding=1)
        else:
            self.dec = nn.ConvTranspose2d(feature_maps, 1, 3, stride=2, padding=0)
        _init_(self.dec.weight, self.dec.bias, generator)

    def decode(self, maps: torch.Tensor) -> torch.Tensor:
        """Reconstruct (batch, 784) images from (batch, F, 14, 14) feature maps."""
        w = clip_by_norm(self.dec.weight, 1.0, dim=0)
        if self.decoder_kind == "subpixel":
            y = F.pixel_shuffle(F.conv2d(maps, w, self.dec.bias, padding=1), 2)
        else:
            # TF conv2d_transpose SAME == transposed conv without padding, cropped to 28x28 at
            # the start (the adjoint of the encoder's "pad after" alignment).
            y = F.conv_transpose2d(maps, w, self.dec.bias, stride=2)[:, :, :28, :28]
        return y.reshape(y.shape[0], -1)

    def forward(self, x: torch.Tensor) -> Output:
        maps = self.encoder(x)
        h = maps.reshape(maps.shape[0], -1)
        return Output(self.out(h), h, self.decode(maps))


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
