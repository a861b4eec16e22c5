"""Dated records about a product: threat-model reviews, assurance (ITHC / pen test) and major
changes. The scan reads the latest of each to decide the threat-model and ithc controls."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute

from secposture.register import validate, vocabulary
from secposture.register.database import Tx
from secposture.register.errors import Duplicate, InvalidField, NotFound
from secposture.register.history import record
from secposture.register.models import (
    Assurance,
    MajorChange,
    Product,
    ProductRecord,
    ThreatModelReview,
)
from secposture.register.products import active_product, get_product

ACTIVE, RETIRED = "active", "retired"

R = TypeVar("R", ThreatModelReview, Assurance, MajorChange)

# Each kind of record, by the name commands and history use, with its date column.
KINDS: dict[str, type[ProductRecord]] = {
    "threat_model": ThreatModelReview,
    "assurance": Assurance,
    "major_change": MajorChange,
}


def record_threat_model(
    tx: Tx,
    product: str | int,
    *,
    held_on: date,
    participants: Iterable[str],
    method: str,
    scope: str,
    artefact_link: str,
    summary: str,
) -> ThreatModelReview:
    owner = active_product(tx, product)
    day = validate.not_future("held_on", held_on, tx.today)
    same_day = _on(tx, ThreatModelReview, owner, day)
    if same_day is not None:
        raise Duplicate(
            f"{owner.name} already has a threat-model review on {day} ({same_day.label}); "
            "record a different date, or retire that one first"
        )
    review = ThreatModelReview(
        product=owner,
        held_on=day,
        participants=validate.names("participants", participants),
        method=validate.line("method", method),
        scope=validate.text("scope", scope),
        artefact_link=validate.url("artefact_link", artefact_link),
        summary=validate.text("summary", summary),
        status=ACTIVE,
    )
    record(tx, review, "recorded", None)
    return review


def record_assurance(
    tx: Tx,
    product: str | int,
    *,
    performed_on: date,
    kind: str,
    supplier: str,
    scheme: str,
    scope: str,
    report_reference: str,
    findings: Mapping[str, int | str] | None = None,
) -> Assurance:
    """An ITHC or pen test; `findings` counts by severity (critical, high, medium, low, info)."""
    owner = active_product(tx, product)
    day = validate.not_future("performed_on", performed_on, tx.today)
    clean_kind = validate.choice("kind", kind, vocabulary.choices("assurance_kinds"))
    severities = vocabulary.choices("finding_severities")
    counts = dict(findings or {})
    unknown = [name for name in counts if name not in severities]
    if unknown:
        raise InvalidField("findings", f"{unknown[0]!r} is not one of {', '.join(severities)}")
    same = _on(tx, Assurance, owner, day)
    if same is not None and same.kind == clean_kind:
        raise Duplicate(f"{owner.name} already has an {clean_kind} on {day} ({same.label})")
    assurance = Assurance(
        product=owner,
        performed_on=day,
        kind=clean_kind,
        supplier=validate.line("supplier", supplier),
        scheme=validate.choice("scheme", scheme, vocabulary.choices("schemes")),
        scope=validate.text("scope", scope),
        report_reference=validate.line("report_reference", report_reference),
        status=ACTIVE,
        **{
            f"findings_{name}": validate.count(f"findings.{name}", counts.get(name))
            for name in severities
        },
    )
    record(tx, assurance, "recorded", None)
    return assurance


def record_major_change(
    tx: Tx, product: str | int, *, changed_on: date, trigger: str, description: str
) -> MajorChange:
    """A major change: it makes a threat-model review and an ITHC due."""
    owner = active_product(tx, product)
    day = validate.not_future("changed_on", changed_on, tx.today)
    clean_trigger = validate.choice("trigger", trigger, vocabulary.choices("triggers"))
    same = _on(tx, MajorChange, owner, day)
    if same is not None and same.trigger == clean_trigger:
        raise Duplicate(
            f"{owner.name} already has a {clean_trigger} change on {day} ({same.label})"
        )
    change = MajorChange(
        product=owner,
        changed_on=day,
        trigger=clean_trigger,
        description=validate.text("description", description),
        status=ACTIVE,
    )
    record(tx, change, "recorded", None)
    return change


def latest_threat_model(tx: Tx, product: Product | str | int) -> ThreatModelReview | None:
    """The most recent (not retired) threat-model review of a product."""
    return _latest(tx, ThreatModelReview, _product(tx, product))


def latest_assurance(tx: Tx, product: Product | str | int) -> Assurance | None:
    """The most recent ITHC or pen test of a product."""
    return _latest(tx, Assurance, _product(tx, product))


def latest_major_change(tx: Tx, product: Product | str | int) -> MajorChange | None:
    return _latest(tx, MajorChange, _product(tx, product))


def list_records(
    tx: Tx, kind: str, *, product: str | int | None = None, include_retired: bool = False
) -> list[ProductRecord]:
    """Records of one kind (threat_model, assurance, major_change), newest first."""
    model = _kind(kind)
    column = _date_column(model)
    query = select(model).order_by(column.desc(), model.id.desc())
    if product is not None:
        query = query.where(model.product_id == get_product(tx, product).id)
    if not include_retired:
        query = query.where(model.status == ACTIVE)
    return list(tx.session.scalars(query))


def get_record(tx: Tx, kind: str, record_id: int, *, for_update: bool = False) -> ProductRecord:
    model = _kind(kind)
    query = select(model).where(model.id == record_id)
    if for_update:
        query = query.with_for_update(of=model)
    found = tx.session.scalars(query).first()
    if found is None:
        raise NotFound(f"no {kind.replace('_', ' ')} {record_id}")
    return found


def retire_record(tx: Tx, kind: str, record_id: int) -> ProductRecord:
    """A record entered by mistake: kept, with its history, but no longer counted."""
    found = get_record(tx, kind, record_id, for_update=True)
    if found.status == RETIRED:
        raise InvalidField("status", f"{found.label} is already retired")
    before = found.to_dict()
    found.status = RETIRED
    record(tx, found, "retired", before)
    return found


def _kind(kind: str) -> type[ProductRecord]:
    model = KINDS.get(kind)
    if model is None:
        raise InvalidField("kind", f"{kind!r} is not one of {', '.join(KINDS)}")
    return model


def _date_column(model: type[ProductRecord]) -> InstrumentedAttribute[date]:
    column: InstrumentedAttribute[date] = getattr(model, model.DATE_FIELD)
    return column


def _product(tx: Tx, product: Product | str | int) -> Product:
    return product if isinstance(product, Product) else get_product(tx, product)


def _on(tx: Tx, model: type[R], product: Product, day: date) -> R | None:
    query = select(model).where(
        model.product_id == product.id, _date_column(model) == day, model.status == ACTIVE
    )
    return tx.session.scalars(query.order_by(model.id)).first()


def _latest(tx: Tx, model: type[R], product: Product) -> R | None:
    query = (
        select(model)
        .where(model.product_id == product.id, model.status == ACTIVE)
        .order_by(_date_column(model).desc(), model.id.desc())
        .limit(1)
    )
    return tx.session.scalars(query).first()
