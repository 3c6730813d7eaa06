"""The Diehl & Cook (2015) coding rule, registered as ``diehl-cook``.

Source: P. U. Diehl and M. Cook (2015), "Unsupervised learning of digit recognition using
spike-timing-dependent plasticity", Frontiers in Computational Neuroscience 9:99,
doi:10.3389/fncom.2015.00099, and the authors' Brian 1 code, whose constants and protocol are
reproduced (:mod:`~neurocode.models.diehl_cook.network`). Two engines run it: a numba engine
(:mod:`~neurocode.models.diehl_cook.fast_engine`, the default) and Brian2
(:mod:`~neurocode.models.diehl_cook.brian2_engine`), tested to give the same spikes on the same
input; frozen runs on a GPU go through :mod:`~neurocode.models.diehl_cook.torch_engine`. The
engines are imported when a rule first runs one (numba and Brian2 take seconds to import).
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from typing import Any

import numpy as np

from neurocode.models.diehl_cook.network import (
    INTEGRATORS,
    REFRACTORINESS,
    DiehlCookModel,
    Protocol,
    delay_steps,
    timestep,
)
from neurocode.params import Param, ParamError
from neurocode.rules import CodingRule, NotFittedError
from neurocode.watch import watch_codes

__all__ = ["DiehlCook"]

ENGINES = ("numba", "brian2")
#: salt of the seeds of frozen presentations (encode, labelling): a stimulus's train depends on
#: its content, ``random_state`` and this
_FROZEN_SALT = 0x5EED
#: samples per call into the numba training loop (progress and curves in between)
_TRAIN_CHUNK = 1000
#: salt of the seed of the input delays (drawn apart from the weights and the trains, so that
#: a run with delays sees the same input trains as one without)
_DELAY_SALT = 0xDE1A7


class DiehlCook(CodingRule):
    """Diehl & Cook (2015): conductance-based LIF neurons, STDP and lateral inhibition.

    **Network.** ``n_features`` Poisson inputs drive ``n_e`` excitatory neurons through plastic
    all-to-all weights ``W`` (``n_features x n_e``, in ``[0, wmax]``); each excitatory neuron
    ``k`` drives one inhibitory neuron ``k`` (weight ``w_ei = 10.4``), which inhibits every
    other excitatory neuron (weight ``w_ie = 17.0``): soft winner-take-all. Excitatory neuron
    (times in ms, potentials in mV, conductances in units of the leak)::

        100 dv/dt = (-65 - v) + ge (0 - v) + gi (-100 - v)      (v held 5 ms after a spike)
        dge/dt = -ge / 1,   dgi/dt = -gi / 2,   dtheta/dt = -theta / tau_theta
        spike when v > theta - 20 - 52 (and more than t_block past its last spike);
        then v = -65 and theta += theta_plus (learning only; theta starts at theta_init = 20)

    ``t_block`` is the original's ``timer`` (``dtimer/dt = 100.0 : ms``, spiking allowed while
    ``timer > 5 ms``). In Brian 1's SI arithmetic that timer passes 5 ms 0.05 ms after a spike,
    so it adds nothing to the 5 ms refractory period: default ``t_block = 0.05``. Brian2 ports
    (``dtimer/dt = 0.1 : second``) make it a 50 ms block: ``t_block=50`` (fewer spikes, slower
    learning: 69.2 % on MNIST with 100 neurons and one pass, against 74.0 %).

    Inhibitory neuron: ``10 dv/dt = (-60 - v) + ge (0 - v) + gi (-85 - v)``, spike at
    ``v > -40``, reset to ``-45``, refractory 2 ms. An input spike adds its weights to the
    ``ge`` of the excitatory neurons; an excitatory spike adds ``w_ei`` to its partner's ``ge``;
    an inhibitory spike adds ``w_ie`` to the ``gi`` of the others.

    **STDP** (the original's sign: depression at presynaptic spikes), with traces that jump to
    1 at a spike and decay with ``tau_pre``, ``tau_post1``, ``tau_post2``::

        input spike i:        pre_i = 1;    W_ij <- clip(W_ij - nu_pre * post1_j, 0, wmax)
        excitatory spike j:   W_ij <- clip(W_ij + nu_post * pre_i * post2_j, 0, wmax)  for all i
                              (post2_j read before it is set); post1_j = post2_j = 1

    **Protocol.** ``X`` holds images flattened in ``[0, 1]``; ``255 x`` are the pixel values.
    Each sample: scale every column of ``W`` to sum ``w_sum`` (learning only); input ``i`` fires
    as a Poisson train of ``255 x_i / 8 * intensity`` Hz (intensity 2: at most 63.75 Hz) for
    ``t_present`` ms, then rests ``t_rest`` ms; if the excitatory layer fired fewer than
    ``min_spikes`` spikes, repeat with ``intensity + 1`` (at most ``max_retries`` times).
    Steps of ``dt`` in Brian2's schedule (state update, thresholds, synapses, resets);
    ``integrator`` (below) says how a step integrates. ``fit`` learns from the rows of ``X`` in
    order (``epochs`` passes), state carried from sample to sample; then, with weights and
    thresholds frozen, each neuron takes the class
    it responded to most (mean spike count per class over the first ``n_label`` training
    samples; a neuron that never fires stays unassigned).

    **Code** (``code_kind = "spike-count"``): the spike count of each excitatory neuron during
    the presentation of a stimulus, weights and ``theta`` frozen, each stimulus from rest
    (``v = v_rest``, no conductance, no neuron refractory: what the original's 150 ms rest
    approaches), with the same intensity retries. Its Poisson train is seeded by the stimulus's
    content and ``random_state``, so a stimulus always gets the same code wherever it stands in
    ``X`` and whichever engine runs.

    **Readout** (labels given to ``fit``): ``decision_function(X)`` is, per class, the mean
    spike count of the neurons assigned to it (the original's ``summed_rates``); ``predict``
    takes the largest. Fitted without labels, the rule has neither (the battery then reads its
    code with a linear probe).

    **Silenced neurons** (``unit_mask`` False) never spike: they neither excite their
    inhibitory partner (which then never fires) nor learn; the survivors compete without them.
    The readout is not re-fitted: a silenced neuron counts as silent in its class's mean.

    **Engines.** ``engine="numba"`` (default): sequential over samples while learning (~1 ms a
    sample for ``n_e = 100``, 12 ms for 1,600), parallel over samples (``n_jobs`` threads) with
    frozen weights
    (~0.2 ms a sample and thread). ``engine="brian2"``: the same model as Brian2 equations with
    units, one ``Network.run`` per presentation, ``brian2_target`` "numpy" or "cython" (first
    cython compile about 40 s, cached under ``brian2_cache_dir``); 150-400 times slower, it is
    the reference the numba engine is tested against. Both step in Brian2's schedule (state
    update, thresholds, presynaptic then postsynaptic synaptic pathways, resets) with the same
    update (Brian2's ``method`` and the equations of
    :mod:`~neurocode.models.diehl_cook.brian2_engine`), STDP traces are exact exponentials of the
    time since the last spike in both (event-driven), and both draw the same input trains from the
    same seeds, so the engines differ only in floating-point rounding (Brian2 computes in
    volts and seconds, numba in mV and ms): spike counts are identical on every sample tested,
    with every option, and weights agree to 1e-12 after an STDP presentation.

    **Integration** (``integrator``). ``"exponential"`` (default): the conductances decay
    exactly and ``v`` takes the exact solution of its linear equation over the step, for the
    conductances' exact mean over the step; ``v`` then moves monotonically towards a weighted
    mean of the rest and reversal potentials and no step can overshoot. ``"euler"``: forward
    Euler, what the original (Brian 1 picks Euler for non-linear equations) and this rule
    before did: it overshoots when ``dt (1 + ge + gi) / 100 ms > 1`` and diverges above 2, i.e.
    once 24 inhibitory neurons fire in one 0.5 ms step (``gi > 399``). Networks of 400 and
    more neurons get there during learning, when a common input makes dozens of neurons fire
    together: each Euler step then throws ``v`` past -100 mV and back above threshold, every
    neuron fires and inhibits the others harder, and the activity runs away (tens of thousands
    of spikes per sample; at 1,600 neurons from the 112th training image on).
    ``"exponential_euler"``: Brian2's method as is, the conductances held at their
    start-of-step values: stable too, but at ``dt = 0.5`` ms it overstates the excitation
    (``ge`` decays by 40 % within a step) and fires about 1.5 times the spikes of the
    continuous-time model, against 1.2 times for ``"exponential"`` and 1.1 for ``"euler"``
    (frozen 100-neuron network, 40 digits, reference at ``dt = 0.01`` ms).

    **Brian 1's behaviours, as options.** ``refractoriness="brian1"``: what Brian 1 did with
    the original script (``hold``, the default, is Brian2's ``(unless refractory)``): the
    excitatory ``v`` is not held after a spike (a string reset gets no clamp in Brian 1), only
    spiking is blocked for 10 steps; the inhibitory ``v`` is clamped at reset for
    ``int(2 ms / dt) + 1 = 5`` steps instead of 4. ``delay_max=10``: input synapses get random
    fixed delays ``U(0, delay_max)`` ms in whole steps (Brian 1's ``int(d / dt)``: 0 to 19
    steps), drawn at ``fit`` (``delays_``); the conductance, the synapse's ``pre`` trace and
    the depression act on arrival, the potentiation at an excitatory spike uses each
    synapse's ``pre`` trace (Brian2's ``on_pre`` with a synaptic ``delay``). Brian 1's
    delayed-STDP bookkeeping reads the same arrival-time traces from recorded past values but
    adds the weight as it was at emission and applies the depression at emission + 10 ms;
    those second-order timings are not reproduced. Spikes in flight at the end of a
    presentation arrive during the next (frozen runs start from rest: none in flight).

    **Differences from the original code** (Brian 1), the options aside: the integrator; test
    stimuli start from exact rest instead of 150 ms of rest; at most ``max_retries`` intensity
    retries (the original has no cap). With forward Euler (``integrator="euler"``) and
    neither option, 100 neurons reached 74.0 % MNIST test accuracy after one pass over the
    60,000 training images and 81.6 % after three (the paper: 82.9 %;
    ``experiments/diehl_cook_mnist.yaml``, two and four minutes).

    Attributes
    ----------
    W_ : (n_features, n_e) input weights after learning (not re-normalised)
    theta_ : (n_e,) adaptive thresholds, mV
    assignments_ : (n_e,) class index (into ``classes_``) of each neuron, -1 if unassigned;
        only when fitted with labels
    classes_ : the classes seen in ``y``
    seed_ : seed of the frozen presentations
    delays_ : (n_features, n_e) input delays in steps of ``dt``; only with ``delay_max > 0``
    n_seen_ : presentations learned from, retries included
    curves_ : per window of training samples: ``spikes_per_sample``, ``intensity`` (mean final
        intensity) and, with labels, ``train_accuracy`` (the original's running estimate:
        neurons labelled on the previous window, NaN for the first)

    Examples
    --------
    Two patterns, four neurons; each neuron comes to answer one pattern:

    >>> import numpy as np
    >>> X = np.zeros((40, 16)); X[::2, :8] = 1.0; X[1::2, 8:] = 1.0
    >>> y = np.arange(40) % 2
    >>> rule = DiehlCook(n_e=4, w_sum=8.0, random_state=0).fit(X, y)
    >>> print(float((rule.predict(X) == y).mean()))
    1.0
    """

    name = "diehl-cook"
    description = ("Diehl & Cook 2015: spiking LIF network, STDP and lateral inhibition; "
                   "neurons labelled by their best class")
    # labels are optional (without them: no classifier, see has_own_readout); Poisson rates
    # proportional to the input need x >= 0; a silenced neuron leaves the soft winner-take-all
    # and the survivors compete without it
    tags = replace(CodingRule.tags, code_kind="spike-count", uses_labels=True, own_readout=True,
                   input_domain="nonnegative", silencing="resettles",
                   fit_options=("progress", "callback"), style=("#44AA99", "*"), legend_rank=9,
                   cost=(2.0, 8e-3, ("data.n_train", "train.epochs")))
    params = {
        "n_e": Param(int, 100, low=1, high=100_000, doc="excitatory (= inhibitory) neurons"),
        "engine": Param(str, "numba", choices=ENGINES,
                        doc="simulator: numba (fast) or brian2 (reference)"),
        "brian2_target": Param(str, "numpy", choices=("numpy", "cython"),
                               doc="Brian2 code-generation target (engine brian2)"),
        "brian2_cache_dir": Param(str, None, nullable=True,
                                  doc="where the cython target caches compiled code (None: "
                                      "$NEUROCODE_BRIAN2_CACHE or Brian2's default)"),
        "device": Param(str, "cpu", choices=("cpu", "cuda"), omit_if_unset=True,
                        doc="where frozen runs (labelling, testing, encoding) go: cpu (the "
                            "numba engine) or cuda (the torch engine, batched on the GPU); "
                            "training is always the sequential numba or Brian2 engine"),
        "n_jobs": Param(int, None, low=1, high=4096, nullable=True,
                        doc="threads of the frozen numba runs (None: numba's default)"),
        "dt": Param(float, 0.5, low=0.01, high=5.0, doc="time step, ms"),
        # not omit_if_unset: the default changed from forward Euler (the original's, which runs
        # away from ~400 neurons) to the exact step, so a resolved config names it and runs
        # stored with Euler under the old names are never taken for runs of the new default
        "integrator": Param(str, "exponential", choices=INTEGRATORS,
                            doc="exponential: exact for the conductances' mean over a step "
                                "(stable at any size); exponential_euler: Brian2's, for their "
                                "start-of-step values; euler: forward Euler (the original's "
                                "and earlier runs'; runs away from ~400 neurons)"),
        "refractoriness": Param(str, "hold", choices=REFRACTORINESS, omit_if_unset=True,
                                doc="hold: v held while refractory (Brian2); brian1: the "
                                    "original's Brian 1 (excitatory v runs free while spiking "
                                    "is blocked, inhibitory v clamped one step longer)"),
        "delay_max": Param(float, 0.0, low=0.0, high=1e4, omit_if_unset=True,
                           doc="input synapses get random fixed delays U(0, delay_max) ms, in "
                               "whole steps (the original: 10); 0: none"),
        "t_present": Param(float, 350.0, low=0.01, high=1e6, doc="presentation time, ms"),
        "t_rest": Param(float, 150.0, low=0.0, high=1e6, doc="rest after each presentation, ms"),
        "intensity": Param(float, 2.0, low=1e-6, high=1e6,
                           doc="input rate = 255 x / 8 * intensity Hz"),
        "min_spikes": Param(int, 5, low=0, high=1_000_000,
                            doc="fewer excitatory spikes: present again with intensity + 1"),
        "max_retries": Param(int, 10, low=0, high=10_000, doc="most intensity retries a sample"),
        "t_block": Param(float, 0.05, low=0.0, high=1e6,
                         doc="an excitatory neuron fires only more than this long after its "
                             "last spike, ms (the original's timer: 0.05 ms in Brian 1's SI "
                             "arithmetic; Brian2 ports use 50); refractoriness also holds"),
        "w_ei": Param(float, 10.4, low=0.0, high=1e6, doc="excitatory -> inhibitory weight"),
        "w_ie": Param(float, 17.0, low=0.0, high=1e6,
                      doc="inhibitory -> other excitatory weight (lateral inhibition)"),
        "theta_init": Param(float, 20.0, low=-1e6, high=1e6,
                            doc="initial adaptive threshold theta, mV"),
        "epochs": Param(int, 1, low=0, high=1_000, section="train",
                        doc="passes over the training data"),
        "n_label": Param(int, None, low=1, nullable=True, section="train",
                         doc="training samples used to label the neurons (None: all)"),
        "w_init": Param(float, 0.3, low=0.0, high=1e6, section="train",
                        doc="initial weights w_init * U(0.01, 1.01)"),
        "w_sum": Param(float, 78.0, low=1e-9, high=1e9, section="train",
                       doc="each neuron's incoming weights are scaled to this sum before "
                           "every training presentation (78 for 784 inputs)"),
        "wmax": Param(float, 1.0, low=1e-9, high=1e9, section="train", doc="weight bound"),
        "nu_pre": Param(float, 1e-4, low=0.0, high=1e3, section="train",
                        doc="depression rate (at input spikes)"),
        "nu_post": Param(float, 1e-2, low=0.0, high=1e3, section="train",
                         doc="potentiation rate (at excitatory spikes)"),
        "tau_pre": Param(float, 20.0, low=1e-3, high=1e9, section="train",
                         doc="presynaptic trace time constant, ms"),
        "tau_post1": Param(float, 20.0, low=1e-3, high=1e9, section="train",
                           doc="postsynaptic trace of depression, ms"),
        "tau_post2": Param(float, 40.0, low=1e-3, high=1e9, section="train",
                           doc="postsynaptic trace of potentiation, ms"),
        "theta_plus": Param(float, 0.05, low=0.0, high=1e6, section="train",
                            doc="theta increment per spike while learning, mV"),
        "tau_theta": Param(float, 1e7, low=1e-3, high=1e15, section="train",
                           doc="theta decay time constant while learning, ms"),
    }
    test_params = {"n_e": 6, "t_present": 100.0, "t_rest": 20.0, "w_sum": 8.0,
                   "max_retries": 3, "n_jobs": 1, "random_state": 0}

    # -- parameters ---------------------------------------------------------------------
    @property
    def n_units(self) -> int:
        """The code's width: one unit per excitatory neuron, ``n_e``."""
        return self.n_e

    def _validate_together(self) -> None:
        if self.device == "cuda":
            import torch

            if not torch.cuda.is_available():
                raise ParamError(f"rule '{self.name}' parameter 'device' is 'cuda', but no CUDA "
                                 f"device is available to torch here; use 'cpu'")
        if timestep(self.t_present, self.dt) < 1:
            raise ParamError(f"rule '{self.name}' parameters 't_present' ({self.t_present}) and "
                             f"'dt' ({self.dt}): the presentation must last at least one step")


    def _model(self) -> DiehlCookModel:
        names = set(DiehlCookModel.field_names())
        return DiehlCookModel(**{k: getattr(self, k) for k in self.params if k in names})

    def _protocol(self) -> Protocol:
        return Protocol(dt=self.dt, t_present=self.t_present, t_rest=self.t_rest,
                        intensity=self.intensity, min_spikes=self.min_spikes,
                        max_retries=self.max_retries, w_sum=self.w_sum)

    def receptive_fields(self) -> np.ndarray | None:
        """Each excitatory neuron's input weights, ``(n_e, n_features)``, for drawing."""
        self._check_fitted()
        return np.asarray(self.W_).T

    # -- engines ------------------------------------------------------------------------
    def _engine(self, W: np.ndarray, theta: np.ndarray, learning: bool):
        delays = getattr(self, "delays_", None)
        if self.engine == "brian2":
            from neurocode.models.diehl_cook.brian2_engine import Brian2Engine

            return Brian2Engine(W, theta, self._model(), self._protocol(), learning=learning,
                                target=self.brian2_target, cache_dir=self.brian2_cache_dir,
                                delays=delays)
        from neurocode.models.diehl_cook.fast_engine import FastEngine

        return FastEngine(W, theta, self._model(), self._protocol(), delays=delays)

    def _frozen_counts(self, X: np.ndarray, mask: np.ndarray) -> np.ndarray:
        from neurocode.models.diehl_cook.poisson import mix, row_seeds

        X = np.ascontiguousarray(X, dtype=np.float64)
        base = np.uint64(mix(np.uint64(self.seed_), np.uint64(_FROZEN_SALT)))
        seeds = row_seeds(X.view(np.uint64), base)
        if self.device == "cuda" and self.engine == "numba":
            from neurocode.models.diehl_cook.torch_engine import TorchEngine

            engine = TorchEngine(self.W_, self.theta_, self._model(), self._protocol(),
                                 device="cuda", delays=getattr(self, "delays_", None))
            return engine.frozen_counts(255.0 * X, seeds, alive=mask)[0]
        engine = self._engine(self.W_, self.theta_, learning=False)
        if self.engine == "numba" and self.n_jobs is not None:
            import numba

            before = numba.get_num_threads()
            # numba.config sets its options at import (setattr), invisible to a type checker
            numba.set_num_threads(min(self.n_jobs,
                                      numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]
            try:
                counts, _ = engine.frozen_counts(255.0 * X, seeds, alive=mask)
            finally:
                numba.set_num_threads(before)
        else:
            counts, _ = engine.frozen_counts(255.0 * X, seeds, alive=mask)
        return counts

    # -- the contract -------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None, **fit_params: Any) -> DiehlCook:
        """Learn the weights from ``X`` by STDP; with labels ``y``, also label the neurons
        (which gives :meth:`decision_function` and :meth:`predict`). Labels are optional."""
        if y is not None:
            return super().fit(X, y, **fit_params)
        self._validate_params()
        X = self._check_X(X, reset=True)
        self._fit(X, None, **fit_params)
        return self

    def _fit(self, X: np.ndarray, y: np.ndarray | None, progress: bool | None = None,
             callback: Any = None) -> None:
        rng = self._rng()
        n, n_in = X.shape
        self.seed_ = int(rng.integers(0, 2 ** 63 - 1))
        W = self.w_init * (rng.random((n_in, self.n_e)) + 0.01)
        theta = np.full(self.n_e, float(self.theta_init))
        self.delays_ = None
        if self.delay_max > 0:
            drng = np.random.default_rng([self.seed_, _DELAY_SALT])
            self.delays_ = delay_steps(n_in, self.n_e, self.delay_max, self.dt, drng)
        engine = self._engine(W, theta, learning=True)
        engine.reset_state(v_offset=-40.0)  # the original starts 40 mV below rest
        X255 = 255.0 * np.asarray(X, dtype=np.float64)
        window = min(10_000, max(1, n // 5))
        rows: list[dict[str, float]] = []
        prev: tuple[np.ndarray, np.ndarray] | None = None
        self.n_seen_ = 0
        show = bool(progress) or (progress is None and sys.stderr.isatty())
        t0 = time.perf_counter()
        done = 0
        total = n * self.epochs
        for _ in range(self.epochs):
            seeds = np.asarray(rng.integers(0, 2 ** 63 - 1, size=n, dtype=np.uint64))
            for w0 in range(0, n, window):
                w1 = min(n, w0 + window)
                counts = np.zeros((w1 - w0, self.n_e), dtype=np.int64)
                levels = np.zeros(w1 - w0)
                step = _TRAIN_CHUNK if self.engine == "numba" else 1
                for c0 in range(w0, w1, step):
                    c1 = min(w1, c0 + step)
                    counts[c0 - w0:c1 - w0], levels[c0 - w0:c1 - w0] = engine.train(
                        X255[c0:c1], seeds[c0:c1])
                    done += c1 - c0
                    if show:
                        rate = done / (time.perf_counter() - t0)
                        print(f"\rdiehl-cook: {done}/{total} samples ({rate:.0f}/s)",
                              end="", file=sys.stderr, flush=True)
                self.n_seen_ += int((levels - self.intensity).sum()) + (w1 - w0)
                row = {"step": float(done), "spikes_per_sample": float(counts.sum(1).mean()),
                       "intensity": float(levels.mean())}
                if y is not None:
                    yw = y[w0:w1]
                    if prev is None:
                        row["train_accuracy"] = float("nan")
                    else:
                        classes, assign = _assign(*prev)
                        pred = classes[_scores(counts, assign, len(classes)).argmax(1)]
                        row["train_accuracy"] = float((pred == yw).mean())
                    prev = (counts, yw)
                rows.append(row)
                if callback is not None:   # the watched code: this window's training counts
                    callback(done, {**row, **watch_codes(counts)})
        if show:
            print(file=sys.stderr)
        self.W_, self.theta_ = engine.get_weights(), engine.get_theta()
        self.curves_ = {k: np.array([r[k] for r in rows]) for k in rows[0]} if rows else {}
        if rows:
            self.curves_["step"] = self.curves_["step"].astype(np.int64)
        self.assignments_ = None
        self.classes_ = None
        if y is not None:
            m = n if self.n_label is None else min(n, self.n_label)
            counts = self._frozen_counts(X[:m], np.ones(self.n_e, dtype=bool))
            self.classes_, self.assignments_ = _assign(counts, y[:m])

    def _encode(self, X: np.ndarray, mask: np.ndarray) -> np.ndarray:
        counts = self._frozen_counts(X, mask).astype(np.float64)
        counts[:, ~mask] = 0.0
        return counts

    # -- the paper's own figure ----------------------------------------------------------
    @classmethod
    def figures(cls, runs: Any) -> dict[str, Any]:
        """The paper's size figure (:func:`~neurocode.models.diehl_cook.sizes.size_figure`:
        test accuracy against network size, one line per training length, the paper's
        numbers beside them) when the runs vary in size or training length; else none."""
        from neurocode.models.diehl_cook.sizes import size_figure, size_table

        cells = size_table(runs)
        if len({c.n_e for c in cells}) < 2 and len({c.epochs for c in cells}) < 2:
            return {}
        return {"sizes": size_figure(runs)}

    # -- readout ------------------------------------------------------------------------
    def has_own_readout(self) -> bool:
        """Only when fitted with labels (its neurons labelled): else a linear probe reads it."""
        return getattr(self, "assignments_", None) is not None

    # ``decision_function`` and ``predict`` are properties that raise AttributeError when the
    # rule was fitted without labels, so ``hasattr(rule, "predict")`` tells a caller (and the
    # rule's users) whether it can classify; the framework reads has_own_readout instead.
    def _labelled(self) -> None:
        self._check_fitted()
        if getattr(self, "assignments_", None) is None:
            raise AttributeError(f"rule '{self.name}' was fitted without labels: its neurons "
                                 f"are not labelled, so it has no decision_function/predict")

    @property
    def decision_function(self):
        """``decision_function(X, unit_mask=None)``: per class, the mean spike count of the
        neurons assigned to it; shape (n_samples, n_classes). Only when fitted with labels."""
        try:
            self._labelled()
        except NotFittedError:
            pass  # exists, and refuses when called
        return self._decision_function

    @property
    def predict(self):
        """``predict(X, unit_mask=None)``: the class of largest :meth:`decision_function`."""
        try:
            self._labelled()
        except NotFittedError:
            pass
        return self._predict

    def _decision_function(self, X: Any, unit_mask: Any = None) -> np.ndarray:
        self._labelled()
        codes = self.encode(X, unit_mask=unit_mask)
        return _scores(codes, np.asarray(self.assignments_), len(np.asarray(self.classes_)))

    def _predict(self, X: Any, unit_mask: Any = None) -> np.ndarray:
        return np.asarray(self.classes_)[self._decision_function(X, unit_mask).argmax(axis=1)]


def _assign(counts: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each neuron's class: the one with the largest mean spike count (-1: never fired)."""
    classes = np.unique(y)
    inv = np.searchsorted(classes, y)
    means = np.zeros((len(classes), counts.shape[1]))
    np.add.at(means, inv, counts)
    means /= np.bincount(inv, minlength=len(classes))[:, None]
    assign = means.argmax(axis=0)
    assign[means.max(axis=0) <= 0] = -1
    return classes, assign.astype(np.int64)


def _scores(counts: np.ndarray, assign: np.ndarray, n_classes: int) -> np.ndarray:
    """Per class, the mean count of its neurons (0 for a class without neurons)."""
    A = np.zeros((counts.shape[1], n_classes))
    on = assign >= 0
    A[np.nonzero(on)[0], assign[on]] = 1.0
    size = A.sum(axis=0)
    A /= np.where(size > 0, size, 1.0)
    return np.asarray(counts, dtype=np.float64) @ A
