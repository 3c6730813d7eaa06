"""The conformance suite every coding rule passes: :func:`check_rule`, one named check at a time.

Like scikit-learn's ``check_estimator``: one set of checks, run in the test suite over every
registered rule, built-in and plugin. A rule author runs them all on a new rule with::

    from neurocode.testing import check_rule
    check_rule(MyRule(**MyRule.test_params))

or, in pytest, one test per check (like scikit-learn's ``parametrize_with_checks``), so a
failure names the broken property in the test id::

    from neurocode.testing import parametrize_with_checks

    @parametrize_with_checks([MyRule])          # a class (built with its test_params) or a rule
    def test_my_rule(rule, check):
        check(rule)

Each check (:data:`CHECKS`) takes an unfitted rule with a fixed ``random_state``, fits a copy
on :func:`conformance_data` when it needs a fitted one, and raises ``AssertionError`` with a
message that starts with the rule and the check's name and says what property is broken.
Besides the contract (parameters, shapes, determinism, ``unit_mask``, save/load), the checks
hold the rule to its :class:`~neurocode.rules.Tags`: the code kind, the input domain, what
silencing does, its own classifier, its update modes and its fit options.
"""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from neurocode.rules import CodingRule, NotFittedError, Tags, load_rule, save_rule

__all__ = ["CHECKS", "check_rule", "conformance_data", "invalid_values",
           "parametrize_with_checks", "check_metadata", "check_parameters_stored",
           "check_tags_valid", "check_not_fitted", "check_parameters_validated", "check_fit",
           "check_codes", "check_bad_input_refused", "check_deterministic", "check_unit_mask",
           "check_silencing", "check_input_domain", "check_own_readout", "check_update_modes",
           "check_fit_options", "check_decode", "check_partial_fit", "check_save_load"]


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


def _fit(rule: CodingRule, X: np.ndarray, y: np.ndarray, **fit_params: Any) -> CodingRule:
    return rule.fit(X, y if type(rule).tags.uses_labels else None, **fit_params)


class _Subject:
    """A rule under test and what its checks share: the data, the parameters as given, and
    (fitted once, on first use) the fitted rule and its codes of the data."""

    def __init__(self, rule: CodingRule, fit_in_place: bool = False) -> None:
        if not isinstance(rule, CodingRule):
            raise TypeError(f"the checks take a CodingRule instance, got {rule!r}")
        self.rule = rule
        self.cls = type(rule)
        self.tags: Tags = self.cls.tags
        self.name = self.cls.name or self.cls.__qualname__
        self.params = rule.get_params()
        self.X, self.y = conformance_data(rule)
        self._in_place = fit_in_place
        self._fitted: CodingRule | None = None
        self._codes: np.ndarray | None = None

    def fresh(self) -> CodingRule:
        """An unfitted copy with the parameters as given."""
        return self.rule.clone()

    @property
    def fitted(self) -> CodingRule:
        if self._fitted is None:
            rule = self.rule if self._in_place else self.fresh()
            out = _fit(rule, self.X, self.y)
            assert out is rule, "fit must return self"
            self._fitted = rule
        return self._fitted

    @property
    def codes(self) -> np.ndarray:
        if self._codes is None:
            self._codes = self.fitted.encode(self.X)
        return self._codes

    def mask(self) -> np.ndarray:
        """Every other unit silenced (units 0, 2, 4, ...)."""
        mask = np.ones(self.fitted.n_units, dtype=bool)
        mask[::2] = False
        return mask


def _subject(rule: Any) -> _Subject:
    return rule if isinstance(rule, _Subject) else _Subject(rule)


def _check(doc: str) -> Callable:
    """Mark a check: ``doc`` names the property it holds the rule to (used in its failures)."""

    def wrap(fn: Callable[[_Subject], None]) -> Callable[[Any], None]:
        @functools.wraps(fn)
        def check(rule: Any) -> None:
            s = _subject(rule)
            try:
                fn(s)
            except AssertionError as exc:
                raise AssertionError(f"rule '{s.name}' fails {fn.__name__} ({doc}): "
                                     f"{exc}") from None

        check.property = doc  # type: ignore[attr-defined]
        check.__doc__ = f"Check that {doc}." + (f"\n\n{fn.__doc__}" if fn.__doc__ else "")
        return check

    return wrap


