"""A register that cannot be reached says so without saying where it is (ADR 0013): the dashboard
shows anyone a generic page and logs the detail with the address redacted; command-line errors
name the database without its user, password, host or port, wherever in the URL they were given
(user-info or query options such as password=, sslpassword=, passfile=, host=).

The dashboard's PostgreSQL is real: the session's server, reached through a TCP port forwarded
to its socket, which the test then closes (the database "goes down")."""

from __future__ import annotations

import contextlib
import logging
import secrets
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st
from postgres import PORT, PostgresServer
from sqlalchemy import make_url
from test_web_helpers import Dashboard, open_dashboard, sign_in

from secposture.cli.main import main
from secposture.register.database import safe_message, safe_url

USER_PASSWORD = "userinfo-secret-8d1f"  # pragma: allowlist secret (test values)
QUERY_PASSWORD = "query-secret-77ab"  # pragma: allowlist secret
SSL_PASSWORD = "sslkey-secret-41c9"  # pragma: allowlist secret
PASSFILE = "/srv/secret-dir/pgpass"
GENERIC = "The register cannot be reached just now"


class PortForward:
    """127.0.0.1:PORT forwarded to a PostgreSQL server's Unix socket, until `close()`: then the
    port is closed and every forwarded connection dropped."""

    def __init__(self, socket_path: str) -> None:
        self.socket_path = socket_path
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.port = self.listener.getsockname()[1]
        self.open: list[socket.socket] = []
        self.closed = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            server.connect(self.socket_path)
            self.open += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.closed.set()
        self.thread.join(5)
        self.listener.close()
        for end in self.open:
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()


def secret_url(user: str, host: str, port: int, database: str) -> str:
    """A PostgreSQL URL with a password in the user-info and more secrets in its options."""
    options = f"password={QUERY_PASSWORD}&sslpassword={SSL_PASSWORD}&passfile={quote(PASSFILE)}"
    return (
        f"postgresql://{user}:{USER_PASSWORD}@{host}:{port}/{database}?{options}"
        "&sslmode=disable&connect_timeout=5"
    )


def secrets_of(user: str, host: str, port: int) -> list[str]:
    return [USER_PASSWORD, QUERY_PASSWORD, SSL_PASSWORD, PASSFILE, "secret-dir", user, host]


@pytest.fixture
def forwarded_register(postgres_server: PostgresServer) -> Iterator[tuple[str, str, PortForward]]:
    """A database owned by a user of its own, reached over TCP through a forward: (URL with
    secrets, user, forward)."""
    user = f"alice_{secrets.token_hex(4)}"
    database = f"t_{secrets.token_hex(8)}"
    with psycopg.connect(
        host=str(postgres_server.root), port=PORT, user="postgres", autocommit=True
    ) as conn:
        conn.execute(f'CREATE ROLE "{user}" LOGIN')  # generated names, not input
        conn.execute(f'CREATE DATABASE "{database}" OWNER "{user}"')
    forward = PortForward(str(Path(postgres_server.root) / f".s.PGSQL.{PORT}"))
    try:
        yield secret_url(user, "127.0.0.1", forward.port, database), user, forward
    finally:
        forward.close()


@pytest.fixture
def down_dashboard(
    forwarded_register: tuple[str, str, PortForward],
) -> Iterator[tuple[Dashboard, list[str]]]:
    url, user, forward = forwarded_register
    for dashboard in open_dashboard(url):
        dashboard.as_role("architect")  # signed in while the register was up
        yield dashboard, [*secrets_of(user, "127.0.0.1", forward.port), str(forward.port)]


def assert_none_in(text: str, hidden: list[str]) -> None:
    shown = [value for value in hidden if value in text]
    assert not shown, f"{shown} in: {text[:3000]}"


def test_an_anonymous_sign_in_with_the_register_down_gets_a_generic_page(
    down_dashboard: tuple[Dashboard, list[str]],
    forwarded_register: tuple[str, str, PortForward],
    caplog: pytest.LogCaptureFixture,
) -> None:
    dashboard, hidden = down_dashboard
    anonymous = dashboard.client()
    anonymous.get("/login")
    forwarded_register[2].close()  # PostgreSQL goes down
    with caplog.at_level(logging.ERROR, logger="secposture.web"):
        for _attempt in range(2):  # the pool's dead connection, then a refused new one
            response = sign_in(anonymous, "ann", "a password of some length")
            assert response.status_code == 503
            assert GENERIC in response.text
            assert_none_in(response.text, hidden)
            assert "postgresql" not in response.text.lower()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "the register cannot be reached" in logged and "***" in logged
    assert_none_in(logged, hidden)


