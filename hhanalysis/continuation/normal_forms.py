r"""Normal-form coefficients of codim-2 points of equilibria (Kuznetsov's projection method).

Notation (Kuznetsov, *Elements of Applied Bifurcation Theory*, 3rd ed., §8.7 and §10.2;
Kuznetsov, "Numerical normalization techniques for all codim 2 bifurcations of equilibria in
ODE's", SIAM J. Numer. Anal. 36, 1999): :math:`A = f_x(x_0, p_0)`,
:math:`\langle a, b\rangle = \bar a^T b`, and the multilinear forms of the Taylor expansion
:math:`f(x_0 + \xi) = A\xi + \tfrac12 B(\xi,\xi) + \tfrac16 C(\xi,\xi,\xi) +
\tfrac1{24} D(\xi,\xi,\xi,\xi) + \tfrac1{120} E(\xi,\xi,\xi,\xi,\xi) + \dots`, evaluated on
complex vectors by multilinearity and polarization from Taylor-mode derivatives
(``jax.experimental.jet``) of the generated :math:`f` along real directions (:func:`form`).
Everything here runs once per located codim-2 point, in NumPy around one jitted, batched jet per
order :math:`k`.

**Generalised Hopf (Bautin).** :math:`Aq = i\omega q`, :math:`A^Tp = -i\omega p`,
:math:`\langle q, q\rangle = \langle p, q\rangle = 1`. With :math:`x = x_0 + wq + \bar w\bar q +
\sum_{j+k\ge2} h_{jk} w^j\bar w^k/(j!k!)`, the restriction to the center manifold is
:math:`\dot w = i\omega w + \tfrac12 G_{21} w|w|^2 + \tfrac1{12} G_{32} w|w|^4 + \dots`, where

.. math::
    h_{20} &= (2i\omega - A)^{-1}B(q,q), \quad h_{11} = -A^{-1}B(q,\bar q), \\
    G_{21} &= \langle p, C(q,q,\bar q) + B(\bar q, h_{20}) + 2B(q, h_{11})\rangle, \\
    h_{30} &= (3i\omega - A)^{-1}\big[C(q,q,q) + 3B(q,h_{20})\big], \\
    (i\omega - A)h_{21} &= C(q,q,\bar q) + B(\bar q,h_{20}) + 2B(q,h_{11}) - G_{21}q,
        \quad \langle p, h_{21}\rangle = 0, \\
    h_{31} &= (2i\omega - A)^{-1}\big[D(q,q,q,\bar q) + 3C(q,q,h_{11}) + 3C(q,\bar q,h_{20})
        + 3B(h_{20},h_{11}) + B(\bar q,h_{30}) + 3B(q,h_{21}) - 3G_{21}h_{20}\big], \\
    h_{22} &= -A^{-1}\big[D(q,q,\bar q,\bar q) + 4C(q,\bar q,h_{11}) + C(\bar q,\bar q,h_{20})
        + C(q,q,\bar h_{20}) + 2B(h_{11},h_{11}) + 2B(q,\bar h_{21}) + 2B(\bar q,h_{21})
        + B(\bar h_{20},h_{20}) - 2(G_{21} + \bar G_{21})h_{11}\big], \\
    G_{32} &= \langle p, E(q,q,q,\bar q,\bar q) + D(q,q,q,\bar h_{20}) + 3D(q,\bar q,\bar q,h_{20})
        + 6D(q,q,\bar q,h_{11}) + C(\bar q,\bar q,h_{30}) + 3C(q,q,\bar h_{21})
        + 6C(q,\bar q,h_{21}) + 3C(q,\bar h_{20},h_{20}) + 6C(q,h_{11},h_{11}) \\
        &\qquad + 6C(\bar q,h_{20},h_{11}) + 2B(\bar q,h_{31}) + 3B(q,h_{22})
        + B(\bar h_{20},h_{30}) + 3B(\bar h_{21},h_{20}) + 6B(h_{11},h_{21})\rangle,

and :math:`\ell_1 = \mathrm{Re}\,G_{21}/(2\omega)`,
:math:`\ell_2 = \mathrm{Re}\,G_{32}/(12\omega)` (the same scaling by :math:`\omega` as
:math:`\ell_1`; at a GH point :math:`\ell_1 = 0` and the sign of :math:`\ell_2` decides the type:
:math:`\ell_2 < 0`: the fold-of-cycles curve born there lies where :math:`\ell_1 > 0`, carrying
a stable big cycle around an unstable small one).

**Bogdanov–Takens.** :math:`Aq_0 = 0`, :math:`Aq_1 = q_0`, :math:`A^Tp_1 = 0`,
:math:`A^Tp_0 = p_1`, :math:`\langle q_0, q_0\rangle = 1`, :math:`\langle q_0, q_1\rangle = 0`,
:math:`\langle p_1, q_1\rangle = 1` (then :math:`\langle p_0, q_0\rangle = 1`), and
:math:`\langle p_0, q_1\rangle = 0`. The normal form
:math:`\dot w_0 = w_1,\ \dot w_1 = a w_0^2 + b w_0w_1` has

.. math:: a = \tfrac12\langle p_1, B(q_0,q_0)\rangle, \qquad
          b = \langle p_0, B(q_0,q_0)\rangle + \langle p_1, B(q_0,q_1)\rangle.

**Cusp.** :math:`Aq = 0`, :math:`A^Tp = 0`, :math:`\langle q,q\rangle = \langle p,q\rangle = 1`,
:math:`\tfrac12\langle p, B(q,q)\rangle = 0`; :math:`\dot\xi = \beta_1 + \beta_2\xi + c\,\xi^3`
with :math:`c = \tfrac16\langle p, C(q,q,q) + 3B(q,h_2)\rangle`,
:math:`h_2 = -A^{\rm INV}B(q,q)` (the solution with :math:`\langle p, h_2\rangle = 0`).
"""

