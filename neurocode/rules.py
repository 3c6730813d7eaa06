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
* what a rule offers is declared once, in its :class:`Tags` (``tags = replace(CodingRule.tags,
  code_kind="binary", ...)``): the kind of code, whether it uses labels, whether it has its
  own classifier, what input it takes, its update modes, what silencing a unit does, the fit
  options it takes, the parameter that sets its sparsity and those that name its runs in
  legends. The measures, the runner and the figures read the tags; nothing guesses.
  ``code_kind`` (``"rate"``, ``"binary"`` or ``"spike-count"``) and ``supervised`` stay
  readable as class attributes, derived from the tags.

Rules are registered by name. Built-in rules and third-party ones arrive the same way:
through the entry-point group ``neurocode.rules`` (see ``examples/plugin``); the built-ins
load first. Names are unique across packages: a plugin that claims a name registered already
(a built-in's or another plugin's) is refused with a message naming both packages, and the
rule registered first keeps the name. A plugin that fails to import, whatever its import does
(an exception, ``SystemExit``), is reported by name (:func:`plugin_errors`), what it
registered is undone, and the others load. :func:`rule_origin` says which package registered
a rule; every run file records it.

A fitted rule saves to HDF5 as its name, its parameters and its learned arrays
(:func:`save_rule`, :func:`load_rule`), never by pickling.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Self

import numpy as np

from neurocode.params import Param, ParamError

__all__ = [
    "CODE_KINDS",
    "ENTRY_POINT_GROUP",
    "FIT_OPTIONS",
    "INPUT_DOMAINS",
    "SILENCING_KINDS",
    "UPDATE_MODES",
    "CodingRule",
    "NotFittedError",
    "ParamError",
    "Tags",
    "TrainingFailed",
    "UnknownRuleError",
    "available_rules",
    "get_rule",
    "get_rule_class",
    "load_rule",
    "plugin_errors",
    "register",
    "rule_origin",
    "save_rule",
    "silencing_kind",
    "tags_of",
]

CODE_KINDS = ("rate", "binary", "spike-count")
#: what ``fit``/``encode`` accept: any finite numbers, numbers >= 0, or only 0 and 1
INPUT_DOMAINS = ("real", "nonnegative", "binary")
#: what silencing a unit (``unit_mask`` False) does to the code, besides zeroing its column:
#: ``dropped``: nothing else changes (a feed-forward unit leaves the code);
#: ``recompetes``: the alive units re-compete for the same number of winners (k-WTA: the
#: code keeps its activity, ``min(k, alive)`` units);
#: ``resettles``: the unit leaves the network's dynamics (it neither fires nor inhibits nor
#: excites) and the others settle without it: both their values and the activity may change
SILENCING_KINDS = ("dropped", "recompetes", "resettles")
#: a ``silencing_param``'s values that are not kinds themselves
_SILENCING_ALIASES = {"replaced": "recompetes"}
UPDATE_MODES = ("sync", "async")
#: keyword options the runner offers ``fit`` (only to rules that declare them)
FIT_OPTIONS = ("validation_data", "device", "progress", "callback")
ENTRY_POINT_GROUP = "neurocode.rules"


