r"""Continuation of periodic orbits (AUTO's IPS=2): branch switching at Hopf points, Floquet
multipliers, folds of cycles (LPC), period doubling (PD) and torus (NS) points.

The orbit is discretised by orthogonal collocation (:mod:`~hhanalysis.continuation.collocation`)
and followed by the continuation driver (:func:`hhanalysis.continuation.driver.run`) in the
unknowns (orbit, period :math:`T`, parameter); between chunks of steps its hooks test the end of
the branch, detect and locate special points on the new orbits and adapt the mesh
(:mod:`~hhanalysis.continuation.problems.periodic_orbit`).

**Start at a Hopf point** :math:`(x_H, p_H)` with :math:`J q = i\omega q`: the cycle branch
leaves the equilibrium in the direction :math:`\phi(\tau) = \mathrm{Re}(q\,e^{2\pi i\tau})`
with :math:`T = 2\pi/\omega`. The first orbit solves the collocation system with the extra
condition :math:`\langle u - u_H, \phi\rangle = \varepsilon` (``settings.ds``), so no guess is
needed; the branch is then oriented so that the amplitude grows.

**Floquet multipliers** are the eigenvalues of the monodromy matrix from the reduced collocation
system (:func:`~hhanalysis.continuation.collocation.collocation_problem`). The multiplier nearest
1 is the trivial one; its distance to 1 is reported for every orbit (``trivial_error``). An orbit
is stable when every other multiplier has modulus below 1.

**Detection** between consecutive points: LPC where the parameter component of the tangent
changes sign; PD where :math:`\prod (\mu_i + 1)` over the non-trivial multipliers changes sign; NS
where a complex pair crosses the unit circle. **Location** by the secant method on the step
length from the point before: a point with test function below the tolerance is 'converged'.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np
import scipy.integrate
import scipy.interpolate
import scipy.linalg
import scipy.optimize

from .._trace_cache import device_array, program_for
from ..equilibria import find_equilibria, spectrum_order
from ..models import ODEModel
from ..precision import float64
from . import driver
from .collocation import (
    Collocation,
    Discretisation,
    adapted_mesh,
    collocation_problem,
    evaluate,
)
from .engine import PALC, ContinuationSettings
from .problems.periodic_orbit import EndTests as _EndTests
from .problems.periodic_orbit import adapt as _adapt
from .problems.periodic_orbit import amplitude as _amplitude
from .problems.periodic_orbit import hopf_start as _hopf_start
from .problems.periodic_orbit import normalise as _normalise
from .problems.periodic_orbit import period_doubling_start as _pd_start
from .results import ContinuationError, CycleData, HopfData, SpecialPoint, Status, Stop

__all__ = ["CycleBranch", "continue_cycles", "CYCLE_SETTINGS", "HomoclinicEnd", "SimulatedOrbit",
           "classify_end", "simulate_cycle"]

#: Default continuation settings for cycles: AUTO's DS=0.01, EPSL=EPSU=1e-10, ITNW=7, but the
#: step grows while Newton needs fewer than 4 iterations (AUTO: 3) up to DSMAX=2 (AUTO: 0.5 in
#: its own norm): ~140 orbits per HH branch instead of ~400, with the same located points.
CYCLE_SETTINGS = ContinuationSettings(ds=0.01, ds_min=1e-6, ds_max=2.0, max_steps=2000,
                                      newton_tol=1e-10, max_newton_iterations=7,
                                      target_newton_iterations=4)

_LOCATE_TOL = 1e-8
_LOCATE_ITERATIONS = 20


@dataclass(frozen=True)
class CycleBranch:
    """A branch of periodic orbits in one parameter.

    Attributes:
        model: the model (its defaults hold the fixed parameters).
        param_name: the continuation parameter.
        param: parameter values, ``(M,)``.
        period: periods (model time units), ``(M,)``.
        x_max, x_min: maximum and minimum of every state over the orbit (at the collocation
            nodes), ``(M, n)``.
        floquet_multipliers: non-trivial multipliers by decreasing modulus, ``(M, n-1)``.
        trivial_error: :math:`|\\mu_{trivial} - 1|` per orbit, ``(M,)``.
        stable: every non-trivial multiplier inside the unit circle, ``(M,)``.
        orbits: node values ``(M, ntst*ncol+1, n)`` on the meshes ``mesh`` ``(M, ntst+1)``.
        newton_iterations, ds: per point.
        special_points: LPC / PD / NS / UZ points in branch order.
        stop: why and where the continuation ended (:class:`Stop`; ``status`` and
            ``stop_reason`` read it).
        collocation, settings: the discretisation and continuation settings used.
        start: the Hopf point or the :class:`SimulatedOrbit` the branch started from (or None).
        end: where a branch of growing period ends (:class:`HomoclinicEnd`: the equilibrium it
            approaches, SNIC or saddle homoclinic), or None.
        notes: remarks, e.g. the check of the Hopf criticality against the branch direction.
        params: every parameter value of the branch (``param_name`` at the Hopf point);
            ``model`` is the symbolic model as given, its defaults untouched.
    """

    model: ODEModel = field(repr=False)
    param_name: str
    param: np.ndarray
    period: np.ndarray
    x_max: np.ndarray
    x_min: np.ndarray
    floquet_multipliers: np.ndarray
    trivial_error: np.ndarray
    stable: np.ndarray
    orbits: np.ndarray = field(repr=False)
    mesh: np.ndarray = field(repr=False)
    newton_iterations: np.ndarray
    ds: np.ndarray
    special_points: tuple[SpecialPoint, ...]
    stop: Stop
    collocation: Collocation
    settings: ContinuationSettings = field(repr=False)
    start: SpecialPoint | SimulatedOrbit | None = field(default=None, repr=False)
    notes: tuple[str, ...] = ()
    params: dict = field(default_factory=dict, repr=False)
    end: HomoclinicEnd | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return self.param.size

    @property
    def status(self) -> Status:
        """How the branch ended: REACHED_BOUND, RETURNED_TO_HOPF, SNIC or HOMOCLINIC (the period
        grew past ``max_period`` near a saddle-node or a saddle: :attr:`end`), PERIOD_TOO_LARGE
        (no equilibrium on the orbit), MAX_STEPS or STEP_TOO_SMALL."""
        return self.stop.status

    @property
    def stop_reason(self) -> str:
        """Why the branch ended, in words (from :attr:`status` and the numbers in ``stop``)."""
        return self.stop.message(self.param_name)

    def _state(self, name):
        if name not in self.model.state_names:  # one line naming the valid states
            raise ValueError(f"unknown state {name!r}; states: {list(self.model.state_names)}")
        return self.model.state_names.index(name)

    @property
    def v_max(self) -> np.ndarray:
        """Maximum of the first state (V for neuron models) over each orbit."""
        return self.x_max[:, 0]

    @property
    def v_min(self) -> np.ndarray:
        return self.x_min[:, 0]

    @property
    def frequency(self) -> np.ndarray:
        """Frequency in Hz when the model's time unit is ms (else per time unit)."""
        return frequency(self.model, self.period)

    @property
    def lpc_points(self) -> tuple[SpecialPoint, ...]:
        return tuple(s for s in self.special_points if s.kind == "lpc")

    def orbit(self, index: int, points: int = 400):
        """The orbit ``index`` resampled on a uniform time grid.

        Returns:
            ``(t, x)``: times ``(points,)`` in model units over one period, states
            ``(points, n)``.
        """
        tau = np.linspace(0.0, 1.0, int(points))
        x = evaluate(self.orbits[index], self.mesh[index], self.collocation.ncol, tau)
        return tau * self.period[index], x

    def __repr__(self) -> str:
        pts = "\n".join(f"  {s!r}" for s in self.special_points) or "  (none)"
        return (
            f"CycleBranch({self.model.name}, {self.param_name} in "
            f"[{self.param.min():.6g}, {self.param.max():.6g}], {len(self)} orbits, period "
            f"[{self.period.min():.6g}, {self.period.max():.6g}], NTST={self.collocation.ntst}, "
            f"NCOL={self.collocation.ncol}, stop: {self.stop_reason})\n special points:\n{pts}"
        )


