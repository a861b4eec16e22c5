"""The command line is one package, secposture/cli/, that nothing else imports (issue 14 §1):
logic a command needs lives in the pipeline, the register or the dashboard, where the dashboard
and the tests can reach it without the command line."""

from __future__ import annotations

import ast
from pathlib import Path

import secposture

SRC = Path(secposture.__file__).parent
CLI = SRC / "cli"
# The package's entry point for `python -m secposture`: it runs the command line.
ENTRY_POINTS = {SRC / "__main__.py"}


def imports_of_cli(source: str) -> list[str]:
    """The imports in `source` that reach into secposture.cli, as written."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        found.extend(
            name for name in names if name == "secposture.cli" or name.startswith("secposture.cli.")
        )
    return found


def test_the_check_sees_every_form_of_import() -> None:
    source = (
        "import secposture.cli.common\n"
        "from secposture.cli import main\n"
        "from secposture import cli\n"
        "def f():\n    from secposture.cli.common import echo\n"
        "import secposture.cli_like, secposture.scan\n"
    )
    assert imports_of_cli(source) == [
        "secposture.cli.common",
        "secposture.cli",
        "secposture.cli.main",
        "secposture.cli",
        "secposture.cli.common",
        "secposture.cli.common.echo",
    ]


def test_no_module_outside_the_command_line_imports_it() -> None:
    outside = [
        path for path in SRC.rglob("*.py") if CLI not in path.parents and path not in ENTRY_POINTS
    ]
    assert len(outside) > 50, "the walk found too few modules: is SRC right?"
    offenders = {
        str(path.relative_to(SRC)): found
        for path in outside
        if (found := imports_of_cli(path.read_text("utf-8")))
    }
    assert offenders == {}