# -- the contract -------------------------------------------------------------------------------
@_check("the rule has a name and a description and the suite's rule a fixed random_state")
def check_metadata(s: _Subject) -> None:
    """Reads the class's ``name`` and ``description`` and the ``random_state`` the rule was built
    with (the checks compare fits, so it must be fixed)."""
    assert s.cls.name, f"{s.cls.__qualname__} has no name"
    assert s.cls.description, "it has no description"
    assert s.params.get("random_state") is not None, \
        "the checks need a rule with a fixed random_state"


@_check("the hyper-parameters are stored as given, cloned, and unknown ones refused")
def check_parameters_stored(s: _Subject) -> None:
    """Compares ``get_params()`` with the declared ``params`` and with a clone's, and builds the
    class with an argument it does not declare, which must raise a TypeError naming it."""
    assert set(s.params) == set(s.cls.params), \
        f"get_params() gives {sorted(s.params)}, the declared params are {sorted(s.cls.params)}"
    assert s.fresh().get_params() == s.params, "clone() changed the hyper-parameters"
    try:
        s.cls(not_a_parameter=1)
    except TypeError as exc:
        assert "not_a_parameter" in str(exc), f"the error does not name the argument: {exc}"
    else:
        raise AssertionError("it accepted an unknown constructor argument")


@_check("the declared tags are valid and consistent with the class")
def check_tags_valid(s: _Subject) -> None:
    """Runs the tag checks that need only the tags (:meth:`~neurocode.rules.Tags.problems`) and
    those that need the class, and compares the class's ``code_kind`` and ``supervised`` attributes
    with the tags."""
    from neurocode.rules.base import _tag_problems

    assert isinstance(s.tags, Tags), f"tags is {s.tags!r}, not a Tags"
    wrong = s.tags.problems() + _tag_problems(s.cls, s.tags)
    assert not wrong, "; ".join(f"tags.{f}: {why}" for f, why in wrong)
    assert s.cls.code_kind == s.tags.code_kind and s.cls.supervised == s.tags.uses_labels, \
        "code_kind / supervised disagree with the tags"


@_check("encode before fit is refused with NotFittedError")
def check_not_fitted(s: _Subject) -> None:
    """Encodes the suite's data with an unfitted copy, which must raise
    :class:`~neurocode.rules.NotFittedError`."""
    try:
        s.fresh().encode(s.X)
    except NotFittedError:
        pass
    else:
        raise AssertionError("it encoded before fit")


@_check("fit validates every hyper-parameter and a bad value's error names it")
def check_parameters_validated(s: _Subject) -> None:
    """For every hyper-parameter and each value :func:`invalid_values` gives for it, fits a copy
    with that value, which must raise a ValueError whose message names the parameter."""
    for name, param in s.cls.params.items():
        for bad in invalid_values(param):
            broken = s.fresh().set_params(**{name: bad})
            try:
                _fit(broken, s.X, s.y)
            except ValueError as exc:
                assert name in str(exc), f"error for {name}={bad!r} does not name it: {exc}"
            else:
                raise AssertionError(f"it accepted {name}={bad!r} ({param.describe()} allowed)")


@_check("fit returns self, keeps the hyper-parameters and gives n_units > 0")
def check_fit(s: _Subject) -> None:
    """Fits a copy on the suite's data: ``fit`` must return the rule itself, leave ``get_params()``
    as given and give a positive integer ``n_units``."""
    rule = s.fitted
    assert rule.get_params() == s.params, "fit changed the hyper-parameters"
    n = rule.n_units
    assert isinstance(n, (int, np.integer)) and n > 0, f"n_units is {n!r}"


def _assert_kind(codes: np.ndarray, kind: str, what: str = "codes") -> None:
    assert np.isfinite(codes).all(), f"{what} contain NaN or infinite values"
    if kind == "binary":
        assert np.isin(codes, (0, 1)).all(), f"a binary code ({what}) has values other than 0 and 1"
    elif kind == "spike-count":
        assert (codes >= 0).all() and np.all(codes == np.round(codes)), \
            f"a spike-count code ({what}) has negative or non-integer values"


@_check("encode gives finite codes (n_samples, n_units) of the declared code_kind")
def check_codes(s: _Subject) -> None:
    """Encodes the suite's data with the fitted rule: a NumPy array ``(n_samples, n_units)``,
    finite, of 0s and 1s for a binary code and of non-negative integers for a spike-count code."""
    codes, n = s.codes, s.fitted.n_units
    assert isinstance(codes, np.ndarray) and codes.shape == (len(s.X), n), \
        f"encode returned shape {getattr(codes, 'shape', None)}, expected {(len(s.X), n)}"
    _assert_kind(codes, s.tags.code_kind)


