"""Send an issue to the Security team over configured channels, and record what was delivered.

Each channel is tried on its own: the issue is read (and detached) in one transaction, the
channel delivers with no transaction open, and only a delivery the channel confirmed is written,
in a second transaction, as an `issue_delivery` row and the issue's history row together. A
failure writes nothing and changes nothing: the issue stays as it was, and no send is claimed
that did not happen (ADR 0018)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from secposture.errors import SecpostureError
from secposture.redaction import redact
from secposture.register.database import Database, Tx
from secposture.register.deliveries import IssueDelivery, deliveries_of
from secposture.register.delivery.interface import (
    Channel,
    DeliveryError,
    DeliveryResult,
    Outgoing,
    Previous,
)
from secposture.register.errors import RegisterError
from secposture.register.history import history_of, record_event
from secposture.register.issues import get_issue
from secposture.register.models import SecurityIssue

SENT, UPDATE, AGAIN = "sent", "sent_update", "sent_again"


@dataclass(frozen=True)
class Unrecorded:
    """Delivered, but the register could not record it (the database failed afterwards)."""

    result: DeliveryResult
    problem: str


@dataclass
class SendOutcome:
    delivered: list[dict[str, Any]] = field(default_factory=list)
    failed: list[DeliveryError] = field(default_factory=list)
    unrecorded: list[Unrecorded] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.unrecorded


def send_issue(db: Database, actor: str, issue_id: int, channels: Sequence[Channel]) -> SendOutcome:
    """Deliver issue `issue_id` over each channel; every confirmed delivery recorded as `actor`.
    Raises RegisterError when the issue cannot be read (nothing is sent then)."""
    if not " ".join(actor.split()):
        raise SecpostureError("say who is sending (--actor or $SECPOSTURE_ACTOR)")
    outcome = SendOutcome()
    for channel in channels:
        outcome_of(db, actor, issue_id, channel, outcome)
    return outcome


def outcome_of(
    db: Database, actor: str, issue_id: int, channel: Channel, outcome: SendOutcome
) -> None:
    """One channel: read, deliver, and record what was delivered."""

    def read(tx: Tx) -> Outgoing:
        return _outgoing(tx, issue_id, channel.name, actor)

    outgoing = db.read(read)
    try:
        result = channel.send(outgoing)
    except DeliveryError as exc:
        outcome.failed.append(exc)
        return

    def write(tx: Tx) -> dict[str, Any]:
        return _record(tx, outgoing, result)

    try:
        outcome.delivered.append(db.write(actor, write))
    except (RegisterError, SecpostureError) as exc:
        outcome.unrecorded.append(Unrecorded(result, redact(str(exc))))


def _outgoing(tx: Tx, issue_id: int, channel: str, actor: str) -> Outgoing:
    issue = get_issue(tx, issue_id)
    sent = deliveries_of(tx, issue_id, channel)
    previous = None
    changed: tuple[str, ...] = ()
    if sent:
        last = sent[-1]
        previous = Previous(
            sent_at=last.sent_at,
            issue_version=last.issue_version,
            reference=last.reference,
            url=last.url,
            destination=last.destination,
        )
        changed = _changed_since(tx, issue, last.issue_version)
    _detach(tx, issue)
    return Outgoing(
        issue=issue,
        sender=" ".join(actor.split()),
        at=tx.now,
        timezone=tx.timezone,
        previous=previous,
        changed=changed,
    )


def _detach(tx: Tx, issue: SecurityIssue) -> None:
    """Keep the loaded issue readable after its read-only transaction ends (the rollback
    would expire it): the channel renders it with no transaction open."""
    product, risks = issue.product, list(issue.risks)
    tx.session.expunge(issue)
    if product in tx.session:
        tx.session.expunge(product)
    for risk in risks:
        if risk in tx.session:
            tx.session.expunge(risk)


def _changed_since(tx: Tx, issue: SecurityIssue, version: int) -> tuple[str, ...]:
    """The fields edited since the issue was at `version` (from its history snapshots)."""
    then: dict[str, Any] | None = None
    for row in history_of(tx, "issue", issue.id):
        after = row.after or {}
        if after.get("version") == version and "product" in after:
            then = after
    if then is None:
        return ()
    now = issue.to_dict()
    return tuple(k for k in now if k != "version" and then.get(k) != now.get(k))


def _record(tx: Tx, outgoing: Outgoing, result: DeliveryResult) -> dict[str, Any]:
    issue = outgoing.issue
    action = UPDATE if outgoing.is_update else AGAIN if outgoing.again else SENT
    row = IssueDelivery(
        issue_id=issue.id,
        channel=result.channel,
        destination=redact(result.destination),
        issue_version=issue.version,
        issue_updated_at=issue.updated_at,
        is_update=outgoing.is_update,
        reference=redact(result.reference) if result.reference else None,
        url=redact(result.url) if result.url else None,
        sent_by=" ".join(outgoing.sender.split()),
        sent_at=tx.now,
    )
    tx.session.add(row)
    tx.session.flush()
    after = row.to_dict()
    if outgoing.changed:
        after["changed"] = list(outgoing.changed)
    if result.detail:
        after["server_said"] = redact(result.detail)
    record_event(tx, "issue", issue.id, action, after)
    return after
