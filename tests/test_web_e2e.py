"""The dashboard end to end in a real headless Chromium (Debian's, driven by Playwright): the real
app under uvicorn on loopback over a temporary SQLite register seeded through its Python API.

One browser and one server for the module; each test gets a fresh browser context (its own
cookies). Every test fails if any JavaScript dialog opens: nothing the register holds may run
as script.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from web_server import add_accounts, fixture_files, password_for, scan_files, serve, web_settings

from secposture.model import ScanReport
from secposture.register import issues as issue_api
from secposture.register import records
from secposture.register.database import Database, Tx
from secposture.register.products import add_product
from secposture.register.risks import RiskInput, add_risk
from secposture.web.app import create_app

sync_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = os.environ.get("SECPOSTURE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)

HOSTILE = "<script>alert(1)</script>"
PRODUCT = "Payments"
GOOD_REPO = "acme/payments-api"
WEAK_REPO = "acme/legacy-batch"
SEEDED_ISSUE = "Seeded issue: session fixation in the admin console"
SEEDED_RISK = "Seeded risk: card data held longer than needed"
FAILED_SIGN_IN = "Sign-in failed: check the user name and password."
TIMEOUT_MS = 5_000


@dataclass
class Site:
    base: str
    database: Database
    product_id: int
    issue_id: int
    risk_id: int
    reports: dict[str, ScanReport]

    def today(self) -> date:
        """The register's today (the team's time zone), which the dashboard's defaults use."""
        return self.database.read(lambda tx: tx.today)


@dataclass
class Browsing:
    page: Any  # playwright Page
    dialogs: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)


def _seed(database: Database) -> tuple[int, int, int, dict[str, ScanReport]]:
    def registers(tx: Tx) -> tuple[int, int, int]:
        product = add_product(
            tx,
            PRODUCT,
            owner="Payments team",
            repositories=[GOOD_REPO, WEAK_REPO],
            data_classification="official",
        )
        tx.session.flush()
        issue = issue_api.raise_issue(
            tx,
            issue_api.IssueInput(
                product=PRODUCT,
                reporter="Seeder",
                environment="Production, eu-west-2",
                description=SEEDED_ISSUE,
                business_context="Admins approve refunds.",
                data_at_risk="Card holder names",
                cvss_vector="CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:L/I:L/A:N",
                ticket_link="https://tickets.example.org/SEC-1",
                conversation_links=["https://chat.example.org/archives/C1/p0"],
            ),
        )
        risk = add_risk(
            tx,
            RiskInput(
                title=SEEDED_RISK,
                register="product",
                product=PRODUCT,
                cause="No retention job",
                event="A breach exposes old records",
                effect="Fines and loss of trust",
                owner="Payments lead",
                likelihood_before=3,
                impact_before=4,
                treatment="treat",
            ),
        )
        tx.session.flush()
        return product.id, issue.id, risk.id

    product_id, issue_id, risk_id = database.write("seeder", registers)
    reports = {
        GOOD_REPO: scan_files(
            database,
            GOOD_REPO,
            fixture_files("sa-python-complete", "report-basic", "workflows-hardened"),
        ),
        WEAK_REPO: scan_files(database, WEAK_REPO, fixture_files("workflows-risky")),
        HOSTILE: scan_files(database, HOSTILE, fixture_files("report-basic"), source="folder"),
    }
    return product_id, issue_id, risk_id, reports


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    url = f"sqlite:///{tmp_path_factory.mktemp('web-e2e') / 'register.db'}"
    database = Database.open(url)
    try:
        add_accounts(database, ["viewer", "engineer", "architect", "security"])
        product_id, issue_id, risk_id, reports = _seed(database)
        app = create_app(web_settings(url), database)
        with serve(app) as base:
            yield Site(base, database, product_id, issue_id, risk_id, reports)
    finally:
        database.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    args = ["--no-sandbox"] if os.geteuid() == 0 else []  # Chromium's sandbox refuses root
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        yield chromium
        chromium.close()


