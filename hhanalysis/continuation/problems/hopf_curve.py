r"""Curves of Hopf points of equilibria in two parameters, minimally augmented (bialternate).

Unknowns :math:`u = (x, \lambda_1, \lambda_2)` (:math:`n + 2`), equations (:math:`n + 1`)

.. math::
    f(x, p) = 0, \qquad g(x, p) = 0,

with :math:`g` the bordered scalar (:func:`~.minimal.bordered_scalar`) of the bialternate
product :math:`2 f_x \odot I` (:func:`~.minimal.bialternate`), singular where two eigenvalues of
:math:`f_x` sum to zero. This set is the Hopf curve (:math:`\pm i\omega`) continued, through a
Bogdanov–Takens point (:math:`\omega \to 0`), by the curve of neutral saddles
(:math:`\pm\mu`); the two are told apart by :math:`\kappa = \lambda_i\lambda_j` of the critical
pair (:math:`\kappa = \omega^2 > 0` on the Hopf part). Unlike the standard augmented system
(with :math:`\omega` and the eigenvector as unknowns), this one stays regular at the
Bogdanov–Takens point, which can therefore be located on it. ``args = (p0, b, c)``. The
Jacobian is :func:`~.fold_curve.minimal_jacobian` with the bialternate adjoint
(:func:`~.minimal.bialternate_adjoint`); a chunk of steps ends where the critical pair
becomes real (:func:`pair_product` < 0), past a Bogdanov–Takens point.
"""

from __future__ import annotations

import functools

import jax.numpy as jnp
import numpy as np

from ...codegen import CompiledModel
from ..engine import ContinuationProblem
from .fold_curve import curve_params, minimal_jacobian
from .minimal import bialternate, bialternate_adjoint, bordered_scalar, bordered_vectors

__all__ = ["hopf_curve_problem", "hopf_matrix", "pair_product"]


@functools.cache
def hopf_curve_problem(cm: CompiledModel, free: tuple[int, int]) -> ContinuationProblem:
    """The Hopf curve of ``cm`` in the parameters with indices ``free``."""

    def residual(u, args):
        p0, b, c = args
        x, p = u[:-2], curve_params(u, p0, free)
        g = bordered_scalar(bialternate(cm.jac_x(x, p)), b, c)
        return jnp.concatenate([cm.f(x, p), g[None]])

    def past_bogdanov_takens(u, args):
        r"""The critical pair is real (:math:`\kappa < 0`): a neutral saddle, past a BT point."""
        p0, b, c = args
        J = cm.jac_x(u[:-2], curve_params(u, p0, free))
        return pair_product(J, bordered_vectors(bialternate(J), b, c)[1]) < 0

    both = minimal_jacobian(cm, free, bialternate, bialternate_adjoint)
    return ContinuationProblem(residual=residual, jacobian=lambda u, args: both(u, args)[1],
                               residual_jacobian=both, tangent_from_newton=True,
                               stop=past_bogdanov_takens)


def pair_product(J, v):
    r""":math:`\kappa = \lambda_i\lambda_j` of the pair of eigenvalues of ``J`` with
    :math:`\lambda_i + \lambda_j = 0` (:math:`\omega^2` at a Hopf point, :math:`-\mu^2` at a
    neutral saddle), from the null vector ``v`` of :math:`2J \odot I`, without eigenvalues:
    ``v`` is the antisymmetric matrix :math:`V = a b^T - b a^T` (:math:`V_{pq} = v_{(p,q)}`,
    :math:`p > q`) of a basis :math:`a, b` of the pair's invariant plane, on which
    :math:`J^2 = -\kappa I` (Cayley–Hamilton, trace 0), so
    :math:`\kappa = -\langle V, J^2 V\rangle / \langle V, V\rangle`. Exact where ``v`` is
    the null vector; the chunks use it to stop past a Bogdanov–Takens point."""
    n = J.shape[0]
    p, q = np.tril_indices(n, -1)
    order = np.lexsort((q, p))  # the pairs (p, q), p > q, in lexicographic order
    p, q = p[order], q[order]
    V = jnp.zeros((n, n), J.dtype).at[p, q].set(v).at[q, p].set(-v)
    JV = jnp.sum(J[:, :, None] * V[None, :, :], axis=1)
    JtV = jnp.sum(J[:, :, None] * V[:, None, :], axis=0)  # J^T V
    return -jnp.sum(JtV * JV) / jnp.sum(V * V)


def hopf_matrix(cm: CompiledModel, free: tuple[int, int], u, p0):
    """The matrix whose singularity defines the curve: :math:`2 f_x \\odot I`."""
    return bialternate(cm.jac_x(u[:-2], curve_params(u, p0, free)))
