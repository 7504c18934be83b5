r"""Records shared by every branch type: outcomes, special points and their normal-form data.

* :class:`Status` is the outcome of a branch (why it ended) or of the location of a special point,
  as a value; the human-readable message is derived from it and a few numbers (:class:`Stop`).
* :class:`SpecialPoint` is a slim record (where, how precisely, located or guessed) whose
  kind-specific data live in a typed record: :class:`HopfData`, :class:`FoldData` or
  :class:`CycleData`.
* :class:`ContinuationError` is raised by ``continue_*(..., throw=True)`` when the corrector fails.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Status", "Stop", "SpecialPoint", "HopfData", "FoldData", "CycleData",
           "BogdanovTakensData", "BautinData", "CuspData", "ZeroHopfData", "DoubleHopfData",
           "TurningData", "BranchPointData", "ContinuationError"]


class Status(enum.Enum):
    """Outcome of a branch or of the location of a special point.

    The values are the short strings stored in saved diagrams.
    """

    #: a special point located by Newton / root finding on its defining system.
    CONVERGED = "converged"
    #: location failed; the point is the interpolated detection (its ``message`` says why).
    GUESS = "guess"
    #: the branch reached a parameter bound (the last point lies on it).
    REACHED_BOUND = "reached bound"
    #: an equilibrium branch turned at a fold and came back to its start value.
    RETURNED_TO_START = "returned to start"
    #: the branch has ``max_steps`` points.
    MAX_STEPS = "max steps"
    #: the corrector failed even at ``ds_min``.
    STEP_TOO_SMALL = "step too small"
    #: the amplitude of the cycles went to 0: the cycle branch ends at a Hopf point.
    RETURNED_TO_HOPF = "returned to hopf"
    #: a period-doubled branch reached the primary branch again (its orbit became the primary
    #: orbit traversed twice: a period doubling of the primary branch).
    RETURNED_TO_PD = "returned to period doubling"
    #: the period exceeded ``max_period`` (approach to a homoclinic orbit).
    PERIOD_TOO_LARGE = "period too large"
    #: the period exceeded ``max_period`` where the orbit passes a saddle-node equilibrium: a
    #: saddle-node on an invariant circle (``Stop.param``: the fold of equilibria).
    SNIC = "snic"
    #: the period exceeded ``max_period`` where the orbit passes a hyperbolic saddle: a
    #: homoclinic orbit (``Stop.param``: the last orbit's parameter).
    HOMOCLINIC = "homoclinic"
    #: Newton on the defining system of a located point (:func:`~hhanalysis.hopf_point`, ...)
    #: did not converge.
    NO_CONVERGENCE = "no convergence"
    #: a Hopf curve ended at a Bogdanov–Takens point (beyond it the defining system describes
    #: neutral saddles, not Hopf points).
    REACHED_CODIM2 = "reached a codim-2 point"
    #: a two-parameter curve came back to its start point: it is a closed curve, and its points
    #: go round it once.
    CLOSED_CURVE = "closed curve"
    #: the corrector advanced only by steps below ``limit`` times the largest step of the run
    #: for ``value`` steps in a row (a curve of cycle bifurcations whose defining system
    #: degenerates, e.g. near a homoclinic orbit): the curve ends before them.
    STALLED = "stalled"


@dataclass(frozen=True)
class Stop:
    """Why and where a branch ended: the :class:`Status` and the numbers its message needs.

    Attributes:
        status: the outcome.
        param: the value of the (first) continuation parameter where the branch ended; for
            REACHED_BOUND and RETURNED_TO_START the bound itself.
        limit: MAX_STEPS: ``max_steps``; PERIOD_TOO_LARGE, SNIC, HOMOCLINIC: ``max_period``;
            STEP_TOO_SMALL: ``ds_min``.
        value: PERIOD_TOO_LARGE, SNIC, HOMOCLINIC: the period of the last orbit;
            STEP_TOO_SMALL: the Newton iterations allowed per step.
    """

    status: Status
    param: float = math.nan
    limit: float | None = None
    value: float | None = None

    def message(self, param_name: str = "param") -> str:
        """The human-readable reason, e.g. ``'reached the bound I=200'``."""
        s, p = self.status, f"{param_name}={self.param:.10g}"
        if s is Status.REACHED_BOUND:
            return f"reached the bound {param_name}={self.param:g}"
        if s is Status.RETURNED_TO_START:
            return f"returned to the start value {param_name}={self.param:g} (after a fold)"
        if s is Status.MAX_STEPS:
            return f"max steps ({self.limit:g})"
        if s is Status.STEP_TOO_SMALL:
            return (f"step size below ds_min={self.limit:g} at {p}: Newton did not converge in "
                    f"{self.value:g} iterations")
        if s is Status.RETURNED_TO_HOPF:
            return f"returned to an equilibrium at {p} (amplitude -> 0: the branch ends at a " \
                   f"Hopf point)"
        if s is Status.RETURNED_TO_PD:
            return (f"returned to the primary branch at {p} (the orbit is the primary one "
                    f"traversed twice: a period doubling of the primary branch)")
        if s is Status.PERIOD_TOO_LARGE:
            return (f"period {self.value:.6g} above max_period={self.limit:g} at {p} "
                    f"(approach to a homoclinic orbit?)")
        if s is Status.REACHED_CODIM2:
            return (f"ended at a Bogdanov-Takens point ({p}): beyond it the Hopf curve is a "
                    f"curve of neutral saddles")
        if s is Status.CLOSED_CURVE:
            return f"closed curve: came back to its start point ({p})"
        if s is Status.STALLED:
            return (f"stalled at {p}: the next {self.value:g} steps were all below "
                    f"{self.limit:g} of the largest (the defining system degenerates)")
        if s is Status.SNIC:
            return (f"period {self.value:.6g} above max_period={self.limit:g}: saddle-node on "
                    f"an invariant circle at {p} (the frequency goes to 0 there)")
        if s is Status.HOMOCLINIC:
            return (f"period {self.value:.6g} above max_period={self.limit:g}: homoclinic "
                    f"orbit to a saddle at {p}")
        return s.value

    def to_json(self) -> dict:
        return {"status": self.status.value, "param": self.param, "limit": self.limit,
                "value": self.value}

    @classmethod
    def from_json(cls, d: dict) -> Stop:
        return cls(Status(d["status"]), d["param"], d.get("limit"), d.get("value"))


class ContinuationError(RuntimeError):
    """A branch ended because the corrector failed (``throw=True``).

    Attributes:
        status: the :class:`Status` (STEP_TOO_SMALL).
        branch: the branch computed up to the failure.
    """

    def __init__(self, message: str, status: Status, branch):
        super().__init__(message)
        self.status = status
        self.branch = branch


# --------------------------------------------------------------------------------------------
# Special points
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class HopfData:
    r"""Normal-form data of a Hopf point.

    Attributes:
        omega: angular frequency of the critical pair :math:`\pm i\omega`, rad per time unit.
        eigenvector: the critical eigenvector q, :math:`J q = i\omega q`, :math:`|q| = 1`
            (None for a guess).
        l1: the first Lyapunov coefficient (None for a guess).
        criticality: 'subcritical' (:math:`\ell_1 > 0`), 'supercritical' or 'degenerate'
            (None for a guess).
    """

    omega: float
    eigenvector: np.ndarray | None = None
    l1: float | None = None
    criticality: str | None = None

    @property
    def period(self) -> float:
        r""":math:`2\pi/\omega`, the period of the cycles born there."""
        return 2 * math.pi / self.omega


@dataclass(frozen=True, eq=False)
class FoldData:
    r"""Data of a fold (limit point) of equilibria.

    Attributes:
        null_vector: unit :math:`v` with :math:`J v = 0`.
        a: the quadratic normal-form coefficient
            :math:`a = \tfrac12 p^T B(v, v)` (None when not computed).
    """

    null_vector: np.ndarray | None = None
    a: float | None = None


@dataclass(frozen=True, eq=False)
class CycleData:
    """Data of a special point on a cycle branch (LPC, PD, NS, UZ).

    Attributes:
        period: the period of the orbit.
        floquet_multipliers: the non-trivial multipliers, by decreasing modulus.
        x_max, x_min: maximum and minimum of every state over the orbit.
        orbit, mesh: the located orbit's collocation node values ``(ntst*ncol+1, n)`` and its
            mesh ``(ntst+1,)`` (what a branch switch at the point starts from, e.g.
            ``continue_cycles(model, pd_point)``); None in files of older versions.
    """

    period: float
    floquet_multipliers: np.ndarray | None = None
    x_max: np.ndarray | None = None
    x_min: np.ndarray | None = None
    orbit: np.ndarray | None = field(default=None, repr=False)
    mesh: np.ndarray | None = field(default=None, repr=False)


@dataclass(frozen=True, eq=False)
class BogdanovTakensData:
    r"""Bogdanov–Takens point: :math:`\dot w_0 = w_1,\ \dot w_1 = a w_0^2 + b w_0 w_1`
    (normalisation in :mod:`~hhanalysis.continuation.normal_forms`)."""

    a: float
    b: float


@dataclass(frozen=True, eq=False)
class BautinData:
    r"""Generalised Hopf (Bautin) point: :math:`\ell_1 = 0`; the second Lyapunov coefficient
    :math:`\ell_2` decides its type."""

    omega: float
    l2: float

    @property
    def period(self) -> float:
        return 2 * math.pi / self.omega


@dataclass(frozen=True, eq=False)
class CuspData:
    r"""Cusp point: :math:`\dot\xi = \beta_1 + \beta_2\xi + c\,\xi^3`."""

    c: float


@dataclass(frozen=True, eq=False)
class ZeroHopfData:
    r"""Zero-Hopf point: eigenvalues :math:`0, \pm i\omega`."""

    omega: float


@dataclass(frozen=True, eq=False)
class DoubleHopfData:
    r"""Double-Hopf point: eigenvalues :math:`\pm i\omega_1, \pm i\omega_2`."""

    omega1: float
    omega2: float


@dataclass(frozen=True, eq=False)
class TurningData:
    """A turning point of a two-parameter curve: the parameter ``param_name`` has a local
    ``extremum`` ('max' or 'min') there."""

    param_name: str
    extremum: str = ""


@dataclass(frozen=True, eq=False)
class BranchPointData:
    r"""Branch point of equilibria (BP): where :math:`DF = [f_x \,|\, f_\lambda]` has a
    two-dimensional null space, two branches cross.

    Attributes:
        tangent: the unit tangent ``(n+1,)`` in :math:`(x, \lambda)` of the branch the point
            was approached on (at the last point before it; what
            :func:`~hhanalysis.continue_equilibria` needs to start the other branch).
    """

    tangent: np.ndarray


_DATA = {"hopf": HopfData, "fold": FoldData, "cycle": CycleData, "bt": BogdanovTakensData,
         "gh": BautinData, "cusp": CuspData, "zh": ZeroHopfData, "hh": DoubleHopfData,
         "turn": TurningData, "bp": BranchPointData}


@dataclass(frozen=True, eq=False)
class SpecialPoint:
    """A bifurcation or other special point detected on a branch.

    Attributes:
        kind: 'hopf', 'fold' (limit point of equilibria), 'bp' (branch point); on cycle
            branches 'lpc' (fold of cycles), 'pd' (period doubling), 'ns' (torus), 'uz' (a
            requested parameter value, AUTO's UZR).
        index: the branch point after which it lies (it is between ``index`` and ``index+1``).
        param: the parameter value.
        state: the state vector there (for cycle points: the orbit at phase 0).
        status: :attr:`Status.CONVERGED` (located on its defining system) or
            :attr:`Status.GUESS` (the interpolated detection; ``message`` says why).
        precision: size of the last Newton correction of the location (parameter units); for a
            guess, the width of the bracket.
        param_name: the continuation parameter of the branch the point lies on.
        params: all parameter values at the point (so a cycle branch can start from it).
        message: why the location failed, or ''.
        data: the kind's own record: :class:`HopfData` (hopf), :class:`FoldData` (fold),
            :class:`CycleData` (lpc, pd, ns, uz), :class:`BranchPointData` (bp); on
            two-parameter curves
            :class:`BogdanovTakensData` (bt), :class:`BautinData` (gh), :class:`CuspData` (cp),
            :class:`ZeroHopfData` (zh), :class:`DoubleHopfData` (hh), :class:`TurningData`
            (lp).
    """

    kind: str
    index: int
    param: float
    state: np.ndarray
    status: Status
    precision: float
    param_name: str = ""
    params: dict | None = None
    message: str = ""
    data: HopfData | FoldData | CycleData | None = None

    @property
    def period(self) -> float | None:
        """The period of the orbit (cycle points) or :math:`2\\pi/\\omega` (Hopf points)."""
        return None if self.data is None or isinstance(self.data, (FoldData, BranchPointData)) \
            else self.data.period

    def __repr__(self) -> str:
        d, extra = self.data, ""
        if isinstance(d, CycleData):
            extra = f", period={d.period:.10g}"
        elif isinstance(d, HopfData):
            extra = f", omega={d.omega:.8g}, period={d.period:.8g}"
            if d.l1 is not None:
                extra += f", l1={d.l1:.6g} ({d.criticality})"
        return (f"SpecialPoint({self.kind}, param={self.param:.12g}{extra}, "
                f"status={self.status.value!r}, precision={self.precision:.1e})")

    # ------------------------------------------------------------ JSON (diagram files)
    def to_json(self) -> dict:
        """A JSON-ready dict (complex arrays as ``{"re": [...], "im": [...]}``)."""
        out = {"kind": self.kind, "index": int(self.index), "param": float(self.param),
               "state": _num(self.state), "status": self.status.value,
               "precision": float(self.precision), "param_name": self.param_name,
               "params": self.params, "message": self.message, "data": None}
        if self.data is not None:
            tag = next(k for k, c in _DATA.items() if isinstance(self.data, c))
            out["data"] = {"type": tag, **{k: _num(v) for k, v in vars(self.data).items()}}
        return out

    @classmethod
    def from_json(cls, d: dict) -> SpecialPoint:
        """Inverse of :meth:`to_json`; also reads the flat records of format-1 diagram files."""
        d = dict(d)
        if "data" in d:
            data = d.pop("data")
            if data is not None:
                data = dict(data)
                data = _DATA[data.pop("type")](**{k: _arr(v) for k, v in data.items()})
        else:  # format 1: every optional field flat on the record
            data = _legacy_data(d)
        base = {k: d.get(k) for k in ("kind", "index", "param", "precision", "param_name",
                                      "params", "message")}
        return cls(**base, state=_arr(d["state"]), status=Status(d["status"]), data=data)


def _legacy_data(d: dict):
    kind = d["kind"]
    if kind == "hopf" and d.get("omega") is not None:
        return HopfData(d["omega"], _arr(d.get("eigenvector")), d.get("l1"),
                        d.get("criticality"))
    if kind == "fold":
        return FoldData(_arr(d.get("eigenvector")))
    if kind in ("lpc", "pd", "ns", "uz") and d.get("period") is not None:
        return CycleData(d["period"], _arr(d.get("floquet_multipliers")), _arr(d.get("x_max")),
                         _arr(d.get("x_min")))
    return None


def _num(v):
    if v is None or isinstance(v, (str, int, float)):
        return v
    a = np.asarray(v)
    if np.iscomplexobj(a):
        return {"re": a.real.tolist(), "im": a.imag.tolist()}
    return a.tolist()


def _arr(v):
    if v is None or isinstance(v, (str, int, float)):
        return v
    if isinstance(v, dict):
        return np.asarray(v["re"]) + 1j * np.asarray(v["im"])
    return np.asarray(v)
