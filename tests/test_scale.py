"""Batched Hopf points and the rest / tonic / bistable map (hhanalysis.scale), against one-at-a-time
Hopf points, LAPACK eigenvalues and scipy's solve_ivp on the independent HH equations of
tests/reference_hh.py."""

import numpy as np
import pytest
import reference_hh
import scipy.integrate

import hhanalysis as hh
from hhanalysis.scale import REGIMES, hopf_points, sweep


def test_hopf_points_batched_equal_one_at_a_time_and_have_an_imaginary_pair():
    model = hh.hodgkin_huxley()
    gK = np.linspace(30.0, 42.0, 7)
    pts = hopf_points(model, "I", 6.5, gK=gK)
    assert pts.param.shape == (7,) and bool(np.all(pts.converged))
    cm = model.compile()
    for k in (6,):
        one = hh.hopf_point(model, "I", 6.5, gK=float(gK[k]))
        assert float(pts.param[k]) == pytest.approx(float(one.param), rel=1e-10)
        p = model.param_vector(I=float(pts.param[k]), gK=float(gK[k]))
        lam = np.linalg.eigvals(np.asarray(cm.jac_x(np.asarray(pts.x[k]), p)))
        pair = lam[np.argmin(np.abs(lam.real))]
        assert abs(pair.real) < 1e-8 and abs(abs(pair.imag) - float(pts.omega[k])) < 1e-8


def _hh_rhs(t, y, I):
    V, m, h, n = y
    am, bm, ah, bh, an, bn = reference_hh.rates(V)
    dV = I - 120 * m**3 * h * (V - 50) - 36 * n**4 * (V + 77) - 0.03 * (V + 54.387)
    return [dV, am * (1 - m) - bm * m, ah * (1 - h) - bh * h, an * (1 - n) - bn * n]


def _fires(y0, I, t_end=300.0):
    """Peak-to-peak V over the last 100 ms of a scipy run (LSODA, tight tolerances)."""
    sol = scipy.integrate.solve_ivp(_hh_rhs, (0, t_end), y0, args=(I,), method="LSODA",
                                    rtol=1e-8, atol=1e-10, dense_output=True)
    V = sol.sol(np.linspace(t_end - 100.0, t_end, 4001))[0]
    return V.max() - V.min()


def test_sweep_regimes_agree_with_scipy_from_two_initial_conditions():
    """brainpy preset, gK = 36: rest at I = 2, both at I = 5 (between the fold of cycles and the
    subcritical Hopf point, I ~ 6.5), tonic at I = 10; scipy from the rest state and from a
    state on the I = 10 cycle says the same."""
    model = hh.hodgkin_huxley()
    s = sweep(model, "I", np.array([2.0, 5.0, 10.0]), transient=200.0, window=100.0)
    assert [REGIMES[r] for r in s.regime] == ["rest", "bistable", "tonic"]
    assert np.isnan(s.period[0]) and 10.0 < s.period[2] < 25.0
    rest = hh.find_equilibria(model, I=0.0)[0].x
    on_cycle = scipy.integrate.solve_ivp(_hh_rhs, (0, 200.0), rest, args=(10.0,),
                                         method="LSODA", rtol=1e-8, atol=1e-10).y[:, -1]
    for I, regime in zip((2.0, 5.0), ("rest", "bistable")):
        at_rest = hh.find_equilibria(model, I=I)[0].x
        assert _fires(at_rest + [0.1, 0, 0, 0], I) < 1e-3  # the equilibrium is stable
        assert (_fires(on_cycle, I) > 50.0) == (regime == "bistable")
    assert _fires(on_cycle, 10.0) == pytest.approx(s.amplitude[2], rel=0.02)


def test_sweep_no_false_cycle_beside_a_supercritical_hopf_curve():
    """brainpy preset, gK = 40.5, I = 159: just outside the supercritical Hopf curve (AUTO-07p's
    curve turns in I at 159.0138, gK = 37.444), the equilibrium is a weakly stable focus (its
    leading eigenvalues, from a complex-step Jacobian of tests/reference_hh.py, have real part
    ~ -1e-3) and no cycle exists; exponential Euler at dt = 0.02 shifts the Hopf point and showed
    a small stable cycle there; the default RK4 does not."""
    import scipy.optimize

    def balance(V):
        am, bm, ah, bh, an, bn = reference_hh.rates(V)
        m, h, n = am / (am + bm), ah / (ah + bh), an / (an + bn)
        return 159.0 - 120 * m**3 * h * (V - 50) - 40.5 * n**4 * (V + 77) - 0.03 * (V + 54.387)

    V = scipy.optimize.brentq(balance, -60.0, 0.0, xtol=1e-14)
    am, bm, ah, bh, an, bn = reference_hh.rates(V)
    x = np.array([V, am / (am + bm), ah / (ah + bh), an / (an + bn)])
    J = np.array([reference_hh.rhs(x + 1e-30j * e, gK=40.5, I=159.0).imag / 1e-30
                  for e in np.eye(4)]).T
    lead = np.linalg.eigvals(J).real.max()
    assert -5e-3 < lead < 0
    s = sweep(hh.hodgkin_huxley(), "I", np.array([150.0, 159.0]), gK=40.5)
    assert [REGIMES[r] for r in s.regime] == ["tonic", "rest"]


def test_sweep_rejects_bad_values():
    model = hh.hodgkin_huxley()
    with pytest.raises(ValueError, match="increasing"):
        sweep(model, "I", [3.0, 1.0])
    with pytest.raises(ValueError, match="dt"):
        sweep(model, "I", [0.0, 1.0], dt=-1.0)
    with pytest.raises(ValueError, match="swept parameter"):
        sweep(model, "I", [0.0, 1.0], I=2.0)
    with pytest.raises(ValueError, match="method must be one of"):
        sweep(model, "I", [0.0, 1.0], method="rk45")
