"""The model library: each model's equations, written out here again from its source, and its
checked numbers (onset of firing, firing rate at a current) against independent computations
(numpy/scipy on those written-out equations) and the literature."""

import numpy as np
import pytest
import scipy.optimize as so
import sympy as sp
from scipy.integrate import solve_ivp

import hhanalysis as hh
from hhanalysis import library as lib

exp = np.exp


# --------------------------------------------------------------------------------------------
# The equations, from the papers (see the docstrings of hhanalysis.library)
# --------------------------------------------------------------------------------------------


def wb(t, y, I=0.0):
    """Wang & Buzsaki (1996)."""
    V, h, n = y
    am = 0.1 * (V + 35) / (1 - exp(-(V + 35) / 10))
    bm = 4 * exp(-(V + 60) / 18)
    ah, bh = 0.07 * exp(-(V + 58) / 20), 1 / (exp(-0.1 * (V + 28)) + 1)
    an, bn = 0.01 * (V + 34) / (1 - exp(-0.1 * (V + 34))), 0.125 * exp(-(V + 44) / 80)
    m = am / (am + bm)
    dV = I - 35 * m**3 * h * (V - 55) - 9 * n**4 * (V + 90) - 0.1 * (V + 65)
    return np.array([dV, 5 * (ah * (1 - h) - bh * h), 5 * (an * (1 - n) - bn * n)])


def traub(t, y, I=0.0):
    """Reduced Traub–Miles (Ermentrout & Kopell 1998; Börgers 2017)."""
    V, h, n = y
    am = 0.32 * (V + 54) / (1 - exp(-(V + 54) / 4))
    bm = 0.28 * (V + 27) / (exp((V + 27) / 5) - 1)
    ah, bh = 0.128 * exp(-(V + 50) / 18), 4 / (1 + exp(-(V + 27) / 5))
    an, bn = 0.032 * (V + 52) / (1 - exp(-(V + 52) / 5)), 0.5 * exp(-(V + 57) / 40)
    m = am / (am + bm)
    dV = I - 100 * m**3 * h * (V - 50) - 80 * n**4 * (V + 100) - 0.1 * (V + 67)
    return np.array([dV, ah * (1 - h) - bh * h, an * (1 - n) - bn * n])


def connor_stevens(t, y, I=0.0):
    """Connor–Stevens in Dayan & Abbott (2001) §6.2, per cm²."""
    V, m, h, n, a, b = y
    am, bm = 0.38 * (V + 29.7) / (1 - exp(-0.1 * (V + 29.7))), 15.2 * exp(-0.0556 * (V + 54.7))
    ah, bh = 0.266 * exp(-0.05 * (V + 48)), 3.8 / (1 + exp(-0.1 * (V + 18)))
    an, bn = 0.02 * (V + 45.7) / (1 - exp(-0.1 * (V + 45.7))), 0.25 * exp(-0.0125 * (V + 55.7))
    a_inf = np.cbrt(0.0761 * exp(0.0314 * (V + 94.22)) / (1 + exp(0.0346 * (V + 1.17))))
    tau_a = 0.3632 + 1.158 / (1 + exp(0.0497 * (V + 55.96)))
    b_inf = 1 / (1 + exp(0.0688 * (V + 53.3))) ** 4
    tau_b = 1.24 + 2.678 / (1 + exp(0.0624 * (V + 50)))
    dV = (I - 120 * m**3 * h * (V - 55) - 20 * n**4 * (V + 72) - 47.7 * a**3 * b * (V + 75)
          - 0.3 * (V + 17))
    return np.array([dV, am * (1 - m) - bm * m, ah * (1 - h) - bh * h, an * (1 - n) - bn * n,
                     (a_inf - a) / tau_a, (b_inf - b) / tau_b])


ML_SETS = {"snic": dict(gCa=4.0, V3=12.0, V4=17.4, phi=1 / 15),
           "hopf": dict(gCa=4.4, V3=2.0, V4=30.0, phi=0.04)}


