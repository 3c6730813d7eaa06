"""Diehl & Cook (2015): unsupervised digit recognition with STDP in a spiking network.

Source: P. U. Diehl and M. Cook (2015), "Unsupervised learning of digit recognition using
spike-timing-dependent plasticity", Frontiers in Computational Neuroscience 9:99,
doi:10.3389/fncom.2015.00099, and the authors' Brian 1 code, whose constants and protocol are
reproduced. The model and its simulators are one package:

* :mod:`~neurocode.models.diehl_cook.rule` -- the coding rule :class:`DiehlCook`, registered
  as ``diehl-cook``;
* :mod:`~neurocode.models.diehl_cook.network` -- the network as data: its constants
  (:class:`DiehlCookModel`) and presentation protocol (:class:`Protocol`), in ms and mV;
* :mod:`~neurocode.models.diehl_cook.poisson` -- reproducible Poisson input spike trains (the
  same trains feed every engine);
* :mod:`~neurocode.models.diehl_cook.fast_engine` -- the fast engine: numba, event-driven,
  sequential over samples with STDP on, parallel over samples with frozen weights;
* :mod:`~neurocode.models.diehl_cook.brian2_engine` -- the reference engine: the same model
  written as Brian2 equations with units, on a chosen code-generation target;
* :mod:`~neurocode.models.diehl_cook.torch_engine` -- frozen runs batched over samples in
  torch, on the CPU or a GPU.

The engines are tested to give the same spikes on the same input. Importing the package
imports neither numba nor Brian2 nor torch: the rule imports an engine when it first runs one.
The names below are importable from the package itself, as they were from the single module
(and the framework package ``neurocode.spiking``) that this package replaces.
"""

from __future__ import annotations

from neurocode.models.diehl_cook.network import (
    INTEGRATORS,
    REFRACTORINESS,
    DiehlCookModel,
    Protocol,
    StepConstants,
    delay_steps,
    max_delay_steps,
    timestep,
)
from neurocode.models.diehl_cook.rule import ENGINES, DiehlCook

__all__ = ["DiehlCook", "DiehlCookModel", "ENGINES", "INTEGRATORS", "Protocol", "REFRACTORINESS",
           "StepConstants", "delay_steps", "max_delay_steps", "timestep"]
