"""AUTO-07p's curves of folds of cycles (LPC) of the classic preset in (I, T): reference.

At the preset's own temperature (T = 6.3 degC) the cycle branch born at the lower, subcritical
Hopf point (I ~ 9.7754) has three folds: LP1 (I ~ 7.8423) and LP2 (I ~ 7.9178), on one LPC
curve (the two arms of a cusp of cycles near T = 7.72), and LP3 (I ~ 6.2603), on the LPC curve
that ends at the generalised Hopf point of the Hopf curve (T ~ 28.85). AUTO-07p continues each
curve in (I, T) from LP1 and LP3 (IPS = 2, ISW = 2, ICP = [I, T, period]; NTST = 100, NCOL = 4,
EPSL = EPSU = 1e-10, DS = +-0.01, DSMAX = 0.5, UZSTOP I in [-10, 200], T in [0, 35]), in the
three runs AUTO-07p requires (as benchmarks/auto07p_lpc_curve.py does for the brainpy (I, gK)
plane): the Hopf -> LP3 periodic run, the generation of the LPC starting data from each LP (it
stops at an EP after a few points), then the curve both ways from that EP, with the user points
UZR = {T: T_VALUES}, which AUTO locates exactly. The Hopf curve in (I, T) from the lower Hopf
point (IPS = 1, ISW = 2, ICP = [I, T], EPSS = 1e-5) gives the generalised Hopf (GH) point where
the second curve ends.

``python benchmarks/auto07p_lpc_curves_IT_classic.py --write`` writes
``tests/data/auto07p_lpc_curves_IT_classic.json``; without ``--write`` it prints AUTO's points
next to those of ``hh.two_parameter_diagram(..., cycles=True)``'s LPC curves.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

import hhanalysis as hh

sys.path.insert(0, str(Path(__file__).parent))
import _auto07p  # noqa: E402

T_VALUES = [1.0, 3.0, 5.0, 6.3, 7.0, 7.5, 10.0, 15.0, 20.0, 25.0, 28.0]
BOUNDS = {"I": (-10.0, 200.0), "T": (0.0, 35.0)}
OUT = Path(__file__).parent.parent / "tests" / "data" / "auto07p_lpc_curves_IT_classic.json"

# PAR(1) = I, PAR(10) = T (the model's parameters after I, in order), PAR(11) = the period
LPC = """NDIM= 4, IPS = 2, IRS = {irs}, ILP = 1
ICP = [1, 10, 11]
NTST= 100, NCOL= 4, IAD = 3, ISP = 2, ISW = 2, IPLT= 0, NBC= 0, NINT= 0
NMX= 3000, NPR= 0, MXBF= 10, IID = 2, ITMX= 8, ITNW= 7, NWTN= 3, JAC= 1
EPSL= 1e-10, EPSU = 1e-10, EPSS = 1e-05
DS = {ds}, DSMIN= 1e-06, DSMAX= 0.5, IADS= 1
NPAR = 15, THL = {{11: 0}}, THU = {{}}
UZSTOP = {{1: [-10, 200], 10: [0, 35]}}
{uzr}"""

HOPF = """NDIM= 4, IPS = 1, IRS = {irs}, ILP = 1
ICP = [1, 10]
NTST= 100, NCOL= 4, IAD = 3, ISP = 2, ISW = 2, IPLT= 0, NBC= 0, NINT= 0
NMX= 3000, NPR= 0, MXBF= 10, IID = 2, ITMX= 8, ITNW= 7, NWTN= 3, JAC= 1
EPSL= 1e-10, EPSU = 1e-10, EPSS = 1e-05
DS = {ds}, DSMIN= 1e-06, DSMAX= 0.5, IADS= 1
NPAR = 15, THL = {{}}, THU = {{}}
UZSTOP = {{1: [-10, 200], 10: [0, 35]}}
"""


def labelled(run):
    """AUTO's labelled points: ``(type name as printed, I, max V or V, T, period or None)``,
    the numbers from the b-file (10 digits; the printout has 6)."""
    names = {}
    for line in run.stdout.splitlines():
        f = line.split()
        if len(f) >= 11 and f[0].isdigit() and f[2].isalnum() and f[3].isdigit():
            names[int(f[3])] = f[2]
    return [(names[lab], i, v[0], v[4], v[5] if len(v) > 5 else None)
            for _, lab, i, v in run.points if lab in names]


def auto_runs():
    """AUTO's runs: ``(LP points [(label, I, period)], {curve: [(name, run)]}, Hopf runs)``."""
    m = hh.hodgkin_huxley("classic")
    am = _auto07p.AutoModel(m, hh.find_equilibria(m, I=0.0).x[0], "I")
    try:
        r1 = am.run(_auto07p.equilibrium_constants(0.01, -10, 260))
        hb = [lab for ty, lab, _, _ in r1.points if ty == 3][0]
        hopf = [am.run(HOPF.format(irs=hb, ds=ds), restart=r1.solutions) for ds in (0.01, -0.01)]
        r2 = am.run(_auto07p.periodic_constants(hb, "LP3"), restart=r1.solutions)
        lps = [(lab, i, v[-1]) for ty, lab, i, v in r2.points if ty == 5]
        curves = {"cusp": [], "main": []}
        for name, k in (("cusp", 0), ("cusp", 1), ("main", 2)):
            r3 = am.run(LPC.format(irs=lps[k][0], ds=0.01, uzr=""), restart=r2.solutions)
            ep = [lb for _, lb, _, _ in r3.points if lb > 0][-1]
            curves[name] += [(f"LP{k + 1} ds={ds:+g}",
                              am.run(LPC.format(irs=ep, ds=ds, uzr=f"UZR = {{10: {T_VALUES}}}"),
                                     restart=r3.solutions))
                             for ds in (0.01, -0.01)]
            if k == 0:  # with UZR AUTO stops (MX) just past the cusp: the run without them
                curves[name].append((f"LP{k + 1} ds=+0.01 without UZR", am.run(
                    LPC.format(irs=ep, ds=0.01, uzr=""), restart=r3.solutions)))
        return lps, curves, hopf
    finally:
        am.cleanup()


