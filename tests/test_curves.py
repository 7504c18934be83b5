"""Two-parameter curves of Hopf points and folds, their codim-2 points and normal forms.

References: AUTO-07p's Hopf curve of the brainpy preset in (I, gK) (tests/data, with its
provenance), a Bautin normal form with known l1, l2 written in other coordinates, and scipy
solutions of the defining equations written here from tests/reference_hh.py (complex-step and
finite-difference derivatives, no code of hhanalysis).
"""

import json
import math
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import reference_hh as ref
import scipy.linalg
import sympy as sp
from scipy.integrate import solve_ivp
from scipy.optimize import brentq, fsolve

import hhanalysis as hh
from hhanalysis.continuation import normal_forms as nf
from hhanalysis.continuation.problems.fold_curve import fold_curve_problem
from hhanalysis.continuation.problems.hopf_curve import hopf_curve_problem, pair_product
from hhanalysis.continuation.problems.minimal import bialternate, bialternate_adjoint, borders
from hhanalysis.models import ODEModel, Parameter, StateVariable

DATA = Path(__file__).parent / "data"


# ------------------------------------------------------------------ independent references


def _jac(x, **p):
    """Complex-step Jacobian of the reference rhs."""
    n = len(x)
    J = np.empty((n, n))
    for j in range(n):
        e = np.zeros(n, complex)
        e[j] = 1e-20j
        J[:, j] = ref.rhs(x + e, **p).imag / 1e-20
    return J


def _steady(V):
    am, bm, ah, bh, an, bn = ref.rates(V)
    return np.array([V, am / (am + bm), ah / (ah + bh), an / (an + bn)])


def _current(V, gK):
    """The injected current that makes V an equilibrium (every gate at its steady state)."""
    _, m, h, n = _steady(V)
    return 120 * m**3 * h * (V - 50) + gK * n**4 * (V + 77) + 0.03 * (V + 54.387)


def _dI(V, gK, k):
    """k-th derivative of the I-V curve (complex step, then central differences)."""
    if k == 1:
        return _current(V + 1e-20j, gK).imag / 1e-20
    h = 1e-4
    return (_dI(V + h, gK, k - 1) - _dI(V - h, gK, k - 1)) / (2 * h)


def _char(V, gK):
    """Coefficients of the characteristic polynomial of J at the equilibrium with voltage V."""
    x = _steady(V)
    return np.real(np.poly(_jac(x, gK=gK, I=_current(V, gK))))


@pytest.fixture(scope="module")
def brainpy():
    return hh.hodgkin_huxley("brainpy")


@pytest.fixture(scope="module")
def hopf_curve(brainpy):
    h1 = hh.continue_equilibria(brainpy, "I", 0.0, 200.0).hopf_points[0]
    return hh.continue_hopf(brainpy, h1, ("I", "gK"),
                            bounds={"I": (-100, 1000), "gK": (0, 200)},
                            user_points={"gK": [20.0]})


@pytest.fixture(scope="module")
def fold_curve(brainpy):
    f = hh.continue_equilibria(brainpy, "I", -10.0, 10.0, gK=4.0).folds[0]
    return hh.continue_fold(brainpy, f, ("I", "gK"), bounds={"I": (-100, 100), "gK": (0, 30)})


# ------------------------------------------------------------------ tests


def test_bialternate_eigenvalues_are_pairwise_sums(x64):
    rng = np.random.default_rng(1)
    for n in (2, 3, 4, 6):
        A = rng.normal(size=(n, n))
        lam = np.linalg.eigvals(A)
        i, j = np.triu_indices(n, 1)
        want = lam[i] + lam[j]
        got = np.linalg.eigvals(np.asarray(bialternate(A)))
        assert len(got) == len(want)
        for z in want:  # as multisets (sorting is ambiguous for equal real parts)
            k = np.argmin(np.abs(got - z))
            assert abs(got[k] - z) < 1e-9
            got = np.delete(got, k)


