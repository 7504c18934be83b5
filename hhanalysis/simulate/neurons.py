"""Neuron groups: N copies of a model, simulated together (structure-of-arrays layout).

:class:`NeuronGroup` works for any :class:`~hhanalysis.models.ODEModel`; :class:`HH` is the
Hodgkin–Huxley group with exactly the signature of BrainPy's ``brainpy.dyn.HH``.

Every parameter may be a scalar, an array of the group's shape (heterogeneous neurons), an
:mod:`initializer <hhanalysis.simulate.initializers>` or a callable ``f(shape) -> array``.
Variables (``group.V``, ``group.m``, …, ``group.input``, ``group.spike``) are JAX arrays of the
group's shape (``size`` if ``keep_size`` else flattened) and of the group's dtype: groups and the
runner work in JAX's 64-bit mode (:func:`~hhanalysis.precision.float64`) whatever the caller's
``jax_enable_x64``.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from ..models import ODEModel, hodgkin_huxley
from ..precision import float64
from .initializers import Initializer, OneInit, SteadyState, Uniform
from .integrators import AdaptiveSettings, check_method
from .resources import STATE_COPIES, check_memory

__all__ = ["NeuronGroup", "HH"]

_DTYPES = {"float32": np.float32, "float64": np.float64}


def _dtype(dtype):
    name = np.dtype(dtype).name if dtype is not None else "float64"
    if name not in _DTYPES:
        raise ValueError(f"dtype must be float32 or float64, got {dtype!r}")
    return _DTYPES[name]


def _size(size) -> tuple[int, ...]:
    if isinstance(size, (int, np.integer)):
        shape = (size,)
    elif isinstance(size, (tuple, list)):
        shape = tuple(size)
    else:
        shape = ()
    if not shape or not all(isinstance(s, (int, np.integer)) and s > 0 for s in shape):
        raise ValueError(f"size must be a positive int or a tuple of positive ints, got {size!r}")
    return tuple(int(s) for s in shape)


def _resolve(name: str, value, shape, dtype) -> np.ndarray:
    """A parameter or initial value as an array of ``shape`` (or a scalar array)."""
    if isinstance(value, Initializer) or (callable(value) and not isinstance(value, np.ndarray)):
        value = value(shape, dtype) if isinstance(value, Initializer) else value(shape)
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numeric, an initializer or a callable, "
                         f"got {value!r}") from None
    if arr.ndim and arr.shape != shape:
        try:
            arr = np.broadcast_to(arr, shape)
        except ValueError:
            raise ValueError(f"{name} has shape {arr.shape}, expected a scalar or the group's "
                             f"shape {shape}") from None
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; got NaN or inf")
    return arr.astype(dtype)


class NeuronGroup:
    """``N`` neurons of one model, integrated together.

    Arguments:
        model: the model (its parameter defaults are used where ``params`` says nothing;
            values outside a parameter's domain, such as a negative conductance, raise unless
            the model is ``nonphysical``).
        size: int or tuple: the group's shape.
        params: parameter values (scalar, array of the group's shape, initializer, callable).
        initial: initial values of the state variables (same kinds).
        method: integration method (:data:`~hhanalysis.simulate.integrators.METHODS`).
        dtype: float32 or float64 (default; see :class:`HH`).
        keep_size: expose variables with the group's shape instead of flattened.
        input_param: the model parameter that the ``input`` variable adds to.
        spike_variable, threshold: a spike is an upward crossing of ``threshold`` (a number, or
            the name of a parameter, e.g. HH's 'V_th') by ``spike_variable``.
        adaptive: error control of the adaptive methods.
        name: a label.
    """

    @float64
    def __init__(self, model: ODEModel, size, params=None, initial=None, method="exp_auto",
                 dtype=None, keep_size=False, input_param="I", spike_variable=None,
                 threshold=None, adaptive: AdaptiveSettings | None = None, name=None):
        self.model = model
        self.size = _size(size)
        self.num = math.prod(self.size)
        check_memory(STATE_COPIES * model.n_states * self.num * 8,
                     f"a group of {self.num} neurons",
                     "simulate fewer neurons (run several groups one after another)")
        self.keep_size = bool(keep_size)
        self.varshape = self.size if self.keep_size else (self.num,)
        self.method = check_method(method)
        self.dtype = _dtype(dtype)
        self.adaptive = adaptive or AdaptiveSettings()
        self.name = name or f"{model.name}-group"
        params = dict(params or {})
        model.check_param_names(params)
        if input_param not in model.param_names:
            raise ValueError(f"input_param {input_param!r} is not a parameter of {model.name}")
        self.input_param = input_param
        self.spike_variable = spike_variable or model.state_names[0]
        if self.spike_variable not in model.state_names:
            raise ValueError(f"spike_variable {self.spike_variable!r} is not a state of "
                             f"{model.name}; states: {list(model.state_names)}")
        if isinstance(threshold, str):
            model.check_param_names([threshold], "threshold")
        self.threshold = 0.0 if threshold is None else threshold
        defaults = model.defaults
        self.params = {}
        for p in model.param_names:
            arr = _resolve(p, params.get(p, defaults[p]), self.size, self.dtype)
            if p in params and arr.size:
                # the extreme values, so that the model's domain check names the parameter
                model.check_param_value(p, float(arr.min()))
                model.check_param_value(p, float(arr.max()))
            self.params[p] = arr.reshape(-1) if arr.ndim else arr
        self._initial = dict(initial or {})
        unknown = [k for k in self._initial if k not in model.state_names]
        if unknown:
            raise ValueError(f"unknown state(s) {unknown}; states: {list(model.state_names)}")
        self.t = 0.0
        self.reset_state()

    # -- state -------------------------------------------------------------------------------
    @float64
    def reset_state(self) -> None:
        """Draw the initial state again from the initializers; time back to 0."""
        first = self.model.state_names[0]
        values = {}
        for s in self.model.state_names:
            init = self._initial.get(s, 0.0)
            if isinstance(init, SteadyState):
                continue
            arr = _resolve(f"{s} initial value", init, self.size, self.dtype)
            values[s] = np.broadcast_to(arr, self.size).reshape(-1)
        steady = [s for s in self.model.state_names
                  if isinstance(self._initial.get(s), SteadyState)]
        if steady:
            if first in steady:
                raise ValueError(f"SteadyState is for the gates; give {first} a value")
            values.update(self._steady_gates(values[first], steady))
        self.X = jnp.asarray(np.stack([values[s] for s in self.model.state_names]))
        self.input = jnp.zeros(self.num, self.dtype)
        self.spike = jnp.zeros(self.num, bool)
        self.t = 0.0

    def _steady_gates(self, v, names):
        from ..equilibria import _reduction

        red = _reduction(self.model.compile())
        if red is None:
            raise ValueError(f"SteadyState needs gates slaved to {self.model.state_names[0]}")
        P = [np.broadcast_to(self.params[p], (self.num,)) for p in self.model.param_names]
        full = _slaved_batch(red, v, P)
        return {s: full[:, self.model.state_names.index(s)].astype(self.dtype) for s in names}

    @float64
    def threshold_value(self):
        """The spike threshold, scalar or per neuron."""
        if isinstance(self.threshold, str):
            return jnp.asarray(self.params[self.threshold])
        return jnp.asarray(float(self.threshold), self.dtype)

    @float64
    def param_list(self):
        """Parameters as the list the generated functions take (scalars or ``(N,)`` arrays)."""
        return [jnp.asarray(self.params[p]) for p in self.model.param_names]

    def __getattr__(self, name):
        if name in ("model", "X"):
            raise AttributeError(name)
        if name in self.model.state_names:
            with jax.enable_x64(True):
                v = self.X[self.model.state_names.index(name)]
                return v.reshape(self.varshape)
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def __setattr__(self, name, value):
        if name != "model" and "model" in self.__dict__ and name in self.model.state_names:
            arr = _resolve(name, value, self.size, self.dtype)
            i = self.model.state_names.index(name)
            with jax.enable_x64(True):
                self.X = self.X.at[i].set(jnp.broadcast_to(jnp.asarray(arr).reshape(-1)
                                                           if arr.ndim else arr, (self.num,)))
            return
        object.__setattr__(self, name, value)

    @property
    def variables(self) -> tuple[str, ...]:
        """Names a runner can monitor."""
        return self.model.state_names + ("spike", "input")

    def __repr__(self):
        return (f"{type(self).__name__}(size={self.size}, method={self.method!r}, "
                f"dtype={np.dtype(self.dtype).name})")


def _slaved_batch(red, v, P):
    p = jnp.stack([jnp.asarray(q) for q in P], axis=1)
    return np.asarray(jax.vmap(lambda vi, pi: red.slaved(vi[None], pi))(jnp.asarray(v), p))


# BrainPy's defaults (immutable initializers, shared safely)
_V_INIT = Uniform(-70.0, -60.0)
_M_INIT, _H_INIT, _N_INIT = OneInit(0.5), OneInit(0.6), OneInit(0.32)


class HH(NeuronGroup):
    r"""Hodgkin–Huxley neurons with BrainPy's ``brainpy.dyn.HH`` signature.

    The equations are :func:`hhanalysis.hodgkin_huxley` (preset 'brainpy' defaults) with the
    external current ``I = input`` (the runner's inputs add to ``group.input`` each step; it is
    reset after the step). A spike is an upward crossing of ``V_th`` within a step.

    ``dtype`` chooses the simulation precision: float64 by default, so that simulated
    trajectories agree with the float64 analysis (spike times to ~1e-9 ms); float32 (BrainPy's
    default) is about 2.5x as fast for large groups (twice the vector width, cheaper
    exponentials), at the price of spike times that drift by ~1e-4 ms over hundreds of ms.

    Negative conductances (gNa, gK, gL) and C <= 0 raise ``ValueError`` unless
    ``nonphysical=True`` (an argument BrainPy does not have).
    """

    def __init__(self, size, ENa=50.0, gNa=120.0, EK=-77.0, gK=36.0, EL=-54.387, gL=0.03,
                 V_th=20.0, C=1.0, V_initializer=_V_INIT,
                 m_initializer=_M_INIT, h_initializer=_H_INIT,
                 n_initializer=_N_INIT, method="exp_auto", keep_size=False, name=None,
                 dtype=None, adaptive: AdaptiveSettings | None = None, nonphysical=False):
        params = dict(ENa=ENa, gNa=gNa, EK=EK, gK=gK, EL=EL, gL=gL, V_th=V_th, C=C)
        initial = dict(V=V_initializer, m=m_initializer, h=h_initializer, n=n_initializer)
        super().__init__(hodgkin_huxley(nonphysical=nonphysical), size, params=params,
                         initial=initial, method=method,
                         dtype=dtype, keep_size=keep_size, input_param="I", spike_variable="V",
                         threshold="V_th", adaptive=adaptive, name=name)
