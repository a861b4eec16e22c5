"""GitHub's GraphQL API over the fake's data: validated against GitHub's schema, then executed.

Values are plain dicts keyed by the schema's field names; a field that takes arguments (or is
costly) is a callable `(info, **arguments)`. "__typename" in a dict resolves interfaces and
unions. A field the fake does not model answers an error naming it, recorded as a fake gap.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar, cast

from graphql import (
    ExecutionResult,
    GraphQLError,
    GraphQLResolveInfo,
    GraphQLSyntaxError,
    execute,
    parse,
    validate,
)
from graphql.execution.values import get_variable_values

from .alerts import graphql_node as alert_node
from .alerts import may_read as may_read_alerts
from .alerts import open_alerts
from .auth import Principal
from .graphql_limits import analyse, select_operation
from .limits import Bucket, RateLimits, primary_exceeded_message
from .model import (
    BranchRule,
    BypassActor,
    FakeOrg,
    FakeRepo,
    GitBlob,
    GitSnapshot,
    GitTree,
    Ruleset,
    branch_rule_for,
    commit_oid_at,
    glob_match,
    history_dates,
    iso,
    ruleset_applies,
    stable_id,
)
from .schemas import graphql_schema

T = TypeVar("T")
Node = dict[str, Any]

# GitHub cuts Blob.text at 512,000 bytes and says so in isTruncated.
BLOB_TEXT_LIMIT = 512_000
# Git's binary test: a NUL byte in the first 8,000 bytes.
BINARY_SNIFF = 8000
NOT_IMPLEMENTED = "FAKE_NOT_IMPLEMENTED"
TIMEOUT_MESSAGE = (
    "Something went wrong while executing your query. This may be the result of a timeout, or "
    "it could be a GitHub bug. Please include `{request_id}` when reporting this issue."
)
WEB = "https://github.com"


def node_id(kind: str, number: int | str) -> str:
    """GitHub's legacy global node id: base64 of "0<len>:<Type><id>"."""
    return base64.b64encode(f"0{len(kind)}:{kind}{number}".encode()).decode()


class Catalog:
    """The organisations and repositories a caller can see, indexed once per request."""

    def __init__(self, orgs: Sequence[FakeOrg], principal: Principal) -> None:
        self.orgs = [org for org in orgs if principal.sees_org(org.login)]
        self._repos: dict[tuple[str, str], FakeRepo] | None = None

    def org(self, login: str) -> FakeOrg | None:
        lowered = login.lower()
        return next((org for org in self.orgs if org.login.lower() == lowered), None)

    def repo(self, owner: str, name: str) -> FakeRepo | None:
        if self._repos is None:
            self._repos = {
                (org.login.lower(), repo.name.lower()): repo
                for org in self.orgs
                for repo in org.repos
            }
        return self._repos.get((owner.lower(), name.lower()))

    def org_of(self, repo: FakeRepo) -> FakeOrg | None:
        return self.org(repo.owner)


@dataclass
class Context:
    catalog: Catalog
    principal: Principal
    bucket: Bucket
    cost: int = 0
    node_count: int = 0
    touched: set[int] = field(default_factory=set)


class FakeGap(GraphQLError):
    """A valid query asking for something the fake does not model."""


def _error(message: str, kind: str) -> GraphQLError:
    return GraphQLError(message, extensions={"type": kind})


def resolve_field(source: Any, info: GraphQLResolveInfo[Any], **arguments: Any) -> Any:
    if isinstance(source, dict) and info.field_name in source:
        value = source[info.field_name]
        return value(info, **arguments) if callable(value) else value
    raise FakeGap(
        f"The fake GitHub server does not implement {info.parent_type.name}.{info.field_name}",
        extensions={"type": NOT_IMPLEMENTED},
    )


# --- Connections ----------------------------------------------------------------------------


def _cursor(index: int) -> str:
    return base64.b64encode(f"cursor:v2:{index}".encode()).decode()


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.b64decode(cursor.encode(), validate=True).decode()
        prefix, _, number = text.rpartition(":")
        if prefix == "cursor:v2" and number.isdigit():
            return int(number)
    except (binascii.Error, UnicodeDecodeError):
        pass
    raise _error(
        f"`{cursor}` does not appear to be a valid cursor.", "INVALID_CURSOR_ARGUMENTS"
    ) from None


