"""The reference Diehl & Cook engine: the model as Brian2 equations with units.

The network of :mod:`neurocode.models.diehl_cook.network` written out for Brian2 (>= 2.7):

.. code-block:: text

    excitatory  dv/dt = ((v_rest_e - v) + ge*(e_exc_e - v) + gi*(e_inh_e - v)) / tau_e : volt (unless refractory)
                (ge, gi times c_ge, c_gi in this equation by default: see below)
                dge/dt = -ge/tau_ge : 1
                dgi/dt = -gi/tau_gi : 1
                dtheta/dt = -theta/tau_theta : volt          (learning; else theta : volt)
                threshold  v > theta + v_thresh_e - offset
                           and timestep(t - lastspike, dt) > n_block and alive
                reset      v = v_reset_e; theta += theta_plus (learning); count += int(t < t_stop)
                refractory refrac_e
    inhibitory  the same with tau_i, v_rest_i, e_exc_i, e_inh_i; v > v_thresh_i; v = v_reset_i
    input -> excitatory (all to all, learning)
                w : 1;  dapre/dt = -apre/tau_pre : 1 (event-driven)
                dapost1/dt = -apost1/tau_post1 : 1 (event-driven); dapost2/dt = ... (event-driven)
                on_pre:  ge_post += w; apre = 1; w = clip(w - nu_pre*apost1, 0, wmax)
                on_post: w = clip(w + nu_post*apre*apost2, 0, wmax); apost1 = 1; apost2 = 1
                (frozen: w : 1 and on_pre ge_post += w only)
    excitatory k -> inhibitory k:         on_pre ge_post += w_ei
    inhibitory k -> excitatory m != k:    on_pre gi_post += w_ie

Integration (``model.integrator``) is ``method='exponential_euler'`` for every group, by
default with the conductances in ``v``'s equation scaled by the constants ``c_ge``, ``c_gi``
that make them their exact mean over a step (``(1 - exp(-dt / tau)) tau / dt``); with
``integrator="exponential_euler"`` unscaled (Brian2's plain method), with ``"euler"``
``method='euler'`` (what Brian2's default would pick for these non-linear equations, and what
Brian 1 picked). Refractory periods are given as the step counts of
:meth:`~neurocode.models.diehl_cook.network.DiehlCookModel.step_constants`; Brian 1's
refractoriness (``refractoriness="brian1"``) drops ``(unless refractory)`` from the
excitatory ``v`` and clamps the inhibitory ``v`` one step longer through a custom event
(``v = v_reset_i`` after the resets while ``timestep(t - lastspike, dt) < n_clamp_i``).
The block after a spike (``t_block``, the original's ``timer`` variable) is written with
``lastspike`` and step counts, so it does not depend on how a float timer accumulates.

**Input delays** (``delays``: whole steps per synapse) are the input synapses' ``delay``;
``on_pre`` then runs on arrival (conductance, ``apre``, depression). Spikes in flight at the
end of a ``run`` stay in the pathway's queue for the next one; :meth:`Brian2Engine.reset_state`
empties it (a stimulus from rest has nothing in flight).

**Input.** The input layer is a ``SpikeGeneratorGroup`` fed with the trains of
:mod:`~neurocode.models.diehl_cook.poisson` (the same seeds give the same trains as in the fast
engine); a ``PoissonGroup`` would draw the same process from Brian2's own generator.

**Per-sample steps and standalone mode.** Between presentations the protocol runs Python:
weight normalisation, the next stimulus's spikes, the intensity retry that depends on the
spike count just produced. That is why this engine uses Brian2's *runtime* mode (``numpy`` or
``cython`` target) and calls ``Network.run`` once per presentation on a network built once
(state carried over; frozen runs reset ``v``, the conductances and ``lastspike`` before each
sample). ``cpp_standalone`` compiles one whole ``run`` into a program and cannot branch on a
spike count between presentations without rebuilding, so it is not offered; each
``Network.run`` here pays Brian2's per-run preparation (code objects are regenerated, the
compiled ones come from the cache), which is most of the per-sample time of the ``cython``
target (about 60 ms a sample against 90-145 ms with ``numpy``). ``Network.run`` also starts
with a full ``gc.collect()``, 0.1 s in a process holding torch and pytest; the engine freezes
the objects that exist before the run out of that collection (``gc.freeze``), which changes
nothing else.

**Targets and the compile cache.** ``target="numpy"`` needs no compiler (tests use it);
``target="cython"`` compiles every code object on first use, about 40 s cold for this
network on 2 cores, and caches the extensions on disk under ``cache_dir`` (default: Brian2's own,
``~/.cython/brian_extensions``; the environment variable ``NEUROCODE_BRIAN2_CACHE`` sets
another); later processes load them in a second or two.
"""

