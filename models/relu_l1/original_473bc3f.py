"""The article's convolutional autoencoder exactly as it was first run, bugs included.

``decoder="original-473bc3f"`` of :class:`~neurocode.models.relu_l1.ConvAE` (and of the rule
``relu-l1-conv-ae``) reproduces ``sparse-coding/cnn_ae_sparsity.py`` at commit ``473bc3f`` of
the public repository ``metaflow-ai/blog`` (28 Sep 2016, "Add sparse-coding blog post"), the
code behind the article's first autoencoder table (the conv2d_transpose decoder; the 4 Oct 2016
commit ``34caa17`` replaced it with the sub-pixel decoder). It is a record of what was run, NOT a
recommended setting: ``decoder="transposed"`` is the same network with the bugs fixed.

What the original does, line by line (line numbers of that file at ``473bc3f``):

* line 26: the encoder bias ``b1``, shape ``[200]``; line 28-29: ``a = ReLU(conv(x) + b1)``.
* line 47-51: the decoder kernel ``W_decoder`` ``[3, 3, 1, 200]``, clipped by its norm over the
  200 maps (``tf.clip_by_norm(W_decoder, 1, axes=[3])``), as in ``"transposed"``.
* **Bug 1, line 53**: ``z_decoder = conv2d_transpose(a, W_decoder, [N, 28, 28, 1], ...) + b1``.
  The encoder's 200-element bias is added to a ``[N, 28, 28, 1]`` tensor, so by broadcasting
  ``z_decoder`` is ``[N, 28, 28, 200]``: 200 copies of ``D(a)``, copy ``k`` offset by ``b1[k]``.
  The encoder biases are thereby tied in as the decoder's offset, and the decoder's own bias
  ``b_decoder`` (line 48, ``[1]``, 0.1) is never used (it is created and never trained).
* **Bug 2, line 58**: ``loss_ae = reduce_mean(reduce_sum(square(x_img - z_decoder), [1, 2, 3]))
  + lambda * reduce_sum(a)``: the squared error is summed over the 784 pixels AND the 200
  copies, then averaged over the batch, so the reconstruction weighs 200 times what one copy
  would against the cross-entropy and the L1 term.
* **Bug 3, lines 58-60**: the L1 term is added twice: once inside ``loss_ae`` (line 58) and
  again as ``loss_sc = lambda * reduce_sum(a)`` (line 59), with
  ``loss = loss_classifier + loss_ae + loss_sc`` (line 60); the effective lambda is ``2 lambda``.
* line 56-57 (not a bug, but not ``F.cross_entropy``): ``loss_classifier =
  mean(-sum(y_true * log(softmax(z) + 1e-7)))``, the softmax probability offset by
  ``epsilon = 1e-7`` inside the log.
* line 78: Adam, learning rate ``1e-3`` (TensorFlow's defaults: beta1 0.9, beta2 0.999,
  epsilon 1e-8); lines 82-89: lambda in ``[0, 1e-5, 5e-5, 1e-4, 5e-4]``, 20,000 iterations of
  ``mnist.train.next_batch(100)``.
* lines 32-33 and 62-65: what it logs, on the TRAINING batch at every step (the summaries are
  run with the training step, line 90, so they read the weights before that step's update):
  ``AverageDensity`` (the article's AVR: active units per image, batch mean), ``loss_ae``,
  ``loss_classifier``, ``loss_sc`` and ``loss``; lines 97-101: the test-set accuracy every 100
  iterations.

Written out, with ``F = 200`` copies, ``P = 784`` pixels, ``e = x - D(a)`` and ``m = mean(b1)``::

    recon = (1/N) sum_n sum_p sum_k (e_np - b1_k)^2
          = F (1/N) sum_n sum_p (e_np - m)^2  +  P sum_k (b1_k - m)^2

(the cross term vanishes because ``sum_k (b1_k - m) = 0``): 200 times the squared error of the
single reconstruction ``D(a) + mean(b1)``, plus a penalty ``784 * sum_k (b1_k - m)^2`` that pulls
the 200 encoder biases towards their mean. :func:`original_terms` computes it in this form
(the same value as the broadcast, without a ``[N, 784, 200]`` tensor), and the network's
reconstruction (``decode``, ``recon_error``) is that one image ``D(a) + mean(b1)``, the
least-squares centre of the 200 copies. What is left out: TensorFlow's Adam puts its epsilon
on the bias-uncorrected ``sqrt(v)`` (PyTorch's on the corrected one, a difference only for
gradients below about 1e-7 in the first steps), and the original's ``mnist.train`` is 55,000
images (TensorFlow's reader holds the first 5,000 of the 60,000 out for validation), while a run
here trains on the images its config gives it.

Recorded in ``curves_`` besides the usual test-set curves, all on the training batch of the
last step, as the original logs them: ``avr_train`` (``AverageDensity``), ``train_loss``
(``loss``), ``loss_ae``, ``loss_classifier`` and ``loss_sc``.
"""

