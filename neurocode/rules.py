"""The CodingRule contract, the rule registry, and plugin discovery.

A coding rule turns stimuli into a population code. Rules follow scikit-learn's estimator
habits:

* the constructor only stores hyper-parameters, each declared once in the class attribute
  ``params`` (a :class:`~neurocode.params.Param` with type, default and allowed range) and
  checked in :meth:`CodingRule.fit`: a bad value raises ``ValueError`` naming the parameter
  and the allowed range;
* ``fit(X, y=None)`` learns, ``partial_fit`` exists where the rule is online;
* ``encode(X, unit_mask=None)`` returns codes of shape ``(n_samples, n_units)``;
  ``unit_mask`` (boolean, ``False`` = silenced) silences units inside the rule's dynamics, so
  a silenced unit neither fires nor inhibits;
* ``decode(codes)`` exists where the rule is generative;
* learned state lives in attributes ending in ``_``; randomness comes from ``random_state``;
* ``code_kind`` is ``"rate"``, ``"binary"`` or ``"spike-count"``.

Rules are registered by name. Built-in rules and third-party ones arrive the same way:
through the entry-point group ``neurocode.rules`` (see ``examples/plugin``). A plugin that
fails to import is reported by name (:func:`plugin_errors`) and does not break the others.

A fitted rule saves to HDF5 as its name, its parameters and its learned arrays
(:func:`save_rule`, :func:`load_rule`), never by pickling.
"""

from __future__ import annotations

import difflib
import inspect
import json
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from neurocode.params import Param, ParamError

__all__ = [
    "CODE_KINDS",
    "ENTRY_POINT_GROUP",
    "CodingRule",
    "NotFittedError",
    "ParamError",
    "TrainingFailed",
    "UnknownRuleError",
    "available_rules",
    "get_rule",
    "get_rule_class",
    "load_rule",
    "plugin_errors",
    "register",
    "save_rule",
]

CODE_KINDS = ("rate", "binary", "spike-count")
ENTRY_POINT_GROUP = "neurocode.rules"


class NotFittedError(ValueError, AttributeError):
    """``encode``/``decode`` called before ``fit``."""


class TrainingFailed(RuntimeError):
    """Fitting stopped on its own terms (e.g. the loss became NaN); the message says why.

    The rule keeps what it recorded before failing (e.g. ``curves_``), so the run can be
    stored as failed with its reason and partial curves.
    """


class UnknownRuleError(ValueError):
    """No rule of that name is registered (the message suggests the closest names)."""


