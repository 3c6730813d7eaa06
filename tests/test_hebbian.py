"""Oja's and Sanger's rules against numpy's SVD (the principal components they converge to)."""

import numpy as np
import pytest
from scipy.linalg import subspace_angles

from neurocode.models.hebbian import Oja, Sanger, learning_rate, oja_update, sanger_update
from neurocode.params import ParamError
from neurocode.rules import TrainingFailed
from neurocode.testing import check_rule

from conftest import needs_mnist, registered_fixture

EIGS = np.array([5.0, 3.0, 2.0, 1.0, 0.5, 0.3, 0.2, 0.1])


registered = registered_fixture(Oja, Sanger, autouse=True)


def gaussian(n=4000, seed=0, offset=0.0):
    """Samples of N(offset, R diag(EIGS) R^T), R a random rotation."""
    rng = np.random.default_rng(seed)
    R, _ = np.linalg.qr(rng.standard_normal((len(EIGS), len(EIGS))))
    return rng.standard_normal((n, len(EIGS))) * np.sqrt(EIGS) @ R.T + offset


def pcs(X):
    """Principal components (rows) and variances of X, from numpy's SVD of the centred data."""
    Xc = X - X.mean(axis=0)
    _, s, Vt = np.linalg.svd(Xc, full_matrices=False)
    return Vt, s ** 2 / len(X)


def abs_cos(W, V):
    """|cosine| of each row of W with the matching row of V."""
    return np.abs(np.sum(W * V, axis=1)) / np.linalg.norm(W, axis=1) / np.linalg.norm(V, axis=1)


def min_subspace_cos(W, V):
    """Cosine of the largest principal angle between the row spaces of W and V."""
    return np.cos(subspace_angles(W.T, V.T)).min()


# -- the update equations, as the papers write them per sample and per unit -----------------

def test_updates_match_the_papers_per_sample_per_unit_forms():
    rng = np.random.default_rng(1)
    W, X = rng.standard_normal((3, 6)), rng.standard_normal((5, 6))
    oja = np.zeros_like(W)
    sanger = np.zeros_like(W)
    for x in X:
        y = W @ x
        for j in range(3):
            oja[j] += y[j] * (x - y @ W)                      # Oja 1989: y_j (x - sum_i y_i w_i)
            sanger[j] += y[j] * (x - y[:j + 1] @ W[:j + 1])   # Sanger: y_j (x - sum_{i<=j} y_i w_i)
    np.testing.assert_allclose(oja_update(W, X), oja / len(X), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sanger_update(W, X), sanger / len(X), rtol=1e-12, atol=1e-12)
    w, x = W[:1], X[:1]
    y = float(w[0] @ x[0])
    np.testing.assert_allclose(oja_update(w, x)[0], y * (x[0] - y * w[0]))  # Oja 1982, one unit


