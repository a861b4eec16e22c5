"""The pipeline for one repository: source -> snapshot -> facts -> probes -> controls -> report."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, Unpack

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
from secposture.sources.local import LocalSnapshot, LocalSource
from secposture.sources.references.interface import ReferenceReader

if TYPE_CHECKING:
    from secposture.register.database import Database
    from secposture.register.scan_context import RepositoryRecords
    from secposture.scan_github import ProgressFactory
    from secposture.sources.github.fetch import GitHubFetcher, RepoFilter, RepoState
    from secposture.sources.github.options import GitHubOptions
    from secposture.sources.github.remote import Remote

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


class CheckoutOptions(TypedDict, total=False):
    """scan_checkout's options, for scan_path to pass on."""

    policy_file: Path | None
    today: date | None
    deep: bool
    max_file_bytes: int | None
    settings: Settings | None
    records: RepositoryRecords | None
    references: ReferenceReader | None
    repository: str | None


def scan_path(path: Path, **options: Unpack[CheckoutOptions]) -> tuple[ScanReport, Policy]:
    """Scan a checkout (or a plain folder): scan_checkout's report and policy."""
    _snapshot, report, policy = scan_checkout(path, **options)
    return report, policy


def scan_checkout(
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
) -> tuple[LocalSnapshot, ScanReport, Policy]:
    """Scan a checkout (or a plain folder), with the snapshot it read. Without `policy_file`
    its own policy file is the user's and applies in full; with it, that file is the operator's,
    and the checkout's own may only tighten it or loosen what it allows (docs/adr/0011-*.md).

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
    return snapshot, report, policy


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


# --- entry points: what `secposture scan` asks for -----------------------------------------------
# The command line parses its options into a ScanRequest and prints what these return; which
# settings a checkout's scan asks GitHub for, and what goes to the register, is decided here.


@dataclass(frozen=True)
class ScanRequest:
    """How to scan: the operator's policy file and overrides, where GitHub is, and the register."""

    github: GitHubOptions
    policy_file: Path | None = None
    deep: bool = False
    max_file_bytes: int | None = None
    # Never ask GitHub, even with a token (--offline).
    offline: bool = False
    # The GitHub repository (OWNER/REPO) a checkout is, in the operator's word (--repository).
    repository: str | None = None
    # The register to read (--db; None: $SECPOSTURE_DATABASE_URL, else the embedded one if it
    # exists) and whether to store the results in it (--record), as whom.
    db: str | None = None
    record: bool = False
    actor: str = "unknown"


@dataclass(frozen=True)
class Scanned:
    """One repository's scan, with the repository's name for the register and where that name
    came from (said when it is recorded)."""

    report: ScanReport
    policy: Policy
    name: str
    named_from: str
    # How many scans were stored in the register (request.record), else None.
    recorded: int | None = None


@dataclass(frozen=True)
class ScannedEstate:
    """An organisation's scan, with the operator's policy (its fail_on decides the exit code)."""

    estate: EstateReport
    policy: Policy
    recorded: int | None = None


def operator_policy(request: ScanRequest) -> Policy:
    """The policy given with --policy, else the baseline, with the command line's overrides;
    each repository's own file applies on top only without --policy."""
    if request.policy_file is not None:
        policy = read_policy_file(request.policy_file)
    else:
        policy = default_policy()
    return adjust_policy(policy, deep=request.deep, max_file_bytes=request.max_file_bytes)


def open_scan_register(db: str | None, *, record: bool) -> Database | None:
    """The register a scan reads (and, with `record`, writes); None when there is none to read,
    and then the database code is not even imported."""
    from secposture.register.location import register_configured

    if not record and not register_configured(db):
        return None
    from secposture.scan_register import open_register

    return open_register(db, record=record)


def _record(
    register: Database | None, request: ScanRequest, scans: Sequence[tuple[str, ScanReport]]
) -> int | None:
    """With request.record, each (repository name, report) stored as a scan run: how many."""
    if register is None or not request.record:
        return None
    from secposture.scan_register import record_reports

    return record_reports(register, scans, request.actor)


def _records_lookup(register: Database | None) -> RecordsLookup | None:
    if register is None:
        return None
    from secposture.scan_register import records_lookup

    return records_lookup(register)


