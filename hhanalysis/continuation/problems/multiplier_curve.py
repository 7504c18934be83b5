r"""Curves of cycles with a critical Floquet multiplier in two parameters: period doublings
(PD, a multiplier :math:`-1`) and Neimark–Sacker / torus bifurcations (NS, a pair
:math:`e^{\pm i\theta}`), as minimally augmented collocation systems.

Unknowns :math:`v = (X/s, T, \lambda_1, \lambda_2)`: the collocation unknowns of
:func:`~hhanalysis.continuation.collocation.collocation_problem` (orbit, period, the first
parameter) and the second parameter. The orbit satisfies the :math:`N` collocation, periodicity
and phase equations :math:`F(v) = 0`; with :math:`M` its monodromy matrix, the critical
multipliers make a matrix :math:`A(M)` singular:

* PD: :math:`A = M + I` (:math:`n \times n`);
* NS: :math:`A = M^{(2)} - I`, with :math:`M^{(2)}` the second compound matrix of :math:`M` (its
  :math:`2 \times 2` minors, :math:`\binom n2`-square), whose eigenvalues are the products
  :math:`\mu_i\mu_j`, :math:`i < j`: a pair :math:`e^{\pm i\theta}` gives
  :math:`\mu_i\mu_j = 1`. So does a real pair :math:`\mu, 1/\mu` (a *neutral saddle* cycle, as
  Hopf curves continue into neutral saddles of equilibria); :math:`\kappa = (\mu_i + \mu_j)/2`
  of the pair tells them apart (:math:`\cos\theta` in :math:`[-1, 1]` at an NS point), and the
  trivial multiplier 1 enters a product 1 only with another multiplier 1 (a fold). This is the
  cycles' analogue of the bialternate-product test of Hopf points, without the extra unknown
  :math:`\kappa` of the :math:`M^2 - 2\kappa M + I` formulation.

A scalar test function of a bordered system says where :math:`A` is singular (Govaerts,
Kuznetsov & Dhooge, SIAM J. Sci. Comput. 27 (2005); Kuznetsov, *Elements of Applied
Bifurcation Theory*, 3rd ed., §10.2):

.. math::
    \begin{pmatrix} A & b \\ c^T & 0\end{pmatrix}\begin{pmatrix} w \\ g\end{pmatrix}
    = \begin{pmatrix} 0 \\ 1\end{pmatrix},\qquad G(v) = \big(F(v),\ g(v)\big) = 0:

:math:`N + 1` equations in :math:`N + 2` unknowns, a curve. The borders :math:`b, c` are the
left and right null vectors of :math:`A` at the last point (refreshed between chunks), so the
bordered matrix stays regular and :math:`g` is, to first order, the smallest singular value of
:math:`A` with a sign.

**The monodromy matrix without shooting.** The structured solver of the collocation system
reduces the collocation equations of the variational problem, by condensation and cyclic
reduction with pivoting (:mod:`~hhanalysis.continuation.collocation`), to one relation
:math:`E_0 y_0 + F_0 y_1 = 0` between the values at :math:`\tau = 0` and :math:`\tau = 1`, so
:math:`M = -F_0^{-1}E_0`; :math:`A` is formed from that pair (for PD, the
antiperiodic problem :math:`y' = T f_x y,\ y(0) + y(1) = 0` (whose nontrivial solution is the
PD eigenfunction, is singular exactly where :math:`M + I` is, since the reduction is an
exact elimination).
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
from ..collocation import collocation_problem, with_second_parameter
from ..engine import ContinuationProblem

__all__ = ["multiplier_curve_parts", "critical_matrix", "bordered_test", "second_compound"]


def second_compound(M):
    r"""The second compound matrix :math:`M^{(2)}`: the :math:`2 \times 2` minors
    :math:`M_{ik}M_{jl} - M_{il}M_{jk}` over the pairs :math:`i < j` (rows) and :math:`k < l`
    (columns), in lexicographic order; its eigenvalues are :math:`\mu_i\mu_j`, :math:`i < j`."""
    n = M.shape[-1]
    i, j = np.triu_indices(n, 1)
    return M[..., i[:, None], i[None, :]] * M[..., j[:, None], j[None, :]] - \
        M[..., i[:, None], j[None, :]] * M[..., j[:, None], i[None, :]]


def critical_matrix(kind: str, pair):
    """:math:`A(M)` of ``kind`` (``'pd'``: :math:`M + I`; ``'ns'``: :math:`M^{(2)} - I`) from
    the reduced variational pair ``(E0, F0)``, :math:`M = -F_0^{-1}E_0`."""
    E0, F0 = pair
    M = -jnp.linalg.solve(F0, E0)
    if kind == "pd":
        return M + jnp.eye(M.shape[0], dtype=M.dtype)
    C = second_compound(M)
    return C - jnp.eye(C.shape[0], dtype=C.dtype)


def bordered_test(A, borders):
    r"""The test function :math:`g` of the bordered :math:`A` and its null vectors.

    ``borders``: ``(b, c)`` stacked, ``(2d,)`` for a ``d``-square :math:`A`. Returns
    ``(g, w, psi)`` with :math:`w` the right solution (the null vector where :math:`g = 0`) and
    :math:`\psi` the left one, both of unit length."""
    n = A.shape[0]
    b, c = borders[:n], borders[n:]
    K = jnp.block([[A, b[:, None]], [c[None, :], jnp.zeros((1, 1), A.dtype)]])
    rhs = jnp.zeros(n + 1, A.dtype).at[-1].set(1.0)
    right = jnp.linalg.solve(K, rhs)
    left = jnp.linalg.solve(K.T, rhs)
    w, psi = right[:n], left[:n]
    return right[n], w / jnp.linalg.norm(w), psi / jnp.linalg.norm(psi)


@functools.cache
def multiplier_curve_parts(cm: CompiledModel, k1: int, k2: int, ntst: int, ncol: int,
                           kind: str) -> dict:
    r"""The PD (``kind='pd'``) or NS (``'ns'``) curve system in ``v = (X/s, T, p[k1], p[k2])``
    with ``args = (p0, h, e, borders)``: the parameters, the mesh steps, the parameter
    direction :math:`e` (a unit vector of parameter space in the ``(k1, k2)`` plane) and the
    borders ``(b, c)`` of :func:`bordered_test`.

    Returns ``problem`` (a :class:`ContinuationProblem` with the structured bordered solver)
    and ``decode`` (monitor -> the reduced variational pair ``(..., 2, n, n)`` and the next
    borders ``(..., 2n)``)."""
    col = collocation_problem(cm, k1, ntst, ncol)
    n = len(cm.state_names)
    col_args, F, weights = with_second_parameter(col, k2)

    def pair(v, args):
        """``(E0, F0)`` at ``v`` (the solve's by-product; its solution is not used)."""
        u = v[:-1]
        c = jnp.zeros_like(u).at[-1].set(1.0)
        return col.solve(u, col_args(v, args), u, c, jnp.zeros((u.shape[0], 1), u.dtype))[1]

    def g_of(v, args):
        g, w, psi = bordered_test(critical_matrix(kind, pair(v, args)), args[3])
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

    d = n if kind == "pd" else n * (n - 1) // 2  # the size of A

    def decode(monitor):
        """``(E0F0 (..., 2, n, n), borders (..., 2d))``: the next borders ``(b, c) = (psi, w)``."""
        monitor = np.asarray(monitor)
        m = 2 * n * n
        pair = monitor[..., :m].reshape(monitor.shape[:-1] + (2, n, n))
        w, psi = monitor[..., m:m + d], monitor[..., m + d:m + 2 * d]
        return pair, np.concatenate([psi, w], axis=-1)

    problem = ContinuationProblem(residual=residual, solve=solve, uses_reference=True,
                                  solve_aux=True, weights=weights, tangent_from_newton=True)
    return dict(problem=problem, decode=decode, pair=jax.jit(pair))