def test_bialternate_adjoint_and_pair_product(x64):
    """<C, A> = w^T (2A (.) I) v for the adjoint C of w v^T; kappa from the bialternate null
    vector equals the product of the pair of eigenvalues that sum to zero (numpy eig)."""
    rng = np.random.default_rng(2)
    for n in (3, 4, 6):
        A = rng.normal(size=(n, n))
        m = n * (n - 1) // 2
        w, v = rng.normal(size=m), rng.normal(size=m)
        C = np.asarray(bialternate_adjoint(w, v))
        assert abs(np.sum(C * A) - w @ np.asarray(bialternate(A)) @ v) < 1e-12
        Q = rng.normal(size=(n, n))
        for pair, kappa in (([[0, 1.3], [-1.3, 0]], 1.69), ([[0, 0.7], [0.7, 0]], -0.49)):
            B = np.diag(rng.uniform(0.5, 2.0, n))
            B[:2, :2] = pair
            J = Q @ B @ np.linalg.inv(Q)
            null = np.linalg.svd(np.asarray(bialternate(J)))[2][-1]
            assert abs(float(pair_product(J, null)) - kappa) < 1e-9


def test_critical_vector_is_the_eigenvector(x64):
    """The eigenvector from the other eigenvalues (spectral projector) spans the eigenspace that
    numpy's eig gives, for a pair +-i omega among real eigenvalues of a random similarity; the
    left one that of scipy's left eigenvector."""
    from hhanalysis.continuation.curves import _critical_vector, _critical_vectors

    rng = np.random.default_rng(3)
    for n, omega in ((3, 0.4), (4, 1.3), (6, 2.1)):
        Q = rng.normal(size=(n, n))
        B = np.diag(-rng.uniform(0.2, 5.0, n))
        B[:2, :2] = [[-0.1, omega], [-omega, -0.1]]
        J = Q @ B @ np.linalg.inv(Q)
        lam, vecs = np.linalg.eig(J)
        k = np.argmin(np.abs(lam - (-0.1 + 1j * omega)))
        q = np.asarray(_critical_vector(jnp.asarray(J), jnp.asarray(np.delete(lam, k))))
        ref_q = vecs[:, k]
        # the same complex line: |<ref, q>| = |ref| |q|
        assert abs(abs(np.vdot(ref_q, q)) / (np.linalg.norm(ref_q) * np.linalg.norm(q)) - 1) < 1e-12
        _, left = _critical_vectors(jnp.asarray(J), jnp.asarray(np.delete(lam, k)))
        lam_l, vl = scipy.linalg.eig(J, left=True, right=False)
        ref_l = vl[:, np.argmin(np.abs(lam_l - lam[k]))].conj()  # ref_l^T J = lam ref_l^T
        left = np.asarray(left)
        assert abs(abs(np.vdot(ref_l, left)) / (np.linalg.norm(ref_l) * np.linalg.norm(left))
                   - 1) < 1e-12


@pytest.mark.parametrize("kind", ["hopf", "fold"])
def test_curve_jacobian_against_finite_differences(brainpy, kind, x64):
    """The assembled Jacobian of the minimally augmented systems (g_u = -w^T M_u v) against
    central differences of the residual (the bordered solve itself, no derivative rule)."""
    cm = brainpy.compile()
    free = (cm.param_index("I"), cm.param_index("gK"))
    problem = (hopf_curve_problem if kind == "hopf" else fold_curve_problem)(cm, free)
    p0 = np.asarray(brainpy.param_vector(), float)
    u = np.array([-60.0, 0.1, 0.6, 0.35, 8.0, 30.0])
    J = np.asarray(cm.jac_x(u[:4], p0))
    b, c = borders(np.asarray(bialternate(J)) if kind == "hopf" else J)
    args = (jnp.asarray(p0), jnp.asarray(b), jnp.asarray(c))
    F, DF = (np.asarray(a) for a in problem.residual_jacobian(u, args))
    assert np.allclose(F, np.asarray(problem.residual(u, args)), rtol=0, atol=1e-14)
    h = 1e-6 * np.maximum(1.0, np.abs(u))
    fd = np.stack([(np.asarray(problem.residual(u + e, args))
                    - np.asarray(problem.residual(u - e, args))) / (2 * e[k])
                   for k, e in enumerate(np.diag(h))], 1)
    assert np.allclose(DF, fd, rtol=1e-6, atol=1e-8 * np.abs(fd).max())


