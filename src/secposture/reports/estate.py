"""The estate formats: an organisation's repositories x controls, one module per format.

Each module has `render(estate, options) -> str`, like the single-repository formats. Shared here:
what every estate format needs to say the same thing: the control columns (their order, level and
short header), per-control compliance, per-level counts and the repositories' short names.
Repository text is escaped by each format exactly as its single-repository sibling does.
"""

from __future__ import annotations

import importlib
from collections import Counter
from dataclasses import dataclass
from typing import Protocol

from secposture import catalogue
from secposture.model import (
    ControlResult,
    EstateReport,
    EstateRepository,
    Level,
    RepositoryPolicy,
    ScanReport,
    Status,
)
from secposture.reports.common import failing_at
from secposture.reports.interface import RenderOptions
from secposture.text import plural

ESTATE_FORMATS = ("terminal", "json", "csv", "html", "markdown")
# The statuses whose counts the compliance tables show beside pass / applicable.
COUNTED = (Status.FAIL, Status.PARTIAL, Status.UNKNOWN, Status.WAIVED, Status.NOT_APPLICABLE)


class EstateRenderer(Protocol):
    def __call__(self, estate: EstateReport, options: RenderOptions) -> str: ...


def estate_renderer(fmt: str) -> EstateRenderer:
    """The render function of an estate format; its module is imported only when asked for."""
    if fmt not in ESTATE_FORMATS:
        raise ValueError(f"unknown estate format {fmt!r}")
    module = importlib.import_module(f"secposture.reports.estate_{fmt}")
    render: EstateRenderer = module.render
    return render


# --- control columns ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ControlColumn:
    """One control as a column of the estate: the strictest level any repository gives it."""

    id: str
    title: str
    level: Level
    abbreviation: str


def control_columns(estate: EstateReport) -> list[ControlColumn]:
    """Every control any scanned repository evaluated, by level then catalogue order."""
    first_seen: dict[str, ControlResult] = {}
    strictest: dict[str, Level] = {}
    for report in scanned_reports(estate):
        for r in report.results:
            first_seen.setdefault(r.id, r)
            if r.id not in strictest or r.level.rank < strictest[r.id].rank:
                strictest[r.id] = r.level
    # Repositories' own policies may disable controls, so the union is ordered by the catalogue;
    # controls the catalogue does not know keep the order in which they were first seen.
    known = list(catalogue.controls())
    order = {cid: i for i, cid in enumerate(known)}
    seen = {cid: len(known) + i for i, cid in enumerate(first_seen)}
    ids = sorted(seen, key=lambda cid: (strictest[cid].rank, order.get(cid, seen[cid])))
    abbreviations = abbreviate(ids)
    return [
        ControlColumn(cid, first_seen[cid].title, strictest[cid], abbreviations[cid]) for cid in ids
    ]


def abbreviate(ids: list[str]) -> dict[str, str]:
    """A short, unique header per control id: its words' initials, lengthened on a clash.

    `ticket-security` -> `ts`; `security-adrs` after `static-analysis` -> `sad`; `ithc` -> `ith`.
    """
    out: dict[str, str] = {}
    used: set[str] = set()
    for cid in ids:
        words = [w for w in cid.split("-") if w] or [cid]
        candidates = [_initials(words, extra) for extra in range(len(words[-1]))]
        if len(words) == 1:
            candidates = [words[0][:n] for n in range(3, len(words[0]) + 1)] or [words[0]]
        choice = next((c for c in candidates if c not in used), None)
        if choice is None:  # every longer form taken too: number it
            numbered = (f"{candidates[0]}{n}" for n in range(2, len(ids) + 3))
            choice = next(c for c in numbered if c not in used)
        out[cid] = choice
        used.add(choice)
    return out


def _initials(words: list[str], extra: int) -> str:
    """Initials, the last word's taking `extra` more letters."""
    return "".join(w[0] for w in words[:-1]) + words[-1][: 1 + extra]


def columns_by_level(columns: list[ControlColumn]) -> list[tuple[Level, list[ControlColumn]]]:
    groups = [(level, [c for c in columns if c.level is level]) for level in Level]
    return [(level, cols) for level, cols in groups if cols]


# --- repositories ---------------------------------------------------------------------------------


def scanned_reports(estate: EstateReport) -> list[ScanReport]:
    return [repo.report for repo in estate.repositories if repo.report is not None]


