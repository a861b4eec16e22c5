"""What the scan needs from the register about one repository, in one read, as plain values
(no database session needed afterwards): its products' latest threat-model review, ITHC or pen
test and major change, and the waivers that apply to it.

    with Database.open(url) as database:
        records = database.read(lambda tx: repository_records(tx, "acme/payments-api"))
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from secposture.policy import Waiver as PolicyWaiver
from secposture.register.advisories import (
    AdvisoryExemption,
    advisory_exemptions,
    waives_advisories,
)
from secposture.register.database import Tx
from secposture.register.products import products_for_repository
from secposture.register.records import latest_assurance, latest_major_change, latest_threat_model
from secposture.register.waivers import active_waivers


@dataclass(frozen=True)
class DatedRecord:
    """A register record the scan cites as evidence: "register threat-model review 3"."""

    record: str  # e.g. "threat-model review 3", for Location(record=...)
    on: date
    detail: str  # method, kind and supplier, or trigger


@dataclass(frozen=True)
class ProductRecords:
    product: str
    threat_model: DatedRecord | None
    assurance: DatedRecord | None
    major_change: DatedRecord | None


@dataclass(frozen=True)
class RepositoryRecords:
    repository: str
    products: tuple[ProductRecords, ...]  # empty: the repository belongs to no product
    waivers: tuple[PolicyWaiver, ...]  # expired ones included (the scan fails them, naming them)
    # Dependabot advisories waived or accepted for this repository (register/advisories.py).
    advisories: tuple[AdvisoryExemption, ...] = ()


def repository_records(tx: Tx, repository: str) -> RepositoryRecords:
    products = []
    for product in products_for_repository(tx, repository):
        review = latest_threat_model(tx, product)
        test = latest_assurance(tx, product)
        change = latest_major_change(tx, product)
        products.append(
            ProductRecords(
                product=product.name,
                threat_model=DatedRecord(review.label, review.held_on, review.method)
                if review
                else None,
                assurance=DatedRecord(
                    test.label, test.performed_on, f"{test.kind} by {test.supplier}"
                )
                if test
                else None,
                major_change=DatedRecord(change.label, change.changed_on, change.trigger)
                if change
                else None,
            )
        )
    waivers = active_waivers(tx, repository)
    advisories = advisory_exemptions(
        tx, repository, ((w.control, w.reason, w.expires, w.origin) for w in waivers)
    )
    return RepositoryRecords(
        repository=repository.strip().lower(),
        products=tuple(products),
        # A waiver naming advisories exempts those alerts, not the whole control.
        waivers=tuple(w for w in waivers if not waives_advisories(w.control, w.reason)),
        advisories=tuple(advisories),
    )
