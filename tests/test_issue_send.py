"""Sending a security issue to the Security team (issue 15 §1): email over SMTP with STARTTLS
or implicit TLS and AUTH (aiosmtpd on loopback, a certificate made here), Slack and Teams
webhooks (a threaded HTTP receiver on loopback) and an issue in the team's private repository
(the fake GitHub, which validates every REST call against GitHub's description).

Every confirmed delivery lands in the register (an issue_delivery row and the issue's history);
a failure says what failed and records nothing; no credential reaches any output."""

from __future__ import annotations

import email
import email.policy
import json
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from conftest import NOW, fixed_clock
from delivery_servers import (
    SMTP_PASSWORD,
    SMTP_USER,
    free_port,
    self_signed,
    silent_listener,
    smtp_server,
    webhook_receiver,
)
from fake_github import FakeGitHub, FakeOrg, FakeRepo
from fake_github.issues import issues_of

from secposture.redaction import redact
from secposture.register.database import Database, Tx
from secposture.register.deliveries import deliveries_of
from secposture.register.delivery.config import ChannelConfigError, channels_from_env
from secposture.register.delivery.interface import DeliveryError
from secposture.register.delivery.send import SendOutcome, send_issue
from secposture.register.history import history_of
from secposture.register.issues import IssueInput, raise_issue
from secposture.register.products import add_product
from secposture.reports import register_text as render

VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
SLACK_SECRET = "T0123ABCD/B0456EFGH/Zq8sLkP3vXw9RtY2mN4bC7dF"
TOKEN = "ghp_" + "s3cr3tT0kenForTheSecurityRepo0000000000"  # nosec B105
ACTOR = "Sam Security"


@pytest.fixture
def cert(tmp_path: Path) -> tuple[Path, Path]:
    return self_signed(tmp_path)


@pytest.fixture
def database(sqlite_register_url: str) -> Iterator[Database]:
    with Database.open(sqlite_register_url, clock=fixed_clock) as db:
        raise_one(db)
        yield db


def raise_one(
    db: Database, description: str = "The café’s XML parser\nreaches <!channel> @here"
) -> int:
    def add(tx: Tx) -> int:
        add_product(tx, "payments", owner="Jo", data_classification="official")
        issue = raise_issue(
            tx,
            IssueInput(
                product="payments",
                reporter="Jo Engineer",
                environment="Debian 12 build agents",
                description=description,
                business_context="Builds sign releases",
                data_at_risk="Signing keys",
                cvss_vector=VECTOR,
                ticket_link="https://jira.example.org/browse/SEC-1",
                conversation_links=["https://chat.example.org/archives/C1/p1"],
                cve_ids="CVE-2024-3094",
            ),
        )
        return issue.id

    return db.write("Jo Engineer", add)


def smtp_env(port: int, cert: Path | None, **extra: str) -> dict[str, str]:
    env = {
        "SECPOSTURE_SMTP_HOST": "localhost",
        "SECPOSTURE_SMTP_PORT": str(port),
        "SECPOSTURE_SMTP_USERNAME": SMTP_USER,
        "SECPOSTURE_SMTP_PASSWORD": SMTP_PASSWORD,
        "SECPOSTURE_SECURITY_EMAIL": "Security Team <security@example.org>",
        "SECPOSTURE_SEND_TIMEOUT": "2",
    }
    if cert is not None:
        env["SECPOSTURE_SMTP_CA_FILE"] = str(cert)
    env.update(extra)
    return env


def send(db: Database, env: dict[str, str], *names: str) -> SendOutcome:
    return send_issue(db, ACTOR, 1, channels_from_env(names, env))


def recorded(db: Database) -> tuple[list[dict[str, object]], list[str]]:
    def read(tx: Tx) -> tuple[list[dict[str, object]], list[str]]:
        rows = [d.to_dict() for d in deliveries_of(tx, 1)]
        return rows, [h.action for h in history_of(tx, "issue", 1)]

    return db.read(read)