def connection(items: Sequence[T], arguments: dict[str, Any], make: Callable[[T], Node]) -> Node:
    """A Relay connection over `items` honouring first/last/after/before."""
    start, stop = 0, len(items)
    if arguments.get("after") is not None:
        start = min(_decode_cursor(arguments["after"]) + 1, stop)
    if arguments.get("before") is not None:
        stop = max(min(_decode_cursor(arguments["before"]), stop), start)
    window = range(start, stop)
    if arguments.get("first") is not None:
        window = window[: max(arguments["first"], 0)]
    if arguments.get("last") is not None:
        window = window[len(window) - min(max(arguments["last"], 0), len(window)) :]
    made: list[Node] | None = None

    def nodes() -> list[Node]:
        nonlocal made
        if made is None:
            made = [make(items[i]) for i in window]
        return made

    return {
        "totalCount": len(items),
        "nodes": lambda info, **_: nodes(),
        "edges": lambda info, **_: [
            {"cursor": _cursor(i), "node": n} for i, n in zip(window, nodes(), strict=True)
        ],
        "pageInfo": {
            "hasNextPage": len(window) > 0 and window[-1] + 1 < len(items),
            "hasPreviousPage": len(window) > 0 and window[0] > 0,
            "startCursor": _cursor(window[0]) if window else None,
            "endCursor": _cursor(window[-1]) if window else None,
        },
    }


def _page_args(arguments: dict[str, Any]) -> dict[str, Any]:
    return {k: arguments.get(k) for k in ("first", "last", "after", "before")}


# --- Actors ---------------------------------------------------------------------------------


def user_node(login: str, user_id: int | None = None) -> Node:
    number = user_id or stable_id("User", login)
    return {
        "__typename": "User",
        "id": node_id("User", number),
        "databaseId": number,
        "login": login,
        "name": login,
        "url": f"{WEB}/{login}",
    }


def team_node(org_login: str, slug: str, team_id: int | None) -> Node:
    number = team_id or stable_id("Team", slug)
    return {
        "__typename": "Team",
        "id": node_id("Team", number),
        "databaseId": number,
        "slug": slug,
        "name": slug,
        "combinedSlug": f"{org_login}/{slug}",
        "url": f"{WEB}/orgs/{org_login}/teams/{slug}",
    }


def app_node(slug: str, app_id: int | None) -> Node:
    number = app_id or stable_id("Integration", slug)
    return {
        "__typename": "App",
        "id": node_id("App", number),
        "databaseId": number,
        "slug": slug,
        "name": slug,
        "url": f"{WEB}/apps/{slug}",
    }


def actor_node(actor: BypassActor, org_login: str, *, users_allowed: bool) -> Node | None:
    if actor.actor_type == "Team":
        return team_node(org_login, actor.name, actor.actor_id)
    if actor.actor_type == "Integration":
        return app_node(actor.name, actor.actor_id)
    if actor.actor_type == "User" and users_allowed:
        return user_node(actor.name, actor.actor_id)
    return None


# --- Git objects ----------------------------------------------------------------------------


def blob_text(blob: GitBlob) -> tuple[str | None, bool]:
    """(text, truncated) as GitHub gives them: null for binary; cut at 512,000 bytes."""
    data = blob.data
    if b"\0" in data[:BINARY_SNIFF]:
        return None, False
    truncated = len(data) > BLOB_TEXT_LIMIT
    chunk = data[:BLOB_TEXT_LIMIT]
    try:
        return chunk.decode("utf-8"), truncated
    except UnicodeDecodeError as exc:
        if truncated and exc.start >= len(chunk) - 3:
            # The cut split a multi-byte character.
            return chunk[: exc.start].decode("utf-8", errors="replace"), truncated
    # Not UTF-8: GitHub detects the encoding and transcodes; Latin-1 is the usual case.
    return chunk.decode("latin-1"), truncated


