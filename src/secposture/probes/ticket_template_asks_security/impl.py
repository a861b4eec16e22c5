from __future__ import annotations

from secposture.facts import templates
from secposture.facts.interface import Facts
from secposture.model import Finding, Location, Outcome
from secposture.probes.interface import finding, unanalysed

PROBE = "ticket-template-asks-security"
_NAMED = 4


def _best(found: list[templates.Template]) -> templates.Match | None:
    """The template whose security question names the OWASP Top 10, else the first that asks."""
    matches = [m for m in (templates.security_question(t) for t in found) if m is not None]
    # A question that itself names the OWASP Top 10 beats a template naming it elsewhere.
    ranked = sorted(matches, key=lambda m: (m.owasp is None, m.owasp is not m.line))
    return ranked[0] if ranked else None


def _where(match: templates.Match) -> Location:
    return Location(match.template.path, match.line.line)


def _names(found: list[templates.Template]) -> str:
    names = [t.path for t in found[:_NAMED]]
    more = len(found) - _NAMED
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


def _positive(match: templates.Match, note: str) -> Finding:
    owasp = match.owasp
    at = f"line {owasp.line}" if owasp is not None and owasp.line else "the template"
    return finding(
        PROBE,
        Outcome.POSITIVE,
        f"the {match.template.kind} template {match.template.path} asks about security "
        f'("{match.line.text.strip()[:100]}") and refers to the OWASP Top 10 ({at}){note}',
        _where(match),
    )


def run(facts: Facts) -> list[Finding]:
    found = facts.get(templates.collect)
    issue = _best(found.issue)
    if issue is not None and issue.owasp is not None:
        return [_positive(issue, "")]
    pr = _best(found.pr)
    if pr is not None and pr.owasp is not None:
        note = "; no issue template does" if found.issue else "; there are no issue templates"
        return [_positive(pr, note)]
    chosen = issue or pr
    if chosen is not None:
        return [
            finding(
                PROBE,
                Outcome.PARTIAL,
                f"the {chosen.template.kind} template {chosen.template.path} asks about security "
                f'("{chosen.line.text.strip()[:100]}") but does not refer to the OWASP Top 10: ask '
                "which OWASP Top 10 risks the change touches",
                _where(chosen),
            )
        ]
    for template in found.issue + found.pr:
        problem = facts.problem_for(template.path) if not template.readable else None
        if problem is not None:
            return [unanalysed(PROBE, problem, "whether it asks about security is unknown")]
    pr_note = f"; nor does the pull request template ({_names(found.pr)})" if found.pr else ""
    if found.issue:
        return [
            finding(
                PROBE,
                Outcome.NEGATIVE,
                f"none of the issue templates ({_names(found.issue)}) asks about security{pr_note}: "
                "add a security question that refers to the OWASP Top 10",
                Location(found.issue[0].path),
            )
        ]
    return [
        finding(
            PROBE,
            Outcome.UNKNOWN,
            f"no issue templates (.github/ISSUE_TEMPLATE/){pr_note}: tickets may be refined "
            "elsewhere (Jira, Azure Boards, ...); decided by that tracker's ticket template or "
            "definition of ready asking about security and the OWASP Top 10, or by adding an issue "
            "template here that asks",
        )
    ]
