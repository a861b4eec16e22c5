"""SARIF 2.1.0 for GitHub code scanning and other SARIF viewers (docs/report-format.md#sarif).

One rule per control; one result per control that does not pass:
- fail and partial: kind "fail" at the control level's SARIF level (required -> error,
  recommended -> warning, extra -> note);
- unknown: kind "review" with level "none" (SARIF 3.27.9 allows a level other than "none" only with
  kind "fail"): a person or API access has to decide it;
- waived: as fail/partial, with an accepted external suppression whose justification names the
  reason, approver and expiry; an expired waiver is a plain fail that names the waiver;
- pass and not_applicable: no result.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any
from urllib.parse import quote

from secposture import catalogue
from secposture.model import ControlResult, Finding, Location, ScanReport, Status
from secposture.reports.common import by_level, clean, clean_tree, not_positive, truncate
from secposture.reports.interface import RenderOptions

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
INFORMATION_URI = "https://github.com/secposture/secposture"
FINGERPRINT_KEY = "secposture/v1"
MAX_RELATED = 100  # GitHub keeps only 100 locations per result
MAX_MESSAGE = 4000
_REPORTED = (Status.FAIL, Status.PARTIAL, Status.UNKNOWN, Status.WAIVED)
_BRACKETS = re.compile(r"([\[\]])")


def _settings() -> dict[str, Any]:
    settings: dict[str, Any] = catalogue.load("report_formats")["sarif"]
    return settings


def _text(value: str) -> str:
    """Plain SARIF message text: brackets escaped so repository text cannot form embedded links."""
    return _BRACKETS.sub(r"\\\1", clean(value))


def _bytes(text: str) -> bytes:
    """A path's bytes: undecodable bytes as they were on disk, any other lone surrogate escaped."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return clean(text).encode("utf-8")


def _uri(path: str) -> str:
    """A relative URI reference for a repository path (undecodable bytes percent-encoded as-is)."""
    return quote(_bytes(path.lstrip("/")), safe="/")


