"""``DSRunner``: runs a neuron group with inputs and monitors, as BrainPy's ``DSRunner``.

**Time stamps.** Row ``k`` of every monitor is the state *after* step ``k``, and
``runner.mon.ts[k] = t0 + (k + 1)·dt`` is the time at which the group is in that state (BrainPy
stamps the same row with the pre-step time ``t0 + k·dt``, one step early). The input monitored in
row ``k`` is the current applied during step ``k``, i.e. on ``[ts[k] - dt, ts[k])``.

**Inputs** (BrainPy's format): ``(name, value)`` or ``(name, value, type)`` or
``(name, value, type, op)``, or a list of them. ``name`` is a group variable (``'input'`` or a state
variable); ``type`` is ``'fix'`` (a constant: scalar or per-neuron array), ``'iter'`` (an array
with exactly one row per step of the run: a mismatch is an error, never a silent clamp) or
``'func'`` (``f(t) -> value`` at the start of each step); ``op`` is ``'+'`` (default) or ``'='``.
The ``'input'`` variable is reset to 0 after each step, so ``+`` on it sets the current.

**Execution.** The steps run in ``jax.lax.scan`` inside one jitted function per run configuration
(group shape, dtype, method, monitors, input structure, dt, chunk length); the function is
cached, so a second ``run`` of the same shape does not recompile. Long runs are cut into chunks
of ``chunk_steps`` steps (a shorter last chunk has its own cached scan); the progress bar
advances per chunk. On the CPU, large groups run in blocks of neurons, each through all steps of
a chunk, on one host thread per core (:mod:`~hhanalysis.simulate.execution`); monitors and final
states are the same as an unblocked run's.
A second ``run`` continues from the current state and time.

**Memory.** Before a run starts, its memory (time stamps, monitors, one chunk on the device) is
estimated and compared with :func:`~hhanalysis.simulate.resources.memory_budget`; a run that
would not fit raises :class:`~hhanalysis.simulate.resources.ResourceError` with the estimate and
the ways out (streaming to a file, monitor fewer neurons or variables, ``monitor_every``, shorter
runs one after another). Chunks are shortened so that one chunk's monitors stay below
:data:`CHUNK_MONITOR_BYTES` (256 MiB).

**Streaming.** ``run(duration, out="traces.npz")`` (or ``.csv``, ``.parquet``) writes the time
stamps and monitors to the file chunk by chunk instead of keeping them
(:mod:`~hhanalysis.simulate.streaming`): the memory of the run is one chunk, at most
:data:`STREAM_CHUNK_BYTES` (64 MiB) of monitors, whatever the duration. ``runner.mon`` is then a
:class:`StreamedMonitors` that reads the file when an array is asked for.

**Plausibility.** After a run, a :class:`RuntimeWarning` says when the spike variable (V) left
[-200, 200] (mV for HH: an input far outside the physiological range, or an integration that is
unstable at this ``dt``) or when a gating variable with bounds [0, 1] left them by more than
1e-6 (the method is unstable at this ``dt``: reduce it or use ``'exp_auto'``).
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from ..precision import float64
from ..sharding import sweep_mesh
from . import kernels
from .execution import Execution, Layout, from_blocks, layout, run_concurrently, to_blocks
from .inputs import DEFAULT_DT, n_steps
from .integrators import FIXED_STEP_METHODS, adaptive_step
from .kernels import (
    fused_chunk_runner,
    monitored,
    pallas_chunk_runner,
    pallas_unsupported,
    step_inputs,
)
from .neurons import NeuronGroup
from .resources import check_memory
from .streaming import MonitorFile, _Member, monitor_format, read_monitors, stream_writer

__all__ = ["DSRunner", "Monitors", "StreamedMonitors", "Execution"]

#: Largest size (bytes) of one chunk's monitor outputs; longer chunks are cut shorter.
CHUNK_MONITOR_BYTES = 256 * 2**20
#: The same for a run streamed to a file, whose memory is about three such chunks.
STREAM_CHUNK_BYTES = 64 * 2**20
#: Plausible range of the spike variable (mV for the neuron models); outside it a warning.
V_PLAUSIBLE = (-200.0, 200.0)


class Monitors:
    """Recorded arrays: ``ts`` (steps,) and one ``(steps,) + shape`` array per monitor."""

    def __init__(self, names):
        self.ts = np.zeros(0)
        self._names = tuple(names)
        for n in names:
            setattr(self, n, None)

    def __getitem__(self, name):
        return getattr(self, name)

    def keys(self):
        return self._names

    def __repr__(self):
        shapes = ", ".join(f"{n}: {getattr(self, n).shape}" for n in self._names
                           if getattr(self, n) is not None)
        return f"Monitors(ts: {self.ts.shape}, {shapes})"


class StreamedMonitors(Monitors):
    """``runner.mon`` after ``run(duration, out=FILE)``: the monitors are in the file ``path``
    (:mod:`~hhanalysis.simulate.streaming`) and nothing of them stays in memory. ``mon.ts``,
    ``mon.V``, ... read the file on first access, with the shapes and dtypes of an in-memory
    run: an NPZ file as read-only memory maps (no copy: rows are read when touched), a CSV or
    Parquet file whole."""

    def __init__(self, names, path, members: dict, shapes: dict, dtypes: dict):
        self._names = tuple(names)
        self.path = Path(path)
        self._members, self._shapes, self._dtypes = members, shapes, dtypes
        self._data = None

    def _load(self) -> dict:
        if self._data is None:
            raw = read_monitors(self.path)
            self._data = {key: np.asarray(raw[m]).astype(self._dtypes[key], copy=False)
                          .reshape((-1,) + self._shapes[key]) if key != "ts" else raw[m]
                          for key, m in self._members.items()}
        return self._data

    def __getattr__(self, name):  # only for attributes not set: the recorded arrays
        if name == "ts" or name in self.__dict__.get("_names", ()):
            return self._load()[name]
        raise AttributeError(name)

    def __repr__(self):
        return f"Monitors(streamed to {str(self.path)!r}: {', '.join(('ts',) + self._names)})"


@dataclass(frozen=True)
class _InputSpec:
    target: str
    kind: str  # 'fix' | 'iter' | 'func'
    op: str  # '+' | '='
    value: object


def _parse_inputs(inputs, group: NeuronGroup) -> list[_InputSpec]:
    if inputs is None or (isinstance(inputs, (list, tuple)) and len(inputs) == 0):
        return []
    if isinstance(inputs, tuple) and inputs and isinstance(inputs[0], str):
        inputs = [inputs]
    specs = []
    valid = ("input",) + group.model.state_names
    for item in inputs:
        if not isinstance(item, (tuple, list)) or not 2 <= len(item) <= 4:
            raise ValueError(f"inputs: each item must be (name, value[, type[, op]]), got "
                             f"{item!r}")
        name, value = item[0], item[1]
        kind = item[2] if len(item) > 2 else "fix"
        op = item[3] if len(item) > 3 else "+"
        name = name.split(".")[-1] if isinstance(name, str) else name
        if name not in valid:
            raise ValueError(f"inputs: unknown target {item[0]!r}; valid: {list(valid)}")
        if kind not in ("fix", "iter", "func"):
            raise ValueError(f"inputs: type must be 'fix', 'iter' or 'func', got {kind!r}")
        if op not in ("+", "="):
            raise ValueError(f"inputs: operation must be '+' or '=', got {op!r}")
        if kind == "func" and not callable(value):
            raise ValueError(f"inputs: a 'func' input needs a callable, got {value!r}")
        if kind != "func":
            arr = np.asarray(value, dtype=np.float64)
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"inputs: the values for {name!r} contain NaN or inf")
            value = arr
        specs.append(_InputSpec(name, kind, op, value))
    return specs


def _per_neuron(arr, group, what, lead=()):
    """Broadcast ``arr`` of shape lead + (scalar | group shape | (N,)) to lead + (N,); a scalar
    tail after a non-empty ``lead`` (an input series shared by all neurons) stays lead + (1,)."""
    tail = arr.shape[len(lead):]
    if lead and not tail:
        return arr.reshape(lead + (1,))
    for shape in (group.size, (group.num,)):
        if _broadcasts(tail, shape):
            aligned = arr.reshape(lead + (1,) * (len(shape) - len(tail)) + tail)
            return np.broadcast_to(aligned, lead + shape).reshape(lead + (group.num,))
    raise ValueError(f"{what} has shape {arr.shape}; expected {lead} followed by a scalar or "
                     f"the group's shape {group.size}")


def _broadcasts(a, b):
    try:
        return np.broadcast_shapes(a, b) == b
    except ValueError:
        return False


def _monitor_spec(monitors, group: NeuronGroup):
    if monitors is None:
        return {}
    if isinstance(monitors, str):
        monitors = [monitors]
    if isinstance(monitors, dict):
        items = monitors.items()
    else:
        items = [(m, None) for m in monitors]
    spec = {}
    for name, idx in items:
        if name not in group.variables:
            raise ValueError(f"monitors: unknown variable {name!r}; valid: "
                             f"{list(group.variables)}")
        if idx is not None:
            idx = np.asarray(idx, dtype=np.int64).reshape(-1)
            if idx.size == 0 or idx.min() < -group.num or idx.max() >= group.num:
                raise ValueError(f"monitors[{name!r}]: indices must lie in [0, {group.num})")
            idx = tuple(int(i) % group.num for i in idx)
        spec[name] = idx
    return spec


# steps per iteration of the compiled time loop of blocked runs (large groups, fixed-step
# methods): less loop overhead per step, ~8% faster at N >= 1e5 (measured: 4 vs 1); small groups
# keep 1, since unrolling multiplies their compile time
_UNROLL = 4


@functools.lru_cache(maxsize=32)  # bounded: each compiled scan holds memory mappings of JIT code
def _chunk_runner(cm, method, adaptive, state_names, spike_index, input_index, monitor_items,
                  target_keys, chunk, dt, blocks):
    """Jitted scan over ``chunk`` steps for one worker's share of neurons; cached per run
    configuration.

    ``target_keys`` = ((fixed input keys), (iter input keys), (func input keys)), each key
    ``(variable, op)``; ``monitor_items`` = ((name, indexed?), ...). With ``blocks > 1`` the
    share is cut into that many blocks, each scanned through all steps in turn (``lax.map``).
    Arguments whose last axis has the share's length are per neuron (blocked); the others
    (scalars, ``(steps, 1)`` input series) are shared by all neurons. Indexed monitors take
    ``mon_idx[name]``, block-local indices of shape ``(blocks, k)``; their output is
    ``(chunk, blocks*k)``, full monitors give ``(chunk, share)``.
    """
    step_fn = (FIXED_STEP_METHODS[method] if method in FIXED_STEP_METHODS
               else adaptive_step(cm, method, adaptive))
    unroll = _UNROLL if method in FIXED_STEP_METHODS and blocks > 1 else 1
    state_index = {s: i for i, s in enumerate(state_names)}

    def run_block(X, P, threshold, fixed, iters, funcs, last_spike, mon_idx):
        def body(carry, xs):
            X, last_spike = carry
            it, fn = xs
            inp, on_states = step_inputs(target_keys, fixed, it, fn, jnp.zeros_like(X[0]))
            Xs = X
            for t, (base, add) in on_states.items():
                i = state_index[t]
                Xs = Xs.at[i].set((Xs[i] if base is None else base) + add)
            Pk = list(P)
            Pk[input_index] = P[input_index] + inp
            Xn = step_fn(cm, Xs, Pk, dt)
            v_old, v_new = Xs[spike_index], Xn[spike_index]
            spike = (v_old < threshold) & (v_new >= threshold)
            last_spike = spike
            out = {}
            for name, indexed in monitor_items:
                val = monitored(name, state_names, Xn, spike, inp)
                out[name] = val[mon_idx[name]] if indexed else val
            return (Xn, last_spike), out

        (X, last_spike), out = jax.lax.scan(body, (X, last_spike), (iters, funcs),
                                            length=chunk, unroll=unroll)
        return X, out, last_spike

    def run(X, P, threshold, fixed, iters, funcs, last_spike, mon_idx):
        if blocks == 1:
            return run_block(X, P, threshold, fixed, iters, funcs, last_spike,
                             {k: v[0] for k, v in mon_idx.items()})
        share = X.shape[-1]
        leaves, tree = jax.tree_util.tree_flatten(
            (X, P, threshold, fixed, iters, funcs, last_spike))
        per_neuron = [jnp.ndim(a) >= 1 and jnp.shape(a)[-1] == share for a in leaves]
        xs = [to_blocks(a, blocks) for a, b in zip(leaves, per_neuron) if b]

        def one_block(xs_and_idx):
            xs, idx = xs_and_idx
            it = iter(xs)
            merged = [next(it) if b else a for a, b in zip(leaves, per_neuron)]
            return run_block(*jax.tree_util.tree_unflatten(tree, merged), idx)

        Xb, out, spikes = jax.lax.map(one_block, (xs, mon_idx))
        out = {k: from_blocks(v) for k, v in out.items()}
        return from_blocks(Xb), out, from_blocks(spikes)

    return jax.jit(run)


def _route_runner(route, kernel, g, mon_items, targets, chunk, dt, blocks):
    """The compiled chunk of the route chosen by :func:`kernel_route` (the Pallas kernel in
    interpret mode off a GPU); under ``kernel='auto'`` a Pallas kernel that fails to compile
    falls back to the XLA step with a warning."""
    cm, names = g.model.compile(), g.model.state_names
    common = (names, names.index(g.spike_variable), g.model.param_names.index(g.input_param),
              mon_items, targets, chunk, dt)
    xla = _chunk_runner(cm, g.method, g.adaptive, *common, blocks)
    if route == "xla":
        return xla
    if route == "fused":
        return fused_chunk_runner(cm, g.method, *common)
    pallas = pallas_chunk_runner(cm, g.method, *common, kernels.BLOCK,
                                 jax.default_backend() != "gpu")
    return _with_fallback(pallas, xla) if kernel == "auto" else pallas


_FAILED: set = set()  # Pallas chunk runners that failed in this session (not tried again)


def _with_fallback(primary, fallback):
    """``primary``, or ``fallback`` with a :class:`RuntimeWarning` when ``primary`` fails (then
    ``fallback`` for the rest of the session)."""

    def run(*args):
        if primary in _FAILED:
            return fallback(*args)
        try:
            return primary(*args)
        except Exception as e:  # a Triton compile failure on this GPU: keep running
            _FAILED.add(primary)
            warnings.warn(f"the Pallas simulation kernel failed ({type(e).__name__}: "
                          f"{str(e).splitlines()[0] if str(e) else ''}); running the XLA step "
                          "(Execution(kernel='xla') skips the attempt)", RuntimeWarning,
                          stacklevel=4)
            return fallback(*args)

    return run


def kernel_route(kernel: str, method: str, monitor_spec: dict, on_mesh: bool) -> str:
    """``'xla'``, ``'fused'`` or ``'pallas'``: the route that ``Execution(kernel=...)`` takes for
    a run (:mod:`~hhanalysis.simulate.kernels`). ``'auto'`` is Pallas on a GPU backend when
    the run is one it supports, else XLA; ``'fused'`` and ``'pallas'`` raise ``ValueError`` for
    a run they cannot do."""
    if kernel == "xla":
        return "xla"
    if kernel == "fused":
        if method not in FIXED_STEP_METHODS:
            raise ValueError(f"Execution(kernel='fused') runs the fixed-step methods "
                             f"{list(FIXED_STEP_METHODS)}; method {method!r} is adaptive "
                             "(use kernel='auto' or 'xla')")
        return "fused"
    why = pallas_unsupported(method, monitor_spec, on_mesh)
    if kernel == "pallas":
        if why is not None:
            raise ValueError(f"Execution(kernel='pallas') cannot run this: {why}; use "
                             "kernel='auto' or 'xla'")
        return "pallas"
    return "pallas" if why is None and jax.default_backend() == "gpu" else "xla"


class DSRunner:
    """Run a neuron group with inputs and monitors (BrainPy's ``DSRunner``).

    Arguments:
        target: the :class:`~hhanalysis.simulate.neurons.NeuronGroup` (e.g. :class:`HH`).
        monitors: variable names (list), or ``{name: neuron indices}`` to record a subset.
            Valid: the state variables, ``'spike'``, ``'input'``.
        inputs: ``(name, value)``, ``(name, value, type)`` or ``(name, value, type, op)``, or a
            list of them: ``name`` is ``'input'`` or a state variable; ``type`` is ``'fix'``
            (a constant, scalar or per neuron), ``'iter'`` (an array with exactly one row per
            step of the run) or ``'func'`` (``f(t) -> value`` at the start of each step);
            ``op`` is ``'+'`` (default) or ``'='``. ``'input'`` is reset to 0 after each step.
        dt: time step in ms (default 0.1).
        progress_bar: show a tqdm bar per chunk.
        chunk_steps: steps per compiled chunk (at most; chunks are cut shorter so that one
            chunk's monitors stay below :data:`CHUNK_MONITOR_BYTES`).
        monitor_every: record every ``monitor_every``-th step only (row ``j`` of the monitors is
            the state after step ``(j + 1) * monitor_every``), to keep long runs small.
        t0: start time (ms).
        jit: accepted for BrainPy compatibility; runs are always compiled.
        execution: how large groups are spread over the CPU cores
            (:class:`~hhanalysis.simulate.execution.Execution`: blocks of neurons kept in cache,
            threads); the results do not depend on it.

    ``run(duration)`` keeps the monitors in memory (``runner.mon``);
    ``run(duration, out="traces.npz")`` streams them to a file (``.npz``, ``.csv`` or
    ``.parquet``) chunk by chunk, so that memory holds one chunk whatever the duration
    (:mod:`~hhanalysis.simulate.streaming`).
    """

    @float64
    def __init__(self, target: NeuronGroup, monitors=None, inputs=(), dt=None,
                 progress_bar=False, chunk_steps: int = 20_000, t0: float = 0.0, jit=True,
                 execution: Execution | None = None, monitor_every: int = 1):
        if not isinstance(target, NeuronGroup):
            raise ValueError(f"target must be a neuron group (e.g. HH), got {target!r}")
        self.target = target
        self.dt = DEFAULT_DT if dt is None else dt
        if not isinstance(self.dt, (int, float, np.floating, np.integer)) \
                or isinstance(self.dt, bool) or not math.isfinite(self.dt) or self.dt <= 0:
            raise ValueError(f"dt must be a positive finite number (ms), got {dt!r}")
        self.dt = float(self.dt)
        if int(chunk_steps) != chunk_steps or chunk_steps < 1:
            raise ValueError(f"chunk_steps must be a positive integer, got {chunk_steps!r}")
        self.chunk_steps = int(chunk_steps)
        if isinstance(monitor_every, bool) or not isinstance(monitor_every, (int, np.integer)) \
                or monitor_every < 1:
            raise ValueError(f"monitor_every must be a positive integer, got {monitor_every!r}")
        self.monitor_every = int(monitor_every)
        if execution is not None and not isinstance(execution, Execution):
            raise ValueError(f"execution must be an hh.simulate.Execution, got {execution!r}")
        self.execution = execution or Execution()
        self.monitor_spec = _monitor_spec(monitors, target)
        self.inputs = _parse_inputs(inputs, target)
        self.progress_bar = progress_bar
        self.mon = Monitors(self.monitor_spec)
        self.t = float(t0)
        target.t = self.t

    def _monitor_bytes_per_step(self) -> int:
        """Bytes one step adds to the monitors."""
        g = self.target
        item = np.dtype(g.dtype).itemsize
        return sum((g.num if idx is None else len(idx)) * (1 if name == "spike" else item)
                   for name, idx in self.monitor_spec.items())

    # -- inputs ------------------------------------------------------------------------------
    def _input_arrays(self, steps, ts_start):
        g = self.target
        fixed, iters, funcs = [], [], []
        for spec in self.inputs:
            key = (spec.target, spec.op)
            if spec.kind == "fix":
                value = spec.value if spec.value.ndim == 0 else _per_neuron(
                    spec.value, g, f"input {spec.target!r}")
                fixed.append((key, value))
            elif spec.kind == "iter":
                arr = spec.value
                rows = arr.shape[0] if arr.ndim else 0
                if rows != steps:
                    raise ValueError(
                        f"input {spec.target!r} of type 'iter' has {rows} rows but the run has "
                        f"{steps} steps (duration/dt); give exactly one row per step")
                iters.append((key, _per_neuron(arr, g, f"input {spec.target!r}", (steps,))))
            else:
                funcs.append((key, _per_neuron(_evaluate(spec.value, ts_start), g,
                                               f"input {spec.target!r}", (steps,))))
        return fixed, iters, funcs

    # -- running -----------------------------------------------------------------------------
    @float64
    def run(self, duration: float, out=None):
        """Advance ``duration`` ms (``round(duration/dt)`` steps).

        Arguments:
            duration: ms, a finite number >= 0.
            out: ``None`` (default): the monitors are kept in memory, in ``self.mon``. A path
                ending in ``.npz``, ``.csv`` or ``.parquet`` (or a
                :class:`~hhanalysis.simulate.streaming.MonitorFile`): the time stamps and
                monitors are streamed to that file chunk by chunk as the run goes (memory:
                one chunk, at most :data:`STREAM_CHUNK_BYTES` of monitors), written to a
                temporary file renamed onto ``out`` at the end (a failed or interrupted run
                leaves no partial file); ``self.mon`` is then a :class:`StreamedMonitors`
                that reads the file when an array is asked for.

        Returns:
            ``self.mon``.
        """
        if not isinstance(duration, (int, float, np.floating, np.integer)) \
                or isinstance(duration, bool) or not math.isfinite(duration) or duration < 0:
            raise ValueError(f"duration must be a finite number >= 0 (ms), got {duration!r}")
        stream = _stream_target(out)
        steps = n_steps(duration, self.dt)
        g = self.target
        every = self.monitor_every
        mesh = sweep_mesh(self.execution.devices)
        route = kernel_route(self.execution.kernel, g.method, self.monitor_spec,
                             mesh is not None)
        if mesh is not None:  # one program, the neuron axis split over the devices
            lay = Layout(1, 1, -(-g.num // mesh.size) * mesh.size)
        elif route != "xla":  # one program over the whole group
            lay = Layout(1, 1, g.num)
        else:
            lay = layout(g.num, self.execution, blockable=g.method in FIXED_STEP_METHODS)
        mon_plan = {name: _monitor_plan(idx, lay) for name, idx in self.monitor_spec.items()
                    if idx is not None}
        per_step = self._monitor_bytes_per_step()
        # a step's monitor outputs on the device: all neurons of a share (padded), or for
        # indexed monitors k per block, k the most requested neurons in one block
        device_step = sum((mon_plan[name][0].size if name in mon_plan else lay.padded)
                          * (1 if name == "spike" else np.dtype(g.dtype).itemsize)
                          for name in self.monitor_spec)
        largest = CHUNK_MONITOR_BYTES if stream is None else STREAM_CHUNK_BYTES
        chunk = min(self.chunk_steps, max(steps, 1), max(1, largest // max(device_step, 1)))
        if route == "pallas" and chunk < steps:  # full chunks fill the kernel's 2^k rows
            chunk = 1 << (chunk.bit_length() - 1)
        rows = min(chunk, steps)
        one_chunk = (rows * (device_step + per_step)  # outputs (the kernel's 2^k rows), picked
                     + (1 << max(rows - 1, 0).bit_length() if route == "pallas" else rows)
                     * device_step)
        funcs_given = any(spec.kind == "func" for spec in self.inputs)
        what = (f"run({duration:g}) ({steps} steps of {self.dt:g} ms, monitors "
                f"{list(self.monitor_spec) or 'none'})")
        if stream is None:
            check_memory(
                16 * steps + 2 * (steps // every) * per_step + one_chunk, what,
                "stream the monitors to a file (run(duration, out='traces.npz'), also .csv "
                "or .parquet: memory then holds one chunk), monitor fewer neurons "
                "({'V': indices}) or variables, record every k-th step (monitor_every=k), or "
                "run a shorter duration several times (each run continues)")
        else:  # one chunk: device output, host copy, formatting; the 'func' inputs' times
            check_memory(
                8 * steps * funcs_given + one_chunk + min(chunk, steps) * per_step,
                what + f" streamed to {stream.path}",
                "monitor fewer neurons ({'V': indices}) or variables, or pass a smaller "
                "chunk_steps")
        ts_start = self.t + self.dt * np.arange(steps) if funcs_given else None
        fixed, iters, funcs = self._input_arrays(steps, ts_start)
        targets = (tuple(k for k, _ in fixed), tuple(k for k, _ in iters),
                   tuple(k for k, _ in funcs))
        dtype = g.dtype
        shares = _Shares(g.num, lay)
        P = shares.split([p.astype(dtype) for p in g.param_list()])
        thr = shares.split(g.threshold_value().astype(dtype))
        fixed_arrays = shares.split([jnp.asarray(v, dtype) for _, v in fixed])
        X, last_spike = g.X, g.spike
        mon_items = tuple((name, idx is not None) for name, idx in self.monitor_spec.items())
        mon_idx = [{name: jnp.asarray(table[w]) for name, (table, _) in mon_plan.items()}
                   for w in range(lay.workers)]
        outputs = {name: [] for name in self.monitor_spec}
        v_name = g.spike_variable
        extremes = [math.inf, -math.inf]  # of the monitored spike variable
        rows = steps // every
        shapes = {name: (g.size if idx is None and g.keep_size else
                         (g.num,) if idx is None else (len(idx),))
                  for name, idx in self.monitor_spec.items()}
        dtypes = {name: np.dtype(bool if name == "spike" else dtype)
                  for name in self.monitor_spec}
        with _open_stream(stream, self.monitor_spec, shapes, dtypes, rows) as writer:
            bar = _bar(self.progress_bar, steps)
            # full chunks share one compiled scan; a shorter last chunk gets its own (also cached)
            for lo in range(0, steps, chunk):
                hi = min(lo + chunk, steps)
                runner = _route_runner(route, self.execution.kernel, g, mon_items, targets,
                                       hi - lo, self.dt, lay.blocks)
                it = shares.split([jnp.asarray(v[lo:hi], dtype) for _, v in iters])
                fn = shares.split([jnp.asarray(v[lo:hi], dtype) for _, v in funcs])
                args = [(x, p, t, f, i, u, s, m) for x, p, t, f, i, u, s, m in zip(
                    shares.split(X), P, thr, fixed_arrays, it, fn, shares.split(last_spike),
                    mon_idx)]
                if mesh is not None:
                    args = [_on_mesh(mesh, a, lay.padded) for a in args]
                results = run_concurrently(runner, args)
                X = shares.join([r[0] for r in results])
                last_spike = shares.join([r[2] for r in results])
                first = (every - (lo + 1) % every) % every  # rows of steps (j+1)*every in chunk
                block = {}
                for name in outputs:
                    arr = shares.join([np.asarray(r[1][name]) for r in results],
                                      trim=name not in mon_plan)
                    arr = arr[:, mon_plan[name][1]] if name in mon_plan else arr
                    if name == v_name and arr.size:
                        extremes = [min(extremes[0], float(np.min(arr))),
                                    max(extremes[1], float(np.max(arr)))]
                    block[name] = arr[first::every] if every > 1 else arr
                if writer is None:
                    for name, arr in block.items():
                        outputs[name].append(arr)
                else:  # rows r0 .. r0+n-1: the steps (r+1)*every - 1 in [lo, hi)
                    r0, n = lo // every, hi // every - lo // every
                    ts = self.t + self.dt * (every * np.arange(r0 + 1, r0 + n + 1))
                    writer.write({"ts": ts} | {
                        name: np.asarray(arr, dtypes[name]).reshape((n,) + shapes[name])
                        for name, arr in block.items()})
                del block, results  # one chunk of monitors in memory at a time
                if bar is not None:
                    bar.update(hi - lo)
            if bar is not None:
                bar.close()
            if not bool(jnp.all(jnp.isfinite(X))):
                raise FloatingPointError(
                    f"the simulation produced NaN/inf (method {g.method!r}, dt={self.dt}); "
                    "reduce dt or use method='exp_auto' or 'kvaerno5'")
        _warn_implausible(g, X, extremes, self.dt)
        g.X = X
        g.spike = last_spike
        g.input = jnp.zeros(g.num, dtype)
        if stream is not None:
            members = {"ts": stream.name("ts")} | {n: stream.name(n) for n in self.monitor_spec}
            self.mon = StreamedMonitors(self.monitor_spec, stream.path, members,
                                        shapes | {"ts": ()}, dtypes | {"ts": np.float64})
        else:
            if type(self.mon) is not Monitors:
                self.mon = Monitors(self.monitor_spec)
            self.mon.ts = self.t + self.dt * np.arange(every, rows * every + 1, every)
            for name, chunks in outputs.items():
                arr = (np.concatenate(chunks) if chunks
                       else np.zeros((0,) + shapes[name][-1:], dtypes[name]))
                setattr(self.mon, name, arr.reshape((rows,) + shapes[name]))
        self.t += steps * self.dt
        g.t = self.t
        return self.mon


def _stream_target(out) -> MonitorFile | None:
    """``out`` of :meth:`DSRunner.run` checked before anything runs: ``None`` or a
    :class:`MonitorFile` whose path has a known extension in a writable directory."""
    if out is None:
        return None
    stream = out if isinstance(out, MonitorFile) else MonitorFile(out) \
        if isinstance(out, (str, os.PathLike)) else None
    if stream is None or not isinstance(stream.path, (str, os.PathLike)):
        raise ValueError(f"out must be a file path (.npz, .csv or .parquet) or a MonitorFile, "
                         f"got {out!r}")
    from .._files import writable_directory

    monitor_format(stream.path)
    path = Path(stream.path)
    if path.is_dir():
        raise ValueError(f"out {str(path)!r} is a directory; give a file name")
    problem = writable_directory(path.parent)
    if problem:
        raise ValueError(f"out {str(path)!r}: {problem}")
    return stream


def _open_stream(stream, spec, shapes, dtypes, rows):
    """The writer of a streamed run (a context manager), or a null context."""
    if stream is None:
        return contextlib.nullcontext(None)
    members = [_Member("ts", (), np.dtype(np.float64), None)]
    members += [_Member(name, shapes[name], dtypes[name],
                        np.arange(int(np.prod(shapes[name]))) if idx is None
                        else np.asarray(idx)) for name, idx in spec.items()]
    named = [_Member(stream.name(m.name), m.shape, m.dtype, m.index) for m in members]
    extra = {f"{stream.name(name)}.index": np.asarray(idx, np.int64)
             for name, idx in spec.items() if idx is not None}
    return _RenamedWriter(stream_writer(stream.path, monitor_format(stream.path), named, rows,
                                        extra), {m.name: n.name for m, n in zip(members,
                                                                               named)})


class _RenamedWriter:
    """A stream writer context whose ``write`` takes the monitor names (``ts``, ``V``, ...)."""

    def __init__(self, context, names):
        self.context, self.names = context, names

    def __enter__(self):
        self.writer = self.context.__enter__()
        return self

    def __exit__(self, *exc):
        return self.context.__exit__(*exc)

    def write(self, block):
        self.writer.write({self.names[k]: v for k, v in block.items()})


class _Shares:
    """Cuts per-neuron arrays (last axis of length ``num``) into the layout's worker shares,
    padding the last share with copies of the last neuron, and joins results back."""

    def __init__(self, num: int, lay):
        self.num, self.lay = num, lay
        self.pad = lay.padded - num

    def _split_one(self, a):
        w = self.lay.workers
        if jnp.ndim(a) == 0 or jnp.shape(a)[-1] != self.num or (w == 1 and not self.pad):
            return [a] * w
        if self.pad:
            a = jnp.pad(a, [(0, 0)] * (a.ndim - 1) + [(0, self.pad)], mode="edge")
        s = self.lay.share
        return [a[..., k * s:(k + 1) * s] for k in range(w)]

    def split(self, a):
        """``a`` (an array or a list of arrays) → one per worker."""
        if isinstance(a, list):
            per = [self._split_one(x) for x in a]
            return [[p[k] for p in per] for k in range(self.lay.workers)]
        return self._split_one(a)

    def join(self, parts, trim=True):
        """Concatenate worker results along the last axis (numpy or JAX), drop the padding."""
        xp = np if isinstance(parts[0], np.ndarray) else jnp
        a = parts[0] if len(parts) == 1 else xp.concatenate(parts, axis=-1)
        return a[..., :self.num] if trim and self.pad else a


def _on_mesh(mesh, tree, num: int):
    """Per-neuron arrays of ``tree`` (last axis of length ``num``) split over the mesh's
    ``"sweep"`` axis along the neurons; the rest replicated."""
    from jax.sharding import NamedSharding, PartitionSpec

    def put(a):
        if jnp.ndim(a) >= 1 and jnp.shape(a)[-1] == num:
            spec = PartitionSpec(*([None] * (jnp.ndim(a) - 1) + ["sweep"]))
        else:
            spec = PartitionSpec()
        return jax.device_put(a, NamedSharding(mesh, spec))

    return jax.tree_util.tree_map(put, tree)


def _monitor_plan(idx, lay):
    """Block-local index tables ``(workers, blocks, k)`` for monitoring neurons ``idx``, and the
    positions of the requested neurons, in order, in the joined ``(steps, workers*blocks*k)``
    output."""
    idx = np.asarray(idx, dtype=np.int64)
    block, local = idx // lay.block, idx % lay.block
    n_blocks = lay.workers * lay.blocks
    order = np.argsort(block, kind="stable")
    first = np.searchsorted(block[order], block[order], side="left")
    slot = np.empty_like(idx)
    slot[order] = np.arange(idx.size) - first
    k = int(slot.max()) + 1
    table = np.zeros((n_blocks, k), np.int32)
    table[block, slot] = local
    return table.reshape(lay.workers, lay.blocks, k), block * k + slot


def _warn_implausible(g, X, extremes, dt) -> None:
    """RuntimeWarning when the spike variable left :data:`V_PLAUSIBLE` (monitored or final) or a
    [0, 1]-bounded state left its bounds (an integration unstable at this ``dt``)."""
    names = g.model.state_names
    v = X[names.index(g.spike_variable)]
    lo = min(extremes[0], float(jnp.min(v)))
    hi = max(extremes[1], float(jnp.max(v)))
    if lo < V_PLAUSIBLE[0] or hi > V_PLAUSIBLE[1]:
        warnings.warn(
            f"{g.spike_variable} reached [{lo:.4g}, {hi:.4g}], outside the plausible range "
            f"{list(V_PLAUSIBLE)}: the input is far outside the physiological range, or the "
            f"method {g.method!r} is unstable at dt = {dt:g} (reduce dt)", RuntimeWarning,
            stacklevel=3)
    for s in g.model.states:
        if s.bounds == (0.0, 1.0):
            x = X[names.index(s.name)]
            xlo, xhi = float(jnp.min(x)), float(jnp.max(x))
            if xlo < -1e-6 or xhi > 1 + 1e-6:
                warnings.warn(
                    f"the gate {s.name} left [0, 1] (reached [{xlo:.4g}, {xhi:.4g}]): the "
                    f"method {g.method!r} is unstable at dt = {dt:g}; reduce dt or use "
                    "'exp_auto'", RuntimeWarning, stacklevel=3)
                break


def _evaluate(fn, ts):
    try:
        return np.asarray(jax.vmap(fn)(jnp.asarray(ts)), dtype=np.float64)
    except Exception:  # not traceable: evaluate on the host (input preparation only)
        return np.asarray([fn(t) for t in ts], dtype=np.float64)


def _bar(enabled, steps):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=steps, desc="simulating", unit="step")
