"""Diehl & Cook (2015): the numba engine against Brian2, STDP against hand-computed updates,
Poisson trains against the binomial law, and the rule's contract.

The Brian2 engine runs on the numpy target (no compiler needed). Both engines get the same
weights and the same input spike trains (drawn once,
:mod:`neurocode.models.diehl_cook.poisson`).
"""

import doctest

import numpy as np
import pytest

from neurocode.metrics.readout import fit_readout
from neurocode.models import diehl_cook as dc_module
from neurocode.models.diehl_cook import DiehlCook
from neurocode.models.diehl_cook.fast_engine import FastEngine
from neurocode.models.diehl_cook.network import DiehlCookModel, Protocol, delay_steps
from neurocode.models.diehl_cook.poisson import draw_trains, poisson_trains
from neurocode.params import ParamError
from neurocode.rules import load_rule, save_rule

from conftest import mnist_available, registered_fixture

brian2 = pytest.importorskip("brian2")
USES_BRIAN2 = True  # every test here may run the Brian2 engine (marker brian2)
from neurocode.models.diehl_cook.brian2_engine import Brian2Engine  # noqa: E402

P = Protocol()
#: every option both engines implement, alone and together (delays: Brian 1's 0-10 ms)
OPTIONS = {"default": {}, "euler": {"integrator": "euler"},
           "exponential_euler": {"integrator": "exponential_euler"},
           "brian1_refractoriness": {"refractoriness": "brian1"}, "delays": {"delays": True},
           "all": {"refractoriness": "brian1", "delays": True, "integrator": "euler"}}


def with_options(opts, shape, seed=5):
    """(model, delays) for an OPTIONS entry."""
    opts = dict(opts)
    delays = (delay_steps(*shape, 10.0, P.dt, np.random.default_rng(seed))
              if opts.pop("delays", False) else None)
    return DiehlCookModel(**opts), delays


# Brian2 2.9 calls pyparsing's camelCase API, which pyparsing 3.3 deprecates (not ours to fix)
pytestmark = pytest.mark.filterwarnings(r"ignore:'\w+' (argument is )?deprecated")


registered = registered_fixture(DiehlCook, autouse=True)


def images(n, offset=0):
    """MNIST test images (pixel values 0..255) if available, else random stroke images."""
    if mnist_available():
        from neurocode.data import load_mnist

        imgs, _ = load_mnist("mnist", split="test")
        return imgs[offset:offset + n].reshape(n, -1).astype(np.float64)
    rng = np.random.default_rng(offset)
    out = np.zeros((n, 28, 28))
    for k in range(n):
        for _ in range(3):
            r, c = rng.integers(4, 24, 2)
            if rng.random() < 0.5:
                out[k, r:r + 2, c - 4:c + 4] = 255.0
            else:
                out[k, r - 4:r + 4, c:c + 2] = 255.0
    return out.reshape(n, -1)


def trained_state(n_e, n_samples=300, seed=0):
    """Weights and thresholds after a little learning (fast engine), so the comparison runs
    on a network with structure rather than on random weights."""
    rng = np.random.default_rng(seed)
    W = 0.3 * (rng.random((784, n_e)) + 0.01)
    eng = FastEngine(W, np.full(n_e, 20.0))
    eng.train(images(n_samples, offset=5000),
              rng.integers(0, 2 ** 63 - 1, n_samples, dtype=np.uint64))
    return eng.W.copy(), eng.theta.copy()


# -- Poisson input ------------------------------------------------------------------------
def test_poisson_trains_follow_the_binomial_law():
    """Counts of a Bernoulli(p) train over n steps: mean n p, variance n p (1 - p)."""
    n_steps, n_in = 700, 4000
    for p in (0.002, 0.03, 0.2):
        ptr, idx = poisson_trains(np.full(n_in, p), n_steps, np.uint64(11))
        counts = np.bincount(idx, minlength=n_in)
        mean, var = n_steps * p, n_steps * p * (1 - p)
        assert abs(counts.mean() - mean) < 4 * np.sqrt(var / n_in)
        assert abs(counts.var() / var - 1) < 0.1
        per_step = np.diff(ptr)  # spikes per step: Binomial(n_in, p)
        assert abs(per_step.mean() - n_in * p) < 4 * np.sqrt(n_in * p * (1 - p) / n_steps)
        for s in range(0, n_steps, 97):  # at most one spike per input per step
            assert len(set(idx[ptr[s]:ptr[s + 1]])) == ptr[s + 1] - ptr[s]


