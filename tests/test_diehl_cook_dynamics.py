"""Diehl & Cook: the integrators against the continuous-time equations, the bound on activity
that the exact step guarantees (forward Euler breaks it where it ran away), Brian 1's
refractoriness and the input delays step by step, and the rule's options.

The references are not this engine: scipy's adaptive Runge-Kutta for the membrane equation,
the closed form of its fixed point, the rules of Brian 1's source (``neurongroup.py``,
``reset.py``, ``connections/delayconnection.py``) and hand-computed STDP updates. The Brian2
engine's agreement with the numba engine on every option is in ``test_diehl_cook.py``.
"""

import numpy as np
import pytest

from neurocode.config import resolve
from neurocode.models.diehl_cook import DiehlCook
from neurocode.models.diehl_cook.fast_engine import FastEngine, delay_buckets
from neurocode.models.diehl_cook.network import DiehlCookModel, Protocol, delay_steps
from neurocode.params import ParamError
from neurocode.rules import load_rule, save_rule

from conftest import REPO, needs_mnist, registered_fixture

P = Protocol()
M = DiehlCookModel()
registered = registered_fixture(DiehlCook, autouse=True)
EXACT = ("exponential", "exponential_euler")


def one_neuron(integrator, v0, ge0, gi0, dt, n_steps):
    """An excitatory neuron that cannot spike (silenced), no input: v after each step from v0
    with conductances ge0, gi0 decaying freely."""
    m = DiehlCookModel(integrator=integrator)
    eng = FastEngine(np.zeros((1, 1)), np.array([20.0]), m, Protocol(dt=dt),
                     alive=np.zeros(1, dtype=bool))
    eng.S[0, 0], eng.S[1, 0], eng.S[2, 0] = v0, ge0, gi0
    ptr = np.zeros(2, dtype=np.int64)
    out = []
    for _ in range(n_steps):
        eng.present(ptr, np.zeros(0, dtype=np.int64), 1, 1, learn=False)
        out.append(eng.S[0, 0])
    return np.array(out)


# -- the integrators ---------------------------------------------------------------------------
@pytest.mark.parametrize("integrator", ["exponential", "exponential_euler", "euler"])
def test_membrane_step_converges_to_the_continuous_equation(integrator):
    """tau_e dv/dt = (v_rest - v) + ge (E_e - v) + gi (E_i - v), ge = 3 e^-t, gi = 30 e^(-t/2),
    from rest: every integrator converges to scipy's solution (first order or better) as dt
    shrinks. At dt = 0.5 ms the default, which integrates the conductances' decay within the
    step, is closer than Brian2's exponential Euler, which holds them at their start values."""
    from scipy.integrate import solve_ivp

    ge0, gi0, v0, T = 3.0, 30.0, -65.0, 20.0

    def f(t, v):
        ge, gi = ge0 * np.exp(-t / M.tau_ge), gi0 * np.exp(-t / M.tau_gi)
        return [((M.v_rest_e - v[0]) + ge * (M.e_exc_e - v[0]) + gi * (M.e_inh_e - v[0])) / M.tau_e]

    errs = []
    for dt in (0.5, 0.25, 0.125):
        n = int(round(T / dt))
        ref = solve_ivp(f, (0, T), [v0], t_eval=dt * np.arange(1, n + 1), rtol=1e-11,
                        atol=1e-11).y[0]
        errs.append(np.abs(one_neuron(integrator, v0, ge0, gi0, dt, n) - ref).max())
    assert errs[2] < errs[1] < errs[0]
    assert errs[2] < 0.6 * errs[1] and errs[1] < 0.6 * errs[0]  # order >= ~0.75 (1 in theory)
    if integrator == "exponential":
        ee = one_neuron("exponential_euler", v0, ge0, gi0, 0.5, 40)
        ref = solve_ivp(f, (0, T), [v0], t_eval=0.5 * np.arange(1, 41), rtol=1e-11,
                        atol=1e-11).y[0]
        assert errs[0] < 0.5 * np.abs(ee - ref).max()


