r"""Code generation: symbolic model → jitted JAX functions (second stage of the pipeline).

From the sympy right-hand side :math:`f(x, p)` of an :class:`~hhanalysis.models.ODEModel` this
module derives, symbolically,

* the state Jacobian :math:`J = \partial f/\partial x` and the parameter Jacobian
  :math:`\partial f/\partial p`;
* the multilinear forms of the Taylor expansion
  :math:`f(x_0 + u) = f + Ju + \tfrac12 B(u,u) + \tfrac16 C(u,u,u) + \dots`, i.e.
  :math:`B_i(u, v) = \sum_{jk} \partial^2 f_i/\partial x_j\partial x_k\, u_j v_k` and
  :math:`C_i(u,v,w) = \sum_{jkl} \partial^3 f_i/\partial x_j\partial x_k\partial x_l\, u_j v_k w_l`
  (used for Lyapunov coefficients and center manifolds),

after rewriting removable :math:`0/0` singularities with
:func:`hhanalysis.special.remove_removable_singularities`. Each is printed to Python source with
common-subexpression elimination and compiled with :func:`jax.jit`. The generated functions take an
unbatched state ``x`` of shape ``(n,)`` and parameter vector ``p`` of shape ``(n_params,)`` and keep
the
input dtype (float64 for all analysis; the simulator may use float32); batch them with
:func:`jax.vmap`.

Generation is cached per model *structure* (state names, parameter names, equations): models that
differ only in parameter defaults — e.g. both HH presets — share one :class:`CompiledModel`. The
generated source is also kept on disk (:func:`cached_sources`), so a new Python session skips the
symbolic differentiation and CSE (~1 s for HH) for a model it has seen before.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import jax
import jax.numpy as jnp
import sympy as sp
from sympy.printing.numpy import JaxPrinter

from ._files import atomic_path
from ._trace_cache import cached_jit
from .models import ODEModel
from .precision import cache_dir, float64
from .special import (
    Exprel,
    exprel,
    exprel_of_exp,
    inv_exprel_of_exp,
    remove_removable_singularities,
    share_exponentials,
)

__all__ = [
    "CompiledModel",
    "compile_model",
    "generate_function",
    "cached_sources",
    "SymbolicDerivatives",
    "symbolic_derivatives",
]


@dataclass(frozen=True)
class SymbolicDerivatives:
    """The symbolic pieces the code is generated from (singularities already removed).

    Attributes:
        x: state symbols; p: parameter symbols; u, v, w: direction symbols for B and C.
        f: right-hand side (n,); jac_x: (n, n); jac_p: (n, n_params); B: (n,) in u, v;
        C: (n,) in u, v, w.
    """

    x: tuple[sp.Symbol, ...]
    p: tuple[sp.Symbol, ...]
    u: tuple[sp.Symbol, ...]
    v: tuple[sp.Symbol, ...]
    w: tuple[sp.Symbol, ...]
    f: sp.Matrix
    jac_x: sp.Matrix
    jac_p: sp.Matrix
    B: sp.Matrix
    C: sp.Matrix


def symbolic_derivatives(model: ODEModel) -> SymbolicDerivatives:
    """Differentiate the model's right-hand side symbolically (after singularity removal)."""
    n = model.n_states
    x = tuple(sp.Symbol(f"_x{i}") for i in range(n))
    p = tuple(sp.Symbol(f"_p{k}") for k in range(len(model.parameters)))
    u = tuple(sp.Symbol(f"_u{i}") for i in range(n))
    v = tuple(sp.Symbol(f"_v{i}") for i in range(n))
    w = tuple(sp.Symbol(f"_w{i}") for i in range(n))
    subs = {model.symbol(s): xi for s, xi in zip(model.state_names, x)}
    subs.update({model.symbol(q): pk for q, pk in zip(model.param_names, p)})
    f = sp.Matrix([remove_removable_singularities(sp.sympify(e).xreplace(subs)) for e in model.rhs])
    jac_x = f.jacobian(x)
    jac_p = f.jacobian(p) if p else sp.zeros(n, 0)
    jv = jac_x * sp.Matrix(v)
    B = jv.jacobian(x) * sp.Matrix(u)
    C = B.jacobian(x) * sp.Matrix(w)
    return SymbolicDerivatives(x, p, u, v, w, f, jac_x, jac_p, B, C)


