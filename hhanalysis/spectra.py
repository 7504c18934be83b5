r"""Spectral analysis of an equilibrium: eigen-split, center plane, center manifold and l1.

For an equilibrium :math:`x^*` with Jacobian :math:`A` and a complex pair
:math:`\lambda = \mu \pm i\omega` nearest the imaginary axis (the *center* pair), let
:math:`q` be the right eigenvector (:math:`Aq = \lambda q`, :math:`\langle q, q\rangle = 1`) and
:math:`p` the adjoint one (:math:`A^T p = \bar\lambda p`, :math:`\langle p, q\rangle = 1`, with
:math:`\langle a, b\rangle = \bar a^T b`). Then

* the **center plane** is
  :math:`x^* + \operatorname{span}\{\operatorname{Re} q, \operatorname{Im} q\}`,
  and :math:`P_c = 2\operatorname{Re}(q\,p^H)` is the oblique spectral projector onto it
  (:math:`P_c^2 = P_c`, :math:`P_c A = A P_c`); the complex center coordinate of a state is
  :math:`z = \langle p, x - x^*\rangle`;
* the **center manifold** to second order (Kuznetsov, *Elements of Applied Bifurcation Theory*,
  §3.5 and §8.7) is :math:`W(z) = x^* + qz + \bar q\bar z + \operatorname{Re}(H_{20} z^2) +
  H_{11}|z|^2` with
  :math:`H_{20} = (2\lambda I - A)^{-1}\,\Pi\,B(q, q)`,
  :math:`H_{11} = (2\mu I - A)^{-1}\,\Pi\,B(q, \bar q)`, where :math:`\Pi = I - P_c` removes the
  center components, so that the distance of a trajectory to the manifold (not only to the plane)
  can be measured. At a Hopf point (:math:`\mu = 0`) these are Kuznetsov's coefficients; away from
  it they make :math:`W` the invariant manifold tangent to the center plane (the slow manifold of
  the pair) to second order;
* the **first Lyapunov coefficient** is

  .. math::
      \ell_1 = \frac{1}{2\omega}\operatorname{Re}\Big[\langle p, C(q,q,\bar q)\rangle
      - 2\langle p, B(q, A^{-1}B(q,\bar q))\rangle
      + \langle p, B(\bar q, (2i\omega I - A)^{-1}B(q,q))\rangle\Big].

  At a Hopf point (:math:`\mu = 0`), :math:`\ell_1 < 0` means a supercritical bifurcation (stable
  small cycles on the side where the equilibrium is unstable) and :math:`\ell_1 > 0` a
  subcritical one (unstable small cycles on the side where it is stable). Away from a Hopf point
  the same expression is evaluated with :math:`\omega = \operatorname{Im}\lambda`; its sign is then
  only indicative.

Distances are Euclidean norms of raw state vectors (for HH: mV dominates the gates).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._trace_cache import device_array
from .equilibria import Equilibrium
from .precision import float64

__all__ = ["center_manifold", "CenterManifold", "CenterProjection", "SpectralSplit",
           "split_spectrum", "first_lyapunov_coefficient"]


@dataclass(frozen=True)
class SpectralSplit:
    """Indices (into ``Equilibrium.eigenvalues``) of the stable, center and unstable parts."""

    stable: tuple[int, ...]
    center: tuple[int, ...]
    unstable: tuple[int, ...]


def split_spectrum(eigenvalues, tol: float | None = None) -> SpectralSplit:
    """Split a spectrum into stable / center / unstable parts.

    Arguments:
        eigenvalues: the eigenvalues.
        tol: eigenvalues with ``|Re λ| <= tol`` form the center part. ``None``: the complex pair
            nearest the imaginary axis.

    Raises:
        ValueError: ``tol`` is None and there is no complex pair; ``tol`` is negative or NaN.
    """
    lam = np.asarray(eigenvalues)
    if tol is None:
        pairs = [k for k in range(lam.size) if lam[k].imag > 0]
        if not pairs:
            raise ValueError(
                f"no complex eigenvalue pair (eigenvalues {lam}); a center plane needs one. "
                "Pass tol= to choose the center part by |Re λ| instead"
            )
        k = min(pairs, key=lambda j: abs(lam[j].real))
        partner = min(
            (j for j in range(lam.size) if j != k),
            key=lambda j: abs(lam[j] - np.conj(lam[k])),
        )
        center = {k, partner}
    else:
        if not np.isfinite(tol) or tol < 0:
            raise ValueError(f"tol must be a non-negative number, got {tol!r}")
        center = {k for k in range(lam.size) if abs(lam[k].real) <= tol}
    rest = [k for k in range(lam.size) if k not in center]
    return SpectralSplit(
        stable=tuple(k for k in rest if lam[k].real < 0),
        center=tuple(sorted(center)),
        unstable=tuple(k for k in rest if lam[k].real > 0),
    )


@dataclass(frozen=True)
class CenterProjection:
    """A trajectory seen from the center manifold.

    Attributes:
        coordinates: ``(T, 2)`` coordinates of the projection :math:`P_c(x - x^*)` in the
            orthonormal ``basis`` of the center plane.
        z: ``(T,)`` complex center coordinate :math:`\\langle p, x - x^*\\rangle`.
        distance_to_plane: ``(T,)`` norm of the non-center part :math:`(I - P_c)(x - x^*)`.
        distance_to_manifold: ``(T,)`` norm of that part minus the quadratic manifold's
            :math:`\\operatorname{Re}(H_{20}z^2) + H_{11}|z|^2`.
    """

    coordinates: np.ndarray
    z: np.ndarray
    distance_to_plane: np.ndarray
    distance_to_manifold: np.ndarray


@dataclass(frozen=True)
class CenterManifold:
    """The center plane, the quadratic center manifold and l1 at an equilibrium.

    Attributes:
        equilibrium: the equilibrium analysed.
        split: the stable / center / unstable split of its spectrum.
        eigenvalue: the center eigenvalue with positive imaginary part, :math:`\\mu + i\\omega`.
        omega: :math:`\\omega` (rad per time unit).
        q: right eigenvector, :math:`\\langle q, q\\rangle = 1`.
        p: adjoint eigenvector, :math:`\\langle p, q\\rangle = 1`.
        basis: ``(n, 2)`` real orthonormal basis of the center plane (from Re q and Im q).
        projector: ``(n, n)`` oblique spectral projector :math:`P_c = 2\\operatorname{Re}(qp^H)`.
        h20, h11: second-order center-manifold coefficients :math:`H_{20}` (complex) and
            :math:`H_{11}` (real).
        l1: the first Lyapunov coefficient.
        criticality: 'subcritical' (l1 > 0), 'supercritical' (l1 < 0) or 'degenerate'.
    """

    equilibrium: Equilibrium = field(repr=False)
    split: SpectralSplit
    eigenvalue: complex
    omega: float
    q: np.ndarray
    p: np.ndarray
    basis: np.ndarray
    projector: np.ndarray
    h20: np.ndarray
    h11: np.ndarray
    l1: float
    criticality: str

    def coordinate(self, x) -> np.ndarray:
        """Complex center coordinate :math:`z = \\langle p, x - x^*\\rangle` of ``(..., n)``."""
        dx = np.asarray(x, dtype=np.float64) - self.equilibrium.x
        return dx @ np.conj(self.p)

    def manifold_point(self, z) -> np.ndarray:
        """The point :math:`W(z)` of the quadratic center manifold, ``(..., n)``."""
        z = np.asarray(z)[..., None]
        return (self.equilibrium.x + 2 * np.real(self.q * z) + np.real(self.h20 * z**2)
                + self.h11 * np.abs(z) ** 2)

    def project(self, trajectory) -> CenterProjection:
        """Project states ``(T, n)`` (or ``(n,)``) onto the center plane and manifold."""
        x = np.atleast_2d(np.asarray(trajectory, dtype=np.float64))
        if x.shape[-1] != self.q.size or not np.all(np.isfinite(x)):
            raise ValueError(
                f"trajectory must be finite with {self.q.size} columns (the states "
                f"{list(self.equilibrium.model.state_names)}), got shape {x.shape}"
            )
        dx = x - self.equilibrium.x
        z = dx @ np.conj(self.p)
        center = dx @ self.projector.T
        off = dx - center
        second = np.real(self.h20 * z[:, None] ** 2) + self.h11 * np.abs(z[:, None]) ** 2
        return CenterProjection(
            coordinates=center @ self.basis,
            z=z,
            distance_to_plane=np.linalg.norm(off, axis=1),
            distance_to_manifold=np.linalg.norm(off - second, axis=1),
        )


def _forms(eq: Equilibrium):
    cm = eq.model.compile()
    x = device_array(eq.x)
    p = device_array(eq.param_vector)

    def B(u, v):
        return np.asarray(cm.B(x, p, device_array(u), device_array(v)))

    def C(u, v, w):
        return np.asarray(cm.C(x, p, device_array(u), device_array(v), device_array(w)))

    return B, C


def first_lyapunov_coefficient(A, q, p, omega, B, C) -> float:
    """Kuznetsov's l1 from the Jacobian, normalised eigenvectors and the forms B, C."""
    n = A.shape[0]
    qb = np.conj(q)
    a11 = np.linalg.solve(A, B(q, qb))
    a20 = np.linalg.solve(2j * omega * np.eye(n) - A, B(q, q))
    val = np.vdot(p, C(q, q, qb)) - 2 * np.vdot(p, B(q, a11)) + np.vdot(p, B(qb, a20))
    return float(np.real(val) / (2 * omega))