def test_second_lyapunov_of_a_bautin_normal_form_in_other_coordinates():
    r"""The normal form :math:`\dot z = i\omega z + s_1 z|z|^2 + s_2 z|z|^4` in the real
    coordinates u, with q = (1, -i)/sqrt(2) and x = w q + conj(w q), has
    :math:`\dot w = i\omega w + 2 s_1 w|w|^2 + 4 s_2 w|w|^4`, so :math:`\ell_1 = 2 s_1/\omega`,
    :math:`\ell_2 = 4 s_2/\omega`. Written in x = (u1 + a u2^2, u2) (identity linear part, so the
    same q), with a third, decoupled stable state: the quadratic terms of the shear exercise every
    h_jk of the formula."""
    x1, x2, x3 = sp.symbols("x1 x2 x3")
    om, s1, s2, a = sp.symbols("omega s1 s2 a")
    u1, u2 = x1 - a * x2**2, x2
    rad = s1 * (u1**2 + u2**2) + s2 * (u1**2 + u2**2) ** 2
    g1, g2 = -om * u2 + u1 * rad, om * u1 + u2 * rad
    model = ODEModel(
        "bautin", tuple(StateVariable(f"x{k}", "1", "", (-1, 1)) for k in (1, 2, 3)),
        (Parameter("omega", 1.3, "1", ""), Parameter("s1", 0.0, "1", ""),
         Parameter("s2", -0.7, "1", ""), Parameter("a", 0.4, "1", "")),
        (g1 + 2 * a * u2 * g2, g2, -x3 + x1 * x3))
    cm = model.compile()
    q = np.array([1, -1j, 0]) / np.sqrt(2) * 2.0 * np.exp(0.3j)  # any length and phase
    for s1v in (0.0, 0.25):
        p = np.asarray(model.param_vector(s1=s1v), float)
        l1, l2 = nf.second_lyapunov(cm, np.zeros(3), p, 1.3, q)
        assert l1 == pytest.approx(2 * s1v / 1.3, abs=1e-12)
        assert l2 == pytest.approx(4 * -0.7 / 1.3, rel=1e-10)


def test_unrolled_solve_against_numpy(x64):
    """The entry-by-entry elimination that l1 along a curve uses under vmap solves real and
    complex systems as LAPACK does, pivoting included (a zero leading entry)."""
    from hhanalysis.continuation.problems.hopf import unrolled_solve

    rng = np.random.default_rng(11)
    for n in (1, 4, 6):
        A = rng.normal(size=(8, n, n)) + 1j * rng.normal(size=(8, n, n))
        b = rng.normal(size=(8, n)) + 1j * rng.normal(size=(8, n))
        A[0, 0, 0] = 0.0 if n > 1 else A[0, 0, 0]
        for M, v in ((A.real, b.real), (A, b)):
            x = np.asarray(jax.vmap(unrolled_solve)(jnp.asarray(M), jnp.asarray(v)))
            assert np.allclose(x, np.linalg.solve(M, v[..., None])[..., 0], rtol=1e-10,
                               atol=1e-12)


