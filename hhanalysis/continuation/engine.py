r"""Pseudo-arclength continuation (PALC) of the zero set of any residual.

A continuation problem is a smooth map :math:`F: \mathbb R^{N+1} \to \mathbb R^N` whose zero set
near a regular point is a curve :math:`u(s)`. One step from :math:`(u_k, \tau_k)`
(:math:`\|\tau_k\| = 1`, :math:`DF(u_k)\tau_k = 0`) with step :math:`\Delta s`:

* **predictor** :math:`u^{(0)} = u_k + \Delta s\,\tau_k`;
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
import numpy as np

__all__ = ["ContinuationSettings", "ContinuationProblem", "ContinuationStep", "PALC",
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
    """The zero set of ``residual`` to follow.

    Each function also takes ``args``, a pytree of arrays fixed along the branch (e.g. the other
    parameters); passing them at run time, not closing over them, lets one compiled step serve
    every branch of the same problem.

    Attributes:
        residual: :math:`F(u, args)`, ``(N+1,) -> (N,)``, traceable by JAX.
        jacobian: :math:`DF(u, args)`, ``(N, N+1)``; by default ``jax.jacfwd(residual)``.
    """

    residual: Callable
    jacobian: Callable | None = None

    def dF(self, u, args):
        return (self.jacobian or jax.jacfwd(self.residual))(u, args)


@dataclass(frozen=True)
class ContinuationStep:
    """One accepted point of a branch.

    Attributes:
        u: the point :math:`(x, \\lambda)`; tangent: the unit tangent there.
        ds: the step that reached it; newton_iterations: corrector iterations it took.
        residual: :math:`\\|F(u)\\|_\\infty`.
    """

    u: np.ndarray
    tangent: np.ndarray
    ds: float
    newton_iterations: int
    residual: float


def _bordered_solve(A, b):
    return jnp.linalg.solve(A, b)


@functools.cache
def _tangent_at(problem: ContinuationProblem):
    def tangent(u0, args):
        e = jnp.zeros_like(u0).at[-1].set(1.0)
        t = _bordered_solve(jnp.vstack([problem.dF(u0, args), e[None, :]]), e)
        return t / jnp.linalg.norm(t)

    return jax.jit(tangent)


def initial_tangent(problem: ContinuationProblem, u0, args, direction: float = 1.0):
    """Unit tangent at ``u0`` whose last (parameter) component has the sign of ``direction``."""
    t = _tangent_at(problem)(jnp.asarray(u0), args)
    return np.sign(direction) * np.asarray(t)


@functools.cache
def _make_step(problem: ContinuationProblem, s: ContinuationSettings):
    """One PALC step with retries (not jitted on its own: it runs inside the chunk loop)."""
    tol = s.newton_tol

    def corrector(u_pred, t, args):
        def cond(c):
            _, it, dnorm, ok = c
            return ok & (it < s.max_newton_iterations) & (dnorm > tol)

        def body(c):
            u, it, _, _ = c
            F = problem.residual(u, args)
            G = jnp.concatenate([F, jnp.atleast_1d(t @ (u - u_pred))])
            A = jnp.vstack([problem.dF(u, args), t[None, :]])
            du = _bordered_solve(A, G)
            u_new = u - du
            dnorm = jnp.max(jnp.abs(du)) / (1.0 + jnp.max(jnp.abs(u_new)))
            ok = jnp.all(jnp.isfinite(u_new))
            return u_new, it + 1, dnorm, ok

        u, it, dnorm, ok = jax.lax.while_loop(
            cond, body, (u_pred, jnp.asarray(0), jnp.asarray(jnp.inf), jnp.asarray(True)))
        return u, it, ok & (dnorm <= tol)

    def tangent(u, t_prev, args):
        A = jnp.vstack([problem.dF(u, args), t_prev[None, :]])
        e = jnp.zeros_like(u).at[-1].set(1.0)
        t = _bordered_solve(A, e)
        return t / jnp.linalg.norm(t)

    def step(u, t, ds, args):
        def attempt(c):
            u, t, ds, _, _, _ = c
            u_new, it, ok = corrector(u + ds * t, t, args)
            t_new = tangent(u_new, t, args)
            ok = ok & jnp.all(jnp.isfinite(t_new))
            ds_next = jnp.where(ok, ds, 0.5 * ds)
            return u, t, ds_next, u_new, t_new, jnp.where(ok, it, -1)

        def cond(c):
            _, _, ds, _, _, it = c
            return (it < 0) & (jnp.abs(ds) >= s.ds_min)

        init = (u, t, ds, u, t, jnp.asarray(-1))
        _, _, ds_used, u_new, t_new, it = jax.lax.while_loop(cond, attempt, init)
        success = it >= 0
        grow = jnp.where(it < s.target_newton_iterations, s.grow,
                         jnp.where(it > s.target_newton_iterations, s.shrink, 1.0))
        ds_next = jnp.sign(ds_used) * jnp.clip(jnp.abs(ds_used) * grow, s.ds_min, s.ds_max)
        return success, u_new, t_new, ds_used, ds_next, it

    return step


#: Status codes of a chunk of steps.
RUNNING, FAILED, LEFT_WINDOW = 0, 1, 2


@functools.cache
def _make_runner(problem: ContinuationProblem, s: ContinuationSettings, chunk: int):
    """Jitted loop of up to ``chunk`` steps; stops early on failure or leaving the window."""
    step = _make_step(problem, s)

    def run(u, t, ds, args, lo, hi):
        n1 = u.shape[0]
        init = (jnp.asarray(0), u, t, ds, jnp.asarray(RUNNING),
                jnp.zeros((chunk, n1), u.dtype), jnp.zeros((chunk, n1), u.dtype),
                jnp.zeros(chunk, jnp.int32), jnp.zeros(chunk, u.dtype))

        def cond(c):
            return (c[0] < chunk) & (c[4] == RUNNING)

        def body(c):
            i, u, t, ds, _, U, T, IT, DS = c
            success, u_new, t_new, ds_used, ds_next, it = step(u, t, ds, args)
            outside = (u_new[-1] < lo) | (u_new[-1] > hi)
            status = jnp.where(success, jnp.where(outside, LEFT_WINDOW, RUNNING), FAILED)
            U = U.at[i].set(u_new)
            T = T.at[i].set(t_new)
            IT = IT.at[i].set(it.astype(jnp.int32))
            DS = DS.at[i].set(ds_used)
            n = jnp.where(success, i + 1, i)
            return (n, jnp.where(success, u_new, u), jnp.where(success, t_new, t),
                    jnp.where(success, ds_next, ds), status, U, T, IT, DS)

        n, u, t, ds, status, U, T, IT, DS = jax.lax.while_loop(cond, body, init)
        residual = jax.vmap(lambda v: jnp.max(jnp.abs(problem.residual(v, args))))(U)
        return n, u, t, ds, status, U, T, IT, DS, residual

    return jax.jit(run)


class PALC:
    """Pseudo-arclength continuation of a :class:`ContinuationProblem`.

    Iterating ``PALC(problem, settings).steps(u0, t0, args)`` yields one
    :class:`ContinuationStep` per accepted point (``u0`` itself is not yielded). Steps are
    computed in jitted chunks of ``chunk`` steps (one dispatch per chunk, not per step); the
    iterator ends when the corrector fails even at ``ds_min`` (then :attr:`failure` says why),
    after ``max_steps`` points, or after the first point whose parameter (last component) lies
    outside ``window``.
    """

    def __init__(self, problem: ContinuationProblem, settings: ContinuationSettings,
                 chunk: int = 64):
        self.problem = problem
        self.settings = settings
        self.chunk = int(chunk)
        self._run = _make_runner(problem, settings, self.chunk)
        self.failure: str | None = None

    def steps(self, u0, t0, args, ds: float | None = None,
              window: tuple[float, float] = (-math.inf, math.inf)) -> Iterator[ContinuationStep]:
        s = self.settings
        u, t = jnp.asarray(u0), jnp.asarray(t0)
        ds = jnp.asarray(abs(s.ds if ds is None else ds), dtype=u.dtype)
        lo, hi = (jnp.asarray(v, dtype=u.dtype) for v in window)
        self.failure = None
        done = 0
        while done < s.max_steps:
            n, u, t, ds, status, U, T, IT, DS, R = self._run(u, t, ds, args, lo, hi)
            n, status = int(n), int(status)
            U, T, IT, DS, R = (np.asarray(a) for a in (U, T, IT, DS, R))
            for i in range(min(n, s.max_steps - done)):
                yield ContinuationStep(u=U[i], tangent=T[i], ds=float(DS[i]),
                                       newton_iterations=int(IT[i]), residual=float(R[i]))
            done += n
            if status == FAILED:
                self.failure = (
                    f"step size below ds_min={s.ds_min:g} at param={float(u[-1]):.10g}: "
                    f"Newton did not converge in {s.max_newton_iterations} iterations"
                )
                return
            if status == LEFT_WINDOW:
                return
