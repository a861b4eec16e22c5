"""A repository as fetched from GitHub: the tree, the texts fetched so far, and its settings.

A probe may ask for a file the fetch plan did not foresee (its `reads` missed it, or a workflow
names a local action). The snapshot then records the path in `wanted`; the fetcher fetches every
repository's wanted files in one more batched round and scans again, so the GitHub scan reads what
a local scan reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from secposture.model import Target
from secposture.sources.interface import (
    DEFAULT_MAX_FILE_BYTES,
    NO_SETTINGS,
    Settings,
    Snapshot,
    UnreadableFile,
    decode_text,
    too_large,
)

LINK_MODE = 0o120000
SUBMODULE_MODE = 0o160000


@dataclass(frozen=True)
class TreeFile:
    size: int
    mode: int


@dataclass(frozen=True)
class Blob:
    """A fetched file: its text, or why there is none."""

    text: str | None
    byte_size: int
    is_binary: bool


class GitHubSnapshot(Snapshot):
    def __init__(
        self,
        target: Target,
        tree: dict[str, TreeFile],
        *,
        settings: Settings = NO_SETTINGS,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    ) -> None:
        self.target = target
        self.tree = tree
        self.paths: tuple[str, ...] = ()
        self._list_paths()
        self.settings = settings
        self.max_file_bytes = max_file_bytes
        self.blobs: dict[str, Blob] = {}
        self.wanted: set[str] = set()  # files asked for but not fetched yet
        # Files a limit kept from being fetched (ADR 0012): path -> why. `starved`: nothing more
        # is fetched at all (the run's budget is spent), and this says why.
        self.withheld: dict[str, str] = {}
        self.starved = ""

    def add_files(self, files: dict[str, TreeFile]) -> None:
        """Files from a deeper folder listing: the tracked paths grow with them."""
        self.tree.update(files)
        self._list_paths()

    def _list_paths(self) -> None:
        # A submodule is a commit, not a file of this repository: git ls-files lists it, but the
        # local source cannot read it either, and no probe reads one.
        self.paths = tuple(sorted(p for p, f in self.tree.items() if f.mode != SUBMODULE_MODE))

    def fetchable(self, path: str) -> bool:
        """Worth fetching: tracked, a regular file, within the size limit."""
        entry = self.tree.get(path)
        return (
            entry is not None
            and entry.mode not in (LINK_MODE, SUBMODULE_MODE)
            and entry.size <= self.max_file_bytes
        )

    def read_text(self, path: str) -> str:
        entry = self.tree.get(path)
        if entry is None:
            raise UnreadableFile("is not in the repository")
        if entry.mode == LINK_MODE:
            # GitHub gives a link's target as text; it is never followed, inside or out.
            raise UnreadableFile("is a link; not followed")
        if entry.size > self.max_file_bytes:
            raise UnreadableFile(too_large(entry.size, self.max_file_bytes))
        blob = self.blobs.get(path)
        if blob is None:
            why = self.withheld.get(path) or self.starved
            if why:
                raise UnreadableFile(f"was not fetched from GitHub: {why}")
            self.wanted.add(path)
            raise UnreadableFile("was not fetched from GitHub")
        if blob.is_binary:
            raise UnreadableFile("is binary, not text")
        if blob.text is None:
            raise UnreadableFile("has no text in GitHub's answer")
        # GitHub decodes for us; run the same checks a checkout's bytes get (NUL bytes, BOM).
        return decode_text(blob.text.encode("utf-8", "surrogatepass"))

    def complete(self) -> bool:
        """Nothing was asked for that is still missing."""
        return not self.wanted and not self.references.waiting()
