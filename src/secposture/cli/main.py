"""The `secposture` command group. Each command lives in its own module, imported only when it
runs (or when help lists the commands), so that start-up stays fast.

Exit codes: 0 nothing failing at the --fail-on level, 1 failing controls, 2 a usage or input error
(or an internal error: never 0 or 1 by accident). Errors are one line on stderr, never a traceback
(set SECPOSTURE_DEBUG=1 to see one).

To add a command: write a module in this package with an `add_commands(group)` function that adds
it, and name the command here in LAZY_COMMANDS.
"""

from __future__ import annotations

import os
import sys

import click

from secposture import __version__
from secposture.cli.common import EXIT_OK, EXIT_USAGE, error
from secposture.errors import SecpostureError

# Each command by the module that adds it: a module is imported only when one of its commands
# runs (or help lists them), so `secposture scan` does not pay for the register or the dashboard.
LAZY_COMMANDS = {
    "scan": "secposture.cli.scan",
    "fix": "secposture.cli.fix",
    "refine": "secposture.cli.refine",
    **dict.fromkeys(("serve", "user"), "secposture.cli.serve"),
    "product": "secposture.cli.register.products",
    **dict.fromkeys(("threat-model", "ithc", "change"), "secposture.cli.register.records"),
    "issue": "secposture.cli.register.issues",
    "risk": "secposture.cli.register.risks",
    "waiver": "secposture.cli.register.waivers",
    "due": "secposture.cli.register.due",
    "history": "secposture.cli.register.history",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        for module in sorted(set(LAZY_COMMANDS.values())):
            self._load(module)
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = LAZY_COMMANDS.get(cmd_name)
        if module is not None and cmd_name not in self.commands:
            self._load(module)
        return super().get_command(ctx, cmd_name)

    def _load(self, module: str) -> None:
        import importlib

        loaded: set[str] = self.__dict__.setdefault("_loaded", set())
        if module not in loaded:
            loaded.add(module)
            importlib.import_module(module).add_commands(self)


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    invoke_without_command=True,
)
@click.version_option(__version__, prog_name="secposture")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Check, fix and track a team's security baseline.

    \b
    Start with:   secposture scan            (this checkout)
    In CI:        secposture scan --format sarif --output secposture.sarif
    An estate:    GITHUB_TOKEN=... secposture scan --org ORG
    Fix:          secposture fix --dry-run   (then without --dry-run)
    The register: secposture product add, threat-model record, ithc record, issue raise, risk list, due
    Refinement:   secposture refine "ticket text"
    Dashboard:    secposture user add NAME --role admin; secposture serve
    Help:         secposture COMMAND --help
    Exit codes:   0 nothing failing at --fail-on level, 1 failing controls, 2 usage or input error.
    """
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


def _usage_line(exc: click.ClickException) -> str:
    message = " ".join(exc.format_message().split())
    if isinstance(exc, click.UsageError) and exc.ctx is not None:
        return f"{message} (see '{exc.ctx.command_path} --help')"
    return message


def main(argv: list[str] | None = None) -> None:
    try:
        rv = cli.main(args=argv, prog_name="secposture", standalone_mode=False)
    except SecpostureError as exc:
        error(" ".join(str(exc).split()))
        sys.exit(EXIT_USAGE)
    except click.exceptions.Abort:
        error("aborted")
        sys.exit(EXIT_USAGE)
    except click.ClickException as exc:
        error(_usage_line(exc))
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:
        if os.environ.get("SECPOSTURE_DEBUG"):
            raise
        error(
            f"internal error: {type(exc).__name__}: {' '.join(str(exc).split())} "
            "(please report it; set SECPOSTURE_DEBUG=1 for the traceback)"
        )
        sys.exit(EXIT_USAGE)
    sys.exit(rv if isinstance(rv, int) else EXIT_OK)
