r"""Many parameter sets at once: batched Hopf points and folds of cycles, and the firing-regime
map of a plane.

:func:`hopf_points` locates the Hopf point of every parameter set of a broadcast grid in one
jitted ``jax.vmap`` of :func:`~hhanalysis.hopf_point` (1000 sets: ~0.03 s warm on 2 CPU cores).
:func:`lpc_points` does the same for folds of cycles (:func:`~hhanalysis.lpc_point`, a
collocation solve per Newton step), in chunks of ``batch`` sets so that memory stays bounded.

:func:`sweep` answers, for every point of a grid of parameters, "does the neuron rest, fire
tonically, or both?": the equilibria and their stability (:func:`~hhanalysis.find_equilibria`),
and whether a stable cycle exists, with its period and amplitude, found by simulation with
*warm starts along one parameter* (a hysteresis protocol): the grid is swept in ``param`` upwards
from the stable equilibrium and then downwards from where the upward sweep ended, each point
starting from the state the previous one ended in, all other grid axes batched. A neuron that is
bistable rests on the way up and keeps firing on the way down; a cycle counts where the first
state keeps oscillating through a window at the end of the run with an amplitude of at least
``min_amplitude`` that does not decay.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from .equilibria import EquilibriumSet, find_equilibria, sweep_params
from .models import ODEModel
from .precision import float64
from .sharding import pad_to, place, sweep_mesh

__all__ = ["hopf_points", "lpc_points", "sweep", "Sweep", "REGIMES"]

#: The regime codes of :attr:`Sweep.regime`.
REGIMES = ("rest", "tonic", "bistable", "none")


# --------------------------------------------------------------------------------------------
# Batched Hopf points
# --------------------------------------------------------------------------------------------


@functools.cache
def _hopf_batch(model: ODEModel, param: str, names: tuple, guess):
    from .continuation.points import hopf_point

    def one(values):
        return hopf_point(model, param, guess, throw=False, **dict(zip(names, values)))

    return jax.jit(jax.vmap(one))


@float64
def hopf_points(model: ODEModel, param: str, guess, **params):
    r"""The Hopf point in ``param`` for every parameter set of a broadcast grid, in one call.

    Each point is :func:`~hhanalysis.hopf_point` (Newton on the Hopf defining system, reached
    from ``guess`` along a straight path in parameter space), all of them in one jitted
    ``jax.vmap``: no Python loop over the parameter sets.

    Arguments:
        model: the model.
        param: the bifurcation parameter (e.g. ``"I"``).
        guess: a value of ``param`` near the Hopf point at the model's parameters, or a Hopf
            special point of a branch / a :class:`~hhanalysis.HopfPoint` (hashable guesses are
            compiled once and reused).
        **params: other parameters, numbers or arrays broadcast together (shape ``S``).

    Returns:
        :class:`~hhanalysis.HopfPoint` whose arrays have the sweep shape ``S`` in front
        (``param``: ``S``, ``x``: ``S + (n,)``, ``omega``, ``l1``, ``converged``: ``S``).

    Raises:
        ValueError: unknown or non-numeric parameters, shapes that do not broadcast, ``param``
            among ``params``.
    """
    if param in params:
        raise ValueError(f"hopf_points: {param!r} is the bifurcation parameter; do not pass it "
                         "in **params")
    P = sweep_params(model, params)
    shape = P.shape[:-1]
    names = tuple(params)
    idx = [model.param_names.index(k) for k in names]
    values = P.reshape((int(np.prod(shape)), P.shape[-1]))[:, idx]
    point = _hopf_batch(model, param, names, guess)(jnp.asarray(values))
    return jax.tree_util.tree_map(lambda a: a.reshape(shape + a.shape[1:]), point)


def _lpc_batch(model: ODEModel, param: str, names: tuple, guess, index, batch):
    from .continuation.points import lpc_point

    def one(values):
        return lpc_point(model, param, guess, index, throw=False, **dict(zip(names, values)))

    return jax.jit(lambda values: jax.lax.map(one, values, batch_size=batch))  # None: no vmap


_lpc_batches: dict = {}  # the last few compiled batches (each holds its guess alive)
_LPC_BATCHES_KEPT = 4


@float64
def lpc_points(model: ODEModel, param: str, guess, index: int | None = None, *,
               warm_start: bool = True, batch: int | None = None, **params):
    r"""The fold of cycles (LPC) in ``param`` for every parameter set of a broadcast grid, in
    one call.

    Each point is the solution of :func:`~hhanalysis.lpc_point`'s system (Newton on the
    minimally augmented LPC system on the guess's collocation mesh), all in one jitted call.
    With ``warm_start`` (default) the sets are solved in their order (``jax.lax.scan``), each
    reached from the last converged one by a short homotopy in parameter space (from the guess
    again where that fails): fastest on a CPU for a grid, whose neighbours in C order are close.
    Without, each set is reached from the guess independently (:func:`~hhanalysis.lpc_point`
    itself) through ``jax.lax.map``, one set after the other, or with ``batch`` in chunks of
    that many sets, each chunk a ``jax.vmap``: memory grows with ``batch``, not with the number
    of sets (a ``vmap`` over 1000 sets of HH needed 6.5 GB). On a CPU a vmapped collocation
    solve is slower than one set after the other (each while loop runs at the pace of its
    slowest lane); on a GPU a larger ``batch`` fills the device. A set whose fold cannot be
    reached has ``converged`` False.

    Arguments:
        model: the model.
        param: the bifurcation parameter: the parameter of the guess's branch.
        guess, index: as for :func:`~hhanalysis.lpc_point` (a cycle branch and the number of
            its LPC point, or a :class:`~hhanalysis.PeriodicOrbit` near the fold).
        warm_start: solve the sets in order, each from the previous one (see above).
        batch: without ``warm_start``: None (one set at a time) or the number of parameter sets
            per vmapped chunk, a positive integer.
        **params: other parameters, numbers or arrays broadcast together (shape ``S``).

    Returns:
        :class:`~hhanalysis.PeriodicOrbit` whose arrays have the sweep shape ``S`` in front
        (``param``, ``period``, ``converged``: ``S``; ``orbit``: ``S + (nodes, n)``).

    Raises:
        ValueError: ``param`` among ``params``, a ``batch`` that is not a positive integer
            (or one with ``warm_start``),
            unknown or non-numeric parameters, shapes that do not broadcast.
    """
    if param in params:
        raise ValueError(f"lpc_points: {param!r} is the bifurcation parameter; do not pass it "
                         "in **params")
    if batch is not None and (isinstance(batch, bool) or not isinstance(batch, int | np.integer)
                              or batch < 1):
        raise ValueError(f"batch must be None or a positive integer, got {batch!r}")
    if batch is not None and warm_start:
        raise ValueError("batch applies to independent sets: pass warm_start=False with it")
    P = sweep_params(model, params)
    shape = P.shape[:-1]
    names = tuple(params)
    idx = [model.param_names.index(k) for k in names]
    values = P.reshape((int(np.prod(shape)), P.shape[-1]))[:, idx]
    if warm_start:
        from .continuation.points import lpc_chain

        point = lpc_chain(model, param, guess, index, names, values)
        return jax.tree_util.tree_map(lambda a: a.reshape(shape + a.shape[1:]), point)
    # compiled once per (model, guess, ...) while the guess object lives (branches are not
    # hashable by value)
    key = (model, param, names, id(guess), index, batch)
    entry = _lpc_batches.get(key)
    if entry is None or entry[0] is not guess:
        entry = (guess, _lpc_batch(model, param, names, guess, index, batch))
        _lpc_batches[key] = entry
        while len(_lpc_batches) > _LPC_BATCHES_KEPT:
            del _lpc_batches[next(iter(_lpc_batches))]
    point = entry[1](jnp.asarray(values))
    return jax.tree_util.tree_map(lambda a: a.reshape(shape + a.shape[1:]), point)


# --------------------------------------------------------------------------------------------
# Regime map
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sweep:
    r"""Equilibria and stable cycles over a grid of parameters.

    Arrays have the grid shape ``G = (len(values),) + S`` (``param`` first, then the broadcast
    shape ``S`` of the other parameters).

    Attributes:
        model: the model.
        param: the parameter swept with warm starts.
        params: parameter vectors, ``G + (n_params,)``.
        equilibria: :class:`~hhanalysis.EquilibriumSet` over ``G`` (states, eigenvalues).
        n_stable: number of stable equilibria, ``G``.
        cycle: a stable cycle was found (on the way up or down), ``G``.
        period: its period (time units of the model; NaN where none), ``G``.
        amplitude: its peak-to-peak amplitude in the first state (NaN where none), ``G``.
        regime: index into :data:`REGIMES`: 0 rest (a stable equilibrium, no cycle), 1 tonic
            firing (a cycle, no stable equilibrium), 2 bistable (both), 3 neither, ``G``.
    """

    model: ODEModel = field(repr=False)
    param: str
    params: np.ndarray = field(repr=False)
    equilibria: EquilibriumSet = field(repr=False)
    n_stable: np.ndarray = field(repr=False)
    cycle: np.ndarray = field(repr=False)
    period: np.ndarray = field(repr=False)
    amplitude: np.ndarray = field(repr=False)
    regime: np.ndarray = field(repr=False)

    def values(self, name: str) -> np.ndarray:
        """Values of parameter ``name`` over the grid, ``G``."""
        return self.params[..., self.model.param_names.index(name)]


@functools.cache
def _hysteresis_kernel(model: ODEModel, transient: int, window: int, method: str):
    """``run(X0 (n, M), P (L, n_params, M), dt)`` -> per grid step: final state, amplitude,
    late amplitude, early amplitude, number of upward mid-level crossings, first and last
    crossing time; ``method``: a fixed-step integrator of :mod:`hhanalysis.simulate`."""
    from .simulate.integrators import FIXED_STEP_METHODS

    cm = model.compile()
    step_method = FIXED_STEP_METHODS[method]

    def point(X, Pi, dt):
        Plist = list(Pi)

        def step(X, _):
            return step_method(cm, X, Plist, dt), None

        X, _ = jax.lax.scan(step, X, None, length=transient)

        def record(X, _):
            X = step_method(cm, X, Plist, dt)
            return X, X[0]

        X, V = jax.lax.scan(record, X, None, length=window)  # V: (window, M)
        hi, lo = V.max(axis=0), V.min(axis=0)
        half = window // 2
        late = V[half:].max(axis=0) - V[half:].min(axis=0)
        early = V[:half].max(axis=0) - V[:half].min(axis=0)
        mid = 0.5 * (hi + lo)
        up = (V[:-1] < mid) & (V[1:] >= mid)
        # crossing times by linear interpolation, in steps
        frac = (mid - V[:-1]) / jnp.where(up, V[1:] - V[:-1], 1.0)
        k = jnp.arange(window - 1)[:, None] + frac
        first = jnp.min(jnp.where(up, k, jnp.inf), axis=0)
        last = jnp.max(jnp.where(up, k, -jnp.inf), axis=0)
        return X, (hi - lo, late, early, up.sum(axis=0), first, last)

    @jax.jit
    def run(X0, P, dt):
        return jax.lax.scan(lambda X, Pi: point(X, Pi, dt), X0, P)

    return run


def _cycles(stats, dt, min_amplitude):
    amp, late, early, crossings, first, last = (np.asarray(a) for a in stats)
    with np.errstate(invalid="ignore", divide="ignore"):
        found = (amp >= min_amplitude) & (crossings >= 3) & (late >= 0.9 * early)
        period = np.where(found, (last - first) / np.maximum(crossings - 1, 1) * dt, np.nan)
    return found, period, np.where(found, amp, np.nan)


@float64
def sweep(model: ODEModel, param: str, values, *, dt: float = 0.02, transient: float = 300.0,
          window: float = 100.0, min_amplitude: float | None = None, method: str = "rk4",
          devices=None, **params) -> Sweep:
    r"""Rest, tonic firing or bistability at every point of a grid of parameters.

    Arguments:
        model: a model with a scalar current balance (the reduction of
            :func:`~hhanalysis.find_equilibria`; HH, Morris–Lecar). The upward sweep starts at
            ``values[0]`` from the stable equilibrium there (else from the equilibrium with
            the lowest first state, which the simulation leaves).
        param: the parameter swept with warm starts (e.g. ``"I"``).
        values: its increasing values, 1-D.
        dt: time step of the simulation.
        transient: simulated time at each grid point before the window.
        window: simulated time over which a cycle is detected and measured.
        min_amplitude: smallest peak-to-peak oscillation of the first state that counts as a
            cycle (default: 1% of the first state's box, 1.6 mV for HH).
        method: fixed-step integrator (``hhanalysis.simulate.integrators.FIXED_STEP_METHODS``):
            'rk4' (default) or e.g. 'exponential_euler' (one evaluation per step instead of
            four, but its first-order error moves the Hopf point: at dt = 0.02 it shows a small
            stable cycle just outside a supercritical Hopf curve of HH, where the equilibrium
            is a weakly stable focus).
        devices: spread the grid over devices (the equilibria over all points, the
            simulations over the points of ``S``): None (default), ``"all"``, a count or a list
            (:mod:`hhanalysis.sharding`); the results do not depend on it.
        **params: other parameters, numbers or arrays broadcast together (shape ``S``).

    Returns:
        :class:`Sweep` over ``(len(values),) + S``.

    Raises:
        ValueError: ``values`` not 1-D and increasing, bad ``dt``/``transient``/``window``,
            an unknown ``method``, ``param`` among ``params``, no equilibrium at ``values[0]``,
            and the errors of :func:`~hhanalysis.find_equilibria`.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.size < 2 or np.any(np.diff(values) <= 0):
        raise ValueError(f"values must be a 1-D increasing array of >= 2 values of {param!r}")
    if param in params:
        raise ValueError(f"sweep: {param!r} is the swept parameter; do not pass it in **params")
    for name, v in (("dt", dt), ("transient", transient), ("window", window)):
        if not (isinstance(v, (int, float)) and np.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be a positive number, got {v!r}")
    from .simulate.integrators import FIXED_STEP_METHODS

    if method not in FIXED_STEP_METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, FIXED_STEP_METHODS))}, "
                         f"got {method!r}")
    n_tr, n_w = int(round(transient / dt)), int(round(window / dt))
    if n_w < 8:
        raise ValueError(f"window must hold at least 8 steps of dt, got {window!r}")
    extra = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    S = np.broadcast_shapes(*(a.shape for a in extra.values())) if extra else ()
    grid = {param: values.reshape((-1,) + (1,) * len(S)), **extra}
    mesh = sweep_mesh(devices)
    eqs = find_equilibria(model, devices=devices, **grid)
    G = eqs.sweep_shape
    stable = eqs.stable
    n_stable = stable.sum(axis=-1)
    if np.any(eqs.count[0] == 0):
        raise ValueError(f"sweep: no equilibrium in the state box at {param} = {values[0]:g} "
                         "for some parameter sets")
    M = int(np.prod(S))
    first = stable[0].reshape(M, stable.shape[-1])
    slot = np.argmax(first, axis=-1)  # the first stable equilibrium, else the first one
    X0 = eqs.x[0].reshape(M, *eqs.x.shape[-2:])[np.arange(M), slot].T
    if min_amplitude is None:
        lo, hi = eqs.box
        min_amplitude = 0.01 * float(hi[0] - lo[0])
    run = _hysteresis_kernel(model, n_tr, n_w, method)
    P = eqs.params.reshape(G[0], M, eqs.params.shape[-1])
    PT = np.transpose(P, (0, 2, 1))  # (L, n_params, M)
    # whole vectors of 8 parameter sets on each device (the split over the devices): sets at
    # the tail of a vector loop were computed with other rounding, and the results must not
    # depend on the devices
    lanes = 8 * (mesh.size if mesh is not None else 1)
    X0, PT = pad_to(X0, lanes, axis=1), pad_to(PT, lanes, axis=2)
    X0, PT = place(mesh, jnp.asarray(X0), axis=1), place(mesh, jnp.asarray(PT), axis=2)
    end, up = run(X0, PT, dt)
    _, down = run(end, PT[::-1], dt)
    up = tuple(np.asarray(a)[:, :M] for a in up)
    down = tuple(np.asarray(a)[::-1, :M] for a in down)
    cu, pu, au = _cycles(up, dt, min_amplitude)
    cd, pd, ad = _cycles(down, dt, min_amplitude)
    cycle = (cu | cd).reshape(G)
    period = np.where(cd, pd, pu).reshape(G)
    amplitude = np.where(cd, ad, au).reshape(G)
    rests = n_stable > 0
    regime = np.select([rests & ~cycle, cycle & ~rests, cycle & rests], [0, 1, 2], 3)
    return Sweep(model=model, param=param, params=eqs.params, equilibria=eqs,
                 n_stable=n_stable, cycle=cycle, period=period, amplitude=amplitude,
                 regime=regime)
