r"""One-parameter bifurcation diagrams: equilibrium branches, every cycle branch born at their
Hopf points, and the stable cycles found by simulation.

:func:`bifurcation_diagram` follows the equilibria across the parameter range, starts a cycle
branch at every Hopf point (branch switching needs no guess, see
:func:`~hhanalysis.continuation.cycles.continue_cycles`) and skips a Hopf point that an earlier
cycle branch already ended at (in the HH model the branch from the lower Hopf point folds and
ends at the upper one). Then, at the ends of the range and at interior points where no stable
cycle is known yet, a short simulation looks for a stable cycle
(:func:`~hhanalysis.continuation.cycles.simulate_cycle`); one found is corrected by
collocation and continued in both directions, so the diagram is complete even where no Hopf
point lies in the range (a neuron firing over the whole range, a SNIC). Branches whose period
grows without bound end with their limit classified (SNIC or saddle homoclinic:
:attr:`~hhanalysis.continuation.cycles.CycleBranch.end`). The result,
:class:`BifurcationDiagram`, draws the seed document's figure and the f–I curve, and saves to /
loads from one ``.npz`` file.

**File format** (``BifurcationDiagram.save``, version 2): a NumPy ``.npz`` archive with the entry
``meta`` (a JSON string: format version, model name, preset, parameter values, continuation
parameter, bounds, and per branch its ``stop`` record (``status``: the
:class:`~hhanalysis.continuation.results.Status` value, e.g. ``"reached bound"``, and the numbers
``param``, ``limit``, ``value`` of its message), notes, and special points: ``kind``, ``index``,
``param``, ``state``, ``status`` (``"converged"`` or ``"guess"``), ``precision``, ``param_name``,
``params``, ``message`` and ``data`` (``{"type": "hopf" | "fold" | "cycle", ...fields}`` or null;
complex arrays as ``{"re": [...], "im": [...]}``)) and the arrays
``eq{i}_param``, ``eq{i}_x``, ``eq{i}_stable``, ``eq{i}_eigenvalues`` for equilibrium branch
``i`` and ``cy{j}_param``, ``cy{j}_period``, ``cy{j}_x_max``, ``cy{j}_x_min``,
``cy{j}_floquet_multipliers``, ``cy{j}_trivial_error``, ``cy{j}_stable``, ``cy{j}_orbits``,
``cy{j}_mesh`` for cycle branch ``j``. Files of version 1 (flat special-point records and a
``stop_reason`` string per branch) still load.
"""

from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._files import atomic_path
from ..equilibria import find_equilibria
from ..models import ODEModel, hodgkin_huxley
from ..precision import float64
from .collocation import Collocation
from .cycles import CYCLE_SETTINGS, CycleBranch, continue_cycles, frequency, simulate_cycle
from .engine import ContinuationSettings
from .equilibria import EquilibriumBranch, continue_equilibria
from .results import HopfData, SpecialPoint, Status, Stop

__all__ = ["BifurcationDiagram", "bifurcation_diagram"]

_FORMAT = 2