class CodingRule:
    """Base class of every coding rule. See the module docstring for the contract.

    Subclasses set ``name``, ``description``, ``code_kind`` and ``params`` (which either
    declares ``n_units`` or the class defines an ``n_units`` property), and implement
    ``_fit(X, y)`` and ``_encode(X, mask)`` (``mask``: boolean ``(n_units,)``, ``True`` =
    alive), and ``_decode(codes)`` if generative. The constructor is generated from
    ``params``: keyword-only arguments with the declared defaults.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    code_kind: ClassVar[str] = "rate"
    #: hyper-parameters, declared once; ``random_state`` is added to every rule
    params: ClassVar[dict[str, Param]] = {}
    #: whether ``fit`` uses labels (its code then comes with its own readout: ``predict``)
    supervised: ClassVar[bool] = False
    #: small, fast hyper-parameters for the conformance suite (:func:`neurocode.testing.check_rule`)
    test_params: ClassVar[dict[str, Any]] = {}

    _COMMON: ClassVar[dict[str, Param]] = {
        "random_state": Param(int, None, low=0, nullable=True,
                              doc="seed of every random draw of the rule (None: fresh entropy)"),
    }

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared: dict[str, Param] = {}
        for base in reversed(cls.__mro__[1:]):
            declared.update(base.__dict__.get("params", {}))
        declared.update(cls.__dict__.get("params", {}))
        declared.update(CodingRule._COMMON)
        cls.params = declared
        if cls.code_kind not in CODE_KINDS:
            raise TypeError(f"{cls.__qualname__}.code_kind must be one of {CODE_KINDS}")
        if "__init__" not in cls.__dict__:
            cls.__init__ = _make_init(cls)  # type: ignore[method-assign]

    # -- parameters ---------------------------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        """The hyper-parameters as given to the constructor."""
        return {k: getattr(self, k) for k in self.params}

    def set_params(self, **params: Any) -> "CodingRule":
        for k, v in params.items():
            if k not in self.params:
                raise _unexpected(type(self), k)
            setattr(self, k, v)
        return self

    def clone(self) -> "CodingRule":
        """An unfitted copy with the same hyper-parameters."""
        return type(self)(**self.get_params())

    def _validate_params(self) -> None:
        owner = f"rule '{self.name}' parameter"
        for k, p in self.params.items():
            setattr(self, k, p.check(getattr(self, k), k, owner))
        self._validate_together()

    def _validate_together(self) -> None:
        """Checks that involve several parameters; raise ``ParamError`` naming them."""

    def _rng(self) -> np.random.Generator:
        return np.random.default_rng(self.random_state)

    # -- the contract -------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None, **fit_params: Any) -> "CodingRule":
        """Learn from ``X`` (n_samples, n_features) and, for supervised rules, labels ``y``."""
        self._validate_params()
        X = self._check_X(X, reset=True)
        if y is not None:
            y = np.asarray(y)
            if y.shape != (X.shape[0],):
                raise ValueError(f"y must have shape ({X.shape[0]},) to match X, got {y.shape}")
        elif self.supervised:
            raise ValueError(f"rule '{self.name}' is supervised: fit(X, y) needs the labels y")
        self._fit(X, y, **fit_params)
        return self

    def encode(self, X: Any, unit_mask: Any = None) -> np.ndarray:
        """Codes of ``X``: shape (n_samples, n_units); silenced units (``unit_mask`` False) are 0."""
        self._check_fitted()
        X = self._check_X(X)
        mask = self._check_mask(unit_mask)
        return self._encode(X, mask)

    def decode(self, codes: Any) -> np.ndarray:
        """Reconstruct stimuli from codes (generative rules only)."""
        if not self.generative:
            raise AttributeError(f"rule '{self.name}' is not generative: it has no decode")
        self._check_fitted()
        codes = np.asarray(codes, dtype=np.float64)
        if codes.ndim != 2 or codes.shape[1] != self.n_units:
            raise ValueError(f"codes must have shape (n_samples, {self.n_units}), got {codes.shape}")
        if not np.isfinite(codes).all():
            raise ValueError("codes contain NaN or infinite values")
        return self._decode(codes)

    def receptive_fields(self) -> np.ndarray | None:
        """The units' receptive fields (feed-forward weights or dictionary atoms) as
        ``(n_units, n_features)``, for figures; None for rules without them (the default)."""
        return None

    @property
    def generative(self) -> bool:
        return type(self)._decode is not CodingRule._decode

    @property
    def online(self) -> bool:
        return callable(getattr(self, "partial_fit", None))

    def _fit(self, X: np.ndarray, y: np.ndarray | None, **fit_params: Any) -> None:
        raise NotImplementedError

    def _encode(self, X: np.ndarray, mask: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _decode(self, codes: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    # -- checks -------------------------------------------------------------------------
    def _check_X(self, X: Any, reset: bool = False) -> np.ndarray:
        X = np.asarray(X)
        if X.dtype == object or not np.issubdtype(X.dtype, np.number):
            raise ValueError(f"X must be a numeric array, got dtype {X.dtype}")
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}")
        if X.shape[0] == 0:
            raise ValueError("X has no samples")
        if not np.isfinite(X).all():
            raise ValueError("X contains NaN or infinite values")
        if reset:
            self.n_features_in_ = X.shape[1]
        elif X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but rule '{self.name}' was fitted "
                             f"with {self.n_features_in_}")
        return X

    def _check_mask(self, unit_mask: Any) -> np.ndarray:
        n = self.n_units
        if unit_mask is None:
            return np.ones(n, dtype=bool)
        mask = np.asarray(unit_mask)
        if mask.shape != (n,):
            raise ValueError(f"unit_mask must have shape ({n},), one entry per unit, got {mask.shape}")
        if mask.dtype != bool:
            if not np.isin(mask, (0, 1)).all():
                raise ValueError("unit_mask must be boolean (True = unit alive, False = silenced)")
            mask = mask.astype(bool)
        return mask

    def _check_fitted(self) -> None:
        if not hasattr(self, "n_features_in_"):
            raise NotFittedError(f"rule '{self.name}' is not fitted yet: call fit(X) first")

    # -- learned state ------------------------------------------------------------------
    def get_state(self) -> dict[str, np.ndarray]:
        """Learned arrays: every public attribute ending in ``_`` (dicts flattened with '/')."""
        out: dict[str, np.ndarray] = {}
        for k, v in vars(self).items():
            if not k.endswith("_") or k.startswith("_") or v is None:
                continue
            if isinstance(v, dict):
                for kk, vv in v.items():
                    out[f"{k}/{kk}"] = np.asarray(vv)
            else:
                out[k] = np.asarray(v)
        return out

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore what :meth:`get_state` returned."""
        nested: dict[str, dict[str, np.ndarray]] = {}
        for k, v in state.items():
            if "/" in k:
                head, tail = k.split("/", 1)
                nested.setdefault(head, {})[tail] = v
            else:
                setattr(self, k, v.item() if v.ndim == 0 else v)
        for k, d in nested.items():
            setattr(self, k, d)

    def __repr__(self) -> str:
        changed = {k: v for k, v in self.get_params().items() if v != self.params[k].default}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in changed.items())})"


