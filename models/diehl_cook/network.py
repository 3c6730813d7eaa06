"""The Diehl & Cook (2015) network as data: constants and presentation protocol.

Source: P. U. Diehl and M. Cook (2015), "Unsupervised learning of digit recognition using
spike-timing-dependent plasticity", Frontiers in Computational Neuroscience 9:99, and the
authors' Brian 1 code (``Diehl_and_Cook_spiking_MNIST.py``), whose values are the defaults
here. Times are in ms, potentials in mV, conductances in units of the leak conductance
(dimensionless), rates in Hz. The engines (:mod:`~neurocode.models.diehl_cook.fast_engine`,
:mod:`~neurocode.models.diehl_cook.brian2_engine`, :mod:`~neurocode.models.diehl_cook.torch_engine`)
read these records; none has constants of its own.

One time step of ``dt``, in the order of Brian2's default schedule (which the fast engine
copies):

1. **groups** -- every state variable advances one step from the values at the start of the
   step. By default (``integrator="exponential"``, Brian2's ``exponential_euler``) the
   conductances and ``theta`` decay exactly (``g <- g exp(-dt / tau)``) and ``v`` takes the
   exact solution of its equation with the conductances held at their start-of-step values,
   ``v <- v_inf + (v - v_inf) exp(-dt (1 + ge + gi) / tau)``: ``v`` moves monotonically
   towards ``v_inf``, a weighted mean of the rest and reversal potentials, so no step can
   overshoot, whatever the conductances. ``integrator="euler"`` is forward Euler
   (``x <- x + dt f(x)``), what the original Brian 1 code used (Brian 1 integrates exactly
   only linear equations, and ``ge v`` makes these non-linear); it overshoots once
   ``dt (1 + ge + gi) / tau > 1`` and diverges above 2, which at ``dt = 0.5`` ms takes 24
   inhibitory spikes in one step (``gi > 399``): large networks do that, and then run away.
   ``v`` is held while a neuron is refractory (see ``refractoriness`` for Brian 1's rule);
2. **thresholds** -- spikes: input trains, excitatory ``v > theta + v_thresh_e - offset``
   (and not blocked, not refractory, not silenced), inhibitory ``v > v_thresh_i``;
3. **synapses** -- presynaptic pathways first (input: ``ge += w``, ``pre = 1``, depression;
   E->I: ``ge_i += w_ei``; I->E: ``gi_e += w_ie`` on every other excitatory neuron), then the
   postsynaptic pathway of the plastic synapses (potentiation, ``post1 = post2 = 1``);
4. **resets** -- ``v = v_reset`` (and, learning, ``theta += theta_plus``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import NamedTuple

import numpy as np

__all__ = ["DiehlCookModel", "INTEGRATORS", "Protocol", "REFRACTORINESS", "StepConstants",
           "delay_steps", "max_delay_steps", "timestep"]

#: how the groups' equations advance one step (see the module docstring)
INTEGRATORS = ("exponential", "exponential_euler", "euler")
#: what a refractory period does (see :class:`DiehlCookModel`)
REFRACTORINESS = ("hold", "brian1")


def timestep(t_ms: float, dt_ms: float) -> int:
    """Number of whole steps in ``t_ms`` (Brian2's ``timestep``: ``int((t + 1e-3 dt) / dt)``)."""
    return int((t_ms + 1e-3 * dt_ms) / dt_ms)


def delay_steps(n_in: int, n_e: int, delay_max: float, dt: float,
                rng: np.random.Generator) -> np.ndarray:
    """Random fixed input delays as the original draws them, in whole steps of ``dt``.

    Each synapse gets ``d ~ U(0, delay_max)`` ms (Brian 1's ``delay=(0 ms, 10 ms)``), which
    Brian 1's ``DelayConnection`` turns into ``int(d / dt)`` steps: 0 to
    ``ceil(delay_max / dt) - 1``. Returns an ``(n_in, n_e)`` int32 array.

    Examples
    --------
    >>> import numpy as np
    >>> D = delay_steps(784, 10, 10.0, 0.5, np.random.default_rng(0))
    >>> print(D.min(), D.max(), D.dtype)
    0 19 int32
    """
    if not delay_max > 0.0:
        raise ValueError(f"delay_max must be > 0 ms, got {delay_max!r}")
    d = rng.random((n_in, n_e)) * float(delay_max)
    return np.minimum(np.floor(d / dt), max_delay_steps(delay_max, dt)).astype(np.int32)


def max_delay_steps(delay_max: float, dt: float) -> int:
    """The largest delay :func:`delay_steps` can draw: ``ceil(delay_max / dt) - 1`` steps."""
    return max(0, math.ceil(delay_max / dt - 1e-9) - 1)


@dataclass(frozen=True)
class DiehlCookModel:
    """Neurons, synapses and plasticity of the network (the original code's values).

    Excitatory neuron (conductance-based LIF with adaptive threshold)::

        tau_e dv/dt = (v_rest_e - v) + ge (e_exc_e - v) + gi (e_inh_e - v)
        dge/dt = -ge / tau_ge,   dgi/dt = -gi / tau_gi,   dtheta/dt = -theta / tau_theta
        spike:  v > theta + v_thresh_e - offset, at least refrac_e and more than t_block
                after its last spike;  reset: v = v_reset_e, theta += theta_plus

    ``t_block`` is the original's ``timer`` (``dtimer/dt = 100.0 : ms``, reset to 0 at a spike,
    spiking allowed while ``timer > 5 ms``). Brian 1 integrates in SI units, so the timer grows
    by 100 s per second and passes 5 ms 0.05 ms after the spike, within the first step: it
    blocks nothing that the 5 ms refractory period does not already block, hence the default
    ``t_block = 0.05``. Brian2 ports that write ``dtimer/dt = 0.1 : second`` turn it into a
    50 ms block (``t_block = 50``), which fires fewer spikes per neuron and learns more slowly
    (MNIST, 100 neurons, one pass: 69.2 % test accuracy against 74.0 % with the default).

    Inhibitory neuron: the same with ``tau_i``, ``v_rest_i``, ``e_exc_i``, ``e_inh_i``, spike
    ``v > v_thresh_i`` (refractory ``refrac_i``), reset ``v = v_reset_i``, no ``theta``.

    Synapses: input -> excitatory all-to-all, plastic weights ``w`` in ``[0, wmax]``
    (``ge += w``); excitatory ``k`` -> inhibitory ``k`` (``ge += w_ei``); inhibitory ``k`` ->
    every excitatory ``m != k`` (``gi += w_ie``).

    STDP (traces set to 1 at a spike, exponential decay; original sign)::

        input spike:       pre = 1;  w <- clip(w - nu_pre * post1, 0, wmax)
        excitatory spike:  w <- clip(w + nu_post * pre * post2, 0, wmax);  post1 = post2 = 1
                           (post2 read before it is set)

    With input delays (an array the engines take beside the weights, drawn by
    :func:`delay_steps`) an input spike reaches synapse ``ij`` ``D_ij`` steps after it was
    emitted, and everything the spike does at that synapse happens on arrival, as Brian2's
    ``on_pre`` with a synaptic ``delay`` has it: ``ge += w`` (the weight at arrival), the
    synapse's own ``pre`` trace is set, and it is depressed with ``post1`` at arrival; an
    excitatory spike potentiates each synapse with that synapse's ``pre`` trace.

    ``integrator``: ``"exponential"`` (default) or ``"euler"``, see the module docstring.

    ``refractoriness``: ``"hold"`` (default, Brian2's ``(unless refractory)``): ``v`` stays at
    its reset value for ``refrac`` (``timestep(refrac, dt)`` steps, 10 for 5 ms at 0.5 ms)
    and the neuron cannot spike. ``"brian1"``: what Brian 1 did with the original script.
    Its excitatory reset is a string (``'v = v_reset_e; theta += ...'``), and Brian 1's
    ``NeuronGroup`` clamps nothing after a string reset: ``v`` integrates freely from
    ``v_reset_e`` and only spiking is blocked, for ``ceil(refrac_e / dt - 1/2)`` steps (its
    ``_next_allowed_spiketime = t + refrac - dt / 2``; 10 steps at 0.5 ms). Its inhibitory
    reset is a number, which Brian 1 turns into ``Refractoriness``: spiking is blocked for
    ``ceil(refrac_i / dt - 1/2)`` steps and ``v`` clamped at ``v_reset_i`` for
    ``int(refrac_i / dt) + 1`` (5 at 0.5 ms: one step longer than "hold", the last of them
    after a free update that the threshold sees).
    """

    # excitatory neurons
    tau_e: float = 100.0
    v_rest_e: float = -65.0
    v_reset_e: float = -65.0
    v_thresh_e: float = -52.0
    offset: float = 20.0
    e_exc_e: float = 0.0
    e_inh_e: float = -100.0
    refrac_e: float = 5.0
    t_block: float = 0.05
    tau_ge: float = 1.0
    tau_gi: float = 2.0
    theta_plus: float = 0.05
    tau_theta: float = 1e7
    theta_init: float = 20.0
    # inhibitory neurons
    tau_i: float = 10.0
    v_rest_i: float = -60.0
    v_reset_i: float = -45.0
    v_thresh_i: float = -40.0
    e_exc_i: float = 0.0
    e_inh_i: float = -85.0
    refrac_i: float = 2.0
    # fixed synapses
    w_ei: float = 10.4
    w_ie: float = 17.0
    # plastic synapses
    nu_pre: float = 1e-4
    nu_post: float = 1e-2
    tau_pre: float = 20.0
    tau_post1: float = 20.0
    tau_post2: float = 40.0
    wmax: float = 1.0
    # how the equations are stepped and what refractoriness does
    integrator: str = "exponential"
    refractoriness: str = "hold"

    def __post_init__(self) -> None:
        if self.integrator not in INTEGRATORS:
            raise ValueError(f"DiehlCookModel integrator must be one of {INTEGRATORS}, "
                             f"got {self.integrator!r}")
        if self.refractoriness not in REFRACTORINESS:
            raise ValueError(f"DiehlCookModel refractoriness must be one of {REFRACTORINESS}, "
                             f"got {self.refractoriness!r}")

    def replace(self, **changes: float | str) -> DiehlCookModel:
        """A copy of the model with the given constants changed, e.g.
        ``model.replace(t_block=50.0)``."""
        d = asdict(self)
        d.update(changes)
        return DiehlCookModel(**d)

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The names of the model's constants (its fields), in the order they are declared."""
        return tuple(f.name for f in fields(cls))

    def step_constants(self, dt: float) -> StepConstants:
        """The record the engines read (the model plus step counts for ``dt``)."""
        brian1 = self.refractoriness == "brian1"
        if brian1:
            n_ref_e, _ = _brian1_counts(self.refrac_e, dt)  # a string reset: no clamp
            n_ref_i, n_clamp_i = _brian1_counts(self.refrac_i, dt)
        else:
            n_ref_e, n_ref_i = timestep(self.refrac_e, dt), timestep(self.refrac_i, dt)
            n_clamp_i = n_ref_i
        return StepConstants(dt=float(dt), n_ref_e=n_ref_e, n_ref_i=n_ref_i,
                             n_block=timestep(self.t_block, dt),
                             exact=self.integrator != "euler", hold_e=not brian1,
                             n_clamp_i=n_clamp_i, c_ge=_mean_factor(self, "tau_ge", dt),
                             c_gi=_mean_factor(self, "tau_gi", dt),
                             **{k: float(v) for k, v in asdict(self).items()
                                if k not in ("refrac_e", "refrac_i", "t_block", "integrator",
                                             "refractoriness")})


def _mean_factor(model: DiehlCookModel, tau: str, dt: float) -> float:
    if model.integrator != "exponential":
        return 1.0
    value = getattr(model, tau)
    return float(-np.expm1(-dt / value) * value / dt)


def _brian1_counts(refrac: float, dt: float) -> tuple[int, int]:
    """Brian 1's refractoriness in steps: (steps before the next spike, steps ``v`` is clamped).

    Brian 1's ``NeuronGroup`` lets a neuron spike again once ``t >= t_spike + refrac - dt/2``
    (``_next_allowed_spiketime``), and its ``Refractoriness`` clamps the neurons that spiked
    in the last ``int(refrac / dt) + 1`` steps; a period under ``0.9 dt`` is no period."""
    if refrac < 0.9 * dt:
        return 0, 0
    return math.ceil(refrac / dt - 0.5 - 1e-9), int(refrac / dt + 1e-9) + 1


class StepConstants(NamedTuple):
    """:class:`DiehlCookModel` for one ``dt``, refractory and block periods as step counts
    (a named tuple, so numba reads it by field).

    ``n_ref_e``, ``n_ref_i``: steps after a spike before the neuron may spike again;
    ``exact``: exponential-Euler steps (else forward Euler); ``hold_e``: the excitatory
    ``v`` is held while refractory (else it runs free, Brian 1); ``n_clamp_i``: the
    inhibitory ``v`` is set back to ``v_reset_i`` at the end of every step less than this many
    steps after its spike (``n_ref_i`` when held, where it changes nothing)."""

    dt: float
    n_ref_e: int
    n_ref_i: int
    n_block: int
    exact: bool
    hold_e: bool
    n_clamp_i: int
    c_ge: float
    c_gi: float
    tau_e: float
    v_rest_e: float
    v_reset_e: float
    v_thresh_e: float
    offset: float
    e_exc_e: float
    e_inh_e: float
    tau_ge: float
    tau_gi: float
    theta_plus: float
    tau_theta: float
    theta_init: float
    tau_i: float
    v_rest_i: float
    v_reset_i: float
    v_thresh_i: float
    e_exc_i: float
    e_inh_i: float
    w_ei: float
    w_ie: float
    nu_pre: float
    nu_post: float
    tau_pre: float
    tau_post1: float
    tau_post2: float
    wmax: float


@dataclass(frozen=True)
class Protocol:
    """How stimuli are shown (the original's values).

    A stimulus ``x`` (pixels in 0..255) drives input ``i`` as a Poisson train of rate
    ``x_i / 8 * intensity`` Hz for ``t_present`` ms; then the input is silent for ``t_rest``
    ms. Before every presentation (learning only) each excitatory neuron's incoming weights
    are scaled to sum to ``w_sum``. A presentation that evokes fewer than ``min_spikes``
    excitatory spikes is repeated with ``intensity + 1`` (at most ``max_retries`` times; the
    original has no cap).
    """

    dt: float = 0.5
    t_present: float = 350.0
    t_rest: float = 150.0
    intensity: float = 2.0
    rate_scale: float = 1.0 / 8.0
    min_spikes: int = 5
    max_retries: int = 10
    w_sum: float = 78.0

    @property
    def n_present(self) -> int:
        """Time steps of one presentation: ``t_present`` in whole steps of ``dt``."""
        return timestep(self.t_present, self.dt)

    @property
    def n_rest(self) -> int:
        """Time steps of the rest after a presentation: ``t_rest`` in whole steps of ``dt``."""
        return timestep(self.t_rest, self.dt)
