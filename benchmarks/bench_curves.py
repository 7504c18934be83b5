"""Two-parameter curves: the (I, gK) Hopf curve of the brainpy preset, hhanalysis vs AUTO-07p.

Same curve, same window and the same continuation settings in both tools: from the lower Hopf
point H1 (I ~ 6.496 at gK = 36), both directions, DS = 0.01, DSMIN = 1e-6, DSMAX = 0.5,
EPSL = EPSU = 1e-10, NMX = 3000, stopping at I in [-100, 1000] and gK in [0, 200] (AUTO-07p:
IPS = 1, ISW = 2, ICP = [I, gK], the settings of tests/data/auto07p_hopf_curve_IgK_brainpy.json).
hhanalysis also detects and locates its codim-2 points (BT, GH with l2), its turning points and
l1 at every point; AUTO-07p detects BT, GH (with EPSS = 1e-5) and the LP in I.

AUTO-07p's time is the wall time of its two executable runs (compiled once from generated
Fortran with analytic Jacobians, OMP_NUM_THREADS=1). 'warm' is the median of repeated calls in
one process, alternating with AUTO-07p's runs round by round (so the machine's load hits both
alike), and warm/AUTO is the median of the per-round ratios; 'cold' is a fresh process
(import, code generation, compilation, the run) with JAX's persistent cache as the user has
it. The last row is the whole
``two_parameter_diagram`` of the plane (I in [-10, 200], gK in [0, 60]) in a fresh process.

``--stages`` prints where the warm time goes instead: wall and CPU time per call of the curve,
of its compiled chunks of PALC steps, of the hooks between them (one compiled call for f_x at
the chunk's points and the next borders' matrix, the eigenvalues for the Bogdanov–Takens end
test, the border refresh) and of the post-processing (l1 at every point, detection and location
of all test functions' zeros in one call, normal forms).

Run: .venv/bin/python benchmarks/bench_curves.py [--rounds 9] [--no-cold] [--stages]

Measured on the shared 2-core machine (load average 4-8 from other jobs: single runs vary by
2x, so compare medians of alternating rounds, and the tree before the change in the same
window). 2026-11-30, ``--rounds 15 --no-cold``, four windows, this tree / the one before:
warm/AUTO 0.41 / 0.64, 0.39 / 0.66, 0.55 / 0.60, 0.47 / 0.54 (857 points against AUTO's 893, the
same BT, GH, GH and LP); the ratio is highest when the machine is quiet (AUTO's process start
and file I/O shrink most then: ours ~0.05-0.06 s, AUTO ~0.09-0.11 s). ``--stages``, same
window: whole curve 61 / 86 ms CPU (76 / 126 wall); PALC chunks 28 / 35; hooks 8 / 14; end
point on the bound 0.7 / 3.1; location 4.3 (one call) / 9.6 (four); l2 at the two GH points
7.6 / 10.7; a, b at BT 0.9 / 1.7; l1 at every point ~3.5.

Later the same day (chord corrector, l1 without the bordered solve and with unrolled solves,
merged polarization directions), this tree against the one before *in one process*, 60
alternating warm calls (the tree before imported under another name, so that both see the
same load; single runs of the table below varied 45-60 ms CPU for the same tree within a
minute): CPU per curve median 42.8 / 49.8 ms, per-round ratio 0.86 (quartiles 0.81-0.91).
``--stages`` back to back: whole 44 / 45-60 ms CPU; PALC chunks 19.6 / 20-27; hooks 6.5 /
5.8-7.9; location 3.0-3.5 / 3.4-4.6; l2 4.9-5.3 / 5.6-7.3; same 857 points, codim-2 points
within 2e-12 (l2) and 1e-14 (coordinates) of before.
"""

from __future__ import annotations

import argparse
import collections
import functools
import json
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path

import hhanalysis as hh

sys.path.insert(0, str(Path(__file__).parent))
import _auto07p  # noqa: E402
from _table import Table  # noqa: E402

