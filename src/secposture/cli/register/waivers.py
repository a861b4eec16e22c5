"""`secposture waiver`: a control waived for a product or a repository, until a date."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import click

from secposture.cli.common import (
    errors_as_input,
    format_option,
    read_register,
    write_register,
)
from secposture.cli.register.common import (
    COMMON_EPILOG,
    DATE,
    done,
    emit_rows,
    register_options,
)

if TYPE_CHECKING:
    pass


@click.group(epilog=COMMON_EPILOG)
def waiver() -> None:
    """Waivers: a control waived for a repository or a whole product, until a date.

    The scan treats an unexpired waiver's control as `waived` and an expired one as `fail`.

    \b
    Examples:
      secposture waiver add --control container-scanning --repo acme/legacy-app \\
          --reason "image retired in March" --approver "Head of Security" --expires 2027-03-31
      secposture waiver list --repo acme/legacy-app
      secposture waiver retire 4
    """


@waiver.command("add", epilog=COMMON_EPILOG)
@click.option(
    "--control",
    required=True,
    metavar="CONTROL",
    help="The control's id, e.g. container-scanning (secposture scan lists them).",
)
@click.option("--repo", metavar="OWNER/REPO", help="The repository the waiver applies to.")
@click.option(
    "--product", "product_name", metavar="PRODUCT", help="Or: every repository of this product."
)
@click.option("--reason", required=True, help="Why the control is waived.")
@click.option("--approver", required=True, metavar="NAME", help="Who approved it.")
@click.option("--expires", "expires_on", required=True, type=DATE, help="The last day it applies.")
@format_option()
@register_options
@errors_as_input
def waiver_add(
    control: str,
    repo: str | None,
    product_name: str | None,
    reason: str,
    approver: str,
    expires_on: date,
    fmt: str,
    db: str | None,
    actor: str | None,
) -> None:
    """Waive a control for a repository or a product.

    \b
    Examples:
      secposture waiver add --control container-scanning --repo acme/legacy-app \\
          --reason "image retired in March" --approver "Head of Security" --expires 2027-03-31
    """
    from secposture.register.waivers import add_waiver

    values = write_register(
        db,
        actor,
        lambda tx: add_waiver(
            tx,
            control=control,
            repository=repo,
            product=product_name,
            reason=reason,
            approver=approver,
            expires_on=expires_on,
        ).to_dict(),
    )
    target = values["repository"] or f"product {values['product']}"
    done(
        fmt,
        f"Added waiver {values['id']}: {values['control']} waived for {target} until {values['expires_on']}.",
        values,
    )


@waiver.command("list", epilog=COMMON_EPILOG)
@click.option(
    "--repo",
    metavar="OWNER/REPO",
    help="Waivers that apply to this repository (its own and its products').",
)
@click.option("--product", "product_name", metavar="PRODUCT", help="Waivers of this product.")
@click.option("--all", "everything", is_flag=True, help="Include expired and retired waivers.")
@format_option()
@register_options
@errors_as_input
def waiver_list(
    repo: str | None,
    product_name: str | None,
    everything: bool,
    fmt: str,
    db: str | None,
    actor: str | None,
) -> None:
    """List waivers in force, soonest expiry first.

    \b
    Examples:
      secposture waiver list --repo acme/legacy-app
      secposture waiver list --all --format json
    """
    from secposture.register.waivers import list_waivers

    rows = read_register(
        db,
        lambda tx: [
            w.to_dict()
            for w in list_waivers(
                tx,
                repository=repo,
                product=product_name,
                include_expired=everything,
                include_retired=everything,
            )
        ],
    )
    columns = [
        ("id", "id"),
        ("control", "control"),
        ("repository", "repository"),
        ("product", "product"),
        ("reason", "reason"),
        ("approver", "approver"),
        ("expires_on", "expires"),
        ("status", "status"),
    ]
    emit_rows(fmt, "Waivers", columns, rows, empty="No waivers in force.")


@waiver.command("retire", epilog=COMMON_EPILOG)
@click.argument("waiver_id", type=click.IntRange(min=1), metavar="ID")
@format_option()
@register_options
@errors_as_input
def waiver_retire(waiver_id: int, fmt: str, db: str | None, actor: str | None) -> None:
    """Withdraw a waiver before it expires (kept, with its history).

    \b
    Example:
      secposture waiver retire 4
    """
    from secposture.register.waivers import retire_waiver

    values = write_register(db, actor, lambda tx: retire_waiver(tx, waiver_id).to_dict())
    done(fmt, f"Retired waiver {values['id']}.", values)


def add_commands(group: click.Group) -> None:
    """Add `waiver` to the `secposture` command group."""
    group.add_command(waiver)
