r"""Periodic orbits at fixed parameters and folds of cycles (LPC) as defining systems.

Both use the collocation system of :mod:`~hhanalysis.continuation.collocation`: unknowns
:math:`u = (X/s, T, \lambda)` with :math:`\lambda = p_k`, equations :math:`F(u) = 0`
(collocation, periodicity and the integral phase condition against a fixed reference orbit
:math:`\tilde x`), on a fixed mesh. Linear systems are solved by the structured (condensation +
cyclic reduction) bordered solver, whose last row is free; transposed solves (reverse-mode
derivatives) use ``jax.vjp`` of that solver, which is linear in its right-hand side.

**Orbit at fixed parameters**: :math:`G(u, p) = (F(u, p),\ \lambda - p_k)`, so
:math:`G_u = \begin{pmatrix} DF \\ e_\lambda^T\end{pmatrix}`.

**Fold of cycles** (minimally augmented system, cf. Govaerts, Kuznetsov & Dhooge, SIAM J. Sci.
Comput. 27 (2005)): with a fixed vector :math:`r` whose :math:`\lambda` component is zero,

.. math::
    \begin{pmatrix} DF(u) \\ r^T \end{pmatrix} z = e_{N+1}, \qquad g(u) = z_\lambda,
    \qquad G(u, p) = (F(u, p),\ g(u, p)).

:math:`z` is the branch tangent scaled by :math:`r^T z = 1`, so :math:`g = 0` exactly where
the parameter component of the tangent vanishes: a fold of the cycle branch. The bordered
matrix stays regular there when :math:`r` is close to the tangent. The gradient of :math:`g`
follows from differentiating the bordered system:
:math:`\nabla_u g = -\nabla_u\big(w^T DF(u)\,z\big)` with :math:`w` (first :math:`N`
components) from :math:`\begin{pmatrix} DF \\ r^T\end{pmatrix}^T w = e_\lambda`, so
:math:`G_u = \begin{pmatrix} DF \\ (\nabla_u g)^T\end{pmatrix}`, again a bordered matrix of the
structured solver.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from ...codegen import CompiledModel
from ..collocation import collocation_problem
from ..locate import DefiningSystem

__all__ = ["orbit_system", "lpc_system", "tangent"]

#: Newton tolerance of cycle points (the collocation unknowns are O(1)-O(100)).
CYCLE_TOL = 1e-11


def _problem(cm: CompiledModel, k: int, ntst: int, ncol: int):
    return collocation_problem(cm, k, ntst, ncol)


def _solver(problem):
    """``(solve, solve_T)`` of :math:`[DF(u); r^T]` with constants ``c = (ref, h)``."""

    def solve(u, p, c, row, b):
        ref, h = c[:2]
        return problem.solve(u, (p, h), ref, row, b)[0]

    def solve_T(u, p, c, row, b):
        _, vjp = jax.vjp(lambda rhs: solve(u, p, c, row, rhs), jnp.zeros_like(b))
        return vjp(b)[0]

    return solve, solve_T


def _F(problem, u, p, c):
    ref, h = c[:2]
    return problem.residual(u, (p, h), ref)


@functools.cache
def orbit_system(cm: CompiledModel, k: int, ntst: int, ncol: int) -> DefiningSystem:
    """The periodic orbit at the parameter vector ``p`` (:math:`\\lambda = p_k` held);
    constants ``c = (ref, h)``: the reference orbit (unknown-vector layout) and mesh steps."""
    problem = _problem(cm, k, ntst, ncol)
    solve, solve_T = _solver(problem)

    def e_last(u):
        return jnp.zeros_like(u).at[-1].set(1.0)

    def residual(u, p, c):
        return jnp.concatenate([_F(problem, u, p, c), (u[-1] - p[k])[None]])

    return DefiningSystem(
        residual=residual,
        solve=lambda u, p, c, b: solve(u, p, c, e_last(u), b),
        solve_transpose=lambda u, p, c, b: solve_T(u, p, c, e_last(u), b),
        newton_tol=CYCLE_TOL)


def tangent(cm: CompiledModel, k: int, ntst: int, ncol: int, u, p, c, row):
    """:math:`z` with :math:`[DF(u); r^T] z = e_{N+1}`."""
    solve, _ = _solver(_problem(cm, k, ntst, ncol))
    return solve(u, p, c, row, jnp.zeros_like(u).at[-1].set(1.0))


@functools.cache
def lpc_system(cm: CompiledModel, k: int, ntst: int, ncol: int) -> DefiningSystem:
    """The fold of cycles in :math:`\\lambda = p_k`; constants ``c = (ref, h, r)``."""
    problem = _problem(cm, k, ntst, ncol)
    solve, solve_T = _solver(problem)

    def g_and_z(u, p, c):
        r = c[2]
        z = solve(u, p, c, r, jnp.zeros_like(u).at[-1].set(1.0))
        return z[-1], z

    def residual(u, p, c):
        return jnp.concatenate([_F(problem, u, p, c), g_and_z(u, p, c)[0][None]])

    def w_and_z(u, p, c):
        _, z = g_and_z(u, p, c)
        w = solve_T(u, p, c, c[2], jnp.zeros_like(u).at[-1].set(1.0))[:-1]
        return w, z

    def wDFz(u, p, c, w, z):
        """:math:`w^T DF(u, p) z`."""
        return w @ jax.jvp(lambda y: _F(problem, y, p, c), (u,), (z,))[1]

    def grad_g(u, p, c):
        w, z = w_and_z(u, p, c)
        return -jax.grad(wDFz)(u, p, c, w, z)

    def param_jvp(u, p, c, dp):
        r""":math:`G_p\dot p = (F_p\dot p,\ -\partial_p(w^T DF z)\,\dot p)`, with
        :math:`w, z` fixed: no derivative of the structured solver in :math:`p`."""
        w, z = jax.lax.stop_gradient(w_and_z(u, p, c))
        dF = jax.jvp(lambda q: _F(problem, u, q, c), (p,), (dp,))[1]
        dg = -jax.jvp(lambda q: wDFz(u, q, c, w, z), (p,), (dp,))[1]
        return jnp.concatenate([dF, dg[None]])

    def lin_solve(u, p, c, b):
        return solve(u, p, c, grad_g(u, p, c), b)

    def lin_solve_T(u, p, c, b):
        return solve_T(u, p, c, grad_g(u, p, c), b)

    return DefiningSystem(residual=residual, solve=lin_solve, solve_transpose=lin_solve_T,
                          param_jvp=param_jvp, newton_tol=CYCLE_TOL)