def all_text(outcome: SendOutcome, db: Database) -> str:
    """Everything a person or a log could see of a send: errors, results, history."""

    def read(tx: Tx) -> str:
        rows = history_of(tx, "issue", 1)
        return render.history(rows) + json.dumps([r.to_dict() for r in rows], default=str)

    return " ".join(
        [str(e) for e in outcome.failed]
        + [json.dumps(d, default=str) for d in outcome.delivered]
        + [u.problem for u in outcome.unrecorded]
        + [db.read(read)]
    )


def parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


# --- email ---------------------------------------------------------------------------------------


def test_email_over_starttls_with_login_is_delivered_and_recorded(
    database: Database, cert: tuple[Path, Path]
) -> None:
    with smtp_server(cert) as (port, mailbox):
        outcome = send(database, smtp_env(port, cert[0]), "email")
    assert outcome.ok, outcome.failed
    assert mailbox.logins == [SMTP_USER]
    [envelope] = mailbox.messages
    assert envelope.rcpt_tos == ["security@example.org"]
    message = parse(envelope.original_content or b"")
    assert message["To"] == "Security Team <security@example.org>"
    assert message["Content-Transfer-Encoding"] == "8bit"
    assert "café’s" in message.get_content()
    assert message["Subject"].startswith("[CRITICAL] Security issue 1 in payments: CVE-2024-3094")
    rows, actions = recorded(database)
    assert actions == ["raised", "sent"]
    [row] = rows
    assert row["channel"] == "email" and row["sent_by"] == ACTOR
    assert row["reference"] == message["Message-ID"]
    assert row["issue_version"] == 1 and row["update"] is False
    assert SMTP_PASSWORD not in all_text(outcome, database)
    # `issue show --history` says where it went, not a list of the delivery's fields.
    history = database.read(lambda tx: render.history(history_of(tx, "issue", 1)))
    assert (
        f"sent by {ACTOR}\n  report (version 1) over email to security@example.org, message <"
        in history
    )


def test_implicit_tls(database: Database, cert: tuple[Path, Path]) -> None:
    with smtp_server(cert, implicit_tls=True) as (port, mailbox):
        outcome = send(database, smtp_env(port, cert[0], SECPOSTURE_SMTP_SECURITY="tls"), "email")
    assert outcome.ok, outcome.failed
    assert len(mailbox.messages) == 1


def test_sending_after_an_edit_is_an_update_that_threads(
    database: Database, cert: tuple[Path, Path]
) -> None:
    with smtp_server(cert) as (port, mailbox):
        env = smtp_env(port, cert[0])
        assert send(database, env, "email").ok
        first = parse(mailbox.messages[0].original_content or b"")

        def edit(tx: Tx) -> None:
            from secposture.register.history import record
            from secposture.register.issues import get_issue

            issue = get_issue(tx, 1, for_update=True)
            before = issue.to_dict()
            issue.data_at_risk = "Signing keys and customer card data"
            record(tx, issue, "updated", before)

        database.write("Jo Engineer", edit)
        assert send(database, env, "email").ok
        assert send(database, env, "email").ok
    second = parse(mailbox.messages[1].original_content or b"")
    third = parse(mailbox.messages[2].original_content or b"")
    assert second["Subject"].startswith("Update: [CRITICAL]")
    assert second["In-Reply-To"] == first["Message-ID"]
    assert second.get_content().startswith(
        f"Update: changed since it was sent on {NOW:%Y-%m-%d %H:%M} UTC: data at risk."
    )
    assert third["Subject"].startswith("Again: ")
    rows, actions = recorded(database)
    assert actions == ["raised", "sent", "updated", "sent_update", "sent_again"]
    assert [r["issue_version"] for r in rows] == [1, 2, 2]
    assert [r["update"] for r in rows] == [False, True, False]


