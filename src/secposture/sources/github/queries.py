"""GraphQL query text for the GitHub source: many repositories per request, one alias each.

Queries are built as text with every value written as a JSON string literal (GraphQL's string
syntax accepts JSON's escapes), so a repository or file name cannot change a query's shape.
Connection sizes are chosen to stay far below GitHub's 500,000-node limit at 100 repositories per
query; a connection that has more pages is followed up (see fetch.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

TREE_DEPTH = 6  # folders listed per tree request; deeper folders are listed in a later round
PROTECTION_RULES = 10
RULESETS = 10
NESTED = 20  # bypass actors and allowances per rule: evidence only; more are reported as "and more"
RULES = 50  # rules per ruleset: GitHub has fewer than 30 rule types, so one page holds them all
# Open Dependabot alerts per page: most repositories have fewer, so one page inside round one
# is all they cost; the rest are followed up one repository at a time.
ALERTS = 50

_ACTOR = "actor { __typename ... on App { slug } ... on Team { slug } ... on User { login } }"
_BYPASS_ACTOR = "actor { __typename ... on App { slug } ... on Team { slug } }"
_PAGE = "pageInfo { hasNextPage endCursor }"
_MORE = "pageInfo { hasNextPage }"

ALERT_FIELDS = (
    "number state createdAt vulnerableManifestPath "
    "securityVulnerability { severity package { name ecosystem } } "
    "securityAdvisory { ghsaId severity identifiers { type value } cvss { vectorString } } "
    "dependabotUpdate { pullRequest { url state } }"
)

PROTECTION_RULE_FIELDS = (
    "pattern requiresApprovingReviews requiredApprovingReviewCount dismissesStaleReviews "
    "requiresCodeOwnerReviews isAdminEnforced "
    f"bypassPullRequestAllowances(first: {NESTED}) {{ {_MORE} nodes {{ {_ACTOR} }} }}"
)
RULESET_FIELDS = (
    "databaseId name enforcement target conditions { refName { include exclude } } "
    f"rules(first: {RULES}) {{ nodes {{ type parameters {{ ... on PullRequestParameters {{ "
    "requiredApprovingReviewCount dismissStaleReviewsOnPush requireCodeOwnerReview } } } } "
    f"bypassActors(first: {NESTED}) {{ {_MORE} nodes {{ bypassMode organizationAdmin repositoryRoleName "
    f"deployKey {_BYPASS_ACTOR} }} }}"
)


def literal(value: str) -> str:
    """A GraphQL string literal: JSON's escaping is valid GraphQL and leaves no way out."""
    return json.dumps(value, ensure_ascii=True)


def tree_fields(depth: int) -> str:
    """Tree entries nested `depth` folders deep; sizes let the fetcher skip oversized files."""
    fields = "name path type mode size"
    for _ in range(depth - 1):
        fields = f"name path type mode size object {{ ... on Tree {{ entries {{ {fields} }} }} }}"
    return fields


def repository_fragment(depth: int = TREE_DEPTH, protection: bool = True) -> str:
    """Everything one repository contributes to the first round: settings and the file tree
    (depth 0: settings alone, for a checkout that has its files already). Without `protection`:
    for tokens GitHub refuses classic branch protection (it needs admin)."""
    tree = (
        f'tree: object(expression: "HEAD:") {{ ... on Tree {{ entries {{ {tree_fields(depth)} }} }} }} '
        if depth
        else ""
    )
    return (
        "fragment repo on Repository { nameWithOwner url isArchived isFork isEmpty "
        "viewerPermission hasVulnerabilityAlertsEnabled "
        "repositoryTopics(first: 20) { nodes { topic { name } } } "
        "defaultBranchRef { name target { oid } } "
        + (
            f"branchProtectionRules(first: {PROTECTION_RULES}) {{ {_PAGE} nodes {{ "
            f"{PROTECTION_RULE_FIELDS} }} }} "
            if protection
            else ""
        )
        + f"rulesets(first: {RULESETS}, includeParents: true) {{ {_PAGE} nodes {{ {RULESET_FIELDS} }} }} "
        + alerts_field()
        + f" {tree}}}"
    )


