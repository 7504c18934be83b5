r"""The one continuation driver: jitted chunks of PALC steps, problem hooks between them.

Every branch type (equilibria, periodic orbits, and later the codim-1 curves) is continued by
:func:`run`. The unknown is :math:`u = (y, \lambda_1, \dots, \lambda_q)`: a state part
:math:`y` followed by the ``free`` = q free parameters; the parameter window
:math:`[\lambda_{lo}, \lambda_{hi}]` applies to the first free parameter :math:`\lambda_1`.

:func:`run` alternates

1. a jitted chunk of up to ``chunk`` predictor–corrector steps
   (:meth:`~hhanalysis.continuation.engine.PALC.run_chunk`), which ends early when the corrector
   fails at ``ds_min`` or a point leaves the window;
2. the problem's :class:`Hooks` on the chunk's accepted points, in this order:
   :meth:`Hooks.end` (an end test: how many of the points to keep and why to stop, e.g. a
   period bound), :meth:`Hooks.accepted` (detection of special points, progress),
   on leaving the window :meth:`Hooks.at_bound` (the last point replaced by the one on the
   bound), and otherwise :meth:`Hooks.adapt` (a change of ``args`` between chunks, e.g. a new
   collocation mesh, with ``u`` and the tangent re-interpolated on it).

It stops at the first of: the end test, a corrector failure (:attr:`Status.STEP_TOO_SMALL`),
leaving the window (:attr:`Status.REACHED_BOUND`), or ``max_points`` points
(:attr:`Status.MAX_STEPS`), and returns the points as a :class:`RawBranch`, which the branch
types turn into their results.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .engine import FAILED, LEFT_WINDOW, PALC, Chunk, ContinuationProblem, ContinuationSettings
from .results import Status, Stop

__all__ = ["Points", "RawBranch", "Hooks", "run"]


@dataclass(frozen=True, eq=False)
class Points:
    """Consecutive accepted points of a branch; every array has one row per point.

    Attributes:
        u: the points :math:`(y, \\lambda)`, ``(M, N+1)``.
        tangent: unit tangents, ``(M, N+1)``.
        monitor: the solver's by-product at each point (e.g. the monodromy blocks), ``(M, ...)``.
        newton_iterations: corrector iterations, ``(M,)``.
        ds: the step that reached each point, ``(M,)``.
    """

    u: np.ndarray
    tangent: np.ndarray
    monitor: np.ndarray
    newton_iterations: np.ndarray
    ds: np.ndarray

    def __len__(self) -> int:
        return self.u.shape[0]

    def __getitem__(self, k: slice) -> Points:
        """The points ``k`` (a slice), as :class:`Points`."""
        return Points(self.u[k], self.tangent[k], self.monitor[k], self.newton_iterations[k],
                      self.ds[k])

    @classmethod
    def one(cls, u, tangent, monitor, newton_iterations: int = 0, ds: float = 0.0) -> Points:
        """A single point (e.g. the start of a branch)."""
        return cls(np.asarray(u)[None], np.asarray(tangent)[None], np.asarray(monitor)[None],
                   np.array([newton_iterations]), np.array([float(ds)]))

    @classmethod
    def from_chunk(cls, c: Chunk) -> Points:
        return cls(c.u, c.tangent, c.monitor, c.newton_iterations, c.ds)

    @classmethod
    def concat(cls, parts) -> Points:
        return cls(*(np.concatenate([getattr(p, f) for p in parts])
                     for f in ("u", "tangent", "monitor", "newton_iterations", "ds")))


@dataclass(frozen=True, eq=False)
class RawBranch(Points):
    """The points of a branch as :func:`run` computed them, and why it ended.

    Attributes:
        args: for every point, the ``args`` it was computed with (they change where
            :meth:`Hooks.adapt` changes them).
        stop: the :class:`~hhanalysis.continuation.results.Stop` record.
    """

    args: tuple = ()
    stop: Stop = Stop(Status.MAX_STEPS)

    @property
    def status(self) -> Status:
        return self.stop.status


class Hooks:
    """Problem-supplied callbacks between chunks. The defaults keep every point, observe
    nothing, leave the last point past the window as it is and never change ``args``."""

    def end(self, points: Points, args) -> tuple[int, Stop | None]:
        """How many of ``points`` to keep, and the reason to stop after them (or None)."""
        return len(points), None

    def accepted(self, before: tuple, points: Points, args) -> None:
        """Called with the kept points of each chunk; ``before = (u, t)`` is the point the chunk
        started from (on the chunk's ``args``)."""

    def at_bound(self, base: tuple, last: Points, edge: float, args) -> Points | None:
        """The point on the bound ``edge`` that replaces ``last`` (the first point past it),
        from ``base = (u, t)``, the point before it; None keeps ``last``."""
        return None

    def adapt(self, u, t, args):
        """``(u, t, args)`` for the next chunk (e.g. on a new mesh)."""
        return u, t, args


def run(problem: ContinuationProblem, start: Points, args, settings: ContinuationSettings, *,
        window: tuple[float, float] = (-math.inf, math.inf), hooks: Hooks | None = None,
        chunk: int = 64, free: int = 1, ds: float | None = None,
        max_points: int | None = None, window2: tuple[float, float] | None = None) -> RawBranch:
    """Continue the branch of ``problem`` from the last point of ``start``.

    Arguments:
        problem: the residual and its bordered solver.
        start: the first point(s) of the branch, with their tangents (oriented in the direction
            to go) and monitors; they are the first rows of the result.
        args: the arguments of ``problem`` fixed along a chunk.
        settings: step control, tolerances and ``max_steps``.
        window: bounds of the first free parameter, ``u[-free]``.
        hooks: the problem's :class:`Hooks`.
        chunk: steps per jitted call.
        free: number of free parameters at the end of ``u``.
        ds: the first step (default ``|settings.ds|``); a positive step goes along the start
            tangent.
        max_points: the most points, ``start`` included (default ``len(start) +
            settings.max_steps``).
        window2: bounds of the second free parameter ``u[-free + 1]``: a chunk also ends at the
            first point outside them (the hooks' end test must then stop the branch there;
            the chunk does not go on past the bound).

    Returns:
        :class:`RawBranch`; its ``stop`` is REACHED_BOUND (param: the bound), STEP_TOO_SMALL,
        MAX_STEPS, or the one the end test gave.
    """
    hooks = hooks or Hooks()
    if window2 is not None and free < 2:
        raise ValueError(f"window2 needs two free parameters, got free={free}")
    if window2 is None:
        palc = PALC(problem, settings, chunk, window_index=-free)
        box = window
    else:
        palc = PALC(problem, settings, chunk, window_index=(-free, -free + 1))
        box = tuple(np.array(b, float) for b in zip(window, window2))
    total = len(start) + settings.max_steps if max_points is None else int(max_points)
    parts, part_args = [start], [args] * len(start)
    u, t = start.u[-1], start.tangent[-1]
    ds = abs(settings.ds) if ds is None else ds
    stop = None
    n = len(start)
    while n < total and stop is None:
        c = palc.run_chunk(u, t, ds, args, box)
        keep = min(len(c), total - n)
        pts = Points.from_chunk(c)[:keep]
        cut, stop = hooks.end(pts, args) if keep else (0, None)
        if cut:
            pts = pts[:cut]
            parts.append(pts)
            part_args += [args] * cut
            n += cut
            hooks.accepted((u, t), pts, args)
        if stop is not None or keep < len(c):
            break
        if c.status == FAILED:
            stop = Stop(Status.STEP_TOO_SMALL, float(np.asarray(c.u_last)[-free]), settings.ds_min,
                        settings.max_newton_iterations)
        elif c.status == LEFT_WINDOW:
            edge = window[1] if float(np.asarray(c.u_last)[-free]) > window[1] else window[0]
            base = (pts.u[-2], pts.tangent[-2]) if cut >= 2 else (u, t)
            on_bound = hooks.at_bound(base, pts[-1:], edge, args)
            if on_bound is not None:
                parts[-1] = Points.concat([pts[:-1], on_bound])
            stop = Stop(Status.REACHED_BOUND, float(edge))
        else:
            u, t, args = hooks.adapt(c.u_last, c.t_last, args)
            ds = c.ds_next
    all_points = Points.concat(parts)
    if stop is None:
        stop = Stop(Status.MAX_STEPS, float(all_points.u[-1, -free]), settings.max_steps)
    return RawBranch(*(getattr(all_points, f) for f in
                       ("u", "tangent", "monitor", "newton_iterations", "ds")),
                     args=tuple(part_args), stop=stop)
