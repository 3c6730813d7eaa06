"""Training the article's networks: the loss, the evaluation, and one training loop.

:func:`loss_terms` is the objective of the package docstring (and, for the autoencoder's
``"original-473bc3f"`` decoder, the original's: :mod:`.original_473bc3f`); :func:`evaluate`
reads a network on the validation data; :func:`train` is the one loop every run goes through,
whether it trains one network as a module (:class:`ModuleSteps`, the sparse-aware routes
included) or several that differ only in lambda as one vectorised model (:class:`VmapSteps`).
:func:`flops_per_iteration` counts the matmul work a step executes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from neurocode.models.relu_l1.nets import ConvAE, Output
from neurocode.models.relu_l1.original_473bc3f import DECODER as ORIGINAL_473BC3F
from neurocode.models.relu_l1.original_473bc3f import TRAIN_READINGS, original_terms
from neurocode.rules import TrainingFailed

__all__ = ["loss_terms", "evaluate", "flops_per_iteration", "train", "TrainData", "ModuleSteps",
           "VmapSteps", "adam"]


def loss_terms(model: nn.Module, out: Output, x: torch.Tensor, y: torch.Tensor,
               l1: float) -> dict[str, torch.Tensor]:
    """The article's loss and its parts for one batch (see the package docstring).

    Returns ``ce`` (batch-mean cross-entropy), ``l1`` (lambda times the SUM of hidden
    activations over batch and units), ``recon`` (batch mean of the per-image summed squared
    error, autoencoder only) and ``total``. For the autoencoder's ``"original-473bc3f"``
    decoder, the original's loss instead (:func:`.original_473bc3f.original_terms`: the
    squared error summed over one copy of the image per encoder bias, the L1 term twice, the
    cross-entropy of ``softmax + 1e-7``), with its summaries ``loss_classifier``,
    ``loss_ae`` and ``loss_sc`` beside.
    """
    if getattr(model, "decoder_kind", None) == ORIGINAL_473BC3F:
        # only the autoencoder has a decoder_kind; it always reconstructs, and its
        # convolutions have biases (Optional to torch)
        ae = cast(ConvAE, model)
        return original_terms(out.logits, out.hidden, cast(torch.Tensor, out.recon),
                              x.reshape(x.shape[0], -1), y, l1,
                              cast(torch.Tensor, ae.encoder.conv.bias))
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


def flops_per_iteration(model: nn.Module, batch: int) -> int:
    """Matmul and convolution FLOPs one training iteration executes (forward + backward).

    Each layer's forward costs ``2 * MACs`` per image (a Linear ``in * out`` MACs, a
    convolution its kernel's size times the 14 x 14 positions of these networks' feature
    maps), its weight gradient as much again, and its input gradient as much again, except for
    the first layer: it reads the images, which need no gradient, so autograd never runs that
    pass. ``tests/test_bench_flops.py`` checks the count against torch's own
    (:class:`torch.utils.flop_counter.FlopCounterMode`) on every network. Adam, the ReLUs
    and the loss (elementwise work) are not counted.
    """
    layers = [m for m in model.modules()
              if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d))]
    total = 0
    for i, m in enumerate(layers):
        macs = (m.in_features * m.out_features if isinstance(m, nn.Linear)
                else math.prod(m.weight.shape) * 14 * 14)
        total += (2 if i == 0 else 3) * 2 * macs * batch
    return total


@torch.no_grad()
def evaluate(model, x: torch.Tensor, y: torch.Tensor, l1: float, batch_size: int,
             chunk: int = 1000) -> dict[str, float]:
    """The validation metrics a run records in ``curves_`` (listed in the docstring of
    :class:`~neurocode.models.relu_l1.rules._ReluL1Rule`), computed in chunks of ``chunk``
    images."""
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


# -- the training loop: one loop, two ways of stepping the networks ----------------------------
@dataclass
class TrainData:
    """What a training run (or a vectorised group) reads: the data on the device, the
    batch-order generator and the schedule.

    ``x_train``/``y_train`` are drawn in mini-batches of ``batch_size`` in a fresh order from
    ``gen`` each epoch of ``per_epoch`` batches; ``x_val``/``y_val`` are evaluated every
    ``eval_every`` iterations (and after the last) in chunks of ``eval_batch``.
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    gen: torch.Generator
    batch_size: int
    iterations: int
    eval_every: int
    eval_batch: int

    @property
    def per_epoch(self) -> int:
        """Mini-batches per epoch (the last partial batch of an epoch is left out)."""
        return len(self.x_train) // self.batch_size


