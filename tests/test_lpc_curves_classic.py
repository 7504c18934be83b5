"""The curves of folds of cycles (LPC) of the classic preset in (I, T) against AUTO-07p.

Reference: tests/data/auto07p_lpc_curves_IT_classic.json, written by
``benchmarks/auto07p_lpc_curves_IT_classic.py --write`` (AUTO-07p 0.9.2, IPS=2, ISW=2,
ICP=[I, T, 11], NTST=100, NCOL=4, EPSL=EPSU=1e-10): the three folds of the cycle branch born at
the lower Hopf point at T = 6.3, the curve through the first two (a cusp of cycles near
T = 7.72, both arms ending on T = 0) and the curve through the third (from T = 0 to the
generalised Hopf point of the Hopf curve), with AUTO's located user points (UZR on T), its
turning points (LP) and the GH point of its Hopf-curve run.

``two_parameter_diagram(cycles=True)`` finds its LPC curves with
:func:`hhanalysis.continuation.two_parameter._lpc_curves` (called here directly: the Hopf
curve of the whole diagram is tested elsewhere); the user points are those of
``hh.continue_lpc`` from the same starts.
"""

from __future__ import annotations

import json
from pathlib import Path

import jax
import numpy as np
import pytest

import hhanalysis as hh
from hhanalysis.continuation.results import Status
from hhanalysis.continuation.two_parameter import _lpc_curves

REF = json.loads((Path(__file__).parent / "data" /
                  "auto07p_lpc_curves_IT_classic.json").read_text())
BOX = {"I": (-10.0, 200.0), "T": (0.0, 35.0)}


def _auto(kind, curve, **match):
    return [p for p in REF[kind] if p["curve"] == curve
            and all(p[k] == v for k, v in match.items())]


@pytest.fixture(scope="module")
def model():
    return hh.hodgkin_huxley("classic")


@pytest.fixture(scope="module")
def branch(model):
    """The cycle branch from the lower Hopf point at T = 6.3, up to I = 20 (past its folds)."""
    hopf = hh.continue_equilibria(model, "I", 0.0, 20.0).hopf_points[0]
    return hh.continue_cycles(model, hopf, (0.0, 20.0))


@pytest.fixture(scope="module")
def curves(model):
    """The LPC curves of the diagram's slice T = 6.3: (cusp curve, main curve)."""
    with jax.enable_x64(True):
        found = _lpc_curves(model, ("I", "T"), BOX, 6.3, np.array([210.0, 35.0]))
    return tuple(sorted(found, key=lambda c: c.values[:, 0].max()))


def test_folds_of_the_cycle_branch_agree_with_auto(branch):
    lps = branch.lpc_points
    assert [s.status for s in lps] == [Status.CONVERGED] * 3
    for s, ref in zip(lps, REF["lps_at_T6.3"]):
        assert s.param == pytest.approx(ref["I"], rel=1e-8)
        assert s.data.period == pytest.approx(ref["period"], rel=1e-6)


def test_two_curves_with_their_ends(curves):
    """Two LPC curves cross the window; the cusp curve ends on T = 0 with both arms, the main
    one on T = 0 and at the GH point (the orbits shrink there), as AUTO-07p's runs end."""
    assert len(curves) == 2
    cusp, main = curves
    stops = {r["run"]: r["last"] for r in REF["runs"]}
    for curve, runs in ((cusp, ("LP1 ds=-0.01", "LP2 ds=+0.01")), (main, ("LP3 ds=-0.01",))):
        ends = [i for i, s in enumerate(curve.stops) if s.status is Status.REACHED_BOUND]
        assert len(ends) == len(runs)
        for run in runs:  # AUTO's stop on T = 0 (UZSTOP: T within 1e-5 of the bound)
            I = [curve.values[0 if i == 0 else -1, 0] for i in ends]
            j = int(np.argmin([abs(v - stops[run]["I"]) for v in I]))
            assert I[j] == pytest.approx(stops[run]["I"], rel=1e-6)
            assert curve.values[0 if ends[j] == 0 else -1, 1] == pytest.approx(0.0, abs=1e-12)
    gh, = [p for p in REF["hopf_codim2"] if p["type"] == "GH"]
    assert main.stops[1].status is Status.RETURNED_TO_HOPF
    assert main.values[-1, 0] == pytest.approx(gh["I"], abs=0.5)
    assert main.values[-1, 1] == pytest.approx(gh["T"], abs=0.01)
    assert main.values[:, 1].max() <= gh["T"]
    assert not main.codim2_points


def test_cusp_of_cycles_and_turn_in_I_agree_with_auto(curves):
    """AUTO-07p labels LP where the curve turns in I: at the cusp (where it turns in T too,
    the highest point of the cusp curve) and at the minimum of I just below it."""
    cusp, _ = curves
    cpc, = cusp.points("cpc")
    lp_runs = _auto("special_points", "cusp", type="LP")
    at_cusp = [p for p in lp_runs if p["T"] > 7.7]
    assert len(at_cusp) == 3
    assert cpc.status is Status.CONVERGED
    for p in at_cusp:
        assert cpc.params["I"] == pytest.approx(p["I"], rel=1e-8)
        assert cpc.params["T"] == pytest.approx(p["T"], rel=1e-7)
    assert cusp.values[:, 1].max() < cpc.params["T"]  # the tip of the cusp curve
    turn, = [p for p in lp_runs if p["T"] < 7.7]
    lp, = cusp.points("lp")
    assert lp.data.param_name == "I" and lp.data.extremum == "min"
    assert lp.params["I"] == pytest.approx(turn["I"], rel=1e-8)
    assert lp.params["T"] == pytest.approx(turn["T"], rel=1e-6)


@pytest.mark.parametrize("which", ["cusp", "main"])
def test_user_points_agree_with_auto(model, branch, which):
    """The curve through LP1 (cusp) or LP3 (main) with user points at AUTO's located T
    values (AUTO locates them to ~1e-6 in T: ours are at its values, to ~1e-9)."""
    refs = []
    for p in _auto("user_points", which):  # the points AUTO's runs share, once
        if p["T"] > 1e-3 and not any(abs(p["T"] - q["T"]) < 1e-7 and abs(p["I"] - q["I"])
                                     < 1e-6 for q in refs):
            refs.append(p)
    start = branch.lpc_points[0 if which == "cusp" else 2]
    curve = hh.continue_lpc(model, start, ("I", "T"), BOX,
                            user_points={"T": sorted({p["T"] for p in refs})})
    ours = curve.points("uz")
    for ref in refs:
        near = [s for s in ours if abs(s.params["T"] - ref["T"]) < 1e-7
                and abs(s.params["I"] - ref["I"]) < 1e-4]
        assert len(near) == 1, ref
        s = near[0]
        assert s.status is Status.CONVERGED
        assert s.params["I"] == pytest.approx(ref["I"], rel=1e-7)
        assert s.data.period == pytest.approx(ref["period"], rel=1e-6)
