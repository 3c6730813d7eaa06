"""The theory layer: every closed form in neurocode/theory/, below the measures and the figures.

* No module of the theory package imports neurocode.metrics, figures, models, claims or report
  (every import statement is read, module level and inside functions: a deferred import is
  still an arrow), and importing it loads none of them.
* Each closed form has one implementation: the name its old module still offers is the very
  object neurocode.theory defines.

Nothing here computes anything slow: the test reads source files and imports modules.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

THEORY = Path(__file__).resolve().parents[1] / "neurocode" / "theory"

#: What the theory may not import (a module or anything below it).
FORBIDDEN = ("neurocode.metrics", "neurocode.figures", "neurocode.models", "neurocode.claims",
             "neurocode.report", "models")

#: Old module -> the names moved out of it into the theory (still importable from there).
MOVED = {
    "neurocode.metrics.capacity": ["willshaw_theory", "log2_binomial", "channel_information",
                                   "_distinct_synapses", "_OPTIMUM_AUTO", "_OPTIMUM_HETERO",
                                   "_check_n", "_check_tolerance"],
    "neurocode.metrics.fault": ["kofn_survival_theory", "n_silenced", "_check_fractions"],
    "neurocode.metrics.interference": ["ahmad_hawkins_false_match", "union_on_fraction",
                                       "_log_comb"],
    "neurocode.figures.summary": ["theory_capacity_bits", "theory_fault_auc",
                                  "theory_union_false_match", "theory_m_fraction_90",
                                  "REFERENCE_N", "UNION_M"],
}

#: Names that were in neurocode.theory (then a module) before it became a package.
COVARIANCE = ["covariance_capacity", "tsodyks_feigelman_capacity", "one_step_capacity",
              "covariance_error", "covariance_load"]


def _module_name(path: Path) -> str:
    parts = ("neurocode", "theory") + path.relative_to(THEORY).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(path: Path, module: str) -> list[tuple[int, str]]:
    """``(line, module)`` for every import of the file; ``from pkg import name`` also gives
    ``pkg.name`` (it may be a submodule), relative imports are resolved against ``module``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            out.append((node.lineno, base))
            out += [(node.lineno, f"{base}.{a.name}") for a in node.names if a.name != "*"]
    return out


def _forbidden(paths) -> list[str]:
    return [f"{p.name}:{line} imports {name}" for p in paths
            for line, name in _imported(p, _module_name(p) if p.is_relative_to(THEORY) else "x")
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)]


def _theory_files() -> list[Path]:
    return sorted(THEORY.rglob("*.py"))


def test_the_theory_is_a_package_of_several_modules():
    names = {p.name for p in _theory_files()}
    assert {"__init__.py", "covariance.py", "willshaw.py", "survival.py", "unions.py",
            "random_kofn.py"} <= names
    assert not (THEORY.parent / "theory.py").exists(), "theory.py would shadow the package"


def test_the_theory_imports_no_measure_figure_rule_claim_or_report():
    bad = _forbidden(_theory_files())
    assert not bad, "the theory layer imports from above it:\n" + "\n".join(bad)


def test_the_check_sees_deferred_relative_and_from_imports(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import numpy\n"
                   "from neurocode import metrics\n"
                   "def f():\n"
                   "    from neurocode.figures.summary import REFERENCE_N\n"
                   "    import neurocode.claims as c\n"
                   "    from neurocode.report import x\n"
                   "from neurocode.theory import willshaw\n"
                   "from neurocode.metricsx import y\n")
    assert _forbidden([bad]) == ["bad.py:2 imports neurocode.metrics",
                                 "bad.py:4 imports neurocode.figures.summary",
                                 "bad.py:4 imports neurocode.figures.summary.REFERENCE_N",
                                 "bad.py:5 imports neurocode.claims",
                                 "bad.py:6 imports neurocode.report",
                                 "bad.py:6 imports neurocode.report.x"]
    rel = THEORY / "willshaw.py"
    tree_names = [n for _, n in _imported(rel, "neurocode.theory.willshaw")]
    assert "neurocode.theory._checks" in tree_names
    # a relative import resolves against the package: from ..metrics import capacity
    fake = tmp_path / "rel.py"
    fake.write_text("from ..metrics import capacity\nfrom . import unions\n")
    names = [n for _, n in _imported(fake, "neurocode.theory.rel")]
    assert names == ["neurocode.metrics", "neurocode.metrics.capacity", "neurocode.theory",
                     "neurocode.theory.unions"]


def test_importing_the_theory_loads_nothing_above_it():
    code = ("import sys, neurocode.theory\n"
            "print('\\n'.join(sorted(m for m in sys.modules if m.startswith('neurocode'))))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    above = [m for m in out if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)]
    assert not above, f"importing neurocode.theory loads {above}"


@pytest.mark.parametrize("old, name", [(m, n) for m, names in MOVED.items() for n in names])
def test_a_moved_name_is_one_object_in_its_old_module_and_in_the_theory(old, name):
    obj = getattr(importlib.import_module(old), name)
    holders = [m for m in _submodules() if hasattr(importlib.import_module(m), name)]
    assert holders, f"{name} is in no module of neurocode.theory"
    for m in holders:
        assert getattr(importlib.import_module(m), name) is obj, f"{old}.{name} is a second copy"
    if callable(obj):
        assert obj.__module__.startswith("neurocode.theory."), obj.__module__
    if not name.startswith("_"):
        theory = importlib.import_module("neurocode.theory")
        assert name in theory.__all__
        assert getattr(theory, name) is obj


def _submodules() -> list[str]:
    return [_module_name(p) for p in _theory_files() if p.name != "__init__.py"]


def test_the_old_modules_still_export_their_public_names():
    for old, names in MOVED.items():
        mod = importlib.import_module(old)
        for name in names:
            if not name.startswith("_"):
                assert name in mod.__all__, f"{name} left {old}.__all__"


def test_the_covariance_closed_forms_keep_their_names():
    from neurocode.theory import (  # noqa: F401
        covariance_capacity,
        covariance_error,
        covariance_load,
        one_step_capacity,
        tsodyks_feigelman_capacity,
    )
    cov = importlib.import_module("neurocode.theory.covariance")
    theory = importlib.import_module("neurocode.theory")
    for name in COVARIANCE:
        assert getattr(theory, name) is getattr(cov, name)
        assert getattr(cov, name).__module__ == "neurocode.theory.covariance"


def test_the_package_re_exports_every_public_name_of_its_modules():
    theory = importlib.import_module("neurocode.theory")
    assert len(set(theory.__all__)) == len(theory.__all__)
    for sub in _submodules():
        mod = importlib.import_module(sub)
        for name in getattr(mod, "__all__", []):
            assert name in theory.__all__, f"{sub}.{name} is not re-exported"
            assert getattr(theory, name) is getattr(mod, name)
    for name in theory.__all__:
        assert hasattr(theory, name)


def test_no_function_of_the_theory_is_defined_twice():
    """A function of the theory is defined in one module only (its ``def`` appears once)."""
    defs: dict[str, list[str]] = {}
    for p in _theory_files():
        tree = ast.parse(p.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                defs.setdefault(node.name, []).append(p.name)
    twice = {n: where for n, where in defs.items() if len(where) > 1}
    assert not twice, twice
    old_files = {m: Path(importlib.import_module(m).__file__) for m in MOVED}
    for m, path in old_files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        top |= {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets
                if isinstance(t, ast.Name)}
        again = sorted(top & set(MOVED[m]))
        assert not again, f"{m} defines {again} again"
