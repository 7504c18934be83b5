r"""Periodic orbits as a continuation problem: the collocation system in
:math:`u = (X/s, T, \lambda)` (:func:`~hhanalysis.continuation.collocation.collocation_problem`)
and what the driver needs around it.

* **Start at a Hopf point** :math:`(x_H, p_H)`, :math:`J q = i\omega q`: the trivial orbit
  :math:`x(\tau) = x_H`, :math:`T = 2\pi/\omega`, and the direction
  :math:`\phi(\tau) = \mathrm{Re}(q\,e^{2\pi i\tau})` (:func:`hopf_start`).
* **Start at a period doubling** (:func:`period_doubling_start`): the orbit :math:`x` of period
  :math:`T` traversed twice (period :math:`2T`), and the direction
  :math:`\phi(\tau) = v(2\tau)` on :math:`[0, \tfrac12]`, :math:`-v(2\tau - 1)` on
  :math:`[\tfrac12, 1]`, where :math:`v` solves the variational equation
  :math:`v' = T f_x(x(\tau)) v` with :math:`v(1) = -v(0)` (the Floquet eigenvector of the
  multiplier -1): the null direction of the doubled orbit's collocation system, along which
  the period-doubled branch leaves it (a pitchfork in the doubled problem).
* **End tests** on the accepted orbits (:class:`EndTests`): the period bound
  :math:`T > T_{max}` (approach to a homoclinic orbit), and the return to an equilibrium, a
  local minimum of the amplitude :math:`\max_j (\max_\tau x_j - \min_\tau x_j)` far below its
  maximum (the branch passes through the trivial orbit at another Hopf point).
* **Mesh adaptation** between chunks (:func:`adapt`): the orbit and the tangent interpolated
  on the mesh that equidistributes the local error estimate, the tangent renormalised in the
  arclength norm of the new mesh (:func:`normalise`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.integrate

from ..collocation import (
    Discretisation,
    adapted_mesh,
    arclength_weights,
    collocation_problem,
    evaluate,
    node_times,
    remesh,
)
from ..results import HopfData, SpecialPoint, Status, Stop

__all__ = ["collocation_problem", "Discretisation", "hopf_start", "period_doubling_start",
           "amplitude", "EndTests", "adapt", "normalise", "remesh_u"]


def hopf_start(hopf: SpecialPoint, disc: Discretisation, mesh):
    """The trivial orbit at the Hopf point and the unit direction of the cycle branch."""
    data = hopf.data
    if hopf.kind != "hopf" or not isinstance(data, HopfData) or data.eigenvector is None:
        raise ValueError(
            f"start must be a located Hopf point (kind 'hopf' with omega and eigenvector), "
            f"got kind={hopf.kind!r}, status={hopf.status.value!r}")
    tau = disc.node_times(mesh)
    q = np.asarray(data.eigenvector)
    phi = np.real(q[None, :] * np.exp(2j * np.pi * tau)[:, None])
    X0 = np.repeat(np.asarray(hopf.state, float)[None, :], tau.size, axis=0)
    u_h = disc.pack(X0, 2 * np.pi / data.omega, hopf.param)
    direction = disc.pack(phi, 0.0, 0.0)
    return u_h, direction / np.linalg.norm(direction)


def _pd_eigenfunction(jac_x, p, X, mesh, ncol, period):
    """``v(s)`` for s in [0, 1] (a callable): the solution of :math:`v' = T f_x(x(s)) v` from
    the monodromy eigenvector of the multiplier nearest -1, and that multiplier. The
    variational equation is integrated with scipy (DOP853, rtol 1e-11) along the collocation
    polynomial of the orbit."""
    n = X.shape[1]

    def rhs(s, y):
        x = evaluate(X, mesh, ncol, [s])[0]
        return (period * np.asarray(jac_x(x, p)) @ y.reshape(n, -1)).ravel()

    sol = scipy.integrate.solve_ivp(rhs, (0.0, 1.0), np.eye(n).ravel(), method="DOP853",
                                    rtol=1e-11, atol=1e-12, dense_output=True)
    mu, vecs = np.linalg.eig(sol.y[:, -1].reshape(n, n))
    k = int(np.argmin(np.abs(mu + 1.0)))
    v0 = np.real(vecs[:, k])
    return (lambda s: np.einsum("ij...,j->...i", sol.sol(s).reshape((n, n) + np.shape(s)), v0)
            ), complex(mu[k])


def period_doubling_start(jac_x, p, pd, disc: Discretisation):
    """The doubled orbit at the period-doubling point ``pd`` (a located PD point of a cycle
    branch, whose data carries the orbit and its mesh), its unit direction towards the
    period-doubled branch and the mesh (NTST of ``disc``, adapted to the doubled orbit).

    Raises:
        ValueError: ``pd`` is not a PD point with its orbit, or no multiplier is near -1.
    """
    data = pd.data
    if pd.kind != "pd" or getattr(data, "orbit", None) is None:
        raise ValueError(f"start must be a located period-doubling point (kind 'pd' with its "
                         f"orbit), got kind={pd.kind!r}")
    X, mesh, T = np.asarray(data.orbit), np.asarray(data.mesh), float(data.period)
    ncol = (X.shape[0] - 1) // (mesh.size - 1)
    v, mu = _pd_eigenfunction(jac_x, p, X, mesh, ncol, T)
    if abs(mu + 1.0) > 1e-3:
        raise ValueError(f"start: no Floquet multiplier near -1 at the PD point (nearest: "
                         f"{mu:.6g}); is it a converged period-doubling point?")

    def doubled(tau):
        s = np.mod(2.0 * tau, 1.0)
        first = (2.0 * tau < 1.0)[:, None]
        x = evaluate(X, mesh, ncol, s)
        d = v(s)
        return x, np.where(first, d, -d)

    new = np.linspace(0.0, 1.0, disc.ntst + 1)
    for _ in range(2):  # the mesh adapted to the doubled orbit
        x2, _ = doubled(node_times(new, disc.ncol))
        new = adapted_mesh(x2, new, disc.ncol)
    x2, phi = doubled(node_times(new, disc.ncol))
    u = disc.pack(x2, 2.0 * T, pd.param)
    direction = normalise(disc.pack(phi, 0.0, 0.0), new, disc)
    return u, direction, new


def remesh_u(disc, u, mesh, new_mesh, ncol):
    """``u = (X/s, T, lambda)`` with its orbit interpolated from ``mesh`` onto ``new_mesh``."""
    X = remesh(disc.orbit(u), mesh, new_mesh, ncol)
    return disc.pack(X, u[-2], u[-1])


def amplitude(disc, U):
    """Largest peak-to-peak range over the states, per orbit."""
    X = disc.orbit(np.asarray(U))
    return np.max(X.max(axis=-2) - X.min(axis=-2), axis=-1)


@dataclass
class EndTests:
    """Stop tests on the orbits of a chunk: the period bound, and the return to an equilibrium
    (a local minimum of the amplitude far below its maximum: the branch passes through the
    trivial orbit at a Hopf point and would retrace itself)."""

    max_period: float
    amp0: float
    amp_max: float = 0.0
    last: float = 0.0

    def __post_init__(self):
        self.amp_max = self.last = self.amp0

    def check(self, U, amps):
        """``amps``: the previous amplitude, then those of ``U``. Returns ``(how many orbits
        to keep, the :class:`Stop` or None)``."""
        self.amp_max = max(self.amp_max, float(amps.max()))
        cut, reason = len(U), None
        too_long = np.flatnonzero(U[:, -2] > self.max_period)
        nxt = np.concatenate([amps[2:], [np.inf]])
        back = np.flatnonzero((amps[1:] < 0.02 * self.amp_max) & (amps[1:] < amps[:-1])
                              & (amps[1:] <= nxt) & (self.amp_max > 20.0 * self.amp0))
        if too_long.size:
            cut = int(too_long[0]) + 1
            reason = Stop(Status.PERIOD_TOO_LARGE, float(U[cut - 1, -1]), self.max_period,
                          float(U[cut - 1, -2]))
        if back.size and back[0] + 1 <= cut:
            cut = int(back[0]) + 1
            reason = Stop(Status.RETURNED_TO_HOPF, float(U[cut - 1, -1]))
        self.last = float(amps[cut])
        return cut, reason


def adapt(disc, u, t, mesh, ncol):
    """The orbit and the tangent on a new, adapted mesh."""
    new_mesh = adapted_mesh(disc.orbit(u), mesh, ncol)
    u = remesh_u(disc, u, mesh, new_mesh, ncol)
    t = normalise(remesh_u(disc, t, mesh, new_mesh, ncol), new_mesh, disc)
    return u, t, new_mesh


def normalise(t, mesh, disc):
    """``t`` scaled to unit arclength norm on ``mesh``."""
    w = arclength_weights(np.diff(mesh), disc.ncol, disc.n)
    return t / np.sqrt(np.sum(w * t * t))