def alerts_field(after: str | None = None) -> str:
    """The open Dependabot alerts, a page of ALERTS (the next one after `after`)."""
    cursor = f", after: {literal(after)}" if after is not None else ""
    return (
        f"vulnerabilityAlerts(states: OPEN, first: {ALERTS}{cursor}) "
        f"{{ totalCount {_PAGE} nodes {{ {ALERT_FIELDS} }} }}"
    )


def repositories_query(
    repos: Sequence[tuple[str, str]], depth: int = TREE_DEPTH, protection: bool = True
) -> str:
    """Round one for a batch: alias `rN` per (owner, name)."""
    aliases = " ".join(
        f"r{i}: repository(owner: {literal(owner)}, name: {literal(name)}) {{ ...repo }}"
        for i, (owner, name) in enumerate(repos)
    )
    fragment = repository_fragment(depth, protection)
    return f"query {{ {aliases} rateLimit {{ cost remaining }} }} {fragment}"


def contents_query(requests: Sequence[ContentRequest]) -> str:
    """A later round: blob texts and folder listings, for many repositories."""
    parts = []
    for i, req in enumerate(requests):
        fields = []
        for j, path in enumerate(req.blobs):
            expr = literal(f"{req.oid}:{path}")
            fields.append(
                f"b{j}: object(expression: {expr}) {{ ... on Blob {{ byteSize isBinary text }} }}"
            )
        for j, folder in enumerate(req.folders):
            expr = literal(f"{req.oid}:{folder}")
            fields.append(
                f"t{j}: object(expression: {expr}) "
                f"{{ ... on Tree {{ entries {{ {tree_fields(TREE_DEPTH)} }} }} }}"
            )
        owner, name = req.repo
        parts.append(
            f"r{i}: repository(owner: {literal(owner)}, name: {literal(name)}) {{ {' '.join(fields)} }}"
        )
    return f"query {{ {' '.join(parts)} rateLimit {{ cost remaining }} }}"


def references_query(groups: Sequence[tuple[str, str, str, Sequence[str]]]) -> str:
    """Files of other repositories (ADR 0014): per (owner, name, ref, paths) the commit the ref
    names (`c`; a tag's target) and each file at it (`fN`). Alias `xN` per group. The ref and
    paths were checked by sources/references/interface.py and are written as literals."""
    parts = []
    for i, (owner, name, ref, paths) in enumerate(groups):
        fields = [
            f"c: object(expression: {literal(ref)}) "
            "{ ... on Commit { oid } ... on Tag { target { oid } } }"
        ]
        for j, path in enumerate(paths):
            expr = literal(f"{ref}:{path}")
            fields.append(
                f"f{j}: object(expression: {expr}) "
                "{ ... on Blob { byteSize isBinary isTruncated text } }"
            )
        parts.append(
            f"x{i}: repository(owner: {literal(owner)}, name: {literal(name)}) "
            f"{{ {' '.join(fields)} }}"
        )
    return f"query {{ {' '.join(parts)} rateLimit {{ cost remaining }} }}"


def connection_query(repo: tuple[str, str], field: str, after: str) -> str:
    """The next page of a repository's protection rules, rulesets or open alerts."""
    owner, name = repo
    if field == "vulnerabilityAlerts":
        body = alerts_field(after)
    elif field == "branchProtectionRules":
        body = f"branchProtectionRules(first: {PROTECTION_RULES}, after: {literal(after)}) {{ {_PAGE} nodes {{ {PROTECTION_RULE_FIELDS} }} }}"
    else:
        body = f"rulesets(first: {RULESETS}, includeParents: true, after: {literal(after)}) {{ {_PAGE} nodes {{ {RULESET_FIELDS} }} }}"
    return (
        f"query {{ r0: repository(owner: {literal(owner)}, name: {literal(name)}) {{ {body} }} "
        "rateLimit { cost remaining } }"
    )


class ContentRequest:
    """What a later round asks of one repository, at the commit round one saw."""

    __slots__ = ("blobs", "folders", "oid", "repo")

    def __init__(
        self,
        repo: tuple[str, str],
        oid: str,
        blobs: Iterable[str] = (),
        folders: Iterable[str] = (),
    ) -> None:
        self.repo = repo
        self.oid = oid
        self.blobs = tuple(blobs)
        self.folders = tuple(folders)