@pytest.mark.parametrize("integrator", ["exponential", "exponential_euler", "euler"])
def test_no_exact_step_overshoots_and_euler_does(integrator):
    """Whatever the conductances, one exact step moves v towards the fixed point of the step,
    v_inf = (v_rest + c_e ge E_e + c_i gi E_i) / (1 + c_e ge + c_i gi) (c: 1, or the
    conductance's mean over the step, (1 - e^(-dt/tau)) tau / dt), without passing it: v stays
    within [E_inh, E_exc] = [-100, 0] mV. Forward Euler passes it once dt (1 + ge + gi) / tau
    > 1 (gi > 199 at 0.5 ms)."""
    rng = np.random.default_rng(0)
    n = 2000
    v0 = rng.uniform(-100.0, 0.0, n)
    ge0, gi0 = 10 ** rng.uniform(-3, 4, n), 10 ** rng.uniform(-3, 4, n)
    m = DiehlCookModel(integrator=integrator)
    eng = FastEngine(np.zeros((1, n)), np.full(n, 20.0), m, P, alive=np.zeros(n, dtype=bool))
    eng.S[0], eng.S[1], eng.S[2] = v0, ge0, gi0
    eng.present(np.zeros(2, dtype=np.int64), np.zeros(0, dtype=np.int64), 1, 1, learn=False)
    v1 = eng.S[0]
    mean = integrator == "exponential"
    c_e = -np.expm1(-P.dt / M.tau_ge) * M.tau_ge / P.dt if mean else 1.0
    c_i = -np.expm1(-P.dt / M.tau_gi) * M.tau_gi / P.dt if mean else 1.0
    g_e, g_i = c_e * ge0, c_i * gi0
    v_inf = (M.v_rest_e + g_e * M.e_exc_e + g_i * M.e_inh_e) / (1 + g_e + g_i)
    between = (np.minimum(v0, v_inf) - 1e-9 <= v1) & (v1 <= np.maximum(v0, v_inf) + 1e-9)
    if integrator == "euler":
        stiff = P.dt * (1 + ge0 + gi0) / M.tau_e > 1.0
        assert not between[stiff].any() and between[~stiff].all()
        assert (v1 < M.e_inh_e).any()
    else:
        assert between.all()
        assert M.e_inh_e <= v1.min() and v1.max() <= M.e_exc_e
        # and it is the exact solution of the step's linear equation
        x = np.exp(-P.dt * (1 + g_e + g_i) / M.tau_e)
        np.testing.assert_allclose(v1, v_inf + (v0 - v_inf) * x, rtol=1e-12, atol=1e-10)


def _train_from_the_rules_start(n_e, dt, n, integrator):
    """The rule's start (``DiehlCook._fit`` with random_state 0: weights 0.3 U(0.01, 1.01),
    theta 20 mV, v 40 mV below rest) and training protocol on the first n MNIST images."""
    from neurocode.data import load_mnist

    imgs, _ = load_mnist("mnist", split="train")
    rng = np.random.default_rng(0)
    rng.integers(0, 2 ** 63 - 1)  # the rule's seed_
    W = 0.3 * (rng.random((784, n_e)) + 0.01)
    seeds = rng.integers(0, 2 ** 63 - 1, size=n, dtype=np.uint64)
    m = DiehlCookModel(integrator=integrator)
    eng = FastEngine(W, np.full(n_e, m.theta_init), m, Protocol(dt=dt))
    eng.reset_state(v_offset=-40.0)
    counts, _ = eng.train(imgs[:n].reshape(n, -1).astype(np.float64), seeds)
    return eng, counts.sum(axis=1)


def _activity_bound(eng):
    """What the exact step guarantees. It never takes v above E_exc = 0 mV, and a neuron fires
    only when v > theta - 72 mV, so one whose theta reached 72 mV never fires again: theta
    stays below 72 + theta_plus, and since every spike adds theta_plus (theta otherwise only
    decays, by at most exp(-T / tau_theta) over the T ms simulated), a neuron fires at most
    ((72 + theta_plus) exp(T / tau_theta) - theta_init) / theta_plus times in all.
    Returns (theta ceiling, the network's lifetime spike budget)."""
    m = eng.model
    ceiling = m.offset - m.v_thresh_e + m.e_exc_e + m.theta_plus  # 72.05 mV
    grow = np.exp(eng.clock[0] * eng.protocol.dt / m.tau_theta)
    per_neuron = (ceiling * grow - m.theta_init) / m.theta_plus
    return ceiling, eng.W.shape[1] * per_neuron


