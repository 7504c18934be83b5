"""The cold-start caches: traced programs on disk (hhanalysis._trace_cache.cached_jit) and the
generated model code (hhanalysis.codegen.cached_sources). Each test points HHANALYSIS_CACHE_DIR at
its own temporary directory; the expected values are numpy's."""

import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hhanalysis as hh
from hhanalysis import codegen
from hhanalysis._trace_cache import cached_jit


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HHANALYSIS_CACHE_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def executables(monkeypatch):
    """Compiled executables kept too (the default; HHANALYSIS_XLA_EXECUTABLES=0 turns
    them off)."""
    from hhanalysis import _trace_cache

    monkeypatch.setenv("HHANALYSIS_XLA_EXECUTABLES", "1")
    _trace_cache._executables_supported.cache_clear()
    yield
    monkeypatch.delenv("HHANALYSIS_XLA_EXECUTABLES")
    _trace_cache._executables_supported.cache_clear()


_TRACES = []


def _note_trace():
    _TRACES.append(1)  # a global function: not part of the fingerprint (unlike a closed-over list)


def _scaled(scale):
    def f(x, y):
        _note_trace()
        return jnp.sin(x) * scale + y @ y

    return f


def _files(cache, kind="traces", pattern="*"):
    """The entries of one cache; for the traces, one .jaxexport program per traced signature
    (each with its compiled .xla executable beside it on CPU)."""
    if kind == "traces" and pattern == "*":
        pattern = "*.jaxexport"
    return sorted(p.name for p in (cache / kind).glob(pattern))


X, Y = np.linspace(0.0, 1.0, 5), np.arange(3.0)


def test_program_is_stored_and_reloaded_without_tracing(cache, x64):
    traces = _TRACES
    traces.clear()
    out = cached_jit(_scaled(3.0))(X, Y)
    np.testing.assert_allclose(out, np.sin(X) * 3.0 + Y @ Y, rtol=1e-15)
    assert len(traces) == 1 and len(_files(cache)) == 1
    # the same function made again (as in a new session): read from disk, not traced
    again = cached_jit(_scaled(3.0))(X, Y)
    assert len(traces) == 1
    np.testing.assert_array_equal(again, out)


def test_closure_values_shapes_and_static_arguments_give_new_programs(cache, x64):
    traces = _TRACES
    traces.clear()
    cached_jit(_scaled(3.0))(X, Y)
    out = cached_jit(_scaled(4.0))(X, Y)  # another closed-over value
    np.testing.assert_allclose(out, np.sin(X) * 4.0 + Y @ Y, rtol=1e-15)
    out = cached_jit(_scaled(4.0))(X[:3], Y)  # another shape
    np.testing.assert_allclose(out, np.sin(X[:3]) * 4.0 + Y @ Y, rtol=1e-15)
    assert len(traces) == 3 and len(_files(cache)) == 3

    power = cached_jit(lambda n, x: x ** n, static_argnums=(0,))
    np.testing.assert_allclose(power(2, X), X ** 2, rtol=1e-15)
    np.testing.assert_allclose(power(3, X), X ** 3, rtol=1e-15)
    assert len(_files(cache)) == 5


def test_precision_is_part_of_the_key(cache):
    f = cached_jit(lambda x: x * 2)
    with jax.enable_x64(True):
        assert f(np.ones(2)).dtype == np.float64
    with jax.enable_x64(False):
        assert f(np.ones(2, np.float32)).dtype == np.float32
    assert len(_files(cache)) == 2


def test_unknown_closure_values_and_traces_fall_back_to_plain_jit(cache, x64):
    class Opaque:
        scale = 2.0

    obj = Opaque()
    f = cached_jit(lambda x: x * obj.scale)
    np.testing.assert_allclose(f(X), 2 * X)
    assert _files(cache) == []
    g = cached_jit(lambda x: jnp.cos(x))
    np.testing.assert_allclose(jax.vmap(g)(X), np.cos(X), rtol=1e-15)  # inside someone's trace
    np.testing.assert_allclose(jax.grad(lambda x: g(x).sum())(X), -np.sin(X), rtol=1e-15)
    assert _files(cache) == []


def test_cache_off_and_damaged_entries(tmp_path, monkeypatch, x64, executables):
    monkeypatch.setenv("HHANALYSIS_CACHE_DIR", "off")
    traces = _TRACES
    traces.clear()
    np.testing.assert_allclose(cached_jit(_scaled(3.0))(X, Y), np.sin(X) * 3 + Y @ Y)
    assert list(tmp_path.iterdir()) == []

    monkeypatch.setenv("HHANALYSIS_CACHE_DIR", str(tmp_path))
    cached_jit(_scaled(3.0))(X, Y)
    entries = sorted((tmp_path / "traces").iterdir(), key=lambda e: e.suffix)
    assert [e.suffix for e in entries] == [".jaxexport", ".xla"]
    for entry in entries:
        entry.write_bytes(b"not a program")
    out = cached_jit(_scaled(3.0))(X, Y)  # exported and compiled again
    np.testing.assert_allclose(out, np.sin(X) * 3.0 + Y @ Y, rtol=1e-15)
    for entry in entries:
        assert entry.read_bytes() != b"not a program"


