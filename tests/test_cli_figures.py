"""The main job (reproduce), the CLI's bad-input path, and the numbers the figures show."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hhanalysis.cli import main

REF = json.loads((Path(__file__).parent / "data" / "auto07p_hh_equilibria.json").read_text())


@pytest.mark.slow
def test_reproduce_writes_figures_and_prints_summary(tmp_path, capsys):
    assert main(["reproduce", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for name in ("equations.tex", "equilibrium_branches.png", "eigenvalues_vs_I.png",
                 "center_manifold.png", "seed_example_1.png", "seed_example_2.png"):
        assert (tmp_path / name).stat().st_size > 1000
    # the I = 0 rest states of both presets (AUTO-07p: -70.676169754, -64.996379331 mV)
    assert "-70.6762" in out and "-64.9964" in out
    # the printed Hopf table agrees with AUTO-07p (tests/data, from shared/reference)
    rows = [line.split() for line in out.splitlines()
            if line.split()[:1] in (["brainpy"], ["classic"]) and "critical" in line]
    assert len(rows) == 4
    for preset in ("brainpy", "classic"):
        printed = sorted(float(r[1]) for r in rows if r[0] == preset)
        ref = sorted(h["I"] for h in REF[preset]["hopf_points"])
        np.testing.assert_allclose(printed, ref, rtol=1e-8)
    assert [r[-1] for r in rows].count("subcritical") == 2
    assert [r[-1] for r in rows].count("supercritical") == 2
    assert "seed example 1: [" in out and "seed example 2: spikes at" in out


def test_center_manifold_figure_numbers(tmp_path):
    from hhanalysis.figures import figure_center_manifold

    info = figure_center_manifold(tmp_path, t_end=120.0, cycle_window=30.0)
    assert info["path"].exists()
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
