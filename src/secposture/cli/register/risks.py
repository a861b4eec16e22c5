"""`secposture risk`: the risk register: add, review, accept and close risks; export and
import them."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from secposture.cli.common import (
    errors_as_input,
    format_option,
    output_option,
    read_register,
    write_register,
)
from secposture.cli.register.common import (
    COMMON_EPILOG,
    DATE,
    RATING,
    Vocabulary,
    done,
    emit_record,
    emit_rows,
    history_text,
    page_footer,
    paging_options,
    print_text,
    register_options,
)

if TYPE_CHECKING:
    from secposture.register.database import Tx

F = TypeVar("F", bound=Callable[..., Any])


@click.group(epilog=COMMON_EPILOG)
def risk() -> None:
    """The risk register: add, review, accept and close risks; export and import them.

    \b
    Examples:
      secposture risk add --title "Webhook replay" --product payments --owner "Jo Bloggs" \\
          --cause "webhooks are not signed" --event "an attacker replays a refund" \\
          --effect "money lost" --likelihood 3 --impact 4 --treatment treat \\
          --action "sign webhooks (PAY-88)"
      secposture risk list --sort score --desc
      secposture risk review 12 --likelihood-after 2 --action "rotate keys quarterly"
      secposture risk accept 12 --by "Director of Digital" --expires 2027-06-30
      secposture risk export --format csv -o risks.csv
      secposture risk import risks.csv
    """


def _risk_filters(command: F) -> F:
    options = [
        click.option(
            "--status",
            "statuses",
            multiple=True,
            type=click.Choice(("open", "accepted", "closed")),
            help="Only these statuses (repeatable) [default: open and accepted].",
        ),
        click.option("--all", "all_statuses", is_flag=True, help="Every status, closed included."),
        click.option("--register", type=Vocabulary("risk_registers"), help="Only this register."),
        click.option(
            "--product", "product_name", metavar="PRODUCT", help="Only this product's risks."
        ),
        click.option("--owner", metavar="NAME", help="Only this owner's risks."),
        click.option("--treatment", type=Vocabulary("treatments"), help="Only this treatment."),
        click.option(
            "--min-score",
            type=click.IntRange(1, 25),
            help="Only risks scoring at least this (likelihood x impact after controls).",
        ),
        click.option(
            "--review-due-by",
            type=DATE,
            help="Only risks whose next review is on or before this day.",
        ),
        click.option(
            "--search",
            metavar="TEXT",
            help="Only risks with this text in the title, cause, event or effect.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _filter_from(params: dict[str, Any], *, default_all: bool = False) -> Any:
    from secposture.register.risks import STATUSES, RiskFilter

    statuses = params.pop("statuses")
    everything = params.pop("all_statuses") or (default_all and not statuses)
    return RiskFilter(
        status=STATUSES if everything else (statuses or ("open", "accepted")),
        register=params.pop("register"),
        product=params.pop("product_name"),
        owner=params.pop("owner"),
        treatment=params.pop("treatment"),
        min_score=params.pop("min_score"),
        review_due_by=params.pop("review_due_by"),
        text=params.pop("search"),
    )


@risk.command("add", epilog=COMMON_EPILOG)
@click.option("--title", required=True, help="A short name for the risk.")
@click.option(
    "--register",
    type=Vocabulary("risk_registers"),
    default="product",
    show_default=True,
    help="The product's register or the organisation's.",
)
@click.option(
    "--product",
    "product_name",
    metavar="PRODUCT",
    help="The product (required on a product register).",
)
@click.option("--cause", required=True, help="Because of ... (the cause).")
@click.option("--event", required=True, help="... this may happen (the event) ...")
@click.option("--effect", required=True, help="... resulting in ... (the effect).")
@click.option("--owner", required=True, metavar="NAME", help="Who owns the risk.")
@click.option("--likelihood", required=True, type=RATING, help="Likelihood 1-5 before controls.")
@click.option("--impact", required=True, type=RATING, help="Impact 1-5 before controls.")
@click.option(
    "--likelihood-after", type=RATING, help="Likelihood 1-5 after controls [default: as before]."
)
@click.option("--impact-after", type=RATING, help="Impact 1-5 after controls [default: as before].")
@click.option(
    "--treatment", required=True, type=Vocabulary("treatments"), help="How the risk is handled."
)
@click.option(
    "--action", "actions", multiple=True, help="An action that treats the risk (repeatable)."
)
@click.option("--next-review", type=DATE, help="When to review it [default: in 3 months].")
@click.option(
    "--issue",
    "issues",
    multiple=True,
    type=click.IntRange(min=1),
    metavar="ID",
    help="A security issue this risk comes from (repeatable).",
)
@format_option()
@register_options
@errors_as_input
def risk_add(
    title: str,
    register: str,
    product_name: str | None,
    cause: str,
    event: str,
    effect: str,
    owner: str,
    likelihood: int,
    impact: int,
    likelihood_after: int | None,
    impact_after: int | None,
    treatment: str,
    actions: tuple[str, ...],
    next_review: date | None,
    issues: tuple[int, ...],
    fmt: str,
    db: str | None,
    actor: str | None,
) -> None:
    """Add a risk (cause, event, effect; ratings before and after controls).

    \b
    Examples:
      secposture risk add --title "Webhook replay" --product payments --owner "Jo Bloggs" \\
          --cause "webhooks are not signed" --event "a refund is replayed" \\
          --effect "money lost" --likelihood 3 --impact 4 --likelihood-after 1 --treatment treat
    """
    from secposture.register.risks import RiskInput, add_risk

    data = RiskInput(
        title=title,
        register=register,
        product=product_name,
        cause=cause,
        event=event,
        effect=effect,
        owner=owner,
        likelihood_before=likelihood,
        impact_before=impact,
        likelihood_after=likelihood_after,
        impact_after=impact_after,
        treatment=treatment,
        actions=list(actions),
        next_review_on=next_review,
        issues=list(issues),
    )
    values = write_register(db, actor, lambda tx: add_risk(tx, data).to_dict())
    done(
        fmt,
        f"Added risk {values['id']}: {values['title']} (score {values['score_after']}, next review {values['next_review_on']}).",
        values,
    )


RISK_COLUMNS = [
    ("id", "id"),
    ("title", "risk"),
    ("product", "product"),
    ("owner", "owner"),
    ("score_before", "inherent"),
    ("score_after", "residual"),
    ("treatment", "treatment"),
    ("next_review_on", "next review"),
    ("status", "status"),
]


@risk.command("list", epilog=COMMON_EPILOG)
@_risk_filters
@click.option(
    "--sort",
    type=click.Choice(
        ("id", "title", "score", "inherent-score", "next-review", "expires", "owner", "status")
    ),
    default="id",
    show_default=True,
    help="Order by.",
)
@click.option("--desc", "descending", is_flag=True, help="Largest, latest or last first.")
@paging_options(limit=50)
@format_option()
@register_options
@errors_as_input
def risk_list(
    sort: str,
    descending: bool,
    limit: int,
    offset: int,
    fmt: str,
    db: str | None,
    actor: str | None,
    **params: Any,
) -> None:
    """List risks: filter, sort and page through the register.

    \b
    Examples:
      secposture risk list --sort score --desc --limit 20
      secposture risk list --owner "Jo Bloggs" --review-due-by 2027-01-31
      secposture risk list --search webhook --all --format json
    """
    from secposture.register.risks import list_risks

    filters = _filter_from(params)

    def rows(tx: Tx) -> tuple[list[dict[str, Any]], int]:
        page = list_risks(tx, filters, sort=sort, descending=descending, limit=limit, offset=offset)
        return [r.to_dict() for r in page.items], page.total

    items, total = read_register(db, rows)
    json_value = {"total": total, "offset": offset, "limit": limit, "risks": items}
    emit_rows(
        fmt,
        "Risks",
        RISK_COLUMNS,
        items,
        empty="No risks match.",
        footer=page_footer(offset, len(items), total),
        json_value=json_value,
    )


@risk.command("show", epilog=COMMON_EPILOG)
@click.argument("risk_id", type=click.IntRange(min=1), metavar="ID")
@click.option("--history", "with_history", is_flag=True, help="Also list every change to the risk.")
@format_option()
@register_options
@errors_as_input
def risk_show(
    risk_id: int, with_history: bool, fmt: str, db: str | None, actor: str | None
) -> None:
    """Show a risk.

    \b
    Example:
      secposture risk show 12 --history
    """
    from secposture.register.risks import get_risk

    def show(tx: Tx) -> tuple[dict[str, Any], str]:
        found = get_risk(tx, risk_id)
        return found.to_dict(), history_text(tx, "risk", found.id) if with_history else ""

    values, history = read_register(db, show)
    emit_record(
        fmt,
        f"Risk {values['id']}: {values['title']}",
        values,
        [("History", history)] if history else (),
    )


@risk.command("review", epilog=COMMON_EPILOG)
@click.argument("risk_id", type=click.IntRange(min=1), metavar="ID")
@click.option("--on", "reviewed_on", type=DATE, help="When it was reviewed [default: today].")
@click.option(
    "--next-review", type=DATE, help="The next review [default: 3 months after this one]."
)
@click.option("--likelihood-after", type=RATING, help="A new likelihood after controls.")
@click.option("--impact-after", type=RATING, help="A new impact after controls.")
@click.option("--treatment", type=Vocabulary("treatments"), help="A new treatment.")
@click.option("--owner", metavar="NAME", help="A new owner.")
@click.option("--action", "actions", multiple=True, help="Add an action (repeatable).")
@click.option(
    "--note",
    help="What the review found or decided: shown by risk show and kept in the history.",
)
@format_option()
@register_options
@errors_as_input
def risk_review(
    risk_id: int,
    reviewed_on: date | None,
    next_review: date | None,
    likelihood_after: int | None,
    impact_after: int | None,
    treatment: str | None,
    owner: str | None,
    actions: tuple[str, ...],
    note: str | None,
    fmt: str,
    db: str | None,
    actor: str | None,
) -> None:
    """Record a review of a risk, with any new ratings, treatment, owner or actions, and a note
    of what the review found.

    \b
    Examples:
      secposture risk review 12 --note "no change: the supplier's fix is due in March"
      secposture risk review 12 --impact-after 2 --action "backups tested monthly"
    """
    from secposture.register.risks import review_risk

    def review(tx: Tx) -> dict[str, Any]:
        return review_risk(
            tx,
            risk_id,
            reviewed_on=reviewed_on,
            next_review_on=next_review,
            likelihood_after=likelihood_after,
            impact_after=impact_after,
            treatment=treatment,
            owner=owner,
            add_actions=actions,
            note=note,
        ).to_dict()

    values = write_register(db, actor, review)
    done(
        fmt,
        f"Reviewed risk {values['id']} (residual score {values['score_after']}); next review {values['next_review_on']}.",
        values,
    )


@risk.command("accept", epilog=COMMON_EPILOG)
@click.argument("risk_id", type=click.IntRange(min=1), metavar="ID")
@click.option("--by", "accepted_by", required=True, metavar="NAME", help="Who accepts the risk.")
@click.option(
    "--expires", "expires_on", required=True, type=DATE, help="Until when the acceptance holds."
)
@click.option("--on", "accepted_on", type=DATE, help="When it was accepted [default: today].")
@format_option()
@register_options
@errors_as_input
def risk_accept(
    risk_id: int,
    accepted_by: str,
    expires_on: date,
    accepted_on: date | None,
    fmt: str,
    db: str | None,
    actor: str | None,
) -> None:
    """Accept a risk until a date (`secposture due` warns before it expires).

    \b
    Example:
      secposture risk accept 12 --by "Director of Digital" --expires 2027-06-30
    """
    from secposture.register.risks import accept_risk

    values = write_register(
        db,
        actor,
        lambda tx: accept_risk(
            tx, risk_id, accepted_by=accepted_by, expires_on=expires_on, accepted_on=accepted_on
        ).to_dict(),
    )
    done(
        fmt,
        f"Risk {values['id']} accepted by {values['accepted_by']} until {values['expires_on']}.",
        values,
    )


@risk.command("close", epilog=COMMON_EPILOG)
@click.argument("risk_id", type=click.IntRange(min=1), metavar="ID")
@click.option("--reason", required=True, help="Why it is no longer a risk.")
@click.option("--on", "closed_on", type=DATE, help="When [default: today].")
@format_option()
@register_options
@errors_as_input
def risk_close(
    risk_id: int, reason: str, closed_on: date | None, fmt: str, db: str | None, actor: str | None
) -> None:
    """Close a risk (it is kept, with its history).

    \b
    Example:
      secposture risk close 12 --reason "webhooks are now signed"
    """
    from secposture.register.risks import close_risk

    values = write_register(
        db, actor, lambda tx: close_risk(tx, risk_id, reason=reason, closed_on=closed_on).to_dict()
    )
    done(fmt, f"Closed risk {values['id']}.", values)


@risk.command("export", epilog=COMMON_EPILOG)
@_risk_filters
@format_option("csv", "json", help="csv for spreadsheets (and `risk import`), json for tools.")
@output_option(help="Write to this file instead of standard output.")
@register_options
@errors_as_input
def risk_export(
    fmt: str, output: Path | None, db: str | None, actor: str | None, **params: Any
) -> None:
    """Export risks (every status unless filtered) as CSV or JSON.

    \b
    Examples:
      secposture risk export -o risks.csv
      secposture risk export --register organisation --format json
    """
    from secposture.register.csv_io import risks_to_csv, risks_to_json
    from secposture.register.risks import iter_risks

    filters = _filter_from(params, default_all=True)
    render = risks_to_csv if fmt == "csv" else risks_to_json
    text = read_register(db, lambda tx: render(iter_risks(tx, filters)))
    if output is None:
        print_text(text)
        return
    from secposture.errors import SecpostureError

    try:
        output.write_text(text, "utf-8", newline="")
    except OSError as exc:
        raise SecpostureError(f"{output}: cannot write: {exc.strerror or exc}") from None


@risk.command("import", epilog=COMMON_EPILOG)
@click.argument(
    "file", type=click.Path(path_type=Path, dir_okay=False, allow_dash=True), metavar="FILE.csv"
)
@format_option()
@register_options
@errors_as_input
def risk_import(file: Path, fmt: str, db: str | None, actor: str | None) -> None:
    """Import risks from CSV (`risk export` writes the columns; title, register, cause, event,
    effect, owner, likelihood_before, impact_before and treatment are required). All or nothing:
    any bad row stops the import, naming its line and column. FILE - reads standard input.

    \b
    Examples:
      secposture risk import risks.csv
      secposture risk export --db sqlite:///old.db | secposture risk import -
    """
    from secposture.errors import SecpostureError
    from secposture.register.csv_io import MAX_BYTES, import_risks

    try:
        if str(file) == "-":
            data = sys.stdin.buffer.read(MAX_BYTES + 1)
        else:
            with file.open("rb") as handle:
                data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise SecpostureError(f"{file}: cannot read: {exc.strerror or exc}") from None
    name = "stdin" if str(file) == "-" else file.name
    rows = write_register(db, actor, lambda tx: [r.to_dict() for r in import_risks(tx, data, name)])
    done(
        fmt,
        f"Imported {len(rows)} risk{'s' if len(rows) != 1 else ''} (risks {rows[0]['id']}-{rows[-1]['id']}).",
        {"imported": rows},
    )


def add_commands(group: click.Group) -> None:
    """Add `risk` to the `secposture` command group."""
    group.add_command(risk)
