"""Real servers on loopback for the delivery tests: an SMTP server (aiosmtpd) with STARTTLS or
implicit TLS and AUTH, a self-signed certificate made here, and a threaded HTTP receiver for
chat webhooks. Nothing is mocked: the channels talk to these over real sockets."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SMTP_USER = "sender@example.org"
SMTP_PASSWORD = "correct-horse-battery-staple-42"  # nosec B105 - a test's own


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1, and its key (PEM files)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=3650))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@dataclass
class Mailbox:
    """What the SMTP server received."""

    messages: list[Envelope] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 <nobody@example.org>: Recipient address rejected"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.messages.append(envelope)
        return "250 2.0.0 Ok: queued as 4F2A91C0"


def _authenticator(mailbox: Mailbox) -> Any:
    def check(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode()
        mailbox.logins.append(login)
        ok = login == SMTP_USER and auth_data.password.decode() == SMTP_PASSWORD
        return AuthResult(success=ok, handled=False)

    return check


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def smtp_server(
    cert: tuple[Path, Path] | None, *, implicit_tls: bool = False
) -> Iterator[tuple[int, Mailbox]]:
    """An SMTP server on 127.0.0.1: STARTTLS (or implicit TLS) with `cert`, AUTH required once
    encrypted; with no certificate, a server offering neither TLS nor AUTH."""
    mailbox = Mailbox()
    context = None
    if cert is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(cert[0]), str(cert[1]))
    port = free_port()
    options: dict[str, Any] = {}
    if context is not None and implicit_tls:
        options["ssl_context"] = context
    elif context is not None:
        options["tls_context"] = context
        options["require_starttls"] = True
    if context is not None:
        options["authenticator"] = _authenticator(mailbox)
        options["auth_required"] = True
        options["auth_require_tls"] = not implicit_tls
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        server_hostname="localhost",
        ready_timeout=10,
        **options,
    )
    controller.start()
    try:
        yield port, mailbox
    finally:
        controller.stop()


@contextmanager
def silent_listener() -> Iterator[int]:
    """A port that accepts connections and never says a word (a hung server)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: Any


@contextmanager
def webhook_receiver() -> Iterator[tuple[str, list[Received]]]:
    """An HTTP receiver on 127.0.0.1. The path says how it answers: .../ok (200 "ok"),
    .../accepted (202), .../fail (500), .../revoked (403 invalid_token), .../slow (answers after
    3 s), .../moved (302 elsewhere)."""
    received: list[Received] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            raw = self.rfile.read(length)
            received.append(Received(self.path, dict(self.headers), json.loads(raw)))
            if self.path.endswith("/slow"):
                time.sleep(3)
            status, text, extra = {
                "ok": (200, "ok", {}),
                "accepted": (202, "", {}),
                "fail": (500, "server_error: the workflow failed", {}),
                "revoked": (403, "invalid_token", {}),
                "moved": (302, "", {"Location": "http://127.0.0.1:9/elsewhere"}),
                "slow": (200, "ok", {}),
            }.get(self.path.rsplit("/", 1)[-1], (404, "no_service", {}))
            data = text.encode()
            try:
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
