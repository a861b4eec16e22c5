"""Markdown for a pull-request comment or $GITHUB_STEP_SUMMARY (GitHub-flavoured).

Every piece of repository-derived text is escaped (`md`, or `html.escape` inside HTML tags), so a
hostile file name cannot add links, images, tables, headings, mentions or HTML. The whole report
stays under GitHub's comment limit: sections that do not fit are left out with a note.
"""

from __future__ import annotations

import html
import re

from secposture import catalogue
from secposture.model import ControlResult, Level, Outcome, ScanReport, Status
from secposture.reports.common import (
    STAGES,
    Matrix,
    analysis_matrix,
    by_level,
    clean,
    failing_at,
    headline,
    not_positive,
    status_counts,
    truncate,
)
from secposture.reports.interface import RenderOptions
from secposture.reports.own_policy import policy_note
from secposture.reports.set_aside import set_aside_note
from secposture.text import shorten

EMOJI = {
    Status.PASS: "✅",
    Status.PARTIAL: "🟡",
    Status.FAIL: "❌",
    Status.NOT_APPLICABLE: "➖",
    Status.UNKNOWN: "❔",
    Status.WAIVED: "🔕",
}
LABEL = {s: s.value.replace("_", " ") for s in Status}
CELL_EMOJI = {
    Outcome.POSITIVE: "✅",
    Outcome.PARTIAL: "🟡",
    Outcome.NEGATIVE: "❌",
    Outcome.UNKNOWN: "❔",
    Outcome.NOT_APPLICABLE: "➖",
}
STAGE_TITLE = {"pre-commit": "pre-commit", "ci": "CI", "ide": "IDE"}
_QUIET = (Status.PASS, Status.NOT_APPLICABLE)
MAX_SUMMARY = 300
MAX_MESSAGE = 500
MAX_FINDINGS = 50
MAX_PROBLEMS = 50

# Characters that make markup anywhere in a line (emphasis, code, links, tables, strikethrough,
# math); a backslash makes each literal. `<`, `>` and `&` become entities instead.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~$])")
# Characters that make markup only at the start of a line (lists, quotes, headings, rules).
_MD_LINE_START = re.compile(r"^(\s*)([-+=#]|\d+(?=[.)]))")


def md(text: str) -> str:
    """Repository text as literal Markdown: no markup, no HTML, no @mentions, one line."""
    text = clean(text)
    text = html.escape(text, quote=False)  # & < > become entities
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = _MD_LINE_START.sub(_escape_line_start, text)
    # A zero-width space after @ stops GitHub turning `@org/team` into a mention that notifies.
    return text.replace("@", "@&#8203;")


def _escape_line_start(match: re.Match[str]) -> str:
    lead, mark = match.group(1), match.group(2)
    if mark.isdigit():  # "1." or "1)" starts an ordered list: escape the punctuation after it
        return f"{lead}{mark}\\"
    return f"{lead}\\{mark}"


def h(text: str) -> str:
    """Repository text inside an HTML tag (<summary>): HTML-escaped, mentions neutralised."""
    return html.escape(clean(text)).replace("@", "@&#8203;")


def _status(status: Status) -> str:
    return f"{EMOJI[status]} {LABEL[status]}"


def _head(report: ScanReport) -> str:
    t = report.target
    where = f" @ {md(t.commit[:12])}" if t.commit else ""
    repository = ""
    if t.repository and t.repository != t.name:
        repository = f"GitHub repository: {md(t.repository)}\n\n"
    mark = "✅"
    if any(r.status.failing for r in report.results):
        mark = "❌" if failing_at(report, Level.REQUIRED) else "🟡"
    counts = " · ".join(
        f"{EMOJI[Status(s)]} {n} {LABEL[Status(s)]}" for s, n in status_counts(report).items() if n
    )
    return (
        f"## secposture: {md(t.name)}{where}\n\n"
        f"{repository}"
        f"{mark} **{md(headline(report))}**\n\n"
        f"{counts or 'no controls enabled'}\n"
    )


def _table(report: ScanReport) -> str:
    parts: list[str] = []
    for level, rows in by_level(report):
        parts.append(f"\n### {level.value.capitalize()} controls\n\n")
        parts.append("| Status | Control | Summary |\n|---|---|---|\n")
        for r in rows:
            summary = md(shorten(r.summary, MAX_SUMMARY))
            parts.append(f"| {_status(r.status)} | **{md(r.id)}**<br>{md(r.title)} | {summary} |\n")
    return "".join(parts)