def test_wrong_password_is_an_authentication_failure_and_records_nothing(
    database: Database, cert: tuple[Path, Path]
) -> None:
    wrong = "not-the-password-at-all-99"
    with smtp_server(cert) as (port, mailbox):
        outcome = send(database, smtp_env(port, cert[0], SECPOSTURE_SMTP_PASSWORD=wrong), "email")
    [failure] = outcome.failed
    assert failure.kind == "authentication"
    assert "535" in str(failure)
    assert mailbox.messages == []
    assert recorded(database) == ([], ["raised"])
    assert wrong not in all_text(outcome, database)


def test_an_untrusted_certificate_is_a_tls_failure(
    database: Database, cert: tuple[Path, Path], tmp_path: Path
) -> None:
    (tmp_path / "other").mkdir()
    other, _key = self_signed(tmp_path / "other")
    with smtp_server(cert) as (port, mailbox):
        outcome = send(database, smtp_env(port, other), "email")
    [failure] = outcome.failed
    assert failure.kind == "TLS" and "certificate" in str(failure)
    assert mailbox.messages == [] and mailbox.logins == []
    assert recorded(database) == ([], ["raised"])


def test_a_server_without_starttls_gets_neither_password_nor_report(
    database: Database, cert: tuple[Path, Path]
) -> None:
    with smtp_server(None) as (port, mailbox):
        outcome = send(database, smtp_env(port, cert[0]), "email")
    [failure] = outcome.failed
    assert failure.kind == "TLS" and "does not offer STARTTLS" in str(failure)
    assert mailbox.messages == [] and mailbox.logins == []
    assert recorded(database) == ([], ["raised"])


def test_a_refused_port_a_silent_server_and_an_unknown_host(
    database: Database, cert: tuple[Path, Path]
) -> None:
    refused = send(database, smtp_env(free_port(), cert[0]), "email")
    assert [f.kind for f in refused.failed] == ["connection refused"]
    with silent_listener() as port:
        silent = send(database, smtp_env(port, cert[0], SECPOSTURE_SEND_TIMEOUT="1"), "email")
    assert [f.kind for f in silent.failed] == ["timeout"]
    unknown = send(
        database, smtp_env(25, cert[0], SECPOSTURE_SMTP_HOST="mail.nothing-here.invalid"), "email"
    )
    assert [f.kind for f in unknown.failed] == ["DNS"]
    assert "mail.nothing-here.invalid" in str(unknown.failed[0])
    assert recorded(database) == ([], ["raised"])


# --- chat webhooks -------------------------------------------------------------------------------


def test_slack_gets_its_documented_payload_with_typed_text_escaped(database: Database) -> None:
    with webhook_receiver() as (base, received):
        url = f"{base}/services/{SLACK_SECRET}/ok"
        outcome = send(database, {"SECPOSTURE_SLACK_WEBHOOK_URL": url})
    assert outcome.ok, outcome.failed
    [hit] = received
    payload = hit.body
    assert payload["text"].startswith("[CRITICAL] Security issue 1 in payments")
    assert payload["blocks"][0]["type"] == "header"
    text = json.dumps(payload)
    # Typed text cannot mention the channel or add a link.
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    [row] = recorded(database)[0]
    assert row["destination"] == "Slack webhook at 127.0.0.1"
    assert SLACK_SECRET not in all_text(outcome, database)
    assert "Zq8sLkP3vXw9RtY2mN4bC7dF" not in all_text(outcome, database)


