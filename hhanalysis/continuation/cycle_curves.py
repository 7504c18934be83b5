r"""Curves of cycle bifurcations in two parameters: folds of cycles (LPC), period doublings (PD)
and torus bifurcations (NS).

An LPC curve is the zero set of the minimally augmented collocation system of
:mod:`~hhanalysis.continuation.problems.lpc_curve`, PD and NS curves that of
:mod:`~hhanalysis.continuation.problems.multiplier_curve`; all are followed by the one driver
(:func:`hhanalysis.continuation.driver.run`) with two free parameters; between chunks the mesh
is adapted (as for cycle branches) and the borders of the test function refreshed.

**Detected and located along an LPC curve** (sign changes between consecutive points, located by
Brent's method on the step length from the point before, every trial point a converged curve
point):

=========  ==========================================================  =====================
point      test function                                               meaning
=========  ==========================================================  =====================
CPC        the fold coefficient :math:`a` of the LPC system (there     cusp of cycles: two
           the curve turns in both parameters at once)                 LPC curves meet
R1         :math:`p'(1)`, :math:`p(\mu) = \prod_i (\mu - \mu_i)` over  1:1 resonance: a
           the non-trivial multipliers (:func:`_pencil_test`)          third multiplier at 1
LPPD       :math:`\prod_i (\mu_i + 1)/(|\mu_i| + 1)` over the          fold–flip
           multipliers (a real one crosses -1)
LPNS       :math:`|\mu| - 1` of a complex pair away from 1             fold–Neimark–Sacker
LP         a parameter component of the tangent                        the curve turns in
                                                                       that parameter
UZ         a parameter minus a requested value                         user point
=========  ==========================================================  =====================

**Along a PD curve** (the same way; :math:`d(\mu) = \prod_i(\mu - \mu_i)` over all
multipliers, see :func:`_pencil_test`):

=========  ==========================================================  =====================
point      test function                                               meaning
=========  ==========================================================  =====================
LPPD       :math:`p(1)`, where :math:`d(1 + z) = z\,p(1 + z)`          fold–flip: a second
                                                                       multiplier at 1
R2         :math:`q(-1)`, where :math:`d(-1 + z) = z\,q(-1 + z)`       1:2 resonance: a
                                                                       second one at -1
PDNS       :math:`|\mu| - 1` of a complex pair                         flip–Neimark–Sacker
LP, UZ     as on LPC curves
=========  ==========================================================  =====================

**Along an NS curve** (:math:`\kappa = \cos\theta` of the critical pair, see :func:`_kappa`):

=========  ==========================================================  =====================
point      test function                                               meaning
=========  ==========================================================  =====================
R1 … R4    :math:`\kappa - 1`, :math:`\kappa + 1`, :math:`\kappa + 1/2`, strong resonances
           :math:`\kappa` (past R1 or R2 the pair is real: a neutral
           saddle cycle)
LPNS       :math:`p(1)` as on PD curves                                fold–Neimark–Sacker
PDNS       :math:`\prod_i (\mu_i + 1)/(|\mu_i| + 1)`                   flip–Neimark–Sacker
LP, UZ     as on LPC curves
=========  ==========================================================  =====================

Not detected: the degenerate flip (GPD) on PD curves and the Chenciner point on NS curves
(where the normal-form coefficients vanish).

**Ends**: the bounds of either parameter; the amplitude of the orbits going to 0 (the LPC
curve of a subcritical Hopf branch is born at a generalised Hopf point of the Hopf curve: the
fold of cycles shrinks onto the equilibrium there, status ``RETURNED_TO_HOPF``, below 2 % of
the largest amplitude of the whole curve: the direction in which the orbits grow is run
first); the period passing ``max_period`` (the fold approaches a homoclinic orbit); the
corrector failing; the corrector stalling, a whole chunk of steps below :data:`_STALL` of the
run's largest (``STALLED``; ``RETURNED_TO_HOPF`` where the orbit has shrunk below 5 %). The
defining system degenerates at both kinds of end: at the GH point the fold's coefficient
vanishes with the amplitude squared, near a homoclinic orbit every new mesh moves the discrete
orbit. There the corrector converges only with tiny steps, whose number depended on round-off
(a change of 1e-15 in a solve turned an end at a GH point into dozens of steps 1e-9 of the
window apart, or an end near a homoclinic orbit into 600 steps); the curve now ends before them.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field

import jax.numpy as jnp
import numpy as np

from ..models import ODEModel
from ..precision import float64
from . import driver
from .collocation import (
    Collocation,
    Discretisation,
    adapted_mesh,
    arclength_weights,
    remesh,
)
from .curves import TwoParameterCurve, _curve_arguments, _describe
from .cycles import _Locator, _ns_test, _paired, _pd_test, floquet_multipliers
from .engine import PALC, ContinuationSettings
from .problems.lpc_curve import lpc_curve_parts
from .problems.multiplier_curve import critical_matrix, multiplier_curve_parts
from .problems.periodic_orbit import amplitude
from .results import (
    ContinuationError,
    CycleData,
    SpecialPoint,
    Status,
    Stop,
    TurningData,
)

__all__ = ["CycleCurve", "continue_lpc", "continue_pd", "continue_ns", "LPC_CURVE_SETTINGS"]

#: Default settings of LPC-curve continuation (those of cycle branches, fewer steps).
LPC_CURVE_SETTINGS = ContinuationSettings(ds=0.01, ds_min=1e-6, ds_max=2.0, max_steps=600,
                                          newton_tol=1e-10, max_newton_iterations=7,
                                          target_newton_iterations=4)

#: A run ends (status STALLED, or RETURNED_TO_HOPF where the orbit has shrunk) after a whole
#: chunk of steps below this fraction of its largest step.
_STALL = 1e-3

_NAMES = {"cpc": "cusp of cycles", "lppd": "fold-flip", "lpns": "fold-Neimark-Sacker",
          "r1": "1:1 resonance", "r2": "1:2 resonance", "r3": "1:3 resonance",
          "r4": "1:4 resonance", "pdns": "flip-Neimark-Sacker"}
CODIM2 = ("cpc", "r1", "lppd", "lpns", "r2", "r3", "r4", "pdns")


@dataclass(frozen=True)
class CycleCurve(TwoParameterCurve):
    r"""A curve of folds of cycles (LPC), period doublings (PD) or torus bifurcations (NS) in
    two parameters.

    Points are ordered along the curve; the start point is ``values[start_index]``.

    Attributes:
        kind: ``'lpc'``, ``'pd'`` or ``'ns'``.
        model: the model (its defaults untouched).
        param_names: the two free parameters, as given.
        fold_param: the parameter of the branch the start came from (for an LPC curve, the
            one in which every point is a fold of the cycle family).
        values: the two parameters along the curve, ``(M, 2)``.
        period: the period of the folding orbit, ``(M,)``.
        x_max, x_min: maximum and minimum of every state over the orbit, ``(M, n)``.
        floquet_multipliers: the non-trivial multipliers by decreasing modulus, ``(M, n-1)``
            (one of them is the fold's at 1, or the flip's at -1).
        a: the fold coefficient :math:`a` (see
            :mod:`~hhanalysis.continuation.problems.lpc_curve`), ``(M,)``; it changes sign at a
            cusp of cycles (NaN on PD curves).
        orbits, mesh: node values ``(M, ntst*ncol+1, n)`` and meshes ``(M, ntst+1)``.
        special_points: on LPC curves ``'cpc'``, ``'r1'``, ``'lppd'``, ``'lpns'``, on PD
            curves ``'lppd'``, ``'r2'``, ``'pdns'``, on NS curves ``'r1'`` … ``'r4'``,
            ``'lpns'``, ``'pdns'``; turning points ``'lp'`` and user
            points ``'uz'``, in curve order (``param``: the value of ``param_names[0]``).
        stops, stop_params: why the curve ended at its first and last point, and the parameter
            each stop refers to.
        start_index, params, collocation, settings: as for
            :class:`~hhanalysis.continuation.curves.BifurcationCurve`.
        kappa: NS curves: :math:`\kappa` of the critical pair of multipliers
            (:math:`\cos\theta` of :math:`e^{\pm i\theta}`; :math:`|\kappa| > 1`: a real pair
            :math:`\mu, 1/\mu`, a neutral saddle), ``(M,)``; None for other kinds.
    """

    kind: str
    model: ODEModel = field(repr=False)
    param_names: tuple[str, str]
    fold_param: str
    values: np.ndarray
    period: np.ndarray
    x_max: np.ndarray
    x_min: np.ndarray
    floquet_multipliers: np.ndarray
    a: np.ndarray
    orbits: np.ndarray = field(repr=False)
    mesh: np.ndarray = field(repr=False)
    special_points: tuple[SpecialPoint, ...]
    stops: tuple[Stop, Stop]
    stop_params: tuple[str, str]
    start_index: int
    params: dict = field(default_factory=dict, repr=False)
    collocation: Collocation = field(default_factory=Collocation, repr=False)
    settings: ContinuationSettings = field(default=LPC_CURVE_SETTINGS, repr=False)
    kappa: np.ndarray | None = field(default=None, repr=False)
    CODIM2 = CODIM2

    def __repr__(self) -> str:
        pts = "\n".join(f"  {_describe(s, self.param_names)}" for s in self.special_points)
        p1, p2 = self.param_names
        return (f"CycleCurve({self.kind}, {self.model.name}, ({p1}, {p2}), {len(self)} points, "
                f"{p1} in [{self.values[:, 0].min():.6g}, {self.values[:, 0].max():.6g}], "
                f"{p2} in [{self.values[:, 1].min():.6g}, {self.values[:, 1].max():.6g}], "
                f"period in [{self.period.min():.6g}, {self.period.max():.6g}])\n"
                f" {self.stop_reason}\n special points:\n{pts or '  (none)'}")


# --------------------------------------------------------------------------------------------
# Compiled pieces
# --------------------------------------------------------------------------------------------


@functools.cache
def _compiled(kind: str, cm, k1: int, k2: int, ntst: int, ncol: int):
    """The compiled system of an LPC (``kind='lpc'``) or PD (``'pd'``) curve: ``problem``,
    ``decode`` (monitor -> ``(pair, a, z)``: the reduced variational pair, the fold coefficient
    (NaN on PD curves) and the data of the next borders), ``border`` (the first border at the
    start) and ``multipliers``."""
    if kind in ("pd", "ns"):
        parts = multiplier_curve_parts(cm, k1, k2, ntst, ncol, kind)
        pair_decode = parts["decode"]

        def decode(monitor):
            pair, borders = pair_decode(monitor)
            return pair, np.full(np.shape(monitor)[:-1], np.nan), borders

        def border(v, p0, h):
            """The left and right singular vectors of the smallest singular value of the
            critical matrix (:math:`M + I`, :math:`M^{(2)} - I`) at the start orbit."""
            A = np.asarray(critical_matrix(kind, parts["pair"](jnp.asarray(v), (p0, h))))
            U, _, Vt = np.linalg.svd(A)
            return jnp.asarray(np.concatenate([U[:, -1], Vt[-1]]))

        parts = dict(parts, decode=decode)
    else:
        from .points import _lpc_row

        parts = lpc_curve_parts(cm, k1, k2, ntst, ncol)
        row = _lpc_row(cm, k1, ntst, ncol)

        def border(v, p0, h):
            """The first border row: the tangent of the cycle family in the fold parameter (its
            ``lambda_1`` component removed: the null vector of the fold), as
            :func:`~hhanalysis.lpc_point` uses."""
            u = np.asarray(v[:-1])
            p = np.array(p0, dtype=float)
            p[k2] = v[-1]
            return np.asarray(row(u, p, (u, np.asarray(h))))

    def multipliers(monitors):
        return floquet_multipliers(np.asarray(parts["decode"](np.asarray(monitors))[0]))[0]

    n = len(cm.state_names)

    def theta(args):
        """The arclength weights of the curve's unknowns (those of the problem, in numpy: no
        small JAX programs between chunks)."""
        return np.concatenate([arclength_weights(np.asarray(args[1]), ncol, n), [1.0]])

    return dict(parts, border=border, multipliers=multipliers, theta=theta, k1=k1, k2=k2,
                kind=kind)


def _amplitude(disc, V):
    """:func:`~hhanalysis.continuation.problems.periodic_orbit.amplitude` of curve points
    (the second parameter dropped)."""
    return amplitude(disc, np.asarray(V)[..., :-1])


# --------------------------------------------------------------------------------------------
# Hooks between chunks
# --------------------------------------------------------------------------------------------


class _Hooks(driver.Hooks):
    """Between chunks: the end tests (the second parameter's bounds, amplitude -> 0 at a GH
    point, the period bound), detection and location of special points on the accepted points,
    the location of the point on a bound, mesh adaptation and the refreshed border."""

    def __init__(self, comp, disc, col, palc, p0, mesh, bounds2, max_period, start, ctx):
        self.comp, self.disc, self.col, self.palc, self.p0 = comp, disc, col, palc, p0
        self.mesh, self.bounds2, self.max_period, self.ctx = mesh, bounds2, max_period, ctx
        v0, t0, mon0 = start
        self.amp_max = float(_amplitude(disc, v0[None])[0])
        self.ds_top = 0.0  # the largest step of the run
        self.col_chunk = col.adapt_mesh or 16  # steps per chunk
        self.meshes = [mesh]
        self.mu = list(comp["multipliers"](np.asarray(mon0)[None]))
        self.a = [float(comp["decode"](np.asarray(mon0))[1])]
        self.pair, _, self.z = comp["decode"](np.asarray(mon0))
        self.specials: list[SpecialPoint] = []
        self.base = (v0, t0)  # the point each chunk starts from, on the chunk's mesh
        self.start = np.asarray(v0)[-3:]  # (T, lambda_1, lambda_2) of the start point
        self.travelled = 0.0  # length of the path so far in (T, lambda_1, lambda_2)
        self.on_bound = None  # the point located on a bound, or the start of a closed curve
        self.closing = None  # the last chord of a closed curve: (its first point, direction)

    def end(self, points, args):
        V = points.u
        lam2 = V[:, -1]
        amps = _amplitude(self.disc, V)
        self.amp_max = max(self.amp_max, float(amps.max()))
        ds = np.abs(np.asarray(points.ds, float))
        self.ds_top = max(self.ds_top, float(ds.max()))
        lo, hi = self.bounds2
        checks = [
            (np.flatnonzero((lam2 < lo) | (lam2 > hi)),
             lambda i: Stop(Status.REACHED_BOUND, float(lo if lam2[i] < lo else hi))),
            (np.flatnonzero(amps < 0.02 * self.amp_max),
             lambda i: Stop(Status.RETURNED_TO_HOPF, float(V[i, -2]))),
            (np.flatnonzero(V[:, -3] > self.max_period),
             lambda i: Stop(Status.PERIOD_TOO_LARGE, float(V[i, -2]), self.max_period,
                            float(V[i, -3]))),
            (self._closing(V), lambda i: Stop(Status.CLOSED_CURVE, float(self.start[1]))),
        ]
        cut, stop = len(V), None
        for idx, make in checks:
            if idx.size and (stop is None or int(idx[0]) + 1 < cut):
                cut, stop = int(idx[0]) + 1, make(int(idx[0]))
        if stop is None and len(V) == self.col_chunk and np.all(ds < _STALL * self.ds_top):
            cut, stop = 0, self._stalled(len(V))
        if stop is not None and stop.status is Status.REACHED_BOUND:
            i = cut - 1
            u = V[i - 1] if i else self.base[0]
            edge = stop.param
            best, msg = _on_chord(self.palc, self.comp["theta"], args, u, V[i],
                                  lambda un, tn, m: float(un[-1]) - edge,
                                  float(u[-1]) - edge, float(lam2[i]) - edge)
            if best is not None and not msg:
                self.on_bound = best[:3]
        if stop is not None and stop.status is Status.CLOSED_CURVE:
            # the last point: the start itself (where the chord's projection passes it)
            i = cut - 1
            u = np.asarray(V[i - 1] if i else self.base[0])
            d = np.asarray(V[i])[-3:] - u[-3:]
            self.closing = (u[-3:], d)

            def past(un, tn, m):
                return float((np.asarray(un)[-3:] - self.start) @ d)

            best, msg = _on_chord(self.palc, self.comp["theta"], args, u, V[i], past, past(u, 0, 0),
                                  past(V[i], 0, 0))
            if best is not None and not msg:
                self.on_bound = best[:3]
        return cut, stop

    def _stalled(self, steps):
        r"""The stop of a run whose last ``steps`` steps (a whole chunk) were all below
        :data:`_STALL` times its largest: it ends at the point before them. Where the orbit
        has shrunk (amplitude below 5 % of the largest) that is the generalised Hopf point the
        curve is born at, whose defining system degenerates as the orbit shrinks (the fold's
        coefficient vanishes with :math:`r^2`; AUTO-07p stops with MX there); otherwise the
        corrector crawls (e.g. near a homoclinic orbit, where each new mesh moves the
        discrete orbit), and dozens of tiny steps would add nothing to the curve."""
        u = np.asarray(self.base[0])
        if float(_amplitude(self.disc, u[None])[0]) < 0.05 * self.amp_max:
            return Stop(Status.RETURNED_TO_HOPF, float(u[-2]))
        return Stop(Status.STALLED, float(u[-2]), _STALL, steps)

    def _closing(self, V):
        r"""Indices ``i`` of the chunk's points where the curve has come back to its start:
        the chord from the point before to point ``i`` passes the start's
        :math:`(T, \lambda_1, \lambda_2)` within 5 % of its length, after a path at least
        twice that long."""
        Q = np.concatenate([np.asarray(self.base[0])[None, -3:], np.asarray(V)[:, -3:]])
        d = np.diff(Q, axis=0)
        length = np.linalg.norm(d, axis=1)
        path = self.travelled + np.cumsum(length)
        self.travelled = float(path[-1])
        with np.errstate(invalid="ignore", divide="ignore"):
            s = np.einsum("ij,ij->i", self.start - Q[:-1], d) / length**2
            off = np.linalg.norm(Q[:-1] + s[:, None] * d - self.start, axis=1)
            near = (s >= 0) & (s <= 1) & (off < 0.05 * length) & (path > 2.0 * length + 1e-9)
        return np.flatnonzero(near & (path - length > 0))

    def accepted(self, before, points, args):
        self.meshes += [self.mesh] * len(points)
        mu = self.comp["multipliers"](points.monitor)
        pairs, a, Z = self.comp["decode"](np.asarray(points.monitor))
        V = np.concatenate([np.asarray(before[0])[None], points.u])
        A = np.concatenate([[self.a[-1]], a])
        MU = np.concatenate([np.asarray(self.mu[-1])[None], mu])
        P = np.concatenate([self.pair[None], pairs])
        T = np.concatenate([np.asarray(before[1])[None], points.tangent])
        found = _detect(V, T, MU, P, A, points.ds, len(self.mu) - 1, args, self.comp,
                        self.palc, self.disc, self.ctx)
        if self.closing is not None:  # the curve closed in this chunk: nothing past its start
            q0, d = self.closing
            last = len(self.mu) - 1 + len(points) - 1
            names = self.ctx["internal"]
            start = float((self.start[1:] - q0[1:]) @ d[1:])
            found = [sp for sp in found if sp.index < last or float(
                (np.array([sp.params[names[0]], sp.params[names[1]]]) - q0[1:]) @ d[1:])
                <= start]
        self.specials += found
        self.pair = pairs[-1]
        self.mu += list(mu)
        self.a += list(a)
        self.z = Z[-1]

    def at_bound(self, base, last, edge, args):
        u, t = base
        f0, f1 = float(u[-2]) - edge, float(last.u[0, -2]) - edge
        if np.sign(f0) == np.sign(f1):
            return None
        best, msg = _on_chord(self.palc, self.comp["theta"], args, u, last.u[0],
                              lambda un, tn, m: float(un[-2]) - edge, f0, f1)
        if best is None or msg:
            return None
        self.mu[-1] = self.comp["multipliers"](np.asarray(best[2])[None])[0]
        return dataclasses.replace(last, u=best[0][None], tangent=best[1][None],
                                   monitor=best[2][None])

    def adapt(self, v, t, args):
        v, t = np.asarray(v), np.asarray(t)
        disc, ncol = self.disc, self.col.ncol
        z = np.asarray(self.z)
        lpc = self.comp["kind"] == "lpc"
        if self.col.adapt_mesh:
            new = adapted_mesh(disc.orbit(v[:-1]), self.mesh, ncol)
            v, t = (np.concatenate([disc.pack(remesh(disc.orbit(y[:-1]), self.mesh, new, ncol),
                                              y[-3], y[-2]), y[-1:]]) for y in (v, t))
            if lpc:
                z = disc.pack(remesh(disc.orbit(z), self.mesh, new, ncol), z[-2], z[-1])
            self.mesh = new
        e = np.asarray(args[2])
        k1, k2 = self.comp["k1"], self.comp["k2"]
        if self.comp["kind"] in ("pd", "ns"):
            # the borders: the null vectors of A(M) at the last point (no mesh in them); the
            # parameter direction e: the curve's, oriented like the last one
            c = np.asarray(z, float)
            tp = np.array([t[-2], t[-1]])
        else:
            # the new borders: the null vector at the last point (its border slot removed), and
            # the parameter direction e ~ (t_2, -t_1); near a cusp, where the parameter part of
            # the tangent vanishes, the last e is kept
            c = np.asarray(z, float).copy()
            c[-1] = 0.0
            c = c / np.linalg.norm(c)
            tp = np.array([t[-1], -t[-2]])
        if np.linalg.norm(tp) > 1e-3:
            e_new = np.zeros_like(e)
            e_new[[k1, k2]] = tp / np.linalg.norm(tp)
            e = e_new if e_new @ e >= 0 else -e_new
        args = (self.p0, np.diff(self.mesh), np.asarray(e, float), np.asarray(c, float))
        t = t / np.sqrt(np.sum(self.comp["theta"](args) * t * t))
        self.base = (v, t)
        return v, t, args


# --------------------------------------------------------------------------------------------
# Detection and location
# --------------------------------------------------------------------------------------------


def _on_chord(palc, theta, args, va, vb, test, fa, fb):
    """A zero of ``test`` between the curve points ``va`` and ``vb``: Brent's method on the
    distance along the chord, each trial point corrected onto the curve in the hyperplane
    orthogonal to the chord (so the step that reaches ``vb`` starts from ``vb`` itself).
    ``theta(args)``: the arclength weights (numpy)."""
    d = np.asarray(vb) - np.asarray(va)
    length = float(np.sqrt(np.sum(theta(args) * d * d)))
    return _Locator(palc, args).locate(np.asarray(va), d / length, length, test, fa, fb)


def _pencil_test(pairs, mu, center: float, order: int):
    r"""The coefficient of :math:`z^{order}` of :math:`d(c + z)`, :math:`c` = ``center``, with
    :math:`d(\mu) = \det(\mu F_0 + E_0)/\det F_0 = \prod_k (\mu - \mu_k)` over all
    multipliers (:math:`M = -F_0^{-1}E_0`), scaled by :math:`\prod_k (1 + |\mu_k|)` over the
    non-trivial multipliers ``mu``.

    Where ``order`` roots of :math:`d` sit at :math:`c` (known ones: the trivial multiplier at
    1, the fold's at 1, the flip's at -1), :math:`d(c + z) = z^{order}\,p(c + z)` and the
    coefficient is :math:`p(c) \propto \prod_{\text{other } k}(c - \mu_k)`: it changes sign
    where one more real multiplier crosses :math:`c`. On an LPC curve (``1, 2``) that is the
    1:1 resonance R1, on a PD curve the fold-flip (``1, 1``) and the 1:2 resonance (``-1, 1``).
    The coefficient comes from determinants on a circle around :math:`c` (a discrete Fourier
    transform), not from the multipliers, which are ill-conditioned at a Jordan block."""
    pairs = np.asarray(pairs)
    n = pairs.shape[-1]
    radius = 0.5
    z = radius * np.exp(2j * np.pi * np.arange(n + 1) / (n + 1))
    E, F = pairs[:, 0], pairs[:, 1]
    d = np.linalg.det((center + z)[None, :, None, None] * F[:, None] + E[:, None])  # (M, n+1)
    coef = np.fft.fft(d, axis=-1) / (n + 1)  # coefficients of z^j times radius^j
    with np.errstate(over="ignore", invalid="ignore"):
        return np.real(coef[:, order] / radius**order / np.linalg.det(F)) / np.prod(
            1.0 + np.abs(mu), axis=-1)


#: The pencil tests of each kind of curve: name -> (center, order).
_PENCIL = {"lpc": {"r1": (1.0, 2)}, "pd": {"lppd": (1.0, 1), "r2": (-1.0, 1)},
           "ns": {"lpns": (1.0, 1)}}


def _ns_pair(mu):
    """:func:`_ns_test` where a complex pair away from 1 exists (both halves among the
    non-trivial multipliers: :func:`~hhanalysis.continuation.cycles._paired`), else NaN."""
    away = np.abs(np.angle(mu)) > 0.05
    with np.errstate(invalid="ignore"):
        return np.where(np.any(away & _paired(mu), axis=1), _ns_test(mu), np.nan)


def _kappa(mu):
    r""":math:`\kappa = (\mu_i + \mu_j)/2` of the pair of non-trivial multipliers whose
    product is nearest 1, ``(M,)``: :math:`\cos\theta` of a pair :math:`e^{\pm i\theta}`
    (an NS curve), :math:`|\kappa| > 1` for a real pair :math:`\mu, 1/\mu` (a neutral
    saddle); it passes 1, -1, -1/2, 0 at the strong resonances R1, R2, R3, R4."""
    mu = np.asarray(mu)
    i, j = np.triu_indices(mu.shape[-1], 1)
    with np.errstate(invalid="ignore", over="ignore"):
        k = np.argmin(np.abs(mu[:, i] * mu[:, j] - 1.0), axis=-1)
        return np.real(0.5 * (mu[np.arange(len(mu)), i[k]] + mu[np.arange(len(mu)), j[k]]))


#: Resonances on NS curves: name -> the value of kappa.
_RESONANCE = {"r1": 1.0, "r2": -1.0, "r3": -0.5, "r4": 0.0}


def _tests(kind, V, T, mu, pairs, a, user):
    out = {"lp0": T[:, -2], "lp1": T[:, -1]}
    if kind == "lpc":
        out.update(cpc=a, lppd=_pd_test(mu), lpns=_ns_pair(mu))
    elif kind == "pd":
        out.update(pdns=_ns_pair(mu))
    else:
        kappa = _kappa(mu)
        out.update({name: kappa - value for name, value in _RESONANCE.items()})
        out.update(pdns=_pd_test(mu))
    for name, (center, order) in _PENCIL[kind].items():
        out[name] = _pencil_test(pairs, mu, center, order)
    for k, (j, v) in enumerate(user):
        out[f"uz{k}"] = V[:, -2 + j] - v
    return out


def _test_at(name, comp, user, args):
    """The test function ``name`` at a trial point ``(v, t, monitor)`` of the locator."""

    def test(v, t, mon):
        if name.startswith("lp") and name[2:].isdigit():
            return float(t[-2 + int(name[2:])])
        if name == "cpc":
            return float(comp["decode"](np.asarray(mon))[1])
        if name.startswith("uz"):
            j, val = user[int(name[2:])]
            return float(v[-2 + j] - val)
        mu = comp["multipliers"](np.asarray(mon)[None])
        if comp["kind"] == "ns" and name in _RESONANCE:
            return float(_kappa(mu)[0] - _RESONANCE[name])
        if comp["kind"] == "ns" and name == "pdns":
            return float(_pd_test(mu)[0])
        pencil = _PENCIL[comp["kind"]]
        if name in pencil:
            pair = comp["decode"](np.asarray(mon)[None])[0]
            return float(_pencil_test(pair, mu, *pencil[name])[0])
        return float((_pd_test if name == "lppd" else _ns_test)(mu)[0])

    return test


def _detect(V, T, MU, pairs, a, DS, offset, args, comp, palc, disc, ctx):
    """Special points between consecutive rows of ``V`` (the chunk's start point, then its
    points; all on the chunk's mesh ``args``). ``DS[i]``: the step from row i to row i+1."""
    found = []
    tests = _tests(comp["kind"], V, T, MU, pairs, a, ctx["user"])
    changes = {}
    for name, vals in tests.items():
        with np.errstate(invalid="ignore"):
            changes[name] = np.flatnonzero(np.sign(vals[:-1]) * np.sign(vals[1:]) < 0)
    # at a cusp of cycles the curve turns in both parameters at once: the CPC is the point
    cusps = changes.get("cpc", np.array([], int))
    changes["lp0"] = np.setdiff1d(changes["lp0"], cusps)
    changes["lp1"] = np.setdiff1d(changes["lp1"], cusps)
    for name, vals in tests.items():
        for i in changes[name]:
            best, msg = _on_chord(palc, comp["theta"], args, V[i], V[i + 1],
                                  _test_at(name, comp, ctx["user"], args),
                                  float(vals[i]), float(vals[i + 1]))
            if best is None and msg is None:
                continue  # a jump of the test function, not a zero
            if best is None:
                v, m, prec = V[i + 1], MU[i + 1], abs(float(DS[i]))
            else:
                v, _, mon, prec = best
                m = comp["multipliers"](np.asarray(mon)[None])[0]
            found.append(_point(name, offset + i, v, m, prec, msg, disc, ctx, V[i], V[i + 1]))
    return found


def _point(name, index, v, mu, prec, msg, disc, ctx, va, vb):
    X = disc.orbit(np.asarray(v)[:-1])
    kind = name[:2] if name[:2] in ("lp", "uz") and name[2:].isdigit() else name
    internal = (float(v[-2]), float(v[-1]))
    vals = internal if ctx["fold_first"] else internal[::-1]
    data = CycleData(float(v[-3]), mu, X.max(axis=0), X.min(axis=0))
    if kind == "lp":
        j = int(name[2:])  # 0: the fold parameter, 1: the other (internal order)
        top = v[-2 + j] >= max(va[-2 + j], vb[-2 + j])
        data = TurningData(ctx["internal"][j], "max" if top else "min")
    message = f"location of the {_NAMES.get(kind, kind)} point: {msg}" if msg else ""
    return SpecialPoint(kind, int(index), vals[0], X[0],
                        Status.GUESS if msg else Status.CONVERGED, float(prec),
                        param_name=ctx["given"][0],
                        params={**ctx["params"], **dict(zip(ctx["given"], vals))},
                        message=message, data=data)


# --------------------------------------------------------------------------------------------
# The public function
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Start:
    """The orbit a curve starts from (its nodes on ``mesh``), its period, the value of the
    branch parameter ``param_name`` and all parameter values; ``on_curve``: whether it solves
    the curve's system already (an LPC orbit of :func:`~hhanalysis.lpc_point`), or is a
    special point of a cycle branch, located to the branch's tolerance (then a step back and
    forth puts it on the curve)."""

    orbit: np.ndarray
    mesh: np.ndarray
    ncol: int
    period: float
    param: float
    param_name: str
    params: dict
    on_curve: bool = False


def _lpc_start(model, start) -> _Start:
    """The LPC orbit from ``start``: an LPC orbit itself (``hh.lpc_point``), an ``'lpc'``
    special point of a cycle branch, a cycle branch (its first LPC) or ``(branch, k)``. A
    special point is used as located on the branch (with its orbit); one without an orbit (a
    file of an older version) or not converged is located again by ``hh.lpc_point``."""
    from .points import PeriodicOrbit, lpc_point

    if isinstance(start, PeriodicOrbit):
        pass
    elif isinstance(start, SpecialPoint) and start.kind == "lpc" and \
            start.status is Status.CONVERGED and getattr(start.data, "orbit", None) is not None:
        return _point_start(model, start, "lpc")
    else:
        branch = start[0] if isinstance(start, tuple) and len(start) == 2 else start
        if not hasattr(branch, "special_points") or not hasattr(branch, "orbits"):
            raise ValueError("start must be an LPC orbit (hh.lpc_point), an 'lpc' point of a "
                             "cycle branch, a cycle branch with an LPC point, or (branch, k), "
                             f"got {type(start).__name__}")
        k = start[1] if isinstance(start, tuple) and len(start) == 2 else 0
        pts = branch.lpc_points if hasattr(branch, "lpc_points") else ()
        if isinstance(k, (int, np.integer)) and -len(pts) <= k < len(pts) and \
                pts[k].status is Status.CONVERGED and \
                getattr(pts[k].data, "orbit", None) is not None:
            return _point_start(model, (branch, k), "lpc")
        start = lpc_point(model, branch.param_name, start)
    return _Start(np.asarray(start.orbit), np.asarray(start.mesh, float), int(start.ncol),
                  float(start.period), float(start.param), start.param_name,
                  {k: float(v) for k, v in start.params.items()}, on_curve=True)


def _point_start(model, start, kind: str) -> _Start:
    """The orbit of a ``kind`` point (``'lpc'``, ``'pd'``, ``'ns'``) from ``start``: such a
    special point of a cycle branch (located, with its orbit), a cycle branch (its first one) or
    ``(branch, k)`` (its ``k``-th one)."""
    sp, ncol, what = start, None, kind.upper()
    if not isinstance(start, SpecialPoint):
        branch, k = start if isinstance(start, tuple) and len(start) == 2 else (start, 0)
        if not hasattr(branch, "special_points") or not hasattr(branch, "orbits"):
            raise ValueError(f"start must be a {what} point of a cycle branch, a cycle branch "
                             f"with a {what} point, or (branch, k), got {type(start).__name__}")
        pts = [s for s in branch.special_points if s.kind == kind]
        if not isinstance(k, (int, np.integer)) or not -len(pts) <= k < len(pts) or not pts:
            raise ValueError(f"start: the branch has {len(pts)} {what} point(s); index {k!r}")
        sp, ncol = pts[k], branch.collocation.ncol
    if sp.kind != kind:
        raise ValueError(f"start: a {what} point with its orbit is needed, got a {sp.kind!r} "
                         "point")
    if getattr(sp.data, "orbit", None) is None:
        raise ValueError(f"start: this {what} point has no orbit (a file of an older "
                         "version?): recompute the branch")
    X, mesh = np.asarray(sp.data.orbit), np.asarray(sp.data.mesh, float)
    ncol = ncol or (X.shape[0] - 1) // (mesh.size - 1)
    params = {**model.defaults, **{k: float(v) for k, v in sp.params.items()},
              sp.param_name: float(sp.param)}
    return _Start(X, mesh, int(ncol), float(sp.data.period), float(sp.param), sp.param_name,
                  params)


@float64
def continue_lpc(model: ODEModel, start, params: tuple[str, str] = ("I", "gK"), bounds=None,
                 *, settings: ContinuationSettings | None = None, user_points=None,
                 direction: int = 0, max_period: float | None = None,
                 throw: bool = False) -> CycleCurve:
    r"""Continue a curve of folds of cycles (LPC) in two parameters.

    The curve is the zero set of the collocation system of the periodic orbit and the bordered
    test function of its fold (:mod:`~hhanalysis.continuation.problems.lpc_curve`), on the mesh
    of the start orbit (NTST, NCOL), adapted as the curve goes. Along it cusps of cycles (CPC,
    with the fold coefficient :math:`a` at every point), 1:1 resonances (R1), fold–flip (LPPD)
    and fold–Neimark–Sacker (LPNS) points, turning points in either parameter and
    ``user_points`` are located; an end where the orbit shrinks to an equilibrium is the
    generalised Hopf point of the Hopf curve where the LPC curve is born.

    Arguments:
        model: the model.
        start: the fold of cycles: ``hh.lpc_point(model, param, branch)``, an ``'lpc'``
            special point of a cycle branch (``branch.lpc_points[k]``), a cycle branch (its
            first LPC point) or ``(branch, k)`` (its LPC point ``k``). A branch's point is used
            as the branch located it (with its orbit; one without, from a file of an older
            version, is located again by ``hh.lpc_point``) and put on the curve's system by
            the first step. Its parameter values are the fixed ones of the curve.
        params: the two free parameters; one of them must be the parameter of the fold.
        bounds: ``{name: (lo, hi)}`` (either or both) or two ``(lo, hi)`` pairs.
        settings: continuation settings (default :data:`LPC_CURVE_SETTINGS`).
        user_points: ``{name: [values]}``: curve points where a parameter takes these values.
        direction: 0 both ways from the start, 1 / -1 one way (the sign of the change of the
            parameter that is not the fold's).
        max_period: stop when the period exceeds this (default 20 times the start's).
        throw: raise :class:`ContinuationError` when the corrector fails.

    Returns:
        :class:`CycleCurve`.
    """
    return _continue_curve("lpc", model, _lpc_start(model, start), params, bounds, settings,
                           user_points, direction, max_period, throw)


@float64
def continue_pd(model: ODEModel, start, params: tuple[str, str] = ("I", "gK"), bounds=None,
                *, settings: ContinuationSettings | None = None, user_points=None,
                direction: int = 0, max_period: float | None = None,
                throw: bool = False) -> CycleCurve:
    r"""Continue a curve of period doublings (PD, flip) in two parameters.

    The curve is the zero set of the collocation system of the periodic orbit and the bordered
    test function of :math:`M + I` (:math:`M` the monodromy matrix, from the collocation
    solver's reduction; :mod:`~hhanalysis.continuation.problems.pd_curve`), on the mesh of the
    start orbit, adapted as the curve goes. Along it fold–flip points (LPPD: a second
    multiplier at 1, where the PD curve touches an LPC curve), 1:2 resonances (R2: a second
    multiplier at -1), flip–Neimark–Sacker points (PDNS), turning points in either parameter
    and ``user_points`` are located. The orbits on the curve are those of the primary branch;
    the doubled ones are born there (``hh.continue_cycles(model, pd_point)``).

    Arguments:
        model: the model.
        start: the period doubling: a ``'pd'`` special point of a cycle branch
            (``branch.special_points``), a cycle branch (its first PD point) or
            ``(branch, k)`` (its PD point ``k``). Its parameter values are the fixed ones of
            the curve.
        params, bounds, settings, user_points, max_period, throw: as for
            :func:`continue_lpc`.
        direction: 0 both ways from the start, 1 / -1 one way (the sign of the change of the
            parameter that is not the start branch's).

    Returns:
        :class:`CycleCurve` (``kind='pd'``).
    """
    return _continue_curve("pd", model, _point_start(model, start, "pd"), params, bounds,
                           settings, user_points, direction, max_period, throw)


@float64
def continue_ns(model: ODEModel, start, params: tuple[str, str] = ("I", "gK"), bounds=None,
                *, settings: ContinuationSettings | None = None, user_points=None,
                direction: int = 0, max_period: float | None = None,
                throw: bool = False) -> CycleCurve:
    r"""Continue a curve of Neimark–Sacker (torus) bifurcations of cycles in two parameters.

    The curve is the zero set of the collocation system of the periodic orbit and the bordered
    test function of :math:`M^{(2)} - I` (:math:`M^{(2)}` the second compound matrix of the
    monodromy matrix, whose eigenvalues are the products of pairs of multipliers;
    :mod:`~hhanalysis.continuation.problems.multiplier_curve`), on the mesh of the start orbit,
    adapted as the curve goes. ``CycleCurve.kappa`` is :math:`\kappa = \cos\theta` of the
    critical pair :math:`e^{\pm i\theta}` at every point; where :math:`|\kappa| > 1` the pair
    is real, :math:`\mu, 1/\mu` (a neutral saddle cycle, not a torus bifurcation; the curve
    passes into such a segment at a 1:1 or 1:2 resonance). Located along it: the strong
    resonances R1–R4 (:math:`\kappa = 1, -1, -1/2, 0`), fold–Neimark–Sacker (LPNS: a multiplier
    at 1) and flip–Neimark–Sacker (PDNS: a multiplier at -1) points, turning points in either
    parameter and ``user_points``. The Chenciner point (where the torus's normal-form
    coefficient vanishes) is not detected.

    Arguments:
        model: the model.
        start: the torus bifurcation: an ``'ns'`` special point of a cycle branch, a cycle
            branch (its first NS point) or ``(branch, k)`` (its NS point ``k``).
        params, bounds, settings, user_points, max_period, throw: as for
            :func:`continue_lpc`.
        direction: 0 both ways from the start, 1 / -1 one way (the sign of the change of the
            parameter that is not the start branch's).

    Returns:
        :class:`CycleCurve` (``kind='ns'``).
    """
    return _continue_curve("ns", model, _point_start(model, start, "ns"), params, bounds,
                           settings, user_points, direction, max_period, throw)


def _continue_curve(kind, model, orbit: _Start, params, bounds, settings, user_points,
                    direction, max_period, throw) -> CycleCurve:
    settings = settings or LPC_CURVE_SETTINGS
    params, box, user = _curve_arguments(model, params, bounds, user_points, direction)
    if orbit.param_name not in params:
        whose = "fold's" if kind == "lpc" else "start branch's"
        raise ValueError(f"params = {params!r}: one of them must be the {whose} parameter "
                         f"{orbit.param_name!r}")
    fold_first = params[0] == orbit.param_name
    internal = params if fold_first else params[::-1]
    box_int = box if fold_first else box[::-1]
    user_int = user if fold_first else [(1 - j, v) for j, v in user]
    max_period = 20.0 * float(orbit.period) if max_period is None else float(max_period)
    if not max_period > 0:
        raise ValueError(f"max_period must be > 0, got {max_period}")

    cm = model.compile()
    k1, k2 = cm.param_index(internal[0]), cm.param_index(internal[1])
    mesh = orbit.mesh
    col = Collocation(ntst=mesh.size - 1, ncol=orbit.ncol)
    disc = Discretisation(model.n_states, col.ntst, orbit.ncol)
    comp = _compiled(kind, cm, k1, k2, col.ntst, orbit.ncol)
    pdict = dict(orbit.params)
    p0 = np.asarray(model.param_vector(**pdict), float)  # numpy: no small programs here
    v0 = np.concatenate([disc.pack(orbit.orbit, orbit.period, orbit.param),
                         [pdict[internal[1]]]])
    for name, val, (lo, hi) in zip(internal, v0[-2:], box_int):
        if not lo <= val <= hi:
            raise ValueError(f"start: {name}={val:g} lies outside its bounds [{lo:g}, {hi:g}]")
    h = np.diff(mesh)
    e0 = np.zeros(p0.shape[0])
    if kind == "lpc":
        e0[k1] = 1.0  # the fold is non-degenerate in lambda_1
    else:  # any direction with a lambda_2 part keeps the first step's K regular
        e0[[k1, k2]] = 0.5**0.5
    args = (p0, h, e0, np.asarray(comp["border"](v0, p0, h)))
    problem = comp["problem"]
    chunk = col.adapt_mesh or 16
    # the driver's runner (its window on lambda_1, u[-2]): one program for the chunks, the
    # single steps and the location of points (the window plays no part in a single step)
    palc = PALC(problem, settings, chunk, window_index=-2)
    # a step of length ds_min along e_lambda2: the tangent (its lambda_2 component positive)
    # and the monitor at the start; one compiled step serves this and the location of points.
    # A special point of a branch is located to the branch's tolerance only: the step back
    # to the start's lambda_2 puts the start on the curve.
    e2 = np.zeros(v0.size)
    e2[-1] = 1.0
    u1, t0, ok, _, mon0 = palc.single_step(v0, e2, settings.ds_min, args)
    if ok and not orbit.on_curve:
        u1, t0, ok, _, mon0 = palc.single_step(u1, e2, -settings.ds_min, args)
        v0 = np.asarray(u1) if ok else v0
    if not ok:
        what = {"lpc": "a fold of cycles", "pd": "a period doubling",
                "ns": "a torus bifurcation"}[kind]
        raise ValueError(f"start: Newton on the {kind.upper()} curve system did not converge "
                         f"at the start orbit (is it {what}?)")
    t0, mon0 = np.asarray(t0), np.asarray(mon0)
    ctx = {"given": params, "internal": internal, "params": pdict, "user": user_int,
           "fold_first": fold_first}
    runs, amp_max = {}, 0.0
    for sign in _run_order(disc, v0, t0, direction):
        hooks = _Hooks(comp, disc, col, palc, p0, mesh, box_int[1], max_period,
                       (v0, sign * t0, mon0), ctx)
        hooks.amp_max = max(hooks.amp_max, amp_max)
        raw = driver.run(problem, driver.Points.one(v0, sign * t0, mon0), args, settings,
                         window=box_int[0], hooks=hooks, chunk=chunk, free=2)
        runs[sign] = _run_result(raw, hooks, internal, box_int)
        amp_max = hooks.amp_max
        if raw.stop.status is Status.CLOSED_CURVE:
            break  # all of a closed curve is one run
    runs = [runs[s] for s in sorted(runs)]  # backwards, then forwards
    return _build(kind, model, disc, col, settings, runs, direction, params, internal,
                  fold_first, pdict, throw)


def _run_order(disc, v0, t0, direction):
    """The signs of the tangent to run the curve in: ``direction`` alone, or both, the one in
    which the orbit grows first. The second run then knows the curve's large orbits, so its
    end where the orbits shrink onto the equilibrium (the GH point of an LPC curve, with the
    amplitude below 2 % of the largest) does not depend on which side the start lies: a curve
    started next to its GH point would otherwise measure the shrinking orbits against its
    start's, and run on into the degenerate end."""
    if direction != 0:
        return (float(direction),)
    v0, t0 = np.asarray(v0), np.asarray(t0)
    h = 1e-3 / max(float(np.max(np.abs(t0[:-3]))), 1e-12)  # a small change of the orbit
    grows = _amplitude(disc, (v0 + h * t0)[None])[0] >= _amplitude(disc, (v0 - h * t0)[None])[0]
    return (1.0, -1.0) if grows else (-1.0, 1.0)


def _run_result(raw, hooks, internal, box):
    """``(V, meshes, multipliers, a, specials, stop, stop parameter)`` of one direction; a
    last point past a bound of the second parameter is replaced by the one located on it, and
    the last point of a closed curve by its start. A last point located on a bound has that
    coordinate exactly on it (the location leaves it within ~1e-10, on either side)."""
    V, mu = np.array(raw.u), np.array(hooks.mu)
    stop, name = raw.stop, internal[0]
    closed = stop.status is Status.CLOSED_CURVE
    if closed or stop.status is Status.REACHED_BOUND and not box[1][0] <= V[-1, -1] <= box[1][1]:
        name = internal[0] if closed else internal[1]
        if hooks.on_bound is not None:
            V[-1] = hooks.on_bound[0]
            mu[-1] = hooks.comp["multipliers"](np.asarray(hooks.on_bound[2])[None])[0]
    if stop.status is Status.REACHED_BOUND:
        j = -1 if name == internal[1] else -2
        if abs(V[-1, j] - stop.param) <= 1e-8 * (1.0 + abs(stop.param)):
            V[-1, j] = stop.param
    return V, np.array(hooks.meshes), mu, np.array(hooks.a), hooks.specials, stop, name


def _flipped(specials, n):
    """Special points of a run read backwards (``n`` points): index i -> n - 2 - i."""
    return [dataclasses.replace(s, index=n - 2 - s.index) for s in specials[::-1]]


def _build(kind, model, disc, col, settings, runs, direction, params, internal, fold_first,
           pdict, throw):
    if len(runs) == 2:
        (Vb, mb, mub, ab, spb, sb, nb), (Vf, mf, muf, af, spf, sf, nf) = runs
        n_b = len(Vb)
        V = np.concatenate([Vb[::-1], Vf[1:]])
        meshes = np.concatenate([mb[::-1], mf[1:]])
        mu = np.concatenate([mub[::-1], muf[1:]])
        a = np.concatenate([ab[::-1], af[1:]])
        specials = _flipped(spb, n_b) + [dataclasses.replace(s, index=s.index + n_b - 1)
                                         for s in spf]
        stops, stop_params, start_index = (sb, sf), (nb, nf), n_b - 1
    else:
        V, meshes, mu, a, specials, stop, name = runs[0]
        stops = (Stop(Status.MAX_STEPS, float(V[0, -2]), 0), stop)
        if stop.status is Status.CLOSED_CURVE:
            stops = (stop, stop)
        stop_params, start_index = (internal[0], name), 0
        if direction < 0:
            n = len(V)
            V, meshes, mu, a = V[::-1], meshes[::-1], mu[::-1], a[::-1]
            specials = _flipped(specials, n)
            stops, stop_params, start_index = stops[::-1], stop_params[::-1], n - 1
    X = disc.orbit(V[:, :-1])
    values = V[:, -2:] if fold_first else V[:, [-1, -2]]
    curve = CycleCurve(
        kind=kind, model=model, param_names=params, fold_param=internal[0], values=values,
        period=V[:, -3], x_max=X.max(axis=1), x_min=X.min(axis=1), floquet_multipliers=mu,
        a=a, orbits=X, mesh=meshes, special_points=tuple(specials), stops=tuple(stops),
        kappa=_kappa(mu) if kind == "ns" else None,
        stop_params=tuple(stop_params), start_index=int(start_index), params=dict(pdict),
        collocation=col, settings=settings)
    if throw and curve.status is Status.STEP_TOO_SMALL:
        raise ContinuationError(curve.stop_reason, curve.status, curve)
    return curve
