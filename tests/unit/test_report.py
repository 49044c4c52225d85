from dockerlab.measure import ImageStats, LayerRow
from dockerlab.report import images_table, layers_table, markdown_table, unavailable_notice

from .fakes import fake_client


def test_markdown_table_escapes_pipes() -> None:
    assert markdown_table(["a"], [["x|y"]]) == "| a |\n|:--|\n| x\\|y |"


def test_images_table_shows_docker_size_bytes_and_layers() -> None:
    table = images_table([ImageStats("ch09/hello:latest", "sha256:" + "1" * 64, 1_819_316, 1)], fake_client())
    assert table.splitlines()[0] == "| 이미지(태그) | 크기 (docker image ls, overlay2) | 정확한 바이트 수 | 레이어 수 |"
    assert "| `ch09/hello:latest` | 1.82MB | 1,819,316 | 1 |" in table


def test_layers_table_marks_metadata_rows() -> None:
    table = layers_table([LayerRow("COPY file:x in /", 10, False), LayerRow('CMD ["/hello"]', 0, True)])
    assert "| 2 | `CMD [\"/hello\"]` | (메타데이터) | 0 |" in table
    assert "| 1 | `COPY file:x in /` | 10B | 10 |" in table


def test_unavailable_notice_has_reason_and_no_numbers() -> None:
    notice = unavailable_notice("alpine:3.20", "no registry")
    assert "이 빌드에서는 실행하지 않음" in notice and "no registry" in notice
