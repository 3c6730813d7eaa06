"""Measure the hidden layer of your own torch model: an MLP trained on MNIST.

What it shows: any ``nn.Module`` you have trained can be measured by neurocode's battery
(activity, memory capacity, fault tolerance, interference, decoding cost, each beside the
closed form for a random k-of-N code) without rewriting it as a neurocode rule. You name the
layer (``"1"``, the ReLU of ``nn.Sequential(Linear, ReLU, Linear)``; dotted names such as
``"encoder.fc1"`` for nested models), and :func:`neurocode.adapters.measure_layer` wraps it in
a :class:`~neurocode.adapters.TorchLayerCode`: the code is that layer's output, silencing a
unit zeroes it inside the network (the output layer loses it), and because the model is a
classifier its own output is the readout the battery uses.

The MLP is trained here for a few hundred Adam steps with an L1 penalty on the hidden
activations (the article's ReLU + L1 network, much shorter); put your own model in its place.

Run::

    python examples/measure_torch_mlp.py            # 60,000 training images, 600 steps
    python examples/measure_torch_mlp.py --small    # a few seconds (also NEUROCODE_EXAMPLE_SMALL=1)

MNIST is read from ``NEUROCODE_DATA`` (or downloaded, see :func:`neurocode.data.load_mnist`).
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import torch
from torch import nn

from neurocode.adapters import measure_layer
from neurocode.codes import code_card
from neurocode.data import load_mnist


def mnist(n_train: int, n_test: int) -> tuple[np.ndarray, ...]:
    """MNIST images flattened to 784 values in [0, 1], and their labels."""
    out = []
    for split, n in (("train", n_train), ("test", n_test)):
        images, labels = load_mnist("mnist", split=split)
        out += [images[:n].reshape(-1, 784).astype(np.float32) / 255.0,
                labels[:n].astype(np.int64)]
    return tuple(out)


def train(model: nn.Module, X: np.ndarray, y: np.ndarray, steps: int, l1: float,
          batch_size: int = 100, seed: int = 0) -> None:
    """Adam on the cross-entropy plus ``l1`` times the mean summed hidden activation."""
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xt, yt = torch.as_tensor(X), torch.as_tensor(y)
    for _ in range(steps):
        idx = torch.randint(len(xt), (batch_size,), generator=g)
        hidden = model[1](model[0](xt[idx]))
        loss = nn.functional.cross_entropy(model[2](hidden), yt[idx])
        loss = loss + l1 * hidden.sum(dim=1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


def main(argv: list[str] | None = None) -> None:
    """Train the MLP, measure its hidden layer and print its code card."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--small", action="store_true",
                   help="a quick run (few images and steps); also NEUROCODE_EXAMPLE_SMALL=1")
    p.add_argument("--l1", type=float, default=1e-3, help="L1 penalty on the hidden layer")
    args = p.parse_args(argv)
    small = args.small or os.environ.get("NEUROCODE_EXAMPLE_SMALL") == "1"
    n_train, n_test, steps, max_stimuli = ((2000, 400, 150, 300) if small
                                           else (60_000, 10_000, 600, 2000))
    # the whole battery, or in a quick run the measures that take seconds
    measures = ("activity", "representation", "willshaw", "fault", "overlap") if small else None

    torch.manual_seed(0)
    X_train, y_train, X_test, y_test = mnist(n_train, n_test)
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    train(model, X_train, y_train, steps, args.l1)

    battery = measure_layer(model, "1", X_train, y_train, X_test, y_test,
                            image_shape=(28, 28), max_stimuli=max_stimuli, measures=measures,
                            progress=lambda m: print(f"  measuring {m}", flush=True))
    card = code_card(battery, name="MLP hidden layer", source="examples/measure_torch_mlp.py")
    print(f"readout: {battery['_meta']['readout']}")
    for key in ("n_units", "readout_accuracy", "avr", "activity_ratio", "treves_rolls",
                "treves_rolls_random_kofn", "dead_fraction", "code_type", "willshaw_capacity",
                "willshaw_capacity_theory", "fault_auc", "interference_overlap",
                "interference_overlap_random"):
        value = card.get(key)
        print(f"{key:30s} {value:.4g}" if isinstance(value, float) else f"{key:30s} {value}")
    fault = battery["fault"]
    print("fault curve (random units silenced inside the network):")
    print("  fraction " + " ".join(f"{f:5.2f}" for f in fault["fractions"]))
    print("  accuracy " + " ".join(f"{a:5.3f}" for a in fault["accuracy_random"]))


if __name__ == "__main__":
    main()
