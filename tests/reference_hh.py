"""An independent, hand-written numpy Hodgkin–Huxley (the seed's equations with the gating factor
x restored), used by the tests as a reference that shares no code with hhanalysis."""

import numpy as np


def rates(V):
    """alpha_m, beta_m, alpha_h, beta_h, alpha_n, beta_n in 1/ms (V in mV)."""
    am = 0.1 * (V + 40) / (1 - np.exp(-(V + 40) / 10))
    bm = 4.0 * np.exp(-(V + 65) / 18)
    ah = 0.07 * np.exp(-(V + 65) / 20)
    bh = 1 / (1 + np.exp(-(V + 35) / 10))
    an = 0.01 * (V + 55) / (1 - np.exp(-(V + 55) / 10))
    bn = 0.125 * np.exp(-(V + 65) / 80)
    return am, bm, ah, bh, an, bn


def rhs(x, ENa=50.0, gNa=120.0, EK=-77.0, gK=36.0, EL=-54.387, gL=0.03, V_th=20.0, C=1.0,
        I=0.0, T=6.3):
    V, m, h, n = x
    phi = 3.0 ** ((T - 6.3) / 10.0)
    am, bm, ah, bh, an, bn = rates(V)
    dV = (-(gNa * m**3 * h * (V - ENa) + gK * n**4 * (V - EK) + gL * (V - EL)) + I) / C
    return np.array([dV, phi * (am * (1 - m) - bm * m), phi * (ah * (1 - h) - bh * h),
                     phi * (an * (1 - n) - bn * n)])


def steady_state_balance(V, gL=0.03, I=0.0):
    """Net current with every gate at its steady state (zero at an equilibrium)."""
    am, bm, ah, bh, an, bn = rates(V)
    m, h, n = am / (am + bm), ah / (ah + bh), an / (an + bn)
    return -(120 * m**3 * h * (V - 50) + 36 * n**4 * (V + 77) + gL * (V + 54.387)) + I