BOUNDS = {"I": (-100.0, 1000.0), "gK": (0.0, 200.0)}

COLD = """
import time, json
t0 = time.perf_counter()
import hhanalysis as hh
m = hh.hodgkin_huxley("brainpy")
h = hh.continue_equilibria(m, "I", 0.0, 200.0).hopf_points[0]
t = time.perf_counter()
c = hh.continue_hopf(m, h, ("I", "gK"), {BOUNDS!r})
t1 = time.perf_counter()
d = hh.two_parameter_diagram(m, ("I", "gK"), {{"I": (-10, 200), "gK": (0, 60)}})
print(json.dumps([t1 - t, t1 - t0, time.perf_counter() - t1]))
"""


class AutoCurve:
    """AUTO-07p's Hopf curve from H1 (both directions), compiled once; :meth:`run` times it."""

    def __init__(self):
        m = hh.hodgkin_huxley("brainpy")
        eq = hh.find_equilibria(m, I=0.0)
        self.am = _auto07p.AutoModel(m, eq.x[0], "I")
        self.r1 = self.am.run(_auto07p.equilibrium_constants(0.01, -10, 260))
        hb = [lab for ty, lab, _, _ in self.r1.points if ty == 3][0]
        self.const = f"""NDIM= 4, IPS = 1, IRS = {hb}, ILP = 1
ICP = [1, 5]
NTST= 100, NCOL= 4, IAD = 3, ISP = 2, ISW = 2, IPLT= 0, NBC= 0, NINT= 0
NMX= 3000, NPR= 0, MXBF= 10, IID = 2, ITMX= 8, ITNW= 7, NWTN= 3, JAC= 1
EPSL= 1e-10, EPSU = 1e-10, EPSS = 1e-05
DS = {{ds}}, DSMIN= 1e-06, DSMAX= 0.5, IADS= 1
NPAR = 10, THL = {{{{}}}}, THU = {{{{}}}}
UZSTOP = {{{{1: [-100, 1000], 5: [0, 200]}}}}
"""

    def run(self):
        """``(seconds, points, special points)`` of one run of both directions."""
        runs = [self.am.run(self.const.format(ds=ds), restart=self.r1.solutions)
                for ds in (0.01, -0.01)]
        seconds = sum(r.seconds for r in runs)
        points = sum(len(r.points) for r in runs)
        labels = [(ty, p) for r in runs for ty, _, p, _ in r.points if ty not in (0, 4, -4, 9)]
        return seconds, points, labels

    def cleanup(self):
        self.am.cleanup()


def side_by_side(rounds: int):
    """``rounds`` rounds of one warm call of ours and one AUTO-07p run, alternating (the load
    of the machine hits both alike): per-round times, the median ratio, the last results."""
    m = hh.hodgkin_huxley("brainpy")
    h = hh.continue_equilibria(m, "I", 0.0, 200.0).hopf_points[0]
    hh.continue_hopf(m, h, ("I", "gK"), BOUNDS)
    auto = AutoCurve()
    try:
        auto.run()
        ours, theirs = [], []
        for _ in range(rounds):
            t = time.perf_counter()
            c = hh.continue_hopf(m, h, ("I", "gK"), BOUNDS)
            ours.append(time.perf_counter() - t)
            seconds, points, labels = auto.run()
            theirs.append(seconds)
    finally:
        auto.cleanup()
    ratio = statistics.median(a / b for a, b in zip(ours, theirs))
    return ours, theirs, ratio, c, points, labels


