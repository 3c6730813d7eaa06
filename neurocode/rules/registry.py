"""The rule registry and plugin discovery: rules by name, from whichever package.

Built-in rules and third-party ones arrive the same way, through the entry-point group
:data:`ENTRY_POINT_GROUP` (``neurocode.rules``); the built-ins load first. The registry's
state (``_REGISTRY``, ``_PLUGIN_ERRORS``, ``_ORIGINS``, ``_DISCOVERED``, ``_LOADING``) lives
here and only here: a test that swaps it patches this module (``monkeypatch.setattr(
neurocode.rules.registry, "_REGISTRY", {})``); :mod:`neurocode.rules` shows it read-only.
"""

from __future__ import annotations

import difflib
import functools
from importlib import metadata
from typing import Any

from neurocode.rules.base import CodingRule
from neurocode.rules.errors import UnknownRuleError

__all__ = ["BUILTIN_DISTRIBUTION", "ENTRY_POINT_GROUP", "available_rules", "get_rule",
           "get_rule_class", "plugin_errors", "register", "rule_origin"]

#: the entry-point group that announces rules (the built-ins' and every plugin's)
ENTRY_POINT_GROUP = "neurocode.rules"
#: rule name -> class
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
    raise UnknownRuleError(f"unknown rule '{name}'{hint} (available: "
                           f"{', '.join(sorted(_REGISTRY))}; `neurocode list` shows them)")


def get_rule(name: str, **params: Any) -> CodingRule:
    """Build a rule by name: ``get_rule("oja", n_units=16, random_state=0)``."""
    return get_rule_class(name)(**params)

