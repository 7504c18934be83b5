"""Simulation throughput (neuron-steps per second): hhanalysis against BrainPy in the same run.

Cases: N in {1, 10^3, 10^5, 10^6} uncoupled HH neurons, dt = 0.01 ms, 100 ms (10^4 steps),
exp_auto, constant input 10 uA/cm^2, no monitors, float32 and float64. Every (tool, dtype, N) case
runs in a fresh process: 'cold' is the first run (compilation included), 'warm' the second run of
the same runner. BrainPy 2.8.2 is installed into its own virtual environment
(``.bench-venv-brainpy``, created on first use; pass --no-brainpy to skip it); its legacy
``bp.neurons.HH`` is the model with the seed's ``input`` variable. Timings block on the result.
``--brainpy-with-our-flags`` adds a column with BrainPy run under the XLA flags that
``import hhanalysis`` sets (512-bit vectors, no Eigen threads), for N >= 10^5: how much of the
gap is the flag alone.

Also printed: the arithmetic limit of this machine for an HH exponential-Euler step. The
operations and transcendental functions per neuron-step are XLA's own count for the compiled
step (``cost_analysis``); the machine's rates are measured on cache-resident data (32768
elements) with one host thread per core (exponentials: one per fused loop, as in the step;
multiply-adds: 8 independent chains of 8 per loop). The
limit is ``1 / (transcendentals/exp rate + operations/operation rate)``, the operation rate being
that of multiplies and adds (fused into multiply-adds) — optimistic, as divisions cost more and
loads and stores are ignored.

Run: .venv/bin/python benchmarks/bench_simulate.py [--sizes 1 1000 100000 1000000] [--duration 100]
     [--brainpy-with-our-flags] [--no-brainpy] [--limit-only]
"""

from __future__ import annotations

import argparse
import json
import os
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
import hhanalysis.brainpy as hbp
dtype, N, duration = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
group = hbp.dyn.HH(N, dtype=dtype)
runner = hbp.dyn.DSRunner(group, monitors=None, inputs=("input", 10.0), dt=0.01)
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

LIMIT = """
import json, sys, time
import jax, jax.numpy as jnp
jax.config.update("jax_enable_x64", True)  # this script traces internals; float64 needs x64
from hhanalysis.simulate import HH
from hhanalysis.simulate.execution import run_concurrently, _cpu_cores
from hhanalysis.simulate.integrators import exponential_euler
dtype, B = sys.argv[1], 32768  # in L2, large enough to hide the per-kernel launch cost
group = HH(B, dtype=dtype)
cm = group.model.compile()
P = [p.astype(dtype) for p in group.param_list()]
step = jax.jit(lambda X, P: exponential_euler(cm, X, P, 0.01))
cost = step.lower(group.X, P).compile().cost_analysis()
cost = cost[0] if isinstance(cost, list) else cost
ops, trans = cost["flops"] / B, cost["transcendentals"] / B

def rate(op, per_loop, loops, chains=1):
    # calls of op per second: `chains` independent arrays, each updated per_loop times per loop
    # iteration (independent chains keep the vector units busy instead of waiting on latency)
    def body(i, ys):
        for _ in range(per_loop):
            ys = tuple(op(y) for y in ys)
        return ys
    f = jax.jit(lambda ys: jax.lax.fori_loop(0, loops, body, ys))
    xs = [(tuple(jnp.linspace(0.1, 0.9, B, dtype=dtype) + k + c for c in range(chains)),)
          for k in range(_cpu_cores())]
    run_concurrently(f, xs)
    best = min(_timed(f, xs) for _ in range(5))
    return len(xs) * chains * B * loops * per_loop / best

def _timed(f, xs):
    t = time.perf_counter(); run_concurrently(f, xs); return time.perf_counter() - t

exp_rate = rate(lambda y: jnp.exp(y * -0.999), 1, 4000)
op_rate = 2 * rate(lambda y: y * 0.999 + 0.001, 8, 500, chains=8)  # a multiply and an add each
print(json.dumps({"ops": ops, "trans": trans, "exp_rate": exp_rate, "op_rate": op_rate,
                  "cores": _cpu_cores()}))
"""


