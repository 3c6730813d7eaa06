"""SAILnet against closed forms (the discrete LIF unit, the homeostatic threshold, the top
principal component) and the paper's claims on natural-image patches (rate p, decorrelated
spike counts, localised receptive fields)."""

import doctest

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.stats import norm

from neurocode import rules
from neurocode.data.patches import make_patches
from neurocode.metrics.fields import localisation_index
from neurocode.models import sailnet as sailnet_module
from neurocode.models.sailnet import SAILnet, spike_counts
from neurocode.testing import check_rule

from conftest import registered_fixture

pytestmark = pytest.mark.usefixtures("one_blas_thread")

P = 0.05


registered = registered_fixture(SAILnet, autouse=True)


def mean_offdiag_correlation(Y):
    """Mean over pairs i != j of the Pearson correlation of the spike counts of units i and j
    across stimuli (units that never spiked have no correlation and are left out)."""
    Y = Y[:, Y.std(axis=0) > 0]
    C = np.corrcoef(Y.T)
    return float(C[~np.eye(len(C), dtype=bool)].mean())


# -- the dynamics against the closed form of one discrete LIF unit ---------------------------
def lif_closed_form(b, theta, n_steps, dt):
    """Constant drive b, no inhibition: after k steps from reset u = b (1 - (1 - dt)^k), so the
    unit first exceeds theta at k* = floor(log(1 - theta/b) / log(1 - dt)) + 1 and, being reset
    to 0 each time, spikes floor(n_steps / k*) times (never if b <= theta)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.log1p(-theta / b) / np.log1p(-dt)
        k = np.floor(x) + 1
        counts = np.where(b > theta, np.floor(n_steps / k), 0.0)
    return counts, x


def test_isolated_units_spike_as_the_lif_closed_form_says():
    rng = np.random.default_rng(0)
    drive = rng.uniform(-1.0, 6.0, (40, 25))
    theta = rng.uniform(0.2, 2.0, 25)
    for n_steps, dt in ((50, 0.1), (200, 0.03), (7, 0.5)):
        expect, x = lif_closed_form(drive, theta, n_steps, dt)
        got = spike_counts(drive, np.zeros((25, 25)), theta, n_steps=n_steps, dt=dt)
        clear = np.abs(x - np.round(x)) > 1e-6  # away from exact ties of the crossing step
        clear |= drive <= theta
        assert clear.mean() > 0.9
        np.testing.assert_array_equal(got[clear], expect[clear])
        assert got.max() > 3  # the strong drives spike many times


def test_inhibition_delays_and_silencing_removes_a_unit():
    """Two units with equal drive: with mutual inhibition they fire less than alone; a
    silenced partner is the same as no partner; the mask equals the sub-network without it."""
    drive = np.full((1, 2), 3.0)
    theta = np.array([1.0, 1.0])
    alone = spike_counts(drive, np.zeros((2, 2)), theta)
    W = np.array([[0.0, 5.0], [5.0, 0.0]])
    both = spike_counts(drive, W, theta)
    assert (both < alone).all()
    np.testing.assert_array_equal(spike_counts(drive, W, theta, mask=np.array([True, False])),
                                  [[alone[0, 0], 0.0]])
    rng = np.random.default_rng(1)
    m = 12
    W = np.abs(rng.normal(0, 0.5, (m, m)))
    np.fill_diagonal(W, 0)
    drive = rng.normal(1.0, 1.0, (30, m))
    theta = rng.uniform(0.3, 1.0, m)
    mask = rng.random(m) < 0.6
    full = spike_counts(drive, W, theta, mask=mask)
    sub = spike_counts(drive[:, mask], W[np.ix_(mask, mask)], theta[mask])
    np.testing.assert_array_equal(full[:, mask], sub)
    assert (full[:, ~mask] == 0).all()


@pytest.mark.slow
def test_homeostasis_reaches_the_closed_form_threshold():
    """With Q and W frozen (beta = alpha = 0) and x ~ N(0, I), each unit's drive z = Q_i x is
    N(0, 1) (unit-length rows). A unit spikes at least c times iff z > theta / (1 - (1 -
    dt)^floor(N / c)), so E[y] = sum_c Phi_c(theta / ...) (Phi_c: the normal tail); the
    threshold rule's fixed point solves E[y] = p. Started far from it (theta = 0.5)."""
    n_steps, dt = 50, 0.1
    c = np.arange(1, n_steps + 1)
    gain = 1 - (1 - dt) ** np.floor(n_steps / c)
    theta_star = brentq(lambda th: norm.sf(th / gain).sum() - P, 0.1, 10.0)
    X = np.random.default_rng(0).standard_normal((20_000, 16))
    rule = SAILnet(n_units=50, p=P, alpha=0.0, beta=0.0, epochs=5, theta_init=0.5,
                   random_state=0).fit(X)
    assert abs(rule.theta_.mean() - theta_star) < 0.02, (rule.theta_.mean(), theta_star)
    assert abs(rule.encode(X).mean() / P - 1) < 0.05


