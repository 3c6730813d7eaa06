"""Rules declare what they offer (neurocode.rules.Tags) and the framework reads the declarations.

One table states every built-in rule's tags, so a change to one is deliberate. A plugin rule
defined here, with its own tags and no table anywhere naming it, gets the battery's own
readout, sync/async support, a legend label with its parameter, the runner's fit options and
vectorised training over its sparsity parameter. Wrong tags are refused when the class is
created, naming the rule and the field; the conformance checks hold a rule to its tags.
"""

from dataclasses import replace
from typing import Any, ClassVar

import numpy as np
import pytest

from neurocode import rules
from neurocode.config import RunSpec
from neurocode.data.prepare import Dataset
from neurocode.params import Param
from neurocode.rules import CodingRule, Tags, available_rules, get_rule
from neurocode.testing import (
    CHECKS,
    check_own_readout,
    check_rule,
    check_silencing,
    check_update_modes,
    parametrize_with_checks,
)

from conftest import registered_fixture

FIT_ALL = ("validation_data", "device", "progress", "callback")
WATCH = ("callback",)   # the watched code after each pass (neurocode.watch)

#: Every built-in rule's tags, as declared in models/. Changing a declaration means changing
#: this table: the measures, the runner and the figures read these.
BUILT_IN = {
    "relu-l1-fc": dict(code_kind="rate", uses_labels=True, own_readout=True, silencing="dropped",
                       fit_options=FIT_ALL, sparsity_param="l1", legend_params=("l1",),
                       style=("#0072B2", "o"), legend_rank=0, article_network="fc",
                       legacy_kinds=("fc",)),
    "relu-l1-cnn": dict(code_kind="rate", uses_labels=True, own_readout=True, silencing="dropped",
                        fit_options=FIT_ALL, sparsity_param="l1", legend_params=("l1",),
                        style=("#56B4E9", "s"), legend_rank=1, article_network="cnn",
                        legacy_kinds=("cnn",)),
    "relu-l1-conv-ae": dict(code_kind="rate", uses_labels=True, own_readout=True,
                            silencing="dropped", fit_options=FIT_ALL, sparsity_param="l1",
                            legend_params=("decoder", "l1"), style=("#332288", "D"),
                            legend_rank=2, article_network="conv-ae",
                            legacy_kinds=("ae", "conv-ae")),
    "lca": dict(code_kind="rate", silencing="resettles", sparsity_param="lam",
                legend_params=("lam",), fit_options=WATCH, style=("#009E73", "v"), legend_rank=5),
    "kwta": dict(code_kind="binary", silencing="recompetes", sparsity_param="k",
                 legend_params=("k",), fit_options=WATCH, style=("#E69F00", "^"), legend_rank=4),
    "kofn": dict(code_kind="binary", silencing="recompetes", silencing_param="silenced",
                 sparsity_param="k", legend_params=("preset", "k"), style=("#000000", "P"),
                 legend_rank=3, random_null=True),
    "foldiak": dict(code_kind="binary", silencing="resettles", sparsity_param="p",
                    fit_options=WATCH, style=("#CC79A7", "<"), legend_rank=6),
    "oja": dict(code_kind="rate", silencing="dropped", fit_options=WATCH, style=("#D55E00", ">"),
                legend_rank=7),
    "sanger": dict(code_kind="rate", silencing="dropped", fit_options=WATCH,
                   style=("#882255", "h"), legend_rank=8),
    "willshaw": dict(code_kind="binary", input_domain="binary", silencing="resettles",
                     style=("#CC6677", "8"), legend_rank=12),
    "hopfield": dict(code_kind="binary", input_domain="binary", silencing="resettles",
                     update_modes=("sync", "async"), style=("#AA4499", "d"), legend_rank=11),
    "diehl-cook": dict(code_kind="spike-count", uses_labels=True, own_readout=True,
                       input_domain="nonnegative", silencing="resettles",
                       fit_options=("progress", "callback"), style=("#44AA99", "*"),
                       legend_rank=9),
    "sailnet": dict(code_kind="spike-count", silencing="resettles", sparsity_param="p",
                    fit_options=WATCH, style=("#999933", "p"), legend_rank=10),
    "local-class": dict(code_kind="binary", uses_labels=True, own_readout=True,
                        silencing="dropped", silencing_param="silenced"),
}


def _built_ins() -> dict[str, type[CodingRule]]:
    return {k: c for k, c in available_rules().items()
            if c.__module__.startswith("neurocode.models")}


def test_the_table_covers_every_built_in_rule():
    assert sorted(_built_ins()) == sorted(BUILT_IN)


