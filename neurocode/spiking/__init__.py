"""Spiking-network engines: one model, two simulators that are tested to agree.

* :mod:`neurocode.spiking.diehl_cook` -- the Diehl & Cook (2015) network as data: its
  constants (:class:`DiehlCookModel`) and presentation protocol (:class:`Protocol`), in ms
  and mV;
* :mod:`neurocode.spiking.poisson` -- reproducible Poisson input spike trains (the same
  trains feed both engines);
* :mod:`neurocode.spiking.fast_engine` -- the fast engine: numba, event-driven, sequential
  over samples with STDP on, parallel over samples with frozen weights;
* :mod:`neurocode.spiking.brian2_engine` -- the reference engine: the same model written as
  Brian2 equations with units, on a chosen code-generation target.
"""

from neurocode.spiking.diehl_cook import DiehlCookModel, Protocol

__all__ = ["DiehlCookModel", "Protocol"]
