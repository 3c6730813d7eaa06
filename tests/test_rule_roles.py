"""No rule name in framework code: what a rule is to the figures and the claims is in its tags
(issue 15).

A rule declares how figures draw it (``style``, ``legend_rank``), whether its codes are the
random k-of-N null (``random_null``), which of the article's networks it reproduces
(``article_network``) and the ``model.kind`` strings old run files stored for it
(``legacy_kinds``). Two plugin rules defined here, named by no table anywhere, declare them and
get the built-ins' treatment: their colour in the legends, the null band of the dose-response
figures, the null column of the claims, the article's FC claims, budget line and figures.

The scan of neurocode/ reads every string literal of every module (with :mod:`ast`, so
comments are never read) and fails on a built-in rule's name, alone or as a word inside a
longer string (prose, an f-string's text). Left out, and why:

* ``neurocode/rules/registry.py``: the registry is allowed to know names;
* docstrings (a module's, a class's, a function's first string), with the doctest examples
  in them: examples may build a rule by name (``get_rule("kofn")``);
* ``name = "..."`` in a class body: a rule declaring its own name (the framework's own rule,
  ``given-codes``, is defined in ``neurocode/codes.py``);
* the rule names that are also measures of the battery (``willshaw``, ``hopfield``:
  :data:`neurocode.metrics.battery.MEASURES`), in the modules that compute or read measures
  (:data:`MEASURE_MODULES`): there the word names the measure, not the rule.
"""

from __future__ import annotations

import ast
import re
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
from matplotlib.colors import is_color_like, to_hex, to_rgb
from matplotlib.markers import MarkerStyle

from neurocode.params import Param
from neurocode.rules import CodingRule, Tags, available_rules, rule_origin
from neurocode.rules.tags import ARTICLE_NETWORKS, MARKERS
from neurocode.store import write_battery, write_run

from conftest import rules_registered

FRAMEWORK = Path(__file__).resolve().parents[1] / "neurocode"
#: the modules that compute or read the battery's measures, where ``willshaw``/``hopfield``
#: name a measure (paths relative to neurocode/; a folder covers its modules)
MEASURE_MODULES = ("metrics/", "api.py", "codes.py", "figures/battery.py",
                   "figures/details.py", "figures/dose.py", "figures/comparison.py",
                   "claims/battery_claims.py")
EXEMPT = ("rules/registry.py",)


# -- the scan ----------------------------------------------------------------------------------
def _built_in_names() -> set[str]:
    return {n for n in available_rules() if rule_origin(n)["package"] == "neurocode"}


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)):
                out.add(id(body[0].value))
    return out


def _own_names(tree: ast.AST) -> set[int]:
    """The string of each ``name = "..."`` in a class body (a rule declaring its name)."""
    out = set()
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        for st in cls.body:
            target = (st.targets[0] if isinstance(st, ast.Assign) and len(st.targets) == 1
                      else st.target if isinstance(st, ast.AnnAssign) else None)
            if (isinstance(target, ast.Name) and target.id == "name"
                    and isinstance(st.value, ast.Constant)):
                out.add(id(st.value))
    return out


def rule_names_in(source: str, names: set[str], measures: set[str] = frozenset()
                  ) -> list[tuple[int, str, str]]:
    """``(line, name, literal)`` for each string literal of ``source`` that is or holds (as a
    word) one of ``names``, docstrings and a class's own ``name = ...`` left out; the names
    in ``measures`` are not looked for."""
    look = sorted(names - set(measures), key=len, reverse=True)
    if not look:
        return []
    word = re.compile(r"(?<![A-Za-z0-9_-])(" + "|".join(map(re.escape, look))
                      + r")(?![A-Za-z0-9_-])")
    tree = ast.parse(source)
    skip = _docstrings(tree) | _own_names(tree)
    out = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                and id(node) not in skip):
            out += [(node.lineno, m, node.value) for m in word.findall(node.value)]
    return sorted(out)


