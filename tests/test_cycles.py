"""Periodic orbits: collocation solver, analytic oracles, AUTO-07p's HH cycle branches, scipy."""

import dataclasses
import json
import math
from pathlib import Path

import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.integrate
import scipy.optimize
import sympy as sp
from hypothesis import given, settings

import hhanalysis as hh
from hhanalysis.continuation import Collocation, Status, collocation
from hhanalysis.models import ODEModel, Parameter, StateVariable

REF = json.loads((Path(__file__).parent / "data" / "auto07p_hh_cycles.json").read_text())


# ------------------------------------------------------------------ the collocation system


def _random_point(model, ntst=12, ncol=4, seed=0):
    """A smooth periodic guess on a random mesh (not a solution)."""
    rng = np.random.default_rng(seed)
    disc = collocation.Discretisation(model.n_states, ntst, ncol)
    mesh = np.sort(np.r_[0.0, rng.uniform(0.05, 0.95, ntst - 1), 1.0])
    tau = disc.node_times(mesh)[:, None]
    X = np.column_stack([-60 + 20 * np.sin(2 * np.pi * tau),
                         0.4 + 0.2 * np.cos(2 * np.pi * tau + np.arange(model.n_states - 1))])
    X = X + 0.01 * rng.normal(size=X.shape)
    u = jnp.asarray(disc.pack(X, 12.0, 8.0))
    args = (jnp.asarray(model.param_vector()), jnp.asarray(np.diff(mesh)))
    return disc, u, args, rng


@pytest.mark.usefixtures("x64")
@pytest.mark.parametrize("ntst", [7, 12, 16])
def test_structured_bordered_solve_equals_dense_solve(ntst):
    model = hh.hodgkin_huxley(preset="classic")
    prob = collocation.collocation_problem(model.compile(), model.param_names.index("I"), ntst, 4)
    disc, u, args, rng = _random_point(model, ntst)
    ref = u + 0.01 * jnp.asarray(rng.normal(size=u.size))
    c = jnp.asarray(rng.normal(size=u.size))
    b = jnp.asarray(rng.normal(size=u.size))
    delta, pair = jax.jit(prob.solve)(u, args, ref, c, b)
    A = jnp.vstack([prob.dF(u, args, ref), c[None, :]])
    np.testing.assert_allclose(delta, np.linalg.solve(np.asarray(A), np.asarray(b)),
                               rtol=1e-8, atol=1e-9 * float(jnp.abs(delta).max()))
    # the reduced variational pair (E, F) satisfies E y_0 + F y_N = 0 for the y_N = S y_0 of a
    # dense elimination of all interior nodes of d(coll)/dX (T and lambda fixed)
    E, F = np.asarray(pair)
    J = np.asarray(prob.dF(u, args, ref))[:ntst * 16, :-2]
    first, inner, last = J[:, :4], J[:, 4:-4], J[:, -4:]
    S = np.linalg.solve(np.hstack([inner, last]), -first)[-4:]
    assert np.abs(E + F @ S).max() <= 1e-9 * (np.abs(E).max() + np.abs(F).max() * np.abs(S).max())


@pytest.mark.usefixtures("x64")
def test_collocation_jacobian_matches_central_differences():
    model = hh.hodgkin_huxley()
    prob = collocation.collocation_problem(model.compile(), model.param_names.index("I"), 12, 4)
    disc, u, args, rng = _random_point(model, 12, seed=1)
    J = np.asarray(prob.dF(u, args, u))
    for _ in range(3):
        v = rng.normal(size=u.size)
        h = 1e-6
        fd = (np.asarray(prob.residual(u + h * v, args, u))
              - np.asarray(prob.residual(u - h * v, args, u))) / (2 * h)
        np.testing.assert_allclose(J @ v, fd, rtol=1e-5, atol=1e-6 * np.abs(fd).max())


