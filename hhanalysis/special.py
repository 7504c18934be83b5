r"""Removable singularities of rate functions, handled exactly.

Hodgkin–Huxley style rates have the form

.. math:: \alpha(V) = \frac{a\,(V - V_0)}{1 - e^{-(V - V_0)/k}},

which is :math:`0/0` at :math:`V = V_0` (``α_m`` at −40 mV, ``α_n`` at −55 mV). Written with the
*relative exponential*

.. math:: E_0(y) = \frac{e^y - 1}{y} = \int_0^1 e^{t y}\,dt, \qquad
          E_n(y) = \frac{d^n E_0}{dy^n} = \int_0^1 t^n e^{t y}\,dt,

the rate is :math:`\alpha = -a k\,/\,E_0(y)` with :math:`y = -(V-V_0)/k`, which is smooth and
strictly positive everywhere (:math:`E_0 > 0`). All derivatives stay in the family
(:math:`E_n' = E_{n+1}`), so the symbolic Jacobian and the higher multilinear forms never see a
:math:`0/0` again.

This module provides

* :class:`Exprel` — the sympy function :math:`E_n(y)` (``Exprel(n, y)``), differentiable to any
  order;
* :func:`exprel` — its JAX implementation: a Taylor series
  :math:`E_n(y) = \sum_k y^k / (k!\,(n+k+1))` for :math:`|y| < (n+1)/2` and the recurrence
  :math:`E_n = (e^y - n E_{n-1})/y` elsewhere, accurate to a few ulps on both sides of the switch;
* :func:`remove_removable_singularities` — a rewrite pass that finds every sub-expression
  :math:`N / (c\,(1 - e^{g}))` or :math:`N / (c\,(e^{g} - 1))` whose numerator :math:`N` is a
  multiple :math:`q\,g` of the exponent (with :math:`q` free of :math:`0/0`), and replaces it by
  :math:`\mp (q/c) / E_0(g)`. It is applied to every model before code generation, so user models
  written with the same pattern are safe too.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import sympy as sp

__all__ = ["Exprel", "ExprelOfExp", "exprel", "exprel_of_exp", "inv_exprel_of_exp",
           "remove_removable_singularities", "share_exponentials"]



def series_switch(n: int) -> float:
    """Below this |y| the Taylor series gives E_n; above it the closed-form recurrence.

    The recurrence amplifies rounding errors by about n!/|y|^n, so the switch grows with n.
    """
    return 0.5 * (n + 1)


def series_terms(n: int) -> int:
    """Number of Taylor terms K with s^K / K! < 1e-18 at the switch s."""
    s, k, term = series_switch(n), 0, 1.0
    while term > 1e-18:
        k += 1
        term *= s / k
    return k + 1


class Exprel(sp.Function):
    r"""Sympy function :math:`E_n(y) = \int_0^1 t^n e^{ty}\,dt` (``Exprel(n, y)``).

    ``Exprel(0, y) = (exp(y) - 1)/y`` with the removable singularity at ``y = 0`` filled in,
    and ``d/dy Exprel(n, y) = Exprel(n + 1, y)``.
    """

    nargs = 2

    @classmethod
    def eval(cls, n, y):
        if not (n.is_Integer and n >= 0):
            raise ValueError(f"Exprel order n must be a non-negative integer, got {n}")
        if y.is_zero:
            return sp.Rational(1, int(n) + 1)
        return None

    def fdiff(self, argindex=2):
        if argindex != 2:
            raise sp.ArgumentIndexError(self, argindex)
        n, y = self.args
        return Exprel(n + 1, y)

    def _eval_rewrite_as_exp(self, n, y, **kwargs):
        """Closed form (singular at y = 0), for checks against independent arithmetic."""
        t = sp.Dummy("t")
        return sp.integrate(t**n * sp.exp(t * y), (t, 0, 1))

    def _latex(self, printer, exp=None):
        n, y = self.args
        base = rf"\operatorname{{E}}_{{{printer._print(n)}}}\left({printer._print(y)}\right)"
        return base if exp is None else rf"{base}^{{{exp}}}"


class ExprelOfExp(sp.Function):
    r"""``ExprelOfExp(n, y, e)`` is :math:`E_n(y)` given :math:`e = e^y` computed elsewhere.

    Used by the simulation kernels, where :math:`e^y` is shared with other rates (see
    :func:`share_exponentials`); printed as :func:`exprel_of_exp`. Not differentiated.
    """

    nargs = 3


class InvExprelOfExp(sp.Function):
    r"""``InvExprelOfExp(y, e)`` is :math:`1/E_0(y) = y/(e^y - 1)` given :math:`e = e^y`; printed
    as :func:`inv_exprel_of_exp` (one division, where ``c/ExprelOfExp(0, y, e)`` would take two).
    Not differentiated."""

    nargs = 2


def exprel_of_exp(n: int, y, ey):
    r""":math:`E_n(y)` from a precomputed :math:`e^y` (fast path for simulation).

    Closed form :math:`E_0 = (e^y - 1)/y`, :math:`E_m = (e^y - m E_{m-1})/y` for
    :math:`|y| \ge s`, a short Taylor series below; ``s`` and the number of terms depend on the
    dtype (float64: :math:`s = 10^{-3}`, 5 terms; float32: :math:`s = 10^{-1}`, 6 terms), which
    keeps the relative error near machine precision of that dtype for ``n <= 1`` and within
    ``1e-10`` (float64) for ``n <= 3``.
    """
    y = jnp.asarray(y)
    single = y.dtype == jnp.float32
    s, terms = (1e-1, 6) if single else (1e-3, 5)
    small = jnp.abs(y) < s
    ys = jnp.where(small, y, 0.0)
    coeffs = [1.0 / (math.factorial(k) * (n + k + 1)) for k in range(terms)]
    series = jnp.full_like(ys, coeffs[-1])
    for c in coeffs[-2::-1]:
        series = series * ys + c
    yl = jnp.where(small, 1.0, y)
    closed = (ey - 1.0) / yl
    for m in range(1, n + 1):
        closed = (ey - m * closed) / yl
    return jnp.where(small, series, closed)


def inv_exprel_of_exp(y, ey):
    r""":math:`1/E_0(y) = y/(e^y - 1)` from a precomputed :math:`e^y`: one division, and the
    series :math:`1 - y/2 + y^2/12 - y^4/720` near :math:`y = 0` (switch as in
    :func:`exprel_of_exp`)."""
    y = jnp.asarray(y)
    s = 1e-1 if y.dtype == jnp.float32 else 1e-3
    small = jnp.abs(y) < s
    ys = jnp.where(small, y, 0.0)
    y2 = ys * ys
    series = 1.0 - 0.5 * ys + y2 * (1.0 / 12.0 - y2 / 720.0)
    return jnp.where(small, series, y / jnp.where(small, 1.0, ey - 1.0))


class IntegerPower(sp.Function):
    """``IntegerPower(b, k)`` is ``b**k`` kept apart from sympy's automatic simplification (which
    turns ``exp(a)**k`` back into ``exp(k·a)``); printed as an integer power (multiplications).
    Not differentiated."""

    nargs = 2


MAX_POWER = 8  # exp(k·a) = exp(a)**k for integer 2 <= k <= MAX_POWER (<= 3 multiplications)


def share_exponentials(exprs: sp.Matrix) -> sp.Matrix:
    """Rewrite the entries of ``exprs`` for fast evaluation, jointly so that they share work.

    * ``Exprel(n, y) -> ExprelOfExp(n, y, exp(y))`` (its reciprocal ``1/E_0`` ->
      :class:`InvExprelOfExp`);
    * every ``exp(a + b + ...)`` is split into ``exp(a)·exp(b)…`` with constant factors folded, so
      that common subexpression elimination shares ``exp(-V/10)`` between ``exp(-V/10 - 4)`` and
      ``exp(-V/10 - 7/2)``;
    * exponentials of rational multiples of one symbol whose ratio is an integer
      ``2 <= k <= MAX_POWER`` become powers of the smallest: ``exp(-V/20) = exp(-V/80)**4``
      (HH: two exponentials of V instead of four). The power costs at most three
      multiplications and ``k`` ulp of relative error; it over- or underflows exactly where the
      exponential itself would.
    """

    def split(e):
        arg = sp.expand(e.args[0])
        const, rest = arg.as_independent(*arg.free_symbols) if arg.free_symbols else (arg, 0)
        terms = sp.Add.make_args(rest) if rest != 0 else ()
        return sp.exp(const) * sp.Mul(*[sp.exp(t) for t in terms])

    def rewrite(expr):
        expr = expr.replace(lambda e: isinstance(e, Exprel),
                            lambda e: ExprelOfExp(e.args[0], e.args[1], sp.exp(e.args[1])))
        expr = expr.replace(
            lambda e: e.is_Pow and e.exp == -1 and isinstance(e.base, ExprelOfExp)
            and e.base.args[0] == 0,
            lambda e: InvExprelOfExp(*e.base.args[1:]))
        return expr.replace(lambda e: isinstance(e, sp.exp) and e.args[0].is_Add, split)

    out = sp.Matrix(exprs).applyfunc(rewrite)
    powers = _exponential_powers(set().union(*(e.atoms(sp.exp) for e in out)))
    return out.applyfunc(lambda e: e.xreplace(powers)) if powers else out


def _exponential_powers(atoms) -> dict:
    """``{exp(k·c·x): exp(c·x)**k}`` for the atoms ``exp(c·x)`` (``c`` rational, ``x`` a symbol)
    that are integer powers 2..MAX_POWER of another atom of the same symbol (the smallest
    ``|c|`` that divides)."""
    by_symbol: dict = {}
    for atom in atoms:
        c, x = atom.args[0].as_coeff_Mul()
        if c.is_Rational and x.is_Symbol:
            by_symbol.setdefault(x, []).append((c, atom))
    powers = {}
    for items in by_symbol.values():
        items.sort(key=lambda item: abs(item[0]))
        bases = []
        for c, atom in items:
            for cb, base in bases:
                k = c / cb
                if k.is_Integer and 2 <= k <= MAX_POWER:
                    powers[atom] = IntegerPower(base, k)
                    break
            else:
                bases.append((c, atom))
    return powers


def _series_coefficients(n: int) -> tuple[float, ...]:
    return tuple(1.0 / (math.factorial(k) * (n + k + 1)) for k in range(series_terms(n)))


def exprel(n: int, y):
    r"""JAX implementation of :math:`E_n(y)`, the ``n``-th derivative of ``(e^y - 1)/y``.

    Arguments:
        n: derivative order (static Python int, ``n >= 0``).
        y: array of any shape and float dtype.

    Returns:
        :math:`E_n(y)` with the input's shape and dtype; the singular point ``y = 0`` gives the
        exact limit ``1/(n+1)``. Gradients are finite everywhere (both branches are evaluated at
        safe arguments).
    """
    if int(n) != n or n < 0:
        raise ValueError(f"exprel: order n must be a non-negative integer, got {n!r}")
    n = int(n)
    y = jnp.asarray(y)
    small = jnp.abs(y) < series_switch(n)
    ys = jnp.where(small, y, 0.0)  # series argument, kept small
    yl = jnp.where(small, 1.0, y)  # closed-form argument, kept away from 0
    coeffs = _series_coefficients(n)
    series = jnp.full_like(ys, coeffs[-1])
    for c in coeffs[-2::-1]:
        series = series * ys + c
    ey = jnp.exp(yl)
    closed = (ey - 1.0) / yl
    for m in range(1, n + 1):
        closed = (ey - m * closed) / yl
    return jnp.where(small, series, closed)


def _singular_factor(factor: sp.Expr):
    """If ``factor`` is ``1/(c(1 - e^g))`` or ``1/(c(e^g - 1))``, return ``(c_signed, g)``.

    ``c_signed`` is such that ``factor = 1 / (c_signed * (e^g - 1))``.
    """
    if not (factor.is_Pow and factor.exp == -1 and factor.base.is_Add):
        return None
    terms = factor.base.as_ordered_terms()
    if len(terms) != 2:
        return None
    for a, b in (terms, terms[::-1]):
        coeff, rest = b.as_coeff_Mul()
        if isinstance(rest, sp.exp) and a.is_number and a != 0 and sp.simplify(a + coeff) == 0:
            # a + coeff*e^g with coeff = -a  ->  coeff * (e^g - 1)
            return coeff, rest.args[0]
    return None


def _rewrite_mul(expr: sp.Mul):
    factors = list(expr.args)
    for i, factor in enumerate(factors):
        found = _singular_factor(factor)
        if found is None:
            continue
        c, g = found
        numerator = sp.Mul(*(factors[:i] + factors[i + 1 :]))
        q = sp.cancel(numerator / g)
        _, q_den = sp.fraction(q)
        if q_den.free_symbols & g.free_symbols or q.has(sp.zoo, sp.nan):
            continue
        # N / (c (e^g - 1)) = q g / (c (e^g - 1)) = (q / c) / E_0(g)
        return (q / c) / Exprel(0, g)
    return None


def remove_removable_singularities(expr: sp.Expr) -> sp.Expr:
    """Rewrite every ``q·g / (c(e^g - 1))`` pattern in ``expr`` with :class:`Exprel`.

    The result is mathematically identical to ``expr`` wherever ``expr`` is defined, and finite
    (with the correct limit) where ``expr`` had a removable ``0/0``.
    """

    def visit(e):
        if e.is_Atom:
            return e
        e = e.func(*[visit(a) for a in e.args]) if e.args else e
        if e.is_Mul:
            rewritten = _rewrite_mul(e)
            if rewritten is not None:
                return rewritten
        return e

    return visit(sp.sympify(expr))