def test_a_signed_in_page_with_the_register_down_gets_the_same_generic_page(
    down_dashboard: tuple[Dashboard, list[str]],
    forwarded_register: tuple[str, str, PortForward],
) -> None:
    dashboard, hidden = down_dashboard
    architect = dashboard.as_role("architect")
    forwarded_register[2].close()
    for path in ("/risks", "/", "/issues/1"):
        response = architect.get(path)
        assert response.status_code == 503, (path, response.status_code)
        assert GENERIC in response.text
        assert_none_in(response.text, hidden)
    missing = architect.get("/no-such-page")  # its page asks who is signed in: no one, now
    assert missing.status_code == 404
    assert_none_in(missing.text, hidden)


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port bound but not listening: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
@pytest.mark.parametrize(
    "command",
    [
        ["risk", "list"],
        ["due"],
        ["product", "add", "Payments", "--owner", "Ann", "--classification", "official"],
        ["user", "list"],
        ["serve"],
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_command_line_errors_name_no_user_password_or_host(
    closed_port: int, host: str, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    user = "alice_cli"
    url = secret_url(user, host, closed_port, "register")
    with pytest.raises(SystemExit) as exited:
        main([*command, "--db", url])
    assert exited.value.code == 2
    output = capsys.readouterr()
    text = output.out + output.err
    assert "secposture: error:" in text and "***" in text
    assert_none_in(text, [*secrets_of(user, host, closed_port), str(closed_port), "127.0.0.1"])
    assert "::1" not in text


def test_safe_url_keeps_what_helps_and_hides_where_and_who() -> None:
    url = make_url(secret_url("alice", "db.internal.example", 6543, "register"))
    shown = safe_url(url)
    assert shown.startswith("postgresql://***:***@***/register?")
    assert "sslmode=disable" in shown and "connect_timeout=5" in shown
    assert_none_in(shown, [*secrets_of("alice", "db.internal.example", 6543), "6543"])
    in_query = make_url("postgresql:///register?host=/run/secret-socket&user=bob&port=5433")
    assert_none_in(safe_url(in_query), ["secret-socket", "bob", "5433"])
    local = make_url("sqlite:////home/ann/.local/share/secposture/register.db")
    assert safe_url(local) == "sqlite:////home/ann/.local/share/secposture/register.db"


@pytest.mark.parametrize(
    "message",
    [
        'connection failed: connection to server at "{host}" (10.1.2.3), port {port} failed: '
        "Connection refused",
        'connection to server on socket "/run/{host}/.s.PGSQL.{port}" failed',
        'FATAL:  password authentication failed for user "{user}"',
        'FATAL:  role "{user}" does not exist',
        'could not translate host name "{host}" to address: Name or service not known',
        "invalid sslpassword {password} for {user}@{host}:{port}",
    ],
)
def test_a_driver_message_loses_the_addresses_and_names_it_holds(message: str) -> None:
    url = make_url("postgresql://svc_reg:pw-9f8e7d@db-7.internal.example:6543/register")
    text = message.format(
        host="db-7.internal.example",
        port=6543,
        user="svc_reg",
        password="pw-9f8e7d",  # pragma: allowlist secret
    )
    cleaned = safe_message(text, url)
    assert_none_in(cleaned, ["db-7.internal", "svc_reg", "pw-9f8e7d", "6543", "10.1.2.3"])


# Each value starts with a letter the rest of the URL and message do not use, so finding it
# means it was shown, not that it happens to spell part of "postgresql".
_VALUE = st.text(
    st.characters(min_codepoint=33, max_codepoint=0x2FF, exclude_characters="\x7fZ"),
    min_size=3,
    max_size=30,
).map(lambda text: "Z" + text)


@given(user=_VALUE, password=_VALUE, host=_VALUE, option=_VALUE)
def test_no_url_value_survives_safe_url(user: str, password: str, host: str, option: str) -> None:
    from sqlalchemy import URL

    url = URL.create(
        "postgresql+psycopg",
        username=user,
        password=password,
        host=host,
        port=5432,
        database="register",
        query={"sslpassword": option, "sslmode": "require"},
    )
    shown = safe_url(url)
    for value in (user, password, host, option):
        assert value not in shown.replace("***", "")
        assert value not in safe_message(f"failed for {value} at {value}", url)
