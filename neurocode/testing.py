"""The conformance suite every coding rule passes: :func:`check_rule`.

Like scikit-learn's ``check_estimator``: one set of checks, run in the test suite over every
registered rule, built-in and plugin. A rule author runs it on a new rule with::

    from neurocode.testing import check_rule
    check_rule(MyRule(**MyRule.test_params))
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from neurocode.rules import CodingRule, NotFittedError, load_rule, save_rule

__all__ = ["check_rule", "conformance_data", "invalid_values"]


def conformance_data(rule: CodingRule, n_samples: int = 96) -> tuple[np.ndarray, np.ndarray]:
    """Small data for the suite: the rule's own ``conformance_data`` if it has one, else
    non-negative random vectors of 16 features with 3 classes."""
    own = getattr(type(rule), "conformance_data", None)
    if callable(own):
        return own(n_samples)
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, n_samples)
    X = rng.random((n_samples, 16)) * 0.5
    X[np.arange(n_samples), y] += 1.0  # a little class structure
    return X, y


def invalid_values(param) -> list[Any]:
    """Values that break a declaration: outside its range, not a choice, the wrong type."""
    out: list[Any] = []
    if param.choices is not None:
        out.append("not-a-valid-choice")
    if param.low is not None and np.isfinite(param.low):
        out.append(param.low - 1 if int in param.types and float not in param.types else param.low - 1.0)
    if param.high is not None and np.isfinite(param.high):
        out.append(param.high + 1 if int in param.types and float not in param.types else param.high * 2 + 1.0)
    if str not in param.types:
        out.append("a string")
    if not param.nullable:
        out.append(None)
    return out


def _fit(rule: CodingRule, X: np.ndarray, y: np.ndarray) -> CodingRule:
    return rule.fit(X, y if rule.supervised else None)


def check_rule(rule: CodingRule) -> None:
    """Run the conformance checks on an (unfitted) rule; raise ``AssertionError`` on a breach.

    Checks: hyper-parameters stored as given and validated in ``fit`` (a bad value raises
    ``ValueError`` naming the parameter); ``encode`` before ``fit`` refused; code shape, dtype
    and ``code_kind``; bad input (NaN, wrong shape) refused; determinism under a fixed
    ``random_state``; ``unit_mask`` honoured (silenced units are 0, a wrong-shaped mask is
    refused); ``decode`` shape for generative rules; ``partial_fit`` for online rules; and the
    HDF5 save/load round trip.
    """
    cls = type(rule)
    assert cls.name, f"{cls.__qualname__} has no name"
    assert cls.description, f"rule '{cls.name}' has no description"
    params = rule.get_params()
    assert params["random_state"] is not None, "check_rule needs a rule with a fixed random_state"
    assert set(params) == set(cls.params)
    clone = rule.clone()
    assert clone.get_params() == params, "clone() changed the hyper-parameters"
    try:
        cls(not_a_parameter=1)
    except TypeError as exc:
        assert "not_a_parameter" in str(exc)
    else:
        raise AssertionError(f"rule '{cls.name}' accepted an unknown constructor argument")

    X, y = conformance_data(rule)
    try:
        rule.clone().encode(X)
    except NotFittedError:
        pass
    else:
        raise AssertionError(f"rule '{cls.name}' encoded before fit")

    for name, param in cls.params.items():
        for bad in invalid_values(param):
            broken = rule.clone().set_params(**{name: bad})
            try:
                _fit(broken, X, y)
            except ValueError as exc:
                assert name in str(exc), f"error for {name}={bad!r} does not name it: {exc}"
            else:
                raise AssertionError(f"rule '{cls.name}' accepted {name}={bad!r} "
                                     f"({param.describe()} allowed)")

    fitted = _fit(rule, X, y)
    assert fitted is rule, "fit must return self"
    assert rule.get_params() == params, "fit changed the hyper-parameters"
    n = rule.n_units
    assert isinstance(n, (int, np.integer)) and n > 0
    codes = rule.encode(X)
    assert isinstance(codes, np.ndarray) and codes.shape == (len(X), n), \
        f"encode returned shape {getattr(codes, 'shape', None)}, expected {(len(X), n)}"
    assert np.isfinite(codes).all(), "codes contain NaN or infinite values"
    if cls.code_kind == "binary":
        assert np.isin(codes, (0, 1)).all(), "a binary code has values other than 0 and 1"
    elif cls.code_kind == "spike-count":
        assert (codes >= 0).all() and np.all(codes == np.round(codes)), \
            "a spike-count code has negative or non-integer values"

    for bad_X, what in ((np.full_like(X, np.nan, dtype=float), "NaN"),
                        (X[:, :-1], "too few features"), (X[0], "1-D")):
        try:
            rule.encode(bad_X)
        except ValueError:
            pass
        else:
            raise AssertionError(f"rule '{cls.name}' encoded input with {what}")

    again = _fit(rule.clone(), X, y)
    np.testing.assert_array_equal(again.encode(X), codes,
                                  err_msg="same random_state, different codes")

    mask = np.ones(n, dtype=bool)
    mask[::2] = False
    masked = rule.encode(X, unit_mask=mask)
    assert masked.shape == codes.shape
    assert np.all(masked[:, ~mask] == 0), "silenced units are active"
    np.testing.assert_array_equal(rule.encode(X, unit_mask=np.ones(n, dtype=bool)), codes,
                                  err_msg="an all-alive mask changed the codes")
    assert np.all(rule.encode(X, unit_mask=np.zeros(n, dtype=bool)) == 0)
    try:
        rule.encode(X, unit_mask=np.ones(n + 1, dtype=bool))
    except ValueError:
        pass
    else:
        raise AssertionError("a unit_mask of the wrong shape was accepted")

    if rule.generative:
        recon = rule.decode(codes)
        assert recon.shape == X.shape, f"decode returned {recon.shape}, expected {X.shape}"
        assert np.isfinite(recon).all()
    if rule.online:
        online = rule.clone()
        assert online.partial_fit(X, y if cls.supervised else None) is online
        assert online.encode(X).shape == codes.shape

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rule.h5"
        save_rule(rule, path)
        loaded = load_rule(path)
    assert type(loaded) is cls and loaded.get_params() == params
    np.testing.assert_array_equal(loaded.encode(X), codes, err_msg="save/load changed the codes")
    np.testing.assert_array_equal(loaded.encode(X, unit_mask=mask), masked)
