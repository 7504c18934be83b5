"""The figures of docs/models.md: for each library model, its branch of equilibria in I (stability,
folds and Hopf points from hh.continue_equilibria) and its firing rate against I from
hh.trajectory (RK4, dt 0.01 ms; the rate from the last two spikes of a 1 s run).

    PYTHONPATH=. python docs/library_figures.py        # writes docs/img/library_*.png
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import hhanalysis as hh  # noqa: E402
from hhanalysis import library as lib  # noqa: E402
from hhanalysis.plotting import plot_equilibrium_branch  # noqa: E402

OUT = Path(__file__).parent / "img"

# name, model, I range of the branch, currents of the f-I curve, threshold, x0, duration
CASES = [
    ("wang_buzsaki", lib.wang_buzsaki(), (-1.0, 3.0), np.linspace(0.0, 3.0, 31), -20.0,
     [-64.0, 0.78, 0.09], 1000.0),
    ("traub", lib.traub(), (-1.0, 3.0), np.linspace(0.0, 3.0, 31), -20.0,
     [-70.0, 1.0, 0.0], 1000.0),
    ("connor_stevens", lib.connor_stevens(), (-5.0, 20.0), np.linspace(0.0, 20.0, 41), -20.0,
     [-68.0, 0.01, 0.99, 0.16, 0.54, 0.29], 1000.0),
    ("morris_lecar", lib.morris_lecar(), (-20.0, 150.0), np.linspace(0.0, 150.0, 31), -20.0,
     [-40.0, 0.0], 2000.0),
    ("morris_lecar_hopf", lib.morris_lecar("hopf"), (0.0, 300.0),
     np.linspace(50.0, 300.0, 26), -20.0, [-40.0, 0.0], 2000.0),
    ("fitzhugh_nagumo", lib.fitzhugh_nagumo(), (-1.0, 2.5), np.linspace(0.0, 2.0, 21), 1.0,
     [-1.2, -0.6], 2000.0),
]


def rates(model, currents, threshold, x0, duration):
    out = []
    for current in currents:  # one compiled run, reused for every current
        tr = hh.trajectory(model, duration=duration, dt=0.01, method="rk4", nout=1, x0=x0,
                           I=float(current))
        v = tr[model.state_names[0]]
        k = np.nonzero((v[:-1] < threshold) & (v[1:] >= threshold))[0]
        late = k[tr.t[k] > duration / 2]
        out.append(1000.0 / np.diff(tr.t[late])[-1] if len(late) >= 2 else 0.0)
    return np.array(out)


def figure(name, model, span, currents, threshold, x0, duration):
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6), constrained_layout=True)
    branch = hh.continue_equilibria(model, "I", *span)
    first = model.state_names[0]
    params = sorted(p.param for p in branch.special_points)
    crowded = any(b - a_ < 0.03 * (span[1] - span[0]) for a_, b in zip(params, params[1:]))
    plot_equilibrium_branch(branch, variable=first, ax=a, label_points=not crowded)
    if crowded:  # points too close to label one by one: list them
        a.text(0.98, 0.02, "\n".join(f"{p.kind.upper()} I = {p.param:.4f}"
                                     for p in sorted(branch.special_points,
                                                     key=lambda p: p.param)),
               transform=a.transAxes, ha="right", va="bottom", fontsize=8)
    a.margins(x=0.08)  # room for the point labels
    a.set_title(f"{model.name}: equilibria in I", fontsize=10)
    f = rates(model, currents, threshold, x0, duration)
    unit = "Hz" if model.time_unit == "ms" else "1/(1000 time units)"
    b.plot(currents, f, "o-", ms=3)
    for p in branch.special_points:
        b.axvline(p.param, color="0.6", lw=0.8, ls=":")
    b.set_xlabel(a.get_xlabel())  # I with its unit, as on the left
    b.set_ylabel(f"firing rate ({unit})")
    b.set_title("firing rate from hh.trajectory (dotted: folds and Hopf points)", fontsize=10)
    path = OUT / f"library_{name}.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    points = ", ".join(f"{p.kind} I={p.param:.6g}" for p in branch.special_points)
    print(f"{name}: {points}; rate at I={currents[-1]:g}: {f[-1]:.2f}; wrote {path}")


def hindmarsh_rose():
    model = lib.hindmarsh_rose()
    tr = hh.trajectory(model, duration=2000, dt=0.01, nout=10, method="rk4",
                       x0=[-1.6, -12.0, 1.7])
    fig, a = plt.subplots(figsize=(10, 3.2), constrained_layout=True)
    a.plot(tr.t, tr["x"], lw=0.8, label="x")
    a.plot(tr.t, tr["z"], lw=1.2, label="z (slow)")
    a.set_xlabel("t")
    a.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    a.set_title("Hindmarsh-Rose, I = 2, r = 0.001: bursting (hh.trajectory, RK4)", fontsize=10)
    path = OUT / "library_hindmarsh_rose.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"hindmarsh_rose: wrote {path}")


if __name__ == "__main__":
    import sys

    only = set(sys.argv[1:])  # names to redo; all by default
    for case in CASES:
        if not only or case[0] in only:
            figure(*case)
    if not only or "hindmarsh_rose" in only:
        hindmarsh_rose()