def test_teams_gets_an_adaptive_card(database: Database) -> None:
    with webhook_receiver() as (base, received):
        outcome = send(
            database, {"SECPOSTURE_TEAMS_WEBHOOK_URL": f"{base}/workflows/{SLACK_SECRET}/accepted"}
        )
    assert outcome.ok, outcome.failed
    card = received[0].body["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["type"] == "AdaptiveCard"
    facts = {f["title"]: f["value"] for f in card["content"]["body"][1]["facts"]}
    assert facts["Product"] == "payments"
    assert recorded(database)[1] == ["raised", "sent"]


@pytest.mark.parametrize(
    ("ending", "kind", "said"),
    [
        ("fail", "HTTP status", "500"),
        ("revoked", "authentication", "403"),
        ("moved", "HTTP status", "302"),
        ("nothing", "HTTP status", "404"),
    ],
)
def test_a_webhook_that_fails_says_how_and_records_nothing(
    database: Database, ending: str, kind: str, said: str
) -> None:
    with webhook_receiver() as (base, received):
        outcome = send(
            database, {"SECPOSTURE_SLACK_WEBHOOK_URL": f"{base}/services/{SLACK_SECRET}/{ending}"}
        )
    [failure] = outcome.failed
    assert failure.kind == kind and said in str(failure)
    assert recorded(database) == ([], ["raised"])
    assert "Zq8sLkP3vXw9RtY2mN4bC7dF" not in all_text(outcome, database)
    # A redirect is not followed: the report went to the configured URL only.
    assert [r.path.rsplit("/", 1)[-1] for r in received] == [ending]


def test_a_webhook_that_does_not_answer_in_time_or_refuses(database: Database) -> None:
    with webhook_receiver() as (base, _received):
        slow = send(
            database,
            {
                "SECPOSTURE_SLACK_WEBHOOK_URL": f"{base}/services/{SLACK_SECRET}/slow",
                "SECPOSTURE_SEND_TIMEOUT": "1",
            },
        )
    assert [f.kind for f in slow.failed] == ["timeout"]
    refused = send(
        database,
        {"SECPOSTURE_TEAMS_WEBHOOK_URL": f"http://127.0.0.1:{free_port()}/x/{SLACK_SECRET}"},
    )
    assert [f.kind for f in refused.failed] == ["connection refused"]
    assert recorded(database) == ([], ["raised"])


# --- GitHub issue --------------------------------------------------------------------------------


def security_repo(visibility: str = "private") -> FakeGitHub:
    repo = FakeRepo("acme-security", "reports", visibility=visibility, files={"README.md": b"#\n"})
    return FakeGitHub(orgs=[FakeOrg("acme-security", [repo])], tokens={TOKEN: "write"})


def github_env(base_url: str, token: str = TOKEN) -> dict[str, str]:
    return {
        "SECPOSTURE_SECURITY_GITHUB_REPO": "acme-security/reports",
        "GITHUB_TOKEN": token,
        "GITHUB_API_URL": base_url,
        "SECPOSTURE_SEND_TIMEOUT": "5",
    }


def test_a_github_issue_with_labels_then_an_update_edits_it_and_comments(
    database: Database,
) -> None:
    gh = security_repo()
    repo = gh.orgs[0].repos[0]
    with gh.serve() as base_url:
        first = send(database, github_env(base_url), "github")
        assert first.ok, first.failed

        def edit(tx: Tx) -> None:
            from secposture.register.history import record
            from secposture.register.issues import get_issue

            issue = get_issue(tx, 1, for_update=True)
            before = issue.to_dict()
            issue.environment = "Debian 12 and Ubuntu 24.04 build agents"
            record(tx, issue, "updated", before)

        database.write("Jo Engineer", edit)
        second = send(database, github_env(base_url), "github")
        assert second.ok, second.failed
    assert gh.unvalidated == []
    [issue] = issues_of(repo)
    assert issue.labels == ["severity: critical", "product: payments"]
    assert "Debian 12 and Ubuntu 24.04" in (issue.body or "")
    assert issue.body is not None and issue.body.startswith("> Update: changed since")
    [comment] = issue.comments
    assert "OS / environment" in comment.body or "environment" in comment.body
    rows, actions = recorded(database)
    assert actions == ["raised", "sent", "updated", "sent_update"]
    assert rows[0]["url"] == "https://github.com/acme-security/reports/issues/1"
    assert rows[0]["reference"] == "1"
    assert str(rows[1]["url"]).startswith(
        "https://github.com/acme-security/reports/issues/1#issuecomment-"
    )
    assert TOKEN not in all_text(first, database) + all_text(second, database)


def test_a_public_repository_is_refused_before_anything_is_written(database: Database) -> None:
    gh = security_repo("public")
    with gh.serve() as base_url:
        outcome = send(database, github_env(base_url), "github")
    [failure] = outcome.failed
    assert failure.kind == "refused by the server" and "not a private repository" in str(failure)
    assert issues_of(gh.orgs[0].repos[0]) == []
    assert gh.writes() == []
    assert recorded(database) == ([], ["raised"])


def test_a_bad_token_is_an_authentication_failure(database: Database) -> None:
    bad = "ghp_" + "wrongTokenWrongTokenWrongToken00000000"
    gh = security_repo()
    with gh.serve() as base_url:
        outcome = send(database, github_env(base_url, bad), "github")
    [failure] = outcome.failed
    assert failure.kind == "authentication"
    assert "401" in str(failure)
    assert bad not in all_text(outcome, database)
    assert recorded(database) == ([], ["raised"])


def test_github_unreachable(database: Database) -> None:
    outcome = send(database, github_env(f"http://127.0.0.1:{free_port()}"), "github")
    [failure] = outcome.failed
    assert failure.kind == "connection refused"
    assert recorded(database) == ([], ["raised"])


# --- several channels, and configuration -----------------------------------------------------------


def test_one_channel_failing_does_not_stop_or_undo_another(
    database: Database, cert: tuple[Path, Path]
) -> None:
    with smtp_server(cert) as (port, mailbox), webhook_receiver() as (base, _received):
        env = {
            **smtp_env(port, cert[0]),
            "SECPOSTURE_SLACK_WEBHOOK_URL": f"{base}/services/{SLACK_SECRET}/fail",
        }
        outcome = send(database, env)
    assert [f.channel for f in outcome.failed] == ["slack"]
    assert len(mailbox.messages) == 1
    rows, actions = recorded(database)
    assert [r["channel"] for r in rows] == ["email"] and actions == ["raised", "sent"]


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({}, "no channel to the Security team is configured"),
        ({"SECPOSTURE_SMTP_HOST": "mail.example.org"}, "SECPOSTURE_SECURITY_EMAIL"),
        (
            {
                "SECPOSTURE_SMTP_HOST": "mail.example.org",
                "SECPOSTURE_SECURITY_EMAIL": "security@example.org",
                "SECPOSTURE_SMTP_SECURITY": "none",
            },
            "plain SMTP is never used",
        ),
        (
            {
                "SECPOSTURE_SMTP_HOST": "mail.example.org",
                "SECPOSTURE_SECURITY_EMAIL": "security@example.org\r\nBcc: x@evil.example",
            },
            "line break",
        ),
        (
            {
                "SECPOSTURE_SMTP_HOST": "mail.example.org",
                "SECPOSTURE_SECURITY_EMAIL": "security@example.org",
                "SECPOSTURE_SMTP_USERNAME": "sender@example.org",
            },
            "go together",
        ),
        (
            {"SECPOSTURE_SLACK_WEBHOOK_URL": f"http://hooks.slack.example/services/{SLACK_SECRET}"},
            "must be https",
        ),
        ({"SECPOSTURE_SECURITY_GITHUB_REPO": "not a repo"}, "owner/name"),
        ({"SECPOSTURE_SECURITY_GITHUB_REPO": "a/b", "SECPOSTURE_SEND_TIMEOUT": "0"}, "seconds"),
    ],
)
def test_configuration_errors_name_the_variable_not_the_secret(
    env: dict[str, str], says: str
) -> None:
    with pytest.raises(ChannelConfigError) as caught:
        channels_from_env((), env)
    assert says in str(caught.value)
    assert SLACK_SECRET not in str(caught.value)


