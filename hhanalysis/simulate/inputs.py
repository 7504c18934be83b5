"""Input currents (``bp.inputs`` in :mod:`hhanalysis.brainpy`), with BrainPy's call signatures
and semantics.

Each returns a float64 numpy array with one row per time step of length ``dt`` (default
:data:`DEFAULT_DT` = 0.1 ms, BrainPy's default). One difference from BrainPy: step counts are
``round(t/dt)`` when ``t/dt`` is within 1e-9 of an integer (BrainPy's ``int(0.3/0.1)`` gives 2);
otherwise lengths round up and positions down, as in BrainPy.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.signal

__all__ = ["DEFAULT_DT", "section_input", "constant_input", "spike_input", "ramp_input",
           "wiener_process", "ou_process", "n_steps"]

#: Default time step (ms) of inputs and runners, as BrainPy's ``bm.get_dt()``.
DEFAULT_DT = 0.1


def _dt(dt):
    dt = DEFAULT_DT if dt is None else dt
    if not isinstance(dt, (int, float, np.floating)) or isinstance(dt, bool) \
            or not math.isfinite(dt) or dt <= 0:
        raise ValueError(f"dt must be a positive finite number (ms), got {dt!r}")
    return float(dt)


def _ratio(t, dt, name):
    if not isinstance(t, (int, float, np.floating, np.integer)) or isinstance(t, bool) \
            or not math.isfinite(t):
        raise ValueError(f"{name} must be a finite number (ms), got {t!r}")
    if t < 0:
        raise ValueError(f"{name} must be >= 0, got {t}")
    r = t / dt
    return r, abs(r - round(r)) <= 1e-9 * max(1.0, abs(r))


def n_steps(duration: float, dt: float, name: str = "duration") -> int:
    """Number of steps of length ``dt`` covering ``duration`` (rounded up, exact multiples kept)."""
    r, exact = _ratio(duration, dt, name)
    return int(round(r)) if exact else int(math.ceil(r))


def _index(t: float, dt: float, name: str) -> int:
    r, exact = _ratio(t, dt, name)
    return int(round(r)) if exact else int(math.floor(r))


def section_input(values, durations, dt=None, return_length=False):
    """Piecewise-constant current: ``values[k]`` for ``durations[k]`` ms, one after another.

    Values may be arrays (one per neuron); the result then has shape ``(steps,) + value shape``.
    """
    dt = _dt(dt)
    if len(values) != len(durations):
        raise ValueError(f"values and durations must have the same length, got {len(values)} "
                         f"and {len(durations)}")
    shape = max((np.shape(v) for v in values), key=len, default=())
    total = float(sum(durations))
    current = np.zeros((n_steps(total, dt),) + shape)
    start = 0
    for value, duration in zip(values, durations):
        length = _index(duration, dt, "durations")
        current[start:start + length] = value
        start += length
    return (current, total) if return_length else current


def constant_input(I_and_duration, dt=None):
    """``[(value, duration), ...]`` -> ``(current, total duration)``."""
    values = [v for v, _ in I_and_duration]
    durations = [d for _, d in I_and_duration]
    return section_input(values, durations, dt=dt, return_length=True)


def spike_input(sp_times, sp_lens, sp_sizes, duration, dt=None):
    """Rectangular pulses: ``sp_sizes`` from each of ``sp_times`` for ``sp_lens`` ms.

    ``sp_lens`` and ``sp_sizes`` may be scalars (the same for every pulse) or sequences.
    """
    dt = _dt(dt)
    times = list(sp_times)
    lens = [sp_lens] * len(times) if np.ndim(sp_lens) == 0 else list(sp_lens)
    sizes = [sp_sizes] * len(times) if np.ndim(sp_sizes) == 0 else list(sp_sizes)
    if not len(lens) == len(sizes) == len(times):
        raise ValueError("sp_times, sp_lens and sp_sizes must have the same length "
                         f"({len(times)}, {len(lens)}, {len(sizes)})")
    current = np.zeros(n_steps(duration, dt))
    for t, length, size in zip(times, lens, sizes):
        start = _index(t, dt, "sp_times")
        current[start:start + _index(length, dt, "sp_lens")] = size
    return current


def ramp_input(c_start, c_end, duration, t_start=0.0, t_end=None, dt=None):
    """Linear ramp from ``c_start`` at ``t_start`` to ``c_end`` at ``t_end``, zero elsewhere."""
    dt = _dt(dt)
    t_end = duration if t_end is None else t_end
    if t_end < t_start:
        raise ValueError(f"t_end ({t_end}) must be >= t_start ({t_start})")
    current = np.zeros(n_steps(duration, dt))
    p1, p2 = n_steps(t_start, dt, "t_start"), n_steps(t_end, dt, "t_end")
    current[p1:p2] = np.linspace(c_start, c_end, p2 - p1)
    return current


def _window(duration, dt, t_start, t_end):
    t_end = duration if t_end is None else t_end
    i0, i1 = _index(t_start, dt, "t_start"), _index(t_end, dt, "t_end")
    if i1 < i0:
        raise ValueError(f"t_end ({t_end}) must be >= t_start ({t_start})")
    return i0, i1


def wiener_process(duration, dt=None, n=1, t_start=0.0, t_end=None, seed=None):
    """Increments of a Wiener process, N(0, sqrt(dt)) per step, shape ``(steps, n)``."""
    dt = _dt(dt)
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    i0, i1 = _window(duration, dt, t_start, t_end)
    out = np.zeros((_index(duration, dt, "duration"), int(n)))
    out[i0:i1] = np.random.default_rng(seed).standard_normal((i1 - i0, int(n))) * math.sqrt(dt)
    return out


def ou_process(mean, sigma, tau, duration, dt=None, n=1, t_start=0.0, t_end=None, seed=None):
    r"""Ornstein–Uhlenbeck current :math:`dX = (\mu - X)/\tau\,dt + \sigma\,dW`, shape
    ``(steps, n)``, Euler–Maruyama from :math:`X = \mu` (BrainPy draws uniform numbers here; this
    uses Gaussian increments, as the equation says)."""
    dt = _dt(dt)
    if not tau > 0:
        raise ValueError(f"tau must be > 0, got {tau!r}")
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    i0, i1 = _window(duration, dt, t_start, t_end)
    noise = np.random.default_rng(seed).standard_normal((i1 - i0, int(n))) * math.sqrt(dt)
    a = dt / tau
    # x_k = (1 - a) x_{k-1} + a mean + sigma xi_k, x_{-1} = mean: a first-order linear filter
    drive = a * mean + sigma * noise
    zi = np.full((1, int(n)), (1 - a) * float(mean))
    values, _ = scipy.signal.lfilter([1.0], [1.0, -(1.0 - a)], drive, axis=0, zi=zi)
    out = np.zeros((_index(duration, dt, "duration"), int(n)))
    out[i0:i1] = values
    return out