from __future__ import annotations

import gc
import os
from dataclasses import asdict
from typing import Any

import numpy as np

from neurocode.models.diehl_cook.network import DiehlCookModel, Protocol
from neurocode.models.diehl_cook.poisson import draw_trains

__all__ = ["Brian2Engine", "TARGETS"]

TARGETS = ("numpy", "cython")

_MS = ("tau_e", "refrac_e", "t_block", "tau_ge", "tau_gi", "tau_theta", "tau_i", "refrac_i",
       "tau_pre", "tau_post1", "tau_post2")
_MV = ("v_rest_e", "v_reset_e", "v_thresh_e", "offset", "e_exc_e", "e_inh_e", "theta_plus",
       "theta_init", "v_rest_i", "v_reset_i", "v_thresh_i", "e_exc_i", "e_inh_i")


def _set_prefs(target: str, cache_dir: str | None) -> None:
    from brian2 import prefs

    prefs.codegen.target = target
    cache_dir = cache_dir or os.environ.get("NEUROCODE_BRIAN2_CACHE")
    if cache_dir:
        os.makedirs(cache_dir, exist_ok=True)
        prefs.codegen.runtime.cython.cache_dir = str(cache_dir)


class Brian2Engine:
    """The network in Brian2, built once; weights and thresholds read and written as arrays.

    Parameters
    ----------
    W : (n_in, n_e) array
        Input weights.
    theta : (n_e,) array
        Adaptive thresholds, mV.
    model, protocol
        :class:`~neurocode.models.diehl_cook.network.DiehlCookModel` and
        :class:`~neurocode.models.diehl_cook.network.Protocol`.
    learning : bool
        STDP and adaptive thresholds (else weights and thresholds are frozen and the input
        synapses have no plasticity code at all).
    target : "numpy" or "cython"
        Brian2 code-generation target.
    cache_dir : str or None
        Where the cython target keeps compiled extensions.
    alive : (n_e,) bool array or None
        Which excitatory neurons may spike (None: all).
    delays : (n_in, n_e) int array or None
        Input synapse delays in whole steps (None: none).
    """

    def __init__(self, W: np.ndarray, theta: np.ndarray,
                 model: DiehlCookModel = DiehlCookModel(),
                 protocol: Protocol = Protocol(),
                 *, learning: bool = True,
                 target: str = "numpy", cache_dir: str | None = None,
                 alive: np.ndarray | None = None, delays: np.ndarray | None = None) -> None:
        if target not in TARGETS:
            raise ValueError(f"target must be one of {TARGETS}, got {target!r}")
        import brian2 as b2

        self.b2 = b2
        self.model, self.protocol, self.learning = model, protocol, learning
        self.target, self.cache_dir = target, cache_dir
        _set_prefs(target, cache_dir)
        W = np.asarray(W, dtype=np.float64)
        n_in, n_e = W.shape
        self.n_in, self.n_e = n_in, n_e
        self.dt_ms = protocol.dt
        dt = protocol.dt * b2.ms
        ns: dict = {}
        for k, v in asdict(model).items():
            ns[k] = v * (b2.ms if k in _MS else b2.mV if k in _MV else 1)
        C = model.step_constants(protocol.dt)
        for k in ("integrator", "refractoriness"):
            del ns[k]
        ns["n_block"] = C.n_block
        ns["refrac_e"] = C.n_ref_e * dt  # the engines' step counts, as times
        ns["refrac_i"] = C.n_ref_i * dt
        ns["n_clamp_i"] = C.n_clamp_i
        ns["c_ge"], ns["c_gi"] = C.c_ge, C.c_gi
        self.namespace = ns
        method = "euler" if model.integrator == "euler" else "exponential_euler"
        mean = model.integrator == "exponential"  # conductances times their step-mean factor
        ge_, gi_ = ("c_ge * ge", "c_gi * gi") if mean else ("ge", "gi")
        hold_e = " (unless refractory)" if C.hold_e else ""

        theta_eq = ("dtheta/dt = -theta / tau_theta : volt" if learning else "theta : volt")
        eqs_e = f"""
        dv/dt = ((v_rest_e - v) + {ge_} * (e_exc_e - v) + {gi_} * (e_inh_e - v)) / tau_e : volt{hold_e}
        dge/dt = -ge / tau_ge : 1
        dgi/dt = -gi / tau_gi : 1
        {theta_eq}
        alive : boolean
        count : integer
        t_stop : second (shared)
        """
        eqs_i = f"""
        dv/dt = ((v_rest_i - v) + {ge_} * (e_exc_i - v) + {gi_} * (e_inh_i - v)) / tau_i : volt (unless refractory)
        dge/dt = -ge / tau_ge : 1
        dgi/dt = -gi / tau_gi : 1
        """
        reset_e = "v = v_reset_e\n" + ("theta += theta_plus\n" if learning else "") \
            + "count += int(t < t_stop)"
        self.inp = b2.SpikeGeneratorGroup(n_in, np.zeros(0, dtype=int), np.zeros(0) * b2.ms,
                                          dt=dt, name="dc_input*")
        self.exc = b2.NeuronGroup(
            n_e, eqs_e, method=method, dt=dt, refractory="refrac_e", reset=reset_e,
            threshold="v > theta + v_thresh_e - offset and "
                      "timestep(t - lastspike, dt) > n_block and alive",
            name="dc_exc*")
        clamp = ({"events": {"clamp": "timestep(t - lastspike, dt) < n_clamp_i"}}
                 if C.n_clamp_i > C.n_ref_i else {})
        self.inh = b2.NeuronGroup(n_e, eqs_i, method=method, dt=dt, refractory="refrac_i",
                                  threshold="v > v_thresh_i", reset="v = v_reset_i",
                                  name="dc_inh*", **clamp)
        if clamp:  # Brian 1's Refractoriness: v back to v_reset_i after the resets
            self.inh.run_on_event("clamp", "v = v_reset_i", when="after_resets")
        if learning:
            self.syn = b2.Synapses(
                self.inp, self.exc, dt=dt, name="dc_input_exc*",
                model="""w : 1
                         dapre/dt = -apre / tau_pre : 1 (event-driven)
                         dapost1/dt = -apost1 / tau_post1 : 1 (event-driven)
                         dapost2/dt = -apost2 / tau_post2 : 1 (event-driven)""",
                on_pre="ge_post += w\napre = 1\nw = clip(w - nu_pre * apost1, 0, wmax)",
                on_post="w = clip(w + nu_post * apre * apost2, 0, wmax)\n"
                        "apost1 = 1\napost2 = 1")
        else:
            self.syn = b2.Synapses(self.inp, self.exc, "w : 1", on_pre="ge_post += w", dt=dt,
                                   name="dc_input_exc*")
        self.syn.connect()
        self.ei = b2.Synapses(self.exc, self.inh, on_pre="ge_post += w_ei", dt=dt, name="dc_ei*")
        self.ei.connect(j="i")
        self.ie = b2.Synapses(self.inh, self.exc, on_pre="gi_post += w_ie", dt=dt, name="dc_ie*")
        self.ie.connect(condition="i != j")
        self.net = b2.Network(self.inp, self.exc, self.inh, self.syn, self.ei, self.ie)
        self._si = np.asarray(self.syn.i[:])
        self._sj = np.asarray(self.syn.j[:])
        self.set_weights(W)
        self.max_delay = 0
        if delays is not None:
            delays = np.asarray(delays)
            if delays.shape != W.shape or (delays.size and delays.min() < 0):
                raise ValueError(f"delays must be whole steps >= 0 of the weights' shape "
                                 f"{W.shape}, got shape {delays.shape}")
            self.syn.delay[:] = delays[self._si, self._sj] * dt
            self.max_delay = int(delays.max(initial=0))
        self.set_theta(theta)
        self.set_alive(np.ones(n_e, dtype=bool) if alive is None else alive)
        self.reset_state()

    # -- state --------------------------------------------------------------------------
    @property
    def step(self) -> int:
        """The current time step of the network's clock."""
        return int(round(float(self.net.t / self.b2.second) * 1000.0 / self.dt_ms))

    def get_weights(self) -> np.ndarray:
        """The input -> excitatory weights as a dense ``(n_in, n_e)`` array (a copy)."""
        W = np.empty((self.n_in, self.n_e))
        W[self._si, self._sj] = np.asarray(self.syn.w[:])
        return W

    def set_weights(self, W: np.ndarray) -> None:
        """Set the input -> excitatory weights from a dense ``(n_in, n_e)`` array."""
        self.syn.w[:] = np.asarray(W, dtype=np.float64)[self._si, self._sj]

    def get_theta(self) -> np.ndarray:
        """Thresholds in mV."""
        return np.asarray(self.exc.theta[:] / self.b2.mV)

    def set_theta(self, theta: np.ndarray) -> None:
        """Set the excitatory neurons' adaptive thresholds ``theta``, in mV."""
        self.exc.theta[:] = np.asarray(theta, dtype=np.float64) * self.b2.mV

    def set_alive(self, alive: np.ndarray) -> None:
        """Set which excitatory neurons may spike: boolean ``(n_e,)``, False = silenced."""
        self.exc.alive[:] = np.asarray(alive, dtype=bool)

    def reset_state(self, v_offset: float = 0.0) -> None:
        """Rest (``v = v_rest + v_offset``), no conductance, no refractory neuron, traces 0, no
        input spike in flight."""
        b2, m = self.b2, self.model
        queue = getattr(self.syn.pre, "queue", None)
        if self.max_delay and queue is not None:
            offset, buckets = queue._full_state()
            queue._restore_from_full_state((offset, [[] for _ in buckets]))
        for g, v_rest in ((self.exc, m.v_rest_e), (self.inh, m.v_rest_i)):
            g.v[:] = (v_rest + v_offset) * b2.mV
            g.ge[:] = 0.0
            g.gi[:] = 0.0
            g.lastspike[:] = -1e4 * b2.second
            g.not_refractory[:] = True
        if self.learning:
            self.syn.apre[:] = 0.0
            self.syn.apost1[:] = 0.0
            self.syn.apost2[:] = 0.0

    def normalise(self) -> None:
        """Scale each excitatory neuron's incoming weights to sum to ``protocol.w_sum`` (a neuron
        whose weights are all 0 stays as it is), as before every learning presentation."""
        W = self.get_weights()
        sums = W.sum(axis=0)
        W *= np.where(sums > 0, self.protocol.w_sum / np.where(sums > 0, sums, 1.0), 1.0)
        self.set_weights(W)

    # -- running ------------------------------------------------------------------------
    def present(self, ptr: np.ndarray, idx: np.ndarray, n_present: int, n_total: int) -> np.ndarray:
        """Run ``n_total`` steps with the given input train (step ``s`` of it is the network's
        step ``self.step + s``); spike counts of the first ``n_present`` steps."""
        b2 = self.b2
        _set_prefs(self.target, self.cache_dir)
        start = self.step
        steps = np.repeat(np.arange(len(ptr) - 1), np.diff(ptr))
        self.inp.set_spikes(np.asarray(idx, dtype=int), (start + steps) * self.dt_ms * b2.ms)
        self.exc.count[:] = 0
        self.exc.t_stop = (start + n_present) * self.dt_ms * b2.ms
        # Network.run starts with gc.collect(), which walks every object of the process (0.1 s
        # a call in a process with torch and pytest loaded); objects that exist before the run
        # cannot be the run's garbage, so they are frozen out of that collection
        gc.freeze()
        try:
            self.net.run(n_total * self.dt_ms * b2.ms, namespace=self.namespace)
        finally:
            gc.unfreeze()
        return np.asarray(self.exc.count[:], dtype=np.int64)

    def train(self, X255: np.ndarray, seeds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The training protocol over the rows of ``X255`` (as the fast engine's ``train``)."""
        if not self.learning:
            raise RuntimeError("this Brian2 network was built without plasticity")
        P = self.protocol
        counts = np.zeros((len(X255), self.n_e), dtype=np.int64)
        intensity = np.zeros(len(X255))
        for b, x in enumerate(np.asarray(X255, dtype=np.float64)):
            counts[b], intensity[b] = self._with_retries(x, seeds[b], self.normalise,
                                                         P.n_present + P.n_rest)
        return counts, intensity

    def _with_retries(self, x: np.ndarray, seed: Any, prepare: Any, n_steps: int):
        """Present one image, raising the intensity by 1 while it evokes fewer than
        ``min_spikes`` spikes (at most ``max_retries`` times); ``prepare()`` runs before each
        presentation. Returns the spike counts and the intensity used."""
        P = self.protocol
        any_alive = bool(np.asarray(self.exc.alive[:]).any())
        level = float(P.intensity)
        for attempt in range(P.max_retries + 1):
            prepare()
            p = x * P.rate_scale * level * P.dt * 1e-3
            ptr, idx = draw_trains(p, P.n_present, seed, attempt)
            c = self.present(ptr, idx, P.n_present, n_steps)
            if c.sum() >= P.min_spikes or not any_alive or attempt == P.max_retries:
                break
            level += 1.0
        return c, level

    def frozen_counts(self, X255: np.ndarray, seeds: np.ndarray,
                      alive: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Spike counts with frozen weights, one sample at a time, each from rest."""
        if self.learning:
            raise RuntimeError("this Brian2 network was built with plasticity: build one with "
                               "learning=False for frozen runs")
        P = self.protocol
        if alive is not None:
            self.set_alive(alive)
        counts = np.zeros((len(X255), self.n_e), dtype=np.int64)
        intensity = np.zeros(len(X255))
        for b, x in enumerate(np.asarray(X255, dtype=np.float64)):
            counts[b], intensity[b] = self._with_retries(x, seeds[b], self.reset_state,
                                                         P.n_present)
        return counts, intensity
