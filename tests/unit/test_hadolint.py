"""hadolint as the pages run it: the real binary from the virtualenv, on small Dockerfiles written here."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockerlab.hadolint import HADOLINT_VERSION, HadolintError, hadolint_version, lint, parse_findings


def test_the_pinned_release_is_the_one_installed() -> None:
    assert hadolint_version() == f"Haskell Dockerfile Linter {HADOLINT_VERSION}"


def test_findings_text_and_exit_status_come_from_the_same_files(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile.split").write_text("FROM debian:bookworm\nRUN echo a\nRUN echo b\n")
    (tmp_path / "Dockerfile.one").write_text("FROM debian:bookworm\nRUN echo a && echo b\n")
    run = lint(["Dockerfile.split", "Dockerfile.one"], root=tmp_path)
    assert run.command == "hadolint Dockerfile.split Dockerfile.one"
    assert run.codes("Dockerfile.split") == ["DL3059"] and run.codes("Dockerfile.one") == []
    assert run.text == ("Dockerfile.split:3 DL3059 info: Multiple consecutive `RUN` instructions. "
                        "Consider consolidation.\n")
    assert run.exit_status == 1 and run.count("Dockerfile.split") == {"info": 1}


def test_a_configuration_changes_the_threshold_and_a_readers_own_is_never_read(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM debian:bookworm\nRUN echo a\nRUN echo b\n")
    (tmp_path / ".hadolint.yaml").write_text("ignored: [DL3059]\n")  # would hide the finding if it were read
    (tmp_path / "strict.yaml").write_text("failure-threshold: warning\n")
    assert lint(["Dockerfile"], root=tmp_path).codes() == ["DL3059"]
    relaxed = lint(["Dockerfile"], root=tmp_path, config="strict.yaml")
    assert relaxed.codes() == ["DL3059"] and relaxed.exit_status == 0
    assert relaxed.command == "hadolint --config strict.yaml Dockerfile"


def test_a_missing_or_unparsable_dockerfile_is_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(HadolintError, match=r"^no such Dockerfile: Dockerfile\.gone \(under "):
        lint(["Dockerfile.gone"], root=tmp_path)
    (tmp_path / "Dockerfile").write_text("FROM x\nRUNN foo\n")
    with pytest.raises(HadolintError, match=r"^hadolint cannot parse Dockerfile: line 2: missing whitespace\.$"):
        lint(["Dockerfile"], root=tmp_path)
    with pytest.raises(HadolintError, match="^hadolint's JSON did not read"):
        parse_findings("[{]")
