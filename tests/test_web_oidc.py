"""OIDC sign-in against a tiny OpenID provider run on loopback inside the test (never the
internet): discovery, JWKS, an authorization endpoint that approves whoever the test says, and a
token endpoint that checks the client secret and PKCE and signs ID tokens (joserfc, which
authlib uses). The dashboard must accept only a valid, signed, unexpired token for itself with
its own nonce, from an allowed domain."""

from __future__ import annotations

import base64
import hashlib
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
import uvicorn
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from test_web_helpers import BASE, Dashboard, open_dashboard, post

from secposture.redaction import redact
from secposture.register.models import History
from secposture.web import accounts
from secposture.web.settings import OidcSettings, SettingsError

CLIENT_ID = "secposture-dashboard"
CLIENT_SECRET = "oidc-client-secret-that-must-never-show"
REDIRECT = f"{BASE}/auth/callback"


@dataclass
class Provider:
    """The identity the next sign-in approves, and what to get wrong in its ID token."""

    url: str = ""
    claims: dict[str, Any] = field(default_factory=dict)
    tamper: dict[str, Any] = field(default_factory=dict)
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"}))
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/jwks", self.jwks),
                Route("/authorize", self.authorize),
                Route("/token", self.token, methods=["POST"]),
            ]
        )

    async def discovery(self, request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.url,
                "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token",
                "jwks_uri": f"{self.url}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            }
        )

    async def jwks(self, request: Request) -> Response:
        return JSONResponse({"keys": [self.key.as_dict(private=False)]})

    async def authorize(self, request: Request) -> Response:
        q = request.query_params
        if q.get("client_id") != CLIENT_ID or q.get("redirect_uri") != REDIRECT:
            return Response("unknown client or redirect", status_code=400)
        if q.get("response_type") != "code" or q.get("code_challenge_method") != "S256":
            return Response("code flow with PKCE only", status_code=400)
        code = secrets.token_urlsafe(16)
        self.codes[code] = {
            "nonce": q.get("nonce"),
            "challenge": q.get("code_challenge"),
            "claims": dict(self.claims),
        }
        return RedirectResponse(f"{REDIRECT}?{urlencode({'code': code, 'state': q['state']})}")

    async def token(self, request: Request) -> Response:
        form = await request.form()
        self.token_requests.append({k: str(v) for k, v in form.items()})
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        grant = self.codes.pop(str(form.get("code")), None)
        verifier = str(form.get("code_verifier", ""))
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        if grant is None or digest.rstrip(b"=").decode() != grant["challenge"]:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        now = int(time.time())
        claims = {
            "iss": self.url,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": grant["nonce"],
            **grant["claims"],
            **self.tamper,
        }
        key = self.tamper.pop("_key", None) or self.key
        claims.pop("_key", None)
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)
        return JSONResponse(
            {
                "access_token": "at-" + secrets.token_hex(8),
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": id_token,
            }
        )


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    idp = Provider()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    idp.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(
        uvicorn.Config(idp.app(), log_level="warning", access_log=False, lifespan="off")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the provider did not start"
        time.sleep(0.01)
    yield idp
    server.should_exit = True
    thread.join(10)
    sock.close()


def oidc_settings(provider: Provider, **changes: Any) -> OidcSettings:
    values: dict[str, Any] = {
        "metadata_url": f"{provider.url}/.well-known/openid-configuration",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "allowed_domains": ("example.gov.uk",),
    }
    values.update(changes)
    return OidcSettings(**values)


@pytest.fixture
def dashboard(tmp_path: Path, provider: Provider) -> Iterator[Dashboard]:
    provider.tamper = {}
    provider.claims = {
        "sub": "user-123",
        "email": "Ann.Lee@Example.gov.uk",
        "email_verified": True,
        "name": "Ann Lee",
    }
    yield from open_dashboard(f"sqlite:///{tmp_path / 'r.db'}", oidc=oidc_settings(provider))


def sign_in_with_provider(dashboard: Dashboard, client: Any = None) -> tuple[Any, httpx.Response]:
    """The browser's part: to the provider and back with the code."""
    client = client or dashboard.client()
    start = client.get("/login/oidc?next=/due")
    assert start.status_code == 302, start.text
    to_provider = start.headers["location"]
    query = parse_qs(urlsplit(to_provider).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    approved = httpx.get(to_provider, follow_redirects=False)
    assert approved.status_code in (302, 307), approved.text
    back = approved.headers["location"]
    assert back.startswith(REDIRECT)
    return client, client.get(back[len(BASE) :])


def test_a_first_sign_in_makes_a_viewer_account_and_a_session(dashboard: Dashboard) -> None:
    login = dashboard.client().get("/login").text
    assert 'data-testid="oidc-login"' in login and "single sign-on" in login
    client, response = sign_in_with_provider(dashboard)
    assert response.status_code == 303 and response.headers["location"] == "/due"
    page = client.get("/due")
    assert page.status_code == 200 and "Ann Lee (viewer)" in page.text
    account = dashboard.database.read(
        lambda tx: accounts.Account.of(accounts.get_user(tx, "ann.lee@example.gov.uk"))
    )
    assert (account.auth, account.role) == ("oidc", "viewer")
    created = dashboard.database.read(
        lambda tx: [
            (h.action, h.actor)
            for h in tx.session.scalars(select(History).where(History.entity == "user"))
        ]
    )
    assert created == [("created", "ann.lee@example.gov.uk")]
    # A second sign-in finds the same account by issuer and subject.
    _again_client, again = sign_in_with_provider(dashboard)
    assert again.status_code == 303
    assert len(dashboard.database.read(accounts.list_users)) == 1


def test_the_role_claim_maps_to_a_role_at_every_sign_in(tmp_path: Path, provider: Provider) -> None:
    provider.tamper = {}
    provider.claims = {
        "sub": "u-9",
        "email": "sec@example.gov.uk",
        "email_verified": True,
        "name": "Sec",
        "groups": ["staff", "sec-team"],
    }
    settings = oidc_settings(
        provider, roles_claim="groups", role_map={"sec-team": "security", "arch": "architect"}
    )
    for dashboard in open_dashboard(f"sqlite:///{tmp_path / 'r.db'}", oidc=settings):
        client, response = sign_in_with_provider(dashboard)
        assert response.status_code == 303
        assert client.get("/risks").status_code == 200
        assert "Sec (security)" in client.get("/").text
        provider.claims["groups"] = ["staff"]  # removed from the group at the provider
        client, response = sign_in_with_provider(dashboard)
        assert "Sec (viewer)" in client.get("/").text
        assert client.get("/risks").status_code == 403


def test_an_account_an_admin_added_for_the_email_keeps_its_role(dashboard: Dashboard) -> None:
    dashboard.database.write(
        "admin1",
        lambda tx: accounts.add_user(
            tx,
            accounts.NewUser("ann.lee@example.gov.uk", "architect", email="ann.lee@example.gov.uk"),
        ),
    )
    client, response = sign_in_with_provider(dashboard)
    assert response.status_code == 303
    assert "(architect)" in client.get("/").text


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"email": "eve@evil.example"}, "accounts in evil.example may not sign in here"),
        ({"email": "ann@example.gov.uk.evil.example"}, "may not sign in here"),
        ({"email_verified": False}, "not verified"),
        ({"email": None}, "did not say the account"),
    ],
)
def test_identities_outside_the_allowed_domains_are_refused(
    dashboard: Dashboard, provider: Provider, claims: dict[str, Any], reason: str
) -> None:
    provider.claims.update(claims)
    client, response = sign_in_with_provider(dashboard)
    assert response.status_code == 403 and reason in response.text
    assert dashboard.database.read(accounts.list_users) == []
    assert client.get("/").status_code == 303  # not signed in


