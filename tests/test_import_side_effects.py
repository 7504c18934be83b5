"""``import hhanalysis`` leaves the user's program alone: matplotlib's backend and pyplot. Each
check runs in a fresh interpreter, so that nothing imported by other tests interferes."""

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
