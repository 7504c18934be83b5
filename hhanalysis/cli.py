"""Command line: ``hhanalysis`` / ``python -m hhanalysis``.

Subcommands:

* ``reproduce --out DIR`` — the main job: the model's equations, the equilibria at I = 0 of both
  presets with their eigenvalues, and every documentation figure available so far, into DIR.
* ``equilibria [--preset P] [--set NAME=VALUE ...]`` — table of equilibria with eigenvalues.

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
    try:
        return hodgkin_huxley(preset=args.preset, **_parse_sets(args.set))
    except ValueError as e:
        raise _UsageError(str(e)) from None


def _print_equilibria(model, title: str) -> None:
    eqs = _eq.find_equilibria(model)
    print(f"\n{title}: {len(eqs)} equilibrium(s) at I = {model.defaults['I']:g} uA/cm^2")
    print(eqs)


def cmd_reproduce(args) -> int:
    from . import figures

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
            print(f"{preset:<8} {h.param:14.8f} {h.state[0]:10.4f} {h.omega:15.10f} "
                  f"{1000 * h.omega / (2 * np.pi):8.2f} {h.l1:+12.5e}  {h.criticality}")
    written.append(figures.figure_eigenvalues(out, branches=branches["branches"])["path"])
    cmf = figures.figure_center_manifold(out)
    written.append(cmf["path"])
    print(f"\ncenter manifold (brainpy, I=10): l1 = {cmf['l1']:+.5e}; distance to the quadratic "
          f"manifold {cmf['manifold_distance_start']:.3g} at t=0 -> "
          f"{cmf['manifold_distance_min']:.3g} within 10 ms")
    ex1 = figures.figure_seed_example_1(out)
    ex2 = figures.figure_seed_example_2(out)
    written += [ex1["path"], ex2["path"]]
    print(f"\nseed example 1: {ex1['spikes']} spikes in 200 ms, tonic rate "
          f"{ex1['rate_Hz']:.1f} Hz; seed example 2: spikes at "
          + "; ".join(", ".join(f"{t:.0f}" for t in ts) + " ms" for ts in ex2["spike_times"]))
    print("\nwrote:")
    for path in written:
        print(f"  {path}")
    return 0


def cmd_equilibria(args) -> int:
    model = _model(args)
    _print_equilibria(model, f"preset {args.preset!r}")
    return 0


def _parser() -> argparse.ArgumentParser:
    class Parser(argparse.ArgumentParser):
        def error(self, message):
            raise _UsageError(message)

    parser = Parser(prog="hhanalysis", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    p = sub.add_parser("reproduce", help="reproduce the documentation figures and summary")
    p.add_argument("--out", default="figures", help="output directory (default: figures)")
    p.set_defaults(func=cmd_reproduce)
    p = sub.add_parser("equilibria", help="equilibria with eigenvalues and stability")
    p.add_argument("--preset", default="brainpy", choices=list(HH_PRESETS))
    p.add_argument("--set", nargs="*", metavar="NAME=VALUE", help="parameter values, e.g. I=10")
    p.set_defaults(func=cmd_equilibria)
    return parser


def main(argv: list[str] | None = None) -> int:
    np.set_printoptions(precision=6, suppress=False)
    try:
        args = _parser().parse_args(argv)
        return args.func(args)
    except _UsageError as e:
        print(f"hhanalysis: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
