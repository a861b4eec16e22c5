"""`issue show --format email`: a message that reads and pastes (8bit, or quoted-printable for a
line too long for SMTP, never base64), addressed to the Security team from configuration, dated
with the register's real UTC offset, and with no header a field could add (issue 13). The output
is parsed with Python's email package; real SQLite and PostgreSQL registers."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from click.testing import CliRunner, Result
from conftest import NOW

from secposture.cli.main import cli
from secposture.register.database import Database, Tx
from secposture.register.issues import IssueInput, get_issue, raise_issue
from secposture.register.products import add_product
from secposture.reports import issue_report

Run = Callable[..., Result]

VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
ISSUE = (
    "--product", "payments", "--environment", "Debian 12 build agents",
    "--business-context", "Builds sign releases", "--data-at-risk", "Signing keys",
    "--conversation", "https://chat.example.org/archives/C1/p1", "--cvss", VECTOR,
    "--ticket", "https://jira.example.org/browse/SEC-1", "--no-interactive",
)  # fmt: skip
DESCRIPTION = "The café’s naïve XML parser — résumé uploads\nreach it unauthenticated."


@pytest.fixture
def run(register_url: str) -> Run:
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
        environment = {
            "SECPOSTURE_DATABASE_URL": register_url,
            "SECPOSTURE_ACTOR": "Test Engineer",
            "SECPOSTURE_PATCH_DAYS": "",
            "SECPOSTURE_SECURITY_EMAIL": "",
            "NO_COLOR": "1",
            **(env or {}),
        }
        return runner.invoke(cli, list(args), env=environment, catch_exceptions=False)

    ok(invoke("product", "add", "payments", "--owner", "Jo", "--classification", "official"))
    return invoke


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.output, result.stderr)
    return result


def parsed(text: str) -> EmailMessage:
    """The message as a mail program reads it: bytes (an 8bit body is UTF-8 octets)."""
    message = email.message_from_bytes(text.encode("utf-8"), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_the_body_is_8bit_text_that_reads_as_it_is(run: Run) -> None:
    ok(run("issue", "raise", *ISSUE, "--description", DESCRIPTION))
    result = ok(
        run("issue", "show", "1", "--format", "email", "--to", "Security <security@example.org>")
    )
    message = parsed(result.stdout)
    assert message["Content-Transfer-Encoding"] == "8bit"
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    # What a person sees in the output is the text itself, not base64.
    assert (
        "The café’s naïve XML parser — résumé uploads\nreach it unauthenticated." in result.stdout
    )
    assert DESCRIPTION in message.get_content()
    assert "Signing keys" in message.get_content()


def test_a_line_too_long_for_smtp_is_quoted_printable(run: Run) -> None:
    long_line = "résumé " * 200  # 1,400 characters on one line: over SMTP's 998
    ok(run("issue", "raise", *ISSUE, "--description", long_line))
    result = ok(run("issue", "show", "1", "--format", "email", "--to", "security@example.org"))
    message = parsed(result.stdout)
    assert message["Content-Transfer-Encoding"] == "quoted-printable"
    assert long_line.strip() in message.get_content()
    assert max(len(line) for line in result.stdout.splitlines()) <= 78
    assert "Signing keys" in result.stdout  # the short lines still read as they are


def test_to_comes_from_configuration_and_the_option_wins(run: Run) -> None:
    ok(run("issue", "raise", *ISSUE, "--description", "xz backdoor"))
    configured = {"SECPOSTURE_SECURITY_EMAIL": "Security team <security@example.gov.uk>"}
    result = ok(run("issue", "show", "1", "--format", "email", env=configured))
    assert parsed(result.stdout)["To"] == "Security team <security@example.gov.uk>"
    assert result.stderr == ""
    given = ok(
        run("issue", "show", "1", "--format", "email", "--to", "a@example.org", env=configured)
    )
    assert parsed(given.stdout)["To"] == "a@example.org"


def test_without_an_address_to_is_left_out_and_stderr_says_how_to_set_it(run: Run) -> None:
    ok(run("issue", "raise", *ISSUE, "--description", "xz backdoor"))
    result = ok(run("issue", "show", "1", "--format", "email"))
    message = parsed(result.stdout)
    assert message["To"] is None
    assert "SECPOSTURE_SECURITY_EMAIL" in result.stderr and "--to" in result.stderr
    assert "SECPOSTURE_SECURITY_EMAIL" not in result.stdout  # the message itself has no note


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        (
            {"SECPOSTURE_SECURITY_EMAIL": "a@example.org\nBcc: b@example.org"},
            "SECPOSTURE_SECURITY_EMAIL",
        ),
        ({}, "--from"),
    ],
)
def test_no_header_can_be_added_through_an_address(
    run: Run, env: dict[str, str], needle: str
) -> None:
    ok(run("issue", "raise", *ISSUE, "--description", "xz backdoor"))
    extra = () if env else ("--from", "me@example.org\r\nBcc: b@example.org")
    result = run("issue", "show", "1", "--format", "email", *extra, env=env)
    assert result.exit_code == 2 and needle in result.stderr
    assert "Bcc" not in result.stdout


def test_no_header_can_be_added_through_a_field(run: Run) -> None:
    ok(run("issue", "raise", *ISSUE, "--description", "xz\nBcc: everyone@example.org\nSubject: x"))
    message = parsed(ok(run("issue", "show", "1", "--format", "email")).stdout)
    assert message["Bcc"] is None and len(message.get_all("Subject") or []) == 1
    assert "Bcc: everyone@example.org" in message.get_content()


def _offset(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%z")


def test_the_date_has_the_registers_utc_offset(run: Run) -> None:
    ok(run("issue", "raise", *ISSUE, "--description", "xz backdoor"))
    # The moment the message is made: the suite's moment, held still while it is made.
    with time_machine.travel(NOW, tick=False):
        london = parsed(ok(run("issue", "show", "1", "--format", "email")).stdout)
        new_york = parsed(
            ok(
                run(
                    "issue", "show", "1", "--format", "email",
                    env={"SECPOSTURE_TIMEZONE": "America/New_York"},
                )
            ).stdout
        )  # fmt: skip
    assert parsedate_to_datetime(london["Date"]) == NOW.replace(microsecond=0)
    # London's offset at that moment: +0000 in winter (never -0000, "offset unknown"), +0100 in
    # summer (tests/run-dates runs the suite at both).
    assert london["Date"].endswith(" " + _offset(NOW, "Europe/London"))
    assert new_york["Date"].endswith(" " + _offset(NOW, "America/New_York"))
    assert _offset(datetime(2026, 11, 29, tzinfo=UTC), "America/New_York") == "-0500"


def test_in_summer_london_is_an_hour_ahead(register_url: str) -> None:
    summer = datetime(2027, 7, 1, 9, 30, tzinfo=UTC)

    def raised(tx: Tx) -> str:
        add_product(tx, "payments", owner="Jo", data_classification="official")
        issue = raise_issue(
            tx,
            IssueInput(
                product="payments",
                reporter="Jo",
                environment="Debian",
                description="xz backdoor",
                business_context="Builds",
                data_at_risk="Keys",
                cvss_vector=VECTOR,
                ticket_link="https://jira.example.org/browse/SEC-1",
                conversation_links=["https://chat.example.org/p/1"],
                cve_ids="",
            ),
        )
        return issue_report.email(get_issue(tx, issue.id), at=tx.now, timezone=tx.timezone)

    with Database.open(register_url, clock=lambda: summer, timezone="Europe/London") as database:
        text = database.write("Jo", raised)
    date = parsed(text)["Date"]
    assert date.endswith(" +0100")
    assert parsedate_to_datetime(date) == summer
    assert parsedate_to_datetime(date).utcoffset() == timedelta(hours=1)
