"""Test support for the dependency-update, ADR, threat-model and template facts: an in-memory
snapshot (for property tests, which must not build a git repository per example) and a scan that
runs only the controls under test (so other areas' probes neither slow nor break these tests)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path

from conftest import TODAY, scan

from secposture import catalogue
from secposture.facts.interface import Facts
from secposture.model import ScanReport, Target
from secposture.policy import default_policy
from secposture.sources.interface import Snapshot, UnreadableFile


class MemorySnapshot(Snapshot):
    """Files held in memory: bytes that are not UTF-8 (or hold NUL) are unreadable, as on disk."""

    def __init__(self, files: Mapping[str, str | bytes], commit_dates: Mapping[str, datetime] | None = None) -> None:
        self.target = Target(name="memory", source="folder")
        self.paths = tuple(sorted(files))
        self._files = dict(files)
        self._dates = dict(commit_dates or {})

    def read_text(self, path: str) -> str:
        data = self._files[path]
        if isinstance(data, str):
            return data
        if b"\0" in data:
            raise UnreadableFile("is binary, not text")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise UnreadableFile("is not UTF-8 text") from None

    def last_commit_date(self, path: str) -> datetime | None:
        return self._dates.get(path)


def facts_of(files: Mapping[str, str | bytes], today: date = TODAY,
             commit_dates: Mapping[str, datetime] | None = None) -> Facts:
    return Facts(MemorySnapshot(files, commit_dates), default_policy(), today)


def scan_only(root: Path, *controls: str, settings: Mapping[str, str] | None = None,
              today: date = TODAY) -> ScanReport:
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
