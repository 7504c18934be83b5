"""The notebooks in notebooks/ run end to end (stored without outputs; each asserts its numbers)."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


def test_there_are_six_notebooks_without_outputs():
    assert [p.name for p in NOTEBOOKS] == ["01_hh_tour.ipynb", "02_bifurcation_diagram.ipynb",
                                           "03_center_manifold.ipynb",
                                           "04_differentiable_bifurcations.ipynb",
                                           "05_phase_response.ipynb", "06_two_parameter.ipynb"]
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") and c.get("execution_count") is None
                   for c in nb.cells if c.cell_type == "code"), path.name


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes(path, tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
