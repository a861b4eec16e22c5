"""`secposture scan`: a checkout, a GitHub repository or an organisation against the baseline.

Imports only click and the standard library at import time; the scan itself lives in
secposture.scan.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from secposture.cli.common import (
    EXIT_FAILING,
    EXIT_OK,
    actor_name,
    db_option,
    echo,
    errors_as_input,
    format_option,
    say_top_level,
    warn,
)
from secposture.errors import SecpostureError

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from secposture.model import Level, ScanReport
    from secposture.policy import Policy
    from secposture.register.database import Database
    from secposture.scan import RecordsLookup
    from secposture.sources.github.options import GitHubOptions
    from secposture.sources.github.remote import Remote
    from secposture.sources.interface import Settings
    from secposture.sources.references.interface import ReferenceReader

FAIL_ON = ("required", "recommended", "never")

SCAN_HELP = """Scan a checkout (default: the current folder), a GitHub repository (OWNER/REPO) or a
whole GitHub organisation (--org) against the security baseline.

Reads only tracked files (git ls-files; a plain folder is walked), never runs repository content,
never follows links out of the repository and skips files over the size limit. Settings-based
controls (review required, Dependabot security updates, secret scanning) need the GitHub API:
with GITHUB_TOKEN or GH_TOKEN set (or a GitHub App: --app-id and --app-key, or SECPOSTURE_APP_ID
and SECPOSTURE_APP_PRIVATE_KEY), a checkout's GitHub remote is asked for them; without, they are
`unknown` and say what would decide them. Tokens are read from the environment only.

\b
Examples:
  secposture scan                                  # this checkout, a table per level
  secposture scan ../service -v                    # every finding, and the static-analysis matrix
  secposture scan --format json -o report.json     # machine format (docs/report-format.md)
  secposture scan --format sarif -o secposture.sarif
  secposture scan --format markdown >> "$GITHUB_STEP_SUMMARY"
  secposture scan --format html -o report.html     # one self-contained file
  secposture scan --fail-on recommended            # also fail on recommended controls
  secposture scan --policy ../org/secposture.toml  # the org's policy; the checkout's may only
                                                   # tighten it, or loosen what it allows
  GITHUB_TOKEN=... secposture scan acme/payments   # a GitHub repository, no clone needed
  GITHUB_TOKEN=... secposture scan --org acme --format html -o estate.html
  secposture scan --org acme --topic production --repo-glob 'svc-*' --format csv

\b
Exit codes:
  0  nothing fails at the --fail-on level
  1  a control at that level or stricter is `fail` or `partial` (`unknown`, `waived` do not fail)
  2  usage or input error: bad option, missing folder, invalid policy, unwritable output,
     GitHub credentials missing or refused
For --org, 1 means some repository fails at the --fail-on level.