def test_basis_is_exact_for_polynomials_and_gauss_rule_integrates_degree_2m_minus_1():
    for m in range(2, 8):
        b = collocation.basis(m)
        coef = np.random.default_rng(m).normal(size=m + 1)
        p = np.polynomial.Polynomial(coef)
        np.testing.assert_allclose(b.L @ p(b.nodes), p(b.gauss), atol=1e-11)
        np.testing.assert_allclose(b.D @ p(b.nodes), p.deriv()(b.gauss), atol=1e-9)
        q = np.polynomial.Polynomial(np.random.default_rng(m + 10).normal(size=2 * m))
        assert b.weights @ q(b.gauss) == pytest.approx(q.integ()(1.0) - q.integ()(0.0),
                                                       abs=1e-12)


# ------------------------------------------------------------------ analytic oracle


def _stuart_landau(omega=2.0):
    x, y = sp.symbols("x y")
    mu, w = sp.symbols("mu omega")
    r2 = x**2 + y**2
    return ODEModel(
        name="Stuart-Landau",
        states=(StateVariable("x", "1", "", (-3, 3)), StateVariable("y", "1", "", (-3, 3))),
        parameters=(Parameter("mu", -1.0, "1", "growth"), Parameter("omega", omega, "1", "")),
        rhs=(mu * x - w * y - x * r2, w * x + mu * y - y * r2),
    )


def test_stuart_landau_amplitude_period_and_floquet_exponent():
    """x' = mu x - w y - x r^2, y' = w x + mu y - y r^2: the cycle r = sqrt(mu), T = 2 pi / w,
    non-trivial multiplier exp(-2 mu T)."""
    model = _stuart_landau()
    eq = hh.continue_equilibria(model, "mu", -1.0, 1.0)
    (h,) = eq.hopf_points
    assert h.param == pytest.approx(0.0, abs=1e-12)
    assert h.data.criticality == "supercritical"
    br = hh.continue_cycles(model, h, (-1.0, 1.0), user_points=(0.25, 0.64),
                            collocation=Collocation(ntst=20, ncol=4))
    assert br.status is Status.REACHED_BOUND and br.stop_reason == "reached the bound mu=1"
    assert br.param[-1] == pytest.approx(1.0, abs=1e-9)  # the last orbit is at the bound
    assert "criticality check passed" in br.notes[0]
    uz = [s for s in br.special_points if s.kind == "uz"]
    assert [s.status for s in uz] == [Status.CONVERGED, Status.CONVERGED]
    T = 2 * math.pi / 2.0
    for s in uz:
        assert s.period == pytest.approx(T, rel=1e-10)
        np.testing.assert_allclose(s.data.x_max, math.sqrt(s.param), rtol=1e-9)
        np.testing.assert_allclose(s.data.floquet_multipliers, [math.exp(-2 * s.param * T)],
                                   rtol=1e-8)
    np.testing.assert_allclose(br.x_max[:, 0], np.sqrt(br.param), rtol=1e-9)
    np.testing.assert_allclose(br.period, T, rtol=1e-10)
    assert br.stable.all() and br.trivial_error.max() < 1e-7


# ------------------------------------------------------------------ HH against AUTO-07p


@pytest.fixture(scope="module", params=["brainpy", "classic"])
def hh_cycles(request):
    preset = request.param
    model = hh.hodgkin_huxley(preset=preset)
    eq = hh.continue_equilibria(model, "I", 0.0, 200.0)
    uz = sorted({round(p["I"], 6) for b in REF[preset]["branches"].values() for p in b["uz"]})
    br = hh.continue_cycles(model, eq.hopf_points[0], (-10.0, 200.0), user_points=uz)
    return preset, model, eq, br


def test_branch_from_lower_hopf_ends_at_upper_hopf(hh_cycles):
    preset, _, eq, br = hh_cycles
    assert br.status is Status.RETURNED_TO_HOPF
    assert "returned to an equilibrium" in br.stop_reason
    h2 = eq.hopf_points[1].param
    assert abs(br.param[-1] - h2) < 0.01 * h2
    assert 0 <= br.param.min() - min(p["I"] for p in REF[preset]["LPC"]) < 0.05
    assert "criticality check passed" in br.notes[0]


