"""The simulator: convergence orders, spike times against a reference, BrainPy compatibility,
time stamps, inputs, and bad input."""

import functools

import numpy as np
import pytest
import reference_hh
import scipy.integrate

import hhanalysis as hh
import hhanalysis.brainpy as bp
from hhanalysis.simulate import spike_times
from hhanalysis.simulate.inputs import n_steps

X0 = {"V": -65.0, "m": 0.05, "h": 0.6, "n": 0.32}


def reference(model, x0, t_end, ts=None, events=None, **params):
    cm = model.compile()
    p = model.param_vector(**params)
    return scipy.integrate.solve_ivp(
        lambda t, x: np.asarray(cm.f(x, p)), (0, t_end), x0, method="Radau",
        jac=lambda t, x: np.asarray(cm.jac_x(x, p)), rtol=1e-12, atol=1e-12, t_eval=ts,
        events=events, dense_output=True)


def run_fixed(method, dt, t_end, I=10.0, dtype="float64"):
    group = bp.HH(1, method=method, dtype=dtype, V_initializer=bp.init.OneInit(X0["V"]),
                  m_initializer=bp.init.OneInit(X0["m"]), h_initializer=bp.init.OneInit(X0["h"]),
                  n_initializer=bp.init.OneInit(X0["n"]))
    runner = bp.DSRunner(group, monitors=["V", "m", "h", "n"], inputs=("input", I), dt=dt)
    runner.run(t_end)
    return runner, group


@pytest.mark.parametrize("method,order,dts", [
    ("euler", 1, [0.02, 0.01, 0.005, 0.0025]),
    ("exp_auto", 1, [0.02, 0.01, 0.005, 0.0025]),
    ("rk2", 2, [0.04, 0.02, 0.01, 0.005]),
    ("rk4", 4, [0.16, 0.08, 0.04, 0.02]),
])
def test_convergence_order(method, order, dts):
    model = hh.hodgkin_huxley(I=10.0)
    t_end = 1.28  # a multiple of every dt, before the first spike (smooth solution)
    ref = reference(model, [X0[k] for k in "Vmhn"], t_end).y[:, -1]
    errors = []
    for dt in dts:
        _, group = run_fixed(method, dt, t_end)
        scale = np.array([1, 0.01, 0.01, 0.01])  # mV and gates on comparable footing
        errors.append(np.max(np.abs(np.asarray(group.X[:, 0]) - ref) / scale))
    slope = np.polyfit(np.log(dts), np.log(errors), 1)[0]
    assert abs(slope - order) < 0.2, (slope, errors)


def test_exponential_euler_is_exact_for_gates_given_V():
    """With V frozen (C huge), exp-Euler integrates the linear gate equations exactly."""
    model = hh.hodgkin_huxley(C=1e30)
    group = bp.NeuronGroup(model, 1, params={"C": 1e30}, initial=X0, method="exp_auto")
    runner = bp.DSRunner(group, monitors=["m"], dt=0.5)
    runner.run(5.0)
    ref = reference(model, [X0[k] for k in "Vmhn"], 5.0, ts=runner.mon.ts)
    np.testing.assert_allclose(runner.mon.m[:, 0], ref.y[1], rtol=1e-10)


@functools.cache
def _reference_spikes():
    def crossing(t, x):
        return x[0] - 20.0

    crossing.direction = 1
    sol = scipy.integrate.solve_ivp(
        lambda t, x: reference_hh.rhs(x, I=10.0), (0, 200.0), [X0[k] for k in "Vmhn"],
        method="DOP853", rtol=1e-11, atol=1e-11, events=crossing)
    return sol.t_events[0]


@pytest.mark.parametrize("method,dt,tol_first,tol_all", [
    ("rk4", 0.01, 0.05, 0.05),
    # exponential Euler is first order: its period is off by ~0.2 % at dt = 0.01, so the phase
    # error grows to ~0.9 ms over the 14 spikes of 200 ms; at dt = 0.0005 all are within 0.05 ms
    ("exp_auto", 0.01, 0.05, 1.0),
    ("exp_auto", 0.0005, 0.05, 0.05),
])
def test_example_1_spike_times_against_reference(method, dt, tol_first, tol_all):
    t_ref = _reference_spikes()
    runner, group = run_fixed(method, dt, 200.0)
    t_sim = spike_times(runner.mon.ts, runner.mon.V, 20.0, V_initial=X0["V"])[0]
    assert len(t_sim) == len(t_ref) > 5
    assert abs(t_sim[0] - t_ref[0]) < tol_first
    np.testing.assert_allclose(t_sim, t_ref, atol=tol_all)


