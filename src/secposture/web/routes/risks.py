"""The risk register: filter, sort and page (50 a page) in the database, export CSV, add, and
a risk's page with review, accept (security and admin), close and add-action forms. Forms carry
the risk's version, so a change made from an old page is refused rather than overwriting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import RedirectResponse, Response

from secposture.register import csv_io
from secposture.register import risks as risk_api
from secposture.register.database import Tx
from secposture.register.errors import InvalidField, RegisterError
from secposture.register.products import list_products
from secposture.web import queries
from secposture.web.auth import SignedIn
from secposture.web.context import (
    CanAcceptRisks,
    CanManageRisks,
    CanViewRisks,
    PostedForm,
    database,
    state,
)
from secposture.web.rendering import page
from secposture.web.routes.products import vocabularies

router = APIRouter()
STATUS_FILTERS = {
    "current": (risk_api.OPEN, risk_api.ACCEPTED),
    "open": (risk_api.OPEN,),
    "accepted": (risk_api.ACCEPTED,),
    "closed": (risk_api.CLOSED,),
    "all": (),
}


@dataclass(frozen=True)
class RiskQuery:
    """The list's filters as given in the address, checked."""

    status: str = "current"
    register: str = ""
    product: str = ""
    owner: str = ""
    treatment: str = ""
    min_score: int | None = None
    text: str = ""
    review_due: bool = False
    sort: str = "id"
    desc: bool = False

    def filters(self, today: date) -> risk_api.RiskFilter:
        return risk_api.RiskFilter(
            status=STATUS_FILTERS[self.status],
            register=self.register or None,
            product=self.product or None,
            owner=self.owner or None,
            treatment=self.treatment or None,
            min_score=self.min_score,
            review_due_by=today if self.review_due else None,
            text=self.text or None,
        )

    def params(self) -> dict[str, Any]:
        """For links that keep the filters (sorting, pages, export)."""
        return {
            "status": self.status if self.status != "current" else "",
            "register": self.register,
            "product": self.product,
            "owner": self.owner,
            "treatment": self.treatment,
            "min_score": self.min_score if self.min_score is not None else "",
            "text": self.text,
            "review_due": "1" if self.review_due else "",
            "sort": self.sort if self.sort != "id" else "",
            "desc": "1" if self.desc else "",
        }


def risk_query(
    status: str = "current",
    register: str = "",
    product: str = "",
    owner: str = "",
    treatment: str = "",
    min_score: str = "",
    text: str = "",
    review_due: str = "",
    sort: str = "id",
    desc: str = "",
) -> RiskQuery:
    score = int(min_score) if min_score.strip().isdigit() else None
    return RiskQuery(
        status=status if status in STATUS_FILTERS else "current",
        register=register.strip()[:40],
        product=product.strip()[:200],
        owner=owner.strip()[:200],
        treatment=treatment.strip()[:40],
        min_score=score if score is not None and score <= 25 else None,
        text=text.strip()[:200],
        review_due=review_due in ("1", "on", "true"),
        sort=sort if sort in risk_api.SORTS else "id",
        desc=desc in ("1", "on", "true"),
    )


# The list's filters as query parameters, read the same way by the page and its CSV export.
RiskFilters = Annotated[RiskQuery, Depends(risk_query)]


