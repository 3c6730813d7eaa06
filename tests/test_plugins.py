"""Third-party rules: the example plugin installed for real, and a plugin that fails to import."""

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from neurocode import rules
from neurocode.cli import main
from neurocode.rules import registry

from conftest import needs_mnist

REPO = Path(__file__).resolve().parents[1]
PLUGIN = REPO / "examples" / "plugin"
BIN = Path(sys.executable).parent


def _pip(*args):
    return subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
                          capture_output=True, text=True)


@pytest.fixture(scope="module")
def installed_plugin():
    """Install examples/plugin into this test environment, remove it afterwards."""
    proc = _pip("install", "--no-deps", "--no-build-isolation", "--quiet", str(PLUGIN))
    assert proc.returncode == 0, proc.stderr
    yield
    _pip("uninstall", "--yes", "--quiet", "neurocode-example-plugin")


@pytest.mark.slow
@needs_mnist
def test_example_plugin_is_listed_runs_and_conforms(installed_plugin, tmp_path):
    env = {**os.environ}
    listed = subprocess.run([str(BIN / "neurocode"), "list", "--json"], capture_output=True,
                            text=True, env=env)
    assert listed.returncode == 0, listed.stderr
    names = {r["name"]: r for r in json.loads(listed.stdout)["rules"]}
    assert names["median-split"]["module"] == "neurocode_example_plugin"
    assert "relu-l1-fc" in names  # the built-ins are still there

    run = subprocess.run([str(BIN / "neurocode"), "run", str(PLUGIN / "median_split.yaml"),
                          "--out", str(tmp_path)], capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr
    files = list((tmp_path / "median_split_mnist").glob("*.h5"))
    assert len(files) == 1
    check = subprocess.run([sys.executable, "-c", f"""
from neurocode.rules import get_rule, load_rule
from neurocode.store import read_run
from neurocode.testing import check_rule, parametrize_with_checks
from neurocode_example_plugin import MedianSplit
check_rule(get_rule("median-split", n_units=8, random_state=0))
# the tags it declares, and the one-test-per-check form a plugin's own tests use
assert MedianSplit.tags.code_kind == "binary" and MedianSplit.tags.silencing == "dropped"
assert MedianSplit._tags_declared and not MedianSplit.tags.own_readout
for rule, check in parametrize_with_checks([MedianSplit]).args[1]:
    check(rule)
rec = read_run({str(files[0])!r})
# a median split activates each unit for half the stimuli: activity ratio ~ 1/2
assert rec.status == "complete" and abs(rec.final["activity_ratio"] - 0.5) < 0.05, rec.final
assert load_rule({str(files[0])!r}).n_units == 256
"""], capture_output=True, text=True, env=env)
    assert check.returncode == 0, check.stderr


@pytest.fixture
def broken_entry_point(monkeypatch):
    """A plugin whose module does not import, beside the real entry points."""
    real = registry._entry_points()
    broken = metadata.EntryPoint(name="broken-rule", value="no_such_module_xyz:Rule",
                                 group=rules.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "_entry_points", lambda: [*real, broken])
    monkeypatch.setattr(registry, "_DISCOVERED", False)
    monkeypatch.setattr(registry, "_REGISTRY", {})
    monkeypatch.setattr(registry, "_PLUGIN_ERRORS", {})


def test_a_plugin_that_fails_to_import_is_reported_by_name(broken_entry_point, capsys):
    errors = rules.plugin_errors()
    assert list(errors) == ["broken-rule"]
    assert "no_such_module_xyz" in errors["broken-rule"]
    assert "relu-l1-fc" in rules.available_rules()  # the others still load
    with pytest.raises(rules.UnknownRuleError, match="'broken-rule' failed to load"):
        rules.get_rule("broken-rule")
    assert main(["list"]) == 0
    out = capsys.readouterr()
    assert "relu-l1-fc" in out.out
    assert "plugin rule 'broken-rule' failed to load" in out.err
    assert "Traceback" not in out.err


def test_config_naming_a_broken_plugin_exits_2(broken_entry_point, tmp_path, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("name: x\nmodel: {rule: broken-rule}\n")
    assert main(["run", str(cfg), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "'model.rule'" in err and "failed to load" in err and "Traceback" not in err
