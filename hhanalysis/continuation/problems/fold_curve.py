r"""Curves of folds (limit points) of equilibria in two parameters, minimally augmented.

Unknowns :math:`u = (x, \lambda_1, \lambda_2)` (:math:`n + 2`), equations (:math:`n + 1`)

.. math::
    f(x, p) = 0, \qquad g(x, p) = 0,

with :math:`g` the bordered scalar of :math:`f_x` (:func:`~.minimal.bordered_scalar`), which
vanishes exactly where :math:`f_x` is singular. ``args = (p0, b, c)``: the parameter vector
(its two free entries are ignored) and the borders. The Jacobian is ``jax.jacfwd`` of the
residual (second derivatives of the generated :math:`f` through :math:`f_x`).
"""

from __future__ import annotations

import functools

import jax.numpy as jnp

from ...codegen import CompiledModel
from ..engine import ContinuationProblem
from .minimal import bordered_scalar

__all__ = ["fold_curve_problem", "curve_params"]


def curve_params(u, p0, free: tuple[int, int]):
    """The parameter vector at the curve point ``u = (x, lambda_1, lambda_2)``."""
    return p0.at[jnp.asarray(free)].set(u[-2:])


@functools.cache
def fold_curve_problem(cm: CompiledModel, free: tuple[int, int]) -> ContinuationProblem:
    """The fold curve of ``cm`` in the parameters with indices ``free``."""

    def residual(u, args):
        p0, b, c = args
        x, p = u[:-2], curve_params(u, p0, free)
        return jnp.concatenate([cm.f(x, p), bordered_scalar(cm.jac_x(x, p), b, c)[None]])

    return ContinuationProblem(residual=residual)


def fold_matrix(cm: CompiledModel, free: tuple[int, int], u, p0):
    """The matrix whose singularity defines the curve: :math:`f_x`."""
    return cm.jac_x(u[:-2], curve_params(u, p0, free))
