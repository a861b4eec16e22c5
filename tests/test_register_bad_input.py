"""Bad input to the register: each gets one clear line naming the field (and the CSV line and
column), exit 2, and nothing of it is written: no record, no history row."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from secposture.cli.main import cli
from secposture.register.database import Database
from secposture.register.due import local_today
from secposture.register.models import Base, History

TODAY = local_today()
VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"


class Run:
    """The command line against one register (with a product, payments, in it)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.runner = CliRunner()
        self(
            "product",
            "add",
            "payments",
            "--owner",
            "Jo",
            "--repo",
            "acme/pay",
            "--classification",
            "official",
        )

    def __call__(self, *args: str, input: str | None = None) -> Result:
        env = {"SECPOSTURE_DATABASE_URL": self.url, "SECPOSTURE_ACTOR": "tester", "NO_COLOR": "1"}
        return self.runner.invoke(cli, list(args), input=input, env=env, catch_exceptions=False)


@pytest.fixture
def run(register_url: str) -> Run:
    """On SQLite and on PostgreSQL: where writing and rolling back differ."""
    return Run(register_url)


@pytest.fixture
def run1(sqlite_register_url: str) -> Run:
    """On SQLite only: checks of a value, the same whatever stores it."""
    return Run(sqlite_register_url)


def counts(url: str) -> dict[str, int]:
    """Rows in every table: what "nothing written" is checked against."""
    with Database.open(url) as database:
        return database.read(
            lambda tx: {
                table.name: tx.session.scalar(select(func.count()).select_from(table)) or 0
                for table in Base.metadata.sorted_tables
            }
        )


def refused(run: Run, *args: str, input: str | None = None) -> str:
    """Run a command that must fail; return its error line; check nothing was written."""
    before = counts(run.url)
    result = run(*args, input=input)
    assert result.exit_code == 2, (result.output, result.stderr)
    assert "Traceback" not in result.output
    assert counts(run.url) == before
    lines = result.stderr.strip().splitlines()
    if lines and lines[-1].startswith("Error: "):
        # click's own usage error (a bad option value): under `secposture` (cli.main) it is
        # printed as one "secposture: error:" line too, as test_register_cli checks.
        return lines[-1]
    assert len(lines) == 1 and lines[0].startswith("secposture: error: "), result.stderr
    return lines[0]


TM = ("threat-model", "record", "--product", "payments", "--participant", "Jo", "--method", "STRIDE", "--scope", "s", "--artefact", "https://wiki.example.org/tm", "--summary", "s")  # fmt: skip
ISSUE = ("issue", "raise", "--product", "payments", "--environment", "prod", "--description", "d", "--business-context", "b", "--conversation", "https://chat.example.org/1", "--data-at-risk", "names", "--ticket", "https://jira.example.org/SEC-1")  # fmt: skip
RISK = ("risk", "add", "--title", "T", "--product", "payments", "--owner", "Jo", "--cause", "c", "--event", "e", "--effect", "f", "--likelihood", "3", "--impact", "3", "--treatment", "treat")  # fmt: skip


# --- dates --------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["2026-02-30", "29/11/2026", "yesterday", "2026-1-5", ""])
def test_invalid_dates_name_the_option(run1: Run, value: str) -> None:
    line = refused(run1, *TM, "--on", value)
    assert "Invalid value for '--on'" in line and "is not a date (YYYY-MM-DD)" in line


def test_a_review_in_the_future_is_a_typo(run1: Run) -> None:
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    line = refused(run1, *TM, "--on", tomorrow)
    assert f"--on (the date of the review): {tomorrow} is in the future" in line


def test_expiry_dates_must_be_ahead(run1: Run) -> None:
    line = refused(
        run1,
        "waiver",
        "add",
        "--control",
        "codeowners",
        "--repo",
        "acme/pay",
        "--reason",
        "r",
        "--approver",
        "a",
        "--expires",
        TODAY.isoformat(),
    )
    assert "--expires (the expiry date): " in line and "is not after today" in line
    run1(*RISK)
    line = refused(
        run1,
        "risk",
        "accept",
        "1",
        "--by",
        "Director",
        "--expires",
        (TODAY - timedelta(days=3)).isoformat(),
    )
    assert "--expires (the expiry date): " in line and "before the acceptance" in line


