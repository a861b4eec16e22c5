"""Report formats: golden files on a fixed synthetic report, schema validation, hostile text.

Regenerate the golden files after an intended change with:
    UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_reports.py
"""

from __future__ import annotations

import functools
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import MakeRepo, scan
from conftest import result as control_result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secposture.model import (
    ControlResult,
    Finding,
    Level,
    Location,
    Outcome,
    Problem,
    ScanReport,
    Status,
    Target,
    WaiverRef,
)
from secposture.reports import html_format, markdown_format, sarif_format, terminal_format
from secposture.reports.common import ANALYSIS_PROBE, analysis_matrix, clean, headline
from secposture.reports.interface import FORMATS, RenderOptions, renderer
from secposture.reports.json_format import as_dict

ROOT = Path(__file__).parent.parent
GOLDEN = Path(__file__).parent / "golden"
# The OASIS schema is shared beside the checkout (/work/shared here; ../shared in CI's clone).
_SARIF_CANDIDATES = (
    ROOT.parent / "shared" / "sarif" / "sarif-schema-2.1.0.json",
    Path("/work/shared/sarif/sarif-schema-2.1.0.json"),
)
SARIF_SCHEMA = next((p for p in _SARIF_CANDIDATES if p.exists()), _SARIF_CANDIDATES[-1])
needs_sarif_schema = pytest.mark.skipif(
    not SARIF_SCHEMA.exists(),
    reason="the OASIS SARIF 2.1.0 schema (shared/sarif/) is not beside the checkout",
)
REPORT_SCHEMA = ROOT / "docs" / "report.schema.json"

XSS = "<script>alert(1)</script>"
HOSTILE_PATH = ".github/ISSUE_TEMPLATE/bug | [x](https://evil.example) `tick` <b>.md"
NEWLINE_PATH = "docs/adr/evil\nname.md"
BIDI_PATH = "src/admin\u202egnp.py"
UNDECODABLE_PATH = "notes/caf\udce9.md"  # a Latin-1 file name, kept by surrogateescape
ANSI_PATH = "scripts/\x1b[31mred\x1b[0m.sh"


def _f(
    probe: str, outcome: Outcome, message: str, loc: Location | None = None, **values: str
) -> Finding:
    return Finding(probe, outcome, message, loc, values)


def _matrix_findings() -> tuple[Finding, ...]:
    cells = [
        (
            "python",
            "pre-commit",
            Outcome.POSITIVE,
            "ruff,bandit",
            Location(".pre-commit-config.yaml", 7),
        ),
        ("python", "ci", Outcome.NEGATIVE, "", None),
        ("python", "ide", Outcome.POSITIVE, "ruff", Location(".vscode/extensions.json", 3)),
        ("javascript", "pre-commit", Outcome.NEGATIVE, "", None),
        ("javascript", "ci", Outcome.POSITIVE, "eslint", Location(".github/workflows/ci.yml", 21)),
        ("javascript", "ide", Outcome.UNKNOWN, "", None),
    ]
    out = []
    for language, stage, outcome, tools, loc in cells:
        if outcome is Outcome.POSITIVE:
            message = f"{language}: {tools} runs in {stage}"
        else:
            message = f"{language}: no recognised analyser in {stage}"
        out.append(
            _f(ANALYSIS_PROBE, outcome, message, loc, language=language, stage=stage, tools=tools)
        )
    return tuple(out)


