"""What the register's commands share: the date and vocabulary parameter types, the --db and
--actor pair, and how a record, a table or a done line is printed.

Imports only click and the standard library: the register loads when a command runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

import click

from secposture.cli.common import actor_option, db_option, echo

if TYPE_CHECKING:
    from secposture.register.database import Tx

F = TypeVar("F", bound=Callable[..., Any])

COMMON_EPILOG = """\b
Every register command takes --db URL and --actor NAME; SECPOSTURE_DATABASE_URL and
SECPOSTURE_ACTOR set them for a session or a CI job. Exit codes: 0 done, 2 bad input
(nothing written)."""


# --- parameter types ------------------------------------------------------------------------------


class DateType(click.ParamType[date]):
    """A calendar date written YYYY-MM-DD."""

    name = "date"

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        return "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        text = str(value).strip()
        try:
            if len(text) == 10:
                return date.fromisoformat(text)
        except ValueError:
            pass
        self.fail(f"{text[:40]!r} is not a date (YYYY-MM-DD)", param, ctx)


class Vocabulary(click.ParamType[str]):
    """One of a list in register/vocabulary.toml, loaded only when used."""

    name = "choice"

    def __init__(self, vocabulary: str) -> None:
        self.vocabulary = vocabulary

    def choices(self) -> tuple[str, ...]:
        from secposture.register.vocabulary import choices

        return choices(self.vocabulary)

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        return "[" + "|".join(self.choices()) + "]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip()
        for option in self.choices():
            if text.lower() == option.lower():
                return option
        self.fail(f"{text[:40]!r} is not one of {', '.join(self.choices())}", param, ctx)

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[click.shell_completion.CompletionItem]:
        from click.shell_completion import CompletionItem

        return [CompletionItem(c) for c in self.choices() if c.startswith(incomplete)]


DATE = DateType()
RATING = click.IntRange(1, 5)


def register_options(command: F) -> F:
    """--db and --actor, as every register command takes them."""
    return db_option()(actor_option()(command))


def paging_options(*, limit: int) -> Callable[[F], F]:
    """--limit (at most this many, `limit` by default) and --offset (skip this many first)."""

    def decorate(command: F) -> F:
        command = click.option(
            "--offset", type=click.IntRange(min=0), default=0, help="Skip this many first (paging)."
        )(command)
        return click.option(
            "--limit",
            type=click.IntRange(1, 1000),
            default=limit,
            show_default=True,
            help="At most this many.",
        )(command)

    return decorate


# --- output ---------------------------------------------------------------------------------------


def print_text(text: str) -> None:
    """Standard output, ending in one new line."""
    echo(text, nl=not text.endswith("\n"))


def emit_record(
    fmt: str, title: str, values: dict[str, Any], sections: Sequence[tuple[str, str]] = ()
) -> None:
    from secposture.reports import register_text as render

    print_text(render.as_json(values) if fmt == "json" else render.record(title, values, sections))


def emit_rows(
    fmt: str,
    title: str,
    columns: Sequence[tuple[str, str]],
    rows: list[dict[str, Any]],
    *,
    empty: str,
    footer: str = "",
    json_value: Any = None,
) -> None:
    from secposture.reports import register_text as render

    if fmt == "json":
        print_text(render.as_json(rows if json_value is None else json_value))
    elif not rows:
        print_text(empty)
    else:
        print_text(render.table(title, columns, rows, footer))


def done(fmt: str, message: str, values: dict[str, Any]) -> None:
    """What an add/record command prints: one line for people, the record for scripts."""
    from secposture.reports import register_text as render
    from secposture.reports.common import clean

    print_text(render.as_json(values) if fmt == "json" else clean(message))


def page_footer(offset: int, shown: int, total: int) -> str:
    if total <= shown and offset == 0:
        return ""
    end = offset + shown
    more = f"; --offset {end} for more" if end < total else ""
    return f"{offset + 1 if shown else 0}-{end} of {total}{more}"


def split_values(values: Iterable[str]) -> list[str]:
    """Repeated options, each possibly a comma-separated list."""
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def links(values: Iterable[str]) -> list[str]:
    """Repeated link options, each possibly several links separated by spaces (a link may
    contain commas, never spaces)."""
    return [link for value in values for link in value.split()]


def history_text(tx: Tx, entity: str, entity_id: int) -> str:
    """Each change to the record, its fields before → after (reports/register_text.py)."""
    from secposture.register.history import history_of
    from secposture.reports import register_text as render

    return render.history(history_of(tx, entity, entity_id)) or "(no history)"
