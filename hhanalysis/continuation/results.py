"""Records shared by every branch type: special points."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

__all__ = ["SpecialPoint", "Status"]


class Status(enum.Enum):
    """Outcome of a located point."""

    CONVERGED = "converged"
    NO_CONVERGENCE = "Newton did not converge"


@dataclass(frozen=True)
class SpecialPoint:
    """A bifurcation or other special point detected on a branch.

    Attributes:
        kind: 'hopf', 'fold' (limit point of equilibria), 'bp' (branch point); on cycle
            branches 'lpc' (fold of cycles), 'pd' (period doubling), 'ns' (torus), 'uz' (a
            requested parameter value, AUTO's UZR).
        index: the branch point after which it lies (it is between ``index`` and ``index+1``).
        param: the parameter value.
        state: the state vector there.
        status: 'converged' (located by Newton on an augmented system) or 'guess' (the
            interpolated detection, when location failed; ``message`` says why).
        precision: size of the last Newton correction of the location (parameter units); for a
            guess, the width of the bracket.
        omega: (Hopf) angular frequency of the critical pair, rad per time unit.
        period: (Hopf) :math:`2\\pi/\\omega`; (cycle points) the period of the orbit.
        eigenvector: (Hopf) the critical eigenvector q, :math:`J q = i\\omega q`, |q| = 1;
            (fold) the null vector.
        l1: (Hopf) the first Lyapunov coefficient.
        criticality: (Hopf) 'subcritical' or 'supercritical' (from the sign of l1).
        message: why the location failed, or ''.
        param_name: the continuation parameter of the branch the point lies on.
        params: all parameter values at the point (so a cycle branch can start from it).
        floquet_multipliers: (cycle points) the non-trivial multipliers there, by modulus.
        x_max, x_min: (cycle points) maximum and minimum of every state over the orbit.
    """

    kind: str
    index: int
    param: float
    state: np.ndarray
    status: str
    precision: float
    omega: float | None = None
    period: float | None = None
    eigenvector: np.ndarray | None = None
    l1: float | None = None
    criticality: str | None = None
    message: str = ""
    param_name: str = ""
    params: dict | None = None
    floquet_multipliers: np.ndarray | None = None
    x_max: np.ndarray | None = None
    x_min: np.ndarray | None = None

    def __repr__(self) -> str:
        extra = ""
        if self.kind in ("lpc", "pd", "ns", "uz") and self.period is not None:
            extra = f", period={self.period:.10g}"
        if self.kind == "hopf" and self.omega is not None:
            extra = f", omega={self.omega:.8g}, period={self.period:.8g}"
            if self.l1 is not None:
                extra += f", l1={self.l1:.6g} ({self.criticality})"
        return (f"SpecialPoint({self.kind}, param={self.param:.12g}{extra}, "
                f"status={self.status!r}, precision={self.precision:.1e})")
