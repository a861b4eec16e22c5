"""Security issues: what the Security team needs to act on one (docs/register.md), with a
patch-by date from its severity. An issue that cannot be fixed becomes a risk on the register."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from secposture.register import validate, vocabulary
from secposture.register.database import Tx
from secposture.register.errors import Duplicate, InvalidField, NotFound
from secposture.register.history import record
from secposture.register.models import Risk, SecurityIssue
from secposture.register.products import active_product, get_product
from secposture.register.severity import parse_cve_ids, patch_by, score_vector

OPEN, FIXED, CANNOT_FIX, CLOSED = "open", "fixed", "cannot_fix", "closed"
STATUSES = (OPEN, FIXED, CANNOT_FIX, CLOSED)

# The six things Security asks for, in the order its report shows them.
SIX = (
    ("cve_ids", "CVE ids (if any)"),
    ("environment", "OS / environment"),
    ("description", "Description"),
    ("business_context", "Business context"),
    ("conversation_links", "Links to recorded conversations"),
    ("data_at_risk", "Data that could be compromised"),
)


@dataclass
class IssueInput:
    """What `issue raise` asks for. `severity` None: the CVSS vector's severity. `patch_days`
    None: the MoJ schedule (critical/high 7 days, medium 28, low 90)."""

    product: str
    reporter: str
    environment: str
    description: str
    business_context: str
    data_at_risk: str
    cvss_vector: str
    ticket_link: str
    conversation_links: list[str] = field(default_factory=list)
    cve_ids: str = ""
    severity: str | None = None
    raised_on: date | None = None
    patch_days: Mapping[str, int] | None = None


def raise_issue(tx: Tx, data: IssueInput) -> SecurityIssue:
    owner = active_product(tx, data.product)
    raised_on = validate.not_future("raised_on", data.raised_on or tx.today, tx.today)
    try:
        cves = parse_cve_ids(data.cve_ids or "", today=tx.today)
    except ValueError as exc:
        raise InvalidField("cve_ids", str(exc)) from None
    try:
        score = score_vector(validate.line("cvss_vector", data.cvss_vector))
    except ValueError as exc:
        raise InvalidField("cvss_vector", str(exc)) from None
    severity = _severity(data.severity, score.severity, score.base_score)
    try:
        due = patch_by(severity, raised_on, data.patch_days)
    except ValueError as exc:
        raise InvalidField("patch_days", str(exc)) from None
    ticket = validate.url("ticket_link", data.ticket_link)
    same = tx.session.scalars(
        select(SecurityIssue).where(
            SecurityIssue.product_id == owner.id,
            SecurityIssue.ticket_link == ticket,
            SecurityIssue.status == OPEN,
        )
    ).first()
    if same is not None:
        raise Duplicate(f"{same.label} is already open for {owner.name} with ticket {ticket}")
    issue = SecurityIssue(
        product=owner,
        reporter=validate.line("reporter", data.reporter),
        raised_on=raised_on,
        cve_ids=cves,
        environment=validate.text("environment", data.environment),
        description=validate.text("description", data.description),
        business_context=validate.text("business_context", data.business_context),
        conversation_links=validate.urls("conversation_links", data.conversation_links),
        data_at_risk=validate.text("data_at_risk", data.data_at_risk),
        cvss_vector=score.vector,
        cvss_version=score.version,
        cvss_score=score.base_score,
        cvss_severity=score.severity,
        severity=severity,
        patch_by=due,
        ticket_link=ticket,
        status=OPEN,
    )
    record(tx, issue, "raised", None)
    return issue


def _severity(given: str | None, scored: str, base_score: float) -> str:
    """The team's severity: as given (it may weigh business context), else the vector's."""
    options = vocabulary.choices("issue_severities")
    if given is not None and given.strip():
        return validate.choice("severity", given, options)
    if scored not in options:
        raise InvalidField(
            "severity",
            f"the CVSS vector scores {base_score} ({scored}): give the severity (low or higher)",
        )
    return scored


def get_issue(tx: Tx, issue_id: int, *, for_update: bool = False) -> SecurityIssue:
    query = select(SecurityIssue).where(SecurityIssue.id == issue_id)
    if for_update:
        query = query.with_for_update(of=SecurityIssue)
    issue = tx.session.scalars(query).first()
    if issue is None:
        raise NotFound(f"no issue {issue_id} (secposture issue list shows them)")
    return issue


def list_issues(
    tx: Tx,
    *,
    status: Iterable[str] = (OPEN,),
    product: str | None = None,
    patch_by_before: date | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[SecurityIssue], int]:
    """Issues with a status (default open), soonest patch-by first; and how many in all."""
    statuses = [validate.choice("status", s, STATUSES) for s in status]
    query = select(SecurityIssue)
    if statuses:
        query = query.where(SecurityIssue.status.in_(statuses))
    if product:
        query = query.where(SecurityIssue.product_id == get_product(tx, product).id)
    if patch_by_before is not None:
        query = query.where(SecurityIssue.patch_by < patch_by_before)
    total = tx.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = tx.session.scalars(
        query.order_by(SecurityIssue.patch_by, SecurityIssue.id).limit(limit).offset(offset)
    )
    return list(rows), total


def close_issue(
    tx: Tx,
    issue_id: int,
    *,
    resolution: str,
    note: str | None = None,
    closed_on: date | None = None,
) -> SecurityIssue:
    """Fixed, a duplicate, or not a problem after all (the note says why)."""
    issue = get_issue(tx, issue_id, for_update=True)
    _must_be_open(issue)
    kind = validate.choice("resolution", resolution, vocabulary.choices("issue_resolutions"))
    before = issue.to_dict()
    issue.status = FIXED if kind == "fixed" else CLOSED
    issue.resolution = kind if not note else f"{kind}: {validate.text('note', note)}"
    issue.closed_on = _closing_day(tx, issue, closed_on)
    record(tx, issue, "closed", before)
    return issue


@dataclass
class CannotFix:
    """Why an issue cannot be fixed, and the risk it leaves (its owner and ratings)."""

    reason: str
    owner: str
    likelihood: int
    impact: int
    treatment: str = "tolerate"
    register: str = "product"
    next_review_on: date | None = None
    title: str | None = None


def cannot_fix(tx: Tx, issue_id: int, data: CannotFix) -> Risk:
    """Mark the issue as not fixable and put the risk it leaves on the register, linked to it."""
    from secposture.register.risks import RiskInput, add_risk

    issue = get_issue(tx, issue_id, for_update=True)
    _must_be_open(issue)
    reason = validate.text("reason", data.reason)
    before = issue.to_dict()
    risk = add_risk(
        tx,
        RiskInput(
            title=data.title or f"Cannot fix: {issue.title}",
            register=data.register,
            product=issue.product.name,
            cause=f"{issue.description}\n\nCannot be fixed: {reason}",
            event=f"The unfixed issue ({issue.label}, {issue.severity}) is exploited",
            effect=f"Data at risk: {issue.data_at_risk}",
            owner=data.owner,
            likelihood_before=data.likelihood,
            impact_before=data.impact,
            treatment=data.treatment,
            next_review_on=data.next_review_on,
            issues=[issue.id],
        ),
        note_links=False,  # the issue's own history row below shows the link
    )
    issue.status = CANNOT_FIX
    issue.resolution = f"cannot fix: {reason}"
    issue.closed_on = tx.today
    record(tx, issue, "cannot_fix", before)
    return risk


def _must_be_open(issue: SecurityIssue) -> None:
    if issue.status != OPEN:
        raise InvalidField("status", f"{issue.label} is {issue.status.replace('_', ' ')}, not open")


def _closing_day(tx: Tx, issue: SecurityIssue, day: date | None) -> date:
    closed = validate.not_future("closed_on", day or tx.today, tx.today)
    return validate.after("closed_on", closed, issue.raised_on, "the day it was raised")
