r"""All equilibria of a model in a box, for one parameter set or a vectorised sweep.

Two methods, chosen by ``method='auto'``:

``'reduction'`` (used whenever the model allows it; HH, Morris–Lecar and FitzHugh–Nagumo do)
    Every state :math:`x_j` after the first obeys an equation linear in itself that depends on no
    other state than :math:`x_0` (gating variables: :math:`\dot x = \phi(\alpha(1-x) - \beta x)`).
    Solving these symbolically gives :math:`x_j = x_{j,\infty}(x_0)` and reduces the equilibrium
    problem to the scalar *current balance* :math:`g(x_0) = f_0(x_0, x_\infty(x_0)) = 0`. Every sign
    change of :math:`g` on a uniform grid of ``grid_points`` over the box's first coordinate (and
    one spacing beyond each end, so that roots on the edge are kept) is bracketed, refined by
    Newton's method safeguarded by the bracket (to 1e-10 of the spacing; about three steps); the
    other states are then their slaved values :math:`x_{j,\infty}(x_0)`, exact to round-off (a
    Newton step on the full system would move HH's by at most 1.4e-14 mV and 6e-16).
    The Jacobian is an arrowhead matrix (first row, first column and diagonal), so its
    eigenvalues are the roots of its characteristic polynomial (closed-form starts that one step
    of Aberth's method confirms, :func:`_polynomial_roots`); for a few roots (at most 64
    brackets: a single parameter set) LAPACK on the host computes them instead, which spares a
    new session the loading of that large compiled program (:func:`_host_spectra`). Where
    :math:`g` is not defined (NaN: ``sqrt`` or ``log`` of a negative number) the grid has gaps
    and only brackets between finite values count; a pole of the model raises
    :class:`SingularModelError` naming the state and the value. Two roots closer than one grid
    spacing (a parameter within about :math:`10^{-6}` of a fold) can be missed; everything else
    is found.

``'newton'`` (any model)
    Damped Newton from ``newton_starts`` seeded uniform random points of the box, with
    backtracking wherever a step would leave the domain of :math:`f` (NaN) or grow the residual;
    converged points inside the box (with a tolerance of 1e-9 of its size: equilibria on the edge
    count) are deduplicated (distance below 1e-7 of the box size).

Parameters given as arrays are broadcast together and the whole sweep runs in a few jitted,
``vmap``-ed kernels on the device (no Python loop over sweep points, no per-point host work).
The reduction writes the balance as :math:`g = m(p)(s(p) + h(v, q))` (HH: :math:`m = 1/C`,
:math:`s = I`) and scans :math:`h` once per distinct :math:`q` of the sweep (once for a sweep
over I, once per gK value on an (I, gK) grid); each point then finds its brackets by a binary
search in each monotone run of :math:`h` on the grid. A 1e4-point HH current sweep takes ~0.015 s
warm on 2 CPU cores, 1e5 points ~0.11 s (~0.10 CPU-seconds, measured on a loaded machine: the
safeguarded Newton on the balance and the eigenvalues ~0.03 s each;
``benchmarks/bench_equilibria.py``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg
import sympy as sp

from ._trace_cache import cached_jit
from .codegen import CompiledModel, _jitted, _source, cached_sources
from .models import ODEModel
from .precision import float64
from .sharding import pad_to, place, sweep_mesh
from .special import poles

__all__ = ["find_equilibria", "Equilibrium", "EquilibriumSet", "SingularModelError", "classify",
           "sweep_params"]

# safeguarded Newton on the balance until a step moves by less than 1e-10 of the bracket (1e-11
# mV for HH; the error after it is of the order of that step squared); the Newton step on the
# full system after it reaches round-off (quadratic convergence)
_ROOT_TOL = 1e-10
_ROOT_STEPS = 60
_BLOCK = 2048  # points per block of the refinement
_HOST_SPECTRA = 64  # at most this many brackets (points x roots): eigenvalues on the host


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


def classify(eigenvalues, tol: float = 1e-9) -> str:
    """Name the type of an equilibrium from its eigenvalues.

    Counts eigenvalues with real part below ``-tol·s``, above ``tol·s`` and in between
    (``s = max(1, max|λ|)``) and whether any is complex: 'stable node', 'stable focus',
    'unstable node', 'unstable focus', 'saddle', 'saddle-focus' or, with eigenvalues on the
    imaginary axis, 'non-hyperbolic'.
    """
    lam = np.asarray(eigenvalues)
    if lam.size == 0 or not np.all(np.isfinite(lam)):
        return "undefined"
    scale = max(1.0, float(np.abs(lam).max()))
    re = lam.real
    complex_ = bool(np.any(np.abs(lam.imag) > tol * scale))
    if np.any(np.abs(re) <= tol * scale):
        return "non-hyperbolic"
    if np.all(re < 0):
        return "stable focus" if complex_ else "stable node"
    if np.all(re > 0):
        return "unstable focus" if complex_ else "unstable node"
    return "saddle-focus" if complex_ else "saddle"


def spectrum_order(lam):
    """Order eigenvalues by decreasing real part, then by imaginary part."""
    lam = np.asarray(lam)
    return np.lexsort((lam.imag, -lam.real), axis=-1)


@dataclass(frozen=True)
class Equilibrium:
    r"""One equilibrium :math:`f(x^*, p) = 0` with its linearisation.

    Attributes:
        model: the model.
        x: the state vector (float64, ``(n,)``).
        params: parameter values, ``name -> value``.
        jacobian: :math:`J = \partial f/\partial x` at ``x``.
        eigenvalues: the eigenvalues of ``J``, by decreasing real part.
        right_eigenvectors: columns ``v_k`` with :math:`J v_k = \lambda_k v_k`, unit norm.
        left_eigenvectors: columns ``w_k`` with :math:`w_k^H J = \lambda_k w_k^H`, scaled so that
            :math:`w_k^H v_k = 1`.
        stability: the type from :func:`classify`.
        residual: :math:`\|f(x^*)\|_\infty`.
    """

    model: ODEModel = field(repr=False)
    x: np.ndarray
    params: dict
    jacobian: np.ndarray
    eigenvalues: np.ndarray
    right_eigenvectors: np.ndarray
    left_eigenvectors: np.ndarray
    stability: str
    residual: float

    @property
    def state(self) -> dict[str, float]:
        """The state as ``name -> value``."""
        return dict(zip(self.model.state_names, map(float, self.x)))

    @property
    def stable(self) -> bool:
        """All eigenvalues in the open left half-plane."""
        return self.stability.startswith("stable")

    @property
    def param_vector(self) -> np.ndarray:
        return self.model.param_vector(**self.params)

    def __repr__(self) -> str:
        state = ", ".join(f"{k}={v:.10g}" for k, v in self.state.items())
        lam = ", ".join(_format_complex(v) for v in self.eigenvalues)
        return (
            f"Equilibrium({state}; {self.stability}; residual={self.residual:.1e})\n"
            f"  eigenvalues: {lam}"
        )


def _format_complex(z: complex) -> str:
    z = complex(z)
    if z.imag == 0:
        return f"{z.real:.6g}"
    return f"{z.real:.6g}{z.imag:+.6g}j"


def equilibrium_at(model: ODEModel, x, params: Mapping[str, float]) -> Equilibrium:
    """Build an :class:`Equilibrium` (Jacobian, left/right eigenvectors) at a known point."""
    cm = model.compile()
    x = np.asarray(x, dtype=np.float64)
    p = model.param_vector(**params)
    J = np.asarray(cm.jac_x(x, p))
    lam, left, right = scipy.linalg.eig(J, left=True, right=True)
    order = spectrum_order(lam)
    lam, left, right = lam[order], left[:, order], right[:, order]
    right = right / np.linalg.norm(right, axis=0)
    left = left / np.conj(np.einsum("ik,ik->k", np.conj(left), right))[None, :]
    residual = float(np.max(np.abs(np.asarray(cm.f(x, p))))) if x.size else 0.0
    return Equilibrium(
        model=model,
        x=x,
        params={k: float(v) for k, v in zip(model.param_names, p)},
        jacobian=J,
        eigenvalues=lam,
        right_eigenvectors=right,
        left_eigenvectors=left,
        stability=classify(lam),
        residual=residual,
    )


@dataclass(frozen=True)
class EquilibriumSet:
    """All equilibria found for one parameter set or for every point of a sweep.

    Arrays have the sweep's shape ``S`` in front (``S = ()`` for a single parameter set) and
    ``K`` slots, the most equilibria found at any sweep point; unused slots hold NaN.

    Attributes:
        model: the model.
        params: the parameter vectors, ``S + (n_params,)``.
        x: equilibria sorted by the first state, ``S + (K, n)``.
        count: number of equilibria, shape ``S``.
        residual: :math:`\\|f\\|_\\infty` at each, ``S + (K,)``.
        eigenvalues: by decreasing real part, ``S + (K, n)`` (complex).
        box: the search box, ``(lo, hi)`` arrays of shape ``(n,)``.
        method: 'reduction' or 'newton'.
        message: empty, or why no equilibrium was found.
    """

    model: ODEModel = field(repr=False)
    params: np.ndarray
    x: np.ndarray
    count: np.ndarray
    residual: np.ndarray
    eigenvalues: np.ndarray
    box: tuple[np.ndarray, np.ndarray]
    method: str
    message: str = ""

    @property
    def sweep_shape(self) -> tuple[int, ...]:
        return self.count.shape

    @property
    def stable(self) -> np.ndarray:
        """Boolean ``S + (K,)``: all eigenvalues with negative real part (False in empty slots)."""
        with np.errstate(invalid="ignore"):
            return np.all(self.eigenvalues.real < 0, axis=-1) & np.isfinite(self.x[..., 0])

    @property
    def stability(self) -> np.ndarray:
        """Type names (:func:`classify`), ``S + (K,)``; '' in empty slots."""
        out = np.full(self.x.shape[:-1], "", dtype=object)
        for idx in zip(*np.nonzero(np.isfinite(self.x[..., 0]))):
            out[idx] = classify(self.eigenvalues[idx])
        return out

    def param(self, name: str) -> np.ndarray:
        """Values of parameter ``name`` over the sweep (shape ``S``)."""
        return self.params[..., self.model.compile().param_index(name)]

    def select(self, index) -> EquilibriumSet:
        """The equilibria at one sweep point (``index`` into ``S``)."""
        index = np.index_exp[index]
        k = int(np.max(self.count[index], initial=0))
        return EquilibriumSet(
            model=self.model,
            params=self.params[index],
            x=self.x[index][..., :k, :],
            count=np.asarray(self.count[index]),
            residual=self.residual[index][..., :k],
            eigenvalues=self.eigenvalues[index][..., :k, :],
            box=self.box,
            method=self.method,
            message=self.message,
        )

    def _require_single(self):
        if self.sweep_shape != ():
            raise TypeError(
                f"this EquilibriumSet holds a sweep of shape {self.sweep_shape}; "
                "use .select(index) to get the equilibria of one sweep point"
            )

    def __len__(self) -> int:
        self._require_single()
        return int(self.count)

    def __getitem__(self, k: int) -> Equilibrium:
        self._require_single()
        n = int(self.count)
        if not -n <= k < n:
            raise IndexError(f"equilibrium index {k} out of range: {n} found")
        params = dict(zip(self.model.param_names, map(float, self.params)))
        return equilibrium_at(self.model, self.x[k % n], params)

    def __iter__(self):
        return (self[k] for k in range(len(self)))

    def __repr__(self) -> str:
        if self.sweep_shape != ():
            return (
                f"EquilibriumSet(sweep of shape {self.sweep_shape}, up to {self.x.shape[-2]} "
                f"equilibria per point, method={self.method!r})"
            )
        if int(self.count) == 0:
            return f"EquilibriumSet(no equilibrium in the box: {self.message})"
        names = self.model.state_names
        head = "  ".join(f"{n:>12}" for n in names) + f"  {'stability':>15}  eigenvalues"
        rows = [head]
        for eq in self:
            vals = "  ".join(f"{v:12.6g}" for v in eq.x)
            lam = ", ".join(_format_complex(v) for v in eq.eigenvalues)
            rows.append(f"{vals}  {eq.stability:>15}  {lam}")
        return "\n".join(rows)


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------


def sweep_params(model: ODEModel, params: Mapping) -> np.ndarray:
    """Parameter vectors for scalar or array ``params``, broadcast to one sweep shape.

    Returns:
        float64 array ``S + (n_params,)``.

    Raises:
        ValueError: unknown names (listing the valid ones), non-numeric or non-finite values,
            shapes that do not broadcast.
    """
    model.check_param_names(params)
    arrays = {}
    for k, v in params.items():
        try:
            if np.asarray(v).dtype.kind not in "iuf":  # no bools, strings, complex, objects
                raise TypeError
            a = np.asarray(v, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"parameter {k!r} must be numeric, got {v!r}") from None
        if not np.all(np.isfinite(a)):
            raise ValueError(f"parameter {k!r} must be finite; got NaN or inf in {v!r}")
        arrays[k] = a
        if a.size:  # physical domains (conductances >= 0, C > 0), unless the model allows
            model.check_param_value(k, a.min()), model.check_param_value(k, a.max())
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrays.values()))
    except ValueError:
        shapes = {k: a.shape for k, a in arrays.items()}
        raise ValueError(f"parameter arrays do not broadcast together: {shapes}") from None
    base = model.param_vector()
    out = np.broadcast_to(base, shape + base.shape).copy()
    for k, a in arrays.items():
        out[..., model.param_names.index(k)] = np.broadcast_to(a, shape)
    return out


def _box(model: ODEModel, box) -> tuple[np.ndarray, np.ndarray]:
    box = dict(box or {})
    unknown = [k for k in box if k not in model.state_names]
    if unknown:
        raise ValueError(f"box: unknown state(s) {unknown}; states: {list(model.state_names)}")
    lo, hi = [], []
    for s in model.states:
        b = box.get(s.name, s.bounds)
        if b is None:
            raise ValueError(f"box: model gives no bounds for state {s.name!r}; pass box={{...}}")
        try:
            a, c = (float(v) for v in b)
        except (TypeError, ValueError):
            raise ValueError(f"box[{s.name!r}] must be a pair (min, max), got {b!r}") from None
        if not (np.isfinite(a) and np.isfinite(c)) or a >= c:
            raise ValueError(f"box[{s.name!r}] must satisfy finite min < max, got ({a}, {c})")
        lo.append(a)
        hi.append(c)
    return np.array(lo), np.array(hi)


# --------------------------------------------------------------------------------------------
# The reduction to a scalar current balance
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Reduction:
    balance: object  # g(v, p) -> (1,)
    slaved: object  # x_inf(v, p) -> (n,)
    split: _Split  # g = m(p) (s(p) + h(v, p)), see _Split
    plain: _Split  # the trivial split m = 1, s = 0, h = g


@dataclass(frozen=True, eq=False)
class _Split:
    r"""The balance written :math:`g(v, p) = m(p)\,(s(p) + h(v, q))` with :math:`m, s`
    independent of :math:`v` and :math:`q` the parameters :math:`h` depends on.

    For HH, :math:`m = 1/C`, :math:`s = I` and :math:`h` is minus the ionic current. In a sweep
    over parameters that :math:`h` does not depend on (I), :math:`h` is scanned on the grid once
    and each sweep point only solves :math:`h(v) = -s` on it; in general once per distinct
    :math:`q` of the sweep. The signs of :math:`g` and :math:`s + h` agree up to the constant
    factor :math:`\operatorname{sign} m`, so both have the same sign changes (where :math:`m`
    is finite and non-zero; elsewhere the plain split :math:`m = 1, s = 0, h = g` is used).
    """

    factor: object  # m(p) -> (1,)
    offset: object  # s(p) -> (1,)
    shape: object  # h(v, p) -> (1,)
    shape_params: frozenset  # indices of the parameters h depends on


def _split_sources(d, g, factor, offset, shape) -> dict:
    args = [("v", (d.x[0],)), ("p", d.p)]
    return {
        "factor": _source("balance_factor", [("p", d.p)], sp.Matrix([factor]), False),
        "offset": _source("balance_offset", [("p", d.p)], sp.Matrix([offset]), False),
        "shape": _source("balance_shape", args, sp.Matrix([shape]), False),
        "shape_params": sorted(i for i, q in enumerate(d.p) if shape.has(q)),
    }


def _make_split(src: dict) -> _Split:
    return _Split(
        factor=_jitted("balance_factor", src["factor"]),
        offset=_jitted("balance_offset", src["offset"]),
        shape=_jitted("balance_shape", src["shape"]),
        shape_params=frozenset(src["shape_params"]),
    )


def _reduction_sources(cm: CompiledModel) -> dict | None:
    """Generated sources of the reduction (see :func:`_reduction`), or None if the model has
    none."""
    d = cm.symbolic
    x0, rest = d.x[0], d.x[1:]
    solved = {}
    for j, xj in enumerate(rest, start=1):
        fj = d.f[j]
        if not fj.free_symbols & set(d.x) <= {x0, xj}:
            return None
        a = sp.diff(fj, xj)
        if a.has(xj) or a == 0:
            return None
        solved[xj] = -fj.xreplace({xj: sp.Integer(0)}) / a
    g = d.f[0].xreplace(solved)
    full = sp.Matrix([x0] + [solved[xj] for xj in rest])
    args = [("v", (x0,)), ("p", d.p)]
    factor, inner = g.as_independent(x0, as_Add=False)
    offset, shape = inner.as_independent(x0, as_Add=True)
    return {
        "balance": _source("balance", args, sp.Matrix([g]), False),
        "slaved": _source("slaved_state", args, full, False),
        "split": _split_sources(d, g, factor, offset, shape),
        "plain": _split_sources(d, g, sp.Integer(1), sp.Integer(0), g),
    }


@functools.cache
def _reduction(cm: CompiledModel) -> _Reduction | None:
    """The model reduced to the current balance of its first state, the others slaved to it
    (each :math:`f_j`, j > 0, linear in :math:`x_j` and free of the other states), or None.
    The generated sources are cached on disk with the model's (:func:`cached_sources`)."""
    src = cached_sources(cm.key, "reduction", lambda: _reduction_sources(cm))
    if src is None:
        return None
    return _Reduction(
        balance=_jitted("balance", src["balance"]),
        slaved=_jitted("slaved_state", src["slaved"]),
        split=_make_split(src["split"]),
        plain=_make_split(src["plain"]),
    )