class RepoView:
    """Builds the GraphQL values of one repository for one caller."""

    def __init__(self, repo: FakeRepo, ctx: Context) -> None:
        self.repo = repo
        self.ctx = ctx
        self.snapshot: GitSnapshot | None = repo.git()
        self.web = f"{WEB}/{repo.full_name}"

    # Repository ---------------------------------------------------------------------------
    def node(self) -> Node:
        repo, ctx = self.repo, self.ctx
        ctx.touched.add(repo.id)
        return {
            "__typename": "Repository",
            "id": node_id("Repository", repo.id),
            "databaseId": repo.id,
            "name": repo.name,
            "nameWithOwner": repo.full_name,
            "owner": lambda info, **_: self._owner(),
            "url": self.web,
            "resourcePath": f"/{repo.full_name}",
            "sshUrl": f"git@github.com:{repo.full_name}.git",
            "isArchived": repo.archived,
            "archivedAt": iso(repo.pushed_at) if repo.archived else None,
            "isFork": repo.fork,
            "isEmpty": self.snapshot is None,
            "isPrivate": repo.private,
            "isDisabled": False,
            "isLocked": False,
            "isMirror": False,
            "isTemplate": False,
            "isInOrganization": True,
            "visibility": repo.visibility.upper(),
            "pushedAt": iso(repo.pushed_at),
            "createdAt": iso(repo.created_at),
            "updatedAt": iso(repo.pushed_at),
            "description": repo.description,
            "homepageUrl": None,
            "forkCount": 0,
            "stargazerCount": 0,
            "viewerPermission": ctx.principal.permission,
            "viewerCanAdminister": ctx.principal.is_admin,
            "hasVulnerabilityAlertsEnabled": repo.vulnerability_alerts,
            "vulnerabilityAlerts": lambda info, **a: self._alerts(a),
            "hasIssuesEnabled": True,
            "hasWikiEnabled": False,
            "deleteBranchOnMerge": False,
            "repositoryTopics": lambda info, **a: connection(repo.topics, a, self._topic),
            "defaultBranchRef": lambda info, **_: self._default_ref(),
            "ref": lambda info, qualifiedName, **_: self._ref_named(qualifiedName),
            "object": lambda info, expression=None, oid=None, **_: self._object(expression, oid),
            "branchProtectionRules": lambda info, **a: self._branch_rules(a),
            "rulesets": lambda info, **a: self._rulesets(a),
        }

    def _owner(self) -> Node:
        org = self.ctx.catalog.org_of(self.repo)
        assert org is not None
        return OrgView(org, self.ctx).node()

    def _topic(self, name: str) -> Node:
        return {
            "__typename": "RepositoryTopic",
            "id": node_id("RepositoryTopic", stable_id(self.repo.full_name, name)),
            "url": f"{WEB}/topics/{name}",
            "resourcePath": f"/topics/{name}",
            "topic": {"__typename": "Topic", "id": node_id("Topic", name), "name": name},
        }

    # Refs and commits -----------------------------------------------------------------------
    def _default_ref(self) -> Node | None:
        if self.snapshot is None or self.repo.default_branch is None:
            return None
        return self._ref(self.repo.default_branch)

    def _ref_named(self, qualified: str) -> Node | None:
        if qualified.startswith("refs/tags/"):
            return self._tag_ref(qualified.removeprefix("refs/tags/"))
        name = qualified.removeprefix("refs/heads/")
        if self.snapshot is None or name != self.repo.default_branch:
            return None
        return self._ref(name)

    def _tag_ref(self, tag: str) -> Node | None:
        """A tag's ref: its target is the tag object (annotated) or the commit (lightweight)."""
        tagged = self.repo.tag_snapshot(tag)
        if self.snapshot is None or tagged is None:
            return None
        if tag in self.repo.annotated_tags:
            target = self._tag_object(tag, tagged)
        else:
            target = self._tagged_commit(tagged)
        return {
            "__typename": "Ref",
            "id": node_id("Ref", f"{self.repo.id}:tags/{tag}"),
            "name": tag,
            "prefix": "refs/tags/",
            "target": lambda info, **_: target,
            "branchProtectionRule": lambda info, **_: None,
        }

    def _ref(self, branch: str) -> Node:
        return {
            "__typename": "Ref",
            "id": node_id("Ref", f"{self.repo.id}:{branch}"),
            "name": branch,
            "prefix": "refs/heads/",
            "target": lambda info, **_: self._commit(),
            "branchProtectionRule": lambda info, **_: self._rule_for_branch(branch),
            "rules": lambda info, **a: self._ref_rules(branch, a),
        }

    def _commit(self) -> Node:
        assert self.snapshot is not None
        node = self._history_commit(self.repo.head_date)
        snapshot = self.snapshot
        node["tree"] = lambda info, **_: self._tree(snapshot.root)
        node["history"] = lambda info, **a: self._history(a)
        return node

    def _history_commit(self, when: datetime) -> Node:
        oid = commit_oid_at(self.repo, when)
        return {
            "__typename": "Commit",
            "id": node_id("Commit", oid),
            "oid": oid,
            "abbreviatedOid": oid[:7],
            "committedDate": iso(when),
            "authoredDate": iso(when),
            "message": f"Update {self.repo.name}",
            "messageHeadline": f"Update {self.repo.name}",
            "url": f"{self.web}/commit/{oid}",
            "commitUrl": f"{self.web}/commit/{oid}",
            "resourcePath": f"/{self.repo.full_name}/commit/{oid}",
        }

    def _history(self, arguments: dict[str, Any]) -> Node:
        dates = history_dates(self.repo, arguments.get("path"))
        since, until = arguments.get("since"), arguments.get("until")
        if since:
            dates = [d for d in dates if iso(d) >= str(since)]
        if until:
            dates = [d for d in dates if iso(d) <= str(until)]
        return connection(dates, _page_args(arguments), self._history_commit)

    def _object(self, expression: str | None, oid: str | None) -> Node | None:
        snapshot = self.snapshot
        if snapshot is None:
            return None
        if oid is not None:
            if oid == snapshot.commit_oid:
                return self._commit()
            for path, obj in snapshot.objects.items():
                if obj.oid == oid:
                    return self._git_object(obj, path)
            return None
        if expression is None:
            return None
        revision, colon, path = expression.partition(":")
        if self._names_head(revision):
            if not colon:
                return self._commit()
            found = snapshot.lookup(path)
            return None if found is None else self._git_object(found, path.strip("/"))
        tagged = self.repo.snapshot_for(revision)  # a tag, or a tag's commit id
        if tagged is None:
            return None
        if not colon:
            tag = revision.removeprefix("refs/tags/")
            if tag in self.repo.annotated_tags:
                return self._tag_object(tag, tagged)
            return self._tagged_commit(tagged)
        found = tagged.lookup(path)
        return None if found is None else self._git_object(found, path.strip("/"))

    def _tagged_commit(self, tagged: GitSnapshot) -> Node:
        oid = tagged.commit_oid
        return {
            "__typename": "Commit",
            "id": node_id("Commit", oid),
            "oid": oid,
            "abbreviatedOid": oid[:7],
            "committedDate": iso(self.repo.head_date),
            "url": f"{self.web}/commit/{oid}",
            "commitUrl": f"{self.web}/commit/{oid}",
            "resourcePath": f"/{self.repo.full_name}/commit/{oid}",
            "tree": lambda info, **_: self._tree(tagged.root),
        }

    def _tag_object(self, tag: str, tagged: GitSnapshot) -> Node:
        oid = hashlib.sha1(
            f"tag {tag} {tagged.commit_oid}".encode(), usedforsecurity=False
        ).hexdigest()
        return {
            "__typename": "Tag",
            "id": node_id("Tag", oid),
            "oid": oid,
            "abbreviatedOid": oid[:7],
            "name": tag,
            "message": f"Release {tag}",
            "commitUrl": f"{self.web}/commit/{tagged.commit_oid}",
            "commitResourcePath": f"/{self.repo.full_name}/commit/{tagged.commit_oid}",
            "target": lambda info, **_: self._tagged_commit(tagged),
            "repository": lambda info, **_: self.node(),
        }

    def _names_head(self, revision: str) -> bool:
        assert self.snapshot is not None
        branch = self.repo.default_branch
        oid = self.snapshot.commit_oid
        return revision in ("HEAD", "", branch, f"refs/heads/{branch}") or (
            len(revision) >= 7 and oid.startswith(revision.lower())
        )

    def _git_object(self, obj: GitBlob | GitTree, path: str) -> Node:
        return self._tree(obj) if isinstance(obj, GitTree) else self._blob(obj, path)

    def _blob(self, blob: GitBlob, path: str) -> Node:
        binary = b"\0" in blob.data[:BINARY_SNIFF]
        decoded: list[tuple[str | None, bool]] = []

        def text() -> tuple[str | None, bool]:
            if not decoded:
                decoded.append(blob_text(blob))
            return decoded[0]

        return {
            "__typename": "Blob",
            "id": node_id("Blob", blob.oid),
            "oid": blob.oid,
            "abbreviatedOid": blob.oid[:7],
            "byteSize": blob.size,
            "isBinary": binary,
            "isTruncated": not binary and blob.size > BLOB_TEXT_LIMIT,
            "text": lambda info, **_: text()[0],
            "commitUrl": f"{self.web}/commit/{self._head_oid()}",
            "commitResourcePath": f"/{self.repo.full_name}/commit/{self._head_oid()}",
            "repository": lambda info, **_: self.node(),
        }

    def _head_oid(self) -> str:
        return self.snapshot.commit_oid if self.snapshot else ""

    def _tree(self, tree: GitTree) -> Node:
        return {
            "__typename": "Tree",
            "id": node_id("Tree", tree.oid),
            "oid": tree.oid,
            "abbreviatedOid": tree.oid[:7],
            "entries": lambda info, **_: [
                self._entry(name, obj, tree) for name, obj in tree.entries
            ],
            "commitUrl": f"{self.web}/commit/{self._head_oid()}",
            "commitResourcePath": f"/{self.repo.full_name}/commit/{self._head_oid()}",
            "repository": lambda info, **_: self.node(),
        }

    def _entry(self, name: str, obj: GitBlob | GitTree, parent: GitTree) -> Node:
        path = f"{parent.path}/{name}" if parent.path else name
        is_tree = isinstance(obj, GitTree)
        extension = name[name.rfind(".") :] if "." in name.lstrip(".") else None
        return {
            "__typename": "TreeEntry",
            "name": name,
            "nameRaw": base64.b64encode(name.encode()).decode(),
            "path": path,
            "pathRaw": base64.b64encode(path.encode()).decode(),
            "type": "tree" if is_tree else "blob",
            "mode": 0o040000 if is_tree else obj.mode,  # type: ignore[union-attr]
            "oid": obj.oid,
            "size": 0 if isinstance(obj, GitTree) else obj.size,
            "extension": None if is_tree else extension,
            "isGenerated": False,
            "lineCount": lambda info, **_: self._line_count(obj),
            "submodule": None,
            "object": lambda info, **_: self._git_object(obj, path),
            "repository": lambda info, **_: self.node(),
        }

    @staticmethod
    def _line_count(obj: GitBlob | GitTree) -> int | None:
        if isinstance(obj, GitTree):
            return None
        text, _ = blob_text(obj)
        return None if text is None else text.count("\n") + (0 if text.endswith("\n") else 1)

    # Dependabot alerts ---------------------------------------------------------------------
    def _alerts(self, arguments: dict[str, Any]) -> Node:
        if not may_read_alerts(self.ctx.principal):
            raise _error(
                "Resource not accessible by integration"
                if self.ctx.principal.kind == "installation"
                else "You must have push access to view vulnerability alerts",
                "FORBIDDEN",
            )
        alerts = open_alerts(self.repo, arguments.get("states"))
        return connection(
            alerts, _page_args(arguments), lambda a: alert_node(self.repo, a, self.web)
        )

    # Protection ---------------------------------------------------------------------------
    def _require_admin(self) -> None:
        if not self.ctx.principal.is_admin:
            raise _error("Must have admin rights to Repository.", "FORBIDDEN")

    def _branch_rules(self, arguments: dict[str, Any]) -> Node:
        self._require_admin()
        return connection(self.repo.branch_rules, _page_args(arguments), self._branch_rule)

    def _rule_for_branch(self, branch: str) -> Node | None:
        self._require_admin()
        rule = branch_rule_for(self.repo, branch)
        return None if rule is None else self._branch_rule(rule)

    def _branch_rule(self, rule: BranchRule) -> Node:
        number = stable_id(self.repo.full_name, "rule", rule.pattern)
        org_login = self.repo.owner

        def allowance(actor: BypassActor) -> Node:
            return {
                "__typename": "BypassPullRequestAllowance",
                "id": node_id("BypassPullRequestAllowance", stable_id(str(number), actor.name)),
                "actor": actor_node(actor, org_login, users_allowed=True),
            }

        matching = [
            b
            for b in [self.repo.default_branch]
            if b and self.snapshot and glob_match(rule.pattern, b)
        ]
        return {
            "__typename": "BranchProtectionRule",
            "id": node_id("BranchProtectionRule", number),
            "databaseId": number,
            "pattern": rule.pattern,
            "requiresApprovingReviews": rule.requires_approving_reviews,
            "requiredApprovingReviewCount": (
                rule.required_approving_review_count if rule.requires_approving_reviews else None
            ),
            "dismissesStaleReviews": rule.dismisses_stale_reviews,
            "requiresCodeOwnerReviews": rule.requires_code_owner_reviews,
            "requireLastPushApproval": False,
            "isAdminEnforced": rule.is_admin_enforced,
            "requiresStatusChecks": rule.requires_status_checks,
            "requiresStrictStatusChecks": False,
            "requiresConversationResolution": False,
            "requiresLinearHistory": False,
            "requiresCommitSignatures": False,
            "requiresDeployments": False,
            "restrictsPushes": False,
            "restrictsReviewDismissals": False,
            "allowsForcePushes": False,
            "allowsDeletions": False,
            "blocksCreations": False,
            "lockBranch": False,
            "lockAllowsFetchAndMerge": False,
            "bypassPullRequestAllowances": lambda info, **a: connection(
                rule.bypass_actors, _page_args(a), allowance
            ),
            "bypassForcePushAllowances": lambda info, **a: connection([], _page_args(a), allowance),
            "matchingRefs": lambda info, **a: connection(matching, _page_args(a), self._ref),
        }

    def _all_rulesets(self, include_parents: bool) -> list[tuple[Ruleset, FakeOrg | None]]:
        found: list[tuple[Ruleset, FakeOrg | None]] = [(r, None) for r in self.repo.rulesets]
        org = self.ctx.catalog.org_of(self.repo)
        if include_parents and org is not None:
            found += [(r, org) for r in org.rulesets]
        return found

    def _rulesets(self, arguments: dict[str, Any]) -> Node:
        include_parents = arguments.get("includeParents", True) is not False
        targets = arguments.get("targets")
        found = [
            pair
            for pair in self._all_rulesets(include_parents)
            if not targets or pair[0].target.upper() in targets
        ]
        return connection(found, _page_args(arguments), lambda pair: self._ruleset(*pair))

    def _ruleset(self, ruleset: Ruleset, org: FakeOrg | None) -> Node:
        org_login = self.repo.owner

        def bypass(actor: BypassActor) -> Node:
            return {
                "__typename": "RepositoryRulesetBypassActor",
                "id": node_id(
                    "RepositoryRulesetBypassActor", stable_id(str(ruleset.id), actor.name)
                ),
                "bypassMode": actor.bypass_mode.upper(),
                "actor": actor_node(actor, org_login, users_allowed=False),
                "deployKey": actor.actor_type == "DeployKey",
                "enterpriseOwner": False,
                "organizationAdmin": actor.actor_type == "OrganizationAdmin",
                "repositoryRoleDatabaseId": (
                    actor.actor_id if actor.actor_type == "RepositoryRole" else None
                ),
                "repositoryRoleName": actor.name if actor.actor_type == "RepositoryRole" else None,
            }

        def bypass_actors(arguments: dict[str, Any]) -> Node:
            if not self.ctx.principal.is_admin:
                raise _error("Must have admin rights to Repository.", "FORBIDDEN")
            return connection(ruleset.bypass_actors, _page_args(arguments), bypass)

        node: Node = {
            "__typename": "RepositoryRuleset",
            "id": node_id("RepositoryRuleset", ruleset.id),
            "databaseId": ruleset.id,
            "name": ruleset.name,
            "enforcement": ruleset.enforcement.upper(),
            "target": ruleset.target.upper(),
            "createdAt": iso(ruleset.created_at),
            "updatedAt": iso(ruleset.updated_at),
            "source": lambda info, **_: (
                OrgView(org, self.ctx).node() if org is not None else self.node()
            ),
            "conditions": {
                "refName": {"include": list(ruleset.include), "exclude": list(ruleset.exclude)},
                "repositoryName": (
                    {"include": ["~ALL"], "exclude": [], "protected": False} if org else None
                ),
                "repositoryId": None,
                "repositoryProperty": None,
                "organizationProperty": None,
            },
            "bypassActors": lambda info, **a: bypass_actors(a),
        }
        node["rules"] = lambda info, **a: connection(
            [t for t in ruleset.rule_types() if not a.get("type") or t.upper() == a["type"]],
            _page_args(a),
            lambda rule_type: self._rule(ruleset, rule_type, node),
        )
        return node

    def _rule(self, ruleset: Ruleset, rule_type: str, ruleset_node: Node) -> Node:
        parameters = None
        if rule_type == "pull_request" and ruleset.pull_request is not None:
            params = ruleset.pull_request
            parameters = {
                "__typename": "PullRequestParameters",
                "requiredApprovingReviewCount": params.required_approving_review_count,
                "dismissStaleReviewsOnPush": params.dismiss_stale_reviews_on_push,
                "requireCodeOwnerReview": params.require_code_owner_review,
                "requireLastPushApproval": params.require_last_push_approval,
                "requiredReviewThreadResolution": params.required_review_thread_resolution,
                "allowedMergeMethods": ["MERGE", "SQUASH", "REBASE"],
                "requiredReviewers": [],
            }
        return {
            "__typename": "RepositoryRule",
            "id": node_id("RepositoryRule", f"{ruleset.id}:{rule_type}"),
            "type": rule_type.upper(),
            "parameters": parameters,
            "repositoryRuleset": ruleset_node,
        }

    def _ref_rules(self, branch: str, arguments: dict[str, Any]) -> Node:
        """Rules of active rulesets (repository and organisation) that apply to the branch."""
        rules: list[tuple[Ruleset, FakeOrg | None, str]] = [
            (ruleset, org, rule_type)
            for ruleset, org in self._all_rulesets(include_parents=True)
            if ruleset.enforcement == "active" and ruleset_applies(ruleset, self.repo, branch)
            for rule_type in ruleset.rule_types()
        ]
        return connection(
            rules,
            _page_args(arguments),
            lambda item: self._rule(item[0], item[2], self._ruleset(item[0], item[1])),
        )


