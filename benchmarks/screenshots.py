"""Regenerate the dashboard screenshots in docs/screenshots/ from a realistic register
(benchmarks/web_seed.py's showcase), served by the real app in headless Chromium: 1280x800 PNGs,
and *-phone.png at 390x844 (a phone's width, as the accessibility tests check it).

    .venv/bin/python benchmarks/screenshots.py [--out docs/screenshots] [--chromium PATH]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from web_seed import seed_showcase  # also puts tests/ on the path
from web_server import add_accounts, password_for, serve, web_settings

from secposture.register.database import Database
from secposture.register.products import list_products
from secposture.web.app import create_app

ROOT = Path(__file__).resolve().parent.parent
WIDTH, HEIGHT = 1280, 800
PHONE_WIDTH, PHONE_HEIGHT = 390, 844


def sign_in(page: Any, base: str, role: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#login-username", role)
    page.fill("#login-password", password_for(role))
    page.click("[data-testid=login-submit]")
    page.wait_for_load_state()


def fill_issue_form(page: Any) -> None:
    form = page.locator("[data-testid=issue-form]")
    form.locator("[name=product]").select_option("Payments")
    values = {
        "cve_ids": "CVE-2024-6387",
        "environment": "Payments API containers on ECS (Debian 12, OpenSSH 9.2p1 in the base image)",
        "description": "regreSSHion in the payments base image\nThe bastion image runs an "
        "OpenSSH server vulnerable to unauthenticated remote code execution.",
        "business_context": "The bastion reaches the card payments database; payments run 24/7.",
        "conversation_links": "https://chat.example.gov.uk/archives/C01/p1720000000",
        "data_at_risk": "Card holder names, partial card numbers, refund history",
        "cvss_vector": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "ticket_link": "https://jira.example.gov.uk/browse/SEC-231",
    }
    for name, value in values.items():
        form.locator(f"[name={name}]").fill(value)
    # The six fields in view (filling scrolled down to the last field).
    page.evaluate("() => document.querySelector('#issue-form fieldset').scrollIntoView()")


def shots(base: str, product_ids: dict[str, int]) -> list[tuple[str, str, Callable[[Any], None]]]:
    """(file name, path, what to do on the page before the picture)."""

    def nothing(page: Any) -> None:
        return None

    def to_heatmap(page: Any) -> None:
        page.evaluate("() => document.getElementById('heatmap-heading').scrollIntoView()")

    def failed_submit(page: Any) -> None:
        """The issue form sent with a product and a wrong date only: the error summary."""
        form = page.locator("[data-testid=issue-form]")
        form.locator("[name=product]").select_option("Payments")
        form.locator("[name=cve_ids]").fill("CVE-2024-6387")
        form.locator("[name=raised_on-day]").fill("31")
        form.locator("[name=raised_on-month]").fill("2")
        form.locator("[name=raised_on-year]").fill("2026")
        page.click("[data-testid=issue-submit]")
        page.wait_for_load_state()

    return [
        ("estate.png", "/", nothing),
        ("estate-heatmap.png", "/", to_heatmap),
        ("repository.png", "/repository?name=acme/payments-web", nothing),
        ("product.png", f"/products/{product_ids['Identity']}", nothing),
        ("due.png", "/due?within=90", nothing),
        ("risks.png", "/risks?sort=score&desc=1", nothing),
        ("issue-form-errors.png", "/issues/new", failed_submit),
        ("issue-form.png", "/issues/new", fill_issue_form),  # last: it is sent next
    ]


def phone_shots(product_ids: dict[str, int]) -> list[tuple[str, str, Callable[[Any], None]]]:
    """The same pages at a phone's width: the header wraps, wide tables scroll in place."""

    def nothing(page: Any) -> None:
        return None

    return [
        ("estate-phone.png", "/", nothing),
        ("repository-phone.png", "/repository?name=acme/payments-web", nothing),
        ("risks-phone.png", "/risks?sort=score&desc=1", nothing),
        ("due-phone.png", "/due?within=90", nothing),
        ("product-phone.png", f"/products/{product_ids['Identity']}", nothing),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    ap.add_argument(
        "--chromium",
        default=os.environ.get("SECPOSTURE_CHROMIUM")
        or shutil.which("chromium")
        or "/usr/bin/chromium",
    )
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'register.db'}"
        database = Database.open(url)
        try:
            add_accounts(database, ["security"])
            seed_showcase(database)
            products = database.read(lambda tx: {p.name: p.id for p in list_products(tx)})
            with serve(create_app(web_settings(url), database)) as base, sync_playwright() as pw:
                launch_args = ["--no-sandbox"] if os.geteuid() == 0 else []
                browser = pw.chromium.launch(executable_path=args.chromium, args=launch_args)
                page = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}).new_page()
                sign_in(page, base, "security")
                for name, path, prepare in shots(base, products):
                    page.goto(base + path)
                    prepare(page)
                    page.screenshot(path=str(args.out / name))
                    print(args.out / name)
                # The issue form, sent: the page with the report to send to Security.
                page.click("[data-testid=issue-submit]")
                page.wait_for_load_state()
                page.locator("[data-testid=report-text]").scroll_into_view_if_needed()
                page.screenshot(path=str(args.out / "issue-report.png"))
                print(args.out / "issue-report.png")
                phone = browser.new_context(
                    viewport={"width": PHONE_WIDTH, "height": PHONE_HEIGHT},
                    device_scale_factor=2,
                    is_mobile=True,
                    has_touch=True,
                ).new_page()
                sign_in(phone, base, "security")
                for name, path, prepare in phone_shots(products):
                    phone.goto(base + path)
                    prepare(phone)
                    phone.screenshot(path=str(args.out / name))
                    print(args.out / name)
                browser.close()
        finally:
            database.close()


if __name__ == "__main__":
    main()
