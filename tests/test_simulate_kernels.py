"""The GPU routes of the simulator (hhanalysis.simulate.kernels), tested without a GPU: the fused
XLA step and the Pallas kernel (interpret mode on the CPU) against the default XLA step, and the
Pallas kernel's lowering for CUDA (Triton), in float32 and float64. On a GPU backend the same
tests run the compiled Triton kernel."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hhanalysis as hh
import hhanalysis.brainpy as bp
from hhanalysis.simulate import Execution, NeuronGroup
from hhanalysis.simulate.kernels import BLOCK, pallas_chunk_runner
from hhanalysis.simulate.runner import _with_fallback, kernel_route

N = 100  # not a multiple of the Pallas block: the padding is exercised
STEPS = 100


def _group(case, dtype):
    rng = np.random.default_rng(1)
    if case == "ml":  # Morris-Lecar (tanh, cosh; no exponential Euler singularities)
        return NeuronGroup(hh.morris_lecar(), N, dtype=dtype, method="exp_auto",
                           initial={"V": rng.uniform(-60.0, -20.0, N), "w": 0.0},
                           params={"gCa": rng.uniform(4.0, 4.4, N)})
    model = hh.hodgkin_huxley() if case == "hh_brainpy" else hh.hodgkin_huxley("classic")
    x0 = {"V": rng.uniform(-70.0, -60.0, N), "m": 0.05, "h": 0.6, "n": 0.32}
    return NeuronGroup(model, N, dtype=dtype, initial=x0, threshold=0.0,
                       params={"gK": rng.uniform(30.0, 40.0, N)})


def _run(case, dtype, kernel, method="exp_auto", dt=None, steps=STEPS, chunk_steps=64):
    """Two runs of ``steps // 2`` steps (the second continues), in chunks of at most
    ``chunk_steps`` steps, every input kind, whole-variable and indexed monitors. (The Pallas kernel
    pads a chunk's rows to a power of two, 50 -> 64, and cuts runs longer than a chunk into
    chunks of a power of two.)"""
    group = _group(case, dtype)
    group.method = method
    dt = dt or (0.25 if case == "ml" else 0.04)  # ML is slower: 25 ms, HH 4 ms
    scale = 40.0 if case == "ml" else 8.0
    series = scale + scale / 2 * np.sin(np.arange(steps // 2) * 0.05)  # shared by all neurons
    per_neuron = np.random.default_rng(2).uniform(0.0, scale / 4, N)
    kick = np.zeros((steps // 2, N))
    kick[min(10, steps // 2 - 1), ::7] = 5.0  # a per-neuron series on the spike variable
    v = group.model.state_names[0]
    names = group.model.state_names
    monitors = {name: None for name in group.variables} | {
        names[1]: [N - 1, 5, 0, 64, 5], "input": [7, N - 2]}  # two indexed, one repeated
    runner = bp.DSRunner(group, monitors=monitors, dt=dt, chunk_steps=chunk_steps,
                         execution=Execution(kernel=kernel, block_size=None),
                         inputs=[("input", series, "iter"), ("input", per_neuron),
                                 (v, kick, "iter"), ("input", lambda t: 0.5 * t, "func")])
    mons = []
    for _ in range(2):
        runner.run(steps // 2 * dt)
        mons.append({k: np.asarray(runner.mon[k]) for k in runner.mon.keys()})
    return group, mons


CASES = ["hh_brainpy", "hh_classic", "ml"]


#: Agreement of whole trajectories, relative to each variable's scale. The routes evaluate the
#: same expressions; one step differs by round-off (<= 4 ulp, checked on the first row), which the
#: flow amplifies through spikes (measured over 100 steps: up to ~3e3 ulp in V of Morris-Lecar,
#: i.e. ~6e-13 in float64, ~7e-5 in float32). A wrong input, spike rule or method differs at
#: O(dt) ~ 1e-2.
TRAJECTORY_RTOL = {"float64": 1e-10, "float32": 1e-3}
#: ulp one step may differ by: on the CPU every route evaluates exp, tanh, ... with XLA's code;
#: on a GPU the Pallas kernel uses Triton's (libdevice), so a few more ulp are allowed there.
STEP_ULP = 4 if jax.default_backend() == "cpu" else 32


def _assert_close(a, b, dtype, what, first_row=True):
    """Monitors (or states) ``b`` equal ``a``: spikes exactly, the first row (one step) within
    :data:`STEP_ULP`, everything within :data:`TRAJECTORY_RTOL` of each variable's scale."""
    eps = np.finfo(dtype).eps
    for name in a:
        assert b[name].shape == a[name].shape and b[name].dtype == a[name].dtype, (what, name)
        if name == "spike":
            np.testing.assert_array_equal(b[name], a[name], err_msg=f"{what} {name}")
            continue
        x, y = a[name].astype(np.float64), b[name].astype(np.float64)
        if first_row:
            assert np.all(np.abs(y[0] - x[0]) <= STEP_ULP * eps * np.abs(x[0])), (
                what, name, "step 1")
        scale = np.max(np.abs(x), axis=0) + 1.0  # per neuron: V ~ 1e2, gates ~ 1
        assert np.all(np.abs(y - x) <= TRAJECTORY_RTOL[np.dtype(dtype).name] * scale), (
            what, name)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", CASES)
