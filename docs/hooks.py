"""mkdocs hook: the package's docstrings write inline maths as reST roles (:math:`...`, for Sphinx
and IDEs); mkdocstrings renders them as ``:math:<code>...</code>``. Turn those into MathJax."""

import re

_ROLE = re.compile(r":math:<code>(.*?)</code>", re.S)


def on_page_content(html, **kwargs):
    return _ROLE.sub(lambda m: r'<span class="arithmatex">\(' + m.group(1) + r"\)</span>", html)
