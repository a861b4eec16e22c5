"""The repository-issue action, per Allstar's model: one issue in each repository that fails a
required control, kept up to date, closed when everything passes.

The organisation says where it applies in one file, `secposture-watch.toml` in its `.github`
repository (docs/watching.md):

    [issues]
    enabled = true                  # nothing is written to any repository until this is true
    strategy = "opt-out"            # every repository but those excluded; "opt-in": only listed
    repositories = ["payments"]     # opt-in: these repositories (names, no owner)
    topics = ["production"]         # opt-in: repositories with any of these topics
    exclude = ["sandbox"]           # opt-out: never these
    exclude_topics = ["experiment"] # opt-out: never repositories with these topics
    allow_repository_override = true  # a repository's topic secposture-issues-off (or -on)
    reminder_days = 7               # remind on an unchanged open issue this often (>= 1 day)
    label = "secposture"

Our own issue is found by the hidden marker in its body (and its number is kept in the
register). Every write is recorded in the register's history (entity "repository_issue"), and
writes are paced (WritePacer) to stay under GitHub's secondary limits.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
import tomllib
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from sqlalchemy import select

from secposture.model import ControlResult, Level, ScanReport
from secposture.register.database import Tx
from secposture.register.history import record_event
from secposture.register.watch_tables import RepositoryIssue
from secposture.sources.github.transport import GitHubClient, GitHubError

CONFIG_REPOSITORY = ".github"
CONFIG_PATH = "secposture-watch.toml"
MARKER = "<!-- secposture:repository-issue -->"
OVERRIDE_OFF = "secposture-issues-off"
OVERRIDE_ON = "secposture-issues-on"
MAX_CONFIG_BYTES = 64 * 1024
MAX_BODY_CHARS = 60_000  # GitHub refuses bodies over 65,536 characters
EVIDENCE_PER_CONTROL = 5
EVIDENCE_CHARS = 200


@dataclass(frozen=True)
class IssueConfig:
    enabled: bool = False
    strategy: str = "opt-out"
    repositories: frozenset[str] = frozenset()
    topics: frozenset[str] = frozenset()
    exclude: frozenset[str] = frozenset()
    exclude_topics: frozenset[str] = frozenset()
    allow_repository_override: bool = True
    reminder: timedelta = timedelta(days=7)
    label: str = "secposture"
    problem: str | None = None  # the file could not be used: why (nothing is written)

    def applies(self, name: str, topics: Sequence[str]) -> bool:
        """Whether the action applies to repository `name` (no owner) with `topics`."""
        if not self.enabled:
            return False
        lowered = {t.lower() for t in topics}
        if self.allow_repository_override:
            if OVERRIDE_OFF in lowered:
                return False
            if OVERRIDE_ON in lowered:
                return True
        key = name.lower()
        if self.strategy == "opt-in":
            return key in self.repositories or bool(lowered & self.topics)
        return key not in self.exclude and not (lowered & self.exclude_topics)


def parse_config(text: str) -> IssueConfig:
    """The organisation's file; a file that cannot be used turns the action off, saying why."""
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        return IssueConfig(problem=f"{CONFIG_PATH} is not valid TOML: {str(exc)[:200]}")
    issues = data.get("issues", {})
    if not isinstance(issues, Mapping):
        return IssueConfig(problem=f"{CONFIG_PATH}: [issues] must be a table")
    try:
        strategy = _text(issues, "strategy", "opt-out")
        if strategy not in ("opt-in", "opt-out"):
            raise ValueError("strategy must be opt-in or opt-out")
        days = issues.get("reminder_days", 7)
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 365:
            raise ValueError("reminder_days must be a whole number of days from 1 to 365")
        label = _text(issues, "label", "secposture")
        if not re.fullmatch(r"[\w .:/-]{1,50}", label):
            raise ValueError("label must be 1 to 50 letters, digits, spaces or . : / -")
        return IssueConfig(
            enabled=_flag(issues, "enabled", False),
            strategy=strategy,
            repositories=_names(issues, "repositories"),
            topics=_names(issues, "topics"),
            exclude=_names(issues, "exclude"),
            exclude_topics=_names(issues, "exclude_topics"),
            allow_repository_override=_flag(issues, "allow_repository_override", True),
            reminder=timedelta(days=days),
            label=label,
        )
    except ValueError as exc:
        return IssueConfig(problem=f"{CONFIG_PATH}: {exc}")