@dataclass(frozen=True)
class Tags:
    """What a rule offers, declared once on its class (``tags = replace(CodingRule.tags,
    ...)``) and checked when the class is created (a wrong value is a ``TypeError`` naming
    the rule and the field, so a plugin author sees it at import).

    The defaults are what a plain rule is: a rate code fitted without labels, read by a
    linear probe, on any real input, with one update mode, nothing said about silencing,
    no fit options, no sparsity parameter, no legend parameters.

    code_kind
        ``"rate"``, ``"binary"`` (0/1 codes) or ``"spike-count"`` (non-negative integers).
    uses_labels
        ``fit`` uses the labels ``y`` (the runner and the conformance suite pass them).
    own_readout
        The rule has its own classifier, ``decision_function(X, unit_mask=None)`` (class
        scores, ``(n, C)``) and ``predict``, which the battery uses instead of a linear
        probe. The class must define ``decision_function``. An instance fitted in a way that
        gives no classifier says so by :meth:`CodingRule.has_own_readout`.
    input_domain
        What ``fit``/``encode`` take: ``"real"``, ``"nonnegative"`` or ``"binary"``.
    update_modes
        ``("sync", "async")`` for a recurrent rule that runs either way, chosen by its
        hyper-parameter ``update`` (which must allow each mode); ``()`` for none.
    silencing
        What a silenced unit does to the code (:data:`SILENCING_KINDS`: ``"dropped"``,
        ``"recompetes"``, ``"resettles"``); None: not declared (only "a silenced unit's
        entry is 0" is promised).
    silencing_param
        The hyper-parameter that chooses the silencing, if the rule offers a choice; its
        values are silencing kinds (or ``"replaced"`` for ``"recompetes"``), and
        ``silencing`` is the kind of its default. :func:`silencing_kind` reads an instance's.
    fit_options
        The keyword options its ``_fit`` accepts among :data:`FIT_OPTIONS`:
        ``validation_data`` ((X_test, y_test), for learning curves), ``device`` (e.g.
        "cuda"), ``progress`` (show a progress bar), ``callback`` (``callback(step,
        row)`` at each evaluation). The runner passes exactly these.
    sparsity_param
        The hyper-parameter that sets the code's sparsity (e.g. ``"l1"``, ``"k"``,
        ``"lam"``), or None. The runner vectorises over it (rules with ``fit_many``).
    legend_params
        The hyper-parameters that tell the rule's runs apart in figure legends, in order.
    """

    code_kind: str = "rate"
    uses_labels: bool = False
    own_readout: bool = False
    input_domain: str = "real"
    update_modes: tuple[str, ...] = ()
    silencing: str | None = None
    silencing_param: str | None = None
    fit_options: tuple[str, ...] = ()
    sparsity_param: str | None = None
    legend_params: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for f in ("update_modes", "fit_options", "legend_params"):
            v = getattr(self, f)
            if isinstance(v, list):
                object.__setattr__(self, f, tuple(v))

    def problems(self) -> list[tuple[str, str]]:
        """``(field, what is wrong)`` for each value outside its vocabulary or of the wrong
        type (checks that need the rule class are :func:`_tag_problems`')."""
        out: list[tuple[str, str]] = []

        def one_of(name: str, allowed: tuple, nullable: bool = False) -> None:
            v = getattr(self, name)
            if (v is None and nullable) or (isinstance(v, str) and v in allowed):
                return
            out.append((name, f"{v!r} is not one of {', '.join(map(repr, allowed))}"
                              + (" or None" if nullable else "")))

        def tuple_of(name: str, allowed: tuple | None) -> None:
            v = getattr(self, name)
            if not isinstance(v, tuple) or not all(isinstance(x, str) for x in v):
                out.append((name, f"must be a tuple of strings, got {v!r}"))
                return
            if len(set(v)) != len(v):
                out.append((name, f"{v!r} names an entry twice"))
            bad = [x for x in v if allowed is not None and x not in allowed]
            if bad:
                out.append((name, f"{', '.join(map(repr, bad))} not among "
                                  f"{', '.join(map(repr, allowed or ()))}"))

        one_of("code_kind", CODE_KINDS)
        for name in ("uses_labels", "own_readout"):
            if not isinstance(getattr(self, name), bool):
                out.append((name, f"must be True or False, got {getattr(self, name)!r}"))
        one_of("input_domain", INPUT_DOMAINS)
        tuple_of("update_modes", UPDATE_MODES)
        modes = _strings(self.update_modes)
        if modes and set(modes) != set(UPDATE_MODES):
            out.append(("update_modes", f"{self.update_modes!r}: a rule runs both "
                                        f"{UPDATE_MODES!r} or declares none, ()"))
        one_of("silencing", SILENCING_KINDS, nullable=True)
        for name in ("silencing_param", "sparsity_param"):
            v = getattr(self, name)
            if v is not None and not isinstance(v, str):
                out.append((name, f"must be a parameter name or None, got {v!r}"))
        if self.silencing_param is not None and self.silencing is None:
            out.append(("silencing", "a rule with a silencing_param declares the silencing "
                                     "of its default"))
        tuple_of("fit_options", FIT_OPTIONS)
        tuple_of("legend_params", None)
        return out


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

    Subclasses set ``name``, ``description``, ``tags`` and ``params`` (which either
    declares ``n_units`` or the class defines an ``n_units`` property), and implement
    ``_fit(X, y)`` and ``_encode(X, mask)`` (``mask``: boolean ``(n_units,)``, ``True`` =
    alive), and ``_decode(codes)`` if generative. The constructor is generated from
    ``params``: keyword-only arguments with the declared defaults.

    A class that declares no ``tags`` (written before them) gets what the framework read from
    it before tags existed: its ``code_kind`` and ``supervised`` attributes, ``own_readout``
    if it defines ``decision_function``, the :data:`FIT_OPTIONS` its ``_fit`` names, both
    update modes if it has a parameter ``update`` allowing them, and ``l1`` as its sparsity
    parameter if it has ``fit_many`` and an ``l1``.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    #: what the rule offers (see :class:`Tags`); checked when the class is created
    tags: ClassVar[Tags] = Tags()
    #: ``tags.code_kind``, readable as before (setting it on a class without ``tags`` works)
    code_kind: ClassVar[str] = "rate"
    #: hyper-parameters, declared once; ``random_state`` is added to every rule
    params: ClassVar[dict[str, Param]] = {}
    #: ``tags.uses_labels``, readable as before (setting it on a class without ``tags`` works)
    supervised: ClassVar[bool] = False
    #: whether this class or one of its bases below CodingRule declared ``tags`` itself
    _tags_declared: ClassVar[bool] = False
    #: small, fast hyper-parameters for the conformance suite (:func:`neurocode.testing.check_rule`)
    test_params: ClassVar[dict[str, Any]] = {}

    _COMMON: ClassVar[dict[str, Param]] = {
        "random_state": Param(int, None, low=0, nullable=True,
                              doc="seed of every random draw of the rule (None: fresh entropy)"),
    }

    #: every rule's seed (declared in ``_COMMON``; set by the generated constructor)
    random_state: int | None

    if TYPE_CHECKING:
        # The hyper-parameters are instance attributes that the generated constructor sets
        # from ``params``, which a type checker cannot see; to it, those it is not told of
        # (``rule.k``, ``rule.n_units``) are Any. Only for the checker: at runtime there is no
        # __getattr__, so an unknown attribute raises AttributeError exactly as before.
        def __getattr__(self, name: str) -> Any: ...

        # the constructor is generated from ``params`` (:func:`_make_init`): keyword-only
        def __init__(self, **params: Any) -> None: ...

        # each rule's ``_fit`` takes ``X``, ``y`` and the fit options it declares in its tags
        # (a subset of FIT_OPTIONS, passed by keyword), so its signature is the rule's own
        _fit: Callable[..., None]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared: dict[str, Param] = {}
        for base in reversed(cls.__mro__[1:]):
            declared.update(base.__dict__.get("params", {}))
        declared.update(cls.__dict__.get("params", {}))
        declared.update(CodingRule._COMMON)
        cls.params = declared
        _resolve_tags(cls)
        if "__init__" not in cls.__dict__:
            cls.__init__ = _make_init(cls)  # type: ignore[method-assign]

    # -- parameters ---------------------------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        """The hyper-parameters as given to the constructor."""
        return {k: getattr(self, k) for k in self.params}

    def set_params(self, **params: Any) -> Self:
        """Set hyper-parameters by name and return the rule. An unknown name is a TypeError at once;
        a bad value is a :class:`~neurocode.params.ParamError` at the next :meth:`fit`, which checks
        them all."""
        for k, v in params.items():
            if k not in self.params:
                raise _unexpected(type(self), k)
            setattr(self, k, v)
        return self

    def clone(self) -> Self:
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
    def fit(self, X: Any, y: Any = None, **fit_params: Any) -> Self:
        """Learn from ``X`` (n_samples, n_features) and, for supervised rules, labels ``y``."""
        self._validate_params()
        X = self._check_X(X, reset=True)
        if y is not None:
            y = np.asarray(y)
            if y.shape != (X.shape[0],):
                raise ValueError(f"y must have shape ({X.shape[0]},) to match X, got {y.shape}")
        elif type(self).tags.uses_labels:
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
        """Whether the rule reconstructs stimuli from codes: its class implements ``_decode``, so
        :meth:`decode` works."""
        return type(self)._decode is not CodingRule._decode

    @property
    def online(self) -> bool:
        """Whether the rule can learn online, one batch after another: it has a callable
        ``partial_fit``."""
        return callable(getattr(self, "partial_fit", None))

    def has_own_readout(self) -> bool:
        """Whether the battery reads this (fitted) rule by its own classifier: the class
        declares ``tags.own_readout``; a rule whose classifier depends on how it was fitted
        (Diehl & Cook's, only with labels) overrides this to say when it has none."""
        return type(self).tags.own_readout

    def silencing_kind(self) -> str | None:
        """What silencing a unit does to this rule's code (:data:`SILENCING_KINDS`), with its
        hyper-parameters (``tags.silencing_param``) as they are; None: not declared."""
        return silencing_kind(self)

    if not TYPE_CHECKING:
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