def test_an_unconfigured_channel_named_is_an_error() -> None:
    with pytest.raises(ChannelConfigError, match="channel teams is not configured"):
        channels_from_env(["teams"], {"SECPOSTURE_SECURITY_GITHUB_REPO": "a/b"})


def test_a_delivery_error_never_carries_a_registered_secret() -> None:
    channels_from_env(
        (), {"SECPOSTURE_SLACK_WEBHOOK_URL": f"https://hooks.slack.com/services/{SLACK_SECRET}"}
    )
    error = DeliveryError(
        "slack", "HTTP status", f"echoed https://hooks.slack.com/services/{SLACK_SECRET}"
    )
    assert SLACK_SECRET not in str(error)
    assert redact(SLACK_SECRET) != SLACK_SECRET


# --- the command line ------------------------------------------------------------------------------


def test_issue_send_on_the_command_line(sqlite_register_url: str, database: Database) -> None:
    from click.testing import CliRunner

    from secposture.cli.main import cli

    runner = CliRunner()
    with webhook_receiver() as (base, received):
        env = {
            "SECPOSTURE_ACTOR": "Sam Security",
            "SECPOSTURE_SLACK_WEBHOOK_URL": f"{base}/services/{SLACK_SECRET}/ok",
            "SECPOSTURE_TEAMS_WEBHOOK_URL": f"{base}/workflows/{SLACK_SECRET}/fail",
        }
        args = ["issue", "send", "1", "--db", sqlite_register_url]
        good = runner.invoke(cli, [*args, "--channel", "slack"], env=env)
        bad = runner.invoke(cli, [*args, "--channel", "teams", "--format", "json"], env=env)
        unknown = runner.invoke(cli, ["issue", "send", "9", "--db", sqlite_register_url], env=env)
    assert good.exit_code == 0, good.output
    assert good.stdout.startswith(
        "Sent issue 1 (version 1) over slack to Slack webhook at 127.0.0.1"
    )
    assert bad.exit_code == 1
    assert json.loads(bad.stdout)["failed"][0]["kind"] == "HTTP status"
    assert "teams: not sent (HTTP status): 127.0.0.1 answered 500" in bad.stderr
    assert unknown.exit_code == 2 and "no issue 9" in unknown.stderr
    assert len(received) == 2
    for result in (good, bad, unknown):
        assert SLACK_SECRET not in result.output + result.stderr
        assert "Zq8sLkP3vXw9RtY2mN4bC7dF" not in result.output + result.stderr
    assert recorded(database)[1] == ["raised", "sent"]


