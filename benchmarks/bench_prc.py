"""Phase response curves: cost and accuracy of the adjoint PRC (hhanalysis/phase.py).

Prints two tables (HH classic preset, NTST = 100, NCOL = 4, 256 phases):

1. warm wall time (best and median of 40 calls for one orbit, of 9 for a branch, after a
   compiling call) of the PRC of one orbit
   (``hh.phase_response(model, orbit)``, target < 10 ms) and of 100 orbits of a cycle branch at
   once (``hh.phase_response(branch, indices)``, target < 0.5 s; also with 128 phases), with
   their compile times (first call in a session without JAX's persistent cache);
2. accuracy at I = 10 and 50: max |Z.f - 1| over the mesh points and phases, the adjoint from the
   interval-by-interval left null vector against one transposed solve of the bordered structured
   collocation solver (mesh values, relative), and against the direct PRC of +-kick pulses
   (RK4, central differences), relative to max |Z_V|, and the error of Z against the PRC of the
   same orbit at NTST = 400 (max over the 256 phases, relative to max |Z|).

3. with ``--grad``: ``jax.jacfwd`` of Z_V in gK (HH classic, I = 10, 64 phases) through
   ``hh.periodic_orbit``'s implicit derivative against central differences (h = 1e-4).

Run: ``.venv/bin/python benchmarks/bench_prc.py [--grad]``.
"""

from __future__ import annotations

import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
from _table import Table

import hhanalysis as hh
from hhanalysis import phase


def best_of(fn, repeat=5):
    """The output, the best and the median wall time of ``repeat`` warm calls (the median shows
    how much a shared machine's load moves the numbers)."""
    out, times = None, []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        jax.block_until_ready(jax.tree_util.tree_leaves(out))
        times.append(time.perf_counter() - t0)
    return out, min(times), float(np.median(times))


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main():
    m = hh.hodgkin_huxley(preset="classic")
    orbit = phase.orbit_from_simulation(m, I=10.0)
    _, cold1 = timed(lambda: hh.phase_response(m, orbit))
    _, warm1, med1 = best_of(lambda: hh.phase_response(m, orbit), 40)
    diagram = hh.bifurcation_diagram(m, "I", (-10.0, 200.0))
    branch = max(diagram.cycles, key=len)
    sel = np.linspace(0, len(branch) - 1, 100).round().astype(int)
    _, coldb = timed(lambda: hh.phase_response(branch, sel))
    _, warmb, medb = best_of(lambda: hh.phase_response(branch, sel), 9)
    _, coldb2 = timed(lambda: hh.phase_response(branch, sel, points=128))
    _, warmb2, medb2 = best_of(lambda: hh.phase_response(branch, sel, points=128), 9)
    t = Table([("PRC (HH classic, NTST=100)", ""), ("compile+run s", ".2f"),
               ("warm best ms", ".2f"), ("warm median ms", ".2f"), ("target ms", ".0f")])
    t.header()
    t.row("one orbit (I = 10)", cold1, 1e3 * warm1, 1e3 * med1, 10)
    t.row(f"{sel.size} orbits of a branch (vmap)", coldb, 1e3 * warmb, 1e3 * medb, 500)
    t.row(f"{sel.size} orbits, 128 phases", coldb2, 1e3 * warmb2, 1e3 * medb2, 500)
    print()

    cm = m.compile()
    t = Table([("orbit", ""), ("period ms", ".6f"), ("max|Z.f-1|", ".1e"),
               ("bordered vs transfer", ".1e"), ("direct vs adjoint", ".1e"),
               ("vs NTST=400", ".1e")])
    t.header()
    for I in (10.0, 50.0):
        o = orbit if I == 10.0 else phase.orbit_from_simulation(m, I=I)  # its own mesh
        prc = hh.phase_response(m, o)
        with jax.enable_x64(True):
            args = (jnp.asarray(o.orbit), jnp.asarray(o.period),
                    jnp.asarray(m.param_vector(I=I)), jnp.asarray(o.mesh))
            z1 = np.asarray(phase.adjoint_mesh_values(cm, *args, o.ncol))
            z2 = np.asarray(jax.jit(phase._adjoint_bordered(cm, cm.param_index("I"),
                                                            o.mesh.size - 1, o.ncol))(*args))
        ref = hh.phase_response(m, I=I, ntst=400)
        direct = hh.direct_phase_response(m, prc, every=8)
        zv = prc["V"]
        t.row(f"HH classic I = {I:g}", float(prc.period), float(prc.normalisation_error),
              np.abs(z1 - z2).max() / np.abs(z1).max(),
              np.abs(direct.slope - zv[::8]).max() / np.abs(zv).max(),
              np.abs(prc.Z - ref.Z).max() / np.abs(ref.Z).max())

    if "--grad" in sys.argv:
        print()
        gradient_check(m, orbit)


def gradient_check(m, orbit):
    def zv(g):
        return hh.phase_response(m, hh.periodic_orbit(m, orbit, gK=g), points=64)["V"]

    with jax.enable_x64(True):
        d, secs = timed(lambda: np.asarray(jax.jacfwd(zv)(36.0)))
    h = 1e-4
    fd = (np.asarray(zv(36.0 + h)) - np.asarray(zv(36.0 - h))) / (2 * h)
    t = Table([("dZ_V/dgK (HH classic, I = 10)", ""), ("max|dZ/dgK|", ".4g"),
               ("max|jacfwd - FD|", ".1e"), ("relative", ".1e"), ("compile+run s", ".1f")])
    t.header()
    err = np.abs(d - fd).max()
    t.row("jax.jacfwd vs central differences", np.abs(fd).max(), err, err / np.abs(fd).max(),
          secs)


if __name__ == "__main__":
    main()