def test_lpc_and_pd_points_match_auto(hh_cycles):
    preset, _, _, br = hh_cycles
    for kind, found in (("lpc", REF[preset]["LPC"]), ("pd", REF[preset]["PD"])):
        refs = []  # one entry per point (AUTO found some in both runs)
        for r in found:
            if all(abs(r["I"] - q["I"]) > 1e-6 * abs(q["I"]) for q in refs):
                refs.append(r)
        ours = [s for s in br.special_points if s.kind == kind]
        assert len(ours) == len(refs), (kind, ours)
        for ref in refs:
            s = min(ours, key=lambda s: abs(s.param - ref["I"]))
            assert s.status is Status.CONVERGED
            assert s.param == pytest.approx(ref["I"], rel=1e-6)
            assert s.period == pytest.approx(ref["period_ms"], rel=1e-6)


def test_branch_switching_at_period_doubling_reaches_the_second_pd(hh_cycles):
    """Classic preset: the period-doubled branch from the first PD (AUTO-07p: I = 7.845337398,
    T = 17.15852059) starts at twice that period and joins the primary branch again at the
    second PD (AUTO-07p with DSMAX = 0.01: I = 7.917777676, T = 20.68216473), where its orbit is
    the primary one traversed twice."""
    preset, model, _, br = hh_cycles
    if preset != "classic":
        pytest.skip("the brainpy preset has no period doubling on this branch")
    pd1, pd2 = sorted(REF[preset]["PD"], key=lambda r: r["I"])
    start = min((s for s in br.special_points if s.kind == "pd"),
                key=lambda s: abs(s.param - pd1["I"]))
    doubled = hh.continue_cycles(model, start, (5.0, 12.0))
    assert doubled.period[0] == pytest.approx(2 * pd1["period_ms"], rel=1e-5)  # one step away
    assert doubled.status is Status.RETURNED_TO_PD
    assert doubled.param[-1] == pytest.approx(pd2["I"], abs=1e-5)
    assert doubled.period[-1] == pytest.approx(2 * pd2["period_ms"], rel=1e-5)
    assert np.all(doubled.period > 1.9 * pd1["period_ms"])
    with pytest.raises(ValueError, match="period-doubling point"):
        hh.continue_cycles(model, dataclasses.replace(start, data=None), (5.0, 12.0))


def test_user_points_match_auto_period_amplitude_and_stability(hh_cycles):
    preset, _, _, br = hh_cycles
    uz = [s for s in br.special_points if s.kind == "uz"]
    checked = 0
    for name, b in REF[preset]["branches"].items():
        for ref in b["uz"]:
            cands = [s for s in uz if abs(s.param - ref["I"]) < 1e-6]
            assert cands, (name, ref)
            s = min(cands, key=lambda s: abs(s.period - ref["period_ms"]))
            assert s.status is Status.CONVERGED
            assert s.period == pytest.approx(ref["period_ms"], rel=1e-6)
            assert s.data.x_max[0] == pytest.approx(ref["Vmax"], abs=0.02)
            assert s.data.x_min[0] == pytest.approx(ref["Vmin"], abs=0.02)
            assert bool(np.all(np.abs(s.data.floquet_multipliers) < 1)) == ref["stable"]
            checked += 1
    assert checked >= 12


def test_stability_flags_agree_with_auto_table(hh_cycles):
    """Every AUTO table row that our branch brackets in I (with a matching period) has the same
    stability at both ends of our bracketing step, unless a special point lies in that step."""
    preset, _, _, br = hh_cycles
    special = {s.index for s in br.special_points if s.kind in ("lpc", "pd", "ns")}
    compared = 0
    for name, b in REF[preset]["branches"].items():
        for I, T, stable, _ in b["table"][1:]:
            k = np.flatnonzero((br.param[:-1] - I) * (br.param[1:] - I) <= 0)
            w = (I - br.param[k]) / (br.param[k + 1] - br.param[k] + 1e-300)
            Tk = br.period[k] + w * (br.period[k + 1] - br.period[k])
            good = k[np.abs(Tk - T) < 0.01 * T]
            for j in good:
                if j in special or j - 1 in special or j + 1 in special:
                    continue
                assert br.stable[j] == stable and br.stable[j + 1] == stable, (name, I, T)
                compared += 1
    assert compared >= 40


def test_trivial_multiplier_is_one(hh_cycles):
    _, _, _, br = hh_cycles
    assert br.trivial_error[br.stable].max() < 1e-6
    assert br.trivial_error.max() < 1e-3  # also where multipliers reach 1e12


