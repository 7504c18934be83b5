r"""Differentiable bifurcation points: Hopf points, folds, periodic orbits and folds of cycles.

Each function locates one point by Newton's method on its defining system
(:mod:`~hhanalysis.continuation.problems`) and returns it as a pytree of JAX arrays whose values
are differentiable with respect to every parameter passed in ``**params``:

.. code-block:: python

    m = hh.hodgkin_huxley()
    dI_dgK = jax.grad(lambda g: hh.hopf_point(m, "I", 6.5, gK=g).param)(36.0)
    J = jax.jacfwd(lambda ps: hh.hopf_point(m, "I", 6.5, **ps).param)(
        {"gK": 36.0, "gNa": 120.0})

The derivative is the implicit one (:mod:`~hhanalysis.continuation.locate`), exact up to the
Newton tolerance, never a derivative of the iterations. The guess (a number, a special point
of a branch, or a located point) is used where it was computed; the solver then follows a
straight path in parameter space to ``params`` (so it also works under ``jit``/``vmap``).

Parameters not named in ``**params`` keep the model's defaults, or, when the guess is a
special point or located point, the parameter values the guess was computed at.

**Precision.** A direct call runs in float64 whatever JAX's setting. Under your own
transformation (``jax.grad``, ``jax.jacfwd``, ``jax.vmap``, ``jax.jit``) the trace is yours, so
turn JAX's 64-bit mode on first (``jax.config.update("jax_enable_x64", True)``); the functions
say so with a ``ValueError`` otherwise.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from .._trace_cache import cached_jit
from ..codegen import CompiledModel
from ..equilibria import find_equilibria
from ..models import ODEModel
from ..precision import float64
from .collocation import Discretisation
from .locate import solve_point
from .problems import fold as fold_problem
from .problems import hopf as hopf_problem

__all__ = ["HopfPoint", "FoldPoint", "PeriodicOrbit", "hopf_point", "fold_point",
           "periodic_orbit", "lpc_point"]


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


def _pytree(cls):
    """Register a frozen dataclass as a pytree: array fields are leaves, ``meta`` fields static."""
    meta = [f.name for f in cls.__dataclass_fields__.values() if f.metadata.get("static")]
    data = [f.name for f in cls.__dataclass_fields__.values() if not f.metadata.get("static")]
    return jax.tree_util.register_dataclass(cls, data_fields=data, meta_fields=meta)


def _static():
    return field(metadata={"static": True})


class _Located:
    """Common read access of located points."""

    @property
    def status(self):
        """:class:`~hhanalysis.continuation.results.Status` (needs a concrete ``converged``)."""
        from .results import Status

        return Status.CONVERGED if bool(self.converged) else Status.NO_CONVERGENCE

    @property
    def state(self) -> dict:
        """The state as ``name -> value``."""
        return dict(zip(self.state_names, self.x))


@_pytree
@dataclass(frozen=True)
class HopfPoint(_Located):
    r"""A Hopf point of equilibria, differentiable in every parameter.

    Attributes:
        param: the value of the bifurcation parameter ``param_name``.
        x: the equilibrium ``(n,)``.
        omega: angular frequency of the critical pair :math:`\pm i\omega`.
        eigenvector: :math:`q`, :math:`J q = i\omega q`, :math:`\|q\| = 1`.
        l1: the first Lyapunov coefficient (< 0: supercritical).
        params: every parameter value at the point (``param_name`` included).
        converged: whether Newton converged (boolean array).
        residual: :math:`\|G\|_\infty` of the defining system.
        param_name, state_names: static names.
    """

    param: jax.Array
    x: jax.Array
    omega: jax.Array
    eigenvector: jax.Array
    l1: jax.Array
    params: dict
    converged: jax.Array
    residual: jax.Array
    param_name: str = _static()
    state_names: tuple = _static()

    @property
    def period(self):
        r""":math:`2\pi/\omega`."""
        return 2 * jnp.pi / self.omega

    def __repr__(self) -> str:
        if isinstance(self.param, jax.core.Tracer):
            return f"HopfPoint({self.param_name}, traced)"
        return (f"HopfPoint({self.param_name}={float(self.param):.12g}, "
                f"omega={float(self.omega):.8g}, l1={float(self.l1):.6g}, "
                f"status={self.status.name})")


@_pytree
@dataclass(frozen=True)
class FoldPoint(_Located):
    r"""A fold (limit point) of equilibria, differentiable in every parameter.

    Attributes:
        param: the value of the bifurcation parameter ``param_name``.
        x: the equilibrium ``(n,)``.
        null_vector: :math:`v`, :math:`J v = 0`, :math:`\|v\| = 1`.
        a: the normal-form coefficient of :math:`\dot\xi = \beta + a\xi^2`.
        params, converged, residual, param_name, state_names: as for :class:`HopfPoint`.
    """

    param: jax.Array
    x: jax.Array
    null_vector: jax.Array
    a: jax.Array
    params: dict
    converged: jax.Array
    residual: jax.Array
    param_name: str = _static()
    state_names: tuple = _static()

    def __repr__(self) -> str:
        if isinstance(self.param, jax.core.Tracer):
            return f"FoldPoint({self.param_name}, traced)"
        return (f"FoldPoint({self.param_name}={float(self.param):.12g}, a={float(self.a):.6g}, "
                f"status={self.status.name})")


# --------------------------------------------------------------------------------------------
# Parameters: traced values kept apart from the model
# --------------------------------------------------------------------------------------------


def _concrete(v):
    """``float(v)`` if ``v`` has a concrete value (also under ``jax.grad``), else None."""
    try:
        return float(v)
    except (TypeError, jax.errors.ConcretizationTypeError, jax.errors.TracerArrayConversionError):
        return None


def check_params(model: ODEModel, param: str | None, params: dict) -> None:
    """Names known, the bifurcation parameter (if any) not among ``params``, concrete values
    finite scalars, and 64-bit JAX (a traced call runs in the precision of the caller's trace;
    Newton to 1e-13 and the derivatives need float64)."""
    if not jax.config.jax_enable_x64:
        raise ValueError("located points under jax.grad/jacfwd/vmap/jit need JAX's 64-bit mode: "
                         "call jax.config.update('jax_enable_x64', True) first (or trace "
                         "inside `with jax.enable_x64(True):`)")
    if param is not None:
        model.check_param_names([param], "bifurcation parameter")
    model.check_param_names(list(params))
    if param is not None and param in params:
        raise ValueError(f"{param!r} is the bifurcation parameter: give its guess as `guess`, "
                         f"not as {param}=...")
    for name, v in params.items():
        if isinstance(v, bool) or not isinstance(v, (int, float, np.number, np.ndarray,
                                                     jax.Array)):
            raise ValueError(f"parameter {name!r} must be a number or a JAX scalar, got "
                             f"{type(v).__name__} {v!r}")
        if jnp.ndim(v) != 0:
            raise ValueError(f"parameter {name!r} must be a scalar (use jax.vmap for many "
                             f"values), got shape {jnp.shape(v)}")
        c = _concrete(v)
        if c is not None and not math.isfinite(c):
            raise ValueError(f"parameter {name!r} must be finite, got {c}")


def overrides(model: ODEModel, params: dict):
    """``(indices, values)`` of the overridden parameters: a static tuple and one stacked array
    (one operation on tracers; the vector itself is assembled inside the jitted solver)."""
    idx = tuple(model.param_names.index(name) for name in params)
    values = (jnp.stack([jnp.asarray(v) for v in params.values()]).astype(jnp.float64)
              if params else jnp.zeros(0))
    return idx, values


def _tracing() -> bool:
    """Whether this call is part of someone's trace (``jit``, ``grad``, ``vmap``, ...)."""
    try:
        from jax._src.core import trace_state_clean
    except ImportError:  # a JAX without it: assume a trace (the safe, slower path)
        return True
    return not trace_state_clean()