def test_the_scan_has_every_built_in_rule_to_look_for():
    names = _built_in_names()
    assert {"relu-l1-fc", "relu-l1-cnn", "relu-l1-conv-ae", "kofn", "kwta", "lca", "foldiak",
            "oja", "sanger", "diehl-cook", "sailnet", "hopfield", "willshaw", "local-class",
            "given-codes"} <= names


def test_the_scan_finds_a_table_of_rules_and_leaves_docstrings_alone():
    src = '''"""The module: get_rule("kofn") in an example."""
STYLES = {"kofn": ("#000000", "P"), "hopfield": ("#AA4499", "d")}  # a comment: kwta

class Rule:
    """Docstring naming lca."""
    name = "kwta"

def f(r):
    """A docstring: kofn."""
    x = "kwta"  # a comment, lca
    return f"(rule sanger) {r}" if r == "relu-l1-fc" else "a k-of-N null, kofnx"
'''
    names = {"kofn", "kwta", "lca", "sanger", "relu-l1-fc", "hopfield"}
    found = [(line, n) for line, n, _ in rule_names_in(src, names)]
    assert found == [(2, "hopfield"), (2, "kofn"), (10, "kwta"), (11, "relu-l1-fc"),
                     (11, "sanger")]
    assert [n for _, n, _ in rule_names_in(src, names, measures={"hopfield"})] == [
        "kofn", "kwta", "relu-l1-fc", "sanger"]


def test_no_rule_name_in_framework_code():
    from neurocode.metrics.battery import MEASURES

    names = _built_in_names()
    measures = names & set(MEASURES)
    assert measures == {"willshaw", "hopfield"}
    found = []
    for path in sorted(FRAMEWORK.rglob("*.py")):
        rel = path.relative_to(FRAMEWORK).as_posix()
        if rel in EXEMPT:
            continue
        skip = measures if rel.startswith(MEASURE_MODULES) else set()
        found += [f"neurocode/{rel}:{line}: {name!r} in {text[:70]!r}"
                  for line, name, text in rule_names_in(path.read_text(encoding="utf-8"),
                                                        names, skip)]
    assert not found, ("rule names in framework code (declare them in the rule's tags, "
                       "neurocode.rules.Tags, and read the tags):\n" + "\n".join(found))


# -- the vocabularies are matplotlib's -----------------------------------------------------------
def test_every_marker_a_style_may_name_is_a_matplotlib_marker():
    for m in MARKERS:
        assert m in MarkerStyle.markers, m
        MarkerStyle(m)


def test_the_built_in_styles_are_matplotlib_colours_and_distinct():
    built_in = {n: c for n, c in available_rules().items() if n in _built_in_names()}
    styles = {n: c.tags.style for n, c in built_in.items() if c.tags.style}
    assert len(styles) == 13
    for colour, _ in styles.values():
        assert is_color_like(colour) and to_hex(colour) == colour.lower()
    assert len(set(styles.values())) == len(styles)
    assert len({c for c, _ in styles.values()}) == len(styles)
    ranks = [c.tags.legend_rank for c in built_in.values() if c.tags.legend_rank is not None]
    assert sorted(ranks) == list(range(13))


def test_exactly_the_built_in_roles():
    from neurocode.results import article_rules, random_null_rules, rule_of_legacy_kind

    assert random_null_rules() == ("kofn",)
    assert [article_rules(n) for n in ARTICLE_NETWORKS] == [
        ("relu-l1-fc",), ("relu-l1-cnn",), ("relu-l1-conv-ae",)]
    # the kinds the run files of before stored (neurocode.results had them as a table)
    assert {k: rule_of_legacy_kind(k) for k in ("fc", "cnn", "ae", "conv-ae", "kwta")} == {
        "fc": "relu-l1-fc", "cnn": "relu-l1-cnn", "ae": "relu-l1-conv-ae",
        "conv-ae": "relu-l1-conv-ae", "kwta": None}
    with pytest.raises(ValueError, match="unknown article network 'lenet'.*'fc', 'cnn'"):
        article_rules("lenet")


