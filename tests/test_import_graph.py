"""The framework sits below the built-in rules: no module of neurocode/ imports neurocode.models.

Every import statement of every framework module is read (module level and inside functions:
a deferred import is still an arrow), so the rules in models/ can be replaced or removed and
the framework, its measures and its figures still import. Doctest examples may use the
built-in rules (they are examples, not arrows) and are not read.
"""

from __future__ import annotations

import ast
from pathlib import Path

FRAMEWORK = Path(__file__).resolve().parents[1] / "neurocode"


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
    return out


def _modules() -> list[Path]:
    return sorted(FRAMEWORK.rglob("*.py"))


def test_the_framework_never_imports_a_built_in_rule():
    back = _back_arrows(_modules())
    assert not back, "framework -> built-in rule imports:\n" + "\n".join(back)


def _back_arrows(paths) -> list[str]:
    return [f"{p.name}:{line} imports {name}" for p in paths for line, name in _imports(p)
            if name == "neurocode.models" or name.startswith(("neurocode.models.", "models."))
            or name == "models"]


def test_the_check_sees_deferred_and_aliased_imports(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import numpy\n"
                   "def f():\n"
                   "    from neurocode.models.memory import hopfield_run\n"
                   "    import neurocode.models.binary as b\n")
    assert _back_arrows([bad]) == ["bad.py:3 imports neurocode.models.memory",
                                   "bad.py:4 imports neurocode.models.binary"]
