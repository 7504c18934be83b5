r"""The two-parameter bifurcation diagram: every Hopf and fold curve that crosses a window.

:func:`two_parameter_diagram` follows the equilibria in the first parameter across its range at
several values of the second (``slices``), and continues a Hopf curve
(:func:`~hhanalysis.continuation.curves.continue_hopf`) or a fold curve
(:func:`~hhanalysis.continuation.curves.continue_fold`) from every Hopf point and fold it meets
that does not already lie on a computed curve; through the Bogdanov–Takens and zero-Hopf points
found on a curve of one kind, the curve of the other kind is continued too. With
``cycles=True``, the cycle branches from the Hopf points of one slice (the model's own value of
the second parameter) are computed, and the curve of folds of cycles
(:func:`~hhanalysis.continuation.cycle_curves.continue_lpc`) is continued from each of their
LPC points; then from every generalised Hopf (GH) point of the Hopf curves that none of these
curves reaches, the LPC curve born there (:func:`_lpc_from_gh`).

The plane is also sampled on a grid (default 121 x 81 points) and every grid point is given
its regime (``grid['regime']``, codes of :data:`hhanalysis.scale.REGIMES`):

* **rest**: a stable equilibrium and no stable cycle;
* **repetitive firing**: no stable equilibrium (the trajectories stay bounded and do not come
  to rest: an HH-type neuron fires, or oscillates with a small amplitude just inside a
  supercritical Hopf curve);
* **bistable**: a stable equilibrium and a stable cycle (between an LPC curve and the
  subcritical part of a Hopf curve, where both exist);
* **none**: no equilibrium in the model's state box.

The equilibria and their stability come from :func:`~hhanalysis.find_equilibria`
(vectorised). Stable cycles are followed from the firing region into the region of stable
equilibria by simulation, like a continuation whose steps are the grid points: the firing
points next to the rest region start from a spike; then, front by front, every point with a
stable equilibrium next to an oscillating point starts from that neighbour's final state, and
is bistable if it keeps oscillating (RK4, dt = 0.02, 100 ms transient and 100 ms window; an
oscillation that shrinks must keep 0.97 of its amplitude over a second run, to tell a slowly
damped focus next to a Hopf curve from a cycle). Only the fronts are simulated, each in one
batched call: a few hundred simulations on the default grid, ~5 s on 2 CPU cores. The regions
are resolved to about one grid cell; the curves drawn over them are the exact boundaries where
they were continued (Hopf, LPC). A region of bistability that touches no firing point (cycles
born at folds of cycles away from any Hopf curve) is not found, nor a cycle whose period exceeds
a third of the window (e.g. very close to a homoclinic orbit).
:meth:`TwoParameterDiagram.with_grid` recomputes the grid, e.g. finer for a zoom;
``regimes=False`` skips the simulations.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..models import ODEModel
from ..precision import float64
from .curves import BifurcationCurve, _check_bounds, continue_fold, continue_hopf
from .cycle_curves import CycleCurve, continue_lpc
from .engine import ContinuationSettings
from .results import SpecialPoint, Status

__all__ = ["TwoParameterDiagram", "two_parameter_diagram"]


@dataclass(frozen=True)
class TwoParameterDiagram:
    """Hopf and fold curves of equilibria in a window of two parameters.

    Attributes:
        model: the model (other parameters at its defaults, or the values given).
        params: the two parameters ``(p1, p2)`` (horizontal, vertical).
        bounds: their windows ``((lo1, hi1), (lo2, hi2))``.
        hopf_curves, fold_curves: the curves (:class:`BifurcationCurve`), clipped to the window.
        lpc_curves: curves of folds of cycles (:class:`CycleCurve`), with ``cycles=True``.
        grid: ``{p1: (G1,), p2: (G2,), 'stable': (G2, G1) bool, 'count': (G2, G1),
            'regime': (G2, G1)}``: whether a stable equilibrium exists at each grid point, how
            many equilibria lie in the model's state box there, and (unless computed with
            ``regimes=False``) the regime, an index into :data:`hhanalysis.scale.REGIMES`:
            0 rest (a stable equilibrium, no stable cycle), 1 repetitive firing (no stable
            equilibrium), 2 bistable (a stable equilibrium and a stable cycle), 3 no
            equilibrium in the state box.
        fixed: the values of the other parameters.
    """

    model: ODEModel = field(repr=False)
    params: tuple[str, str]
    bounds: tuple[tuple[float, float], tuple[float, float]]
    hopf_curves: tuple[BifurcationCurve, ...]
    fold_curves: tuple[BifurcationCurve, ...]
    grid: dict = field(repr=False)
    fixed: dict = field(default_factory=dict, repr=False)
    lpc_curves: tuple[CycleCurve, ...] = ()

    @property
    def curves(self) -> tuple:
        return self.hopf_curves + self.fold_curves + self.lpc_curves

    @property
    def turning_points(self) -> tuple[SpecialPoint, ...]:
        """Where a curve turns in one parameter (e.g. the highest temperature of a Hopf point)."""
        return tuple(s for c in self.curves for s in c.points("lp"))

    @property
    def codim2_points(self) -> tuple[SpecialPoint, ...]:
        """Every codim-2 point of the curves (a BT point found on a Hopf and a fold curve is
        listed once)."""
        out: list[SpecialPoint] = []
        for c in self.curves:
            for s in c.codim2_points:
                if not any(t.kind == s.kind and _same_point(t, s, self.params) for t in out):
                    out.append(s)
        return tuple(sorted(out, key=lambda s: (s.kind, s.params[self.params[0]])))

    @float64
    def with_grid(self, shape: tuple[int, int] = (121, 81), window=None,
                  regimes: bool = True) -> TwoParameterDiagram:
        """The same curves with the grid (equilibria and regimes) recomputed with ``shape =
        (G1, G2)`` points over ``window`` (``((lo1, hi1), (lo2, hi2))`` or a mapping; default
        the diagram's bounds): e.g. a finer grid for a zoom, drawn with ``plot(window=...)``."""
        window = self.bounds if window is None else _window(window, self.params)
        if len(shape) != 2 or any(int(k) != k or k < 0 for k in shape):
            raise ValueError(f"shape must be two counts (G1, G2), got {shape!r}")
        return dataclasses.replace(self, grid=_grid(self.model, self.params, window,
                                                    tuple(int(k) for k in shape), regimes))

    def plot(self, ax=None, **kwargs):
        """Draw the plane (see :func:`hhanalysis.plotting.plot_two_parameter_diagram`)."""
        from ..plotting import plot_two_parameter_diagram

        return plot_two_parameter_diagram(self, ax=ax, **kwargs)

    def tables(self) -> dict[str, str]:
        """The CSV tables as text: ``curves.csv`` (kind, curve, both parameters, l1 / a at
        every point), ``codim2.csv`` (kind, both parameters, normal-form coefficients) and,
        with a grid of regimes, ``regimes.csv`` (both parameters, the regime of
        :data:`hhanalysis.scale.REGIMES` at every grid point)."""
        p1, p2 = self.params
        rows = [f"kind,curve,{p1},{p2},l1,a"]
        for kind, curves in (("hopf", self.hopf_curves), ("fold", self.fold_curves),
                             ("lpc", self.lpc_curves)):
            for k, c in enumerate(curves):
                l1 = getattr(c, "l1", np.full(len(c), np.nan))
                rows += [f"{kind},{k},{a!r},{b!r},{l!r},{f!r}" for (a, b), l, f in
                         zip(c.values.tolist(), l1.tolist(), c.a.tolist())]
        out = {"curves.csv": "\n".join(rows) + "\n"}
        rows = [f"kind,{p1},{p2},coefficients"]
        for s in self.codim2_points:
            coeffs = ";".join(f"{k}={v!r}" for k, v in vars(s.data).items()
                              if isinstance(v, (int, float))) if s.data else ""
            rows.append(f"{s.kind},{s.params[p1]!r},{s.params[p2]!r},{coeffs}")
        out["codim2.csv"] = "\n".join(rows) + "\n"
        if self.grid.get("regime") is not None and self.grid["regime"].size:
            from ..scale import REGIMES

            g = self.grid
            rows = [f"{p1},{p2},regime"]
            x, y = np.meshgrid(g[p1], g[p2])  # (G2, G1), as the regimes
            rows += [f"{a!r},{b!r},{REGIMES[r]}" for a, b, r in
                     zip(x.ravel().tolist(), y.ravel().tolist(), g["regime"].ravel().tolist())]
            out["regimes.csv"] = "\n".join(rows) + "\n"
        return out

    def to_csv(self, directory) -> list[Path]:
        """Write :meth:`tables` into ``directory`` (created if missing); returns the paths."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, text in self.tables().items():
            (directory / name).write_text(text)
            paths.append(directory / name)
        return paths

    def __repr__(self) -> str:
        p1, p2 = self.params
        lines = [f"TwoParameterDiagram({self.model.name}, {p1} in [{self.bounds[0][0]:g}, "
                 f"{self.bounds[0][1]:g}], {p2} in [{self.bounds[1][0]:g}, "
                 f"{self.bounds[1][1]:g}]: {len(self.hopf_curves)} Hopf curve(s), "
                 f"{len(self.fold_curves)} fold curve(s), {len(self.lpc_curves)} LPC "
                 f"curve(s))"]
        from .curves import _describe

        lines += [f"  {_describe(s, self.params)}" for s in self.codim2_points]
        return "\n".join(lines)


def _same_point(a: SpecialPoint, b: SpecialPoint, params) -> bool:
    return all(math.isclose(a.params[k], b.params[k], rel_tol=1e-6, abs_tol=1e-8)
               for k in params)


def _on_curve(point: SpecialPoint, curves, params, scale) -> bool:
    """Whether ``point`` lies on one of ``curves`` (distance to their polylines, in units of the
    window, below 1e-4)."""
    z = np.array([point.params[params[0]], point.params[params[1]]]) / scale
    for c in curves:
        P = c.values / scale
        if len(P) < 2:
            continue
        a, d = P[:-1], np.diff(P, axis=0)
        t = np.clip(np.sum((z - a) * d, axis=1) / np.maximum(np.sum(d * d, axis=1), 1e-300),
                    0, 1)
        if np.min(np.linalg.norm(a + t[:, None] * d - z, axis=1)) < 1e-4:
            return True
    return False


def _window(bounds, params) -> tuple[tuple[float, float], tuple[float, float]]:
    """The two (lo, hi) pairs of ``bounds`` (both required, finite)."""
    if isinstance(bounds, dict) and set(bounds) != set(params):
        raise ValueError(f"bounds must give (lo, hi) for each of {params}, got "
                         f"{sorted(bounds)}")
    pairs = _check_bounds(bounds, params)
    for name, (lo, hi) in zip(params, pairs):
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ValueError(f"bounds of {name!r} must be finite, got ({lo:g}, {hi:g})")
    return tuple(pairs)


def _branch(continue_equilibria, model, p1, lo1, hi1, fixed):
    """The equilibrium branch across the window from either end (None if there is no
    equilibrium in the model's box at both ends, e.g. V below its box for a large negative
    current)."""
    for a, b in ((lo1, hi1), (hi1, lo1)):
        try:
            return continue_equilibria(model, p1, a, b, **fixed)
        except ValueError:
            continue
    return None


@float64
def two_parameter_diagram(model: ODEModel, params: tuple[str, str] = ("I", "gK"),
                          bounds=None, *, slices: int = 5, grid: tuple[int, int] = (121, 81),
                          settings: ContinuationSettings | None = None, cycles: bool = False,
                          regimes: bool = True, user_points=None,
                          **fixed) -> TwoParameterDiagram:
    """The Hopf and fold curves of equilibria crossing a window of two parameters, and with
    ``cycles=True`` the curves of folds of cycles.

    Arguments:
        model: the model.
        params: ``(p1, p2)``: the horizontal and the vertical parameter.
        bounds: ``{p1: (lo, hi), p2: (lo, hi)}`` or two pairs (required).
        slices: number of values of ``p2`` (evenly inside its window, and the model's own value
            of ``p2`` if inside) at which the equilibria are followed in ``p1`` to find the
            starting points of the curves.
        grid: ``(G1, G2)`` points of the grid of equilibria and regimes (``(0, 0)``: none).
        settings: continuation settings of the curves.
        cycles: also continue the LPC curves through the folds of the cycle branches born at
            the Hopf points of one slice (the model's own value of ``p2``, or the middle one),
            and the LPC curve born at every GH point of the Hopf curves that none of those
            reaches.
        regimes: classify every grid point as rest, repetitive firing or bistable, following
            the stable cycles from the firing region by simulation (``grid['regime']``;
            ~5 s for the default grid on 2 CPU cores). False: only the equilibria.
        user_points: ``{name: [values]}`` (``name`` one of ``params``): the points of every
            curve where that parameter takes these values are located (``'uz'`` special
            points, e.g. to tabulate the curves at fixed ``p2``).
        **fixed: values of the other parameters.

    Returns:
        :class:`TwoParameterDiagram`.
    """
    from .equilibria import continue_equilibria

    if isinstance(params, str) or len(params) != 2 or params[0] == params[1]:
        raise ValueError(f"params must be two different parameter names, got {params!r}")
    params = tuple(params)
    model.check_param_names(list(params), "params")
    if bounds is None:
        raise ValueError("bounds: give the window, e.g. {'I': (0, 200), 'gK': (0, 60)}")
    (lo1, hi1), (lo2, hi2) = window = _window(bounds, params)
    if int(slices) != slices or slices < 1:
        raise ValueError(f"slices must be a positive integer, got {slices!r}")
    for name in fixed:
        if name in params:
            raise ValueError(f"{name!r} is a diagram parameter; do not also fix it")
    model = model.with_params(**fixed) if fixed else model
    p1, p2 = params
    values2 = list(np.linspace(lo2, hi2, int(slices) + 2)[1:-1])
    own = model.defaults[p2]
    if lo2 < own < hi2:
        values2.append(own)
    scale = np.array([hi1 - lo1, hi2 - lo2])
    hopf, fold = [], []
    box = {p1: (lo1, hi1), p2: (lo2, hi2)}
    branches = {}
    for v2 in sorted(values2):
        branch = branches[v2] = _branch(continue_equilibria, model, p1, lo1, hi1,
                                        {p2: float(v2)})
        for sp in (branch.special_points if branch is not None else ()):
            if sp.status is not Status.CONVERGED or sp.kind not in ("hopf", "fold"):
                continue
            curves, follow = (hopf, continue_hopf) if sp.kind == "hopf" else (fold, continue_fold)
            if _on_curve(sp, curves, params, scale):
                continue
            curves.append(follow(model, sp, params, box, settings=settings,
                                 user_points=user_points))
    # codim-2 points where another curve passes: a fold curve through every BT / ZH point of a
    # Hopf curve, a Hopf curve through every BT / ZH point of a fold curve
    for _ in range(3):
        new = 0
        for source, target, follow in ((hopf, fold, continue_fold), (fold, hopf, continue_hopf)):
            for c in list(source):
                for sp in c.codim2_points:
                    if sp.kind not in ("bt", "zh") or sp.status is not Status.CONVERGED:
                        continue
                    if _on_curve(sp, target, params, scale):
                        continue
                    try:
                        target.append(follow(model, {"x": sp.state, "params": sp.params}, params,
                                             box, settings=settings, user_points=user_points))
                        new += 1
                    except ValueError:  # the start did not converge on the other system
                        continue
        if not new:
            break
    v2 = own if lo2 < own < hi2 else 0.5 * (lo2 + hi2)
    lpc = []
    if cycles:
        lpc = _lpc_curves(model, params, box, v2, scale, branches.get(v2), user_points)
        lpc += _gh_lpc_curves(model, params, box, hopf, lpc, scale, user_points)
    return TwoParameterDiagram(model=model, params=params, bounds=window,
                               hopf_curves=tuple(hopf), fold_curves=tuple(fold),
                               grid=_grid(model, params, window, grid, regimes),
                               fixed=dict(fixed), lpc_curves=tuple(lpc))


def _grid(model, params, window, shape, regimes: bool) -> dict:
    """The grid of :attr:`TwoParameterDiagram.grid` over ``window`` with ``shape = (G1, G2)``
    points."""
    from ..equilibria import find_equilibria

    p1, p2 = params
    (lo1, hi1), (lo2, hi2) = window
    g1 = np.linspace(lo1, hi1, shape[0]) if shape[0] else np.zeros(0)
    g2 = np.linspace(lo2, hi2, shape[1]) if shape[1] else np.zeros(0)
    out = {p1: g1, p2: g2, "stable": np.zeros((0, 0), bool), "count": np.zeros((0, 0), int)}
    if g1.size and g2.size:
        eqs = find_equilibria(model, **{p1: g1[None, :], p2: g2[:, None]})
        out["stable"] = np.asarray(eqs.stable).any(axis=-1)
        out["count"] = np.asarray(eqs.count)
        if regimes:
            out["regime"] = _regimes(model, eqs)[0]
    return out


def _lpc_curves(model, params, box, v2, scale, branch=None,
                user_points=None) -> list[CycleCurve]:
    """The LPC curves through the folds of the cycle branches born at the Hopf points of the
    slice ``params[1] = v2`` (``branch``: its equilibrium branch in ``params[0]``, if already
    computed).

    A Hopf point where an earlier cycle branch of the slice ended (its orbits shrinking onto
    the equilibrium there) starts no branch of its own: it would be the same branch, run
    backwards. Each curve starts from the LPC point located on the branch (with its orbit),
    and none from a fold that lies on a curve already computed."""
    from .cycles import continue_cycles
    from .equilibria import continue_equilibria

    p1, p2 = params
    (lo1, hi1) = box[p1]
    if branch is None:
        branch = _branch(continue_equilibria, model, p1, lo1, hi1, {p2: float(v2)})
    hopfs = [h for h in (branch.hopf_points if branch is not None else ())
             if h.status is Status.CONVERGED]
    curves: list[CycleCurve] = []
    ends: list[float] = []  # where the cycle branches computed so far returned to a Hopf point
    for h in hopfs:
        if any(_nearest(e, hopfs) is h for e in ends):
            continue
        cyc = continue_cycles(model, h, (lo1, hi1))
        if cyc.status is Status.RETURNED_TO_HOPF:
            ends.append(cyc.stop.param)
        for sp in cyc.lpc_points:
            if sp.status is not Status.CONVERGED:
                continue
            if _on_curve(dataclasses.replace(sp, params={**sp.params, p1: sp.param,
                                                         p2: float(v2)}),
                         curves, params, scale):
                continue
            try:
                curves.append(continue_lpc(model, sp, params, box, user_points=user_points))
            except ValueError:  # the start did not converge on the LPC-curve system
                continue
    return curves


def _gh_lpc_curves(model, params, box, hopf_curves, lpc_curves, scale,
                   user_points=None) -> list[CycleCurve]:
    """The LPC curves born at the converged GH points of ``hopf_curves`` that no curve of
    ``lpc_curves`` (nor an earlier one of these) reaches (:func:`_reaches`), each from
    :func:`_lpc_from_gh`; one whose start lies on a curve already computed is dropped."""
    out: list[CycleCurve] = []
    for hc in hopf_curves:
        for gh in hc.points("gh"):
            if gh.status is not Status.CONVERGED or \
                    any(_reaches(c, gh, params, scale) for c in [*lpc_curves, *out]):
                continue
            curve = _lpc_from_gh(model, hc, gh, params, box, scale, [*lpc_curves, *out],
                                 user_points)
            if curve is not None:
                out.append(curve)
    return out


#: How far from a GH point (in units of the window) the Hopf point that seeds its LPC curve
#: lies along the Hopf curve, tried in turn until its cycle branch has a fold.
_GH_SEED_DISTANCES = (0.0075, 0.03)


def _lpc_from_gh(model, hopf_curve, gh, params, box, scale, known=(),
                 user_points=None) -> CycleCurve | None:
    r"""The LPC curve born at the generalised Hopf point ``gh`` of ``hopf_curve``, or None.

    Near a GH point (:math:`\ell_1 = 0`, :math:`\ell_2 \ne 0`) the Bautin normal form
    :math:`\dot r = r(\beta_1 + \ell_1 r^2 + \ell_2 r^4)` has a fold of cycles at
    :math:`r^2 = -\ell_1/(2\ell_2)` on the side where the Hopf point is subcritical
    (:math:`\ell_1 \ell_2 < 0`), at a distance :math:`\beta_1 = \ell_1^2/(4\ell_2)` from the
    Hopf curve that grows quadratically with the distance from the GH point. So the cycle branch
    of a Hopf point a little way along the subcritical side (``_GH_SEED_DISTANCES``, in units
    of the window) folds close to it: that fold (the branch's first LPC point; the branch is
    computed in ``p1`` at fixed ``p2``, or in ``p2`` where the Hopf curve runs within ~11° of
    the ``p1`` axis in units of the window, over a tenth of the window on either side of the
    Hopf point) starts the LPC curve, continued both ways in ``box``: to
    the GH point, where its orbits shrink onto the equilibrium, and away from it. A seed whose
    branch has no fold (too close: the fold before the branch's first orbit) is tried farther
    out; a fold that lies on a curve of ``known`` is not continued again."""
    from .cycles import continue_cycles

    p1, p2 = params
    l1, values = np.asarray(hopf_curve.l1), np.asarray(hopf_curve.values)
    # the subcritical side (l1 > 0) of the sign change of l1 at the GH point (between its
    # index and the next point)
    i = next((j for j in (gh.index, gh.index - 1, gh.index + 1) if 0 <= j < len(l1) - 1 and
              l1[j] * l1[j + 1] <= 0), None)
    if i is None:
        return None
    side = range(i, -1, -1) if l1[i] > 0 else range(i + 1, len(l1))
    sub = []  # the points of that side, up to the next change of criticality (or a BT)
    for j in side:
        if not (np.isfinite(l1[j]) and l1[j] > 0 and np.isfinite(hopf_curve.omega[j])):
            break
        sub.append(j)
    z = np.array([gh.params[p1], gh.params[p2]]) / scale
    dist = np.linalg.norm(values[sub] / scale - z, axis=1) if sub else np.zeros(0)
    for delta in _GH_SEED_DISTANCES:
        far = np.flatnonzero(dist >= delta)
        if not far.size:
            break
        j = sub[int(far[0])]
        tangent = np.gradient(values / scale, axis=0)[j]
        param = p1 if abs(tangent[1]) >= 0.2 * abs(tangent[0]) else p2
        k = params.index(param)
        lo, hi = box[param]
        p = float(values[j, k])
        w = 0.1 * (hi - lo)
        try:
            cycles = continue_cycles(model, hopf_curve.hopf_point(j, param),
                                     (max(lo, p - w), min(hi, p + w)))
        except (ValueError, RuntimeError):  # no orbit next to the Hopf point
            continue
        folds = [s for s in cycles.lpc_points if s.status is Status.CONVERGED]
        if not folds:
            continue
        sp = folds[0]
        other = p2 if param == p1 else p1
        at = dataclasses.replace(sp, params={**sp.params, param: float(sp.param),
                                             other: float(values[j, 1 - k])})
        if _on_curve(at, known, params, scale):
            return None
        try:
            return continue_lpc(model, sp, params, box, user_points=user_points)
        except ValueError:  # the start did not converge on the LPC-curve system
            continue
    return None


def _reaches(curve: CycleCurve, point: SpecialPoint, params, scale, tol: float = 0.01) -> bool:
    """Whether an end of the LPC ``curve`` lies within ``tol`` (in units of the window) of
    ``point`` with its orbit shrunk there (amplitude below 5 % of the curve's largest): the
    curve is the one born at that GH point (continuation stops a little short of it, where the
    orbits become too small for the corrector)."""
    if not len(curve):
        return False
    z = np.array([point.params[params[0]], point.params[params[1]]]) / scale
    amp = np.max(curve.x_max - curve.x_min, axis=1)
    return any(np.linalg.norm(curve.values[e] / scale - z) < tol and
               amp[e] < 0.05 * amp.max() for e in (0, -1))


def _nearest(value: float, points):
    """The point of ``points`` whose parameter is nearest ``value``, if it is within 1 % of
    the distance to the others' (or the only one)."""
    d = sorted((abs(s.param - value), i) for i, s in enumerate(points))
    if not d or (len(d) > 1 and d[0][0] > 0.01 * d[1][0]):
        return None
    return points[d[0][1]]


# --------------------------------------------------------------------------------------------
# Rest, repetitive firing, bistability over the grid
# --------------------------------------------------------------------------------------------

#: The four grid neighbours ``(di, dj)`` (rows: second parameter, columns: first).
_NEIGHBOURS = ((0, -1), (0, 1), (-1, 0), (1, 0))


def _shifted(a: np.ndarray, di: int, dj: int, fill) -> np.ndarray:
    """``out[i, j] = a[i - di, j - dj]`` on the leading two axes (``fill`` outside)."""
    out = np.full_like(a, fill)
    G2, G1 = a.shape[:2]
    out[max(di, 0):G2 + min(di, 0), max(dj, 0):G1 + min(dj, 0)] = \
        a[max(-di, 0):G2 + min(-di, 0), max(-dj, 0):G1 + min(-dj, 0)]
    return out


def _settle(model, X0: np.ndarray, P: np.ndarray, *, dt: float, transient: int, window: int,
            min_amplitude: float, method: str = "rk4"):
    """Simulate every row of ``X0`` (``(M, n)``) at the parameters of the same row of ``P``
    (``(M, n_params)``) for ``transient`` then ``window`` steps of ``dt`` (the fixed-step
    ``method`` of :mod:`hhanalysis.simulate`, in chunks of 32 or 256 points: two compilations).
    Returns the final states, whether each ends on a sustained oscillation of the first state
    (the criterion of :func:`hhanalysis.sweep`), and its peak-to-peak amplitudes over the last
    and the first half of the window."""
    from ..scale import _cycles, _hysteresis_kernel

    run = _hysteresis_kernel(model, transient, window, method)
    M = len(X0)
    batch = 32 if M <= 32 else 256  # most fronts are small: two compilations
    pad = -M % batch
    X0 = np.concatenate([X0, np.repeat(X0[:1], pad, axis=0)])
    P = np.concatenate([P, np.repeat(P[:1], pad, axis=0)])
    ends, found, late, early = [], [], [], []
    for k in range(0, M + pad, batch):
        end, stats = run(X0[k:k + batch].T, P[k:k + batch].T[None], dt)
        ends.append(np.asarray(end).T)
        found.append(_cycles(stats, dt, min_amplitude)[0][0])
        late.append(np.asarray(stats[1])[0])
        early.append(np.asarray(stats[2])[0])
    return tuple(np.concatenate(a)[:M] for a in (ends, found, late, early))


def _regimes(model, eqs, *, dt: float = 0.02, transient: float = 100.0,
             window: float = 100.0) -> tuple[np.ndarray, int]:
    r"""The regime at every point of a 2-D grid of equilibria ``eqs`` (sweep shape
    ``(G2, G1)``): codes of :data:`hhanalysis.scale.REGIMES` (0 rest, 1 repetitive firing,
    2 bistable, 3 no equilibrium in the state box), and the number of simulations run.

    A point without a stable equilibrium fires (the trajectories of the model stay bounded and
    do not come to rest). Whether a stable cycle coexists with a stable equilibrium is decided
    by following the cycles from the firing region through the grid by simulation, like a
    continuation with the grid points as its steps. The firing points next to a point with a
    stable equilibrium are simulated from a depolarised state (their equilibrium of lowest
    first state with the first state raised by a quarter of the box: a spike). Then, front by
    front, every point with a stable equilibrium next to a point that oscillates is simulated
    from that neighbour's final state (a point that came to rest is tried again from each other
    neighbour that oscillates: the phase of a final state may lie outside the basin of the
    cycle next door). Every simulation is RK4 with step ``dt``, ``transient`` then ``window``
    (time units of the model). A point is bistable if it keeps oscillating (the criterion of
    :func:`hhanalysis.sweep`) and, where the oscillation shrank during the window (late
    amplitude below 0.999 of the early one: a slowly damped focus next to a Hopf curve looks
    alike), if it keeps 0.97 of its amplitude over a second run of the same length. Only the
    fronts are simulated, all points of a front in one batched call. A region of bistability
    that touches no firing point (cycles born at folds of cycles away from any Hopf curve) is
    not found this way."""
    count = np.asarray(eqs.count)
    stable = np.asarray(eqs.stable).any(axis=-1)
    rests = (count > 0) & stable
    fires = (count > 0) & ~stable
    n = eqs.x.shape[-1]
    lo, hi = (np.asarray(b, float) for b in eqs.box)
    kw = {"dt": dt, "transient": int(round(transient / dt)), "window": int(round(window / dt)),
          "min_amplitude": 0.01 * float(hi[0] - lo[0])}
    P = np.asarray(eqs.params)
    X = np.full(count.shape + (n,), np.nan)
    cycle = np.zeros(count.shape, bool)
    near_rest = np.zeros(count.shape, bool)
    for di, dj in _NEIGHBOURS:
        near_rest |= _shifted(rests, di, dj, False)
    seeds = fires & near_rest
    runs = int(seeds.sum())
    if runs:
        X0 = np.asarray(eqs.x)[seeds][:, 0].copy()  # the equilibrium of lowest first state
        X0[:, 0] = np.minimum(X0[:, 0] + 0.25 * (hi[0] - lo[0]), hi[0])
        X[seeds], cycle[seeds], _, _ = _settle(model, X0, P[seeds], **kw)
    used = np.zeros((len(_NEIGHBOURS),) + count.shape, bool)  # tried from that neighbour
    while True:
        front = np.zeros(count.shape, bool)
        start = np.full(X.shape, np.nan)
        for k, (di, dj) in enumerate(_NEIGHBOURS):
            new = rests & ~cycle & ~front & ~used[k] & _shifted(cycle, di, dj, False)
            start[new] = _shifted(X, di, dj, np.nan)[new]
            used[k] |= new
            front |= new
        if not front.any():
            break
        end, found, late, early = _settle(model, start[front], P[front], **kw)
        runs += len(end)
        slow = found & (late < 0.999 * early)
        if slow.any():  # a cycle still converging, or a slowly damped focus: run on
            end[slow], again, late2, _ = _settle(model, end[slow], P[front][slow], **kw)
            found[slow] = again & (late2 >= 0.97 * late[slow])
            runs += int(slow.sum())
        X[front], cycle[front] = end, found
    regime = np.select([rests & ~cycle, fires, rests & cycle], [0, 1, 2], 3)
    return regime, runs
