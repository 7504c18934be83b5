"""Any conductance-based model (issue 15, items 1-3): removable 0/0 however it is spelled,
equilibria of domain-restricted models and on the box edge, cycles without a Hopf point, and the
SNIC end of a type-I neuron's cycle branch. Regression tests for the failures the issue lists.

The Wang-Buzsaki interneuron is written here from its published equations (Wang & Buzsaki 1996,
J Neurosci 16:6402: phi = 5, gNa = 35, gK = 9, gL = 0.1, ENa = 55, EK = -90, EL = -65, C = 1,
m instantaneous), in the textbook spelling that failed (integer and float literals mixed).
References are computed independently: sympy series for the 0/0 limits, mpmath and numpy
versions of the naive formulas, scipy root finders.
"""

import csv
import functools
import io
import math
from contextlib import redirect_stdout

import jax
import mpmath as mp
import numpy as np
import pytest
import scipy.integrate
import scipy.optimize
import sympy as sp

import hhanalysis as hh
from hhanalysis.continuation.results import Status

V_SYM = sp.Symbol("V")


def wang_buzsaki(spelling: str = "textbook") -> hh.ODEModel:
    """Wang-Buzsaki (1996) with the rates exactly as printed: 0.1*(V+35)/(1-exp(-(V+35)/10))."""
    V, h, n, I = sp.symbols("V h n I")
    am = 0.1 * (V + 35) / (1 - sp.exp(-(V + 35) / 10))
    bm = 4 * sp.exp(-(V + 60) / 18)
    ah = 0.07 * sp.exp(-(V + 58) / 20)
    bh = 1 / (sp.exp(-(V + 28) / 10) + 1)
    an = 0.01 * (V + 34) / (1 - sp.exp(-(V + 34) / 10))
    bn = 0.125 * sp.exp(-(V + 44) / 80)
    minf = am / (am + bm)
    rhs = (-35 * minf**3 * h * (V - 55) - 9 * n**4 * (V + 90) - 0.1 * (V + 65) + I,
           5 * (ah * (1 - h) - bh * h), 5 * (an * (1 - n) - bn * n))
    if spelling == "nsimplify":
        rhs = tuple(sp.nsimplify(e) for e in rhs)
    states = (hh.StateVariable("V", "mV", "membrane potential", (-100.0, 60.0)),
              hh.StateVariable("h", "1", "Na inactivation", (0.0, 1.0)),
              hh.StateVariable("n", "1", "K activation", (0.0, 1.0)))
    return hh.ODEModel("Wang-Buzsaki", states, (hh.Parameter("I", 0.0, "uA/cm^2"),), rhs,
                       time_unit="ms")


def wb_numpy(x, I):
    """The naive Wang-Buzsaki right-hand side in numpy (no 0/0 treatment: use away from -35
    and -34 mV)."""
    V, h, n = x
    am = 0.1 * (V + 35) / (1 - np.exp(-(V + 35) / 10))
    bm = 4 * np.exp(-(V + 60) / 18)
    ah = 0.07 * np.exp(-(V + 58) / 20)
    bh = 1 / (np.exp(-(V + 28) / 10) + 1)
    an = 0.01 * (V + 34) / (1 - np.exp(-(V + 34) / 10))
    bn = 0.125 * np.exp(-(V + 44) / 80)
    m = am / (am + bm)
    return np.array([-35 * m**3 * h * (V - 55) - 9 * n**4 * (V + 90) - 0.1 * (V + 65) + I,
                     5 * (ah * (1 - h) - bh * h), 5 * (an * (1 - n) - bn * n)])


# --- item 1: removable singularities however they are spelled ---------------------------------

_x = (V_SYM + 35) / 10
_a, _Vh, _k = sp.symbols("a Vh k")


def _user_rate(V, a=0.1, Vh=-35, k=10):
    return a * (V - Vh) / (1 - sp.exp(-(V - Vh) / k))


