"""Register records for people (rich tables) and machines (JSON).

Every value was typed by someone: on a terminal it goes through `clean` (no control characters,
so no escape sequences) and rich's `escape` (no markup). JSON escapes everything but ASCII.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from secposture.reports.interface import clean

Column = tuple[str, str]  # (key in the row, heading)


def safe(value: Any) -> str:
    """A value ready for rich: lists one per line, None as "-", no control characters, no markup."""
    if value is None or value == "" or value == []:
        return "-"
    if isinstance(value, list | tuple):
        return "\n".join(safe(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{safe(k)} {safe(v)}" for k, v in value.items())
    return escape(clean(str(value), keep_newlines=True))


def _console(out: io.StringIO) -> Console:
    to_terminal = sys.stdout.isatty()
    color = to_terminal and not os.environ.get("NO_COLOR")
    width = shutil.get_terminal_size().columns if to_terminal else 120
    return Console(
        file=out,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        width=width,
        highlight=False,
        soft_wrap=False,
        emoji=False,
    )


def table(
    title: str, columns: Sequence[Column], rows: Sequence[dict[str, Any]], footer: str = ""
) -> str:
    out = io.StringIO()
    console = _console(out)
    grid = Table(title=safe(title), title_justify="left", expand=False)
    for key, heading in columns:
        grid.add_column(heading, overflow="fold", no_wrap=key in ("id", "due_on", "status"))
    for row in rows:
        grid.add_row(*(safe(row.get(key)) for key, _ in columns))
    console.print(grid)
    if footer:
        console.print(safe(footer))
    return out.getvalue()


def record(title: str, values: dict[str, Any], sections: Sequence[tuple[str, str]] = ()) -> str:
    """One record as a two-column table of field and value, then any extra sections."""
    out = io.StringIO()
    console = _console(out)
    grid = Table(title=safe(title), title_justify="left", show_header=False, expand=False)
    grid.add_column("field", style="bold", no_wrap=True)
    grid.add_column("value", overflow="fold")
    for key, value in values.items():
        grid.add_row(escape(key.replace("_", " ")), safe(value))
    console.print(grid)
    for heading, text in sections:
        console.print(f"\n[bold]{safe(heading)}[/bold]")
        console.print(clean(text, keep_newlines=True), markup=False)
    return out.getvalue()


def as_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=True, default=str) + "\n"
