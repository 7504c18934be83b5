r"""A library of conductance-based and reduced neuron models, each with its literature source.

Every function returns an :class:`~hhanalysis.models.ODEModel` (keyword arguments override
parameter defaults) that all stages of the toolkit accept. V is in mV, t in ms, currents in
µA/cm² and conductances in mS/cm² for the conductance-based models; FitzHugh–Nagumo and
Hindmarsh–Rose are dimensionless.

=====================  =========================================  ===============================
function               model                                      onset of firing in ``I``
=====================  =========================================  ===============================
hodgkin_huxley         Hodgkin & Huxley (1952)                    Hopf (type II)
morris_lecar           Morris & Lecar (1981), two parameter sets  SNIC (``'snic'``) / Hopf
fitzhugh_nagumo        FitzHugh (1961), Nagumo et al. (1962)      Hopf
wang_buzsaki           Wang & Buzsáki (1996) interneuron          SNIC (type I)
connor_stevens         Connor, Walter & McKown (1977) A-current   SNIC (type I)
traub                  Traub–Miles as in Ermentrout & Kopell      SNIC (type I)
                       (1998) / Börgers (2017)
hindmarsh_rose         Hindmarsh & Rose (1984), bursting          bursts (3 variables)
=====================  =========================================  ===============================

The rate functions are written with float literals (``0.1*(V + 35.0)/(1.0 - exp(...))``): their
removable 0/0 points are filled in by code generation
(:func:`~hhanalysis.special.remove_removable_singularities`). :data:`MODELS` maps names to the
functions (used by ``--model NAME`` on the command line). Each model's ``options['init']`` is a
state near rest, the default start of :func:`hhanalysis.trajectory`.
"""

from __future__ import annotations

import dataclasses

import sympy as sp

from .models import (
    ODEModel,
    Parameter,
    StateVariable,
    fitzhugh_nagumo,
    hodgkin_huxley,
)
from .models import morris_lecar as _morris_lecar

__all__ = ["MODELS", "MORRIS_LECAR_SETS", "morris_lecar", "fitzhugh_nagumo", "hodgkin_huxley",
           "wang_buzsaki", "connor_stevens", "traub", "hindmarsh_rose"]

F = sp.Float
exp = sp.exp

#: The classic Morris–Lecar parameter sets (Rinzel & Ermentrout 1998, Table 7.1; Ermentrout &
#: Terman 2010, §3.1): the others are C = 20, gL = 2, EL = −60, ECa = 120, gK = 8, EK = −84,
#: V1 = −1.2, V2 = 18.
MORRIS_LECAR_SETS = {
    "snic": {"gCa": 4.0, "V3": 12.0, "V4": 17.4, "phi": 1.0 / 15.0},
    "hopf": {"gCa": 4.4, "V3": 2.0, "V4": 30.0, "phi": 0.04},
}


def morris_lecar(parameter_set: str = "snic", **overrides) -> ODEModel:
    r"""Morris–Lecar model with one of its two classic parameter sets.

    Source: C. Morris and H. Lecar, *Voltage oscillations in the barnacle giant muscle fiber*,
    Biophys. J. 35:193–213 (1981); parameter sets of J. Rinzel and G. B. Ermentrout, *Analysis of
    neural excitability and oscillations*, in Koch & Segev (eds.), Methods in Neuronal Modeling,
    2nd ed., MIT Press (1998), also Ermentrout & Terman, *Mathematical Foundations of
    Neuroscience*, Springer (2010), §3.1.

    .. math::
        C \dot V &= I - g_L (V - E_L) - g_{Ca} m_\infty(V)(V - E_{Ca}) - g_K w (V - E_K) \\
        \dot w &= \phi\,(w_\infty(V) - w) \cosh\!\big((V - V_3)/(2 V_4)\big)

    Arguments:
        parameter_set: ``'snic'`` (gCa = 4, V3 = 12, V4 = 17.4, φ = 1/15: the rest state
            disappears in a saddle-node on an invariant circle, type I) or ``'hopf'``
            (gCa = 4.4, V3 = 2, V4 = 30, φ = 0.04: a subcritical Hopf bifurcation, type II).
        **overrides: parameter values.

    The equations are those of :func:`hhanalysis.models.morris_lecar` (same function, other
    defaults).
    """
    if parameter_set not in MORRIS_LECAR_SETS:
        raise ValueError(f"parameter_set must be one of {list(MORRIS_LECAR_SETS)}, got "
                         f"{parameter_set!r}")
    model = _morris_lecar(**{**MORRIS_LECAR_SETS[parameter_set], **overrides})
    return dataclasses.replace(model, name=f"Morris-Lecar ({parameter_set})",
                               preset=parameter_set, options={"init": {"V": -60.0, "w": 0.0}})