def morris_lecar(t, y, I=0.0, gCa=4.0, V3=12.0, V4=17.4, phi=1 / 15):
    """Morris & Lecar (1981) with Rinzel & Ermentrout's (1998) parameters."""
    V, w = y
    m_inf = 0.5 * (1 + np.tanh((V + 1.2) / 18))
    w_inf = 0.5 * (1 + np.tanh((V - V3) / V4))
    dV = (I - 2 * (V + 60) - gCa * m_inf * (V - 120) - 8 * w * (V + 84)) / 20
    return np.array([dV, phi * (w_inf - w) * np.cosh((V - V3) / (2 * V4))])


def hindmarsh_rose(t, y, I=2.0, r=0.001):
    """Hindmarsh & Rose (1984)."""
    x, yy, z = y
    xR = -(1 + np.sqrt(5)) / 2
    return np.array([yy - x**3 + 3 * x**2 - z + I, 1 - 5 * x**2 - yy, r * (4 * (x - xR) - z)])


def fitzhugh_nagumo(t, y, I=0.0):
    v, w = y
    return np.array([v - v**3 / 3 - w + I, 0.08 * (v + 0.7 - 0.8 * w)])


LIBRARY = {
    "wang_buzsaki": (lib.wang_buzsaki(), wb, [(-90, 30), (0, 1), (0, 1)]),
    "traub": (lib.traub(), traub, [(-90, 30), (0, 1), (0, 1)]),
    "connor_stevens": (lib.connor_stevens(), connor_stevens, [(-90, 30)] + [(0, 1)] * 5),
    "morris_lecar": (lib.morris_lecar(), morris_lecar, [(-70, 40), (0, 1)]),
    "morris_lecar_hopf": (lib.morris_lecar("hopf"),
                          lambda t, y, I=0.0: morris_lecar(t, y, I, **ML_SETS["hopf"]),
                          [(-70, 40), (0, 1)]),
    "hindmarsh_rose": (lib.hindmarsh_rose(), hindmarsh_rose, [(-2, 2), (-10, 1), (0, 3)]),
    "fitzhugh_nagumo": (lib.fitzhugh_nagumo(), fitzhugh_nagumo, [(-2, 2), (-1, 2)]),
}


@pytest.mark.parametrize("name", list(LIBRARY))
def test_equations_are_the_published_ones(name):
    """The sympy right-hand side against the equations written out above, at random states
    (including the removable 0/0 points' neighbourhoods) and two currents."""
    model, f, box = LIBRARY[name]
    rng = np.random.default_rng(1)
    X = np.array([rng.uniform(lo, hi, 200) for lo, hi in box])
    syms = [model.symbol(s) for s in model.state_names]
    I = float(model.defaults["I"])
    for current in (I, I + 1.5):
        rhs = sp.lambdify(syms, [e.subs(model.symbol("I"), current).subs(
            {model.symbol(p): v for p, v in model.defaults.items() if p != "I"})
            for e in model.rhs], "numpy")
        ours = np.array([np.broadcast_to(np.asarray(r, float), X.shape[1]) for r in rhs(*X)])
        ref = f(0.0, X, current)
        np.testing.assert_allclose(ours, ref, rtol=1e-11, atol=1e-11)
    assert lib.MODELS[name]().name == model.name


def test_models_from_models_py_are_reexported():
    assert lib.fitzhugh_nagumo is hh.fitzhugh_nagumo and lib.hodgkin_huxley is hh.hodgkin_huxley
    # the library's Morris–Lecar is models.morris_lecar with the set's defaults
    assert lib.morris_lecar().rhs == hh.morris_lecar().rhs
    assert lib.morris_lecar("hopf").defaults["gCa"] == 4.4
    with pytest.raises(ValueError, match="parameter_set must be one of"):
        lib.morris_lecar("bursting")
    # a library model starts near rest in hh.trajectory (options['init']), also after with_params
    assert lib.traub().with_params(I=2.0).options["init"] == {"V": -70.0, "h": 1.0, "n": 0.0}


