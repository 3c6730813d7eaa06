"""Training loop for the article's ReLU+L1 networks (see :mod:`neurocode.models.relu_l1`).

One run: Adam on mini-batches drawn in a fresh random order each epoch (as TensorFlow's
``mnist.train.next_batch`` does), evaluated every ``train.eval_every`` iterations on the full
test set. What is recorded at each evaluation step ``s`` (``s`` = updates done so far):

``accuracy``        test accuracy
``avr``             mean number of hidden units with activation > 0 per test image (the
                    article's "AverageDensity", measured on the test set)
``activity_ratio``  ``avr / n_units``
``loss_ce``         mean test cross-entropy
``loss_l1``         the L1 term as the training objective sees it on a batch of ``batch_size``
                    test images: ``lambda * batch_size * mean_image(sum_units h)``
``loss_recon``      (autoencoder) mean per-image summed squared error, pixels in [0, 1]
``loss``            ``loss_ce + loss_l1 (+ loss_recon)``
``recon_error``     (autoencoder) the article's reading: mean squared error per pixel after
                    quantising the reconstruction back to integers 0..255
``avr_train``       AVR of the training batch of the last update (what the article logged)
``train_loss``      total loss of that training batch
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch

from neurocode.config import RunSpec
from neurocode.data import load_mnist
from neurocode.models.relu_l1 import build_model, loss_terms


@dataclass
class RunResult:
    curves: dict[str, np.ndarray]
    final: dict[str, float]
    weights: dict[str, np.ndarray]
    status: str = "complete"
    reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class _Curves:
    def __init__(self) -> None:
        self.rows: list[dict[str, float]] = []

    def add(self, row: dict[str, float]) -> None:
        self.rows.append(row)

    def arrays(self) -> dict[str, np.ndarray]:
        if not self.rows:
            return {}
        keys = list(self.rows[0])
        out = {k: np.array([r[k] for r in self.rows], dtype=np.float64) for k in keys}
        out["step"] = out["step"].astype(np.int64)
        return out


def load_split(dataset: str, split: str, data_dir: str | None, device: torch.device):
    """Images as float32 (n, 784) in [0, 1] and labels as int64, on ``device``."""
    images, labels = load_mnist(dataset, split=split, data_dir=data_dir)
    x = torch.from_numpy(images.reshape(len(images), -1).astype(np.float32) / np.float32(255.0))
    return x.to(device), torch.from_numpy(labels.astype(np.int64)).to(device)


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


def train_relu_l1(
    spec: RunSpec,
    *,
    device: str | torch.device = "cpu",
    progress: bool | None = None,
    on_eval: Callable[[int, dict[str, float]], None] | None = None,
) -> RunResult:
    """Train one ReLU+L1 run as configured by ``spec``; never raises for a diverged loss.

    A loss that becomes NaN or infinite stops the run, which is returned with status "failed",
    the reason, and the curves recorded so far.
    """
    from tqdm.auto import tqdm

    cfg = spec.config
    m, t, d = cfg["model"], cfg["train"], cfg["data"]
    device = torch.device(device)
    if t["threads"]:
        torch.set_num_threads(t["threads"])
    seed = int(cfg["seed"])
    model = build_model(m["kind"], hidden=m["hidden"], feature_maps=m["feature_maps"],
                        decoder=m["decoder"], seed=seed).to(device)
    x_train, y_train = load_split(d["dataset"], "train", d["data_dir"], device)
    x_test, y_test = load_split(d["dataset"], "test", d["data_dir"], device)
    opt = torch.optim.Adam(model.parameters(), lr=t["lr"])
    l1, bs, iters, every = float(m["l1"]), t["batch_size"], t["iterations"], t["eval_every"]
    gen = torch.Generator().manual_seed(seed + 1)  # batch order: its own stream
    n = len(x_train)
    per_epoch = n // bs
    curves = _Curves()

    def record(step: int, avr_train: float, train_loss: float) -> dict[str, float]:
        row = {"step": step, **evaluate(model, x_test, y_test, l1, bs, t["eval_batch"]),
               "avr_train": avr_train, "train_loss": train_loss}
        curves.add(row)
        if on_eval is not None:
            on_eval(step, row)
        return row

    def batch_indices(it: int, perm: torch.Tensor) -> torch.Tensor:
        j = it % per_epoch
        return perm[j * bs:(j + 1) * bs]

    perm = torch.randperm(n, generator=gen).to(device)
    with torch.no_grad():
        first = batch_indices(0, perm)
        out0 = model(x_train[first])
        t0 = loss_terms(model, out0, x_train[first], y_train[first], l1)
        record(0, (out0.hidden > 0).sum().item() / bs, t0["total"].item())

    status, reason = "complete", ""
    bar = tqdm(total=iters, desc=f"{spec.experiment} {spec.label}", unit="it",
               disable=(not progress) if progress is not None else None, leave=False,
               dynamic_ncols=True)
    step = 0
    try:
        for it in range(iters):
            if it and it % per_epoch == 0:
                perm = torch.randperm(n, generator=gen).to(device)
            idx = batch_indices(it, perm)
            xb, yb = x_train[idx], y_train[idx]
            out = model(xb)
            terms = loss_terms(model, out, xb, yb, l1)
            loss = terms["total"]
            lv = loss.item()
            if not math.isfinite(lv):
                status = "failed"
                reason = (f"loss became {lv} at iteration {it + 1} (model.l1={l1:g}, "
                          f"train.lr={t['lr']:g}); lower the learning rate or lambda")
                break
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step = it + 1
            bar.update(1)
            if step % every == 0 or step == iters:
                avr_train = (out.hidden > 0).sum().item() / bs
                row = record(step, avr_train, lv)
                bar.set_postfix(acc=f"{row['accuracy']:.4f}", avr=f"{row['avr']:.1f}")
    finally:
        bar.close()

    arrays = curves.arrays()
    final = {k: float(v[-1]) for k, v in arrays.items() if k != "step"}
    final.update(n_units=float(model.n_units), iterations_done=float(step))
    weights = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    return RunResult(arrays, final, weights, status, reason)