def _details(r: ControlResult) -> str:
    lines = [
        f"<details><summary>{EMOJI[r.status]} <b>{h(r.id)}</b> ({h(r.level.value)}, "
        f"{h(LABEL[r.status])}): {h(r.title)}</summary>\n",
        "",
    ]
    findings = not_positive(r)
    # The summary is made of these findings (and the waiver, said below): said once.
    if not findings and r.waiver is None:
        lines += [f"{md(r.summary)}", ""]
    for f in findings[:MAX_FINDINGS]:
        where = f"<code>{md(str(f.location))}</code>: " if f.location is not None else ""
        lines.append(f"- {CELL_EMOJI[f.outcome]} {where}{md(shorten(f.message, MAX_MESSAGE))}")
    if len(findings) > MAX_FINDINGS:
        lines.append(f"- … and {len(findings) - MAX_FINDINGS} more findings (see the JSON report)")
    if r.waiver is not None:
        w = r.waiver
        state = "expired on" if w.expired else "expires"
        lines += [
            "",
            f"**Waiver** ({state} {md(w.expires)}): {md(w.reason)}. Approved by {md(w.approver)} "
            f"({md(w.origin)}).",
        ]
    if r.remediation:
        lines += ["", f"**Fix:** {md(r.remediation)}"]
    lines += ["", "</details>", ""]
    return "\n".join(lines)


def _matrix(matrix: Matrix) -> str:
    parts = [
        "\n### Static analysis: language × stage\n\n",
        "| Language | " + " | ".join(STAGE_TITLE[s] for s in STAGES) + " |\n",
        "|---|" + "---|" * len(STAGES) + "\n",
    ]
    for language in matrix.languages:
        cells = []
        for stage in STAGES:
            cell = matrix.cell(language, stage)
            if cell is None:
                cells.append("–")
                continue
            tools = ", ".join(md(t) for t in cell.tools) if cell.tools else "none"
            cells.append(f"{CELL_EMOJI[cell.outcome]} {tools}")
        parts.append(f"| {md(language)} | " + " | ".join(cells) + " |\n")
    return "".join(parts)


def _problems(report: ScanReport) -> str:
    if not report.problems:
        return ""
    lines = ["\n### Files that could not be used\n"]
    for p in report.problems[:MAX_PROBLEMS]:
        where = f"{p.path}:{p.line}" if p.line else p.path
        lines.append(f"- <code>{md(where)}</code>: {md(truncate(p.message, MAX_MESSAGE))}")
    if len(report.problems) > MAX_PROBLEMS:
        lines.append(f"- … and {len(report.problems) - MAX_PROBLEMS} more (see the JSON report)")
    return "\n".join(lines) + "\n"


def _footer(report: ScanReport) -> str:
    return (
        f"\n<sub>secposture {md(report.tool_version)} · {md(report.generated_at)} · "
        "statuses and exit codes: docs/report-format.md</sub>\n"
    )


def render(report: ScanReport, options: RenderOptions) -> str:
    limit = catalogue.report_formats().markdown.max_chars
    footer = _footer(report)
    out = _head(report) + _table(report)
    optional: list[str] = []
    matrix = analysis_matrix(report)
    if matrix is not None:
        optional.append(_matrix(matrix))
    details = [_details(r) for r in report.results if r.status not in _QUIET]
    if details:
        optional.append("\n### What does not pass\n\n")
        optional.extend(details)
    problems = _problems(report)
    if problems:
        optional.append(problems)
    note = policy_note(report.repository_policy)
    if note is not None:
        optional.append(f"\n<sub>{md(note)}</sub>\n")
    aside = set_aside_note(report.set_aside)
    if aside is not None:
        optional.append(f"\n<sub>{md(aside)}</sub>\n")
    note_room = 200
    for i, part in enumerate(optional):
        if len(out) + len(part) + len(footer) + note_room > limit:
            out += (
                f"\n> [!NOTE]\n> {len(optional) - i} more sections left out to stay within "
                "GitHub's comment size limit; see `secposture scan --format html` for the full "
                "report.\n"
            )
            break
        out += part
    out += footer
    # The head and tables are bounded per row; this guards a policy with thousands of controls.
    return out if len(out) <= limit else out[: limit - 40] + "\n\n(truncated)\n"
