"""A layer of a live torch model as a code (neurocode.adapters.torch_layer.TorchLayerCode).

The codes are checked against the same network written out in NumPy (a matrix product, a
3x3 convolution, a leaky integrate-and-fire loop), silencing inside the network against the
rest of the network applied to zeroed stored codes, and the fault curve of a network built
to cascade against the hypergeometric closed form. The done-when comparison: for a one-layer
network read by its linear output layer, silencing through the hook and zeroing columns of
the stored codes give the same fault curve; for a two-layer network they part, and by how
much is printed and asserted.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import hypergeom
from torch import nn

from neurocode.adapters import AdapterError, NonFiniteOutputError, TorchLayerCode, measure_layer
from neurocode.adapters.torch_layer import layer_names
from neurocode.codes import GivenCodes
from neurocode.metrics.battery import MEASURES
from neurocode.metrics.fault import fault_tolerance, n_silenced
from neurocode.metrics.readout import Readout, fit_readout
from neurocode.testing import CHECKS, check_rule, conformance_data

# many small products: on a shared 2-core machine, threads spinning against each other make
# them ~10x slower than one thread (the numbers do not change)
pytestmark = pytest.mark.usefixtures("one_blas_thread", "one_torch_thread")


@pytest.fixture(scope="module")
def one_torch_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _data(n=400, d=16, C=4, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, C, n)
    X = rng.random((n, d)).astype(np.float32) * 0.5
    X[np.arange(n), y] += 1.0
    return X, y


def _train(model, X, y, steps=200, lr=0.5):
    """Full-batch gradient descent on the cross-entropy (plain updates: torch.optim's first
    step imports the compiler stack, seconds on a cold start)."""
    xt, yt = torch.as_tensor(X), torch.as_tensor(y)
    for _ in range(steps):
        model.zero_grad()
        nn.functional.cross_entropy(model(xt), yt).backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
    return model


class _LinearReadout:
    """A fixed linear map of stored codes to class scores (for a GivenCodes readout)."""

    def __init__(self, W, b):
        self.W, self.b = np.asarray(W, dtype=np.float64), np.asarray(b, dtype=np.float64)
        self.classes_ = np.arange(len(self.b))

    def decision_function(self, codes):
        return np.asarray(codes, dtype=np.float64) @ self.W.T + self.b


class _NetReadout:
    """Stored codes read by the rest of a network (``tail``: the layers after the code)."""

    def __init__(self, tail, n_classes):
        self.tail, self.classes_ = tail, np.arange(n_classes)

    def decision_function(self, codes):
        with torch.no_grad():
            return self.tail(torch.as_tensor(np.asarray(codes, dtype=np.float32))).double().numpy()


# -- the code and silencing, against NumPy -------------------------------------------------------
def test_codes_are_the_layer_output_and_silencing_reaches_the_later_layers():
    X, y = _data()
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(16, 20), nn.ReLU(), nn.Linear(20, 4))
    rule = TorchLayerCode(net, "1", classifier=True, batch_size=64).fit(X, y)
    W1, b1 = net[0].weight.detach().double().numpy(), net[0].bias.detach().double().numpy()
    W2, b2 = net[2].weight.detach().double().numpy(), net[2].bias.detach().double().numpy()
    H = np.maximum(X.astype(np.float64) @ W1.T + b1, 0)
    codes = rule.encode(X)
    assert codes.shape == (400, 20) and rule.n_units == 20
    np.testing.assert_allclose(codes, H, rtol=1e-5, atol=1e-6)
    mask = np.random.default_rng(1).random(20) < 0.6
    np.testing.assert_array_equal(rule.encode(X, unit_mask=mask)[:, ~mask], 0)
    np.testing.assert_array_equal(rule.encode(X, unit_mask=mask)[:, mask], codes[:, mask])
    # the later layer really loses the silenced units: the output of the damaged network
    scores = rule.decision_function(X, unit_mask=mask)
    np.testing.assert_allclose(scores, (H * mask) @ W2.T + b2, rtol=1e-5, atol=1e-5)
    assert not np.allclose(scores, rule.decision_function(X), atol=1e-3)
    np.testing.assert_array_equal(rule.predict(X, unit_mask=mask), scores.argmax(axis=1))
    assert rule.silencing_kind() == "dropped"


def test_one_layer_net_hook_silencing_equals_zeroing_stored_codes():
    """Code ReLU(Wx + b) read by a linear layer: the fault curve silencing inside the network
    and the one zeroing columns of the captured codes (GivenCodes) under the same linear
    readout agree to float rounding."""
    X, y = _data()
    Xtr, ytr, Xte, yte = X[:300], y[:300], X[300:], y[300:]
    torch.manual_seed(0)
    net = _train(nn.Sequential(nn.Linear(16, 24), nn.ReLU(), nn.Linear(24, 4)), Xtr, ytr)
    rule = TorchLayerCode(net, "1").fit(Xtr, ytr)
    assert rule.has_own_readout()          # labels 0..3 and 4 output columns: a classifier
    hook = fault_tolerance(rule, fit_readout(rule, Xtr, ytr), Xte, yte, n_draws=5)

    given = GivenCodes(random_state=0).fit(rule.encode(Xtr))
    out = net[2]
    readout = Readout(given, _LinearReadout(out.weight.detach(), out.bias.detach()))
    stored = fault_tolerance(given, readout, rule.encode(Xte), yte, n_draws=5)
    assert hook["accuracy_intact"] > 0.9
    for key in ("accuracy_random", "accuracy_most_active"):
        np.testing.assert_allclose(hook[key], stored[key], rtol=0, atol=1e-12)
    assert hook["auc_random"] == pytest.approx(stored["auc_random"], abs=1e-12)
    # the scores agree too, not only the decisions
    mask = np.arange(24) % 3 != 0
    np.testing.assert_allclose(rule.decision_function(Xte, unit_mask=mask),
                               readout.scores(rule.encode(Xte), unit_mask=mask),
                               rtol=1e-5, atol=1e-5)


def _cascade_net():
    """4 classes, 4 blocks of 10 code units; block c copies input feature c (less 0.05, so
    the other blocks are silent); unit c of the second hidden layer fires only while at
    least 9 units of block c are alive; the output is that layer. A stimulus of class c is
    read correctly while block c keeps 9 of its 10 units, else the output is all zero and
    argmax says class 0."""
    net = nn.Sequential(nn.Linear(4, 40), nn.ReLU(), nn.Linear(40, 4), nn.ReLU(),
                        nn.Linear(4, 4))
    with torch.no_grad():
        net[0].weight.zero_()
        net[0].bias.fill_(-0.05)
        for c in range(4):
            net[0].weight[c * 10:(c + 1) * 10, c] = 1.0
        net[2].weight.zero_()
        for c in range(4):
            net[2].weight[c, c * 10:(c + 1) * 10] = 1.0
        net[2].bias.fill_(-8.05)     # 9 alive: >= 9 * 0.91; 8 alive: <= 8 * 0.99
        net[4].weight.copy_(torch.eye(4))
        net[4].bias.zero_()
    return net


def _cascade_data(n, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    X = np.eye(4, dtype=np.float32)[y] + rng.uniform(-0.04, 0.04, (n, 4)).astype(np.float32)
    return X, y


def test_two_layer_net_hook_silencing_differs_from_stored_codes(capsys):
    """Code = the first hidden layer, a second hidden layer after it, then the classifier.
    Silencing inside the network follows the network's own closed form (block c survives
    while at most 1 of its 10 units is silenced: hypergeometric); the stored codes read by
    the battery's linear probe degrade far more gracefully: the curves differ, by a lot."""
    Xtr, ytr = _cascade_data(400, 0)
    Xte, yte = _cascade_data(400, 1)
    net = _cascade_net()
    rule = TorchLayerCode(net, "1").fit(Xtr, ytr)
    assert rule.has_own_readout() and rule.n_units == 40
    draws = 80
    hook = fault_tolerance(rule, fit_readout(rule, Xtr, ytr), Xte, yte, n_draws=draws)
    f = hook["fractions"]
    assert hook["accuracy_intact"] == 1.0
    # the network's own closed form: P(block keeps >= 9 of 10) with m(f) of 40 units silenced
    # (a class-0 stimulus is read right either way). One draw's accuracy is p0 + sum_c p_c S_c
    # with S_c ~ Bernoulli(keep), negatively correlated across blocks, so its variance is at
    # most (1 - p0)^2 keep (1 - keep): the mean over draws is within 4 such standard errors
    keep = hypergeom(40, 10, n_silenced(f, 40)).cdf(1)
    p0 = float(np.mean(yte == 0))
    theory = p0 + (1 - p0) * keep
    se = (1 - p0) * np.sqrt(keep * (1 - keep) / draws)
    assert np.all(np.abs(hook["accuracy_random"] - theory) <= 4 * se + 1e-12), \
        (hook["accuracy_random"], theory, se)

    # the stored codes (the captured array as measure_codes would take it), read by the
    # battery's linear probe, silenced by zeroing columns
    given = GivenCodes(random_state=0).fit(rule.encode(Xtr))
    probe = fit_readout(given, rule.encode(Xtr), ytr)
    assert probe.kind == "linear probe"
    stored = fault_tolerance(given, probe, rule.encode(Xte), yte, n_draws=draws)
    diff = stored["accuracy_random"] - hook["accuracy_random"]
    with capsys.disabled():
        print(f"\ntwo-layer net, fractions {np.round(f, 2).tolist()}\n"
              f"  silenced in the network: {np.round(hook['accuracy_random'], 3).tolist()}\n"
              f"  stored codes + probe:    {np.round(stored['accuracy_random'], 3).tolist()}\n"
              f"  max difference {diff.max():.3f} at f = {f[diff.argmax()]:.1f}; AUC "
              f"{hook['auc_random']:.3f} (network) vs {stored['auc_random']:.3f} (stored)")
    assert diff.max() > 0.4
    assert stored["auc_random"] - hook["auc_random"] > 0.2

    # what makes the difference is the reader, not the zeroing: the stored codes read by
    # the rest of the network give the network's curve exactly (a feed-forward net)
    tail = Readout(given, _NetReadout(net[2:], 4))
    again = fault_tolerance(given, tail, rule.encode(Xte), yte, n_draws=draws)
    np.testing.assert_allclose(again["accuracy_random"], hook["accuracy_random"], atol=1e-12)


