"""What a limit (limits.py) or a broken answer left unread for one repository, and what that does
to its report (ADR 0012).

A verdict is never made on part of the evidence: every control whose probes read what was cut is
`unknown`, its summary saying what was cut and why, and each cut is a problem of the report.
Which controls read what is taken from the probes' own declarations (`reads` in def.toml), so a
new probe is covered without a list here to keep up to date.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from secposture.model import ControlResult, Problem, ScanReport, Status
from secposture.policy import Policy

PROBLEM_PATH = "GitHub API"  # where a cut is reported among the report's problems

# What a probe reads, by its id: the `reads` of its def.toml (probes.interface.probe_reads).
# The caller hands it in, so that the source fetches what the probes need without importing them.
ProbeReads = Callable[[str], Sequence[str]]


class Part(StrEnum):
    """What was cut, by what the probes declare they read."""

    FILES = "files"  # the file list or file texts: every control that reads files
    REVIEW = "review"  # protection rules or rulesets: api:branch_protection, api:rulesets
    SECURITY = "security"  # api:security_and_analysis.*
    ALERTS = "alerts"  # api:vulnerabilityAlerts: the open Dependabot alerts


@dataclass(frozen=True)
class Cut:
    part: Part
    message: str  # what was cut and why, for the user


def reads_part(glob: str, part: Part) -> bool:
    """Whether a probe's declared read (`reads` in def.toml) is in `part`."""
    if part is Part.REVIEW:
        return glob in ("api:branch_protection", "api:rulesets")
    if part is Part.SECURITY:
        return glob.startswith("api:security_and_analysis")
    if part is Part.ALERTS:
        return glob == "api:vulnerabilityAlerts"
    return not glob.startswith(("api:", "register:"))


def affected_controls(policy: Policy, parts: Iterable[Part], reads: ProbeReads) -> set[str]:
    wanted = set(parts)
    return {
        control_id
        for control_id, control in policy.controls.items()
        if any(
            reads_part(glob, part)
            for probe in control.probes
            for glob in reads(probe)
            for part in wanted
        )
    }


def apply_cuts(
    report: ScanReport, cuts: Iterable[Cut], policy: Policy, reads: ProbeReads
) -> ScanReport:
    """`report` with each cut a problem, and the controls that read what was cut `unknown`."""
    cuts = list(cuts)
    if not cuts:
        return report
    affected: dict[str, list[str]] = {}
    for cut in cuts:
        for control_id in affected_controls(policy, [cut.part], reads):
            affected.setdefault(control_id, []).append(cut.message)
    results: list[ControlResult] = []
    for result in report.results:
        why = affected.get(result.id)
        # A waiver stands whatever the evidence; unknown already says why (the review probe
        # names the cut itself).
        if why and result.status not in (Status.UNKNOWN, Status.WAIVED):
            result = replace(
                result,
                status=Status.UNKNOWN,
                summary="not decided: GitHub's answers were cut: " + "; ".join(why),
            )
        results.append(result)
    problems = (*report.problems, *(Problem(PROBLEM_PATH, cut.message) for cut in cuts))
    return replace(report, results=tuple(results), problems=problems)
