"""Estate formats: repositories x controls from real scans of in-memory repositories.

Golden files hold a small hand-built estate (stable while probes change their wording); regenerate
them after an intended change with:
    UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_estate_reports.py
"""

from __future__ import annotations

import csv
import functools
import io
import json
import os
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from referencing import Registry, Resource

from secposture import catalogue
from secposture.model import (
    ApiUsage,
    ControlResult,
    EstateReport,
    EstateRepository,
    Level,
    ScanReport,
    Status,
    Target,
    WaiverRef,
)
from secposture.policy import load_policy
from secposture.reports import estate_csv, estate_html, estate_json, estate_markdown
from secposture.reports.estate import (
    ESTATE_FORMATS,
    Compliance,
    abbreviate,
    control_columns,
    control_compliance,
    estate_renderer,
    level_compliance,
)
from secposture.reports.interface import RenderOptions
from secposture.reports.json_format import as_dict as report_as_dict
from secposture.scan import scan_snapshot
from secposture.sources.memory import MemorySnapshot

ROOT = Path(__file__).parent.parent
GOLDEN = Path(__file__).parent / "golden" / "estate"
TODAY = date(2026, 11, 29)
GENERATED = "2026-11-29T10:00:00+00:00"

XSS = "<script>alert(1)</script>"
XSS_REPO = f"acme/{XSS}"
FORMULA_REPO = "=cmd|' /C calc'!A0"
MENTION_REPO = "acme/tools-@acme/security-team"
MARKUP_REPO = "acme/[bold]loud[/bold]"
ANSI_REPO = "acme/\x1b[31mred\x1b[0m\u202eevil"
HTML_ADR = "docs/adr/0002-<img src=x onerror=alert(1)>.md"
USAGE = ApiUsage(rest_requests=3, graphql_requests=4, graphql_points=12, retries=1, seconds=2.5)

ISSUE_TEMPLATE = (
    "---\nname: Feature\n---\n## Security\nWhich OWASP Top 10 risks does this change touch?\n"
)
GITLEAKS = (
    "repos:\n- repo: https://github.com/gitleaks/gitleaks\n  rev: v8.18.0\n  hooks:\n"
    "  - id: gitleaks\n"
)
PRIVATE_KEY_ONLY = (
    "repos:\n- repo: https://github.com/pre-commit/pre-commit-hooks\n  rev: v4.6.0\n  hooks:\n"
    "  - id: detect-private-key\n"
)
GOOD_FILES: dict[str, str] = {
    "README.md": "# api\n",
    "SECURITY.md": "Report to security@example.org\n",
    ".github/CODEOWNERS": "* @acme/team\n",
    ".github/ISSUE_TEMPLATE/feature.md": ISSUE_TEMPLATE,
    ".github/pull_request_template.md": "## Security\n- [ ] I have considered the OWASP Top 10\n",
    ".pre-commit-config.yaml": GITLEAKS,
    "docs/threat-model/README.md": "---\nlast_reviewed_on: 2026-10-01\n---\n# Threat model\n",
    "docs/adr/0001-record-architecture-decisions.md": "# 1. Record decisions\n\nWe record.\n",
    HTML_ADR: "---\ntags: [security]\n---\n# 2. Authentication <b>bold</b>\n\nWe use OAuth.\n",
}
WAIVING_POLICY = """\
[controls.codeowners]
enabled = false

[controls.security-policy]
level = "required"

[[waivers]]
control = "threat-model"
reason = "session booked <b>Q3</b>"
approver = "Jane Smith"
expires = 2027-01-31
"""


def scan_files(name: str, files: Mapping[str, str]) -> ScanReport:
    """A real scan of an in-memory repository, with its own policy file if it has one."""
    snapshot = MemorySnapshot(files, Target(name=name, source="github"))
    report = scan_snapshot(snapshot, load_policy(snapshot), TODAY)
    return replace(report, generated_at=GENERATED)


