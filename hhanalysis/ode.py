r"""XPPAUT ``.ode`` files → :class:`~hhanalysis.models.ODEModel`.

Most single-neuron models are shared as XPPAUT files (textbooks, ModelDB). :func:`load_ode`
reads one into a symbolic model that every stage of the toolkit accepts; :func:`resolve_model`
turns a command-line ``--model`` value (a file or a library name) into a model.

What the parser understands (XPP's own leniencies included):

* equations ``x' = …`` and ``dx/dt = …``; initial data ``init x=…, y=…`` and ``x(0)=…``;
* ``par`` / ``param`` / ``p`` (a name without a value is 0), ``number`` (constants),
  ``aux name=…`` (output quantities), fixed quantities ``name=…`` and ``!name=…`` (derived
  parameters), user functions ``f(x, y)=…`` (they may call each other and use parameters and
  fixed quantities defined anywhere in the file);
* expressions with ``+ - * / ^ **``, comparisons and ``& |`` (true = 1, false = 0),
  ``if(c)then(a)else(b)``, ``heav``, ``sign``, ``exp``, ``ln``/``log``, ``log10``, ``sqrt``,
  ``abs``, ``flr``, ``mod``, ``max``, ``min``, ``atan2``, ``not``, the trigonometric and hyperbolic
  functions and ``pi``; every number is read as a float;
* comments (``#`` and ``%`` lines, text after ``#``), tutorial lines (``"``), line continuation
  with a trailing ``\``, declarations by their first letter (``p``, ``i``, ``a``, ``n``, ``d``),
  ``@`` options, named parameter sets ``set name {a=1, b=2}``, ``done`` or ``d`` ending the
  file (a missing ``done`` is fine), a first line holding only the number of equations (XPP's
  old format) is skipped; names are case-insensitive;
* arrays: ``x[1..3]' = -x[j] + x[j-1]`` expands into ``x1``, ``x2``, ``x3`` (indices in brackets
  are integer expressions of ``j``).

The ``@`` options travel with the model (``model.options``: lower-case keys, numbers as floats;
``init`` holds the initial data, ``sets`` the named parameter sets, ``source`` the file), so
:func:`hhanalysis.trajectory` integrates with the file's method, step and duration, and the AUTO
settings (``ntst``, ``ds``, ``dsmax``, ``parmin``, ``parmax``, …) are there for the analyses.
The time ``t`` may appear in the equations (a pulse ``heav(t-pon)``): such a model simulates, and
the analyses refuse it with a message (they need an autonomous model).

Not supported, with an error naming the line: ``table``, ``markov``, ``wiener``, ``global``
events, delays (``delay``, ``delshift``), Volterra integrals (``int{…}``), maps
(``x(t+1)=…``), random numbers (``ran``, ``normal``, ``poidev``), ``special`` and ``export``
declarations, ``erf``/``erfc``, ``sum(…)of(…)``, algebraic constraints ``0 = …`` (DAEs).
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import sympy as sp

from .models import ODEModel, Parameter, StateVariable

__all__ = ["OdeSyntaxError", "auto_settings", "load_ode", "resolve_model", "time_as_parameter"]

#: XPP's default value of the ``bound`` option: the state box of an imported model
#: (``StateVariable.bounds``, the default search box of the equilibria) is ``(-bound, bound)``.
XPP_BOUND = 100.0

TIME = sp.Symbol("t")


class OdeSyntaxError(ValueError):
    """A construct of an ``.ode`` file that cannot be read; the message names the line."""

    def __init__(self, message: str, line: int | None = None, source: str = "<text>"):
        where = f"{source}, line {line}: " if line is not None else f"{source}: "
        super().__init__(where + message)
        self.line = line


# --------------------------------------------------------------------------------------------
# Lines: continuation, comments, arrays
# --------------------------------------------------------------------------------------------


def _logical_lines(text: str):
    """``(line number, text)`` after joining ``\\`` continuations and dropping comments."""
    out, buf, start = [], "", None
    for k, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if start is None:
            start = k
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        stripped = buf.strip()
        buf, first = "", start
        start = None
        if not stripped or stripped[0] in "#%\"":
            if stripped.startswith("%["):
                raise OdeSyntaxError("array blocks '%[..]' are not supported", first)
            continue
        if "#" in stripped:
            stripped = stripped[: stripped.index("#")].rstrip()
            if not stripped:
                continue
        if not out and re.fullmatch(r"\d+", stripped):
            continue  # the equation count of XPP's old file format
        out.append((first, stripped))
    return out


_RANGE = re.compile(r"\[\s*(-?\d+)\s*\.\.\s*(-?\d+)\s*\]")
_INDEX = re.compile(r"\[([^\[\]]*)\]")


def _expand_arrays(lineno: int, line: str) -> list[str]:
    """Expand ``x[a..b]`` lines: one line per ``j`` with ``[expr of j]`` replaced by its value."""
    m = _RANGE.search(line)
    if m is None:
        if "[" in line and not line.lstrip().lower().startswith(("set", "s ")):
            return [_INDEX.sub(lambda k: str(_index_value(k.group(1), None, lineno)), line)]
        return [line]
    lo, hi = int(m.group(1)), int(m.group(2))
    out = []
    for j in range(lo, hi + 1):
        one = _RANGE.sub(str(j), line)
        out.append(_INDEX.sub(lambda k, j=j: str(_index_value(k.group(1), j, lineno)), one))
    return out


def _index_value(text: str, j, lineno: int) -> int:
    if not re.fullmatch(r"[\sj\d+\-*/()]*", text) or (j is None and "j" in text):
        raise OdeSyntaxError(f"array index [{text}] is not an integer expression of j", lineno)
    return int(eval(text, {"__builtins__": {}}, {"j": j}))  # noqa: S307 - digits, j, + - * / ( )


# --------------------------------------------------------------------------------------------
# Expressions
# --------------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(?P<name>[A-Za-z_][A-Za-z_0-9]*)"
    r"|(?P<op>\*\*|<=|>=|==|!=|[-+*/^(),<>&|]))"
)

_UNSUPPORTED_FUNCTIONS = {
    "delay": "delays", "delshift": "delays", "ran": "random numbers",
    "normal": "random numbers", "poidev": "random numbers", "erf": "erf", "erfc": "erfc",
    "sum": "sum(...)of(...)", "shift": "shift", "int": "Volterra integrals",
    "besselj": "Bessel functions", "bessely": "Bessel functions", "lgamma": "lgamma",
}


def _tokens(text: str, lineno: int) -> list[tuple[str, str]]:
    if re.search(r"\bsum\s*\(", text, flags=re.IGNORECASE):
        raise OdeSyntaxError("sum(...)of(...) are not supported", lineno)
    out, pos, text = [], 0, text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            rest = text[pos:].strip()
            if rest.startswith("{") or rest.startswith("int"):
                raise OdeSyntaxError("Volterra integrals int{...} are not supported", lineno)
            raise OdeSyntaxError(f"cannot read {rest[:20]!r} in {text.strip()!r}", lineno)
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _is_boolean(e) -> bool:
    return isinstance(e, sp.logic.boolalg.Boolean) and not isinstance(e, sp.Expr)


def _as_number(e) -> sp.Expr:
    """A boolean used as a number: 1 where true, 0 where false (XPP's convention)."""
    if _is_boolean(e):
        return sp.Piecewise((sp.Float(1.0), e), (sp.Float(0.0), True))
    return e


def _as_condition(e):
    if _is_boolean(e):
        return e
    return sp.Ne(e, 0)


def _power(base, exponent):
    base, exponent = _as_number(base), _as_number(exponent)
    if exponent.is_number and exponent.is_real and float(exponent) == int(float(exponent)):
        exponent = sp.Integer(int(float(exponent)))  # x^3 stays an integer power (negative x)
    return sp.Pow(base, exponent)


def _piecewise_max(a, b):
    return sp.Piecewise((a, a >= b), (b, True))


def _piecewise_min(a, b):
    return sp.Piecewise((a, a <= b), (b, True))


_FUNCTIONS = {
    "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "asin": sp.asin, "acos": sp.acos,
    "atan": sp.atan, "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh, "exp": sp.exp,
    "ln": sp.log, "log": sp.log, "log10": lambda x: sp.log(x) / sp.log(10), "sqrt": sp.sqrt,
    "abs": sp.Abs, "fabs": sp.Abs, "sign": sp.sign, "flr": sp.floor,
    "heav": lambda x: sp.Piecewise((sp.Float(1.0), x >= 0), (sp.Float(0.0), True)),
    "not": lambda x: sp.Piecewise((sp.Float(1.0), sp.Eq(x, 0)), (sp.Float(0.0), True)),
    "neg": lambda x: -x, "recip": lambda x: 1 / x,
    "atan2": sp.atan2, "mod": sp.Mod, "max": _piecewise_max, "min": _piecewise_min,
}


class _Parser:
    """Recursive descent over XPP expression syntax, straight to sympy.

    ``lookup(name_lower)`` returns a sympy expression for a name; ``call(name_lower, args)`` a
    user function's value or None.
    """

    def __init__(self, text: str, lineno: int, lookup, call):
        self.toks = _tokens(text, lineno)
        self.i, self.line, self.lookup, self.call = 0, lineno, lookup, call
        self.text = text.strip()

    def error(self, msg):
        raise OdeSyntaxError(f"{msg} in {self.text!r}", self.line)

    def peek(self, k=0):
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else (None, None)

    def take(self, value=None):
        tok = self.peek()
        if tok[0] is None or (value is not None and tok[1].lower() != value):
            self.error(f"expected {value!r}" if value else "unexpected end")
        self.i += 1
        return tok

    def parse(self):
        e = self.disjunction()
        if self.i != len(self.toks):
            self.error(f"unexpected {self.peek()[1]!r}")
        return _as_number(e)

    def disjunction(self):
        e = self.conjunction()
        while self.peek()[1] == "|":
            self.take()
            e = sp.Or(_as_condition(e), _as_condition(self.conjunction()))
        return e

    def conjunction(self):
        e = self.comparison()
        while self.peek()[1] == "&":
            self.take()
            e = sp.And(_as_condition(e), _as_condition(self.comparison()))
        return e

    _REL = {"<": sp.Lt, ">": sp.Gt, "<=": sp.Le, ">=": sp.Ge, "==": sp.Eq, "!=": sp.Ne}

    def comparison(self):
        e = self.additive()
        while self.peek()[1] in self._REL:
            op = self.take()[1]
            e = self._REL[op](_as_number(e), _as_number(self.additive()))
        return e

    def additive(self):
        e = self.multiplicative()
        while self.peek()[1] in ("+", "-"):
            op = self.take()[1]
            r = _as_number(self.multiplicative())
            e = _as_number(e) + r if op == "+" else _as_number(e) - r
        return e

    def multiplicative(self):
        e = self.unary()
        while self.peek()[1] in ("*", "/"):
            op = self.take()[1]
            r = _as_number(self.unary())
            e = _as_number(e) * r if op == "*" else _as_number(e) / r
        return e

    def unary(self):
        if self.peek()[1] in ("-", "+"):
            op = self.take()[1]
            e = _as_number(self.unary())
            return -e if op == "-" else e
        return self.power()

    def power(self):
        base = self.primary()
        if self.peek()[1] in ("^", "**"):
            self.take()
            return _power(base, self.unary())  # right associative; 2^-1 allowed
        return base

    def arguments(self):
        self.take("(")
        args = []
        if self.peek()[1] != ")":
            args.append(_as_number(self.disjunction()))
            while self.peek()[1] == ",":
                self.take()
                args.append(_as_number(self.disjunction()))
        self.take(")")
        return args

    def primary(self):
        kind, value = self.peek()
        if kind == "num":
            self.take()
            return sp.Float(float(value))
        if value == "(":
            self.take()
            e = self.disjunction()
            self.take(")")
            return e
        if kind != "name":
            self.error(f"unexpected {value!r}" if value else "unexpected end")
        self.take()
        name = value.lower()
        if name == "if" and self.peek()[1] == "(":
            self.take("(")
            cond = _as_condition(self.disjunction())
            self.take(")")
            self.take("then")
            self.take("(")
            a = _as_number(self.disjunction())
            self.take(")")
            self.take("else")
            self.take("(")
            b = _as_number(self.disjunction())
            self.take(")")
            return sp.Piecewise((a, cond), (b, True))
        if self.peek()[1] == "(":
            if name in _UNSUPPORTED_FUNCTIONS:
                raise OdeSyntaxError(f"{_UNSUPPORTED_FUNCTIONS[name]} ({value}) are not "
                                     "supported", self.line)
            args = self.arguments()
            user = self.call(name, args, self.line)
            if user is not None:
                return user
            if name in _FUNCTIONS:
                try:
                    return _FUNCTIONS[name](*args)
                except TypeError:
                    self.error(f"wrong number of arguments to {value}")
            self.error(f"unknown function {value!r}")
        if name == "pi":
            return sp.Float(math.pi)
        return self.lookup(name, self.line)


# --------------------------------------------------------------------------------------------
# Statements
# --------------------------------------------------------------------------------------------


@dataclass
class _File:
    source: str
    states: list = field(default_factory=list)          # (name, expr text, line)
    params: dict = field(default_factory=dict)          # lower -> (name, value)
    numbers: dict = field(default_factory=dict)         # lower -> value
    fixed: dict = field(default_factory=dict)           # lower -> (name, text, line)
    functions: dict = field(default_factory=dict)       # lower -> (args, text, line)
    aux: list = field(default_factory=list)             # (name, text, line)
    init: dict = field(default_factory=dict)            # lower -> (value, line)
    options: dict = field(default_factory=dict)
    sets: dict = field(default_factory=dict)
    bdry: list = field(default_factory=list)


_UNSUPPORTED_DECLARATIONS = {
    "t": "tables", "tab": "tables", "table": "tables", "m": "markov processes",
    "markov": "markov processes", "w": "wiener processes (noise)",
    "wiener": "wiener processes (noise)", "g": "global events", "global": "global events",
    "sp": "special declarations", "special": "special declarations", "e": "export",
    "export": "export", "v": "Volterra equations", "volt": "Volterra equations",
    "o": "option files", "option": "option files", "options": "option files",
}
_KEYWORDS = ("par", "param", "params", "parameter", "parameters", "p", "number", "num", "n",
             "init", "i", "aux", "a", "done", "d", "set", "s", "bdry", "bndry", "b", "only")


def _split_assignments(text: str) -> list[tuple[str, str | None]]:
    """``a=1, b = 2 c=3 d`` -> [('a','1'), ('b','2'), ('c','3'), ('d', None)]."""
    text = re.sub(r"\s*=\s*", "=", text.strip())
    out = []
    for item in re.split(r"[,\s]+", text):
        if not item:
            continue
        name, sep, value = item.partition("=")
        out.append((name, value if sep else None))
    return out


def _number(text: str, lineno: int, what: str) -> float:
    try:
        e = _Parser(text, lineno, _no_names, _no_calls).parse()
        return float(e)
    except (TypeError, OdeSyntaxError):
        raise OdeSyntaxError(f"{what}: {text!r} is not a number", lineno) from None


def _no_names(name, line):
    raise OdeSyntaxError(f"{name!r}: a number is expected here", line)


def _no_calls(name, args, line):
    return None


_NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*$")


def _check_name(name: str, lineno: int, what: str) -> str:
    if not _NAME.match(name):
        raise OdeSyntaxError(f"{what} name {name!r} is not a valid name", lineno)
    return name


def _statement(f: _File, lineno: int, line: str) -> bool:
    """Read one expanded line into ``f``; False at ``done``."""
    head, _, rest = line.partition(" ")
    key = head.lower()
    if line.startswith("@"):
        for name, value in _split_assignments(line[1:]):
            if value is None:
                continue
            try:
                f.options[name.lower()] = float(value)
            except ValueError:
                f.options[name.lower()] = value.lower()
        return True
    if line.startswith("!"):
        name, sep, text = line[1:].partition("=")
        if not sep:
            raise OdeSyntaxError("expected '!name = expression'", lineno)
        f.fixed[name.strip().lower()] = (_check_name(name.strip(), lineno, "derived"), text,
                                         lineno)
        return True
    known = key in _KEYWORDS or key in _UNSUPPORTED_DECLARATIONS or key.startswith(
        ("tab", "mark", "wien", "glob"))
    is_declaration = known and rest.strip() and not rest.lstrip().startswith("=") and not any(
        c in head for c in "='(/[")
    if is_declaration or key in ("d", "done"):
        if key in ("done", "d"):
            return False
        if key in _UNSUPPORTED_DECLARATIONS or key.startswith(("tab", "mark", "wien", "glob")):
            what = _UNSUPPORTED_DECLARATIONS.get(key) or head
            raise OdeSyntaxError(f"{what} ({head!r}) are not supported", lineno)
        if key.startswith("p") and key in _KEYWORDS:
            for name, value in _split_assignments(rest):
                value = 0.0 if value in (None, "") else _number(value, lineno, f"par {name}")
                f.params[name.lower()] = (_check_name(name, lineno, "parameter"), value)
        elif key in ("number", "num", "n"):
            for name, value in _split_assignments(rest):
                if value is None:
                    raise OdeSyntaxError(f"number {name} has no value", lineno)
                f.numbers[name.lower()] = _number(value, lineno, f"number {name}")
        elif key in ("init", "i"):
            for name, value in _split_assignments(rest):
                f.init[name.lower()] = (_number(value or "0", lineno, f"init {name}"), lineno)
        elif key in ("aux", "a"):
            name, sep, text = rest.partition("=")
            if not sep:
                raise OdeSyntaxError("expected 'aux name = expression'", lineno)
            f.aux.append((_check_name(name.strip(), lineno, "aux"), text, lineno))
        elif key in ("set", "s"):
            m = re.match(r"\s*([^{]*?)\s*\{(.*)\}\s*$", rest)
            if m is None:
                raise OdeSyntaxError("expected 'set name {a=1, b=2}'", lineno)
            values = {}
            for name, value in _split_assignments(m.group(2)):
                try:
                    values[name.lower()] = float(value)
                except (TypeError, ValueError):
                    values[name.lower()] = value
            f.sets[m.group(1)] = values
        elif key in ("bdry", "bndry", "b"):
            f.bdry.append(rest.strip())
        elif key == "only":
            pass
        else:
            raise OdeSyntaxError(f"unknown declaration {head!r}", lineno)
        return True
    lhs, sep, text = line.partition("=")
    lhs = lhs.strip()
    if not sep or not lhs or text.strip() == "":
        raise OdeSyntaxError(f"cannot read {line!r} (expected 'name = expression')", lineno)
    if lhs.endswith("'"):
        f.states.append((_check_name(lhs[:-1].strip(), lineno, "state"), text, lineno))
        return True
    m = re.fullmatch(r"d\s*(\w+)\s*/\s*dt", lhs, flags=re.IGNORECASE)
    if m:
        f.states.append((_check_name(m.group(1), lineno, "state"), text, lineno))
        return True
    m = re.fullmatch(r"(\w+)\s*\((.*)\)", lhs)
    if m:
        name, inside = m.group(1), m.group(2).strip()
        if re.fullmatch(r"t\s*\+.*", inside, flags=re.IGNORECASE):
            raise OdeSyntaxError(f"maps {lhs}=... (difference equations) are not supported",
                                 lineno)
        if re.fullmatch(r"[-+.\deE]+", inside):
            f.init[name.lower()] = (_number(text, lineno, f"{lhs}"), lineno)
            return True
        if inside.lower() == "t" and "int" in text.lower():
            raise OdeSyntaxError("Volterra equations are not supported", lineno)
        args = [a.strip().lower() for a in inside.split(",")] if inside else []
        for a in args:
            _check_name(a, lineno, "argument")
        f.functions[name.lower()] = (args, text, lineno)
        return True
    if re.fullmatch(r"0+", lhs):
        raise OdeSyntaxError("algebraic constraints (0 = ..., differential-algebraic systems) "
                             "are not supported", lineno)
    f.fixed[lhs.lower()] = (_check_name(lhs, lineno, "quantity"), text, lineno)
    return True


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------


def _read(text: str, source: str) -> _File:
    f = _File(source=source)
    try:
        for lineno, line in _logical_lines(text):
            done = False
            for one in _expand_arrays(lineno, line):
                if not _statement(f, lineno, one):
                    done = True
                    break
            if done:
                break
    except OdeSyntaxError as e:
        if source != "<text>" and not str(e).startswith(source):
            raise OdeSyntaxError(str(e).split(": ", 1)[1], e.line, source) from None
        raise
    return f


def _build(f: _File, name: str, time_unit: str) -> ODEModel:
    if not f.states:
        raise OdeSyntaxError("no differential equation (x' = ... or dx/dt = ...)",
                             None, f.source)
    state_names = {s.lower(): s for s, _, _ in f.states}
    if len(state_names) != len(f.states):  # names are case-insensitive: one equation each
        raise OdeSyntaxError("a state has two equations", None, f.source)
    symbols = {k: sp.Symbol(v) for k, v in state_names.items()}
    symbols.update({k: sp.Symbol(n) for k, (n, _) in f.params.items()})
    clash = set(state_names) & set(f.params)
    if clash:
        raise OdeSyntaxError(f"{sorted(clash)} declared both as state and parameter",
                             None, f.source)
    fixed_cache: dict = {}
    active: list = []

    def lookup(key, line, local=None):
        if local is not None and key in local:
            return local[key]
        if key in symbols:
            return symbols[key]
        if key in f.numbers:
            return sp.Float(f.numbers[key])
        if key in f.fixed:
            if key in fixed_cache:
                return fixed_cache[key]
            if key in active:
                raise OdeSyntaxError(f"{f.fixed[key][0]!r} is defined in terms of itself",
                                     f.fixed[key][2], f.source)
            active.append(key)
            _, text, fl = f.fixed[key]
            fixed_cache[key] = parse(text, fl)
            active.pop()
            return fixed_cache[key]
        if key == "t":
            return TIME
        raise OdeSyntaxError(f"unknown name {key!r}", line, f.source)

    def call(key, args, line, depth=[0]):  # noqa: B006 - recursion depth counter
        if key not in f.functions:
            return None
        params, text, fl = f.functions[key]
        if len(params) != len(args):
            raise OdeSyntaxError(f"function {key} takes {len(params)} argument(s), got "
                                 f"{len(args)}", line, f.source)
        if depth[0] > 50:
            raise OdeSyntaxError(f"function {key} calls itself", fl, f.source)
        depth[0] += 1
        try:
            local = dict(zip(params, args))
            return _Parser(text, fl, lambda k, ln: lookup(k, ln, local), call).parse()
        finally:
            depth[0] -= 1

    def parse(text, line):
        return _Parser(text, line, lookup, call).parse()

    rhs = tuple(parse(text, line) for _, text, line in f.states)
    aux = tuple((n, parse(text, line)) for n, text, line in f.aux)
    uses_time = any(TIME in sp.sympify(e).free_symbols for e in rhs + tuple(e for _, e in aux))
    init = {}
    for key, (value, line) in f.init.items():
        if key not in state_names:
            raise OdeSyntaxError(f"initial value for {key!r}, which is not a state", line,
                                 f.source)
        init[state_names[key]] = value
    options = dict(f.options)
    options["init"] = {s: init.get(s, 0.0) for s in state_names.values()}
    if f.sets:
        options["sets"] = f.sets
    if f.bdry:
        options["bdry"] = list(f.bdry)
    options["source"] = f.source
    bound = float(options.get("bound", options.get("bounds", XPP_BOUND)))
    states = tuple(StateVariable(s, "1", "", (-abs(bound), abs(bound)))
                   for s in state_names.values())
    params = tuple(Parameter(n, v) for n, v in f.params.values())
    return ODEModel(name=name, states=states, parameters=params, rhs=rhs,
                    time_unit=time_unit, aux=aux, options=options,
                    time="t" if uses_time else None)


def load_ode(source, *, name: str | None = None, time_unit: str = "1") -> ODEModel:
    """Read an XPPAUT ``.ode`` file (a path, or the text itself) into an :class:`ODEModel`.

    Arguments:
        source: a path (``str`` or :class:`pathlib.Path`) to an ``.ode`` file, or the text of
            one (any string containing a newline).
        name: the model's name (default: the file's stem, or ``'ode'`` for text).
        time_unit: the unit of time (``'ms'`` for most neuron models; frequencies in Hz need
            it). The file does not say.

    Returns:
        :class:`~hhanalysis.models.ODEModel` whose states are the file's variables in order of
        their equations, whose parameters are its ``par`` declarations (fixed quantities,
        numbers and user functions are substituted into the equations); ``model.aux`` holds the
        ``aux`` quantities and ``model.options`` the ``@`` options (plus ``init``, ``sets``,
        ``bdry``, ``source``). Each state's ``bounds`` is ``(-bound, bound)`` from XPP's
        ``bound`` option (default 100).

    Raises:
        OdeSyntaxError (a ``ValueError``): a construct that cannot be read or is not
            supported; the message names the file and line.
        FileNotFoundError: a path that does not exist.
    """
    if isinstance(source, Path) or ("\n" not in str(source)):
        path = Path(source)
        if not path.exists():
            raise FileNotFoundError(f"load_ode: no such file {str(path)!r}")
        text, label = path.read_text(errors="replace"), str(path)
        default_name = path.stem
    else:
        text, label, default_name = str(source), "<text>", "ode"
    return _build(_read(text, label), name or default_name, time_unit)


def resolve_model(name_or_path: str, **overrides) -> ODEModel:
    """A model from a command-line value: an ``.ode`` file, or a library name.

    Arguments:
        name_or_path: a path to an XPPAUT ``.ode`` file, or the name of a model of
            :mod:`hhanalysis.library` (``hodgkin_huxley``, ``morris_lecar``, ``wang_buzsaki``, …;
            ``-`` and ``_`` are interchangeable, case is ignored).
        **overrides: parameter values (for a file, names in any case, as in XPPAUT).

    Raises:
        ValueError: neither a file nor a known name (the message lists the names), or a bad
            parameter.
    """
    from . import library

    key = str(name_or_path).strip()
    path = Path(key)
    if path.suffix.lower() == ".ode" or path.exists():
        if not path.exists():
            raise ValueError(f"--model {key!r}: no such file")
        model = load_ode(path)
        by_lower = {n.lower(): n for n in model.param_names}  # XPP names ignore case
        overrides = {by_lower.get(k.lower(), k): v for k, v in overrides.items()}
        return model.with_params(**overrides) if overrides else model
    lib = library.MODELS
    canonical = key.lower().replace("-", "_")
    if canonical not in lib:
        raise ValueError(f"--model {key!r}: not an .ode file nor a library model; library "
                         f"models: {', '.join(sorted(lib))}")
    return lib[canonical](**overrides)


def time_as_parameter(model: ODEModel, value: float = 0.0) -> ODEModel:
    """The model with its time symbol turned into a parameter (default ``value``), so that the
    analyses treat the system frozen at that time (e.g. a pulse on or off)."""
    if not model.time:
        return model
    if model.time in model.param_names:
        raise ValueError(f"model {model.name!r} already has a parameter named {model.time!r}")
    time = Parameter(model.time, float(value), "", "time, as a parameter")
    return dataclasses.replace(model, parameters=model.parameters + (time,), time=None)


#: XPP/AUTO option -> ContinuationSettings field.
_AUTO_SETTINGS = {"ds": "ds", "dsmin": "ds_min", "dsmax": "ds_max", "nmax": "max_steps"}


def auto_settings(model: ODEModel) -> dict:
    """The continuation defaults a model's AUTO options ask for (an ``.ode`` file's ``@ ds,
    dsmin, dsmax, nmax, ntst, ncol, parmin, parmax``).

    Returns:
        a dict with the keys that the options determine: ``settings``
        (:class:`~hhanalysis.continuation.engine.ContinuationSettings`), ``collocation``
        (:class:`~hhanalysis.continuation.collocation.Collocation`) and ``bounds``
        (``(parmin, parmax)``), ready for ``bifurcation_diagram(model, param, **...)``.

    Raises:
        ValueError: options that make invalid settings (the message names the field).
    """
    from .continuation import Collocation, ContinuationSettings

    opts, out = model.options, {}
    fields = {ours: float(opts[xpp]) for xpp, ours in _AUTO_SETTINGS.items() if xpp in opts}
    if fields:
        if "max_steps" in fields:
            fields["max_steps"] = int(fields["max_steps"])
        if "ds" in fields:
            fields["ds"] = abs(fields["ds"])
        default = ContinuationSettings()
        ds_max = fields.get("ds_max", default.ds_max)
        ds_min = fields.get("ds_min", default.ds_min)
        fields.setdefault("ds", min(max(default.ds, ds_min), ds_max))
        out["settings"] = ContinuationSettings(**fields)
    colloc = {k: int(opts[k]) for k in ("ntst", "ncol") if k in opts}
    if colloc:
        out["collocation"] = Collocation(**colloc)
    if "parmin" in opts and "parmax" in opts:
        out["bounds"] = (float(opts["parmin"]), float(opts["parmax"]))
    return out
