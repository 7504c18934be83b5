"""BrainPy-style array helpers (``bp.math``), so the seed's examples run with
``import hhanalysis.brainpy as bp``.

``bp.math.random`` is the simulator's global, seedable random generator
(:mod:`hhanalysis.simulate.rng`): ``bp.math.random.seed(42)`` makes every later draw reproducible;
without a seed call it is seeded from the operating system, as BrainPy's is. Its draws are
float64 numpy arrays. The helpers ``stack``, ``concatenate`` and ``asarray`` return JAX arrays,
made in JAX's 64-bit mode (float64 inputs stay float64, whatever the caller's
``jax_enable_x64``).
"""

from __future__ import annotations

import jax.numpy as jnp

from ..precision import float64
from ..simulate.rng import random

__all__ = ["random", "stack", "concatenate", "asarray"]


@float64
def stack(arrays, axis: int = 0):
    """``jnp.stack`` accepting numpy and JAX arrays alike."""
    return jnp.stack([jnp.asarray(a) for a in arrays], axis=axis)


@float64
def concatenate(arrays, axis: int = 0):
    """``jnp.concatenate`` accepting numpy and JAX arrays alike."""
    return jnp.concatenate([jnp.asarray(a) for a in arrays], axis=axis)


@float64
def asarray(a, dtype=None):
    """``jnp.asarray``."""
    return jnp.asarray(a, dtype=dtype)
