from pathlib import Path

import pytest

from dockerlab.budgets import check_budgets, load_budgets, parse_size
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
