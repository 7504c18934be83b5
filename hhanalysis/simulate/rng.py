"""The simulator's global random generator, BrainPy's ``bp.math.random``.

``random`` is a seedable generator (numpy's PCG64 underneath) that random initializers with
``seed=None`` draw from. ``random.seed(42)`` makes every later draw reproducible; without a seed
call it is seeded from the operating system, as BrainPy's is. It is exposed as
``hhanalysis.brainpy.math.random``. Draws are float64 numpy arrays (BrainPy returns JAX arrays):
they mix with numpy and JAX arrays alike, and ``I += bp.math.random.normal(...)`` on a numpy
input ``I`` stays a float64 numpy computation whatever the caller's ``jax_enable_x64``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["random"]


class _Random:
    """The global random generator (seed with :meth:`seed`)."""

    def __init__(self):
        self._rng = np.random.default_rng()

    def seed(self, seed: int | None = None) -> None:
        """Re-seed the global generator (``None``: fresh entropy)."""
        self._rng = np.random.default_rng(seed)

    @property
    def generator(self) -> np.random.Generator:
        return self._rng

    def normal(self, loc=0.0, scale=1.0, size=None):
        """Normal samples, shape ``size`` (BrainPy's ``bm.random.normal``)."""
        return self._rng.normal(loc, scale, size)

    def uniform(self, low=0.0, high=1.0, size=None):
        """Uniform samples on ``[low, high)``, shape ``size``."""
        return self._rng.uniform(low, high, size)

    def randn(self, *shape):
        """Standard normal samples of shape ``shape``."""
        return self._rng.standard_normal(shape)

    def rand(self, *shape):
        """Uniform samples on ``[0, 1)`` of shape ``shape``."""
        return self._rng.random(shape)


random = _Random()
