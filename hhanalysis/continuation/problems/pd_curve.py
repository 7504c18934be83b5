r"""Curves of period doublings (PD) in two parameters: a minimally augmented collocation system.

Unknowns :math:`v = (X/s, T, \lambda_1, \lambda_2)`: the collocation unknowns of
:func:`~hhanalysis.continuation.collocation.collocation_problem` (orbit, period, the first
parameter) and the second parameter. The orbit satisfies the :math:`N` collocation, periodicity
and phase equations :math:`F(v) = 0`; it has a Floquet multiplier :math:`-1` where the monodromy
matrix :math:`M` makes :math:`M + I` singular, which a scalar test function of a bordered
system says (Govaerts, Kuznetsov & Dhooge, SIAM J. Sci. Comput. 27 (2005); Kuznetsov,
*Elements of Applied Bifurcation Theory*, 3rd ed., §10.2):

.. math::
    \begin{pmatrix} M + I & b \\ c^T & 0\end{pmatrix}\begin{pmatrix} w \\ g\end{pmatrix}
    = \begin{pmatrix} 0 \\ 1\end{pmatrix},\qquad G(v) = \big(F(v),\ g(v)\big) = 0:

:math:`N + 1` equations in :math:`N + 2` unknowns, a curve. The borders :math:`b, c \in
\mathbb R^n` are the left and right null vectors of :math:`M + I` at the last point (refreshed
between chunks), so the :math:`(n+1)`-square matrix stays regular and :math:`g` is, to first
order, the smallest singular value of :math:`M + I` with a sign.

**The monodromy matrix without shooting.** The structured solver of the collocation system
reduces the collocation equations of the variational problem, by condensation and cyclic
reduction with pivoting (:mod:`~hhanalysis.continuation.collocation`), to one relation
:math:`E_0 y_0 + F_0 y_1 = 0` between the values at :math:`\tau = 0` and :math:`\tau = 1`, so
:math:`M = -F_0^{-1}E_0`; :math:`(M + I)` is formed from that pair, and the
antiperiodic problem :math:`y' = T f_x y,\ y(0) + y(1) = 0` (whose nontrivial solution is the
PD eigenfunction) is singular exactly where it is, since the reduction is an exact elimination.
The gradient :math:`\nabla_v g` (one row of the Newton matrix) is reverse-mode differentiation
through that reduction: one backward pass, :math:`O(\text{NTST})` like the solve.

**Linear algebra.** A Newton step solves
:math:`\begin{pmatrix} DF_{X,T} & F_p e & F_p e_\perp \\ g_{X,T} & g_e & g_\perp \\
c_{X,T} & c_e & c_\perp\end{pmatrix}\delta = r` in the parameter coordinates
:math:`(\delta\lambda_1, \delta\lambda_2) = e\,\delta_e + e_\perp\delta_\perp`, where :math:`e`
is the unit direction of the curve in the parameter plane at the last point (refreshed between
chunks) and the last row the pseudo-arclength condition. The block
:math:`K = \begin{pmatrix} DF_{X,T} & F_p e \\ c_{X,T} & c_e\end{pmatrix}` is the matrix of a
one-parameter continuation of cycles along the line through the point in the direction
:math:`e`: regular on the curve wherever it is not tangent to that line's family of folds
(:math:`K` stays regular at fold–flip points, where :math:`DF_{X,T}` alone is singular). One
structured solve with :math:`K` for two right-hand sides,
:math:`K Y_0 = (r_F, r_{arc})`, :math:`K Y_1 = (F_p e_\perp, c_\perp)`, gives
:math:`(\delta_{X,T}, \delta_e) = Y_0 - Y_1\delta_\perp` and the :math:`g` row the scalar
:math:`\delta_\perp`.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from ...codegen import CompiledModel
from ..collocation import arclength_weights, collocation_problem
from ..engine import ContinuationProblem

__all__ = ["pd_curve_parts", "pd_test"]


def pd_test(pair, borders):
    r"""The PD test function :math:`g` of the bordered :math:`M + I` and its null vectors.

    ``pair``: the reduced variational pair ``(E0, F0)`` (``(2, n, n)``), :math:`M = -F_0^{-1}
    E_0`; ``borders``: ``(b, c)`` stacked, ``(2n,)``. Returns ``(g, w, psi)`` with :math:`w`
    the right solution (the PD eigenvector at :math:`\tau = 0` where :math:`g = 0`) and
    :math:`\psi` the left one, both of unit length."""
    E0, F0 = pair
    n = E0.shape[0]
    A = jnp.eye(n, dtype=E0.dtype) - jnp.linalg.solve(F0, E0)
    b, c = borders[:n], borders[n:]
    K = jnp.block([[A, b[:, None]], [c[None, :], jnp.zeros((1, 1), A.dtype)]])
    rhs = jnp.zeros(n + 1, A.dtype).at[-1].set(1.0)
    right = jnp.linalg.solve(K, rhs)
    left = jnp.linalg.solve(K.T, rhs)
    w, psi = right[:n], left[:n]
    return right[n], w / jnp.linalg.norm(w), psi / jnp.linalg.norm(psi)


@functools.cache
def pd_curve_parts(cm: CompiledModel, k1: int, k2: int, ntst: int, ncol: int) -> dict:
    r"""The PD-curve system in ``v = (X/s, T, p[k1], p[k2])`` with
    ``args = (p0, h, e, borders)``: the parameters, the mesh steps, the parameter direction
    :math:`e` (a unit vector of parameter space in the ``(k1, k2)`` plane) and the borders
    ``(b, c)`` of :func:`pd_test`.

    Returns ``problem`` (a :class:`ContinuationProblem` with the structured bordered solver)
    and ``decode`` (monitor -> the reduced variational pair ``(..., 2, n, n)`` and the next
    borders ``(..., 2n)``)."""
    col = collocation_problem(cm, k1, ntst, ncol)
    n = len(cm.state_names)

    def col_args(v, args):
        p0, h = args[:2]
        return (p0.at[k2].set(v[-1]), h)

    def F(v, args, ref):
        return col.residual(v[:-1], col_args(v, args), ref[:-1])

    def pair(v, args):
        """``(E0, F0)`` at ``v`` (the solve's by-product; its solution is not used)."""
        u = v[:-1]
        c = jnp.zeros_like(u).at[-1].set(1.0)
        return col.solve(u, col_args(v, args), u, c, jnp.zeros((u.shape[0], 1), u.dtype))[1]

    def g_of(v, args):
        g, w, psi = pd_test(pair(v, args), args[3])
        return g, (w, psi)

    def residual(v, args, ref):
        return jnp.concatenate([F(v, args, ref), g_of(v, args)[0][None]])

    def solve(v, args, ref, c, b):
        single = b.ndim == 1
        B = b[:, None] if single else b
        k = B.shape[1]
        N = v.shape[0] - 2  # rows of F
        e = args[2]
        e1, e2 = e[k1], e[k2]
        d_perp = jnp.zeros_like(v).at[-2].set(-e2).at[-1].set(e1)
        F_perp = jax.jvp(lambda w: F(w, args, ref), (v,), (d_perp,))[1]
        c_e, c_perp = c[N] * e1 + c[N + 1] * e2, c[N + 1] * e1 - c[N] * e2
        cK = jnp.concatenate([c[:N], c_e[None]])
        rhs = jnp.concatenate([
            jnp.concatenate([B[:N], F_perp[:, None]], axis=1),
            jnp.concatenate([B[N + 1], c_perp[None]])[None]])
        Y, aux = col.solve(v[:-1], col_args(v, args), ref[:-1], cK, rhs, pdir=e)
        (_, (w, psi)), G = jax.value_and_grad(g_of, has_aux=True)(v, args)
        g_e, g_perp = G[N] * e1 + G[N + 1] * e2, G[N + 1] * e1 - G[N] * e2
        Gxa = jnp.concatenate([G[:N], g_e[None]])
        Y0, Y1 = Y[:, :k], Y[:, k]
        d_p = (B[N] - Gxa @ Y0) / (g_perp - Gxa @ Y1)  # (k,)
        xa = Y0 - Y1[:, None] * d_p
        d_e = xa[-1]
        out = jnp.concatenate([xa[:-1], (e1 * d_e - e2 * d_p)[None], (e2 * d_e + e1 * d_p)[None]])
        monitor = jnp.concatenate([aux.ravel(), w, psi])
        return (out[:, 0] if single else out), monitor

    def weights(args):
        w = arclength_weights(args[1], ncol, n, jnp)
        return jnp.concatenate([w, jnp.ones(1, w.dtype)])

    def decode(monitor):
        """``(E0F0 (..., 2, n, n), borders (..., 2n))``: the next borders ``(b, c) = (psi, w)``."""
        monitor = np.asarray(monitor)
        m = 2 * n * n
        pair = monitor[..., :m].reshape(monitor.shape[:-1] + (2, n, n))
        w, psi = monitor[..., m:m + n], monitor[..., m + n:m + 2 * n]
        return pair, np.concatenate([psi, w], axis=-1)

    problem = ContinuationProblem(residual=residual, solve=solve, uses_reference=True,
                                  solve_aux=True, weights=weights, tangent_from_newton=True)
    return dict(problem=problem, decode=decode, pair=jax.jit(pair))
