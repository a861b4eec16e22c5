"""The `secposture` command line. Heavy modules are imported inside commands to keep start-up fast."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from secposture import __version__
from secposture.errors import SecpostureError

EXIT_OK, EXIT_FAILING, EXIT_USAGE = 0, 1, 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="secposture")
def cli() -> None:
    """Check a repository against the team's security baseline.

    \b
    Start with:   secposture scan            (this checkout)
    In CI:        secposture scan --format sarif --output secposture.sarif
    Exit codes:   0 nothing failing at --fail-on level, 1 failing controls, 2 usage or input error.
    """


@cli.command()
@click.argument(
    "path", default=".", type=click.Path(path_type=Path, file_okay=True, dir_okay=True)
)
@click.option(
    "--format", "fmt", default="terminal", show_default=True,
    type=click.Choice(["terminal", "json", "sarif", "markdown", "html"]),
    help="Report format: a table for people, json for machines (docs/report-format.md), sarif "
    "for code scanning, markdown for a PR comment or $GITHUB_STEP_SUMMARY, html for one file.",
)
@click.option(
    "--output", "-o", type=click.Path(path_type=Path, dir_okay=False),
    help="Write the report to this file instead of standard output.",
)
@click.option(
    "--fail-on", type=click.Choice(["required", "recommended", "never"]), default=None,
    help="Exit 1 when a control at this level or stricter fails or is partial "
    "[default: the policy's fail_on, else required].",
)
@click.option(
    "--policy", "policy_file", type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Policy file to use instead of the checkout's secposture.toml / pyproject.toml.",
)
@click.option("--deep", is_flag=True, help="Also run opt-in deep controls (secrets-in-tree).")
@click.option(
    "--max-file-size", type=click.IntRange(min=1024), metavar="BYTES",
    help="Do not read files larger than this (default 1 MiB, or the policy's limit).",
)
@click.option("--verbose", "-v", is_flag=True, help="Show every finding with its file and line.")
@click.option("--color/--no-color", default=None, help="Colour the terminal report.")
def scan(
    path: Path,
    fmt: str,
    output: Path | None,
    fail_on: str | None,
    policy_file: Path | None,
    deep: bool,
    max_file_size: int | None,
    verbose: bool,
    color: bool | None,
) -> None:
    """Scan a checkout (default: the current folder) against the security baseline.

    Reads only tracked files (git ls-files; a plain folder is walked), never runs repository
    content, never follows links out of the repository and skips files over the size limit.
    Settings-based controls are `unknown` from a checkout: they need GitHub API access.
    """
    from secposture.model import Level
    from secposture.reports.interface import RenderOptions, renderer
    from secposture.scan import scan_path

    report, policy = scan_path(path, policy_file=policy_file, deep=deep, max_file_bytes=max_file_size)
    use_color = color if color is not None else (output is None and sys.stdout.isatty())
    text = renderer(fmt)(report, RenderOptions(color=use_color, verbose=verbose))
    if output is not None:
        try:
            output.write_text(text, "utf-8")
        except OSError as exc:
            raise SecpostureError(f"{output}: cannot write report: {exc.strerror}") from None
    else:
        click.echo(text, nl=False)
    threshold = fail_on or policy.fail_on or "required"
    level = None if threshold == "never" else Level(threshold)
    if report.failing(level):
        sys.exit(EXIT_FAILING)


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except SecpostureError as exc:
        click.echo(f"secposture: error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except click.exceptions.Abort:
        click.echo("secposture: aborted", err=True)
        sys.exit(EXIT_USAGE)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        sys.exit(130)
    except SystemExit:
        raise
    sys.exit(EXIT_OK)
