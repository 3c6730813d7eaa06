"""A sparse autoencoder or dictionary as a code (neurocode.adapters.sae).

Closed forms: an orthonormal dictionary with threshold coding (scikit-learn's SparseCoder)
has codes soft(D x), reconstruction error sum_i min(|c_i|, alpha)^2 and L0 the count of
|c_i| > alpha, all computed here by hand; a perfect autoencoder explains all the variance, a
zero decoder 1 - sum ||x||^2 / sum ||x - mean||^2; dead and dense features are counted on a
code built to have a known number of each.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA, DictionaryLearning, SparseCoder
from torch import nn

from neurocode.adapters import (
    AdapterError,
    DictionaryCode,
    NonFiniteOutputError,
    measure_dictionary,
    reconstruction_measures,
)
from neurocode.codes import GivenCodes
from neurocode.metrics.battery import MEASURES
from neurocode.params import ParamError
from neurocode.testing import CHECKS, check_rule

pytestmark = pytest.mark.usefixtures("one_blas_thread")


def _orthonormal(d, seed=0):
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))
    return q                                   # rows: orthonormal atoms


def _soft(c, a):
    return np.sign(c) * np.maximum(np.abs(c) - a, 0.0)


class Identity:
    """features = inputs, decode = features (a perfect autoencoder, in NumPy)."""

    def encode(self, x):
        return np.array(x, dtype=np.float64)

    def decode(self, f):
        return np.array(f, dtype=np.float64)


class ZeroDecoder(Identity):
    def decode(self, f):
        return np.zeros_like(np.asarray(f, dtype=np.float64))


class TinySAE(nn.Module):
    """SAELens' standard SAE: f = ReLU((x - b_dec) W_enc + b_enc), x_hat = f W_dec + b_dec."""

    def __init__(self, d, n, seed=0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.W_enc = nn.Parameter(torch.randn(d, n, generator=g) / d ** 0.5)
        self.b_enc = nn.Parameter(torch.randn(n, generator=g) * 0.1 - 0.1)
        self.W_dec = nn.Parameter(torch.randn(n, d, generator=g) / n ** 0.5)
        self.b_dec = nn.Parameter(torch.randn(d, generator=g) * 0.1)

    def encode(self, x):
        return torch.relu((x - self.b_dec) @ self.W_enc + self.b_enc)

    def decode(self, f):
        return f @ self.W_dec + self.b_dec

    def numpy(self):
        return {k: v.detach().double().numpy() for k, v in self.state_dict().items()}


# -- closed forms ----------------------------------------------------------------------------------
def test_orthonormal_threshold_coder_meets_its_closed_forms():
    d, a = 12, 0.4
    D = _orthonormal(d)
    X = np.random.default_rng(1).standard_normal((300, d))
    coder = SparseCoder(D, transform_algorithm="threshold", transform_alpha=a)
    rule = DictionaryCode(coder).fit(X)
    C = X @ D.T                                 # coefficients on the atoms
    np.testing.assert_allclose(rule.encode(X), _soft(C, a), atol=1e-12)
    np.testing.assert_allclose(rule.decode(rule.encode(X)), _soft(C, a) @ D, atol=1e-12)
    np.testing.assert_allclose(rule.receptive_fields(), D)
    rec = reconstruction_measures(coder, X)
    sse = (np.minimum(np.abs(C), a) ** 2).sum(axis=1)      # ||x - D^T soft(Dx)||^2
    assert rec["sse_per_input"] == pytest.approx(sse.mean(), rel=1e-10)
    assert rec["mse"] == pytest.approx(sse.mean() / d, rel=1e-10)
    total = ((X - X.mean(axis=0)) ** 2).sum()
    assert rec["explained_variance"] == pytest.approx(1 - sse.sum() / total, rel=1e-10)
    assert rec["fvu"] == pytest.approx(sse.sum() / total, rel=1e-10)
    l0 = (np.abs(C) > a).sum(axis=1)
    assert rec["l0"] == pytest.approx(l0.mean()) and rec["l0_std"] == pytest.approx(l0.std())
    assert rec["l1"] == pytest.approx(np.abs(_soft(C, a)).sum(axis=1).mean())
    # neurocode's activity beside it: the same count, as a ratio of the d features
    assert rec["avr"] == rec["l0"] and rec["activity_ratio"] == pytest.approx(l0.mean() / d)
    # silencing features zeroes them in the code and so in the reconstruction
    alive = np.arange(d) % 3 != 0
    damaged = reconstruction_measures(rule, X, unit_mask=alive)
    kept = np.where(alive, _soft(C, a), 0.0)
    assert damaged["sse_per_input"] == pytest.approx(((C - kept) ** 2).sum(axis=1).mean(),
                                                     rel=1e-10)
    assert damaged["l0"] == pytest.approx((np.abs(C[:, alive]) > a).sum(axis=1).mean())


def test_perfect_autoencoder_explains_all_variance_and_a_zero_decoder_its_closed_form():
    X = np.random.default_rng(2).standard_normal((200, 7)) * [1, 2, 3, 1, 1, 1, 5] + 3.0
    perfect = reconstruction_measures(Identity(), X)
    assert perfect["explained_variance"] == 1.0 and perfect["mse"] == 0.0
    assert perfect["cosine_similarity"] == pytest.approx(1.0)
    exact = reconstruction_measures(
        SparseCoder(_orthonormal(7), transform_algorithm="threshold", transform_alpha=0.0), X)
    assert exact["explained_variance"] == pytest.approx(1.0, abs=1e-12)
    zero = reconstruction_measures(ZeroDecoder(), X)
    # 1 - sum_s ||x_s||^2 / (S * sum_j var_j): independent of the mean removed by hand
    expect = 1 - (X ** 2).sum() / (len(X) * np.var(X, axis=0).sum())
    assert zero["explained_variance"] == pytest.approx(expect, rel=1e-12)
    assert zero["mse"] == pytest.approx(np.mean(X ** 2), rel=1e-12)
    assert np.isnan(zero["cosine_similarity"])             # x_hat = 0 has no direction


def test_dead_and_dense_features_on_a_constructed_code():
    S = 200
    F = np.zeros((S, 6))
    F[:, 1] = 1.0                     # always on: dense
    F[::20, 2] = 0.5                  # 5% of inputs: neither dead nor dense
    F[S // 2:, 3] = 2.0               # only in the second half: dead within the first half
    F[::5, 4] = -1.0                  # 20%, negative: active by magnitude, dense
    F[:11, 5] = 0.3                   # 11 of 200 (5.5 %), all in the first half (11 %): dense there
    rec = reconstruction_measures(Identity(), F)
    assert rec["window"] == S
    np.testing.assert_allclose(rec["feature_density"], [0, 1, 0.05, 0.5, 0.2, 11 / 200])
    assert rec["n_dead_features"] == 1 and rec["dead_feature_fraction"] == pytest.approx(1 / 6)
    assert rec["n_dense_features"] == 3          # features 1, 3 (50 %) and 4
    half = reconstruction_measures(Identity(), F, dead_window=S // 2)
    assert half["window"] == S // 2
    assert half["n_dead_features"] == 2          # 0, and 3 (silent in the first 100)
    assert half["n_dense_features"] == 3         # 1, 4 and 5 (11 of the first 100)
    strict = reconstruction_measures(Identity(), F, dense_threshold=0.6)
    assert strict["n_dense_features"] == 1
    # the activity measures count over all inputs: feature 3 is alive there
    assert rec["activity_dead_fraction"] == pytest.approx(1 / 6)
    assert half["activity_dead_fraction"] == pytest.approx(1 / 6)


# -- the kinds of object ---------------------------------------------------------------------------
def test_a_torch_sae_is_encoded_and_decoded_as_its_formula_says():
    torch.manual_seed(0)
    sae = TinySAE(10, 24)
    X = np.random.default_rng(3).standard_normal((150, 10))
    rule = DictionaryCode(sae, batch_size=64).fit(X)
    p = sae.numpy()
    F = np.maximum((X - p["b_dec"]) @ p["W_enc"] + p["b_enc"], 0)
    assert rule.n_units == 24 and rule.kind_ == "encode-decode"
    np.testing.assert_allclose(rule.encode(X), F, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(rule.decode(F), F @ p["W_dec"] + p["b_dec"], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(rule.receptive_fields(), p["W_dec"], rtol=1e-5, atol=1e-6)
    alive = np.arange(24) >= 8
    rec = reconstruction_measures(rule, X, unit_mask=alive)
    R = (F * alive) @ p["W_dec"] + p["b_dec"]
    assert rec["sse_per_input"] == pytest.approx(((X - R) ** 2).sum(axis=1).mean(), rel=1e-5)
    assert rec["l0"] == pytest.approx((F[:, alive] > 0).sum(axis=1).mean())
    assert all(q.grad is None for q in sae.parameters()) and sae.training


def test_a_low_precision_torch_sae_is_read_in_its_own_dtype():
    sae = TinySAE(10, 24).to(torch.bfloat16)
    X = np.random.default_rng(3).standard_normal((40, 10))
    p = sae.numpy()
    F = np.maximum((X - p["b_dec"]) @ p["W_enc"] + p["b_enc"], 0)
    codes = DictionaryCode(sae).fit(X).encode(X)
    assert codes.dtype == np.float64
    np.testing.assert_allclose(codes, F, rtol=0.05, atol=0.05)    # bfloat16: 3 digits


def test_sklearn_dictionary_learning_is_read_by_transform_and_components():
    X = np.random.default_rng(4).standard_normal((80, 6))
    dl = DictionaryLearning(n_components=8, alpha=0.5, max_iter=5, random_state=0,
                            transform_algorithm="lasso_lars", transform_alpha=0.3).fit(X)
    rule = DictionaryCode(dl).fit(X)
    assert rule.kind_ == "sklearn" and rule.n_units == 8
    codes = rule.encode(X)
    np.testing.assert_allclose(codes, dl.transform(X))
    np.testing.assert_allclose(rule.decode(codes), codes @ dl.components_)
    with pytest.raises(ValueError, match="fit it first"):
        DictionaryCode(DictionaryLearning(n_components=3)).fit(X)



def test_a_dictionary_that_lost_its_atoms_since_fit_is_refused_by_name():
    X = np.random.default_rng(5).standard_normal((40, 4))
    sc = SparseCoder(np.eye(4), transform_algorithm="threshold", transform_alpha=0.1)
    rule = DictionaryCode(sc).fit(X)
    sc.dictionary = None                         # the user's object changed after fit
    with pytest.raises(AdapterError, match="SparseCoder no longer has its atoms"):
        rule.receptive_fields()

class AtomsOnly:
    """transform and components_, no inverse_transform: decoded as codes @ components_."""

    def __init__(self, D):
        self.components_ = D

    def transform(self, X):
        return np.maximum(np.asarray(X) @ self.components_.T, 0)


def test_a_decomposition_is_decoded_by_its_inverse_transform_or_its_atoms():
    X = np.random.default_rng(8).standard_normal((120, 6)) * np.arange(1, 7) + 4.0
    pca = PCA(n_components=3).fit(X)
    rec = reconstruction_measures(pca, X)
    # on its own training data, PCA explains the variance of its components (its mean added
    # back by inverse_transform)
    assert rec["explained_variance"] == pytest.approx(pca.explained_variance_ratio_.sum(),
                                                      rel=1e-10)
    D = _orthonormal(6)[:4]
    rule = DictionaryCode(AtomsOnly(D)).fit(X)
    codes = rule.encode(X)
    np.testing.assert_allclose(rule.decode(codes), codes @ D)


# -- the conformance suite -------------------------------------------------------------------------
# check_save_load does not apply: save_rule stores a rule by its registered name and JSON
# parameters, and a live dictionary object is neither (save it as its library does)
_WRAPPED = [c for c in CHECKS if c.__name__ != "check_save_load"]


def test_conformance_suite_on_a_sparse_coder():
    coder = SparseCoder(_orthonormal(16), transform_algorithm="threshold", transform_alpha=0.2)
    check_rule(DictionaryCode(coder, random_state=0), _WRAPPED)


def test_conformance_suite_on_a_torch_sae():
    check_rule(DictionaryCode(TinySAE(16, 20), random_state=0), _WRAPPED)


# -- the battery -----------------------------------------------------------------------------------
def test_measure_dictionary_adds_the_reconstruction_measures_to_the_battery():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 4, 400)
    X = np.eye(8)[y * 2] + 0.1 * rng.standard_normal((400, 8))
    coder = SparseCoder(_orthonormal(8, seed=3), transform_algorithm="threshold",
                        transform_alpha=0.15)
    out = measure_dictionary(coder, X[:300], y[:300], X[300:], y[300:],
                             measures=("activity", "fault"))
    rec, act = out["reconstruction"], out["activity"]
    assert rec["n_inputs"] == 100 and rec["n_features"] == 8
    assert rec["l0"] == pytest.approx(act["avr"], rel=1e-6)
    assert rec["activity_ratio"] == pytest.approx(act["activity_ratio"], rel=1e-6)
    direct = reconstruction_measures(coder, X[300:].astype(np.float32))
    assert rec["explained_variance"] == pytest.approx(direct["explained_variance"], rel=1e-9)
    assert out["_meta"]["readout"] == "linear probe" and out["fault"]["accuracy_intact"] > 0.9
    unlabelled = measure_dictionary(coder, X, measures=("activity", "fault"))
    assert "fault" in unlabelled["_meta"]["skipped"]
    assert unlabelled["reconstruction"]["n_inputs"] == 100          # 25 % held out


@pytest.mark.slow
def test_smoke_the_whole_battery_runs_on_a_dictionary():
    rng = np.random.default_rng(7)
    y = rng.integers(0, 4, 400)
    X = np.eye(16)[y * 4] + 0.2 * rng.random((400, 16))
    coder = SparseCoder(_orthonormal(16), transform_algorithm="threshold", transform_alpha=0.1)
    out = measure_dictionary(coder, X, y, image_shape=(4, 4), max_stimuli=100)
    assert set(MEASURES) <= set(out) and out["_meta"]["skipped"] == ""
    assert out["reconstruction"]["n_inputs"] == 100


# -- bad input -------------------------------------------------------------------------------------
class NoDecode:
    def encode(self, x):
        return x


class Flat(Identity):
    def encode(self, x):
        return np.asarray(x).sum(axis=1)


class NaNs(Identity):
    def encode(self, x):
        f = np.array(x, dtype=np.float64)
        f[0, 0] = np.nan
        return f


class Narrow(Identity):
    def decode(self, f):
        return np.asarray(f)[:, :2]


def test_bad_dictionaries_and_arguments_are_refused_with_a_message():
    X = np.random.default_rng(6).standard_normal((20, 5))
    for bad in ("a string", NoDecode(), object()):
        with pytest.raises(ParamError, match="'dictionary'.*encode.*decode"):
            DictionaryCode(bad).fit(X)
    with pytest.raises(ParamError, match="'dictionary'"):
        DictionaryCode().fit(X)
    with pytest.raises(AdapterError, match=r"shape \(20,\).*\(n_stimuli, n_features\)"):
        DictionaryCode(Flat()).fit(X)
    with pytest.raises(NonFiniteOutputError, match="1 of 20"):
        DictionaryCode(NaNs()).fit(X)
    with pytest.raises(AdapterError, match=r"decode .*shape \(20, 2\)"):
        DictionaryCode(Narrow()).fit(X)
    with pytest.raises(AdapterError, match=r"dead_window.*\[1, 20\]"):
        reconstruction_measures(Identity(), X, dead_window=21)
    with pytest.raises(AdapterError, match="dense_threshold"):
        reconstruction_measures(Identity(), X, dense_threshold=1.5)
    with pytest.raises(AdapterError, match="not generative"):
        reconstruction_measures(GivenCodes().fit(X), X)
    with pytest.raises(ValueError, match="NaN"):
        reconstruction_measures(Identity(), np.full((3, 2), np.nan))
    with pytest.raises(AdapterError, match="X_test has 4 features"):
        measure_dictionary(Identity(), X, None, X[:, :4])
