"""Every command safe: one regression test per row of issue #16's table of bad input and
resources. Bad input gives one line naming the argument, exit status 2 (ValueError in the API)
and no files; resource guards refuse with the estimate and the way out; the simulator warns about
implausible results and finds spikes of any height."""

import os
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.signal

import hhanalysis as hh
from hhanalysis.cli import _PRESETS, main
from hhanalysis.simulate import HH, DSRunner, spike_times
from hhanalysis.simulate.resources import ResourceError


def one_line_error(capsys, *needles):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("hhanalysis: error:"), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, (needle, err)
    return err


def files_in(path: Path):
    return sorted(p.relative_to(path) for p in path.rglob("*"))


def test_cli_presets_are_the_models_presets():
    assert list(_PRESETS) == list(hh.HH_PRESETS)


# -- row: --set C=0; bifurcation --param C --range 0 2 (FloatingPointError traceback) --------
@pytest.mark.parametrize("argv, needles", [
    (["equilibria", "--set", "C=0"], ["C must be > 0", "--allow-nonphysical"]),
    (["bifurcation", "--param", "C", "--range", "0", "2"], ["--range", "C must be > 0"]),
    (["equilibria", "--set", "gK=-5"], ["gK must be >= 0"]),
    (["simulate", "--set", "gNa=-1", "--duration", "1"], ["gNa must be >= 0"]),
    (["equilibria", "--set", "gK=nan"], ["gK", "finite"]),
])
def test_cli_nonphysical_parameters(argv, needles, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    one_line_error(capsys, *needles)
    assert files_in(tmp_path) == []


def test_cli_allow_nonphysical_is_the_way_out(capsys):
    # a negative leak is a gain: the flag lets the user compute with it
    assert main(["equilibria", "--set", "gL=-0.01", "--allow-nonphysical"]) == 0
    assert "equilibrium" in capsys.readouterr().out


# -- rows: --out where a parent is a file, reproduce --out afile, --out /proc/a.png ----------
@pytest.mark.parametrize("argv, needles", [
    (["bifurcation", "--out", "afile/a.png"], ["--out", "afile is a file"]),
    (["simulate", "--out", "afile/deeper/t.png"], ["--out", "afile is a file"]),
    (["reproduce", "--out", "afile"], ["--out", "is a file"]),
    (["fi-curve", "--out", "adir"], ["--out", "file type"]),
    (["simulate", "--data", "afile/t.csv", "--duration", "1"], ["--data", "afile is a file"]),
    (["simulate", "--data", "t.txt", "--duration", "1"], ["--data", ".csv, .npz"]),
])
def test_cli_unwritable_outputs(argv, needles, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x")
    (tmp_path / "adir").mkdir()
    assert main(argv) == 2
    one_line_error(capsys, *needles)
    assert files_in(tmp_path) == [Path("adir"), Path("afile")]


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
def test_cli_out_in_a_directory_that_cannot_be_written(capsys):
    assert main(["bifurcation", "--out", "/proc/a.png"]) == 2
    one_line_error(capsys, "--out", "cannot write in /proc")


# -- row: bifurcation --variable q (traceback after 7.5 s of computing) ----------------------
def test_cli_unknown_variable_is_rejected_before_computing(tmp_path, capsys, monkeypatch):
    import hhanalysis.continuation as continuation

    def fail(*args, **kwargs):
        raise AssertionError("computed before validating --variable")

    monkeypatch.setattr(continuation, "bifurcation_diagram", fail)
    assert main(["bifurcation", "--variable", "q", "--out", str(tmp_path / "d.png")]) == 2
    one_line_error(capsys, "--variable 'q'", "V, m, h, n")
    assert files_in(tmp_path) == []


def test_branch_state_names_are_checked():
    branch = hh.continue_equilibria(hh.hodgkin_huxley(), "I", 0.0, 1.0)
    with pytest.raises(ValueError, match="unknown state 'q'.*'V', 'm', 'h', 'n'"):
        branch.state("q")


# -- row: fi-curve --range 20 100 (TypeError, an empty PNG and a header-only CSV) -------------
# It now draws the whole f-I curve (cycles found by simulation where no Hopf point is in the
# range): tests/test_any_model.py::test_fi_curve_over_a_range_without_hopf_points. Where the
# neuron does not fire at all: one line, exit 1, nothing written.
def test_cli_fi_curve_without_firing_writes_nothing(tmp_path, capsys):
    out = tmp_path / "fi.png"
    code = main(["fi-curve", "--range", "-10", "0", "--no-progress", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "does not fire" in err
    assert files_in(tmp_path) == []


def test_a_failed_write_leaves_no_partial_file(tmp_path):
    from hhanalysis._files import atomic_path

    target = tmp_path / "x.csv"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("disk full")
    assert files_in(tmp_path) == []
    with atomic_path(target) as tmp:
        tmp.write_text("whole")
    assert target.read_text() == "whole" and files_in(tmp_path) == [Path("x.csv")]


# -- rows: simulate --size 100000 / 1e9, --duration 1e9 (OOM, 745 GiB, 1.9 GB CSV) -----------
# (--size 100000 --duration 10 now streams its 1.9 GB CSV in bounded memory: the streaming
# tests check the files and the guards on small sizes)
@pytest.mark.parametrize("argv, needles", [
    (["simulate", "--size", "1000000000"], ["memory", "--size", "--record K"]),
    # the traces stream to the file (tests/test_streaming.py), so memory does not grow with the
    # duration; the disk does: 1e11 rows of CSV do not fit
    (["simulate", "--duration", "1e9"], ["are free there", "--monitor-every K", "--duration",
                                         "--data FILE.npz"]),
    (["simulate", "--record", "5", "--size", "2"], ["--record 5"]),
    (["simulate", "--monitor-every", "0"], ["--monitor-every"]),
    (["simulate", "--threshold", "high"], ["--threshold", "auto"]),
    (["simulate", "--input", "inf"], ["--input"]),
])
def test_cli_simulation_resource_guards(argv, needles, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    one_line_error(capsys, *needles)
    assert files_in(tmp_path) == []


def test_simulator_api_guards_memory_before_allocating():
    with pytest.raises(ResourceError, match="group of 1000000000000 neurons needs about"):
        HH(10**12)
    runner = DSRunner(HH(2), monitors=["V"], dt=0.01)
    with pytest.raises(ResourceError, match="monitor_every=k"):
        runner.run(1e9)
    assert isinstance(ResourceError("x"), MemoryError)


def test_large_groups_print_a_short_summary(tmp_path, capsys):
    assert main(["simulate", "--size", "30", "--duration", "2", "--no-progress", "--record", "25",
                 "--data", str(tmp_path / "t.npz"), "--out", str(tmp_path / "t.png")]) == 0
    out = capsys.readouterr().out
    assert len(out) < 300 and "(25 recorded): min" in out
    with np.load(tmp_path / "t.npz") as z:
        assert z["V_mV"].shape == (200, 25) and z["t_ms"].shape == (200,)


def test_monitor_every_keeps_every_kth_row():
    def run(every):
        group = HH(3, V_initializer=-60.0)
        r = DSRunner(group, monitors=["V"], inputs=("input", 10.0), dt=0.01,
                     monitor_every=every, chunk_steps=40)
        r.run(1.0)
        return r.mon

    full, sparse = run(1), run(7)
    assert sparse.V.shape == (14, 3)
    np.testing.assert_array_equal(sparse.V, full.V[6::7])
    np.testing.assert_allclose(sparse.ts, full.ts[6::7])


# -- row: simulate --input 1e6 (V reaches 27 677 mV, no warning) -----------------------------
def test_implausible_voltage_warns():
    runner = DSRunner(HH(2), monitors=["V"], inputs=("input", 1e6), dt=0.01)
    with pytest.warns(RuntimeWarning, match=r"outside the plausible range \[-200.0, 200.0\]"):
        runner.run(1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        DSRunner(HH(2), monitors=["V"], inputs=("input", 10.0), dt=0.01).run(1.0)


def test_unstable_method_fails_with_the_way_out(tmp_path, capsys):
    # forward Euler at dt = 0.1 ms: the HH step is unstable and the state blows up
    runner = DSRunner(HH(1, method="euler", V_initializer=-65.0), monitors=["V"],
                      inputs=("input", 10.0), dt=0.1)
    with pytest.raises(FloatingPointError, match="reduce dt"):
        runner.run(20.0)
    assert main(["simulate", "--method", "euler", "--dt", "0.1", "--duration", "20",
                 "--no-progress", "--out", str(tmp_path / "t.png")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "reduce dt" in err and files_in(tmp_path) == []


# -- row: simulate --input 50 ("spikes per neuron: [1, 1, 1]" for ~23 spikes) ---------------
def test_spikes_of_any_height_are_found(tmp_path, capsys):
    group = HH(2, V_initializer=-65.0)
    runner = DSRunner(group, monitors=["V"], inputs=("input", 50.0), dt=0.01)
    runner.run(100.0)
    V = runner.mon.V
    assert 0 < V[len(V) // 2:].max() < 20  # the late spikes peak below BrainPy's V_th = 20
    # an independent count: peaks with a prominence of at least 30 mV
    peaks = [len(scipy.signal.find_peaks(V[:, k], prominence=30)[0]) for k in range(2)]
    assert peaks[0] >= 10
    assert [len(t) for t in spike_times(runner.mon.ts, V, "auto")] == peaks
    assert [len(t) for t in spike_times(runner.mon.ts, V, 20.0)] == [1, 1]
    # the command line counts with the auto rule by default, with --threshold on request
    assert main(["simulate", "--input", "50", "--duration", "100", "--no-progress",
                 "--out", str(tmp_path / "t.png")]) == 0
    out = capsys.readouterr().out
    counts = [int(c) for c in out.split("[")[1].split("]")[0].split(",")]
    assert min(counts) >= 10
    assert main(["simulate", "--input", "50", "--duration", "100", "--no-progress",
                 "--threshold", "20", "--out", str(tmp_path / "t.png")]) == 0
    assert "spikes per neuron: [1, 1]" in capsys.readouterr().out


def test_auto_threshold_ignores_rest_and_counts_each_spike_once():
    ts = np.arange(1, 1001) * 0.1
    rest = -65 + 2 * np.sin(ts)  # 4 mV of subthreshold oscillation: no spikes
    # pulses of 1 ms starting at t = 0 (already high at the first sample: not a crossing),
    # 20, 40, 60, 80 and 100 (the last sample), with chatter of +-0.3 mV at every level
    noisy = np.where(np.round(ts, 6) % 20 < 1, 10.0, -65.0)
    noisy = noisy + np.where(np.arange(ts.size) % 2, 0.3, -0.3)
    times = spike_times(ts, np.column_stack([rest, noisy]), "auto")
    assert times[0].size == 0
    np.testing.assert_allclose(times[1], [20.0, 40.0, 60.0, 80.0, 100.0], atol=0.1)
    with pytest.raises(ValueError, match="V_th"):
        spike_times(ts, rest, "median")


# -- row: --set gK=-5, HH(2, gK=-36), hodgkin_huxley(gK='30') accepted silently --------------
@pytest.mark.parametrize("make, needle", [
    (lambda: hh.hodgkin_huxley(gK=-5), "gK must be >= 0"),
    (lambda: hh.hodgkin_huxley(C=0.0), "C must be > 0"),
    (lambda: hh.hodgkin_huxley(gK="30"), "must be a real number"),
    (lambda: hh.hodgkin_huxley(gK=True), "must be a real number"),
    (lambda: hh.morris_lecar(gCa=-1), "gCa must be >= 0"),
    (lambda: hh.hodgkin_huxley().param_vector(gL=-0.3), "gL must be >= 0"),
    (lambda: HH(2, gK=-36), "gK must be >= 0"),
    (lambda: HH(2, C=np.array([1.0, 0.0])), "C must be > 0"),
    (lambda: hh.find_equilibria(hh.hodgkin_huxley(), C=-1.0), "C must be > 0"),
    (lambda: hh.continue_equilibria(hh.hodgkin_huxley(), "C", 0.0, 2.0), "C must be > 0"),
    (lambda: hh.bifurcation_diagram(hh.hodgkin_huxley(), "gK", (-5, 5)), "gK must be >= 0"),
])
def test_api_rejects_nonphysical_and_non_numeric_parameters(make, needle):
    with pytest.raises(ValueError, match=needle):
        make()


def test_nonphysical_models_are_allowed_when_asked():
    m = hh.hodgkin_huxley(gL=-0.01, nonphysical=True)
    assert m.defaults["gL"] == -0.01 and m.with_params(gK=-1).defaults["gK"] == -1
    assert HH(2, gK=-36, nonphysical=True).params["gK"].min() == -36
    with pytest.raises(ValueError, match="domain"):
        hh.Parameter("g", 1.0, domain="sometimes")


# -- rows: d.save("x.txt") writes x.txt.npz; loading other files ------------------------------
@pytest.fixture(scope="module")
def small_diagram():
    return hh.bifurcation_diagram(hh.hodgkin_huxley(), "I", (0.0, 2.0))


def test_save_needs_npz_and_writes_whole_files(small_diagram, tmp_path):
    with pytest.raises(ValueError, match="must end in .npz"):
        small_diagram.save(tmp_path / "x.txt")
    assert files_in(tmp_path) == []
    path = small_diagram.save(tmp_path / "d.npz")
    assert path == tmp_path / "d.npz" and files_in(tmp_path) == [Path("d.npz")]
    back = hh.BifurcationDiagram.load(path)
    np.testing.assert_array_equal(back.equilibria[0].param, small_diagram.equilibria[0].param)


def test_load_rejects_other_files_with_one_line(tmp_path):
    (tmp_path / "a.txt").write_text("not an archive")
    np.savez(tmp_path / "other.npz", x=np.arange(3))
    np.savez(tmp_path / "bad.npz", meta=np.asarray('{"format": 2}'))
    for name, needle in [("a.txt", "not a NumPy .npz archive"), ("other.npz", "no 'meta'"),
                         ("bad.npz", "not a complete diagram file"), ("none.npz", "no such")]:
        with pytest.raises(ValueError, match=needle) as e:
            hh.BifurcationDiagram.load(tmp_path / name)
        assert "\n" not in str(e.value)


# -- rows: continue_cycles with the Hopf point outside the bounds; "(none)" without a hint ----
def test_cycles_need_bounds_that_contain_the_hopf_point():
    branch = hh.continue_equilibria(hh.hodgkin_huxley(), "I", 0.0, 20.0)
    hopf = branch.hopf_points[0]
    with pytest.raises(ValueError, match="outside \\[50, 100\\]; the bounds must contain it"):
        hh.continue_cycles(hh.hodgkin_huxley(), hopf, (50.0, 100.0))


def test_a_branch_without_special_points_says_why():
    branch = hh.continue_equilibria(hh.hodgkin_huxley(), "I", 20.0, 30.0)
    assert not branch.special_points
    assert "a wider range may reach the Hopf points or folds" in repr(branch)


# -- row: run(0) gives mon.V.shape == (0,) ----------------------------------------------------
def test_run_zero_keeps_the_monitor_shapes():
    runner = DSRunner(HH(2), monitors=["V", "spike"], dt=0.01)
    runner.run(0)
    assert runner.mon.V.shape == (0, 2) and runner.mon.spike.shape == (0, 2)
    assert runner.mon.ts.shape == (0,)
    runner = DSRunner(HH((2, 3), keep_size=True), monitors={"V": [0, 4]}, dt=0.01)
    runner.run(0.0)
    assert runner.mon.V.shape == (0, 2)
    runner = DSRunner(HH((2, 3), keep_size=True), monitors=["V"], dt=0.01)
    runner.run(0.0)
    assert runner.mon.V.shape == (0, 2, 3)
