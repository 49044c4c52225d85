"""Render measurements for the book: Markdown tables, glued values, notices.

Everything here turns numbers measured by :mod:`dockerlab.measure` into what a page shows;
nothing here measures or invents a number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from dockerlab.measure import ImageStats, LayerRow
from dockerlab.sizes import human_size


def _escape(cell: object) -> str:
    return str(cell).replace("|", "\\|").replace("\n", " ")


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[object]], align: str | None = None) -> str:
    """Return a Markdown pipe table; ``align`` has one of ``l``/``r`` per column.

    >>> print(markdown_table(["a", "b"], [[1, 2]], align="lr"))
    | a | b |
    |:--|--:|
    | 1 | 2 |
    """
    align = align or "l" * len(headers)
    marks = {"l": ":--", "r": "--:", "c": ":-:"}
    lines = [
        "| " + " | ".join(_escape(h) for h in headers) + " |",
        "|" + "|".join(marks[a] for a in align) + "|",
    ]
    lines += ["| " + " | ".join(_escape(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def size_header(client: Any | None = None, what: str = "크기", *, store: str | None = None) -> str:
    """The header of a size column: what ``docker image ls`` prints, and on which image store (``store``, or
    the one ``client``'s engine uses).

    >>> class Engine:
    ...     def info(self): return {"Driver": "overlay2", "DriverStatus": []}
    >>> size_header(Engine()), size_header(store="containerd")
    ('크기 (docker image ls, overlay2)', '크기 (docker image ls, containerd)')
    """
    from dockerlab.measure import image_store_name

    return f"{what} (docker image ls, {store or image_store_name(client)})"


def images_table(images: Iterable[ImageStats], client: Any | None = None) -> str:
    """The book's table of images: tag, size as docker shows it, exact bytes, layers."""
    return markdown_table(
        ["이미지(태그)", size_header(client), "정확한 바이트 수", "레이어 수"],
        [[f"`{s.tag}`", s.human, f"{s.size:,}", s.layers] for s in images],
        align="llrr",
    )


def layers_table(rows: Iterable[LayerRow]) -> str:
    """``docker image history`` as a table, oldest layer first."""
    body = []
    for i, row in enumerate(rows, 1):
        instruction = row.created_by if len(row.created_by) <= 90 else row.created_by[:87] + "..."
        body.append([i, f"`{instruction}`", "(메타데이터)" if row.empty else row.human, f"{row.size:,}"])
    return markdown_table(["#", "인스트럭션", "크기", "바이트"], body, align="rllr")


def show_markdown(text: str) -> Any:
    """Display Markdown in a notebook (rendered by myst-nb as MyST)."""
    from IPython.display import Markdown, display

    display(Markdown(text))


def glue_size(key: str, size: int) -> None:
    """Glue ``size`` as ``key`` (docker's format, e.g. ``1.82MB``) and ``key_bytes`` (the int).

    In prose: ``{glue:text}`key``` and ``{glue:text}`key_bytes:,d```. Returns nothing, so a
    cell ending with it shows no stray value.
    """
    from myst_nb import glue

    glue(key, human_size(size), display=False)
    glue(f"{key}_bytes", int(size), display=False)


def glue_text(key: str, text: str) -> None:
    """Glue a short text (a tag, a version, a ratio, a sentence) for ``{glue:text}``; returns nothing.

    ``{glue:text}`` puts the text into the page as it is, not as Markdown: a code mark would show as a
    backtick, so backticks are dropped (a book test checks that no page's prose shows one).
    """
    from myst_nb import glue

    glue(key, str(text).replace("`", ""), display=False)


def unavailable_notice(what: str, reason: str) -> str:
    """The one notice a page shows for a step this build could not run: the reason, and no figures."""
    reason = " ".join(reason.split()).replace("`", "'")
    # The machine's own resolver address says nothing to a reader.
    reason = re.sub(r" on \d{1,3}(?:\.\d{1,3}){3}:53\b", "", reason)
    return (
        ":::{admonition} 이 빌드에서는 실행하지 않음\n:class: warning\n\n"
        f"**{what}** 단계는 이 빌드에서 실행할 수 없어 건너뛰었고, 이 단계에 해당하는 숫자도 싣지 않았습니다. "
        f"이유는 다음과 같습니다.\n\n`{reason}`\n:::"
    )


def substitutes_note(names: Sequence[str], client: Any | None = None) -> str:
    """A short note naming the base images on this page that were bootstrapped, not pulled ("" when none)."""
    from dockerlab.bases import base_provenance

    made = [base_provenance(n, client) for n in names]
    made = [b for b in made if b.origin == "bootstrapped"]
    if not made:
        return ""
    items = "\n".join(f"- `{b.name}`: `{b.detail}` (`{b.packages}`)" for b in made)
    return (
        ":::{admonition} 대체 기반 이미지\n:class: note\n\n"
        "이 빌드에서는 컨테이너 레지스트리에 닿을 수 없어, "
        "이 페이지가 쓰는 다음 기반 이미지를 공식 이미지와 같은 방법으로 "
        "데비안 패키지에서 직접 만들어 공식 이름으로 태그했습니다. 크기는 공식 이미지와 다를 수 있습니다. "
        "전체 목록은 {doc}`/status`에 있습니다.\n\n"
        f"{items}\n:::"
    )


#: What Python's repr looks like on a page: a quoted str inside a list, tuple, dict or set, a str repr with an
#: escaped newline, a dataclass or class repr, a default object repr. JSON (double quotes) is not matched.
_REPR_PATTERNS = (
    re.compile(r"[\[({]'"),
    re.compile(r"'[^'\n]*\\n'"),
    re.compile(r"\b[A-Z][A-Za-z0-9]*\([a-z_][a-z0-9_]*="),
    re.compile(r"<[\w.]+ object at 0x[0-9a-f]+>"),
)


def python_reprs(text: str) -> list[str]:
    r"""The lines of ``text`` that show a bare Python repr (a page prints values for readers, not reprs).

    >>> python_reprs("ch09/floor:go  1.82MB  'hello, scratch!\\n'")
    ["ch09/floor:go  1.82MB  'hello, scratch!\\n'"]
    >>> python_reprs('GET /healthz -> 200 {"status": "ok"}')
    []
    >>> python_reprs("arg ['history[4]']\nStats(size=1)\nefficiency 0.75, wasted 7000 bytes")
    ["arg ['history[4]']", 'Stats(size=1)']
    """
    return [line for line in text.splitlines() if any(p.search(line) for p in _REPR_PATTERNS)]
