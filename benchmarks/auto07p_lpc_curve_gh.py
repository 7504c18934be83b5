"""AUTO-07p's curve of folds of cycles (LPC) born at the lower generalised Hopf point of the
brainpy preset's (I, gK) plane: reference.

The Hopf curve of the brainpy preset in (I, gK) has two generalised Hopf (GH) points (AUTO-07p:
(62.6799, 57.08696) and (54.3376, 9.52024), tests/data/auto07p_hopf_curve_IgK_brainpy.json).
benchmarks/auto07p_lpc_curve.py computes the LPC curve that ends at the upper one; this script
computes the one born at the lower one, which bounds the thin bistable strip below the lower,
subcritical branch of the Hopf curve. At gK = GK_START (just below the GH point) the equilibrium
branch in I has one Hopf point in I in [30, 70] (I ~ 52.46, subcritical); AUTO-07p follows its
cycles to their fold (LP1, I ~ 52.48), generates the LPC starting data and continues the LPC
curve both ways in (I, gK) (IPS = 2, ISW = 2, ICP = [I, gK, period]; NTST = 100, NCOL = 4,
EPSL = EPSU = 1e-10, DS = +-0.01, DSMAX = 0.5, UZSTOP I in [-10, 200], gK in [0, 60]) with the
user points UZR = {gK: GK_VALUES}, which AUTO locates exactly; the same three runs as
benchmarks/auto07p_lpc_curve.py.

``python benchmarks/auto07p_lpc_curve_gh.py --write`` writes
``tests/data/auto07p_lpc_curve_gh_IgK_brainpy.json`` (the user points with I and the period,
AUTO's labelled points, and the last points of both runs: towards the GH point, where AUTO's
corrector stops as the orbits shrink, and towards the homoclinic end); without ``--write`` it
prints AUTO's user points next to those of ``hh.two_parameter_diagram(..., cycles=True)``'s
curve from the lower GH point.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import hhanalysis as hh

sys.path.insert(0, str(Path(__file__).parent))
import _auto07p  # noqa: E402
from auto07p_lpc_curve import CONSTANTS, labelled  # noqa: E402

GK_START = 9.3
GK_VALUES = [4.0, 6.0, 8.0, 9.0, 9.4, 9.5]
OUT = Path(__file__).parent.parent / "tests" / "data" / "auto07p_lpc_curve_gh_IgK_brainpy.json"
WINDOW = {"I": (-10.0, 200.0), "gK": (0.0, 60.0)}


def auto_runs():
    """AUTO's runs: ``(the LP start (label, I), [run towards larger gK, run towards smaller
    gK])``, both with the user points."""
    m = hh.hodgkin_huxley("brainpy").with_params(gK=GK_START, I=30.0)
    am = _auto07p.AutoModel(m, hh.find_equilibria(m, I=30.0).x[0], "I")
    try:
        r1 = am.run(_auto07p.equilibrium_constants(0.01, 30, 70))
        hb = [(lab, i) for ty, lab, i, _ in r1.points if ty == 3]
        if len(hb) != 1:
            raise RuntimeError(f"expected one Hopf point in I in [30, 70], AUTO found {hb}")
        r2 = am.run(_auto07p.periodic_constants(hb[0][0], "LP1"), restart=r1.solutions)
        lp = [(lab, i) for ty, lab, i, _ in r2.points if ty == 5][0]
        r3 = am.run(CONSTANTS.format(irs=lp[0], ds=0.01, uzr="").replace("5: [0, 80]",
                                                                          "5: [0, 60]"),
                    restart=r2.solutions)
        ep = [lab for _, lab, _, _ in r3.points if lab > 0][-1]
        uzr = f"UZR = {{5: {GK_VALUES}}}"
        runs = [am.run(CONSTANTS.format(irs=ep, ds=ds, uzr=uzr).replace("5: [0, 80]",
                                                                        "5: [0, 60]"),
                       restart=r3.solutions) for ds in (0.01, -0.01)]
        return lp, runs
    finally:
        am.cleanup()


def reference(lp, runs) -> dict:
    user, special, ends = [], [], []
    for name, run in zip(("ds=+0.01", "ds=-0.01"), runs):
        for ty, i, vmax, gk, period in labelled(run):
            row = {"type": ty, "run": name, "I": i, "gK": gk, "period": period, "max_V": vmax}
            (user if ty == "UZ" else special).append(row)
        last = run.points[-1]
        ends.append({"run": name, "points": len(run.points), "I": last[2], "gK": last[3][4],
                     "period": last[3][5], "max_V": last[3][0]})
    return {
        "preset": "brainpy",
        "tool": {"name": "AUTO-07p", "version": "0.9.2 (Debian package auto-07p "
                                                "0.9.2+dfsg-3+b3)"},
        "note": ("produced by benchmarks/auto07p_lpc_curve_gh.py --write: AUTO-07p two-parameter "
                 "continuation (IPS=2, ISW=2, ICP=[I, gK, 11]) of the fold of cycles of the "
                 f"brainpy preset at gK={GK_START} born at its Hopf point near I=52.46 (the "
                 "LPC curve of the lower generalised Hopf point), NTST=100, NCOL=4, "
                 "EPSL=EPSU=1e-10; user_points: located by AUTO (UZR on gK); special_points: "
                 "AUTO's labels (MX: no convergence, EP: end point); ends: the last b-file "
                 "point of each run (not located)"),
        "gK_start": GK_START,
        "lpc_start_I": lp[1],
        "user_points": user,
        "special_points": special,
        "ends": ends,
    }


def main():
    lp, runs = auto_runs()
    ref = reference(lp, runs)
    if "--write" in sys.argv:
        OUT.write_text(json.dumps(ref, indent=1) + "\n")
        print(f"wrote {OUT}")
        return
    print(json.dumps(ref, indent=1))
    d = hh.two_parameter_diagram(hh.hodgkin_huxley("brainpy"), ("I", "gK"), WINDOW,
                                 cycles=True, regimes=False, grid=(0, 0),
                                 user_points={"gK": GK_VALUES})
    for c in d.lpc_curves:
        for s in c.points("uz"):
            near = [r for r in ref["user_points"] if abs(r["gK"] - s.params["gK"]) < 1e-6
                    and abs(r["I"] - s.params["I"]) < 1e-2]
            if near:
                print(f"gK={s.params['gK']:.10g}: I ours {s.params['I']:.10g}, AUTO "
                      f"{near[0]['I']:.10g} (rel {s.params['I'] / near[0]['I'] - 1:.2e}), "
                      f"period ours {s.data.period:.10g}, AUTO {near[0]['period']:.10g}")


if __name__ == "__main__":
    main()
