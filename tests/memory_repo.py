"""Test support for the dependency-update, ADR, threat-model and template facts: an in-memory
snapshot (for property tests, which must not build a git repository per example) and a scan that
runs only the controls under test (so other areas' probes neither slow nor break these tests)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path

from conftest import TODAY, scan

from secposture import catalogue
from secposture.facts.interface import Facts
from secposture.model import ScanReport
from secposture.policy import default_policy
from secposture.sources.memory import MemorySnapshot


def facts_of(
    files: Mapping[str, str | bytes],
    today: date = TODAY,
) -> Facts:
    return Facts(MemorySnapshot(files), default_policy(), today)


def scan_only(
    root: Path, *controls: str, settings: Mapping[str, str] | None = None, today: date = TODAY
) -> ScanReport:
    """scan() with a policy file (outside the repository) enabling only `controls`; `settings`
    adds lines to a control's table (`{"threat-model": "interval_months = 12"}`)."""
    extra = settings or {}
    lines = [
        f"[controls.{cid}]\nenabled = {'true' if cid in controls else 'false'}\n{extra.get(cid, '')}"
        for cid in catalogue.load("controls")["controls"]
    ]
    policy = root.parent / f"{root.name}-policy.toml"
    policy.write_text("\n".join(lines), "utf-8")
    return scan(root, today, policy_file=policy)
