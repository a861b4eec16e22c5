"""Reads the dashboard needs that the register's API does not offer, each a statement or two
however large the estate is (the speed bar: 2,000 repositories x 20 controls in 300 ms).

- `estate`: the newest recorded scan of every repository with each control's status (one
  statement), and from it compliance by level. Levels and titles come from the control
  catalogue: a recorded result keeps its control id and status, not the policy of the day.
- `trend`: per day (UTC), the share of recorded control results that pass or are waived, of
  those that apply, by level (one grouped statement over the last `days` days). Each point is
  the scans recorded that day, so an estate scanned daily gives its posture day by day.
  `TrendCache` keeps it between page views and adds only newly recorded scans: 90 days of
  daily scans of 2,000 repositories are 3.6 million results, too many to group per page view.
- `repository_scans`: a repository's recent scans with every result and its evidence.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, literal, select

from secposture import catalogue
from secposture.catalogue import ControlSpec
from secposture.register.database import Tx
from secposture.register.models import ScanResult, ScanRun

LEVELS = ("required", "recommended", "extra")
STATUSES = ("pass", "partial", "fail", "not_applicable", "unknown", "waived")
FAILING = frozenset({"fail", "partial"})


def controls() -> Mapping[str, ControlSpec]:
    """The catalogue's controls in their documented order."""
    return catalogue.controls()


def control(control_id: str) -> ControlSpec:
    """A control by id; one the catalogue does not know (a custom one) counts as extra."""
    return controls().get(control_id) or catalogue.custom_control(control_id)


@dataclass
class EstateRow:
    repository: str
    scan_id: int
    scanned_at: datetime
    commit: str | None
    statuses: dict[str, str] = field(default_factory=dict)

    def failing(self, level: str) -> bool:
        return any(
            status in FAILING and control(cid).level == level
            for cid, status in self.statuses.items()
        )


@dataclass(frozen=True)
class LevelCompliance:
    level: str
    repositories: int  # repositories with at least one result at this level
    compliant: int  # of those, with no failing (fail or partial) result at this level
    counts: dict[str, int]  # results at this level by status

    @property
    def percent(self) -> float:
        return 100.0 * self.compliant / self.repositories if self.repositories else 0.0


@dataclass(frozen=True)
class Estate:
    controls: list[ControlSpec]  # the columns: controls with a recorded result, catalogue order
    rows: list[EstateRow]
    compliance: list[LevelCompliance]
    total_repositories: int  # before the text filter


def estate(tx: Tx, *, search: str = "", only_failing: bool = False) -> Estate:
    """The newest recorded scan of each repository: one statement for the whole matrix, each
    repository's results folded into one string by the database (2,000 rows, not 40,000)."""
    newest = select(func.max(ScanRun.id).label("id")).group_by(ScanRun.repository).scalar_subquery()
    query = (
        select(
            ScanRun.id,
            ScanRun.repository,
            ScanRun.scanned_at,
            ScanRun.commit,
            _folded_results(tx),
        )
        .outerjoin(ScanResult, ScanResult.scan_id == ScanRun.id)
        .where(ScanRun.id.in_(newest))
        .group_by(ScanRun.id, ScanRun.repository, ScanRun.scanned_at, ScanRun.commit)
        .order_by(ScanRun.repository, ScanRun.id)
    )
    all_rows = []
    for scan_id, repository, scanned_at, commit, folded in tx.session.execute(query):
        statuses = {}
        if folded:
            for pair in folded.split(_PAIRS):
                control_id, _, status = pair.partition(_PAIR)
                statuses[control_id] = status
        all_rows.append(EstateRow(repository, scan_id, scanned_at, commit, statuses))
    columns = _columns(row.statuses for row in all_rows)
    shown = all_rows
    needle = search.strip().casefold()
    if needle:
        shown = [row for row in shown if needle in row.repository.casefold()]
    if only_failing:
        shown = [row for row in shown if row.failing("required")]
    return Estate(columns, shown, compliance(all_rows), len(all_rows))


# Separators no control id or status contains (ASCII record and unit separators).
_PAIRS, _PAIR = "\x1e", "\x1f"


