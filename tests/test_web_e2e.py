"""The dashboard end to end in a real headless Chromium (Debian's, driven by Playwright): the real
app under uvicorn on loopback over a temporary SQLite register seeded through its Python API.

One browser and one server for the module; each test gets a fresh browser context (its own
cookies). Every test fails if any JavaScript dialog opens: nothing the register holds may run
as script.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from web_browser import (
    CHROMIUM,
    GOOD_REPO,
    HOSTILE,
    PRODUCT,
    SEEDED_ISSUE,
    SEEDED_RISK,
    WEAK_REPO,
    Browsing,
    Site,
    chromium,
    follow,
    open_context,
    running_site,
    sign_in,
)

from secposture.register import records

sync_api = pytest.importorskip("playwright.sync_api")

if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)

FAILED_SIGN_IN = "Sign-in failed: check the user name and password."


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with running_site(tmp_path_factory.mktemp("web-e2e")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium(sync_api) as launched:
        yield launched


@pytest.fixture
def browsing(browser: Any) -> Iterator[Browsing]:
    context, browsing = open_context(browser)
    yield browsing
    context.close()
    assert browsing.dialogs == [], "a JavaScript dialog opened: register content ran as script"


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
    assert page.locator("[data-testid=estate-count]").inner_text() == "4 of 4 repositories."
    shown = heatmap_statuses(page)

    for repository in (GOOD_REPO, WEAK_REPO):
        recorded = {r.id: r.status.value for r in site.reports[repository].results}
        assert shown[repository] == recorded, repository
    # Two cells whose answer is known from the fixtures, so a wrong seed cannot hide a bug.
    assert shown[GOOD_REPO]["security-policy"] == "pass"  # report-basic has SECURITY.md
    assert shown[WEAK_REPO]["dangerous-workflow"] == "fail"  # workflows-risky

    compliance = page.locator("[data-testid=compliance-table] tr[data-level=required]")
    assert compliance.locator("td").nth(1).inner_text() == "4"  # of four repositories
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
    context, architect = open_context(browser)
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
