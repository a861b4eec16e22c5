"""The scan's side of the register: which register to read, what it holds for a repository, and
storing results for trends (`scan --record`).

A scan reads the register when one is named (`--db`, SECPOSTURE_DATABASE_URL) or the embedded
default already exists; it never creates one unless asked to record. Imported only then, so a
scan without a register does not load SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from secposture.model import ScanReport
from secposture.register.database import Database, Tx
from secposture.register.location import register_configured
from secposture.register.scan_context import RepositoryRecords, repository_records
from secposture.register.scans import record_scan


def open_register(db: str | None, *, record: bool) -> Database | None:
    """The register to read (and write, with `record`), or None when there is none to read."""
    if not record and not register_configured(db):
        return None
    # A named register that does not exist yet is created only to record into.
    return Database.open(db, create=record)


def records_lookup(database: Database) -> Callable[[str], RepositoryRecords]:
    """What the register holds for a repository ("owner/name"), one read each."""

    def lookup(repository: str) -> RepositoryRecords:
        return database.read(lambda tx: repository_records(tx, repository))

    return lookup


# A checkout whose repository name is not known (no remote, no --repository): the probes say so.
UNIDENTIFIED = RepositoryRecords(repository="", products=(), waivers=())


def record_reports(
    database: Database, reports: Iterable[tuple[str, ScanReport]], actor: str
) -> int:
    """Store each (repository, report) as a scan run; returns how many were stored."""
    pending = [(name, report) for name, report in reports]

    def store(tx: Tx) -> int:
        for name, report in pending:
            record_scan(tx, replace(report, target=replace(report.target, name=name)))
        return len(pending)

    return database.write(actor, store)
