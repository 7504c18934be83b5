"""Equilibria and spectra of HH at I = 0 and I = 10, l1 at both Hopf points, and the wall time of
the 10,001- and 100,000-point vectorised sweeps of find_equilibria (cold in a fresh process, then
warm; warm also as process CPU time, which a loaded machine inflates less).

Run: .venv/bin/python benchmarks/bench_equilibria.py
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time

import numpy as np

import hhanalysis as hh

COLD = """
import time, json, numpy as np
import hhanalysis as hh
m = hh.hodgkin_huxley(preset={preset!r})
t = time.perf_counter()
s = hh.find_equilibria(m, I=np.linspace(0, 200, 10_001))
print(json.dumps(time.perf_counter() - t))
"""


def main():
    for preset in ("brainpy", "classic"):
        model = hh.hodgkin_huxley(preset=preset)
        print(f"=== preset {preset!r} (gL = {model.defaults['gL']:g})")
        for I in (0.0, 10.0):
            eqs = hh.find_equilibria(model, I=I)
            print(f"I = {I:g}:")
            print(eqs)
        branch = hh.continue_equilibria(model, "I", 0.0, 200.0)
        for h in branch.hopf_points:
            print(f"Hopf I = {h.param:.10f}  omega = {h.data.omega:.10f}  "
                  f"l1 = {h.data.l1:+.6e} ({h.data.criticality})")
    print()
    print(f"{'preset':<8} {'sweep points':>12} {'cold s (fresh process)':>23} {'warm s':>8} "
          f"{'warm CPU s':>10}")
    for preset in ("brainpy", "classic"):
        cold = json.loads(subprocess.run([sys.executable, "-c", COLD.format(preset=preset)],
                                         capture_output=True, text=True, check=True).stdout)
        model = hh.hodgkin_huxley(preset=preset)
        for size in (10_001, 100_000):
            I = np.linspace(0, 200, size)
            hh.find_equilibria(model, I=I)
            warm, cpu = [], []
            for _ in range(5):
                t, c = time.perf_counter(), time.process_time()
                hh.find_equilibria(model, I=I)
                warm.append(time.perf_counter() - t)
                cpu.append(time.process_time() - c)
            cold_s = f"{cold:>23.3f}" if size == 10_001 else f"{'':>23}"
            print(f"{preset:<8} {I.size:>12d} {cold_s} {statistics.median(warm):>8.3f} "
                  f"{statistics.median(cpu):>10.3f}")


if __name__ == "__main__":
    main()
