"""The terminal report. By default one screen: one line per control (what does not pass first),
its reason and, below it, the first clause of its fix; then the counts and the headline. With
--verbose a table per level with every finding and its location, the waiver, and the whole fix;
the summary is not printed above the findings it was made from, so nothing is said twice.

Repository text goes through `clean` (no control characters, so no terminal escape sequences) and
then rich's `escape` (no markup); long evidence folds inside its column rather than being cut.
"""

from __future__ import annotations

import io
import os
from dataclasses import replace

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from secposture.model import ControlResult, Level, Outcome, ScanReport, Status
from secposture.reports.common import (
    STAGES,
    Matrix,
    analysis_matrix,
    by_level,
    clean,
    failing_at,
    headline,
    status_counts,
    truncate,
)
from secposture.reports.interface import RenderOptions
from secposture.reports.own_policy import policy_note
from secposture.reports.set_aside import set_aside_note
from secposture.text import gist, plural, shorten

STYLE = {
    Status.PASS: ("✔ pass", "green"),
    Status.PARTIAL: ("◐ partial", "yellow"),
    Status.FAIL: ("✘ fail", "bold red"),
    Status.NOT_APPLICABLE: ("– n/a", "dim"),
    Status.UNKNOWN: ("? unknown", "cyan"),
    Status.WAIVED: ("≈ waived", "magenta"),
}
CELL = {
    Outcome.POSITIVE: ("✔", "green"),
    Outcome.PARTIAL: ("◐", "yellow"),
    Outcome.NEGATIVE: ("✘", "red"),
    Outcome.UNKNOWN: ("?", "cyan"),
    Outcome.NOT_APPLICABLE: ("–", "dim"),
}
MAX_FINDINGS = 20  # per control, with --verbose; the JSON report has them all


def safe(text: str) -> str:
    """Repository text ready for rich: no control characters and no markup."""
    return escape(clean(text))


def _waiver_line(r: ControlResult) -> str | None:
    w = r.waiver  # set only where a waiver decided the status (controls/evaluate.py)
    if w is None:
        return None
    if w.expired:
        return f"waiver expired on {w.expires} (approved by {w.approver}, {w.origin})"
    return f"waived until {w.expires} by {w.approver}: {w.reason}"


def _detail(r: ControlResult) -> str:
    """The --verbose cell: the waiver, every finding with its place, and the whole fix."""
    lines: list[str] = []
    waiver = _waiver_line(r)
    if waiver is not None:
        lines.append(f"[magenta]{safe(waiver)}[/magenta]")
    findings = list(r.findings)
    # The summary is made of these findings' messages: print them, not it as well.
    seen: set[str] = set()
    shown = 0
    for f in findings:
        if f.message in seen:
            continue
        seen.add(f.message)
        if shown == MAX_FINDINGS:
            lines.append(f"  … and {len(findings) - shown} more (--format json lists them all)")
            break
        shown += 1
        icon, style = CELL[f.outcome]
        # The place once: many messages already name their file and line.
        place = str(f.location) if f.location else ""
        where = f" [dim]({safe(place)})[/dim]" if place and place not in f.message else ""
        lines.append(f"  [{style}]{icon}[/{style}] {safe(f.message)}{where}")
    if not findings:
        lines.append(safe(r.summary))
    if r.remediation:
        lines.append(f"[bold]fix:[/bold] {safe(r.remediation)}")
    return "\n".join(lines)


def _matrix_table(matrix: Matrix) -> Table:
    table = Table(title="static analysis: language × stage", title_justify="left", expand=True)
    table.add_column("language", no_wrap=True)
    for stage in STAGES:
        table.add_column(stage, ratio=1, overflow="fold")
    for language in matrix.languages:
        cells = []
        for stage in STAGES:
            cell = matrix.cell(language, stage)
            if cell is None:
                cells.append("[dim]–[/dim]")
                continue
            icon, style = CELL[cell.outcome]
            tools = ", ".join(safe(t) for t in cell.tools) or "none"
            cells.append(f"[{style}]{icon}[/{style}] {tools}")
        table.add_row(safe(language), *cells)
    return table


def console_for(out: io.StringIO, options: RenderOptions) -> Console:
    """A console writing to `out`: colour only when asked, no markup guessing on our text."""
    return Console(
        file=out,
        force_terminal=options.color,
        no_color=not options.color,
        color_system="standard" if options.color else None,
        width=options.width or terminal_width(),
        highlight=False,
        soft_wrap=False,
        emoji=False,
    )


# What does not pass comes first, the strictest level first within each status.
_STATUS_ORDER = (
    Status.FAIL,
    Status.PARTIAL,
    Status.UNKNOWN,
    Status.WAIVED,
    Status.PASS,
    Status.NOT_APPLICABLE,
)
_LEVEL_ORDER = tuple(Level)
# Below this width a level column leaves the reason too little room: the headline counts levels.
_LEVEL_COLUMN_FROM = 100
FALLBACK_WIDTH = 100