# -- a convolutional layer -------------------------------------------------------------------------
def _conv_net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(12, 3))


def _numpy_conv(X, weight, bias):
    """A valid 3x3 cross-correlation of 6x6 images, (n, channels, 4, 4), in float64."""
    imgs = X.reshape(-1, 6, 6).astype(np.float64)
    out = np.zeros((len(imgs), weight.shape[0], 4, 4))
    for c in range(weight.shape[0]):
        for i in range(4):
            for j in range(4):
                out[:, c, i, j] = (imgs[:, i:i + 3, j:j + 3] * weight[c, 0]).sum(axis=(1, 2)) \
                    + bias[c]
    return out


def test_a_conv_layer_is_its_flattened_feature_maps_and_silencing_feeds_the_pooling():
    rng = np.random.default_rng(0)
    X = rng.random((50, 36)).astype(np.float32)
    net = _conv_net()
    rule = TorchLayerCode(net, "1", input_shape=(1, 6, 6), classifier=True, progress=True).fit(X)
    maps = np.maximum(_numpy_conv(X, net[0].weight.detach().double().numpy(),
                                  net[0].bias.detach().double().numpy()), 0)
    assert rule.n_units == 48 and rule.unit_shape_.tolist() == [3, 4, 4]
    np.testing.assert_allclose(rule.encode(X), maps.reshape(50, 48), rtol=1e-5, atol=1e-6)
    mask = rng.random(48) < 0.5
    damaged = (maps.reshape(50, 48) * mask).reshape(50, 3, 4, 4)
    pooled = damaged.reshape(50, 3, 2, 2, 2, 2).max(axis=(3, 5)).reshape(50, 12)
    W, b = net[4].weight.detach().double().numpy(), net[4].bias.detach().double().numpy()
    np.testing.assert_allclose(rule.decision_function(X, unit_mask=mask), pooled @ W.T + b,
                               rtol=1e-5, atol=1e-5)