@float64
def center_manifold(model_or_eq, equilibrium: Equilibrium | None = None,
                    tol: float | None = None) -> CenterManifold:
    """Center plane, quadratic center manifold and first Lyapunov coefficient.

    Arguments:
        model_or_eq: the model (then pass ``equilibrium``) or directly an :class:`Equilibrium`.
        equilibrium: the equilibrium (from :func:`hhanalysis.find_equilibria`).
        tol: choose the center part as the eigenvalues with ``|Re λ| <= tol``; it must then be
            one complex pair. Default: the complex pair nearest the imaginary axis.

    Returns:
        :class:`CenterManifold`.

    Raises:
        ValueError: no complex pair, or the chosen center part is not one complex pair.
    """
    eq = model_or_eq if isinstance(model_or_eq, Equilibrium) else equilibrium
    if not isinstance(eq, Equilibrium):
        raise ValueError("center_manifold needs an Equilibrium (e.g. find_equilibria(model)[0])")
    split = split_spectrum(eq.eigenvalues, tol)
    lam = eq.eigenvalues[list(split.center)]
    if len(split.center) != 2 or not np.isclose(lam[0], np.conj(lam[1])) or lam[0].imag == 0:
        raise ValueError(f"the center part must be one complex pair, got eigenvalues {lam}")
    k = split.center[int(np.argmax(lam.imag))]
    A = eq.jacobian
    n = A.shape[0]
    q = eq.right_eigenvectors[:, k]
    q = q / np.linalg.norm(q)
    p = eq.left_eigenvectors[:, k]
    p = p / np.conj(np.vdot(p, q))  # <p, q> = 1
    omega = float(eq.eigenvalues[k].imag)
    B, C = _forms(eq)
    projector = 2 * np.real(np.outer(q, np.conj(p)))
    complement = np.eye(n) - projector
    lam = complex(eq.eigenvalues[k])
    h20 = np.linalg.solve(2 * lam * np.eye(n) - A, complement @ B(q, q))
    h11 = np.real(np.linalg.solve(2 * lam.real * np.eye(n) - A, complement @ B(q, np.conj(q))))
    basis, _ = np.linalg.qr(np.column_stack([q.real, q.imag]))
    l1 = first_lyapunov_coefficient(A, q, p, omega, B, C)
    scale = np.finfo(float).eps * 1e3 * max(1.0, abs(l1))
    criticality = "degenerate" if abs(l1) <= scale else (
        "subcritical" if l1 > 0 else "supercritical")
    return CenterManifold(
        equilibrium=eq,
        split=split,
        eigenvalue=complex(eq.eigenvalues[k]),
        omega=omega,
        q=q,
        p=p,
        basis=basis,
        projector=projector,
        h20=h20,
        h11=h11,
        l1=l1,
        criticality=criticality,
    )