def test_a_refused_recipient_sends_nothing_and_records_nothing(
    database: Database, cert: tuple[Path, Path]
) -> None:
    env = smtp_env(0, cert[0], SECPOSTURE_SECURITY_EMAIL="nobody@example.org")
    with smtp_server(cert) as (port, mailbox):
        outcome = send(database, {**env, "SECPOSTURE_SMTP_PORT": str(port)}, "email")
    [failure] = outcome.failed
    assert failure.kind == "refused by the server" and "550" in str(failure)
    assert mailbox.messages == []
    assert recorded(database) == ([], ["raised"])


def test_a_delivery_is_recorded_on_sqlite_and_postgresql(register_url: str) -> None:
    with Database.open(register_url, clock=fixed_clock) as db:
        raise_one(db)
        with webhook_receiver() as (base, received):
            env = {"SECPOSTURE_SLACK_WEBHOOK_URL": f"{base}/services/{SLACK_SECRET}/ok"}
            first = send(db, env)
            second = send(db, env)
        assert first.ok and second.ok and len(received) == 2
        rows, actions = recorded(db)
    assert actions == ["raised", "sent", "sent_again"]
    assert [r["sent_by"] for r in rows] == [ACTOR, ACTOR]
    assert received[1].body["blocks"][1]["text"]["text"].startswith("Sent again: nothing changed")