def _bracketed_root(g, a, b, ga, gb, p):
    r"""The root of :math:`g(\cdot, p)` in a bracket :math:`[a, b]` (:math:`g(a) g(b) \le 0`,
    values at the ends given): Newton's method safeguarded by the bracket (rtsafe), from the
    secant point of the ends. A Newton step that leaves the current bracket (or is not finite)
    is replaced by its midpoint, and each step shrinks the bracket to the side where the sign
    changes; it stops when a step moves by less than _ROOT_TOL of the bracket's width (quadratic
    convergence: about three steps from a 0.1 mV bracket of HH's balance), after at most
    _ROOT_STEPS. Vectorised use (``vmap``) runs until every lane has stopped."""
    width = jnp.abs(b - a)
    t = ga / (ga - gb)
    x = jnp.where(jnp.isfinite(t) & (t >= 0) & (t <= 1), a + t * (b - a), 0.5 * (a + b))
    sa = jnp.sign(ga)

    def step(state):
        k, lo, hi, x, _ = state
        gx, dg = jax.jvp(lambda v: g(v, p), (x,), (jnp.ones_like(x),))
        same = jnp.sign(gx) == sa  # the root lies between x and hi
        lo, hi = jnp.where(same, x, lo), jnp.where(same, hi, x)
        new = x - gx / dg
        slack = _ROOT_TOL * width  # a converged step may point out of the bracket by round-off
        inside = (jnp.isfinite(new) & (new >= jnp.minimum(lo, hi) - slack)
                  & (new <= jnp.maximum(lo, hi) + slack))
        new = jnp.where(gx == 0, x, jnp.where(inside, new, 0.5 * (lo + hi)))
        return k + 1, lo, hi, new, jnp.abs(new - x)

    def going(state):
        k, _, _, _, moved = state
        return (k < _ROOT_STEPS) & jnp.any(moved > _ROOT_TOL * width)

    bracket = jnp.sign(ga) != jnp.sign(gb)  # else nothing to do (an unused slot, or g(a) = 0)
    start = jnp.where(bracket, jnp.inf, 0.0)
    _, _, _, x, _ = jax.lax.while_loop(going, step, (0, a, b, x, start))
    return x