from __future__ import annotations

import functools
import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import jet

from ..codegen import CompiledModel
from ..precision import float64

__all__ = ["form", "forms", "second_lyapunov", "second_lyapunovs", "bogdanov_takens", "cusp"]


@functools.cache
def _diagonals(cm: CompiledModel, k: int):
    r"""Jitted :math:`D^k f(x, p)[w, \dots, w]` at points ``X`` ``(P, n)``, ``Ps`` for a batch
    of real directions ``W`` ``(P, N, n)`` per point (Taylor mode: the ``k``-th coefficient of
    :math:`f(x + tw)`). The points are a ``lax.map`` over one point's vmapped jet, all in one
    call: batching points in the vmap (``x``, ``p`` per row) makes JAX trace the jets several
    times slower (~10 s more in a new session), one call per point costs a launch each."""

    def one(x, p, w):
        zeros = [jnp.zeros_like(w)] * (k - 1)
        _, series = jet.jet(lambda y: cm.f(y, p), (x,), ((w, *zeros),))
        return series[k - 1]

    at_point = jax.vmap(one, in_axes=(None, None, 0))
    return float64(jax.jit(lambda X, Ps, W: jax.lax.map(lambda a: at_point(*a), (X, Ps, W))))


#: rows of the batched diagonals of order k (a fixed shape per order: one compile each); they
#: hold the distinct directions of the forms of one stage of :func:`second_lyapunovs`
_ROWS = {2: 64, 3: 128, 4: 64, 5: 32}


class _Atoms:
    """The distinct real vectors (``(P, n)``: one per point) among the real and imaginary parts
    of the arguments of some forms, up to sign and leaving out zeros, in order of first
    appearance. Parts are matched by their bytes: :math:`\bar q` has the parts of :math:`q`,
    the second negated, bit for bit; each argument array is split once (by identity: the
    requests of :func:`second_lyapunovs` repeat a few vectors many times)."""

    def __init__(self):
        self.basis, self._found, self._split = [], {}, {}

    def _atom(self, x):
        if not x.any():
            return None
        key = x.tobytes()
        if key not in self._found:
            i = len(self.basis)
            self._found[key], self._found[(-x).tobytes()] = (i, 1), (i, -1)
            self.basis.append(x)
        return self._found[key]

    def of(self, v) -> tuple:
        """``((index, sign) of the real part, ... of the imaginary part)``, None for a zero
        part."""
        key = id(v)
        if key not in self._split:
            a = np.asarray(v)
            self._split[key] = (self._atom(np.ascontiguousarray(a.real, float)),
                                self._atom(np.ascontiguousarray(a.imag, float))
                                if np.iscomplexobj(a) else None)
        return self._split[key]


