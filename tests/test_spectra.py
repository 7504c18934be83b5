"""Center plane, center manifold and the first Lyapunov coefficient."""

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.integrate
import scipy.optimize
import sympy as sp

import hhanalysis as hh

REF = json.loads((Path(__file__).parent / "data" / "auto07p_hh_equilibria.json").read_text())


def hopf_equilibrium(model, I_guess):
    def re(I):
        return hh.find_equilibria(model, I=I)[0].eigenvalues[0].real

    I = scipy.optimize.brentq(re, I_guess - 1, I_guess + 1, xtol=1e-13)
    return hh.find_equilibria(model, I=I)[0]


@pytest.mark.parametrize("preset", ["brainpy", "classic"])
def test_hh_l1_sign_matches_auto_criticality(preset):
    model = hh.hodgkin_huxley(preset=preset)
    for ref_h, ref_c in zip(REF[preset]["hopf_points"], REF[preset]["hopf_criticality"]):
        eq = hopf_equilibrium(model, ref_h["I"])
        assert eq.params["I"] == pytest.approx(ref_h["I"], rel=1e-8)
        cm = hh.center_manifold(eq)
        assert cm.omega == pytest.approx(ref_h["omega_rad_per_ms"], rel=1e-8)
        assert cm.criticality == ref_c["criticality"]
        # AUTO's value is taken at a nearby point of the two-parameter Hopf curve
        assert cm.l1 == pytest.approx(ref_c["l1"], rel=2e-3)


def fhn_l1_guckenheimer_holmes(a, b, eps, v_h):
    """Independent l1 for FHN at its Hopf point: canonical form and the Guckenheimer–Holmes formula.

    l1 (Kuznetsov, <q,q> = 1 in the original coordinates) = 2 a_GH / (omega |P q_c|^2),
    where a_GH is the GH coefficient in canonical coordinates y = P^{-1}(x - x*) and
    q_c = (1, -i)/sqrt(2) the normalised canonical eigenvector.
    """
    v, w = sp.symbols("v w")
    F = sp.Matrix([v - v**3 / 3 - w, eps * (v + a - b * w)])  # I only shifts the equilibrium
    w_h = (v_h + a) / b
    J = np.array(F.jacobian([v, w]).subs({v: v_h, w: w_h}), dtype=float)
    lam, vecs = np.linalg.eig(J)
    k = int(np.argmax(lam.imag))
    omega = lam[k].imag
    # columns P = [Re q, -Im q] with J q = i omega q gives P^{-1} J P = [[0, -omega], [omega, 0]]
    qv = vecs[:, k]
    P = np.column_stack([qv.real, -qv.imag])
    y1, y2 = sp.symbols("y1 y2")
    xy = sp.Matrix(P.tolist()) * sp.Matrix([y1, y2]) + sp.Matrix([v_h, w_h])
    G = sp.Matrix(np.linalg.inv(P).tolist()) * F.subs({v: xy[0], w: xy[1]}, simultaneous=True)
    f, g = G

    def d(e, *vars_):
        return float(sp.diff(e, *vars_).subs({y1: 0, y2: 0}))

    a_gh = (d(f, y1, y1, y1) + d(f, y1, y2, y2) + d(g, y1, y1, y2) + d(g, y2, y2, y2)) / 16 + (
        d(f, y1, y2) * (d(f, y1, y1) + d(f, y2, y2))
        - d(g, y1, y2) * (d(g, y1, y1) + d(g, y2, y2))
        - d(f, y1, y1) * d(g, y1, y1)
        + d(f, y2, y2) * d(g, y2, y2)
    ) / (16 * omega)
    qc = np.array([1.0, -1.0j]) / np.sqrt(2)
    return 2 * a_gh / (omega * np.linalg.norm(P @ qc) ** 2), omega


@pytest.mark.parametrize("a,b,eps", [(0.7, 0.8, 0.08), (0.5, 0.4, 0.3)])
def test_fhn_hopf_point_and_l1_against_independent_computation(a, b, eps):
    v_h = -np.sqrt(1 - eps * b)  # trace zero
    I_h = v_h**3 / 3 - v_h + (v_h + a) / b
    model = hh.fitzhugh_nagumo(a=a, b=b, epsilon=eps)
    eq = hh.find_equilibria(model, I=I_h)[0]
    np.testing.assert_allclose(eq.x[0], v_h, rtol=1e-12)
    cm = hh.center_manifold(eq)
    assert abs(cm.eigenvalue.real) < 1e-12
    l1_ref, omega_ref = fhn_l1_guckenheimer_holmes(a, b, eps, v_h)
    assert cm.omega == pytest.approx(omega_ref, rel=1e-12)
    assert cm.l1 == pytest.approx(l1_ref, rel=1e-9)