@pytest.mark.parametrize("method", ["dopri5", "kvaerno5"])
def test_adaptive_methods_match_reference(method):
    model = hh.hodgkin_huxley(I=10.0)
    runner, group = run_fixed(method, 0.5, 20.0)
    ref = reference(model, [X0[k] for k in "Vmhn"], 20.0, ts=runner.mon.ts)
    np.testing.assert_allclose(runner.mon.V[:, 0], ref.y[0], atol=1e-5)


def test_time_stamps_are_post_step_and_runs_continue():
    runner, group = run_fixed("euler", 0.1, 1.0)
    np.testing.assert_allclose(runner.mon.ts, 0.1 * np.arange(1, 11))
    # the first monitored row is one Euler step from the initial state
    model = hh.hodgkin_huxley(I=10.0)
    x0 = np.array([X0[k] for k in "Vmhn"])
    x1 = x0 + 0.1 * np.asarray(model.compile().f(x0, model.param_vector()))
    assert runner.mon.V[0, 0] == pytest.approx(x1[0], rel=1e-14)
    x_end = np.asarray(group.X[:, 0])
    assert x_end[0] == runner.mon.V[-1, 0]  # the group holds the state of the last row
    runner.run(0.5)
    np.testing.assert_allclose(runner.mon.ts, 1.0 + 0.1 * np.arange(1, 6))
    assert runner.t == pytest.approx(1.5) and group.t == pytest.approx(1.5)
    # the second run starts from where the first ended: its first row is one step from x_end
    x_next = x_end + 0.1 * np.asarray(model.compile().f(x_end, model.param_vector()))
    assert runner.mon.V.shape == (5, 1)
    assert runner.mon.V[0, 0] == pytest.approx(x_next[0], rel=1e-14)


def test_second_run_does_not_recompile():
    from hhanalysis.simulate.runner import _chunk_runner

    group = bp.HH(3)
    runner = bp.DSRunner(group, monitors=["V"], inputs=("input", 5.0))
    runner.run(10.0)
    misses = _chunk_runner.cache_info().misses
    runner.run(10.0)
    assert _chunk_runner.cache_info().misses == misses


def test_heterogeneous_parameters_equal_separate_groups():
    gK = np.array([30.0, 36.0, 40.0])
    init = dict(V_initializer=bp.init.OneInit(-65.0))
    group = bp.HH(3, gK=gK, **init)
    runner = bp.DSRunner(group, monitors=["V"], inputs=("input", 10.0))
    runner.run(30.0)
    for k in range(3):
        single = bp.HH(1, gK=gK[k], **init)
        r = bp.DSRunner(single, monitors=["V"], inputs=("input", 10.0))
        r.run(30.0)
        np.testing.assert_allclose(runner.mon.V[:, k], r.mon.V[:, 0], rtol=1e-12, atol=1e-9)


def test_monitor_subset_spikes_and_inputs():
    group = bp.HH(5, V_initializer=bp.init.Uniform(-70, -60, seed=1))
    inp = np.linspace(0, 20, 5)
    runner = bp.DSRunner(group, monitors={"V": [1, 4], "spike": None, "input": [4]},
                         inputs=[("input", inp)])
    runner.run(50.0)
    assert runner.mon.V.shape == (500, 2) and runner.mon.spike.shape == (500, 5)
    assert runner.mon.spike.dtype == bool
    np.testing.assert_allclose(runner.mon.input[:, 0], 20.0)
    times = spike_times(runner.mon.ts, runner.mon.V, 20.0)
    assert len(times[1]) == runner.mon.spike[:, 4].sum()  # column 1 of the subset is neuron 4


def test_iter_and_func_inputs_agree_with_fix():
    def make():
        return bp.HH(2, V_initializer=bp.init.OneInit(-65.0))

    a = bp.DSRunner(make(), monitors=["V"], inputs=("input", 7.0))
    b = bp.DSRunner(make(), monitors=["V"], inputs=("input", np.full((300, 2), 7.0), "iter"))
    c = bp.DSRunner(make(), monitors=["V"], inputs=("input", lambda t: 7.0 + 0 * t, "func"))
    for r in (a, b, c):
        r.run(30.0)
    np.testing.assert_allclose(b.mon.V, a.mon.V, rtol=1e-13)
    np.testing.assert_allclose(c.mon.V, a.mon.V, rtol=1e-13)


