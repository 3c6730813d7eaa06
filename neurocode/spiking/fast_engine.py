"""The fast Diehl & Cook engine: numba, event-driven, one step function for every mode.

Why numba and not torch: a training sample is 1,000 sequential steps of 0.5 ms in which
STDP changes the weights at every spike, so it cannot be batched over samples, and a Python
loop launching a dozen tensor operations per step costs ~10 us per operation, i.e. >100 ms a
sample. Compiled loops cost what the events cost: per step, ``n_e`` excitatory and ``n_e``
inhibitory Euler updates, one weight row added per input spike (a few per step on MNIST:
most pixels are black, so their inputs never spike), one row of depression per input spike
and one column of potentiation per excitatory spike. That is about 0.4 ms per training
sample and 0.2 ms per frozen test sample for ``n_e = 100`` on one core
(``benchmarks/bench_spiking.py``: 150-330 times Brian2's cython and numpy targets). With frozen weights the samples are independent and
:func:`run_frozen` spreads them over threads (``prange``); each sample's input train comes
from its own seed (:mod:`neurocode.spiking.poisson`), so results do not depend on the thread
count or the batch.

The step (:func:`simulate`) follows Brian2's default schedule and forward-Euler updates
exactly as written in :mod:`neurocode.spiking.diehl_cook`, so that the Brian2 engine is a
reference it can be compared with spike for spike. STDP traces are event-driven as in Brian2:
a trace is ``exp(-(t - t_last) / tau)`` of its last spike time (looked up in a table), so
only the weights that an event touches are read or written.

State of a network (arrays, changed in place):

``W``      (n_in, n_e) input weights (row ``i``: the weights of input ``i``)
``theta``  (n_e,) adaptive thresholds, mV
``S``      (6, n_e) float: ``v_e, ge_e, gi_e, v_i, ge_i, gi_i``
``L``      (3, n_e) int: last spike step of each excitatory and inhibitory neuron (refractory
           and block periods), and of each excitatory neuron's STDP traces
``pre``    (n_in,) int: last spike step of each input (its STDP trace)
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from neurocode.spiking.diehl_cook import DiehlCookModel, Protocol
from neurocode.spiking.poisson import mix, poisson_trains

__all__ = ["FastEngine", "decay_table", "normalise_columns", "run_frozen", "simulate",
           "train_samples"]

#: "never spiked": a last-spike step far enough back for every period and trace to be over
NEVER = -(2 ** 40)


def decay_table(tau: float, dt: float) -> np.ndarray:
    """``exp(-k dt / tau)`` for ``k = 0, 1, ...`` until it underflows (last entry 0)."""
    k = np.arange(int(745.0 * tau / dt) + 2)
    out = np.exp(-(k * dt) / tau)
    out[-1] = 0.0
    return out


@njit(cache=True, inline="always")
def _trace(table, d):
    return table[d] if d < table.shape[0] else 0.0


@njit(cache=True)
def normalise_columns(W, w_sum):
    """Scale each column (one excitatory neuron's incoming weights) to sum to ``w_sum``."""
    n_in, n_e = W.shape
    sums = np.zeros(n_e)
    for i in range(n_in):
        for j in range(n_e):
            sums[j] += W[i, j]
    for j in range(n_e):
        sums[j] = w_sum / sums[j] if sums[j] > 0.0 else 1.0
    for i in range(n_in):
        for j in range(n_e):
            W[i, j] *= sums[j]


@njit(cache=True)
def simulate(W, theta, S, L, pre, t0, ptr, idx, n_present, n_total, C, learn, alive,
             dec_pre, dec_post1, dec_post2, counts):
    """Run ``n_total`` steps from global step ``t0``; input spikes ``idx[ptr[s]:ptr[s+1]]`` in
    the first ``n_present`` steps. Adds each excitatory neuron's spikes in those steps to
    ``counts``. ``learn``: STDP and adaptive ``theta`` on (else ``W`` and ``theta`` are only
    read). ``alive`` False: the neuron never spikes."""
    n_in, n_e = W.shape
    ve, gee, gie, vi, gei, gii = S[0], S[1], S[2], S[3], S[4], S[5]
    last_e, last_i, post_last = L[0], L[1], L[2]
    dt = C.dt
    thr_e = C.v_thresh_e - C.offset
    spk_e = np.empty(n_e, dtype=np.int64)
    spk_i = np.empty(n_e, dtype=np.int64)
    post1 = np.empty(n_e)
    # loop invariants, in the form of Brian2's generated Euler code
    a_e = dt / C.tau_e
    a_i = dt / C.tau_i
    a_ge = -dt / C.tau_ge
    a_gi = -dt / C.tau_gi
    a_th = -dt / C.tau_theta
    for s in range(n_total):
        t = t0 + s
        # -- groups: forward Euler from the values at the start of the step
        for j in range(n_e):
            v = ve[j]
            ge = gee[j]
            gi = gie[j]
            if t - last_e[j] >= C.n_ref_e:
                ve[j] = a_e * ((C.v_rest_e + (ge * (C.e_exc_e - v) + gi * (C.e_inh_e - v))) - v) + v
            gee[j] = a_ge * ge + ge
            gie[j] = a_gi * gi + gi
            if learn:
                theta[j] = a_th * theta[j] + theta[j]
            v = vi[j]
            ge = gei[j]
            gi = gii[j]
            if t - last_i[j] >= C.n_ref_i:
                vi[j] = a_i * ((C.v_rest_i + (ge * (C.e_exc_i - v) + gi * (C.e_inh_i - v))) - v) + v
            gei[j] = a_ge * ge + ge
            gii[j] = a_gi * gi + gi
        # -- thresholds
        ne = 0
        for j in range(n_e):
            since = t - last_e[j]
            if alive[j] and ve[j] > theta[j] + thr_e and since > C.n_block and since >= C.n_ref_e:
                spk_e[ne] = j
                ne += 1
                last_e[j] = t
        ni = 0
        for k in range(n_e):
            if vi[k] > C.v_thresh_i and t - last_i[k] >= C.n_ref_i:
                spk_i[ni] = k
                ni += 1
                last_i[k] = t
        # -- synapses: presynaptic pathways
        if s < n_present and ptr[s + 1] > ptr[s]:
            if learn:
                for j in range(n_e):
                    post1[j] = _trace(dec_post1, t - post_last[j])
            for q in range(ptr[s], ptr[s + 1]):
                i = idx[q]
                for j in range(n_e):
                    gee[j] += W[i, j]
                if learn:
                    pre[i] = t
                    for j in range(n_e):
                        w = W[i, j] - C.nu_pre * post1[j]
                        W[i, j] = 0.0 if w < 0.0 else (C.wmax if w > C.wmax else w)
        for q in range(ne):
            gei[spk_e[q]] += C.w_ei
        for q in range(ni):
            k = spk_i[q]
            for m in range(n_e):
                if m != k:
                    gie[m] += C.w_ie
        # -- synapses: postsynaptic pathway of the plastic synapses
        if learn:
            for q in range(ne):
                j = spk_e[q]
                a = C.nu_post * _trace(dec_post2, t - post_last[j])
                for i in range(n_in):
                    w = W[i, j] + a * _trace(dec_pre, t - pre[i])
                    W[i, j] = 0.0 if w < 0.0 else (C.wmax if w > C.wmax else w)
                post_last[j] = t
        # -- resets
        for q in range(ne):
            j = spk_e[q]
            ve[j] = C.v_reset_e
            if learn:
                theta[j] += C.theta_plus
            if s < n_present:
                counts[j] += 1
        for q in range(ni):
            vi[spk_i[q]] = C.v_reset_i


@njit(cache=True)
def _rest_state(S, L, C):
    S[0, :] = C.v_rest_e
    S[3, :] = C.v_rest_i
    S[1, :] = 0.0
    S[2, :] = 0.0
    S[4, :] = 0.0
    S[5, :] = 0.0
    L[:, :] = NEVER


@njit(cache=True)
def train_samples(W, theta, S, L, pre, clock, X, seeds, C, dt, n_present, n_rest, intensity0,
                  rate_scale, min_spikes, max_retries, w_sum, alive, dec_pre, dec_post1,
                  dec_post2, counts_out, intensity_out):
    """Learn from the rows of ``X`` (pixel values 0..255) in order, one presentation at a time.

    For each: normalise ``W``'s columns to ``w_sum``; draw the input train (rates
    ``x * rate_scale * intensity`` Hz, seed ``mix(seeds[b], attempt)``); simulate
    ``n_present + n_rest`` steps with STDP; if fewer than ``min_spikes`` excitatory spikes,
    raise the intensity by 1 and repeat (at most ``max_retries`` times). ``clock[0]`` is the
    global step, advanced in place. Writes each sample's spike counts (of its last
    presentation) and final intensity.
    """
    B, n_in = X.shape
    n_e = W.shape[1]
    p = np.empty(n_in)
    counts = np.zeros(n_e, dtype=np.int64)
    any_alive = False
    for j in range(n_e):
        any_alive = any_alive or alive[j]
    for b in range(B):
        intensity = intensity0
        for attempt in range(max_retries + 1):
            normalise_columns(W, w_sum)
            for i in range(n_in):
                p[i] = X[b, i] * rate_scale * intensity * dt * 1e-3
            ptr, idx = poisson_trains(p, n_present, mix(seeds[b], attempt))
            counts[:] = 0
            simulate(W, theta, S, L, pre, clock[0], ptr, idx, n_present, n_present + n_rest,
                     C, True, alive, dec_pre, dec_post1, dec_post2, counts)
            clock[0] += n_present + n_rest
            if counts.sum() >= min_spikes or not any_alive or attempt == max_retries:
                break
            intensity += 1.0
        counts_out[b, :] = counts
        intensity_out[b] = intensity


@njit(cache=True, parallel=True)
def run_frozen(W, theta, X, seeds, C, dt, n_present, intensity0, rate_scale, min_spikes,
               max_retries, alive, counts_out, intensity_out):
    """Spike counts of every row of ``X`` (pixels 0..255) with frozen weights, in parallel.

    Each sample starts from rest (``v = v_rest``, conductances 0, no neuron refractory or
    blocked) and is presented for ``n_present`` steps, with the same intensity retries as in
    training (seed ``mix(seeds[b], attempt)``).
    """
    B, n_in = X.shape
    n_e = W.shape[1]
    any_alive = False
    for j in range(n_e):
        any_alive = any_alive or alive[j]
    empty_table = np.zeros(1)
    for b in prange(B):
        S = np.empty((6, n_e))
        L = np.empty((3, n_e), dtype=np.int64)
        pre = np.empty(0, dtype=np.int64)
        p = np.empty(n_in)
        counts = np.zeros(n_e, dtype=np.int64)
        intensity = intensity0
        for attempt in range(max_retries + 1):
            _rest_state(S, L, C)
            for i in range(n_in):
                p[i] = X[b, i] * rate_scale * intensity * dt * 1e-3
            ptr, idx = poisson_trains(p, n_present, mix(seeds[b], attempt))
            counts[:] = 0
            simulate(W, theta, S, L, pre, 0, ptr, idx, n_present, n_present, C, False, alive,
                     empty_table, empty_table, empty_table, counts)
            if counts.sum() >= min_spikes or not any_alive or attempt == max_retries:
                break
            intensity += 1.0
        for j in range(n_e):
            counts_out[b, j] = counts[j]
        intensity_out[b] = intensity


class FastEngine:
    """The numba engine with its state: weights, thresholds, neuron state, clock.

    ``present`` runs one given input train (for comparisons with the Brian2 engine);
    ``train`` and ``frozen_counts`` run the whole protocol.
    """

    def __init__(self, W: np.ndarray, theta: np.ndarray, model: DiehlCookModel = DiehlCookModel(),
                 protocol: Protocol = Protocol(), alive: np.ndarray | None = None) -> None:
        self.W = np.ascontiguousarray(W, dtype=np.float64).copy()
        self.theta = np.ascontiguousarray(theta, dtype=np.float64).copy()
        self.model, self.protocol = model, protocol
        self.C = model.step_constants(protocol.dt)
        n_e = self.W.shape[1]
        self.alive = np.ones(n_e, dtype=np.bool_) if alive is None else np.asarray(alive, dtype=np.bool_)
        self.S = np.empty((6, n_e))
        self.L = np.empty((3, n_e), dtype=np.int64)
        self.pre = np.full(self.W.shape[0], NEVER, dtype=np.int64)
        self.clock = np.zeros(1, dtype=np.int64)
        dt = protocol.dt
        self.tables = (decay_table(model.tau_pre, dt), decay_table(model.tau_post1, dt),
                       decay_table(model.tau_post2, dt))
        self.reset_state()

    def get_weights(self) -> np.ndarray:
        """The input -> excitatory weights, ``(n_in, n_e)`` (a copy)."""
        return self.W.copy()

    def get_theta(self) -> np.ndarray:
        """Thresholds in mV."""
        return self.theta.copy()

    def reset_state(self, v_offset: float = 0.0) -> None:
        """Rest (``v = v_rest + v_offset``), no conductance, no refractory neuron, traces 0."""
        _rest_state(self.S, self.L, self.C)
        self.S[0] += v_offset
        self.S[3] += v_offset
        self.pre[:] = NEVER

    def present(self, ptr: np.ndarray, idx: np.ndarray, n_present: int, n_total: int,
                learn: bool) -> np.ndarray:
        """Simulate ``n_total`` steps with the given input train; spike counts of the first
        ``n_present`` steps."""
        counts = np.zeros(self.W.shape[1], dtype=np.int64)
        simulate(self.W, self.theta, self.S, self.L, self.pre, self.clock[0],
                 np.asarray(ptr, np.int64), np.asarray(idx, np.int64), n_present, n_total,
                 self.C, learn, self.alive, *self.tables, counts)
        self.clock[0] += n_total
        return counts

    def train(self, X255: np.ndarray, seeds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """STDP over the rows of ``X255`` in order; (spike counts, final intensity) per row."""
        P = self.protocol
        X255 = np.ascontiguousarray(X255, dtype=np.float64)
        counts = np.zeros((len(X255), self.W.shape[1]), dtype=np.int64)
        intensity = np.zeros(len(X255))
        train_samples(self.W, self.theta, self.S, self.L, self.pre, self.clock, X255,
                      np.asarray(seeds, dtype=np.uint64), self.C, P.dt, P.n_present, P.n_rest,
                      float(P.intensity), P.rate_scale, P.min_spikes, P.max_retries,
                      float(P.w_sum), self.alive, *self.tables, counts, intensity)
        return counts, intensity

    def frozen_counts(self, X255: np.ndarray, seeds: np.ndarray,
                      alive: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Spike counts with frozen weights (parallel over rows); (counts, intensity)."""
        P = self.protocol
        X255 = np.ascontiguousarray(X255, dtype=np.float64)
        alive = self.alive if alive is None else np.asarray(alive, dtype=np.bool_)
        counts = np.zeros((len(X255), self.W.shape[1]), dtype=np.int64)
        intensity = np.zeros(len(X255))
        run_frozen(self.W, self.theta, X255, np.asarray(seeds, dtype=np.uint64), self.C, P.dt,
                   P.n_present, float(P.intensity), P.rate_scale, P.min_spikes, P.max_retries,
                   alive, counts, intensity)
        return counts, intensity
