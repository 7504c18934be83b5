r"""Pseudo-arclength continuation (PALC) of the zero set of any residual.

A continuation problem is a smooth map :math:`F: \mathbb R^{N+1} \to \mathbb R^N` whose zero set
near a regular point is a curve :math:`u(s)`. One step from :math:`(u_k, \tau_k)`
(:math:`\|\tau_k\| = 1`, :math:`DF(u_k)\tau_k = 0`) with step :math:`\Delta s`:

* **predictor** :math:`u^{(0)} = u_k + \Delta s\,\tau_k + \tfrac12\Delta s^2\kappa_k` with the
  curvature :math:`\kappa_k = (\tau_k - \tau_{k-1})/\Delta s_{k-1}` of the previous step (zero
  for the first step of a chunk, and dropped when
  :math:`\|\tfrac12\Delta s^2\kappa_k\| > 0.1|\Delta s|`, where the branch turns too fast for
  it), which cuts Newton iterations and steps by ~20 %;
* **corrector**: Newton on the bordered system
  :math:`F(u) = 0,\ \tau_k^T(u - u^{(0)}) = 0`, i.e. iterate
  :math:`\begin{pmatrix} DF(u) \\ \tau_k^T \end{pmatrix}\delta = -\begin{pmatrix} F(u) \\
  \tau_k^T(u - u^{(0)})\end{pmatrix}` until
  :math:`\|\delta\|_\infty \le \text{tol}\,(1 + \|u\|_\infty)`;
* **tangent** at the new point: :math:`\begin{pmatrix} DF \\ \tau_k^T\end{pmatrix}\tau = e_{N+1}`,
  normalised, which keeps the orientation through folds;
* **step control**: a step that needs fewer Newton iterations than ``target_newton_iterations``
  grows :math:`|\Delta s|` by ``grow`` (up to ``ds_max``), more shrinks it by ``shrink``; a
  failed corrector halves it and retries; below ``ds_min`` the continuation stops and says so.

Steps (with their retries) run in jitted chunks of a ``lax.while_loop``; :class:`PALC` iterates
over them from Python, one yielded :class:`ContinuationStep` per accepted point, so callers can
inspect, stop or resume a branch while paying one dispatch per chunk, not per step.
The engine knows nothing of equilibria or cycles: the equilibrium and periodic-orbit continuations
are thin problem definitions on top of it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import jax.scipy.linalg
import numpy as np

from .._trace_cache import cached_jit, device_array

__all__ = ["ContinuationSettings", "ContinuationProblem", "ContinuationStep", "Chunk", "PALC",
           "initial_tangent"]


@dataclass(frozen=True)
class ContinuationSettings:
    """Settings of pseudo-arclength continuation (defaults follow AUTO-07p's usual values).

    Attributes:
        ds: initial step (AUTO's DS); its sign is taken from the requested direction.
        ds_min: smallest step; below it the continuation stops (DSMIN).
        ds_max: largest step (DSMAX).
        max_steps: most points to compute (NMX).
        newton_tol: corrector convergence, :math:`\\|\\delta\\|_\\infty \\le` tol
            :math:`(1 + \\|u\\|_\\infty)` (EPSL / EPSU).
        max_newton_iterations: corrector iterations before a step counts as failed (ITNW).
        target_newton_iterations: iterations of an ideal step; fewer grow the step (NWTN).
        grow: step growth factor on easy convergence (> 1).
        shrink: step reduction factor on slow convergence (in (0, 1)).
    """

    ds: float = 0.01
    ds_min: float = 1e-6
    ds_max: float = 0.5
    max_steps: int = 2000
    newton_tol: float = 1e-10
    max_newton_iterations: int = 8
    target_newton_iterations: int = 3
    grow: float = 1.5
    shrink: float = 0.7

    def __post_init__(self):
        def bad(field, value, allowed):
            raise ValueError(f"ContinuationSettings.{field} = {value!r}: must be {allowed}")

        for name in ("ds", "ds_min", "ds_max", "newton_tol", "grow", "shrink"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not math.isfinite(v):
                bad(name, v, "a finite number")
        if self.ds_min <= 0:
            bad("ds_min", self.ds_min, "> 0")
        if not self.ds_min <= abs(self.ds) <= self.ds_max:
            bad("ds", self.ds, f"ds_min <= |ds| <= ds_max = [{self.ds_min}, {self.ds_max}]")
        if self.newton_tol <= 0:
            bad("newton_tol", self.newton_tol, "> 0")
        if int(self.max_steps) != self.max_steps or self.max_steps < 1:
            bad("max_steps", self.max_steps, "a positive integer")
        if int(self.max_newton_iterations) != self.max_newton_iterations or \
                self.max_newton_iterations < 1:
            bad("max_newton_iterations", self.max_newton_iterations, "a positive integer")
        if not 1 <= self.target_newton_iterations <= self.max_newton_iterations:
            bad("target_newton_iterations", self.target_newton_iterations,
                "between 1 and max_newton_iterations")
        if self.grow <= 1:
            bad("grow", self.grow, "> 1")
        if not 0 < self.shrink < 1:
            bad("shrink", self.shrink, "in (0, 1)")


@dataclass(frozen=True, eq=False)
class ContinuationProblem:
    r"""The zero set of ``residual`` to follow.

    Each function also takes ``args``, a pytree of arrays fixed along the branch (e.g. the other
    parameters); passing them at run time, not closing over them, lets one compiled step serve
    every branch of the same problem.

    Attributes:
        residual: :math:`F(u, args)`, ``(N+1,) -> (N,)``, traceable by JAX; with
            ``uses_reference`` it is :math:`F(u, args, u_{ref})`, where :math:`u_{ref}` is the
            last accepted point (e.g. the orbit a phase condition refers to).
        jacobian: :math:`DF`, ``(N, N+1)``, same arguments; by default ``jax.jacfwd(residual)``.
        solve: optional structured solver of the bordered system
            :math:`\begin{pmatrix} DF(u) \\ c^T \end{pmatrix}\delta = b`, called as
            ``solve(u, args, ref, c, b)``; by default a dense solve of the assembled matrix.
        uses_reference: whether ``residual``, ``jacobian`` take the reference point.
        solve_aux: ``solve`` returns ``(delta, aux)``; the ``aux`` of the tangent solve at an
            accepted point is returned with the point as its *monitor* (a free by-product of
            the factorisation, e.g. the monodromy matrix of a periodic orbit).
        weights: optional ``weights(args) -> (N+1,)`` positive weights :math:`\theta` of the
            arclength norm :math:`\|u\|_\theta^2 = \sum_i \theta_i u_i^2` (AUTO's THU/THL; a
            zero weight leaves a component out of the step length).
        tangent_from_newton: ``solve`` accepts several right-hand sides (``b`` of shape
            ``(N+1, k)``); every corrector iteration then also solves for the tangent,
            :math:`[DF(u_k); (\theta t)^T]\tau = e_{N+1}`, and the tangent of the new point is
            the one of the last iteration (its Jacobian is within the Newton tolerance of the
            converged point): one factorisation per step less.
        stop: optional ``stop(u, args) -> bool``, tested at every 8th accepted point of a chunk:
            the chunk ends after one where it holds (status STOPPED), e.g. past a codim-2 point
            (up to 7 steps past it) where the curve changes
            meaning; the driver's hooks decide what it means (a chunk that ended so and whose
            points the hooks keep goes on with the next chunk).
        residual_jacobian: optional ``(u, args) -> (F, DF)``, both at once (they share work,
            e.g. the factorisation of a bordered matrix); the corrector then uses it instead
            of ``residual`` and ``jacobian`` (same values; with the dense solve only), at the
            predicted point only: the later iterations of a step reuse that Jacobian's
            factorisation (the chord method, :func:`_make_chord_corrector`).
        newton_solve: optional ``(u, args, ref, c, r) -> (delta, tau, aux)``, with
            ``tangent_from_newton``: one corrector iteration's two solves,
            :math:`[DF(u); c^T]\,(\delta, \tau) = ((F(u), r), e_{N+1})`, with the residual
            :math:`F(u)` evaluated inside (same values as ``residual`` and ``solve``). For a
            residual that is itself a by-product of the factorisation, e.g. the test function
            of a minimally augmented system, which ``residual`` alone would pay one more
            factorisation for; the corrector then never calls ``residual``.
    """

    residual: Callable
    jacobian: Callable | None = None
    solve: Callable | None = None
    uses_reference: bool = False
    solve_aux: bool = False
    weights: Callable | None = None
    tangent_from_newton: bool = False
    stop: Callable | None = None
    residual_jacobian: Callable | None = None
    newton_solve: Callable | None = None

    def __post_init__(self):
        if self.residual_jacobian is not None and (self.solve is not None or
                                                   self.uses_reference):
            raise ValueError("residual_jacobian goes with the dense solve and no reference point")
        if self.newton_solve is not None and not (self.tangent_from_newton and self.solve_aux):
            raise ValueError("newton_solve goes with tangent_from_newton and solve_aux")

    def F(self, u, args, ref):
        return self.residual(u, args, ref) if self.uses_reference else self.residual(u, args)

    def dF(self, u, args, ref=None):
        jac = self.jacobian or jax.jacfwd(self.residual)
        return jac(u, args, ref) if self.uses_reference else jac(u, args)

    def bordered_solve(self, u, args, ref, c, b):
        r"""Solve :math:`[DF(u); c^T]\,\delta = b`."""
        return self.bordered_solve_aux(u, args, ref, c, b)[0]

    def bordered_solve_aux(self, u, args, ref, c, b):
        """:meth:`bordered_solve` and the solver's by-product (None without ``solve_aux``)."""
        if self.solve is not None:
            r = self.solve(u, args, ref, c, b)
            return r if self.solve_aux else (r, None)
        return jnp.linalg.solve(jnp.vstack([self.dF(u, args, ref), c[None, :]]), b), None

    def theta(self, u, args):
        """Arclength weights (ones by default)."""
        return jnp.ones_like(u) if self.weights is None else self.weights(args)

    def normalise(self, t, args):
        return t / jnp.sqrt(jnp.sum(self.theta(t, args) * t * t))

    def point_monitor(self, u, aux):
        return aux if self.solve_aux else jnp.zeros(0, u.dtype)


@dataclass(frozen=True)
class ContinuationStep:
    r"""One accepted point of a branch.

    Attributes:
        u: the point :math:`(x, \lambda)`; tangent: the unit tangent there.
        ds: the step that reached it; newton_iterations: corrector iterations it took.
        residual: :math:`\|F(u)\|_\infty`.
        monitor: the solver's by-product at ``u`` (None without ``solve_aux``).
    """

    u: np.ndarray
    tangent: np.ndarray
    ds: float
    newton_iterations: int
    residual: float
    monitor: np.ndarray | None = None


def _unit_last(u):
    return jnp.zeros_like(u).at[-1].set(1.0)


def _tangent(problem, u, t_prev, args):
    r"""Unit tangent at ``u`` oriented like ``t_prev``,
    :math:`[DF; (\theta t_{prev})^T]\tau = e_{N+1}`, and the solver's by-product."""
    row = problem.theta(u, args) * t_prev
    t, aux = problem.bordered_solve_aux(u, args, u, row, _unit_last(u))
    return problem.normalise(t, args), aux


@functools.cache
def _tangent_at(problem: ContinuationProblem):
    def tangent(u0, args):
        e = _unit_last(u0)
        return problem.normalise(problem.bordered_solve(u0, args, u0, e, e), args)

    return cached_jit(tangent)


def _aux_like(problem, u, t, args):
    """Shapes and dtypes of the solver's by-product at a point like ``u`` (traced once per
    runner: the tangent solve and the Newton solve of a step return the same by-product, the
    while loops of a step require it)."""
    return jax.eval_shape(lambda: _tangent(problem, u, t, args)[1])


def _zeros_like(like):
    return jax.tree_util.tree_map(lambda a: jnp.zeros(a.shape, a.dtype), like)


def initial_tangent(problem: ContinuationProblem, u0, args, direction: float = 1.0):
    """Unit tangent at ``u0`` whose last (parameter) component has the sign of ``direction``."""
    return np.sign(direction) * np.asarray(_tangent_at(problem)(device_array(u0), args))


def _make_chord_corrector(problem: ContinuationProblem, s: ContinuationSettings):
    r"""The corrector of problems with ``residual_jacobian``: Newton's first iteration at the
    predicted point :math:`u^{(0)}` assembles and factorises
    :math:`K = \begin{pmatrix} DF(u^{(0)}) \\ \tau_k^T \end{pmatrix}`; the later ones reuse
    that LU (the chord method, as AUTO-07p keeps its Jacobian after NWTN iterations) and
    evaluate only :math:`F`, until :math:`\|\delta\|_\infty \le \text{tol}\,(1 +
    \|u\|_\infty)` as in Newton. The iterate after the first is within
    :math:`e_1 = O(e_0^2)` of the point (:math:`e_0`: the predictor's error), and the chord step
    from there differs from Newton's by :math:`O(e_0 e_1)`, far below the tolerance: the same
    points for one Jacobian (and its transposed bordered solve) and one LU per step less; along
    the Hopf curve of the HH model a step takes two iterations, so the second costs half.
    With ``tangent_from_newton`` the tangent is the first iteration's, solved with the same LU
    (:math:`K\tau = e_{N+1}`): its Jacobian is within :math:`e_0` of the new point's (~1e-7
    relative on that curve), an error that only enters the next predictor."""
    tol = s.newton_tol
    lu_solve = jax.scipy.linalg.lu_solve

    def corrector(u_pred, row, args, ref, aux_like):
        e = _unit_last(u_pred)
        F, DF = problem.residual_jacobian(u_pred, args)
        lu = jax.scipy.linalg.lu_factor(jnp.vstack([DF, row[None, :]]))
        G = jnp.concatenate([F, jnp.zeros(1, F.dtype)])  # row @ (u_pred - u_pred) = 0
        if problem.tangent_from_newton:
            sol = lu_solve(lu, jnp.stack([G, e], 1))
            du, t = sol[:, 0], sol[:, 1]
        else:
            du, t = lu_solve(lu, G), e

        def update(u, du):
            u_new = u - du
            dnorm = jnp.max(jnp.abs(du)) / (1.0 + jnp.max(jnp.abs(u_new)))
            return u_new, dnorm, jnp.all(jnp.isfinite(u_new))

        def cond(c):
            _, it, dnorm, ok = c
            return ok & (it < s.max_newton_iterations) & (dnorm > tol)

        def body(c):
            u, it, _, _ = c
            G = jnp.concatenate([problem.F(u, args, ref), jnp.atleast_1d(row @ (u - u_pred))])
            u_new, dnorm, ok = update(u, lu_solve(lu, G))
            return u_new, it + 1, dnorm, ok

        u1, dnorm1, ok1 = update(u_pred, du)
        u, it, dnorm, ok = jax.lax.while_loop(cond, body, (u1, jnp.asarray(1), dnorm1, ok1))
        aux = (_zeros_like(aux_like) if problem.tangent_from_newton
               else jnp.zeros(0, u_pred.dtype))  # as the Newton corrector's
        return u, it, ok & (dnorm <= tol), t, aux

    return corrector


def _make_corrector(problem: ContinuationProblem, s: ContinuationSettings):
    """Newton on ``F(u) = 0, row @ (u - u_pred) = 0``; the phase reference is ``ref`` (steps
    pass the predicted point: an orbit next to the solution, and non-trivial even when the
    step starts from the trivial orbit at a Hopf point)."""
    tol = s.newton_tol

    def corrector(u_pred, row, args, ref, aux_like):
        """Returns ``(u, iterations, converged, tangent, aux)``; tangent and aux are those of the
        last iteration (None-like zeros unless ``problem.tangent_from_newton``). ``aux_like``:
        the shapes of the solver's by-product (:func:`_aux_like`)."""
        joint = problem.tangent_from_newton
        e = _unit_last(u_pred)

        def cond(c):
            _, it, dnorm, ok, _, _ = c
            return ok & (it < s.max_newton_iterations) & (dnorm > tol)

        def body(c):
            u, it, _, _, _, _ = c
            if problem.newton_solve is not None:
                du, t, aux = problem.newton_solve(u, args, ref, row, row @ (u - u_pred))
                u_new = u - du
                dnorm = jnp.max(jnp.abs(du)) / (1.0 + jnp.max(jnp.abs(u_new)))
                return u_new, it + 1, dnorm, jnp.all(jnp.isfinite(u_new)), t, aux
            G = jnp.concatenate([problem.F(u, args, ref), jnp.atleast_1d(row @ (u - u_pred))])
            if joint:
                sol, aux = problem.bordered_solve_aux(u, args, ref, row, jnp.stack([G, e], 1))
                du, t = sol[:, 0], sol[:, 1]
            else:
                du, t, aux = problem.bordered_solve(u, args, ref, row, G), e, aux0
            u_new = u - du
            dnorm = jnp.max(jnp.abs(du)) / (1.0 + jnp.max(jnp.abs(u_new)))
            ok = jnp.all(jnp.isfinite(u_new))
            return u_new, it + 1, dnorm, ok, t, aux

        if joint:
            aux0 = _zeros_like(aux_like)
        else:
            aux0 = jnp.zeros(0, u_pred.dtype)
        u, it, dnorm, ok, t, aux = jax.lax.while_loop(
            cond, body, (u_pred, jnp.asarray(0), jnp.asarray(jnp.inf), jnp.asarray(True), e,
                         aux0))
        return u, it, ok & (dnorm <= tol), t, aux

    return corrector


@functools.cache
def _make_step(problem: ContinuationProblem, s: ContinuationSettings):
    """One PALC step with retries (not jitted on its own: it runs inside the chunk loop)."""
    corrector = (_make_corrector if problem.residual_jacobian is None
                 else _make_chord_corrector)(problem, s)

    def step(u, t, ds, args, curvature, aux_like):
        def attempt(c):
            u, t, ds, _, _, _, aux = c
            bend = 0.5 * ds * ds * curvature
            # trust the quadratic term only while it is small against the step (where the branch
            # turns fast, e.g. in a canard explosion, it would overshoot)
            small = jnp.sqrt(jnp.sum(problem.theta(u, args) * bend * bend)) <= 0.1 * jnp.abs(ds)
            u_pred = u + ds * t + jnp.where(small, bend, 0.0)
            u_new, it, ok, t_new, aux = corrector(u_pred, problem.theta(u, args) * t, args,
                                                  u_pred, aux_like)
            if problem.tangent_from_newton:
                t_new = problem.normalise(t_new, args)
            else:
                t_new, aux = _tangent(problem, u_new, t, args)
            ok = ok & jnp.all(jnp.isfinite(t_new))
            ds_next = jnp.where(ok, ds, 0.5 * ds)
            return u, t, ds_next, u_new, t_new, jnp.where(ok, it, -1), aux

        def cond(c):
            _, _, ds, _, _, it, _ = c
            return (it < 0) & (jnp.abs(ds) >= s.ds_min)

        init = (u, t, ds, u, t, jnp.asarray(-1), _zeros_like(aux_like))
        _, _, ds_used, u_new, t_new, it, aux = jax.lax.while_loop(cond, attempt, init)
        success = it >= 0
        grow = jnp.where(it < s.target_newton_iterations, s.grow,
                         jnp.where(it > s.target_newton_iterations, s.shrink, 1.0))
        ds_next = jnp.sign(ds_used) * jnp.clip(jnp.abs(ds_used) * grow, s.ds_min, s.ds_max)
        return success, u_new, t_new, ds_used, ds_next, it, aux

    return step


#: Status codes of a chunk of steps.
RUNNING, FAILED, LEFT_WINDOW, STOPPED = 0, 1, 2, 3
#: steps between two tests of ``ContinuationProblem.stop`` in a chunk
_STOP_EVERY = 8


@functools.cache
def _make_runner(problem: ContinuationProblem, s: ContinuationSettings, chunk: int,
                 window_index: int = -1):
    """Jitted loop of up to ``chunk`` steps; stops early on failure, when component
    ``window_index`` of a new point leaves the window (a tuple of components: when any leaves
    its window; ``lo``, ``hi`` are then arrays), or where ``problem.stop`` holds."""
    step = _make_step(problem, s)
    several = isinstance(window_index, tuple)

    def run(u, t, ds, args, lo, hi, n_max):
        n1 = u.shape[0]
        aux_like = _aux_like(problem, u, t, args)
        m0 = jax.eval_shape(lambda: problem.point_monitor(u, _zeros_like(aux_like)))
        init = (jnp.asarray(0), u, t, ds, jnp.asarray(RUNNING),
                jnp.zeros((chunk, n1), u.dtype), jnp.zeros((chunk, n1), u.dtype),
                jnp.zeros(chunk, jnp.int32), jnp.zeros(chunk, u.dtype),
                jnp.zeros((chunk,) + m0.shape, m0.dtype), jnp.zeros_like(u))

        def cond(c):
            return (c[0] < jnp.minimum(chunk, n_max)) & (c[4] == RUNNING)

        def body(c):
            i, u, t, ds, _, U, T, IT, DS, MON, curv = c
            success, u_new, t_new, ds_used, ds_next, it, aux = step(u, t, ds, args, curv,
                                                                    aux_like)
            if several:
                comp = u_new[np.asarray(window_index)]
                outside = jnp.any((comp < lo) | (comp > hi))
            else:
                outside = (u_new[window_index] < lo) | (u_new[window_index] > hi)
            going = RUNNING
            if problem.stop is not None:  # tested every _STOP_EVERY steps (it may cost a step)
                test = (i % _STOP_EVERY == _STOP_EVERY - 1) & success
                going = jnp.where(jax.lax.cond(test, problem.stop, lambda *_: False, u_new, args),
                                  STOPPED, RUNNING)
            status = jnp.where(success, jnp.where(outside, LEFT_WINDOW, going), FAILED)
            U = U.at[i].set(u_new)
            T = T.at[i].set(t_new)
            IT = IT.at[i].set(it.astype(jnp.int32))
            DS = DS.at[i].set(ds_used)
            MON = MON.at[i].set(problem.point_monitor(u_new, aux))
            n = jnp.where(success, i + 1, i)
            curv_new = jnp.where(success, (t_new - t) / ds_used, 0.0)
            return (n, jnp.where(success, u_new, u), jnp.where(success, t_new, t),
                    jnp.where(success, ds_next, ds), status, U, T, IT, DS, MON, curv_new)

        return jax.lax.while_loop(cond, body, init)[:-1]

    return cached_jit(run)


@functools.cache
def _residuals(problem: ContinuationProblem):
    r"""Jitted :math:`\|F(u)\|_\infty` at each of a chunk's points (for :meth:`PALC.steps`;
    the chunks themselves do not spend a residual evaluation per step on it)."""
    return jax.jit(jax.vmap(lambda u, args: jnp.max(jnp.abs(problem.F(u, args, u))),
                            in_axes=(0, None)))


@dataclass(frozen=True)
class Chunk:
    """Up to ``chunk`` consecutive accepted steps (arrays of length ``n``) and where they ended.

    Attributes:
        u, tangent, newton_iterations, ds, monitor: per-step arrays.
        status: RUNNING (all steps done), FAILED, LEFT_WINDOW or STOPPED.
        u_last, t_last, ds_next: the state to continue from.
    """

    u: np.ndarray
    tangent: np.ndarray
    newton_iterations: np.ndarray
    ds: np.ndarray
    monitor: np.ndarray
    status: int
    u_last: jax.Array
    t_last: jax.Array
    ds_next: jax.Array

    def __len__(self):
        return self.u.shape[0]


class PALC:
    """Pseudo-arclength continuation of a :class:`ContinuationProblem`.

    Iterating ``PALC(problem, settings).steps(u0, t0, args)`` yields one
    :class:`ContinuationStep` per accepted point (``u0`` itself is not yielded). Steps are
    computed in jitted chunks of ``chunk`` steps (one dispatch per chunk, not per step); the
    iterator ends when the corrector fails even at ``ds_min`` (then :attr:`failure` says why),
    after ``max_steps`` points, or after the first point whose component ``window_index``
    (default: the last, the parameter) lies outside ``window`` (a tuple of components: when any
    leaves its window, ``window = (lows, highs)``). :meth:`run_chunk` is the
    underlying one-chunk call, for drivers that change ``args`` between chunks (e.g. a new
    collocation mesh): :func:`hhanalysis.continuation.driver.run`.
    """

    def __init__(self, problem: ContinuationProblem, settings: ContinuationSettings,
                 chunk: int = 64, window_index: int = -1):
        self.problem = problem
        self.settings = settings
        self.chunk = int(chunk)
        self.window_index = (tuple(int(i) for i in window_index)
                             if isinstance(window_index, (tuple, list)) else int(window_index))
        self._run = _make_runner(problem, settings, self.chunk, self.window_index)
        self.failure: str | None = None

    def run_chunk(self, u, t, ds, args, window=(-math.inf, math.inf),
                  max_points: int | None = None) -> Chunk:
        """Up to ``min(chunk, max_points)`` steps from ``(u, t)`` with initial step ``ds``."""
        # host inputs as NumPy arrays: jnp.asarray costs ~0.1 ms each, the jitted call converts
        u = np.asarray(u)
        lo, hi = (np.asarray(v, dtype=u.dtype) for v in window)
        n_max = np.asarray(self.chunk if max_points is None else max_points, dtype=np.int64)
        n, u, t, ds, status, U, T, IT, DS, MON = self._run(
            u, np.asarray(t), np.asarray(ds, dtype=u.dtype), args, lo, hi, n_max)
        n = int(n)
        return Chunk(*(np.asarray(a)[:n] for a in (U, T, IT, DS, MON)), status=int(status),
                     u_last=u, t_last=t, ds_next=ds)

    def single_step(self, u, t, ds: float, args):
        """One step of exactly ``ds`` (no growth; a step the corrector cannot take at ``ds``
        fails rather than shrinking). Uses the chunk runner, so it costs no extra compile.

        Returns ``(u_new, t_new, ok, newton_iterations, monitor)``.
        """
        c = self.run_chunk(u, t, ds, args, max_points=1)
        ok = len(c) == 1 and abs(float(c.ds[0]) - ds) <= 1e-12 * abs(ds)
        if not ok:
            return u, t, False, -1, None
        return c.u[0], c.tangent[0], True, int(c.newton_iterations[0]), c.monitor[0]

    def failure_message(self, u) -> str:
        s = self.settings
        first = self.window_index[0] if isinstance(self.window_index, tuple) else \
            self.window_index
        return (f"step size below ds_min={s.ds_min:g} at param={float(u[first]):.10g}: "
                f"Newton did not converge in {s.max_newton_iterations} iterations")

    def steps(self, u0, t0, args, ds: float | None = None,
              window: tuple[float, float] = (-math.inf, math.inf)) -> Iterator[ContinuationStep]:
        s = self.settings
        u, t = jnp.asarray(u0), jnp.asarray(t0)
        ds = abs(s.ds if ds is None else ds)
        self.failure = None
        done = 0
        while done < s.max_steps:
            c = self.run_chunk(u, t, ds, args, window)
            mon = c.monitor if self.problem.solve_aux else [None] * len(c)
            res = np.asarray(_residuals(self.problem)(c.u, args)) if len(c) else []
            for i in range(min(len(c), s.max_steps - done)):
                yield ContinuationStep(u=c.u[i], tangent=c.tangent[i], ds=float(c.ds[i]),
                                       newton_iterations=int(c.newton_iterations[i]),
                                       residual=float(res[i]), monitor=mon[i])
            done += len(c)
            u, t, ds = c.u_last, c.t_last, c.ds_next
            if c.status == FAILED:
                self.failure = self.failure_message(u)
                return
            if c.status == LEFT_WINDOW:
                return