def _set(base, idx, values):
    return base.at[jnp.asarray(idx, dtype=int)].set(values) if idx else base


def _reference(model: ODEModel, base: dict, params: dict) -> dict:
    """Concrete parameters to build a guess at: ``params`` where they are concrete."""
    ref = dict(base)
    for name, v in params.items():
        c = _concrete(v)
        if c is not None:
            ref[name] = c
    return ref


def _as_dict(names, p):
    return {name: p[i] for i, name in enumerate(names)}


def _guess_params(model, guess) -> dict:
    """The parameter values a special point or located point was computed at."""
    params = getattr(guess, "params", None) or {}
    base = model.defaults
    base.update({k: float(v) for k, v in params.items()})
    return base


# --------------------------------------------------------------------------------------------
# Hopf points
# --------------------------------------------------------------------------------------------


def _hopf_guess(model: ODEModel, param: str, guess, ref: dict):
    """``(x, lambda, omega, q)`` (numpy) near which the Hopf point is sought, and whether
    it was computed at ``ref`` (True) or at the guess's own parameters."""
    if isinstance(guess, HopfPoint):
        return (np.asarray(guess.x), float(guess.param), float(guess.omega),
                np.asarray(guess.eigenvector)), False
    if getattr(guess, "kind", None) == "hopf":
        data = getattr(guess, "data", guess)
        return (np.asarray(guess.state, float), float(guess.param), float(data.omega),
                np.asarray(data.eigenvector)), False
    lam = _guess_value(guess, "guess")
    eqs = find_equilibria(model, **{**ref, param: lam})
    best = None
    for eq in eqs:
        z = eq.eigenvalues
        cplx = np.flatnonzero(z.imag > 1e-10 * np.maximum(1.0, np.abs(z)))
        if cplx.size:
            i = cplx[np.argmin(np.abs(z[cplx].real))]
            if best is None or abs(z[i].real) < abs(best[0].real):
                best = (z[i], eq, i)
    if best is None:
        raise ValueError(f"guess: no equilibrium with a complex eigenvalue pair at "
                         f"{param}={lam:g}; give a guess closer to a Hopf point")
    z, eq, i = best
    return (eq.x, lam, float(z.imag), eq.right_eigenvectors[:, i]), True


