"""Watching the estate (migration 0005): the rescan queue, the webhook deliveries already seen,
why each rescan ran, and the issue each repository has from the repository-issue action.

The queue is a table of the register's own database, so every web process that shares the
register shares the work (ADR 0019): one row per repository waiting or running, so a flood of
deliveries for one repository is one job. The other tables are append-only, apart from the
repository issue's current state, whose every change writes a history row (entity
"repository_issue").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from secposture.register.base import LINK, NAME, SHORT, Base, JsonType, UTCDateTime, iso

# A webhook's delivery id is a GUID (36 characters); anything longer is refused before it
# reaches the database.
DELIVERY = 100
# The job that rescans the whole organisation (the schedule) stands in the repository column.
ALL_REPOSITORIES = "*"


class WatchJob(Base):
    """A rescan waiting or running. `again`: a request came while it ran, so it runs once more."""

    __tablename__ = "watch_job"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repository: Mapped[str] = mapped_column(String(NAME), nullable=False, unique=True)
    reason: Mapped[str] = mapped_column(String(SHORT), nullable=False)
    detail: Mapped[str] = mapped_column(String(LINK), nullable=False)
    delivery: Mapped[str | None] = mapped_column(String(DELIVERY))
    requests: Mapped[int] = mapped_column(Integer, nullable=False)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(NAME))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    again: Mapped[bool] = mapped_column(Boolean, nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False)
    last_error: Mapped[str | None] = mapped_column(Text)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "repository": self.repository,
            "reason": self.reason,
            "detail": self.detail,
            "delivery": self.delivery,
            "requests": self.requests,
            "requested_at": iso(self.requested_at),
            "run_after": iso(self.run_after),
            "claimed_by": self.claimed_by,
            "claimed_at": iso(self.claimed_at) if self.claimed_at else None,
            "again": self.again,
            "attempts": self.attempts,
            "last_error": self.last_error,
        }


class WebhookDelivery(Base):
    """A delivery id already accepted: the same id again is a replay and is ignored."""

    __tablename__ = "webhook_delivery"

    delivery: Mapped[str] = mapped_column(String(DELIVERY), primary_key=True)
    event: Mapped[str] = mapped_column(String(SHORT), nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)


class WatchScan(Base):
    """One rescan the watcher ran: which repository, why, and the recorded scan it made."""

    __tablename__ = "watch_scan"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repository: Mapped[str] = mapped_column(String(NAME), nullable=False)
    reason: Mapped[str] = mapped_column(String(SHORT), nullable=False)
    detail: Mapped[str] = mapped_column(String(LINK), nullable=False)
    scan_id: Mapped[int | None] = mapped_column(ForeignKey("scan_run.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    outcome: Mapped[str] = mapped_column(String(SHORT), nullable=False)
    error: Mapped[str | None] = mapped_column(Text)
    api_requests: Mapped[int] = mapped_column(Integer, nullable=False)

    __table_args__ = (Index("ix_watch_scan_repository_finished", "repository", "finished_at"),)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "repository": self.repository,
            "reason": self.reason,
            "detail": self.detail,
            "scan": self.scan_id,
            "requested_at": iso(self.requested_at),
            "finished_at": iso(self.finished_at),
            "outcome": self.outcome,
            "error": self.error,
            "api_requests": self.api_requests,
        }


class RepositoryIssue(Base):
    """The issue the repository-issue action keeps in one repository, as last written."""

    __tablename__ = "repository_issue"
    ENTITY = "repository_issue"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repository: Mapped[str] = mapped_column(String(NAME), nullable=False, unique=True)
    number: Mapped[int | None] = mapped_column(Integer)
    url: Mapped[str | None] = mapped_column(String(LINK))
    state: Mapped[str] = mapped_column(String(SHORT), nullable=False)
    failing: Mapped[list[str]] = mapped_column(JsonType, nullable=False)
    digest: Mapped[str] = mapped_column(String(64), nullable=False)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "repository": self.repository,
            "number": self.number,
            "url": self.url,
            "state": self.state,
            "failing": list(self.failing),
            "opened_at": iso(self.opened_at) if self.opened_at else None,
            "updated_at": iso(self.updated_at),
            "reminded_at": iso(self.reminded_at) if self.reminded_at else None,
            "closed_at": iso(self.closed_at) if self.closed_at else None,
        }
