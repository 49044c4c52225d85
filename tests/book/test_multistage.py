"""Section 4 as a reader sees it: every size shown is the engine's figure, the ratios match the sizes,
and every multi-stage image answered its health check."""

from __future__ import annotations

import re

from dockerlab.report import size_header
from dockerlab.stages import dockerfile_stages, needed_by, stages_through

MULTISTAGE = "chapters/04-1-multistage"
BUILDERS = "chapters/04-2-builders"
CLOSING = "chapters/04-9-closing"
RUNTIMES = ("ch09/webapi:scratch", "ch09/webapi:busybox", "ch09/webapi:distroless")


def _tables(soup) -> list[list[list[str]]]:
    """Every table of the page as rows of cell texts (header row first)."""
    return [[[cell.get_text(" ", strip=True) for cell in row.find_all(["th", "td"])] for row in table.find_all("tr")]
            for table in soup.select("article table, main table")]


def _table_with(soup, header: str) -> list[list[str]]:
    matches = [t for t in _tables(soup) if t and header in t[0]]
    assert matches, f"no table with a {header!r} column"
    return matches[0]


def _tag_rows(table: list[list[str]], size_column: str) -> dict[str, str]:
    """tag -> size text, for a table whose first image column holds `ch09/...` tags."""
    header = table[0]
    size_at = header.index(size_column)
    tag_at = next(i for i, h in enumerate(header) if h == "이미지")
    return {row[tag_at]: row[size_at] for row in table[1:]}


def _prose(soup) -> str:
    return " ".join(p.get_text(" ", strip=True) for p in soup.select("article p, article li, main p, main li"))


def test_multistage_sizes_table_matches_the_engine(built_book, engine) -> None:
    page = built_book.page(MULTISTAGE)
    store = built_book.record(MULTISTAGE).store
    rows = _tag_rows(_table_with(page, "단일 스테이지 이미지 대비"), size_header(store=store))
    assert set(rows) >= {"ch09/webapi:single", "golang:1.19", *RUNTIMES, "ch09/webapi:scratch-no-ca"}
    for tag, shown in rows.items():
        assert shown == built_book.image(MULTISTAGE, tag).human, tag


def test_multistage_prose_sizes_and_ratios_match_the_engine(built_book, engine) -> None:
    text = _prose(built_book.page(MULTISTAGE))
    single = built_book.image(MULTISTAGE, "ch09/webapi:single").size
    for tag in ("ch09/webapi:single", "golang:1.19", *RUNTIMES):
        assert built_book.image(MULTISTAGE, tag).human in text, tag
    for tag in RUNTIMES:
        ratio = f"{100 * built_book.image(MULTISTAGE, tag).size / single:.2f}%"
        assert ratio in text, (tag, ratio)
    largest = max(built_book.image(MULTISTAGE, t).size for t in RUNTIMES)
    verdict = "1% 이하입니다" if largest <= 0.01 * single else "1%를 넘습니다"
    assert f"{100 * largest / single:.2f}%" in text and verdict in text


def test_ratio_column_matches_the_sizes_in_the_same_row(built_book, engine) -> None:
    table = _table_with(built_book.page(MULTISTAGE), "단일 스테이지 이미지 대비")
    header = table[0]
    single = built_book.image(MULTISTAGE, "ch09/webapi:single").size
    for row in table[1:]:
        exact = int(row[header.index("정확한 바이트 수")].replace(",", ""))
        assert row[header.index("단일 스테이지 이미지 대비")] == f"{100 * exact / single:.2f}%"


def test_every_image_answered_its_health_check(built_book) -> None:
    table = _table_with(built_book.page(MULTISTAGE), "/healthz")
    header = table[0]
    body = {row[0]: row for row in table[1:]}
    assert set(body) == {"ch09/webapi:single", "ch09/webapi:scratch-no-ca", *RUNTIMES}
    assert all(row[header.index("/healthz")] == "200" for row in body.values())
    fetch = header.index("/api/fetch (HTTPS)")
    assert body["ch09/webapi:scratch-no-ca"][fetch].startswith("502")
    assert all(body[tag][fetch].startswith("200") for tag in RUNTIMES)


def outputs_of(page) -> list[str]:
    """The text of every cell output of a page, in order."""
    return [o.get_text() for o in page.select("div.cell_output")]


def _builders_glue(book) -> dict[str, object]:
    from tests.book.test_techniques import _glue

    return _glue(book, "04-2-builders")


