"""The dashboard's "Send to Security" button (issue 15 §1): only security, architect and admin
see and may use it, the post needs the session's CSRF token, the result is shown, a delivery
lands in the issue's history, and the webhook's secret never reaches a page. Real HTTP receiver
on loopback; the app over a real SQLite register."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from delivery_servers import Received, webhook_receiver
from test_web_helpers import Dashboard, csrf_of, open_dashboard, seed_registers

from secposture.register.deliveries import deliveries_of
from secposture.register.history import history_of

SECRET = "T0123ABCD/B0456EFGH/Zq8sLkP3vXw9RtY2mN4bC7dF"


@pytest.fixture
def dashboard(tmp_path: Path) -> Iterator[Dashboard]:
    yield from open_dashboard(f"sqlite:///{tmp_path / 'register.db'}")


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, list[Received]]]:
    with webhook_receiver() as (base, received):
        monkeypatch.setenv("SECPOSTURE_SLACK_WEBHOOK_URL", f"{base}/services/{SECRET}/ok")
        yield base, received


def sends(dashboard: Dashboard, issue_id: int) -> tuple[list[str], list[str]]:
    def read(tx: object) -> tuple[list[str], list[str]]:
        from secposture.register.database import Tx

        assert isinstance(tx, Tx)
        return (
            [d.sent_by for d in deliveries_of(tx, issue_id)],
            [h.action for h in history_of(tx, "issue", issue_id)],
        )

    return dashboard.database.read(read)


@pytest.mark.parametrize("role", ["architect", "security", "admin"])
def test_security_architect_and_admin_send_and_see_the_record(
    dashboard: Dashboard, receiver: tuple[str, list[Received]], role: str
) -> None:
    issue_id = seed_registers(dashboard.database)["issue"]
    client = dashboard.as_role(role)
    page = client.get(f"/issues/{issue_id}")
    assert 'data-testid="issue-send-submit"' in page.text
    answer = client.post(f"/issues/{issue_id}/send", data={"csrf_token": csrf_of(page.text)})
    assert answer.status_code == 303, answer.text
    shown = client.get(f"/issues/{issue_id}")
    assert "Sent to Security over slack (report)." in shown.text
    assert 'data-testid="issue-deliveries"' in shown.text
    assert "Slack webhook at 127.0.0.1" in shown.text
    assert SECRET not in shown.text and "Zq8sLkP3vXw9RtY2mN4bC7dF" not in shown.text
    assert len(receiver[1]) == 1
    assert sends(dashboard, issue_id) == ([f"{role}1"], ["raised", "sent"])


def test_an_engineer_and_a_viewer_cannot_send(
    dashboard: Dashboard, receiver: tuple[str, list[Received]]
) -> None:
    issue_id = seed_registers(dashboard.database)["issue"]
    for role in ("engineer", "viewer"):
        client = dashboard.as_role(role)
        token = csrf_of(client.get("/").text)
        answer = client.post(f"/issues/{issue_id}/send", data={"csrf_token": token})
        assert answer.status_code == 403
    assert receiver[1] == []
    assert sends(dashboard, issue_id) == ([], ["raised"])


def test_a_post_without_the_sessions_csrf_token_sends_nothing(
    dashboard: Dashboard, receiver: tuple[str, list[Received]]
) -> None:
    issue_id = seed_registers(dashboard.database)["issue"]
    client = dashboard.as_role("security")
    for data in ({}, {"csrf_token": "forged"}):
        answer = client.post(f"/issues/{issue_id}/send", data=data)
        assert answer.status_code == 403
    assert receiver[1] == []
    assert sends(dashboard, issue_id) == ([], ["raised"])


def test_a_failed_send_is_shown_and_records_nothing(
    dashboard: Dashboard, monkeypatch: pytest.MonkeyPatch
) -> None:
    issue_id = seed_registers(dashboard.database)["issue"]
    client = dashboard.as_role("security")
    with webhook_receiver() as (base, received):
        monkeypatch.setenv("SECPOSTURE_SLACK_WEBHOOK_URL", f"{base}/services/{SECRET}/fail")
        page = client.get(f"/issues/{issue_id}")
        answer = client.post(f"/issues/{issue_id}/send", data={"csrf_token": csrf_of(page.text)})
    assert answer.status_code == 400
    assert 'data-testid="error-summary"' in answer.text
    assert "slack: not sent (HTTP status): 127.0.0.1 answered 500" in answer.text
    assert SECRET not in answer.text and "Zq8sLkP3vXw9RtY2mN4bC7dF" not in answer.text
    assert len(received) == 1
    assert sends(dashboard, issue_id) == ([], ["raised"])


def test_without_a_channel_the_page_says_how_to_configure_one(dashboard: Dashboard) -> None:
    issue_id = seed_registers(dashboard.database)["issue"]
    client = dashboard.as_role("security")
    page = client.get(f"/issues/{issue_id}")
    assert 'data-testid="issue-send-none"' in page.text
    assert 'data-testid="issue-send-submit"' not in page.text
    answer = client.post(f"/issues/{issue_id}/send", data={"csrf_token": csrf_of(page.text)})
    assert answer.status_code == 400
    assert "no channel to the Security team is configured" in answer.text
