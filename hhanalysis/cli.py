"""Command line: ``hhanalysis`` / ``python -m hhanalysis``.

Subcommands (each has ``--help``):

* ``reproduce --out DIR`` — the main job: every documentation figure into DIR (with the data of
  the bifurcation diagrams as NPZ and CSV) and a printed summary: equilibria at I = 0, Hopf points
  with l1 and criticality, folds of cycles, period doublings, minimum firing rate, bistable range.
* ``bifurcation --param I --range LO HI [--preset P] [--set NAME=VALUE ...] --out FILE`` — the
  bifurcation diagram (PNG, SVG or PDF by extension) plus FILE's stem ``.npz`` and CSV tables.
* ``equilibria [--preset P] [--set NAME=VALUE ...]`` — table of equilibria with eigenvalues.
* ``simulate --duration MS --input I [--size N] [--method M] [--dt MS] --out FILE`` — voltage
  traces of an HH group (BrainPy semantics): a figure and the traces file (NPZ, CSV or Parquet
  by extension), streamed to disk as the run goes.
* ``fi-curve --range LO HI [--preset P] [--set ...] --out FILE`` — firing frequency of the
  Hopf-born cycles against I, with the bistable range and the minimum rate, plus a CSV.

Invalid arguments print one line and exit with status 2 before anything is computed; a
computation that fails (a numerical failure, a full disk) prints one line and exits with status 1.
Files are written whole or not at all (a temporary file renamed onto the target), so a failed
command leaves no partial output. The heavy modules (JAX, sympy, matplotlib) are imported only by
the command that needs them, so ``--help`` answers at once.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

__all__ = ["main"]

#: The presets of :func:`hhanalysis.hodgkin_huxley` (``list(HH_PRESETS)``; a test keeps them in
#: step), named here so that ``--help`` does not import sympy.
_PRESETS = ("brainpy", "classic")
#: Largest group whose spike counts are printed one per neuron.
_LIST_LIMIT = 20


class _UsageError(Exception):
    pass


def _np():
    import numpy as np

    return np


def _pyplot():
    """pyplot with the non-interactive Agg backend: the command line only writes files (the
    library modules never choose a backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


class _Outputs:
    """The files of one command: each is written to a temporary path first and renamed onto its
    target by :meth:`commit` (or removed if the command fails), so a failure leaves nothing
    half-written."""

    def __init__(self):
        self._stack = contextlib.ExitStack()

    def __enter__(self):
        self._stack.__enter__()
        return self

    def __exit__(self, *exc):
        return self._stack.__exit__(*exc)

    def file(self, path) -> Path:
        from ._files import atomic_path

        return self._stack.enter_context(atomic_path(path))

    def scratch(self, path, suffix: str) -> Path:
        """A temporary file beside ``path`` (whose directory exists), removed at the end."""
        import os
        import tempfile

        fd, tmp = tempfile.mkstemp(dir=Path(path).parent, prefix=f".{Path(path).name}.",
                                   suffix=suffix)
        os.close(fd)
        self._stack.callback(Path(tmp).unlink, missing_ok=True)
        return Path(tmp)


def _out_path(value: str, types=(".png", ".svg", ".pdf"), option: str = "--out") -> Path:
    """``value`` as an output file: a known type, in a directory that can be written."""
    from ._files import writable_directory

    path = Path(value)
    if path.suffix.lower() not in types:
        raise _UsageError(f"{option} {value!r}: the file type must be one of {', '.join(types)}")
    if path.is_dir():
        raise _UsageError(f"{option} {value!r} is a directory; give a file name")
    problem = writable_directory(path.parent)
    if problem:
        raise _UsageError(f"{option} {value!r}: {problem}")
    return path


def _out_dir(value: str, option: str = "--out") -> Path:
    from ._files import writable_directory

    path = Path(value)
    if path.exists() and not path.is_dir():
        raise _UsageError(f"{option} {value!r} is a file; give a directory")
    problem = writable_directory(path)
    if problem:
        raise _UsageError(f"{option} {value!r}: {problem}")
    return path


def _positive_int(text: str) -> int:
    """argparse type of the counts (--size, --slices, ...): an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {value}")
    return value


def _parse_sets(items: list[str]) -> dict[str, float]:
    import math

    out = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise _UsageError(f"--set expects NAME=VALUE, got {item!r}")
        try:
            out[name] = float(value)
        except ValueError:
            raise _UsageError(f"--set {name}: {value!r} is not a number") from None
        if not math.isfinite(out[name]):
            raise _UsageError(f"--set {name}: {value!r} is not a finite number")
    return out


def _model(args):
    """The model of a subcommand: ``--model FILE.ode`` or a library model, else HH with
    ``--preset``; ``--set`` values applied (names and values validated)."""
    if getattr(args, "model", None):
        from .ode import resolve_model

        try:
            model = resolve_model(args.model, **_parse_sets(args.set))
        except (ValueError, OSError) as e:
            raise _UsageError(f"--model {args.model}: {e}") from None
        if model.time and getattr(args, "func", None) is not cmd_simulate:
            raise _UsageError(f"--model {args.model}: the equations depend on time "
                              f"{model.time!r}; this analysis needs an autonomous model "
                              "(simulate runs it)")
        return model
    from .models import hodgkin_huxley

    try:
        return hodgkin_huxley(preset=args.preset, nonphysical=args.allow_nonphysical,
                              **_parse_sets(args.set))
    except ValueError as e:
        raise _UsageError(f"--set: {e}") from None


def _model_title(model) -> str:
    return model.name + (f", preset {model.preset!r}" if model.preset else "")


def _fixed_values(args) -> str:
    """The ``--set`` values for a title: ``, gK=30, T=10`` (empty without ``--set``)."""
    return "".join(f", {k}={v:g}" for k, v in _parse_sets(args.set).items())


def _print_equilibria(model, title: str) -> None:
    from .equilibria import find_equilibria

    eqs = find_equilibria(model)
    at = f" at I = {model.defaults['I']:g} uA/cm^2" if "I" in model.defaults else ""
    print(f"\n{title}: {len(eqs)} equilibrium(s){at}")
    print(eqs)


def _summary(diags: dict) -> None:
    np = _np()
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

    _pyplot()  # the Agg backend before figures imports pyplot
    from . import figures
    from .models import HH_PRESETS, hodgkin_huxley

    np = _np()
    t0 = time.perf_counter()
    out = _out_dir(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model = hodgkin_huxley()
    print("Hodgkin-Huxley model (hhanalysis), V in mV, t in ms, I in uA/cm^2")
    print(model.equations())
    for preset in HH_PRESETS:
        m = hodgkin_huxley(preset=preset)
        _print_equilibria(m, f"preset {preset!r} (gL = {m.defaults['gL']:g} mS/cm^2)")
    with _Outputs() as files:
        files.file(out / "equations.tex").write_text(model.latex() + "\n")
    written = [out / "equations.tex"]
    branches = figures.figure_equilibrium_branches(out)
    written.append(branches["path"])
    shown = {"equilibrium_branches.png": {
        p: [h.param for h in b.hopf_points] for p, b in branches["branches"].items()}}
    print("\nHopf points (continuation of equilibria in I, located by Newton):")
    print(f"{'preset':<8} {'I (uA/cm^2)':>14} {'V (mV)':>10} {'omega (rad/ms)':>15} "
          f"{'f (Hz)':>8} {'l1':>12}  criticality")
    for preset, branch in branches["branches"].items():
        for h in branch.hopf_points:
            d = h.data
            print(f"{preset:<8} {h.param:14.8f} {h.state[0]:10.4f} {d.omega:15.10f} "
                  f"{1000 * d.omega / (2 * np.pi):8.2f} {d.l1:+12.5e}  {d.criticality}")
    eig = figures.figure_eigenvalues(out, branches=branches["branches"])
    written.append(eig["path"])
    shown["eigenvalues_vs_I.png"] = eig["hopf_I"]
    diags = figures.diagrams(progress=args.progress)
    _summary(diags)
    written.append(figures.figure_bifurcation_diagrams(out, diags)["path"])
    shown["bifurcation_diagram.png"] = {p: {
        "hopf": [h.param for h in d.hopf_points],
        **{kind: [s.param for s in d.special_points(kind)] for kind in ("lpc", "pd")},
        "minimum_rate": d.minimum_frequency} for p, d in diags.items()}
    fi = figures.figure_fi_curve(out, diags)
    written.append(fi["path"])
    shown["fi_curve.png"] = {p: fi[p] for p in diags}
    cycles = figures.figure_limit_cycles(out, diags)
    written.append(cycles["path"])
    shown["limit_cycles_Vn.png"] = {"orbits": cycles["orbits"]}
    hyst = figures.figure_hysteresis(out, diags)
    written.append(hyst["path"])
    shown["hysteresis.png"] = {k: hyst[k] for k in ("onset_I", "offset_I", "hopf_I", "lpc_I")}
    print(f"\nhysteresis (classic, slow ramp 4 -> 13 -> 4 uA/cm^2): spiking starts at I = "
          f"{hyst['onset_I']:.3f} on the way up (Hopf {hyst['hopf_I']:.3f}, delayed by the slow "
          f"passage) and stops at I = {hyst['offset_I']:.3f} on the way down (fold of cycles "
          f"{hyst['lpc_I']:.3f})")
    cmf = figures.figure_center_manifold(out)
    written.append(cmf["path"])
    shown["center_manifold.png"] = {k: cmf[k] for k in (
        "l1", "manifold_distance_start", "manifold_distance_min")}
    print(f"\ncenter manifold (brainpy, I=10): l1 = {cmf['l1']:+.5e}; distance to the quadratic "
          f"manifold {cmf['manifold_distance_start']:.3g} at t=0 -> "
          f"{cmf['manifold_distance_min']:.3g} within 10 ms")
    fit = figures.figure_fit(out)
    written.append(fit["path"])
    r = fit["result"]
    shown["fit_before_after.png"] = {**r.params, "hopf_I": fit["hopf_I"],
                                     "minimum_rate": fit["minimum_rate"]}
    print(f"\nfit (classic, hh.fit over hopf_point and lpc_point): gK = {r.params['gK']:.6f}, "
          f"gNa = {r.params['gNa']:.6f} after {r.steps} steps (|residual| "
          f"{np.max(np.abs(r.residuals)):.1e}); the diagram at these values has its lower "
          f"Hopf point at I = {fit['hopf_I']:.8f} and its minimum rate "
          f"{fit['minimum_rate'][1]:.6f} Hz (targets 12 and 60)")
    prc = figures.figure_phase_response(out)
    written.append(prc["path"])
    shown["phase_response.png"] = {k: prc[k] for k in ("hh_period", "ml_period")}
    planes = figures.figure_two_parameter(out)
    written.append(planes["path"])
    shown["two_parameter.png"] = planes["codim2"]
    for name, points in planes["codim2"].items():
        print(f"\ntwo-parameter plane {name}: "
              + "; ".join(f"{p['kind'].upper()} at " + ", ".join(
                  f"{k}={v:.6g}" for k, v in p.items() if k != "kind") for p in points))
    ex1 = figures.figure_seed_example_1(out)
    ex2 = figures.figure_seed_example_2(out)
    written += [ex1["path"], ex2["path"]]
    shown["seed_example_1.png"] = {"spikes": ex1["spikes"], "rate_Hz": ex1["rate_Hz"]}
    shown["seed_example_2.png"] = {"spike_times": ex2["spike_times"]}
    written.append(figures.write_manifest(out, shown))
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
    _print_equilibria(model, (model.name if args.model else f"preset {args.preset!r}")
                      + _fixed_values(args))
    return 0


def _range(values) -> tuple[float, float]:
    import math

    lo, hi = values
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise _UsageError(f"--range {lo:g} {hi:g}: need finite LO < HI")
    return lo, hi


def _diagram_args(args):
    """The model, parameter and range of ``bifurcation`` / ``fi-curve``, validated (names,
    physical range, ``--variable``) before anything is computed."""
    model = _model(args)
    param = getattr(args, "param", "I")
    auto = _auto_options(model, args)
    lo, hi = _range(args.range if args.range is not None else auto.get("bounds", (-10.0, 200.0)))
    try:
        model.check_param_names([param], "--param")
        if param in _parse_sets(args.set):
            raise ValueError(f"{param!r} is the --param; do not also --set it")
        model.check_param_range(param, lo, hi, "--range")
    except ValueError as e:
        raise _UsageError(str(e)) from None
    variable = getattr(args, "variable", None)
    if variable is not None and variable not in model.state_names:
        raise _UsageError(f"--variable {variable!r}: not a state of {model.name}; states: "
                          f"{', '.join(model.state_names)}")
    return model, param, (lo, hi)


def _auto_options(model, args) -> dict:
    """A .ode file's AUTO options (ds, dsmax, nmax, ntst, parmin/parmax as ``bounds``), the
    defaults of its diagram; empty for the built-in models."""
    if not getattr(args, "model", None):
        return {}
    from .ode import auto_settings

    return auto_settings(model)


def _diagram(model, param, bounds, progress, args=None):
    from .continuation import bifurcation_diagram

    auto = {k: v for k, v in _auto_options(model, args).items() if k != "bounds"}
    return bifurcation_diagram(model, param, bounds, progress=progress, **auto)


def _diagram_title(d, args) -> str:
    return f"{_model_title(d.model)}{_fixed_values(args)}"


def cmd_bifurcation(args) -> int:
    from .plotting import plot_bifurcation_diagram

    path = _out_path(args.out)
    model, param, bounds = _diagram_args(args)
    plt = _pyplot()
    d = _diagram(model, param, bounds, args.progress, args)
    print(d)
    ax = plot_bifurcation_diagram(d, variable=args.variable, title=_diagram_title(d, args))
    tables_dir = path.parent / f"{path.stem}_tables"
    with _Outputs() as files:
        ax.figure.savefig(files.file(path), dpi=130, format=path.suffix[1:].lower())
        plt.close(ax.figure)
        d.save(files.file(path.with_suffix(".npz")))
        tables = d.to_csv(tables_dir)
    print(f"wrote {path}, {path.with_suffix('.npz')} and {len(tables)} CSV tables in "
          f"{tables_dir}")
    return 0


def cmd_fi_curve(args) -> int:
    import csv

    from .plotting import plot_frequency_curve

    path = _out_path(args.out)
    model, param, bounds = _diagram_args(args)
    plt = _pyplot()
    d = _diagram(model, param, bounds, args.progress, args)
    if not d.cycles:
        print(f"hhanalysis: the neuron does not fire for {param} in [{bounds[0]:g}, "
              f"{bounds[1]:g}]: no Hopf point there and no stable cycle found by simulation at "
              "the range's ends and inside it. Nothing written.", file=sys.stderr)
        return 1
    ax = plot_frequency_curve(d, title=_diagram_title(d, args))
    table = path.with_suffix(".csv")
    with _Outputs() as files:
        ax.figure.savefig(files.file(path), dpi=130, format=path.suffix[1:].lower())
        plt.close(ax.figure)
        with open(files.file(table), "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow([d.param_name, "frequency_Hz", "period_ms", "stable"])
            for b in d.cycles:
                for k in range(len(b)):
                    w.writerow([b.param[k], b.frequency[k], b.period[k], bool(b.stable[k])])
    fmin = d.minimum_frequency
    ranges = ", ".join(f"[{a:.6f}, {b:.6f}]" for a, b in d.bistable_ranges()) or "none"
    rate = ("no stable cycle" if fmin is None
            else f"minimum firing rate {fmin[1]:.3f} Hz at {d.param_name} = {fmin[0]:.6f}")
    print(f"{rate}; bistable for {d.param_name} in {ranges}")
    print(f"wrote {path} and {table}")
    return 0


#: Figure types of ``simulate --out``; its traces types are ``_TRACES``.
_FIGURES = (".png", ".svg", ".pdf")
#: Traces files of ``simulate`` (hhanalysis.simulate.streaming.FORMATS, named here so that
#: ``--help`` imports nothing heavy; a test keeps them in step).
_TRACES = (".csv", ".npz", ".parquet")
#: Bytes a traces file takes per value: NPZ and Parquet binary, CSV text at 17 digits.
_BYTES_PER_VALUE = {".npz": 8, ".parquet": 8, ".csv": 20}
#: Rows of the traces file read back at a time (spike counts, figure): about this many bytes.
_READ_BYTES = 32 * 2**20
#: Time points of the drawn traces at most; longer runs are drawn as min/max envelopes.
_DRAWN_POINTS = 4000


def _simulate_files(args) -> tuple[Path, Path]:
    """The figure and the traces file of ``simulate``: ``--out`` is a figure (the traces go to
    ``--data``, by default beside it as CSV) or a traces file (the figure goes beside it as
    PNG)."""
    out = _out_path(args.out, _FIGURES + _TRACES)
    if out.suffix.lower() in _FIGURES:
        data = _out_path(args.data or str(out.with_suffix(".csv")), _TRACES, "--data")
        return out, data
    if args.data:
        raise _UsageError(f"--data {args.data!r}: --out {args.out!r} already names the traces "
                          "file; give --out a figure (.png, .svg, .pdf) to use --data")
    return out.with_suffix(".png"), out


def _simulation_plan(args, data: Path):
    """Validate the simulate arguments and estimate the memory and the data file before the
    run: ``(steps, recorded neurons)``."""
    import math
    import shutil

    from .simulate.integrators import check_method
    from .simulate.resources import STATE_COPIES, format_bytes, memory_budget
    from .simulate.runner import STREAM_CHUNK_BYTES

    for name in ("duration", "dt"):
        v = getattr(args, name)
        if not (math.isfinite(v) and v > 0):
            raise _UsageError(f"--{name} {v:g}: must be a finite number > 0 (ms)")
    if not math.isfinite(args.input):
        raise _UsageError(f"--input {args.input:g}: must be a finite number (µA/cm²)")
    record = args.size if args.record is None else args.record
    if not 1 <= record <= args.size:
        raise _UsageError(f"--record {record}: must lie in [1, --size {args.size}]")
    if args.threshold != "auto":
        try:
            thr = float(args.threshold)
        except ValueError:
            thr = math.nan
        if not math.isfinite(thr):
            raise _UsageError(f"--threshold {args.threshold!r}: give 'auto' or a number (mV)")
    try:
        check_method(args.method)
    except ValueError as e:
        raise _UsageError(f"--method: {e}") from None
    if data.suffix.lower() == ".parquet":
        from .simulate.streaming import monitor_format

        try:
            monitor_format(data)
        except ImportError as e:
            raise _UsageError(f"--data {str(data)!r}: {e}") from None
    steps = math.ceil(args.duration / args.dt - 1e-9)
    rows = steps // args.monitor_every
    values = rows * (record + 1)
    # the traces stream to the file: memory holds the group and one chunk of them (on the
    # device, on the host, being written), then a block read back for the spike counts (with
    # its temporaries)
    memory = (STATE_COPIES * 4 * args.size * 8
              + max(3 * min(8 * values, STREAM_CHUNK_BYTES), 6 * _READ_BYTES))
    ways = ("--record K (fewer neurons in the output), --monitor-every K (every K-th step), "
            "a smaller --size, "
            "a shorter --duration or a larger --dt")
    if memory > memory_budget():
        raise _UsageError(f"this run needs about {format_bytes(memory)} of memory ({args.size} "
                          f"neurons; the traces stream to {data.name}), more than the "
                          f"{format_bytes(memory_budget())} it may use; use {ways}")
    # a CSV is written from a scratch NPZ, on the same disk until the end
    size = values * (_BYTES_PER_VALUE[data.suffix.lower()]
                     + (8 if data.suffix.lower() == ".csv" else 0))
    free = shutil.disk_usage(_existing(data.parent)).free
    if size > free:
        binary = (" or write binary, 8 bytes a value, with --data FILE.npz or FILE.parquet"
                  if data.suffix.lower() == ".csv" else "")
        raise _UsageError(f"--data {str(data)!r}: needs about {format_bytes(size)} ({rows} rows "
                          f"x {record + 1} columns), but only {format_bytes(free)} are free "
                          f"there; use {ways}{binary}")
    return steps, record


def _existing(path: Path) -> Path:
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def _read_traces(path: Path, rows: int, record: int, threshold):
    """Spike counts of every recorded neuron and the drawn traces (the first ten neurons, as
    min/max envelopes of bins of rows when there are more than :data:`_DRAWN_POINTS` rows)
    from the traces file, read back in blocks of rows (memory: one block)."""
    np = _np()
    from .simulate.spikes import spike_counts
    from .simulate.streaming import iter_monitors

    k = max(1, -(-rows // _DRAWN_POINTS))  # rows per drawn bin
    block = k * max(1, _READ_BYTES // (8 * (record + 1) * k))
    drawn: list = []

    def blocks():
        first = not drawn
        for b in iter_monitors(path, block):
            if first:
                # a copy: a view would keep the whole block alive
                drawn.append(_envelope(b["t_ms"], b["V_mV"][:, :10].copy(), k))
            yield b["V_mV"]

    counts = spike_counts(blocks, threshold)
    ts = np.concatenate([d[0] for d in drawn]) if drawn else np.zeros(0)
    V = (np.concatenate([d[1] for d in drawn]) if drawn
         else np.zeros((0, min(record, 10))))
    return counts, ts, V


def _envelope(ts, V, k: int):
    """``(ts, V)`` drawn with bins of ``k`` rows: each bin as its minimum and maximum at the
    bin's first time (a vertical stroke), so that no spike is lost from the figure."""
    np = _np()
    if k == 1 or not len(ts):
        return ts, V
    starts = np.arange(0, len(ts), k)
    lo, hi = np.minimum.reduceat(V, starts, axis=0), np.maximum.reduceat(V, starts, axis=0)
    return np.repeat(ts[starts], 2), np.stack([lo, hi], axis=1).reshape(-1, V.shape[1])


def _spike_summary(counts) -> str:
    """Spike counts: one per neuron for small groups, else their distribution."""
    np = _np()
    if len(counts) <= _LIST_LIMIT:
        return f"spikes per neuron: {list(map(int, counts))}"
    c = np.asarray(counts)
    return (f"spikes per neuron ({c.size} recorded): min {c.min()}, median "
            f"{np.median(c):g}, mean {c.mean():.3g}, max {c.max()}; {int((c == 0).sum())} "
            "silent")


def cmd_simulate(args) -> int:
    if args.model:
        return _simulate_model(args, _out_path(args.out))
    path, data = _simulate_files(args)
    steps, record = _simulation_plan(args, data)
    model = _model(args)  # the preset with --set applied (names and values validated)
    plt = _pyplot()
    from .simulate import HH, DSRunner, MonitorFile
    from .simulate.rng import random as global_random
    from .simulate.streaming import convert_monitors

    kw = {k: model.defaults[k] for k in ("ENa", "gNa", "EK", "gK", "EL", "gL", "V_th", "C")}
    global_random.seed(args.seed)
    group = HH(args.size, method=args.method, nonphysical=args.allow_nonphysical, **kw)
    monitors = {"V": list(range(record))} if record < args.size else ["V"]
    runner = DSRunner(group, monitors=monitors, inputs=("input", args.input), dt=args.dt,
                      progress_bar=args.progress, monitor_every=args.monitor_every)
    threshold = "auto" if args.threshold == "auto" else float(args.threshold)
    with _Outputs() as files:  # the traces stream to a temporary file, renamed at the end
        traces = files.file(data)
        # NPZ and Parquet read back fast for the spike counts and the figure; a CSV file is
        # written from a scratch NPZ afterwards, block by block (parsing it back is slow)
        binary = traces if data.suffix.lower() != ".csv" else files.scratch(traces, ".npz")
        runner.run(args.duration, out=MonitorFile(binary, {"ts": "t_ms", "V": "V_mV"}))
        counts, ts, V = _read_traces(binary, steps // args.monitor_every, record, threshold)
        if binary != traces:
            convert_monitors(binary, traces)
        fig, ax = plt.subplots(figsize=(9, 3.6), constrained_layout=True)
        for k in range(V.shape[1]):
            ax.plot(ts, V[:, k], lw=1, label=f"neuron {k}")
        ax.set_xlabel("t (ms)")
        ax.set_ylabel("V (mV)")
        ax.set_title(f"HH({args.size}), preset {args.preset!r}{_fixed_values(args)}, input "
                     f"{args.input:g} µA/cm², {args.method}, dt = {args.dt:g} ms", fontsize=10)
        ax.legend(fontsize=8, loc="upper right")
        fig.savefig(files.file(path), dpi=130, format=path.suffix[1:].lower())
        plt.close(fig)
    rule = ("threshold auto: midpoint of each trace's range" if threshold == "auto"
            else f"threshold {threshold:g} mV")
    print(f"{_spike_summary(counts)} ({rule}); wrote {path} and {data}")
    return 0


def _simulate_model(args, path: Path) -> int:
    """``simulate --model``: one trajectory (hh.trajectory; RK4 unless --method names one of
    its methods) with the parameter I set to --input if the model has one."""
    import csv

    np = _np()
    plt = _pyplot()
    from .trajectory import trajectory

    if not args.duration > 0:
        raise _UsageError(f"--duration must be > 0, got {args.duration:g}")
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
    table = path.with_suffix(".csv")
    with _Outputs() as files:
        fig.savefig(files.file(path), dpi=130, format=path.suffix[1:].lower())
        plt.close(fig)
        with open(files.file(table), "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(list(tr.names))
            w.writerows(np.column_stack([tr.t, tr.states, tr.aux]).tolist())
    print(f"wrote {path} and {table}")
    return 0


def cmd_two_parameter(args) -> int:
    """``two-parameter``: the Hopf and fold curves (with ``--lpc`` the curves of folds of cycles
    too) in a window of two parameters over the regions of rest, repetitive firing and
    bistability, as a figure, CSV tables (curves, codim-2 points, the regime at every grid
    point) and a printed summary."""
    path = _out_path(args.out)
    model = _model(args)
    p1, p2 = args.params
    lo1, hi1 = _range(args.range[:2])
    lo2, hi2 = _range(args.range[2:])
    sets = _parse_sets(args.set)
    try:
        model.check_param_names([p1, p2], "--params")
        if p1 == p2:
            raise ValueError(f"--params {p1} {p2}: give two different parameters")
        for name in (p1, p2):
            if name in sets:
                raise ValueError(f"{name!r} is one of --params; do not also --set it")
        model.check_param_range(p1, lo1, hi1, "--range")
        model.check_param_range(p2, lo2, hi2, "--range")
    except ValueError as e:
        raise _UsageError(str(e)) from None
    plt = _pyplot()
    from .continuation.two_parameter import two_parameter_diagram
    from .plotting import plot_two_parameter_diagram

    d = two_parameter_diagram(model, (p1, p2), {p1: (lo1, hi1), p2: (lo2, hi2)},
                              slices=args.slices, cycles=args.lpc)
    print(d)
    ax = plot_two_parameter_diagram(d, title=f"{_model_title(model)}{_fixed_values(args)}")
    tables_dir = path.parent / f"{path.stem}_tables"
    with _Outputs() as files:
        ax.figure.savefig(files.file(path), dpi=130, format=path.suffix[1:].lower())
        plt.close(ax.figure)
        for name, text in d.tables().items():
            files.file(tables_dir / name).write_text(text)
    print(f"wrote {path} and {', '.join(str(tables_dir / n) for n in d.tables())}")
    return 0


def cmd_prc(args) -> int:
    """``prc``: the adjoint PRC of the orbit at the given parameters, with the direct pulse PRC
    overlaid, as a figure and a CSV table."""
    import csv

    path = _out_path(args.out)
    if args.points < 8:
        raise _UsageError(f"--points {args.points}: must be >= 8")
    model = _model(args)
    if args.state not in model.state_names:
        raise _UsageError(f"--state {args.state!r}: must be one of {list(model.state_names)}")
    np = _np()
    plt = _pyplot()
    from . import phase

    try:
        prc = phase.phase_response(model, points=args.points)
    except ValueError as e:
        raise _UsageError(str(e)) from None
    direct = phase.direct_phase_response(model, prc, args.state, every=args.every)
    z = prc[args.state]
    diff = np.abs(direct.slope - z[::args.every]).max() / np.abs(z).max()
    axes = phase.plot_phase_response(prc, direct, args.state, title=(
        f"{model.name} ({model.preset or 'defaults'}), "
        + ", ".join(f"{k}={v:g}" for k, v in _parse_sets(args.set).items())
        + f": period {float(prc.period):.5g} ms"))
    table = path.with_suffix(".csv")
    with _Outputs() as files:
        axes[0].figure.savefig(files.file(path), dpi=130, format=path.suffix[1:].lower())
        plt.close(axes[0].figure)
        with open(files.file(table), "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["phase", *[f"Z_{s}" for s in prc.state_names], "V_mV"])
            w.writerows(np.column_stack([prc.phase, prc.Z, prc.state("V")]).tolist())
    print(f"{prc}\nZ_{args.state} in [{z.min():.6g}, {z.max():.6g}] "
          f"{prc.time_unit}/mV; direct pulses differ by at most {diff:.2e} of max|Z|; "
          f"wrote {path} and {table}")
    return 0


def _parser() -> argparse.ArgumentParser:
    class Parser(argparse.ArgumentParser):
        def error(self, message):
            raise _UsageError(message)

    class fmt(argparse.ArgumentDefaultsHelpFormatter):
        """Shows a default where there is one worth showing (not for flags and empty lists)."""

        def _get_help_string(self, action):
            if action.default in (None, True, False, []) or action.default is argparse.SUPPRESS:
                return action.help
            return super()._get_help_string(action)

    parser = Parser(prog="hhanalysis", formatter_class=fmt, description=(
        "Dynamical-systems analysis of the Hodgkin-Huxley neuron: equilibria, bifurcation "
        "diagrams, f-I curves, simulations and the documentation figures. Invalid arguments "
        "exit with status 2, failed computations with 1; files are written whole or not at "
        "all."))
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser,
                                metavar="COMMAND")

    def add(name, help, func):
        q = sub.add_parser(name, help=help, description=help, formatter_class=fmt)
        q.set_defaults(func=func)
        return q

    p = add("reproduce", "every documentation figure, its data and a printed summary",
            cmd_reproduce)
    p.add_argument("--out", default="figures", help="output directory")
    p.add_argument("--progress", action="store_true", help="progress bars")

    def model_args(p):
        p.add_argument("--model", default=None, metavar="FILE.ode|NAME",
                       help="an XPPAUT .ode file or a library model (wang_buzsaki, "
                            "morris_lecar, ...; see hhanalysis.library); default: HH")
        p.add_argument("--preset", default="brainpy", choices=_PRESETS,
                       help="parameter preset: brainpy (the seed's defaults, gL=0.03) or "
                            "classic (Hodgkin & Huxley 1952, gL=0.3)")
        p.add_argument("--set", nargs="*", metavar="NAME=VALUE", default=[],
                       help="parameter values, e.g. gK=30 T=10 (names: ENa gNa EK gK EL gL "
                            "V_th C I T)")
        p.add_argument("--allow-nonphysical", action="store_true",
                       help="accept negative conductances and C <= 0")

    p = add("equilibria", "equilibria with eigenvalues and stability", cmd_equilibria)
    model_args(p)
    p = add("bifurcation", "bifurcation diagram (equilibria and cycles) with its NPZ data and "
            "CSV tables", cmd_bifurcation)
    p.add_argument("--param", default="I", help="bifurcation parameter")
    p.add_argument("--range", nargs=2, type=float, default=None, metavar=("LO", "HI"),
                   help="range of the parameter (default: the .ode file's parmin/parmax, "
                        "else -10 200)")
    p.add_argument("--variable", default="V", help="state on the vertical axis (V, m, h, n)")
    model_args(p)
    p.add_argument("--out", default="diagram.png", help="figure file (.png, .svg or .pdf)")
    p.add_argument("--no-progress", dest="progress", action="store_false",
                   help="no progress bars")
    p = add("fi-curve", "firing frequency against I from the cycle branches, with a CSV",
            cmd_fi_curve)
    p.add_argument("--range", nargs=2, type=float, default=None, metavar=("LO", "HI"),
                   help="range of I (default: the .ode file's parmin/parmax, else -10 200)")
    model_args(p)
    p.add_argument("--out", default="fi.png", help="figure file (.png, .svg or .pdf)")
    p.add_argument("--no-progress", dest="progress", action="store_false",
                   help="no progress bars")
    p = add("simulate", "simulate an HH group with a constant input: traces (figure and "
            "data) and spike counts", cmd_simulate)
    p.add_argument("--duration", type=float, default=200.0, help="ms")
    p.add_argument("--input", type=float, default=10.0, help="µA/cm²")
    p.add_argument("--size", type=_positive_int, default=2, help="number of neurons")
    p.add_argument("--method", default="exp_auto",
                   help="integrator: exp_auto, euler, rk2, rk4, dopri5, kvaerno5")
    p.add_argument("--dt", type=float, default=0.01, help="time step in ms")
    p.add_argument("--seed", type=int, default=0, help="seed of the random initial V")
    p.add_argument("--threshold", default="auto",
                   help="spike threshold in mV, or 'auto': an upward crossing of the midpoint "
                        "of each trace's range (traces spanning less than 10 mV have none)")
    p.add_argument("--record", type=int, default=None, metavar="K",
                   help="record (and write) the first K neurons only (default: all)")
    p.add_argument("--monitor-every", type=_positive_int, default=1, metavar="K",
                   help="record every K-th step")
    p.add_argument("--data", default=None, metavar="FILE",
                   help="traces file, .csv, .npz or .parquet, written as the run goes (chunk "
                        "by chunk: memory does not grow with the duration); columns t_ms, "
                        "V_mV[k] (default: --out with .csv). Parquet needs pip install "
                        "'hhanalysis[parquet]'")
    model_args(p)
    p.add_argument("--out", default="trace.png",
                   help="figure file (.png, .svg or .pdf; the traces go to --data), or the "
                        "traces file (.npz, .csv or .parquet; the figure goes beside it as "
                        ".png)")
    p.add_argument("--no-progress", dest="progress", action="store_false",
                   help="no progress bars")
    p = add("two-parameter", "Hopf and fold curves with their codim-2 points in a window of two "
            "parameters, as a figure and CSV tables", cmd_two_parameter)
    p.add_argument("--params", nargs=2, default=["I", "gK"], metavar=("P1", "P2"),
                   help="the horizontal and the vertical parameter")
    p.add_argument("--range", nargs=4, type=float, default=[-10.0, 200.0, 0.0, 60.0],
                   metavar=("LO1", "HI1", "LO2", "HI2"), help="the window")
    p.add_argument("--slices", type=_positive_int, default=5,
                   help="values of P2 at which the equilibria are followed in P1 to find the "
                        "curves")
    p.add_argument("--lpc", action="store_true",
                   help="also continue the curves of folds of cycles (LPC) through the folds "
                        "of the cycle branches born at the Hopf points of one slice (slower)")
    model_args(p)
    p.add_argument("--out", default="two_parameter.png",
                   help="figure file (.png, .svg or .pdf)")
    p = add("prc", "phase response curve of the periodic orbit (adjoint and direct pulses), "
            "with a CSV", cmd_prc)
    model_args(p)
    p.add_argument("--state", default="V", help="kicked state")
    p.add_argument("--points", type=int, default=256, help="phases")
    p.add_argument("--every", type=_positive_int, default=8,
                   help="direct pulses at every EVERY-th phase")
    p.add_argument("--out", default="prc.png", help="figure file (.png, .svg or .pdf)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 done, 1 failed, 2 invalid arguments).

    The commands that draw select matplotlib's non-interactive Agg backend (they only write
    files; the library modules never choose a backend)."""
    import signal
    import threading
    import warnings

    terminate = None
    if threading.current_thread() is threading.main_thread():
        # SIGTERM (kill, a batch system's time limit) unwinds like Ctrl-C, so that the
        # temporary files of the outputs are removed; status 143 as for a plain SIGTERM
        terminate = signal.signal(signal.SIGTERM, _terminated)
    formatwarning = warnings.formatwarning
    warnings.formatwarning = lambda message, category, *rest: (
        f"hhanalysis: warning: {message}\n")
    try:
        args = _parser().parse_args(argv)
        _np().set_printoptions(precision=6, suppress=False)
        return args.func(args)
    except (_UsageError, ValueError) as e:  # ValueError: the API's checks of the arguments
        print(f"hhanalysis: error: {e}", file=sys.stderr)
        return 2
    except MemoryError as e:
        from .simulate.resources import ResourceError

        if not isinstance(e, ResourceError):  # a real out-of-memory, not the guard's estimate
            raise
        print(f"hhanalysis: error: {e}", file=sys.stderr)
        return 2
    except (FloatingPointError, OSError, RuntimeError) as e:
        # numerical failures (ContinuationError is a RuntimeError) and file-system errors
        print(f"hhanalysis: failed: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("hhanalysis: interrupted", file=sys.stderr)
        return 130
    finally:
        warnings.formatwarning = formatwarning  # the caller's (e.g. pytest's) again
        if terminate is not None:
            signal.signal(signal.SIGTERM, terminate)


def _terminated(signum, frame):
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    sys.exit(main())