def test_forms_with_repeated_and_conjugate_arguments(x64):
    """The multilinear forms of orders 2-5, whose directions are merged where arguments repeat
    (q, conj q, a real vector), against the derivative tensors of f by nested forward-mode
    differentiation contracted with the complex vectors (no jet, no polarization)."""
    x1, x2, x3 = sp.symbols("x1 x2 x3")
    a, b = sp.symbols("a b")
    rhs = (a * x1 * x2**2 - x3**3 * x1**2 + b * x2**5, x1**2 * x3**2 * x2 + x3,
           sp.exp(x1) * x2 - x3**4 * x2)
    model = ODEModel("forms", tuple(StateVariable(f"x{k}", "1", "", (-1, 1)) for k in (1, 2, 3)),
                     (Parameter("a", 0.7, "1", ""), Parameter("b", -1.3, "1", "")), rhs)
    cm = model.compile()
    rng = np.random.default_rng(5)
    x, p = rng.normal(size=3) * 0.5, np.asarray(model.param_vector(), float)
    q = rng.normal(size=3) + 1j * rng.normal(size=3)
    h = rng.normal(size=3) + 1j * rng.normal(size=3)
    r = rng.normal(size=3)
    requests = [(q, q), (q, q.conj()), (q, q, q.conj()), (h, r, q.conj()),
                (q, q, q.conj(), q.conj()), (q, h.conj(), r, r), (q, q, q, q.conj(), q.conj()),
                (r, r, r, r, r)]
    got = nf.forms(cm, x, p, requests)
    f = lambda z: cm.f(z, jnp.asarray(p))  # noqa: E731
    for req, val in zip(requests, got):
        T = f
        for _ in req:
            T = jax.jacfwd(T)
        tensor = np.asarray(T(jnp.asarray(x)))  # (n, n, ..., n): D^k f
        want = tensor
        for v in reversed(req):
            want = want @ v
        assert np.allclose(val, want, rtol=1e-9, atol=1e-9 * np.abs(want).max()), (req, val)


def test_hopf_curve_matches_auto07p(hopf_curve):
    """BT, both GH points and the turn in I of the (I, gK) Hopf curve from H1 within 1e-5
    (relative) of AUTO-07p's (whose two runs differ by up to 8e-7)."""
    data = json.loads((DATA / "auto07p_hopf_curve_IgK_brainpy.json").read_text())
    kinds = {"BT": "bt", "GH": "gh", "LP": "lp"}
    for point in data["codim2_points_IgK"]:
        ours = [s for s in hopf_curve.points(kinds[point["type"]])
                if abs(s.params["gK"] - point["gK"]) < 0.1 * max(1.0, point["gK"])]
        assert len(ours) == 1, (point, hopf_curve)
        s = ours[0]
        assert s.status is hh.Status.CONVERGED
        for name in ("I", "gK"):
            assert s.params[name] == pytest.approx(point[name], rel=1e-5, abs=1e-5), (point, s)
    assert hopf_curve.stops[0].status is hh.Status.REACHED_CODIM2
    assert hopf_curve.stops[1].status is hh.Status.REACHED_BOUND
    assert hopf_curve.values[:, 1].min() >= 0.0  # cut at the gK bound


def test_hopf_curve_l1_and_omega(hopf_curve, brainpy):
    """l1 and omega at the start agree with the one-parameter Hopf point; l1 changes sign at
    each GH point; omega -> 0 at the BT end."""
    h1 = hh.continue_equilibria(brainpy, "I", 0.0, 200.0).hopf_points[0]
    k = hopf_curve.start_index
    assert hopf_curve.l1[k] == pytest.approx(h1.data.l1, rel=1e-6)
    assert hopf_curve.omega[k] == pytest.approx(h1.data.omega, rel=1e-9)
    for gh in hopf_curve.points("gh"):
        i = gh.index
        assert hopf_curve.l1[i] * hopf_curve.l1[i + 1] < 0
        assert math.isfinite(gh.data.l2)  # its value is checked on a normal form above
    assert hopf_curve.omega[0] == 0.0
    assert np.all(hopf_curve.omega[1:] > 0)