# --------------------------------------------------------------------------------------------
# Firing rates: hh.trajectory against scipy on the written-out equations
# --------------------------------------------------------------------------------------------


def _last_period(t, V, threshold):
    """Period between the last two upward crossings of ``threshold`` (linear interpolation)."""
    k = np.nonzero((V[:-1] < threshold) & (V[1:] >= threshold))[0]
    tc = t[k] + (threshold - V[k]) * (t[k + 1] - t[k]) / (V[k + 1] - V[k])
    return tc[-1] - tc[-2], len(tc)


def _scipy_period(f, y0, I, duration, threshold):
    event = lambda t, y, I: y[0] - threshold  # noqa: E731
    event.direction = 1
    sol = solve_ivp(f, (0, duration), y0, args=(I,), method="DOP853", rtol=1e-11, atol=1e-11,
                    events=event)
    te = sol.t_events[0]
    return te[-1] - te[-2], len(te)


@pytest.mark.parametrize("name, I, x0, duration, published", [
    # Wang & Buzsaki (1996), Fig. 1: ~60 Hz at I = 1 µA/cm²
    ("wang_buzsaki", 1.0, [-64.0, 0.78, 0.09], 60.0, (55, 70)),
    ("traub", 1.5, [-70.0, 1.0, 0.0], 80.0, None),
    ("connor_stevens", 10.0, [-68.0, 0.01, 0.99, 0.16, 0.54, 0.29], 200.0, None),
    ("morris_lecar", 60.0, [-40.0, 0.0], 300.0, None),
    ("fitzhugh_nagumo", 0.5, [-1.2, -0.6], 200.0, None),
])
def test_firing_rate_matches_scipy(name, I, x0, duration, published):
    model, f, _ = LIBRARY[name]
    threshold = 1.0 if name == "fitzhugh_nagumo" else -20.0
    ref, n_ref = _scipy_period(f, np.array(x0, float), I, duration, threshold)
    tr = hh.trajectory(model, duration=duration, dt=0.001, method="rk4", x0=x0, I=I)
    period, n = _last_period(tr.t, tr[model.state_names[0]], threshold)
    assert n == n_ref >= 3
    assert period == pytest.approx(ref, rel=1e-6)
    if published:
        assert published[0] < 1000 / period < published[1]


def test_hindmarsh_rose_equilibrium_and_bursts():
    """The equilibrium solves the cubic -x^3 + (b - d) x^2 - s x + s x_R + c + I = 0 (numpy's
    roots); at I = 2, r = 0.001 the model bursts, with as many spikes per burst in
    hh.trajectory as in scipy's solution."""
    model, f, _ = LIBRARY["hindmarsh_rose"]
    xR = -(1 + np.sqrt(5)) / 2
    roots = np.roots([-1.0, 3.0 - 5.0, -4.0, 4.0 * xR + 1.0 + 2.0])
    x = roots[np.abs(roots.imag) < 1e-12].real
    eqs = hh.find_equilibria(model)
    assert len(eqs) == len(x) == 1
    np.testing.assert_allclose(eqs[0].x, [x[0], 1 - 5 * x[0] ** 2, 4 * (x[0] - xR)], rtol=1e-10)

    x0 = [-1.6, -12.0, 1.7]
    sol = solve_ivp(f, (0, 1000), x0, method="DOP853", rtol=1e-10, atol=1e-10,
                    t_eval=np.arange(0, 1000.0001, 0.05))
    tr = hh.trajectory(model, duration=1000, dt=0.005, nout=10, method="rk4", x0=x0)

    def spikes_per_burst(xs):
        up = np.nonzero((xs[:-1] < 1.0) & (xs[1:] >= 1.0))[0]
        bursts = np.split(up, np.nonzero(np.diff(up) * 0.05 > 50.0)[0] + 1)
        return [len(b) for b in bursts]

    counts = spikes_per_burst(tr["x"])
    assert len(counts) >= 3 and max(counts) > 1
    assert counts == spikes_per_burst(sol.y[0])