def test_poisson_trains_depend_only_on_the_seed():
    p = np.linspace(0, 0.1, 50)
    a = draw_trains(p, 200, 7, attempt=1)
    b = draw_trains(p, 200, 7, attempt=1)
    c = draw_trains(p, 200, 7, attempt=2)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[1], c[1])
    assert not np.isin(0, a[1])  # rate 0: never spikes
    full = draw_trains(np.ones(5), 10, 0)  # p = 1: every step
    assert np.array_equal(np.diff(full[0]), np.full(10, 5))


# -- STDP by hand ---------------------------------------------------------------------------
@pytest.mark.parametrize("engine", ["numba", "brian2"])
def test_stdp_matches_hand_computed_updates(engine):
    """One input, one neuron whose threshold (theta = 0: -72 mV) is below rest, so it fires at
    step 0 and then whenever a 50 ms block (t_block=50) ends (steps 101, 202); the input fires
    at step 20.
    Depression at the input spike, potentiation at the next neuron spike:

        w1 = w0 - nu_pre exp(-20 dt / tau_post1)
        w2 = w1 + nu_post exp(-81 dt / tau_pre) exp(-101 dt / tau_post2)
    """
    m, w0, dt = DiehlCookModel(t_block=50.0), 0.5, P.dt
    W = np.array([[w0]])
    ptr = np.zeros(151, dtype=np.int64)
    ptr[21:] = 1
    idx = np.array([0])
    if engine == "numba":
        eng = FastEngine(W, np.zeros(1), m)
        eng.reset_state()
        counts = eng.present(ptr, idx, 150, 150, learn=True)
        w = eng.W[0, 0]
    else:
        eng = Brian2Engine(W, np.zeros(1), m, learning=True)
        counts = eng.present(ptr, idx, 150, 150)
        w = eng.get_weights()[0, 0]
    assert counts.tolist() == [2]  # steps 0 and 101
    w1 = w0 - m.nu_pre * np.exp(-20 * dt / m.tau_post1)
    w2 = w1 + m.nu_post * np.exp(-81 * dt / m.tau_pre) * np.exp(-101 * dt / m.tau_post2)
    assert w == pytest.approx(w2, rel=0, abs=1e-12)
    assert w2 > w0  # potentiation (pre before post) outweighs the depression here


# -- numba engine against Brian2 -------------------------------------------------------------
@pytest.mark.slow
def test_engines_agree_on_frozen_spike_counts():
    """Same weights, thresholds and input trains, 30 MNIST digits, 16 neurons: total spikes
    within 5 %, per-neuron count correlation >= 0.95 (in practice the counts are identical)."""
    n_e, n = 16, 30
    W, theta = trained_state(n_e)
    fast = FastEngine(W, theta)
    ref = Brian2Engine(W, theta, learning=False, target="numpy")
    X = images(n)
    cf, cb = [], []
    for k in range(n):
        ptr, idx = draw_trains(X[k] * P.rate_scale * P.intensity * P.dt * 1e-3, P.n_present, k)
        fast.reset_state()
        ref.reset_state()
        cf.append(fast.present(ptr, idx, P.n_present, P.n_present, learn=False))
        cb.append(ref.present(ptr, idx, P.n_present, P.n_present))
    cf, cb = np.array(cf), np.array(cb)
    assert cb.sum() > 5 * n  # the network does fire
    assert abs(cf.sum() - cb.sum()) <= 0.05 * cb.sum()
    assert np.corrcoef(cf.ravel(), cb.ravel())[0, 1] >= 0.95
    assert np.mean([np.array_equal(a, b) for a, b in zip(cf, cb, strict=True)]) >= 0.8


@pytest.fixture(scope="module")
def stdp_case():
    """A learnt 12-neuron state, one digit's input train, and the numba engine's result with
    the default model (to check that each option changes something)."""
    n_e = 12
    W, theta = trained_state(n_e, seed=1)
    ptr, idx = draw_trains(images(1, offset=3)[0] * P.rate_scale * P.intensity * P.dt * 1e-3,
                           P.n_present, 99)
    fast = FastEngine(W, theta)
    counts = fast.present(ptr, idx, P.n_present, P.n_present + P.n_rest, learn=True)
    return W, theta, ptr, idx, counts, fast.W.copy()


