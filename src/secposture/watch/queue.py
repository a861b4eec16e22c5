"""The rescan queue and the replay memory, in the register's own database (ADR 0019).

- `accept(tx, delivery, event, requests, settle)`: remember the delivery id and queue its
  rescans in one transaction; a delivery id seen before queues nothing (a replay). Both are
  INSERT ... ON CONFLICT statements, so two processes receiving the same delivery, or two
  deliveries for one repository, at the same moment cannot both win or fail.
- One row per repository (unique): a request for a repository already waiting only counts
  itself on that row; one for a repository being rescanned marks it to run once more after.
- `claim(tx, worker, now)`: the oldest due job, taken with SELECT ... FOR UPDATE SKIP LOCKED on
  PostgreSQL (several processes share the queue without taking the same job; SQLite ignores the
  clause and its single writer does the same). A claim older than `claim_expires` is taken
  again: its worker died.
- `finish(tx, job, worker, error)`: done (the row goes: the rescan's own record stays in
  watch_scan), once more (`again`), or retried later up to `max_attempts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from secposture.register.database import Tx
from secposture.register.watch_tables import ALL_REPOSITORIES, WatchJob, WebhookDelivery
from secposture.watch.interface import RescanRequest

# What a worker thread takes: single repositories, or the whole organisation (the schedule).
REPOSITORY = "repository"
ORGANISATION = "organisation"
SCOPES = (REPOSITORY, ORGANISATION)
# Texts are cut to their columns' sizes (the detail is built from a delivery's fields).
_DETAIL = 2000
_ERROR = 4000


@dataclass(frozen=True)
class ClaimedJob:
    """A job this worker holds: what to rescan and why (as it was when claimed)."""

    id: int
    repository: str
    reason: str
    detail: str
    requested_at: datetime
    requests: int
    attempts: int


def _insert(tx: Tx, table: Any) -> Any:
    dialect = tx.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def accept(
    tx: Tx,
    delivery: str,
    event: str,
    requests: tuple[RescanRequest, ...],
    settle: timedelta,
) -> bool:
    """Remember `delivery` and queue `requests`; False (nothing queued) for a replay."""
    # RETURNING gives a row only when this insert took place (rowcount is not reliable for
    # ON CONFLICT on every driver).
    remembered = tx.session.execute(
        _insert(tx, WebhookDelivery)
        .values(delivery=delivery, event=event[:40], received_at=tx.now)
        .on_conflict_do_nothing(index_elements=["delivery"])
        .returning(WebhookDelivery.delivery)
    ).first()
    if remembered is None:
        return False
    for request in requests:
        enqueue(tx, request, settle)
    return True


def enqueue(tx: Tx, request: RescanRequest, settle: timedelta, at: datetime | None = None) -> None:
    """Queue a rescan of `request.repository`, or fold it into the one already queued."""
    repository = request.repository.lower()
    run_after = at or (tx.now + settle)
    statement = _insert(tx, WatchJob).values(
        repository=repository,
        reason=request.reason[:40],
        detail=request.detail[:_DETAIL],
        delivery=request.delivery,
        requests=1,
        requested_at=tx.now,
        run_after=run_after,
        claimed_by=None,
        claimed_at=None,
        again=False,
        attempts=0,
        last_error=None,
    )
    new = statement.excluded
    tx.session.execute(
        statement.on_conflict_do_update(
            index_elements=["repository"],
            set_={
                # The newest reason is the one shown; the count says how many were folded in.
                "reason": new.reason,
                "detail": new.detail,
                "delivery": new.delivery,
                "requests": WatchJob.requests + 1,
                "again": or_(WatchJob.again, WatchJob.claimed_by.is_not(None)),
                # Waiting: it keeps its time, so a flood cannot put it off for ever. Running:
                # the run after it waits for the newest request's time.
                "run_after": case(
                    (WatchJob.claimed_by.is_not(None), new.run_after), else_=WatchJob.run_after
                ),
            },
        )
    )


def claim(
    tx: Tx, worker: str, now: datetime, claim_expires: timedelta, scope: str | None = None
) -> ClaimedJob | None:
    """Take the oldest due job (None: nothing is due); `scope` REPOSITORY or ORGANISATION takes
    only that kind."""
    query = select(WatchJob).where(
        WatchJob.run_after <= now,
        or_(WatchJob.claimed_by.is_(None), WatchJob.claimed_at < now - claim_expires),
    )
    if scope == ORGANISATION:
        query = query.where(WatchJob.repository == ALL_REPOSITORIES)
    elif scope == REPOSITORY:
        query = query.where(WatchJob.repository != ALL_REPOSITORIES)
    query = (
        query.order_by(WatchJob.run_after, WatchJob.id).limit(1).with_for_update(skip_locked=True)
    )
    job = tx.session.scalars(query).first()
    if job is None:
        return None
    job.claimed_by = worker[:200]
    job.claimed_at = now
    job.attempts += 1
    claimed = ClaimedJob(
        job.id,
        job.repository,
        job.reason,
        job.detail,
        job.requested_at,
        job.requests,
        job.attempts,
    )
    # Requests from now on count towards the next run, not this one.
    job.requests = 0
    return claimed


def finish(
    tx: Tx,
    job: ClaimedJob,
    worker: str,
    error: str | None,
    *,
    retry_after: timedelta,
    max_attempts: int,
    settle: timedelta,
) -> None:
    row = tx.session.get(WatchJob, job.id)
    if row is None or row.claimed_by != worker[:200]:
        return  # taken over by another worker after this one's claim expired
    if row.again:
        row.again = False
        row.claimed_by = row.claimed_at = None
        row.attempts = 0
        row.run_after = max(row.run_after, tx.now + settle)
    elif error is not None and row.attempts < max_attempts:
        row.claimed_by = row.claimed_at = None
        row.last_error = error[:_ERROR]
        row.run_after = tx.now + retry_after * row.attempts
    else:
        tx.session.delete(row)


def forget_deliveries(tx: Tx, older_than: datetime) -> int:
    """Drop delivery ids past the replay memory (a replay after it only queues a rescan)."""
    result = tx.session.execute(
        delete(WebhookDelivery).where(WebhookDelivery.received_at < older_than)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def pending(tx: Tx) -> list[dict[str, Any]]:
    """The queue as it stands, soonest first."""
    query = select(WatchJob).order_by(WatchJob.run_after, WatchJob.id)
    return [job.to_dict() for job in tx.session.scalars(query)]


def full_rescan_queued(tx: Tx) -> bool:
    count = tx.session.scalar(
        select(func.count()).select_from(WatchJob).where(WatchJob.repository == ALL_REPOSITORIES)
    )
    return bool(count)
