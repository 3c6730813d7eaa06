"""Parallel updates: does it matter whether the units of a recurrent code update together?

The article ("Sparse coding: a simple exploration", section *Parallelism*) ties parallelism to
interference: in a sparse code "neurons can work asynchronously and parallelise the
computation", while in a dense code "trying to parallelise computation leads to a great risk
of interference". :func:`sync_async_difference` measures it on a recurrent rule: the same
fitted network, cued with the same stimuli, run once with synchronous updates (every unit at
once from the previous state) and once with asynchronous ones (one unit at a time, in a
random order), and the fraction of stimuli whose final code differs.

Which rules are covered: every rule that declares a hyper-parameter ``update`` whose allowed
values include both ``"sync"`` and ``"async"`` (:func:`supports_update_modes`). Among the
built-in rules that is the Hopfield net (:class:`neurocode.models.memory.Hopfield`). The other
recurrent built-ins have no asynchronous mode: Földiák's network settles by Euler steps of
``dy/dt = f(Qx - t + W y) - y`` over all units at once (:func:`neurocode.models.foldiak.settle`)
and LCA by Euler steps of ``tau du/dt = b - u - (Phi^T Phi - I) a`` over all units at once
(:func:`neurocode.models.lca.lca_solve`); both are synchronous by construction (and, being
continuous-time dynamics integrated with a small step, their fixed points do not depend on
the update order). For those and the feed-forward rules the measure reports
``supported = 0.0`` and NaN values instead of failing, so a battery over every rule runs
through; a rule gains the measure by declaring ``update`` with both choices.

:func:`code_sync_async_difference` asks the same question of the codes of *any* rule: the
rule's own binarised codes are stored in a recurrent attractor memory that sees sparse codes
(the covariance rule of Tsodyks & Feigel'man 1988,
:func:`neurocode.memories.covariance_couplings`), at the same load relative to the capacity
of random codes of their coding level, and recalled from the same partial cues by
synchronous (all units at once: the parallel update) and by asynchronous (one unit at a
time) threshold dynamics (:func:`neurocode.memories.threshold_run`), with a threshold at
the middle of the signal gap of the current state (global inhibition proportional to the
activity). It needs no ``update`` hyper-parameter, so every rule, and every sparsity of a
dose-response family, is measured.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neurocode.memories import covariance_couplings, threshold_run
from neurocode.metrics._validate import check_codes, check_int, check_stimuli
from neurocode.metrics.covariance import _partial_cues
from neurocode.theory import covariance_capacity

__all__ = ["code_sync_async_difference", "supports_update_modes", "sync_async_difference"]


def supports_update_modes(rule: Any) -> bool:
    """Whether ``rule`` declares both update modes, ``tags.update_modes == ("sync", "async")``
    (chosen by its hyper-parameter ``update``, which the tags' check makes sure it has)."""
    from neurocode.rules import tags_of

    tags = tags_of(rule)
    return tags is not None and {"sync", "async"} <= set(tags.update_modes)


def _with_update(rule: Any, update: str, random_state: int) -> Any:
    """A copy of the fitted ``rule`` with ``update`` (and ``random_state``) set; same state."""
    twin = type(rule)(**{**rule.get_params(), "update": update, "random_state": random_state})
    twin.set_state({k: np.array(v, copy=True) for k, v in rule.get_state().items()})
    return twin


def _mean(x: np.ndarray) -> float:
    return float(np.mean(x))


def _encode(rule: Any, X: np.ndarray, chunk: int = 1000) -> np.ndarray:
    return np.concatenate([np.asarray(rule.encode(X[s:s + chunk]), dtype=np.float64)
                           for s in range(0, len(X), chunk)])


def sync_async_difference(rule: Any, X: Any, random_state: int = 0,
                          max_stimuli: int = 1000) -> dict[str, float]:
    """Fraction of stimuli whose final code differs between synchronous and asynchronous updates.

    The fitted ``rule`` is copied twice with the same learned state (``get_state`` /
    ``set_state``) and its ``update`` hyper-parameter set to ``"sync"`` (all units at once,
    from the previous state) and to ``"async"`` (one unit at a time, in a random order per
    sweep drawn from ``random_state``); both encode the same stimuli. With ``c_s(x)`` and
    ``c_a(x)`` the two final codes:

    * ``fraction_different``: the fraction of stimuli with ``c_s(x) != c_a(x)`` (any unit);
    * ``mean_units_different``: the mean fraction of units on which they differ (Hamming / N);
    * ``fraction_sync_unsettled``, ``fraction_async_unsettled``: the fraction of final codes
      that are not fixed points (an asynchronous run cued with the code changes it; a fixed
      point, a state every unit's update leaves as it is, is one for both modes): for the
      Hopfield net, synchronous 2-cycles (Goles, Fogelman-Soulie & Pellegrin 1985, "Decreasing
      energy functions as a tool for studying threshold networks", Discrete Appl. Math. 12)
      or runs out of sweeps. NaN when the codes are not cues of the network (code width
      differs from the stimulus width);
    * ``supported``: 1.0; ``n_stimuli``: stimuli compared.

    For a Hopfield net cued with its own stored patterns below capacity, both modes stay at
    the stored fixed point (``fraction_different = 0``); at high load or from noisy cues,
    synchronous updates fall into 2-cycles that asynchronous ones (which never raise the energy
    ``E = -1/2 s^T T s``; Hopfield 1982) cannot, and the codes differ.

    Rules without both update modes (see the module docstring; built-in: every rule but the
    Hopfield net) return ``supported = 0.0`` and NaN for every other value.

    Parameters
    ----------
    rule : fitted CodingRule
    X : array ``(n_stimuli, n_features)``
        Stimuli (cues); for the Hopfield net, binary.
    random_state : int
        Seed of the asynchronous update order and of the subsample of stimuli.
    max_stimuli : int, default 1000
        At most this many stimuli (a uniform subsample without replacement) are compared;
        the fraction's standard error is then at most 0.016, and the cost of two recalls of
        1000 cues stays below a second for 784 units.

    Returns
    -------
    dict
        ``supported``, ``fraction_different``, ``mean_units_different``,
        ``fraction_sync_unsettled``, ``fraction_async_unsettled``, ``n_stimuli``.

    Examples
    --------
    >>> import numpy as np
    >>> from neurocode import get_rule
    >>> net = get_rule("hopfield").fit([[1, 1]])  # two units coupled: T_12 = +1
    >>> cues = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
    >>> print(sync_async_difference(net, cues)["fraction_different"])  # the mixed cues
    0.5
    """
    X = check_stimuli(X)
    if isinstance(max_stimuli, bool) or not isinstance(max_stimuli, (int, np.integer)) \
            or max_stimuli < 1:
        raise ValueError(f"max_stimuli must be an integer >= 1, got {max_stimuli!r}")
    nan = float("nan")
    if not supports_update_modes(rule):
        return {"supported": 0.0, "fraction_different": nan, "mean_units_different": nan,
                "fraction_sync_unsettled": nan, "fraction_async_unsettled": nan,
                "n_stimuli": 0.0}
    if not hasattr(rule, "n_features_in_"):
        raise ValueError(f"rule '{getattr(rule, 'name', type(rule).__name__)}' is not fitted: "
                         f"call fit first")
    rng = np.random.default_rng(random_state)
    if len(X) > max_stimuli:
        X = X[np.sort(rng.choice(len(X), size=int(max_stimuli), replace=False))]
    order_seed = int(rng.integers(0, 2**31 - 1))
    sync = _with_update(rule, "sync", order_seed)
    asyn = _with_update(rule, "async", order_seed)
    c_s = _encode(sync, X)
    c_a = _encode(asyn, X)
    diff = c_s != c_a
    if c_s.shape[1] == X.shape[1]:
        # A fixed point is a state that every unit's update leaves as it is, whatever the
        # order, so one asynchronous run tells it for both modes (a synchronous re-run would
        # not: from a 2-cycle it comes back to the same state after an even number of sweeps).
        unsettled_s = _mean((_encode(asyn, c_s) != c_s).any(axis=1))
        unsettled_a = _mean((_encode(asyn, c_a) != c_a).any(axis=1))
    else:  # the codes are not cues of the same network (hetero-associative): no re-run
        unsettled_s = unsettled_a = nan
    return {
        "supported": 1.0,
        "fraction_different": float(diff.any(axis=1).mean()),
        "mean_units_different": float(diff.mean()),
        "fraction_sync_unsettled": unsettled_s,
        "fraction_async_unsettled": unsettled_a,
        "n_stimuli": float(len(X)),
    }


# Added to the threshold: a field equal to it in exact arithmetic (frequent: e.g. at a = 1/2
# with an even number of patterns, or the default threshold 0), which rounding puts on either
# side, then turns the unit off in both modes alike; far above the rounding of fields of order
# one, far below any field a stored pattern produces.
_TIE = 1e-9


def _positive(value: Any, name: str, *, upper: float | None = None) -> float:
    """A finite real number > 0 (and <= ``upper`` when given); ValueError naming ``name``."""
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not np.isfinite(v) or v <= 0 or (upper is not None and v > upper):
        span = f"in (0, {upper:g}]" if upper is not None else "a finite number > 0"
        raise ValueError(f"{name} must be {span}, got {value!r}")
    return v


def _not_fixed(J: np.ndarray, V: np.ndarray, theta: float) -> np.ndarray:
    """Rows of ``V`` that one synchronous update changes: not fixed points (of either mode)."""
    after, _ = threshold_run(J, V, theta=theta, update="sync", max_sweeps=1)
    return (after != V).any(axis=1)


def code_sync_async_difference(codes: Any, *, relative_load: float = 0.5,
                               cue_fraction: float = 0.5, n_probe: int = 200,
                               theta: float | None = None, max_units: int | None = 2048,
                               max_sweeps: int = 50, tolerance: float | None = None,
                               random_state: Any = 0) -> dict[str, float]:
    """Synchronous against asynchronous recall of a code's own patterns in a covariance memory.

    The article's claim (sparse codes "can work asynchronously and parallelise the
    computation"; in a dense code "trying to parallelise computation leads to a great risk of
    interference"), measured on the codes of any rule, with no ``update`` hyper-parameter:
    the binarised codes ``x^mu = [c^mu != 0]`` (0/1) are stored in a recurrent memory by the
    covariance rule (Tsodyks & Feigel'man 1988; :func:`neurocode.memories.covariance_couplings`),
    ``a`` the codes' mean activity::

        J_ij = 1 / (N a (1 - a))  sum_{mu stored} (x_i^mu - a)(x_j^mu - a),    J_ii = 0

    and each probed pattern is recalled from the same partial cue by threshold dynamics
    (:func:`neurocode.memories.threshold_run`; a unit whose field equals its threshold keeps
    its state)::

        V_i <- Theta( sum_{j != i} J_ij V_j  -  g sum_{j != i} V_j  -  theta )

    run twice:

    * synchronously (``update="sync"``): every unit at once from the previous state, the
      parallel update. With symmetric couplings it ends at a fixed point or in a 2-cycle
      (Goles, Fogelman-Soulie & Pellegrin 1985, Discrete Appl. Math. 12, 261-277);
    * asynchronously (``update="async"``): one unit at a time, in a random order per sweep
      (from ``random_state``). The energy
      ``E = -1/2 sum_{i != j} (J_ij - g) V_i V_j + theta sum_i V_i`` never increases, and
      every run ends at a fixed point (Hopfield 1982).

    A state that is a fixed point of one mode is one of the other (every unit's update leaves
    it as it is), so from a cue that is one the modes agree; they differ when crosstalk
    between the stored patterns makes the synchronous dynamics fall into 2-cycles, or the two
    orders carry the same cue to different attractors.

    **The threshold** (default, ``theta=None``): the middle of the signal gap *of the current
    state*, ``g = (1/2 - a) / (N a)`` and ``theta = 0``. With this normalisation a stored
    pattern ``x`` of ``k`` active units, cued by ``m`` of them, gives its active units field
    about ``(1 - a) m / (N a)`` and its silent units about ``-a m / (N a)``, so the threshold
    ``(1/2 - a) |V| / (N a)`` of a state of ``|V| = m`` active units is mid-way, from the
    cue (``m = cue_fraction k``) to the recalled pattern (``m = k``; for ``k = N a``:
    ``1/2 - a``, the middle of the gap between ``1 - a`` and ``-a``), and for patterns of any
    activity. It is global inhibition proportional to the activity (as in Buhmann, Divko &
    Schulten 1989, Phys. Rev. A 39, 2689), a uniform coupling ``-g`` added to ``J``, so the
    dynamics keep their energy and 2-cycle properties. A fixed threshold, the same at every
    activity, does not serve: for ``a`` well below 1/2 it sits at ``1/2 - a``, about half the
    signal of a full pattern, so a half cue is at the edge of its basin (its signal
    ``(1 - a)/2``, less ``(1 - a)/(N a)`` on the cue's own units, exceeds the threshold by
    less than ``a/2``, well within the crosstalk) and sparse codes fail from half cues where
    dense ones (threshold 0) recall (``a = 0.02``, ``N = 1000``: 0.7-1.0 wrong units per
    active unit against 0.04); lowering it lets spurious units in, which add field to more
    spurious units (an avalanche). ``theta`` given: that fixed threshold,
    with ``g = 0``. Ties: the threshold is raised by ``1e-9``, so that a field equal to it in
    exact arithmetic (frequent at ``theta = 0``, e.g. for ``a = 1/2`` and an even number of
    stored patterns), which rounding would put on either side, turns the unit off in both
    modes alike.

    **Design, held fixed across codes** (so that a difference between codes is the codes'):

    * the load relative to the capacity of random codes of the same coding level:
      ``M = clip(round(relative_load * alpha(a) * N), 1, n)`` rows are stored, drawn at
      random without replacement, with ``alpha(a)`` from
      :func:`neurocode.theory.covariance_capacity` at ``tolerance`` (default 0.1: the
      battery's one wrong unit per ten active), for k-of-N patterns when every row has the
      same activity and for independent units otherwise (as
      :func:`~neurocode.metrics.covariance.sparse_hopfield_capacity` reads its theory).
      ``M`` depends on ``a``, ``N``, ``n`` and whether the activity varies, never on the
      code's structure: codes whose patterns share active units hold fewer than random codes,
      which shows as recall error;
    * the threshold rule above (the middle of the signal gap);
    * the cue: ``max(1, round(cue_fraction k))`` of the probe's ``k`` active units, drawn at
      random (no spurious units), the same cue for both modes;
    * the units: codes wider than ``max_units`` are restricted to a random subset of
      ``max_units`` units (the same for every row).

    Silent rows (no active unit) are kept: they count in ``a`` and may be stored and probed
    (``fraction_silent`` reports them; a silent probe's cue is silent). A code with ``a = 0``
    (all silent) or ``a = 1`` (every unit always on) stores nothing: then ``measured = 0.0``,
    ``load = n_probe = 0.0`` and the measured values are NaN (no exception, so a battery over
    every rule runs through).

    With ``r_s`` and ``r_a`` the synchronous and asynchronous final states of a probe ``x``
    with ``k`` active units (``k`` replaced by 1 for a silent probe, so its spurious units
    still count), averaged over the probes::

        fraction_different         = mean [r_s != r_a]
        units_different_per_active = mean |r_s xor r_a| / k
        error_sync                 = mean (|r_s \\ x| + |x \\ r_s|) / k     (spurious + missed)
        error_async                = mean (|r_a \\ x| + |x \\ r_a|) / k

    Parameters
    ----------
    codes : array (n, N)
        Codes of ``n`` stimuli; a unit is active where the code is non-zero (binarise with a
        threshold first, e.g. ``codes > t``, if small values mean silence).
    relative_load : float > 0, default 0.5
        Stored rows per unit over the theoretical capacity ``alpha(a)`` of random k-of-N
        codes (below 1: below capacity).
    cue_fraction : float in (0, 1], default 0.5
        Fraction of each probe's active units in its cue (1: the whole pattern).
    n_probe : int, default 200
        Probes: ``min(n_probe, M)`` stored rows, drawn without replacement.
    theta : float, optional
        A fixed threshold (in units of the signal gap of a full pattern of activity ``N a``)
        instead of the default activity-proportional one.
    max_units : int or None, default 2048
        Units kept (``None``: all). The float64 couplings of 2048 units take 32 MB.
    max_sweeps : int, default 50
        Sweeps per run; a synchronous 2-cycle is detected and stopped early.
    tolerance : float > 0, optional
        Wrong units per active unit at which ``alpha(a)`` is read; default 0.1.
    random_state : int or Generator
        The unit subset, the stored rows, the probes, the cues and the asynchronous orders.

    Returns
    -------
    dict of float
        ``measured`` (1.0; 0.0 when ``a`` is 0 or 1), ``fraction_different``,
        ``units_different_per_active``, ``error_sync``, ``error_async``, ``sync_cycles``
        (fraction of probes whose synchronous final state is not a fixed point: a 2-cycle,
        or out of sweeps), ``async_unsettled`` (the same for the asynchronous runs: 0 unless
        they ran out of sweeps), ``load`` (``M``), ``relative_load``, ``coding_level``
        (``a``), ``theory_capacity`` (``alpha(a) N``), ``n_units`` (``N`` after the subset),
        ``n_probe``, ``theta`` (the fixed threshold; by default ``1/2 - a``, the threshold at
        activity ``N a``), ``inhibition`` (``g N a``: ``1/2 - a`` by default, 0 with a fixed
        ``theta``), ``cue_fraction``, ``fraction_silent`` (rows with no active unit).

    References
    ----------
    Tsodyks, M. V. & Feigel'man, M. V. (1988). The enhanced storage capacity in neural
    networks with low activity level. Europhys. Lett. 6, 101-105.
    Buhmann, J., Divko, R. & Schulten, K. (1989). Associative memory with high information
    content. Phys. Rev. A 39, 2689-2692.
    Hopfield, J. J. (1982). Neural networks and physical systems with emergent collective
    computational abilities. PNAS 79, 2554-2558.
    Goles, E., Fogelman-Soulie, F. & Pellegrin, D. (1985). Decreasing energy functions as a
    tool for studying threshold networks. Discrete Appl. Math. 12, 261-277.

    Examples
    --------
    Random codes, 40 of 400 units active, at half their capacity (90 of the 400 rows
    stored): both modes recall the stored patterns from half cues, and (nearly) always agree.
    Dense random codes at four times their capacity: synchronous runs fall into 2-cycles and
    the modes disagree.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = np.zeros((400, 400), dtype=np.uint8)
    >>> for row in X:
    ...     row[rng.choice(400, 40, replace=False)] = 1
    >>> out = code_sync_async_difference(X, n_probe=50)
    >>> print(out["load"], out["fraction_different"] < 0.1, out["error_async"] < 0.1)
    90.0 True True
    >>> dense = rng.random((300, 400)) < 0.5
    >>> out = code_sync_async_difference(dense, relative_load=4, n_probe=50)
    >>> print(out["fraction_different"] > 0.5, out["sync_cycles"] > 0.2)
    True True
    >>> code_sync_async_difference(np.zeros((5, 10)))["measured"]
    0.0
    """
    C = check_codes(codes, "codes")
    rl = _positive(relative_load, "relative_load")
    cf = _positive(cue_fraction, "cue_fraction", upper=1.0)
    n_probe = check_int(n_probe, "n_probe")
    max_sweeps = check_int(max_sweeps, "max_sweeps")
    limit = None if max_units is None else check_int(max_units, "max_units")
    tol = 0.1 if tolerance is None else _positive(tolerance, "tolerance")
    if theta is not None:
        if isinstance(theta, (bool, np.bool_)):
            raise ValueError(f"theta must be a finite number or None, got {theta!r}")
        try:
            theta = float(theta)
        except (TypeError, ValueError):
            raise ValueError(f"theta must be a finite number or None, got {theta!r}") from None
        if not np.isfinite(theta):
            raise ValueError(f"theta must be a finite number or None, got {theta!r}")
    rng = np.random.default_rng(random_state)
    B = C != 0
    n, N0 = B.shape
    if limit is not None and N0 > limit:
        B = B[:, np.sort(rng.choice(N0, size=limit, replace=False))]
    N = B.shape[1]
    k_all = B.sum(axis=1)
    a = float(k_all.sum()) / (n * N)
    nan = float("nan")
    out = {"measured": 1.0, "fraction_different": nan, "units_different_per_active": nan,
           "error_sync": nan, "error_async": nan, "sync_cycles": nan, "async_unsettled": nan,
           "load": 0.0, "relative_load": rl, "coding_level": a, "theory_capacity": nan,
           "n_units": float(N), "n_probe": 0.0, "theta": nan if theta is None else theta,
           "inhibition": nan if theta is None else 0.0, "cue_fraction": cf,
           "fraction_silent": float(np.mean(k_all == 0))}
    if not 0.0 < a < 1.0:        # silent or always-on: no variance to store
        out["measured"] = 0.0
        return out
    kind = "k-of-N" if np.all(k_all == k_all[0]) else "bernoulli"
    alpha = covariance_capacity(a, tolerance=tol, patterns=kind)["alpha"]
    M = int(np.clip(round(rl * alpha * N), 1, n))
    stored = np.sort(rng.choice(n, size=M, replace=False))
    J = covariance_couplings(B[stored], a=a)
    if theta is None:            # mid-gap of the current state: global inhibition, theta 0
        inhibition, th = 0.5 - a, 0.0
        J -= inhibition / (N * a)
        np.fill_diagonal(J, 0.0)
    else:
        inhibition, th = 0.0, theta
    probe = stored[np.sort(rng.choice(M, size=min(n_probe, M), replace=False))]
    X = B[probe]
    cue = _partial_cues(X, cf, rng)
    th_run = th + _TIE
    R_s, _ = threshold_run(J, cue, theta=th_run, update="sync", max_sweeps=max_sweeps)
    R_a, _ = threshold_run(J, cue, theta=th_run, update="async", max_sweeps=max_sweeps, rng=rng)
    R_s, R_a = R_s.astype(bool), R_a.astype(bool)
    k = np.maximum(k_all[probe], 1).astype(np.float64)
    diff = R_s != R_a
    out.update({
        "fraction_different": float(diff.any(axis=1).mean()),
        "units_different_per_active": float((diff.sum(axis=1) / k).mean()),
        "error_sync": float(((R_s != X).sum(axis=1) / k).mean()),
        "error_async": float(((R_a != X).sum(axis=1) / k).mean()),
        "sync_cycles": float(_not_fixed(J, R_s, th_run).mean()),
        "async_unsettled": float(_not_fixed(J, R_a, th_run).mean()),
        "load": float(M), "theory_capacity": alpha * N, "n_probe": float(len(probe)),
        "theta": float(0.5 - a if theta is None else th), "inhibition": float(inhibition),
    })
    return out
