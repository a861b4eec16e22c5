"""JSON for an estate: versioned and documented (docs/estate-format.md, docs/estate.schema.json).

Each repository's report is the single-repository JSON (`json_format.as_dict`) unchanged, so a
consumer of `secposture scan --format json` reads it with the same code. Compatible additions keep
schema_version 1.x; a field removed or changed in meaning makes it 2.0.
"""

from __future__ import annotations

import json
from typing import Any

from secposture.model import EstateReport, EstateRepository
from secposture.reports.common import clean_tree
from secposture.reports.estate import (
    Compliance,
    control_columns,
    control_compliance,
    failing_required,
    level_compliance,
    not_scanned,
    own_policies,
    why_not_scanned,
)
from secposture.reports.interface import RenderOptions
from secposture.reports.json_format import as_dict as report_as_dict

SCHEMA_VERSION = "1.1"  # 1.1: summary.repositories.own_policy*, usage.cut


def _compliance(comp: Compliance) -> dict[str, Any]:
    rate = comp.rate
    return {
        "counts": dict(comp.counts),
        "applicable": comp.applicable,
        "compliance": None if rate is None else round(rate, 4),
    }


def _repository(repo: EstateRepository) -> dict[str, Any]:
    return {
        "name": repo.name,
        "url": repo.url,
        "archived": repo.archived,
        "fork": repo.fork,
        "topics": list(repo.topics),
        "error": why_not_scanned(repo) if repo.report is None else repo.error,
        "failing_required": failing_required(repo),
        # Already cleaned by the single-repository builder.
        "report": None if repo.report is None else report_as_dict(repo.report),
    }


def _summary(estate: EstateReport) -> dict[str, Any]:
    repos = estate.repositories
    per_control = control_compliance(estate)
    own = [policy for _repo, policy in own_policies(estate)]
    return {
        "repositories": {
            "total": len(repos),
            "scanned": len(repos) - len(not_scanned(estate)),
            "not_scanned": len(not_scanned(estate)),
            "archived": sum(1 for r in repos if r.archived),
            "forks": sum(1 for r in repos if r.fork),
            "failing_required": sum(1 for r in repos if failing_required(r)),
            "own_policy": len(own),
            "own_policy_unusable": sum(1 for p in own if p.error is not None),
            "own_policy_refused": sum(1 for p in own if p.refused),
        },
        "by_level": {
            level.value: _compliance(comp) for level, comp in level_compliance(estate).items()
        },
        "controls": [
            {"id": c.id, "title": c.title, "level": c.level.value, **_compliance(per_control[c.id])}
            for c in control_columns(estate)
        ],
    }


def as_dict(estate: EstateReport) -> dict[str, Any]:
    head: dict[str, Any] = clean_tree(
        {
            "schema_version": SCHEMA_VERSION,
            "tool": {"name": "secposture", "version": estate.tool_version},
            "generated_at": estate.generated_at,
            "organisation": estate.organisation,
            "summary": _summary(estate),
            "usage": {**estate.usage.to_dict(), "requests": estate.usage.requests},
        }
    )
    # Per repository: its own fields cleaned here, its report by the builder it shares.
    repositories = []
    for repo in estate.repositories:
        entry = _repository(repo)
        report = entry.pop("report")
        cleaned: dict[str, Any] = clean_tree(entry)
        cleaned["report"] = report
        repositories.append(cleaned)
    return {**head, "repositories": repositories}


def render(estate: EstateReport, options: RenderOptions) -> str:
    return json.dumps(as_dict(estate), indent=2, ensure_ascii=False) + "\n"
