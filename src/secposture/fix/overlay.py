"""A snapshot with planned changes laid over it: the facts and the scan see the repository as it
would be after the fix, without anything being written.

Generators run one after another over the overlay, so each sees what the ones before it added (a
new workflow makes GitHub Actions an ecosystem that Dependabot must cover), and the plan is
checked by scanning the overlay at the end.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from secposture.sources.interface import Snapshot, UnreadableFile


@dataclass
class PlannedFile:
    """One path's planned text, what it was, and why it changes."""

    path: str
    before: str | None
    after: str
    controls: list[str] = field(default_factory=list)
    details: list[tuple[str, str]] = field(default_factory=list)  # (control, what it adds)
    guidance: list[str] = field(default_factory=list)
    replaced: bool = False  # the whole file is replaced (--force), not added to

    @property
    def action(self) -> str:
        if self.before is None:
            return "create"
        return "replace" if self.replaced else "edit"


class OverlaySnapshot(Snapshot):
    """`base` with `files` added or replaced and `hidden` paths left out."""

    def __init__(
        self, base: Snapshot, files: dict[str, PlannedFile], hidden: Iterable[str] = ()
    ) -> None:
        self.base = base
        self.files = files
        self.hidden = frozenset(hidden)
        self.target = base.target
        self.settings = base.settings
        self.max_file_bytes = base.max_file_bytes
        # Other repositories' files are read through the base's reader: the plan sees the
        # workflows and actions a workflow calls as the scan did.
        self.references = base.references
        paths = set(base.paths) | set(files)
        self.paths = tuple(sorted(paths - self.hidden))

    def read_text(self, path: str) -> str:
        if path in self.hidden:
            raise UnreadableFile("is not in the snapshot")
        planned = self.files.get(path)
        if planned is not None:
            return planned.after
        return self.base.read_text(path)

    def complete(self) -> bool:
        """Whether the base snapshot holds every file a scan asked for (the GitHub source
        fetches in rounds; a local one always does)."""
        check = getattr(self.base, "complete", None)
        return bool(check()) if callable(check) else True
