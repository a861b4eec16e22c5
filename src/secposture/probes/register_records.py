"""Shared by the probes the register decides (ithc, and threat-model with its artefacts): what the
register says about the products that own the repository, or why it cannot say."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from secposture.dates import add_months
from secposture.facts.interface import Facts

if TYPE_CHECKING:
    from secposture.register.scan_context import DatedRecord

NO_REGISTER = (
    "no register is connected (secposture scan --db URL, or SECPOSTURE_DATABASE_URL; the embedded "
    "register is read when it exists)"
)


def not_connected_reason(facts: Facts) -> str | None:
    """Why the register cannot answer for this repository, or None when it can."""
    records = facts.records
    if records is None:
        return NO_REGISTER
    if not records.repository:
        return (
            "the register is connected but this checkout's repository is not known (it has no "
            "GitHub remote): pass --repository OWNER/REPO"
        )
    if not records.products:
        return (
            f"repository {records.repository} belongs to no product in the register: "
            f"`secposture product add NAME --repo {records.repository}` (or add it to a product)"
        )
    return None


@dataclass(frozen=True)
class Dated:
    """A dated piece of evidence: a register record or a repository artefact."""

    day: date
    said: str  # "(STRIDE workshop; register threat-model review 3)"


@dataclass(frozen=True)
class Verdict:
    ok: bool
    message: str


def duty_verdict(
    what: str, product: str, last: Dated | None, change: Dated | None, months: int, today: date
) -> Verdict:
    """A duty for one product: done within the interval, and not before the last major change."""
    if last is None:
        return Verdict(False, f"product {product}: no {what} recorded in the register")
    said = f"product {product}: {what} on {last.day.isoformat()} {last.said}"
    if change is not None and change.day > last.day:
        return Verdict(
            False,
            f"{said}, but a major change on {change.day.isoformat()} {change.said} came after "
            f"it: a new {what} is due",
        )
    due = add_months(last.day, months)
    if due < today:
        return Verdict(False, f"{said}; overdue since {due.isoformat()} (every {months} months)")
    return Verdict(True, f"{said}; next due by {due.isoformat()} (every {months} months)")


def register_dated(record: DatedRecord | None) -> Dated | None:
    if record is None:
        return None
    return Dated(record.on, f"({record.detail}; register {record.record})")
