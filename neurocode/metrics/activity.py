"""Activity and sparseness of a code: how many units fire, how sparsely, and which never do.

The article ("Sparse coding: a simple exploration") measures a code by its *average activity*
(AVR: the number of units active per stimulus; "an AVR of 1.67" is almost a local code, "5.4
... only 0.6% of activated neurons") and asks "does every neuron get activated through the
complete dataset?". :func:`activity` reports those numbers and the two standard continuous
sparseness measures beside them; :func:`code_type` turns an AVR into the article's label
(local / sparse / dense).

Conventions shared by every measure here:

* ``codes`` is an array ``(n_stimuli, n_units)``: one row per stimulus;
* a unit is *active* for a stimulus when ``|code| > threshold`` (default 0.0). For the
  non-negative codes of the built-in rules (rates, binary, spike counts) ``|code| = code``;
  for signed codes (e.g. LCA without a non-negativity constraint) a strongly negative
  response counts as activity just as a positive one does;
* the continuous measures (Treves-Rolls, Hoyer) read the magnitudes ``|r|`` of the raw
  codes, not the thresholded ones.
"""

from __future__ import annotations

import math

import numpy as np

from neurocode.metrics._validate import check_codes
from neurocode.metrics._validate import check_threshold as _check_threshold

__all__ = ["activity", "code_type", "check_codes", "LOCAL_MAX_AVR", "DENSE_MIN_RATIO",
           "SILENT_MAX_AVR"]

#: At most this many active units per stimulus (on average) is a *local* code: the AVR
#: rounds to one unit (it is nearer 1 than 2). The article's sparsest network, AVR 1.67,
#: is "almost" local, and is labelled sparse by this rule.
LOCAL_MAX_AVR = 1.5

#: An activity ratio of at least this is a *dense* code: the ratio ``a`` at which a binary
#: unit's entropy ``H(a) = -a log2 a - (1 - a) log2(1 - a)`` reaches half a bit, half the
#: information a unit of the fully dense code (``a = 1/2``, ``H = 1`` bit) can carry
#: (``H(0.11) = 0.49992`` bits).
DENSE_MIN_RATIO = 0.11

#: Below this AVR (fewer than half a unit active per stimulus: the AVR rounds to zero) the
#: code is *silent*, the article's "no neuron activate at all" case.
SILENT_MAX_AVR = 0.5

_CHUNK_VALUES = 1 << 22  # code entries per chunk of stimuli (about 32 MB of float64)


def code_type(avr: float, n_units: int) -> str:
    """The article's label for a code with ``avr`` active units per stimulus out of ``n_units``.

    With the activity ratio ``a = avr / n_units``, tested in this order:

    * ``"silent"`` if ``avr < SILENT_MAX_AVR`` (0.5): on average no unit fires;
    * ``"local"`` if ``avr <= LOCAL_MAX_AVR`` (1.5): about one unit per stimulus, the
      grandmother-cell extreme (k = 1 of N);
    * ``"dense"`` if ``a >= DENSE_MIN_RATIO`` (0.11): a unit's activity carries at least half
      a bit, ``H(a) >= 0.5``, half of the fully dense code's 1 bit at ``a = 1/2`` (the article:
      dense = "half of the neurons get activated"; its unconstrained network, AVR 156.3 of
      784 units, a = 0.20, is the one it calls dense);
    * ``"sparse"`` otherwise: everything in between (the article's AVR 5.4 of 784, a = 0.007,
      and the k ~ log2 N codes of associative-memory theory).

    Local is tested before dense so that a one-unit code of very few units (``N <= 9``,
    where one unit is already ``a >= 0.11``) is still called local.

    Parameters
    ----------
    avr : float
        Mean number of active units per stimulus (``>= 0``).
    n_units : int
        Number of units in the code (``>= 1``).

    Returns
    -------
    str
        One of ``"silent"``, ``"local"``, ``"sparse"``, ``"dense"``.

    Examples
    --------
    >>> print(code_type(1.0, 784), code_type(5.4, 784), code_type(156.3, 784))
    local sparse dense
    """
    try:
        avr_f = float(avr)
    except (TypeError, ValueError):
        raise ValueError(f"avr must be a number, got {avr!r}") from None
    if not math.isfinite(avr_f) or avr_f < 0:
        raise ValueError(f"avr must be a finite number >= 0, got {avr!r}")
    if isinstance(n_units, bool) or not float(n_units).is_integer() or n_units < 1:
        raise ValueError(f"n_units must be an integer >= 1, got {n_units!r}")
    if avr_f > n_units:
        raise ValueError(f"avr ({avr_f}) cannot exceed n_units ({n_units})")
    if avr_f < SILENT_MAX_AVR:
        return "silent"
    if avr_f <= LOCAL_MAX_AVR:
        return "local"
    if avr_f / n_units >= DENSE_MIN_RATIO:
        return "dense"
    return "sparse"