def test_user_point_on_hopf_curve(hopf_curve):
    uz = hopf_curve.points("uz")
    assert len(uz) >= 2  # gK = 20 is crossed on both sides of the curve's maximum
    for s in uz:
        assert s.params["gK"] == pytest.approx(20.0, abs=1e-9)
        # it is a Hopf point: a pair of eigenvalues on the imaginary axis
        h = hh.hopf_point(hh.hodgkin_huxley("brainpy", gK=20.0), "I", s.params["I"])
        assert float(h.param) == pytest.approx(s.params["I"], rel=1e-8)


def test_cycles_from_a_point_of_the_hopf_curve(hopf_curve, brainpy):
    """Any point of a Hopf curve starts a cycle branch in either curve parameter: at the curve
    point nearest (I, gK) = (lower Hopf point at gK = 20), the branch in I starts at the period
    2 pi / omega of the Hopf point that hh.hopf_point locates independently in the model with
    gK fixed there."""
    lower = min(hopf_curve.points("uz"), key=lambda s: s.params["I"])
    k = int(np.argmin(np.abs(hopf_curve.values[:, 0] - lower.params["I"])
                      + np.abs(hopf_curve.values[:, 1] - 20.0)))
    start = hopf_curve.hopf_point(k)
    gk = float(hopf_curve.values[k, 1])
    assert start.param_name == "I" and start.params["gK"] == gk
    h = hh.hopf_point(hh.hodgkin_huxley("brainpy", gK=gk), "I", start.param)
    assert start.param == pytest.approx(float(h.param), rel=1e-9)
    assert start.data.omega == pytest.approx(float(h.omega), rel=1e-9)
    cycles = hh.continue_cycles(brainpy, start, (start.param - 2.0, start.param + 2.0))
    assert len(cycles) > 3 and cycles.params["gK"] == gk
    assert cycles.period[0] == pytest.approx(2 * np.pi / float(h.omega), rel=1e-2)
    in_gk = hh.continue_cycles(brainpy, hopf_curve.hopf_point(k, "gK"), (gk - 1.0, gk + 1.0))
    assert in_gk.param_name == "gK" and in_gk.params["I"] == start.param
    with pytest.raises(ValueError, match="param must be one of"):
        hopf_curve.hopf_point(k, "gNa")


def test_bt_on_fold_curve_matches_hopf_curve_and_scipy(fold_curve, hopf_curve):
    """The BT point located on the fold curve is the Hopf curve's end, and solves
    det J = 0, c_1 = 0 (a double zero eigenvalue) computed independently."""
    bt_f, = fold_curve.points("bt")
    bt_h, = hopf_curve.points("bt")
    for name in ("I", "gK"):
        assert bt_f.params[name] == pytest.approx(bt_h.params[name], rel=1e-8, abs=1e-9)

    def eqs(z):
        V, gK = z
        c = _char(V, gK)
        return [c[-1] * 1e3, c[-2] * 1e2]

    V, gK = fsolve(eqs, [bt_f.state[0] + 0.5, bt_f.params["gK"] + 0.3], xtol=1e-13)
    assert bt_f.params["gK"] == pytest.approx(gK, rel=1e-7)
    assert bt_f.params["I"] == pytest.approx(_current(V, gK), rel=1e-6, abs=1e-8)


