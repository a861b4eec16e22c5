"""The pipeline for one repository: source -> snapshot -> facts -> probes -> controls -> report."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from secposture import __version__, catalogue
from secposture.controls.evaluate import evaluate
from secposture.errors import SecpostureError
from secposture.facts.interface import Facts
from secposture.model import EstateReport, EstateRepository, Problem, RepositoryPolicy, ScanReport
from secposture.policy import (
    PIN_DEEP,
    PIN_MAX_FILE_BYTES,
    Policy,
    default_policy,
    load_policy_file,
    resolve_policy,
)
from secposture.sources.interface import Settings, Snapshot
from secposture.sources.local import LocalSource
from secposture.sources.references.interface import ReferenceReader

if TYPE_CHECKING:
    from collections.abc import Callable

    from secposture.register.scan_context import RepositoryRecords
    from secposture.sources.github.fetch import GitHubFetcher, RepoFilter, RepoState

    RecordsLookup = Callable[[str], RepositoryRecords | None]

logger = logging.getLogger(__name__)


def scan_snapshot(
    snapshot: Snapshot,
    policy: Policy,
    today: date,
    records: RepositoryRecords | None = None,
    *,
    own: RepositoryPolicy | None = None,
) -> ScanReport:
    """`records`: what the register holds for this repository (None: no register connected);
    its waivers apply like the policy file's. `own`: what the repository's own policy file
    did; its error and refused settings are problems recorded on that file."""
    if records is not None and records.waivers:
        policy = replace(policy, waivers=(*policy.waivers, *records.waivers))
    facts = Facts(snapshot, policy, today)
    facts.records = records
    results = evaluate(facts)
    return ScanReport(
        target=snapshot.target,
        results=tuple(results),
        problems=(*_policy_problems(own), *facts.problems),
        generated_at=datetime.now(UTC).replace(microsecond=0).isoformat(),
        tool_version=__version__,
        repository_policy=own,
        set_aside=facts.set_aside or None,
    )


def _policy_problems(own: RepositoryPolicy | None) -> list[Problem]:
    if own is None:
        return []
    if own.error is not None:
        return [Problem(own.path, own.error)]
    return [Problem(own.path, f"{c}: not applied: {c.reason}") for c in own.refused]


def scan_path(
    path: Path,
    *,
    policy_file: Path | None = None,
    today: date | None = None,
    deep: bool = False,
    max_file_bytes: int | None = None,
    settings: Settings | None = None,
    records: RepositoryRecords | None = None,
    references: ReferenceReader | None = None,
    repository: str | None = None,
) -> tuple[ScanReport, Policy]:
    """Scan a checkout (or a plain folder). Without `policy_file` its own policy file is the
    user's and applies in full; with it, that file is the operator's, and the checkout's own
    may only tighten it or loosen what it allows (docs/adr/0011-*.md).

    `settings`, when given, are the repository's settings read from GitHub for this checkout;
    `records`, what the register holds for it; `references`, how files of other repositories
    that its workflows and hooks name are read (ADR 0014; default: they are not);
    `repository`, the GitHub repository (OWNER/REPO) the checkout is, when known."""
    defaults = catalogue.load("defaults")
    source = LocalSource(path, excluded_dirs=frozenset(defaults["excluded_dirs"]))
    snapshot = source.snapshot()
    if settings is not None:
        snapshot.settings = settings
    if references is not None:
        snapshot.references = references
    if repository is not None and snapshot.target.repository is None:
        snapshot.target = replace(snapshot.target, repository=repository)
    operator = read_policy_file(policy_file) if policy_file is not None else default_policy()
    operator = adjust_policy(operator, deep=deep, max_file_bytes=max_file_bytes)
    resolved = resolve_policy(snapshot, operator, trusted=policy_file is None)
    policy = resolved.policy
    snapshot.max_file_bytes = policy.max_file_bytes
    report = scan_snapshot(snapshot, policy, today or date.today(), records, own=resolved.own)
    return report, policy


def read_policy_file(policy_file: Path) -> Policy:
    return load_policy_file(str(policy_file), _read_policy_file(policy_file))


def adjust_policy(policy: Policy, *, deep: bool, max_file_bytes: int | None) -> Policy:
    """The command line's overrides: --max-file-size and --deep; pinned, so that no repository's
    policy file changes them."""
    if max_file_bytes is not None:
        policy = replace(
            policy, max_file_bytes=max_file_bytes, pinned=policy.pinned | {PIN_MAX_FILE_BYTES}
        )
    if deep:
        controls = dict(policy.controls)
        controls["secrets-in-tree"] = replace(controls["secrets-in-tree"], enabled=True)
        policy = replace(policy, controls=controls, pinned=policy.pinned | {PIN_DEEP})
    return policy


# Fetch and scan passes: a scan that asks for more files adds one; references to other
# repositories add one a level (ADR 0014: at most four).
MAX_GITHUB_ROUNDS = 20


def scan_github(
    fetcher: GitHubFetcher,
    states: Sequence[RepoState],
    today: date | None = None,
    records_for: RecordsLookup | None = None,
) -> list[EstateRepository]:
    """Scan repositories read from GitHub: fetch in batched rounds until every scan is complete.
    `records_for` gives what the register holds for a repository ("owner/name").

    Each repository's own policy file lies over the fetcher's policy (the operator's) as an
    untrusted one (docs/adr/0011-*.md). Nothing one repository holds ends the run: what cannot
    be used is recorded on that repository, and the rest are scanned."""
    today = today or date.today()
    records = {id(s): records_for(s.full_name) if records_for else None for s in states}
    fetcher.fetch_round_one(states)
    fetcher.attach_settings(states)
    reports: dict[int, ScanReport] = {}
    pending = [s for s in states if s.snapshot is not None and s.error is None]
    for _ in range(MAX_GITHUB_ROUNDS):
        if not pending:
            break
        if fetcher.fetch_round(pending):
            continue
        still: list[RepoState] = []
        for done, state in enumerate(pending, 1):
            snapshot = state.require_snapshot()
            report = _scan_fetched(fetcher, state, today, records[id(state)])
            if report is None:
                reports.pop(id(state), None)  # no earlier round's incomplete report either
            else:
                reports[id(state)] = report
                if not snapshot.complete():
                    still.append(state)
            fetcher.progress("scanning", done, len(pending))
        pending = still
    return [_estate_entry(state, reports.get(id(state))) for state in states]


def _scan_fetched(
    fetcher: GitHubFetcher, state: RepoState, today: date, records: RepositoryRecords | None
) -> ScanReport | None:
    """One repository's scan; None, with `state.error` saying why, when it faulted."""
    snapshot = state.require_snapshot()
    try:
        resolved = resolve_policy(snapshot, fetcher.base_policy)
        snapshot.max_file_bytes = resolved.policy.max_file_bytes
        report = scan_snapshot(snapshot, resolved.policy, today, records, own=resolved.own)
        # What limits cut of this repository: problems, and unknown where it decided (ADR 0012).
        return fetcher.account_for_cuts(state, report, resolved.policy)
    except SecpostureError as exc:
        state.error = str(exc)
    except Exception as exc:
        # A fault on one repository's content must not cost the whole estate run: that one is
        # reported as not scanned, saying so, and the others go on.
        logger.debug("scanning %s failed", state.full_name, exc_info=True)
        state.error = f"a fault in secposture ({type(exc).__name__}: {exc}); please report it"
    return None


def _estate_entry(state: RepoState, report: ScanReport | None) -> EstateRepository:
    rest = state.rest or {}
    graph = state.graph or {}
    topics = rest.get("topics") or []
    return EstateRepository(
        name=state.full_name,
        report=report,
        url=str(graph.get("url") or rest.get("html_url") or "") or None,
        archived=bool(rest.get("archived") or graph.get("isArchived")),
        fork=bool(rest.get("fork") or graph.get("isFork")),
        topics=tuple(str(t) for t in topics if isinstance(t, str)),
        error=None if report is not None else (state.error or "not scanned"),
    )


_MAX_POLICY_BYTES = 1024 * 1024


def _read_policy_file(path: Path) -> str:
    from secposture.errors import PolicyError

    try:
        with path.open("rb") as fh:
            data = fh.read(_MAX_POLICY_BYTES + 1)
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read policy file: {exc.strerror or exc}") from None
    if len(data) > _MAX_POLICY_BYTES:
        raise PolicyError(f"{path}: policy file is over {_MAX_POLICY_BYTES:,} bytes")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PolicyError(
            f"{path}: policy file is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset "
            f"{exc.start})"
        ) from None


def scan_github_org(
    fetcher: GitHubFetcher,
    org: str,
    repo_filter: RepoFilter,
    today: date | None = None,
    records_for: RecordsLookup | None = None,
) -> EstateReport:
    """Every repository of an organisation (less archived and forks unless asked)."""
    started = time.perf_counter()
    states = fetcher.list_org(org, repo_filter)
    entries = scan_github(fetcher, states, today, records_for)
    usage = replace(fetcher.client.usage(), seconds=time.perf_counter() - started)
    return EstateReport(
        organisation=org,
        repositories=tuple(entries),
        generated_at=datetime.now(UTC).replace(microsecond=0).isoformat(),
        tool_version=__version__,
        usage=usage,
    )


def scan_github_repo(
    fetcher: GitHubFetcher,
    owner: str,
    name: str,
    today: date | None = None,
    records_for: RecordsLookup | None = None,
) -> ScanReport:
    """One repository read from GitHub (no checkout needed)."""
    state = fetcher.get_repo(owner, name)
    (entry,) = scan_github(fetcher, [state], today, records_for)
    if entry.report is None:
        raise SecpostureError(f"{owner}/{name}: {entry.error}")
    return entry.report
