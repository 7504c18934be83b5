"""BrainPy-compatible names: ``bp.dyn.HH``, ``bp.dyn.NeuronGroup`` and ``bp.dyn.DSRunner``."""

from ..simulate.neurons import HH, NeuronGroup
from ..simulate.runner import DSRunner

__all__ = ["HH", "NeuronGroup", "DSRunner"]