def _open(browser: Any) -> tuple[Any, Browsing]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    browsing = Browsing(context.new_page())

    def on_dialog(dialog: Any) -> None:
        browsing.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    browsing.page.on("dialog", on_dialog)
    browsing.page.on(
        "console",
        lambda message: (
            browsing.console_errors.append(message.text) if message.type == "error" else None
        ),
    )
    return context, browsing


@pytest.fixture
def browsing(browser: Any) -> Iterator[Browsing]:
    context, browsing = _open(browser)
    yield browsing
    context.close()
    assert browsing.dialogs == [], "a JavaScript dialog opened: register content ran as script"


def follow(target: Any) -> None:
    """Click a link or submit button (a Locator) and wait for the page it leads to."""
    with target.page.expect_navigation():
        target.click()


def sign_in(page: Any, base: str, username: str, password: str | None = None) -> None:
    page.goto(f"{base}/login")
    page.fill("#login-username", username)
    page.fill("#login-password", password if password is not None else password_for(username))
    follow(page.locator("[data-testid=login-submit]"))


def heatmap_statuses(page: Any) -> dict[str, dict[str, str]]:
    """The estate heatmap as {repository: {control id: status}}, read from the cells' classes
    (s-pass, s-fail, ...) under the column headers' control ids."""
    table: dict[str, dict[str, str]] = page.eval_on_selector(
        "[data-testid=estate-heatmap]",
        """(table) => {
            const ids = [...table.querySelectorAll('thead th')].slice(1)
                .map((th) => th.textContent.trim());
            const out = {};
            for (const row of table.querySelectorAll('tbody tr')) {
                const cells = [...row.querySelectorAll('td')];
                const status = (td) => [...td.classList].find((c) => c.startsWith('s-')) || '';
                out[row.querySelector('th').textContent] = Object.fromEntries(
                    ids.map((id, i) => [id, status(cells[i]).slice(2)]));
            }
            return out;
        }""",
    )
    return table


def test_a_wrong_password_is_refused_with_one_generic_message(
    site: Site, browsing: Browsing
) -> None:
    page = browsing.page
    sign_in(page, site.base, "engineer", "not-the-password-at-all")
    assert page.locator("[data-testid=error]").inner_text() == FAILED_SIGN_IN
    assert page.url.startswith(f"{site.base}/login")
    assert page.locator("[data-testid=signed-in-as]").count() == 0

    # An unknown name gets the same words: the page does not say which names exist.
    sign_in(page, site.base, "nobody-by-this-name", "not-the-password-at-all")
    assert page.locator("[data-testid=error]").inner_text() == FAILED_SIGN_IN

    sign_in(page, site.base, "engineer")
    assert page.url == f"{site.base}/"
    assert page.locator("[data-testid=signed-in-as]").inner_text() == "Engineer Person (engineer)"


def test_the_estate_heatmap_shows_each_recorded_status(site: Site, browsing: Browsing) -> None:
    page = browsing.page
    sign_in(page, site.base, "viewer")
    assert page.locator("[data-testid=estate-count]").inner_text() == "3 of 3 repositories."
    shown = heatmap_statuses(page)

    for repository in (GOOD_REPO, WEAK_REPO):
        recorded = {r.id: r.status.value for r in site.reports[repository].results}
        assert shown[repository] == recorded, repository
    # Two cells whose answer is known from the fixtures, so a wrong seed cannot hide a bug.
    assert shown[GOOD_REPO]["security-policy"] == "pass"  # report-basic has SECURITY.md
    assert shown[WEAK_REPO]["dangerous-workflow"] == "fail"  # workflows-risky

    compliance = page.locator("[data-testid=compliance-table] tr[data-level=required]")
    assert compliance.locator("td").nth(1).inner_text() == "3"  # of three repositories
    assert browsing.console_errors == []  # the page (inline SVG charts too) obeys its CSP

    follow(page.get_by_role("link", name=WEAK_REPO, exact=True))
    row = page.locator("[data-testid=repository-controls] tr[data-control=dangerous-workflow]")
    assert row.get_attribute("data-status") == "fail"
    assert row.locator("[data-testid=remediation]").count() == 1