def frequency(model: ODEModel, period):
    """``1/period`` in Hz for models whose time unit is ms, else per time unit."""
    return (1000.0 if model.time_unit == "ms" else 1.0) / np.asarray(period)


# --------------------------------------------------------------------------------------------
# Floquet multipliers and test functions
# --------------------------------------------------------------------------------------------


def floquet_multipliers(monitor) -> tuple[np.ndarray, np.ndarray]:
    """Multipliers from the reduced pairs ``(E, F)`` (``(M, 2, n, n)``): the eigenvalues of
    :math:`M = -F^{-1}E`, computed by the QZ algorithm on the pencil :math:`(-E, F)` without forming
    :math:`F^{-1}E` (accurate when the multipliers span many orders of magnitude).

    Returns the non-trivial multipliers by decreasing modulus ``(M, n-1)`` and
    :math:`|\\mu_{trivial} - 1|` ``(M,)``.
    """
    mu = np.array([scipy.linalg.eigvals(-e, f) for e, f in zip(monitor[:, 0], monitor[:, 1])])
    triv = np.argmin(np.abs(mu - 1.0), axis=1)
    err = np.abs(np.take_along_axis(mu, triv[:, None], axis=1)[:, 0] - 1.0)
    keep = np.ones(mu.shape, bool)
    keep[np.arange(mu.shape[0]), triv] = False
    rest = mu[keep].reshape(mu.shape[0], -1)
    order = np.argsort(-np.abs(rest), axis=1, kind="stable")
    return np.take_along_axis(rest, order, axis=1), err


