"""Curves of folds of cycles (LPC) in two parameters against AUTO-07p (``two_parameter_diagram
(cycles=True)``, which continues the same curve, is checked by notebooks/06_two_parameter.ipynb).

Reference: tests/data/auto07p_lpc_curve_IgK_brainpy.json, written by
``benchmarks/auto07p_lpc_curve.py --write`` (AUTO-07p 0.9.2, IPS=2, ISW=2, ICP=[I, gK, 11],
NTST=100, NCOL=4, EPSL=EPSU=1e-10): the LPC curve of the brainpy preset born at the lower Hopf
point, with AUTO's located user points (UZR on gK), its R1 points and the b-file points where
the curve turns in I (step-accurate, not located). The generalised-Hopf point where the curve
ends is AUTO's too (shared/reference, copied in tests/data/auto07p_hopf_curve_IgK_brainpy.json).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import hhanalysis as hh
from hhanalysis.continuation.results import Status

DATA = Path(__file__).parent / "data"
REF = json.loads((DATA / "auto07p_lpc_curve_IgK_brainpy.json").read_text())
BOUNDS = {"I": (-10.0, 200.0), "gK": (11.0, 80.0)}  # AUTO's user points: gK >= 12


@pytest.fixture(scope="module")
def model():
    return hh.hodgkin_huxley("brainpy")


@pytest.fixture(scope="module")
def lpc(model):
    hopf = hh.continue_equilibria(model, "I", 0.0, 10.0).hopf_points[0]
    return hh.lpc_point(model, "I", hh.continue_cycles(model, hopf, (0.0, 10.0)))


@pytest.fixture(scope="module")
def curve(model, lpc):
    gk = sorted({p["gK"] for p in REF["user_points"]})
    return hh.continue_lpc(model, lpc, ("I", "gK"), BOUNDS, user_points={"gK": gk})


def test_start_is_auto_lp(lpc):
    assert lpc.param == pytest.approx(REF["lpc_start_I_at_gK36"], rel=1e-8)


def test_user_points_agree_with_auto(curve):
    ours = curve.points("uz")
    for ref in REF["user_points"]:
        near = [s for s in ours if abs(s.params["gK"] - ref["gK"]) < 1e-6
                and abs(s.params["I"] - ref["I"]) < 1e-3]
        assert len(near) == 1, ref
        s = near[0]
        assert s.status is Status.CONVERGED
        assert s.params["I"] == pytest.approx(ref["I"], rel=1e-7, abs=1e-8)
        assert s.data.period == pytest.approx(ref["period"], rel=1e-6)  # the meshes differ


def test_r1_points_agree_with_auto(curve):
    ours = curve.points("r1")
    refs = [p for p in REF["special_points"] if p["type"] == "R1"]
    assert len(ours) == len(refs) == 2
    for ref in refs:
        s = min(ours, key=lambda s: abs(s.params["I"] - ref["I"]))
        assert s.status is Status.CONVERGED
        assert s.params["I"] == pytest.approx(ref["I"], rel=1e-6)
        assert s.params["gK"] == pytest.approx(ref["gK"], rel=1e-6)
        assert s.data.period == pytest.approx(ref["period"], rel=1e-6)


def test_cusps_of_cycles_where_auto_turns(curve):
    """AUTO-07p does not locate cusps of cycles; its curve turns in I there (in both
    parameters at once: a cusp of the curve in the plane). AUTO's extreme sampled I values
    bound the located cusps from inside: the maximum from below, the minimum from above."""
    cpc = sorted(curve.points("cpc"), key=lambda s: s.params["I"])
    turns = [t for t in REF["turns_in_I"] if t["run"] == "ds=+0.01"]
    assert len(cpc) == 2 and len(turns) == 2
    low, high = sorted(turns, key=lambda t: t["I"])
    assert low["I"] - 0.01 < cpc[0].params["I"] <= low["I"]
    assert high["I"] <= cpc[1].params["I"] < high["I"] + 0.01
    for s, t in zip(cpc, (low, high)):
        assert s.status is Status.CONVERGED
        assert s.params["gK"] == pytest.approx(t["gK"], abs=0.01)
    # the curve turns in both parameters there: no separate LP records at the cusps
    for s in curve.points("lp"):
        assert min(abs(s.params["I"] - c.params["I"]) for c in cpc) > 1.0


def test_curve_ends_at_the_generalised_hopf_point(curve):
    """The LPC curve of the subcritical Hopf branch is born at the GH point of the Hopf curve
    (AUTO-07p's Hopf-curve run, I = 62.6799, gK = 57.08696): the orbits shrink there."""
    gh = [p for p in json.loads((DATA / "auto07p_hopf_curve_IgK_brainpy.json").read_text())
          ["codim2_points_IgK"] if p["type"] == "GH" and p["gK"] > 50][0]
    assert curve.stops[1].status is Status.RETURNED_TO_HOPF
    end = curve.values[-1]
    assert end[0] == pytest.approx(gh["I"], abs=0.5)
    assert end[1] == pytest.approx(gh["gK"], abs=0.05)
    amplitude = curve.x_max[:, 0] - curve.x_min[:, 0]
    assert amplitude[-1] < 0.05 * amplitude.max()


def test_bad_arguments(model, lpc):
    with pytest.raises(ValueError, match="fold's parameter 'I'"):
        hh.continue_lpc(model, lpc, ("gK", "gNa"))
    with pytest.raises(ValueError, match="params must be two different"):
        hh.continue_lpc(model, lpc, ("I", "I"))
    with pytest.raises(ValueError, match="start must be an LPC orbit"):
        hh.continue_lpc(model, 3.4, ("I", "gK"))
    with pytest.raises(ValueError, match="outside its bounds"):
        hh.continue_lpc(model, lpc, ("I", "gK"), {"gK": (40.0, 50.0)})



def test_batched_lpc_points_agree_with_auto_user_points(model, lpc):
    """hh.lpc_points: the folds of cycles of several parameter sets in one call (each reached
    from the previous one), at gK values where AUTO-07p located points of the LPC curve."""
    refs = {round(p["gK"]): p for p in REF["user_points"]}
    gk = [30.0, 40.0, 45.0]
    pts = hh.lpc_points(model, "I", lpc, gK=gk)
    assert pts.param.shape == (3,) and bool(pts.converged.all())
    for k, g in enumerate(gk):
        ref = refs[round(g)]
        # AUTO's user point sits up to 5e-8 off the requested gK (dI/dgK ~ 0.6 here)
        assert float(pts.param[k]) == pytest.approx(ref["I"], rel=1e-6)
        assert float(pts.period[k]) == pytest.approx(ref["period"], rel=1e-6)
        assert float(pts.params["gK"][k]) == g


def test_batched_lpc_points_independent_sets_in_vmapped_chunks(model, lpc):
    """warm_start=False: each set from the guess, two sets in one vmapped chunk; AUTO's points."""
    refs = {round(p["gK"]): p for p in REF["user_points"]}
    pts = hh.lpc_points(model, "I", lpc, warm_start=False, batch=2, gK=[40.0, 45.0])
    assert bool(pts.converged.all())
    for k, g in enumerate((40, 45)):
        assert float(pts.param[k]) == pytest.approx(refs[g]["I"], rel=1e-6)


@pytest.mark.parametrize("bad", [0, -2, 1.5, True, "4"])
def test_batched_lpc_points_reject_a_bad_batch(model, lpc, bad):
    with pytest.raises(ValueError, match="batch must be None or a positive integer"):
        hh.lpc_points(model, "I", lpc, warm_start=False, batch=bad, gK=[30.0])


def test_batched_lpc_points_batch_needs_independent_sets(model, lpc):
    with pytest.raises(ValueError, match="pass warm_start=False"):
        hh.lpc_points(model, "I", lpc, batch=4, gK=[30.0])
