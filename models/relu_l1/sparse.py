"""The sparse-aware steps: autograd Functions whose readout, decoder and backward touch only
the active hidden units, and the decoders they share with the dense networks.

:class:`SparseReluLinear` is the FC net's hidden layer; :class:`SparseConvCode` the CNN's code,
readout and (for the autoencoder) decoder. Both give the dense gradients exactly (outside the
active set the ReLU's gradient is zero); the equations are in their docstrings.
:func:`_decode_dense` is the decoder of the dense route, and :func:`_decoder_scatter`,
:func:`_decoder_kernel` and :func:`_decoder_kernel_grad` place the decoder kernels of the active
units for the sparse one.
"""

from __future__ import annotations

import math
from typing import cast

import torch
import torch.nn.functional as F

__all__ = ["SparseReluLinear", "SparseConvCode"]


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
            # with a decoder, its kernel and bias are given
            dec_w, dec_b = cast(torch.Tensor, dec_w), cast(torch.Tensor, dec_b)
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
