"""mkdocs hook: the package's docstrings are written for Sphinx and IDEs (reST roles and
``.. math::`` blocks); mkdocstrings renders those literally. Turn them into what the site shows:

* ``:math:`x```      -> inline MathJax;
* ``.. math::`` and its indented block -> display MathJax (``aligned`` when it has ``&``);
* ``:class:`~a.b.C``` and the other cross-reference roles -> ``C`` in code font (the full dotted
  name without ``~``).
"""

import re

_MATH_ROLE = re.compile(r":math:<code>(.*?)</code>", re.S)
_MATH_BLOCK = re.compile(
    r"<p>\.\. math::</p>\s*(?:<div class=\"highlight\">)?<pre>(?:<span></span>)?<code>(.*?)"
    r"</code></pre>(?:</div>)?", re.S)
# the same block when markdown kept it in the paragraph (a docstring indented one level): its
# backslash escapes are already applied, so "\\" (a line break) arrives as "\" at a line end
_MATH_PARAGRAPH = re.compile(r"<p>\.\. math::\s*(.*?)</p>", re.S)
_LOST_BREAK = re.compile(r"\\(?=[ \t]*\n)")
_XREF = re.compile(r":(?:class|func|meth|attr|mod|data|exc|obj|py:\w+):<code>(~?)([^<]*)</code>")


def _display(tex: str) -> str:
    tex = tex.strip()
    if "&" in tex or "\\\\" in tex:
        tex = r"\begin{aligned}" + tex + r"\end{aligned}"
    return f'<div class="arithmatex">\\[{tex}\\]</div>'


def _xref(m) -> str:
    tilde, name = m.groups()
    return f"<code>{name.rsplit('.', 1)[-1] if tilde else name}</code>"


def on_page_content(html, **kwargs):
    html = _MATH_BLOCK.sub(lambda m: _display(m.group(1)), html)
    html = _MATH_PARAGRAPH.sub(lambda m: _display(_LOST_BREAK.sub(r"\\\\", m.group(1))), html)
    html = _MATH_ROLE.sub(lambda m: r'<span class="arithmatex">\(' + m.group(1) + r"\)</span>",
                          html)
    return _XREF.sub(_xref, html)
