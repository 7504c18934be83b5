r"""Curves of Hopf points and folds of equilibria in two parameters, with their codim-2 points.

The curves are the zero sets of the minimally augmented systems of
:mod:`~hhanalysis.continuation.problems.hopf_curve` (bialternate product) and
:mod:`~hhanalysis.continuation.problems.fold_curve`, continued by the one driver
(:func:`hhanalysis.continuation.driver.run`) with two free parameters; the borders of the
bordered test function are refreshed between chunks.

**Test functions** (evaluated at every point from the eigenvalues :math:`\lambda_k` of
:math:`f_x`; on a Hopf curve the critical pair :math:`\lambda_i, \lambda_j` is the one with the
smallest :math:`|\lambda_i + \lambda_j|`, :math:`\kappa = \lambda_i\lambda_j`, and
:math:`\mu_k` are the other eigenvalues; on a fold curve the critical eigenvalue is the one
nearest 0):

=========  ===================================================  ==============================
point      test function                                        curve
=========  ===================================================  ==============================
BT         :math:`\kappa` (:math:`\omega^2 \to 0`; the curve     Hopf (then it ends: beyond it
           becomes a neutral-saddle curve)                      is the neutral-saddle curve)
GH         :math:`\ell_1`                                       Hopf (where :math:`\kappa > 0`)
ZH         :math:`\prod_k \mu_k`                                Hopf
HH         :math:`\prod_{k<l} (\mu_k + \mu_l)`, accepted where  Hopf
           the new pair is complex
BT         :math:`\prod_k \mu_k`                                fold
ZH         :math:`\prod_{k<l} (\mu_k + \mu_l)`, complex pair     fold
CP         the fold coefficient :math:`a`                       fold
LP         a parameter component of the tangent (the curve      both
           turns in that parameter, AUTO's LP on a 2-par curve)
UZ         :math:`\lambda_i - v` for a requested value v        both
=========  ===================================================  ==============================

**Location**: each sign change between consecutive points is bracketed and the zero of the
test function found along the chord by the Illinois method (regula falsi that halves the
retained end's value when the same end is kept twice: superlinear, and the bracket shrinks
from both sides), to a bracket of width :math:`10^{-13}(1 + \|u\|_\infty)`, every trial point
corrected onto the curve by Newton (:math:`F(u) = 0`, :math:`d^T(u - u_{\rm trial}) = 0`).
All brackets of all test functions are located in one compiled, vmapped call (the test
functions themselves are traced: eigenvalues by ``jnp.linalg.eig``, so this runs on CPU). The
normal-form coefficients at the located points come from
:mod:`~hhanalysis.continuation.normal_forms`.

**Cost** (the brainpy (I, gK) Hopf curve, 857 points, ``benchmarks/bench_curves.py --stages``):
the compiled PALC chunks are ~45 % of a warm call (two corrector iterations per point, the
second a chord step on the first one's LU); between chunks one compiled call gives
:math:`f_x` at the chunk's points (their eigenvalues, LAPACK on the host, are the
Bogdanov–Takens end test and the curve's spectra) and the matrix of the border refresh; after
the runs, :math:`\ell_1` at every point is one compiled call (its critical right and left
eigenvectors from the other eigenvalues, :func:`_critical_vectors`, its two solves unrolled
over the points), the location one call and :math:`\ell_2` at the GH points one call per order
and stage (all points in it, equal polarization directions merged).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from ..codegen import CompiledModel
from ..equilibria import spectrum_order
from ..models import ODEModel
from ..precision import float64
from . import driver
from . import normal_forms as nf
from .engine import ContinuationSettings
from .problems.fold import fold_coefficient
from .problems.fold_curve import curve_params, fold_curve_problem, fold_matrix
from .problems.hopf import first_lyapunov, unrolled_solve
from .problems.hopf_curve import hopf_curve_problem, hopf_matrix
from .problems.minimal import borders
from .results import (
    BautinData,
    BogdanovTakensData,
    ContinuationError,
    CuspData,
    DoubleHopfData,
    HopfData,
    SpecialPoint,
    Status,
    Stop,
    TurningData,
    ZeroHopfData,
)

__all__ = ["BifurcationCurve", "TwoParameterCurve", "continue_hopf", "continue_fold",
           "CURVE_SETTINGS"]

#: Default settings of curve continuation (AUTO's usual DS, DSMIN, DSMAX, NMX; EPSL = 1e-10).
CURVE_SETTINGS = ContinuationSettings(ds=0.01, ds_min=1e-6, ds_max=0.5, max_steps=3000)

_NEWTON_TOL = 1e-13  # Newton iterates until the relative step is below this (or 30 steps)
_CONVERGED = 1e-10  # ... and has converged when the last step is below this (AUTO's EPSL)
_IMAG = 1e-8  # relative size of Im(lambda) that makes a pair complex

CODIM2 = ("bt", "gh", "zh", "hh", "cp")
#: most states for which l1 along a curve solves its systems by the unrolled elimination
#: (:func:`~.problems.hopf.unrolled_solve`; its trace grows as n^3)
_UNROLLED = 8
#: PALC steps per compiled chunk (a Hopf curve of ~900 points: 4 host round trips, not 15;
#: the borders of the test function are refreshed between chunks)
_CHUNK = 256


class TwoParameterCurve:
    """What every curve in two parameters offers (:class:`BifurcationCurve`,
    :class:`~hhanalysis.continuation.cycle_curves.CycleCurve`): its length, one parameter along
    it, its special points by kind, its codim-2 points and why it ended. The subclasses hold
    ``values``, ``param_names``, ``special_points``, ``stops`` and ``stop_params``."""

    #: the kinds of special points that are codim-2 points on this kind of curve
    CODIM2: tuple[str, ...] = ()

    def __len__(self) -> int:
        return self.values.shape[0]

    def param(self, name: str) -> np.ndarray:
        """The values of one of the two curve parameters along the curve."""
        if name not in self.param_names:
            raise ValueError(f"param must be one of {self.param_names}, got {name!r}")
        return self.values[:, self.param_names.index(name)]

    @property
    def codim2_points(self) -> tuple[SpecialPoint, ...]:
        return tuple(s for s in self.special_points if s.kind in self.CODIM2)

    def points(self, kind: str) -> tuple[SpecialPoint, ...]:
        """The special points of one kind (e.g. ``'gh'``)."""
        return tuple(s for s in self.special_points if s.kind == kind)

    @property
    def stop_reason(self) -> str:
        """Why the curve ended, at its first and its last point."""
        return "; ".join(f"{end}: {s.message(name)}" for end, s, name in
                         zip(("first end", "last end"), self.stops, self.stop_params))

    @property
    def status(self) -> Status:
        """STEP_TOO_SMALL if either end failed, else the status of the last end."""
        bad = [s.status for s in self.stops if s.status is Status.STEP_TOO_SMALL]
        return bad[0] if bad else self.stops[1].status


@dataclass(frozen=True)
class BifurcationCurve(TwoParameterCurve):
    r"""A curve of Hopf points or of folds of equilibria in two parameters.

    Points are ordered along the curve; the start point is ``values[start_index]``.

    Attributes:
        kind: ``'hopf'`` or ``'fold'``.
        model: the model (its defaults untouched).
        param_names: the two free parameters ``(p1, p2)``.
        values: their values along the curve, ``(M, 2)``.
        x: the equilibrium at every point, ``(M, n)``.
        eigenvalues: eigenvalues of :math:`f_x` by decreasing real part, ``(M, n)``.
        omega: Hopf curves: the frequency :math:`\omega = \sqrt{\kappa}` of the critical pair
            (NaN for fold curves).
        l1: Hopf curves: the first Lyapunov coefficient at every point (< 0: supercritical).
        a: fold curves: the quadratic normal-form coefficient at every point.
        special_points: codim-2 points (kind ``'bt'``, ``'gh'``, ``'zh'``, ``'hh'``, ``'cp'``),
            turning points ``'lp'`` and requested values ``'uz'``, in curve order; their
            ``param`` is the value of ``param_names[0]``, ``params`` has both.
        stops: why the curve ended at its first and at its last point (:class:`Stop`;
            ``param`` of a REACHED_BOUND is the bound of the parameter ``stop_params`` names).
        stop_params: the parameter each stop refers to.
        start_index: the index of the start point.
        params: the parameter values at the start point (both curve parameters included).
        settings: the continuation settings.
    """

    kind: str
    model: ODEModel = field(repr=False)
    param_names: tuple[str, str]
    values: np.ndarray
    x: np.ndarray
    eigenvalues: np.ndarray
    omega: np.ndarray
    l1: np.ndarray
    a: np.ndarray
    special_points: tuple[SpecialPoint, ...]
    stops: tuple[Stop, Stop]
    stop_params: tuple[str, str]
    start_index: int
    params: dict = field(default_factory=dict, repr=False)
    settings: ContinuationSettings = field(default=CURVE_SETTINGS, repr=False)
    CODIM2 = CODIM2

    def state(self, name: str) -> np.ndarray:
        """One state variable along the curve."""
        return self.x[:, self.model.state_names.index(name)]

    def hopf_point(self, index: int, param: str | None = None) -> SpecialPoint:
        r"""The Hopf point ``index`` of a Hopf curve as a start for
        :func:`~hhanalysis.continue_cycles` in ``param`` (default ``param_names[0]``; the other
        parameters, the curve's second included, are held at their values there): the
        critical eigenvector and :math:`\omega` from :math:`f_x` at that point, and
        :math:`\ell_1` from the curve. Cycles can so be started from any point of the curve.

        Raises:
            ValueError: not a Hopf curve, ``index`` out of range, or no complex pair there (past a
                Bogdanov–Takens point).
        """
        if self.kind != "hopf":
            raise ValueError(f"hopf_point needs a Hopf curve, this one is a {self.kind} curve")
        if not -len(self) <= int(index) < len(self):
            raise ValueError(f"index = {index!r}: the curve has {len(self)} points")
        param = self.param_names[0] if param is None else param
        if param not in self.param_names:
            raise ValueError(f"param must be one of {self.param_names}, got {param!r}")
        i = int(index) % len(self)
        omega = float(self.omega[i])
        if not np.isfinite(omega) or omega <= 0:
            raise ValueError(f"index = {index}: no complex pair at this point of the curve")
        params = {**self.params, **dict(zip(self.param_names, map(float, self.values[i])))}
        cm = self.model.compile()
        J = np.asarray(cm.jac_x(jnp.asarray(self.x[i]),
                                jnp.asarray(self.model.param_vector(**params))))
        ev, vecs = np.linalg.eig(J)
        q = vecs[:, int(np.argmin(np.abs(ev - 1j * omega)))]
        l1 = float(self.l1[i]) if np.isfinite(self.l1[i]) else None
        crit = None if l1 is None else ("subcritical" if l1 > 0 else "supercritical")
        return SpecialPoint("hopf", i, params[param], np.asarray(self.x[i]), Status.CONVERGED,
                            0.0, param_name=param, params=params,
                            data=HopfData(omega, q, l1, crit))

    def __repr__(self) -> str:
        pts = "\n".join(f"  {_describe(s, self.param_names)}" for s in self.special_points)
        p1, p2 = self.param_names
        return (f"BifurcationCurve({self.kind}, {self.model.name}, ({p1}, {p2}), {len(self)} "
                f"points, {p1} in [{self.values[:, 0].min():.6g}, {self.values[:, 0].max():.6g}]"
                f", {p2} in [{self.values[:, 1].min():.6g}, {self.values[:, 1].max():.6g}])\n"
                f" {self.stop_reason}\n special points:\n{pts or '  (none)'}")


def _describe(s: SpecialPoint, names) -> str:
    where = ", ".join(f"{k}={s.params[k]:.10g}" for k in names)
    d = s.data
    extra = ""
    if isinstance(d, BogdanovTakensData):
        extra = f", a={d.a:.6g}, b={d.b:.6g}"
    elif isinstance(d, BautinData):
        extra = f", omega={d.omega:.6g}, l2={d.l2:.6g}"
    elif isinstance(d, CuspData):
        extra = f", c={d.c:.6g}"
    elif isinstance(d, ZeroHopfData):
        extra = f", omega={d.omega:.6g}"
    elif isinstance(d, DoubleHopfData):
        extra = f", omega1={d.omega1:.6g}, omega2={d.omega2:.6g}"
    elif isinstance(d, TurningData):
        extra = f" ({d.extremum} of {d.param_name})"
    status = "" if s.status is Status.CONVERGED else f" [{s.status.value}: {s.message}]"
    return f"{s.kind.upper()}: {where}{extra}{status}"


# --------------------------------------------------------------------------------------------
# Compiled pieces (one compile per model, kind and parameter pair)
# --------------------------------------------------------------------------------------------


@functools.cache
def _compiled(cm: CompiledModel, kind: str, free: tuple[int, int]):
    problem = (hopf_curve_problem if kind == "hopf" else fold_curve_problem)(cm, free)
    matrix = jax.jit(functools.partial(hopf_matrix if kind == "hopf" else fold_matrix, cm, free))
    both = problem.residual_jacobian

    def system(u, u_guess, d, args):
        """The bordered Newton matrix and right-hand side at ``u``."""
        F, DF = both(u, args)
        return jnp.vstack([DF, d[None]]), jnp.concatenate([F, (d @ (u - u_guess))[None]])

    @jax.jit
    def correct(u_guess, d, args):
        """Newton on ``F(u) = 0, d.(u - u_guess) = 0``; returns ``(u, converged)``."""

        def body(c):
            u, it, _ = c
            du = jnp.linalg.solve(*system(u, u_guess, d, args))
            u = u - du
            return u, it + 1, jnp.max(jnp.abs(du)) / (1.0 + jnp.max(jnp.abs(u)))

        def cond(c):
            _, it, err = c
            return (it < 30) & (err > _NEWTON_TOL) & jnp.isfinite(err)

        u, _, err = jax.lax.while_loop(cond, body, (u_guess, 0, jnp.asarray(1e300)))
        return u, err <= _CONVERGED

    def correct_with_tangent(u_guess, d, args):
        """:func:`correct`, and the unit tangent (oriented along ``d``) from the Jacobian of
        its last iteration (within the Newton tolerance of the converged point's): one
        Jacobian in the compiled graph for both."""
        e = jnp.zeros(u_guess.shape[0]).at[-1].set(1.0)

        def body(c):
            u, it, _, _ = c
            K, G = system(u, u_guess, d, args)
            sol = jnp.linalg.solve(K, jnp.stack([G, e], 1))
            u = u - sol[:, 0]
            err = jnp.max(jnp.abs(sol[:, 0])) / (1.0 + jnp.max(jnp.abs(u)))
            return u, it + 1, err, sol[:, 1] / jnp.linalg.norm(sol[:, 1])

        def cond(c):
            _, it, err, _ = c
            return (it < 30) & (err > _NEWTON_TOL) & jnp.isfinite(err)

        u, _, err, t = jax.lax.while_loop(cond, body, (u_guess, 0, jnp.asarray(1e300), d))
        return u, err <= _CONVERGED, t

    @jax.jit
    def tangent(u, d, args):
        """Unit tangent at ``u`` oriented along ``d``."""
        K = jnp.vstack([problem.dF(u, args), d[None]])
        t = jnp.linalg.solve(K, jnp.zeros(u.shape[0]).at[-1].set(1.0))
        return t / jnp.linalg.norm(t)

    @jax.jit
    def start(u0, e, args):
        """The start point corrected onto the curve (Newton with the border row the tangent
        at ``u0``) and the unit tangent there, both with ``e @ t > 0``: one compiled call."""
        u, ok = correct(u0, tangent(u0, e, args), args)
        return u, ok, tangent(u, e, args)

    @jax.jit
    def chunk_end(U, u_last, p0):
        """:math:`f_x` at the points ``U`` and the defining matrix at ``u_last`` (the next
        chunk's borders): the hooks' one compiled call per chunk."""
        J = jax.vmap(lambda u: cm.jac_x(u[:-2], curve_params(u, p0, free)))(U)
        return J, hopf_or_fold_matrix(u_last, p0)

    @jax.jit
    def onto_plane(u_guess, j, t_prev, args):
        """The curve point with ``u[-2 + j] = u_guess[-2 + j]`` (Newton from ``u_guess`` with
        the border row :math:`e_{-2+j}`) and its unit tangent oriented along ``t_prev``."""
        d = jnp.zeros(u_guess.shape[0]).at[u_guess.shape[0] - 2 + j].set(1.0)
        u, ok = correct(u_guess, d, args)
        return u, ok, tangent(u, t_prev, args)

    @jax.jit
    def lyapunov(U, p0, omega, others):
        r""":math:`\ell_1` at the curve points ``U`` with frequencies ``omega``; the critical
        eigenvectors (right and left) from the other eigenvalues ``others``
        (:func:`_critical_vectors`)."""
        def one(u, w, mu):
            x, p = u[:-2], curve_params(u, p0, free)
            q, left = _critical_vectors(cm.jac_x(x, p), mu)
            solve = unrolled_solve if x.shape[0] <= _UNROLLED else jnp.linalg.solve
            return first_lyapunov(cm, x, p, w, q, left, solve)

        return jax.vmap(one)(U, omega, others)

    @jax.jit
    def fold_a(U, p0, V):
        return jax.vmap(lambda u, v: fold_coefficient(
            cm, u[:-2], curve_params(u, p0, free), v))(U, V)

    def psi(test, u, t, args, j, value, v_ref):
        """The test function number ``test`` (:data:`_TEST_INDEX`) at the curve point ``u``
        with unit tangent ``t``."""
        x, p = u[:-2], curve_params(u, args[0], free)
        J = cm.jac_x(x, p)
        # one eigen-decomposition for all the eigenvalue tests and l1: the locator is vmapped,
        # so every branch of the switch below runs, and each decomposition of its own would
        # cost one LAPACK call per bracket and iteration
        if kind == "hopf":
            ev, vecs = jnp.linalg.eig(J)
        else:
            ev = jnp.linalg.eigvals(J)
        tests = _eigen_tests(kind, ev)

        def eigen(name):
            return lambda: tests[name]

        def gh():
            w = jnp.sqrt(jnp.abs(tests["bt"]))
            q = vecs[:, jnp.argmin(jnp.abs(ev - 1j * w))]
            return first_lyapunov(cm, x, p, w, q).astype(u.dtype)

        def cp():
            v = jnp.linalg.svd(J)[2][-1]
            v = jnp.where(v @ v_ref >= 0, v, -v)
            return fold_coefficient(cm, x, p, v).astype(u.dtype)

        def lp():
            return jnp.take(t, u.shape[0] - 2 + j)

        def coordinate():
            return jnp.take(u, u.shape[0] - 2 + j) - value

        nan = lambda: jnp.asarray(jnp.nan, u.dtype)  # noqa: E731 - a test of the other kind
        branches = [eigen("bt"), eigen("zh"), eigen("hh") if kind == "hopf" else nan,
                    gh if kind == "hopf" else nan, cp if kind == "fold" else nan, lp,
                    coordinate]
        return jax.lax.switch(test, branches)

    def locate_one(test, ua, ub, p0, j, value, v_ref):
        """Illinois (modified regula falsi) on the chord coordinate ``s`` from ``ua`` to ``ub``,
        every trial corrected onto the curve; borders computed at ``ua``. Trials 0 and 1 are
        the ends themselves (so the test function and the corrector appear once in the
        compiled loop: a third of the compile time of evaluating the ends apart)."""
        b, c = _borders(hopf_or_fold_matrix(ua, p0))
        args = (p0, b, c)
        chord = ub - ua
        length = jnp.linalg.norm(chord)
        d = chord / length
        xtol = 1e-13 * (1.0 + jnp.max(jnp.abs(ua)))

        def cond(st):
            a, fa, b_, fb, _, it, ok, _ = st
            return ok & ((it < 2) | ((it < 102) & (jnp.abs(b_ - a) > xtol) & (fb != 0)
                                     & (fa * fb < 0)))

        def body(st):
            a, fa, b_, fb, u, it, _, ends = st
            s = b_ - fb * (b_ - a) / (fb - fa)
            lo, hi = jnp.minimum(a, b_), jnp.maximum(a, b_)
            s = jnp.where((s > lo) & (s < hi), s, 0.5 * (a + b_))
            s = jnp.where(it == 0, 0.0, jnp.where(it == 1, length, s))
            u_new, ok, t = correct_with_tangent(
                jnp.where(it == 0, ua, jnp.where(it == 1, ub, ua + s * d)), d, args)
            u_new = jnp.where(it == 0, ua, jnp.where(it == 1, ub, u_new))
            fs = psi(test, u_new, t, args, j, value, v_ref)
            ok = jnp.where(it < 2, True, ok) & jnp.isfinite(fs)
            flip = fs * fb < 0
            a_new = jnp.where(it == 0, 0.0, jnp.where(it == 1, 0.0, jnp.where(flip, b_, a)))
            fa_new = jnp.where(it == 0, fs, jnp.where(it == 1, fb, jnp.where(flip, fb, 0.5 * fa)))
            ends = jnp.where(it == 0, ends.at[0].set(fs), jnp.where(it == 1, ends.at[1].set(fs),
                                                                      ends))
            return (a_new, fa_new, s, fs, u_new, it + 1, ok, ends)

        zero = jnp.zeros((), ua.dtype)
        a, _, b_, fu, u, it, ok, ends = jax.lax.while_loop(
            cond, body, (zero, zero, zero, zero, ua, jnp.asarray(0), jnp.asarray(True),
                         jnp.zeros(2, ua.dtype)))
        width = jnp.abs(b_ - a)
        bracket = ends[0] * ends[1] < 0
        ok = ok & bracket & (it > 2) & ((width <= xtol) | (fu == 0))
        return u, ok, ends[0], ends[1], fu, width

    hopf_or_fold_matrix = functools.partial(hopf_matrix if kind == "hopf" else fold_matrix, cm,
                                            free)
    # the test index is per bracket: brackets of all test functions in one call (every
    # iteration then evaluates all test functions and selects; op count, not flops, is the cost
    # of these small systems, so one call is ~3x cheaper than one per test function)
    locate = jax.jit(jax.vmap(locate_one, in_axes=(0, 0, 0, None, 0, 0, 0)))

    return dict(problem=problem, matrix=matrix, correct=correct, tangent=tangent, start=start,
                chunk_end=chunk_end, onto_plane=onto_plane, lyapunov=lyapunov, fold_a=fold_a,
                locate=locate)


def _critical_vector(J, others):
    r"""The eigenvector of ``J`` for its eigenvalue :math:`\lambda` not in ``others`` (the
    other eigenvalues, :math:`n - 1` of them): a column of largest norm of the spectral
    projector's multiple :math:`\prod_{\mu \in \text{others}} (J - \mu I)`, which maps
    every vector into :math:`\ker(J - \lambda I)` (Cayley–Hamilton); no eigenvectors
    needed."""
    return _critical_vectors(J, others)[0]


def _critical_vectors(J, others):
    r"""The right and left eigenvectors ``(q, l)`` of ``J`` (:math:`Jq = \lambda q`,
    :math:`l^TJ = \lambda l^T`, any scale) for its eigenvalue :math:`\lambda` not in
    ``others``: a column and a row of largest norm of
    :math:`P = \prod_{\mu \in \text{others}} (J - \mu I)`. :math:`P` is a multiple of the
    spectral projector :math:`q l^T / (l^T q)` (:func:`_critical_vector`), so its columns are
    multiples of :math:`q` and its rows of :math:`l^T`: the left vector of :math:`\ell_1`
    without the bordered solve for it."""
    n = J.shape[0]
    eye = jnp.eye(n)
    P = J - others[0] * eye
    for k in range(1, others.shape[0]):  # products as sums of elementwise ones: a fused loop
        P = jnp.sum((J - others[k] * eye)[:, :, None] * P[None, :, :], axis=1)
    P2 = jnp.abs(P) ** 2
    return P[:, jnp.argmax(jnp.sum(P2, axis=0))], P[jnp.argmax(jnp.sum(P2, axis=1))]


def _borders(M):
    """:func:`~.problems.minimal.borders` inside a trace."""
    U, _, Vt = jnp.linalg.svd(M)
    return U[:, -1], Vt[-1]


#: index of each test function in the compiled locator
_TEST_INDEX = {"bt": 0, "zh": 1, "hh": 2, "gh": 3, "cp": 4, "lp": 5, "uz": 6}


def _eigen_tests(kind, L):
    """:func:`_tests` for one row of eigenvalues ``L`` inside a trace."""
    n = L.shape[0]
    a, b = np.triu_indices(n, 1)
    idx = jnp.arange(n)
    if kind == "hopf":
        k = jnp.argmin(jnp.abs(L[a] + L[b]))
        i, j = jnp.asarray(a)[k], jnp.asarray(b)[k]
        keep = (idx != i) & (idx != j)
        first = (L[i] * L[j]).real
    else:
        keep = idx != jnp.argmin(jnp.abs(L))
    rest = jnp.prod(jnp.where(keep, L, 1.0)).real
    sums = jnp.prod(jnp.where(keep[a] & keep[b], L[a] + L[b], 1.0)).real
    if kind == "hopf":
        return {"bt": first, "zh": rest, "hh": sums}
    return {"bt": rest, "zh": sums}


def _pad(U):
    """``U`` padded to a power of two rows (few distinct compiled shapes)."""
    size = max(64, 1 << (len(U) - 1).bit_length())
    return np.concatenate([U, np.repeat(U[-1:], size - len(U), axis=0)])


# --------------------------------------------------------------------------------------------
# Test functions from the eigenvalues
# --------------------------------------------------------------------------------------------


def _hopf_pair(L):
    """Per row: indices ``(i, j)`` of the critical pair (smallest |l_i + l_j|)."""
    i, j = _pairs(L.shape[-1])
    k = np.argmin(np.abs(L[..., i] + L[..., j]), axis=-1)
    return i[k], j[k]


@functools.cache
def _pairs(n: int):
    return np.triu_indices(n, 1)


def _rest(L, drop):
    """Per row: the eigenvalues without the columns in ``drop`` (list of index arrays)."""
    n = L.shape[-1]
    mask = np.ones(L.shape, bool)
    rows = np.arange(L.shape[0])
    for d in drop:
        mask[rows, d] = False
    return L[mask].reshape(L.shape[0], n - len(drop))


def _pair_sums(M):
    """Per row: :math:`\\prod_{k<l}(\\mu_k + \\mu_l)` (real part; 1 when fewer than 2)."""
    m = M.shape[-1]
    if m < 2:
        return np.ones(M.shape[0])
    i, j = np.triu_indices(m, 1)
    return np.prod(M[:, i] + M[:, j], axis=-1).real


def _pair_products(L) -> np.ndarray:
    r"""Per row of ``L``: :math:`\kappa = \lambda_i\lambda_j` of the critical pair (the Hopf
    curve's Bogdanov–Takens test, ``_tests('hopf', L)['bt']``)."""
    i, j = _hopf_pair(L)
    rows = np.arange(L.shape[0])
    return (L[rows, i] * L[rows, j]).real


def _tests(kind: str, L) -> dict[str, np.ndarray]:
    """Eigenvalue test functions per row of ``L`` ``(M, n)``."""
    L = np.atleast_2d(L)
    if kind == "hopf":
        i, j = _hopf_pair(L)
        rows = np.arange(L.shape[0])
        kappa = (L[rows, i] * L[rows, j]).real
        rest = _rest(L, [i, j])
        return {"bt": kappa, "zh": np.prod(rest, axis=-1).real if rest.shape[1] else
                np.ones(len(L)), "hh": _pair_sums(rest)}
    i0 = np.argmin(np.abs(L), axis=-1)
    rest = _rest(L, [i0])
    return {"bt": np.prod(rest, axis=-1).real, "zh": _pair_sums(rest)}


def _new_pair_complex(kind: str, lam) -> tuple[bool, float]:
    """At a located ZH (fold curve) / HH (Hopf curve): whether the pair of other eigenvalues
    that sums to zero is complex, and its frequency."""
    lam = np.asarray(lam)
    if kind == "hopf":
        i, j = _hopf_pair(lam[None])
        rest = _rest(lam[None], [i, j])[0]
    else:
        rest = _rest(lam[None], [np.argmin(np.abs(lam[None]), axis=-1)])[0]
    a, b = np.triu_indices(len(rest), 1)
    k = np.argmin(np.abs(rest[a] + rest[b]))
    w = abs(rest[a[k]].imag)
    return bool(w > _IMAG * max(1.0, abs(rest[a[k]]))), float(w)


# --------------------------------------------------------------------------------------------
# Start, continuation and location
# --------------------------------------------------------------------------------------------


def _start_of(start, kind: str, model: ODEModel) -> tuple[np.ndarray, dict]:
    """``(x, params)`` of a start point: a :class:`SpecialPoint` of that kind from a branch,
    a :class:`~hhanalysis.HopfPoint` / :class:`~hhanalysis.FoldPoint`, or a mapping with
    ``'x'`` (the equilibrium) and ``'params'``."""
    from .points import FoldPoint, HopfPoint

    want = {"hopf": HopfPoint, "fold": FoldPoint}[kind]
    if isinstance(start, SpecialPoint):
        if start.kind != kind:
            raise ValueError(f"start must be a {kind} point, got a {start.kind!r} point")
        x, params = np.asarray(start.state, float), dict(start.params or {})
    elif isinstance(start, want):
        if not bool(start.converged):
            raise ValueError(f"start: the {kind} point did not converge")
        x, params = np.asarray(start.x, float), {k: float(v) for k, v in start.params.items()}
    elif isinstance(start, dict) and "x" in start:
        x, params = np.asarray(start["x"], float), dict(start.get("params", {}))
    else:
        raise TypeError(f"start must be a {kind} SpecialPoint of a branch, a {want.__name__} "
                        f"or a dict with 'x' and 'params'; got {type(start).__name__}")
    if x.shape != (model.n_states,) or not np.all(np.isfinite(x)):
        raise ValueError(f"start: the state must be {model.n_states} finite numbers, got {x}")
    return x, params


def _check_bounds(bounds, params) -> list[tuple[float, float]]:
    if bounds is None:
        return [(-math.inf, math.inf)] * 2
    if isinstance(bounds, dict):
        unknown = set(bounds) - set(params)
        if unknown:
            raise ValueError(f"bounds: keys must be among the curve parameters {params}, got "
                             f"{sorted(unknown)}")
        pairs = [bounds.get(p, (-math.inf, math.inf)) for p in params]
    else:
        pairs = list(bounds)
        if len(pairs) != 2:
            raise ValueError("bounds must be a dict {param: (lo, hi)} or two (lo, hi) pairs")
    out = []
    for name, pair in zip(params, pairs):
        try:
            lo, hi = (float(v) for v in pair)
        except (TypeError, ValueError):
            raise ValueError(f"bounds of {name!r} must be (lo, hi) numbers, got {pair!r}") from None
        if math.isnan(lo) or math.isnan(hi) or not lo < hi:
            raise ValueError(f"bounds of {name!r} must satisfy lo < hi, got ({lo}, {hi})")
        out.append((lo, hi))
    return out


class _Hooks(driver.Hooks):
    """Between chunks: stop past the bounds of the second parameter, stop a Hopf curve past a
    Bogdanov–Takens point (it goes on as a neutral-saddle curve), refresh the borders. The
    eigenvalues of :math:`f_x` that the Bogdanov–Takens test needs are kept (``spectra``: per
    chunk, the eigenvalues at its kept points), so that the curve's spectra are not computed
    twice."""

    def __init__(self, kind, parts, bounds2):
        self.kind, self.parts, self.bounds2 = kind, parts, bounds2
        self.spectra = []
        self.matrix_at = None  # (u, defining matrix at u) from the last chunk's call

    def end(self, points, args):
        lam2 = points.u[:, -1]
        out = np.nonzero((lam2 < self.bounds2[0]) | (lam2 > self.bounds2[1]))[0]
        cut, stop = len(points), None
        if out.size:
            cut = int(out[0]) + 1
            edge = self.bounds2[0] if lam2[out[0]] < self.bounds2[0] else self.bounds2[1]
            stop = Stop(Status.REACHED_BOUND, float(edge))
        if self.kind == "hopf":
            J, M = self.parts["chunk_end"](_pad(points.u[:cut]), points.u[-1], args[0])
            self.matrix_at = (points.u[-1], M)
            L = np.linalg.eigvals(np.asarray(J)[:cut])
            bt = np.nonzero(_pair_products(L) < 0)[0]
            if bt.size:
                cut = int(bt[0]) + 1
                stop = Stop(Status.REACHED_CODIM2, float(points.u[bt[0], -2]))
            self.spectra.append(L[:cut])
        return cut, stop

    def adapt(self, u, t, args):
        at = self.matrix_at
        M = (at[1] if at is not None and np.array_equal(at[0], np.asarray(u))
             else self.parts["matrix"](u, args[0]))
        b, c = borders(M)
        return u, t, (args[0], b, c)


def _curve_arguments(model, params, bounds, user_points, direction):
    """The checked arguments every two-parameter curve takes: ``(params, bounds as two (lo, hi)
    pairs, user points as (parameter index, value))``."""
    if isinstance(params, str) or len(params) != 2 or params[0] == params[1]:
        raise ValueError(f"params must be two different parameter names, got {params!r}")
    params = tuple(params)
    model.check_param_names(list(params), "curve parameter")
    if direction not in (-1, 0, 1):
        raise ValueError(f"direction must be -1, 0 (both) or 1, got {direction!r}")
    return params, _check_bounds(bounds, params), _check_user_points(user_points, params)


def _continue(kind, model, start, params, bounds, settings, user_points, direction, throw):
    if kind not in ("hopf", "fold"):  # pragma: no cover - internal
        raise ValueError(kind)
    settings = settings or CURVE_SETTINGS
    params, box, user = _curve_arguments(model, params, bounds, user_points, direction)
    x0, pdict = _start_of(start, kind, model)
    unknown = set(pdict) - set(model.param_names)
    if unknown:
        raise ValueError(f"start: unknown parameters {sorted(unknown)}")
    cm = model.compile()
    free = (cm.param_index(params[0]), cm.param_index(params[1]))
    p0 = np.asarray(model.param_vector(**pdict), float)
    u0 = np.concatenate([x0, p0[list(free)]])
    for name, v, (lo, hi) in zip(params, u0[-2:], box):
        if not lo <= v <= hi:
            raise ValueError(f"start: {name}={v:g} lies outside its bounds [{lo:g}, {hi:g}]")
    parts = _compiled(cm, kind, free)
    b, c = borders(parts["matrix"](u0, p0))
    args = (p0, b, c)
    u0c, ok, t0 = parts["start"](u0, np.eye(len(u0))[-1], args)
    if not bool(ok):
        raise ValueError(f"start: Newton on the {kind} curve system did not converge from the "
                         f"start point (is it a {kind} point of equilibria?)")
    u0, t0 = np.asarray(u0c), np.asarray(t0)
    raws, chunk_spectra = [], []
    jacobians = functools.partial(_jacobians, cm, params, p0)
    start_spectrum = np.linalg.eigvals(jacobians(u0[None])) if kind == "hopf" else None
    for sign in ((-1.0, 1.0) if direction == 0 else (float(direction),)):
        hooks = _Hooks(kind, parts, box[1])
        raws.append(driver.run(parts["problem"], driver.Points.one(u0, sign * t0, np.zeros(0)),
                               args, settings, window=box[0], hooks=hooks, free=2,
                               chunk=_CHUNK, window2=box[1]))
        chunk_spectra.append(hooks.spectra)
    runs = _trim(parts, raws, box, params)
    spectra = [_run_spectra(start_spectrum, c, raw.u, run[0], jacobians)
               for c, raw, run in zip(chunk_spectra, raws, runs)]
    if direction == 0:
        (Ub, Tb, stop_b, name_b), (Uf, Tf, stop_f, name_f) = runs
        U = np.concatenate([Ub[::-1], Uf[1:]])
        T = np.concatenate([-Tb[::-1], Tf[1:]])
        stops, names, start_index = (stop_b, stop_f), (name_b, name_f), len(Ub) - 1
        eig = (None if any(s is None for s in spectra)
               else np.concatenate([spectra[0][::-1], spectra[1][1:]]))
    else:
        U, T, stop, name = runs[0]
        eig = spectra[0]
        first = Stop(Status.MAX_STEPS, float(u0[-2]), 0)
        stops, names, start_index = (first, stop), (params[0], name), 0
        if direction < 0:
            U, T = U[::-1], -T[::-1]
            eig = None if eig is None else eig[::-1]
            stops, names, start_index = stops[::-1], names[::-1], len(U) - 1
    return _build(kind, model, cm, parts, params, p0, U, T, args, stops, names, start_index,
                  user, settings, throw, eig)


def _run_spectra(start, chunks, u_raw, U, jacobians):
    """The eigenvalues of :math:`f_x` at the points ``U`` of one run, from the start point's
    and the chunks' (the last row again where :func:`_trim` moved the point onto a bound); None
    where the chunks did not keep them (fold curves)."""
    if not chunks or sum(len(c) for c in chunks) + 1 != len(U):
        return None
    L = np.concatenate([start] + chunks)
    if not np.array_equal(U[-1], u_raw[-1]):
        L[-1] = np.linalg.eigvals(jacobians(U[-1:]))[0]
    return L


def _trim(parts, raws, box, params):
    r"""The points of each run, the last one moved onto the bound it passed; returns per run
    ``(U, T, stop, name of the parameter the stop refers to)``. The point on the bound
    :math:`\lambda_j = e` solves :math:`F(u) = 0,\ u_{\lambda_j} = e` by Newton from the chord
    between the last two points (one compiled call; where Newton fails, the zero of
    :math:`\lambda_j - e` along the chord is located as any test function's)."""
    out, moves = [], []
    for r, raw in enumerate(raws):
        U, T, stop = np.asarray(raw.u), np.asarray(raw.tangent), raw.stop
        name = params[0]
        if stop.status is Status.REACHED_BOUND and len(U) >= 2:
            j = 0 if not box[0][0] <= U[-1, -2] <= box[0][1] else 1
            name = params[j]
            edge = stop.param if j == 1 else (box[0][1] if U[-1, -2] > box[0][1] else box[0][0])
            stop = dataclasses.replace(stop, param=float(edge))
            moves.append((r, j, edge))
        out.append([U, T, stop, name])
    for r, j, edge in moves:
        U, T = out[r][0], out[r][1]
        ua, ub = U[-2], U[-1]
        guess = ua + (edge - ua[-2 + j]) / (ub[-2 + j] - ua[-2 + j]) * (ub - ua)
        guess[-2 + j] = edge
        u, ok, t = parts["onto_plane"](guess, np.asarray(j), T[-1], raws[r].args[-1])
        if not bool(ok):
            located = _locate(parts, raws[r].args[-1][0], ["uz"], ua[None], ub[None], [j], [edge],
                              np.zeros((1, U.shape[1] - 2)))
            if not located[1][0]:
                continue
            u = located[0][0]
            t = parts["tangent"](u, T[-1], raws[r].args[-1])
        u = np.array(u)
        u[-2 + j] = edge  # its defining equation, exactly (the solve leaves ~1e-15)
        out[r][0] = np.concatenate([U[:-1], u[None]])
        out[r][1] = np.concatenate([T[:-1], np.asarray(t)[None]])
    return [tuple(o) for o in out]


def _check_user_points(user_points, params) -> list[tuple[int, float]]:
    if user_points is None:
        return []
    if not isinstance(user_points, dict):
        raise TypeError(f"user_points must be a mapping {{param: [values]}}, got "
                        f"{type(user_points).__name__}")
    out = []
    for name, vals in user_points.items():
        if name not in params:
            raise ValueError(f"user_points: {name!r} is not a curve parameter {params}")
        for v in np.atleast_1d(np.asarray(vals, float)):
            if not np.isfinite(v):
                raise ValueError(f"user_points: values of {name!r} must be finite, got {v}")
            out.append((params.index(name), float(v)))
    return out


def _build(kind, model, cm, parts, params, p0, U, T, args, stops, names, start_index, user,
           settings, throw, eig=None):
    """The curve from its points; ``eig``: the eigenvalues of :math:`f_x` at them where the
    continuation computed them already."""
    U = np.array(U)
    p0j = args[0]
    n = model.n_states
    J = _jacobians(cm, params, p0, U) if eig is None or kind == "fold" else None
    L = np.linalg.eigvals(J) if eig is None else np.array(eig)
    tests = _tests(kind, L)
    omega = np.full(len(U), np.nan)
    l1 = np.full(len(U), np.nan)
    a = np.full(len(U), np.nan)
    if kind == "hopf":
        kappa = tests["bt"]
        omega = np.where(kappa > 0, np.sqrt(np.abs(kappa)), np.nan)
        vals = np.asarray(parts["lyapunov"](_pad(U), p0j, _pad(np.nan_to_num(omega, nan=1.0)),
                                            _pad(_other_eigenvalues(L, omega))))[:len(U)]
        l1 = np.where(kappa > 0, vals, np.nan)
        tests["gh"] = l1
    else:
        V = _fold_vectors(J)
        a = np.asarray(parts["fold_a"](_pad(U), p0j, _pad(V)))[:len(U)]
        tests["cp"] = a
    for j in (0, 1):
        tests[f"lp{j}"] = T[:, -2 + j]
    for k, (j, v) in enumerate(user):
        tests[f"uz{k}"] = U[:, -2 + j] - v
    specials = _detect(kind, model, cm, parts, params, p0, U, args, tests, user, L)
    stops = list(stops)
    for e, row in enumerate((0, len(U) - 1)):
        bt = [s for s in specials if s.kind == "bt" and s.index == min(row, len(U) - 2)]
        if stops[e].status is Status.REACHED_CODIM2 and bt:
            # the end point lies past the BT point (a neutral saddle): put the BT point there
            U[row] = np.concatenate([bt[0].state, [bt[0].params[q] for q in params]])
            L[row] = np.linalg.eigvals(_jacobians(cm, params, p0, U[row:row + 1])[0])
            omega[row], l1[row] = 0.0, np.nan
            stops[e] = dataclasses.replace(stops[e], param=float(U[row, -2]))
    stops = tuple(stops)
    order = spectrum_order(L)
    curve = BifurcationCurve(
        kind=kind, model=model, param_names=params, values=U[:, -2:], x=U[:, :n],
        eigenvalues=np.take_along_axis(L, order, axis=-1), omega=omega, l1=l1, a=a,
        special_points=tuple(specials), stops=stops, stop_params=names,
        start_index=start_index,
        params={**dict(zip(model.param_names, map(float, p0)))}, settings=settings)
    if throw and curve.status is Status.STEP_TOO_SMALL:
        raise ContinuationError(curve.stop_reason, curve.status, curve)
    return curve


def _other_eigenvalues(L, omega):
    r"""Per row of ``L``, the eigenvalues other than the one nearest :math:`+i\omega` (the
    critical one; any one where there is no pair), ``(M, n - 1)``."""
    k = np.argmin(np.abs(L - 1j * np.nan_to_num(omega)[:, None]), axis=1)
    return _rest(L, [k])


def _fold_vectors(J):
    """Unit null vectors of the Jacobians ``J`` along a fold curve, oriented continuously (the
    sign of the coefficient :math:`a` depends on the orientation of :math:`v`)."""
    V = np.linalg.svd(J)[2][:, -1, :]
    flips = np.concatenate([[1.0], np.sign(np.sum(V[1:] * V[:-1], axis=1))])
    flips[flips == 0] = 1.0
    return V * np.cumprod(flips)[:, None]


def _jacobians(cm, params, p0, U):
    """:math:`f_x` at the curve points ``U`` (one jitted vmap; rows padded to a power of two so
    that curves of any length share a few compiled shapes)."""
    free = (cm.param_index(params[0]), cm.param_index(params[1]))
    return np.asarray(_vjac(cm, free)(_pad(np.atleast_2d(U)), np.asarray(p0, float)))[:len(U)]


@functools.cache
def _vjac(cm, free):
    return jax.jit(jax.vmap(lambda u, p0: cm.jac_x(u[:-2], curve_params(u, p0, free)),
                            in_axes=(0, None)))


_NAMES = {"bt": "Bogdanov-Takens", "gh": "generalised Hopf", "zh": "zero-Hopf",
          "hh": "double Hopf", "cp": "cusp"}


def _detect(kind, model, cm, parts, params, p0, U, args, tests, user, L):
    """Every sign change of every test function between consecutive points, all located in one
    compiled, batched call, then classified (normal forms at the points)."""
    brackets = []
    for name, psi_vals in tests.items():
        with np.errstate(invalid="ignore"):
            change = np.nonzero(np.sign(psi_vals[:-1]) * np.sign(psi_vals[1:]) < 0)[0]
        if kind == "hopf" and name in ("gh", "zh", "hh"):
            change = change[np.isfinite(psi_vals[change]) & np.isfinite(psi_vals[change + 1])]
        brackets += [(name, int(i)) for i in change]
    found = []
    if brackets:
        tests = [name[:2] for name, _ in brackets]
        rows = np.array([i for _, i in brackets])
        j, value = np.zeros(len(brackets), int), np.zeros(len(brackets))
        for k, (name, _) in enumerate(brackets):
            if name[:2] == "lp":
                j[k] = int(name[2:])
            elif name[:2] == "uz":
                j[k], value[k] = user[int(name[2:])]
        v_ref = np.zeros((len(brackets), model.n_states))
        cp = np.array([t == "cp" for t in tests])
        if cp.any():
            v_ref[cp] = np.linalg.svd(_jacobians(cm, params, p0, U[rows[cp]]))[2][:, -1, :]
        located = _locate(parts, args[0], tests, U[rows], U[rows + 1], j, value, v_ref)
        gh = [k for k, t in enumerate(tests) if t == "gh"]
        l2 = _bautin(cm, params, p0, [a[gh] for a in located]) if gh else {}
        l2 = {gh[k]: b for k, b in l2.items()}
        for k, ((name, i), r) in enumerate(zip(brackets, zip(*located))):
            sp_ = _special(kind, name, model, cm, params, p0, U, i, *r, bautin=l2.get(k))
            if sp_ is not None:
                found.append(sp_)
    cusps = [s for s in found if s.kind == "cp"]
    found = [s for s in found if not (s.kind == "lp" and any(
        np.allclose([s.params[k] for k in params], [c.params[k] for k in params], rtol=1e-7)
        for c in cusps))]  # at a cusp both parameters turn: the CP is the point
    found.sort(key=lambda s: (s.index, s.kind))
    return found


def _locate(parts, p0, tests, UA, UB, j, value, v_ref):
    r"""The zeros of the test functions ``tests[k]`` (keys of :data:`_TEST_INDEX`) between the
    curve points ``UA[k]`` and ``UB[k]``, all brackets in one compiled call: Illinois on the chord
    coordinate, each trial corrected onto the curve (``j``, ``value``: the parameter and value
    of ``'lp'`` / ``'uz'`` tests; ``v_ref``: the null vector that orients ``'cp'``). Returns
    per bracket ``(u, converged, psi(UA), psi(UB), psi(u), bracket width)`` as NumPy arrays.
    Rows are padded to a power of two (few compiled shapes)."""
    k = len(UA)
    size = max(4, 1 << (k - 1).bit_length())

    def pad(a):
        a = np.asarray(a)
        return np.concatenate([a, np.repeat(a[-1:], size - k, axis=0)])

    out = parts["locate"](pad([_TEST_INDEX[t] for t in tests]), pad(UA), pad(UB), np.asarray(p0),
                          pad(j), pad(np.asarray(value, float)), pad(np.asarray(v_ref, float)))
    return [np.asarray(o)[:k] for o in out]


def _is_zero(fa, fb, fu) -> bool:
    """A located zero of a test function, not a pole (e.g. a = <w, B(v,v)>/2 at a BT point)."""
    return bool(fa * fb < 0 and abs(fu) <= min(abs(fa), abs(fb)))


def _bautin(cm, params, p0, located) -> dict[int, BautinData]:
    r""":class:`BautinData` (``omega``, ``l2``) of the located GH points (the rows of ``located``
    that are zeros of :math:`\ell_1`), all in one batched normal-form computation."""
    free = [cm.param_index(q) for q in params]
    rows, xs, ps, ws, qs, Js = [], [], [], [], [], []
    for k, (u, _, fa, fb, fu, _) in enumerate(zip(*located)):
        if not _is_zero(fa, fb, fu):
            continue
        p = np.asarray(p0, float).copy()
        p[free] = u[-2:]
        J = np.asarray(cm.jac_x(u[:-2], p))
        ev, vecs = np.linalg.eig(J)
        w = math.sqrt(abs(_tests("hopf", ev[None])["bt"][0]))
        rows.append(k), xs.append(u[:-2]), ps.append(p), ws.append(w), Js.append(J)
        qs.append(vecs[:, np.argmin(np.abs(ev - 1j * w))])
    if not rows:
        return {}
    l2 = [b for _, b in nf.second_lyapunovs(cm, xs, ps, ws, qs, jacobians=Js)]
    return {k: BautinData(w, b) for k, w, b in zip(rows, ws, l2)}


def _special(kind, name, model, cm, params, p0, U, i, u, ok, fa, fb, fu, width, bautin=None):
    """The special point located at ``u`` in the bracket ``(U[i], U[i+1])`` of test ``name``,
    with the data that decides its type (``bautin``: a GH point's, computed beforehand); None
    where there is no bifurcation."""
    free = [cm.param_index(q) for q in params]
    if not _is_zero(fa, fb, fu):
        return None
    p = np.asarray(p0).copy()
    p[free] = u[-2:]
    x = u[:-2]
    kind_out = name[:2]
    data, message = None, ""
    if kind_out in ("zh", "hh"):
        ev, vecs = np.linalg.eig(np.asarray(cm.jac_x(x, p)))
    if kind_out in ("zh", "hh") and (kind == "fold" or kind_out == "hh"):
        cplx, w = _new_pair_complex(kind, ev)
        if not cplx:
            return None  # a neutral saddle among the other eigenvalues: no bifurcation
        if kind_out == "hh":
            w0 = math.sqrt(abs(_tests("hopf", ev[None])["bt"][0]))
            data = DoubleHopfData(w0, w)
        else:
            data = ZeroHopfData(w)
    elif kind_out == "zh":
        data = ZeroHopfData(math.sqrt(abs(_tests("hopf", ev[None])["bt"][0])))
    elif kind_out == "bt":
        a_, b_ = nf.bogdanov_takens(cm, x, p)
        data = BogdanovTakensData(a_, b_)
    elif kind_out == "gh":
        data = bautin
    elif kind_out == "cp":
        data = CuspData(nf.cusp(cm, x, p))
    elif kind_out == "lp":
        j = int(name[2:])
        top = u[-2 + j] >= max(U[i, -2 + j], U[i + 1, -2 + j])
        data = TurningData(params[j], "max" if top else "min")
    if not ok:
        message = f"location of the {_NAMES.get(kind_out, kind_out)} point did not converge"
    values = dict(zip(model.param_names, map(float, p)))
    return SpecialPoint(kind_out, int(i), float(u[-2]), x,
                        Status.CONVERGED if ok else Status.GUESS, float(width),
                        param_name=params[0], params=values, message=message, data=data)


@float64
def continue_hopf(model: ODEModel, start, params: tuple[str, str] = ("I", "gK"), bounds=None,
                  *, settings: ContinuationSettings | None = None, user_points=None,
                  direction: int = 0, throw: bool = False) -> BifurcationCurve:
    r"""Continue a curve of Hopf points of equilibria in two parameters.

    The curve is the zero set of :math:`f(x, p) = 0`, :math:`g(x, p) = 0` with :math:`g` the
    bordered test function of the bialternate product :math:`2f_x \odot I`
    (:mod:`~hhanalysis.continuation.problems.hopf_curve`). Along it the Bogdanov–Takens (where
    the curve ends: beyond it the system describes neutral saddles), generalised Hopf
    (:math:`\ell_1 = 0`, with :math:`\ell_2`), zero-Hopf and double-Hopf points and the turning
    points in either parameter are detected and located; :math:`\ell_1` is given at every point.

    Arguments:
        model: the model.
        start: a Hopf point: ``branch.hopf_points[k]`` of a one-parameter branch or diagram, a
            :class:`~hhanalysis.HopfPoint` (:func:`~hhanalysis.hopf_point`), or a dict with
            ``'x'`` and ``'params'``. Its parameter values are the fixed ones of the curve.
        params: the two free parameters; bounds apply to each.
        bounds: ``{name: (lo, hi)}`` (either or both) or two ``(lo, hi)`` pairs; the curve ends
            on them.
        settings: continuation settings (default :data:`CURVE_SETTINGS`).
        user_points: ``{name: [values]}``: points of the curve where a parameter takes these
            values are located exactly (kind ``'uz'``).
        direction: 0 both ways from the start, 1 / -1 one way (the sign of the second
            parameter's change).
        throw: raise :class:`ContinuationError` when the corrector fails.

    Returns:
        :class:`BifurcationCurve`.
    """
    return _continue("hopf", model, start, params, bounds, settings, user_points, direction,
                     throw)


@float64
def continue_fold(model: ODEModel, start, params: tuple[str, str] = ("I", "gK"), bounds=None,
                  *, settings: ContinuationSettings | None = None, user_points=None,
                  direction: int = 0, throw: bool = False) -> BifurcationCurve:
    r"""Continue a curve of folds (limit points) of equilibria in two parameters.

    The curve is the zero set of :math:`f(x, p) = 0`, :math:`g(x, p) = 0` with :math:`g` the
    bordered test function of :math:`f_x` (:mod:`~hhanalysis.continuation.problems.fold_curve`).
    Along it cusp (with the cubic coefficient :math:`c`), Bogdanov–Takens (with :math:`a, b`)
    and zero-Hopf points and the turning points in either parameter are located, and the
    quadratic coefficient :math:`a` is given at every point. Arguments as
    :func:`continue_hopf`, with a fold point as ``start``.
    """
    return _continue("fold", model, start, params, bounds, settings, user_points, direction,
                     throw)
