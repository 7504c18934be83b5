"""The simulator: neuron groups, integrators, inputs and the runner."""

from . import initializers, inputs, rng
from .execution import Execution
from .integrators import METHODS, AdaptiveSettings
from .neurons import HH, NeuronGroup
from .runner import DSRunner, Monitors
from .spikes import firing_rates, spike_times

__all__ = ["initializers", "inputs", "rng", "METHODS", "AdaptiveSettings", "HH", "NeuronGroup",
           "DSRunner", "Monitors", "Execution", "firing_rates", "spike_times"]
