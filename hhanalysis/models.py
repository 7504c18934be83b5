r"""Symbolic ODE models (sympy): the first stage of the pipeline.

An :class:`ODEModel` is an autonomous system :math:`\dot x = f(x, p)` with named state variables,
named parameters (defaults, units, descriptions) and right-hand sides as sympy expressions. It is
immutable; :meth:`ODEModel.with_params` returns a copy with other defaults. :meth:`ODEModel.compile`
generates jitted float64 JAX functions (see :mod:`hhanalysis.codegen`).

Models shipped here:

* :func:`hodgkin_huxley` — the HH neuron with BrainPy's parameter names and two presets,
  ``'brainpy'`` (the seed document's defaults, gL = 0.03) and ``'classic'`` (Hodgkin & Huxley 1952
  as used by Rinzel & Miller and in the bifurcation figure the seed shows, gL = 0.3);
* :func:`fitzhugh_nagumo` and :func:`morris_lecar` — small models that exercise every stage on
  something other than HH.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

import numpy as np
import sympy as sp

__all__ = [
    "Parameter",
    "StateVariable",
    "ODEModel",
    "hodgkin_huxley",
    "fitzhugh_nagumo",
    "morris_lecar",
    "HH_PRESETS",
]


@dataclass(frozen=True)
class StateVariable:
    """A state variable of a model.

    Attributes:
        name: identifier used in equations, results and monitors (``'V'``).
        unit: physical unit (``'mV'``; ``'1'`` for dimensionless).
        description: one line for tables and docs.
        bounds: the physiological range ``(lo, hi)``: the default search box of
            :func:`hhanalysis.find_equilibria`; ``None`` if the model gives none.
    """

    name: str
    unit: str = "1"
    description: str = ""
    bounds: tuple[float, float] | None = None


@dataclass(frozen=True)
class Parameter:
    """A named model parameter.

    Attributes:
        name: identifier (``'gNa'``).
        default: default value (finite float).
        unit: physical unit.
        description: one line for tables and docs.
        domain: the physical range of values: ``'real'`` (any finite number, the default),
            ``'nonnegative'`` (conductances, rate factors) or ``'positive'`` (a capacitance).
            :meth:`ODEModel.with_params` rejects values outside it unless the model is built
            with ``nonphysical=True``.
    """

    name: str
    default: float
    unit: str = "1"
    description: str = ""
    domain: str = "real"

    def __post_init__(self):
        if self.domain not in _DOMAINS:
            raise ValueError(f"Parameter {self.name!r}: domain must be one of "
                             f"{list(_DOMAINS)}, got {self.domain!r}")


#: The parameter domains: name -> (test, words for messages).
_DOMAINS = {
    "real": (lambda v: True, "any finite number"),
    "nonnegative": (lambda v: v >= 0, ">= 0"),
    "positive": (lambda v: v > 0, "> 0"),
}


def _check_finite_real(name: str, value) -> float:
    if isinstance(value, (str, bytes, bool, complex)) or (
            isinstance(value, np.ndarray) and value.dtype.kind not in "iuf"):
        raise ValueError(f"parameter {name!r} must be a real number, got {value!r}")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"parameter {name!r} must be a real number, got {value!r}") from None
    if arr.ndim != 0:
        raise ValueError(
            f"parameter {name!r} must be a scalar here, got an array of shape {arr.shape}"
        )
    v = float(arr)
    if not math.isfinite(v):
        raise ValueError(f"parameter {name!r} must be finite, got {v}")
    return v


@dataclass(frozen=True)
class ODEModel:
    r"""An autonomous ODE :math:`\dot x = f(x, p)` given symbolically.

    Attributes:
        name: model name for display.
        states: the state variables, in the order of the state vector.
        parameters: the parameters, in the order of the parameter vector.
        rhs: one sympy expression per state, in the symbols ``sympy.Symbol(name)`` of the states
            and parameters.
        time_unit: unit of time (``'ms'`` for the neuron models); used for frequencies.
        definitions: optional named sub-expressions (e.g. the HH rates) shown by :meth:`equations`.
        preset: name of the parameter preset the defaults come from, if any.
        nonphysical: accept parameter values outside their :attr:`Parameter.domain` (e.g. a
            negative conductance) in :meth:`with_params` and :meth:`param_vector`.
        aux: named output quantities ``(name, expression)`` (XPP's ``aux``), in the symbols of
            the states, parameters and (if ``time`` is set) time; :func:`hhanalysis.trajectory`
            returns them beside the states.
        options: settings that travel with the model, e.g. the ``@`` options of an XPPAUT file
            (``total``, ``dt``, ``meth``, ``ntst``, ``dsmax``, …) and its initial data
            (``options['init']``); not part of the equations.
        time: the name of the time symbol if the equations depend on time (non-autonomous,
            e.g. a pulse ``heav(t - t_on)``); such a model can be simulated with
            :func:`hhanalysis.trajectory`, and the analyses (:meth:`compile`) refuse it.
    """

    name: str
    states: tuple[StateVariable, ...]
    parameters: tuple[Parameter, ...]
    rhs: tuple[sp.Expr, ...]
    time_unit: str = "1"
    definitions: tuple[tuple[str, sp.Expr], ...] = ()
    preset: str | None = None
    nonphysical: bool = False
    aux: tuple[tuple[str, sp.Expr], ...] = ()
    options: Mapping = field(default_factory=dict, compare=False)
    time: str | None = None
    _symbols: dict = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        names = [s.name for s in self.states] + [p.name for p in self.parameters]
        if len(set(names)) != len(names):
            raise ValueError(f"state and parameter names must be unique, got {names}")
        if len(self.rhs) != len(self.states):
            raise ValueError(
                f"rhs has {len(self.rhs)} expressions for {len(self.states)} states"
            )
        for p in self.parameters:
            _check_finite_real(p.name, p.default)
        known = set(names) | ({self.time} if self.time else set())
        for s, e in zip(self.states, self.rhs):
            unknown = {str(x) for x in sp.sympify(e).free_symbols} - known
            if unknown:
                raise ValueError(f"rhs of {s.name!r} uses undeclared symbols {sorted(unknown)}")
        for name, e in self.aux:
            unknown = {str(x) for x in sp.sympify(e).free_symbols} - known
            if unknown:
                raise ValueError(f"aux {name!r} uses undeclared symbols {sorted(unknown)}")
        object.__setattr__(self, "options", MappingProxyType(dict(self.options)))
        object.__setattr__(self, "_symbols", {n: sp.Symbol(n) for n in names})

    # -- names and vectors ------------------------------------------------------------------
    @property
    def state_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.states)

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    @property
    def defaults(self) -> dict[str, float]:
        """Parameter defaults as a dict ``name -> value``."""
        return {p.name: float(p.default) for p in self.parameters}

    @property
    def n_states(self) -> int:
        return len(self.states)

    def symbol(self, name: str) -> sp.Symbol:
        """The sympy symbol of a state or parameter."""
        try:
            return self._symbols[name]
        except KeyError:
            raise ValueError(
                f"unknown name {name!r}; states: {list(self.state_names)}, "
                f"parameters: {list(self.param_names)}"
            ) from None

    def check_param_names(self, names, argument: str = "parameter") -> None:
        """Raise ``ValueError`` listing the valid names if any of ``names`` is unknown."""
        unknown = [n for n in names if n not in self.param_names]
        if unknown:
            raise ValueError(
                f"unknown {argument} name(s) {unknown} for model {self.name!r}; "
                f"valid names: {list(self.param_names)}"
            )

    def check_param_value(self, name: str, value, argument: str | None = None) -> float:
        """``value`` as a float if it is a finite real number in the domain of parameter
        ``name`` (:attr:`Parameter.domain`; any real number if the model is ``nonphysical``);
        otherwise ``ValueError`` naming ``argument`` (default: the parameter) and the range."""
        v = _check_finite_real(name, value)
        domain = next((p.domain for p in self.parameters if p.name == name), "real")
        test, words = _DOMAINS[domain]
        if not self.nonphysical and not test(v):
            raise ValueError(
                f"{argument or f'parameter {name!r}'} = {v:g} is not physical: {name} must be "
                f"{words} (build the model with nonphysical=True, or pass --allow-nonphysical "
                f"on the command line, if you mean it)")
        return v

    def check_param_range(self, name: str, lo, hi, argument: str = "range") -> None:
        """Raise ``ValueError`` if the interval ``[lo, hi]`` of parameter ``name`` leaves its
        domain (e.g. a continuation of C through 0)."""
        self.check_param_names([name], argument)
        for end in (lo, hi):
            self.check_param_value(name, end, f"{argument} end {name}")

    def with_params(self, nonphysical: bool | None = None, **overrides) -> ODEModel:
        """A copy with other parameter defaults.

        Arguments:
            nonphysical: accept values outside the parameters' domains from now on (``None``:
                keep this model's setting).
            **overrides: new defaults (finite real numbers).

        Raises:
            ValueError: unknown names, non-numeric or non-finite values, or values outside a
                parameter's domain (a negative conductance, C <= 0) unless nonphysical.
        """
        self.check_param_names(overrides)
        model = self if nonphysical is None else replace(self, nonphysical=bool(nonphysical))
        values = {k: model.check_param_value(k, v) for k, v in overrides.items()}
        params = tuple(
            replace(p, default=values[p.name]) if p.name in values else p
            for p in self.parameters
        )
        return replace(model, parameters=params)

    def param_vector(self, **overrides) -> np.ndarray:
        """The float64 parameter vector, defaults overridden by ``overrides`` (scalars in the
        parameters' domains, see :meth:`check_param_value`)."""
        self.check_param_names(overrides)
        values = self.defaults
        values.update({k: self.check_param_value(k, v) for k, v in overrides.items()})
        return np.array([values[n] for n in self.param_names], dtype=np.float64)

    def state_vector(self, **values) -> np.ndarray:
        """A float64 state vector from ``name=value`` for every state."""
        missing = [n for n in self.state_names if n not in values]
        extra = [n for n in values if n not in self.state_names]
        if missing or extra:
            raise ValueError(
                f"state_vector needs exactly the states {list(self.state_names)}; "
                f"missing {missing}, unknown {extra}"
            )
        return np.array(
            [_check_finite_real(n, values[n]) for n in self.state_names], dtype=np.float64
        )

    # -- display ---------------------------------------------------------------------------
    def equations(self) -> str:
        """Plain-text equations (one per line), then the definitions."""
        lines = [f"d{s.name}/dt = {sp.sstr(e)}" for s, e in zip(self.states, self.rhs)]
        lines += [f"{name} = {sp.sstr(e)}" for name, e in self.definitions]
        return "\n".join(lines)

    def latex(self) -> str:
        """LaTeX ``align`` block of the equations and definitions."""
        rows = [
            rf"\frac{{d{sp.latex(self.symbol(s.name))}}}{{dt}} &= {sp.latex(e)}"
            for s, e in zip(self.states, self.rhs)
        ]
        rows += [rf"{sp.latex(sp.Symbol(n))} &= {sp.latex(e)}" for n, e in self.definitions]
        return "\\begin{align}\n" + " \\\\\n".join(rows) + "\n\\end{align}"

    def _repr_latex_(self) -> str:
        return "$$" + self.latex() + "$$"

    def __repr__(self) -> str:
        preset = f", preset={self.preset!r}" if self.preset else ""
        head = f"ODEModel({self.name!r}{preset}, states={list(self.state_names)})"
        eqs = "\n".join("  " + line for line in self.equations().splitlines())
        width = max(len(p.name) for p in self.parameters) if self.parameters else 0
        params = "\n".join(
            f"  {p.name:<{width}} = {p.default:<10g} {p.unit:<10} {p.description}".rstrip()
            for p in self.parameters
        )
        return f"{head}\n equations:\n{eqs}\n parameters:\n{params}"

    def compile(self):
        """Generated, jitted float64 JAX functions of this model (cached per model structure).

        Returns:
            :class:`hhanalysis.codegen.CompiledModel`.
        """
        from .codegen import compile_model

        if self.time and any(sp.Symbol(self.time) in sp.sympify(e).free_symbols
                             for e in self.rhs):
            raise ValueError(
                f"model {self.name!r} depends on time {self.time!r}: equilibria, spectra and "
                "continuation need an autonomous model; simulate it with hh.trajectory, or make "
                f"{self.time!r} a parameter (hh.ode.time_as_parameter(model))")
        return compile_model(self)


# --------------------------------------------------------------------------------------------
# Hodgkin–Huxley
# --------------------------------------------------------------------------------------------

#: Parameter presets of :func:`hodgkin_huxley`. ``'brainpy'`` is the seed document's defaults;
#: ``'classic'`` differs only in gL = 0.3 (Hodgkin & Huxley 1952; the seed's bifurcation figure).
HH_PRESETS: Mapping[str, Mapping[str, float]] = {
    "brainpy": {"gL": 0.03},
    "classic": {"gL": 0.3},
}

_HH_PARAMETERS = (
    Parameter("ENa", 50.0, "mV", "sodium reversal potential"),
    Parameter("gNa", 120.0, "mS/cm^2", "maximal sodium conductance", "nonnegative"),
    Parameter("EK", -77.0, "mV", "potassium reversal potential"),
    Parameter("gK", 36.0, "mS/cm^2", "maximal potassium conductance", "nonnegative"),
    Parameter("EL", -54.387, "mV", "leak reversal potential"),
    Parameter("gL", 0.03, "mS/cm^2", "leak conductance", "nonnegative"),
    Parameter("V_th", 20.0, "mV", "spike-detection threshold (not in the equations)"),
    Parameter("C", 1.0, "uF/cm^2", "membrane capacitance", "positive"),
    Parameter("I", 0.0, "uA/cm^2", "injected current"),
    Parameter("T", 6.3, "degC", "temperature; gating rates scale by 3^((T-6.3)/10)"),
)


def hh_rates(V: sp.Expr) -> dict[str, sp.Expr]:
    """The seed's HH rate functions α_x(V), β_x(V) (1/ms, V in mV) as sympy expressions."""
    R = sp.Rational
    return {
        "alpha_m": R(1, 10) * (V + 40) / (1 - sp.exp(-(V + 40) / 10)),
        "beta_m": 4 * sp.exp(-(V + 65) / 18),
        "alpha_h": R(7, 100) * sp.exp(-(V + 65) / 20),
        "beta_h": 1 / (1 + sp.exp(-(V + 35) / 10)),
        "alpha_n": R(1, 100) * (V + 55) / (1 - sp.exp(-(V + 55) / 10)),
        "beta_n": R(1, 8) * sp.exp(-(V + 65) / 80),
    }


def hodgkin_huxley(preset: str = "brainpy", nonphysical: bool = False,
                   **overrides) -> ODEModel:
    r"""The Hodgkin–Huxley neuron (states V, m, h, n; V in mV, t in ms, I in µA/cm²).

    .. math::
        C \dot V &= -\bar g_{Na} m^3 h (V - E_{Na}) - \bar g_K n^4 (V - E_K) - g_L (V - E_L) + I \\
        \dot x &= \phi\,\big(\alpha_x(V)(1 - x) - \beta_x(V)\,x\big),
        \quad x \in \lbrace m, h, n \rbrace, \qquad \phi = 3^{(T - 6.3)/10}

    with the rates of the seed document (BrainPy's ``HH``). Note that the seed's gating equation
    drops the factor ``x`` of the β term; this is the correct form.

    Arguments:
        preset: ``'brainpy'`` (default; the seed's defaults, gL = 0.03 mS/cm², rest ≈ −70.68 mV) or
            ``'classic'`` (Hodgkin & Huxley 1952, gL = 0.3 mS/cm², rest ≈ −65.00 mV, the
            parameters of the bifurcation figure shown in the seed).
        nonphysical: accept negative conductances and C <= 0 (rejected by default).
        **overrides: any of ENa, gNa, EK, gK, EL, gL, V_th, C, I, T (finite real numbers;
            gNa, gK, gL >= 0 and C > 0 unless ``nonphysical``).

    Raises:
        ValueError: unknown preset, unknown parameter name (the message lists the valid ones),
            a non-numeric or non-finite value, or a value outside the parameter's domain.
    """
    if preset not in HH_PRESETS:
        raise ValueError(f"unknown preset {preset!r}; valid presets: {list(HH_PRESETS)}")
    V, m, h, n = sp.symbols("V m h n")
    p = {q.name: sp.Symbol(q.name) for q in _HH_PARAMETERS}
    rates = hh_rates(V)
    phi = sp.Integer(3) ** ((p["T"] - sp.Rational(63, 10)) / 10)
    i_ion = (
        p["gNa"] * m**3 * h * (V - p["ENa"])
        + p["gK"] * n**4 * (V - p["EK"])
        + p["gL"] * (V - p["EL"])
    )
    rhs = (
        (-i_ion + p["I"]) / p["C"],
        phi * (rates["alpha_m"] * (1 - m) - rates["beta_m"] * m),
        phi * (rates["alpha_h"] * (1 - h) - rates["beta_h"] * h),
        phi * (rates["alpha_n"] * (1 - n) - rates["beta_n"] * n),
    )
    states = (
        StateVariable("V", "mV", "membrane potential", (-100.0, 60.0)),
        StateVariable("m", "1", "sodium activation", (0.0, 1.0)),
        StateVariable("h", "1", "sodium inactivation", (0.0, 1.0)),
        StateVariable("n", "1", "potassium activation", (0.0, 1.0)),
    )
    model = ODEModel(
        name="Hodgkin-Huxley",
        states=states,
        parameters=_HH_PARAMETERS,
        rhs=rhs,
        time_unit="ms",
        definitions=tuple((k, v) for k, v in rates.items()) + (("phi", phi),),
        preset=preset,
    )
    return model.with_params(nonphysical=nonphysical, **{**HH_PRESETS[preset], **overrides})


# --------------------------------------------------------------------------------------------
# Small models
# --------------------------------------------------------------------------------------------


def fitzhugh_nagumo(**overrides) -> ODEModel:
    r"""FitzHugh–Nagumo model (dimensionless).

    .. math::
        \dot v = v - v^3/3 - w + I, \qquad \dot w = \varepsilon\,(v + a - b w)

    Defaults a = 0.7, b = 0.8, ε = 0.08, I = 0. Equilibria solve the cubic
    :math:`v - v^3/3 - (v + a)/b + I = 0`; Hopf points where the trace vanishes,
    :math:`1 - v^2 = \varepsilon b`, provided the determinant :math:`\varepsilon(b(v^2 - 1) + 1)`
    is positive.
    """
    v, w = sp.symbols("v w")
    a, b, eps, I = sp.symbols("a b epsilon I")
    model = ODEModel(
        name="FitzHugh-Nagumo",
        states=(StateVariable("v", "1", "fast voltage-like variable", (-3.0, 3.0)),
                StateVariable("w", "1", "slow recovery variable", (-5.0, 5.0))),
        parameters=(
            Parameter("a", 0.7, "1", "recovery offset"),
            Parameter("b", 0.8, "1", "recovery self-coupling"),
            Parameter("epsilon", 0.08, "1", "time-scale ratio"),
            Parameter("I", 0.0, "1", "injected current"),
        ),
        rhs=(v - v**3 / 3 - w + I, eps * (v + a - b * w)),
    )
    return model.with_params(**overrides)


def morris_lecar(**overrides) -> ODEModel:
    r"""Morris–Lecar model (V in mV, t in ms, I in µA/cm²).

    .. math::
        C \dot V &= I - g_L (V - E_L) - g_{Ca} m_\infty(V)(V - E_{Ca}) - g_K w (V - E_K) \\
        \dot w &= \phi\,\big(w_\infty(V) - w\big) / \tau_w(V)

    with :math:`m_\infty = \tfrac12(1 + \tanh((V - V_1)/V_2))`,
    :math:`w_\infty = \tfrac12(1 + \tanh((V - V_3)/V_4))`,
    :math:`\tau_w = 1/\cosh((V - V_3)/(2 V_4))`. Defaults are the SNIC (type-I) set of
    Rinzel & Ermentrout (1998): gCa = 4, V3 = 12, V4 = 17.4, φ = 1/15; its equilibrium curve has
    two folds in I.
    """
    V, w = sp.symbols("V w")
    names = ["C", "gL", "EL", "gCa", "ECa", "gK", "EK", "V1", "V2", "V3", "V4", "phi", "I"]
    C, gL, EL, gCa, ECa, gK, EK, V1, V2, V3, V4, phi, I = sp.symbols(names)
    m_inf = (1 + sp.tanh((V - V1) / V2)) / 2
    w_inf = (1 + sp.tanh((V - V3) / V4)) / 2
    tau_w = 1 / sp.cosh((V - V3) / (2 * V4))
    model = ODEModel(
        name="Morris-Lecar",
        states=(StateVariable("V", "mV", "membrane potential", (-100.0, 150.0)),
                StateVariable("w", "1", "potassium activation", (0.0, 1.0))),
        parameters=(
            Parameter("C", 20.0, "uF/cm^2", "membrane capacitance", "positive"),
            Parameter("gL", 2.0, "mS/cm^2", "leak conductance", "nonnegative"),
            Parameter("EL", -60.0, "mV", "leak reversal potential"),
            Parameter("gCa", 4.0, "mS/cm^2", "calcium conductance", "nonnegative"),
            Parameter("ECa", 120.0, "mV", "calcium reversal potential"),
            Parameter("gK", 8.0, "mS/cm^2", "potassium conductance", "nonnegative"),
            Parameter("EK", -84.0, "mV", "potassium reversal potential"),
            Parameter("V1", -1.2, "mV", "m_inf midpoint"),
            Parameter("V2", 18.0, "mV", "m_inf slope"),
            Parameter("V3", 12.0, "mV", "w_inf midpoint"),
            Parameter("V4", 17.4, "mV", "w_inf slope"),
            Parameter("phi", 1.0 / 15.0, "1/ms", "w rate factor"),
            Parameter("I", 0.0, "uA/cm^2", "injected current"),
        ),
        rhs=(
            (I - gL * (V - EL) - gCa * m_inf * (V - ECa) - gK * w * (V - EK)) / C,
            phi * (w_inf - w) / tau_w,
        ),
        time_unit="ms",
        definitions=(("m_inf", m_inf), ("w_inf", w_inf), ("tau_w", tau_w)),
    )
    return model.with_params(**overrides)
