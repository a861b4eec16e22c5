"""`secposture threat-model`, `ithc` and `change`: the assurance records of a product (reviews,
IT Health Checks and pen tests, major changes), each with its record, list and retire."""

from __future__ import annotations

from datetime import date
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
    DATE,
    Vocabulary,
    done,
    emit_rows,
    register_options,
    split_values,
)

if TYPE_CHECKING:
    from secposture.register.database import Tx


def _record_list_command(
    group: click.Group, kind: str, what: str, columns: list[tuple[str, str]]
) -> None:
    command = group.name

    @group.command(
        "list",
        epilog=COMMON_EPILOG,
        help=f"List {what}s, newest first.\n\n\b\nExample:\n  secposture {command} list --product payments --format json",
    )
    @click.option("--product", "product_name", metavar="PRODUCT", help="Only this product's.")
    @click.option("--all", "include_retired", is_flag=True, help="Include retired records.")
    @format_option()
    @register_options
    @errors_as_input
    def list_command(
        product_name: str | None, include_retired: bool, fmt: str, db: str | None, actor: str | None
    ) -> None:
        from secposture.register.records import list_records

        rows = read_register(
            db,
            lambda tx: [
                r.to_dict()
                for r in list_records(
                    tx, kind, product=product_name, include_retired=include_retired
                )
            ],
        )
        emit_rows(
            fmt, f"{what[0].upper()}{what[1:]}s", columns, rows, empty=f"No {what}s recorded."
        )

    @group.command(
        "retire",
        epilog=COMMON_EPILOG,
        help=f"Retire a {what} recorded by mistake (kept, no longer counted).\n\n\b\nExample:\n  secposture {command} retire 3",
    )
    @click.argument("record_id", type=click.IntRange(min=1), metavar="ID")
    @format_option()
    @register_options
    @errors_as_input
    def retire_command(record_id: int, fmt: str, db: str | None, actor: str | None) -> None:
        from secposture.register.records import retire_record

        values = write_register(db, actor, lambda tx: retire_record(tx, kind, record_id).to_dict())
        done(fmt, f"Retired {what} {values['id']} of {values['product']}.", values)


@click.group("threat-model", epilog=COMMON_EPILOG)
def threat_model() -> None:
    """Threat-model reviews: a product's review every 6 months, and after a major change.

    \b
    Examples:
      secposture threat-model record --product payments --on 2026-11-20 \\
          --participant "Jo Bloggs" --participant "Sam Patel" --method STRIDE \\
          --scope "payments API and its queue" \\
          --artefact https://wiki.example.org/payments/threat-model \\
          --summary "Two new threats: replayed webhooks; queue poisoning"
      secposture threat-model list --product payments
    """


@threat_model.command("record", epilog=COMMON_EPILOG)
@click.option(
    "--product", "product_name", required=True, metavar="PRODUCT", help="The product reviewed."
)
@click.option("--on", "held_on", type=DATE, help="When the review was held [default: today].")
@click.option(
    "--participant",
    "participants",
    multiple=True,
    required=True,
    metavar="NAME",
    help="Someone who took part (repeat, or comma-separate).",
)
@click.option(
    "--method",
    required=True,
    help="How: STRIDE, the four-question framework, LINDDUN, PASTA, attack trees, ...",
)
@click.option("--scope", required=True, help="What the review covered.")
@click.option(
    "--artefact",
    required=True,
    metavar="URL",
    help="Link to the threat model (diagram, document, tool file).",
)
@click.option("--summary", required=True, help="What was found and agreed.")
@format_option()
@register_options
@errors_as_input
def threat_model_record(
    product_name: str,
    held_on: date | None,
    participants: tuple[str, ...],
    method: str,
    scope: str,
    artefact: str,
    summary: str,
    fmt: str,
    db: str | None,
    actor: str | None,
) -> None:
    """Record a threat-model review of a product.

    \b
    Examples:
      secposture threat-model record --product payments --on 2026-11-20 \\
          --participant "Jo Bloggs, Sam Patel" --method STRIDE --scope "API and queue" \\
          --artefact https://wiki.example.org/payments/tm --summary "two new threats"
    """
    from secposture.register.records import record_threat_model

    def add(tx: Tx) -> dict[str, Any]:
        return record_threat_model(
            tx,
            product_name,
            held_on=held_on or tx.today,
            participants=split_values(participants),
            method=method,
            scope=scope,
            artefact_link=artefact,
            summary=summary,
        ).to_dict()

    values = write_register(db, actor, add)
    done(
        fmt,
        f"Recorded threat-model review {values['id']} of {values['product']} on {values['held_on']}.",
        values,
    )


_record_list_command(
    threat_model,
    "threat_model",
    "threat-model review",
    [
        ("id", "id"),
        ("product", "product"),
        ("held_on", "held on"),
        ("method", "method"),
        ("participants", "participants"),
        ("artefact_link", "artefact"),
        ("status", "status"),
    ],
)


@click.group("ithc", epilog=COMMON_EPILOG)
def ithc() -> None:
    """IT Health Checks and pen tests: once a year per product, and after a major change.

    \b
    Examples:
      secposture ithc record --product payments --on 2026-10-03 --kind ithc \\
          --supplier "Example Security Ltd" --scheme CHECK --scope "external + API" \\
          --report "ITHC-2026-117" --high 1 --medium 4 --low 7
      secposture ithc list
    """


