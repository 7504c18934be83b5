r"""Phase response curves (PRC) and the phase reduction of periodic orbits.

A stable periodic orbit :math:`x_0(t)` of :math:`\dot x = f(x, p)` with period :math:`T`
carries an *asymptotic phase* :math:`\vartheta(x)` (in time units) on its basin: the time shift of
the orbit that a trajectory from :math:`x` approaches. On the orbit :math:`\vartheta = t` (mod
:math:`T`) and :math:`\dot\vartheta = 1`. Its gradient on the orbit,

.. math::
    Z(t) = \nabla\vartheta(x_0(t)),

is the **infinitesimal phase response curve**: a small instantaneous kick :math:`\Delta x` at
time :math:`t` advances all following spikes by :math:`Z(t)\cdot\Delta x` time units (to first
order). It is the periodic solution of the **adjoint variational equation**

.. math::
    \dot Z = -J(x_0(t))^{\mathsf T} Z, \qquad Z(t + T) = Z(t), \qquad Z(t)\cdot f(x_0(t)) = 1,

the last condition (:math:`\dot\vartheta = 1`) being constant in time for any solution, since
:math:`\tfrac{d}{dt}(Z\cdot f) = -J^{\mathsf T}Z\cdot f + Z\cdot J f = 0`.

**Adjoint on the collocation mesh** (Govaerts & Sautois, *Neural Comput.* 18 (2006) 817: the
PRC as a left null vector of the collocation Jacobian, as MatCont computes it). In the rescaled
time :math:`\tau = t/T` the orbit solves the collocation equations
:math:`c_{ig} = x'(\tau_{ig})/h_i - T f(x(\tau_{ig}))` at the Gauss points :math:`\tau_{ig}` of
every mesh interval, plus periodicity (:mod:`~hhanalysis.continuation.collocation`). Testing them
with a smooth :math:`z(\tau)` and integrating by parts,

.. math::
    \int_0^1 z\cdot(x' - T J x)\,d\tau
    = -\int_0^1 (z' + T J^{\mathsf T} z)\cdot x\,d\tau \quad(\text{periodic } x, z),

so the left null vector :math:`y` of the Jacobian of the collocation and periodicity equations
holds the adjoint at the Gauss points, :math:`y_{ig} \propto h_i w_g\,z(\tau_{ig})`. It is one
transposed solve with the bordered matrix of the structured collocation solver (its
:math:`T`-column is :math:`\partial c/\partial T = -f`, so the right-hand side :math:`e_T` scales
:math:`y` to :math:`\sum_{ig} h_i w_g\,z_{ig}\cdot f_{ig} = 1`, the discrete
:math:`\int_0^1 Z\cdot f\,d\tau = 1`): no time integration, no dense matrix. Because the Gauss
collocation is the Gauss Runge–Kutta method and that method is its own discrete adjoint, the
:math:`z_{ig}` are the stage values of the Gauss method on the adjoint equation; the values at the
mesh points follow from the boundary terms of the same integration by parts,

.. math::
    z(\tau_i) = -\sum_g w_g\big(\ell_0'(\sigma_g)\,z_{ig}
                 - h_i T\,\ell_0(\sigma_g)\,J_{ig}^{\mathsf T} z_{ig}\big),

(:math:`\ell_0` the Lagrange polynomial of the interval's left node), accurate to
:math:`O(h^{2m})` like the orbit's own mesh values (the stage values and the collocation
polynomials between the mesh points are only :math:`O(h^{m+1})`). The left null vector is computed
interval by interval (:func:`adjoint_mesh_values`: small local solves and the eigenvector of the
discrete transposed monodromy matrix for the multiplier 1), or, as a cross-check, by one transposed
solve of the structured bordered collocation solver. Between the mesh points, the orbit and
:math:`Z` at the sampled phases come from a few steps of an explicit order-6 Runge–Kutta
method on the joint system
:math:`(\dot x, \dot Z) = (f, -J^{\mathsf T} Z)` started at the nearest mesh point, which keeps
the mesh points' accuracy. The error of the normalisation :math:`\max|Z\cdot f - 1|` at the mesh
points and the sampled phases is reported as a diagnostic (``normalisation_error``), never
imposed.

**Conventions.** ``phase`` :math:`\theta \in [0, 1)` is the fraction of the period since the
*zero-phase event*: by default the maximum of the first state (the spike peak of V), or a
state's maximum or upward crossing of a level (``zero_phase``). ``prc["V"]`` is
:math:`Z_V(\theta)` in the model's time unit per unit of V (ms/mV for the neuron models): a
current pulse of charge :math:`q` (µC/cm² = µA·ms/cm²) at phase :math:`\theta` kicks V by
:math:`q/C` and advances the next spikes by :math:`Z_V(\theta)\,q/C` ms (delays them where
:math:`Z_V < 0`). Type I oscillators (born at a saddle-node on invariant circle, SNIC) have
:math:`Z_V \ge 0`, close to :math:`1 - \cos 2\pi\theta` near onset; type II (born at a Hopf point,
like HH) have a negative lobe, close to a sinusoid near a supercritical Hopf point.

**Weak coupling** (Kuramoto; Ermentrout & Kopell 1991; Ermentrout & Terman, *Mathematical
Foundations of Neuroscience*, ch. 9). Two identical cells
:math:`\dot x_1 = f(x_1) + G(x_1, x_2)`, :math:`\dot x_2 = f(x_2) + G(x_2, x_1)` with weak
coupling :math:`G` keep their phases :math:`\vartheta_i` and, averaged over a period,

.. math::
    \dot\vartheta_1 = 1 + H(\vartheta_2 - \vartheta_1), \qquad
    H(\varphi) = \frac1T \int_0^T Z(t)\cdot G\big(x_0(t), x_0(t + \varphi T)\big)\,dt

(:func:`interaction_function`, :math:`\varphi` a fraction of the period). The phase difference
:math:`\varphi = (\vartheta_2 - \vartheta_1)/T` obeys
:math:`\dot\varphi = -\tfrac{2}{T} H_{odd}(\varphi)`, :math:`H_{odd}(\varphi) =
\tfrac12(H(\varphi) - H(-\varphi))`: the phase-locked states are the zeros of :math:`H_{odd}`
(0 and 1/2 always), stable where :math:`H_{odd}' > 0`.

**Finite pulses** (:func:`direct_phase_response`): the PRC measured by simulation, the shift of
a later threshold crossing after a kick (or a rectangular pulse) at each phase, all phases in one
``vmap``-ed RK4 integration: the independent check of the adjoint, and the PRC of finite stimuli.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from .codegen import CompiledModel
from .continuation.collocation import (
    Discretisation,
    adapted_mesh,
    basis,
    collocation_problem,
    evaluate,
    node_times,
)
from .continuation.points import PeriodicOrbit, periodic_orbit
from .models import ODEModel
from .precision import float64

__all__ = ["PhaseResponse", "DirectPhaseResponse", "Interaction", "Coupling", "phase_response",
           "direct_phase_response", "interaction_function", "gap_junction", "synapse",
           "fourier_coefficients", "orbit_from_simulation", "adjoint_mesh_values",
           "plot_phase_response"]


def _pytree(cls):
    meta = [f.name for f in cls.__dataclass_fields__.values() if f.metadata.get("static")]
    data = [f.name for f in cls.__dataclass_fields__.values() if not f.metadata.get("static")]
    return jax.tree_util.register_dataclass(cls, data_fields=data, meta_fields=meta)


def _static(default=None):
    return field(default=default, metadata={"static": True})


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@_pytree
@dataclass(frozen=True)
class PhaseResponse:
    r"""The infinitesimal phase response curve of a periodic orbit (or of every orbit of a branch:
    then every array field has a leading axis of the orbits).

    Attributes:
        phase: :math:`\theta_j = j/P`, ``(P,)``: fractions of the period since the zero-phase
            event (see ``zero_phase``).
        Z: :math:`Z(\theta_j)`, ``(..., P, n)``: phase advance (model time units) per unit
            instantaneous kick of each state; ``prc["V"]`` is one column.
        orbit: :math:`x_0(\theta_j)`, ``(..., P, n)``, the orbit at the same phases.
        period: :math:`T` in model time units, ``(...)``.
        normalisation_error: :math:`\max|Z\cdot f(x_0) - 1|` over the mesh points and ``phase``.
        params: every parameter value of the orbit (name -> value).
        Z_mesh, mesh, tau0: :math:`Z` at the mesh points ``(..., ntst+1, n)`` of the orbit's
            collocation ``mesh`` (its rescaled time :math:`\tau`) and the rescaled time
            :math:`\tau_0` of the zero-phase event (:math:`\theta = \tau - \tau_0` mod 1).
        state_names, time_unit, zero_phase, ncol: static descriptions.
    """

    phase: jax.Array
    Z: jax.Array
    orbit: jax.Array
    period: jax.Array
    normalisation_error: jax.Array
    params: dict
    Z_mesh: jax.Array
    mesh: jax.Array
    tau0: jax.Array
    state_names: tuple = _static(())
    time_unit: str = _static("ms")
    zero_phase: tuple = _static(())
    ncol: int = _static(4)

    def __getitem__(self, name: str):
        """:math:`Z` of the state ``name`` at ``phase``, ``(..., P)``."""
        return self.Z[..., self._index(name)]

    def _index(self, name: str) -> int:
        if name not in self.state_names:
            raise ValueError(f"unknown state {name!r}; valid names: {list(self.state_names)}")
        return self.state_names.index(name)

    def state(self, name: str):
        """The orbit's state ``name`` at ``phase``, ``(..., P)``."""
        return self.orbit[..., self._index(name)]

    @property
    def time(self):
        r""":math:`t = \theta T`, ``(..., P)``."""
        return self.phase * jnp.asarray(self.period)[..., None]

    def fourier(self, name: str = "V", terms: int = 3):
        """:func:`fourier_coefficients` of ``prc[name]``."""
        return fourier_coefficients(self[name], terms)

    @property
    def zero_phase_event(self) -> str:
        """The event at :math:`\\theta = 0`, in words."""
        kind, state, level = self.zero_phase
        return (f"maximum of {state}" if kind == "peak"
                else f"upward crossing of {state} = {level:g}")

    def __len__(self) -> int:
        return 1 if np.ndim(self.period) == 0 else int(np.shape(self.period)[0])

    def __repr__(self) -> str:
        if isinstance(self.period, jax.core.Tracer):
            return "PhaseResponse(traced)"
        T = np.asarray(self.period)
        per = f"period={float(T):.8g}" if T.ndim == 0 else f"{T.size} orbits"
        return (f"PhaseResponse({per} {self.time_unit}, {self.phase.size} phases, theta=0 at "
                f"the {self.zero_phase_event}, max|Z.f-1|="
                f"{float(np.max(self.normalisation_error)):.1e})")