def _gate(x: sp.Symbol, alpha: sp.Expr, beta: sp.Expr, phi=1) -> sp.Expr:
    return phi * (alpha * (1 - x) - beta * x)


#: Physical domains by unit: conductances are >= 0, a capacitance is > 0 (as in models.py).
_UNIT_DOMAINS = {"mS/cm^2": "nonnegative", "uF/cm^2": "positive"}


def _p(name, value, unit, description, domain=None):
    return Parameter(name, float(value), unit, description,
                     domain or _UNIT_DOMAINS.get(unit, "real"))


_V = StateVariable("V", "mV", "membrane potential", (-100.0, 60.0))


def wang_buzsaki(**overrides) -> ODEModel:
    r"""Wang–Buzsáki hippocampal interneuron (states V, h, n; m instantaneous).

    Source: X.-J. Wang and G. Buzsáki, *Gamma oscillation by synaptic inhibition in a
    hippocampal interneuronal network model*, J. Neurosci. 16:6402–6413 (1996).

    .. math::
        C \dot V &= I - g_{Na} m_\infty^3 h (V - E_{Na}) - g_K n^4 (V - E_K) - g_L (V - E_L) \\
        \dot x &= \phi\,(\alpha_x (1 - x) - \beta_x x), \quad x \in \{h, n\}, \qquad
        m_\infty = \alpha_m / (\alpha_m + \beta_m)

    with :math:`\alpha_m = 0.1(V+35)/(1 - e^{-(V+35)/10})`, :math:`\beta_m = 4e^{-(V+60)/18}`,
    :math:`\alpha_h = 0.07e^{-(V+58)/20}`, :math:`\beta_h = 1/(1 + e^{-(V+28)/10})`,
    :math:`\alpha_n = 0.01(V+34)/(1 - e^{-(V+34)/10})`, :math:`\beta_n = 0.125e^{-(V+44)/80}`;
    gNa = 35, ENa = 55, gK = 9, EK = −90, gL = 0.1, EL = −65, C = 1, φ = 5. Type I: firing
    starts at a saddle-node on an invariant circle near I ≈ 0.16 µA/cm² at arbitrarily low
    rates.
    """
    V, h, n = sp.symbols("V h n")
    C, gNa, ENa, gK, EK, gL, EL, phi, I = sp.symbols("C gNa ENa gK EK gL EL phi I")
    am = F(0.1) * (V + F(35.0)) / (F(1.0) - exp(-(V + F(35.0)) / F(10.0)))
    bm = F(4.0) * exp(-(V + F(60.0)) / F(18.0))
    ah = F(0.07) * exp(-(V + F(58.0)) / F(20.0))
    bh = F(1.0) / (F(1.0) + exp(-(V + F(28.0)) / F(10.0)))
    an = F(0.01) * (V + F(34.0)) / (F(1.0) - exp(-(V + F(34.0)) / F(10.0)))
    bn = F(0.125) * exp(-(V + F(44.0)) / F(80.0))
    m_inf = am / (am + bm)
    model = ODEModel(
        name="Wang-Buzsaki",
        states=(_V, StateVariable("h", "1", "sodium inactivation", (0.0, 1.0)),
                StateVariable("n", "1", "potassium activation", (0.0, 1.0))),
        parameters=(
            _p("C", 1.0, "uF/cm^2", "membrane capacitance"),
            _p("gNa", 35.0, "mS/cm^2", "maximal sodium conductance"),
            _p("ENa", 55.0, "mV", "sodium reversal potential"),
            _p("gK", 9.0, "mS/cm^2", "maximal potassium conductance"),
            _p("EK", -90.0, "mV", "potassium reversal potential"),
            _p("gL", 0.1, "mS/cm^2", "leak conductance"),
            _p("EL", -65.0, "mV", "leak reversal potential"),
            _p("phi", 5.0, "1", "temperature factor of h and n", "positive"),
            _p("I", 0.0, "uA/cm^2", "injected current"),
        ),
        rhs=((I - gNa * m_inf**3 * h * (V - ENa) - gK * n**4 * (V - EK) - gL * (V - EL)) / C,
             _gate(h, ah, bh, phi), _gate(n, an, bn, phi)),
        time_unit="ms",
        definitions=(("alpha_m", am), ("beta_m", bm), ("alpha_h", ah), ("beta_h", bh),
                     ("alpha_n", an), ("beta_n", bn), ("m_inf", m_inf)),
        options={"init": {"V": -64.0, "h": 0.78, "n": 0.09}},
    )
    return model.with_params(**overrides)


