"""`secposture fix`: add what the failing controls need to a checkout (or, with --org, open pull
requests across an organisation; with --apply-settings, switch the repository's settings on).

Imports only click and the standard library at import time (the command line starts fast); the
planning lives in secposture.fix.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from secposture.cli.common import echo, errors_as_input, format_option, say_top_level, warn

if TYPE_CHECKING:
    from secposture.fix.apply import Reconciled
    from secposture.fix.interface import FileChange, FixPlan

FIX_HELP = """Add what the failing controls need: generated files, tailored to the languages and
package ecosystems found, that make the controls pass when `secposture scan` runs again.

\b
  .github/dependabot.yml            updates for every ecosystem at every manifest directory
  .pre-commit-config.yaml           a secret detector and each language's analysers, pinned
  .github/workflows/secposture-security.yml
                                    static analysis in CI and a Trivy scan of built images
                                    (SARIF upload, read-only token, actions pinned by SHA),
                                    each built from the context the repository uses; or a
                                    scan step in the CI job that builds the image already
  .vscode/extensions.json           the analysers' editor extensions (and, where .gitignore
                                    excludes a new file, the exception `git add` needs)
  .github/pull_request_template.md  a security checklist (OWASP Top 10), appended to an
                                    existing template
  docs/adr/                         ADR 0001 (record security decisions) and a template
  docs/threat-model/README.md       the agenda of the first session, `last_reviewed_on`
  SECURITY.md, .github/CODEOWNERS   a security policy and a CODEOWNERS stub

Existing YAML is edited in place (comments, order and layout kept); existing Markdown and text
files are never replaced without --force; a file that cannot be parsed is left alone. Running
it again changes nothing. Repository content is read, never run. Settings (review required,
Dependabot security updates, secret scanning) are not files: --apply-settings changes them.