@pytest.mark.parametrize(
    "tamper",
    [
        {"aud": "some-other-app"},
        {"nonce": "replayed-nonce"},
        {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200},
        {"iss": "https://evil.example"},
        {"_key": RSAKey.generate_key(2048, parameters={"kid": "k1"})},
    ],
    ids=["audience", "nonce", "expired", "issuer", "signature"],
)
def test_an_id_token_that_is_not_for_this_sign_in_is_refused(
    dashboard: Dashboard, provider: Provider, tamper: dict[str, Any]
) -> None:
    provider.tamper = dict(tamper)
    client, response = sign_in_with_provider(dashboard)
    assert response.status_code == 403
    assert "Sign-in failed" in response.text and CLIENT_SECRET not in response.text
    assert client.get("/").status_code == 303
    assert dashboard.database.read(accounts.list_users) == []


def test_a_callback_this_browser_did_not_start_is_refused(dashboard: Dashboard) -> None:
    attacker = dashboard.client()
    start = attacker.get("/login/oidc").headers["location"]
    back = httpx.get(start, follow_redirects=False).headers["location"]
    victim = dashboard.client()  # a link to the callback with the attacker's code
    response = victim.get(back[len(BASE) :])
    assert response.status_code == 403
    assert victim.get("/").status_code == 303
    assert dashboard.database.read(accounts.list_users) == []


