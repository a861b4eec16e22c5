"""What every delivery channel takes and gives (docs/architecture.md: one small interface, one module
per implementation): an `Outgoing` report in, a `DeliveryResult` out, or a `DeliveryError` that
says what failed. A channel holds its own credentials and never puts them in a result or an
error (ADR 0018)."""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from secposture.errors import SecpostureError
from secposture.redaction import redact
from secposture.register.models import SecurityIssue

# What went wrong, as the person sending needs to know it: where to look next.
CONFIGURATION = "configuration"
DNS = "DNS"
CONNECTION = "connection refused"
TLS = "TLS"
AUTHENTICATION = "authentication"
TIMEOUT = "timeout"
HTTP_STATUS = "HTTP status"
REFUSED = "refused by the server"
NETWORK = "network"


class DeliveryError(SecpostureError):
    """A send that did not deliver: `kind` says what failed; the message never holds a
    credential (it is redacted on the way in, whatever the caller passed)."""

    def __init__(self, channel: str, kind: str, detail: str) -> None:
        self.channel = channel
        self.kind = kind
        self.detail = redact(" ".join(detail.split()))[:500]
        super().__init__(f"{channel}: not sent ({kind}): {self.detail}")


@dataclass(frozen=True)
class Previous:
    """The last confirmed delivery of this issue over this channel."""

    sent_at: datetime
    issue_version: int
    reference: str | None
    url: str | None
    destination: str


@dataclass(frozen=True)
class Outgoing:
    """One issue to send: the record as read in one transaction, whether this is an update, and
    who is sending it. `previous` is the last delivery over the same channel, if any;
    `changed` the fields edited since then."""

    issue: SecurityIssue
    sender: str
    at: datetime
    timezone: str
    previous: Previous | None = None
    changed: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_update(self) -> bool:
        return self.previous is not None and self.previous.issue_version != self.issue.version

    @property
    def again(self) -> bool:
        """Sent before, with nothing edited since."""
        return self.previous is not None and not self.is_update

    def preface(self) -> str | None:
        """The line an update (or a repeat) starts with, saying what changed since."""
        if self.previous is None:
            return None
        when = f"{self.previous.sent_at:%Y-%m-%d %H:%M} UTC"
        if not self.is_update:
            return f"Sent again: nothing changed since it was sent on {when}."
        fields = ", ".join(name.replace("_", " ") for name in self.changed) or "its record"
        return f"Update: changed since it was sent on {when}: {fields}."


@dataclass(frozen=True)
class DeliveryResult:
    """What the channel confirmed: where it went (shown to anyone: no secret path), and the
    message id or URL it returned."""

    channel: str
    destination: str
    reference: str | None = None
    url: str | None = None
    detail: str | None = None


class Channel(Protocol):
    """A configured way to reach the Security team."""

    @property
    def name(self) -> str:
        """The channel's kind: email, slack, teams, github."""

    @property
    def destination(self) -> str:
        """Where it sends, safe to show (an address, a host, a repository)."""

    def send(self, outgoing: Outgoing) -> DeliveryResult:
        """Deliver, or raise DeliveryError; never partially succeed silently."""


def network_failure(channel: str, exc: BaseException, where: str) -> DeliveryError:
    """A socket-level failure named for what it was: DNS, refused, TLS or timeout."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 8:
        chain.append(current)
        current = current.__cause__ or current.__context__
    for item in chain:
        if isinstance(item, socket.gaierror):
            return DeliveryError(channel, DNS, f"cannot resolve {where} ({item.strerror or item})")
    for item in chain:
        if isinstance(item, ConnectionRefusedError):
            return DeliveryError(channel, CONNECTION, f"{where} refused the connection")
    for item in chain:
        if isinstance(item, ssl.SSLCertVerificationError):
            return DeliveryError(
                channel, TLS, f"{where}: certificate not trusted ({item.verify_message})"
            )
        if isinstance(item, ssl.SSLError):
            return DeliveryError(channel, TLS, f"{where}: TLS failed ({item.reason or item})")
    for item in chain:
        if isinstance(item, TimeoutError | socket.timeout):
            return DeliveryError(channel, TIMEOUT, f"{where} did not answer in time")
    return DeliveryError(channel, NETWORK, f"{where}: {type(exc).__name__}: {exc}")