def adam(params: Any, lr: float, fused: bool = False) -> torch.optim.Adam:
    """The optimiser of every run: :class:`torch.optim.Adam` at ``lr``, torch's defaults
    otherwise (on CPU its single-tensor loop).

    ``fused=True`` (``train.fused_adam``) takes torch's fused kernel instead: about 1.8x faster
    for the FC step on CPU, but not the same bits (it rounds differently: the weights differ by
    up to about 2e-6 after 50 steps and 6e-3 after 1,000; ``docs/speed.md``), so it is off by
    default and a run that sets it is a run of its own (its config, digest and file name say
    so).

    Parameters
    ----------
    params : iterable of torch.Tensor
        The parameters to optimise.
    lr : float
        The learning rate.
    fused : bool
        Use torch's fused Adam kernel.

    Returns
    -------
    torch.optim.Adam
        The optimiser.
    """
    return torch.optim.Adam(params, lr=lr, fused=True) if fused else torch.optim.Adam(params,
                                                                                       lr=lr)


def _readings(terms: dict[str, torch.Tensor]) -> dict[str, Any]:
    """The original's extra training-batch summaries (:data:`.original_473bc3f.TRAIN_READINGS`)
    among ``terms``, as Python numbers (one per network for the vectorised steps)."""
    return {k: terms[k].detach().tolist() for k in TRAIN_READINGS if k in terms}


class ModuleSteps:
    """One network stepped as a plain module: its own forward (sparse-aware routes included),
    :func:`loss_terms`, and Adam on its parameters (:func:`adam`; ``fused_adam``: torch's fused
    kernel, faster, not the same bits)."""

    def __init__(self, model: nn.Module, l1: float, lr: float, *,
                 fused_adam: bool = False) -> None:
        self.model, self.l1 = model, l1
        self.opt = adam(model.parameters(), lr, fused=fused_adam)
        self.shape: tuple[int, ...] = ()  # the loss is one scalar

    def forward(self, xb: torch.Tensor, yb: torch.Tensor) -> tuple[Any, dict[str, torch.Tensor]]:
        """The forward pass of a batch and its loss terms."""
        out = self.model(xb)
        return out, loss_terms(self.model, out, xb, yb, self.l1)

    def step(self, total: torch.Tensor) -> None:
        """One Adam step on ``total``."""
        self.opt.zero_grad(set_to_none=True)
        total.backward()
        self.opt.step()

    def readings(self, out: Output, terms: dict[str, torch.Tensor],
                 batch_size: int) -> list[dict[str, float]]:
        """The training batch's AVR and loss (and the original's summaries), one row."""
        row = {"avr_train": (out.hidden > 0).sum().item() / batch_size,
               "train_loss": terms["total"].item()}
        row.update(_readings(terms))
        return [row]

    def network(self, i: int) -> nn.Module:
        """The network with its current weights (there is one: ``i`` is 0)."""
        return self.model


