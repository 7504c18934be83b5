"""Vectorised equilibrium sweeps: the on-device reduction (one scan per distinct row of the
parameters the current balance's voltage-dependent part sees, a binary search per monotone run,
eigenvalues of the arrowhead Jacobian by Aberth) against independent numpy/scipy computations."""

from itertools import permutations

import numpy as np
import pytest
import reference_hh
import scipy.optimize

import hhanalysis as hh


def _roots_by_scipy(balance, lo, hi, points=3201):
    """All roots of a scalar function on [lo, hi]: sign changes on a fine grid, then brentq."""
    v = np.linspace(lo, hi, points)
    g = balance(v)
    cols = np.nonzero(np.sign(g[:-1]) * np.sign(g[1:]) < 0)[0]
    return np.array([scipy.optimize.brentq(balance, v[j], v[j + 1], xtol=1e-14, rtol=1e-15)
                     for j in cols])


def _ml_balance(V, I, gCa):
    """Morris-Lecar current balance with both gates at steady state (textbook formulas, the
    model's default parameters)."""
    m = 0.5 * (1 + np.tanh((V + 1.2) / 18.0))
    w = 0.5 * (1 + np.tanh((V - 12.0) / 17.4))
    return I - 2.0 * (V + 60.0) - gCa * m * (V - 120.0) - 8.0 * w * (V + 84.0)


def test_ml_grid_sweep_matches_scipy_and_numpy_eigenvalues():
    """A 2-D (I, gCa) grid with one and three equilibria per point: every root found, to 1e-9,
    and the eigenvalues equal LAPACK's at each."""
    model = hh.morris_lecar()
    I = np.linspace(-10.0, 90.0, 11)[:, None]
    gCa = np.array([3.5, 4.0, 4.4])
    eqs = hh.find_equilibria(model, I=I, gCa=gCa)
    assert eqs.sweep_shape == (11, 3)
    assert set(np.unique(eqs.count)) == {1, 3}
    cm = model.compile()
    for i in range(11):
        for k in range(3):
            roots = _roots_by_scipy(lambda V: _ml_balance(V, I[i, 0], gCa[k]), -100.0, 60.0)
            n = int(eqs.count[i, k])
            assert n == roots.size
            np.testing.assert_allclose(eqs.x[i, k, :n, 0], roots, atol=1e-9)
            for j in range(n):
                J = np.asarray(cm.jac_x(eqs.x[i, k, j], eqs.params[i, k]))
                ref = np.sort_complex(np.linalg.eigvals(J))
                got = np.sort_complex(eqs.eigenvalues[i, k, j])
                np.testing.assert_allclose(got, ref, atol=1e-11 * max(1, np.abs(ref).max()))


@pytest.mark.parametrize("preset,gL", [("brainpy", 0.03), ("classic", 0.3)])
def test_hh_current_sweep_matches_scipy(preset, gL):
    """A 1-D current sweep (one scan of the balance for all points) against brentq on the
    independent numpy balance of tests/reference_hh.py, and the spectra against LAPACK."""
    model = hh.hodgkin_huxley(preset=preset)
    I = np.linspace(0.0, 200.0, 2001)
    eqs = hh.find_equilibria(model, I=I)
    assert np.all(eqs.count == 1)
    for i in range(0, 2001, 250):
        V = scipy.optimize.brentq(reference_hh.steady_state_balance, -100, 60,
                                  args=(gL, I[i]), xtol=1e-14, rtol=1e-15)
        assert abs(eqs.x[i, 0, 0] - V) < 1e-9
    cm = model.compile()
    J = np.stack([np.asarray(cm.jac_x(x, p)) for x, p in zip(eqs.x[::97, 0], eqs.params[::97])])
    ref = np.linalg.eigvals(J)
    ref = np.take_along_axis(ref, hh.equilibria.spectrum_order(ref), -1)
    np.testing.assert_allclose(eqs.eigenvalues[::97, 0], ref, atol=1e-11 * np.abs(ref).max())
    # exact conjugate pairs and stability flags as LAPACK's
    assert np.array_equal(eqs.stable[::97, 0], np.all(ref.real < 0, axis=-1))


