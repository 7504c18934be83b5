r"""Fitting model parameters so that bifurcation points land on targets.

The located points of :mod:`~hhanalysis.continuation.points` are differentiable functions of the
parameters, so placing a Hopf point, a fold of cycles or a firing rate is a (small) nonlinear
least-squares problem

.. math::
    \min_\theta \tfrac12\|r(\theta)\|^2, \qquad
    r(\theta) = \big(I_{\mathrm{Hopf}}(\theta) - 12,\ 1000/T_{\mathrm{LPC}}(\theta) - 60\big),

solved here by Levenberg–Marquardt with the Jacobian of :math:`r` by forward mode
(``jax.jacfwd`` through the implicit derivatives of the points: one linear solve per parameter
and point, no differentiation through Newton). The loop over iterations is ours, not
``optimistix.least_squares``: each iterate's located points are the next iterate's guesses,
which a jitted solver loop cannot carry (there every evaluation follows the parameter path from
the starting guesses again), and nothing but the per-point solvers is compiled (optimistix
compiles the whole residual for every new residual function). The HH example of the docs page:
11 steps and 8.1 s warm here, 20 steps and 15.0 s warm with optimistix's Levenberg–Marquardt,
the same answer (``benchmarks/bench_points.py --fit``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from .precision import float64

__all__ = ["FitResult", "fit"]


@dataclass(frozen=True)
class FitResult:
    """The outcome of :func:`fit`.

    Attributes:
        params: the fitted parameter values, ``name -> float``.
        residuals: :math:`r` at the fitted values.
        steps: Levenberg–Marquardt steps taken.
        converged: whether the solver met its tolerances.
        message: the solver's outcome in words.
        start: the starting values; start_residuals: :math:`r` there.
    """

    params: dict
    residuals: np.ndarray
    steps: int
    converged: bool
    message: str
    start: dict
    start_residuals: np.ndarray

    def __repr__(self) -> str:
        vals = ", ".join(f"{k}={v:.8g}" for k, v in self.params.items())
        return (f"FitResult({vals}; |r| = {np.max(np.abs(self.residuals)):.2e} after "
                f"{self.steps} steps, {self.message})")


@float64
def fit(residuals: Callable, start: Mapping[str, float], *, tol: float = 1e-10,
        max_steps: int = 50) -> FitResult:
    r"""Parameters :math:`\theta` that make ``residuals`` zero, by Levenberg–Marquardt.

    ``residuals(params, guesses) -> (r, points)``: ``params`` a dict of parameter values (JAX
    scalars), ``guesses`` the ``points`` it returned at the last accepted iterate (None at
    the start). Returning the located points and using them as the next guesses keeps every
    Newton solve short (the points move little between iterates)::

        def residuals(ps, guesses):
            h0, l0 = guesses or (9.8, cycle_branch)
            h = hh.hopf_point(m, "I", h0, **ps)
            lpc = hh.lpc_point(m, "I", l0, **ps)
            return jnp.stack([h.param - 12.0, 1000.0 / lpc.period - 60.0]), (h, lpc)

    The Jacobian of :math:`r` is ``jax.jacfwd`` (forward mode through the implicit
    derivatives of the points). Each step solves
    :math:`(J^TJ + \mu\,\mathrm{diag}(J^TJ))\,\delta = -J^Tr`; a step that lowers
    :math:`\|r\|` is taken and :math:`\mu` shrinks, otherwise :math:`\mu` grows.

    Arguments:
        residuals: see above.
        start: the starting values, ``name -> value``.
        tol: stop when :math:`\|r\|_\infty \le` tol, or when the step is below
            tol :math:`(1 + \|\theta\|_\infty)`.
        max_steps: most steps.

    Returns:
        :class:`FitResult`.

    Raises:
        ValueError: an empty or non-finite ``start``, bad ``tol`` or ``max_steps``.
    """
    if not start:
        raise ValueError("start: give at least one parameter to fit, e.g. {'gK': 36.0}")
    for name, v in start.items():
        if not isinstance(v, (int, float, np.floating, np.integer)) or not math.isfinite(v):
            raise ValueError(f"start[{name!r}] must be a finite number, got {v!r}")
    if not (isinstance(tol, (int, float)) and tol > 0):
        raise ValueError(f"tol must be a number > 0, got {tol!r}")
    if int(max_steps) != max_steps or max_steps < 1:
        raise ValueError(f"max_steps must be a positive integer, got {max_steps!r}")
    names = list(start)

    def evaluate(theta, guesses):
        def r(th):
            val, pts = residuals(dict(zip(names, th)), guesses)
            return jnp.atleast_1d(jnp.asarray(val)), pts

        J, (val, pts) = jax.jacfwd(lambda th: (r(th)[0], r(th)), has_aux=True)(theta)
        return np.asarray(val), np.asarray(J), pts

    theta = np.array([float(start[k]) for k in names])
    r, J, points = evaluate(jnp.asarray(theta), None)
    r0, mu, steps, message = r, 1e-3, 0, f"no convergence in {max_steps} steps"
    while steps < max_steps:
        if np.max(np.abs(r)) <= tol:
            message = "converged"
            break
        A, g = J.T @ J, J.T @ r
        delta = np.linalg.solve(A + mu * np.diag(np.diag(A)), -g)
        steps += 1
        try:
            r_new, J_new, pts_new = evaluate(jnp.asarray(theta + delta), points)
            better = np.all(np.isfinite(r_new)) and r_new @ r_new < r @ r
        except Exception:  # a point not found at the trial parameters: a shorter step
            better = False
        if better:
            theta, r, J, points, mu = theta + delta, r_new, J_new, pts_new, mu / 3.0
            if np.max(np.abs(delta)) <= tol * (1.0 + np.max(np.abs(theta))):
                message = "converged (step below tol)"
                break
        else:
            mu *= 4.0
    else:
        if np.max(np.abs(r)) <= tol:
            message = "converged"
    return FitResult(params=dict(zip(names, map(float, theta))), residuals=r, steps=steps,
                     converged=message.startswith("converged"), message=message,
                     start={k: float(start[k]) for k in names}, start_residuals=r0)