def test_stable_orbit_agrees_with_scipy_radau(hh_cycles):
    """Ten periods of scipy Radau (rtol 1e-10) from the orbit's start stay on the orbit."""
    _, model, _, br = hh_cycles
    k = int(np.argmin(np.where(br.stable, np.abs(br.param - 10.0), np.inf)))
    I, T = float(br.param[k]), float(br.period[k])
    cm = model.compile()
    p = model.param_vector(I=I)
    t, X = br.orbit(k, points=201)
    ev = lambda _, x: x[0] + 20.0  # noqa: E731 - upward crossings of V = -20 mV
    ev.direction = 1
    sol = scipy.integrate.solve_ivp(
        lambda _, x: np.asarray(cm.f(x, p)), (0, 10 * T), X[0], method="Radau", rtol=1e-10,
        atol=1e-12, dense_output=True, events=ev,
        jac=lambda _, x: np.asarray(cm.jac_x(x, p)))
    for period in range(10):
        Y = sol.sol(t + period * T).T
        assert np.abs(Y[:, 0] - X[:, 0]).max() < 1e-4
    assert np.mean(np.diff(sol.t_events[0])) == pytest.approx(T, rel=1e-6)


# ------------------------------------------------------------------ normal form (FHN)


def test_fitzhugh_nagumo_small_cycles_follow_the_normal_form():
    """Near a Hopf point the amplitude of component j is 4 |q_j| sqrt(-mu'(p - p_H)/(omega l1))
    to leading order (Kuznetsov's normalisation <q, q> = 1, <p, q> = 1)."""
    model = hh.fitzhugh_nagumo()
    eq = hh.continue_equilibria(model, "I", 0.0, 1.0)
    h = eq.hopf_points[0]
    d = 1e-6
    re = [np.max(hh.find_equilibria(model, I=h.param + s).eigenvalues[0].real) for s in (-d, d)]
    dmu = (re[1] - re[0]) / (2 * d)
    from hhanalysis.equilibria import equilibrium_at
    from hhanalysis.spectra import center_manifold

    cmf = center_manifold(equilibrium_at(model, h.state, {**h.params}))
    br = hh.continue_cycles(model, h, (-1.0, 2.0),
                            settings=hh.ContinuationSettings(ds=0.002, ds_max=0.01,
                                                             max_steps=12),
                            collocation=Collocation(ntst=40, ncol=4))
    small = np.abs(br.param - h.param) < 2e-3
    assert small.sum() >= 3
    amp = br.x_max[small] - br.x_min[small]
    pred = 4 * np.abs(cmf.q)[None, :] * np.sqrt(
        np.abs(-dmu * (br.param[small] - h.param) / (h.data.omega * cmf.l1)))[:, None]
    np.testing.assert_allclose(amp, pred, rtol=0.05)
    # the amplitude grows on the side the sign of l1 predicts
    assert np.sign(br.param[small] - h.param).tolist() == [np.sign(-cmf.l1 * dmu)] * small.sum()


# ------------------------------------------------------------------ diagram, files, errors


@pytest.fixture(scope="module")
def classic_diagram(hh_diagrams):
    """The classic preset's diagram over I in [-10, 200] (``hh.bifurcation_diagram``, shared
    with the other test modules through tests/conftest.py)."""
    d = hh_diagrams["classic"]
    assert d.model == hh.hodgkin_huxley(preset="classic") and d.param_name == "I"
    return d


def test_auto_md_quotes_the_diagram_as_printed(classic_diagram):
    """docs/auto.md shows the printed classic diagram: every line is the code's output (a line
    cut with '…' is a prefix of it), so no number there can go stale."""
    text = (Path(__file__).parents[1] / "docs" / "auto.md").read_text()
    block = text.split('print(hh.bifurcation_diagram(hh.hodgkin_huxley(preset="classic")')[1]
    block = block.split("```text\n")[1].split("```")[0].splitlines()
    printed = repr(classic_diagram).splitlines()[1:]
    assert len(block) == len(printed)
    for doc, code in zip(block, printed):
        head, cut, tail = doc.partition("…")
        assert (code.startswith(head) and code.endswith(tail)) if cut else doc == code, (doc, code)