def _folded_results(tx: Tx) -> Any:
    """Every result of a scan as "control<US>status<RS>control<US>status..." in one column."""
    pair = ScanResult.control + literal(_PAIR) + ScanResult.status
    if tx.session.get_bind().dialect.name == "postgresql":
        return func.string_agg(pair, literal(_PAIRS))
    return func.group_concat(pair, literal(_PAIRS))


def _columns(statuses: Iterable[dict[str, str]]) -> list[ControlSpec]:
    seen: set[str] = set()
    for mapping in statuses:
        seen.update(mapping)
    known = [c for cid, c in controls().items() if cid in seen]
    custom = [control(cid) for cid in sorted(seen - set(controls()))]
    return known + custom


def compliance(rows: list[EstateRow]) -> list[LevelCompliance]:
    """Per level: how many repositories pass every control of it (none fail or partial)."""
    level_of: dict[str, str] = {cid: c.level for cid, c in controls().items()}
    counts = {level: dict.fromkeys(STATUSES, 0) for level in LEVELS}
    repositories = dict.fromkeys(LEVELS, 0)
    compliant = dict.fromkeys(LEVELS, 0)
    for row in rows:
        seen: set[str] = set()
        failing: set[str] = set()
        for cid, status in row.statuses.items():
            level = level_of.get(cid, "extra")
            seen.add(level)
            if status in FAILING:
                failing.add(level)
            by_status = counts[level]
            by_status[status] = by_status.get(status, 0) + 1
        for level in seen:
            repositories[level] += 1
            if level not in failing:
                compliant[level] += 1
    return [
        LevelCompliance(level, repositories[level], compliant[level], counts[level])
        for level in LEVELS
    ]


@dataclass(frozen=True)
class TrendPoint:
    day: date
    level: str
    passing: int  # results that pass (or are waived)
    counted: int  # results that apply (not not_applicable)

    @property
    def percent(self) -> float:
        return 100.0 * self.passing / self.counted if self.counted else 0.0


def trend(tx: Tx, *, days: int = 90, today: date | None = None) -> list[TrendPoint]:
    """Per day and level, the share of recorded results that pass, over the last `days` days."""
    since = _since(tx, days, today)
    return _points(_day_totals(tx, since, None), since)


def _since(tx: Tx, days: int, today: date | None) -> date:
    return (today or tx.today) - timedelta(days=days)


def _day_totals(
    tx: Tx, since: date, after_id: int | None, upto_id: int | None = None
) -> dict[tuple[date, str], list[int]]:
    """[passing, counted] per (UTC day, level) for the scans from `since` with an id above
    `after_id` and up to `upto_id` (either None: no bound): one grouped statement."""
    start = datetime.combine(since, datetime.min.time(), tzinfo=UTC)
    # Days in UTC on both databases (PostgreSQL would otherwise use the session's time zone).
    utc = tx.session.get_bind().dialect.name == "postgresql"
    moment = func.timezone("UTC", ScanRun.scanned_at) if utc else ScanRun.scanned_at
    day = func.date(moment)
    query = (
        select(day, ScanResult.control, ScanResult.status, func.count())
        .join(ScanResult, ScanResult.scan_id == ScanRun.id)
        .where(ScanRun.scanned_at >= start)
        .group_by(day, ScanResult.control, ScanResult.status)
    )
    if after_id is not None:
        query = query.where(ScanRun.id > after_id)
    if upto_id is not None:
        # Bounded by the newest id this transaction counted: on PostgreSQL each statement sees
        # the scans committed before it, and one committed in between is counted next time.
        query = query.where(ScanRun.id <= upto_id)
    totals: dict[tuple[date, str], list[int]] = {}
    for raw_day, control_id, status, count in tx.session.execute(query):
        when = raw_day if isinstance(raw_day, date) else date.fromisoformat(str(raw_day)[:10])
        if status == "not_applicable":
            continue
        entry = totals.setdefault((when, control(control_id).level), [0, 0])
        entry[1] += count
        if status in ("pass", "waived"):
            entry[0] += count
    return totals


def _points(totals: dict[tuple[date, str], list[int]], since: date) -> list[TrendPoint]:
    return [
        TrendPoint(when, level, passing, counted)
        for (when, level), (passing, counted) in sorted(totals.items())
        if when >= since
    ]