@pytest.mark.parametrize("name", sorted(BUILT_IN))
def test_built_in_tags_are_the_table(name):
    cls = _built_ins()[name]
    assert cls.tags == Tags(**BUILT_IN[name])
    assert cls._tags_declared, f"{name} declares no tags of its own (derived ones)"
    # the old attributes stay readable, derived from the tags
    assert cls.code_kind == cls.tags.code_kind and cls.supervised == cls.tags.uses_labels


#: The colour and marker of each built-in rule, as neurocode.figures.style.RULE_STYLES held
#: them before the rules declared them (in its order, which was the legend order): every
#: figure must draw them as before.
OLD_RULE_STYLES = {
    "relu-l1-fc": ("#0072B2", "o"), "relu-l1-cnn": ("#56B4E9", "s"),
    "relu-l1-conv-ae": ("#332288", "D"), "kofn": ("#000000", "P"), "kwta": ("#E69F00", "^"),
    "lca": ("#009E73", "v"), "foldiak": ("#CC79A7", "<"), "oja": ("#D55E00", ">"),
    "sanger": ("#882255", "h"), "diehl-cook": ("#44AA99", "*"), "sailnet": ("#999933", "p"),
    "hopfield": ("#AA4499", "d"), "willshaw": ("#CC6677", "8"),
}