@functools.cache
def _plan(sig: tuple, n_atoms: int) -> tuple[np.ndarray, np.ndarray]:
    r"""``(keys, coeff)`` for the forms of signature ``sig`` (:func:`_atoms`): the distinct
    diagonals :math:`D^k[w^k]` they need, each direction :math:`w = \sum_a c_a b_a` an integer
    combination of the atoms :math:`b_a` (``keys`` ``(M, n_atoms)``, first non-zero entry
    positive), and the weight of each in each form (``coeff`` ``(r, M)``, complex).

    Each complex argument splits into its real and imaginary parts (:math:`2^k` real forms);
    each real form :math:`D^k[b_{a_1}, \dots, b_{a_k}]` is polarized,
    :math:`\sum_\varepsilon \frac{\prod_i\varepsilon_i}{2^{k-1}k!}
    D^k[(\sum_i \varepsilon_i b_{a_i})^k]` (:math:`\varepsilon_1 = 1`). Repeated atoms
    (:math:`q` and :math:`\bar q` share theirs) make many of these directions equal, and
    :math:`D^k[(-w)^k] = (-1)^k D^k[w^k]` folds opposite ones: :math:`E(q,q,q,\bar q,\bar q)`
    needs 21 diagonals instead of :math:`2^5 2^4 = 512`. Same sums as without merging, so the
    same conditioning. Cached by signature (a few per stage of :func:`second_lyapunovs`)."""
    k = len(sig[0])
    eps = np.array([(1,) + e for e in itertools.product((1, -1), repeat=k - 1)])
    weight = np.prod(eps, axis=1) / (2 ** (k - 1) * math.factorial(k))
    columns: dict[tuple, int] = {}
    entries = []
    for j, form in enumerate(sig):
        for combo in itertools.product((0, 1), repeat=k):
            picked = [form[i][c] for i, c in enumerate(combo)]
            if any(a is None for a in picked):
                continue
            factor = 1j ** sum(combo) * np.prod([sgn for _, sgn in picked])
            for e, w in zip(eps, weight):
                c = np.zeros(n_atoms, int)
                for (a, _), ei in zip(picked, e):
                    c[a] += ei
                nz = np.flatnonzero(c)
                if nz.size == 0:
                    continue
                flip = c[nz[0]] < 0
                key = tuple(-c if flip else c)
                col = columns.setdefault(key, len(columns))
                entries.append((j, col, factor * w * (-1) ** (k * flip)))
    coeff = np.zeros((len(sig), len(columns)), complex)
    for j, col, v in entries:
        coeff[j, col] += v
    return np.array(list(columns), float).reshape(len(columns), n_atoms), coeff


def forms(cm: CompiledModel, x, p, requests) -> list[np.ndarray]:
    r"""Several multilinear forms at once: ``requests`` is a list of tuples of vectors, the result
    the list of :math:`D^k f(x, p)[v_1, \dots, v_k]`; all forms of one order are one batched
    jet (padded to a fixed number of rows per order, so one compile per order)."""
    out = _forms_at(cm, np.asarray(x, float)[None], np.asarray(p, float)[None],
                    [tuple(np.asarray(v)[None] for v in r) for r in requests])
    return [o[0] for o in out]


def _forms_at(cm: CompiledModel, X, Ps, requests) -> list[np.ndarray]:
    """:func:`forms` at several points ``X`` ``(P, n)``, ``Ps``: each vector of ``requests`` is
    ``(P, n)`` (one per point), each result ``(P, n)``; one batched jet per order for all points
    (padded to a power of two of them: few compiled shapes)."""
    out: list = [None] * len(requests)
    npts = X.shape[0]
    size = 1 << (npts - 1).bit_length()
    Xp, Pp = (np.concatenate([a, np.repeat(a[-1:], size - npts, axis=0)]) for a in (X, Ps))
    pending = []
    atoms = _Atoms()
    sigs = {k: tuple(tuple(atoms.of(v) for v in r) for r in requests if len(r) == k)
            for k in sorted({len(r) for r in requests})}
    basis = np.array(atoms.basis, float).reshape(len(atoms.basis), npts, X.shape[1])
    for k, sig in sigs.items():
        idx = [i for i, r in enumerate(requests) if len(r) == k]
        keys, coeff = _plan(sig, len(basis))
        m, n = len(keys), basis.shape[-1]
        rows = max(_ROWS.get(k, 0), 1 << (m - 1).bit_length())
        W = np.einsum("ma,apn->pmn", keys, basis)  # (P, m, n)
        W = np.concatenate([W, np.zeros((npts, rows - m, n))], 1)
        # dispatched now, read below: the jets of all orders run while the host prepares the
        # next ones (JAX's asynchronous dispatch)
        W = np.concatenate([W, np.repeat(W[-1:], size - npts, axis=0)])
        pending.append((idx, coeff, m, _diagonals(cm, k)(Xp, Pp, W)))
    for idx, coeff, m, vals in pending:
        res = np.einsum("jm,pmn->pjn", coeff, np.asarray(vals)[:npts, :m])  # (P, r, n)
        for j, i in enumerate(idx):
            out[i] = res[:, j]
    return out


