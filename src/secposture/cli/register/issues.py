"""`secposture issue`: raise a security issue with what Security needs, send its report, close
it, or mark it as not fixable."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

import click

from secposture.cli.common import (
    actor_name,
    errors_as_input,
    format_option,
    read_register,
    said,
    write_register,
)
from secposture.cli.register.common import (
    COMMON_EPILOG,
    DATE,
    RATING,
    Vocabulary,
    done,
    emit_record,
    emit_rows,
    history_text,
    links,
    page_footer,
    paging_options,
    print_text,
    register_options,
    split_values,
)

if TYPE_CHECKING:
    from secposture.register.database import Tx

ENV_PATCH_DAYS = "SECPOSTURE_PATCH_DAYS"
ENV_SECURITY_EMAIL = "SECPOSTURE_SECURITY_EMAIL"


ISSUE_RAISE_HELP = """Raise a security issue to the Security team.

It needs the six things Security asks for: CVE ids (if any), the OS/environment, a description,
the business context, links to recorded conversations, and the data that could be compromised;
plus the product, a CVSS v3.1 or v4.0 vector (scored here), and the ticket. The severity is the
vector's unless you give one; the patch-by date follows from it (critical and high 7 days,
medium 28, low 90; change with --patch-days or $SECPOSTURE_PATCH_DAYS).

On a terminal, anything missing is asked for; otherwise (CI, scripts) give it all as options.

\b
Examples:
  secposture issue raise                     # asks for each thing in turn
  secposture issue raise --product payments --cve CVE-2024-3094 \\
      --environment "Debian 12 build agents" \\
      --description "xz backdoor in the build image" \\
      --business-context "Builds sign every release" \\
      --conversation https://chat.example.org/archives/C1/p1 \\
      --data-at-risk "Release signing keys" \\
      --cvss "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:H/A:H" \\
      --ticket https://jira.example.org/browse/SEC-12
  secposture issue send 3