def reference(lps, curves, hopf) -> dict:
    user, special, turns, extent = [], [], [], []
    for curve, runs in curves.items():
        for run_name, run in runs:
            for ty, i, vmax, t, period in labelled(run):
                row = {"curve": curve, "run": run_name, "type": ty, "I": i, "T": t,
                       "period": period, "max_V": vmax}
                (user if ty == "UZ" else special).append(row)
            pts = run.points
            T = np.array([p[3][4] for p in pts])
            dT = np.diff(T)
            for k in np.flatnonzero(np.sign(dT[:-1]) * np.sign(dT[1:]) < 0):
                turns.append({"curve": curve, "run": run_name, "I": pts[k + 1][2],
                              "T": pts[k + 1][3][4], "period": pts[k + 1][3][5]})
            I = np.array([p[2] for p in pts])
            extent.append({"curve": curve, "run": run_name, "points": len(pts),
                           "I_range": [float(I.min()), float(I.max())],
                           "T_range": [float(T.min()), float(T.max())],
                           "last": {"I": float(I[-1]), "T": float(T[-1])}})
    codim2 = []
    for k, run in enumerate(hopf):
        for ty, i, _, t, _ in labelled(run):
            if ty in ("GH", "BT", "ZH", "HH"):
                codim2.append({"type": ty, "run": ("ds=+0.01", "ds=-0.01")[k], "I": i, "T": t})
    return {
        "preset": "classic",
        "tool": {"name": "AUTO-07p", "version": "0.9.2 (Debian package auto-07p "
                                                "0.9.2+dfsg-3+b3)"},
        "note": ("produced by benchmarks/auto07p_lpc_curves_IT_classic.py --write: AUTO-07p "
                 "two-parameter continuation (IPS=2, ISW=2, ICP=[I, T, 11]) of the folds of "
                 "cycles of the classic preset's cycle branch born at the lower Hopf point at "
                 "T=6.3: curve 'cusp' from LP1 and from LP2 (its two arms), curve 'main' "
                 "from LP3, each both ways (DS=+-0.01; from LP1 also once without UZR, which "
                 "AUTO's corrector passes the cusp with), "
                 "NTST=100, NCOL=4, EPSL=EPSU=1e-10, UZSTOP I in [-10, 200], T in [0, 35]. "
                 "user_points: located by AUTO (UZR on T; the UZ points at T=0 are the stops "
                 "on the bound); special_points: AUTO's labels (LP: the curve turns, in I or "
                 "at a cusp of the curve in the plane; MX: no convergence); turns_in_T: b-file "
                 "points where T turns (not located: accurate to the step); hopf_codim2: the "
                 "codim-2 points AUTO located on the Hopf curve in (I, T) from the lower Hopf "
                 "point (IPS=1, ISW=2, ICP=[I, T], EPSS=1e-5)"),
        "lps_at_T6.3": [{"label": lab, "I": i, "period": period} for lab, i, period in lps],
        "user_points": user,
        "special_points": special,
        "turns_in_T": turns,
        "runs": extent,
        "hopf_codim2": codim2,
    }


def main():
    ref = reference(*auto_runs())
    if "--write" in sys.argv:
        OUT.write_text(json.dumps(ref, indent=1) + "\n")
        print(f"wrote {OUT}")
        return
    m = hh.hodgkin_huxley("classic")
    d = hh.two_parameter_diagram(m, ("I", "T"), BOUNDS, cycles=True, grid=(0, 0))
    for c in d.lpc_curves:
        print(c)
    for p in ref["user_points"] + ref["special_points"]:
        print(p)
    print(ref["hopf_codim2"])


if __name__ == "__main__":
    main()