def connor_stevens(**overrides) -> ODEModel:
    r"""Connor–Stevens model with the transient A-type potassium current (type I).

    Source: J. A. Connor, D. Walter and R. McKown, *Neural repetitive firing: modifications of
    the Hodgkin–Huxley axon suggested by experimental results from crustacean axons*, Biophys.
    J. 18:81–102 (1977), in the form and units of P. Dayan and L. F. Abbott, *Theoretical
    Neuroscience*, MIT Press (2001), §6.2 (their per-mm² values × 100 per cm²).

    .. math::
        C \dot V = I - g_{Na} m^3 h (V - E_{Na}) - g_K n^4 (V - E_K) - g_A a^3 b (V - E_A)
                   - g_L (V - E_L)

    m, h, n follow :math:`\dot x = \alpha_x(1-x) - \beta_x x` with
    :math:`\alpha_m = 0.38(V+29.7)/(1 - e^{-0.1(V+29.7)})`,
    :math:`\beta_m = 15.2e^{-0.0556(V+54.7)}`, :math:`\alpha_h = 0.266e^{-0.05(V+48)}`,
    :math:`\beta_h = 3.8/(1 + e^{-0.1(V+18)})`,
    :math:`\alpha_n = 0.02(V+45.7)/(1 - e^{-0.1(V+45.7)})`,
    :math:`\beta_n = 0.25e^{-0.0125(V+55.7)}`;
    a, b follow :math:`\dot x = (x_\infty - x)/\tau_x` with
    :math:`a_\infty = \big(0.0761 e^{0.0314(V+94.22)}/(1 + e^{0.0346(V+1.17)})\big)^{1/3}`,
    :math:`\tau_a = 0.3632 + 1.158/(1 + e^{0.0497(V+55.96)})`,
    :math:`b_\infty = (1 + e^{0.0688(V+53.3)})^{-4}`,
    :math:`\tau_b = 1.24 + 2.678/(1 + e^{0.0624(V+50)})`.
    gNa = 120, gK = 20, gA = 47.7, gL = 0.3, ENa = 55, EK = −72, EA = −75, EL = −17, C = 1.
    """
    V, m, h, n, a, b = sp.symbols("V m h n a b")
    C, gNa, ENa, gK, EK, gA, EA, gL, EL, I = sp.symbols("C gNa ENa gK EK gA EA gL EL I")
    am = F(0.38) * (V + F(29.7)) / (F(1.0) - exp(-F(0.1) * (V + F(29.7))))
    bm = F(15.2) * exp(-F(0.0556) * (V + F(54.7)))
    ah = F(0.266) * exp(-F(0.05) * (V + F(48.0)))
    bh = F(3.8) / (F(1.0) + exp(-F(0.1) * (V + F(18.0))))
    an = F(0.02) * (V + F(45.7)) / (F(1.0) - exp(-F(0.1) * (V + F(45.7))))
    bn = F(0.25) * exp(-F(0.0125) * (V + F(55.7)))
    a_inf = (F(0.0761) * exp(F(0.0314) * (V + F(94.22)))
             / (F(1.0) + exp(F(0.0346) * (V + F(1.17))))) ** sp.Rational(1, 3)
    tau_a = F(0.3632) + F(1.158) / (F(1.0) + exp(F(0.0497) * (V + F(55.96))))
    b_inf = (F(1.0) + exp(F(0.0688) * (V + F(53.3)))) ** -4
    tau_b = F(1.24) + F(2.678) / (F(1.0) + exp(F(0.0624) * (V + F(50.0))))
    gate = ("1", (0.0, 1.0))
    model = ODEModel(
        name="Connor-Stevens",
        states=(_V, StateVariable("m", gate[0], "sodium activation", gate[1]),
                StateVariable("h", gate[0], "sodium inactivation", gate[1]),
                StateVariable("n", gate[0], "delayed-rectifier activation", gate[1]),
                StateVariable("a", gate[0], "A-current activation", gate[1]),
                StateVariable("b", gate[0], "A-current inactivation", gate[1])),
        parameters=(
            _p("C", 1.0, "uF/cm^2", "membrane capacitance"),
            _p("gNa", 120.0, "mS/cm^2", "maximal sodium conductance"),
            _p("ENa", 55.0, "mV", "sodium reversal potential"),
            _p("gK", 20.0, "mS/cm^2", "maximal delayed-rectifier conductance"),
            _p("EK", -72.0, "mV", "potassium reversal potential"),
            _p("gA", 47.7, "mS/cm^2", "maximal A-current conductance"),
            _p("EA", -75.0, "mV", "A-current reversal potential"),
            _p("gL", 0.3, "mS/cm^2", "leak conductance"),
            _p("EL", -17.0, "mV", "leak reversal potential"),
            _p("I", 0.0, "uA/cm^2", "injected current"),
        ),
        rhs=((I - gNa * m**3 * h * (V - ENa) - gK * n**4 * (V - EK) - gA * a**3 * b * (V - EA)
              - gL * (V - EL)) / C,
             _gate(m, am, bm), _gate(h, ah, bh), _gate(n, an, bn),
             (a_inf - a) / tau_a, (b_inf - b) / tau_b),
        time_unit="ms",
        definitions=(("alpha_m", am), ("beta_m", bm), ("alpha_h", ah), ("beta_h", bh),
                     ("alpha_n", an), ("beta_n", bn), ("a_inf", a_inf), ("tau_a", tau_a),
                     ("b_inf", b_inf), ("tau_b", tau_b)),
        options={"init": {"V": -68.0, "m": 0.01, "h": 0.99, "n": 0.16, "a": 0.54, "b": 0.29}},
    )
    return model.with_params(**overrides)