@functools.cache
def real_estate() -> EstateReport:
    """Six repositories: passing, hostile names, archived, fork, waived, and one not scanned."""
    repos = (
        EstateRepository(
            "acme/api",
            scan_files("acme/api", GOOD_FILES),
            url="https://github.com/acme/api",
            topics=("payments",),
        ),
        EstateRepository(
            XSS_REPO,
            scan_files(XSS_REPO, {"README.md": "x\n", ".pre-commit-config.yaml": PRIVATE_KEY_ONLY}),
            url="javascript:alert(1)",
            archived=True,
        ),
        EstateRepository(
            FORMULA_REPO,
            scan_files(FORMULA_REPO, {"README.md": "x\n", "Dockerfile": "FROM python:3.12\n"}),
            fork=True,
        ),
        EstateRepository(
            "acme/waived",
            scan_files(
                "acme/waived",
                {"README.md": "x\n", "SECURITY.md": "s\n", "secposture.toml": WAIVING_POLICY},
            ),
        ),
        EstateRepository(MENTION_REPO, scan_files(MENTION_REPO, {"README.md": "x\n"})),
        EstateRepository("acme/empty", None, error="repository is empty (no default branch)"),
    )
    return EstateReport("acme", repos, GENERATED, "0.1.0", USAGE)


def repo_named(estate: EstateReport, name: str) -> EstateRepository:
    return next(r for r in estate.repositories if r.name == name)


def status_of(estate: EstateReport, name: str, control: str) -> Status | None:
    report = repo_named(estate, name).report
    assert report is not None
    return next((r.status for r in report.results if r.id == control), None)


def test_the_real_estate_has_what_the_tests_rely_on() -> None:
    estate = real_estate()
    assert status_of(estate, "acme/api", "security-policy") is Status.PASS
    assert status_of(estate, "acme/api", "ticket-security") is Status.PASS
    assert status_of(estate, XSS_REPO, "secrets-pre-commit") is Status.PARTIAL
    assert status_of(estate, FORMULA_REPO, "container-scanning") is Status.FAIL
    assert status_of(estate, "acme/waived", "threat-model") is Status.WAIVED
    assert status_of(estate, "acme/waived", "codeowners") is None  # disabled by its policy
    api = repo_named(estate, "acme/api").report
    assert api is not None
    adrs = next(r for r in api.results if r.id == "security-adrs")
    assert adrs.status is Status.PASS and "<img src=x" in adrs.summary


# --- the shared interface -------------------------------------------------------------------------


def test_estate_renderer_knows_its_formats() -> None:
    assert ESTATE_FORMATS == ("terminal", "json", "csv", "html", "markdown")
    for fmt in ESTATE_FORMATS:
        assert callable(estate_renderer(fmt))
    with pytest.raises(ValueError, match="unknown estate format 'sarif'"):
        estate_renderer("sarif")


def test_columns_by_strictest_level_then_catalogue_order() -> None:
    columns = control_columns(real_estate())
    ids = [c.id for c in columns]
    catalogue_order = list(catalogue.load("controls")["controls"])
    ranks = [c.level.rank for c in columns]
    assert ranks == sorted(ranks)
    for level in Level:
        same = [c.id for c in columns if c.level is level]
        assert same == sorted(same, key=catalogue_order.index)
    # acme/waived makes security-policy required, so its column moves among the required ones.
    security_policy = next(c for c in columns if c.id == "security-policy")
    assert security_policy.level is Level.REQUIRED
    assert ids.index("security-policy") < ids.index("pr-template-security")
    # Disabled in one repository, evaluated in the others: still a column.
    assert "codeowners" in ids
    assert len({c.abbreviation for c in columns}) == len(columns)


def test_abbreviations_are_short_and_unique() -> None:
    ids = list(catalogue.load("controls")["controls"])
    short = abbreviate(ids)
    assert short["ticket-security"] == "ts" and short["ithc"] == "ith"
    assert short["static-analysis"] == "sa" and short["security-adrs"] == "sad"
    assert len(set(short.values())) == len(ids)
    assert all(len(s) <= 4 for s in short.values())
    clash = abbreviate(["a-b", "ab", "a-bc", "a-b-c", "abc"])
    assert len(set(clash.values())) == 5


def test_control_compliance_counts_scanned_repositories_only() -> None:
    estate = real_estate()
    per_control = control_compliance(estate)
    reports = [r.report for r in estate.repositories if r.report is not None]
    for cid, comp in per_control.items():
        statuses = [res.status for rep in reports for res in rep.results if res.id == cid]
        assert comp.passing == statuses.count(Status.PASS)
        assert comp.applicable == len([s for s in statuses if s is not Status.NOT_APPLICABLE])
    # SECURITY.md in acme/api and acme/waived, missing in three: 2 of 5.
    assert (per_control["security-policy"].passing, per_control["security-policy"].applicable) == (
        2,
        5,
    )
    assert per_control["security-policy"].percent() == "40%"
    assert per_control["codeowners"].applicable == 4  # acme/waived disables it
    # Only one repository builds an image: the other four are not applicable.
    container = per_control["container-scanning"]
    assert container.counts["not_applicable"] == 4 and container.applicable == 1
    assert per_control["threat-model"].counts["waived"] == 1