def tags_of(rule: Any) -> Tags | None:
    """The :class:`Tags` of a rule (instance or class); None for an object that is no
    :class:`CodingRule` (a duck-typed code, which then offers nothing beyond ``encode``)."""
    cls = rule if isinstance(rule, type) else type(rule)
    tags = getattr(cls, "tags", None) if issubclass(cls, CodingRule) else None
    return tags if isinstance(tags, Tags) else None


def silencing_kind(rule: Any) -> str | None:
    """What silencing a unit does to ``rule``'s code: ``tags.silencing``, or, for a rule with
    a ``tags.silencing_param``, the kind its current value names. None: not declared."""
    tags = tags_of(rule)
    if tags is None:
        return None
    if tags.silencing_param is None or isinstance(rule, type):
        return tags.silencing
    value = getattr(rule, tags.silencing_param, None)
    return _SILENCING_ALIASES.get(value, value) if value is not None else tags.silencing


def _strings(v: Any) -> tuple[str, ...]:
    """The strings of a tuple-valued tag (nothing if it is not a tuple: problems() says so)."""
    return tuple(x for x in v if isinstance(x, str)) if isinstance(v, tuple) else ()


def _fit_accepts(cls: type[CodingRule]) -> tuple[set[str], bool]:
    """The keyword names ``cls._fit`` takes, and whether it takes any (``**kwargs``); the
    base class's placeholder takes none."""
    if cls._fit is CodingRule._fit:
        return set(), False
    try:
        sig = inspect.signature(cls._fit)
    except (TypeError, ValueError):
        return set(), True
    names = {k for k, p in sig.parameters.items()
             if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return names, any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values())


