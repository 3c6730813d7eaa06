"""The built-in coding rules, installed as the package ``neurocode.models``.

One module per family of rules: :mod:`~neurocode.models.relu_l1` (the article's ReLU networks with
an L1 penalty), :mod:`~neurocode.models.lca`, :mod:`~neurocode.models.kwta`,
:mod:`~neurocode.models.foldiak`, :mod:`~neurocode.models.hebbian` (Oja, Sanger),
:mod:`~neurocode.models.sailnet`, :mod:`~neurocode.models.diehl_cook` (spiking, STDP),
:mod:`~neurocode.models.binary` (random k-of-N codes), :mod:`~neurocode.models.memory` (Willshaw,
Hopfield) and :mod:`~neurocode.models.local` (one unit per class). Every rule is registered through
the ``neurocode.rules`` entry-point group, as a plugin's would be, so :func:`neurocode.get_rule`
finds it by name.
"""