SPELLINGS = {
    # (expression, exact reference as a function of x = (V+35)/10)
    "textbook ints and floats": (0.1 * (V_SYM + 35) / (1 - sp.exp(-(V_SYM + 35) / 10)), 1),
    "all floats": (0.1 * (V_SYM + 35.0) / (1.0 - sp.exp(-(V_SYM + 35.0) / 10.0)), 1),
    "exact rationals": (sp.Rational(1, 10) * (V_SYM + 35) / (1 - sp.exp(-(V_SYM + 35) / 10)), 1),
    "nsimplify": (sp.nsimplify(0.1 * (V_SYM + 35) / (1 - sp.exp(-(V_SYM + 35) / 10))), 1),
    "decimal exponent": (0.1 * (V_SYM + 35) / (1 - sp.exp(-0.1 * V_SYM - 3.5)), 1),
    "exp minus one, factor 10": (-(V_SYM + 35) / (10 * sp.exp(-(V_SYM + 35) / 10) - 10), 1),
    "cube (inside a power)": ((0.1 * (V_SYM + 35) / (1 - sp.exp(-(V_SYM + 35) / 10)))**3, 3),
    "sinh": (0.1 * (V_SYM + 35) * sp.exp((V_SYM + 35) / 20) / (2 * sp.sinh((V_SYM + 35) / 20)), 1),
    "user function": (_user_rate(V_SYM), 1),
    "sympy Lambda": (sp.Lambda(sp.Symbol("u"), 0.1 * sp.Symbol("u")
                               / (1 - sp.exp(-sp.Symbol("u") / 10)))(V_SYM + 35), 1),
    "product with a beta rate": (_user_rate(V_SYM) * 4 * sp.exp(-(V_SYM + 60) / 18), "beta"),
}


@functools.cache
def _series(power):
    """The Taylor polynomial (degree 7) about the singular point V = -35, in d = V + 35, of
    the exact rate (x/(1 - e^{-x}))^power, x = (V + 35)/10 (times the beta rate for 'beta'),
    from sympy's series in exact arithmetic (never evaluated at 0/0)."""
    base = _x / (1 - sp.exp(-_x))
    expr = base * 4 * sp.exp(-(V_SYM + 60) / 18) if power == "beta" else base**power
    d = sp.Symbol("d")
    return d, sp.series(expr.subs(V_SYM, -35 + d), d, 0, 8).removeO()


def _reference_derivatives(power, V0: float) -> np.ndarray:
    """Value and first three derivatives at V0 of the exact rate, from its series."""
    d, poly = _series(power)
    dv = sp.Rational(V0 + 35.0)  # the exact offset of the float V0
    return np.array([float(sp.diff(poly, d, j).subs(d, dv).evalf(30)) for j in range(4)])


def test_rate_spellings_match_the_series_limit():
    """Issue 15: the 0/0 treatment depended on the spelling (ints + floats raised in
    find_equilibria, rationals gave NaN, nsimplify overflowed). Every spelling now gives the
    value, J, B and C of the exact limit at and within 1e-9 of V = -35; the simulator's
    kernels agree. One model holds every spelling (state i obeys spelling i: one compile)."""
    names = list(SPELLINGS)
    syms = [sp.Symbol(f"V{i}") for i in range(len(names))]
    rhs = tuple(SPELLINGS[k][0].subs(V_SYM, s) for k, s in zip(names, syms))
    model = hh.ODEModel("rates", tuple(hh.StateVariable(s.name, "mV", bounds=(-100.0, 60.0))
                                       for s in syms), (), rhs)
    cm = model.compile()
    p = np.zeros(0)
    e = np.ones(len(names))  # f_i depends on V_i only: B_i(e, e) and C_i(e, e, e) are its
    # second and third derivatives
    for V0 in (-35.0, -35.0 + 1e-12, -35.0 - 1e-9, -35.0 + 1e-9, -34.9):
        x = np.full(len(names), V0)
        got = np.stack([np.asarray(cm.f(x, p)), np.diag(np.asarray(cm.jac_x(x, p))),
                        np.asarray(cm.B(x, p, e, e)), np.asarray(cm.C(x, p, e, e, e))])
        fast = np.array([float(v) for v in cm.f_fast(x, [])])
        both = np.array([float(v) for v in cm.f_and_jac_diag(x, [])])
        for i, name in enumerate(names):
            ref = _reference_derivatives(SPELLINGS[name][1], V0)
            for j, rtol in enumerate((1e-13, 1e-12, 1e-10, 1e-8)):  # f, J, B, C
                np.testing.assert_allclose(got[j, i], ref[j], rtol=rtol, atol=1e-15,
                                           err_msg=f"{name}: derivative {j} at V = {V0!r}")
        np.testing.assert_allclose(fast, got[0], rtol=1e-12)
        np.testing.assert_allclose(both, np.concatenate([got[0], got[1]]), rtol=1e-10)