def test_a_disabled_account_and_a_local_account_are_never_signed_in_by_oidc(
    dashboard: Dashboard, provider: Provider
) -> None:
    client, response = sign_in_with_provider(dashboard)
    assert response.status_code == 303
    dashboard.database.write(
        "admin1", lambda tx: accounts.set_status(tx, "ann.lee@example.gov.uk", active=False)
    )
    assert client.get("/").status_code == 303  # signed out at once
    _client, response = sign_in_with_provider(dashboard)
    assert response.status_code == 403 and "may not sign in here" in response.text

    dashboard.database.write(  # a local account of the same name as another identity's email
        "admin1",
        lambda tx: accounts.add_user(
            tx, accounts.NewUser("bo@example.gov.uk", "admin", password="a long password 9")
        ),
    )
    provider.claims = {
        "sub": "someone-else",
        "email": "bo@example.gov.uk",
        "email_verified": True,
        "name": "Not Bo",
    }
    _client, response = sign_in_with_provider(dashboard)
    assert response.status_code == 403 and "may not sign in here" in response.text


def test_the_client_secret_is_sent_to_the_provider_only(
    dashboard: Dashboard, provider: Provider
) -> None:
    sign_in_with_provider(dashboard)
    admin = dashboard.as_role("admin")
    for path in ("/login", "/users", "/"):
        assert CLIENT_SECRET not in admin.get(path).text
    assert CLIENT_SECRET not in repr(oidc_settings(provider))
    assert all("client_secret" not in r for r in provider.token_requests)  # sent as Basic auth


def test_an_unreachable_provider_gives_a_clear_page(tmp_path: Path) -> None:
    settings = OidcSettings(
        metadata_url="http://127.0.0.1:9/.well-known/openid-configuration",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        allowed_domains=("example.gov.uk",),
    )
    for dashboard in open_dashboard(f"sqlite:///{tmp_path / 'r.db'}", oidc=settings):
        response = dashboard.client().get("/login/oidc")
        assert response.status_code == 502 and "could not be reached" in response.text


def test_oidc_configuration_comes_from_the_environment() -> None:
    env = {
        "SECPOSTURE_OIDC_ISSUER": "https://login.microsoftonline.com/tenant/v2.0/",
        "SECPOSTURE_OIDC_CLIENT_ID": "abc",
        "SECPOSTURE_OIDC_CLIENT_SECRET": "xyz",
        "SECPOSTURE_OIDC_ALLOWED_DOMAINS": "Example.gov.uk, @digital.example.gov.uk",
        "SECPOSTURE_OIDC_ROLES": "sec-team=security, Architects=ARCHITECT",
    }
    settings = OidcSettings.from_env(env)
    assert settings is not None
    assert settings.metadata_url == (
        "https://login.microsoftonline.com/tenant/v2.0/.well-known/openid-configuration"
    )
    assert settings.allowed_domains == ("example.gov.uk", "digital.example.gov.uk")
    assert settings.role_map == {"sec-team": "security", "Architects": "architect"}
    # ADR 0012: a credential this process holds is blanked from errors and logs that quote it.
    env["SECPOSTURE_OIDC_CLIENT_SECRET"] = "oidc-secret-from-the-environment"
    OidcSettings.from_env(env)
    assert redact("the IdP said: oidc-secret-from-the-environment") == "the IdP said: ***"
    assert OidcSettings.from_env({}) is None
    broken = [
        ({**env, "SECPOSTURE_OIDC_CLIENT_SECRET": ""}, "CLIENT_SECRET is required"),
        ({**env, "SECPOSTURE_OIDC_ALLOWED_DOMAINS": ""}, "ALLOWED_DOMAINS is required"),
        ({**env, "SECPOSTURE_OIDC_ISSUER": "http://idp.example"}, "must use https"),
        ({**env, "SECPOSTURE_OIDC_ROLES": "x=root"}, "not CLAIM-VALUE=ROLE"),
        ({k: v for k, v in env.items() if k != "SECPOSTURE_OIDC_ISSUER"}, "ISSUER"),
    ]
    for values, message in broken:
        with pytest.raises(SettingsError, match=message):
            OidcSettings.from_env(values)