def _text(table: Mapping[str, Any], key: str, default: str) -> str:
    value = table.get(key, default)
    if not isinstance(value, str):
        raise ValueError(f"{key} must be text")
    return value


def _flag(table: Mapping[str, Any], key: str, default: bool) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise ValueError(f"{key} must be true or false")
    return value


def _names(table: Mapping[str, Any], key: str) -> frozenset[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{key} must be a list of names")
    if len(value) > 10_000:
        raise ValueError(f"{key}: at most 10,000 names")
    return frozenset(v.strip().lower() for v in value if v.strip())


def read_config(client: GitHubClient, organisation: str) -> IssueConfig:
    """The organisation's file from its `.github` repository (ETag-cached by the client, so an
    unchanged file costs no rate limit); no file: the action is off."""
    import base64
    import binascii

    path = f"/repos/{quote(organisation, safe='')}/{CONFIG_REPOSITORY}/contents/{CONFIG_PATH}"
    response = client.rest_get(path, allow=(404,))
    if response.status == 404:
        return IssueConfig()
    body = response.json
    if not isinstance(body, Mapping) or body.get("type") != "file":
        return IssueConfig(problem=f"{CONFIG_PATH} is not a file")
    content = body.get("content")
    if not isinstance(content, str) or len(content) > MAX_CONFIG_BYTES * 2:
        return IssueConfig(problem=f"{CONFIG_PATH} is missing or over {MAX_CONFIG_BYTES:,} bytes")
    try:
        raw = base64.b64decode(content, validate=False)
        text = raw.decode("utf-8-sig")
    except (binascii.Error, UnicodeDecodeError):
        return IssueConfig(problem=f"{CONFIG_PATH} is not UTF-8 text")
    if len(raw) > MAX_CONFIG_BYTES:
        return IssueConfig(problem=f"{CONFIG_PATH} is over {MAX_CONFIG_BYTES:,} bytes")
    return parse_config(text)


# --- the issue's text ----------------------------------------------------------------------------


def failing_required(report: ScanReport) -> list[ControlResult]:
    """The required controls the report says fail (or only partly pass); waived ones do not."""
    return [r for r in report.results if r.level is Level.REQUIRED and r.status.failing]


def _code(text: str) -> str:
    """Hostile text (a file name, a message quoting the repository) as inline code: no
    Markdown, links or @mentions take effect, and it fits on one line."""
    flat = " ".join(text.split())[:EVIDENCE_CHARS]
    flat = flat.replace("`", "'")
    return f"`{flat}`" if flat else "``"


def render(repository: str, failing: Sequence[ControlResult]) -> tuple[str, str]:
    """The issue's title and body. Nothing in it changes unless the failures do (no times), so
    its digest says when to update."""
    count = len(failing)
    title = f"Security baseline: {count} required control{'s' if count != 1 else ''} failing"
    lines = [
        MARKER,
        f"secposture found that `{repository}` fails {count} required control"
        f"{'s' if count != 1 else ''} of the security baseline. This issue is updated when "
        "that changes and closed when every required control passes.",
        "",
    ]
    for result in failing:
        lines.append(f"### {result.id}: {result.title}")
        lines.append("")
        lines.append(f"Status: **{result.status.value}**. {_code(result.summary)}")
        lines.append("")
        for finding in result.findings[:EVIDENCE_PER_CONTROL]:
            where = ""
            if finding.location is not None and finding.location.path:
                where = f" at {_code(finding.location.path)}"
            lines.append(f"- {finding.outcome.value}{where}: {_code(finding.message)}")
        if len(result.findings) > EVIDENCE_PER_CONTROL:
            lines.append(f"- and {len(result.findings) - EVIDENCE_PER_CONTROL} more")
        lines.append("")
        lines.append(f"Fix: `secposture fix --only {result.id}` in a checkout of the repository")
        lines.append("(or `secposture fix --apply-settings` for a setting), then push.")
        lines.append("")
    lines.append(
        "Raised by secposture's repository-issue action; the organisation's "
        f"`{CONFIG_REPOSITORY}/{CONFIG_PATH}` says which repositories it watches."
    )
    body = "\n".join(lines)
    if len(body) > MAX_BODY_CHARS:
        body = body[:MAX_BODY_CHARS] + "\n\n(cut: the full list is on the dashboard)"
    return title, body


def closed_body(repository: str, *, watched: bool = True) -> str:
    if not watched:
        return (
            f"{MARKER}\n`{repository}` is no longer watched by secposture's repository-issue "
            f"action (the organisation's `{CONFIG_REPOSITORY}/{CONFIG_PATH}`, or the "
            "repository's own topic, says so): closed."
        )
    return (
        f"{MARKER}\nEvery required control of the security baseline now passes in "
        f"`{repository}`: closed by secposture."
    )


def digest(title: str, body: str) -> str:
    return hashlib.sha256(f"{title}\n{body}".encode()).hexdigest()


# --- pacing --------------------------------------------------------------------------------------


class WritePacer:
    """GitHub's secondary limits on content-creating requests: at most `per_minute` a minute and
    `per_hour` an hour (GitHub's are 80 and 500; we keep below), each a second apart (the
    client spaces them). `allow()` says whether a write may go now; if not, it is deferred."""

    def __init__(
        self,
        per_minute: int = 60,
        per_hour: int = 400,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_minute = per_minute
        self.per_hour = per_hour
        self._clock = clock
        self._times: deque[float] = deque()
        self._lock = threading.Lock()

    def allow(self, writes: int = 1) -> bool:
        with self._lock:
            now = self._clock()
            while self._times and self._times[0] <= now - 3600:
                self._times.popleft()
            last_minute = sum(1 for t in self._times if t > now - 60)
            if last_minute + writes > self.per_minute or len(self._times) + writes > self.per_hour:
                return False
            self._times.extend([now] * writes)
            return True


# --- the action ----------------------------------------------------------------------------------


@dataclass
class IssueOutcome:
    action: str  # opened, updated, reminded, closed, unchanged, skipped, deferred, failed
    number: int | None = None
    url: str | None = None
    detail: str = ""
    writes: int = 0
    requests: list[str] = field(default_factory=list)


def sync_issue(
    tx_read: Callable[[Callable[[Tx], Any]], Any],
    tx_write: Callable[[Callable[[Tx], Any]], Any],
    client: GitHubClient,
    pacer: WritePacer,
    config: IssueConfig,
    repository: str,
    report: ScanReport,
    topics: Sequence[str],
    archived: bool,
    now: datetime,
) -> IssueOutcome:
    """Bring `repository`'s issue in line with `report`: open, update, remind or close it; every
    write and its answer recorded in the register's history."""
    key = repository.lower()
    owner, name = repository.split("/", 1)
    if archived:
        # GitHub refuses every write to an archived repository: nothing to open or close.
        return IssueOutcome("skipped", detail="archived (read-only)")
    known: dict[str, Any] | None = tx_read(lambda tx: _known(tx, key))
    applies = config.applies(name, topics)
    failing = failing_required(report) if applies else []
    is_open = known is not None and known["state"] == "open"
    if not failing and not is_open:
        why = config.problem or ("nothing failing" if applies else "not watched")
        return IssueOutcome("skipped", detail=why)
    title, body = (
        render(repository, failing) if failing else ("", closed_body(repository, watched=applies))
    )
    new_digest = digest(title, body)
    base = f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}/issues"
    outcome: IssueOutcome
    try:
        if not failing:
            number = known["number"] if known else None
            if number is None:  # never opened on GitHub (its write failed): nothing to close
                outcome = IssueOutcome("closed", None, None, "no issue on GitHub")
            else:
                if not pacer.allow():
                    raise _Deferred
                # Gone (deleted, transferred) or issues turned off: nothing left to close.
                client.rest(
                    "PATCH",
                    f"{base}/{number}",
                    {"state": "closed", "body": body},
                    allow=(404, 410),
                )
                outcome = IssueOutcome("closed", number, known["url"] if known else None, writes=1)
        elif is_open and known is not None and known["digest"] == new_digest:
            last = known["reminded_at"] or known["updated_at"]
            if now - last < max(config.reminder, timedelta(days=1)):
                return IssueOutcome("unchanged", known["number"], known["url"])
            if not pacer.allow():
                raise _Deferred
            answer = client.rest(
                "POST",
                f"{base}/{known['number']}/comments",
                {"body": _reminder(failing)},
                allow=(404, 410),
            )
            if answer.status in (404, 410):  # gone: found or opened afresh next time
                outcome = IssueOutcome(
                    "failed", None, None, f"issue #{known['number']}: GitHub {answer.status}", 1
                )
            else:
                outcome = IssueOutcome("reminded", known["number"], known["url"], writes=1)
        else:
            # The budget first: a deferred write should not cost the look-up either.
            if not pacer.allow():
                raise _Deferred
            number = known["number"] if known and known["number"] else None
            if number is None:
                number = _find_own(client, base, config.label)
            if number is None:
                created = client.rest(
                    "POST", base, {"title": title, "body": body, "labels": [config.label]}
                )
                data = created.json if isinstance(created.json, Mapping) else {}
                outcome = IssueOutcome(
                    "opened", _int(data.get("number")), _str(data.get("html_url")), writes=1
                )
            else:
                changed = client.rest(
                    "PATCH",
                    f"{base}/{number}",
                    {"title": title, "body": body, "state": "open"},
                    allow=(404, 410),
                )
                data = changed.json if isinstance(changed.json, Mapping) else {}
                if changed.status in (404, 410):
                    outcome = IssueOutcome(
                        "failed", None, None, f"issue #{number}: GitHub {changed.status}", 1
                    )
                else:
                    outcome = IssueOutcome("updated", number, _str(data.get("html_url")), writes=1)
    except _Deferred:
        # Over the write budget: said in the history, tried again at the next rescan.
        outcome = IssueOutcome("deferred", known["number"] if known else None, None, "write budget")
    except GitHubError as exc:
        outcome = IssueOutcome("failed", known["number"] if known else None, None, str(exc)[:500])
    tx_write(lambda tx: _store(tx, key, outcome, failing, new_digest, known))
    return outcome


def _reminder(failing: Sequence[ControlResult]) -> str:
    names = ", ".join(r.id for r in failing)
    return f"{MARKER}\nStill failing: {names}. (A reminder from secposture.)"


def _find_own(client: GitHubClient, base: str, label: str) -> int | None:
    """Our open issue, by the hidden marker in its body (the register lost it, or never had
    it: a new register, another secposture before this one)."""
    response = client.rest_get(
        base, {"state": "open", "labels": label, "per_page": 100}, allow=(404, 410)
    )
    items = response.json if isinstance(response.json, list) else []
    for item in items:
        # Our body starts with the marker, and only people with triage access can give an issue
        # our label (GitHub drops labels from others): quoting the marker is not enough.
        ours = isinstance(item, Mapping) and str(item.get("body") or "").startswith(MARKER)
        if ours and "pull_request" not in item:
            return _int(item.get("number"))
    return None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: object) -> str | None:
    return value[:2000] if isinstance(value, str) else None


