"""Traced programs kept on disk between sessions (:func:`cached_jit`), for the cold start.

JAX's persistent compilation cache skips XLA compilation in a new session, but not the Python
tracing and the lowering to StableHLO that come before it; for the continuation solvers those
take most of a cold bifurcation diagram (~3-4 s of HH's ~6). :func:`cached_jit` is
``jax.jit`` whose traced and lowered program (a :mod:`jax.export` artefact) is also stored on
disk, keyed by a fingerprint of the function and of its arguments' shapes and dtypes; a new
session deserializes it instead of tracing, and its compilation then comes from JAX's persistent
cache as before.

The fingerprint covers what the traces of the wrapped solvers depend on: the function's code
and, recursively, the values it closes over (code objects, numbers, strings, arrays, dataclasses,
functions, compiled models by their :attr:`~hhanalysis.codegen.CompiledModel.key`), the module
constants its code reads, the argument shapes, dtypes and weak types, the static arguments, JAX's
precision and promotion settings, the source of the whole package and the versions of JAX, numpy
and sympy (:func:`hhanalysis.codegen._generator_version`). Functions the code calls by global
name are taken as fixed by that source digest (hhanalysis's own or a library's): wrap only
package code with it. Where it meets a value it cannot fingerprint, or where JAX cannot export
the program (a host callback, an unstable custom call), the function is plainly jitted (traced
every session) — never a program from another function. The first session pays a little more
than a plain jit (the export's serialization and a second lowering, ~10-20% of a first
diagram's ~30 s CPU).

Location: :func:`hhanalysis.precision.cache_dir` ``("traces")``, ``~/.cache/hhanalysis/traces``;
``HHANALYSIS_CACHE_DIR=off`` turns it off with the other caches.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import os
import types

import jax
import numpy as np

from ._files import atomic_path
from .precision import cache_dir

__all__ = ["cached_jit"]

_SIMPLE = (type(None), bool, int, float, complex, str, bytes)
_CONFIG = ("jax_enable_x64", "jax_default_matmul_precision", "jax_numpy_rank_promotion",
           "jax_numpy_dtype_promotion", "jax_default_prng_impl")


class _Unhashable(Exception):
    """A value the fingerprint does not know how to cover."""


def _update(h, obj, seen: dict) -> None:
    """Feed a structural description of ``obj`` into the hash ``h`` (raise _Unhashable)."""
    if isinstance(obj, _SIMPLE):
        h.update(f"{type(obj).__name__}:{obj!r};".encode())
        return
    if isinstance(obj, (np.dtype, type(np.float64))) and not isinstance(obj, type):
        h.update(f"dtype:{obj};".encode())
        return
    ident = id(obj)
    if ident in seen:  # a cycle or a shared object: refer to its first occurrence
        h.update(f"ref:{seen[ident][0]};".encode())
        return
    seen[ident] = (len(seen), obj)  # kept alive, so that no later object reuses the id
    if isinstance(obj, slice):
        h.update(b"slice")
        _update(h, (obj.start, obj.stop, obj.step), seen)
    elif obj is Ellipsis:
        h.update(b"ellipsis;")
    elif type(obj) is object:  # a sentinel (e.g. in jax.vmap's closure): fixed by the code
        h.update(b"sentinel;")
    elif isinstance(obj, enum.Enum):
        h.update(f"enum:{type(obj).__qualname__}.{obj.name};".encode())
    elif isinstance(obj, (tuple, list)):
        h.update(f"{type(obj).__name__}[{len(obj)}](".encode())
        for item in obj:
            _update(h, item, seen)
        h.update(b")")
    elif isinstance(obj, dict):
        h.update(f"dict[{len(obj)}](".encode())
        for k in sorted(obj, key=repr):
            _update(h, k, seen)
            _update(h, obj[k], seen)
        h.update(b")")
    elif isinstance(obj, (frozenset, set)):
        h.update(f"set[{len(obj)}](".encode())
        for item in sorted(obj, key=repr):
            _update(h, item, seen)
        h.update(b")")
    elif isinstance(obj, (np.ndarray, np.generic)):
        a = np.asarray(obj)
        h.update(f"array:{a.dtype}:{a.shape}:".encode())
        h.update(np.ascontiguousarray(a).tobytes())
    elif isinstance(obj, jax.core.Tracer):
        raise _Unhashable("a tracer")
    elif isinstance(obj, jax.Array):
        _update(h, np.asarray(obj), seen)
    elif isinstance(obj, types.CodeType):
        h.update(f"code:{obj.co_qualname}:{obj.co_argcount}:{obj.co_kwonlyargcount}:".encode())
        h.update(obj.co_code)
        _update(h, (obj.co_names, obj.co_varnames, obj.co_freevars, obj.co_cellvars), seen)
        _update(h, obj.co_consts, seen)
    elif isinstance(obj, (jax.custom_jvp, jax.custom_vjp)):
        h.update(f"{type(obj).__name__}(".encode())
        _update(h, (obj.fun, getattr(obj, "jvp", None), getattr(obj, "fwd", None),
                    getattr(obj, "bwd", None), obj.nondiff_argnums), seen)
        h.update(b")")
    elif isinstance(obj, types.FunctionType):
        _function(h, obj, seen)
    elif isinstance(obj, types.MethodType):
        h.update(b"method(")
        _update(h, obj.__func__, seen)
        _update(h, obj.__self__, seen)
        h.update(b")")
    elif isinstance(obj, functools.partial):
        h.update(b"partial(")
        _update(h, (obj.func, obj.args, obj.keywords), seen)
        h.update(b")")
    elif isinstance(obj, type):
        h.update(f"type:{obj.__module__}.{obj.__qualname__};".encode())
    elif isinstance(obj, types.ModuleType):
        h.update(f"module:{obj.__name__};".encode())
    elif type(obj).__name__ == "CompiledModel" and hasattr(obj, "key"):
        h.update(f"compiled-model:{obj.key};".encode())  # its functions come from its key
    elif dataclasses.is_dataclass(obj):
        h.update(f"dataclass:{type(obj).__module__}.{type(obj).__qualname__}(".encode())
        for f in dataclasses.fields(obj):
            h.update(f"{f.name}=".encode())
            _update(h, getattr(obj, f.name), seen)
        h.update(b")")
    elif callable(obj) and hasattr(obj, "__wrapped__"):  # jax.jit, functools.wraps, ...
        h.update(f"wrapped:{type(obj).__qualname__}(".encode())
        _update(h, obj.__wrapped__, seen)
        h.update(b")")
    else:
        raise _Unhashable(f"a {type(obj).__qualname__}")


def _function(h, fn: types.FunctionType, seen: dict) -> None:
    h.update(f"function:{fn.__module__}.{fn.__qualname__}(".encode())
    _update(h, fn.__code__, seen)
    _update(h, (fn.__defaults__, fn.__kwdefaults__), seen)
    cells = tuple(c.cell_contents for c in fn.__closure__ or ())
    _update(h, cells, seen)
    # module-level data the code reads (functions, classes and modules are code: covered by the
    # package digest and the library versions)
    for name in sorted(_global_names(fn.__code__)):
        if name in fn.__globals__:
            value = fn.__globals__[name]
            if not isinstance(value, (types.FunctionType, types.ModuleType, type)) and not (
                    callable(value)):
                h.update(f"global:{name}=".encode())
                _update(h, value, seen)
    if hasattr(fn, "__wrapped__"):
        _update(h, fn.__wrapped__, seen)
    h.update(b")")


def _global_names(code: types.CodeType) -> set:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


def _signature(leaves) -> tuple | None:
    """Shape, dtype and weak type of each leaf (a Python scalar: its type, whose dtype follows
    the x64 setting, part of the key); None if a leaf is a tracer (the call is part of someone's
    trace), an array split over several devices or one committed to another than the default
    device."""
    sig = []
    for x in leaves:
        if isinstance(x, jax.core.Tracer):
            return None
        if isinstance(x, jax.Array):
            devices = x.sharding.device_set
            if len(devices) > 1 or (x.committed and devices != {jax.devices()[0]}):
                return None
            sig.append((x.shape, x.dtype, x.weak_type))
        elif isinstance(x, (np.ndarray, np.generic)):
            sig.append((x.shape, x.dtype, False))
        else:
            sig.append(type(x))
    return tuple(sig)


def _committed(x) -> bool:
    """A strongly typed array committed to the default device (and only there)."""
    return (isinstance(x, jax.Array) and not isinstance(x, jax.core.Tracer) and x.committed
            and not x.weak_type and x.sharding.device_set == {jax.devices()[0]})


def cached_jit(fn, static_argnums: tuple[int, ...] = ()):
    """``jax.jit(fn, static_argnums=...)`` whose traced program is kept on disk (see the module
    docstring). Positional arguments only; the static ones must be hashable numbers/strings."""
    static = tuple(sorted(static_argnums))
    jitted = jax.jit(fn, static_argnums=static)
    try:
        h = hashlib.sha256()
        _update(h, fn, {})
        fn_digest = h.hexdigest()
    except (_Unhashable, RecursionError):
        return jitted
    programs: dict = {}

    @functools.wraps(fn)
    def call(*args):
        fixed = tuple(args[i] for i in static)
        dynamic = tuple(a for i, a in enumerate(args) if i not in static)
        leaves, tree = jax.tree_util.tree_flatten(dynamic)
        if any(_committed(x) for x in leaves):
            # an exported program's outputs are committed to their device, a plain jit's are
            # not, and jit compiles committed and uncommitted arguments apart (a second compile
            # when a chunk's output comes back as the next chunk's input): pass them
            # uncommitted, as numpy views (weakly typed ones stay: numpy has no weak types)
            leaves = [np.asarray(x) if _committed(x) else x for x in leaves]
            dynamic = jax.tree_util.tree_unflatten(tree, leaves)
        shapes = _signature(leaves)
        if shapes is None or jax.config.jax_disable_jit:
            return jitted(*args)  # part of the caller's trace, or sharded: as plain jit
        config = tuple(getattr(jax.config, name, None) for name in _CONFIG)
        sig = (fixed, tree, shapes, config)
        program = programs.get(sig)
        if program is None:
            where = cache_dir("traces")
            if where is None:
                return jitted(*args)
            program = programs[sig] = _program(fn_digest, jitted, static, args, sig, where)
        return program(*dynamic)

    call.jitted = jitted
    return call


def _program(fn_digest, jitted, static, args, sig, where):
    """The jitted call of the exported program of ``jitted`` at ``args`` (from disk, or
    exported now and stored), or ``jitted`` with the static arguments bound if JAX cannot
    export it."""
    from .codegen import _generator_version

    fixed = sig[0]

    def bound(*dynamic):
        it = iter(dynamic)
        fixed_it = iter(fixed)
        full = [next(fixed_it) if i in static else next(it)
                for i in range(len(dynamic) + len(fixed))]
        return jitted(*full)

    try:
        h = hashlib.sha256(f"{fn_digest}|{_generator_version()}|{jax.__version__}|"
                           f"{jax.default_backend()}|{np.__version__}|".encode())
        _update(h, (fixed, str(sig[1]), repr(sig[2]), sig[3]), {})
    except (_Unhashable, RecursionError):
        return bound
    path = os.path.join(where, f"{getattr(jitted, '__name__', 'fn')}-{h.hexdigest()}.jaxexport")
    exported = None
    try:
        with open(path, "rb") as fh:
            exported = jax.export.deserialize(bytearray(fh.read()))
    except Exception:  # noqa: BLE001 - missing, unreadable or truncated: export it again
        exported = None
    if exported is None:
        dynamic = tuple(a for i, a in enumerate(args) if i not in static)
        try:
            exported = jax.export.export(jax.jit(bound))(*dynamic)
            blob = exported.serialize()
        except Exception:  # noqa: BLE001 - not exportable (e.g. a custom call): trace as usual
            return bound
        try:
            with atomic_path(path) as tmp:
                tmp.write_bytes(blob)
        except OSError:
            pass
    return jax.jit(exported.call)
