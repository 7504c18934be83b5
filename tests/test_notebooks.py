"""The notebooks in notebooks/ run end to end (stored without outputs; each asserts its numbers).

Each notebook runs in its own Jupyter kernel (a separate process), so the test process only waits
while one executes. The selected notebooks are therefore started together when the first of their
tests runs, at most ``WORKERS`` at a time (one per CPU core, at most two), each in a subprocess
driving nbclient; each test then waits for its own notebook and fails with the error of the cell
that failed. On two cores this runs the notebooks in about half the time of one after the other.
"""

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))
WORKERS = max(1, min(2, os.cpu_count() or 1))
#: Executes one notebook (argv: notebook, working directory) in a fresh python3 kernel; on a
#: failing cell prints nbclient's error (the cell and its traceback) and exits 1.
RUNNER = """
import sys
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
nb = nbformat.read(sys.argv[1], as_version=4)
try:
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": sys.argv[2]}}).execute()
except CellExecutionError as e:
    print(e, file=sys.stderr)
    sys.exit(1)
"""


def test_there_are_six_notebooks_without_outputs():
    assert [p.name for p in NOTEBOOKS] == ["01_hh_tour.ipynb", "02_bifurcation_diagram.ipynb",
                                           "03_center_manifold.ipynb",
                                           "04_differentiable_bifurcations.ipynb",
                                           "05_phase_response.ipynb", "06_two_parameter.ipynb"]
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") and c.get("execution_count") is None
                   for c in nb.cells if c.cell_type == "code"), path.name


def _execute(path: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-c", RUNNER, str(path), str(cwd)], env=env,
                          capture_output=True, text=True, timeout=1200)


@pytest.fixture(scope="module")
def executions(request, tmp_path_factory):
    """The executions of the notebooks this session selected, started at once (``WORKERS`` at a
    time): ``{path: Future of the CompletedProcess}``."""
    selected = [item.callspec.params["path"] for item in request.session.items
                if getattr(item, "originalname", None) == "test_notebook_executes"
                and item.path == request.path]
    pool = ThreadPoolExecutor(WORKERS)
    try:
        # the last ones (fitting, two-parameter plane) take longest: they start first
        yield {path: pool.submit(_execute, path, tmp_path_factory.mktemp(path.stem))
               for path in reversed(selected)}
    finally:  # after ``-x`` stopped the session: start no more notebooks
        pool.shutdown(wait=True, cancel_futures=True)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes(path, executions):
    run = executions[path].result()
    assert run.returncode == 0, f"{path.name} failed:\n{run.stderr[-6000:]}"
