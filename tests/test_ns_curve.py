r"""Curves of torus (Neimark–Sacker) bifurcations of cycles against closed forms.

The Langford system (W. F. Langford, in *Nonlinear Dynamics and Turbulence*, Pitman 1983;
Kuznetsov, *Elements of Applied Bifurcation Theory*, 3rd ed., §9.5)

.. math::
    \dot x = (z - \beta)x - \omega y,\quad \dot y = \omega x + (z - \beta)y,\quad
    \dot z = \lambda + \alpha z - z^3/3 - (x^2 + y^2)(1 + \rho z)

is symmetric under rotations of (x, y): its cycle is the circle of radius
:math:`r^2 = (\lambda + \alpha\beta - \beta^3/3)/(1 + \rho\beta)` at :math:`z = \beta`, period
:math:`2\pi/\omega`, and its non-trivial multipliers are :math:`e^{2\pi\nu/\omega}`,
:math:`\nu` the eigenvalues of the planar (r, z) system's Jacobian
:math:`\begin{pmatrix}0 & r\\ -2r(1 + \rho\beta) & \alpha - \beta^2 - \rho r^2\end{pmatrix}`.
So the torus bifurcation is where its trace vanishes, a straight line in (alpha, lam), and
:math:`\cos\theta = \cos(2\pi\sqrt{2r^2(1 + \rho\beta)}/\omega)` there: every number below
comes from these formulas, not from the code under test.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import hhanalysis as hh
from hhanalysis import ODEModel, Parameter, StateVariable
from hhanalysis.continuation.results import Status

BETA, OMEGA, RHO = 0.7, 3.5, 0.25
BOUNDS = {"alpha": (-0.5, 2.0), "lam": (0.0, 1.5)}


def langford() -> ODEModel:
    x, y, z = sp.symbols("x y z")
    al, lam, be, om, rho = sp.symbols("alpha lam beta omega rho")
    return ODEModel(
        name="Langford",
        states=tuple(StateVariable(s, "1", "", bounds=(-3.0, 3.0)) for s in "xyz"),
        parameters=(Parameter("alpha", 0.0), Parameter("lam", 0.6), Parameter("beta", BETA),
                    Parameter("omega", OMEGA), Parameter("rho", RHO)),
        rhs=((z - be) * x - om * y, om * x + (z - be) * y,
             lam + al * z - z**3 / 3 - (x**2 + y**2) * (1 + rho * z)),
        time_unit="s")


def r2(alpha, lam):
    return (lam + alpha * BETA - BETA**3 / 3) / (1 + RHO * BETA)


def ns_lam(alpha):
    """The torus curve: alpha - beta^2 - rho r^2 = 0, solved for lam."""
    return (alpha - BETA**2) * (1 + RHO * BETA) / RHO - alpha * BETA + BETA**3 / 3


def kappa(alpha, lam):
    return np.cos(2 * np.pi * np.sqrt(2 * r2(alpha, lam) * (1 + RHO * BETA)) / OMEGA)


@pytest.fixture(scope="module")
def model():
    return langford()


@pytest.fixture(scope="module")
def branch(model):
    hopf = hh.continue_equilibria(model, "alpha", -1.5, 1.5).hopf_points[0]
    return hh.continue_cycles(model, hopf, (-1.5, 1.5), collocation=hh.Collocation(ntst=20))


@pytest.fixture(scope="module")
def curve(model, branch):
    return hh.continue_ns(model, branch, ("alpha", "lam"), BOUNDS,
                          user_points={"lam": [0.3, 1.0]})


def test_torus_point_on_the_cycle_branch(branch):
    (ns,) = [s for s in branch.special_points if s.kind == "ns"]
    lam = 0.6
    # alpha - beta^2 - rho r^2(alpha, 0.6) = 0 is linear in alpha
    exact = (BETA**2 + RHO * (lam - BETA**3 / 3) / (1 + RHO * BETA)) / (
        1 - RHO * BETA / (1 + RHO * BETA))
    assert ns.param == pytest.approx(exact, abs=1e-6)


def test_ns_curve_is_the_closed_form_line(curve):
    assert curve.kind == "ns" and curve.status is Status.REACHED_BOUND
    alpha, lam = curve.values.T
    np.testing.assert_allclose(lam, ns_lam(alpha), atol=1e-7)
    np.testing.assert_allclose(curve.kappa, kappa(alpha, lam), atol=1e-7)
    np.testing.assert_allclose(curve.period, 2 * np.pi / OMEGA, rtol=1e-9)
    # the curve runs from lam = 0 to 1.5, each end located on its bound
    assert sorted(curve.values[[0, -1], 1]) == pytest.approx([0.0, 1.5], abs=1e-9)


def test_user_points_and_strong_resonances(curve):
    uz = sorted((s.params["lam"], s.params["alpha"]) for s in curve.special_points
                if s.kind == "uz")
    assert len(uz) == 2
    for lam, alpha in uz:
        assert ns_lam(alpha) == pytest.approx(lam, abs=1e-7)
    # R4 (theta = pi/2) and R3 (theta = 2 pi/3): r^2 from the rotation number, then the line
    res = {s.kind: s for s in curve.special_points if s.kind in ("r3", "r4")}
    assert set(res) == {"r3", "r4"}
    for kind, frac in (("r4", 0.25), ("r3", 1.0 / 3.0)):
        rr = (OMEGA * frac) ** 2 / (2 * (1 + RHO * BETA))  # sqrt(2 r^2 (1 + rho beta)) = w frac
        # alpha - beta^2 - rho rr = 0 on the torus curve
        assert res[kind].params["alpha"] == pytest.approx(BETA**2 + RHO * rr, abs=1e-7)
        assert res[kind].status is Status.CONVERGED


def test_continue_ns_needs_an_ns_start(model, branch):
    with pytest.raises(ValueError, match="NS point"):
        hh.continue_ns(model, (branch, 3), ("alpha", "lam"), BOUNDS)
    with pytest.raises(ValueError, match="outside its bounds"):
        hh.continue_ns(model, branch, ("alpha", "lam"), {"lam": (0.7, 1.0)})
