"""check_rule over every registered rule, built-in and plugin (the rule contract)."""

import pytest

from neurocode.rules import available_rules, plugin_errors
from neurocode.testing import check_rule

RULES = available_rules()


def test_no_builtin_rule_failed_to_load():
    assert plugin_errors() == {}


@pytest.mark.parametrize("name", sorted(RULES))
def test_rule_conforms(name):
    cls = RULES[name]
    check_rule(cls(**cls.test_params))
