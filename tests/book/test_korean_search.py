"""Korean search: words written only with particles are found by their bare form, in a real browser.

A one-page site (no notebooks) whose Korean words never appear bare: with Sphinx's fallback
splitter none of these searches would find it.
"""

from pathlib import Path

import pytest

from tests.book.conftest import search_results, serve
from tests.book.test_faults import build
from tests.conftest import ROOT

TEXT = "도커는 이미지를 만들 때 레이어를 하나씩 쌓습니다. 빌드할 때마다 레이어가 늘어나고 이미지는 커집니다."


@pytest.fixture(scope="module")
def particles_site(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("korean") / "src"
    src.mkdir()
    import shutil

    shutil.copytree(ROOT / "_static", src / "_static")
    (src / "conf.py").write_text(f"exec(open({str(ROOT / 'conf.py')!r}, encoding='utf-8').read())\n")
    (src / "index.md").write_text(f"# 검색 시험\n\n{TEXT}\n")
    out = src.parent / "out"
    proc = build(src, out)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    return out / "html"


@pytest.mark.parametrize("query", ["이미지", "레이어", "빌드", "도커", "이미지를"])
def test_bare_word_finds_a_page_that_only_has_it_with_particles(particles_site, page, query) -> None:
    for word in ("이미지", "레이어", "빌드", "도커"):
        # The page really has no bare form of these words.
        assert f"{word} " not in TEXT and f"{word}." not in TEXT
    with serve(particles_site) as url:
        hrefs = search_results(page, url, query)
    assert any(h.startswith("index.html") for h in hrefs), (query, hrefs)


def test_search_index_holds_morphemes(particles_site) -> None:
    index = (particles_site / "searchindex.js").read_text(encoding="utf-8")
    for word in ("이미지", "레이어", "빌드"):
        escaped = word.encode("unicode_escape").decode()
        assert escaped in index or word in index