def sample_report() -> ScanReport:
    """Every status, findings with and without locations, waivers, problems and hostile text."""
    live = WaiverRef(
        "container-scanning",
        "images are scanned by the platform registry",
        "Jane Smith (Security)",
        "2027-03-31",
        False,
        "secposture.toml",
    )
    expired = WaiverRef(
        "threat-model",
        "session booked for Q3",
        "Émile Zola | CISO",
        "2026-01-31",
        True,
        "secposture.toml",
    )
    results = (
        ControlResult(
            "ticket-security",
            "Security considered in ticket refinement (OWASP Top 10)",
            Level.REQUIRED,
            "1. Security considered in ticket preparation and refinement.",
            Status.FAIL,
            f"{HOSTILE_PATH} does not mention OWASP {XSS}",
            (
                _f(
                    "ticket-template-asks-security",
                    Outcome.NEGATIVE,
                    f"{HOSTILE_PATH} asks nothing about security {XSS} | owner @org/security-team",
                    Location(HOSTILE_PATH, 3),
                ),
                _f(
                    "ticket-template-asks-security",
                    Outcome.NEGATIVE,
                    "feature.yml asks nothing about security",
                    Location(".github/ISSUE_TEMPLATE/feature.yml", 1),
                ),
            ),
            "Add a security section to the issue templates that asks about the OWASP Top 10.",
        ),
        ControlResult(
            "static-analysis",
            "Static analysis for every language in pre-commit, CI and the IDE",
            Level.REQUIRED,
            "9. Static analysis in IDEs, pre-commit and pipelines.",
            Status.PARTIAL,
            "python: no recognised analyser in ci; javascript: no recognised analyser in pre-commit",
            _matrix_findings(),
            "For each language listed, run an analyser in pre-commit and in CI.",
        ),
        ControlResult(
            "dependabot-security-updates",
            "Dependabot security updates enabled",
            Level.REQUIRED,
            "5. Dependabot security updates enabled on all repositories.",
            Status.UNKNOWN,
            "not observable: repository settings are not visible from a checkout",
            (
                _f(
                    "dependabot-security-updates-enabled",
                    Outcome.UNKNOWN,
                    "not observable: repository settings are not visible from a checkout",
                ),
            ),
            "Enable Dependabot security updates.",
        ),
        ControlResult(
            "container-scanning",
            "Container images scanned for vulnerabilities",
            Level.REQUIRED,
            "6. Container vulnerability scanning.",
            Status.WAIVED,
            "waived until 2027-03-31 by Jane Smith (Security): images are scanned by the platform "
            "registry (underlying: Dockerfile builds an image that no CI job scans)",
            (
                _f(
                    "container-images-scanned",
                    Outcome.NEGATIVE,
                    "Dockerfile builds an image that no CI job scans",
                    Location("Dockerfile", 1),
                ),
            ),
            "Scan built images in CI.",
            live,
        ),
        ControlResult(
            "threat-model",
            "Threat model reviewed within the interval",
            Level.REQUIRED,
            "3. Threat modelling of each product every 6 months.",
            Status.FAIL,
            "waiver expired on 2026-01-31 (approved by Émile Zola | CISO, secposture.toml): "
            "docs/threat-model/README.md last reviewed 2025-01-10, over 6 months ago",
            (
                _f(
                    "threat-model-reviewed",
                    Outcome.NEGATIVE,
                    "docs/threat-model/README.md last reviewed 2025-01-10, over 6 months ago",
                    Location("docs/threat-model/README.md", 2),
                ),
            ),
            "Hold a threat-modelling session and record it.",
            expired,
        ),
        ControlResult(
            "security-adrs",
            "Security decisions recorded as ADRs",
            Level.REQUIRED,
            "10. Architectural Decision Records of security-related decisions.",
            Status.PASS,
            "docs/adr/0004-read-limits.md records a security decision",
            (
                _f(
                    "security-adr-recorded",
                    Outcome.POSITIVE,
                    "docs/adr/0004-read-limits.md records a security decision",
                    Location("docs/adr/0004-read-limits.md", 4),
                ),
                _f(
                    "adr-log-present",
                    Outcome.POSITIVE,
                    f"ADR log in docs/adr with 2 records, one named {NEWLINE_PATH}",
                    Location(NEWLINE_PATH),
                ),
            ),
        ),
        ControlResult(
            "pr-template-security",
            "Pull request template with security checks",
            Level.RECOMMENDED,
            "11. Recommended: a pull request template with security checks.",
            Status.PARTIAL,
            "the PR template has no security checklist item",
            (
                _f(
                    "pr-template-present",
                    Outcome.POSITIVE,
                    "PR template .github/pull_request_template.md",
                    Location(".github/pull_request_template.md", 1),
                ),
                _f(
                    "pr-template-security-checklist",
                    Outcome.NEGATIVE,
                    "the PR template has no security checklist item",
                    Location(".github/pull_request_template.md"),
                ),
            ),
            "Add a security checklist to .github/pull_request_template.md.",
        ),
        ControlResult(
            "secret-scanning",
            "GitHub secret scanning and push protection",
            Level.EXTRA,
            "Beyond the guidance: GitHub secret scanning and push protection.",
            Status.UNKNOWN,
            "secret_scanning is not visible to this token",
            (
                _f(
                    "secret-scanning-enabled",
                    Outcome.UNKNOWN,
                    "secret_scanning is not visible to this token",
                    Location(api_field="security_and_analysis.secret_scanning"),
                ),
            ),
            "Enable secret scanning and push protection.",
        ),
        ControlResult(
            "security-policy",
            "Security policy (SECURITY.md)",
            Level.EXTRA,
            "Beyond the guidance: a security policy.",
            Status.PASS,
            "security policy in SECURITY.md",
            (
                _f(
                    "security-policy-present",
                    Outcome.POSITIVE,
                    "security policy in SECURITY.md",
                    Location("SECURITY.md", 1),
                ),
            ),
        ),
        ControlResult(
            "container-extra",
            "Workflow-free repository check",
            Level.EXTRA,
            "Beyond the guidance: applies only where there are workflows.",
            Status.NOT_APPLICABLE,
            "no GitHub workflows",
            (_f("workflow-jobs-least-privilege", Outcome.NOT_APPLICABLE, "no GitHub workflows"),),
        ),
        ControlResult(
            "workflow-permissions",
            "Workflow jobs have least-privilege permissions",
            Level.EXTRA,
            "Beyond the guidance: GITHUB_TOKEN with least privilege.",
            Status.FAIL,
            f"job build in {BIDI_PATH} has write-all; [bold]markup[/bold] stays text",
            (
                _f(
                    "workflow-jobs-least-privilege",
                    Outcome.NEGATIVE,
                    "job `build` has permissions: write-all " + "x" * 300,
                    Location(".github/workflows/ci.yml", 12),
                ),
                _f(
                    "workflow-jobs-least-privilege",
                    Outcome.NEGATIVE,
                    f"job release in {ANSI_PATH} has no permissions [red]block[/red]",
                    Location(ANSI_PATH, 4),
                ),
                _f(
                    "workflow-jobs-least-privilege",
                    Outcome.NEGATIVE,
                    f"job docs in {UNDECODABLE_PATH} has no permissions",
                    Location(UNDECODABLE_PATH, 9),
                ),
                _f(
                    "workflow-jobs-least-privilege",
                    Outcome.POSITIVE,
                    "job lint reads only",
                    Location(".github/workflows/lint.yml", 8),
                ),
            ),
            "Set `permissions: contents: read` at the top of each workflow.",
        ),
    )
    problems = (
        Problem("SECURITY.pdf", "is binary, not text"),
        Problem(
            ".pre-commit-config.yaml",
            f"not valid YAML: mapping values are not allowed here {XSS}",
            14,
        ),
        Problem(UNDECODABLE_PATH, "is not valid UTF-8 (byte 0xe9 at offset 3)"),
    )
    return ScanReport(
        target=Target("démo-服务", "git", "/tmp/démo", "0123456789abcdef0123456789abcdef01234567"),
        results=results,
        problems=problems,
        generated_at="2026-11-29T10:00:00+00:00",
        tool_version="0.1.0",
    )


