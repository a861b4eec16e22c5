"""The fix stage: what a failing control needs, as changes to files (and, with explicit consent,
to repository settings). Generators never execute repository content; they read facts and write
text, editing existing YAML round-trip so comments and order survive.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FileChange:
    """One file to add or edit so that `control` passes."""

    path: str
    before: str | None  # None: the file is new
    after: str
    control: str
    summary: str  # one line for people: what is added and why
    guidance: str = ""  # the guidance line or a link that explains it
    # Every control the change serves (one file can serve several: .pre-commit-config.yaml adds
    # a secret detector and static analysers); `control` is the first of them.
    controls: tuple[str, ...] = ()
    action: str = ""  # "create", "edit" (added to) or "replace" (--force); "" = from `before`
    details: tuple[tuple[str, str], ...] = ()  # (control, what the change adds for it)

    @property
    def created(self) -> bool:
        return self.before is None

    @property
    def verb(self) -> str:
        """created, edited or replaced: for messages."""
        action = self.action or ("create" if self.before is None else "edit")
        return {"create": "created", "replace": "replaced"}.get(action, "edited")


@dataclass(frozen=True)
class Skipped:
    """A failing control the fix does not change, and why (exists and --force not given, no
    generator, a setting that needs --apply-settings, ...)."""

    control: str
    reason: str


@dataclass(frozen=True)
class FixPlan:
    changes: tuple[FileChange, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        return not self.changes
