"""One look for every comparison figure: a fixed colour and marker per coding rule, legend
labels that name the rule and its parameter, and axis labels with their units.

Colours are colour-blind safe: the Okabe-Ito palette (Okabe & Ito 2008, "Color Universal
Design") first, then Paul Tol's "muted" scheme (Tol 2021, SRON/EPS/TN/09-002) for the rules
past eight; each rule also has its own marker, so two rules never depend on colour alone.
A rule not listed (a plugin) gets a deterministic colour and marker from a CRC-32 of its name,
so it looks the same in every figure and every session::

    >>> rule_style("kwta")
    RuleStyle(colour='#E69F00', marker='^')
    >>> rule_style("my-plugin") == rule_style("my-plugin")
    True
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Any

__all__ = ["OKABE_ITO", "TOL_MUTED", "RULE_STYLES", "RuleStyle", "rule_style", "rule_colour",
           "rule_marker", "format_number", "legend_params", "param_label", "param_name",
           "run_legend", "value_sort_key", "sort_by_value", "AXIS_LABELS", "RECON_LABELS",
           "RANK_COLOURS", "CODE_TYPE_SHADES"]

#: Okabe & Ito (2008): blue, orange, bluish green, vermillion, reddish purple, sky blue,
#: yellow, black.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
             "#000000")
#: Paul Tol's muted scheme: indigo, cyan, teal, green, olive, sand, rose, wine, purple.
TOL_MUTED = ("#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677",
             "#882255", "#AA4499")


@dataclass(frozen=True)
class RuleStyle:
    """How a rule is drawn in every figure: its colour (a hex string) and its matplotlib marker."""

    colour: str
    marker: str


#: The built-in rules. kofn (random k-of-N codes, the theory's own object) is black.
RULE_STYLES: dict[str, RuleStyle] = {
    "relu-l1-fc": RuleStyle("#0072B2", "o"),
    "relu-l1-cnn": RuleStyle("#56B4E9", "s"),
    "relu-l1-conv-ae": RuleStyle("#332288", "D"),
    "kofn": RuleStyle("#000000", "P"),
    "kwta": RuleStyle("#E69F00", "^"),
    "lca": RuleStyle("#009E73", "v"),
    "foldiak": RuleStyle("#CC79A7", "<"),
    "oja": RuleStyle("#D55E00", ">"),
    "sanger": RuleStyle("#882255", "h"),
    "diehl-cook": RuleStyle("#44AA99", "*"),
    "sailnet": RuleStyle("#999933", "p"),
    "hopfield": RuleStyle("#AA4499", "d"),
    "willshaw": RuleStyle("#CC6677", "8"),
}

_FALLBACK_COLOURS = ("#88CCEE", "#117733", "#DDCC77", "#F0E442", "#4477AA", "#EE6677",
                     "#228833", "#CCBB44", "#66CCEE", "#AA3377", "#BBBBBB")
_FALLBACK_MARKERS = ("o", "s", "^", "v", "D", "P", "X", "p", "h", "<", ">", "*")


def rule_style(rule: str) -> RuleStyle:
    """The colour and marker of ``rule``: fixed for built-in rules, from the name's CRC-32
    otherwise (the same in every figure and session)."""
    if rule in RULE_STYLES:
        return RULE_STYLES[rule]
    h = zlib.crc32(str(rule).encode("utf-8"))
    return RuleStyle(_FALLBACK_COLOURS[h % len(_FALLBACK_COLOURS)],
                     _FALLBACK_MARKERS[(h // len(_FALLBACK_COLOURS)) % len(_FALLBACK_MARKERS)])


def rule_colour(rule: str) -> str:
    """The hex colour ``rule`` is drawn in (:func:`rule_style`: fixed for a built-in rule, from the
    name's CRC-32 for any other)."""
    return rule_style(rule).colour


def rule_marker(rule: str) -> str:
    """The matplotlib marker ``rule`` is drawn with (:func:`rule_style`: fixed for a built-in rule,
    from the name's CRC-32 for any other)."""
    return rule_style(rule).marker


def format_number(v: Any) -> str:
    """Compact numbers for legends: ``1e-4``, ``5e-5``, ``0.5``, ``8``, ``2.7e-3``."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    if v == 0:
        return "0"
    if float(v).is_integer() and abs(v) < 1e5:
        return str(int(v))
    if 1e-2 <= abs(v) < 1e4:
        return f"{v:.3g}"
    mant, exp = f"{v:.1e}".split("e")
    mant = mant.rstrip("0").rstrip(".")
    return f"{mant}e{int(exp)}"


#: How a config key reads in a legend: the article's lambda as the Greek letter.
_PARAM_NAMES = {"l1": "λ", "lam": "λ", "lambda": "λ"}


def legend_params(rule: str) -> tuple[str, ...]:
    """The parameters that tell ``rule``'s runs apart, when its runs' labels do not say: the
    rule class's ``tags.legend_params``; none for a rule that is not installed here (its
    results still draw, labelled by their run labels)."""
    from neurocode.rules import UnknownRuleError, get_rule_class

    try:
        return tuple(get_rule_class(str(rule)).tags.legend_params)
    except UnknownRuleError:
        return ()


_SEED = re.compile(r"(^|,)\s*seed=[^,]*")


def param_label(label: str, rule: str = "", model: dict | None = None) -> str:
    """The parameter part of a legend: the run label without its seed, ``l1=0.0001`` as
    ``λ=1e-4``; empty when nothing is left. ``model`` (the run's ``config["model"]``) gives
    the rule's own parameter when the label is not a ``key=value`` list (one run alone)."""
    label = _SEED.sub("", label or "").strip(", ")
    parts = [p.strip() for p in label.split(",") if p.strip()]
    if parts and all("=" in p for p in parts):
        out = []
        for p in parts:
            k, _, v = p.partition("=")
            try:
                v = format_number(float(v))
            except ValueError:
                pass
            out.append(f"{_PARAM_NAMES.get(k, k)}={v}")
        return ", ".join(out)
    model = model or {}
    keys = [k for k in legend_params(rule) if model.get(k) is not None] if model else []
    if keys:
        return ", ".join(f"{_PARAM_NAMES.get(k, k)}={format_number(model[k])}" for k in keys)
    return "" if label in ("", "run") else label


def param_name(key: str) -> str:
    """A config key as a legend writes it: the last part of a dotted key, lambda as ``λ``
    (``"model.l1"`` -> ``"λ"``, ``"model.k"`` -> ``"k"``)."""
    k = str(key).split(".")[-1]
    return _PARAM_NAMES.get(k, k)


#: A number inside a label: after a non-alphanumeric (or at the start) it may carry a sign.
_NUMBER = re.compile(r"(?:(?<![A-Za-z0-9.])[-+])?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def value_sort_key(label: Any) -> tuple:
    """A key that orders labels by the numbers in them, not as text: ``k=4`` before ``k=16``
    before ``k=128``; ``l1=5e-05`` before ``l1=0.0001``; text parts compare as text.

    >>> sorted(["k=128", "k=16", "k=1", "k=64", "k=4"], key=value_sort_key)
    ['k=1', 'k=4', 'k=16', 'k=64', 'k=128']
    >>> sorted([0.001, 0, 5e-05], key=value_sort_key)
    [0, 5e-05, 0.001]
    """
    if isinstance(label, (int, float)) and not isinstance(label, bool):
        return ((0, float(label), ""),)
    s = str(label)
    out, pos = [], 0
    for m in _NUMBER.finditer(s):
        if m.start() > pos:
            out.append((1, 0.0, s[pos:m.start()]))
        out.append((0, float(m.group()), ""))
        pos = m.end()
    if pos < len(s):
        out.append((1, 0.0, s[pos:]))
    return tuple(out)


def sort_by_value(labels: Any) -> list:
    """``labels`` sorted by :func:`value_sort_key` (numbers by value, text as text)."""
    return sorted(labels, key=value_sort_key)


def run_legend(rule: str, label: str, model: dict | None = None) -> str:
    """``"kwta k=8"``, ``"relu-l1-fc λ=1e-4"``, ``"sailnet"``."""
    p = param_label(label, rule, model)
    return f"{rule} {p}".strip()


#: Axis labels, units in parentheses.
AXIS_LABELS = {
    "activity_ratio": "activity ratio a = AVR / N (fraction of units active per stimulus)",
    "capacity_bits": "Willshaw bits per synapse at capacity (bits)",
    "capacity": "Willshaw capacity M* (patterns stored)",
    "fault_auc": "fault tolerance: normalised accuracy AUC over 0-100 % silenced",
    "false_match": "false-match probability",
    "top2": "top-2 accuracy of two superposed digits",
    "m_fraction_90": "fraction of units observed for 90 % of full accuracy (m90 / N)",
    "active_synapses": "active synapses per stimulus (synapses)",
    "treves_rolls": "population sparseness (Treves-Rolls, 0-1)",
    "dead_fraction": "dead units (fraction of N)",
    "silenced": "fraction of units silenced",
    "stored": "patterns stored M",
    "recall_error": "recall error (wrong units / N)",
    "union_size": "codes superposed in the union M",
    "observed": "fraction of units observed m / N",
    "norm_accuracy": "(accuracy - chance) / (intact - chance)",
}

#: What each stored reconstruction quantity is, in the words every figure and table uses
#: (three quantities on three scales: never just "reconstruction error"):
#:
#: * ``recon_error`` (the autoencoder's curves and final value, the article's reading): the
#:   reconstruction clipped to [0, 1], it and the image rounded to integers 0..255, the squared
#:   difference averaged over pixels and images;
#: * ``loss_recon`` (the autoencoder's loss term): per image, the squared error summed over its
#:   784 pixels on [0, 1], averaged over images (``784 x`` a per-pixel MSE on [0, 1]);
#: * ``recon_mse`` (every generative rule, :mod:`neurocode.runner`): the squared error of
#:   ``decode(encode(x))`` averaged over features and stimuli, on the rule's input scale (MNIST
#:   pixels on [0, 1], centred or not), neither clipped nor quantised.
RECON_LABELS = {
    "recon_error": "mean squared error per pixel, 0-255 scale, after quantisation",
    "loss_recon": "summed squared error per image, pixels on [0, 1]",
    "recon_mse": "mean squared error per pixel, [0, 1] scale, not quantised",
}

#: Rank colours of the table, best first: ColorBrewer YlGnBu (sequential, colour-blind safe).
RANK_COLOURS = ("#2c7fb8", "#7fcdbb", "#edf8b1")

#: Background shades of the local / sparse / dense bands (light greys, darker = sparser).
CODE_TYPE_SHADES = {"local": "#d9d9d9", "sparse": "#f0f0f0", "dense": "#ffffff"}