def scan_organisation(
    org: str,
    repo_filter: RepoFilter,
    request: ScanRequest,
    *,
    progress: ProgressFactory | None = None,
) -> ScannedEstate:
    """Every repository of a GitHub organisation, with what the register holds for each (and,
    with request.record, each one scanned stored in it). `progress` is entered while GitHub is
    read."""
    from secposture.scan_github import scan_org

    policy = operator_policy(request)
    register = open_scan_register(request.db, record=request.record)
    lookup = _records_lookup(register)
    estate = scan_org(request.github, org, repo_filter, policy, progress, records_for=lookup)
    scanned = [(r.name, r.report) for r in estate.repositories if r.report is not None]
    return ScannedEstate(estate, policy, _record(register, request, scanned))


def scan_repository(
    target: Path,
    request: ScanRequest,
    *,
    warn: Callable[[str], None],
    progress: ProgressFactory | None = None,
) -> Scanned:
    """A checkout (with its GitHub settings when a token is set), or OWNER/REPO on GitHub, with
    what the register holds for it (and, with request.record, the result stored in it).
    `warn` hears what GitHub could not answer; `progress` is entered while GitHub is read."""
    register = open_scan_register(request.db, record=request.record)
    scanned = _scan_repository(target, request, _records_lookup(register), warn, progress)
    recorded = _record(register, request, [(scanned.name, scanned.report)])
    return replace(scanned, recorded=recorded)


def _scan_repository(
    target: Path,
    request: ScanRequest,
    lookup: RecordsLookup | None,
    warn: Callable[[str], None],
    progress: ProgressFactory | None,
) -> Scanned:
    """With `request.record`, a checkout that names no GitHub repository is refused before it
    is scanned: its folder's name would put a second entry for the same repository in the
    estate."""
    from secposture.sources.github.options import have_credentials
    from secposture.sources.github.remote import looks_like_repository_name

    github = request.github
    if not target.exists() and looks_like_repository_name(str(target)):
        if request.offline or not have_credentials(github):
            raise SecpostureError(
                f"{target}: no such folder; to scan the GitHub repository {target}, set "
                "GITHUB_TOKEN (or GH_TOKEN, or a GitHub App) and do not pass --offline"
            )
        from secposture.scan_github import scan_repo

        owner, name = str(target).split("/")
        policy = operator_policy(request)
        report = scan_repo(github, owner, name, policy, progress, records_for=lookup)
        return Scanned(report, policy, f"{owner}/{name}".lower(), "the GitHub repository scanned")
    repository = request.repository
    remote = _checkout_remote(target, github)
    if request.record:
        _check_record_name(repository, remote)
    settings = None
    if not request.offline and have_credentials(github):
        settings = _checkout_settings(github, repository, remote, warn)
    repo_name = repository or (remote.full_name if remote else None)
    records = None
    if lookup is not None:
        from secposture.scan_register import UNIDENTIFIED

        records = lookup(repo_name) if repo_name else UNIDENTIFIED
    references = checkout_references(
        github, request.offline, repository, remote, request.max_file_bytes, warn
    )
    with references as reader:
        report, policy = scan_path(
            target,
            policy_file=request.policy_file,
            deep=request.deep,
            max_file_bytes=request.max_file_bytes,
            settings=settings,
            records=records,
            references=reader,
            repository=repo_name,
        )
    if repo_name:
        # Every format names the repository whose settings were read (ADR 0012).
        report = replace(report, target=replace(report.target, repository=repo_name))
    if repository:
        named_from = "from --repository"
    elif remote is not None:
        named_from = f"from the {remote.remote or 'git'} remote"
    else:
        named_from = "the folder's name"
    if repo_name is None:
        return Scanned(report, policy, report.target.name, named_from)
    # GitHub names ignore case: one repository is one row in the estate however it is written.
    return Scanned(report, policy, repo_name.lower(), named_from)


def _check_record_name(repository: str | None, remote: Remote | None) -> None:
    """--record needs the GitHub repository's name: --repository OWNER/REPO, else a remote."""
    from secposture.sources.github.remote import looks_like_repository_name

    if repository is not None:
        if not looks_like_repository_name(repository):
            raise SecpostureError(
                f"--repository: '{repository[:60]}' is not a GitHub repository: write OWNER/REPO"
            )
    elif remote is None:
        raise SecpostureError(
            "--record: this checkout has no remote on GitHub to name it by; give --repository "
            "OWNER/REPO, the name the register and the estate know it by"
        )


