"""Register errors name what the person typed, never a stored field name (issue 13): the command
line names the option (`--on`), the dashboard's forms a label ("the date of the test"), both from
the one table in register/fields.py. Real SQLite and PostgreSQL registers."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from secposture.cli.main import cli
from secposture.register import fields
from secposture.register.due import local_today
from secposture.register.errors import InvalidField

SRC = Path(__file__).resolve().parent.parent / "src" / "secposture"
TODAY = local_today()
TOMORROW = (TODAY + timedelta(days=1)).isoformat()
VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"

Run = Callable[..., Result]

PRODUCT = ("product", "add", "payments", "--owner", "Jo", "--classification", "official")
ITHC = ("ithc", "record", "--product", "payments", "--supplier", "X", "--scheme", "CHECK", "--scope", "s", "--report", "R")  # fmt: skip
TM = ("threat-model", "record", "--product", "payments", "--participant", "Jo", "--method", "STRIDE", "--scope", "s", "--artefact", "https://wiki.example.org/tm", "--summary", "s")  # fmt: skip
ISSUE = ("issue", "raise", "--no-interactive", "--product", "payments", "--environment", "prod", "--description", "d", "--business-context", "b", "--conversation", "https://chat.example.org/1", "--data-at-risk", "names", "--ticket", "https://jira.example.org/SEC-1")  # fmt: skip
RISK = ("risk", "add", "--title", "T", "--product", "payments", "--owner", "Jo", "--cause", "c", "--event", "e", "--effect", "f", "--likelihood", "3", "--impact", "3", "--treatment", "treat")  # fmt: skip
WAIVER = ("waiver", "add", "--control", "codeowners", "--reason", "r", "--approver", "a", "--expires", TOMORROW)  # fmt: skip


@pytest.fixture
def run(register_url: str) -> Run:
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        env = {"SECPOSTURE_DATABASE_URL": register_url, "SECPOSTURE_ACTOR": "t", "NO_COLOR": "1"}
        return runner.invoke(cli, list(args), env=env, catch_exceptions=False)

    assert invoke(*PRODUCT).exit_code == 0
    return invoke


def refused(result: Result) -> str:
    assert result.exit_code == 2, (result.output, result.stderr)
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("secposture: error: ")
    return line


# Every stored name a register error could carry: none may reach a person.
STORED_NAMES = sorted(name for name in fields.FIELDS if "_" in name or "." in name)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((*ITHC, "--on", TOMORROW), f"--on (the date of the test): {TOMORROW} is in the future"),
        ((*TM, "--on", TOMORROW), f"--on (the date of the review): {TOMORROW} is in the future"),
        ((*TM, "--artefact", "wiki page"), "--artefact (the link to the threat model): "),
        ((*ISSUE, "--cvss", "CVSS:3.1/AV:N"), "issue not raised: --cvss (the CVSS vector): "),
        ((*ISSUE, "--cvss", VECTOR, "--cve", "CVE-99-1"), "--cve (the CVE ids): 'CVE-99-1'"),
        ((*RISK, "--issue", "9"), "--issue (the linked issues): no issue 9"),
        (("product", "add", "x" * 400, "--owner", "Jo", "--classification", "official"), "NAME (the name): too long"),
        (("product", "update", "payments", "--add-repo", "not a repo"), "--add-repo (the repositories to add): 'not a repo'"),
        ((*WAIVER, "--repo", "nope"), "--repo (the repository): 'nope' is not a repository"),
        (("waiver", "add", "--control", "codeowners", "--repo", "acme/x", "--reason", "r", "--approver", "a", "--expires", TODAY.isoformat()), "--expires (the expiry date): "),
        (("history", "risk", "1", "--actor", "x" * 300), None),
    ],
)  # fmt: skip
def test_command_line_errors_name_the_option_typed(
    run: Run, args: tuple[str, ...], expected: str | None
) -> None:
    result = run(*args)
    if expected is None:  # a read takes no actor: nothing to refuse
        assert result.exit_code == 0
        return
    line = refused(result)
    assert expected in line
    leaked = [name for name in STORED_NAMES if re.search(rf"\b{re.escape(name)}\b", line)]
    assert leaked == [], line


def test_a_risk_review_and_acceptance_name_their_options(run: Run) -> None:
    assert run(*RISK).exit_code == 0
    line = refused(run("risk", "review", "1", "--on", TOMORROW))
    assert f"--on (the date of the review): {TOMORROW} is in the future" in line
    line = refused(run("risk", "review", "1", "--next-review", "2000-01-01"))
    assert "--next-review (the date of the next review): 2000-01-01 is before the review" in line
    line = refused(run("risk", "accept", "1", "--by", "D", "--expires", TODAY.isoformat()))
    assert "--expires (the expiry date): " in line and "expires_on" not in line
    line = refused(run("risk", "close", "1", "--reason", "r", "--on", TOMORROW))
    assert f"--on (the date it was closed): {TOMORROW}" in line


def test_a_field_no_option_of_the_command_sets_is_named_by_its_label(run: Run) -> None:
    assert run("product", "retire", "payments").exit_code == 0
    line = refused(run(*TM))
    assert "--product (the product): payments is retired" in line
    line = refused(run("product", "retire", "payments"))
    assert "the product: payments is already retired" in line


def test_the_dashboards_forms_get_labels() -> None:
    error = InvalidField("performed_on", "2027-01-01 is in the future (today is 2026-11-29)")
    assert fields.form_message(error) == (
        "The date of the test: 2027-01-01 is in the future (today is 2026-11-29)"
    )
    assert fields.label("expires_on") == "the expiry date"
    assert fields.label("some_new_field") == "some new field"  # never the raw name
    assert fields.option("repository", {"--add-repo", "--db"}) == "--add-repo"
    assert fields.option("held_on", {"--db"}) is None


# Where the register names a field: InvalidField("name", ...), validate.*("name", ...), and the
# dashboard's form fields that refuse a value themselves (web/forms.py: dates and numbers).
_RAISED = re.compile(
    r"""(?:InvalidField|validate\.(?:text|line|optional_line|choice|url|urls|names|repository|"""
    r"""likelihood_or_impact|count|parse_date|not_future|after)|"""
    r"""form\.(?:day|required_day|number))\(\s*f?["']([a-z_.{}]+)["']"""
)


def test_every_field_the_register_names_has_a_row_in_the_table() -> None:
    sources = [
        *(SRC / "register").rglob("*.py"),
        *(SRC / "cli").rglob("*.py"),
        *(SRC / "web").rglob("*.py"),
    ]
    named = {
        match
        for path in sources
        for match in _RAISED.findall(path.read_text("utf-8"))
        if "{" not in match
    }
    assert named, "the pattern found no field names: update it"
    assert sorted(named - set(fields.FIELDS)) == []


def test_adding_and_removing_repositories_are_told_apart(run: Run) -> None:
    line = refused(run("product", "update", "payments", "--remove-repo", "not a repo"))
    assert "--remove-repo (the repositories to remove): 'not a repo'" in line
