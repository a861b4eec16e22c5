"""A security issue as the report the Security team receives: Markdown (a ticket or chat) or an
email message (RFC 5322, plain text). Both lead with the six things Security asks for.

Everything in the issue was typed by a person and is shown literally: Markdown markup, HTML and
@mentions are escaped, links are only ever the http(s) addresses the register checked, and email
headers cannot be split by a new line in a description.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate

from secposture.register.models import SecurityIssue
from secposture.reports.interface import clean
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


def markdown(issue: SecurityIssue) -> str:
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
            *(f"- risk {risk.id}: {md(risk.title)}" for risk in issue.risks),
            "",
        ]
    if issue.resolution:
        lines += ["### Resolution", "", _md_block(issue.resolution), ""]
    return "\n".join(lines)


def plain(issue: SecurityIssue) -> str:
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
        lines += section("Risks", "\n".join(f"risk {r.id}: {r.title}" for r in issue.risks))
    if issue.resolution:
        lines += section("Resolution", issue.resolution)
    return "\n".join(clean(line, keep_newlines=True) for line in lines)


def email(issue: SecurityIssue, *, to: str | None = None, sender: str | None = None) -> str:
    """An RFC 5322 message ready for `sendmail -t` or a mail client (headers folded and encoded;
    a new line in the subject cannot add a header)."""
    message = EmailMessage(policy=SMTP)
    message["Subject"] = " ".join(clean(subject(issue)).split())
    if to:
        message["To"] = to
    if sender:
        message["From"] = sender
    message["Date"] = formatdate(localtime=False)
    message["X-Secposture-Issue"] = str(issue.id)
    body = plain(issue)
    try:  # readable in any mail client; quoted-printable only when a line is too long for SMTP
        message.set_content(body, cte="7bit" if body.isascii() else "8bit")
    except ValueError:
        message.set_content(body, cte="quoted-printable")
    return message.as_string().replace("\r\n", "\n")
