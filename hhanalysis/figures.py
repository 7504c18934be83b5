"""The documentation figures (the main job, ``hhanalysis reproduce``).

Each ``figure_*`` function computes what it needs with the analysis stages, draws it with
:mod:`hhanalysis.plotting`, saves it and returns a small dict of the numbers it shows, so tests can
assert them and the CLI can print them. Every figure names its parameter preset.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import scipy.integrate

from . import plotting
from .continuation import continue_equilibria
from .equilibria import find_equilibria
from .models import hodgkin_huxley
from .spectra import center_manifold

__all__ = ["figure_eigenvalues", "figure_center_manifold", "figure_equilibrium_branches",
           "figure_seed_example_1", "figure_seed_example_2", "trajectory"]


def trajectory(model, x0, t_end: float, n_out: int = 4001, **params):
    """Reference trajectory by scipy's Radau (rtol 1e-10) with the generated f and Jacobian.

    Returns:
        ``(ts, states)`` with ``states`` of shape ``(n_out, n)``.
    """
    cm = model.compile()
    p = model.param_vector(**params)
    sol = scipy.integrate.solve_ivp(
        lambda t, x: np.asarray(cm.f(x, p)), (0.0, t_end), np.asarray(x0, float),
        method="Radau", jac=lambda t, x: np.asarray(cm.jac_x(x, p)), rtol=1e-10, atol=1e-10,
        dense_output=True)
    if not sol.success:
        raise RuntimeError(f"integration failed: {sol.message}")
    ts = np.linspace(0.0, t_end, n_out)
    return ts, sol.sol(ts).T


def _preset_panels(out: Path, filename: str, presets, draw) -> tuple[Path, dict]:
    """One panel per HH preset, side by side; ``draw(ax, preset)`` fills a panel and returns
    what the figure reports for it."""
    fig, axes = plt.subplots(1, len(presets), figsize=(12, 4.4), constrained_layout=True,
                             sharey=True)
    info = {preset: draw(ax, preset) for ax, preset in zip(axes, presets)}
    for ax in axes[1:]:
        ax.set_ylabel("")
    path = Path(out) / filename
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path, info


def _preset_title(model, prefix: str = "") -> str:
    return f"{prefix}preset '{model.preset}' (gL = {model.defaults['gL']:g} mS/cm²)"


def figure_eigenvalues(out: Path, I_max: float = 200.0, branches: dict | None = None) -> dict:
    """Real parts of the HH eigenvalues against I in [0, I_max], both presets side by side.

    ``branches`` (preset -> EquilibriumBranch over [0, I_max]) supplies the Hopf points when
    already computed, e.g. by :func:`figure_equilibrium_branches`.
    """

    def draw(ax, preset):
        model = hodgkin_huxley(preset=preset)
        sweep = find_equilibria(model, I=np.linspace(0.0, I_max, 2001))
        branch = (branches or {}).get(preset) or continue_equilibria(model, "I", 0.0, I_max)
        hopf = [h.param for h in branch.hopf_points]
        plotting.plot_eigenvalue_real_parts(sweep, "I", hopf, ax=ax)
        ax.set_title(_preset_title(model, "HH equilibrium eigenvalues, "), fontsize=10)
        return hopf

    path, info = _preset_panels(out, "eigenvalues_vs_I.png", ("brainpy", "classic"), draw)
    return {"path": path, "hopf_I": info}


def figure_center_manifold(out: Path, preset: str = "brainpy", I: float = 10.0,
                           t_end: float = 200.0, cycle_window: float = 50.0) -> dict:
    """A trajectory started off the center manifold at I between the Hopf points.

    Left: center-plane coordinates; middle: distances to the plane and to the quadratic
    manifold; right: the V-n projection with the limit cycle it approaches.
    """
    model = hodgkin_huxley(preset=preset, I=I)
    eq = find_equilibria(model)[0]
    cm = center_manifold(eq)
    stable = eq.right_eigenvectors[:, cm.split.stable[0]].real
    x0 = eq.x + 0.1 * stable / np.max(np.abs(stable)) + 0.02 * cm.basis[:, 0]
    ts, xs = trajectory(model, x0, t_end)
    proj = cm.project(xs)
    fig = plt.figure(figsize=(15, 4.4), constrained_layout=True)
    gs = fig.add_gridspec(1, 3, width_ratios=[1.15, 1.1, 1])
    axes = [fig.add_subplot(gs[0, k]) for k in range(3)]
    plotting.plot_center_projection(ts, proj, axes=axes[:2], z_max=3.0)
    lam = ", ".join(f"{z.real:.3g}{z.imag:+.3g}i" if abs(z.imag) > 0 else f"{z.real:.3g}"
                    for z in eq.eigenvalues)
    fig.suptitle(f"HH center manifold, preset '{preset}', I = {I:g} µA/cm²: "
                 f"eigenvalues {lam} (1/ms)", fontsize=10)
    half = ts >= t_end - cycle_window
    plotting.plot_phase_projection(model, xs[~half], ax=axes[2], color="0.6", lw=0.8,
                                   label="transient")
    plotting.plot_phase_projection(model, xs[half], ax=axes[2], color="tab:green", lw=1.8,
                                   label="limit cycle (t ≥ %g ms)" % (t_end - cycle_window),
                                   equilibrium=eq.x)
    axes[2].legend(fontsize=8, loc="upper left")
    axes[2].set_title("V–n projection", fontsize=10)
    path = Path(out) / "center_manifold.png"
    fig.savefig(path, dpi=130)
    plt.close(fig)
    near = proj.distance_to_manifold[ts <= 10.0]
    return {"path": path, "l1": cm.l1, "eigenvalues": eq.eigenvalues,
            "manifold_distance_start": float(near[0]), "manifold_distance_min": float(near.min()),
            "cycle_V_range": (float(xs[half, 0].min()), float(xs[half, 0].max()))}


def figure_equilibrium_branches(out: Path, I_max: float = 200.0) -> dict:
    """Equilibrium branches of both presets, I from 0 to I_max, with their Hopf points."""

    def draw(ax, preset):
        model = hodgkin_huxley(preset=preset)
        branch = continue_equilibria(model, "I", 0.0, I_max)
        plotting.plot_equilibrium_branch(branch, "V", ax=ax)
        ax.set_title(_preset_title(model), fontsize=10)
        ax.legend(fontsize=8, loc="lower right")
        return branch

    path, info = _preset_panels(out, "equilibrium_branches.png", ("classic", "brainpy"), draw)
    return {"path": path, "branches": info}


def figure_seed_example_1(out: Path, seed: int = 0) -> dict:
    """The seed's example 1: two HH neurons (preset 'brainpy'), constant input 10 µA/cm², 200 ms."""
    from . import math as hhmath
    from .simulate import HH, DSRunner, spike_times

    hhmath.random.seed(seed)
    group = HH(2)
    runner = DSRunner(group, monitors=["V"], inputs=("input", 10.0))
    runner.run(200.0)
    fig, ax = plt.subplots(figsize=(9, 3.6), constrained_layout=True)
    for k, style in enumerate(("-", "--")):
        ax.plot(runner.mon.ts, runner.mon.V[:, k], style, lw=1.2, label=f"neuron {k}")
    ax.set_xlabel("t (ms)")
    ax.set_ylabel("V (mV)")
    ax.set_title("Seed example 1 (preset 'brainpy'): HH(2), input 10 µA/cm², exp_auto, "
                 "dt = 0.1 ms", fontsize=10)
    ax.legend(fontsize=8, loc="upper right", title="random V0; both lock to one cycle",
              title_fontsize=8)
    path = Path(out) / "seed_example_1.png"
    fig.savefig(path, dpi=130)
    plt.close(fig)
    times = spike_times(runner.mon.ts, runner.mon.V, 20.0)
    isi = np.diff(times[0][times[0] > 50.0])
    return {"path": path, "spikes": [len(t) for t in times],
            "rate_Hz": float(1000.0 / isi.mean()) if isi.size else 0.0}


