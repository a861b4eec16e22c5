"""`scan --record` of a checkout whose file and folder names are not UTF-8.

git gives names as bytes; the scan keeps an undecodable byte as a surrogate escape (local.py) and
the reports show it as `\\xNN`. The register stores it the same way, on SQLite and PostgreSQL, so
such a repository is recorded like any other and reads back as the reports showed it. (It is
recorded under its GitHub name, --repository here: a folder's name is never a register's name.)
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from click.testing import CliRunner
from conftest import git

from secposture.cli.main import cli
from secposture.register.database import Database
from secposture.register.scans import latest_scans, scan_history
from secposture.reports.common import clean, storable
from secposture.web import queries

WORKFLOW = "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n"


def odd_repository(tmp_path: Path) -> Path:
    """A repository in a folder named r<0xe9>po, with a workflow named ci-<0xe9>.yml and an npm
    package in a folder named svc-<0xe9>: each lands in some control's evidence."""
    root = Path(os.fsdecode(os.fsencode(tmp_path) + b"/r\xe9po"))
    files = {
        b".github/workflows/ci-\xe9.yml": WORKFLOW.encode(),
        b"svc-\xe9/package.json": b'{"name": "svc", "version": "1.0.0"}\n',
        b"README.md": b"# app\n",
    }
    for name, data in files.items():
        path = os.fsencode(root) + b"/" + name
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(data)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "--no-verify", "-m", "odd names")
    return root


def record(root: Path, url: str, *extra: str) -> dict[str, object]:
    result = CliRunner().invoke(
        cli,
        ["scan", str(root), "--offline", "--format", "json", "--record", "--db", url,
         "--actor", "ci", *extra],
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code in (0, 1), result.output
    assert "recorded 1 scan" in result.stderr
    report: dict[str, object] = json.loads(result.stdout)
    return report


def test_storable_escapes_what_a_utf8_store_cannot_hold() -> None:
    assert storable("docs/caf\udce9.md") == "docs/caf\\xe9.md" == clean("docs/caf\udce9.md")
    assert storable("lone \ud800 surrogate") == "lone \\ud800 surrogate"
    assert storable("nul\x00byte") == "nul\\x00byte"
    plain = "plain: café, tab\tand newline\n"
    assert storable(plain) is plain  # everything else is kept as it is


def test_record_stores_undecodable_names_escaped_and_reads_them_back(
    tmp_path: Path, register_url: str
) -> None:
    root = odd_repository(tmp_path)
    report = record(root, register_url, "--repository", "acme/r-po")
    controls = {c["id"]: c for c in report["controls"]}  # type: ignore[attr-defined]
    assert report["target"]["name"] == "r\\xe9po"  # type: ignore[index]

    with Database.open(register_url) as database:
        stored = database.read(
            lambda tx: {
                result.control: (result.summary, result.evidence)
                for _run, result in scan_history(tx, "acme/r-po")
            }
        )
        latest = database.read(lambda tx: [run.repository for run in latest_scans(tx)])
        views = database.read(lambda tx: queries.repository_scans(tx, "acme/r-po"))
        estate = database.read(lambda tx: [row.repository for row in queries.estate(tx).rows])
    assert latest == estate == ["acme/r-po"]
    # What the register holds is what the report showed: summaries and evidence alike.
    for control in ("actions-pinned", "workflow-permissions", "dependency-update-config"):
        summary, evidence = stored[control]
        assert summary == controls[control]["summary"]
        assert evidence == controls[control]["findings"][: len(evidence)]
    assert ".github/workflows/ci-\\\\xe9.yml" in json.dumps(stored["actions-pinned"][1])
    assert "svc-\\\\xe9" in json.dumps(stored["dependency-update-config"][1])
    [view] = views
    shown = {r["control"]: r for r in view.results}
    assert shown["actions-pinned"]["evidence"] == stored["actions-pinned"][1]


def test_record_with_a_repository_name_keeps_the_evidence_names(
    tmp_path: Path, register_url: str
) -> None:
    root = odd_repository(tmp_path)
    record(root, register_url, "--repository", "acme/odd-names")
    with Database.open(register_url) as database:
        evidence = database.read(
            lambda tx: [result.evidence for _run, result in scan_history(tx, "acme/odd-names")]
        )
    assert evidence
    text = json.dumps(evidence)
    assert "ci-\\\\xe9.yml" in text and "\\udce9" not in text


def test_text_no_utf8_store_can_hold_is_recorded_escaped(register_url: str) -> None:
    """A finding can quote a file's text: NUL (refused by PostgreSQL) and a lone surrogate (a
    JSON file's "\\ud800") are stored as escapes, like an undecodable byte."""
    from secposture.model import ControlResult, Finding, Level, Outcome, ScanReport, Status, Target
    from secposture.scan_register import record_reports

    finding = Finding("p", Outcome.NEGATIVE, "quoted nul\x00 and \ud800 and caf\udce9")
    result = ControlResult(
        id="security-policy",
        title="Security policy",
        level=Level.REQUIRED,
        guidance="SECURITY.md",
        status=Status.FAIL,
        summary="nul\x00",
        findings=(finding,),
    )
    report = ScanReport(
        target=Target(name="caf\udce9", source="folder", path="/x"),
        results=(result,),
        problems=(),
        generated_at="2026-11-29T12:00:00+00:00",
        tool_version="0",
    )
    with Database.open(register_url) as database:
        record_reports(database, [("caf\udce9", report)], "ci")
        [(repository, summary, evidence)] = database.read(
            lambda tx: [
                (run.repository, result.summary, result.evidence)
                for run, result in scan_history(tx, "caf\\xe9")
            ]
        )
    assert repository == "caf\\xe9"
    assert summary == "nul\\x00"
    assert evidence[0]["message"] == "quoted nul\\x00 and \\ud800 and caf\\xe9"
