"""No page shows a bare Python repr, nor a Markdown code mark as a literal backtick in its prose."""

from __future__ import annotations

from dockerlab.report import python_reprs


def test_no_cell_output_on_any_page_is_a_python_repr(built_book) -> None:
    pages = sorted(built_book.html_dir.rglob("*.html"))
    assert any(p.parent.name == "chapters" for p in pages)
    found = []
    for path in pages:
        docname = path.relative_to(built_book.html_dir).with_suffix("").as_posix()
        for output in built_book.page(docname).select("div.cell_output"):
            found += [f"{docname}: {line.strip()}" for line in python_reprs(output.get_text())]
    assert found == []


def test_no_pages_prose_shows_a_literal_backtick(built_book) -> None:
    """Glued sentences are text, not Markdown: a backtick in one would reach the reader as a backtick."""
    found = []
    for path in sorted(built_book.html_dir.rglob("*.html")):
        docname = path.relative_to(built_book.html_dir).with_suffix("").as_posix()
        article = built_book.page(docname).select_one("article")
        if article is None:
            continue
        for code in article.select("pre, code, div.cell_input, div.cell_output, script, style"):
            code.decompose()
        text = " ".join(article.get_text(" ").split())
        found += [f"{docname}: ...{text[max(0, i - 40):i + 40]}..." for i in range(len(text)) if text[i] == "`"]
    assert found == []
