"""The fast Diehl & Cook engine: numba, event-driven, one step function for every mode.

Why numba and not torch: a training sample is 1,000 sequential steps of 0.5 ms in which
STDP changes the weights at every spike, so it cannot be batched over samples, and a Python
loop launching a dozen tensor operations per step costs ~10 us per operation, i.e. >100 ms a
sample. Compiled loops cost what the events cost: per step, ``n_e`` excitatory and ``n_e``
inhibitory neuron updates, one weight row added per input spike (a few per step on MNIST:
most pixels are black, so their inputs never spike), one row of depression per input spike
and one column of potentiation per excitatory spike. On one core a training sample costs
about 1 ms of CPU for ``n_e = 100``, 3 ms for 400, 11 ms for 1,600 and 50 ms for 6,400
(``benchmarks/bench_spiking_sizes.py``; input delays: 2.3-3 times more), a frozen test sample
0.2 ms for 100
(``benchmarks/bench_spiking.py``: 150-330 times Brian2's cython and numpy targets). With
frozen weights the samples are independent and :func:`run_frozen` spreads them over threads
(``prange``); each sample's input train comes from its own seed
(:mod:`~neurocode.models.diehl_cook.poisson`), so results do not depend on the thread count or
the batch.

The step (:func:`simulate`) follows Brian2's default schedule and its generated update code
for the model's integrator (:mod:`neurocode.models.diehl_cook.network`: Brian2's
``exponential_euler``, by default with the conductances' step-mean factors, or ``euler``),
so that the Brian2 engine is a reference it can be compared with spike for spike. The
exponential step is written as loops of plain arithmetic over the neurons
(:func:`_exp_steps`), its ``exp`` a polynomial (:func:`poly_exp`, within an ulp of the
correctly rounded value; libm's ``exp`` beyond its range), so that they vectorise: a training
sample then costs 1.4-1.6 times what it did with forward Euler, where a libm call per neuron
cost 5-8 times. STDP traces are
event-driven as in Brian2: a trace is ``exp(-(t - t_last) / tau)`` of its last spike time
(looked up in a table), so only the weights that an event touches are read or written.

State of a network (arrays, changed in place):

``W``      (n_in, n_e) input weights (row ``i``: the weights of input ``i``)
``theta``  (n_e,) adaptive thresholds, mV
``S``      (6, n_e) float: ``v_e, ge_e, gi_e, v_i, ge_i, gi_i``
``L``      (3, n_e) int: last spike step of each excitatory and inhibitory neuron (refractory
           and block periods), and of each excitatory neuron's STDP traces
``pre``    (n_in,) int: last spike step of each input (its STDP trace); with input delays,
           (n_in, n_e): the last arrival step at each synapse

Input delays (``D``, whole steps per synapse) are kept as buckets: ``dptr[i, k]:dptr[i, k+1]``
index the neurons ``dj[i, ...]`` that input ``i`` reaches ``k`` steps after it spikes. At each
step the spikes emitted ``k`` steps ago are delivered to bucket ``k``, oldest emission
first, inputs in increasing order within one step: the order in which Brian2's spike queue
delivers them, so the conductance sums are the same. Spikes still in flight when a
:func:`simulate` call ends are kept in ``hist`` (the inputs that spiked in each of the last
``max delay`` steps) and delivered by the next call, as Brian2's queue carries them from one
``run`` to the next; a reset to rest empties it.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from neurocode.models.diehl_cook.network import DiehlCookModel, Protocol
from neurocode.models.diehl_cook.poisson import mix, poisson_trains

__all__ = ["POLY_EXP_RANGE", "FastEngine", "decay_table", "delay_buckets", "normalise_columns",
           "poly_exp", "run_frozen", "simulate", "train_samples"]

#: "never spiked": a last-spike step far enough back for every period and trace to be over
NEVER = -(2 ** 40)


def decay_table(tau: float, dt: float) -> np.ndarray:
    """``exp(-k dt / tau)`` for ``k = 0, 1, ...`` until it underflows (last entry 0)."""
    k = np.arange(int(745.0 * tau / dt) + 2)
    out = np.exp(-(k * dt) / tau)
    out[-1] = 0.0
    return out


def delay_buckets(D: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Input delays ``D`` ((n_in, n_e) whole steps) as buckets ``(dptr, dj)``: input ``i``
    reaches neurons ``dj[i, dptr[i, k]:dptr[i, k + 1]]`` (increasing) ``k`` steps after it
    spikes. ``D=None`` (no delays): empty arrays, ``dptr.shape[1] == 0``.

    Examples
    --------
    >>> dptr, dj = delay_buckets(np.array([[1, 0, 1]]))
    >>> print(dptr.tolist(), dj.tolist())
    [[0, 1, 3]] [[1, 0, 2]]
    """
    if D is None:
        return np.zeros((0, 0), dtype=np.int64), np.zeros((0, 0), dtype=np.int64)
    D = np.asarray(D)
    if D.ndim != 2 or (D.size and D.min() < 0):
        raise ValueError(f"delays must be a 2-D array of whole steps >= 0, got shape {D.shape}")
    n_slots = int(D.max()) + 1 if D.size else 1
    dj = np.argsort(D, axis=1, kind="stable").astype(np.int64)
    dptr = np.zeros((D.shape[0], n_slots + 1), dtype=np.int64)
    for k in range(n_slots):
        dptr[:, k + 1] = dptr[:, k] + (D == k).sum(axis=1)
    return dptr, dj