@ithc.command("record", epilog=COMMON_EPILOG)
@click.option(
    "--product", "product_name", required=True, metavar="PRODUCT", help="The product tested."
)
@click.option("--on", "performed_on", type=DATE, help="When the test finished [default: today].")
@click.option(
    "--kind",
    type=Vocabulary("assurance_kinds"),
    default="ithc",
    show_default=True,
    help="An IT Health Check or a pen test.",
)
@click.option("--supplier", required=True, help="Who tested.")
@click.option(
    "--scheme", required=True, type=Vocabulary("schemes"), help="The supplier's accreditation."
)
@click.option("--scope", required=True, help="What was in scope.")
@click.option(
    "--report",
    "report_reference",
    required=True,
    metavar="REF",
    help="The report's reference or link.",
)
@click.option("--critical", default=0, type=click.IntRange(min=0), help="Critical findings.")
@click.option("--high", default=0, type=click.IntRange(min=0), help="High findings.")
@click.option("--medium", default=0, type=click.IntRange(min=0), help="Medium findings.")
@click.option("--low", default=0, type=click.IntRange(min=0), help="Low findings.")
@click.option("--info", default=0, type=click.IntRange(min=0), help="Informational findings.")
@format_option()
@register_options
@errors_as_input
def ithc_record(
    product_name: str,
    performed_on: date | None,
    kind: str,
    supplier: str,
    scheme: str,
    scope: str,
    report_reference: str,
    critical: int,
    high: int,
    medium: int,
    low: int,
    info: int,
    fmt: str,
    db: str | None,
    actor: str | None,
) -> None:
    """Record an ITHC or pen test of a product, with its findings by severity.

    \b
    Examples:
      secposture ithc record --product payments --on 2026-10-03 --supplier "Example Ltd" \\
          --scheme CHECK --scope "external + API" --report ITHC-2026-117 --high 1 --medium 4
    """
    from secposture.register.records import record_assurance

    findings = {"critical": critical, "high": high, "medium": medium, "low": low, "info": info}

    def add(tx: Tx) -> dict[str, Any]:
        return record_assurance(
            tx,
            product_name,
            performed_on=performed_on or tx.today,
            kind=kind,
            supplier=supplier,
            scheme=scheme,
            scope=scope,
            report_reference=report_reference,
            findings=findings,
        ).to_dict()

    values = write_register(db, actor, add)
    done(
        fmt,
        f"Recorded {values['kind']} {values['id']} of {values['product']} on {values['performed_on']}.",
        values,
    )


_record_list_command(
    ithc,
    "assurance",
    "ITHC or pen test",
    [
        ("id", "id"),
        ("product", "product"),
        ("performed_on", "on"),
        ("kind", "kind"),
        ("supplier", "supplier"),
        ("scheme", "scheme"),
        ("findings", "findings"),
        ("status", "status"),
    ],
)


class _TriggersCommand(click.Command):
    """`change record --help` lists the five triggers from the package's vocabulary."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from secposture.register.vocabulary import triggers

        with formatter.section("Triggers"):
            formatter.write_dl(list(triggers().items()))
        super().format_epilog(ctx, formatter)


@click.group("change", epilog=COMMON_EPILOG)
def change() -> None:
    """Major changes: each makes a threat-model review and an ITHC of the product due.

    \b
    Examples:
      secposture change record --product payments --trigger authentication \\
          --description "Move staff sign-in to the department's identity provider"
      secposture change list --product payments
    """


@change.command("record", cls=_TriggersCommand, epilog=COMMON_EPILOG)
@click.option(
    "--product", "product_name", required=True, metavar="PRODUCT", help="The product changed."
)
@click.option("--on", "changed_on", type=DATE, help="When the change went live [default: today].")
@click.option(
    "--trigger",
    required=True,
    type=Vocabulary("triggers"),
    help="Why the change is major (see Triggers below).",
)
@click.option("--description", required=True, help="What changed.")
@format_option()
@register_options
@errors_as_input
def change_record(
    product_name: str,
    changed_on: date | None,
    trigger: str,
    description: str,
    fmt: str,
    db: str | None,
    actor: str | None,
) -> None:
    """Record a major change of a product.

    \b
    Examples:
      secposture change record --product payments --trigger data \\
          --description "Start storing bank details"
    """
    from secposture.register.records import record_major_change

    def add(tx: Tx) -> dict[str, Any]:
        return record_major_change(
            tx,
            product_name,
            changed_on=changed_on or tx.today,
            trigger=trigger,
            description=description,
        ).to_dict()

    values = write_register(db, actor, add)
    done(
        fmt,
        f"Recorded major change {values['id']} of {values['product']} ({values['trigger']}, {values['changed_on']}): a threat-model review and an ITHC are now due.",
        values,
    )


_record_list_command(
    change,
    "major_change",
    "major change",
    [
        ("id", "id"),
        ("product", "product"),
        ("changed_on", "on"),
        ("trigger", "trigger"),
        ("description", "description"),
        ("status", "status"),
    ],
)


def add_commands(group: click.Group) -> None:
    """Add `threat-model`, `ithc`, `change` to the `secposture` command group."""
    group.add_command(threat_model)
    group.add_command(ithc)
    group.add_command(change)
