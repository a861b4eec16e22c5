from __future__ import annotations

from secposture.facts import templates
from secposture.facts.interface import Facts
from secposture.model import Finding, Location, Outcome
from secposture.probes.interface import finding, probe_id

PROBE = probe_id(__name__)


def _unreadable(facts: Facts, template: templates.Template) -> str:
    problem = facts.problem_for(template.path)
    return f" ({problem.message})" if problem is not None else ""


def run(facts: Facts) -> list[Finding]:
    found = facts.get(templates.collect).pr
    if not found:
        # pr-template-present already fails the control; saying it twice adds nothing.
        return [finding(PROBE, Outcome.NOT_APPLICABLE, "no pull request template to check")]
    for template in found:
        item = templates.security_checklist_item(template)
        if item is not None:
            return [
                finding(
                    PROBE,
                    Outcome.POSITIVE,
                    f'{template.path} has a security checklist item: "{item.text.strip()[:120]}"',
                    Location(template.path, item.line),
                )
            ]
    problems = "".join(_unreadable(facts, t) for t in found if not t.readable)
    names = ", ".join(t.path for t in found)
    return [
        finding(
            PROBE,
            Outcome.NEGATIVE,
            f"the pull request template ({names}) has no security checklist item{problems}: add a "
            "`- [ ]` line about security, for example the OWASP Top 10 risks the change touches",
            Location(found[0].path),
        )
    ]
