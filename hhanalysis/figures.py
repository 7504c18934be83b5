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
           "figure_seed_example_1", "figure_seed_example_2", "trajectory", "diagrams",
           "figure_bifurcation_diagrams", "figure_fi_curve", "figure_limit_cycles",
           "figure_hysteresis", "fit_classic_targets", "figure_fit", "code_fingerprint",
           "write_manifest", "compare_numbers", "MANIFEST",
           "figure_phase_response", "figure_two_parameter", "TWO_PARAMETER_PLANES"]

#: The manifest ``reproduce`` writes beside the figures (and ``make docs-img`` into docs/img).
MANIFEST = "figures.json"


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


def _save(fig, path: Path, dpi: int = 130) -> Path:
    """Save and close ``fig``: written whole or not at all (temporary file, then renamed)."""
    from ._files import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format=Path(path).suffix[1:].lower())
    plt.close(fig)
    return Path(path)


def _preset_panels(out: Path, filename: str, presets, draw) -> tuple[Path, dict]:
    """One panel per HH preset, side by side; ``draw(ax, preset)`` fills a panel and returns
    what the figure reports for it."""
    fig, axes = plt.subplots(1, len(presets), figsize=(12, 4.4), constrained_layout=True,
                             sharey=True)
    info = {preset: draw(ax, preset) for ax, preset in zip(axes, presets)}
    for ax in axes[1:]:
        ax.set_ylabel("")
    path = Path(out) / filename
    _save(fig, path, 130)
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

    path, info = _preset_panels(out, "eigenvalues_vs_I.png", ("classic", "brainpy"), draw)
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
    _save(fig, path, 130)
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
    from .simulate import HH, DSRunner, spike_times
    from .simulate.rng import random as global_random

    global_random.seed(seed)
    group = HH(2)
    runner = DSRunner(group, monitors=["V"], inputs=("input", 10.0))
    runner.run(200.0)
    fig, ax = plt.subplots(figsize=(9, 3.6), constrained_layout=True)
    # neuron 0 wide and light, neuron 1 thin and dark on top: both visible where they lock
    ax.plot(runner.mon.ts, runner.mon.V[:, 0], "-", lw=3.2, color="tab:blue", alpha=0.45,
            label="neuron 0")
    ax.plot(runner.mon.ts, runner.mon.V[:, 1], "--", lw=1.0, color="black", label="neuron 1")
    ax.set_xlabel("t (ms)")
    ax.set_ylabel("V (mV)")
    ax.set_title("Seed example 1 (preset 'brainpy'): HH(2), input 10 µA/cm², exp_auto, "
                 "dt = 0.1 ms", fontsize=10)
    ax.legend(fontsize=8, loc="upper right", title="random V0; both lock to one cycle",
              title_fontsize=8)
    path = Path(out) / "seed_example_1.png"
    _save(fig, path, 130)
    times = spike_times(runner.mon.ts, runner.mon.V, 20.0)
    isi = np.diff(times[0][times[0] > 50.0])
    return {"path": path, "spikes": [len(t) for t in times],
            "rate_Hz": float(1000.0 / isi.mean()) if isi.size else 0.0}


def figure_seed_example_2(out: Path, seed: int = 0) -> dict:
    """The seed's example 2: pulses of 5 µA/cm² plus noise (σ = 3), 2000 ms, the second trace
    offset by 130 mV (preset 'brainpy')."""
    from .simulate import HH, DSRunner, inputs, spike_times
    from .simulate.rng import random as global_random

    global_random.seed(seed)
    group = HH(2)
    I1 = inputs.spike_input(sp_times=[500.0, 550.0, 1000, 1030, 1060, 1100, 1200], sp_lens=5,
                            sp_sizes=5.0, duration=2000)
    I2 = inputs.spike_input(sp_times=[600.0, 900, 950, 1500], sp_lens=5, sp_sizes=5.0,
                            duration=2000)
    I1 += global_random.normal(0, 3, size=I1.shape)
    I2 += global_random.normal(0, 3, size=I2.shape)
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
    _save(fig, path, 130)
    times = [t[t > 10.0] for t in spike_times(runner.mon.ts, runner.mon.V, 20.0)]
    return {"path": path, "spike_times": times}


