"""Plots of analysis results (matplotlib). Plotting only reads results; it computes nothing.

Every function takes an optional ``ax`` (or axes) and returns what it drew on. The functions draw
with whatever matplotlib backend is active (this module does not choose one);
``matplotlib.pyplot`` is imported only when a function has to create a figure.
"""

from __future__ import annotations

import numpy as np

from .equilibria import EquilibriumSet
from .spectra import CenterProjection

__all__ = ["plot_eigenvalue_real_parts", "plot_center_projection", "plot_phase_projection",
           "plot_equilibrium_branch", "plot_cycle_branch", "plot_bifurcation_diagram",
           "plot_frequency_curve", "plot_two_parameter_diagram"]

#: Colours of the seed's bifurcation figure.
STABLE_EQ, UNSTABLE_EQ = "tab:red", "black"
STABLE_CYCLE, UNSTABLE_CYCLE = "tab:green", "tab:blue"


def _unstable_joined(stable):
    """Where to draw the unstable (dashed) line: unstable points and their neighbours, so that
    no gap shows at a change of stability."""
    uns = ~np.asarray(stable, bool)
    return uns | np.r_[False, uns[:-1]] | np.r_[uns[1:], False]


def _subplots(*args, **kwargs):
    """``plt.subplots``, importing pyplot only now (importing this module leaves it alone)."""
    import matplotlib.pyplot as plt

    return plt.subplots(*args, **kwargs)


def _axes(ax, figsize=(6.4, 4.2)):
    if ax is None:
        _, ax = _subplots(figsize=figsize, constrained_layout=True)
    return ax


def _label(model, name: str) -> str:
    if name in model.state_names:
        unit = model.states[model.state_names.index(name)].unit
    else:
        unit = model.parameters[model.param_names.index(name)].unit
    unit = unit.replace("uA", "µA").replace("uF", "µF").replace("^2", "²").replace("degC", "°C")
    return name if unit in ("1", "") else f"{name} ({unit})"


def plot_eigenvalue_real_parts(sweep: EquilibriumSet, param: str, hopf_params=(), ax=None,
                               slot: int = 0):
    """Real parts of the eigenvalues of one equilibrium against a swept parameter.

    Arguments:
        sweep: a 1-D sweep from :func:`hhanalysis.find_equilibria`.
        param: the swept parameter.
        hopf_params: parameter values of Hopf points to mark.
        slot: which equilibrium of each sweep point (0: lowest first state).
    """
    ax = _axes(ax)
    x = sweep.param(param)
    lam = sweep.eigenvalues[:, slot, :]
    order = np.argsort(-lam.real, axis=1)
    re = np.take_along_axis(lam.real, order, axis=1)
    im = np.take_along_axis(lam.imag, order, axis=1)
    for k in range(re.shape[1]):
        complex_ = np.abs(im[:, k]) > 1e-9
        ax.plot(x, np.where(complex_, re[:, k], np.nan), color="tab:purple", lw=2,
                label="complex pair" if k == 0 else None)
        ax.plot(x, np.where(complex_, np.nan, re[:, k]), color="tab:orange", lw=1.5,
                label="real" if k == 0 else None)
    ax.axhline(0, color="0.3", lw=0.8)
    for i, h in enumerate(hopf_params):
        ax.axvline(h, color="0.5", ls="--", lw=0.8)
        ax.plot([h], [0], "o", ms=7, mfc="white", mec="k", zorder=5,
                label="Hopf point" if i == 0 else None)
        ax.annotate(f"H{i + 1}\n{param}={h:.3f}", (h, 0), xytext=(6, 10),
                    textcoords="offset points", fontsize=8)
    ax.set_yscale("symlog", linthresh=0.02, linscale=0.5)
    ax.set_xlabel(_label(sweep.model, param))
    ax.set_ylabel("Re λ (1/ms)" if sweep.model.time_unit == "ms" else "Re λ")
    ax.legend(loc="lower left", fontsize=8)
    return ax