A repository's own secposture.toml or [tool.secposture] applies in full only when a checkout
is scanned without --policy. Otherwise (--policy, OWNER/REPO, --org) it may tighten, and may
loosen only what the --policy file's [repository_policy] allow lists: disable, levels,
intervals, waivers, exclude, tools, ignore_languages, limits, fail_on. Every setting it asks
for is reported, applied or refused; one that cannot be read is a problem, never exit 2.
"""

ORG_FORMATS = ("terminal", "json", "csv", "html", "markdown")
REPO_FORMATS = ("terminal", "json", "sarif", "markdown", "html")


@click.command("scan", help=SCAN_HELP)
@click.argument(
    "path",
    default=".",
    metavar="[PATH | OWNER/REPO]",
    type=click.Path(path_type=Path, file_okay=True, dir_okay=True),
)
@format_option(
    "terminal",
    "json",
    "sarif",
    "markdown",
    "html",
    "csv",
    help="Report format: a table for people, json for machines (docs/report-format.md, "
    "docs/estate-format.md), sarif for code scanning (one repository), markdown for a PR comment "
    "or $GITHUB_STEP_SUMMARY, html for one file, csv (--org) for a spreadsheet.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the report to this file instead of standard output.",
)
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    default=None,
    help="Exit 1 when a control at this level or stricter fails or is partial "
    "[default: the policy's fail_on, else required].",
)
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The operator's policy file: the repository's own secposture.toml / pyproject.toml "
    "may only tighten it, or loosen what its [repository_policy] allow lists.",
)
@click.option("--deep", is_flag=True, help="Also run opt-in deep controls (secrets-in-tree).")
@click.option(
    "--max-file-size",
    type=click.IntRange(min=1024),
    metavar="BYTES",
    help="Do not read files larger than this [default: 1 MiB, or the policy's limits.max_file_bytes].",
)
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="Show every finding with its file and line, and the static-analysis matrix.",
)
@click.option(
    "--color/--no-color",
    default=None,
    help="Colour the terminal report [default: when writing to a terminal and NO_COLOR is unset].",
)
@click.option("--org", metavar="ORG", help="Scan every repository of this GitHub organisation.")
@click.option("--include-archived", is_flag=True, help="--org: also scan archived repositories.")
@click.option("--include-forks", is_flag=True, help="--org: also scan forks.")
@click.option(
    "--topic",
    "topics",
    multiple=True,
    metavar="TOPIC",
    help="--org: only repositories with this topic (repeat for any of several).",
)
@click.option(
    "--repo-glob",
    "repo_globs",
    multiple=True,
    metavar="GLOB",
    help="--org: only repositories whose name matches (e.g. 'svc-*'; repeatable).",
)
@click.option(
    "--github-url",
    metavar="URL",
    help="GitHub API base URL, for GitHub Enterprise Server: https://HOST/api/v3 "
    "[default: $GITHUB_API_URL, else https://api.github.com].",
)
@click.option(
    "--app-id", metavar="ID", help="Authenticate as this GitHub App [env: SECPOSTURE_APP_ID]."
)
@click.option(
    "--app-key",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="PEM",
    help="The GitHub App's private key file [env: SECPOSTURE_APP_PRIVATE_KEY(_FILE)].",
)
@click.option(
    "--installation-id",
    metavar="ID",
    help="The App's installation [default: looked up for the organisation or repository].",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 16),
    default=4,
    show_default=True,
    help="GitHub requests in flight at once.",
)
@click.option(
    "--offline",
    is_flag=True,
    help="Never call GitHub, even with a token: settings controls stay unknown, and the "
    "workflows, actions and hooks of other repositories are read from the cache alone.",
)
@db_option(
    help="The register to read threat models, ITHCs, major changes and waivers from "
    "[default: $SECPOSTURE_DATABASE_URL, else the embedded register if it exists].",
)
@click.option(
    "--record",
    is_flag=True,
    help="Store the results in the register (for trends on the dashboard), under the GitHub "
    "name of the repository: --repository, else the checkout's GitHub remote (origin first).",
)
@click.option(
    "--repository",
    metavar="OWNER/REPO",
    help="The GitHub repository a checkout is: whose settings a token reads, and its name in "
    "the register [default: from its git remote, which the checkout itself chooses].",
)
@click.option(
    "--actor",
    metavar="NAME",
    help="Who records the results (--record) [default: $SECPOSTURE_ACTOR, else the OS user].",
)
@errors_as_input
def scan(**params: Any) -> None:
    # Click passes the options by name; _scan holds their types.
    code = _scan(**params)
    if code:
        sys.exit(code)


def _scan(
    path: Path,
    fmt: str,
    output: Path | None,
    fail_on: str | None,
    policy_file: Path | None,
    deep: bool,
    max_file_size: int | None,
    verbose: bool,
    color: bool | None,
    org: str | None,
    include_archived: bool,
    include_forks: bool,
    topics: tuple[str, ...],
    repo_globs: tuple[str, ...],
    github_url: str | None,
    app_id: str | None,
    app_key: Path | None,
    installation_id: str | None,
    concurrency: int,
    offline: bool,
    db: str | None,
    record: bool,
    repository: str | None,
    actor: str | None,
) -> int:
    from secposture.reports.interface import RenderOptions, renderer

    if policy_file is not None and not policy_file.is_file():
        raise SecpostureError(f"{policy_file}: policy file not found")
    if output is not None:
        _check_writable(output)
    use_color = _use_color(color, output)
    to_terminal = output is None and sys.stdout.isatty()
    width = shutil.get_terminal_size().columns if to_terminal else None
    options = RenderOptions(color=use_color, width=width, verbose=verbose)
    github = _github_options(github_url, app_id, app_key, installation_id, concurrency)
    if org is not None:
        if offline:
            raise SecpostureError("--org reads GitHub: it cannot be used with --offline")
        if fmt not in ORG_FORMATS:
            raise SecpostureError(
                f"--format {fmt} is for one repository; for --org use {', '.join(ORG_FORMATS)}"
            )
        from secposture.cli.github import ProgressBar
        from secposture.reports.estate import estate_renderer
        from secposture.scan_github import scan_org
        from secposture.sources.github.fetch import RepoFilter

        base = _base_policy(policy_file, deep, max_file_size)
        repo_filter = RepoFilter(include_archived, include_forks, topics, repo_globs)
        register = _open_register(db, record)
        lookup = _lookup(register)
        with ProgressBar() as progress:
            estate = scan_org(github, org, repo_filter, base, progress, records_for=lookup)
        if register is not None and record:
            scanned = [(r.name, r.report) for r in estate.repositories if r.report is not None]
            _record(register, scanned, actor)
        _write(estate_renderer(fmt)(estate, options), output, use_color)
        level = _threshold(fail_on or base.fail_on)
        failing = any(r.report is not None and r.report.failing(level) for r in estate.repositories)
        return EXIT_FAILING if failing else EXIT_OK
    if fmt not in REPO_FORMATS:
        raise SecpostureError(f"--format {fmt} is for an organisation (--org)")
    register = _open_register(db, record)
    report, policy, name, named_from = _scan_one(
        path,
        github,
        policy_file,
        deep,
        max_file_size,
        offline,
        _lookup(register),
        repository,
        record=record,
    )
    if register is not None and record:
        _record(register, [(name, report)], actor, named_from)
    _write(renderer(fmt)(report, options), output, use_color)
    return EXIT_FAILING if report.failing(_threshold(fail_on or policy.fail_on)) else EXIT_OK


def _threshold(fail_on: str | None) -> Level | None:
    from secposture.model import Level

    threshold = fail_on or "required"
    return None if threshold == "never" else Level(threshold)


def _github_options(
    github_url: str | None,
    app_id: str | None,
    app_key: Path | None,
    installation_id: str | None,
    concurrency: int,
) -> GitHubOptions:
    from secposture.sources.github.options import GitHubOptions, api_url_from

    return GitHubOptions(api_url_from(github_url), app_id, app_key, installation_id, concurrency)


def _base_policy(policy_file: Path | None, deep: bool, max_file_size: int | None) -> Policy:
    """The policy given with --policy, else the baseline; each repository's own file applies
    on top only without --policy."""
    from secposture.policy import default_policy
    from secposture.scan import adjust_policy, read_policy_file

    policy = read_policy_file(policy_file) if policy_file is not None else default_policy()
    return adjust_policy(policy, deep=deep, max_file_bytes=max_file_size)


def _open_register(db: str | None, record: bool) -> Database | None:
    from secposture.register.location import register_configured

    if not record and not register_configured(db):
        return None  # no register: the database code is not even imported
    from secposture.scan_register import open_register

    return open_register(db, record=record)


def _lookup(register: Database | None) -> RecordsLookup | None:
    if register is None:
        return None
    from secposture.scan_register import records_lookup

    return records_lookup(register)


def _record(
    register: Database,
    reports: list[tuple[str, ScanReport]],
    actor: str | None,
    named_from: str | None = None,
) -> None:
    """Store the reports; `named_from` says where one repository's name came from."""
    from secposture.reports.interface import clean
    from secposture.scan_register import record_reports

    stored = record_reports(register, reports, actor_name(actor))
    if named_from is not None and len(reports) == 1:
        # The name and the remote's come from the checkout's own config: shown escaped.
        said = clean(f"as {reports[0][0]} ({named_from})")
        click.echo(f"secposture: recorded 1 scan in the register {said}", err=True)
    else:
        click.echo(f"secposture: recorded {stored} scan(s) in the register", err=True)