def test_level_compliance_counts_each_result_at_its_own_level() -> None:
    estate = real_estate()
    levels = level_compliance(estate)
    reports = [r.report for r in estate.repositories if r.report is not None]
    for level, comp in levels.items():
        results = [res for rep in reports for res in rep.results if res.level is level]
        assert sum(comp.counts.values()) == len(results)
    # security-policy counts as required in acme/waived only.
    required_policy = [
        res
        for rep in reports
        for res in rep.results
        if res.id == "security-policy" and res.level is Level.REQUIRED
    ]
    assert len(required_policy) == 1


def test_compliance_rate_rounds_down_and_handles_nothing_applicable() -> None:
    counts = {s.value: 0 for s in Status}
    assert Compliance({**counts, "pass": 999, "fail": 1}).percent() == "99%"
    assert Compliance({**counts, "pass": 1}).percent() == "100%"
    nothing = Compliance({**counts, "not_applicable": 3})
    assert nothing.applicable == 0 and nothing.rate is None and nothing.percent() == "–"
    waived = Compliance({**counts, "pass": 1, "waived": 1, "unknown": 2})
    assert waived.applicable == 4 and waived.percent() == "25%"


# --- terminal -------------------------------------------------------------------------------------


def _terminal(estate: EstateReport, width: int = 200, color: bool = False) -> str:
    return estate_renderer("terminal")(estate, RenderOptions(color=color, width=width))


def _grid_line(text: str, short_name: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.startswith(short_name + " "))
    return line[len(short_name) :].split()


def test_terminal_grid_has_a_symbol_per_status_in_column_order() -> None:
    estate = real_estate()
    text = _terminal(estate)
    symbols = {
        Status.PASS: "✔",
        Status.PARTIAL: "◐",
        Status.FAIL: "✘",
        Status.NOT_APPLICABLE: "–",
        Status.UNKNOWN: "?",
        Status.WAIVED: "≈",
    }
    columns = control_columns(estate)
    for name, short in (("acme/api", "api"), ("acme/waived", "waived")):
        report = repo_named(estate, name).report
        assert report is not None
        by_id = {r.id: r.status for r in report.results}
        expected = [symbols[by_id[c.id]] if c.id in by_id else "·" for c in columns]
        cells = _grid_line(text, short)
        assert cells[: len(columns)] == expected, name
    header = next(line for line in text.splitlines() if line.startswith("repository "))
    assert header.split()[1 : len(columns) + 1] == [c.abbreviation for c in columns]
    assert "key: " in text and "ts ticket-security" in text
    for label in ("✔ pass", "◐ partial", "✘ fail", "– n/a", "? unknown", "≈ waived"):
        assert label in text


def test_terminal_failing_required_column_and_heading() -> None:
    text = _terminal(real_estate())
    cells = _grid_line(text, "waived")
    # secrets-pre-commit and security-adrs fail; security-policy passes; threat-model is waived.
    assert cells[-3:] == ["2", "spc,", "sad"]
    assert _grid_line(text, "api")[-1] == "none"
    assert _grid_line(text, "empty") == ["not", "scanned", "(below)"]
    first = text.splitlines()[0]
    assert "6 repositories (5 scanned, 1 not scanned, 1 archived, 1 fork)" in first
    assert "4 with failing required controls" in first


def test_terminal_compliance_levels_usage_and_unscanned() -> None:
    text = _terminal(real_estate())
    line = next(line for line in text.splitlines() if re.match(r"\s+security-policy ", line))
    assert re.search(r"security-policy\s+2/5\s+40%\s+████░░░░░░\s+3\s+0\s+0\s+0\s+0", line)
    assert "compliance by control (pass / applicable)" in text
    assert re.search(r"passing results by level: required \d+/\d+ \(\d+%\)", text)
    assert (
        "GitHub API: 7 requests (3 REST, 4 GraphQL), 12 GraphQL points, 1 retry, 2.5 s; "
        "per repository 1.17 requests and 2.00 points" in text
    )
    assert "could not be scanned (1)" in text
    assert "acme/empty: repository is empty (no default branch)" in text


@pytest.mark.parametrize("width", [50, 80, 120])
def test_terminal_fits_the_width_and_shows_every_column(width: int) -> None:
    estate = real_estate()
    text = _terminal(estate, width=width)
    assert max(len(line) for line in text.splitlines()) <= width
    header_lines = [line for line in text.splitlines() if line.startswith("repository ")]
    headers = [word for line in header_lines for word in line.split()[1:]]
    for column in control_columns(estate):
        assert column.abbreviation in headers
    assert "failing" in header_lines[-1]
    # Every table of the grid repeats every repository.
    assert sum(1 for line in text.splitlines() if line.startswith("api ")) == len(header_lines)