def test_float32_simulation():
    """float32 computes in float32 (dtype, and a difference from float64 of the size float32
    rounding makes), and agrees with float64 to float32 accuracy: over 20 ms with a spike, the
    error stays within 1e-5 of the trace's range (~85 float32 ulps; measured 1.4e-6)."""
    traces = {}
    for dtype in ("float32", "float64"):
        group = bp.HH(4, dtype=dtype, V_initializer=bp.init.OneInit(-65.0))
        runner = bp.DSRunner(group, monitors=["V"], inputs=("input", 10.0))
        runner.run(20.0)
        traces[dtype] = runner.mon.V
        assert group.V.dtype == np.dtype(dtype) and traces[dtype].dtype == np.dtype(dtype)
    err = np.abs(traces["float32"].astype(np.float64) - traces["float64"]).max()
    scale = np.ptp(traces["float64"])
    assert scale > 80  # a spike happened: the comparison covers the fast upstroke
    assert np.finfo(np.float32).eps * scale < err < 1e-5 * scale


def test_steady_state_initializer_and_keep_size():
    group = bp.HH((2, 3), keep_size=True, V_initializer=bp.init.OneInit(-65.0),
                  m_initializer=bp.init.SteadyState(), h_initializer=bp.init.SteadyState(),
                  n_initializer=bp.init.SteadyState())
    assert group.V.shape == (2, 3)
    am = 0.1 * (-65 + 40) / (1 - np.exp((65 - 40) / 10))  # alpha_m(-65), seed formula
    bm = 4 * np.exp(0.0)
    assert float(group.m[0, 0]) == pytest.approx(am / (am + bm), rel=1e-12)
    runner = bp.DSRunner(group, monitors=["V"])
    runner.run(1.0)
    assert runner.mon.V.shape == (10, 2, 3)


def test_brainpy_names_live_in_their_own_namespace():
    """``hhanalysis.brainpy`` holds the BrainPy-compatible names (the simulator's objects); the
    top level ``hhanalysis`` is the analysis API and no longer has them."""
    import hhanalysis.simulate as sim

    for name in ("HH", "DSRunner", "NeuronGroup", "dyn", "inputs", "init", "math", "visualize"):
        assert name in bp.__all__ and hasattr(bp, name)
    assert bp.HH is bp.dyn.HH is sim.HH and bp.DSRunner is bp.dyn.DSRunner is sim.DSRunner
    assert bp.inputs is sim.inputs and bp.math.random is sim.rng.random
    assert bp.init.Uniform is sim.initializers.Uniform
    for name in ("HH", "DSRunner", "NeuronGroup", "inputs", "dyn", "init", "math", "visualize"):
        assert not hasattr(hh, name) and name not in hh.__all__, name
    assert hh.simulate is sim


