"""The `secposture` command line. Heavy modules are imported inside commands to keep start-up fast.

Exit codes: 0 nothing failing at the --fail-on level, 1 failing controls, 2 a usage or input error
(or an internal error: never 0 or 1 by accident). Errors are one line on stderr, never a traceback
(set SECPOSTURE_DEBUG=1 to see one).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import click

from secposture import __version__
from secposture.errors import SecpostureError

EXIT_OK, EXIT_FAILING, EXIT_USAGE = 0, 1, 2
FAIL_ON = ("required", "recommended", "never")


class InputError(click.ClickException):
    """A SecpostureError seen by click: exit 2 with the message, also under click's own runner."""

    exit_code = EXIT_USAGE

    def show(self, file: object = None) -> None:
        _error(" ".join(self.format_message().split()))


SCAN_HELP = """Scan a checkout (default: the current folder) against the security baseline.

Reads only tracked files (git ls-files; a plain folder is walked), never runs repository content,
never follows links out of the repository and skips files over the size limit. Settings-based
controls are `unknown` from a checkout: they need GitHub API access.

\b
Examples:
  secposture scan                                  # this checkout, a table per level
  secposture scan ../service -v                    # every finding, and the static-analysis matrix
  secposture scan --format json -o report.json     # machine format (docs/report-format.md)
  secposture scan --format sarif -o secposture.sarif
  secposture scan --format markdown >> "$GITHUB_STEP_SUMMARY"
  secposture scan --format html -o report.html     # one self-contained file
  secposture scan --fail-on recommended            # also fail on recommended controls
  secposture scan --policy ../org/secposture.toml  # a shared policy instead of the checkout's

\b
Exit codes:
  0  nothing fails at the --fail-on level
  1  a control at that level or stricter is `fail` or `partial` (`unknown`, `waived` do not fail)
  2  usage or input error: bad option, missing folder, invalid policy, unwritable output
"""


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, invoke_without_command=True)
@click.version_option(__version__, prog_name="secposture")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Check a repository against the team's security baseline.

    \b
    Start with:   secposture scan            (this checkout)
    In CI:        secposture scan --format sarif --output secposture.sarif
    Help:         secposture scan --help
    Exit codes:   0 nothing failing at --fail-on level, 1 failing controls, 2 usage or input error.
    """
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


@cli.command(help=SCAN_HELP)
@click.argument("path", default=".", type=click.Path(path_type=Path, file_okay=True, dir_okay=True))
@click.option(
    "--format",
    "fmt",
    default="terminal",
    show_default=True,
    type=click.Choice(["terminal", "json", "sarif", "markdown", "html"]),
    help="Report format: a table for people, json for machines (docs/report-format.md), sarif "
    "for code scanning, markdown for a PR comment or $GITHUB_STEP_SUMMARY, html for one file.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the report to this file instead of standard output.",
)
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    default=None,
    help="Exit 1 when a control at this level or stricter fails or is partial "
    "[default: the policy's fail_on, else required].",
)
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Policy file to use instead of the checkout's secposture.toml / pyproject.toml.",
)
@click.option("--deep", is_flag=True, help="Also run opt-in deep controls (secrets-in-tree).")
@click.option(
    "--max-file-size",
    type=click.IntRange(min=1024),
    metavar="BYTES",
    help="Do not read files larger than this [default: 1 MiB, or the policy's limits.max_file_bytes].",
)
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="Show every finding with its file and line, and the static-analysis matrix.",
)
@click.option(
    "--color/--no-color",
    default=None,
    help="Colour the terminal report [default: when writing to a terminal and NO_COLOR is unset].",
)
def scan(**params: Any) -> None:
    # Click passes the options by name; _scan holds their types. Input errors become usage errors.
    try:
        code = _scan(**params)
    except SecpostureError as exc:
        raise InputError(str(exc)) from None
    if code:
        sys.exit(code)


def _scan(
    path: Path,
    fmt: str,
    output: Path | None,
    fail_on: str | None,
    policy_file: Path | None,
    deep: bool,
    max_file_size: int | None,
    verbose: bool,
    color: bool | None,
) -> int:
    from secposture.model import Level
    from secposture.reports.interface import RenderOptions, renderer
    from secposture.scan import scan_path

    if policy_file is not None and not policy_file.is_file():
        raise SecpostureError(f"{policy_file}: policy file not found")
    if output is not None:
        _check_writable(output)
    report, policy = scan_path(
        path, policy_file=policy_file, deep=deep, max_file_bytes=max_file_size
    )
    use_color = _use_color(color, output)
    to_terminal = output is None and sys.stdout.isatty()
    width = shutil.get_terminal_size().columns if to_terminal else None
    options = RenderOptions(color=use_color, width=width, verbose=verbose)
    text = renderer(fmt)(report, options)
    if output is not None:
        try:
            output.write_text(text, "utf-8")
        except OSError as exc:
            raise SecpostureError(f"{output}: cannot write report: {exc.strerror or exc}") from None
    else:
        try:
            # color= stops click stripping the escapes that --color asked for when piped.
            click.echo(text, nl=False, color=use_color)
        except BrokenPipeError:
            # The reader went away (`secposture scan | head`); the exit code still tells the result.
            _silence_stdout()
    threshold = fail_on or policy.fail_on or "required"
    level = None if threshold == "never" else Level(threshold)
    return EXIT_FAILING if report.failing(level) else EXIT_OK


def _use_color(color: bool | None, output: Path | None) -> bool:
    if color is not None:
        return color
    if os.environ.get("NO_COLOR"):
        return False
    return output is None and sys.stdout.isatty()


def _check_writable(output: Path) -> None:
    """Fail before scanning, not after, when the report could not be written."""
    if output.is_dir():
        raise SecpostureError(f"{output}: is a folder; give a file name for --output")
    parent = output.parent if str(output.parent) else Path(".")
    if not parent.is_dir():
        raise SecpostureError(f"{output}: folder {parent} does not exist")
    target = output if output.exists() else parent
    if not os.access(target, os.W_OK):
        raise SecpostureError(f"{output}: cannot write report: permission denied")


def _usage_line(exc: click.ClickException) -> str:
    message = " ".join(exc.format_message().split())
    if isinstance(exc, click.UsageError) and exc.ctx is not None:
        return f"{message} (see '{exc.ctx.command_path} --help')"
    return message


def main(argv: list[str] | None = None) -> None:
    try:
        rv = cli.main(args=argv, prog_name="secposture", standalone_mode=False)
    except SecpostureError as exc:
        _error(" ".join(str(exc).split()))
        sys.exit(EXIT_USAGE)
    except click.exceptions.Abort:
        _error("aborted")
        sys.exit(EXIT_USAGE)
    except click.ClickException as exc:
        _error(_usage_line(exc))
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:
        if os.environ.get("SECPOSTURE_DEBUG"):
            raise
        _error(
            f"internal error: {type(exc).__name__}: {' '.join(str(exc).split())} "
            "(please report it; set SECPOSTURE_DEBUG=1 for the traceback)"
        )
        sys.exit(EXIT_USAGE)
    sys.exit(rv if isinstance(rv, int) else EXIT_OK)


def _error(message: str) -> None:
    from secposture.reports.interface import clean

    # A policy file's own key names appear in errors: no terminal escape sequences from them.
    click.echo(f"secposture: error: {clean(message)}", err=True)


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