class VmapSteps:
    """``L`` networks of one architecture stepped as one batched model.

    Their parameters are stacked along a leading axis (:func:`torch.func.stack_module_state`)
    and the forward pass is vectorised over it (:func:`torch.func.vmap` of
    :func:`torch.func.functional_call`), with the dense route (a custom backward does not
    vmap). The objective is the sum of the ``L`` losses, so each network's gradient is that of
    its own loss, and Adam acts element by element, so each network follows the updates a
    separate run would make, up to floating-point rounding (the batched matmuls sum in another
    order). ``fused_adam``: torch's fused Adam kernel (:func:`adam`).
    """

    def __init__(self, nets: list[nn.Module], l1s: list[float], lr: float,
                 device: torch.device, *, fused_adam: bool = False) -> None:
        import copy

        from torch.func import functional_call, stack_module_state, vmap

        self.nets = nets
        self.params, self.buffers = stack_module_state(nets)
        skeleton = copy.deepcopy(nets[0]).to("meta")
        if hasattr(skeleton, "sparse_backward"):
            # a custom backward does not vmap: the dense one (torch types Module.__setattr__
            # for tensors and modules only; this is a plain attribute)
            skeleton.sparse_backward = False  # type: ignore[assignment]
        self.has_recon = isinstance(nets[0], ConvAE)
        self.original = getattr(nets[0], "decoder_kind", None) == ORIGINAL_473BC3F
        has_recon = self.has_recon

        def one(p, b, x):
            out = functional_call(skeleton, (p, b), (x,))
            return (out.logits, out.hidden, out.recon) if has_recon else (out.logits, out.hidden)

        self._forward = vmap(one, in_dims=(0, 0, None))
        self.lam = torch.tensor([float(v) for v in l1s], device=device)
        self.opt = adam(list(self.params.values()), lr, fused=fused_adam)
        self.shape = (len(nets),)

    def forward(self, xb: torch.Tensor, yb: torch.Tensor) -> tuple[Any, dict[str, torch.Tensor]]:
        """The ``L`` forward passes of a batch and their losses, ``total`` of shape ``(L,)``."""
        out = self._forward(self.params, self.buffers, xb)
        if self.original:
            return out, original_terms(out[0], out[1], out[2], xb.reshape(len(xb), -1), yb,
                                       self.lam, self.params["encoder.conv.bias"])
        logits, hidden, n = out[0], out[1], len(self.nets)
        ce = F.cross_entropy(logits.reshape(n * len(yb), -1), yb.repeat(n),
                             reduction="none").view(n, -1).mean(1)
        total = ce + self.lam * hidden.sum(dim=(1, 2))
        if self.has_recon:
            total = total + (out[2] - xb.reshape(len(xb), -1)).pow(2).sum(2).mean(1)
        return out, {"total": total}

    def step(self, total: torch.Tensor) -> None:
        """One Adam step on the sum of the ``L`` losses."""
        self.opt.zero_grad(set_to_none=True)
        total.sum().backward()
        self.opt.step()

    def readings(self, out: tuple, terms: dict[str, torch.Tensor],
                 batch_size: int) -> list[dict[str, float]]:
        """The training batch's AVR and loss (and the original's summaries), one row each."""
        hidden = out[1].detach()
        avr = ((hidden > 0).sum(dim=(1, 2)) / batch_size).tolist()
        loss = terms["total"].detach().tolist()
        extra = _readings(terms)
        return [{"avr_train": a, "train_loss": v, **{k: e[i] for k, e in extra.items()}}
                for i, (a, v) in enumerate(zip(avr, loss, strict=True))]

    def network(self, i: int) -> nn.Module:
        """Network ``i`` as a module holding its current weights (copied from the stack)."""
        with torch.no_grad():
            for name, p in self.nets[i].named_parameters():
                p.copy_(self.params[name][i])
        return self.nets[i]