# --- unknown records ------------------------------------------------------------------------------


def test_unknown_product_suggests_the_close_name(run: Run) -> None:
    args = list(TM)
    args[args.index("payments")] = "paymnets"
    line = refused(run, *args)
    assert line.endswith("unknown product 'paymnets': did you mean payments?")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("risk", "review", "42"), "no risk 42"),
        (("issue", "show", "7"), "no issue 7"),
        (("waiver", "retire", "3"), "no waiver 3"),
        (("threat-model", "retire", "5"), "no threat model 5"),
    ],
)
def test_unknown_ids(run1: Run, args: tuple[str, ...], message: str) -> None:
    assert message in refused(run1, *args)


def test_a_retired_product_takes_no_new_records(run: Run) -> None:
    run("product", "retire", "payments")
    assert "--product (the product): payments is retired" in refused(run, *TM)


# --- duplicates -----------------------------------------------------------------------------------


def test_duplicate_records_are_refused(run: Run) -> None:
    assert "already exists (product 1)" in refused(
        run, "product", "add", "PAYMENTS", "--owner", "x", "--classification", "official"
    )
    assert run(*TM, "--on", TODAY.isoformat()).exit_code == 0
    assert "already has a threat-model review on" in refused(run, *TM, "--on", TODAY.isoformat())
    ithc = (
        "ithc",
        "record",
        "--product",
        "payments",
        "--supplier",
        "X",
        "--scheme",
        "CHECK",
        "--scope",
        "s",
        "--report",
        "R",
    )
    assert run(*ithc).exit_code == 0
    assert "already has an ithc on" in refused(run, *ithc)
    assert run(*ISSUE, "--cvss", VECTOR).exit_code == 0
    assert "issue 1 is already open for payments with ticket" in refused(
        run, *ISSUE, "--cvss", VECTOR
    )
    assert run(*RISK).exit_code == 0
    assert "risk 1 already has the title 'T'" in refused(run, *RISK)
    waiver = (
        "waiver",
        "add",
        "--control",
        "codeowners",
        "--repo",
        "acme/pay",
        "--reason",
        "r",
        "--approver",
        "a",
        "--expires",
        (TODAY + timedelta(days=9)).isoformat(),
    )
    assert run(*waiver).exit_code == 0
    assert "waiver 1 already waives codeowners for acme/pay" in refused(run, *waiver)


# --- fields ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vector", "message"),
    [
        ("CVSS:3.1/AV:N/AC:L", "--cvss (the CVSS vector): CVSS 3.1 vector: missing base metric(s)"),
        ("AV:N/AC:L/Au:N/C:P/I:P/A:P", "CVSS v2 vectors are not supported"),
        ("CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "AV (Attack Vector) cannot be 'Q'"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", "scores 0.0 (none): give the severity"),
    ],
)
def test_bad_cvss_vectors(run1: Run, vector: str, message: str) -> None:
    line = refused(run1, *ISSUE, "--cvss", vector)
    assert line.startswith("secposture: error: issue not raised: ")
    assert message in line


