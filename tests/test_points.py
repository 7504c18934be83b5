"""Differentiable located points: values against AUTO-07p and independent locators, gradients
against central differences of independently located points, jit/vmap/jacfwd consistency."""

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hhanalysis as hh
from hhanalysis.continuation.results import Status

pytestmark = pytest.mark.usefixtures("x64")  # the tests trace jax.grad / vmap themselves

REF = json.loads((Path(__file__).parent / "data" / "auto07p_hh_cycles.json").read_text())
HOPF_GUESS = {"brainpy": 6.5, "classic": 9.8}
PARAMS = ("gK", "gNa", "gL", "EK", "C")


def _hopf_by_branch(model, lo, hi):
    """The Hopf point located by the equilibrium continuation (another locator: Newton on the
    Hopf system with a jacfwd Jacobian, started from the branch's detection)."""
    br = hh.continue_equilibria(model, "I", lo, hi)
    (h,) = br.hopf_points
    return h.param


@pytest.mark.parametrize("preset", ["brainpy", "classic"])
def test_hopf_point_value_and_l1(preset):
    m = hh.hodgkin_huxley(preset=preset)
    h = hh.hopf_point(m, "I", HOPF_GUESS[preset])
    assert h.status is Status.CONVERGED and float(h.residual) < 1e-10
    assert float(h.param) == pytest.approx(REF[preset]["hopf"][0]["I"], rel=1e-9)
    assert float(h.period) == pytest.approx(REF[preset]["hopf"][0]["period_at_hopf_ms"],
                                            rel=1e-9)
    # l1 against the numpy center-manifold computation (scipy eigenvectors)
    eq = hh.find_equilibria(m, I=float(h.param))[0]
    assert float(h.l1) == pytest.approx(hh.center_manifold(eq).l1, rel=1e-6)
    np.testing.assert_allclose(np.asarray(h.x), eq.x, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("preset", ["brainpy", "classic"])
def test_hopf_gradients_match_finite_differences_of_another_locator(preset):
    m = hh.hodgkin_huxley(preset=preset)
    base = m.defaults
    grads = jax.jacfwd(lambda ps: hh.hopf_point(m, "I", HOPF_GUESS[preset], **ps).param)(
        {k: base[k] for k in PARAMS})
    g_rev = jax.grad(lambda g: hh.hopf_point(m, "I", HOPF_GUESS[preset], gK=g).param)(
        base["gK"])
    assert float(g_rev) == pytest.approx(float(grads["gK"]), rel=1e-10)
    I_h = REF[preset]["hopf"][0]["I"]
    for k in PARAMS:
        h = 1e-4 * abs(base[k])
        plus = _hopf_by_branch(m.with_params(**{k: base[k] + h}), I_h - 3, I_h + 3)
        minus = _hopf_by_branch(m.with_params(**{k: base[k] - h}), I_h - 3, I_h + 3)
        fd = (plus - minus) / (2 * h)
        assert float(grads[k]) == pytest.approx(fd, rel=1e-6), k


def test_branches_keep_parameters_apart_from_the_model():
    m = hh.hodgkin_huxley()
    br = hh.continue_equilibria(m, "I", 0, 30, gK=30.0)
    assert br.model is m and m.defaults["gK"] == 36.0  # the symbolic model is untouched
    assert br.params["gK"] == 30.0 and br.params["I"] == 0.0
    (h,) = br.hopf_points
    assert h.params["gK"] == 30.0
    # the located point at the same parameters, by the other defining-system code
    assert float(hh.hopf_point(m, "I", 6.5, gK=30.0).param) == pytest.approx(h.param, rel=1e-10)
    cycles = hh.continue_cycles(m, h, (0, 30), settings=hh.ContinuationSettings(
        ds=0.01, ds_max=2.0, max_steps=8, max_newton_iterations=7, target_newton_iterations=4))
    assert cycles.params["gK"] == 30.0 and cycles.model is m


def test_vmap_and_jit_equal_single_calls():
    m = hh.hodgkin_huxley()
    gs = np.array([30.0, 36.0, 42.0])
    batched = jax.vmap(lambda g: hh.hopf_point(m, "I", 6.5, gK=g).param)(jnp.asarray(gs))
    jitted = jax.jit(lambda g: hh.hopf_point(m, "I", 6.5, gK=g).param)
    single = [float(hh.hopf_point(m, "I", 6.5, gK=g).param) for g in gs]
    np.testing.assert_allclose(np.asarray(batched), single, rtol=1e-12)
    assert float(jitted(30.0)) == pytest.approx(single[0], rel=1e-12)


def test_hopf_point_from_a_branch_point_and_from_a_located_point():
    m = hh.hodgkin_huxley(preset="classic")
    br = hh.continue_equilibria(m, "I", 0, 200)
    for sp in br.hopf_points:
        h = hh.hopf_point(m, "I", sp)
        assert float(h.param) == pytest.approx(sp.param, rel=1e-10)
        again = hh.hopf_point(m, "I", h, gK=30.0)
        assert again.status is Status.CONVERGED
        assert float(again.params["gK"]) == 30.0 and float(again.params["I"]) == float(
            again.param)


def test_fold_point_gradient_morris_lecar():
    m = hh.morris_lecar()
    br = hh.continue_equilibria(m, "I", -20, 200)
    sp = br.folds[0]
    f = hh.fold_point(m, "I", sp)
    assert float(f.param) == pytest.approx(sp.param, rel=1e-10)
    name = "gCa" if "gCa" in m.param_names else m.param_names[0]
    v0 = m.defaults[name]
    g = jax.grad(lambda v: hh.fold_point(m, "I", sp, **{name: v}).param)(v0)
    h = 1e-5 * abs(v0)
    folds = [hh.continue_equilibria(m.with_params(**{name: v0 + s * h}), "I", sp.param - 5,
                                    sp.param + 5).folds for s in (1, -1)]
    fd = (folds[0][0].param - folds[1][0].param) / (2 * h)
    assert float(g) == pytest.approx(fd, rel=1e-6)


def test_fold_coefficient_against_second_differences():
    m = hh.morris_lecar()
    branch_fold = hh.continue_equilibria(m, "I", -20, 200).folds[0]
    f = hh.fold_point(m, "I", branch_fold)
    cm = m.compile()
    x, v = np.asarray(f.x), np.asarray(f.null_vector)
    p = np.array([float(f.params[k]) for k in m.param_names])
    J = np.asarray(cm.jac_x(x, p))
    w = np.linalg.svd(J)[0][:, -1]  # left null vector
    e = 1e-2  # round-off of f(x +- e v) ~ 1e-14 / e^2 stays far below a
    d2 = (np.asarray(cm.f(x + e * v, p)) - 2 * np.asarray(cm.f(x, p))
          + np.asarray(cm.f(x - e * v, p))) / e**2
    a = 0.5 * (w @ d2) / (w @ v)
    assert float(f.a) == pytest.approx(a, rel=1e-5)
    assert branch_fold.data.a == pytest.approx(a, rel=1e-5)  # the branch's record has it too


def test_bad_arguments():
    m = hh.hodgkin_huxley()
    with pytest.raises(ValueError, match="unknown"):
        hh.hopf_point(m, "Q", 6.5)
    with pytest.raises(ValueError, match="bifurcation parameter"):
        hh.hopf_point(m, "I", 6.5, I=3.0)
    with pytest.raises(ValueError, match="guess must be a number"):
        hh.hopf_point(m, "I", "six")
    with pytest.raises(ValueError, match="finite"):
        hh.hopf_point(m, "I", 6.5, gK=float("nan"))
    with pytest.raises(ValueError, match="'gK' must be a number"):
        hh.hopf_point(m, "I", 6.5, gK="30")
    with pytest.raises(ValueError, match="cycle branch"):
        hh.lpc_point(m, "I", 3.4)


def test_traced_call_without_x64_says_so():
    m = hh.hodgkin_huxley()
    with jax.enable_x64(False), pytest.raises(ValueError, match="64-bit"):
        jax.grad(lambda g: hh.hopf_point(m, "I", 6.5, gK=g).param)(36.0)


def test_failure_is_a_value_or_an_exception():
    # a negative conductance is not physical: only a model that allows it gets this far
    with pytest.raises(ValueError, match="gK must be >= 0"):
        hh.hopf_point(hh.hodgkin_huxley(), "I", 6.5, gK=-500.0)
    m = hh.hodgkin_huxley(nonphysical=True)
    h = hh.hopf_point(m, "I", 6.5)
    # gK = -500: the Hopf point is lost on the path from gK = 36
    p = hh.hopf_point(m, "I", h, gK=-500.0, throw=False)
    assert p.status is Status.NO_CONVERGENCE and not bool(p.converged)
    with pytest.raises(Exception, match="did not converge"):
        hh.hopf_point(m, "I", h, gK=-500.0)
    # a guess with no complex pair at all is bad input, said at once
    with pytest.raises(ValueError, match="no equilibrium with a complex eigenvalue pair"):
        hh.hopf_point(m, "I", 6.5, gK=-500.0)


# ------------------------------------------------------------------ cycles


@pytest.fixture(scope="module")
def brainpy_cycles():
    m = hh.hodgkin_huxley()
    br = hh.continue_equilibria(m, "I", 0, 200)
    return m, hh.continue_cycles(m, br.hopf_points[0], (0, 200),
                                 collocation=hh.Collocation(ntst=60))


@pytest.mark.slow
def test_lpc_point_value_and_gradient(brainpy_cycles):
    m, cb = brainpy_cycles
    lpc = hh.lpc_point(m, "I", cb)
    assert lpc.status is Status.CONVERGED
    ref = REF["brainpy"]["LPC"][0]
    # NTST=60 on the branch's adapted mesh (AUTO: NTST=100)
    assert float(lpc.param) == pytest.approx(ref["I"], rel=1e-7)
    assert float(lpc.period) == pytest.approx(ref["period_ms"], rel=1e-7)
    assert float(lpc.param) == pytest.approx(cb.lpc_points[0].param, rel=1e-8)
    g = jax.grad(lambda v: hh.lpc_point(m, "I", cb, gK=v).param)(36.0)
    h = 1e-3
    fd = (float(hh.lpc_point(m, "I", cb, gK=36.0 + h).param)
          - float(hh.lpc_point(m, "I", cb, gK=36.0 - h).param)) / (2 * h)
    assert float(g) == pytest.approx(fd, rel=1e-6)


@pytest.mark.slow
def test_periodic_orbit_period_gradient(brainpy_cycles):
    m, cb = brainpy_cycles
    i = int(np.argmin(np.abs(cb.param - 10.0) + 1e3 * ~cb.stable))
    orbit = hh.periodic_orbit(m, cb, i, I=10.0)
    uz = [u for u in REF["brainpy"]["branches"]["from_HB1"]["uz"] if u["I"] == 10.0][0]
    assert float(orbit.period) == pytest.approx(uz["period_ms"], rel=1e-8)
    assert float(orbit.x_max[0]) == pytest.approx(uz["Vmax"], abs=0.01)
    dT = jax.jacfwd(lambda I: hh.periodic_orbit(m, cb, i, I=I).period)(10.0)
    h = 1e-3
    fd = (float(hh.periodic_orbit(m, cb, i, I=10.0 + h).period)
          - float(hh.periodic_orbit(m, cb, i, I=10.0 - h).period)) / (2 * h)
    assert float(dT) == pytest.approx(fd, rel=1e-6)