def test_the_claims_names_read_the_tags():
    import neurocode.claims as claims

    assert (claims.FC, claims.CNN, claims.AE, claims.NULL_RULE) == (
        "relu-l1-fc", "relu-l1-cnn", "relu-l1-conv-ae", "kofn")
    with pytest.raises(AttributeError, match="no attribute 'GAN'"):
        claims.GAN  # noqa: B018


def test_a_rule_that_is_not_installed_has_no_role_and_the_fallback_style():
    from neurocode.figures.style import rule_order, rule_style
    from neurocode.results import article_network, is_random_null, rule_tags

    assert rule_tags("not-installed-rule") is None
    assert not is_random_null("not-installed-rule")
    assert article_network("not-installed-rule") is None
    st = rule_style("not-installed-rule")
    assert st == rule_style("not-installed-rule") and is_color_like(st.colour)
    assert rule_order("not-installed-rule")[0] == float("inf")


# -- two plugin rules, named by no table ---------------------------------------------------------
NULL_STYLE = ("#123456", "X")
NET_STYLE = ("#A1B2C3", "H")


class _Plugin(CodingRule):
    params: ClassVar[dict[str, Param]] = {"n_units": Param(int, 8, low=1),
                                          "k": Param(int, 1, low=1),
                                          "l1": Param(float, 0.0, low=0.0)}

    def _fit(self, X, y):
        pass

    def _encode(self, X, mask):
        return np.zeros((len(X), self.n_units))


class PluginNull(_Plugin):
    """A random code, declared the null (no rule name table knows it)."""

    name = "test-roles-null"
    tags = replace(Tags(), code_kind="binary", style=NULL_STYLE, random_null=True)


class PluginNet(_Plugin):
    """Declares that it reproduces the article's FC net, and an old kind of its own."""

    name = "test-roles-fc"
    tags = replace(Tags(), style=NET_STYLE, legend_rank=0, article_network="fc",
                   legacy_kinds=("test-roles-old-kind",))


KS = (1, 4, 16, 64, 128)
N = 256
LAMBDAS = ((0.0, 300.0), (1e-4, 12.0), (1e-3, 3.0))   # (lambda, AVR) of the plugin's "FC net"


def _auc(a: float, seed: int) -> float:
    return 0.5 + 0.4 * a ** 0.3 + 0.01 * (seed - 1)


def _battery(n: int, k: float, seed: int) -> dict:
    a = k / n
    return {"activity": {"avr": float(k), "n_units": float(n), "activity_ratio": a,
                         "dead_fraction": 0.0, "code_type": "x"},
            "fault": {"auc_random": _auc(a, seed), "chance": 0.1, "accuracy_intact": 0.9}}


def _run(root: Path, exp: str, model: dict, n: int, k: float, seed: int, *,
         accuracy: float | None = None, iterations: int | None = None,
         curves: bool = False) -> None:
    name = ",".join(f"{p}={v}" for p, v in model.items() if p not in ("rule", "kind"))
    name += f",seed={seed}"
    config = {"name": exp, "seed": seed, "model": {**model, "n_units": n},
              "data": {"dataset": "mnist"}}
    if iterations is not None:
        config["train"] = {"iterations": iterations}
    final = {"avr": float(k), "n_units": float(n), "activity_ratio": k / n}
    if accuracy is not None:
        final["accuracy"] = accuracy
    c = {}
    if curves:
        c = {"step": np.array([0, 50, 100]), "accuracy": np.array([0.1, 0.9, accuracy]),
             "avr": np.array([n / 2, 2 * k, k]), "loss_ce": np.array([2.3, 0.3, 0.1])}
    path = write_run(root / exp / f"{name}.h5", config=config, experiment=exp, run_name=name,
                     seed=seed, curves=c, final=final)
    write_battery(path, _battery(n, k, seed))


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("roles")
    for k in KS:
        for seed in range(3):
            _run(root, "plugin_null", {"rule": PluginNull.name, "k": k}, N, k, seed)
            _run(root, "kwta_256", {"rule": "kwta", "k": k}, N, k, seed)
    for lam, avr in LAMBDAS:
        for seed in range(3):
            _run(root, "plugin_fc", {"rule": PluginNet.name, "l1": lam}, 784,
                 avr * (1 + 0.02 * seed), seed, accuracy=0.97, iterations=100, curves=True)
    return root