def test_a_new_process_finds_the_program(tmp_path):
    """The key does not depend on the process (string hashing is randomised per process)."""
    code = textwrap.dedent("""
        import jax, jax.numpy as jnp, numpy as np
        from hhanalysis._trace_cache import cached_jit
        A, B, C = 2.0, 3.0, (1, 2)
        traced = []
        def f(x):
            traced.append(1)
            return x * A + B + C[1]
        with jax.enable_x64(True):
            print(len(traced), float(cached_jit(f)(np.ones(3))[0]), len(traced))
    """)
    env = dict(os.environ, HHANALYSIS_CACHE_DIR=str(tmp_path))
    outs = []
    for seed in ("1", "2"):
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env=dict(env, PYTHONHASHSEED=seed), check=True)
        outs.append(proc.stdout.split())
    assert outs == [["0", "7.0", "1"], ["0", "7.0", "0"]]


def test_generated_sources_come_back_from_disk(cache, monkeypatch):
    model = hh.fitzhugh_nagumo()
    key = codegen._structure_key(model)
    codegen._CACHE.pop(key, None)
    first = codegen.compile_model(model)
    assert len(_files(cache, "codegen")) == 1
    codegen._CACHE.pop(key)

    def no_sympy(_):
        raise AssertionError("the sources should have come from the disk cache")

    monkeypatch.setattr(codegen, "symbolic_derivatives", no_sympy)
    second = codegen.compile_model(model)
    assert second.sources == first.sources and second.key == first.key
    monkeypatch.undo()
    assert second.symbolic.f == first.symbolic.f  # derived on first access
    x, p = np.array([0.3, -0.2]), model.param_vector()
    np.testing.assert_array_equal(second.jac_x(x, p), first.jac_x(x, p))


def test_outputs_fed_back_are_not_compiled_again(cache, x64):
    """An exported program's outputs are committed to the device; fed back as the next call's
    inputs (a continuation chunk after another) they must reuse the executable."""
    from jax._src import monitoring

    compiles = []
    monitoring.register_event_duration_secs_listener(
        lambda event, duration, **kw: compiles.append(event)
        if event == "/jax/core/compile/backend_compile_duration" else None)
    step = cached_jit(lambda u, ds: (u + ds, ds * 0.5))
    u, ds = step(np.zeros(3), np.float64(1.0))
    n = len(compiles)
    for _ in range(3):
        u, ds = step(u, ds)
    assert len(compiles) == n
    np.testing.assert_allclose(u, np.full(3, 1.875), rtol=1e-15)


def test_compiled_executable_is_stored_and_loaded(cache, x64, monkeypatch, executables):
    """Beside each program its compiled executable: a new session loads it (no tracing, no
    lowering) and gets the same bits; a damaged file or another host's key compiles again."""
    from hhanalysis import _trace_cache

    traces = _TRACES
    traces.clear()
    out = cached_jit(_scaled(3.0))(X, Y)
    (xla,) = _files(cache, pattern="*.xla")
    with monkeypatch.context() as m:  # the program is not even read
        m.setattr(jax.export, "deserialize", lambda *a: pytest.fail("read the program"))
        again = cached_jit(_scaled(3.0))(X, Y)
    assert len(traces) == 1
    np.testing.assert_array_equal(again, out)

    path = cache / "traces" / xla
    damaged = path.read_bytes()[:-10] + bytes(10)  # the checksum no longer matches
    path.write_bytes(damaged)
    assert _trace_cache._load_executable(str(path)) is None
    np.testing.assert_array_equal(cached_jit(_scaled(3.0))(X, Y), out)
    assert path.read_bytes() != damaged  # compiled and written again
    assert _trace_cache._load_executable(str(path)) is not None

    monkeypatch.setattr(_trace_cache, "_host", lambda: "another machine")
    np.testing.assert_array_equal(cached_jit(_scaled(3.0))(X, Y), out)
    assert len(_files(cache, pattern="*.xla")) == 2


