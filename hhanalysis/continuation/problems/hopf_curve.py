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
(:func:`~.minimal.bialternate_adjoint`).
"""

from __future__ import annotations

import functools

import jax.numpy as jnp

from ...codegen import CompiledModel
from ..engine import ContinuationProblem
from .fold_curve import curve_params, minimal_jacobian
from .minimal import bialternate, bialternate_adjoint, bordered_scalar

__all__ = ["hopf_curve_problem", "hopf_matrix"]


@functools.cache
def hopf_curve_problem(cm: CompiledModel, free: tuple[int, int]) -> ContinuationProblem:
    """The Hopf curve of ``cm`` in the parameters with indices ``free``."""

    def residual(u, args):
        p0, b, c = args
        x, p = u[:-2], curve_params(u, p0, free)
        g = bordered_scalar(bialternate(cm.jac_x(x, p)), b, c)
        return jnp.concatenate([cm.f(x, p), g[None]])

    return ContinuationProblem(residual=residual,
                               jacobian=minimal_jacobian(cm, free, bialternate,
                                                         bialternate_adjoint),
                               tangent_from_newton=True)


def hopf_matrix(cm: CompiledModel, free: tuple[int, int], u, p0):
    """The matrix whose singularity defines the curve: :math:`2 f_x \\odot I`."""
    return bialternate(cm.jac_x(u[:-2], curve_params(u, p0, free)))
