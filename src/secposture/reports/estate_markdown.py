"""The estate in Markdown, for a GitHub issue or $GITHUB_STEP_SUMMARY.

It stays under GitHub's limit (the same `max_chars` as the single-repository Markdown), so the
parts a reader needs first come first: per-control compliance, the repositories failing required
controls, those that could not be scanned, then the repositories x controls grid. Whatever does not
fit is cut at a row boundary with a note saying how much was left out. Repository text is escaped
with the single-repository report's `md`, so a repository name cannot add markup or mention anyone.
"""

from __future__ import annotations

from secposture import catalogue
from secposture.model import EstateReport, EstateRepository, Status
from secposture.reports.common import truncate
from secposture.reports.estate import (
    COUNTED,
    ControlColumn,
    control_columns,
    control_compliance,
    failing_required,
    level_compliance,
    not_scanned,
    own_policies,
    repository_flags,
    results_by_id,
    short_name,
    usage_summary,
    why_not_scanned,
)
from secposture.reports.interface import RenderOptions
from secposture.reports.markdown_format import EMOJI, LABEL, md
from secposture.reports.own_policy import estate_note
from secposture.text import plural

NOT_EVALUATED = "·"
MAX_REASON = 300
# Room kept for the note that says what was left out, and the footer.
_NOTE_ROOM = 400


def _name(estate: EstateReport, repo: EstateRepository) -> str:
    flags = repository_flags(repo)
    suffix = f" <sub>{', '.join(flags)}</sub>" if flags else ""
    return md(short_name(estate, repo)) + suffix


def _head(estate: EstateReport) -> str:
    repos = estate.repositories
    missing = len(not_scanned(estate))
    scanned = len(repos) - missing
    failing = sum(1 for repo in repos if failing_required(repo))
    if failing:
        verdict = f"❌ **{failing} of {scanned} scanned repositories fail required controls**"
    else:
        verdict = f"✅ **None of {scanned} scanned repositories fails a required control**"
    levels = " · ".join(
        f"{level.value} {comp.passing}/{comp.applicable} ({comp.percent()})"
        for level, comp in level_compliance(estate).items()
        if sum(comp.counts.values())
    )
    lines = [f"## secposture estate: {md(estate.organisation)}", "", verdict, ""]
    detail = plural(len(repos), "repository", "repositories")
    if missing:
        detail += f", {missing} could not be scanned"
    if levels:
        detail += f" · passing results by level: {levels}"
    lines += [detail, ""]
    return "\n".join(lines)


def _compliance(estate: EstateReport, columns: list[ControlColumn]) -> str:
    if not columns:
        return ""
    per_control = control_compliance(estate)
    counted = " | ".join(f"{EMOJI[s]} {LABEL[s]}" for s in COUNTED)
    lines = [
        "### Compliance by control",
        "",
        f"| Level | Control | Pass | % | {counted} |",
        "|---|---|--:|--:|" + "--:|" * len(COUNTED),
    ]
    for c in columns:
        comp = per_control[c.id]
        counts = " | ".join(str(comp.counts[s.value]) for s in COUNTED)
        lines.append(
            f"| {c.level.value} | {md(c.id)} | {comp.passing}/{comp.applicable} | "
            f"{comp.percent()} | {counts} |"
        )
    return "\n".join(lines)


def _failing_rows(estate: EstateReport) -> list[str]:
    return [
        f"| {_name(estate, repo)} | {len(ids)} | {', '.join(md(i) for i in ids)} |"
        for repo in estate.repositories
        if (ids := failing_required(repo))
    ]


def _missing_rows(estate: EstateReport) -> list[str]:
    return [
        f"| {md(repo.name)} | {md(truncate(why_not_scanned(repo), MAX_REASON))} |"
        for repo in not_scanned(estate)
    ]


def _own_policy_rows(estate: EstateReport) -> list[str]:
    return [
        f"| {md(repo.name)} | {md(truncate(estate_note(policy), MAX_REASON))} |"
        for repo, policy in own_policies(estate)
    ]


def _grid_rows(estate: EstateReport, columns: list[ControlColumn]) -> list[str]:
    rows = []
    for repo in estate.repositories:
        if repo.report is None:
            continue
        results = results_by_id(repo)
        cells = [EMOJI[results[c.id].status] if c.id in results else NOT_EVALUATED for c in columns]
        rows.append(f"| {_name(estate, repo)} | " + " | ".join(cells) + " |")
    return rows


def _grid_head(columns: list[ControlColumn]) -> list[str]:
    key = ", ".join(f"**{md(c.abbreviation)}** {md(c.id)}" for c in columns)
    legend = ", ".join(f"{EMOJI[s]} {LABEL[s]}" for s in Status)
    return [
        "### Repositories × controls",
        "",
        f"{legend}, {NOT_EVALUATED} not evaluated",
        "",
        f"<sub>{key}</sub>",
        "",
        "| Repository | " + " | ".join(md(c.abbreviation) for c in columns) + " |",
        "|---|" + ":-:|" * len(columns),
    ]


def _footer(estate: EstateReport) -> str:
    return (
        f"\n<sub>GitHub API: {usage_summary(estate)} · secposture {md(estate.tool_version)} · "
        f"{md(estate.generated_at)} · fields: docs/estate-format.md</sub>\n"
    )


class _Budget:
    """Appends sections and table rows while they fit; counts what had to be left out."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[str] = []
        self.size = 0
        self.left_out: list[str] = []

    def fits(self, text: str) -> bool:
        return self.size + len(text) + 1 <= self.limit

    def add(self, text: str) -> bool:
        if not self.fits(text):
            return False
        self.parts.append(text)
        self.size += len(text) + 1
        return True

    def table(self, title: str, head: list[str], rows: list[str], what: str) -> None:
        """A table with as many rows as fit; the rest counted as left out."""
        if not rows:
            return
        if not self.add("\n".join(["", title, "", *head])):
            self.left_out.append(f"{len(rows)} {what}")
            return
        for i, row in enumerate(rows):
            if not self.add(row):
                self.left_out.append(f"{len(rows) - i} {what}")
                return

    def text(self) -> str:
        return "\n".join(self.parts)


def render(estate: EstateReport, options: RenderOptions) -> str:
    limit = catalogue.report_formats().markdown.max_chars
    footer = _footer(estate)
    budget = _Budget(limit - len(footer) - _NOTE_ROOM)
    columns = control_columns(estate)
    budget.add(_head(estate))
    compliance = _compliance(estate, columns)
    if compliance and not budget.add(compliance):
        budget.left_out.append("the compliance table")
    budget.table(
        "### Repositories failing required controls",
        ["| Repository | Failing | Required controls failing |", "|---|--:|---|"],
        _failing_rows(estate),
        "repositories failing required controls",
    )
    budget.table(
        "### Could not be scanned",
        ["| Repository | Reason |", "|---|---|"],
        _missing_rows(estate),
        "repositories that could not be scanned",
    )
    budget.table(
        "### Repositories with their own policy file",
        ["| Repository | What it asked for |", "|---|---|"],
        _own_policy_rows(estate),
        "repositories with their own policy file",
    )
    if columns:
        grid = _grid_rows(estate, columns)
        head = _grid_head(columns)
        budget.table(head[0], head[2:], grid, "rows of the repositories × controls grid")
    # A blank line ends the last table: GitHub would take a following line as one more row.
    out = budget.text() + "\n"
    if budget.left_out:
        out += (
            "\n> [!NOTE]\n> Left out to stay within GitHub's size limit: "
            f"{'; '.join(budget.left_out)}. The `html` and `csv` estate formats "
            "give every repository.\n"
        )
    return out + footer
