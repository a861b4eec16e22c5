"""What `secposture serve` runs with: the register, cookie and session rules, and OIDC.

Secrets come from the environment only (never a command-line option, which `ps` shows):
$SECPOSTURE_SESSION_SECRET signs the session cookie (without it a random key is made per
process, so a restart signs everyone out) and $SECPOSTURE_OIDC_CLIENT_SECRET authenticates the
dashboard to the identity provider.

OIDC is on when $SECPOSTURE_OIDC_CLIENT_ID is set:

    SECPOSTURE_OIDC_ISSUER          https://login.microsoftonline.com/TENANT/v2.0 (the metadata
                                    is read from ISSUER/.well-known/openid-configuration)
    SECPOSTURE_OIDC_METADATA_URL    the metadata URL, where it is not under the issuer
    SECPOSTURE_OIDC_CLIENT_ID       the application (client) id
    SECPOSTURE_OIDC_CLIENT_SECRET   its secret (environment only)
    SECPOSTURE_OIDC_ALLOWED_DOMAINS example.gov.uk,digital.example.gov.uk (required: only
                                    people whose email is in one of these domains sign in)
    SECPOSTURE_OIDC_ROLES_CLAIM     the claim holding groups or app roles [default: roles]
    SECPOSTURE_OIDC_ROLES           claim value=role pairs, e.g. "sec-team=security,
                                    architects=architect"; without a match a new account is a
                                    viewer and an existing one keeps the role an admin gave it
    SECPOSTURE_OIDC_NAME            the button's label [default: single sign-on]
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from secposture import redaction
from secposture.errors import SecpostureError

ENV_SESSION_SECRET = "SECPOSTURE_SESSION_SECRET"  # noqa: S105  # nosec B105 - a variable name
ENV_OIDC_PREFIX = "SECPOSTURE_OIDC_"
MIN_SECRET_CHARS = 32

ROLES = ("viewer", "engineer", "architect", "security", "admin")


class SettingsError(SecpostureError):
    """The dashboard's configuration cannot work; the message names the setting."""


@dataclass(frozen=True)
class OidcSettings:
    metadata_url: str
    client_id: str
    client_secret: str = field(repr=False)
    allowed_domains: tuple[str, ...]
    roles_claim: str = "roles"
    role_map: Mapping[str, str] = field(default_factory=dict)
    name: str = "single sign-on"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> OidcSettings | None:
        """OIDC from SECPOSTURE_OIDC_* (None when no client id is set)."""
        values = os.environ if env is None else env

        def get(name: str) -> str:
            return values.get(ENV_OIDC_PREFIX + name, "").strip()

        client_id = get("CLIENT_ID")
        if not client_id:
            return None
        metadata_url = get("METADATA_URL")
        issuer = get("ISSUER")
        if not metadata_url and issuer:
            metadata_url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        if not metadata_url:
            raise SettingsError(
                "SECPOSTURE_OIDC_ISSUER (or SECPOSTURE_OIDC_METADATA_URL) is required with "
                "SECPOSTURE_OIDC_CLIENT_ID"
            )
        if not metadata_url.startswith("https://") and not _loopback_http(metadata_url):
            raise SettingsError("SECPOSTURE_OIDC_ISSUER: the identity provider must use https://")
        client_secret = get("CLIENT_SECRET")
        if not client_secret:
            raise SettingsError("SECPOSTURE_OIDC_CLIENT_SECRET is required with a client id")
        redaction.register(client_secret)  # blanked from any error or log that quotes it
        domains = tuple(
            d.strip().lower().lstrip("@") for d in get("ALLOWED_DOMAINS").split(",") if d.strip()
        )
        if not domains:
            raise SettingsError(
                "SECPOSTURE_OIDC_ALLOWED_DOMAINS is required: the email domains whose people "
                "may sign in (e.g. example.gov.uk)"
            )
        return cls(
            metadata_url=metadata_url,
            client_id=client_id,
            client_secret=client_secret,
            allowed_domains=domains,
            roles_claim=get("ROLES_CLAIM") or "roles",
            role_map=_role_map(get("ROLES")),
            name=get("NAME") or "single sign-on",
        )


def _loopback_http(url: str) -> bool:
    # Plain http only to this machine: a provider in a test or a local development setup.
    return url.startswith(("http://127.0.0.1:", "http://localhost:", "http://[::1]:"))


def _role_map(text: str) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for pair in text.split(","):
        if not pair.strip():
            continue
        value, sep, role = pair.rpartition("=")
        role = role.strip().lower()
        if not sep or not value.strip() or role not in ROLES:
            raise SettingsError(
                f"SECPOSTURE_OIDC_ROLES: {pair.strip()[:60]!r} is not CLAIM-VALUE=ROLE with a role "
                f"of {', '.join(ROLES)}"
            )
        mapping[value.strip()] = role
    return mapping


@dataclass(frozen=True)
class WebSettings:
    """Everything `create_app` needs. `secure_cookies=False` is for plain-http localhost only."""

    database_url: str | None = None
    secure_cookies: bool = True
    session_secret: str = field(default="", repr=False)
    session_lifetime: timedelta = timedelta(hours=8)
    idle_timeout: timedelta = timedelta(hours=1)
    oidc: OidcSettings | None = None
    login_failures_per_account: int = 5
    login_failures_per_client: int = 20
    login_window: timedelta = timedelta(minutes=15)
    # Password checks at once, and how long a sign-in waits for a place before a 503 (ADR 0013):
    # argon2id's default holds 64 MiB per check and already spreads over four lanes.
    password_checks_at_once: int = 2
    password_check_wait: timedelta = timedelta(seconds=3)
    risks_per_page: int = 50
    timezone: str | None = None
    # argon2id parameters for new hashes; None: argon2-cffi's defaults (RFC 9106 low memory).
    # Tests pass cheaper ones; a stored hash always verifies with the parameters it was made with.
    argon2_parameters: Mapping[str, Any] | None = None

    def resolved_secret(self) -> str:
        """The cookie-signing key: given, else $SECPOSTURE_SESSION_SECRET, else a random one."""
        secret = self.session_secret or os.environ.get(ENV_SESSION_SECRET, "")
        if not secret:
            return secrets.token_urlsafe(48)
        if len(secret) < MIN_SECRET_CHARS:
            raise SettingsError(
                f"{ENV_SESSION_SECRET} must be at least {MIN_SECRET_CHARS} characters (e.g. the "
                "output of: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        redaction.register(secret)
        return secret
