"""hhanalysis: dynamical-systems analysis of the Hodgkin–Huxley neuron.

The top level is the analysis API (models, generated functions, equilibria, spectra,
continuation); the simulator is :mod:`hhanalysis.simulate`, and its BrainPy-compatible names are
in :mod:`hhanalysis.brainpy` (``import hhanalysis.brainpy as bp``).

What importing hhanalysis changes in your process:

* **Precision: nothing.** ``jax_enable_x64`` is left as it was. The analysis needs float64, so
  every public entry point that computes with JAX (``find_equilibria``, ``center_manifold``,
  ``continue_equilibria``, ``continue_cycles``, ``bifurcation_diagram``, the functions of a
  ``CompiledModel``, the simulator's groups and runner, ``bp.math``) runs inside
  ``jax.enable_x64(True)``, scoped to that call and thread (:func:`hhanalysis.precision.float64`).
  Your own JAX code keeps JAX's default dtypes.
* **Two XLA flags** in the environment variable ``XLA_FLAGS``, each only if ``XLA_FLAGS`` does
  not name it already: ``--xla_cpu_multi_thread_eigen=false`` (Eigen's intra-op threads slow down
  the many small matrix operations of the continuation solvers) and
  ``--xla_cpu_prefer_vector_width=512`` (512-bit vectors on CPUs with AVX-512: ~1.3-1.4x faster
  simulation). XLA reads them once, when JAX creates its CPU backend, so they cannot be scoped:
  they apply to all JAX CPU computations of the process, and have no effect if JAX computed
  something before ``import hhanalysis``. To opt out, set ``XLA_FLAGS`` yourself before the
  import (e.g. ``--xla_cpu_multi_thread_eigen=true``).
* **JAX's persistent compilation cache**, only if you have not configured one
  (``jax_compilation_cache_dir`` unset): compiled programs are cached on disk in
  ``~/.cache/hhanalysis/jax`` (``HHANALYSIS_CACHE_DIR`` moves it, ``HHANALYSIS_CACHE_DIR=off``
  turns this off), with ``jax_persistent_cache_min_compile_time_secs = 0.2``, so a new Python
  session does not compile the continuation solvers again. This also caches your own programs
  that take longer than 0.2 s to compile.

It does not import ``matplotlib.pyplot`` nor choose a matplotlib backend.
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

# Stages of the pipeline (models -> codegen -> equilibria, spectra -> continuation) and the
# simulator (its BrainPy-compatible names are in hhanalysis.brainpy, imported on its own).
from . import (  # noqa: E402
    library,  # noqa: E402
    simulate,
    special,
)
from .codegen import CompiledModel, compile_model  # noqa: E402
from .continuation import (  # noqa: E402
    BifurcationDiagram,
    Collocation,
    ContinuationError,
    ContinuationSettings,
    CycleBranch,
    EquilibriumBranch,
    FoldPoint,
    HopfPoint,
    PeriodicOrbit,
    SpecialPoint,
    Status,
    bifurcation_diagram,
    continue_cycles,
    continue_equilibria,
    fold_point,
    hopf_point,
    lpc_point,
    periodic_orbit,
)
from .equilibria import Equilibrium, EquilibriumSet, find_equilibria  # noqa: E402
from .fitting import FitResult, fit  # noqa: E402
from .models import (  # noqa: E402
    HH_PRESETS,
    ODEModel,
    Parameter,
    StateVariable,
    fitzhugh_nagumo,
    hodgkin_huxley,
    morris_lecar,
)
from .ode import load_ode  # noqa: E402
from .spectra import CenterManifold, center_manifold  # noqa: E402
from .trajectory import Trajectory, trajectory  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "simulate", "special", "HH_PRESETS", "ODEModel", "Parameter", "StateVariable",
    "fitzhugh_nagumo", "hodgkin_huxley", "morris_lecar", "CompiledModel", "compile_model",
    "Equilibrium", "EquilibriumSet", "find_equilibria", "CenterManifold", "center_manifold",
    "ContinuationSettings", "EquilibriumBranch", "SpecialPoint", "ContinuationError",
    "continue_equilibria",
    "Collocation", "CycleBranch", "continue_cycles", "BifurcationDiagram", "bifurcation_diagram",
    "Status", "HopfPoint", "FoldPoint", "PeriodicOrbit", "hopf_point", "fold_point", "lpc_point",
    "periodic_orbit", "fit", "FitResult", "load_ode", "trajectory", "Trajectory", "library",
]
