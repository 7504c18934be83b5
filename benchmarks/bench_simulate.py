"""Simulation throughput (neuron-steps per second): hhanalysis against BrainPy in the same run.

Cases: N in {1, 10^3, 10^5, 10^6} uncoupled HH neurons, dt = 0.01 ms, 100 ms (10^4 steps),
exp_auto, constant input 10 uA/cm^2, no monitors, float32 and float64. Every (tool, dtype, N) case
runs in a fresh process: 'cold' is the first run (compilation included), 'warm' the second run of
the same runner. BrainPy 2.8.2 is installed into its own virtual environment
(``.bench-venv-brainpy``, created on first use; pass --no-brainpy to skip it); its legacy
``bp.neurons.HH`` is the model with the seed's ``input`` variable. Timings block on the result.

Also printed: the exponential throughput of this machine (jnp.exp on 10^6 elements) and the
arithmetic limit it implies for HH exponential Euler (8 exponentials per neuron-step: 4 shared
rate exponentials e^{-V/10}, e^{-V/18}, e^{-V/20}, e^{-V/80} and 4 for the exp-Euler factors).

Run: .venv/bin/python benchmarks/bench_simulate.py [--sizes 1 1000 100000 1000000] [--duration 100]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).parent))
from _table import Table  # noqa: E402

BP_VENV = ROOT / ".bench-venv-brainpy"

OURS = """
import json, sys, time
import hhanalysis as hh
dtype, N, duration = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
group = hh.HH(N, dtype=dtype)
runner = hh.DSRunner(group, monitors=None, inputs=("input", 10.0), dt=0.01)
t = time.perf_counter(); runner.run(duration); group.V.block_until_ready()
cold = time.perf_counter() - t
t = time.perf_counter(); runner.run(duration); group.V.block_until_ready()
warm = time.perf_counter() - t
print(json.dumps({"cold": cold, "warm": warm}))
"""

BRAINPY = """
import json, sys, time
dtype, N, duration = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
import jax
import brainpy as bp, brainpy.math as bm
if dtype == "float64":
    bm.enable_x64()
bm.set_dt(0.01)
group = bp.neurons.HH(N)
runner = bp.DSRunner(group, monitors=[], inputs=("input", 10.0), progress_bar=False)
t = time.perf_counter(); runner.run(duration); jax.block_until_ready(group.V.value)
cold = time.perf_counter() - t
t = time.perf_counter(); runner.run(duration); jax.block_until_ready(group.V.value)
warm = time.perf_counter() - t
print(json.dumps({"cold": cold, "warm": warm}))
"""

EXP_RATE = """
import json, sys, time, jax, jax.numpy as jnp
jax.config.update("jax_enable_x64", True)
x = jnp.linspace(-5, 5, 1_000_000, dtype=sys.argv[1])
f = jax.jit(lambda x: jax.lax.fori_loop(0, 200, lambda i, y: jnp.exp(-y * 1e-3), x))
f(x).block_until_ready()
t = time.perf_counter(); f(x).block_until_ready(); s = time.perf_counter() - t
print(json.dumps(200 * x.size / s))
"""


def ensure_brainpy() -> Path:
    py = BP_VENV / "bin" / "python"
    if not py.exists():
        print("creating .bench-venv-brainpy with brainpy 2.8.2 ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(BP_VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "brainpy==2.8.2", "jax==0.10.2",
                        "jaxlib==0.10.2"], check=True)
    return py


def case(python, code, dtype, N, duration):
    proc = subprocess.run([str(python), "-c", code, dtype, str(N), str(duration)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="*", default=[1, 1000, 100_000, 1_000_000])
    ap.add_argument("--duration", type=float, default=100.0)
    ap.add_argument("--no-brainpy", action="store_true")
    args = ap.parse_args()
    bp_python = None if args.no_brainpy else ensure_brainpy()
    steps = round(args.duration / 0.01)
    print(f"HH, exp_auto, dt=0.01 ms, {args.duration:g} ms ({steps} steps), no monitors; "
          "neuron-steps/s (warm), seconds (cold)")
    table = Table([("dtype", "s"), ("N", "d"), ("ours warm", ".3e"), ("BrainPy warm", ".3e"),
                   ("ratio", ".2f"), ("ours cold s", ".2f"), ("BrainPy cold s", ".2f")])
    table.header()
    for dtype in ("float32", "float64"):
        for N in args.sizes:
            work = N * steps
            ours = case(sys.executable, OURS, dtype, N, args.duration)
            theirs = case(bp_python, BRAINPY, dtype, N, args.duration) if bp_python else {}
            rate = work / ours["warm"] if "warm" in ours else float("nan")
            bp_rate = work / theirs["warm"] if "warm" in theirs else float("nan")
            table.row(dtype, N, rate, bp_rate, rate / bp_rate, ours.get("cold", float("nan")),
                      theirs.get("cold", float("nan")))
            for who, r in (("ours", ours), ("BrainPy", theirs)):
                if "error" in r:
                    print(f"   {who} failed: {r['error']}")
    print()
    for dtype in ("float32", "float64"):
        rate = json.loads(subprocess.run([sys.executable, "-c", EXP_RATE, dtype],
                                         capture_output=True, text=True, check=True).stdout)
        print(f"{dtype}: jnp.exp throughput {rate:.3e}/s on this machine -> arithmetic limit "
              f"{rate / 8:.3e} neuron-steps/s at 8 exp per HH exp-Euler neuron-step")


if __name__ == "__main__":
    t = time.perf_counter()
    main()
    print(f"\nbenchmark wall time {time.perf_counter() - t:.0f} s")