@_check("encode refuses NaN, a wrong number of features and 1-D input")
def check_bad_input_refused(s: _Subject) -> None:
    """Encodes all-NaN input, input with one feature too few, and a single 1-D row with the fitted
    rule; each must raise a ValueError."""
    X = s.X
    for bad_X, what in ((np.full_like(X, np.nan, dtype=float), "NaN"),
                        (X[:, :-1], "too few features"), (X[0], "1-D")):
        try:
            s.fitted.encode(bad_X)
        except ValueError:
            pass
        else:
            raise AssertionError(f"it encoded input with {what}")


@_check("the same random_state gives the same codes")
def check_deterministic(s: _Subject) -> None:
    """Fits a second copy with the same parameters on the same data; its codes must equal the first
    fit's exactly."""
    again = _fit(s.fresh(), s.X, s.y)
    np.testing.assert_array_equal(again.encode(s.X), s.codes,
                                  err_msg="same random_state, different codes")


@_check("unit_mask is honoured: silenced units are 0, all-alive changes nothing, a wrong "
        "shape is refused")
def check_unit_mask(s: _Subject) -> None:
    """Encodes with every other unit silenced (those units must be 0), with every unit alive (the
    codes must not change), with every unit silenced (the codes must be all 0) and with a mask one
    entry too long (a ValueError)."""
    rule, codes, n = s.fitted, s.codes, s.fitted.n_units
    mask = s.mask()
    masked = rule.encode(s.X, unit_mask=mask)
    assert masked.shape == codes.shape
    assert np.all(masked[:, ~mask] == 0), "silenced units are active"
    np.testing.assert_array_equal(rule.encode(s.X, unit_mask=np.ones(n, dtype=bool)), codes,
                                  err_msg="an all-alive mask changed the codes")
    assert np.all(rule.encode(s.X, unit_mask=np.zeros(n, dtype=bool)) == 0), \
        "with every unit silenced the code is not all-zero"
    try:
        rule.encode(s.X, unit_mask=np.ones(n + 1, dtype=bool))
    except ValueError:
        pass
    else:
        raise AssertionError("a unit_mask of the wrong shape was accepted")


# -- the tags -----------------------------------------------------------------------------------
def _silencing_holds(kind: str | None, codes: np.ndarray, masked: np.ndarray,
                     mask: np.ndarray) -> None:
    assert np.all(masked[:, ~mask] == 0), "silenced units are active"
    if kind == "dropped":
        changed = (masked[:, mask] != codes[:, mask]).any(axis=1)
        assert not changed.any(), (
            f"silencing is declared 'dropped', but silencing units changed the alive units' "
            f"values in {int(changed.sum())} of {len(changed)} codes")
    elif kind == "recompetes":
        want = np.minimum((codes != 0).sum(axis=1), int(mask.sum()))
        got = (masked != 0).sum(axis=1)
        assert np.array_equal(got, want), (
            f"silencing is declared 'recompetes', but the code's activity is not kept: "
            f"{int((got != want).sum())} of {len(got)} codes have another number of active "
            f"units than min(intact, alive)")


@_check("silencing a unit does what tags.silencing declares (dropped: the others unchanged; "
        "recompetes: the activity kept; resettles: only the silenced units are 0)")
def check_silencing(s: _Subject) -> None:
    """Encodes with every other unit silenced and holds the codes to the instance's
    ``silencing_kind()``; when ``tags.silencing_param`` names a parameter, fits a copy with each of
    its other choices, whose silencing kind must be the one that choice stands for, and holds its
    codes to it too."""
    rule = s.fitted
    kind = rule.silencing_kind()
    assert kind is None or kind in ("dropped", "recompetes", "resettles"), \
        f"the instance's silencing kind is {kind!r}"
    mask = s.mask()
    _silencing_holds(kind, s.codes, rule.encode(s.X, unit_mask=mask), mask)
    param = s.tags.silencing_param
    if param is None:
        return
    from neurocode.rules.tags import _SILENCING_ALIASES

    for value in s.cls.params[param].choices or ():
        if value == s.params[param]:
            continue
        other = _fit(s.fresh().set_params(**{param: value}), s.X, s.y)
        kind = other.silencing_kind()
        assert kind == _SILENCING_ALIASES.get(value, value), \
            f"{param}={value!r} gives silencing_kind() {kind!r}"
        _silencing_holds(kind, other.encode(s.X), other.encode(s.X, unit_mask=mask), mask)


@_check("the rule takes the input tags.input_domain declares (the suite's data lies in it; a "
        "binary rule refuses other values; a real one encodes signed input)")
