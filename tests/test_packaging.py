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
    data = {pkg for pkg, folder in dirs.items() if not (ROOT / folder / "__init__.py").exists()}
    assert all((ROOT / dirs[pkg]).is_dir() for pkg in data)   # data folders (the experiments)
    assert listed - found - data == set(), f"listed, not a folder: {sorted(listed - found - data)}"


def test_the_wheel_ships_the_experiment_configs(tmp_path):
    """A real wheel, built from this checkout, holds every bundled config."""
    import subprocess
    import sys
    import zipfile

    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                          "-q", "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True)
    if out.returncode != 0:
        import pytest

        pytest.skip(f"cannot build a wheel here: {out.stderr.strip()[-300:]}")
    wheel = next(tmp_path.glob("neurocode-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    want = {f"neurocode/experiments/{p.name}" for p in (ROOT / "experiments").glob("*.yaml")}
    assert want and want <= names, sorted(want - names)
    assert "neurocode/models/relu_l1/__init__.py" in names and "neurocode/py.typed" in names
