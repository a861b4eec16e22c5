"""Waivers kept in the register: a control waived for a repository, or for every repository of a
product, with a reason, an approver and an expiry. The scan applies them like the policy file's."""

from __future__ import annotations

from datetime import date

from sqlalchemy import or_, select

from secposture.policy import Waiver as PolicyWaiver
from secposture.register import validate
from secposture.register.database import Tx
from secposture.register.errors import Duplicate, InvalidField, NotFound
from secposture.register.history import record
from secposture.register.models import Waiver
from secposture.register.products import active_product, get_product, list_products

ACTIVE, RETIRED = "active", "retired"


def control_ids() -> tuple[str, ...]:
    from secposture import catalogue

    return tuple(catalogue.controls())


def add_waiver(
    tx: Tx,
    *,
    control: str,
    reason: str,
    approver: str,
    expires_on: date,
    repository: str | None = None,
    product: str | None = None,
) -> Waiver:
    clean_control = validate.choice("control", control, control_ids())
    if (repository is None) == (product is None):
        raise InvalidField("repository", "give either a repository or a product, not both")
    repo = validate.repository("repository", repository) if repository is not None else None
    owner = active_product(tx, product) if product is not None else None
    if expires_on <= tx.today:
        raise InvalidField("expires_on", f"{expires_on} is not after today ({tx.today})")
    query = select(Waiver).where(
        Waiver.control == clean_control, Waiver.status == ACTIVE, Waiver.expires_on >= tx.today
    )
    if owner is not None:
        query = query.where(Waiver.product_id == owner.id)
    else:
        query = query.where(Waiver.repository == repo)
    same = tx.session.scalars(query.limit(1)).first()
    if same is not None:
        raise Duplicate(
            f"{same.label} already waives {clean_control} for {same.target} until "
            f"{same.expires_on}; retire it first to replace it"
        )
    waiver = Waiver(
        control=clean_control,
        repository=repo,
        product=owner,
        reason=validate.text("reason", reason),
        approver=validate.line("approver", approver),
        expires_on=expires_on,
        status=ACTIVE,
    )
    record(tx, waiver, "created", None)
    return waiver


def list_waivers(
    tx: Tx,
    *,
    repository: str | None = None,
    product: str | None = None,
    include_expired: bool = False,
    include_retired: bool = False,
) -> list[Waiver]:
    """Waivers soonest expiry first; a repository's list includes its products' waivers."""
    query = select(Waiver).order_by(Waiver.expires_on, Waiver.id)
    if not include_retired:
        query = query.where(Waiver.status == ACTIVE)
    if not include_expired:
        query = query.where(Waiver.expires_on >= tx.today)
    if repository is not None:
        repo = validate.repository("repository", repository)
        product_ids = [p.id for p in list_products(tx, repository=repo)]
        query = query.where(or_(Waiver.repository == repo, Waiver.product_id.in_(product_ids)))
    if product is not None:
        query = query.where(Waiver.product_id == get_product(tx, product).id)
    return list(tx.session.scalars(query))


def retire_waiver(tx: Tx, waiver_id: int) -> Waiver:
    """Withdraw a waiver before it expires (the control counts again). Kept, not deleted."""
    waiver = tx.session.scalars(
        select(Waiver).where(Waiver.id == waiver_id).with_for_update(of=Waiver)
    ).first()
    if waiver is None:
        raise NotFound(f"no waiver {waiver_id} (secposture waiver list --all shows them)")
    if waiver.status == RETIRED:
        raise InvalidField("status", f"{waiver.label} is already retired")
    before = waiver.to_dict()
    waiver.status = RETIRED
    record(tx, waiver, "retired", before)
    return waiver


def active_waivers(tx: Tx, repository: str) -> list[PolicyWaiver]:
    """The register's waivers for a repository (its own and its products'), as the scan's
    Waiver values. Expired ones are included: the scan reports an expired waiver as a failure
    that names it (docs/controls.md); retired ones are not."""
    rows = list_waivers(tx, repository=repository, include_expired=True)
    return [
        PolicyWaiver(
            control=w.control,
            reason=w.reason,
            approver=w.approver,
            expires=w.expires_on,
            origin=f"register {w.label}" + (f" ({w.target})" if w.product is not None else ""),
        )
        for w in rows
    ]
