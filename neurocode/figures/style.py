"""The figure toolkit: one palette, the label helpers and the one save function of every figure.

* **Colours.** One palette, colour-blind safe: Okabe-Ito (Okabe & Ito 2008, "Color Universal
  Design", :data:`OKABE_ITO`) first, then Paul Tol's "muted" scheme (Tol 2021,
  SRON/EPS/TN/09-002, :data:`TOL_MUTED`) for the rules past eight. Each coding rule declares
  its colour and its own marker in its tags (``tags.style``, :func:`rule_style`), so two rules
  never depend on colour alone, and its place in legends (``tags.legend_rank``,
  :func:`rule_order`); a rule that declares no style (or is not installed) gets a
  deterministic colour and marker from a CRC-32 of its name, so it looks the same in every
  figure and every session. Series that are not rules (the
  configurations of one experiment, the lambdas of the article's nets) take
  :func:`sequence_colours` of the palette (:data:`LAMBDA_COLOURS`: the same eight colours,
  black first); the runs kept out of the verdicts are :data:`EXCLUDED_GREY`.
* **Labels.** Legends name the rule and its parameter (:func:`run_legend`, ``λ`` for the
  article's L1 penalty), numbers compactly (:func:`format_number`), labels sort by the values
  in them (:func:`value_sort_key`); axis labels carry their units (:data:`AXIS_LABELS`,
  :data:`RECON_LABELS`).
* **Saving.** :func:`save_figures` writes every figure as PNG (150 dpi) and, on request, SVG
  (text kept as text, no dates: the same results give byte-identical files), each atomically:
  to a temporary file in the same folder, then renamed into place, so a full disk or a
  read-only folder never leaves a truncated figure (:class:`FigureWriteError` names the file
  and the cause). The formats are a parameter (``formats=("png", "svg")``); left out, they are
  the current default (:data:`DEFAULT_FORMATS`, PNG only, changed for a block by
  :func:`figure_formats`): SVG costs about three quarters of the time of drawing the figures.

::

    >>> rule_style("kwta")
    RuleStyle(colour='#E69F00', marker='^')
    >>> rule_style("my-plugin") == rule_style("my-plugin")
    True
    >>> sequence_colours(3)
    ['#0072B2', '#E69F00', '#009E73']
"""

from __future__ import annotations

import contextlib
import contextvars
import errno as _errno
import io
import math
import os
import re
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["OKABE_ITO", "TOL_MUTED", "LAMBDA_COLOURS", "EXCLUDED_GREY",
           "RuleStyle", "rule_style", "rule_colour", "rule_marker", "rule_order",
           "sequence_colours",
           "format_number", "legend_params", "param_label", "param_name", "run_legend",
           "value_sort_key", "sort_by_value", "short_reason", "AXIS_LABELS", "RECON_LABELS",
           "RANK_COLOURS", "CODE_TYPE_SHADES", "DPI", "FigureWriteError", "safe_stem",
           "save_figure", "save_figures", "DEFAULT_FORMATS", "FIGURE_FORMATS",
           "FigureFormatError", "check_formats", "current_formats", "figure_formats"]

#: Okabe & Ito (2008): blue, orange, bluish green, vermillion, reddish purple, sky blue,
#: yellow, black.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
             "#000000")
#: Paul Tol's muted scheme: indigo, cyan, teal, green, olive, sand, rose, wine, purple.
TOL_MUTED = ("#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677",
             "#882255", "#AA4499")
#: The Okabe-Ito colours in the order of the article's lambdas: black first (lambda 0, the dense
#: baseline), then orange, sky blue, bluish green, blue, vermillion, reddish purple, and yellow
#: last (the weakest contrast on white).
LAMBDA_COLOURS = tuple(OKABE_ITO[i] for i in (7, 1, 5, 2, 0, 3, 4, 6))
#: The runs kept out of the verdicts (:func:`neurocode.design.exclusion`), in every figure: a
#: grey no rule or configuration has.
EXCLUDED_GREY = "0.45"


