"""Layer efficiency of an image, as dive defines it, computed from the layer tarballs.

dive (wagoodman/dive, ``filetree/efficiency.go`` and ``image/analysis``) reads every layer tar
of an image and visits each layer's *leaf* paths (files, symlinks, empty directories,
whiteouts). For every path it adds up the sizes it saw across layers and remembers the
smallest one:

* **efficiency** = Σ smallest size per path ÷ Σ all sizes seen (1.0 when nothing was seen);
* **wasted bytes** = Σ all sizes seen of every path that appears in two or more layers;
* **user wasted percent** = wasted bytes ÷ bytes of every layer but the first (the base's
  first layer), a layer's bytes being the sum of its tar headers' sizes.

A whiteout (``.wh.NAME``) counts 0 bytes when it deletes a file and the sizes of everything
under a deleted directory; so a file deleted in a later layer is wasted with its full size.
Its CI mode fails an image below ``lowestEfficiency`` 0.9 or above ``highestUserWastedPercent``
0.1 (:data:`CI_LOWEST_EFFICIENCY`, :data:`CI_HIGHEST_USER_WASTED_PERCENT`).

Two deliberate differences, both named in :class:`Efficiency`:

* dive skips opaque-directory markers (``.wh..wh..opq``, what overlayfs leaves when a RUN
  removes a directory and creates it again), so the lower files they hide count as live.
  With ``opaque=True`` (the default) every hidden lower path is treated like a whiteout of it;
  ``opaque=False`` reproduces dive exactly.
* dive stops reading a layer at a whiteout of a path no lower layer has; here that whiteout
  counts 0 bytes and the rest of the layer is still read (``unresolved_whiteouts`` counts them).

>>> analyze_image("ch09/hello:latest").efficiency.score  # doctest: +SKIP
1.0
"""

from __future__ import annotations

import math
import posixpath
import tarfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from dockerlab.errors import EfficiencyError
from dockerlab.sizes import format_percent

WHITEOUT_PREFIX = ".wh."
OPAQUE_PREFIX = ".wh..wh.."  # dive skips every name with this prefix; overlayfs uses ".wh..wh..opq"

#: dive's CI defaults (``.dive-ci``): fail below this efficiency ...
CI_LOWEST_EFFICIENCY = 0.9
#: ... or above this share of wasted bytes among the bytes the user's layers add.
CI_HIGHEST_USER_WASTED_PERCENT = 0.1


# --------------------------------------------------------------------------- layer contents


@dataclass(frozen=True)
class LayerEntry:
    """One member of a layer tar: its path (no leading ``/``), size in bytes and whether it is a directory."""

    path: str
    size: int = 0
    is_dir: bool = False


@dataclass(frozen=True)
class LayerFiles:
    """What one layer tar holds, in tar order."""

    entries: tuple[LayerEntry, ...]

    @property
    def size(self) -> int:
        """dive's layer size: the sum of the tar headers' sizes (hard links, whiteouts and directories count 0)."""
        return sum(e.size for e in self.entries)

    @classmethod
    def of(cls, *entries: LayerEntry | tuple[str, int] | str) -> LayerFiles:
        """Shorthand for tests: ``LayerFiles.of(("etc/a", 10), "etc/", ...)``; a trailing ``/`` marks a directory.

        >>> LayerFiles.of(("a", 3), "d/").size
        3
        """
        made = []
        for e in entries:
            if isinstance(e, LayerEntry):
                made.append(e)
            elif isinstance(e, str):
                made.append(LayerEntry(e.rstrip("/"), 0, e.endswith("/")))
            else:
                made.append(LayerEntry(e[0], int(e[1]), False))
        return cls(tuple(made))


def read_layer(tar: tarfile.TarFile) -> LayerFiles:
    """Read a layer tar's member names, sizes and types (contents are skipped)."""
    entries = []
    for member in tar:
        entries.append(LayerEntry(member.name, int(member.size), member.isdir()))  # dive: header.Size
    return LayerFiles(tuple(entries))


# --------------------------------------------------------------------------- dive's file tree


