"""Continuation of equilibria: AUTO-07p Hopf points, closed forms, folds, neutral saddles."""

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.optimize
import sympy as sp

import hhanalysis as hh
from hhanalysis.continuation import ContinuationError, ContinuationSettings, Status

REF = json.loads((Path(__file__).parent / "data" / "auto07p_hh_equilibria.json").read_text())


@pytest.fixture(scope="module", params=["brainpy", "classic"])
def hh_branches(request):
    model = hh.hodgkin_huxley(preset=request.param)
    up = hh.continue_equilibria(model, "I", 0.0, 200.0)
    down = hh.continue_equilibria(model, "I", 0.0, -10.0)
    return request.param, model, up, down


def test_hh_exactly_two_hopf_points_matching_auto(hh_branches):
    preset, _, up, down = hh_branches
    assert up.status is Status.REACHED_BOUND and down.status is Status.REACHED_BOUND
    assert up.stop_reason == "reached the bound I=200"
    assert down.stop_reason == "reached the bound I=-10"
    assert up.param[-1] == pytest.approx(200.0, abs=1e-12)
    assert down.special_points == ()
    hopf = up.hopf_points
    assert len(hopf) == 2 and len(up.special_points) == 2
    for h, ref, crit in zip(hopf, REF[preset]["hopf_points"], ("subcritical", "supercritical")):
        assert h.status is Status.CONVERGED
        assert h.param == pytest.approx(ref["I"], rel=1e-8)
        assert h.data.omega == pytest.approx(ref["omega_rad_per_ms"], rel=1e-8)
        assert h.period == pytest.approx(ref["period_at_hopf_ms"], rel=1e-8)
        np.testing.assert_allclose(h.state, [ref[k] for k in "Vmhn"], rtol=1e-8)
        assert h.data.criticality == crit and (h.data.l1 > 0) == (crit == "subcritical")
        assert h.precision < 1e-10


def test_hh_hopf_points_against_independent_bisection(hh_branches):
    """Brent's method on Re(lambda) of the scalar equilibrium agrees with the augmented Newton."""
    _, model, up, _ = hh_branches
    for h in up.hopf_points:
        def re(I):
            return hh.find_equilibria(model, I=I)[0].eigenvalues[0].real

        I_b = scipy.optimize.brentq(re, h.param - 0.5, h.param + 0.5, xtol=1e-13, rtol=1e-15)
        assert abs(I_b - h.param) < 1e-10


def test_hh_branch_arrays_and_stability(hh_branches):
    _, model, up, _ = hh_branches
    n = len(up)
    assert up.x.shape == (n, 4) and up.eigenvalues.shape == (n, 4) and up.stable.shape == (n,)
    h1, h2 = (h.param for h in up.hopf_points)
    inside = (up.param > h1 + 1e-6) & (up.param < h2 - 1e-6)
    outside = (up.param < h1 - 1e-6) | (up.param > h2 + 1e-6)
    assert not up.stable[inside].any() and up.stable[outside].all()
    # every stored point solves f = 0
    cm = model.compile()
    for i in range(0, n, 37):
        p = model.param_vector(I=up.param[i])
        assert np.max(np.abs(np.asarray(cm.f(up.x[i], p)))) < 1e-8
    # eigenvector of the Hopf point: J q = i omega q
    h = up.hopf_points[0]
    J = np.asarray(cm.jac_x(h.state, model.param_vector(I=h.param)))
    q, omega = h.data.eigenvector, h.data.omega
    np.testing.assert_allclose(J @ q, 1j * omega * q, atol=1e-9)


def test_fhn_hopf_points_against_closed_form():
    a, b, eps = 0.7, 0.8, 0.08
    model = hh.fitzhugh_nagumo(a=a, b=b, epsilon=eps)
    branch = hh.continue_equilibria(model, "I", 0.0, 2.0)
    hopf = branch.hopf_points
    assert len(hopf) == 2 and not branch.folds
    v = np.array([-1, 1]) * np.sqrt(1 - eps * b)
    I_h = v**3 / 3 - v + (v + a) / b
    omega = np.sqrt(eps * (b * (v**2 - 1) + 1))  # sqrt(det J) at zero trace
    np.testing.assert_allclose([h.param for h in hopf], I_h, rtol=1e-10)
    np.testing.assert_allclose([h.data.omega for h in hopf], omega, rtol=1e-10)