def form(cm: CompiledModel, x, p, *vectors) -> np.ndarray:
    r"""The ``k``-linear form :math:`D^k f(x, p)[v_1, \dots, v_k]` (``k = len(vectors)``) for
    real or complex vectors: each complex argument is split into its real and imaginary parts
    (:math:`2^k` real forms), each real form is polarized into :math:`2^{k-1}` diagonal values
    :math:`D^k[w^k]` (equal directions merged, :func:`_plan`), and all diagonals are computed
    in one batched jet (:func:`forms`)."""
    return forms(cm, x, p, [vectors])[0]


def _forms(cm, x, p):
    return functools.partial(form, cm, np.asarray(x, float), np.asarray(p, float))


def _jacobian(cm, x, p) -> np.ndarray:
    return np.asarray(cm.jac_x(np.asarray(x, float), np.asarray(p, float)))


def _bordered(A, b, c, rhs):
    """Solve :math:`[[A, b], [c^T, 0]] [y; s] = [rhs; 0]` (``c^T`` without conjugation),
    return :math:`y`."""
    n = A.shape[0]
    K = np.block([[A, b[:, None]], [c[None, :], np.zeros((1, 1))]])
    return np.linalg.solve(K, np.concatenate([rhs, [0.0]]))[:n]


def second_lyapunov(cm: CompiledModel, x, p, omega: float, q) -> tuple[float, float]:
    r"""``(l1, l2)`` at a Hopf point ``(x, p)`` with frequency ``omega`` and critical
    eigenvector ``q`` (any length and phase; formulas in the module docstring); :math:`\ell_2`
    decides the type where :math:`\ell_1 = 0`. The 37 multilinear forms are computed in four
    stages (each needs the :math:`h_{jk}` of the previous one), one batched jet per order and
    stage (:func:`forms`). :func:`second_lyapunovs` does several points at once."""
    return second_lyapunovs(cm, [x], [p], [omega], [q])[0]


def _solve(M, b):
    return np.linalg.solve(M, b[..., None])[..., 0]


def _dot(a, b):
    r""":math:`\langle a, b\rangle = \bar a^T b` per row."""
    return np.sum(a.conj() * b, axis=-1)


def _bordered_rows(A, b, c, rhs):
    """:func:`_bordered` for a stack of systems (leading axis)."""
    N, n = rhs.shape
    K = np.zeros((N, n + 1, n + 1), complex)
    K[:, :n, :n], K[:, :n, n], K[:, n, :n] = A, b, c
    return _solve(K, np.concatenate([rhs, np.zeros((N, 1))], 1))[:, :n]


