"""The register's commands: products, threat models, ITHCs, major changes, security issues,
risks, waivers, what is due, and each record's history.

Imports only click and the standard library: `secposture --help` and `secposture scan` must not
pay for SQLAlchemy. Everything else is imported inside the commands.

Errors follow cli.py: a SecpostureError (unknown product, bad date, duplicate, malformed CSV row)
is one line on stderr and exit 2, with nothing written. `due` exits 1 when anything is overdue.
"""

from __future__ import annotations

import functools
import getpass
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from secposture.register.database import Database, Tx

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

EXIT_OVERDUE = 1
FORMATS = ("terminal", "json")
ENV_ACTOR = "SECPOSTURE_ACTOR"
ENV_PATCH_DAYS = "SECPOSTURE_PATCH_DAYS"
ENV_SECURITY_EMAIL = "SECPOSTURE_SECURITY_EMAIL"

DB_HELP = (
    "The register: a database URL (sqlite:///PATH, postgresql://USER@HOST/DB) or a SQLite file "
    "[default: $SECPOSTURE_DATABASE_URL, else $XDG_DATA_HOME/secposture/register.db, "
    "i.e. ~/.local/share/secposture/register.db]."
)
ACTOR_HELP = (
    "Who is making the change, for the history [default: $SECPOSTURE_ACTOR, else your user name]."
)
COMMON_EPILOG = """\b
Every register command takes --db URL and --actor NAME; SECPOSTURE_DATABASE_URL and
SECPOSTURE_ACTOR set them for a session or a CI job. Exit codes: 0 done, 2 bad input
(nothing written)."""


# --- parameter types --------------------------------------------------------------------------


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


# --- shared plumbing --------------------------------------------------------------------------


