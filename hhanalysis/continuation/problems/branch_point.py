r"""Branch points of equilibria (BP): location and the direction of the other branch.

At a branch point of :math:`F(x, \lambda) = f(x, p(\lambda)) = 0` the :math:`n \times (n+1)`
Jacobian :math:`DF = [f_x \,|\, f_\lambda]` has rank :math:`n - 1`: two branches cross (a
transcritical or, with a symmetry, a pitchfork bifurcation).

**Location.** With :math:`\psi` the left null vector of :math:`f_x`,

.. math::
    f(x, \lambda) = 0,\qquad f_x^T\psi = 0,\qquad \psi^T f_\lambda = 0,\qquad
    \psi^T\psi = 1

are :math:`2n + 2` equations in the :math:`2n + 1` unknowns :math:`(x, \lambda, \psi)`: a
consistent overdetermined system (a BP is not generic in one-parameter families; it persists
where a symmetry or an invariant subspace makes it so), solved by Gauss–Newton, which
converges quadratically to a solution of a consistent system (Allgower & Georg, *Numerical
Continuation Methods*, §8).

**The other branch** (Keller's algebraic bifurcation equation; Kuznetsov, *Elements of
Applied Bifurcation Theory*, 3rd ed., §10.2.2): with :math:`\varphi_1` the tangent of the known
branch and :math:`\varphi_2` the unit vector orthogonal to it in the null space of :math:`DF`,
the tangents :math:`\alpha\varphi_1 + \beta\varphi_2` of the branches through the point solve

.. math::
    a_{11}\alpha^2 + 2a_{12}\alpha\beta + a_{22}\beta^2 = 0,\qquad
    a_{ij} = \psi^T D^2F[\varphi_i, \varphi_j],

of which :math:`(1, 0)` is one (:math:`a_{11} = 0`); the other is
:math:`(\alpha, \beta) \propto (a_{22}, -2a_{12})`.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from ...codegen import CompiledModel

__all__ = ["locate_branch_point", "other_branch"]


def _F(cm: CompiledModel, k: int, u, p0):
    return cm.f(u[:-1], p0.at[k].set(u[-1]))


@functools.cache
def _gauss_newton(cm: CompiledModel, k: int):
    n = len(cm.state_names)

    def G(y, p0):
        u, psi = y[:n + 1], y[n + 1:]
        DF = jax.jacfwd(lambda w: _F(cm, k, w, p0))(u)
        return jnp.concatenate([_F(cm, k, u, p0), DF.T @ psi, (psi @ psi - 1.0)[None]])

    def solve(y, p0):
        def step(carry):
            y, _, i = carry
            J = jax.jacfwd(G)(y, p0)
            d = jnp.linalg.lstsq(J, -G(y, p0))[0]
            return y + d, jnp.max(jnp.abs(d)), i + 1

        def more(carry):
            y, d, i = carry
            return (d > 1e-13 * (1.0 + jnp.max(jnp.abs(y)))) & (i < 30)

        y, d, i = jax.lax.while_loop(more, step, (y, jnp.inf, 0))
        return y, d, jnp.max(jnp.abs(G(y, p0)))

    return jax.jit(solve)


def locate_branch_point(cm: CompiledModel, k: int, p0, u):
    r"""Gauss–Newton on the BP system from ``u = (x, lambda)``.

    Returns ``(u, psi, last step, residual)``: the located point, the left null vector of
    :math:`f_x`, the size of the last Gauss–Newton correction and the largest residual."""
    p0 = jnp.asarray(p0)
    J = np.asarray(cm.jac_x(jnp.asarray(u[:-1]), p0.at[k].set(u[-1])))
    U, _, _ = np.linalg.svd(J)
    y0 = jnp.asarray(np.concatenate([u, U[:, -1]]))
    y, d, res = (np.asarray(a) for a in _gauss_newton(cm, k)(y0, p0))
    n = u.size - 1
    return y[:n + 1], y[n + 1:], float(d), float(res)


def other_branch(cm: CompiledModel, k: int, p0, u, tangent) -> np.ndarray:
    r"""The unit tangent :math:`\alpha\varphi_1 + \beta\varphi_2` of the other branch through
    the branch point ``u``, given the ``tangent`` of the known one (see the module's
    docstring)."""
    p0 = jnp.asarray(p0)
    uj = jnp.asarray(u)
    DF = np.asarray(jax.jacfwd(lambda w: _F(cm, k, w, p0))(uj))
    Ul, _, Vt = np.linalg.svd(DF)  # Vt: (n+1, n+1); the last two rows span the null space
    psi = Ul[:, -1]
    null = Vt[-2:]
    phi1 = null.T @ (null @ np.asarray(tangent, float))
    phi1 /= np.linalg.norm(phi1)
    phi2 = null.T @ np.array([-(null @ phi1)[1], (null @ phi1)[0]])
    phi2 /= np.linalg.norm(phi2)

    def d2(a, b):
        inner = lambda w: jax.jvp(lambda v: _F(cm, k, v, p0), (w,), (jnp.asarray(b),))[1]  # noqa: E731
        return float(psi @ np.asarray(jax.jvp(inner, (uj,), (jnp.asarray(a),))[1]))

    a12, a22 = d2(phi1, phi2), d2(phi2, phi2)
    if abs(a12) + abs(a22) == 0.0:
        d = phi2  # a degenerate point: the orthogonal direction
    else:
        d = a22 * phi1 - 2.0 * a12 * phi2
    return d / np.linalg.norm(d)
