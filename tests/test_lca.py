"""The Locally Competitive Algorithm against scikit-learn's Lasso and closed forms."""

import doctest

import numpy as np
import pytest
import torch
from sklearn.decomposition import sparse_encode

from neurocode.models import lca as lca_module
from neurocode.models.lca import LCA, lca_objective
from neurocode.params import ParamError
from neurocode.testing import check_rule

from conftest import needs_mnist, registered_fixture

LAM = 0.1  # = scikit-learn's alpha for sparse_encode(algorithm="lasso_cd")


registered = registered_fixture(LCA, autouse=True)


@pytest.fixture(autouse=True)
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def unit_dictionary(n_features, n_units, seed):
    phi = np.random.default_rng(seed).standard_normal((n_features, n_units))
    return phi / np.linalg.norm(phi, axis=0)


def mnist_test_images(n):
    from neurocode.data import load_mnist

    images, _ = load_mnist("mnist", split="test")
    return images[:n].reshape(n, -1).astype(np.float64) / 255.0


def lasso(X, phi, lam, positive, mask=None):
    """scikit-learn's codes; with a mask, over the surviving atoms only (others 0)."""
    keep = np.ones(phi.shape[1], dtype=bool) if mask is None else mask
    codes = np.zeros((len(X), phi.shape[1]))
    codes[:, keep] = sparse_encode(X, phi[:, keep].T, algorithm="lasso_cd", alpha=lam,
                                   positive=positive, max_iter=5000)
    return codes


# -- against scikit-learn's Lasso --------------------------------------------------------------
@needs_mnist
@pytest.mark.parametrize("non_negative", [False, True])
def test_objective_within_1_percent_of_lasso_on_mnist(non_negative):
    X = mnist_test_images(8)
    phi = unit_dictionary(784, 784, seed=1)
    rule = LCA(n_units=784, lam=LAM, non_negative=non_negative, random_state=0)
    codes = rule.fit(X, dictionary=phi).encode(X)
    ref = lasso(X, phi, LAM, non_negative)
    e_lca = lca_objective(X, codes, phi, LAM)
    e_ref = lca_objective(X, ref, phi, LAM)
    assert np.all(e_lca <= 1.01 * e_ref), e_lca / e_ref
    # and not below the optimum: lam = alpha is the right mapping (a wrong scaling would let
    # the LCA "beat" a Lasso that solved a different problem)
    assert np.all(e_lca >= (1 - 1e-3) * e_ref), e_lca / e_ref
    if non_negative:
        assert (codes >= 0).all()
    else:
        assert (codes < 0).any()


@pytest.mark.parametrize("non_negative", [False, True])
def test_codes_match_lasso_on_synthetic_sparse_signals(non_negative):
    rng = np.random.default_rng(2)
    phi = unit_dictionary(30, 60, seed=3)
    truth = np.zeros((40, 60))
    for row in truth:
        idx = rng.choice(60, 4, replace=False)
        row[idx] = rng.uniform(0.5, 2.0, 4) * (1 if non_negative else rng.choice([-1, 1], 4))
    X = truth @ phi.T + 0.05 * rng.standard_normal((40, 30))
    rule = LCA(n_units=60, lam=LAM, non_negative=non_negative, precision="float64", tol=1e-9,
               n_steps=20000, random_state=0)
    codes = rule.fit(X, dictionary=phi).encode(X)
    ref = lasso(X, phi, LAM, non_negative)
    e_lca = lca_objective(X, codes, phi, LAM)
    e_ref = lca_objective(X, ref, phi, LAM)
    assert np.all(np.abs(e_lca / e_ref - 1) <= 1e-3)
    # the Lasso solution is unique for a dictionary in general position: the codes agree
    np.testing.assert_allclose(codes, ref, atol=2e-3)


@pytest.mark.parametrize("non_negative", [False, True])
def test_fixed_point_meets_the_lasso_optimality_conditions(non_negative):
    # KKT of min 1/2||x - Phi a||^2 + lam ||a||_1: c = Phi^T (x - Phi a) has |c| <= lam, and
    # c = lam sign(a) where a != 0 (a >= 0 variant: c <= lam, c = lam where a > 0)
    rng = np.random.default_rng(4)
    phi = unit_dictionary(25, 50, seed=5)
    X = rng.standard_normal((20, 25))
    rule = LCA(n_units=50, lam=0.3, non_negative=non_negative, precision="float64", tol=1e-10,
               n_steps=50000, random_state=0)
    codes = rule.fit(X, dictionary=phi).encode(X)
    corr = (X - codes @ phi.T) @ phi
    active = codes != 0
    assert active.any() and (~active).any()
    np.testing.assert_allclose(corr[active], 0.3 * np.sign(codes[active]), atol=1e-6)
    if non_negative:
        assert (codes >= 0).all() and (corr[~active] <= 0.3 + 1e-6).all()
    else:
        assert (np.abs(corr[~active]) <= 0.3 + 1e-6).all()