def _errors(command: F) -> F:
    """SecpostureError -> one line on stderr and exit 2 (cli.InputError), also under CliRunner;
    a refused field is named by the option the command offers for it (_said)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from secposture.cli.common import InputError
        from secposture.errors import SecpostureError

        try:
            return command(*args, **kwargs)
        except SecpostureError as exc:
            raise InputError(_said(exc)) from None

    return wrapper  # type: ignore[return-value]


def _said(error: Exception) -> str:
    """The error as the person should read it: a register field (performed_on) named by the
    option of this command that set it (--on), through the table in register/fields.py."""
    from secposture.register.errors import InvalidField

    if not isinstance(error, InvalidField):
        return str(error)
    from secposture.register.fields import command_line_message

    return command_line_message(error, _offered_names())


def _offered_names() -> set[str]:
    """The options (--on) and arguments (NAME) of the command running now."""
    context = click.get_current_context(silent=True)
    if context is None:
        return set()
    names: set[str] = set()
    for param in context.command.params:
        if isinstance(param, click.Option):
            names.update(param.opts, param.secondary_opts)
        else:
            names.add(param.human_readable_name)
    return names


def _register_options(command: F) -> F:
    command = click.option("--actor", metavar="NAME", help=ACTOR_HELP)(command)
    command = click.option("--db", metavar="URL", help=DB_HELP)(command)
    return command


def _format_option(*formats: str) -> Callable[[F], F]:
    choices = formats or FORMATS
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default=choices[0],
        show_default=True,
        help="terminal: a table for people; json: for scripts and other tools.",
    )


def actor_name(given: str | None) -> str:
    """--actor, else $SECPOSTURE_ACTOR, else the OS user name."""
    if given and given.strip():
        return given.strip()
    from_env = os.environ.get(ENV_ACTOR, "").strip()
    if from_env:
        return from_env
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no passwd entry (some containers)
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"


def _open(db: str | None) -> Database:
    from secposture.register.database import Database

    return Database.open(db)


def _write(db: str | None, actor: str | None, fn: Callable[[Tx], T]) -> T:
    with _open(db) as database:
        return database.write(actor_name(actor), fn)


def _read(db: str | None, fn: Callable[[Tx], T]) -> T:
    """`fn` over the register, never creating it: a register that does not exist yet reads as
    an empty one, with a note saying so."""
    from secposture.register.database import Database

    with Database.open(db, create=False) as database:
        if database.missing_note:
            click.echo(database.missing_note, err=True)
        return database.read(fn)


def _echo(text: str) -> None:
    try:
        click.echo(text, nl=not text.endswith("\n"))
    except BrokenPipeError:  # `secposture risk list | head`
        from secposture.cli.common import silence_stdout

        silence_stdout()


def _emit_record(
    fmt: str, title: str, values: dict[str, Any], sections: Sequence[tuple[str, str]] = ()
) -> None:
    from secposture.register import render

    _echo(render.as_json(values) if fmt == "json" else render.record(title, values, sections))


def _emit_rows(
    fmt: str,
    title: str,
    columns: Sequence[tuple[str, str]],
    rows: list[dict[str, Any]],
    *,
    empty: str,
    footer: str = "",
    json_value: Any = None,
) -> None:
    from secposture.register import render

    if fmt == "json":
        _echo(render.as_json(rows if json_value is None else json_value))
    elif not rows:
        _echo(empty)
    else:
        _echo(render.table(title, columns, rows, footer))


def _done(fmt: str, message: str, values: dict[str, Any]) -> None:
    """What an add/record command prints: one line for people, the record for scripts."""
    from secposture.register import render
    from secposture.reports.interface import clean

    _echo(render.as_json(values) if fmt == "json" else clean(message))


def _split(values: Iterable[str]) -> list[str]:
    """Repeated options, each possibly a comma-separated list."""
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def _links(values: Iterable[str]) -> list[str]:
    """Repeated link options, each possibly several links separated by spaces (a link may
    contain commas, never spaces)."""
    return [link for value in values for link in value.split()]


def _history_text(tx: Tx, entity: str, entity_id: int) -> str:
    """Each change to the record, its fields before → after (register/render.py)."""
    from secposture.register import render
    from secposture.register.history import history_of

    return render.history(history_of(tx, entity, entity_id)) or "(no history)"


# --- product ----------------------------------------------------------------------------------


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
@_format_option()
@_register_options
@_errors
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
            repositories=_split(repos),
            data_classification=classification,
            risk_register_level=risk_register_level,
        ).to_dict()

    values = _write(db, actor, add)
    _done(fmt, f"Added product {values['name']} (product {values['id']}).", values)


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
@_format_option()
@_register_options
@_errors
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
            add_repositories=_split(add_repos),
            remove_repositories=_split(remove_repos),
            data_classification=classification,
            risk_register_level=risk_register_level,
        ).to_dict()

    values = _write(db, actor, update)
    _done(fmt, f"Updated product {values['name']} (version {values['version']}).", values)


@product.command("retire", epilog=COMMON_EPILOG)
@click.argument("name")
@_format_option()
@_register_options
@_errors
def product_retire(name: str, fmt: str, db: str | None, actor: str | None) -> None:
    """Retire a product: kept with its records and history, left out of lists and `due`.

    \b
    Example:
      secposture product retire payments
    """
    from secposture.register.products import retire_product

    values = _write(db, actor, lambda tx: retire_product(tx, name).to_dict())
    _done(fmt, f"Retired product {values['name']}.", values)


@product.command("list", epilog=COMMON_EPILOG)
@click.option("--all", "include_retired", is_flag=True, help="Include retired products.")
@click.option("--owner", metavar="NAME", help="Only this owner's products.")
@click.option("--repo", metavar="OWNER/REPO", help="Only products this repository belongs to.")
@_format_option()
@_register_options
@_errors
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

    rows = _read(
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
    _emit_rows(
        fmt, "Products", columns, rows, empty="No products (secposture product add NAME ...)."
    )


@product.command("show", epilog=COMMON_EPILOG)
@click.argument("name")
@click.option(
    "--history", "with_history", is_flag=True, help="Also list every change to the product."
)
@_format_option()
@_register_options
@_errors
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
        return values, _history_text(tx, "product", found.id) if with_history else ""

    values, history = _read(db, show)
    _emit_record(
        fmt, f"Product {values['name']}", values, [("History", history)] if history else ()
    )


# --- threat models, ITHCs, major changes ------------------------------------------------------


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
    @_format_option()
    @_register_options
    @_errors
    def list_command(
        product_name: str | None, include_retired: bool, fmt: str, db: str | None, actor: str | None
    ) -> None:
        from secposture.register.records import list_records

        rows = _read(
            db,
            lambda tx: [
                r.to_dict()
                for r in list_records(
                    tx, kind, product=product_name, include_retired=include_retired
                )
            ],
        )
        _emit_rows(
            fmt, f"{what[0].upper()}{what[1:]}s", columns, rows, empty=f"No {what}s recorded."
        )

    @group.command(
        "retire",
        epilog=COMMON_EPILOG,
        help=f"Retire a {what} recorded by mistake (kept, no longer counted).\n\n\b\nExample:\n  secposture {command} retire 3",
    )
    @click.argument("record_id", type=click.IntRange(min=1), metavar="ID")
    @_format_option()
    @_register_options
    @_errors
    def retire_command(record_id: int, fmt: str, db: str | None, actor: str | None) -> None:
        from secposture.register.records import retire_record

        values = _write(db, actor, lambda tx: retire_record(tx, kind, record_id).to_dict())
        _done(fmt, f"Retired {what} {values['id']} of {values['product']}.", values)


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
@_format_option()
@_register_options
@_errors
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
            participants=_split(participants),
            method=method,
            scope=scope,
            artefact_link=artefact,
            summary=summary,
        ).to_dict()

    values = _write(db, actor, add)
    _done(
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
@_format_option()
@_register_options
@_errors
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

    values = _write(db, actor, add)
    _done(
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
@_format_option()
@_register_options
@_errors
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

    values = _write(db, actor, add)
    _done(
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


# --- issues -----------------------------------------------------------------------------------

ISSUE_RAISE_HELP = """Raise a security issue to the Security team.