def _legacy_tags(cls: type[CodingRule], base: Tags) -> Tags:
    """Tags for a class that declares none: what the framework read from it before tags."""
    accepted, _ = _fit_accepts(cls)
    update = cls.params.get("update")
    modes = UPDATE_MODES if set(UPDATE_MODES) <= set(getattr(update, "choices", None) or ()) else ()
    sparsity = ("l1" if "l1" in cls.params and callable(getattr(cls, "fit_many", None))
                else base.sparsity_param)
    return replace(base,
                   own_readout=inspect.getattr_static(cls, "decision_function", None) is not None,
                   fit_options=tuple(o for o in FIT_OPTIONS if o in accepted),
                   update_modes=modes, sparsity_param=sparsity)


def _resolve_tags(cls: type[CodingRule]) -> None:
    """Set ``cls.tags`` (declared, inherited or derived), its aliases ``code_kind`` and
    ``supervised``, and refuse tags that are wrong or that the class does not honour."""
    own = cls.__dict__
    owner = f"rule '{own.get('name') or cls.__qualname__}'"
    if "tags" in own:
        tags = own["tags"]
        if not isinstance(tags, Tags):
            raise TypeError(f"{owner}: tags must be a neurocode.rules.Tags, got {tags!r}")
        for alias, field in (("code_kind", "code_kind"), ("supervised", "uses_labels")):
            if alias in own and own[alias] != getattr(tags, field):
                raise TypeError(f"{owner}: {alias} = {own[alias]!r} contradicts tags.{field} = "
                                f"{getattr(tags, field)!r}; declare it once, in tags")
        cls._tags_declared = True
    else:
        tags = cls.tags  # inherited
        if "code_kind" in own:
            if own["code_kind"] not in CODE_KINDS:
                raise TypeError(f"{cls.__qualname__}.code_kind must be one of {CODE_KINDS}")
            tags = replace(tags, code_kind=own["code_kind"])
        if "supervised" in own:
            tags = replace(tags, uses_labels=own["supervised"])
        if not cls._tags_declared:
            tags = _legacy_tags(cls, tags)
    wrong = tags.problems() + _tag_problems(cls, tags)
    if wrong:
        raise TypeError(f"{owner} declares wrong tags: "
                        + "; ".join(f"tags.{f}: {why}" for f, why in wrong))
    cls.tags = tags
    cls.code_kind = tags.code_kind
    cls.supervised = tags.uses_labels