class _Node:
    """A node of a file tree; nodes created only as parents of a deeper path carry no info (like dive's)."""

    __slots__ = ("name", "size", "is_dir", "children")

    def __init__(self, name: str, size: int = 0, is_dir: bool = False) -> None:
        self.name = name
        self.size = size
        self.is_dir = is_dir
        self.children: dict[str, _Node] = {}

    def add(self, parts: Sequence[str], size: int, is_dir: bool) -> _Node | None:
        """dive's ``AddPath``: create missing parents without info, set the info on the last node.

        Returns None (adding nothing more) at a name starting with ``.wh..wh..``.
        """
        node = self
        for name in parts:
            child = node.children.get(name)
            if child is None:
                if name.startswith(OPAQUE_PREFIX):
                    return None
                child = node.children[name] = _Node(name)
            node = child
        node.size, node.is_dir = size, is_dir
        return node

    def get(self, parts: Sequence[str]) -> _Node | None:
        node: _Node | None = self
        for name in parts:
            node = node.children.get(name) if node is not None else None
        return node

    def remove(self, parts: Sequence[str]) -> bool:
        parent = self.get(parts[:-1])
        if parent is None or parts[-1] not in parent.children:
            return False
        del parent.children[parts[-1]]
        return True

    def subtree_size(self) -> int:
        """The sizes of this node and everything below it (dive's whiteout ``sizer``)."""
        return self.size + sum(c.subtree_size() for c in self.children.values())

    def walk(self, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], _Node]]:
        """Every node below this one, children before their parent, names sorted (dive's ``VisitDepthChildFirst``)."""
        for name in sorted(self.children):
            child = self.children[name]
            yield from child.walk(prefix + (name,))
            yield prefix + (name,), child


def _parts(path: str) -> tuple[str, ...]:
    clean = posixpath.normpath("/" + path).lstrip("/")
    return tuple(p for p in clean.split("/") if p) if clean not in ("", ".") else ()


def _tree(layer: LayerFiles) -> tuple[_Node, list[tuple[str, ...]]]:
    """The layer's file tree and the directories it marks opaque."""
    root = _Node("")
    opaque: list[tuple[str, ...]] = []
    for entry in layer.entries:
        parts = _parts(entry.path)
        if not parts:
            continue
        if parts[-1].startswith(OPAQUE_PREFIX):
            opaque.append(parts[:-1])
        root.add(parts, entry.size, entry.is_dir)
    return root, opaque


def _real(parts: tuple[str, ...]) -> tuple[str, ...]:
    """The path a (possibly whiteout) node stands for: ``.wh.`` is dropped from the last name."""
    last = parts[-1]
    return parts[:-1] + (last[len(WHITEOUT_PREFIX):],) if last.startswith(WHITEOUT_PREFIX) else parts


def _stack(lower: _Node, upper: _Node, opaque: Iterable[tuple[str, ...]], honour_opaque: bool) -> None:
    """dive's ``Stack``: graft ``upper`` onto ``lower`` (whiteouts remove, other nodes replace the info)."""
    if honour_opaque:
        for parts in opaque:
            node = lower.get(parts)
            if node is not None:
                node.children.clear()
    for parts, node in upper.walk():
        if node.name.startswith(WHITEOUT_PREFIX):
            lower.remove(_real(parts))
        else:
            lower.add(parts, node.size, node.is_dir)


def _whiteout_size(stacked: _Node, parts: tuple[str, ...]) -> int | None:
    """dive's size of a whiteout: everything below a deleted directory, 0 for a deleted file; None if unknown."""
    previous = stacked.get(parts)
    if previous is None:
        return None
    return previous.subtree_size() if previous.is_dir else 0


def _hidden_by_opaque(
    lower: _Node, upper: _Node | None, parts: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], _Node]]:
    """The topmost lower nodes an opaque directory hides (those the upper layer does not replace itself)."""
    for name in sorted(lower.children):
        child = lower.children[name]
        mine = upper.children.get(name) if upper is not None else None
        if mine is None:
            yield parts + (name,), child
        elif child.children and (mine.is_dir or mine.children):
            yield from _hidden_by_opaque(child, mine, parts + (name,))


