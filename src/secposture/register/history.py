"""The append-only history: every change to a record writes who, when, and the record's values
before and after, in the same transaction as the change (so neither exists without the other).
Nothing here updates or deletes a history row."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from secposture.register.database import Tx
from secposture.register.errors import InvalidField
from secposture.register.models import History, Tracked

ENTITIES = (
    "product",
    "threat_model",
    "assurance",
    "major_change",
    "issue",
    "risk",
    "waiver",
    "scan",
    "user",
    "repository_issue",  # the watcher's issue in a repository (watch/repository_issue.py)
)


def actor_of(tx: Tx) -> str:
    actor = " ".join(tx.actor.split())
    if not actor:
        raise InvalidField("actor", "say who is making the change (--actor or $SECPOSTURE_ACTOR)")
    if len(actor) > 200:
        raise InvalidField("actor", "too long (at most 200 characters)")
    return actor


def stamp(tx: Tx, record: Tracked) -> None:
    """Set the timestamps of a record about to be written."""
    if getattr(record, "created_at", None) is None:
        record.created_at = tx.now
    record.updated_at = tx.now


def record(tx: Tx, entity: Tracked, action: str, before: dict[str, Any] | None) -> History:
    """Write `entity` (new or changed) and its history row. `before` is `entity.to_dict()` taken
    before the change, None for a new record."""
    actor = actor_of(tx)
    stamp(tx, entity)
    tx.session.add(entity)
    tx.session.flush()  # gives a new record its id and a changed one its next version
    row = History(
        entity=entity.ENTITY,
        entity_id=entity.id,
        action=action,
        actor=actor,
        at=tx.now,
        before=before,
        after=entity.to_dict(),
    )
    tx.session.add(row)
    return row


def record_many(tx: Tx, entities: list[Tracked], action: str) -> None:
    """Write many new records and their history rows in two batched flushes (CSV import)."""
    actor = actor_of(tx)
    for entity in entities:
        stamp(tx, entity)
    tx.session.add_all(entities)
    tx.session.flush()
    tx.session.add_all(
        History(
            entity=entity.ENTITY,
            entity_id=entity.id,
            action=action,
            actor=actor,
            at=tx.now,
            before=None,
            after=entity.to_dict(),
        )
        for entity in entities
    )
    tx.session.flush()


def record_event(
    tx: Tx, entity: str, entity_id: int, action: str, after: dict[str, Any]
) -> History:
    """History for an append-only record that has no versions of its own (a recorded scan)."""
    row = History(
        entity=entity,
        entity_id=entity_id,
        action=action,
        actor=actor_of(tx),
        at=tx.now,
        before=None,
        after=after,
    )
    tx.session.add(row)
    return row


def history_of(tx: Tx, entity: str, entity_id: int) -> list[History]:
    """A record's changes, oldest first."""
    if entity not in ENTITIES:
        raise InvalidField("entity", f"{entity!r} is not one of {', '.join(ENTITIES)}")
    query = (
        select(History)
        .where(History.entity == entity, History.entity_id == entity_id)
        .order_by(History.id)
    )
    return list(tx.session.scalars(query))


def changed_fields(row: History) -> list[str]:
    """The fields a history row changed (all of them for a new record)."""
    after = row.after or {}
    before = row.before or {}
    return [key for key in after if key != "version" and before.get(key) != after.get(key)]
