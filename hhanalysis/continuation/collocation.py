r"""Periodic orbits as a boundary-value problem, discretised by orthogonal collocation.

A periodic orbit of :math:`\dot x = f(x, p)` with period :math:`T` is, in the rescaled time
:math:`\tau = t/T \in [0, 1]`, a solution of

.. math::
    x'(\tau) = T f(x(\tau), p), \qquad x(0) = x(1), \qquad
    \int_0^1 \langle x(\tau), \tilde x'(\tau)\rangle\,d\tau = 0,

where :math:`\tilde x` is the previously computed orbit (the integral phase condition of AUTO-07p
picks, among all time shifts of the orbit, the one closest to :math:`\tilde x`).

**Discretisation** (AUTO-07p, MatCont): a mesh :math:`0 = \tau_0 < \dots < \tau_N = 1`
(``N = ntst``) with :math:`h_i = \tau_{i+1} - \tau_i`; on each interval :math:`x` is a polynomial
of degree :math:`m` (``m = ncol``) given by its values at :math:`m + 1` equidistant nodes (the end
nodes are shared with the neighbours, so the unknowns are :math:`N m + 1` node values). The ODE
holds at the :math:`m` Gauss–Legendre points of every interval (the collocation equations
:math:`\sum_j \ell_j'(z_g) x_{ij} / h_i - T f(\sum_j \ell_j(z_g) x_{ij}, p) = 0`), which gives
order :math:`h^{2m}` at the mesh points. The phase integral is evaluated by the same Gauss rule,
exactly (the integrand is a polynomial of degree :math:`2m - 1`).

**Linear algebra** (the block structure, not a dense solve). One Newton step solves the bordered
system with the collocation blocks of every interval, periodicity and two border rows (phase and
pseudo-arclength). It is solved in three stages of local eliminations (Gauss–Jordan with
partial pivoting on small blocks, as AUTO-07p does), which stay accurate on violently unstable
orbits where single shooting loses every digit:

1. *condensation* (AUTO's condensation of parameters): in each interval, elimination on the
   block of the :math:`m - 1` interior nodes removes them, leaving :math:`n` equations
   :math:`E_i y_i + F_i y_{i+1} + G_i g = s_i` between consecutive mesh values (all intervals at
   once, ``vmap``-style batched);
2. *cyclic reduction*: pairs of consecutive interval equations eliminate their shared mesh value
   through the block :math:`[F_{2k}; E_{2k+1}]`; :math:`\lceil\log_2 N\rceil` levels leave one
   relation :math:`E y_0 + F y_N + G g = s`;
3. a dense :math:`(2n + 2)`-square solve with periodicity and the border rows (which were updated
   at every elimination), then back-substitution.

The same reduction applied to the Jacobian of the collocation equations alone yields
:math:`E y_0 + F y_N = 0`, so the monodromy matrix is :math:`M = -F^{-1}E` and its eigenvalues are
the Floquet multipliers, at the cost of one more reduction.

**Mesh adaptation** (AUTO's IAD): the mesh is redistributed so that every interval carries the same
share of :math:`\int \|x^{(m+1)}\|^{1/(m+1)} d\tau` (the leading term of the local error), with
:math:`x^{(m+1)}` estimated from the jumps of the constant :math:`m`-th derivative between
neighbouring intervals; the orbit is then re-interpolated on the new mesh.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from .._trace_cache import device_array
from ..codegen import CompiledModel
from .engine import ContinuationProblem

__all__ = ["Collocation", "CollocationBasis", "collocation_problem", "Discretisation",
           "with_second_parameter"]


@dataclass(frozen=True)
class Collocation:
    """The discretisation of a periodic orbit (AUTO's NTST, NCOL, IAD).

    Attributes:
        ntst: number of mesh intervals (AUTO's NTST). 100 resolves the HH spike to better than
            1e-9 in the period with an adapted mesh.
        ncol: collocation points per interval, 2..7 (NCOL); the orbit is a piecewise polynomial of
            degree ``ncol``.
        adapt_mesh: re-distribute the mesh every this many continuation steps (IAD); 0 keeps the
            mesh of the starting orbit.
    """

    ntst: int = 100
    ncol: int = 4
    adapt_mesh: int = 4

    def __post_init__(self):
        if not isinstance(self.ntst, (int, np.integer)) or self.ntst < 2:
            raise ValueError(f"Collocation.ntst = {self.ntst!r}: must be an integer >= 2")
        if not isinstance(self.ncol, (int, np.integer)) or not 2 <= self.ncol <= 7:
            raise ValueError(f"Collocation.ncol = {self.ncol!r}: must be an integer in 2..7")
        if not isinstance(self.adapt_mesh, (int, np.integer)) or self.adapt_mesh < 0:
            raise ValueError(
                f"Collocation.adapt_mesh = {self.adapt_mesh!r}: must be an integer >= 0")


@dataclass(frozen=True)
class CollocationBasis:
    r"""Lagrange basis on :math:`m+1` equidistant nodes of :math:`[0, 1]` and the Gauss rule.

    Attributes:
        nodes: the nodes :math:`\sigma_j = j/m`.
        gauss: Gauss–Legendre points :math:`z_g` on [0, 1]; weights: their weights (sum 1).
        L: :math:`\ell_j(z_g)`, ``(m, m+1)``; D: :math:`\ell_j'(z_g)`.
        Dm: the constant :math:`m`-th derivatives :math:`\ell_j^{(m)}`, ``(m+1,)``.
    """

    nodes: np.ndarray
    gauss: np.ndarray
    weights: np.ndarray
    L: np.ndarray
    D: np.ndarray
    Dm: np.ndarray

    @property
    def m(self) -> int:
        return self.nodes.size - 1

    def values(self, s) -> np.ndarray:
        """:math:`\\ell_j(s)` for local times ``s`` in [0, 1], ``(len(s), m+1)``."""
        return _lagrange_matrix(self.nodes, np.asarray(s, float), 0)


def _lagrange_matrix(nodes, s, derivative):
    m = nodes.size - 1
    coef = np.linalg.inv(np.vander(nodes, m + 1, increasing=True))  # column j: coefficients of l_j
    powers = np.arange(m + 1)
    if derivative == 0:
        V = s[:, None] ** powers
    else:
        k = powers - derivative
        fac = np.array([math.perm(int(p), derivative) for p in powers], float)
        V = np.where(k >= 0, fac * s[:, None] ** np.maximum(k, 0), 0.0)
    return V @ coef


@functools.cache
def basis(ncol: int) -> CollocationBasis:
    nodes = np.linspace(0.0, 1.0, ncol + 1)
    z, w = np.polynomial.legendre.leggauss(ncol)
    z, w = 0.5 * (z + 1.0), 0.5 * w
    L = _lagrange_matrix(nodes, z, 0)
    D = _lagrange_matrix(nodes, z, 1)
    Dm = _lagrange_matrix(nodes, np.zeros(1), ncol)[0]
    return CollocationBasis(nodes, z, w, L, D, Dm)


@dataclass(frozen=True, eq=False)
class Discretisation:
    """Layout of the unknown vector :math:`u = (X / s, T, \\lambda)` for one (model, ntst, ncol).

    ``X`` holds the ``ntst*ncol + 1`` node values (rows) of the ``n`` states; it is divided by
    :math:`s = \\sqrt{ntst \\cdot ncol}` so that the pseudo-arclength norm of the orbit part
    approximates :math:`(\\int_0^1 \\|x\\|^2 d\\tau)^{1/2}`, like AUTO's, instead of growing
    with the mesh size.
    """

    n: int
    ntst: int
    ncol: int

    @property
    def n_nodes(self) -> int:
        return self.ntst * self.ncol + 1

    @property
    def scale(self) -> float:
        return math.sqrt(self.ntst * self.ncol)

    @property
    def size(self) -> int:
        return self.n_nodes * self.n + 2

    @property
    def interval_nodes(self) -> np.ndarray:
        """Node indices of every interval, ``(ntst, ncol+1)``."""
        return np.arange(self.ntst)[:, None] * self.ncol + np.arange(self.ncol + 1)[None, :]

    def orbit(self, u):
        """Node values ``(..., ntst*ncol + 1, n)`` of ``u`` ``(..., size)`` (numpy or JAX)."""
        return u[..., :-2].reshape(u.shape[:-1] + (self.n_nodes, self.n)) * self.scale

    def pack(self, X, T, lam):
        xp = jnp if isinstance(X, jax.Array) else np
        return xp.concatenate([xp.ravel(X) / self.scale, xp.asarray([T, lam], dtype=float)])

    def node_times(self, mesh) -> np.ndarray:
        """Rescaled times :math:`\\tau` of all nodes for mesh points ``mesh`` (ntst+1,)."""
        return node_times(mesh, self.ncol)


# --------------------------------------------------------------------------------------------
# Residual and the structured bordered solver
# --------------------------------------------------------------------------------------------


def _eliminate(S, cols):
    """Eliminate the unknowns multiplying ``S`` (batched ``(B, r, c)``, ``r > c``) from the
    equations ``S y + cols w = 0`` by Gauss–Jordan elimination with partial (row) pivoting, as
    AUTO-07p does in its condensation.

    Returns ``C`` with :math:`y = -C w` and the remaining ``r - c`` equations ``rest w = 0``.
    """
    B, r, c = S.shape
    M = jnp.concatenate([S, cols], axis=-1)
    b = jnp.arange(B)
    rows = jnp.arange(r)

    def column(j, M):  # a rolled loop: small graphs compile fast
        col = jax.lax.dynamic_index_in_dim(M, j, axis=2, keepdims=False)
        p = jnp.argmax(jnp.where(rows >= j, jnp.abs(col), -1.0), axis=1)
        row_j = jax.lax.dynamic_index_in_dim(M, j, axis=1, keepdims=False)
        row_p = M[b, p]
        M = M.at[b, j].set(row_p).at[b, p].set(row_j)
        piv = row_p / jnp.take_along_axis(row_p, jnp.full((B, 1), j), axis=1)
        col = jax.lax.dynamic_index_in_dim(M, j, axis=2, keepdims=True)
        return (M - col * piv[:, None, :]).at[b, j].set(piv)

    M = jax.lax.fori_loop(0, c, column, M)
    return M[:, :c, c:], M[:, c:, c:]


def _condense(A, Gext, Bi, n, m):
    """Eliminate the interior nodes of every interval.

    ``A``: ``(N, mn, (m+1)n)`` node blocks; ``Gext``: ``(N, mn, e)`` extra columns (globals and the
    right-hand side, multiplying the vector ``v``); ``Bi``: ``(r, N, (m-1)n)`` border coefficients
    of the interior nodes. Returns the interval relations ``E y_i + F y_{i+1} + G v = 0``, the
    elimination ``Z`` (:math:`z_i = -Z_i [y_i; y_{i+1}; v]`) and the border updates.
    """
    cols = jnp.concatenate([A[..., :n], A[..., m * n:], Gext], axis=-1)
    Z, rest = _eliminate(A[..., n:m * n], cols)
    W = jnp.einsum("rik,ikc->ric", Bi, Z)
    return rest[..., :n], rest[..., n:2 * n], rest[..., 2 * n:], Z, W


def _reduce(E, F, G, B, Be, n):
    """Cyclic reduction of ``E_i y_i + F_i y_{i+1} + G_i v = 0`` (i < K) to one relation
    between ``y_0`` and ``y_K``, with border rows ``sum_j B_j y_j + Be v = 0`` kept up to date.

    The K relations are padded to a power of two with the trivial relations
    :math:`y_i - y_{i+1} = 0`, so that every level has the same shapes (pairs eliminate into the
    first half, the second half is refilled with trivial relations, which reduce to trivial
    relations) and one compiled level serves all :math:`\\log_2` levels in a ``lax.scan``.

    Returns the final ``(E, F, G, B, Be)`` and the stacked eliminations for back-substitution.
    """
    K = E.shape[0]
    K0 = 1 << max(1, (K - 1).bit_length())
    e = G.shape[-1]
    eye = jnp.broadcast_to(jnp.eye(n, dtype=E.dtype), (K0 - K, n, n))
    E = jnp.concatenate([E, eye])
    F = jnp.concatenate([F, -eye])
    G = jnp.concatenate([G, jnp.zeros((K0 - K, n, e), G.dtype)])
    B = jnp.concatenate([B, jnp.zeros((B.shape[0], K0 - K, n), B.dtype)], axis=1)
    half = K0 // 2
    pad_eye = jnp.broadcast_to(jnp.eye(n, dtype=E.dtype), (half, n, n))

    def level(carry, _):
        E, F, G, B, Be = carry
        S = jnp.concatenate([F[0::2], E[1::2]], axis=1)
        zero = jnp.zeros_like(E[0::2])
        cols = jnp.concatenate([
            jnp.concatenate([E[0::2], zero], axis=1),
            jnp.concatenate([zero, F[1::2]], axis=1),
            jnp.concatenate([G[0::2], G[1::2]], axis=1)], axis=2)
        C, rest = _eliminate(S, cols)
        W = jnp.einsum("rpn,pnc->rpc", B[:, 1::2], C)
        kept = B[:, 0::2].at[:, :half].add(-W[..., :n]).at[:, 1:].add(-W[..., n:2 * n])
        Be = Be - W[..., 2 * n:].sum(axis=1)
        E = jnp.concatenate([rest[..., :n], pad_eye])
        F = jnp.concatenate([rest[..., n:2 * n], -pad_eye])
        G = jnp.concatenate([rest[..., 2 * n:], jnp.zeros_like(G[:half])])
        B = jnp.concatenate([kept, jnp.zeros_like(B[:, :half])], axis=1)
        return (E, F, G, B, Be), C

    levels = K0.bit_length() - 1
    (E, F, G, B, Be), Cs = jax.lax.scan(level, (E, F, G, B, Be), None, length=levels)
    return E[0], F[0], G[0], B[:, :2], Be, (Cs, K)


def _back_substitute(y_ends, V, levels, n):
    """Node values ``(K+1, n, k)`` from the end values ``(2, n, k)`` and the eliminations of
    :func:`_reduce`; ``V`` ``(e, k)`` holds the extra-column multipliers per right-hand side."""
    Cs, K = levels
    half = Cs.shape[1]
    Y = jnp.zeros((2 * half + 1,) + y_ends.shape[1:], y_ends.dtype).at[:2].set(y_ends)

    def level(Y, C):
        yl, yr = Y[:half], Y[1:half + 1]
        yc = -(jnp.einsum("pij,pjr->pir", C[..., :n], yl)
               + jnp.einsum("pij,pjr->pir", C[..., n:2 * n], yr) + C[..., 2 * n:] @ V)
        return Y.at[0::2].set(Y[:half + 1]).at[1::2].set(yc), None

    Y, _ = jax.lax.scan(level, Y, Cs, reverse=True)
    return Y[:K + 1]


@functools.cache
def collocation_problem(cm: CompiledModel, k: int, ntst: int, ncol: int) -> ContinuationProblem:
    """The periodic BVP of ``cm`` in parameter ``k`` as a :class:`ContinuationProblem`.

    ``u = (X / s, T, lambda)`` (see :class:`Discretisation`), ``args = (p0, h)``: the parameter
    vector and the mesh interval lengths (``(ntst,)``, summing to 1); the reference point is the
    previous orbit of the phase condition. The problem's monitor is the pair ``(E, F)`` of the
    reduced variational equation, :math:`M = -F^{-1}E`.
    """
    n = len(cm.state_names)
    m = ncol
    disc = Discretisation(n, ntst, ncol)
    bas = basis(ncol)
    L, D, w = (device_array(a) for a in (bas.L, bas.D, bas.weights))
    idx = device_array(disc.interval_nodes)
    s = disc.scale
    mesh_nodes = np.arange(ntst + 1) * m
    interior = disc.interval_nodes[:, 1:m]

    def unpack(u, p0):
        X = disc.orbit(u)
        return X, u[-2], p0.at[k].set(u[-1])

    def at_gauss(X):
        Xb = X[idx]
        return jnp.einsum("gj,ijn->ign", L, Xb), jnp.einsum("gj,ijn->ign", D, Xb)

    def f_gauss(xg, p):
        return cm.f(xg.reshape(-1, n).T, p).T.reshape(ntst, m, n)

    def residual(u, args, ref):
        p0, h = args
        X, T, p = unpack(u, p0)
        xg, dxg = at_gauss(X)
        coll = dxg / h[:, None, None] - T * f_gauss(xg, p)
        _, dref = at_gauss(disc.orbit(ref))
        phase = jnp.einsum("g,ign,ign->", w, xg, dref)
        return jnp.concatenate([coll.ravel(), X[0] - X[-1], phase[None]])

    def blocks(u, p0, h, pdir=None):
        """Node blocks (N, mn, (m+1)n) of d(coll)/d(u-orbit), and d/dT, d/dlambda (N, mn);
        with ``pdir`` the last column is the derivative along that parameter direction."""
        X, T, p = unpack(u, p0)
        xg, _ = at_gauss(X)
        flat = xg.reshape(-1, n).T
        fx = cm.jac_x(flat, p).transpose(2, 0, 1).reshape(ntst, m, n, n)
        fval = cm.f(flat, p).T.reshape(ntst, m, n)
        jp = cm.jac_p(flat, p)
        fp = (jp[:, k, :].T if pdir is None else jnp.einsum("ipg,p->gi", jp, pdir)).reshape(
            ntst, m, n)
        eye = jnp.eye(n)
        A = (jnp.einsum("gj,ab,i->igajb", D, eye, 1.0 / h)
             - T * jnp.einsum("gj,igab->igajb", L, fx)) * s
        return A.reshape(ntst, m * n, (m + 1) * n), -fval.reshape(ntst, -1), \
            -T * fp.reshape(ntst, -1)

    def solve(u, args, ref, c, b, pdir=None):
        """Bordered solve for ``b`` of shape ``(N+1,)`` or ``(N+1, k)``; also returns the
        reduced variational pair ``(E0, F0)``. With ``pdir`` (a vector in parameter space) the
        last column of the matrix is the derivative along ``pdir`` instead of along
        ``p[k]`` (the border column of the LPC-curve system)."""
        single = b.ndim == 1
        b = b[:, None] if single else b
        k_rhs = b.shape[1]
        p0, h = args
        A, aT, ap = blocks(u, p0, h, pdir)
        nb = disc.n_nodes * n
        b_coll = b[:ntst * m * n].reshape(ntst, m * n, k_rhs)
        b_per, b_phase, b_row = b[ntst * m * n:nb], b[nb], b[nb + 1]
        # border rows: the phase condition and the extra row c, as node coefficients
        _, dref = at_gauss(disc.orbit(ref))
        phase_nodes = jnp.zeros((disc.n_nodes, n)).at[idx].add(
            jnp.einsum("g,gj,ign->ijn", w, L, dref) * s)
        Bn = jnp.stack([phase_nodes, c[:-2].reshape(disc.n_nodes, n)])
        Be = jnp.stack([jnp.concatenate([jnp.zeros(2), b_phase]),
                        jnp.concatenate([c[-2:], b_row])])
        # condensation; the extra columns multiply v = (T, lambda, -e_j) for right-hand side j
        Gext = jnp.concatenate([aT[..., None], ap[..., None], b_coll], axis=-1)
        Bi = Bn[:, interior].reshape(2, ntst, (m - 1) * n)
        E, F, G, Z, W = _condense(A, Gext, Bi, n, m)
        Bm = Bn[:, mesh_nodes].at[:, :-1].add(-W[..., :n]).at[:, 1:].add(-W[..., n:2 * n])
        Be = Be - W[..., 2 * n:].sum(axis=1)
        E0, F0, G0, Bf, Be, levels = _reduce(E, F, G, Bm, Be, n)
        eye = jnp.eye(n) * s
        top = jnp.concatenate([E0, F0, G0[:, :2]], axis=1)
        per = jnp.concatenate([eye, -eye, jnp.zeros((n, 2))], axis=1)
        bor = jnp.concatenate([Bf[:, 0], Bf[:, 1], Be[:, :2]], axis=1)
        M = jnp.concatenate([top, per, bor])
        rhs = jnp.concatenate([G0[:, 2:], b_per, Be[:, 2:]])
        sol = jnp.linalg.solve(M, rhs)  # (2n+2, k)
        g = sol[2 * n:]
        V = jnp.concatenate([g, -jnp.eye(k_rhs)])  # (2 + k, k)
        Y = _back_substitute(jnp.stack([sol[:n], sol[n:2 * n]]), V, levels, n)
        z = -(jnp.einsum("ikj,ijr->ikr", Z[..., :n], Y[:-1])
              + jnp.einsum("ikj,ijr->ikr", Z[..., n:2 * n], Y[1:]) + Z[..., 2 * n:] @ V)
        Xd = jnp.concatenate([Y[:-1, None], z.reshape(ntst, m - 1, n, k_rhs)], axis=1)
        Xd = jnp.concatenate([Xd.reshape(-1, n, k_rhs), Y[-1:]])
        out = jnp.concatenate([Xd.reshape(-1, k_rhs), g])
        # E0, F0 depend only on the collocation blocks (the pivots too): they are the reduced
        # variational equation, E0 y_0 + F0 y_N = 0, whatever the borders
        return (out[:, 0] if single else out), jnp.stack([E0, F0])

    def weights(args):
        """The arclength weights :func:`arclength_weights` on the mesh of ``args``."""
        return arclength_weights(args[1], m, n, jnp)

    return ContinuationProblem(residual=residual, solve=solve, uses_reference=True,
                               solve_aux=True, weights=weights, tangent_from_newton=True)


def with_second_parameter(col: ContinuationProblem, k2: int):
    """The collocation system ``col`` with a second free parameter: for the unknowns
    ``v = (u, p[k2])`` (the curves of cycle bifurcations in two parameters) and
    ``args[:2] = (p0, h)``, returns ``(col_args, F, weights)``: ``col_args(v, args)`` the
    arguments of ``col`` at ``v``, ``F(v, args, ref)`` its residual and ``weights(args)`` the
    arclength weights of ``v`` (those of ``col``, and 1 for the second parameter)."""

    def col_args(v, args):
        p0, h = args[:2]
        return (p0.at[k2].set(v[-1]), h)

    def F(v, args, ref):
        return col.residual(v[:-1], col_args(v, args), ref[:-1])

    def weights(args):
        w = col.weights(args[:2])
        return jnp.concatenate([w, jnp.ones(1, w.dtype)])

    return col_args, F, weights


# --------------------------------------------------------------------------------------------
# Mesh: evaluation, adaptation, interpolation (numpy; between chunks of steps)
# --------------------------------------------------------------------------------------------


def node_times(mesh, ncol, xp=np) -> np.ndarray:
    """Rescaled times :math:`\\tau` of the ``ntst*ncol + 1`` nodes on ``mesh`` (ntst+1,);
    ``xp``: the array module (``jax.numpy`` inside traced code)."""
    mesh = xp.asarray(mesh)
    t = mesh[:-1, None] + xp.diff(mesh)[:, None] * xp.asarray(basis(ncol).nodes)[None, :-1]
    return xp.concatenate([t.ravel(), mesh[-1:]])


def arclength_weights(h, ncol, n, xp=np):
    r"""Weights :math:`\theta` of the unknowns ``u = (X / s, T, lambda)`` in the arclength norm,
    for mesh interval lengths ``h``: node quadrature weights (times ntst, so 1 on a uniform mesh),
    repeated over the ``n`` states, so that the orbit part is :math:`\int_0^1\|x\|^2 d\tau`;
    the period has weight 0 (AUTO's THL T=0), the parameter 1. ``xp``: numpy or jax.numpy."""
    h = h * h.shape[0]
    zero = xp.zeros(1, h.dtype)
    ends = 0.5 * (xp.concatenate([zero, h]) + xp.concatenate([h, zero]))
    inner = xp.repeat(h[:, None], ncol - 1, axis=1)
    node = xp.concatenate([xp.concatenate([ends[:-1, None], inner], axis=1).ravel(), ends[-1:]])
    return xp.concatenate([xp.repeat(node, n), xp.asarray([0.0, 1.0], h.dtype)])


def evaluate(X, mesh, ncol, tau) -> np.ndarray:
    """The piecewise polynomial with node values ``X`` ``(..., nodes, n)`` on ``mesh`` at times
    ``tau`` in [0, 1]: ``(..., len(tau), n)`` (leading axes: several orbits on one mesh)."""
    mesh = np.asarray(mesh)
    tau = np.asarray(tau, float)
    tau = np.where(tau == 1.0, 1.0, np.mod(tau, 1.0))
    ntst = mesh.size - 1
    i = np.clip(np.searchsorted(mesh, tau, side="right") - 1, 0, ntst - 1)
    s = (tau - mesh[i]) / (mesh[i + 1] - mesh[i])
    Lv = basis(ncol).values(s)  # (len, m+1)
    Xb = np.asarray(X)[..., np.arange(ntst)[:, None] * ncol + np.arange(ncol + 1), :]
    return np.einsum("kj,...kjn->...kn", Lv, Xb[..., i, :, :])


def _error_density(X, mesh, ncol, weights=None) -> np.ndarray:
    r"""Per interval :math:`\|x^{(m+1)}\|^{1/(m+1)}` (or with ``weights`` :math:`w`,
    :math:`(\sum_j w_j |x_j^{(m+1)}|)^{1/(m+1)}`), normalised to unit integral over the mesh.

    The :math:`m`-th derivative is constant on each interval; its jumps between neighbouring
    intervals (periodically) estimate :math:`x^{(m+1)}` at the mesh points."""
    h = np.diff(mesh)
    ntst = h.size
    Xb = np.asarray(X)[np.arange(ntst)[:, None] * ncol + np.arange(ncol + 1)]
    dm = np.einsum("j,ijn->in", basis(ncol).Dm, Xb) / h[:, None] ** ncol
    jumps = np.roll(dm, -1, axis=0) - dm  # at the right end of interval i: mesh point i + 1
    if weights is None:
        jump = np.linalg.norm(jumps, axis=1)
    else:
        jump = np.sum(np.roll(weights[:-1], -1, axis=0) * np.abs(jumps), axis=1)
    hm = 0.5 * (h + np.roll(h, -1))
    d = jump / hm  # ~ |x^(m+1)| at the right end of interval i
    dens = (0.5 * (d + np.roll(d, 1))) ** (1.0 / (ncol + 1))
    dens = np.maximum(dens, 1e-3 * dens.max() + 1e-300)
    return dens / np.sum(dens * h)


def adapted_mesh(X, mesh, ncol, weights=None) -> np.ndarray:
    r"""New mesh equidistributing :math:`\|x^{(m+1)}\|^{1/(m+1)}` (AUTO's mesh adaptation;
    :math:`x^{(m+1)}` from the jumps of the piecewise constant :math:`m`-th derivative).

    ``weights`` ``(ntst + 1, n)`` (non-negative, per mesh point and state) add a second,
    weighted criterion :math:`(\sum_j w_j |x_j^{(m+1)}|)^{1/(m+1)}`, and the mesh
    equidistributes the pointwise maximum of the two densities (each normalised to unit
    integral), so it resolves both. With :math:`w = |Z|`, the phase response of the orbit, the
    second one is the local error's first-order effect on the asymptotic phase
    (:math:`Z\cdot\delta x`, in time units whatever the states' units: goal-oriented
    adaptation, see :func:`hhanalysis.phase.orbit_from_simulation`).
    """
    mesh = np.asarray(mesh)
    h = np.diff(mesh)
    ntst = h.size
    dens = _error_density(X, mesh, ncol)
    if weights is not None:
        w = np.asarray(weights, dtype=float)
        if w.shape != (ntst + 1, np.shape(X)[1]) or not np.all(w >= 0):
            raise ValueError(f"weights: must be {(ntst + 1, np.shape(X)[1])} non-negative "
                             f"numbers (one per mesh point and state), got shape {w.shape}")
        dens = np.maximum(dens, _error_density(X, mesh, ncol, w))
    cum = np.concatenate([[0.0], np.cumsum(dens * h)])
    new = np.interp(np.linspace(0.0, cum[-1], ntst + 1), cum, mesh)
    new[0], new[-1] = 0.0, 1.0
    return new


def remesh(X, mesh, new_mesh, ncol) -> np.ndarray:
    """Node values on ``new_mesh`` of the orbit with nodes ``X`` on ``mesh``."""
    return evaluate(X, mesh, ncol, node_times(new_mesh, ncol))