def figure_seed_example_2(out: Path, seed: int = 0) -> dict:
    """The seed's example 2: pulses of 5 µA/cm² plus noise (σ = 3), 2000 ms, the second trace
    offset by 130 mV (preset 'brainpy')."""
    from . import math as hhmath
    from .simulate import HH, DSRunner, inputs, spike_times

    hhmath.random.seed(seed)
    group = HH(2)
    I1 = inputs.spike_input(sp_times=[500.0, 550.0, 1000, 1030, 1060, 1100, 1200], sp_lens=5,
                            sp_sizes=5.0, duration=2000)
    I2 = inputs.spike_input(sp_times=[600.0, 900, 950, 1500], sp_lens=5, sp_sizes=5.0,
                            duration=2000)
    I1 += np.asarray(hhmath.random.normal(0, 3, size=I1.shape))
    I2 += np.asarray(hhmath.random.normal(0, 3, size=I2.shape))
    runner = DSRunner(group, monitors=["V"], inputs=("input", np.stack([I1, I2], -1), "iter"))
    runner.run(2000.0)
    fig, ax = plt.subplots(figsize=(10, 3.8), constrained_layout=True)
    ax.plot(runner.mon.ts, runner.mon.V[:, 0], lw=0.8, label="neuron 0")
    ax.plot(runner.mon.ts, runner.mon.V[:, 1] + 130, lw=0.8, label="neuron 1 (+130 mV)")
    ax.set_xlim(10, 2000)
    ax.set_xlabel("t (ms)")
    ax.set_ylabel("V (mV); neuron 1 offset by 130")
    ax.set_title("Seed example 2: 5 ms pulses of 5 µA/cm² plus Gaussian noise (σ = 3), "
                 "preset 'brainpy'", fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    path = Path(out) / "seed_example_2.png"
    fig.savefig(path, dpi=130)
    plt.close(fig)
    times = [t[t > 10.0] for t in spike_times(runner.mon.ts, runner.mon.V, 20.0)]
    return {"path": path, "spike_times": times}