def diagrams(I_range=(-10.0, 200.0), progress: bool = False) -> dict:
    """The HH bifurcation diagrams of both presets (classic first, as in the seed's figure)."""
    from .continuation import bifurcation_diagram

    return {preset: bifurcation_diagram(hodgkin_huxley(preset=preset), "I", I_range,
                                        progress=progress)
            for preset in ("classic", "brainpy")}


def figure_bifurcation_diagrams(out: Path, diags: dict) -> dict:
    """The seed's bifurcation figure for the classic preset (the figure the seed shows) and for
    the seed's default parameters (brainpy preset), side by side; the diagrams' data are saved
    beside it (``bifurcation_<preset>.npz`` and CSV tables in ``bifurcation_<preset>/``)."""
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8), constrained_layout=True)
    for ax, (preset, d) in zip(axes, diags.items()):
        plotting.plot_bifurcation_diagram(
            d, ax=ax, title=_preset_title(d.model, "HH bifurcation diagram, "))
        d.save(Path(out) / f"bifurcation_{preset}.npz")
        d.to_csv(Path(out) / f"bifurcation_{preset}")
    path = Path(out) / "bifurcation_diagram.png"
    _save(fig, path, 130)
    return {"path": path}


def figure_fi_curve(out: Path, diags: dict) -> dict:
    """Firing frequency of the Hopf-born cycles against I (both presets): stable (green) and
    unstable (blue) orbits, the bistable range shaded, the minimum rate at the fold marked."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4), constrained_layout=True, sharey=True)
    info = {}
    for ax, (preset, d) in zip(axes, diags.items()):
        plotting.plot_frequency_curve(d, ax=ax, title=_preset_title(d.model, "f–I curve, "))
        info[preset] = {"minimum_rate": d.minimum_frequency, "bistable": d.bistable_ranges()}
    axes[1].set_ylabel("")
    path = Path(out) / "fi_curve.png"
    _save(fig, path, 130)
    return {"path": path, **info}


def figure_limit_cycles(out: Path, diags: dict, preset: str = "classic",
                        currents=(6.5, 8.0, 20.0, 50.0, 100.0, 150.0)) -> dict:
    """V–n projections of the orbits of the cycle branch at a few currents: stable (green) and
    unstable (blue, dashed) cycles, with the equilibrium of each current."""
    d = diags[preset]
    br = d.cycles[0]
    fig, ax = plt.subplots(figsize=(12, 5.2), constrained_layout=True)
    colours = plt.get_cmap("tab10").colors
    shown = []
    for c, I in enumerate(currents):
        # every orbit of the branch nearest this current (one per crossing of I)
        cross = np.flatnonzero((br.param[:-1] - I) * (br.param[1:] - I) <= 0)
        for k in cross:
            k = k if abs(br.param[k] - I) <= abs(br.param[k + 1] - I) else k + 1
            _, x = br.orbit(int(k), points=600)
            ax.plot(x[:, 0], x[:, 3], color=colours[c % 10],
                    ls="-" if br.stable[k] else "--", lw=1.8 if br.stable[k] else 1.0,
                    label=f"I = {br.param[k]:.3g} µA/cm², "
                          f"{'stable' if br.stable[k] else 'unstable'}, period "
                          f"{br.period[k]:.2f} ms")
            shown.append((float(br.param[k]), bool(br.stable[k]), float(br.period[k])))
    for b in d.equilibria:
        ax.plot(b.x[:, 0], b.x[:, 3], color="0.5", lw=1, label=None)
    ax.plot([], [], color="0.5", lw=1, label="equilibria (all I)")
    ax.set_xlabel("V (mV)")
    ax.set_ylabel("n")
    ax.set_xlim(-80, 45)
    ax.set_ylim(0.25, 0.8)
    ax.set_title(_preset_title(d.model, "HH limit cycles in the V–n plane, "), fontsize=10)
    # the legend beside the axes, where it cannot cover an orbit
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    path = Path(out) / "limit_cycles_Vn.png"
    _save(fig, path, 130)
    return {"path": path, "orbits": shown}


def figure_hysteresis(out: Path, diags: dict, preset: str = "classic", I_low: float = 4.0,
                      I_high: float = 13.0, ramp_ms: float = 3000.0, dt: float = 0.01) -> dict:
    """A slow current ramp up and back down across the bistable range (one neuron, rk4): the
    neuron starts spiking only past the Hopf point on the way up, keeps spiking below it on the
    way down and stops near the fold of cycles — the jump in amplitude the seed describes."""
    from .simulate import HH, DSRunner, spike_times

    d = diags[preset]
    n = int(round(2 * ramp_ms / dt))
    t = (np.arange(n) + 0.5) * dt
    I = np.where(t < ramp_ms, I_low + (I_high - I_low) * t / ramp_ms,
                 I_high - (I_high - I_low) * (t - ramp_ms) / ramp_ms)
    params = {k: v for k, v in d.params.items() if k in ("gL", "ENa", "gNa", "EK", "gK",
                                                          "EL", "C")}
    rest = find_equilibria(d.model, **{**d.params, "I": I_low})[0].x
    group = HH(1, V_initializer=float(rest[0]), m_initializer=float(rest[1]),
               h_initializer=float(rest[2]), n_initializer=float(rest[3]), method="rk4",
               **params)
    runner = DSRunner(group, monitors=["V"], inputs=("input", I[:, None], "iter"), dt=dt)
    runner.run(2 * ramp_ms)
    ts, V = np.asarray(runner.mon.ts), np.asarray(runner.mon.V[:, 0])
    spikes = spike_times(ts, V[:, None], 0.0)[0]
    I_at = np.interp(spikes, t, I)
    up, down = spikes < ramp_ms, spikes >= ramp_ms
    onset = float(I_at[up][0]) if up.any() else None
    offset = float(I_at[down][-1]) if down.any() else None
    hopf = d.hopf_points[0].param
    lpc = min(s.param for s in d.lpc_points)
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.6), constrained_layout=True,
                             gridspec_kw={"width_ratios": [1.5, 1]})
    ax = axes[0]
    ax.plot(ts, V, lw=0.5, color="k")
    ax.set_xlabel("t (ms)")
    ax.set_ylabel("V (mV)")
    ax2 = ax.twinx()
    ax2.plot(t, I, color="tab:orange", lw=1.5)
    ax2.set_ylabel("I (µA/cm²)", color="tab:orange")
    ax.set_title(f"Slow ramp {I_low:g} → {I_high:g} → {I_low:g} µA/cm² over "
                 f"{2 * ramp_ms / 1000:g} s (rk4, dt = {dt:g} ms)", fontsize=10)
    ax = axes[1]
    plotting.plot_bifurcation_diagram(d, ax=ax, inset=False)
    # envelope of V over 25 ms windows against the current: rest (a point) or spiking (max, min)
    w = int(round(25.0 / dt))
    nb = n // w
    Vb = V[:nb * w].reshape(nb, w)
    Ib = I[:nb * w].reshape(nb, w).mean(axis=1)
    half = nb // 2
    for sl, colour, name, mk in ((slice(0, half), "tab:purple", "ramp up", "^"),
                                 (slice(half, nb), "tab:orange", "ramp down", "v")):
        for k, env in enumerate((Vb.max(axis=1), Vb.min(axis=1))):
            # small hollow markers under the branches (zorder 1): the lines stay visible
            ax.plot(Ib[sl], env[sl], mk, mfc="none", mec=colour, ms=3.5, mew=0.7,
                    alpha=0.8, zorder=1,
                    label=f"{name}: max/min of V over 25 ms" if k == 0 else None)
    ax.set_xlim(I_low, I_high)
    # in the empty band between the cycles' maxima and the equilibria, right of the labels
    ax.legend(fontsize=6.5, loc="center right", bbox_to_anchor=(1.0, 0.6))
    ax.set_title(f"spiking starts at I ≈ {onset:.2f} (Hopf {hopf:.2f}; delayed by the slow "
                 f"passage)\nand stops at I ≈ {offset:.2f} (fold of cycles {lpc:.2f})"
                 if onset and offset else "ramp", fontsize=9)
    fig.suptitle(_preset_title(d.model, "Hysteresis, "), fontsize=10)
    path = Path(out) / "hysteresis.png"
    _save(fig, path, 130)
    return {"path": path, "onset_I": onset, "offset_I": offset, "hopf_I": hopf, "lpc_I": lpc}


def fit_classic_targets(hopf_I: float = 12.0, rate_Hz: float = 60.0, I_range=(0.0, 60.0)):
    """The docs' fitting example: gK and gNa of the classic preset such that the lower Hopf
    point lies at ``hopf_I`` and the minimum firing rate (the period at the lowest fold of
    cycles) is ``rate_Hz``, with :func:`hhanalysis.fit` over differentiable located points.

    Returns:
        ``(result, before, after)``: the :class:`~hhanalysis.fitting.FitResult` and the
        bifurcation diagrams over ``I_range`` at the preset's and the fitted values.
    """
    import jax.numpy as jnp

    from .continuation import bifurcation_diagram, hopf_point, lpc_point
    from .fitting import fit

    model = hodgkin_huxley(preset="classic")
    before = bifurcation_diagram(model, "I", I_range)
    cycles = before.cycles[0]
    lowest = int(np.argmin([s.param for s in cycles.lpc_points]))
    h_start = min(before.hopf_points, key=lambda s: s.param)

    def residuals(ps, guesses):
        h0, l0 = guesses or (h_start, (cycles, lowest))
        h = hopf_point(model, "I", h0, **ps)
        lpc = lpc_point(model, "I", l0, **ps)
        return jnp.stack([h.param - hopf_I, 1000.0 / lpc.period - rate_Hz]), (h, lpc)

    result = fit(residuals, {"gK": model.defaults["gK"], "gNa": model.defaults["gNa"]})
    after = bifurcation_diagram(model.with_params(**result.params), "I", I_range)
    return result, before, after


def figure_fit(out: Path, hopf_I: float = 12.0, rate_Hz: float = 60.0) -> dict:
    """Bifurcation diagrams and f–I curves of the classic preset before and after
    :func:`fit_classic_targets`, with the targets marked."""
    result, before, after = fit_classic_targets(hopf_I, rate_Hz)
    fig, axes = plt.subplots(2, 2, figsize=(12, 8.4), constrained_layout=True)
    labels = {"before": "preset 'classic' (gK = 36, gNa = 120)",
              "after": "fitted (gK = {gK:.4f}, gNa = {gNa:.4f})".format(**result.params)}
    v_lo = min(min(b.v_min.min() for b in d.cycles) for d in (before, after))
    v_hi = max(max(b.v_max.max() for b in d.cycles) for d in (before, after))
    f_hi = max(max(b.frequency.max() for b in d.cycles) for d in (before, after))
    for col, (key, d) in enumerate((("before", before), ("after", after))):
        top, bottom = axes[0, col], axes[1, col]
        plotting.plot_bifurcation_diagram(d, ax=top, title=f"{key}: {labels[key]}",
                                          inset=False)
        plotting.plot_frequency_curve(d, ax=bottom, title=f"f–I curve, {key}")
        top.axvline(hopf_I, color="tab:orange", ls=":", lw=1.2,
                    label=f"target Hopf I = {hopf_I:g}")
        bottom.axhline(rate_Hz, color="tab:orange", ls=":", lw=1.2,
                       label=f"target minimum rate {rate_Hz:g} Hz")
        # room above the curves for the legends; every cycle minimum inside the frame
        top.set_ylim(v_lo - 5.0, v_hi + 0.6 * (v_hi - v_lo))
        bottom.set_ylim(0.0, 1.6 * f_hi)
        top.legend(loc="upper left", fontsize=8, ncols=2)
        bottom.legend(loc="upper left", fontsize=8, ncols=2)
    path = Path(out) / "fit_before_after.png"
    _save(fig, path, 110)
    h_after = min(after.hopf_points, key=lambda s: s.param)
    return {"path": path, "result": result, "hopf_I": h_after.param,
            "minimum_rate": after.minimum_frequency}


# --------------------------------------------------------------------------------------------
# The manifest: which code drew the figures, the numbers each one shows, the bytes of each file
# --------------------------------------------------------------------------------------------


def code_fingerprint() -> str:
    """SHA-256 of the drawing code (this module, :mod:`hhanalysis.plotting` and
    :mod:`hhanalysis.phase`, which draws the phase-response figure) as syntax
    trees without docstrings: comments, docstrings and formatting do not change it, any change
    to what is drawn does (matplotlib's PNG bytes vary between versions, so the images
    themselves cannot be compared across machines)."""
    import ast
    import hashlib

    digest = hashlib.sha256()
    for name in ("figures.py", "plotting.py", "phase.py"):
        tree = ast.parse((Path(__file__).parent / name).read_text())
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                    and isinstance(getattr(body[0], "value", None), ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
        digest.update(ast.dump(tree).encode())
    return digest.hexdigest()


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x)
    return x


def write_manifest(out: Path, shown: dict) -> Path:
    """Write :data:`MANIFEST` in ``out``: the code fingerprint, and per figure file its SHA-256
    and the numbers it shows (``shown[file name]``)."""
    import hashlib
    import json

    from ._files import atomic_path

    figures = {name: {"sha256": hashlib.sha256((Path(out) / name).read_bytes()).hexdigest(),
                      "numbers": _jsonable(numbers)} for name, numbers in sorted(shown.items())}
    path = Path(out) / MANIFEST
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps({"code": code_fingerprint(), "figures": figures}, indent=1)
                       + "\n")
    return path


def compare_numbers(expected, actual, rtol: float = 1e-6, atol: float = 1e-9,
                    where: str = "") -> list[str]:
    """Where two nested structures of numbers (from :func:`write_manifest`) differ beyond
    ``rtol``/``atol``; an empty list when they agree."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        if set(expected) != set(actual):
            return [f"{where}: keys {sorted(expected)} != {sorted(actual)}"]
        return [d for k in expected
                for d in compare_numbers(expected[k], actual[k], rtol, atol, f"{where}/{k}")]
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{where}: {len(expected)} entries != {len(actual)}"]
        return [d for k, (a, b) in enumerate(zip(expected, actual))
                for d in compare_numbers(a, b, rtol, atol, f"{where}[{k}]")]
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)) \
            and not isinstance(expected, bool):
        ok = abs(expected - actual) <= atol + rtol * abs(expected)
        return [] if ok else [f"{where}: {expected!r} != {actual!r}"]
    return [] if expected == actual else [f"{where}: {expected!r} != {actual!r}"]


