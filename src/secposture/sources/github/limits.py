"""Every limit on what a run asks of GitHub and reads from it, in one place (ADR 0012).

GitHub's answers are hostile input like a checkout's files: a broken or hostile server can say
`hasNextPage` for ever, link to one more page for ever, send a huge answer, or never answer. Each
limit below stops one of those; what a limit cuts is reported (the repository's report, the
estate's usage line), and a control that depended on what was cut is `unknown`, never decided on
partial data. The defaults are far above what a real estate needs (see each comment); tests pass
smaller ones.
"""

from __future__ import annotations

from dataclasses import dataclass

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB


@dataclass(frozen=True)
class GitHubLimits:
    # -- reaching GitHub ----------------------------------------------------------------------
    # TCP connect: tens of milliseconds to GitHub from anywhere; 5 s is a host that is not there.
    connect_timeout_s: float = 5.0
    # Until the host has answered once, a request that was sent but got no answer at all is a
    # host that is not serving (the first requests are the cheap ones: a listing page, one
    # repository, an App's installation), so it fails fast and is not retried.
    first_answer_timeout_s: float = 5.0
    # After that, GitHub's own limit is 10 s per request; GraphQL answers near it are normal.
    read_timeout_s: float = 30.0
    # Connection refused, reset before any answer, or no connection in time: at most this many
    # retries, each said on stderr. A host that refuses twice is down or not GitHub.
    connect_retries: int = 1
    # 502/503/504 and rate limits: GitHub's transient failures, retried with backoff.
    server_retries: int = 6
    max_redirects: int = 5

    # -- size ---------------------------------------------------------------------------------
    # One answer: GitHub's largest (a 100-repository listing page, a batch of file texts) are a
    # few MiB.
    response_bytes: int = 64 * MIB
    # Every answer of one run together: the benchmark's estate reads 13 KiB a repository; this
    # leaves 2 MiB a repository for 2,000 of them.
    run_bytes: int = 4 * GIB
    # File texts fetched for one repository (each file is also capped by max_file_bytes).
    repo_file_bytes: int = 64 * MIB
    # Files listed for one repository: deeper folders are not listed past this many.
    repo_files: int = 200_000

    # -- pages --------------------------------------------------------------------------------
    # One REST listing (100 items a page): 100,000 repositories.
    listing_pages: int = 1_000
    # Follow-up pages of one GraphQL connection of one repository (protection rules, rulesets;
    # 10 a page): 200 rules.
    connection_pages: int = 20
    # Follow-up pages of every repository's connections in one run: one each for 10,000
    # repositories, more than any estate needs.
    run_connection_pages: int = 10_000


DEFAULT_LIMITS = GitHubLimits()


def size(n: int) -> str:
    """A byte count as people read it: 64 MiB, 4 GiB, 512 bytes."""
    for unit, scale in (("GiB", GIB), ("MiB", MIB), ("KiB", KIB)):
        if n >= scale and n % scale == 0:
            return f"{n // scale:,} {unit}"
    return f"{n:,} bytes"