# with JAX's x64 mode off (import hhanalysis leaves it alone), nothing is truncated to float32
@pytest.mark.filterwarnings("error:Explicitly requested dtype float64")
def test_seed_examples_run_verbatim_with_the_swapped_import(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    example_1 = """
import hhanalysis.brainpy as bp
group = bp.dyn.HH(2)
runner = bp.dyn.DSRunner(group, monitors=['V'], inputs=('input', 10.))
runner.run(200.)
bp.visualize.line_plot(runner.mon.ts, runner.mon.V, show=True)
"""
    example_2 = """
import hhanalysis.brainpy as bp
import matplotlib.pyplot as plt

group = bp.dyn.HH(2)

I1 = bp.inputs.spike_input(sp_times=[500., 550., 1000, 1030, 1060, 1100, 1200], sp_lens=5, sp_sizes=5., duration=2000, )
I2 = bp.inputs.spike_input(sp_times=[600.,       900, 950, 1500], sp_lens=5, sp_sizes=5., duration=2000, )
I1 += bp.math.random.normal(0, 3, size=I1.shape)
I2 += bp.math.random.normal(0, 3, size=I2.shape)
I = bp.math.stack((I1, I2), axis=-1)

runner = bp.dyn.DSRunner(group, monitors=['V'], inputs=('input', I, 'iter'))
runner.run(2000.)

fig, gs = bp.visualize.get_figure(1, 1, 3, 8)
plt.plot(runner.mon.ts, runner.mon.V[:, 0])
plt.plot(runner.mon.ts, runner.mon.V[:, 1] + 130)
plt.xlim(10, 2000)
plt.xticks([])
plt.yticks([])
plt.show()
"""  # noqa: E501
    ns1, ns2 = {}, {}
    bp.math.random.seed(0)  # the examples draw noise and initial V from the global generator
    exec(example_1, ns1)
    exec(example_2, ns2)
    v1 = ns1["runner"].mon.V
    assert v1.shape == (2000, 2) and v1.max() > 30  # tonic spiking at I = 10
    r2 = ns2["runner"]
    # after the start-up transient (the seed's plot starts at 10 ms) each neuron fires only in
    # response to its 5 uA/cm^2 pulses
    times = [t[t > 10] for t in spike_times(r2.mon.ts, r2.mon.V, 20.0)]
    assert 3 <= len(times[0]) and 2 <= len(times[1])
    assert all(450 < t < 1300 for t in times[0]) and all(550 < t < 1600 for t in times[1])


# --- inputs ---------------------------------------------------------------------------------------


def test_input_generators():
    I = bp.inputs.spike_input([1.0, 3.0], 0.5, [2.0, 4.0], duration=5.0)
    assert I.shape == (50,)
    np.testing.assert_array_equal(np.nonzero(I)[0], list(range(10, 15)) + list(range(30, 35)))
    assert I[12] == 2.0 and I[32] == 4.0
    s, total = bp.inputs.section_input([0, 1, 2], [0.3, 0.3, 0.4], return_length=True)
    assert total == pytest.approx(1.0) and s.shape == (10,)
    np.testing.assert_array_equal(s, [0, 0, 0, 1, 1, 1, 2, 2, 2, 2])
    c, d = bp.inputs.constant_input([(0, 10), (1, 5)], dt=0.5)
    assert d == 15 and c.shape == (30,) and c[20:].sum() == 10
    r = bp.inputs.ramp_input(0, 1, 10, t_start=2, t_end=6, dt=1.0)
    np.testing.assert_allclose(r, [0, 0, 0, 1 / 3, 2 / 3, 1, 0, 0, 0, 0])
    w = bp.inputs.wiener_process(100, dt=0.1, n=3, seed=0)
    assert w.shape == (1000, 3) and abs(w.std() - np.sqrt(0.1)) < 0.02
    np.testing.assert_array_equal(w, bp.inputs.wiener_process(100, dt=0.1, n=3, seed=0))
    ou = bp.inputs.ou_process(2.0, 0.5, 10.0, 5000, dt=0.1, n=2, seed=1)
    # stationary OU: mean mu, variance sigma^2 tau / 2
    assert abs(ou[5000:].mean() - 2.0) < 0.2
    assert ou[5000:].var() == pytest.approx(0.25 * 10 / 2, rel=0.25)


def test_n_steps_rounding():
    assert n_steps(0.3, 0.1) == 3 and n_steps(200.0, 0.01) == 20000 and n_steps(0.25, 0.1) == 3


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, -3, (2, 0), 2.5, "two"])
def test_bad_size(size):
    with pytest.raises(ValueError, match="size"):
        bp.HH(size)


def test_bad_runner_arguments():
    group = bp.HH(2)
    with pytest.raises(ValueError, match="dt"):
        bp.DSRunner(group, dt=0.0)
    with pytest.raises(ValueError, match="dt"):
        bp.DSRunner(group, dt=-0.1)
    with pytest.raises(ValueError, match="monitors.*'W'.*valid"):
        bp.DSRunner(group, monitors=["W"])
    runner = bp.DSRunner(group, monitors=["V"])
    with pytest.raises(ValueError, match="duration"):
        runner.run(-1.0)
    with pytest.raises(ValueError, match="method.*valid methods"):
        bp.HH(2, method="rk45")
    with pytest.raises(ValueError, match="gK.*finite"):
        bp.HH(2, gK=np.nan)
    with pytest.raises(ValueError, match="gK.*shape"):
        bp.HH(2, gK=np.ones(3))
    with pytest.raises(ValueError, match="dtype"):
        bp.HH(2, dtype="int32")
    bad = bp.DSRunner(group, monitors=["V"], inputs=("input", np.ones((99, 2)), "iter"))
    with pytest.raises(ValueError, match="99 rows but the run has 100 steps"):
        bad.run(10.0)
    with pytest.raises(ValueError, match="type"):
        bp.DSRunner(group, inputs=("input", 1.0, "sometimes"))
    with pytest.raises(ValueError, match="unknown target"):
        bp.DSRunner(group, inputs=("current", 1.0))
    with pytest.raises(ValueError, match="NaN"):
        bp.DSRunner(group, inputs=("input", np.nan))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_starting_exactly_at_the_singular_voltages_gives_no_nan(dtype):
    group = bp.HH(2, dtype=dtype, V_initializer=lambda shape: np.array([-40.0, -55.0]))
    runner = bp.DSRunner(group, monitors=["V"], inputs=("input", 0.0), dt=0.01)
    runner.run(5.0)
    assert np.all(np.isfinite(runner.mon.V))