def test_builders_stage_table_is_the_measurement_of_both_builders(built_book) -> None:
    """BuildKit skipped exactly the stages the target does not need; the classic builder built every stage
    written up to the target and ran the test stage's RUN."""
    page = built_book.page(BUILDERS)
    table = _table_with(page, "BuildKit 단계")
    header = table[0]
    col = {name: header.index(name) for name in header}
    rows = {row[0]: row for row in table[1:]}
    stages = dockerfile_stages((built_book.src / "examples" / "webapi" / "Dockerfile").read_text())
    needed = needed_by(stages, "runtime-scratch")
    assert list(rows) == list(stages)
    for name, row in rows.items():
        assert row[col["목표에 필요"]] == ("필요" if name in needed else "불필요"), name
        built_by_buildkit = row[col["BuildKit 단계"]] != "빌드 안 함"
        assert built_by_buildkit == (name in needed), name
        built_by_classic = row[col["클래식 단계"]] != "빌드 안 함"
        assert built_by_classic == (name in stages_through(stages, "runtime-scratch")), name
        for builder in ("BuildKit", "클래식"):
            steps = row[col[f"{builder} 단계"]]
            assert steps == "빌드 안 함" or int(steps) > 0, (name, builder, steps)
    assert rows["test"][col["BuildKit 단계"]] == "빌드 안 함"
    assert rows["runtime-scratch-no-ca"][col["BuildKit 단계"]] == "빌드 안 함"
    assert rows["test"][col["클래식 RUN"]] == "1"
    # The classic builder's log excerpt is on the page: the tests ran in the test stage.
    excerpt = next(o for o in outputs_of(page) if ": FROM build AS test" in o)
    assert ": RUN go vet ./... && go test -v ./..." in excerpt and "---> Running in" in excerpt
    assert "--- PASS: TestFetchUntrustedUpstream" in excerpt


def test_builders_glued_counts_and_times_match_the_page(built_book, engine) -> None:
    glued = _builders_glue(built_book)
    page = built_book.page(BUILDERS)
    tested = next(o for o in outputs_of(page) if "--target test --build-arg TEST_RUN=" in o)
    passed = [line for line in tested.splitlines() if line.startswith("--- PASS")]
    assert glued["test_count"] == str(len(passed)) and len(passed) > 0
    assert glued["test_image"] == built_book.image(BUILDERS, "ch09/webapi:test").human
    assert glued["buildkit_image"] == built_book.image(BUILDERS, "ch09/webapi:buildkit").human
    for key in ("test_seconds", "same_value_seconds", "pruning_buildkit_seconds", "pruning_classic_seconds",
                "gc_mount_first_step", "gc_mount_edited_step", "gc_none_first_step", "gc_none_edited_step",
                "node_first_seconds", "node_again_seconds"):
        assert re.fullmatch(r"\d+\.\d초", str(glued[key])), (key, glued[key])
    assert glued["skipped_stages"] == "test, runtime-scratch-no-ca"
    assert int(glued["classic_test_runs"]) == 1 and int(glued["node_cache_records"]) > 0
    assert int(glued["stale_trimpath"]) >= 0.9 * int(glued["std_count"])
    text = _prose(page)
    for key in ("test_count", "pruning_classic_seconds", "pruning_buildkit_seconds", "gc_mount_edited_step",
                "gc_none_edited_step", "node_reclaimed", "node_cache_size"):
        assert str(glued[key]) in text, key
    # The table of the two Go build variants shows the glued step times.
    variants = _table_with(page, "변형")
    assert [row[0] for row in variants[1:]] == ["캐시 마운트", "마운트 없음"]
    assert variants[1][4] == glued["gc_mount_edited_step"] and variants[2][4] == glued["gc_none_edited_step"]


def test_builders_comparison_is_measured_or_quoted_with_its_source(built_book) -> None:
    page = built_book.page(BUILDERS)
    glued = _builders_glue(built_book)
    assert "문서 기준" not in page.get_text() and "측정하지 않음" not in page.get_text()
    table = _table_with(page, "근거")
    header = table[0]
    classic_at = next(i for i, h in enumerate(header) if h.startswith("클래식 빌더"))
    buildkit_at = next(i for i, h in enumerate(header) if h.startswith("BuildKit"))
    rows = table[1:]
    assert rows[0][classic_at].startswith("빌드함") and rows[0][buildkit_at] == "빌드 안 함 (로그에 없음)"
    assert rows[1][classic_at] == glued["pruning_classic_seconds"]
    assert rows[1][buildkit_at] == glued["pruning_buildkit_seconds"]
    assert "the --mount option requires BuildKit" in rows[3][classic_at]
    assert glued["gc_mount_edited_step"] in rows[4][buildkit_at]
    # Every row is measured on this page, except one quote, marked and linked.
    quoted = [row for row in rows if "(인용)" in row[-1]]
    assert len(quoted) == 1 and "문서에 따르면" in quoted[0][buildkit_at]
    links = [a["href"] for a in page.select("article table a, main table a")]
    assert "https://docs.docker.com/build/buildkit/" in links
    assert all(row[-1].startswith(("위", "콜드 노드")) for row in rows if row not in quoted)
    assert "DEPRECATED: The legacy builder is deprecated" in quoted[0][classic_at]


