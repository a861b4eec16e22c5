"""The pipeline for one repository: source -> snapshot -> facts -> probes -> controls -> report."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

from secposture import __version__, catalogue
from secposture.controls.evaluate import evaluate
from secposture.facts.interface import Facts
from secposture.model import ScanReport
from secposture.policy import Policy, load_policy, load_policy_file
from secposture.sources.interface import Snapshot
from secposture.sources.local import LocalSource


def scan_snapshot(snapshot: Snapshot, policy: Policy, today: date) -> ScanReport:
    facts = Facts(snapshot, policy, today)
    results = evaluate(facts)
    return ScanReport(
        target=snapshot.target,
        results=tuple(results),
        problems=tuple(facts.problems),
        generated_at=datetime.now(UTC).replace(microsecond=0).isoformat(),
        tool_version=__version__,
    )


def scan_path(
    path: Path,
    *,
    policy_file: Path | None = None,
    today: date | None = None,
    deep: bool = False,
    max_file_bytes: int | None = None,
) -> tuple[ScanReport, Policy]:
    """Scan a checkout (or a plain folder) with its own policy file, or `policy_file`."""
    defaults = catalogue.load("defaults")
    source = LocalSource(path, excluded_dirs=frozenset(defaults["excluded_dirs"]))
    snapshot = source.snapshot()
    if policy_file is not None:
        policy = load_policy_file(str(policy_file), _read_policy_file(policy_file))
    else:
        policy = load_policy(snapshot)
    if max_file_bytes is not None:
        policy = replace(policy, max_file_bytes=max_file_bytes)
    if deep:
        controls = dict(policy.controls)
        controls["secrets-in-tree"] = replace(controls["secrets-in-tree"], enabled=True)
        policy = replace(policy, controls=controls)
    snapshot.max_file_bytes = policy.max_file_bytes
    return scan_snapshot(snapshot, policy, today or date.today()), policy


_MAX_POLICY_BYTES = 1024 * 1024


def _read_policy_file(path: Path) -> str:
    from secposture.errors import PolicyError

    try:
        with path.open("rb") as fh:
            data = fh.read(_MAX_POLICY_BYTES + 1)
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read policy file: {exc.strerror or exc}") from None
    if len(data) > _MAX_POLICY_BYTES:
        raise PolicyError(f"{path}: policy file is over {_MAX_POLICY_BYTES:,} bytes")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PolicyError(
            f"{path}: policy file is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset "
            f"{exc.start})"
        ) from None
