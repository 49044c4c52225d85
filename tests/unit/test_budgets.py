from pathlib import Path

import pytest

from dockerlab.budgets import budget_for, check_budgets, load_budgets, parse_size, reset_budgets
from dockerlab.errors import DockerLabError

from .fakes import FakeAPI, image_info


@pytest.mark.parametrize(("text", "size"), [("2MB", 2_000_000), ("750kB", 750_000), ("1.5GB", 1_500_000_000),
                                            ("2MiB", 2_097_152), ("0B", 0)])
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["2", "two MB", "2 mb", "-1MB"])
def test_parse_size_rejects_nonsense(text: str) -> None:
    with pytest.raises(DockerLabError, match="not a size"):
        parse_size(text)


def test_check_budgets_flags_growth_and_missing_images(tmp_path: Path) -> None:
    path = tmp_path / "budgets.toml"
    path.write_text('[images]\n"a:latest" = "2MB"\n"b:latest" = "1MB"\n"c:latest" = "1MB"\n')
    api = FakeAPI(images={"a:latest": image_info(1_819_316), "b:latest": image_info(1_000_001)})
    results = {b.tag: b for b in check_budgets(path, api)}
    assert results["a:latest"].ok
    assert not results["b:latest"].ok
    assert results["b:latest"].sentence() == "b:latest: 1MB is OVER its budget of 1MB"
    assert not results["c:latest"].ok and "no such image" in results["c:latest"].sentence()


def test_the_repository_budget_file_parses() -> None:
    budgets = load_budgets(Path(__file__).resolve().parents[2] / "budgets.toml")
    assert budgets["ch09/hello:latest"] == 2_000_000


@pytest.mark.parametrize(("size", "budget"), [(1_814_796, "2MB"), (1_982_610, "2.2MB"), (57_697_748, "64MB"),
                                              (294_586_455, "330MB"), (1_000_000_000, "1.1GB"), (640, "710B"),
                                              (683_000, "760kB")])
def test_a_budget_is_the_size_plus_ten_percent_rounded_up(size: int, budget: str) -> None:
    assert budget_for(size) == budget
    assert parse_size(budget) >= size * 1.1


def test_reset_rewrites_values_and_keeps_comments_and_missing_images(tmp_path: Path) -> None:
    path = tmp_path / "budgets.toml"
    path.write_text('# why\n[images]\n"a:latest" = "9MB"\n"gone:1" = "1MB"  # kept\n')
    changes = reset_budgets(path, FakeAPI(images={"a:latest": image_info(1_819_316)}))
    assert changes == [("a:latest", "9MB", "2.1MB")]
    assert path.read_text() == '# why\n[images]\n"a:latest" = "2.1MB"\n"gone:1" = "1MB"  # kept\n'
