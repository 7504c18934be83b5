"""Cold cost of building and compiling the HH functions, and warm cost of one evaluation.

Run: .venv/bin/python benchmarks/bench_codegen.py  (a fresh process: the cold numbers need it)
"""

import time

t0 = time.perf_counter()
import numpy as np  # noqa: E402

import hhanalysis as hh  # noqa: E402

t_import = time.perf_counter() - t0


def timed(fn, *args, repeat=1):
    t = time.perf_counter()
    for _ in range(repeat):
        out = fn(*args)
    out.block_until_ready()
    return (time.perf_counter() - t) / repeat


model = hh.hodgkin_huxley()
t = time.perf_counter()
cm = model.compile()
t_gen = time.perf_counter() - t
x = np.array([-65.0, 0.05, 0.6, 0.32])
p = model.param_vector()
rows = [("import hhanalysis (incl. jax)", t_import), ("sympy: derive + CSE + print", t_gen)]
for name in ("f", "jac_x", "jac_p", "B", "C"):
    fn = getattr(cm, name)
    args = (x, p) + (x,) * {"B": 2, "C": 3}.get(name, 0)
    cold = timed(fn, *args)
    warm = timed(fn, *args, repeat=2000)
    rows.append((f"{name}: first call (jit compile)", cold))
    rows.append((f"{name}: warm call", warm))
width = max(len(r[0]) for r in rows)
print(f"{'HH code generation (preset brainpy, float64)':<{width}}  {'seconds':>12}")
for name, s in rows:
    print(f"{name:<{width}}  {s:12.3e}")