def fourier_coefficients(values, terms: int = 3):
    r"""Real Fourier coefficients of samples at :math:`\theta_j = j/P`:
    :math:`v(\theta) \approx a_0 + \sum_{k\ge1} a_k\cos 2\pi k\theta + b_k \sin 2\pi k\theta`.

    Returns ``(a, b)`` of shape ``(..., terms + 1)`` (``b[..., 0] = 0``)."""
    v = np.asarray(values)
    c = np.fft.rfft(v, axis=-1) / v.shape[-1]
    a = 2 * c.real[..., :terms + 1]
    b = -2 * c.imag[..., :terms + 1]
    a[..., 0] /= 2
    b[..., 0] = 0.0
    return a, b


# --------------------------------------------------------------------------------------------
# The adjoint on the collocation mesh
# --------------------------------------------------------------------------------------------


def _interval_blocks(cm, X, T, p, mesh, ncol):
    r"""The collocation blocks :math:`A_i` ``(ntst, m n, (m+1) n)`` of
    :math:`c_{ig} = \sum_j \ell_j'(\sigma_g) x_{ij}/h_i - T f(x(\tau_{ig}))` in the node values
    (unscaled), and :math:`f` at the Gauss points ``(ntst, m, n)``."""
    n, m = X.shape[1], ncol
    ntst = mesh.shape[0] - 1
    bas = basis(ncol)
    L, D = jnp.asarray(bas.L), jnp.asarray(bas.D)
    h = jnp.diff(mesh)
    idx = np.arange(ntst)[:, None] * m + np.arange(m + 1)[None, :]
    xg = jnp.einsum("gj,ijn->ign", L, X[idx]).reshape(-1, n)
    J = jax.vmap(cm.jac_x, (0, None))(xg, p).reshape(ntst, m, n, n)
    fg = jax.vmap(cm.f, (0, None))(xg, p).reshape(ntst, m, n)
    eye = jnp.eye(n)
    A = (jnp.einsum("gj,ab,i->igajb", D, eye, 1.0 / h)
         - T * jnp.einsum("gj,igab->igajb", L, J))
    return A.reshape(ntst, m * n, (m + 1) * n), fg


def _suffix_products(Psi):
    r""":math:`S_i = \Psi_i \Psi_{i+1} \cdots \Psi_{N-1}` for all :math:`i` (log-depth scan)."""
    return jax.lax.associative_scan(lambda a, b: jnp.matmul(b, a), Psi[::-1])[::-1]


def adjoint_mesh_values(cm, X, T, p, mesh, ncol):
    r""":math:`Z` at the mesh points ``(ntst+1, n)``, scaled so that
    :math:`\sum h_i w_g Z_{ig}\cdot f_{ig} = 1`: the left null vector of the collocation and
    periodicity equations, computed interval by interval (traceable; see the module docstring).

    With :math:`y_i` the multipliers of the Gauss equations of interval :math:`i` and
    :math:`\zeta_{i+1} = (A_i^{\mathsf T} y_i)_{\text{right node}}`, the left null vector
    conditions are: :math:`(A_i^{\mathsf T} y_i)` vanishes on the interior nodes and
    :math:`(A_i^{\mathsf T} y_i)_{\text{left node}} = -\zeta_i` (the shared node, periodically).
    The first two give :math:`y_i = Y_i\zeta_{i+1}` (one small solve per interval, all at once),
    the last the backward map :math:`\zeta_i = \Psi_i\zeta_{i+1}`,
    :math:`\Psi_i = -A_{i,0}^{\mathsf T} Y_i`; :math:`\zeta_N = \zeta_0` is the eigenvector of
    :math:`\Psi_0\cdots\Psi_{N-1}` (the discrete transposed monodromy matrix) for the
    eigenvalue 1, and the suffix products give every :math:`\zeta_i`. Going backward in time
    the adjoint of a stable orbit contracts, so the products stay accurate. The scale follows
    from the :math:`T` column :math:`-f` (module docstring): :math:`Z(\tau_i) = -\zeta_i/s`,
    :math:`s = -\sum_{ig} y_{ig}\cdot f_{ig}`.
    """
    n, m = X.shape[1], ncol
    A, fg = _interval_blocks(cm, X, T, p, mesh, ncol)
    B = jnp.swapaxes(A[:, :, n:], 1, 2)  # (ntst, mn, mn): columns of nodes 1..m, transposed
    rhs = jnp.zeros((m * n, n)).at[(m - 1) * n:].set(jnp.eye(n))
    Y = jnp.linalg.solve(B, jnp.broadcast_to(rhs, B.shape[:1] + rhs.shape))
    Psi = -jnp.einsum("irc,ird->icd", A[:, :, :n], Y)
    S = _suffix_products(Psi)
    _, _, vt = jnp.linalg.svd(S[0] - jnp.eye(n))
    zeta_N = vt[-1]
    zeta = jnp.concatenate([jnp.einsum("icd,d->ic", S, zeta_N), zeta_N[None]])
    y = jnp.einsum("ird,id->ir", Y, zeta[1:])
    scale = -jnp.sum(y * fg.reshape(y.shape))
    return -zeta / scale