def test_styles_and_legend_order_of_built_ins_are_those_of_the_old_table():
    from neurocode.figures.style import RuleStyle, rule_order, rule_style

    for name in BUILT_IN:
        if name in OLD_RULE_STYLES:
            assert rule_style(name) == RuleStyle(*OLD_RULE_STYLES[name]), name
    # a built-in rule with no style of its own gets the fallback derived from its name, as
    # before (the CRC-32 of the name, indexing these two tuples)
    import zlib

    from neurocode.figures import style

    h = zlib.crc32(b"local-class")
    assert rule_style("local-class") == RuleStyle(
        style._FALLBACK_COLOURS[h % 11], style._FALLBACK_MARKERS[(h // 11) % 12])
    shuffled = ["local-class", *reversed(OLD_RULE_STYLES), "aa-not-installed"]
    assert sorted(shuffled, key=rule_order) == [*OLD_RULE_STYLES, "aa-not-installed",
                                                "local-class"]


def test_legend_parameters_of_built_ins_are_those_of_the_old_table():
    from neurocode.figures.style import legend_params, run_legend

    old = {"relu-l1-fc": ("l1",), "relu-l1-cnn": ("l1",), "relu-l1-conv-ae": ("decoder", "l1"),
           "kofn": ("preset", "k"), "kwta": ("k",), "lca": ("lam",)}
    for name in BUILT_IN:
        assert legend_params(name) == old.get(name, ())
    assert run_legend("relu-l1-fc", "run", {"l1": 1e-4}) == "relu-l1-fc λ=1e-4"
    assert run_legend("kofn", "seed=0", {"preset": "sparse", "k": 10}) == "kofn preset=sparse, k=10"


def test_silencing_kind_follows_the_silencing_parameter():
    assert get_rule("kofn").silencing_kind() == "recompetes"
    assert get_rule("kofn", silenced="dropped").silencing_kind() == "dropped"
    assert get_rule("local-class").silencing_kind() == "dropped"
    assert get_rule("local-class", silenced="replaced").silencing_kind() == "recompetes"
    assert get_rule("lca").silencing_kind() == "resettles"


def test_diehl_cook_has_its_classifier_only_when_fitted_with_labels():
    X = np.zeros((20, 16))
    X[::2, :8] = 1.0
    X[1::2, 8:] = 1.0
    y = np.arange(20) % 2
    kw = dict(n_e=4, w_sum=8.0, t_present=50.0, t_rest=10.0, n_jobs=1, random_state=0)
    assert get_rule("diehl-cook", **kw).fit(X, y).has_own_readout()
    assert not get_rule("diehl-cook", **kw).fit(X).has_own_readout()


# -- a plugin rule that declares everything ----------------------------------------------------
class AlphaRule(CodingRule):
    """A fraction ``alpha`` of the units (the largest drives of a random projection) fire; its
    own classifier scores each class by the overlap with the class's mean code. Feed-forward,
    so both update modes give the same code."""

    name = "test-alpha-rule"
    description = "top alpha*N of a random projection, with a class-mean classifier (test rule)"
    tags = replace(CodingRule.tags, code_kind="binary", uses_labels=True, own_readout=True,
                   update_modes=("sync", "async"), silencing="recompetes",
                   fit_options=("validation_data", "progress", "callback"),
                   sparsity_param="alpha", legend_params=("alpha",))
    params: ClassVar[dict[str, Param]] = {
        "n_units": Param(int, 8, low=1, high=4096, doc="units"),
        "alpha": Param(float, 0.25, low=0.0, high=1.0, doc="fraction of units active"),
        "update": Param(str, "sync", choices=("sync", "async"), doc="update mode"),
    }
    test_params: ClassVar[dict[str, Any]] = {"random_state": 0}

    def _fit(self, X, y, validation_data=None, progress=None, callback=None):
        self.W_ = self._rng().standard_normal((X.shape[1], self.n_units))
        codes = self._encode(X, np.ones(self.n_units, dtype=bool))
        self.classes_ = np.unique(y)
        self.M_ = np.stack([codes[y == c].mean(axis=0) for c in self.classes_])
        self._given = {"validation_data": validation_data, "progress": progress}
        if callback is not None:
            callback(1, {"train_accuracy": float((self.predict(X) == y).mean())})
        self.curves_ = {"step": np.array([1])}

    def _encode(self, X, mask):
        k = max(1, round(self.alpha * self.n_units))
        drive = X @ self.W_
        drive[:, ~mask] = -np.inf
        alive = int(mask.sum())
        codes = np.zeros_like(drive)
        if alive:
            top = np.argsort(-drive, axis=1, kind="stable")[:, :min(k, alive)]
            np.put_along_axis(codes, top, 1.0, axis=1)
        return codes

    def decision_function(self, X, unit_mask=None):
        return self.encode(X, unit_mask) @ self.M_.T

    def predict(self, X, unit_mask=None):
        return self.classes_[self.decision_function(X, unit_mask).argmax(axis=1)]

    @classmethod
    def fit_many(cls, rules, X, y, validation_data=None, device="cpu", progress=None):
        for r in rules:
            r.fit(X, y, validation_data=validation_data, progress=progress)
        return [None] * len(rules)


registered = registered_fixture(AlphaRule, autouse=True)


def _data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    X = rng.random((n, 16)) * 0.5
    X[np.arange(n), y] += 1.0
    return X, y


@parametrize_with_checks([AlphaRule])
def test_the_plugin_rule_passes_each_check(rule, check):
    check(rule)


def test_parametrize_with_checks_gives_one_test_per_check():
    mark = parametrize_with_checks([AlphaRule, AlphaRule(alpha=0.5, random_state=1)])
    names, params = mark.args
    assert names == "rule, check" and len(params) == 2 * len(CHECKS)
    ids = mark.kwargs["ids"]
    assert ids[0] == "test-alpha-rule-check_metadata" and len(set(ids)) == len(CHECKS)


def test_the_battery_reads_the_plugin_by_its_own_classifier():
    from neurocode.metrics.readout import fit_readout

    X, y = _data()
    rule = AlphaRule(random_state=0).fit(X, y)
    ro = fit_readout(rule, X, y)
    assert ro.kind == "own classifier" and ro.probe is None
    np.testing.assert_array_equal(ro.scores(X), rule.decision_function(X))


def test_a_rule_that_declares_no_own_readout_is_read_by_a_probe():
    from neurocode.metrics.readout import fit_readout

    class Probed(AlphaRule):  # same methods, but says its classifier is not for the battery
        name = "test-alpha-probed"
        tags = replace(AlphaRule.tags, own_readout=False)

    X, y = _data()
    assert fit_readout(Probed(random_state=0).fit(X, y), X, y).kind == "linear probe"


def test_the_plugin_gets_sync_async_support():
    from neurocode.metrics.parallel import supports_update_modes, sync_async_difference

    X, y = _data()
    rule = AlphaRule(random_state=0).fit(X, y)
    assert supports_update_modes(rule)
    out = sync_async_difference(rule, X, max_stimuli=50)
    assert out["supported"] == 1.0 and out["fraction_different"] == 0.0  # feed-forward
    assert not supports_update_modes(get_rule("lca"))


def test_the_plugin_gets_a_legend_label_with_its_parameter():
    from neurocode.figures.style import legend_params, run_legend

    assert legend_params("test-alpha-rule") == ("alpha",)
    assert run_legend("test-alpha-rule", "run", {"rule": "test-alpha-rule", "alpha": 0.5}) \
        == "test-alpha-rule alpha=0.5"
    # results of a rule that is not installed still get a legend, from their label
    assert run_legend("not-installed-rule", "run", {"alpha": 0.5}) == "not-installed-rule"


def _spec(alpha=0.25, seed=0):
    return RunSpec("tags", f"alpha={alpha}", {
        "name": "tags", "seed": seed, "data": {"dataset": "synthetic"},
        "model": {"rule": "test-alpha-rule", "n_units": 8, "alpha": alpha, "update": "sync"}})


def test_the_runner_passes_the_declared_fit_options(monkeypatch):
    from neurocode import runner
    from neurocode.data import prepare

    Xtr, ytr = _data(120, 0)
    Xte, yte = _data(60, 1)
    monkeypatch.setattr(prepare, "load_data",
                        lambda data, seed=0: Dataset(Xtr, ytr, Xte, yte, None))
    seen = []
    out = runner.execute(_spec(), device="cuda", progress=True,
                         on_eval=lambda step, row: seen.append((step, row)))
    assert out.status == "complete", out.reason
    given = out.rule._given
    assert given["progress"] is True
    assert given["validation_data"][0] is Xte and given["validation_data"][1] is yte
    assert seen and seen[0][0] == 1  # the callback
    assert 0.0 <= out.final["accuracy"] <= 1.0  # its own classifier's test accuracy


def test_the_runner_vectorises_over_the_sparsity_parameter():
    from neurocode.runner import vector_key

    a, b, c = _spec(0.25), _spec(0.5), _spec(0.5, seed=1)
    assert vector_key(a) is not None and vector_key(a) == vector_key(b) != vector_key(c)
    assert vector_key(RunSpec("x", "run", {"model": {"rule": "kwta", "k": 4}})) is None


# -- wrong tags are refused when the class is created ------------------------------------------
class _Base(CodingRule):
    name = "test-tags-base"
    params: ClassVar[dict[str, Param]] = {"n_units": Param(int, 4, low=1),
                                          "k": Param(int, 1, low=1)}

    def _fit(self, X, y, progress=None):
        pass

    def _encode(self, X, mask):
        return np.zeros((len(X), self.n_units))


@pytest.mark.parametrize("tags,field", [
    (dict(code_kind="analog"), "code_kind"),
    (dict(input_domain="complex"), "input_domain"),
    (dict(silencing="vanishes"), "silencing"),
    (dict(sparsity_param="alpha"), "sparsity_param"),
    (dict(legend_params=("k", "beta")), "legend_params"),
    (dict(legend_params="k"), "legend_params"),
    (dict(update_modes=("sync", "async")), "update_modes"),  # no 'update' parameter
    (dict(update_modes=("sync",)), "update_modes"),
    (dict(own_readout=True), "own_readout"),  # no decision_function
    (dict(fit_options=("validation_data",)), "fit_options"),  # _fit does not take it
    (dict(fit_options=("warm_start",)), "fit_options"),  # not an option the runner offers
    (dict(silencing_param="k", silencing="dropped"), "silencing_param"),  # k has no choices
    (dict(uses_labels="yes"), "uses_labels"),
    (dict(style=("red", "o")), "style"),  # a colour name, not '#RRGGBB'
    (dict(style=("#0072B", "o")), "style"),  # five hex digits
    (dict(style=("#0072B2", "Q")), "style"),  # not a matplotlib marker
    (dict(style=("#0072B2",)), "style"),
    (dict(style="#0072B2"), "style"),
    (dict(legend_rank=-1), "legend_rank"),
    (dict(legend_rank=1.5), "legend_rank"),
    (dict(legend_rank=True), "legend_rank"),
    (dict(random_null=1), "random_null"),
    (dict(random_null=True), "random_null"),  # a rate code cannot be the random k-of-N null
    (dict(article_network="lenet"), "article_network"),
    (dict(legacy_kinds="fc"), "legacy_kinds"),
    (dict(legacy_kinds=("fc", "fc")), "legacy_kinds"),
    (dict(legacy_kinds=("",)), "legacy_kinds"),
])
def test_wrong_tags_are_refused_at_class_creation(tags, field):
    with pytest.raises(TypeError, match=rf"rule 'test-tags-wrong'.*tags\.{field}"):
        type("Wrong", (_Base,), {"name": "test-tags-wrong", "tags": replace(_Base.tags, **tags)})


def test_tags_that_are_not_tags_or_contradict_the_old_attributes_are_refused():
    with pytest.raises(TypeError, match="'test-tags-wrong'.*must be a neurocode.rules.Tags"):
        type("Wrong", (_Base,), {"name": "test-tags-wrong", "tags": {"code_kind": "binary"}})
    with pytest.raises(TypeError, match="code_kind = 'rate' contradicts tags.code_kind"):
        type("Wrong", (_Base,), {"name": "test-tags-wrong", "code_kind": "rate",
                                 "tags": replace(_Base.tags, code_kind="binary")})
    with pytest.raises(TypeError, match="code_kind must be one of"):
        type("Wrong", (_Base,), {"name": "test-tags-wrong", "code_kind": "analog"})


def test_declared_options_are_fine_and_the_old_attributes_still_set_tags():
    ok = type("Ok", (_Base,), {"name": "test-tags-ok", "tags": replace(
        _Base.tags, fit_options=("progress",), sparsity_param="k", legend_params=("k",))})
    assert ok.tags.fit_options == ("progress",)
    roles = type("Roles", (_Base,), {"name": "test-tags-roles", "tags": replace(
        _Base.tags, code_kind="binary", style=["#abcdef", "X"], legend_rank=0, random_null=True,
        article_network="conv-ae", legacy_kinds=["old"])})
    assert roles.tags.style == ("#abcdef", "X") and roles.tags.legacy_kinds == ("old",)
    old = type("Old", (_Base,), {"name": "test-tags-old", "code_kind": "binary",
                                 "supervised": True})
    assert old.tags.code_kind == "binary" and old.tags.uses_labels and old.code_kind == "binary"


def test_a_rule_without_tags_gets_what_was_read_from_it_before():
    class Legacy(CodingRule):  # written before tags: the old conventions, read once, into tags
        name = "test-legacy"
        code_kind = "spike-count"
        supervised = True
        params: ClassVar[dict[str, Param]] = {
            "n_units": Param(int, 4, low=1), "l1": Param(float, 0.0, low=0.0),
            "update": Param(str, "sync", choices=("sync", "async"))}

        def _fit(self, X, y, validation_data=None, device="cpu"):
            pass

        def decision_function(self, X, unit_mask=None):
            return np.zeros((len(X), 2))

        @classmethod
        def fit_many(cls, rules, X, y, **kw):
            return [None] * len(rules)

    assert not Legacy._tags_declared
    assert Legacy.tags == Tags(code_kind="spike-count", uses_labels=True, own_readout=True,
                               update_modes=("sync", "async"),
                               fit_options=("validation_data", "device"), sparsity_param="l1")


# -- the checks hold a rule to its tags ---------------------------------------------------------
def test_a_rule_that_recompetes_but_declares_dropped_fails_check_silencing():
    lying = type("Lying", (AlphaRule,), {"name": "test-alpha-lying",
                                         "tags": replace(AlphaRule.tags, silencing="dropped")})
    with pytest.raises(AssertionError, match="fails check_silencing.*'dropped'"):
        check_silencing(lying(alpha=0.5, random_state=0))


def test_a_rule_that_drops_but_declares_recompetes_fails_check_silencing():
    class Drops(AlphaRule):
        name = "test-alpha-drops"

        def _encode(self, X, mask):
            return super()._encode(X, np.ones_like(mask)) * mask

    with pytest.raises(AssertionError, match="fails check_silencing.*activity is not kept"):
        check_silencing(Drops(alpha=0.5, random_state=0))


def test_an_own_readout_of_the_wrong_shape_fails_check_own_readout():
    class OneScore(AlphaRule):
        name = "test-alpha-one-score"

        def decision_function(self, X, unit_mask=None):
            return super().decision_function(X, unit_mask)[:, :1]

    with pytest.raises(AssertionError, match=r"fails check_own_readout.*\(n_samples, n_classes\)"):
        check_own_readout(OneScore(random_state=0))


def test_an_update_mode_that_breaks_fails_check_update_modes():
    class AsyncBreaks(AlphaRule):
        name = "test-alpha-async-breaks"

        def _encode(self, X, mask):
            codes = super()._encode(X, mask)
            return codes if self.update == "sync" else codes[:, :-1]

    with pytest.raises(AssertionError, match="fails check_update_modes.*update='async'"):
        check_update_modes(AsyncBreaks(random_state=0))


def test_check_rule_names_the_check_that_fails():
    class Leaky(AlphaRule):
        name = "test-alpha-leaky"

        def _encode(self, X, mask):
            return super()._encode(X, np.ones_like(mask))

    with pytest.raises(AssertionError, match="'test-alpha-leaky' fails check_unit_mask"):
        check_rule(Leaky(random_state=0))
    check_rule(AlphaRule(random_state=0))  # the honest one passes all of them


def test_tags_are_exported():
    assert "Tags" in rules.__all__ and rules.Tags is Tags
