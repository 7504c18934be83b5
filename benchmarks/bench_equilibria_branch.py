"""HH equilibrium branch I in [-10, 200] with both Hopf points located: hhanalysis vs AUTO-07p.

Both tools run the same two branches from the rest state at I = 0, as the AUTO reference runs in
shared/reference do: forward to I = 200 and backward to I = -10, with AUTO's settings (DS = 0.01,
DSMAX = 0.5, EPSL = EPSU = 1e-10, NTST/NCOL irrelevant for IPS = 1). AUTO-07p (Debian package) is
compiled once from a generated Fortran file with analytic Jacobians and run directly with
OMP_NUM_THREADS=1; its time is the executable's wall time for both runs.

hhanalysis 'cold' is measured in a fresh Python process (code generation + jit compilation +
the run, after `import hhanalysis`); 'warm' is the median of repeated calls in one process.

Run: .venv/bin/python benchmarks/bench_equilibria_branch.py
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import hhanalysis as hh

sys.path.insert(0, str(Path(__file__).parent))
import _auto07p  # noqa: E402
from _table import Table  # noqa: E402

COLD = """
import time, json
import hhanalysis as hh
t = time.perf_counter()
m = hh.hodgkin_huxley(preset={preset!r})
up = hh.continue_equilibria(m, "I", 0.0, 200.0)
down = hh.continue_equilibria(m, "I", 0.0, -10.0)
print(json.dumps(time.perf_counter() - t))
"""


def ours(preset: str, repeats: int = 15):
    cold = json.loads(subprocess.run([sys.executable, "-c", COLD.format(preset=preset)],
                                     capture_output=True, text=True, check=True).stdout)
    model = hh.hodgkin_huxley(preset=preset)
    hh.continue_equilibria(model, "I", 0.0, 200.0)
    hh.continue_equilibria(model, "I", 0.0, -10.0)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        up = hh.continue_equilibria(model, "I", 0.0, 200.0)
        down = hh.continue_equilibria(model, "I", 0.0, -10.0)
        times.append(time.perf_counter() - t)
    return cold, statistics.median(times), up, down


def auto(preset: str, repeats: int = 15):
    model = hh.hodgkin_huxley(preset=preset)
    rest = hh.find_equilibria(model)[0].x
    am = _auto07p.AutoModel(model, rest, "I")
    try:
        times, hopf, npts = [], None, 0
        for _ in range(repeats):
            up = am.run(_auto07p.equilibrium_constants(0.01, -10, 200))
            down = am.run(_auto07p.equilibrium_constants(-0.01, -10, 200))
            times.append(up.seconds + down.seconds)
            hopf = [r for r in up.points + down.points if r[0] == 3]
            npts = len(up.points) + len(down.points)
        return statistics.median(times), hopf, npts, am.compile_seconds
    finally:
        am.cleanup()


def main():
    rows = []
    for preset in ("brainpy", "classic"):
        cold, warm, up, down = ours(preset)
        t_auto, hopf_auto, n_auto, t_compile = auto(preset)
        ours_h = [h.param for h in up.hopf_points]
        rows.append((preset, cold, warm, t_auto, warm / t_auto, len(up) + len(down), n_auto,
                     t_compile))
        print(f"[{preset}] Hopf I, hhanalysis: {', '.join(f'{v:.10f}' for v in ours_h)}")
        print(f"[{preset}] Hopf I, AUTO-07p:   {', '.join(f'{r[2]:.10f}' for r in hopf_auto)}")
        for h in up.hopf_points:
            print(f"[{preset}]   omega={h.data.omega:.10f} rad/ms  l1={h.data.l1:+.6e} "
                  f"({h.data.criticality})")
    print()
    print("HH equilibrium branch, I from 0 to 200 and 0 to -10 (both Hopf points located)")
    table = Table([("preset", "s"), ("ours cold s", ".3f"), ("ours warm s", ".4f"),
                   ("AUTO s", ".4f"), ("warm/AUTO", ".2f"), ("pts ours", "d"), ("pts AUTO", "d"),
                   ("AUTO f90 compile s", ".3f")])
    table.header()
    for r in rows:
        table.row(*r)

if __name__ == "__main__":
    main()
