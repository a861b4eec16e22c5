"""Settings controls from GitHub's answers: classic protection, rulesets, security_and_analysis,
and what a token without admin access can and cannot decide."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secposture.model import ControlResult, Status, Target
from secposture.policy import default_policy
from secposture.scan import scan_snapshot
from secposture.sources.github.settings import (
    branch_pattern_matches,
    ruleset_applies,
    settings_from,
)
from secposture.sources.memory import MemorySnapshot

TODAY = date(2026, 11, 29)


def scan_with(
    graph: dict[str, Any], rest: dict[str, Any] | None, forbidden: frozenset[str] = frozenset()
) -> dict[str, ControlResult]:
    snapshot = MemorySnapshot(
        {"README.md": "# app\n"},
        Target(name="acme/app", source="github"),
        settings=settings_from(graph, rest, forbidden),
    )
    report = scan_snapshot(snapshot, default_policy(), TODAY)
    return {r.id: r for r in report.results}


def graph_repo(**overrides: Any) -> dict[str, Any]:
    repo: dict[str, Any] = {
        "viewerPermission": "ADMIN",
        "hasVulnerabilityAlertsEnabled": True,
        "defaultBranchRef": {"name": "main", "target": {"oid": "a" * 40}},
        "branchProtectionRules": {"nodes": []},
        "rulesets": {"nodes": []},
    }
    repo.update(overrides)
    return repo


def protection(pattern: str = "main", count: int = 1, **extra: Any) -> dict[str, Any]:
    rule = {
        "pattern": pattern,
        "requiresApprovingReviews": count > 0,
        "requiredApprovingReviewCount": count,
        "dismissesStaleReviews": True,
        "requiresCodeOwnerReviews": False,
        "isAdminEnforced": True,
        "bypassPullRequestAllowances": {"nodes": []},
    }
    rule.update(extra)
    return rule


def ruleset(
    include: list[str], count: int = 1, enforcement: str = "ACTIVE", **extra: Any
) -> dict[str, Any]:
    node = {
        "databaseId": 42,
        "name": "Protect main",
        "enforcement": enforcement,
        "target": "BRANCH",
        "conditions": {"refName": {"include": include, "exclude": []}},
        "rules": {
            "nodes": [
                {"type": "DELETION", "parameters": None},
                {
                    "type": "PULL_REQUEST",
                    "parameters": {
                        "requiredApprovingReviewCount": count,
                        "dismissStaleReviewsOnPush": False,
                        "requireCodeOwnerReview": True,
                    },
                },
            ]
        },
        "bypassActors": {"nodes": []},
    }
    node.update(extra)
    return node


SECURITY_ON = {
    "security_and_analysis": {
        "dependabot_security_updates": {"status": "enabled"},
        "secret_scanning": {"status": "enabled"},
        "secret_scanning_push_protection": {"status": "enabled"},
    }
}


def test_classic_protection_requiring_review_passes_with_the_rule_in_evidence() -> None:
    results = scan_with(graph_repo(branchProtectionRules={"nodes": [protection()]}), SECURITY_ON)
    review = results["pr-review-required"]
    assert review.status is Status.PASS
    text = review.findings[0].message
    assert "branch protection rule 'main'" in text and "1 approving review" in text
    assert "admins included" in text and "no bypass actors" in text
    assert review.findings[0].location is not None
    assert (
        review.findings[0].location.api_field
        == "branchProtectionRules.requiredApprovingReviewCount"
    )


def test_ruleset_on_the_default_branch_passes_and_reports_bypass_actors() -> None:
    bypass = {
        "nodes": [
            {"bypassMode": "ALWAYS", "actor": {"__typename": "Team", "slug": "platform"}},
            {"bypassMode": "ALWAYS", "organizationAdmin": True, "actor": None},
        ]
    }
    results = scan_with(
        graph_repo(rulesets={"nodes": [ruleset(["~DEFAULT_BRANCH"], bypassActors=bypass)]}),
        SECURITY_ON,
    )
    review = results["pr-review-required"]
    assert review.status is Status.PASS
    assert "ruleset 'Protect main'" in review.findings[0].message
    assert "bypass: team platform, organization admins" in review.findings[0].message
    assert "code owner review required" in review.findings[0].message


@pytest.mark.parametrize(
    ("graph", "why"),
    [
        (graph_repo(), "no branch protection rule or ruleset requires review on main"),
        (
            graph_repo(branchProtectionRules={"nodes": [protection(count=0)]}),
            "no enforced rule requires an approving review",
        ),
        (
            graph_repo(branchProtectionRules={"nodes": [protection(pattern="release/*")]}),
            "no branch protection rule or ruleset",
        ),
        (
            graph_repo(rulesets={"nodes": [ruleset(["~DEFAULT_BRANCH"], enforcement="EVALUATE")]}),
            "not enforced",
        ),
        (
            graph_repo(rulesets={"nodes": [ruleset(["refs/heads/develop"])]}),
            "no branch protection rule or ruleset",
        ),
    ],
)
def test_review_not_required_fails_and_says_why(graph: dict[str, Any], why: str) -> None:
    review = scan_with(graph, SECURITY_ON)["pr-review-required"]
    assert review.status is Status.FAIL
    assert why in review.summary


def test_read_token_leaves_protection_and_security_settings_unknown_naming_the_access() -> None:
    graph = graph_repo(viewerPermission="READ", branchProtectionRules=None)
    results = scan_with(graph, {"name": "app"}, forbidden={"branchProtectionRules"})
    for control in ("pr-review-required", "dependabot-security-updates", "secret-scanning"):
        assert results[control].status is Status.UNKNOWN, control
        assert "admin" in results[control].summary, control


def test_a_ruleset_visible_to_a_read_token_still_decides_review() -> None:
    graph = graph_repo(
        viewerPermission="WRITE",
        branchProtectionRules=None,
        rulesets={"nodes": [ruleset(["~ALL"])]},
    )
    results = scan_with(graph, None, forbidden={"branchProtectionRules"})
    assert results["pr-review-required"].status is Status.PASS


def test_empty_repository_has_no_default_branch_to_protect() -> None:
    results = scan_with(graph_repo(defaultBranchRef=None), SECURITY_ON)
    assert results["pr-review-required"].status is Status.NOT_APPLICABLE


def test_security_and_analysis_switches() -> None:
    rest = {
        "security_and_analysis": {
            "dependabot_security_updates": {"status": "disabled"},
            "secret_scanning": {"status": "enabled"},
            "secret_scanning_push_protection": {"status": "disabled"},
        }
    }
    results = scan_with(graph_repo(), rest)
    assert results["dependabot-security-updates"].status is Status.FAIL
    assert "security_and_analysis.dependabot_security_updates.status" in str(
        results["dependabot-security-updates"].findings[0].location
    )
    secret = results["secret-scanning"]
    assert secret.status is Status.PARTIAL
    assert "push protection is off" in secret.summary
    on = scan_with(graph_repo(), SECURITY_ON)
    assert on["dependabot-security-updates"].status is Status.PASS
    assert on["secret-scanning"].status is Status.PASS


def test_per_repository_endpoint_decides_dependabot_when_the_listing_omits_it() -> None:
    snapshot_settings = settings_from(graph_repo(), {"name": "app"}, automated_fixes=True)
    assert snapshot_settings.dependabot_security_updates is not None
    assert snapshot_settings.dependabot_security_updates.enabled is True
    assert (
        snapshot_settings.dependabot_security_updates.api_field
        == "automated-security-fixes.enabled"
    )


@pytest.mark.parametrize(
    ("pattern", "branch", "expected"),
    [
        ("main", "main", True),
        ("*", "main", True),
        ("*", "feature/x", False),
        ("**/*", "feature/x", True),
        ("release/[0-9]*", "release/2.1", True),
        ("mai?", "main", True),
        ("main", "mainline", False),
    ],
)
def test_classic_branch_patterns(pattern: str, branch: str, expected: bool) -> None:
    assert branch_pattern_matches(pattern, branch) is expected


def test_ruleset_ref_conditions() -> None:
    assert ruleset_applies(["~DEFAULT_BRANCH"], [], "main")
    assert ruleset_applies(["refs/heads/main"], [], "main")
    assert ruleset_applies(["refs/heads/ma*"], [], "main")
    assert not ruleset_applies(["~ALL"], ["refs/heads/main"], "main")
    assert not ruleset_applies([], [], "main")


@settings(max_examples=100, deadline=None)
@given(
    graph=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "defaultBranchRef",
                        "name",
                        "branchProtectionRules",
                        "rulesets",
                        "nodes",
                        "pattern",
                        "conditions",
                        "refName",
                        "include",
                        "rules",
                        "parameters",
                        "type",
                        "viewerPermission",
                        "hasVulnerabilityAlertsEnabled",
                        "bypassActors",
                        "actor",
                    ]
                ),
                inner,
                max_size=5,
            )
        ),
        max_leaves=30,
    ),
    rest=st.none()
    | st.dictionaries(
        st.sampled_from(["security_and_analysis", "name"]),
        st.none()
        | st.text(max_size=5)
        | st.dictionaries(
            st.text(max_size=30),
            st.none() | st.dictionaries(st.just("status"), st.text(max_size=8)),
        ),
    ),
)
def test_any_answer_shape_gives_settings_never_an_exception(graph: object, rest: object) -> None:
    if not isinstance(graph, dict):
        graph = {"defaultBranchRef": graph}
    settings_from(graph, rest if isinstance(rest, dict) else None)  # type: ignore[arg-type]


def test_bypass_lists_longer_than_one_page_say_there_are_more() -> None:
    bypass = {
        "pageInfo": {"hasNextPage": True},
        "nodes": [{"bypassMode": "ALWAYS", "actor": {"__typename": "Team", "slug": "ops"}}],
    }
    graph = graph_repo(rulesets={"nodes": [ruleset(["~DEFAULT_BRANCH"], bypassActors=bypass)]})
    review = scan_with(graph, SECURITY_ON)["pr-review-required"]
    assert review.status is Status.PASS
    assert "bypass: team ops, and more" in review.findings[0].message