def stages(rounds: int):
    """Wall and CPU milliseconds per curve spent in each stage (functions wrapped with timers;
    nested stages are included in their callers)."""
    from hhanalysis.continuation import curves, engine, normal_forms

    spent = collections.defaultdict(lambda: [0.0, 0.0, 0])
    wrapped = [(engine.PALC, "run_chunk", "compiled chunks of PALC steps"),
               (curves._Hooks, "end", "hooks: bound and BT end test, f_x, eigenvalues"),
               (curves._Hooks, "adapt", "hooks: border refresh"),
               (curves, "_trim", "end points moved onto the bounds"),
               (curves, "_build", "post-processing (all below)"),
               (curves, "_detect", "  detection, location, normal forms"),
               (curves, "_locate", "    location of all zeros (one compiled call)"),
               (normal_forms, "second_lyapunovs" if hasattr(normal_forms, "second_lyapunovs")
                else "second_lyapunov", "    l2 at GH points"),
               (normal_forms, "bogdanov_takens", "    a, b at BT points")]
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in wrapped]

    def timed(f, label):
        @functools.wraps(f)
        def g(*a, **k):
            t, c = time.perf_counter(), time.process_time()
            try:
                return f(*a, **k)
            finally:
                entry = spent[label]
                entry[0] += time.perf_counter() - t
                entry[1] += time.process_time() - c
                entry[2] += 1
        return g

    m = hh.hodgkin_huxley("brainpy")
    h = hh.continue_equilibria(m, "I", 0.0, 200.0).hopf_points[0]
    hh.continue_hopf(m, h, ("I", "gK"), BOUNDS)
    try:
        for owner, name, label in wrapped:
            setattr(owner, name, timed(getattr(owner, name), label))
        for _ in range(rounds):
            t, c = time.perf_counter(), time.process_time()
            hh.continue_hopf(m, h, ("I", "gK"), BOUNDS)
            spent["whole curve"][0] += time.perf_counter() - t
            spent["whole curve"][1] += time.process_time() - c
            spent["whole curve"][2] += 1
    finally:
        for owner, name, f in originals:
            setattr(owner, name, f)
    width = max(len(label) for *_, label in wrapped)
    table = Table([("stage".ljust(width), "s"), ("wall ms", ".1f"), ("CPU ms", ".1f"),
                   ("calls", ".1f")])
    table.header()
    for label in ["whole curve"] + [label for *_, label in wrapped]:
        wall, cpu, calls = spent[label]
        table.row(label, 1e3 * wall / rounds, 1e3 * cpu / rounds, calls / rounds)


def main(rounds: int = 9, cold: bool = True):
    if cold:
        cold_curve, cold_total, cold_plane = json.loads(subprocess.run(
            [sys.executable, "-c", COLD.format(BOUNDS=BOUNDS)], capture_output=True, text=True,
            check=True).stdout.strip().splitlines()[-1])
    else:
        cold_curve = cold_total = cold_plane = math.nan
    ours, theirs, ratio, curve, auto_pts, labels = side_by_side(rounds)
    table = Table([("curve", "s"), ("ours cold s", ".2f"), ("ours warm s", ".3f"),
                   ("AUTO s", ".3f"), ("warm/AUTO", ".2f"), ("pts ours", "d"),
                   ("pts AUTO", "d"), ("codim-2 ours", "s")])
    table.header()
    table.row("Hopf (I, gK) from H1", cold_curve, statistics.median(ours),
              statistics.median(theirs), ratio, len(curve), auto_pts,
              " ".join(s.kind.upper() for s in curve.codim2_points))
    print(f"\n{rounds} alternating rounds; warm/AUTO is the median of the per-round ratios "
          f"(target <= 0.5)\nours s: {' '.join(f'{t:.3f}' for t in ours)}\n"
          f"AUTO s: {' '.join(f'{t:.3f}' for t in theirs)}")
    print(f"fresh process: import + H1 + curve {cold_total:.2f} s; two_parameter_diagram of "
          f"the plane I in [-10, 200], gK in [0, 60]: {cold_plane:.2f} s (cold, target <= 30 s)")
    print(f"AUTO-07p special points (type code, I): {labels}")
    print(curve)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9, help="alternating rounds (default 9)")
    parser.add_argument("--no-cold", action="store_true", help="skip the fresh-process row")
    parser.add_argument("--stages", action="store_true",
                        help="where the warm time goes (per stage, per curve) instead")
    a = parser.parse_args()
    if a.stages:
        stages(a.rounds)
    else:
        main(a.rounds, not a.no_cold)