def test_builders_page_shows_both_builders_own_words(built_book) -> None:
    outputs = " ".join(outputs_of(built_book.page(BUILDERS)))
    assert "docker buildx build --load -t ch09/webapi:test --target test" in outputs
    assert "DOCKER_BUILDKIT=0 docker build -t ch09/webapi:scratch-classic --target runtime-scratch" in outputs
    assert "--no-cache-filter test" in outputs
    assert "docker build (classic builder) failed: the --mount option requires BuildKit" in outputs
    assert "docker builder prune --all --force" in outputs


def test_floor_sizes_match_the_engine_and_equal_the_files(built_book, engine) -> None:
    page = built_book.page(CLOSING)
    store = built_book.record(CLOSING).store
    rows = _tag_rows(_table_with(page, "실행 파일을 만든 방법"), size_header(what="이미지 크기", store=store))
    assert set(rows) == {f"ch09/floor:{t}" for t in ("go", "go-stripped", "c-glibc", "c-nolibc", "tiny-elf")}
    for tag, shown in rows.items():
        assert shown == built_book.image(CLOSING, tag).human, tag
    equality = _table_with(page, "일반 파일 바이트 합")
    header = equality[0]
    for row in equality[1:]:
        reported = int(row[header.index(size_header(what="엔진이 보고한 크기", store=store))].replace(",", ""))
        files = int(row[header.index("일반 파일 바이트 합")].replace(",", ""))
        links = int(row[header.index("링크 경로 길이 합")].replace(",", ""))
        assert reported == built_book.image(CLOSING, row[0]).size
        assert reported in (files, files + links), row  # the engine's size is one of the two sums
        assert row[header.index("엔진 크기 =")] != "다름"
        if row[0].startswith("ch09/floor:"):
            assert links == 0 and reported == files  # one file in scratch: the image is that file


def test_closing_table_lists_every_book_image_largest_first_with_engine_sizes(built_book) -> None:
    """The closing table gathers every page's record, so it lists the whole book's images even where the pages
    executed on several machines and the tests run on yet another (the workflow's render job)."""
    page = built_book.page(CLOSING)
    table = _table_with(page, "만든 곳")
    header = table[0]
    size = next(i for i, name in enumerate(header) if name.startswith("크기 (docker image ls"))
    tags = [row[header.index("이미지")] for row in table[1:]]
    exact = [int(row[header.index("정확한 바이트 수")].replace(",", "")) for row in table[1:]]
    assert exact == sorted(exact, reverse=True)
    engine_said = built_book.images()  # each tag as the last page that ran with it saw it on its engine
    for tag, row in zip(tags, table[1:], strict=True):
        assert row[size] == engine_said[tag].human and int(row[header.index("정확한 바이트 수")].replace(",", "")) \
            == engine_said[tag].size, tag
        assert int(row[header.index("레이어 수")]) == engine_said[tag].layers, tag
    # Images of every section are there, as built by this build; nothing the table must leave out.
    for tag in ("ch09/hello:latest", "ch09/webapi:single", *RUNTIMES, "ch09/floor:tiny-elf", "golang:1.19"):
        assert tag in tags, tag
    assert not [t for t in tags if t.startswith("ch09/test-") or t.startswith("127.0.0.1:")]
    assert set(tags) == {t for t in engine_said if not t.startswith("ch09/test-") and not t.startswith("127.")}
    prose = _prose(page)
    assert f"이책이만든이미지{len(tags)}개가운데" in "".join(prose.split())
    assert tags[0] in prose and engine_said[tags[0]].human in prose
    assert tags[-1] in prose and engine_said[tags[-1]].human in prose
    figure = page.select_one("figure#fig-all-images img")
    assert figure is not None and (built_book.html_dir / "chapters" / figure["src"]).resolve().is_file()
