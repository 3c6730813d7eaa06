"""Measure a sparse autoencoder's features as a neural code.

What it shows: a sparse autoencoder (or any dictionary: an object with ``encode`` and
``decode``, SAELens' convention, or scikit-learn's ``DictionaryLearning`` and
``SparseCoder``) is measured with the numbers an SAE user reads (reconstruction MSE, explained
variance, L0, dead and dense features) *beside* neurocode's battery of the same features
(activity ratio, Treves-Rolls sparseness against the random k-of-N value, Willshaw capacity,
fault tolerance when features are silenced, class overlap), in one call:
:func:`neurocode.adapters.measure_dictionary`. Silencing a feature zeroes it in the code.

The SAE here is the standard one (``f = ReLU((x - b_dec) W_enc + b_enc)``,
``x_hat = f W_dec + b_dec``, an L1 penalty on ``f``), trained briefly on MNIST pixels; put your
own in its place (a SAELens ``SAE`` works as it is).

Run::

    python examples/measure_sae.py            # 20,000 images, 256 features, 800 steps
    python examples/measure_sae.py --small    # quick (also NEUROCODE_EXAMPLE_SMALL=1)
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import torch
from torch import nn

from neurocode.adapters import measure_dictionary
from neurocode.codes import code_card
from neurocode.data import load_mnist


class SparseAutoencoder(nn.Module):
    """The standard SAE: ReLU encoder, linear decoder, decoder bias subtracted first."""

    def __init__(self, d_in: int, d_sae: int, seed: int = 0) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        W = torch.randn(d_sae, d_in, generator=g)
        W = W / W.norm(dim=1, keepdim=True)
        self.W_dec = nn.Parameter(W.clone())
        self.W_enc = nn.Parameter(W.t().clone())
        self.b_enc = nn.Parameter(torch.zeros(d_sae))
        self.b_dec = nn.Parameter(torch.zeros(d_in))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Features ``(batch, d_sae)``."""
        return torch.relu((x - self.b_dec) @ self.W_enc + self.b_enc)

    def decode(self, f: torch.Tensor) -> torch.Tensor:
        """Reconstructions ``(batch, d_in)``."""
        return f @ self.W_dec + self.b_dec


def main(argv: list[str] | None = None) -> dict:
    """Train the SAE, measure it, print its numbers; returns the battery (for the tests)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--small", action="store_true",
                   help="a quick run (few images and steps); also NEUROCODE_EXAMPLE_SMALL=1")
    p.add_argument("--l1", type=float, default=1.0, help="L1 penalty on the features")
    args = p.parse_args(argv)
    small = args.small or os.environ.get("NEUROCODE_EXAMPLE_SMALL") == "1"
    n_train, n_test, d_sae, steps, max_stimuli = ((1500, 300, 64, 300, 300) if small
                                                   else (20_000, 2000, 256, 800, 2000))
    measures = ("activity", "representation", "willshaw", "fault", "overlap") if small else None

    torch.manual_seed(0)
    data = {}
    for split, n in (("train", n_train), ("test", n_test)):
        images, labels = load_mnist("mnist", split=split)
        data[split] = (images[:n].reshape(-1, 784).astype(np.float32) / 255.0,
                       labels[:n].astype(np.int64))
    (X_train, y_train), (X_test, y_test) = data["train"], data["test"]

    sae = SparseAutoencoder(784, d_sae)
    opt = torch.optim.Adam(sae.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(0)
    xt = torch.as_tensor(X_train)
    for _ in range(steps):
        xb = xt[torch.randint(len(xt), (128,), generator=g)]
        f = sae.encode(xb)
        loss = (sae.decode(f) - xb).pow(2).sum(1).mean() + args.l1 * f.abs().sum(1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    battery = measure_dictionary(sae, X_train, y_train, X_test, y_test, image_shape=(28, 28),
                                 max_stimuli=max_stimuli, measures=measures)
    rec = battery["reconstruction"]
    card = code_card(battery, name="SAE features", source="examples/measure_sae.py")
    print(f"SAE on MNIST: {d_sae} features, {int(rec['n_inputs'])} test images")
    print("what an SAE user reads:")
    for key in ("mse", "explained_variance", "cosine_similarity", "l0", "l1",
                "dead_feature_fraction", "dense_feature_fraction"):
        print(f"  {key:28s} {rec[key]:.4g}")
    print("what neurocode's battery adds:")
    for key in ("activity_ratio", "treves_rolls", "treves_rolls_random_kofn", "code_type",
                "willshaw_capacity", "willshaw_capacity_theory", "readout_accuracy",
                "fault_auc", "interference_overlap", "interference_overlap_random"):
        value = card.get(key)
        print(f"  {key:28s} {value:.4g}" if isinstance(value, float)
              else f"  {key:28s} {value}")
    return battery


if __name__ == "__main__":
    main()
