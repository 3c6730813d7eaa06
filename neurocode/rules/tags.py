"""What a rule offers, declared once: the vocabularies and the frozen :class:`Tags` record.

Every rule class carries a :class:`Tags` (``tags = replace(CodingRule.tags, code_kind=
"binary", ...)``); the measures, the runner, the figures and the claims read it, nothing
guesses and no table elsewhere names a rule: its drawing style and legend place, whether its
codes are the random k-of-N null, which of the article's networks it reproduces and the
model kinds old run files stored for it are tags too. The checks here need only the record
(:meth:`Tags.problems`); those that need the rule class (a parameter it does not declare, a
classifier it does not define) run when the class is created (:mod:`neurocode.rules.base`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ARTICLE_NETWORKS", "CODE_KINDS", "COST_SECTIONS", "FIT_OPTIONS", "INPUT_DOMAINS",
           "MARKERS", "SILENCING_KINDS", "UPDATE_MODES", "Tags"]

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
#: the article's networks a rule may reproduce (``article_network``): the fully connected
#: net, the CNN and the convolutional autoencoder
ARTICLE_NETWORKS = ("fc", "cnn", "conv-ae")
#: the matplotlib markers a rule's ``style`` may name (matplotlib's string markers, less the
#: one-pixel ``","`` and the invisible ones)
MARKERS = ("o", "s", "D", "d", "^", "v", "<", ">", "p", "h", "H", "8", "*", "P", "X", ".",
           "x", "+", "1", "2", "3", "4", "|", "_")
#: the config sections whose entries a ``cost`` may count its units in
COST_SECTIONS = ("model", "train", "data")
#: a ``style`` colour: a hex string ``#RRGGBB``
_HEX_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")


@dataclass(frozen=True)
class Tags:
    """What a rule offers, declared once on its class (``tags = replace(CodingRule.tags,
    ...)``) and checked when the class is created (a wrong value is a ``TypeError`` naming
    the rule and the field, so a plugin author sees it at import).

    The defaults are what a plain rule is: a rate code fitted without labels, read by a
    linear probe, on any real input, with one update mode, nothing said about silencing,
    no fit options, no sparsity parameter, no legend parameters; drawn in a colour and marker
    derived from its name, after the rules that declare a legend rank; neither the random
    k-of-N null nor one of the article's networks, with no model kinds of old run files.

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
    style
        ``(colour, marker)``: how every figure draws the rule, a hex colour ``"#RRGGBB"`` and
        a matplotlib marker among :data:`MARKERS` (e.g. ``("#E69F00", "^")``); None: a colour
        and marker derived from the rule's name (the same in every figure and session,
        :func:`neurocode.figures.style.rule_style`).
    legend_rank
        Where the rule's runs come in legends and tables: rules with a rank first, by rank
        (an integer >= 0; ties by name), then the others by name. None: no rank.
    random_null
        The rule's codes are the random k-of-N null the learned codes are read against (the
        dose-response figures draw its runs as the null band, the claims compare with them);
        such a rule's ``code_kind`` is ``"binary"``.
    article_network
        The article's network the rule reproduces, one of :data:`ARTICLE_NETWORKS` (``"fc"``,
        ``"cnn"``, ``"conv-ae"``), or None: the claims, the report and the article's figures
        read its runs as that network's.
    legacy_kinds
        The ``model.kind`` strings run files stored before rules were named, for runs of this
        rule (e.g. ``("fc",)``): such a file is read as a run of the installed rule that
        declares its kind.
    cost
        ``(fixed_s, per_unit_s, unit_keys)``: roughly how long one run takes, in seconds on
        one thread, ``fixed_s + per_unit_s x`` the product of the run's config entries at the
        dotted ``unit_keys`` (``("train.iterations",)``, ``("data.n_train",
        "train.epochs")``; a single key may be given as a string). Used only to start the
        longest runs first (:func:`neurocode.sweep.estimate_cost`); it changes no result,
        and two records that differ only in it compare equal. None: not declared (such a
        run counts as :data:`neurocode.sweep.UNDECLARED_COST_S`).
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
    style: tuple[str, str] | None = None
    legend_rank: int | None = None
    random_null: bool = False
    article_network: str | None = None
    legacy_kinds: tuple[str, ...] = ()
    # a guess at wall time, not what the rule is: left out of == (re-timing a rule changes
    # no other reading of its tags)
    cost: tuple[float, float, tuple[str, ...]] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        for f in ("update_modes", "fit_options", "legend_params", "style", "legacy_kinds",
                  "cost"):
            v = getattr(self, f)
            if isinstance(v, list):
                object.__setattr__(self, f, tuple(v))
        cost = self.cost
        if isinstance(cost, tuple) and len(cost) == 3 and isinstance(cost[2], (str, list)):
            keys = (cost[2],) if isinstance(cost[2], str) else tuple(cost[2])
            object.__setattr__(self, "cost", (cost[0], cost[1], keys))

    def problems(self) -> list[tuple[str, str]]:
        """``(field, what is wrong)`` for each value outside its vocabulary or of the wrong
        type (checks that need the rule class are
        :func:`neurocode.rules.base._tag_problems`')."""
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
        for name in ("uses_labels", "own_readout", "random_null"):
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
        out += _style_problems(self.style)
        rank = self.legend_rank
        if rank is not None and (isinstance(rank, bool) or not isinstance(rank, int) or rank < 0):
            out.append(("legend_rank", f"must be an integer >= 0 or None, got {rank!r}"))
        if self.random_null is True and self.code_kind != "binary":
            out.append(("random_null", f"a random k-of-N code is binary: code_kind must be "
                                       f"'binary', got {self.code_kind!r}"))
        one_of("article_network", ARTICLE_NETWORKS, nullable=True)
        tuple_of("legacy_kinds", None)
        if "" in _strings(self.legacy_kinds):
            out.append(("legacy_kinds", f"{self.legacy_kinds!r} holds an empty kind"))
        out += _cost_problems(self.cost)
        return out


