"""The base class of every coding rule, and what happens when a rule class is created.

:class:`CodingRule` holds the contract (see :mod:`neurocode.rules`): hyper-parameters
declared once in ``params``, ``fit``/``encode``/``decode`` and their checks, the learned
state. Creating a subclass merges its ``params``, generates its keyword-only constructor
(:func:`_make_init`) and resolves and checks its :class:`~neurocode.rules.tags.Tags` against
the class (:func:`_resolve_tags`): a wrong tag is a ``TypeError`` at import.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar, Self

import numpy as np

from neurocode.params import Param
from neurocode.rules.errors import NotFittedError
from neurocode.rules.tags import (
    _SILENCING_ALIASES,
    CODE_KINDS,
    FIT_OPTIONS,
    SILENCING_KINDS,
    UPDATE_MODES,
    Tags,
    _strings,
)

__all__ = ["CodingRule", "silencing_kind", "tags_of"]


class CodingRule:
    """Base class of every coding rule. See :mod:`neurocode.rules` for the contract.

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
        """Codes of ``X``: shape (n_samples, n_units); silenced units (``unit_mask`` False) are
        0."""
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
            raise ValueError(f"codes must have shape (n_samples, {self.n_units}), "
                             f"got {codes.shape}")
        if not np.isfinite(codes).all():
            raise ValueError("codes contain NaN or infinite values")
        return self._decode(codes)

    def receptive_fields(self) -> np.ndarray | None:
        """The units' receptive fields (feed-forward weights or dictionary atoms) as
        ``(n_units, n_features)``, for figures; None for rules without them (the default)."""
        return None

    @classmethod
    def figures(cls, runs: Sequence[Any]) -> dict[str, Any]:
        """Figures of the rule's own, drawn from its stored runs of one experiment.

        ``neurocode figures`` (:func:`neurocode.figures.draw_all`) calls it once per
        experiment with that experiment's complete runs of this rule, and saves each figure
        as ``<experiment>_<stem>`` beside the built-in figures. The default draws none;
        a rule whose paper has a figure of its own overrides it (Diehl & Cook: accuracy
        against network size). It must only read the runs, never train.

        Parameters
        ----------
        runs : sequence of neurocode.results.RunResult
            The experiment's complete runs of this rule.

        Returns
        -------
        dict of str to matplotlib.figure.Figure
            ``{stem: figure}``; empty when the runs allow none.
        """
        return {}

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
            raise ValueError(f"unit_mask must have shape ({n},), one entry per unit, "
                             f"got {mask.shape}")
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
