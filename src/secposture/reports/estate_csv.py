"""CSV for an estate: one row per repository x control, for a spreadsheet or a pivot table.

RFC 4180 through the csv module (quoted where needed, CRLF line ends). Spreadsheets run a cell that
starts with `=`, `+`, `-` or `@` (or a tab or carriage return before one) as a formula, and a
repository name or summary is hostile text: such a cell gets a leading apostrophe, which makes it
text in Excel, LibreOffice and Google Sheets (OWASP's advice on CSV injection).
"""

from __future__ import annotations

import csv
import io

from secposture.model import ControlResult, EstateReport, EstateRepository, WaiverRef
from secposture.reports.common import clean
from secposture.reports.estate import why_not_scanned
from secposture.reports.interface import RenderOptions
from secposture.reports.own_policy import estate_note

HEADER = (
    "repository",
    "archived",
    "fork",
    "control",
    "level",
    "status",
    "summary",
    "remediation",
    "waiver",
    "repository_policy",
)
NOT_SCANNED = "not_scanned"  # the status of the one row of a repository that has no report
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutralise(text: str) -> str:
    """A cell a spreadsheet shows as text: control characters escaped, formulas defused."""
    cleaned = clean(text, keep_newlines=True)
    # Checked before cleaning too: a leading tab or CR is shown as `\t`/`\r` but was still meant
    # to reach a formula.
    risky = text.startswith(_FORMULA_START) or cleaned.startswith(_FORMULA_START)
    return "'" + cleaned if risky else cleaned


def _flag(on: bool) -> str:
    return "true" if on else "false"


def _waiver(waiver: WaiverRef | None) -> str:
    if waiver is None:
        return ""
    state = "expired" if waiver.expired else "until"
    return f"{state} {waiver.expires}: {waiver.reason} (approved by {waiver.approver}, {waiver.origin})"


def _own_policy(repo: EstateRepository) -> str:
    own = None if repo.report is None else repo.report.repository_policy
    return "" if own is None else estate_note(own)


def _result_row(repo: EstateRepository, r: ControlResult) -> list[str]:
    return [
        repo.name,
        _flag(repo.archived),
        _flag(repo.fork),
        r.id,
        r.level.value,
        r.status.value,
        r.summary,
        r.remediation or "",
        _waiver(r.waiver),
        _own_policy(repo),
    ]


def _rows(repo: EstateRepository) -> list[list[str]]:
    if repo.report is None:
        row = [repo.name, _flag(repo.archived), _flag(repo.fork), "", "", NOT_SCANNED]
        return [[*row, why_not_scanned(repo), "", "", ""]]
    return [_result_row(repo, r) for r in repo.report.results]


def render(estate: EstateReport, options: RenderOptions) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for repo in estate.repositories:
        writer.writerows([neutralise(cell) for cell in row] for row in _rows(repo))
    return out.getvalue()
