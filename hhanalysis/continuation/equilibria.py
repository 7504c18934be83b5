r"""Continuation of equilibria in one parameter, with fold and Hopf detection (AUTO's IPS=1).

The problem (:mod:`~hhanalysis.continuation.problems.equilibrium`), continued by
:func:`hhanalysis.continuation.driver.run`, is :math:`F(x, \lambda) = f(x, p(\lambda))` with the
generated Jacobian :math:`DF = [\partial f/\partial x \;|\; \partial f/\partial p_k]`; the first
point past the end of the range is replaced by the equilibrium on it. Every accepted point
carries the eigenvalues of :math:`\partial f/\partial x`.

**Detection** between consecutive points :math:`k, k+1`:

* *fold* (LP): the parameter component of the unit tangent changes sign;
* *Hopf* (H): the number of eigenvalues with positive real part changes by two while the
  eigenvalue pair nearest the imaginary axis is complex at both ends (so real pairs
  :math:`\pm\mu` — neutral saddles — are never taken for Hopf points);
* *branch point* (BP): that number changes by one without a fold.

**Location** by Newton on the standard augmented systems (Jacobian by ``jax.jacfwd`` of the
generated functions), started from the point interpolated between :math:`k` and :math:`k+1`:

* fold: :math:`f(x,\lambda) = 0,\; J v = 0,\; v_j = 1` (unknowns :math:`x, \lambda, v`);
* Hopf: :math:`f = 0,\; J v_r + \omega v_i = 0,\; J v_i - \omega v_r = 0,\; v_{r,j} = 1,\;
  v_{i,j} = 0` (unknowns :math:`x, \lambda, \omega, v_r, v_i`), with :math:`j` the largest
  component of the interpolated eigenvector.

Each located Hopf point is completed with its first Lyapunov coefficient
(:func:`hhanalysis.spectra.center_manifold`) and criticality.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from .._trace_cache import cached_jit, device_array
from ..codegen import CompiledModel
from ..equilibria import equilibrium_at, find_equilibria, spectrum_order
from ..models import ODEModel
from ..precision import float64
from ..spectra import center_manifold
from . import driver
from .engine import PALC, ContinuationProblem, ContinuationSettings, initial_tangent
from .problems.branch_point import locate_branch_point, other_branch
from .problems.equilibrium import equilibrium_problem, with_param
from .problems.fold import fold_coefficient
from .results import (
    BranchPointData,
    ContinuationError,
    FoldData,
    HopfData,
    SpecialPoint,
    Status,
    Stop,
)

__all__ = ["continue_equilibria", "EquilibriumBranch"]

_LOCATE_TOL = 1e-13
_LOCATE_ITERATIONS = 30


@dataclass(frozen=True)
class EquilibriumBranch:
    """A branch of equilibria :math:`f(x, p) = 0` in one parameter.

    Attributes:
        model: the model (its defaults hold the fixed parameters).
        param_name: the continuation parameter.
        param: parameter values, ``(M,)``.
        x: states, ``(M, n)``.
        eigenvalues: eigenvalues of the Jacobian by decreasing real part, ``(M, n)``.
        stable: all eigenvalues in the open left half-plane, ``(M,)``.
        newton_iterations: corrector iterations per point (0 for the start), ``(M,)``.
        ds: the arclength step that reached each point, ``(M,)``.
        special_points: the detected points, in branch order.
        stop: why and where the continuation ended (:class:`Stop`; ``status`` and
            ``stop_reason`` read it).
        settings: the settings used.
        params: every parameter value of the branch (``param_name`` at the start value);
            ``model`` is the symbolic model as given, its defaults untouched.
    """

    model: ODEModel = field(repr=False)
    param_name: str
    param: np.ndarray
    x: np.ndarray
    eigenvalues: np.ndarray
    stable: np.ndarray
    newton_iterations: np.ndarray
    ds: np.ndarray
    special_points: tuple[SpecialPoint, ...]
    stop: Stop
    settings: ContinuationSettings = field(repr=False)
    params: dict = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return self.param.size

    @property
    def status(self) -> Status:
        """How the branch ended: REACHED_BOUND, RETURNED_TO_START, MAX_STEPS or
        STEP_TOO_SMALL."""
        return self.stop.status

    @property
    def stop_reason(self) -> str:
        """Why the branch ended, in words (from :attr:`status` and the numbers in ``stop``)."""
        return self.stop.message(self.param_name)

    def state(self, name: str) -> np.ndarray:
        """One state variable along the branch."""
        return self.x[:, _state_index(self.model, name)]

    @property
    def hopf_points(self) -> tuple[SpecialPoint, ...]:
        return tuple(s for s in self.special_points if s.kind == "hopf")

    @property
    def folds(self) -> tuple[SpecialPoint, ...]:
        return tuple(s for s in self.special_points if s.kind == "fold")

    def __repr__(self) -> str:
        pts = "\n".join(f"  {s!r}" for s in self.special_points) or (
            f"  (none between {self.param_name} = {self.param.min():.6g} and "
            f"{self.param.max():.6g}: the equilibrium keeps its stability there; a wider "
            "range may reach the Hopf points or folds)")
        return (
            f"EquilibriumBranch({self.model.name}, {self.param_name} in "
            f"[{self.param.min():.6g}, {self.param.max():.6g}], {len(self)} points, "
            f"stop: {self.stop_reason})\n special points:\n{pts}"
        )


# --------------------------------------------------------------------------------------------
# Problem definitions
# --------------------------------------------------------------------------------------------


_with_param = with_param


def _equilibrium_problem(cm: CompiledModel, k: int) -> ContinuationProblem:
    return equilibrium_problem(cm, (k,))


@functools.cache
def _spectra(cm: CompiledModel, k: int):
    """Jitted eigenvalues of the Jacobian at every branch point, ``(M, n+1) -> (M, n)``."""
    return cached_jit(jax.vmap(
        lambda u, p0: jnp.linalg.eigvals(cm.jac_x(u[:-1], _with_param(p0, k, u[-1]))),
        in_axes=(0, None)))


@functools.cache
def _locators(cm: CompiledModel, k: int, n: int):
    """Jitted Newton solvers of the fold and Hopf systems; ``args = (p0, j)`` with ``j`` the
    eigenvector component fixed by the normalisation (a run-time index: one compile serves all)."""

    def hopf_residual(y, args):
        p0, j = args
        x, lam, omega, vr, vi = y[:n], y[n], y[n + 1], y[n + 2:2 * n + 2], y[2 * n + 2:]
        p = _with_param(p0, k, lam)
        J = cm.jac_x(x, p)
        return jnp.concatenate([cm.f(x, p), J @ vr + omega * vi, J @ vi - omega * vr,
                                jnp.stack([vr[j] - 1.0, vi[j]])])

    def fold_residual(y, args):
        p0, j = args
        x, lam, v = y[:n], y[n], y[n + 1:]
        p = _with_param(p0, k, lam)
        return jnp.concatenate([cm.f(x, p), cm.jac_x(x, p) @ v, jnp.atleast_1d(v[j] - 1.0)])

    def newton(residual):
        jac = jax.jacfwd(residual)

        @cached_jit
        def solve(y, args):
            def cond(c):
                _, it, d, _, ok = c
                return ok & (it < _LOCATE_ITERATIONS) & (d > _LOCATE_TOL)

            def body(c):
                y, it, _, _, _ = c
                dy = jnp.linalg.solve(jac(y, args), residual(y, args))
                y_new = y - dy
                d = jnp.max(jnp.abs(dy)) / (1.0 + jnp.max(jnp.abs(y_new)))
                return y_new, it + 1, d, jnp.abs(dy[n]), jnp.all(jnp.isfinite(y_new))

            init = (y, jnp.asarray(0), jnp.asarray(jnp.inf), jnp.asarray(jnp.inf),
                    jnp.asarray(True))
            y, it, d, dparam, ok = jax.lax.while_loop(cond, body, init)
            converged = ok & (d <= 10 * _LOCATE_TOL)
            return y, converged, dparam, jnp.max(jnp.abs(residual(y, args)))

        return solve

    return newton(fold_residual), newton(hopf_residual)


# --------------------------------------------------------------------------------------------
# Detection and location
# --------------------------------------------------------------------------------------------


def _critical_eigenvalues(L) -> np.ndarray:
    """Per row of eigenvalues: the one with Im > 0 nearest the imaginary axis (NaN if none)."""
    L = np.atleast_2d(L)
    cplx = L.imag > 1e-10 * np.maximum(1.0, np.abs(L))
    dist = np.where(cplx, np.abs(L.real), np.inf)
    z = np.take_along_axis(L, np.argmin(dist, axis=1)[:, None], axis=1)[:, 0]
    return np.where(cplx.any(axis=1), z, np.nan)


def _interpolate(a, b, fa, fb):
    w = fa / (fa - fb) if fa != fb else 0.5
    return a + w * (b - a), w


def _locate_hopf(model, cm, k, p0, ua, ub, lam_a, lam_b, index):
    za, zb = _critical_eigenvalues(np.stack([lam_a, lam_b]))
    u, _ = _interpolate(ua, ub, za.real, zb.real)
    n = model.n_states
    p = np.asarray(p0).copy()
    p[k] = u[-1]
    J = np.asarray(cm.jac_x(u[:-1], p))
    ev, vecs = np.linalg.eig(J)
    sel = int(np.argmin(np.abs(ev - (0.5 * (za + zb)))))
    v = vecs[:, sel]
    j = int(np.argmax(np.abs(v)))
    v = v / v[j]
    y0 = np.concatenate([u[:-1], [u[-1], abs(ev[sel].imag)], v.real, v.imag])
    _, locate = _locators(cm, k, n)
    y, ok, prec, res = (np.asarray(a) for a in locate(y0, (device_array(p0), j)))
    if not (bool(ok) and y[n + 1] > 0 and min(ua[-1], ub[-1]) - abs(ub[-1] - ua[-1]) <= y[n]
            <= max(ua[-1], ub[-1]) + abs(ub[-1] - ua[-1])):
        return SpecialPoint("hopf", index, float(u[-1]), u[:-1], Status.GUESS,
                            float(abs(ub[-1] - ua[-1])),
                            message=f"Newton on the Hopf system failed (residual {float(res):.1e})",
                            data=HopfData(float(abs(ev[sel].imag))))
    x, lam, omega = y[:n], float(y[n]), float(y[n + 1])
    q = y[n + 2:2 * n + 2] + 1j * y[2 * n + 2:]
    q = q / np.linalg.norm(q)
    params = dict(zip(model.param_names, map(float, p0)))
    params[model.param_names[k]] = lam
    eq = equilibrium_at(model, x, params)
    try:
        cmf = center_manifold(eq)
        l1, crit = cmf.l1, cmf.criticality
    except ValueError as e:  # pragma: no cover - a located Hopf point has a complex pair
        l1, crit = None, f"unknown ({e})"
    return SpecialPoint("hopf", index, lam, x, Status.CONVERGED, float(prec),
                        data=HopfData(omega, q, l1, crit))


def _locate_fold(model, cm, k, p0, ua, ub, ta, tb, index):
    u, _ = _interpolate(ua, ub, ta[-1], tb[-1])
    n = model.n_states
    p = np.asarray(p0).copy()
    p[k] = u[-1]
    J = np.asarray(cm.jac_x(u[:-1], p))
    ev, vecs = np.linalg.eig(J)
    sel = int(np.argmin(np.abs(ev)))
    v = np.real(vecs[:, sel])
    j = int(np.argmax(np.abs(v)))
    v = v / v[j]
    locate, _ = _locators(cm, k, n)
    y, ok, prec, res = (np.asarray(a) for a in locate(np.concatenate([u, v]),
                                                        (device_array(p0), j)))
    if not bool(ok):
        return SpecialPoint("fold", index, float(u[-1]), u[:-1], Status.GUESS,
                            float(abs(ub[-1] - ua[-1])),
                            message=f"Newton on the fold system failed (residual {float(res):.1e})",
                            data=FoldData(v / np.linalg.norm(v)))
    v = y[n + 1:] / np.linalg.norm(y[n + 1:])
    p = np.asarray(p0).copy()
    p[k] = y[n]
    a = float(_fold_coefficient(cm)(y[:n], p, v))
    return SpecialPoint("fold", index, float(y[n]), y[:n], Status.CONVERGED, float(prec),
                        data=FoldData(v, a))


@functools.cache
def _fold_coefficient(cm: CompiledModel):
    """Jitted :func:`~hhanalysis.continuation.problems.fold.fold_coefficient` of ``cm``."""
    return jax.jit(functools.partial(fold_coefficient, cm))


def _detect(model, cm, k, p0, U, T, L) -> list[SpecialPoint]:
    """Special points between consecutive branch points (vectorised tests, then location)."""
    found = []
    fold = np.sign(T[:-1, -1]) != np.sign(T[1:, -1])
    n_unstable = np.sum(L.real > 0, axis=1)
    dn = np.abs(np.diff(n_unstable))
    crit = _critical_eigenvalues(L).real
    with np.errstate(invalid="ignore"):
        hopf = (dn == 2) & (crit[:-1] * crit[1:] <= 0)
    bp = (dn == 1) & ~fold
    for i in np.nonzero(fold | hopf | bp)[0]:
        if fold[i]:
            found.append(_locate_fold(model, cm, k, p0, U[i], U[i + 1], T[i], T[i + 1], i))
        if hopf[i]:
            found.append(_locate_hopf(model, cm, k, p0, U[i], U[i + 1], L[i], L[i + 1], i))
        if bp[i]:
            found.append(_locate_bp(cm, k, p0, U[i], U[i + 1], T[i], T[i + 1], i))
    return found


def _locate_bp(cm, k, p0, ua, ub, ta, tb, index) -> SpecialPoint:
    """A branch point between ``ua`` and ``ub`` (a real eigenvalue crossed zero without a
    fold), located by Gauss-Newton on its defining system
    (:mod:`~hhanalysis.continuation.problems.branch_point`); a guess if that fails or lands
    outside the step."""
    u, _ = _interpolate(ua, ub, 0.0, 1.0)
    t = np.asarray(ta) / np.linalg.norm(ta)  # the branch it was approached on (past a BP the
    # continuation may have gone on along the other one)
    width = float(abs(ub[-1] - ua[-1]))
    y, _, step, res = locate_branch_point(cm, k, p0, u)
    scale = 1.0 + np.abs(u).max()
    inside = np.linalg.norm(y - u) <= np.linalg.norm(ub - ua) + 1e-12 * scale
    if res < 1e-9 * scale and np.all(np.isfinite(y)) and inside:
        return SpecialPoint("bp", int(index), float(y[-1]), y[:-1], Status.CONVERGED,
                            float(step), data=BranchPointData(t))
    return SpecialPoint("bp", int(index), float(u[-1]), u[:-1], Status.GUESS, width,
                        message="a real eigenvalue crossed zero without a fold; Gauss-Newton "
                                f"on the branch-point system did not converge (residual "
                                f"{res:.1e})", data=BranchPointData(t))


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def _end_at(cm, k, p0, ua, ub, target):
    """The equilibrium at param == target, by Newton from the interpolation of ua, ub."""
    w = (target - ua[-1]) / (ub[-1] - ua[-1])
    x = ua[:-1] + w * (ub[:-1] - ua[:-1])
    p = np.asarray(p0).copy()
    p[k] = target
    for _ in range(8):
        x = x - np.linalg.solve(np.asarray(cm.jac_x(x, p)), np.asarray(cm.f(x, p)))
    return np.concatenate([x, [target]])


class _Hooks(driver.Hooks):
    """Equilibria between chunks: no end test and no adaptation; the first point past the
    window is replaced by the equilibrium on the bound (Newton in x at fixed parameter); a
    progress bar advances with the parameter."""

    def __init__(self, cm, k, p0, bar):
        self.cm, self.k, self.p0, self.bar = cm, k, p0, bar

    def accepted(self, before, points, args):
        if self.bar is not None:
            lam = np.concatenate([[float(before[0][-1])], points.u[:, -1]])
            step = float(np.sum(np.abs(np.diff(lam))))  # past folds and the bound: clamp
            self.bar.update(max(0.0, min(step, self.bar.total - self.bar.n)))

    def at_bound(self, base, last, edge, args):
        u = _end_at(self.cm, self.k, self.p0, np.asarray(base[0]), last.u[0], edge)
        return dataclasses.replace(last, u=u[None])


def _state_index(model, name: str) -> int:
    """Index of state ``name``; ``ValueError`` listing the states if there is none."""
    if name not in model.state_names:
        raise ValueError(f"unknown state {name!r} of {model.name}; states: "
                         f"{list(model.state_names)}")
    return model.state_names.index(name)


@float64
def continue_equilibria(
    model: ODEModel,
    param: str,
    start: float | SpecialPoint,
    stop: float,
    *,
    settings: ContinuationSettings | None = None,
    equilibrium: int = 0,
    box: dict | None = None,
    method: str = "auto",
    progress: bool = False,
    throw: bool = False,
    **fixed_params,
) -> EquilibriumBranch:
    """Follow a branch of equilibria in ``param`` from ``start`` towards ``stop``.

    Arguments:
        model: the model.
        param: name of the continuation parameter.
        start: parameter value where the branch starts (an equilibrium is found there with
            :func:`~hhanalysis.find_equilibria`); or a branch point (``'bp'``) of another
            equilibrium branch in ``param``: the *other* branch through it is continued
            (branch switching; its direction from the algebraic bifurcation equation of
            :mod:`~hhanalysis.continuation.problems.branch_point`), the parameters fixed at
            the point's values unless given in ``fixed_params``.
        stop: the branch ends when the parameter leaves the interval between start and stop.
        settings: :class:`ContinuationSettings` (defaults: AUTO-like).
        equilibrium: which equilibrium at ``start`` (index in order of the first state).
        box, method: how the equilibria at ``start`` are found (the ``box`` and ``method`` of
            :func:`~hhanalysis.find_equilibria`: 'auto', 'reduction' or 'newton').
        progress: show a progress bar (tqdm).
        throw: raise :class:`~hhanalysis.continuation.results.ContinuationError` when the
            corrector fails (``status`` STEP_TOO_SMALL) instead of returning the partial branch.
        **fixed_params: values of the other parameters.

    Returns:
        :class:`EquilibriumBranch`; it always holds the points computed so far, and
        ``status`` (a :class:`~hhanalysis.continuation.results.Status`: REACHED_BOUND,
        RETURNED_TO_START, MAX_STEPS or STEP_TOO_SMALL) and ``stop_reason`` tell why it ended.

    Raises:
        ValueError: unknown parameter names, non-finite start/stop, start == stop, or no
            equilibrium at ``start``.
        ContinuationError: with ``throw=True``, when the corrector failed at ``ds_min``.
    """
    settings = settings or ContinuationSettings()
    model.check_param_names([param], "continuation parameter")
    if param in fixed_params:
        raise ValueError(f"{param!r} is the continuation parameter; do not also fix it")
    if isinstance(start, SpecialPoint):
        return _switch_at_bp(model, param, start, stop, settings, progress, throw, fixed_params)
    for name, v in (("start", start), ("stop", stop)):
        if not isinstance(v, (int, float, np.floating, np.integer)) or not math.isfinite(v):
            raise ValueError(f"{name} must be a finite number, got {v!r}")
    if start == stop:
        raise ValueError(f"start and stop must differ, both are {start}")
    model.check_param_range(param, start, stop, "start/stop")  # e.g. C through 0
    p0 = model.param_vector(**fixed_params)  # the parameters, kept apart from the model
    eqs = find_equilibria(model, box, method=method, **{**fixed_params, param: float(start)})
    if not -len(eqs) <= equilibrium < len(eqs) or len(eqs) == 0:
        raise ValueError(
            f"no equilibrium number {equilibrium} at {param}={start}: found {len(eqs)} "
            f"({eqs.message or 'in the box'})"
        )
    cm = model.compile()
    k = cm.param_index(param)
    problem = _equilibrium_problem(cm, k)
    u0 = np.concatenate([eqs.x[equilibrium], [float(start)]])
    args = device_array(p0)
    t0 = initial_tangent(problem, u0, args, 1.0 if stop > start else -1.0)
    return _branch(model, cm, k, param, p0, driver.Points.one(u0, t0, np.zeros(0)), start,
                   stop, settings, progress, throw)


def _switch_at_bp(model, param, bp: SpecialPoint, stop, settings, progress, throw,
                  fixed_params) -> EquilibriumBranch:
    """The other equilibrium branch through the branch point ``bp`` (see
    :func:`continue_equilibria`)."""
    if bp.kind != "bp" or not isinstance(bp.data, BranchPointData):
        raise ValueError(f"start: a number or a branch point ('bp') of an equilibrium branch, "
                         f"got a {bp.kind!r} point")
    if bp.param_name and bp.param_name != param:
        raise ValueError(f"param = {param!r}: the branch point lies on a branch in "
                         f"{bp.param_name!r}")
    if not isinstance(stop, (int, float, np.floating, np.integer)) or not math.isfinite(stop) \
            or stop == bp.param:
        raise ValueError(f"stop must be a finite number other than the branch point's "
                         f"{param}={bp.param:g}, got {stop!r}")
    model.check_param_range(param, bp.param, stop, "start/stop")
    fixed = {**{name: v for name, v in bp.params.items() if name != param}, **fixed_params}
    p0 = model.param_vector(**fixed)
    cm = model.compile()
    k = cm.param_index(param)
    u = np.concatenate([np.asarray(bp.state, float), [float(bp.param)]])
    if bp.status is not Status.CONVERGED or fixed_params:
        u, _, _, res = locate_branch_point(cm, k, device_array(p0), u)
        if not res < 1e-9 * (1.0 + np.abs(u).max()):
            raise ValueError(f"start: no branch point near {param}={bp.param:g} "
                             f"(Gauss-Newton residual {res:.1e})")
    d = other_branch(cm, k, p0, u, bp.data.tangent)
    if abs(d[-1]) > 1e-8 and np.sign(d[-1]) != np.sign(stop - u[-1]):
        d = -d  # towards stop (a pitchfork's new branch starts at right angles: either way)
    problem = _equilibrium_problem(cm, k)
    palc = PALC(problem, settings, 64)  # the chunk length of driver.run: one compile
    u1, t1, ok, it, _ = palc.single_step(jnp.asarray(u), jnp.asarray(d), abs(settings.ds),
                                         device_array(p0))
    if not ok:
        raise ValueError(f"start: the corrector found no other branch next to the branch "
                         f"point at {param}={u[-1]:.10g}")
    start = driver.Points.concat([driver.Points.one(u, d, np.zeros(0)),
                                  driver.Points.one(u1, t1, np.zeros(0), it, settings.ds)])
    return _branch(model, cm, k, param, p0, start, float(u[-1]), stop, settings, progress,
                   throw, from_bp=True)


def _branch(model, cm, k, param, p0, start_points, start, stop, settings, progress, throw,
            from_bp: bool = False) -> EquilibriumBranch:
    """Continue from ``start_points`` within [start, stop] and build the branch."""
    problem = _equilibrium_problem(cm, k)
    args = device_array(p0)
    lo, hi = min(start, stop), max(start, stop)
    bar = _progress(progress, lo, hi)
    raw = driver.run(problem, start_points, args, settings, window=(lo, hi),
                     hooks=_Hooks(cm, k, p0, bar))
    if bar is not None:
        bar.close()
    end = raw.stop
    if end.status is Status.REACHED_BOUND and end.param != stop:
        end = dataclasses.replace(end, status=Status.RETURNED_TO_START)
    Ua, Ta = raw.u, raw.tangent
    size = max(64, 1 << (len(Ua) - 1).bit_length())  # padded: few distinct compiled shapes
    padded = np.concatenate([Ua, np.repeat(Ua[-1:], size - len(Ua), axis=0)])
    L = np.asarray(_spectra(cm, k)(padded, args))[:len(Ua)]
    specials = [
        dataclasses.replace(sp, param_name=param,
                            params={**dict(zip(model.param_names, map(float, p0))),
                                    param: sp.param})
        for sp in _detect(model, cm, k, p0, Ua, Ta, L)
        if not (from_bp and sp.index == 0 and sp.kind in ("bp", "fold"))]  # the start itself
    lam_all = np.take_along_axis(L, spectrum_order(L), axis=-1)
    branch = EquilibriumBranch(
        model=model,
        param_name=param,
        param=Ua[:, -1],
        x=Ua[:, :-1],
        eigenvalues=lam_all,
        stable=np.all(lam_all.real < 0, axis=1),
        newton_iterations=raw.newton_iterations,
        ds=raw.ds,
        special_points=tuple(specials),
        stop=end,
        settings=settings,
        params={**dict(zip(model.param_names, map(float, p0))), param: float(start)},
    )
    if throw and end.status is Status.STEP_TOO_SMALL:
        raise ContinuationError(branch.stop_reason, end.status, branch)
    return branch


def _progress(enabled: bool, lo: float, hi: float):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=hi - lo, desc="equilibria", unit="param",
                bar_format="{l_bar}{bar}| {n:.3g}/{total:.3g} [{elapsed}]")
