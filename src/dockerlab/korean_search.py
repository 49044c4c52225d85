"""Korean full-text search for the book (Sphinx has no Korean search language).

Sphinx's fallback splits on spaces, so 이미지 never finds 이미지를 or 이미지는: Korean attaches
particles and endings to words. At build time this language splits text with Kiwi, a Korean
morphological analyzer whose model ships in the ``kiwipiepy_model`` wheel, and indexes the
content morphemes (nouns, foreign words, verb and adjective stems) next to the words as written.
In the browser (static, no analyzer) a small stemmer strips common particles from the query,
so both 이미지 and 이미지를 find a page that says 이미지를.

>>> sorted(set(korean_terms("레이어는 이미지를 빌드할 때")) & {"레이어", "이미지", "빌드"})
['레이어', '빌드', '이미지']
"""

from __future__ import annotations

import functools
import re
from typing import Any

from sphinx.search import SearchLanguage

#: Morpheme tags worth indexing: nouns, foreign words, hanja, roots, numbers' neighbours, verb/adjective stems.
_CONTENT_TAGS = ("NNG", "NNP", "NNB", "NR", "NP", "SL", "SH", "XR", "VV", "VA")
_WORD = re.compile(r"\w+")

#: Particles (조사) and a copula form the browser strips from a query word, longest first.
PARTICLES = (
    "에서부터", "으로부터", "에게서", "에서는", "에서도", "으로는", "으로써", "이라는", "이라고",
    "까지", "부터", "에서", "에게", "으로", "처럼", "보다", "라는", "이나", "만큼", "하고", "이며",
    "은", "는", "이", "가", "을", "를", "의", "에", "로", "와", "과", "도", "만",
)


@functools.lru_cache(maxsize=1)
def _kiwi() -> Any:
    from kiwipiepy import Kiwi

    return Kiwi()


def korean_terms(text: str) -> list[str]:
    """Index terms for ``text``: every word as written plus its content morphemes (lower-cased)."""
    words = [w.lower() for w in _WORD.findall(text)]
    if not any("\uac00" <= ch <= "\ud7a3" for ch in text):
        return words
    morphemes = [t.form.lower() for t in _kiwi().tokenize(text) if t.tag in _CONTENT_TAGS]
    return words + [m for m in morphemes if _WORD.fullmatch(m)]


def strip_particle(word: str) -> str:
    """What the browser's stemmer does to a query word (kept in sync with :data:`JS_STEMMER`).

    >>> strip_particle("이미지를"), strip_particle("레이어는"), strip_particle("이미지"), strip_particle("바다")
    ('이미지', '레이어', '이미지', '바다')
    """
    for particle in PARTICLES:
        if len(word) > len(particle) + 1 and word.endswith(particle):
            return word[: -len(particle)]
    return word


JS_STEMMER = """
/**
 * Korean query stemmer (dockerlab.korean_search): strips one trailing particle.
 */
var Stemmer = function () {
  var particles = %s;
  this.stemWord = function (w) {
    for (var i = 0; i < particles.length; i++) {
      var p = particles[i];
      if (w.length > p.length + 1 && w.endsWith(p)) return w.slice(0, w.length - p.length);
    }
    return w;
  };
};
""" % ("[" + ", ".join(f'"{p}"' for p in PARTICLES) + "]")


class SearchKorean(SearchLanguage):
    """Sphinx search language ``ko``: Kiwi morphemes in the index, particle stripping in the browser."""

    lang = "ko"
    language_name = "Korean"
    js_stemmer_code = JS_STEMMER

    def split(self, input: str) -> list[str]:
        return korean_terms(input)

    def stem(self, word: str) -> str:
        return word.lower()

    def word_filter(self, word: str) -> bool:
        return not word.isdigit() and len(word) > 1


def setup(app: Any) -> dict[str, Any]:
    app.add_search_language(SearchKorean)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