def _guess_value(guess, name) -> float:
    try:
        v = float(guess)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number (the parameter value near the point), a "
                         f"special point of a branch or a located point, got "
                         f"{type(guess).__name__}") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}")
    return v


def _jitted(system, idx: tuple, finish):
    """One jitted call: the parameter vector from ``base`` and the overrides, the located point
    (:func:`~hhanalysis.continuation.locate.solve_point`), the residual norm, and
    ``finish(y, p, converged)`` (the fields of the point). Its traced program is kept on disk
    (:func:`~hhanalysis._trace_cache.cached_jit`; a call with traced arguments, under the
    caller's ``grad``/``vmap``/``jit``, is a plain ``jax.jit``): tracing the LPC system took
    ~3 s of a new session's first :func:`lpc_point`."""

    def run(values, base, y0, p0, c):
        p = _set(base, idx, values)
        y, ok = solve_point(system, p, y0, p0, c)
        return finish(y, p, ok), jnp.max(jnp.abs(system.residual(y, p, c)))

    return cached_jit(run)


@functools.cache
def _hopf_solver(cm: CompiledModel, k: int, idx: tuple):
    n = len(cm.state_names)

    def finish(y, p, ok):
        x, lam, omega, vr, vi = hopf_problem.split(y, n)
        q = vr + 1j * vi
        q = q / jnp.linalg.norm(q)
        p_at = p.at[k].set(lam)
        l1 = hopf_problem.first_lyapunov(cm, x, p_at, omega, q)
        # omega -> 0 is a real double eigenvalue (a neutral saddle or BT point), not a Hopf point
        ok = ok & (omega > 1e-8 * jnp.max(jnp.abs(cm.jac_x(x, p_at))))
        return lam, x, omega, q, l1, _as_dict(cm.param_names, p_at), ok

    return _jitted(hopf_problem.hopf_system(cm, k), idx, finish)


def _solve_at(model: ODEModel, param: str, guess, params: dict, guess_fn, pack, solver):
    """The steps every equilibrium-type point shares: check the arguments, build the guess at
    concrete parameters (``guess_fn``, also inside ``jit``), ``pack`` it into the unknown
    vector and the system's constants, and run the jitted ``solver(cm, k, idx)``."""
    check_params(model, param, params)
    base = _guess_params(model, guess)
    ref = _reference(model, base, params)
    with jax.ensure_compile_time_eval():  # the guess is concrete, also inside jit
        g, at_ref = guess_fn(model, param, guess, ref)
    y0, c = pack(*g)
    cm = model.compile()
    p0 = model.param_vector(**{**(ref if at_ref else base), param: float(y0[model.n_states])})
    idx, values = overrides(model, params)
    return solver(cm, cm.param_index(param), idx)(values, model.param_vector(**base), y0, p0, c)


