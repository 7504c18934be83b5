"""``import hhanalysis`` leaves the user's program alone: matplotlib's backend and pyplot, JAX's
64-bit switch; the public entry points still compute in float64 with x64 off. Each check runs in
a fresh interpreter, so that nothing imported by other tests interferes."""

import os
import subprocess
import sys
import textwrap


def run_fresh(code: str, **env):
    environ = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", "JAX_ENABLE_X64")}
    environ.update(env)
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, env=environ)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_import_does_not_import_pyplot():
    run_fresh("""
        import sys
        import hhanalysis
        assert "matplotlib.pyplot" not in sys.modules
        import hhanalysis.brainpy, hhanalysis.plotting
        assert "matplotlib.pyplot" not in sys.modules
    """)


def test_import_keeps_the_matplotlib_backend():
    run_fresh("""
        import matplotlib
        backend = matplotlib.get_backend()
        import hhanalysis, hhanalysis.brainpy, hhanalysis.plotting
        assert matplotlib.get_backend() == backend, (backend, matplotlib.get_backend())
    """)


def test_a_backend_chosen_before_the_import_survives_it():
    # what a notebook does (its inline backend); "svg" is a non-interactive built-in backend
    run_fresh("""
        import matplotlib
        matplotlib.use("svg")
        import hhanalysis, hhanalysis.plotting, hhanalysis.brainpy
        import matplotlib.pyplot as plt
        assert matplotlib.get_backend() == "svg", matplotlib.get_backend()
        ax = hhanalysis.brainpy.visualize.line_plot([0.0, 1.0], [[1.0], [2.0]])
        assert ax.figure.canvas.get_default_filetype() == "svg"
    """)


def test_import_leaves_jax_64_bit_mode_alone_and_analysis_stays_float64():
    run_fresh("""
        import jax, jax.numpy as jnp, numpy as np
        before = bool(jax.config.jax_enable_x64)
        import hhanalysis as hh
        assert bool(jax.config.jax_enable_x64) == before == False
        assert jnp.asarray(1.0).dtype == jnp.float32  # the user's own JAX code: JAX's default

        model = hh.hodgkin_huxley()
        rest = hh.find_equilibria(model, I=0.0)[0]
        assert rest.x.dtype == np.float64
        # a float32 solve could not bring the residual anywhere near this
        assert rest.residual < 1e-10, rest.residual

        cm = model.compile()
        p = model.param_vector(I=0.0)
        f = cm.f(rest.x, p)
        assert f.dtype == jnp.float64 and float(jnp.max(jnp.abs(f))) < 1e-10
        assert cm.f(rest.x.astype(np.float32), p.astype(np.float32)).dtype == jnp.float32

        cmf = hh.center_manifold(hh.find_equilibria(model, I=10.0)[0])
        assert np.asarray(cmf.q).dtype == np.complex128 and np.isfinite(cmf.l1)
        assert bool(jax.config.jax_enable_x64) is False
    """)


def test_simulator_float64_groups_compute_in_float64_with_x64_off():
    """Also for a group run on two host threads (JAX's x64 mode is a per-thread setting)."""
    run_fresh("""
        import jax, numpy as np
        import hhanalysis.brainpy as bp
        from hhanalysis.simulate import Execution
        from hhanalysis.simulate.execution import layout
        assert bool(jax.config.jax_enable_x64) is False
        threaded = Execution(threads=2, block_size=256)
        assert layout(2000, threaded).workers == 2
        for dtype, ex in (("float64", None), ("float64", threaded), ("float32", threaded)):
            group = bp.dyn.HH(2000, dtype=dtype, V_initializer=bp.init.OneInit(-65.0))
            runner = bp.dyn.DSRunner(group, monitors=["V"], inputs=("input", 10.0),
                                     execution=ex)
            runner.run(2.0)
            assert group.V.dtype == np.dtype(dtype) and runner.mon.V.dtype == np.dtype(dtype)
        noise = bp.math.random.normal(0, 3, size=(4,))
        assert noise.dtype == np.float64 and bp.math.stack((noise, noise)).dtype == np.float64
        assert bool(jax.config.jax_enable_x64) is False
    """)


def test_xla_flags_the_user_set_are_kept():
    out = run_fresh("""
        import os
        import hhanalysis
        print(os.environ["XLA_FLAGS"])
    """, XLA_FLAGS="--xla_cpu_multi_thread_eigen=true")
    assert "--xla_cpu_multi_thread_eigen=true" in out
    assert "--xla_cpu_multi_thread_eigen=false" not in out
    assert "--xla_cpu_prefer_vector_width=512" in out


def test_import_is_lazy_and_every_public_name_still_resolves():
    """``import hhanalysis`` and ``hhanalysis --help`` load neither JAX nor sympy nor matplotlib
    (cold start); every name of ``__all__`` resolves on first access, and JAX's persistent cache
    is configured as soon as hhanalysis imports JAX."""
    run_fresh("""
        import os, sys
        import hhanalysis as hh
        heavy = [m for m in ("jax", "sympy", "matplotlib", "diffrax", "scipy") if m in sys.modules]
        assert heavy == [], heavy
        assert "--xla_cpu_multi_thread_eigen=false" in os.environ["XLA_FLAGS"]
        from hhanalysis import cli
        try:
            cli.main(["--help"])
        except SystemExit as e:
            assert e.code == 0
        heavy = [m for m in ("jax", "sympy", "matplotlib") if m in sys.modules]
        assert heavy == [], heavy
        missing = [name for name in hh.__all__ if getattr(hh, name, None) is None]
        assert missing == [], missing
        import jax
        assert jax.config.jax_compilation_cache_dir == os.environ["HHANALYSIS_CACHE_DIR"]
        assert hh.continuation.bifurcation_diagram is hh.bifurcation_diagram
    """, HHANALYSIS_CACHE_DIR=os.path.join(os.environ.get("TMPDIR", "/tmp"), "hh-cache-test"))


def test_jax_imported_first_gets_the_cache_at_import():
    run_fresh("""
        import os, jax
        import hhanalysis
        assert jax.config.jax_compilation_cache_dir == os.environ["HHANALYSIS_CACHE_DIR"]
    """, HHANALYSIS_CACHE_DIR=os.path.join(os.environ.get("TMPDIR", "/tmp"), "hh-cache-test"))