class OrgView:
    def __init__(self, org: FakeOrg, ctx: Context) -> None:
        self.org = org
        self.ctx = ctx

    def node(self) -> Node:
        org = self.org
        return {
            "__typename": "Organization",
            "id": node_id("Organization", org.id),
            "databaseId": org.id,
            "login": org.login,
            "name": org.name or org.login,
            "description": org.description,
            "url": f"{WEB}/{org.login}",
            "resourcePath": f"/{org.login}",
            "createdAt": iso(org.created_at),
            "viewerCanAdminister": self.ctx.principal.is_admin,
            "repositories": lambda info, **a: self._repositories(a),
        }

    def _repositories(self, arguments: dict[str, Any]) -> Node:
        repos = list(self.org.repos)
        if arguments.get("isFork") is not None:
            repos = [r for r in repos if r.fork == arguments["isFork"]]
        if arguments.get("isArchived") is not None:
            repos = [r for r in repos if r.archived == arguments["isArchived"]]
        privacy = arguments.get("privacy")
        if privacy is not None:
            repos = [r for r in repos if r.private == (privacy == "PRIVATE")]
        if arguments.get("visibility") is not None:
            repos = [r for r in repos if r.visibility.upper() == arguments["visibility"]]
        order = arguments.get("orderBy")
        if order:
            key: Callable[[FakeRepo], Any] = {
                "NAME": lambda r: r.name.lower(),
                "CREATED_AT": lambda r: r.created_at,
                "UPDATED_AT": lambda r: r.pushed_at,
                "PUSHED_AT": lambda r: r.pushed_at,
            }.get(order.get("field"), lambda r: 0)
            repos.sort(key=key, reverse=order.get("direction") == "DESC")
        return connection(repos, _page_args(arguments), lambda r: RepoView(r, self.ctx).node())


