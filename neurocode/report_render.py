"""The report's tiny document model (headings, paragraphs, lists, tables, figures, verdict
badges, links, folded details), rendered twice: as Markdown and as one self-contained HTML
page (figures inlined as data URIs). :mod:`neurocode.report` builds the blocks.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neurocode.figures.style import OKABE_ITO

#: Verdict badge colours from the Okabe-Ito palette (distinct under the common colour-vision
#: deficiencies), each with its own symbol so colour is never the only cue.
BADGE_STYLE = {
    "supported": (OKABE_ITO[0], "#ffffff", "\u2713"),       # blue, check mark
    "partly": (OKABE_ITO[6], "#000000", "\u25d0"),          # yellow, half circle
    "not supported": (OKABE_ITO[3], "#000000", "\u2717"),   # vermillion, ballot x
    "not tested": ("#ffffff", "#444444", "?"),            # white, dashed border
}


# --- a tiny document model rendered twice ----------------------------------------------------

@dataclass
class _Heading:
    level: int
    text: str
    anchor: str = ""
    badge: str = ""


@dataclass
class _Para:
    text: str
    quote: bool = False
    small: bool = False


@dataclass
class _List:
    items: list[str]


@dataclass
class _Table:
    columns: list[str]
    rows: list[list[Any]]
    cls: str = ""


@dataclass
class _Figure:
    stem: str
    caption: str


@dataclass
class _FigureRef:
    stem: str
    where: str
    anchor: str


@dataclass
class _Badge:
    verdict: str


@dataclass
class _Link:
    text: str
    anchor: str


@dataclass
class _Details:
    summary: str
    text: str


def _fmt(v: Any) -> str:
    if v is None:
        return "\u2013"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (int, float)) or hasattr(v, "__float__") and not isinstance(v, str):
        try:
            x = float(v)
        except (TypeError, ValueError):
            return str(v)
        if not math.isfinite(x):
            return "\u2013" if math.isnan(x) else ("inf" if x > 0 else "-inf")
        if x == int(x) and abs(x) < 1e7:
            return str(int(x))
        return f"{x:.4g}"
    return str(v)


def _md_text(s: str) -> str:
    out = []
    for ch in str(s):
        if ch in "\\`*_[]<>|#":
            out.append("\\" + ch)
        elif ch == "\n":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def _md_cell(v: Any) -> str:
    if isinstance(v, _Badge):
        return _md_badge(v.verdict)
    if isinstance(v, _Link):
        return f"[{_md_text(v.text)}](#{v.anchor})"
    if isinstance(v, _Details):
        return _md_text(v.text)
    return _md_text(_fmt(v))


def _md_badge(verdict: str) -> str:
    return f"**{BADGE_STYLE[verdict][2]} {verdict}**"


def _render_md(blocks: Sequence[Any]) -> str:
    out: list[str] = []
    for b in blocks:
        if isinstance(b, _Heading):
            anchor = f'<a id="{b.anchor}"></a>\n' if b.anchor else ""
            badge = f" {_md_badge(b.badge)}" if b.badge else ""
            out.append(f"{anchor}{'#' * b.level} {_md_text(b.text)}{badge}\n")
        elif isinstance(b, _Para):
            text = _md_text(b.text)
            out.append(("> " + text if b.quote else f"*{text}*" if b.small else text) + "\n")
        elif isinstance(b, _List):
            out.append("\n".join(f"- {_md_text(i)}" for i in b.items) + "\n")
        elif isinstance(b, _Table):
            lines = ["| " + " | ".join(_md_text(c) for c in b.columns) + " |",
                     "|" + "|".join("---" for _ in b.columns) + "|"]
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in b.rows]
            out.append("\n".join(lines) + "\n")
        elif isinstance(b, _Figure):
            out.append(f'<a id="fig-{b.stem}"></a>\n'
                       f"![{_md_text(b.caption)}](figures/{b.stem}.png)\n\n"
                       f"*Figure: {_md_text(b.caption)}*\n")
        elif isinstance(b, _FigureRef):
            out.append(f"*Figure {_md_text(b.stem)}: shown under "
                       f"[{_md_text(b.where)}](#{b.anchor}).*\n")
    return "\n".join(out)


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:72rem;
margin:2rem auto;padding:0 1rem;color:#1a1a1a;line-height:1.45;background:#fff}
h1{font-size:1.7rem;border-bottom:2px solid #333;padding-bottom:.3rem}
h2{font-size:1.3rem;margin-top:2.2rem;border-bottom:1px solid #bbb;padding-bottom:.2rem}
h3{font-size:1.1rem;margin-top:1.5rem}
table{border-collapse:collapse;margin:.8rem 0;font-size:.86rem;width:auto}
th,td{border:1px solid #ccc;padding:.25rem .5rem;vertical-align:top;text-align:left}
th{background:#eef1f5}
tr:nth-child(even) td{background:#fafafa}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:.1rem .5rem;border-radius:.8rem;font-weight:600;
white-space:nowrap;font-size:.85rem;border:1px solid #333}
.badge.not-tested{border-style:dashed}
blockquote{margin:.6rem 0;padding:.3rem 1rem;border-left:4px solid #0072B2;background:#f4f8fb}
figure{margin:1rem 0}
figure img{max-width:min(100%,60rem);height:auto;border:1px solid #ddd}
figcaption{font-size:.85rem;color:#444}
.small{font-size:.85rem;color:#444}
details summary{cursor:pointer;color:#0a4f80}
table.ledger td:nth-child(2){min-width:14rem}
"""


