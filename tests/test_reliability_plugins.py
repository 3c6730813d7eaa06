"""Issue 18, defects 1 and 6: plugins installed for real (a package with a ``.dist-info`` on the
path, which importlib.metadata finds as pip would leave it) that claim a built-in's name, claim
another plugin's, or call ``sys.exit()`` at import; and the package every run file records."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pytest
import yaml

from neurocode import rules
from neurocode.cli import main
from neurocode.rules import registry

EXE = Path(sys.executable).with_name("neurocode")

RULE_SOURCE = '''
import numpy as np
from dataclasses import replace
from neurocode.params import Param
from neurocode.rules import CodingRule

class {cls}(CodingRule):
    """A plugin's rule: the first n_units inputs, thresholded at 0.5."""

    name = {name!r}
    description = "a plugin's rule ({dist})"
    tags = replace(CodingRule.tags, code_kind="binary", silencing="dropped")
    params = {{"n_units": Param(int, 8, low=1, doc="units")}}

    def _fit(self, X, y=None):
        self.n_features_in_ = X.shape[1]
        return self

    def _encode(self, X, mask):
        return (X[:, :self.n_units] > 0.5).astype(float) * mask
'''


def make_plugin(root: Path, dist: str, version: str, module: str, rules_of: dict[str, str],
                body: str = "", register_at_import: str = "") -> Path:
    """A package installed the way pip leaves it, under ``root``: ``module/__init__.py`` and
    ``<dist>-<version>.dist-info`` with METADATA, RECORD and entry points in the group
    ``neurocode.rules`` (``rules_of``: entry name -> class name). ``body`` runs at import
    before the classes are defined; ``register_at_import`` names a class the module passes
    to ``neurocode.rules.register`` itself."""
    pkg = root / module
    pkg.mkdir(parents=True)
    src = [textwrap.dedent(body)]
    for name, cls in rules_of.items():
        src.append(RULE_SOURCE.format(cls=cls, name=name, dist=dist))
    if register_at_import:
        src.append(f"from neurocode.rules import register\nregister({register_at_import})\n")
    (pkg / "__init__.py").write_text("\n".join(src))
    info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "top_level.txt").write_text(module + "\n")
    (info / "RECORD").write_text(f"{module}/__init__.py,,\n")
    eps = "".join(f"{name} = {module}:{cls}\n" for name, cls in rules_of.items())
    (info / "entry_points.txt").write_text(f"[{rules.ENTRY_POINT_GROUP}]\n{eps}")
    return root


@pytest.fixture
def fresh_registry(monkeypatch):
    """An empty registry that discovers the entry points again (the built-ins' and any
    plugin put on sys.path by the test), restored afterwards."""
    monkeypatch.setattr(registry, "_DISCOVERED", False)
    monkeypatch.setattr(registry, "_REGISTRY", {})
    monkeypatch.setattr(registry, "_PLUGIN_ERRORS", {})
    monkeypatch.setattr(registry, "_ORIGINS", {})
    registry._packages_distributions.cache_clear()
    yield
    registry._packages_distributions.cache_clear()


def _on_path(monkeypatch, root: Path) -> None:
    monkeypatch.syspath_prepend(str(root))


def _env(*roots: Path) -> dict[str, str]:
    path = os.pathsep.join([*(str(r) for r in roots), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path}


# -- 1. a plugin that claims a built-in's name ------------------------------------------------
def test_a_plugin_claiming_a_builtin_name_is_refused_and_the_builtin_stays(
        tmp_path, monkeypatch, fresh_registry, capsys):
    # the plugin's entry value "aaa_evil:..." sorts before "neurocode.models.kwta:KWTA", which
    # is how it took the name over
    make_plugin(tmp_path, "aaa-evil", "6.6", "aaa_evil", {"kwta": "EvilKWTA"})
    _on_path(monkeypatch, tmp_path)
    assert "aaa-evil" in {d.metadata["Name"] for d in metadata.distributions()}
    cls = rules.get_rule_class("kwta")
    assert cls.__module__ == "neurocode.models.kwta"
    assert rules.rule_origin("kwta")["package"] == "neurocode"
    errors = rules.plugin_errors()
    assert list(errors) == ["kwta (aaa-evil)"]
    msg = errors["kwta (aaa-evil)"]
    assert "neurocode" in msg and "aaa-evil 6.6" in msg and "unique across packages" in msg
    assert main(["list"]) == 0
    err = capsys.readouterr().err
    assert "plugin rule 'kwta (aaa-evil)' refused" in err and "aaa-evil" in err
    assert "'kwta' failed to load" not in err  # the built-in is not blamed


def test_a_plugin_imported_before_discovery_cannot_keep_a_builtin_name(
        tmp_path, monkeypatch, fresh_registry):
    make_plugin(tmp_path, "early-evil", "1.0", "early_evil", {}, body=RULE_SOURCE.format(
        cls="EarlyKofN", name="kofn", dist="early-evil"), register_at_import="EarlyKofN")
    _on_path(monkeypatch, tmp_path)
    import early_evil  # registers "kofn" itself, before the built-ins are discovered

    assert registry._REGISTRY["kofn"] is early_evil.EarlyKofN
    assert rules.get_rule_class("kofn").__module__ == "neurocode.models.binary"
    assert any(k.startswith("kofn (") and "early_evil" in v
               for k, v in rules.plugin_errors().items())
    sys.modules.pop("early_evil", None)


def test_two_plugins_claiming_one_name_the_second_is_refused_naming_both(
        tmp_path, monkeypatch, fresh_registry):
    make_plugin(tmp_path / "a", "plug-alpha", "1.0", "plug_alpha", {"twin": "Twin"})
    make_plugin(tmp_path / "b", "plug-beta", "2.0", "plug_beta", {"twin": "Twin"})
    _on_path(monkeypatch, tmp_path / "a")
    _on_path(monkeypatch, tmp_path / "b")
    assert rules.get_rule_class("twin").__module__ == "plug_alpha"
    msg = rules.plugin_errors()["twin (plug-beta)"]
    assert "plug-alpha 1.0" in msg and "plug-beta 2.0" in msg


def test_run_files_record_the_package_and_version_of_their_rule(
        tmp_path, monkeypatch, fresh_registry):
    from neurocode import config as cfgmod
    from neurocode import store
    from neurocode.runner import run_path
    from neurocode.sweep import run_sweep

    make_plugin(tmp_path / "site", "tiny-plugin", "0.3.1", "tiny_plugin",
                {"tiny-rule": "TinyRule"})
    _on_path(monkeypatch, tmp_path / "site")
    raw = {"name": "prov", "seed": 0, "data": {"dataset": "bars", "n_train": 50, "n_test": 20},
           "model": {"rule": "tiny-rule"}, "sweep": {"model.n_units": [4, 8]}}
    specs = cfgmod.resolve(raw) + cfgmod.resolve({**raw, "model": {"rule": "kofn", "k": 2},
                                                  "sweep": {"model.n_units": [8]}})
    assert not run_sweep(specs, tmp_path / "out", workers=1, echo=lambda m: None).failed
    got = [store.read_run(run_path(tmp_path / "out", s)).attrs for s in specs]
    assert [(a["rule_package"], a["rule_version"]) for a in got] == [
        ("tiny-plugin", "0.3.1"), ("tiny-plugin", "0.3.1"),
        ("neurocode", metadata.version("neurocode"))]
    assert got[0]["rule_class"] == "tiny_plugin:TinyRule"


# -- 6. a plugin that calls sys.exit() at import ----------------------------------------------
def test_a_plugin_exiting_at_import_is_reported_and_undone(tmp_path, monkeypatch, fresh_registry,
                                                           capsys):
    make_plugin(tmp_path, "quitter", "1.0", "quitter", {"half-rule": "HalfRule"},
                body="import neurocode.rules as r\n"
                     "class Early(r.CodingRule):\n"
                     "    name = 'quitter-early'\n"
                     "r.register(Early)\n"
                     "import sys\nsys.exit(3)\n")
    _on_path(monkeypatch, tmp_path)
    errors = rules.plugin_errors()  # no SystemExit escapes
    assert "SystemExit" in errors["half-rule"] and "quitter" in errors["half-rule"]
    assert "quitter-early" not in rules.available_rules()  # what it registered is undone
    assert "kwta" in rules.available_rules()
    assert main(["list"]) == 0
    captured = capsys.readouterr()
    assert "kwta" in captured.out and "plugin rule 'half-rule' failed to load" in captured.err


def test_a_plugin_raising_keyboard_interrupt_at_import_still_interrupts(
        tmp_path, monkeypatch, fresh_registry):
    make_plugin(tmp_path, "ctrlc", "1.0", "ctrlc", {"ctrlc-rule": "R"},
                body="raise KeyboardInterrupt\n")
    _on_path(monkeypatch, tmp_path)
    with pytest.raises(KeyboardInterrupt):
        rules.available_rules()


@pytest.mark.slow
def test_the_command_goes_on_past_a_plugin_that_exits_at_import(tmp_path):
    """The console script for real: exit 3 with no output was what a sys.exit(3) plugin did
    to every command."""
    site = make_plugin(tmp_path / "site", "quitter", "1.0", "quitter", {"q-rule": "Q"},
                       body="import sys\nsys.exit(3)\n")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"name": "goes_on", "model": {"rule": "kofn", "n_units": 8,
                                                                "k": 2},
                                   "data": {"dataset": "bars", "n_train": 50, "n_test": 20}}))
    env = _env(site)
    listed = subprocess.run([str(EXE), "list", "--json"], capture_output=True, text=True,
                            env=env, timeout=120)
    assert listed.returncode == 0, listed.stderr
    info = json.loads(listed.stdout)
    assert "q-rule" in info["plugin_errors"] and "SystemExit" in info["plugin_errors"]["q-rule"]
    assert {r["name"]: r["package"] for r in info["rules"]}["kwta"] == "neurocode"
    ran = subprocess.run([str(EXE), "run", str(cfg), "--out", str(tmp_path / "o")],
                         capture_output=True, text=True, env=env, timeout=120)
    assert ran.returncode == 0, (ran.stdout, ran.stderr)
    assert "plugin rule 'q-rule' failed to load" in ran.stderr and "quitter" in ran.stderr
    assert "1 done" in ran.stdout