_adjoint_jit = jax.jit(adjoint_mesh_values, static_argnums=(0, 5))


@functools.cache
def _adjoint_bordered(cm: CompiledModel, k: int, ntst: int, ncol: int):
    r"""The same mesh values from one transposed solve with the bordered matrix of the structured
    collocation solver (``jax.vjp`` of :func:`collocation_problem`'s solve, as
    :mod:`~hhanalysis.continuation.problems.lpc` transposes it): :math:`A^{\mathsf T} y = e_T`.
    Slower (~5 forward solves); the independent route that tests/test_phase.py and
    benchmarks/bench_prc.py compare :func:`adjoint_mesh_values` with."""
    n, m = len(cm.state_names), ncol
    disc = Discretisation(n, ntst, ncol)
    problem = collocation_problem(cm, k, ntst, ncol)

    def adjoint(X, T, p, mesh):
        h = jnp.diff(mesh)
        u = disc.pack(X, T, p[k])
        row = jnp.zeros_like(u).at[-1].set(1.0)

        def solve(b):
            return problem.solve(u, (p, h), u, row, b)[0]

        e_T = jnp.zeros_like(u).at[-2].set(1.0)
        y = jax.vjp(solve, jnp.zeros_like(u))[1](e_T)[0]
        yc = y[:ntst * m * n].reshape(ntst, m * n)
        A, _ = _interval_blocks(cm, X, T, p, mesh, ncol)
        # Z(tau_i) = (A_i^T y_i) at the interval's left node (the integration by parts)
        z = jnp.einsum("irc,ir->ic", A[:, :, :n], yc)
        return jnp.concatenate([z, z[:1]])

    return adjoint


# --------------------------------------------------------------------------------------------
# Between the mesh points: a few Runge-Kutta steps of the orbit and the adjoint (dense output)
# --------------------------------------------------------------------------------------------

#: Butcher's explicit Runge-Kutta method of order 6 with 7 stages (Butcher, *Numerical Methods
#: for Ordinary Differential Equations*, 2nd ed. (2008), sec. 325): the nodes c, the stage
#: matrix A (strictly lower triangular) and the weights b.
BUTCHER6 = (
    np.array([0.0, 1 / 3, 2 / 3, 1 / 3, 1 / 2, 1 / 2, 1.0]),
    np.array([[0, 0, 0, 0, 0, 0, 0],
              [1 / 3, 0, 0, 0, 0, 0, 0],
              [0, 2 / 3, 0, 0, 0, 0, 0],
              [1 / 12, 1 / 3, -1 / 12, 0, 0, 0, 0],
              [-1 / 16, 9 / 8, -3 / 16, -3 / 8, 0, 0, 0],
              [0, 9 / 8, -3 / 8, -3 / 4, 1 / 2, 0, 0],
              [9 / 44, -9 / 11, 63 / 44, 18 / 11, 0, -16 / 11, 0]]),
    np.array([11 / 120, 0, 27 / 40, 27 / 40, -4 / 15, -4 / 15, 11 / 120]),
)

#: Substeps of the order-6 method from the nearest mesh point to a sampled phase: the
#: collocation polynomials are O(h^(m+1)) between the mesh points, the mesh values O(h^(2m));
#: 4 substeps (28 evaluations of f and J^T z) keep the mesh points' accuracy on HH classic at
#: NTST = 100 (the dense output alone adds ~5e-11 to |Z.f - 1|, as 16 RK4 substeps, 64
#: evaluations, did; 3 substeps add ~3e-10).
DENSE_SUBSTEPS = 4


def _joint_rhs(cm, p, T):
    def F(x, z):
        J = cm.jac_x(x, p)
        return T * cm.f(x, p), -T * (J.T @ z)

    return F


def _dense(cm, Xm, Zm, mesh, T, p, tau, substeps=DENSE_SUBSTEPS, tableau=BUTCHER6):
    r""":math:`x_0(\tau)` and :math:`Z(\tau)` at rescaled times ``tau`` ``(P,)``: an explicit
    Runge-Kutta method (``tableau``, default :data:`BUTCHER6`) on :math:`x' = T f(x)`,
    :math:`z' = -T J^{\mathsf T} z` from the nearest mesh point (vectorised over the
    samples)."""
    ntst = mesh.shape[0] - 1
    tau = jnp.mod(tau, 1.0)
    i = jnp.clip(jnp.searchsorted(mesh, tau, side="right", method="compare_all") - 1,
                 0, ntst - 1)
    i = jnp.where(tau - mesh[i] <= mesh[i + 1] - tau, i, i + 1)
    dt = (tau - mesh[i]) / substeps
    F = jax.vmap(_joint_rhs(cm, p, T))
    _, A, b = (jnp.asarray(a) for a in tableau)
    s = b.shape[0]

    def step(c, _):
        # the stages as a scan over the rows of A: one copy of f and J in the compiled graph
        def stage(K, k):
            Kx, Kz = K
            x, z = c
            kx, kz = F(x + dt[:, None] * jnp.einsum("s,sin->in", A[k], Kx),
                       z + dt[:, None] * jnp.einsum("s,sin->in", A[k], Kz))
            return (Kx.at[k].set(kx), Kz.at[k].set(kz)), None

        x, z = c
        K0 = (jnp.zeros((s,) + x.shape, x.dtype), jnp.zeros((s,) + z.shape, z.dtype))
        (Kx, Kz), _ = jax.lax.scan(stage, K0, jnp.arange(s))
        return (x + dt[:, None] * jnp.einsum("s,sin->in", b, Kx),
                z + dt[:, None] * jnp.einsum("s,sin->in", b, Kz)), None

    (x, z), _ = jax.lax.scan(step, (Xm[i], Zm[i]), None, length=substeps)
    return x, z


