"""neurocode: neural coding rules side by side, measured.

The public surface: build a rule by name (:func:`get_rule`), list them
(:func:`available_rules`), write one (:class:`CodingRule` with :class:`Param` declarations),
save and reload fitted rules (:func:`save_rule`, :func:`load_rule`).
"""

from neurocode.params import Param
from neurocode.rules import (
    CodingRule,
    available_rules,
    get_rule,
    load_rule,
    plugin_errors,
    save_rule,
)

__version__ = "0.1.0"

__all__ = ["CodingRule", "Param", "available_rules", "get_rule", "load_rule", "plugin_errors",
           "save_rule", "__version__"]
