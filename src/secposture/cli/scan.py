"""`secposture scan`: a checkout, a GitHub repository or an organisation against the baseline.

Imports only click and the standard library at import time; the scan itself lives in
secposture.scan.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from secposture.cli.common import (
    EXIT_FAILING,
    EXIT_OK,
    actor_name,
    actor_option,
    db_option,
    echo,
    errors_as_input,
    format_option,
    output_option,
    policy_option,
    say_top_level,
    warn,
)
from secposture.errors import SecpostureError

if TYPE_CHECKING:
    from secposture.model import Level
    from secposture.scan import ScanRequest

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
  secposture scan                                  # this checkout on one screen: a row per control
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
@output_option(help="Write the report to this file instead of standard output.")
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    default=None,
    help="Exit 1 when a control at this level or stricter fails or is partial "
    "[default: the policy's fail_on, else required].",
)
@policy_option(
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
@actor_option(
    help="Who records the results (--record) [default: $SECPOSTURE_ACTOR, else the OS user].",
)
@errors_as_input
def scan(**params: Any) -> None:
    code = _scan(ScanOptions(**params))
    if code:
        sys.exit(code)


@dataclass(frozen=True)
class ScanOptions:
    """The command line's options, by the names click gives them."""

    path: Path
    fmt: str
    output: Path | None
    fail_on: str | None
    policy_file: Path | None
    deep: bool
    max_file_size: int | None
    verbose: bool
    color: bool | None
    org: str | None
    include_archived: bool
    include_forks: bool
    topics: tuple[str, ...]
    repo_globs: tuple[str, ...]
    github_url: str | None
    app_id: str | None
    app_key: Path | None
    installation_id: str | None
    concurrency: int
    offline: bool
    db: str | None
    record: bool
    repository: str | None
    actor: str | None

    def request(self) -> ScanRequest:
        """What the pipeline needs to know of them."""
        from secposture.scan import ScanRequest
        from secposture.sources.github.options import GitHubOptions, api_url_from

        github = GitHubOptions(
            api_url_from(self.github_url),
            self.app_id,
            self.app_key,
            self.installation_id,
            self.concurrency,
        )
        return ScanRequest(
            github=github,
            policy_file=self.policy_file,
            deep=self.deep,
            max_file_bytes=self.max_file_size,
            offline=self.offline,
            repository=self.repository,
            db=self.db,
            record=self.record,
            actor=actor_name(self.actor),
        )


def _scan(options: ScanOptions) -> int:
    from secposture.cli.github import ProgressBar
    from secposture.reports.interface import RenderOptions, renderer
    from secposture.scan import scan_organisation, scan_repository

    if options.policy_file is not None and not options.policy_file.is_file():
        raise SecpostureError(f"{options.policy_file}: policy file not found")
    if options.output is not None:
        _check_writable(options.output)
    use_color = _use_color(options.color, options.output)
    to_terminal = options.output is None and sys.stdout.isatty()
    width = shutil.get_terminal_size().columns if to_terminal else None
    render = RenderOptions(color=use_color, width=width, verbose=options.verbose)
    request = options.request()
    fmt = options.fmt
    if options.org is not None:
        if options.offline:
            raise SecpostureError("--org reads GitHub: it cannot be used with --offline")
        if fmt not in ORG_FORMATS:
            raise SecpostureError(
                f"--format {fmt} is for one repository; for --org use {', '.join(ORG_FORMATS)}"
            )
        from secposture.reports.estate import estate_renderer
        from secposture.sources.github.fetch import RepoFilter

        repo_filter = RepoFilter(
            options.include_archived, options.include_forks, options.topics, options.repo_globs
        )
        result = scan_organisation(options.org, repo_filter, request, progress=ProgressBar)
        if result.recorded is not None:
            _say_recorded(result.recorded)
        _write(estate_renderer(fmt)(result.estate, render), options.output, use_color)
        level = _threshold(options.fail_on or result.policy.fail_on)
        repositories = result.estate.repositories
        failing = any(r.report is not None and r.report.failing(level) for r in repositories)
        return EXIT_FAILING if failing else EXIT_OK
    if fmt not in REPO_FORMATS:
        raise SecpostureError(f"--format {fmt} is for an organisation (--org)")
    scanned = scan_repository(options.path, request, warn=warn, progress=ProgressBar)
    report = scanned.report
    if report.target.source == "git":
        say_top_level("scanning", options.path, report.target.path)
    if scanned.recorded is not None:
        _say_recorded(scanned.recorded, f"as {scanned.name} ({scanned.named_from})")
    _write(renderer(fmt)(report, render), options.output, use_color)
    level = _threshold(options.fail_on or scanned.policy.fail_on)
    return EXIT_FAILING if report.failing(level) else EXIT_OK


def _threshold(fail_on: str | None) -> Level | None:
    from secposture.model import Level

    threshold = fail_on or "required"
    return None if threshold == "never" else Level(threshold)


def _say_recorded(stored: int, named: str | None = None) -> None:
    """`named`: one repository's name and where it came from."""
    if named is not None:
        from secposture.reports.common import clean

        # The name and the remote's come from the checkout's own config: shown escaped.
        click.echo(f"secposture: recorded 1 scan in the register {clean(named)}", err=True)
    else:
        click.echo(f"secposture: recorded {stored} scan(s) in the register", err=True)


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