def sequence_colours(n: int, palette: tuple[str, ...] = OKABE_ITO) -> list[str]:
    """``n`` colours for a series that is not a rule (configurations, lambdas), in order.

    The first ``n`` of ``palette`` when it has enough; otherwise ``n`` colours of viridis (also
    colour-blind safe) from its dark end to 92 % of its range, so the last is not the palest.

    Parameters
    ----------
    n : int
        How many colours.
    palette : tuple of str
        The colours to take first (default :data:`OKABE_ITO`; :data:`LAMBDA_COLOURS` for the
        article's lambdas).

    Returns
    -------
    list of str
        Hex colours.

    Examples
    --------
    >>> sequence_colours(2, LAMBDA_COLOURS)
    ['#000000', '#E69F00']
    >>> len(set(sequence_colours(12)))
    12
    """
    if n <= len(palette):
        return list(palette[:n])
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    cmap = colormaps["viridis"]
    return [to_hex(cmap(0.92 * i / max(n - 1, 1))) for i in range(n)]


@dataclass(frozen=True)
class RuleStyle:
    """How a rule is drawn in every figure: its colour (a hex string) and its matplotlib marker."""

    colour: str
    marker: str


#: The colours of the rules that declare no style (plugins), chosen by a CRC-32 of the name:
#: colours no built-in rule declares.
_FALLBACK_COLOURS = ("#88CCEE", "#117733", "#DDCC77", "#F0E442", "#4477AA", "#EE6677",
                     "#228833", "#CCBB44", "#66CCEE", "#AA3377", "#BBBBBB")
_FALLBACK_MARKERS = ("o", "s", "^", "v", "D", "P", "X", "p", "h", "<", ">", "*")


