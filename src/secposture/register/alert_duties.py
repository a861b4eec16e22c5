"""Overdue Dependabot alerts as the register knows them: from the latest recorded scan of each
repository (`scan --record`, or the watcher), the `vulnerabilities-patched-in-time` findings
that were past their patch-by date then. The register does not ask GitHub itself, so what it
lists is as fresh as the last recorded scan; an advisory waived or accepted since that scan is
left out (register/advisories.py), the rest stay until a scan no longer finds them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select

from secposture.register.advisories import CONTROL, advisory_exemptions
from secposture.register.database import Tx
from secposture.register.models import ProductRepository, ScanResult, ScanRun
from secposture.register.waivers import active_waivers


@dataclass(frozen=True)
class OverdueAlert:
    repository: str
    alert: str  # the alert's number, "" when GitHub gave none
    ghsa: str
    cves: str
    package: str
    ecosystem: str
    manifest: str
    severity: str
    patch_by: date
    fix_pr: str
    scanned_at: date

    @property
    def reference(self) -> str:
        return f"{self.repository}#{self.alert}" if self.alert else self.repository

    @property
    def url(self) -> str:
        return (
            f"https://github.com/{self.repository}/security/dependabot/{self.alert}"
            if self.alert
            else ""
        )

    def days_overdue(self, today: date) -> int:
        return (today - self.patch_by).days

    def to_dict(self, today: date) -> dict[str, Any]:
        return {
            "repository": self.repository,
            "alert": self.alert,
            "ghsa": self.ghsa,
            "cve": self.cves,
            "package": self.package,
            "ecosystem": self.ecosystem,
            "manifest": self.manifest,
            "severity": self.severity,
            "patch_by": self.patch_by.isoformat(),
            "days_overdue": self.days_overdue(today),
            "fix_pr": self.fix_pr,
            "scanned_on": self.scanned_at.isoformat(),
        }


def overdue_alerts(
    tx: Tx, today: date, repositories: Iterable[str] | None = None
) -> list[OverdueAlert]:
    """The alerts past their patch-by date at `today`, most overdue first; `repositories`
    limits the search (lower-case OWNER/REPO), None: every repository scanned."""
    newest = (
        select(ScanRun.repository, func.max(ScanRun.id).label("id"))
        .group_by(ScanRun.repository)
        .subquery()
    )
    query = (
        select(ScanRun.repository, ScanRun.scanned_at, ScanResult.evidence)
        .join(newest, ScanRun.id == newest.c.id)
        .join(ScanResult, ScanResult.scan_id == ScanRun.id)
        .where(ScanResult.control == CONTROL, ScanResult.status == "fail")
    )
    if repositories is not None:
        wanted = [r.strip().lower() for r in repositories]
        if not wanted:
            return []
        query = query.where(func.lower(ScanRun.repository).in_(wanted))
    found: list[OverdueAlert] = []
    for repository, scanned_at, evidence in tx.session.execute(query):
        alerts = [
            a
            for a in (_alert(repository, scanned_at.date(), item) for item in evidence or [])
            if a is not None and a.patch_by < today
        ]
        if not alerts:
            continue
        waivers = active_waivers(tx, repository)
        exempt = {
            e.ghsa
            for e in advisory_exemptions(
                tx, repository, ((w.control, w.reason, w.expires, w.origin) for w in waivers)
            )
            if e.until >= today
        }
        found += [a for a in alerts if not a.ghsa or a.ghsa not in exempt]
    return sorted(found, key=lambda a: (a.patch_by, a.repository, a.alert))


def repositories_of_product(tx: Tx, product_id: int) -> list[str]:
    query = select(ProductRepository.repository).where(ProductRepository.product_id == product_id)
    return [r.lower() for r in tx.session.scalars(query)]


def _alert(repository: str, scanned: date, item: object) -> OverdueAlert | None:
    """One recorded finding as an overdue alert; None for anything else (the summary, a
    waived alert, an unusable alert, a record written by hand)."""
    if not isinstance(item, Mapping) or item.get("outcome") != "negative":
        return None
    values = item.get("values")
    if not isinstance(values, Mapping):
        return None
    try:
        patch_by = date.fromisoformat(str(values.get("patch_by", "")))
    except ValueError:
        return None

    def text(key: str) -> str:
        value = values.get(key)
        return value if isinstance(value, str) else ""

    # Recorded evidence is shown as links on the dashboard: only an alert number and an
    # https link are kept, whatever the record holds.
    number = text("alert")
    fix_pr = text("fix_pr")
    return OverdueAlert(
        repository=repository,
        alert=number if number.isascii() and number.isdigit() else "",
        ghsa=text("ghsa"),
        cves=text("cve"),
        package=text("package"),
        ecosystem=text("ecosystem"),
        manifest=text("manifest"),
        severity=text("severity"),
        patch_by=patch_by,
        fix_pr=fix_pr if fix_pr.startswith("https://") and '"' not in fix_pr else "",
        scanned_at=scanned,
    )
