"""Collection for the whole checkout (tests/ has its own conftest.py for the tests).

Importing brian2 replaces pytest's ``DoctestModule`` with its own
(``brian2/tests/__init__.py``), which cannot collect a package's ``__init__.py``: it looks
for the module's file name (``__init__``) in each doctest's dotted name and runs off the end
(IndexError). The tests import brian2 before the library's doctests are collected, so the
doctests of ``neurocode/claims/__init__.py`` and the like would fail to collect. pytest's
own class is put back before each file is collected.
"""

from __future__ import annotations

import _pytest.doctest as _doctest
import pytest

_DOCTEST_MODULE = _doctest.DoctestModule


@pytest.hookimpl(tryfirst=True)
def pytest_collect_file(file_path, parent):
    """Undo brian2's replacement of pytest's doctest collector (see the module notes)."""
    _doctest.DoctestModule = _DOCTEST_MODULE
