"""What every command shares: the one conversion of our errors into a usage error (exit 2), the
`--db`, `--actor` and `--format` options, who the actor is, and writing to the terminal.

Imports only click and the standard library at import time: each command module imports this,
and `secposture --help` must stay fast.
"""

from __future__ import annotations

import functools
import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from secposture.register.database import Tx

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_FAILING, EXIT_USAGE = 0, 1, 2
ENV_ACTOR = "SECPOSTURE_ACTOR"

DB_HELP = (
    "The register: a database URL (sqlite:///PATH, postgresql://USER@HOST/DB) or a SQLite file "
    "[default: $SECPOSTURE_DATABASE_URL, else $XDG_DATA_HOME/secposture/register.db, "
    "i.e. ~/.local/share/secposture/register.db]."
)
ACTOR_HELP = (
    "Who is making the change, for the history [default: $SECPOSTURE_ACTOR, else your user name]."
)
FORMAT_HELP = "terminal: a table for people; json: for scripts and other tools."


class InputError(click.ClickException):
    """A SecpostureError seen by click: exit 2 with the message, also under click's own runner."""

    exit_code = EXIT_USAGE

    def show(self, file: object = None) -> None:
        error(" ".join(self.format_message().split()))


# --- the one error conversion ---------------------------------------------------------------------


def errors_as_input(command: F) -> F:
    """SecpostureError -> one line on stderr and exit 2 (InputError), also under CliRunner; a
    refused register field is named by the option the command offers for it (--on, not
    performed_on)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from secposture.errors import SecpostureError

        try:
            return command(*args, **kwargs)
        except SecpostureError as exc:
            raise InputError(said(exc)) from None

    return wrapper  # type: ignore[return-value]


def said(exc: Exception) -> str:
    """The error as the person should read it: a register field named by the option of this
    command that set it, through the table in register/fields.py."""
    from secposture.register.errors import InvalidField

    if not isinstance(exc, InvalidField):
        return str(exc)
    from secposture.register.fields import command_line_message

    return command_line_message(exc, _offered_names())


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


# --- shared options -------------------------------------------------------------------------------


def db_option(help: str = DB_HELP) -> Callable[[F], F]:
    return click.option("--db", metavar="URL", help=help)


def actor_option(help: str = ACTOR_HELP) -> Callable[[F], F]:
    return click.option("--actor", metavar="NAME", help=help)


def format_option(
    *formats: str,
    help: str | None = FORMAT_HELP,
    show_default: bool = True,
) -> Callable[[F], F]:
    """--format (into `fmt`): the first format is the default."""
    choices = formats or ("terminal", "json")
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default=choices[0],
        show_default=show_default,
        help=help,
    )


def output_option(help: str) -> Callable[[F], F]:
    """--output/-o FILE (into `output`): written instead of standard output."""
    return click.option(
        "--output", "-o", type=click.Path(path_type=Path, dir_okay=False), help=help
    )


def policy_option(help: str) -> Callable[[F], F]:
    """--policy FILE (into `policy_file`): the operator's policy file."""
    return click.option(
        "--policy", "policy_file", type=click.Path(path_type=Path, dir_okay=False), help=help
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


# --- the register ---------------------------------------------------------------------------------


def write_register(db: str | None, actor: str | None, fn: Callable[[Tx], T]) -> T:
    """`fn` in one transaction of the register (created if need be), recorded as the actor's."""
    from secposture.register.database import Database

    with Database.open(db) as database:
        return database.write(actor_name(actor), fn)


def read_register(db: str | None, fn: Callable[[Tx], T]) -> T:
    """`fn` over the register, never creating it: a register that does not exist yet reads as
    an empty one, with a note saying so."""
    from secposture.register.database import Database

    with Database.open(db, create=False) as database:
        if database.missing_note:
            click.echo(database.missing_note, err=True)
        return database.read(fn)


# --- output ---------------------------------------------------------------------------------------


def echo(text: str, *, nl: bool = False, color: bool | None = None) -> None:
    """Standard output; a reader that went away (`secposture risk list | head`) ends it quietly,
    and the exit code still tells the result."""
    try:
        # color= stops click stripping the escapes that --color asked for when piped.
        click.echo(text, nl=nl, color=color)
    except BrokenPipeError:
        silence_stdout()


def silence_stdout() -> None:
    """Point standard output at /dev/null, so Python's flush at exit raises nothing more."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def say_top_level(doing: str, asked: Path, top: str | None) -> None:
    """Say so when a folder inside a checkout stood for its repository (LocalSource)."""
    if top is not None and top != str(asked):
        from secposture.reports.common import clean

        # "." says nothing about where the user is: name the folder.
        shown = os.path.abspath(asked) if str(asked) == "." else str(asked)
        click.echo(
            f"secposture: {doing} the repository at {clean(top)} (the top level of {clean(shown)})",
            err=True,
        )


def warn(message: str) -> None:
    from secposture.redaction import redact
    from secposture.reports.common import clean

    click.echo(f"secposture: warning: {clean(redact(message))}", err=True)


def error(message: str) -> None:
    from secposture.redaction import redact
    from secposture.reports.common import clean

    # A policy file's own key names appear in errors: no terminal escape sequences from them;
    # a server's words may quote a credential: never shown (ADR 0012).
    click.echo(f"secposture: error: {clean(redact(message))}", err=True)