def _zero_phase_tau(cm, X, Xm, Zm, mesh, T, p, ncol, zero_phase):
    r"""Rescaled time :math:`\tau_0` of the zero-phase event: the maximum of state :math:`j`
    (:math:`f_j(x_0(\tau)) = 0`) or its upward crossing of a level. Newton from the best node
    with the dense orbit and the exact derivative (:math:`dx/d\tau = T f`); the iterations are
    not differentiated, the last step is (so :math:`\tau_0` has the implicit derivative)."""
    kind, j, level = zero_phase
    tn = node_times(mesh, ncol, xp=jnp)
    if kind == "peak":
        tau = tn[jnp.argmax(X[:, j])]
    else:
        x = X[:, j]
        up = (x[:-1] < level) & (x[1:] >= level)
        k = jnp.argmax(jnp.where(up, x[1:] - x[:-1], -jnp.inf))  # the steepest upward crossing
        tau = tn[k] + (level - x[k]) / (x[k + 1] - x[k]) * (tn[k + 1] - tn[k])

    def step(t, _):
        x, _ = _dense(cm, Xm, Zm, mesh, T, p, t[None])
        fx = cm.f(x[0], p)
        if kind == "peak":
            g, dg = fx[j], T * (cm.jac_x(x[0], p) @ fx)[j]
        else:
            g, dg = x[0, j] - level, T * fx[j]
        return t - g / dg, None

    tau = jax.lax.stop_gradient(jax.lax.scan(step, tau, None, length=3)[0])
    return jnp.mod(step(tau, None)[0], 1.0)


@functools.cache
def _prc_function(cm: CompiledModel, ncol: int, points: int, zero_phase: tuple):
    """The jitted PRC of a batch of orbits ``(X, T, p, mesh)`` (leading axis: the orbits)."""
    theta = jnp.arange(points) / points

    def one(X, T, p, mesh):
        Zm = adjoint_mesh_values(cm, X, T, p, mesh, ncol)
        Xm = X[::ncol]
        tau0 = _zero_phase_tau(cm, X, Xm, Zm, mesh, T, p, ncol, zero_phase)
        x, Z = _dense(cm, Xm, Zm, mesh, T, p, tau0 + theta)
        fx = jax.vmap(cm.f, (0, None))
        err = jnp.maximum(jnp.max(jnp.abs(jnp.sum(Z * fx(x, p), 1) - 1.0)),
                          jnp.max(jnp.abs(jnp.sum(Zm * fx(Xm, p), 1) - 1.0)))
        return Z, x, err, Zm, tau0

    return jax.jit(jax.vmap(one))


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------


def _zero_phase_spec(names, zero_phase):
    """``('peak', j, 0.0)`` or ``('level', j, value)`` from None, a state name or
    ``(name, level)``; ``names``: the state names."""
    names = tuple(names)
    if zero_phase is None:
        return ("peak", 0, 0.0)
    if isinstance(zero_phase, str):
        if zero_phase not in names:
            raise ValueError(f"zero_phase = {zero_phase!r}: not a state; valid names: "
                             f"{list(names)}")
        return ("peak", names.index(zero_phase), 0.0)
    if (isinstance(zero_phase, tuple) and len(zero_phase) == 2
            and isinstance(zero_phase[0], str)):
        name, level = zero_phase
        if name not in names:
            raise ValueError(f"zero_phase = {zero_phase!r}: {name!r} is not a state; valid "
                             f"names: {list(names)}")
        return ("level", names.index(name), _number("the zero_phase level", level))
    raise ValueError(f"zero_phase must be None (maximum of the first state), a state name (its "
                     f"maximum) or (state name, level) (its upward crossing), got {zero_phase!r}")


def _check_points(points) -> int:
    if isinstance(points, bool) or not isinstance(points, (int, np.integer)) or points < 8:
        raise ValueError(f"points = {points!r}: must be an integer >= 8")
    return int(points)


@float64
def phase_response(source, index=None, *, zero_phase=None, points: int = 256,
                   ntst: int = 100, ncol: int = 4, x0=None, transient: float | None = None,
                   **params) -> PhaseResponse:
    r"""The infinitesimal phase response curve :math:`Z(\theta)` of a periodic orbit, from the
    adjoint on its collocation mesh (module docstring: the left null vector of the collocation
    Jacobian, normalised by :math:`Z\cdot f = 1`).

    Arguments:
        source: a model and (as ``index``) its
            :class:`~hhanalysis.continuation.points.PeriodicOrbit`, or the orbit alone (its
            model must have been compiled in this session), e.g. from
            :func:`~hhanalysis.periodic_orbit` (traced values work, so ``jax.jacfwd`` of the PRC
            in a parameter goes through the orbit's implicit derivative); a cycle branch
            (:func:`~hhanalysis.continue_cycles`) with ``index`` an orbit number (one PRC), a
            sequence of numbers or None (the PRCs of those or of all its orbits in one
            ``vmap``); or an :class:`~hhanalysis.ODEModel`: its orbit at ``**params`` is found
            by simulation from ``x0`` and refined by collocation (NTST ``ntst``, NCOL
            ``ncol``, adapted mesh).
        index: the orbit(s) of a branch, or the PeriodicOrbit of a model.
        zero_phase: the event at :math:`\theta = 0`: None (the maximum of the first state: the
            spike peak of V), a state name (its maximum) or ``(name, level)`` (its upward
            crossing of ``level``).
        points: number of phases :math:`\theta_j = j/P` (>= 8).
        ntst, ncol: collocation of an orbit found from a model.
        x0: initial state of that simulation (default: the middle of every state's range).
        transient: simulated time before the orbit is read off (default: 40 periods of the
            first spike interval found, at least 200 time units).
        **params: parameter values for a model (others keep the model's defaults).

    Returns:
        :class:`PhaseResponse`.

    Raises:
        ValueError: a source of another type, bad ``index``/``zero_phase``/``points``, parameters
            with a PeriodicOrbit or branch (compute the orbit at them first), or no periodic
            firing found in the simulation of a model.
    """
    points = _check_points(points)
    if isinstance(source, ODEModel) and isinstance(index, PeriodicOrbit):
        if params:
            raise ValueError(f"parameters {sorted(params)}: the orbit fixes them (compute it at "
                             f"them with hh.periodic_orbit(model, guess, **params))")
        return _from_orbit(source, index, zero_phase, points)
    if isinstance(source, ODEModel):
        if index is not None:
            raise ValueError("index: with a model, give a PeriodicOrbit or nothing")
        orbit = orbit_from_simulation(source, x0=x0, transient=transient, ntst=ntst, ncol=ncol,
                                      **params)
        return _from_orbit(source, orbit, zero_phase, points)
    if params:
        raise ValueError(f"parameters {sorted(params)}: give parameter values only with a model; "
                         f"for an orbit, compute it at them first (hh.periodic_orbit(model, "
                         f"guess, **params))")
    if isinstance(source, PeriodicOrbit):
        if index is not None:
            raise ValueError("index: only for a cycle branch")
        return _from_orbit(None, source, zero_phase, points)
    if hasattr(source, "orbits") and hasattr(source, "mesh") and hasattr(source, "collocation"):
        return _from_branch(source, index, zero_phase, points)
    raise ValueError(f"source must be a PeriodicOrbit, a cycle branch or a model, got "
                     f"{type(source).__name__}")


def _from_orbit(model, orbit: PeriodicOrbit, zero_phase, points):
    from .codegen import _CACHE  # the compiled model of the orbit's state and parameter names

    cm = _compiled_for(orbit, model, _CACHE)
    spec = _zero_phase_spec(orbit.state_names, zero_phase)
    traced = any(isinstance(a, jax.core.Tracer) for a in jax.tree_util.tree_leaves(orbit))
    xp = jnp if traced else np  # concrete inputs go to the compiled function as numpy arrays
    p = xp.stack([xp.asarray(orbit.params[name], dtype=float) for name in cm.param_names])
    fn = _prc_function(cm, orbit.ncol, points, spec)  # one compiled (batched) function
    out = fn(xp.asarray(orbit.orbit)[None], xp.asarray(orbit.period)[None], p[None],
             xp.asarray(orbit.mesh)[None])
    Z, x, err, Zn, tau0 = (a[0] for a in (out if traced else jax.device_get(out)))
    result = PhaseResponse(phase=np.arange(points) / points, Z=Z, orbit=x, period=orbit.period,
                           normalisation_error=err, params=dict(orbit.params), Z_mesh=Zn,
                           mesh=orbit.mesh, tau0=tau0, state_names=orbit.state_names,
                           time_unit=_time_unit(model),
                           zero_phase=_spec_names(orbit.state_names, spec), ncol=orbit.ncol)
    return result if traced else _numpy(result)


