"""The estate for a terminal: repositories x controls, per-control compliance, then API usage.

Repository text goes through `safe` (`clean`, then rich's `escape`) as in the single-repository
table. Many controls do not fit a terminal: headers shrink to abbreviations with a key, and if the
grid is still wider than the terminal it continues in further tables, each repeating the names.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from rich import box
from rich.table import Table
from rich.text import Text

from secposture.model import EstateReport, EstateRepository, Status
from secposture.reports.estate import (
    COUNTED,
    Compliance,
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
from secposture.reports.own_policy import estate_note
from secposture.reports.terminal_format import STYLE, console_for, safe
from secposture.text import plural

SYMBOL = {status: label.split(" ", 1)[0] for status, (label, _style) in STYLE.items()}
NOT_EVALUATED = "·"
NAME_MAX = 40  # a longer repository name folds onto a second line
FAILING_MIN = 24  # narrower than this, the failing-required column moves to a table of its own
BAR = 10  # characters in a compliance bar
FAILING = None  # the failing-required column among the control columns of a grid


@dataclass(frozen=True)
class Layout:
    """How the grid fits the terminal: header style, name width and the tables it splits into."""

    abbreviated: bool
    name_width: int
    tables: list[list[ControlColumn | None]]


def _cell(status: Status) -> str:
    style = STYLE[status][1]
    return f"[{style}]{SYMBOL[status]}[/{style}]"


def _flags(repo: EstateRepository) -> str:
    flags = repository_flags(repo)
    return f" ({', '.join(flags)})" if flags else ""


def _name(estate: EstateReport, repo: EstateRepository) -> str:
    flags = _flags(repo)
    return safe(short_name(estate, repo)) + (f"[dim]{flags}[/dim]" if flags else "")


def _header(column: ControlColumn, abbreviated: bool) -> str:
    return column.abbreviation if abbreviated else column.id


def _split(
    columns: list[ControlColumn], room: int, abbreviated: bool
) -> list[list[ControlColumn | None]]:
    """The columns split into tables that each fit `room` (each table has at least one column)."""
    tables: list[list[ControlColumn | None]] = [[]]
    used = 0
    for item in [*columns, FAILING]:
        # No padding: a column costs its header and the one space that separates it.
        cost = FAILING_MIN if item is None else len(_header(item, abbreviated)) + 1
        if tables[-1] and used + cost > room:
            tables.append([])
            used = 0
        tables[-1].append(item)
        used += cost
    return tables


def _layout(estate: EstateReport, columns: list[ControlColumn], width: int) -> Layout:
    longest = max((len(short_name(estate, r) + _flags(r)) for r in estate.repositories), default=0)
    name_width = max(10, min(NAME_MAX, longest, width // 3))
    room = width - name_width - 1
    full = sum(len(c.id) + 1 for c in columns) + FAILING_MIN
    abbreviated = full > room
    return Layout(abbreviated, name_width, _split(columns, room, abbreviated))


def _failing_cell(repo: EstateRepository, short: dict[str, str]) -> str:
    if repo.report is None:
        return "[yellow]not scanned (below)[/yellow]"
    failing = failing_required(repo)
    if not failing:
        return "[green]none[/green]"
    names = ", ".join(safe(short.get(cid, cid)) for cid in failing)
    return f"[bold red]{len(failing)}[/bold red] {names}"


def _grid(
    estate: EstateReport, items: list[ControlColumn | None], layout: Layout, short: dict[str, str]
) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, padding=(0, 0), collapse_padding=True)
    table.add_column("repository", overflow="fold", width=layout.name_width)
    for item in items:
        if item is None:
            table.add_column("failing required", overflow="fold", min_width=FAILING_MIN, ratio=1)
        else:
            header = safe(_header(item, layout.abbreviated))
            table.add_column(header, justify="center", no_wrap=True)
    # Status cells are shared Text objects rather than markup: parsing markup for every cell of a
    # 2,000-repository grid took most of the rendering time.
    cells = {status: Text(SYMBOL[status], style=STYLE[status][1]) for status in Status}
    not_evaluated = Text(NOT_EVALUATED, style="dim")
    blank = Text("")
    for repo in estate.repositories:
        results = results_by_id(repo)
        row: list[str | Text] = [_name(estate, repo)]
        for item in items:
            if item is None:
                row.append(_failing_cell(repo, short))
            elif repo.report is None:
                row.append(blank)
            elif item.id in results:
                row.append(cells[results[item.id].status])
            else:
                row.append(not_evaluated)
        table.add_row(*row)
    return table


def _legend(columns: list[ControlColumn], abbreviated: bool) -> str:
    names = {Status.NOT_APPLICABLE: "n/a"}
    symbols = "  ".join(f"{_cell(s)} {names.get(s, s.value)}" for s in Status)
    legend = f"{symbols}  [dim]{NOT_EVALUATED}[/dim] not evaluated"
    if abbreviated:
        key = "  ".join(f"[bold]{safe(c.abbreviation)}[/bold] {safe(c.id)}" for c in columns)
        legend += f"\n[dim]key:[/dim] {key}"
    return legend


def _bar(compliance: Compliance) -> str:
    rate = compliance.rate
    if rate is None:
        return "[dim]" + "·" * BAR + "[/dim]"
    filled = int(rate * BAR + 1e-9)
    return f"[green]{'█' * filled}[/green][dim]{'░' * (BAR - filled)}[/dim]"


def _compliance_table(estate: EstateReport, columns: list[ControlColumn], width: int) -> Table:
    """Pass / applicable per control under a row per level; narrow terminals lose the bar, then
    the status counts."""
    per_control = control_compliance(estate)
    control_width = max(len(c.id) for c in columns) + 2
    counted = COUNTED if width >= control_width + 45 else ()
    with_bar = bool(counted) and width >= control_width + 45 + BAR + 2
    table = Table(
        title="compliance by control (pass / applicable)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
    )
    table.add_column("control", overflow="fold")
    table.add_column("pass", justify="right", no_wrap=True)
    table.add_column("%", justify="right", no_wrap=True)
    if with_bar:
        table.add_column("", no_wrap=True)
    for status in counted:
        table.add_column(_cell(status), justify="right", no_wrap=True)
    for i, c in enumerate(columns):
        if i == 0 or columns[i - 1].level is not c.level:
            table.add_row(f"[bold]{c.level.value}[/bold]")
        comp = per_control[c.id]
        bar = [_bar(comp)] if with_bar else []
        table.add_row(
            f"  {safe(c.id)}",
            f"{comp.passing}/{comp.applicable}",
            comp.percent(),
            *bar,
            *(str(comp.counts[s.value]) for s in counted),
        )
    return table


def _levels(estate: EstateReport) -> str:
    parts = [
        f"{level.value} {comp.passing}/{comp.applicable} ({comp.percent()})"
        for level, comp in level_compliance(estate).items()
        if sum(comp.counts.values())
    ]
    return "passing results by level: " + " · ".join(parts)


def _head(estate: EstateReport) -> str:
    repos = estate.repositories
    missing = len(not_scanned(estate))
    failing = sum(1 for repo in repos if failing_required(repo))
    details = [f"{len(repos) - missing} scanned"]
    if missing:
        details.append(f"{missing} not scanned")
    archived = sum(1 for repo in repos if repo.archived)
    forks = sum(1 for repo in repos if repo.fork)
    if archived:
        details.append(f"{archived} archived")
    if forks:
        details.append(plural(forks, "fork"))
    if failing:
        verdict = f"[bold red]{failing} with failing required controls[/bold red]"
    else:
        verdict = "[green]none with failing required controls[/green]"
    return (
        f"[bold]secposture estate[/bold] {safe(estate.organisation)}: "
        f"{plural(len(repos), 'repository', 'repositories')} ({', '.join(details)}), {verdict}"
    )


def render(estate: EstateReport, options: RenderOptions) -> str:
    out = io.StringIO()
    console = console_for(out, options)
    console.print(_head(estate))
    columns = control_columns(estate)
    if estate.repositories:
        layout = _layout(estate, columns, console.width)
        short = {c.id: c.abbreviation for c in columns} if layout.abbreviated else {}
        for items in layout.tables:
            console.print(_grid(estate, items, layout, short))
        console.print(_legend(columns, layout.abbreviated))
    else:
        console.print("no repositories to show")
    if columns:
        console.print()
        console.print(_compliance_table(estate, columns, console.width))
        console.print(_levels(estate))
    console.print(f"GitHub API: {usage_summary(estate)}")
    missing = not_scanned(estate)
    if missing:
        console.print(f"[bold]could not be scanned ({len(missing)})[/bold]")
        for repo in missing:
            console.print(
                f"  [yellow]![/yellow] {safe(repo.name)}: {safe(why_not_scanned(repo))}",
                overflow="fold",
            )
    own = own_policies(estate)
    if own:
        console.print(f"[bold]with their own policy file ({len(own)})[/bold]")
        for repo, policy in own:
            mark = "[yellow]![/yellow]" if policy.error or policy.refused else "[dim]·[/dim]"
            console.print(
                f"  {mark} {safe(repo.name)}: {safe(estate_note(policy))}", overflow="fold"
            )
    return out.getvalue()
