"""Phase response curves (hhanalysis/phase.py) against analytic oracles and direct simulation.

Oracles:
* Stuart-Landau with shear, z' = (mu + i w) z - (1 + i c)|z|^2 z: the orbit r = sqrt(mu),
  Omega = w - c mu, and the asymptotic phase psi = arg z - c ln(r / sqrt(mu)) (d psi/dt = Omega
  everywhere), so Z = grad(psi)/Omega in closed form; its mu-derivative too.
* The interaction function of that oscillator for a gap junction in x and a coupling with a
  second harmonic, integrated by hand (docstring of the test).
* HH (classic) and Morris-Lecar (SNIC set): the direct PRC by RK4 pulse simulations
  (hhanalysis.phase.direct_phase_response), an independent computation; the limiting shapes
  (1 - cos near the SNIC, a pure sinusoid near the supercritical Hopf point) from the theory
  (Ermentrout 1996; Brown, Moehlis & Holmes 2004), checked through Fourier coefficients.
"""

import json
import math
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

import hhanalysis as hh
from hhanalysis import phase
from hhanalysis.models import ODEModel, Parameter, StateVariable

MU, OMEGA, SHEAR = 0.5, 2.0, 0.5


def _stuart_landau():
    x, y = sp.symbols("x y")
    mu, w, c = sp.symbols("mu omega c")
    r2 = x**2 + y**2
    return ODEModel(
        name="Stuart-Landau with shear",
        states=(StateVariable("x", "1", "", (-3, 3)), StateVariable("y", "1", "", (-3, 3))),
        parameters=(Parameter("mu", MU, "1", ""), Parameter("omega", OMEGA, "1", ""),
                    Parameter("c", SHEAR, "1", "")),
        rhs=(mu * x - w * y - (x - c * y) * r2, w * x + mu * y - (y + c * x) * r2),
    )


def _sl_prc(theta, mu=MU, w=OMEGA, c=SHEAR):
    """Z = grad(psi) / Omega on the orbit, theta = 0 at the maximum of x."""
    a = 2 * np.pi * theta
    Om, r = w - c * mu, math.sqrt(mu)
    return np.stack([-np.sin(a) - c * np.cos(a), np.cos(a) - c * np.sin(a)], -1) / (r * Om)


@pytest.fixture(scope="module")
def sl():
    model = _stuart_landau()
    orbit = phase.orbit_from_simulation(model, x0=[0.3, 0.0])
    return model, orbit, phase.phase_response(model, orbit, points=64)


def test_stuart_landau_prc_is_the_gradient_of_the_asymptotic_phase(sl):
    model, orbit, prc = sl
    assert prc.period == pytest.approx(2 * math.pi / (OMEGA - SHEAR * MU), rel=1e-12)
    np.testing.assert_allclose(prc.Z, _sl_prc(prc.phase), atol=1e-12)
    assert prc.normalisation_error < 1e-12
    np.testing.assert_allclose(prc.state("x")[0], math.sqrt(MU), rtol=1e-12)  # theta=0: max x
    # a level crossing as the zero-phase event: x = 0 upward at a = 3 pi / 2
    up = phase.phase_response(model, orbit, points=64, zero_phase=("x", 0.0))
    np.testing.assert_allclose(up.Z, _sl_prc(up.phase + 0.75), atol=1e-12)


def test_interval_adjoint_equals_one_transposed_bordered_solve(sl, x64):
    """The interval-by-interval left null vector (used by phase_response) against one
    transposed solve of the structured collocation solver's bordered matrix."""
    model, orbit, _ = sl
    cm = model.compile()
    args = (jnp.asarray(orbit.orbit), jnp.asarray(orbit.period),
            jnp.asarray(model.param_vector()), jnp.asarray(orbit.mesh))
    z1 = np.asarray(phase.adjoint_mesh_values(cm, *args, orbit.ncol))
    z2 = np.asarray(phase._adjoint_bordered(cm, 0, orbit.mesh.size - 1, orbit.ncol)(*args))
    np.testing.assert_allclose(z2, z1, atol=1e-10 * np.abs(z1).max())


