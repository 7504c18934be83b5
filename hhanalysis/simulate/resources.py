"""Memory estimates of simulations, checked before anything is allocated.

A group of ``N`` neurons and a run of ``S`` steps need, in bytes (``b`` = 4 for float32, 8 for
float64):

* the group: ``STATE_COPIES · n_states · N · 8`` (the state is drawn in float64, then copied to
  the device and through each step);
* a run kept in memory: ``S · 8`` for the time stamps, plus ``2 · S · k · b`` for each monitor
  of ``k`` values per step (the chunks and their concatenation), and per compiled chunk of
  ``C`` steps ``C · (2 · K + k) · b`` on the device and the host, where ``K`` is the
  monitor's width on the device (all neurons of the padded group, or for an indexed monitor
  in a blocked run, blocks × the most requested neurons in one block);
* a run streamed to a file (``run(duration, out=FILE)``): no ``S`` terms for the monitors, only
  ``C · (2 · K + 2 · k) · b`` (one chunk on the device, on the host, being written), plus
  ``S · 8`` for the times of ``'func'`` inputs.

A request whose estimate exceeds :func:`memory_budget` (half the memory available now, or
``HHANALYSIS_MEMORY_LIMIT`` bytes if that is set) raises :class:`ResourceError` with the estimate
and the ways out, instead of being killed by the operating system half-way.
"""

from __future__ import annotations

import os

__all__ = ["ResourceError", "memory_budget", "format_bytes", "check_memory", "STATE_COPIES"]

#: Copies of the state a group holds at its peak (initial draw, device copy, step temporaries).
STATE_COPIES = 4


class ResourceError(MemoryError):
    """A simulation would need more memory than :func:`memory_budget` allows."""


def available_memory() -> int:
    """Bytes of memory available to new allocations now (``MemAvailable`` on Linux)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 8 * 2**30


def memory_budget() -> int:
    """The most memory a simulation may plan to use: ``HHANALYSIS_MEMORY_LIMIT`` (bytes) if set,
    else half of :func:`available_memory`."""
    limit = os.environ.get("HHANALYSIS_MEMORY_LIMIT")
    if limit:
        try:
            return int(float(limit))
        except ValueError:
            pass
    return available_memory() // 2


def format_bytes(n: float) -> str:
    """``1.9 GiB``-style size."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.3g} PiB"


def check_memory(needed: float, what: str, way_out: str) -> None:
    """Raise :class:`ResourceError` if ``needed`` bytes exceed :func:`memory_budget`."""
    budget = memory_budget()
    if needed > budget:
        raise ResourceError(f"{what} needs about {format_bytes(needed)} of memory, more than the "
                            f"{format_bytes(budget)} this run may use; {way_out}")
