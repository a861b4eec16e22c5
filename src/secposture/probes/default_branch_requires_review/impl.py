from __future__ import annotations

from secposture.facts.interface import Facts
from secposture.model import Finding, Location, Outcome
from secposture.probes.interface import finding, probe_id
from secposture.probes.settings import not_observed
from secposture.sources.interface import ReviewRule

PROBE = probe_id(__name__)
DECIDED_BY = (
    "branch protection or rulesets on the default branch (reading classic protection needs admin "
    "access)"
)


def describe(rule: ReviewRule) -> str:
    """The rule as evidence: everything a reviewer of the setting would ask about."""
    parts = [
        f"{rule.required_approvals} approving review{'s' if rule.required_approvals != 1 else ''}",
        f"stale reviews {'dismissed' if rule.dismiss_stale_reviews else 'kept'} on push",
        f"code owner review {'required' if rule.require_code_owner_review else 'not required'}",
    ]
    if rule.enforce_admins is not None:
        parts.append(f"admins {'included' if rule.enforce_admins else 'exempt'}")
    if rule.bypass_actors:
        parts.append("bypass: " + ", ".join(rule.bypass_actors))
    else:
        parts.append("no bypass actors")
    if not rule.active:
        parts.append("not enforced (evaluate or disabled)")
    return f"{rule.kind} '{rule.name}': " + "; ".join(parts)


def run(facts: Facts) -> list[Finding]:
    unknown = not_observed(facts, PROBE, DECIDED_BY)
    if unknown is not None:
        return [unknown]
    review = facts.snapshot.settings.review
    if review is None:
        return [
            finding(PROBE, Outcome.UNKNOWN, f"not reported by the API; decided by {DECIDED_BY}")
        ]
    if review.branch is None:
        return [
            finding(
                PROBE, Outcome.NOT_APPLICABLE, "the repository has no default branch (it is empty)"
            )
        ]
    if review.cut:
        # Part of the rules is no verdict: a rule on the unread pages may require review.
        return [
            finding(
                PROBE,
                Outcome.UNKNOWN,
                f"the protection rules of {review.branch} could not be read whole: {review.cut}",
                Location(api_field="branchProtectionRules"),
            )
        ]
    if not review.visible:
        return [
            finding(
                PROBE,
                Outcome.UNKNOWN,
                f"protection of {review.branch} is not visible to this token "
                f"(needs {review.needs or 'admin access'})",
                Location(api_field="branchProtectionRules"),
            )
        ]
    enforcing = [r for r in review.rules if r.active and r.required_approvals >= 1]
    if enforcing:
        return [
            finding(PROBE, Outcome.POSITIVE, describe(rule), Location(api_field=rule.api_field))
            for rule in enforcing
        ]
    if review.rules:
        return [
            finding(
                PROBE,
                Outcome.NEGATIVE,
                f"{review.branch} is protected but no enforced rule requires an approving review: "
                + describe(rule),
                Location(api_field=rule.api_field),
            )
            for rule in review.rules
        ]
    return [
        finding(
            PROBE,
            Outcome.NEGATIVE,
            f"no branch protection rule or ruleset requires review on {review.branch}",
            Location(api_field="branchProtectionRules"),
        )
    ]
