"""neurocode.rules is a package (issue 15): one idea a module, every old name re-exported, and
the registry's state in one module, which is the one a test patches and the one that reads it.
"""

from __future__ import annotations

import ast
import pickle
from pathlib import Path

import pytest

import neurocode
from neurocode import cli, rules
from neurocode.rules import base, errors, persist, registry, tags

PACKAGE = Path(rules.__file__).resolve().parent

#: the public names of the module neurocode/rules.py before the split (its ``__all__``), with
#: the module of the package that now defines each
HOMES = {
    "CODE_KINDS": tags, "FIT_OPTIONS": tags, "INPUT_DOMAINS": tags, "SILENCING_KINDS": tags,
    "UPDATE_MODES": tags, "Tags": tags,
    "NotFittedError": errors, "TrainingFailed": errors, "UnknownRuleError": errors,
    "CodingRule": base, "silencing_kind": base, "tags_of": base,
    "ENTRY_POINT_GROUP": registry, "available_rules": registry, "get_rule": registry,
    "get_rule_class": registry, "plugin_errors": registry, "register": registry,
    "rule_origin": registry,
    "load_rule": persist, "save_rule": persist,
}


def test_every_public_name_is_re_exported_as_the_object_its_module_defines():
    assert sorted(rules.__all__) == sorted([*HOMES, "ParamError"])
    for name, home in HOMES.items():
        assert getattr(rules, name) is getattr(home, name), name
        assert name in home.__all__, name
    assert rules.ParamError is neurocode.params.ParamError
    assert neurocode.CodingRule is base.CodingRule and neurocode.get_rule is registry.get_rule


def test_the_private_helpers_other_modules_import_are_still_there():
    from neurocode.rules import _SILENCING_ALIASES, _tag_problems  # neurocode.testing's

    assert _tag_problems is base._tag_problems and _SILENCING_ALIASES is tags._SILENCING_ALIASES
    assert rules.BUILTIN_DISTRIBUTION == "neurocode" and rules.Param is neurocode.Param


def test_the_registry_state_reads_live_through_the_package(monkeypatch):
    for flag in (False, True):
        monkeypatch.setattr(registry, "_DISCOVERED", flag)
        assert rules._DISCOVERED is flag
    fresh: dict = {}
    monkeypatch.setattr(registry, "_REGISTRY", fresh)
    assert rules._REGISTRY is fresh
    assert rules._entry_points is registry._entry_points
    with pytest.raises(AttributeError, match="has no attribute '_no_such_name'"):
        rules._no_such_name  # noqa: B018


@pytest.mark.parametrize("name", ["_REGISTRY", "_DISCOVERED", "_PLUGIN_ERRORS", "_ORIGINS",
                                  "_entry_points", "_packages_distributions"])
def test_setting_the_registry_state_on_the_package_is_refused(monkeypatch, name):
    """A patch of neurocode.rules._X would be a copy the registry never reads: it is refused,
    naming the module to patch, and the registry is untouched."""
    held = getattr(registry, name)
    with pytest.raises(AttributeError, match=rf"set it there .*neurocode\.rules\.registry, "
                                             rf"'{name}'"):
        monkeypatch.setattr(rules, name, None)
    with pytest.raises(AttributeError, match="neurocode.rules.registry"):
        delattr(rules, name)
    assert getattr(registry, name) is held and getattr(rules, name) is held
    assert name not in vars(rules)


def test_patching_the_registry_module_is_what_the_lookups_see(monkeypatch):
    monkeypatch.setattr(registry, "_DISCOVERED", True)
    monkeypatch.setattr(registry, "_REGISTRY", {})
    monkeypatch.setattr(registry, "_PLUGIN_ERRORS", {})
    assert rules.available_rules() == {}
    with pytest.raises(rules.UnknownRuleError, match="unknown rule 'kwta'"):
        rules.get_rule("kwta")
    with pytest.raises(rules.UnknownRuleError, match="unknown rule 'kwta'"):
        neurocode.get_rule("kwta")


def test_the_cli_sees_whether_discovery_ran(monkeypatch, capsys):
    """cli._warn_plugins reads neurocode.rules._DISCOVERED: it must be the registry's own flag,
    not the value it had when the package was imported."""
    monkeypatch.setattr(registry, "_PLUGIN_ERRORS", {"ghost": "ghost_mod:Rule: ImportError: x"})
    monkeypatch.setattr(registry, "_DISCOVERED", False)
    cli._warn_plugins(load=False)
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(registry, "_DISCOVERED", True)
    cli._warn_plugins(load=False)
    assert "plugin rule 'ghost' failed to load" in capsys.readouterr().err


def test_the_errors_and_tags_survive_pickling():
    """Pool workers send them back to the parent: they pickle by their new module paths."""
    exc = pickle.loads(pickle.dumps(rules.TrainingFailed("loss became NaN")))
    assert type(exc) is errors.TrainingFailed and str(exc) == "loss became NaN"
    assert isinstance(pickle.loads(pickle.dumps(rules.NotFittedError("x"))), AttributeError)
    t = rules.Tags(code_kind="binary", legend_params=("k",))
    assert pickle.loads(pickle.dumps(t)) == t


def test_each_module_holds_one_idea_under_600_lines_and_never_imports_the_package():
    """Inside the package every import names the module it needs, so no module depends on
    the package's __init__ (which imports them all) and the import graph has no cycle."""
    for path in sorted(PACKAGE.glob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        assert len(lines) < 600, f"{path.name}: {len(lines)} lines"
        if path.name == "__init__.py":
            continue
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{path.name}: relative import (the graph test misses it)"
                assert node.module != "neurocode.rules", f"{path.name} imports the package"
            elif isinstance(node, ast.Import):
                assert all(a.name != "neurocode.rules" for a in node.names), path.name