def morris_lecar_folds_independent():
    """Folds of the ML equilibrium curve: dI/dV = 0 on I(V) = gL(V-EL) + ... (sympy + brentq)."""
    V = sp.Symbol("V")
    m_inf = (1 + sp.tanh((V + 1.2) / 18)) / 2
    w_inf = (1 + sp.tanh((V - 12) / 17.4)) / 2
    I_of_V = 2 * (V + 60) + 4 * m_inf * (V - 120) + 8 * w_inf * (V + 84)
    dI = sp.lambdify(V, sp.diff(I_of_V, V))
    I_fn = sp.lambdify(V, I_of_V)
    grid = np.linspace(-80, 40, 1201)
    vals = dI(grid)
    roots = [scipy.optimize.brentq(dI, grid[i], grid[i + 1], xtol=1e-14)
             for i in np.nonzero(np.sign(vals[:-1]) != np.sign(vals[1:]))[0]]
    return sorted(float(I_fn(r)) for r in roots)


def test_morris_lecar_snic_folds():
    branch = hh.continue_equilibria(hh.morris_lecar(), "I", -20.0, 150.0)
    folds = sorted(f.param for f in branch.folds)
    expected = morris_lecar_folds_independent()
    assert len(folds) == 2 == len(expected)
    np.testing.assert_allclose(folds, expected, rtol=1e-8)
    assert all(f.status is Status.CONVERGED for f in branch.folds)
    for f in branch.folds:  # the null vector: J v = 0, |v| = 1
        J = np.asarray(branch.model.compile().jac_x(f.state, branch.model.param_vector(I=f.param)))
        v = f.data.null_vector
        assert np.linalg.norm(v) == pytest.approx(1.0) and np.abs(J @ v).max() < 1e-8
    # stability changes at the lower fold: stable node below, saddle after
    i = branch.folds[0].index
    assert branch.stable[i] and not branch.stable[i + 1]


def test_neutral_saddle_is_not_a_hopf_point():
    """FHN with b = 2, eps = 0.4: trace 1 - v^2 - eps b vanishes at v = +-sqrt(0.2) on the saddle
    branch (|v| < sqrt(1/2)): two neutral saddles, and no Hopf point anywhere."""
    model = hh.fitzhugh_nagumo(a=0.0, b=2.0, epsilon=0.4)
    branch = hh.continue_equilibria(model, "I", -1.0, 1.0)
    trace = branch.eigenvalues.sum(axis=1).real
    assert np.any(np.sign(trace[:-1]) != np.sign(trace[1:]))  # the sum test would fire
    assert branch.hopf_points == ()
    np.testing.assert_allclose(sorted(f.param for f in branch.folds),
                               [-np.sqrt(2) / 6, np.sqrt(2) / 6], rtol=1e-10)


def test_stop_reasons_and_partial_branches():
    model = hh.hodgkin_huxley()
    short = hh.continue_equilibria(model, "I", 0.0, 200.0,
                                   settings=ContinuationSettings(max_steps=10))
    assert short.status is Status.MAX_STEPS and len(short) == 11
    assert short.stop_reason == "max steps (10)"
    assert np.all(np.isfinite(short.x))
    # Morris-Lecar started on the lower branch in [0, 30] turns at the upper fold and comes back
    back = hh.continue_equilibria(hh.morris_lecar(), "I", 0.0, 45.0)
    assert len(back.folds) == 1
    assert back.status is Status.RETURNED_TO_START and back.param[-1] == 0.0
    assert back.stop_reason.startswith("returned to the start value")


@pytest.mark.usefixtures("x64")
def test_engine_failure_is_reported_not_garbage():
    """A residual whose zero set ends (x^2 + lambda = 0 has no solution for lambda > 0)."""
    import jax.numpy as jnp

    from hhanalysis.continuation import PALC, ContinuationProblem
    from hhanalysis.continuation.engine import initial_tangent

    def residual(u, args):
        return jnp.atleast_1d(u[0] ** 2 + u[1] ** 2 - 1.0) * jnp.where(u[1] > 0.9, jnp.nan, 1.0)

    problem = ContinuationProblem(residual=residual)
    settings = ContinuationSettings(ds=0.1, ds_max=0.2, max_steps=100)
    palc = PALC(problem, settings)
    u0 = jnp.array([1.0, 0.0])
    pts = list(palc.steps(u0, initial_tangent(problem, u0, None, 1.0), None))
    assert pts and all(np.all(np.isfinite(p.u)) for p in pts)
    assert palc.failure is not None and "ds_min" in palc.failure
    assert max(p.u[1] for p in pts) <= 0.9


