"""Who may see and do what: every route of the dashboard against every role (and nobody signed
in), over HTTP, on a SQLite register. test_web_roles_postgres.py runs the same matrix on
PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import func, select
from test_web_helpers import (
    ROLES,
    Dashboard,
    add_user,
    csrf_of,
    open_dashboard,
    record,
    scan_report,
    seed_registers,
)

from secposture.register.models import History
from secposture.web.auth import allowed
from secposture.web.context import Requires

# (method, route path, the capability the route asks for, the capability that decides for the
# seeded records). An issue's page asks for raise_issue, but an engineer reads only issues
# they raised, and the seeded one was raised by an architect.
MATRIX = [
    ("GET", "/", "view_estate", "view_estate"),
    ("GET", "/repository", "view_estate", "view_estate"),
    ("GET", "/products", "view_products", "view_products"),
    ("POST", "/products", "edit_products", "edit_products"),
    ("GET", "/products/{product_id}", "view_products", "view_products"),
    ("POST", "/products/{product_id}", "edit_products", "edit_products"),
    ("POST", "/products/{product_id}/threat-models", "record_threat_model", "record_threat_model"),
    ("POST", "/products/{product_id}/assurances", "record_assurance", "record_assurance"),
    ("POST", "/products/{product_id}/changes", "record_assurance", "record_assurance"),
    ("GET", "/due", "view_due", "view_due"),
    ("GET", "/watch", "view_estate", "view_estate"),
    ("GET", "/issues", "view_issues", "view_issues"),
    ("GET", "/issues/new", "raise_issue", "raise_issue"),
    ("POST", "/issues", "raise_issue", "raise_issue"),
    ("GET", "/issues/{issue_id}", "raise_issue", "view_issues"),
    ("GET", "/issues/{issue_id}/report.md", "raise_issue", "view_issues"),
    ("GET", "/issues/{issue_id}/report.eml", "raise_issue", "view_issues"),
    ("POST", "/issues/{issue_id}/close", "manage_issues", "manage_issues"),
    ("POST", "/issues/{issue_id}/cannot-fix", "manage_issues", "manage_issues"),
    ("POST", "/issues/{issue_id}/send", "manage_issues", "manage_issues"),
    ("GET", "/risks", "view_risks", "view_risks"),
    ("GET", "/risks/export.csv", "view_risks", "view_risks"),
    ("GET", "/risks/new", "manage_risks", "manage_risks"),
    ("POST", "/risks", "manage_risks", "manage_risks"),
    ("GET", "/risks/{risk_id}", "view_risks", "view_risks"),
    ("POST", "/risks/{risk_id}/review", "manage_risks", "manage_risks"),
    ("POST", "/risks/{risk_id}/accept", "accept_risks", "accept_risks"),
    ("POST", "/risks/{risk_id}/close", "manage_risks", "manage_risks"),
    ("POST", "/risks/{risk_id}/actions", "manage_risks", "manage_risks"),
    ("GET", "/waivers", "view_waivers", "view_waivers"),
    ("POST", "/waivers", "manage_waivers", "manage_waivers"),
    ("POST", "/waivers/{waiver_id}/retire", "manage_waivers", "manage_waivers"),
    ("GET", "/users", "manage_users", "manage_users"),
    ("POST", "/users", "manage_users", "manage_users"),
    ("POST", "/users/{user_id}/role", "manage_users", "manage_users"),
    ("POST", "/users/{user_id}/status", "manage_users", "manage_users"),
]
PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("GET", "/login/oidc"),
    ("GET", "/auth/callback"),
    ("POST", "/github/webhook"),  # GitHub's deliveries: their signature, not a session (ADR 0019)
}
QUERIES = {"/repository": "?name=acme/payments"}


def routes_of(app: FastAPI) -> dict[tuple[str, str], str | None]:
    """Every (method, path) the app serves, with the capability its Requires asks for."""
    found: dict[tuple[str, str], str | None] = {}
    for route in _api_routes(app.routes):
        needs = [
            d.call.capability for d in route.dependant.dependencies if isinstance(d.call, Requires)
        ]
        for method in route.methods - {"HEAD"}:
            found[(method, route.path)] = needs[0] if needs else None
    return found


def _api_routes(routes: list[object]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        nested = getattr(route, "original_router", None)  # FastAPI keeps included routers
        if nested is not None:
            yield from _api_routes(nested.routes)


def prepare(dashboard: Dashboard) -> dict[str, int]:
    """Records for every route to find, and a user for the account routes to act on."""
    record(dashboard.database, scan_report("acme/payments", {"security-policy": "fail"}))
    ids = seed_registers(dashboard.database)
    target = add_user(dashboard.database, "target", "viewer")
    return {
        "product_id": ids["product"],
        "issue_id": ids["issue"],
        "risk_id": ids["risk"],
        "waiver_id": ids["waiver"],
        "user_id": target,
    }


def history_count(dashboard: Dashboard) -> int:
    return dashboard.database.read(
        lambda tx: tx.session.scalar(select(func.count()).select_from(History)) or 0
    )


def run_matrix(dashboard: Dashboard, role: str | None, ids: dict[str, int]) -> None:
    """Every route for one role: allowed -> served; not allowed -> 403 and nothing written;
    nobody signed in -> sent to sign in."""
    client = dashboard.as_role(role) if role is not None else dashboard.client()
    token = csrf_of(client.get("/login" if role is None else "/").text)
    problems = []
    for method, path, _asks, decides in MATRIX:
        url = path.format(**ids) + QUERIES.get(path, "")
        before = history_count(dashboard)
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": token})
        status = response.status_code
        if role is None:
            ok = status == 303 and response.headers["location"].startswith("/login")
        elif allowed(role, decides):
            ok = status not in (401, 403, 404, 405) and status < 500
            ok = ok and not response.headers.get("location", "").startswith("/login")
        else:
            ok = status == 403 and history_count(dashboard) == before
        if not ok:
            problems.append(f"{role}: {method} {url} -> {status}")
    assert not problems, "\n".join(problems)


@pytest.fixture
def dashboard(tmp_path: Path) -> Iterator[Dashboard]:
    yield from open_dashboard(f"sqlite:///{tmp_path / 'register.db'}")


def test_the_matrix_names_every_route_and_the_capability_its_code_asks_for(
    dashboard: Dashboard,
) -> None:
    served = routes_of(dashboard.app)
    expected = {(method, path): asks for method, path, asks, _ in MATRIX}
    expected.update(dict.fromkeys(PUBLIC))
    assert served == expected


@pytest.mark.parametrize("role", [None, *ROLES])
def test_each_role_sees_and_does_only_what_it_may(dashboard: Dashboard, role: str | None) -> None:
    ids = prepare(dashboard)
    run_matrix(dashboard, role, ids)


def test_the_roles_add_up_as_the_adr_says() -> None:
    # viewer < engineer < architect < security < admin; issues and risks from architect.
    assert [r for r in ROLES if allowed(r, "view_issues")] == ["architect", "security", "admin"]
    assert [r for r in ROLES if allowed(r, "view_risks")] == ["architect", "security", "admin"]
    assert [r for r in ROLES if allowed(r, "raise_issue")] == [
        "engineer",
        "architect",
        "security",
        "admin",
    ]
    assert [r for r in ROLES if allowed(r, "accept_risks")] == ["security", "admin"]
    assert [r for r in ROLES if allowed(r, "manage_users")] == ["admin"]