@dataclass(frozen=True)
class BifurcationDiagram:
    """Equilibrium and cycle branches in one parameter.

    Attributes:
        model: the symbolic model as given.
        param_name: the bifurcation parameter; bounds: its range.
        equilibria: the equilibrium branches.
        cycles: the cycle branches (one per Hopf point not reached by an earlier branch).
        params: the values of every parameter but ``param_name`` (the model's defaults
            overridden by the fixed parameters).
    """

    model: ODEModel = field(repr=False)
    param_name: str
    bounds: tuple[float, float]
    equilibria: tuple[EquilibriumBranch, ...]
    cycles: tuple[CycleBranch, ...]
    params: dict = field(default_factory=dict)

    @property
    def hopf_points(self) -> tuple[SpecialPoint, ...]:
        return tuple(_distinct_hopf_points(self.equilibria))

    @property
    def lpc_points(self) -> tuple[SpecialPoint, ...]:
        return tuple(s for b in self.cycles for s in b.special_points if s.kind == "lpc")

    def special_points(self, kind: str) -> tuple[SpecialPoint, ...]:
        return tuple(s for b in (*self.equilibria, *self.cycles) for s in b.special_points
                     if s.kind == kind)

    @property
    def minimum_frequency(self) -> tuple[float, float] | None:
        """``(param, frequency)`` of the slowest stable orbit (Hz for models in ms): a stable
        branch point or a located fold of cycles at the end of a stable stretch."""
        candidates = []
        for b in self.cycles:
            candidates += [(p, T) for p, T, st in zip(b.param, b.period, b.stable) if st]
            candidates += [(s.param, s.period) for s in b.lpc_points
                           if b.stable[s.index] or b.stable[min(s.index + 1, len(b) - 1)]]
        if not candidates:
            return None
        param, period = max(candidates, key=lambda c: c[1])
        return float(param), float(frequency(self.model, period))

    def bistable_ranges(self) -> list[tuple[float, float]]:
        """Parameter intervals where a stable equilibrium and a stable cycle coexist (ends at
        the located special points where stability changes)."""
        eq = [iv for b in self.equilibria for iv in _stable_intervals(b)]
        cy = [iv for b in self.cycles for iv in _stable_intervals(b)]
        out = []
        for a0, a1 in _union(eq):
            for b0, b1 in _union(cy):
                lo, hi = max(a0, b0), min(a1, b1)
                if hi > lo:
                    out.append((lo, hi))
        return out

    def plot(self, ax=None, variable: str = "V"):
        """The seed's figure: stable (red) / unstable (black) equilibria, max and min of stable
        (green) / unstable (blue) cycles, H and LPC points labelled."""
        from ..plotting import plot_bifurcation_diagram

        return plot_bifurcation_diagram(self, ax=ax, variable=variable)

    def plot_frequency(self, ax=None):
        """The f–I curve of the cycle branches with the bistable range and minimum rate."""
        from ..plotting import plot_frequency_curve

        return plot_frequency_curve(self, ax=ax)

    def __repr__(self) -> str:
        lines = [f"BifurcationDiagram({self.model.name}"
                 + (f", preset={self.model.preset!r}" if self.model.preset else "")
                 + f", {self.param_name} in {list(self.bounds)})"]
        for s in self.hopf_points:
            lines.append(f"  H   {self.param_name}={s.param:.10g}  period={s.period:.8g}  "
                         f"l1={s.data.l1:.4g} ({s.data.criticality})")
        for b in self.cycles:
            for s in b.special_points:
                lines.append(f"  {s.kind.upper():3s} {self.param_name}={s.param:.10g}  "
                             f"period={s.period:.8g}")
        for b in self.cycles:
            lines.append(f"  cycle branch: {len(b)} orbits, stop: {b.stop_reason}")
        return "\n".join(lines)

    # ---------------------------------------------------------------- files
    def save(self, path) -> Path:
        """Write the diagram to ``path``, a NumPy ``.npz`` archive (the format is in the API
        reference, "File format of saved diagrams"). The file is written whole or not at all
        (a temporary file renamed onto ``path``).

        Raises:
            ValueError: ``path`` does not end in ``.npz``.
        """
        path = Path(path)
        if path.suffix.lower() != ".npz":
            raise ValueError(f"path {str(path)!r}: a diagram is saved as a NumPy archive, so the "
                             "file name must end in .npz")
        arrays, meta = {}, {
            "format": _FORMAT, "model": self.model.name, "preset": self.model.preset,
            "params": self.params or self.model.defaults, "param_name": self.param_name,
            "bounds": list(self.bounds), "equilibria": [], "cycles": []}
        for i, b in enumerate(self.equilibria):
            for key in ("param", "x", "stable", "eigenvalues"):
                arrays[f"eq{i}_{key}"] = getattr(b, key)
            meta["equilibria"].append({
                "stop": b.stop.to_json(),
                "special_points": [s.to_json() for s in b.special_points]})
        for j, b in enumerate(self.cycles):
            for key in ("param", "period", "x_max", "x_min", "floquet_multipliers",
                        "trivial_error", "stable", "orbits", "mesh"):
                arrays[f"cy{j}_{key}"] = getattr(b, key)
            meta["cycles"].append({
                "stop": b.stop.to_json(), "notes": list(b.notes),
                "ntst": b.collocation.ntst, "ncol": b.collocation.ncol,
                "special_points": [s.to_json() for s in b.special_points]})
        text = json.dumps(meta, default=lambda o: o.item() if hasattr(o, "item") else str(o))
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(fh, meta=np.asarray(text), **arrays)
        return path

    @classmethod
    def load(cls, path, model: ODEModel | None = None) -> BifurcationDiagram:
        """Read a diagram written by :meth:`save`. ``model`` is needed for models other than
        :func:`~hhanalysis.hodgkin_huxley` (whose preset and parameters are stored).

        Raises:
            ValueError: no such file, not an ``.npz`` archive, an archive without the diagram's
                entries, or entries that do not fit together (one line naming the file).
        """
        try:
            with _open_archive(path) as z:
                meta = json.loads(str(z["meta"]))
                if meta.get("format") not in (1, _FORMAT):
                    raise ValueError(f"{path}: unknown diagram format {meta.get('format')!r}")
                if model is None:
                    if meta["model"] != "Hodgkin-Huxley":
                        raise ValueError(f"{path}: pass model= to load a diagram of "
                                         f"{meta['model']}")
                    model = hodgkin_huxley(meta["preset"] or "brainpy")
                params = {**model.defaults, **meta["params"]}
                eqs = tuple(EquilibriumBranch(
                    model=model, param_name=meta["param_name"], param=z[f"eq{i}_param"],
                    x=z[f"eq{i}_x"], eigenvalues=z[f"eq{i}_eigenvalues"], stable=z[f"eq{i}_stable"],
                    newton_iterations=np.zeros(z[f"eq{i}_param"].size, int),
                    ds=np.zeros(z[f"eq{i}_param"].size), stop=_stop_load(m),
                    special_points=tuple(SpecialPoint.from_json(s) for s in m["special_points"]),
                    settings=ContinuationSettings(), params=params)
                    for i, m in enumerate(meta["equilibria"]))
                cys = tuple(CycleBranch(
                    model=model, param_name=meta["param_name"], param=z[f"cy{j}_param"],
                    period=z[f"cy{j}_period"], x_max=z[f"cy{j}_x_max"], x_min=z[f"cy{j}_x_min"],
                    floquet_multipliers=z[f"cy{j}_floquet_multipliers"],
                    trivial_error=z[f"cy{j}_trivial_error"], stable=z[f"cy{j}_stable"],
                    orbits=z[f"cy{j}_orbits"], mesh=z[f"cy{j}_mesh"],
                    newton_iterations=np.zeros(z[f"cy{j}_param"].size, int),
                    ds=np.zeros(z[f"cy{j}_param"].size),
                    special_points=tuple(SpecialPoint.from_json(s) for s in m["special_points"]),
                    stop=_stop_load(m), collocation=Collocation(m["ntst"], m["ncol"]),
                    settings=CYCLE_SETTINGS, notes=tuple(m["notes"]), params=params)
                    for j, m in enumerate(meta["cycles"]))
        except (KeyError, TypeError, json.JSONDecodeError) as e:
            raise ValueError(f"{path} is not a complete diagram file ({type(e).__name__}: "
                             f"{e}); write one with BifurcationDiagram.save") from None
        return cls(model, meta["param_name"], tuple(meta["bounds"]), eqs, cys, params)

    def to_csv(self, directory) -> list[Path]:
        """One CSV table per branch (``equilibria_{i}.csv``, ``cycles_{j}.csv``) and
        ``special_points.csv``; returns the paths."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        names = self.model.state_names
        p = self.param_name
        out = []
        for i, b in enumerate(self.equilibria):
            rows = [[b.param[k], *b.x[k], bool(b.stable[k]),
                     *np.round(b.eigenvalues[k], 12)] for k in range(len(b))]
            out.append(_write(d / f"equilibria_{i}.csv",
                              [p, *names, "stable", *[f"eig{j}" for j in range(len(names))]],
                              rows))
        for j, b in enumerate(self.cycles):
            rows = [[b.param[k], b.period[k], b.frequency[k], *b.x_max[k], *b.x_min[k],
                     bool(b.stable[k]), float(np.abs(b.floquet_multipliers[k, 0])),
                     b.trivial_error[k]] for k in range(len(b))]
            head = [p, "period", "frequency_Hz" if self.model.time_unit == "ms" else "frequency",
                    *[f"{s}_max" for s in names], *[f"{s}_min" for s in names], "stable",
                    "max_abs_nontrivial_multiplier", "trivial_multiplier_error"]
            out.append(_write(d / f"cycles_{j}.csv", head, rows))
        rows = [[s.kind, s.param, s.period if s.period is not None else "", s.status.value,
                 s.data.l1 if isinstance(s.data, HopfData) and s.data.l1 is not None else ""]
                for b in (*self.equilibria, *self.cycles) for s in b.special_points]
        out.append(_write(d / "special_points.csv", ["kind", p, "period", "status", "l1"], rows))
        return out


def _open_archive(path):
    """``np.load`` of a diagram file; ``ValueError`` with one line for anything else."""
    import zipfile

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is not a diagram file (not a NumPy .npz archive); write one "
                         "with BifurcationDiagram.save")
    z = np.load(path, allow_pickle=False)
    if "meta" not in z.files:
        z.close()
        raise ValueError(f"{path} is a NumPy archive but not a diagram file (no 'meta' entry); "
                         "write one with BifurcationDiagram.save")
    return z


def _write(path, head, rows):
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(head)
        w.writerows(rows)
    return path


def _stable_intervals(branch) -> list[tuple[float, float]]:
    """Parameter ranges of the stable stretches of a branch; a stretch that ends next to a
    special point (Hopf, LPC, PD, ...) extends to its located parameter."""
    st, p = np.asarray(branch.stable, bool), branch.param
    at = {s.index: s.param for s in branch.special_points}
    edges = np.flatnonzero(np.diff(np.r_[0, st.astype(int), 0]))
    out = []
    for a, b in zip(edges[::2], edges[1::2]):  # stable points a .. b-1
        vals = list(p[a:b])
        if a - 1 in at:
            vals.append(at[a - 1])
        if b - 1 in at:
            vals.append(at[b - 1])
        out.append((float(min(vals)), float(max(vals))))
    return out


def _union(intervals):
    merged = []
    for lo, hi in sorted(intervals):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


#: format-1 files: the stop reason as text, read back into a Stop record
_LEGACY_STOPS = (
    (r"reached (?:stop at|the bound) \w+=(\S+)$", Status.REACHED_BOUND),
    (r"returned to the start value \w+=(\S+) ", Status.RETURNED_TO_START),
    (r"max steps \((\d+)\)", Status.MAX_STEPS),
    (r"step size below ds_min=(\S+) at \w+=(\S+): .* in (\d+) iterations", Status.STEP_TOO_SMALL),
    (r"returned to an equilibrium at \w+=(\S+) ", Status.RETURNED_TO_HOPF),
    (r"period (\S+) above max_period=(\S+) at \w+=(\S+) ", Status.PERIOD_TOO_LARGE),
)


def _stop_load(m: dict) -> Stop:
    """The branch's Stop record (format 2), or parsed from its stop_reason text (format 1)."""
    if "stop" in m:
        return Stop.from_json(m["stop"])
    text = m["stop_reason"]
    for pattern, status in _LEGACY_STOPS:
        g = re.match(pattern, text)
        if g is None:
            continue
        v = [float(x) for x in g.groups()]
        if status is Status.MAX_STEPS:
            return Stop(status, math.nan, v[0])
        if status is Status.STEP_TOO_SMALL:
            return Stop(status, v[1], v[0], v[2])
        if status is Status.PERIOD_TOO_LARGE:
            return Stop(status, v[2], v[1], v[0])
        return Stop(status, v[0])
    raise ValueError(f"unknown stop reason in a format-1 diagram file: {text!r}")