# --- Query root -----------------------------------------------------------------------------


def root_value(ctx: Context) -> Node:
    def repository(info: GraphQLResolveInfo[Any], owner: str, name: str, **_: Any) -> Node:
        repo = ctx.catalog.repo(owner, name)
        if repo is None:
            raise _error(
                f"Could not resolve to a Repository with the name '{owner}/{name}'.", "NOT_FOUND"
            )
        return RepoView(repo, ctx).node()

    def organization(info: GraphQLResolveInfo[Any], login: str, **_: Any) -> Node:
        org = ctx.catalog.org(login)
        if org is None:
            raise _error(
                f"Could not resolve to an Organization with the login of '{login}'.", "NOT_FOUND"
            )
        return OrgView(org, ctx).node()

    def rate_limit(info: GraphQLResolveInfo[Any], **_: Any) -> Node:
        bucket = ctx.bucket
        return {
            "__typename": "RateLimit",
            "cost": ctx.cost,
            "limit": bucket.limit,
            "nodeCount": ctx.node_count,
            "remaining": bucket.remaining,
            "resetAt": iso(datetime.fromtimestamp(bucket.reset_at).astimezone()),
            "used": bucket.used,
        }

    return {
        "repository": repository,
        "organization": organization,
        "repositoryOwner": lambda info, login, **_: organization(info, login),
        "rateLimit": rate_limit,
        "viewer": lambda info, **_: user_node(ctx.principal.login, ctx.principal.user_id),
    }


