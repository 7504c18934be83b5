"""Equilibria: HH against scipy and AUTO-07p, FHN closed forms, sweeps, methods, bad input."""

import json
from pathlib import Path

import numpy as np
import pytest
import reference_hh
import scipy.optimize
from hypothesis import given, settings
from hypothesis import strategies as st

import hhanalysis as hh
from hhanalysis.equilibria import classify

REF = json.loads((Path(__file__).parent / "data" / "auto07p_hh_equilibria.json").read_text())


@pytest.mark.parametrize("preset,gL,V_rest", [("brainpy", 0.03, -70.68), ("classic", 0.3, -65.00)])
def test_hh_rest_against_scipy_and_auto(preset, gL, V_rest):
    eqs = hh.find_equilibria(hh.hodgkin_huxley(preset=preset))
    assert len(eqs) == 1
    eq = eqs[0]
    V_scipy = scipy.optimize.brentq(reference_hh.steady_state_balance, -90, -50, args=(gL, 0.0),
                                    xtol=1e-14, rtol=1e-15)
    assert abs(eq.x[0] - V_scipy) < 1e-9
    assert eq.x[0] == pytest.approx(V_rest, abs=0.005)
    ref = REF[preset]["equilibrium_I0"]
    np.testing.assert_allclose(eq.x, [ref[k] for k in "Vmhn"], rtol=1e-9)
    assert np.all(eq.eigenvalues.real < 0) and eq.stable
    assert eq.residual < 1e-12


@pytest.mark.parametrize("preset", ["brainpy", "classic"])
def test_hh_at_I10_is_two_negative_reals_and_an_unstable_pair(preset):
    eqs = hh.find_equilibria(hh.hodgkin_huxley(preset=preset), I=10.0)
    assert len(eqs) == 1
    lam = eqs[0].eigenvalues
    real = lam[np.abs(lam.imag) < 1e-12]
    pair = lam[np.abs(lam.imag) >= 1e-12]
    assert real.size == 2 and np.all(real.real < 0)
    assert pair.size == 2 and np.all(pair.real > 0) and np.isclose(pair[0], np.conj(pair[1]))
    assert eqs[0].stability == "saddle-focus"


def test_eigenvalues_against_numpy_on_finite_difference_jacobian():
    model = hh.hodgkin_huxley(I=10.0)
    eq = hh.find_equilibria(model)[0]
    cm = model.compile()
    p = model.param_vector()
    J = np.zeros((4, 4))
    for j in range(4):
        h = 1e-6 * max(1.0, abs(eq.x[j]))
        e = np.zeros(4)
        e[j] = h
        J[:, j] = (np.asarray(cm.f(eq.x + e, p)) - np.asarray(cm.f(eq.x - e, p))) / (2 * h)
    lam = np.sort_complex(np.linalg.eigvals(J))
    np.testing.assert_allclose(np.sort_complex(eq.eigenvalues), lam, rtol=1e-6)
    # eigenvectors: J v = lambda v and w^H J = lambda w^H, w^H v = 1
    V, W = eq.right_eigenvectors, eq.left_eigenvectors
    np.testing.assert_allclose(eq.jacobian @ V, V * eq.eigenvalues, atol=1e-10)
    np.testing.assert_allclose(W.conj().T @ eq.jacobian, eq.eigenvalues[:, None] * W.conj().T,
                               atol=1e-9)
    np.testing.assert_allclose(np.diag(W.conj().T @ V), 1.0, atol=1e-12)