def traub(**overrides) -> ODEModel:
    r"""Traub–Miles pyramidal cell as reduced by Ermentrout & Kopell (states V, h, n; m
    instantaneous): the "reduced Traub–Miles" (RTM) neuron, type I.

    Sources: R. D. Traub and R. Miles, *Neuronal Networks of the Hippocampus*, Cambridge
    University Press (1991); G. B. Ermentrout and N. Kopell, *Fine structure of neural spiking
    and synchronization in the presence of conduction delays*, PNAS 95:1259–1264 (1998);
    C. Börgers, *An Introduction to Modeling Neuronal Dynamics*, Springer (2017), §5.1.

    .. math::
        C \dot V = I - g_{Na} m_\infty^3 h (V - E_{Na}) - g_K n^4 (V - E_K) - g_L (V - E_L)

    with :math:`\alpha_m = 0.32(V+54)/(1 - e^{-(V+54)/4})`,
    :math:`\beta_m = 0.28(V+27)/(e^{(V+27)/5} - 1)`, :math:`\alpha_h = 0.128e^{-(V+50)/18}`,
    :math:`\beta_h = 4/(1 + e^{-(V+27)/5})`, :math:`\alpha_n = 0.032(V+52)/(1 - e^{-(V+52)/5})`,
    :math:`\beta_n = 0.5e^{-(V+57)/40}`, :math:`m_\infty = \alpha_m/(\alpha_m + \beta_m)`;
    gNa = 100, ENa = 50, gK = 80, EK = −100, gL = 0.1, EL = −67, C = 1.
    """
    V, h, n = sp.symbols("V h n")
    C, gNa, ENa, gK, EK, gL, EL, I = sp.symbols("C gNa ENa gK EK gL EL I")
    am = F(0.32) * (V + F(54.0)) / (F(1.0) - exp(-(V + F(54.0)) / F(4.0)))
    bm = F(0.28) * (V + F(27.0)) / (exp((V + F(27.0)) / F(5.0)) - F(1.0))
    ah = F(0.128) * exp(-(V + F(50.0)) / F(18.0))
    bh = F(4.0) / (F(1.0) + exp(-(V + F(27.0)) / F(5.0)))
    an = F(0.032) * (V + F(52.0)) / (F(1.0) - exp(-(V + F(52.0)) / F(5.0)))
    bn = F(0.5) * exp(-(V + F(57.0)) / F(40.0))
    m_inf = am / (am + bm)
    model = ODEModel(
        name="Traub (Ermentrout-Kopell)",
        states=(_V, StateVariable("h", "1", "sodium inactivation", (0.0, 1.0)),
                StateVariable("n", "1", "potassium activation", (0.0, 1.0))),
        parameters=(
            _p("C", 1.0, "uF/cm^2", "membrane capacitance"),
            _p("gNa", 100.0, "mS/cm^2", "maximal sodium conductance"),
            _p("ENa", 50.0, "mV", "sodium reversal potential"),
            _p("gK", 80.0, "mS/cm^2", "maximal potassium conductance"),
            _p("EK", -100.0, "mV", "potassium reversal potential"),
            _p("gL", 0.1, "mS/cm^2", "leak conductance"),
            _p("EL", -67.0, "mV", "leak reversal potential"),
            _p("I", 0.0, "uA/cm^2", "injected current"),
        ),
        rhs=((I - gNa * m_inf**3 * h * (V - ENa) - gK * n**4 * (V - EK) - gL * (V - EL)) / C,
             _gate(h, ah, bh), _gate(n, an, bn)),
        time_unit="ms",
        definitions=(("alpha_m", am), ("beta_m", bm), ("alpha_h", ah), ("beta_h", bh),
                     ("alpha_n", an), ("beta_n", bn), ("m_inf", m_inf)),
        options={"init": {"V": -70.0, "h": 1.0, "n": 0.0}},
    )
    return model.with_params(**overrides)


