"""hhanalysis: dynamical-systems analysis of the Hodgkin–Huxley neuron.

Importing this package switches JAX to 64-bit mode (``jax_enable_x64``), because every analysis
(equilibria, spectra, continuation) needs float64. For your own JAX code this means that
``jnp.asarray(1.0)`` and friends now default to float64; arrays you create with an explicit
``dtype=jnp.float32`` stay float32, and the simulator takes ``dtype=`` explicitly. The analysis
entry points additionally run inside ``jax.enable_x64(True)``, so they stay in double precision
even if you turn x64 off again after import (see :func:`hhanalysis.precision.float64`).

Importing it also sets two XLA flags in ``XLA_FLAGS`` (each unless already set):
``--xla_cpu_multi_thread_eigen=false`` (Eigen's intra-op threads slow down the many small matrix
operations of the continuation solvers) and ``--xla_cpu_prefer_vector_width=512`` (512-bit
vectors on CPUs with AVX-512: ~1.3-1.4x faster simulation).

Compiled programs are cached on disk (``~/.cache/hhanalysis/jax``; ``HHANALYSIS_CACHE_DIR``
moves it, ``HHANALYSIS_CACHE_DIR=off`` turns it off), so a new Python session does not compile
the continuation solvers again.
"""

import os

# XLA flags this package sets unless XLA_FLAGS already names them. They take effect when JAX
# creates its CPU backend, i.e. unless JAX computed something before this import.
_XLA_DEFAULTS = {
    # The continuation solvers run many small batched matrix operations; Eigen's intra-op
    # threads only add overhead to them (the HH diagram is ~25% faster without). XLA's own
    # parallel loops are not affected.
    "xla_cpu_multi_thread_eigen": "false",
    # Let LLVM use 512-bit vectors where the CPU has AVX-512 (XLA prefers 256 by default): the
    # simulator's elementwise steps run ~1.3-1.4x faster. Ignored on CPUs without AVX-512.
    "xla_cpu_prefer_vector_width": "512",
}
for _flag, _value in _XLA_DEFAULTS.items():
    if _flag not in os.environ.get("XLA_FLAGS", ""):
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                                   + f" --{_flag}={_value}").strip()

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)


def _persistent_compilation_cache() -> None:
    """Keep compiled XLA programs on disk between Python sessions (JAX's persistent cache), so
    only the first session on a machine pays the jit compilation of the continuation solvers.
    Location: ``$HHANALYSIS_CACHE_DIR`` or ``~/.cache/hhanalysis/jax``; set
    ``HHANALYSIS_CACHE_DIR=off`` to disable. A cache directory the user configured for JAX is
    left alone."""
    where = os.environ.get("HHANALYSIS_CACHE_DIR",
                           os.path.join(os.path.expanduser("~"), ".cache", "hhanalysis", "jax"))
    if where.lower() == "off" or jax.config.jax_compilation_cache_dir:
        return
    try:
        os.makedirs(where, exist_ok=True)
    except OSError:
        return
    jax.config.update("jax_compilation_cache_dir", where)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)


_persistent_compilation_cache()

# Stages of the pipeline (models -> codegen -> equilibria, spectra -> continuation), the
# simulator and the BrainPy-style namespaces (dyn, init, inputs, math, visualize).
from . import (  # noqa: E402
    dyn,
    init,
    math,
    special,
    visualize,
)
from .codegen import CompiledModel, compile_model  # noqa: E402
from .continuation import (  # noqa: E402
    BifurcationDiagram,
    Collocation,
    ContinuationError,
    ContinuationSettings,
    CycleBranch,
    EquilibriumBranch,
    SpecialPoint,
    Status,
    bifurcation_diagram,
    continue_cycles,
    continue_equilibria,
)
from .equilibria import Equilibrium, EquilibriumSet, find_equilibria  # noqa: E402
from .models import (  # noqa: E402
    HH_PRESETS,
    ODEModel,
    Parameter,
    StateVariable,
    fitzhugh_nagumo,
    hodgkin_huxley,
    morris_lecar,
)
from .simulate import HH, DSRunner, NeuronGroup, inputs  # noqa: E402
from .spectra import CenterManifold, center_manifold  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "special", "HH_PRESETS", "ODEModel", "Parameter", "StateVariable", "fitzhugh_nagumo",
    "hodgkin_huxley", "morris_lecar", "CompiledModel", "compile_model", "Equilibrium",
    "EquilibriumSet", "find_equilibria", "CenterManifold", "center_manifold",
    "ContinuationSettings", "EquilibriumBranch", "SpecialPoint", "Status", "ContinuationError",
    "continue_equilibria",
    "Collocation", "CycleBranch", "continue_cycles", "BifurcationDiagram", "bifurcation_diagram",
    "HH",
    "DSRunner", "NeuronGroup", "inputs", "dyn", "init", "math", "visualize",
]