def test_gpu_routes_equal_the_xla_step(case, dtype):
    """The fused XLA step and the Pallas kernel (interpret mode) against the default XLA step:
    two runs with every input kind and every whole-variable monitor."""
    g0, m0 = _run(case, dtype, "xla")
    assert sum(m["spike"].sum() for m in m0) > 0  # the comparison covers spikes
    for kernel in ("fused", "pallas"):
        g1, m1 = _run(case, dtype, kernel)
        for run, (a, b) in enumerate(zip(m0, m1)):
            _assert_close(a, b, dtype, f"{kernel} run {run}", first_row=run == 0)
        _assert_close({"X": np.asarray(g0.X).T, "spike": np.asarray(g0.spike)},
                      {"X": np.asarray(g1.X).T, "spike": np.asarray(g1.spike)}, dtype,
                      f"{kernel} final state", first_row=False)


@pytest.mark.parametrize("method", ["euler", "rk2", "rk4"])
def test_every_fixed_step_method_in_the_pallas_kernel(method):
    """float64, HH, two runs of 32 steps in chunks of 16: the other fixed-step
    methods agree as well (the fused route runs the same tuple-state integrators,
    :func:`~hhanalysis.simulate.kernels.fused_step`)."""
    g0, m0 = _run("hh_brainpy", "float64", "xla", method, dt=0.01, steps=64, chunk_steps=16)
    g1, m1 = _run("hh_brainpy", "float64", "pallas", method, dt=0.01, steps=64,
                  chunk_steps=16)
    for run, (a, b) in enumerate(zip(m0, m1)):
        _assert_close(a, b, np.float64, f"pallas {method}", first_row=run == 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pallas_kernel_lowers_for_cuda(dtype, x64):
    """The Triton lowering (which rejects the operations it has no rule for, e.g. optimisation
    barriers) runs on the CPU: the kernel with whole and indexed monitors, shared and
    per-neuron series, rk4 and exponential Euler lowers to a Triton custom call."""
    group = bp.HH(N, dtype=dtype)
    cm = group.model.compile()
    names = group.model.state_names
    P = [jnp.asarray(p, dtype) for p in group.param_list()]
    monitors = (("V", False), ("spike", True), ("input", False), ("n", True))
    targets = ((("input", "+"),), (("input", "+"), ("V", "+")), (("input", "="),))
    fixed = [jnp.linspace(5.0, 15.0, N, dtype=dtype)]
    iters = [jnp.ones((STEPS, 1), dtype), jnp.zeros((STEPS, N), dtype)]
    funcs = [jnp.ones((STEPS, 1), dtype)]
    for method in ("exp_auto", "rk4"):
        run = pallas_chunk_runner(cm, method, names, 0, names.index("V") + 9, monitors,
                                  targets, STEPS, 0.01, BLOCK, False)
        lowered = run.trace(group.X, P, group.threshold_value().astype(dtype), fixed, iters,
                            funcs, group.spike, {"spike": jnp.array([[3, 99, 3]]),
                                                 "n": jnp.array([[0]])}
                            ).lower(lowering_platforms=("cuda",))
        text = lowered.as_text()
        assert "__gpu$xla.gpu.triton" in text or "triton" in text.lower(), method


def test_kernel_setting_is_checked():
    with pytest.raises(ValueError, match=r"Execution.kernel must be one of \['auto', 'xla'"):
        Execution(kernel="cuda")
    with pytest.raises(ValueError, match="Execution.kernel"):
        Execution(kernel=None)
    group = bp.HH(100)
    runner = bp.DSRunner(group, monitors={"V": list(range(65))},
                         execution=Execution(kernel="pallas"))
    with pytest.raises(ValueError, match="kernel='pallas'.*more than 64 chosen neurons"):
        runner.run(1.0)
    adaptive = bp.HH(4, method="dopri5")
    for kernel in ("fused", "pallas"):
        with pytest.raises(ValueError, match=f"kernel='{kernel}'.*adaptive"):
            bp.DSRunner(adaptive, execution=Execution(kernel=kernel)).run(1.0)


def test_auto_takes_pallas_only_on_a_gpu_and_when_supported():
    on_gpu = jax.default_backend() == "gpu"
    assert kernel_route("auto", "exp_auto", {"V": None}, False) == ("pallas" if on_gpu else "xla")
    assert kernel_route("auto", "exp_auto", {"V": (0, 1)}, False) == ("pallas" if on_gpu
                                                                        else "xla")
    assert kernel_route("auto", "exp_auto", {"V": tuple(range(65))}, False) == "xla"
    assert kernel_route("auto", "kvaerno5", {}, False) == "xla"
    assert kernel_route("auto", "exp_auto", {}, True) == "xla"
    assert kernel_route("fused", "rk4", {"V": (0,)}, False) == "fused"


def test_a_failing_kernel_falls_back_with_a_warning():
    def broken(*args):
        raise RuntimeError("triton: out of resources\ndetails")

    run = _with_fallback(broken, lambda *args: sum(args))
    with pytest.warns(RuntimeWarning, match="out of resources.*XLA step"):
        assert run(1, 2) == 3
    assert run(3, 4) == 7  # not tried again