def _tag_problems(cls: type[CodingRule], tags: Tags) -> list[tuple[str, str]]:
    """What the class does not honour of its tags: parameters it does not declare, a
    classifier it does not define, fit options its ``_fit`` does not take."""
    out: list[tuple[str, str]] = []
    params = cls.params
    declared = f"(its parameters: {', '.join(params)})"
    for name in ("sparsity_param", "silencing_param"):
        v = getattr(tags, name)
        if isinstance(v, str) and v not in params:
            out.append((name, f"{v!r} is not a parameter of the rule {declared}"))
    missing = [p for p in _strings(tags.legend_params) if p not in params]
    if missing:
        out.append(("legend_params", f"{', '.join(map(repr, missing))} not parameters of the "
                                     f"rule {declared}"))
    modes = _strings(tags.update_modes)
    if modes:
        update = params.get("update")
        choices = set(getattr(update, "choices", None) or ())
        if update is None or not set(modes) <= choices:
            out.append(("update_modes", f"{tags.update_modes!r} needs a parameter 'update' "
                                        f"allowing each mode (it is chosen by update=...); "
                                        f"the rule has "
                                        + (f"update with choices {sorted(choices)}" if update
                                           else "none")))
    p = params.get(tags.silencing_param) if isinstance(tags.silencing_param, str) else None
    if p is not None:
        kinds = [_SILENCING_ALIASES.get(c, c) for c in (p.choices or ())]
        if not kinds or not set(kinds) <= set(SILENCING_KINDS):
            out.append(("silencing_param", f"{tags.silencing_param!r} must be a parameter whose "
                                           f"choices are silencing kinds {SILENCING_KINDS} (or "
                                           f"'replaced'), got choices {p.choices!r}"))
        elif _SILENCING_ALIASES.get(p.default, p.default) != tags.silencing:
            out.append(("silencing", f"{tags.silencing!r} is not the kind of "
                                     f"{tags.silencing_param}'s default {p.default!r}"))
    if tags.own_readout and inspect.getattr_static(cls, "decision_function", None) is None:
        out.append(("own_readout", "True, but the class defines no decision_function(X, "
                                   "unit_mask=None) (class scores for the battery)"))
    accepted, anything = _fit_accepts(cls)
    extra = [o for o in _strings(tags.fit_options) if o not in accepted]
    if extra and not anything:
        out.append(("fit_options", f"{', '.join(map(repr, extra))} declared, but "
                                   f"{cls.__qualname__}._fit does not accept "
                                   + ("it" if len(extra) == 1 else "them")))
    return out


