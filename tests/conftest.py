"""Shared test helpers: real git repositories built in temporary folders from fixture files."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path

import pytest
import time_machine

from secposture.model import ControlResult, ScanReport
from secposture.scan import scan_path

FIXTURES = Path(__file__).parent / "fixtures"
# The day the fixture files are dated against (their threat-model reviews, waivers, ADRs): scans
# of fixtures pass it explicitly.
TODAY = date(2026, 11, 29)
# The moment the whole suite runs at: no test reads the real clock. Every Python clock is pinned
# here for the session (time-machine; it ticks on from there, so timeouts still work), and the
# register's tests also hand it in as the database's clock. SECPOSTURE_TEST_NOW runs the suite at
# another moment: `tests/run-dates` runs it at month ends, 29 February and across a DST change.
NOW = datetime.fromisoformat(os.environ.get("SECPOSTURE_TEST_NOW", "2026-11-29T12:00:00+00:00"))
if NOW.tzinfo is None:
    raise SystemExit("SECPOSTURE_TEST_NOW needs a UTC offset, e.g. 2028-02-29T23:30:00+00:00")


def pytest_configure(config: pytest.Config) -> None:
    config._secposture_clock = time_machine.travel(NOW, tick=True)  # type: ignore[attr-defined]
    config._secposture_clock.start()  # type: ignore[attr-defined]


def pytest_unconfigure(config: pytest.Config) -> None:
    clock = getattr(config, "_secposture_clock", None)
    if clock is not None:
        clock.stop()


def fixed_clock() -> datetime:
    """The register's clock in tests: always NOW."""
    return NOW


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


# --- the register's databases (tests/test_register_*.py) ----------------------------------------

from collections.abc import Iterator  # noqa: E402

from postgres import PostgresServer, find_bindir  # noqa: E402


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the session; skipped only when PostgreSQL is not installed."""
    bindir = find_bindir()
    if bindir is None:
        pytest.skip(
            "PostgreSQL is not installed (no initdb/pg_ctl on PATH or in /usr/lib/postgresql)"
        )
    server = PostgresServer(bindir)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def postgres_url(postgres_server: PostgresServer) -> str:
    """A fresh PostgreSQL database for one test module."""
    return postgres_server.create_database()


def _empty_register(url: str) -> None:
    """Migrate a shared test database and empty every table (ids restart at 1)."""
    from sqlalchemy import text

    from secposture.register.database import Database
    from secposture.register.models import Base

    with Database.open(url) as database, database.engine.begin() as conn:
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="session")
def sqlite_register_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty register migrated once per session; tests start from a copy of the file."""
    from secposture.register.database import Database

    path = tmp_path_factory.mktemp("register-template") / "register.db"
    Database.open(str(path)).close()  # the last connection closing folds the WAL into the file
    return path


@pytest.fixture
def sqlite_register_url(sqlite_register_template: Path, tmp_path: Path) -> str:
    """An empty, migrated SQLite register of the test's own."""
    path = tmp_path / "register.db"
    shutil.copyfile(sqlite_register_template, path)
    path.chmod(0o600)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", "postgresql"])
def register_url(request: pytest.FixtureRequest) -> str:
    """An empty, migrated register: a SQLite file, then the module's PostgreSQL database."""
    if request.param == "sqlite":
        sqlite_url: str = request.getfixturevalue("sqlite_register_url")
        return sqlite_url
    url: str = request.getfixturevalue("postgres_url")
    _empty_register(url)
    return url


# --- isolation from the machine's own register and GitHub credentials ---------------------------


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the user's embedded register or a token from the environment (CI sets
    GITHUB_TOKEN): tests that want them set their own."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))  # referenced files' cache
    for name in (
        "SECPOSTURE_DATABASE_URL",
        "GITHUB_TOKEN",
        "GH_TOKEN",
        "SECPOSTURE_APP_ID",
        "SECPOSTURE_APP_PRIVATE_KEY",
        "SECPOSTURE_APP_PRIVATE_KEY_FILE",
        "SECPOSTURE_APP_INSTALLATION_ID",
        "GITHUB_API_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    # The terminal report wraps at the terminal's width: the same width for every test, whatever
    # terminal (or none) the suite runs in.
    monkeypatch.setenv("COLUMNS", "100")