# --------------------------------------------------------------------------- the analysis


@dataclass(frozen=True)
class PathWaste:
    """A path seen in two or more layers: every size seen added up, and in how many layers."""

    path: str
    cumulative_size: int
    smallest_size: int
    layers: int


@dataclass(frozen=True)
class Efficiency:
    """dive's numbers for one stack of layers (see the module docstring for the definitions)."""

    score: float
    wasted_bytes: int
    size_bytes: int
    user_size_bytes: int
    inefficiencies: tuple[PathWaste, ...] = field(default=(), repr=False)
    opaque_dirs: int = 0
    unresolved_whiteouts: int = 0

    @property
    def user_wasted_percent(self) -> float:
        """wasted ÷ user bytes with Go's float division: NaN for 0/0 (one layer), +Inf when only user bytes are 0."""
        if self.user_size_bytes == 0:
            return math.nan if self.wasted_bytes == 0 else math.inf
        return self.wasted_bytes / self.user_size_bytes

    def passes_efficiency(self, lowest: float = CI_LOWEST_EFFICIENCY) -> bool:
        """dive's ``lowestEfficiency`` rule: fails when ``lowest > efficiency``."""
        return not lowest > self.score

    def passes_user_wasted(self, highest: float = CI_HIGHEST_USER_WASTED_PERCENT) -> bool:
        """dive's ``highestUserWastedPercent`` rule: fails when ``user wasted percent > highest`` (NaN passes)."""
        return not self.user_wasted_percent > highest

    def passes_ci(self) -> bool:
        """Both of dive's default CI rules pass (its third, ``highestWastedBytes``, is disabled by default)."""
        return self.passes_efficiency() and self.passes_user_wasted()


def efficiency(layers: Sequence[LayerFiles], *, opaque: bool = True) -> Efficiency:
    """dive's efficiency, wasted bytes and user wasted percent of ``layers`` (base first).

    ``opaque=False`` ignores opaque-directory markers exactly as dive does.

    >>> efficiency([LayerFiles.of(("a", 10)), LayerFiles.of(("a", 30))]).score
    0.25
    """
    seen: dict[tuple[str, ...], list[int]] = {}  # path -> sizes seen, one per layer visit
    stacked = _Node("")  # layers 0 .. i-1, stacked
    opaque_dirs = 0
    unresolved = 0

    def visit(parts: tuple[str, ...], size: int) -> None:
        seen.setdefault(parts, []).append(size)

    for layer in layers:
        tree, opaque_here = _tree(layer)
        opaque_dirs += len(opaque_here)
        for parts, node in tree.walk():
            if node.children:
                continue  # dive visits leaves only
            if node.name.startswith(WHITEOUT_PREFIX):
                real = _real(parts)
                size = _whiteout_size(stacked, real)
                if size is None:
                    unresolved += 1
                    size = 0
                visit(real, size)
            else:
                visit(parts, node.size)
        if opaque:
            for parts in opaque_here:
                lower = stacked.get(parts)
                if lower is None:
                    continue
                for hidden_parts, hidden in _hidden_by_opaque(lower, tree.get(parts), parts):
                    visit(hidden_parts, hidden.subtree_size() if hidden.is_dir else 0)
        _stack(stacked, tree, opaque_here, opaque)

    smallest = sum(min(sizes) for sizes in seen.values())
    total = sum(sum(sizes) for sizes in seen.values())
    waste = sorted(
        (PathWaste("/" + "/".join(p), sum(s), min(s), len(s)) for p, s in seen.items() if len(s) >= 2),
        key=lambda w: (-w.cumulative_size, w.path),
    )
    sizes = [layer.size for layer in layers]
    return Efficiency(
        score=1.0 if total == 0 else smallest / total,
        wasted_bytes=sum(w.cumulative_size for w in waste),
        size_bytes=sum(sizes),
        user_size_bytes=sum(sizes[1:]),
        inefficiencies=tuple(waste),
        opaque_dirs=opaque_dirs,
        unresolved_whiteouts=unresolved,
    )


