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

The package holds one idea a module: the tags' vocabularies and record
(:mod:`neurocode.rules.tags`), the errors (:mod:`neurocode.rules.errors`), the base class and
what creating a rule class checks (:mod:`neurocode.rules.base`), the registry and plugin
discovery (:mod:`neurocode.rules.registry`), saving and loading (:mod:`neurocode.rules.persist`).
Every name is re-exported here, so ``from neurocode.rules import X`` works as it always did.
The registry's state lives in :mod:`neurocode.rules.registry` alone: ``neurocode.rules._REGISTRY``
and its kin read it live, and setting them here is refused (patch the registry module instead),
so a test can never swap a copy the registry does not read.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from neurocode.params import Param, ParamError  # noqa: F401 - Param: as the module had it
from neurocode.rules import registry as _registry
from neurocode.rules.base import (  # noqa: F401 - the private helpers, as the module had them
    CodingRule,
    _fit_accepts,
    _legacy_tags,
    _make_init,
    _resolve_tags,
    _tag_problems,
    _unexpected,
    silencing_kind,
    tags_of,
)
from neurocode.rules.errors import NotFittedError, TrainingFailed, UnknownRuleError
from neurocode.rules.persist import load_rule, save_rule
from neurocode.rules.registry import (  # noqa: F401 - BUILTIN_DISTRIBUTION, as the module had it
    BUILTIN_DISTRIBUTION,
    ENTRY_POINT_GROUP,
    available_rules,
    get_rule,
    get_rule_class,
    plugin_errors,
    register,
    rule_origin,
)
from neurocode.rules.tags import (  # noqa: F401 - the private helpers, as the module had them
    _SILENCING_ALIASES,
    CODE_KINDS,
    FIT_OPTIONS,
    INPUT_DOMAINS,
    SILENCING_KINDS,
    UPDATE_MODES,
    Tags,
    _strings,
)

__all__ = [  # in the order the contract reads (and the API reference shows it)
    # what a rule offers (tags)
    "CODE_KINDS",
    "INPUT_DOMAINS",
    "SILENCING_KINDS",
    "UPDATE_MODES",
    "FIT_OPTIONS",
    "Tags",
    # the errors (errors; ParamError: neurocode.params)
    "NotFittedError",
    "TrainingFailed",
    "UnknownRuleError",
    "ParamError",
    # the base class (base)
    "CodingRule",
    "tags_of",
    "silencing_kind",
    # rules by name (registry)
    "ENTRY_POINT_GROUP",
    "register",
    "available_rules",
    "plugin_errors",
    "rule_origin",
    "get_rule_class",
    "get_rule",
    # saving and loading (persist)
    "save_rule",
    "load_rule",
]

#: the registry's state and the discovery hooks a test replaces: held by
#: :mod:`neurocode.rules.registry` alone, read through from here, never set here
_REGISTRY_NAMES = frozenset({
    "_DISCOVERED", "_LOADING", "_ORIGINS", "_PLUGIN_ERRORS", "_REGISTRY", "_discover",
    "_dist_of", "_entry_points", "_ep_dist", "_load_plugin", "_owner",
    "_packages_distributions"})


def __getattr__(name: str) -> Any:
    """The registry's state, read live from :mod:`neurocode.rules.registry` (``rules._DISCOVERED``
    is whether discovery ran by now, not when this package was imported)."""
    if name in _REGISTRY_NAMES:
        return getattr(_registry, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _Package(types.ModuleType):
    """The package's module type: refuses to set the registry's state here, where the registry
    would never read it."""

    def __setattr__(self, name: str, value: Any) -> None:
        _refuse(name)
        super().__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        _refuse(name)
        super().__delattr__(name)


def _refuse(name: str) -> None:
    if name in _REGISTRY_NAMES:
        raise AttributeError(
            f"neurocode.rules.{name} belongs to neurocode.rules.registry, which alone holds and "
            f"reads the registry's state; set it there (monkeypatch.setattr("
            f"neurocode.rules.registry, {name!r}, ...)), not on the package")


sys.modules[__name__].__class__ = _Package