@needs_mnist
def test_activity_stays_bounded_where_forward_euler_ran_away():
    """400 neurons at dt = 1 ms, 30 training images: with forward Euler the activity ran away
    from the 8th on (over 20,000 spikes a sample instead of about ten) and broke the bound by
    the 25th (next test); with the exact step it stays within it, far below."""
    eng, spikes = _train_from_the_rules_start(400, 1.0, 30, "exponential")
    ceiling, budget = _activity_bound(eng)
    assert eng.theta.max() <= ceiling
    assert spikes.sum() <= budget
    assert spikes.max() <= 400 * P.n_present / eng.C.n_ref_e  # refractoriness, per sample


@needs_mnist
@pytest.mark.slow
def test_forward_euler_breaks_the_bound():
    """The same run with forward Euler: the bound the exact step keeps is broken (so the tests
    above can fail)."""
    euler, spikes = _train_from_the_rules_start(400, 1.0, 30, "euler")
    ceiling, budget = _activity_bound(euler)
    assert euler.theta.max() > ceiling and spikes.sum() > budget


@needs_mnist
@pytest.mark.slow
def test_1600_neurons_stay_bounded_where_forward_euler_ran_away():
    """1,600 neurons at dt = 0.5 ms, 130 training images: forward Euler ran away at the 112th
    (97,600 spikes in it) and broke the bound at the 128th; the exact step stays within it."""
    eng, spikes = _train_from_the_rules_start(1600, 0.5, 130, "exponential")
    ceiling, budget = _activity_bound(eng)
    assert eng.theta.max() <= ceiling
    assert spikes.sum() <= budget
    assert spikes.max() <= 1600 * P.n_present / eng.C.n_ref_e


# -- Brian 1's refractoriness -------------------------------------------------------------------
def _step_by_step(model, n_steps, theta=0.0, w=0.5):
    """One excitatory neuron (theta 0: its threshold, -72 mV, is below v_reset, so it fires
    whenever it may) driven by an input spike every step, and its inhibitory partner; the
    state after every step."""
    eng = FastEngine(np.full((1, 1), w), np.array([theta]), model)
    ptr, idx = np.array([0, 1]), np.array([0])
    rows = []
    for _ in range(n_steps):
        spiked = eng.present(ptr, idx, 1, 1, learn=False)[0]
        rows.append((eng.S[0, 0], eng.S[3, 0], spiked, eng.L[1, 0]))
    v_e, v_i, spk, last_i = map(np.array, zip(*rows, strict=True))
    return v_e, v_i, spk, last_i


@pytest.mark.parametrize("mode", ["hold", "brian1"])
def test_refractoriness_as_brian1_did_it(mode):
    """Brian 1, as the original script used it: the excitatory reset is a string, which
    Brian 1's NeuronGroup does not clamp (no Refractoriness): v integrates from v_reset at once;
    spiking is blocked until t_spike + refrac - dt/2 (10 steps at 0.5 ms). The inhibitory
    reset is a number, turned into Refractoriness(period=2 ms): v is clamped at v_reset for
    int(2 ms / dt) + 1 = 5 steps, the last after a free update; spikes are blocked 4 steps.
    Brian2 ("hold"): v held 10 and 4 steps."""
    v_e, v_i, spk, last_i = _step_by_step(DiehlCookModel(refractoriness=mode), 40)
    fired = np.flatnonzero(spk)
    assert fired[0] == 0 and np.all(np.diff(fired) == 10)  # blocked 10 steps either way
    after = v_e[1:10]  # the steps after the first spike, before the next is allowed
    if mode == "hold":
        assert np.all(after == M.v_reset_e)
    else:
        assert np.all(np.diff(np.r_[M.v_reset_e, after]) > 0)  # driven up from v_reset
    t_i = int(last_i[fired[1] - 1])  # the partner's spike after the first excitatory one
    clamp = 5 if mode == "brian1" else 4
    assert np.all(v_i[t_i:t_i + clamp] == M.v_reset_i)
    assert v_i[t_i + clamp] != M.v_reset_i


def test_brian1_step_counts_follow_its_rule_for_any_dt():
    """Spikes allowed from t + refrac - dt/2, v clamped int(refrac/dt) + 1 steps (Brian 1);
    timestep(refrac, dt) steps held (Brian2)."""
    for dt, n_ref_e, n_ref_i, clamp in ((0.5, 10, 4, 5), (1.0, 5, 2, 3), (0.3, 17, 7, 7),
                                        (0.7, 7, 3, 3)):
        C = DiehlCookModel(refractoriness="brian1").step_constants(dt)
        assert (C.n_ref_e, C.n_ref_i, C.n_clamp_i, C.hold_e) == (n_ref_e, n_ref_i, clamp, False)
    C = DiehlCookModel().step_constants(0.3)
    assert (C.n_ref_e, C.n_ref_i, C.n_clamp_i, C.hold_e) == (16, 6, 6, True)