def plot_center_projection(ts, projection: CenterProjection, axes=None, time_unit="ms",
                           title="", z_max: float | None = None):
    """A trajectory seen from the center manifold.

    Left: the complex center coordinate :math:`z = \\langle p, x - x^*\\rangle` (the normal-form
    coordinate of the center pair), up to the first time :math:`|z|` exceeds ``z_max`` (the
    quadratic manifold is a local object). Right: the distances to the center plane and to the
    quadratic center manifold, and :math:`|z|`, against time.
    """
    if axes is None:
        fig, axes = _subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
        if title:
            fig.suptitle(title)
    a, b = axes
    z = projection.z
    stop = len(z)
    if z_max is not None and np.any(np.abs(z) > z_max):
        stop = int(np.argmax(np.abs(z) > z_max))
    points = a.scatter(z[:stop].real, z[:stop].imag, c=ts[:stop], s=3, cmap="viridis")
    a.plot(z[:stop].real, z[:stop].imag, color="0.75", lw=0.5, zorder=0)
    a.plot([0], [0], "k+", ms=10, label="equilibrium")
    a.plot(z[:1].real, z[:1].imag, "o", mfc="none", mec="tab:red", ms=8, label="start",
           zorder=5)
    a.set_xlabel("Re z")
    a.set_ylabel("Im z")
    a.set_aspect("equal", adjustable="datalim")
    a.legend(fontsize=8, loc="upper left")
    r0 = float(np.abs(z[0]))
    if stop > 1 and r0 < 0.1 * float(np.abs(z[:stop]).max()):
        # the start lies next to the equilibrium: a zoomed view keeps the two apart
        ins = a.inset_axes([0.64, 0.56, 0.34, 0.34])
        near = np.abs(z[:stop]) <= 3 * r0
        first = int(np.argmin(near)) if not near.all() else stop
        ins.plot(z[:first].real, z[:first].imag, color="0.5", lw=0.8)
        ins.plot([0], [0], "k+", ms=9)
        ins.plot(z[:1].real, z[:1].imag, "o", mfc="none", mec="tab:red", ms=7)
        ins.set_xlim(-2.5 * r0, 2.5 * r0)
        ins.set_ylim(-2.5 * r0, 2.5 * r0)
        ins.set_aspect("equal")
        ins.tick_params(labelsize=6)
        ins.text(0.04, 0.96, f"zoom: start at |z| = {r0:.2g}", transform=ins.transAxes,
                 fontsize=6.5, va="top")
    bounded = "" if z_max is None else f" (until |z| > {z_max:g})"
    a.set_title("center coordinate z" + bounded, fontsize=10)
    a.figure.colorbar(points, ax=a, label=f"t ({time_unit})")
    b.semilogy(ts, projection.distance_to_plane, label="distance to center plane")
    b.semilogy(ts, projection.distance_to_manifold, label="distance to quadratic manifold")
    b.semilogy(ts, np.abs(z), label="|z| (amplitude on the manifold)", ls="--")
    b.set_xlabel(f"t ({time_unit})")
    b.set_ylabel("distance (state units, mostly mV)")
    b.legend(fontsize=8)
    b.set_title("decay onto the manifold, growth along it", fontsize=10)
    return axes


def plot_phase_projection(model, states, x: str = "V", y: str = "n", ax=None, label=None,
                          equilibrium=None, **kwargs):
    """Projection of a trajectory ``states`` (T, n) onto two state variables."""
    ax = _axes(ax, figsize=(5.2, 4.4))
    i, j = _state_index(model, x), _state_index(model, y)
    ax.plot(states[:, i], states[:, j], label=label, **kwargs)
    if equilibrium is not None:
        ax.plot(equilibrium[i], equilibrium[j], "k+", ms=10, label="equilibrium")
    ax.set_xlabel(_label(model, x))
    ax.set_ylabel(_label(model, y))
    return ax


