"""Who is signed in, what their role lets them do, and signing in (local or OIDC).

Roles, each with everything the one before it has (ADR 0008):

    viewer     the estate, repositories, products (without issues and risks), what is due
    engineer   + raise security issues (and read the ones they raised), record threat models
    architect  + edit products, record ITHCs and major changes, security issues, risks, waivers
    security   + accept risks
    admin      + accounts

Security issues and risks are visible only to architect, security and admin; the one exception
is an engineer reading an issue they raised themselves (the report they are to send).

Sessions: signing in makes a server-side session (models.WebSession) and a new session cookie
(fresh CSRF token, so a fixed session cannot be carried over). A session ends at sign-out, after
`idle_timeout` without a request (default 1 hour), after `session_lifetime` (default 8 hours),
or when the account is disabled; the account's role is read on every request, so a change of
role applies at once.

OIDC: authlib's Starlette client does the authorization-code flow with PKCE, state and nonce, and
checks the ID token's signature (the provider's JWKS), issuer, audience, expiry and nonce. The
email must be in an allowed domain and never marked unverified. An identity's first sign-in
needs `email_verified: true` (it links to, or makes, the account for that email); later ones
find the account by issuer and subject alone (accounts.oidc_user, ADR 0013).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from secposture.register.database import Database, Tx
from secposture.register.web_accounts import ACTIVE, WebSession
from secposture.web.settings import ROLES, OidcSettings, WebSettings

if TYPE_CHECKING:
    from secposture.web.accounts import Account

# The least role that may do each thing.
CAPABILITIES = {
    "view_estate": "viewer",
    "view_products": "viewer",
    "view_due": "viewer",
    "raise_issue": "engineer",
    "record_threat_model": "engineer",
    "view_issues": "architect",
    "manage_issues": "architect",
    "view_risks": "architect",
    "manage_risks": "architect",
    "view_waivers": "architect",
    "manage_waivers": "architect",
    "edit_products": "architect",
    "record_assurance": "architect",  # ITHCs, pen tests and major changes
    "accept_risks": "security",
    "manage_users": "admin",
}
# A session's last-seen time is written at most this often (not on every request).
TOUCH_EVERY = timedelta(minutes=5)


def rank(role: str) -> int:
    return ROLES.index(role) if role in ROLES else -1


def allowed(role: str, capability: str) -> bool:
    return rank(role) >= rank(CAPABILITIES[capability])


@dataclass(frozen=True)
class SignedIn:
    """The person behind a request."""

    user_id: int
    username: str
    display_name: str
    role: str
    session_id: int

    def can(self, capability: str) -> bool:
        return allowed(self.role, capability)

    @property
    def actor(self) -> str:
        """Who the register's history names for this person's changes."""
        return self.username


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(database: Database, user: Account, via: str, settings: WebSettings) -> str:
    """A new session for `user`; returns the token the cookie carries."""
    token = secrets.token_urlsafe(32)

    def store(tx: Tx) -> None:
        tx.session.add(
            WebSession(
                token_hash=_digest(token),
                user_id=user.id,
                via=via,
                created_at=tx.now,
                last_seen_at=tx.now,
                expires_at=tx.now + settings.session_lifetime,
            )
        )

    database.write(user.username, store)
    return token


def load_session(database: Database, token: Any, settings: WebSettings) -> SignedIn | None:
    """The signed-in user of a session token, or None (unknown, ended, idle, expired, disabled)."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        return None
    digest = _digest(token)

    def look(tx: Tx) -> tuple[SignedIn | None, bool]:
        row = tx.session.scalars(select(WebSession).where(WebSession.token_hash == digest)).first()
        if row is None or not _alive(row, tx.now, settings):
            return None, False
        user = row.user
        signed_in = SignedIn(user.id, user.username, user.display_name, user.role, row.id)
        return signed_in, tx.now - row.last_seen_at > TOUCH_EVERY

    signed_in, stale = database.read(look)
    if signed_in is not None and stale:
        database.write(signed_in.actor, lambda tx: _touch(tx, signed_in.session_id))
    return signed_in


def _alive(row: WebSession, now: datetime, settings: WebSettings) -> bool:
    return (
        row.ended_at is None
        and row.expires_at > now
        and now - row.last_seen_at < settings.idle_timeout
        and row.user.status == ACTIVE
    )


