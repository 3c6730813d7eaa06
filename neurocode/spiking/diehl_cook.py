"""The Diehl & Cook (2015) network as data: constants and presentation protocol.

Source: P. U. Diehl and M. Cook (2015), "Unsupervised learning of digit recognition using
spike-timing-dependent plasticity", Frontiers in Computational Neuroscience 9:99, and the
authors' Brian 1 code (``Diehl_and_Cook_spiking_MNIST.py``), whose values are the defaults
here. Times are in ms, potentials in mV, conductances in units of the leak conductance
(dimensionless), rates in Hz. Both engines (:mod:`~neurocode.spiking.fast_engine`,
:mod:`~neurocode.spiking.brian2_engine`) read these records; neither has constants of its own.

One time step of ``dt``, in the order of Brian2's default schedule (which the fast engine
copies):

1. **groups** -- forward-Euler update of every state variable from its value at the start of
   the step (``x <- x + dt f(x)``). ``v`` is held while a neuron is refractory;
2. **thresholds** -- spikes: input trains, excitatory ``v > theta + v_thresh_e - offset``
   (and not blocked, not refractory, not silenced), inhibitory ``v > v_thresh_i``;
3. **synapses** -- presynaptic pathways first (input: ``ge += w``, ``pre = 1``, depression;
   E->I: ``ge_i += w_ei``; I->E: ``gi_e += w_ie`` on every other excitatory neuron), then the
   postsynaptic pathway of the plastic synapses (potentiation, ``post1 = post2 = 1``);
4. **resets** -- ``v = v_reset`` (and, learning, ``theta += theta_plus``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import NamedTuple

__all__ = ["DiehlCookModel", "Protocol", "StepConstants", "timestep"]


def timestep(t_ms: float, dt_ms: float) -> int:
    """Number of whole steps in ``t_ms`` (Brian2's ``timestep``: ``int((t + 1e-3 dt) / dt)``)."""
    return int((t_ms + 1e-3 * dt_ms) / dt_ms)


@dataclass(frozen=True)
class DiehlCookModel:
    """Neurons, synapses and plasticity of the network (the original code's values).

    Excitatory neuron (conductance-based LIF with adaptive threshold)::

        tau_e dv/dt = (v_rest_e - v) + ge (e_exc_e - v) + gi (e_inh_e - v)   (held while refractory)
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

    def replace(self, **changes: float) -> DiehlCookModel:
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
        """The record the numba engine reads (the model plus step counts for ``dt``)."""
        return StepConstants(dt=float(dt), n_ref_e=timestep(self.refrac_e, dt),
                             n_ref_i=timestep(self.refrac_i, dt),
                             n_block=timestep(self.t_block, dt),
                             **{k: float(v) for k, v in asdict(self).items()
                                if k not in ("refrac_e", "refrac_i", "t_block")})


class StepConstants(NamedTuple):
    """:class:`DiehlCookModel` for one ``dt``, refractory and block periods as step counts
    (a named tuple, so numba reads it by field)."""

    dt: float
    n_ref_e: int
    n_ref_i: int
    n_block: int
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
