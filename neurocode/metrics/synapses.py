"""Active synapses per stimulus: the outgoing weights of the active units, the work a
downstream readout spends on each stimulus (see :mod:`neurocode.metrics.decoding`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neurocode.metrics._validate import check_codes
from neurocode.metrics._validate import check_threshold as _check_threshold


def active_synapses(codes: np.ndarray, fan_out: Any, threshold: float = 0.0) -> dict[str, float]:
    r"""Active synapses per stimulus: the outgoing weights of the active units.

    A unit that is silent costs a downstream readout nothing: it sends no spikes, and its
    outgoing weights multiply zero and can be skipped. An active unit ``i`` makes its
    ``f_i`` outgoing synapses do work. So the number of active synapses per stimulus,

    .. math:: A_s = \sum_i 1[|r_{si}| > \mathrm{threshold}]\, f_i ,

    is a proxy for the computation and energy that reading one stimulus costs (Levy & Baxter
    1996, Neural Comput. 8:531; Attwell & Laughlin 2001, J. Cereb. Blood Flow Metab. 21:1133:
    signalling cost grows with the number of active neurons and their synapses). With a
    linear readout to ``C`` classes every unit has ``f_i = C`` (one weight per class), the
    value the battery uses. A dense code of the same units touches all
    ``D = \sum_i f_i`` (``N C`` for the linear readout) on every stimulus.

    Returned: ``active_synapses_mean`` (mean of ``A_s`` over stimuli), ``active_synapses_std``,
    ``dense_synapses`` (``D``) and ``active_synapses_ratio`` (``mean / D``; the activity ratio
    when ``f`` is the same for every unit). For a binary k-of-N code with one fan-out ``f``:
    ``A_s = k f`` on every stimulus.

    Parameters
    ----------
    codes : array (n_stimuli, N)
        Finite codes, one row per stimulus.
    fan_out : number or 1-D array (N,)
        Outgoing synapses per unit, the same for all (a number ``> 0``) or one per unit
        (non-negative, with a positive sum).
    threshold : float, default 0.0
        A unit is active when ``|code| > threshold`` (finite, ``>= 0``).

    Examples
    --------
    >>> from neurocode.random_codes import random_codes
    >>> out = active_synapses(random_codes(100, 784, 5, random_state=0), fan_out=10)
    >>> print(out["active_synapses_mean"], out["dense_synapses"])
    50.0 7840.0
    """
    arr = check_codes(codes)
    t = _check_threshold(threshold)
    n_units = arr.shape[1]
    f = np.asarray(fan_out, dtype=np.float64) if not isinstance(fan_out, bool) else None
    if f is None or not np.isfinite(f).all() or (f < 0).any():
        raise ValueError(f"fan_out must be a finite number > 0 or an array of non-negative "
                         f"numbers, got {fan_out!r}")
    if f.ndim == 0:
        if f <= 0:
            raise ValueError(f"fan_out must be > 0, got {fan_out!r}")
        f = np.full(n_units, float(f))
    elif f.shape != (n_units,):
        raise ValueError(f"fan_out must be a number or an array of shape ({n_units},), "
                         f"got shape {f.shape}")
    dense = float(f.sum())
    if dense <= 0:
        raise ValueError("fan_out sums to 0: the readout has no synapses")
    per_stim = np.empty(arr.shape[0])
    step = max(1, (1 << 22) // n_units)
    for s in range(0, arr.shape[0], step):
        act = np.abs(arr[s:s + step]) > t
        per_stim[s:s + step] = act @ f
    mean = float(per_stim.mean())
    return {
        "active_synapses_mean": mean,
        "active_synapses_std": float(per_stim.std()),
        "dense_synapses": dense,
        "active_synapses_ratio": mean / dense,
    }
