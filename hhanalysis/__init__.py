"""hhanalysis: dynamical-systems analysis of the Hodgkin–Huxley neuron.

Importing this package switches JAX to 64-bit mode (``jax_enable_x64``), because every analysis
(equilibria, spectra, continuation) needs float64. For your own JAX code this means that
``jnp.asarray(1.0)`` and friends now default to float64; arrays you create with an explicit
``dtype=jnp.float32`` stay float32, and the simulator takes ``dtype=`` explicitly. The analysis
entry
points additionally cast their inputs to float64, so they stay in double precision even if you
turn x64 off again after import (see :func:`hhanalysis.precision.float64`).
"""

import jax

jax.config.update("jax_enable_x64", True)

from . import special  # noqa: E402
from .codegen import CompiledModel, compile_model  # noqa: E402
from .models import (  # noqa: E402
    HH_PRESETS,
    ODEModel,
    Parameter,
    StateVariable,
    fitzhugh_nagumo,
    hodgkin_huxley,
    morris_lecar,
)

__version__ = "0.1.0"

__all__ = [
    "CompiledModel",
    "compile_model",
    "HH_PRESETS",
    "ODEModel",
    "Parameter",
    "StateVariable",
    "fitzhugh_nagumo",
    "hodgkin_huxley",
    "morris_lecar",
    "special",
]

from .equilibria import Equilibrium, EquilibriumSet, find_equilibria  # noqa: E402
from .spectra import CenterManifold, center_manifold  # noqa: E402

__all__ += ["Equilibrium", "EquilibriumSet", "find_equilibria", "CenterManifold",
            "center_manifold"]

from .continuation import (  # noqa: E402
    ContinuationSettings,
    EquilibriumBranch,
    SpecialPoint,
    continue_equilibria,
)

__all__ += ["ContinuationSettings", "EquilibriumBranch", "SpecialPoint", "continue_equilibria"]

from . import dyn, init, math, visualize  # noqa: E402
from .simulate import (  # noqa: E402
    HH,  # noqa: E402
    DSRunner,
    NeuronGroup,
    inputs,  # noqa: E402
)

__all__ += ["dyn", "init", "inputs", "math", "visualize", "DSRunner", "NeuronGroup", "HH"]
