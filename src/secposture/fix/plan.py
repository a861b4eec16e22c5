"""The fix plan for one repository: which failing controls a generator can make pass, the file
changes that do it, and for the rest, why not.

Works on any Snapshot (a checkout, or a repository read from GitHub) and writes nothing: the
changes are laid over the snapshot (fix/overlay.py) and scanned again, so the plan knows what the
scan will say afterwards, and a generator runs again when an earlier one makes its control fail
(a new workflow brings GitHub Actions that Dependabot must then cover).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from secposture.errors import SecpostureError
from secposture.facts import codeowners as codeowners_facts
from secposture.fix.action_pins import PinSource
from secposture.fix.generators import FixOptions, Workspace, generators, handled_controls
from secposture.fix.interface import FileChange, FixPlan, Skipped
from secposture.fix.overlay import OverlaySnapshot
from secposture.model import ControlResult, Outcome, ScanReport, Status
from secposture.policy import Policy
from secposture.scan import scan_snapshot
from secposture.sources.interface import Snapshot

SETTINGS_CONTROLS = frozenset(
    {"dependabot-security-updates", "pr-review-required", "secret-scanning"}
)


def selected_controls(policy: Policy, only: Iterable[str] | None) -> list[str]:
    """The enabled controls to fix: all, or those named (an unknown name is an input error)."""
    enabled = [c.id for c in policy.enabled_controls()]
    if not only:
        return enabled
    names = list(dict.fromkeys(only))
    unknown = [n for n in names if n not in policy.controls]
    if unknown:
        raise SecpostureError(
            f"--only: unknown control {', '.join(repr(n) for n in unknown)}; the controls are "
            f"{', '.join(policy.controls)}"
        )
    disabled = [n for n in names if n not in enabled]
    if disabled:
        raise SecpostureError(
            f"--only: {', '.join(disabled)} is disabled by the policy, so there is nothing to fix"
        )
    return names


def check_codeowner(owner: str | None) -> str | None:
    if owner is not None and not codeowners_facts.is_owner(owner):
        raise SecpostureError(
            f"--codeowner {owner[:80]!r} is not an @user, @org/team or email address"
        )
    return owner


def _statuses(report: ScanReport) -> dict[str, Status]:
    return {r.id: r.status for r in report.results}


def _to_fix(report: ScanReport) -> dict[str, Status]:
    """The report's statuses, a control that is unknown because a file it reads could not be
    analysed counted as failing: its generator then says to mend the file (or replaces it, with
    --force) instead of there being nothing to fix."""
    unreadable = {p.path for p in report.problems}
    statuses = _statuses(report)
    for r in report.results:
        if r.status is Status.UNKNOWN and any(
            f.outcome is Outcome.UNKNOWN
            and f.location is not None
            and f.location.path in unreadable
            for f in r.findings
        ):
            statuses[r.id] = Status.FAIL
    return statuses


def _why_not(result: ControlResult) -> str:
    remedy = f" To fix: {result.remediation}" if result.remediation else ""
    if result.id in SETTINGS_CONTROLS:
        said = "--apply-settings" in (result.remediation or "")
        return (
            "a repository setting, not a file: `secposture fix --apply-settings` turns it on "
            "(with an admin's token)." + ("" if said else remedy)
        )
    return "no file that secposture can generate makes this pass." + remedy


def plan_fixes(
    snapshot: Snapshot,
    policy: Policy,
    report: ScanReport,
    *,
    force: bool = False,
    only: Iterable[str] | None = None,
    today: date,
    codeowner: str | None = None,
    pins: PinSource | None = None,
) -> FixPlan:
    """The changes that make the report's failing file-based controls pass, without writing.

    `report` is the scan of `snapshot` the user saw (it may hold register and settings results);
    `only` limits the fix to the named controls; `force` lets generators replace existing files
    (and malformed configuration) instead of skipping them; `pins` resolves the tags of `uses:`
    references (GitHub with a token; None: the pin table shipped with secposture)."""
    selected = selected_controls(policy, only)
    options = FixOptions(force=force, codeowner=check_codeowner(codeowner), pins=pins)
    ws = Workspace(snapshot, policy, today, options)
    original = _to_fix(report)
    baseline = _to_fix(scan_snapshot(OverlaySnapshot(snapshot, {}), policy, today))
    current = dict(baseline)
    scanned_at = ws.revision
    for generator in generators():
        controls = [c for c in generator.CONTROLS if c in selected]
        # A control that passed may fail because of a change planned here (a new workflow
        # brings GitHub Actions for Dependabot to cover): rescan only when that can matter.
        stale = ws.revision != scanned_at
        if stale and any(not original.get(c, Status.PASS).failing for c in controls):
            current = _to_fix(scan_snapshot(ws.overlay(), policy, today))
            scanned_at = ws.revision
        targets = frozenset(c for c in controls if _needs_fix(c, original, baseline, current))
        if targets:
            generator.generate(ws, targets)
    final = scan_snapshot(ws.overlay(), policy, today)
    return FixPlan(
        changes=tuple(_changes(ws)),
        skipped=tuple(ws.skipped) + tuple(_not_handled(report, selected)),
        notes=tuple(ws.notes)
        + tuple(_already_passing(original, only))
        + tuple(_outlook(report, final, ws, selected)),
    )


def _already_passing(statuses: dict[str, Status], only: Iterable[str] | None) -> list[str]:
    """For controls named with --only that do not fail: why nothing was done for them."""
    return [
        f"{c} is {statuses[c].value}: nothing to fix"
        for c in dict.fromkeys(only or ())
        if c in statuses and not statuses[c].failing
    ]


def _needs_fix(
    control: str,
    original: dict[str, Status],
    baseline: dict[str, Status],
    current: dict[str, Status],
) -> bool:
    """Failing in the user's report, or made to fail by a change planned here."""
    if original.get(control, Status.PASS).failing:
        return True
    now = current.get(control)
    return now is not None and now.failing and not baseline.get(control, Status.PASS).failing