It needs the six things Security asks for: CVE ids (if any), the OS/environment, a description,
the business context, links to recorded conversations, and the data that could be compromised;
plus the product, a CVSS v3.1 or v4.0 vector (scored here), and the ticket. The severity is the
vector's unless you give one; the patch-by date follows from it (critical and high 7 days,
medium 28, low 90; change with --patch-days or $SECPOSTURE_PATCH_DAYS).

On a terminal, anything missing is asked for; otherwise (CI, scripts) give it all as options.

\b
Examples:
  secposture issue raise                     # asks for each thing in turn
  secposture issue raise --product payments --cve CVE-2024-3094 \\
      --environment "Debian 12 build agents" \\
      --description "xz backdoor in the build image" \\
      --business-context "Builds sign every release" \\
      --conversation https://chat.example.org/archives/C1/p1 \\
      --data-at-risk "Release signing keys" \\
      --cvss "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:H/A:H" \\
      --ticket https://jira.example.org/browse/SEC-12
  secposture issue show 3 --format email | sendmail -t
"""

# (option name, prompt) in the order a terminal asks them.
ISSUE_PROMPTS = (
    ("product_name", "Product"),
    ("cve", "CVE ids (comma-separated; empty if none)"),
    ("environment", "OS / environment"),
    ("description", "Description"),
    ("business_context", "Business context"),
    ("conversations", "Links to recorded conversations (space-separated)"),
    ("data_at_risk", "Data that could be compromised"),
    ("cvss", "CVSS v3.1 or v4.0 vector"),
    ("ticket", "Ticket link"),
)


@click.group(epilog=COMMON_EPILOG)
def issue() -> None:
    """Security issues: raise one with what Security needs, send its report, close it, or mark
    it as not fixable (which puts a linked risk on the register).

    \b
    Examples:
      secposture issue raise
      secposture issue list --product payments
      secposture issue show 3 --format markdown
      secposture issue close 3 --resolution fixed --note "patched in 2.4.1"
      secposture issue cannot-fix 3 --reason "vendor appliance" --owner "Jo Bloggs" \\
          --likelihood 2 --impact 4
    """


@issue.command("raise", help=ISSUE_RAISE_HELP, epilog=COMMON_EPILOG)
@click.option("--product", "product_name", metavar="PRODUCT", help="The affected product.")
@click.option(
    "--cve",
    "cves",
    multiple=True,
    metavar="CVE-ID",
    help="A CVE id (repeat, or comma-separate); none if not known.",
)
@click.option("--environment", help="The OS / environment affected.")
@click.option("--description", help="What the issue is.")
@click.option("--business-context", help="Why it matters to the service and its users.")
@click.option(
    "--conversation",
    "conversations",
    multiple=True,
    metavar="URL",
    help="A link to a recorded conversation (repeatable).",
)
@click.option("--data-at-risk", help="The data that could be compromised.")
@click.option(
    "--cvss",
    metavar="VECTOR",
    help="The CVSS v3.1 or v4.0 vector, e.g. CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H.",
)
@click.option(
    "--severity",
    type=Vocabulary("issue_severities"),
    help="The team's severity [default: the vector's].",
)
@click.option("--ticket", metavar="URL", help="The ticket tracking the fix.")
@click.option("--reporter", metavar="NAME", help="Who raises it [default: the actor].")
@click.option("--on", "raised_on", type=DATE, help="When it was raised [default: today].")
@click.option(
    "--patch-days",
    metavar="SEVERITY=DAYS,...",
    help="Days to patch by severity, e.g. critical=3,high=7 [default: $SECPOSTURE_PATCH_DAYS, else critical/high 7, medium 28, low 90].",
)
@click.option(
    "--interactive/--no-interactive",
    default=None,
    help="Ask for what is missing [default: when standard input is a terminal].",
)
@_format_option()
@_register_options
@_errors
def issue_raise(
    interactive: bool | None, fmt: str, db: str | None, actor: str | None, **given: Any
) -> None:
    from secposture.errors import SecpostureError
    from secposture.register.issues import IssueInput, raise_issue

    patch_days = _patch_days(given.pop("patch_days") or os.environ.get(ENV_PATCH_DAYS))
    ask = sys.stdin.isatty() if interactive is None else interactive
    # What the register decides (the product, the date) is checked before any question is asked,
    # and each answer as it is given: a typo never costs the answers already typed.
    known_product = _register_check(db, given.get("raised_on"))
    if given.get("product_name"):
        try:
            given["product_name"] = known_product(given["product_name"])
        except SecpostureError as exc:
            raise SecpostureError(f"issue not raised: {_said(exc)}") from None
    values = _issue_values(given, ask, {"product_name": known_product})
    data = IssueInput(
        product=values["product_name"],
        reporter=given.get("reporter") or actor_name(actor),
        environment=values["environment"],
        description=values["description"],
        business_context=values["business_context"],
        data_at_risk=values["data_at_risk"],
        cvss_vector=values["cvss"],
        ticket_link=values["ticket"],
        conversation_links=_links(values["conversations"]),
        cve_ids=", ".join(_split(values["cve"])),
        severity=given.get("severity"),
        raised_on=given.get("raised_on"),
        patch_days=patch_days,
    )
    try:
        result = _write(db, actor, lambda tx: raise_issue(tx, data).to_dict())
    except SecpostureError as exc:
        if ask:  # what was typed is not lost: the command that raises it again
            click.echo(_raise_again(values, given), err=True)
        raise SecpostureError(f"issue not raised: {_said(exc)}") from None
    _done(
        fmt,
        f"Raised issue {result['id']} for {result['product']}: {result['severity']} "
        f"(CVSS {result['cvss']['base_score']}), patch by {result['patch_by']}. "
        f"Send it to Security: secposture issue show {result['id']} --format email",
        result,
    )


def _register_check(db: str | None, raised_on: date | None) -> Callable[[str], str]:
    """Check `--on` against the register's today now, and return a check of a product name
    (its name as registered, or an error with close names), reading the register each time."""
    from secposture.errors import SecpostureError
    from secposture.register.database import Database
    from secposture.register.products import active_product

    with Database.open(db, create=False) as database:
        today = database.read(lambda tx: tx.today)
    if raised_on is not None and raised_on > today:
        raise SecpostureError(
            f"issue not raised: --on {raised_on} is in the future (today is {today})"
        )

    def product(name: str) -> str:
        with Database.open(db, create=False) as database:
            return database.read(lambda tx: active_product(tx, name).name)

    return product


def _raise_again(values: dict[str, Any], given: dict[str, Any]) -> str:
    """The answers given, as the command that raises the issue without asking again."""
    import shlex

    args = ["secposture", "issue", "raise", "--no-interactive"]
    for key, _prompt in ISSUE_PROMPTS:
        option = "--" + _ISSUE_OPTIONS.get(key, key).replace("_", "-")
        value = values.get(key)
        for item in value if isinstance(value, list) else [value]:
            if item:
                args += [option, str(item)]
    for key in ("severity", "reporter"):
        if given.get(key):
            args += [f"--{key}", str(given[key])]
    if given.get("raised_on"):
        args += ["--on", given["raised_on"].isoformat()]
    return "Your answers, to raise it again: " + shlex.join(args)


_ISSUE_OPTIONS = {"product_name": "product", "conversations": "conversation"}


def _issue_values(
    given: dict[str, Any],
    ask: bool,
    checks: dict[str, Callable[[str], str]] | None = None,
) -> dict[str, Any]:
    """The issue's fields from the options, asking on a terminal for those missing; `checks`
    validate an answer against the register as it is given."""
    from secposture.errors import SecpostureError

    values: dict[str, Any] = {}
    missing = []
    for key, prompt in ISSUE_PROMPTS:
        value = given.get(key if key not in ("cve",) else "cves")
        if isinstance(value, tuple):
            value = list(value)
        if value or (key == "cve" and not ask):
            values[key] = value or []
            continue
        if ask:
            answer = click.prompt(
                prompt,
                default="" if key == "cve" else None,
                show_default=False,
                value_proc=_prompt_check(key, (checks or {}).get(key)),
            )
            values[key] = [answer] if key in ("cve", "conversations") else answer
        else:
            missing.append("--" + _ISSUE_OPTIONS.get(key, key).replace("_", "-"))
    if missing:
        raise SecpostureError(
            f"issue not raised: missing {', '.join(missing)} (give them as options, or run on a terminal to be asked)"
        )
    return values


def _prompt_check(key: str, register: Callable[[str], str] | None = None) -> Callable[[str], str]:
    """Check an answer as it is typed, so a typo is asked again rather than failing at the end;
    `register` checks it against the register (a product's name) and gives the stored form."""

    def check(answer: str) -> str:
        from secposture.errors import SecpostureError
        from secposture.register import validate
        from secposture.register.errors import InvalidField
        from secposture.register.severity import parse_cve_ids, score_vector

        try:
            if register is not None:
                return register(answer)
            if key == "cve":
                parse_cve_ids(answer)
            elif key == "cvss":
                score_vector(answer)
            elif key == "conversations":
                validate.urls("conversation", _links([answer]))
            elif key == "ticket":
                validate.url("ticket", answer)
            elif not answer.strip():
                raise ValueError("required")
        except InvalidField as exc:  # the prompt names the field already
            raise click.BadParameter(exc.detail) from None
        except (ValueError, SecpostureError) as exc:
            raise click.BadParameter(str(exc)) from None
        return answer

    return check


def _patch_days(text: str | None) -> dict[str, int] | None:
    """ "critical=3,high=7" over the default schedule; errors name the option."""
    if not text:
        return None
    from secposture.errors import SecpostureError
    from secposture.register.severity import DEFAULT_PATCH_DAYS

    schedule = dict(DEFAULT_PATCH_DAYS)
    for item in text.split(","):
        name, _, days = item.partition("=")
        name = name.strip().lower()
        if name not in ("critical", "high", "medium", "low", "none") or not days.strip().isdigit():
            raise SecpostureError(
                f"--patch-days: {item.strip()[:40]!r} is not SEVERITY=DAYS (e.g. critical=3)"
            )
        schedule[name] = int(days)
    return schedule


@issue.command("list", epilog=COMMON_EPILOG)
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(("open", "fixed", "cannot_fix", "closed")),
    help="Only these statuses (repeatable) [default: open].",
)
@click.option("--all", "all_statuses", is_flag=True, help="Every status.")
@click.option("--product", "product_name", metavar="PRODUCT", help="Only this product's issues.")
@click.option(
    "--limit",
    type=click.IntRange(1, 1000),
    default=100,
    show_default=True,
    help="At most this many.",
)
@click.option(
    "--offset", type=click.IntRange(min=0), default=0, help="Skip this many first (paging)."
)
@_format_option()
@_register_options
@_errors
def issue_list(
    statuses: tuple[str, ...],
    all_statuses: bool,
    product_name: str | None,
    limit: int,
    offset: int,
    fmt: str,
    db: str | None,
    actor: str | None,
) -> None:
    """List security issues, soonest patch-by date first.

    \b
    Examples:
      secposture issue list
      secposture issue list --all --product payments --format json
    """
    from secposture.register.issues import STATUSES, list_issues

    wanted = STATUSES if all_statuses else (statuses or ("open",))

    def rows(tx: Tx) -> tuple[list[dict[str, Any]], int]:
        found, total = list_issues(
            tx, status=wanted, product=product_name, limit=limit, offset=offset
        )
        return [{**i.to_dict(), "title": i.title, "score": i.cvss_score} for i in found], total

    items, total = _read(db, rows)
    columns = [
        ("id", "id"),
        ("product", "product"),
        ("title", "issue"),
        ("severity", "severity"),
        ("score", "CVSS"),
        ("raised_on", "raised"),
        ("patch_by", "patch by"),
        ("status", "status"),
    ]
    _emit_rows(
        fmt,
        "Security issues",
        columns,
        items,
        empty="No issues.",
        footer=_page_footer(offset, len(items), total),
        json_value={"total": total, "offset": offset, "limit": limit, "issues": items},
    )


