"""Initializers of neuron-group variables (``hhanalysis.brainpy.init``, as BrainPy's ``bp.init``).

An initializer is called with the group's shape and dtype and returns an array of that shape.
Random initializers take a ``seed``: with a seed they are reproducible on their own; with
``seed=None`` they draw from the simulator's global generator (:mod:`hhanalysis.simulate.rng`,
``bp.math.random`` in :mod:`hhanalysis.brainpy`; seed it with ``bp.math.random.seed(...)`` for a
reproducible run).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .rng import random as _global_random

__all__ = ["Initializer", "Uniform", "Normal", "OneInit", "ZeroInit", "Constant", "SteadyState"]


class Initializer:
    """Base class: ``init(shape, dtype) -> np.ndarray``."""

    def __call__(self, shape, dtype=np.float64) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError


def _rng(seed):
    return np.random.default_rng(seed) if seed is not None else _global_random.generator


@dataclass(frozen=True)
class Uniform(Initializer):
    """Uniform on ``[min_val, max_val)``."""

    min_val: float = 0.0
    max_val: float = 1.0
    seed: int | None = None

    def __post_init__(self):
        if not self.min_val < self.max_val:
            raise ValueError(f"Uniform: need min_val < max_val, got {self.min_val}, "
                             f"{self.max_val}")

    def __call__(self, shape, dtype=np.float64):
        return _rng(self.seed).uniform(self.min_val, self.max_val, shape).astype(dtype)


@dataclass(frozen=True)
class Normal(Initializer):
    """Normal with ``mean`` and standard deviation ``scale``."""

    mean: float = 0.0
    scale: float = 1.0
    seed: int | None = None

    def __post_init__(self):
        if not self.scale >= 0:
            raise ValueError(f"Normal: scale must be >= 0, got {self.scale}")

    def __call__(self, shape, dtype=np.float64):
        return _rng(self.seed).normal(self.mean, self.scale, shape).astype(dtype)


@dataclass(frozen=True)
class Constant(Initializer):
    """Every element equal to ``value``."""

    value: float = 0.0

    def __call__(self, shape, dtype=np.float64):
        return np.full(shape, self.value, dtype=dtype)


@dataclass(frozen=True)
class OneInit(Constant):
    """Every element equal to ``value`` (default 1), as BrainPy's ``OneInit``."""

    value: float = 1.0


@dataclass(frozen=True)
class ZeroInit(Constant):
    """Every element 0."""

    value: float = 0.0


@dataclass(frozen=True)
class SteadyState(Initializer):
    """A gating variable at its steady state x∞(V) for the group's initial V.

    Only meaningful for the gates of a neuron group; the group resolves it after V is set.
    """

    def __call__(self, shape, dtype=np.float64):  # resolved by the group
        raise TypeError("SteadyState is resolved by the neuron group from its initial V")
