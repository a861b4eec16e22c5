"""The dashboard's view of the watcher: each repository's last rescan and why, its issue, the
writes made to GitHub, and what is queued."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from secposture.register.database import Tx
from secposture.register.models import History
from secposture.register.watch_tables import RepositoryIssue, WatchJob, WatchScan

MAX_ROWS = 5000
WRITE_ACTIONS = ("opened", "updated", "reminded", "closed", "failed", "deferred")


@dataclass(frozen=True)
class WatchView:
    repositories: list[dict[str, Any]]
    writes: list[dict[str, Any]]
    queued: list[dict[str, Any]]


def watch_view(tx: Tx, *, search: str = "", writes: int = 100) -> WatchView:
    newest = (
        select(WatchScan.repository, func.max(WatchScan.id).label("id"))
        .group_by(WatchScan.repository)
        .subquery()
    )
    query = select(WatchScan).join(newest, WatchScan.id == newest.c.id)
    if search:
        query = query.where(WatchScan.repository.contains(search.lower(), autoescape=True))
    scans = list(tx.session.scalars(query.order_by(WatchScan.repository).limit(MAX_ROWS)))
    issues = {
        row.repository: row
        for row in tx.session.scalars(
            select(RepositoryIssue).where(
                RepositoryIssue.repository.in_([s.repository for s in scans])
            )
        )
    }
    repositories = []
    for scan in scans:
        issue = issues.get(scan.repository)
        repositories.append(
            {
                **scan.to_dict(),
                "issue_state": issue.state if issue else None,
                "issue_number": issue.number if issue else None,
                "issue_url": issue.url if issue else None,
            }
        )
    history = tx.session.scalars(
        select(History)
        .where(History.entity == RepositoryIssue.ENTITY)
        .order_by(History.id.desc())
        .limit(writes)
    )
    write_rows = [
        {"at": row.at, "action": row.action, "actor": row.actor, **(row.after or {})}
        for row in history
    ]
    queued = [
        job.to_dict()
        for job in tx.session.scalars(select(WatchJob).order_by(WatchJob.run_after).limit(200))
    ]
    return WatchView(repositories, write_rows, queued)


def last_rescan(tx: Tx, repository: str) -> dict[str, Any] | None:
    """A repository's newest rescan by the watcher (None: never rescanned by it)."""
    row = tx.session.scalars(
        select(WatchScan)
        .where(WatchScan.repository == repository.strip().lower())
        .order_by(WatchScan.id.desc())
        .limit(1)
    ).first()
    return None if row is None else row.to_dict()
