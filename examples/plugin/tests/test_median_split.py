"""The plugin's rule against neurocode's conformance suite: one test per check.

Run with ``pytest examples/plugin/tests`` once the plugin is installed (``pip install
examples/plugin``). A failing test's id names the broken property, e.g.
``test_conforms[median-split-check_silencing]``.
"""

from neurocode.testing import parametrize_with_checks

from neurocode_example_plugin import MedianSplit


@parametrize_with_checks([MedianSplit])  # built with MedianSplit.test_params
def test_conforms(rule, check):
    check(rule)
