"""`secposture due`: what is overdue or due soon; exit 1 when anything is overdue."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from secposture.cli.common import (
    errors_as_input,
    format_option,
    policy_option,
    read_register,
)
from secposture.cli.register.common import (
    DATE,
    emit_rows,
    register_options,
)

if TYPE_CHECKING:
    from secposture.register.database import Tx

EXIT_OVERDUE = 1


DUE_HELP = """List what is overdue or due soon: threat-model reviews and ITHCs per product (every 6
and 12 months, or now after a major change; intervals from --policy), risk reviews, risk
acceptances and waivers expiring, open issues past or near their patch-by date, and Dependabot
alerts past theirs (critical and high 7 days, medium 28, low 90) as the latest recorded scan of
each repository found them (`scan --record`); an advisory waived or accepted since is left out.

Exit code 1 when anything is overdue, so a scheduled CI job fails and someone is told.

\b
Examples:
  secposture due                          # overdue, and due in the next 30 days
  secposture due --within 7 --product payments
  secposture due --format json > due.json
  secposture due --policy secposture.toml # the policy's threat-model and ithc intervals

\b
Exit codes:
  0  nothing overdue (things may be due soon)
  1  something is overdue
  2  usage or input error
"""


@click.command("due", help=DUE_HELP)
@click.option(
    "--within",
    "within_days",
    type=click.IntRange(0, 3660),
    default=30,
    show_default=True,
    metavar="DAYS",
    help="Also list what falls due in this many days.",
)
@click.option(
    "--today",
    type=DATE,
    help="Count from this day [default: today in $SECPOSTURE_TIMEZONE, else Europe/London].",
)
@click.option("--product", "product_name", metavar="PRODUCT", help="Only this product's duties.")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(
        ("threat-model", "ithc", "risk-review", "risk-acceptance", "waiver", "issue", "alert")
    ),
    help="Only these kinds (repeatable).",
)
@policy_option(
    help="Take the threat-model and ITHC intervals from this policy file.",
)
@format_option()
@register_options
@errors_as_input
def due(
    within_days: int,
    today: date | None,
    product_name: str | None,
    kinds: tuple[str, ...],
    policy_file: Path | None,
    fmt: str,
    db: str | None,
    actor: str | None,
) -> None:
    from secposture.register.due_list import KINDS, OVERDUE, due_items

    months = _intervals(policy_file)

    def items(tx: Tx) -> list[dict[str, Any]]:
        found = due_items(
            tx,
            today=today,
            within_days=within_days,
            months=months,
            product=product_name,
            kinds=kinds or KINDS,
        )
        return [i.to_dict() for i in found]

    rows = read_register(db, items)
    overdue = sum(1 for row in rows if row["status"] == OVERDUE)
    if fmt != "json":
        for row in rows:
            row["due_on"] = row["due_on"] or "now"
            row["status"] = row["status"].replace("_", " ")
    columns = [
        ("status", "status"),
        ("due_on", "due"),
        ("kind", "what"),
        ("record", "record"),
        ("title", "title"),
        ("reason", "why"),
    ]
    footer = f"{overdue} overdue, {len(rows) - overdue} due within {within_days} days"
    emit_rows(
        fmt,
        "Due",
        columns,
        rows,
        empty=f"Nothing overdue or due within {within_days} days.",
        footer=footer,
    )
    if overdue:
        sys.exit(EXIT_OVERDUE)


def _intervals(policy_file: Path | None) -> dict[str, int]:
    """The product duties' review intervals in months (threat-model, ithc), from the policy."""
    from secposture.policy import default_policy

    if policy_file is None:
        policy = default_policy()
    else:
        from secposture.errors import SecpostureError
        from secposture.scan import read_policy_file

        if not policy_file.is_file():
            raise SecpostureError(f"{policy_file}: policy file not found")
        policy = read_policy_file(policy_file)
    from secposture.register.due_list import PRODUCT_DUTIES

    return {kind: policy.interval_months(kind) for kind in PRODUCT_DUTIES}


def add_commands(group: click.Group) -> None:
    """Add `due` to the `secposture` command group."""
    group.add_command(due)