@pytest.mark.parametrize("option", list(OPTIONS))
def test_engines_agree_on_one_stdp_step(option, stdp_case):
    """One presentation with learning (350 ms + 150 ms rest) from the same state, with each
    option: the same spikes and the same weight change to 1e-12 (float rounding), thresholds
    to 1e-9 mV; every option changes the result."""
    W, theta, ptr, idx, c_default, W_default = stdp_case
    model, delays = with_options(OPTIONS[option], W.shape)
    fast = FastEngine(W, theta, model, delays=delays)
    ref = Brian2Engine(W, theta, model, learning=True, target="numpy", delays=delays)
    cf = fast.present(ptr, idx, P.n_present, P.n_present + P.n_rest, learn=True)
    cb = ref.present(ptr, idx, P.n_present, P.n_present + P.n_rest)
    np.testing.assert_array_equal(cf, cb)
    assert cb.sum() >= 3
    dW = ref.get_weights() - W
    assert (dW > 0).any() and (dW < 0).any()  # potentiation and depression both happened
    np.testing.assert_allclose(fast.W - W, dW, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fast.theta, ref.get_theta(), rtol=0, atol=1e-9)
    if option != "default":
        assert not np.allclose(fast.W, W_default, rtol=0, atol=1e-9)


@pytest.mark.parametrize("mode", ["hold", "brian1"])
def test_brian2_engine_refractoriness_step_by_step(mode):
    """The numba engine's refractoriness, step by step, in Brian2 (one excitatory neuron whose
    threshold is below reset, an input spike every step, its inhibitory partner): the same
    membrane potentials, to 1e-9 mV, spikes and clamps."""
    model = DiehlCookModel(refractoriness=mode)
    W, theta = np.full((1, 1), 0.5), np.zeros(1)
    fast, ref = FastEngine(W, theta, model), Brian2Engine(W, theta, model, learning=False)
    ptr, idx = np.array([0, 1]), np.array([0])
    vf, vb = [], []
    for _ in range(25):
        assert fast.present(ptr, idx, 1, 1, learn=False)[0] == ref.present(ptr, idx, 1, 1)[0]
        vf.append(fast.S[[0, 3], 0].copy())
        vb.append([float(ref.exc.v[0] / brian2.mV), float(ref.inh.v[0] / brian2.mV)])
    np.testing.assert_allclose(vf, vb, rtol=0, atol=1e-9)
    vf = np.array(vf)
    assert (vf[1:10, 0] == model.v_reset_e).all() == (mode == "hold")
    # the partner fires at step 2; clamped at reset 5 steps (Brian 1) or held 4
    assert (vf[:10, 1] == model.v_reset_i).sum() == (5 if mode == "brian1" else 4)


