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
* :func:`remove_removable_singularities` — a rewrite pass applied to every model before code
  generation. It first canonicalises the expression (:func:`rationalize_floats`: decimal
  literals become the exact rationals they stand for, and a float that sympy evaluated out of an
  exponential goes back into it), so that ints, floats, rationals and ``nsimplify`` output are
  one expression. Then in every product, at any depth (inside powers, sums, functions, user
  functions already expanded by sympy), each factor :math:`(b\,(e^{g} - 1))^k` — spelled
  ``1 - exp(g)``, ``c*exp(g) - c``, ``exp(g1) - exp(g2)`` or ``sinh`` — whose product also holds
  :math:`|k|` powers of :math:`g` (times any constant or parameter) becomes
  :math:`(b\,g\,E_0(g))^k` and the powers of :math:`g` cancel exactly. What remains singular is a
  genuine pole (:func:`poles` lists the denominators; the analyses name the state and value).
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import sympy as sp

__all__ = ["Exprel", "ExprelOfExp", "exprel", "exprel_of_exp", "inv_exprel_of_exp", "poles",
           "rationalize_floats", "remove_removable_singularities", "share_exponentials"]



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


def _float_to_rational(f: float) -> sp.Rational:
    """The rational a float literal stands for: its shortest decimal representation when that
    is short (``0.1 -> 1/10``), else a fraction with a small denominator within 4 ulp
    (``1/18`` for ``0.05555555555555555``, what ``-(V + 60.0)/18.0`` leaves), else the decimal."""
    text = repr(float(f))
    digits = text.split("e")[0].replace("-", "").replace(".", "").strip("0")
    if len(digits) <= 12:
        return sp.Rational(text)
    q = sp.Rational(float(f)).limit_denominator(10**6)
    if abs(float(q) - float(f)) <= 4 * math.ulp(float(f)):
        return q
    return sp.Rational(text)


def _exp_constant(c: float):
    """``r`` with ``c = ±e^r`` for a short rational ``r`` (denominator up to 10^4, within
    16 ulp), else None: sympy evaluates ``exp(-(V + 35.0)/10.0)`` to
    ``0.0301973834223185*exp(-0.1*V)``; ``r = -7/2`` restores ``exp(-V/10 - 7/2)``."""
    if c == 0 or not math.isfinite(c):
        return None
    r = sp.Rational(math.log(abs(c))).limit_denominator(10**4)
    if r != 0 and abs(math.exp(float(r)) - abs(c)) <= 16 * math.ulp(abs(c)):
        return r
    return None


def rationalize_floats(expr: sp.Expr) -> sp.Expr:
    r"""Replace every Float literal by the exact rational it stands for.

    ``0.1`` becomes ``1/10`` (not the binary fraction nearest to 0.1), so that a numerator
    ``0.1*(V + 35)`` and an exponent ``-(V + 35)/10`` vanish at exactly the same point, as the
    user meant; printed back, each rational gives the same double as the literal did (to a few
    ulp for fractions such as ``1/18``). A long float coefficient of an exponential that is
    :math:`\pm e^r` for a short rational :math:`r` (sympy evaluates ``exp(-3.5)`` out of
    ``exp(-0.1*V - 3.5)``) goes back into the exponent. Integral float exponents become integers
    (``n**4.0 -> n**4``).
    """
    expr = sp.sympify(expr)
    if not expr.atoms(sp.Float):
        return expr

    def has_long_float_and_exp(e):
        return e.is_Mul and any(isinstance(a, sp.exp) for a in e.args) and any(
            isinstance(a, sp.Float) and _exp_constant(float(a)) is not None
            and len(repr(float(a))) > 14 for a in e.args)

    def fold(e):
        args = list(e.args)
        for i, a in enumerate(args):
            if isinstance(a, sp.Float) and len(repr(float(a))) > 14:
                r = _exp_constant(float(a))
                if r is not None:
                    j = next(j for j, b in enumerate(args) if isinstance(b, sp.exp))
                    args[j] = sp.exp(args[j].args[0] + r)
                    args[i] = sp.Integer(1 if float(a) > 0 else -1)
                    break
        return sp.Mul(*args)

    expr = expr.replace(has_long_float_and_exp, fold)
    return expr.xreplace({f: _float_to_rational(f) for f in expr.atoms(sp.Float)})


