"""`secposture product`: the products, their owners, repositories and classification."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from secposture.cli.common import (
    errors_as_input,
    format_option,
    read_register,
    write_register,
)
from secposture.cli.register.common import (
    COMMON_EPILOG,
    Vocabulary,
    done,
    emit_record,
    emit_rows,
    history_text,
    register_options,
    split_values,
)

if TYPE_CHECKING:
    from secposture.register.database import Tx


@click.group(epilog=COMMON_EPILOG)
def product() -> None:
    """Products: name, owner, repositories, data classification and risk register level.

    \b
    Examples:
      secposture product add payments --owner "Jo Bloggs" --repo acme/payments-api \\
          --repo acme/payments-web --classification official
      secposture product list
      secposture product show payments --history
      secposture product update payments --add-repo acme/payments-batch
      secposture product retire payments
    """


@product.command("add", epilog=COMMON_EPILOG)
@click.argument("name")
@click.option("--owner", required=True, metavar="NAME", help="The product's accountable owner.")
@click.option(
    "--repo",
    "repos",
    multiple=True,
    metavar="OWNER/REPO",
    help="A GitHub repository of the product (repeat, or comma-separate).",
)
@click.option(
    "--classification",
    required=True,
    type=Vocabulary("classifications"),
    help="The most sensitive data the product holds.",
)
@click.option(
    "--risk-register-level",
    type=Vocabulary("risk_registers"),
    default="product",
    show_default=True,
    help="Which risk register the product's risks are held on.",
)
@format_option()
@register_options
@errors_as_input
def product_add(
    name: str,
    owner: str,
    repos: tuple[str, ...],
    classification: str,
    risk_register_level: str,
    fmt: str,
    db: str | None,
    actor: str | None,
) -> None:
    """Add a product to the register.

    \b
    Examples:
      secposture product add payments --owner "Jo Bloggs" --classification official \\
          --repo acme/payments-api --repo acme/payments-web
    """
    from secposture.register.products import add_product

    def add(tx: Tx) -> dict[str, Any]:
        return add_product(
            tx,
            name,
            owner=owner,
            repositories=split_values(repos),
            data_classification=classification,
            risk_register_level=risk_register_level,
        ).to_dict()

    values = write_register(db, actor, add)
    done(fmt, f"Added product {values['name']} (product {values['id']}).", values)


@product.command("update", epilog=COMMON_EPILOG)
@click.argument("name")
@click.option("--owner", metavar="NAME", help="A new owner.")
@click.option(
    "--add-repo",
    "add_repos",
    multiple=True,
    metavar="OWNER/REPO",
    help="Add a repository (repeatable).",
)
@click.option(
    "--remove-repo",
    "remove_repos",
    multiple=True,
    metavar="OWNER/REPO",
    help="Remove a repository (repeatable).",
)
@click.option(
    "--classification", type=Vocabulary("classifications"), help="A new data classification."
)
@click.option(
    "--risk-register-level", type=Vocabulary("risk_registers"), help="A new risk register level."
)
@format_option()
@register_options
@errors_as_input
def product_update(
    name: str,
    owner: str | None,
    add_repos: tuple[str, ...],
    remove_repos: tuple[str, ...],
    classification: str | None,
    risk_register_level: str | None,
    fmt: str,
    db: str | None,
    actor: str | None,
) -> None:
    """Change a product's owner, repositories, classification or register level.

    \b
    Examples:
      secposture product update payments --owner "Sam Patel"
      secposture product update payments --add-repo acme/batch --remove-repo acme/old
    """
    from secposture.register.products import update_product

    def update(tx: Tx) -> dict[str, Any]:
        return update_product(
            tx,
            name,
            owner=owner,
            add_repositories=split_values(add_repos),
            remove_repositories=split_values(remove_repos),
            data_classification=classification,
            risk_register_level=risk_register_level,
        ).to_dict()

    values = write_register(db, actor, update)
    done(fmt, f"Updated product {values['name']} (version {values['version']}).", values)


@product.command("retire", epilog=COMMON_EPILOG)
@click.argument("name")
@format_option()
@register_options
@errors_as_input
def product_retire(name: str, fmt: str, db: str | None, actor: str | None) -> None:
    """Retire a product: kept with its records and history, left out of lists and `due`.

    \b
    Example:
      secposture product retire payments
    """
    from secposture.register.products import retire_product

    values = write_register(db, actor, lambda tx: retire_product(tx, name).to_dict())
    done(fmt, f"Retired product {values['name']}.", values)


@product.command("list", epilog=COMMON_EPILOG)
@click.option("--all", "include_retired", is_flag=True, help="Include retired products.")
@click.option("--owner", metavar="NAME", help="Only this owner's products.")
@click.option("--repo", metavar="OWNER/REPO", help="Only products this repository belongs to.")
@format_option()
@register_options
@errors_as_input
def product_list(
    include_retired: bool,
    owner: str | None,
    repo: str | None,
    fmt: str,
    db: str | None,
    actor: str | None,
) -> None:
    """List products.

    \b
    Examples:
      secposture product list
      secposture product list --repo acme/payments-api --format json
    """
    from secposture.register.products import list_products

    rows = read_register(
        db,
        lambda tx: [
            p.to_dict()
            for p in list_products(
                tx, include_retired=include_retired, owner=owner, repository=repo
            )
        ],
    )
    columns = [
        ("id", "id"),
        ("name", "product"),
        ("owner", "owner"),
        ("repositories", "repositories"),
        ("data_classification", "classification"),
        ("risk_register_level", "register"),
        ("status", "status"),
    ]
    emit_rows(
        fmt, "Products", columns, rows, empty="No products (secposture product add NAME ...)."
    )


@product.command("show", epilog=COMMON_EPILOG)
@click.argument("name")
@click.option(
    "--history", "with_history", is_flag=True, help="Also list every change to the product."
)
@format_option()
@register_options
@errors_as_input
def product_show(
    name: str, with_history: bool, fmt: str, db: str | None, actor: str | None
) -> None:
    """Show a product with its latest threat model, ITHC and major change.

    \b
    Example:
      secposture product show payments --history
    """
    from secposture.register.products import get_product
    from secposture.register.records import (
        latest_assurance,
        latest_major_change,
        latest_threat_model,
    )

    def show(tx: Tx) -> tuple[dict[str, Any], str]:
        found = get_product(tx, name)
        values = found.to_dict()
        review, test, change = (
            latest_threat_model(tx, found),
            latest_assurance(tx, found),
            latest_major_change(tx, found),
        )
        values["latest_threat_model"] = f"{review.held_on} ({review.label})" if review else None
        values["latest_ithc"] = f"{test.performed_on} {test.kind} ({test.label})" if test else None
        values["latest_major_change"] = (
            f"{change.changed_on} {change.trigger} ({change.label})" if change else None
        )
        return values, history_text(tx, "product", found.id) if with_history else ""

    values, history = read_register(db, show)
    emit_record(fmt, f"Product {values['name']}", values, [("History", history)] if history else ())


def add_commands(group: click.Group) -> None:
    """Add `product` to the `secposture` command group."""
    group.add_command(product)