# --------------------------------------------------------------------------------------------
# Phase response curves (issue 17; kept apart from the figures above)
# --------------------------------------------------------------------------------------------


def figure_phase_response(out: Path, I_hh: float = 10.0, dI_snic: float = 0.24) -> dict:
    """PRCs of a type II and a type I neuron and the weak-coupling interaction function.

    Columns: HH (classic preset, I = ``I_hh``) with the direct ±kick pulse PRC overlaid;
    Morris–Lecar (SNIC parameter set of Rinzel & Ermentrout 1998, ``dI_snic`` above the SNIC)
    with the direct PRC and the 1 − cos 2πθ curve of the same mean; the odd part of the
    interaction function of two HH cells (gap junction, excitatory synapse) with the
    phase-locked states. Bottom row: V on the orbits, and HH near its supercritical Hopf point
    (I = 154.4) against a pure sinusoid."""
    from . import phase
    from .continuation import fold_point, periodic_orbit
    from .models import morris_lecar

    hh_m = hodgkin_huxley(preset="classic")
    hh_prc = phase.phase_response(hh_m, I=I_hh)
    hh_direct = phase.direct_phase_response(hh_m, hh_prc, every=8)
    ml = morris_lecar()
    I_c = float(fold_point(ml, "I", 39.9).param)
    ml_prc = phase.phase_response(ml, I=I_c + dI_snic)
    ml_direct = phase.direct_phase_response(ml, ml_prc, every=8, periods=2)
    fig = plt.figure(figsize=(14, 7.2), constrained_layout=True)
    grid = fig.add_gridspec(2, 3, height_ratios=[2, 1])
    axes = np.array([[fig.add_subplot(grid[r, c]) for c in range(3)] for r in range(2)])
    phase.plot_phase_response(hh_prc, hh_direct, axes=axes[:, 0], title=(
        f"HH (classic), I = {I_hh:g}: type II, period {float(hh_prc.period):.4g} ms"))
    phase.plot_phase_response(ml_prc, ml_direct, axes=axes[:, 1], title=(
        f"Morris–Lecar (SNIC set), I = I_SNIC + {dI_snic:g}: type I, period "
        f"{float(ml_prc.period):.4g} ms"))
    a, _ = ml_prc.fourier("V", 1)
    axes[0, 1].plot(ml_prc.phase, a[0] * (1 - np.cos(2 * np.pi * ml_prc.phase)), "--",
                    color="0.4", lw=1.0, label="1 − cos 2πθ (same mean)")
    axes[0, 1].legend(fontsize=8, loc="upper left")
    couplings = {"gap junction, g = 0.1": phase.gap_junction(0.1),
                 "excitatory synapse, g = 0.1, E = 0 mV": phase.synapse(0.1, 0.0)}
    ax = axes[0, 2]
    locked = {}
    for k, (label, cp) in enumerate(couplings.items()):
        H = phase.interaction_function(hh_m, hh_prc, cp)
        ax.plot(np.append(H.phase, 1.0), np.append(H.H_odd, H.H_odd[0]), color=f"C{k}",
                label=label)
        for v, s in zip(H.locked, H.stable):
            ax.plot(v, 0.0, "o", ms=10 - 4 * k, color=f"C{k}", mfc=f"C{k}" if s else "white",
                    zorder=3 + k, clip_on=False)  # smaller markers on top: both visible
        locked[label] = (H.locked, H.stable)
    ax.axhline(0.0, color="0.6", lw=0.8)
    ax.set_xlim(0.0, 1.0)
    ax.set_xlabel("phase difference φ (fraction of the period)")
    ax.set_ylabel("$H_{odd}(φ)$")
    ax.set_title(f"two weakly coupled HH cells, I = {I_hh:g}\n"
                 "locked states: filled = stable, open = unstable", fontsize=10)
    ax.legend(fontsize=8, loc="lower left")
    hopf_orbit = periodic_orbit(hh_m, phase.orbit_from_simulation(hh_m, I=150.0), I=154.4)
    near = phase.phase_response(hh_m, hopf_orbit)
    a, b = near.fourier("V", 1)
    ax = axes[1, 2]
    ax.plot(near.phase, near["V"], color="C0", lw=1.6, label="HH classic, I = 154.4")
    ax.plot(near.phase, a[0] + a[1] * np.cos(2 * np.pi * near.phase)
            + b[1] * np.sin(2 * np.pi * near.phase), "--", color="0.3", lw=1.0,
            label="first harmonic")
    ax.set_xlim(0.0, 1.0)
    ax.set_xlabel("phase θ")
    ax.set_ylabel("$Z_V$ (ms/mV)")
    ax.set_title("near the supercritical Hopf point (I_H = 154.52)", fontsize=10)
    lo, hi = float(near["V"].min()), float(near["V"].max())
    ax.set_ylim(lo - 0.05 * (hi - lo), hi + 0.45 * (hi - lo))
    ax.legend(fontsize=8, loc="upper left", ncols=2)
    path = Path(out) / "phase_response.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    zv = hh_prc["V"]
    return {"path": path, "hh_direct_error": float(np.max(np.abs(hh_direct.slope - zv[::8]))
                                                   / np.max(np.abs(zv))),
            "ml_direct_error": float(np.max(np.abs(ml_direct.slope - ml_prc["V"][::8]))
                                     / np.max(np.abs(ml_prc["V"]))),
            "hh_period": float(hh_prc.period), "ml_period": float(ml_prc.period),
            "locked": locked}


