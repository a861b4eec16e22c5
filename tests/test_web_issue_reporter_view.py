"""What an engineer sees of the risk their own issue became (ADR 0013): that the issue cannot be
fixed and was recorded as a risk, the risk's number and status, and nothing of the risk register
(its title, the reason it cannot be fixed, owner, scores, treatment). Checked on every route
that shows the issue: the page (its facts, the report text, the Markdown and the subject) and
both downloads. Architects and up see it all."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_web_helpers import Dashboard, open_dashboard, post

from secposture.register import issues as issue_api
from secposture.register.database import Tx

RISK_TITLE = "Partner VPN exposes the ledger database"
REASON = "The vendor will not patch the appliance before 2028"
RISK_OWNER = "Dana Riskowner"
CLOSE_NOTE = "Patched in release 4.2"
ISSUE = issue_api.IssueInput(
    product="Payments",
    reporter="Eng Person",
    environment="Ubuntu 24.04",
    description="SQL injection in the ledger export",
    business_context="Finance exports",
    data_at_risk="Ledger entries",
    cvss_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    ticket_link="https://tickets.example/SEC-7",
    conversation_links=["https://chat.example/sec/7"],
)
ROUTES = ["/issues/{id}", "/issues/{id}/report.md", "/issues/{id}/report.eml"]


@pytest.fixture
def dashboard(tmp_path: Path) -> Iterator[Dashboard]:
    yield from open_dashboard(f"sqlite:///{tmp_path / 'register.db'}")


def add_payments(dashboard: Dashboard) -> None:
    from secposture.register.products import add_product

    dashboard.database.write(
        "architect1",
        lambda tx: add_product(tx, "Payments", owner="Ann", data_classification="official"),
    )


def raised_by_engineer(dashboard: Dashboard) -> int:
    """An issue the engineer raised, which an architect then marked as one that cannot be fixed:
    the linked risk (with its own title and owner) is on the register."""
    dashboard.as_role("engineer")  # the account exists before it raises the issue
    add_payments(dashboard)

    def raise_it(tx: Tx) -> int:
        return issue_api.raise_issue(tx, ISSUE).id

    issue_id: int = dashboard.database.write("engineer1", raise_it)
    architect = dashboard.as_role("architect")
    made = post(
        architect,
        f"/issues/{issue_id}/cannot-fix",
        {
            "reason": REASON,
            "owner": RISK_OWNER,
            "likelihood": "4",
            "impact": "5",
            "treatment": "tolerate",
            "title": RISK_TITLE,
        },
    )
    assert made.status_code == 303, made.text
    return issue_id


def risk_id_of(dashboard: Dashboard, issue_id: int) -> int:
    return dashboard.database.read(lambda tx: issue_api.get_issue(tx, issue_id).risks[0].id)


@pytest.mark.parametrize("route", ROUTES)
def test_an_engineer_sees_their_issue_became_a_risk_but_not_the_risk(
    dashboard: Dashboard, route: str
) -> None:
    issue_id = raised_by_engineer(dashboard)
    risk_id = risk_id_of(dashboard, issue_id)
    response = dashboard.as_role("engineer").get(route.format(id=issue_id))
    assert response.status_code == 200
    text = response.text
    for register_detail in (RISK_TITLE, REASON, RISK_OWNER, "tolerate", f"/risks/{risk_id}"):
        assert register_detail not in text, (route, register_detail)
    assert re.search(rf"risk {risk_id} \(open\)", text), text[-1500:]
    assert "cannot fix" in text.lower() and "recorded as a risk" in text
    assert "SQL injection in the ledger export" in text  # the issue itself, in full


@pytest.mark.parametrize("route", ROUTES)
def test_an_architect_sees_the_risk_in_full(dashboard: Dashboard, route: str) -> None:
    issue_id = raised_by_engineer(dashboard)
    text = dashboard.as_role("architect").get(route.format(id=issue_id)).text
    assert RISK_TITLE in text and REASON in text


@pytest.mark.parametrize("route", ROUTES)
def test_an_engineer_reads_the_note_on_their_fixed_issue(dashboard: Dashboard, route: str) -> None:
    engineer = dashboard.as_role("engineer")
    add_payments(dashboard)
    issue_id: int = dashboard.database.write(
        "engineer1", lambda tx: issue_api.raise_issue(tx, ISSUE).id
    )
    architect = dashboard.as_role("architect")
    closing = {"resolution": "fixed", "note": CLOSE_NOTE}
    assert post(architect, f"/issues/{issue_id}/close", closing).status_code == 303
    text = engineer.get(route.format(id=issue_id)).text
    assert CLOSE_NOTE in text  # the issue's own outcome, not a register record