class DatabaseLostAfterDelivery:
    """A real channel whose delivery succeeds, after which the register cannot be written (its
    table is gone): the send must say it was delivered but not recorded."""

    def __init__(self, channel: object, db: Database) -> None:
        self._channel = channel
        self._db = db
        self.name = "slack"
        self.destination = "Slack webhook at 127.0.0.1"

    def send(self, outgoing: object) -> object:
        from sqlalchemy import text

        result = self._channel.send(outgoing)  # type: ignore[attr-defined]
        with self._db.engine.begin() as conn:
            conn.execute(text("DROP TABLE issue_delivery"))
        return result


def test_a_delivery_the_register_cannot_record_is_reported_not_hidden(database: Database) -> None:
    with webhook_receiver() as (base, received):
        [channel] = channels_from_env(
            (), {"SECPOSTURE_SLACK_WEBHOOK_URL": f"{base}/services/{SLACK_SECRET}/ok"}
        )
        outcome = send_issue(database, ACTOR, 1, [DatabaseLostAfterDelivery(channel, database)])  # type: ignore[list-item]
    assert len(received) == 1
    assert outcome.delivered == [] and outcome.failed == [] and not outcome.ok
    [lost] = outcome.unrecorded
    assert lost.result.channel == "slack" and "issue_delivery" in lost.problem
    assert SLACK_SECRET not in lost.problem


# --- escaping: typed text stays text ---------------------------------------------------------------

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from secposture.register.delivery.chat import slack_escape, teams_escape  # noqa: E402


@given(st.text())
def test_slack_text_can_hold_no_markup_that_links_or_mentions(text: str) -> None:
    escaped = slack_escape(text)
    assert "<" not in escaped and ">" not in escaped
    assert escaped.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") == text


@given(st.text())
def test_teams_text_has_every_markdown_character_escaped(text: str) -> None:
    escaped = teams_escape(text)
    plain = []
    i = 0
    while i < len(escaped):
        if escaped[i] == "\\":
            assert i + 1 < len(escaped), "a trailing backslash would escape what follows"
            plain.append(escaped[i + 1])
            i += 2
        else:
            assert escaped[i] not in "`*_[]()#+-.!|>~<&{}", escaped
            plain.append(escaped[i])
            i += 1


def test_the_http_clients_log_never_holds_the_webhook_secret(database: Database) -> None:
    """httpx logs each request's URL at INFO: in a process that never loaded the GitHub client,
    the chat channel alone must still keep the webhook's secret out of the log."""
    import subprocess
    import sys

    program = (
        "import logging, sys\n"
        "logging.basicConfig(level=logging.DEBUG, stream=sys.stdout)\n"
        "from secposture.register.delivery.config import channels_from_env\n"
        "from secposture.register.delivery.chat import ChatChannel\n"
        "[channel] = channels_from_env((), {'SECPOSTURE_SLACK_WEBHOOK_URL': sys.argv[1]})\n"
        "assert isinstance(channel, ChatChannel)\n"
        "import httpx\n"
        "with httpx.Client() as c: c.post(sys.argv[1], json={})\n"
        "assert 'secposture.sources.github.transport' not in sys.modules\n"
    )
    with webhook_receiver() as (base, received):
        url = f"{base}/services/{SLACK_SECRET}/ok"
        run = subprocess.run(  # nosec B603 - this interpreter, our own program
            [sys.executable, "-c", program, url], capture_output=True, text=True, timeout=60
        )
    assert run.returncode == 0, run.stderr
    assert "HTTP Request: POST" in run.stdout + run.stderr
    assert "Zq8sLkP3vXw9RtY2mN4bC7dF" not in run.stdout + run.stderr
    assert len(received) == 1
