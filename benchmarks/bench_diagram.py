"""The full HH bifurcation diagram: hhanalysis vs AUTO-07p, same equations, same NTST/NCOL.

Work done by both tools, per preset (brainpy and classic):

* equilibria for I in [-10, 200] (two runs from the rest state at I = 0, as in
  shared/reference), both Hopf points located;
* the periodic orbits born at the Hopf points, past every fold of cycles. hhanalysis follows one
  branch from the lower Hopf point through its folds (and, for classic, period doublings) until it
  ends at the upper Hopf point; AUTO-07p (IPS=2, NTST=100, NCOL=4, IAD=3, DSMAX=0.5, the settings of
  shared/reference) runs from the lower Hopf point until it has passed its last fold (STOP at LP1
  for brainpy, LP3 for classic) and from the upper Hopf point to its first fold (LP1), which
  together cover the same branch.

AUTO-07p (Debian package ``auto-07p``) is compiled once from a generated Fortran file with analytic
Jacobians and run directly (OMP_NUM_THREADS=1); its time is the executables' wall time of the four
runs. hhanalysis 'cold' is a fresh Python process (code generation + tracing + jit compilation +
the run, after importing the analysis modules, whose time (~2 s: JAX, sympy, scipy) is reported
apart, and counted in the last ratio): 'no cache' is the first run
ever (a new, empty ``HHANALYSIS_CACHE_DIR``: sympy code generation, tracing and XLA compilation
all done), 'cached' the median of the next fresh processes on that cache (generated code, traced
programs and compiled executables read from disk); 'warm' is the median of repeated calls in one
process. The machine may be shared: each fresh process on the filled cache is followed by one
AUTO-07p diagram (a round), so that both see the same load, and the ratios are the medians of the
rounds' ratios (with their range); on a busy machine the CPU-time ratio of the cold diagram (the
fresh process's CPU time against AUTO-07p's executables') varies least.

Where a cold diagram's time goes (brainpy, CPU seconds of the diagram in a fresh process, this
2-core machine, shared): before the executables were kept (commit 8750005) ~3.3 s against
~1.3 s warm: 12 persistent-cache loads ~0.9 s, the lowering of the exported programs (and
JAX's cache key) ~0.5 s, 16 small programs compiled in every session (jnp.asarray copies,
eager indexing, f and jac_x; each under the persistent cache's 0.2 s) ~0.35 s plus their
lowering, tracing ~0.1 s. Now (the compiled executables kept by default;
HHANALYSIS_XLA_EXECUTABLES=0 in this script's environment measures without them) ~2.0-2.2 s,
and no program is traced, lowered or compiled (JAX_LOG_COMPILES=1 lists none): 13 executables
loaded from the traces cache ~0.7-0.9 s (XLA's deserialization, the same cost as a JAX
persistent-cache hit: refine, solve and the two continuation runners, 0.6-2.1 MB each with up to
160 kernel object files, take ~0.6 s of it), the sympy model ~0.1 s, the rest the warm
computation (which includes ~3300 LSODA right-hand-side calls from Python, ~32 us each, and
scipy's per-step overhead, ~0.2 s together: the simulations at both ends of the range that
look for stable cycles no Hopf branch reaches, settling on the equilibrium at I = -10 and 200,
a step AUTO-07p does not take).

Since (branch cold-classic; both presets, CPU of the cold diagram on this shared machine,
bench_diagram's medians for main against it in the same hour: brainpy 2.36 -> 1.68 s, classic
2.91 -> 1.95 s): find_equilibria's refine program no longer holds the batched Aberth
eigenvalues for the diagram's single-point searches (eigenvalues of <= 64 roots by LAPACK on
the host; its executable 2.1 -> 0.54 MB, ~0.3 -> ~0.08 s to load); LSODA calls the right-hand
side's executable directly (program_for: ~32 instead of ~55 us per call) and a start's first
chunk has no (dummy) event function. Loads now ~0.55-0.65 s, the largest the Hopf locator's
Newton (solve, 1.1 MB, ~0.15-0.2 s: the jacfwd of the Hopf system through the generated
Jacobian; an assembled Jacobian from B made it only 20% smaller). Classic's warm diagram costs
more than brainpy's although it has fewer orbits (113 against 121): its five cycle special
points (3 LPC, 2 PD at the twist near I = 7.84-7.92; brainpy has one LPC) take 33 corrector
solves by Brent's method on the step length (~6 ms each, ~0.2 s), the PD test functions
needing up to 11.

Run: .venv/bin/python benchmarks/bench_diagram.py [--repeats N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import hhanalysis as hh

sys.path.insert(0, str(Path(__file__).parent))
import _auto07p  # noqa: E402
from _table import Table  # noqa: E402

COLD = """
import time, json
t0 = time.perf_counter()
c0 = time.process_time()
import hhanalysis as hh
import hhanalysis.continuation  # the analysis modules (jax, sympy, scipy) that hh loads lazily
t = time.perf_counter()
c = time.process_time()
d = hh.bifurcation_diagram(hh.hodgkin_huxley(preset={preset!r}), "I", (-10.0, 200.0))
print(json.dumps([time.perf_counter() - t, t - t0, time.process_time() - c]))
"""

LAST_FOLD = {"brainpy": "LP1", "classic": "LP3"}


def fresh_process(preset: str, cache: str) -> tuple[float, float, float]:
    """(diagram seconds, import seconds, diagram CPU seconds) of a new Python process on the
    cache dir ``cache``."""
    env = dict(os.environ, HHANALYSIS_CACHE_DIR=cache)
    out = subprocess.run([sys.executable, "-c", COLD.format(preset=preset)], capture_output=True,
                         text=True, check=True, env=env).stdout
    return tuple(json.loads(out.strip().splitlines()[-1]))


def auto_round(am, preset: str):
    """The four AUTO-07p runs of the diagram: (their executables' wall time, CPU time, the runs)."""
    c0 = os.times()
    up = am.run(_auto07p.equilibrium_constants(0.01, -10, 200))
    down = am.run(_auto07p.equilibrium_constants(-0.01, -10, 200))
    hb = [r for r in up.points if r[0] == 3]
    lo = am.run(_auto07p.periodic_constants(hb[0][1], LAST_FOLD[preset]), up.solutions)
    hi = am.run(_auto07p.periodic_constants(hb[1][1], "LP1"), up.solutions)
    c1 = os.times()
    cpu = c1.children_user + c1.children_system - c0.children_user - c0.children_system
    return sum(r.seconds for r in (up, down, lo, hi)), cpu, (up, down, lo, hi)


def cold_and_auto(preset: str, repeats: int):
    """The first fresh process ever (an empty cache), then ``repeats`` rounds of one fresh
    process on the filled cache followed by one AUTO-07p diagram, so that both see the same
    load; per-round ratios. Returns (no-cache seconds, rounds, AUTO results, AUTO compile s),
    each round (cold s, import s, cold CPU s, AUTO s, AUTO CPU s)."""
    model = hh.hodgkin_huxley(preset=preset)
    rest = hh.find_equilibria(model)[0].x
    am = _auto07p.AutoModel(model, rest, "I")
    rounds = []
    try:
        with tempfile.TemporaryDirectory(prefix="hh-bench-cache-") as cache:
            nocache = fresh_process(preset, cache)[0]
            for _ in range(repeats):
                cold, imp, cpu = fresh_process(preset, cache)
                t_auto, auto_cpu, runs = auto_round(am, preset)
                rounds.append((cold, imp, cpu, t_auto, auto_cpu))
        return nocache, rounds, runs, am.compile_seconds
    finally:
        am.cleanup()


def ours(preset: str, repeats: int = 7):
    model = hh.hodgkin_huxley(preset=preset)
    d = hh.bifurcation_diagram(model, "I", (-10.0, 200.0))
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        d = hh.bifurcation_diagram(model, "I", (-10.0, 200.0))
        times.append(time.perf_counter() - t)
    return statistics.median(times), d


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5,
                        help="fresh processes on the filled cache, warm calls and AUTO runs "
                             "(medians; default 5)")
    repeats = parser.parse_args().repeats
    rows = []
    med = statistics.median
    for preset in ("brainpy", "classic"):
        nocache, rounds, (up, down, lo, hi), t_compile = cold_and_auto(preset, repeats)
        warm, d = ours(preset, repeats)
        cold, imp, cold_cpu, t_auto, auto_cpu = (med(r[i] for r in rounds) for i in range(5))
        ratio = [r[0] / r[3] for r in rounds]
        print(f"[{preset}] rounds (cold s, import s, cold CPU s, AUTO s, AUTO CPU s): "
              + ", ".join("(" + ", ".join(f"{v:.2f}" for v in r) + ")" for r in rounds))
        lpc = sorted({round(r[2], 10): r[3][-1] for r in lo.points + hi.points
                      if r[0] == 5}.items())
        pd = [(r[2], r[3][-1]) for r in lo.points + hi.points if r[0] == 7]
        print(f"[{preset}] hhanalysis: {d!r}")
        print(f"[{preset}] AUTO-07p LPC (I, T): "
              + ", ".join(f"({i:.10f}, {T:.9f})" for i, T in lpc)
              + "; PD: " + (", ".join(f"({i:.10f}, {T:.9f})" for i, T in pd) or "none"))
        n_eq = sum(len(b) for b in d.equilibria)
        n_cy = sum(len(b) for b in d.cycles)
        col = d.cycles[0].collocation
        rows.append((preset, nocache, cold, imp, warm, t_auto, nocache / t_auto, med(ratio),
                     f"{min(ratio):.2f}-{max(ratio):.2f}",
                     med((r[0] + r[1]) / r[3] for r in rounds), warm / t_auto,
                     med(r[2] / r[4] for r in rounds), f"{n_eq}+{n_cy}",
                     f"{len(up.points) + len(down.points)}+{len(lo.points)}+{len(hi.points)}",
                     f"{col.ntst}/{col.ncol}", t_compile))
    print()
    print("HH bifurcation diagram: equilibria I in [-10, 200] + the Hopf-born cycle branch past "
          "its folds")
    table = Table([("preset", "s"), ("no cache s", ".2f"), ("cold s", ".2f"),
                   ("(import s)", ".2f"), ("warm s", ".3f"), ("AUTO s", ".3f"),
                   ("no cache/AUTO", ".1f"), ("cold/AUTO", ".2f"), ("(range)", "s"),
                   ("+import/AUTO", ".2f"),
                   ("warm/AUTO", ".2f"), ("CPU cold/AUTO", ".2f"),
                   ("pts ours (eq+PO)", "s"), ("pts AUTO (eq+PO+PO)", "s"), ("NTST/NCOL", "s"),
                   ("AUTO f90 compile s", ".2f")])
    table.header()
    for r in rows:
        table.row(*r)

if __name__ == "__main__":
    main()
