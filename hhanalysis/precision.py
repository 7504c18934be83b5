"""Float64 for all analysis, without touching JAX's global configuration.

Importing :mod:`hhanalysis` leaves ``jax_enable_x64`` as it was. Instead, every public entry
point that computes with JAX (the analysis functions, the functions of a
:class:`~hhanalysis.codegen.CompiledModel`, the simulator's groups and runner) runs inside
``jax.enable_x64(True)`` through :func:`float64`. That context is scoped to the call and to the
calling thread: your own JAX code keeps JAX's default (32-bit unless you enabled x64 yourself),
and arrays the package returns keep their float64 dtype. The exception: inside JAX
transformations you trace yourself (e.g. ``jax.vmap(compiled.f)`` or ``jax.jacfwd`` of it), the
functions compute in the precision of your trace, so enable x64 for such code. The JAX helpers of
:mod:`hhanalysis.special`, made to be traced inside generated functions, likewise follow the
caller's precision.
"""

from __future__ import annotations

import functools

import jax

__all__ = ["float64"]


def float64(fn):
    """Decorator: run ``fn`` with JAX's 64-bit mode on, for this call in this thread (JAX's
    ``jax.enable_x64(True)`` context).

    When x64 is already on, or when an argument is a JAX tracer (the call is part of a
    transformation you are tracing: ``jax.jit``, ``jax.vmap``, ``jax.jacfwd``, ...), ``fn`` is
    called as it is: a trace cannot switch precision half-way, so it computes in the precision
    of your own trace. Enable x64 around such code (``with jax.enable_x64(True):`` or
    ``jax.config.update("jax_enable_x64", True)``) to get float64 there.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if jax.config.jax_enable_x64 or _traced(args, kwargs):
            return fn(*args, **kwargs)
        with jax.enable_x64(True):
            return fn(*args, **kwargs)

    return wrapper


def _traced(args, kwargs) -> bool:
    return any(isinstance(leaf, jax.core.Tracer)
               for leaf in jax.tree_util.tree_leaves((args, kwargs)))