def check_input_domain(s: _Subject) -> None:
    """Binary: the suite's data is 0 and 1, and fitting on it with one entry set to 0.5 raises a
    ValueError. Non-negative: the suite's data has no negative value. Real: the fitted rule encodes
    the centred (signed) data into codes of the intact shape and the declared kind."""
    domain, X = s.tags.input_domain, np.asarray(s.X, dtype=np.float64)
    if domain == "binary":
        assert np.isin(X, (0, 1)).all(), "the conformance data is not binary"
        bad = X.copy()
        bad[0, 0] = 0.5
        try:
            _fit(s.fresh(), bad, s.y)
        except ValueError:
            pass
        else:
            raise AssertionError("input_domain is 'binary', but fit accepted a 0.5")
    elif domain == "nonnegative":
        assert (X >= 0).all(), "the conformance data has negative values"
    else:
        signed = s.fitted.encode(X - X.mean(axis=0))
        assert signed.shape == s.codes.shape, "encoding signed input changed the shape"
        _assert_kind(signed, s.tags.code_kind, "codes of signed input")


@_check("a rule with its own classifier (tags.own_readout) gives class scores (n, C) from "
        "decision_function, also through a unit_mask, and predict agrees with them")
def check_own_readout(s: _Subject) -> None:
    """Without ``tags.own_readout``, ``has_own_readout()`` must be False. With it, the fitted rule's
    ``decision_function`` must give finite scores ``(n_samples, n_classes)``, also with a
    ``unit_mask``, and ``predict`` the class (from ``classes_`` when the rule has them) of the
    largest score."""
    rule = s.fitted
    if not s.tags.own_readout:
        assert not rule.has_own_readout(), \
            "has_own_readout() is True, but tags.own_readout is False"
        return
    assert rule.has_own_readout(), "fitted with labels, has_own_readout() is False"
    n, C = len(s.X), len(np.unique(s.y))
    scores = np.asarray(rule.decision_function(s.X))
    assert scores.shape == (n, C), \
        f"decision_function gave shape {scores.shape}, expected (n_samples, n_classes) = {(n, C)}"
    assert np.isfinite(scores).all(), "decision_function gave NaN or infinite scores"
    masked = np.asarray(rule.decision_function(s.X, unit_mask=s.mask()))
    assert masked.shape == (n, C), f"decision_function with a unit_mask gave {masked.shape}"
    pred = np.asarray(rule.predict(s.X))
    classes = np.asarray(getattr(rule, "classes_", None)
                         if getattr(rule, "classes_", None) is not None else np.arange(C))
    np.testing.assert_array_equal(pred, classes[scores.argmax(axis=1)],
                                  err_msg="predict is not the class of the largest score")


@_check("a rule with tags.update_modes runs in each mode from the same learned state")
def check_update_modes(s: _Subject) -> None:
    """For each of ``tags.update_modes``, builds the rule with ``update`` set to it, gives it the
    fitted rule's state (``get_state``, ``set_state``) and encodes: codes of the intact shape and
    the declared kind; the battery must see the modes too
    (:func:`~neurocode.metrics.parallel.supports_update_modes`). Nothing to check for a rule without
    update modes."""
    if not s.tags.update_modes:
        return
    from neurocode.metrics.parallel import supports_update_modes

    rule = s.fitted
    assert supports_update_modes(rule), "the battery does not see its update modes"
    state = rule.get_state()
    for mode in s.tags.update_modes:
        twin = s.cls(**{**s.params, "update": mode})
        twin.set_state({k: np.array(v, copy=True) for k, v in state.items()})
        codes = twin.encode(s.X)
        assert codes.shape == s.codes.shape, f"update={mode!r} gave codes of shape {codes.shape}"
        _assert_kind(codes, s.tags.code_kind, f"codes with update={mode!r}")


@_check("fit accepts each option of tags.fit_options as the runner passes it")
def check_fit_options(s: _Subject) -> None:
    """Fits a copy with each option of ``tags.fit_options`` as the runner passes it (the suite's
    data as ``validation_data``, ``device="cpu"``, ``progress=False``, a ``callback`` that
    records the steps); a TypeError fails the check, and the copy must give codes of the plain
    fit's shape."""
    if not s.tags.fit_options:
        return
    seen: list[int] = []
    offered = {"validation_data": (s.X, s.y), "device": "cpu", "progress": False,
               "callback": lambda step, row: seen.append(step)}
    rule = s.fresh()
    try:
        _fit(rule, s.X, s.y, **{k: offered[k] for k in s.tags.fit_options})
    except TypeError as exc:
        raise AssertionError(f"fit refused the declared options {s.tags.fit_options}: "
                             f"{exc}") from None
    assert rule.encode(s.X).shape == s.codes.shape