def checkout_references(
    github: GitHubOptions,
    offline: bool,
    repository: str | None,
    remote: Remote | None,
    max_file_bytes: int | None,
    warn: Callable[[str], None],
) -> AbstractContextManager[ReferenceReader]:
    """How a checkout's scan reads the workflows, actions and hooks of other repositories that
    its own name (ADR 0014): from the configured GitHub with a token (the token goes nowhere
    else, ADR 0012), from the cache alone with --offline or without a token."""
    from secposture.sources.github.options import have_credentials
    from secposture.sources.github.remote import looks_like_repository_name, web_host
    from secposture.sources.interface import DEFAULT_MAX_FILE_BYTES
    from secposture.sources.references.cache import CachedReferences, open_cache
    from secposture.sources.references.none import HOW_TO_READ, NoReferences

    limit = max_file_bytes or DEFAULT_MAX_FILE_BYTES
    if offline or not have_credentials(github):
        # No request at all (and no import of the GitHub client): the cache alone.
        if offline:
            why = "--offline was given"
            how = "scan once with a GitHub token and without --offline, which fills the cache"
        else:
            why, how = "no GitHub token was given", HOW_TO_READ
        cache = open_cache(web_host(github.api_url), limit, warn)
        reader = CachedReferences(cache, why, how) if cache is not None else NoReferences(why, how)
        return nullcontext(reader)
    from secposture.scan_github import checkout_references as from_github

    owner = name = None
    if repository is not None and looks_like_repository_name(repository):
        owner, name = repository.split("/")
    elif remote is not None and remote.host == web_host(github.api_url):
        owner, name = remote.owner, remote.name
    return from_github(github, owner, name, limit)


def _checkout_remote(path: Path, github: GitHubOptions) -> Remote | None:
    """The checkout's repository on the API's host (for its settings and the register), else on
    github.com (for the register only)."""
    from secposture.sources.github.remote import checkout_remote, web_host

    if not path.is_dir():
        return None
    return checkout_remote(path, web_host(github.api_url), "github.com")


def _checkout_settings(
    github: GitHubOptions,
    repository: str | None,
    remote: Remote | None,
    warn: Callable[[str], None],
) -> Settings:
    """A checkout's GitHub settings, only ever asked of the configured API (ADR 0012): of
    --repository when given (the operator's word), else of the checkout's remote when it is on
    that API's host (the checkout's own word: the report names it). Otherwise, or when GitHub
    cannot be asked, settings that say why they are unknown, and the files still decide theirs."""
    from secposture.scan_github import checkout_settings
    from secposture.sources.github.auth import GitHubAuthError
    from secposture.sources.github.remote import looks_like_repository_name, web_host
    from secposture.sources.github.transport import GitHubError, GitHubUnreachable

    api_host = web_host(github.api_url)
    if repository is not None and looks_like_repository_name(repository):
        owner, name = repository.split("/")
    elif remote is not None and remote.host == api_host:
        owner, name = remote.owner, remote.name
    elif remote is not None:
        return Settings(
            observed=False,
            reason=f"the checkout's remote is on {remote.host}, not on the configured GitHub "
            f"({api_host}), so no settings were read (give --repository OWNER/REPO, or "
            "--github-url for that host)",
        )
    else:
        return Settings(
            observed=False,
            reason=f"no remote of the checkout is on the configured GitHub ({api_host}), so no "
            "settings were read (give --repository OWNER/REPO)",
        )
    try:
        return checkout_settings(github, owner, name)
    except GitHubAuthError:
        raise
    except GitHubUnreachable as exc:
        warn(f"{exc}; scanning the checkout without its GitHub settings")
        return Settings(
            observed=False,
            reason=f"GitHub ({exc.host}) could not be reached, so the settings of {owner}/{name} "
            "were not read",
        )
    except GitHubError as exc:
        warn(f"GitHub settings of {owner}/{name} not read ({exc}); settings controls stay unknown")
        return Settings(
            observed=False,
            reason=f"the settings of {owner}/{name} could not be read from GitHub ({exc})",
        )
