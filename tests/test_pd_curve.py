"""Curves of period doublings (PD) in two parameters against AUTO-07p and an independent
monodromy matrix.

Reference: tests/data/auto07p_pd_curve_IgK_classic.json, written by
``benchmarks/auto07p_pd_curve.py --write`` (AUTO-07p 0.9.2, IPS=2, ISW=2, ICP=[I, gK, 11],
NTST=100, NCOL=4, EPSL=EPSU=1e-10): the PD curve of the classic preset through the first period
doubling of the branch from the lower Hopf point, AUTO's located user points (UZR on gK) on both
strands of the (closed) curve and the extent in I of its runs (b-file extremes: step-accurate).
Independently of the collocation code: the monodromy matrix of the orbits by scipy's DOP853 on
the variational equations of sympy's own lambdified right-hand side.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.integrate
import sympy as sp

import hhanalysis as hh
from hhanalysis.continuation.results import Status

DATA = Path(__file__).parent / "data"
REF = json.loads((DATA / "auto07p_pd_curve_IgK_classic.json").read_text())
BOUNDS = {"I": (-10.0, 200.0), "gK": (0.0, 80.0)}
GK = sorted({round(p["gK"], 6) for p in REF["user_points"]})


@pytest.fixture(scope="module")
def model():
    return hh.hodgkin_huxley("classic")


@pytest.fixture(scope="module")
def cycles(model):
    hopf = hh.continue_equilibria(model, "I", 0.0, 20.0).hopf_points[0]
    return hh.continue_cycles(model, hopf, (0.0, 20.0))


@pytest.fixture(scope="module")
def curve(model, cycles):
    return hh.continue_pd(model, cycles, ("I", "gK"), BOUNDS, user_points={"gK": GK})


def monodromy(model, x0, period, params):
    """``(x(T) - x(0), M)`` by DOP853 on f and the variational equation (sympy's f_x);
    rtol 1e-10: tighter, the rounding in the gating functions near their removable
    singularities (x/(1 - exp(-x)) at V = -40, -55 mV) keeps the step control from ever
    accepting a step."""
    x = [sp.Symbol(s) for s in model.state_names]
    subs = {model.symbol(k): v for k, v in params.items()}
    f = sp.Matrix([e.subs(subs) for e in model.rhs])
    rhs = sp.lambdify([x], f)
    jac = sp.lambdify([x], f.jacobian(x))
    n = len(x)

    def ode(t, y):
        z, Y = y[:n], y[n:].reshape(n, n)
        return np.concatenate([np.ravel(rhs(z)), (np.asarray(jac(z), float) @ Y).ravel()])

    y0 = np.concatenate([x0, np.eye(n).ravel()])
    sol = scipy.integrate.solve_ivp(ode, (0.0, period), y0, method="DOP853", rtol=1e-10,
                                    atol=1e-10)
    return sol.y[:n, -1] - x0, sol.y[n:, -1].reshape(n, n)


def test_pd_curve_user_points_match_auto(curve):
    ours = {}
    for s in curve.special_points:
        if s.kind == "uz":
            ours.setdefault(round(s.params["gK"], 6), []).append((s.params["I"], s.data.period))
    # both strands (at gK = 36: the start, the first period doubling, and the second one)
    assert sorted(ours) == GK and all(len(v) == 2 for v in ours.values())
    for p in REF["user_points"]:
        i, period = min(ours[round(p["gK"], 6)], key=lambda r: abs(r[0] - p["I"]))
        # AUTO located some user points only to |gK - value| up to 3e-6 (dI/dgK ~ 0.88)
        tol = max(1e-8, 2.0 * abs(p["gK"] - round(p["gK"], 6)) / p["I"])
        assert i == pytest.approx(p["I"], rel=tol)
        assert period == pytest.approx(p["period"], rel=max(tol, 1e-6))
    assert min(i for i, _ in ours[36.0]) == pytest.approx(REF["pd_start_I_at_gK36"], rel=1e-8)


def test_pd_curve_is_closed_and_spans_autos_extent(curve):
    assert curve.kind == "pd" and curve.status is Status.CLOSED_CURVE
    assert curve.stops[0].status is Status.CLOSED_CURVE
    np.testing.assert_allclose(curve.values[-1], curve.values[0], rtol=1e-9)
    assert curve.values[0, 0] == pytest.approx(REF["pd_start_I_at_gK36"], rel=1e-8)
    lo = min(r["I_range"][0] for r in REF["runs"])
    hi = max(r["I_range"][1] for r in REF["runs"])
    turns = {s.data.extremum: s.params["I"] for s in curve.special_points
             if s.kind == "lp" and s.data.param_name == "I"}
    assert turns["min"] == pytest.approx(lo, rel=1e-7)
    assert turns["max"] == pytest.approx(hi, rel=1e-7)
    # the start is inside the curve's path once: a single pass
    assert np.sum(np.all(np.isclose(curve.values, curve.values[0], rtol=1e-9), axis=1)) == 2


@pytest.mark.parametrize("where", ["min", "max"])
def test_points_far_from_the_start_have_a_multiplier_minus_one(model, curve, where):
    """Curve points at the ends of the loop (I ~ 1.9 and ~33): closed orbits with a Floquet
    multiplier -1 by an independent integration of the variational equation."""
    k = int(np.argmin(curve.values[:, 0]) if where == "min" else np.argmax(curve.values[:, 0]))
    params = {**model.defaults, "I": curve.values[k, 0], "gK": curve.values[k, 1]}
    gap, M = monodromy(model, curve.orbits[k][0], curve.period[k], params)
    mu = np.linalg.eigvals(M)
    # the integration's error (rtol 1e-10: ~2e-7 in the trivial multiplier) grows with the
    # largest multiplier (~1e5 at I ~ 1.9); the other multipliers are far from -1 (< -1e5 or
    # > -0.62)
    tol = 1e-5 + 1e-9 * np.abs(mu).max()
    assert np.abs(gap).max() < tol * (1 + np.abs(curve.orbits[k][0]).max())
    assert np.min(np.abs(mu + 1.0)) < tol
    assert np.min(np.abs(mu - 1.0)) < tol  # the trivial multiplier


def test_r2_points_have_two_multipliers_at_minus_one(model, curve):
    r2 = [s for s in curve.special_points if s.kind == "r2"]
    assert len(r2) == 2 and all(s.status is Status.CONVERGED for s in r2)
    for s in r2:
        gap, M = monodromy(model, s.state, s.data.period, s.params)
        mu = np.linalg.eigvals(M)
        near = mu[np.abs(mu + 1.0) < 0.1]
        # a double multiplier (Jordan block): each copy moves by ~sqrt(the integration's
        # error) (~2e-4 here), their mean by ~the error itself
        assert len(near) == 2 and np.abs(near + 1.0).max() < 1e-3
        assert abs(near.mean() + 1.0) < 1e-6


def test_continue_pd_needs_a_pd_start(model, cycles):
    lpc = next(s for s in cycles.special_points if s.kind == "lpc")
    with pytest.raises(ValueError, match="start: a PD point"):
        hh.continue_pd(model, lpc, ("I", "gK"), BOUNDS)
    with pytest.raises(ValueError, match="PD point"):
        hh.continue_pd(model, (cycles, 7), ("I", "gK"), BOUNDS)
    with pytest.raises(ValueError, match="params"):
        hh.continue_pd(model, cycles, ("gNa", "gK"), {"gNa": (0, 200), "gK": (0, 80)})


def test_the_docs_quote_this_curve(curve):
    """docs/two_parameter.md quotes the curve's size and 1:2 resonances: not stale."""
    import re

    text = (Path(__file__).parent.parent / "docs" / "two_parameter.md").read_text()
    para = text[text.index("**Classic preset, (I, gK)**"):]
    para = para[:para.index("\n\n")]
    assert f"{len(curve)} points" in para
    quoted = [tuple(map(float, m)) for m in re.findall(r"\(([\d.]+), ([\d.]+)\)", para)]
    r2 = [(s.params["I"], s.params["gK"]) for s in curve.special_points if s.kind == "r2"]
    assert len(quoted) == 2
    for q in quoted:
        assert min(np.hypot(q[0] - i, q[1] - g) for i, g in r2) < 1e-5