@njit(cache=True, inline="always")
def _trace(table, d):
    return table[d] if d < table.shape[0] else 0.0


#: |x| up to which :func:`poly_exp` is used (beyond it, ``np.exp``)
POLY_EXP_RANGE = 0.35


@njit(cache=True, inline="always")
def poly_exp(x):
    """``exp(x)`` for ``|x| <= 0.35`` by its Taylor polynomial of degree 13 in Horner form
    (truncation below 1e-17 relative; within about an ulp of ``np.exp``), plain multiplies and
    adds, so that a loop of them vectorises (numba's ``np.exp`` is a scalar libm call)."""
    p = 1.0 / 6227020800.0
    p = p * x + 1.0 / 479001600.0
    p = p * x + 1.0 / 39916800.0
    p = p * x + 1.0 / 3628800.0
    p = p * x + 1.0 / 362880.0
    p = p * x + 1.0 / 40320.0
    p = p * x + 1.0 / 5040.0
    p = p * x + 1.0 / 720.0
    p = p * x + 1.0 / 120.0
    p = p * x + 1.0 / 24.0
    p = p * x + 1.0 / 6.0
    p = p * x + 0.5
    p = p * x + 1.0
    return p * x + 1.0


@njit(cache=True, error_model="numpy")
def _exp_steps(v, ge, gi, last, t, n_ref, hold, p_e, p_i, p_r, k_e, k_i, base, dt, d_ge, d_gi,
               ba, ex):
    """Exponential-Euler step of every neuron of a group, in place:
    ``tau dv/dt = (v_rest - v) + c_e ge (E_e - v) + c_i gi (E_i - v)`` with the conductances
    fixed over the step, in the form of Brian2's generated code: ``v <- -ba + (ba + v) exp(dt
    den)``, ``den = (base + k_e ge) - k_i gi = -(1 + c_e ge + c_i gi) / tau``, ``ba = (p_r +
    (p_e ge + p_i gi)) / den = -v_inf`` (``p_e = c_e E_e / tau``, ``p_i = c_i E_i / tau``,
    ``p_r = v_rest / tau``, ``k_e = -c_e / tau``, ``k_i = c_i / tau``, ``base = 0 - 1 /
    tau``). ``v`` is held where ``hold`` and ``t - last < n_ref``; then the conductances decay
    by ``d_ge``, ``d_gi``. ``ba``, ``ex``: scratch.
    Loops of plain arithmetic, so that they vectorise."""
    n = v.shape[0]
    for j in range(n):
        den = (base + k_e * ge[j]) - k_i * gi[j]
        ba[j] = (p_r + (p_e * ge[j] + p_i * gi[j])) / den
        ex[j] = dt * den
    far = False
    for j in range(n):
        far |= ex[j] < -POLY_EXP_RANGE
        ex[j] = poly_exp(ex[j])
    if far:  # strong conductances (many inhibitory spikes at once): libm's exp there
        for j in range(n):
            den = (base + k_e * ge[j]) - k_i * gi[j]
            if dt * den < -POLY_EXP_RANGE:
                ex[j] = np.exp(dt * den)
    for j in range(n):
        new = (-ba[j]) + (ba[j] + v[j]) * ex[j]
        v[j] = v[j] if hold and t - last[j] < n_ref else new
        ge[j] = d_ge * ge[j]
        gi[j] = d_gi * gi[j]


