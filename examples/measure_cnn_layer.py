"""Silence units of a CNN layer inside the network, against zeroing them in stored codes.

What it shows: the fault tolerance of a layer depends on what reads it. A small CNN is
trained briefly on MNIST and one of its layers (the second convolution's ReLU, 16 feature
maps of 8 x 8: 1,024 units) is measured two ways, with the battery's own fault measure
(:func:`neurocode.metrics.fault.fault_tolerance`, random units silenced, never retrained):

1. **inside the network**: :class:`~neurocode.adapters.TorchLayerCode` zeroes the silenced
   units of the layer's output with a forward hook, so the max-pooling and the classifier
   after it work on the damaged maps (a pooled window keeps its maximum while another of its
   units survives: the network compensates), and the network's own output is read;
2. **as a stored array**: the layer's codes are captured once and measured as given codes
   (:class:`~neurocode.codes.GivenCodes`, what ``measure_codes`` does): silencing zeroes
   their columns and the battery's linear probe, fitted on the intact codes, reads them.

The two curves differ, and the script prints both and their largest gap. It also prints a
third: the stored codes read by the *rest of the network* (pooling and classifier applied to
the zeroed array), which is curve 1 again to rounding. For a feed-forward network, silencing
inside the network is zeroing the stored codes and letting the later layers read them: the
difference between 1 and 2 is the reader. (In a recurrent or spiking layer silencing also
changes the surviving units, which no stored array can show.)

Run::

    python examples/measure_cnn_layer.py            # 20,000 training images, 500 steps
    python examples/measure_cnn_layer.py --small    # quick (also NEUROCODE_EXAMPLE_SMALL=1)
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import torch
from torch import nn

from neurocode.adapters import TorchLayerCode
from neurocode.codes import GivenCodes
from neurocode.data import load_mnist
from neurocode.metrics.fault import fault_tolerance
from neurocode.metrics.readout import Readout, fit_readout

LAYER = "4"   # the ReLU after the second convolution


def small_cnn() -> nn.Sequential:
    """conv 5x5 (8 maps) - ReLU - pool - conv 5x5 (16 maps) - ReLU - pool - linear."""
    return nn.Sequential(nn.Conv2d(1, 8, 5), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(16 * 4 * 4, 10))


class RestOfNetwork:
    """Stored codes of layer ``LAYER`` read by the layers after it (pooling, classifier)."""

    def __init__(self, model: nn.Sequential) -> None:
        self.tail = model[int(LAYER) + 1:]
        self.classes_ = np.arange(10)

    def decision_function(self, codes: np.ndarray) -> np.ndarray:
        """The network's class scores of stored (possibly zeroed) codes."""
        x = torch.as_tensor(np.asarray(codes, dtype=np.float32)).reshape(-1, 16, 8, 8)
        with torch.no_grad():
            return self.tail(x).double().numpy()


def main(argv: list[str] | None = None) -> dict[str, np.ndarray]:
    """Train the CNN, print the fault curves; returns them (for the tests)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--small", action="store_true",
                   help="a quick run (few images and steps); also NEUROCODE_EXAMPLE_SMALL=1")
    args = p.parse_args(argv)
    small = args.small or os.environ.get("NEUROCODE_EXAMPLE_SMALL") == "1"
    n_train, n_test, steps, draws = (1500, 300, 150, 2) if small else (20_000, 2000, 500, 5)

    torch.manual_seed(0)
    data = {}
    for split, n in (("train", n_train), ("test", n_test)):
        images, labels = load_mnist("mnist", split=split)
        data[split] = (images[:n].reshape(-1, 784).astype(np.float32) / 255.0,
                       labels[:n].astype(np.int64))
    (X_train, y_train), (X_test, y_test) = data["train"], data["test"]

    model = small_cnn()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    g = torch.Generator().manual_seed(0)
    xt, yt = torch.as_tensor(X_train).reshape(-1, 1, 28, 28), torch.as_tensor(y_train)
    for _ in range(steps):
        idx = torch.randint(len(xt), (64,), generator=g)
        loss = nn.functional.cross_entropy(model(xt[idx]), yt[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()

    # 1. silencing inside the network, read by the network's own output
    rule = TorchLayerCode(model, LAYER, input_shape=(1, 28, 28)).fit(X_train, y_train)
    print(f"layer {LAYER!r}: {rule.n_units} units (maps {rule.unit_shape_.tolist()}), "
          f"read by {'its own output' if rule.has_own_readout() else 'a probe'}")
    inside = fault_tolerance(rule, fit_readout(rule, X_train, y_train), X_test, y_test,
                             n_draws=draws)

    # 2. the same codes as a stored array, zeroed, read by the battery's linear probe
    codes_train, codes_test = rule.encode(X_train), rule.encode(X_test)
    given = GivenCodes(random_state=0).fit(codes_train)
    stored = fault_tolerance(given, fit_readout(given, codes_train, y_train), codes_test,
                             y_test, n_draws=draws)

    # 3. the stored array, zeroed, read by the rest of the network
    rest = fault_tolerance(given, Readout(given, RestOfNetwork(model)), codes_test, y_test,
                           n_draws=draws)

    f = inside["fractions"]
    print("fraction silenced         " + " ".join(f"{x:5.2f}" for x in f))
    for name, res in (("1 inside the network", inside), ("2 stored array + probe", stored),
                      ("3 stored array + rest", rest)):
        print(f"{name:26s}" + " ".join(f"{a:5.3f}" for a in res["accuracy_random"])
              + f"   AUC {res['auc_random']:.3f}")
    gap = np.abs(inside["accuracy_random"] - stored["accuracy_random"])
    same = np.abs(inside["accuracy_random"] - rest["accuracy_random"]).max()
    print(f"largest gap between 1 and 2: {gap.max():.3f} at f = {f[gap.argmax()]:.1f}; "
          f"between 1 and 3: {same:.3g}")
    return {"fractions": f, "inside": inside["accuracy_random"],
            "stored": stored["accuracy_random"], "rest": rest["accuracy_random"]}


if __name__ == "__main__":
    main()