def test_sweep_matches_scalar_calls():
    model = hh.hodgkin_huxley(preset="classic")
    I = np.linspace(0, 200, 10_001)
    sweep = hh.find_equilibria(model, I=I)
    assert sweep.sweep_shape == (10_001,)
    assert np.all(sweep.count == 1)
    np.testing.assert_array_equal(sweep.param("I"), I)
    for k in [0, 1234, 4888, 5000, 7777, 10_000]:
        single = hh.find_equilibria(model, I=I[k])
        np.testing.assert_allclose(sweep.x[k, 0], single.x[0], rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(sweep.eigenvalues[k, 0], single.eigenvalues[0], rtol=1e-10,
                                   atol=1e-12)
        assert sweep.select(k).x.shape == (1, 4)
    assert "saddle-focus" in set(sweep.stability[:, 0])


def test_sweep_broadcasts_several_parameters():
    model = hh.hodgkin_huxley()
    sweep = hh.find_equilibria(model, I=np.array([0.0, 10.0, 20.0])[:, None],
                               gK=np.array([30.0, 36.0]))
    assert sweep.sweep_shape == (3, 2)
    single = hh.find_equilibria(model, I=20.0, gK=30.0)
    np.testing.assert_allclose(sweep.x[2, 0, 0], single.x[0], rtol=1e-13)


def fhn_equilibria_closed_form(a, b, I):
    """Roots of v - v^3/3 - (v + a)/b + I = 0 (numpy.roots of the cubic)."""
    roots = np.roots([-1 / 3, 0.0, 1 - 1 / b, I - a / b])
    v = np.sort(roots[np.abs(roots.imag) < 1e-9].real)
    return np.column_stack([v, (v + a) / b])


@pytest.mark.parametrize("a,b,I", [(0.7, 0.8, 0.0), (0.7, 0.8, 0.5), (0.0, 2.0, 0.0),
                                   (0.1, 2.0, 0.05)])
def test_fhn_equilibria_closed_form(a, b, I):
    model = hh.fitzhugh_nagumo(a=a, b=b)
    expected = fhn_equilibria_closed_form(a, b, I)
    for method in ("reduction", "newton"):
        eqs = hh.find_equilibria(model, I=I, method=method)
        assert len(eqs) == len(expected), method
        np.testing.assert_allclose(eqs.x, expected, rtol=1e-10, atol=1e-12)


def test_morris_lecar_three_equilibria_both_methods():
    model = hh.morris_lecar()
    red = hh.find_equilibria(model, I=0.0)
    newton = hh.find_equilibria(model, I=0.0, method="newton", newton_starts=512)
    assert len(red) == 3 and len(newton) == 3
    np.testing.assert_allclose(red.x, newton.x, rtol=1e-9, atol=1e-10)
    assert [e.stability for e in red][1] == "saddle"


def test_classify():
    assert classify([-1, -2]) == "stable node"
    assert classify([-1 + 1j, -1 - 1j]) == "stable focus"
    assert classify([1, 2]) == "unstable node"
    assert classify([1 + 1j, 1 - 1j]) == "unstable focus"
    assert classify([1, -2]) == "saddle"
    assert classify([1 + 1j, 1 - 1j, -3]) == "saddle-focus"
    assert classify([1j, -1j, -3]) == "non-hyperbolic"


# --- bad input ---------------------------------------------------------------------------------


def test_nan_parameter_is_named():
    with pytest.raises(ValueError, match="'I'.*finite"):
        hh.find_equilibria(hh.hodgkin_huxley(), I=np.array([1.0, np.nan]))


def test_box_with_min_above_max():
    with pytest.raises(ValueError, match="box\\['V'\\]"):
        hh.find_equilibria(hh.hodgkin_huxley(), box={"V": (10, -10)})
    with pytest.raises(ValueError, match="unknown state"):
        hh.find_equilibria(hh.hodgkin_huxley(), box={"X": (0, 1)})


def test_no_equilibrium_in_box_says_so():
    eqs = hh.find_equilibria(hh.hodgkin_huxley(), box={"V": (0, 50)})
    assert len(eqs) == 0
    assert "no equilibrium" in eqs.message and "V in [0, 50]" in eqs.message
    assert "no equilibrium" in repr(eqs)


def test_bad_method_and_sizes():
    m = hh.hodgkin_huxley()
    with pytest.raises(ValueError, match="method"):
        hh.find_equilibria(m, method="magic")
    with pytest.raises(ValueError, match="grid_points"):
        hh.find_equilibria(m, grid_points=2)
    with pytest.raises(ValueError, match="shape|broadcast"):
        hh.find_equilibria(m, I=np.ones(3), gK=np.ones(4))


def test_sweep_object_guards_scalar_access():
    sweep = hh.find_equilibria(hh.hodgkin_huxley(), I=np.array([0.0, 1.0]))
    with pytest.raises(TypeError, match="select"):
        len(sweep)


@settings(max_examples=25, deadline=None)
@given(I=st.floats(min_value=-10, max_value=200))
def test_property_hh_equilibrium_is_unique_and_solves_f(I):
    model = hh.hodgkin_huxley(preset="classic")
    eqs = hh.find_equilibria(model, I=I)
    assert len(eqs) == 1
    assert eqs.residual[0] < 1e-11 and 0 <= eqs.x[0, 1] <= 1


def test_newton_sweep_matches_reduction_across_dedup_chunks():
    """A sweep longer than one deduplication chunk (128 rows at 256 starts, 2 states)."""
    model = hh.fitzhugh_nagumo(a=0.0, b=2.0)
    I = np.linspace(-0.4, 0.4, 300)  # crosses both folds: 1 or 3 equilibria
    red = hh.find_equilibria(model, I=I)
    newton = hh.find_equilibria(model, I=I, method="newton")
    np.testing.assert_array_equal(newton.count, red.count)
    assert set(np.unique(red.count)) == {1, 3}
    np.testing.assert_allclose(newton.x, red.x, rtol=1e-9, atol=1e-10)
