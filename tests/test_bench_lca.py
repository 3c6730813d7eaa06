"""bench_lca's batched FISTA against scikit-learn's Lasso (a solver no one here wrote).

Both minimise ``1/2 ||x - Phi a||^2 + lam ||a||_1`` over ``a >= 0``; sklearn's ``Lasso``
minimises that divided by ``n_features`` (``alpha = lam / n_features``). Checked on a few
images: the codes and the objective values agree to a tolerance.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.linear_model import Lasso

from neurocode.models.lca import lca_objective

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_lca.py"
_spec = importlib.util.spec_from_file_location("bench_lca_under_test", BENCH)
bench_lca = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_lca)


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Small matmuls: on a shared 2-core machine torch's threads spin against each other."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def problem(n_images=5, n_features=196, n_atoms=256, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n_images, n_features)) * (rng.random((n_images, n_features)) < 0.2)
    phi = rng.standard_normal((n_features, n_atoms))
    return X, phi / np.linalg.norm(phi, axis=0)


def sklearn_codes(X, phi, lam):
    model = Lasso(alpha=lam / X.shape[1], positive=True, fit_intercept=False, tol=1e-12,
                  max_iter=200_000)
    return np.stack([model.fit(phi, x).coef_.copy() for x in X])


@pytest.mark.parametrize("restart", [True, False])
def test_fista_reaches_sklearns_lasso_solution(restart):
    X, phi = problem()
    lam = 0.1
    ref = sklearn_codes(X, phi, lam)
    codes, steps = bench_lca.fista(X, phi, lam, tol=1e-9, n_steps=50_000, restart=restart,
                                   dtype=torch.float64, chunk=2)  # chunks of 2: 3 batches
    assert (steps < 50_000).all()
    assert (codes >= 0).all()
    e, e_ref = lca_objective(X, codes, phi, lam), lca_objective(X, ref, phi, lam)
    np.testing.assert_allclose(e, e_ref, rtol=1e-9)
    np.testing.assert_allclose(codes, ref, atol=1e-6)
    assert np.array_equal(codes > 1e-6, ref > 1e-6)  # the same active atoms


def test_fista_float32_at_the_benchmarks_tolerance_is_within_a_thousandth():
    X, phi = problem(n_images=8, n_features=784, n_atoms=784, seed=1)  # the benchmark's size
    lam = 0.1
    e_ref = lca_objective(X, sklearn_codes(X, phi, lam), phi, lam)
    for tol in (1e-3, 1e-2):
        codes, _ = bench_lca.fista(X, phi, lam, tol=tol)
        gap = lca_objective(X, codes, phi, lam) / e_ref - 1
        assert gap.min() > -1e-5  # nothing beats the minimum (float32 rounding aside)
        assert gap.max() < (1e-3 if tol == 1e-3 else 1e-2)


def test_fista_stops_a_row_at_its_minimum_at_once():
    # x = 0 has the code 0: the first step is already the minimiser
    X, phi = problem(n_images=3)
    X[1] = 0.0
    codes, steps = bench_lca.fista(X, phi, 0.1, tol=1e-6, dtype=torch.float64)
    assert steps[1] == 1 and not codes[1].any()
    assert (steps[[0, 2]] > 1).all()