def _through_special_points(branch, idx):
    """The branch's parameter, state ``idx`` and stability with its located special points
    inserted after the points they were detected after (``SpecialPoint.index``), and a mask of
    those: the stable and unstable lines both end exactly at a Hopf point or fold, however
    large the continuation steps beside it."""
    p, v = np.asarray(branch.param, float), np.asarray(branch.x[:, idx], float)
    stable = np.asarray(branch.stable, bool)
    at = np.zeros(p.size, bool)
    for s in sorted(branch.special_points, key=lambda s: s.index, reverse=True):
        if s.kind in ("hopf", "fold") and 0 <= s.index < p.size - 1:
            k = s.index + 1
            p, v = np.insert(p, k, s.param), np.insert(v, k, s.state[idx])
            stable, at = np.insert(stable, k, False), np.insert(at, k, True)
    return p, v, stable, at


def plot_equilibrium_branch(branch, variable: str = "V", ax=None, label_points: bool = True):
    """An equilibrium branch: solid red where stable, black where unstable, H/LP marked."""
    ax = _axes(ax)
    idx = _state_index(branch.model, variable)
    p, v, stable, at_point = _through_special_points(branch, idx)
    ax.plot(p, np.where(stable | at_point, v, np.nan), color=STABLE_EQ, lw=2,
            label="stable equilibrium")
    ax.plot(p, np.where(~stable | at_point, v, np.nan), color=UNSTABLE_EQ, lw=1.5, ls="--",
            label="unstable equilibrium")
    if label_points:
        params = np.asarray(branch.param, float)
        for s in branch.special_points:
            tag = {"hopf": "H", "fold": "LP", "bp": "BP"}.get(s.kind, s.kind)
            ax.plot(s.param, s.state[idx], "ks", ms=5, zorder=5)
            # a fold where the branch turns back to larger values: the label goes on its
            # outer (left) side, where no line passes
            near = params[max(s.index - 3, 0):s.index + 5]
            left = s.kind == "fold" and near.size and bool(np.all(near >= s.param - 1e-12))
            ax.annotate(tag, (s.param, s.state[idx]), xytext=(-6, -4) if left else (4, -12),
                        textcoords="offset points", fontsize=9, ha="right" if left else "left")
    ax.set_xlabel(_label(branch.model, branch.param_name))
    ax.set_ylabel(_label(branch.model, variable))
    return ax


def plot_cycle_branch(branch, variable: str = "V", ax=None, label_points: bool = True,
                      legend: bool = True):
    """Max and min of ``variable`` over the orbits of a cycle branch: green where stable, blue
    dashed where unstable; LPC / PD / NS points marked."""
    ax = _axes(ax)
    i = _state_index(branch.model, variable)
    p, stable = branch.param, branch.stable
    uns = _unstable_joined(stable)
    for k, values in enumerate((branch.x_max[:, i], branch.x_min[:, i])):
        ax.plot(p, np.where(stable, values, np.nan), color=STABLE_CYCLE, lw=2,
                label="stable limit cycle (max, min)" if legend and k == 0 else None)
        ax.plot(p, np.where(uns, values, np.nan), color=UNSTABLE_CYCLE, lw=1.5, ls="--",
                label="unstable limit cycle (max, min)" if legend and k == 0 else None)
    if label_points:
        xr = np.ptp(p) or 1.0
        yr = np.ptp(branch.x_max[:, i]) or 1.0
        placed = []
        for s in branch.special_points:
            if s.kind == "uz":
                continue
            j = int(np.clip(s.index + 1, 0, len(p) - 1))
            hi, lo = ((s.data.x_max[i], s.data.x_min[i])
                      if s.data is not None and s.data.x_max is not None
                      else (branch.x_max[j, i], branch.x_min[j, i]))
            for y in (hi, lo):
                ax.plot(s.param, y, "o", mfc="white", mec="black", ms=5, zorder=6)
            y = hi
            # one label per cluster of nearby points (the HH folds and PDs lie within 0.1 µA)
            near = [q for q in placed if abs(q[0] - s.param) < 0.04 * xr
                    and abs(q[1] - y) < 0.06 * yr]
            if near:
                near[0][2].set_text(near[0][2].get_text() + f", {s.kind.upper()}")
                continue
            txt = ax.annotate(s.kind.upper(), (s.param, y), xytext=(4, 4),
                              textcoords="offset points", fontsize=8)
            placed.append((s.param, y, txt))
    ax.set_xlabel(_label(branch.model, branch.param_name))
    ax.set_ylabel(_label(branch.model, variable))
    return ax