def _time_unit(model):
    return getattr(model, "time_unit", "ms") if model is not None else "ms"


def _compiled_for(orbit, model, cache):
    """The compiled model of ``orbit``: from ``model``, else the one compiled model with the
    orbit's state names and parameter names."""
    if model is not None:
        return model.compile()
    names = tuple(orbit.params)
    found = [cm for cm in cache.values()
             if cm.state_names == tuple(orbit.state_names) and cm.param_names == names]
    if len(found) != 1:
        raise ValueError("the orbit's model is not compiled in this session (or ambiguous): "
                         "call phase_response on an orbit from periodic_orbit(model, ...)")
    return found[0]


def _spec_names(state_names, spec):
    kind, j, level = spec
    return (kind, state_names[j], level)


def _from_branch(branch, index, zero_phase, points):
    model = branch.model
    cm = model.compile()
    k = cm.param_index(branch.param_name)
    spec = _zero_phase_spec(model.state_names, zero_phase)
    M = len(branch)
    if index is None:
        sel = np.arange(M)
    else:
        try:
            sel = np.asarray(index, dtype=int)
        except (TypeError, ValueError):
            raise ValueError(f"index = {index!r}: must be an orbit number, a sequence of "
                             f"them or None") from None
        if sel.ndim > 1 or np.any(sel < -M) or np.any(sel >= M):
            raise ValueError(f"index = {index!r}: the branch has {M} orbits")
    single = sel.ndim == 0
    sel = np.atleast_1d(sel) % M
    base = {**model.defaults, **getattr(branch, "params", {})}
    P = np.repeat(model.param_vector(**base)[None], sel.size, axis=0)
    P[:, k] = branch.param[sel]
    col = branch.collocation
    fn = _prc_function(cm, col.ncol, points, spec)
    mesh = jnp.asarray(branch.mesh[sel])
    Z, x, err, Zn, tau0 = fn(jnp.asarray(branch.orbits[sel]), jnp.asarray(branch.period[sel]),
                             jnp.asarray(P), mesh)
    params = {name: jnp.asarray(P[:, i]) for i, name in enumerate(cm.param_names)}
    out = PhaseResponse(phase=jnp.arange(points) / points, Z=Z, orbit=x,
                        period=jnp.asarray(branch.period[sel]), normalisation_error=err,
                        params=params, Z_mesh=Zn, mesh=mesh, tau0=tau0,
                        state_names=model.state_names, time_unit=model.time_unit,
                        zero_phase=_spec_names(model.state_names, spec), ncol=col.ncol)
    return _numpy(jax.tree_util.tree_map(lambda a: a[0], out) if single else out)


def _numpy(result):
    """Concrete results as numpy arrays (float64 whatever JAX's mode); traced ones as they are."""
    leaves = jax.tree_util.tree_leaves(result)
    if any(isinstance(a, jax.core.Tracer) for a in leaves):
        return result
    return jax.tree_util.tree_map(np.asarray, result)


# --------------------------------------------------------------------------------------------
# An orbit from a simulation (when the user gives a model and parameters)
# --------------------------------------------------------------------------------------------


def _rk4_step(f, x, p, dt):
    k1 = f(x, p)
    k2 = f(x + 0.5 * dt * k1, p)
    k3 = f(x + 0.5 * dt * k2, p)
    k4 = f(x + dt * k3, p)
    return x + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


@functools.partial(jax.jit, static_argnums=(0, 5))
def _trajectory(cm, x0, p, dt, skip, keep: int):
    """RK4 from ``x0``: ``skip`` steps unrecorded (a dynamic count: one compiled loop for all
    transients), then ``keep`` states recorded."""
    x = jax.lax.fori_loop(0, skip, lambda _, x: _rk4_step(cm.f, x, p, dt), x0)

    def rec(x, _):
        x = _rk4_step(cm.f, x, p, dt)
        return x, x

    return jax.lax.scan(rec, x, None, length=keep)[1]


def _upward_crossings(t, v, level):
    i = np.flatnonzero((v[:-1] < level) & (v[1:] >= level))
    return t[i] + (level - v[i]) / (v[i + 1] - v[i]) * (t[i + 1] - t[i])


