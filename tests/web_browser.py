"""The dashboard in a real headless Chromium (Debian's, driven by Playwright), shared by the
end-to-end tests and the accessibility tests: the seeded register, the served app, a fresh
browser context per test, signing in and following links.

Every page of the seed shows each status at least once (pass, partial, fail, waived, unknown,
not applicable) and each due state, so the colour and axe checks see every badge and cell.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from web_server import add_accounts, fixture_files, password_for, scan_files, serve, web_settings

from secposture.model import ScanReport
from secposture.register import issues as issue_api
from secposture.register import records
from secposture.register.database import Database, Tx
from secposture.register.products import add_product
from secposture.register.risks import RiskInput, add_risk
from secposture.register.waivers import add_waiver
from secposture.web.app import create_app

CHROMIUM = os.environ.get("SECPOSTURE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
HOSTILE = "<script>alert(1)</script>"
PRODUCT = "Payments"
GOOD_REPO = "acme/payments-api"
WEAK_REPO = "acme/legacy-batch"
PARTIAL_REPO = "acme/polyglot-tools"
WAIVED_CONTROL = "codeowners"  # fails in GOOD_REPO's files: waived there
SEEDED_ISSUE = "Seeded issue: session fixation in the admin console"
ENGINEERS_ISSUE = "Engineer's issue: verbose errors on the refunds API"
SEEDED_RISK = "Seeded risk: card data held longer than needed"
TIMEOUT_MS = 5_000
PHONE, DESKTOP = 390, 1280


@dataclass
class Site:
    base: str
    database: Database
    product_id: int
    issue_id: int
    engineers_issue_id: int
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


def _issue(reporter: str, description: str, ticket: str) -> issue_api.IssueInput:
    return issue_api.IssueInput(
        product=PRODUCT,
        reporter=reporter,
        environment="Production, eu-west-2",
        description=description,
        business_context="Admins approve refunds.",
        data_at_risk="Card holder names",
        cvss_vector="CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:L/I:L/A:N",
        ticket_link=ticket,
        conversation_links=["https://chat.example.org/archives/C1/p0"],
    )


def seed(database: Database) -> Site:
    """Accounts for every role, a product with an issue, a risk and a waiver, and four scanned
    repositories (one named like a script). The base URL is filled in by `running_site`."""
    add_accounts(database)

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
            tx, _issue("Seeder", SEEDED_ISSUE, "https://tickets.example.org/SEC-1")
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
                # Due within the month: the due page shows "due soon" beside "overdue".
                next_review_on=tx.today + timedelta(days=10),
            ),
        )
        # A recent ITHC: the product page shows an "ok" duty beside the overdue threat model.
        records.record_assurance(
            tx,
            PRODUCT,
            performed_on=tx.today - timedelta(days=30),
            kind="ithc",
            supplier="Example Assurance Ltd",
            scheme="CHECK",
            scope="Payments API and admin console",
            report_reference="EA-2026-17",
        )
        add_waiver(
            tx,
            control=WAIVED_CONTROL,
            reason="CODEOWNERS arrives with the team split in the spring",
            approver="Head of Security",
            expires_on=tx.today + timedelta(days=60),
            repository=GOOD_REPO,
        )
        tx.session.flush()
        return product.id, issue.id, risk.id

    product_id, issue_id, risk_id = database.write("seeder", registers)
    # Raised by the engineer account itself: the one issue page an engineer may read.
    engineers_issue_id = database.write(
        "engineer",
        lambda tx: (
            issue_api.raise_issue(
                tx, _issue("Engineer Person", ENGINEERS_ISSUE, "https://tickets.example.org/SEC-2")
            ).id
        ),
    )
    reports = {
        GOOD_REPO: scan_files(
            database,
            GOOD_REPO,
            fixture_files("sa-python-complete", "report-basic", "workflows-hardened"),
        ),
        WEAK_REPO: scan_files(database, WEAK_REPO, fixture_files("workflows-risky")),
        PARTIAL_REPO: scan_files(database, PARTIAL_REPO, fixture_files("sa-polyglot-partial")),
        HOSTILE: scan_files(database, HOSTILE, fixture_files("report-basic"), source="folder"),
    }
    seed_watch(database, WEAK_REPO)
    return Site("", database, product_id, issue_id, engineers_issue_id, risk_id, reports)


def seed_watch(database: Database, repository: str) -> None:
    """What the watcher leaves for the Watch page: a rescan and why, its issue, a write, a job."""
    from secposture.register.history import record_event
    from secposture.register.watch_tables import RepositoryIssue, WatchScan
    from secposture.watch import queue
    from secposture.watch.interface import RescanRequest

    def add(tx: Any) -> None:
        tx.session.add(
            WatchScan(
                repository=repository,
                reason="push",
                detail="push to main by alice",
                scan_id=None,
                requested_at=tx.now,
                finished_at=tx.now,
                outcome="recorded",
                api_requests=4,
            )
        )
        issue = RepositoryIssue(
            repository=repository,
            number=7,
            url=f"https://github.com/{repository}/issues/7",
            state="open",
            failing=["threat-model"],
            digest="0" * 64,
            opened_at=tx.now,
            updated_at=tx.now,
        )
        tx.session.add(issue)
        tx.session.flush()
        record_event(
            tx,
            RepositoryIssue.ENTITY,
            issue.id,
            "opened",
            {"repository": repository, "number": 7, "failing": ["threat-model"], "detail": ""},
        )
        request = RescanRequest(
            GOOD_REPO, "branch_protection_rule", "branch protection rule edited"
        )
        queue.enqueue(tx, request, timedelta(seconds=10))

    database.write("secposture watch", add)


@contextmanager
def running_site(folder: Path) -> Iterator[Site]:
    url = f"sqlite:///{folder / 'register.db'}"
    database = Database.open(url)
    try:
        site = seed(database)
        with serve(create_app(web_settings(url), database)) as base:
            site.base = base
            yield site
    finally:
        database.close()


@contextmanager
def chromium(sync_api: Any) -> Iterator[Any]:
    args = ["--no-sandbox"] if os.geteuid() == 0 else []  # Chromium's sandbox refuses root
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        yield browser
        browser.close()


def open_context(browser: Any, width: int = DESKTOP, height: int = 800) -> tuple[Any, Browsing]:
    context = browser.new_context(viewport={"width": width, "height": height})
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


def follow(target: Any) -> None:
    """Click a link or submit button (a Locator) and wait for the page it leads to."""
    with target.page.expect_navigation():
        target.click()


def sign_in(page: Any, base: str, username: str, password: str | None = None) -> None:
    page.goto(f"{base}/login")
    page.fill("#login-username", username)
    page.fill("#login-password", password if password is not None else password_for(username))
    follow(page.locator("[data-testid=login-submit]"))
