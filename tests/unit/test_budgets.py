from pathlib import Path

import pytest

from dockerlab.budgets import budget_for, check_budgets, load_budgets, parse_size, reset_budgets
from dockerlab.errors import DockerLabError

from .fakes import FakeAPIClient


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
    api = FakeAPIClient()
    api.add_image("a:latest", size=1_819_316)
    api.add_image("b:latest", size=1_000_001)
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
    api = FakeAPIClient()
    api.add_image("a:latest", size=1_819_316)
    changes = reset_budgets(path, api)
    assert changes == [("a:latest", "9MB", "2.1MB")]
    assert path.read_text() == '# why\n[images]\n"a:latest" = "2.1MB"\n"gone:1" = "1MB"  # kept\n'


@pytest.mark.parametrize(("text", "message"), [
    (None, "no such budget file"),
    ("", "no image budgets"),
    ("[images]\n", "no image budgets"),
    ("[images\n", "not valid TOML"),
    ('[images]\n"a:1" = 2\n', 'the budget of a:1 must be a size in quotes, e.g. "2MB", not 2.'),
    ('[images]\n"a:1" = "two"\n', "the budget of a:1 is not a size: 'two'"),
])
def test_bad_budget_files_are_one_sentence_naming_the_file(tmp_path: Path, text: str | None, message: str) -> None:
    path = tmp_path / "budgets.toml"
    if text is not None:
        path.write_text(text)
    with pytest.raises(DockerLabError) as err:
        load_budgets(path)
    assert str(err.value).startswith(f"{path}: ")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_the_cli_exits_non_zero_with_one_sentence_for_an_empty_file(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "budgets.toml"
    path.write_text("# nothing yet\n")
    proc = subprocess.run([sys.executable, "-m", "dockerlab", "budgets", "--file", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [f"dockerlab: error: {path}: no image budgets (an [images] table with "
                                                 'one "tag" = "size" per image).']
