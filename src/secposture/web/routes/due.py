"""What is overdue or due soon. Viewers and engineers see product duties (threat models and
ITHCs); architects and up also risk reviews and acceptances, waivers and issues."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from secposture.register.database import Tx
from secposture.register.due_list import KINDS, due_items
from secposture.register.products import list_products
from secposture.web.context import CanViewDue, database
from secposture.web.rendering import page

router = APIRouter()
PRODUCT_KINDS = ("threat-model", "ithc")
WITHIN_CHOICES = (7, 14, 30, 60, 90)


@router.get("/due")
def due_page(request: Request, user: CanViewDue, within: int = 30) -> Response:
    days = within if within in WITHIN_CHOICES else 30
    kinds = KINDS if user.can("view_risks") else PRODUCT_KINDS

    def read(tx: Tx) -> dict[str, Any]:
        ids = {p.name: p.id for p in list_products(tx)}
        items = [
            {**item.to_dict(), "link": _link(item.record, item.product, ids)}
            for item in due_items(tx, within_days=days, kinds=kinds)
        ]
        return {"items": items, "today": tx.today}

    data = database(request).read(read)
    return page(
        request,
        "due.html",
        {**data, "within": days, "within_choices": WITHIN_CHOICES, "kinds": kinds},
    )


def _link(record: str, product: str | None, ids: dict[str, int]) -> str | None:
    kind, _, number = record.partition(" ")
    if kind == "risk" and number.isdigit():
        return f"/risks/{number}"
    if kind == "issue" and number.isdigit():
        return f"/issues/{number}"
    if kind == "waiver":
        return "/waivers"
    if product is not None and product in ids:
        return f"/products/{ids[product]}"
    return None