def terminal_width() -> int:
    """The width to wrap at: COLUMNS, else the terminal that stdout, stderr or stdin is (so piping
    into `less` or `head` keeps the terminal's width), else FALLBACK_WIDTH (a CI log)."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    for fd in (1, 2, 0):
        try:
            return os.get_terminal_size(fd).columns
        except OSError:
            continue
    return FALLBACK_WIDTH


def _brief_table(report: ScanReport, width: int) -> Table:
    rows = sorted(
        report.results,
        key=lambda r: (_STATUS_ORDER.index(r.status), _LEVEL_ORDER.index(r.level)),
    )
    with_level = width >= _LEVEL_COLUMN_FROM
    # Each cell one line, so the reason is cut where a clause ends rather than mid-word.
    widths = [max(len(STYLE[r.status][0]) for r in rows), max(len(r.id) for r in rows)]
    if with_level:
        widths.append(max(len(r.level.value) for r in rows))
    room = max(20, width - sum(w + 2 for w in widths) - 1)  # a column's padding and separator
    table = Table(
        box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0), expand=False
    )
    table.add_column("status", no_wrap=True)
    if with_level:
        table.add_column("level", no_wrap=True, style="dim")
    table.add_column("control", no_wrap=True)
    table.add_column("why, and the fix", no_wrap=True, overflow="ellipsis", max_width=room)
    for r in rows:
        label, style = STYLE[r.status]
        reason = safe(shorten(clean(r.summary), room))
        # The fix for what fails; an unknown's reason already says what would decide it.
        if r.remediation and r.status.failing:
            reason += f"\n[bold]fix:[/bold] {safe(shorten(gist(r.remediation), room - 5))}"
        cells = [f"[{style}]{label}[/{style}]"]
        if with_level:
            cells.append(r.level.value)
        table.add_row(*cells, safe(r.id), reason)
    return table


def _problems(report: ScanReport, console: Console, verbose: bool, width: int) -> None:
    """Every file or reference that could not be used with --verbose; else how many, and the
    first on one line."""
    if not report.problems:
        return
    n = len(report.problems)
    heading = plural(n, "file or reference", "files or references") + " could not be used"
    if not verbose:
        first = truncate(clean(str(report.problems[0])), width - 4)
        more = " (--verbose lists them)" if n > 1 else ""
        console.print(f"[bold]{heading}[/bold]{more}")
        console.print(f"  [yellow]![/yellow] {escape(first)}")
        return
    console.print(f"[bold]{heading}[/bold]")
    for p in report.problems:
        console.print(f"  [yellow]![/yellow] {safe(str(p))}", overflow="fold")


def _verbose_tables(report: ScanReport, console: Console) -> None:
    for level, rows in by_level(report):
        table = Table(title=f"{level.value} controls", title_justify="left", expand=True)
        table.add_column("status", no_wrap=True, width=11)
        table.add_column("control", no_wrap=True)
        table.add_column("evidence and remediation", ratio=1, overflow="fold")
        for r in rows:
            label, style = STYLE[r.status]
            table.add_row(f"[{style}]{label}[/{style}]", safe(r.id), _detail(r))
        console.print(table)
    matrix = analysis_matrix(report)
    if matrix is not None:
        console.print(_matrix_table(matrix))


def render(report: ScanReport, options: RenderOptions) -> str:
    out = io.StringIO()
    width = options.width or terminal_width()
    console = console_for(out, replace(options, width=width))
    target = report.target
    where = f" @ {safe(target.commit[:12])}" if target.commit else ""
    console.print(f"[bold]secposture[/bold] {safe(target.name)}{where} ({safe(target.source)})")
    if target.repository and target.repository != target.name:
        console.print(f"GitHub repository: {safe(target.repository)}")
    if options.verbose:
        _verbose_tables(report, console)
    elif report.results:
        console.print(_brief_table(report, width))
    _problems(report, console, options.verbose, width)
    note = policy_note(report.repository_policy)
    if note is not None:
        console.print(safe(note), overflow="fold")
    aside = set_aside_note(report.set_aside, brief=not options.verbose)
    if aside is not None:
        console.print(safe(aside), overflow="fold")
    counts = status_counts(report)
    words = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in counts.items() if n)
    console.print(words or "no controls enabled")
    if failing_at(report, Level.REQUIRED):
        style = "bold red"
    elif report.failing(Level.EXTRA):
        style = "yellow"
    else:
        style = "green"
    console.print(f"[{style}]{safe(headline(report))}[/{style}]")
    if not options.verbose and report.results:
        console.print(
            "[dim]--verbose: the evidence for each line, with files and lines; "
            "`secposture fix` writes what it can.[/dim]",
            overflow="fold",
        )
    return out.getvalue()
