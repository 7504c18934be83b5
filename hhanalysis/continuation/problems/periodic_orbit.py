r"""Periodic orbits as a continuation problem: the collocation system in
:math:`u = (X/s, T, \lambda)` (:func:`~hhanalysis.continuation.collocation.collocation_problem`)
and what the driver needs around it.

* **Start at a Hopf point** :math:`(x_H, p_H)`, :math:`J q = i\omega q`: the trivial orbit
  :math:`x(\tau) = x_H`, :math:`T = 2\pi/\omega`, and the direction
  :math:`\phi(\tau) = \mathrm{Re}(q\,e^{2\pi i\tau})` (:func:`hopf_start`).
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

from ..collocation import (
    Discretisation,
    adapted_mesh,
    arclength_weights,
    collocation_problem,
    remesh,
)
from ..results import HopfData, SpecialPoint, Status, Stop

__all__ = ["collocation_problem", "Discretisation", "hopf_start", "amplitude", "EndTests",
           "adapt", "normalise", "remesh_u"]


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