def test_rate_with_parameters_in_the_singular_factor():
    """a (V - Vh)/(1 - exp(-(V - Vh)/k)) with Vh, k parameters: the limit a k at V = Vh."""
    model = hh.ODEModel("rate", (hh.StateVariable("V", "mV", bounds=(-100.0, 60.0)),),
                        (hh.Parameter("a", 0.1), hh.Parameter("Vh", -35.0),
                         hh.Parameter("k", 10.0)),
                        (_user_rate(V_SYM, _a, _Vh, _k),))
    cm = model.compile()
    for Vh, k in ((-35.0, 10.0), (-52.5, 4.0), (3.25, -7.0)):
        p = model.param_vector(a=0.1, Vh=Vh, k=k)
        assert float(cm.f(np.array([Vh]), p)[0]) == pytest.approx(0.1 * k, rel=1e-15)
        # d/dV at the limit: a/2 (series a k (1 + y/2 + ...), y = (V - Vh)/k)
        assert float(cm.jac_x(np.array([Vh]), p)[0, 0]) == pytest.approx(0.05, rel=1e-14)


mp.mp.dps = 40


def _wb_mp(V, h, n, I=0):
    am = mp.mpf("0.1") * (V + 35) / (1 - mp.exp(-(V + 35) / 10))
    bm = 4 * mp.exp(-(V + 60) / 18)
    ah = mp.mpf("0.07") * mp.exp(-(V + 58) / 20)
    bh = 1 / (mp.exp(-(V + 28) / 10) + 1)
    an = mp.mpf("0.01") * (V + 34) / (1 - mp.exp(-(V + 34) / 10))
    bn = mp.mpf("0.125") * mp.exp(-(V + 44) / 80)
    m = am / (am + bm)
    return [-35 * m**3 * h * (V - 55) - 9 * n**4 * (V + 90) - mp.mpf("0.1") * (V + 65) + I,
            5 * (ah * (1 - h) - bh * h), 5 * (an * (1 - n) - bn * n)]


@pytest.mark.parametrize("spelling", ["textbook", "nsimplify"])
@pytest.mark.parametrize("V0", [-35.0, -34.0 - 1e-9])
def test_wang_buzsaki_rhs_and_jacobian_at_its_singular_points(spelling, V0):
    """Issue 15: rationals gave NaN at V = -35 and a Jacobian of 1.3e5 at -35 + 1e-9. Against
    mpmath at 40 digits, derivatives by Cauchy integrals on a circle (never at 0/0)."""
    model = wang_buzsaki(spelling)
    cm = model.compile()
    p = model.param_vector()
    h, n = 0.3, 0.4
    x = np.array([V0, h, n])
    mh, mn = mp.mpf("0.3"), mp.mpf("0.4")
    ref_f = [float(mp.re(mp.diff(lambda s, i=i: _wb_mp(s, mh, mn)[i], mp.mpf(V0), 0,
                                 method="quad", radius=0.5))) for i in range(3)]
    ref_dV = [float(mp.re(mp.diff(lambda s, i=i: _wb_mp(s, mh, mn)[i], mp.mpf(V0), 1,
                                  method="quad", radius=0.5))) for i in range(3)]
    f = np.asarray(cm.f(x, p))
    J = np.asarray(cm.jac_x(x, p))
    np.testing.assert_allclose(f, ref_f, rtol=1e-11)
    np.testing.assert_allclose(J[:, 0], ref_dV, rtol=1e-9)


def test_genuinely_singular_model_names_the_state_and_value():
    """A typo that makes the 0/0 a pole (numerator zero at -35, denominator at -36), and a
    plain pole off the scan grid: one clear error naming the state, the value and the
    denominator."""
    typo = 0.1 * (V_SYM + 35) / (1 - sp.exp(-(V_SYM + 36) / 10)) - 2
    model = hh.ODEModel("typo", (hh.StateVariable("V", "mV", bounds=(-100.0, 60.0)),), (),
                        (typo,))
    with pytest.raises(hh.SingularModelError, match=r"singular at V = -36\b.*rhs of 'V'.*exp"):
        hh.find_equilibria(model)
    pole = hh.ODEModel("pole", (hh.StateVariable("V", "mV", bounds=(-100.0, 60.0)),), (),
                       (1 / (V_SYM + 36.05) + 1,))
    with pytest.raises(hh.SingularModelError, match=r"singular at V = -36.05\b.*V \+ 721/20"):
        hh.find_equilibria(pole)


# --- item 2: equilibria of any model -------------------------------------------------------------