def _cost_problems(cost: Any) -> list[tuple[str, str]]:
    """What is wrong with a ``cost`` tag: ``(fixed_s, per_unit_s, unit_keys)`` or None."""
    if cost is None:
        return []
    example = "e.g. (1.0, 0.0075, ('train.iterations',))"
    if not (isinstance(cost, tuple) and len(cost) == 3):
        return [("cost", f"must be (fixed_s, per_unit_s, unit_keys), {example}, or None, "
                         f"got {cost!r}")]
    out = []
    for what, v in zip(("fixed_s", "per_unit_s"), cost[:2], strict=True):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not (
                math.isfinite(v) and v >= 0):
            out.append(("cost", f"{what} must be a finite number of seconds >= 0, got {v!r}"))
    keys = cost[2]
    if not (isinstance(keys, tuple) and keys and all(isinstance(k, str) for k in keys)):
        return out + [("cost", f"unit_keys must be dotted config keys ({example}), got "
                               f"{keys!r}")]
    for k in keys:
        parts = k.split(".")
        if parts[0] not in COST_SECTIONS or len(parts) < 2 or not all(parts):
            out.append(("cost", f"unit key {k!r} is not a dotted config key "
                                f"<section>.<entry> with section one of "
                                f"{', '.join(COST_SECTIONS)} (e.g. 'train.iterations')"))
    if len(set(keys)) != len(keys):
        out.append(("cost", f"unit_keys {keys!r} names a key twice"))
    return out


def _style_problems(style: Any) -> list[tuple[str, str]]:
    """What is wrong with a ``style`` tag: ``(colour, marker)`` or None."""
    if style is None:
        return []
    if not (isinstance(style, tuple) and len(style) == 2):
        return [("style", f"must be (colour, marker), e.g. ('#E69F00', '^'), or None, got "
                          f"{style!r}")]
    colour, marker = style
    out = []
    if not (isinstance(colour, str) and _HEX_COLOUR.fullmatch(colour)):
        out.append(("style", f"colour {colour!r} is not a hex colour '#RRGGBB' (e.g. "
                             f"'#E69F00')"))
    if not (isinstance(marker, str) and marker in MARKERS):
        out.append(("style", f"marker {marker!r} is not one of {', '.join(map(repr, MARKERS))}"))
    return out


def _strings(v: Any) -> tuple[str, ...]:
    """The strings of a tuple-valued tag (nothing if it is not a tuple: problems() says so)."""
    return tuple(x for x in v if isinstance(x, str)) if isinstance(v, tuple) else ()
