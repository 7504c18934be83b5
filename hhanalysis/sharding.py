"""Spreading a sweep over devices: one mesh axis, ``"sweep"``, over the points of a parameter
sweep (or the neurons of a batched simulation), with :mod:`jax.sharding`.

Every point of a sweep is independent, so the jitted kernels need no communication: JAX places
each device's share of the points on it (``NamedSharding(Mesh(devices, ("sweep",)),
PartitionSpec("sweep"))``), runs the same program on all of them at once and gathers only the
small reductions (the most roots per point). The results do not depend on the number of devices.

On one host, ``devices="all"`` uses every local device (all GPUs, or the CPU devices that
``XLA_FLAGS=--xla_force_host_platform_device_count=N`` creates). On many hosts, call
``jax.distributed.initialize()`` first in every process (see docs/scale.md); ``"all"`` then
means the devices of all processes.
"""

from __future__ import annotations

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

__all__ = ["sweep_mesh", "pad_to", "place"]


def sweep_mesh(devices) -> Mesh | None:
    """A one-axis mesh ``("sweep",)`` for ``devices``: None or 1 (no mesh: JAX's default
    device), ``"all"`` (every device of every process), an integer k (the first k devices) or a
    sequence of devices.

    Raises:
        ValueError: anything else, or more devices than there are.
    """
    if devices is None or (isinstance(devices, int) and not isinstance(devices, bool)
                           and devices == 1):
        return None
    available = jax.devices()
    if isinstance(devices, str) and devices == "all":
        chosen = available
    elif isinstance(devices, int) and not isinstance(devices, bool):
        if not 1 <= devices <= len(available):
            raise ValueError(f"devices must be between 1 and {len(available)} (the devices JAX "
                             f"sees), got {devices}")
        chosen = available[:devices]
    elif isinstance(devices, (list, tuple)) and devices:
        chosen = list(devices)
    else:
        raise ValueError(f"devices must be None, 'all', a positive integer or a list of "
                         f"devices, got {devices!r}")
    return Mesh(np.array(chosen), ("sweep",)) if len(chosen) > 1 else None


def pad_to(a: np.ndarray, multiple: int, axis: int = 0) -> np.ndarray:
    """``a`` with its last entry along ``axis`` repeated up to a length divisible by
    ``multiple`` (the extra points are computed and dropped)."""
    extra = -a.shape[axis] % multiple
    if not extra:
        return a
    last = np.take(a, [-1], axis=axis)
    return np.concatenate([a, np.repeat(last, extra, axis=axis)], axis=axis)


def place(mesh: Mesh | None, a, axis: int = 0):
    """``a`` on the devices of ``mesh``, split along ``axis`` (which must divide evenly; see
    :func:`pad_to`), or as it is without a mesh."""
    if mesh is None:
        return a
    spec = [None] * np.ndim(a)
    spec[axis] = "sweep"
    return jax.device_put(a, NamedSharding(mesh, PartitionSpec(*spec)))
