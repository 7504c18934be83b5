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
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model = hodgkin_huxley()
    print("Hodgkin-Huxley model (hhanalysis), V in mV, t in ms, I in uA/cm^2")
    print(model.equations())
    for preset in HH_PRESETS:
        m = hodgkin_huxley(preset=preset)
        _print_equilibria(m, f"preset {preset!r} (gL = {m.defaults['gL']:g} mS/cm^2)")
    (out / "equations.tex").write_text(model.latex() + "\n")
    print(f"\nwrote {out / 'equations.tex'}")
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