def _scan_one(
    path: Path,
    github: GitHubOptions,
    policy_file: Path | None,
    deep: bool,
    max_file_size: int | None,
    offline: bool,
    lookup: RecordsLookup | None,
    repository: str | None,
    *,
    record: bool = False,
) -> tuple[ScanReport, Policy, str, str]:
    """A checkout (with its GitHub settings when a token is set), or OWNER/REPO on GitHub; and
    the repository's name for the register, with where that name came from. With `record`, a
    checkout that names no GitHub repository is refused before it is scanned: its folder's name
    would put a second entry for the same repository in the estate."""
    from dataclasses import replace

    from secposture.scan import scan_path
    from secposture.sources.github.options import have_credentials
    from secposture.sources.github.remote import looks_like_repository_name

    if not path.exists() and looks_like_repository_name(str(path)):
        if offline or not have_credentials(github):
            raise SecpostureError(
                f"{path}: no such folder; to scan the GitHub repository {path}, set GITHUB_TOKEN "
                "(or GH_TOKEN, or a GitHub App) and do not pass --offline"
            )
        from secposture.cli.github import ProgressBar
        from secposture.scan_github import scan_repo

        owner, name = str(path).split("/")
        policy = _base_policy(policy_file, deep, max_file_size)
        with ProgressBar() as progress:
            report = scan_repo(github, owner, name, policy, progress, records_for=lookup)
        return report, policy, f"{owner}/{name}".lower(), "the GitHub repository scanned"
    remote = _checkout_remote(path, github)
    if record:
        _check_record_name(repository, remote)
    settings = None
    if not offline and have_credentials(github):
        settings = _checkout_settings(github, repository, remote)
    repo_name = repository or (remote.full_name if remote else None)
    records = None
    if lookup is not None:
        from secposture.scan_register import UNIDENTIFIED

        records = lookup(repo_name) if repo_name else UNIDENTIFIED
    with _checkout_references(github, offline, repository, remote, max_file_size) as references:
        report, policy = scan_path(
            path,
            policy_file=policy_file,
            deep=deep,
            max_file_bytes=max_file_size,
            settings=settings,
            records=records,
            references=references,
            repository=repo_name,
        )
    if report.target.source == "git":
        say_top_level("scanning", path, report.target.path)
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
        return report, policy, report.target.name, named_from
    # GitHub names ignore case: one repository is one row in the estate however it is written.
    return report, policy, repo_name.lower(), named_from


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


