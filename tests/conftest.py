"""Shared test helpers: real git repositories built in temporary folders from fixture files."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path

import pytest

from secposture.model import ControlResult, ScanReport
from secposture.scan import scan_path

FIXTURES = Path(__file__).parent / "fixtures"
TODAY = date(2026, 11, 29)
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.org",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.org",
    "GIT_AUTHOR_DATE": "2026-11-01T12:00:00+00:00",
    "GIT_COMMITTER_DATE": "2026-11-01T12:00:00+00:00",
    "GIT_CONFIG_NOSYSTEM": "1",
    "HOME": "/nonexistent",
}

Files = Mapping[str, str | bytes]
MakeRepo = Callable[..., Path]


def git(root: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    import os

    proc = subprocess.run(
        ["git", "-C", str(root), *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **GIT_ENV, **(env or {})},
    )
    return proc.stdout


def write_files(root: Path, files: Files) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, "utf-8")


@pytest.fixture
def make_repo(tmp_path: Path) -> MakeRepo:
    """Build a real git repository: `make_repo("fixture-name", {"extra/file": "text"})`.

    The fixture folder (tests/fixtures/NAME) is copied first, then `files` are written over it;
    everything is committed unless `commit=False`; `git=False` leaves a plain folder.
    """
    counter = iter(range(1_000_000))

    def build(
        fixture: str | None = None,
        files: Files | None = None,
        *,
        commit: bool = True,
        use_git: bool = True,
    ) -> Path:
        root = tmp_path / f"repo{next(counter)}"
        if fixture is not None:
            shutil.copytree(FIXTURES / fixture, root, symlinks=True)
        else:
            root.mkdir()
        write_files(root, files or {})
        if use_git:
            git(root, "init", "-q", "-b", "main")
            git(root, "add", "-A")
            if commit and any(root.iterdir()):
                git(root, "commit", "-q", "--no-verify", "-m", "fixture")
        return root

    return build


def scan(path: Path, today: date = TODAY, **kwargs: object) -> ScanReport:
    report, _policy = scan_path(path, today=today, **kwargs)  # type: ignore[arg-type]
    for r in report.results:
        for f in r.findings:
            assert "internal error" not in f.message, f.message
    return report


def result(report: ScanReport, control: str) -> ControlResult:
    for r in report.results:
        if r.id == control:
            return r
    raise AssertionError(f"no result for {control}: {[r.id for r in report.results]}")


# The fake GitHub server is imported as `tests.fake_github` (by tests and benchmarks alike):
# the repository root must be importable.
import sys  # noqa: E402

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