def _unexpected(cls: type, name: str) -> TypeError:
    close = difflib.get_close_matches(name, list(cls.params), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return TypeError(f"rule '{cls.name}' has no parameter '{name}'{hint} "
                     f"(parameters: {', '.join(cls.params)})")


def _make_init(cls: type):
    params = cls.params

    def __init__(self, **kwargs: Any) -> None:
        for k in kwargs:
            if k not in params:
                raise _unexpected(cls, k)
        for k, p in params.items():
            setattr(self, k, kwargs.get(k, p.default))

    __init__.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        + [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=p.default)
           for k, p in params.items()])
    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    __init__.__doc__ = "Store the hyper-parameters (checked in fit):\n\n" + "\n".join(
        f"{k} : {p.describe()}, default {p.default!r}\n    {p.doc}" for k, p in params.items())
    return __init__


# -- registry -------------------------------------------------------------------------------
_REGISTRY: dict[str, type[CodingRule]] = {}
_PLUGIN_ERRORS: dict[str, str] = {}
_DISCOVERED = False


def register(cls: type[CodingRule]) -> type[CodingRule]:
    """Register a rule class under its ``name``. Registering a name twice is an error."""
    if not (isinstance(cls, type) and issubclass(cls, CodingRule)):
        raise TypeError(f"{cls!r} is not a CodingRule subclass")
    if not cls.name:
        raise ValueError(f"{cls.__qualname__} has no name")
    existing = _REGISTRY.get(cls.name)
    if existing is not None and existing is not cls:
        raise ValueError(
            f"rule name '{cls.name}' is already registered by "
            f"{existing.__module__}.{existing.__qualname__}; {cls.__module__}.{cls.__qualname__} "
            f"cannot take it too")
    _REGISTRY[cls.name] = cls
    return cls


def _entry_points() -> list[metadata.EntryPoint]:
    """The entry points of the ``neurocode.rules`` group, in a stable order."""
    return sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.value)