"""

# (option name, prompt) in the order a terminal asks them.
ISSUE_PROMPTS = (
    ("product_name", "Product"),
    ("cve", "CVE ids (comma-separated; empty if none)"),
    ("environment", "OS / environment"),
    ("description", "Description"),
    ("business_context", "Business context"),
    ("conversations", "Links to recorded conversations (space-separated)"),
    ("data_at_risk", "Data that could be compromised"),
    ("cvss", "CVSS v3.1 or v4.0 vector"),
    ("ticket", "Ticket link"),
)


@click.group(epilog=COMMON_EPILOG)
def issue() -> None:
    """Security issues: raise one with what Security needs, send its report, close it, or mark
    it as not fixable (which puts a linked risk on the register).

    \b
    Examples:
      secposture issue raise
      secposture issue list --product payments
      secposture issue show 3 --format markdown
      secposture issue close 3 --resolution fixed --note "patched in 2.4.1"
      secposture issue cannot-fix 3 --reason "vendor appliance" --owner "Jo Bloggs" \\
          --likelihood 2 --impact 4
    """


@issue.command("raise", help=ISSUE_RAISE_HELP, epilog=COMMON_EPILOG)
@click.option("--product", "product_name", metavar="PRODUCT", help="The affected product.")
@click.option(
    "--cve",
    "cves",
    multiple=True,
    metavar="CVE-ID",
    help="A CVE id (repeat, or comma-separate); none if not known.",
)
@click.option("--environment", help="The OS / environment affected.")
@click.option("--description", help="What the issue is.")
@click.option("--business-context", help="Why it matters to the service and its users.")
@click.option(
    "--conversation",
    "conversations",
    multiple=True,
    metavar="URL",
    help="A link to a recorded conversation (repeatable).",
)
@click.option("--data-at-risk", help="The data that could be compromised.")
@click.option(
    "--cvss",
    metavar="VECTOR",
    help="The CVSS v3.1 or v4.0 vector, e.g. CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H.",
)
@click.option(
    "--severity",
    type=Vocabulary("issue_severities"),
    help="The team's severity [default: the vector's].",
)
@click.option("--ticket", metavar="URL", help="The ticket tracking the fix.")
@click.option(
    "--from-alert",
    "from_alert",
    metavar="OWNER/REPO#N",
    help="Pre-fill from a Dependabot alert (read with $GITHUB_TOKEN or the GitHub App): CVE "
    "ids, environment (from the manifest path), description, severity, CVSS vector, the "
    "repository's product, and the alert's page as the ticket and conversation. You add the "
    "business context and the data at risk; options given win.",
)
@click.option("--reporter", metavar="NAME", help="Who raises it [default: the actor].")
@click.option("--on", "raised_on", type=DATE, help="When it was raised [default: today].")
@click.option(
    "--patch-days",
    metavar="SEVERITY=DAYS,...",
    help="Days to patch by severity, e.g. critical=3,high=7 [default: $SECPOSTURE_PATCH_DAYS, else critical/high 7, medium 28, low 90].",
)
@click.option(
    "--interactive/--no-interactive",
    default=None,
    help="Ask for what is missing [default: when standard input is a terminal].",
)
@format_option()
@register_options
@errors_as_input
def issue_raise(
    interactive: bool | None, fmt: str, db: str | None, actor: str | None, **given: Any
) -> None:
    from secposture.errors import SecpostureError
    from secposture.register.issues import IssueInput, raise_issue

    patch_days = _patch_days(given.pop("patch_days") or os.environ.get(ENV_PATCH_DAYS))
    from_alert = given.pop("from_alert")
    if from_alert:
        _prefill_from_alert(from_alert, given, db)
    ask = sys.stdin.isatty() if interactive is None else interactive
    # What the register decides (the product, the date) is checked before any question is asked,
    # and each answer as it is given: a typo never costs the answers already typed.
    known_product = _register_check(db, given.get("raised_on"))
    if given.get("product_name"):
        try:
            given["product_name"] = known_product(given["product_name"])
        except SecpostureError as exc:
            raise SecpostureError(f"issue not raised: {said(exc)}") from None
    values = _issue_values(given, ask, {"product_name": known_product})
    data = IssueInput(
        product=values["product_name"],
        reporter=given.get("reporter") or actor_name(actor),
        environment=values["environment"],
        description=values["description"],
        business_context=values["business_context"],
        data_at_risk=values["data_at_risk"],
        cvss_vector=values["cvss"],
        ticket_link=values["ticket"],
        conversation_links=links(values["conversations"]),
        cve_ids=", ".join(split_values(values["cve"])),
        severity=given.get("severity"),
        raised_on=given.get("raised_on"),
        patch_days=patch_days,
    )
    try:
        result = write_register(db, actor, lambda tx: raise_issue(tx, data).to_dict())
    except SecpostureError as exc:
        if ask:  # what was typed is not lost: the command that raises it again
            click.echo(_raise_again(values, given), err=True)
        raise SecpostureError(f"issue not raised: {said(exc)}") from None
    done(
        fmt,
        f"Raised issue {result['id']} for {result['product']}: {result['severity']} "
        f"(CVSS {result['cvss']['base_score']}), patch by {result['patch_by']}. "
        f"Send it to Security: secposture issue send {result['id']}",
        result,
    )


def _prefill_from_alert(text: str, given: dict[str, Any], db: str | None) -> None:
    """Fill what the options left empty from the Dependabot alert `text` (OWNER/REPO#N)."""
    from secposture.errors import SecpostureError
    from secposture.register.products import products_for_repository
    from secposture.scan_github import client_for
    from secposture.sources.github.dependabot import parse_reference, read_alert
    from secposture.sources.github.options import GitHubOptions, api_url_from

    reference = parse_reference(text)
    options = GitHubOptions(api_url_from(None), None, None, None, 1)
    try:
        with client_for(options, reference.owner, reference.name) as client:
            alert = read_alert(client, reference)
    except SecpostureError as exc:
        raise SecpostureError(f"issue not raised: {said(exc)}") from None
    if alert.state and alert.state != "open":
        click.echo(f"note: Dependabot alert {reference} is {alert.state}, not open", err=True)
    found = {
        "cves": tuple(alert.cves),
        "environment": alert.environment,
        "description": alert.description,
        "cvss": alert.cvss_vector,
        "severity": alert.severity,
        "ticket": alert.url,
        # The alert's page holds its discussion (dismissals, comments): the conversation to
        # link until the team has its own.
        "conversations": (alert.url,) if alert.url else (),
    }
    if not given.get("product_name"):
        products = read_register(
            db, lambda tx: [p.name for p in products_for_repository(tx, reference.repository)]
        )
        if len(products) == 1:
            found["product_name"] = products[0]
    for key, value in found.items():
        if value and not given.get(key):
            given[key] = value
    click.echo(
        f"Pre-filled from Dependabot alert {reference}"
        + ("" if alert.cvss_vector else " (the advisory has no CVSS vector: give --cvss)")
        + "; add the business context and the data at risk.",
        err=True,
    )


def _register_check(db: str | None, raised_on: date | None) -> Callable[[str], str]:
    """Check `--on` against the register's today now, and return a check of a product name
    (its name as registered, or an error with close names), reading the register each time."""
    from secposture.errors import SecpostureError
    from secposture.register.database import Database
    from secposture.register.products import active_product

    with Database.open(db, create=False) as database:
        today = database.read(lambda tx: tx.today)
    if raised_on is not None and raised_on > today:
        raise SecpostureError(
            f"issue not raised: --on {raised_on} is in the future (today is {today})"
        )

    def product(name: str) -> str:
        with Database.open(db, create=False) as database:
            return database.read(lambda tx: active_product(tx, name).name)

    return product


def _raise_again(values: dict[str, Any], given: dict[str, Any]) -> str:
    """The answers given, as the command that raises the issue without asking again."""
    import shlex

    args = ["secposture", "issue", "raise", "--no-interactive"]
    for key, _prompt in ISSUE_PROMPTS:
        option = "--" + _ISSUE_OPTIONS.get(key, key).replace("_", "-")
        value = values.get(key)
        for item in value if isinstance(value, list) else [value]:
            if item:
                args += [option, str(item)]
    for key in ("severity", "reporter"):
        if given.get(key):
            args += [f"--{key}", str(given[key])]
    if given.get("raised_on"):
        args += ["--on", given["raised_on"].isoformat()]
    return "Your answers, to raise it again: " + shlex.join(args)


_ISSUE_OPTIONS = {"product_name": "product", "conversations": "conversation"}


def _issue_values(
    given: dict[str, Any],
    ask: bool,
    checks: dict[str, Callable[[str], str]] | None = None,
) -> dict[str, Any]:
    """The issue's fields from the options, asking on a terminal for those missing; `checks`
    validate an answer against the register as it is given."""
    from secposture.errors import SecpostureError

    values: dict[str, Any] = {}
    missing = []
    for key, prompt in ISSUE_PROMPTS:
        value = given.get(key if key not in ("cve",) else "cves")
        if isinstance(value, tuple):
            value = list(value)
        if value or (key == "cve" and not ask):
            values[key] = value or []
            continue
        if ask:
            answer = click.prompt(
                prompt,
                default="" if key == "cve" else None,
                show_default=False,
                value_proc=_prompt_check(key, (checks or {}).get(key)),
            )
            values[key] = [answer] if key in ("cve", "conversations") else answer
        else:
            missing.append("--" + _ISSUE_OPTIONS.get(key, key).replace("_", "-"))
    if missing:
        raise SecpostureError(
            f"issue not raised: missing {', '.join(missing)} (give them as options, or run on a terminal to be asked)"
        )
    return values


def _prompt_check(key: str, register: Callable[[str], str] | None = None) -> Callable[[str], str]:
    """Check an answer as it is typed, so a typo is asked again rather than failing at the end;
    `register` checks it against the register (a product's name) and gives the stored form."""

    def check(answer: str) -> str:
        from secposture.errors import SecpostureError
        from secposture.register import validate
        from secposture.register.errors import InvalidField
        from secposture.register.severity import parse_cve_ids, score_vector

        try:
            if register is not None:
                return register(answer)
            if key == "cve":
                parse_cve_ids(answer)
            elif key == "cvss":
                score_vector(answer)
            elif key == "conversations":
                validate.urls("conversation", links([answer]))
            elif key == "ticket":
                validate.url("ticket", answer)
            elif not answer.strip():
                raise ValueError("required")
        except InvalidField as exc:  # the prompt names the field already
            raise click.BadParameter(exc.detail) from None
        except (ValueError, SecpostureError) as exc:
            raise click.BadParameter(str(exc)) from None
        return answer

    return check


def _patch_days(text: str | None) -> dict[str, int] | None:
    """ "critical=3,high=7" over the default schedule; errors name the option."""
    if not text:
        return None
    from secposture.errors import SecpostureError
    from secposture.register.severity import DEFAULT_PATCH_DAYS

    schedule = dict(DEFAULT_PATCH_DAYS)
    for item in text.split(","):
        name, _, days = item.partition("=")
        name = name.strip().lower()
        if name not in ("critical", "high", "medium", "low", "none") or not days.strip().isdigit():
            raise SecpostureError(
                f"--patch-days: {item.strip()[:40]!r} is not SEVERITY=DAYS (e.g. critical=3)"
            )
        schedule[name] = int(days)
    return schedule


@issue.command("list", epilog=COMMON_EPILOG)
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(("open", "fixed", "cannot_fix", "closed")),
    help="Only these statuses (repeatable) [default: open].",
)
@click.option("--all", "all_statuses", is_flag=True, help="Every status.")
@click.option("--product", "product_name", metavar="PRODUCT", help="Only this product's issues.")
@paging_options(limit=100)
@format_option()
@register_options
@errors_as_input
def issue_list(
    statuses: tuple[str, ...],
    all_statuses: bool,
    product_name: str | None,
    limit: int,
    offset: int,
    fmt: str,
    db: str | None,
    actor: str | None,
) -> None:
    """List security issues, soonest patch-by date first.

    \b
    Examples:
      secposture issue list
      secposture issue list --all --product payments --format json
    """
    from secposture.register.issues import STATUSES, list_issues

    wanted = STATUSES if all_statuses else (statuses or ("open",))

    def rows(tx: Tx) -> tuple[list[dict[str, Any]], int]:
        found, total = list_issues(
            tx, status=wanted, product=product_name, limit=limit, offset=offset
        )
        return [{**i.to_dict(), "title": i.title, "score": i.cvss_score} for i in found], total

    items, total = read_register(db, rows)
    columns = [
        ("id", "id"),
        ("product", "product"),
        ("title", "issue"),
        ("severity", "severity"),
        ("score", "CVSS"),
        ("raised_on", "raised"),
        ("patch_by", "patch by"),
        ("status", "status"),
    ]
    emit_rows(
        fmt,
        "Security issues",
        columns,
        items,
        empty="No issues.",
        footer=page_footer(offset, len(items), total),
        json_value={"total": total, "offset": offset, "limit": limit, "issues": items},
    )


