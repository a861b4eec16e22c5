"""The dashboard's defences over HTTP: cookie flags, security headers, CSRF on every form,
escaping of hostile repository content, no inline script or style (so the CSP can forbid them),
no secrets in pages, sessions that really end, and redirects that stay on the site."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from test_web_helpers import (
    Dashboard,
    add_user,
    csrf_of,
    open_dashboard,
    post,
    record,
    scan_report,
    seed_registers,
    sign_in,
)
from test_web_roles import MATRIX, PUBLIC, QUERIES, prepare

from secposture.register.database import Tx
from secposture.register.models import History
from secposture.register.web_accounts import WebSession
from secposture.web.context import CSRF_EXEMPT_PATHS

XSS = "<script>alert(1)</script>"
EVIDENCE = '<img src=x onerror="alert(2)"><b>bold</b>'


@pytest.fixture
def dashboard(tmp_path: Path) -> Iterator[Dashboard]:
    yield from open_dashboard(f"sqlite:///{tmp_path / 'register.db'}")


@pytest.fixture
def plain_http(tmp_path: Path) -> Iterator[Dashboard]:
    """--insecure-cookies: plain http on localhost."""
    for dashboard in open_dashboard(f"sqlite:///{tmp_path / 'plain.db'}", secure_cookies=False):
        dashboard.base_url = "http://localhost:8000"
        yield dashboard


def history_count(dashboard: Dashboard) -> int:
    return dashboard.database.read(
        lambda tx: tx.session.scalar(select(func.count()).select_from(History)) or 0
    )


# --- cookies ----------------------------------------------------------------------------------


def test_the_session_cookie_is_secure_httponly_samesite_lax_and_host_only(
    dashboard: Dashboard,
) -> None:
    add_user(dashboard.database, "ann", "viewer")
    client = dashboard.client()
    response = sign_in(client, "ann")
    cookies = response.headers.get_list("set-cookie")
    assert len(cookies) == 1
    flags = [part.strip().lower() for part in cookies[0].split(";")]
    assert cookies[0].startswith("__Host-secposture=")
    assert "secure" in flags and "httponly" in flags and "samesite=lax" in flags
    assert "path=/" in flags and not any(f.startswith("domain=") for f in flags)
    assert "max-age=28800" in flags  # eight hours at most


def test_insecure_cookies_drop_secure_and_hsts_for_plain_http_development(
    plain_http: Dashboard,
) -> None:
    add_user(plain_http.database, "ann", "viewer")
    client = plain_http.client()
    response = sign_in(client, "ann")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("secposture=") and "secure" not in cookie.lower()
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    page = client.get("/")
    assert page.status_code == 200
    assert "strict-transport-security" not in page.headers


# --- headers --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/login", "/static/style.css", "/no-such-page", "/healthz"])
def test_every_response_carries_the_security_headers(dashboard: Dashboard, path: str) -> None:
    client = dashboard.as_role("viewer")
    response = client.get(path)
    headers = response.headers
    csp = headers["content-security-policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    for directive in (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'none'",
    ):
        assert directive in csp
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert "camera=()" in headers["permissions-policy"]
    assert headers["strict-transport-security"].startswith("max-age=31536000")
    assert "server" not in headers or "uvicorn" not in headers["server"]
    if not path.startswith("/static/"):
        assert headers["cache-control"] == "no-store"


# --- CSRF -----------------------------------------------------------------------------------


def unsafe_routes(ids: dict[str, int]) -> list[str]:
    paths = [path.format(**ids) for method, path, _a, _d in MATRIX if method == "POST"]
    public = (path for method, path in PUBLIC if method == "POST")
    return [*paths, *(path for path in public if path not in CSRF_EXEMPT_PATHS)]


def test_only_githubs_webhook_is_exempt_from_the_csrf_check() -> None:
    # Its deliveries carry an HMAC signature instead (tests/test_watch.py, ADR 0019).
    assert frozenset({"/github/webhook"}) == CSRF_EXEMPT_PATHS


def test_every_form_post_without_the_session_token_is_refused_and_writes_nothing(
    dashboard: Dashboard,
) -> None:
    ids = prepare(dashboard)
    admin = dashboard.as_role("admin")
    other = dashboard.as_role("security")
    foreign = csrf_of(other.get("/").text)  # a valid token, of someone else's session
    before = history_count(dashboard)
    for path in unsafe_routes(ids):
        for data in ({}, {"csrf_token": "forged"}, {"csrf_token": foreign}):
            response = admin.post(path, data={**data, "username": "admin1", "title": "x"})
            assert response.status_code == 403, (path, data, response.status_code)
            assert "The form has expired" in response.text
    assert history_count(dashboard) == before
    assert admin.get("/").status_code == 200  # still signed in: logout was refused too


def test_a_cross_site_post_is_refused_even_with_the_token(dashboard: Dashboard) -> None:
    prepare(dashboard)
    admin = dashboard.as_role("admin")
    token = csrf_of(admin.get("/products").text)
    form = {"csrf_token": token, "name": "Evil", "owner": "x", "data_classification": "official"}
    refused = admin.post("/products", data=form, headers={"Sec-Fetch-Site": "cross-site"})
    assert refused.status_code == 403
    accepted = admin.post("/products", data=form, headers={"Sec-Fetch-Site": "same-origin"})
    assert accepted.status_code == 303


def test_the_csrf_token_is_replaced_when_someone_signs_in(dashboard: Dashboard) -> None:
    add_user(dashboard.database, "ann", "viewer")
    client = dashboard.client()
    before = csrf_of(client.get("/login").text)
    sign_in(client, "ann")
    after = csrf_of(client.get("/").text)
    assert before != after


# --- escaping ---------------------------------------------------------------------------------


def hostile_records(dashboard: Dashboard) -> None:
    from secposture.register import issues, risks
    from secposture.register.products import add_product

    record(
        dashboard.database,
        scan_report(XSS, {"security-policy": "fail", "codeowners": "pass"}, evidence=EVIDENCE),
    )

    def add(tx: Tx) -> None:
        add_product(tx, XSS, owner=EVIDENCE, data_classification="official")
        issues.raise_issue(
            tx,
            issues.IssueInput(
                product=XSS,
                reporter=XSS,
                environment=EVIDENCE,
                description=f"{XSS}\n{EVIDENCE}",
                business_context=XSS,
                data_at_risk=XSS,
                cvss_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
                ticket_link="https://tickets.example/SEC-2?q=<script>",
                conversation_links=["https://chat.example/1"],
            ),
        )
        risks.add_risk(
            tx,
            risks.RiskInput(
                title=XSS,
                register="organisation",
                cause=EVIDENCE,
                event=XSS,
                effect=XSS,
                owner=XSS,
                likelihood_before=2,
                impact_before=2,
                treatment="treat",
            ),
        )

    dashboard.database.write("<b>actor</b>", add)


def test_hostile_names_and_evidence_are_shown_as_text_on_every_page(dashboard: Dashboard) -> None:
    hostile_records(dashboard)
    client = dashboard.as_role("admin")
    pages = [
        "/",
        "/repository?name=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "/products",
        "/products/1",
        "/issues",
        "/issues/1",
        "/risks",
        "/risks/1",
        "/due?within=90",
        "/users",
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.text
        assert XSS not in html, path
        assert "<img src=x" not in html and "<b>bold</b>" not in html, path
        assert "<b>actor</b>" not in html, path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get("/").text
    repository = client.get("/repository?name=%3Cscript%3Ealert(1)%3C%2Fscript%3E").text
    assert "&lt;img src=x onerror=&#34;alert(2)&#34;&gt;&lt;b&gt;bold&lt;/b&gt;" in repository


class InlineCode(HTMLParser):
    """Finds what a CSP without 'unsafe-inline' would block: inline scripts, style elements and
    attributes, event-handler attributes and javascript: links."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.found.append("inline <script>")
        if tag == "style":
            self.found.append("<style>")
        for name, value in attrs:
            if name == "style":
                self.found.append(f"style= on <{tag}>")
            if name.startswith("on"):
                self.found.append(f"{name}= on <{tag}>")
            if name in ("href", "src", "action") and (value or "").lower().startswith(
                "javascript:"
            ):
                self.found.append(f"javascript: {name} on <{tag}>")
            remote = (value or "").startswith(("http://", "https://", "//"))
            if name in ("href", "src") and remote and tag in ("script", "link", "img"):
                self.found.append(f"remote asset {value}")


