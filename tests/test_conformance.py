"""check_rule over every registered rule, built-in and plugin (the rule contract)."""

import pytest

from neurocode.rules import available_rules, plugin_errors
from neurocode.testing import check_rule

RULES = available_rules()


def test_no_builtin_rule_failed_to_load():
    assert plugin_errors() == {}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(RULES))
def test_rule_conforms(name):
    cls = RULES[name]
    check_rule(cls(**cls.test_params))


@pytest.mark.parametrize("name", sorted(RULES))
def test_receptive_fields_are_one_row_per_unit(name):
    import numpy as np

    cls = RULES[name]
    rule = cls(**cls.test_params)
    if hasattr(cls, "conformance_data"):
        X, y = cls.conformance_data(60)
    else:
        rng = np.random.default_rng(0)
        X, y = rng.random((60, 16)), rng.integers(0, 3, 60)
    rule.fit(X, y if rule.supervised else None)
    fields = rule.receptive_fields()
    if fields is not None:
        assert fields.shape == (rule.n_units, X.shape[1])
        assert np.isfinite(fields).all()
