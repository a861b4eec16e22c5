"""Which channels reach the Security team, from environment variables only (docs/sending-issues.md).

Credentials (an SMTP password, a webhook URL, a GitHub token) live in the environment of the
process that sends, never in the register, a policy file or a page (ADR 0018). Everything is
checked before anything is sent, and an error names the variable, never its value.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from email.utils import getaddresses
from urllib.parse import urlsplit

from secposture.errors import SecpostureError
from secposture.redaction import register
from secposture.register.delivery.interface import Channel

ENV_SECURITY_EMAIL = "SECPOSTURE_SECURITY_EMAIL"
ENV_SMTP_HOST = "SECPOSTURE_SMTP_HOST"
ENV_SMTP_PORT = "SECPOSTURE_SMTP_PORT"
ENV_SMTP_SECURITY = "SECPOSTURE_SMTP_SECURITY"  # starttls | tls
ENV_SMTP_USERNAME = "SECPOSTURE_SMTP_USERNAME"
ENV_SMTP_PASSWORD = "SECPOSTURE_SMTP_PASSWORD"  # noqa: S105  # nosec B105 - a variable's name
ENV_SMTP_FROM = "SECPOSTURE_SMTP_FROM"
ENV_SMTP_CA_FILE = "SECPOSTURE_SMTP_CA_FILE"
ENV_SLACK_WEBHOOK = "SECPOSTURE_SLACK_WEBHOOK_URL"
ENV_TEAMS_WEBHOOK = "SECPOSTURE_TEAMS_WEBHOOK_URL"
ENV_GITHUB_REPO = "SECPOSTURE_SECURITY_GITHUB_REPO"
ENV_TIMEOUT = "SECPOSTURE_SEND_TIMEOUT"

CHANNELS = ("email", "slack", "teams", "github")
STARTTLS, IMPLICIT_TLS = "starttls", "tls"
DEFAULT_PORTS = {STARTTLS: 587, IMPLICIT_TLS: 465}
DEFAULT_TIMEOUT_S = 30.0
MAX_TIMEOUT_S = 300.0
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_REPO = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}")
_HOST = re.compile(r"[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]+\]")
# Path segments and query values this long in a webhook URL are its secret (Slack's token, a
# Teams workflow's sig); shorter ones are words like "services" or "api-version".
_SECRET_PART_CHARS = 16


class ChannelConfigError(SecpostureError):
    """The environment does not describe a usable channel; names the variable, not its value."""


def configured(env: Mapping[str, str] | None = None) -> list[str]:
    """The channels the environment configures, in CHANNELS order (nothing checked yet)."""
    env = os.environ if env is None else env
    wanted = {
        "email": env.get(ENV_SMTP_HOST, "").strip(),
        "slack": env.get(ENV_SLACK_WEBHOOK, "").strip(),
        "teams": env.get(ENV_TEAMS_WEBHOOK, "").strip(),
        "github": env.get(ENV_GITHUB_REPO, "").strip(),
    }
    return [name for name in CHANNELS if wanted[name]]


def channels_from_env(
    names: Sequence[str] = (), env: Mapping[str, str] | None = None
) -> list[Channel]:
    """The channels to send through: `names` (each must be configured), else every configured
    one. Raises ChannelConfigError before anything is sent if one is unusable."""
    env = os.environ if env is None else env
    available = configured(env)
    chosen = list(dict.fromkeys(n.strip().lower() for n in names)) or available
    if not chosen:
        raise ChannelConfigError(
            "no channel to the Security team is configured: set "
            f"{ENV_SMTP_HOST} (email), {ENV_SLACK_WEBHOOK}, {ENV_TEAMS_WEBHOOK} or "
            f"{ENV_GITHUB_REPO} (see docs/sending-issues.md)"
        )
    timeout = _timeout(env)
    built: list[Channel] = []
    for name in chosen:
        if name not in CHANNELS:
            raise ChannelConfigError(f"unknown channel {name[:40]!r}: one of {', '.join(CHANNELS)}")
        if name not in available:
            raise ChannelConfigError(f"channel {name} is not configured (docs/sending-issues.md)")
        built.append(_build(name, env, timeout))
    return built


def _build(name: str, env: Mapping[str, str], timeout: float) -> Channel:
    if name == "email":
        from secposture.register.delivery.email import EmailChannel

        return EmailChannel(email_settings(env, timeout))
    if name in ("slack", "teams"):
        from secposture.register.delivery.chat import ChatChannel

        variable = ENV_SLACK_WEBHOOK if name == "slack" else ENV_TEAMS_WEBHOOK
        return ChatChannel(name, webhook_url(variable, env[variable]), timeout=timeout)
    from secposture.register.delivery.github_issue import GitHubIssueChannel

    return GitHubIssueChannel(github_repository(env[ENV_GITHUB_REPO]), env=env, timeout=timeout)


class EmailSettings:
    """Where and how to send email; `password` is registered for redaction when read."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        security: str,
        to: list[str],
        to_header: str,
        sender: str,
        username: str | None,
        password: str | None,
        ca_file: str | None,
        timeout: float,
    ) -> None:
        self.host = host
        self.port = port
        self.security = security
        self.to = to
        self.to_header = to_header  # as configured, names included
        self.sender = sender
        self.username = username
        self._password = password
        self.ca_file = ca_file
        self.timeout = timeout

    def password(self) -> str | None:
        """The SMTP password, for smtplib's login (and nothing else)."""
        return self._password

    def __repr__(self) -> str:
        return f"EmailSettings({self.host}:{self.port}, {self.security}, to={self.to})"