def _touch(tx: Tx, session_id: int) -> None:
    tx.session.execute(
        update(WebSession).where(WebSession.id == session_id).values(last_seen_at=tx.now)
    )


def end_session(database: Database, token: Any) -> None:
    if not isinstance(token, str) or not token:
        return
    digest = _digest(token)

    def end(tx: Tx) -> None:
        tx.session.execute(
            update(WebSession)
            .where(WebSession.token_hash == digest, WebSession.ended_at.is_(None))
            .values(ended_at=tx.now)
        )

    database.write("sign-out", end)


def end_user_sessions(tx: Tx, user_id: int) -> None:
    """Sign a user out everywhere (their account was disabled)."""
    tx.session.execute(
        update(WebSession)
        .where(WebSession.user_id == user_id, WebSession.ended_at.is_(None))
        .values(ended_at=tx.now)
    )


# --- OIDC ---------------------------------------------------------------------------------------


class OidcRefused(Exception):
    """Sign-in through the provider did not give an identity this dashboard accepts. The
    message is safe to show: it never holds a token or secret."""


@dataclass(frozen=True)
class OidcIdentity:
    issuer: str
    subject: str
    email: str
    email_verified: bool  # the ID token's email_verified is JSON true (absent is not)
    name: str
    role: str | None  # from the role claim, when a role map is configured


class OidcClient:
    """The authorization-code flow against one provider (authlib's Starlette integration)."""

    def __init__(self, settings: OidcSettings) -> None:
        from authlib.integrations.starlette_client import OAuth  # type: ignore[import-untyped]

        self.settings = settings
        self._oauth = OAuth()
        self._oauth.register(
            "provider",
            server_metadata_url=settings.metadata_url,
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256"},
        )
        self.client: Any = self._oauth.create_client("provider")

    async def redirect(self, request: Any, redirect_uri: str) -> Any:
        return await self.client.authorize_redirect(request, redirect_uri)

    async def identity(self, request: Any) -> OidcIdentity:
        from authlib.integrations.base_client import OAuthError  # type: ignore[import-untyped]
        from httpx import HTTPError
        from joserfc.errors import JoseError

        try:
            token = await self.client.authorize_access_token(request)
        except OAuthError as exc:
            raise OidcRefused(f"the provider refused the sign-in ({_short(exc.error)})") from None
        except JoseError as exc:
            raise OidcRefused(f"the ID token is not valid ({_short(exc.error)})") from None
        except HTTPError:
            raise OidcRefused("the identity provider could not be reached") from None
        except (KeyError, ValueError, TypeError):
            raise OidcRefused("the provider's answer was not a valid OIDC response") from None
        claims = token.get("userinfo") if isinstance(token, dict) else None
        if not claims:
            raise OidcRefused("the provider sent no ID token")
        return self._identity(dict(claims))

    def _identity(self, claims: dict[str, Any]) -> OidcIdentity:
        email = str(claims.get("email") or "").strip().lower()
        if not email or "@" not in email:
            raise OidcRefused("the provider did not say the account's email address")
        if claims.get("email_verified") is False:
            raise OidcRefused("the account's email address is not verified")
        domain = email.rpartition("@")[2]
        if domain not in self.settings.allowed_domains:
            raise OidcRefused(f"accounts in {domain[:80]} may not sign in here")
        subject = str(claims.get("sub") or "")
        if not subject:
            raise OidcRefused("the ID token has no subject")
        name = " ".join(str(claims.get("name") or email).split())[:200]
        return OidcIdentity(
            str(claims.get("iss", "")),
            subject,
            email,
            claims.get("email_verified") is True,
            name,
            self._role(claims),
        )

    def _role(self, claims: dict[str, Any]) -> str | None:
        mapping = self.settings.role_map
        if not mapping:
            return None
        given = claims.get(self.settings.roles_claim)
        values = given if isinstance(given, list) else [given] if given is not None else []
        roles = [mapping[str(v)] for v in values if str(v) in mapping]
        # With a role map the provider decides: no matching group or role is a viewer.
        return max(roles, key=rank) if roles else ROLES[0]


def _short(text: Any) -> str:
    return " ".join(str(text or "error").split())[:80]
