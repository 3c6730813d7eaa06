"""mkdocs hooks for neurocode's pages (mkdocs.yml ``hooks:``).

1. Serve the repository's committed ``figures/`` in the built site.

The pages in ``docs/`` link figures as ``../figures/NAME.png``, the path that resolves when the
Markdown is read in the repository (``figures/`` sits beside ``docs/``). mkdocs only knows the
files inside ``docs_dir``, so this hook

* adds every figure a page links to the build's files, at ``figures/NAME`` in the site
  (only those linked, not the whole folder), and
* rewrites the page's ``../figures/`` links to ``figures/`` before mkdocs resolves them, so
  mkdocs checks each one against those files (a link to a missing figure is still a warning,
  an error under ``strict: true``).

2. Render the Sphinx roles of the docstrings (``:func:`x```, ``:mod:`~a.b```) in the API
reference as Sphinx shows them: mkdocstrings renders ``:func:`x``` as the literal text
``:func:`` before a code span; ``on_page_content`` drops the role and, for ``~``, keeps the last
dotted name (as Sphinx does). It changes nothing else and never edits a Python file.

Only mkdocs' documented event hooks (``on_files``, ``on_page_markdown``, ``on_page_content``)
and ``File.generated`` (mkdocs >= 1.6) are used.
"""

from __future__ import annotations

import re
from pathlib import Path

from mkdocs.structure.files import File

_LINK = re.compile(r"\]\(\.\./figures/([^)\s#?]+)")


def _repo_root(config) -> Path:
    return Path(config.config_file_path).resolve().parent


def on_files(files, config):
    root = _repo_root(config)
    docs = Path(config.docs_dir)
    wanted: set[str] = set()
    for page in docs.rglob("*.md"):
        if any(part.startswith("_") for part in page.relative_to(docs).parts):
            continue
        wanted.update(_LINK.findall(page.read_text(encoding="utf-8")))
    for name in sorted(wanted):
        path = root / "figures" / name
        uri = f"figures/{name}"
        if path.is_file() and files.get_file_from_path(uri) is None:
            files.append(File.generated(config, uri, abs_src_path=str(path)))
    return files


def on_page_markdown(markdown, page, config, files):
    # ../figures/X from docs/<page>.md is figures/X from the docs root (the pages sit at the
    # top of docs/; a link written ../../figures/ in a subfolder is not rewritten).
    return _LINK.sub(lambda m: "](figures/" + m.group(1), markdown)


_ROLE = re.compile(r":(?:func|mod|class|meth|attr|data|exc|obj):<code>(~?)([^<]*)</code>")


def _role(match: re.Match) -> str:
    tilde, name = match.groups()
    if tilde:
        name = name.rstrip(".").rsplit(".", 1)[-1]
    return f"<code>{name}</code>"


def on_page_content(html, page, config, files):
    return _ROLE.sub(_role, html)
