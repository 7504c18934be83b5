"""Spike times and firing rates from monitored traces."""

from __future__ import annotations

import numpy as np

__all__ = ["spike_times", "firing_rates"]


def spike_times(ts, V, V_th: float = 20.0, V_initial=None, t_initial=None) -> list[np.ndarray]:
    """Upward crossings of ``V_th``, linearly interpolated within the step.

    Arguments:
        ts: ``(steps,)`` monitor times (``runner.mon.ts``).
        V: ``(steps,)`` or ``(steps, N)`` monitored voltages.
        V_th: threshold.
        V_initial, t_initial: the state before the first row (to catch a crossing in step 0).

    Returns:
        One array of spike times per neuron.
    """
    ts = np.asarray(ts, float)
    V = np.asarray(V, float)
    if V.ndim == 1:
        V = V[:, None]
    if V.shape[0] != ts.size:
        raise ValueError(f"V has {V.shape[0]} rows but ts has {ts.size} entries")
    if V_initial is not None:
        t0 = ts[0] - (ts[1] - ts[0]) if t_initial is None else t_initial
        V = np.vstack([np.broadcast_to(np.asarray(V_initial, float), V.shape[1:]), V])
        ts = np.concatenate([[t0], ts])
    a, b = V[:-1], V[1:]
    up = (a < V_th) & (b >= V_th)
    k, j = np.nonzero(up)
    frac = (V_th - a[k, j]) / (b[k, j] - a[k, j])
    t = ts[k] + frac * (ts[k + 1] - ts[k])
    return [t[j == n] for n in range(V.shape[1])]


def firing_rates(times: list[np.ndarray], duration: float) -> np.ndarray:
    """Spikes per second for each neuron (duration in ms)."""
    if not duration > 0:
        raise ValueError(f"duration must be > 0, got {duration!r}")
    return np.array([1000.0 * len(t) / duration for t in times])
