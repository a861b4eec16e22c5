"""The worker: takes rescan jobs from the queue, scans through the same batched fetch plan as
`scan --org` (restricted to the job's repository, or the whole organisation for the schedule),
records each scan as `scan --record` does with why it ran, then brings the repository's issue in
line (repository_issue.py).

One worker thread per process: with the embedded SQLite register, one process; with PostgreSQL,
any number of processes share the queue (queue.claim skips jobs another holds).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from secposture.model import EstateRepository
from secposture.policy import Policy
from secposture.probes.interface import probe_reads
from secposture.register.database import Database, Tx
from secposture.register.errors import RegisterError
from secposture.register.scan_context import RepositoryRecords, repository_records
from secposture.register.scans import record_scan
from secposture.register.watch_tables import ALL_REPOSITORIES, WatchScan
from secposture.sources.github.fetch import GitHubFetcher, RepoFilter
from secposture.sources.github.transport import GitHubClient, GitHubError
from secposture.watch import queue
from secposture.watch.interface import RescanRequest, WatchSettings
from secposture.watch.repository_issue import (
    IssueConfig,
    IssueOutcome,
    WritePacer,
    read_config,
    sync_issue,
)

log = logging.getLogger("secposture.watch")
ACTOR = "secposture watch"
SCHEDULE_REASON = "schedule"
DEFERRED_RETRY = timedelta(minutes=1)
RECORD_BATCH = 50  # repositories recorded per transaction
FORGET_EVERY_SECONDS = 3600  # how often delivery ids past the replay memory are dropped


@dataclass(frozen=True)
class RescanResult:
    repository: str
    reason: str
    outcome: str  # recorded, failed, gone
    api_requests: int
    issue: IssueOutcome | None = None
    error: str | None = None


class Watcher:
    """Runs the queue. `client` is made once and kept (an App's installation token is renewed
    by its credentials); `policy` is the operator's, as for `scan --org`."""

    def __init__(
        self,
        database: Database,
        settings: WatchSettings,
        policy: Policy,
        client_factory: Callable[[], GitHubClient],
        *,
        pacer: WritePacer | None = None,
        name: str | None = None,
    ) -> None:
        self.database = database
        self.settings = settings
        self.policy = policy
        self._client_factory = client_factory
        self._client: GitHubClient | None = None
        self.pacer = pacer or WritePacer()
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        self._wakes = {scope: threading.Event() for scope in queue.SCOPES}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._client_lock = threading.Lock()

    # -- the background thread -----------------------------------------------------------------

    def start(self) -> None:
        """Two threads: one for single repositories, one for the whole organisation, so a push
        is rescanned at once even while the nightly full rescan runs."""
        if self._threads:
            return
        self._stop.clear()
        for scope in queue.SCOPES:
            thread = threading.Thread(
                target=self._loop, args=(scope,), name=f"secposture-watch-{scope}", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        for event in self._wakes.values():
            event.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []
        if self._client is not None:
            self._client.close()
            self._client = None

    def wake(self) -> None:
        """A delivery was queued: look at the queue now rather than at the next poll."""
        for event in self._wakes.values():
            event.set()

    def _loop(self, scope: str) -> None:
        wake = self._wakes[scope]
        forget_at = 0.0
        while not self._stop.is_set():
            wake.clear()
            try:
                if scope == queue.ORGANISATION:
                    self.schedule_full_rescan()
                    if time.monotonic() >= forget_at:
                        self.forget_old_deliveries()
                        forget_at = time.monotonic() + FORGET_EVERY_SECONDS
                self.run_pending(scope=scope)
            except (RegisterError, GitHubError) as exc:
                log.warning("watch: %s", exc)
            except Exception:  # the loop must outlive a fault in one job; it is logged
                log.exception("watch: a fault in secposture")
            wake.wait(self.settings.poll_seconds)

    # -- the work -------------------------------------------------------------------------------

    @property
    def client(self) -> GitHubClient:
        """One client for both threads (it is thread-safe), made on first use."""
        with self._client_lock:
            if self._client is None:
                self._client = self._client_factory()
            return self._client

    def run_pending(
        self, *, at: datetime | None = None, limit: int | None = None, scope: str | None = None
    ) -> list[RescanResult]:
        """Run every due job (`at`: as if it were then; `scope`: only single repositories or
        only the whole organisation), one at a time; what each did."""
        done: list[RescanResult] = []
        worker = f"{self.name}/{scope or 'any'}"
        while limit is None or len(done) < limit:
            if self._stop.is_set() and self._threads:
                break

            def take(tx: Tx) -> queue.ClaimedJob | None:
                now = at or tx.now
                return queue.claim(tx, worker, now, self.settings.claim_expires, scope)

            job = self.database.write(ACTOR, take)
            if job is None:
                break
            error: str | None = None
            try:
                results = self._run(job)
                done.extend(results)
                failed = [r for r in results if r.outcome == "failed"]
                if failed and len(results) == 1:
                    error = failed[0].error
            except (GitHubError, RegisterError) as exc:
                error = str(exc)
                log.warning("watch: rescan of %s failed: %s", job.repository, exc)
            self._finish(job, worker, error)
        return done

    def _finish(self, job: queue.ClaimedJob, worker: str, error: str | None) -> None:
        def finish(tx: Tx) -> None:
            queue.finish(
                tx,
                job,
                worker,
                error,
                retry_after=self.settings.retry_after,
                max_attempts=self.settings.max_attempts,
                settle=self.settings.settle,
            )

        self.database.write(ACTOR, finish)

    def schedule_full_rescan(self, *, at: datetime | None = None) -> bool:
        """Queue the whole organisation when the last full rescan is older than the interval
        (or there has been none); True when queued."""
        every = self.settings.full_rescan_every
        if every is None or not self.settings.organisation:
            return False

        def due(tx: Tx) -> bool:
            now = at or tx.now
            if queue.full_rescan_queued(tx):
                return False
            last = tx.session.scalar(
                select(func.max(WatchScan.finished_at)).where(WatchScan.reason == SCHEDULE_REASON)
            )
            if last is not None and now - last < every:
                return False
            request = RescanRequest(ALL_REPOSITORIES, SCHEDULE_REASON, "the scheduled full rescan")
            queue.enqueue(tx, request, timedelta(0), at=now)
            return True

        queued: bool = self.database.write(ACTOR, due)
        return queued

    def forget_old_deliveries(self) -> int:
        keep = self.settings.replay_memory
        forgotten: int = self.database.write(
            ACTOR, lambda tx: queue.forget_deliveries(tx, tx.now - keep)
        )
        return forgotten

    def _run(self, job: queue.ClaimedJob) -> list[RescanResult]:
        client = self.client
        before = _requests(client)
        fetcher = GitHubFetcher(
            client,
            self.policy,
            concurrency=1 if job.repository != ALL_REPOSITORIES else 4,
            reads=probe_reads,
        )
        today: date = self.database.read(lambda tx: tx.today)
        from secposture.scan import scan_github

        if job.repository == ALL_REPOSITORIES:
            states = fetcher.list_org(self.settings.organisation, RepoFilter())
        else:
            owner, name = job.repository.split("/", 1)
            try:
                states = [fetcher.get_repo(owner, name)]
            except GitHubError as exc:
                if exc.status != 404:
                    raise
                self._record_gone(job, str(exc))
                return [RescanResult(job.repository, job.reason, "gone", 1, error=str(exc))]
        entries = scan_github(fetcher, states, today, self._records_for)
        spent = _requests(client) - before
        per_repository = round(spent / max(1, len(entries)))
        if job.repository == ALL_REPOSITORIES:
            # Batched across the organisation: the whole run's cost says more than a share.
            job = replace(
                job, detail=f"{job.detail} ({spent:,} requests for {len(entries):,} repositories)"
            )
        self._record(job, entries, per_repository)
        config = self._config(client)
        results = []
        for entry in entries:
            issue = self._issue(client, config, entry)
            results.append(
                RescanResult(
                    entry.name,
                    job.reason,
                    "recorded" if entry.report is not None else "failed",
                    per_repository,
                    issue,
                    entry.error,
                )
            )
        return results

    def _records_for(self, repository: str) -> RepositoryRecords:
        records: RepositoryRecords = self.database.read(
            lambda tx: repository_records(tx, repository)
        )
        return records

    def _config(self, client: GitHubClient) -> IssueConfig:
        if not self.settings.organisation:
            return IssueConfig(problem="no organisation is configured")
        try:
            return read_config(client, self.settings.organisation)
        except GitHubError as exc:
            return IssueConfig(problem=f"the organisation's configuration: {exc}")

    def _issue(
        self, client: GitHubClient, config: IssueConfig, entry: EstateRepository
    ) -> IssueOutcome | None:
        if entry.report is None:
            return None
        outcome = sync_issue(
            self.database.read,
            lambda fn: self.database.write(ACTOR, fn),
            client,
            self.pacer,
            config,
            entry.name,
            entry.report,
            entry.topics,
            entry.archived,
            self.database.clock(),
        )
        if outcome.action == "deferred":
            request = RescanRequest(entry.name, "issue deferred", "a write waited for the budget")
            self.database.write(
                ACTOR,
                lambda tx: queue.enqueue(tx, request, DEFERRED_RETRY),
            )
        return outcome

    def _record(
        self, job: queue.ClaimedJob, entries: list[EstateRepository], per_repository: int
    ) -> None:
        # In short transactions: a full rescan's thousands of results in one would hold SQLite's
        # write lock for seconds, and a webhook's write must answer GitHub within ten.
        for start in range(0, len(entries), RECORD_BATCH):
            self._record_batch(job, entries[start : start + RECORD_BATCH], per_repository)

    def _record_batch(
        self, job: queue.ClaimedJob, entries: list[EstateRepository], per_repository: int
    ) -> None:
        def store(tx: Tx) -> None:
            for entry in entries:
                scan_id = None
                if entry.report is not None:
                    report = replace(
                        entry.report, target=replace(entry.report.target, name=entry.name)
                    )
                    scan_id = record_scan(tx, report).id
                tx.session.add(
                    WatchScan(
                        repository=entry.name.lower(),
                        reason=job.reason[:40],
                        detail=job.detail[:2000],
                        scan_id=scan_id,
                        requested_at=job.requested_at,
                        finished_at=tx.now,
                        outcome="recorded" if scan_id is not None else "failed",
                        error=entry.error,
                        api_requests=per_repository,
                    )
                )

        self.database.write(ACTOR, store)

    def _record_gone(self, job: queue.ClaimedJob, error: str) -> None:
        def store(tx: Tx) -> None:
            tx.session.add(
                WatchScan(
                    repository=job.repository,
                    reason=job.reason[:40],
                    detail=job.detail[:2000],
                    scan_id=None,
                    requested_at=job.requested_at,
                    finished_at=tx.now,
                    outcome="gone",
                    error=error[:4000],
                    api_requests=1,
                )
            )

        self.database.write(ACTOR, store)


def _requests(client: GitHubClient) -> int:
    counters = client.counters()
    return counters.rest_requests + counters.graphql_requests


def accept_delivery(
    database: Database,
    settings: WatchSettings,
    delivery: str,
    event: str,
    requests: tuple[RescanRequest, ...],
) -> bool:
    """Remember a delivery and queue its rescans (the webhook route's one write)."""
    accepted: bool = database.write(
        ACTOR, lambda tx: queue.accept(tx, delivery, event, requests, settings.settle)
    )
    return accepted