def activity(codes: np.ndarray, threshold: float = 0.0) -> dict[str, float | str | np.ndarray]:
    r"""Activity, population and lifetime sparseness, dead units and code type of ``codes``.

    With ``r_{si}`` the code of unit ``i`` for stimulus ``s`` (``S`` stimuli, ``N`` units) and
    ``x_{si} = 1[|r_{si}| > threshold]`` its activity:

    * ``avr`` (the article's average activity): :math:`\frac1S \sum_s \sum_i x_{si}`, the mean
      number of active units per stimulus; ``avr_std`` its standard deviation over stimuli;
      ``activity_ratio = avr / N``.
    * ``treves_rolls`` (population sparseness; Treves & Rolls 1991, Network 2:371; Rolls &
      Tovee 1995, J. Neurophysiol. 73:713): per stimulus
      :math:`a_s = \left(\frac1N\sum_i |r_{si}|\right)^2 / \frac1N\sum_i r_{si}^2`, averaged over
      stimuli. It is ``1/N`` for a one-hot code, ``k/N`` for a binary k-of-N code and 1 for a
      constant code: small is sparse. A stimulus whose code is all zeros has no defined
      ``a_s`` (0/0) and is left out of the average (also of ``hoyer``); ``silent_stimuli``
      is the fraction of such stimuli, and both averages are NaN when every stimulus is silent.
    * ``hoyer`` (Hoyer 2004, JMLR 5:1457): per stimulus
      :math:`(\sqrt N - \|r_s\|_1/\|r_s\|_2) / (\sqrt N - 1)`, averaged over the non-silent
      stimuli: 1 for a one-hot code, 0 for a constant code, ``(sqrt N - sqrt k)/(sqrt N - 1)``
      for a binary k-of-N code: large is sparse. NaN when ``N = 1``.
    * ``lifetime_sparseness`` (array ``(N,)``): the Treves-Rolls form over stimuli for each
      unit, :math:`a_i = \left(\frac1S\sum_s |r_{si}|\right)^2 / \frac1S\sum_s r_{si}^2`
      (``p`` for a binary unit active on a fraction ``p`` of stimuli); NaN for a unit whose
      code is zero on every stimulus. ``lifetime_sparseness_mean`` is its mean over the
      units that are not dead (NaN when all are dead).
    * ``unit_activity`` (array ``(N,)``): the fraction of stimuli on which each unit is active.
    * ``dead_fraction``: the fraction of units never active on any stimulus of ``codes``
      (the article's "does every neuron get activated through the complete dataset?");
      ``n_dead`` their number.
    * ``code_type``: :func:`code_type` of ``avr`` and ``N`` (a string).

    Also returned: ``n_units`` and ``n_stimuli`` (as floats).

    Every statistic needs every stimulus (dead units in particular), so nothing is
    subsampled; the codes are read in chunks of about 4 million entries (cost linear in
    ``S * N``: well under a second for 10,000 stimuli of 784 units).

    Parameters
    ----------
    codes : array (n_stimuli, n_units)
        Real codes, one row per stimulus; no NaN or infinite values.
    threshold : float, default 0.0
        A unit is active when ``|code| > threshold``; must be finite and ``>= 0``.

    Returns
    -------
    dict
        Scalars as floats (``code_type`` a string), per-unit curves as 1-D arrays.

    Raises
    ------
    ValueError
        If ``codes`` is not a finite 2-D real array with at least one stimulus and one unit,
        or ``threshold`` is negative or not finite.

    Examples
    --------
    >>> from neurocode.random_codes import random_codes
    >>> out = activity(random_codes(1000, 64, 4, random_state=0))
    >>> print(out["avr"], out["treves_rolls"], out["code_type"])
    4.0 0.0625 sparse
    """
    arr = check_codes(codes)
    t = _check_threshold(threshold)
    n_stim, n_units = arr.shape

    n_active = np.empty(n_stim, dtype=np.float64)
    tr = np.full(n_stim, np.nan)
    hoyer = np.full(n_stim, np.nan)
    unit_active = np.zeros(n_units, dtype=np.int64)
    unit_l1 = np.zeros(n_units, dtype=np.float64)
    unit_l2sq = np.zeros(n_units, dtype=np.float64)
    sqrt_n = math.sqrt(n_units)

    step = max(1, _CHUNK_VALUES // n_units)
    for s in range(0, n_stim, step):
        mag = np.abs(arr[s:s + step].astype(np.float64, copy=False))
        act = mag > t
        n_active[s:s + step] = act.sum(axis=1)
        unit_active += act.sum(axis=0)
        sq = mag * mag
        unit_l1 += mag.sum(axis=0)
        unit_l2sq += sq.sum(axis=0)
        l1 = mag.sum(axis=1)
        l2sq = sq.sum(axis=1)
        live = l2sq > 0
        # a_s = (l1/N)^2 / (l2sq/N) = l1^2 / (N l2sq)
        tr[s:s + step][live] = l1[live] ** 2 / (n_units * l2sq[live])
        if n_units > 1:
            hoyer[s:s + step][live] = (sqrt_n - l1[live] / np.sqrt(l2sq[live])) / (sqrt_n - 1.0)

    live_stim = ~np.isnan(tr)
    avr = float(n_active.mean())
    dead = unit_active == 0
    with np.errstate(invalid="ignore", divide="ignore"):
        lifetime = np.where(unit_l2sq > 0, unit_l1 ** 2 / (n_stim * unit_l2sq), np.nan)
    alive_lifetime = lifetime[~dead & ~np.isnan(lifetime)]

    def _mean(x: np.ndarray) -> float:
        return float(x.mean()) if x.size else float("nan")

    return {
        "avr": avr,
        "avr_std": float(n_active.std()),
        "activity_ratio": avr / n_units,
        "treves_rolls": _mean(tr[live_stim]),
        "hoyer": _mean(hoyer[live_stim]) if n_units > 1 else float("nan"),
        "silent_stimuli": float(1.0 - live_stim.mean()),
        "lifetime_sparseness": lifetime,
        "lifetime_sparseness_mean": _mean(alive_lifetime),
        "unit_activity": unit_active / n_stim,
        "dead_fraction": float(dead.mean()),
        "n_dead": float(dead.sum()),
        "n_units": float(n_units),
        "n_stimuli": float(n_stim),
        "code_type": code_type(min(avr, float(n_units)), n_units),
    }