def _discover() -> None:
    global _DISCOVERED
    if _DISCOVERED:
        return
    _DISCOVERED = True
    for ep in _entry_points():
        where = f"{ep.value}" + (f" (from {ep.dist.name})" if getattr(ep, "dist", None) else "")
        try:
            obj = ep.load()
            if not (isinstance(obj, type) and issubclass(obj, CodingRule)):
                raise TypeError(f"{ep.value} is not a CodingRule subclass")
            if obj.name != ep.name:
                raise ValueError(f"entry point '{ep.name}' names a rule called '{obj.name}'")
            register(obj)
        except Exception as exc:  # a broken plugin must not break the others
            _PLUGIN_ERRORS[ep.name] = f"{where}: {type(exc).__name__}: {exc}"


def available_rules() -> dict[str, type[CodingRule]]:
    """Every registered rule, built-in and plugin, by name."""
    _discover()
    return dict(sorted(_REGISTRY.items()))


def plugin_errors() -> dict[str, str]:
    """Entry points that failed to load: name -> what went wrong."""
    _discover()
    return dict(_PLUGIN_ERRORS)


def get_rule_class(name: str) -> type[CodingRule]:
    _discover()
    if name in _REGISTRY:
        return _REGISTRY[name]
    if name in _PLUGIN_ERRORS:
        raise UnknownRuleError(f"rule '{name}' failed to load: {_PLUGIN_ERRORS[name]}")
    close = difflib.get_close_matches(name, list(_REGISTRY), n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise UnknownRuleError(f"unknown rule '{name}'{hint} (available: {', '.join(sorted(_REGISTRY))}; "
                           f"`neurocode list` shows them)")


def get_rule(name: str, **params: Any) -> CodingRule:
    """Build a rule by name: ``get_rule("oja", n_units=16, random_state=0)``."""
    return get_rule_class(name)(**params)


# -- save / load ----------------------------------------------------------------------------
def save_rule(rule: CodingRule, target: Any, group: str = "rule") -> None:
    """Write a fitted rule into an HDF5 file (path) or open h5py group, under ``group``.

    Stored: attribute ``name``, attribute ``params`` (JSON), attribute ``code_kind``, and the
    learned arrays under ``state/``. Nothing is pickled.
    """
    import h5py

    rule._check_fitted()
    if isinstance(target, (str, Path)):
        with h5py.File(target, "a") as f:
            save_rule(rule, f, group)
        return
    if group in target:
        del target[group]
    g = target.create_group(group)
    g.attrs["name"] = rule.name
    g.attrs["params"] = json.dumps(rule.get_params(), sort_keys=True)
    g.attrs["code_kind"] = rule.code_kind
    s = g.create_group("state")
    for k, v in rule.get_state().items():
        kw: dict[str, Any] = {}
        if v.ndim and v.size:  # checksummed, so damaged bytes raise on read
            kw = {"fletcher32": True, "chunks": True}
            if v.size > 1024:
                kw.update(compression="gzip", compression_opts=4)
        s.create_dataset(k, data=v, **kw)


def load_rule(source: Any, group: str = "rule") -> CodingRule:
    """Rebuild a fitted rule saved by :func:`save_rule` through the registry."""
    import h5py

    if isinstance(source, (str, Path)):
        try:
            with h5py.File(source, "r") as f:
                return load_rule(f, group)
        except OSError as exc:
            raise ValueError(f"{source}: not a readable HDF5 file ({exc})") from None
    if group not in source:
        raise ValueError(f"no saved rule (group '{group}') in {getattr(source, 'filename', source)}")
    g = source[group]
    rule = get_rule(str(g.attrs["name"]), **json.loads(g.attrs["params"]))
    state: dict[str, np.ndarray] = {}
    g["state"].visititems(lambda k, obj: state.__setitem__(k, obj[()]) if hasattr(obj, "shape") else None)
    rule.set_state(state)
    return rule