@issue.command("show", epilog=COMMON_EPILOG)
@click.argument("issue_id", type=click.IntRange(min=1), metavar="ID")
@format_option(
    "terminal",
    "markdown",
    "email",
    "json",
    help="markdown for a ticket or chat; email for an RFC 5322 message (pipe to sendmail -t); json for tools.",
)
@click.option(
    "--to",
    metavar="ADDRESS",
    help="--format email: the recipient [default: $SECPOSTURE_SECURITY_EMAIL, the Security "
    "team's address].",
)
@click.option("--from", "sender", metavar="ADDRESS", help="--format email: the sender.")
@click.option(
    "--history",
    "with_history",
    is_flag=True,
    help="Also list every change to the issue (terminal).",
)
@register_options
@errors_as_input
def issue_show(
    issue_id: int,
    fmt: str,
    to: str | None,
    sender: str | None,
    with_history: bool,
    db: str | None,
    actor: str | None,
) -> None:
    """Show an issue: the report to send to the Security team.

    --format email addresses it to $SECPOSTURE_SECURITY_EMAIL (or --to) and dates it in the
    register's time zone ($SECPOSTURE_TIMEZONE, else Europe/London).

    \b
    Examples:
      secposture issue show 3
      secposture issue show 3 --format markdown > sec-3.md
      SECPOSTURE_SECURITY_EMAIL=security@example.org secposture issue show 3 --format email | sendmail -t
    """
    from secposture.register.issues import get_issue
    from secposture.reports import issue_report

    if to:
        recipient = _address("--to", to)
    else:
        recipient = _address(ENV_SECURITY_EMAIL, os.environ.get(ENV_SECURITY_EMAIL))
    from_address = _address("--from", sender)

    def show(tx: Tx) -> tuple[str, dict[str, Any], str]:
        found = get_issue(tx, issue_id)
        if fmt == "markdown":
            text = issue_report.markdown(found)
        elif fmt == "email":
            text = issue_report.email(
                found, to=recipient, sender=from_address, at=tx.now, timezone=tx.timezone
            )
        else:
            text = issue_report.plain(found)
        history = history_text(tx, "issue", found.id) if with_history else ""
        return text, found.to_dict(), history

    text, values, history = read_register(db, show)
    if fmt == "email" and recipient is None:
        click.echo(
            f"note: the message has no To: address; set {ENV_SECURITY_EMAIL} to the Security "
            "team's address (or give --to ADDRESS)",
            err=True,
        )
    if fmt == "json":
        emit_record("json", "", values)
    elif fmt == "terminal":
        from secposture.reports.common import clean

        print_text(
            clean(text, keep_newlines=True)
            + (f"\nHistory\n-------\n{clean(history, keep_newlines=True)}\n" if history else "")
        )
    else:
        print_text(text)


