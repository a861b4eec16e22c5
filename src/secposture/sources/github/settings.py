"""Repository settings from GitHub's answers, as the settings probes read them.

REST's `security_and_analysis` (shown only to admins and security managers) gives Dependabot
security updates and secret scanning; GraphQL gives vulnerability alerts, classic branch protection
(admins only) and rulesets. What the token could not see becomes an Observation with
`enabled=None` naming the access that would show it, so the control is `unknown`, never `fail`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from secposture.sources.alerts import alerts_from
from secposture.sources.interface import (
    Observation,
    ReviewRequirement,
    ReviewRule,
    Settings,
)

ADMIN_ACCESS = (
    "admin access to the repository, or a GitHub App with the Administration (read) permission"
)
SECURITY_ACCESS = (
    "admin or security-manager access to the repository, or a GitHub App with the Administration "
    "(read) permission"
)

_SECURITY_FIELDS = {
    "dependabot_security_updates": "dependabot_security_updates",
    "secret_scanning": "secret_scanning",  # nosec B105 - setting names, not secrets
    "secret_scanning_push_protection": "secret_scanning_push_protection",  # nosec B105
}


def security_observations(
    rest_repo: Mapping[str, Any] | None, automated_fixes: bool | None = None
) -> dict[str, Observation]:
    """The security_and_analysis switches of a REST repository object (absent: not visible)."""
    block = rest_repo.get("security_and_analysis") if rest_repo else None
    out: dict[str, Observation] = {}
    for key, name in _SECURITY_FIELDS.items():
        api_field = f"security_and_analysis.{name}.status"
        entry = block.get(name) if isinstance(block, Mapping) else None
        status = entry.get("status") if isinstance(entry, Mapping) else None
        if status in ("enabled", "disabled"):
            out[key] = Observation(api_field, status == "enabled")
        elif key == "dependabot_security_updates" and automated_fixes is not None:
            out[key] = Observation("automated-security-fixes.enabled", automated_fixes)
        else:
            out[key] = Observation(api_field, None, SECURITY_ACCESS)
    return out


def settings_from(
    graph_repo: Mapping[str, Any],
    rest_repo: Mapping[str, Any] | None,
    forbidden: Iterable[str] = (),
    *,
    protection_rules: list[Mapping[str, Any]] | None = None,
    rulesets: list[Mapping[str, Any]] | None = None,
    automated_fixes: bool | None = None,
    review_cut: str = "",
    alerts_cut: str = "",
) -> Settings:
    """Settings for one repository from round one's GraphQL answer and its REST listing entry.

    `forbidden` names the GraphQL fields GitHub refused (FORBIDDEN errors); the connection lists,
    when given, are complete (every page followed) and replace the first pages in `graph_repo`.
    `review_cut` says why the protection rules or rulesets could not be read whole (review is
    then unknown); `alerts_cut` why the open Dependabot alerts could not be read whole.
    """
    refused = set(forbidden)
    security = security_observations(rest_repo, automated_fixes)
    alerts_value = graph_repo.get("hasVulnerabilityAlertsEnabled")
    alerts = Observation(
        "hasVulnerabilityAlertsEnabled",
        alerts_value if isinstance(alerts_value, bool) else None,
        ADMIN_ACCESS,
    )
    return Settings(
        observed=True,
        reason="",
        dependabot_security_updates=security["dependabot_security_updates"],
        vulnerability_alerts=alerts,
        secret_scanning=security["secret_scanning"],
        secret_scanning_push_protection=security["secret_scanning_push_protection"],
        review=review_requirement(graph_repo, refused, protection_rules, rulesets, review_cut),
        open_alerts=alerts_from(graph_repo, refused, alerts_cut),
    )


def review_requirement(
    graph_repo: Mapping[str, Any],
    refused: set[str],
    protection_rules: list[Mapping[str, Any]] | None = None,
    rulesets: list[Mapping[str, Any]] | None = None,
    cut: str = "",
) -> ReviewRequirement:
    branch_ref = graph_repo.get("defaultBranchRef")
    branch = branch_ref.get("name") if isinstance(branch_ref, Mapping) else None
    if not isinstance(branch, str):
        return ReviewRequirement(branch=None)
    if protection_rules is None:
        protection_rules = _nodes(graph_repo.get("branchProtectionRules"))
    if rulesets is None:
        rulesets = _nodes(graph_repo.get("rulesets"))
    rules: list[ReviewRule] = []
    for node in protection_rules:
        pattern = node.get("pattern")
        if isinstance(pattern, str) and branch_pattern_matches(pattern, branch):
            rules.append(_protection_rule(node, pattern))
    for node in rulesets:
        rule = _ruleset_rule(node, branch)
        if rule is not None:
            rules.append(rule)
    # Classic protection is shown to admins only; others may get an error or an empty list.
    protection_hidden = "branchProtectionRules" in refused or graph_repo.get(
        "viewerPermission"
    ) in ("READ", "TRIAGE", "WRITE", "MAINTAIN")
    if cut:
        return ReviewRequirement(branch, tuple(rules), cut=cut)
    if protection_hidden and not any(r.active and r.required_approvals for r in rules):
        # Rulesets alone may already show a review requirement; otherwise classic protection,
        # which this token cannot read, might hold one: unknown, not fail.
        return ReviewRequirement(branch, tuple(rules), visible=False, needs=ADMIN_ACCESS)
    return ReviewRequirement(branch, tuple(rules))


def _nodes(connection: object) -> list[Mapping[str, Any]]:
    if not isinstance(connection, Mapping):
        return []
    nodes = connection.get("nodes")
    return [n for n in nodes if isinstance(n, Mapping)] if isinstance(nodes, list) else []


def _actor_names(connection: object) -> tuple[str, ...]:
    names = []
    for node in _nodes(connection):
        actor = node.get("actor")
        if isinstance(actor, Mapping):
            kind = str(actor.get("__typename", "actor")).lower()
            name = actor.get("login") or actor.get("slug") or "?"
            names.append(f"{kind} {name}")
        elif node.get("organizationAdmin"):
            names.append("organization admins")
        elif node.get("repositoryRoleName"):
            names.append(f"role {node['repositoryRoleName']}")
        elif node.get("deployKey"):
            names.append("deploy keys")
    page = connection.get("pageInfo") if isinstance(connection, Mapping) else None
    if isinstance(page, Mapping) and page.get("hasNextPage"):
        names.append("and more")  # evidence only: who may bypass does not change the verdict
    return tuple(names)


def _protection_rule(node: Mapping[str, Any], pattern: str) -> ReviewRule:
    requires = bool(node.get("requiresApprovingReviews"))
    count = node.get("requiredApprovingReviewCount")
    return ReviewRule(
        kind="branch protection rule",
        name=pattern,
        api_field="branchProtectionRules.requiredApprovingReviewCount",
        required_approvals=count if requires and isinstance(count, int) else 0,
        dismiss_stale_reviews=bool(node.get("dismissesStaleReviews")),
        require_code_owner_review=bool(node.get("requiresCodeOwnerReviews")),
        enforce_admins=bool(node.get("isAdminEnforced")),
        bypass_actors=_actor_names(node.get("bypassPullRequestAllowances")),
    )


def _ruleset_rule(node: Mapping[str, Any], branch: str) -> ReviewRule | None:
    if node.get("target") not in ("BRANCH", None):
        return None
    conditions = node.get("conditions")
    ref_name = conditions.get("refName") if isinstance(conditions, Mapping) else None
    if not isinstance(ref_name, Mapping) or not ruleset_applies(
        ref_name.get("include") or [], ref_name.get("exclude") or [], branch
    ):
        return None
    review = None
    for rule in _nodes(node.get("rules")):
        params = rule.get("parameters")
        if rule.get("type") == "PULL_REQUEST" and isinstance(params, Mapping):
            review = params
    if review is None:
        return None
    count = review.get("requiredApprovingReviewCount")
    return ReviewRule(
        kind="ruleset",
        name=str(node.get("name", "?")),
        api_field=f"rulesets[{node.get('databaseId', '?')}].rules.pull_request",
        required_approvals=count if isinstance(count, int) else 0,
        dismiss_stale_reviews=bool(review.get("dismissStaleReviewsOnPush")),
        require_code_owner_review=bool(review.get("requireCodeOwnerReview")),
        enforce_admins=None,
        bypass_actors=_actor_names(node.get("bypassActors")),
        active=node.get("enforcement") == "ACTIVE",
    )


def ruleset_applies(include: Iterable[object], exclude: Iterable[object], branch: str) -> bool:
    """GitHub's ref_name condition: `~DEFAULT_BRANCH`, `~ALL`, or fnmatch patterns on refs/heads/."""

    def matches(pattern: object) -> bool:
        if pattern in ("~DEFAULT_BRANCH", "~ALL"):
            return True
        if not isinstance(pattern, str):
            return False
        ref = f"refs/heads/{branch}"
        return _ref_pattern(pattern).fullmatch(ref) is not None

    return any(matches(p) for p in include) and not any(matches(p) for p in exclude)


def branch_pattern_matches(pattern: str, branch: str) -> bool:
    """Classic protection patterns are fnmatch with `*` stopping at `/` (File::FNM_PATHNAME)."""
    return _branch_pattern(pattern).fullmatch(branch) is not None


@lru_cache(maxsize=512)
def _branch_pattern(pattern: str) -> re.Pattern[str]:
    return _compile(pattern)


@lru_cache(maxsize=512)
def _ref_pattern(pattern: str) -> re.Pattern[str]:
    if not pattern.startswith("refs/"):
        pattern = f"refs/heads/{pattern}"
    return _compile(pattern)


def _compile(pattern: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[" and (end := pattern.find("]", i + 2)) != -1:
            body = pattern[i + 1 : end]
            negate = body.startswith(("!", "^"))
            body = re.escape(body[1:] if negate else body).replace("\\-", "-")
            out.append(f"[^/{body}]" if negate else f"[{body}]")
            i = end + 1
            continue
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out))
