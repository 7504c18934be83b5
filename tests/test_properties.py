"""Property tests (hypothesis) over the public entry points with random and hostile arguments:
nothing raises anything but the documented errors (ValueError / TypeError for bad arguments,
ResourceError for runs too large), the command line never shows a traceback, nothing hangs
(every case stops at validation or runs a few steps)."""

import math

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import hhanalysis as hh
import hhanalysis.cli as cli
from hhanalysis.simulate import HH, DSRunner, spike_times
from hhanalysis.simulate.resources import ResourceError

FAST = settings(max_examples=25, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

HOSTILE = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**30, 10**30),
    st.text(max_size=5), st.none(), st.booleans(), st.complex_numbers(),
    st.lists(st.floats(-100, 100), max_size=3), st.just(np.array([1.0, np.nan])),
    st.just(object()))


@FAST
@given(name=st.sampled_from(["gNa", "gK", "gL", "C", "ENa", "I", "T", "V_th"]), value=HOSTILE)
def test_model_parameters_are_numbers_in_their_domain_or_rejected(name, value):
    try:
        m = hh.hodgkin_huxley(**{name: value})
    except ValueError as e:
        assert name in str(e) and "\n" not in str(e)
        return
    v = m.defaults[name]
    assert math.isfinite(v) and isinstance(value, (int, float)) and not isinstance(value, bool)
    assert not (name in ("gNa", "gK", "gL") and v < 0) and not (name == "C" and v <= 0)


SCALAR_HOSTILE = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=5), st.none(),
    st.booleans(), st.complex_numbers(), st.just(np.array([1.0, np.nan])), st.just(object()))


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=SCALAR_HOSTILE)
def test_find_equilibria_hostile_values(value, hh_model):
    try:
        eqs = hh.find_equilibria(hh_model, I=value)
    except ValueError as e:
        assert "'I'" in str(e)
        return
    assert isinstance(value, float) and math.isfinite(value)
    x = np.asarray(eqs.x)  # absent equilibria are whole rows of NaN
    assert np.all(np.isfinite(x) | np.isnan(x).all(axis=-1, keepdims=True))


@FAST
@given(duration=HOSTILE, dt=st.one_of(st.just(0.1), HOSTILE))
def test_runner_hostile_duration_and_dt(duration, dt):
    try:
        runner = DSRunner(HH(1), monitors=["V"], dt=dt)
    except ValueError as e:
        assert "dt" in str(e)
        return
    steps = duration / runner.dt if isinstance(duration, (int, float)) and not isinstance(
        duration, bool) and math.isfinite(duration) else None
    if steps is not None and 0 <= steps <= 50:
        runner.run(duration)
        assert runner.mon.V.shape == (len(runner.mon.ts), 1)
        return
    with pytest.raises((ValueError, ResourceError)):
        if steps is not None and steps > 50:  # keep the test fast: only sizes refused up front
            duration = runner.dt * 1e18  # refused by the memory estimate at any dt
        runner.run(duration)


@FAST
@given(V=st.lists(st.floats(-1e6, 1e6), min_size=0, max_size=40),
       threshold=st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                           st.sampled_from(["auto", "high", ""])))
def test_spike_times_hostile(V, threshold):
    ts = np.arange(len(V), dtype=float)
    try:
        times = spike_times(ts, np.asarray(V, float), threshold)
    except ValueError as e:
        assert "V_th" in str(e)
        return
    assert len(times) == 1 and np.all(np.diff(times[0]) >= 0)
    assert np.all((times[0] >= 0) & (times[0] <= max(len(V) - 1, 0)))


@FAST
@given(data=st.binary(max_size=200))
def test_load_rejects_random_files(data, tmp_path):
    path = tmp_path / "x.npz"
    path.write_bytes(data)
    with pytest.raises(ValueError):
        hh.BifurcationDiagram.load(path)


TOKENS = ["--set", "C=0", "gK=-1", "I=nan", "I=5", "gk=3", "=", "--range", "1", "0", "inf",
          "-5", "10", "--out", "x.gif", "/proc/x.png", "d.png", "--size", "-1", "0", "3",
          "1e9", "--duration", "0.05", "1e9", "nan", "--dt", "0", "0.01", "--method", "rk9",
          "euler", "--param", "C", "Iext", "--variable", "q", "n", "--threshold", "auto", "x",
          "--record", "2", "--monitor-every", "0", "--data", "t.txt", "--preset", "classic",
          "nope", "--allow-nonphysical", "--no-progress"]


class Computed(Exception):
    """Raised where the command would start computing: its arguments were all valid."""


@FAST
@given(command=st.sampled_from(["equilibria", "bifurcation", "fi-curve", "simulate"]),
       argv=st.lists(st.sampled_from(TOKENS), max_size=8))
def test_cli_hostile_argv_one_line_or_valid(command, argv, tmp_path, monkeypatch, capsys):
    import hhanalysis.continuation as continuation
    import hhanalysis.simulate as simulate

    def computed(*args, **kwargs):
        raise Computed

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(continuation, "bifurcation_diagram", computed)
    monkeypatch.setattr(simulate.DSRunner, "run", computed)
    monkeypatch.setattr(cli, "_print_equilibria", computed)
    try:
        code = cli.main([command, *argv])
    except Computed:
        return  # every argument was valid
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and err.startswith("hhanalysis: error:"), err
    assert not any(p.is_file() for p in tmp_path.rglob("*"))