@functools.cache
def _reduction_kernels(cm: CompiledModel, red: _Reduction, split: _Split, grid_points: int):
    """The jitted stages of the reduction over a flat sweep (see :func:`_by_reduction`).

    ``scan`` evaluates h on the grid for each distinct row ``q`` and cuts each row into
    monotone runs (maximal stretches of finite values where h does not change direction);
    ``search`` finds, for each sweep point and run, the grid interval where :math:`s + h`
    changes sign (one binary search per run); ``refine`` solves each bracket with the full
    balance (safeguarded Newton), slaves the other states, and returns the residual, the
    spectrum and what the pole test needs.
    """
    n = grid_points
    steps = int(np.ceil(np.log2(n))) + 1

    def g(v, p):
        return red.balance(jnp.reshape(v, (1,)), p)[0]

    def h(v, q):
        return split.shape(jnp.reshape(v, (1,)), q)[0]

    @cached_jit
    def prepare(P, Q, lo, hi):
        grid = jnp.linspace(lo, hi, n)
        H = jax.vmap(lambda q: jax.vmap(lambda v: h(v, q))(grid))(Q)
        m = jax.vmap(lambda p: split.factor(p)[0])(P)
        s = jax.vmap(lambda p: split.offset(p)[0])(P)
        finite = jnp.isfinite(H)
        lone = ~finite[:, 1:-1] & finite[:, :-2] & finite[:, 2:]
        valid = finite[:, :-1] & finite[:, 1:]  # intervals between finite neighbours
        dh = H[:, 1:] - H[:, :-1]
        # direction of each interval; flat intervals take the last non-flat direction
        last = jax.lax.cummax(jnp.where(valid & (dh != 0), jnp.arange(n - 1), -1), axis=1)
        up = jnp.where(last >= 0, jnp.take_along_axis(dh, jnp.maximum(last, 0), 1) > 0, True)
        prev_valid = jnp.pad(valid[:, :-1], ((0, 0), (1, 0)))
        prev_up = jnp.pad(up[:, :-1], ((0, 0), (1, 0)))
        starts = valid & (~prev_valid | (up != prev_up))
        good = jnp.all(jnp.isfinite(s) & jnp.isfinite(m) & (m != 0))
        return (grid, H, m, s, starts, up, valid, jnp.any(lone, axis=1),
                jnp.max(jnp.sum(starts, axis=1), initial=0), good)

    @functools.partial(cached_jit, static_argnums=(0,))
    def runs(R, starts, valid):
        """Per row: first and last grid point of each run, (U, R); unused runs have a == b."""
        idx = jnp.arange(n - 1)
        a = jax.vmap(lambda r: jnp.nonzero(r, size=R, fill_value=0)[0])(starts)
        # a run ends before the next start or the next invalid interval
        stop = starts | ~valid
        nxt = jax.lax.cummin(jnp.where(stop, idx, n - 1)[:, ::-1], axis=1)[:, ::-1]
        nxt = jnp.pad(nxt[:, 1:], ((0, 0), (0, 1)), constant_values=n - 1)
        b = jnp.take_along_axis(nxt, a, 1)
        used = jnp.arange(R)[None, :] < jnp.sum(starts, axis=1)[:, None]
        return a, jnp.where(used, b, a)

    @cached_jit
    def search(H, s, u, a, b, up):
        r"""For each point i and run r of its row u_i: is there a grid interval j in the run
        with :math:`s_i + h_j \le 0 < s_i + h_{j+1}` (rising run; the mirror image for a
        falling one), and which: a binary search over the run's grid points."""
        rising = up[u[:, None], a[u]]
        a, b = a[u], b[u]

        def G(j):
            return s[:, None] + H[u[:, None], j]

        def below(Gj):  # the side of the run's start
            return jnp.where(rising, Gj <= 0, Gj >= 0)

        found = (b > a) & below(G(a)) & ~below(G(b))

        def step(_, lohi):
            lo, hi = lohi
            mid = (lo + hi) // 2
            left = below(G(mid))
            return jnp.where(left, mid, lo), jnp.where(left, hi, mid)

        j, _ = jax.lax.fori_loop(0, steps, step, (a, b))
        return found, j, jnp.max(jnp.sum(found, axis=1), initial=0)

    @functools.partial(cached_jit, static_argnums=(0, 1))
    def refine(K, spectra, grid, H, m, s, u, P, found, j):
        """Solve the first K brackets of each point, slave the gates; residual and
        eigenvalues of the Jacobian there (``spectra``), or the Jacobian itself (for the
        host: see :func:`_host_spectra`)."""
        order = jnp.argsort(~found, axis=1, stable=True)[:, :K]
        ok = jnp.take_along_axis(found, order, 1)
        jk = jnp.where(ok, jnp.take_along_axis(j, order, 1), 0)
        a, b = grid[jk], grid[jk + 1]
        # the balance at the bracket's ends from the scan: g = m (s + h)
        ga = m[:, None] * (s[:, None] + H[u[:, None], jk])
        gb = m[:, None] * (s[:, None] + H[u[:, None], jk + 1])
        Pk = jnp.broadcast_to(P[:, None, :], ok.shape + P.shape[-1:])
        flat = (a.ravel(), b.ravel(), ga.ravel(), gb.ravel(), Pk.reshape((a.size, P.shape[-1])))

        def block(a, b, ga, gb, p):
            v = jax.vmap(lambda *t: _bracketed_root(g, *t))(a, b, ga, gb, p)
            x = jax.vmap(lambda v, p: red.slaved(jnp.reshape(v, (1,)), p))(v, p)
            F, J = jax.vmap(cm.f)(x, p), jax.vmap(cm.jac_x)(x, p)
            res = jnp.max(jnp.abs(F), axis=-1)
            # a root: |g| = |f_0| at the refined point is below its values at the bracket's
            # ends; a pole: |g| grew (or is not finite)
            ends = jnp.maximum(jnp.abs(ga), jnp.abs(gb))
            root = (jnp.abs(F[:, 0]) <= ends) & jnp.isfinite(res)
            if not spectra:
                return x, res, J, root
            re, im = _arrowhead_eigval_columns(_computed_once(J))
            return x, res, tuple(re), tuple(im), root

        # blocks of points that stay in the cache through all the steps (lax.map), as in the
        # simulator: ~3x faster than whole-array passes at 1e5 points
        L = flat[0].shape[0]
        size = min(_BLOCK, L)
        nb = -(-L // size)
        pad = [jnp.concatenate([f, jnp.repeat(f[-1:], nb * size - L, axis=0)]) for f in flat]
        out = jax.lax.map(lambda t: block(*t), tuple(f.reshape((nb, size) + f.shape[1:])
                                                    for f in pad))
        out = jax.tree.map(lambda o: o.reshape((nb * size,) + o.shape[2:])[:L], out)
        if spectra:
            x, res, re, im, root = out
            lam = jnp.stack(re, -1) + 1j * jnp.stack(im, -1)
        else:
            x, res, lam, root = out  # the Jacobians, in place of the eigenvalues
        pole = ok.ravel() & ~root
        shape = ok.shape
        x = jnp.where(ok[..., None], x.reshape(shape + x.shape[-1:]), jnp.nan)
        lam = jnp.where(ok.reshape(shape + (1,) * (lam.ndim - 1)),
                        lam.reshape(shape + lam.shape[1:]), jnp.nan)
        res = jnp.where(ok, res.reshape(shape), jnp.nan)
        return x, res, lam, pole.reshape(shape)

    return prepare, runs, search, refine


def _computed_once(tree):
    """``tree`` unchanged, but computed once. XLA:CPU copies cheap-looking elementwise
    producers into the fusion of each consumer (and drops ``optimization_barrier`` before
    fusing): a Jacobian, the characteristic polynomial and the Aberth starts feed dozens of
    fusions, and were each recomputed in all of them (the refinement of a 1e5-point sweep
    ~1.5x slower). A conditional is not fused: its result is materialised. The second
    branch (taken only when the first entry is not finite) adds 0.0, so that XLA cannot merge
    the two branches; it changes nothing but the sign of a zero."""
    leaves = jax.tree.leaves(tree)
    return jax.lax.cond(jnp.isfinite(jnp.ravel(leaves[0])[0]), lambda t: t,
                        lambda t: jax.tree.map(lambda y: y + 0.0, t), tree)


def _shape_rows(model: ODEModel, params: Mapping, split: _Split, shape):
    """The distinct parameter vectors that h of ``split`` sees over a sweep of shape ``shape``,
    ``(U, n_params)``, and the row of each sweep point, ``(prod(shape),)``: only the parameter
    arrays h depends on are broadcast (a sweep over I alone gives one row)."""
    names = [k for k in params if model.param_names.index(k) in split.shape_params]
    Q = sweep_params(model, {k: params[k] for k in names})
    sub = (1,) * (len(shape) - Q.ndim + 1) + Q.shape[:-1]
    u = np.broadcast_to(np.arange(int(np.prod(sub))).reshape(sub), shape).ravel()
    return Q.reshape((int(np.prod(Q.shape[:-1])), Q.shape[-1])), u


def _by_reduction(cm, red, P, lo, hi, grid_points, rows=None, mesh=None):
    """Bracket and refine the roots of the reduced balance over the box's first coordinate.

    The scan grid reaches one spacing beyond each end of the box (a root on the edge lies
    inside a bracket). A grid interval brackets a root where the balance changes sign (or is
    zero at its left end). Grid values that are not finite are gaps: a domain-restricted
    function (``sqrt``, ``log``) is NaN on whole intervals and brackets are only taken between
    finite neighbours. A pole (a lone non-finite grid value, or a sign change where the balance
    grows instead of vanishing) is a genuine singularity of the model and raises
    :class:`SingularModelError` naming the state and the value.

    Everything runs on the device in four jitted stages; the host only reads three integers
    (the most runs per row, the most roots per point, pole flags). The scan costs
    ``grid_points`` evaluations per distinct row of the parameters the balance's v-dependent
    part depends on (``rows = (Q, u)``, see :func:`_shape_rows`; by default one per point),
    each point then a binary search per monotone run and a bisection per root. With a
    ``mesh`` (:func:`~hhanalysis.sharding.sweep_mesh`) the points are split over its devices.
    """
    split = red.split if rows is not None else red.plain
    Q, u = rows if rows is not None else (P, np.arange(len(P)))
    B = len(P)
    Pd, ud = P, u
    if mesh is not None:  # pad to a multiple of the device count, split the points
        Pd = place(mesh, pad_to(P, mesh.size))
        ud = place(mesh, pad_to(u, mesh.size))
        if rows is None:
            Q = Pd
    h = (hi[0] - lo[0]) / (grid_points - 1)
    prepare, runs, search, refine = _reduction_kernels(cm, red, split, grid_points + 2)
    grid, H, m, s, starts, up, valid, lone, R, good = prepare(Pd, Q, lo[0] - h, hi[0] + h)
    if rows is not None and not bool(good):  # m(p) is 0 or not finite: scan g itself
        return _by_reduction(cm, red, P, lo, hi, grid_points, mesh=mesh)
    if np.asarray(lone).any():  # on the host: a device reduction compiles a program
        row = int(u[int(np.argmax(np.asarray(lone)[u]))])
        finite = np.isfinite(np.asarray(H[row]))
        col = int(np.argmax(~finite[1:-1] & finite[:-2] & finite[2:]))
        raise _singular_error(cm, red, float(grid[col + 1]), P[int(np.argmax(u == row))])
    a, b = runs(max(int(R), 1), starts, valid)
    found, j, K = search(H, s, ud, a, b, up)
    K = int(K)
    n = len(cm.state_names)
    if not K:
        return (np.full((B, 0, n), np.nan), np.full((B, 0), np.nan),
                np.full((B, 0, n), np.nan + 0j))
    spectra = len(Pd) * K > _HOST_SPECTRA
    x, res, lam, pole = refine(K, spectra, grid, H, m, s, ud, Pd, found, j)
    if np.asarray(pole).any():
        i, k = np.unravel_index(int(np.argmax(np.asarray(pole))), pole.shape)
        raise _singular_error(cm, red, float(x[i, k, 0]), P[i])
    lam = np.asarray(lam)[:B]
    return np.asarray(x)[:B], np.asarray(res)[:B], lam if spectra else _host_spectra(lam)


def _host_spectra(J):
    """Eigenvalues of the Jacobians ``J`` ``(..., n, n)`` (NaN where a Jacobian is not
    finite: no root there), by LAPACK on the host, ordered as :func:`spectrum_order`.

    For the few roots of a single parameter set or a short sweep (at most
    :data:`_HOST_SPECTRA` brackets): the device's batched Aberth iteration
    (:func:`_arrowhead_eigval_columns`) would be ~0.5 us per matrix against LAPACK's ~5, but
    its compiled program is three quarters of the refinement's (~1.5 of 2 MB, ~160 kernels):
    ~0.2-0.3 s to load in a new session, which the one-parameter diagram (a dozen
    single-point searches) paid for a handful of 4x4 matrices. Both agree to round-off."""
    J = np.asarray(J)
    lam = np.full(J.shape[:-1], np.nan + 0j)
    finite = np.all(np.isfinite(J), axis=(-2, -1))
    if finite.any():
        ev = np.linalg.eigvals(J[finite])
        lam[finite] = np.take_along_axis(ev, spectrum_order(ev), axis=-1)
    return lam


class SingularModelError(FloatingPointError, ValueError):
    """The model's right-hand side is genuinely singular (a pole, not a removable 0/0) at a
    point the analysis needed."""


def _singular_error(cm: CompiledModel, red, v: float, p) -> SingularModelError:
    """A readable error for a pole of the model at first state ``v`` (others slaved)."""
    x = np.asarray(red.slaved(np.array([v]), np.asarray(p)))
    names = cm.state_names
    values = dict(zip(cm.symbolic.x, map(float, x)))
    values.update(zip(cm.symbolic.p, map(float, p)))
    back = {s: sp.Symbol(n) for s, n in zip(cm.symbolic.x, names)}
    back.update({s: sp.Symbol(n) for s, n in zip(cm.symbolic.p, cm.param_names)})
    where = ""
    candidates = []
    for i, fi in enumerate(cm.symbolic.f):
        for base in poles(fi):
            try:
                size = abs(complex(base.evalf(subs=values)))
            except (TypeError, ValueError):
                continue
            candidates.append((size, names[i], base))
    if candidates:
        size, state, base = min(candidates, key=lambda c: c[0])
        where = (f": in the rhs of {state!r} the denominator {base.xreplace(back)} vanishes "
                 "there and its zero is not cancelled by the numerator")
    return SingularModelError(
        f"the model is singular at {names[0]} = {v:.10g}"
        + (f" ({', '.join(f'{n} = {q:.6g}' for n, q in zip(names[1:], x[1:]))})"
           if len(names) > 1 else "")
        + where + "; it is not a removable 0/0 (check the model's equations)"
    )


# --------------------------------------------------------------------------------------------
# Multi-start Newton for any model
# --------------------------------------------------------------------------------------------


_BACKTRACKS = 12


@functools.cache
def _newton_kernel(cm: CompiledModel, iterations: int):
    def solve(x, p, width):
        def residual(y):
            r = jnp.max(jnp.abs(cm.f(y, p)))
            return jnp.where(jnp.isfinite(r), r, jnp.inf)

        def step(_, x):
            dx = jnp.linalg.solve(cm.jac_x(x, p), cm.f(x, p))
            ok = jnp.all(jnp.isfinite(dx))
            dx = jnp.where(ok, dx, 0.0)
            damp = jnp.minimum(1.0, 0.25 / jnp.max(jnp.abs(dx) / width))
            # backtracking: halve the step while the new point leaves the domain of f (NaN, as
            # sqrt or log of a negative number) or the residual grows by more than 2x
            limit = jnp.maximum(2.0 * residual(x), 1e-300)

            def bad(c):
                t, k, r = c
                return (k < _BACKTRACKS) & (r > limit)

            def halve(c):
                t, k, _ = c
                return 0.5 * t, k + 1, residual(x - 0.5 * t * dx)

            t, _, r = jax.lax.while_loop(bad, halve, (damp, 0, residual(x - damp * dx)))
            return jnp.where(jnp.isfinite(r), x - t * dx, x)

        x = jax.lax.fori_loop(0, iterations, step, x)
        return x, jnp.max(jnp.abs(cm.f(x, p)))

    @jax.jit
    def run(starts, P, width):
        return jax.vmap(lambda p: jax.vmap(lambda x: solve(x, p, width))(starts))(P)

    return run


_DEDUP_BYTES = 1 << 27


def _first_of_clusters(Y, ok):
    """A candidate is new unless it is within 1e-7 (box units) of an earlier accepted one."""
    with np.errstate(invalid="ignore"):
        close = np.max(np.abs(Y[:, :, None, :] - Y[:, None, :, :]), axis=-1) < 1e-7
    earlier = np.tril(np.ones(close.shape[1:], bool), k=-1)
    return ok & ~np.any(close & earlier & ok[:, None, :], axis=2)


def _by_newton(cm, P, lo, hi, starts, seed, tol):
    rng = np.random.default_rng(seed)
    n = lo.size
    X0 = np.concatenate([(0.5 * (lo + hi))[None], lo + (hi - lo) * rng.random((starts - 1, n))])
    width = hi - lo
    X, R = (np.asarray(a) for a in _newton_kernel(cm, 60)(X0, P, width))
    F0 = np.abs(np.asarray(jax.vmap(lambda p: jax.vmap(lambda x: cm.f(x, p))(X0))(P)))
    # residual scale: the size of f over the starts (where it is defined: NaN outside a domain)
    scale = 1.0 + np.max(np.where(np.isfinite(F0), F0, 0.0), axis=(1, 2))
    inside = np.all((X >= lo - 1e-9 * width) & (X <= hi + 1e-9 * width), axis=-1)
    ok = inside & np.isfinite(R) & (R <= tol * scale[:, None])
    Y = np.where(ok[..., None], (X - lo) / width, np.inf)
    order = np.argsort(Y[..., 0], axis=1, kind="stable")
    Y = np.take_along_axis(Y, order[..., None], axis=1)
    X = np.take_along_axis(X, order[..., None], axis=1)
    R = np.take_along_axis(R, order, axis=1)
    ok = np.take_along_axis(ok, order, axis=1)
    rows = max(1, _DEDUP_BYTES // (8 * starts * starts * n))  # bound the pairwise array
    new = np.concatenate([_first_of_clusters(Y[i:i + rows], ok[i:i + rows])
                          for i in range(0, len(Y), rows)])
    counts = new.sum(axis=1)
    K = int(counts.max(initial=0))
    pack = np.argsort(~new, axis=1, kind="stable")[:, :K]
    keep = np.take_along_axis(new, pack, axis=1)
    x = np.where(keep[..., None], np.take_along_axis(X, pack[..., None], axis=1), np.nan)
    res = np.where(keep, np.take_along_axis(R, pack, axis=1), np.nan)
    return x, res


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


@functools.cache
def _eigvals_kernel(cm: CompiledModel):
    return jax.jit(jax.vmap(lambda x, p: jnp.linalg.eigvals(cm.jac_x(x, p))))


_ABERTH_STEPS = 32  # at most, for any row
_ABERTH_SHARE = 8  # the late rows are iterated an eighth of the batch at a time
_LANES = 8  # rows are padded to whole vectors of this many
_ABERTH_ROUND = 4  # steps per round of the late rows
_ABERTH_TOL = 1e-26  # squared: no root moves by more than 1e-13 of the largest


def _arrowhead_charpoly(J):
    r"""Monic characteristic polynomial of arrowhead matrices (only the first row, first
    column and diagonal non-zero, as the Jacobian of a model whose states after the first
    depend only on the first and themselves):

    .. math:: \det(\lambda - J) = (\lambda - a) \prod_j (\lambda - d_j)
              - \sum_j b_j c_j \prod_{k \ne j} (\lambda - d_k)

    with :math:`a = J_{00}`, :math:`b_j = J_{0j}`, :math:`c_j = J_{j0}`, :math:`d_j = J_{jj}`.
    Coefficients by ascending power, ``(..., n + 1)``.
    """
    n = J.shape[-1]
    d = jnp.diagonal(J, axis1=-2, axis2=-1)

    def times_linear(c, root):  # c(λ) (λ - root), ascending coefficients
        return jnp.pad(c, [(0, 0)] * (c.ndim - 1) + [(1, 0)]) - root[..., None] * jnp.pad(
            c, [(0, 0)] * (c.ndim - 1) + [(0, 1)])

    one = jnp.ones(J.shape[:-2] + (1,), J.dtype)
    poly = one
    for k in range(n):
        poly = times_linear(poly, d[..., k])
    for j in range(1, n):
        term = one
        for k in range(1, n):
            if k != j:
                term = times_linear(term, d[..., k])
        bc = (J[..., 0, j] * J[..., j, 0])[..., None]
        poly = poly - bc * jnp.pad(term, [(0, 0)] * (term.ndim - 1) + [(0, 2)])
    return poly


def _aberth_starts(c):
    r"""Starting points of Aberth's iteration from the Newton polygon (Bini): the upper convex
    hull :math:`H` of the points :math:`(k, \log|c_k|)` has, on each unit interval
    :math:`[r, r + 1]`, the slope :math:`-\log u_r` where :math:`u_r` estimates the modulus of
    the :math:`(r+1)`-th smallest root. Start :math:`r` lies on the circle of radius
    :math:`u_r` at angle :math:`0.4 + 2\pi r / n`. Roots of very different moduli (the fast and
    slow gates of HH) are then each started near their own size instead of on one circle,
    which saves about two steps on average. Where a radius is 0 or not finite (a zero
    coefficient), the circle of Fujiwara's bound is used instead. ``c`` is a list of the
    n + 1 coefficient columns; returns the lists of real and imaginary parts."""
    n = len(c) - 1
    y = [jnp.log(jnp.abs(ck)) for ck in c]
    hull = []
    for k in range(n + 1):  # H(k): the largest chord value at k over all i <= k <= j
        best = y[k]
        for i in range(k + 1):
            for j in range(max(k, i + 1), n + 1):
                best = jnp.maximum(best, y[i] + (y[j] - y[i]) * (k - i) / (j - i))
        hull.append(best)
    bound = 2 * functools.reduce(jnp.maximum, [jnp.abs(c[n - k]) ** (1.0 / k)
                                               for k in range(1, n + 1)])
    zr, zi = [], []
    for r in range(n):
        radius = jnp.exp(hull[r] - hull[r + 1])
        radius = jnp.where(jnp.isfinite(radius) & (radius > 0), radius, bound)
        angle = 0.4 + 2 * np.pi * r / n
        zr.append(radius * np.cos(angle))
        zi.append(radius * np.sin(angle))
    return zr, zi


def _divisor(mask, x):
    """``x`` where ``mask``, else 1: a divisor that is never 0 in the branch ``where`` drops."""
    return jnp.where(mask, x, 1.0)


def _largest_real_cubic_root(b2, b1, b0):
    r"""The largest real root of :math:`z^3 + b_2 z^2 + b_1 z + b_0` (real columns): with
    :math:`z = w - b_2/3`, :math:`w^3 + P w + Q = 0`, :math:`D = (Q/2)^2 + (P/3)^3`; for
    :math:`D > 0` the one real root by Cardano, :math:`w = A - P/(3A)` with
    :math:`A = \sqrt[3]{-Q/2 \mp \sqrt D}` (the sign that avoids cancellation), else the
    largest of three, :math:`w = 2\sqrt{-P/3}\cos(\theta/3)` with
    :math:`\cos\theta = \frac{3Q}{2P}\sqrt{-3/P}`; then two Newton steps on the cubic."""
    P = b1 - b2 * b2 / 3
    Q = (2 * b2 * b2 / 27 - b1 / 3) * b2 + b0
    D = (Q / 2) ** 2 + (P / 3) ** 3
    sD = jnp.sqrt(jnp.maximum(D, 0.0))
    A = jnp.cbrt(-Q / 2 + jnp.where(Q <= 0, sD, -sD))
    one = A - P / (3 * _divisor(A != 0, A)) * (A != 0)
    m = 2 * jnp.sqrt(jnp.maximum(-P / 3, 0.0))
    cos = jnp.clip(3 * Q / (_divisor(P != 0, P) * _divisor(m != 0, m)), -1.0, 1.0)
    three = m * jnp.cos(jnp.arccos(cos) / 3)

    def newton(_, z):
        f = ((z + b2) * z + b1) * z + b0
        df = (3 * z + 2 * b2) * z + b1
        return jnp.where(df != 0, z - f / _divisor(df != 0, df), z)

    # a loop, so that its result is computed once: XLA would otherwise copy the cubic's
    # transcendental functions into the fusion of each consumer
    return jax.lax.fori_loop(0, 2, newton, jnp.where(D > 0, one, three) - b2 / 3)


def _quadratic_roots(B, C):
    r"""Both roots of :math:`x^2 + B x + C` (real columns) as (re, im) lists: real roots by
    :math:`q = -(B + \mathrm{sign}(B)\sqrt{B^2 - 4C})/2`, :math:`x = q, C/q` (no
    cancellation), else :math:`-B/2 \pm i\sqrt{4C - B^2}/2`."""
    disc = B * B - 4 * C
    s = jnp.sqrt(jnp.abs(disc))
    real = disc >= 0
    q = -0.5 * (B + jnp.where(B >= 0, s, -s))
    other = jnp.where(q != 0, C / _divisor(q != 0, q), 0.0)
    im = jnp.where(real, 0.0, 0.5 * s)
    return [jnp.where(real, q, -0.5 * B), jnp.where(real, other, -0.5 * B)], [im, -im]


def _closed_form_starts(c):
    r"""Starting points of Aberth's iteration for degrees 2–4 from the closed-form roots (in
    real arithmetic): the quadratic formula; for a cubic its largest real root
    (:func:`_largest_real_cubic_root`) and the deflated quadratic; for a quartic Ferrari's
    factorisation: with :math:`x = y - c_3/4` the depressed quartic
    :math:`y^4 + p y^2 + q y + r = (y^2 + s y + t)(y^2 - s y + u)` where :math:`s^2 = z` is the
    largest (non-negative) root of the resolvent cubic
    :math:`z^3 + 2p z^2 + (p^2 - 4r) z - q^2`, :math:`t, u = (p + z \mp q/s)/2` (for
    :math:`s = 0`, :math:`q = 0` and :math:`t, u = (p \mp \sqrt{p^2 - 4r})/2`). These are
    usually at round-off already (HH's spectra: ~1e-15 relative), so one Aberth step confirms
    them. Starts that coincide (a double root, or a degenerate case of the formulas) are
    pulled apart by 1e-7 of their size, so that the iteration can move them; a start that is
    not finite is put on the circle of Cauchy's bound. ``c``: list of the n + 1 ascending
    coefficient columns (monic); returns the lists of real and imaginary parts."""
    n = len(c) - 1
    if n == 2:
        zr, zi = _quadratic_roots(c[1], c[0])
    elif n == 3:
        z1 = _largest_real_cubic_root(c[2], c[1], c[0])
        b = c[2] + z1
        zr, zi = _quadratic_roots(b, c[1] + z1 * b)
        zr, zi = [z1] + zr, [jnp.zeros_like(z1)] + zi
    else:
        a3, a2, a1, a0 = c[3], c[2], c[1], c[0]
        p = a2 - 3 * a3 * a3 / 8
        q = a1 - a3 * a2 / 2 + a3 ** 3 / 8
        r = a0 - a3 * a1 / 4 + a3 * a3 * a2 / 16 - 3 * a3 ** 4 / 256
        z = jnp.maximum(_largest_real_cubic_root(2 * p, p * p - 4 * r, -q * q), 0.0)
        s = jnp.sqrt(z)
        biq = jnp.sqrt(jnp.maximum(p * p - 4 * r, 0.0))
        t = jnp.where(s > 0, 0.5 * (p + z - q / _divisor(s > 0, s)), 0.5 * (p - biq))
        u = jnp.where(s > 0, 0.5 * (p + z + q / _divisor(s > 0, s)), 0.5 * (p + biq))
        r1, i1 = _quadratic_roots(s, t)
        r2, i2 = _quadratic_roots(-s, u)
        zr, zi = [x - a3 / 4 for x in r1 + r2], i1 + i2
    cauchy = 1 + functools.reduce(jnp.maximum, [jnp.abs(ck) for ck in c[:-1]])
    for k in range(n):
        bad = ~(jnp.isfinite(zr[k]) & jnp.isfinite(zi[k]))
        zr[k] = jnp.where(bad, cauchy * np.cos(0.4 + 2 * np.pi * k / n), zr[k])
        zi[k] = jnp.where(bad, cauchy * np.sin(0.4 + 2 * np.pi * k / n), zi[k])
    scale = functools.reduce(jnp.maximum, [jnp.abs(x) + jnp.abs(y) for x, y in zip(zr, zi)])
    for k in range(n):
        angle = 0.4 + 2 * np.pi * k / n
        size = jnp.maximum(jnp.abs(zr[k]) + jnp.abs(zi[k]), jnp.maximum(1e-3 * scale, 1e-150))
        for j in range(k):
            same = (zr[j] == zr[k]) & (zi[j] == zi[k])
            zr[k] = jnp.where(same, zr[k] + 1e-7 * size * np.cos(angle), zr[k])
            zi[k] = jnp.where(same, zi[k] + 1e-7 * size * np.sin(angle), zi[k])
    return zr, zi


def _aberth_step(c, zr, zi):
    """One Aberth–Ehrlich step for each row; the roots and coefficients are lists of columns
    (elementwise arithmetic on whole columns vectorises; small trailing axes do not), each
    pair's reciprocal difference computed once, one real division per complex one. Returns the
    new roots and, per row, the squared largest move relative to the largest root."""
    n = len(zr)

    def inv(br, bi):
        q = 1 / (br * br + bi * bi)
        return br * q, -bi * q

    def mul(ar, ai, br, bi):
        return ar * br - ai * bi, ar * bi + ai * br

    sums = [[jnp.zeros_like(zr[0]), jnp.zeros_like(zr[0])] for _ in range(n)]
    for j in range(n):
        for k in range(j + 1, n):
            er, ei = inv(zr[j] - zr[k], zi[j] - zi[k])
            sums[j][0], sums[j][1] = sums[j][0] + er, sums[j][1] + ei
            sums[k][0], sums[k][1] = sums[k][0] - er, sums[k][1] - ei
    new_r, new_i, moves, sizes = [], [], [], []
    for j in range(n):
        x, y = zr[j], zi[j]
        pr, pi = jnp.ones_like(x), jnp.zeros_like(x)
        dr, di = jnp.zeros_like(x), jnp.zeros_like(x)
        for m in range(n - 1, -1, -1):  # Horner for p and p'
            dr, di = dr * x - di * y + pr, dr * y + di * x + pi
            pr, pi = pr * x - pi * y + c[m], pr * y + pi * x
        ur, ui = mul(pr, pi, *inv(dr, di))  # Newton correction p / p'
        sr, si = mul(ur, ui, *sums[j])
        wr, wi = mul(ur, ui, *inv(1 - sr, -si))
        ok = jnp.isfinite(wr) & jnp.isfinite(wi) & ((pr != 0) | (pi != 0))
        wr, wi = jnp.where(ok, wr, 0), jnp.where(ok, wi, 0)
        new_r.append(x - wr)
        new_i.append(y - wi)
        moves.append(wr * wr + wi * wi)
        sizes.append(x * x + y * y)
    size = functools.reduce(jnp.maximum, sizes)
    change = functools.reduce(jnp.maximum, moves) / jnp.maximum(size, 1e-300)
    return new_r, new_i, jnp.where(jnp.isfinite(change), change, 0.0)


def _polynomial_roots(c):
    """All roots of real monic polynomials (see :func:`_polynomial_root_columns`), complex,
    ``(..., n)``."""
    zr, zi = _polynomial_root_columns(c)
    return jnp.stack(zr, -1) + 1j * jnp.stack(zi, -1)


def _polynomial_root_columns(c):
    r"""All roots of real monic polynomials (ascending coefficients ``(..., n + 1)``) by the
    Aberth–Ehrlich simultaneous iteration

    .. math:: z_j \leftarrow z_j - \frac{p(z_j)/p'(z_j)}
              {1 - p(z_j)/p'(z_j) \sum_{k \ne j} (z_j - z_k)^{-1}},

    cubically convergent for simple roots, vectorised over the leading axes, in real
    arithmetic on (real, imaginary) columns (XLA's complex division is several times dearer),
    for degrees up to 4 from the closed-form roots (:func:`_closed_form_starts`; every row takes
    one step, which for HH's spectra moves no root by more than round-off), above from the
    Newton polygon's starts (:func:`_aberth_starts`; HH's spectra needed 6–8 steps from
    these). A row has converged after a step that moved no root by more than 1e-13 of its
    largest (its roots are then at round-off: cubic convergence). So that a batch does not run
    at the pace of its slowest row (near-double roots need up to ~18 steps), the rows that have
    not converged are gathered an eighth of the batch at a time (the first such rows) and take
    _ABERTH_ROUND steps, round after round, until none is left (at most _ABERTH_STEPS steps
    per row). Roots
    whose imaginary part is at round-off level are made real, and complex roots are paired with
    their nearest conjugate and averaged, so pairs are exact conjugates (as LAPACK returns
    them).
    """
    c = jnp.asarray(c)
    n = c.shape[-1] - 1
    lead = c.shape[:-1]
    c = c.reshape((-1, n + 1))
    given = c.shape[0]
    # whole vectors of rows everywhere (8 doubles: AVX-512): rows at the tail of a vector loop
    # were computed with other rounding (no FMA), and a row's roots must not depend on the
    # batch it comes in (e.g. one device or four)
    rows = -(-given // _LANES) * _LANES
    c = jnp.concatenate([c, jnp.repeat(c[:1], rows - given, axis=0)])
    cols = [c[:, k] for k in range(n + 1)]
    closed = n <= 4
    zr, zi = _computed_once((_closed_form_starts if closed else _aberth_starts)(cols))

    def steps(count, c, zr, zi, change):
        """``count`` steps; a row that has converged keeps its roots (so each row's result
        is that of its own converging step, whatever batch it was iterated in)."""

        def step(_, state):
            zr, zi, change = state
            going = change > _ABERTH_TOL
            r, s, d = _aberth_step(c, zr, zi)
            return ([jnp.where(going, a, b) for a, b in zip(r, zr)],
                    [jnp.where(going, a, b) for a, b in zip(s, zi)], jnp.where(going, d, change))

        return jax.lax.fori_loop(0, count, step, (zr, zi, change))

    change = jnp.full((rows,), jnp.inf, c.dtype)
    used = jnp.zeros((rows,), int)  # steps each row has taken
    if closed:  # every row takes one step (most converge in it), the late ones go on below
        zr, zi, change = _aberth_step(cols, zr, zi)
        used = used + 1
    cap = -(-(rows // _ABERTH_SHARE) // _LANES) * _LANES

    def late(change, used):
        return (change > _ABERTH_TOL) & (used < _ABERTH_STEPS)

    def another_round(state):  # the first `cap` late rows (fill slots read row 0, dropped)
        zr, zi, change, used = state
        idx = jnp.nonzero(late(change, used), size=cap, fill_value=rows)[0]
        i = jnp.minimum(idx, rows - 1)
        r, s, d = steps(_ABERTH_ROUND, [ck[i] for ck in cols], [z[i] for z in zr],
                        [z[i] for z in zi], change[i])
        return ([z.at[idx].set(u, mode="drop") for z, u in zip(zr, r)],
                [z.at[idx].set(u, mode="drop") for z, u in zip(zi, s)],
                change.at[idx].set(d, mode="drop"),
                used.at[idx].add(_ABERTH_ROUND, mode="drop"))

    zr, zi, _, _ = jax.lax.while_loop(lambda st: jnp.any(late(st[2], st[3])), another_round,
                                      (zr, zi, change, used))
    zr, zi = [z[:given] for z in zr], [z[:given] for z in zi]
    # only where a root is not real; and a branch, so that the result is computed once: XLA
    # would otherwise recompute the pairing inside each consumer's fusion (~30x slower)
    zr, zi = jax.lax.cond(functools.reduce(jnp.logical_or, [jnp.any(z != 0) for z in zi]),
                          _conjugate_pairs, lambda zr, zi: (zr, zi), zr, zi)
    return [z.reshape(lead) for z in zr], [z.reshape(lead) for z in zi]


def _conjugate_pairs(zr, zi):
    """Roots of a real polynomial made exactly real or exactly conjugate in pairs (as LAPACK
    returns eigenvalues): an imaginary part at round-off level (64 eps of the largest root, at
    least 1) is set to 0, as is that of a root whose nearest root in conjugate distance
    :math:`|z_j - \bar z_k|` is real (a double real root split by round-off); any other root
    is averaged with the conjugate of that nearest root. Lists of real and imaginary
    columns."""
    n = len(zr)
    size = functools.reduce(jnp.maximum, [x * x + y * y for x, y in zip(zr, zi)])
    tol = 64 * jnp.finfo(zr[0].dtype).eps * jnp.maximum(1.0, jnp.sqrt(size))
    out_r, out_i = [], []
    for j in range(n):
        best, mr, mi = jnp.inf, zr[j], -zi[j]
        for k in range(n):
            if k == j:
                continue
            gap = (zr[j] - zr[k]) ** 2 + (zi[j] + zi[k]) ** 2
            closer = gap < best
            best = jnp.where(closer, gap, best)
            mr, mi = jnp.where(closer, zr[k], mr), jnp.where(closer, zi[k], mi)
        # no conjugate but a real root (a double root split by round-off): real too
        real = (jnp.abs(zi[j]) <= tol) | (jnp.abs(mi) <= tol)
        out_r.append(jnp.where(real, zr[j], 0.5 * (zr[j] + mr)))
        out_i.append(jnp.where(real, 0.0, 0.5 * (zi[j] - mi)))
    return out_r, out_i


def _sort_spectra(zr, zi):
    """Sort a few eigenvalues, given as lists of real and imaginary columns, by decreasing real
    part, then increasing imaginary part (as :func:`spectrum_order`), by odd–even
    transposition: n rounds of compare-exchange with ``where`` (XLA's sort costs several times
    more on short rows). Returns the sorted lists."""
    n = len(zr)
    zr, zi = list(zr), list(zi)
    for r in range(n):
        for k in range(r % 2, n - 1, 2):
            swap = (zr[k + 1] > zr[k]) | ((zr[k + 1] == zr[k]) & (zi[k + 1] < zi[k]))
            zr[k], zr[k + 1] = jnp.where(swap, zr[k + 1], zr[k]), jnp.where(swap, zr[k], zr[k + 1])
            zi[k], zi[k + 1] = jnp.where(swap, zi[k + 1], zi[k]), jnp.where(swap, zi[k], zi[k + 1])
    return zr, zi


def _arrowhead_eigval_columns(J):
    """Eigenvalues of arrowhead Jacobians ``(..., n, n)`` ordered as :func:`spectrum_order`,
    as lists of real and imaginary columns: roots of the characteristic polynomial
    (:func:`_arrowhead_charpoly`) by Aberth (a batched LAPACK ``geev`` costs ~6 µs per 4x4
    matrix on a CPU, this ~0.5 µs of CPU for HH's). Kept as columns up to the caller's
    output: an XLA fusion that stacks them into one array would recompute the whole sorting
    network and the conjugate pairing for each element, without vectorising (~30x slower)."""
    if J.shape[-1] == 1:
        return [J[..., 0, 0]], [jnp.zeros_like(J[..., 0, 0])]
    return _sort_spectra(*_polynomial_root_columns(_computed_once(_arrowhead_charpoly(J))))


@float64
def find_equilibria(
    model: ODEModel,
    box: Mapping[str, tuple[float, float]] | None = None,
    *,
    method: str = "auto",
    grid_points: int = 1601,
    newton_starts: int = 256,
    seed: int = 0,
    devices=None,
    **params,
) -> EquilibriumSet:
    """Every equilibrium of ``model`` inside ``box``, for one parameter set or a sweep.

    Arguments:
        model: an :class:`~hhanalysis.models.ODEModel`.
        box: ``state name -> (min, max)``; states not named use the model's physiological bounds
            (HH: V in [-100, 60] mV, gates in [0, 1]).
        method: 'auto' (the reduction if the model allows it, else Newton), 'reduction' or
            'newton' (see the module docstring).
        grid_points: grid size of the reduction's bracketing scan (spacing 0.1 mV for HH).
        newton_starts: number of starting points of the multi-start Newton method.
        seed: random seed of the Newton starting points.
        devices: spread the sweep's points over devices (method 'reduction'): None (default,
            JAX's default device), ``"all"``, a count or a list of devices
            (:mod:`hhanalysis.sharding`); the results do not depend on it.
        **params: parameter values overriding the model's defaults; arrays are broadcast
            together into a sweep that runs vectorised.

    Returns:
        :class:`EquilibriumSet`. With scalar parameters it is a sequence of
        :class:`Equilibrium` sorted by the first state; ``len() == 0`` with ``message`` set when
        there is none in the box.

    Raises:
        ValueError: unknown method, parameter or state names, NaN parameters, a box with
            min >= max.
    """
    if method not in ("auto", "reduction", "newton"):
        raise ValueError(f"method must be 'auto', 'reduction' or 'newton', got {method!r}")
    if int(grid_points) != grid_points or grid_points < 3:
        raise ValueError(f"grid_points must be an integer >= 3, got {grid_points!r}")
    if int(newton_starts) != newton_starts or newton_starts < 1:
        raise ValueError(f"newton_starts must be a positive integer, got {newton_starts!r}")
    P = sweep_params(model, params)
    mesh = sweep_mesh(devices)
    lo, hi = _box(model, box)
    cm = model.compile()
    shape = P.shape[:-1]
    flat = P.reshape((int(np.prod(shape)), P.shape[-1]))
    red = _reduction(cm) if method in ("auto", "reduction") else None
    if method == "reduction" and red is None:
        raise ValueError(
            f"method='reduction': model {model.name!r} has no scalar current-balance structure "
            "(each state after the first must obey an equation linear in itself that depends on "
            "no other state than the first); use method='newton'"
        )
    if red is not None:
        rows = _shape_rows(model, params, red.split, shape)
        x, res, lam = _by_reduction(cm, red, flat, lo, hi, int(grid_points), rows, mesh)
        used = "reduction"
    else:
        x, res = _by_newton(cm, flat, lo, hi, int(newton_starts), seed, 1e-10)
        lam = None
        used = "newton"
    width = hi - lo
    with np.errstate(invalid="ignore"):
        inside = np.all((x >= lo - 1e-9 * width) & (x <= hi + 1e-9 * width), axis=-1)
    # pack the slots that remain to the front, keeping the order by the first state (nothing
    # to do where no slot is followed by a filled one, as in most sweeps)
    packed = not np.any(~inside[:, :-1] & inside[:, 1:])
    order = None if packed else np.argsort(~inside, axis=1, kind="stable")
    clear = not inside.all()

    def pack(a, blank):
        a = np.where(inside.reshape(inside.shape + (1,) * (a.ndim - 2)), a, blank) if clear else a
        if order is not None:
            a = np.take_along_axis(a, order.reshape(order.shape + (1,) * (a.ndim - 2)), axis=1)
        return a[:, :K]

    count = inside.sum(axis=1)
    K = int(count.max(initial=0))
    x, res = pack(x, np.nan), pack(res, np.nan)
    if lam is not None:  # the reduction's eigenvalues, computed with the roots
        lam = pack(lam, np.nan + 0j)
    elif K:
        lam = np.full(x.shape, np.nan + 0j)
        rows, slots = np.nonzero(np.isfinite(x[..., 0]))
        ev = np.asarray(_eigvals_kernel(cm)(x[rows, slots], flat[rows]))
        lam[rows, slots] = np.take_along_axis(ev, spectrum_order(ev), axis=-1)
    else:
        lam = np.full(x.shape, np.nan + 0j)
    message = "" if count.min(initial=1) > 0 else (
        f"no equilibrium of {model.name} in the box "
        + ", ".join(f"{n} in [{a:g}, {b:g}]" for n, a, b in zip(model.state_names, lo, hi))
        + " for some parameter values"
    )
    return EquilibriumSet(
        model=model,
        params=P,
        x=x.reshape(shape + x.shape[1:]),
        count=count.reshape(shape),
        residual=res.reshape(shape + res.shape[1:]),
        eigenvalues=lam.reshape(shape + lam.shape[1:]),
        box=(lo, hi),
        method=used,
        message=message,
    )