# -- the conformance suite -------------------------------------------------------------------------
# check_save_load does not apply to a wrapped model: save_rule stores a rule by its registered
# name and JSON parameters, and a live nn.Module is neither (the user saves it with torch.save)
_WRAPPED = [c for c in CHECKS if c.__name__ != "check_save_load"]


def test_conformance_suite_on_a_small_mlp_classifier():
    torch.manual_seed(0)
    X, y = conformance_data(GivenCodes())     # the suite's data: 16 features, 3 classes
    assert X.shape[1] == 16 and len(np.unique(y)) == 3
    net = nn.Sequential(nn.Linear(16, 12), nn.ReLU(), nn.Linear(12, 3))
    check_rule(TorchLayerCode(net, "1", classifier=True, random_state=0), _WRAPPED)


def test_conformance_suite_on_a_layer_read_by_a_probe():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(16, 12), nn.Tanh(), nn.Linear(12, 5))
    rule = TorchLayerCode(net, "1", random_state=0)
    # check_own_readout holds the class's tags.own_readout to every instance; a wrapped model
    # is a classifier or not per instance (has_own_readout), so it does not apply to this one
    check_rule(rule, [c for c in _WRAPPED if c.__name__ != "check_own_readout"])
    assert not rule.has_own_readout()         # 5 outputs for 3 classes: not its readout
    X, y = conformance_data(rule)
    assert fit_readout(rule, X, y).kind == "linear probe"