def test_no_page_has_inline_script_style_or_remote_assets(dashboard: Dashboard) -> None:
    ids = prepare(dashboard)
    hostile_records(dashboard)
    client = dashboard.as_role("admin")
    paths = [path.format(**ids) + QUERIES.get(path, "") for m, path, _a, _d in MATRIX if m == "GET"]
    paths = [p for p in paths if not p.endswith((".csv", ".md", ".eml"))]
    for path in [*paths, "/login"]:
        response = client.get(path) if path != "/login" else dashboard.client().get(path)
        assert response.status_code == 200, path
        parser = InlineCode()
        parser.feed(response.text)
        assert parser.found == [], (path, parser.found)


# --- secrets ----------------------------------------------------------------------------------


def test_no_page_shows_a_password_hash_session_token_or_signing_secret(
    dashboard: Dashboard,
) -> None:
    ids = prepare(dashboard)
    client = dashboard.as_role("admin")
    cookie = next(iter(client.cookies.jar)).value
    token = dashboard.database.read(
        lambda tx: tx.session.scalar(select(WebSession.token_hash).limit(1))
    )
    paths = [path.format(**ids) + QUERIES.get(path, "") for m, path, _a, _d in MATRIX if m == "GET"]
    for path in paths:
        body = client.get(path).text
        assert "$argon2" not in body, path
        assert cookie not in body and token not in body, path
    history = dashboard.database.read(
        lambda tx: [row.after for row in tx.session.scalars(select(History))]
    )
    assert "$argon2" not in repr(history)


