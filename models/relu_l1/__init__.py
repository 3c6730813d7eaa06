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
* ``original-473bc3f``: the transposed decoder exactly as the article's code first ran it, bugs
  included (the encoder's biases broadcast into 200 offset copies of the reconstruction, all
  summed in the loss; the L1 term added twice): :mod:`.original_473bc3f`, a record of what was
  run, not a setting to use.

In all three, as in the article's code, the forward pass uses the raw decoder kernel clipped by its
norm along TensorFlow's last kernel axis (``tf.clip_by_norm(kernel, 1, axes=[3])``): for the
sub-pixel conv that axis is the output channels, for the transposed conv it is the 200 input
maps, which in PyTorch's layouts is dimension 0 of the weight in both cases.

TensorFlow's SAME padding for a stride-2 3x3 convolution of a 28x28 image pads 0 rows/columns
before and 1 after (the odd pixel goes to the bottom/right); the encoder reproduces that
alignment instead of PyTorch's symmetric padding.

The package: :mod:`.nets` (the modules :class:`FCNet`, :class:`ConvNet`, :class:`ConvAE` and
:func:`build_model`), :mod:`.sparse` (the sparse-aware autograd Functions
:class:`SparseReluLinear` and :class:`SparseConvCode`, and the decoder helpers),
:mod:`.original_473bc3f` (the first autoencoder's loss as it was run), :mod:`.training`
(:func:`loss_terms`, :func:`evaluate`, :func:`flops_per_iteration` and the one training loop,
:func:`~.training.train`, that single and vectorised runs share) and :mod:`.rules` (the coding
rules :class:`ReluL1FC`, :class:`ReluL1CNN` and :class:`ReluL1ConvAE`). Every name is importable
from the package itself, as it was from the single module this package replaces.
"""

from __future__ import annotations

# the private names are those of the single module this package replaces, for the code (and
# tests) that import them from here
from neurocode.models.relu_l1.nets import (
    DECODERS,
    INIT_BIAS,
    INIT_STD,
    MODEL_KINDS,
    ConvAE,
    ConvNet,
    FCNet,
    Output,
    _ConvEncoder,  # noqa: F401
    _init_,  # noqa: F401
    _same_pad_stride2,  # noqa: F401
    build_model,
    clip_by_norm,
)
from neurocode.models.relu_l1.rules import (
    _TRAIN_PARAMS,  # noqa: F401
    RULES,
    ReluL1CNN,
    ReluL1ConvAE,
    ReluL1FC,
    _ReluL1Rule,  # noqa: F401
)
from neurocode.models.relu_l1.sparse import (
    SparseConvCode,
    SparseReluLinear,
    _decode_dense,  # noqa: F401
    _decoder_kernel,  # noqa: F401
    _decoder_kernel_grad,  # noqa: F401
    _decoder_scatter,  # noqa: F401
)
from neurocode.models.relu_l1.training import evaluate, flops_per_iteration, loss_terms, train

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
    "DECODERS",
    "loss_terms",
    "evaluate",
    "flops_per_iteration",
    "train",
    "RULES",
    "INIT_STD",
    "INIT_BIAS",
]
