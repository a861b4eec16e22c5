"""What the register calls a field, and what the person who typed it calls it.

The register's checks (validate.py) name the field they refuse by its stored name
(`performed_on`), so the command line, CSV import and the dashboard refuse the same things with the
same words. A person never typed `performed_on`: on the command line they typed `--on`, on the
dashboard they filled in "the date of the test". This table maps one to the others, in one place:
`command_line_message` for the commands (the option the command offers), `form_message` and
`label` for the dashboard's forms. CSV import names the column, which is the stored name.

A test checks that every field name the register's code raises has a row here.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from secposture.register.errors import InvalidField


@dataclass(frozen=True)
class FieldName:
    """How people know a field: the options or arguments that set it (a command offers at most
    one of them), and a label for a form or a sentence."""

    options: tuple[str, ...]
    label: str


def _on(label: str) -> FieldName:
    return FieldName(("--on",), label)


_REPOSITORY_OPTIONS = ("--repo", "--add-repo", "--remove-repo", "--repository")

FIELDS: dict[str, FieldName] = {
    # products
    "name": FieldName(("NAME",), "the name"),
    "owner": FieldName(("--owner",), "the owner"),
    "repository": FieldName(_REPOSITORY_OPTIONS, "the repository"),
    "repositories": FieldName(_REPOSITORY_OPTIONS, "the repositories"),
    "add_repositories": FieldName(("--add-repo",), "the repositories to add"),
    "remove_repositories": FieldName(("--remove-repo",), "the repositories to remove"),
    "remove_repository": FieldName(("--remove-repo",), "the repository to remove"),
    "data_classification": FieldName(("--classification",), "the data classification"),
    "risk_register_level": FieldName(("--risk-register-level",), "the risk register level"),
    "product": FieldName(("--product",), "the product"),
    # threat-model reviews, ITHCs, major changes
    "held_on": _on("the date of the review"),
    "participants": FieldName(("--participant",), "the participants"),
    "method": FieldName(("--method",), "the method"),
    "scope": FieldName(("--scope",), "the scope"),
    "artefact_link": FieldName(("--artefact",), "the link to the threat model"),
    "summary": FieldName(("--summary",), "the summary"),
    "performed_on": _on("the date of the test"),
    "kind": FieldName(("--kind",), "the kind"),
    "supplier": FieldName(("--supplier",), "the supplier"),
    "scheme": FieldName(("--scheme",), "the supplier's accreditation"),
    "report_reference": FieldName(("--report",), "the report's reference"),
    "findings": FieldName(("--critical", "--high", "--medium", "--low", "--info"), "the findings"),
    **{
        f"findings.{severity}": FieldName((f"--{severity}",), f"the number of {severity} findings")
        for severity in ("critical", "high", "medium", "low", "info")
    },
    "changed_on": _on("the date of the change"),
    "trigger": FieldName(("--trigger",), "what triggered the change"),
    "description": FieldName(("--description",), "the description"),
    # security issues
    "reporter": FieldName(("--reporter",), "who raised it"),
    "raised_on": _on("the date it was raised"),
    "cve_ids": FieldName(("--cve",), "the CVE ids"),
    "environment": FieldName(("--environment",), "the OS / environment"),
    "business_context": FieldName(("--business-context",), "the business context"),
    "conversation_links": FieldName(("--conversation",), "the links to recorded conversations"),
    "conversation": FieldName(("--conversation",), "the link to a recorded conversation"),
    "data_at_risk": FieldName(("--data-at-risk",), "the data that could be compromised"),
    "cvss_vector": FieldName(("--cvss",), "the CVSS vector"),
    "severity": FieldName(("--severity",), "the severity"),
    "patch_days": FieldName(("--patch-days",), "the days to patch by severity"),
    "ticket_link": FieldName(("--ticket",), "the ticket link"),
    "ticket": FieldName(("--ticket",), "the ticket link"),
    "resolution": FieldName(("--resolution",), "the resolution"),
    "note": FieldName(("--note",), "the note"),
    "closed_on": _on("the date it was closed"),
    # risks
    "title": FieldName(("--title",), "the title"),
    "register": FieldName(("--register",), "the risk register"),
    "cause": FieldName(("--cause",), "the cause"),
    "event": FieldName(("--event",), "the event"),
    "effect": FieldName(("--effect",), "the effect"),
    "likelihood_before": FieldName(("--likelihood",), "the likelihood before controls"),
    "impact_before": FieldName(("--impact",), "the impact before controls"),
    "likelihood_after": FieldName(("--likelihood-after",), "the likelihood after controls"),
    "impact_after": FieldName(("--impact-after",), "the impact after controls"),
    "likelihood": FieldName(("--likelihood",), "the likelihood"),
    "impact": FieldName(("--impact",), "the impact"),
    "treatment": FieldName(("--treatment",), "the treatment"),
    "actions": FieldName(("--action",), "the actions"),
    "action": FieldName(("--action",), "the action"),
    "add_actions": FieldName(("--action",), "the actions to add"),
    "next_review_on": FieldName(("--next-review",), "the date of the next review"),
    "reviewed_on": _on("the date of the review"),
    "accepted_by": FieldName(("--by",), "who accepts the risk"),
    "accepted_on": _on("the date of the acceptance"),
    "expires_on": FieldName(("--expires",), "the expiry date"),
    "reason": FieldName(("--reason",), "the reason"),
    "issues": FieldName(("--issue",), "the linked issues"),
    "status": FieldName(("--status",), "the status"),
    # waivers
    "control": FieldName(("--control",), "the control"),
    "approver": FieldName(("--approver",), "who approved it"),
    # lists, `due` and the history
    "within": FieldName(("--within",), "the number of days ahead"),
    "sort": FieldName(("--sort",), "the order"),
    "limit": FieldName(("--limit", "--offset"), "the page"),
    "entity": FieldName(("ENTITY",), "the kind of record"),
    "actor": FieldName(("--actor",), "who is making the change"),
    "version": FieldName((), "the version you edited"),
    # dashboard accounts
    "username": FieldName(("USERNAME",), "the user name"),
    "display_name": FieldName(("--name",), "the person's name"),
    "email": FieldName(("--email",), "the email address"),
    "role": FieldName(("--role",), "the role"),
    "password": FieldName(("--password",), "the password"),
    "password_again": FieldName((), "the password, again"),
}


def label(field: str) -> str:
    """The field as a form or a sentence names it: "the date of the test" for performed_on; an
    unknown name reads as words ("some field" for some_field)."""
    known = FIELDS.get(field)
    return known.label if known is not None else field.replace("_", " ").replace(".", " ")


def option(field: str, offered: Collection[str]) -> str | None:
    """The option (or argument) of `offered` that sets `field`, or None when the command has
    none (the field is then named by its label)."""
    known = FIELDS.get(field)
    if known is None:
        return None
    return next((name for name in known.options if name in offered), None)


def command_line_message(error: InvalidField, offered: Collection[str]) -> str:
    """The error as the command line says it, naming the option the person typed:
    "--on (the date of the test): 2027-01-01 is in the future (today is 2026-11-29)"."""
    typed = option(error.field, offered)
    if typed is None:
        return f"{label(error.field)}: {error.detail}"
    return f"{typed} ({label(error.field)}): {error.detail}"


def form_message(error: InvalidField) -> str:
    """The error as a form shows it beside the field or in its error summary:
    "The date of the test: 2027-01-01 is in the future (today is 2026-11-29)"."""
    name = label(error.field)
    return f"{name[:1].upper()}{name[1:]}: {error.detail}"
