"""The symbolic models: names, defaults, presets, validation."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import hhanalysis as hh

SEED_DEFAULTS = dict(ENa=50.0, gNa=120.0, EK=-77.0, gK=36.0, EL=-54.387, gL=0.03, V_th=20.0,
                     C=1.0)


def test_hh_defaults_are_the_seeds():
    m = hh.hodgkin_huxley()
    assert m.state_names == ("V", "m", "h", "n")
    d = m.defaults
    for k, v in SEED_DEFAULTS.items():
        assert d[k] == v
    assert d["I"] == 0.0 and d["T"] == 6.3
    assert m.preset == "brainpy"


def test_classic_preset_differs_only_in_gL():
    a, b = hh.hodgkin_huxley().defaults, hh.hodgkin_huxley(preset="classic").defaults
    assert {k for k in a if a[k] != b[k]} == {"gL"}
    assert b["gL"] == 0.3


def test_overrides_and_with_params():
    m = hh.hodgkin_huxley(preset="classic", gK=30, I=5)
    assert m.defaults["gK"] == 30.0 and m.defaults["I"] == 5.0 and m.defaults["gL"] == 0.3
    m2 = m.with_params(I=7)
    assert m2.defaults["I"] == 7.0 and m.defaults["I"] == 5.0  # immutable
    assert np.array_equal(m.param_vector(I=7), m2.param_vector())


def test_unknown_parameter_lists_valid_names():
    with pytest.raises(ValueError) as e:
        hh.hodgkin_huxley(gna=1.0)
    msg = str(e.value)
    assert "gna" in msg and "gNa" in msg and "V_th" in msg


def test_unknown_preset():
    with pytest.raises(ValueError, match="brainpy"):
        hh.hodgkin_huxley(preset="nope")


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_values_rejected(bad):
    with pytest.raises(ValueError, match="gK"):
        hh.hodgkin_huxley(gK=bad)
    with pytest.raises(ValueError, match="I"):
        hh.fitzhugh_nagumo().param_vector(I=bad)


def test_wrong_shapes_and_types_rejected():
    with pytest.raises(ValueError, match="shape"):
        hh.hodgkin_huxley(I=np.ones(3))
    with pytest.raises(ValueError, match="real number"):
        hh.hodgkin_huxley(I="ten")
    m = hh.hodgkin_huxley()
    with pytest.raises(ValueError, match="missing"):
        m.state_vector(V=-65.0, m=0.1)
    with pytest.raises(ValueError, match="unknown"):
        m.state_vector(V=-65.0, m=0.1, h=0.5, n=0.3, q=1.0)


@given(name=st.text(min_size=1, max_size=8))
def test_property_unknown_names_always_named(name):
    m = hh.hodgkin_huxley()
    if name in m.param_names:
        return
    with pytest.raises(ValueError) as e:
        m.with_params(**{name: 1.0})
    assert repr(name) in str(e.value) and "valid names" in str(e.value)


@given(value=st.floats(allow_nan=True, allow_infinity=True))
def test_property_values_finite_or_rejected(value):
    m = hh.hodgkin_huxley()
    if math.isfinite(value) and value >= 0:
        assert m.with_params(gK=value).defaults["gK"] == value
    elif math.isfinite(value):  # a negative conductance: only when the user means it
        with pytest.raises(ValueError, match="gK must be >= 0"):
            m.with_params(gK=value)
        assert m.with_params(gK=value, nonphysical=True).defaults["gK"] == value
    else:
        with pytest.raises(ValueError, match="finite"):
            m.with_params(gK=value)


def test_display():
    m = hh.hodgkin_huxley()
    text = repr(m)
    assert "dV/dt" in text and "alpha_m" in text and "gNa" in text
    latex = m.latex()
    assert latex.startswith("\\begin{align}") and "\\frac{dV}{dt}" in latex
    assert "dv/dt" in hh.fitzhugh_nagumo().equations()
    assert "m_inf" in hh.morris_lecar().equations()


def test_model_construction_checks():
    import sympy as sp

    x = sp.Symbol("x")
    with pytest.raises(ValueError, match="undeclared"):
        hh.ODEModel("bad", (hh.StateVariable("x"),), (), (x + sp.Symbol("k"),))
    with pytest.raises(ValueError, match="unique"):
        hh.ODEModel("bad", (hh.StateVariable("x"),), (hh.Parameter("x", 1.0),), (x,))