def test_prc_derivative_in_a_parameter(sl, x64):
    """jax.jacfwd through periodic_orbit's implicit derivative: the analytic dZ/dmu and
    central differences."""
    model, orbit, prc = sl

    def Z(mu):
        return phase.phase_response(model, hh.periodic_orbit(model, orbit, mu=mu),
                                    points=64).Z

    d = np.asarray(jax.jacfwd(Z)(MU))
    h = 1e-5
    exact = (_sl_prc(prc.phase, mu=MU + h) - _sl_prc(prc.phase, mu=MU - h)) / (2 * h)
    np.testing.assert_allclose(d, exact, atol=1e-8)
    fd = (np.asarray(Z(MU + h)) - np.asarray(Z(MU - h))) / (2 * h)
    np.testing.assert_allclose(d, fd, atol=1e-8)


def test_interaction_function_and_locked_states(sl):
    r"""Gap junction in x, G = g1 (x_o - x_s) e_x: H = g1 [sin 2pi phi + c (1 - cos 2pi phi)]
    / (2 Omega), locked at 0 (stable) and 1/2. Adding g2 Re(z_o^2 conj(z_s))/mu e_x (on the
    orbit r cos(a + 2 Phi)) adds g2 (sin 2Phi - c cos 2Phi)/(2 Omega): H_odd ~ g1 sin Phi +
    g2 sin 2Phi vanishes also at cos Phi = -g1/(2 g2): with g1 = g2, at phi = 1/3 and 2/3,
    unstable, and 1/2 becomes stable (H_odd' ~ g1 cos Phi + 2 g2 cos 2 Phi)."""
    model, _, prc = sl
    Om = OMEGA - SHEAR * MU
    g1 = g2 = 0.1
    gap = phase.interaction_function(model, prc, phase.gap_junction(g1, state="x"))
    P = 2 * np.pi * gap.phase
    np.testing.assert_allclose(gap.H, g1 * (np.sin(P) + SHEAR * (1 - np.cos(P))) / (2 * Om),
                               atol=1e-12)
    np.testing.assert_allclose(gap.locked, [0.0, 0.5], atol=1e-12)
    assert gap.stable.tolist() == [True, False]

    def term(xs, xo, p):
        re = (xo[0] ** 2 - xo[1] ** 2) * xs[0] + 2 * xo[0] * xo[1] * xs[1]
        return jnp.stack([g1 * (xo[0] - xs[0]) + g2 * re / MU, 0.0 * xs[1]])

    two = phase.interaction_function(model, prc, term)
    H = (g1 * (np.sin(P) + SHEAR * (1 - np.cos(P))) + g2 * (np.sin(2 * P)
                                                            - SHEAR * np.cos(2 * P))) / (2 * Om)
    np.testing.assert_allclose(two.H, H, atol=1e-12)
    np.testing.assert_allclose(two.locked, [0.0, 1 / 3, 0.5, 2 / 3], atol=1e-10)
    assert two.stable.tolist() == [True, False, True, False]


# ------------------------------------------------------------------ HH and Morris-Lecar


AUTO = json.loads((Path(__file__).parent / "data" / "auto07p_hh_cycles.json").read_text())


def _auto_uz(I):
    """AUTO-07p's orbit on the classic HH branch at I (period, Vmax)."""
    uz = next(u for u in AUTO["classic"]["branches"]["from_HB1"]["uz"]
              if abs(u["I"] - I) < 1e-6 and u["stable"])
    return uz["period_ms"], uz["Vmax"]


@pytest.fixture(scope="module")
def hh10():
    m = hh.hodgkin_huxley(preset="classic")
    return m, phase.orbit_from_simulation(m, I=10.0)


@pytest.mark.slow
@pytest.mark.parametrize("I", [10.0, 50.0])
def test_hh_adjoint_prc_matches_direct_pulses(hh10, I):
    m, orbit10 = hh10
    orbit = orbit10 if I == 10.0 else phase.orbit_from_simulation(m, I=I)  # its own mesh
    prc = phase.phase_response(m, orbit)
    assert prc.normalisation_error < 1e-10  # Z.f = 1 at the mesh points and the 256 phases
    period, v_max = _auto_uz(I)
    assert prc.period == pytest.approx(period, rel=1e-8)
    assert prc.state("V")[0] == pytest.approx(v_max, abs=5e-3)  # theta = 0 at the peak of V
    direct = phase.direct_phase_response(m, prc, every=8)
    z = prc["V"][::8]
    scale = np.abs(prc["V"]).max()
    assert np.abs(direct.slope - z).max() < 1e-3 * scale
    assert prc["V"].min() < -0.2 * scale  # type II: a negative lobe