def test_loaded_executables_with_lapack_run_in_a_new_process(tmp_path):
    """A loaded executable skips lowering, which is where JAX sets up its LAPACK kernels:
    the second process must set them up itself (it crashed before) and solve the same."""
    code = textwrap.dedent("""
        import jax, jax.numpy as jnp, numpy as np
        from hhanalysis._trace_cache import cached_jit
        a = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])
        with jax.enable_x64(True):
            x = cached_jit(lambda a, b: jnp.linalg.solve(a, b))(a, np.arange(3.0))
        print(np.asarray(x).tobytes().hex())
    """)
    env = dict(os.environ, HHANALYSIS_CACHE_DIR=str(tmp_path), HHANALYSIS_XLA_EXECUTABLES="1")
    outs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env=env, check=True).stdout.strip() for _ in range(2)]
    assert len(list((tmp_path / "traces").glob("*.xla"))) == 1
    a = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])
    np.testing.assert_allclose(np.frombuffer(bytes.fromhex(outs[0])),
                               np.linalg.solve(a, np.arange(3.0)), rtol=1e-14)
    assert outs[1] == outs[0]


def test_device_array_is_jnp_asarray_without_a_compile(x64):
    from jax._src import monitoring

    from hhanalysis._trace_cache import device_array

    compiles = []
    monitoring.register_event_duration_secs_listener(
        lambda event, duration, **kw: compiles.append(event)
        if event == "/jax/core/compile/backend_compile_duration" else None)
    cases = [(np.arange(7.0), None), (np.arange(3), None), (2, None), (0.5, None),
             (1.5, np.float64), (np.ones(2, np.complex128), None)]
    for x, dtype in cases:
        got = device_array(x, dtype)
        assert compiles == []
        want = jnp.asarray(x, dtype=dtype)  # compiles a copy (jit(stage)) per shape and dtype
        compiles.clear()
        assert isinstance(got, jax.Array) and not got.committed
        assert (got.dtype, got.weak_type, got.shape) == (want.dtype, want.weak_type, want.shape)
        np.testing.assert_array_equal(got, want)
    y = jnp.ones(3)
    assert device_array(y) is y


def test_without_executable_support_only_programs_are_kept(cache, x64, monkeypatch):
    """HHANALYSIS_XLA_EXECUTABLES=0 (or another backend, or a JAX without the functions): the
    exported program, jitted; no .xla files."""
    from hhanalysis import _trace_cache

    monkeypatch.setenv("HHANALYSIS_XLA_EXECUTABLES", "0")
    _trace_cache._executables_supported.cache_clear()
    try:
        out = cached_jit(_scaled(2.0))(X, Y)
    finally:
        _trace_cache._executables_supported.cache_clear()
    np.testing.assert_allclose(out, np.sin(X) * 2.0 + Y @ Y, rtol=1e-15)
    assert len(_files(cache)) == 1 and _files(cache, pattern="*.xla") == []


_AFTER_A_CACHE_HIT = """
import glob, os, sys, warnings
import jax, jax.numpy as jnp, numpy as np
import hhanalysis.precision  # JAX's persistent cache in $HHANALYSIS_CACHE_DIR
from hhanalysis import _trace_cache
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)  # small programs kept too
if sys.argv[1] == "old":  # the store before the fix: enable_compilation_cache(False) alone
    from jax._src.config import enable_compilation_cache
    def compile_old(lowered, keep_cache_out=False):
        with enable_compilation_cache(False):
            return lowered.compile(), True
    _trace_cache._compile_afresh = compile_old
def f(x):
    return jnp.sin(jnp.arange(x.shape[0]) * x[0]) + jnp.cumsum(x)  # an iota_convert fusion
with jax.enable_x64(True), warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    jax.jit(lambda y: y + 1)(np.ones(2))  # the first compile: JAX decides to use its cache
    if sys.argv[1] == "hit":  # compiled now (stored, and kept in JAX's cache)
        for p in glob.glob(sys.argv[2] + "/traces/*.xla"):
            os.remove(p)
    y = _trace_cache.cached_jit(f)(np.linspace(0.0, 1.0, 17))
    if sys.argv[1] in ("old", "hit"):  # stored, its module kept in JAX's cache; the .xla file
        for p in glob.glob(sys.argv[2] + "/traces/*.xla"):  # goes (a change of the package
            os.remove(p)  # renames the programs): compiled again, from JAX's cache
        y = _trace_cache.cached_jit(f)(np.linspace(0.0, 1.0, 17))
print(np.asarray(y).tobytes().hex(), sum("failed to run" in str(w.message) for w in caught))
"""


