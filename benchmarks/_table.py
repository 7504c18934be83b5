"""A plain-text table for the benchmark scripts: header, rule, then one row at a time."""

from __future__ import annotations


class Table:
    """``columns``: ``(header, format spec)`` pairs, e.g. ``("AUTO s", ".3f")``; the first column
    is left-aligned, the others right-aligned to the width of their header."""

    def __init__(self, columns):
        self.columns = [(name, fmt, max(len(name), 8)) for name, fmt in columns]

    def header(self) -> None:
        cells = [f"{name:{'<' if i == 0 else '>'}{w}}"
                 for i, (name, _, w) in enumerate(self.columns)]
        line = " ".join(cells)
        print(line)
        print("-" * len(line))

    def row(self, *values) -> None:
        print(" ".join(f"{v:{'<' if i == 0 else '>'}{w}{fmt}}"
                       for i, (v, (_, fmt, w)) in enumerate(zip(values, self.columns))))