def _finish(point, throw: bool, what: str):
    if throw:
        import equinox as eqx  # ~0.3 s to import: only where a point is located with throw
        msg = (f"{what}: Newton on the defining system did not converge (the point may not "
               f"exist at these parameters, or the guess is too far); pass throw=False to get "
               f"the point with converged=False")
        point = eqx.error_if(point, ~point.converged, msg)
    return point


@float64
def hopf_point(model: ODEModel, param: str, guess, *, throw: bool = True,
               **params) -> HopfPoint:
    r"""The Hopf point of ``model`` in the parameter ``param``, differentiable in ``**params``.

    Arguments:
        model: the model.
        param: the bifurcation parameter (e.g. ``"I"``).
        guess: a value of ``param`` near the Hopf point (the equilibrium there with the complex
            pair nearest the imaginary axis is used), a Hopf :class:`SpecialPoint` of a branch,
            or a :class:`HopfPoint`.
        throw: raise (also inside ``jit``, through ``equinox.error_if``) when Newton fails;
            with False the point comes back with ``converged = False``.
        **params: other parameter values (numbers or JAX tracers: ``jax.grad``,
            ``jax.jacfwd`` and ``jax.vmap`` over them work).

    Returns:
        :class:`HopfPoint`.

    Raises:
        ValueError: unknown names, ``param`` also in ``params``, a guess that is neither a number
            nor a point, no complex pair at the guess.
    """
    def pack(x0, lam0, om0, q0):
        q0 = q0 / np.linalg.norm(q0)
        return np.concatenate([x0, [lam0, om0], q0.real, q0.imag]), (q0.real, q0.imag)

    (lam, x, omega, q, l1, p_at, ok), res = _solve_at(model, param, guess, params,
                                                      _hopf_guess, pack, _hopf_solver)
    point = HopfPoint(param=lam, x=x, omega=omega, eigenvector=q, l1=l1,
                      params=p_at, converged=ok, residual=res,
                      param_name=param, state_names=model.state_names)
    return _finish(point, throw, f"hopf_point({param})")


# --------------------------------------------------------------------------------------------
# Folds of equilibria
# --------------------------------------------------------------------------------------------


def _fold_guess(model: ODEModel, param: str, guess, ref: dict):
    """``(x, lambda, v)`` (numpy) near which the fold is sought; see :func:`_hopf_guess`."""
    if isinstance(guess, FoldPoint):
        return (np.asarray(guess.x), float(guess.param), np.asarray(guess.null_vector)), False
    if getattr(guess, "kind", None) == "fold":
        data = getattr(guess, "data", guess)
        v = getattr(data, "null_vector", None)
        if v is None:
            v = getattr(data, "eigenvector", None)
        return (np.asarray(guess.state, float), float(guess.param), np.asarray(v).real), False
    lam = _guess_value(guess, "guess")
    eqs = find_equilibria(model, **{**ref, param: lam})
    if len(eqs) == 0:
        raise ValueError(f"guess: no equilibrium at {param}={lam:g}")
    best = min(((float(np.min(np.abs(eq.eigenvalues.real))), j) for j, eq in enumerate(eqs)))
    eq = eqs[best[1]]
    i = int(np.argmin(np.abs(eq.eigenvalues)))
    return (eq.x, lam, np.real(eq.right_eigenvectors[:, i])), True


@functools.cache
def _fold_solver(cm: CompiledModel, k: int, idx: tuple):
    n = len(cm.state_names)

    def finish(y, p, ok):
        x, lam, v = fold_problem.split(y, n)
        p_at = p.at[k].set(lam)
        a = fold_problem.fold_coefficient(cm, x, p_at, v)
        return lam, x, v / jnp.linalg.norm(v), a, _as_dict(cm.param_names, p_at), ok

    return _jitted(fold_problem.fold_system(cm, k), idx, finish)


@float64
def fold_point(model: ODEModel, param: str, guess, *, throw: bool = True,
               **params) -> FoldPoint:
    r"""The fold (limit point) of equilibria in ``param``, differentiable in ``**params``.

    Arguments:
        model: the model.
        param: the bifurcation parameter.
        guess: a value of ``param`` near the fold (the equilibrium there with the real
            eigenvalue nearest zero is used), a fold :class:`SpecialPoint`, or a
            :class:`FoldPoint`.
        throw, **params: as for :func:`hopf_point`.

    Returns:
        :class:`FoldPoint`.
    """
    def pack(x0, lam0, v0):
        v0 = v0 / np.linalg.norm(v0)
        return np.concatenate([x0, [lam0], v0]), v0

    (lam, x, v, a, p_at, ok), res = _solve_at(model, param, guess, params, _fold_guess, pack,
                                              _fold_solver)
    point = FoldPoint(param=lam, x=x, null_vector=v, a=a,
                      params=p_at, converged=ok, residual=res,
                      param_name=param, state_names=model.state_names)
    return _finish(point, throw, f"fold_point({param})")


