r"""One trajectory of a model, as XPPAUT's *Initialconds → Go* computes it.

:func:`trajectory` integrates :math:`\dot x = f(t, x, p)` from ``x0`` over ``duration`` and
returns the times, the states and the model's ``aux`` quantities by name. Its defaults come from
the model's options (an ``.ode`` file's ``@ total, dt, meth, nout, t0`` and ``init``), so an
imported file runs as it does in XPPAUT:

``'euler'``
    :math:`x_{k+1} = x_k + \Delta t\, f(t_k, x_k)` (XPP ``meth=euler``);
``'heun'``
    the improved Euler / explicit trapezoid method (XPP ``meth=modeuler``);
``'rk4'``
    the classical fourth-order Runge–Kutta method (XPP's default, ``meth=runge-kutta``);
``'dopri5'`` (alias ``'adaptive'``), ``'kvaerno5'`` (alias ``'stiff'``)
    adaptive Dormand–Prince 5(4) and the L-stable ESDIRK Kvaerno 5(4) of diffrax, with error
    control ``rtol``/``atol``; XPP's adaptive and multistep methods (``qualrk``, ``dorprin``,
    ``adams``, …) map to ``'dopri5'``, its stiff ones (``gear``, ``cvode``, ``stiff``, ``rosen``,
    ``backeul``) to ``'kvaerno5'``. They give the same solution to their tolerance, not XPP's
    step-by-step numbers.

The fixed-step methods run as one ``lax.scan`` over the output rows, each row a
``lax.fori_loop`` over ``nout`` steps; the right-hand side and the aux quantities are generated
from the model's sympy expressions with the removable singularities filled in
(:func:`~hhanalysis.special.remove_removable_singularities`). Float64 throughout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp

from .models import ODEModel
from .precision import float64
from .special import remove_removable_singularities

__all__ = ["Trajectory", "trajectory", "METHODS"]

_ALIASES = {"euler": "euler", "heun": "heun", "modeuler": "heun", "rk2": "heun",
            "rk4": "rk4", "runge-kutta": "rk4", "rungekutta": "rk4", "dopri5": "dopri5",
            "adaptive": "dopri5", "kvaerno5": "kvaerno5", "stiff": "kvaerno5"}
#: Method names :func:`trajectory` accepts (aliases included).
METHODS = tuple(sorted(_ALIASES))

# XPP's meth= values by their first letters (XPP itself reads only the first characters)
_XPP_METHODS = (("e", "euler"), ("m", "heun"), ("r", "rk4"), ("q", "dopri5"),
                ("do", "dopri5"), ("5", "dopri5"), ("8", "dopri5"), ("a", "dopri5"),
                ("g", "kvaerno5"), ("c", "kvaerno5"), ("s", "kvaerno5"), ("2", "kvaerno5"),
                ("b", "kvaerno5"), ("ro", "kvaerno5"))


def xpp_method(value) -> str:
    """Our method for an XPP ``meth=`` value (``'runge-kutta'`` -> ``'rk4'``, ``'gear'`` ->
    ``'kvaerno5'``, …)."""
    v = str(value).strip().lower()
    if v in _ALIASES:
        return _ALIASES[v]
    for prefix, ours in sorted(_XPP_METHODS, key=lambda pm: -len(pm[0])):
        if v.startswith(prefix):
            return ours
    raise ValueError(f"the model's option meth={value!r} is not an integration method this "
                     f"toolkit runs; pass method= one of {', '.join(METHODS)}")


@dataclass(frozen=True)
class Trajectory:
    """A computed trajectory.

    Attributes:
        t: output times, shape ``(K,)``.
        states: the states at those times, ``(K, n)``, columns in ``state_names`` order.
        aux: the model's aux quantities, ``(K, n_aux)``, columns in ``aux_names`` order.
        state_names, aux_names: column names.
        method: the method used; dt: its step (the first trial step for adaptive methods).
        params: the parameter values used.

    ``tr["V"]`` is a column by name (a state, an aux quantity, or ``"t"``).
    """

    t: np.ndarray
    states: np.ndarray
    aux: np.ndarray
    state_names: tuple[str, ...]
    aux_names: tuple[str, ...]
    method: str
    dt: float
    params: dict

    @property
    def names(self) -> tuple[str, ...]:
        return ("t",) + self.state_names + self.aux_names

    def __getitem__(self, name: str) -> np.ndarray:
        if name == "t":
            return self.t
        if name in self.state_names:
            return self.states[:, self.state_names.index(name)]
        if name in self.aux_names:
            return self.aux[:, self.aux_names.index(name)]
        raise KeyError(f"{name!r}: not a column; columns: {list(self.names)}")

    def __len__(self) -> int:
        return len(self.t)

    def __repr__(self) -> str:
        return (f"Trajectory({len(self)} rows, t in [{self.t[0]:g}, {self.t[-1]:g}], "
                f"method={self.method!r}, dt={self.dt:g}, columns={list(self.names)})")


_FUNCTIONS: dict = {}


def _functions(model: ODEModel):
    """Generated ``f(x, p, tt)`` and ``aux(x, p, tt)`` (``tt = [t]``), cached per structure."""
    key = (model.state_names, model.param_names, tuple(model.rhs), tuple(model.aux), model.time)
    if key in _FUNCTIONS:
        return _FUNCTIONS[key]
    from .codegen import generate_function

    xs = tuple(sp.Symbol(f"_x{i}") for i in range(model.n_states))
    ps = tuple(sp.Symbol(f"_p{k}") for k in range(len(model.parameters)))
    ts = (sp.Symbol("_t0"),)
    subs = {model.symbol(s): x for s, x in zip(model.state_names, xs)}
    subs.update({model.symbol(q): p for q, p in zip(model.param_names, ps)})
    if model.time:
        subs[sp.Symbol(model.time)] = ts[0]

    def prepare(e):
        return remove_removable_singularities(sp.sympify(e).xreplace(subs))

    args = [("x", xs), ("p", ps), ("tt", ts)]
    f = generate_function("trajectory_rhs", args, sp.Matrix([prepare(e) for e in model.rhs]))
    aux = (generate_function("trajectory_aux", args,
                             sp.Matrix([prepare(e) for _, e in model.aux]))
           if model.aux else None)
    _FUNCTIONS[key] = (f, aux)
    return f, aux


def _step(method: str, f, x, p, t, dt):
    def rhs(tt, xx):
        return f(xx, p, jnp.reshape(tt, (1,)))

    if method == "euler":
        return x + dt * rhs(t, x)
    if method == "heun":
        k1 = rhs(t, x)
        k2 = rhs(t + dt, x + dt * k1)
        return x + 0.5 * dt * (k1 + k2)
    k1 = rhs(t, x)
    k2 = rhs(t + 0.5 * dt, x + 0.5 * dt * k1)
    k3 = rhs(t + 0.5 * dt, x + 0.5 * dt * k2)
    k4 = rhs(t + dt, x + dt * k3)
    return x + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


@partial(jax.jit, static_argnames=("f", "method", "nout", "rows"))
def _fixed(f, method, nout, rows, x0, p, t0, dt):
    """States and times at every ``nout``-th step: a scan over rows of ``nout`` steps. Time is
    accumulated, ``t <- t + dt``, as XPPAUT does (this decides on which step a pulse
    ``heav(t - t_on)`` switches on when ``t_on`` lies on the grid)."""

    def row(carry, _):
        def one(i, c):
            x, t = c
            return _step(method, f, x, p, t, dt), t + dt

        carry = jax.lax.fori_loop(0, nout, one, carry)
        return carry, carry

    t0 = jnp.asarray(t0, dtype=x0.dtype)
    _, (xs, ts) = jax.lax.scan(row, (x0, t0), None, length=rows - 1)
    return jnp.concatenate([x0[None], xs]), jnp.concatenate([t0[None], ts])


_TERMS: dict = {}


def _adaptive(f, method, x0, p, ts, dt, rtol, atol, max_steps):
    import diffrax

    solver = diffrax.Dopri5() if method == "dopri5" else diffrax.Kvaerno5()
    if f not in _TERMS:  # one term per model: diffrax's jit cache keys on the function
        _TERMS[f] = diffrax.ODETerm(lambda t, y, args: f(y, args, jnp.reshape(t, (1,))))
    term = _TERMS[f]
    sol = diffrax.diffeqsolve(
        term, solver, ts[0], ts[-1], dt, x0, args=p, saveat=diffrax.SaveAt(ts=ts),
        stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol),
        max_steps=max_steps, throw=False)
    return sol.ys, sol.result


def _option(model: ODEModel, names, default):
    for n in names:
        if n in model.options:
            return model.options[n]
    return default


def _positive(name: str, value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number, got {value!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return v


def _initial(model: ODEModel, x0) -> np.ndarray:
    if x0 is None:
        init = dict(model.options.get("init", {}))
        return np.array([float(init.get(s, 0.0)) for s in model.state_names])
    if isinstance(x0, dict):
        unknown = [k for k in x0 if k not in model.state_names]
        if unknown:
            raise ValueError(f"x0: unknown state(s) {unknown}; states: {list(model.state_names)}")
        base = _initial(model, None)
        for k, v in x0.items():
            base[model.state_names.index(k)] = v
        x = base
    else:
        x = np.asarray(x0, dtype=float)
    if x.shape != (model.n_states,) or not np.all(np.isfinite(x)):
        raise ValueError(f"x0 must be {model.n_states} finite values (states "
                         f"{list(model.state_names)}) or a dict by name, got {x0!r}")
    return np.asarray(x, dtype=float)


@float64
def trajectory(model: ODEModel, duration: float | None = None, dt: float | None = None,
               method: str | None = None, x0=None, *, nout: int | None = None,
               rtol: float = 1e-10,
               atol: float = 1e-12, max_steps: int = 1_000_000, **params) -> Trajectory:
    r"""Integrate one trajectory of ``model`` (time may appear in its equations).

    Arguments:
        model: an :class:`~hhanalysis.models.ODEModel` (e.g. from :func:`hhanalysis.load_ode`).
        duration: length of the run; default the model's option ``total`` (XPP's default 20).
        dt: the time step; default the option ``dt`` (XPP's default 0.05).
        method: 'euler', 'heun', 'rk4', 'dopri5' / 'adaptive', 'kvaerno5' / 'stiff' (module
            docstring); default the option ``meth`` mapped to these, else 'rk4' (XPP's default).
        x0: initial state: ``n`` values, or a dict by name (others from the default); default
            the model's ``options['init']`` (an ``.ode`` file's ``init`` / ``x(0)=``), states
            without one start at 0 as in XPP.
        nout: output every ``nout`` steps; default the option ``nout``, else 1. The run starts
            at the option ``t0`` (default 0).
        rtol, atol, max_steps: error control of the adaptive methods.
        **params: parameter values overriding the defaults.

    Returns:
        :class:`Trajectory` with ``K = round(duration / (nout dt)) + 1`` rows: ``tr.t``,
        ``tr["V"]``, ``tr.states``, ``tr.aux``.

    Raises:
        ValueError: a non-positive duration or step, a step longer than the run, an unknown
            method, parameter or state name, a bad ``x0``, or an adaptive run that fails.
    """
    duration = _positive("duration", duration if duration is not None
                         else _option(model, ("total",), 20.0))
    dt = _positive("dt", dt if dt is not None else _option(model, ("dt",), 0.05))
    nout = _positive("nout", nout if nout is not None else _option(model, ("nout",), 1))
    if nout != int(nout):
        raise ValueError(f"nout must be a positive integer, got {nout!r}")
    nout = int(nout)
    t0 = float(_option(model, ("t0",), 0.0))
    if method is None:
        value = _option(model, ("meth", "method"), "rk4")
        method = xpp_method(value)
    elif str(method).lower() not in _ALIASES:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    method = _ALIASES[str(method).lower()]
    steps = int(round(duration / dt))
    if steps < 1:
        raise ValueError(f"dt = {dt:g} is longer than the duration {duration:g}")
    rows = steps // nout + 1
    p = model.param_vector(**params)
    x = _initial(model, x0)
    f, aux_fn = _functions(model)
    if method in ("euler", "heun", "rk4"):
        xs, ts = _fixed(f, method, nout, rows, jnp.asarray(x), jnp.asarray(p), t0, dt)
    else:
        ts = t0 + dt * nout * np.arange(rows)
        xs, result = _adaptive(f, method, jnp.asarray(x), jnp.asarray(p), jnp.asarray(ts), dt,
                               rtol, atol, int(max_steps))
        import diffrax

        if result != diffrax.RESULTS.successful:
            raise ValueError(f"trajectory: the {method} integration failed "
                             f"({diffrax.RESULTS[result]}); try method='kvaerno5', a larger "
                             "max_steps or looser rtol/atol")
    xs = np.asarray(xs)
    if aux_fn is not None:
        aux = np.asarray(jax.vmap(lambda xx, tt: aux_fn(xx, jnp.asarray(p), tt[None]))(
            jnp.asarray(xs), jnp.asarray(ts)))
    else:
        aux = np.zeros((rows, 0))
    return Trajectory(t=np.asarray(ts, dtype=float), states=xs, aux=aux,
                      state_names=model.state_names,
                      aux_names=tuple(n for n, _ in model.aux), method=method, dt=dt,
                      params=dict(zip(model.param_names, p.tolist())))