def test_a_zero_score_vector_with_a_severity_is_taken(run1: Run) -> None:
    result = run1(
        *ISSUE, "--cvss", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", "--severity", "low"
    )
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--cve", "CVE-99-1"), "--cve (the CVE ids): 'CVE-99-1' is not a CVE id"),
        (
            ("--conversation", "javascript:alert(1)"),
            "--conversation (the links to recorded conversations): 'javascript:alert(1)' is not a link",
        ),
        (("--ticket", "not a link"), "--ticket (the ticket link): 'not a link' is not a link"),
        (
            ("--environment", "prod\x1b[31m red"),
            "--environment (the OS / environment): contains control characters",
        ),
        (("--description", "   "), "--description (the description): required, and empty"),
        (
            ("--description", "x" * 20_001),
            "--description (the description): too long (20001 characters; at most 20000)",
        ),
        (("--patch-days", "urgent=1"), "--patch-days: 'urgent=1' is not SEVERITY=DAYS"),
    ],
)
def test_bad_issue_fields(run1: Run, extra: tuple[str, ...], message: str) -> None:
    assert message in refused(run1, *ISSUE, "--cvss", VECTOR, *extra)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            (
                "product",
                "add",
                "svc",
                "--owner",
                "x",
                "--classification",
                "official",
                "--repo",
                "not-a-repo",
            ),
            "--repo (the repositories): 'not-a-repo' is not a repository: write OWNER/REPO",
        ),
        (
            ("product", "add", "svc", "--owner", "x", "--classification", "restricted"),
            "'restricted' is not one of official, official-sensitive, secret, top-secret",
        ),
        (
            ("product", "add", "a" * 301, "--owner", "x", "--classification", "official"),
            "NAME (the name): too long",
        ),
        (
            ("product", "add", "two\nlines", "--owner", "x", "--classification", "official"),
            "NAME (the name): must be one line",
        ),
        (
            (
                "change",
                "record",
                "--product",
                "payments",
                "--trigger",
                "whim",
                "--description",
                "d",
            ),
            "'whim' is not one of data, authentication, infrastructure, integration, dependency",
        ),
        (
            (
                "risk",
                "add",
                "--title",
                "T",
                "--owner",
                "Jo",
                "--cause",
                "c",
                "--event",
                "e",
                "--effect",
                "f",
                "--likelihood",
                "3",
                "--impact",
                "3",
                "--treatment",
                "treat",
            ),
            "--product (the product): required for a risk on a product register",
        ),
        (
            (
                "risk",
                "add",
                "--title",
                "T",
                "--product",
                "payments",
                "--owner",
                "Jo",
                "--cause",
                "c",
                "--event",
                "e",
                "--effect",
                "f",
                "--likelihood",
                "6",
                "--impact",
                "3",
                "--treatment",
                "treat",
            ),
            "Invalid value for '--likelihood'",
        ),
        (
            (
                "waiver",
                "add",
                "--control",
                "no-such-control",
                "--repo",
                "acme/pay",
                "--reason",
                "r",
                "--approver",
                "a",
                "--expires",
                "2099-01-01",
            ),
            "--control (the control): 'no-such-control' is not one of",
        ),
        (
            (
                "waiver",
                "add",
                "--control",
                "codeowners",
                "--reason",
                "r",
                "--approver",
                "a",
                "--expires",
                "2099-01-01",
            ),
            "give either a repository or a product",
        ),
        (
            ("product", "update", "payments", "--remove-repo", "acme/other"),
            "acme/other is not a repository of payments",
        ),
        (("product", "update", "payments"), "nothing to change"),
        (("risk", "list", "--product", "nope"), "unknown product 'nope'"),
        (("due", "--policy", "/no/such/secposture.toml"), "policy file not found"),
    ],
)
def test_bad_fields_name_the_field(run1: Run, args: tuple[str, ...], message: str) -> None:
    assert message in refused(run1, *args)


def test_a_bad_database_option(run1: Run, tmp_path: Path) -> None:
    line = refused(run1, "product", "list", "--db", str(tmp_path / "missing" / "r.db"))
    assert "--db: folder" in line and "does not exist" in line


# --- CSV import -------------------------------------------------------------------------------------

HEADER = "title,register,product,cause,event,effect,owner,likelihood_before,impact_before,treatment,next_review_on\n"
GOOD = "Laptop theft,product,payments,laptops travel,one is stolen,data exposed,Jo,2,3,treat,\n"