def _pd_test(mu):
    """:math:`\\prod_i (\\mu_i + 1)/(|\\mu_i| + 1)` over the non-trivial multipliers: changes
    sign when a real multiplier crosses -1 (folds and complex collisions leave it positive)."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        # an infinite multiplier (near a homoclinic orbit: |mu| ~ exp(lambda_u T)) is its sign
        ratio = np.where(np.isfinite(mu), (mu + 1.0) / (np.abs(mu) + 1.0),
                         np.sign(np.real(mu)))
    return np.real(np.prod(ratio, axis=-1))


def _paired(mu):
    """Which multipliers are complex with their conjugate among ``mu`` too (QZ on a real pencil
    returns exact conjugate pairs). At a fold of cycles the trivial multiplier and the fold's
    form a Jordan block at 1, which round-off splits into a complex pair (by ~0.2 when the
    period is long); one half is removed as the trivial multiplier, and the other, left without
    its conjugate, is no pair on the unit circle."""
    cplx = np.abs(mu.imag) > 1e-8 * np.maximum(1.0, np.abs(mu))
    with np.errstate(invalid="ignore"):
        gap = np.abs(mu[..., :, None] - np.conj(mu[..., None, :]))
        partner = np.any(gap <= 1e-8 * np.maximum(1.0, np.abs(mu[..., :, None])), axis=-1)
    return cplx & partner


def _ns_test(mu):
    """:math:`|\\mu| - 1` of the complex multiplier (with its conjugate, :func:`_paired`)
    nearest the unit circle (1 if none)."""
    cplx = _paired(mu)
    d = np.where(cplx, np.abs(mu) - 1.0, np.inf)
    k = np.argmin(np.abs(d), axis=-1)
    v = np.take_along_axis(d, k[..., None], axis=-1)[..., 0]
    return np.where(np.isfinite(v), v, 1.0)


# --------------------------------------------------------------------------------------------
# Cycles found by simulation (no Hopf point needed)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SimulatedOrbit:
    """A periodic orbit found by simulation: a start for :func:`continue_cycles`.

    Attributes:
        param_name: the parameter the branch will be continued in; param: its value.
        period: the period measured between the last upward crossings of the first state
            through the middle of its range.
        t: times ``(m,)`` over one period from the last crossing (0 .. period).
        x: the states at ``t``, ``(m, n)``.
        params: every parameter value.
    """

    param_name: str
    param: float
    period: float
    t: np.ndarray = field(repr=False)
    x: np.ndarray = field(repr=False)
    params: dict = field(default_factory=dict, repr=False)


def _time_scale(cm, p, x) -> float:
    """``1 / (geometric mean of |eigenvalues|)`` of the Jacobian at ``x``: a time scale for
    the simulation chunks."""
    lam = np.abs(np.linalg.eigvals(np.asarray(cm.jac_x(x, p))))
    lam = lam[np.isfinite(lam) & (lam > 0)]
    return float(np.exp(-np.mean(np.log(lam)))) if lam.size else 1.0


def _starts(model, cm, params, box, method):
    """Initial states of the search: every equilibrium kicked by a tenth of the box in the
    first state (upwards), and the centre of the box."""
    eqs = find_equilibria(model, box, method=method, **params)
    lo, hi = eqs.box
    kick = np.zeros(lo.size)
    kick[0] = 0.1 * (hi[0] - lo[0])
    starts = [np.clip(x + kick, lo, hi) for x in eqs.x[: int(eqs.count)]]
    return starts + [0.5 * (lo + hi)], lo, hi


@float64
def simulate_cycle(model: ODEModel, param: str, value: float, *, x0=None, box=None,
                   method: str = "auto", chunks: int = 8, rtol: float = 1e-7,
                   **fixed_params) -> SimulatedOrbit | None:
    r"""A stable periodic orbit at ``param = value``, by simulation, or None if the simulations
    settle on equilibria (or on no periodic motion within the time allowed).

    From each start (``x0``, else every equilibrium kicked upwards by a tenth of the box in
    the first state, and the centre of the box) the model is integrated (scipy LSODA with the
    generated Jacobian) in chunks of :math:`200\,\tau`, :math:`\tau` the inverse geometric mean
    of the Jacobian's eigenvalue moduli at the start. After each chunk the upward crossings of
    the first state through the middle of its range over the chunk are timed; the motion is
    periodic when the last three intervals agree to 1e-4 (relative) and the states at the last
    crossings to 1e-4 of the box. The orbit is then integrated over one more period with
    a tolerance 1e-3 times ``rtol`` (a guess for collocation, which makes it exact).

    Arguments:
        model, param, value: the model and the parameter value.
        x0: one initial state (default: the starts above).
        box, method: how the equilibria for the starts are found
            (:func:`~hhanalysis.find_equilibria`).
        chunks: the most simulation chunks per start.
        rtol: relative tolerance of the search integration.
        **fixed_params: the other parameter values.

    Returns:
        :class:`SimulatedOrbit`, or None.
    """
    model.check_param_names([param, *fixed_params])
    params = {**fixed_params, param: float(value)}
    cm = model.compile()
    p = model.param_vector(**params)
    starts, lo, hi = _starts(model, cm, params, box, method)
    if x0 is not None:
        starts = [np.asarray(x0, float)]
    width = hi - lo

    f, jac_x = program_for(cm.f, starts[0], p), program_for(cm.jac_x, starts[0], p)

    def rhs(t, x):
        return np.asarray(f(x, p))

    def jac(t, x):
        return np.asarray(jac_x(x, p))

    for x in starts:
        length = 200.0 * _time_scale(cm, p, x)
        level = None
        for _ in range(int(chunks)):
            # the first chunk of a start has no level yet, so no crossings to time: no event
            # function (scipy evaluates it after every step, ~10% of the chunk's time)
            events = None if level is None else _upward_crossing(level)
            with warnings.catch_warnings():  # a failed chunk ends this start (below)
                warnings.simplefilter("ignore", UserWarning)
                sol = scipy.integrate.solve_ivp(rhs, (0.0, length), x, method="LSODA",
                                                jac=jac, rtol=rtol, atol=rtol * width,
                                                events=events, dense_output=True)
            if not sol.success or not np.all(np.isfinite(sol.y[:, -1])):
                break
            tt = np.linspace(0.5 * length, length, 2001)
            v = sol.sol(tt)[0]
            if v.max() - v.min() < 1e-6 * width[0]:
                break  # settled on an equilibrium
            x = sol.y[:, -1]
            if level is not None:
                times, states = sol.t_events[0], sol.y_events[0]
            if level is not None and times.size >= 4:
                T = np.diff(times[-4:])
                same = np.max(np.abs(states[-1] - states[-2]) / width) < 1e-4
                if np.ptp(T) < 1e-4 * T.mean() and same:
                    period = float(T[-1])
                    t = np.linspace(0.0, period, 4001)
                    one = scipy.integrate.solve_ivp(rhs, (0.0, period), states[-1],
                                                    method="LSODA", jac=jac, rtol=rtol * 1e-3,
                                                    atol=rtol * 1e-3 * width, t_eval=t)
                    return SimulatedOrbit(param, float(value), period, t, one.y.T,
                                          dict(zip(model.param_names, map(float, p))))
            if level is not None and times.size < 4:
                length *= 4.0  # slow oscillation: longer chunks
            level = 0.5 * (v.max() + v.min())
    return None


def _upward_crossing(level: float):
    """The event function of upward crossings of the first state through ``level``."""

    def crossing(t, y):
        return y[0] - level

    crossing.direction = 1.0
    return crossing


def _orbit_guess(orbit: SimulatedOrbit, disc, ncol):
    """The collocation unknowns of a simulated orbit (cubic spline through its samples) on a
    mesh adapted to it (two passes of :func:`~hhanalysis.continuation.collocation.adapted_mesh`
    from the uniform mesh), and that mesh."""
    spline = scipy.interpolate.CubicSpline(orbit.t / orbit.period, orbit.x, axis=0)
    mesh = np.linspace(0.0, 1.0, disc.ntst + 1)
    for _ in range(3):
        X = spline(disc.node_times(mesh))
        mesh = adapted_mesh(X, mesh, ncol)
    X = spline(disc.node_times(mesh))
    return disc.pack(X, orbit.period, orbit.param), mesh


def _first_orbit_from_simulation(palc, orbit, u0, args, direction):
    """Newton on the collocation system at the simulated orbit's parameter (moved by the
    smallest step, ``ds_min``, in ``direction``), then the tangent of the branch oriented by
    ``direction``."""
    axis = np.zeros_like(u0)
    axis[-1] = 1.0
    ds = direction * palc.settings.ds_min
    u, t, ok, it, mon = palc.single_step(jnp.asarray(u0), jnp.asarray(axis), ds, args)
    if not ok:
        raise RuntimeError(f"the simulated orbit at {orbit.param_name}={orbit.param:.10g} "
                           f"(period {orbit.period:.6g}) did not converge under collocation")
    u, t = np.asarray(u), np.asarray(t)
    if np.sign(t[-1]) != np.sign(direction) and t[-1] != 0:
        t = -t
    return u, t, it, np.asarray(mon)


# --------------------------------------------------------------------------------------------
# The end of a branch of growing period: homoclinic to a saddle, or saddle-node on the orbit
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HomoclinicEnd:
    r"""The equilibrium a branch of growing period approaches, and the kind of the limit.

    Attributes:
        kind: 'snic' (a saddle-node equilibrium on the orbit: the period grows like
            :math:`(p - p_{SN})^{-1/2}` and the frequency goes to 0 at the fold) or
            'saddle homoclinic' (a hyperbolic saddle or saddle-focus: the period grows like
            :math:`-\log|p - p_{hom}|/\lambda_u`).
        param: the limit parameter value: the fold of equilibria for 'snic'; for a saddle
            homoclinic, the parameter of the last orbit (the homoclinic value to within its
            exponentially small distance).
        state: the equilibrium.
        eigenvalues: its eigenvalues by decreasing real part (one is ~0 at a SNIC).
        stability: its type (:func:`~hhanalysis.equilibria.classify`; 'non-hyperbolic' at a
            SNIC).
        period: the period of the last orbit; distance: how close that orbit passes (max norm
            over the states, each in units of its box width).
    """

    kind: str
    param: float
    state: np.ndarray
    eigenvalues: np.ndarray
    stability: str
    period: float
    distance: float


def _saddle_node_near(cm, k, p, x, lam):
    r"""The fold of equilibria near ``x``, ``lam``: Newton on the fold system of the equilibrium
    branches (:math:`f = 0,\ J v = 0,\ v_j = 1`, with ``v`` started at the eigenvector of the
    eigenvalue of smallest modulus). Returns ``(x, lam)`` or None."""
    from .equilibria import _locators

    w, V = np.linalg.eig(np.asarray(cm.jac_x(x, p)))
    v0 = np.real(V[:, np.argmin(np.abs(w))])
    j = int(np.argmax(np.abs(v0)))
    n = x.size
    locate, _ = _locators(cm, k, n)
    y, ok, _, _ = locate(jnp.asarray(np.concatenate([x, [lam], v0 / v0[j]])),
                         (jnp.asarray(p), j))
    y = np.asarray(y)
    return (y[:n], float(y[n])) if bool(ok) and np.all(np.isfinite(y)) else None


@float64
def classify_end(model: ODEModel, branch: CycleBranch, *, box=None,
                 method: str = "auto") -> HomoclinicEnd | None:
    r"""Which equilibrium the last orbit of ``branch`` approaches, and whether it is a SNIC or
    a saddle homoclinic orbit (:class:`HomoclinicEnd`), from the equilibrium's spectrum.

    The orbit's slowest node (smallest :math:`\max_i |f_i|/w_i`, :math:`w` the box widths) is
    where it passes the equilibrium. If a saddle (or saddle-focus) at the last parameter value
    lies within 5 % of the box of the orbit, the end is a homoclinic orbit to it. Otherwise the
    saddle-node of equilibria near the slowest node is located (Newton on
    :math:`f = 0, Jv = 0, \langle v_0, v\rangle = 1`): if the orbit passes within 5 % of the box
    of it, the end is a saddle-node on an invariant circle. None when neither applies (the orbit
    approaches no equilibrium).
    """
    cm = model.compile()
    param = branch.param_name
    k = cm.param_index(param)
    p = model.param_vector(**{**branch.params, param: float(branch.param[-1])})
    X = branch.orbits[-1]
    eqs = find_equilibria(model, box, method=method, **{**branch.params,
                                                         param: float(branch.param[-1])})
    lo, hi = eqs.box
    width = hi - lo
    F = np.asarray(jax.vmap(lambda x: cm.f(x, jnp.asarray(p)))(X))
    x_slow = X[int(np.argmin(np.max(np.abs(F) / width, axis=1)))]

    def distance(x):  # from the orbit, in units of the box
        return float(np.min(np.max(np.abs(X - x) / width, axis=1)))

    for j in range(len(eqs)):
        eq = eqs[j]
        d = distance(eq.x)
        if d < 0.05 and eq.stability in ("saddle", "saddle-focus"):
            return HomoclinicEnd("saddle homoclinic", float(branch.param[-1]), eq.x,
                                 eq.eigenvalues, eq.stability, float(branch.period[-1]), d)
    found = _saddle_node_near(cm, k, p, x_slow, float(branch.param[-1]))
    if found is None:
        return None
    x_sn, p_sn = found
    d = distance(x_sn)
    if d > 0.05 or not np.all((x_sn >= lo) & (x_sn <= hi)):
        return None
    q = p.copy()
    q[k] = p_sn
    J = np.asarray(cm.jac_x(x_sn, q))
    lam = np.linalg.eigvals(J)
    lam = lam[spectrum_order(lam)]
    return HomoclinicEnd("snic", p_sn, x_sn, lam, "non-hyperbolic", float(branch.period[-1]), d)


# --------------------------------------------------------------------------------------------
# Location of special points and the hooks of the driver (start, end tests and mesh adaptation:
# problems/periodic_orbit.py)
# --------------------------------------------------------------------------------------------


class _Locator:
    """Root finding on the step length from a point (u, t) for a zero of a test function."""

    def __init__(self, palc, args):
        self.palc, self.args = palc, args

    def locate(self, u, t, ds_b, test, fa, fb):
        """Brent's method (scipy) on the step length in ``(0, ds_b)``; stops early once the test
        function is below the tolerance. Returns ``(None, None)`` when the sign change is a jump
        of the test function (e.g. multipliers changing order in a canard), not a zero."""
        best, params = {}, []

        class _Done(Exception):
            pass

        def f(s):
            un, tn, ok, _, mon = self.palc.single_step(u, t, s, self.args)
            if not ok:
                raise RuntimeError(f"the corrector failed at step {s:.3g} while locating")
            mon = np.asarray(mon)
            v = test(np.asarray(un), np.asarray(tn), mon)
            params.append(float(un[-1]))
            if not best or abs(v) < abs(best["v"]):
                best.update(v=v, point=(np.asarray(un), np.asarray(tn), mon))
            if abs(v) < _LOCATE_TOL:
                raise _Done
            return v

        try:
            _, info = scipy.optimize.brentq(lambda s: f(s) if s not in (0.0, ds_b) else
                                            (fa if s == 0.0 else fb), 0.0, ds_b,
                                            xtol=1e-10 * abs(ds_b), maxiter=_LOCATE_ITERATIONS,
                                            full_output=True, disp=False)
            msg = "" if info.converged else f"no convergence in {_LOCATE_ITERATIONS} steps"
            if info.converged and abs(best["v"]) > 1e-3 * min(abs(fa), abs(fb)):
                return None, None  # the bracket closed on a jump of the test, not on a zero
        except _Done:
            msg = ""
        except (RuntimeError, ValueError) as e:  # ValueError: a test function that is NaN
            msg = str(e)
        if not best:
            return None, msg or "no evaluation"
        un, tn, mon = best["point"]
        # precision: parameter distance from the best evaluation to the nearest other one
        others = [abs(q - float(un[-1])) for q in params if q != float(un[-1])]
        return (un, tn, mon, min(others) if others else 0.0), msg


def _test_values(kind, u, t, mon):
    if isinstance(kind, float):  # a user point
        return float(u[-1]) - kind
    if kind == "lpc":
        return float(t[-1])
    mu, _ = floquet_multipliers(mon[None])
    return float((_pd_test if kind == "pd" else _ns_test)(mu)[0])


def _detect(disc, palc, args, prev, U, T, MU, DS, offset, tiny, user_points=()):
    """Special points between ``prev = (u, t, multipliers)`` and the chunk's points ``U``,
    ``T`` with multipliers ``MU`` (and inside the chunk).

    ``tiny[i]`` flags orbits of vanishing amplitude (``prev`` first): where the branch passes
    through an equilibrium at a Hopf point, the parameter turns back without a fold of cycles.
    """
    u_all = np.concatenate([prev[0][None], U])
    t_all = np.concatenate([prev[1][None], T])
    mu = np.concatenate([prev[2][None], MU])
    tests = {"lpc": t_all[:, -1], "pd": _pd_test(mu), "ns": _ns_test(mu)}
    tests.update({float(v): u_all[:, -1] - v for v in user_points})
    found = []
    loc = _Locator(palc, args)
    for i in range(len(U)):
        for kind, v in tests.items():
            if np.sign(v[i]) == np.sign(v[i + 1]) or v[i] == 0:
                continue
            if kind == "lpc" and (tiny[i] or tiny[i + 1]):
                continue
            if kind == "ns" and not (np.any(np.abs(mu[i].imag) > 1e-8)
                                     and np.any(np.abs(mu[i + 1].imag) > 1e-8)):
                continue
            best, msg = loc.locate(
                u_all[i], t_all[i], DS[i],
                lambda un, tn, mon, kind=kind: _test_values(kind, un, tn, mon),
                v[i], v[i + 1])
            if best is None and msg is None:
                continue  # a jump of the test function, not a bifurcation
            if best is None:
                un, m, prec = u_all[i + 1], mu[i + 1], abs(DS[i])
            else:
                un, _, mon, prec = best
                m = floquet_multipliers(mon[None])[0][0]
            X = disc.orbit(un)
            found.append(SpecialPoint(
                "uz" if isinstance(kind, float) else kind, offset + i - 1, float(un[-1]), X[0],
                Status.GUESS if msg else Status.CONVERGED, float(prec), message=msg,
                data=CycleData(float(un[-2]), m, X.max(axis=0), X.min(axis=0), X,
                               np.concatenate([[0.0], np.cumsum(np.asarray(args[1]))]))))
    return found


def _check_criticality(model, params, param, hopf, p_first):
    """Does the side on which the cycles appear agree with the sign of l1?"""
    h = hopf.data
    if h.l1 is None:
        return "criticality not checked: the Hopf point has no l1"
    eqs = find_equilibria(model, **{**params, param: float(p_first)})
    if len(eqs) == 0:
        return "criticality not checked: no equilibrium beside the first cycle"
    j = int(np.argmin(np.linalg.norm(eqs.x - np.asarray(hopf.state), axis=1)))
    eq_stable = bool(eqs.stable[j])
    sub = h.l1 > 0
    if eq_stable == sub:
        return (f"criticality check passed: cycles appear where the equilibrium is "
                f"{'stable' if eq_stable else 'unstable'} ({h.criticality}, l1={h.l1:.4g})")
    return (f"criticality check FAILED: l1={h.l1:.4g} says {h.criticality} but the cycles "
            f"appear where the equilibrium is {'stable' if eq_stable else 'unstable'}")


@float64
def continue_cycles(
    model: ODEModel,
    start: SpecialPoint | SimulatedOrbit,
    stop: tuple[float, float] | float | None = None,
    *,
    settings: ContinuationSettings | None = None,
    collocation: Collocation | None = None,
    max_period: float | None = None,
    user_points: tuple[float, ...] = (),
    direction: int = 1,
    box=None,
    method: str = "auto",
    progress: bool = False,
    throw: bool = False,
    **fixed_params,
) -> CycleBranch:
    """Follow the branch of periodic orbits born at the Hopf point ``start``, or through the
    simulated orbit ``start``.

    Arguments:
        model: the model.
        start: a Hopf point from :func:`~hhanalysis.continue_equilibria` (it carries the
            continuation parameter, the other parameters, :math:`\\omega` and the eigenvector),
            or a :class:`SimulatedOrbit` from :func:`simulate_cycle` (corrected by collocation
            at its parameter value, then continued in ``direction``), or a period-doubling
            point of a cycle branch (kind ``'pd'``): the period-doubled branch (branch
            switching along the Floquet eigenfunction of the multiplier -1, see
            :func:`~hhanalysis.continuation.problems.periodic_orbit.period_doubling_start`).
        stop: parameter bounds ``(lo, hi)``; a single number is one bound (the other is
            unbounded on the far side of the start); None: unbounded.
        settings: :class:`ContinuationSettings` (default :data:`CYCLE_SETTINGS`).
        collocation: :class:`Collocation` (NTST, NCOL, mesh adaptation).
        max_period: stop when the period exceeds this (approach to a homoclinic orbit or a
            SNIC, then classified: :attr:`CycleBranch.end`); default 50 times the period at the
            Hopf point, 200 times the period of a simulated orbit.
        direction: for a simulated start, +1 (towards larger parameter values) or -1.
        box, method: how equilibria are found for the classification of the end
            (:func:`~hhanalysis.find_equilibria`).
        user_points: parameter values at which to locate the orbits (special points of kind
            'uz', like AUTO's UZR), e.g. to compare periods at fixed currents.
        progress: show a progress bar (tqdm) over the steps.
        throw: raise :class:`~hhanalysis.continuation.results.ContinuationError` when the
            corrector fails (``status`` STEP_TOO_SMALL) instead of returning the partial branch.
        **fixed_params: override parameter values of the Hopf point (rarely needed).

    Returns:
        :class:`CycleBranch` whose ``status`` (a
        :class:`~hhanalysis.continuation.results.Status`) and ``stop_reason`` say why it ended:
        REACHED_BOUND, SNIC or HOMOCLINIC (the period passed ``max_period`` where the orbit
        approaches a saddle-node or a saddle equilibrium, see :func:`classify_end`),
        PERIOD_TOO_LARGE (it passed ``max_period`` but approaches no equilibrium),
        RETURNED_TO_HOPF (amplitude -> 0: the branch ended at a Hopf point), RETURNED_TO_PD (a
        period-doubled branch became the primary orbit traversed twice), MAX_STEPS or
        STEP_TOO_SMALL (the corrector failed).

    Raises:
        ValueError: ``start`` is not a located Hopf point, or bad bounds.
        RuntimeError: no orbit next to the Hopf point.
        ContinuationError: with ``throw=True``, when the corrector failed at ``ds_min``.
    """
    settings = settings or CYCLE_SETTINGS
    col = collocation or Collocation()
    param, params, (lo, hi), user_points, max_period = _checked_arguments(
        model, start, stop, user_points, max_period, fixed_params)
    cm = model.compile()
    disc = Discretisation(model.n_states, col.ntst, col.ncol)
    problem = collocation_problem(cm, cm.param_index(param), col.ntst, col.ncol)
    chunk = col.adapt_mesh or 32
    palc = PALC(problem, settings, chunk=chunk)
    p0 = device_array(model.param_vector(**params))  # the parameters, kept apart from the model
    mesh = np.linspace(0.0, 1.0, col.ntst + 1)
    args = (p0, device_array(np.diff(mesh)))

    simulated = isinstance(start, SimulatedOrbit)
    if simulated:
        if direction not in (1, -1):
            raise ValueError(f"direction must be 1 or -1, got {direction!r}")
        u0, mesh = _orbit_guess(start, disc, col.ncol)
        args = (p0, jnp.asarray(np.diff(mesh)))
        u, t, it, mon = _first_orbit_from_simulation(palc, start, u0, args, direction)
        notes = [f"started from a simulated orbit at {param}={start.param:.10g} "
                 f"(period {start.period:.6g}), continued towards "
                 f"{'larger' if direction > 0 else 'smaller'} {param}"]
    elif start.kind == "pd":
        u0, phi, mesh = _pd_start(cm.jac_x, p0, start, disc)
        args = (p0, jnp.asarray(np.diff(mesh)))
        u, t, ok, it, mon = palc.single_step(jnp.asarray(u0), jnp.asarray(phi), settings.ds,
                                             args)
        if not ok:
            raise RuntimeError(f"no period-doubled orbit found next to the PD point at "
                               f"{param}={start.param:.10g}: Newton did not converge")
        u, t, mon = np.asarray(u), np.asarray(t), np.asarray(mon)
        notes = [f"period-doubled branch from the PD point at {param}={start.param:.10g} "
                 f"(period {start.data.period:.8g} -> {2 * start.data.period:.8g})"]
    else:
        u, t, it, mon = _first_orbit(palc, start, disc, mesh, args, settings.ds)
        notes = [_check_criticality(model, params, param, start, u[-1])]
    ends = _EndTests(max_period, _amplitude(disc, [u])[0])
    if simulated or start.kind == "pd":
        ends.amp0 = 0.0  # full amplitude from the start: the return to a Hopf point is a test
    hooks = _Hooks(disc, col, palc, p0, mesh, mon, ends, user_points,
                   _progress(progress, settings.max_steps))
    if not simulated and start.kind == "pd":
        hooks.doubled = 0.0
    raw = driver.run(problem, driver.Points.one(u, t, mon, it, settings.ds), args, settings,
                     window=(lo, hi), hooks=hooks, chunk=chunk, ds=settings.ds,
                     max_points=settings.max_steps)
    if hooks.bar is not None:
        hooks.bar.close()
    branch = _branch(model, params, param, disc, col, settings, raw, hooks, start, notes)
    if branch.status is Status.PERIOD_TOO_LARGE:
        branch = _with_end(model, branch, box, method)
    if throw and branch.status is Status.STEP_TOO_SMALL:
        raise ContinuationError(branch.stop_reason, branch.status, branch)
    return branch


class _Hooks(driver.Hooks):
    """What the driver calls between chunks of cycles: the end tests (period bound, return to
    a Hopf point), the Floquet multipliers and the detection and location of LPC / PD / NS / UZ
    points on the accepted orbits, the location of the orbit on a bound, and the mesh
    adaptation. Keeps the per-orbit multipliers and meshes."""

    def __init__(self, disc, col, palc, p0, mesh, monitor0, ends, user_points, bar):
        self.disc, self.col, self.palc, self.p0 = disc, col, palc, p0
        self.mesh, self.ends, self.user_points, self.bar = mesh, ends, user_points, bar
        mu, err = floquet_multipliers(np.asarray(monitor0)[None])
        self.mu, self.err, self.meshes = list(mu), list(err), [mesh]
        self.specials: list[SpecialPoint] = []
        self._amps = None
        self.doubled = None  # on a period-doubled branch: the largest |x(t + 1/2) - x(t)| yet
        self._half = 0.0  # ... and its last value

    def end(self, points, args):
        self._amps = np.concatenate([[self.ends.last], _amplitude(self.disc, points.u)])
        cut, stop = self.ends.check(points.u, self._amps)
        if self.doubled is not None:
            back = self._back_to_primary(points.u[:cut])
            if back is not None:
                cut, stop = back + 1, Stop(Status.RETURNED_TO_PD, float(points.u[back, -1]))
        return cut, stop

    def _back_to_primary(self, U):
        r"""The first orbit of a period-doubled branch where the branch passes the primary one
        again: a local minimum of :math:`\max|x(\tau + 1/2) - x(\tau)|` (relative to the
        amplitude) below 2% of its largest value so far, after the branch has left the
        primary one (> 1e-2); or None."""
        X = self.disc.orbit(np.asarray(U))
        shifted = evaluate(X, self.mesh, self.col.ncol, self.disc.node_times(self.mesh) + 0.5)
        amp = np.maximum(X.max(axis=1) - X.min(axis=1), 1e-300)
        d = np.max(np.abs(shifted - X) / amp[:, None, :], axis=(1, 2))
        prev, self._half = self._half, d[-1] if len(d) else self._half
        d_all = np.concatenate([[prev], d, [np.inf]])
        for i in range(len(d)):
            self.doubled = max(self.doubled, d[i])
            if (self.doubled > 1e-2 and d[i] < 0.02 * self.doubled and d[i] <= d_all[i]
                    and d[i] <= d_all[i + 2]):
                return i
        return None

    def accepted(self, before, points, args):
        cut, offset = len(points), len(self.mu)
        prev = (np.asarray(before[0]), np.asarray(before[1]), self.mu[-1])
        mu, err = floquet_multipliers(points.monitor)
        self.mu += list(mu)
        self.err += list(err)
        self.meshes += [self.mesh] * cut
        tiny = self._amps[:cut + 1] < 0.05 * self.ends.amp_max
        self.specials += _detect(self.disc, self.palc, args, prev, points.u, points.tangent, mu,
                                 points.ds, offset, tiny, self.user_points)
        if self.bar is not None:
            self.bar.update(cut)

    def at_bound(self, base, last, edge, args):
        """The orbit located at the bound, from the point before the last one."""
        u, t = base
        f0, f1 = float(u[-1]) - edge, float(last.u[0, -1]) - edge
        if np.sign(f0) == np.sign(f1):
            return None
        best, msg = _Locator(self.palc, args).locate(
            u, t, float(last.ds[0]), lambda un, tn, m: float(un[-1]) - edge, f0, f1)
        if best is None or msg:
            return None
        mu, err = floquet_multipliers(best[2][None])
        self.mu[-1], self.err[-1] = mu[0], err[0]
        return dataclasses.replace(last, u=best[0][None], tangent=best[1][None],
                                   monitor=best[2][None])

    def adapt(self, u, t, args):
        u, t = np.asarray(u), np.asarray(t)
        if not self.col.adapt_mesh:
            return u, t, args
        u, t, self.mesh = _adapt(self.disc, u, t, self.mesh, self.col.ncol)
        return u, t, (self.p0, device_array(np.diff(self.mesh)))


def _checked_arguments(model, start, stop, user_points, max_period, fixed_params):
    """Validate the arguments of :func:`continue_cycles`; the parameter values (the Hopf
    point's, overridden by ``fixed_params``) are returned apart from the model."""
    if not isinstance(start, (SpecialPoint, SimulatedOrbit)):
        raise ValueError("start must be a Hopf or period-doubling SpecialPoint or a "
                         f"SimulatedOrbit, got {type(start).__name__}")
    param = start.param_name
    if not param:
        raise ValueError("start has no param_name: take it from continue_equilibria(...)")
    model.check_param_names(list(fixed_params))
    params = {**model.defaults, **(start.params or {}), **fixed_params, param: start.param}
    bounds = _bounds(stop, start.param)
    if not bounds[0] <= start.param <= bounds[1]:  # the branch would end at once
        raise ValueError(f"stop = {stop!r}: the Hopf point at {param} = {start.param:.6g} lies "
                         f"outside [{bounds[0]:g}, {bounds[1]:g}]; the bounds must contain it")
    try:
        user_points = tuple(float(v) for v in np.atleast_1d(user_points))
    except (TypeError, ValueError):
        raise ValueError(f"user_points must be numbers, got {user_points!r}") from None
    if isinstance(start, SimulatedOrbit):
        default = 200.0 * start.period
    else:
        default = 50.0 * (start.data.period if isinstance(start.data, (HopfData, CycleData))
                          else 1.0)
    max_period = float(max_period) if max_period is not None else default
    if not max_period > 0:
        raise ValueError(f"max_period must be > 0, got {max_period}")
    return param, params, bounds, user_points, max_period


def _first_orbit(palc, start, disc, mesh, args, ds):
    """One step of length ``ds`` from the trivial orbit at the Hopf point along the Hopf
    direction (the corrector keeps that projection, so no guess of the parameter is needed)."""
    u_h, phi = _hopf_start(start, disc, mesh)
    phi = _normalise(phi, mesh, disc)
    u, t, ok, it, mon = palc.single_step(device_array(u_h), device_array(phi), ds, args)
    if not ok:
        raise RuntimeError(f"no periodic orbit found next to the Hopf point at "
                           f"{start.param_name}={start.param:.10g}: Newton did not converge")
    return np.asarray(u), np.asarray(t), it, np.asarray(mon)


def _bounds(stop, p_h):
    if stop is None:
        return -math.inf, math.inf
    if isinstance(stop, (tuple, list)):
        if len(stop) != 2:
            raise ValueError(f"stop must be (lo, hi), a number or None, got {stop!r}")
        lo, hi = (float(v) for v in stop)
        if not lo < hi or math.isnan(lo) or math.isnan(hi):
            raise ValueError(f"stop = {stop!r}: need lo < hi")
        return lo, hi
    v = float(stop)
    if not math.isfinite(v):
        raise ValueError(f"stop must be finite, got {stop!r}")
    return (v, math.inf) if v < p_h else (-math.inf, v)


def _branch(model, params, param, disc, col, settings, raw, hooks, start, notes):
    X = disc.orbit(raw.u)
    mu, err = np.array(hooks.mu), np.array(hooks.err)
    notes = list(notes)
    if err.max() > 1e-4:
        notes.append(f"trivial multiplier off by up to {err.max():.1e}: consider a larger ntst")
    return CycleBranch(
        model=model, param_name=param, param=raw.u[:, -1], period=raw.u[:, -2],
        x_max=X.max(axis=1), x_min=X.min(axis=1), floquet_multipliers=mu, trivial_error=err,
        stable=np.all(np.abs(mu) < 1.0, axis=1), orbits=X, mesh=np.array(hooks.meshes),
        newton_iterations=raw.newton_iterations, ds=raw.ds,
        special_points=tuple(dataclasses.replace(s, param_name=param,
                                                 params={**params, param: s.param})
                             for s in hooks.specials),
        stop=raw.stop, collocation=col, settings=settings, start=start, notes=tuple(notes),
        params=params)


def _with_end(model, branch, box, method):
    """The branch with its end classified (:func:`classify_end`) and the stop record saying
    so (status SNIC or HOMOCLINIC, ``param`` the limit value)."""
    try:
        end = classify_end(model, branch, box=box, method=method)
    except (ValueError, FloatingPointError, np.linalg.LinAlgError):
        end = None
    if end is None:
        return branch
    status = Status.SNIC if end.kind == "snic" else Status.HOMOCLINIC
    stop = Stop(status, end.param, branch.stop.limit, branch.stop.value)
    return dataclasses.replace(branch, stop=stop, end=end)


def _progress(enabled: bool, total: int):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=None, desc="cycles", unit="orbit")
