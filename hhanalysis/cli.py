"""Command line: ``hhanalysis`` / ``python -m hhanalysis``.

Subcommands (each has ``--help``):

* ``reproduce --out DIR`` — the main job: every documentation figure into DIR (with the data of
  the bifurcation diagrams as NPZ and CSV) and a printed summary: equilibria at I = 0, Hopf points
  with l1 and criticality, folds of cycles, period doublings, minimum firing rate, bistable range.
* ``bifurcation --param I --range LO HI [--preset P] [--set NAME=VALUE ...] --out FILE`` — the
  bifurcation diagram (PNG, SVG or PDF by extension) plus FILE's stem ``.npz`` and CSV tables.
* ``equilibria [--preset P] [--set NAME=VALUE ...]`` — table of equilibria with eigenvalues.
* ``simulate --duration MS --input I [--size N] [--method M] [--dt MS] --out FILE`` — voltage
  traces of an HH group (BrainPy semantics) plus a CSV of them.
* ``fi-curve --range LO HI [--preset P] [--set ...] --out FILE`` — firing frequency of the
  Hopf-born cycles against I, with the bistable range and the minimum rate, plus a CSV.

Invalid arguments print one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from . import equilibria as _eq
from .models import HH_PRESETS, hodgkin_huxley

__all__ = ["main"]


class _UsageError(Exception):
    pass


def _parse_sets(items: list[str]) -> dict[str, float]:
    out = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise _UsageError(f"--set expects NAME=VALUE, got {item!r}")
        try:
            out[name] = float(value)
        except ValueError:
            raise _UsageError(f"--set {name}: {value!r} is not a number") from None
    return out


def _model(args):
    """The model of a subcommand: ``--model FILE.ode`` or a library name, else HH with
    ``--preset``; ``--set`` values applied."""
    try:
        if getattr(args, "model", None):
            from .ode import resolve_model

            model = resolve_model(args.model, **_parse_sets(args.set))
            if model.time and getattr(args, "func", None) is not cmd_simulate:
                raise _UsageError(f"--model {args.model}: the equations depend on time "
                                  f"{model.time!r}; this analysis needs an autonomous model "
                                  "(simulate runs it)")
            return model
        return hodgkin_huxley(preset=args.preset, **_parse_sets(args.set))
    except ValueError as e:
        raise _UsageError(str(e)) from None


def _print_equilibria(model, title: str) -> None:
    eqs = _eq.find_equilibria(model)
    at = f" at I = {model.defaults['I']:g} uA/cm^2" if "I" in model.defaults else ""
    print(f"\n{title}: {len(eqs)} equilibrium(s){at}")
    print(eqs)


def _summary(diags: dict) -> None:
    print("\nBifurcation diagrams (I from -10 to 200 uA/cm^2, cycles by collocation NTST=100, "
          "NCOL=4):")
    print(f"{'preset':<8} {'point':<5} {'I (uA/cm^2)':>14} {'period (ms)':>12} {'f (Hz)':>8}  "
          "remark")
    for preset, d in diags.items():
        for h in d.hopf_points:
            print(f"{preset:<8} {'H':<5} {h.param:14.8f} {h.period:12.6f} "
                  f"{1000 / h.period:8.2f}  l1={h.data.l1:+.4e} ({h.data.criticality})")
        for b in d.cycles:
            for sp in b.special_points:
                mu = sp.data.floquet_multipliers
                print(f"{preset:<8} {sp.kind.upper():<5} {sp.param:14.8f} {sp.period:12.6f} "
                      f"{1000 / sp.period:8.2f}  max|mu|={np.abs(mu).max():.4g}")
        fmin = d.minimum_frequency
        ranges = ", ".join(f"[{a:.4f}, {b:.4f}]" for a, b in d.bistable_ranges())
        print(f"{preset:<8} minimum firing rate {fmin[1]:.2f} Hz at I = {fmin[0]:.6f}; "
              f"bistable (rest and spiking) for I in {ranges}")
        for b in d.cycles:
            print(f"{preset:<8} cycle branch: {len(b)} orbits; {b.stop_reason}")


def cmd_reproduce(args) -> int:
    import time

    from . import figures

    t0 = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model = hodgkin_huxley()
    print("Hodgkin-Huxley model (hhanalysis), V in mV, t in ms, I in uA/cm^2")
    print(model.equations())
    for preset in HH_PRESETS:
        m = hodgkin_huxley(preset=preset)
        _print_equilibria(m, f"preset {preset!r} (gL = {m.defaults['gL']:g} mS/cm^2)")
    (out / "equations.tex").write_text(model.latex() + "\n")
    written = [out / "equations.tex"]
    branches = figures.figure_equilibrium_branches(out)
    written.append(branches["path"])
    print("\nHopf points (continuation of equilibria in I, located by Newton):")
    print(f"{'preset':<8} {'I (uA/cm^2)':>14} {'V (mV)':>10} {'omega (rad/ms)':>15} "
          f"{'f (Hz)':>8} {'l1':>12}  criticality")
    for preset, branch in branches["branches"].items():
        for h in branch.hopf_points:
            d = h.data
            print(f"{preset:<8} {h.param:14.8f} {h.state[0]:10.4f} {d.omega:15.10f} "
                  f"{1000 * d.omega / (2 * np.pi):8.2f} {d.l1:+12.5e}  {d.criticality}")
    written.append(figures.figure_eigenvalues(out, branches=branches["branches"])["path"])
    diags = figures.diagrams(progress=args.progress)
    _summary(diags)
    written.append(figures.figure_bifurcation_diagrams(out, diags)["path"])
    written.append(figures.figure_fi_curve(out, diags)["path"])
    written.append(figures.figure_limit_cycles(out, diags)["path"])
    hyst = figures.figure_hysteresis(out, diags)
    written.append(hyst["path"])
    print(f"\nhysteresis (classic, slow ramp 4 -> 13 -> 4 uA/cm^2): spiking starts at I = "
          f"{hyst['onset_I']:.3f} on the way up (Hopf {hyst['hopf_I']:.3f}, delayed by the slow "
          f"passage) and stops at I = {hyst['offset_I']:.3f} on the way down (fold of cycles "
          f"{hyst['lpc_I']:.3f})")
    cmf = figures.figure_center_manifold(out)
    written.append(cmf["path"])
    print(f"\ncenter manifold (brainpy, I=10): l1 = {cmf['l1']:+.5e}; distance to the quadratic "
          f"manifold {cmf['manifold_distance_start']:.3g} at t=0 -> "
          f"{cmf['manifold_distance_min']:.3g} within 10 ms")
    fit = figures.figure_fit(out)
    written.append(fit["path"])
    r = fit["result"]
    print(f"\nfit (classic, hh.fit over hopf_point and lpc_point): gK = {r.params['gK']:.6f}, "
          f"gNa = {r.params['gNa']:.6f} after {r.steps} steps (|residual| "
          f"{np.max(np.abs(r.residuals)):.1e}); the diagram at these values has its lower "
          f"Hopf point at I = {fit['hopf_I']:.8f} and its minimum rate "
          f"{fit['minimum_rate'][1]:.6f} Hz (targets 12 and 60)")
    ex1 = figures.figure_seed_example_1(out)
    ex2 = figures.figure_seed_example_2(out)
    written += [ex1["path"], ex2["path"]]
    print(f"\nseed example 1: {ex1['spikes']} spikes in 200 ms, tonic rate "
          f"{ex1['rate_Hz']:.1f} Hz; seed example 2: spikes at "
          + "; ".join(", ".join(f"{t:.0f}" for t in ts) + " ms" for ts in ex2["spike_times"]))
    print("\nwrote:")
    for path in written:
        print(f"  {path}")
    print(f"(data of the diagrams: {out}/bifurcation_*.npz and CSV tables in "
          f"{out}/bifurcation_*/; {time.perf_counter() - t0:.1f} s)")
    return 0


def cmd_equilibria(args) -> int:
    model = _model(args)
    _print_equilibria(model, model.name if args.model else f"preset {args.preset!r}")
    return 0


_FIGURE_TYPES = (".png", ".svg", ".pdf")


def _figure_path(value: str) -> Path:
    path = Path(value)
    if path.suffix.lower() not in _FIGURE_TYPES:
        raise _UsageError(f"--out {value!r}: the file type must be one of "
                          f"{', '.join(_FIGURE_TYPES)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _range(values) -> tuple[float, float]:
    lo, hi = values
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise _UsageError(f"--range {lo:g} {hi:g}: need finite LO < HI")
    return lo, hi


def _title(model) -> str:
    return model.name + (f", preset {model.preset!r}" if model.preset else "")


def _diagram(args):
    from .continuation import bifurcation_diagram

    model = _model(args)
    param = getattr(args, "param", "I")
    try:
        model.check_param_names([param], "--param")
        # a .ode file's AUTO options (ds, dsmax, nmax, ntst, parmin/parmax) are the defaults
        from .ode import auto_settings

        auto = auto_settings(model) if args.model else {}
        bounds = args.range if args.range is not None else auto.pop("bounds", (-10.0, 200.0))
        auto.pop("bounds", None)
        return bifurcation_diagram(model, param, _range(bounds), progress=args.progress, **auto)
    except ValueError as e:
        raise _UsageError(str(e)) from None


def cmd_bifurcation(args) -> int:
    import matplotlib.pyplot as plt

    from .plotting import plot_bifurcation_diagram

    path = _figure_path(args.out)
    d = _diagram(args)
    print(d)
    ax = plot_bifurcation_diagram(d, variable=args.variable,
                                  title=_title(d.model))
    ax.figure.savefig(path, dpi=130)
    plt.close(ax.figure)
    data = d.save(path.with_suffix(".npz"))
    tables = d.to_csv(path.parent / f"{path.stem}_tables")
    print(f"wrote {path}, {data} and {len(tables)} CSV tables in {tables[0].parent}")
    return 0


def cmd_fi_curve(args) -> int:
    import csv

    import matplotlib.pyplot as plt

    from .plotting import plot_frequency_curve

    path = _figure_path(args.out)
    d = _diagram(args)
    ax = plot_frequency_curve(d, title=_title(d.model))
    ax.figure.savefig(path, dpi=130)
    plt.close(ax.figure)
    table = path.with_suffix(".csv")
    with open(table, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([d.param_name, "frequency_Hz", "period_ms", "stable"])
        for b in d.cycles:
            for k in range(len(b)):
                w.writerow([b.param[k], b.frequency[k], b.period[k], bool(b.stable[k])])
    fmin = d.minimum_frequency
    print(f"minimum firing rate {fmin[1]:.3f} Hz at {d.param_name} = {fmin[0]:.6f}; bistable "
          f"for {d.param_name} in "
          + ", ".join(f"[{a:.6f}, {b:.6f}]" for a, b in d.bistable_ranges()))
    print(f"wrote {path} and {table}")
    return 0


def cmd_simulate(args) -> int:
    import csv

    import matplotlib.pyplot as plt

    from .simulate import HH, DSRunner, spike_times
    from .simulate.rng import random as global_random

    path = _figure_path(args.out)
    if not args.duration > 0:
        raise _UsageError(f"--duration must be > 0 ms, got {args.duration:g}")
    if args.model:
        return _simulate_model(args, path)
    model = _model(args)  # the preset with --set applied (names and values validated)
    kw = {k: model.defaults[k] for k in ("ENa", "gNa", "EK", "gK", "EL", "gL", "V_th", "C")}
    global_random.seed(args.seed)
    try:
        group = HH(args.size, method=args.method, **kw)
        runner = DSRunner(group, monitors=["V"], inputs=("input", args.input), dt=args.dt,
                          progress_bar=args.progress)
        runner.run(args.duration)
    except ValueError as e:
        raise _UsageError(str(e)) from None
    ts, V = np.asarray(runner.mon.ts), np.asarray(runner.mon.V)
    fig, ax = plt.subplots(figsize=(9, 3.6), constrained_layout=True)
    for k in range(min(V.shape[1], 10)):
        ax.plot(ts, V[:, k], lw=1, label=f"neuron {k}")
    ax.set_xlabel("t (ms)")
    ax.set_ylabel("V (mV)")
    ax.set_title(f"HH({args.size}), preset {args.preset!r}, input {args.input:g} µA/cm², "
                 f"{args.method}, dt = {args.dt:g} ms", fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    fig.savefig(path, dpi=130)
    plt.close(fig)
    table = path.with_suffix(".csv")
    with open(table, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["t_ms", *[f"V{k}_mV" for k in range(V.shape[1])]])
        w.writerows(np.column_stack([ts, V]).tolist())
    counts = [len(t) for t in spike_times(ts, V, kw["V_th"])]
    print(f"spikes per neuron: {counts}; wrote {path} and {table}")
    return 0


def _simulate_model(args, path: Path) -> int:
    """``simulate --model``: one trajectory (hh.trajectory; RK4 unless --method names one of
    its methods) with the parameter I set to --input if the model has one."""
    import csv

    import matplotlib.pyplot as plt

    from .trajectory import trajectory

    model = _model(args)
    method = "rk4" if args.method == "exp_auto" else args.method  # exp_auto: HH groups only
    params = {"I": args.input} if "I" in model.param_names else {}
    try:
        tr = trajectory(model, duration=args.duration, dt=args.dt, method=method, **params)
    except ValueError as e:
        raise _UsageError(str(e)) from None
    name = model.state_names[0]
    fig, ax = plt.subplots(figsize=(9, 3.6), constrained_layout=True)
    ax.plot(tr.t, tr[name], lw=1)
    ax.set_xlabel(f"t ({model.time_unit})")
    ax.set_ylabel(name)
    ax.set_title(f"{model.name}, {method}, dt = {args.dt:g}"
                 + (f", I = {args.input:g}" if params else ""), fontsize=10)
    fig.savefig(path, dpi=130)
    plt.close(fig)
    table = path.with_suffix(".csv")
    with open(table, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(list(tr.names))
        w.writerows(np.column_stack([tr.t, tr.states, tr.aux]).tolist())
    print(f"wrote {path} and {table}")
    return 0


def _parser() -> argparse.ArgumentParser:
    class Parser(argparse.ArgumentParser):
        def error(self, message):
            raise _UsageError(message)

    parser = Parser(prog="hhanalysis", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    p = sub.add_parser("reproduce", help="reproduce the documentation figures and summary")
    p.add_argument("--out", default="figures", help="output directory (default: figures)")
    p.add_argument("--progress", action="store_true", help="progress bars")
    p.set_defaults(func=cmd_reproduce)

    def model_args(p):
        p.add_argument("--model", default=None, metavar="FILE.ode|NAME",
                       help="an XPPAUT .ode file or a library model (wang_buzsaki, "
                            "morris_lecar, ...; see hhanalysis.library); default: HH")
        p.add_argument("--preset", default="brainpy", choices=list(HH_PRESETS),
                       help="parameter preset of HH (default: brainpy, the seed's defaults)")
        p.add_argument("--set", nargs="*", metavar="NAME=VALUE",
                       help="parameter values, e.g. gK=30 T=10")

    p = sub.add_parser("equilibria", help="equilibria with eigenvalues and stability")
    model_args(p)
    p.set_defaults(func=cmd_equilibria)
    p = sub.add_parser("bifurcation", help="bifurcation diagram (equilibria and cycles)")
    p.add_argument("--param", default="I", help="bifurcation parameter (default: I)")
    p.add_argument("--range", nargs=2, type=float, default=None, metavar=("LO", "HI"),
                   help="parameter range (default: the .ode file's parmin/parmax, else -10 200)")
    p.add_argument("--variable", default="V", help="state on the vertical axis (default: V)")
    model_args(p)
    p.add_argument("--out", default="diagram.png", help="figure file (.png, .svg or .pdf)")
    p.add_argument("--no-progress", dest="progress", action="store_false")
    p.set_defaults(func=cmd_bifurcation)
    p = sub.add_parser("fi-curve", help="firing frequency against I from the cycle branches")
    p.add_argument("--range", nargs=2, type=float, default=None, metavar=("LO", "HI"),
                   help="parameter range (default: the .ode file's parmin/parmax, else -10 200)")
    model_args(p)
    p.add_argument("--out", default="fi.png", help="figure file (.png, .svg or .pdf)")
    p.add_argument("--no-progress", dest="progress", action="store_false")
    p.set_defaults(func=cmd_fi_curve)
    p = sub.add_parser("simulate", help="simulate an HH group with a constant input")
    p.add_argument("--duration", type=float, default=200.0, help="ms (default 200)")
    p.add_argument("--input", type=float, default=10.0, help="µA/cm² (default 10)")
    p.add_argument("--size", type=int, default=2, help="number of neurons (default 2)")
    p.add_argument("--method", default="exp_auto",
                   help="integrator: exp_auto, euler, rk2, rk4, dopri5, kvaerno5")
    p.add_argument("--dt", type=float, default=0.01, help="time step in ms (default 0.01)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random initial V")
    model_args(p)
    p.add_argument("--out", default="trace.png", help="figure file (.png, .svg or .pdf)")
    p.add_argument("--no-progress", dest="progress", action="store_false")
    p.set_defaults(func=cmd_simulate)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line. It only writes figure files, so it selects matplotlib's
    non-interactive Agg backend first (the library modules never choose a backend)."""
    import matplotlib

    matplotlib.use("Agg")
    np.set_printoptions(precision=6, suppress=False)
    try:
        args = _parser().parse_args(argv)
        return args.func(args)
    except _UsageError as e:
        print(f"hhanalysis: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
