"""The local-class rule: a local code in the article's sense (one unit per class).

Checked against numbers no one here wrote: scikit-learn's NearestCentroid (the same
predictions on MNIST), the Treves-Rolls sparseness 1/N of a one-hot code, and the exact
expectation of the readout accuracy when m of the N units are silenced at random (a stimulus
keeps its code iff its unit survives, with probability 1 - m/N), both by enumerating every
silenced set and against the battery's Monte Carlo fault curve.
"""

import itertools
import math

import numpy as np
import pytest

from neurocode.metrics.activity import activity
from neurocode.metrics.fault import fault_tolerance, n_silenced, normalised_auc
from neurocode.metrics.readout import fit_readout
from neurocode.models.local import LocalClass
from neurocode.rules import NotFittedError, get_rule

from conftest import needs_mnist


def _blobs(n=300, n_classes=6, n_features=12, seed=0):
    """Gaussian classes around random centres, noisy enough that some stimuli are misclassified."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_classes, n_features))
    y = rng.integers(0, n_classes, n)
    return centres[y] + 0.9 * rng.normal(size=(n, n_features)), y


@pytest.fixture(scope="module")
def mnist():
    from neurocode.data.prepare import load_data

    return load_data({"dataset": "mnist", "n_train": 60000, "n_test": 10000})


@pytest.fixture(scope="module")
def mnist_rule(mnist, one_blas_thread):
    return get_rule("local-class", random_state=0).fit(mnist.X_train, mnist.y_train)


# -- the reference solver -------------------------------------------------------------------
@pytest.mark.slow
@needs_mnist
@pytest.mark.filterwarnings("ignore:self.within_class_std_dev_:UserWarning")  # MNIST's blank border
@pytest.mark.parametrize("normalize", [True, False])
def test_predictions_equal_sklearn_nearest_centroid_on_mnist(mnist, normalize, one_blas_thread):
    """Same preprocessing, same classifier: NearestCentroid (Euclidean, uniform priors) on the
    centred, unit-length images (normalize=True) or on the raw pixels (False)."""
    from sklearn.neighbors import NearestCentroid

    rule = LocalClass(normalize=normalize, random_state=0).fit(mnist.X_train, mnist.y_train)
    nc = NearestCentroid(priors="uniform").fit(rule._preprocess(mnist.X_train), mnist.y_train)
    ours = rule.predict(mnist.X_test)
    theirs = nc.predict(rule._preprocess(mnist.X_test))
    np.testing.assert_array_equal(rule.classes_, nc.classes_)
    np.testing.assert_allclose(rule.centroids_, nc.centroids_, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(ours, theirs)
    acc = float((ours == mnist.y_test).mean())
    assert acc == float((theirs == mnist.y_test).mean())
    # the nearest-centroid accuracy of MNIST: about 82 % (82.03 % on the raw pixels)
    assert 0.80 < acc < 0.85


# -- the code is local -----------------------------------------------------------------------
@pytest.mark.slow
@needs_mnist
def test_one_unit_per_class_and_exactly_one_active_per_stimulus(mnist, mnist_rule):
    rule = mnist_rule
    assert rule.n_units == 10 and rule.classes_.tolist() == list(range(10))
    codes = rule.encode(mnist.X_test)
    assert codes.shape == (10000, 10)
    assert np.all(codes.sum(axis=1) == 1)
    # the active unit is the class the code says: a unit answers one class and no other
    np.testing.assert_array_equal(rule.classes_[codes.argmax(axis=1)], rule.predict(mnist.X_test))
    act = activity(codes)
    assert act["avr"] == 1.0 and act["activity_ratio"] == pytest.approx(0.1)
    assert act["treves_rolls"] == pytest.approx(1 / 10, abs=1e-12)   # 1/N for a one-hot code
    assert act["hoyer"] == pytest.approx(1.0, abs=1e-12)
    assert act["code_type"] == "local" and act["dead_fraction"] == 0.0


def test_codes_are_the_nearest_centroid_one_hot():
    X, y = _blobs()
    rule = LocalClass(random_state=0).fit(X, y)
    Xh = (X - X.mean(0)) / np.linalg.norm(X - X.mean(0), axis=1, keepdims=True)
    mu = np.stack([Xh[y == c].mean(0) for c in range(6)])
    nearest = ((Xh[:, None, :] - mu[None]) ** 2).sum(-1).argmin(1)
    np.testing.assert_array_equal(rule.encode(X), np.eye(6)[nearest])
    np.testing.assert_allclose(rule.receptive_fields(), mu, atol=1e-12)


# -- N is set by the labels ------------------------------------------------------------------
def test_n_units_is_the_number_of_classes_of_the_labels():
    X, y = _blobs(n_classes=3)
    labels = np.array([3, 7, 9])[y]
    rule = LocalClass(random_state=0)
    with pytest.raises(NotFittedError, match="one unit per class"):
        _ = rule.n_units
    with pytest.raises(ValueError, match="labels"):
        rule.fit(X)
    rule.fit(X, labels)
    assert rule.n_units == 3 and rule.encode(X).shape == (len(X), 3)
    assert set(rule.predict(X)) <= {3, 7, 9}
    assert float((rule.predict(X) == labels).mean()) > 0.9
    with pytest.raises(ValueError, match="integer class labels"):
        LocalClass().fit(X, np.array(["a", "b", "c"])[y])
    # refitting on other labels changes N
    assert rule.fit(X[:200], (y[:200] % 2)).n_units == 2


# -- silencing ---------------------------------------------------------------------------------
def test_dropped_loses_the_stimulus_with_its_unit_and_replaced_fires_the_nearest_alive():
    X, y = _blobs()
    dropped = LocalClass(random_state=0).fit(X, y)
    replaced = LocalClass(silenced="replaced", random_state=0).fit(X, y)
    intact = dropped.encode(X)
    unit = intact.argmax(1)
    mask = np.array([True, False, True, False, True, True])
    d = dropped.encode(X, unit_mask=mask)
    r = replaced.encode(X, unit_mask=mask)
    lost = ~mask[unit]
    assert np.all(d[lost] == 0) and np.all(d[~lost] == intact[~lost])
    assert np.all(r.sum(1) == 1) and np.all(r[~lost] == intact[~lost])
    drive = dropped.drive(X)
    drive[:, ~mask] = -np.inf
    np.testing.assert_array_equal(r.argmax(1), drive.argmax(1))
    assert np.all(replaced.encode(X, unit_mask=np.zeros(6, bool)) == 0)


def test_a_silent_code_is_read_as_a_guess_at_chance():
    """All units silenced: every code is silent and predict guesses a class uniformly,
    independently of the label (a keyed hash of the stimulus), the same guess every time."""
    rng = np.random.default_rng(1)
    n, C = 20000, 5
    y = rng.integers(0, C, n)
    X = rng.normal(size=(n, 8))
    X[np.arange(n), y] += 3.0
    rule = LocalClass(random_state=0).fit(X, y)
    dead = np.zeros(C, bool)
    guess = rule.predict(X, unit_mask=dead)
    np.testing.assert_array_equal(guess, rule.predict(X, unit_mask=dead))
    sd = math.sqrt((1 / C) * (1 - 1 / C) / n)
    assert abs(float((guess == y).mean()) - 1 / C) < 4 * sd
    assert np.all(np.abs(np.bincount(guess, minlength=C) / n - 1 / C) < 4 * sd)
    scores = rule.decision_function(X[:10], unit_mask=dead)
    assert np.all(scores.max(1) == 1 / C) and np.all((scores > 0).sum(1) == 1)
    other = LocalClass(random_state=1).fit(X, y)
    assert (other.predict(X, unit_mask=dead) != guess).mean() > 0.5
    np.testing.assert_array_equal(other.encode(X), rule.encode(X))  # the code is seed-free


def _pieces(rule, X, y):
    """Per stimulus: its unit u, whether the intact readout is right (a), whether the
    silent-code guess is right (b)."""
    u = rule.encode(X).argmax(1)
    a = rule.predict(X) == y
    b = rule.predict(X, unit_mask=np.zeros(rule.n_units, bool)) == y
    return u, a.astype(float), b.astype(float)


def test_expected_accuracy_under_random_silencing_is_the_local_straight_line_exactly():
    """Averaged over every set of m silenced units, the accuracy is exactly
    (1 - m/N) a_0 + (m/N) b: a stimulus keeps its code iff its unit is not among the m."""
    X, y = _blobs()
    rule = LocalClass(random_state=0).fit(X, y)
    N = rule.n_units
    u, a, b = _pieces(rule, X, y)
    a0, bb = a.mean(), b.mean()
    assert 0.5 < a0 < 1.0                      # some stimuli are misclassified
    for m in range(N + 1):
        accs = []
        for dead in itertools.combinations(range(N), m):
            mask = np.ones(N, bool)
            mask[list(dead)] = False
            accs.append(float((rule.predict(X, unit_mask=mask) == y).mean()))
        assert np.mean(accs) == pytest.approx((1 - m / N) * a0 + (m / N) * bb, abs=1e-12)


@pytest.mark.slow
@needs_mnist
def test_battery_fault_curve_meets_the_expectation_on_mnist(mnist, mnist_rule):
    """fault_tolerance's random-silencing curve against E[acc(m)] = (1 - m/N) a_0 + (m/N) b,
    within its Monte Carlo error; the normalised AUC of that line is 0.5 + (b - c)/(2(a_0 - c))
    with c = 1/10, about 0.5."""
    rule = mnist_rule
    X, y = mnist.X_test[:1000], mnist.y_test[:1000]
    n_draws = 100
    res = fault_tolerance(rule, fit_readout(rule, mnist.X_train, mnist.y_train), X, y,
                          n_draws=n_draws, orders=("random",), max_stimuli=None, random_state=0)
    N = rule.n_units
    u, a, b = _pieces(rule, X, y)
    a0, bb = a.mean(), b.mean()
    assert res["accuracy_intact"] == pytest.approx(a0)
    f = res["fractions"]
    m = n_silenced(f, N)
    expected = (1 - m / N) * a0 + (m / N) * bb
    # exact spread: acc = a_0 - sum over the m silenced units of S_j, S_j = sum_{i: u_i = j}
    # (a_i - b_i) / n, a draw of m of the N values S_j without replacement
    S = np.bincount(u, weights=a - b, minlength=N) / len(y)
    var = m * (N - m) / (N - 1) * S.var()
    se = np.sqrt(var / n_draws)
    assert np.all(np.abs(res["accuracy_random"] - expected) <= 4 * se + 1e-12)
    assert res["accuracy_random"][0] == pytest.approx(a0)
    assert res["accuracy_random"][-1] == pytest.approx(bb)
    # the guess of a silent code is at chance, and the battery's theory_local line is ours
    c = res["chance"]
    assert c == 0.1 and abs(bb - c) < 4 * math.sqrt(c * (1 - c) / len(y))
    np.testing.assert_allclose(res["theory_local"], a0 - (a0 - c) * f)
    line_auc = normalised_auc(f, expected, a0, c)
    assert line_auc == pytest.approx(0.5 + (bb - c) / (2 * (a0 - c)), abs=1e-12)
    auc_se = res["auc_random_std"] / math.sqrt(n_draws)
    assert abs(res["auc_random"] - line_auc) <= 4 * auc_se + 1e-12
    assert res["auc_random"] == pytest.approx(0.5, abs=0.03)
    assert res["half_fraction_random"] == pytest.approx(0.5, abs=0.06)


@pytest.mark.slow
@needs_mnist
def test_battery_on_mnist_reports_a_local_code(mnist, mnist_rule):
    """What `neurocode measure` stores for this rule: a one-hot code read by its own
    classifier, whose random-silencing curve has the normalised area of a straight line."""
    from neurocode.metrics import run_battery

    res = run_battery(mnist_rule, mnist, max_stimuli=300, random_state=0)
    assert res["_meta"]["readout"] == "own classifier"
    assert res["activity"]["avr"] == 1.0
    assert res["activity"]["treves_rolls"] == pytest.approx(0.1)
    assert res["activity"]["code_type"] == "local"
    assert res["representation"]["bits"] == pytest.approx(math.log2(10))
    fault = res["fault"]
    assert fault["auc_random"] == pytest.approx(0.5, abs=0.1)


def test_docstring_examples_run():
    import doctest

    from neurocode.models import local as local_module

    assert doctest.testmod(local_module, raise_on_error=False).failed == 0


def test_experiment_config_resolves_to_three_seeds_of_the_rule():
    from pathlib import Path

    from neurocode.config import load_yaml, resolve

    path = Path(__file__).resolve().parents[1] / "experiments" / "local_mnist.yaml"
    specs = resolve(load_yaml(path))
    assert [s.config["seed"] for s in specs] == [0, 1, 2]
    for s in specs:
        assert s.get("model.rule") == "local-class" and s.config["data"]["n_train"] == 60000
        rule = get_rule("local-class", **s.rule_params)
        assert rule.normalize is True and rule.silenced == "dropped"
