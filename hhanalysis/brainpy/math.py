"""BrainPy-style array helpers (``bp.math``), so the seed's examples run with
``import hhanalysis.brainpy as bp``.

``bp.math.random`` is the simulator's global, seedable random generator
(:mod:`hhanalysis.simulate.rng`): ``bp.math.random.seed(42)`` makes every later draw reproducible;
without a seed call it is seeded from the operating system, as BrainPy's is. Draws are returned
as JAX arrays.
"""

from __future__ import annotations

import jax.numpy as jnp

from ..simulate.rng import random

__all__ = ["random", "stack", "concatenate", "asarray"]


def stack(arrays, axis: int = 0):
    """``jnp.stack`` accepting numpy and JAX arrays alike."""
    return jnp.stack([jnp.asarray(a) for a in arrays], axis=axis)


def concatenate(arrays, axis: int = 0):
    """``jnp.concatenate`` accepting numpy and JAX arrays alike."""
    return jnp.concatenate([jnp.asarray(a) for a in arrays], axis=axis)


def asarray(a, dtype=None):
    """``jnp.asarray``."""
    return jnp.asarray(a, dtype=dtype)