class TrendCache:
    """The trend, kept between page views and brought up to date with only the scans recorded
    since: recorded scans are append-only, so a day's totals only ever grow. Recomputed in full
    when a scan appears below the newest id seen (a transaction that committed late) or the
    number of days shown changes; days that leave the window are dropped."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._days: int | None = None
        self._upto = 0  # the newest scan id counted
        self._runs = 0  # how many scans have an id up to it
        self._totals: dict[tuple[date, str], list[int]] = {}

    def points(self, tx: Tx, *, days: int = 90) -> list[TrendPoint]:
        since = _since(tx, days, None)
        newest, runs = tx.session.execute(
            select(func.coalesce(func.max(ScanRun.id), 0), func.count(ScanRun.id))
        ).one()
        with self._lock:
            if self._usable(days, runs, newest, tx):
                self._totals = {k: v for k, v in self._totals.items() if k[0] >= since}
                if newest > self._upto:
                    delta = _day_totals(tx, since, self._upto, newest)
                    for key, (passing, counted) in delta.items():
                        entry = self._totals.setdefault(key, [0, 0])
                        entry[0] += passing
                        entry[1] += counted
            else:
                self._totals = _day_totals(tx, since, None, newest)
                self._days = days
            self._upto, self._runs = newest, runs
            return _points(self._totals, since)

    def _usable(self, days: int, runs: int, newest: int, tx: Tx) -> bool:
        if self._days != days or newest < self._upto:
            return False
        if newest == self._upto:
            return runs == self._runs
        below = tx.session.scalar(select(func.count(ScanRun.id)).where(ScanRun.id <= self._upto))
        return below == self._runs


@dataclass(frozen=True)
class ScanView:
    id: int
    scanned_at: datetime
    commit: str | None
    source: str
    tool_version: str
    results: list[dict[str, Any]]  # control, status, summary, evidence


def repository_scans(tx: Tx, repository: str, *, limit: int = 10) -> list[ScanView]:
    """A repository's newest scans (newest first) with their results: two statements."""
    runs = list(
        tx.session.execute(
            select(
                ScanRun.id, ScanRun.scanned_at, ScanRun.commit, ScanRun.source, ScanRun.tool_version
            )
            .where(ScanRun.repository == repository)
            .order_by(ScanRun.id.desc())
            .limit(limit)
        )
    )
    if not runs:
        return []
    results: dict[int, list[dict[str, Any]]] = {run[0]: [] for run in runs}
    query = (
        select(
            ScanResult.scan_id,
            ScanResult.control,
            ScanResult.status,
            ScanResult.summary,
            ScanResult.evidence,
        )
        .where(ScanResult.scan_id.in_(list(results)))
        .order_by(ScanResult.id)
    )
    for scan_id, control_id, status, summary, evidence in tx.session.execute(query):
        results[scan_id].append(
            {"control": control_id, "status": status, "summary": summary, "evidence": evidence}
        )
    order = list(controls())
    for items in results.values():
        items.sort(key=lambda r: order.index(r["control"]) if r["control"] in order else 999)
    return [ScanView(run[0], run[1], run[2], run[3], run[4], results[run[0]]) for run in runs]


def known_repository(tx: Tx, repository: str) -> bool:
    found = tx.session.scalar(select(ScanRun.id).where(ScanRun.repository == repository).limit(1))
    return found is not None


def history_rows(
    tx: Tx, entity: str, entity_id: int | None = None, *, limit: int | None = None
) -> list[dict[str, Any]]:
    """Changes to one record (oldest first), or the newest changes to every record of a kind
    (`entity_id` None: newest first, at most `limit`)."""
    from secposture.register.history import changed_fields
    from secposture.register.models import History

    query = select(History).where(History.entity == entity)
    if entity_id is not None:
        query = query.where(History.entity_id == entity_id).order_by(History.id)
    else:
        query = query.order_by(History.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return [
        {
            "at": row.at,
            "action": row.action,
            "actor": row.actor,
            "entity_id": row.entity_id,
            "fields": changed_fields(row),
        }
        for row in tx.session.scalars(query)
    ]