# --------------------------------------------------------------------------- images


@dataclass(frozen=True)
class ImageEfficiency:
    """The efficiency analysis of one image, by tag: with opaque directories honoured, and exactly as dive does."""

    tag: str
    layers: int
    efficiency: Efficiency
    as_dive: Efficiency


def image_layers(tag: str, client: Any | None = None) -> list[LayerFiles]:
    """The contents of every layer of ``tag`` (``docker image save``), base first."""
    from docker.errors import ImageNotFound, NotFound

    from dockerlab.layers import open_layer, saved_image

    try:
        with saved_image(tag, client) as (archive, layers):
            result = []
            for layer in layers:
                with open_layer(archive, layer) as tar:
                    result.append(read_layer(tar))
            return result
    except (ImageNotFound, NotFound):
        raise EfficiencyError(
            f"image {tag} does not exist; the page or step that builds it must run first."
        ) from None
    except (tarfile.TarError, ValueError, KeyError) as err:
        raise EfficiencyError(f"cannot read the layers of {tag}: {err}.") from None


def analyze_image(tag: str, client: Any | None = None) -> ImageEfficiency:
    """dive's layer efficiency of the image ``tag``, from its saved layer tarballs.

    ``efficiency`` treats opaque directories as deletions; ``as_dive`` ignores them, as dive does.
    """
    layers = image_layers(tag, client)
    return ImageEfficiency(tag, len(layers), efficiency(layers), efficiency(layers, opaque=False))


# --------------------------------------------------------------------------- rendering


def percent_text(value: float) -> str:
    """A ratio as a percentage with two decimals, as dive's CI prints it; "–" for NaN.

    >>> percent_text(0.25), percent_text(float("nan"))
    ('25.00%', '–')
    """
    return format_percent(value, digits=2)


def _short_path(path: str, width: int = 60) -> str:
    """Shorten a long path in the middle so tables stay readable.

    >>> _short_path("/var/lib/apt/lists/" + "x" * 80, 40)
    '/var/lib/apt/lists/x…xxxxxxxxxxxxxxxxxxx'
    """
    if len(path) <= width:
        return path
    head = width // 2
    return path[:head] + "…" + path[-(width - head - 1):]


def efficiency_table(results: Iterable[ImageEfficiency], label: Callable[[str], str] = str) -> str:
    """Markdown table: efficiency, wasted bytes, user wasted percent and dive's default CI verdicts.

    ``label`` turns a tag into what the first column shows (e.g. without the ``ch09/`` prefix).
    """
    from dockerlab.report import markdown_table
    from dockerlab.sizes import human_size

    def verdict(ok: bool) -> str:
        return "통과" if ok else "**실패**"

    rows = []
    for r in results:
        e = r.efficiency
        rows.append([
            f"`{label(r.tag)}`",
            percent_text(e.score),
            human_size(e.wasted_bytes),
            percent_text(e.user_wasted_percent),
            verdict(e.passes_efficiency()),
            verdict(e.passes_user_wasted()),
        ])
    return markdown_table(
        ["이미지", "효율", "낭비 바이트", "사용자 낭비 비율",
         f"효율 ≥ {CI_LOWEST_EFFICIENCY:g}", f"낭비 비율 ≤ {CI_HIGHEST_USER_WASTED_PERCENT:g}"],
        rows,
        align="lrrrcc",
    )


def waste_table(result: ImageEfficiency, top: int = 5) -> str:
    """Markdown table of the paths that waste the most bytes in one image (long paths shortened)."""
    from dockerlab.report import markdown_table
    from dockerlab.sizes import human_size

    rows = [[f"`{_short_path(w.path, 44)}`", w.layers, human_size(w.cumulative_size), f"{w.cumulative_size:,}"]
            for w in result.efficiency.inefficiencies[:top]]
    return markdown_table(["경로", "레이어 수", "낭비", "바이트"], rows, align="lrrr")
