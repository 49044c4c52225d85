"""Sphinx configuration for the executable book "CH09. 가벼운 도커 이미지 만들기"."""

import sys
from pathlib import Path

ROOT = Path(__file__).parent.resolve()
# The helper package works from a plain checkout too (make installs it in .venv).
sys.path.insert(0, str(ROOT / "src"))

# -- Project information -----------------------------------------------------

project = "CH09. 가벼운 도커 이미지 만들기"
author = "CH09 스터디"
copyright = "2026, CH09 스터디"
language = "ko"

# -- General configuration ---------------------------------------------------

extensions = [
    "myst_nb",
    "sphinx_copybutton",
    "dockerlab.sphinxext",  # re-executes a chapter when the examples it lists change; .ipynb downloads
    "dockerlab.korean_search",  # Sphinx has no Korean search: index Kiwi morphemes
]
exclude_patterns = [
    "_build",
    ".venv",
    "README.md",
    "**/.ipynb_checkpoints",
    "examples",
    "bases",
    "tests",
    "src",
    "test-artifacts",
    ".pytest_cache",
    "**/.pytest_cache",
    ".github",
    ".ci",
    ".*",  # any other hidden folder (editor state, scratch notes) is not part of the book
]
myst_enable_extensions = ["colon_fence", "deflist", "dollarmath", "substitution"]
myst_heading_anchors = 3
# Figures and tables are numbered so the prose can refer to them ({numref}).
numfig = True
# Curly quotes and ellipses, but no dashes: glued command lines keep their `--flags`.
smartquotes_action = "qe"
suppress_warnings = []

# -- Notebook execution (myst-nb) --------------------------------------------

# Executing and rendering are two steps. `python -m dockerlab execute` runs each page with
# nbclient, in its own folder, into an artefact (_build/artefacts/); rendering reads them:
# dockerlab.sphinxext loads each page's artefact into myst-nb's cache before Sphinx reads
# the page, so "cache" finds every page there and executes nothing (a page with no current
# artefact stops the build instead).
nb_execution_mode = "cache"
nb_execution_raise_on_error = True
nb_execution_show_tb = True
# Per cell, read by the execute step too: a cold bootstrap of the Go builder takes minutes.
nb_execution_timeout = 1800
nb_execution_in_temp = False
nb_merge_streams = True
# The toggle of a hidden code cell, in the reader's language (myst-nb's default is "Show code cell source").
nb_code_prompt_show = "코드 셀 보기"
nb_code_prompt_hide = "코드 셀 숨기기"
# Helper tables are Markdown outputs; MyST (not CommonMark) renders pipe tables and admonitions.
nb_render_markdown_format = "myst"

# -- Options for HTML output -------------------------------------------------

html_theme = "sphinx_book_theme"
html_title = "CH09. 가벼운 도커 이미지 만들기"
html_static_path = ["_static"]
html_css_files = ["book.css"]
# Search snippets from the prose only (see the file); deferred, so Sphinx's searchtools.js is loaded before it.
html_js_files = [("search-snippets.js", {"defer": "defer"})]
html_favicon = "_static/favicon.svg"
# The theme reads its colour mode from here; empty, it logs a console error on first visit.
html_context = {"default_mode": "auto"}
html_last_updated_fmt = "%Y-%m-%d %H:%M UTC"
html_theme_options = {
    "show_toc_level": 2,
    "use_download_button": True,
    "use_fullscreen_button": False,
    "home_page_in_toc": True,
}