# --- sessions ---------------------------------------------------------------------------------


def test_signing_out_ends_the_session_on_the_server(dashboard: Dashboard) -> None:
    add_user(dashboard.database, "ann", "viewer")
    client = dashboard.client()
    sign_in(client, "ann")
    stolen = dict(client.cookies)
    assert post(client, "/logout").status_code == 303
    thief = dashboard.client(cookies=stolen)
    response = thief.get("/")
    assert response.status_code == 303 and response.headers["location"] == "/login"


def test_a_session_cookie_from_before_sign_in_is_not_signed_in_after_it(
    dashboard: Dashboard,
) -> None:
    add_user(dashboard.database, "ann", "viewer")
    victim = dashboard.client()
    victim.get("/login")
    planted = dict(victim.cookies)  # what an attacker could have fixed in the browser
    sign_in(victim, "ann")
    assert dict(victim.cookies) != planted
    attacker = dashboard.client(cookies=planted)
    assert attacker.get("/").status_code == 303


def test_an_idle_or_expired_session_ends(dashboard: Dashboard) -> None:
    client = dashboard.as_role("viewer")
    assert client.get("/").status_code == 200

    def age(tx: Tx, **values: object) -> None:
        tx.session.execute(update(WebSession).values(**values))

    now = dashboard.database.read(lambda tx: tx.now)
    dashboard.database.write("test", lambda tx: age(tx, last_seen_at=now - timedelta(hours=2)))
    assert client.get("/").status_code == 303
    client2 = dashboard.client()
    sign_in(client2, "viewer1")
    dashboard.database.write("test", lambda tx: age(tx, expires_at=now - timedelta(seconds=1)))
    assert client2.get("/").status_code == 303


def test_a_disabled_account_is_signed_out_at_once_and_cannot_sign_in(
    dashboard: Dashboard,
) -> None:
    viewer = dashboard.as_role("viewer")
    admin = dashboard.as_role("admin")
    viewer_id = dashboard.user_ids["viewer1"]
    response = post(admin, f"/users/{viewer_id}/status", {"status": "disabled"}, page="/users")
    assert response.status_code == 303
    assert viewer.get("/").status_code == 303
    failed = sign_in(dashboard.client(), "viewer1")
    assert failed.status_code == 401


def test_a_changed_role_applies_to_the_next_request(dashboard: Dashboard) -> None:
    viewer = dashboard.as_role("viewer")
    admin = dashboard.as_role("admin")
    assert viewer.get("/risks").status_code == 403
    user_id = dashboard.user_ids["viewer1"]
    post(admin, f"/users/{user_id}/role", {"role": "architect"}, page="/users")
    assert viewer.get("/risks").status_code == 200


# --- sign-in ----------------------------------------------------------------------------------


def test_sign_in_failures_all_say_the_same_thing(dashboard: Dashboard) -> None:
    add_user(dashboard.database, "ann", "viewer")
    add_user(dashboard.database, "gone", "viewer")
    dashboard.database.write(
        "setup",
        lambda tx: __import__("secposture.web.accounts", fromlist=["x"]).set_status(
            tx, "gone", active=False
        ),
    )
    messages: set[str] = set()
    for username, password in [
        ("ann", "wrong password here"),
        ("nobody", "correct horse battery staple"),
        ("gone", "correct horse battery staple"),
        ("", ""),
        ("x" * 5000, "y"),
    ]:
        response = sign_in(
            dashboard.client(client=(f"10.0.0.{len(messages) + 1}", 1)), username, password
        )
        assert response.status_code == 401
        messages.add(response.text.split('data-testid="error">')[1].split("<")[0])
    assert messages == {"Sign-in failed: check the user name and password."}


