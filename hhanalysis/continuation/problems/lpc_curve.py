r"""Curves of folds of cycles (LPC) in two parameters: the minimally augmented collocation system.

Unknowns :math:`v = (X/s, T, \lambda_1, \lambda_2)`: the collocation unknowns of
:func:`~hhanalysis.continuation.collocation.collocation_problem` (orbit, period, the fold
parameter :math:`\lambda_1`) and the second parameter :math:`\lambda_2`. With
:math:`F(v) = 0` the :math:`N` collocation, periodicity and phase equations and
:math:`DF_{X,T}` (:math:`N \times N`) their Jacobian in the orbit and the period, a fold of
cycles is where :math:`DF_{X,T}` is singular (Govaerts, Kuznetsov & Dhooge, SIAM J. Sci. Comput.
27 (2005); MatCont's LPC curves). Its bordered test function

.. math::
    \tilde K \begin{pmatrix}\zeta \\ g\end{pmatrix} = e_{N+1},\qquad
    \tilde K = \begin{pmatrix} DF_{X,T} & F_p e \\ c^T & 0\end{pmatrix},
    \qquad G(v) = \big(F(v),\ g(v)\big) = 0

gives :math:`N + 1` equations in :math:`N + 2` unknowns: a curve. The borders are the last
null vector :math:`c \approx \zeta` and the derivative :math:`F_p e` of the equations along a
direction :math:`e` of the parameter plane; on the curve
:math:`(\psi^T F_{\lambda_1}, \psi^T F_{\lambda_2}) \propto (t_2, -t_1)` (:math:`\psi` the left
null vector, :math:`t` the curve's tangent), so :math:`e \propto (t_2, -t_1)` keeps
:math:`\tilde K` regular everywhere on the curve, also where it turns in either parameter
(a border :math:`F_{\lambda_1}` alone would be singular where the curve turns in
:math:`\lambda_2`). Both borders are refreshed between chunks, :math:`e` with a continuous
orientation.

**Derivatives.** From :math:`\tilde K \hat\zeta = e_{N+1}`, the derivative of :math:`g` along
a direction :math:`d` of :math:`v` is
:math:`g'[d] = -\big(\tilde K^{-1} (\partial_d (DF\,\tilde\zeta),\ 0)\big)_{N+1}` with
:math:`\tilde\zeta = (\zeta, g e)` as a direction of :math:`v`: a second directional derivative
of the collocation residual and one solve with :math:`\tilde K`; the step needs it along a few
directions, all in one multi-right-hand-side solve (forward mode only).

**Linear algebra.** A Newton step solves
:math:`\begin{pmatrix} DF_{X,T} & F_{\lambda_1} & F_{\lambda_2} \\ g_x^T & g_1 & g_2 \\
c_x^T & c_1 & c_2\end{pmatrix}\delta = b` (the last row: the pseudo-arclength condition) by
block elimination around the regular core :math:`\tilde K`: with :math:`\tilde K^{-1}` applied
to :math:`(b_F, 0)`, :math:`(F_{\lambda_1}, 0)`, :math:`(F_{\lambda_2}, 0)` and :math:`e_{N+1}`
(one structured solve: condensation and cyclic reduction, as for the orbits themselves), the
orbit part is a combination of the four solutions and three scalar equations (the border slot
is 0, the :math:`g` row, the arclength row) give the coefficients. Two structured solves per
Newton step; their by-products are the monodromy pair of the orbit (the Floquet multipliers
along the curve), the null vector (the next border) and the CPC test. The residual's
:math:`g(v)` is the border slot of :math:`\tilde K^{-1} e_{N+1}`, a column of the first of them:
the corrector takes it from there (``newton_solve``) instead of from a third structured solve
in the residual (a Newton iteration at NTST = 100, NCOL = 4 of the HH model: ~4.2 ms -> ~3.2
ms on one CPU core).

**Cusp of cycles (CPC)**: the fold's quadratic coefficient
:math:`a = \psi^T D^2F[\zeta, \zeta]/\|\zeta\|^2 = -g'[\zeta]/\|\zeta\|^2` (:math:`\psi` the
last row of :math:`\tilde K^{-1}`, normalised by :math:`\psi^T F_p e = 1`) changes sign where two
LPC curves meet in a cusp.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from ...codegen import CompiledModel
from ..collocation import collocation_problem, with_second_parameter
from ..engine import ContinuationProblem

__all__ = ["lpc_curve_problem", "lpc_curve_parts"]


@functools.cache
def lpc_curve_parts(cm: CompiledModel, k1: int, k2: int, ntst: int, ncol: int) -> dict:
    r"""The LPC-curve system in ``v`` with ``args = (p0, h, e, c)``: ``problem`` (residual and
    bordered solver) and ``decode`` (monitor -> monodromy pair, fold coefficient, null vector).

    The solver's monitor at a point is the flat vector ``(E0, F0, a, zeta)``: the reduced
    variational pair (Floquet multipliers), the fold coefficient :math:`a` (CPC test) and the
    null vector :math:`\hat\zeta` (the next border), all by-products of the Newton solves."""
    col = collocation_problem(cm, k1, ntst, ncol)
    n = len(cm.state_names)
    args_of, F, weights = with_second_parameter(col, k2)

    def K_solve(v, args, ref, B):
        r"""Solve with :math:`\tilde K = [DF_{X,T},\ F_p e;\ c^T, 0]`."""
        return col.solve(v[:-1], args_of(v, args), ref[:-1], args[3], B, pdir=args[2])

    def residual(v, args, ref):
        e = jnp.zeros(v.shape[0] - 1, v.dtype).at[-1].set(1.0)
        zeta, _ = K_solve(v, args, ref, e)
        return jnp.concatenate([F(v, args, ref), zeta[-1:]])

    def in_v(x):
        """Directions in the ``(X, T)`` space as directions in ``v`` (no parameter part)."""
        return jnp.concatenate([x, jnp.zeros((2,) + x.shape[1:], x.dtype)])

    def solve(v, args, ref, c, b, g_of_v=False):
        """The bordered solve; with ``g_of_v`` the g-row entry of the first right-hand side
        is the test function :math:`g(v)` itself (the Newton right-hand side), read off the
        solve with :math:`\tilde K` that the step makes anyway."""
        single = b.ndim == 1
        B = b[:, None] if single else b
        k = B.shape[1]
        N = v.shape[0] - 2  # rows of F
        e = args[2]

        def F_along(d):
            return jax.jvp(lambda w: F(w, args, ref), (v,), (d,))[1]

        unit = jnp.eye(v.shape[0], dtype=v.dtype)
        F1, F2 = F_along(unit[-2]), F_along(unit[-1])
        last = jnp.zeros((1, k + 3), v.dtype).at[0, -1].set(1.0)
        rhs = jnp.concatenate([jnp.concatenate([B[:N], F1[:, None], F2[:, None],
                                                jnp.zeros((N, 1), v.dtype)], axis=1), last])
        Y, aux = K_solve(v, args, ref, rhs)
        X, sig = Y[:-1], Y[-1]  # (X, T) parts and sigma (border slot) of every column
        g = sig[-1]
        if g_of_v:
            B = B.at[N, 0].set(g)
        # the null vector as a direction of v: (zeta, g e_1, g e_2) is K's (zeta, g)
        zt = jnp.concatenate([X[:, -1], g * jnp.stack([e[k1], e[k2]])])

        def DFz(w):
            return jax.jvp(lambda q: F(q, args, ref), (w,), (zt,))[1]

        dirs = jnp.concatenate([in_v(X), unit[:, -2:]], axis=1)  # k + 5 directions
        H = jax.vmap(lambda d: jax.jvp(DFz, (v,), (d,))[1], in_axes=1, out_axes=1)(dirs)
        dg = -K_solve(v, args, ref, jnp.concatenate([H, jnp.zeros((1, k + 5), v.dtype)]))[0][-1]
        gX, g1, g2 = dg[:k + 3], dg[k + 3], dg[k + 4]  # along X0 (k), X1, X2, Z; lambda1, 2
        cX = c[:N] @ X
        c1, c2 = c[N], c[N + 1]
        A = jnp.array([[-sig[k], -sig[k + 1], sig[k + 2]],
                       [g1 - gX[k], g2 - gX[k + 1], gX[k + 2]],
                       [c1 - cX[k], c2 - cX[k + 1], cX[k + 2]]])
        rhs3 = jnp.stack([-sig[:k], B[N] - gX[:k], B[N + 1] - cX[:k]])
        y1, y2, s = jnp.linalg.solve(A, rhs3)
        dx = X[:, :k] - X[:, k:k + 1] * y1 - X[:, k + 1:k + 2] * y2 + X[:, k + 2:] * s
        out = jnp.concatenate([dx, y1[None], y2[None]])
        zeta = Y[:, -1]
        a = -gX[k + 2] / (X[:, -1] @ X[:, -1])  # = psi^T D^2F[zeta, zeta] / |zeta|^2
        monitor = jnp.concatenate([aux.ravel(), a[None], zeta])
        return (out[:, 0] if single else out), monitor

    def newton_solve(v, args, ref, c, r):
        """A corrector iteration's solves for the Newton step and the tangent with the
        residual :math:`G(v) = (F(v), g(v), r)` formed inside: its test function :math:`g` is
        a by-product of the solve with :math:`\tilde K`, which :func:`residual` would pay a
        third structured solve for."""
        last = jnp.zeros(v.shape[0], v.dtype).at[-1].set(1.0)
        G = jnp.concatenate([F(v, args, ref), jnp.zeros(1, v.dtype), jnp.atleast_1d(r)])
        out, monitor = solve(v, args, ref, c, jnp.stack([G, last], 1), g_of_v=True)
        return out[:, 0], out[:, 1], monitor

    def decode(monitor):
        """``(E0F0 (..., 2, n, n), a (...,), zeta (..., N+1))`` from monitors."""
        m = 2 * n * n
        pair = monitor[..., :m].reshape(monitor.shape[:-1] + (2, n, n))
        return pair, monitor[..., m], monitor[..., m + 1:]

    problem = ContinuationProblem(residual=residual, solve=solve, uses_reference=True,
                                  solve_aux=True, weights=weights, tangent_from_newton=True,
                                  newton_solve=newton_solve)
    return dict(problem=problem, decode=decode)


def lpc_curve_problem(cm: CompiledModel, k1: int, k2: int, ntst: int,
                      ncol: int) -> ContinuationProblem:
    """The LPC curve as a :class:`~hhanalysis.continuation.engine.ContinuationProblem` in
    ``v = (X/s, T, p[k1], p[k2])`` with ``args = (p0, h, e, c)`` (parameters, mesh steps, the
    border column's parameter direction, the border row)."""
    return lpc_curve_parts(cm, k1, k2, ntst, ncol)["problem"]