def _rule_name(control_id: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", control_id) if part)


def _rule(result: ControlResult, settings: dict[str, Any]) -> dict[str, Any]:
    level = result.level.value
    remediation = result.remediation or _remediation_from_catalogue(result.id)
    return {
        "id": result.id,
        "name": _rule_name(result.id),
        "shortDescription": {"text": result.title},
        "fullDescription": {"text": result.guidance},
        "help": {
            "text": remediation,
            "markdown": f"**{result.title}**\n\n{result.guidance}\n\n**Fix:** {remediation}",
        },
        "defaultConfiguration": {"level": settings["result_level"][level]},
        "properties": {
            "level": level,
            "tags": ["security", "secposture", f"{level}-control"],
            "precision": "high",
            "security-severity": settings["security_severity"][level],
        },
    }


def _remediation_from_catalogue(control_id: str) -> str:
    control = catalogue.controls().get(control_id)
    return (control.remediation if control else "") or "See the control's guidance."


def _physical(path: str, line: int | None) -> dict[str, Any]:
    location: dict[str, Any] = {"artifactLocation": {"uri": _uri(path), "uriBaseId": "%SRCROOT%"}}
    if line is not None and line >= 1:
        location["region"] = {"startLine": line}
    return location


def _file_findings(result: ControlResult) -> list[tuple[Finding, Location]]:
    """The findings behind a non-passing status that point at a file, in probe order."""
    out: list[tuple[Finding, Location]] = []
    for f in not_positive(result):
        if f.location is not None and f.location.path:
            out.append((f, f.location))
    return out


def _message(result: ControlResult) -> str:
    text = f"{result.title}: {result.status.value}. {result.summary}"
    other = [
        f"{f.message} ({f.location})"
        for f in not_positive(result)
        if f.location is not None and not f.location.path
    ]
    if other:
        text += " Evidence: " + "; ".join(other)
    if result.remediation and result.status is not Status.UNKNOWN:
        text += f" Fix: {result.remediation}"
    return truncate(_text(text), MAX_MESSAGE)


def _result(result: ControlResult, index: int, settings: dict[str, Any]) -> dict[str, Any]:
    evidence = _file_findings(result)
    if evidence:
        primary_path = evidence[0][1].path or ""
        primary = _physical(primary_path, evidence[0][1].line)
    else:
        fallback = settings["locations"].get(result.id, settings["fallback"])
        primary_path = fallback
        primary = _physical(fallback, None)
    out: dict[str, Any] = {
        "ruleId": result.id,
        "ruleIndex": index,
        "message": {"text": _message(result)},
        "locations": [{"physicalLocation": primary}],
        "partialFingerprints": {FINGERPRINT_KEY: _fingerprint(result.id, primary_path)},
        "properties": {"status": result.status.value, "level": result.level.value},
    }
    if result.status is Status.UNKNOWN:
        out["kind"] = "review"
        out["level"] = "none"
    else:
        out["kind"] = "fail"
        out["level"] = settings["result_level"][result.level.value]
    related = [
        {
            "id": i,
            "message": {"text": _text(f.message)},
            "physicalLocation": _physical(loc.path or "", loc.line),
        }
        for i, (f, loc) in enumerate(evidence[1 : MAX_RELATED + 1], start=1)
    ]
    if related:
        out["relatedLocations"] = related
    if result.waiver is not None:
        out["properties"]["waiver"] = result.waiver.to_dict()
        if result.status is Status.WAIVED:
            w = result.waiver
            out["suppressions"] = [
                {
                    "kind": "external",
                    "status": "accepted",
                    "justification": clean(
                        f"{w.reason} (approved by {w.approver}, expires {w.expires}, {w.origin})"
                    ),
                }
            ]
    return out


def _fingerprint(control_id: str, path: str) -> str:
    """Stable across runs: the control and the file, not the line or the wording of the message."""
    return hashlib.sha256(_bytes(f"{control_id}\0{path}")).hexdigest()[:32]


def _notifications(report: ScanReport) -> list[dict[str, Any]]:
    return [
        {
            "level": "warning",
            "message": {"text": _text(f"{p.path}: {p.message}")},
            "locations": [{"physicalLocation": _physical(p.path, p.line)}],
        }
        for p in report.problems
    ]


def as_dict(report: ScanReport) -> dict[str, Any]:
    settings = _settings()
    ordered = [r for _level, rows in by_level(report) for r in rows]
    rules = [_rule(r, settings) for r in ordered]
    results = [_result(r, i, settings) for i, r in enumerate(ordered) if r.status in _REPORTED]
    invocation: dict[str, Any] = {"executionSuccessful": True}
    notifications = _notifications(report)
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "secposture",
                "version": report.tool_version,
                "semanticVersion": report.tool_version,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }
        },
        "automationDetails": {"id": "secposture/"},
        "originalUriBaseIds": {
            "%SRCROOT%": {"description": {"text": "The root of the scanned repository."}}
        },
        "invocations": [invocation],
        "results": results,
        "columnKind": "unicodeCodePoints",
        "properties": _run_properties(report),
    }
    sarif: dict[str, Any] = clean_tree({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]})
    return sarif


def _run_properties(report: ScanReport) -> dict[str, Any]:
    props: dict[str, Any] = {"target": report.target.name, "source": report.target.source}
    if report.target.commit:
        props["commit"] = report.target.commit
    if report.target.repository:
        props["repository"] = report.target.repository
    props["generatedAt"] = report.generated_at
    if report.set_aside:
        # Not a result: what the scan did not count as the product, for whoever reads the run.
        props["setAside"] = report.set_aside.to_dict()
    return props


def render(report: ScanReport, options: RenderOptions) -> str:
    return json.dumps(as_dict(report), indent=2, ensure_ascii=False) + "\n"