def test_executable_stored_after_a_persistent_cache_hit_runs_in_a_new_process(tmp_path):
    """The "NOT_FOUND: Function ..._fusion not found" failure, reproduced: an executable that
    JAX loaded from its persistent cache serializes without its kernels' object code, and the
    store used to take it from there whenever a program's .xla file was missing while JAX's
    cache held its module (enable_compilation_cache(False) came too late: JAX decides once per
    process). Now such a broken file falls back to compiling (a warning, the file replaced by
    one compiled afresh), and a program found in JAX's cache is not stored again."""
    env = dict(os.environ, HHANALYSIS_CACHE_DIR=str(tmp_path), HHANALYSIS_XLA_EXECUTABLES="1")

    def session(mode):
        proc = subprocess.run([sys.executable, "-c", _AFTER_A_CACHE_HIT, mode, str(tmp_path)],
                              env=env, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr[-2000:]  # before the fix: NOT_FOUND here
        out = proc.stdout.split()
        return np.frombuffer(bytes.fromhex(out[0])), int(out[1])

    x = np.linspace(0.0, 1.0, 17)
    want = np.sin(np.arange(17) * x[0]) + np.cumsum(x)
    y, failed = session("old")  # stored from JAX's cache: the file has no kernels
    np.testing.assert_allclose(y, want, rtol=1e-15)
    (xla,) = (tmp_path / "traces").glob("*.xla")
    broken = xla.read_bytes()
    y, failed = session("new")  # the broken file fails, is dropped, compiled afresh, stored
    np.testing.assert_allclose(y, want, rtol=1e-15)
    assert failed == 1 and xla.read_bytes() != broken
    y, failed = session("new")  # the replacement loads and runs
    np.testing.assert_allclose(y, want, rtol=1e-15)
    assert failed == 0
    y, failed = session("hit")  # compiled, then again from JAX's cache: not stored again
    np.testing.assert_allclose(y, want, rtol=1e-15)
    assert failed == 0 and not list((tmp_path / "traces").glob("*.xla"))


def test_program_for_is_the_program_of_a_call(cache, x64):
    """program_for gives the program a cached function runs for arrays of one signature (what
    LSODA's right-hand side calls) with the same values; any other function comes back as
    it is."""
    from hhanalysis._trace_cache import program_for

    f = cached_jit(_scaled(2.0))
    program = program_for(f, X, Y)
    np.testing.assert_array_equal(program(X + 1.0, Y), f(X + 1.0, Y))
    np.testing.assert_allclose(program(X, Y), np.sin(X) * 2.0 + Y @ Y, rtol=1e-15)
    plain = jax.jit(lambda x, y: x + y)
    assert program_for(plain, X, X) is plain


def _old_entry(directory, name, size, hours_ago):
    """A file that looks like a stored program, last used ``hours_ago``."""
    path = directory / name
    path.write_bytes(bytes(size))
    t = path.stat().st_mtime - 3600 * hours_ago
    os.utime(path, (t, t))
    return path


def test_traces_are_pruned_least_recently_used_first_never_those_in_use(
        cache, x64, monkeypatch):
    """Over HHANALYSIS_TRACES_MAX_MB a store deletes the entries used longest ago (down to
    three quarters of the cap), but never one this process loaded or stored, even if older;
    files that are not entries stay."""
    traces = _TRACES
    traces.clear()
    first = cached_jit(_scaled(3.0))
    out = first(X, Y)  # stored by this process: in use
    mine = sorted((cache / "traces").iterdir())
    for path in mine:  # older than every other entry
        os.utime(path, (1.0, 1.0))
    d = cache / "traces"
    old = [_old_entry(d, f"run-{k}.jaxexport", 40_000, 10 - k) for k in range(3)]
    note = _old_entry(d, "notes.txt", 40_000, 20)
    sizes = {p.name: p.stat().st_size for p in d.iterdir()}

    monkeypatch.setenv("HHANALYSIS_TRACES_MAX_MB", "0.1")
    second = cached_jit(_scaled(5.0))
    np.testing.assert_allclose(second(X, Y), np.sin(X) * 5.0 + Y @ Y, rtol=1e-15)
    left = {p.name for p in d.iterdir()}
    entries = sum(sizes.get(n, 0) for n in left if not n.endswith(".txt"))
    new = [n for n in left if n not in sizes]
    assert new and all(p.name in left for p in mine) and note.name in left
    assert old[0].name not in left and old[1].name not in left and old[2].name in left
    assert entries + sum((d / n).stat().st_size for n in new) <= 0.75 * 100_000
    # the first program still runs, without tracing again
    np.testing.assert_array_equal(first(X, Y), out)
    assert len(traces) == 2

    # a cap of 0 deletes every entry but those in use; -1 is no cap; a bad value warns
    from hhanalysis._trace_cache import max_bytes, prune

    assert prune(str(d), 0) == [str(old[2])]
    assert {p.name for p in d.iterdir()} == {p.name for p in mine} | set(new) | {note.name}
    monkeypatch.setenv("HHANALYSIS_TRACES_MAX_MB", "-1")
    assert max_bytes() is None
    monkeypatch.setenv("HHANALYSIS_TRACES_MAX_MB", "lots")
    with pytest.warns(RuntimeWarning, match="HHANALYSIS_TRACES_MAX_MB"):
        assert max_bytes() == 512e6
