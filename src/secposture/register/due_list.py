"""What is overdue or due soon across the register (`secposture due`): threat-model reviews and
ITHCs per product (every N months, or now after a major change), risk reviews, risk acceptances
and waivers expiring, open issues past or near their patch-by date, and Dependabot alerts past
theirs at the latest recorded scan (register/alert_duties.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from secposture import catalogue
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

KINDS = ("threat-model", "ithc", "risk-review", "risk-acceptance", "waiver", "issue", "alert")
# The product duties: each is the control of the same id, with a review interval in months.
PRODUCT_DUTIES = {"threat-model": "threat-model review", "ithc": "ITHC or pen test"}
OVERDUE = "overdue"


def review_intervals(months: Mapping[str, int] | None = None) -> dict[str, int]:
    """Each product duty's interval in months: as given (a policy's), else the controls
    catalogue's, the one place the defaults are written (data/controls.toml)."""
    given = months or {}
    return {kind: given.get(kind) or catalogue.interval_months(kind) for kind in PRODUCT_DUTIES}


@dataclass(frozen=True)
class Duty:
    """When a product's threat-model review or ITHC is next due, and how that stands today."""

    last: date | None  # the newest record's date; None: never recorded
    due_on: date | None
    reason: str
    status: str  # overdue, due_soon or ok


def product_duties(
    tx: Tx,
    *,
    today: date | None = None,
    within_days: int = 30,
    months: Mapping[str, int] | None = None,
) -> dict[int, dict[str, Duty]]:
    """Every product's threat-model and ITHC duty, by product id and kind: four statements
    however many products there are. `months`: the intervals (default: the catalogue's)."""
    from secposture.register.models import ThreatModelReview

    day = today or tx.today
    intervals = review_intervals(months)
    latest = {
        "threat-model": _latest_dates(tx, ThreatModelReview),
        "ithc": _latest_dates(tx, Assurance),
    }
    changes = _latest_dates(tx, MajorChange)
    out: dict[int, dict[str, Duty]] = {}
    for product_id in tx.session.scalars(select(Product.id)):
        duties = {}
        for kind in PRODUCT_DUTIES:
            done = latest[kind].get(product_id)
            due = next_due(done, intervals[kind], changes.get(product_id))
            duties[kind] = Duty(
                done, due.due_on, due.reason, due_status(due.due_on, day, within_days)
            )
        out[product_id] = duties
    return out


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
    months: Mapping[str, int] | None = None,
    product: str | None = None,
    kinds: Iterable[str] = KINDS,
) -> list[DueItem]:
    """Everything overdue or due within `within_days` of `today` (default: the team's today),
    overdue first, then soonest. `months`: the product duties' intervals by kind (a policy's);
    those not given are the controls catalogue's."""
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
        items += _product_duties(tx, day, within_days, months, product_id, wanted)
    if "risk-review" in wanted:
        items += _risk_reviews(tx, day, horizon, within_days, product_id)
    if "risk-acceptance" in wanted:
        items += _acceptances(tx, day, horizon, within_days, product_id)
    if "waiver" in wanted:
        items += _waivers(tx, day, horizon, within_days, product_id)
    if "issue" in wanted:
        items += _issues(tx, day, horizon, within_days, product_id)
    if "alert" in wanted:
        items += _alerts(tx, day, product_id)
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
    months: Mapping[str, int] | None,
    product_id: int | None,
    wanted: set[str],
) -> list[DueItem]:
    query = select(Product).where(Product.status == ACTIVE).order_by(Product.name_key)
    if product_id is not None:
        query = query.where(Product.id == product_id)
    duties = product_duties(tx, today=today, within_days=within, months=months)
    items = []
    for product in tx.session.scalars(query):
        for kind, what in PRODUCT_DUTIES.items():
            duty = duties[product.id][kind]
            if kind in wanted and duty.status != "ok":
                items.append(
                    DueItem(
                        kind,
                        f"product {product.name}",
                        product.name,
                        what,
                        duty.due_on,
                        duty.status,
                        duty.reason,
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


def _alerts(tx: Tx, today: date, product_id: int | None) -> list[DueItem]:
    """Dependabot alerts past their patch-by date at the latest recorded scan of each
    repository (register/alert_duties.py), under the product that owns the repository."""
    from secposture.register.alert_duties import overdue_alerts, repositories_of_product
    from secposture.register.models import ProductRepository

    repos = repositories_of_product(tx, product_id) if product_id is not None else None
    owners: dict[str, str] = {}
    links = select(ProductRepository.repository, Product.name).join(
        Product, Product.id == ProductRepository.product_id
    )
    for repository, name in tx.session.execute(links.where(Product.status == ACTIVE)):
        owners.setdefault(repository.lower(), name)
    items = []
    for alert in overdue_alerts(tx, today, repos):
        ids = ", ".join(x for x in (alert.ghsa, alert.cves) if x) or "no advisory id"
        fix = f"; Dependabot's fix: {alert.fix_pr}" if alert.fix_pr else ""
        items.append(
            DueItem(
                "alert",
                f"alert {alert.reference}",
                owners.get(alert.repository.lower()),
                f"{alert.severity} {ids} in {alert.package} ({alert.ecosystem}, {alert.manifest})",
                alert.patch_by,
                OVERDUE,
                f"{alert.days_overdue(today)} days past its patch-by date, at the scan of "
                f"{alert.scanned_at}{fix}",
            )
        )
    return items


def _name(product: Product | None) -> str | None:
    return product.name if product is not None else None