@pytest.mark.parametrize(
    "kwargs,match",
    [(dict(ds=1.0), "ds"), (dict(ds_min=0.0), "ds_min"), (dict(max_steps=0), "max_steps"),
     (dict(grow=0.5), "grow"), (dict(shrink=1.5), "shrink"), (dict(newton_tol=-1), "newton_tol"),
     (dict(target_newton_iterations=20), "target_newton_iterations"),
     (dict(ds=float("nan")), "ds")],
)
def test_settings_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ContinuationSettings(**kwargs)


def test_bad_arguments():
    model = hh.hodgkin_huxley()
    with pytest.raises(ValueError, match="valid names"):
        hh.continue_equilibria(model, "Iext", 0, 10)
    with pytest.raises(ValueError, match="differ"):
        hh.continue_equilibria(model, "I", 5, 5)
    with pytest.raises(ValueError, match="finite"):
        hh.continue_equilibria(model, "I", float("nan"), 5)
    with pytest.raises(ValueError, match="continuation parameter"):
        hh.continue_equilibria(model, "I", 0, 5, I=3)
    with pytest.raises(ValueError, match="no equilibrium"):
        hh.continue_equilibria(model, "I", -10, 5)  # brainpy rest at I=-10 is below -100 mV


def test_corrector_failure_status_and_throw():
    """A tolerance below rounding can never be met: the corrector fails at ds_min. The branch
    says so as a value; with throw=True the same end raises, carrying the partial branch."""
    model = hh.hodgkin_huxley()
    bad = ContinuationSettings(newton_tol=1e-30, ds_min=1e-3)
    br = hh.continue_equilibria(model, "I", 0.0, 10.0, settings=bad)
    assert br.status is Status.STEP_TOO_SMALL and len(br) == 1
    assert "ds_min=0.001" in br.stop_reason
    with pytest.raises(ContinuationError) as err:
        hh.continue_equilibria(model, "I", 0.0, 10.0, settings=bad, throw=True)
    assert err.value.status is Status.STEP_TOO_SMALL and len(err.value.branch) == 1
    # a branch that ends normally does not raise
    ok = hh.continue_equilibria(model, "I", 0.0, 10.0, throw=True)
    assert ok.status is Status.REACHED_BOUND


@pytest.mark.usefixtures("x64")  # the driver is called directly, not through an entry point
def test_driver_window_on_the_first_of_two_free_parameters():
    """u = (y, a, b) on the circle y^2 + a^2 + b^2 = 1, b = a/2: the window bounds a = u[-2]."""
    import jax.numpy as jnp

    from hhanalysis.continuation import ContinuationProblem, driver
    from hhanalysis.continuation.engine import initial_tangent

    def residual(u, args):
        y, a, b = u
        return jnp.stack([y**2 + a**2 + b**2 - 1.0, b - 0.5 * a])

    problem = ContinuationProblem(residual=residual)
    u0 = np.array([1.0, 0.0, 0.0])
    t0 = np.asarray(initial_tangent(problem, jnp.asarray(u0), None, 1.0))
    t0 = t0 if t0[1] > 0 else -t0
    settings = ContinuationSettings(ds=0.05, ds_max=0.05, max_steps=500)
    raw = driver.run(problem, driver.Points.one(u0, t0, np.zeros(0)), None, settings,
                     window=(-0.6, 0.6), free=2, chunk=8)
    assert raw.stop.status is Status.REACHED_BOUND and raw.stop.param == 0.6
    a = raw.u[:, -2]
    assert np.all(np.abs(a[:-1]) <= 0.6) and a[-1] > 0.6
    np.testing.assert_allclose(raw.u[:, -1], 0.5 * a, atol=1e-12)
    assert len(raw.args) == len(raw.u) == len(raw.ds)