def _address(option: str, value: str | None) -> str | None:
    """An email address for a header: one address, no new lines; `option` is where it came
    from (--to, or the environment variable), for the error."""
    if not value or not value.strip():
        return None
    from email.utils import parseaddr

    from secposture.errors import SecpostureError

    _name, address = parseaddr(value)
    if not address or "@" not in address or any(ch in value for ch in "\r\n"):
        raise SecpostureError(f"{option}: {value[:60]!r} is not an email address")
    return value.strip()


@issue.command("close", epilog=COMMON_EPILOG)
@click.argument("issue_id", type=click.IntRange(min=1), metavar="ID")
@click.option(
    "--resolution", required=True, type=Vocabulary("issue_resolutions"), help="How it ended."
)
@click.option("--note", help="What was done (the version that fixed it, the duplicate's id).")
@click.option("--on", "closed_on", type=DATE, help="When [default: today].")
@format_option()
@register_options
@errors_as_input
def issue_close(
    issue_id: int,
    resolution: str,
    note: str | None,
    closed_on: date | None,
    fmt: str,
    db: str | None,
    actor: str | None,
) -> None:
    """Close an issue: fixed, a duplicate, or not a problem.

    \b
    Example:
      secposture issue close 3 --resolution fixed --note "upgraded xz to 5.6.2"
    """
    from secposture.register.issues import close_issue

    values = write_register(
        db,
        actor,
        lambda tx: close_issue(
            tx, issue_id, resolution=resolution, note=note, closed_on=closed_on
        ).to_dict(),
    )
    done(fmt, f"Closed issue {values['id']} ({values['resolution']}).", values)