@pytest.mark.slow
def test_morris_lecar_near_snic_type_I_and_1_minus_cos():
    """Morris-Lecar, SNIC set of Rinzel & Ermentrout (1998) (the model's defaults): the fold of
    equilibria at I_c = 39.9632 is a SNIC. Close to it the PRC approaches 1 - cos 2 pi theta
    (theta = 0 at the spike): a1/a0 -> -1, b1/a0 and the higher harmonics -> 0; the skew b1/a0
    shrinks as the period grows; the adjoint matches the direct pulses there too."""
    m = hh.morris_lecar()
    fold = hh.fold_point(m, "I", 39.9)
    assert 39.5 < float(fold.param) < 40.5  # ~40 (the paper); scipy check: test_library.py
    coeffs, prcs = [], []
    for dI in (0.24, 0.01):
        prc = phase.phase_response(m, I=float(fold.param) + dI)
        assert prc.normalisation_error < 1e-8
        a, b = prc.fourier("V", 3)
        coeffs.append((a / a[0], b / a[0]))
        prcs.append(prc)
        assert prc["V"].min() > -0.005 * prc["V"].max()  # type I: Z_V >= 0 up to 0.5 %
    (a_far, b_far), (a, b) = coeffs
    assert abs(a[1] + 1) < 0.02 and abs(b[1]) < 0.15 and abs(b[1]) < 0.5 * abs(b_far[1])
    assert np.all(np.abs(a[2:]) < 0.02) and np.all(np.abs(b[2:]) < 0.02)
    direct = phase.direct_phase_response(m, prcs[0], every=8, periods=2)
    zv = prcs[0]["V"]
    assert np.abs(direct.slope - zv[::8]).max() < 1e-3 * np.abs(zv).max()


@pytest.mark.slow
def test_hh_near_supercritical_hopf_sinusoidal(hh10):
    """HH classic near its upper Hopf point (I = 154.52, supercritical): the PRC tends to a
    pure first harmonic; the higher harmonics shrink in proportion to the amplitude."""
    m, orbit10 = hh10
    ratios = []
    for I in (154.0, 154.4):
        orbit = hh.periodic_orbit(m, orbit10, I=I)
        a, b = phase.phase_response(m, orbit).fourier("V", 3)
        A = math.hypot(a[1], b[1])
        ratios.append((abs(a[0]) / A, math.hypot(a[2], b[2]) / A,
                       float(orbit.amplitude[0])))
    (_, h2_far, amp_far), (a0, h2, amp) = ratios
    assert a0 < 0.01 and h2 < 0.03
    assert h2 / amp == pytest.approx(h2_far / amp_far, rel=0.05)  # -> 0 with the amplitude


def test_branch_prcs_in_one_vmap(sl):
    """The PRCs of a whole cycle branch at once equal the closed form at every orbit's mu, and
    one orbit of the branch alone gives the same."""
    model, _, _ = sl
    eq = hh.continue_equilibria(model, "mu", -1.0, 1.0)
    br = hh.continue_cycles(model, eq.hopf_points[0], (-1.0, 1.0),
                            collocation=hh.Collocation(ntst=20, ncol=4))
    prcs = phase.phase_response(br, points=64)
    assert len(prcs) == len(br) and prcs.Z.shape == (len(br), 64, 2)
    big = br.x_max[:, 0] > 0.3  # away from the Hopf point, where Z ~ 1/r grows without bound
    for k in np.flatnonzero(big):
        np.testing.assert_allclose(prcs.Z[k], _sl_prc(prcs.phase, mu=br.param[k]),
                                   atol=1e-8 / math.sqrt(br.param[k]))
    k = int(np.flatnonzero(big)[-1])
    np.testing.assert_allclose(phase.phase_response(br, k, points=64).Z, prcs.Z[k], atol=1e-13)