def _on_branch(branch, value, x) -> bool:
    """Does the equilibrium ``x`` at ``param = value`` lie on ``branch``?"""
    p = branch.param
    k = np.flatnonzero((p[:-1] - value) * (p[1:] - value) <= 0)
    for i in k:
        w = (value - p[i]) / (p[i + 1] - p[i]) if p[i + 1] != p[i] else 0.0
        xi = branch.x[i] + w * (branch.x[i + 1] - branch.x[i])
        if np.linalg.norm(xi - x) <= 1e-3 * (1.0 + np.linalg.norm(x)):
            return True
    return False


def _equilibrium_branches(model, param, lo, hi, settings, progress, fixed, box, method):
    """Branches through every equilibrium found at the ends, the middle and 0 of the range
    (an S-shaped curve whose middle branch leaves the range would otherwise hide a part)."""
    branches = []
    for v in dict.fromkeys(v for v in (lo, hi, 0.5 * (lo + hi), 0.0) if lo <= v <= hi):
        eqs = find_equilibria(model, box, method=method, **{**fixed, param: v})
        for j in range(len(eqs)):
            if any(_on_branch(b, v, eqs.x[j]) for b in branches):
                continue
            for end in (hi, lo):
                if end != v:
                    branches.append(continue_equilibria(model, param, v, end, settings=settings,
                                                        equilibrium=j, box=box, method=method,
                                                        progress=progress, **fixed))
    if not branches:
        raise ValueError(f"no equilibrium of {model.name} in its state box at {param} = "
                         f"{lo:g}, {0.5 * (lo + hi):g}, {hi:g} or 0")
    return branches


