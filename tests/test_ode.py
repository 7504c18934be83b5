"""XPPAUT .ode import and hh.trajectory.

References: published .ode files in tests/data/ode (SOURCES.md) and XPPAUT 6.11's own runs of
them (make_reference.sh); equilibria and Hopf points against scipy on the equations written out
here independently.
"""

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import scipy.optimize as so
from scipy.integrate import solve_ivp

import hhanalysis as hh
from hhanalysis.cli import main
from hhanalysis.ode import OdeSyntaxError, load_ode, resolve_model, time_as_parameter

DATA = Path(__file__).parent / "data" / "ode"


# --------------------------------------------------------------------------------------------
# Trajectories against XPPAUT
# --------------------------------------------------------------------------------------------

# (file, XPPAUT output, settings passed to hh.trajectory = those of make_reference.sh)
XPP_RUNS = [
    ("hh.ode", "hh.xpp.dat", {}),
    ("hr.ode", "hr.xpp.dat", {"duration": 40}),
    ("figs123.ode", "figs123.xpp.dat", {}),
    ("lecar.ode", "lecar_vvst.xpp.dat", {"set": "vvst"}),
    ("lecar.ode", "lecar_hopf.xpp.dat", {"set": ("vvst", "pp", "snic", "hopf")}),
    ("fhn.ode", "fhn.xpp.dat", {"al": 0.5}),
    ("fhn.ode", "fhn_euler.xpp.dat", {"al": 0.5, "method": "euler"}),
    ("hhred.ode", "hhred.xpp.dat", {"method": "heun", "dt": 0.01, "nout": 5, "I0": 0,
                                    "IP": 20, "PON": 5, "POFF": 25}),
    ("ck.ode", "ck.xpp.dat", {"method": "rk4", "duration": 500, "dt": 0.05, "nout": 20,
                              "x0": "first row"}),
]


def _apply_sets(model, names):
    """The file's named sets, applied cumulatively as XPPAUT does: parameters and 'total'."""
    settings = {}
    for name in (names,) if isinstance(names, str) else names:
        for key, value in model.options["sets"][name].items():
            if key == "total":
                settings["duration"] = value
            elif key in {p.lower() for p in model.param_names}:
                settings[next(p for p in model.param_names if p.lower() == key)] = value
    return settings


@pytest.mark.parametrize("fname, ref, settings", XPP_RUNS, ids=[r[1] for r in XPP_RUNS])
def test_trajectory_reproduces_xppaut(fname, ref, settings):
    model = load_ode(DATA / fname)
    xpp = np.loadtxt(DATA / ref)
    settings = dict(settings)
    if "set" in settings:
        settings.update(_apply_sets(model, settings.pop("set")))
    if settings.get("x0") == "first row":
        settings["x0"] = xpp[0, 1:1 + model.n_states]
    tr = hh.trajectory(model, **settings)
    ours = np.column_stack([tr.t, tr.states, tr.aux])
    assert ours.shape == xpp.shape
    # XPPAUT prints single precision (8 digits): relative to each column's size
    scale = np.maximum(np.abs(xpp).max(axis=0), 1e-300)
    assert np.max(np.abs(ours - xpp) / scale) < 1e-6