def test_diagram_numbers_and_roundtrip(classic_diagram, tmp_path):
    d = classic_diagram
    assert len(d.cycles) == 1 and len(d.hopf_points) == 2
    (lo, hi), = d.bistable_ranges()
    assert lo == pytest.approx(REF["classic"]["LPC"][0]["I"], rel=1e-6)
    assert hi == pytest.approx(REF["classic"]["hopf"][0]["I"], rel=1e-8)
    # the slowest stable orbit is the lowest fold of cycles (AUTO-07p's, tests/data)
    lowest = min(REF["classic"]["LPC"], key=lambda p: p["I"])
    I_min, f_min = d.minimum_frequency
    assert I_min == pytest.approx(lowest["I"], rel=1e-6)
    assert f_min == pytest.approx(1000 / lowest["period_ms"], rel=1e-6)
    path = d.save(tmp_path / "diagram.npz")
    e = hh.BifurcationDiagram.load(path)
    np.testing.assert_array_equal(e.cycles[0].period, d.cycles[0].period)
    assert [s.param for s in e.lpc_points] == [s.param for s in d.lpc_points]
    assert e.model.defaults == d.model.defaults
    assert [b.stop for b in e.cycles + e.equilibria] == [b.stop for b in d.cycles + d.equilibria]
    h0, h1 = d.hopf_points[0], e.hopf_points[0]
    assert h1.status is Status.CONVERGED and h1.data.l1 == h0.data.l1
    np.testing.assert_array_equal(h1.data.eigenvector, h0.data.eigenvector)
    lpc0, lpc1 = d.lpc_points[0], e.lpc_points[0]
    np.testing.assert_array_equal(lpc1.data.floquet_multipliers, lpc0.data.floquet_multipliers)
    files = d.to_csv(tmp_path / "csv")
    rows = (tmp_path / "csv" / "cycles_0.csv").read_text().splitlines()
    assert len(rows) == len(d.cycles[0]) + 1 and rows[0].startswith("I,period,frequency_Hz")
    assert any(p.name == "special_points.csv" for p in files)


def _as_format_1(path, out):
    """The diagram file rewritten as format 1 wrote it: flat special-point records (every
    optional field on the record) and a stop_reason text per branch."""
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays.pop("meta")))
    meta["format"] = 1
    for kind in ("equilibria", "cycles"):
        for m in meta[kind]:
            m["stop_reason"] = hh.continuation.Stop.from_json(m.pop("stop")).message(
                meta["param_name"])
            for rec in m["special_points"]:
                data = rec.pop("data") or {}
                tag = data.pop("type", None)
                if tag == "fold":
                    data["eigenvector"] = data.pop("null_vector")
                    data.pop("a")
                if tag == "hopf":
                    data["period"] = 2 * math.pi / data["omega"]
                rec.update(data)
    np.savez_compressed(out, meta=np.asarray(json.dumps(meta)), **arrays)
    return out


def test_format_1_diagram_files_still_load(classic_diagram, tmp_path):
    d = classic_diagram
    old = _as_format_1(d.save(tmp_path / "new.npz"), tmp_path / "old.npz")
    e = hh.BifurcationDiagram.load(old)
    assert [b.status for b in e.cycles] == [Status.RETURNED_TO_HOPF]
    assert [b.stop_reason for b in e.cycles + e.equilibria] == \
        [b.stop_reason for b in d.cycles + d.equilibria]
    for a, b in zip(d.special_points("hopf") + d.lpc_points, e.special_points("hopf")
                    + e.lpc_points):
        assert (b.kind, b.param, b.status, b.period) == (a.kind, a.param, a.status, a.period)
        assert type(b.data) is type(a.data)
    assert e.hopf_points[0].data.l1 == d.hopf_points[0].data.l1


def test_diagram_plot_has_the_seed_colours(classic_diagram):
    import matplotlib.pyplot as plt

    ax = classic_diagram.plot()
    colours = {line.get_color() for line in ax.lines}
    assert {"tab:red", "black", "tab:green", "tab:blue"} <= colours
    labels = {t.get_text() for t in ax.texts}
    assert "H" in labels and any("LPC" in t for t in labels)
    ax2 = classic_diagram.plot_frequency()
    assert any("minimum rate 50.3 Hz" in (t.get_text()) for t in ax2.get_legend().texts)
    plt.close("all")