def hindmarsh_rose(**overrides) -> ODEModel:
    r"""Hindmarsh–Rose bursting neuron (dimensionless; states x, y, z).

    Source: J. L. Hindmarsh and R. M. Rose, *A model of neuronal bursting using three coupled
    first order differential equations*, Proc. R. Soc. Lond. B 221:87–102 (1984).

    .. math::
        \dot x = y - a x^3 + b x^2 - z + I, \qquad \dot y = c - d x^2 - y, \qquad
        \dot z = r\,(s (x - x_R) - z)

    with a = 1, b = 3, c = 1, d = 5, s = 4, x_R = −(1 + √5)/2 ≈ −1.618 (the x of the resting
    state of the fast subsystem at I = 0), r = 0.001, I = 2 (regular bursting). Equilibria solve
    the cubic :math:`-a x^3 + (b - d) x^2 - s x + s x_R + c + I = 0`.
    """
    x, y, z = sp.symbols("x y z")
    a, b, c, d, s, xR, r, I = sp.symbols("a b c d s x_R r I")
    model = ODEModel(
        name="Hindmarsh-Rose",
        states=(StateVariable("x", "1", "membrane potential (scaled)", (-3.0, 3.0)),
                StateVariable("y", "1", "fast recovery variable", (-20.0, 5.0)),
                StateVariable("z", "1", "slow adaptation current", (-5.0, 10.0))),
        parameters=(
            _p("a", 1.0, "1", "cubic coefficient"),
            _p("b", 3.0, "1", "quadratic coefficient"),
            _p("c", 1.0, "1", "recovery offset"),
            _p("d", 5.0, "1", "recovery quadratic coefficient"),
            _p("s", 4.0, "1", "adaptation gain"),
            _p("x_R", -1.618033988749895, "1", "adaptation reference potential"),
            _p("r", 0.001, "1", "adaptation time-scale ratio"),
            _p("I", 2.0, "1", "injected current"),
        ),
        rhs=(y - a * x**3 + b * x**2 - z + I, c - d * x**2 - y, r * (s * (x - xR) - z)),
        options={"init": {"x": -1.6, "y": -12.0, "z": 1.7}},
    )
    return model.with_params(**overrides)


#: Library names -> model functions (``--model NAME`` on the command line).
MODELS = {
    "hodgkin_huxley": hodgkin_huxley,
    "morris_lecar": morris_lecar,
    "morris_lecar_hopf": lambda **kw: morris_lecar("hopf", **kw),
    "fitzhugh_nagumo": fitzhugh_nagumo,
    "wang_buzsaki": wang_buzsaki,
    "connor_stevens": connor_stevens,
    "traub": traub,
    "hindmarsh_rose": hindmarsh_rose,
}