GOLDEN_CASES = {
    "report.txt": ("terminal", RenderOptions(color=False, width=100, verbose=True)),
    "report-brief.txt": ("terminal", RenderOptions(color=False, width=100, verbose=False)),
    "report.json": ("json", RenderOptions()),
    "report.sarif": ("sarif", RenderOptions()),
    "report.md": ("markdown", RenderOptions()),
    "report.html": ("html", RenderOptions()),
}


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_golden(name: str) -> None:
    fmt, options = GOLDEN_CASES[name]
    text = renderer(fmt)(sample_report(), options)
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, "utf-8")
    assert path.exists(), f"no golden file {path}: run UPDATE_GOLDEN=1 pytest tests/test_reports.py"
    assert text == path.read_text("utf-8"), f"{name} changed: review, then UPDATE_GOLDEN=1"


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_is_valid_utf8_and_has_no_raw_controls(fmt: str) -> None:
    text = renderer(fmt)(sample_report(), RenderOptions(verbose=True))
    text.encode("utf-8")  # raises on lone surrogates
    assert "\x1b" not in text
    assert "\u202e" not in text


# --- JSON -----------------------------------------------------------------------------------------


def _report_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(REPORT_SCHEMA.read_text("utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def test_json_validates_against_the_documented_schema() -> None:
    data = json.loads(renderer("json")(sample_report(), RenderOptions()))
    _report_validator().validate(data)
    assert data["schema_version"] == "1.1"
    assert data["summary"]["fail"] == 3
    assert data["summary_by_level"]["required"]["waived"] == 1
    paths = [
        f["location"]["path"]
        for c in data["controls"]
        for f in c["findings"]
        if "location" in f and "path" in f["location"]
    ]
    assert "notes/caf\\xe9.md" in paths
    assert "docs/adr/evil\nname.md" in paths  # JSON escapes a newline itself: kept as it is


def test_real_reports_validate(make_repo: MakeRepo) -> None:
    """JSON and SARIF of real scans: passing, and with a binary SECURITY.md under a hostile name."""
    passing = make_repo("report-basic")
    hostile = make_repo(
        "report-basic",
        {
            "SECURITY.md": b"\x00binary",
            "docs/<script>alert(1)<|script>.md": "x\n",
        },
    )
    for repo in (passing, hostile):
        report = scan(repo)
        _report_validator().validate(json.loads(renderer("json")(report, RenderOptions())))
        if SARIF_SCHEMA.exists():
            _sarif_validator().validate(json.loads(renderer("sarif")(report, RenderOptions())))
    assert report.problems and control_result(report, "security-policy").status is Status.FAIL


def test_json_schema_rejects_a_wrong_report() -> None:
    data = as_dict(sample_report())
    data["controls"][0]["status"] = "broken"
    with pytest.raises(jsonschema.ValidationError):
        _report_validator().validate(data)
    data = as_dict(sample_report())
    data["controls"][0]["remediation"] = None  # a failing control must say how to fix it
    with pytest.raises(jsonschema.ValidationError):
        _report_validator().validate(data)


def test_every_json_field_is_documented() -> None:
    doc = (ROOT / "docs" / "report-format.md").read_text("utf-8")
    schema = json.loads(REPORT_SCHEMA.read_text("utf-8"))
    names: set[str] = set(schema["properties"])
    for definition in schema["$defs"].values():
        names |= set(definition.get("properties", {}))
    missing = sorted(n for n in names if f"`{n}`" not in doc)
    assert not missing, f"fields not documented in docs/report-format.md: {missing}"


# --- SARIF ----------------------------------------------------------------------------------------


def _sarif() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(renderer("sarif")(sample_report(), RenderOptions()))
    return data


@needs_sarif_schema
def test_sarif_validates_against_the_oasis_schema() -> None:
    schema = json.loads(SARIF_SCHEMA.read_text("utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    jsonschema.Draft4Validator(schema).validate(_sarif())


def test_sarif_within_github_limits() -> None:
    data = _sarif()
    assert len(data["runs"]) <= 20
    run = data["runs"][0]
    assert len(run["results"]) <= 25_000
    assert len(run["tool"]["driver"]["rules"]) <= 25_000
    for rule in run["tool"]["driver"]["rules"]:
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]{0,254}", rule["id"])
        assert len(rule["properties"]["tags"]) <= 10
        assert "security" in rule["properties"]["tags"]
        assert float(rule["properties"]["security-severity"]) > 0
    for result in run["results"]:
        assert 1 <= len(result["locations"]) + len(result.get("relatedLocations", [])) <= 1000
        assert result["partialFingerprints"]
    assert len(json.dumps(data)) < 10 * 1024 * 1024


def test_sarif_rules_and_results() -> None:
    run = _sarif()["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert len(rules) == len(sample_report().results)  # one rule per control, passing ones too
    ts = rules["ticket-security"]
    assert ts["shortDescription"]["text"].startswith("Security considered")
    assert ts["fullDescription"]["text"].startswith("1. Security")
    assert ts["help"]["text"].startswith("Add a security section")
    assert ts["defaultConfiguration"]["level"] == "error"
    assert rules["pr-template-security"]["defaultConfiguration"]["level"] == "warning"
    assert rules["security-policy"]["defaultConfiguration"]["level"] == "note"
    driver = run["tool"]["driver"]
    assert driver["version"] == "0.1.0" and driver["informationUri"].startswith("https://")
    assert run["automationDetails"]["id"] == "secposture/"

    by_rule = {r["ruleId"]: r for r in run["results"]}
    # pass and not_applicable have no result; everything else has one.
    assert set(by_rule) == {
        "ticket-security",
        "static-analysis",
        "dependabot-security-updates",
        "container-scanning",
        "threat-model",
        "pr-template-security",
        "secret-scanning",
        "workflow-permissions",
    }
    for result in run["results"]:
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
    assert (
        by_rule["ticket-security"]["level"] == "error"
        and by_rule["ticket-security"]["kind"] == "fail"
    )
    assert by_rule["pr-template-security"]["level"] == "warning"
    unknown = by_rule["dependabot-security-updates"]
    assert (unknown["kind"], unknown["level"]) == ("review", "none")
    waived = by_rule["container-scanning"]
    assert waived["suppressions"][0]["status"] == "accepted"
    assert "Jane Smith" in waived["suppressions"][0]["justification"]
    assert "2027-03-31" in waived["suppressions"][0]["justification"]
    expired = by_rule["threat-model"]
    assert "suppressions" not in expired and "waiver expired" in expired["message"]["text"]


def test_sarif_locations() -> None:
    by_rule = {r["ruleId"]: r for r in _sarif()["runs"][0]["results"]}

    def primary(rule: str) -> dict[str, Any]:
        loc: dict[str, Any] = by_rule[rule]["locations"][0]["physicalLocation"]
        return loc

    ticket = primary("ticket-security")
    assert ticket["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
    assert ticket["artifactLocation"]["uri"] == (
        ".github/ISSUE_TEMPLATE/bug%20%7C%20%5Bx%5D%28https%3A//evil.example%29%20%60tick%60%20%3Cb%3E.md"
    )
    assert ticket["region"] == {"startLine": 3}
    assert len(by_rule["ticket-security"]["relatedLocations"]) == 1
    # No file in the findings: the file the remediation would create or change.
    assert (
        primary("dependabot-security-updates")["artifactLocation"]["uri"]
        == ".github/dependabot.yml"
    )
    assert "region" not in primary("dependabot-security-updates")
    assert primary("secret-scanning")["artifactLocation"]["uri"] == "README.md"
    related = by_rule["workflow-permissions"]["relatedLocations"]
    uris = [r["physicalLocation"]["artifactLocation"]["uri"] for r in related]
    assert "notes/caf%E9.md" in uris and "scripts/%1B%5B31mred%1B%5B0m.sh" in uris


def test_sarif_fingerprints_are_stable_across_runs_and_lines() -> None:
    first = {r["ruleId"]: r["partialFingerprints"] for r in _sarif()["runs"][0]["results"]}
    report = sample_report()
    moved = tuple(
        r
        if r.id != "ticket-security"
        else ControlResult(
            r.id,
            r.title,
            r.level,
            r.guidance,
            r.status,
            "different wording",
            tuple(
                Finding(
                    f.probe,
                    f.outcome,
                    "reworded",
                    Location(f.location.path, 40) if f.location else None,
                )
                for f in r.findings
            ),
            r.remediation,
        )
        for r in report.results
    )
    moved_report = ScanReport(
        report.target, moved, report.problems, "2027-01-01T00:00:00+00:00", "0.2.0"
    )
    second = {
        r["ruleId"]: r["partialFingerprints"]
        for r in sarif_format.as_dict(moved_report)["runs"][0]["results"]
    }
    assert first == second
    assert len({fp["secposture/v1"] for fp in first.values()}) == len(first)


def test_sarif_message_text_cannot_form_embedded_links() -> None:
    for result in _sarif()["runs"][0]["results"]:
        text = result["message"]["text"]
        assert not re.search(r"(?<!\\)\[", text), text


def test_sarif_problems_are_tool_notifications() -> None:
    invocation = _sarif()["runs"][0]["invocations"][0]
    notes = invocation["toolExecutionNotifications"]
    assert len(notes) == 3
    assert notes[1]["locations"][0]["physicalLocation"]["region"] == {"startLine": 14}


# --- Markdown -------------------------------------------------------------------------------------


def _tables(text: str) -> list[list[str]]:
    """The Markdown tables of a text, each a list of its lines."""
    tables: list[list[str]] = []
    current: list[str] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    return tables


def test_markdown_headline_tables_and_details() -> None:
    text = markdown_format.render(sample_report(), RenderOptions())
    assert "❌ **3 required controls failing (1 recommended and 1 extra also failing)**" in text
    assert "### Required controls" in text and "### Recommended controls" in text
    assert "### Extra controls" in text
    assert "<details><summary>❌ <b>ticket-security</b>" in text
    assert "**Fix:**" in text
    assert (
        "**Waiver** (expired on 2026-01-31): session booked for Q3. Approved by Émile Zola \\| CISO"
        in text
    )
    # The static-analysis matrix, rendered from the probe's values.
    assert "| python | ✅ ruff, bandit | ❌ none | ✅ ruff |" in text
    assert "| javascript | ❌ none | ✅ eslint | ❔ none |" in text


def test_markdown_escapes_repository_text() -> None:
    text = markdown_format.render(sample_report(), RenderOptions())
    assert "<script" not in text and "<b>.md" not in text
    assert not re.search(r"(?<!\\)\]\(", text)  # no link from a file name
    assert "@org" not in text  # no mention that would notify a team
    assert "`tick`" not in text
    for table in _tables(text):
        # Every row has exactly its table's own unescaped pipes, as many as the header has.
        counts = {len(re.findall(r"(?<!\\)\|", row)) for row in table}
        assert len(counts) == 1, table
    assert "\n" + "name.md" not in text  # a newline in a file name does not break a line


def test_markdown_stays_under_the_comment_limit() -> None:
    base = sample_report()
    many = tuple(
        _f(
            "workflow-jobs-least-privilege",
            Outcome.NEGATIVE,
            f"job j{i} writes " + "y" * 400,
            Location(f".github/workflows/w{i}.yml", i + 1),
        )
        for i in range(2000)
    )
    huge = tuple(
        ControlResult(
            f"control-{n}", "Title " * 20, Level.REQUIRED, "g", Status.FAIL, "z" * 5000, many, "fix"
        )
        for n in range(40)
    )
    report = ScanReport(
        base.target, base.results + huge, base.problems * 100, base.generated_at, "0.1.0"
    )
    text = markdown_format.render(report, RenderOptions())
    assert len(text) <= 65_536
    assert "left out to stay within GitHub's comment size limit" in text


def test_markdown_without_failures_or_matrix() -> None:
    report = ScanReport(
        Target("ok", "folder"),
        (
            ControlResult(
                "security-policy", "Security policy", Level.EXTRA, "g", Status.PASS, "SECURITY.md"
            ),
        ),
        (),
        "2026-11-29T10:00:00+00:00",
        "0.1.0",
    )
    text = markdown_format.render(report, RenderOptions())
    assert "✅ **No required controls failing**" in text
    assert "<details>" not in text and "Static analysis" not in text


# --- HTML -----------------------------------------------------------------------------------------


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def test_html_is_self_contained_and_escaped() -> None:
    text = html_format.render(sample_report(), RenderOptions())
    parser = _Tags()
    parser.feed(text)
    names = [t for t, _ in parser.tags]
    assert "script" not in names and "link" not in names and "img" not in names
    assert "b" not in names  # the <b> in a hostile file name stays text
    for _tag, attrs in parser.tags:
        for name, value in attrs:
            assert not name.startswith("on")
            if name in ("href", "src"):
                assert value is not None and value.startswith("#"), value
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "Static analysis: language × stage" in text
    assert "Files that could not be used" in text


def test_html_csp_allows_exactly_its_own_stylesheet() -> None:
    text = html_format.render(sample_report(), RenderOptions())
    parser = _Tags()
    parser.feed(text)
    csp = next(
        dict(attrs)["content"]
        for tag, attrs in parser.tags
        if tag == "meta" and dict(attrs).get("http-equiv") == "Content-Security-Policy"
    )
    assert csp is not None and "default-src 'none'" in csp and "script-src" not in csp
    assert parser.styles and html_format.content_security_policy(parser.styles[0]) == csp


# --- terminal -------------------------------------------------------------------------------------


def test_terminal_escapes_markup_and_controls_and_wraps() -> None:
    text = terminal_format.render(
        sample_report(), RenderOptions(color=False, width=80, verbose=True)
    )
    assert "[red]block[/red]" in text
    assert "\\x1b[31mred" in text and "\x1b" not in text
    brief = terminal_format.render(sample_report(), RenderOptions(width=200))
    assert "[bold]markup[/bold]" in brief and "\\u202e" in brief and "\u202e" not in brief
    assert all(len(line) <= 80 for line in text.splitlines())
    assert text.count("x") >= 300  # long evidence folds rather than being cut off
    assert "…" not in text


def test_terminal_matrix_only_when_verbose() -> None:
    report = sample_report()
    verbose = terminal_format.render(report, RenderOptions(width=100, verbose=True))
    brief = terminal_format.render(report, RenderOptions(width=100, verbose=False))
    assert "static analysis: language × stage" in verbose
    assert "static analysis" not in brief
    assert "fix:" in brief and "3 required controls failing" in brief


def test_terminal_colour_is_ansi_only_when_asked() -> None:
    coloured = terminal_format.render(sample_report(), RenderOptions(color=True, width=100))
    assert "\x1b[" in coloured
    # Even with colour on, repository text never carries its own escape sequence.
    assert "\x1b[31mred" not in coloured


# --- shared helpers and properties ------------------------------------------------------------------


def test_matrix_ignores_malformed_values() -> None:
    report = ScanReport(
        Target("t", "folder"),
        (
            ControlResult(
                "static-analysis",
                "t",
                Level.REQUIRED,
                "g",
                Status.FAIL,
                "s",
                (
                    _f(ANALYSIS_PROBE, Outcome.NEGATIVE, "no language"),
                    _f(ANALYSIS_PROBE, Outcome.NEGATIVE, "bad stage", language="go", stage="build"),
                    _f(
                        ANALYSIS_PROBE,
                        Outcome.POSITIVE,
                        "ok",
                        language="go",
                        stage="ci",
                        tools=" golangci-lint , ,gosec",
                    ),
                ),
                "fix",
            ),
        ),
        (),
        "2026-11-29T10:00:00+00:00",
        "0.1.0",
    )
    matrix = analysis_matrix(report)
    assert matrix is not None and matrix.languages == ("go",)
    cell = matrix.cell("go", "ci")
    assert cell is not None and cell.tools == ("golangci-lint", "gosec")
    assert analysis_matrix(ScanReport(Target("t", "folder"), (), (), "x", "0")) is None


def test_headline_wording() -> None:
    assert (
        headline(sample_report())
        == "3 required controls failing (1 recommended and 1 extra also failing)"
    )


def test_clean() -> None:
    assert clean("a\nb\x1b[0m\u202e\udcff") == "a\\nb\\x1b[0m\\u202e\\xff"
    assert clean("a\nb", keep_newlines=True) == "a\nb"


_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=60)
_outcomes = st.sampled_from(list(Outcome))
_finding = st.builds(
    Finding,
    probe=st.sampled_from(["p", ANALYSIS_PROBE]),
    outcome=_outcomes,
    message=_text,
    location=st.none() | st.builds(Location, path=_text, line=st.none() | st.integers(-5, 10**6)),
    values=st.dictionaries(st.sampled_from(["language", "stage", "tools", "x"]), _text, max_size=4),
)
_result = st.builds(
    ControlResult,
    id=st.from_regex(r"[a-z]{1,8}(-[a-z]{1,8}){0,2}", fullmatch=True),
    title=_text,
    level=st.sampled_from(list(Level)),
    guidance=_text,
    status=st.sampled_from(list(Status)),
    summary=_text,
    findings=st.lists(_finding, max_size=5).map(tuple),
    remediation=st.none() | _text,
)
_report = st.builds(
    ScanReport,
    target=st.builds(Target, name=_text, source=st.sampled_from(["git", "folder"])),
    results=st.lists(_result, max_size=6, unique_by=lambda r: r.id).map(tuple),
    problems=st.lists(st.builds(Problem, path=_text, message=_text), max_size=3).map(tuple),
    generated_at=st.just("2026-11-29T10:00:00+00:00"),
    tool_version=st.just("0.1.0"),
)


@functools.cache
def _sarif_validator() -> jsonschema.Draft4Validator:
    return jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text("utf-8")))


@needs_sarif_schema
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(report=_report)
def test_property_every_format_renders_any_report(report: ScanReport) -> None:
    for fmt in FORMATS:
        text = renderer(fmt)(report, RenderOptions(verbose=True))
        text.encode("utf-8")
        assert "\x1b" not in text
    _sarif_validator().validate(sarif_format.as_dict(report))


@settings(max_examples=100, deadline=None)
@given(text=_text)
def test_property_markdown_escape_leaves_no_markup(text: str) -> None:
    out = markdown_format.md(text)
    assert "<" not in out and ">" not in out and "\n" not in out
    assert not re.search(r"(?<!\\)[|`\[\]*_]", out.replace("\\\\", ""))


def test_terminal_width_comes_from_the_terminal_not_a_fixed_number(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Piped output keeps the width of the terminal it ends up on (COLUMNS, else a terminal among
    stdout, stderr and stdin); with no terminal at all (a CI log) the one-screen width."""
    monkeypatch.setenv("COLUMNS", "72")
    assert terminal_format.terminal_width() == 72
    text = terminal_format.render(sample_report(), RenderOptions())
    assert max(len(line) for line in text.splitlines()) <= 72
    monkeypatch.delenv("COLUMNS")
    monkeypatch.setattr(terminal_format.os, "get_terminal_size", _no_terminal)
    assert terminal_format.terminal_width() == terminal_format.FALLBACK_WIDTH == 100


def _no_terminal(fd: int = 1) -> os.terminal_size:
    raise OSError(25, "Inappropriate ioctl for device")