def _distinct_hopf_points(branches):
    out = []
    for s in sorted((s for b in branches for s in b.hopf_points
                     if s.status is Status.CONVERGED),
                    key=lambda s: s.param):
        if not any(abs(s.param - q.param) <= 1e-8 * (1 + abs(q.param))
                   and np.allclose(s.state, q.state, rtol=1e-6, atol=1e-9) for q in out):
            out.append(s)
    return out


@float64
def bifurcation_diagram(
    model: ODEModel,
    param: str,
    bounds: tuple[float, float],
    *,
    settings: ContinuationSettings | None = None,
    cycle_settings: ContinuationSettings | None = None,
    collocation: Collocation | None = None,
    box: dict | None = None,
    method: str = "auto",
    simulate: int = 3,
    progress: bool = False,
    **fixed_params,
) -> BifurcationDiagram:
    """Equilibria over ``bounds``, every cycle branch born at their Hopf points, and the
    branches through stable cycles found by simulation.

    Arguments:
        model: the model.
        param: the bifurcation parameter.
        bounds: ``(lo, hi)``, the parameter range of every branch.
        settings: continuation settings of the equilibria (AUTO-like defaults).
        cycle_settings: continuation settings of the cycles (default
            :data:`~hhanalysis.continuation.cycles.CYCLE_SETTINGS`).
        collocation: NTST/NCOL/mesh adaptation of the cycles.
        box, method: how equilibria are found (:func:`~hhanalysis.find_equilibria`: the state
            box, and 'auto', 'reduction' or 'newton').
        simulate: the number of interior parameter values (equally spaced) at which, besides
            both ends of the range, a short simulation looks for a stable cycle not on a branch
            yet (:func:`~hhanalysis.continuation.cycles.simulate_cycle`); each one found is
            continued in both directions. ``-1`` turns the search off (only Hopf branches).
        **fixed_params: values of the other parameters.

    Raises:
        ValueError: unknown names, bad bounds, or no equilibrium to start from.
    """
    model.check_param_names([param], "bifurcation parameter")
    try:
        lo, hi = (float(b) for b in bounds)
    except (TypeError, ValueError):
        raise ValueError(f"bounds must be (lo, hi), got {bounds!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"bounds must be finite with lo < hi, got {bounds!r}")
    model.check_param_range(param, lo, hi, "bounds")  # e.g. C through 0: not physical
    model.check_param_names(list(fixed_params))
    if param in fixed_params:
        raise ValueError(f"{param!r} is the bifurcation parameter; do not also fix it")
    if int(simulate) != simulate or simulate < -1:
        raise ValueError(f"simulate must be an integer >= -1, got {simulate!r}")
    fixed = dict(fixed_params)
    eqs = _equilibrium_branches(model, param, lo, hi, settings, progress, fixed, box, method)
    hopfs = _distinct_hopf_points(eqs)
    cycles: list[CycleBranch] = []
    opts = dict(settings=cycle_settings, collocation=collocation, box=box, method=method,
                progress=progress)
    for h in hopfs:
        if any(_ends_at(b, h) for b in cycles):
            continue
        cycles.append(continue_cycles(model, h, (lo, hi), **opts))
    if simulate >= 0:
        samples = [hi, lo] + list(np.linspace(lo, hi, int(simulate) + 2)[1:-1])
        for v in samples:
            if any(_stable_cycle_at(b, v) for b in cycles):
                continue
            orbit = simulate_cycle(model, param, v, box=box, method=method, **fixed)
            if orbit is None or any(_has_orbit(b, v, orbit.period) for b in cycles):
                continue
            for direction in (-1, 1):
                if (direction < 0 and v > lo) or (direction > 0 and v < hi):
                    try:
                        cycles.append(continue_cycles(model, orbit, (lo, hi),
                                                      direction=direction, **opts))
                    except RuntimeError:
                        # no periodic orbit next to the simulated one (a slowly decaying
                        # oscillation near a Hopf point passes the simulation's test)
                        break
    params = dict(zip(model.param_names, map(float, model.param_vector(**fixed))))
    return BifurcationDiagram(model, param, (lo, hi), tuple(eqs), tuple(cycles), params)


def _stable_cycle_at(branch: CycleBranch, value: float) -> bool:
    """Does ``branch`` hold a stable orbit at ``param = value`` (between two of its orbits, one
    of them stable)?"""
    p, st = branch.param, branch.stable
    k = _segments_at(p, value)
    return bool(np.any(st[k] | st[k + 1]))


def _segments_at(p, value, tol: float = 1e-9):
    """Indices ``i`` with ``value`` between ``p[i]`` and ``p[i + 1]`` (to ``tol`` relative: an
    orbit located on a bound counts)."""
    d = p - value
    d = np.where(np.abs(d) <= tol * (1.0 + abs(value)), 0.0, d)
    return np.flatnonzero(d[:-1] * d[1:] <= 0)


def _has_orbit(branch: CycleBranch, value: float, period: float) -> bool:
    """Does ``branch`` pass ``param = value`` with this period (to 1 %)?"""
    p, T = branch.param, branch.period
    for i in _segments_at(p, value):
        w = (value - p[i]) / (p[i + 1] - p[i]) if p[i + 1] != p[i] else 0.0
        if abs(T[i] + w * (T[i + 1] - T[i]) - period) <= 0.01 * period:
            return True
    return False


def _ends_at(branch: CycleBranch, hopf: SpecialPoint) -> bool:
    """Did the cycle branch end (amplitude -> 0) next to this Hopf point?"""
    if branch.status is not Status.RETURNED_TO_HOPF:
        return False
    width = max(1e-3 * (abs(hopf.param) + 1.0), 5 * abs(branch.param[-1] - branch.param[-2]))
    return abs(branch.param[-1] - hopf.param) < width