def test_bt_coefficients_against_finite_differences(fold_curve):
    """a, b of the BT normal form against the same normalisation computed from the reference
    rhs: complex-step Jacobian and central differences for B."""
    bt, = fold_curve.points("bt")
    x, pars = bt.state, {k: bt.params[k] for k in ("I", "gK")}
    A = _jac(x, **pars)
    U, _, Vt = np.linalg.svd(A)
    q0, p1 = Vt[-1], U[:, -1]
    q0 = q0 * np.sign(q0[np.argmax(np.abs(q0))])
    K = np.block([[A, p1[:, None]], [q0[None, :], np.zeros((1, 1))]])
    q1 = np.linalg.solve(K, np.concatenate([q0, [0]]))[:4]
    p1 = p1 / (p1 @ q1)
    K = np.block([[A.T, q0[:, None]], [p1[None, :], np.zeros((1, 1))]])
    p0 = np.linalg.solve(K, np.concatenate([p1, [0]]))[:4]
    p0 = p0 - (p0 @ q1) * p1

    def B(u, v, h=1e-5):
        return (_jac(x + h * u, **pars) - _jac(x - h * u, **pars)) @ v / (2 * h)

    a = 0.5 * p1 @ B(q0, q0)
    b = p0 @ B(q0, q0) + p1 @ B(q0, q1)
    assert bt.data.a == pytest.approx(a, rel=1e-5)
    assert bt.data.b == pytest.approx(b, rel=1e-5)


def test_cusp_on_fold_curve_against_scipy(fold_curve):
    """The cusp solves dI/dV = d2I/dV2 = 0 on the steady-state I-V curve (computed
    independently), and the fold curve turns there in both parameters (no separate LP)."""
    cp, = fold_curve.points("cp")
    V, gK = fsolve(lambda z: [_dI(z[0], z[1], 1), _dI(z[0], z[1], 2) * 10],
                   [cp.state[0] + 0.3, cp.params["gK"] - 0.2], xtol=1e-10)
    assert cp.params["gK"] == pytest.approx(gK, rel=1e-6)
    assert cp.params["I"] == pytest.approx(_current(V, gK), rel=1e-5)
    assert not fold_curve.points("lp")
    assert math.isfinite(cp.data.c) and cp.data.c != 0


def test_curve_arguments_are_checked(brainpy, hopf_curve):
    h = hh.hopf_point(brainpy, "I", 6.5)
    with pytest.raises(ValueError, match="two different parameter names"):
        hh.continue_hopf(brainpy, h, ("I", "I"))
    with pytest.raises(ValueError, match="bounds of 'gK'"):
        hh.continue_hopf(brainpy, h, ("I", "gK"), bounds={"gK": (5, 1)})
    with pytest.raises(ValueError, match="outside its bounds"):
        hh.continue_hopf(brainpy, h, ("I", "gK"), bounds={"I": (50, 100)})
    with pytest.raises(TypeError, match="start must be a hopf"):
        hh.continue_hopf(brainpy, 6.5, ("I", "gK"))
    with pytest.raises(ValueError, match="user_points"):
        hh.continue_hopf(brainpy, h, ("I", "gK"), user_points={"T": [1.0]})
    with pytest.raises(ValueError, match="param must be one of"):
        hopf_curve.param("T")


@pytest.fixture(scope="module")
def brainpy_plane(brainpy):
    """The (I, gK) plane of the brainpy preset on a coarse grid: I = -10 + 5.25 i,
    gK = 2 j."""
    return hh.two_parameter_diagram(brainpy, ("I", "gK"), {"I": (-10, 200), "gK": (0, 60)},
                                    slices=3, grid=(41, 31))


