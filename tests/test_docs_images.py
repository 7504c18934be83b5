"""The images in docs/img come from the code (``make docs-img``), and this test fails when they
are stale.

How staleness is detected without comparing PNG bytes (matplotlib's output differs between
versions and machines): ``make docs-img`` writes docs/img/figures.json beside the images with

* ``code``: the fingerprint of the drawing code (syntax trees of figures.py and plotting.py
  without docstrings) — a change to what is drawn makes the images stale;
* per image its SHA-256 — an image replaced or left over from another run no longer matches;
* per image the numbers it shows (Hopf points, folds, rates, spike counts, the hysteresis
  currents, ...) — recomputed here for the cheap figures, and checked against AUTO-07p's
  independent numbers (tests/data) for the bifurcation diagrams. ``make docs-img-check``
  recomputes all of them (slow).
"""

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from hhanalysis import figures

IMG = Path(__file__).parents[1] / "docs" / "img"
DATA = Path(__file__).parent / "data"
HINT = "docs/img is stale: run `make docs-img` and commit docs/img"


@pytest.fixture(scope="module")
def manifest():
    path = IMG / figures.MANIFEST
    assert path.exists(), HINT
    return json.loads(path.read_text())


def test_every_docs_image_is_in_the_manifest_with_its_bytes(manifest):
    # library_*.png are the model library's figures, drawn by docs/library_figures.py (not by
    # ``reproduce``); make docs-img leaves them alone
    pngs = sorted(p.name for p in IMG.glob("*.png") if not p.name.startswith("library_"))
    assert pngs == sorted(manifest["figures"]), HINT
    for name, entry in manifest["figures"].items():
        digest = hashlib.sha256((IMG / name).read_bytes()).hexdigest()
        assert digest == entry["sha256"], f"{name}: {HINT}"


def test_the_drawing_code_is_the_one_that_drew_them(manifest):
    assert manifest["code"] == figures.code_fingerprint(), HINT


def test_cheap_figures_show_the_numbers_the_code_computes_now(manifest, tmp_path):
    shown = manifest["figures"]
    ex1 = figures.figure_seed_example_1(tmp_path)
    assert not figures.compare_numbers(
        shown["seed_example_1.png"]["numbers"],
        figures._jsonable({"spikes": ex1["spikes"], "rate_Hz": ex1["rate_Hz"]})), HINT
    ex2 = figures.figure_seed_example_2(tmp_path)
    assert not figures.compare_numbers(
        shown["seed_example_2.png"]["numbers"],
        figures._jsonable({"spike_times": ex2["spike_times"]}), atol=1e-6), HINT


def distinct(values, rtol=1e-6):
    """Sorted values with near-duplicates merged (AUTO-07p lists the brainpy fold twice, once
    per direction of the branch)."""
    out = []
    for v in sorted(values):
        if not out or abs(v - out[-1]) > rtol * abs(v):
            out.append(v)
    return out


def test_diagram_numbers_in_the_images_agree_with_auto07p(manifest):
    """The numbers drawn in bifurcation_diagram.png / fi_curve.png against AUTO-07p's
    (tests/data/auto07p_hh_*.json, computed independently)."""
    eq = json.loads((DATA / "auto07p_hh_equilibria.json").read_text())
    cy = json.loads((DATA / "auto07p_hh_cycles.json").read_text())
    shown = manifest["figures"]["bifurcation_diagram.png"]["numbers"]
    for preset in ("classic", "brainpy"):
        np.testing.assert_allclose(sorted(shown[preset]["hopf"]),
                                   sorted(h["I"] for h in eq[preset]["hopf_points"]), rtol=1e-7)
        for kind in ("lpc", "pd"):
            ref = distinct(p["I"] for p in cy[preset][kind.upper()])
            assert len(shown[preset][kind]) == len(ref), (preset, kind)
            np.testing.assert_allclose(sorted(shown[preset][kind]), ref, rtol=1e-6)
        # the minimum rate is the period at the lowest fold of cycles
        lowest = min(cy[preset]["LPC"], key=lambda p: p["I"])
        np.testing.assert_allclose(shown[preset]["minimum_rate"],
                                   [lowest["I"], 1000.0 / lowest["period_ms"]], rtol=1e-6)