def train(steps: ModuleSteps | VmapSteps, data: TrainData, l1s: list[float], lr: float, *,
          rows: list[list[dict[str, float]]], failed: list[TrainingFailed | None],
          desc: str = "", progress: bool | None = False,
          callbacks: list[Callable[[int, dict[str, float]], None] | None] | None = None) -> None:
    """The training loop of every ReLU+L1 run, single (:class:`ModuleSteps`) or vectorised
    (:class:`VmapSteps`).

    Adam steps on mini-batches drawn in a fresh random order each epoch (as TensorFlow's
    ``mnist.train.next_batch``). At step 0 and every ``eval_every`` iterations (and after the
    last) each network still training gets a row in ``rows[i]``: the validation metrics of
    :func:`evaluate`, then the readings of the last training batch (``avr_train``,
    ``train_loss``, and the original's summaries for ``"original-473bc3f"``); ``callbacks[i]``,
    if given, is called with the step and the row. The loss stays on the device between
    evaluations (no host round trip per step): the first iteration whose loss is not finite,
    and that loss, are kept on the device and looked at each evaluation, so a diverged network
    stops within ``eval_every`` steps: ``failed[i]`` becomes its :class:`TrainingFailed`, it
    gets no more rows, and the others train on; the loop ends when every network has failed.

    Parameters
    ----------
    steps : ModuleSteps or VmapSteps
        The networks and how one step is taken.
    data : TrainData
        The data and the schedule.
    l1s : list of float
        Each network's lambda (for :func:`evaluate` and the failure message).
    lr : float
        The learning rate (for the failure message).
    rows : list of list of dict
        One list per network, filled in place (kept by the caller if the loop is interrupted).
    failed : list
        One entry per network, None until it fails; filled in place.
    desc : str
        The progress bar's label.
    progress : bool or None
        Show a progress bar (None: where the output is a terminal).
    callbacks : list of callables or None
        Per network, called as ``callback(step, row)`` after each row.
    """
    from tqdm.auto import tqdm

    n_nets = len(l1s)
    callbacks = callbacks or [None] * n_nets
    bs, iters, every, per_epoch = data.batch_size, data.iterations, data.eval_every, data.per_epoch
    x_train, y_train, gen = data.x_train, data.y_train, data.gen
    device = x_train.device
    n = len(x_train)

    def record(step: int, readings: list[dict[str, float]]) -> None:
        for i in range(n_nets):
            if failed[i] is None:
                row = {"step": step, **evaluate(steps.network(i), data.x_val, data.y_val,
                                                l1s[i], bs, data.eval_batch), **readings[i]}
                rows[i].append(row)
                callback = callbacks[i]
                if callback is not None:
                    callback(step, row)

    perm = torch.randperm(n, generator=gen).to(device)
    with torch.no_grad():
        first = perm[:bs]
        out0, terms0 = steps.forward(x_train[first], y_train[first])
        record(0, steps.readings(out0, terms0, bs))
    first_bad = torch.zeros(steps.shape, dtype=torch.int64, device=device)
    bad_loss = torch.zeros(steps.shape, device=device)
    bar = tqdm(total=iters, desc=desc, unit="it", leave=False,
               disable=(not progress) if progress is not None else None, dynamic_ncols=True)
    try:
        for it in range(iters):
            j = it % per_epoch
            if it and j == 0:
                perm = torch.randperm(n, generator=gen).to(device)
            idx = perm[j * bs:(j + 1) * bs]
            xb, yb = x_train[idx], y_train[idx]
            out, terms = steps.forward(xb, yb)
            total = terms["total"]
            with torch.no_grad():
                new = (first_bad == 0) & ~torch.isfinite(total)
                first_bad = torch.where(new, it + 1, first_bad)
                bad_loss = torch.where(new, total.detach(), bad_loss)
            steps.step(total)
            bar.update(1)
            if (it + 1) % every == 0 or it + 1 == iters:
                for i, (b, v) in enumerate(zip(first_bad.reshape(-1).tolist(),
                                               bad_loss.reshape(-1).tolist(), strict=True)):
                    if b and failed[i] is None:
                        failed[i] = TrainingFailed(
                            f"loss became {v} at iteration {b} (l1={l1s[i]:g}, lr={lr:g}); "
                            "lower the learning rate or lambda")
                if all(f is not None for f in failed):
                    break
                record(it + 1, steps.readings(out, terms, bs))
                if n_nets == 1:
                    row = rows[0][-1]
                    bar.set_postfix(acc=f"{row['accuracy']:.4f}", avr=f"{row['avr']:.1f}")
    finally:
        bar.close()
