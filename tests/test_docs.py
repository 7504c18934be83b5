"""The documentation site builds (mkdocs --strict: broken links, bad API references and docstring
problems fail) and shows the figures it promises."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


@pytest.mark.slow
def test_mkdocs_builds_strict(tmp_path):
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                           str(tmp_path / "site")], cwd=ROOT, capture_output=True, text=True,
                          env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    api = (tmp_path / "site" / "api" / "index.html").read_text()
    for name in ("continue_cycles", "bifurcation_diagram", "CycleBranch", "Collocation"):
        assert name in api
    assert (tmp_path / "site" / "img" / "bifurcation_diagram.png").exists()
    # the docstrings' reST (roles, math blocks) is rendered, not shown raw (docs/hooks.py)
    for page in (tmp_path / "site").rglob("*.html"):
        html = page.read_text()
        for raw in (".. math::", ":class:", ":func:", ":mod:", ":meth:", ":attr:", ":data:"):
            assert raw not in html, (page, raw)


def test_every_image_the_docs_show_exists():
    import re

    for page in (ROOT / "docs").glob("*.md"):
        for img in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", page.read_text()):
            assert (ROOT / "docs" / img).exists(), (page.name, img)