def _sqrt_model(coupled: bool = False):
    x, y, a = sp.symbols("x y a")
    # coupled: the second equation involves x and y nonlinearly (no scalar reduction: Newton)
    rhs = (sp.sqrt(x) - a + y, y**2 + x - 1 - x * y if coupled else -y)
    return hh.ODEModel("sqrt", (hh.StateVariable("x", bounds=(-2.0, 2.0)),
                                hh.StateVariable("y", bounds=(-2.0, 2.0))),
                       (hh.Parameter("a", 1.0),), rhs)


@pytest.mark.parametrize("method", ["auto", "reduction", "newton"])
def test_domain_restricted_model_has_its_equilibrium(method):
    """Issue 15: sqrt(x) - a + y, y' = -y gave 'no equilibrium in the box' although (1, 0) is
    one (sqrt is NaN on half the box)."""
    eqs = hh.find_equilibria(_sqrt_model(), method=method)
    assert len(eqs) == 1 and eqs.message == ""
    np.testing.assert_allclose(eqs.x[0], [1.0, 0.0], atol=1e-12)


def test_newton_finds_both_equilibria_of_a_coupled_domain_restricted_model():
    """x' = sqrt(x) - 1 + y, y' = y^2 + x - 1 - x y: equilibria (0, 1) (on the edge of the
    domain of sqrt) and (1, 0); no scalar reduction, so 'auto' uses Newton."""
    eqs = hh.find_equilibria(_sqrt_model(coupled=True))
    assert eqs.method == "newton" and len(eqs) == 2
    np.testing.assert_allclose(eqs.x, [[0.0, 1.0], [1.0, 0.0]], atol=1e-12)


@pytest.mark.parametrize("method", ["reduction", "newton"])
def test_several_equilibria_on_the_box_edges(method):
    """x' = x (x - 1)(x + 1), y' = -y in the box x in [-1, 1]: three equilibria, two of them
    exactly on the edges of the box."""
    x, y = sp.symbols("x y")
    model = hh.ODEModel("cubic", (hh.StateVariable("x", bounds=(-1.0, 1.0)),
                                  hh.StateVariable("y", bounds=(-1.0, 1.0))), (),
                        (x * (x - 1) * (x + 1), -y))
    eqs = hh.find_equilibria(model, method=method, newton_starts=64)
    np.testing.assert_allclose(eqs.x[:, 0], [-1.0, 0.0, 1.0], atol=1e-12)
    # and on the edge of a smaller box
    eqs = hh.find_equilibria(model, {"x": (0.5, 1.0)}, method=method, newton_starts=64)
    np.testing.assert_allclose(eqs.x, [[1.0, 0.0]], atol=1e-12)


def test_method_reaches_every_entry_point():
    """continue_equilibria and bifurcation_diagram take method= (and box=); a bad method is one
    clear ValueError."""
    model = _sqrt_model(coupled=True)
    br = hh.continue_equilibria(model, "a", 1.0, 1.5, method="newton", equilibrium=1)
    # along the branch through (1, 0): x = a^2 (y = 0 solves y^2 + x - 1 - xy only at x = 1),
    # so check the residual instead
    cm = model.compile()
    res = [np.max(np.abs(np.asarray(cm.f(xk, model.param_vector(a=pk)))))
           for xk, pk in zip(br.x, br.param)]
    assert max(res) < 1e-9 and br.param[-1] == pytest.approx(1.5)
    with pytest.raises(ValueError, match="method must be"):
        hh.continue_equilibria(model, "a", 1.0, 1.5, method="bisection")
    with pytest.raises(ValueError, match="method must be"):
        hh.bifurcation_diagram(model, "a", (1.0, 1.5), method="bisection")
    d = hh.bifurcation_diagram(model, "a", (1.0, 1.5), method="newton", simulate=-1)
    assert len(d.equilibria) >= 1


@pytest.mark.parametrize("spelling", ["textbook", "nsimplify"])
def test_wang_buzsaki_rest_state_against_scipy(spelling):
    """Issue 15: find_equilibria raised FloatingPointError at V = -35 for the textbook
    spelling. The rest state at I = 0 against scipy's root of the naive numpy formula."""
    eqs = hh.find_equilibria(wang_buzsaki(spelling), I=0.0)
    ref = scipy.optimize.fsolve(lambda x: wb_numpy(x, 0.0), [-64.0, 0.78, 0.09], xtol=1e-14)
    assert len(eqs) == 3  # rest, saddle and the depolarised unstable state
    np.testing.assert_allclose(eqs.x[0], ref, rtol=1e-10)
    assert eqs[0].stable


