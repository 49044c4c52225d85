"""What a Korean reader reads: particles that agree with the measured values, and Korean controls."""

from __future__ import annotations

from bs4 import NavigableString

from dockerlab.particles import fix_following


def test_every_particle_after_a_measured_value_agrees_with_it(built_book) -> None:
    """On every page, the text right after each glued value (``span.pasted-text``) starts with the form of the
    particle the value's reading takes ("1.81MB가", "119MB로", "36%와"), whatever the build measured."""
    checked, wrong = 0, []
    for path in sorted(built_book.html_dir.rglob("*.html")):
        docname = path.relative_to(built_book.html_dir).with_suffix("").as_posix()
        for pasted in built_book.page(docname).select("span.pasted-text, span.pasted-inline"):
            after = pasted.next_sibling
            if not isinstance(after, NavigableString):
                continue
            value, following = pasted.get_text(), str(after)
            if fix_following(value, following) != following:
                wrong.append(f"{docname}: {value}{following[:12]!r}")
            checked += 1
    assert checked > 100, "the pages should glue many values into their prose"
    assert wrong == []


def test_the_toggle_of_a_hidden_code_cell_is_korean(built_book) -> None:
    toggles, english = 0, []
    for path in sorted(built_book.html_dir.rglob("*.html")):
        docname = path.relative_to(built_book.html_dir).with_suffix("").as_posix()
        page = built_book.page(docname)
        toggles += sum(1 for s in page.select("details.hide summary") if "코드 셀 보기" in s.get_text())
        if "Show code cell" in page.get_text() or "Hide code cell" in page.get_text():
            english.append(docname)
    assert toggles > 50 and english == []
