"""The default terminal report: a table per level, with the remediation for what does not pass."""

from __future__ import annotations

import io

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from secposture.model import Level, ScanReport, Status
from secposture.reports.interface import RenderOptions, status_counts

STYLE = {
    Status.PASS: ("✔ pass", "green"),
    Status.PARTIAL: ("◐ partial", "yellow"),
    Status.FAIL: ("✘ fail", "bold red"),
    Status.NOT_APPLICABLE: ("– n/a", "dim"),
    Status.UNKNOWN: ("? unknown", "cyan"),
    Status.WAIVED: ("≈ waived", "magenta"),
}


def render(report: ScanReport, options: RenderOptions) -> str:
    out = io.StringIO()
    console = Console(
        file=out,
        force_terminal=options.color,
        no_color=not options.color,
        width=options.width or 120,
        highlight=False,
        soft_wrap=False,
    )
    target = report.target
    where = f" @ {target.commit[:12]}" if target.commit else ""
    console.print(f"[bold]secposture[/bold] {escape(target.name)}{where} ({target.source})")
    for level in Level:
        rows = [r for r in report.results if r.level is level]
        if not rows:
            continue
        table = Table(title=f"{level.value} controls", title_justify="left", expand=True)
        table.add_column("status", no_wrap=True, width=11)
        table.add_column("control", no_wrap=True)
        table.add_column("evidence and remediation", ratio=1)
        for r in rows:
            label, style = STYLE[r.status]
            detail = escape(r.summary)
            if options.verbose:
                detail += "".join(
                    f"\n  · {escape(f.message)}"
                    + (f" [dim]({escape(str(f.location))})[/dim]" if f.location else "")
                    for f in r.findings
                )
            if r.remediation:
                detail += f"\n[bold]fix:[/bold] {escape(r.remediation)}"
            table.add_row(f"[{style}]{label}[/{style}]", r.id, detail)
        console.print(table)
    if report.problems:
        console.print("[bold]files that could not be used[/bold]")
        for p in report.problems:
            console.print(f"  [yellow]![/yellow] {escape(str(p))}")
    counts = status_counts(report)
    console.print(", ".join(f"{n} {s}" for s, n in counts.items() if n))
    return out.getvalue()
