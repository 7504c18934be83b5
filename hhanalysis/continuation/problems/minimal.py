r"""Minimally augmented test functions: a bordered scalar that vanishes where a matrix is singular.

For a matrix :math:`M(u)` with (at most) a one-dimensional kernel near a point of interest, and
border vectors :math:`b, c` chosen so that the bordered matrix is regular there (e.g. :math:`b`
a left and :math:`c` a right null vector of :math:`M` at a nearby point), the scalar
:math:`g(u)` defined by

.. math::
    \begin{pmatrix} M(u) & b \\ c^T & 0 \end{pmatrix}
    \begin{pmatrix} v \\ g \end{pmatrix} = \begin{pmatrix} 0 \\ 1 \end{pmatrix}

is smooth and vanishes exactly where :math:`M(u)` is singular (Cramer's rule:
:math:`g = \det M / \det\begin{pmatrix} M & b\\ c^T & 0\end{pmatrix}`). Appending :math:`g = 0`
to :math:`f(x, p) = 0` gives the *minimally augmented* defining system of a codim-1 curve of
equilibria in two parameters: :math:`n + 1` equations in :math:`n + 2` unknowns
(Govaerts, *Numerical Methods for Bifurcations of Dynamical Equilibria*, SIAM 2000, ch. 4;
Kuznetsov, *Elements of Applied Bifurcation Theory*, §10.2):

* fold curves: :math:`M = f_x` (:mod:`~hhanalysis.continuation.problems.fold_curve`);
* Hopf curves: :math:`M = 2 f_x \odot I`, the *bialternate product*, whose eigenvalues are
  the sums :math:`\lambda_i + \lambda_j` (:math:`i < j`) of the eigenvalues of :math:`f_x`, so
  it is singular at a Hopf point (:math:`\pm i\omega`) and at a neutral saddle
  (:math:`\pm\mu`) (:mod:`~hhanalysis.continuation.problems.hopf_curve`).

The borders are refreshed between continuation chunks (the curve does not depend on them).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["bordered_scalar", "bordered_vectors", "bialternate", "bialternate_adjoint",
           "borders"]


def bordered_vectors(M, b, c):
    r"""``(g, v, w)``: :math:`g` and :math:`v` of the bordered system above and the left
    solution :math:`w` of :math:`(w^T, h) \begin{pmatrix} M & b \\ c^T & 0 \end{pmatrix}
    = (0, 1)`, from one LU factorisation; at a singular :math:`M` (:math:`g = 0`), :math:`v`
    and :math:`w` span its right and left kernels."""
    m = M.shape[0]
    K = jnp.block([[M, b[:, None]], [c[None, :], jnp.zeros((1, 1), M.dtype)]])
    lu = jax.scipy.linalg.lu_factor(K)
    e = jnp.zeros(m + 1, M.dtype).at[m].set(1.0)
    y = jax.scipy.linalg.lu_solve(lu, e)
    z = jax.scipy.linalg.lu_solve(lu, e, trans=1)
    return y[m], y[:m], z[:m], z[m]


@jax.custom_jvp
def bordered_scalar(M, b, c):
    r""":math:`g` of the bordered system above.

    Its derivative is not taken through the solve but from the formula (differentiate
    :math:`K (v, g)^T = e_{m+1}` and multiply by the left solution
    :math:`K^T (w, h)^T = e_{m+1}`; Govaerts, ch. 4)

    .. math::
        \dot g = -\left(w^T \dot M v + g\, w^T \dot b + h\, \dot c^T v\right),

    so that :math:`g_u = -w^T M_u v`: the derivative of the scalar :math:`w^T M(u) v` at fixed
    :math:`v, w`, one reverse pass
    (:func:`~.fold_curve.minimal_jacobian`) instead of :math:`m + 1`
    forward-differentiated solves.
    """
    return bordered_vectors(M, b, c)[0]


@bordered_scalar.defjvp
def _bordered_scalar_jvp(primals, tangents):
    M, b, c = primals
    dM, db, dc = tangents
    g, v, w, h = bordered_vectors(M, b, c)
    return g, -(jnp.sum(w[:, None] * dM * v[None, :]) + g * jnp.sum(w * db)
                + h * jnp.sum(dc * v))


@functools.cache
def _bialternate_pattern(n: int):
    r"""Scatter pattern of :math:`2A \odot I` for ``n x n`` matrices: rows, columns, the
    entry :math:`(i, j)` of :math:`A` each term takes, and its sign.

    Rows and columns are the pairs :math:`(p, q)`, :math:`p > q`, in lexicographic order; the
    entry at row :math:`(p, q)`, column :math:`(r, s)` is (Kuznetsov, *Elements*, §10.2.2)
    :math:`a_{pp} + a_{qq}` if :math:`r = p, s = q`; :math:`a_{qs}` if :math:`r = p, s \ne q`;
    :math:`a_{pr}` if :math:`r \ne p, s = q`; :math:`-a_{ps}` if :math:`r = q`;
    :math:`-a_{qr}` if :math:`s = p`; 0 otherwise.
    """
    pairs = [(p, q) for p in range(1, n) for q in range(p)]
    rows, cols, ii, jj, sign = [], [], [], [], []

    def term(a, b, i, j, s):
        rows.append(a), cols.append(b), ii.append(i), jj.append(j), sign.append(s)

    for a, (p, q) in enumerate(pairs):
        for b, (r, s) in enumerate(pairs):
            if r == p and s == q:
                term(a, b, p, p, 1.0)
                term(a, b, q, q, 1.0)
            elif r == p:
                term(a, b, q, s, 1.0)
            elif s == q:
                term(a, b, p, r, 1.0)
            elif r == q:
                term(a, b, p, s, -1.0)
            elif s == p:
                term(a, b, q, r, -1.0)
    return len(pairs), tuple(np.asarray(v) for v in (rows, cols, ii, jj, sign))


def bialternate(A):
    r"""The bialternate product :math:`2A \odot I`, ``(m, m)`` with :math:`m = n(n-1)/2`; its
    eigenvalues are :math:`\lambda_i + \lambda_j`, :math:`i < j`."""
    m, (rows, cols, ii, jj, sign) = _bialternate_pattern(A.shape[0])
    return jnp.zeros((m, m), A.dtype).at[rows, cols].add(sign * A[ii, jj])


def bialternate_adjoint(w, v):
    r"""The ``(n, n)`` matrix :math:`C` with :math:`\langle C, A\rangle = \sum_{ab} C_{ab}
    A_{ab} = w^T (2A \odot I)\, v` for every :math:`A` (the adjoint of :func:`bialternate`
    applied to :math:`w v^T`): the bialternate product's derivative enters the Hopf curve's
    Jacobian only through it."""
    m = w.shape[0]
    n = int(round((1 + (1 + 8 * m) ** 0.5) / 2))
    _, (rows, cols, ii, jj, sign) = _bialternate_pattern(n)
    return jnp.zeros((n, n), w.dtype).at[ii, jj].add(sign * w[rows] * v[cols])


def borders(M) -> tuple[np.ndarray, np.ndarray]:
    """``(b, c)``: the left and right singular vectors of ``M`` for its smallest singular
    value, the borders that make the bordered matrix best conditioned near a singular ``M``."""
    U, _, Vt = np.linalg.svd(np.asarray(M))
    return U[:, -1], Vt[-1]