def email_settings(env: Mapping[str, str], timeout: float = DEFAULT_TIMEOUT_S) -> EmailSettings:
    host = env.get(ENV_SMTP_HOST, "").strip()
    if not _HOST.fullmatch(host):
        raise ChannelConfigError(f"{ENV_SMTP_HOST}: not a host name or address")
    security = env.get(ENV_SMTP_SECURITY, "").strip().lower() or (
        IMPLICIT_TLS if env.get(ENV_SMTP_PORT, "").strip() == "465" else STARTTLS
    )
    if security not in DEFAULT_PORTS:
        raise ChannelConfigError(
            f"{ENV_SMTP_SECURITY}: {STARTTLS} or {IMPLICIT_TLS} (plain SMTP is never used: the "
            "report and the password would cross the network readable)"
        )
    port_text = env.get(ENV_SMTP_PORT, "").strip()
    if not port_text:
        port = DEFAULT_PORTS[security]
    elif port_text.isdigit() and 0 < int(port_text) < 65536:
        port = int(port_text)
    else:
        raise ChannelConfigError(f"{ENV_SMTP_PORT}: a port number (1-65535)")
    to = addresses(ENV_SECURITY_EMAIL, env.get(ENV_SECURITY_EMAIL, ""))
    if not to:
        raise ChannelConfigError(f"{ENV_SECURITY_EMAIL}: the Security team's address is not set")
    senders = addresses(ENV_SMTP_FROM, env.get(ENV_SMTP_FROM, ""))
    if len(senders) > 1:
        raise ChannelConfigError(f"{ENV_SMTP_FROM}: one address")
    username = env.get(ENV_SMTP_USERNAME, "").strip() or None
    password = env.get(ENV_SMTP_PASSWORD) or None
    if (username is None) != (password is None):
        raise ChannelConfigError(
            f"{ENV_SMTP_USERNAME} and {ENV_SMTP_PASSWORD} go together: set both, or neither "
            "for a relay that needs no login"
        )
    if password is not None:
        register(password)
    if senders:
        sender = senders[0]
    elif username is not None and "@" in username:
        sender = username
    else:
        raise ChannelConfigError(f"{ENV_SMTP_FROM}: the sender's address is not set")
    ca_file = env.get(ENV_SMTP_CA_FILE, "").strip() or None
    if ca_file is not None and not os.path.isfile(ca_file):
        raise ChannelConfigError(f"{ENV_SMTP_CA_FILE}: no such file")
    return EmailSettings(
        host=host,
        port=port,
        security=security,
        to=to,
        to_header=" ".join(env[ENV_SECURITY_EMAIL].split()),
        sender=sender,
        username=username,
        password=password,
        ca_file=ca_file,
        timeout=timeout,
    )


def addresses(variable: str, value: str) -> list[str]:
    """Comma-separated email addresses; no new line can add a header."""
    if not value.strip():
        return []
    if any(ch in value for ch in "\r\n\0"):
        raise ChannelConfigError(f"{variable}: an address cannot hold a line break")
    found = [address for _name, address in getaddresses([value])]
    if not found or any(
        not a or a.count("@") != 1 or not all(a.split("@")) or " " in a for a in found
    ):
        raise ChannelConfigError(f"{variable}: {value[:80]!r} is not a list of email addresses")
    return found


def webhook_url(variable: str, value: str) -> str:
    """A webhook URL: https (plain http only to this machine); its secret parts registered for
    redaction before anything can print them."""
    url = value.strip()
    register(url)
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - a bad port raises here
    except ValueError:
        raise ChannelConfigError(f"{variable}: not a URL") from None
    for piece in (*parts.path.split("/"), *re.split(r"[&=]", parts.query)):
        if len(piece) >= _SECRET_PART_CHARS:
            register(piece)
    if parts.path:
        register(parts.path + ("?" + parts.query if parts.query else ""))
    if not host or parts.username or parts.password or parts.fragment:
        raise ChannelConfigError(f"{variable}: not an https URL with a host (and no user or #)")
    if parts.scheme != "https" and not (parts.scheme == "http" and host in LOOPBACK_HOSTS):
        raise ChannelConfigError(
            f"{variable}: must be https (the URL is a credential and the report is confidential)"
        )
    return url


def github_repository(value: str) -> str:
    repo = value.strip()
    if not _REPO.fullmatch(repo) or repo.endswith((".git", "/.", "/..")):
        raise ChannelConfigError(f"{ENV_GITHUB_REPO}: owner/name of the Security team's repository")
    return repo


def _timeout(env: Mapping[str, str]) -> float:
    text = env.get(ENV_TIMEOUT, "").strip()
    if not text:
        return DEFAULT_TIMEOUT_S
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= MAX_TIMEOUT_S:
        raise ChannelConfigError(
            f"{ENV_TIMEOUT}: seconds, more than 0 and at most {MAX_TIMEOUT_S:g}"
        )
    return seconds