# --- One request ----------------------------------------------------------------------------


@dataclass
class GraphQLOutcome:
    status: int
    body: dict[str, Any]
    cost: int | None = None
    repos: int = 0
    problems: list[str] = field(default_factory=list)
    bucket: Bucket | None = None


def _format_error(error: GraphQLError) -> dict[str, Any]:
    formatted: dict[str, Any] = dict(error.formatted)
    extensions = formatted.pop("extensions", None) or {}
    out: dict[str, Any] = {}
    if "type" in extensions:
        out["type"] = extensions["type"]
    elif extensions:
        out["extensions"] = extensions
    for key in ("path", "locations"):
        if formatted.get(key) is not None:
            out[key] = formatted[key]
    out["message"] = formatted["message"]
    return out


def _rejected(errors: Iterable[dict[str, Any]], note: str) -> GraphQLOutcome:
    listed = list(errors)
    problems = [f"graphql {note}: {e['message']}" for e in listed]
    return GraphQLOutcome(200, {"errors": listed}, problems=problems)


def run_query(
    payload: Any,
    principal: Principal,
    orgs: Sequence[FakeOrg],
    limits: RateLimits,
    fail_over_repos: int | None,
    request_id: str,
) -> GraphQLOutcome:
    """Validate, price and execute one GraphQL request body as GitHub would."""
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return _rejected(
            [{"message": "A query attribute must be specified and must be a string."}], "request"
        )
    variables_in = payload.get("variables") or {}
    operation_name = payload.get("operationName")
    if not isinstance(variables_in, dict) or not (
        operation_name is None or isinstance(operation_name, str)
    ):
        return _rejected(
            [{"message": "Variables must be an object and operationName a string."}], "request"
        )
    schema = graphql_schema()
    try:
        document = parse(payload["query"])
    except GraphQLSyntaxError as exc:
        return _rejected([_format_error(exc)], "syntax")
    invalid = validate(schema, document)
    if invalid:
        return _rejected([_github_validation_error(e) for e in invalid], "invalid")
    operation = select_operation(document, operation_name)
    if operation is None:
        return _rejected(
            [{"message": "An operation name is required when a document has several operations."}],
            "request",
        )
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables_in)
    if isinstance(coerced, list):
        return _rejected([_format_error(e) for e in coerced], "variables")
    # graphql-core 3.3 wraps the coerced values; 3.2 returns the dict itself.
    variables = cast(dict[str, Any], getattr(coerced, "coerced", coerced))
    query_limits = analyse(schema, document, operation, variables)
    if query_limits.errors:
        return _rejected(query_limits.errors, "limits")

    bucket = limits.bucket(principal.id, "graphql")
    if bucket.remaining < query_limits.cost:
        message = primary_exceeded_message(principal.rate_limit_subject())
        return GraphQLOutcome(
            200, {"errors": [{"type": "RATE_LIMITED", "message": message}]}, bucket=bucket
        )
    bucket.used += query_limits.cost
    ctx = Context(Catalog(orgs, principal), principal, bucket, query_limits.cost)
    ctx.node_count = query_limits.node_count
    result = execute(
        schema,
        document,
        root_value=root_value(ctx),
        context_value=ctx,
        variable_values=variables_in,
        operation_name=operation_name,
        field_resolver=resolve_field,
    )
    assert isinstance(result, ExecutionResult), "resolvers are synchronous"
    outcome = GraphQLOutcome(200, {}, query_limits.cost, len(ctx.touched), bucket=bucket)
    if fail_over_repos is not None and len(ctx.touched) > fail_over_repos:
        outcome.status = 502
        outcome.body = {
            "data": None,
            "errors": [{"message": TIMEOUT_MESSAGE.format(request_id=request_id)}],
        }
        return outcome
    errors = [_format_error(e) for e in result.errors or []]
    outcome.problems = [
        f"graphql execution: {e['message']}"
        for e in errors
        if e.get("type") in (None, NOT_IMPLEMENTED)
    ]
    if errors:
        outcome.body["errors"] = errors
    outcome.body["data"] = result.data
    return outcome


def _github_validation_error(error: GraphQLError) -> dict[str, Any]:
    """graphql-core's validation error in GitHub's words where GitHub words it differently."""
    formatted = _format_error(error)
    message = formatted["message"]
    if message.startswith("Cannot query field '"):
        # graphql-core: "Cannot query field 'x' on type 'Y'." -> GitHub: "Field 'x' doesn't exist on type 'Y'"
        parts = message.split("'")
        if len(parts) >= 4:
            formatted["message"] = f"Field '{parts[1]}' doesn't exist on type '{parts[3]}'"
            formatted["extensions"] = {
                "code": "undefinedField",
                "typeName": parts[3],
                "fieldName": parts[1],
            }
    return formatted