@float64
def orbit_from_simulation(model: ODEModel, *, x0=None, transient: float | None = None,
                          dt: float | None = None, ntst: int = 100, ncol: int = 4,
                          **params) -> PeriodicOrbit:
    r"""The stable periodic orbit the simulation from ``x0`` approaches, refined by collocation.

    RK4 runs until the first state has fired regularly; one period of the trajectory, sampled at
    the nodes of a mesh adapted to it (three passes, from the trajectory itself), is the guess for
    Newton on the collocation system (:func:`~hhanalysis.periodic_orbit`). The last mesh is
    adapted to the orbit *and* to its phase: a local error :math:`\delta x` shifts the
    asymptotic phase by :math:`Z\cdot\delta x` to first order, so the local error estimates
    weighted by :math:`|Z|` (the adjoint of that collocation solution) are equidistributed
    together with the orbit's own (:func:`~hhanalysis.continuation.collocation.adapted_mesh`
    with ``weights``; a goal-oriented adaptation). The unweighted estimate is dominated by the
    state with the largest units (V in mV) and leaves the slow recovery of HH, where
    :math:`|Z|` of the gates is largest, coarse: on HH classic at I = 10 (NTST = 100) the
    weighted mesh brings :math:`\max|Z\cdot f - 1|` from 7.7e-10 to 4e-11 and the error of
    :math:`Z` against NTST = 400 from 5e-7 to 2e-8 of :math:`\max|Z|`.

    Arguments:
        model: the model; ``**params``: its parameter values (others: defaults).
        x0: initial state (default: the middle of every state's range).
        transient: time simulated before the orbit is read off (default: 40 spike intervals,
            at least 200 time units).
        dt: RK4 step (default: 1/2000 of the first spike interval found).
        ntst, ncol: collocation mesh.

    Returns:
        :class:`~hhanalysis.continuation.points.PeriodicOrbit` (``param_name``: ``"I"`` if the
        model has it, else its first parameter; the orbit is at fixed parameters).

    Raises:
        ValueError: unknown parameter names, non-finite values, or no regular firing.
    """
    from .continuation.collocation import Collocation

    Collocation(ntst, ncol)  # validates ntst, ncol
    model.check_param_names(list(params))
    values = {**model.defaults, **{k: model.check_param_value(k, v) for k, v in params.items()}}
    cm = model.compile()
    p = jnp.asarray(model.param_vector(**values))
    if x0 is None:
        x0 = np.array([0.5 * sum(s.bounds) if s.bounds else 0.1 for s in model.states], float)
    x0 = np.asarray(x0, float)
    if x0.shape != (model.n_states,) or not np.all(np.isfinite(x0)):
        raise ValueError(f"x0 must be {model.n_states} finite numbers, got {x0!r}")
    # a coarse look for the spike interval (longer looks for slow oscillations), then the
    # transient at a step fitted to it
    T0 = None
    looks = (200.0, 2000.0, 20000.0) if transient is None else (float(transient),)
    for duration in looks:
        T0 = _spike_interval(cm, x0, p, duration / 20000 if dt is None else float(dt), duration)
        if T0 is not None:
            break
    if T0 is None:
        raise ValueError(f"no periodic firing of {model.state_names[0]} found from x0 at "
                         f"these parameters ({_fmt(params)}): the orbit may not exist or not be "
                         f"stable there")
    dt = T0 / 2000 if dt is None else float(dt)
    transient = max(200.0, 20 * T0) if transient is None else float(transient)
    keep = max(6400, int(math.ceil(3.2 * T0 / dt)))
    traj = np.asarray(_trajectory(cm, jnp.asarray(x0), p, dt, int(transient / dt), keep))
    t = dt * np.arange(1, keep + 1)
    v = traj[:, 0]
    cross = _upward_crossings(t, v, 0.5 * (v.max() + v.min()))
    if cross.size < 3:
        raise ValueError(f"no periodic firing of {model.state_names[0]} found after "
                         f"{transient:g} {model.time_unit} at these parameters ({_fmt(params)})")
    T = cross[-1] - cross[-2]
    t_a = cross[-2]

    def sample(mesh):
        tt = t_a + T * node_times(mesh, ncol)
        return np.stack([np.interp(tt, t, traj[:, j]) for j in range(model.n_states)], axis=1)

    mesh = np.linspace(0.0, 1.0, ntst + 1)
    for _ in range(3):
        mesh = adapted_mesh(sample(mesh), mesh, ncol)
    X = sample(mesh)
    pname = "I" if "I" in model.param_names else model.param_names[0]
    guess = PeriodicOrbit(param=values[pname], period=T, orbit=X, mesh=mesh,
                          x_max=X.max(axis=0), x_min=X.min(axis=0), params=values,
                          converged=np.asarray(True), residual=np.asarray(0.0),
                          param_name=pname, state_names=model.state_names, ncol=ncol)
    orbit = periodic_orbit(model, guess, throw=False)
    if not bool(orbit.converged):
        raise ValueError(f"Newton on the collocation system did not converge from the simulated "
                         f"orbit at {_fmt(params)} (period {T:.6g}); try a larger ntst")
    # one more mesh adaptation on the collocation solution, weighted by its phase response
    Z = _adjoint_jit(cm, np.asarray(orbit.orbit), float(orbit.period), p, mesh, ncol)
    mesh2 = adapted_mesh(np.asarray(orbit.orbit), mesh, ncol, weights=np.abs(np.asarray(Z)))
    X2 = evaluate(np.asarray(orbit.orbit), mesh, ncol, node_times(mesh2, ncol))
    X2[-1] = X2[0]
    guess = PeriodicOrbit(param=values[pname], period=float(orbit.period), orbit=X2, mesh=mesh2,
                          x_max=X2.max(axis=0), x_min=X2.min(axis=0), params=values,
                          converged=np.asarray(True), residual=np.asarray(0.0),
                          param_name=pname, state_names=model.state_names, ncol=ncol)
    return periodic_orbit(model, guess)


def _fmt(params):
    return ", ".join(f"{k}={v:g}" for k, v in params.items()) or "defaults"