# -- input delays -------------------------------------------------------------------------------
def test_delays_as_brian1_draws_them():
    """Brian 1's DelayConnection: d ~ U(0, 10 ms) per synapse, int(d / dt) steps (0..19 at
    0.5 ms), each step equally likely."""
    D = delay_steps(784, 400, 10.0, 0.5, np.random.default_rng(0))
    assert D.shape == (784, 400) and D.min() == 0 and D.max() == 19
    freq = np.bincount(D.ravel(), minlength=20) / D.size
    assert np.abs(freq - 1 / 20).max() < 4 * np.sqrt(0.05 * 0.95 / D.size)
    dptr, dj = delay_buckets(D[:3, :50])
    for i in range(3):
        for k in range(20):
            assert sorted(dj[i, dptr[i, k]:dptr[i, k + 1]]) == list(np.flatnonzero(D[i, :50] == k))


def test_a_delayed_spike_arrives_and_learns_on_arrival():
    """One input spike at step 20 reaches neuron 0 at once and neuron 1 six steps later: its
    ge jumps then. STDP at the synapse: depression with post1 at arrival, and the next
    potentiation with the synapse's pre trace since arrival (neurons fire at steps 0 and 101:
    theta 0, t_block 50 ms):

        w1 = w0 - nu_pre exp(-(20 + D) dt / tau_post1)
        w2 = w1 + nu_post exp(-(101 - 20 - D) dt / tau_pre) exp(-101 dt / tau_post2)
    """
    m, w0, dt = DiehlCookModel(t_block=50.0), 0.5, P.dt
    D = np.array([[0, 6]])
    eng = FastEngine(np.full((1, 2), w0), np.zeros(2), m, delays=D)
    ptr = np.zeros(151, dtype=np.int64)
    ptr[21:] = 1
    ge = []
    for s in range(30):
        eng.present(ptr[s:s + 2] - ptr[s], np.array([0])[:ptr[s + 1] - ptr[s]], 1, 1,
                    learn=True)
        ge.append(eng.S[1].copy())
    ge = np.array(ge)
    assert ge[19, 0] < 1e-6 < ge[20, 0] and ge[20, 0] > w0 - 1e-3  # neuron 0: at once
    assert ge[25, 1] < 1e-6 < ge[26, 1] and ge[26, 1] > w0 - 1e-3  # neuron 1: 6 steps later
    eng.present(np.zeros(122, dtype=np.int64), np.zeros(0, dtype=np.int64), 121, 121, True)
    for j, d in enumerate((0, 6)):
        w1 = w0 - m.nu_pre * np.exp(-(20 + d) * dt / m.tau_post1)
        w2 = w1 + m.nu_post * np.exp(-(81 - d) * dt / m.tau_pre) * np.exp(-101 * dt / m.tau_post2)
        assert eng.W[0, j] == pytest.approx(w2, rel=0, abs=1e-12)


def test_spikes_in_flight_arrive_in_the_next_call_and_not_after_a_reset():
    """A presentation cut into single steps gives what one call gives (spikes emitted near the
    end of a call arrive in the next, as in Brian2's queue); a reset to rest drops them."""
    from neurocode.models.diehl_cook.poisson import draw_trains

    rng = np.random.default_rng(3)
    n_in, n_e, n = 50, 5, 60
    W, D = rng.random((n_in, n_e)), rng.integers(0, 12, (n_in, n_e))
    ptr, idx = draw_trains(np.full(n_in, 0.05), n, 9)
    whole = FastEngine(W, np.full(n_e, 20.0), M, delays=D)
    steps = FastEngine(W, np.full(n_e, 20.0), M, delays=D)
    cw = whole.present(ptr, idx, n, n, learn=True)
    cs = sum(steps.present(ptr[s:s + 2] - ptr[s], idx[ptr[s]:ptr[s + 1]], 1, 1, learn=True)
             for s in range(n))
    np.testing.assert_array_equal(cs, cw)
    np.testing.assert_array_equal(steps.W, whole.W)
    np.testing.assert_array_equal(steps.S, whole.S)
    quiet = np.zeros(2, dtype=np.int64), np.zeros(0, dtype=np.int64)
    whole.present(*quiet, 1, 1, learn=False)
    assert whole.S[1].max() > 0  # still arriving
    steps.reset_state()
    steps.present(*quiet, 1, 1, learn=False)
    assert steps.S[1].max() == 0