@pytest.mark.slow
def test_single_unit_learns_the_top_principal_component():
    """One unit (no lateral weights): for zero-mean Gaussian x, E[x | z] = C Q z / (Q^T C Q)
    with z = Q x, so E[y x] = C Q E[y z] / (Q^T C Q) for any spike-count function y(z); the
    Oja fixed point E[y x] = E[y^2] Q makes Q an eigenvector of C, and learning finds the top
    one. Compared with the first right singular vector of the data (numpy SVD)."""
    rng = np.random.default_rng(0)
    d = 8
    R, _ = np.linalg.qr(rng.standard_normal((d, d)))
    sd = np.array([2.0, 1.4, 1.0, 0.8, 0.7, 0.6, 0.5, 0.4])
    X = (rng.standard_normal((20_000, d)) * sd) @ R.T
    v1 = np.linalg.svd(X - X.mean(0), full_matrices=False)[2][0]
    for seed in range(3):
        rule = SAILnet(n_units=1, p=P, epochs=10, random_state=seed).fit(X)
        q = rule.Q_[0]
        assert abs(q @ v1) / np.linalg.norm(q) > 0.995
        y = rule.encode(X)[:, 0]
        hebb, decay = (y[:, None] * X).mean(0), (y ** 2).mean() * q
        assert np.linalg.norm(hebb - decay) < 0.1 * np.linalg.norm(hebb)  # at the fixed point


# -- natural-image patches: the paper's claims -------------------------------------------------
@pytest.fixture(scope="module")
def patches():
    return make_patches(30_000, 16, random_state=0), make_patches(5_000, 16, random_state=1)


@pytest.fixture(scope="module")
def trained(patches):
    """128 units on 16x16 whitened patches, 3000 batches of 100 (about 6 s on one core)."""
    Xtr, _ = patches
    return SAILnet(n_units=128, p=P, epochs=10, random_state=0).fit(Xtr)


@pytest.mark.slow
def test_trained_units_fire_at_the_target_rate(trained, patches):
    """Mean spike count per unit per held-out patch within 20 % of p; most units near p."""
    Y = trained.encode(patches[1])
    assert abs(Y.mean() / P - 1) < 0.2, Y.mean()
    per_unit = Y.mean(axis=0)
    assert (per_unit > 0).all()  # no dead units
    assert np.mean(np.abs(per_unit / P - 1) < 0.5) > 0.9
    assert np.all(Y == np.round(Y)) and Y.min() >= 0
    assert abs(trained.curves_["spikes_per_unit"][-1] / P - 1) < 0.2


@pytest.mark.slow
def test_spike_counts_are_decorrelated_and_lateral_learning_is_why(trained, patches):
    """The mean pairwise (off-diagonal) Pearson correlation of spike counts across 5000
    held-out patches is below 0.02 in magnitude; the same network trained with alpha = 0 (no
    lateral plasticity, W stays 0) is correlated (its units learn alike)."""
    Xtr, Xte = patches
    r = mean_offdiag_correlation(trained.encode(Xte))
    assert abs(r) < 0.02, r
    assert (trained.W_ >= 0).all() and np.all(np.diag(trained.W_) == 0)
    assert (trained.W_ > 0).mean() > 0.1
    no_lateral = SAILnet(n_units=128, p=P, alpha=0.0, epochs=10, random_state=0).fit(Xtr)
    assert mean_offdiag_correlation(no_lateral.encode(Xte)) > 0.1