@issue.command("show", epilog=COMMON_EPILOG)
@click.argument("issue_id", type=click.IntRange(min=1), metavar="ID")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("terminal", "markdown", "email", "json")),
    default="terminal",
    show_default=True,
    help="markdown for a ticket or chat; email for an RFC 5322 message (pipe to sendmail -t); json for tools.",
)
@click.option(
    "--to",
    metavar="ADDRESS",
    help="--format email: the recipient [default: $SECPOSTURE_SECURITY_EMAIL, the Security "
    "team's address].",
)
@click.option("--from", "sender", metavar="ADDRESS", help="--format email: the sender.")
@click.option(
    "--history",
    "with_history",
    is_flag=True,
    help="Also list every change to the issue (terminal).",
)
@_register_options
@_errors
def issue_show(
    issue_id: int,
    fmt: str,
    to: str | None,
    sender: str | None,
    with_history: bool,
    db: str | None,
    actor: str | None,
) -> None:
    """Show an issue: the report to send to the Security team.

    --format email addresses it to $SECPOSTURE_SECURITY_EMAIL (or --to) and dates it in the
    register's time zone ($SECPOSTURE_TIMEZONE, else Europe/London).

    \b
    Examples:
      secposture issue show 3
      secposture issue show 3 --format markdown > sec-3.md
      SECPOSTURE_SECURITY_EMAIL=security@example.org secposture issue show 3 --format email | sendmail -t
    """
    from secposture.register import issue_report
    from secposture.register.issues import get_issue

    if to:
        recipient = _address("--to", to)
    else:
        recipient = _address(ENV_SECURITY_EMAIL, os.environ.get(ENV_SECURITY_EMAIL))
    from_address = _address("--from", sender)

    def show(tx: Tx) -> tuple[str, dict[str, Any], str]:
        found = get_issue(tx, issue_id)
        if fmt == "markdown":
            text = issue_report.markdown(found)
        elif fmt == "email":
            text = issue_report.email(
                found, to=recipient, sender=from_address, at=tx.now, timezone=tx.timezone
            )
        else:
            text = issue_report.plain(found)
        history = _history_text(tx, "issue", found.id) if with_history else ""
        return text, found.to_dict(), history

    text, values, history = _read(db, show)
    if fmt == "email" and recipient is None:
        click.echo(
            f"note: the message has no To: address; set {ENV_SECURITY_EMAIL} to the Security "
            "team's address (or give --to ADDRESS)",
            err=True,
        )
    if fmt == "json":
        _emit_record("json", "", values)
    elif fmt == "terminal":
        from secposture.reports.interface import clean

        _echo(
            clean(text, keep_newlines=True)
            + (f"\nHistory\n-------\n{clean(history, keep_newlines=True)}\n" if history else "")
        )
    else:
        _echo(text)


