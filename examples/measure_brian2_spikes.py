"""Measure the code of a Brian2 network: MNIST digits as Poisson rates, spikes counted per digit.

The network: 784 Poisson inputs, one per pixel, firing at up to 63.75 Hz (pixel / 4, as in
Diehl & Cook 2015) while a digit is shown (100 ms, then 50 ms of silence); a layer of
leaky integrate-and-fire units, each driven through weights shaped like one training
digit (a template), and all-to-all lateral inhibition between them. A ``SpikeMonitor`` on
the layer gives the spikes; :func:`neurocode.spikes.from_brian2` counts each unit's spikes
in each digit's window, and :func:`neurocode.codes.measure_codes` runs the battery on those
counts (a unit is active for a digit when it fired at least once).

    python examples/measure_brian2_spikes.py [--small] [--stimuli mnist|classes] [--out F]

``--small`` (or ``NEUROCODE_EXAMPLE_SMALL=1``): fewer units, digits and classes (0-3), a
few seconds.
``--stimuli classes``: four synthetic stimulus classes instead of MNIST (used when the
MNIST files cannot be found). ``--out FILE.npz``: save the counts and labels, to measure
again with ``neurocode measure --codes FILE.npz``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np


def stimuli(kind: str, n: int, n_classes: int = 10,
            seed: int = 0) -> tuple[np.ndarray, np.ndarray, str]:
    """``n`` stimuli of ``n_classes`` classes as pixel intensities in [0, 1], ``(n, 784)``,
    their labels, and a name."""
    rng = np.random.default_rng(seed)
    if kind == "mnist":
        from neurocode.data.mnist import DatasetError, load_mnist

        try:
            X, y = load_mnist("mnist", "test")
        except DatasetError as exc:
            first = str(exc).splitlines()[0]
            print(f"MNIST not found ({first}); using synthetic classes", file=sys.stderr)
        else:
            idx = rng.choice(np.flatnonzero(y < n_classes), n, replace=False)
            return (X[idx].reshape(n, -1) / 255.0, y[idx].astype(np.int64),
                    f"MNIST digits 0-{n_classes - 1}")
    # up to four classes: a bar at one of four positions, with pixel noise
    y = rng.integers(0, min(n_classes, 4), n)
    X = np.zeros((n, 28, 28))
    for i, c in enumerate(y):
        X[i, :, 4 + 6 * c: 8 + 6 * c] = 1.0
    X = np.clip(X + 0.2 * rng.random(X.shape), 0, 1)
    return X.reshape(n, -1), y, "four bar classes"


def simulate(X: np.ndarray, templates: np.ndarray, seed: int = 0) -> tuple[Any, np.ndarray]:
    """Run the network on stimuli ``X``; its SpikeMonitor and the windows (in ms)."""
    import brian2 as b2

    b2.prefs.codegen.target = "numpy"        # no compilation: quick to start
    b2.seed(seed)
    b2.defaultclock.dt = 1 * b2.ms          # coarse (fast), and enough for 5 ms refractoriness
    show, rest = 100, 50                     # ms
    n, n_in = X.shape
    n_units = len(templates)
    # rates in 50 ms steps: two steps of the digit, one of silence
    steps = np.zeros((3 * n, n_in))
    steps[0::3] = steps[1::3] = X * 63.75
    rates_in = b2.TimedArray(steps * b2.Hz, dt=50 * b2.ms)
    inputs = b2.PoissonGroup(n_in, rates="rates_in(t, i)",
                             namespace={"rates_in": rates_in})
    layer = b2.NeuronGroup(n_units, "dv/dt = -v / (20*ms) : 1 (unless refractory)",
                           threshold="v > 1", reset="v = 0", refractory=5 * b2.ms,
                           method="exact")
    feed = b2.Synapses(inputs, layer, "w : 1", on_pre="v_post += w")
    feed.connect()
    # each unit's weights: its template, scaled so a matching digit drives it over threshold
    W = templates / templates.sum(axis=1, keepdims=True) * 2.5
    feed.w = W.T.ravel()                     # connect() orders synapses input-major
    inhibit = b2.Synapses(layer, layer, on_pre="v_post -= 0.3")
    inhibit.connect(condition="i != j")
    monitor = b2.SpikeMonitor(layer)
    net = b2.Network(inputs, layer, feed, inhibit, monitor)
    net.run(n * (show + rest) * b2.ms)
    onset = np.arange(n) * (show + rest)
    return monitor, np.stack([onset, onset + show], axis=1).astype(float)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Simulate, count, measure; the counts and the battery."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", action="store_true",
                    default=os.environ.get("NEUROCODE_EXAMPLE_SMALL") == "1",
                    help="a small network and few digits (also NEUROCODE_EXAMPLE_SMALL=1)")
    ap.add_argument("--stimuli", choices=("mnist", "classes"), default="mnist")
    ap.add_argument("--out", default=None, help="save the counts and labels as FILE.npz")
    args = ap.parse_args(argv)

    from brian2 import ms

    from neurocode.codes import measure_codes
    from neurocode.spikes import from_brian2

    # small: four digits (the battery's decoding measure costs about a second per class)
    n_units, n_stim, n_classes = (40, 80, 4) if args.small else (200, 800, 10)
    X, y, what = stimuli(args.stimuli, n_stim + n_units, n_classes)
    templates, X, y = X[:n_units], X[n_units:], y[n_units:]   # templates: other stimuli
    monitor, windows = simulate(X, templates)
    sc = from_brian2(monitor, windows * ms, labels=y)
    print(f"{what}: {n_stim} stimuli -> {n_units} units, {sc.n_spikes} spikes "
          f"({sc.codes.sum() / n_stim:.1f} counted per stimulus)")
    for note in sc.notes:
        print(f"  note: {note}")
    if args.out:
        path = Path(args.out)
        np.savez(path, codes=sc.codes, labels=sc.labels)
        print(f"  counts saved: neurocode measure --codes {path} --out DIR")
    battery = measure_codes(*sc, max_stimuli=500)
    a, f = battery["activity"], battery.get("fault", {})
    print(f"  activity ratio {a['activity_ratio']:.3f} (AVR {a['avr']:.1f} of {n_units}), "
          f"Treves-Rolls {a['treves_rolls']:.3f}, code {a['code_type']}")
    if f:
        print(f"  readout accuracy {f['accuracy_intact']:.3f} (chance "
              f"{1 / len(np.unique(y)):.2f}), fault AUC {f['auc_random']:.3f}")
    w = battery.get("willshaw", {})
    if w:
        print(f"  Willshaw capacity {w['capacity']:.1f} (random k-of-N: "
              f"{w['theory_capacity']:.1f})")
    return {"counts": sc, "battery": battery, "monitor": monitor, "windows_ms": windows}


if __name__ == "__main__":
    main()
    sys.exit(0)