def _known(tx: Tx, key: str) -> dict[str, Any] | None:
    row = tx.session.scalars(
        select(RepositoryIssue).where(RepositoryIssue.repository == key)
    ).first()
    if row is None:
        return None
    return {
        "number": row.number,
        "url": row.url,
        "state": row.state,
        "digest": row.digest,
        "updated_at": row.updated_at,
        "reminded_at": row.reminded_at,
    }


class _Deferred(Exception):
    """The write budget is spent for now."""


def _store(
    tx: Tx,
    key: str,
    outcome: IssueOutcome,
    failing: Sequence[ControlResult],
    new_digest: str,
    known: dict[str, Any] | None,
) -> None:
    row = tx.session.scalars(
        select(RepositoryIssue).where(RepositoryIssue.repository == key)
    ).first()
    if row is None:
        row = RepositoryIssue(
            repository=key, state="none", failing=[], digest="", updated_at=tx.now
        )
        tx.session.add(row)
    if outcome.action in ("opened", "updated"):
        row.number = outcome.number
        row.url = outcome.url or row.url
        row.state = "open"
        row.failing = [r.id for r in failing]
        row.digest = new_digest
        row.updated_at = tx.now
        row.reminded_at = None
        row.closed_at = None
        if outcome.action == "opened":
            row.opened_at = tx.now
    elif outcome.action == "reminded":
        row.reminded_at = tx.now
    elif outcome.action == "closed":
        row.state = "closed"
        row.failing = []
        row.digest = new_digest
        row.updated_at = tx.now
        row.closed_at = tx.now
    elif outcome.action == "failed" and outcome.number is None:
        # Gone or issues turned off: found or opened afresh next time, nothing left to close.
        row.number = None
        row.state = "none"
    tx.session.flush()
    record_event(
        tx,
        RepositoryIssue.ENTITY,
        row.id,
        outcome.action,
        {
            "repository": key,
            "number": outcome.number,
            "url": outcome.url,
            "failing": [r.id for r in failing],
            "detail": outcome.detail,
        },
    )