def test_terminal_full_headers_when_they_fit() -> None:
    estate = real_estate()
    few = {"security-policy", "codeowners", "threat-model"}
    repos = tuple(
        replace(
            r,
            report=replace(r.report, results=tuple(x for x in r.report.results if x.id in few)),
        )
        if r.report is not None
        else r
        for r in estate.repositories
    )
    text = _terminal(replace(estate, repositories=repos), width=120)
    header = next(line for line in text.splitlines() if line.startswith("repository "))
    assert header.split()[1:4] == ["threat-model", "security-policy", "codeowners"]
    assert "key:" not in text


def test_terminal_escapes_markup_and_control_characters() -> None:
    estate = real_estate()
    hostile = (
        EstateRepository(MARKUP_REPO, repo_named(estate, "acme/api").report),
        EstateRepository(ANSI_REPO, None, error="fetch failed: [red]x[/red] \x1b[2J"),
    )
    noisy = replace(estate, repositories=estate.repositories + hostile)
    for color in (False, True):
        text = _terminal(noisy, color=color)
        assert "[bold]loud[/bold]" in text and "[red]x[/red]" in text
        assert "\\x1b[31mred" in text and "\\u202e" in text and "\\x1b[2J" in text
        assert "\x1b[31mred" not in text and "\u202e" not in text and "\x1b[2J" not in text
    assert "\x1b[" in _terminal(noisy, color=True)
    assert "\x1b" not in _terminal(noisy, color=False)


def test_terminal_empty_estate() -> None:
    text = _terminal(EstateReport("acme", (), GENERATED, "0.1.0"))
    assert "0 repositories" in text and "no repositories to show" in text
    assert "GitHub API: 0 requests" in text and "per repository" not in text


# --- JSON -----------------------------------------------------------------------------------------


@functools.cache
def _estate_validator() -> jsonschema.protocols.Validator:
    estate_schema = json.loads((ROOT / "docs" / "estate.schema.json").read_text("utf-8"))
    report_schema = json.loads((ROOT / "docs" / "report.schema.json").read_text("utf-8"))
    registry: Registry[Any] = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema)) for schema in (estate_schema, report_schema)
    )
    cls = jsonschema.validators.validator_for(estate_schema)
    cls.check_schema(estate_schema)
    return cls(estate_schema, registry=registry)


def _json(estate: EstateReport) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(estate_renderer("json")(estate, RenderOptions()))
    return data


def test_json_validates_and_reuses_the_report_shape() -> None:
    estate = real_estate()
    data = _json(estate)
    _estate_validator().validate(data)
    assert data["schema_version"] == "1.1" and data["organisation"] == "acme"
    for entry, repo in zip(data["repositories"], estate.repositories, strict=True):
        assert entry["name"] == repo.name
        if repo.report is None:
            assert entry["report"] is None and entry["error"] == repo.error
        else:
            assert entry["report"] == report_as_dict(repo.report)
    api = data["repositories"][0]
    assert api["url"] == "https://github.com/acme/api" and api["topics"] == ["payments"]
    assert data["repositories"][1]["archived"] is True
    assert data["repositories"][2]["fork"] is True
    waived = data["repositories"][3]
    assert waived["failing_required"] == ["secrets-pre-commit", "security-adrs"]


def test_json_summary_and_usage() -> None:
    data = _json(real_estate())
    summary = data["summary"]
    assert summary["repositories"] == {
        "total": 6,
        "scanned": 5,
        "not_scanned": 1,
        "archived": 1,
        "forks": 1,
        "failing_required": 4,
        "own_policy": 0,
        "own_policy_unusable": 0,
        "own_policy_refused": 0,
    }
    policy = next(c for c in summary["controls"] if c["id"] == "security-policy")
    assert policy["level"] == "required" and policy["applicable"] == 5
    assert policy["counts"]["pass"] == 2 and policy["compliance"] == 0.4
    none_apply = next(c for c in summary["controls"] if c["id"] == "workflow-permissions")
    assert none_apply["applicable"] == 0 and none_apply["compliance"] is None
    levels = summary["by_level"]
    assert set(levels) == {"required", "recommended", "extra"}
    assert levels["recommended"]["counts"]["pass"] == 1  # acme/api's PR template
    assert data["usage"] == {
        "requests": 7,
        "rest_requests": 3,
        "graphql_requests": 4,
        "graphql_points": 12,
        "retries": 1,
        "seconds": 2.5,
    }