def test_bad_input_is_named():
    model = hh.hodgkin_huxley()
    eq = hh.continue_equilibria(model, "I", 0.0, 10.0)
    with pytest.raises(ValueError, match="start must be a Hopf or period-doubling SpecialPoint"):
        hh.continue_cycles(model, 6.5)
    with pytest.raises(ValueError, match="stop"):
        hh.continue_cycles(model, eq.hopf_points[0], (5.0, 1.0))
    with pytest.raises(ValueError, match="max_period"):
        hh.continue_cycles(model, eq.hopf_points[0], max_period=-1.0)
    with pytest.raises(ValueError, match="bounds"):
        hh.bifurcation_diagram(model, "I", (10, 0))
    with pytest.raises(ValueError, match="bifurcation parameter"):
        hh.bifurcation_diagram(model, "Iext", (0, 10))


BAD_NTST = st.one_of(st.integers(-5, 1), st.floats(2, 50))
BAD_NCOL = st.one_of(st.integers(-3, 1), st.integers(8, 20), st.floats(2, 7))


@settings(max_examples=30, deadline=None)
@given(ntst=BAD_NTST, ncol=st.integers(2, 7))
def test_collocation_ntst_validated(ntst, ncol):
    """Only ntst is invalid: deleting the ntst check makes this fail."""
    with pytest.raises(ValueError, match=r"Collocation\.ntst"):
        Collocation(ntst=ntst, ncol=ncol)


@settings(max_examples=30, deadline=None)
@given(ntst=st.integers(2, 400), ncol=BAD_NCOL)
def test_collocation_ncol_validated(ntst, ncol):
    """Only ncol is invalid: deleting the ncol check makes this fail."""
    with pytest.raises(ValueError, match=r"Collocation\.ncol"):
        Collocation(ntst=ntst, ncol=ncol)


@settings(max_examples=20, deadline=None)
@given(ntst=st.integers(2, 400), ncol=st.integers(2, 7))
def test_collocation_valid_settings_accepted(ntst, ncol):
    c = Collocation(ntst=ntst, ncol=ncol)
    assert (c.ntst, c.ncol) == (ntst, ncol)


def test_period_bound_stops_the_morris_lecar_branch_at_its_snic():
    """Morris-Lecar (SNIC set): the cycles born at the subcritical Hopf point fold, then their
    period diverges as they approach the saddle-node on the invariant circle at the fold of
    equilibria; the period bound stops the branch there and says why."""
    model = hh.morris_lecar()
    eq = hh.continue_equilibria(model, "I", 150.0, 0.0)
    (h,) = eq.hopf_points
    fold = hh.continue_equilibria(model, "I", 0.0, 150.0).folds[0].param
    br = hh.continue_cycles(model, h, (0.0, 150.0), max_period=300.0)
    assert br.status is Status.SNIC and br.end.kind == "snic"
    assert "above max_period=300" in br.stop_reason and br.period[-1] > 300
    assert "saddle-node on an invariant circle" in br.stop_reason
    assert br.end.param == pytest.approx(fold, rel=1e-9)  # the fold of the equilibrium branch
    assert br.period[:-1].max() <= 300
    assert 0 < br.param[-1] - fold < 1.0
    assert [s.kind for s in br.special_points] == ["lpc"]