def _state_index(model, name: str) -> int:
    if name not in model.state_names:
        raise ValueError(f"unknown state {name!r} of {model.name}; states: "
                         f"{list(model.state_names)}")
    return model.state_names.index(name)


def _cycle_points(diagram, idx):
    """``(param, max, min, kind)`` of every located cycle point (LPC, PD, NS) of a diagram."""
    out = []
    for b in diagram.cycles:
        for s in b.special_points:
            if s.kind == "uz":
                continue
            j = int(np.clip(s.index + 1, 0, len(b) - 1))
            hi, lo = ((s.data.x_max[idx], s.data.x_min[idx])
                      if s.data is not None and getattr(s.data, "x_max", None) is not None
                      else (b.x_max[j, idx], b.x_min[j, idx]))
            out.append((float(s.param), float(hi), float(lo), s.kind.upper()))
    return sorted(out)


def _crowded(points, width):
    """The largest group of points whose parameters lie within ``width`` of their neighbours
    (at least two points), or ``[]``."""
    groups, best = [], []
    for p in points:
        if groups and p[0] - groups[-1][-1][0] <= width:
            groups[-1].append(p)
        else:
            groups.append([p])
    for g in groups:
        if len(g) >= 2 and len(g) > len(best):
            best = g
    return best


def _marker_legend(ax, has_cycle_points):
    """Legend entries for the markers: H (square) and the cycle points (open circle)."""
    ax.plot([], [], "ks", ms=5, label="H: Hopf point")
    if has_cycle_points:
        ax.plot([], [], "o", mfc="white", mec="black", ms=5,
                label="LPC / PD: fold / period doubling of cycles")


def plot_bifurcation_diagram(diagram, ax=None, variable: str = "V", title: str | None = None,
                             inset: bool = True):
    """The seed's bifurcation figure from a :class:`~hhanalysis.BifurcationDiagram`.

    The vertical range frames every cycle (maxima and minima) and the equilibria near them (an
    equilibrium branch may run far off, e.g. V -> -387 mV at I = -10 for the brainpy preset).
    Where located cycle points crowd together (the classic preset's "twist": two folds and two
    period doublings within 0.1 µA/cm²), ``inset`` adds a zoomed view that labels each one.
    """
    ax = _axes(ax, figsize=(7.0, 4.6))
    idx = _state_index(diagram.model, variable)
    for k, b in enumerate(diagram.equilibria):
        plot_equilibrium_branch(b, variable, ax=ax, label_points=False)
        if k > 0:  # one legend entry per kind
            for line in ax.lines[-2:]:
                line.set_label(None)
    points = _cycle_points(diagram, idx)
    lo_b, hi_b = diagram.bounds
    crowd = _crowded(points, 0.005 * (hi_b - lo_b)) if inset else []
    for k, b in enumerate(diagram.cycles):
        plot_cycle_branch(b, variable, ax=ax, legend=k == 0, label_points=not crowd)
    if crowd:  # the points outside the crowd keep their labels in the main axes
        for p, hi, lo, kind in points:
            ax.plot([p, p], [hi, lo], "o", mfc="white", mec="black", ms=5, zorder=6)
            if (p, hi, lo, kind) not in crowd:
                ax.annotate(kind, (p, hi), xytext=(4, 4), textcoords="offset points",
                            fontsize=8)
    for s in diagram.hopf_points:
        ax.plot(s.param, s.state[idx], "ks", ms=5, zorder=6)
        ax.annotate("H", (s.param, s.state[idx]), xytext=(4, -13), textcoords="offset points",
                    fontsize=9)
    _marker_legend(ax, bool(points))
    ax.set_xlim(*diagram.bounds)
    if diagram.cycles:
        top = max(b.x_max[:, idx].max() for b in diagram.cycles)
        bottom = min(b.x_min[:, idx].min() for b in diagram.cycles)
        pad = 0.12 * (top - bottom)
        eq_lo = min(b.x[:, idx].min() for b in diagram.equilibria)
        # every cycle minimum inside; equilibria below it shown down to 2 pads further
        ax.set_ylim(min(bottom, max(eq_lo, bottom - 2 * pad)) - 0.5 * pad, top + pad)
    if crowd:
        _twist_inset(ax, diagram, idx, crowd, variable)
        ax.legend(fontsize=7, loc="lower right", ncols=2)
    else:
        ax.legend(fontsize=8, loc="best")
    if title is not None:
        ax.set_title(title)
    return ax


