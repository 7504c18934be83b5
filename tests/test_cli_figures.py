"""The main job (reproduce), the CLI's bad-input path, and the numbers the figures show."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hhanalysis.cli import main

REF = json.loads((Path(__file__).parent / "data" / "auto07p_hh_equilibria.json").read_text())
CYCLES = json.loads((Path(__file__).parent / "data" / "auto07p_hh_cycles.json").read_text())


@pytest.fixture
def shared_diagrams(hh_diagrams, monkeypatch):
    """``bifurcation_diagram`` (as ``figures.diagrams`` and the CLI call it) answering the calls
    that ``figures.diagrams()`` already made in this session (tests/conftest.py: ``hh_diagrams``)
    with those diagrams, and every other call by computing; returns the list of calls answered."""
    from hhanalysis import continuation

    compute, answered = continuation.bifurcation_diagram, []

    def bifurcation_diagram(model, param, bounds, progress=False, **kw):
        for d in hh_diagrams.values():
            if (not kw and param == d.param_name and tuple(map(float, bounds)) == d.bounds
                    and model == d.model):
                answered.append((d.model.preset, param, d.bounds))
                return d
        return compute(model, param, bounds, progress=progress, **kw)

    monkeypatch.setattr(continuation, "bifurcation_diagram", bifurcation_diagram)
    return answered


@pytest.mark.slow
def test_reproduce_writes_figures_and_prints_summary(tmp_path, capsys, shared_diagrams,
                                                     monkeypatch):
    from hhanalysis import figures

    drawn = []  # what figure_center_manifold returned, checked below

    def figure_center_manifold(*args, _draw=figures.figure_center_manifold, **kw):
        drawn.append(_draw(*args, **kw))
        return drawn[-1]

    monkeypatch.setattr(figures, "figure_center_manifold", figure_center_manifold)
    assert main(["reproduce", "--out", str(tmp_path)]) == 0
    assert sorted(shared_diagrams) == [("brainpy", "I", (-10.0, 200.0)),
                                       ("classic", "I", (-10.0, 200.0))]
    out = capsys.readouterr().out
    for name in ("equations.tex", "equilibrium_branches.png", "eigenvalues_vs_I.png",
                 "center_manifold.png", "seed_example_1.png", "seed_example_2.png",
                 "bifurcation_diagram.png", "fi_curve.png", "limit_cycles_Vn.png",
                 "hysteresis.png", "fit_before_after.png", "bifurcation_classic.npz",
                 "bifurcation_brainpy.npz",
                 "bifurcation_classic/cycles_0.csv"):
        assert (tmp_path / name).stat().st_size > 1000
    # the I = 0 rest states of both presets (AUTO-07p: -70.676169754, -64.996379331 mV)
    assert "-70.6762" in out and "-64.9964" in out
    # the printed Hopf table agrees with AUTO-07p (tests/data, from shared/reference)
    rows = [line.split() for line in out.splitlines()
            if line.split()[:1] in (["brainpy"], ["classic"]) and "critical" in line
            and line.split()[1][0].isdigit()]
    assert len(rows) == 4
    for preset in ("brainpy", "classic"):
        printed = sorted(float(r[1]) for r in rows if r[0] == preset)
        ref = sorted(h["I"] for h in REF[preset]["hopf_points"])
        np.testing.assert_allclose(printed, ref, rtol=1e-8)
    assert [r[-1] for r in rows].count("subcritical") == 2
    assert [r[-1] for r in rows].count("supercritical") == 2
    assert "seed example 1: [" in out and "seed example 2: spikes at" in out
    # folds of cycles and minimum rates against AUTO-07p (tests/data/auto07p_hh_cycles.json)
    lpc = {p: sorted(float(line.split()[2]) for line in out.splitlines()
                     if line.split()[:2] == [p, "LPC"]) for p in ("brainpy", "classic")}
    for preset in ("classic", "brainpy"):
        ref = sorted({round(p["I"], 6) for p in CYCLES[preset]["LPC"]})  # AUTO lists one twice
        np.testing.assert_allclose(lpc[preset], ref, rtol=1e-6)
    assert "minimum firing rate 50.26 Hz at I = 6.26032" in out
    assert "minimum firing rate 40.08 Hz at I = 3.40332" in out
    # the fitting example: the diagram recomputed at the fitted values meets both targets
    fit = [line for line in out.splitlines() if line.startswith("fit (classic")][0]
    assert "Hopf point at I = 12.00000000" in fit and "minimum rate 60.00000" in fit
    hyst = [line for line in out.splitlines() if line.startswith("hysteresis")][0]
    assert "stops at I = 6.2" in hyst
    # the numbers of the center-manifold figure (brainpy, I = 10)
    info, = drawn
    assert info["path"] == tmp_path / "center_manifold.png"
    lam = info["eigenvalues"]
    assert (lam.real > 0).sum() == 2 and (lam.real < 0).sum() == 2  # the seed's statement
    assert info["manifold_distance_min"] < 0.5 * info["manifold_distance_start"]
    vmin, vmax = info["cycle_V_range"]
    assert vmax > 30 and vmin < -70  # a spiking limit cycle, not the equilibrium


def test_cli_equilibria_and_bad_input(capsys):
    assert main(["equilibria", "--set", "I=10"]) == 0
    assert "saddle-focus" in capsys.readouterr().out
    assert main(["equilibria", "--set", "gna=3"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "gNa" in err and "valid names" in err
    assert main(["equilibria", "--set", "I=abc"]) == 2
    assert main(["equilibria", "--preset", "nope"]) == 2
    assert main(["frobnicate"]) == 2


def test_module_entry_point_help():
    proc = subprocess.run([sys.executable, "-m", "hhanalysis", "--help"], capture_output=True,
                          text=True)
    assert proc.returncode == 0 and "reproduce" in proc.stdout


def test_cli_bifurcation_fi_curve_simulate(tmp_path, capsys, shared_diagrams):
    assert main(["bifurcation", "--preset", "classic", "--range", "-10", "200", "--no-progress",
                 "--out", str(tmp_path / "d.svg")]) == 0
    assert shared_diagrams == [("classic", "I", (-10.0, 200.0))]
    out = capsys.readouterr().out
    assert "LPC I=6.26032127" in out and "PD  I=7.84533739" in out
    assert (tmp_path / "d.svg").read_text().startswith("<?xml")
    assert (tmp_path / "d.npz").exists() and (tmp_path / "d_tables" / "cycles_0.csv").exists()
    assert main(["fi-curve", "--range", "0", "200", "--no-progress", "--set", "gK=36",
                 "--out", str(tmp_path / "fi.png")]) == 0
    out = capsys.readouterr().out
    assert "minimum firing rate 40.08" in out and (tmp_path / "fi.csv").exists()
    assert main(["simulate", "--duration", "50", "--input", "10", "--size", "3", "--no-progress",
                 "--out", str(tmp_path / "t.pdf")]) == 0
    out = capsys.readouterr().out
    assert "spikes per neuron: [" in out and (tmp_path / "t.pdf").read_bytes()[:4] == b"%PDF"
    rows = (tmp_path / "t.csv").read_text().splitlines()
    assert rows[0] == "t_ms,V_mV[0],V_mV[1],V_mV[2]" and len(rows) == 5001


@pytest.mark.parametrize("argv, needle", [
    (["bifurcation", "--out", "x.gif"], "file type"),
    (["bifurcation", "--param", "Iext"], "valid"),
    (["bifurcation", "--range", "5", "1"], "LO < HI"),
    (["fi-curve", "--set", "gK=abc"], "not a number"),
    (["simulate", "--duration", "-5", "--out", "t.png"], "--duration"),
    (["simulate", "--method", "rk9", "--duration", "1", "--out", "t.png"], "valid methods"),
    (["simulate", "--size", "0", "--duration", "1", "--out", "t.png"], "size"),
    (["simulate", "--dt", "0", "--duration", "1", "--out", "t.png"], "dt"),
])
def test_cli_bad_input_one_line_exit_2(argv, needle, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err


@pytest.mark.parametrize("command", ["reproduce", "bifurcation", "equilibria", "simulate",
                                     "fi-curve"])
def test_every_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as e:
        main([command, "--help"])
    assert e.value.code == 0 and "usage: hhanalysis " + command in capsys.readouterr().out
