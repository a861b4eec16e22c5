"""JSON: the versioned, documented machine format (docs/report-format.md, docs/report.schema.json)."""

from __future__ import annotations

import json
from typing import Any

from secposture.model import ScanReport
from secposture.reports.interface import RenderOptions, status_counts

SCHEMA_VERSION = "1.0"


def as_dict(report: ScanReport) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "secposture", "version": report.tool_version},
        "generated_at": report.generated_at,
        "target": report.target.to_dict(),
        "summary": status_counts(report),
        "controls": [r.to_dict() for r in report.results],
        "problems": [p.to_dict() for p in report.problems],
    }


def render(report: ScanReport, options: RenderOptions) -> str:
    return json.dumps(as_dict(report), indent=2, ensure_ascii=False) + "\n"
