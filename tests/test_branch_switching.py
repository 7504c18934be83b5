"""Branch points of equilibria: location and switching to the other branch.

Two models whose branches are known in closed form: a pitchfork (x' = lam x - x^3,
y' = x^2 - y: the branches x = 0 and x^2 = lam, y = lam) and a transcritical bifurcation
(x' = lam x - x^2, y' = x - y: the branches x = y = 0 and x = y = lam), both with the branch
point at lam = 0, x = y = 0.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import hhanalysis as hh
from hhanalysis import ODEModel, Parameter, StateVariable
from hhanalysis.continuation.results import BranchPointData, SpecialPoint, Status


def planar(name, fx, fy):
    x, y, lam = sp.symbols("x y lam")
    env = {"x": x, "y": y, "lam": lam}
    return ODEModel(name=name, states=(StateVariable("x", bounds=(-2.0, 2.0)),
                                       StateVariable("y", bounds=(-2.0, 2.0))),
                    parameters=(Parameter("lam", 0.0),), rhs=(eval(fx, env), eval(fy, env)))


@pytest.fixture(scope="module")
def pitchfork():
    return planar("pitchfork", "lam * x - x**3", "x**2 - y")


@pytest.fixture(scope="module")
def transcritical():
    return planar("transcritical", "lam * x - x**2", "x - y")


def _bp(branch) -> SpecialPoint:
    (bp,) = [s for s in branch.special_points if s.kind == "bp"]
    return bp


def test_pitchfork_located_and_the_other_branch_followed(pitchfork):
    trivial = hh.continue_equilibria(pitchfork, "lam", -1.0, 1.0)
    bp = _bp(trivial)
    assert bp.status is Status.CONVERGED and abs(bp.param) < 1e-12
    assert np.abs(bp.state).max() < 1e-12 and isinstance(bp.data, BranchPointData)
    other = hh.continue_equilibria(pitchfork, "lam", bp, 1.0)
    assert other.status is Status.REACHED_BOUND and other.param[-1] == pytest.approx(1.0)
    x, y = other.x.T
    np.testing.assert_allclose(x**2, other.param, atol=1e-12)
    np.testing.assert_allclose(y, other.param, atol=1e-12)
    assert np.abs(x[1:]).min() > 0  # off the trivial branch from its second point on
    assert not [s for s in other.special_points if s.index == 0]  # the start is no new point


@pytest.mark.parametrize("stop", [1.0, -1.0])
def test_transcritical_other_branch_both_ways(transcritical, stop):
    # equilibria at lam = -1: x = -1 and x = 0 (in order of x): start on the trivial one
    trivial = hh.continue_equilibria(transcritical, "lam", -1.0, 1.0, equilibrium=1)
    np.testing.assert_allclose(trivial.x[:3], 0.0, atol=1e-14)
    other = hh.continue_equilibria(transcritical, "lam", _bp(trivial), stop)
    assert other.param[-1] == pytest.approx(stop)
    np.testing.assert_allclose(other.x[:, 0], other.param, atol=1e-12)
    np.testing.assert_allclose(other.x[:, 1], other.param, atol=1e-12)
    # stability: x = lam is stable for lam > 0 (f_x = lam - 2x = -lam), unstable below
    assert np.all(other.stable[1:] == (other.param[1:] > 0))


def test_branch_point_records_round_trip(transcritical):
    bp = _bp(hh.continue_equilibria(transcritical, "lam", -1.0, 1.0, equilibrium=1))
    back = SpecialPoint.from_json(bp.to_json())
    np.testing.assert_array_equal(back.data.tangent, bp.data.tangent)
    assert back.period is None


def test_switching_needs_a_branch_point(pitchfork):
    trivial = hh.continue_equilibria(pitchfork, "lam", -1.0, 1.0)
    bp = _bp(trivial)
    fake = SpecialPoint("fold", 0, 0.0, np.zeros(2), Status.CONVERGED, 0.0)
    with pytest.raises(ValueError, match="branch point"):
        hh.continue_equilibria(pitchfork, "lam", fake, 1.0)
    with pytest.raises(ValueError, match="stop"):
        hh.continue_equilibria(pitchfork, "lam", bp, 0.0)