def _spike_interval(cm, x0, p, dt, duration):
    n = int(duration / dt)
    traj = np.asarray(_trajectory(cm, jnp.asarray(x0), p, dt, 0, n))
    if not np.all(np.isfinite(traj)):
        return None
    v = traj[n // 2:, 0]
    t = dt * np.arange(v.size)
    if v.max() - v.min() < 1e-6 * max(1.0, abs(v.max())):
        return None
    cross = _upward_crossings(t, v, 0.5 * (v.max() + v.min()))
    if cross.size < 3:
        return None
    return float(np.median(np.diff(cross)))


# --------------------------------------------------------------------------------------------
# The direct (finite-pulse) PRC by simulation
# --------------------------------------------------------------------------------------------


@_pytree
@dataclass(frozen=True)
class DirectPhaseResponse:
    r"""The phase response to finite pulses, measured by simulation.

    Attributes:
        phase: pulse onsets :math:`\theta_k` (fractions of the period since the zero-phase
            event of the adjoint PRC it was computed from), ``(K,)``.
        advance: time advance of the threshold crossing ``periods`` cycles later after a pulse
            of size ``+kick``, in model time units, ``(K,)`` (negative: a delay).
        slope: :math:`(\Delta(+\text{kick}) - \Delta(-\text{kick}))/(2\,\text{kick})`, the
            central-difference estimate of the infinitesimal PRC :math:`Z_{state}(\theta_k)`
            (time units per unit of the state), ``(K,)``.
        kick: the pulse size in units of the state (for V: a current pulse of charge
            :math:`q` gives ``kick`` :math:`= q/C`); duration: the pulse's duration (0: an
            instantaneous kick); dt: the RK4 step; periods: cycles after which the crossing is
            measured; state: the kicked state.
    """

    phase: jax.Array
    advance: jax.Array
    slope: jax.Array
    kick: float = _static(0.0)
    duration: float = _static(0.0)
    dt: float = _static(0.0)
    periods: int = _static(0)
    state: str = _static("")


@functools.partial(jax.jit, static_argnums=(0, 6, 7, 8))
def _pulse_runs(cm, x_start, p, t_nom, level, dt, n_steps, j, pulse_steps, values):
    r"""RK4 from every start state (rows of ``x_start``), with a pulse in state ``j``; returns
    the time of the upward crossing of ``level`` by state 0 nearest ``t_nom`` (per run).

    ``values``: instantaneous kicks of the state (``pulse_steps = 0``) or the rates of
    rectangular pulses during the first ``pulse_steps`` steps, per run."""
    f = jax.vmap(cm.f, (0, None))
    e = jnp.zeros(x_start.shape[1]).at[j].set(1.0)
    x0 = x_start + (values[:, None] * e if pulse_steps == 0 else 0.0)
    rate = values if pulse_steps else jnp.zeros_like(values)

    def rhs(x, on):
        return f(x, p) + jnp.where(on, rate, 0.0)[:, None] * e

    def step(c, k):
        x, fx, best = c
        on = k < pulse_steps
        k1 = rhs(x, on)
        k2 = rhs(x + 0.5 * dt * k1, on)
        k3 = rhs(x + 0.5 * dt * k2, on)
        k4 = rhs(x + dt * k3, on)
        x1 = x + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        f1 = f(x1, p)
        v0, v1 = x[:, 0] - level, x1[:, 0] - level
        # crossing time by Newton on the cubic Hermite interpolant of the step
        d0, d1 = dt * k1[:, 0], dt * f1[:, 0]
        s = jnp.clip(v0 / jnp.where(v0 != v1, v0 - v1, 1.0), 0.0, 1.0)
        for _ in range(4):
            h00, h10 = 2 * s**3 - 3 * s**2 + 1, s**3 - 2 * s**2 + s
            h01, h11 = -2 * s**3 + 3 * s**2, s**3 - s**2
            g = h00 * v0 + h10 * d0 + h01 * v1 + h11 * d1
            dg = ((6 * s**2 - 6 * s) * v0 + (3 * s**2 - 4 * s + 1) * d0
                  + (-6 * s**2 + 6 * s) * v1 + (3 * s**2 - 2 * s) * d1)
            s = jnp.clip(s - g / jnp.where(dg != 0, dg, 1.0), 0.0, 1.0)
        tc = (k + s) * dt
        up = (v0 < 0) & (v1 >= 0)
        best = jnp.where(up & (jnp.abs(tc - t_nom) < jnp.abs(best - t_nom)), tc, best)
        return (x1, f1, best), None

    best0 = jnp.full(x0.shape[0], jnp.inf)
    (_, _, best), _ = jax.lax.scan(step, (x0, f(x0, p), best0), jnp.arange(n_steps))
    return best


@float64
def direct_phase_response(model: ODEModel, prc: PhaseResponse, state: str | None = None, *,
                          kick: float | None = None, duration: float = 0.0,
                          every: int = 4, periods: int = 6,
                          dt: float | None = None) -> DirectPhaseResponse:
    r"""The PRC by direct simulation: a pulse at each phase of the orbit of ``prc``, and the
    shift of the threshold crossing of the first state ``periods`` cycles later.

    Every run starts on the orbit at :math:`x_0(\theta_k)` (from the adjoint's dense orbit), gets
    a pulse of size ``kick`` in ``state`` (instantaneous, or spread evenly over ``duration``),
    and is integrated by RK4 at step ``dt``; the crossing of the mid-level of the first state
    (upward, cubic Hermite interpolation of each step) nearest its unperturbed time is compared
    with the run without pulse. All runs (phases x {+kick, 0, -kick}) are one ``vmap``-ed
    integration.

    Arguments:
        model: the model of the orbit.
        prc: a single-orbit :class:`PhaseResponse` (its orbit, period, parameters and phases).
        state: the state that is kicked (default: the first, V).
        kick: pulse size in units of ``state`` (default: 1e-4 of its range over the orbit).
        duration: pulse duration in model time units (0: instantaneous).
        every: use every ``every``-th phase of ``prc``.
        periods: cycles between the pulse and the measured crossing (enough for the non-trivial
            Floquet modes to decay).
        dt: RK4 step (default: period / 4000).

    Returns:
        :class:`DirectPhaseResponse`.

    Raises:
        ValueError: a branch PRC, unknown state, non-positive kick/duration/every/periods/dt.
    """
    if np.ndim(prc.period) != 0:
        raise ValueError("prc: give the PhaseResponse of one orbit (index a branch's result: "
                         "phase_response(branch, k))")
    state = prc.state_names[0] if state is None else state
    j = prc._index(state)
    for name, v, ok in (("every", every, isinstance(every, (int, np.integer)) and every >= 1),
                        ("periods", periods,
                         isinstance(periods, (int, np.integer)) and periods >= 1)):
        if not ok:
            raise ValueError(f"{name} = {v!r}: must be an integer >= 1")
    T = float(prc.period)
    X = np.asarray(prc.orbit)[::every]
    theta = np.asarray(prc.phase)[::every]
    rng = float(np.ptp(np.asarray(prc.orbit)[:, j]))
    kick = 1e-4 * rng if kick is None else float(kick)
    dt = T / 4000 if dt is None else float(dt)
    duration = float(duration)
    for name, v in (("kick", kick), ("dt", dt)):
        if not (math.isfinite(v) and v > 0):
            raise ValueError(f"{name} = {v!r}: must be a finite number > 0")
    if not (math.isfinite(duration) and 0 <= duration < T):
        raise ValueError(f"duration = {duration!r}: must be in [0, period = {T:g})")
    pulse_steps = 0
    if duration > 0:
        pulse_steps = max(1, round(duration / dt))
        dt = duration / pulse_steps
    cm = model.compile()
    p = jnp.asarray([float(prc.params[name]) for name in cm.param_names])
    v = np.asarray(prc.orbit)[:, 0]
    level = 0.5 * (v.max() + v.min())
    # the phase of the unperturbed crossing, from the sampled orbit
    up = np.flatnonzero((v < level) & (np.roll(v, -1) >= level))[0]
    th_c = (up + (level - v[up]) / (v[(up + 1) % v.size] - v[up])) / v.size
    t_nom = ((th_c - theta) % 1.0 + periods) * T
    n_steps = int(math.ceil((periods + 1.5) * T / dt))
    K = theta.size
    sizes = np.concatenate([np.full(K, kick), np.zeros(K), np.full(K, -kick)])
    values = sizes / duration if duration > 0 else sizes
    t = np.asarray(_pulse_runs(cm, jnp.asarray(np.tile(X, (3, 1))), p,
                               jnp.asarray(np.tile(t_nom, 3)), level, dt, n_steps, j,
                               pulse_steps, jnp.asarray(values)))
    t_plus, t_zero, t_minus = t[:K], t[K:2 * K], t[2 * K:]
    return DirectPhaseResponse(phase=theta, advance=t_zero - t_plus,
                               slope=(t_minus - t_plus) / (2 * kick), kick=kick,
                               duration=duration, dt=dt, periods=periods, state=state)


# --------------------------------------------------------------------------------------------
# Weak coupling: the interaction function
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Coupling:
    r"""The coupling term :math:`G(x_{self}, x_{other})` added to the right-hand side of a cell.

    Attributes:
        term: ``term(x_self, x_other, p) -> (n,)`` (JAX, unbatched; ``p`` the parameter vector),
            in state units per time unit.
        description: one line for tables and figures.
    """

    term: object
    description: str


def _state_and_C_index(model, state):
    """The index of ``state`` and of the parameter ``C`` (None if the model has none)."""
    if state not in model.state_names:
        raise ValueError(f"state = {state!r}: not a state; valid names: "
                         f"{list(model.state_names)}")
    kC = model.param_names.index("C") if "C" in model.param_names else None
    return model.state_names.index(state), kC


def _number(name, v):
    try:
        v = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"{name} = {v!r}: must be a number") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} = {v!r}: must be finite")
    return v


def gap_junction(g: float, state: str = "V") -> Callable:
    r"""Electrical coupling :math:`G = g\,(V_{other} - V_{self})/C\;e_V` (``g`` in mS/cm² for
    the neuron models, :math:`C` the model's parameter ``C`` if it has one, else 1).

    Returns a function ``model -> Coupling`` (the model gives the state's position and C)."""
    g = _number("g", g)

    def build(model):
        j, kC = _state_and_C_index(model, state)

        def term(xs, xo, p):
            c = p[kC] if kC is not None else 1.0
            return jnp.zeros_like(xs).at[j].set(g * (xo[j] - xs[j]) / c)

        return Coupling(term, f"gap junction g = {g:g}")

    return build


def synapse(g: float, E: float, V_half: float = 0.0, slope: float = 2.0,
            state: str = "V") -> Callable:
    r"""A fast chemical synapse driven by the other cell's own V:
    :math:`G = g\,s_\infty(V_{other})\,(E - V_{self})/C\;e_V`,
    :math:`s_\infty(V) = 1/(1 + e^{-(V - V_{half})/\mathrm{slope}})` (an instantaneous sigmoid,
    Ermentrout & Terman ch. 7; ``E`` above the spike threshold: excitatory, e.g. 0 mV; below
    rest: inhibitory, e.g. −80 mV).

    Returns a function ``model -> Coupling``."""
    g, E, V_half, slope = (_number(n, v) for n, v in
                           (("g", g), ("E", E), ("V_half", V_half), ("slope", slope)))
    if slope <= 0:
        raise ValueError(f"slope = {slope!r}: must be > 0")

    def build(model):
        j, kC = _state_and_C_index(model, state)

        def term(xs, xo, p):
            c = p[kC] if kC is not None else 1.0
            s = jax.nn.sigmoid((xo[j] - V_half) / slope)
            return jnp.zeros_like(xs).at[j].set(g * s * (E - xs[j]) / c)

        return Coupling(term, f"synapse g = {g:g}, E = {E:g}")

    return build