def test_diagram_follows_every_equilibrium_branch_of_an_s_curve():
    """Morris-Lecar (SNIC set): the branch from I = 0 folds and leaves the range; the diagram
    also starts from the equilibrium at the upper end, finds the Hopf point there and its
    cycles."""
    model = hh.morris_lecar()
    d = hh.bifurcation_diagram(model, "I", (0.0, 150.0))
    (h,) = d.hopf_points
    assert len(d.cycles) == 1 and d.cycles[0].status is Status.SNIC
    # independent check of the Hopf point: sympy's own lambdified f (not the code generator),
    # scipy's root finder, a 2x2 Jacobian by central differences: trace 0, determinant > 0
    x = [sp.Symbol(s) for s in model.state_names]
    params = {model.symbol(k): v for k, v in model.defaults.items() if k != "I"}
    rhs = sp.lambdify([x, model.symbol("I")], [e.subs(params) for e in model.rhs])
    f = lambda z: np.array(rhs(z, h.param), float)  # noqa: E731
    root = scipy.optimize.root(f, h.state, tol=1e-13)
    assert root.success and np.allclose(root.x, h.state, rtol=1e-8)
    J = np.column_stack([(f(root.x + e) - f(root.x - e)) / 2e-6 for e in np.eye(2) * 1e-6])
    assert abs(np.trace(J)) < 1e-9 * np.abs(J).max() and np.linalg.det(J) > 0


def test_planar_systems_report_no_period_doubling():
    """A planar system has one non-trivial multiplier, exp(integral of div f) > 0: no PD, even
    through the canard explosion of FitzHugh-Nagumo where the multipliers are inaccurate."""
    d = hh.bifurcation_diagram(hh.fitzhugh_nagumo(), "I", (0.0, 2.0))
    kinds = [s.kind for b in d.cycles for s in b.special_points]
    # both Hopf points are subcritical: each branch end folds once into the relaxation cycle
    assert "pd" not in kinds and "ns" not in kinds and kinds.count("lpc") == 2


def test_adaptive_mesh_resolves_the_spike_at_coarse_ntst():
    """At NTST = 40 the equidistributed mesh gives the period at I = 10 (classic) to ~1e-8 of
    AUTO's converged value; the uniform mesh misses it by ~1e-6."""
    model = hh.hodgkin_huxley(preset="classic")
    eq = hh.continue_equilibria(model, "I", 0.0, 200.0)
    err = {}
    for adapt in (4, 0):
        br = hh.continue_cycles(model, eq.hopf_points[0], (-10.0, 200.0), user_points=(10.0,),
                                collocation=Collocation(ntst=40, adapt_mesh=adapt))
        (s,) = [s for s in br.special_points if s.kind == "uz" and s.period < 15]
        err[adapt] = abs(s.period / 14.63620999 - 1)
    assert err[4] < 5e-8 and err[0] > 20 * err[4]


def test_cycle_branch_ending_in_a_singularity_reports_step_too_small_or_raises():
    """Stuart-Landau whose frequency 2 + sqrt(0.6 - mu) - sqrt(0.6) has no value beyond
    mu = 0.6: the corrector fails there. The branch ends with STEP_TOO_SMALL before 0.6; with
    throw=True the same end raises ContinuationError carrying that branch."""
    x, y = sp.symbols("x y")
    mu, w = sp.symbols("mu omega")
    r2 = x**2 + y**2
    W = w + sp.sqrt(sp.Rational(3, 5) - mu) - sp.sqrt(sp.Rational(3, 5))
    model = ODEModel(
        name="Stuart-Landau, singular at mu = 0.6",
        states=(StateVariable("x", "1", "", (-3, 3)), StateVariable("y", "1", "", (-3, 3))),
        parameters=(Parameter("mu", -1.0, "1", "growth"), Parameter("omega", 2.0, "1", "")),
        rhs=(mu * x - W * y - x * r2, W * x + mu * y - y * r2),
    )
    (h,) = hh.continue_equilibria(model, "mu", -1.0, 0.5).hopf_points
    kw = dict(settings=hh.ContinuationSettings(ds=0.01, ds_min=1e-3, ds_max=0.1, max_steps=200),
              collocation=Collocation(ntst=20, ncol=4))
    br = hh.continue_cycles(model, h, (-1.0, 1.0), **kw)
    assert br.status is Status.STEP_TOO_SMALL and "ds_min=0.001" in br.stop_reason
    assert 0.5 < br.param[-1] < 0.6 and np.all(np.isfinite(br.period))
    with pytest.raises(hh.ContinuationError) as err:
        hh.continue_cycles(model, h, (-1.0, 1.0), throw=True, **kw)
    assert err.value.status is Status.STEP_TOO_SMALL
    np.testing.assert_array_equal(err.value.branch.param, br.param)
