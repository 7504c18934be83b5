"""AUTO-07p's curve of folds of cycles (LPC) of the brainpy preset in (I, gK): reference and timing.

The LPC of the cycle branch from the lower Hopf point (I ~ 3.4033 at gK = 36) is continued in
(I, gK) by AUTO-07p (IPS = 2, ISW = 2, ICP = [I, gK, period]; NTST = 100, NCOL = 4,
EPSL = EPSU = 1e-10, DS = +-0.01, DSMAX = 0.5, UZSTOP I in [-10, 200], gK in [0, 80]),
in three runs as AUTO-07p requires: the Hopf -> LP periodic run, the generation of the
LPC starting data (it stops at an EP after a few points), then the curve both ways from that EP.
The curve is run twice: as is (the timing, AUTO's special points and its turns), and with
the user points UZR = {gK: GK_VALUES}, located exactly by AUTO (with UZR, AUTO's corrector stops
(MX) earlier on the upper branch).

``python benchmarks/auto07p_lpc_curve.py --write`` writes
``tests/data/auto07p_lpc_curve_IgK_brainpy.json`` (the located user points with I and the
period, AUTO's special points, its turning points in I from the b-file, and the extent of the
curve); without ``--write`` it prints AUTO's timing next to hhanalysis' ``continue_lpc`` of the
same curve (warm, median of 3).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import hhanalysis as hh

sys.path.insert(0, str(Path(__file__).parent))
import _auto07p  # noqa: E402
from _table import Table  # noqa: E402

GK_VALUES = [12.0, 20.0, 30.0, 40.0, 45.0, 50.0, 55.0, 58.0]
OUT = Path(__file__).parent.parent / "tests" / "data" / "auto07p_lpc_curve_IgK_brainpy.json"

CONSTANTS = """NDIM= 4, IPS = 2, IRS = {irs}, ILP = 1
ICP = [1, 5, 11]
NTST= 100, NCOL= 4, IAD = 3, ISP = 2, ISW = 2, IPLT= 0, NBC= 0, NINT= 0
NMX= 3000, NPR= 0, MXBF= 10, IID = 2, ITMX= 8, ITNW= 7, NWTN= 3, JAC= 1
EPSL= 1e-10, EPSU = 1e-10, EPSS = 1e-05
DS = {ds}, DSMIN= 1e-06, DSMAX= 0.5, IADS= 1
NPAR = 15, THL = {{11: 0}}, THU = {{}}
UZSTOP = {{1: [-10, 200], 5: [0, 80]}}
{uzr}"""


def auto_lpc_curve():
    """AUTO's runs; returns ``(seconds of the two curve runs, the LP start, [points per run])``
    with points ``(type code, label, I, [max V, max m, max h, max n, gK, period])``."""
    m = hh.hodgkin_huxley("brainpy")
    am = _auto07p.AutoModel(m, hh.find_equilibria(m, I=0.0).x[0], "I")
    try:
        r1 = am.run(_auto07p.equilibrium_constants(0.01, -10, 260))
        hb = [lab for ty, lab, _, _ in r1.points if ty == 3][0]
        r2 = am.run(_auto07p.periodic_constants(hb, "LP1"), restart=r1.solutions)
        lp = [(lab, i) for ty, lab, i, _ in r2.points if ty == 5][0]
        r3 = am.run(CONSTANTS.format(irs=lp[0], ds=0.01, uzr=""), restart=r2.solutions)
        ep = [lab for _, lab, _, _ in r3.points if lab > 0][-1]
        runs = [am.run(CONSTANTS.format(irs=ep, ds=ds, uzr=uzr), restart=r3.solutions)
                for uzr in ("", f"UZR = {{5: {GK_VALUES}}}") for ds in (0.01, -0.01)]
        return sum(r.seconds for r in runs[:2]), lp[1], runs
    finally:
        am.cleanup()


def labelled(run):
    """AUTO's labelled points: ``(type name as printed, I, max V, gK, period)``, the numbers
    from the b-file (10 digits; the printout has 6)."""
    names = {}
    for line in run.stdout.splitlines():
        f = line.split()
        if len(f) == 12 and f[0].isdigit() and f[2].isalnum() and f[3].isdigit():
            names[int(f[3])] = f[2]
    return [(names[lab], i, v[0], v[4], v[5]) for _, lab, i, v in run.points if lab in names]


def reference(lp_I, runs) -> dict:
    def row(ty, i, vmax, gk, period, run):
        return {"type": ty, "run": run, "I": i, "gK": gk, "period": period, "max_V": vmax}

    user, special, turns, extent = [], [], [], []
    names = ("ds=+0.01", "ds=-0.01", "ds=+0.01 with UZR", "ds=-0.01 with UZR")
    for name, run in zip(names, runs):
        for ty, i, vmax, gk, period in labelled(run):
            (user if ty == "UZ" else special).append(row(ty, i, vmax, gk, period, name))
        pts = run.points
        I = np.array([p[2] for p in pts])
        dI = np.diff(I)
        for k in np.flatnonzero(np.sign(dI[:-1]) * np.sign(dI[1:]) < 0):
            turns.append(row("", pts[k + 1][2], pts[k + 1][3][0], pts[k + 1][3][4],
                             pts[k + 1][3][5], name))
        extent.append({"run": name, "points": len(pts), "I_range": [float(I.min()),
                                                                     float(I.max())]})
    return {
        "preset": "brainpy",
        "tool": {"name": "AUTO-07p", "version": "0.9.2 (Debian package auto-07p "
                                                "0.9.2+dfsg-3+b3)"},
        "note": ("produced by benchmarks/auto07p_lpc_curve.py --write: AUTO-07p two-parameter "
                 "continuation (IPS=2, ISW=2, ICP=[I, gK, 11]) of the fold of cycles of the "
                 "brainpy preset born at the lower Hopf point, NTST=100, NCOL=4, EPSL=EPSU=1e-10;"
                 " user_points: located by AUTO (UZR on gK); special_points: AUTO's labels "
                 "(R1: 1:1 resonance, MX: no convergence); turns_in_I: b-file points where I "
                 "turns (not located: accurate to the step)"),
        "lpc_start_I_at_gK36": lp_I,
        "user_points": user,
        "special_points": special,
        "turns_in_I": turns,
        "runs": extent,
    }


def ours(repeats: int = 3):
    m = hh.hodgkin_huxley("brainpy")
    br = hh.continue_equilibria(m, "I", 0.0, 20.0)
    lpc = hh.lpc_point(m, "I", hh.continue_cycles(m, br.hopf_points[0], (0, 20)))
    bounds = {"I": (-10.0, 200.0), "gK": (0.0, 80.0)}
    t = time.perf_counter()
    curve = hh.continue_lpc(m, lpc, ("I", "gK"), bounds)
    cold = time.perf_counter() - t
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        curve = hh.continue_lpc(m, lpc, ("I", "gK"), bounds)
        times.append(time.perf_counter() - t)
    return cold, statistics.median(times), curve


def main():
    auto_s, lp_I, runs = auto_lpc_curve()
    if "--write" in sys.argv:
        OUT.write_text(json.dumps(reference(lp_I, runs), indent=1) + "\n")
        print(f"wrote {OUT}")
        return
    cold, warm, curve = ours()
    table = Table([("curve", "s"), ("ours first call s", ".2f"), ("ours warm s", ".3f"),
                   ("AUTO s", ".3f"), ("warm/AUTO", ".2f"), ("pts ours", "d"),
                   ("pts AUTO", "d")])
    table.header()
    table.row("LPC (I, gK) brainpy", cold, warm, auto_s, warm / auto_s, len(curve),
              sum(len(r.points) for r in runs[:2]))
    print(curve)


if __name__ == "__main__":
    main()
