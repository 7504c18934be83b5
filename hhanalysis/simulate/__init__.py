"""The simulator: neuron groups, integrators, inputs and the runner."""

from . import initializers, inputs, resources, rng, streaming
from .execution import Execution
from .integrators import METHODS, AdaptiveSettings
from .neurons import HH, NeuronGroup
from .resources import ResourceError
from .runner import DSRunner, Monitors, StreamedMonitors
from .spikes import firing_rates, spike_times
from .streaming import MonitorFile, iter_monitors, read_monitors

__all__ = ["initializers", "inputs", "resources", "rng", "streaming", "ResourceError",
           "METHODS", "AdaptiveSettings", "HH", "NeuronGroup", "DSRunner", "Monitors",
           "StreamedMonitors", "MonitorFile", "read_monitors", "iter_monitors", "Execution",
           "firing_rates", "spike_times"]
