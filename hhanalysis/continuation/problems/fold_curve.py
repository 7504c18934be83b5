r"""Curves of folds (limit points) of equilibria in two parameters, minimally augmented.

Unknowns :math:`u = (x, \lambda_1, \lambda_2)` (:math:`n + 2`), equations (:math:`n + 1`)

.. math::
    f(x, p) = 0, \qquad g(x, p) = 0,

with :math:`g` the bordered scalar of :math:`f_x` (:func:`~.minimal.bordered_scalar`), which
vanishes exactly where :math:`f_x` is singular. ``args = (p0, b, c)``: the parameter vector
(its two free entries are ignored) and the borders. The Jacobian is assembled by
:func:`minimal_jacobian`: :math:`(f_x, f_p)` from the generated derivatives and
:math:`g_u = -w^T (f_x)_u v` (:func:`~.minimal.bordered_scalar`) as one reverse pass through
:math:`\langle w v^T, f_x(u)\rangle`.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from ...codegen import CompiledModel
from ..engine import ContinuationProblem
from .minimal import bordered_scalar, bordered_vectors

__all__ = ["fold_curve_problem", "curve_params", "minimal_jacobian"]


def curve_params(u, p0, free: tuple[int, int]):
    """The parameter vector at the curve point ``u = (x, lambda_1, lambda_2)``."""
    return p0.at[jnp.asarray(free)].set(u[-2:])


def minimal_jacobian(cm: CompiledModel, free: tuple[int, int], matrix, adjoint):
    r"""The residual and the Jacobian ``(u, args) -> ((n+1,), (n+1, n+2))`` of the minimally
    augmented system
    :math:`f = 0,\ g = 0` with :math:`g` the bordered scalar of ``matrix(f_x)``:

    .. math::
        \begin{pmatrix} f_x & f_{\lambda} \\ g_x & g_{\lambda} \end{pmatrix}, \qquad
        g_u = -\frac{\partial}{\partial u} \langle C, f_x(u) \rangle, \quad
        C = \text{adjoint}(w, v),

    with :math:`v, w` the bordered right and left solutions at :math:`u`
    (:func:`~.minimal.bordered_vectors`) held fixed, and ``adjoint(w, v)`` the matrix with
    :math:`\langle C, A\rangle = w^T \text{matrix}(A)\, v` (:math:`w v^T` for folds, the
    bialternate adjoint for Hopf curves). One LU of the bordered matrix (which gives :math:`g`
    too) and one reverse pass through the generated :math:`f_x`, instead of
    forward-differentiating the solve in every unknown (~3x cheaper for HH)."""
    idx = jnp.asarray(free)

    def residual_jacobian(u, args):
        p0, b, c = args
        x, p = u[:-2], curve_params(u, p0, free)
        fx = cm.jac_x(x, p)
        g, v, w, _ = bordered_vectors(matrix(fx), b, c)
        C = adjoint(w, v)
        g_u = jax.grad(lambda z: -jnp.sum(C * cm.jac_x(z[:-2], curve_params(z, p0, free))))(u)
        return (jnp.concatenate([cm.f(x, p), g[None]]),
                jnp.concatenate([jnp.concatenate([fx, cm.jac_p(x, p)[:, idx]], 1), g_u[None]]))

    return residual_jacobian


def _outer(w, v):
    return w[:, None] * v[None, :]


@functools.cache
def fold_curve_problem(cm: CompiledModel, free: tuple[int, int]) -> ContinuationProblem:
    """The fold curve of ``cm`` in the parameters with indices ``free``."""

    def residual(u, args):
        p0, b, c = args
        x, p = u[:-2], curve_params(u, p0, free)
        return jnp.concatenate([cm.f(x, p), bordered_scalar(cm.jac_x(x, p), b, c)[None]])

    both = minimal_jacobian(cm, free, lambda A: A, _outer)
    return ContinuationProblem(residual=residual, jacobian=lambda u, args: both(u, args)[1],
                               residual_jacobian=both, tangent_from_newton=True)


def fold_matrix(cm: CompiledModel, free: tuple[int, int], u, p0):
    """The matrix whose singularity defines the curve: :math:`f_x`."""
    return cm.jac_x(u[:-2], curve_params(u, p0, free))