@njit(cache=True, inline="always")
def _clip(w, wmax):
    return 0.0 if w < 0.0 else (wmax if w > wmax else w)


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


@njit(cache=True, error_model="numpy")
def simulate(W, theta, S, L, pre, t0, ptr, idx, n_present, n_total, C, learn, alive,
             dec_pre, dec_post1, dec_post2, counts, dptr, dj, hist):
    """Run ``n_total`` steps from global step ``t0``; input spikes ``idx[ptr[s]:ptr[s+1]]`` in
    the first ``n_present`` steps. Adds each excitatory neuron's spikes in those steps to
    ``counts``. ``learn``: STDP and adaptive ``theta`` on (else ``W`` and ``theta`` are only
    read). ``alive`` False: the neuron never spikes. ``pre``: (n_in, 1) last spike step of each
    input; with input delays ``dptr``, ``dj`` (:func:`delay_buckets`; ``dptr.shape[1] == 0``:
    none), (n_in, n_e) last arrival step at each synapse, and ``hist`` (max delay, n_in + 1)
    the spikes still in flight: row ``r`` holds the ``hist[r, 0]`` inputs that spiked
    ``max delay - r`` steps before this call (updated in place for the next call)."""
    n_in, n_e = W.shape
    ve, gee, gie, vi, gei, gii = S[0], S[1], S[2], S[3], S[4], S[5]
    last_e, last_i, post_last = L[0], L[1], L[2]
    n_slots = dptr.shape[1] - 1  # delay buckets (-1: no delays)
    dt = C.dt
    thr_e = C.v_thresh_e - C.offset
    spk_e = np.empty(n_e, dtype=np.int64)
    spk_i = np.empty(n_e, dtype=np.int64)
    post1 = np.empty(n_e)
    # loop invariants, in the form of Brian2's generated code: forward Euler ...
    a_e = dt / C.tau_e
    a_i = dt / C.tau_i
    a_ge = -dt / C.tau_ge
    a_gi = -dt / C.tau_gi
    a_th = -dt / C.tau_theta
    # ... and exponential Euler (exact decays; v exact for the conductances of the step, which
    # are their start-of-step values times c_ge, c_gi: 1, or their mean over the step)
    d_ge = np.exp(-dt / C.tau_ge)
    d_gi = np.exp(-dt / C.tau_gi)
    d_th = np.exp(-dt / C.tau_theta)
    pe_e, pi_e, pr_e = (C.c_ge * C.e_exc_e) / C.tau_e, (C.c_gi * C.e_inh_e) / C.tau_e, \
        C.v_rest_e / C.tau_e
    ke_e, ki_e, base_e = (-C.c_ge) / C.tau_e, C.c_gi / C.tau_e, 0.0 - 1.0 / C.tau_e
    pe_i, pi_i, pr_i = (C.c_ge * C.e_exc_i) / C.tau_i, (C.c_gi * C.e_inh_i) / C.tau_i, \
        C.v_rest_i / C.tau_i
    ke_i, ki_i, base_i = (-C.c_ge) / C.tau_i, C.c_gi / C.tau_i, 0.0 - 1.0 / C.tau_i
    ba = np.empty(n_e)
    ex = np.empty(n_e)
    for s in range(n_total):
        t = t0 + s
        # -- groups: one step from the values at the start of the step
        if C.exact:
            _exp_steps(ve, gee, gie, last_e, t, C.n_ref_e, C.hold_e, pe_e, pi_e, pr_e, ke_e,
                       ki_e, base_e, dt, d_ge, d_gi, ba, ex)
            _exp_steps(vi, gei, gii, last_i, t, C.n_ref_i, True, pe_i, pi_i, pr_i, ke_i, ki_i,
                       base_i, dt, d_ge, d_gi, ba, ex)
            if learn:
                for j in range(n_e):
                    theta[j] = d_th * theta[j]
        else:
            for j in range(n_e):
                v = ve[j]
                ge = gee[j]
                gi = gie[j]
                if not C.hold_e or t - last_e[j] >= C.n_ref_e:
                    ve[j] = a_e * ((C.v_rest_e + (ge * (C.e_exc_e - v) + gi * (C.e_inh_e - v)))
                                   - v) + v
                gee[j] = a_ge * ge + ge
                gie[j] = a_gi * gi + gi
                if learn:
                    theta[j] = a_th * theta[j] + theta[j]
                v = vi[j]
                ge = gei[j]
                gi = gii[j]
                if t - last_i[j] >= C.n_ref_i:
                    vi[j] = a_i * ((C.v_rest_i + (ge * (C.e_exc_i - v) + gi * (C.e_inh_i - v)))
                                   - v) + v
                gei[j] = a_ge * ge + ge
                gii[j] = a_gi * gi + gi
        # -- thresholds: a branch-free count of the neurons above threshold first (it
        # vectorises; most steps have none), the branching pass only when there is one; the
        # same spikes, since every spike needs v above threshold (6.6 -> 1.6 us per step at
        # 6,400 neurons, benchmarks/bench_spiking_sizes.py)
        above = 0
        for j in range(n_e):
            above += ve[j] > theta[j] + thr_e
        ne = 0
        if above > 0:
            for j in range(n_e):
                since = t - last_e[j]
                if alive[j] and ve[j] > theta[j] + thr_e and since > C.n_block \
                        and since >= C.n_ref_e:
                    spk_e[ne] = j
                    ne += 1
                    last_e[j] = t
        above = 0
        for k in range(n_e):
            above += vi[k] > C.v_thresh_i
        ni = 0
        if above > 0:
            for k in range(n_e):
                if vi[k] > C.v_thresh_i and t - last_i[k] >= C.n_ref_i:
                    spk_i[ni] = k
                    ni += 1
                    last_i[k] = t
        # -- synapses: presynaptic pathways
        if n_slots < 0:
            if s < n_present and ptr[s + 1] > ptr[s]:
                if learn:
                    for j in range(n_e):
                        post1[j] = _trace(dec_post1, t - post_last[j])
                for q in range(ptr[s], ptr[s + 1]):
                    i = idx[q]
                    for j in range(n_e):
                        gee[j] += W[i, j]
                    if learn:
                        pre[i, 0] = t
                        for j in range(n_e):
                            W[i, j] = _clip(W[i, j] - C.nu_pre * post1[j], C.wmax)
        else:
            n_hist = hist.shape[0]
            have_post1 = False
            for k in range(n_slots - 1, -1, -1):  # oldest emission first
                se = s - k
                if se < 0:  # emitted before this call
                    n_q = hist[se + n_hist, 0]
                elif se < n_present:
                    n_q = ptr[se + 1] - ptr[se]
                else:
                    continue
                if n_q > 0 and learn and not have_post1:
                    for j in range(n_e):
                        post1[j] = _trace(dec_post1, t - post_last[j])
                    have_post1 = True
                for q in range(n_q):
                    i = hist[se + n_hist, 1 + q] if se < 0 else idx[ptr[se] + q]
                    for r in range(dptr[i, k], dptr[i, k + 1]):
                        j = dj[i, r]
                        gee[j] += W[i, j]
                        if learn:
                            pre[i, j] = t
                            W[i, j] = _clip(W[i, j] - C.nu_pre * post1[j], C.wmax)
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
                if n_slots < 0:
                    for i in range(n_in):
                        W[i, j] = _clip(W[i, j] + a * _trace(dec_pre, t - pre[i, 0]), C.wmax)
                else:
                    for i in range(n_in):
                        W[i, j] = _clip(W[i, j] + a * _trace(dec_pre, t - pre[i, j]), C.wmax)
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
        if C.n_clamp_i > C.n_ref_i:  # Brian 1's clamp, one step past the refractory period
            for k in range(n_e):
                if t - last_i[k] < C.n_clamp_i:
                    vi[k] = C.v_reset_i
    if n_slots > 0:
        _carry(hist, ptr, idx, n_present, n_total)


