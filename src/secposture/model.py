"""The values that flow between pipeline stages: findings, control results, reports.

Plain dataclasses rather than pydantic models: they are built thousands of times per estate scan and
the scan of one checkout must start fast enough for a pre-commit hook.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Level(enum.StrEnum):
    REQUIRED = "required"
    RECOMMENDED = "recommended"
    EXTRA = "extra"

    @property
    def rank(self) -> int:
        return {"required": 0, "recommended": 1, "extra": 2}[self.value]


class Status(enum.StrEnum):
    PASS = "pass"  # noqa: S105  # nosec B105 - a status name, not a password
    PARTIAL = "partial"
    FAIL = "fail"
    NOT_APPLICABLE = "not_applicable"
    UNKNOWN = "unknown"
    WAIVED = "waived"

    @property
    def failing(self) -> bool:
        """Whether this status counts against `--fail-on`."""
        return self in (Status.FAIL, Status.PARTIAL)


class Outcome(enum.StrEnum):
    """What one probe found about one thing (a file, a language, a job)."""

    POSITIVE = "positive"
    PARTIAL = "partial"
    NEGATIVE = "negative"
    NOT_APPLICABLE = "not_applicable"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Location:
    """Where evidence was seen: a file and line, an API field, or a register record."""

    path: str | None = None
    line: int | None = None
    api_field: str | None = None
    record: str | None = None

    def __str__(self) -> str:
        if self.path is not None:
            return f"{self.path}:{self.line}" if self.line else self.path
        if self.api_field is not None:
            return f"API {self.api_field}"
        if self.record is not None:
            return f"register {self.record}"
        return "-"

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class Finding:
    """One answer of one probe, with the evidence behind it."""

    probe: str
    outcome: Outcome
    message: str
    location: Location | None = None
    values: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "probe": self.probe,
            "outcome": self.outcome.value,
            "message": self.message,
        }
        if self.location is not None:
            out["location"] = self.location.to_dict()
        if self.values:
            out["values"] = dict(self.values)
        return out


@dataclass(frozen=True)
class Problem:
    """A file the scanner could not use as it stands: malformed, binary, too large, a link out."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "message": self.message}
        if self.line is not None:
            out["line"] = self.line
        return out


@dataclass(frozen=True)
class WaiverRef:
    """The waiver that decided a status (applied, or expired and so failing)."""

    control: str
    reason: str
    approver: str
    expires: str
    expired: bool
    origin: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ControlResult:
    id: str
    title: str
    level: Level
    guidance: str
    status: Status
    summary: str
    findings: tuple[Finding, ...] = ()
    remediation: str | None = None
    waiver: WaiverRef | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "level": self.level.value,
            "guidance": self.guidance,
            "status": self.status.value,
            "summary": self.summary,
            "findings": [f.to_dict() for f in self.findings],
            "remediation": self.remediation,
        }
        if self.waiver is not None:
            out["waiver"] = self.waiver.to_dict()
        return out


@dataclass(frozen=True)
class Target:
    """What was scanned."""

    name: str
    source: str  # "git", "folder", "github"
    path: str | None = None
    commit: str | None = None
    # The GitHub repository (OWNER/REPO) a checkout was resolved to, whose settings a token
    # reads: shown in every report, since a checkout's remote is the checkout's own say (ADR 0012).
    repository: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class PolicyChange:
    """One setting of a repository's own policy file, and whether it was applied (ADR 0011)."""

    key: str  # "controls.ithc.enabled", "waivers[0]", "limits.max_file_bytes"
    value: str  # what the file sets, as text
    was: str | None  # the value it would replace (None: it adds, as a waiver or a glob does)
    needs: str | None  # the `[repository_policy] allow` entry that lets it loosen; None: tightens
    applied: bool
    reason: str = ""  # why it was not applied

    def __str__(self) -> str:
        was = "" if self.was is None else f" (was {self.was})"
        return f"{self.key} = {self.value}{was}"

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class RepositoryPolicy:
    """What the scanned repository's own policy file asked for, or why it could not be used."""

    path: str  # "secposture.toml" or "pyproject.toml"
    origin: str  # the same, naming the table: "pyproject.toml [tool.secposture]"
    trusted: bool  # applied in full: a local checkout scanned without --policy
    changes: tuple[PolicyChange, ...] = ()
    error: str | None = None  # the file could not be used: why (the operator's policy applied)

    @property
    def refused(self) -> tuple[PolicyChange, ...]:
        return tuple(c for c in self.changes if not c.applied)

    @property
    def loosened(self) -> tuple[PolicyChange, ...]:
        return tuple(c for c in self.changes if c.applied and c.needs is not None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "origin": self.origin,
            "trusted": self.trusted,
            "error": self.error,
            "changes": [c.to_dict() for c in self.changes],
        }