class _Printer(JaxPrinter):
    def _print_Integer(self, expr):
        # a Python int beyond int64 (exact rationals of decimal literals, products of them in
        # third derivatives) cannot meet a JAX array: print large integers as floats
        p = int(expr)
        return str(p) if abs(p) < 2**31 else repr(float(p))

    def _print_Rational(self, expr):
        if abs(expr.p) < 2**31 and expr.q < 2**31:
            return super()._print_Rational(expr)
        return repr(float(expr))

    def _print_Exprel(self, expr):
        n, y = expr.args
        return f"_exprel({int(n)}, {self._print(y)})"

    def _print_Pow(self, expr, rational=False):
        base, e = expr.args
        if e.is_Integer:  # integer powers stay integer: JAX lowers them to multiplications
            k = int(e)
            b = self.parenthesize(base, 1000)
            if k == -1:
                return f"(1/{b})"
            return f"(1/({b}**{-k}))" if k < 0 else f"({b}**{k})"
        if e == sp.Rational(1, 2):
            return f"jax.numpy.sqrt({self._print(base)})"
        return super()._print_Pow(expr, rational=rational)

    def _print_IntegerPower(self, expr):
        # behind an optimization barrier: XLA's simplifier would turn exp(a)*exp(a) back into
        # exp(2a) and so undo the sharing
        base, k = expr.args
        return f"(_opaque({self._print(base)})**{int(k)})"

    def _print_exp(self, expr):
        # constant factors split off by share_exponentials print as numbers: XLA would fold
        # exp(c)*exp(x) into exp(c + x), a second exponential of x
        if expr.args[0].is_number:
            return repr(float(expr.evalf(20)))
        return super()._print_exp(expr)

    def _print_InvExprelOfExp(self, expr):
        y, ey = expr.args
        return f"_inv_exprel_of_exp({self._print(y)}, {self._print(ey)})"

    def _print_ExprelOfExp(self, expr):
        n, y, e = expr.args
        return f"_exprel_of_exp({int(n)}, {self._print(y)}, {self._print(e)})"


def _source(
    name: str, args: list[tuple[str, tuple[sp.Symbol, ...]]], exprs: sp.Matrix, matrix: bool,
    as_tuple: bool = False,
) -> str:
    """Python source of ``def name(*args)`` returning ``exprs`` with CSE.

    The result has shape ``exprs.shape`` if ``matrix`` else ``(len(exprs),)``; with ``as_tuple``
    it is a tuple of the entries instead (no stacking: XLA then fuses a whole time step).
    """
    flat = list(exprs)
    replacements, reduced = sp.cse(flat, symbols=sp.numbered_symbols("_c"), optimizations="basic")
    printer = _Printer()
    lines = [f"def {name}({', '.join(a for a, _ in args)}):"]
    for argname, syms in args:
        for i, s in enumerate(syms):
            lines.append(f"    {s.name} = {argname}[{i}]")
    for sym, e in replacements:
        lines.append(f"    {sym.name} = {printer.doprint(e)}")
    items = ", ".join(printer.doprint(e) for e in reduced)
    if as_tuple:
        lines.append(f"    return _entries([{items}], {args[0][0]})")
        return "\n".join(lines) + "\n"
    lines.append(f"    _out = _stack([{items}], {args[0][0]})")
    if not flat:
        lines[-1] = f"    _out = jnp.zeros({exprs.shape}, jnp.result_type({args[0][0]}, float))"
    if matrix:
        shape = f"({exprs.shape[0]}, {exprs.shape[1]})"
        lines.append(f"    return _out.reshape({shape} + _out.shape[1:])")
    else:
        lines.append("    return _out")
    return "\n".join(lines) + "\n"


def _stack(items, like):
    """Stack scalar results in the computation's dtype (complex directions give complex B, C)."""
    like = jnp.asarray(like)
    dtype = jnp.result_type(like, *items)
    return jnp.stack([jnp.broadcast_to(jnp.asarray(i, dtype), like.shape[1:]) for i in items])


def _entries(items, like):
    """Entries broadcast to one neuron layout (``like.shape[1:]``, or the shape of
    ``like[0]`` when the state is a tuple of arrays), as a tuple."""
    shape = jnp.shape(like[0]) if isinstance(like, (tuple, list)) else jnp.shape(like)[1:]
    return tuple(jnp.broadcast_to(i, shape) for i in items)


def generate_function(
    name: str, args: list[tuple[str, tuple[sp.Symbol, ...]]], exprs: sp.Matrix,
    matrix: bool = False,
) -> Callable:
    """Jitted JAX function ``name(*arrays)`` evaluating the sympy ``exprs`` (run in JAX's 64-bit
    mode, like the functions of a :class:`CompiledModel`).

    Arguments:
        name: the function's name (shown in tracebacks).
        args: ``(argument name, symbols)``: argument ``k`` is an array whose entries are these
            symbols in order.
        exprs: expressions to return (``Exprel`` allowed; apply
            :func:`~hhanalysis.special.remove_removable_singularities` first if needed).
        matrix: return ``exprs.shape`` (True) or a flat vector (False).
    """
    return _jitted(name, _source(name, args, exprs, matrix))


