"""Waivers: the list (active by default; expired and retired on request), adding one for a
repository or a product, and retiring one. Architect, security and admin."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from secposture.register import waivers as waiver_api
from secposture.register.database import Tx
from secposture.register.errors import InvalidField, RegisterError
from secposture.register.products import list_products
from secposture.web.context import CanManageWaivers, CanViewWaivers, PostedForm, database
from secposture.web.rendering import page

router = APIRouter()


@router.get("/waivers")
def waivers_page(request: Request, user: CanViewWaivers, show: str = "active") -> Response:
    return _waivers(request, show)


def _waivers(
    request: Request,
    show: str = "active",
    error: str | RegisterError | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    everything = show == "all"

    def read(tx: Tx) -> dict[str, Any]:
        found = waiver_api.list_waivers(tx, include_expired=everything, include_retired=everything)
        return {
            "waivers": [{**w.to_dict(), "expired": w.expires_on < tx.today} for w in found],
            "products": [p.name for p in list_products(tx)],
        }

    data = database(request).read(read)
    return page(
        request,
        "waivers.html",
        {
            **data,
            "show": "all" if everything else "active",
            "controls": list(waiver_api.control_ids()),
            "error": error,
            "values": values or {},
            "failed_form": "waiver" if error else None,
        },
        status_code=400 if error else 200,
    )


@router.post("/waivers")
def waiver_add(request: Request, user: CanManageWaivers, form: PostedForm) -> Response:
    def add(tx: Tx) -> None:
        expires = form.day("expires_on")
        if expires is None:
            raise InvalidField("expires_on", "required: a waiver has an expiry date")
        waiver_api.add_waiver(
            tx,
            control=form.text("control"),
            reason=form.text("reason"),
            approver=form.text("approver"),
            expires_on=expires,
            repository=form.optional("repository"),
            product=form.optional("product"),
        )

    try:
        database(request).write(user.actor, add)
    except RegisterError as exc:
        return _waivers(request, error=exc, values=form.values())
    request.session["flash"] = "Waiver added."
    return RedirectResponse("/waivers", status_code=303)


@router.post("/waivers/{waiver_id}/retire")
def waiver_retire(request: Request, user: CanManageWaivers, waiver_id: int) -> Response:
    try:
        database(request).write(user.actor, lambda tx: waiver_api.retire_waiver(tx, waiver_id))
    except RegisterError as exc:
        return _waivers(request, error=exc)
    request.session["flash"] = f"Waiver {waiver_id} retired."
    return RedirectResponse("/waivers", status_code=303)