# -- what some rules have -----------------------------------------------------------------------
@_check("a generative rule's decode gives finite stimuli of the input's shape")
def check_decode(s: _Subject) -> None:
    """Decodes the fitted rule's codes of the suite's data: an array of the data's shape, finite.
    Nothing to check for a rule that is not generative."""
    if not s.fitted.generative:
        return
    recon = s.fitted.decode(s.codes)
    assert recon.shape == s.X.shape, f"decode returned {recon.shape}, expected {s.X.shape}"
    assert np.isfinite(recon).all(), "decode gave NaN or infinite values"


@_check("an online rule's partial_fit returns self and gives codes of the same shape")
def check_partial_fit(s: _Subject) -> None:
    """One ``partial_fit`` of an unfitted copy on the suite's data must return the copy, which then
    gives codes of the fitted rule's shape. Nothing to check for a rule that is not online."""
    if not s.fitted.online:
        return
    online = s.fresh()
    assert online.partial_fit(s.X, s.y if s.tags.uses_labels else None) is online, \
        "partial_fit must return self"
    assert online.encode(s.X).shape == s.codes.shape


@_check("the HDF5 save/load round trip keeps the parameters and the codes")
def check_save_load(s: _Subject) -> None:
    """Saves the fitted rule to a temporary HDF5 file (:func:`~neurocode.rules.save_rule`) and loads
    it back: the same class and parameters, and the same codes, intact and with every other unit
    silenced."""
    rule = s.fitted
    mask = s.mask()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rule.h5"
        save_rule(rule, path)
        loaded = load_rule(path)
    assert type(loaded) is s.cls and loaded.get_params() == s.params
    np.testing.assert_array_equal(loaded.encode(s.X), s.codes,
                                  err_msg="save/load changed the codes")
    np.testing.assert_array_equal(loaded.encode(s.X, unit_mask=mask),
                                  rule.encode(s.X, unit_mask=mask),
                                  err_msg="save/load changed the codes of silenced units")


#: every check, in the order :func:`check_rule` runs them
CHECKS: tuple[Callable[[Any], None], ...] = (
    check_metadata, check_parameters_stored, check_tags_valid, check_not_fitted,
    check_parameters_validated, check_fit, check_codes, check_bad_input_refused,
    check_deterministic, check_unit_mask, check_silencing, check_input_domain,
    check_own_readout, check_update_modes, check_fit_options, check_decode, check_partial_fit,
    check_save_load,
)


def check_rule(rule: CodingRule, checks: Iterable[Callable[[Any], None]] | None = None) -> None:
    """Run the conformance checks (default: all of :data:`CHECKS`) on an unfitted rule; raise
    ``AssertionError`` naming the rule, the check and the broken property on a breach.

    The checks share one fit: ``rule`` itself is fitted (as before the checks were split).
    """
    s = _Subject(rule, fit_in_place=True)
    for check in CHECKS if checks is None else checks:
        check(s)


def _as_rule(obj: Any) -> CodingRule:
    if isinstance(obj, type) and issubclass(obj, CodingRule):
        return obj(**obj.test_params)
    if isinstance(obj, CodingRule):
        return obj
    raise TypeError(f"parametrize_with_checks takes rules or rule classes, got {obj!r}")


def parametrize_with_checks(rule_or_rules: Any):
    """A ``pytest.mark.parametrize`` over ``(rule, check)``: one test per rule and check,
    its id ``<rule name>-<check name>``. Rules are instances (unfitted, with a fixed
    ``random_state``) or classes (built with their ``test_params``)::

        @parametrize_with_checks([MyRule, MyOtherRule(n_units=8, random_state=0)])
        def test_my_rules(rule, check):
            check(rule)

    Each check fits its own copy of the rule; the rule given is never fitted.
    """
    import pytest

    items = (list(rule_or_rules) if isinstance(rule_or_rules, (list, tuple))
             else [rule_or_rules])
    rules = [_as_rule(r) for r in items]
    params, ids = [], []
    for rule in rules:
        for check in CHECKS:
            params.append((rule, check))
            ids.append(f"{type(rule).name or type(rule).__qualname__}-{check.__name__}")
    return pytest.mark.parametrize("rule, check", params, ids=ids)
