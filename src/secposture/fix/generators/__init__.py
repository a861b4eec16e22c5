"""The generators, and the workspace they edit.

A generator is a module with `CONTROLS` (the controls it can make pass) and
`generate(workspace, targets)`, which reads facts of the repository as planned so far and records
file changes (or why it cannot) for the controls in `targets`. Generators run in order: later
ones see what earlier ones planned (the CI workflow sees the pre-commit hooks just added;
Dependabot sees the workflow just added).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING

from secposture.facts.interface import Facts
from secposture.fix.interface import Skipped
from secposture.fix.overlay import OverlaySnapshot, PlannedFile
from secposture.policy import Policy
from secposture.sources.interface import Snapshot, UnreadableFile

if TYPE_CHECKING:
    from secposture.fix.action_pins import PinSource

GENERATED_BY = "Added by secposture fix"


@dataclass(frozen=True)
class FixOptions:
    force: bool = False
    codeowner: str | None = None  # the owner a CODEOWNERS stub names (@org/team, @user)
    # Where `uses:` pins come from (fix/action_pins.py): GitHub with a token; None: the table.
    pins: PinSource | None = None


@dataclass
class Workspace:
    base: Snapshot
    policy: Policy
    today: date
    options: FixOptions
    files: dict[str, PlannedFile] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _facts: Facts | None = None
    revision: int = 0  # bumped on every planned write: the plan rescans when it changes
    replacing: set[str] = field(default_factory=set)  # paths replaced whole (--force)
    explained: set[str] = field(default_factory=set)  # controls whose outlook a note gives

    @property
    def force(self) -> bool:
        return self.options.force

    def overlay(self, hidden: tuple[str, ...] = ()) -> OverlaySnapshot:
        return OverlaySnapshot(self.base, self.files, hidden)

    def facts(self) -> Facts:
        """Facts of the repository as planned so far (parsed once per change)."""
        if self._facts is None:
            self._facts = Facts(self.overlay(), self.policy, self.today)
        return self._facts

    def facts_without(self, *paths: str) -> Facts:
        """Facts as planned, as if `paths` were not there (what a file of ours must supply)."""
        return Facts(self.overlay(paths), self.policy, self.today)

    def exists(self, path: str) -> bool:
        return path in self.files or path in self.facts().all_paths

    def text(self, path: str) -> str | None:
        """The planned or current text of `path`; None when there is no such file. Raises
        UnreadableFile when it exists but cannot be used."""
        planned = self.files.get(path)
        if planned is not None:
            return planned.after
        if path not in self.facts().all_paths:
            return None
        return self.base.read_text(path)

    def write(
        self, path: str, after: str, control: str, summary: str, *, replace: bool = False
    ) -> None:
        """Plan `path` to hold `after`, for `control`; several writes to one path merge (the
        last text wins; every control and summary is kept). `replace`: the new text replaces
        the file rather than adding to it (--force)."""
        if replace or path in self.replacing:
            self.replacing.add(path)
        planned = self.files.get(path)
        if planned is None:
            before = self.base.read_text(path) if path in self.base.paths else None
            if before == after:
                return
            planned = self.files[path] = PlannedFile(path, before, after)
        planned.replaced = planned.replaced or path in self.replacing
        if planned.after != after:
            planned.after = after
        if control not in planned.controls:
            planned.controls.append(control)
        planned.details.append((control, summary))
        guidance = self.policy.controls[control].guidance if control in self.policy.controls else ""
        if guidance and guidance not in planned.guidance:
            planned.guidance.append(guidance)
        self._facts = None
        self.revision += 1

    def note(self, control: str, text: str) -> None:
        """A note about what the control needs after the fix (instead of the scan's summary)."""
        self.explained.add(control)
        if text not in self.notes:
            self.notes.append(text)

    def skip(self, control: str, reason: str) -> None:
        item = Skipped(control, reason)
        if item not in self.skipped:
            self.skipped.append(item)

    def existing_text(self, path: str, control: str) -> tuple[bool, str | None]:
        """(usable, text) of a file a generator would edit: (True, None) when it is absent;
        (False, None) with a Skipped recorded when it exists but cannot be read."""
        try:
            return True, self.text(path)
        except UnreadableFile as exc:
            self.skip(control, f"{path} {exc}: not changed")
            return False, None


@cache
def generators() -> tuple[ModuleType, ...]:
    """Every generator, in the order they run (imported on first use: the modules import this
    one for the Workspace)."""
    from secposture.fix.generators import (
        adr,
        ci_workflow,
        codeowners,
        dependabot,
        ide,
        issue_template,
        pr_template,
        precommit,
        security_policy,
        threat_model,
        workflow_injection,
        workflow_permissions,
        workflow_pins,
    )

    return (
        precommit,
        ci_workflow,
        ide,
        dependabot,
        pr_template,
        issue_template,
        adr,
        threat_model,
        security_policy,
        codeowners,
        # Existing workflows, edited in place: scripts first, then tokens, then pins.
        workflow_injection,
        workflow_permissions,
        workflow_pins,
    )


def handled_controls() -> frozenset[str]:
    return frozenset(c for g in generators() for c in g.CONTROLS)