def _two_exponential_terms(base: sp.Expr):
    """``(b, g)`` with ``base == b·(e^g − 1)`` for a base ``c₁e^{g₁} + c₂e^{g₂}`` with
    ``c₁ + c₂ = 0`` (``g₂ = 0`` gives the usual ``c(e^g − 1)``; ``sinh(u) = e^{−u}(e^{2u} − 1)/2``),
    or None. ``g`` must depend on some symbol."""
    if isinstance(base, sp.sinh):
        u = base.args[0]
        return (sp.exp(-u) / 2, 2 * u) if u.free_symbols else None
    if not base.is_Add:
        return None
    terms = sp.Add.make_args(sp.expand(base, deep=False, mul=True, multinomial=False,
                                       power_exp=False, power_base=False, log=False))
    if len(terms) != 2:
        return None
    split = []
    for t in terms:
        coeff, exps = sp.S.One, sp.S.Zero
        for f in sp.Mul.make_args(t):
            if isinstance(f, sp.exp) and f.args[0].free_symbols:
                exps += f.args[0]
            else:
                coeff *= f
        if coeff.has(sp.exp) and any(e.args[0].free_symbols for e in coeff.atoms(sp.exp)):
            return None
        split.append((coeff, exps))
    if split[0][1] == 0:  # the constant term second: b = c1, g = g1, no extra exponential
        split.reverse()
    (c1, g1), (c2, g2) = split
    g = sp.expand(g1 - g2)
    if not g.free_symbols or sp.expand(c1 + c2) != 0:
        return None
    return c1 * sp.exp(g2), g


def _multiple_of(P: sp.Expr, g: sp.Expr):
    """``r`` with ``P = r·g`` and ``r`` a constant or a rational function that does not vanish
    or blow up where ``g`` does (its numerator and denominator share no factor with ``g``'s
    numerator), or None."""
    if not (P.free_symbols & g.free_symbols) or P.has(sp.exp, Exprel):
        return None
    try:
        r = sp.factor(sp.cancel(P / g))
    except sp.PolynomialError:
        return None
    gnum = sp.fraction(sp.together(g))[0]
    for part in sp.fraction(sp.together(r)):
        if part.free_symbols & gnum.free_symbols and sp.gcd(part, gnum).free_symbols:
            return None
    return r


def _rewrite_mul(expr: sp.Expr):
    """Rewrite the singular factors ``(b(e^g − 1))^k`` of one product, if the product's
    polynomial factors supply ``g^{−k}`` (then ``(b(e^g − 1))^k = (b g E_0(g))^k`` and the
    powers of ``g`` cancel exactly); None when nothing was rewritten."""
    factors = list(sp.Mul.make_args(expr))
    changed = False
    for i in range(len(factors)):
        base, k = factors[i].as_base_exp()
        if not (k.is_Integer and k != 0):
            continue
        found = _two_exponential_terms(base)
        if found is None:
            continue
        b, g = found
        need, new = abs(int(k)), dict()
        for j, fac in enumerate(factors):
            if j == i or need == 0:
                continue
            P, m = fac.as_base_exp()
            if not (m.is_Integer and (m > 0) != (k > 0)):
                continue
            r = _multiple_of(P, g)
            if r is None:
                continue
            t = min(need, abs(int(m)))
            sign = 1 if m > 0 else -1
            # P^m = r^(sign t) g^(sign t) P^(m - sign t); g^(sign t) cancels with g^k
            new[j] = r ** (sign * t) * P ** (m - sign * t)
            need -= t
        if need:
            continue
        for j, value in new.items():
            factors[j] = value
        factors[i] = (b * Exprel(0, g)) ** k
        changed = True
    return sp.Mul(*factors) if changed else None


def remove_removable_singularities(expr: sp.Expr) -> sp.Expr:
    r"""Rewrite every removable :math:`0/0` of the exponential kind in ``expr`` with
    :class:`Exprel`.

    The expression is first canonicalised (:func:`rationalize_floats`: decimal literals become
    exact rationals, so the spelling — ints, floats, rationals, ``nsimplify`` — does not matter).
    Then, in every product (inside powers, sums, functions, at any depth), each factor
    :math:`(b\,(e^{g} - 1))^{k}` with integer :math:`k \ne 0` — written ``1 - exp(g)``,
    ``c*exp(g) - c``, ``exp(g1) - exp(g2)``, ``sinh(u)``, … — whose product also holds
    :math:`|k|` powers of :math:`g` in its polynomial factors (``(V + 35)/10`` for
    :math:`g = -(V + 35)/10`, with any constant or parameter factor) is replaced by
    :math:`(b\,g\,E_0(g))^{k}`, and the powers of :math:`g` cancel exactly. The result equals
    ``expr`` wherever ``expr`` is defined, and is finite with the correct limit (and derivatives)
    where ``expr`` had a removable ``0/0``. Factors whose zero is not cancelled are genuine poles
    and are left as they are (see :func:`poles`).
    """

    def visit(e):
        if e.is_Atom:
            return e
        e = e.func(*[visit(a) for a in e.args]) if e.args else e
        if e.is_Mul or e.is_Pow:
            rewritten = _rewrite_mul(e)
            if rewritten is not None:
                return rewritten
        return e

    return visit(rationalize_floats(expr))


def poles(expr: sp.Expr) -> list[sp.Expr]:
    """Denominators of ``expr`` that depend on a symbol (the bases of its negative powers, other
    than :class:`Exprel`, which is positive). After :func:`remove_removable_singularities` these
    are where a model can be genuinely singular; used to name the place in error messages."""
    out = []
    for e in sp.preorder_traversal(expr):
        if (e.is_Pow and e.exp.is_negative and e.base.free_symbols
                and not isinstance(e.base, Exprel) and e.base not in out):
            out.append(e.base)
    return out