def not_scanned(estate: EstateReport) -> list[EstateRepository]:
    return [repo for repo in estate.repositories if repo.report is None]


def results_by_id(repo: EstateRepository) -> dict[str, ControlResult]:
    return {} if repo.report is None else {r.id: r for r in repo.report.results}


def failing_required(repo: EstateRepository) -> list[str]:
    """The ids of the repository's required controls that fail or are partial."""
    return [] if repo.report is None else [r.id for r in failing_at(repo.report, Level.REQUIRED)]


def short_name(estate: EstateReport, repo: EstateRepository) -> str:
    """The repository's name without the organisation prefix every row would repeat."""
    prefix = f"{estate.organisation}/"
    if repo.name.startswith(prefix) and len(repo.name) > len(prefix):
        return repo.name[len(prefix) :]
    return repo.name


def repository_flags(repo: EstateRepository) -> list[str]:
    return [flag for flag, on in (("archived", repo.archived), ("fork", repo.fork)) if on]


def own_policies(estate: EstateReport) -> list[tuple[EstateRepository, RepositoryPolicy]]:
    """The scanned repositories that have their own policy file (ADR 0011), in scan order."""
    return [
        (repo, repo.report.repository_policy)
        for repo in estate.repositories
        if repo.report is not None and repo.report.repository_policy is not None
    ]


def why_not_scanned(repo: EstateRepository) -> str:
    """Why a repository has no report, for the user."""
    return repo.error or "no report (no reason given)"


# --- compliance -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Compliance:
    """How the estate stands on one control, or one level.

    `applicable` counts every evaluated result except `not_applicable`: unknown and waived results
    are applicable but not passing, so the rate says how much of the estate is known to comply.
    """

    counts: dict[str, int]

    @property
    def passing(self) -> int:
        return self.counts[Status.PASS.value]

    @property
    def applicable(self) -> int:
        return sum(self.counts.values()) - self.counts[Status.NOT_APPLICABLE.value]

    @property
    def failing(self) -> int:
        return self.counts[Status.FAIL.value] + self.counts[Status.PARTIAL.value]

    @property
    def rate(self) -> float | None:
        """pass / applicable, or None when nothing is applicable."""
        return self.passing / self.applicable if self.applicable else None

    def percent(self) -> str:
        rate = self.rate
        return "–" if rate is None else f"{_floor_percent(rate)}%"


def _floor_percent(rate: float) -> int:
    # Rounded down so an estate with one failing repository in 1,000 never shows 100%.
    return int(rate * 100 + 1e-9)


def _compliance(statuses: Counter[str]) -> Compliance:
    return Compliance({s.value: statuses.get(s.value, 0) for s in Status})


def control_compliance(estate: EstateReport) -> dict[str, Compliance]:
    """Per control id (every column present): status counts over the scanned repositories."""
    counters: dict[str, Counter[str]] = {c.id: Counter() for c in control_columns(estate)}
    for report in scanned_reports(estate):
        for r in report.results:
            counters[r.id][r.status.value] += 1
    return {cid: _compliance(counter) for cid, counter in counters.items()}


def level_compliance(estate: EstateReport) -> dict[Level, Compliance]:
    """Per level (every level present): status counts of all results at that level.

    Each result counts at the level its repository's policy gives it.
    """
    counters: dict[Level, Counter[str]] = {level: Counter() for level in Level}
    for report in scanned_reports(estate):
        for r in report.results:
            counters[r.level][r.status.value] += 1
    return {level: _compliance(counter) for level, counter in counters.items()}


def usage_summary(estate: EstateReport) -> str:
    """What the scan cost the GitHub API, in one line (the same in every format)."""
    u = estate.usage
    text = (
        f"{plural(u.requests, 'request')} ({u.rest_requests} REST, {u.graphql_requests} GraphQL), "
        f"{plural(u.graphql_points, 'GraphQL point')}, {plural(u.retries, 'retry', 'retries')}, "
        f"{u.seconds:.1f} s"
    )
    n = len(estate.repositories)
    if n:
        text += (
            f"; per repository {u.requests / n:.2f} requests and {u.graphql_points / n:.2f} points"
        )
    if u.cut:
        # A limit stopped reading (ADR 0012): the estate may be incomplete, and says why.
        text += "; cut: " + "; ".join(u.cut)
    return text
