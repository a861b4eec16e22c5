"""The real dashboard for browser tests, screenshots and benchmarks: a register seeded through
its Python API, local accounts, and uvicorn on 127.0.0.1 in a background thread.

Also imported by path from benchmarks/ (screenshots, speed), so it imports nothing from the
test suite itself.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import uvicorn

from secposture.model import ScanReport, Target
from secposture.policy import default_policy
from secposture.register.database import Database
from secposture.register.scan_context import repository_records
from secposture.register.scans import record_scan
from secposture.scan import scan_snapshot
from secposture.scan_register import UNIDENTIFIED
from secposture.sources.interface import NO_SETTINGS, Settings
from secposture.sources.memory import MemorySnapshot
from secposture.web import accounts
from secposture.web.settings import ROLES, WebSettings

FIXTURES = Path(__file__).parent / "fixtures"
START_TIMEOUT_S = 10.0
# argon2id's cheapest parameters: a sign-in costs microseconds instead of ~50 ms, so the tests
# stay fast. A stored hash carries its parameters, so nothing else changes.
FAST_ARGON2: Mapping[str, Any] = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}
SESSION_SECRET = "test-only-session-signing-key-0123456789abcdef"  # nosec B105


def password_for(role: str) -> str:
    """Each role's test account password (never a real secret: the register is temporary)."""
    return f"{role}-correct-horse-battery"


def add_accounts(database: Database, roles: Iterable[str] = ROLES) -> dict[str, str]:
    """A local account per role, named after it; returns {username: password}."""
    hasher = accounts.hasher_for(FAST_ARGON2)
    made = {role: password_for(role) for role in roles}

    def add(tx: Any) -> None:
        for role, password in made.items():
            new = accounts.NewUser(
                role, role, display_name=f"{role.title()} Person", password=password
            )
            accounts.add_user(tx, new, hasher)

    database.write("setup", add)
    return made


def web_settings(database_url: str, **changes: Any) -> WebSettings:
    """Settings for plain-http loopback: cookies without Secure, cheap hashes, a fixed key."""
    base = WebSettings(
        database_url=database_url,
        secure_cookies=False,
        session_secret=SESSION_SECRET,
        argon2_parameters=FAST_ARGON2,
    )
    return replace(base, **changes)


def fixture_files(*names: str) -> dict[str, bytes]:
    """The files of tests/fixtures/NAME folders, later ones written over earlier ones."""
    files: dict[str, bytes] = {}
    for name in names:
        root = FIXTURES / name
        for path in sorted(root.rglob("*")):
            if path.is_file():
                files[path.relative_to(root).as_posix()] = path.read_bytes()
    return files


def scan_files(
    database: Database,
    repository: str,
    files: Mapping[str, str | bytes],
    *,
    today: date | None = None,
    settings: Settings = NO_SETTINGS,
    scanned_at: datetime | None = None,
    commit: str | None = None,
    source: str = "github",
) -> ScanReport:
    """Scan an in-memory repository with the default policy and what the register holds for
    it (waivers, threat models, ITHCs), as `secposture scan --record` would, and record it.
    Only GitHub repositories (OWNER/REPO) have register records; another source (a plain
    folder, whatever its name) scans as a checkout with no known repository does."""
    records = (
        database.read(lambda tx: repository_records(tx, repository))
        if source == "github"
        else UNIDENTIFIED
    )
    snapshot = MemorySnapshot(
        files, Target(name=repository, source=source, commit=commit), settings=settings
    )
    report = scan_snapshot(snapshot, default_policy(), today or date.today(), records)
    if scanned_at is not None:
        report = replace(report, generated_at=scanned_at.astimezone(UTC).isoformat())
    database.write("scanner", lambda tx: record_scan(tx, report))
    return report


@contextmanager
def serve(app: Any, config: uvicorn.Config | None = None) -> Iterator[str]:
    """Run `app` with uvicorn on 127.0.0.1 (a free port) in a background thread; yields its
    base URL and stops the server afterwards. `config`: uvicorn's settings for `app` (its host
    and port are ignored), e.g. `secposture serve`'s own."""
    # IPPROTO_TCP so asyncio turns Nagle off (TCP_NODELAY): no 40 ms delayed-ACK stalls.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = config or uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        loop="asyncio",
        http="h11",
        lifespan="on",
        proxy_headers=False,  # as `secposture serve` without --forwarded-allow-ips
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="secposture-web", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("the dashboard did not start (see the log above)")
        time.sleep(0.005)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(START_TIMEOUT_S)
        sock.close()
