"""Generated functions against finite differences, an independent numpy HH, and mpmath."""

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest
import reference_hh

import hhanalysis as hh
from hhanalysis.special import exprel


def central_jacobian(fun, x, h):
    """Central differences of fun at x, column j with step h[j]."""
    cols = []
    for j in range(x.size):
        e = np.zeros_like(x)
        e[j] = h[j]
        cols.append((np.asarray(fun(x + e)) - np.asarray(fun(x - e))) / (2 * h[j]))
    return np.stack(cols, axis=-1)


def steps(x):
    return 1e-6 * np.maximum(np.abs(x), 1.0)


@pytest.mark.usefixtures("x64")
@pytest.mark.parametrize("key", ["hh_brainpy", "hh_classic", "fhn", "ml"])
def test_jacobians_against_central_differences(models, key):
    model, sample = models[key]
    cm = model.compile()
    p = model.param_vector()
    for x in sample(5):
        J = np.asarray(cm.jac_x(x, p))
        Jfd = central_jacobian(lambda y: cm.f(y, p), x, steps(x))
        np.testing.assert_allclose(J, Jfd, rtol=1e-6, atol=1e-7 * np.abs(J).max())
        Jp = np.asarray(cm.jac_p(x, p))
        Jpfd = central_jacobian(lambda q: cm.f(x, q), p, steps(p))
        np.testing.assert_allclose(Jp, Jpfd, rtol=1e-6, atol=1e-7 * np.abs(Jp).max())
        np.testing.assert_allclose(J, np.asarray(jax.jacfwd(cm.f)(x, p)), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("key", ["hh_brainpy", "hh_classic", "fhn", "ml"])
def test_multilinear_forms_against_differences_of_jacobian(models, key):
    model, sample = models[key]
    cm = model.compile()
    p = model.param_vector()
    rng = np.random.default_rng(1)
    for x in sample(4):
        u, v, w = rng.normal(size=(3, x.size))
        scale = steps(x)
        u, v, w = u * scale * 1e6, v * scale * 1e6, w * scale * 1e6  # natural scales
        eps = 1e-6
        # B(u, v) = d/de J(x + e u) v
        Bfd = (np.asarray(cm.jac_x(x + eps * u, p)) - np.asarray(cm.jac_x(x - eps * u, p))) @ v
        Bfd /= 2 * eps
        B = np.asarray(cm.B(x, p, u, v))
        np.testing.assert_allclose(B, Bfd, rtol=1e-5, atol=1e-6 * np.abs(B).max() + 1e-12)
        np.testing.assert_allclose(B, np.asarray(cm.B(x, p, v, u)), rtol=1e-12, atol=1e-12)
        # C(u, v, w) = d/de B(x + e w; u, v)
        Cfd = (np.asarray(cm.B(x + eps * w, p, u, v)) - np.asarray(cm.B(x - eps * w, p, u, v)))
        Cfd /= 2 * eps
        C = np.asarray(cm.C(x, p, u, v, w))
        np.testing.assert_allclose(C, Cfd, rtol=1e-5, atol=1e-6 * np.abs(C).max() + 1e-12)


@pytest.mark.parametrize("preset", ["brainpy", "classic"])
def test_hh_against_independent_numpy(models, preset):
    model = hh.hodgkin_huxley(preset=preset, I=3.3, T=12.0, C=1.3)
    cm = model.compile()
    p = model.param_vector()
    _, sample = models["hh_brainpy"]
    for x in sample(50):
        np.testing.assert_allclose(np.asarray(cm.f(x, p)), reference_hh.rhs(x, *p), rtol=1e-12,
                                   atol=1e-12)


# --- removable singularities -----------------------------------------------------------------

mp.mp.dps = 50


def mp_hh(V, m, h, n, I=0.0, gL=0.03):
    """HH right-hand side in mpmath (naive formula at 50 digits; exact point nudged by 1e-30)."""
    V = mp.mpmathify(V)
    for s in (-40, -55):
        if V == s:
            V += mp.mpf("1e-30")
    am = mp.mpf("0.1") * (V + 40) / (1 - mp.exp(-(V + 40) / 10))
    bm = 4 * mp.exp(-(V + 65) / 18)
    ah = mp.mpf("0.07") * mp.exp(-(V + 65) / 20)
    bh = 1 / (1 + mp.exp(-(V + 35) / 10))
    an = mp.mpf("0.01") * (V + 55) / (1 - mp.exp(-(V + 55) / 10))
    bn = mp.mpf("0.125") * mp.exp(-(V + 65) / 80)
    dV = -(120 * m**3 * h * (V - 50) + 36 * n**4 * (V + 77) + gL * (V - mp.mpf("-54.387"))) + I
    return [dV, am * (1 - m) - bm * m, ah * (1 - h) - bh * h, an * (1 - n) - bn * n]


SINGULAR_POINTS = [
    V0 + d for V0 in (-40.0, -55.0)
    for d in (0.0, 1e-12, -1e-12, 1e-9, -1e-9, 1e-7, -1e-7, 1e-6, -1e-6, 3e-3, 0.2, -4.9)
]


@pytest.mark.parametrize("V", SINGULAR_POINTS)
def test_values_and_derivatives_near_singular_points_against_mpmath(hh_model, V):
    cm = hh_model.compile()
    p = hh_model.param_vector()
    m, h, n = 0.3, 0.4, 0.5
    x = np.array([V, m, h, n])
    mpm, mph, mpn = mp.mpf("0.3"), mp.mpf("0.4"), mp.mpf("0.5")
    ref_f = np.array([float(v) for v in mp_hh(V, mpm, mph, mpn)])
    # Cauchy-integral derivatives on a circle of radius 1/2: never evaluated at the 0/0 point.
    ref_dV, ref_d2V = (
        np.array([float(mp.re(mp.diff(lambda s, i=i: mp_hh(s, mpm, mph, mpn)[i], V, k,
                                      method="quad", radius=0.5))) for i in range(4)])
        for k in (1, 2)
    )
    f = np.asarray(cm.f(x, p))
    J = np.asarray(cm.jac_x(x, p))
    eV = np.array([1.0, 0, 0, 0])
    B = np.asarray(cm.B(x, p, eV, eV))
    assert np.all(np.isfinite(f)) and np.all(np.isfinite(J)) and np.all(np.isfinite(B))
    np.testing.assert_allclose(f[1:], ref_f[1:], rtol=1e-12)
    np.testing.assert_allclose(J[1:, 0], ref_dV[1:], rtol=1e-12)
    np.testing.assert_allclose(B[1:], ref_d2V[1:], rtol=1e-11)


def test_exact_limits_of_rates():
    """alpha_m(-40) = 1 and alpha_n(-55) = 0.1: with x = 0 and no beta term they are f itself."""
    # Build a model with just the two rates to read them off.
    import sympy as sp

    from hhanalysis.models import hh_rates

    V = sp.Symbol("V")
    r = hh_rates(V)
    model = hh.ODEModel("rates", (hh.StateVariable("V"),), (), (r["alpha_m"],))
    model_n = hh.ODEModel("rates_n", (hh.StateVariable("V"),), (), (r["alpha_n"],))
    empty = np.zeros(0)
    assert float(model.compile().f(np.array([-40.0]), empty)[0]) == pytest.approx(1.0, rel=1e-15)
    assert float(model_n.compile().f(np.array([-55.0]), empty)[0]) == pytest.approx(0.1, rel=1e-15)


@pytest.mark.usefixtures("x64")
@pytest.mark.parametrize("n", [0, 1, 2, 3, 4])
def test_exprel_against_mpmath(n):
    ys = np.concatenate([np.linspace(-30, 20, 401), [0.0, 1e-300, -1e-12, 0.4999999, 0.5,
                                                     0.5000001, -0.5, 1e-8]])
    got = np.asarray(exprel(n, jnp.asarray(ys)))
    ref = np.array([float(mp.quad(lambda t: t**n * mp.exp(t * mp.mpf(y)), [0, 1])) for y in ys])
    np.testing.assert_allclose(got, ref, rtol=2e-14)
    grad = np.asarray(jax.vmap(jax.grad(lambda y: exprel(n, y)))(jnp.asarray(ys)))
    np.testing.assert_allclose(grad, np.asarray(exprel(n + 1, jnp.asarray(ys))), rtol=1e-12)


def test_user_model_with_the_same_pattern_is_safe():
    import sympy as sp

    x, k, a = sp.symbols("x k a")
    # a*(x - 3)/(exp((x - 3)/k) - 1): singular at x = 3 for any k
    model = hh.ODEModel("user", (hh.StateVariable("x"),), (hh.Parameter("k", 2.0),
                                                           hh.Parameter("a", 0.5)),
                        (a * (x - 3) / (sp.exp((x - 3) / k) - 1),))
    cm = model.compile()
    p = model.param_vector()
    assert float(cm.f(np.array([3.0]), p)[0]) == pytest.approx(1.0, rel=1e-15)  # a*k
    assert float(cm.jac_x(np.array([3.0]), p)[0, 0]) == pytest.approx(-0.25, rel=1e-14)
    assert "_exprel" in cm.sources["f"]


# --- batching, caching, dtype -------------------------------------------------------------------


@pytest.mark.usefixtures("x64")
def test_vmap_over_states_and_parameters(models):
    model, sample = models["hh_brainpy"]
    cm = model.compile()
    xs = sample(7)
    ps = np.tile(model.param_vector(), (7, 1))
    ps[:, model.param_names.index("I")] = np.linspace(0, 20, 7)
    batched = np.asarray(jax.vmap(cm.jac_x)(xs, ps))
    loop = np.stack([np.asarray(cm.jac_x(x, q)) for x, q in zip(xs, ps)])
    np.testing.assert_allclose(batched, loop, rtol=1e-14, atol=1e-14)
    fb = np.asarray(jax.vmap(cm.f, in_axes=(0, None))(xs, model.param_vector()))
    assert fb.shape == (7, 4)


def test_compile_is_cached_and_shared_by_presets():
    a = hh.hodgkin_huxley().compile()
    b = hh.hodgkin_huxley(preset="classic", I=3).compile()
    assert a is b


def test_float64_and_float32_are_kept():
    model = hh.hodgkin_huxley()
    cm = model.compile()
    x = np.array([-65.0, 0.05, 0.6, 0.32])
    assert cm.f(x, model.param_vector()).dtype == jnp.float64
    x32 = jnp.asarray(x, jnp.float32)
    p32 = jnp.asarray(model.param_vector(), jnp.float32)
    assert cm.f(x32, p32).dtype == jnp.float32


def test_simulation_kernels_agree_with_f(models):
    """f_fast / f_and_jac_diag share exponentials and use short series near 0/0: same values."""
    for key in ("hh_brainpy", "ml", "fhn"):
        model, sample = models[key]
        cm = model.compile()
        p = model.param_vector()
        X = sample(64).T  # structure of arrays (n, N)
        P = [np.full(X.shape[1], v) for v in p]
        fast = np.stack(cm.f_fast(X, P))
        both = np.stack(cm.f_and_jac_diag(X, P))
        ref = np.stack([np.asarray(cm.f(x, p)) for x in X.T], axis=1)
        J = np.stack([np.diag(np.asarray(cm.jac_x(x, p))) for x in X.T], axis=1)
        n = X.shape[0]
        np.testing.assert_allclose(fast, ref, rtol=1e-11, atol=1e-12)
        np.testing.assert_allclose(both[:n], ref, rtol=1e-11, atol=1e-12)
        np.testing.assert_allclose(both[n:], J, rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("V", [-40.0, -40.0 + 1e-9, -55.0, -55.0 - 3e-4, -40.002])
def test_simulation_kernels_at_singular_points(hh_model, V):
    cm = hh_model.compile()
    p = hh_model.param_vector()
    x = np.array([V, 0.3, 0.4, 0.5])
    fast = np.array([float(v) for v in cm.f_fast(x, list(p))])
    np.testing.assert_allclose(fast, np.asarray(cm.f(x, p)), rtol=1e-12, atol=1e-14)
    x32 = x.astype(np.float32)
    fast32 = np.array([float(v) for v in cm.f_fast(x32, [np.float32(v) for v in p])])
    np.testing.assert_allclose(fast32, np.asarray(cm.f(x, p)), rtol=2e-5, atol=1e-5)


def test_exponentials_of_one_symbol_become_integer_powers():
    """exp(-V/20) = exp(-V/80)**4 and exp(-V/10) = exp(-V/80)**8; exp(-V/18) stays (ratio 40/9)."""
    import sympy as sp

    from hhanalysis.special import IntegerPower, share_exponentials

    V = sp.Symbol("V")
    out = share_exponentials(sp.Matrix([sp.exp(-V / 20) + sp.exp(-V / 18),
                                        sp.exp(-V / 80 - 3), sp.exp(-V / 10)]))
    powers = {(p.args[0], int(p.args[1])) for p in out.atoms(IntegerPower)}
    assert powers == {(sp.exp(-V / 80), 4), (sp.exp(-V / 80), 8)}
    assert {a for a in out.atoms(sp.exp) if a.has(V)} == {sp.exp(-V / 80), sp.exp(-V / 18)}
    f = sp.lambdify(V, out.applyfunc(lambda e: e.replace(
        lambda a: isinstance(a, IntegerPower), lambda a: a.args[0] ** a.args[1])))
    for v in (-80.0, -40.0, 30.0):
        np.testing.assert_allclose(np.ravel(f(v)), [np.exp(-v / 20) + np.exp(-v / 18),
                                                    np.exp(-v / 80 - 3), np.exp(-v / 10)],
                                   rtol=1e-14)
    # the HH simulation kernel evaluates two exponentials of V (e^{-V/80}, e^{-V/18})
    src = hh.hodgkin_huxley().compile().sources["f_and_jac_diag"]
    assert src.count("exp(-1/80*_x0)") == 1 and src.count("exp(-1/18*_x0)") == 1
    assert "exp(-1/20*_x0)" not in src and "exp(-_c" not in src


def test_compiled_exponential_euler_step_keeps_the_shared_exponentials():
    """XLA's simplifier folds exp(a)*exp(b) into exp(a+b); the generated kernels stop it, so the
    compiled HH step evaluates 2 rate exponentials + 4 exp-Euler factors per neuron."""
    from hhanalysis.simulate import HH
    from hhanalysis.simulate.integrators import exponential_euler

    group = HH(256, dtype="float32")
    cm = group.model.compile()
    P = [p.astype("float32") for p in group.param_list()]
    step = jax.jit(lambda X, P: exponential_euler(cm, X, P, 0.01))
    cost = step.lower(group.X, P).compile().cost_analysis()
    cost = cost[0] if isinstance(cost, list) else cost
    assert round(cost["transcendentals"] / 256) == 6