def test_json_schema_rejects_wrong_estates() -> None:
    validator = _estate_validator()
    data = _json(real_estate())
    data["repositories"][5]["error"] = None  # not scanned, and no reason
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(data)
    data = _json(real_estate())
    data["summary"]["controls"][0]["compliance"] = 1.5
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(data)
    data = _json(real_estate())
    data["repositories"][0]["report"]["controls"][0]["status"] = "broken"  # the report's schema
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(data)


def test_json_cleans_repository_text() -> None:
    estate = real_estate()
    extra = EstateRepository(ANSI_REPO, None, error="bad \udce9 byte", topics=("a\x1bb",))
    data = _json(replace(estate, repositories=(*estate.repositories, extra)))
    _estate_validator().validate(data)
    last = data["repositories"][-1]
    assert last["name"] == "acme/\\x1b[31mred\\x1b[0m\\u202eevil"
    assert last["error"] == "bad \\xe9 byte" and last["topics"] == ["a\\x1bb"]


def test_every_estate_json_field_is_documented() -> None:
    doc = (ROOT / "docs" / "estate-format.md").read_text("utf-8")
    schema = json.loads((ROOT / "docs" / "estate.schema.json").read_text("utf-8"))

    def names(node: Any) -> set[str]:
        found: set[str] = set()
        if isinstance(node, dict):
            found |= set(node.get("properties", {}))
            for value in node.values():
                found |= names(value)
        elif isinstance(node, list):
            for value in node:
                found |= names(value)
        return found

    missing = sorted(n for n in names(schema) if f"`{n}`" not in doc)
    assert not missing, f"fields not documented in docs/estate-format.md: {missing}"


# --- CSV ------------------------------------------------------------------------------------------


def _csv_rows(estate: EstateReport) -> list[dict[str, str]]:
    text = estate_renderer("csv")(estate, RenderOptions())
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_csv_one_row_per_repository_and_control() -> None:
    estate = real_estate()
    text = estate_renderer("csv")(estate, RenderOptions())
    assert text.startswith(",".join(estate_csv.HEADER) + "\r\n")
    rows = _csv_rows(estate)
    scanned = sum(len(r.report.results) for r in estate.repositories if r.report is not None)
    assert len(rows) == scanned + 1
    waived = next(
        r for r in rows if r["repository"] == "acme/waived" and r["control"] == "threat-model"
    )
    assert waived["status"] == "waived" and waived["level"] == "required"
    assert waived["waiver"] == (
        "until 2027-01-31: session booked <b>Q3</b> (approved by Jane Smith, secposture.toml)"
    )
    archived = [r for r in rows if r["repository"] == XSS_REPO]
    assert archived and all(r["archived"] == "true" and r["fork"] == "false" for r in archived)
    passing = next(r for r in rows if r["repository"] == "acme/api" and r["status"] == "pass")
    assert passing["remediation"] == ""
    failing = next(r for r in rows if r["status"] == "fail")
    assert failing["remediation"]
    empty = next(r for r in rows if r["repository"] == "acme/empty")
    assert empty["status"] == "not_scanned" and empty["control"] == ""
    assert empty["summary"] == "repository is empty (no default branch)"


def test_csv_neutralises_formulas() -> None:
    rows = _csv_rows(real_estate())
    formula = [r for r in rows if r["repository"].endswith("calc'!A0")]
    assert formula and all(r["repository"] == "'" + FORMULA_REPO for r in formula)
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r", "\n")), value
    for dangerous in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "\n=1"):
        cell = estate_csv.neutralise(dangerous)
        assert cell.startswith("'") and not cell[1:].startswith(("\t", "\r"))
    assert estate_csv.neutralise("api") == "api"
    assert estate_csv.neutralise("a=b") == "a=b"


def test_csv_round_trips_quotes_commas_and_newlines() -> None:
    estate = real_estate()
    tricky = 'acme/a,"b"\nc'
    report = repo_named(estate, "acme/api").report
    rows = _csv_rows(replace(estate, repositories=(EstateRepository(tricky, report),)))
    assert {r["repository"] for r in rows} == {tricky}


# --- HTML -----------------------------------------------------------------------------------------


