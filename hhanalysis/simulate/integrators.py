r"""Time-stepping methods for neuron groups, on structure-of-arrays states.

A state is an array ``X`` of shape ``(n, N)`` (n state variables of N neurons) and the parameters a
list ``P`` of arrays broadcastable to ``(N,)``; the generated functions of
:class:`~hhanalysis.codegen.CompiledModel` accept this layout directly. Every fixed-step method is a
pure function ``step(cm, X, P, dt) -> X_new`` with the input held constant over the step.

``'exp_auto'`` / ``'exponential_euler'`` (BrainPy's definition)
    :math:`x_i \leftarrow x_i + \Delta t\,\varphi(\Delta t\,J_{ii})\,f_i`,
    :math:`\varphi(z) = (e^z - 1)/z`, everything at the old state, :math:`J_{ii}` from the
    generated Jacobian diagonal. First order; exact for the HH gates given V (their equations are
    linear in themselves).
``'euler'``
    forward Euler, first order.
``'rk2'``
    Heun's method (explicit trapezoid), second order.
``'rk4'``
    the classical Runge–Kutta method, fourth order.
``'dopri5'``, ``'kvaerno5'``
    adaptive Dormand–Prince 5(4) and the stiff L-stable ESDIRK Kvaerno 5(4) from diffrax, for
    reference solutions: each time step of the runner is integrated with error control
    (:class:`AdaptiveSettings`).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp

__all__ = ["FIXED_STEP_METHODS", "ADAPTIVE_METHODS", "METHODS", "AdaptiveSettings",
           "exponential_euler", "euler", "rk2", "rk4", "check_method"]


def _f(cm, X, P):
    return jnp.stack(cm.f_fast(X, P))


def exponential_euler(cm, X, P, dt):
    out = cm.f_and_jac_diag(X, P)
    n = X.shape[0]
    f, d = jnp.stack(out[:n]), jnp.stack(out[n:])
    z = dt * d
    tiny = jnp.abs(z) < 1e-7  # phi(z) = dt (1 + z/2 + ...) = dt to the precision used
    return X + jnp.where(tiny, dt, (jnp.exp(z) - 1.0) / jnp.where(tiny, 1.0, d)) * f


def euler(cm, X, P, dt):
    return X + dt * _f(cm, X, P)


def rk2(cm, X, P, dt):
    k1 = _f(cm, X, P)
    k2 = _f(cm, X + dt * k1, P)
    return X + 0.5 * dt * (k1 + k2)


def rk4(cm, X, P, dt):
    k1 = _f(cm, X, P)
    k2 = _f(cm, X + 0.5 * dt * k1, P)
    k3 = _f(cm, X + 0.5 * dt * k2, P)
    k4 = _f(cm, X + dt * k3, P)
    return X + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


FIXED_STEP_METHODS = {
    "exp_auto": exponential_euler,
    "exponential_euler": exponential_euler,
    "euler": euler,
    "rk2": rk2,
    "rk4": rk4,
}
ADAPTIVE_METHODS = ("dopri5", "kvaerno5")
METHODS = tuple(FIXED_STEP_METHODS) + ADAPTIVE_METHODS


@dataclass(frozen=True)
class AdaptiveSettings:
    """Error control of the adaptive (diffrax) methods.

    Attributes:
        rtol, atol: relative and absolute tolerances of the PID step-size controller.
        max_steps: most internal steps per runner step.
    """

    rtol: float = 1e-9
    atol: float = 1e-9
    max_steps: int = 100_000

    def __post_init__(self):
        if not (self.rtol > 0 and self.atol > 0):
            raise ValueError(f"AdaptiveSettings: rtol and atol must be > 0, got {self.rtol}, "
                             f"{self.atol}")
        if int(self.max_steps) != self.max_steps or self.max_steps < 1:
            raise ValueError(f"AdaptiveSettings.max_steps must be a positive integer, got "
                             f"{self.max_steps!r}")


def check_method(method: str) -> str:
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; valid methods: {list(METHODS)}")
    return method


def adaptive_step(cm, method: str, settings: AdaptiveSettings):
    """A step function ``(X, P, dt) -> X_new`` integrating one runner step with diffrax."""
    import diffrax

    solver = diffrax.Dopri5() if method == "dopri5" else diffrax.Kvaerno5()
    controller = diffrax.PIDController(rtol=settings.rtol, atol=settings.atol)
    term = diffrax.ODETerm(lambda t, y, args: cm.f(y, args))

    def step(cm_, X, P, dt):
        sol = diffrax.diffeqsolve(term, solver, 0.0, dt, dt / 4, X, args=P,
                                  stepsize_controller=controller,
                                  max_steps=settings.max_steps, throw=False)
        ok = sol.result == diffrax.RESULTS.successful
        return jnp.where(ok, sol.ys[-1], jnp.nan)

    return step