@njit(cache=True)
def _carry(hist, ptr, idx, n_present, n_total):
    """The spikes of the last ``hist.shape[0]`` steps of a call, for the next call."""
    n_hist = hist.shape[0]
    old = hist.copy()
    for r in range(n_hist):
        se = n_total - n_hist + r  # the step of this call that row r now stands for
        if se < 0:
            hist[r, :] = old[se + n_hist, :]
        elif se < n_present:
            n_q = ptr[se + 1] - ptr[se]
            hist[r, 0] = n_q
            hist[r, 1:1 + n_q] = idx[ptr[se]:ptr[se + 1]]
        else:
            hist[r, 0] = 0


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
                  dec_post2, counts_out, intensity_out, dptr, dj, hist):
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
                     C, True, alive, dec_pre, dec_post1, dec_post2, counts, dptr, dj, hist)
            clock[0] += n_present + n_rest
            if counts.sum() >= min_spikes or not any_alive or attempt == max_retries:
                break
            intensity += 1.0
        counts_out[b, :] = counts
        intensity_out[b] = intensity


@njit(cache=True, parallel=True)
def run_frozen(W, theta, X, seeds, C, dt, n_present, intensity0, rate_scale, min_spikes,
               max_retries, alive, counts_out, intensity_out, dptr, dj, n_hist):
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
        pre = np.empty((1, 1), dtype=np.int64)
        hist = np.zeros((n_hist, n_in + 1), dtype=np.int64)
        p = np.empty(n_in)
        counts = np.zeros(n_e, dtype=np.int64)
        intensity = intensity0
        for attempt in range(max_retries + 1):
            _rest_state(S, L, C)
            hist[:, 0] = 0  # from rest: nothing in flight
            for i in range(n_in):
                p[i] = X[b, i] * rate_scale * intensity * dt * 1e-3
            ptr, idx = poisson_trains(p, n_present, mix(seeds[b], attempt))
            counts[:] = 0
            simulate(W, theta, S, L, pre, 0, ptr, idx, n_present, n_present, C, False, alive,
                     empty_table, empty_table, empty_table, counts, dptr, dj, hist)
            if counts.sum() >= min_spikes or not any_alive or attempt == max_retries:
                break
            intensity += 1.0
        for j in range(n_e):
            counts_out[b, j] = counts[j]
        intensity_out[b] = intensity


