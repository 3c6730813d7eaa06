"""Tasks the tests hand to a process pool.

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
