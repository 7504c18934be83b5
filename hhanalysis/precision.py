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

Importing this module (which every module that computes with JAX does) also turns on JAX's
persistent compilation cache, as :mod:`hhanalysis` documents: only the first session on a machine
pays the jit compilation of the continuation solvers.
"""

from __future__ import annotations

import functools
import os

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


def cache_dir(kind: str) -> str | None:
    """Directory of hhanalysis's on-disk cache ``kind`` (``"jax"``: JAX's persistent compilation
    cache; ``"codegen"``: generated model code), or None when caching is off.

    ``~/.cache/hhanalysis/<kind>`` by default. ``HHANALYSIS_CACHE_DIR=DIR`` moves them: JAX's
    cache to ``DIR`` itself, the others to ``DIR/<kind>``. ``HHANALYSIS_CACHE_DIR=off`` turns
    them all off. The directory is not created here."""
    where = os.environ.get("HHANALYSIS_CACHE_DIR")
    if where is None:
        return os.path.join(os.path.expanduser("~"), ".cache", "hhanalysis", kind)
    if where.lower() == "off":
        return None
    return where if kind == "jax" else os.path.join(where, kind)


def _persistent_compilation_cache() -> None:
    """Keep compiled XLA programs on disk between Python sessions (JAX's persistent cache), so
    only the first session on a machine pays the jit compilation of the continuation solvers.
    Location: :func:`cache_dir` ``("jax")``: ``$HHANALYSIS_CACHE_DIR`` or
    ``~/.cache/hhanalysis/jax``; set ``HHANALYSIS_CACHE_DIR=off`` to disable. A cache directory
    the user configured for JAX is left alone."""
    where = cache_dir("jax")
    if where is None or jax.config.jax_compilation_cache_dir:
        return
    try:
        os.makedirs(where, exist_ok=True)
    except OSError:
        return
    jax.config.update("jax_compilation_cache_dir", where)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)


_persistent_compilation_cache()
