"""The CodingRule contract, the registry and the conformance suite itself."""

import numpy as np
import pytest

from neurocode import rules
from neurocode.params import Param
from neurocode.rules import CodingRule, NotFittedError, get_rule, register, registry
from neurocode.testing import check_rule

from conftest import registered_fixture


class Projection(CodingRule):
    """A minimal correct rule: top-k of a fixed random projection (binary)."""

    name = "test-projection"
    description = "top-k of a random projection (test rule)"
    code_kind = "binary"
    params = {"n_units": Param(int, 8, low=1, high=4096, doc="units"),
              "k": Param(int, 2, low=1, doc="active units")}
    test_params = {"random_state": 0}

    def _validate_together(self):
        if self.k > self.n_units:
            raise rules.ParamError(f"rule '{self.name}' parameter 'k' must be <= n_units")

    def _fit(self, X, y):
        self.weights_ = self._rng().standard_normal((X.shape[1], self.n_units))

    def _encode(self, X, mask):
        drive = X @ self.weights_
        drive[:, ~mask] = -np.inf
        top = np.argsort(-drive, axis=1)[:, :self.k]
        codes = np.zeros_like(drive)
        np.put_along_axis(codes, top, 1.0, axis=1)
        codes[:, ~mask] = 0
        return codes


registered = registered_fixture(Projection)


def test_a_correct_rule_passes_the_suite(registered):
    check_rule(Projection(random_state=0))


def test_constructor_is_explicit_and_only_stores():
    r = Projection(n_units=-5, random_state=1)  # stored, not checked yet
    assert r.n_units == -5 and r.k == 2
    with pytest.raises(TypeError, match="did you mean 'n_units'"):
        Projection(n_unit=3)
    with pytest.raises(ValueError, match="'n_units'.*out of range.*int in \\[1, 4096\\]"):
        r.fit(np.ones((4, 3)))
    with pytest.raises(ValueError, match="'k' must be <= n_units"):
        Projection(n_units=2, k=3).fit(np.ones((4, 3)))


class Leaky(Projection):
    """Breaks the contract: ignores unit_mask."""

    name = "test-leaky"

    def _encode(self, X, mask):
        return super()._encode(X, np.ones_like(mask))


class Unchecked(Projection):
    """Breaks the contract: never validates its parameters."""

    name = "test-unchecked"

    def _validate_params(self):
        pass


class Random(Projection):
    """Breaks the contract: ignores random_state."""

    name = "test-random"

    def _fit(self, X, y):
        self.weights_ = np.random.default_rng().standard_normal((X.shape[1], self.n_units))


@pytest.mark.parametrize("broken,message", [
    (Leaky, "fails check_unit_mask .*silenced units are active"),
    (Unchecked, "fails check_parameters_validated .*accepted"),
    (Random, "fails check_deterministic .*same random_state"),
])
def test_the_suite_catches_broken_rules(broken, message):
    with pytest.raises(AssertionError, match=message):
        check_rule(broken(random_state=0))


def test_registry_refuses_a_second_rule_of_the_same_name():
    class Other(Projection):
        name = "test-projection-dup"

    register(Other)
    try:
        class Impostor(Projection):
            name = "test-projection-dup"

        with pytest.raises(ValueError, match="already registered"):
            register(Impostor)
        register(Other)  # the same class again is harmless
    finally:
        registry._REGISTRY.pop("test-projection-dup")


def test_unknown_rule_suggests_close_names(registered):
    with pytest.raises(rules.UnknownRuleError, match="did you mean 'test-projection'"):
        get_rule("test-projecton")
    assert isinstance(get_rule("test-projection", n_units=4), Projection)


def test_not_fitted():
    with pytest.raises(NotFittedError):
        Projection(random_state=0).encode(np.ones((2, 3)))


def test_a_rule_without_tags_keeps_its_old_declarations():
    # Projection sets code_kind the old way: it is read into the tags, and back
    assert Projection.tags.code_kind == "binary" == Projection.code_kind
    assert not Projection.tags.uses_labels and Projection.supervised is False
    assert Leaky.tags == Projection.tags  # inherited


def test_each_check_runs_alone_on_an_unfitted_copy(registered):
    from neurocode.testing import CHECKS

    rule = Projection(random_state=0)
    for check in CHECKS:
        check(rule)
    with pytest.raises(NotFittedError):
        rule.encode(np.ones((2, 16)))  # the rule given was never fitted
