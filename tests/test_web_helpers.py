"""Shared pieces of the dashboard's tests (no tests here): an app over a real register, one
signed-in client per role, forms posted with the page's CSRF token, and register records made
through the register's own API."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
from conftest import fixed_clock

from secposture.model import (
    ControlResult,
    Finding,
    Level,
    Location,
    Outcome,
    ScanReport,
    Status,
    Target,
)
from secposture.register.database import Database, Tx
from secposture.register.scans import record_scan
from secposture.web import accounts
from secposture.web.app import create_app
from secposture.web.settings import ROLES, WebSettings

with warnings.catch_warnings():  # starlette suggests httpx2; httpx is what is installed
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

# Cheap argon2id for tests (a stored hash verifies with its own parameters); one test checks the
# production default separately.
CHEAP = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}
PASSWORD = "correct horse battery staple"
BASE = "https://dashboard.test"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def settings(url: str, **changes: Any) -> WebSettings:
    values: dict[str, Any] = {"database_url": url, "argon2_parameters": CHEAP}
    values.update(changes)
    return WebSettings(**values)


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match is not None, "the page has no form with a CSRF token"
    return match.group(1)


def add_user(database: Database, username: str, role: str, *, password: str = PASSWORD) -> int:
    ph = accounts.hasher_for(CHEAP)
    new = accounts.NewUser(username, role, display_name=username.title(), password=password)
    return database.write("setup", lambda tx: accounts.add_user(tx, new, ph).id)


@dataclass
class Dashboard:
    """The app over one register, with a client per role signed in on demand."""

    database: Database
    app: Any
    base_url: str = BASE
    clients: dict[str, TestClient] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)

    def client(self, **kwargs: Any) -> TestClient:
        client = TestClient(self.app, base_url=self.base_url, follow_redirects=False, **kwargs)
        client.__enter__()
        self._extra.append(client)
        return client

    def __post_init__(self) -> None:
        self._extra: list[TestClient] = []

    def as_role(self, role: str) -> TestClient:
        """A client signed in as `{role}1` (made on first use)."""
        if role not in self.clients:
            username = f"{role}1"
            if username not in self.user_ids:
                self.user_ids[username] = add_user(self.database, username, role)
            client = self.client()
            response = sign_in(client, username)
            assert response.status_code == 303, response.text
            self.clients[role] = client
        return self.clients[role]

    def close(self) -> None:
        for client in self._extra:
            client.__exit__(None, None, None)


def sign_in(
    client: TestClient, username: str, password: str = PASSWORD, next_path: str = "/"
) -> httpx.Response:
    token = csrf_of(client.get("/login").text)
    response: httpx.Response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token, "next": next_path},
    )
    return response


def post(
    client: TestClient, path: str, data: dict[str, Any] | None = None, *, page: str = "/"
) -> httpx.Response:
    """A form post with the CSRF token of the client's session (read from `page`)."""
    token = csrf_of(client.get(page).text)
    response: httpx.Response = client.post(path, data={**(data or {}), "csrf_token": token})
    return response


def open_dashboard(url: str, **changes: Any) -> Iterator[Dashboard]:
    database = Database.open(url, clock=fixed_clock)
    app = create_app(settings(url, **changes), database=database)
    dashboard = Dashboard(database, app)
    try:
        yield dashboard
    finally:
        dashboard.close()
        database.close()


# --- register records, made through the register's API --------------------------------------


def scan_report(
    repository: str,
    statuses: dict[str, str],
    *,
    when: str = "2026-11-01T10:00:00+00:00",
    evidence: str = "evidence",
) -> ScanReport:
    from secposture.web.queries import control

    results = tuple(
        ControlResult(
            id=control_id,
            title=control(control_id).title,
            level=Level(control(control_id).level),
            guidance="",
            status=Status(status),
            summary=f"{control_id} is {status}",
            findings=(
                Finding(
                    "probe",
                    Outcome.POSITIVE if status == "pass" else Outcome.NEGATIVE,
                    evidence,
                    Location(path=".github/settings.yml", line=3),
                ),
            ),
            remediation=None,
        )
        for control_id, status in statuses.items()
    )
    return ScanReport(Target(repository, "github", commit="0" * 40), results, (), when, "0.1.0")


def record(database: Database, report: ScanReport, actor: str = "ci") -> None:
    database.write(actor, lambda tx: record_scan(tx, report))


def seed_registers(database: Database, actor: str = "architect1") -> dict[str, int]:
    """A product with a threat model, an ITHC, an issue, a risk and a waiver."""
    from secposture.register import issues, records, risks, waivers
    from secposture.register.products import add_product

    def seed(tx: Tx) -> dict[str, int]:
        product = add_product(
            tx,
            "Payments",
            owner="Ann Owner",
            repositories=["acme/payments"],
            data_classification="official",
        )
        records.record_threat_model(
            tx,
            "Payments",
            held_on=tx.today - timedelta(days=30),
            participants=["Ann", "Bo"],
            method="STRIDE",
            scope="The payments API",
            artefact_link="https://wiki.example/tm",
            summary="Two threats found",
        )
        issue = issues.raise_issue(
            tx,
            issues.IssueInput(
                product="Payments",
                reporter="Ann",
                environment="Ubuntu 24.04",
                description="XSS in the search page",
                business_context="Public search",
                data_at_risk="Session cookies",
                cvss_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
                ticket_link="https://tickets.example/SEC-1",
                conversation_links=["https://chat.example/1"],
            ),
        )
        risk = risks.add_risk(
            tx,
            risks.RiskInput(
                title="Legacy TLS on the partner link",
                register="product",
                product="Payments",
                cause="Partner only supports TLS 1.1",
                event="Traffic is downgraded",
                effect="Payment data exposed",
                owner="Ann",
                likelihood_before=3,
                impact_before=4,
                treatment="treat",
            ),
        )
        waiver = waivers.add_waiver(
            tx,
            control="container-scanning",
            reason="No images yet",
            approver="Cy",
            expires_on=tx.today + timedelta(days=45),
            repository="acme/payments",
        )
        return {"product": product.id, "issue": issue.id, "risk": risk.id, "waiver": waiver.id}

    return database.write(actor, seed)


def today(database: Database) -> date:
    return database.read(lambda tx: tx.today)


__all__ = ["BASE", "CHEAP", "PASSWORD", "ROLES", "Dashboard", "TestClient"]
