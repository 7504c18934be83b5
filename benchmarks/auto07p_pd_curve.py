"""AUTO-07p's curve of period doublings (PD) of the classic preset in (I, gK): reference and timing.

The first period doubling of the cycle branch from the lower Hopf point (I ~ 7.8453 at gK = 36,
on the unstable segment between the folds of cycles at I ~ 7.842 and 7.918) is continued in
(I, gK) by AUTO-07p (IPS = 2, ISW = 2, ICP = [I, gK, period]; NTST = 100, NCOL = 4,
EPSL = EPSU = 1e-10, DS = +-0.01, DSMAX = 0.5), in three runs as AUTO-07p requires: the Hopf ->
PD periodic run (DSMAX = 0.05: with 0.5 AUTO steps over the PD), the generation of the PD
starting data (it stops at an EP), then the curve both ways from that EP, with the user points
UZR = {gK: GK_VALUES} located. The curve is closed: both runs go most of the way round it
(their extents are recorded), and hhanalysis' ``continue_pd`` goes round it once. (Without
UZR the same AUTO runs stop (MX) after 14 and 32 points, at I = 7.974 and 7.528.)

``python benchmarks/auto07p_pd_curve.py --write`` writes
``tests/data/auto07p_pd_curve_IgK_classic.json`` (the located user points with I and the
period, and the extent of AUTO's runs); without ``--write`` it prints AUTO's timing next to
hhanalysis' ``continue_pd`` of the same curve (warm, median of 3) and the user points of both.
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

GK_VALUES = [35.7, 35.8, 35.9, 36.0, 36.05, 36.1]
OUT = Path(__file__).parent.parent / "tests" / "data" / "auto07p_pd_curve_IgK_classic.json"

CONSTANTS = """NDIM= 4, IPS = 2, IRS = {irs}, ILP = 1
ICP = [1, {gk}, 11]
NTST= 100, NCOL= 4, IAD = 3, ISP = 2, ISW = 2, IPLT= 0, NBC= 0, NINT= 0
NMX= 3000, NPR= 0, MXBF= 10, IID = 2, ITMX= 8, ITNW= 7, NWTN= 3, JAC= 1
EPSL= 1e-10, EPSU = 1e-10, EPSS = 1e-05
DS = {ds}, DSMIN= 1e-06, DSMAX= 0.5, IADS= 1
NPAR = 15, THL = {{11: 0}}, THU = {{}}
UZSTOP = {{1: [-10, 200], {gk}: [0, 80]}}
{uzr}"""


def auto_pd_curve():
    """AUTO's runs; returns ``(seconds of the two curve runs, the PD's I, [run, run])``."""
    m = hh.hodgkin_huxley("classic")
    gk = ["I", *[p for p in m.param_names if p != "I"]].index("gK") + 1
    am = _auto07p.AutoModel(m, hh.find_equilibria(m, I=0.0).x[0], "I")
    try:
        r1 = am.run(_auto07p.equilibrium_constants(0.01, -10, 260))
        hb = [lab for ty, lab, _, _ in r1.points if ty == 3][0]
        r2 = am.run(_auto07p.periodic_constants(hb, "PD1").replace("DSMAX= 0.5", "DSMAX= 0.05")
                    .replace("NMX= 2000", "NMX= 5000"), restart=r1.solutions)
        pd = [(lab, i) for ty, lab, i, _ in r2.points if ty == 7][0]
        r3 = am.run(CONSTANTS.format(irs=pd[0], ds=0.01, uzr="", gk=gk), restart=r2.solutions)
        ep = [lab for _, lab, _, _ in r3.points if lab > 0][-1]
        runs = [am.run(CONSTANTS.format(irs=ep, ds=ds, uzr=f"UZR = {{{gk}: {GK_VALUES}}}",
                                        gk=gk), restart=r3.solutions) for ds in (0.01, -0.01)]
        return sum(r.seconds for r in runs), pd[1], runs
    finally:
        am.cleanup()


def user_points(runs):
    """AUTO's UZ points ``(I, gK, period)`` from the b-file (10 digits)."""
    out = []
    for run in runs:
        names = {}
        for line in run.stdout.splitlines():
            f = line.split()
            if len(f) >= 4 and f[0].isdigit() and f[2] == "UZ" and f[3].isdigit():
                names[int(f[3])] = f[2]
        out += [(i, v[4], v[5]) for _, lab, i, v in run.points if lab in names]
    return sorted(out, key=lambda r: r[1])


def reference(pd_I, runs) -> dict:
    extent = [{"run": name, "points": len(r.points),
               "I_range": [min(p[2] for p in r.points), max(p[2] for p in r.points)]}
              for name, r in zip(("ds=+0.01", "ds=-0.01"), runs)]
    return {
        "preset": "classic",
        "tool": {"name": "AUTO-07p", "version": "0.9.2 (Debian package auto-07p "
                                                "0.9.2+dfsg-3+b3)"},
        "note": ("produced by benchmarks/auto07p_pd_curve.py --write: AUTO-07p two-parameter "
                 "continuation (IPS=2, ISW=2, ICP=[I, gK, 11]) of the first period doubling of "
                 "the classic preset's cycle branch from the lower Hopf point, NTST=100, "
                 "NCOL=4, EPSL=EPSU=1e-10; user_points: located by AUTO (UZR on gK; where "
                 "gK differs from the value asked by more than 1e-8 AUTO's location is that "
                 "inexact); runs: points and extent in I of each direction"),
        "pd_start_I_at_gK36": pd_I,
        "user_points": [{"I": i, "gK": g, "period": t} for i, g, t in user_points(runs)],
        "runs": extent,
    }


def ours(repeats: int = 3):
    m = hh.hodgkin_huxley("classic")
    br = hh.continue_equilibria(m, "I", 0.0, 20.0)
    cycles = hh.continue_cycles(m, br.hopf_points[0], (0, 20))
    bounds = {"I": (-10.0, 200.0), "gK": (0.0, 80.0)}
    t = time.perf_counter()
    curve = hh.continue_pd(m, cycles, ("I", "gK"), bounds, user_points={"gK": GK_VALUES})
    cold = time.perf_counter() - t
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        curve = hh.continue_pd(m, cycles, ("I", "gK"), bounds, user_points={"gK": GK_VALUES})
        times.append(time.perf_counter() - t)
    return cold, statistics.median(times), curve


def main():
    auto_s, pd_I, runs = auto_pd_curve()
    if "--write" in sys.argv:
        OUT.write_text(json.dumps(reference(pd_I, runs), indent=1) + "\n")
        print(f"wrote {OUT}")
        return
    cold, warm, curve = ours()
    table = Table([("curve", "s"), ("ours first call s", ".2f"), ("ours warm s", ".3f"),
                   ("AUTO s", ".3f"), ("pts ours", "d"), ("pts AUTO", "d")])
    table.header()
    table.row("PD (I, gK) classic", cold, warm, auto_s, len(curve),
              sum(len(r.points) for r in runs))
    print(curve)
    for i, g, _ in user_points(runs):
        ours_i = [s.params["I"] for s in curve.special_points
                  if s.kind == "uz" and abs(s.params["gK"] - round(g, 4)) < 1e-9]
        near = min(ours_i, key=lambda x: abs(x - i)) if ours_i else np.nan
        print(f"UZ gK={g}: AUTO I={i:.10g}, ours {near:.10g} (rel {abs(near - i) / i:.1e})")


if __name__ == "__main__":
    main()