def write(tmp_path: Path, text: str | bytes, name: str = "risks.csv") -> str:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, "utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            HEADER + GOOD + "Phishing,product,payments,c,e,f,Jo,7,3,treat,\n",
            "risks.csv line 3, column likelihood_before: '7' is not a whole number from 1 to 5",
        ),
        (
            HEADER + GOOD + "Phishing,product,payments,c,e,f,Jo,2,3,ignore,\n",
            "risks.csv line 3, column treatment: 'ignore' is not one of tolerate, treat, transfer, terminate",
        ),
        (
            HEADER + GOOD + "Phishing,product,payments,c,e,f,Jo,2,3,treat,2026-13-01\n",
            "risks.csv line 3, column next_review_on: '2026-13-01' is not a date (YYYY-MM-DD)",
        ),
        (
            HEADER + GOOD + "Phishing,product,nowhere,c,e,f,Jo,2,3,treat,\n",
            "risks.csv line 3: unknown product 'nowhere'",
        ),
        (
            HEADER + GOOD + ",product,payments,c,e,f,Jo,2,3,treat,\n",
            "risks.csv line 3, column title: required, and empty",
        ),
        (HEADER + GOOD + GOOD, "risks.csv line 3: duplicate of line 2"),
        (
            HEADER + GOOD + "Phishing,product,payments,c,e,f,Jo,2,3\n",
            "risks.csv line 3: 9 cells, but the header has 11 columns",
        ),
        (
            HEADER.replace("likelihood_before", "likelyhood") + GOOD,
            "risks.csv line 1: unknown column 'likelyhood'",
        ),
        (
            "title,owner\nX,Jo\n",
            "risks.csv line 1: missing column(s) register, cause, event, effect",
        ),
        ("", "risks.csv: empty file"),
        (HEADER, "risks.csv: no risks to import (only a header)"),
        (HEADER + 'Phishing,product,payments,"c\n', "risks.csv line 2: not valid CSV"),
    ],
)
def test_malformed_csv_rows_name_line_and_column(
    run1: Run, tmp_path: Path, body: str, message: str
) -> None:
    line = refused(run1, "risk", "import", write(tmp_path, body))
    assert message in line


def test_a_multi_line_cell_counts_its_lines(run1: Run, tmp_path: Path) -> None:
    body = (
        HEADER
        + 'Laptop theft,product,payments,"laptops\ntravel\nabroad",e,f,Jo,2,3,treat,\nPhishing,product,payments,c,e,f,Jo,9,3,treat,\n'
    )
    assert "line 5, column likelihood_before" in refused(
        run1, "risk", "import", write(tmp_path, body)
    )


def test_every_bad_row_is_reported_at_once(run: Run, tmp_path: Path) -> None:
    body = (
        HEADER + "A,product,payments,c,e,f,Jo,0,3,treat,\nB,product,payments,c,e,f,Jo,2,9,treat,\n"
    )
    line = refused(run, "risk", "import", write(tmp_path, body))
    assert (
        "2 errors" in line
        and "line 2, column likelihood_before" in line
        and "line 3, column impact_before" in line
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b"title,register\n" + b"\xff\xfe bad",
            "risks.csv: not UTF-8 text (byte 15); save it as CSV UTF-8",
        ),
        (HEADER.encode() + b"A\x00,product\n", "risks.csv: contains NUL bytes"),
    ],
)
def test_files_that_are_not_csv(run1: Run, tmp_path: Path, data: bytes, message: str) -> None:
    assert message in refused(run1, "risk", "import", write(tmp_path, data))


def test_a_spreadsheet_byte_order_mark_is_fine(run1: Run, tmp_path: Path) -> None:
    result = run1("risk", "import", write(tmp_path, ("\ufeff" + HEADER + GOOD).encode("utf-8")))
    assert result.exit_code == 0, result.stderr
    assert counts(run1.url)["risk"] == 1


def test_missing_import_file(run1: Run, tmp_path: Path) -> None:
    line = refused(run1, "risk", "import", str(tmp_path / "nope.csv"))
    assert "nope.csv: cannot read: No such file or directory" in line


def test_a_failed_import_leaves_no_history(run: Run, tmp_path: Path) -> None:
    body = (
        HEADER
        + GOOD
        + "Phishing,product,payments,c,e,f,Jo,2,3,treat,\nBad,product,payments,c,e,f,Jo,x,3,treat,\n"
    )
    refused(run, "risk", "import", write(tmp_path, body))
    with Database.open(run.url) as database:
        rows = database.read(lambda tx: tx.session.scalar(select(func.count(History.id))))
    assert rows == 1  # the product added by the fixture, nothing else