@pytest.fixture(scope="module")
def runs(results):
    from neurocode.results import load_results

    return load_results(results)


@pytest.fixture()
def registered():
    """The two plugins, registered while a test runs (then removed)."""
    with rules_registered(PluginNull, PluginNet):
        yield


def test_the_plugins_roles_come_from_their_tags(registered):
    from neurocode.claims.verdicts import article_rule, null_rule
    from neurocode.figures.article_runs import ARTICLE_RULES
    from neurocode.figures.style import RuleStyle, rule_order, rule_style
    from neurocode.results import article_rules, random_null_rules

    assert rule_style(PluginNull.name) == RuleStyle(*NULL_STYLE)
    assert rule_style(PluginNet.name) == RuleStyle(*NET_STYLE)
    assert random_null_rules() == ("kofn", PluginNull.name)   # the built-in first
    assert article_rules("fc") == ("relu-l1-fc", PluginNet.name)
    assert (article_rule("fc"), null_rule()) == ("relu-l1-fc", "kofn")
    assert ARTICLE_RULES[PluginNet.name] == "fc" and PluginNull.name not in ARTICLE_RULES
    # rank 0 ties with the FC net's: by name, after it
    assert sorted([PluginNull.name, "kwta", PluginNet.name, "relu-l1-fc"], key=rule_order) == [
        "relu-l1-fc", PluginNet.name, "kwta", PluginNull.name]


def test_an_old_run_file_of_the_plugins_kind_is_read_as_its_run(registered, tmp_path):
    from neurocode.results import RunResult

    def old(kind):
        return RunResult(tmp_path, "old", "run", {"model": {"kind": kind}}, {}, {})

    assert old("test-roles-old-kind").rule == PluginNet.name
    assert old("fc").rule == "relu-l1-fc" and old("no-such-kind").rule == "unknown"


def _dose_legend(fig):
    (legend,) = fig.legends
    return list(zip(legend.legend_handles, [t.get_text() for t in legend.get_texts()],
                    strict=True))


def test_the_dose_figure_draws_the_plugin_null_as_the_null(registered, runs):
    from neurocode.figures.dose import dose_figures

    fig = dose_figures(runs)["dose_fault"]
    (ax,) = fig.axes
    entries = _dose_legend(fig)
    # the null comes first, labelled as the null, drawn as a band and a line in its colour
    assert entries[0][1].startswith(f"random k-of-N null, N = {N} (plugin_null)")
    assert sum(t.startswith("random k-of-N null") for _, t in entries) == 1
    gid = f"family-plugin_null-{PluginNull.name}-N{N}"
    assert any(c.get_gid() == gid + "-band" for c in ax.collections)
    drawn = next(ln for ln in ax.lines if ln.get_gid() == gid)
    assert to_hex(drawn.get_color()) == NULL_STYLE[0].lower()
    assert drawn.get_marker() == NULL_STYLE[1]
    # the FC plugin: a family line in its colour and marker, in the legend too
    fc = [h for h, t in entries if t.startswith(f"{PluginNet.name}, N = 784")]
    assert len(fc) == 1 and to_hex(fc[0].get_color()) == NET_STYLE[0].lower()
    assert fc[0].get_marker() == NET_STYLE[1]
    caption = " ".join(fig.get_supxlabel().split())
    assert f"random k-of-N null (rule {PluginNull.name}) of the same N" in caption
    assert "kofn" not in caption


