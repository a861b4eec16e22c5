"""The register's commands end to end: click's runner in-process against a real SQLite file and a
real PostgreSQL database, and the installed entry point in a subprocess for exit codes."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import date, timedelta
from email import message_from_string
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from secposture.cli.main import cli
from secposture.register.due import local_today

TODAY = local_today()
VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"  # 9.8 critical
MEDIUM_VECTOR = "CVSS:3.1/AV:N/AC:H/PR:L/UI:N/S:U/C:L/I:L/A:N"  # 3.7? scored by the library

Run = Callable[..., Result]


def ago(days: int) -> str:
    return (TODAY - timedelta(days=days)).isoformat()


def ahead(days: int) -> str:
    return (TODAY + timedelta(days=days)).isoformat()


@pytest.fixture
def run(register_url: str) -> Run:
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        environment = {
            "SECPOSTURE_DATABASE_URL": register_url,
            "SECPOSTURE_ACTOR": "Test Engineer",
            "SECPOSTURE_PATCH_DAYS": "",
            "NO_COLOR": "1",
            **(env or {}),
        }
        return runner.invoke(cli, list(args), input=input, env=environment, catch_exceptions=False)

    return invoke


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.output, result.stderr)
    return result


def data(result: Result) -> Any:
    return json.loads(ok(result).stdout)


def failed(result: Result) -> str:
    """A refused command: exit 2 and one line on stderr."""
    assert result.exit_code == 2, (result.output, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("secposture: error: ")
    return lines[0]


def add_product(run: Run, name: str = "payments", *extra: str) -> dict[str, Any]:
    return data(
        run(
            "product", "add", name, "--owner", "Jo Bloggs", "--repo", "acme/Payments-API",
            "--repo", "acme/payments-web", "--classification", "official", "--format", "json",
            *extra,
        )
    )  # fmt: skip


ISSUE = (
    "--product", "payments", "--cve", "cve-2024-3094", "--environment", "Debian 12 build agents",
    "--description", "xz backdoor in the build image", "--business-context", "Builds sign releases",
    "--conversation", "https://chat.example.org/archives/C1/p1", "--data-at-risk", "Signing keys",
    "--cvss", VECTOR, "--ticket", "https://jira.example.org/browse/SEC-1",
)  # fmt: skip


def raise_issue(run: Run, *extra: str) -> dict[str, Any]:
    return data(run("issue", "raise", *ISSUE, "--format", "json", *extra))


RISK = (
    "--title", "Webhook replay", "--product", "payments", "--owner", "Jo Bloggs",
    "--cause", "webhooks are not signed", "--event", "an attacker replays a refund",
    "--effect", "money lost", "--likelihood", "3", "--impact", "4", "--treatment", "treat",
)  # fmt: skip


def add_risk(run: Run, *extra: str) -> dict[str, Any]:
    return data(run("risk", "add", *RISK, "--format", "json", *extra))


# --- help -----------------------------------------------------------------------------------

COMMANDS = [
    ["product", "add"], ["product", "list"], ["product", "show"], ["threat-model", "record"],
    ["ithc", "record"], ["change", "record"], ["issue", "raise"], ["issue", "show"],
    ["issue", "cannot-fix"], ["risk", "add"], ["risk", "list"], ["risk", "review"],
    ["risk", "accept"], ["risk", "close"], ["risk", "export"], ["risk", "import"],
    ["waiver", "add"], ["waiver", "list"], ["waiver", "retire"], ["due"], ["history"],
    ["product", "update"], ["product", "retire"], ["threat-model", "list"], ["ithc", "retire"],
    ["change", "list"], ["issue", "list"], ["issue", "close"],
]  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_db_and_actor(command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0
    assert "--db URL" in result.output
    assert "--actor NAME" in result.output
    assert "Example" in result.output and f"secposture {' '.join(command)}" in result.output


@pytest.mark.parametrize(
    "group", ["product", "threat-model", "ithc", "change", "issue", "risk", "waiver"]
)
def test_group_help_teaches_with_examples(group: str) -> None:
    result = CliRunner().invoke(cli, [group, "--help"])
    assert result.exit_code == 0
    assert "Examples:" in result.output
    assert f"secposture {group} " in result.output


def test_issue_raise_and_due_help_say_what_matters() -> None:
    raise_help = " ".join(CliRunner().invoke(cli, ["issue", "raise", "--help"]).output.split())
    for field in ("CVE", "environment", "business context", "recorded conversations", "data"):
        assert field in raise_help
    due_help = " ".join(CliRunner().invoke(cli, ["due", "--help"]).output.split())
    assert "Exit code 1 when anything is overdue" in due_help


def test_change_help_lists_the_five_triggers_from_the_package_data() -> None:
    text = CliRunner().invoke(cli, ["change", "record", "--help"]).output
    for trigger in ("data", "authentication", "infrastructure", "integration", "dependency"):
        assert f"  {trigger}  " in text


def test_the_command_line_imports_no_database_code() -> None:
    code = (
        "import sys, secposture.cli.main; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'alembic', 'rich')"
        " or m.startswith('secposture.register.')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


# --- products -------------------------------------------------------------------------------


def test_product_add_list_show(run: Run) -> None:
    added = add_product(run)
    assert added["repositories"] == ["acme/payments-api", "acme/payments-web"]
    listed = data(run("product", "list", "--format", "json"))
    assert [p["name"] for p in listed] == ["payments"]
    table = ok(run("product", "list")).stdout
    assert "payments" in table and "acme/payments-api" in table
    by_repo = data(run("product", "list", "--repo", "ACME/payments-web", "--format", "json"))
    assert [p["name"] for p in by_repo] == ["payments"]
    shown = data(run("product", "show", "PAYMENTS", "--format", "json"))
    assert shown["owner"] == "Jo Bloggs"
    assert shown["latest_threat_model"] is None


def test_product_update_and_retire_keep_history(run: Run) -> None:
    add_product(run)
    ok(
        run(
            "product",
            "update",
            "payments",
            "--add-repo",
            "acme/batch",
            "--remove-repo",
            "acme/payments-web",
        )
    )
    shown = data(run("product", "show", "payments", "--format", "json"))
    assert shown["repositories"] == ["acme/batch", "acme/payments-api"]
    ok(run("product", "retire", "payments", "--actor", "Head of Service"))
    assert data(run("product", "list", "--format", "json")) == []
    assert len(data(run("product", "list", "--all", "--format", "json"))) == 1
    history = data(run("history", "product", str(shown["id"]), "--format", "json"))
    assert [(h["action"], h["actor"]) for h in history] == [
        ("created", "Test Engineer"),
        ("updated", "Test Engineer"),
        ("retired", "Head of Service"),
    ]


def test_actor_defaults_to_the_os_user(run: Run) -> None:
    import getpass

    ok(
        run(
            "product",
            "add",
            "payments",
            "--owner",
            "Jo",
            "--classification",
            "official",
            env={"SECPOSTURE_ACTOR": ""},
        )
    )
    history = data(run("history", "product", "1", "--format", "json"))
    assert history[0]["actor"] == getpass.getuser()


# --- threat models, ITHCs, changes, due -----------------------------------------------------


def test_records_and_what_falls_due(run: Run) -> None:
    add_product(run)
    # Never reviewed, never tested: both due now.
    due = run("due", "--format", "json")
    assert due.exit_code == 1
    assert {(d["kind"], d["status"], d["reason"]) for d in json.loads(due.stdout)} == {
        ("threat-model", "overdue", "never recorded"),
        ("ithc", "overdue", "never recorded"),
    }
    review = data(
        run(
            "threat-model", "record", "--product", "payments", "--on", ago(30),
            "--participant", "Jo Bloggs, Sam Patel", "--participant", "Ali Khan",
            "--method", "STRIDE", "--scope", "payments API", "--artefact",
            "https://wiki.example.org/payments/tm", "--summary", "two new threats", "--format", "json",
        )
    )  # fmt: skip
    assert review["participants"] == ["Jo Bloggs", "Sam Patel", "Ali Khan"]
    test = data(
        run(
            "ithc", "record", "--product", "payments", "--on", ago(60), "--supplier", "Example Ltd",
            "--scheme", "crest", "--scope", "external", "--report", "ITHC-2026-117", "--high", "1",
            "--medium", "4", "--format", "json",
        )
    )  # fmt: skip
    assert test["scheme"] == "CREST"
    assert test["findings"] == {"critical": 0, "high": 1, "medium": 4, "low": 0, "info": 0}
    quiet = run("due", "--format", "json")
    assert (quiet.exit_code, json.loads(quiet.stdout)) == (0, [])
    assert "Nothing overdue" in ok(run("due")).stdout
    # A major change after both makes both due again, from the change's date.
    ok(
        run(
            "change",
            "record",
            "--product",
            "payments",
            "--on",
            ago(2),
            "--trigger",
            "authentication",
            "--description",
            "new IdP",
        )
    )
    after = run("due", "--format", "json")
    assert after.exit_code == 1
    assert {(d["kind"], d["due_on"]) for d in json.loads(after.stdout)} == {
        ("threat-model", ago(2)),
        ("ithc", ago(2)),
    }
    shown = data(run("product", "show", "payments", "--format", "json"))
    assert shown["latest_threat_model"].startswith(ago(30))
    assert shown["latest_major_change"].startswith(f"{ago(2)} authentication")


def test_due_uses_the_policy_interval_and_the_window(run: Run, tmp_path: Path) -> None:
    add_product(run)
    ok(
        run(
            "threat-model",
            "record",
            "--product",
            "payments",
            "--on",
            ago(100),
            "--participant",
            "Jo",
            "--method",
            "STRIDE",
            "--scope",
            "all",
            "--artefact",
            "https://wiki.example.org/tm",
            "--summary",
            "ok",
        )
    )
    ok(
        run(
            "ithc",
            "record",
            "--product",
            "payments",
            "--on",
            ago(10),
            "--supplier",
            "X",
            "--scheme",
            "CHECK",
            "--scope",
            "all",
            "--report",
            "R1",
        )
    )
    assert run("due", "--kind", "threat-model").exit_code == 0  # due in ~80 days: not yet
    policy = tmp_path / "secposture.toml"
    policy.write_text("[controls.threat-model]\ninterval_months = 3\n")
    result = run("due", "--kind", "threat-model", "--policy", str(policy), "--format", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)[0]["reason"].endswith("every 3 months")
    soon = run("due", "--kind", "threat-model", "--within", "120", "--format", "json")
    assert soon.exit_code == 0
    assert json.loads(soon.stdout)[0]["status"] == "due_soon"


def test_due_table_for_people(run: Run) -> None:
    add_product(run)
    result = run("due")
    assert result.exit_code == 1
    assert "overdue" in result.stdout and "never recorded" in result.stdout
    assert "2 overdue, 0 due within 30 days" in result.stdout


# --- issues ---------------------------------------------------------------------------------


def test_issue_raise_with_flags_scores_and_dates(run: Run) -> None:
    add_product(run)
    issue = raise_issue(run)
    assert issue["cve_ids"] == ["CVE-2024-3094"]
    assert issue["cvss"]["base_score"] == 9.8
    assert (issue["severity"], issue["cvss"]["severity"]) == ("critical", "critical")
    assert issue["patch_by"] == (TODAY + timedelta(days=7)).isoformat()
    assert issue["reporter"] == "Test Engineer"
    assert issue["status"] == "open"


def test_issue_severity_and_patch_schedule_can_be_set(run: Run) -> None:
    add_product(run)
    issue = raise_issue(run, "--severity", "medium", "--patch-days", "medium=14")
    assert (issue["severity"], issue["cvss"]["severity"]) == ("medium", "critical")
    assert issue["patch_by"] == (TODAY + timedelta(days=14)).isoformat()
    other = data(
        run(
            "issue", "raise", *ISSUE[:-1], "https://jira.example.org/browse/SEC-2",
            "--format", "json", env={"SECPOSTURE_PATCH_DAYS": "critical=2"},
        )
    )  # fmt: skip
    assert other["patch_by"] == (TODAY + timedelta(days=2)).isoformat()


def test_issue_raise_without_a_terminal_lists_what_is_missing(run: Run) -> None:
    add_product(run)
    line = failed(run("issue", "raise", "--product", "payments", "--description", "x"))
    for flag in (
        "--environment",
        "--business-context",
        "--conversation",
        "--data-at-risk",
        "--cvss",
        "--ticket",
    ):
        assert flag in line
    assert "--cve" not in line  # optional
    assert data(run("issue", "list", "--format", "json"))["total"] == 0


def test_issue_raise_asks_on_a_terminal_and_asks_again_after_a_typo(run: Run) -> None:
    add_product(run)
    answers = "\n".join(
        [
            "payments",
            "CVE-2021-44228",
            "Ubuntu 22.04, Java 17",
            "log4shell in the reporting service",
            "Reports go to the public",
            "https://chat.example.org/p/2",
            "Names and addresses",
            "CVSS:3.1/AV:N/AC:L",  # a typo: asked again
            VECTOR,
            "https://jira.example.org/browse/SEC-9",
        ]
    )
    result = run("issue", "raise", "--interactive", input=answers + "\n")
    ok(result)
    assert "missing base metric" in result.output
    assert "Raised issue 1 for payments" in result.stdout
    issue = data(run("issue", "show", "1", "--format", "json"))
    assert issue["cve_ids"] == ["CVE-2021-44228"]
    assert issue["environment"] == "Ubuntu 22.04, Java 17"
    assert issue["conversation_links"] == ["https://chat.example.org/p/2"]


def test_issue_raise_checks_the_product_before_asking_anything(run: Run) -> None:
    add_product(run)
    result = run("issue", "raise", "--interactive", "--product", "paymnts", input="\n" * 20)
    line = failed(result)
    assert "unknown product 'paymnts': did you mean payments?" in line
    assert "OS / environment" not in result.output  # not one question was asked
    future = failed(run("issue", "raise", "--interactive", "--on", ahead(1), input="\n" * 20))
    assert f"--on {ahead(1)} is in the future" in future and "Product" not in future


def test_issue_raise_asks_again_for_an_unknown_product_with_close_names(run: Run) -> None:
    add_product(run)
    answers = [
        "paymnts",  # a typo: asked again, with the name it is close to
        "Payments",  # any case: stored as registered
        "",
        "Debian 12",
        "SSRF in the image proxy",
        "Fetches partner images",
        "https://chat.example.org/p/3",
        "Internal metadata",
        VECTOR,
        "https://jira.example.org/browse/SEC-10",
    ]
    result = run("issue", "raise", "--interactive", input="\n".join(answers) + "\n")
    ok(result)
    assert "did you mean payments?" in result.output
    assert data(run("issue", "show", "1", "--format", "json"))["product"] == "payments"


def test_issue_raise_keeps_the_answers_when_the_register_refuses_them(run: Run) -> None:
    import shlex

    add_product(run)
    raise_issue(run, "--ticket", "https://jira.example.org/browse/SEC-11")
    answers = [
        "payments",
        "",
        "Debian 12",
        "the same ticket again",
        "Context",
        "https://chat.example.org/p/4",
        "Names",
        VECTOR,
        "https://jira.example.org/browse/SEC-11",  # already open for payments: refused at the end
    ]
    result = run("issue", "raise", "--interactive", input="\n".join(answers) + "\n")
    assert result.exit_code == 2 and "already open" in result.stderr
    again = result.stderr.split("Your answers, to raise it again: ", 1)[1].splitlines()[0]
    args = shlex.split(again)
    assert args[:4] == ["secposture", "issue", "raise", "--no-interactive"]
    for answer in answers[2:]:
        assert answer in args, answer
    changed = [a.replace("SEC-11", "SEC-12") for a in args[1:]]
    assert run(*changed).exit_code == 0  # the printed command raises it as typed


def test_issue_report_as_markdown_and_email(run: Run) -> None:
    add_product(run)
    raise_issue(
        run,
        "--description",
        "xz backdoor\nBcc: everyone@example.org\n# not a heading <script>alert(1)</script> @security-team",
        "--ticket",
        "https://jira.example.org/browse/SEC-3",
    )
    markdown = ok(run("issue", "show", "1", "--format", "markdown")).stdout
    for heading in (
        "CVE ids",
        "OS / environment",
        "Description",
        "Business context",
        "Recorded conversations",
        "Data that could be compromised",
    ):
        assert f"### {heading}" in markdown
    assert "<script>" not in markdown and "&lt;script&gt;" in markdown
    assert "\n\\# not a heading" in markdown
    assert "@security-team" not in markdown  # no mention that would notify a team
    email = ok(
        run("issue", "show", "1", "--format", "email", "--to", "Security <security@example.org>")
    ).stdout
    message = message_from_string(email)
    assert message["To"] == "Security <security@example.org>"
    assert message["Bcc"] is None  # a new line in the description cannot add a header
    assert message["Subject"].startswith("[CRITICAL] Security issue 1 in payments: CVE-2024-3094")
    body = message.get_payload()
    assert "Bcc: everyone@example.org" in body  # it stays in the body, as text
    assert "Signing keys" in body


def test_email_recipient_must_be_one_address(run: Run) -> None:
    add_product(run)
    raise_issue(run)
    line = failed(
        run("issue", "show", "1", "--format", "email", "--to", "a@example.org\nBcc: b@example.org")
    )
    assert "--to" in line


def test_issue_close_and_list(run: Run) -> None:
    add_product(run)
    raise_issue(run)
    assert data(run("issue", "list", "--format", "json"))["total"] == 1
    ok(run("issue", "close", "1", "--resolution", "fixed", "--note", "patched in 5.6.1"))
    assert data(run("issue", "list", "--format", "json"))["issues"] == []
    closed = data(run("issue", "list", "--status", "fixed", "--format", "json"))["issues"]
    assert closed[0]["resolution"] == "fixed: patched in 5.6.1"
    line = failed(run("issue", "close", "1", "--resolution", "fixed"))
    assert "issue 1 is fixed, not open" in line


def test_cannot_fix_creates_a_linked_risk(run: Run) -> None:
    add_product(run)
    raise_issue(run)
    risk = data(
        run(
            "issue", "cannot-fix", "1", "--reason", "vendor appliance, no patch", "--owner", "Jo Bloggs",
            "--likelihood", "2", "--impact", "5", "--format", "json",
        )
    )  # fmt: skip
    assert risk["issues"] == [1]
    assert risk["title"] == "Cannot fix: xz backdoor in the build image"
    assert (risk["score_before"], risk["treatment"], risk["product"]) == (
        10,
        "tolerate",
        "payments",
    )
    issue = data(run("issue", "show", "1", "--format", "json"))
    assert (issue["status"], issue["risks"]) == ("cannot_fix", [risk["id"]])
    assert "### Risks" in ok(run("issue", "show", "1", "--format", "markdown")).stdout
    # An issue already handled cannot be handled twice.
    assert "not open" in failed(
        run(
            "issue",
            "cannot-fix",
            "1",
            "--reason",
            "x",
            "--owner",
            "Jo",
            "--likelihood",
            "1",
            "--impact",
            "1",
        )
    )


def test_cannot_fix_is_all_or_nothing(run: Run) -> None:
    add_product(run)
    raise_issue(run)
    line = failed(
        run(
            "issue",
            "cannot-fix",
            "1",
            "--reason",
            "vendor",
            "--owner",
            "   ",
            "--likelihood",
            "2",
            "--impact",
            "5",
        )
    )
    assert "owner" in line
    assert data(run("issue", "show", "1", "--format", "json"))["status"] == "open"
    assert data(run("risk", "list", "--all", "--format", "json"))["total"] == 0


# --- risks ----------------------------------------------------------------------------------


def test_risk_lifecycle(run: Run) -> None:
    add_product(run)
    risk = add_risk(run, "--action", "sign webhooks (PAY-88)")
    assert (risk["score_before"], risk["score_after"]) == (12, 12)
    assert risk["next_review_on"] > TODAY.isoformat()
    reviewed = data(
        run(
            "risk",
            "review",
            "1",
            "--likelihood-after",
            "2",
            "--action",
            "rotate keys",
            "--next-review",
            ahead(30),
            "--format",
            "json",
        )
    )
    assert (reviewed["score_after"], reviewed["next_review_on"]) == (8, ahead(30))
    assert reviewed["actions"] == ["sign webhooks (PAY-88)", "rotate keys"]
    assert reviewed["last_reviewed_on"] == TODAY.isoformat()
    accepted = data(
        run(
            "risk",
            "accept",
            "1",
            "--by",
            "Director of Digital",
            "--expires",
            ahead(90),
            "--format",
            "json",
        )
    )
    assert (accepted["status"], accepted["accepted_on"]) == ("accepted", TODAY.isoformat())
    closed = data(run("risk", "close", "1", "--reason", "webhooks signed", "--format", "json"))
    assert closed["status"] == "closed"
    assert "closed" in failed(run("risk", "review", "1"))
    history = data(run("history", "risk", "1", "--format", "json"))
    assert [h["action"] for h in history] == ["created", "reviewed", "accepted", "closed"]
    assert history[1]["before"]["score_after"] == 12 and history[1]["after"]["score_after"] == 8
    shown = ok(run("risk", "show", "1", "--history")).stdout
    assert "History" in shown and "accepted" in shown


def test_risk_list_filters_sorts_and_pages(run: Run) -> None:
    add_product(run)
    add_product(run, "records")
    for i in range(1, 8):
        ok(
            run(
                "risk", "add", "--title", f"Risk {i}", "--product", "payments" if i % 2 else "records",
                "--owner", "Jo" if i < 4 else "Sam", "--cause", "c", "--event", "e", "--effect", "e",
                "--likelihood", str(1 + i % 5), "--impact", "3", "--treatment", "treat",
            )
        )  # fmt: skip
    page = data(
        run("risk", "list", "--sort", "score", "--desc", "--limit", "3", "--format", "json")
    )
    assert page["total"] == 7
    scores = [r["score_after"] for r in page["risks"]]
    assert scores == sorted(scores, reverse=True) and len(scores) == 3
    second = data(run("risk", "list", "--limit", "3", "--offset", "3", "--format", "json"))
    assert [r["id"] for r in second["risks"]] == [4, 5, 6]
    sams = data(run("risk", "list", "--owner", "sam", "--product", "payments", "--format", "json"))
    assert [r["id"] for r in sams["risks"]] == [5, 7]
    high = data(run("risk", "list", "--min-score", "12", "--format", "json"))
    assert sorted(r["score_after"] for r in high["risks"]) == [12, 15]
    table = ok(run("risk", "list", "--limit", "2")).stdout
    assert "1-2 of 7; --offset 2 for more" in table


def test_risk_export_and_import_round_trip(run: Run, tmp_path: Path) -> None:
    add_product(run)
    add_risk(run, "--action", "one", "--action", "two")
    ok(run("risk", "add", *RISK[:1], "=cmd|' /C calc'!A0", *RISK[2:]))  # a formula as a title
    out = tmp_path / "risks.csv"
    ok(run("risk", "export", "-o", str(out)))
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8"))))
    assert [r["title"] for r in rows] == ["Webhook replay", "'=cmd|' /C calc'!A0"]
    assert rows[0]["actions"] == "one\ntwo"
    exported = data(run("risk", "export", "--format", "json"))
    assert [r["title"] for r in exported] == ["Webhook replay", "=cmd|' /C calc'!A0"]
    # Into another register: the same risks, the formula guard undone.
    other = f"sqlite:///{tmp_path / 'other.db'}"
    data(
        run(
            "product",
            "add",
            "payments",
            "--owner",
            "Jo",
            "--classification",
            "official",
            "--db",
            other,
            "--format",
            "json",
        )
    )
    imported = data(run("risk", "import", str(out), "--db", other, "--format", "json"))["imported"]
    assert [r["title"] for r in imported] == ["Webhook replay", "=cmd|' /C calc'!A0"]
    assert imported[0]["actions"] == ["one", "two"]
    history = data(run("history", "risk", "1", "--db", other, "--format", "json"))
    assert history[0]["action"] == "imported"
    # Into the same register: every row is a duplicate, nothing is written.
    line = failed(run("risk", "import", str(out)))
    assert "risks.csv line 2: risk 1 already has the title 'Webhook replay'" in line
    assert data(run("risk", "list", "--all", "--format", "json"))["total"] == 2


def test_risk_import_from_standard_input(run: Run) -> None:
    add_product(run)
    text = (
        "title,register,product,cause,event,effect,owner,likelihood_before,impact_before,treatment\n"
        "Laptop theft,organisation,,laptops leave offices,a laptop is stolen,data exposed,CISO,2,3,treat\n"
    )
    result = data(run("risk", "import", "-", "--format", "json", input=text))
    assert result["imported"][0]["register"] == "organisation"
    assert result["imported"][0]["product"] is None


# --- waivers --------------------------------------------------------------------------------


def test_waivers(run: Run) -> None:
    add_product(run)
    waiver = data(
        run(
            "waiver", "add", "--control", "container-scanning", "--repo", "ACME/Legacy",
            "--reason", "image retired", "--approver", "Head of Security", "--expires", ahead(10), "--format", "json",
        )
    )  # fmt: skip
    assert (waiver["repository"], waiver["product"]) == ("acme/legacy", None)
    ok(
        run(
            "waiver",
            "add",
            "--control",
            "security-adrs",
            "--product",
            "payments",
            "--reason",
            "ADRs in the wiki",
            "--approver",
            "TA",
            "--expires",
            ahead(200),
        )
    )
    for_repo = data(run("waiver", "list", "--repo", "acme/payments-api", "--format", "json"))
    assert [w["control"] for w in for_repo] == ["security-adrs"]
    assert len(data(run("waiver", "list", "--format", "json"))) == 2
    due = run("due", "--kind", "waiver", "--format", "json")
    assert due.exit_code == 0
    assert [d["record"] for d in json.loads(due.stdout)] == ["waiver 1"]
    ok(run("waiver", "retire", "1"))
    assert len(data(run("waiver", "list", "--format", "json"))) == 1
    assert len(data(run("waiver", "list", "--all", "--format", "json"))) == 2


# --- the installed command --------------------------------------------------------------------


def _secposture(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "secposture", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
    )


def test_exit_codes_of_the_installed_command(tmp_path: Path) -> None:
    env = {"SECPOSTURE_DATABASE_URL": str(tmp_path / "r.db"), "SECPOSTURE_ACTOR": "ci"}
    added = _secposture(
        "product", "add", "payments", "--owner", "Jo", "--classification", "official", env=env
    )
    assert added.returncode == 0, added.stderr
    overdue = _secposture("due", env=env)
    assert overdue.returncode == 1
    bad = _secposture(
        "threat-model",
        "record",
        "--product",
        "paymnts",
        "--participant",
        "Jo",
        "--method",
        "STRIDE",
        "--scope",
        "s",
        "--artefact",
        "https://x.example.org",
        "--summary",
        "s",
        env=env,
    )
    assert bad.returncode == 2
    assert bad.stderr == "secposture: error: unknown product 'paymnts': did you mean payments?\n"
    assert "Traceback" not in bad.stderr


def test_json_output_is_plain_ascii_with_escapes(run: Run) -> None:
    add_product(run, "pay\u202eroll")
    raw = ok(run("product", "list", "--format", "json")).stdout
    assert raw.isascii()
    assert json.loads(raw)[0]["name"] == "pay\u202eroll"
    table = ok(run("product", "list")).stdout
    assert "\u202e" not in table and "pay\\u202eroll" in table


def test_dates_default_to_today(run: Run) -> None:
    add_product(run)
    review = data(
        run(
            "threat-model",
            "record",
            "--product",
            "payments",
            "--participant",
            "Jo",
            "--method",
            "STRIDE",
            "--scope",
            "s",
            "--artefact",
            "https://x.example.org",
            "--summary",
            "s",
            "--format",
            "json",
        )
    )
    assert review["held_on"] == TODAY.isoformat()
    assert date.fromisoformat(review["held_on"]) == TODAY


def test_issue_raise_asks_on_a_real_terminal(tmp_path: Path) -> None:
    """Standard input a terminal (a pseudo-terminal here): the missing fields are asked for."""
    import pty
    import select

    env = {
        **os.environ,
        "SECPOSTURE_DATABASE_URL": str(tmp_path / "r.db"),
        "SECPOSTURE_ACTOR": "Jo",
        "NO_COLOR": "1",
    }
    added = _secposture(
        "product", "add", "payments", "--owner", "Jo", "--classification", "official", env=env
    )
    assert added.returncode == 0, added.stderr
    answers = [
        "",  # no CVE
        "Kubernetes 1.29 on EKS",
        "Dashboard exposed without auth",
        "Staff use it daily",
        "https://chat.example.org/p/7",
        "Staff names",
        VECTOR,
        "https://jira.example.org/browse/SEC-77",
    ]
    controller, terminal = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "secposture", "issue", "raise", "--product", "payments"],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=env,
    )
    os.close(terminal)
    output = b""
    try:
        for answer in answers:
            # Wait for each question (it ends with ": ") before answering it.
            while not output.rstrip().endswith(b":"):
                ready, _, _ = select.select([controller], [], [], 30)
                assert ready, output.decode(errors="replace")
                output += os.read(controller, 4096)
            os.write(controller, answer.encode() + b"\n")
            output = b""
        while True:
            ready, _, _ = select.select([controller], [], [], 30)
            if not ready:
                break
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the terminal closes when the command exits
                break
            if not chunk:
                break
            output += chunk
    finally:
        assert proc.wait(timeout=30) == 0, output.decode(errors="replace")
        os.close(controller)
    assert b"Raised issue 1 for payments: critical" in output
    shown = _secposture("issue", "show", "1", "--format", "json", env=env)
    issue = json.loads(shown.stdout)
    assert (issue["environment"], issue["cve_ids"]) == ("Kubernetes 1.29 on EKS", [])


def test_linking_a_risk_to_an_issue_is_in_both_histories(run: Run) -> None:
    add_product(run)
    raise_issue(run)
    risk = add_risk(run, "--issue", "1")
    assert risk["issues"] == [1]
    issue = data(run("issue", "show", "1", "--format", "json"))
    assert issue["risks"] == [risk["id"]]
    history = data(run("history", "issue", "1", "--format", "json"))
    assert [h["action"] for h in history] == ["raised", "risk_linked"]
    assert (history[1]["before"]["risks"], history[1]["after"]["risks"]) == ([], [risk["id"]])
    line = failed(run("risk", "add", *RISK[:1], "Other", *RISK[2:], "--issue", "9"))
    assert "--issue (the linked issues): no issue 9" in line


# --- reading never creates the register ---------------------------------------------------------

READ_ONLY_COMMANDS = [
    ("product", "list"),
    ("product", "show", "payments"),
    ("risk", "list"),
    ("risk", "show", "1"),
    ("risk", "export", "--format", "csv"),
    ("issue", "list"),
    ("issue", "show", "1"),
    ("waiver", "list"),
    ("due",),
    ("history", "risk", "1"),
    ("user", "list"),
]


@pytest.mark.parametrize("command", READ_ONLY_COMMANDS, ids=" ".join)
@pytest.mark.parametrize("named", [False, True], ids=["embedded", "--db"])
def test_a_read_only_command_never_creates_the_register(
    command: tuple[str, ...], named: bool, tmp_path: Path
) -> None:
    from secposture.register.location import default_path
    from secposture.scan_register import open_register

    path = tmp_path / "later.db" if named else default_path()
    args = [*command, "--db", str(path)] if named else list(command)
    result = CliRunner().invoke(cli, args, env={"NO_COLOR": "1"}, catch_exceptions=False)
    assert result.exit_code in (0, 2), (result.output, result.stderr)
    assert not path.exists() and not path.parent.joinpath("register.db-wal").exists()
    if not named:
        assert not path.parent.exists()  # not even the folder
        assert open_register(None, record=False) is None  # a later scan still sees no register
    if result.exit_code == 0:
        assert f"no register at {path} yet" in result.stderr


def test_a_read_only_command_on_a_missing_register_reads_as_empty(tmp_path: Path) -> None:
    env = {"NO_COLOR": "1", "SECPOSTURE_DATABASE_URL": str(tmp_path / "none.db")}
    listed = CliRunner().invoke(cli, ["risk", "list", "--format", "json"], env=env)
    assert listed.exit_code == 0 and json.loads(listed.stdout)["risks"] == []
    due = CliRunner().invoke(cli, ["due", "--format", "json"], env=env)
    assert due.exit_code == 0, due.output
    unknown = CliRunner().invoke(cli, ["product", "show", "payments"], env=env)
    assert unknown.exit_code == 2 and "payments" in unknown.stderr
    added = CliRunner().invoke(
        cli,
        ["product", "add", "payments", "--owner", "Jo", "--classification", "official"],
        env={**env, "SECPOSTURE_ACTOR": "a"},
    )
    assert added.exit_code == 0, added.output
    assert (tmp_path / "none.db").exists()  # a write creates it
