"""Float64 for all analysis.

Importing :mod:`hhanalysis` enables ``jax_enable_x64`` globally. The analysis entry points are also
wrapped in :func:`float64`, which runs them inside ``jax.enable_x64(True)`` and so keeps them in
double precision even if a user switches x64 off again after the import.
"""

from __future__ import annotations

import functools

import jax

__all__ = ["float64"]


def float64(fn):
    """Decorator: run ``fn`` with JAX's 64-bit mode on (a no-op when it already is)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with jax.enable_x64(True):
            return fn(*args, **kwargs)

    return wrapper