def test_trajectory_columns_by_name_and_aux():
    model = load_ode(DATA / "lecar.ode")
    tr = hh.trajectory(model, duration=5, iapp=0.1)
    assert tr.names == ("t", "v", "w", "cur", "ica", "ik", "rate")
    # the aux quantities are the file's expressions (written here again)
    v, w = tr["v"], tr["w"]
    minf = 0.5 * (1 + np.tanh((v + 0.01) / 0.15))
    np.testing.assert_allclose(tr["ica"], 1.0 * minf * (v - 1), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(tr["ik"], 2.0 * w * (v + 0.7), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(tr["cur"], 0.1)
    assert len(tr) == 101 and tr.t[-1] == pytest.approx(5.0)
    with pytest.raises(KeyError, match="columns"):
        tr["nope"]


@pytest.mark.parametrize("method", [
    "dopri5", pytest.param("kvaerno5", marks=pytest.mark.slow)])  # kvaerno5: ~15 s to compile
def test_adaptive_methods_agree_with_scipy(method):
    """dopri5 and kvaerno5 against scipy's DOP853 on the forced FitzHugh–Nagumo file, whose
    equations are written out here: v' = v(1-v)(v-a) - w + al sin(omega t) + I_0,
    w' = eps (v - gamma w)."""
    a, eps, gamma, I0, al, om = 0.25, 0.05, 1.0, 0.25, 0.5, 2.0

    def f(t, y):
        v, w = y
        return [v * (1 - v) * (v - a) - w + al * np.sin(om * t) + I0, eps * (v - gamma * w)]

    ref = solve_ivp(f, (0, 20), [0.0, 0.0], method="DOP853", rtol=1e-12, atol=1e-14,
                    t_eval=np.arange(0, 20.0001, 0.2))
    model = load_ode(DATA / "fhn.ode")
    tr = hh.trajectory(model, duration=20, method=method, al=al, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(tr.states, ref.y.T, rtol=0, atol=1e-8)


def test_fixed_step_orders():
    """Errors at t = 2 of dx/dt = -x + sin(t) (from text) shrink as dt, dt^2, dt^4."""
    model = load_ode("x' = -x + sin(t)\ninit x=1\n")
    exact = 1.5 * np.exp(-2.0) + 0.5 * (np.sin(2.0) - np.cos(2.0))
    for method, order in (("euler", 1), ("heun", 2), ("rk4", 4)):
        errs = [abs(hh.trajectory(model, duration=2, dt=dt, method=method)["x"][-1] - exact)
                for dt in (0.02, 0.01)]
        assert np.log2(errs[0] / errs[1]) == pytest.approx(order, abs=0.1)


def test_trajectory_bad_arguments():
    model = load_ode(DATA / "hh.ode")
    with pytest.raises(ValueError, match="duration"):
        hh.trajectory(model, duration=-1)
    with pytest.raises(ValueError, match="dt"):
        hh.trajectory(model, dt=0)
    with pytest.raises(ValueError, match="method must be one of"):
        hh.trajectory(model, method="gear2")
    with pytest.raises(ValueError, match="x0"):
        hh.trajectory(model, x0=[1.0, 2.0])
    with pytest.raises(ValueError, match="x0: unknown state"):
        hh.trajectory(model, x0={"q": 1.0})
    with pytest.raises(ValueError, match="unknown parameter"):
        hh.trajectory(model, gna=1.0)  # names keep the file's spelling: gnabar


# --------------------------------------------------------------------------------------------
# The parser
# --------------------------------------------------------------------------------------------


def test_published_files_parse_as_written():
    hh_ode = load_ode(DATA / "hh.ode")  # '%' comments, init list, user functions, 'd' ends
    assert hh_ode.state_names == ("v", "h", "n", "m")
    assert hh_ode.defaults == {"iapp": 0.0, "cm": 1.0, "gnabar": 120.0, "gkbar": 36.0,
                               "gl": 0.3, "vna": 50.0, "vk": -77.0, "vl": -54.4}
    assert hh_ode.options["init"] == {"v": -65.0, "h": 0.9, "n": 0.1, "m": 0.1}
    lecar = load_ode(DATA / "lecar.ode")  # aux, AUTO options, named sets, tutorial lines
    assert lecar.options["dsmax"] == 0.02 and lecar.options["parmax"] == 0.5
    assert lecar.options["nmax"] == 2000 and lecar.options["total"] == 30
    assert lecar.options["sets"]["hopf"] == {"v3": 0.0, "v4": 0.3, "gca": 1.1, "phi": 0.2}
    assert [n for n, _ in lecar.aux] == ["cur", "ica", "ik", "rate"]
    hhred = load_ode(DATA / "hhred.ode")  # upper case, fixed quantities, t in the equations
    assert hhred.time == "t" and hhred.options["method"] == "gear"
    assert hhred.state_names == ("v", "n") and "GNABAR" in hhred.param_names
    assert load_ode(DATA / "fhn.ode").time == "t"  # dv/dt = ... with s(t)
    ck = load_ode(DATA / "ck.ode")  # x(0)= initial data
    assert ck.options["init"]["mca"] == 0.027532 and ck.options["init"]["v"] == -54.774


def test_xpp_leniencies_and_expressions():
    text = "\n".join([
        "# comment", "PAR A=2, b", "number c=3", "!d = A*c", "f(x, y) = x^2 + y",
        "g(x) = if(x > 1)then(x)else(-x)", "X' = f(x, b) - D + heav(x) \\", "   + max(x, 1)",
        "dy/dt = g(x) + ln(2) + abs(-1) * ((x >= 0) & (y < 1)) + (x > 9 | y > 9)", "aux e = x*y",
        "x(0)=0.5", "init y=2", "@ dt=.01 total=2, meth=euler", "d", "this line is never read",
    ])
    m = load_ode(text)
    assert m.state_names == ("X", "y") and m.defaults == {"A": 2.0, "b": 0.0}
    assert m.options["init"] == {"X": 0.5, "y": 2.0}
    assert m.options["meth"] == "euler" and m.options["dt"] == 0.01
    f = m.compile().f
    p = m.param_vector()
    for x, y in ((0.5, 2.0), (-0.3, 0.2), (1.5, 0.5)):
        dx = x**2 + 0.0 - 6.0 + (1.0 if x >= 0 else 0.0) + max(x, 1.0)
        dy = (x if x > 1 else -x) + np.log(2) + float((x >= 0) and (y < 1))
        np.testing.assert_allclose(np.asarray(f(np.array([x, y]), p)), [dx, dy], rtol=1e-14)
    tr = hh.trajectory(m)
    assert tr.method == "euler" and len(tr) == 201


def test_old_format_count_line_and_set_names_with_spaces():
    m = load_ode("2\nx' = y\ny' = -x\nset constant elevation {x=1}\n")
    assert m.state_names == ("x", "y")
    assert m.options["sets"]["constant elevation"] == {"x": 1.0}


def test_arrays_expand():
    m = load_ode("x[1..3]' = -x[j] + x[j-1]\nx0' = -x0\npar k[1..2]=1\ninit x[1..3]=1\n")
    assert m.state_names == ("x1", "x2", "x3", "x0") and m.param_names == ("k1", "k2")
    x1, x2 = m.symbol("x1"), m.symbol("x2")
    assert m.rhs[1] == x1 - x2
    assert m.options["init"] == {"x1": 1.0, "x2": 1.0, "x3": 1.0, "x0": 0.0}


def test_integer_literals_become_floats():
    """Numbers are read as floats (the spelling of a literal does not change the model); only
    integer exponents stay integers, so that x^3 of a negative x is a product."""
    import sympy as sp

    m = load_ode("v' = (2 - v)/3 + v^2 - 0.5*v^3\n")
    v = m.symbol("v")
    assert sp.simplify(m.rhs[0] - ((2.0 - v) / 3.0 + v**2 - 0.5 * v**3)) == 0
    exponents = {e.exp for e in m.rhs[0].atoms(sp.Pow)}
    assert exponents <= {sp.Integer(2), sp.Integer(3), sp.Integer(-1)}
    coefficients = {a for a in m.rhs[0].atoms(sp.Number)} - exponents - {sp.Integer(-1)}
    assert coefficients and all(a.is_Float for a in coefficients)


@pytest.mark.parametrize("line, what", [
    ("table w % 3 0 2 1 2 3", "tables"),
    ("wiener nz", "wiener"),
    ("markov z 2", "markov"),
    ("global 1 x-1 {x=0}", "global events"),
    ("y' = delay(x, 1)", "delays"),
    ("y' = normal(0, 1)", "random numbers"),
    ("y(t+1) = x", "maps"),
    ("0 = x - y", "algebraic constraints"),
    ("y' = sum(0, 3)of(shift(x, i'))", "sum"),
    ("y' = x + ", "cannot read|unexpected end"),
    ("y' = x + zz", "unknown name 'zz'"),
])
def test_unsupported_constructs_name_the_line(line, what):
    text = f"x' = -x\n# a comment\n{line}\n"
    if not line.startswith("y"):
        text += "y' = 0\n"
    with pytest.raises(OdeSyntaxError, match=f"line 3: .*({what})"):
        load_ode(text)


def test_published_wiener_file_is_refused_with_its_line():
    with pytest.raises(OdeSyntaxError, match=r"ml1.ode, line 9: wiener"):
        load_ode(DATA / "ml1.ode")


def test_time_dependent_model_simulates_but_analyses_refuse():
    model = load_ode(DATA / "hhred.ode")
    with pytest.raises(ValueError, match="depends on time 't'.*autonomous"):
        hh.find_equilibria(model)
    frozen = time_as_parameter(dataclasses.replace(model, nonphysical=True), 0.0)
    assert "t" in frozen.param_names and frozen.time is None
    assert frozen.nonphysical and frozen.aux == model.aux
    assert dict(frozen.options) == dict(model.options)


# --------------------------------------------------------------------------------------------
# Analyses of imported files against independent computations
# --------------------------------------------------------------------------------------------


def _ml_koch_segev(v, w, iapp, v1=-0.01, v2=0.15, v3=0.1, v4=0.145, gca=1.0, phi=0.333,
                   vk=-0.7, vl=-0.5, gk=2.0, gl=0.5):
    """lecar.ode / figs123.ode written out: the dimensionless Morris–Lecar of Rinzel &
    Ermentrout (1998)."""
    minf = 0.5 * (1 + np.tanh((v - v1) / v2))
    winf = 0.5 * (1 + np.tanh((v - v3) / v4))
    lam = phi * np.cosh((v - v3) / (2 * v4))
    return np.array([iapp + gl * (vl - v) + gk * w * (vk - v) - gca * minf * (v - 1),
                     lam * (winf - w)])


def _jacobian(f, x, h=1e-30):
    """Complex-step Jacobian (exact to rounding)."""
    return np.array([np.imag(f(x + 1j * h * e)) / h for e in np.eye(len(x))]).T


def test_imported_equilibria_match_scipy():
    model = load_ode(DATA / "lecar.ode")
    eqs = hh.find_equilibria(model, box={"v": (-1.0, 1.5), "w": (-0.5, 1.5)})
    ours = np.array([e.x for e in eqs])
    assert len(ours) == 3  # SNIC set below the saddle-node: node, saddle, unstable node
    for x in ours:
        ref = so.fsolve(lambda z: _ml_koch_segev(z[0], z[1], 0.0), x, xtol=1e-14)
        np.testing.assert_allclose(x, ref, rtol=1e-8, atol=1e-12)


def test_imported_hopf_point_matches_scipy():
    """figs123.ode (Hopf set): f = 0 and trace J = 0 solved by scipy on the written-out
    equations, against hh.hopf_point on the imported file."""
    model = load_ode(DATA / "figs123.ode")
    pars = dict(v3=0.0, v4=0.3, gca=1.1, phi=0.2)

    def system(z):
        v, w, iapp = z
        J = _jacobian(lambda x: _ml_koch_segev(x[0], x[1], iapp, **pars), np.array([v, w]))
        return [*_ml_koch_segev(v, w, iapp, **pars), np.trace(J)]

    hp = hh.hopf_point(model, "iapp", 0.25)
    ref = so.fsolve(system, [*np.asarray(hp.x) + 1e-3, float(hp.param) + 1e-3], xtol=1e-14)
    assert float(hp.param) == pytest.approx(ref[2], rel=1e-8)
    np.testing.assert_allclose(hp.x, ref[:2], rtol=1e-8)
    J = _jacobian(lambda x: _ml_koch_segev(x[0], x[1], ref[2], **pars), ref[:2])
    assert float(hp.omega) == pytest.approx(np.sqrt(np.linalg.det(J)), rel=1e-8)


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def test_cli_model_flag(tmp_path, capsys):
    assert main(["equilibria", "--model", str(DATA / "figs123.ode")]) == 0
    assert "stable focus" in capsys.readouterr().out
    out = tmp_path / "trace.png"
    assert main(["simulate", "--model", str(DATA / "hhred.ode"), "--duration", "10",
                 "--dt", "0.01", "--out", str(out)]) == 0
    assert out.exists() and out.with_suffix(".csv").exists()
    assert main(["equilibria", "--model", str(DATA / "hhred.ode")]) == 2
    assert "autonomous" in capsys.readouterr().err
    assert main(["simulate", "--model", "traub", "--method", "rk9", "--duration", "1",
                 "--out", str(out)]) == 2
    assert "method must be one of" in capsys.readouterr().err
    assert main(["equilibria", "--model", "no_such_model"]) == 2
    err = capsys.readouterr().err
    assert "wang_buzsaki" in err and "Traceback" not in err


def test_resolve_model_names_and_files():
    assert resolve_model("Wang-Buzsaki").name == "Wang-Buzsaki"
    assert resolve_model("morris_lecar_hopf", I=90.0).defaults["I"] == 90.0
    assert resolve_model(str(DATA / "hr.ode")).n_states == 3
    assert resolve_model(str(DATA / "hhred.ode"), gnabar=100.0).defaults["GNABAR"] == 100.0
    with pytest.raises(ValueError, match="no such file"):
        resolve_model("missing.ode")


def test_auto_options_become_continuation_defaults():
    from hhanalysis.ode import auto_settings

    auto = auto_settings(load_ode(DATA / "lecar.ode"))  # @ dsmin=1e-5, dsmax=.02, nmax=2000
    assert auto["bounds"] == (-0.2, 0.5)                 # parmin=-.2 parmax=.5
    s = auto["settings"]
    assert (s.ds_min, s.ds_max, s.max_steps) == (1e-5, 0.02, 2000) and s.ds <= s.ds_max
    assert "collocation" not in auto
    m = load_ode("x' = -x + a\npar a=1\n@ ntst=50, ncol=3, ds=-0.001\n")
    auto = auto_settings(m)
    assert auto["collocation"].ntst == 50 and auto["collocation"].ncol == 3
    assert auto["settings"].ds == 0.001 and "bounds" not in auto