@router.get("/risks")
def risks_page(
    request: Request,
    user: CanViewRisks,
    wanted: RiskFilters,
    page_number: int = Query(1, alias="page"),
) -> Response:
    per_page = state(request).settings.risks_per_page
    number = max(1, min(page_number, 1_000_000))

    def read(tx: Tx) -> dict[str, Any]:
        try:
            found = risk_api.list_risks(
                tx,
                wanted.filters(tx.today),
                sort=wanted.sort,
                descending=wanted.desc,
                limit=per_page,
                offset=(number - 1) * per_page,
            )
            error: RegisterError | None = None
        except RegisterError as exc:  # an unknown product or register in the address
            found, error = risk_api.Page([], 0, per_page, 0), exc
        return {
            "risks": [_row(r) for r in found.items],
            "total": found.total,
            "products": [p.name for p in list_products(tx)],
            "error": error,
        }

    data = database(request).read(read)
    return page(
        request,
        "risks.html",
        {
            **data,
            **vocabularies(),
            "q": wanted,
            "params": wanted.params(),
            "status_filters": list(STATUS_FILTERS),
            "sorts": list(risk_api.SORTS),
            "page_number": number,
            "pages": max(1, -(-data["total"] // per_page)),
        },
        status_code=400 if data["error"] else 200,
    )


def _row(risk: Any) -> dict[str, Any]:
    return {
        "id": risk.id,
        "title": risk.title,
        "register": risk.register,
        "product": risk.product.name if risk.product is not None else None,
        "owner": risk.owner,
        "score_before": risk.score_before,
        "score_after": risk.score_after,
        "treatment": risk.treatment,
        "status": risk.status,
        "next_review_on": risk.next_review_on,
        "expires_on": risk.expires_on,
    }


@router.get("/risks/export.csv")
def risks_export(request: Request, user: CanViewRisks, wanted: RiskFilters) -> Response:

    def read(tx: Tx) -> str:
        return csv_io.risks_to_csv(
            risk_api.iter_risks(tx, wanted.filters(tx.today), sort=wanted.sort)
        )

    body = database(request).read(read)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="risks.csv"'},
    )


@router.get("/risks/new")
def risk_new(request: Request, user: CanManageRisks) -> Response:
    return _risk_form(request)


def _risk_form(
    request: Request, error: str | RegisterError | None = None, values: dict[str, str] | None = None
) -> Response:
    products = database(request).read(lambda tx: [p.name for p in list_products(tx)])
    return page(
        request,
        "risk_form.html",
        {
            "products": products,
            **vocabularies(),
            "error": error,
            "values": values or {},
            "failed_form": "risk" if error else None,
        },
        status_code=400 if error else 200,
    )


@router.post("/risks")
def risk_add(request: Request, user: CanManageRisks, form: PostedForm) -> Response:
    def add(tx: Tx) -> int:
        data = risk_api.RiskInput(
            title=form.text("title"),
            register=form.text("register"),
            product=form.optional("product"),
            cause=form.text("cause"),
            event=form.text("event"),
            effect=form.text("effect"),
            owner=form.text("owner"),
            likelihood_before=form.text("likelihood_before"),
            impact_before=form.text("impact_before"),
            likelihood_after=form.optional("likelihood_after"),
            impact_after=form.optional("impact_after"),
            treatment=form.text("treatment"),
            actions=form.lines("actions"),
            next_review_on=form.day("next_review_on"),
            issues=_issue_ids(form.text("issues")),
        )
        return risk_api.add_risk(tx, data).id

    try:
        risk_id = database(request).write(user.actor, add)
    except RegisterError as exc:
        return _risk_form(request, exc, form.values())
    request.session["flash"] = "Risk added."
    return RedirectResponse(f"/risks/{risk_id}", status_code=303)


def _issue_ids(text: str) -> list[int]:
    ids = []
    for item in text.replace(",", " ").split():
        if not item.isdigit():
            raise InvalidField("issues", f"{item[:20]!r} is not an issue number")
        ids.append(int(item))
    return ids


@router.get("/risks/{risk_id}")
def risk_page(request: Request, user: CanViewRisks, risk_id: int) -> Response:
    return risk_view(request, user, risk_id)


def risk_view(
    request: Request,
    user: SignedIn,
    risk_id: int,
    *,
    error: str | RegisterError | None = None,
    values: dict[str, str] | None = None,
    failed_form: str | None = None,
    status_code: int = 400,
) -> Response:
    def read(tx: Tx) -> dict[str, Any]:
        risk = risk_api.get_risk(tx, risk_id)
        return {
            "risk": {
                **risk.to_dict(),
                "product_id": risk.product.id if risk.product is not None else None,
            },
            "linked_issues": [{"id": i.id, "title": i.title} for i in risk.issues],
            "history": queries.history_rows(tx, "risk", risk.id),
            "today": tx.today,
        }

    data = database(request).read(read)
    return page(
        request,
        "risk.html",
        {
            **data,
            **vocabularies(),
            "error": error,
            "values": values or {},
            "failed_form": failed_form,
        },
        status_code=status_code if error else 200,
    )


def _change(
    request: Request,
    user: SignedIn,
    risk_id: int,
    form_name: str,
    values: dict[str, str],
    write: Any,
    done: str,
) -> Response:
    try:
        database(request).write(user.actor, write)
    except RegisterError as exc:
        from secposture.register.errors import Conflict

        return risk_view(
            request,
            user,
            risk_id,
            error=exc,
            values=values,
            failed_form=form_name,
            status_code=409 if isinstance(exc, Conflict) else 400,
        )
    request.session["flash"] = done
    return RedirectResponse(f"/risks/{risk_id}", status_code=303)


@router.post("/risks/{risk_id}/review")
def risk_review(request: Request, user: CanManageRisks, risk_id: int, form: PostedForm) -> Response:
    def review(tx: Tx) -> None:
        risk_api.review_risk(
            tx,
            risk_id,
            reviewed_on=form.day("reviewed_on"),
            next_review_on=form.day("next_review_on"),
            likelihood_after=form.optional("likelihood_after"),
            impact_after=form.optional("impact_after"),
            treatment=form.optional("treatment"),
            owner=form.optional("owner"),
            add_actions=form.lines("add_actions"),
            expected_version=form.number("version"),
        )

    return _change(request, user, risk_id, "review", form.values(), review, "Review recorded.")


@router.post("/risks/{risk_id}/accept")
def risk_accept(request: Request, user: CanAcceptRisks, risk_id: int, form: PostedForm) -> Response:
    def accept(tx: Tx) -> None:
        expires = form.day("expires_on")
        if expires is None:
            raise InvalidField("expires_on", "required: an acceptance has an expiry date")
        risk_api.accept_risk(
            tx,
            risk_id,
            accepted_by=form.text("accepted_by") or user.display_name,
            expires_on=expires,
            accepted_on=form.day("accepted_on"),
            expected_version=form.number("version"),
        )

    return _change(request, user, risk_id, "accept", form.values(), accept, "Risk accepted.")


@router.post("/risks/{risk_id}/close")
def risk_close(request: Request, user: CanManageRisks, risk_id: int, form: PostedForm) -> Response:
    def close(tx: Tx) -> None:
        risk_api.close_risk(
            tx,
            risk_id,
            reason=form.text("reason"),
            closed_on=form.day("closed_on"),
            expected_version=form.number("version"),
        )

    return _change(request, user, risk_id, "close", form.values(), close, "Risk closed.")


@router.post("/risks/{risk_id}/actions")
def risk_action(request: Request, user: CanManageRisks, risk_id: int, form: PostedForm) -> Response:
    def add(tx: Tx) -> None:
        if not form.text("action").strip():
            raise InvalidField("action", "required, and empty")
        risk_api.add_action(
            tx, risk_id, form.text("action"), expected_version=form.number("version")
        )

    return _change(request, user, risk_id, "action", form.values(), add, "Action added.")