# -- the rule's options ---------------------------------------------------------------------------
def _two_patterns(n):
    X = np.zeros((n, 16))
    X[::2, :8] = 1.0
    X[1::2, 8:] = 1.0
    return X, np.arange(n) % 2


@pytest.mark.parametrize("opts", [{"integrator": "euler"}, {"refractoriness": "brian1"},
                                  {"delay_max": 10.0},
                                  {"refractoriness": "brian1", "delay_max": 10.0}])
def test_each_option_changes_the_run_and_still_learns(opts, tmp_path):
    X, y = _two_patterns(40)
    kw = dict(n_e=4, w_sum=8.0, random_state=0)
    base = DiehlCook(**kw).fit(X, y)
    rule = DiehlCook(**kw, **opts).fit(X, y)
    assert not np.array_equal(rule.W_, base.W_)
    assert (rule.predict(X) == y).mean() == 1.0
    if "delay_max" in opts:
        assert rule.delays_.shape == (16, 4) and rule.delays_.max() <= 19
        save_rule(rule, tmp_path / "dc.h5")
        back = load_rule(tmp_path / "dc.h5")
        np.testing.assert_array_equal(back.delays_, rule.delays_)
        np.testing.assert_array_equal(back.encode(X), rule.encode(X))
    else:
        assert rule.delays_ is None


def test_delays_do_not_change_the_input_trains():
    """The delays come from their own seed: with and without them the rule draws the same
    initial weights and input trains (so the runs differ by the delays alone)."""
    X, _ = _two_patterns(6)
    a = DiehlCook(n_e=3, w_sum=8.0, random_state=4, epochs=0).fit(X)
    b = DiehlCook(n_e=3, w_sum=8.0, random_state=4, epochs=0, delay_max=10.0).fit(X)
    np.testing.assert_array_equal(a.W_, b.W_)
    assert a.seed_ == b.seed_


@pytest.mark.parametrize("bad", [{"integrator": "rk4"}, {"refractoriness": "brian3"},
                                 {"delay_max": -1.0}])
def test_bad_option_values_are_a_clear_error(bad):
    with pytest.raises(ParamError) as exc:
        DiehlCook(**bad).fit(np.ones((2, 4)))
    assert next(iter(bad)) in str(exc.value)
    with pytest.raises(ValueError, match="integrator|refractoriness"):
        DiehlCookModel(**{k: v for k, v in bad.items() if k != "delay_max"} or
                       {"integrator": "rk4"})


def test_the_options_stay_out_of_existing_configs_but_the_new_integrator_is_named():
    """The Brian 1 options were added after run files existed (omit_if_unset): the
    experiment's resolved config, and so its run file's name, does not mention them; setting
    one changes the name. The integrator's default changed (forward Euler to the exact step),
    so it is always named: a run stored with Euler under the old name is never taken for one
    of the new default."""
    from neurocode.config import load_yaml

    raw = load_yaml(REPO / "experiments" / "diehl_cook_mnist.yaml")
    spec = resolve(raw)[0]
    assert spec.config["model"]["integrator"] == "exponential"
    for key in ("refractoriness", "delay_max"):
        assert key not in spec.config["model"]
    for key, value in (("model.integrator", "euler"), ("model.refractoriness", "brian1"),
                       ("model.delay_max", 10.0)):
        other = resolve(raw, {key: value})[0]
        assert other.config["model"][key.split(".")[1]] == value
        assert other.digest != spec.digest


def test_poly_exp_is_within_an_ulp_of_the_correctly_rounded_exp():
    """The vectorisable exp of the exact step against mpmath's at 40 digits, over its range."""
    import mpmath
    from numba import njit

    from neurocode.models.diehl_cook.fast_engine import POLY_EXP_RANGE, poly_exp

    @njit
    def many(x):
        out = np.empty_like(x)
        for i in range(x.shape[0]):
            out[i] = poly_exp(x[i])
        return out

    x = np.r_[np.linspace(-POLY_EXP_RANGE, 0.0, 1500), -np.logspace(-17, -0.5, 500)]
    with mpmath.workdps(40):
        exact = np.array([float(mpmath.exp(mpmath.mpf(float(v)))) for v in x])
    assert (np.abs(many(x) - exact) / np.spacing(exact)).max() <= 1.0
