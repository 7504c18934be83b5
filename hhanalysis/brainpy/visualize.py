"""BrainPy-style plotting helpers (``bp.visualize``): ``line_plot`` and ``get_figure``.

They draw with whatever matplotlib backend is active; ``matplotlib.pyplot`` is imported when one
of them is first called, not when this module is imported.
"""

from __future__ import annotations

import numpy as np

__all__ = ["line_plot", "get_figure"]


def get_figure(row_num: int, col_num: int, row_len: float = 3, col_len: float = 6):
    """A figure sized ``col_num*col_len`` by ``row_num*row_len`` inches and its GridSpec."""
    for name, v in (("row_num", row_num), ("col_num", col_num)):
        if int(v) != v or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(col_num * col_len, row_num * row_len), constrained_layout=True)
    gs = fig.add_gridspec(int(row_num), int(col_num))
    return fig, gs


def line_plot(ts, val_matrix, plot_ids=None, ax=None, xlim=None, ylim=None,
              xlabel="Time (ms)", ylabel=None, legend=None, title=None, show=False, **kwargs):
    """Plot ``val_matrix`` (steps,) or (steps, N) against ``ts``; ``plot_ids`` picks columns.

    ``legend`` is a label prefix (each line is labelled ``f"{legend}-{id}"``).
    """
    ts = np.asarray(ts)
    vals = np.asarray(val_matrix)
    if vals.ndim == 1:
        vals = vals[:, None]
    if vals.shape[0] != ts.size:
        raise ValueError(f"val_matrix has {vals.shape[0]} rows but ts has {ts.size}")
    ids = range(vals.shape[1]) if plot_ids is None else np.atleast_1d(plot_ids)
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    for i in ids:
        ax.plot(ts, vals[:, i], label=f"{legend}-{i}" if legend else None, **kwargs)
    if xlim is not None:
        ax.set_xlim(xlim)
    if ylim is not None:
        ax.set_ylim(ylim)
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    if legend:
        ax.legend()
    if title:
        ax.set_title(title)
    if show:
        plt.show()
    return ax