class _Page(HTMLParser):
    """Tags with attributes, the stylesheet, and the heatmap's rows (row header, cells)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.style = ""
        self.rows: list[tuple[str, list[dict[str, str | None]]]] = []
        self._in: list[str] = []
        self._heatmap = False
        self._row_header: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        self.tags.append((tag, named))
        self._in.append(tag)
        if tag == "table" and named.get("class") == "heatmap":
            self._heatmap = True
        if self._heatmap and tag == "tr":
            self.rows.append(("", []))
        if self._heatmap and tag == "td" and self.rows:
            self.rows[-1][1].append(named)

    def handle_endtag(self, tag: str) -> None:
        if self._in:
            self._in.pop()
        if tag == "table":
            self._heatmap = False

    def handle_data(self, data: str) -> None:
        if self._in and self._in[-1] == "style":
            self.style += data
        if self._heatmap and self.rows and self._in[-1:] in (["th"], ["a"]):
            name, cells = self.rows[-1]
            if not cells:
                self.rows[-1] = (name + data, cells)


def _page(estate: EstateReport) -> tuple[str, _Page]:
    text = estate_renderer("html")(estate, RenderOptions())
    page = _Page()
    page.feed(text)
    return text, page


def test_html_is_self_contained_escaped_and_under_its_csp() -> None:
    text, page = _page(real_estate())
    names = [t for t, _ in page.tags]
    assert "script" not in names and "img" not in names and "link" not in names
    assert "b" not in names  # the <b> in an ADR title and a waiver reason stays text
    for _tag, attrs in page.tags:
        for name, value in attrs.items():
            assert not name.startswith("on"), name
            if name in ("href", "src"):
                assert value is not None and value.startswith(("#", "https://")), value
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "javascript:" not in text  # the hostile repository URL is not linked
    assert 'href="https://github.com/acme/api"' in text
    csp = next(
        attrs["content"]
        for tag, attrs in page.tags
        if tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy"
    )
    assert csp is not None and "default-src 'none'" in csp and "script-src" not in csp
    assert estate_html.content_security_policy(page.style) == csp
    # The ADR summary's HTML is in a tooltip, as text: the parser gives it back unescaped.
    tooltips = [a.get("title") or "" for t, a in page.tags if t == "td"]
    assert any("<img src=x onerror=alert(1)>" in t for t in tooltips)
    assert "<img" not in text


def test_html_heatmap_cells_match_the_results() -> None:
    estate = real_estate()
    _, page = _page(estate)
    columns = control_columns(estate)
    body = [(name.strip(), cells) for name, cells in page.rows if cells]
    assert [name for name, _ in body] == [
        "api",
        XSS,
        "=cmd|' /C calc'!A0",
        "waived",
        "tools-@acme/security-team",
        "empty",
    ]
    for (_, cells), repo in zip(body, estate.repositories, strict=True):
        if repo.report is None:
            assert cells[0]["class"] == "not-scanned"
            continue
        by_id = {r.id: r.status.value for r in repo.report.results}
        classes = [c["class"] for c in cells[: len(columns)]]
        assert classes == [f"cell {by_id.get(c.id, 'none')}" for c in columns], repo.name
        titles = [c["title"] or "" for c in cells[: len(columns)]]
        assert all(t.startswith(f"{c.id}: ") for t, c in zip(titles, columns, strict=True))


def test_html_compliance_bars_add_up() -> None:
    text, page = _page(real_estate())
    bars = [attrs for tag, attrs in page.tags if tag == "div" and attrs.get("class") == "bar"]
    assert bars
    widths: list[int] = []
    for tag, attrs in page.tags:
        cls = attrs.get("class") or ""
        if tag == "span" and re.fullmatch(r"\w+ w\d+", cls):
            widths.append(int(cls.split(" w")[1]))
            assert f".{cls.split()[1]}{{" in page.style
    assert widths and all(0 <= w <= 100 for w in widths)
    counts = {s.value: 0 for s in Status}
    for mix in ({"pass": 1, "fail": 2}, {"pass": 2, "partial": 1, "unknown": 4}, {"fail": 7}):
        segments = estate_html.shares({**counts, **mix}, estate_html.BAR_STATUSES)
        assert sum(s.width for s in segments) == 100
    assert estate_html.shares(counts, estate_html.BAR_STATUSES) == []
    assert "Could not be scanned" in text and "repository is empty" in text


def test_html_links_only_https() -> None:
    assert estate_html.safe_link("https://github.com/acme/api") == "https://github.com/acme/api"
    for bad in ("javascript:alert(1)", "http://x", "data:text/html,x", "https:// x", "//x", None):
        assert estate_html.safe_link(bad) is None


# --- Markdown -------------------------------------------------------------------------------------


def _tables(text: str) -> list[list[str]]:
    tables: list[list[str]] = []
    current: list[str] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    return tables


def test_markdown_sections_in_order_and_escaped() -> None:
    text = estate_renderer("markdown")(real_estate(), RenderOptions())
    order = [
        "## secposture estate: acme",
        "### Compliance by control",
        "### Repositories failing required controls",
        "### Could not be scanned",
        "### Repositories × controls",
        "<sub>GitHub API: 7 requests",
    ]
    positions = [text.index(heading) for heading in order]
    assert positions == sorted(positions)
    assert "❌ **4 of 5 scanned repositories fail required controls**" in text
    assert "| required | security-policy | 2/5 | 40% | 3 | 0 | 0 | 0 | 0 |" in text
    assert "| acme/empty | repository is empty (no default branch) |" in text
    assert "<script" not in text and "&lt;script&gt;" in text
    assert "@acme" not in text and "@&#8203;acme" in text
    assert "\\=cmd\\|' /C calc'!A0 <sub>fork</sub>" in text
    for table in _tables(text):
        counts = {len(re.findall(r"(?<!\\)\|", row)) for row in table}
        assert len(counts) == 1, table
    assert "\n\n<sub>GitHub API" in text  # a blank line ends the grid before the footer
    assert "[!NOTE]" not in text


def test_markdown_grid_rows() -> None:
    estate = real_estate()
    text = estate_renderer("markdown")(estate, RenderOptions())
    columns = control_columns(estate)
    emoji = {
        Status.PASS: "✅",
        Status.PARTIAL: "🟡",
        Status.FAIL: "❌",
        Status.NOT_APPLICABLE: "➖",
        Status.UNKNOWN: "❔",
        Status.WAIVED: "🔕",
    }
    report = repo_named(estate, "acme/waived").report
    assert report is not None
    by_id = {r.id: r.status for r in report.results}
    cells = [emoji[by_id[c.id]] if c.id in by_id else "·" for c in columns]
    assert "| waived | " + " | ".join(cells) + " |" in text
    assert "| Repository | " + " | ".join(c.abbreviation for c in columns) + " |" in text


@functools.cache
def big_estate() -> EstateReport:
    """2,000 repositories that share one report (seven failing required controls), and one lost."""
    estate = real_estate()
    report = repo_named(estate, FORMULA_REPO).report
    names = (f"acme/service-{i:04d}-with-a-long-name" for i in range(2000))
    return replace(
        estate,
        repositories=(
            *(EstateRepository(name, report) for name in names),
            EstateRepository("acme/gone", None, error="no access"),
        ),
    )


def test_markdown_stays_under_the_limit_for_2000_repositories() -> None:
    text = estate_markdown.render(big_estate(), RenderOptions())
    limit = catalogue.load("report_formats")["markdown"]["max_chars"]
    assert len(text) <= limit <= 65_536
    # What a reader needs first is whole: the headline and the compliance table.
    assert "❌ **2000 of 2000 scanned repositories fail required controls**" in text
    assert "| required | container-scanning | 0/2000 | 0% | 2000 |" in text
    assert text.count("| extra |") == sum(
        1 for c in control_columns(big_estate()) if c.level is Level.EXTRA
    )
    # Then as many failing repositories as fit, and a note that counts the rest.
    shown = text.count("with-a-long-name |")
    assert shown > 100
    note = text[text.index("> [!NOTE]") :]
    assert note.startswith("> [!NOTE]\n> Left out to stay within GitHub's size limit:")
    assert f"{2000 - shown} repositories failing required controls" in note
    # The repository that could not be scanned is listed, or counted here when it did not fit
    # (where the budget ends depends on how many controls the compliance table has).
    assert "1 repositories that could not be scanned" in note or "### Could not be scanned" in text
    assert "2000 rows of the repositories × controls grid" in note
    assert text.rstrip().endswith("</sub>")
    for table in _tables(text):
        counts = {len(re.findall(r"(?<!\\)\|", row)) for row in table}
        assert len(counts) == 1


def test_html_and_csv_hold_every_repository_of_a_big_estate() -> None:
    estate = big_estate()
    _, page = _page(estate)
    assert len([cells for _, cells in page.rows if cells]) == 2001
    rows = _csv_rows(estate)
    assert len({r["repository"] for r in rows}) == 2001


# --- every format ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ESTATE_FORMATS)
def test_every_format_handles_hostile_names_and_empty_estates(fmt: str) -> None:
    estate = real_estate()
    hostile = (
        EstateRepository(ANSI_REPO, repo_named(estate, "acme/api").report),
        EstateRepository("acme/bytes\udce9", None, error="x\u202ey"),
    )
    for case in (
        replace(estate, repositories=estate.repositories + hostile),
        EstateReport("acme", (), GENERATED, "0.1.0"),
        EstateReport("acme", (EstateRepository("acme/x", None),), GENERATED, "0.1.0"),
    ):
        text = estate_renderer(fmt)(case, RenderOptions(width=100))
        text.encode("utf-8")  # no lone surrogates
        assert "\x1b" not in text and "\u202e" not in text


_names = st.text(st.characters(codec="utf-8"), min_size=1, max_size=40)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names=st.lists(_names, min_size=1, max_size=4), summary=_names)
def test_property_hostile_text_stays_inert(names: list[str], summary: str) -> None:
    base = repo_named(real_estate(), "acme/api").report
    assert base is not None
    results = tuple(replace(r, summary=summary) for r in base.results)
    report = replace(base, results=results)
    estate = EstateReport(
        "acme", tuple(EstateRepository(n, report) for n in names), GENERATED, "0.1.0"
    )
    for row in _csv_rows(estate):
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r"))
    _estate_validator().validate(_json(estate))
    markdown = estate_markdown.render(estate, RenderOptions())
    for table in _tables(markdown):
        counts = {len(re.findall(r"(?<!\\)\|", row)) for row in table}
        assert len(counts) == 1, table
    page = _Page()
    page.feed(estate_html.render(estate, RenderOptions()))
    assert not {"script", "img", "iframe"} & {t for t, _ in page.tags}


# --- golden files ---------------------------------------------------------------------------------


def _result(cid: str, level: Level, status: Status, summary: str, **kw: Any) -> ControlResult:
    remediation = None if status in (Status.PASS, Status.NOT_APPLICABLE) else f"Fix {cid}."
    title = cid.replace("-", " ").capitalize()
    return ControlResult(cid, title, level, "g", status, summary, remediation=remediation, **kw)


def golden_estate() -> EstateReport:
    """Four controls, four repositories, every status: stable while probes change wording."""
    waiver = WaiverRef("threat-model", "booked for Q3", "Jane Smith", "2027-01-31", False, "p.toml")

    def report(name: str, *statuses: Status) -> ScanReport:
        ids = (
            ("secrets-pre-commit", Level.REQUIRED),
            ("threat-model", Level.REQUIRED),
            ("pr-template-security", Level.RECOMMENDED),
            ("security-policy", Level.EXTRA),
        )
        results = tuple(
            _result(
                cid,
                level,
                status,
                f"{cid} is {status.value} in {name}",
                waiver=waiver if status is Status.WAIVED else None,
            )
            for (cid, level), status in zip(ids, statuses, strict=True)
        )
        return ScanReport(Target(name, "github"), results, (), GENERATED, "0.1.0")

    p, f, w, u, n, pa = (
        Status.PASS,
        Status.FAIL,
        Status.WAIVED,
        Status.UNKNOWN,
        Status.NOT_APPLICABLE,
        Status.PARTIAL,
    )
    repos = (
        EstateRepository(
            "acme/api", report("acme/api", p, p, p, p), url="https://github.com/acme/api"
        ),
        EstateRepository("acme/web", report("acme/web", pa, w, f, u), archived=True),
        EstateRepository("acme/=tool|x", report("acme/=tool|x", f, f, n, p), fork=True),
        EstateRepository("acme/empty", None, error="repository is empty"),
    )
    return EstateReport("acme", repos, GENERATED, "0.1.0", USAGE)


GOLDEN_CASES = {
    "estate.txt": ("terminal", RenderOptions(color=False, width=100)),
    "estate-narrow.txt": ("terminal", RenderOptions(color=False, width=40)),
    "estate.json": ("json", RenderOptions()),
    "estate.csv": ("csv", RenderOptions()),
    "estate.md": ("markdown", RenderOptions()),
    "estate.html": ("html", RenderOptions()),
}


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_golden(name: str) -> None:
    fmt, options = GOLDEN_CASES[name]
    text = estate_renderer(fmt)(golden_estate(), options)
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    assert path.exists(), f"no golden file {path}: run UPDATE_GOLDEN=1 pytest {__file__}"
    assert text == path.read_bytes().decode("utf-8"), (
        f"{name} changed: review, then UPDATE_GOLDEN=1"
    )


def test_golden_json_validates() -> None:
    _estate_validator().validate(estate_json.as_dict(golden_estate()))