def _unexpected(cls: type[CodingRule], name: str) -> TypeError:
    close = difflib.get_close_matches(name, list(cls.params), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return TypeError(f"rule '{cls.name}' has no parameter '{name}'{hint} "
                     f"(parameters: {', '.join(cls.params)})")


def _make_init(cls: type[CodingRule]) -> Callable[..., None]:
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
#: name -> (distribution, version) of the package that registered the rule
_ORIGINS: dict[str, tuple[str, str]] = {}
_DISCOVERED = False
#: the distribution whose entry point is being loaded (its rules' origin), or None
_LOADING: tuple[str, str] | None = None
#: the distribution of the built-in rules
BUILTIN_DISTRIBUTION = "neurocode"


@functools.lru_cache(maxsize=1)
def _packages_distributions() -> dict[str, list[str]]:
    try:
        return dict(metadata.packages_distributions())
    except Exception:  # noqa: BLE001 - broken metadata of some other package
        return {}


def _dist_of(cls: type) -> tuple[str, str]:
    """``(distribution, version)`` of the installed package that holds ``cls``'s module;
    ``("", "")`` for a class defined outside any installed distribution (a test, a notebook)."""
    top = cls.__module__.split(".", 1)[0]
    names = _packages_distributions().get(top, [])
    for name in names:
        try:
            return name, metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return "", ""


def _owner(name: str, cls: type) -> str:
    """``neurocode 0.1.0 (neurocode.models.kwta:KWTA)``: who registered ``name``."""
    dist, version = _ORIGINS.get(name, ("", ""))
    where = f"{cls.__module__}:{cls.__qualname__}"
    if not dist:
        return f"{where} (no installed package)"
    kind = "the built-in rule of " if dist == BUILTIN_DISTRIBUTION else "package "
    return f"{kind}{dist} {version} ({where})"


def register(cls: type[CodingRule]) -> type[CodingRule]:
    """Register a rule class under its ``name``.

    Rule names are unique across packages: a name registered already (by a built-in rule or
    by another package) is refused with a ``ValueError`` naming both, and the rule registered
    first keeps it. Registering the same class again does nothing. The package that
    registered each rule is kept (:func:`rule_origin`), and every run file records it.
    """
    if not (isinstance(cls, type) and issubclass(cls, CodingRule)):
        raise TypeError(f"{cls!r} is not a CodingRule subclass")
    if not cls.name:
        raise ValueError(f"{cls.__qualname__} has no name")
    origin = _LOADING or _dist_of(cls)
    existing = _REGISTRY.get(cls.name)
    if (existing is not None and existing is not cls and origin[0] == BUILTIN_DISTRIBUTION
            and _ORIGINS.get(cls.name, ("", ""))[0] != BUILTIN_DISTRIBUTION):
        # a plugin imported before discovery took a built-in's name: the built-in keeps it
        dist, version = _ORIGINS.get(cls.name, ("", ""))
        _PLUGIN_ERRORS[f"{cls.name} ({dist or existing.__module__})"] = (
            f"{existing.__module__}:{existing.__qualname__}"
            + (f" (from {dist} {version})" if dist else "")
            + f": refused: rule name '{cls.name}' belongs to the built-in rule of "
              f"{BUILTIN_DISTRIBUTION} {origin[1]} ({cls.__module__}:{cls.__qualname__}); "
              f"rule names are unique across packages: rename the plugin's rule")
        existing = None
        _ORIGINS.pop(cls.name, None)
    if existing is not None and existing is not cls:
        dist, version = origin
        claimant = (f"package {dist} {version} ({cls.__module__}:{cls.__qualname__})" if dist
                    else f"{cls.__module__}:{cls.__qualname__}")
        raise ValueError(
            f"rule name '{cls.name}' is already registered by {_owner(cls.name, existing)}; "
            f"{claimant} cannot take it too (rule names are unique across packages: rename "
            f"the rule)")
    if existing is None:
        _ORIGINS[cls.name] = origin
    _REGISTRY[cls.name] = cls
    return cls


def _entry_points() -> list[metadata.EntryPoint]:
    """The entry points of the ``neurocode.rules`` group, in a stable order: the built-in
    rules (distribution ``neurocode``) first, then each plugin package's, by package and
    name (so a plugin can never take a built-in's name by sorting before it)."""
    def key(ep: metadata.EntryPoint) -> tuple[bool, str, str, str]:
        dist = _ep_dist(ep)[0]
        return (dist != BUILTIN_DISTRIBUTION, dist, ep.name, ep.value)

    return sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=key)