# --- item 3: cycles without a Hopf point and the SNIC end -------------------------------------


def _independent_snic():
    """The saddle-node of the naive numpy model: f = 0 and det J = 0 in (V, h, n, I), J by
    central differences, solved by scipy from the resting state near I = 0.16."""

    def G(z):
        x, I = z[:3], z[3]
        eps = 1e-6
        J = np.stack([(wb_numpy(x + eps * e, I) - wb_numpy(x - eps * e, I)) / (2 * eps)
                      for e in np.eye(3)], axis=1)
        return np.concatenate([wb_numpy(x, I), [np.linalg.det(J)]])

    z = scipy.optimize.fsolve(G, [-60.0, 0.66, 0.12, 0.16], xtol=1e-12)
    assert np.max(np.abs(G(z))) < 1e-10
    return z


@pytest.mark.slow
def test_wang_buzsaki_diagram_ends_at_its_snic(tmp_path):
    """Issue 15: over I in [0, 2] (no Hopf point) the diagram had no cycles; with the Hopf
    branch from I = 25 it stopped at 'period above max_period' with 9.3 Hz as the lowest rate.
    Now the stable cycles are found by simulation, continued to the SNIC, and the end is
    classified; the SNIC current matches scipy on f = 0, det J = 0 to 1e-8 relative and the
    rate goes below 1 Hz."""
    d = hh.bifurcation_diagram(wang_buzsaki(), "I", (0.0, 2.0))
    z = _independent_snic()
    snic = [c for c in d.cycles if c.status is Status.SNIC]
    assert len(snic) == 1
    br = snic[0]
    assert br.end.kind == "snic" and "saddle-node on an invariant circle" in br.stop_reason
    assert br.end.param == pytest.approx(z[3], rel=1e-8)
    np.testing.assert_allclose(br.end.state, z[:3], rtol=1e-6)
    assert abs(br.end.eigenvalues[0]) < 1e-9  # the zero eigenvalue of the saddle-node
    (fold,) = [s for b in d.equilibria for s in b.folds]
    assert fold.param == pytest.approx(z[3], rel=1e-8)
    fmin = d.minimum_frequency
    assert fmin[1] < 1.0 and abs(fmin[0] - z[3]) < 1e-3
    assert np.all(br.stable) and br.param.max() == pytest.approx(2.0, abs=1e-5)
    # the classified end survives a save / load round trip
    e = hh.BifurcationDiagram.load(d.save(tmp_path / "wb.npz"), d.model)
    assert [c.stop for c in e.cycles] == [c.stop for c in d.cycles]
    # the period at I = 1 against an independent simulation (naive numpy model, scipy LSODA)
    k = np.argmin(np.abs(br.param - 1.0))
    T_ref = _period_by_simulation(lambda x: wb_numpy(x, float(br.param[k])),
                                  [-64.0, 0.78, 0.09], 100.0)
    assert br.period[k] == pytest.approx(T_ref, rel=1e-5)


def _period_by_simulation(rhs, x0, t_end):
    """The period from the last upward crossings of V = -20 mV (scipy LSODA, tolerances
    1e-10), after a transient of t_end."""
    ev = lambda t, x: x[0] + 20.0  # noqa: E731
    ev.direction = 1.0
    sol = scipy.integrate.solve_ivp(lambda t, x: rhs(x), (0.0, t_end), x0, method="LSODA",
                                    rtol=1e-10, atol=1e-10, events=ev)
    t = sol.t_events[0]
    assert t.size >= 4
    return float(t[-1] - t[-2])


def test_fi_curve_over_a_range_without_hopf_points(tmp_path):
    """Issue 15: `hhanalysis fi-curve --range 20 100` crashed (no cycle branch: the Hopf points
    lie outside). Now the cycles come from simulation; the period at I = 60 agrees with an
    independent simulation of the numpy HH model."""
    import reference_hh

    from hhanalysis.cli import main

    out = tmp_path / "fi.png"
    buf = io.StringIO()
    with redirect_stdout(buf):
        assert main(["fi-curve", "--range", "20", "100", "--no-progress", "--out", str(out)]) == 0
    assert out.exists() and "minimum firing rate" in buf.getvalue()
    with open(out.with_suffix(".csv")) as fh:
        table = list(csv.DictReader(fh))
    I = np.array([float(r["I"]) for r in table])
    period = np.array([float(r["period_ms"]) for r in table])
    assert I.min() == pytest.approx(20.0, abs=1e-6) and I.max() == pytest.approx(100.0, abs=1e-6)
    assert all(r["stable"] == "True" for r in table)  # HH fires stably over [20, 100]
    # an orbit near I = 60 against the numpy reference model
    k = np.argmin(np.abs(I - 60.0))
    model = hh.hodgkin_huxley()
    p = model.param_vector(I=float(I[k]))
    T_ref = _period_by_simulation(lambda x: np.asarray(reference_hh.rhs(x, *p)),
                                  [-65.0, 0.05, 0.6, 0.32], 80.0)
    assert period[k] == pytest.approx(T_ref, rel=1e-5)