def test_conformance_suite_on_a_cnn_layer():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 3))
    check_rule(TorchLayerCode(net, "1", input_shape=(1, 4, 4), classifier=True,
                              random_state=0), _WRAPPED)


# -- time steps: a recurrent LIF layer (snnTorch-style loop) and a time-first one (Norse-style) ----
BETA, THETA, T = 0.8, 1.0, 6


class RecurrentLIF(nn.Module):
    """One step of a leaky integrate-and-fire layer: input current plus recurrent input from
    its own spikes of the previous step, reset by subtraction."""

    def __init__(self, n_in, n):
        super().__init__()
        self.fc = nn.Linear(n_in, n)
        self.rec = nn.Linear(n, n, bias=False)

    def forward(self, x, mem, spk):
        mem = BETA * mem + self.fc(x) + self.rec(spk) - THETA * spk
        return (mem > THETA).to(mem.dtype), mem


class SNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.lif = RecurrentLIF(16, 10)
        self.out = nn.Linear(10, 3)

    def forward(self, x):
        mem = torch.zeros(len(x), 10, dtype=x.dtype)
        spk = torch.zeros_like(mem)
        outs = []
        for _ in range(T):
            spk, mem = self.lif(x, mem, spk)   # the spikes fed back are the layer's output
            outs.append(self.out(spk))
        return torch.stack(outs)               # (T, batch, classes)


def _numpy_lif(net, X, alive):
    W, b = net.lif.fc.weight.detach().numpy(), net.lif.fc.bias.detach().numpy()
    R = net.lif.rec.weight.detach().numpy()
    mem = np.zeros((len(X), 10))
    spk = np.zeros_like(mem)
    counts = np.zeros_like(mem)
    for _ in range(T):
        mem = BETA * mem + X @ W.T + b + spk @ R.T - THETA * spk
        spk = (mem > THETA) * alive          # a silenced unit neither fires nor feeds back
        counts += spk
    return counts


def test_a_recurrent_spiking_layer_gives_spike_counts_and_resettles_when_silenced():
    torch.manual_seed(0)
    net = SNN().double()
    with torch.no_grad():
        net.lif.rec.weight.mul_(3.0)          # strong recurrence: losses change the others
    X = np.random.default_rng(0).random((40, 16)) * 0.6
    rule = TorchLayerCode(net, "lif", time_steps=T, classifier=True).fit(X)
    assert rule.layout_ == "steps" and rule.n_units == 10
    assert rule.silencing_kind() == "resettles"
    counts = rule.encode(X)
    np.testing.assert_array_equal(counts, _numpy_lif(net, X, np.ones(10)))
    assert counts.sum() > 0 and np.all(counts == np.round(counts)) and counts.max() <= T
    alive = np.arange(10) % 2 == 1
    damaged = rule.encode(X, unit_mask=alive)
    np.testing.assert_array_equal(damaged, _numpy_lif(net, X, alive.astype(float)))
    assert (damaged[:, alive] != counts[:, alive]).any()   # the alive units resettled
    scores = rule.decision_function(X)
    assert scores.shape == (40, 3)                        # (T, batch, 3) summed over T


class LIFSequence(nn.Module):
    """A time-first LIF layer: (T, batch, n_in) currents -> (T, batch, n) spikes."""

    def __init__(self, n_in, n):
        super().__init__()
        self.fc = nn.Linear(n_in, n)

    def forward(self, xs):
        mem = torch.zeros(xs.shape[1], self.fc.out_features, dtype=xs.dtype)
        out = []
        for x in xs:
            mem = BETA * mem + self.fc(x)
            spk = (mem > THETA).to(mem.dtype)
            mem = mem - THETA * spk
            out.append(spk)
        return torch.stack(out)


class SeqNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.lif = LIFSequence(16, 8)
        self.out = nn.Linear(8, 3)

    def forward(self, x):
        return self.out(self.lif(x.expand(T, *x.shape)).sum(0))


def test_a_time_first_layer_is_summed_over_its_steps():
    torch.manual_seed(0)
    net = SeqNet().double()
    X = np.random.default_rng(0).random((30, 16))
    rule = TorchLayerCode(net, "lif", time_steps=T).fit(X)
    assert rule.layout_ == "time-first" and rule.n_units == 8
    W, b = net.lif.fc.weight.detach().numpy(), net.lif.fc.bias.detach().numpy()
    mem, counts = np.zeros((30, 8)), np.zeros((30, 8))
    for _ in range(T):
        mem = BETA * mem + X @ W.T + b
        spk = mem > THETA
        mem = mem - THETA * spk
        counts += spk
    np.testing.assert_array_equal(rule.encode(X), counts)
    mask = np.arange(8) < 5
    np.testing.assert_array_equal(rule.encode(X, unit_mask=mask), counts * mask)


# -- the battery through measure_layer -------------------------------------------------------------
def test_measure_layer_reads_a_classifier_by_its_own_output():
    X, y = _cascade_data(300, 0)
    out = measure_layer(_cascade_net(), "1", X, y, max_stimuli=200,
                        measures=("activity", "fault"))
    assert out["_meta"]["readout"] == "own classifier"
    assert out["activity"]["n_units"] == 40.0
    # block c is active for class c only: 10 active units per stimulus
    assert out["activity"]["avr"] == pytest.approx(10.0, abs=0.5)
    assert out["fault"]["accuracy_intact"] == 1.0
    probe = measure_layer(_cascade_net(), "1", X, y, max_stimuli=200, classifier=False,
                          measures=("fault",))
    assert probe["_meta"]["readout"] == "linear probe"
    assert probe["fault"]["auc_random"] > out["fault"]["auc_random"] + 0.2


@pytest.mark.slow
def test_smoke_the_whole_battery_runs_on_a_layer_and_finds_its_readout_affine():
    X, y = _data()
    torch.manual_seed(0)
    net = _train(nn.Sequential(nn.Linear(16, 24), nn.ReLU(), nn.Linear(24, 4)), X, y)
    out = measure_layer(net, "1", X, y, image_shape=(4, 4), max_stimuli=100)
    assert set(MEASURES) <= set(out) and out["_meta"]["skipped"] == ""
    assert out["_meta"]["readout"] == "own classifier"
    # the network's output layer is an affine map of the code: the compute measure finds it
    assert out["compute"]["readout_affine"] == 1.0
    assert out["compute"]["readout_linear_residual"] < 1e-5


def test_eval_mode_no_grad_and_training_flags_restored():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(16, 12), nn.Dropout(0.5), nn.ReLU(), nn.Linear(12, 3))
    net.train()
    X, _ = conformance_data(GivenCodes())
    rule = TorchLayerCode(net, "2").fit(X)
    a, b = rule.encode(X), rule.encode(X)
    np.testing.assert_array_equal(a, b)                    # dropout off while encoding
    assert net.training and net[1].training                # and back on afterwards
    assert all(p.grad is None for p in net.parameters())


# -- bad input -------------------------------------------------------------------------------------
def test_an_unknown_layer_lists_the_names_the_model_has():
    net = nn.Sequential()
    net.add_module("features", nn.Sequential(nn.Linear(16, 8), nn.ReLU()))
    net.add_module("head", nn.Linear(8, 3))
    assert layer_names(net) == ["features", "features.0", "features.1", "head"]
    X, _ = conformance_data(GivenCodes())
    with pytest.raises(AdapterError) as err:
        TorchLayerCode(net, "features.2").fit(X)
    msg = str(err.value)
    assert "'features.2'" in msg and "'features.0'" in msg and "'head'" in msg
    assert "did you mean" in msg and "layer" in msg
    assert isinstance(err.value, ValueError)


