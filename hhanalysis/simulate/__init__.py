"""The simulator: neuron groups, integrators, inputs and the runner."""

from . import initializers, inputs, resources, rng
from .execution import Execution
from .integrators import METHODS, AdaptiveSettings
from .neurons import HH, NeuronGroup
from .resources import ResourceError
from .runner import DSRunner, Monitors
from .spikes import firing_rates, spike_times

__all__ = ["initializers", "inputs", "resources", "rng", "ResourceError", "METHODS",
           "AdaptiveSettings", "HH", "NeuronGroup", "DSRunner", "Monitors", "Execution",
           "firing_rates", "spike_times"]