@pytest.mark.slow
def test_receptive_fields_are_localised(trained):
    """Localisation index L = 1 - spread(q) / spread(shuffled q) (energy-weighted spatial
    variance, neurocode.metrics.fields): the median learned field beats the median of the
    same fields with their pixels shuffled by more than 0.3 (measured: about 0.5 against 0)."""
    L = localisation_index(trained.Q_, (16, 16))
    shuffled = np.random.default_rng(1).permuted(trained.Q_, axis=1)
    Ls = localisation_index(shuffled, (16, 16))
    assert abs(np.median(Ls)) < 0.05
    assert np.median(L) > np.median(Ls) + 0.3, (np.median(L), np.median(Ls))
    assert np.mean(L > 0.2) > 0.75


# -- the contract ---------------------------------------------------------------------------
def test_conformance_and_nontrivial_test_codes():
    rule = SAILnet(**SAILnet.test_params)
    check_rule(rule)
    from neurocode.testing import conformance_data

    X, _ = conformance_data(rule)
    assert SAILnet(**SAILnet.test_params).fit(X).encode(X).sum() > 0  # the mask check bites


def test_fit_is_partial_fit_in_order_and_continues():
    X = make_patches(600, 8, random_state=3)
    a = SAILnet(n_units=16, batch_size=50, shuffle=False, random_state=0).fit(X)
    b = SAILnet(n_units=16, batch_size=50, random_state=0).partial_fit(X[:300]).partial_fit(X[300:])
    for k in ("Q_", "W_", "theta_"):
        np.testing.assert_array_equal(getattr(a, k), getattr(b, k))
    assert a.n_seen_ == b.n_seen_ == 600 and a.n_batches_ == 12


def test_save_load_keeps_the_curves(tmp_path):
    X = make_patches(2000, 8, random_state=4)
    rule = SAILnet(n_units=16, epochs=2, record_every=10, random_state=0).fit(X)
    assert len(rule.curves_["step"]) == 4
    rules.save_rule(rule, tmp_path / "r.h5")
    back = rules.load_rule(tmp_path / "r.h5")
    np.testing.assert_array_equal(back.encode(X), rule.encode(X))
    np.testing.assert_array_equal(back.curves_["spikes_per_unit"], rule.curves_["spikes_per_unit"])


def test_bad_input_and_parameters_are_refused():
    X = make_patches(300, 8, random_state=5)
    rule = SAILnet(n_units=8, random_state=0).fit(X)
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        rule.encode(bad)
    with pytest.raises(ValueError, match="NaN"):
        SAILnet(n_units=8, random_state=0).fit(bad)
    with pytest.raises(ValueError, match="features"):
        rule.encode(X[:, :10])
    with pytest.raises(ValueError, match="features"):
        rule.partial_fit(X[:, :10])
    with pytest.raises(ValueError, match="2-D"):
        rule.encode(X[0])
    with pytest.raises(ValueError, match="unit_mask"):
        rule.encode(X, unit_mask=np.ones(9, dtype=bool))
    with pytest.raises(ValueError, match="'p'"):
        SAILnet(p=-0.1).fit(X)
    with pytest.raises(ValueError, match="'dt'"):
        SAILnet(dt=1.5).fit(X)
    with pytest.raises(ValueError, match="'n_steps'.*"):
        SAILnet(p=60.0, n_steps=50).fit(X)
    with pytest.raises(ValueError, match="'batch_size'"):
        SAILnet(batch_size=0).fit(X)
    with pytest.raises(TypeError, match="did you mean 'alpha'"):
        SAILnet(alpa=1.0)


@pytest.mark.slow
def test_docstring_examples():
    assert doctest.testmod(sailnet_module, raise_on_error=False).failed == 0
