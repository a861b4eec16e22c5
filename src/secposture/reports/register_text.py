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
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from secposture.reports.common import clean

if TYPE_CHECKING:
    from secposture.register.models import History

Column = tuple[str, str]  # (key in the row, heading)

# The history in the terminal: a value longer than this is cut (--format json has it whole), and
# a multi-line value shows at most so many lines. Cut lines stay inside `show`'s 120 columns.
HISTORY_VALUE_CHARS = 80
HISTORY_VALUE_LINES = 6
CUT_NOTE = "(values cut short with … are whole in --format json)"


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


# --- the history ------------------------------------------------------------------------------


def history(rows: Sequence[History]) -> str:
    """Each change to a record, oldest first: when, what and who, then each field it changed as
    before → after, the way --format json holds them. Lists say what was added (+) and removed
    (-); multi-line values are shown as indented lines; long values are cut. Every value goes
    through `clean`: the history holds what people typed."""
    lines: list[str] = []
    for row in rows:
        lines.append(f"{row.at:%Y-%m-%d %H:%M:%S} UTC  {clean(row.action)} by {clean(row.actor)}")
        if row.action.startswith("sent") and row.after and "channel" in row.after:
            lines.append(f"  {clean(delivery_line(row.after))}")
            continue
        if not row.before:
            lines.append("  new record")
            continue
        after = row.after or {}
        changed = [k for k in after if k != "version" and row.before.get(k) != after.get(k)]
        for key in changed:
            lines += _change(key.replace("_", " "), row.before.get(key), after.get(key))
        if not changed:
            lines.append("  no field changed")
    text = "\n".join(lines)
    return text + ("\n" + CUT_NOTE if "…" in text else "")


def delivery_line(sent: dict[str, Any]) -> str:
    """A delivery to the Security team (`issue send`) as one line of the issue's history."""
    what = "update" if sent.get("update") else "report"
    line = f"{what} (version {sent.get('issue_version')}) over {sent.get('channel')} to {sent.get('destination')}"
    if sent.get("url"):
        line += f": {sent['url']}"
    elif sent.get("reference"):
        line += f", message {sent['reference']}"
    return line


def _change(name: str, before: Any, after: Any) -> list[str]:
    if _is_plain_list(before) and _is_plain_list(after):
        marks = [f"+ {_one_line(v)}" for v in after if v not in before]
        marks += [f"- {_one_line(v)}" for v in before if v not in after]
        if len(marks) == 1:
            return [f"  {name}: {marks[0]}"]
        if marks:
            return [f"  {name}:", *(f"    {mark}" for mark in marks)]
        # The same items in another order: the lists as they were and are.
    old, new = _value_lines(before), _value_lines(after)
    if len(old) == len(new) == 1 and len(old[0]) + len(new[0]) <= HISTORY_VALUE_CHARS:
        return [f"  {name}: {old[0]} → {new[0]}"]
    if old == ["-"]:
        return [f"  {name}:", *(f"    {line}" for line in new)]
    if new == ["-"]:
        return [f"  {name}: removed, was", *(f"    {line}" for line in old)]
    return [
        f"  {name}:",
        "    before:",
        *(f"      {line}" for line in old),
        "    after:",
        *(f"      {line}" for line in new),
    ]


def _is_plain_list(value: Any) -> bool:
    return isinstance(value, list) and not any(isinstance(v, dict | list) for v in value)


def _value_lines(value: Any) -> list[str]:
    """A value as at most HISTORY_VALUE_LINES lines of at most HISTORY_VALUE_CHARS characters."""
    if value is None or value == "" or value == []:
        return ["-"]
    if isinstance(value, list) and _is_plain_list(value):
        text = ", ".join(_scalar(v) for v in value)
    elif isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = _scalar(value)
    found = clean(text, keep_newlines=True).split("\n")
    shown = [_cut(line) for line in found[:HISTORY_VALUE_LINES]]
    if len(found) > HISTORY_VALUE_LINES:
        shown.append(f"… ({len(found) - HISTORY_VALUE_LINES:,} more lines)")
    return shown


def _one_line(value: Any) -> str:
    return _cut(clean(_scalar(value)))


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "-" if value is None else str(value)


def _cut(line: str) -> str:
    """A line cut to HISTORY_VALUE_CHARS, at a space where one is near, saying how much more."""
    if len(line) <= HISTORY_VALUE_CHARS:
        return line
    end = line.rfind(" ", HISTORY_VALUE_CHARS - 30, HISTORY_VALUE_CHARS)
    end = end if end > 0 else HISTORY_VALUE_CHARS
    return f"{line[:end].rstrip()}… ({len(line) - end:,} more characters)"
