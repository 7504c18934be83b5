"""The main job (reproduce), the CLI's bad-input path, and the numbers the figures show."""

import subprocess
import sys

import pytest

from hhanalysis.cli import main


@pytest.mark.slow
def test_reproduce_writes_figures_and_prints_summary(tmp_path, capsys):
    assert main(["reproduce", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for name in ("equations.tex", "equilibrium_branches.png", "eigenvalues_vs_I.png",
                 "center_manifold.png", "seed_example_1.png", "seed_example_2.png"):
        assert (tmp_path / name).stat().st_size > 1000
    # the I = 0 rest states of both presets and their Hopf points are printed
    assert "-70.6762" in out and "-64.9964" in out
    assert "6.49594710" in out and "158.75310823" in out
    assert "9.77543800" in out and "154.52243367" in out
    assert out.count("subcritical") == 2 and out.count("supercritical") == 2
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