@pytest.mark.parametrize("engine", ["numba", "brian2"])
def test_delayed_stdp_matches_hand_computed_updates(engine):
    """The hand-computed test above with the input reaching the neuron 6 steps after it spikes
    (step 20): everything happens at arrival, step 26:

        w1 = w0 - nu_pre exp(-26 dt / tau_post1)
        w2 = w1 + nu_post exp(-75 dt / tau_pre) exp(-101 dt / tau_post2)
    """
    m, w0, dt = DiehlCookModel(t_block=50.0), 0.5, P.dt
    W, D = np.array([[w0]]), np.array([[6]])
    ptr = np.zeros(151, dtype=np.int64)
    ptr[21:] = 1
    idx = np.array([0])
    if engine == "numba":
        eng = FastEngine(W, np.zeros(1), m, delays=D)
        counts = eng.present(ptr, idx, 150, 150, learn=True)
        w = eng.W[0, 0]
    else:
        eng = Brian2Engine(W, np.zeros(1), m, learning=True, delays=D)
        counts = eng.present(ptr, idx, 150, 150)
        w = eng.get_weights()[0, 0]
    assert counts.tolist() == [2]
    w1 = w0 - m.nu_pre * np.exp(-26 * dt / m.tau_post1)
    w2 = w1 + m.nu_post * np.exp(-75 * dt / m.tau_pre) * np.exp(-101 * dt / m.tau_post2)
    assert w == pytest.approx(w2, rel=0, abs=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("option", ["default", "all"])
def test_engines_agree_on_the_training_protocol(option):
    """Normalisation, presentation, rest and intensity retries over three samples in a row
    (state carried over): same counts, intensities and weights. With "all" the rest is 5 ms,
    shorter than the delays: spikes still in flight arrive in the next presentation."""
    n_e = 8
    rng = np.random.default_rng(2)
    W = 0.3 * (rng.random((784, n_e)) + 0.01)
    theta = np.full(n_e, 28.0)  # high thresholds: some presentations need a retry
    X, seeds = images(3, offset=10), np.array([5, 6, 7], dtype=np.uint64)
    model, delays = with_options(OPTIONS[option], W.shape)
    proto = Protocol(t_rest=5.0) if delays is not None else P
    fast = FastEngine(W, theta, model, proto, delays=delays)
    ref = Brian2Engine(W, theta, model, proto, learning=True, target="numpy", delays=delays)
    cf, lf = fast.train(X, seeds)
    cb, lb = ref.train(X, seeds)
    np.testing.assert_array_equal(cf, cb)
    np.testing.assert_array_equal(lf, lb)
    assert lf.max() > P.intensity  # a retry happened
    np.testing.assert_allclose(fast.W, ref.get_weights(), rtol=0, atol=1e-10)


@pytest.mark.slow
@pytest.mark.parametrize("option", ["euler", "brian1_refractoriness", "delays"])
def test_engines_agree_on_frozen_spike_counts_with_each_option(option):
    """Frozen runs with each option (each sample from rest, retries included): identical
    counts and intensities on 12 digits."""
    n_e = 16
    W, theta = trained_state(n_e)
    model, delays = with_options(OPTIONS[option], W.shape)
    X, seeds = images(12, offset=40), np.arange(12, dtype=np.uint64) + np.uint64(77)
    cf, lf = FastEngine(W, theta, model, delays=delays).frozen_counts(X, seeds)
    cb, lb = Brian2Engine(W, theta, model, learning=False, delays=delays).frozen_counts(X, seeds)
    np.testing.assert_array_equal(cf, cb)
    np.testing.assert_array_equal(lf, lb)
    assert cb.sum() > 12


@pytest.mark.slow
@pytest.mark.parametrize("opts", [{}, {"refractoriness": "brian1", "delay_max": 10.0}])
def test_rule_gives_the_same_codes_on_either_engine(opts):
    X, y = _two_patterns(8)
    kw = dict(n_e=4, w_sum=12.0, intensity=4.0, t_present=200.0, t_rest=20.0, random_state=3,
              **opts)
    fast = DiehlCook(**kw).fit(X, y)
    ref = DiehlCook(engine="brian2", brian2_target="numpy", **kw).fit(X, y)
    np.testing.assert_allclose(ref.W_, fast.W_, rtol=0, atol=1e-10)
    np.testing.assert_array_equal(ref.assignments_, fast.assignments_)
    np.testing.assert_array_equal(ref.encode(X[:4]), fast.encode(X[:4]))


# -- the rule -------------------------------------------------------------------------------
def _two_patterns(n):
    X = np.zeros((n, 16))
    X[::2, :8] = 1.0
    X[1::2, 8:] = 1.0
    return X, np.arange(n) % 2


def test_rule_learns_two_patterns_and_labels_its_neurons():
    X, y = _two_patterns(40)
    rule = DiehlCook(n_e=4, w_sum=8.0, random_state=0).fit(X, y)
    assert (rule.predict(X) == y).mean() == 1.0
    assert set(rule.assignments_) == {0, 1}
    scores = rule.decision_function(X)
    assert scores.shape == (40, 2)
    np.testing.assert_array_equal(rule.receptive_fields(), rule.W_.T)
    np.testing.assert_array_equal(rule.classes_[scores.argmax(1)], rule.predict(X))


def test_codes_do_not_depend_on_the_batch_or_the_threads():
    X, y = _two_patterns(20)
    rule = DiehlCook(n_e=5, w_sum=8.0, random_state=0, n_jobs=1).fit(X, y)
    codes = rule.encode(X)
    np.testing.assert_array_equal(rule.encode(X[7:9]), codes[7:9])
    rule.n_jobs = 2
    np.testing.assert_array_equal(rule.encode(X), codes)


def test_unit_mask_silences_neurons_inside_the_network():
    X, y = _two_patterns(30)
    rule = DiehlCook(n_e=6, w_sum=8.0, random_state=1).fit(X, y)
    mask = np.array([True, False, True, False, True, False])
    intact, damaged = rule.encode(X), rule.encode(X, unit_mask=mask)
    assert np.all(damaged[:, ~mask] == 0)
    # their inhibitory partners are silent too: the survivors are less inhibited
    assert damaged[:, mask].sum() > intact[:, mask].sum()


def test_a_silenced_neuron_neither_fires_nor_learns():
    n_e = 4
    rng = np.random.default_rng(0)
    W = 0.3 * (rng.random((784, n_e)) + 0.01)
    alive = np.array([True, False, True, True])
    eng = FastEngine(W, np.full(n_e, 20.0), alive=alive)
    counts, _ = eng.train(images(20), np.arange(20, dtype=np.uint64))
    assert counts[:, 1].sum() == 0 and counts[:, alive].sum() > 0
    # its column was only ever rescaled to sum w_sum, never changed by STDP
    np.testing.assert_allclose(eng.W[:, 1], W[:, 1] * P.w_sum / W[:, 1].sum(), rtol=1e-12)
    assert not np.allclose(eng.W[:, 0], W[:, 0] * P.w_sum / W[:, 0].sum())


@pytest.mark.parametrize("bad", [{"n_e": 0}, {"engine": "torch"}, {"brian2_target": "gpu"},
                                 {"dt": -0.5}, {"t_present": 0.1, "dt": 0.5},
                                 {"max_retries": -1}, {"nu_pre": "fast"}])
def test_bad_parameters_raise_value_error_naming_them(bad):
    X, y = _two_patterns(4)
    with pytest.raises(ValueError) as exc:
        DiehlCook(**bad).fit(X, y)
    assert isinstance(exc.value, ParamError)
    assert any(k in str(exc.value) for k in bad)


def test_save_load_round_trip(tmp_path):
    X, y = _two_patterns(20)
    rule = DiehlCook(n_e=4, w_sum=8.0, random_state=2).fit(X, y)
    save_rule(rule, tmp_path / "dc.h5")
    back = load_rule(tmp_path / "dc.h5")
    assert back.get_params() == rule.get_params()
    np.testing.assert_array_equal(back.W_, rule.W_)
    np.testing.assert_array_equal(back.assignments_, rule.assignments_)
    np.testing.assert_array_equal(back.encode(X), rule.encode(X))
    np.testing.assert_array_equal(back.predict(X), rule.predict(X))
    np.testing.assert_array_equal(back.curves_["train_accuracy"], rule.curves_["train_accuracy"])


def test_without_labels_there_is_no_readout_and_the_battery_uses_a_probe(tmp_path):
    X, y = _two_patterns(20)
    rule = DiehlCook(n_e=4, w_sum=8.0, random_state=2).fit(X)
    assert rule.encode(X).shape == (20, 4)
    assert not hasattr(rule, "decision_function") and not hasattr(rule, "predict")
    assert fit_readout(rule, X, y).kind == "linear probe"
    save_rule(rule, tmp_path / "dc.h5")
    assert not hasattr(load_rule(tmp_path / "dc.h5"), "predict")
    labelled = DiehlCook(n_e=4, w_sum=8.0, random_state=2).fit(X, y)
    assert fit_readout(labelled, X, y).kind == "own classifier"


def test_docstring_example():
    # the rule's example lives in the rule's module (the package re-exports the class)
    result = doctest.testmod(dc_module.rule, raise_on_error=False)
    assert result.attempted > 0 and result.failed == 0


# -- the torch engine (frozen runs batched over samples, on any device) -------------------------
@pytest.mark.slow
@pytest.mark.parametrize("option", list(OPTIONS))
def test_torch_engine_gives_the_numba_engines_spikes(option):
    """Frozen runs in torch (batched, float64) against the numba engine on the same trains,
    with each option: the same spike counts and retry intensities, with and without silenced
    neurons."""
    from neurocode.models.diehl_cook.torch_engine import TorchEngine

    W, theta = trained_state(20, n_samples=200)
    model, delays = with_options(OPTIONS[option], W.shape)
    n = 60 if delays is None else 12  # (delays: ~20 masked additions a step, slow on a CPU)
    X = images(n, offset=100)
    seeds = np.arange(1, n + 1, dtype=np.uint64) * np.uint64(7919)
    for alive in (None, np.arange(20) % 3 != 0):
        a, la = FastEngine(W, theta, model, delays=delays).frozen_counts(X, seeds, alive=alive)
        b, lb = TorchEngine(W, theta, model, chunk=25, delays=delays).frozen_counts(
            X, seeds, alive=alive)
        np.testing.assert_array_equal(b, a)
        np.testing.assert_array_equal(lb, la)
        assert a.sum() > 0
        if alive is not None:
            assert b[:, ~alive].sum() == 0


def test_cuda_device_without_a_gpu_is_a_clear_error():
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is here")
    with pytest.raises(ParamError, match="no CUDA device"):
        DiehlCook(n_e=4, device="cuda").fit(images(4))
