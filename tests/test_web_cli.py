"""`secposture serve` and `secposture user ...`: the guards on where the dashboard listens, the
account commands, and a real server started as a process and asked over HTTP."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import click
import httpx
import pytest
from click.testing import CliRunner

from secposture.cli.serve import add_commands, is_loopback
from secposture.register.database import Database


@pytest.fixture
def cli() -> click.Group:
    @click.group()
    def group() -> None:
        pass

    add_commands(group)
    return group


def run(cli: click.Group, *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), input=stdin)
    return result.exit_code, result.output


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "dashboard.example"])  # noqa: S104
def test_serve_refuses_a_public_address_without_allow_remote(cli: click.Group, host: str) -> None:
    code, output = run(cli, "serve", "--host", host)
    assert code == 2
    assert "refusing to listen" in output and "Terminate TLS in front" in output


def test_insecure_cookies_are_for_localhost_only(cli: click.Group) -> None:
    anywhere = "0.0.0.0"  # noqa: S104  # what the command must refuse
    code, output = run(cli, "serve", "--host", anywhere, "--allow-remote", "--insecure-cookies")
    assert code == 2 and "localhost development only" in output


def test_loopback_addresses() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert is_loopback("[::1]") and is_loopback("127.1.2.3")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.0.0.1")  # noqa: S104 and not is_loopback("")


def test_user_add_list_disable(cli: click.Group, tmp_path: Path) -> None:
    db = str(tmp_path / "r.db")
    code, output = run(
        cli,
        "user",
        "add",
        "ann",
        "--role",
        "admin",
        "--name",
        "Ann Lee",
        "--db",
        db,
        "--actor",
        "ops",
        "--password-stdin",
        stdin="a long password 1\n",
    )
    assert (code, output.strip()) == (0, "added ann (admin)")
    code, output = run(
        cli, "user", "add", "bo@example.gov.uk", "--role", "security", "--oidc", "--db", db
    )
    assert code == 0
    code, output = run(
        cli,
        "user",
        "add",
        "ANN",
        "--role",
        "viewer",
        "--db",
        db,
        "--password-stdin",
        stdin="another password\n",
    )
    assert code == 2 and "already exists" in output
    code, output = run(
        cli,
        "user",
        "add",
        "cy",
        "--role",
        "viewer",
        "--db",
        db,
        "--password-stdin",
        stdin="short\n",
    )
    assert code == 2 and "at least 12" in output
    code, output = run(cli, "user", "list", "--format", "json", "--db", db)
    rows = json.loads(output)
    assert [(r["username"], r["role"], r["auth"], r["status"]) for r in rows] == [
        ("ann", "admin", "local", "active"),
        ("bo@example.gov.uk", "security", "oidc", "active"),
    ]
    assert "argon2" not in output and "password" not in output
    code, output = run(cli, "user", "disable", "ann", "--db", db, "--actor", "ops")
    assert code == 0
    code, output = run(cli, "user", "disable", "ann", "--db", db)
    assert code == 2 and "already disabled" in output
    code, output = run(cli, "user", "list", "--db", db)
    assert "disabled" in output and "Ann Lee" in output
    code, output = run(cli, "user", "enable", "nobody", "--db", db)
    assert code == 2 and "no user" in output


def test_user_add_hashes_with_argon2id_at_the_default_cost(
    cli: click.Group, tmp_path: Path
) -> None:
    from sqlalchemy import select

    from secposture.register.web_accounts import WebUser

    db = str(tmp_path / "r.db")
    run(
        cli,
        "user",
        "add",
        "ann",
        "--role",
        "viewer",
        "--db",
        db,
        "--password-stdin",
        stdin="a long password 1\n",
    )
    with Database.open(db) as database:
        stored = database.read(lambda tx: tx.session.scalar(select(WebUser.password_hash)))
    assert stored is not None and stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert "a long password 1" not in stored


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_runs_a_dashboard_that_answers_over_http(tmp_path: Path) -> None:
    db = str(tmp_path / "r.db")
    port = free_port()
    # uvicorn would believe X-Forwarded-For from anywhere with this; `serve` must not.
    env = {**os.environ, "SECPOSTURE_SESSION_SECRET": "s" * 40, "FORWARDED_ALLOW_IPS": "*"}
    # On the way out (SIGINT: uvicorn stops cleanly, then Python runs atexit), how much of the
    # heap serve froze.
    code = (
        "import atexit, gc; from secposture.cli.serve import serve; "
        "atexit.register(lambda: print('frozen objects:', gc.get_freeze_count(), flush=True)); "
        "serve()"
    )
    args = ["--db", db, "--port", str(port), "--insecure-cookies"]
    process = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "the dashboard did not start"
                time.sleep(0.1)
        assert health.text == "ok"
        forged = {"X-Forwarded-For": "203.0.113.77"}
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", headers=forged).text == "ok"
        login = httpx.get(f"http://127.0.0.1:{port}/login")
        assert login.status_code == 200 and "Sign in" in login.text
        assert "server" not in login.headers  # no product banner
        assert "frame-ancestors 'none'" in login.headers["content-security-policy"]
        assert httpx.get(f"http://127.0.0.1:{port}/").headers["location"] == "/login"
        callback = httpx.get(f"http://127.0.0.1:{port}/auth/callback?code=ONE-TIME-CODE&state=S")
        assert callback.status_code == 404  # no OIDC configured
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
    output = process.stdout.read() if process.stdout else ""
    assert "no accounts yet: add one with `secposture user add NAME --role admin`" in output
    assert '"GET /login HTTP/1.1" 200' in output  # the access log is on
    assert "203.0.113.77" not in output  # the connection's address is logged, not the header's
    assert "/auth/callback?[redacted]" in output and "ONE-TIME-CODE" not in output
    assert "s" * 40 not in output
    frozen = re.search(r"frozen objects: (\d+)", output)
    assert frozen is not None and int(frozen.group(1)) > 50_000  # the start-up heap
