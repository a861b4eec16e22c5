"""Helpers for the `secposture fix` tests (no tests here): run the command on a real checkout,
commit what it wrote, and scan again (the scan reads tracked files only, as a user's next
`secposture scan` after `git add` would)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from conftest import git, result, scan

from secposture.cli.fix import fix
from secposture.model import ScanReport, Status


def run_fix(root: Path, *args: str) -> Result:
    return CliRunner().invoke(fix, [str(root), *args], catch_exceptions=False)


def fix_json(root: Path, *args: str) -> dict[str, Any]:
    outcome = run_fix(root, "--format", "json", *args)
    assert outcome.exit_code == 0, outcome.output
    data: dict[str, Any] = json.loads(outcome.output)
    return data


def commit_all(root: Path) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "--no-verify", "--allow-empty", "-m", "secposture fix")


def fixed_and_scanned(root: Path, *args: str) -> tuple[dict[str, Any], ScanReport]:
    """Fix (JSON output), commit, scan."""
    data = fix_json(root, *args)
    commit_all(root)
    return data, scan(root)


def status(report: ScanReport, control: str) -> Status:
    return result(report, control).status


def tree(root: Path) -> dict[str, bytes]:
    """Every file under root (less .git), for comparing before and after."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def changed_paths(data: dict[str, Any]) -> list[str]:
    return [c["path"] for c in data["changes"]]


def change_for(data: dict[str, Any], path: str) -> dict[str, Any]:
    for change in data["changes"]:
        if change["path"] == path:
            found: dict[str, Any] = change
            return found
    raise AssertionError(f"no change to {path}: {changed_paths(data)}")


def lines_kept(before: str, after: str) -> bool:
    """Every line of `before` is in `after`, in the same order (nothing removed or reordered)."""
    remaining = iter(after.splitlines())
    return all(any(line == candidate for candidate in remaining) for line in before.splitlines())