def _ep_dist(ep: metadata.EntryPoint) -> tuple[str, str]:
    """``(distribution, version)`` an entry point comes from (``("", "")`` when unknown)."""
    dist = getattr(ep, "dist", None)
    if dist is None:
        return "", ""
    try:
        return str(dist.name or ""), str(dist.version or "")
    except Exception:  # noqa: BLE001 - a distribution with broken metadata
        return "", ""


def _load_plugin(ep: metadata.EntryPoint) -> None:
    """Load one entry point and register its rule. Whatever the plugin's import does
    (an exception, ``SystemExit``) is recorded as its error and undone: the rules it
    registered before failing are removed; only ``KeyboardInterrupt`` propagates."""
    global _LOADING
    dist, version = _ep_dist(ep)
    where = ep.value + (f" (from {dist} {version})" if dist else "")
    before = dict(_REGISTRY)
    _LOADING = (dist, version) if dist else None
    try:
        obj = ep.load()
        if not (isinstance(obj, type) and issubclass(obj, CodingRule)):
            raise TypeError(f"{ep.value} is not a CodingRule subclass")
        if obj.name != ep.name:
            raise ValueError(f"entry point '{ep.name}' names a rule called '{obj.name}'")
        register(obj)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - a broken plugin must not break the command
        for name in set(_REGISTRY) - set(before):
            _REGISTRY.pop(name, None)
            _ORIGINS.pop(name, None)
        _REGISTRY.update(before)
        key = ep.name if ep.name not in _REGISTRY else f"{ep.name} ({dist or ep.value})"
        what = (f"exited at import (SystemExit: {exc.code!r})" if isinstance(exc, SystemExit)
                else f"{type(exc).__name__}: {exc}")
        _PLUGIN_ERRORS[key] = f"{where}: {what}"
    finally:
        _LOADING = None


def _discover() -> None:
    global _DISCOVERED
    if _DISCOVERED:
        return
    _DISCOVERED = True
    try:
        eps = _entry_points()
    except Exception as exc:  # noqa: BLE001 - broken metadata of some installed package
        _PLUGIN_ERRORS["(entry points)"] = f"cannot read the installed entry points: {exc}"
        return
    for ep in eps:
        _load_plugin(ep)


def available_rules() -> dict[str, type[CodingRule]]:
    """Every registered rule, built-in and plugin, by name."""
    _discover()
    return dict(sorted(_REGISTRY.items()))


def plugin_errors() -> dict[str, str]:
    """Entry points that failed to load or were refused: name -> what went wrong.

    A plugin refused for claiming a name registered already is listed as ``"NAME
    (PACKAGE)"``, since ``NAME`` itself is available (the rule registered first).
    """
    _discover()
    return dict(_PLUGIN_ERRORS)


def rule_origin(rule: str | type[CodingRule] | CodingRule) -> dict[str, str]:
    """The package that registered a rule (by name, class or instance): ``{"package": ...,
    "version": ..., "class": "module:Class"}``; ``package`` is ``"neurocode"`` for the
    built-in rules and ``""`` for a rule registered from no installed package.

    Examples
    --------
    >>> rule_origin("kwta")["package"]
    'neurocode'
    """
    if isinstance(rule, str):
        cls = get_rule_class(rule)
    else:
        cls = rule if isinstance(rule, type) else type(rule)
        _discover()
    dist, version = (_ORIGINS.get(cls.name, ("", "")) if _REGISTRY.get(cls.name) is cls
                     else _dist_of(cls))
    return {"package": dist, "version": version,
            "class": f"{cls.__module__}:{cls.__qualname__}"}


def get_rule_class(name: str) -> type[CodingRule]:
    """The rule class registered under ``name``, built-in or plugin; :class:`UnknownRuleError` when
    there is none, suggesting the closest names, or saying why a plugin of that name failed to
    load."""
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

