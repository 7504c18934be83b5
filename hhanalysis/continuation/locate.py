r"""Located points that JAX can differentiate: Newton on a defining system, implicit derivatives.

A *defining system* :math:`G(y, p; c) = 0` singles out a point :math:`y` (a Hopf point, a fold,
a periodic orbit, a fold of cycles, …) for the parameter vector :math:`p`; :math:`c` are
constants of the formulation (a normalisation vector, a phase reference, a mesh) that do not
change the point. Where :math:`G_y` is invertible the point is a smooth function
:math:`y^*(p)` and, by the implicit function theorem,

.. math::
    \frac{\partial y^*}{\partial p}\,\dot p = -G_y^{-1}\, G_p\,\dot p .

:func:`solve_point` computes :math:`y^*(p)` by Newton's method and gives JAX exactly this
derivative (a ``jax.custom_jvp``): ``jax.jvp``, ``jax.jacfwd``, ``jax.grad``, ``jax.jacrev``
and ``jax.vmap`` work, and never differentiate through the Newton iterations. The linear
solves with :math:`G_y` go through ``lax.custom_linear_solve`` with the system's own solver and
its transpose, so reverse mode works for structured (e.g. collocation) systems too.

**Reaching** :math:`p` from the guess: the guess :math:`y_0` is a point (or a close guess) of
the system at known parameters :math:`p_0`. Newton first polishes it at :math:`p_0`, then
follows the straight path :math:`p(s) = p_0 + s(p - p_0)`, :math:`s: 0 \to 1`, trying the
whole way first and halving the step when Newton fails (a parameter homotopy, doubling the
step after each success). So ``hopf_point(m, "I", 6.5, gK=g)`` works for any ``g`` the Hopf
point reaches continuously from the defaults, also inside ``jit``/``vmap`` where ``g`` has no
concrete value. The status of the whole solve is returned as a value.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["DefiningSystem", "solve_point", "NEWTON_TOL"]

#: Newton converges when :math:`\|\delta\|_\infty \le` tol :math:`(1 + \|y\|_\infty)`.
NEWTON_TOL = 1e-13


@dataclass(frozen=True, eq=False)
class DefiningSystem:
    r"""A square system :math:`G(y, p, c) = 0` and how to solve linear systems with :math:`G_y`.

    Attributes:
        residual: :math:`G(y, p, c)`, ``(m,), (n_params,), pytree -> (m,)``, traceable.
        jacobian_fn: optional :math:`G_y(y, p, c)` ``(m, m)``; default ``jax.jacfwd(residual)``
            (an analytic one from the generated derivatives compiles much faster).
        param_jvp: optional ``param_jvp(y, p, c, dp)`` :math:`= G_p\,\dot p`; default
            ``jax.jvp`` of ``residual`` in ``p`` (a system whose residual contains a linear
            solve gives a formula that is cheaper to transpose).
        solve: optional ``solve(y, p, c, b) -> x`` with :math:`G_y(y, p, c)\,x = b`; default: a
            dense solve of ``jax.jacfwd(residual)``.
        solve_transpose: optional ``solve_transpose(y, p, c, b) -> x`` with
            :math:`G_y^T x = b` (reverse mode); default: the dense transpose solve.
        newton_tol: relative tolerance of the Newton correction.
        max_iterations: Newton iterations per homotopy stage.
        min_step: smallest homotopy step before the solve gives up.
    """

    residual: Callable
    jacobian_fn: Callable | None = None
    param_jvp: Callable | None = None
    solve: Callable | None = None
    solve_transpose: Callable | None = None
    newton_tol: float = NEWTON_TOL
    max_iterations: int = 12
    min_step: float = 1.0 / 64

    def jacobian(self, y, p, c):
        if self.jacobian_fn is not None:
            return self.jacobian_fn(y, p, c)
        return jax.jacfwd(self.residual)(y, p, c)

    def matvec(self, y, p, c, v):
        """:math:`G_y v`."""
        if self.solve is None:
            return self.jacobian(y, p, c) @ v
        return jax.jvp(lambda z: self.residual(z, p, c), (y,), (v,))[1]

    def linear_solve(self, y, p, c, b):
        if self.solve is not None:
            return self.solve(y, p, c, b)
        return jnp.linalg.solve(self.jacobian(y, p, c), b)

    def linear_solve_transpose(self, y, p, c, b):
        if self.solve_transpose is not None:
            return self.solve_transpose(y, p, c, b)
        return jnp.linalg.solve(self.jacobian(y, p, c).T, b)


def _newton(system: DefiningSystem, y, p, c):
    """Newton's method at fixed ``p``: ``(y, converged)``."""
    tol = system.newton_tol

    def cond(st):
        _, it, d, ok = st
        return ok & (it < system.max_iterations) & (d > tol)

    def body(st):
        y, it, _, _ = st
        dy = system.linear_solve(y, p, c, system.residual(y, p, c))
        y_new = y - dy
        d = jnp.max(jnp.abs(dy)) / (1.0 + jnp.max(jnp.abs(y_new)))
        return y_new, it + 1, d, jnp.all(jnp.isfinite(y_new))

    y, _, d, ok = jax.lax.while_loop(cond, body, (y, 0, jnp.asarray(jnp.inf, y.dtype),
                                                  jnp.asarray(True)))
    return y, ok & (d <= 10 * tol)


