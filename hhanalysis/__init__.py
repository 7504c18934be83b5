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
  (``jax_compilation_cache_dir`` unset), from the moment hhanalysis first imports JAX (at once
  if JAX was imported before hhanalysis, else with the first analysis or simulator module):
  compiled programs are cached on disk in
  ``~/.cache/hhanalysis/jax`` (``HHANALYSIS_CACHE_DIR`` moves it, ``HHANALYSIS_CACHE_DIR=off``
  turns this off), with ``jax_persistent_cache_min_compile_time_secs = 0.2``, so a new Python
  session does not compile the continuation solvers again. This also caches your own programs
  that take longer than 0.2 s to compile.
* **Nothing else at import.** The analysis keeps two caches of its own on disk, written when it
  first needs them: generated model code (``~/.cache/hhanalysis/codegen``) and the traced
  programs of the solvers (``~/.cache/hhanalysis/traces``, :mod:`jax.export` files), so a new
  session skips sympy and JAX's tracing too (:mod:`hhanalysis._trace_cache`);
  ``HHANALYSIS_CACHE_DIR=DIR`` moves them to ``DIR/codegen`` and ``DIR/traces``, ``=off`` turns
  them off.

It does not import ``matplotlib.pyplot`` nor choose a matplotlib backend. The public names are
loaded on first use (``hh.find_equilibria`` imports the analysis then), so ``import hhanalysis``
and ``hhanalysis --help`` start in well under a second.
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

import importlib  # noqa: E402
import sys  # noqa: E402

if "jax" in sys.modules:  # JAX is loaded already: configure its cache now (cheap)
    from . import precision as _precision  # noqa: E402, F401

# The public names, loaded on first access (PEP 562): ``import hhanalysis`` itself imports
# neither JAX nor sympy nor matplotlib, so that the command line starts fast. ``hh.X`` and
# ``from hhanalysis import X`` work for every X below.
_LAZY = {
    # submodules that the eager package used to load (``hh.continuation``, ...)
    **{name: (f".{name}", None) for name in (
        "simulate", "special", "codegen", "continuation", "equilibria", "fitting", "models",
        "precision", "spectra", "phase", "library", "ode", "scale")},
    "load_ode": (".ode", "load_ode"),
    "trajectory": (".trajectory", "trajectory"), "Trajectory": (".trajectory", "Trajectory"),
    "CompiledModel": (".codegen", "CompiledModel"), "compile_model": (".codegen", "compile_model"),
    **{name: (".continuation", name) for name in (
        "BifurcationDiagram", "Collocation", "ContinuationError", "ContinuationSettings",
        "CycleBranch", "EquilibriumBranch", "FoldPoint", "HopfPoint", "PeriodicOrbit",
        "SpecialPoint", "Status", "bifurcation_diagram", "continue_cycles",
        "continue_equilibria", "fold_point", "hopf_point", "lpc_point", "periodic_orbit",
        "BifurcationCurve", "continue_hopf", "continue_fold", "TwoParameterDiagram",
        "two_parameter_diagram", "HomoclinicEnd", "CycleCurve", "continue_lpc", "continue_pd",
        "continue_ns",
        "SimulatedOrbit", "classify_end", "simulate_cycle")},
    **{name: (".equilibria", name) for name in (
        "Equilibrium", "EquilibriumSet", "find_equilibria", "SingularModelError")},
    "FitResult": (".fitting", "FitResult"), "fit": (".fitting", "fit"),
    **{name: (".models", name) for name in (
        "HH_PRESETS", "ODEModel", "Parameter", "StateVariable", "fitzhugh_nagumo",
        "hodgkin_huxley", "morris_lecar")},
    **{name: (".phase", name) for name in (
        "DirectPhaseResponse", "Interaction", "PhaseResponse", "direct_phase_response",
        "gap_junction", "interaction_function", "phase_response", "synapse")},
    **{name: (".scale", name) for name in ("hopf_points", "lpc_points", "sweep", "Sweep")},
    "CenterManifold": (".spectra", "CenterManifold"),
    "center_manifold": (".spectra", "center_manifold"),
}


def __getattr__(name: str):
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = importlib.import_module(module, __name__)
    if attr is not None:
        value = getattr(value, attr)
    globals()[name] = value  # later accesses skip __getattr__
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


__version__ = "0.1.0"

__all__ = [
    "simulate", "special", "HH_PRESETS", "ODEModel", "Parameter", "StateVariable",
    "fitzhugh_nagumo", "hodgkin_huxley", "morris_lecar", "CompiledModel", "compile_model",
    "Equilibrium", "EquilibriumSet", "find_equilibria", "CenterManifold", "center_manifold",
    "ContinuationSettings", "EquilibriumBranch", "SpecialPoint", "ContinuationError",
    "continue_equilibria",
    "Collocation", "CycleBranch", "continue_cycles", "BifurcationDiagram", "bifurcation_diagram",
    "Status", "HopfPoint", "FoldPoint", "PeriodicOrbit", "hopf_point", "fold_point", "lpc_point",
    "periodic_orbit", "fit", "FitResult", "BifurcationCurve", "continue_hopf", "continue_fold",
    "TwoParameterDiagram", "two_parameter_diagram", "CycleCurve", "continue_lpc", "continue_pd",
    "continue_ns",
    "phase_response", "direct_phase_response", "interaction_function", "gap_junction",
    "synapse", "PhaseResponse", "DirectPhaseResponse", "Interaction",
    "SingularModelError", "SimulatedOrbit", "HomoclinicEnd", "simulate_cycle", "classify_end",
    "load_ode", "trajectory", "Trajectory", "library", "hopf_points", "lpc_points", "sweep",
    "Sweep",
]
