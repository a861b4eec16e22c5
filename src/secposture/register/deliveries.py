"""Deliveries of a security issue to the Security team (migration 0004).

A row is written only after a channel confirmed the delivery, in the same transaction as the
issue's history row for it (ADR 0018): a failed send leaves neither. Each row keeps the issue's
version at the moment it was sent, so a later send after an edit is known to be an update and
the earlier message (its id or URL) can be referred to.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from secposture.register.base import LINK, NAME, SHORT, Base, UTCDateTime, iso
from secposture.register.database import Tx


class IssueDelivery(Base):
    """One confirmed delivery of one issue over one channel. Append-only."""

    __tablename__ = "issue_delivery"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("security_issue.id"), nullable=False)
    channel: Mapped[str] = mapped_column(String(SHORT), nullable=False)
    # Where it went, as can be shown to anyone: an address, a host, a repository; never a
    # webhook's secret path.
    destination: Mapped[str] = mapped_column(String(LINK), nullable=False)
    issue_version: Mapped[int] = mapped_column(Integer, nullable=False)
    issue_updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    is_update: Mapped[bool] = mapped_column(Boolean, nullable=False)
    # What the channel answered: an email's Message-ID, a GitHub issue's number.
    reference: Mapped[str | None] = mapped_column(String(LINK))
    url: Mapped[str | None] = mapped_column(String(LINK))
    sent_by: Mapped[str] = mapped_column(String(NAME), nullable=False)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    __table_args__ = (Index("ix_issue_delivery_issue_channel", "issue_id", "channel"),)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "issue": self.issue_id,
            "channel": self.channel,
            "destination": self.destination,
            "issue_version": self.issue_version,
            "issue_updated_at": iso(self.issue_updated_at),
            "update": self.is_update,
            "reference": self.reference,
            "url": self.url,
            "sent_by": self.sent_by,
            "sent_at": iso(self.sent_at),
        }


def deliveries_of(tx: Tx, issue_id: int, channel: str | None = None) -> list[IssueDelivery]:
    """An issue's confirmed deliveries, oldest first (of one channel, if given)."""
    query = select(IssueDelivery).where(IssueDelivery.issue_id == issue_id)
    if channel is not None:
        query = query.where(IssueDelivery.channel == channel)
    return list(tx.session.scalars(query.order_by(IssueDelivery.id)))
