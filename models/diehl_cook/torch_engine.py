"""The Diehl & Cook network with frozen weights in torch, batched over samples, on any device.

With the weights and thresholds frozen (labelling the neurons, testing, the battery's
encodes), samples are independent, so a whole batch advances one time step per set of tensor
operations on ``(batch, n_e)`` state: the step of
:func:`neurocode.models.diehl_cook.fast_engine.simulate` (the model's integrator in the form
Brian2 writes it, Brian2's schedule: groups, thresholds, synapses, resets; Brian 1's
refractoriness and input delays when the model asks for them) written once more with tensors,
on the CPU or a GPU (``device="cuda"``).

It reproduces the numba engine spike for spike, in float64: every sample gets the same input
train (:mod:`~neurocode.models.diehl_cook.poisson`, drawn on the host per sample and attempt), and
the additions that the numba loop makes one after the other are made in the same order here (the
input weight rows of one sample and step in increasing input index, one ``w_ie`` per
inhibitory spike; with delays, the oldest emission first), so the floating-point sums are the
same (the exponentials of the default integrator may differ in the last bit between torch's
and numba's ``exp``). Training (STDP, one sample after
the other) stays with the numba engine: its event-driven loop costs ~0.4 ms a sample, far
less than a per-step launch of tensor operations would.

Each chunk of ``chunk`` samples runs the ``n_present`` steps of a presentation; samples that
evoke fewer than ``min_spikes`` spikes are presented again at intensity + 1, as in training.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from neurocode.models.diehl_cook.network import DiehlCookModel, Protocol
from neurocode.models.diehl_cook.poisson import draw_trains

__all__ = ["TorchEngine"]

NEVER = -(2 ** 40)


class TorchEngine:
    """Frozen-weight Diehl & Cook network in torch (see the module docstring); ``delays``:
    optional (n_in, n_e) input delays in whole steps."""

    def __init__(self, W: np.ndarray, theta: np.ndarray,
                 model: DiehlCookModel = DiehlCookModel(),
                 protocol: Protocol = Protocol(),
                 device: str | torch.device = "cpu",
                 chunk: int = 2000, delays: np.ndarray | None = None) -> None:
        self.device = torch.device(device)
        self.W = torch.as_tensor(np.asarray(W, dtype=np.float64), device=self.device)
        if delays is not None and np.shape(delays) != tuple(self.W.shape):
            raise ValueError(f"delays must have the weights' shape {tuple(self.W.shape)}, "
                             f"got {np.shape(delays)}")
        self.D = (None if delays is None
                  else torch.as_tensor(np.asarray(delays, dtype=np.int64), device=self.device))
        self.max_delay = 0 if delays is None else int(np.max(delays, initial=0))
        self.theta = torch.as_tensor(np.asarray(theta, dtype=np.float64), device=self.device)
        self.model, self.protocol = model, protocol
        self.C = model.step_constants(protocol.dt)
        self.chunk = int(chunk)

    def _events(self, X255: np.ndarray, seeds: np.ndarray, attempt: int, level: np.ndarray):
        """The input spikes of a chunk, grouped by (step, rank of the spike among its sample's
        spikes in that step): ``{step: [(samples, inputs), ...]}`` in the order to add."""
        P = self.protocol
        steps, who, rows = [], [], []
        for b, (x, seed) in enumerate(zip(X255, seeds, strict=True)):
            p = x * P.rate_scale * level[b] * P.dt * 1e-3
            ptr, idx = draw_trains(p, P.n_present, int(seed), attempt)
            steps.append(np.repeat(np.arange(P.n_present), np.diff(ptr)))
            who.append(idx)
            rows.append(np.full(len(idx), b))
        if not rows:
            return {}
        s, i, b = np.concatenate(steps), np.concatenate(who), np.concatenate(rows)
        order = np.lexsort((i, b, s))  # by step, then sample, then input (the numba order)
        s, i, b = s[order], i[order], b[order]
        key = s * len(X255) + b
        first = np.r_[0, np.flatnonzero(np.diff(key)) + 1]
        rank = np.arange(len(key)) - np.repeat(first, np.diff(np.r_[first, len(key)]))
        # one group per (step, rank): sort by them, then cut where the pair changes
        order = np.lexsort((rank, s))
        s, b, i, rank = s[order], b[order], i[order], rank[order]
        cut = np.r_[0, np.flatnonzero((np.diff(s) != 0) | (np.diff(rank) != 0)) + 1, len(s)]
        b_t = torch.as_tensor(b, device=self.device)
        i_t = torch.as_tensor(i, device=self.device)
        out: dict[int, list] = {}
        for lo, hi in zip(cut[:-1], cut[1:], strict=True):
            out.setdefault(int(s[lo]), []).append((b_t[lo:hi], i_t[lo:hi]))
        return out

    def _present(self, X255: np.ndarray, seeds: np.ndarray, attempt: int, level: np.ndarray,
                 alive: torch.Tensor) -> np.ndarray:
        C, P = self.C, self.protocol
        B, n_e = len(X255), self.W.shape[1]
        dev, f64 = self.device, torch.float64
        events = self._events(X255, seeds, attempt, level)
        ve = torch.full((B, n_e), C.v_rest_e, dtype=f64, device=dev)
        vi = torch.full((B, n_e), C.v_rest_i, dtype=f64, device=dev)
        gee, gie, gei, gii = (torch.zeros((B, n_e), dtype=f64, device=dev) for _ in range(4))
        last_e = torch.full((B, n_e), NEVER, dtype=torch.int64, device=dev)
        last_i = torch.full((B, n_e), NEVER, dtype=torch.int64, device=dev)
        counts = torch.zeros((B, n_e), dtype=torch.int64, device=dev)
        a_e, a_i = C.dt / C.tau_e, C.dt / C.tau_i
        a_ge, a_gi = -C.dt / C.tau_ge, -C.dt / C.tau_gi
        d_ge, d_gi = math.exp(-C.dt / C.tau_ge), math.exp(-C.dt / C.tau_gi)
        exp_e = _ExpStep(C, C.tau_e, C.e_exc_e, C.e_inh_e, C.v_rest_e)
        exp_i = _ExpStep(C, C.tau_i, C.e_exc_i, C.e_inh_i, C.v_rest_i)
        thr = self.theta + (C.v_thresh_e - C.offset)
        for t in range(P.n_present):
            # groups: one step from the values at the start of the step
            free_e = (t - last_e >= C.n_ref_e) | (not C.hold_e)
            if C.exact:
                ve = torch.where(free_e, exp_e(ve, gee, gie), ve)
                gee, gie = d_ge * gee, d_gi * gie
                vi = torch.where(t - last_i >= C.n_ref_i, exp_i(vi, gei, gii), vi)
                gei, gii = d_ge * gei, d_gi * gii
            else:
                ve = torch.where(free_e,
                                 a_e * ((C.v_rest_e + (gee * (C.e_exc_e - ve)
                                                       + gie * (C.e_inh_e - ve))) - ve) + ve, ve)
                gee = a_ge * gee + gee
                gie = a_gi * gie + gie
                vi = torch.where(t - last_i >= C.n_ref_i,
                                 a_i * ((C.v_rest_i + (gei * (C.e_exc_i - vi)
                                                       + gii * (C.e_inh_i - vi))) - vi) + vi, vi)
                gei = a_ge * gei + gei
                gii = a_gi * gii + gii
            # thresholds
            since = t - last_e
            spk_e = alive & (ve > thr) & (since > C.n_block) & (since >= C.n_ref_e)
            last_e = torch.where(spk_e, t, last_e)
            spk_i = (vi > C.v_thresh_i) & (t - last_i >= C.n_ref_i)
            last_i = torch.where(spk_i, t, last_i)
            # synapses: the input rows of each sample in increasing input order (with delays:
            # the oldest emission first, each input's row masked to the neurons it reaches now)
            if self.D is None:
                for rows, inputs in events.get(t, ()):
                    gee[rows] += self.W[inputs]
            else:
                for k in range(min(t, self.max_delay), -1, -1):
                    for rows, inputs in events.get(t - k, ()):
                        gee[rows] += torch.where(self.D[inputs] == k, self.W[inputs], 0.0)
            gei = gei + C.w_ei * spk_e
            others = spk_i.sum(dim=1, keepdim=True) - spk_i.to(torch.int64)
            for r in range(int(others.max()) if others.numel() else 0):
                gie = gie + C.w_ie * (others > r)
            # resets
            ve = torch.where(spk_e, C.v_reset_e, ve)
            vi = torch.where(spk_i, C.v_reset_i, vi)
            if C.n_clamp_i > C.n_ref_i:  # Brian 1's clamp, one step past the refractory period
                vi = torch.where(t - last_i < C.n_clamp_i, C.v_reset_i, vi)
            counts += spk_e
        return counts.cpu().numpy()

    def frozen_counts(self, X255: np.ndarray, seeds: np.ndarray,
                      alive: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Spike counts of every row of ``X255`` (pixels 0..255), each from rest, and the
        intensity each needed (as :meth:`FastEngine.frozen_counts`)."""
        P = self.protocol
        X255 = np.asarray(X255, dtype=np.float64)
        seeds = np.asarray(seeds, dtype=np.uint64)
        n_e = self.W.shape[1]
        alive_np = np.ones(n_e, dtype=bool) if alive is None else np.asarray(alive, dtype=bool)
        alive_t = torch.as_tensor(alive_np, device=self.device)
        counts = np.zeros((len(X255), n_e), dtype=np.int64)
        level = np.full(len(X255), float(P.intensity))
        todo = np.arange(len(X255))
        for attempt in range(P.max_retries + 1):
            if not len(todo):
                break
            for c0 in range(0, len(todo), self.chunk):
                rows = todo[c0:c0 + self.chunk]
                counts[rows] = self._present(X255[rows], seeds[rows], attempt, level[rows],
                                             alive_t)
            if attempt == P.max_retries or not alive_np.any():
                break
            todo = todo[counts[todo].sum(axis=1) < P.min_spikes]
            level[todo] += 1.0
        return counts, level


class _ExpStep:
    """The exponential-Euler step of :func:`neurocode.models.diehl_cook.fast_engine._exp_step` on
    tensors (the same constants, the same order of operations)."""

    def __init__(self, C, tau: float, e_exc: float, e_inh: float, v_rest: float) -> None:
        self.dt = C.dt
        self.p_e, self.p_i, self.p_r = (C.c_ge * e_exc) / tau, (C.c_gi * e_inh) / tau, v_rest / tau
        self.k_e, self.k_i, self.base = (-C.c_ge) / tau, C.c_gi / tau, 0.0 - 1.0 / tau

        self.ba0, self.x0 = self.p_r / self.base, math.exp(self.dt * self.base)

    def __call__(self, v: torch.Tensor, ge: torch.Tensor, gi: torch.Tensor) -> torch.Tensor:
        den = (self.base + self.k_e * ge) - self.k_i * gi
        ba = (self.p_r + (self.p_e * ge + self.p_i * gi)) / den
        full = (-ba) + (ba + v) * torch.exp(self.dt * den)
        # without conductance, the constants (as numba computes them: no exp of torch's)
        return torch.where((ge == 0.0) & (gi == 0.0), (-self.ba0) + (self.ba0 + v) * self.x0,
                           full)