def test_signing_out_after_oidc(dashboard: Dashboard) -> None:
    client, _ = sign_in_with_provider(dashboard)
    assert post(client, "/logout").status_code == 303
    assert client.get("/").status_code == 303


# --- binding a sign-in to an account (ADR 0013) -------------------------------------------------


def provision(dashboard: Dashboard, email: str, role: str) -> None:
    """An account an admin made for someone who will sign in through the provider."""
    new = accounts.NewUser(email, role, email=email)  # no password: OIDC only
    dashboard.database.write("admin1", lambda tx: accounts.add_user(tx, new))


def identity_of(dashboard: Dashboard, username: str) -> tuple[str | None, str | None]:
    def read(tx: Any) -> tuple[str | None, str | None]:
        user = accounts.get_user(tx, username)
        return user.oidc_issuer, user.oidc_subject

    return dashboard.database.read(read)


@pytest.mark.parametrize("verified", [None, "yes", 1], ids=["unstated", "a-string", "a-number"])
def test_an_account_made_for_an_email_is_linked_only_when_the_provider_verified_it(
    dashboard: Dashboard, provider: Provider, verified: Any
) -> None:
    provision(dashboard, "ann.lee@example.gov.uk", "architect")
    provider.claims.pop("email_verified")
    if verified is not None:
        provider.claims["email_verified"] = verified
    client, response = sign_in_with_provider(dashboard)
    assert response.status_code == 403
    assert "did not confirm" in response.text and "ask an admin" in response.text
    assert client.get("/").status_code == 303  # not signed in
    assert identity_of(dashboard, "ann.lee@example.gov.uk") == (None, None)  # still unbound
    assert len(dashboard.database.read(accounts.list_users)) == 1  # and no other account made

    provider.claims["email_verified"] = True
    client, response = sign_in_with_provider(dashboard)
    assert response.status_code == 303 and "(architect)" in client.get("/").text
    assert identity_of(dashboard, "ann.lee@example.gov.uk") == (provider.url, "user-123")


def test_a_new_identity_without_a_verified_email_gets_no_account_named_after_it(
    dashboard: Dashboard, provider: Provider
) -> None:
    provider.claims.pop("email_verified")
    _client, response = sign_in_with_provider(dashboard)
    assert response.status_code == 403 and "did not confirm" in response.text
    assert dashboard.database.read(accounts.list_users) == []


def test_later_sign_ins_match_the_issuer_and_subject_never_a_changed_email(
    dashboard: Dashboard, provider: Provider
) -> None:
    _client, first = sign_in_with_provider(dashboard)  # Ann, verified: bound to user-123
    assert first.status_code == 303
    provision(dashboard, "bo@example.gov.uk", "admin")
    # The provider now says user-123's email is Bo's, verified or not: still Ann's account.
    for verified in (True, None):
        provider.claims.update(email="bo@example.gov.uk", name="Bo?")
        if verified is None:
            provider.claims.pop("email_verified", None)
        else:
            provider.claims["email_verified"] = verified
        client, response = sign_in_with_provider(dashboard)
        assert response.status_code == 303
        page = client.get("/").text
        assert "Ann Lee (viewer)" in page and "(admin)" not in page
    assert identity_of(dashboard, "bo@example.gov.uk") == (None, None)
    # Another subject with Ann's (verified) email never takes over Ann's account.
    provider.claims = {"sub": "user-999", "email": "ann.lee@example.gov.uk", "name": "Not Ann"}
    provider.claims["email_verified"] = True
    _client, response = sign_in_with_provider(dashboard)
    assert response.status_code == 403 and "may not sign in here" in response.text


def test_the_same_subject_at_another_issuer_is_another_identity(dashboard: Dashboard) -> None:
    def first(tx: Any) -> int:
        made = accounts.oidc_user(
            tx,
            issuer="https://idp-one.example",
            subject="42",
            email="ann@example.gov.uk",
            email_verified=True,
            display_name="Ann",
            mapped_role=None,
        )
        assert made is not None
        tx.session.flush()
        return made.id

    ann = dashboard.database.write("ann@example.gov.uk", first)

    def other_issuer(tx: Any) -> Any:
        return accounts.oidc_user(
            tx,
            issuer="https://idp-two.example",
            subject="42",
            email="ann@example.gov.uk",
            email_verified=True,
            display_name="Ann?",
            mapped_role=None,
        )

    assert dashboard.database.write("someone", other_issuer) is None  # Ann's: bound elsewhere
    ids = dashboard.database.read(lambda tx: [u.id for u in accounts.list_users(tx)])
    assert ids == [ann]
