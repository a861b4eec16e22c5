"""What people do in the dashboard, over HTTP against a SQLite register: read the estate, a
repository and a product, raise an issue and send its report, keep the risk register, waivers
and accounts. Every write is checked in the register's history with the signed-in user."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select
from test_web_helpers import (
    Dashboard,
    add_user,
    open_dashboard,
    post,
    record,
    scan_report,
    seed_registers,
    sign_in,
    today,
)

from secposture.register.database import Tx
from secposture.register.models import History


@pytest.fixture
def dashboard(tmp_path: Path) -> Iterator[Dashboard]:
    yield from open_dashboard(f"sqlite:///{tmp_path / 'register.db'}")


def actors(dashboard: Dashboard, entity: str, entity_id: int) -> list[tuple[str, str]]:
    return dashboard.database.read(
        lambda tx: [
            (row.action, row.actor)
            for row in tx.session.scalars(
                select(History)
                .where(History.entity == entity, History.entity_id == entity_id)
                .order_by(History.id)
            )
        ]
    )


def cells(html: str, testid: str) -> list[list[str]]:
    """The text of each body row of a table (tags stripped)."""
    table = html.split(f'data-testid="{testid}"', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
        ]
        for row in rows
    ]


# --- the estate -----------------------------------------------------------------------------


def test_an_empty_register_says_how_to_record_scans(dashboard: Dashboard) -> None:
    page = dashboard.as_role("viewer").get("/")
    assert page.status_code == 200
    assert 'data-testid="estate-empty"' in page.text and "scan --record" in page.text


def test_the_estate_shows_each_repositorys_newest_scan_compliance_and_trend(
    dashboard: Dashboard,
) -> None:
    db = dashboard.database
    day1 = today(db) - timedelta(days=2)
    day2 = day1 + timedelta(days=1)
    old = {"threat-model": "fail", "security-policy": "fail", "pr-template-security": "fail"}
    record(db, scan_report("acme/api", old, when=f"{day1}T09:00:00+00:00"))
    new = {"threat-model": "pass", "security-policy": "fail", "pr-template-security": "pass"}
    record(db, scan_report("acme/api", new, when=f"{day2}T09:00:00+00:00"))
    record(
        db,
        scan_report(
            "acme/web",
            {
                "threat-model": "partial",
                "security-policy": "pass",
                "pr-template-security": "waived",
            },
            when=f"{day2}T10:00:00+00:00",
        ),
    )
    html = dashboard.as_role("viewer").get("/").text
    heatmap = cells(html, "estate-heatmap")
    # Columns in the catalogue's order: threat-model, pr-template-security, security-policy.
    assert heatmap == [["acme/api", "✓", "✓", "✗"], ["acme/web", "◐", "W", "✓"]]
    assert 'href="/repository?name=acme%2Fapi"' in html
    compliance = {row[0]: row[1:] for row in cells(html, "compliance-table")}
    assert compliance == {
        "required": ["1", "2", "50%"],  # acme/web's threat model is partial
        "recommended": ["2", "2", "100%"],
        "extra": ["1", "2", "50%"],
    }
    trend = cells(html, "trend-table")
    assert [str(day1), "required", "0", "1"] in trend
    assert [str(day2), "required", "1", "2"] in trend
    assert 'data-testid="trend-chart"' in html and "<polyline" in html
    assert "2 of 2 repositories" in html


def test_the_estate_filters_by_name_and_by_failing_required_controls(
    dashboard: Dashboard,
) -> None:
    record(dashboard.database, scan_report("acme/api", {"threat-model": "fail"}))
    record(dashboard.database, scan_report("acme/web", {"threat-model": "pass"}))
    record(dashboard.database, scan_report("other/web", {"security-policy": "fail"}))
    client = dashboard.as_role("viewer")
    by_name = cells(client.get("/?q=WEB").text, "estate-heatmap")
    assert [row[0] for row in by_name] == ["acme/web", "other/web"]
    failing = cells(client.get("/?failing=1").text, "estate-heatmap")
    assert [row[0] for row in failing] == ["acme/api"]


def test_a_repository_page_gives_each_control_with_evidence_and_the_fix(
    dashboard: Dashboard,
) -> None:
    seed_registers(dashboard.database)
    record(
        dashboard.database,
        scan_report(
            "acme/payments",
            {"security-policy": "fail", "codeowners": "pass"},
            evidence="No SECURITY.md",
        ),
    )
    viewer = dashboard.as_role("viewer")
    html = viewer.get("/repository?name=acme/payments").text
    rows = {row[0]: row for row in cells(html, "repository-controls")}
    policy = next(v for k, v in rows.items() if k.endswith("security-policy"))
    assert policy[1] == "extra" and policy[2] == "✗ fail"
    assert "No SECURITY.md" in policy[3] and ".github/settings.yml:3" in policy[3]
    assert "Fix:" in policy[3] and "SECURITY.md" in policy[3]
    codeowners = next(v for k, v in rows.items() if k.endswith("codeowners"))
    assert "Fix:" not in codeowners[3]
    assert '<a href="/products/1">Payments</a>' in html
    assert "repository-waivers" not in html  # waivers are for architects
    architect = dashboard.as_role("architect").get("/repository?name=acme/payments").text
    assert cells(architect, "repository-waivers")[0][0] == "container-scanning"
    assert viewer.get("/repository?name=acme/unknown").status_code == 404


# --- products ---------------------------------------------------------------------------------


def test_a_product_page_shows_due_dates_and_an_engineer_records_a_threat_model(
    dashboard: Dashboard,
) -> None:
    ids = seed_registers(dashboard.database)
    engineer = dashboard.as_role("engineer")
    page = engineer.get(f"/products/{ids['product']}").text
    assert 'data-testid="duty-threat-model" data-status="ok"' in page
    assert 'data-testid="duty-ithc" data-status="overdue"' in page  # never recorded
    assert "product-issues" not in page and "product-risks" not in page  # not for engineers
    assert 'id="assurance-form"' not in page and 'id="threat-model-form"' in page
    held = (today(dashboard.database) - timedelta(days=1)).isoformat()
    response = post(
        engineer,
        f"/products/{ids['product']}/threat-models",
        {
            "held_on": held,
            "participants": "Ann\nBo\n",
            "method": "STRIDE",
            "scope": "Everything",
            "artefact_link": "https://wiki.example/tm2",
            "summary": "Fine",
        },
    )
    assert response.status_code == 303 and response.headers["location"] == "/products/1"
    page = engineer.get("/products/1").text
    assert "Threat-model review recorded." in page and held in page
    assert ("recorded", "engineer1") in actors(dashboard, "threat_model", 2)


def test_a_refused_form_shows_why_keeps_what_was_typed_and_writes_nothing(
    dashboard: Dashboard,
) -> None:
    ids = seed_registers(dashboard.database)
    architect = dashboard.as_role("architect")
    response = post(
        architect,
        f"/products/{ids['product']}/assurances",
        {"supplier": "Pen & Co <ltd>", "scheme": "CHECK", "kind": "ithc", "scope": "API"},
    )
    assert response.status_code == 400
    # The summary names the field by its label and links to it (GOV.UK's error summary).
    link = '<a href="#assurance-report_reference" data-testid="error">Report reference: required'
    assert link in response.text
    assert 'value="Pen &amp; Co &lt;ltd&gt;"' in response.text
    assert "<details open>" in response.text
    assert actors(dashboard, "assurance", 1) == []


def test_an_architect_adds_and_changes_a_product(dashboard: Dashboard) -> None:
    architect = dashboard.as_role("architect")
    added = post(
        architect,
        "/products",
        {
            "name": "Search",
            "owner": "Dee",
            "repositories": "acme/search\nacme/search-infra",
            "data_classification": "official-sensitive",
        },
    )
    assert added.status_code == 303
    product_url = added.headers["location"]
    changed = post(
        architect,
        product_url,
        {"owner": "Eve", "version": "1", "add_repositories": "acme/search-ui"},
        page=product_url,
    )
    assert changed.status_code == 303
    stale = post(architect, product_url, {"owner": "Fay", "version": "1"}, page=product_url)
    assert stale.status_code == 400 and "changed by someone else" in stale.text
    listing = cells(architect.get("/products").text, "products-table")
    assert listing[0][:4] == ["Search", "Eve", "official-sensitive", "3"]
    assert actors(dashboard, "product", 1) == [
        ("created", "architect1"),
        ("updated", "architect1"),
    ]


# --- issues ---------------------------------------------------------------------------------


ISSUE = {
    "product": "Payments",
    "cve_ids": "cve-2024-3094",
    "environment": "Debian 12, xz 5.6.0",
    "description": "Backdoored xz in the build image\r\nDetails follow.",  # as browsers send it
    "business_context": "Every release is built with it",
    "conversation_links": "https://chat.example/sec/1\nhttps://chat.example/sec/2",
    "data_at_risk": "Signing keys",
    "cvss_vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "ticket_link": "https://tickets.example/SEC-9",
}


def test_an_engineer_raises_an_issue_and_gets_the_report_to_send(
    dashboard: Dashboard, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECPOSTURE_SECURITY_EMAIL", "security@example.gov.uk")
    seed_registers(dashboard.database)
    engineer = dashboard.as_role("engineer")
    form = engineer.get("/issues/new").text
    for label in (
        "CVE ids",
        "OS / environment",
        "Description",
        "Business context",
        "Links to recorded conversations",
        "Data that could be compromised",
    ):
        assert label in form
    response = post(engineer, "/issues", ISSUE)
    assert response.status_code == 303
    issue_url = response.headers["location"]
    page = engineer.get(issue_url)
    assert page.status_code == 200
    assert "[CRITICAL] Security issue 2 in Payments: CVE-2024-3094" in page.text
    report = page.text.split('data-testid="report-text">')[1].split("</pre>")[0]
    for section in ("CVE ids", "OS / environment", "Business context", "Signing keys"):
        assert section in report
    assert 'data-testid="patch-by"' in page.text
    eml = engineer.get(issue_url + "/report.eml")
    assert eml.headers["content-type"].startswith("message/rfc822")
    assert "attachment" in eml.headers["content-disposition"]
    assert "To: security@example.gov.uk" in eml.text and "Subject: [CRITICAL]" in eml.text
    markdown = engineer.get(issue_url + "/report.md").text
    assert markdown.startswith("## ") and "https://chat.example/sec/2" in markdown
    assert "\r" not in markdown and "image\nDetails follow." in markdown
    assert actors(dashboard, "issue", 2) == [("raised", "engineer1")]
    # The seeded issue was raised by an architect: not this engineer's to read.
    assert engineer.get("/issues/1").status_code == 403
    assert engineer.get("/issues/1/report.eml").status_code == 403


def test_the_issue_form_says_what_is_wrong_and_keeps_the_text(dashboard: Dashboard) -> None:
    seed_registers(dashboard.database)
    engineer = dashboard.as_role("engineer")
    response = post(engineer, "/issues", {**ISSUE, "cvss_vector": "CVSS:3.1/AV:N"})
    assert response.status_code == 400
    assert "missing base metric" in response.text
    assert "Backdoored xz in the build image" in response.text


def test_an_architect_marks_an_issue_cannot_fix_and_a_linked_risk_is_made(
    dashboard: Dashboard,
) -> None:
    ids = seed_registers(dashboard.database)
    architect = dashboard.as_role("architect")
    listing = architect.get("/issues").text
    assert cells(listing, "issues-table")[0][1] == "XSS in the search page"
    response = post(
        architect,
        f"/issues/{ids['issue']}/cannot-fix",
        {"reason": "Vendor code", "owner": "Ann", "likelihood": "2", "impact": "5"},
    )
    assert response.status_code == 303
    risk_url = response.headers["location"]
    risk = architect.get(risk_url).text
    assert "Cannot fix: XSS in the search page" in risk
    assert 'href="/issues/1"' in risk
    issue = architect.get("/issues/1").text
    assert "cannot fix: Vendor code" in issue
    assert actors(dashboard, "issue", 1)[-1] == ("cannot_fix", "architect1")


def test_an_architect_closes_an_issue(dashboard: Dashboard) -> None:
    ids = seed_registers(dashboard.database)
    architect = dashboard.as_role("architect")
    response = post(
        architect, f"/issues/{ids['issue']}/close", {"resolution": "fixed", "note": "v2"}
    )
    assert response.status_code == 303
    assert "0 issues" in architect.get("/issues").text
    assert "1 issue." in architect.get("/issues?status=fixed").text


# --- risks ----------------------------------------------------------------------------------


def many_risks(dashboard: Dashboard, count: int) -> None:
    from secposture.register import risks
    from secposture.register.products import add_product

    def add(tx: Tx) -> None:
        add_product(tx, "Payments", owner="Ann", data_classification="official")
        for n in range(1, count + 1):
            risks.add_risk(
                tx,
                risks.RiskInput(
                    title=f"Risk number {n:03d}" + (" legacy" if n % 10 == 0 else ""),
                    register="product" if n % 2 else "organisation",
                    product="Payments" if n % 2 else None,
                    cause="c",
                    event="e",
                    effect="f",
                    owner="Ann" if n % 3 else "Bo",
                    likelihood_before=n % 5 + 1,
                    impact_before=(n // 5) % 5 + 1,
                    treatment="treat",
                ),
            )

    dashboard.database.write("architect1", add)


def test_the_risk_register_pages_filters_sorts_and_exports(dashboard: Dashboard) -> None:
    many_risks(dashboard, 120)
    architect = dashboard.as_role("architect")
    first = architect.get("/risks").text
    assert "120 risks" in first and "Page 1 of 3" in first
    assert len(cells(first, "risks-table")) == 50
    last = architect.get("/risks?page=3").text
    assert len(cells(last, "risks-table")) == 20
    assert cells(last, "risks-table")[-1][0] == "120"
    legacy = cells(architect.get("/risks?text=LEGACY").text, "risks-table")
    assert [row[0] for row in legacy] == [str(n) for n in range(10, 121, 10)]
    by_score = cells(architect.get("/risks?sort=score&desc=1&owner=bo").text, "risks-table")
    scores = [int(row[5]) for row in by_score]
    assert scores == sorted(scores, reverse=True) and all(row[3] == "Bo" for row in by_score)
    product_only = architect.get("/risks?product=Payments&min_score=10").text
    assert all(
        row[2] == "Payments" and int(row[5]) >= 10 for row in cells(product_only, "risks-table")
    )
    assert "/risks/export.csv?product=Payments&amp;min_score=10" in product_only
    export = architect.get("/risks/export.csv?product=Payments&min_score=10")
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert rows and all(r["product"] == "Payments" and int(r["score_after"]) >= 10 for r in rows)
    expected = re.search(r'data-testid="risks-count">(\d+) risk', product_only)
    assert expected is not None and len(rows) == int(expected.group(1))
    unknown = architect.get("/risks?product=Nope")
    assert unknown.status_code == 400 and "unknown product" in unknown.text


def test_reviewing_accepting_and_closing_a_risk(dashboard: Dashboard) -> None:
    ids = seed_registers(dashboard.database)
    architect = dashboard.as_role("architect")
    security = dashboard.as_role("security")
    url = f"/risks/{ids['risk']}"
    page = architect.get(url).text
    assert 'id="risk-accept-form"' not in page  # accepting is for security
    reviewed = post(
        architect,
        url + "/review",
        {
            "version": "1",
            "likelihood_after": "2",
            "impact_after": "2",
            "add_actions": "Pin TLS 1.2",
        },
        page=url,
    )
    assert reviewed.status_code == 303
    assert "= 4" in architect.get(url).text and "Pin TLS 1.2" in architect.get(url).text
    stale = post(architect, url + "/review", {"version": "1"}, page=url)
    assert stale.status_code == 409 and "changed by someone else" in stale.text
    expires = (today(dashboard.database) + timedelta(days=180)).isoformat()
    denied = post(architect, url + "/accept", {"version": "2", "expires_on": expires}, page=url)
    assert denied.status_code == 403
    accepted = post(security, url + "/accept", {"version": "2", "expires_on": expires}, page=url)
    assert accepted.status_code == 303
    assert f"until {expires}" in security.get(url).text
    closed = post(
        architect, url + "/close", {"version": "3", "reason": "Partner upgraded"}, page=url
    )
    assert closed.status_code == 303
    assert actors(dashboard, "risk", ids["risk"]) == [
        ("created", "architect1"),
        ("reviewed", "architect1"),
        ("accepted", "security1"),
        ("closed", "architect1"),
    ]
    history = cells(architect.get(url).text, "risk-history")
    assert [row[2] for row in history] == ["architect1", "architect1", "security1", "architect1"]


def test_an_architect_adds_a_risk(dashboard: Dashboard) -> None:
    seed_registers(dashboard.database)
    architect = dashboard.as_role("architect")
    response = post(
        architect,
        "/risks",
        {
            "title": "Shared admin account",
            "register": "organisation",
            "cause": "One login for the console",
            "event": "It leaks",
            "effect": "Anyone can change infrastructure",
            "owner": "Cy",
            "likelihood_before": "4",
            "impact_before": "5",
            "treatment": "treat",
            "actions": "Named accounts\nMFA",
            "issues": "1",
        },
    )
    assert response.status_code == 303
    page = architect.get(response.headers["location"]).text
    assert "= 20" in page and "MFA" in page and 'href="/issues/1"' in page


# --- waivers, due, accounts -------------------------------------------------------------------


def test_waivers_are_added_listed_and_retired(dashboard: Dashboard) -> None:
    seed_registers(dashboard.database)
    architect = dashboard.as_role("architect")
    expires = (today(dashboard.database) + timedelta(days=30)).isoformat()
    added = post(
        architect,
        "/waivers",
        {
            "control": "secrets-pre-commit",
            "product": "Payments",
            "reason": "Moving to a new hook",
            "approver": "Cy",
            "expires_on": expires,
        },
        page="/waivers",
    )
    assert added.status_code == 303
    rows = cells(architect.get("/waivers").text, "waivers-table")
    assert [row[1] for row in rows] == ["secrets-pre-commit", "container-scanning"]
    both = post(
        architect,
        "/waivers",
        {
            "control": "codeowners",
            "product": "Payments",
            "repository": "acme/x",
            "reason": "r",
            "approver": "a",
            "expires_on": expires,
        },
        page="/waivers",
    )
    assert both.status_code == 400 and "not both" in both.text
    retired = post(architect, "/waivers/2/retire", page="/waivers")
    assert retired.status_code == 303
    rows = cells(architect.get("/waivers").text, "waivers-table")
    assert [row[0] for row in rows] == ["1"]
    assert "retired" in architect.get("/waivers?show=all").text
    assert actors(dashboard, "waiver", 2) == [("created", "architect1"), ("retired", "architect1")]


def test_the_due_list_shows_registers_only_to_those_who_may_see_them(
    dashboard: Dashboard,
) -> None:
    seed_registers(dashboard.database)
    viewer = cells(dashboard.as_role("viewer").get("/due?within=60").text, "due-table")
    assert {row[2].split(":")[0] for row in viewer} == {"ithc"}
    architect = dashboard.as_role("architect").get("/due?within=60").text
    kinds = {row[2].split(":")[0] for row in cells(architect, "due-table")}
    # The waiver ends in 45 days, the issue's patch-by date is 28 days out; the risk's first
    # review, three calendar months out (89 to 92 days), is past the 60-day window on every date.
    assert kinds == {"ithc", "waiver", "issue"}
    assert 'href="/issues/1"' in architect and 'href="/products/1"' in architect


def test_an_admin_adds_a_user_who_can_then_sign_in(dashboard: Dashboard) -> None:
    admin = dashboard.as_role("admin")
    mismatch = post(
        admin,
        "/users",
        {
            "username": "gil",
            "role": "engineer",
            "password": "a long password 1",
            "password_again": "x",
        },
        page="/users",
    )
    assert mismatch.status_code == 400 and "differ" in mismatch.text
    assert "a long password 1" not in mismatch.text
    short = post(
        admin,
        "/users",
        {"username": "gil", "role": "engineer", "password": "short", "password_again": "short"},
        page="/users",
    )
    assert short.status_code == 400 and "at least 12" in short.text
    added = post(
        admin,
        "/users",
        {
            "username": "gil",
            "display_name": "Gil Hart",
            "role": "engineer",
            "password": "a long password 1",
            "password_again": "a long password 1",
        },
        page="/users",
    )
    assert added.status_code == 303
    users = cells(admin.get("/users").text, "users-table")
    assert users[1][:3] == ["gil", "Gil Hart", "local"]
    gil = dashboard.client()
    assert sign_in(gil, "gil", "a long password 1").status_code == 303
    assert "Gil Hart (engineer)" in gil.get("/").text
    user_id = dashboard.database.read(
        lambda tx: __import__("secposture.web.accounts", fromlist=["x"]).get_user(tx, "gil").id
    )
    assert actors(dashboard, "user", user_id) == [("created", "admin1")]
    assert admin.get("/users").text.count("admin1") >= 1


def test_an_admin_cannot_lock_themselves_out(dashboard: Dashboard) -> None:
    admin = dashboard.as_role("admin")
    me = dashboard.user_ids["admin1"]
    assert post(admin, f"/users/{me}/status", {"status": "disabled"}).status_code == 400
    assert post(admin, f"/users/{me}/role", {"role": "viewer"}).status_code == 400
    assert admin.get("/users").status_code == 200


def test_health_and_static_assets_need_no_sign_in(dashboard: Dashboard) -> None:
    client = dashboard.client()
    assert client.get("/healthz").text == "ok"
    css = client.get("/static/style.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/../models.py").status_code == 404


def test_signing_in_and_out(dashboard: Dashboard) -> None:
    add_user(dashboard.database, "ann", "viewer")
    client = dashboard.client()
    assert sign_in(client, "ann").status_code == 303
    assert client.get("/login").headers["location"] == "/"  # already signed in
    response = post(client, "/logout")
    assert response.headers["location"] == "/login"
    assert "You have signed out." in client.get("/login").text


def test_the_kept_trend_adds_new_scans_and_recounts_after_a_late_one(
    dashboard: Dashboard,
) -> None:
    from secposture.register.models import ScanResult, ScanRun
    from secposture.web.queries import TrendCache, trend

    db = dashboard.database
    day = today(db) - timedelta(days=3)
    cache = TrendCache()

    def both() -> tuple[list[object], list[object]]:
        return db.read(lambda tx: (cache.points(tx), trend(tx)))

    assert both() == ([], [])
    record(db, scan_report("acme/a", {"threat-model": "fail"}, when=f"{day}T09:00:00+00:00"))
    kept, fresh = both()
    assert kept == fresh and len(kept) == 1
    record(db, scan_report("acme/b", {"threat-model": "pass"}, when=f"{day}T10:00:00+00:00"))
    record(db, scan_report("acme/a", {"threat-model": "pass"}, when=f"{today(db)}T01:00:00+00:00"))
    kept, fresh = both()
    assert kept == fresh and [(p.passing, p.counted) for p in kept] == [(1, 2), (1, 1)]

    # Scan 4 is recorded but scan 5's transaction commits first: the cache sees id 5 as newest;
    # then scan 4 appears below it, and the trend is counted again rather than missing it.
    record(db, scan_report("acme/c", {"threat-model": "pass"}, when=f"{day}T11:00:00+00:00"))
    record(db, scan_report("acme/d", {"threat-model": "fail"}, when=f"{day}T12:00:00+00:00"))
    held = db.read(
        lambda tx: (tx.session.get(ScanRun, 4).to_dict(), tx.session.get(ScanResult, 4).summary)
    )

    def hide(tx: Tx) -> None:
        tx.session.execute(delete(ScanResult).where(ScanResult.scan_id == 4))
        tx.session.execute(delete(ScanRun).where(ScanRun.id == 4))

    db.write("ci", hide)
    kept, fresh = both()
    assert kept == fresh and (kept[0].passing, kept[0].counted) == (1, 3)

    def commit_late(tx: Tx) -> None:
        tx.session.add(
            ScanRun(
                id=4,
                repository="acme/c",
                commit=None,
                source="github",
                scanned_at=datetime.fromisoformat(held[0]["scanned_at"]),
                tool_version="0",
                results=[
                    ScanResult(control="threat-model", status="pass", summary=held[1], evidence=[])
                ],
            )
        )

    db.write("ci", commit_late)
    kept, fresh = both()
    assert kept == fresh and (kept[0].passing, kept[0].counted) == (2, 4)


def test_every_asset_a_page_names_is_served_from_this_site(dashboard: Dashboard) -> None:
    html = dashboard.client().get("/login").text
    assets = re.findall(r'<(?:link|script)[^>]* (?:href|src)="([^"]+)"', html)
    assert sorted(assets) == ["/static/app.js", "/static/favicon.svg", "/static/style.css"]
    for asset in assets:
        assert dashboard.client().get(asset).status_code == 200, asset