def second_lyapunovs(cm: CompiledModel, xs, ps, omegas, qs,
                     jacobians=None) -> list[tuple[float, float]]:
    """:func:`second_lyapunov` at several Hopf points at once (each stage's linear algebra
    for all points in one array operation); ``jacobians``: :math:`f_x` at the points where the
    caller has them already."""
    X, Ps = np.asarray(xs, float), np.asarray(ps, float)
    A = np.stack([_jacobian(cm, x, p) for x, p in zip(X, Ps)] if jacobians is None
                 else jacobians).astype(complex)
    N, n = X.shape
    om = np.asarray(omegas, float)
    w3 = om[:, None, None] * np.eye(n)  # omega I per point
    q = np.asarray(qs, complex)
    q = q / np.linalg.norm(q, axis=1, keepdims=True)
    K = np.zeros((N, n + 1, n + 1), complex)
    K[:, :n, :n], K[:, :n, n], K[:, n, :n] = np.swapaxes(A, 1, 2) + 1j * w3, q, q.conj()
    pv = _solve(K, np.eye(n + 1)[n][None].repeat(N, 0).astype(complex))[:, :n]
    pv = pv / _dot(pv, q).conj()[:, None]
    qb = q.conj()

    def F(*requests):
        return _forms_at(cm, X, Ps, list(requests))

    Bqq, Bqqb, Cqqqb, Cqqq = F((q, q), (q, qb), (q, q, qb), (q, q, q))
    h20 = _solve(2j * w3 - A, Bqq)
    h11 = -_solve(A, Bqqb)
    h20b = h20.conj()
    (Bqbh20, Bqh11, Bqh20, Dqqqqb, Cqqh11, Cqqbh20, Bh20h11, Dqqqbqb, Cqqbh11, Cqbqbh20,
     Cqqh20b, Bh11h11, Bh20bh20, Eqqqqbqb, Dqqqh20b, Dqqbqbh20, Dqqqbh11, Cqh20bh20, Cqh11h11,
     Cqbh20h11) = F(
         (qb, h20), (q, h11), (q, h20), (q, q, q, qb), (q, q, h11), (q, qb, h20), (h20, h11),
         (q, q, qb, qb), (q, qb, h11), (qb, qb, h20), (q, q, h20b), (h11, h11), (h20b, h20),
         (q, q, q, qb, qb), (q, q, q, h20b), (q, qb, qb, h20), (q, q, qb, h11),
         (q, h20b, h20), (q, h11, h11), (qb, h20, h11))
    r21 = Cqqqb + Bqbh20 + 2 * Bqh11
    G21 = _dot(pv, r21)[:, None]
    h30 = _solve(3j * w3 - A, Cqqq + 3 * Bqh20)
    h21 = _bordered_rows(1j * w3 - A, q, pv.conj(), r21 - G21 * q)
    h21b = h21.conj()
    (Bqbh30, Bqh21, Bqh21b, Bqbh21, Cqbqbh30, Cqqh21b, Cqqbh21, Bh20bh30, Bh21bh20,
     Bh11h21) = F(
         (qb, h30), (q, h21), (q, h21b), (qb, h21), (qb, qb, h30), (q, q, h21b), (q, qb, h21),
         (h20b, h30), (h21b, h20), (h11, h21))
    h31 = _solve(2j * w3 - A,
                 Dqqqqb + 3 * Cqqh11 + 3 * Cqqbh20 + 3 * Bh20h11 + Bqbh30 + 3 * Bqh21
                 - 3 * G21 * h20)
    h22 = -_solve(A, Dqqqbqb + 4 * Cqqbh11 + Cqbqbh20 + Cqqh20b + 2 * Bh11h11
                  + 2 * Bqh21b + 2 * Bqbh21 + Bh20bh20 - 2 * (G21 + G21.conj()) * h11)
    Bqbh31, Bqh22 = F((qb, h31), (q, h22))
    r32 = (Eqqqqbqb + Dqqqh20b + 3 * Dqqbqbh20 + 6 * Dqqqbh11 + Cqbqbh30 + 3 * Cqqh21b
           + 6 * Cqqbh21 + 3 * Cqh20bh20 + 6 * Cqh11h11 + 6 * Cqbh20h11 + 2 * Bqbh31 + 3 * Bqh22
           + Bh20bh30 + 3 * Bh21bh20 + 6 * Bh11h21)
    G32 = _dot(pv, r32)
    return [(float(g21.real / (2 * w)), float(g32.real / (12 * w)))
            for g21, g32, w in zip(G21[:, 0], G32, om)]


def _null_vectors(A):
    """Unit right and left null vectors of a (nearly) singular real ``A`` (smallest singular
    value), the right one with its largest component positive."""
    U, _, Vt = np.linalg.svd(A)
    q, p = Vt[-1], U[:, -1]
    return q * np.sign(q[np.argmax(np.abs(q))]), p


def bogdanov_takens(cm: CompiledModel, x, p) -> tuple[float, float]:
    """``(a, b)`` of the Bogdanov–Takens normal form at ``(x, p)`` (normalisation in the module
    docstring); the sign of :math:`ab` tells the two unfoldings apart and does not depend on
    the normalisation."""
    A = _jacobian(cm, x, p)
    q0, p1 = _null_vectors(A)
    q1 = _bordered(A, p1, q0, q0)
    q1 = q1 - (q0 @ q1) * q0
    p1 = p1 / (p1 @ q1)
    p0 = _bordered(A.T, q0, p1, p1)
    p0 = p0 - (p0 @ q1) * p1
    b00, b01 = (b.real for b in forms(cm, np.asarray(x, float), np.asarray(p, float),
                                      [(q0, q0), (q0, q1)]))  # one batched jet for both
    return float(0.5 * p1 @ b00), float(p0 @ b00 + p1 @ b01)


def cusp(cm: CompiledModel, x, p) -> float:
    """The cubic coefficient :math:`c` of the cusp normal form at ``(x, p)``."""
    F = _forms(cm, x, p)
    A = _jacobian(cm, x, p)
    q, pv = _null_vectors(A)
    pv = pv / (pv @ q)
    bqq = F(q, q).real
    h2 = _bordered(A, pv, pv, -(bqq - (pv @ bqq) * q))
    return float(pv @ (F(q, q, q).real + 3 * F(q, h2).real) / 6.0)
