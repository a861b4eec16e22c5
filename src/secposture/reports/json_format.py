"""JSON: the versioned, documented machine format (docs/report-format.md, docs/report.schema.json).

Compatible additions keep schema_version 1.x; a field removed or changed in meaning makes it 2.0.
"""

from __future__ import annotations

import json
from typing import Any

from secposture.model import ScanReport
from secposture.reports.common import clean_tree, level_counts, status_counts
from secposture.reports.interface import RenderOptions

SCHEMA_VERSION = "1.1"  # 1.1: repository_policy, target.repository, set_aside


def as_dict(report: ScanReport) -> dict[str, Any]:
    data = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "secposture", "version": report.tool_version},
        "generated_at": report.generated_at,
        "target": report.target.to_dict(),
        "summary": status_counts(report),
        "summary_by_level": level_counts(report),
        "controls": [r.to_dict() for r in report.results],
        "problems": [p.to_dict() for p in report.problems],
        "repository_policy": (
            None if report.repository_policy is None else report.repository_policy.to_dict()
        ),
    }
    if report.set_aside:
        data["set_aside"] = report.set_aside.to_dict()  # optional: absent when nothing was
    # File names that are not UTF-8 or hold control characters become visible escapes, so the
    # output is always valid UTF-8 JSON that a consumer can print safely.
    cleaned: dict[str, Any] = clean_tree(data)
    return cleaned


def render(report: ScanReport, options: RenderOptions) -> str:
    return json.dumps(as_dict(report), indent=2, ensure_ascii=False) + "\n"