def ensure_brainpy() -> Path:
    py = BP_VENV / "bin" / "python"
    if not py.exists():
        print("creating .bench-venv-brainpy with brainpy 2.8.2 ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(BP_VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "brainpy==2.8.2", "jax==0.10.2",
                        "jaxlib==0.10.2"], check=True)
    return py


OUR_FLAGS = "--xla_cpu_multi_thread_eigen=false --xla_cpu_prefer_vector_width=512"


def case(python, code, dtype, N, duration, xla_flags=None):
    env = dict(os.environ)
    if xla_flags is not None:
        env["XLA_FLAGS"] = xla_flags
    proc = subprocess.run([str(python), "-c", code, dtype, str(N), str(duration)],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="*", default=[1, 1000, 100_000, 1_000_000])
    ap.add_argument("--duration", type=float, default=100.0)
    ap.add_argument("--no-brainpy", action="store_true")
    ap.add_argument("--brainpy-with-our-flags", action="store_true")
    ap.add_argument("--limit-only", action="store_true", help="only the arithmetic limit")
    args = ap.parse_args()
    if args.limit_only:
        return arithmetic_limit({})
    bp_python = None if args.no_brainpy else ensure_brainpy()
    steps = round(args.duration / 0.01)
    nan = float("nan")
    print(f"HH, exp_auto, dt=0.01 ms, {args.duration:g} ms ({steps} steps), no monitors; "
          "neuron-steps/s (warm), seconds (cold)")
    table = Table([("dtype", "s"), ("N", "d"), ("ours warm", ".3e"), ("BrainPy warm", ".3e"),
                   ("ratio", ".2f"), ("BrainPy+flags warm", ".3e"), ("ratio+flags", ".2f"),
                   ("ours cold s", ".2f"), ("BrainPy cold s", ".2f")])
    table.header()
    best = {}
    for dtype in ("float32", "float64"):
        for N in args.sizes:
            work = N * steps
            ours = case(sys.executable, OURS, dtype, N, args.duration)
            theirs = case(bp_python, BRAINPY, dtype, N, args.duration) if bp_python else {}
            flagged = (case(bp_python, BRAINPY, dtype, N, args.duration, OUR_FLAGS)
                       if bp_python and args.brainpy_with_our_flags and N >= 100_000 else {})
            rate, bp_rate, bp_flag_rate = (work / r["warm"] if "warm" in r else nan
                                           for r in (ours, theirs, flagged))
            best[dtype] = max(best.get(dtype, 0.0), rate)
            table.row(dtype, N, rate, bp_rate, rate / bp_rate, bp_flag_rate,
                      rate / bp_flag_rate, ours.get("cold", nan), theirs.get("cold", nan))
            for who, r in (("ours", ours), ("BrainPy", theirs), ("BrainPy+flags", flagged)):
                if "error" in r:
                    print(f"   {who} failed: {r['error']}")
    arithmetic_limit(best)


def arithmetic_limit(best):
    nan = float("nan")
    print("\nArithmetic limit of an HH exp-Euler neuron-step on this machine")
    limit_table = Table([("dtype", "s"), ("ops/step", ".0f"), ("transc./step", ".0f"),
                         ("exp/s", ".3e"), ("ops/s", ".3e"), ("limit steps/s", ".3e"),
                         ("best ours", ".3e"), ("of limit", ".0%")])
    limit_table.header()
    for dtype in ("float32", "float64"):
        m = json.loads(subprocess.run([sys.executable, "-c", LIMIT, dtype], capture_output=True,
                                      text=True, check=True).stdout.strip().splitlines()[-1])
        limit = 1.0 / (m["trans"] / m["exp_rate"] + m["ops"] / m["op_rate"])
        achieved = best.get(dtype, nan)
        limit_table.row(dtype, m["ops"], m["trans"], m["exp_rate"], m["op_rate"], limit,
                        achieved, achieved / limit)
    print(f"({m['cores']} cores; 'ops' counts every elementwise operation as one)")


if __name__ == "__main__":
    t = time.perf_counter()
    main()
    print(f"\nbenchmark wall time {time.perf_counter() - t:.0f} s")
