"""The curve of folds of cycles (LPC) born at the lower generalised Hopf (GH) point of the brainpy
preset's (I, gK) plane, as ``two_parameter_diagram(cycles=True)`` finds it, against AUTO-07p.

Reference: tests/data/auto07p_lpc_curve_gh_IgK_brainpy.json, written by
``benchmarks/auto07p_lpc_curve_gh.py --write`` (AUTO-07p 0.9.2, IPS=2, ISW=2, ICP=[I, gK, 11],
NTST=100, NCOL=4, EPSL=EPSU=1e-10, started from the fold of the cycles of the subcritical Hopf
point at gK = 9.3): AUTO's located user points (UZR on gK). The GH point is AUTO's too
(tests/data/auto07p_hopf_curve_IgK_brainpy.json).

The window (I in [30, 70], gK in [7, 12.2], one slice at gK = 9.6, above the GH point) is chosen
so that the cycle branch of its slice has no fold: the curve can only come from the GH point.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import hhanalysis as hh
from hhanalysis.continuation.results import Status

DATA = Path(__file__).parent / "data"
REF = json.loads((DATA / "auto07p_lpc_curve_gh_IgK_brainpy.json").read_text())
GH = next(p for p in json.loads((DATA / "auto07p_hopf_curve_IgK_brainpy.json").read_text())
          ["codim2_points_IgK"] if p["type"] == "GH" and p["gK"] < 20)
WINDOW = {"I": (30.0, 70.0), "gK": (7.0, 12.2)}
GK = [8.0, 9.0, 9.4, 9.5]


@pytest.fixture(scope="module")
def diagram():
    return hh.two_parameter_diagram(hh.hodgkin_huxley("brainpy"), ("I", "gK"), WINDOW,
                                    slices=1, grid=(0, 0), regimes=False, cycles=True,
                                    user_points={"gK": GK})


def test_one_lpc_curve_from_the_gh_point(diagram):
    gh = [s for s in diagram.codim2_points if s.kind == "gh"]
    assert len(gh) == 1 and len(diagram.lpc_curves) == 1
    assert gh[0].params["gK"] < 0.5 * sum(WINDOW["gK"])  # not on the slice's cycle branch


def test_user_points_agree_with_auto(diagram):
    """At AUTO's located points (gK = 8 ... 9.5) I and the period agree to 1e-7 relative."""
    curve = diagram.lpc_curves[0]
    ours = curve.points("uz")
    assert len(ours) == len(GK)
    for ref in [r for r in REF["user_points"] if min(abs(r["gK"] - g) for g in GK) < 1e-6]:
        s = min(ours, key=lambda s: abs(s.params["gK"] - ref["gK"]))
        assert s.status is Status.CONVERGED
        assert s.params["gK"] == pytest.approx(ref["gK"], abs=1e-7)  # AUTO's sits ~4e-8 off
        assert s.params["I"] == pytest.approx(ref["I"], rel=1e-7)
        assert s.data.period == pytest.approx(ref["period"], rel=1e-6)  # the meshes differ


def test_curve_ends_at_the_gh_point(diagram):
    """One end reaches the bound gK = 7; at the other the folding orbits shrink onto the
    equilibrium. Close to a GH point the fold's amplitude r obeys r^2 ~ distance along the curve
    (Bautin normal form: r^2 = -l1 / (2 l2), l1 linear along the curve), so I and gK are smooth
    functions of r^2 there: extrapolated to r = 0 from the last three points (the curve ends
    where the orbits have shrunk below a few % of the largest, or where the corrector's steps
    stall as the system degenerates, as AUTO-07p stops with MX, without a cluster of tiny
    steps), they give AUTO's GH point within 1e-5 relative (AUTO's two runs differ by 6e-7; its
    GH is located to EPSS = 1e-5)."""
    c = diagram.lpc_curves[0]
    assert c.stops[0].status is Status.REACHED_BOUND and c.values[0, 1] == 7.0
    assert c.stops[1].status is Status.RETURNED_TO_HOPF
    amp = c.x_max[:, 0] - c.x_min[:, 0]
    assert amp[-1] < 0.05 * amp.max()
    assert np.all(np.linalg.norm(np.diff(c.values[-3:], axis=0), axis=1) > 1e-4)  # no cluster
    end = np.polyfit(amp[-3:] ** 2, c.values[-3:], 2)[-1]
    assert end[0] == pytest.approx(GH["I"], rel=1e-5)
    assert end[1] == pytest.approx(GH["gK"], rel=1e-5)
    # the GH point located on the Hopf curve (another defining system) agrees more closely
    gh = next(s for s in diagram.codim2_points if s.kind == "gh")
    assert end == pytest.approx([gh.params["I"], gh.params["gK"]], rel=1e-6)
    # and the curve's last point lies next to it, as AUTO's last point does (MX, 7e-5 away)
    scale = np.array([GH["I"], GH["gK"]])
    assert np.linalg.norm((c.values[-1] - scale) / scale) < 3e-4


def test_half_of_a_split_jordan_block_is_no_torus_pair():
    """Near the homoclinic end of this curve (period ~100) round-off splits the Jordan block at
    1 of the fold into 0.972 +- 0.235i; with one half removed as the trivial multiplier, the
    other has no conjugate: no complex pair, no fold-torus (LPNS) point. A true pair counts."""
    from hhanalysis.continuation.cycle_curves import _ns_pair
    from hhanalysis.continuation.cycles import _ns_test

    split = np.array([[0.972054032 + 0.2347372j, 3.2e-18, -2.4e-19],
                      [0.995929070 - 0.09372483j, 2.5e-17, -1.0e-18]])
    assert np.all(np.isnan(_ns_pair(split))) and np.all(_ns_test(split) == 1.0)
    pair = np.array([[0.6 + 0.9j, 0.6 - 0.9j, 0.1], [0.5 + 0.8j, 0.5 - 0.8j, 0.1]])
    np.testing.assert_allclose(_ns_pair(pair), np.abs(pair[:, 0]) - 1.0, rtol=1e-12)