def _jitted(name: str, src: str) -> Callable:
    """The generated source ``src`` of ``def name``, jitted and run in float64 mode."""
    return float64(jax.jit(_compile_source(name, src)))


def _compile_source(name: str, src: str, barriers: bool = True) -> Callable:
    """The generated function ``name``, not jitted. ``barriers=False`` makes ``_opaque`` the
    identity (for a fused GPU step, where the optimisation barriers that keep shared
    exponentials apart on the CPU only split the step into more kernels; a Pallas kernel
    cannot lower them at all)."""
    namespace = {"jax": jax, "jnp": jnp, "_exprel": exprel, "_stack": _stack, "_entries": _entries,
                 "Exprel": Exprel,
                 "_exprel_of_exp": exprel_of_exp, "_inv_exprel_of_exp": inv_exprel_of_exp,
                 "_opaque": jax.lax.optimization_barrier if barriers else _identity}
    code = compile(src, f"<hhanalysis generated {name}>", "exec")
    exec(code, namespace)  # noqa: S102 - our own generated source
    fn = namespace[name]
    fn.__source__ = src
    return fn


def _identity(x):
    return x


def fused_functions(cm: CompiledModel) -> dict[str, Callable]:
    """``f_fast`` and ``f_and_jac_diag`` of ``cm`` without optimisation barriers and not jitted,
    for the fused GPU step (:mod:`hhanalysis.simulate.kernels`): they accept the state as a
    tuple of arrays and return a tuple. Same expressions as ``cm``'s, so the same values up to
    the order XLA or Triton evaluates them in."""
    return {name: _compile_source(name, cm.sources[name], barriers=False)
            for name in ("f_fast", "f_and_jac_diag")}


@dataclass(frozen=True, eq=False)
class CompiledModel:
    """Jitted JAX functions generated from a model's equations.

    All take unbatched arrays (``x``: ``(n,)``, ``p``: ``(n_params,)``, directions ``(n,)``) and
    return arrays of the input float dtype; use :func:`jax.vmap` for batches. Each runs in JAX's
    64-bit mode (:func:`~hhanalysis.precision.float64`), so float64 inputs are computed in
    float64 whether or not the caller enabled ``jax_enable_x64`` (inside a transformation you
    trace yourself, e.g. ``jax.vmap(f)``, they follow your trace's precision). They also accept a
    structure-of-arrays batch directly: ``x`` of shape ``(n, N)`` and ``p`` a sequence of
    ``n_params`` arrays broadcastable to ``(N,)`` give results with a trailing ``N`` axis.

    Attributes:
        state_names, param_names: the orders of the state and parameter vectors.
        f: :math:`f(x, p)`, shape ``(n,)``.
        f_and_jac_diag: tuple of ``2n`` arrays, :math:`f_i` then
            :math:`\\partial f_i/\\partial x_i`, generated together so they share subexpressions
            (exponential Euler needs both); simulator-grade like ``f_fast``.
        f_fast: tuple of the ``n`` entries of :math:`f`, for the simulator: exponentials shared
            between rates (:func:`~hhanalysis.special.share_exponentials`) and the removable
            singularities filled by a short series (:func:`~hhanalysis.special.exprel_of_exp`);
            slightly less accurate than ``f`` within ~1e-3 of a singular point, much faster.
        jac_x: :math:`\\partial f/\\partial x`, shape ``(n, n)``.
        jac_p: :math:`\\partial f/\\partial p`, shape ``(n, n_params)``.
        B: :math:`B(x, p, u, v)`, shape ``(n,)``.
        C: :math:`C(x, p, u, v, w)`, shape ``(n,)``.
        sources: generated Python source of each function, for inspection.
        symbolic: the symbolic expressions the functions were generated from (derived on first
            access when the sources came from the disk cache).
        generation_seconds: time spent in sympy (differentiation, CSE, printing), or in reading
            the sources from the disk cache.
        key: hex digest of the model's structure and of the code generator (the disk-cache key).
    """

    state_names: tuple[str, ...]
    param_names: tuple[str, ...]
    f: Callable
    f_and_jac_diag: Callable
    f_fast: Callable
    jac_x: Callable
    jac_p: Callable
    B: Callable
    C: Callable
    sources: dict
    generation_seconds: float
    key: str
    _model: ODEModel = field(repr=False)

    @functools.cached_property
    def symbolic(self) -> SymbolicDerivatives:
        """The symbolic expressions the functions were generated from."""
        return symbolic_derivatives(self._model)

    def param_index(self, name: str) -> int:
        """Position of parameter ``name`` in the parameter vector."""
        try:
            return self.param_names.index(name)
        except ValueError:
            raise ValueError(
                f"unknown parameter {name!r}; valid names: {list(self.param_names)}"
            ) from None


_CACHE: dict = {}


