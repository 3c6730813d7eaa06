"""Tasks the tests hand to a process pool, and the /proc helpers of the orphan tests.

A pool worker unpickles a task's function by importing its module; a test module imports
``conftest``, which in a fresh worker may resolve to the checkout's root ``conftest.py``
rather than ``tests/conftest.py``, so the functions a worker runs live here, importing
nothing of the tests.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace


def echo(x):
    """``x`` itself."""
    return x


def where(x):
    """``x`` and the id of the process that ran it."""
    return x, os.getpid()


def fake_measure(path, **settings):
    """Stands in for the battery (``neurocode.api``'s measuring task): says one line."""
    return SimpleNamespace(failed=False, unwritable="",
                           lines=[("say", f"{Path(path).name}: measured (fake)")])


def descendants(root: int) -> list[int]:
    """Every live descendant process of ``root`` (children, theirs, ...), read from /proc: the
    orphan tests look for workers left behind after their parent was stopped."""
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(d.name))
    out, todo = [], [root]
    while todo:
        kids = children.get(todo.pop(), [])
        out += kids
        todo += kids
    return out


def alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return False