def test_wrong_input_shapes_are_refused_clearly():
    net = nn.Sequential(nn.Linear(16, 8), nn.ReLU())
    X, _ = conformance_data(GivenCodes())
    with pytest.raises(AdapterError, match=r"input_shape.*\(1, 28, 28\) holds 784 values.*16"):
        TorchLayerCode(net, "1", input_shape=(1, 28, 28)).fit(X)
    with pytest.raises(AdapterError, match=r"forward pass failed on a batch of shape \(96, 4, 4\)"
                                           r".*input_shape"):
        TorchLayerCode(net, "1", input_shape=(4, 4)).fit(X)
    with pytest.raises(ValueError, match="input_shape"):
        TorchLayerCode(net, "1", input_shape=(0, 16)).fit(X)
    rule = TorchLayerCode(net, "1").fit(X)
    with pytest.raises(ValueError, match="15 features"):
        rule.encode(X[:, :15])


class _Sqrt(nn.Module):
    def forward(self, x):
        return torch.sqrt(x)


def test_nan_outputs_of_the_model_are_refused():
    net = nn.Sequential(nn.Identity(), _Sqrt(), nn.Linear(16, 3))
    X, _ = conformance_data(GivenCodes())
    rule = TorchLayerCode(net, "1").fit(X)
    bad = X.copy()
    bad[5, 3] = -1.0                                       # sqrt(-1): NaN in the layer
    with pytest.raises(NonFiniteOutputError, match=r"1 of 96 stimuli.*row 5"):
        rule.encode(bad)
    with pytest.raises(NonFiniteOutputError):
        TorchLayerCode(net, "1").fit(bad)
    nan_head = nn.Sequential(nn.Linear(16, 4), nn.ReLU(), _Sqrt(), nn.Linear(4, 3))
    with torch.no_grad():
        nan_head[3].bias.fill_(float("nan"))
    clf = TorchLayerCode(nan_head, "1", classifier=True).fit(X)
    with pytest.raises(NonFiniteOutputError, match="output"):
        clf.decision_function(X)


def test_other_misuse_is_refused_with_a_message():
    X, _ = conformance_data(GivenCodes())
    net = nn.Sequential(nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 3))
    unused = nn.Sequential(nn.Linear(16, 3))
    unused.add_module("spare", nn.ReLU())
    unused.forward = lambda x: unused[0](x)
    with pytest.raises(AdapterError, match="not called"):
        TorchLayerCode(unused, "spare").fit(X)
    with pytest.raises(AdapterError, match="called 1 time.*time_steps=4"):
        TorchLayerCode(net, "1", time_steps=4).fit(X)
    with pytest.raises(ValueError, match="'model'"):
        TorchLayerCode("not a model", "1").fit(X)
    with pytest.raises(ValueError, match="'layer'"):
        TorchLayerCode(net).fit(X)
    with pytest.raises(TypeError, match="layers"):
        TorchLayerCode(net, "1", layers=2)
    rule = TorchLayerCode(net, "1", classifier=False).fit(X)
    with pytest.raises(AdapterError, match="not fitted as a classifier"):
        rule.decision_function(X)
    with pytest.raises(AdapterError, match="labels must be the class indices"):
        TorchLayerCode(net, "1", classifier=True).fit(X, np.arange(96) % 5)
    tupled = TorchLayerCode(net, "1", classifier=True,
                            forward=lambda m, x: {"no": m(x)})
    with pytest.raises(AdapterError, match="not class scores"):
        tupled.fit(X)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_asked_without_cuda_is_refused():
    X, _ = conformance_data(GivenCodes())
    net = nn.Sequential(nn.Linear(16, 8), nn.ReLU())
    with pytest.raises(ValueError, match=r"'device'.*cuda.*is_available"):
        TorchLayerCode(net, "1", device="cuda").fit(X)
    with pytest.raises(ValueError, match="'device'"):
        TorchLayerCode(net, "1", device="not-a-device").fit(X)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_codes_equal_cpu_codes():
    X, y = _data()
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(16, 20), nn.ReLU(), nn.Linear(20, 4))
    cpu = TorchLayerCode(net, "1").fit(X).encode(X)
    gpu = TorchLayerCode(net, "1", device="cuda").fit(X)
    np.testing.assert_allclose(gpu.encode(X), cpu, rtol=1e-4, atol=1e-5)
    mask = np.arange(20) % 2 == 0
    np.testing.assert_array_equal(gpu.encode(X, unit_mask=mask)[:, ~mask], 0)
