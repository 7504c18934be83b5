r"""GPU routes of the simulator: one fused step, or many steps per kernel launch.

The default route (``Execution(kernel='xla')``, :func:`~hhanalysis.simulate.runner._chunk_runner`)
is tuned for the CPU: the state is one ``(n, N)`` array and the generated model functions keep
shared exponentials apart with optimisation barriers (``_opaque`` in
:mod:`hhanalysis.codegen`), so that XLA does not recompute them. On a GPU the same step
compiles to several kernels (a copy of the stacked state, then exponential, divide/select, add
and spike fusions), each streaming the whole state through memory once per step. Two routes
avoid that; both compute the same expressions as the default route, in the same order up to the
compiler's scheduling, so the results agree to float round-off:

``kernel='fused'``
    XLA only: the state is a tuple of ``n`` arrays and the model functions have no barriers, so
    one step can fuse into one elementwise kernel (:func:`fused_chunk_runner`); still one launch
    and one pass over the state per step.
``kernel='pallas'``
    a Pallas kernel (Triton on CUDA) over blocks of ``block`` neurons (:func:`pallas_chunk_runner`):
    each program loads its neurons' state into registers once and runs all ``K`` steps of a chunk
    in a ``fori_loop``, writing only the monitored rows. Per neuron-step the memory traffic is
    the monitors alone; without monitors the step is bound by arithmetic (exponentials), not by
    memory.

What the Pallas kernel supports (:func:`pallas_unsupported` says why not, and
``kernel='auto'`` then takes the default route): the fixed-step methods
(:data:`~hhanalysis.simulate.integrators.FIXED_STEP_METHODS`); inputs of every kind (``'fix'``
constants scalar or per neuron, ``'iter'``/``'func'`` series shared by all neurons or per
neuron) on ``'input'`` or a state variable, with ``'+'`` or ``'='``; monitors of whole
variables (state variables, ``'spike'``, ``'input'``) and of up to :data:`MAX_INDEXED` chosen
neurons each (``{'V': indices}``); one device. Not supported: the adaptive methods, monitors
of more chosen neurons and ``Execution(devices=...)``.

Triton blocks must have power-of-two shapes, so the group is padded to a multiple of ``block``
(copies of the last neuron, dropped afterwards) and the rows of a chunk's monitors and input
series to the next power of two (unwritten rows, dropped afterwards): a chunk's monitors take up
to twice their size on the device.

On the CPU the Pallas kernel runs in interpret mode (``interpret=True``: each program is
evaluated by XLA, one block after another); that is for testing the route without a GPU,
not for speed (measured on 2 shared cores, HH float32, N = 1e3: 1.7e7 neuron-steps/s, the
``'xla'`` step 2.4e7; ``benchmarks/bench_gpu.py --quick``).
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp

from ..codegen import fused_functions
from .execution import KERNELS
from .integrators import FIXED_STEP_METHODS

__all__ = ["KERNELS", "BLOCK", "fused_chunk_runner", "pallas_chunk_runner", "pallas_unsupported",
           "fused_step"]

#: Neurons per Pallas program (a power of two), read when a run starts; the program has
#: ``BLOCK // 32`` warps: one neuron per thread.
BLOCK = 128
#: Most neurons an indexed monitor (``{'V': indices}``) may name on the Pallas route: each
#: program checks every index at every step.
MAX_INDEXED = 64


# -- integrators on a tuple state ---------------------------------------------------------------
# The same formulas as hhanalysis.simulate.integrators, term for term, on a tuple of n arrays
# instead of a stacked (n, N) array (no stack, no copy: each state variable stays its own value).

def _axpy(X, a, K):
    """:math:`X + aK`, componentwise."""
    return tuple(x + a * k for x, k in zip(X, K))


def _exp_update(x, f, d, dt):
    r""":math:`x + \Delta t\,\varphi(\Delta t\,d)\,f`, :math:`\varphi(z) = (e^z - 1)/z`, as
    :func:`~hhanalysis.simulate.integrators.exponential_euler`."""
    z = dt * d
    tiny = jnp.abs(z) < 1e-7
    return x + jnp.where(tiny, dt, (jnp.exp(z) - 1.0) / jnp.where(tiny, 1.0, d)) * f


def _exponential_euler(fns, X, P, dt):
    out = fns["f_and_jac_diag"](X, P)
    n = len(X)
    return tuple(_exp_update(x, f, d, dt) for x, f, d in zip(X, out[:n], out[n:]))


def _euler(fns, X, P, dt):
    return _axpy(X, dt, fns["f_fast"](X, P))


def _rk2(fns, X, P, dt):
    f = fns["f_fast"]
    k1 = f(X, P)
    k2 = f(_axpy(X, dt, k1), P)
    return tuple(x + 0.5 * dt * (a + b) for x, a, b in zip(X, k1, k2))


def _rk4(fns, X, P, dt):
    f = fns["f_fast"]
    k1 = f(X, P)
    k2 = f(_axpy(X, 0.5 * dt, k1), P)
    k3 = f(_axpy(X, 0.5 * dt, k2), P)
    k4 = f(_axpy(X, dt, k3), P)
    return tuple(x + dt / 6.0 * (a + 2.0 * b + 2.0 * c + d)
                 for x, a, b, c, d in zip(X, k1, k2, k3, k4))


_TUPLE_METHODS = {"exp_auto": _exponential_euler, "exponential_euler": _exponential_euler,
                  "euler": _euler, "rk2": _rk2, "rk4": _rk4}
assert set(_TUPLE_METHODS) == set(FIXED_STEP_METHODS)


@functools.lru_cache(maxsize=32)
def _fused(cm):
    return fused_functions(cm)


# -- one runner step -----------------------------------------------------------------------------

def _apply(add, setv, target, op, value):
    if op == "=":
        setv[target] = value
    else:
        add[target] = add[target] + value


def step_inputs(target_keys, fixed, it, fn, zero):
    """This step's inputs, for every route: the ``'input'`` current (the sum of the ``'+'``
    inputs on top of the last ``'='`` one, ``zero`` if none) and, for each state variable
    with inputs, ``(replacement or None, addition)``. ``it``/``fn`` are this step's rows of
    the ``'iter'``/``'func'`` inputs."""
    targets = sorted({t for keys in target_keys for t, _ in keys})
    add = {t: zero for t in targets}
    setv = {}
    for keys, values in zip(target_keys, (fixed, it, fn)):
        for (t, op), v in zip(keys, values):
            _apply(add, setv, t, op, v)
    inp = setv.get("input", zero) + add.get("input", 0.0)
    return inp, {t: (setv.get(t), add[t]) for t in targets if t != "input"}


def fused_step(cm, method, state_names, spike_index, input_index, target_keys, dt,
               X, P, threshold, fixed, it, fn):
    r"""One step of the runner on a tuple state ``X``: inputs applied, ``X`` advanced by
    ``method``, spikes detected; returns ``(X_new, spike, input)``.

    The rule is the default route's (:func:`~hhanalysis.simulate.runner._chunk_runner`): the
    ``'input'`` current is the sum of the ``'+'`` inputs on top of the last ``'='`` one and is
    added to the parameter ``input_index`` for this step; inputs on a state variable replace
    (``'='``) and add to (``'+'``) it before the step; a spike is an upward crossing of
    ``threshold`` by the spike variable within the step, :math:`v_k < \theta \le v_{k+1}`.
    ``it``/``fn`` are this step's rows of the ``'iter'``/``'func'`` inputs.
    """
    inp, on_states = step_inputs(target_keys, fixed, it, fn, jnp.zeros_like(X[0]))
    Xs = list(X)
    for t, (base, add) in on_states.items():
        i = state_names.index(t)
        Xs[i] = (Xs[i] if base is None else base) + add
    Pk = list(P)
    Pk[input_index] = P[input_index] + inp
    Xn = _TUPLE_METHODS[method](_fused(cm), tuple(Xs), Pk, dt)
    spike = (Xs[spike_index] < threshold) & (Xn[spike_index] >= threshold)
    return Xn, spike, inp


def monitored(name, state_names, Xn, spike, inp):
    """The value monitor ``name`` records after a step (``Xn`` a tuple or a stacked state)."""
    if name == "spike":
        return spike
    if name == "input":
        return jnp.broadcast_to(inp, spike.shape)
    return Xn[state_names.index(name)]


# -- the XLA route without barriers ----------------------------------------------------------------

@functools.lru_cache(maxsize=32)
def fused_chunk_runner(cm, method, state_names, spike_index, input_index, monitor_items,
                       target_keys, chunk, dt):
    """Jitted scan over ``chunk`` steps on a tuple state with barrier-free model functions; the
    signature and results of :func:`~hhanalysis.simulate.runner._chunk_runner` with one block
    (``mon_idx[name]`` of shape ``(1, k)`` for indexed monitors)."""
    step = functools.partial(fused_step, cm, method, state_names, spike_index, input_index,
                             target_keys, dt)

    def run(X, P, threshold, fixed, iters, funcs, last_spike, mon_idx):
        def body(carry, xs):
            Xn, spike, inp = step(carry[0], P, threshold, fixed, *xs)
            out = {}
            for name, indexed in monitor_items:
                val = monitored(name, state_names, Xn, spike, inp)
                out[name] = val[mon_idx[name][0]] if indexed else val
            return (Xn, spike), out

        X0 = tuple(X[i] for i in range(X.shape[0]))
        (Xt, last), out = jax.lax.scan(body, (X0, last_spike), (iters, funcs), length=chunk)
        return jnp.stack(Xt), out, last

    return jax.jit(run)


# -- the Pallas route ----------------------------------------------------------------------------

def pallas_unsupported(method: str, monitor_spec: dict, on_mesh: bool) -> str | None:
    """Why the Pallas kernel cannot run this configuration (``None``: it can)."""
    if method not in FIXED_STEP_METHODS:
        return f"method {method!r} is adaptive (the kernel runs the fixed-step methods)"
    many = [name for name, idx in monitor_spec.items()
            if idx is not None and len(idx) > MAX_INDEXED]
    if many:
        return (f"monitors {many} of more than {MAX_INDEXED} chosen neurons (the kernel "
                "records whole variables, or up to that many neurons each)")
    if on_mesh:
        return "Execution(devices=...) splits the group over devices (the kernel runs on one)"
    return None


def _store_picked(ref, k, pick_ref, val, first, block, m):
    """Row ``k`` of an indexed monitor: for each of its ``m`` neurons that lies in this
    program's block (neurons ``first`` to ``first + block - 1``), the neuron's entry of ``val``
    (a masked sum over the block: a register vector has no gather) into its column."""
    from jax.experimental import pallas as pl

    lane = jax.lax.broadcasted_iota(jnp.int32, val.shape, 0)
    wide = jnp.int32 if val.dtype == jnp.bool_ else val.dtype
    for j in range(m):
        local = pick_ref[j] - first

        @pl.when((local >= 0) & (local < block))
        def _(j=j, local=local):
            ref[k, j] = jnp.sum(jnp.where(lane == local, val.astype(wide), 0)).astype(ref.dtype)


def _pow2(k: int) -> int:
    return 1 << max(0, k - 1).bit_length()


def _pad_last(a, length):
    """``a`` with its last axis padded to ``length`` by copies of its last entry."""
    pad = length - a.shape[-1]
    return a if pad == 0 else jnp.pad(a, [(0, 0)] * (a.ndim - 1) + [(0, pad)], mode="edge")


def _pad_rows(a, rows):
    """``a`` with its first axis padded to ``rows`` by zeros (rows the kernel never reads)."""
    return jnp.pad(a, [(0, rows - a.shape[0])] + [(0, 0)] * (a.ndim - 1))


@functools.lru_cache(maxsize=32)
def pallas_chunk_runner(cm, method, state_names, spike_index, input_index, monitor_items,
                        target_keys, chunk, dt, block=BLOCK, interpret=False):
    """Jitted Pallas kernel running ``chunk`` steps per launch; the signature and results of
    :func:`~hhanalysis.simulate.runner._chunk_runner` with one block (``mon_idx[name]`` of shape
    ``(1, m)``, the neuron indices of an indexed monitor, at most :data:`MAX_INDEXED`).

    The grid runs over blocks of ``block`` neurons (a power of two), one neuron per thread
    (``block // 32`` warps). Each program loads its neurons' state, per-neuron parameters and
    constant inputs once, runs the steps in a ``fori_loop`` with the state in registers and
    stores at the end the state and the last step's spikes. A whole-variable monitor takes row
    ``k`` of the program's ``(K, block)`` output block at step ``k``; an indexed monitor is one
    ``(K, m)`` block shared by all programs, into which the program owning neuron ``j`` writes
    column ``j`` (the value picked from the block by a masked sum; the other programs skip it).
    Values shared by all neurons (scalar parameters, threshold and constant inputs) come from
    one small vector, input series shared by all neurons from a ``(K,)`` vector; ``K`` is
    ``chunk`` rounded up to a power of two. ``interpret=True`` evaluates the kernel with XLA
    (any backend, not for speed: for tests without a GPU).
    """
    from jax.experimental import pallas as pl

    n = len(state_names)
    rows = _pow2(chunk)
    step = functools.partial(fused_step, cm, method, state_names, spike_index, input_index,
                             target_keys, dt)
    names = [name for name, _ in monitor_items]
    indexed = [name for name, picked in monitor_items if picked]

    def run(X, P, threshold, fixed, iters, funcs, last_spike, mon_idx):
        num = X.shape[-1]
        padded = block * math.ceil(num / block)
        # indices of indexed monitors, padded with `padded` (owned by no program)
        picks = {name: jnp.full(_pow2(mon_idx[name].shape[-1]), padded, jnp.int32)
                 .at[:mon_idx[name].shape[-1]].set(mon_idx[name][0].astype(jnp.int32))
                 for name in indexed}
        dtype = X.dtype
        consts = [jnp.asarray(c, dtype) for c in (*P, threshold, *fixed)]
        const_neuron = tuple(c.ndim >= 1 for c in consts)
        shared = [c.reshape(()) for c, b in zip(consts, const_neuron) if not b]
        shared_vec = jnp.zeros(_pow2(max(len(shared), 1)), dtype)
        if shared:
            shared_vec = shared_vec.at[:len(shared)].set(jnp.stack(shared))
        neuron_consts = [_pad_last(c, padded) for c, b in zip(consts, const_neuron) if b]
        series = [jnp.asarray(s, dtype) for s in (*iters, *funcs)]
        series_neuron = tuple(s.shape[-1] != 1 for s in series)
        series = [_pad_rows(_pad_last(s, padded), rows) if b else _pad_rows(s[:, 0], rows)
                  for s, b in zip(series, series_neuron)]
        n_iter = len(iters)
        m = {name: mon_idx[name].shape[-1] for name in indexed}

        def kernel(*refs):
            x_refs, refs = refs[:n], refs[n:]
            c_refs, refs = refs[:len(neuron_consts)], refs[len(neuron_consts):]
            shared_ref, refs = refs[0], refs[1:]
            s_refs, refs = refs[:len(series)], refs[len(series):]
            pick_refs, refs = dict(zip(indexed, refs[:len(indexed)])), refs[len(indexed):]
            xo_refs, spike_ref, mon_refs = refs[:n], refs[n], refs[n + 1:]
            c_iter, s_iter = iter(c_refs), iter(range(len(shared)))
            values = [next(c_iter)[...] if b else shared_ref[next(s_iter)]
                      for b in const_neuron]
            P_, thr, fixed_ = values[:len(P)], values[len(P)], values[len(P) + 1:]
            X0 = tuple(r[...] for r in x_refs)
            first = pl.program_id(0) * block  # this program's first neuron

            def body(k, carry):
                row = [r[k, :] if b else r[k] for r, b in zip(s_refs, series_neuron)]
                Xn, spike, inp = step(carry[0], P_, thr, fixed_, row[:n_iter], row[n_iter:])
                for name, ref in zip(names, mon_refs):
                    val = monitored(name, state_names, Xn, spike, inp)
                    if name in pick_refs:
                        _store_picked(ref, k, pick_refs[name], val, first, block, m[name])
                    else:
                        ref[k, :] = val.astype(ref.dtype)
                return Xn, spike

            Xt, last = jax.lax.fori_loop(0, chunk, body,
                                         (X0, jnp.zeros(X0[0].shape, jnp.bool_)))
            for r, x in zip(xo_refs, Xt):
                r[...] = x
            spike_ref[...] = last.astype(jnp.int8)

        neuron = pl.BlockSpec((block,), lambda i: (i,))
        per_step = pl.BlockSpec((rows, block), lambda i: (0, i))
        in_specs = ([neuron] * (n + len(neuron_consts))
                    + [pl.BlockSpec(shared_vec.shape, lambda i: (0,))]
                    + [per_step if b else pl.BlockSpec((rows,), lambda i: (0,))
                       for b in series_neuron]
                    + [pl.BlockSpec(picks[name].shape, lambda i: (0,)) for name in indexed])
        mon_dtypes = [jnp.int8 if name == "spike" else dtype for name in names]
        mon_cols = [picks[name].shape[0] if name in picks else padded for name in names]
        out_shape = ([jax.ShapeDtypeStruct((padded,), dtype)] * n
                     + [jax.ShapeDtypeStruct((padded,), jnp.int8)]
                     + [jax.ShapeDtypeStruct((rows, c), d) for c, d in zip(mon_cols, mon_dtypes)])
        out_specs = [neuron] * (n + 1) + [
            pl.BlockSpec((rows, picks[name].shape[0]), lambda i: (0, 0)) if name in picks
            else per_step for name in names]
        params = {}
        if not interpret:
            from jax.experimental.pallas import triton as pltriton

            params["compiler_params"] = pltriton.CompilerParams(
                num_warps=max(1, min(block // 32, 32)))
        outs = pl.pallas_call(kernel, out_shape=out_shape, grid=(padded // block,),
                              in_specs=in_specs, out_specs=out_specs, interpret=interpret,
                              **params)(*[_pad_last(X[i], padded) for i in range(n)],
                                        *neuron_consts, shared_vec, *series,
                                        *[picks[name] for name in indexed])
        Xn = jnp.stack([o[:num] for o in outs[:n]])
        last = outs[n][:num].astype(bool)
        mon = {name: o[:chunk, :m[name] if name in m else num]
               for name, o in zip(names, outs[n + 1:])}
        mon = {name: o.astype(bool) if name == "spike" else o for name, o in mon.items()}
        return Xn, mon, last

    return jax.jit(run)
