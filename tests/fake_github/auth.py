"""Who is calling: personal tokens, GitHub App JWTs and the installation tokens they buy.

Tokens are secrets even in a fake: they are kept only as dictionary keys and never appear in a
message, a log record or a repr.
"""

from __future__ import annotations

import hashlib
import secrets
import string
import threading
import time
from dataclasses import dataclass
from typing import Any

import jwt

from .model import stable_id

ACCESS_LEVELS = ("read", "triage", "write", "maintain", "admin")
INSTALLATION_TOKEN_TTL_S = 3600
JWT_MAX_LIFETIME_S = 600
CLOCK_SKEW_S = 60
# What an installation token of a registered App may do, unless the test says otherwise
# (`FakeGitHub(app_permissions=...)`); pushing workflow files needs `workflows: write`.
DEFAULT_APP_PERMISSIONS = {
    "administration": "read",
    "contents": "read",
    "metadata": "read",
    "workflows": "write",
    "vulnerability_alerts": "read",
}


@dataclass(frozen=True)
class Principal:
    """The caller behind a token. `id` is an opaque key for budgets, not the token."""

    id: str
    access: str
    login: str
    user_id: int
    kind: str  # "user" | "installation"
    org_logins: frozenset[str] | None = None  # None = every organisation of the fake
    installation_id: int | None = None
    # A classic personal access token's scopes, sent back in X-OAuth-Scopes (None: not a classic
    # token, or scopes not modelled); whether it may push changes to .github/workflows/.
    oauth_scopes: str | None = None
    workflows: bool = True
    no_alerts: bool = False  # an App installation not granted Dependabot alerts (read)

    @property
    def is_admin(self) -> bool:
        return self.access == "admin"

    @property
    def permission(self) -> str:
        """GraphQL's RepositoryPermission value."""
        return self.access.upper()

    def sees_org(self, login: str) -> bool:
        return self.org_logins is None or login.lower() in self.org_logins

    def rate_limit_subject(self) -> str:
        if self.kind == "installation":
            return f"installation ID {self.installation_id}"
        return f"user ID {self.user_id}"


class AuthError(Exception):
    """A request whose credentials GitHub would refuse; the message is GitHub's."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class InstallationToken:
    app_id: int
    installation_id: int
    org_login: str
    expires_at: float


def bearer(header: str | None) -> str | None:
    """The credential in an Authorization header ("Bearer X" or "token X")."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() not in ("bearer", "token") or not value.strip():
        return None
    return value.strip()


def _opaque(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:16]


class Authenticator:
    def __init__(
        self,
        tokens: dict[str, str],
        apps: dict[int, str],
        scopes: dict[str, str] | None = None,
        app_permissions: dict[int, dict[str, str]] | None = None,
    ) -> None:
        for access in tokens.values():
            if access not in ACCESS_LEVELS:
                raise ValueError(f"token access must be one of {ACCESS_LEVELS}, not {access!r}")
        self._tokens = dict(tokens)
        self._apps = dict(apps)
        self._scopes = dict(scopes or {})  # token -> "repo, workflow" (classic tokens)
        self._app_permissions = dict(app_permissions or {})
        self._installation_tokens: dict[str, InstallationToken] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Authenticator({len(self._tokens)} tokens, apps={sorted(self._apps)})"

    def principal(self, token: str | None) -> Principal:
        """The caller of an API request; AuthError when GitHub would answer 401."""
        if token is None:
            raise AuthError("Requires authentication")
        access = self._tokens.get(token)
        if access is not None:
            index = list(self._tokens).index(token)
            login = f"octo-{access}-{index}"
            scopes = self._scopes.get(token)
            return Principal(
                _opaque(token),
                access,
                login,
                stable_id("user", login),
                "user",
                oauth_scopes=scopes,
                workflows=scopes is None or "workflow" in [s.strip() for s in scopes.split(",")],
            )
        with self._lock:
            installation = self._installation_tokens.get(token)
        if installation is None or installation.expires_at <= time.time():
            raise AuthError("Bad credentials")
        return Principal(
            _opaque(token),
            "admin",
            f"fake-app-{installation.app_id}[bot]",
            stable_id("bot", str(installation.app_id)),
            "installation",
            frozenset({installation.org_login.lower()}),
            installation.installation_id,
            workflows=self.app_permissions(installation.app_id).get("workflows") == "write",
            no_alerts="vulnerability_alerts" not in self.app_permissions(installation.app_id),
        )

    def app_permissions(self, app_id: int) -> dict[str, str]:
        """What the App's installation tokens may do."""
        return dict(self._app_permissions.get(app_id, DEFAULT_APP_PERMISSIONS))

    def app_from_jwt(self, token: str | None) -> int:
        """The app id of a valid app JWT (RS256, `iss` = app id, `exp` at most 10 minutes ahead)."""
        if token is None:
            raise AuthError("A JSON web token could not be decoded")
        try:
            unverified: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise AuthError("A JSON web token could not be decoded") from exc
        issuer = str(unverified.get("iss", ""))
        if not issuer.isdigit():
            raise AuthError("'Issuer' claim ('iss') must be an Integer")
        app_id = int(issuer)
        public_key = self._apps.get(app_id)
        if public_key is None:
            raise AuthError("Integration not found", 404)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                public_key,
                algorithms=["RS256"],
                options={"require": ["exp", "iat", "iss"]},
                leeway=CLOCK_SKEW_S,
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthError(
                "'Expiration time' claim ('exp') must be a numeric value representing the "
                "future time at which the assertion expires"
            ) from exc
        except jwt.PyJWTError as exc:
            raise AuthError("A JSON web token could not be decoded") from exc
        now = time.time()
        if float(claims["exp"]) > now + JWT_MAX_LIFETIME_S + CLOCK_SKEW_S:
            raise AuthError("'Expiration time' claim ('exp') is too far in the future")
        if float(claims["iat"]) > now + CLOCK_SKEW_S:
            raise AuthError(
                "'Issued at' claim ('iat') must be an Integer representing the time that the "
                "assertion was issued"
            )
        return app_id

    @staticmethod
    def installation_id(app_id: int, org_login: str) -> int:
        # Every registered app is installed on every organisation of the fake.
        return stable_id("installation", str(app_id), org_login.lower())

    def issue_installation_token(
        self, app_id: int, installation_id: int, org_login: str
    ) -> tuple[str, float]:
        alphabet = string.ascii_letters + string.digits
        token = "ghs_" + "".join(secrets.choice(alphabet) for _ in range(36))
        expires_at = float(int(time.time()) + INSTALLATION_TOKEN_TTL_S)
        with self._lock:
            self._installation_tokens[token] = InstallationToken(
                app_id, installation_id, org_login, expires_at
            )
        return token, expires_at


def new_app_key() -> tuple[str, str]:
    """A new GitHub App key pair: the private key (PKCS#8 PEM, what GitHub hands an App's owner)
    and its public key (PEM, for `FakeGitHub(apps={APP_ID: public})`)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public.decode()