Existing workflows are hardened in place: `uses:` pinned to the commit SHA of the tag they name
(asked of GitHub with a token, else from secposture's pin table; never guessed), each job's
token given the permissions its steps need (a `# secposture: review` comment where that cannot
be known), and untrusted `${{ github.event.* }}` values moved from scripts into `env:`.

\b
Examples:
  secposture fix --dry-run                       # show the diff, write nothing
  secposture fix                                 # write the files, then `git add` them
  secposture fix ../service --only dependency-update-config --only secrets-pre-commit
  secposture fix --format json --dry-run         # the plan for machines
  secposture fix --codeowner @acme/payments      # the owner the CODEOWNERS stub names
  GITHUB_TOKEN=... secposture fix --apply-settings
  GITHUB_TOKEN=... secposture fix --org acme     # what pull requests would be opened
  GITHUB_TOKEN=... secposture fix --org acme --pr

\b
Exit codes:
  0  done, or nothing to do (controls no file can fix are listed, not failed)
  2  usage or input error: no such folder, unknown control, invalid option, GitHub refused
"""


def add_commands(group: click.Group) -> None:
    """Add `fix` to the `secposture` command group."""
    group.add_command(fix)


@dataclass(frozen=True)
class FixArgs:
    path: Path
    dry_run: bool
    force: bool
    only: tuple[str, ...]
    fmt: str
    codeowner: str | None
    offline: bool = False


@click.command("fix", help=FIX_HELP)
@click.argument("path", default=".", type=click.Path(path_type=Path, file_okay=True, dir_okay=True))
@click.option(
    "--dry-run", is_flag=True, help="Print what would change as a unified diff; write nothing."
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace existing files (a malformed config, an untracked file in the way, a generated "
    "workflow that was changed) with the generated ones.",
)
@click.option(
    "--only",
    multiple=True,
    metavar="CONTROL",
    help="Fix only this control (repeatable), e.g. dependency-update-config.",
)
@format_option("text", "json", help="What was changed (or would be), for people or machines.")
@click.option(
    "--codeowner",
    metavar="OWNER",
    help="The owner the CODEOWNERS stub names (@org/team, @user or an email) "
    "[default: a placeholder to replace].",
)
@click.option(
    "--apply-settings",
    is_flag=True,
    help="Also switch on the repository's settings through the GitHub API (needs an admin's "
    "token): vulnerability alerts, Dependabot security updates, secret scanning with push "
    "protection, a review required before merge.",
)
@click.option(
    "--offline",
    is_flag=True,
    help="Ask GitHub nothing: pin `uses:` tags from secposture's pin table even with a token.",
)
@click.option("--org", metavar="ORG", help="Fix every failing repository of this organisation.")
@click.option(
    "--pr",
    is_flag=True,
    help="--org: open (or update) a pull request per repository; without it, say what would "
    "be opened.",
)
@errors_as_input
def fix(
    path: Path,
    dry_run: bool,
    force: bool,
    only: tuple[str, ...],
    fmt: str,
    codeowner: str | None,
    apply_settings: bool,
    offline: bool,
    org: str | None,
    pr: bool,
) -> None:
    from secposture.errors import SecpostureError

    args = FixArgs(path, dry_run, force, only, fmt, codeowner, offline)
    if pr and org is None:
        raise SecpostureError("--pr opens pull requests across an organisation: give --org ORG")
    if org is not None and offline:
        raise SecpostureError("--org reads GitHub: it cannot be used with --offline")
    if org is not None:
        _fix_org(org, args, pr=pr)
        return
    _fix_checkout(args, apply_settings=apply_settings)


# --- one checkout ----------------------------------------------------------------------------------


def _fix_checkout(args: FixArgs, *, apply_settings: bool) -> None:
    from secposture.errors import SecpostureError
    from secposture.fix.apply import apply_plan, reconcile
    from secposture.fix.plan import plan_fixes
    from secposture.scan import scan_checkout

    root = args.path
    if not root.is_dir():
        raise SecpostureError(
            f"{root}: {'is not a folder' if root.exists() else 'no such folder'}; "
            "`secposture fix` works on a checkout"
        )
    # Settings need a token and a GitHub remote: known before anything is written.
    settings_target = _settings_target(root) if apply_settings else None
    with ExitStack() as stack:
        # Other repositories' workflows and actions are read as `scan` reads them (ADR 0014),
        # for the plan too: what a called workflow needs decides its caller's permissions.
        references = stack.enter_context(_references(root, args.offline))
        # The checkout's own policy is the user's, as for `scan` without --policy (ADR 0011): a
        # pyproject.toml that cannot be read is a problem on it, not the end of the fix.
        snapshot, report, policy = scan_checkout(root, references=references)
        if snapshot.root != root:  # a folder inside a checkout: its repository is fixed
            say_top_level("fixing", root, str(snapshot.root))
            root = snapshot.root
        pins = stack.enter_context(_pin_source(root, args.offline))
        plan = plan_fixes(
            snapshot,
            policy,
            report,
            force=args.force,
            only=args.only or None,
            today=date.today(),
            codeowner=args.codeowner,
            pins=pins,
        )
    reconciled = reconcile(root, plan, force=args.force)
    if not args.dry_run:
        try:
            apply_plan(root, reconciled.plan)
        except OSError as exc:
            raise SecpostureError(f"cannot write the fix: {exc.strerror or exc}") from None
    untracked = snapshot.target.source == "git" and any(
        c.before is None for c in reconciled.plan.changes
    )
    settings = _settings(settings_target, args.dry_run) if settings_target else None
    if args.fmt == "json":
        echo(json.dumps(_json(root, reconciled, args.dry_run, settings), indent=2) + "\n")
    else:
        echo(_text(root, reconciled, args.dry_run, untracked, settings))


@contextmanager
def _pin_source(root: Path, offline: bool) -> Iterator[Any]:
    """Where `uses:` tags are pinned from: GitHub when a token (or App) is configured and
    --offline is not given, else secposture's pin table. GitHub's answers are asked for in one
    query; if GitHub cannot be reached the table is used and the fix says so."""
    from secposture.errors import SecpostureError
    from secposture.fix.action_pins import GitHubPins, TablePins
    from secposture.sources.github.options import have_credentials

    options = _github_options()
    if offline or not have_credentials(options):
        yield TablePins()
        return
    from secposture.scan_github import client_for
    from secposture.sources.github.remote import checkout_remote, web_host

    remote = checkout_remote(root, web_host(options.api_url))
    owner, name = (remote.owner, remote.name) if remote is not None else ("-", None)
    with ExitStack() as stack:
        try:
            client = stack.enter_context(client_for(options, owner, name))
        except SecpostureError as exc:  # credentials that cannot be used: said in the notes
            pins = GitHubPins(None, fallback=TablePins())
            pins.failure = f"GitHub could not be asked ({exc})"
            yield pins
            return
        yield GitHubPins(client, fallback=TablePins())


def _references(root: Path, offline: bool) -> Any:
    """The reader of other repositories' files a checkout's scan uses: GitHub with a token, the
    cache with --offline or without one."""
    from secposture.scan import checkout_references
    from secposture.sources.github.remote import checkout_remote, web_host

    options = _github_options()
    remote = checkout_remote(root, web_host(options.api_url)) if root.is_dir() else None
    return checkout_references(options, offline, None, remote, None, warn)


# --- settings and the estate (the other half of issue 5) -----------------------------------------


@dataclass(frozen=True)
class SettingResult:
    setting: str
    status: str
    detail: str


def _settings_target(root: Path) -> tuple[str, str]:
    """The GitHub repository (owner, name) a checkout came from, for --apply-settings; an
    input error when there is no token or no GitHub remote."""
    from secposture.errors import SecpostureError
    from secposture.sources.github.options import have_credentials
    from secposture.sources.github.remote import checkout_remote, web_host

    options = _github_options()
    if not have_credentials(options):
        raise SecpostureError(
            "--apply-settings changes the repository on GitHub: set GITHUB_TOKEN (or GH_TOKEN) "
            "to an admin's token"
        )
    # As for a scan (ADR 0012): the checkout's remote names the repository only when it is on
    # the configured API's own host; a remote elsewhere must not choose what gets changed.
    api_host = web_host(options.api_url)
    remote = checkout_remote(root, api_host)
    if remote is None:
        raise SecpostureError(
            f"{root}: no remote on the configured GitHub ({api_host}), so there is no repository "
            "whose settings to change (--github-url names another host)"
        )
    return remote.owner, remote.name


def _settings(target: tuple[str, str], dry_run: bool) -> list[SettingResult]:
    """--apply-settings: what changed, what was already on, and what could not be changed."""
    from secposture.errors import SecpostureError

    try:
        from secposture.fix.settings import apply_settings
    except ImportError:
        raise SecpostureError("--apply-settings is not available in this build") from None
    from secposture.scan_github import client_for

    owner, name = target
    with client_for(_github_options(), owner, name) as client:
        outcomes = apply_settings(client, owner, name, dry_run=dry_run)
    return [SettingResult(o.setting, o.status, o.detail) for o in outcomes]


def _github_options() -> Any:
    from secposture.sources.github.options import GitHubOptions, api_url_from

    return GitHubOptions(api_url_from(None), None, None, None, 4)


def _fix_org(org: str, args: FixArgs, *, pr: bool) -> None:
    """--org: plan every repository's fix from GitHub; with --pr open or update the pull
    requests, else say what would be opened (the estate's dry run is the default)."""
    from secposture.errors import SecpostureError

    try:
        from secposture.fix.estate import fix_org, render_fixes
    except ImportError:
        raise SecpostureError("--org is not available in this build") from None
    from secposture.cli.github import ProgressBar
    from secposture.policy import default_policy
    from secposture.scan_github import client_for
    from secposture.sources.github.fetch import RepoFilter
    from secposture.sources.github.options import have_credentials

    if args.dry_run and pr:
        raise SecpostureError(
            "--dry-run and --pr contradict each other: without --pr nothing is written"
        )
    options = _github_options()
    if not have_credentials(options):
        raise SecpostureError(
            "--org reads the organisation on GitHub: set GITHUB_TOKEN (or GH_TOKEN, or a GitHub App)"
        )
    with client_for(options, org) as client, ProgressBar() as progress:
        fixes = fix_org(
            client,
            org,
            RepoFilter(),
            default_policy(),
            open_prs=pr,
            progress=progress,
            today=date.today(),
            concurrency=options.concurrency,
            force=args.force,
            only=args.only or None,
            codeowner=args.codeowner,
        )
    echo(render_fixes(fixes, "json" if args.fmt == "json" else "text", dry_run=not pr))


# --- output ----------------------------------------------------------------------------------------


def _wrapped(text: str, indent: str, rest: str | None = None) -> str:
    from secposture.reports.common import clean

    return textwrap.fill(
        clean(text),
        width=100,
        initial_indent=indent,
        subsequent_indent=rest or indent,
        break_on_hyphens=False,
        break_long_words=False,
    )


def _text(
    root: Path,
    reconciled: Reconciled,
    dry_run: bool,
    untracked: bool,
    settings: list[SettingResult] | None,
) -> str:
    from secposture.fix.apply import unified_diff
    from secposture.reports.common import clean

    plan = reconciled.plan
    out: list[str] = []
    if dry_run and plan.changes:
        out.append(clean(unified_diff(plan.changes), keep_newlines=True))
        out.append("")
    count = len(plan.changes)
    files = f"{count} file{'s' if count != 1 else ''}"
    if dry_run:
        head = f"would change {files}" if count else "nothing to change"
    else:
        head = f"changed {files}" if count else "nothing to change"
    out.append(f"secposture fix: {head} in {clean(str(root))}" + (" (dry run)" if dry_run else ""))
    for control, lines in _by_control(plan.changes, dry_run).items():
        out.append(control)
        out.extend(_wrapped(line, "  ", "      ") for line in lines)
    if reconciled.already:
        out.append("Already written (not tracked by git yet): " + ", ".join(reconciled.already))
    if plan.skipped:
        out.append("Not changed:")
        for item in plan.skipped:
            out.append(_wrapped(f"{item.control}: {item.reason}", "  - ", "    "))
    if settings is not None:
        out.append("Settings:")
        for result in settings:
            out.append(
                _wrapped(f"{result.setting}: {result.status}: {result.detail}", "  - ", "    ")
            )
    if plan.notes:
        out.append("Notes:")
        for note in plan.notes:
            out.append(_wrapped(note, "  - ", "    "))
    if (untracked and not dry_run) or reconciled.already:
        out.append(
            "New files are not tracked by git yet: `git add` them (secposture scan reads "
            "tracked files only), then commit."
        )
    return "\n".join(out) + "\n"


_WOULD = {"created": "would create", "edited": "would edit", "replaced": "would replace"}


def _by_control(changes: tuple[FileChange, ...], dry_run: bool) -> dict[str, list[str]]:
    """What each control gets: `created PATH: what it adds`, in the order of the changes."""
    grouped: dict[str, list[str]] = {}
    for change in changes:
        verb = _WOULD[change.verb] if dry_run else change.verb
        details = change.details or ((change.control, change.summary),)
        for control, summary in details:
            grouped.setdefault(control, []).append(f"{verb} {change.path}: {summary}")
    return grouped


def _json(
    root: Path, reconciled: Reconciled, dry_run: bool, settings: list[SettingResult] | None
) -> dict[str, Any]:
    from secposture.fix.apply import unified_diff
    from secposture.reports.common import clean_tree

    plan: FixPlan = reconciled.plan
    out: dict[str, Any] = {
        "schema": "secposture-fix/1",
        "path": str(root),
        "dry_run": dry_run,
        "changes": [
            {
                "path": c.path,
                "action": c.action or ("create" if c.before is None else "edit"),
                "controls": list(c.controls or (c.control,)),
                "summary": c.summary,
                "guidance": c.guidance,
                "diff": unified_diff([c]),
            }
            for c in plan.changes
        ],
        "already_written": list(reconciled.already),
        "skipped": [{"control": s.control, "reason": s.reason} for s in plan.skipped],
        "notes": list(plan.notes),
    }
    if settings is not None:
        out["settings"] = [s.__dict__ for s in settings]
    result: dict[str, Any] = clean_tree(out)
    return result