from __future__ import annotations

import torch

__all__ = ["DECODER", "EPSILON", "TRAIN_READINGS", "original_terms"]

#: the decoder option's name: the repository's commit, so nobody takes it for a setting to use
DECODER = "original-473bc3f"
#: the offset of the softmax probability inside the log (line 56 of the original)
EPSILON = 1e-7
#: the original's training-batch summaries recorded beside ``avr_train`` and ``train_loss``
TRAIN_READINGS = ("loss_classifier", "loss_ae", "loss_sc")


def original_terms(logits: torch.Tensor, hidden: torch.Tensor, recon: torch.Tensor,
                   x: torch.Tensor, y: torch.Tensor, l1: float | torch.Tensor,
                   b1: torch.Tensor) -> dict[str, torch.Tensor]:
    """The loss of ``cnn_ae_sparsity.py`` at ``473bc3f`` and its parts (module docstring).

    Every argument may carry leading dimensions of networks trained side by side (the
    vectorised sweep); the returned terms then have them too.

    Parameters
    ----------
    logits : torch.Tensor
        ``(..., batch, classes)`` class scores before the softmax.
    hidden : torch.Tensor
        ``(..., batch, units)`` the code ``a``.
    recon : torch.Tensor
        ``(..., batch, pixels)`` the single reconstruction ``D(a) + mean(b1)``.
    x : torch.Tensor
        ``(batch, pixels)`` the images.
    y : torch.Tensor
        ``(batch,)`` the labels (the original's one-hot ``y_true``).
    l1 : float or torch.Tensor
        lambda (``sparsity_constraint``), a scalar or one per network (``(...)``).
    b1 : torch.Tensor
        ``(..., F)`` the encoder's biases, the offsets of the ``F`` copies.

    Returns
    -------
    dict of torch.Tensor
        ``loss_classifier`` (line 57: batch mean of ``-log(softmax + 1e-7)`` of the true
        class), ``loss_sc`` (line 59: ``lambda * sum(a)`` over batch and units), ``loss_ae``
        (line 58: the squared error summed over pixels and the ``F`` copies, batch mean, plus
        ``lambda * sum(a)`` again) and ``total`` (line 60: ``loss_classifier + loss_ae +
        loss_sc``); also under the names :func:`~neurocode.models.relu_l1.loss_terms` gives
        the other decoders: ``ce`` (= ``loss_classifier``), ``l1`` (= ``loss_sc``, counted
        twice in ``total``) and ``recon`` (the ``F``-copy squared error alone).

    Examples
    --------
    >>> import torch
    >>> t = original_terms(torch.zeros(2, 10), torch.ones(2, 3), torch.zeros(2, 4),
    ...                    torch.ones(2, 4), torch.tensor([0, 1]), 0.5, torch.tensor([0.0, 2.0]))
    >>> print(round(float(t["recon"]), 4), float(t["loss_sc"]), round(float(t["total"]), 4))
    16.0 3.0 24.3026
    """
    p = torch.softmax(logits, dim=-1)
    picked = p.gather(-1, y.expand(logits.shape[:-1]).unsqueeze(-1)).squeeze(-1)
    ce = -torch.log(picked + EPSILON).mean(-1)
    sc = l1 * hidden.sum(dim=(-2, -1))
    m = b1.mean(-1, keepdim=True)
    copies, pixels = b1.shape[-1], x.shape[-1]
    spread = (b1 - m).pow(2).sum(-1)
    recon_sq = copies * (x - recon).pow(2).sum(-1).mean(-1) + pixels * spread
    loss_ae = recon_sq + sc
    total = ce + loss_ae + sc
    return {"ce": ce, "l1": sc, "recon": recon_sq, "loss_classifier": ce, "loss_ae": loss_ae,
            "loss_sc": sc, "total": total}
