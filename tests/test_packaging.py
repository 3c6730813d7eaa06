"""The wheel ships every package folder: pyproject's explicit package list names each one.

setuptools installs only the packages listed in ``[tool.setuptools] packages``; an editable
install (``pip install -e .``, what the tests run on) still finds an unlisted folder, so a
missing entry shows only to a user of the built wheel. This test walks the folders.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed_in_pyproject():
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(tool["packages"])
    dirs = tool["package-dir"]            # {"neurocode": "neurocode", "neurocode.models": "models"}
    found = set()
    for pkg, folder in dirs.items():
        base = ROOT / folder
        for init in base.rglob("__init__.py"):
            found.add(".".join([pkg, *init.parent.relative_to(base).parts]))
    # anything found and not listed would be left out of the wheel
    assert found - listed == set(), f"add to [tool.setuptools] packages: {sorted(found - listed)}"
    assert listed - found == set(), f"listed but not a package folder: {sorted(listed - found)}"