def test_sign_in_is_rate_limited_per_account(dashboard: Dashboard) -> None:
    add_user(dashboard.database, "ann", "viewer")
    for attempt in range(5):
        client = dashboard.client(client=(f"10.1.0.{attempt}", 1000))  # a different address each
        assert sign_in(client, "ann", "not the password").status_code == 401
    blocked = sign_in(dashboard.client(client=("10.1.1.1", 1000)), "ANN")  # the right password
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert "Too many failed sign-ins" in blocked.text
    add_user(dashboard.database, "bo", "viewer")
    assert sign_in(dashboard.client(client=("10.1.0.1", 1000)), "bo").status_code == 303


def test_sign_in_is_rate_limited_per_client_address(dashboard: Dashboard) -> None:
    add_user(dashboard.database, "ann", "viewer")
    attacker = ("192.0.2.7", 4000)
    for attempt in range(20):
        client = dashboard.client(client=attacker)
        assert sign_in(client, f"guess{attempt}", "password123456").status_code == 401
    assert sign_in(dashboard.client(client=attacker), "ann").status_code == 429
    assert sign_in(dashboard.client(client=("192.0.2.8", 4000)), "ann").status_code == 303


def test_the_limit_lifts_when_the_window_has_passed() -> None:
    from secposture.web.security import LoginLimiter, SignInLimited

    limiter = LoginLimiter(per_account=2, per_client=10, window_seconds=60)
    limiter.reserve("ann", "1.2.3.4", now=0)
    limiter.reserve("ann", "1.2.3.5", now=1)
    with pytest.raises(SignInLimited) as limited:
        limiter.reserve("Ann", "9.9.9.9", now=2)
    assert limited.value.retry_after == 59
    limiter.reserve("ann", "9.9.9.9", now=61)


@pytest.mark.parametrize(
    "target",
    ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", "evil"],
)
def test_after_sign_in_only_paths_on_this_site_are_followed(
    dashboard: Dashboard, target: str
) -> None:
    add_user(dashboard.database, "ann", "viewer")
    response = sign_in(dashboard.client(), "ann", next_path=target)
    assert response.status_code == 303 and response.headers["location"] == "/"


def test_sign_in_returns_to_the_page_asked_for(dashboard: Dashboard) -> None:
    add_user(dashboard.database, "ann", "viewer")
    client = dashboard.client()
    first = client.get("/due?within=60")
    assert first.headers["location"] == "/login?next=%2Fdue%3Fwithin%3D60"
    response = sign_in(client, "ann", next_path="/due?within=60")
    assert response.headers["location"] == "/due?within=60"


def test_hostile_input_to_forms_gets_a_page_not_a_traceback(dashboard: Dashboard) -> None:
    seed_registers(dashboard.database)
    admin = dashboard.as_role("admin")
    cases = [
        ("/risks", {"title": "\x00", "likelihood_before": "99", "register": "product"}),
        ("/products/1/assurances", {"findings_high": "-3", "performed_on": "31/12/2026"}),
        ("/products/999999/changes", {"trigger": "data"}),
        ("/issues", {"product": "Payments", "cvss_vector": "AV:N" * 500}),
        ("/risks/1/review", {"version": "not a number"}),
        ("/waivers", {"control": "no-such-control", "expires_on": "2026-02-30"}),
        ("/users", {"username": "../../etc", "role": "god", "password": "x"}),
    ]
    for path, data in cases:
        response = post(admin, path, data)
        assert response.status_code in (400, 404), (path, response.status_code)
        assert "Traceback" not in response.text
        assert response.headers["content-type"].startswith("text/html")
    assert admin.get("/risks/not-a-number").status_code == 400
    assert admin.get("/risks?min_score=zzz&sort=drop%20table&page=-4").status_code == 200
    assert admin.get(f"/repository?name={'a' * 10000}").status_code == 404


def test_a_huge_request_body_is_refused_before_it_is_read(dashboard: Dashboard) -> None:
    client = dashboard.as_role("admin")
    token = csrf_of(client.get("/").text)
    big = {"csrf_token": token, "title": "x" * (3 * 1024 * 1024)}
    response = client.post("/risks", data=big)
    assert response.status_code == 413
    assert response.headers["x-frame-options"] == "DENY"

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield f"csrf_token={token}&title=".encode()
        for _ in range(40):
            yield b"y" * 100_000

    streamed = client.post(
        "/risks",
        content=chunks(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert streamed.status_code == 413
    assert client.get("/risks").status_code == 200
