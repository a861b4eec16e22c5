"""A security issue as the report the Security team receives: Markdown (a ticket or chat) or an
email message (RFC 5322, plain text). Both lead with the six things Security asks for.

Everything in the issue was typed by a person and is shown literally: Markdown markup, HTML and
@mentions are escaped, links are only ever the http(s) addresses the register checked, and email
headers cannot be split by a new line in a description.

`risk_details=False` is the report as the engineer who raised the issue reads it in the
dashboard (ADR 0013): a linked risk is its number and status, and a cannot-fix issue's reason
(the risk's cause) is left out; the register's details are for architects and Security.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from zoneinfo import ZoneInfo

from secposture.register.database import DEFAULT_TIMEZONE
from secposture.register.models import SecurityIssue
from secposture.reports.common import clean
from secposture.reports.markdown_format import md


def _md_block(text: str) -> str:
    """Multi-line text as literal Markdown paragraphs (md() escapes one line at a time)."""
    return "\n".join(md(line) if line.strip() else "" for line in text.splitlines())


def _md_link(url: str) -> str:
    # The register only stores http(s) URLs without spaces; <...> keeps parentheses intact.
    return f"<{url.replace('>', '%3E').replace('<', '%3C')}>"


def subject(issue: SecurityIssue) -> str:
    cves = f" {', '.join(issue.cve_ids)}" if issue.cve_ids else ""
    return (
        f"[{issue.severity.upper()}] Security issue {issue.id} in {issue.product.name}:{cves} "
        f"{issue.title}"
    )


CANNOT_FIX = "cannot_fix"
RECORDED_AS_RISK = "cannot fix: recorded as a risk on the register"


def resolution(issue: SecurityIssue, *, risk_details: bool = True) -> str | None:
    """How the issue was resolved; without the register's details, a cannot-fix issue says only
    that (its reason is the linked risk's cause)."""
    if not risk_details and issue.status == CANNOT_FIX:
        return RECORDED_AS_RISK
    return issue.resolution


def risk_lines(
    issue: SecurityIssue, *, risk_details: bool = True, escape: Callable[[str], str] = str
) -> list[str]:
    """One line per linked risk: its title (through `escape`), or without the register's
    details its status (a word of the register's own)."""
    if risk_details:
        return [f"risk {risk.id}: {escape(risk.title)}" for risk in issue.risks]
    return [f"risk {risk.id} ({risk.status})" for risk in issue.risks]


def markdown(issue: SecurityIssue, *, risk_details: bool = True) -> str:
    cvss = f"{issue.cvss_score} ({issue.cvss_severity}), CVSS {issue.cvss_version} `{issue.cvss_vector}`"
    lines = [
        f"## {md(subject(issue))}",
        "",
        "| | |",
        "|---|---|",
        f"| Product | {md(issue.product.name)} |",
        f"| Severity | **{issue.severity}**; patch by **{issue.patch_by}** |",
        f"| CVSS | {cvss} |",
        f"| Raised | {issue.raised_on} by {md(issue.reporter)} |",
        f"| Ticket | {_md_link(issue.ticket_link)} |",
        f"| Status | {issue.status.replace('_', ' ')} |",
        "",
        "### CVE ids",
        "",
        ", ".join(issue.cve_ids) if issue.cve_ids else "None known.",
        "",
        "### OS / environment",
        "",
        _md_block(issue.environment),
        "",
        "### Description",
        "",
        _md_block(issue.description),
        "",
        "### Business context",
        "",
        _md_block(issue.business_context),
        "",
        "### Recorded conversations",
        "",
        *(f"- {_md_link(link)}" for link in issue.conversation_links),
        "",
        "### Data that could be compromised",
        "",
        _md_block(issue.data_at_risk),
        "",
    ]
    if issue.risks:
        lines += [
            "### Risks",
            "",
            *(f"- {line}" for line in risk_lines(issue, risk_details=risk_details, escape=md)),
            "",
        ]
    resolved = resolution(issue, risk_details=risk_details)
    if resolved:
        lines += ["### Resolution", "", _md_block(resolved), ""]
    return "\n".join(lines)


def plain(issue: SecurityIssue, *, risk_details: bool = True) -> str:
    """The email body: the same sections as plain text."""

    def section(title: str, body: str) -> list[str]:
        return [title, "-" * len(title), clean(body, keep_newlines=True), ""]

    lines = [
        subject(issue),
        "",
        f"Product:   {issue.product.name}",
        f"Severity:  {issue.severity}; patch by {issue.patch_by}",
        f"CVSS:      {issue.cvss_score} ({issue.cvss_severity}), CVSS {issue.cvss_version} {issue.cvss_vector}",
        f"Raised:    {issue.raised_on} by {issue.reporter}",
        f"Ticket:    {issue.ticket_link}",
        f"Status:    {issue.status.replace('_', ' ')}",
        "",
        *section("CVE ids", ", ".join(issue.cve_ids) or "None known."),
        *section("OS / environment", issue.environment),
        *section("Description", issue.description),
        *section("Business context", issue.business_context),
        *section("Recorded conversations", "\n".join(issue.conversation_links)),
        *section("Data that could be compromised", issue.data_at_risk),
    ]
    if issue.risks:
        lines += section("Risks", "\n".join(risk_lines(issue, risk_details=risk_details)))
    resolved = resolution(issue, risk_details=risk_details)
    if resolved:
        lines += section("Resolution", resolved)
    return "\n".join(clean(line, keep_newlines=True) for line in lines)


# RFC 5322 2.1.1: a line is at most 998 octets; a longer one cannot travel as 7bit or 8bit.
MAX_LINE_OCTETS = 998


def email(
    issue: SecurityIssue,
    *,
    to: str | None = None,
    sender: str | None = None,
    risk_details: bool = True,
    at: datetime | None = None,
    timezone: str = DEFAULT_TIMEZONE,
) -> str:
    """An RFC 5322 message ready for `sendmail -t` or a mail client (headers folded and encoded;
    a new line in the subject cannot add a header; `to` and `sender` are checked addresses).

    The body is the text itself (7bit or 8bit UTF-8) so the message reads and pastes as it is;
    quoted-printable only when a line is longer than SMTP allows. The Date is `at` (the moment
    the message is made; default: the issue's last change) with the real UTC offset of the
    register's `timezone` then: Europe/London is +0000 in winter and +0100 in summer."""
    message = email_message(
        issue, to=to, sender=sender, risk_details=risk_details, at=at, timezone=timezone
    )
    # Bytes, not as_string(): the string generator turns an 8bit body into base64.
    return message.as_bytes().decode("utf-8").replace("\r\n", "\n")


def email_message(
    issue: SecurityIssue,
    *,
    to: str | None = None,
    sender: str | None = None,
    risk_details: bool = True,
    at: datetime | None = None,
    timezone: str = DEFAULT_TIMEZONE,
    message_id: str | None = None,
    replying_to: str | None = None,
    preface: str | None = None,
    subject_prefix: str = "",
) -> EmailMessage:
    """The message `email` prints, as `issue send` delivers it: with its own Message-ID, and
    for an update a `preface` line on top and In-Reply-To the earlier message (so it threads)."""
    message = EmailMessage(policy=SMTP)
    title = " ".join(clean(subject(issue)).split())
    message["Subject"] = f"{subject_prefix}{title}"
    if to:
        message["To"] = to
    if sender:
        message["From"] = sender
    moment = at or issue.updated_at
    if moment.tzinfo is None:  # the register stores UTC
        moment = moment.replace(tzinfo=UTC)
    message["Date"] = format_datetime(moment.astimezone(ZoneInfo(timezone)).replace(microsecond=0))
    if message_id:
        message["Message-ID"] = message_id
    if replying_to:
        message["In-Reply-To"] = replying_to
        message["References"] = replying_to
    message["X-Secposture-Issue"] = str(issue.id)
    body = plain(issue, risk_details=risk_details)
    if preface:
        body = f"{clean(preface)}\n\n{body}"
    if any(len(line.encode("utf-8")) > MAX_LINE_OCTETS for line in body.splitlines()):
        cte = "quoted-printable"
    else:
        cte = "7bit" if body.isascii() else "8bit"
    message.set_content(body, cte=cte)
    return message
