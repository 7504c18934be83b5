"""The rest / tonic / bistable map of :func:`hhanalysis.sweep` (matplotlib).

Kept apart from :mod:`hhanalysis.plotting` and :mod:`hhanalysis.figures`, whose code is
fingerprinted by the documentation images: this figure is not part of ``reproduce``.
``matplotlib.pyplot`` is imported only when a figure is made.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .plotting import REGIME_COLOURS, _axes, _label, plot_two_parameter_diagram

__all__ = ["plot_regime_map", "figure_regime_map", "REGIME_COLOURS"]


def plot_regime_map(sweep, other: str, diagram=None, ax=None, title: str | None = None):
    """The plane of the swept parameter (horizontal) and ``other`` (vertical) coloured by the
    regime of :func:`hhanalysis.sweep` at each grid point: rest, tonic firing, bistable (both),
    neither; with the Hopf and fold curves of a
    :class:`~hhanalysis.TwoParameterDiagram` of the same plane drawn over it."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    ax = _axes(ax, figsize=(7.5, 5.0))
    x = sweep.values(sweep.param)
    y = sweep.values(other)
    x1, y1 = x[:, 0], y[0, :]
    ax.pcolormesh(x1, y1, sweep.regime.T.astype(float), shading="nearest",
                  cmap=ListedColormap(REGIME_COLOURS), vmin=0, vmax=3, rasterized=True, zorder=0)
    names = ("rest", "tonic firing", "bistable (rest or firing)", "neither")
    patches = [Patch(color=c, label=n) for c, n, k in zip(REGIME_COLOURS, names, range(4))
               if np.any(sweep.regime == k)]
    handles = []
    if diagram is not None:
        plot_two_parameter_diagram(diagram, ax=ax, shade=False)
        legend = ax.get_legend()
        handles = list(legend.legend_handles) if legend is not None else []
    ax.set_xlim(x1[0], x1[-1])
    ax.set_ylim(y1[0], y1[-1])
    ax.set_xlabel(_label(sweep.model, sweep.param))
    ax.set_ylabel(_label(sweep.model, other))
    ax.legend(handles=patches + handles, fontsize=8, loc="upper left",
              bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, frameon=False)
    if title is not None:
        ax.set_title(title, fontsize=10)
    return ax


def figure_regime_map(out, I=(0.0, 40.0, 81), gK=(10.0, 60.0, 51)) -> dict:
    """The (I, gK) plane of the brainpy preset coloured rest / tonic firing / bistable
    (:func:`hhanalysis.sweep`: warm-started simulation up and down in I, every gK at once) with
    the Hopf and fold curves of :func:`hhanalysis.two_parameter_diagram` over it. Not part of
    ``reproduce``. ``I``, ``gK``: (first, last, count) of the grid."""
    import matplotlib.pyplot as plt

    from .continuation.two_parameter import two_parameter_diagram
    from .models import hodgkin_huxley
    from .scale import REGIMES, sweep

    model = hodgkin_huxley(preset="brainpy")
    Is, gKs = np.linspace(*I), np.linspace(*gK)
    s = sweep(model, "I", Is, gK=gKs, transient=200.0, window=100.0)
    d = two_parameter_diagram(model, ("I", "gK"), {"I": I[:2], "gK": gK[:2]}, grid=(0, 0))
    fig, ax = plt.subplots(figsize=(9.0, 5.0), constrained_layout=True)
    plot_regime_map(s, "gK", d, ax=ax, title="brainpy preset: rest, tonic firing and "
                    "bistability in the (I, gK) plane")
    path = Path(out) / "regime_map.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return {"path": path, "counts": {r: int(np.sum(s.regime == k)) for k, r in enumerate(REGIMES)}}