# --------------------------------------------------------------------------------------------
# Periodic orbits and folds of cycles
# --------------------------------------------------------------------------------------------


@_pytree
@dataclass(frozen=True)
class PeriodicOrbit(_Located):
    r"""A periodic orbit on a fixed collocation mesh, differentiable in every parameter.

    Attributes:
        param: the value of ``param_name`` (for :func:`periodic_orbit`, the parameter held
            fixed; for :func:`lpc_point`, the located fold value).
        period: the period :math:`T`.
        orbit: node values ``(ntst*ncol + 1, n)`` on ``mesh``, starting at the phase of the
            reference orbit.
        mesh: the mesh ``(ntst + 1,)`` in rescaled time :math:`\tau = t/T \in [0, 1]`.
        x_max, x_min: maximum and minimum of every state over the nodes, ``(n,)``.
        params, converged, residual: as for :class:`HopfPoint`.
        param_name, state_names: static names; ncol: collocation points per interval.
    """

    param: jax.Array
    period: jax.Array
    orbit: jax.Array
    mesh: jax.Array
    x_max: jax.Array
    x_min: jax.Array
    params: dict
    converged: jax.Array
    residual: jax.Array
    param_name: str = _static()
    state_names: tuple = _static()
    ncol: int = _static()

    @property
    def amplitude(self):
        """Peak-to-peak range of every state over the nodes, ``(n,)``."""
        return self.x_max - self.x_min

    @property
    def frequency(self):
        """``1000/period`` (Hz for a model in ms)."""
        return 1000.0 / self.period

    @property
    def x(self):
        return self.orbit[0]

    def __repr__(self) -> str:
        if isinstance(self.period, jax.core.Tracer):
            return "PeriodicOrbit(traced)"
        return (f"PeriodicOrbit({self.param_name}={float(self.param):.12g}, "
                f"period={float(self.period):.12g}, NTST={self.mesh.shape[-1] - 1}, "
                f"NCOL={self.ncol}, status={self.status.name})")


def _cycle_guess(model: ODEModel, guess, index, what: str):
    """``(orbit nodes, mesh, period, param_name, lambda, params, ncol)`` of a guess orbit: a
    :class:`PeriodicOrbit`, or a cycle branch with ``index`` (an orbit number, or for
    :func:`lpc_point` the number of its LPC point)."""
    if isinstance(guess, PeriodicOrbit):
        params = {k: float(v) for k, v in guess.params.items()}
        return (np.asarray(guess.orbit), np.asarray(guess.mesh), float(guess.period),
                guess.param_name, float(guess.param), params, guess.ncol)
    if isinstance(guess, tuple) and len(guess) == 2:
        guess, index = guess
    if not hasattr(guess, "orbits") or not hasattr(guess, "mesh"):
        raise ValueError(f"{what}: guess must be a PeriodicOrbit or a cycle branch "
                         f"(continue_cycles / bifurcation_diagram(...).cycles[k]), got "
                         f"{type(guess).__name__}")
    branch = guess
    if what == "lpc_point":
        lpcs = [s for s in branch.special_points if s.kind == "lpc"]
        j = 0 if index is None else int(index)
        if not -len(lpcs) <= j < len(lpcs) or not lpcs:
            raise ValueError(f"index = {index!r}: the branch has {len(lpcs)} LPC point(s)")
        sp = lpcs[j]
        lo, hi = max(sp.index, 0), min(sp.index + 1, len(branch) - 1)
        i = lo if abs(branch.param[lo] - sp.param) <= abs(branch.param[hi] - sp.param) else hi
    else:
        if index is None:
            raise ValueError("index: give the number of the branch's orbit to start from")
        i = int(index)
        if not -len(branch) <= i < len(branch):
            raise ValueError(f"index = {index!r}: the branch has {len(branch)} orbits")
    params = {**branch.model.defaults, **getattr(branch, "params", {})}
    params[branch.param_name] = float(branch.param[i])
    return (np.asarray(branch.orbits[i]), np.asarray(branch.mesh[i]), float(branch.period[i]),
            branch.param_name, float(branch.param[i]), params, branch.collocation.ncol)


