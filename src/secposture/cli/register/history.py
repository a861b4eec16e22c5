"""`secposture history`: every change to one record."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from secposture.cli.common import (
    errors_as_input,
    format_option,
    read_register,
)
from secposture.cli.register.common import (
    COMMON_EPILOG,
    print_text,
    register_options,
)

if TYPE_CHECKING:
    from secposture.register.database import Tx


# Command names of the records -> the entity names the history stores.
HISTORY_ALIASES = {
    "threat-model": "threat_model",
    "ithc": "assurance",
    "change": "major_change",
    "repository-issue": "repository_issue",
}


@click.command("history", epilog=COMMON_EPILOG)
@click.argument(
    "entity",
    type=click.Choice(
        (
            "product",
            "threat-model",
            "ithc",
            "change",
            "issue",
            "risk",
            "waiver",
            "scan",
            "repository-issue",
            # the names the history stores, as --format json shows them
            "threat_model",
            "assurance",
            "major_change",
            "repository_issue",
        )
    ),
)
@click.argument("record_id", type=click.IntRange(min=1), metavar="ID")
@format_option()
@register_options
@errors_as_input
def history(entity: str, record_id: int, fmt: str, db: str | None, actor: str | None) -> None:
    """Every change to one record: who, when, and what changed (json: the values before and after).

    \b
    Examples:
      secposture history risk 12
      secposture history threat-model 4
      secposture history product 3 --format json
    """
    from secposture.register.history import changed_fields, history_of
    from secposture.reports import register_text as render

    entity = HISTORY_ALIASES.get(entity, entity)

    def rows(tx: Tx) -> tuple[list[dict[str, Any]], str]:
        found = history_of(tx, entity, record_id)
        items = [
            {**h.to_dict(), "changed": changed_fields(h) if h.before else ["(new record)"]}
            for h in found
        ]
        return items, render.history(found)

    items, text = read_register(db, rows)
    if fmt == "json":
        print_text(render.as_json(items))
    elif not items:
        print_text(f"No history for {entity.replace('_', ' ')} {record_id}.")
    else:
        print_text(f"History of {entity.replace('_', ' ')} {record_id}\n{text}\n")


def add_commands(group: click.Group) -> None:
    """Add `history` to the `secposture` command group."""
    group.add_command(history)
