"""The article's three networks as torch modules (the objective is in the package docstring).

:class:`FCNet` (784 -> hidden ReLU -> 10), :class:`ConvNet` (conv 3x3 stride 2 SAME, 14x14xF
ReLU maps -> 10) and :class:`ConvAE` (the CNN with a decoder back to the image), built by name
with :func:`build_model`. Weights are drawn from N(0, 0.1^2) and biases set to 0.1, as in the
article's code; the encoder pads as TensorFlow's SAME does (0 before, 1 after).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import torch
import torch.nn.functional as F
from torch import nn

from neurocode.models.relu_l1.original_473bc3f import DECODER as ORIGINAL_473BC3F
from neurocode.models.relu_l1.sparse import SparseConvCode, SparseReluLinear, _decode_dense

__all__ = ["Output", "FCNet", "ConvNet", "ConvAE", "build_model", "clip_by_norm", "MODEL_KINDS",
           "DECODERS"]

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


#: the autoencoder's decoders: the article's final (sub-pixel) and first (transposed conv)
#: choices, and the first as it was really run, bugs included (:mod:`.original_473bc3f`)
DECODERS = ("subpixel", "transposed", ORIGINAL_473BC3F)


class ConvAE(ConvNet):
    """The CNN trained jointly with a decoder back to the image (convolutional sparse AE).

    ``decoder`` (one of :data:`DECODERS`): ``"subpixel"`` (the article's final choice: a 3x3
    SAME conv to 4 channels, then a x2 pixel shuffle), ``"transposed"`` (its first: a 3x3
    stride-2 transposed conv to one channel with its own bias), or ``"original-473bc3f"``: the
    transposed decoder exactly as the article's code at commit 473bc3f ran it, bugs included
    (:mod:`neurocode.models.relu_l1.original_473bc3f` says what each is and where it sits):
    the decoder's offset is the encoder's biases ``b1`` broadcast into one copy of the image
    per feature map, which the loss (:func:`~neurocode.models.relu_l1.loss_terms`) sums over;
    the reconstruction returned here is their mean, ``D(a) + mean(b1)``, and ``dec.bias``
    (the original's ``b_decoder``) is created as there and never used. Not a setting to use.
    """

    kind = "conv-ae"

    def __init__(self, feature_maps: int = 200, n_classes: int = 10, decoder: str = "subpixel",
                 generator: torch.Generator | None = None, sparse_backward: bool = False) -> None:
        super().__init__(feature_maps, n_classes, generator, sparse_backward)
        if decoder not in DECODERS:
            raise ValueError(f"decoder must be one of {', '.join(map(repr, DECODERS))}, "
                             f"got {decoder!r}")
        self.decoder_kind = decoder
        self.dec: nn.Conv2d | nn.ConvTranspose2d
        if decoder == "subpixel":
            self.dec = nn.Conv2d(feature_maps, 4, 3, stride=1, padding=1)
        else:
            self.dec = nn.ConvTranspose2d(feature_maps, 1, 3, stride=2, padding=0)
        _init_(self.dec.weight, self.dec.bias, generator)

    def _decoder_offset(self) -> tuple[torch.Tensor, str]:
        """The decoder's bias and the kind of kernel placement: for the original, the mean of
        the encoder's biases (the centre of its copies) on the transposed conv."""
        if self.decoder_kind == ORIGINAL_473BC3F:
            # the convolutions are built with biases (Conv2d's bias is Optional to torch)
            return cast(torch.Tensor, self.encoder.conv.bias).mean().reshape(1), "transposed"
        return cast(torch.Tensor, self.dec.bias), self.decoder_kind

    def _decoder_args(self) -> tuple:
        bias, kind = self._decoder_offset()
        return clip_by_norm(self.dec.weight, 1.0, dim=0), bias, kind

    def decode(self, maps: torch.Tensor) -> torch.Tensor:
        """Reconstruct (batch, 784) images from (batch, F, 14, 14) feature maps."""
        w = clip_by_norm(self.dec.weight, 1.0, dim=0)
        bias, kind = self._decoder_offset()
        return _decode_dense(maps, w, bias, kind)

    def _heads(self, maps: torch.Tensor) -> Output:
        out = super()._heads(maps)
        out.recon = self.decode(maps)
        return out


MODEL_KINDS = {
    "fc": "ReLU+L1 fully connected net, 784 -> 784 ReLU -> 10 (the article's first experiment)",
    "cnn": "ReLU+L1 CNN, conv 3x3/2 x200 maps (39,200 units) -> 10 (the article's second)",
    "conv-ae": ("ReLU+L1 CNN trained jointly with a sub-pixel or transposed-conv decoder "
                "(the third)"),
}


def build_model(kind: str, *, hidden: int = 784, feature_maps: int = 200,
                decoder: str | None = None, seed: int | None = None) -> nn.Module:
    """Build one of the article's networks, initialised from ``seed``.

    Parameters
    ----------
    kind : str
        ``"fc"``, ``"cnn"`` or ``"conv-ae"`` (:data:`MODEL_KINDS`).
    hidden : int
        Hidden units of the FC net.
    feature_maps : int
        Feature maps of the CNN and the autoencoder.
    decoder : str or None
        The autoencoder's decoder (:data:`DECODERS`; None: ``"subpixel"``).
    seed : int or None
        Seed of the initial weights (None: torch's global generator).

    Returns
    -------
    torch.nn.Module
        :class:`FCNet`, :class:`ConvNet` or :class:`ConvAE`.

    Examples
    --------
    >>> net = build_model("conv-ae", feature_maps=2, decoder="transposed", seed=0)
    >>> print(net.n_units, net.decoder_kind)
    392 transposed
    """
    gen = torch.Generator().manual_seed(seed) if seed is not None else None
    if kind == "fc":
        return FCNet(hidden, generator=gen)
    if kind == "cnn":
        return ConvNet(feature_maps, generator=gen)
    if kind == "conv-ae":
        return ConvAE(feature_maps, decoder=decoder or "subpixel", generator=gen)
    raise ValueError(f"unknown model kind {kind!r}; known: {', '.join(MODEL_KINDS)}")
