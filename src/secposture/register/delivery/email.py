"""The email channel: the report `issue show --format email` prints, delivered over SMTP with
STARTTLS or implicit TLS (never in clear), logged in with credentials from the environment.

The server's certificate is verified against the system's CAs (or $SECPOSTURE_SMTP_CA_FILE for
a private CA). A server that does not offer STARTTLS is refused before the password or the
report is sent. The delivery's reference is the Message-ID made here, so a later update threads
under it (In-Reply-To)."""

from __future__ import annotations

import smtplib
import ssl
from email.utils import make_msgid

from secposture.register.delivery.config import IMPLICIT_TLS, EmailSettings
from secposture.register.delivery.interface import (
    AUTHENTICATION,
    REFUSED,
    TIMEOUT,
    TLS,
    DeliveryError,
    DeliveryResult,
    Outgoing,
    network_failure,
)
from secposture.reports import issue_report

NAME = "email"
# An SMTP reply is short; a longer one is cut before it reaches the history.
MAX_REPLY_CHARS = 200


class EmailChannel:
    def __init__(self, settings: EmailSettings) -> None:
        self._settings = settings

    @property
    def name(self) -> str:
        return NAME

    @property
    def destination(self) -> str:
        return ", ".join(self._settings.to)

    def send(self, outgoing: Outgoing) -> DeliveryResult:
        settings = self._settings
        domain = settings.sender.rpartition("@")[2] or None
        message_id = make_msgid(domain=domain)
        previous = outgoing.previous
        prefix = "" if previous is None else ("Update: " if outgoing.is_update else "Again: ")
        message = issue_report.email_message(
            outgoing.issue,
            to=settings.to_header,
            sender=settings.sender,
            at=outgoing.at,
            timezone=outgoing.timezone,
            message_id=message_id,
            replying_to=previous.reference if previous is not None else None,
            preface=outgoing.preface(),
            subject_prefix=prefix,
        )
        data = message.as_bytes()  # CRLF line ends: the SMTP policy
        eight_bit = not data.isascii()
        reply = self._deliver(data, eight_bit)
        return DeliveryResult(
            NAME, self.destination, reference=message_id, detail=reply[:MAX_REPLY_CHARS]
        )

    def _deliver(self, data: bytes, eight_bit: bool) -> str:
        settings = self._settings
        where = f"{settings.host}:{settings.port}"
        context = ssl.create_default_context(cafile=settings.ca_file)
        try:
            client: smtplib.SMTP
            if settings.security == IMPLICIT_TLS:
                client = smtplib.SMTP_SSL(
                    settings.host, settings.port, timeout=settings.timeout, context=context
                )
            else:
                client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
            with client:
                client.ehlo()
                if settings.security != IMPLICIT_TLS:
                    if not client.has_extn("starttls"):
                        raise DeliveryError(
                            NAME,
                            TLS,
                            f"{where} does not offer STARTTLS: nothing was sent in clear",
                        )
                    client.starttls(context=context)
                    client.ehlo()
                password = settings.password()
                if settings.username is not None and password is not None:
                    client.login(settings.username, password)
                options = ["BODY=8BITMIME"] if eight_bit and client.has_extn("8bitmime") else []
                code, answer = client.mail(settings.sender, options)
                if code != 250:
                    raise DeliveryError(NAME, REFUSED, f"sender refused: {code} {_text(answer)}")
                for address in settings.to:
                    code, answer = client.rcpt(address)
                    if code not in (250, 251):
                        raise DeliveryError(
                            NAME, REFUSED, f"recipient {address} refused: {code} {_text(answer)}"
                        )
                code, answer = client.data(data)
                if code != 250:
                    raise DeliveryError(NAME, REFUSED, f"message refused: {code} {_text(answer)}")
                return f"{code} {_text(answer)}"
        except DeliveryError:
            raise
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(
                NAME,
                AUTHENTICATION,
                f"{where} refused the login of {settings.username}: {exc.smtp_code} "
                f"{_text(exc.smtp_error)}",
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryError(NAME, AUTHENTICATION, f"{where}: {exc}") from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(
                NAME, REFUSED, f"{where}: {exc.smtp_code} {_text(exc.smtp_error)}"
            ) from None
        except smtplib.SMTPServerDisconnected as exc:
            # smtplib reports a read that timed out as a disconnection: the cause says which.
            failure = network_failure(NAME, exc, where)
            if failure.kind == TIMEOUT:
                raise failure from None
            raise DeliveryError(NAME, REFUSED, f"{where} closed the connection ({exc})") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise network_failure(NAME, exc, where) from None


def _text(answer: bytes | str) -> str:
    text = answer.decode("utf-8", "replace") if isinstance(answer, bytes) else answer
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