def test_morris_lecar_homoclinic_end_is_classified():
    """Morris-Lecar with phi = 0.23 (Rinzel & Ermentrout's homoclinic set): the cycles born at
    the subcritical Hopf point fold and end at a homoclinic orbit to the saddle of the middle
    equilibrium branch. The end names that saddle; checked against sympy's own lambdified
    right-hand side (not the code generator), scipy's root finder and a central-difference
    Jacobian."""
    model = hh.morris_lecar(phi=0.23)
    (h,) = hh.continue_equilibria(model, "I", 150.0, 0.0).hopf_points
    br = hh.continue_cycles(model, h, (0.0, 150.0), max_period=300.0)
    assert br.status is Status.HOMOCLINIC and "homoclinic orbit to a saddle" in br.stop_reason
    end = br.end
    assert end.kind == "saddle homoclinic" and end.stability == "saddle"
    assert end.param == br.param[-1] and br.period[-1] > 300
    x = [sp.Symbol(s) for s in model.state_names]
    params = {model.symbol(k): v for k, v in model.defaults.items() if k != "I"}
    rhs = sp.lambdify([x, model.symbol("I")], [e.subs(params) for e in model.rhs])
    f = lambda z: np.array(rhs(z, end.param), float)  # noqa: E731
    z = scipy.optimize.fsolve(f, end.state, xtol=1e-14)
    np.testing.assert_allclose(end.state, z, rtol=1e-9, atol=1e-12)
    J = np.stack([(f(z + 1e-6 * e) - f(z - 1e-6 * e)) / 2e-6 for e in np.eye(2)], axis=1)
    lam = np.sort(np.linalg.eigvals(J).real)[::-1]
    assert lam[0] > 0 > lam[1]  # a saddle
    np.testing.assert_allclose(np.real(end.eigenvalues), lam, rtol=1e-6)
    assert end.distance < 1e-3  # the last orbit passes through the saddle's neighbourhood


def test_simulate_cycle_none_at_rest_and_direction_checked():
    """At I = 0 the Wang-Buzsaki neuron rests: no cycle; a bad direction is a ValueError."""
    model = wang_buzsaki()
    assert hh.simulate_cycle(model, "I", 0.0) is None
    orbit = hh.simulate_cycle(model, "I", 1.0)
    assert orbit is not None and math.isfinite(orbit.period)
    with pytest.raises(ValueError, match="direction"):
        hh.continue_cycles(model, orbit, (0.5, 1.5), direction=0)


def test_jax_x64_untouched():
    """The new entry points leave JAX's global precision as it was."""
    before = jax.config.jax_enable_x64
    hh.find_equilibria(_sqrt_model())
    assert jax.config.jax_enable_x64 == before


def test_diagram_skips_a_simulated_oscillation_that_is_no_orbit(monkeypatch):
    """A slowly decaying oscillation can pass simulate_cycle's periodicity test; when collocation
    finds no periodic orbit next to it, the diagram goes on without it instead of failing."""
    from hhanalysis.continuation import diagram as diagram_module

    m = hh.hodgkin_huxley("classic")
    x_eq = hh.find_equilibria(m, I=50.0).x[0]

    def fake(model, param, value, **kw):
        t = np.linspace(0.0, 7.5, 401)
        x = np.repeat(x_eq[None], t.size, axis=0)
        x[:, 0] += 30.0 * np.sin(2 * np.pi * t / 7.5) * np.exp(-t)  # not periodic
        return hh.SimulatedOrbit(param, float(value), 7.5, t, x,
                                 dict(zip(m.param_names, map(float, m.param_vector()))))

    monkeypatch.setattr(diagram_module, "simulate_cycle", fake)
    d = hh.bifurcation_diagram(m, "I", (45.0, 60.0), simulate=0)
    assert len(d.cycles) == 0 and len(d.equilibria) >= 1
