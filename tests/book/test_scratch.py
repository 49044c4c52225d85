"""What a reader of the scratch page sees equals what the engine says."""


PAGE = "chapters/02-1-scratch"


def _table(soup, header_text: str) -> list[list[str]]:
    for table in soup.select("article table"):
        rows = [[c.get_text(" ", strip=True) for c in tr.find_all(["th", "td"])] for tr in table.find_all("tr")]
        if rows and header_text in rows[0][0]:
            return rows
    raise AssertionError(f"no table whose first header is {header_text!r}")


def test_images_table_matches_docker_image_inspect(built_book, engine) -> None:
    rows = _table(built_book.page(PAGE), "이미지(태그)")
    shown = {row[0]: row for row in rows[1:]}
    assert {"ch09/hello:latest", "ch09/rootfs-base:latest"} <= set(shown)
    for tag, (_, size, exact, layers) in shown.items():
        stats = built_book.image(PAGE, tag)
        assert size == stats.human, tag
        assert exact == f"{stats.size:,}", tag
        assert int(layers) == stats.layers, tag


def test_prose_shows_the_measured_hello_and_rootfs_sizes(built_book, engine) -> None:
    soup = built_book.page(PAGE)
    hello = built_book.image(PAGE, "ch09/hello:latest")
    rootfs = built_book.image(PAGE, "ch09/rootfs-base:latest")
    paragraphs = {p.get_text(" ", strip=True): [s.get_text(strip=True) for s in p.select(".pasted-text")]
                  for p in soup.select("article p")}
    hello_par = next(v for k, v in paragraphs.items() if k.startswith("ch09/hello:latest 의 크기는"))
    assert hello_par[:2] == [hello.human, f"{hello.size:,}"]
    rootfs_par = next(v for k, v in paragraphs.items() if "ch09/rootfs-base:latest 는 레이어" in k)
    assert [rootfs.human, f"{rootfs.size:,}"] == rootfs_par[2:4]


def test_hello_output_is_shown(built_book) -> None:
    outputs = [o.get_text().strip() for o in built_book.page(PAGE).select("div.cell_output")]
    assert "hello, scratch!" in outputs


def test_the_corrected_build_command_is_shown(built_book) -> None:
    soup = built_book.page(PAGE)
    commands = [pre.get_text("") for pre in soup.select("div.highlight-console pre")]
    assert any("$ docker image build -t ch09/hello:latest ." in c for c in commands), commands
    outputs = " ".join(o.get_text() for o in soup.select("div.cell_output"))
    assert "'docker image build' requires 1 argument" in outputs or "requires exactly 1 argument" in outputs


def test_no_notebook_failed(built_book) -> None:
    from dockerlab.artefacts import read_record

    assert read_record(built_book.out, PAGE) is not None, "the page has no execution artefact"
    assert "Traceback" not in built_book.page(PAGE).get_text()
