"""Security issues: the form with the six things Security asks for, the report to send, and
for architects the list, closing and "cannot fix" (which puts a linked risk on the register).

An engineer may raise issues and read the ones they raised themselves (the history says who
raised each), with a linked risk shown only as its number and status (ADR 0013); every other
issue is for architect, security and admin only."""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from sqlalchemy import select
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from secposture.redaction import redact
from secposture.register import issues as issue_api
from secposture.register.database import Tx
from secposture.register.deliveries import deliveries_of
from secposture.register.delivery.config import configured
from secposture.register.errors import RegisterError
from secposture.register.models import History
from secposture.register.products import list_products
from secposture.reports import issue_report
from secposture.web import queries
from secposture.web.auth import SignedIn
from secposture.web.context import (
    CanManageIssues,
    CanRaiseIssue,
    CanViewIssues,
    PostedForm,
    database,
)
from secposture.web.rendering import page
from secposture.web.routes.products import vocabularies

router = APIRouter()
PAGE = 50
ENV_SECURITY_EMAIL = "SECPOSTURE_SECURITY_EMAIL"
STATUS_FILTERS = ("open", "fixed", "cannot_fix", "closed", "all")


@router.get("/issues")
def issues_page(
    request: Request,
    user: CanViewIssues,
    status: str = "open",
    product: str = "",
    page_number: int = Query(1, alias="page"),
) -> Response:
    chosen = status if status in STATUS_FILTERS else "open"
    statuses = issue_api.STATUSES if chosen == "all" else (chosen,)
    number = max(1, min(page_number, 100_000))

    def read(tx: Tx) -> dict[str, Any]:
        found, total = issue_api.list_issues(
            tx,
            status=statuses,
            product=product.strip() or None,
            limit=PAGE,
            offset=(number - 1) * PAGE,
        )
        return {
            "issues": [{**i.to_dict(), "title": i.title} for i in found],
            "total": total,
            "products": [p.name for p in list_products(tx)],
        }

    data = database(request).read(read)
    return page(
        request,
        "issues.html",
        {
            **data,
            "status": chosen,
            "status_filters": STATUS_FILTERS,
            "product": product.strip(),
            "page_number": number,
            "pages": max(1, -(-data["total"] // PAGE)),
        },
    )


@router.get("/issues/new")
def issue_form(request: Request, user: CanRaiseIssue) -> Response:
    return _issue_form(request, user)


def _issue_form(
    request: Request,
    user: SignedIn,
    error: str | RegisterError | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    products = database(request).read(lambda tx: [p.name for p in list_products(tx)])
    return page(
        request,
        "issue_form.html",
        {
            "products": products,
            **vocabularies(),
            "six": issue_api.SIX,
            "error": error,
            "values": values or {},
            "failed_form": "issue" if error else None,
            "reporter": user.display_name,
        },
        status_code=400 if error else 200,
    )


@router.post("/issues")
def issue_raise(request: Request, user: CanRaiseIssue, form: PostedForm) -> Response:
    def add(tx: Tx) -> int:
        data = issue_api.IssueInput(
            product=form.text("product"),
            reporter=form.text("reporter") or user.display_name,
            environment=form.text("environment"),
            description=form.text("description"),
            business_context=form.text("business_context"),
            data_at_risk=form.text("data_at_risk"),
            cvss_vector=form.text("cvss_vector"),
            ticket_link=form.text("ticket_link"),
            conversation_links=form.lines("conversation_links"),
            cve_ids=form.text("cve_ids"),
            severity=form.optional("severity"),
            raised_on=form.day("raised_on"),
        )
        return issue_api.raise_issue(tx, data).id

    try:
        issue_id = database(request).write(user.actor, add)
    except RegisterError as exc:
        return _issue_form(request, user, exc, form.values())
    request.session["flash"] = "Issue raised. Send the report below to the Security team."
    return RedirectResponse(f"/issues/{issue_id}", status_code=303)


def raised_by(tx: Tx, issue_id: int, actor: str) -> bool:
    found = tx.session.scalar(
        select(History.id)
        .where(
            History.entity == "issue",
            History.entity_id == issue_id,
            History.action == "raised",
            History.actor == actor,
        )
        .limit(1)
    )
    return found is not None


def risk_details(user: SignedIn) -> bool:
    """Whether the issue's pages and downloads show its linked risks' register details (title,
    the reason it cannot be fixed) or only their numbers and status: ADR 0013. The engineer who
    raised an issue learns what became of it, not what the risk register says."""
    return user.can("view_risks")


def _readable(tx: Tx, user: SignedIn, issue_id: int) -> None:
    """Architects and up read every issue; an engineer only the ones they raised."""
    if user.can("view_issues") or raised_by(tx, issue_id, user.actor):
        return
    raise HTTPException(
        403, f"Your role ({user.role}) reads only the issues you raised: this needs architect."
    )


@router.get("/issues/{issue_id}")
def issue_page(request: Request, user: CanRaiseIssue, issue_id: int) -> Response:
    return issue_view(request, user, issue_id)


def issue_view(
    request: Request,
    user: SignedIn,
    issue_id: int,
    *,
    error: str | RegisterError | None = None,
    values: dict[str, str] | None = None,
    failed_form: str | None = None,
) -> Response:
    details = risk_details(user)

    def read(tx: Tx) -> dict[str, Any]:
        _readable(tx, user, issue_id)
        issue = issue_api.get_issue(tx, issue_id)
        facts = {**issue.to_dict(), "title": issue.title, "product_id": issue.product.id}
        facts["resolution"] = issue_report.resolution(issue, risk_details=details)
        return {
            "issue": facts,
            "risks": [
                {"id": r.id, "status": r.status, "title": r.title if details else None}
                for r in issue.risks
            ],
            "markdown": issue_report.markdown(issue, risk_details=details),
            "subject": issue_report.subject(issue),
            "plain": issue_report.plain(issue, risk_details=details),
            "history": queries.history_rows(tx, "issue", issue.id)
            if user.can("view_issues")
            else [],
            "deliveries": [d.to_dict() for d in deliveries_of(tx, issue.id)]
            if user.can("manage_issues")
            else [],
        }

    data = database(request).read(read)
    for row in data["history"]:
        if row["action"].startswith("sent"):
            row["fields"] = []  # a delivery changes no field: the table below says where it went
    return page(
        request,
        "issue.html",
        {
            **data,
            **vocabularies(),
            "six": issue_api.SIX,
            "security_email": os.environ.get(ENV_SECURITY_EMAIL, ""),
            "send_channels": configured() if user.can("manage_issues") else [],
            "error": error,
            "values": values or {},
            "failed_form": failed_form,
        },
        status_code=400 if error else 200,
    )


@router.get("/issues/{issue_id}/report.md")
def issue_markdown(request: Request, user: CanRaiseIssue, issue_id: int) -> Response:
    def read(tx: Tx) -> str:
        _readable(tx, user, issue_id)
        issue = issue_api.get_issue(tx, issue_id)
        return issue_report.markdown(issue, risk_details=risk_details(user))

    text = database(request).read(read)
    return _download(text, f"security-issue-{issue_id}.md", "text/markdown; charset=utf-8")


@router.get("/issues/{issue_id}/report.eml")
def issue_email(request: Request, user: CanRaiseIssue, issue_id: int) -> Response:
    to = os.environ.get(ENV_SECURITY_EMAIL) or None

    def read(tx: Tx) -> str:
        _readable(tx, user, issue_id)
        issue = issue_api.get_issue(tx, issue_id)
        return issue_report.email(issue, to=to, risk_details=risk_details(user))

    text = database(request).read(read)
    return _download(text, f"security-issue-{issue_id}.eml", "message/rfc822")


def _download(text: str, filename: str, media_type: str) -> Response:
    return PlainTextResponse(
        text,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.post("/issues/{issue_id}/send")
def issue_send(
    request: Request, user: CanManageIssues, issue_id: int, form: PostedForm
) -> Response:
    """Deliver the report over every configured channel (docs/sending-issues.md); only what a
    channel confirmed is recorded, and a failure is shown with what failed (ADR 0018)."""
    from secposture.errors import SecpostureError
    from secposture.register.delivery.config import channels_from_env
    from secposture.register.delivery.send import send_issue

    try:
        channels = channels_from_env()
        outcome = send_issue(database(request), user.actor, issue_id, channels)
    except (RegisterError, SecpostureError) as exc:
        return issue_view(request, user, issue_id, error=redact(str(exc)), failed_form="send")
    problems = [str(f) for f in outcome.failed] + [
        f"{u.result.channel}: delivered to {u.result.destination} but not recorded: {u.problem}"
        for u in outcome.unrecorded
    ]
    sent = [f"{d['channel']} ({'update' if d['update'] else 'report'})" for d in outcome.delivered]
    if problems:
        said = "; ".join(problems)
        if sent:
            said = f"Sent over {', '.join(sent)}. Not sent: {said}"
        return issue_view(request, user, issue_id, error=redact(said), failed_form="send")
    request.session["flash"] = f"Sent to Security over {', '.join(sent)}."
    return RedirectResponse(f"/issues/{issue_id}", status_code=303)


@router.post("/issues/{issue_id}/close")
def issue_close(
    request: Request, user: CanManageIssues, issue_id: int, form: PostedForm
) -> Response:
    def close(tx: Tx) -> None:
        issue_api.close_issue(
            tx,
            issue_id,
            resolution=form.text("resolution"),
            note=form.optional("note"),
            closed_on=form.day("closed_on"),
        )

    try:
        database(request).write(user.actor, close)
    except RegisterError as exc:
        return issue_view(
            request, user, issue_id, error=exc, values=form.values(), failed_form="close"
        )
    request.session["flash"] = "Issue closed."
    return RedirectResponse(f"/issues/{issue_id}", status_code=303)


@router.post("/issues/{issue_id}/cannot-fix")
def issue_cannot_fix(
    request: Request, user: CanManageIssues, issue_id: int, form: PostedForm
) -> Response:
    def mark(tx: Tx) -> int:
        likelihood = form.number("likelihood")
        impact = form.number("impact")
        risk = issue_api.cannot_fix(
            tx,
            issue_id,
            issue_api.CannotFix(
                reason=form.text("reason"),
                owner=form.text("owner"),
                likelihood=likelihood if likelihood is not None else 0,
                impact=impact if impact is not None else 0,
                treatment=form.text("treatment") or "tolerate",
                register=form.text("register") or "product",
                next_review_on=form.day("next_review_on"),
                title=form.optional("title"),
            ),
        )
        return risk.id

    try:
        risk_id = database(request).write(user.actor, mark)
    except RegisterError as exc:
        return issue_view(
            request, user, issue_id, error=exc, values=form.values(), failed_form="cannot-fix"
        )
    request.session["flash"] = f"Issue {issue_id} cannot be fixed: risk {risk_id} records it."
    return RedirectResponse(f"/risks/{risk_id}", status_code=303)
