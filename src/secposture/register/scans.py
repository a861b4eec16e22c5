"""Recorded scans (`secposture scan --record`): each control's status per repository and commit,
kept for trends. Append-only: a scan is recorded once and never changed."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from secposture.model import ScanReport
from secposture.register import validate
from secposture.register.database import Tx
from secposture.register.history import record_event
from secposture.register.models import ScanResult, ScanRun
from secposture.reports.common import storable, storable_tree

MAX_EVIDENCE = 50  # findings kept per control; the full report is the scan's own output


def record_scan(tx: Tx, report: ScanReport) -> ScanRun:
    """Store one scan report: a run (repository, commit, time) and a row per control.

    A checkout's names can hold bytes that are not UTF-8 (surrogate escapes, see sources/local.py):
    every text is stored as the reports show it, `\\xNN`, which SQLite and PostgreSQL accept."""
    name = report.target.name
    run = ScanRun(
        repository=storable(name.lower() if report.target.source == "github" else name),
        commit=report.target.commit and storable(report.target.commit),
        source=report.target.source,
        scanned_at=_moment(report.generated_at, tx.now),
        tool_version=report.tool_version,
        results=[
            ScanResult(
                control=r.id,
                status=r.status.value,
                summary=storable(r.summary),
                evidence=storable_tree([f.to_dict() for f in r.findings[:MAX_EVIDENCE]]),
            )
            for r in report.results
        ],
    )
    tx.session.add(run)
    tx.session.flush()
    record_event(tx, "scan", run.id, "recorded", run.to_dict())
    return run


def _moment(text: str, fallback: datetime) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return fallback
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def scan_history(
    tx: Tx, repository: str, *, control: str | None = None, limit: int = 100
) -> list[tuple[ScanRun, ScanResult]]:
    """A repository's recorded statuses, newest first: one (run, result) per control and scan."""
    query = (
        select(ScanRun, ScanResult)
        .join(ScanResult, ScanResult.scan_id == ScanRun.id)
        .where(func.lower(ScanRun.repository) == repository.strip().lower())
        .order_by(ScanRun.scanned_at.desc(), ScanRun.id.desc(), ScanResult.id)
        .limit(limit)
    )
    if control is not None:
        query = query.where(ScanResult.control == validate.line("control", control))
    return [(run, result) for run, result in tx.session.execute(query)]


def latest_scans(tx: Tx) -> list[ScanRun]:
    """The newest recorded scan of every repository (the estate's current posture)."""
    newest = (
        select(ScanRun.repository, func.max(ScanRun.id).label("id"))
        .group_by(ScanRun.repository)
        .subquery()
    )
    query = select(ScanRun).join(newest, ScanRun.id == newest.c.id).order_by(ScanRun.repository)
    return list(tx.session.scalars(query))
