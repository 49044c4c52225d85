"""No page shows a bare Python repr: cells print values the way a reader reads them."""

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