def _changes(ws: Workspace) -> list[FileChange]:
    out = []
    for planned in ws.files.values():
        if planned.before == planned.after:
            continue
        out.append(
            FileChange(
                path=planned.path,
                before=planned.before,
                after=planned.after,
                control=planned.controls[0],
                summary="; ".join(summary for _, summary in planned.details),
                guidance=" ".join(planned.guidance),
                controls=tuple(planned.controls),
                action=planned.action,
                details=tuple(planned.details),
            )
        )
    return out


def _not_handled(report: ScanReport, selected: list[str]) -> list[Skipped]:
    """Failing controls no generator handles (settings included while they are unknown)."""
    handled = handled_controls()
    out = []
    for result in report.results:
        if result.id not in selected or result.id in handled:
            continue
        unknown_setting = result.status is Status.UNKNOWN and result.id in SETTINGS_CONTROLS
        if result.status.failing or unknown_setting:
            out.append(Skipped(result.id, _why_not(result)))
    return out


def _outlook(
    report: ScanReport, final: ScanReport, ws: Workspace, selected: list[str]
) -> list[str]:
    """What the scan will still say about the controls this plan touches, and any control the
    plan would make fail (one left out with --only)."""
    before = _statuses(report)
    touched = {c for planned in ws.files.values() for c in planned.controls}
    notes = []
    for result in final.results:
        was = before.get(result.id)
        if result.id in ws.explained:
            continue
        if result.id in touched and result.status is not Status.PASS:
            notes.append(
                f"{result.id} will be {result.status.value} after these changes: {result.summary}"
            )
        elif was is not None and not was.failing and result.status.failing:
            why = "" if result.id in selected else " (not fixed: it was left out with --only)"
            notes.append(
                f"{result.id} would become {result.status.value} after these changes{why}: "
                f"{result.summary}"
            )
    return notes