def test_the_sum_up_figure_legend_has_the_plugins_colours(registered, runs):
    from neurocode.figures.summary import summary_figures

    fig = summary_figures(runs)["summary_properties"]
    (legend,) = fig.legends
    seen = {}
    for h, t in zip(legend.legend_handles, legend.get_texts(), strict=True):
        rule = t.get_text().split(" ")[0]
        seen.setdefault(rule, set()).add((to_hex(h.get_color()), h.get_marker()))
    assert seen[PluginNull.name] == {(NULL_STYLE[0].lower(), NULL_STYLE[1])}
    assert seen[PluginNet.name] == {(NET_STYLE[0].lower(), NET_STYLE[1])}
    assert seen["kwta"] == {("#e69f00", "^")}
    # legend order: the FC plugin (rank 0) first, kwta (4), then the unranked null
    order = list(dict.fromkeys(t.get_text().split(" ")[0] for t in legend.get_texts()))
    assert order == [PluginNet.name, "kwta", PluginNull.name]


def test_the_claims_read_the_plugin_null_beside_each_level(registered, runs):
    from neurocode.claims import CLAIMS

    claim9 = next(c for c in CLAIMS if c.id == 9)
    v = claim9.evaluate(runs, sensitivity=False)
    col = v.columns.index("random k-of-N null")
    kwta = [row for row in v.rows if "kwta_256" in str(row[0])]
    assert len(kwta) == len(KS)
    for row in kwta:
        a = row[3]
        # the null's level at the same activity: the mean of its seeds' AUCs, which the
        # battery above makes 0.5 + 0.4 a^0.3 (the seeds' offsets average to 0)
        assert row[col] == pytest.approx(np.mean([_auc(a, s) for s in range(3)]))
        assert row[col] == pytest.approx(0.5 + 0.4 * a ** 0.3)
    null_rows = [row for row in v.rows if "plugin_null" in str(row[0])]
    assert null_rows and all(np.isnan(row[col]) for row in null_rows)  # never its own null


def test_the_claims_and_the_report_read_the_plugin_as_the_fc_net(registered, runs):
    from neurocode.claims import CLAIMS
    from neurocode.report import _budget_line

    claim1 = next(c for c in CLAIMS if c.id == 1)
    v = claim1.evaluate(runs, sensitivity=False)
    assert v.verdict != "not tested", v.needs
    assert f"plugin_fc ({PluginNet.name}, N = 784)" in v.design
    assert _budget_line(runs) == ("Budget: the FC net trained 100 of the article's 20,000 "
                                  "iterations (3 seeds).")
    # without the plugin installed its runs are nobody's FC net
    from neurocode.rules import registry

    saved = registry._REGISTRY.pop(PluginNet.name)
    try:
        assert claim1.evaluate(runs, sensitivity=False).verdict == "not tested"
        assert _budget_line(runs) == "Budget: no run of the article's networks in these results."
    finally:
        registry._REGISTRY[PluginNet.name] = saved


def test_the_article_figures_draw_the_plugins_runs_as_the_fc_net(registered, results):
    from neurocode.figures.article import make_figures
    from neurocode.figures.article_runs import _is_article_run, _to_run
    from neurocode.results import load_results

    recs = [r for r in load_results(results) if r.rule == PluginNet.name]
    assert recs and all(_is_article_run(r) and _to_run(r).kind == "fc" for r in recs)
    assert not any(_is_article_run(r) for r in load_results(results) if r.rule == "kwta")
    assert {"plugin_fc_curves", "plugin_fc_tradeoff"} <= set(make_figures(results))


def test_colours_are_checked_against_matplotlib():
    # what the tags accept is a colour matplotlib draws; what they refuse, some are too, but
    # not as '#RRGGBB' (a named colour, a short hex): refused with the reason
    ok = Tags(style=("#abcdef", "o"))
    assert not ok.problems() and is_color_like(ok.style[0])
    for colour in ("red", "#abc", "C0"):
        assert is_color_like(colour)
        (field, why), = Tags(style=(colour, "o")).problems()
        assert field == "style" and "is not a hex colour '#RRGGBB'" in why
    assert to_rgb("#0072B2") == to_rgb("#0072b2")
