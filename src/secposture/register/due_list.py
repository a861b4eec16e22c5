"""What is overdue or due soon across the register (`secposture due`): threat-model reviews and
ITHCs per product (every N months, or now after a major change), risk reviews, risk acceptances
and waivers expiring, and open issues past or near their patch-by date."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from secposture.register.database import Tx
from secposture.register.due import due_status, next_due
from secposture.register.errors import InvalidField
from secposture.register.models import (
    Assurance,
    MajorChange,
    Product,
    ProductRecord,
    Risk,
    SecurityIssue,
    Waiver,
)
from secposture.register.products import ACTIVE, get_product

KINDS = ("threat-model", "ithc", "risk-review", "risk-acceptance", "waiver", "issue")
OVERDUE, DUE_SOON = "overdue", "due_soon"


@dataclass(frozen=True)
class DueItem:
    kind: str  # one of KINDS
    record: str  # what to open: "product payments", "risk 12", "issue 3"
    product: str | None
    title: str
    due_on: date | None  # None: never done, so due now
    status: str  # overdue or due_soon
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "record": self.record,
            "product": self.product,
            "title": self.title,
            "due_on": self.due_on.isoformat() if self.due_on else None,
            "status": self.status,
            "reason": self.reason,
        }


def due_items(
    tx: Tx,
    *,
    today: date | None = None,
    within_days: int = 30,
    threat_model_months: int = 6,
    ithc_months: int = 12,
    product: str | None = None,
    kinds: Iterable[str] = KINDS,
) -> list[DueItem]:
    """Everything overdue or due within `within_days` of `today` (default: the team's today),
    overdue first, then soonest."""
    if not 0 <= within_days <= 3660:
        raise InvalidField("within", f"{within_days} is not a number of days from 0 to 3660")
    wanted = set(kinds)
    unknown = wanted - set(KINDS)
    if unknown:
        raise InvalidField("kind", f"{sorted(unknown)[0]!r} is not one of {', '.join(KINDS)}")
    day = today or tx.today
    horizon = day + timedelta(days=within_days)
    product_id = get_product(tx, product).id if product else None
    items: list[DueItem] = []
    if wanted & {"threat-model", "ithc"}:
        items += _product_duties(
            tx, day, within_days, threat_model_months, ithc_months, product_id, wanted
        )
    if "risk-review" in wanted:
        items += _risk_reviews(tx, day, horizon, within_days, product_id)
    if "risk-acceptance" in wanted:
        items += _acceptances(tx, day, horizon, within_days, product_id)
    if "waiver" in wanted:
        items += _waivers(tx, day, horizon, within_days, product_id)
    if "issue" in wanted:
        items += _issues(tx, day, horizon, within_days, product_id)
    return sorted(items, key=_order)


def _order(item: DueItem) -> tuple[int, date, int, str]:
    return (
        0 if item.status == OVERDUE else 1,
        item.due_on or date.min,
        KINDS.index(item.kind),
        item.record,
    )


def _latest_dates(tx: Tx, model: type[ProductRecord]) -> dict[int, date]:
    """The newest (not retired) record date of each product, in one query."""
    column = getattr(model, model.DATE_FIELD)
    query = (
        select(model.product_id, func.max(column))
        .where(model.status == ACTIVE)
        .group_by(model.product_id)
    )
    return {row[0]: row[1] for row in tx.session.execute(query)}


def _product_duties(
    tx: Tx,
    today: date,
    within: int,
    threat_model_months: int,
    ithc_months: int,
    product_id: int | None,
    wanted: set[str],
) -> list[DueItem]:
    from secposture.register.models import ThreatModelReview

    query = select(Product).where(Product.status == ACTIVE).order_by(Product.name_key)
    if product_id is not None:
        query = query.where(Product.id == product_id)
    reviews = _latest_dates(tx, ThreatModelReview)
    tests = _latest_dates(tx, Assurance)
    changes = _latest_dates(tx, MajorChange)
    duties = [
        ("threat-model", "threat-model review", reviews, threat_model_months),
        ("ithc", "ITHC or pen test", tests, ithc_months),
    ]
    items = []
    for product in tx.session.scalars(query):
        for kind, what, latest, months in duties:
            if kind not in wanted:
                continue
            due = next_due(latest.get(product.id), months, changes.get(product.id))
            status = due_status(due.due_on, today, within)
            if status != "ok":
                items.append(
                    DueItem(
                        kind,
                        f"product {product.name}",
                        product.name,
                        what,
                        due.due_on,
                        status,
                        due.reason,
                    )
                )
    return items


def _risk_reviews(
    tx: Tx, today: date, horizon: date, within: int, product_id: int | None
) -> list[DueItem]:
    query = select(Risk).where(
        Risk.status.in_(("open", "accepted")), Risk.next_review_on <= horizon
    )
    if product_id is not None:
        query = query.where(Risk.product_id == product_id)
    return [
        DueItem(
            "risk-review",
            risk.label,
            _name(risk.product),
            risk.title,
            risk.next_review_on,
            due_status(risk.next_review_on, today, within),
            f"owner {risk.owner}; last reviewed {risk.last_reviewed_on or 'never'}",
        )
        for risk in tx.session.scalars(query.order_by(Risk.next_review_on, Risk.id))
    ]


def _acceptances(
    tx: Tx, today: date, horizon: date, within: int, product_id: int | None
) -> list[DueItem]:
    query = select(Risk).where(Risk.status == "accepted", Risk.expires_on <= horizon)
    if product_id is not None:
        query = query.where(Risk.product_id == product_id)
    return [
        DueItem(
            "risk-acceptance",
            risk.label,
            _name(risk.product),
            risk.title,
            risk.expires_on,
            due_status(risk.expires_on, today, within),
            f"accepted by {risk.accepted_by} on {risk.accepted_on}; renew or treat it",
        )
        for risk in tx.session.scalars(query.order_by(Risk.expires_on, Risk.id))
    ]


def _waivers(
    tx: Tx, today: date, horizon: date, within: int, product_id: int | None
) -> list[DueItem]:
    query = select(Waiver).where(Waiver.status == ACTIVE, Waiver.expires_on <= horizon)
    if product_id is not None:
        from secposture.register.models import ProductRepository

        repos = select(ProductRepository.repository).where(
            ProductRepository.product_id == product_id
        )
        query = query.where((Waiver.product_id == product_id) | Waiver.repository.in_(repos))
    return [
        DueItem(
            "waiver",
            waiver.label,
            _name(waiver.product),
            f"{waiver.control} for {waiver.target}",
            waiver.expires_on,
            due_status(waiver.expires_on, today, within),
            f"approved by {waiver.approver}; renew, retire, or fix the control",
        )
        for waiver in tx.session.scalars(query.order_by(Waiver.expires_on, Waiver.id))
    ]


def _issues(
    tx: Tx, today: date, horizon: date, within: int, product_id: int | None
) -> list[DueItem]:
    query = select(SecurityIssue).where(
        SecurityIssue.status == "open", SecurityIssue.patch_by <= horizon
    )
    if product_id is not None:
        query = query.where(SecurityIssue.product_id == product_id)
    return [
        DueItem(
            "issue",
            issue.label,
            issue.product.name,
            issue.title,
            issue.patch_by,
            due_status(issue.patch_by, today, within),
            f"{issue.severity}, raised {issue.raised_on}: patch by {issue.patch_by}",
        )
        for issue in tx.session.scalars(query.order_by(SecurityIssue.patch_by, SecurityIssue.id))
    ]


def _name(product: Product | None) -> str | None:
    return product.name if product is not None else None
