r"""Hopf points of equilibria: the defining system and the first Lyapunov coefficient.

Unknowns :math:`y = (x, \lambda, \omega, v_r, v_i)` (:math:`3n + 2`), with :math:`\lambda` the
bifurcation parameter :math:`p_k` and :math:`q = v_r + i v_i` the critical eigenvector:

.. math::
    f(x, p) = 0, \quad J v_r + \omega v_i = 0, \quad J v_i - \omega v_r = 0, \quad
    \mathrm{Re}\,\langle\phi, q\rangle = 1, \quad \mathrm{Im}\,\langle\phi, q\rangle = 0,

:math:`J = f_x(x, p)`, :math:`\langle a, b\rangle = \bar a^T b`, and :math:`\phi` a fixed
reference vector (the guess's eigenvector), which fixes the length and phase of :math:`q`. The
Jacobian of this system is regular at a Hopf point with :math:`\omega > 0` whose eigenvalue
pair crosses the imaginary axis with non-zero speed (Kuznetsov, *Elements of Applied
Bifurcation Theory*, §10.2).

**First Lyapunov coefficient** (Kuznetsov, eq. (3.20) and §8.7), with :math:`J q = i\omega q`,
:math:`J^T p = -i\omega p`, :math:`\langle q, q\rangle = \langle p, q\rangle = 1` and the
multilinear forms :math:`B, C` of :math:`f`:

.. math::
    l_1 = \frac{1}{2\omega}\,\mathrm{Re}\Big(\langle p, C(q, q, \bar q)\rangle
        - 2\langle p, B(q, J^{-1}B(q, \bar q))\rangle
        + \langle p, B(\bar q, (2i\omega - J)^{-1}B(q, q))\rangle\Big).

:math:`p` solves the bordered system
:math:`\begin{pmatrix} J^T + i\omega & q\\ \bar q^T & 0\end{pmatrix}
\begin{pmatrix} p \\ s\end{pmatrix} = \begin{pmatrix} 0 \\ 1\end{pmatrix}`, then is scaled to
:math:`\langle p, q\rangle = 1`. Everything is written in JAX, so :math:`l_1` is differentiable
along with the point.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from ...codegen import CompiledModel
from ..locate import DefiningSystem

__all__ = ["hopf_system", "split", "first_lyapunov", "unrolled_solve", "complex_B", "complex_C",
           "jacobian_of_Jv", "d_lambda_Jv"]


def split(y, n):
    """``(x, lambda, omega, v_r, v_i)`` of the unknown vector."""
    return y[:n], y[n], y[n + 1], y[n + 2:2 * n + 2], y[2 * n + 2:3 * n + 2]


@functools.cache
def hopf_system(cm: CompiledModel, k: int) -> DefiningSystem:
    """The Hopf system of ``cm`` in parameter ``k``; constants ``c = (phi_r, phi_i)``."""
    n = len(cm.state_names)

    def residual(y, p, c):
        phi_r, phi_i = c
        x, lam, omega, vr, vi = split(y, n)
        q = p.at[k].set(lam)
        J = cm.jac_x(x, q)
        norm = jnp.stack([phi_r @ vr + phi_i @ vi - 1.0, phi_r @ vi - phi_i @ vr])
        return jnp.concatenate([cm.f(x, q), J @ vr + omega * vi, J @ vi - omega * vr, norm])

    def jacobian(y, p, c):
        """Assembled from the generated :math:`J`, :math:`f_p` and :math:`B` (no AD through
        the generated code in :math:`x`)."""
        phi_r, phi_i = c
        x, lam, omega, vr, vi = split(y, n)
        q = p.at[k].set(lam)
        J = cm.jac_x(x, q)
        fl = cm.jac_p(x, q)[:, k]
        Bx = jacobian_of_Jv(cm, x, q, jnp.stack([vr, vi]))  # (2, n, n): d(J v)/dx
        Jl = d_lambda_Jv(cm, k, x, q, jnp.stack([vr, vi]))  # (2, n)
        z, zc, eye = jnp.zeros((n, n)), jnp.zeros((n, 1)), jnp.eye(n)
        row_f = jnp.hstack([J, fl[:, None], zc, z, z])
        row_r = jnp.hstack([Bx[0], Jl[0][:, None], vi[:, None], J, omega * eye])
        row_i = jnp.hstack([Bx[1], Jl[1][:, None], -vr[:, None], -omega * eye, J])
        zeros = jnp.zeros(n + 2)
        norm = jnp.stack([jnp.concatenate([zeros, phi_r, phi_i]),
                          jnp.concatenate([zeros, -phi_i, phi_r])])
        return jnp.vstack([row_f, row_r, row_i, norm])

    return DefiningSystem(residual=residual, jacobian_fn=jacobian)


def jacobian_of_Jv(cm: CompiledModel, x, p, V):
    r""":math:`\partial (J v)/\partial x` for each row ``v`` of ``V`` ``(r, n)``: columns
    :math:`B(e_j, v)`, one vmapped call of the generated :math:`B`."""
    n = x.shape[0]
    r = V.shape[0]
    E = jnp.tile(jnp.eye(n), (r, 1))
    W = jnp.repeat(V, n, axis=0)
    cols = jax.vmap(cm.B, in_axes=(None, None, 0, 0))(x, p, E, W)  # (r*n, n): B(e_j, v)
    return cols.reshape(r, n, n).transpose(0, 2, 1)


def d_lambda_Jv(cm: CompiledModel, k: int, x, p, V):
    r""":math:`\partial_{p_k} (J v) = \partial_x(f_{p_k})\,v` for each row ``v`` of ``V``."""
    return jax.vmap(lambda v: jax.jvp(lambda z: cm.jac_p(z, p)[:, k], (x,), (v,))[1])(V)


def complex_B(cm: CompiledModel, x, p, u, v):
    """:math:`B(u, v)` for complex ``u, v`` from the real form (bilinearity)."""
    U = jnp.stack([u.real, u.imag, u.real, u.imag])
    V = jnp.stack([v.real, v.imag, v.imag, v.real])
    b = jax.vmap(cm.B, in_axes=(None, None, 0, 0))(x, p, U, V)
    return (b[0] - b[1]) + 1j * (b[2] + b[3])


def complex_C(cm: CompiledModel, x, p, u, v, w):
    """:math:`C(u, v, w)` for complex arguments from the real form (trilinearity)."""
    keys = [a + b + c for a in "ri" for b in "ri" for c in "ri"]
    part = {"r": lambda z: z.real, "i": lambda z: z.imag}
    U, V, W = (jnp.stack([part[key[j]](z) for key in keys]) for j, z in enumerate((u, v, w)))
    val = dict(zip(keys, jax.vmap(cm.C, in_axes=(None, None, 0, 0, 0))(x, p, U, V, W)))
    re = val["rrr"] - val["rii"] - val["iri"] - val["iir"]
    im = val["rri"] + val["rir"] + val["irr"] - val["iii"]
    return re + 1j * im


def unrolled_solve(A, b):
    r"""Solve :math:`Ax = b` (``(n, n)``, ``(n,)``, real or complex) by Gaussian elimination with
    partial pivoting written entry by entry (the row exchanges as selects), for use under
    ``vmap``: batched over the points of a curve, every entry becomes one vector over the
    points and the whole elimination a few fused loops, where a batched LAPACK solve is one
    call per point (3-5x slower for n = 4). :math:`O(n^3)` traced operations: for small n."""
    n = A.shape[0]
    M = [[A[i, j] for j in range(n)] + [b[i]] for i in range(n)]
    for j in range(n):
        for i in range(j + 1, n):  # the largest |M[i][j]| to row j
            swap = jnp.abs(M[i][j]) > jnp.abs(M[j][j])
            M[j], M[i] = ([jnp.where(swap, y, z) for z, y in zip(M[j], M[i])],
                          [jnp.where(swap, z, y) for z, y in zip(M[j], M[i])])
        for i in range(j + 1, n):
            f = M[i][j] / M[j][j]
            M[i] = [M[i][c] - f * M[j][c] if c > j else M[i][c] for c in range(n + 1)]
    x = [None] * n
    for i in reversed(range(n)):
        s = M[i][n]
        for c in range(i + 1, n):
            s = s - M[i][c] * x[c]
        x[i] = s / M[i][i]
    return jnp.stack(x)


def first_lyapunov(cm: CompiledModel, x, p, omega, q, left=None, solve=jnp.linalg.solve):
    r""":math:`l_1` at the Hopf point ``(x, p)`` with eigenvector ``q`` (any length and phase).

    ``left``: optionally the left eigenvector :math:`l` (:math:`l^T J = i\omega l^T`, any scale;
    then :math:`p = \bar l` up to scale), which spares the bordered solve for :math:`p` (one of
    three LU factorisations: batched over the points of a curve, each is a LAPACK call per
    point). :math:`B(q, \bar q)` is real, so :math:`J^{-1}B(q, \bar q)` is a real solve.
    ``solve``: the solver of the two :math:`n \times n` systems (:func:`unrolled_solve` where
    the call is batched over many points)."""
    n = x.shape[0]
    J = cm.jac_x(x, p)
    q = q / jnp.linalg.norm(q)
    if left is None:
        M = jnp.block([[J.T + 1j * omega * jnp.eye(n), q[:, None]],
                       [jnp.conj(q)[None, :], jnp.zeros((1, 1))]])
        rhs = jnp.concatenate([jnp.zeros(n), jnp.ones(1)]).astype(M.dtype)
        pv = jnp.linalg.solve(M, rhs)[:n]
    else:
        pv = jnp.conj(left)
    pv = pv / jnp.conj(jnp.vdot(pv, q))
    qb = jnp.conj(q)
    a11 = solve(J, jnp.real(complex_B(cm, x, p, q, qb))).astype(q.dtype)
    a20 = solve(2j * omega * jnp.eye(n) - J, complex_B(cm, x, p, q, q))
    val = (jnp.vdot(pv, complex_C(cm, x, p, q, q, qb))
           - 2.0 * jnp.vdot(pv, complex_B(cm, x, p, q, a11))
           + jnp.vdot(pv, complex_B(cm, x, p, qb, a20)))
    return jnp.real(val) / (2.0 * omega)