def _homotopy(system: DefiningSystem, p, y0, p0, c):
    """Newton at ``p0`` from ``y0``, then along ``p0 + s (p - p0)`` to ``s = 1``; one Newton
    loop in the compiled graph (stage ``s = 0`` is the first pass of the same loop).

    Returns ``(y, converged)``; on failure ``y`` is the last converged point of the path."""
    one = jnp.asarray(1.0, y0.dtype)

    def cond(st):
        _, s, ds, started, ok = st
        return ok & (s < 1.0) & (ds >= system.min_step)

    def body(st):
        y, s, ds, started, _ = st
        s_new = jnp.where(started, jnp.minimum(s + ds, 1.0), 0.0)
        y_new, conv = _newton(system, y, p0 + s_new * (p - p0), c)
        ok = conv | started  # a guess that does not converge at p0 ends the solve
        return (jnp.where(conv, y_new, y), jnp.where(conv, s_new, s),
                jnp.where(conv | ~started, jnp.where(started, jnp.minimum(2.0 * ds, 1.0), ds),
                          0.5 * ds),
                jnp.asarray(True), ok)

    y, s, _, started, ok = jax.lax.while_loop(
        cond, body, (y0, -one, one, jnp.asarray(False), jnp.asarray(True)))
    return y, ok & (s >= 1.0)


@functools.cache
def _point_solver(system: DefiningSystem):
    """``solve(p, y0, p0, c) -> (y, converged)``, jitted, with the implicit derivative in ``p``
    (``y0``, ``p0``, ``c`` are treated as constants)."""

    @jax.custom_jvp
    def point(p, y0, p0, c):
        return _homotopy(system, p, y0, p0, c)

    @point.defjvp
    def point_jvp(primals, tangents):
        p, y0, p0, c = primals
        dp = tangents[0]
        y, ok = point(p, y0, p0, c)
        # G_p dp, then dy = -G_y^{-1} G_p dp with the system's solver (and its transpose)
        if system.param_jvp is not None:
            g_dp = system.param_jvp(y, p, c, dp)
        else:
            _, g_dp = jax.jvp(lambda q: system.residual(y, q, c), (p,), (dp,))

        def matvec(v):
            return system.matvec(y, p, c, v)

        dy = -jax.lax.custom_linear_solve(
            matvec, g_dp,
            solve=lambda _, b: system.linear_solve(y, p, c, b),
            transpose_solve=lambda _, b: system.linear_solve_transpose(y, p, c, b))
        return (y, ok), (dy, np.zeros(ok.shape, jax.dtypes.float0))

    def solve(p, y0, p0, c):
        stop = jax.lax.stop_gradient
        return point(p, stop(y0), stop(p0), jax.tree_util.tree_map(stop, c))

    return jax.jit(solve)


def solve_point(system: DefiningSystem, p, y0, p0, c):
    r"""The zero :math:`y^*(p)` of ``system`` reached from ``y0`` (a point or close guess at
    ``p0``), differentiable in ``p``.

    Arguments:
        system: the :class:`DefiningSystem`.
        p: the parameter vector ``(n_params,)`` (may be traced).
        y0: the guess at ``p0``; p0: the parameters of the guess.
        c: constants of the system (a pytree of arrays).

    Returns:
        ``(y, converged)``; ``converged`` is a boolean array (False: Newton failed at ``p0``
        or the homotopy step fell below ``system.min_step``).
    """
    return _point_solver(system)(jnp.asarray(p), jnp.asarray(y0), jnp.asarray(p0), c)