@functools.cache
def _orbit_solver(cm: CompiledModel, k: int, ntst: int, ncol: int, lpc: bool, idx: tuple):
    from .problems import lpc as lpc_problem

    disc = Discretisation(len(cm.state_names), ntst, ncol)
    system = (lpc_problem.lpc_system if lpc else lpc_problem.orbit_system)(cm, k, ntst, ncol)

    def finish(u, p, ok):
        X = disc.orbit(u)
        return (u[-1], u[-2], X, X.max(axis=0), X.min(axis=0),
                _as_dict(cm.param_names, p.at[k].set(u[-1])), ok)

    return _jitted(system, idx, finish)


@functools.cache
def _lpc_row(cm: CompiledModel, k: int, ntst: int, ncol: int):
    """The border vector r of the LPC system: the branch tangent at the guess (from a solve
    with the period row), its parameter component removed, unit length."""
    from .problems import lpc as lpc_problem

    def row(u, p, c):
        e_T = jnp.zeros_like(u).at[-2].set(1.0)
        z = lpc_problem.tangent(cm, k, ntst, ncol, u, p, c, e_T)
        z = z.at[-1].set(0.0)
        return z / jnp.linalg.norm(z)

    return cached_jit(row)


@functools.cache
def _lpc_chain_solver(cm: CompiledModel, k: int, ntst: int, ncol: int, idx: tuple):
    """``chain(values (N, len(idx)), base, u0, p0, c)``: the LPC point of each row of
    ``values`` in turn (``jax.lax.scan``), each reached from the last one that converged (a
    short homotopy between neighbours), or from the guess ``(u0, p0)`` if that fails."""
    from .problems import lpc as lpc_problem

    system = lpc_problem.lpc_system(cm, k, ntst, ncol)
    disc = Discretisation(len(cm.state_names), ntst, ncol)

    def chain(values, base, u0, p0, c):
        def step(carry, v):
            y_c, p_c, at_guess = carry  # the last converged point, and whether it is the guess
            p = _set(base, idx, v)

            def attempt(state):  # from the last converged point, then from the guess
                tried, _, _ = state
                y, ok = solve_point(system, p, jnp.where(tried == 0, y_c, u0),
                                    jnp.where(tried == 0, p_c, p0), c)
                return tried + 1, y, ok

            def retry(state):
                tried, _, ok = state
                return (tried == 0) | ((tried == 1) & ~ok & ~at_guess)

            _, y, ok = jax.lax.while_loop(retry, attempt, (0, y_c, jnp.asarray(False)))
            p_at = p.at[k].set(y[-1])
            X = disc.orbit(y)
            out = (y[-1], y[-2], X, X.max(axis=0), X.min(axis=0), _as_dict(cm.param_names, p_at),
                   ok, jnp.max(jnp.abs(system.residual(y, p, c))))
            return (jnp.where(ok, y, y_c), jnp.where(ok, p_at, p_c), at_guess & ~ok), out

        return jax.lax.scan(step, (u0, p0, jnp.asarray(True)), values)[1]

    return jax.jit(chain)


def lpc_chain(model: ODEModel, param: str, guess, index, names: tuple, values):
    """The LPC points of ``lpc_point(model, param, guess, index, **dict(zip(names, row)))``
    for each row of ``values`` ``(N, len(names))``, each reached from the previous converged
    one: a :class:`PeriodicOrbit` with a leading axis ``N``. See
    :func:`hhanalysis.scale.lpc_points`."""
    X0, mesh, T0, pname, lam0, base, ncol = _cycle_guess(model, guess, index, "lpc_point")
    if param != pname:
        raise ValueError(f"param = {param!r}: the guess's branch is in {pname!r}")
    check_params(model, pname, dict(zip(names, np.asarray(values)[0])) if len(values) else {})
    cm = model.compile()
    k = cm.param_index(pname)
    ntst = mesh.size - 1
    u0 = jnp.asarray(Discretisation(model.n_states, ntst, ncol).pack(X0, T0, lam0))
    p0 = jnp.asarray(model.param_vector(**base))
    c = (u0, jnp.asarray(np.diff(mesh)))
    c = c + (_lpc_row(cm, k, ntst, ncol)(u0, p0, c),)
    idx = tuple(model.param_names.index(name) for name in names)
    lam, T, X, x_max, x_min, p_at, ok, res = _lpc_chain_solver(cm, k, ntst, ncol, idx)(
        jnp.asarray(values, dtype=jnp.float64), p0, u0, p0, c)
    return PeriodicOrbit(param=lam, period=T, orbit=X,
                         mesh=jnp.broadcast_to(jnp.asarray(mesh), (len(values), mesh.size)),
                         x_max=x_max, x_min=x_min, params=p_at, converged=ok, residual=res,
                         param_name=pname, state_names=model.state_names, ncol=ncol)