def _address(option: str, value: str | None) -> str | None:
    """An email address for a header: one address, no new lines; `option` is where it came
    from (--to, or the environment variable), for the error."""
    if not value or not value.strip():
        return None
    from email.utils import parseaddr

    from secposture.errors import SecpostureError

    _name, address = parseaddr(value)
    if not address or "@" not in address or any(ch in value for ch in "\r\n"):
        raise SecpostureError(f"{option}: {value[:60]!r} is not an email address")
    return value.strip()


@issue.command("close", epilog=COMMON_EPILOG)
@click.argument("issue_id", type=click.IntRange(min=1), metavar="ID")
@click.option(
    "--resolution", required=True, type=Vocabulary("issue_resolutions"), help="How it ended."
)
@click.option("--note", help="What was done (the version that fixed it, the duplicate's id).")
@click.option("--on", "closed_on", type=DATE, help="When [default: today].")
@_format_option()
@_register_options
@_errors
def issue_close(
    issue_id: int,
    resolution: str,
    note: str | None,
    closed_on: date | None,
    fmt: str,
    db: str | None,
    actor: str | None,
) -> None:
    """Close an issue: fixed, a duplicate, or not a problem.

    \b
    Example:
      secposture issue close 3 --resolution fixed --note "upgraded xz to 5.6.2"
    """
    from secposture.register.issues import close_issue

    values = _write(
        db,
        actor,
        lambda tx: close_issue(
            tx, issue_id, resolution=resolution, note=note, closed_on=closed_on
        ).to_dict(),
    )
    _done(fmt, f"Closed issue {values['id']} ({values['resolution']}).", values)