def _twist_inset(ax, diagram, idx, crowd, variable):
    """A zoomed view (upper right) of crowded cycle points, each labelled with its parameter;
    the zoomed window is outlined in the main axes."""
    ps = [c[0] for c in crowd]
    his = [c[1] for c in crowd]
    dx = max(0.6 * (max(ps) - min(ps)), 1e-3 * (abs(max(ps)) + 1))
    dy = max(0.35 * (max(his) - min(his)), 0.5)
    ins = ax.inset_axes([0.56, 0.52, 0.42, 0.42])
    for b in diagram.cycles:
        plot_cycle_branch(b, variable, ax=ins, legend=False, label_points=False)
    x0, x1 = min(ps) - dx, max(ps) + dx
    y0, y1 = min(his) - dy, max(his) + dy
    # points that would overlap in the inset share one label
    groups = []
    for p, hi, _lo, kind in sorted(crowd, key=lambda c: (c[0], c[1])):
        ins.plot(p, hi, "o", mfc="white", mec="black", ms=5, zorder=6)
        if groups and abs(p - groups[-1][0][0]) < 0.04 * (x1 - x0) \
                and abs(hi - groups[-1][0][1]) < 0.08 * (y1 - y0):
            groups[-1].append((p, hi, kind))
        else:
            groups.append([(p, hi, kind)])
    for k, g in enumerate(groups):
        text = "\n".join(f"{kind} {diagram.param_name}={p:.5f}" for p, _, kind in g)
        right = k % 2 == 0
        ins.annotate(text, (g[0][0], g[0][1]), xytext=(6 if right else -6, 0),
                     textcoords="offset points", fontsize=6.5, va="center",
                     ha="left" if right else "right")
    ins.set_xlim(x0, x1)
    ins.set_ylim(y0, y1)
    ins.set_xlabel("")
    ins.set_ylabel("")
    ins.tick_params(labelsize=7)
    ins.text(0.02, 0.97, f"zoom: max of {variable}", transform=ins.transAxes, fontsize=7,
             va="top")
    ax.indicate_inset_zoom(ins, edgecolor="0.4")


def plot_frequency_curve(diagram, ax=None, title: str | None = None, inset: bool = True):
    """Frequency of the cycle branches against the parameter (the f–I curve): stable solid
    green, unstable dashed blue; the bistable ranges shaded and the minimum rate marked. An inset
    zooms on the bistable range."""
    ax = _axes(ax)
    model = diagram.model
    unit = "Hz" if model.time_unit == "ms" else f"1/{model.time_unit}"
    ranges = diagram.bistable_ranges()
    fmin = diagram.minimum_frequency

    def draw(ax, legend):
        for k, b in enumerate(diagram.cycles):
            f, p, st = b.frequency, b.param, b.stable
            uns = _unstable_joined(st)
            ax.plot(p, np.where(st, f, np.nan), color=STABLE_CYCLE, lw=2,
                    label="stable limit cycle" if legend and k == 0 else None)
            ax.plot(p, np.where(uns, f, np.nan), color=UNSTABLE_CYCLE, lw=1.5, ls="--",
                    label="unstable limit cycle" if legend and k == 0 else None)
        for k, (a, b) in enumerate(ranges):
            ax.axvspan(a, b, color="0.85", zorder=0,
                       label="bistable (rest and spiking)" if legend and k == 0 else None)
        if fmin is not None:
            ax.plot(*fmin, "o", color="black", ms=6, zorder=6,
                    label=f"minimum rate {fmin[1]:.1f} {unit} at "
                          f"{diagram.param_name}={fmin[0]:.3f}" if legend else None)

    draw(ax, True)
    ax.set_xlim(*diagram.bounds)
    ax.set_ylim(bottom=0)
    ax.set_xlabel(_label(model, diagram.param_name))
    ax.set_ylabel(f"firing frequency ({unit})")
    ax.legend(fontsize=8, loc="upper left")
    if inset and ranges:
        lo, hi = ranges[0]
        pad = 0.6 * (hi - lo)
        ins = ax.inset_axes([0.5, 0.08, 0.46, 0.42])
        draw(ins, False)
        ins.set_xlim(lo - pad, hi + pad)
        sel = [(b.frequency[(b.param > lo - pad) & (b.param < hi + pad)]) for b in diagram.cycles]
        vals = np.concatenate(sel) if sel else np.array([])
        if vals.size:
            ins.set_ylim(0.9 * vals.min(), 1.05 * vals.max())
        ins.tick_params(labelsize=7)
        ins.set_title("bistable range", fontsize=8)
    if title is not None:
        ax.set_title(title)
    return ax


