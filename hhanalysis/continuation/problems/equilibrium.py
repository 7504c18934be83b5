r"""Equilibria :math:`f(x, p) = 0` with free parameters :math:`p_{k_1}, \dots, p_{k_q}`.

The unknown is :math:`u = (x, \lambda_1, \dots, \lambda_q)` and the residual
:math:`F(u, p_0) = f(x, p)` with :math:`p = p_0` except :math:`p_{k_i} = \lambda_i`; its Jacobian
is :math:`DF = [\partial f/\partial x \mid \partial f/\partial p_{k_1} \dots
\partial f/\partial p_{k_q}]`, from the generated derivatives. With one free parameter its zero
set is the equilibrium branch; defining systems of codim-1 curves (fold, Hopf) extend it with
their test functions and a second free parameter.
"""

from __future__ import annotations

import functools

import jax.numpy as jnp

from ...codegen import CompiledModel
from ..engine import ContinuationProblem

__all__ = ["equilibrium_problem", "with_param"]


def with_param(p, k: int, lam):
    """``p`` with ``p[k] = lam``."""
    return p.at[k].set(lam)


@functools.cache
def equilibrium_problem(cm: CompiledModel, free: tuple[int, ...]) -> ContinuationProblem:
    """The equilibrium problem of ``cm`` in the parameters with indices ``free``; ``args`` is
    the full parameter vector :math:`p_0` (its free entries are ignored)."""
    free = tuple(int(k) for k in free)
    q = len(free)
    # one free parameter: a static index (a dynamic-update-slice, not a scatter, in XLA)
    idx = free[0] if q == 1 else jnp.asarray(free)
    cols = slice(free[0], free[0] + 1) if q == 1 else idx

    def params(u, p0):
        return p0.at[idx].set(u[-1] if q == 1 else u[-q:])

    def residual(u, p0):
        return cm.f(u[:-q], params(u, p0))

    def jacobian(u, p0):
        p = params(u, p0)
        return jnp.hstack([cm.jac_x(u[:-q], p), cm.jac_p(u[:-q], p)[:, cols]])

    return ContinuationProblem(residual=residual, jacobian=jacobian)