def _orbit_point(model, guess, index, what, param, params, throw):
    X0, mesh, T0, pname, lam0, base, ncol = _cycle_guess(model, guess, index, what)
    if param is not None and param != pname:
        raise ValueError(f"param = {param!r}: the guess's branch is in {pname!r}")
    lpc = what == "lpc_point"
    check_params(model, pname if lpc else None, params)
    cm = model.compile()
    k = cm.param_index(pname)
    ntst = mesh.size - 1
    u0 = Discretisation(model.n_states, ntst, ncol).pack(X0, T0, lam0)
    p0 = model.param_vector(**base)
    c = (jnp.asarray(u0), jnp.asarray(np.diff(mesh)))
    if lpc:
        row = _lpc_row(cm, k, ntst, ncol)
        if _tracing():
            with jax.ensure_compile_time_eval():  # a constant of the system, also inside jit
                c = c + (row(jnp.asarray(u0), jnp.asarray(p0), c),)
        else:  # the compiled row (under ensure_compile_time_eval it costs ~3 s more cold)
            c = c + (row(jnp.asarray(u0), jnp.asarray(p0), c),)
    idx, values = overrides(model, params)
    (lam, T, X, x_max, x_min, p_at, ok), res = _orbit_solver(cm, k, ntst, ncol, lpc, idx)(
        values, p0, u0, p0, c)
    point = PeriodicOrbit(param=lam, period=T, orbit=X, mesh=mesh,
                          x_max=x_max, x_min=x_min, params=p_at, converged=ok,
                          residual=res, param_name=pname, state_names=model.state_names,
                          ncol=ncol)
    return _finish(point, throw, what)


@float64
def periodic_orbit(model: ODEModel, guess, index: int | None = None, *, throw: bool = True,
                   **params) -> PeriodicOrbit:
    r"""The periodic orbit at the parameters ``params``, differentiable in them.

    The orbit is computed by Newton on the collocation system (on the guess's mesh, with the
    phase condition against the guess orbit) from a nearby orbit, e.g.
    ``periodic_orbit(m, branch, 40, I=10.0)`` from orbit 40 of a cycle branch.
    ``jax.grad(lambda i: periodic_orbit(m, branch, 40, I=i).period)(10.0)`` is
    :math:`dT/dI`.

    Arguments:
        model: the model.
        guess: a :class:`PeriodicOrbit`, a cycle branch (with ``index``) or ``(branch, index)``.
        index: the orbit of the branch to start from.
        throw: raise when Newton fails (see :func:`hopf_point`).
        **params: parameter values (numbers or tracers), the branch parameter included; the
            others default to the values the guess was computed at.

    Returns:
        :class:`PeriodicOrbit` (``param``: the branch parameter's value).
    """
    return _orbit_point(model, guess, index, "periodic_orbit", None, params, throw)


@float64
def lpc_point(model: ODEModel, param: str, guess, index: int | None = None, *,
              throw: bool = True, **params) -> PeriodicOrbit:
    r"""The fold of cycles (LPC) in ``param``, differentiable in ``**params``.

    Newton on the minimally augmented LPC system (:mod:`~hhanalysis.continuation.problems.lpc`)
    on the mesh of the guess orbit.

    Arguments:
        model: the model.
        param: the bifurcation parameter: the parameter of the guess's branch.
        guess: a cycle branch (then ``index`` picks its LPC point, default the first; the
            branch orbit next to it is the guess), ``(branch, index)``, or a
            :class:`PeriodicOrbit` near the fold.
        throw, **params: as for :func:`hopf_point`.

    Returns:
        :class:`PeriodicOrbit` at the fold; ``.param`` is the parameter value of the fold.
    """
    return _orbit_point(model, guess, index, "lpc_point", param, params, throw)