_CODIM2_LABEL = {"bt": "BT", "gh": "GH", "zh": "ZH", "hh": "HH", "cp": "CP", "cpc": "CPC",
                 "r1": "R1", "lppd": "LPPD", "lpns": "LPNS"}
_CODIM2_MARKER = {"bt": "s", "gh": "D", "zh": "^", "hh": "v", "cp": "P", "cpc": "X", "r1": "h",
                  "lppd": "<", "lpns": ">"}


class _Labels:
    """Labels next to points of an axes without overlapping each other or the markers: each
    label takes the first of a few offsets (above-right first) whose box is free, in points of
    the axes as laid out now (approximately the final layout)."""

    OFFSETS = ((7, 6), (7, -13), (-7, 6), (-7, -13), (9, -4), (-9, -4))

    def __init__(self, ax, xlim, ylim):
        box = ax.get_position()
        fig = ax.figure
        self.ax, self.xlim, self.ylim = ax, xlim, ylim
        self.size = (box.width * fig.get_figwidth() * 72, box.height * fig.get_figheight() * 72)
        self.taken: list[tuple[float, float, float, float]] = []

    def _pts(self, x, y):
        (a, b), (c, d) = self.xlim, self.ylim
        return (x - a) / (b - a) * self.size[0], (y - c) / (d - c) * self.size[1]

    def mark(self, x, y, r):
        px, py = self._pts(x, y)
        self.taken.append((px - r, py - r, px + r, py + r))

    def mark_line(self, x, y, r=1.0):
        """Keep labels off a drawn curve: its polyline sampled every ~2 points of the page."""
        px, py = self._pts(np.asarray(x, float), np.asarray(y, float))
        for a, b, c, d in zip(px[:-1], py[:-1], px[1:], py[1:]):
            if not np.all(np.isfinite((a, b, c, d))):
                continue
            k = max(int(np.hypot(c - a, d - b) / 2.0), 1)
            for t in np.linspace(0.0, 1.0, k + 1):
                u, v = a + t * (c - a), b + t * (d - b)
                if -20 <= u <= self.size[0] + 20 and -20 <= v <= self.size[1] + 20:
                    self.taken.append((u - r, v - r, u + r, v + r))

    def place(self, x, y, text, fontsize, color="black", first=None):
        px, py = self._pts(x, y)
        w, h = 0.6 * fontsize * len(text), 0.9 * fontsize
        choice = None
        for dx, dy in ((first,) if first else ()) + self.OFFSETS:
            x0 = px + dx if dx > 0 else px + dx - w
            box = (x0, py + dy, x0 + w, py + dy + h)
            fits = box[0] >= 0 and box[2] <= self.size[0] and box[1] >= 0 and \
                box[3] <= self.size[1]
            if fits and not any(box[0] < t[2] and t[0] < box[2] and box[1] < t[3] and
                                t[1] < box[3] for t in self.taken):
                choice = (dx, dy, box)
                break
        dx, dy, box = choice or (7, 6, None)
        if box is not None:
            self.taken.append(box)
        self.ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points",
                         ha="left" if dx > 0 else "right", fontsize=fontsize, color=color,
                         zorder=6)


