"""Reading the build cache as the engine and the CLI report it (no daemon), and putting the internal CA
into a build context."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

from dockerlab import buildcache
from dockerlab.buildcache import CacheKind, cache_by_type, du_summary, system_df_row
from dockerlab.errors import DockerLabError
from dockerlab.service import INTERNAL_CA_FILE, add_internal_ca, internal_tls

# `docker system df` and `docker buildx du` on a node after one build of Dockerfile.buildkit (CLI 28.2.2).
SYSTEM_DF = """\
TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE
Images          2         0         893.4MB   893.4MB (100%)
Containers      0         0         0B        0B
Local Volumes   0         0         0B        0B
Build Cache     14        0         62.59MB   62.59MB
"""
BUILDX_DU = """\
ID						RECLAIMABLE	SIZE		LAST ACCESSED
ccr0p5dsww3i0vf39bi5bk8h1*              	true 		57.03MB   	Less than a second ago
tx3ogx6faupdrwy7d94tsnau7               	true 		5.329MB*  	Less than a second ago
Shared:		5.546MB
Private:	62.59MB
Reclaimable:	68.14MB
Total:		68.14MB
"""
# Records as GET /system/df lists them (docker-py's client.df()["BuildCache"]), trimmed.
RECORDS = [
    {"ID": "ccr0", "Type": "exec.cachemount", "Size": 57_030_000, "Shared": False},
    {"ID": "tx3o", "Type": "regular", "Size": 5_328_896, "Shared": True},
    {"ID": "e4zx", "Type": "regular", "Size": 0, "Shared": False},
    {"ID": "vzbe", "Type": "source.local", "Size": 901, "Shared": False},
]


def test_the_doctests_pass() -> None:
    assert doctest.testmod(buildcache).failed == 0


def test_records_grouped_by_type_largest_first() -> None:
    assert cache_by_type(RECORDS) == [
        CacheKind("exec.cachemount", 1, 57_030_000),
        CacheKind("regular", 2, 5_328_896),
        CacheKind("source.local", 1, 901),
    ]
    assert cache_by_type([]) == []


def test_system_df_rows_by_type() -> None:
    assert system_df_row(SYSTEM_DF)["SIZE"] == "62.59MB"
    assert system_df_row(SYSTEM_DF, "Images")["RECLAIMABLE"] == "893.4MB (100%)"
    with pytest.raises(DockerLabError, match="no 'Volumes' row"):
        system_df_row(SYSTEM_DF, "Volumes")


def test_du_summary_and_an_empty_cache() -> None:
    assert du_summary(BUILDX_DU) == {"Shared": "5.546MB", "Private": "62.59MB", "Reclaimable": "68.14MB",
                                     "Total": "68.14MB"}
    assert du_summary("Reclaimable:\t0B\nTotal:\t\t0B\n") == {"Reclaimable": "0B", "Total": "0B"}
    with pytest.raises(DockerLabError):
        du_summary("")


def test_add_internal_ca_copies_the_certificate_only(tmp_path: Path) -> None:
    tls = internal_tls(tmp_path / "tls")
    context = tmp_path / "context"
    context.mkdir()
    copied = add_internal_ca(context, tls)
    assert copied == context / INTERNAL_CA_FILE == context / "internal-ca.crt"
    assert copied.read_bytes() == tls.ca_cert.read_bytes()
    assert [p.name for p in context.iterdir()] == ["internal-ca.crt"]  # never the CA's key


def test_add_internal_ca_defaults_to_the_books_ca(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "book"
    (root / "examples").mkdir(parents=True)
    (root / "conf.py").write_text("")
    monkeypatch.setenv("CH09_ROOT", str(root))
    context = tmp_path / "context"
    context.mkdir()
    copied = add_internal_ca(context)
    assert copied.read_bytes() == (root / "_build" / "work" / "webapi-tls" / "ca.crt").read_bytes()


def test_add_internal_ca_gives_every_build_of_a_process_the_same_ca(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Same bytes in every context, so the COPY of the CA (and update-ca-certificates) can come from the cache."""
    root = tmp_path / "book"
    (root / "examples").mkdir(parents=True)
    (root / "conf.py").write_text("")
    monkeypatch.setenv("CH09_ROOT", str(root))
    copies = []
    for name in ("one", "two"):
        context = tmp_path / name
        context.mkdir()
        copies.append(add_internal_ca(context).read_bytes())
    assert copies[0] == copies[1]