@dataclass(frozen=True)
class SetAsideFolder:
    """A folder whose files (or some of them) were set aside, and why."""

    path: str  # the folder that decided: `examples`, `test/unit-test`, `.devcontainer`
    kind: str  # "test data", "examples" or "development environment"
    files: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


# Folders listed in the JSON report; `more_folders` counts the rest.
MAX_SET_ASIDE_FOLDERS = 100


@dataclass(frozen=True)
class SetAside:
    """The repository's own files that are not the product (test data, examples, development
    environments): they add no languages, ecosystems, images or actions to pin."""

    files: int = 0
    folders: tuple[SetAsideFolder, ...] = ()  # path order
    included: int = 0  # files the rules would set aside that the policy's `include` put back

    def __bool__(self) -> bool:
        return bool(self.files or self.included)

    def to_dict(self) -> dict[str, Any]:
        shown = self.folders[:MAX_SET_ASIDE_FOLDERS]
        return {
            "files": self.files,
            "folders": [f.to_dict() for f in shown],
            "more_folders": len(self.folders) - len(shown),
            "included_files": self.included,
        }


@dataclass(frozen=True)
class ScanReport:
    target: Target
    results: tuple[ControlResult, ...]
    problems: tuple[Problem, ...]
    generated_at: str
    tool_version: str
    # What the repository's own policy file did (None: it has none).
    repository_policy: RepositoryPolicy | None = None
    # What was not counted as the product (None: nothing was set aside or put back).
    set_aside: SetAside | None = None

    def failing(self, at_or_above: Level | None) -> list[ControlResult]:
        """Controls that fail or are partial at `at_or_above` level or stricter (None: never)."""
        if at_or_above is None:
            return []
        return [r for r in self.results if r.status.failing and r.level.rank <= at_or_above.rank]


@dataclass(frozen=True)
class EstateRepository:
    """One repository of an organisation scan: its report, or why it could not be scanned."""

    name: str  # "owner/name"
    report: ScanReport | None
    url: str | None = None
    archived: bool = False
    fork: bool = False
    topics: tuple[str, ...] = ()
    error: str | None = None  # set when report is None: what went wrong, for the user


@dataclass(frozen=True)
class ApiUsage:
    """What an estate scan cost GitHub: the figures users compare against other tools."""

    rest_requests: int = 0
    graphql_requests: int = 0
    graphql_points: int = 0
    retries: int = 0
    seconds: float = 0.0
    # What the run's limits cut (ADR 0012): a listing that did not end, a budget spent.
    cut: tuple[str, ...] = ()

    @property
    def requests(self) -> int:
        return self.rest_requests + self.graphql_requests

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rest_requests": self.rest_requests,
            "graphql_requests": self.graphql_requests,
            "graphql_points": self.graphql_points,
            "retries": self.retries,
            "seconds": round(self.seconds, 3),
        }
        if self.cut:
            out["cut"] = list(self.cut)
        return out


@dataclass(frozen=True)
class EstateReport:
    """An organisation's repositories against the baseline (repositories x controls)."""

    organisation: str
    repositories: tuple[EstateRepository, ...]
    generated_at: str
    tool_version: str
    usage: ApiUsage = field(default_factory=ApiUsage)