#: Colour of the curves of folds of cycles.
LPC_COLOUR = "#1b7837"

#: Colours of the regimes of :data:`hhanalysis.scale.REGIMES` (rest, repetitive firing,
#: bistable, neither / no equilibrium in the state box).
REGIME_COLOURS = ("#eef3fb", "#fde7cf", "#c7e9c0", "#d9d9d9")


def plot_two_parameter_diagram(diagram, ax=None, title: str | None = None,
                               shade: bool = True, window=None, legend: bool = True,
                               label_cycle_points: bool = True):
    r"""The plane of two parameters: the regions of rest, repetitive firing and bistability
    (shaded from the diagram's grid, ``grid['regime']``; from a grid without regimes, the
    regions with and without a stable equilibrium), Hopf curves (solid where supercritical,
    :math:`\ell_1 < 0`; dashed where subcritical), fold curves, curves of folds of cycles,
    the codim-2 points, labelled, and the turning points of the curves of equilibria.

    Arguments:
        window: ``((lo1, hi1), (lo2, hi2))`` to draw (e.g. a zoom); default the diagram's.
        legend: draw the legend (right of the axes).
        label_cycle_points: label the codim-2 points of the LPC curves (markers only when
            False, e.g. in a full view whose zoom labels them)."""
    from matplotlib.colors import ListedColormap
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    ax = _axes(ax, figsize=(7.0, 5.0))
    p1, p2 = diagram.params
    g = diagram.grid
    (lo1, hi1), (lo2, hi2) = diagram.bounds if window is None else window
    handles = []
    seen_in = np.zeros((0, 0), bool)
    if g["stable"].size:  # the grid points inside the drawn window (whose cells show)
        seen_in = ((g[p2] > lo2) & (g[p2] < hi2))[:, None] & \
            ((g[p1] > lo1) & (g[p1] < hi1))[None, :]
    if shade and g.get("regime") is not None and g["regime"].size:
        region = np.asarray(g["regime"])
        ax.pcolormesh(g[p1], g[p2], region.astype(float), shading="nearest",
                      cmap=ListedColormap(REGIME_COLOURS), vmin=0, vmax=3, rasterized=True,
                      zorder=0)
        names = ("rest (a stable equilibrium)", "repetitive firing (no stable equilibrium)",
                 "bistable: rest or repetitive firing", "no equilibrium in the state box")
        handles += [Patch(color=c, label=n) for k, (c, n) in enumerate(zip(REGIME_COLOURS, names))
                    if np.any(region[seen_in] == k)]
    elif shade and g["stable"].size:
        region = np.where(g["count"] == 0, 2.0, (~g["stable"]).astype(float))
        ax.pcolormesh(g[p1], g[p2], region, shading="nearest",
                      cmap=ListedColormap(REGIME_COLOURS[:2] + REGIME_COLOURS[3:]), vmin=0,
                      vmax=2, rasterized=True, zorder=0)
        names = ("a stable equilibrium (rest possible)",
                 "no stable equilibrium (repetitive firing)", "no equilibrium in the state box")
        handles += [Patch(color=c, label=n) for k, (c, n) in
                    enumerate(zip(REGIME_COLOURS[:2] + REGIME_COLOURS[3:], names))
                    if np.any(region[seen_in] == k)]
    def shown(values, where=True):  # any point of a curve (where ``where``) in the window
        x, y = values[:, 0], values[:, 1]
        return bool(np.any(where & (x >= lo1) & (x <= hi1) & (y >= lo2) & (y <= hi2)))

    drawn = {"sup": False, "sub": False, "fold": False, "lpc": False}
    for c in diagram.hopf_curves:
        x, y = c.values[:, 0], c.values[:, 1]
        sub = np.asarray(np.nan_to_num(c.l1, nan=0.0) > 0)
        sup = ~sub
        join = lambda m: m | np.r_[False, m[:-1]]  # noqa: E731 - close the gaps between parts
        ax.plot(np.where(join(sup), x, np.nan), np.where(join(sup), y, np.nan), color="tab:red",
                lw=1.8, zorder=3)
        ax.plot(np.where(join(sub), x, np.nan), np.where(join(sub), y, np.nan), color="tab:red",
                lw=1.8, ls="--", zorder=3)
        drawn["sup"] |= shown(c.values, sup)
        drawn["sub"] |= shown(c.values, sub)
    for c in diagram.fold_curves:
        ax.plot(c.values[:, 0], c.values[:, 1], color="tab:blue", lw=1.5, zorder=3)
        drawn["fold"] |= shown(c.values)
    for c in getattr(diagram, "lpc_curves", ()):  # solid: its strands run close together
        ax.plot(c.values[:, 0], c.values[:, 1], color=LPC_COLOUR, lw=1.2, zorder=3)
        drawn["lpc"] |= shown(c.values)
    for key, style, label in (("sup", {"color": "tab:red", "lw": 1.8}, "Hopf, supercritical"),
                              ("sub", {"color": "tab:red", "lw": 1.8, "ls": "--"},
                               "Hopf, subcritical"),
                              ("fold", {"color": "tab:blue", "lw": 1.5}, "fold of equilibria"),
                              ("lpc", {"color": LPC_COLOUR, "lw": 1.2},
                               "fold of cycles (LPC)")):
        if drawn[key]:  # the legend names what the window shows
            handles.append(Line2D([], [], label=label, **style))
    seen = set()
    cycle_kinds = {"cpc", "r1", "lppd", "lpns"}
    names = {"bt": "Bogdanov-Takens", "gh": "generalised Hopf", "zh": "zero-Hopf",
             "hh": "double Hopf", "cp": "cusp", "cpc": "cusp of cycles",
             "r1": "1:1 resonance", "lppd": "fold-flip", "lpns": "fold-torus"}
    inside = [s for s in diagram.codim2_points
              if lo1 <= s.params[p1] <= hi1 and lo2 <= s.params[p2] <= hi2]
    turns = [s for c in diagram.hopf_curves + diagram.fold_curves for s in c.points("lp")
             if lo1 <= s.params[p1] <= hi1 and lo2 <= s.params[p2] <= hi2]
    labels = _Labels(ax, (lo1, hi1), (lo2, hi2))
    for c in (*diagram.hopf_curves, *diagram.fold_curves, *getattr(diagram, "lpc_curves", ())):
        labels.mark_line(c.values[:, 0], c.values[:, 1])
    for s in inside:
        x, y = s.params[p1], s.params[p2]
        ax.plot(x, y, _CODIM2_MARKER[s.kind], color="black", ms=7, mfc="white", mew=1.5,
                zorder=5, clip_on=False)
        labels.mark(x, y, 5.0)
        if s.kind not in seen:
            seen.add(s.kind)
            handles.append(Line2D([], [], ls="", marker=_CODIM2_MARKER[s.kind], color="black",
                                  mfc="white", mew=1.5, label=f"{_CODIM2_LABEL[s.kind]}: "
                                                               f"{names[s.kind]}"))
    for s in turns:  # above the codim-2 markers, white-rimmed: a turn on one's outline (max T
        x, y = s.params[p1], s.params[p2]  # at the classic GH point) stays a distinct dot
        ax.plot(x, y, "o", color="black", mec="white", mew=0.8, ms=5, zorder=6, clip_on=False)
        labels.mark(x, y, 3.0)
    for s in inside:
        if s.kind not in cycle_kinds or label_cycle_points:
            labels.place(s.params[p1], s.params[p2], _CODIM2_LABEL[s.kind], 9)
    for s in turns:
        labels.place(s.params[p1], s.params[p2], f"{s.data.extremum} {s.data.param_name}", 7,
                     color="0.25", first=(7, -11))
    if turns:
        handles.append(Line2D([], [], ls="", marker="o", color="black", ms=4,
                              label="turning point of a curve"))
    ax.set_xlim(lo1, hi1)
    ax.set_ylim(lo2, hi2)
    ax.set_xlabel(_label(diagram.model, p1))
    ax.set_ylabel(_label(diagram.model, p2))
    if legend:
        ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                  borderaxespad=0.0, frameon=False)
    if title is not None:
        ax.set_title(title, fontsize=10)
    return ax