def test_an_engineer_records_a_threat_model_on_the_product_page(
    site: Site, browsing: Browsing
) -> None:
    page = browsing.page
    sign_in(page, site.base, "engineer")
    page.goto(f"{site.base}/products/{site.product_id}")
    duty = page.locator("[data-testid=duty-threat-model]")
    assert duty.get_attribute("data-status") != "ok"  # never reviewed

    page.get_by_text("Record a threat-model review").click()
    form = page.locator("[data-testid=threat-model-form]")
    form.locator("[name=participants]").fill("Ada Lovelace\nAlan Turing")
    form.locator("[name=method]").fill("STRIDE")
    form.locator("[name=scope]").fill("Card payments API and its admin console")
    form.locator("[name=artefact_link]").fill("https://wiki.example.org/payments/threat-model")
    form.locator("[name=summary]").fill("Two new threats; tickets SEC-7 and SEC-8 raised.")
    follow(form.locator("[data-testid=threat-model-submit]"))

    today = site.today()
    assert page.url == f"{site.base}/products/{site.product_id}"
    assert page.locator("[data-testid=flash]").inner_text() == "Threat-model review recorded."
    row = page.locator("[data-testid=threat-models] tbody tr")
    assert row.count() == 1
    assert row.locator("td").nth(0).inner_text() == today.isoformat()
    assert "Ada Lovelace, Alan Turing" in row.inner_text()
    assert duty.get_attribute("data-status") == "ok"
    assert today.isoformat() in duty.inner_text()
    assert browsing.console_errors == []

    stored = site.database.read(
        lambda tx: [r.to_dict() for r in records.list_records(tx, "threat_model", product=PRODUCT)]
    )
    assert [(r["method"], r["participants"]) for r in stored] == [
        ("STRIDE", ["Ada Lovelace", "Alan Turing"])
    ]