def _blocked_vs_plain(dtype, execution, N=3000, keep_size=False):
    """One run per execution setting; returns (group, runner) for the plain and the given one."""
    size = (N // 100, 100) if keep_size else N
    rng = np.random.default_rng(0)
    series = 8.0 + 4.0 * np.sin(np.arange(1000) * 0.01)  # shared by all neurons: (steps,)
    per_neuron = rng.uniform(0.0, 3.0, N)
    gK = rng.uniform(30, 40, size)
    monitors = {"V": [N - 1, 5, 0, 1234, 5], "spike": None, "input": [7, N - 2], "n": None}
    out = []
    for ex in (hh.simulate.Execution(block_size=None), execution):
        group = bp.HH(size, dtype=dtype, keep_size=keep_size, gK=gK,
                      V_initializer=bp.init.Uniform(-70.0, -60.0, seed=3))
        runner = bp.DSRunner(group, monitors=monitors, dt=0.01, chunk_steps=150, execution=ex,
                             inputs=[("input", series, "iter"), ("input", per_neuron)])
        runner.run(10.0)
        runner.run(10.0)  # a second run continues from the blocked state
        out.append((group, runner))
    return out


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("execution", [
    hh.simulate.Execution(block_size=256, threads=2),  # 2 threads x 6 blocks of 256 (padded)
    hh.simulate.Execution(block_size=700, threads=1),  # one thread, blocks of 752 (padded)
    hh.simulate.Execution(block_size=1024, threads=3),  # 1 worker: 3000 < 3 x 2 blocks
])
def test_blocked_threaded_execution_equals_the_plain_scan(dtype, execution):
    """Neurons are independent: cutting them into blocks and threads changes nothing."""
    from hhanalysis.simulate.execution import layout

    lay = layout(3000, execution)
    assert lay.blocks > 1 and lay.padded >= 3000 and lay.block % 16 == 0
    (g0, r0), (g1, r1) = _blocked_vs_plain(dtype, execution)
    for name in ("V", "spike", "input", "n"):
        assert r1.mon[name].shape == r0.mon[name].shape
        np.testing.assert_array_equal(r1.mon[name], r0.mon[name], err_msg=name)
    np.testing.assert_array_equal(np.asarray(g1.X), np.asarray(g0.X))
    np.testing.assert_array_equal(np.asarray(g1.spike), np.asarray(g0.spike))
    assert r0.mon.spike.sum() > 0  # the comparison covers spikes
    np.testing.assert_array_equal(r0.mon.V[:, 1], r0.mon.V[:, 4])  # repeated index


def test_blocked_execution_keeps_the_group_shape():
    (g0, r0), (g1, r1) = _blocked_vs_plain("float64", hh.simulate.Execution(block_size=256),
                                           keep_size=True)
    assert r1.mon.n.shape == (1000, 30, 100) and g1.V.shape == (30, 100)
    np.testing.assert_array_equal(r1.mon.n, r0.mon.n)


def test_layout_of_large_groups():
    from hhanalysis.simulate.execution import Execution, layout

    lay = layout(1_000_000, Execution(threads=2))
    assert (lay.workers, lay.block % 16) == (2, 0)
    assert 0 <= lay.padded - 1_000_000 < 16 * 2 * lay.blocks and lay.block <= 4096 + 16
    assert layout(5000, Execution()).blocks == 1  # small groups run unblocked
    assert layout(10**6, Execution(block_size=None)).blocks == 1


@pytest.mark.parametrize("bad", [0, -1, 2.5, "4", True])
def test_bad_execution_settings(bad):
    with pytest.raises(ValueError, match="threads"):
        hh.simulate.Execution(threads=bad)
    with pytest.raises(ValueError, match="block_size"):
        hh.simulate.Execution(block_size=bad)
    with pytest.raises(ValueError, match="execution"):
        bp.DSRunner(bp.HH(2), execution={"threads": 2})


def test_a_run_without_monitors_runs():
    """Regression: ``monitors=[]`` (nothing recorded) ran into an unset variable after the
    first chunk; the group still advances (5 uA/cm^2 for 1 ms moves V from its start)."""
    from hhanalysis.simulate import HH, DSRunner

    group = HH(2)
    v0 = np.asarray(group.V).copy()
    runner = DSRunner(group, monitors=[], inputs=("input", 5.0), dt=0.05, progress_bar=False)
    runner.run(1.0)
    v1 = np.asarray(group.V)
    assert np.all(np.isfinite(v1)) and np.all(np.abs(v1 - v0) > 1e-3)
