"""One prepared script for a scarce accelerator session (it runs on whatever backend JAX has):
simulator throughput against BrainPy when it is importable, and the equilibrium sweeps, in one
table. Measure and debug on CPU with ``--quick`` (small sizes, under a minute), then run it once
on the GPU.

Rows:

* ``simulate <kernel>``: uncoupled HH, exp_auto, dt = 0.01 ms, constant input 10 uA/cm^2, no
  monitors; warm neuron-steps/s (the second run of the same runner), float32 and float64, N from
  1e3 up to 1e7 (``--quick``: 1e3, 1e4) or until the device refuses the memory, for each route
  of ``Execution(kernel=...)`` (:mod:`hhanalysis.simulate.kernels`): ``xla`` (the CPU-tuned
  step), ``fused`` (XLA, tuple state, no barriers), ``pallas`` (the many-steps-per-launch
  kernel, Triton). On a CPU backend the Pallas kernel only runs in interpret mode: its rows are
  then one tiny check that the route runs (N = 1000, 1 ms), marked ``interpret``, not a timing.
  ``brainpy``: the same with BrainPy's ``bp.neurons.HH`` (measured once per dtype and N;
  ``ratio`` is each route's rate over it) when ``import brainpy`` works in
  this interpreter (on a GPU machine: ``pip install --no-deps --target DIR`` the BrainPy 2.8.2
  wheels and pass ``--brainpy-path DIR``); else the column says n/a.
* ``sweep``: ``find_equilibria`` of the classic HH over a 1-D current sweep (1e5 points; quick
  1e4) and an (I, gK) grid (1000 x 1000; quick 100 x 100), warm seconds and points/s.

* ``hopf``: :func:`hhanalysis.hopf_points` of the brainpy preset in I for 1000 values of gK
  (quick: 100), warm seconds and points/s.
* ``lpc``: :func:`hhanalysis.lpc_points` of the brainpy preset (the fold of cycles born at the
  lower Hopf point) in I for 1000 values of gK in [30, 45] (quick: 10): warm-started in order
  (``lax.scan``), and independent sets vmapped in chunks of 100 (``batch=100``; quick 10).

``--devices all`` spreads the populations and the sweeps over every device
(``Execution(devices=...)``, ``find_equilibria(devices=...)``).

Run: .venv/bin/python benchmarks/bench_gpu.py [--quick] [--duration 100] [--devices all]
     [--brainpy-path DIR] [--kernels xla,fused,pallas] [--pallas-block 128]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _table import Table  # noqa: E402


def _warm(fn, repeats=3):
    fn()
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def simulate_ours(N, dtype, duration, devices=None, kernel="xla"):
    import hhanalysis.brainpy as hbp
    from hhanalysis.simulate import Execution

    group = hbp.dyn.HH(N, dtype=dtype)
    runner = hbp.dyn.DSRunner(group, monitors=None, inputs=("input", 10.0), dt=0.01,
                              execution=Execution(devices=devices, kernel=kernel))

    def run():
        runner.run(duration)
        group.V.block_until_ready()

    return _warm(run, repeats=1)


def simulate_brainpy(N, dtype, duration):
    import brainpy as bp
    import brainpy.math as bm
    import jax

    if dtype == "float64":
        bm.enable_x64()
    bm.set_dt(0.01)
    group = bp.neurons.HH(N)
    runner = bp.DSRunner(group, monitors=[], inputs=("input", 10.0), progress_bar=False)

    def run():
        runner.run(duration)
        jax.block_until_ready(group.V.value)

    return _warm(run, repeats=1)


#: A route skips the next (10x larger) size when that run is predicted to take longer (s): a
#: slow route cannot push the script past its 5 minutes.
RUN_LIMIT = 20.0


def simulate_rows(table, dtype, sizes, duration, steps, devices, kernels, have_bp, on_cpu):
    """The ``simulate`` rows of one dtype: each route over the sizes (a route stops at the first
    size the device refuses or that fails, or whose run would take longer than
    :data:`RUN_LIMIT` judging by the last size); BrainPy once per size."""
    bp_rates = {}
    if have_bp:
        for N in sizes:
            try:
                bp_rates[N] = N * steps / simulate_brainpy(N, dtype, duration)
            except Exception as e:  # BrainPy's own failure is reported, not fatal
                bp_rates[N] = type(e).__name__
    for kernel in kernels:
        interpret = kernel == "pallas" and on_cpu
        last = None  # (N, seconds) of the last size
        for N in [1000] if interpret else sizes:
            label = f"simulate {kernel}" + (" (interpret)" if interpret else "")
            span = 1.0 if interpret else duration
            if last is not None and last[1] * N / last[0] > RUN_LIMIT:
                print(f"{label} {dtype} N={N:.0e}: skipped (predicted "
                      f"{last[1] * N / last[0]:.0f} s per run > {RUN_LIMIT:.0f} s)")
                break
            try:
                seconds = simulate_ours(N, dtype, span, devices, kernel)
                last = (N, seconds)
                ours = N * round(span / 0.01) / seconds
            except Exception as e:  # the device refused, or the route failed: say which
                print(f"{label} {dtype} N={N:.0e}: stopped ({type(e).__name__}: "
                      f"{str(e).splitlines()[0][:120] if str(e) else ''})")
                break
            theirs = "" if interpret else bp_rates.get(N, "n/a")
            ratio = f"{ours / theirs:.2f}" if isinstance(theirs, float) else ""
            theirs = f"{theirs:.3e}" if isinstance(theirs, float) else theirs
            table.row(label, dtype, N, N * round(span / 0.01) / ours, ours, theirs, ratio)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes for a CPU check")
    ap.add_argument("--duration", type=float, default=None, help="simulated ms (default 100; "
                    "quick: 10)")
    ap.add_argument("--brainpy-path", default=None, help="a folder holding BrainPy and its "
                    "dependencies (pip install --no-deps --target DIR ...), put on sys.path")
    ap.add_argument("--devices", default=None, help="'all' or a count: split the populations and "
                    "sweeps over devices")
    ap.add_argument("--kernels", default="xla,fused,pallas", help="simulator routes to measure "
                    "(Execution(kernel=...)), comma-separated; default xla,fused,pallas")
    ap.add_argument("--pallas-block", type=int, default=None, help="neurons per Pallas program "
                    "(a power of two, default hhanalysis.simulate.kernels.BLOCK = 128; "
                    "block // 32 warps)")
    args = ap.parse_args(argv)
    if args.pallas_block is not None:
        b = args.pallas_block
        if b < 1 or b & (b - 1):
            ap.error(f"--pallas-block: a power of two, got {b}")
        import hhanalysis.simulate.kernels

        hhanalysis.simulate.kernels.BLOCK = b  # read by the runner when a run starts
    kernels = [k for k in args.kernels.split(",") if k]
    from hhanalysis.simulate.execution import KERNELS

    if not kernels or any(k not in KERNELS for k in kernels):
        ap.error(f"--kernels: a comma-separated list of {list(KERNELS)}, got {args.kernels!r}")
    devices = None if args.devices is None else (
        args.devices if args.devices == "all" else int(args.devices))
    import jax

    import hhanalysis as hh

    duration = args.duration or (10.0 if args.quick else 100.0)
    steps = int(round(duration / 0.01))
    sizes = [10**3, 10**4] if args.quick else [10**k for k in range(3, 8)]
    if args.brainpy_path:
        sys.path.insert(0, args.brainpy_path)
    have_bp = importlib.util.find_spec("brainpy") is not None
    print(f"backend {jax.default_backend()}, devices {jax.devices()}, {steps} steps per run, "
          f"populations and sweeps on {args.devices or 1} device(s)")
    table = Table([(f"{'case':27}", ""), ("dtype", ""), ("size", ".0e"), ("ours s", ".4f"),
                   ("ours rate/s", ".3e"), ("brainpy rate/s", ""), ("ratio", "")])
    table.header()
    on_cpu = jax.default_backend() == "cpu"
    for dtype in ("float32", "float64"):
        simulate_rows(table, dtype, sizes, duration, steps, devices, kernels, have_bp, on_cpu)
    model = hh.hodgkin_huxley("classic")
    P = 10**4 if args.quick else 10**5
    I = np.linspace(0.0, 200.0, P)
    t = _warm(lambda: hh.find_equilibria(model, I=I, devices=devices))
    table.row("sweep I", "float64", P, t, P / t, "", "")
    side = 100 if args.quick else 1000
    grid = dict(I=np.linspace(0.0, 200.0, side)[:, None], gK=np.linspace(10.0, 60.0, side))
    t = _warm(lambda: hh.find_equilibria(model, devices=devices, **grid), repeats=1)
    table.row("sweep I x gK", "float64", side * side, t, side * side / t, "", "")
    sets = 100 if args.quick else 1000
    gK = np.linspace(30.0, 42.0, sets)
    brainpy = hh.hodgkin_huxley()

    def hopf():
        pts = hh.hopf_points(brainpy, "I", 6.5, gK=gK)
        jax.block_until_ready(pts.param)

    t = _warm(hopf)
    table.row("hopf points", "float64", sets, t, sets / t, "", "")
    hopf1 = hh.continue_equilibria(brainpy, "I", 0.0, 10.0).hopf_points[0]
    lpc = hh.lpc_point(brainpy, "I", hh.continue_cycles(brainpy, hopf1, (0.0, 10.0)))
    sets = 10 if args.quick else 1000
    gK = np.linspace(30.0, 45.0, sets)
    for label, kw in (("lpc points, scan", {}),
                      ("lpc points, vmap", {"warm_start": False, "batch": min(sets, 100)})):
        def lpcs(kw=kw):
            jax.block_until_ready(hh.lpc_points(brainpy, "I", lpc, gK=gK, **kw).param)

        t = _warm(lpcs, repeats=1)
        table.row(label, "float64", sets, t, sets / t, "", "")


if __name__ == "__main__":
    main()