@dataclass(frozen=True)
class Interaction:
    r"""The interaction function of two weakly coupled identical cells, and their phase-locked
    states.

    Attributes:
        phase: :math:`\varphi_k = k/P`, ``(P,)``: the phase difference (fraction of the period).
        H: :math:`H(\varphi_k)` (dimensionless: the relative frequency change of the cell
            that lags by :math:`\varphi`), ``(P,)``.
        H_odd: :math:`\tfrac12(H(\varphi) - H(-\varphi))`; :math:`\dot\varphi =
            -\tfrac{2}{T}H_{odd}(\varphi)`.
        locked: the zeros of :math:`H_{odd}` in [0, 1) (phase-locked states), ``(L,)``.
        stable: :math:`H_{odd}'(\varphi^*) > 0` at each, ``(L,)``.
        period: :math:`T`; coupling: its description.
    """

    phase: np.ndarray
    H: np.ndarray
    H_odd: np.ndarray
    locked: np.ndarray
    stable: np.ndarray
    period: float
    coupling: str

    def __repr__(self) -> str:
        states = ", ".join(f"{v:.4f} ({'stable' if s else 'unstable'})"
                           for v, s in zip(self.locked, self.stable))
        return f"Interaction({self.coupling}; locked at phase differences {states})"


def _trig(c, x, P):
    """The trigonometric interpolant of ``P`` samples with coefficients ``c = rfft / P`` at
    ``x``."""
    k = np.arange(c.size)
    w = np.full(c.size, 2.0)
    w[0] = 1.0
    if P % 2 == 0:
        w[-1] = 1.0
    return np.sum(w * (c * np.exp(2j * np.pi * np.outer(x, k))).real, axis=-1)


@float64
def interaction_function(model: ODEModel, prc: PhaseResponse, coupling) -> Interaction:
    r"""The interaction function :math:`H(\varphi) = \frac1T\int_0^T Z(t)\cdot
    G(x_0(t), x_0(t + \varphi T))\,dt` of two identical cells with coupling ``coupling``, on the
    phases of ``prc`` (the mean over :math:`t` is the exact trapezoidal rule of a periodic
    integrand), and the phase-locked states: the zeros of its odd part, located on the
    trigonometric interpolant (Brent's method), stable where :math:`H_{odd}' > 0`.

    Arguments:
        model: the model of the orbit.
        prc: a single-orbit :class:`PhaseResponse`.
        coupling: :func:`gap_junction` / :func:`synapse` (a function ``model -> Coupling``), a
            :class:`Coupling`, or a function ``term(x_self, x_other, p)``.

    Returns:
        :class:`Interaction`.
    """
    import scipy.optimize

    if np.ndim(prc.period) != 0:
        raise ValueError("prc: give the PhaseResponse of one orbit")
    if isinstance(coupling, Coupling):
        cp = coupling
    elif callable(coupling):
        try:
            cp = coupling(model)
        except TypeError:
            cp = None
        if not isinstance(cp, Coupling):
            cp = Coupling(coupling, getattr(coupling, "__name__", "coupling"))
    else:
        raise ValueError(f"coupling must be gap_junction(...), synapse(...), a Coupling or a "
                         f"function term(x_self, x_other, p), got {type(coupling).__name__}")
    cm = model.compile()
    p = jnp.asarray([float(prc.params[name]) for name in cm.param_names])
    Z, x = jnp.asarray(prc.Z), jnp.asarray(prc.orbit)
    P = x.shape[0]

    def H_at(k):
        xo = jnp.roll(x, -k, axis=0)  # x_0(theta_j + phi_k)
        G = jax.vmap(cp.term, (0, 0, None))(x, xo, p)
        return jnp.mean(jnp.sum(Z * G, axis=1))

    H = np.asarray(jax.vmap(H_at)(jnp.arange(P)))  # once per call: no jit of a new closure
    H_odd = 0.5 * (H - np.roll(H[::-1], 1))
    c = np.fft.rfft(H_odd) / P
    phi = np.arange(P) / P

    def odd(v):
        return _trig(c, np.atleast_1d(v), P)[0]

    vals = np.append(H_odd, H_odd[0])
    roots = list(phi[vals[:-1] == 0.0]) + [
        scipy.optimize.brentq(odd, phi[i], phi[i] + 1.0 / P, xtol=1e-14)
        for i in np.flatnonzero(vals[:-1] * vals[1:] < 0)]
    roots = np.array(sorted(r % 1.0 for r in roots))
    k = np.arange(c.size)
    dc = c * 2j * np.pi * k
    slope = np.array([_trig(dc, np.atleast_1d(r), P)[0] for r in roots])
    return Interaction(phase=phi, H=H, H_odd=H_odd, locked=roots, stable=slope > 0,
                       period=float(prc.period), coupling=cp.description)


# --------------------------------------------------------------------------------------------
# Figure
# --------------------------------------------------------------------------------------------


def plot_phase_response(prc: PhaseResponse, direct: DirectPhaseResponse | None = None,
                        state: str | None = None, *, axes=None, title: str | None = None):
    r"""Two panels: :math:`Z_{state}(\theta)` (line; the direct pulse PRC as markers if given)
    and the orbit's first state over the same phases.

    Returns the two matplotlib axes (a new figure unless ``axes`` is given)."""
    import matplotlib.pyplot as plt

    state = state or (direct.state if direct is not None else prc.state_names[0])
    if axes is None:
        fig, axes = plt.subplots(2, 1, figsize=(7, 5.6), sharex=True, height_ratios=[2, 1],
                                 constrained_layout=True)
    ax, ax2 = axes
    theta = np.append(prc.phase, 1.0)
    z = np.append(prc[state], prc[state][0])
    unit = f"{prc.time_unit}/{_state_unit(prc, state)}"
    ax.plot(theta, z, lw=1.6, color="C0", label="adjoint (collocation)")
    if direct is not None:
        kind = ("kick" if direct.duration == 0 else f"{direct.duration:g} {prc.time_unit} pulse")
        ax.plot(direct.phase, direct.slope, "o", ms=4, mfc="none", color="C3",
                label=f"direct: ±{direct.kick:.2g} {_state_unit(prc, state)} {kind}, RK4")
    ax.axhline(0.0, color="0.6", lw=0.8)
    ax.set_ylabel(f"$Z_{{{state}}}$ ({unit})")
    lo, hi = float(z.min()), float(z.max())
    ax.set_ylim(lo - 0.05 * (hi - lo), hi + 0.3 * (hi - lo))  # room for the legend
    ax.set_xlim(0.0, 1.0)
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title(title or f"phase response, period {float(prc.period):.5g} {prc.time_unit}",
                 fontsize=10)
    v0 = prc.state_names[0]
    ax2.plot(theta, np.append(prc.state(v0), prc.state(v0)[0]), color="k", lw=1.2)
    ax2.set_ylabel(f"{v0} on the orbit ({_state_unit(prc, v0)})")
    ax2.set_xlabel(f"phase θ (fraction of the period; 0 at the {prc.zero_phase_event})")
    ax2.set_xlim(0.0, 1.0)
    return ax, ax2


def _state_unit(prc, state):
    return {"V": "mV"}.get(state, "unit")