@issue.command("cannot-fix", epilog=COMMON_EPILOG)
@click.argument("issue_id", type=click.IntRange(min=1), metavar="ID")
@click.option("--reason", required=True, help="Why it cannot be fixed.")
@click.option("--owner", required=True, metavar="NAME", help="Who owns the resulting risk.")
@click.option("--likelihood", required=True, type=RATING, help="Likelihood 1-5 of the risk.")
@click.option("--impact", required=True, type=RATING, help="Impact 1-5 of the risk.")
@click.option(
    "--treatment",
    type=Vocabulary("treatments"),
    default="tolerate",
    show_default=True,
    help="How the risk is handled.",
)
@click.option(
    "--register",
    type=Vocabulary("risk_registers"),
    default="product",
    show_default=True,
    help="Which risk register.",
)
@click.option("--next-review", type=DATE, help="When to review the risk [default: in 3 months].")
@click.option("--title", help="The risk's title [default: Cannot fix: <the issue>].")
@_format_option()
@_register_options
@_errors
def issue_cannot_fix(
    issue_id: int,
    reason: str,
    owner: str,
    likelihood: int,
    impact: int,
    treatment: str,
    register: str,
    next_review: date | None,
    title: str | None,
    fmt: str,
    db: str | None,
    actor: str | None,
) -> None:
    """Mark an issue as not fixable: a risk linked to it goes on the register.

    \b
    Example:
      secposture issue cannot-fix 3 --reason "vendor appliance, no patch" \\
          --owner "Jo Bloggs" --likelihood 2 --impact 4
    """
    from secposture.register.issues import CannotFix, cannot_fix

    data = CannotFix(
        reason=reason,
        owner=owner,
        likelihood=likelihood,
        impact=impact,
        treatment=treatment,
        register=register,
        next_review_on=next_review,
        title=title,
    )
    values = _write(db, actor, lambda tx: cannot_fix(tx, issue_id, data).to_dict())
    _done(
        fmt,
        f"Issue {issue_id} cannot be fixed: added risk {values['id']} ({values['title']}), next review {values['next_review_on']}.",
        values,
    )