def test_an_engineer_raises_an_issue_and_gets_the_report_to_send(
    site: Site, browsing: Browsing
) -> None:
    page = browsing.page
    sign_in(page, site.base, "engineer")
    follow(page.locator("[data-testid=nav-raise-issue]"))
    six = {
        "cve_ids": "CVE-2024-3094",
        "environment": "Debian 12 build agents, xz-utils 5.6.0",
        # Markup in a field must come back as text in the report, never as a live element.
        "description": "Backdoored xz in the build image\nThe image pins <img src=x onerror=alert(2)>.",
        "business_context": "Every payments release is built on these agents.",
        "conversation_links": "https://chat.example.org/archives/C1/p1\nhttps://chat.example.org/archives/C1/p2",
        "data_at_risk": "Signing keys and card holder data in transit",
    }
    form = page.locator("[data-testid=issue-form]")
    form.locator("[name=product]").select_option(PRODUCT)
    for name, value in six.items():
        form.locator(f"[name={name}]").fill(value)
    form.locator("[name=cvss_vector]").fill("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
    form.locator("[name=ticket_link]").fill("https://tickets.example.org/SEC-42")
    follow(form.locator("[data-testid=issue-submit]"))

    assert page.url.startswith(f"{site.base}/issues/")
    issue_id = int(page.url.rsplit("/", 1)[1])
    assert page.locator("[data-testid=flash]").inner_text().startswith("Issue raised.")
    title = page.locator("[data-testid=issue-title]").inner_text()
    assert title == f"Issue {issue_id}: Backdoored xz in the build image"
    # CVSS 9.8 is critical: patch within 7 days on the MoJ schedule.
    assert page.locator("[data-testid=patch-by]").inner_text() == str(
        site.today() + timedelta(days=7)
    )
    report = page.locator("[data-testid=report-text]").inner_text()
    for name, value in six.items():
        for line in value.splitlines():
            assert line in report, name
    # Browsers send a textarea's line breaks as CRLF: the report must not show them as "\r".
    assert "\\r" not in report and "\r" not in report
    assert page.locator("#report-text img").count() == 0

    download = page.request.get(f"{site.base}/issues/{issue_id}/report.md")
    assert download.status == 200
    assert "CVE-2024-3094" in download.text()
    assert browsing.console_errors == []


def test_a_viewer_sees_neither_issues_nor_risks(
    site: Site, browsing: Browsing, browser: Any
) -> None:
    page = browsing.page
    sign_in(page, site.base, "viewer")
    nav = page.locator("[data-testid=main-nav]")
    for link in ("nav-issues", "nav-risks", "nav-raise-issue"):
        assert nav.locator(f"[data-testid={link}]").count() == 0

    page.goto(f"{site.base}/products/{site.product_id}")
    content = page.content()
    assert SEEDED_ISSUE not in content
    assert SEEDED_RISK not in content

    for path in (
        "/issues",
        f"/issues/{site.issue_id}",
        f"/issues/{site.issue_id}/report.md",
        "/issues/new",
        "/risks",
        f"/risks/{site.risk_id}",
        "/risks/export.csv",
    ):
        response = page.goto(f"{site.base}{path}")
        assert response is not None and response.status == 403, path
        body = page.content()
        assert SEEDED_ISSUE not in body and SEEDED_RISK not in body, path

    # The same pages do show them to an architect: the checks above can fail.
    context, architect = _open(browser)
    try:
        sign_in(architect.page, site.base, "architect")
        architect.page.goto(f"{site.base}/products/{site.product_id}")
        assert (
            architect.page.locator("[data-testid=product-issues]").inner_text().count(SEEDED_ISSUE)
            == 1
        )
        assert SEEDED_RISK in architect.page.locator("[data-testid=product-risks]").inner_text()
    finally:
        context.close()


def test_a_repository_named_like_a_script_is_shown_as_text(site: Site, browsing: Browsing) -> None:
    page = browsing.page
    sign_in(page, site.base, "viewer")
    assert heatmap_statuses(page)[HOSTILE]["security-policy"] == "pass"
    link = page.get_by_role("link", name=HOSTILE, exact=True)
    assert link.count() == 1
    # Only the dashboard's own script element exists: the name became text, not an element.
    assert page.eval_on_selector_all("script", "(s) => s.map((e) => e.src)") == [
        f"{site.base}/static/app.js"
    ]

    follow(link)
    assert page.locator("[data-testid=repository-name]").inner_text() == HOSTILE
    assert page.title() == f"{HOSTILE} · secposture"
    assert page.eval_on_selector_all("script", "(s) => s.length") == 1

    # Typed into the estate's filter, the name comes back in the box and the one row as text.
    page.goto(f"{site.base}/")
    page.fill("#estate-q", HOSTILE)
    follow(page.locator("[data-testid=estate-filter-submit]"))
    assert page.input_value("#estate-q") == HOSTILE
    assert list(heatmap_statuses(page)) == [HOSTILE]
    assert page.eval_on_selector_all("script", "(s) => s.length") == 1


def test_the_content_security_policy_blocks_inline_script(site: Site, browsing: Browsing) -> None:
    page = browsing.page
    inject = """() => new Promise((resolve) => {
        const seen = [];
        document.addEventListener('securitypolicyviolation',
            (e) => seen.push(e.effectiveDirective));
        window.inlineRan = false;
        const script = document.createElement('script');
        script.textContent = 'window.inlineRan = true';
        document.head.appendChild(script);
        setTimeout(() => resolve({ran: window.inlineRan, violations: seen}), 50);
    })"""

    # Where no policy applies, the same injection runs: the check below can fail.
    page.set_content("<p>no policy here</p>")
    assert page.evaluate(inject) == {"ran": True, "violations": []}

    response = page.goto(f"{site.base}/login")
    assert response is not None
    policy = response.headers["content-security-policy"]
    assert "'unsafe-inline'" not in policy
    outcome = page.evaluate(inject)
    assert outcome["ran"] is False
    assert outcome["violations"] == ["script-src-elem"]
    assert any("Content Security Policy" in error for error in browsing.console_errors)

    # An inline event handler in injected markup is refused too.
    page.evaluate(
        """() => { window.handlerRan = false;
        document.body.insertAdjacentHTML('beforeend',
            '<img src="/static/none.png" onerror="window.handlerRan = true">'); }"""
    )
    page.wait_for_timeout(100)
    assert page.evaluate("() => window.handlerRan") is False
