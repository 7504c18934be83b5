"""How a run is spread over the CPU cores: blocks of neurons, and threads over groups of blocks.

A time step of a neuron group is a handful of elementwise kernels (XLA does not fuse the whole
step into one loop: the exponentials have several consumers). For large groups every kernel
streams its arrays through main memory, once per step, so the step rate is bound by memory
bandwidth, not by arithmetic. Two remedies, both exact (neurons are independent, so the result
does not depend on how they are grouped):

* **blocking** — the group is cut into blocks of ``block_size`` neurons and each block runs
  through *all* steps of a chunk (``lax.map`` over blocks of a ``lax.scan`` over steps), so its
  state and intermediates stay in the core's cache;
* **threads** — the blocks are dealt to ``threads`` host threads, each running the same compiled
  program on its share concurrently (a single program's small per-block kernels would otherwise
  run on one core at a time).

On a GPU backend neither helps: the group runs as one program, unblocked. Adaptive (diffrax)
methods also run unblocked, because their step-size control is shared by the neurons of a run.
There the step itself is the cost: ``kernel`` chooses how it is compiled
(:mod:`~hhanalysis.simulate.kernels`: the CPU-tuned XLA step, a fused XLA step, or a Pallas
kernel running many steps per launch with the state in registers).
"""

from __future__ import annotations

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import jax
import jax.numpy as jnp

__all__ = ["Execution", "KERNELS", "Layout", "layout", "to_blocks", "from_blocks",
           "run_concurrently"]


#: Values of ``Execution(kernel=...)`` (:mod:`~hhanalysis.simulate.kernels`).
KERNELS = ("auto", "xla", "fused", "pallas")


@dataclass(frozen=True)
class Execution:
    """Execution settings of a :class:`~hhanalysis.simulate.runner.DSRunner`.

    Attributes:
        threads: host threads running shares of the group concurrently; ``None`` (default) uses
            the CPU cores available to this process. Each thread gets at least two blocks, so
            fewer threads run when the group is small.
        block_size: neurons per block, about (default 4096: with ~12 live arrays per step a
            block of float64 neurons fits in a 512 KiB L2 cache; the actual length is rounded to
            a multiple of 16); ``None`` disables blocking. Groups smaller than two blocks run
            unblocked, as does everything on a GPU backend.
        devices: split the neurons over devices with ``jax.sharding`` (a mesh over the neuron
            axis; :mod:`hhanalysis.sharding`): None (default: one device, the threads above),
            ``'all'`` or a count. The group then runs as one program, unblocked, each device
            stepping its share; the results do not depend on it.
        kernel: how a chunk of steps is compiled (:mod:`~hhanalysis.simulate.kernels`):
            ``'xla'`` the CPU-tuned step (stacked state, optimisation barriers; blocks and
            threads above); ``'fused'`` an XLA step on a tuple state without barriers (one
            elementwise kernel per step on a GPU); ``'pallas'`` a Pallas kernel running all
            steps of a chunk per launch with the state in registers (Triton on a GPU; on the
            CPU it runs in interpret mode: for testing, not speed); ``'auto'`` (default) Pallas on
            a GPU backend when the run is one it supports
            (:func:`~hhanalysis.simulate.kernels.pallas_unsupported`), else ``'xla'``. The
            results agree to float round-off whichever is used.
    """

    threads: int | None = None
    block_size: int | None = 4096
    devices: int | str | None = None
    kernel: str = "auto"

    def __post_init__(self):
        if not isinstance(self.kernel, str) or self.kernel not in KERNELS:
            raise ValueError(f"Execution.kernel must be one of {list(KERNELS)}, "
                             f"got {self.kernel!r}")
        d = self.devices
        if not (d is None or d == "all" or (isinstance(d, int) and not isinstance(d, bool)
                                            and d >= 1)):
            raise ValueError(f"Execution.devices must be None, 'all' or a positive integer, "
                             f"got {d!r}")
        for name in ("threads", "block_size"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 1):
                raise ValueError(f"Execution.{name} must be a positive integer or None, "
                                 f"got {v!r}")


@dataclass(frozen=True)
class Layout:
    """``workers`` shares of ``blocks`` blocks of ``block`` neurons each (the last padded)."""

    workers: int
    blocks: int
    block: int

    @property
    def share(self) -> int:
        """Neurons per worker."""
        return self.blocks * self.block

    @property
    def padded(self) -> int:
        """Neurons after padding, ``workers * blocks * block`` (≥ the group size)."""
        return self.workers * self.share


def _cpu_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


_ALIGN = 16  # block lengths a multiple of the vector width: odd lengths run ~2x slower


def layout(num: int, execution: Execution, blockable: bool = True) -> Layout:
    """The layout of a group of ``num`` neurons.

    Blocks are as equal as possible, their length a multiple of ``_ALIGN`` (padding < ``_ALIGN``
    neurons per block); unblocked when the backend is not the CPU, when ``blockable`` is false
    (adaptive methods) or when the group is smaller than two blocks.
    """
    size = execution.block_size
    if (jax.default_backend() != "cpu" or not blockable or size is None
            or num < 2 * size):
        return Layout(1, 1, num)
    workers = min(execution.threads or _cpu_cores(), num // (2 * size))
    total = workers * math.ceil(num / (workers * size))
    return Layout(workers, total // workers, _ALIGN * math.ceil(num / (total * _ALIGN)))


def to_blocks(a, blocks: int):
    """``(..., blocks*B)`` → ``(blocks, ..., B)``."""
    b = a.reshape(a.shape[:-1] + (blocks, a.shape[-1] // blocks))
    return jnp.moveaxis(b, -2, 0)


def from_blocks(a):
    """``(blocks, ..., B)`` → ``(..., blocks*B)``, inverse of :func:`to_blocks`."""
    b = jnp.moveaxis(a, 0, -2)
    return b.reshape(b.shape[:-2] + (b.shape[-2] * b.shape[-1],))


_POOL: dict = {}
_POOL_LOCK = threading.Lock()


def _pool(workers: int) -> ThreadPoolExecutor:
    with _POOL_LOCK:
        pool = _POOL.get(workers)
        if pool is None:
            pool = _POOL[workers] = ThreadPoolExecutor(workers, thread_name_prefix="hhanalysis")
        return pool


def _call(fn, args, x64: bool):
    # jax.enable_x64 is a per-thread setting: the worker takes the caller's
    with jax.enable_x64(x64):
        return jax.block_until_ready(fn(*args))


def run_concurrently(fn, arg_lists):
    """``[fn(*args) for args in arg_lists]``, each in its own host thread (one call: in this one).

    JAX releases the interpreter lock while a program runs, so the calls proceed in parallel;
    dispatching them asynchronously from one thread would run them one after the other. The
    worker threads run with the caller's 64-bit mode (``jax.enable_x64`` is per thread).
    """
    if len(arg_lists) == 1:
        return [fn(*arg_lists[0])]
    x64 = bool(jax.config.jax_enable_x64)  # the caller's (thread-local) 64-bit mode
    futures = [_pool(len(arg_lists)).submit(_call, fn, args, x64) for args in arg_lists]
    return [f.result() for f in futures]