def test_grid_equals_list_of_parameter_sets():
    """Broadcast grid (one balance scan per gK) and the same points as a flat list (one scan per
    point) agree; each is checked against brentq above, here they must agree to round-off."""
    model = hh.hodgkin_huxley()
    I = np.linspace(0.0, 40.0, 9)[:, None]
    gK = np.linspace(10.0, 50.0, 5)
    grid = hh.find_equilibria(model, I=I, gK=gK)
    Ib, gKb = np.broadcast_arrays(I, gK)
    flat = hh.find_equilibria(model, I=Ib.ravel(), gK=gKb.ravel())
    np.testing.assert_allclose(flat.x.reshape(grid.x.shape), grid.x, rtol=1e-12, atol=1e-13)
    np.testing.assert_array_equal(flat.count.reshape(grid.count.shape), grid.count)
    np.testing.assert_allclose(flat.eigenvalues.reshape(grid.eigenvalues.shape),
                               grid.eigenvalues, rtol=1e-10, atol=1e-12)


def _poly_with_roots(roots):
    """Monic real coefficients, ascending, of the polynomial with these roots (numpy.poly)."""
    return np.poly(roots).real[::-1]


@pytest.mark.parametrize("degree", [2, 3, 4, 5])
def test_polynomial_roots_match_numpy_on_hostile_spectra(x64, degree):
    """The batched Aberth roots (Newton-polygon starts, the late rows iterated on their own)
    against numpy.roots: random spectra over six orders of magnitude, near-double roots (slow
    rows), a zero root, and the cases of the closed-form starts (degrees <= 4): all roots real,
    real and complex mixed, a biquadratic (no cubic term after the shift: Ferrari's s = 0
    branch), exact double roots (coinciding starts). One batch mostly fast (the late rows
    gathered), one all slow (more late rows than the gather holds: the whole batch
    iterates)."""
    import jax

    from hhanalysis.equilibria import _polynomial_roots

    roots = jax.jit(_polynomial_roots)
    rng = np.random.default_rng(degree)
    spectra = []
    for _ in range(59):
        half = degree // 2
        pairs = rng.uniform(-5, 5, half) * 10.0 ** rng.uniform(-3, 3, half)
        z = list(pairs + 1j * np.abs(pairs) * rng.uniform(0.1, 2, half))
        z += [np.conj(w) for w in z]
        z += list(-10.0 ** rng.uniform(-3, 3, degree - len(z)))
        spectra.append(z)
    for _ in range(16):
        spectra.append(list(-10.0 ** rng.uniform(-3, 3, degree)))  # all real
        z = rng.uniform(-5, 5) + 1j * rng.uniform(0.1, 5)  # one pair, the rest real
        spectra.append([z, np.conj(z)] + list(rng.uniform(-50, 5, degree - 2)))
    special = {2: [[-2.0, -2.0], [1j, -1j]],
               3: [[-1.0, -1.0, -3.0], [1j, -1j, 0.0], [-2.0, 1.0, 1.0]],
               4: [[1.0, -1.0, 2.0, -2.0], [1j, -1j, 2j, -2j], [-1.0, -1.0, -3.0, -4.0],
                   [-1.0, -1.0, -3.0, -3.0], [1 + 1j, 1 - 1j, -1 + 2j, -1 - 2j]],
               5: [[-1.0, -1.0, -2.0, -3.0, -4.0]]}[degree]
    spectra += special
    near = [[-1.0, -1.0 - 1e-6] + [-3.0 - k for k in range(degree - 2)] for _ in range(64)]
    zero = [[0.0] + [-(k + 1.0) for k in range(degree - 1)]]
    for batch in (spectra + near[:4] + zero, near):
        C = np.array([_poly_with_roots(z) for z in batch])
        got = np.asarray(roots(C))
        for c, g in zip(C, got):
            ref = np.roots(c[::-1])
            scale = max(1.0, np.abs(ref).max())
            # a near-double root is ill-conditioned: both methods agree to sqrt(eps) there
            tol = 1e-6 if np.min(np.abs(ref[:, None] - ref[None, :]) + np.eye(degree) * 9) < 1e-4 \
                else 1e-10
            # matched by the best permutation (sorting is unstable for roots that differ by
            # round-off in their real parts)
            err = min(np.abs(g[list(q)] - ref).max() for q in permutations(range(degree)))
            assert err <= tol * scale, (c, g, ref)
            assert np.array_equal(np.sort_complex(g), np.sort_complex(np.conj(g)))


def test_spectrum_sort_matches_spectrum_order(x64):
    from hhanalysis.equilibria import _sort_spectra, spectrum_order

    rng = np.random.default_rng(0)
    lam = rng.integers(-3, 3, (200, 5)) + 1j * rng.integers(-2, 3, (200, 5))
    ref = np.take_along_axis(lam, spectrum_order(lam), -1)
    re, im = _sort_spectra([lam[:, k].real for k in range(5)], [lam[:, k].imag for k in range(5)])
    assert np.array_equal(np.stack(re, -1) + 1j * np.stack(im, -1), ref)
