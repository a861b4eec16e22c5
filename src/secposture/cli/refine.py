"""`secposture refine`: a ticket's text in, the OWASP Top 10 questions for it out, as Markdown.

Imports only click and the standard library at import time (the command line starts fast); the
matching lives in secposture.refine.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from secposture.cli.common import echo, errors_as_input
from secposture.errors import SecpostureError

# A ticket is a few pages at most; a bigger input is a mistake (a log file, a binary).
MAX_TICKET_BYTES = 1024 * 1024

REFINE_HELP = """Turn a ticket's text into the OWASP Top 10 questions that apply to it: a Markdown
checklist to paste into the ticket during refinement, grouped by category, each category saying
which of the ticket's words triggered it.

The text is the argument (quotes optional), a file (--file), or standard input ('-', or piped
in). Words match whole, ignoring case, with simple stemming: "logins" and "logged in" match
login, "policies" matches policy. The current OWASP Top 10 (2025) by default; --edition 2021 for
the previous one, or both (each question is asked once: a 2021 category whose questions the 2025
list already asked points to them). When nothing matches, it says so: --all gives the whole
checklist.

\b
Examples:
  secposture refine "Add a password reset link to the login page"
  secposture refine --file ticket.md
  gh issue view 42 --json body --jq .body | secposture refine
  secposture refine - --edition 2021 < ticket.txt
  secposture refine --all --edition 2021 > checklist.md   # every category
  secposture refine --file ticket.md --all                # every category, matches marked

\b
Exit codes:
  0  the checklist (or, when nothing matched, a note suggesting --all) was written
  2  usage or input error: no text, both text and --file, an unreadable, binary or empty file,
     more than 1 MiB of text
"""


def add_commands(group: click.Group) -> None:
    """Add `refine` to the `secposture` command group."""
    group.add_command(refine)


@click.command("refine", help=REFINE_HELP)
@click.argument("text", nargs=-1, metavar="[TEXT... | -]")
@click.option(
    "--file",
    "-f",
    "ticket_file",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="PATH",
    help="Read the ticket's text from this file (UTF-8; Markdown or plain text).",
)
@click.option(
    "--edition",
    type=click.Choice(["2025", "2021", "both"]),
    default="2025",
    show_default=True,
    help="Which OWASP Top 10 edition's categories to ask about: 2025 is the current one.",
)
@click.option(
    "--all",
    "include_all",
    is_flag=True,
    help="The whole checklist: every category of the edition(s), matched or not. Standard "
    "input is read only when '-' is given.",
)
@errors_as_input
def refine(
    text: tuple[str, ...], ticket_file: Path | None, edition: str, include_all: bool
) -> None:
    from secposture import refine as refinement

    ticket = _ticket_text(text, ticket_file, include_all)
    editions = refinement.parse_edition(edition)
    matches = refinement.checklist(ticket or "", editions, include_all=include_all)
    markdown = refinement.render_markdown(matches, editions, include_all=include_all)
    echo(markdown)


def _ticket_text(words: tuple[str, ...], ticket_file: Path | None, include_all: bool) -> str | None:
    """The ticket's text from the argument, --file or standard input; None for --all without text.

    Raises click.UsageError for a wrong combination, SecpostureError for unusable input.
    """
    if ticket_file is not None:
        if words:
            raise click.UsageError("give the ticket's text or --file PATH, not both")
        return _checked(_read_file(ticket_file), str(ticket_file))
    if words == ("-",):
        return _checked(_read_stdin(), "standard input")
    if words:
        return _checked(" ".join(words), "the argument")
    if include_all:
        return None
    if _stdin_is_terminal():
        raise click.UsageError(
            "give the ticket's text as an argument, --file PATH, or on standard input "
            "(`... | secposture refine`); or --all for the whole checklist"
        )
    return _checked(_read_stdin(), "standard input")


def _read_file(path: Path) -> bytes:
    try:
        with path.open("rb") as stream:
            return stream.read(MAX_TICKET_BYTES + 1)
    except FileNotFoundError:
        raise SecpostureError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SecpostureError(f"{path}: is a folder; give the ticket's file") from None
    except OSError as exc:
        raise SecpostureError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _read_stdin() -> bytes:
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:  # standard input closed (`<&-`)
        raise SecpostureError("standard input is closed: give the ticket's text or --file PATH")
    try:
        data: bytes = stream.read(MAX_TICKET_BYTES + 1)
        return data
    except OSError as exc:
        raise SecpostureError(f"cannot read standard input: {exc.strerror or exc}") from None


def _stdin_is_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except ValueError:  # closed
        return False


def _checked(raw: bytes | str, where: str) -> str:
    """The text, decoded (UTF-8, a BOM dropped, undecodable bytes replaced), if it is a ticket."""
    size = len(raw.encode("utf-8", "surrogatepass")) if isinstance(raw, str) else len(raw)
    if size > MAX_TICKET_BYTES:
        raise SecpostureError(
            f"{where}: more than 1 MiB of text; give the ticket's description only"
        )
    text = raw if isinstance(raw, str) else raw.decode("utf-8-sig", errors="replace")
    if "\x00" in text:
        raise SecpostureError(f"{where}: looks like a binary file, not a ticket's text")
    if not text.strip():
        raise SecpostureError(f"{where}: the ticket's text is empty")
    return text
