"""The source stage: a repository, read into a Snapshot that the facts stage parses.

A snapshot reads lazily, so a scan reads only the files its probes ask for; a source that fetches
ahead (GitHub) fills the same interface from what it fetched.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass

from secposture.model import Problem, Target
from secposture.sources.alerts import AlertList
from secposture.sources.references.interface import ReferenceReader
from secposture.sources.references.none import NoReferences

DEFAULT_MAX_FILE_BYTES = 1024 * 1024


_BINARY_SNIFF_BYTES = 8192


class UnreadableFile(Exception):
    """A tracked file that cannot be used as text: the message says why, for the user."""


def decode_text(data: bytes) -> str:
    """A file's bytes as text, the same way for every source: binary and non-UTF-8 are refused."""
    if b"\0" in data[:_BINARY_SNIFF_BYTES]:
        raise UnreadableFile("is binary, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            f"is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None


def too_large(size: int, limit: int) -> str:
    """Why a file over the size limit was not read, the same words from every source."""
    return (
        f"is {size:,} bytes, over the {limit:,}-byte limit; not read "
        "(raise limits.max_file_bytes in the policy, or --max-file-size, to read it)"
    )


@dataclass(frozen=True)
class Observation:
    """One on/off setting as an API showed it, or that the token could not see it."""

    api_field: (
        str  # where it was read, for the evidence: "security_and_analysis.secret_scanning.status"
    )
    enabled: bool | None  # None: not visible to this token
    needs: str = ""  # when not visible: the permission or access that would show it


@dataclass(frozen=True)
class ReviewRule:
    """A branch protection rule or ruleset that applies to the default branch and asks for review."""

    kind: str  # "branch protection rule" | "ruleset"
    name: str  # the rule's pattern or the ruleset's name
    api_field: str
    required_approvals: int
    dismiss_stale_reviews: bool
    require_code_owner_review: bool
    enforce_admins: bool | None  # classic rules only; rulesets express it through bypass actors
    bypass_actors: tuple[str, ...] = ()
    active: bool = True  # a ruleset in "evaluate" or "disabled" enforcement does not block merges


@dataclass(frozen=True)
class ReviewRequirement:
    """What protects the default branch, or why it could not be read."""

    branch: str | None  # None: the repository has no default branch (it is empty)
    rules: tuple[ReviewRule, ...] = ()
    visible: bool = True
    needs: str = ""  # when not visible: the permission that would show it
    cut: str = ""  # when the rules could not be read whole: what stopped reading (ADR 0012)


@dataclass(frozen=True)
class Settings:
    """Repository settings as observed through an API, or the reason they could not be."""

    observed: bool
    reason: str
    dependabot_security_updates: Observation | None = None
    vulnerability_alerts: Observation | None = None
    secret_scanning: Observation | None = None
    secret_scanning_push_protection: Observation | None = None
    review: ReviewRequirement | None = None
    # Open Dependabot alerts (GraphQL vulnerabilityAlerts); None: not asked for.
    open_alerts: AlertList | None = None


NO_SETTINGS = Settings(
    observed=False,
    reason="repository settings are not visible from a checkout: scan with a GitHub token "
    "(GITHUB_TOKEN) to decide this",
)


@dataclass(frozen=True)
class IgnoreRule:
    """The exclude pattern that makes `git add` skip a path, and where git read it."""

    source: str  # a .gitignore of the work tree (its repository path), or the file outside it
    line: int
    pattern: str
    in_work_tree: bool  # a .gitignore of the repository; else .git/info/exclude or a global file


class Snapshot(abc.ABC):
    """A repository's tracked file list, its file texts on demand, and its observed settings."""

    target: Target
    paths: tuple[str, ...]
    settings: Settings = NO_SETTINGS
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    # What the source could not use as it stands (a `.git` that leads out of the checkout).
    problems: tuple[Problem, ...] = ()
    # Files of other repositories that workflows, actions and hooks reference (ADR 0014):
    # unread unless the scan was given a way to read them (a cache, a GitHub token).
    references: ReferenceReader = NoReferences()

    @abc.abstractmethod
    def read_text(self, path: str) -> str:
        """The text of a tracked file; raises UnreadableFile with a reason a user can act on."""

    def ignored_by(
        self, path: str, gitignores: Mapping[str, str] | None = None
    ) -> IgnoreRule | None:
        """The rule that makes `git add` skip `path` (a file not tracked yet), with the work
        tree's .gitignore files along the path read as `gitignores` gives them (repository path
        -> text) where it does; None when nothing ignores it, or when there is no work tree to
        add it in (a repository read from GitHub, where a commit takes any path). Raises OSError
        when git cannot answer."""
        return None


class Source(abc.ABC):
    @abc.abstractmethod
    def snapshot(self) -> Snapshot: ...
