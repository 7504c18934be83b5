"""Differentiable located points: gradient checks and the cost of derivatives.

Prints two tables:

1. gradients by implicit differentiation (``jax.jacfwd`` / ``jax.grad`` of ``hh.hopf_point``,
   ``hh.lpc_point``, ``hh.periodic_orbit``) against central differences of independently
   located points: Hopf points from the equilibrium continuation's own locator
   (``continue_equilibria``), LPC points and orbits from separate ``lpc_point`` /
   ``periodic_orbit`` calls at parameter +- h;
2. warm wall time of one located Hopf point against ``jax.jacfwd`` of it over all ten HH
   parameters (target: < 3x), and the same for an LPC point over gK.

3. with ``--fit``: the docs' fitting example (classic preset, lower Hopf point at I = 12, minimum
   rate 60 Hz) by ``hh.fit`` (each iterate's points are the next guesses) and by
   ``optimistix.least_squares`` (Levenberg–Marquardt, forward-mode Jacobian; every evaluation
   starts from the preset's branch), warm times of the second call.

Run: ``.venv/bin/python benchmarks/bench_points.py [--fit]``.
"""

from __future__ import annotations

import sys
import time

import jax
import numpy as np
from _table import Table

import hhanalysis as hh

GUESS = {"brainpy": 6.5, "classic": 9.8}


def hopf_by_branch(model, I0):
    (h,) = hh.continue_equilibria(model, "I", I0 - 3, I0 + 3).hopf_points
    return h.param


def best_of(fn, repeat=5):
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - t)
    return min(times)


def gradient_table():
    t = Table([("quantity".ljust(16), ""), ("preset", ""), ("AD", ".10g"), ("FD", ".10g"),
               ("rel diff", ".1e")])
    t.header()
    for preset in ("brainpy", "classic"):
        m = hh.hodgkin_huxley(preset=preset)
        base = m.defaults
        names = ("gK", "gNa", "gL", "EK", "C")
        ad = jax.jacfwd(lambda ps, m=m, preset=preset: hh.hopf_point(
            m, "I", GUESS[preset], **ps).param)({k: base[k] for k in names})
        I0 = float(hh.hopf_point(m, "I", GUESS[preset]).param)
        for k in names:
            h = 1e-4 * abs(base[k])
            fd = (hopf_by_branch(m.with_params(**{k: base[k] + h}), I0)
                  - hopf_by_branch(m.with_params(**{k: base[k] - h}), I0)) / (2 * h)
            t.row(f"dI_Hopf/d{k}", preset, float(ad[k]), fd, abs(float(ad[k]) / fd - 1))
    m = hh.hodgkin_huxley()
    br = hh.continue_equilibria(m, "I", 0, 200)
    cb = hh.continue_cycles(m, br.hopf_points[0], (0, 200))
    g = float(jax.grad(lambda v: hh.lpc_point(m, "I", cb, gK=v).param)(36.0))
    h = 1e-3
    fd = (float(hh.lpc_point(m, "I", cb, gK=36 + h).param)
          - float(hh.lpc_point(m, "I", cb, gK=36 - h).param)) / (2 * h)
    t.row("dI_LPC/dgK", "brainpy", g, fd, abs(g / fd - 1))
    i = int(np.argmin(np.abs(cb.param - 10.0) + 1e3 * ~cb.stable))
    g = float(jax.grad(lambda v: hh.periodic_orbit(m, cb, i, I=v).period)(10.0))
    fd = (float(hh.periodic_orbit(m, cb, i, I=10 + h).period)
          - float(hh.periodic_orbit(m, cb, i, I=10 - h).period)) / (2 * h)
    t.row("dT/dI at I=10", "brainpy", g, fd, abs(g / fd - 1))
    return m, cb


def cost_table(m, cb):
    t = Table([("call".ljust(34), ""), ("warm s", ".5f"), ("ratio", ".2f")])
    t.header()
    params = {k: v for k, v in m.defaults.items() if k != "I"}
    one = best_of(lambda: hh.hopf_point(m, "I", 6.5).param)
    jac = best_of(lambda: jax.jacfwd(lambda ps: hh.hopf_point(m, "I", 6.5, **ps).param)(params))
    t.row("hopf_point", one, 1.0)
    t.row(f"jacfwd hopf_point ({len(params)} params)", jac, jac / one)

    def f(ps):
        return hh.hopf_point(m, "I", 6.5, **ps).param

    jf, jj = jax.jit(f), jax.jit(jax.jacfwd(f))
    one_jit, jac_jit = best_of(lambda: jf(params)), best_of(lambda: jj(params))
    t.row("jit(hopf_point)", one_jit, 1.0)
    t.row(f"jit(jacfwd hopf_point) ({len(params)} params)", jac_jit, jac_jit / one_jit)
    one = best_of(lambda: hh.lpc_point(m, "I", cb).param, repeat=3)
    grad = best_of(lambda: jax.grad(lambda v: hh.lpc_point(m, "I", cb, gK=v).param)(36.0),
                   repeat=3)
    t.row("lpc_point (NTST=100)", one, 1.0)
    t.row("grad lpc_point (gK)", grad, grad / one)


def fit_table():
    import jax.numpy as jnp
    import optimistix as optx

    from hhanalysis.figures import fit_classic_targets

    t = Table([("solver".ljust(14), ""), ("steps", "d"), ("gK", ".6f"), ("gNa", ".6f"),
               ("max |r|", ".1e"), ("warm s", ".1f")])
    t.header()
    fit_classic_targets()  # compile
    t0 = time.perf_counter()
    result, before, _ = fit_classic_targets()
    t.row("hh.fit", result.steps, result.params["gK"], result.params["gNa"],
          float(np.max(np.abs(result.residuals))), time.perf_counter() - t0)
    m = hh.hodgkin_huxley(preset="classic")
    cycles = before.cycles[0]
    lowest = int(np.argmin([s.param for s in cycles.lpc_points]))
    h0 = min(before.hopf_points, key=lambda s: s.param)

    def r(theta, _):
        ps = {"gK": theta[0], "gNa": theta[1]}
        h = hh.hopf_point(m, "I", h0, **ps)
        lpc = hh.lpc_point(m, "I", cycles, lowest, **ps)
        return jnp.stack([h.param - 12.0, 1000.0 / lpc.period - 60.0])

    def solve():
        return optx.least_squares(r, optx.LevenbergMarquardt(rtol=1e-10, atol=1e-10),
                                  jnp.array([36.0, 120.0]), options={"jac": "fwd"},
                                  max_steps=100, throw=False)

    with jax.enable_x64(True):
        solve()
        t0 = time.perf_counter()
        sol = solve()
        dt = time.perf_counter() - t0
        res = float(jnp.max(jnp.abs(r(sol.value, None))))
    t.row("optimistix LM", int(sol.stats["num_steps"]), float(sol.value[0]),
          float(sol.value[1]), res, dt)


if __name__ == "__main__":
    jax.config.update("jax_enable_x64", True)  # the derivatives below are traced here
    m, cb = gradient_table()
    print()
    cost_table(m, cb)
    if "--fit" in sys.argv:
        print()
        fit_table()
