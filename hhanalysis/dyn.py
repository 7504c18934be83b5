"""BrainPy-compatible names: ``hh.dyn.HH`` and ``hh.dyn.DSRunner``."""

from .simulate.neurons import HH, NeuronGroup
from .simulate.runner import DSRunner

__all__ = ["HH", "NeuronGroup", "DSRunner"]