def test_two_parameter_diagram_brainpy(brainpy, brainpy_plane, tmp_path):
    """The (I, gK) plane: one Hopf and one fold curve; BT (found on both, listed once), the
    cusp and both GH points; the Hopf curve's turn in I is AUTO-07p's LP."""
    d = brainpy_plane
    assert len(d.hopf_curves) == 1 and len(d.fold_curves) == 1
    assert sorted(s.kind for s in d.codim2_points) == ["bt", "cp", "gh", "gh"]
    data = json.loads((DATA / "auto07p_hopf_curve_IgK_brainpy.json").read_text())
    lp = next(p for p in data["codim2_points_IgK"] if p["type"] == "LP")
    turn = [s for s in d.turning_points if s.data.param_name == "I"]
    assert len(turn) == 1 and turn[0].data.extremum == "max"
    assert turn[0].params["I"] == pytest.approx(lp["I"], rel=1e-7)
    # the grid: rest inside no stable equilibrium between the Hopf branches at gK = 36
    g = d.grid
    row = np.argmin(np.abs(g["gK"] - 36))
    inside = (g["I"] > 10) & (g["I"] < 150)
    assert not g["stable"][row, inside].any() and g["stable"][row, g["I"] > 165].all()
    paths = d.to_csv(tmp_path)
    assert [p.name for p in paths] == ["curves.csv", "codim2.csv", "regimes.csv"]
    assert paths[1].read_text().count("\n") == 5
    rows = [r.split(",") for r in paths[2].read_text().splitlines()[1:]]
    assert len(rows) == 41 * 31
    assert {r[2] for r in rows if float(r[1]) == 36 and 10 < float(r[0]) < 150} == {"tonic"}
    with pytest.raises(ValueError, match="bounds"):
        hh.two_parameter_diagram(brainpy, ("I", "gK"), {"I": (0, 1)})
    with pytest.raises(ValueError, match="shape must be two counts"):
        d.with_grid((5,))
    with pytest.raises(ValueError, match="bounds"):
        d.with_grid((5, 5), {"I": (0, 1)})


def _equilibria(I, gK):
    """Every equilibrium at (I, gK): the roots in V of the steady-state I-V curve."""
    V = np.linspace(-99.9, 59.9, 1601)
    b = _current(V, gK) - I
    return [_steady(brentq(lambda v: _current(v, gK) - I, V[k], V[k + 1], xtol=1e-12))
            for k in np.nonzero(np.sign(b[:-1]) != np.sign(b[1:]))[0]]


def _fires_after_ramps(starts, ends, settle=50.0, ramp=150.0, hold=150.0):
    """Kick each neuron at its start parameters (I, gK) (its equilibrium of lowest V, V raised
    by 40 mV: a spike), let it fire, ramp the parameters linearly to its end values, hold them:
    whether V still oscillates by more than 20 mV over the last 150 ms, without shrinking.
    All neurons in one scipy solve_ivp (reference equations, tests/reference_hh.py)."""
    a, b = np.asarray(starts, float).T, np.asarray(ends, float).T

    def rhs(t, y):
        I, gK = a + np.clip((t - settle) / ramp, 0.0, 1.0) * (b - a)
        return ref.rhs(y.reshape(4, -1), I=I, gK=gK).ravel()

    x0 = np.array([_equilibria(*p)[0] + [40.0, 0, 0, 0] for p in a.T]).T
    T = settle + ramp + hold
    sol = solve_ivp(rhs, (0.0, T), x0.ravel(), rtol=1e-5, atol=1e-6,
                    t_eval=np.linspace(T - hold, T, 3001))
    V = sol.y.reshape(4, len(a.T), -1)[0]
    early, late = np.ptp(V[:, :1500], axis=1), np.ptp(V[:, 1500:], axis=1)
    return (late > 20.0) & (late > 0.95 * early)