def test_a_dead_unit_neither_learns_nor_deflates():
    rng = np.random.default_rng(2)
    W, X = rng.standard_normal((3, 6)), rng.standard_normal((5, 6))
    alive = np.array([False, True, True])
    d = sanger_update(W, X, alive)
    assert np.all(d[0] == 0)
    # the network behaves as the two-unit network of the survivors
    np.testing.assert_allclose(d[1:], sanger_update(W[1:], X), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(oja_update(W, X, alive)[1:], oja_update(W[1:], X), rtol=1e-12, atol=1e-12)


def test_learning_rate_schedule():
    assert learning_rate(0.1, None, 500) == 0.1
    assert learning_rate(0.1, 100.0, 0) == 0.1
    assert learning_rate(0.1, 100.0, 100) == pytest.approx(0.05)
    assert learning_rate(0.1, 100.0, 300) == pytest.approx(0.025)


# -- convergence to the principal components of a known Gaussian ----------------------------

TRAIN = dict(lr=0.05, lr_decay=200.0, batch_size=16, epochs=5)


def test_oja_converges_to_the_first_principal_component():
    X = gaussian()
    X = X - X.mean(axis=0)
    V, _ = pcs(X)
    w = Oja(random_state=0, **TRAIN).fit(X).components_
    assert w.shape == (1, len(EIGS))
    assert abs_cos(w, V[:1])[0] >= 0.99
    assert abs(np.linalg.norm(w) - 1) <= 0.01


def test_sanger_converges_to_the_top_k_components_in_order():
    X = gaussian(seed=3)
    X = X - X.mean(axis=0)
    V, _ = pcs(X)
    W = Sanger(n_units=4, random_state=0, **TRAIN).fit(X).components_
    assert np.all(abs_cos(W, V[:4]) >= 0.99)
    assert np.all(np.abs(np.linalg.norm(W, axis=1) - 1) <= 0.01)


def test_oja_with_k_units_learns_an_orthonormal_basis_of_the_top_k_subspace():
    X = gaussian(seed=4)
    V, _ = pcs(X)
    W = Oja(n_units=3, random_state=0, **TRAIN).fit(X).components_
    assert min_subspace_cos(W, V[:3]) >= 0.99
    np.testing.assert_allclose(W @ W.T, np.eye(3), atol=0.02)


def test_centring_inside_the_rule_finds_the_same_components():
    X = gaussian(seed=5, offset=4.0)  # far from zero mean: uncentred, PC1 would be the mean
    V, _ = pcs(X)
    rule = Sanger(n_units=2, random_state=0, **TRAIN).fit(X)
    np.testing.assert_allclose(rule.mean_, X.mean(axis=0), rtol=1e-12)
    assert np.all(abs_cos(rule.components_, V[:2]) >= 0.99)
    raw = Oja(center=False, random_state=0, **{**TRAIN, "lr": 0.002}).fit(X)  # 2nd moment ~ 130
    assert np.all(raw.mean_ == 0)
    mean_dir = X.mean(axis=0)[None] / np.linalg.norm(X.mean(axis=0))
    assert abs_cos(raw.components_, mean_dir)[0] >= 0.99  # the second moment's top eigenvector


def test_reconstruction_error_is_the_sum_of_the_discarded_variances():
    X = gaussian(seed=6, offset=1.0)
    _, var = pcs(X)
    rule = Sanger(n_units=3, random_state=0, **TRAIN).fit(X)
    recon = rule.decode(rule.encode(X))
    mse = np.sum((X - recon) ** 2, axis=1).mean()
    assert mse == pytest.approx(var[3:].sum(), rel=0.03)


def test_partial_fit_streams_with_a_running_mean_and_continues_the_schedule():
    X = gaussian(n=6000, seed=7, offset=-2.0)
    V, _ = pcs(X)
    rule = Oja(lr=0.05, lr_decay=200.0, batch_size=16, random_state=0)
    chunks = np.array_split(X, [100, 1000, 2500])
    for chunk in chunks:
        rule.partial_fit(chunk)
    np.testing.assert_allclose(rule.mean_, X.mean(axis=0), rtol=1e-10, atol=1e-12)
    assert rule.n_samples_seen_ == len(X)
    assert rule.n_steps_ == sum(-(-len(c) // 16) for c in chunks)
    assert abs_cos(rule.components_, V[:1])[0] >= 0.99


# -- MNIST (a 10,000-image subset, pixels in [0, 1], centred) ------------------------------

@pytest.fixture(scope="module")
def mnist():
    from neurocode.data import load_mnist

    images, _ = load_mnist("mnist", split="train")
    X = images[:10_000].reshape(10_000, -1).astype(np.float64) / 255.0
    X = X - X.mean(axis=0)
    return X, pcs(X)[0]


MNIST_TRAIN = dict(lr=0.05, lr_decay=100.0, batch_size=32, epochs=3)


@pytest.mark.slow
@needs_mnist
def test_oja_finds_mnist_first_principal_component(mnist):
    X, V = mnist
    w = Oja(random_state=0, **MNIST_TRAIN).fit(X).components_
    assert abs_cos(w, V[:1])[0] >= 0.99


@pytest.mark.slow
@needs_mnist
def test_sanger_spans_mnist_top_k_principal_subspace(mnist):
    X, V = mnist
    W = Sanger(n_units=4, random_state=0, **MNIST_TRAIN).fit(X).components_
    assert min_subspace_cos(W, V[:4]) >= 0.95


# -- contract --------------------------------------------------------------------------------

@pytest.mark.parametrize("cls", [Oja, Sanger])
def test_conformance(cls):
    check_rule(cls(**cls.test_params))


def test_silenced_units_output_zero_and_leave_the_others_alone():
    X = gaussian(n=500)
    rule = Sanger(n_units=4, epochs=1, random_state=0).fit(X)
    mask = np.array([True, False, True, False])
    codes, masked = rule.encode(X), rule.encode(X, unit_mask=mask)
    assert np.all(masked[:, ~mask] == 0)
    np.testing.assert_array_equal(masked[:, mask], codes[:, mask])


def test_bad_settings_are_refused_by_name():
    X = gaussian(n=200)
    with pytest.raises(ParamError, match="'n_units'"):
        Sanger(n_units=9, random_state=0).fit(X)
    with pytest.raises(ParamError, match="'lr'"):
        Oja(lr=0.0, random_state=0).fit(X)
    with pytest.raises(ParamError, match="'lr_decay'"):
        Oja(lr_decay=0.0, random_state=0).fit(X)
    with pytest.raises(TrainingFailed, match="lower 'lr'"):
        Oja(lr=5.0, random_state=0).fit(X)
