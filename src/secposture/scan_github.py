"""The scan's GitHub side: credentials to a client (its retries said on stderr), an
organisation's or a repository's scan, a checkout's settings, and other repositories' files.

Kept apart from scan.py so that a scan of a checkout without a token imports none of it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import date
from typing import TYPE_CHECKING

from secposture.model import EstateReport, ScanReport
from secposture.policy import Policy
from secposture.probes.interface import probe_reads
from secposture.sources.github.auth import InstallationTarget, credentials_from_env
from secposture.sources.github.fetch import GitHubFetcher, Progress, RepoFilter, no_progress
from secposture.sources.github.options import GitHubOptions
from secposture.sources.github.transport import GitHubClient
from secposture.sources.interface import DEFAULT_MAX_FILE_BYTES, Settings
from secposture.sources.references.interface import ReferenceReader

# Entered while GitHub is read; gives what hears each stage's count (the command line's bar).
ProgressFactory = Callable[[], AbstractContextManager[Progress]]


def quiet_progress() -> AbstractContextManager[Progress]:
    return nullcontext(no_progress)


if TYPE_CHECKING:
    from secposture.scan import RecordsLookup
    from secposture.sources.references.cache import ReferenceCache


@contextmanager
def client_for(
    options: GitHubOptions, owner: str, repo: str | None = None
) -> Iterator[GitHubClient]:
    credentials = credentials_from_env(
        app_id=options.app_id,
        private_key_file=options.app_key,
        installation_id=options.installation_id,
        target=InstallationTarget(owner, repo),
    )
    client = GitHubClient(options.api_url, credentials, concurrency=options.concurrency)
    try:
        with retries_on_stderr():
            yield client
    finally:
        client.close()


@contextmanager
def retries_on_stderr() -> Iterator[None]:
    """What the client waits for or retries (its WARNING records: a host that cannot be reached,
    a server error, a rate limit) is said on stderr as it happens, never a silent stall. The
    records are already redacted where they are made (transport.py)."""
    logger = logging.getLogger("secposture.github")
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("secposture: %(message)s"))
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


def scan_org(
    options: GitHubOptions,
    org: str,
    repo_filter: RepoFilter,
    policy: Policy,
    progress: ProgressFactory | None = None,
    *,
    today: date | None = None,
    records_for: RecordsLookup | None = None,
) -> EstateReport:
    """Every repository of an organisation; `progress` is entered while GitHub is read."""
    from secposture.scan import scan_github_org

    with client_for(options, org) as client, (progress or quiet_progress)() as said:
        fetcher = GitHubFetcher(
            client,
            policy,
            concurrency=options.concurrency,
            progress=said,
            cache=reference_cache(options, policy.max_file_bytes),
            reads=probe_reads,
        )
        return scan_github_org(fetcher, org, repo_filter, today, records_for)


def scan_repo(
    options: GitHubOptions,
    owner: str,
    name: str,
    policy: Policy,
    progress: ProgressFactory | None = None,
    *,
    today: date | None = None,
    records_for: RecordsLookup | None = None,
) -> ScanReport:
    """One repository read from GitHub; `progress` is entered while GitHub is read."""
    from secposture.scan import scan_github_repo

    with client_for(options, owner, name) as client, (progress or quiet_progress)() as said:
        fetcher = GitHubFetcher(
            client,
            policy,
            concurrency=1,
            progress=said,
            cache=reference_cache(options, policy.max_file_bytes),
            reads=probe_reads,
        )
        return scan_github_repo(fetcher, owner, name, today, records_for)


def checkout_settings(options: GitHubOptions, owner: str, name: str) -> Settings:
    """The settings of the GitHub repository a checkout came from (one REST, one GraphQL)."""
    from secposture.policy import default_policy

    with client_for(options, owner, name) as client:
        return GitHubFetcher(client, default_policy()).fetch_settings(owner, name)


# --- files of other repositories (ADR 0014) ------------------------------------------------------


def reference_cache(
    options: GitHubOptions, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
) -> ReferenceCache | None:
    """The user's cache of referenced files for the configured GitHub's host; None, said on
    stderr, when its folder is not private to this user."""
    from secposture.sources.github.remote import web_host
    from secposture.sources.references.cache import open_cache

    return open_cache(web_host(options.api_url), max_file_bytes, _warn)


@contextmanager
def checkout_references(
    options: GitHubOptions,
    owner: str | None,
    name: str | None,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> Iterator[ReferenceReader]:
    """A checkout's reader with a token: each referenced file fetched from the configured API
    when the scan asks (with what is found inside it), the cache read first and filled."""
    from secposture.facts.references import nested
    from secposture.sources.references.github import GitHubReferences, ReferenceStore

    cache = reference_cache(options, max_file_bytes)
    with client_for(options, owner or "", name) as client:
        store = ReferenceStore(client, cache, max_file_bytes=max_file_bytes, discover=nested)
        yield GitHubReferences(store, eager=True)


def _warn(message: str) -> None:
    from secposture.redaction import redact

    print(f"secposture: warning: {redact(message)}", file=sys.stderr)