def test_one_atom_stimulus_closed_form():
    # x = s phi_k: residual lam phi_k overlaps every other unit atom by < lam, so a = (s - lam) e_k
    phi = unit_dictionary(20, 40, seed=0)
    X = np.stack([2.0 * phi[:, 3], -1.5 * phi[:, 7]])
    codes = LCA(n_units=40, lam=LAM, precision="float64", tol=1e-10, n_steps=20000,
                random_state=0).fit(X, dictionary=phi).encode(X)
    expected = np.zeros((2, 40))
    expected[0, 3], expected[1, 7] = 2.0 - LAM, -(1.5 - LAM)
    np.testing.assert_allclose(codes, expected, atol=1e-7)


def test_lambda_zero_reaches_least_squares_and_too_large_dt_diverges():
    # lam = 0, signed: T is the identity and the dynamics are the gradient flow of
    # 1/2||x - Phi a||^2, stable iff dt/tau < 2/||Phi||_2^2, with the least-squares fixed point
    rng = np.random.default_rng(6)
    phi = unit_dictionary(40, 15, seed=7)
    X = rng.standard_normal((5, 40))
    top = np.linalg.norm(phi, 2) ** 2
    base = dict(n_units=15, lam=0.0, precision="float64", tol=1e-12, n_steps=100000,
                tau=2.0, random_state=0)
    codes = LCA(dt=2.0 * 1.9 / top, **base).fit(X, dictionary=phi).encode(X)
    np.testing.assert_allclose(codes, np.linalg.lstsq(phi, X.T, rcond=None)[0].T, atol=1e-8)
    with pytest.raises(FloatingPointError, match="dt/tau"):
        LCA(dt=2.0 * 2.1 / top, **base).fit(X, dictionary=phi).encode(X)


# -- silenced units ----------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("non_negative", [False, True])
def test_silenced_units_leave_the_circuit(non_negative):
    # with units silenced, the survivors settle to the Lasso code over the remaining atoms
    rng = np.random.default_rng(8)
    phi = unit_dictionary(30, 60, seed=9)
    X = np.abs(rng.standard_normal((15, 30)))
    mask = rng.random(60) < 0.5
    rule = LCA(n_units=60, lam=LAM, non_negative=non_negative, precision="float64", tol=1e-9,
               n_steps=20000, random_state=0).fit(X, dictionary=phi)
    masked = rule.encode(X, unit_mask=mask)
    assert np.all(masked[:, ~mask] == 0)
    ref = lasso(X, phi, LAM, non_negative, mask=mask)
    np.testing.assert_allclose(masked, ref, atol=2e-3)
    # ... which is not the intact code with the dead units zeroed: the survivors compensate
    lesioned = rule.encode(X) * mask
    assert np.all(lca_objective(X, masked, phi, LAM) <= lca_objective(X, lesioned, phi, LAM) + 1e-9)
    assert np.any(np.abs(masked - lesioned) > 1e-2)


# -- dictionary learning -----------------------------------------------------------------------
@needs_mnist
def test_learning_the_dictionary_reduces_held_out_reconstruction_error():
    from neurocode.data import load_mnist

    train, _ = load_mnist("mnist", split="train")
    X = train[:1500].reshape(1500, -1) / 255.0
    held_out = mnist_test_images(300)
    params = dict(n_units=100, lam=0.5, non_negative=True, lr=0.5, batch_size=50,
                  random_state=0)
    learned = LCA(epochs=2, **params).fit(X)
    initial = LCA(epochs=0, **params).fit(X)  # the same random atoms, before any update
    assert not np.allclose(learned.dictionary_, initial.dictionary_)
    np.testing.assert_allclose(np.linalg.norm(learned.dictionary_, axis=0), 1.0, atol=1e-6)

    def error(rule):
        return np.mean(np.sum((held_out - rule.decode(rule.encode(held_out))) ** 2, axis=1))

    assert error(learned) < 0.7 * error(initial)
    # E(a) <= E(0) bounds any LCA code's error by the pixels' own energy (the empty code's)
    assert error(initial) <= np.mean(np.sum(held_out ** 2, axis=1))
    assert learned.objective_curve_.shape == (2,)


# -- the fixed-dictionary interface and the contract ------------------------------------------
def test_fixed_dictionary_is_used_as_given_and_checked():
    phi = unit_dictionary(16, 10, seed=0)
    X = np.random.default_rng(0).random((5, 16))
    rule = LCA(n_units=10, epochs=3, random_state=0).fit(X, dictionary=phi)
    np.testing.assert_array_equal(rule.dictionary_, phi)
    np.testing.assert_allclose(rule.gram_norm_, np.linalg.norm(phi, 2) ** 2)
    codes = rule.encode(X)
    np.testing.assert_allclose(rule.decode(codes), codes @ phi.T)
    with pytest.raises(ParamError, match="n_units"):
        LCA(n_units=11, random_state=0).fit(X, dictionary=phi)
    with pytest.raises(ValueError, match="unit norm"):
        LCA(n_units=10, random_state=0).fit(X, dictionary=2 * phi)
    with pytest.raises(ValueError, match="shape"):
        LCA(n_units=10, random_state=0).fit(X, dictionary=phi[:-1])


def test_check_rule():
    check_rule(LCA(**LCA.test_params))
    check_rule(LCA(**{**LCA.test_params, "non_negative": True, "precision": "float64"}))


def test_docstring_example():
    assert doctest.testmod(lca_module, raise_on_error=False).failed == 0