def _html_badge(verdict: str) -> str:
    bg, fg, sym = BADGE_STYLE[verdict]
    cls = "badge " + verdict.replace(" ", "-")
    return (f'<span class="{cls}" data-verdict="{html.escape(verdict)}" '
            f'style="background:{bg};color:{fg}">{sym} {html.escape(verdict)}</span>')


def _html_cell(v: Any) -> str:
    if isinstance(v, _Badge):
        return f"<td>{_html_badge(v.verdict)}</td>"
    if isinstance(v, _Link):
        return f'<td><a href="#{html.escape(v.anchor)}">{html.escape(v.text)}</a></td>'
    if isinstance(v, _Details):
        return (f"<td><details><summary>{html.escape(v.summary)}</summary>"
                f"{html.escape(v.text)}</details></td>")
    num = isinstance(v, (int, float)) and not isinstance(v, bool)
    return f'<td{" class=num" if num else ""}>{html.escape(_fmt(v))}</td>'


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _render_html(blocks: Sequence[Any], title: str, figures_dir: Path | None = None) -> str:
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{html.escape(title)}</title>", f"<style>{_CSS}</style>", "</head>",
           "<body>"]
    for b in blocks:
        if isinstance(b, _Heading):
            aid = f' id="{html.escape(b.anchor)}"' if b.anchor else ""
            badge = " " + _html_badge(b.badge) if b.badge else ""
            out.append(f"<h{b.level}{aid}>{html.escape(b.text)}{badge}</h{b.level}>")
        elif isinstance(b, _Para):
            if b.quote:
                out.append(f"<blockquote>{html.escape(b.text)}</blockquote>")
            else:
                out.append(f'<p{" class=small" if b.small else ""}>{html.escape(b.text)}</p>')
        elif isinstance(b, _List):
            out.append("<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in b.items) + "</ul>")
        elif isinstance(b, _Table):
            cls = f' class="{html.escape(b.cls)}"' if b.cls else ""
            head = "".join(f"<th>{html.escape(c)}</th>" for c in b.columns)
            body = "".join("<tr>" + "".join(_html_cell(c) for c in row) + "</tr>" for row in b.rows)
            out.append(f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        elif isinstance(b, _Figure):
            png = (figures_dir / f"{b.stem}.png") if figures_dir is not None else None
            src = (_data_uri(png) if png is not None and png.is_file()
                   else html.escape(f"figures/{b.stem}.png"))
            out.append(f'<figure id="fig-{html.escape(b.stem)}"><img src="{src}" '
                       f'alt="{html.escape("Figure: " + b.caption)}">'
                       f"<figcaption>{html.escape(b.caption)}</figcaption></figure>")
        elif isinstance(b, _FigureRef):
            out.append(f'<p class=small>Figure {html.escape(b.stem)}: shown under '
                       f'<a href="#{html.escape(b.anchor)}">{html.escape(b.where)}</a>.</p>')
    out += ["</body>", "</html>", ""]
    return "\n".join(out)