def test_two_parameter_regions_against_scipy(brainpy_plane):
    """The regions shaded in the (I, gK) plane of the brainpy preset, checked at grid points of
    each: rest, repetitive firing, bistable (a stable equilibrium and a stable cycle). For each
    point, independently of hhanalysis: whether a stable equilibrium exists (roots of the I-V
    curve, complex-step Jacobian, its eigenvalues), and whether a stable cycle exists (scipy
    simulation of the reference equations that ramps the parameters slowly from a firing point
    to the point, so that the firing cycle is followed while it exists). The points: the
    bistable range between the fold of cycles (I = 3.403, AUTO-07p) and the subcritical Hopf
    point (I = 6.496) at gK = 36, the band between the LPC curve and the top of the Hopf curve,
    the strip below the lower, subcritical, branch of the Hopf curve (whose LPC curve the
    diagram does not continue), rest on both sides of the firing range at gK = 36 and just
    above the LPC curve, repetitive firing inside the Hopf curve."""
    d = brainpy_plane
    g = d.grid
    points = [(5.75, 36), (42.5, 58), (5.75, 4), (0.5, 36), (189.5, 36), (32.0, 58),
              (21.5, 36), (100.25, 20)]
    sources = [(21.5, 36), (42.5, 50), (5.75, 8), (21.5, 36), (100.25, 36), (32.0, 50),
               (21.5, 36), (100.25, 20)]  # firing points the ramps start from
    shaded = []
    for I, gK in points:
        i, j = np.argmin(np.abs(g["I"] - I)), np.argmin(np.abs(g["gK"] - gK))
        assert g["I"][i] == pytest.approx(I) and g["gK"][j] == pytest.approx(gK)
        shaded.append(hh.scale.REGIMES[g["regime"][j, i]])
    rests = [any(np.linalg.eigvals(_jac(x, I=I, gK=gK)).real.max() < 0
                 for x in _equilibria(I, gK)) for I, gK in points]
    fires = _fires_after_ramps(sources, points)
    truth = [{(True, False): "rest", (False, True): "tonic", (True, True): "bistable"}
             .get((r, bool(f)), "neither") for r, f in zip(rests, fires)]
    assert shaded == truth
    assert sorted(set(truth)) == ["bistable", "rest", "tonic"]


@pytest.mark.parametrize("argv, message", [
    (["--params", "I", "I"], "two different"),
    (["--params", "I", "q"], "unknown --params"),
    (["--range", "0", "1", "5", "2"], "LO < HI"),
    (["--slices", "0"], "--slices"),
    (["--params", "I", "gK", "--set", "gK=3"], "do not also --set"),
])
def test_two_parameter_cli_rejects_bad_arguments(argv, message, capsys, tmp_path):
    from hhanalysis.cli import main

    assert main(["two-parameter", *argv, "--out", str(tmp_path / "x.png")]) == 2
    assert message in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_highest_temperature_of_a_hopf_point_against_scipy():
    """Classic preset, (I, T): the Hopf curve's maximum of T solves H = dH/dV = 0 with H the
    Routh-Hurwitz determinant a1 a2 a3 - a3^2 - a1^2 a4 of the characteristic polynomial
    (zero at a pair +-i omega), computed from the reference equations along the steady-state
    I-V curve (V parametrises the equilibria; T does not move them)."""
    def current(V):
        _, m, h, n = _steady(V)
        return 120 * m**3 * h * (V - 50) + 36 * n**4 * (V + 77) + 0.3 * (V + 54.387)

    def hurwitz(V, T):
        x = _steady(V)
        J = _jac(x, gL=0.3, T=T, I=current(V))
        _, a1, a2, a3, a4 = np.real(np.poly(J))
        return a1 * a2 * a3 - a3**2 - a1**2 * a4

    def eqs(z):
        V, T = z
        h = 1e-4
        return [hurwitz(V, T), (hurwitz(V + h, T) - hurwitz(V - h, T)) / (2 * h)]

    m = hh.hodgkin_huxley("classic")
    d = hh.two_parameter_diagram(m, ("I", "T"), {"I": (-10, 200), "T": (0, 35)}, slices=2,
                                 grid=(0, 0))
    top, = [s for s in d.turning_points if s.data.param_name == "T"]
    assert top.data.extremum == "max"
    V, T = fsolve(eqs, [top.state[0] + 0.5, top.params["T"] - 0.5], xtol=1e-12)
    assert top.params["T"] == pytest.approx(T, rel=1e-7)
    assert top.params["I"] == pytest.approx(current(V), rel=1e-5)
    gh, = d.codim2_points
    assert gh.kind == "gh" and gh.params["T"] < top.params["T"]