# --------------------------------------------------------------------------------------------
# Two-parameter planes (issue 13)
# --------------------------------------------------------------------------------------------

#: The planes of ``reproduce``: (preset, parameters, window, with the LPC curves).
TWO_PARAMETER_PLANES = (
    ("brainpy", ("I", "gK"), {"I": (-10.0, 200.0), "gK": (0.0, 60.0)}, True),
    ("classic", ("I", "T"), {"I": (-10.0, 200.0), "T": (0.0, 35.0)}, True),
)


#: The zoom of the (I, gK) plane on its curve of folds of cycles, and its grid of regimes.
TWO_PARAMETER_ZOOM = ((-2.0, 92.0), (36.0, 60.0))
TWO_PARAMETER_ZOOM_GRID = (95, 49)
#: The zoom of the (I, T) plane on the foot of its bistable band (the cusp of cycles), and its
#: grid of regimes.
TWO_PARAMETER_ZOOM_CLASSIC = ((5.0, 13.0), (0.0, 10.0))
TWO_PARAMETER_ZOOM_CLASSIC_GRID = (81, 51)


def figure_two_parameter(out: Path) -> dict:
    """The (I, gK) plane of the brainpy preset and the (I, T) plane of the classic preset: Hopf
    and fold curves with their codim-2 points, and the curves of folds of cycles born at the
    folds of the cycle branches of the lower Hopf point and at the generalised Hopf points that
    those do not reach, over the regions of rest, repetitive
    firing and bistability (:func:`hhanalysis.two_parameter_diagram`); beside each plane a zoom
    on its curves of folds of cycles (the regions on a finer grid)."""
    from .continuation.two_parameter import two_parameter_diagram
    from .plotting import plot_two_parameter_diagram

    fig, axes = plt.subplot_mosaic([["full", "zoom"], ["other", "other_zoom"]],
                                   figsize=(13.5, 10.0), constrained_layout=True)
    zooms = {"full": ("zoom", TWO_PARAMETER_ZOOM, TWO_PARAMETER_ZOOM_GRID),
             "other": ("other_zoom", TWO_PARAMETER_ZOOM_CLASSIC,
                       TWO_PARAMETER_ZOOM_CLASSIC_GRID)}
    found = {}
    for key, (preset, params, window, cycles) in zip(("full", "other"), TWO_PARAMETER_PLANES):
        d = two_parameter_diagram(hodgkin_huxley(preset=preset), params, window, cycles=cycles)
        title = f"{preset} preset: ({params[0]}, {params[1]})"
        plot_two_parameter_diagram(d, ax=axes[key], title=title,
                                   label_cycle_points=not cycles)
        if cycles:  # the LPC curves' crowded part, zoomed, on a finer grid of regimes
            where, zoom, grid = zooms[key]
            plot_two_parameter_diagram(d.with_grid(grid, zoom), ax=axes[where],
                                       title=f"{title}, zoom", window=zoom)
        found[f"{preset}_{params[0]}_{params[1]}"] = [
            {"kind": s.kind, **{k: s.params[k] for k in params}} for s in d.codim2_points]
    path = Path(out) / "two_parameter.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return {"path": path, "codim2": found}
