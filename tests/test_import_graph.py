"""The framework sits below the built-in rules, and its modules import one another without a cycle.

No module of neurocode/ imports neurocode.models.

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


def _module_name(path: Path) -> str:
    parts = path.relative_to(FRAMEWORK.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _graph(paths) -> dict[str, set[str]]:
    """Module -> the framework modules it imports (``from pkg import sub`` is an arrow to the
    submodule, not to the package that holds it)."""
    names = {_module_name(p): p for p in paths}
    graph: dict[str, set[str]] = {n: set() for n in names}
    for name, path in names.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                subs = [f"{node.module}.{a.name}" for a in node.names]
                targets = [t for t in subs if t in names] or [node.module]
            else:
                continue
            graph[name] |= {t for t in targets if t in names and t != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_framework_has_no_import_cycle():
    cycles = _cycles(_graph(_modules()))
    assert not cycles, "import cycles (deferred imports count):\n" + "\n".join(
        " <-> ".join(c) for c in cycles)


def test_the_cycle_check_finds_a_deferred_cycle(tmp_path):
    pkg = tmp_path / "neurocode"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from neurocode import b\n")
    (pkg / "b.py").write_text("def f():\n    from neurocode.a import g\n")
    (pkg / "c.py").write_text("from neurocode import a\n")
    global FRAMEWORK
    saved, FRAMEWORK = FRAMEWORK, pkg
    try:
        assert _cycles(_graph(sorted(pkg.rglob("*.py")))) == [["neurocode.a", "neurocode.b"]]
    finally:
        FRAMEWORK = saved
