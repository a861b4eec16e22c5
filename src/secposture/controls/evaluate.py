"""Compose probe findings into control statuses, then apply waivers."""

from __future__ import annotations

from collections.abc import Sequence

from secposture.facts.interface import Facts
from secposture.model import ControlResult, Finding, Outcome, Status, WaiverRef
from secposture.policy import ControlSettings, Waiver
from secposture.probes.interface import load_probe

SUMMARY_ITEMS = 3


def aggregate(findings: Sequence[Finding], rule: str) -> Status:
    """One status from many findings (rules described in data/controls.toml)."""
    outcomes = [f.outcome for f in findings if f.outcome is not Outcome.NOT_APPLICABLE]
    if not outcomes:
        return Status.NOT_APPLICABLE
    positive = outcomes.count(Outcome.POSITIVE)
    partial = outcomes.count(Outcome.PARTIAL)
    negative = outcomes.count(Outcome.NEGATIVE)
    unknown = outcomes.count(Outcome.UNKNOWN)
    if negative == 0 and partial == 0:
        return Status.PASS if unknown == 0 else Status.UNKNOWN
    if rule == "strict" and negative:
        return Status.FAIL
    if positive or partial:
        return Status.PARTIAL
    return Status.FAIL


def _summary(status: Status, findings: Sequence[Finding]) -> str:
    wanted: tuple[Outcome, ...]
    if status is Status.PASS:
        wanted = (Outcome.POSITIVE,)
    elif status is Status.NOT_APPLICABLE:
        wanted = (Outcome.NOT_APPLICABLE,)
    elif status is Status.UNKNOWN:
        wanted = (Outcome.UNKNOWN,)
    else:
        wanted = (Outcome.NEGATIVE, Outcome.PARTIAL, Outcome.UNKNOWN)
    # One sentence once: several findings can say the same thing (a file read by two probes).
    messages = list(dict.fromkeys(f.message for f in findings if f.outcome in wanted))
    text = "; ".join(messages[:SUMMARY_ITEMS])
    if len(messages) > SUMMARY_ITEMS:
        text += f"; and {len(messages) - SUMMARY_ITEMS} more"
    return text or status.value


def _run_probes(control: ControlSettings, facts: Facts) -> list[Finding]:
    findings: list[Finding] = []
    for probe_id in control.probes:
        probe = load_probe(probe_id)
        try:
            findings.extend(probe.run(facts))
        except Exception as exc:  # a probe bug must not hide the other controls' results
            findings.append(
                Finding(
                    probe_id,
                    Outcome.UNKNOWN,
                    f"internal error in probe {probe_id}: {type(exc).__name__}: {exc} "
                    "(please report this)",
                )
            )
    return findings


def _waiver_for(control_id: str, waivers: Sequence[Waiver], facts: Facts) -> Waiver | None:
    """The unexpired waiver for a control if there is one, else its latest expired one."""
    matching = [w for w in waivers if w.control == control_id]
    if not matching:
        return None
    live = [w for w in matching if not w.expired(facts.today)]
    return max(live or matching, key=lambda w: w.expires)


def evaluate_control(control: ControlSettings, facts: Facts) -> ControlResult:
    findings = _run_probes(control, facts)
    status = aggregate(findings, control.rule)
    summary = _summary(status, findings)
    waiver = _waiver_for(control.id, facts.policy.waivers, facts)
    ref = None
    if waiver is not None and status not in (Status.PASS, Status.NOT_APPLICABLE):
        expired = waiver.expired(facts.today)
        ref = WaiverRef(
            control=waiver.control,
            reason=waiver.reason,
            approver=waiver.approver,
            expires=waiver.expires.isoformat(),
            expired=expired,
            origin=waiver.origin,
        )
        if expired:
            status = Status.FAIL
            summary = (
                f"waiver expired on {waiver.expires.isoformat()} (approved by {waiver.approver}, "
                f"{waiver.origin}): {summary}"
            )
        else:
            status = Status.WAIVED
            summary = (
                f"waived until {waiver.expires.isoformat()} by {waiver.approver}: "
                f"{waiver.reason} (underlying: {summary})"
            )
    remediation = None if status in (Status.PASS, Status.NOT_APPLICABLE) else control.remediation
    return ControlResult(
        id=control.id,
        title=control.title,
        level=control.level,
        guidance=control.guidance,
        status=status,
        summary=summary,
        findings=tuple(findings),
        remediation=remediation,
        waiver=ref,
    )


def evaluate(facts: Facts) -> list[ControlResult]:
    return [evaluate_control(c, facts) for c in facts.policy.enabled_controls()]
