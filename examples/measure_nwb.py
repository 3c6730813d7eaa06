"""Measure a recording stored as NWB: sorted spikes (a Units table) counted in each trial.

This writes a small synthetic session with pynwb (units tuned to one of four grating
orientations, von Mises tuning curves, Poisson spikes; trials with a ``stimulus`` column),
then measures it exactly as ``neurocode measure --codes session.nwb --labels-key stimulus
--out DIR`` does (:func:`neurocode.api.store_codes`): a run file with its battery, and the
code card beside it. With a real recording, skip the writing and point the last step at it.

    python examples/measure_nwb.py [--small] [--out DIR]

``--small`` (or ``NEUROCODE_EXAMPLE_SMALL=1``): fewer units and trials, a few seconds.
Needs pynwb (``pip install neurocode[nwb]``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ORIENTATIONS = np.array([0.0, 45.0, 90.0, 135.0])   # degrees


def write_session(path: Path, n_units: int, n_trials: int, seed: int = 0) -> Path:
    """A synthetic session: units with orientation tuning, one grating per trial."""
    from pynwb import NWBHDF5IO, NWBFile

    rng = np.random.default_rng(seed)
    nwb = NWBFile(session_description="synthetic orientation tuning (neurocode example)",
                  identifier=f"neurocode-example-{seed}",
                  session_start_time=datetime(2024, 1, 1, tzinfo=UTC))
    nwb.add_trial_column(name="stimulus", description="grating orientation, degrees")
    preferred = rng.choice(ORIENTATIONS, n_units)
    kappa, base, peak = 3.0, 0.2, 30.0                   # spikes/s
    shown = rng.choice(ORIENTATIONS, n_trials)
    onset = 1.0 * np.arange(n_trials) + 0.5              # 0.3 s gratings, 0.7 s grey between
    spikes: list[list[np.ndarray]] = [[] for _ in range(n_units)]
    for i, theta in enumerate(shown):
        nwb.add_trial(start_time=float(onset[i]), stop_time=float(onset[i] + 0.3),
                      stimulus=f"{theta:.0f}")
        d = np.deg2rad(2 * (theta - preferred))          # orientation: period 180 degrees
        rate = base + (peak - base) * np.exp(kappa * (np.cos(d) - 1))
        for j in range(n_units):
            spikes[j].append(onset[i] + rng.uniform(0, 0.3, rng.poisson(rate[j] * 0.3)))
    t_end = float(onset[-1] + 1.0)
    for j in range(n_units):                             # spontaneous spikes all session long
        grey = rng.uniform(0, t_end, rng.poisson(base * t_end))
        nwb.add_unit(spike_times=np.sort(np.concatenate(spikes[j] + [grey])))
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Write the session, measure it as the command line does; the card and the paths."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", action="store_true",
                    default=os.environ.get("NEUROCODE_EXAMPLE_SMALL") == "1",
                    help="a small session (also NEUROCODE_EXAMPLE_SMALL=1)")
    ap.add_argument("--out", default=None, help="results folder (default: a temporary one)")
    args = ap.parse_args(argv)

    from neurocode.api import store_codes
    from neurocode.spikes import from_nwb

    n_units, n_trials = (24, 100) if args.small else (120, 600)
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="neurocode-nwb-"))
    out.mkdir(parents=True, exist_ok=True)
    path = write_session(out / "session.nwb", n_units, n_trials)
    print(f"wrote {path}: {n_units} units, {n_trials} trials")

    # what the counting sees (the same reader as `neurocode measure --codes`)
    sc = from_nwb(path, label_column="stimulus")
    print(f"counts: {sc.codes.shape[0]} trials x {sc.n_units} units, {sc.n_spikes} spikes")
    for note in sc.notes:
        print(f"  note: {note}")

    # neurocode measure --codes session.nwb --labels-key stimulus --out OUT
    run_file = store_codes(path, out, labels_key="stimulus", max_stimuli=500)
    card = json.loads(run_file.with_suffix(".card.json").read_text())
    for key in ("activity_ratio", "avr", "treves_rolls", "code_type", "readout_accuracy",
                "fault_auc", "willshaw_capacity", "willshaw_capacity_theory"):
        print(f"  {key:26s} {card.get(key)}")
    return {"nwb": path, "run_file": run_file, "card": card, "counts": sc}


if __name__ == "__main__":
    main()
    sys.exit(0)
