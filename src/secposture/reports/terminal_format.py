"""The default terminal report: a table per level, with the remediation for what does not pass.

Repository text goes through `clean` (no control characters, so no terminal escape sequences) and
then rich's `escape` (no markup); long evidence folds inside its column rather than being cut.
"""

from __future__ import annotations

import io

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from secposture.controls.evaluate import SUMMARY_ITEMS
from secposture.model import ControlResult, Level, Outcome, ScanReport, Status
from secposture.reports.interface import (
    STAGES,
    Matrix,
    RenderOptions,
    analysis_matrix,
    by_level,
    clean,
    failing_at,
    headline,
    not_positive,
    status_counts,
)
from secposture.reports.own_policy import policy_note
from secposture.reports.set_aside import set_aside_note

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


def _detail(r: ControlResult, verbose: bool) -> str:
    detail = safe(r.summary)
    # The summary already quotes the first findings; the list with locations is for --verbose.
    findings = list(r.findings) if verbose else []
    if not verbose and r.status.failing and len(not_positive(r)) > SUMMARY_ITEMS:
        detail += "\n  [dim](--verbose lists every finding with its file and line)[/dim]"
    for f in findings[:MAX_FINDINGS]:
        icon, style = CELL[f.outcome]
        where = f" [dim]({safe(str(f.location))})[/dim]" if f.location else ""
        detail += f"\n  [{style}]{icon}[/{style}] {safe(f.message)}{where}"
    if len(findings) > MAX_FINDINGS:
        detail += f"\n  … and {len(findings) - MAX_FINDINGS} more (--format json lists them all)"
    if r.waiver is not None and r.waiver.expired:
        detail += f"\n[magenta]waiver expired {safe(r.waiver.expires)}[/magenta]"
    if r.remediation:
        detail += f"\n[bold]fix:[/bold] {safe(r.remediation)}"
    return detail


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
        width=options.width or 120,
        highlight=False,
        soft_wrap=False,
        emoji=False,
    )


def render(report: ScanReport, options: RenderOptions) -> str:
    out = io.StringIO()
    console = console_for(out, options)
    target = report.target
    where = f" @ {safe(target.commit[:12])}" if target.commit else ""
    console.print(f"[bold]secposture[/bold] {safe(target.name)}{where} ({safe(target.source)})")
    if target.repository and target.repository != target.name:
        console.print(f"GitHub repository: {safe(target.repository)}")
    for level, rows in by_level(report):
        table = Table(title=f"{level.value} controls", title_justify="left", expand=True)
        table.add_column("status", no_wrap=True, width=11)
        table.add_column("control", no_wrap=True)
        table.add_column("evidence and remediation", ratio=1, overflow="fold")
        for r in rows:
            label, style = STYLE[r.status]
            table.add_row(f"[{style}]{label}[/{style}]", safe(r.id), _detail(r, options.verbose))
        console.print(table)
    matrix = analysis_matrix(report)
    if options.verbose and matrix is not None:
        console.print(_matrix_table(matrix))
    if report.problems:
        console.print("[bold]files that could not be used[/bold]")
        for p in report.problems:
            console.print(f"  [yellow]![/yellow] {safe(str(p))}", overflow="fold")
    note = policy_note(report.repository_policy)
    if note is not None:
        console.print(safe(note), overflow="fold")
    aside = set_aside_note(report.set_aside)
    if aside is not None:
        console.print(safe(aside), overflow="fold")
    counts = status_counts(report)
    console.print(", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no controls enabled")
    if failing_at(report, Level.REQUIRED):
        style = "bold red"
    elif report.failing(Level.EXTRA):
        style = "yellow"
    else:
        style = "green"
    console.print(f"[{style}]{safe(headline(report))}[/{style}]")
    return out.getvalue()