def rule_style(rule: str) -> RuleStyle:
    """The colour and marker of ``rule``: the ``tags.style`` its class declares; for a rule
    that declares none or is not installed here, from the name's CRC-32 (the same in every
    figure and session)."""
    from neurocode.results import rule_tags

    tags = rule_tags(rule)
    if tags is not None and tags.style is not None:
        return RuleStyle(*tags.style)
    h = zlib.crc32(str(rule).encode("utf-8"))
    return RuleStyle(_FALLBACK_COLOURS[h % len(_FALLBACK_COLOURS)],
                     _FALLBACK_MARKERS[(h // len(_FALLBACK_COLOURS)) % len(_FALLBACK_MARKERS)])


def rule_order(rule: str) -> tuple[float, str]:
    """The key that orders rules in legends and tables: the rules that declare a
    ``tags.legend_rank`` first, by rank, then the others; ties by name.

    Examples
    --------
    >>> sorted(["my-plugin", "kwta", "relu-l1-fc"], key=rule_order)
    ['relu-l1-fc', 'kwta', 'my-plugin']
    """
    from neurocode.results import rule_tags

    tags = rule_tags(rule)
    rank = tags.legend_rank if tags is not None else None
    return (math.inf if rank is None else float(rank), str(rule))


def rule_colour(rule: str) -> str:
    """The hex colour ``rule`` is drawn in (:func:`rule_style`: the one its tags declare, else
    from the name's CRC-32)."""
    return rule_style(rule).colour


def rule_marker(rule: str) -> str:
    """The matplotlib marker ``rule`` is drawn with (:func:`rule_style`: the one its tags declare,
    else from the name's CRC-32)."""
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


def short_reason(why: str) -> str:
    """Why a run is kept out of the verdicts (:func:`neurocode.design.exclusion`), in the two
    words a legend or a title has room for: ``"silent code"`` or ``"did not learn"``."""
    return "silent code" if why.startswith("silent") else "did not learn"


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


# --------------------------------------------------------------------------------------------
# Saving
# --------------------------------------------------------------------------------------------

#: Resolution of every PNG.
DPI = 150

#: What to do about the usual causes of a failed write.
_HINTS = {getattr(_errno, name): hint for name, hint in (
    ("ENOSPC", "free some disk space or write the figures elsewhere (--out)"),
    ("EDQUOT", "free some of your disk quota or write the figures elsewhere (--out)"),
    ("EROFS", "write the figures to a writable folder (--out)"),
    ("EACCES", "write the figures to a folder you may write to (--out)"),
    ("EPERM", "write the figures to a folder you may write to (--out)"),
) if hasattr(_errno, name)}


class FigureWriteError(OSError):
    """A figure could not be written: the message names the file and the cause, ``cannot write
    PATH: no space left on device; ...`` (or ``read-only file system``, ...). Nothing is left in
    its place: no truncated file, no temporary, and a figure drawn there before is kept.
    ``errno``, ``strerror`` and ``filename`` are those of the cause."""

    def __init__(self, path: str | os.PathLike, cause: OSError, what: str = "") -> None:
        code = cause.errno
        if code is None and cause.args and isinstance(cause.args[0], int):
            code = cause.args[0]  # OSError(errno.ENOSPC): the code without its text
        reason = cause.strerror or (os.strerror(code) if code is not None else "") or str(cause)
        reason = reason or type(cause).__name__
        super().__init__(code, reason, str(path))
        hint = _HINTS.get(code, "")
        self.message = (f"cannot write {path}" + (f" ({what})" if what else "")
                        + f": {reason[:1].lower()}{reason[1:]}" + (f"; {hint}" if hint else ""))

    def __str__(self) -> str:
        return self.message


def _metadata(ext: str) -> dict[str, Any]:
    # no creation dates: the same runs give byte-identical SVGs
    return {"Date": None} if ext == "svg" else {}


def safe_stem(stem: str) -> str:
    """``stem`` as a file name: every character but letters, digits and ``-_.=`` as ``_``.

    Examples
    --------
    >>> safe_stem("kwta k=8/a b")
    'kwta_k=8_a_b'
    """
    return "".join(c if (c.isalnum() or c in "-_.=") else "_" for c in stem)


def save_figure(fig: Figure, path: str | os.PathLike, fmt: str | None = None) -> Path:
    """Write ``fig`` to ``path`` atomically; the path.

    The figure is drawn in memory, then written by the store's one atomic writer
    (:func:`neurocode.store.write_file_atomic`: a ``.partial`` file beside ``path``, fsynced,
    renamed onto ``path``): a reader sees the old file or the whole new one, never part of one,
    and a figure that fails to draw touches no file at all. PNG at :data:`DPI`; SVG without a
    date. Call it inside :func:`save_figures`'s ``rc_context`` (text kept as text, fixed SVG
    ids) for byte-identical SVGs.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    path : path-like
        The file to write.
    fmt : str, optional
        ``"png"`` or ``"svg"`` (or any format matplotlib writes); default: the suffix of
        ``path``.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    FigureWriteError
        When the file cannot be written (full disk, read-only or missing folder, ...): the
        partial file is removed and a file at ``path`` before the call is left as it was.
    """
    from neurocode.store import StorageError, write_file_atomic

    path = Path(path)
    ext = (fmt or path.suffix.lstrip(".")).lower()
    buf = io.BytesIO()
    fig.savefig(buf, dpi=DPI, format=ext, metadata=_metadata(ext))
    try:
        write_file_atomic(path, buf.getvalue())
    except StorageError as exc:
        cause = exc.__cause__
        if not isinstance(cause, OSError):
            cause = OSError(exc.errno, exc.cause) if exc.errno is not None else OSError(exc.cause)
        raise FigureWriteError(path, cause) from exc
    return path


#: The formats a figure can be saved in, in the order they are written.
FIGURE_FORMATS = ("png", "svg")
#: The formats :func:`save_figures` writes when it is not told (``formats=None``) and no
#: :func:`figure_formats` block is open: PNG only (``neurocode figures --svg`` adds SVG).
DEFAULT_FORMATS: tuple[str, ...] = ("png",)

_FORMATS: contextvars.ContextVar[tuple[str, ...] | None] = contextvars.ContextVar(
    "neurocode_figure_formats", default=None)


class FigureFormatError(ValueError):
    """A figure format that is not one of :data:`FIGURE_FORMATS`, or no format at all: the
    message names it and the formats there are."""


def check_formats(formats: str | Iterable[str] | None) -> tuple[str, ...]:
    """``formats`` as a tuple in the order of :data:`FIGURE_FORMATS`, each once; ``None``: the
    current default (:func:`current_formats`).

    Parameters
    ----------
    formats : str or iterable of str or None
        ``"png"``, ``("png", "svg")``, ... (case-insensitive, a leading dot allowed).

    Returns
    -------
    tuple of str
        The formats, lower case, PNG before SVG, without repeats.

    Raises
    ------
    FigureFormatError
        When a format is not one of :data:`FIGURE_FORMATS` or none is given.

    Examples
    --------
    >>> check_formats(["svg", "PNG", ".png"])
    ('png', 'svg')
    >>> check_formats(None)
    ('png',)
    """
    if formats is None:
        return current_formats()
    if isinstance(formats, str):
        formats = (formats,)
    try:
        given = [str(f).strip().lstrip(".").lower() for f in formats]
    except TypeError:
        raise FigureFormatError(f"figure formats must be a list of names such as "
                                f"('png', 'svg'), got {formats!r}") from None
    bad = [f for f in given if f not in FIGURE_FORMATS]
    if bad:
        raise FigureFormatError(f"unknown figure format {bad[0]!r}: use some of "
                                f"{', '.join(FIGURE_FORMATS)}")
    if not given:
        raise FigureFormatError(f"no figure format given: use some of "
                                f"{', '.join(FIGURE_FORMATS)}")
    return tuple(f for f in FIGURE_FORMATS if f in given)


def current_formats() -> tuple[str, ...]:
    """The formats :func:`save_figures` writes when it is not told: those of the innermost open
    :func:`figure_formats` block, else :data:`DEFAULT_FORMATS`.

    Returns
    -------
    tuple of str
        The formats.

    Examples
    --------
    >>> current_formats()
    ('png',)
    """
    fmts = _FORMATS.get()
    return tuple(DEFAULT_FORMATS) if fmts is None else fmts


@contextlib.contextmanager
def figure_formats(formats: str | Iterable[str]) -> Iterator[tuple[str, ...]]:
    """A block in which :func:`save_figures` (and every ``draw_*`` function) writes ``formats``
    when it is not told; the previous default is back after the block.

    Parameters
    ----------
    formats : str or iterable of str
        The formats (:func:`check_formats`).

    Yields
    ------
    tuple of str
        The formats, checked.

    Examples
    --------
    >>> with figure_formats(("png", "svg")):
    ...     current_formats()
    ('png', 'svg')
    >>> current_formats()
    ('png',)
    """
    chosen = check_formats(formats)
    token = _FORMATS.set(chosen)
    try:
        yield chosen
    finally:
        _FORMATS.reset(token)


def save_figures(figs: Mapping[str, Figure], out_dir: str | os.PathLike,
                 formats: str | Iterable[str] | None = None) -> list[Path]:
    """Write each figure as ``<stem>.png`` (150 dpi) and, when asked, ``<stem>.svg``.

    The one save function of every figure: SVGs keep their text as text and carry no date, so
    the same results give byte-identical files; each file is written atomically
    (:func:`save_figure`). ``out_dir`` is made when missing. A PNG is the same bytes whether or
    not an SVG is written beside it.

    Parameters
    ----------
    figs : mapping of str to matplotlib.figure.Figure
        ``{stem: figure}``; a stem is made a file name by :func:`safe_stem`.
    out_dir : path-like
        The folder to write into.
    formats : str or iterable of str, optional
        Which files to write: ``"png"``, ``"svg"`` or both (:func:`check_formats`); default:
        :func:`current_formats` (PNG only unless a :func:`figure_formats` block says more).

    Returns
    -------
    list of pathlib.Path
        The written files, PNG then SVG of each figure, in the order of ``figs``.

    Raises
    ------
    FigureFormatError
        When a format is unknown (before anything is written).
    FigureWriteError
        When ``out_dir`` cannot be made or a file cannot be written (the figures written
        before it are kept, complete; none is left half-written).
    """
    from matplotlib import rc_context

    exts = check_formats(formats)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FigureWriteError(out, exc, "the figures folder") from exc
    written: list[Path] = []
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "neurocode"}):
        for stem, fig in figs.items():
            for ext in exts:
                written.append(save_figure(fig, out / f"{safe_stem(stem)}.{ext}", ext))
    return written