# --------------------------------------------------------------------------------------------
# Onset of firing: SNIC / Hopf currents against scipy
# --------------------------------------------------------------------------------------------


def _jacobian(f, x, h=1e-30):
    return np.array([np.imag(f(x + 1j * h * e)) / h for e in np.eye(len(x))]).T


def test_morris_lecar_snic_and_hopf_currents():
    """SNIC set: the saddle-node on the invariant circle (f = 0, det J = 0) at I ≈ 39.96
    (Rinzel & Ermentrout 1998: ~40 µA/cm²). Hopf set: f = 0, tr J = 0 at I ≈ 93.86. Both solved
    by scipy on the written-out equations."""
    def fold(z):
        V, w, I = z
        J = _jacobian(lambda x: morris_lecar(0, x, I), np.array([V, w]))
        return [*morris_lecar(0, (V, w), I), np.linalg.det(J)]

    ref = so.fsolve(fold, [-29.0, 0.0, 40.0], xtol=1e-14)
    fp = hh.fold_point(lib.morris_lecar(), "I", 39.9)
    assert float(fp.param) == pytest.approx(ref[2], rel=1e-8)
    assert 39.5 < ref[2] < 40.5

    def hopf(z):
        V, w, I = z
        J = _jacobian(lambda x: morris_lecar(0, x, I, **ML_SETS["hopf"]), np.array([V, w]))
        return [*morris_lecar(0, (V, w), I, **ML_SETS["hopf"]), np.trace(J)]

    ref = so.fsolve(hopf, [-25.0, 0.14, 94.0], xtol=1e-14)
    hp = hh.hopf_point(lib.morris_lecar("hopf"), "I", 94.0)
    assert float(hp.param) == pytest.approx(ref[2], rel=1e-8)
    np.testing.assert_allclose(hp.x, ref[:2], rtol=1e-8)


@pytest.mark.slow
def test_wang_buzsaki_snic_current():
    """The rest state disappears where the steady-state current I_ss(V) (gates at steady
    state, m instantaneous) has its minimum: dI_ss/dV = 0, solved by scipy; the published
    threshold is ~0.16 µA/cm² (Wang & Buzsaki 1996)."""
    def I_ss(V):
        ah, bh = 0.07 * exp(-(V + 58) / 20), 1 / (exp(-0.1 * (V + 28)) + 1)
        an, bn = 0.01 * (V + 34) / (1 - exp(-0.1 * (V + 34))), 0.125 * exp(-(V + 44) / 80)
        return -wb(0, (V, ah / (ah + bh), an / (an + bn)), 0.0)[0]

    dI = lambda V: np.imag(I_ss(V + 1e-30j)) / 1e-30  # noqa: E731
    V_snic = so.brentq(dI, -62.0, -58.0, xtol=1e-14)
    fp = hh.fold_point(lib.wang_buzsaki(), "I", 0.16)
    assert float(fp.param) == pytest.approx(I_ss(V_snic), rel=1e-8)
    assert float(fp.x[0]) == pytest.approx(V_snic, rel=1e-8)
    assert 0.15 < I_ss(V_snic) < 0.17


@pytest.mark.parametrize("make", [lib.wang_buzsaki, lib.traub, lib.connor_stevens,
                                  lib.morris_lecar])
def test_library_parameters_have_physical_domains(make):
    """Conductances >= 0 and C > 0 as in hodgkin_huxley, unless the model is nonphysical."""
    with pytest.raises(ValueError, match="C"):
        make(C=0.0)
    with pytest.raises(ValueError, match="gK"):
        make(gK=-1.0)
    assert make(nonphysical=True, gK=-1.0).nonphysical