def _page_footer(offset: int, shown: int, total: int) -> str:
    if total <= shown and offset == 0:
        return ""
    end = offset + shown
    more = f"; --offset {end} for more" if end < total else ""
    return f"{offset + 1 if shown else 0}-{end} of {total}{more}"


# --- risks ------------------------------------------------------------------------------------


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
@_format_option()
@_register_options
@_errors
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
    values = _write(db, actor, lambda tx: add_risk(tx, data).to_dict())
    _done(
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
@click.option(
    "--limit",
    type=click.IntRange(1, 1000),
    default=50,
    show_default=True,
    help="At most this many.",
)
@click.option(
    "--offset", type=click.IntRange(min=0), default=0, help="Skip this many first (paging)."
)
@_format_option()
@_register_options
@_errors
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

    items, total = _read(db, rows)
    json_value = {"total": total, "offset": offset, "limit": limit, "risks": items}
    _emit_rows(
        fmt,
        "Risks",
        RISK_COLUMNS,
        items,
        empty="No risks match.",
        footer=_page_footer(offset, len(items), total),
        json_value=json_value,
    )


@risk.command("show", epilog=COMMON_EPILOG)
@click.argument("risk_id", type=click.IntRange(min=1), metavar="ID")
@click.option("--history", "with_history", is_flag=True, help="Also list every change to the risk.")
@_format_option()
@_register_options
@_errors
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
        return found.to_dict(), _history_text(tx, "risk", found.id) if with_history else ""

    values, history = _read(db, show)
    _emit_record(
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
@_format_option()
@_register_options
@_errors
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

    values = _write(db, actor, review)
    _done(
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
@_format_option()
@_register_options
@_errors
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

    values = _write(
        db,
        actor,
        lambda tx: accept_risk(
            tx, risk_id, accepted_by=accepted_by, expires_on=expires_on, accepted_on=accepted_on
        ).to_dict(),
    )
    _done(
        fmt,
        f"Risk {values['id']} accepted by {values['accepted_by']} until {values['expires_on']}.",
        values,
    )


@risk.command("close", epilog=COMMON_EPILOG)
@click.argument("risk_id", type=click.IntRange(min=1), metavar="ID")
@click.option("--reason", required=True, help="Why it is no longer a risk.")
@click.option("--on", "closed_on", type=DATE, help="When [default: today].")
@_format_option()
@_register_options
@_errors
def risk_close(
    risk_id: int, reason: str, closed_on: date | None, fmt: str, db: str | None, actor: str | None
) -> None:
    """Close a risk (it is kept, with its history).

    \b
    Example:
      secposture risk close 12 --reason "webhooks are now signed"
    """
    from secposture.register.risks import close_risk

    values = _write(
        db, actor, lambda tx: close_risk(tx, risk_id, reason=reason, closed_on=closed_on).to_dict()
    )
    _done(fmt, f"Closed risk {values['id']}.", values)


@risk.command("export", epilog=COMMON_EPILOG)
@_risk_filters
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("csv", "json")),
    default="csv",
    show_default=True,
    help="csv for spreadsheets (and `risk import`), json for tools.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write to this file instead of standard output.",
)
@_register_options
@_errors
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
    text = _read(db, lambda tx: render(iter_risks(tx, filters)))
    if output is None:
        _echo(text)
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
@_format_option()
@_register_options
@_errors
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
    rows = _write(db, actor, lambda tx: [r.to_dict() for r in import_risks(tx, data, name)])
    _done(
        fmt,
        f"Imported {len(rows)} risk{'s' if len(rows) != 1 else ''} (risks {rows[0]['id']}-{rows[-1]['id']}).",
        {"imported": rows},
    )


# --- waivers ----------------------------------------------------------------------------------


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
@_format_option()
@_register_options
@_errors
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

    values = _write(
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
    _done(
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
@_format_option()
@_register_options
@_errors
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

    rows = _read(
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
    _emit_rows(fmt, "Waivers", columns, rows, empty="No waivers in force.")


@waiver.command("retire", epilog=COMMON_EPILOG)
@click.argument("waiver_id", type=click.IntRange(min=1), metavar="ID")
@_format_option()
@_register_options
@_errors
def waiver_retire(waiver_id: int, fmt: str, db: str | None, actor: str | None) -> None:
    """Withdraw a waiver before it expires (kept, with its history).

    \b
    Example:
      secposture waiver retire 4
    """
    from secposture.register.waivers import retire_waiver

    values = _write(db, actor, lambda tx: retire_waiver(tx, waiver_id).to_dict())
    _done(fmt, f"Retired waiver {values['id']}.", values)


# --- due --------------------------------------------------------------------------------------

DUE_HELP = """List what is overdue or due soon: threat-model reviews and ITHCs per product (every 6
and 12 months, or now after a major change; intervals from --policy), risk reviews, risk
acceptances and waivers expiring, and open issues past or near their patch-by date.

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
        ("threat-model", "ithc", "risk-review", "risk-acceptance", "waiver", "issue")
    ),
    help="Only these kinds (repeatable).",
)
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Take the threat-model and ITHC intervals from this policy file.",
)
@_format_option()
@_register_options
@_errors
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

    threat_model_months, ithc_months = _intervals(policy_file)

    def items(tx: Tx) -> list[dict[str, Any]]:
        found = due_items(
            tx,
            today=today,
            within_days=within_days,
            threat_model_months=threat_model_months,
            ithc_months=ithc_months,
            product=product_name,
            kinds=kinds or KINDS,
        )
        return [i.to_dict() for i in found]

    rows = _read(db, items)
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
    _emit_rows(
        fmt,
        "Due",
        columns,
        rows,
        empty=f"Nothing overdue or due within {within_days} days.",
        footer=footer,
    )
    if overdue:
        sys.exit(EXIT_OVERDUE)


def _intervals(policy_file: Path | None) -> tuple[int, int]:
    """The threat-model and ithc review intervals in months, from the policy."""
    from secposture.policy import default_policy

    if policy_file is None:
        policy = default_policy()
    else:
        from secposture.errors import SecpostureError
        from secposture.scan import read_policy_file

        if not policy_file.is_file():
            raise SecpostureError(f"{policy_file}: policy file not found")
        policy = read_policy_file(policy_file)
    months = [
        policy.controls[c].interval_months if c in policy.controls else None
        for c in ("threat-model", "ithc")
    ]
    return months[0] or 6, months[1] or 12


# --- history ----------------------------------------------------------------------------------


# Command names of the records -> the entity names the history stores.
HISTORY_ALIASES = {"threat-model": "threat_model", "ithc": "assurance", "change": "major_change"}


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
            # the names the history stores, as --format json shows them
            "threat_model",
            "assurance",
            "major_change",
        )
    ),
)
@click.argument("record_id", type=click.IntRange(min=1), metavar="ID")
@_format_option()
@_register_options
@_errors
def history(entity: str, record_id: int, fmt: str, db: str | None, actor: str | None) -> None:
    """Every change to one record: who, when, and what changed (json: the values before and after).

    \b
    Examples:
      secposture history risk 12
      secposture history threat-model 4
      secposture history product 3 --format json
    """
    from secposture.register import render
    from secposture.register.history import changed_fields, history_of

    entity = HISTORY_ALIASES.get(entity, entity)

    def rows(tx: Tx) -> tuple[list[dict[str, Any]], str]:
        found = history_of(tx, entity, record_id)
        items = [
            {**h.to_dict(), "changed": changed_fields(h) if h.before else ["(new record)"]}
            for h in found
        ]
        return items, render.history(found)

    items, text = _read(db, rows)
    if fmt == "json":
        _echo(render.as_json(items))
    elif not items:
        _echo(f"No history for {entity.replace('_', ' ')} {record_id}.")
    else:
        _echo(f"History of {entity.replace('_', ' ')} {record_id}\n{text}\n")


def add_commands(group: click.Group) -> None:
    """Add the register's commands to the `secposture` group (cli.py calls this)."""
    for command in (product, threat_model, ithc, change, issue, risk, waiver, due, history):
        group.add_command(command)