def _checkout_references(
    github: GitHubOptions,
    offline: bool,
    repository: str | None,
    remote: Remote | None,
    max_file_size: int | None,
) -> AbstractContextManager[ReferenceReader]:
    """How a checkout's scan reads the workflows, actions and hooks of other repositories that
    its own name (ADR 0014): from the configured GitHub with a token (the token goes nowhere
    else, ADR 0012), from the cache alone with --offline or without a token."""
    from contextlib import nullcontext

    from secposture.sources.github.options import have_credentials
    from secposture.sources.github.remote import looks_like_repository_name, web_host
    from secposture.sources.interface import DEFAULT_MAX_FILE_BYTES
    from secposture.sources.references.cache import CachedReferences, open_cache
    from secposture.sources.references.none import HOW_TO_READ, NoReferences

    limit = max_file_size or DEFAULT_MAX_FILE_BYTES
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
    from secposture.scan_github import checkout_references

    owner = name = None
    if repository is not None and looks_like_repository_name(repository):
        owner, name = repository.split("/")
    elif remote is not None and remote.host == web_host(github.api_url):
        owner, name = remote.owner, remote.name
    return checkout_references(github, owner, name, limit)


def _checkout_remote(path: Path, github: GitHubOptions) -> Remote | None:
    """The checkout's repository on the API's host (for its settings and the register), else on
    github.com (for the register only)."""
    from secposture.sources.github.remote import checkout_remote, web_host

    if not path.is_dir():
        return None
    return checkout_remote(path, web_host(github.api_url), "github.com")


def _checkout_settings(
    github: GitHubOptions, repository: str | None, remote: Remote | None
) -> Settings:
    """A checkout's GitHub settings, only ever asked of the configured API (ADR 0012): of
    --repository when given (the operator's word), else of the checkout's remote when it is on
    that API's host (the checkout's own word: the report names it). Otherwise, or when GitHub
    cannot be asked, settings that say why they are unknown, and the files still decide theirs."""
    from secposture.scan_github import checkout_settings
    from secposture.sources.github.auth import GitHubAuthError
    from secposture.sources.github.remote import looks_like_repository_name, web_host
    from secposture.sources.github.transport import GitHubError, GitHubUnreachable
    from secposture.sources.interface import Settings

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


def _write(text: str, output: Path | None, use_color: bool) -> None:
    if output is not None:
        try:
            output.write_text(text, "utf-8")
        except OSError as exc:
            raise SecpostureError(f"{output}: cannot write report: {exc.strerror or exc}") from None
    else:
        echo(text, color=use_color)


def _use_color(color: bool | None, output: Path | None) -> bool:
    if color is not None:
        return color
    if os.environ.get("NO_COLOR"):
        return False
    return output is None and sys.stdout.isatty()


def _check_writable(output: Path) -> None:
    """Fail before scanning, not after, when the report could not be written."""
    if output.is_dir():
        raise SecpostureError(f"{output}: is a folder; give a file name for --output")
    parent = output.parent if str(output.parent) else Path(".")
    if not parent.is_dir():
        raise SecpostureError(f"{output}: folder {parent} does not exist")
    target = output if output.exists() else parent
    if not os.access(target, os.W_OK):
        raise SecpostureError(f"{output}: cannot write report: permission denied")


def add_commands(group: click.Group) -> None:
    """Add `scan` to the `secposture` command group."""
    group.add_command(scan)
