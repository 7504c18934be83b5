r"""Folds (limit points) of equilibria: the defining system and the normal-form coefficient.

Unknowns :math:`y = (x, \lambda, v)` (:math:`2n + 1`), :math:`\lambda = p_k`:

.. math::
    f(x, p) = 0, \qquad J v = 0, \qquad \langle\phi, v\rangle = 1,

with :math:`\phi` a fixed reference vector (the guess's null vector). The Jacobian is regular
at a fold whose zero eigenvalue is simple and which is transversal in :math:`\lambda`
(:math:`\langle w, f_\lambda\rangle \neq 0`) and non-degenerate (:math:`a \neq 0`) (Kuznetsov,
§10.2).

**Normal-form coefficient** of :math:`\dot\xi = \beta + a\xi^2` on the center manifold:
:math:`a = \tfrac12\langle w, B(v, v)\rangle` with :math:`\|v\| = 1`, :math:`J^T w = 0`,
:math:`\langle w, v\rangle = 1`; :math:`w` from the bordered system
:math:`\begin{pmatrix} J^T & v \\ v^T & 0\end{pmatrix}\begin{pmatrix} w \\ s\end{pmatrix}
= \begin{pmatrix} 0 \\ 1\end{pmatrix}`.
"""

from __future__ import annotations

import functools

import jax.numpy as jnp

from ...codegen import CompiledModel
from ..locate import DefiningSystem
from .hopf import d_lambda_Jv, jacobian_of_Jv

__all__ = ["fold_system", "split", "fold_coefficient"]


def split(y, n):
    """``(x, lambda, v)`` of the unknown vector."""
    return y[:n], y[n], y[n + 1:2 * n + 1]


@functools.cache
def fold_system(cm: CompiledModel, k: int) -> DefiningSystem:
    """The fold system of ``cm`` in parameter ``k``; constants ``c = phi``."""
    n = len(cm.state_names)

    def residual(y, p, phi):
        x, lam, v = split(y, n)
        q = p.at[k].set(lam)
        return jnp.concatenate([cm.f(x, q), cm.jac_x(x, q) @ v, (phi @ v - 1.0)[None]])

    def jacobian(y, p, phi):
        x, lam, v = split(y, n)
        q = p.at[k].set(lam)
        J = cm.jac_x(x, q)
        Bx = jacobian_of_Jv(cm, x, q, v[None])[0]
        Jl = d_lambda_Jv(cm, k, x, q, v[None])[0]
        return jnp.vstack([jnp.hstack([J, cm.jac_p(x, q)[:, k:k + 1], jnp.zeros((n, n))]),
                           jnp.hstack([Bx, Jl[:, None], J]),
                           jnp.concatenate([jnp.zeros(n + 1), phi])[None]])

    return DefiningSystem(residual=residual, jacobian_fn=jacobian)


def fold_coefficient(cm: CompiledModel, x, p, v):
    """:math:`a = \\tfrac12\\langle w, B(v, v)\\rangle` (``v`` normalised here)."""
    n = x.shape[0]
    v = v / jnp.linalg.norm(v)
    J = cm.jac_x(x, p)
    M = jnp.block([[J.T, v[:, None]], [v[None, :], jnp.zeros((1, 1))]])
    w = jnp.linalg.solve(M, jnp.zeros(n + 1).at[n].set(1.0))[:n]
    w = w / (w @ v)
    return 0.5 * w @ cm.B(x, p, v, v)
