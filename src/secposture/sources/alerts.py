"""Open Dependabot alerts of a repository, as GitHub's GraphQL `vulnerabilityAlerts` gave them.

GitHub's answers are untrusted: every field may be missing, of the wrong type, absurdly long or
hold markup. Parsing keeps what is usable, cuts long texts, and records what was unusable in
`problem` (the probe then says so) rather than raising.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

ALERTS_ACCESS = (
    "the Dependabot alerts (read) permission: a GitHub App or fine-grained token with "
    "Dependabot alerts: read, or write, maintain or admin access to the repository"
)
SEVERITIES = ("critical", "high", "medium", "low")
_TEXT_CHARS = 200  # a package name or path longer than this is cut in the evidence
GHSA_ID = re.compile(r"GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}", re.IGNORECASE)
CVE_ID = re.compile(r"CVE-[0-9]{4}-[0-9]{4,19}", re.IGNORECASE)


@dataclass(frozen=True)
class VulnerabilityAlert:
    """One open alert. `created` None: GitHub gave no usable date (the probe says so)."""

    number: int | None
    created: datetime | None
    severity: str  # one of SEVERITIES, or "" when GitHub gave none usable
    package: str
    ecosystem: str
    manifest: str
    ghsa: str
    cves: tuple[str, ...]
    cvss_vector: str = ""
    fix_pr: str = ""  # Dependabot's pull request URL, when it opened one
    fix_pr_state: str = ""
    problem: str = ""  # what was unusable in GitHub's answer

    def reference(self, repository: str) -> str:
        return f"{repository}#{self.number}" if self.number is not None else repository


@dataclass(frozen=True)
class AlertList:
    """The open alerts GitHub showed, or why they could not be read.

    `readable` False: the token may not read alerts (`needs` names the permission), or the
    answer was cut (`cut` says why); either way no verdict can be given on them."""

    alerts: tuple[VulnerabilityAlert, ...] = ()
    readable: bool = True
    needs: str = ""
    cut: str = ""
    total: int | None = None  # GitHub's totalCount, when given


def clean_text(value: object, limit: int = _TEXT_CHARS) -> str:
    """A short, single-line text from an untrusted value ("" when it is not text)."""
    if not isinstance(value, str):
        return ""
    text = " ".join(value.split())
    text = "".join(ch for ch in text if ch.isprintable())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def normal_ghsa(text: str) -> str:
    """A GHSA id as GitHub writes it: "GHSA-" then lower-case groups."""
    return "GHSA-" + text[5:].lower()


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 moment as GitHub writes it, in UTC; None when unusable or absurd."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    # Dependabot began in 2017 (as security alerts); earlier is not a real alert date.
    if moment.year < 2017:
        return None
    return moment


def parse_alert(node: Mapping[str, Any]) -> VulnerabilityAlert:
    problems: list[str] = []
    number = node.get("number")
    if isinstance(number, bool) or not isinstance(number, int) or number <= 0:
        number = None
        problems.append("no alert number")
    created = parse_time(node.get("createdAt"))
    if created is None:
        problems.append("no usable creation date")
    advisory = node.get("securityAdvisory")
    advisory = advisory if isinstance(advisory, Mapping) else {}
    vulnerability = node.get("securityVulnerability")
    vulnerability = vulnerability if isinstance(vulnerability, Mapping) else {}
    severity = _severity(vulnerability.get("severity")) or _severity(advisory.get("severity"))
    if not severity:
        problems.append("no usable severity")
    package = vulnerability.get("package")
    package = package if isinstance(package, Mapping) else {}
    ghsa_text = advisory.get("ghsaId")
    ghsa = (
        normal_ghsa(ghsa_text)
        if isinstance(ghsa_text, str) and GHSA_ID.fullmatch(ghsa_text)
        else ""
    )
    cves: list[str] = []
    identifiers = advisory.get("identifiers")
    for ident in identifiers[:20] if isinstance(identifiers, list) else ():
        if isinstance(ident, Mapping) and ident.get("type") == "CVE":
            value = ident.get("value")
            if isinstance(value, str) and CVE_ID.fullmatch(value) and value.upper() not in cves:
                cves.append(value.upper())
    cvss = advisory.get("cvss")
    vector = clean_text(cvss.get("vectorString"), 300) if isinstance(cvss, Mapping) else ""
    update = node.get("dependabotUpdate")
    pull = update.get("pullRequest") if isinstance(update, Mapping) else None
    pr_url = ""
    pr_state = ""
    if isinstance(pull, Mapping):
        url = pull.get("url")
        if isinstance(url, str) and url.startswith("https://") and len(url) < 300:
            pr_url = clean_text(url, 300)
            pr_state = clean_text(pull.get("state"), 20).lower()
    return VulnerabilityAlert(
        number=number,
        created=created,
        severity=severity,
        package=clean_text(package.get("name")) or "(package not named)",
        ecosystem=clean_text(package.get("ecosystem"), 40).lower() or "(ecosystem not named)",
        manifest=clean_text(node.get("vulnerableManifestPath"), 300) or "(manifest not named)",
        ghsa=ghsa,
        cves=tuple(cves),
        cvss_vector=vector,
        fix_pr=pr_url,
        fix_pr_state=pr_state,
        problem="; ".join(problems),
    )


def _severity(value: object) -> str:
    if not isinstance(value, str):
        return ""
    name = value.strip().lower()
    return "medium" if name == "moderate" else name if name in SEVERITIES else ""


def alerts_from(graph_repo: Mapping[str, Any], forbidden: set[str], cut: str = "") -> AlertList:
    """The open alerts in round one's answer (with every page followed into `nodes`)."""
    if "vulnerabilityAlerts" in forbidden:
        return AlertList(readable=False, needs=ALERTS_ACCESS)
    connection = graph_repo.get("vulnerabilityAlerts")
    if cut:
        return AlertList(readable=False, cut=cut)
    if not isinstance(connection, Mapping):
        if "vulnerabilityAlerts" not in graph_repo:
            return AlertList(readable=False, cut="GitHub's answer had no vulnerability alerts")
        return AlertList(readable=False, needs=ALERTS_ACCESS)
    nodes = connection.get("nodes")
    total = connection.get("totalCount")
    alerts = tuple(
        parse_alert(n)
        for n in (nodes if isinstance(nodes, list) else [])
        if isinstance(n, Mapping) and n.get("state", "OPEN") == "OPEN"
    )
    return AlertList(
        alerts=alerts,
        total=total if isinstance(total, int) and not isinstance(total, bool) else None,
    )


def patch_deadline(alert: VulnerabilityAlert, schedule: Mapping[str, int]) -> date | None:
    """The alert's patch-by day: its creation day (UTC) plus the schedule's days for its
    severity; None when either is unusable."""
    if alert.created is None or alert.severity not in schedule:
        return None
    try:
        return alert.created.date() + timedelta(days=schedule[alert.severity])
    except OverflowError:
        return None
