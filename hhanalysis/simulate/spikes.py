r"""Spike times and firing rates from monitored traces.

Two rules, both upward crossings linearly interpolated within the step:

* a **fixed threshold** ``V_th`` (a number; BrainPy's rule, with HH's ``V_th = 20`` mV);
* ``V_th="auto"``, for spikes of any height (at ``I = 50`` µA/cm² the HH spikes peak near
  +10 mV, below 20): for each neuron, with :math:`V_{lo}, V_{hi}` the minimum and maximum of its
  trace and :math:`A = V_{hi} - V_{lo}`, a spike is an upward crossing of the midpoint
  :math:`V_{lo} + A/2` after the trace was below :math:`V_{lo} + A/4` (a Schmitt trigger: noise
  around the midpoint does not count twice). A trace with :math:`A <` ``min_amplitude``
  (10 mV by default: subthreshold oscillations, rest) has no spikes.
"""

from __future__ import annotations

import numpy as np

__all__ = ["spike_times", "spike_counts", "firing_rates", "AUTO_MIN_AMPLITUDE"]

#: Smallest peak-to-trough range (mV) of a trace in which ``V_th="auto"`` finds spikes.
AUTO_MIN_AMPLITUDE = 10.0


def spike_times(ts, V, V_th: float | str = 20.0, V_initial=None, t_initial=None,
                min_amplitude: float = AUTO_MIN_AMPLITUDE) -> list[np.ndarray]:
    """Upward crossings of a threshold, linearly interpolated within the step.

    Arguments:
        ts: ``(steps,)`` monitor times (``runner.mon.ts``).
        V: ``(steps,)`` or ``(steps, N)`` monitored voltages.
        V_th: a threshold (number), or ``"auto"``: each neuron's midpoint rule of the module
            docstring, which finds spikes of any height.
        V_initial, t_initial: the state before the first row (to catch a crossing in step 0).
        min_amplitude: with ``V_th="auto"``, the smallest peak-to-trough range with spikes.

    Returns:
        One array of spike times per neuron.

    Raises:
        ValueError: shapes that do not match, or a threshold that is neither a finite number
            nor ``"auto"``.
    """
    ts = np.asarray(ts, float)
    V = np.asarray(V, float)
    if V.ndim == 1:
        V = V[:, None]
    if V.ndim != 2 or V.shape[0] != ts.size:
        raise ValueError(f"V has shape {V.shape}; expected ({ts.size},) or ({ts.size}, N) for "
                         f"the {ts.size} entries of ts")
    auto = isinstance(V_th, str)
    if auto and V_th != "auto":
        raise ValueError(f"V_th must be a number or 'auto', got {V_th!r}")
    if not auto and not (isinstance(V_th, (int, float, np.number)) and np.isfinite(V_th)):
        raise ValueError(f"V_th must be a finite number or 'auto', got {V_th!r}")
    if V_initial is not None:
        t0 = (ts[0] - (ts[1] - ts[0]) if ts.size > 1 else ts[0]) if t_initial is None \
            else t_initial
        V = np.vstack([np.broadcast_to(np.asarray(V_initial, float), V.shape[1:]), V])
        ts = np.concatenate([[t0], ts])
    if V.shape[0] < 2:
        return [np.zeros(0) for _ in range(V.shape[1])]
    if auto:
        lo, hi = V.min(axis=0), V.max(axis=0)
        amp = hi - lo
        level = np.where(amp >= min_amplitude, lo + amp / 2, np.inf)
        armed = _schmitt(V, level, lo + amp / 4)
    else:
        level = np.full(V.shape[1], float(V_th))
        armed = np.ones(V.shape[0] - 1, bool)[:, None]
    a, b = V[:-1], V[1:]
    up = (a < level) & (b >= level) & armed
    k, j = np.nonzero(up)
    lev = level[j]
    frac = (lev - a[k, j]) / (b[k, j] - a[k, j])
    t = ts[k] + frac * (ts[k + 1] - ts[k])
    order = np.argsort(j, kind="stable")  # by neuron, in time within each
    return np.split(t[order], np.searchsorted(j[order], np.arange(1, V.shape[1])))


def _schmitt(V, high, low):
    """``(steps - 1, N)``: whether the trace has been below ``low`` since it was last at or
    above ``high`` (or since the start), at the start of each step."""
    steps = np.arange(V.shape[0])[:, None]
    last_low = np.maximum.accumulate(np.where(V <= low, steps, -1), axis=0)
    last_high = np.maximum.accumulate(np.where(V >= high, steps, -1), axis=0)
    return ((last_low > last_high) | (last_high < 0))[:-1]


def spike_counts(blocks, V_th: float | str = 20.0,
                 min_amplitude: float = AUTO_MIN_AMPLITUDE) -> np.ndarray:
    """Spikes per neuron of traces read in blocks of rows (e.g. from a streamed file), the
    counts of :func:`spike_times` with the same rule, in memory bounded by one block.

    Arguments:
        blocks: a callable returning an iterator over ``(rows, N)`` blocks of the traces in
            time order; called once for a fixed threshold, twice for ``"auto"`` (the first
            pass finds each trace's range, the second its crossings).
        V_th, min_amplitude: as in :func:`spike_times`.
    """
    auto = isinstance(V_th, str)
    if auto and V_th != "auto":
        raise ValueError(f"V_th must be a number or 'auto', got {V_th!r}")
    if not auto and not (isinstance(V_th, (int, float, np.number)) and np.isfinite(V_th)):
        raise ValueError(f"V_th must be a finite number or 'auto', got {V_th!r}")
    level = low = None
    if auto:
        lo = hi = None
        for V in blocks():
            V = _block(V)
            if len(V):
                lo = V.min(0) if lo is None else np.minimum(lo, V.min(0))
                hi = V.max(0) if hi is None else np.maximum(hi, V.max(0))
        if lo is None:
            return np.zeros(0, np.int64)
        amp = hi - lo
        level, low = np.where(amp >= min_amplitude, lo + amp / 2, np.inf), lo + amp / 4
    counts = last = last_low = last_high = None
    row = 0  # index of the block's first row in the whole trace
    for V in blocks():
        V = _block(V)
        if not len(V):
            continue
        if counts is None:
            counts = np.zeros(V.shape[1], np.int64)
            last_low = last_high = np.full(V.shape[1], -1)
            if level is None:
                level = np.full(V.shape[1], float(V_th))
        W = V if last is None else np.vstack([last, V])  # the step from the previous block
        first = row - (last is not None)
        armed = True
        if auto:  # _schmitt, carried over from the previous blocks
            steps = first + np.arange(len(W))[:, None]
            up_low = np.maximum(np.maximum.accumulate(np.where(W <= low, steps, -1)), last_low)
            up_high = np.maximum(np.maximum.accumulate(np.where(W >= level, steps, -1)),
                                 last_high)
            armed = ((up_low > up_high) | (up_high < 0))[:-1]
            last_low, last_high = up_low[-1], up_high[-1]
        counts += ((W[:-1] < level) & (W[1:] >= level) & armed).sum(0)
        last, row = V[-1:], row + len(V)
    return np.zeros(0, np.int64) if counts is None else counts


def _block(V):
    V = np.asarray(V, float)
    return V[:, None] if V.ndim == 1 else V.reshape(len(V), -1)


def firing_rates(times: list[np.ndarray], duration: float) -> np.ndarray:
    """Spikes per second for each neuron (duration in ms)."""
    if not duration > 0:
        raise ValueError(f"duration must be > 0, got {duration!r}")
    return np.array([1000.0 * len(t) / duration for t in times])