def test_projector_properties_and_plane_distance():
    model = hh.hodgkin_huxley(I=10.0)
    eq = hh.find_equilibria(model)[0]
    cm = hh.center_manifold(eq)
    P = cm.projector
    np.testing.assert_allclose(P @ P, P, atol=1e-12)
    np.testing.assert_allclose(P @ eq.jacobian, eq.jacobian @ P, atol=1e-10)
    np.testing.assert_allclose(cm.basis.T @ cm.basis, np.eye(2), atol=1e-14)
    assert cm.split.center == (0, 1) and len(cm.split.stable) == 2 and not cm.split.unstable
    # points on the center plane: distance 0, coordinates recovered
    coords = np.array([[0.3, -0.2], [1.0, 2.0], [0.0, 0.0]])
    points = eq.x + coords @ cm.basis.T
    proj = cm.project(points)
    np.testing.assert_allclose(proj.distance_to_plane, 0.0, atol=1e-12)
    np.testing.assert_allclose(proj.coordinates, coords, atol=1e-12)
    # a stable eigenvector direction is all off-plane
    off = eq.x + 0.5 * np.real(eq.right_eigenvectors[:, 3])
    assert cm.project(off).distance_to_plane[0] == pytest.approx(0.5, rel=1e-10)


def test_manifold_points_have_zero_manifold_distance_and_are_invariant_to_second_order():
    model = hh.hodgkin_huxley(I=10.0)
    eq = hh.find_equilibria(model)[0]
    cm = hh.center_manifold(eq)
    z = np.array([1e-3, 2e-3j, 3e-3 * np.exp(0.4j)])
    W = cm.manifold_point(z)
    proj = cm.project(W)
    np.testing.assert_allclose(proj.z, z, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(proj.distance_to_manifold, 0.0, atol=1e-14)
    # invariance: f(W(z)) is tangent to the manifold up to O(|z|^3)
    f = model.compile().f
    p = model.param_vector()
    errs = []
    for r in (4e-2, 2e-2):
        zz = r * np.exp(0.7j)
        x = cm.manifold_point(zz)
        v = np.asarray(f(x, p))
        zdot = np.vdot(cm.p, v)  # <p, f>
        # DW(z) zdot for W = x* + 2 Re(q z) + Re(h20 z^2) + h11 |z|^2
        tangent = (2 * np.real(cm.q * zdot) + np.real(2 * cm.h20 * zz * zdot)
                   + 2 * cm.h11 * np.real(np.conj(zz) * zdot))
        errs.append(np.linalg.norm(v - tangent))
    assert errs[1] < errs[0] / 6  # third order: halving r divides the error by ~8


def test_trajectory_decays_onto_the_manifold():
    """The seed's claim: the stable directions decay and the motion lives near the center plane."""
    model = hh.hodgkin_huxley(I=10.0)
    eq = hh.find_equilibria(model)[0]
    cm = hh.center_manifold(eq)
    f, p = model.compile().f, model.param_vector()
    x0 = eq.x + 0.05 * np.real(eq.right_eigenvectors[:, 2]) + 1e-3 * cm.basis[:, 0]
    sol = scipy.integrate.solve_ivp(lambda t, x: np.asarray(f(x, p)), (0, 30), x0,
                                    method="Radau", rtol=1e-10, atol=1e-12, dense_output=True)
    proj = cm.project(sol.sol(np.linspace(0, 30, 61)).T)
    assert proj.distance_to_manifold[-1] < 0.05 * proj.distance_to_manifold[0]
    assert np.abs(proj.z[-1]) > np.abs(proj.z[0])  # the unstable focus spirals out


def test_center_manifold_errors():
    model = hh.fitzhugh_nagumo(a=0.0, b=2.0)
    eq = hh.find_equilibria(model)[1]  # middle equilibrium of the bistable case: a saddle
    assert eq.stability == "saddle"
    with pytest.raises(ValueError, match="no complex eigenvalue pair"):
        hh.center_manifold(eq)
    with pytest.raises(ValueError, match="Equilibrium"):
        hh.center_manifold(model)
    eq_hh = hh.find_equilibria(hh.hodgkin_huxley(I=10.0))[0]
    cm = hh.center_manifold(eq_hh)
    with pytest.raises(ValueError, match="columns"):
        cm.project(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="tol"):
        hh.center_manifold(eq_hh, tol=-1.0)