def _structure_key(model: ODEModel):
    # sympy expressions hash and compare structurally; copies made by with_params share them
    return (model.state_names, model.param_names, tuple(model.rhs))


@functools.cache
def _generator_version() -> str:
    """Digest of what generated code depends on besides the model: the package's source files
    (printer, singularity rewriting, the reductions built on generated code) and sympy's
    version (CSE and printing)."""
    h = hashlib.sha256(f"{sp.__version__}|{jax.__version__}".encode())
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _model_key(model: ODEModel) -> str:
    """Digest of the model's structure (state and parameter names, ``srepr`` of the equations;
    not the parameter defaults) and of :func:`_generator_version`."""
    text = repr((model.state_names, model.param_names, [sp.srepr(e) for e in model.rhs]))
    return hashlib.sha256(f"{_generator_version()}|{text}".encode()).hexdigest()


def cached_sources(key: str, kind: str, make: Callable[[], object]):
    """``make()`` (JSON data: generated sources), kept on disk under ``(key, kind)``.

    The directory is ``codegen`` next to JAX's persistent cache: ``~/.cache/hhanalysis/codegen``,
    or ``$HHANALYSIS_CACHE_DIR/codegen``; ``HHANALYSIS_CACHE_DIR=off`` turns it off (then
    ``make()`` runs every session). ``key`` must change whenever ``make()`` could return
    something else (:attr:`CompiledModel.key` covers the model's equations and the package's
    code). An unreadable entry is regenerated; a write that fails is skipped.
    """
    where = cache_dir("codegen")
    path = None if where is None else os.path.join(where, f"{kind}-{key}.json")
    if path is not None:
        try:
            with open(path, encoding="utf-8") as fh:
                return json.load(fh)["data"]
        except (OSError, ValueError, KeyError):
            pass
    data = make()
    if path is not None:
        try:
            with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
                json.dump({"data": data}, fh)
        except OSError:
            pass
    return data


def _generate_sources(model: ODEModel, d: SymbolicDerivatives) -> dict:
    f_and_diag = sp.Matrix(list(d.f) + [d.jac_x[i, i] for i in range(len(d.x))])
    specs = {
        "f": ([("x", d.x), ("p", d.p)], d.f),
        "f_and_jac_diag": ([("x", d.x), ("p", d.p)], share_exponentials(f_and_diag)),
        "f_fast": ([("x", d.x), ("p", d.p)], share_exponentials(d.f)),
        "jac_x": ([("x", d.x), ("p", d.p)], d.jac_x),
        "jac_p": ([("x", d.x), ("p", d.p)], d.jac_p),
        "B": ([("x", d.x), ("p", d.p), ("u", d.u), ("v", d.v)], d.B),
        "C": ([("x", d.x), ("p", d.p), ("u", d.u), ("v", d.v), ("w", d.w)], d.C),
    }
    tuples = ("f_and_jac_diag", "f_fast")
    return {
        name: _source(name, args, exprs, matrix=name.startswith("jac"), as_tuple=name in tuples)
        for name, (args, exprs) in specs.items()
    }


def compile_model(model: ODEModel) -> CompiledModel:
    """Generate and jit the functions of ``model`` (cached per model structure, in the session
    and on disk: :func:`cached_sources`)."""
    key = _structure_key(model)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    t0 = time.perf_counter()
    digest = _model_key(model)
    derived = {}

    def make():
        derived["symbolic"] = symbolic_derivatives(model)
        return _generate_sources(model, derived["symbolic"])

    sources = cached_sources(digest, "model", make)
    # jitted, and run in float64 mode whatever the caller's jax_enable_x64 (float32 inputs stay
    # float32: the simulator's single precision)
    from ._trace_cache import _executables_supported

    # f and jac_x only with their executables (else a plain jit is as fast to start, and
    # dispatches faster)
    on_disk = ("f", "jac_x", "B", "C") if _executables_supported() else ("B", "C")
    fns = {name: _jitted(name, src) for name, src in sources.items() if name not in on_disk}
    # B and C are called once per Hopf point, f and jac_x by LSODA and Newton loops in Python:
    # their traced programs and executables are kept on disk too (tracing, lowering and
    # compiling C, or f and jac_x together, cost a new session ~0.1-0.3 s; a numpy call of
    # f costs ~5 us more than a plain jit's ~35, ~3500 LSODA calls per HH diagram)
    for name in on_disk:
        fns[name] = float64(cached_jit(_compile_source(name, sources[name])))
    compiled = CompiledModel(
        state_names=model.state_names,
        param_names=model.param_names,
        sources=sources,
        generation_seconds=time.perf_counter() - t0,
        key=digest,
        _model=model,
        **fns,
    )
    if "symbolic" in derived:  # computed already: keep it
        compiled.__dict__["symbolic"] = derived["symbolic"]
    _CACHE[key] = compiled
    return compiled
