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

On the CPU backend the compiled executable of each program is stored beside it too
(``.xla``: :func:`jax.experimental.serialize_executable.serialize`, with a checksum), keyed by the
program's key and the host (jaxlib version, platform, ``XLA_FLAGS``, the CPU's instruction-set
flags); a new session loads it directly, skipping the lowering of the exported program and the
persistent-cache lookup (which hashes the lowered module): of ~1.2 s that a cached program cost a
new HH diagram session, ~0.4 s. Loading it is XLA's deserialization (parsing the optimized HLO
module, ~0.05-0.2 s per program here), the same as a persistent-cache hit. An executable is
stored only when XLA compiled it in the session (one loaded from JAX's persistent cache
serializes without its kernels in jaxlib 0.10: see :func:`_executables_supported`; a program
found in that cache, e.g. after a change to the package that left its module unchanged, runs
from the cache in later sessions, as without the store), and only when its custom
calls are LAPACK's, whose kernels are set up before loading (JAX does it while lowering, which a
loaded executable skips). A stored executable that fails on its first call in a session is
deleted and the program compiled again (with a RuntimeWarning): a damaged or foreign file costs a
compile, never a run. ``HHANALYSIS_XLA_EXECUTABLES=0`` keeps only the exported programs.

Size: every change to the package's source (or of JAX) renames all programs, so the directory
would only grow. It is a least-recently-used cache under ``HHANALYSIS_TRACES_MAX_MB`` megabytes
(default 512, ``-1`` for no cap; an HH diagram's programs take ~7 MB): when a store takes it over
the cap, the entries used longest ago (by modification time, which each load refreshes) are
deleted down to three quarters of it, never one that the storing process loaded or stored
(:func:`prune`).

Location: :func:`hhanalysis.precision.cache_dir` ``("traces")``, ``~/.cache/hhanalysis/traces``;
``HHANALYSIS_CACHE_DIR=off`` turns it off with the other caches.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import math
import os
import pickle
import re
import types
import warnings

import jax
import numpy as np

from ._files import atomic_path
from .precision import cache_dir

__all__ = ["cached_jit", "device_array", "program_for", "prune"]

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


def device_array(x, dtype=None):
    """``jnp.asarray(x, dtype)`` outside any trace, without compiling anything: JAX 0.10 copies
    a numpy array or a Python number into a JAX array with a small jitted program per shape
    and dtype (``jit(stage)``, ~10-20 ms each in a new session, and never persisted), where
    :func:`jax.device_put` transfers it. Same dtype, weak type and (un)committed device."""
    if isinstance(x, jax.Array) and (dtype is None or x.dtype == dtype):
        return x
    if dtype is None and isinstance(x, (bool, int, float, complex)):
        return jax.device_put(x)  # weakly typed, as jnp.asarray makes it
    return jax.device_put(np.asarray(x, dtype=dtype))


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
    by_arrays: dict = {}  # the same programs for calls with numpy arrays only, found faster

    @functools.wraps(fn)
    def call(*args):
        arrays = None
        if not static and all(type(a) is np.ndarray for a in args):
            # the common call from a Python loop (LSODA's right-hand side): its signature is
            # the arrays' shapes and dtypes and the configuration (~1/3 of the general path)
            arrays = (tuple(getattr(jax.config, name, None) for name in _CONFIG),
                      jax.config.jax_disable_jit, tuple((a.shape, a.dtype) for a in args))
            program = by_arrays.get(arrays)
            if program is not None:
                return program(*args)
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
            program, out = _first_call(fn_digest, jitted, static, args, sig, where)
            programs[sig] = program
        else:
            out = program(*dynamic)
        if arrays is not None:
            # a loaded or compiled executable's C++ dispatcher, set up by its first call
            by_arrays[arrays] = getattr(program, "_call", None) or program
        return out

    def program(*args):
        """The program that ``call(*args)`` runs, for many more calls with numpy arrays of the
        same shapes and dtypes under the same JAX configuration (e.g. inside one
        :func:`~hhanalysis.precision.float64` scope): :func:`program_for`."""
        call(*args)
        if static or not all(type(a) is np.ndarray for a in args):
            return call
        key = (tuple(getattr(jax.config, name, None) for name in _CONFIG),
               jax.config.jax_disable_jit, tuple((a.shape, a.dtype) for a in args))
        return by_arrays.get(key, call)

    call.jitted = jitted
    call.program = program
    return call


def program_for(fn, *args):
    """``fn`` (a :func:`cached_jit` function, or one wrapped around it with
    :func:`functools.wraps`) for a Python loop that calls it many times with numpy arrays
    shaped like ``args``, under the JAX configuration of this call (the caller keeps it, e.g.
    the precision, for the loop): its program itself, without the per-call work of finding
    it (the configuration, the signature and the look-up: ~20 of a call's ~55 us; LSODA
    calls the right-hand side ~3500 times per HH diagram). Any other ``fn``: ``fn``."""
    program = getattr(fn, "program", None)
    return fn if program is None else program(*args)


def _first_call(fn_digest, jitted, static, args, sig, where):
    """(program, its outputs at ``args``): the program of ``jitted`` at ``args`` (see
    :func:`_program`) and its first call. A stored executable that fails on that call (an
    incomplete or foreign file: see :func:`_executables_supported`) is deleted, and the
    program is built again without it (compiled afresh, and stored again): a stored file can
    cost a session a compile, never its run. A genuine error of the program comes back from
    the rebuilt one."""
    dynamic = tuple(a for i, a in enumerate(args) if i not in static)
    program, stored = _program(fn_digest, jitted, static, args, sig, where)
    if stored is None:
        return program, program(*dynamic)
    try:
        # XLA:CPU looks its kernels up when it runs them: wait for the outputs, so that an
        # error of the run (not only of the dispatch) is caught here
        return program, jax.block_until_ready(program(*dynamic))
    except Exception as exc:  # noqa: BLE001 - any failure of a stored file: compile instead
        why = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
        warnings.warn(f"hhanalysis: the stored executable {os.path.basename(stored)} failed "
                      f"to run ({why}); deleted and compiled again", RuntimeWarning,
                      stacklevel=3)
        try:
            os.remove(stored)
        except OSError:
            pass
        program, _ = _program(fn_digest, jitted, static, args, sig, where, load=False)
        return program, program(*dynamic)


def _program(fn_digest, jitted, static, args, sig, where, load=True):
    """(program, path of the stored executable it was loaded from or None): the jitted call
    of the exported program of ``jitted`` at ``args`` (from disk, or exported now and stored)
    or its compiled executable (loaded from disk if ``load``, or compiled now and stored), or
    ``jitted`` with the static arguments bound if JAX cannot export it."""
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
        return bound, None
    name = getattr(jitted, "__name__", "fn")
    path = os.path.join(where, f"{name}-{h.hexdigest()}.jaxexport")
    dynamic = tuple(a for i, a in enumerate(args) if i not in static)
    executable = None
    if _executables_supported():
        executable = os.path.join(where, f"{name}-{_executable_key(h.hexdigest())}.xla")
        compiled = _load_executable(executable) if load else None
        if compiled is not None:
            _used(executable)
            return compiled, executable
    exported = None
    try:
        with open(path, "rb") as fh:
            exported = jax.export.deserialize(bytearray(fh.read()))
        _used(path)
    except Exception:  # noqa: BLE001 - missing, unreadable or truncated: export it again
        exported = None
    if exported is None:
        try:
            exported = jax.export.export(jax.jit(bound))(*dynamic)
            blob = exported.serialize()
        except Exception:  # noqa: BLE001 - not exportable (e.g. a custom call): trace as usual
            return bound, None
        try:
            with atomic_path(path) as tmp:
                tmp.write_bytes(blob)
            _stored(path)
        except OSError:
            pass
    program = jax.jit(exported.call)
    if executable is None:
        return program, None  # compiled on its first call (JAX's persistent cache)
    try:
        compiled, fresh = _compile_afresh(program.lower(*dynamic), keep_cache_out=not load)
    except Exception:  # noqa: BLE001 - the jitted call compiles (and reports) as usual
        return program, None
    if fresh:
        _store_executable(executable, compiled)
    return compiled, None


_CACHE_HIT = "/jax/compilation_cache/cache_hits"


def _compile_afresh(lowered, keep_cache_out: bool = False):
    """(``lowered.compile()``, whether XLA compiled it): only an executable XLA compiled in
    this session may be stored; one loaded from JAX's persistent cache cannot be stored again
    (the root cause of the "Function ... not found" failures: see
    :func:`_executables_supported`). A cache hit is seen in JAX's monitoring event.

    By default JAX's cache is used as usual: a program it holds (e.g. after a change to the
    package that left the program's module unchanged) is loaded from it and not stored, and
    runs from the cache in later sessions as before; keeping the cache out would compile
    every such program again after each change (the test suite on a warm cache took twice as
    long). ``keep_cache_out`` (to replace a stored file that failed) compiles afresh:
    ``enable_compilation_cache(False)`` alone would not do it, as JAX decides once per
    process, at its first compile, whether it uses the cache
    (``jax._src.compilation_cache.is_cache_used``) and keeps the answer, so the switch only
    counts after ``reset_cache()`` (which also makes the next compile after this one decide
    again, with the cache back on)."""
    from jax._src import compilation_cache
    from jax._src.config import enable_compilation_cache

    hits = []

    def listener(event, **_):
        if event == _CACHE_HIT:
            hits.append(event)

    jax.monitoring.register_event_listener(listener)
    try:
        if not keep_cache_out:
            compiled = lowered.compile()
        else:
            with enable_compilation_cache(False):
                compilation_cache.reset_cache()
                try:
                    compiled = lowered.compile()
                finally:
                    compilation_cache.reset_cache()
    finally:
        jax.monitoring.unregister_event_listener(listener)
    return compiled, not hits


_MAGIC = b"hhanalysis-xla-1\n"


@functools.lru_cache(maxsize=1)
def _executables_supported() -> bool:
    """Compiled executables are kept on the CPU backend, where this JAX has the (partly
    private) functions their storing and loading need (see :func:`_store_executable` and
    :func:`_compile_afresh`; otherwise every session would compile again what it could not
    load), unless ``HHANALYSIS_XLA_EXECUTABLES=0``.

    Why each stored executable is compiled by XLA, never taken from JAX's persistent cache
    (jaxlib 0.10): XLA:CPU serializes an executable as its thunks, its optimized HLO and the
    object files of its kernels (5 for a program of two fusions, 160 for the equilibria's
    refine). An executable that was itself deserialized (a persistent-cache hit) runs, its
    kernels loaded in the JIT, but keeps no object files: serialized again it has none
    (~10 kB instead of ~17 kB for the two-fusion program), loads without complaint and fails
    when run, "NOT_FOUND: Function iota_convert_fusion not found". The store's
    ``enable_compilation_cache(False)`` did not keep the cache out: JAX decides at a process's
    first compile whether it uses the cache and keeps the answer (:func:`_compile_afresh`
    resets it). So each program the store compiled (taking over JAX's 0.2 s threshold) went
    into JAX's cache too, and a later session that found its ``.xla`` file missing with the
    same lowered module (after any change to the package's source, which renames the
    programs) loaded it from there and stored the copy without kernels. Now an executable is
    stored only when no cache hit was reported while it compiled (:func:`_compile_afresh`).
    Not the cause: kernel names shared by programs compiled in one process (60 programs with
    the same fusion names, stored and loaded, all ran). Should a stored executable still fail,
    its first call falls back to compiling (:func:`_first_call`)."""
    if os.environ.get("HHANALYSIS_XLA_EXECUTABLES", "1") == "0" or (
            jax.default_backend() != "cpu"):
        return False
    try:
        from jax._src.compilation_cache import reset_cache  # noqa: F401
        from jax._src.config import enable_compilation_cache  # noqa: F401
        from jax._src.lax.linalg import initialize_lapack  # noqa: F401
        from jax.experimental.serialize_executable import (  # noqa: F401
            deserialize_and_load,
            serialize,
        )
    except ImportError:
        return False
    return True


@functools.lru_cache(maxsize=1)
def _host() -> str:
    """What a compiled CPU executable depends on beyond JAX's own versions: jaxlib, the
    backend's platform and version, the XLA flags and the host CPU's instruction-set flags
    (XLA compiles for the CPU it runs on; a cache directory shared between machines must not
    hand one machine's code to another)."""
    import platform

    import jaxlib

    device = jax.devices()[0]
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next((line for line in fh if line.startswith(("flags", "Features"))), "")
    except OSError:
        cpu = ""
    return "|".join((jaxlib.__version__, device.platform, device.device_kind,
                     device.client.platform_version, os.environ.get("XLA_FLAGS", ""),
                     platform.machine(), platform.processor(), cpu))


def _executable_key(program_key: str) -> str:
    return hashlib.sha256(f"{program_key}|{_host()}".encode()).hexdigest()


def _load_executable(path: str):
    """The compiled executable stored at ``path`` (:func:`_store_executable`), or None if it is
    missing, damaged or cannot be loaded. Loading it skips the lowering of the exported
    program and JAX's persistent-cache lookup (hashing the lowered module), ~30% of a cached
    program's start-up; the checksum guards the deserializer against damaged files."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    head = len(_MAGIC) + 32
    payload = data[head:]
    if not data.startswith(_MAGIC) or hashlib.sha256(payload).digest() != data[len(_MAGIC):head]:
        return None
    try:
        from jax._src.lax.linalg import initialize_lapack
        from jax.experimental.serialize_executable import deserialize_and_load

        # the LAPACK kernels' function pointers are set when JAX first lowers a LAPACK call;
        # a loaded executable skips lowering (without this its first LAPACK call crashes)
        initialize_lapack()
        blob, in_tree, out_tree = pickle.loads(payload)
        return deserialize_and_load(blob, in_tree, out_tree)
    except Exception:  # noqa: BLE001 - another jaxlib's format, or damaged: compile again
        return None


def _store_executable(path: str, compiled) -> None:
    """Write ``compiled`` (a :class:`jax.stages.Compiled`) to ``path``: magic line, SHA-256
    of the payload, pickled (executable, input tree, output tree) of
    :func:`jax.experimental.serialize_executable.serialize`."""
    from jax.experimental.serialize_executable import serialize

    # only CPU executables whose custom calls are LAPACK's (initialized in _load_executable):
    # other kernels may need a set-up that only lowering does
    targets = set(re.findall(r'custom_call_target="([^"]*)"', compiled.as_text() or ""))
    if not all(t.startswith("lapack_") for t in targets):
        return
    try:
        payload = pickle.dumps(serialize(compiled), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - not serializable (e.g. constants, host callbacks)
        return
    try:
        with atomic_path(path) as tmp:
            tmp.write_bytes(_MAGIC + hashlib.sha256(payload).digest() + payload)
        _stored(path)
    except OSError:
        pass


# --------------------------------------------------------------------------------------------
# Pruning: the directory is a cache of least recently used entries under a size cap
# --------------------------------------------------------------------------------------------

_SUFFIXES = (".jaxexport", ".xla")
_DEFAULT_MAX_MB = 512.0
_IN_USE: set = set()  # the entries this process loaded or stored (never pruned by it)


def _used(path: str) -> None:
    """Note that this process uses the entry ``path`` and mark it recently used (its
    modification time, which pruning orders by: access times are often not kept)."""
    _IN_USE.add(os.path.abspath(path))
    try:
        os.utime(path)
    except OSError:  # a read-only cache: only the order of pruning suffers
        pass


def _stored(path: str) -> None:
    """After an entry was written: note it, then keep the directory under its cap."""
    _IN_USE.add(os.path.abspath(path))
    limit = max_bytes()
    if limit is not None:
        prune(os.path.dirname(path), limit)


def max_bytes() -> float | None:
    """The size cap of the traces directory in bytes: ``HHANALYSIS_TRACES_MAX_MB`` megabytes
    (default 512; ``-1``: no cap). A value that is not a number warns and counts as the
    default."""
    text = os.environ.get("HHANALYSIS_TRACES_MAX_MB", "").strip()
    if not text:
        return _DEFAULT_MAX_MB * 1e6
    try:
        mb = float(text)
    except ValueError:
        mb = math.nan
    if not (mb >= 0 or mb == -1):
        warnings.warn(f"HHANALYSIS_TRACES_MAX_MB={text!r} is not a size in MB (>= 0, or -1 "
                      f"for no cap); using {_DEFAULT_MAX_MB:g}", RuntimeWarning, stacklevel=3)
        mb = _DEFAULT_MAX_MB
    return None if mb == -1 else mb * 1e6


def _evictions(entries, limit: float, keep) -> list:
    r"""Which entries to delete, oldest first: none while the total size :math:`S` is within
    ``limit``; else the least recently used (smallest modification time) until
    :math:`S \le \tfrac34` ``limit``, skipping those in ``keep``. The slack of a quarter
    makes pruning rare (not a scan and a deletion at every store of a full cache).
    ``entries``: ``(mtime, size, path)`` tuples."""
    total = sum(size for _, size, _ in entries)
    if total <= limit:
        return []
    out = []
    for _, size, path in sorted(entries):
        if total <= 0.75 * limit:
            break
        if path not in keep:
            out.append(path)
            total -= size
    return out


def prune(where: str, limit: float) -> list[str]:
    """Delete the least recently used programs and executables of the traces directory
    ``where`` (:func:`_evictions`) once their total size exceeds ``limit`` bytes; never an
    entry this process loaded or stored (its program may be needed again: a deleted file would
    cost it a recompile). Returns the deleted paths.

    Every change to the package's source renames all its programs (their keys cover the
    source), so without pruning each edit, and each upgrade of JAX, left a full set of files
    that no session would read again (an HH diagram's ~7 MB). The least recently used ones go
    first: entries still used by another checkout or version sharing the directory are
    touched by each use (:func:`_used`) and kept, where pruning by the current source's
    fingerprint would delete them at every switch between checkouts. A concurrent session
    that loses an entry it was about to load compiles the program again; it never fails."""
    entries = []
    try:
        with os.scandir(where) as it:
            for e in it:
                if e.name.endswith(_SUFFIXES) and not e.name.startswith("."):
                    try:
                        st = e.stat()
                    except OSError:
                        continue
                    entries.append((st.st_mtime, st.st_size, os.path.abspath(e.path)))
    except OSError:
        return []
    removed = []
    for path in _evictions(entries, limit, _IN_USE):
        try:
            os.remove(path)
            removed.append(path)
        except OSError:
            pass
    return removed
