"""The "Send to Security" button in a real Chromium: pressed by the security role, the issue page
shows the result and the deliveries table, a failure shows GOV.UK's error summary, and every one
of these pages passes axe (no serious or critical violation) and fits a phone's width."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from delivery_servers import webhook_receiver
from test_web_accessibility import blocking, sideways
from web_browser import (
    CHROMIUM,
    DESKTOP,
    PHONE,
    Site,
    chromium,
    follow,
    open_context,
    running_site,
    sign_in,
)

sync_api = pytest.importorskip("playwright.sync_api")
axe_playwright = pytest.importorskip("axe_playwright_python.sync_playwright")

if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)

SECRET = "T0123ABCD/B0456EFGH/Zq8sLkP3vXw9RtY2mN4bC7dF"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with running_site(tmp_path_factory.mktemp("web-send")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium(sync_api) as launched:
        yield launched


def check(page: Any, where: str, width: int) -> list[str]:
    problems = [f"{where}: {line}" for line in blocking(axe_playwright.Axe().run(page))]
    extra = sideways(page)
    if extra > 0:
        problems.append(f"{where}: scrolls sideways by {extra}px at {width}px")
    return problems


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
def test_send_to_security_in_a_browser(
    site: Site, browser: Any, monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    context, browsing = open_context(browser, width=width, height=800 if width == DESKTOP else 844)
    page = browsing.page
    problems: list[str] = []
    try:
        with webhook_receiver() as (base, received):
            sign_in(page, site.base, "security")
            monkeypatch.setenv("SECPOSTURE_SLACK_WEBHOOK_URL", f"{base}/services/{SECRET}/fail")
            page.goto(f"{site.base}/issues/{site.issue_id}")
            problems += check(page, "issue page with the button", width)
            follow(page.locator("[data-testid=issue-send-submit]"))
            assert (
                "slack: not sent (HTTP status)"
                in page.locator("[data-testid=error-summary]").inner_text()
            )
            problems += check(page, "failed send", width)
            monkeypatch.setenv("SECPOSTURE_SLACK_WEBHOOK_URL", f"{base}/services/{SECRET}/ok")
            page.goto(f"{site.base}/issues/{site.issue_id}")
            follow(page.locator("[data-testid=issue-send-submit]"))
            assert "Sent to Security over slack" in page.locator("[data-testid=flash]").inner_text()
            assert page.locator("[data-testid=issue-deliveries] tbody tr").count() >= 1
            problems += check(page, "after a send", width)
            assert SECRET not in page.content()
            assert len(received) == 2
    finally:
        context.close()
    assert not problems, "\n".join(problems)
    assert [e for e in browsing.console_errors if "status of 4" not in e] == []