@issue.command("cannot-fix", epilog=COMMON_EPILOG)
@click.argument("issue_id", type=click.IntRange(min=1), metavar="ID")
@click.option("--reason", required=True, help="Why it cannot be fixed.")
@click.option("--owner", required=True, metavar="NAME", help="Who owns the resulting risk.")
@click.option("--likelihood", required=True, type=RATING, help="Likelihood 1-5 of the risk.")
@click.option("--impact", required=True, type=RATING, help="Impact 1-5 of the risk.")
@click.option(
    "--treatment",
    type=Vocabulary("treatments"),
    default="tolerate",
    show_default=True,
    help="How the risk is handled.",
)
@click.option(
    "--register",
    type=Vocabulary("risk_registers"),
    default="product",
    show_default=True,
    help="Which risk register.",
)
@click.option("--next-review", type=DATE, help="When to review the risk [default: in 3 months].")
@click.option("--title", help="The risk's title [default: Cannot fix: <the issue>].")
@format_option()
@register_options
@errors_as_input
def issue_cannot_fix(
    issue_id: int,
    reason: str,
    owner: str,
    likelihood: int,
    impact: int,
    treatment: str,
    register: str,
    next_review: date | None,
    title: str | None,
    fmt: str,
    db: str | None,
    actor: str | None,
) -> None:
    """Mark an issue as not fixable: a risk linked to it goes on the register.

    \b
    Example:
      secposture issue cannot-fix 3 --reason "vendor appliance, no patch" \\
          --owner "Jo Bloggs" --likelihood 2 --impact 4
    """
    from secposture.register.issues import CannotFix, cannot_fix

    data = CannotFix(
        reason=reason,
        owner=owner,
        likelihood=likelihood,
        impact=impact,
        treatment=treatment,
        register=register,
        next_review_on=next_review,
        title=title,
    )
    values = write_register(db, actor, lambda tx: cannot_fix(tx, issue_id, data).to_dict())
    done(
        fmt,
        f"Issue {issue_id} cannot be fixed: added risk {values['id']} ({values['title']}), next review {values['next_review_on']}.",
        values,
    )


def add_commands(group: click.Group) -> None:
    """Add `issue` to the `secposture` command group."""
    from secposture.cli.register.issue_send import issue_send

    issue.add_command(issue_send)
    group.add_command(issue)