class FastEngine:
    """The numba engine with its state: weights, thresholds, neuron state, clock.

    ``present`` runs one given input train (for comparisons with the Brian2 engine);
    ``train`` and ``frozen_counts`` run the whole protocol. ``delays``: optional (n_in, n_e)
    input delays in whole steps (:func:`~neurocode.models.diehl_cook.network.delay_steps`).
    """

    def __init__(self, W: np.ndarray, theta: np.ndarray,
                 model: DiehlCookModel = DiehlCookModel(),
                 protocol: Protocol = Protocol(),
                 alive: np.ndarray | None = None,
                 delays: np.ndarray | None = None) -> None:
        self.W = np.ascontiguousarray(W, dtype=np.float64).copy()
        self.theta = np.ascontiguousarray(theta, dtype=np.float64).copy()
        self.model, self.protocol = model, protocol
        self.C = model.step_constants(protocol.dt)
        n_in, n_e = self.W.shape
        self.alive = (np.ones(n_e, dtype=np.bool_) if alive is None
                      else np.asarray(alive, dtype=np.bool_))
        if delays is not None and np.shape(delays) != self.W.shape:
            raise ValueError(f"delays must have the weights' shape {self.W.shape}, "
                             f"got {np.shape(delays)}")
        self.delays = None if delays is None else np.asarray(delays).copy()
        self.dptr, self.dj = delay_buckets(self.delays)
        self.S = np.empty((6, n_e))
        self.L = np.empty((3, n_e), dtype=np.int64)
        self.pre = np.full((n_in, 1 if delays is None else n_e), NEVER, dtype=np.int64)
        self.hist = np.zeros((self.max_delay, n_in + 1), dtype=np.int64)
        self.clock = np.zeros(1, dtype=np.int64)
        dt = protocol.dt
        self.tables = (decay_table(model.tau_pre, dt), decay_table(model.tau_post1, dt),
                       decay_table(model.tau_post2, dt))
        self.reset_state()

    @property
    def max_delay(self) -> int:
        """The longest input delay, in steps (0 without delays)."""
        return 0 if self.delays is None else int(self.delays.max(initial=0))

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
        self.hist[:, 0] = 0

    def present(self, ptr: np.ndarray, idx: np.ndarray, n_present: int, n_total: int,
                learn: bool) -> np.ndarray:
        """Simulate ``n_total`` steps with the given input train; spike counts of the first
        ``n_present`` steps. Input spikes still in flight (delays) after ``n_total`` steps
        arrive in the next call."""
        counts = np.zeros(self.W.shape[1], dtype=np.int64)
        simulate(self.W, self.theta, self.S, self.L, self.pre, self.clock[0],
                 np.asarray(ptr, np.int64), np.asarray(idx, np.int64), n_present, n_total,
                 self.C, learn, self.alive, *self.tables, counts, self.dptr, self.dj,
                 self.hist)
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
                      float(P.w_sum), self.alive, *self.tables, counts, intensity, self.dptr,
                      self.dj, self.hist)
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
                   alive, counts, intensity, self.dptr, self.dj, self.max_delay)
        return counts, intensity