def test_bad_arguments(sl):
    model, orbit, prc = sl
    with pytest.raises(ValueError, match="zero_phase"):
        phase.phase_response(model, orbit, zero_phase="V")
    with pytest.raises(ValueError, match="points"):
        phase.phase_response(model, orbit, points=3)
    with pytest.raises(ValueError, match="parameters"):
        phase.phase_response(model, orbit, mu=0.3)
    with pytest.raises(ValueError, match="source"):
        phase.phase_response("HH")
    with pytest.raises(ValueError, match="kick"):
        phase.direct_phase_response(model, prc, kick=-1.0)
    with pytest.raises(ValueError, match="no periodic firing"):
        phase.phase_response(model, mu=-0.5)
    with pytest.raises(ValueError, match="coupling"):
        phase.interaction_function(model, prc, 3.0)


def test_cli_prc_rejects_bad_arguments(capsys, tmp_path):
    from hhanalysis.cli import main

    for args, word in ((["--points", "3"], "--points"), (["--every", "0"], "--every"),
                       (["--state", "q"], "--state"), (["--set", "I=x"], "--set")):
        assert main(["prc", *args, "--out", str(tmp_path / "prc.png")]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("hhanalysis: error:") and word in err and "\n" not in err
    assert not list(tmp_path.iterdir())


def test_cli_prc_help(capsys):
    from hhanalysis.cli import main

    with pytest.raises(SystemExit) as e:
        main(["prc", "--help"])
    assert e.value.code == 0 and "usage: hhanalysis prc" in capsys.readouterr().out


def test_dense_output_method_has_order_six():
    """BUTCHER6 (the dense output's Runge-Kutta method): the error of a nonlinear pendulum
    with friction at t = 2 against scipy's DOP853 at tight tolerance falls 2^6-fold per halving
    of the step."""
    import scipy.integrate

    c, A, b = phase.BUTCHER6
    np.testing.assert_allclose(A.sum(1), c, atol=1e-15)  # consistent nodes

    def f(y):
        return np.array([y[1], -np.sin(y[0]) * (1 + 0.3 * y[1] ** 2)])

    exact = scipy.integrate.solve_ivp(lambda t, y: f(y), (0, 2), [1.0, 0.2], method="DOP853",
                                      rtol=3e-14, atol=1e-14).y[:, -1]
    errors = []
    for steps in (10, 20, 40):
        y, h = np.array([1.0, 0.2]), 2.0 / steps
        for _ in range(steps):
            K = []
            for i in range(b.size):
                K.append(f(y + h * sum(A[i, j] * K[j] for j in range(i))))
            y = y + h * sum(bi * k for bi, k in zip(b, K))
        errors.append(np.abs(y - exact).max())
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(orders > 5.7), orders


def test_phase_weighted_mesh_resolves_what_the_weights_see():
    """adapted_mesh with weights: a narrow bump in a small state that the unweighted norm (the
    large first state dominates) ignores gets mesh points once that state is weighted; the
    unweighted criterion keeps its share (the density is the maximum of the two)."""
    from hhanalysis.continuation.collocation import adapted_mesh, node_times

    ncol, ntst = 4, 60
    mesh = np.linspace(0.0, 1.0, ntst + 1)
    for _ in range(3):
        t = node_times(mesh, ncol)
        X = np.stack([1e3 * np.sin(2 * np.pi * t) ** 9,
                      1e-3 * np.exp(-(((t - 0.5) / 0.01) ** 2))], 1)
        plain = adapted_mesh(X, mesh, ncol)
        w = np.zeros((ntst + 1, 2))
        w[:, 1] = 1.0
        weighted = adapted_mesh(X, mesh, ncol, weights=w)
        mesh = weighted

    def inside(m):
        return int(np.sum(np.abs(m - 0.5) < 0.03))

    assert inside(plain) <= 1 and inside(weighted) >= 8
    spike = np.abs(((plain + 0.25) % 1.0) - 0.5) < 0.1  # where sin^9 is steep
    assert np.sum(np.abs(((weighted + 0.25) % 1.0) - 0.5) < 0.1) >= 0.4 * np.sum(spike)
    with pytest.raises(ValueError, match="weights"):
        adapted_mesh(X, mesh, ncol, weights=-w)
