"""The REST representations of the fake's data, shaped like GitHub's (and checked against its
OpenAPI description before they are sent)."""

from __future__ import annotations

import base64
from typing import Any

from .auth import Principal
from .graphql_api import node_id
from .model import (
    TREE_MODE,
    BranchRule,
    BypassActor,
    FakeOrg,
    FakeRepo,
    GitBlob,
    GitSnapshot,
    GitTree,
    Ruleset,
    branch_rule_for,
    iso,
    ruleset_applies,
    stable_id,
)

Json = dict[str, Any]
WEB = "https://github.com"

# Per-repository URL templates GitHub lists (name -> suffix after /repos/{owner}/{repo}).
REPO_URLS = {
    "archive_url": "/{archive_format}{/ref}",
    "assignees_url": "/assignees{/user}",
    "blobs_url": "/git/blobs{/sha}",
    "branches_url": "/branches{/branch}",
    "collaborators_url": "/collaborators{/collaborator}",
    "comments_url": "/comments{/number}",
    "commits_url": "/commits{/sha}",
    "compare_url": "/compare/{base}...{head}",
    "contents_url": "/contents/{+path}",
    "contributors_url": "/contributors",
    "deployments_url": "/deployments",
    "downloads_url": "/downloads",
    "events_url": "/events",
    "forks_url": "/forks",
    "git_commits_url": "/git/commits{/sha}",
    "git_refs_url": "/git/refs{/sha}",
    "git_tags_url": "/git/tags{/sha}",
    "hooks_url": "/hooks",
    "issue_comment_url": "/issues/comments{/number}",
    "issue_events_url": "/issues/events{/number}",
    "issues_url": "/issues{/number}",
    "keys_url": "/keys{/key_id}",
    "labels_url": "/labels{/name}",
    "languages_url": "/languages",
    "merges_url": "/merges",
    "milestones_url": "/milestones{/number}",
    "notifications_url": "/notifications{?since,all,participating}",
    "pulls_url": "/pulls{/number}",
    "releases_url": "/releases{/id}",
    "stargazers_url": "/stargazers",
    "statuses_url": "/statuses/{sha}",
    "subscribers_url": "/subscribers",
    "subscription_url": "/subscription",
    "tags_url": "/tags",
    "teams_url": "/teams",
    "trees_url": "/git/trees{/sha}",
}


def account_json(api: str, login: str, number: int, kind: str) -> Json:
    """A simple-user: a user, a bot or an organisation."""
    path = "users"
    return {
        "login": login,
        "id": number,
        "node_id": node_id(kind, number),
        "avatar_url": f"https://avatars.githubusercontent.com/u/{number}?v=4",
        "gravatar_id": "",
        "url": f"{api}/{path}/{login}",
        "html_url": f"{WEB}/{login}",
        "followers_url": f"{api}/{path}/{login}/followers",
        "following_url": f"{api}/{path}/{login}/following{{/other_user}}",
        "gists_url": f"{api}/{path}/{login}/gists{{/gist_id}}",
        "starred_url": f"{api}/{path}/{login}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/{path}/{login}/subscriptions",
        "organizations_url": f"{api}/{path}/{login}/orgs",
        "repos_url": f"{api}/{path}/{login}/repos",
        "events_url": f"{api}/{path}/{login}/events{{/privacy}}",
        "received_events_url": f"{api}/{path}/{login}/received_events",
        "type": kind,
        "site_admin": False,
        "user_view_type": "public",
    }


def _permissions(principal: Principal) -> Json:
    order = ("read", "triage", "write", "maintain", "admin")
    level = order.index(principal.access)
    return {
        "admin": level >= 4,
        "maintain": level >= 3,
        "push": level >= 2,
        "triage": level >= 1,
        "pull": True,
    }


def security_and_analysis_json(repo: FakeRepo) -> Json:
    settings = repo.security_and_analysis
    return {
        "advanced_security": {"status": "disabled"},
        "dependabot_security_updates": {"status": settings["dependabot_security_updates"]},
        "secret_scanning": {"status": settings["secret_scanning"]},
        "secret_scanning_push_protection": {"status": settings["secret_scanning_push_protection"]},
    }


def repo_json(api: str, repo: FakeRepo, org: FakeOrg, principal: Principal, *, full: bool) -> Json:
    """A minimal-repository (org listings) or full-repository (GET /repos/...)."""
    base = f"{api}/repos/{repo.full_name}"
    size = sum(len(c) for c in repo.files.values()) // 1024 if not repo.is_empty else 0
    data: Json = {
        "id": repo.id,
        "node_id": node_id("Repository", repo.id),
        "name": repo.name,
        "full_name": repo.full_name,
        "private": repo.private,
        "owner": account_json(api, org.login, org.id, "Organization"),
        "html_url": f"{WEB}/{repo.full_name}",
        "description": repo.description,
        "fork": repo.fork,
        "url": base,
        **{name: base + suffix for name, suffix in REPO_URLS.items()},
        "git_url": f"git://github.com/{repo.full_name}.git",
        "ssh_url": f"git@github.com:{repo.full_name}.git",
        "clone_url": f"{WEB}/{repo.full_name}.git",
        "svn_url": f"{WEB}/{repo.full_name}",
        "mirror_url": None,
        "homepage": None,
        "language": None,
        "forks_count": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "size": size,
        "default_branch": repo.default_branch or "main",
        "open_issues_count": 0,
        "is_template": False,
        "topics": list(repo.topics),
        "has_issues": True,
        "has_projects": False,
        "has_wiki": False,
        "has_pages": False,
        "has_downloads": True,
        "has_discussions": False,
        "archived": repo.archived,
        "disabled": False,
        "visibility": repo.visibility,
        "pushed_at": iso(repo.pushed_at),
        "created_at": iso(repo.created_at),
        "updated_at": iso(repo.pushed_at),
        "permissions": _permissions(principal),
        "allow_forking": False,
        "web_commit_signoff_required": False,
        "forks": 0,
        "open_issues": 0,
        "watchers": 0,
        "license": None,
    }
    if full:
        data.update(
            {
                "network_count": 0,
                "subscribers_count": 0,
                "organization": account_json(api, org.login, org.id, "Organization"),
                "allow_rebase_merge": True,
                "allow_squash_merge": True,
                "allow_merge_commit": True,
                "allow_auto_merge": False,
                "delete_branch_on_merge": False,
                "temp_clone_token": None,
            }
        )
    # GitHub shows the security settings only to admins.
    if principal.is_admin:
        data["security_and_analysis"] = security_and_analysis_json(repo)
    return data


def org_json(api: str, org: FakeOrg, principal: Principal) -> Json:
    base = f"{api}/orgs/{org.login}"
    public = sum(1 for r in org.repos if not r.private)
    data: Json = {
        "login": org.login,
        "id": org.id,
        "node_id": node_id("Organization", org.id),
        "url": base,
        "repos_url": f"{base}/repos",
        "events_url": f"{base}/events",
        "hooks_url": f"{base}/hooks",
        "issues_url": f"{base}/issues",
        "members_url": f"{base}/members{{/member}}",
        "public_members_url": f"{base}/public_members{{/member}}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{org.id}?v=4",
        "description": org.description,
        "name": org.name or org.login,
        "html_url": f"{WEB}/{org.login}",
        "has_organization_projects": True,
        "has_repository_projects": True,
        "public_repos": public,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "type": "Organization",
        "created_at": iso(org.created_at),
        "updated_at": iso(org.created_at),
        "archived_at": None,
    }
    if principal.is_admin:
        data.update(
            {
                "total_private_repos": len(org.repos) - public,
                "owned_private_repos": len(org.repos) - public,
                "two_factor_requirement_enabled": True,
                "default_repository_permission": "read",
                "members_can_create_repositories": False,
            }
        )
    return data


def team_json(api: str, org: FakeOrg, actor: BypassActor) -> Json:
    number = actor.actor_id or stable_id("Team", actor.name)
    return {
        "id": number,
        "node_id": node_id("Team", number),
        "url": f"{api}/organizations/{org.id}/team/{number}",
        "html_url": f"{WEB}/orgs/{org.login}/teams/{actor.name}",
        "name": actor.name,
        "slug": actor.name,
        "description": None,
        "privacy": "closed",
        "notification_setting": "notifications_enabled",
        "permission": "push",
        "members_url": f"{api}/organizations/{org.id}/team/{number}/members{{/member}}",
        "repositories_url": f"{api}/organizations/{org.id}/team/{number}/repos",
        "parent": None,
        "type": "organization",
    }


def app_json(api: str, org: FakeOrg, actor: BypassActor) -> Json:
    number = actor.actor_id or stable_id("Integration", actor.name)
    return {
        "id": number,
        "slug": actor.name,
        "node_id": node_id("Integration", number),
        "owner": account_json(api, org.login, org.id, "Organization"),
        "name": actor.name,
        "description": None,
        "external_url": f"https://{actor.name}.example.org",
        "html_url": f"{WEB}/apps/{actor.name}",
        "created_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-01T00:00:00Z",
        "permissions": {"contents": "write", "metadata": "read"},
        "events": [],
    }


def protection_json(api: str, repo: FakeRepo, org: FakeOrg, branch: str, rule: BranchRule) -> Json:
    url = f"{api}/repos/{repo.full_name}/branches/{branch}/protection"
    data: Json = {
        "url": url,
        "enforce_admins": {"url": f"{url}/enforce_admins", "enabled": rule.is_admin_enforced},
        "required_signatures": {"url": f"{url}/required_signatures", "enabled": False},
        "required_linear_history": {"enabled": False},
        "allow_force_pushes": {"enabled": False},
        "allow_deletions": {"enabled": False},
        "block_creations": {"enabled": False},
        "required_conversation_resolution": {"enabled": False},
        "lock_branch": {"enabled": False},
        "allow_fork_syncing": {"enabled": False},
    }
    if rule.requires_status_checks:
        data["required_status_checks"] = {
            "url": f"{url}/required_status_checks",
            "strict": False,
            "contexts": ["ci"],
            "contexts_url": f"{url}/required_status_checks/contexts",
            "checks": [{"context": "ci", "app_id": None}],
        }
    if rule.requires_approving_reviews:
        users = [a for a in rule.bypass_actors if a.actor_type == "User"]
        teams = [a for a in rule.bypass_actors if a.actor_type == "Team"]
        apps = [a for a in rule.bypass_actors if a.actor_type == "Integration"]
        data["required_pull_request_reviews"] = {
            "url": f"{url}/required_pull_request_reviews",
            "dismiss_stale_reviews": rule.dismisses_stale_reviews,
            "require_code_owner_reviews": rule.requires_code_owner_reviews,
            "required_approving_review_count": rule.required_approving_review_count,
            "require_last_push_approval": False,
            "bypass_pull_request_allowances": {
                "users": [
                    account_json(api, u.name, u.actor_id or stable_id("User", u.name), "User")
                    for u in users
                ],
                "teams": [team_json(api, org, t) for t in teams],
                "apps": [app_json(api, org, a) for a in apps],
            },
        }
    return data


def _rule_json(ruleset: Ruleset, rule_type: str) -> Json:
    if rule_type != "pull_request" or ruleset.pull_request is None:
        return {"type": rule_type}
    params = ruleset.pull_request
    return {
        "type": "pull_request",
        "parameters": {
            "dismiss_stale_reviews_on_push": params.dismiss_stale_reviews_on_push,
            "require_code_owner_review": params.require_code_owner_review,
            "require_last_push_approval": params.require_last_push_approval,
            "required_approving_review_count": params.required_approving_review_count,
            "required_review_thread_resolution": params.required_review_thread_resolution,
            "allowed_merge_methods": ["merge", "squash", "rebase"],
        },
    }


def _source(repo: FakeRepo, org: FakeOrg, ruleset: Ruleset) -> tuple[str, str]:
    if any(r is ruleset for r in org.rulesets):
        return "Organization", org.login
    return "Repository", repo.full_name


def branch_rules_json(repo: FakeRepo, org: FakeOrg, branch: str) -> list[Json]:
    """GET /repos/{owner}/{repo}/rules/branches/{branch}: active rules that apply."""
    rules: list[Json] = []
    for ruleset in [*repo.rulesets, *org.rulesets]:
        if ruleset.enforcement != "active" or not ruleset_applies(ruleset, repo, branch):
            continue
        source_type, source = _source(repo, org, ruleset)
        for rule_type in ruleset.rule_types():
            rules.append(
                {
                    **_rule_json(ruleset, rule_type),
                    "ruleset_source_type": source_type,
                    "ruleset_source": source,
                    "ruleset_id": ruleset.id,
                }
            )
    return rules


def ruleset_json(
    api: str,
    repo: FakeRepo,
    org: FakeOrg,
    ruleset: Ruleset,
    principal: Principal,
    *,
    detailed: bool,
) -> Json:
    source_type, source = _source(repo, org, ruleset)
    if source_type == "Organization":
        self_url = f"{api}/orgs/{org.login}/rulesets/{ruleset.id}"
        html = f"{WEB}/organizations/{org.login}/settings/rules/{ruleset.id}"
    else:
        self_url = f"{api}/repos/{repo.full_name}/rulesets/{ruleset.id}"
        html = f"{WEB}/{repo.full_name}/rules/{ruleset.id}"
    data: Json = {
        "id": ruleset.id,
        "name": ruleset.name,
        "target": ruleset.target,
        "source_type": source_type,
        "source": source,
        "enforcement": ruleset.enforcement,
        "node_id": node_id("RepositoryRuleset", ruleset.id),
        "_links": {"self": {"href": self_url}, "html": {"href": html}},
        "created_at": iso(ruleset.created_at),
        "updated_at": iso(ruleset.updated_at),
    }
    if not detailed:
        return data
    conditions: Json = {
        "ref_name": {"include": list(ruleset.include), "exclude": list(ruleset.exclude)}
    }
    if source_type == "Organization":
        conditions["repository_name"] = {"include": ["~ALL"], "exclude": [], "protected": False}
    data["conditions"] = conditions
    data["rules"] = [_rule_json(ruleset, t) for t in ruleset.rule_types()]
    data["current_user_can_bypass"] = "always" if principal.is_admin else "never"
    # GitHub lists bypass actors only to callers who may edit the ruleset.
    if principal.is_admin:
        data["bypass_actors"] = [
            {
                "actor_id": actor.actor_id,
                "actor_type": actor.actor_type,
                "bypass_mode": actor.bypass_mode,
            }
            for actor in ruleset.bypass_actors
        ]
    return data


# --- Git data and contents ------------------------------------------------------------------

# The contents API returns the content of files up to 1 MB; larger ones come without it.
CONTENTS_LIMIT = 1024 * 1024


def resolve_tree(repo: FakeRepo, snapshot: GitSnapshot, ref: str) -> GitTree | None:
    """The tree a ref, commit sha or tree sha names (only the default branch's head exists)."""
    if ref in ("HEAD", repo.default_branch, f"refs/heads/{repo.default_branch}"):
        return snapshot.root
    if ref == snapshot.commit_oid:
        return snapshot.root
    for obj in snapshot.objects.values():
        if isinstance(obj, GitTree) and obj.oid == ref:
            return obj
    return None


def tree_json(api: str, repo: FakeRepo, tree: GitTree, *, recursive: bool) -> Json:
    base = f"{api}/repos/{repo.full_name}/git"
    entries: list[Json] = []

    def walk(node: GitTree, prefix: str) -> None:
        for name, obj in node.entries:
            path = f"{prefix}{name}"
            if isinstance(obj, GitTree):
                entries.append(
                    {
                        "path": path,
                        "mode": f"{TREE_MODE:06o}",
                        "type": "tree",
                        "sha": obj.oid,
                        "url": f"{base}/trees/{obj.oid}",
                    }
                )
                if recursive:
                    walk(obj, path + "/")
            else:
                entries.append(
                    {
                        "path": path,
                        "mode": f"{obj.mode:06o}",
                        "type": "blob",
                        "sha": obj.oid,
                        "size": obj.size,
                        "url": f"{base}/blobs/{obj.oid}",
                    }
                )

    walk(tree, "")
    return {"sha": tree.oid, "url": f"{base}/trees/{tree.oid}", "tree": entries, "truncated": False}


def _content_item(api: str, repo: FakeRepo, path: str, obj: GitBlob | GitTree) -> Json:
    kind = "dir" if isinstance(obj, GitTree) else "file"
    url = f"{api}/repos/{repo.full_name}/contents/{path}?ref={repo.default_branch}"
    git_url = f"{api}/repos/{repo.full_name}/git/{'trees' if kind == 'dir' else 'blobs'}/{obj.oid}"
    html_url = (
        f"{WEB}/{repo.full_name}/{'tree' if kind == 'dir' else 'blob'}/{repo.default_branch}/{path}"
    )
    raw = f"https://raw.githubusercontent.com/{repo.full_name}/{repo.default_branch}/{path}"
    return {
        "type": kind,
        "size": 0 if isinstance(obj, GitTree) else obj.size,
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "sha": obj.oid,
        "url": url,
        "git_url": git_url,
        "html_url": html_url,
        "download_url": None if kind == "dir" else raw,
        "_links": {"self": url, "git": git_url, "html": html_url},
    }


def contents_json(api: str, repo: FakeRepo, path: str, obj: GitBlob | GitTree) -> Json | list[Json]:
    if isinstance(obj, GitTree):
        return [_content_item(api, repo, f"{path}/{name}", child) for name, child in obj.entries]
    item = _content_item(api, repo, path, obj)
    if obj.size > CONTENTS_LIMIT:
        item.update(content="", encoding="none")
    else:
        encoded = base64.b64encode(obj.data).decode()
        # GitHub wraps the base64 at 60 characters.
        item.update(
            content="\n".join(encoded[i : i + 60] for i in range(0, len(encoded), 60)) + "\n",
            encoding="base64",
        )
    return item


def _is_protected(repo: FakeRepo, org: FakeOrg, branch: str) -> bool:
    if branch_rule_for(repo, branch) is not None:
        return True
    return any(
        r.enforcement == "active" and ruleset_applies(r, repo, branch)
        for r in [*repo.rulesets, *org.rulesets]
    )


def short_branch_json(api: str, repo: FakeRepo, org: FakeOrg, branch: str) -> Json:
    snapshot = repo.git()
    assert snapshot is not None
    return {
        "name": branch,
        "commit": {
            "sha": snapshot.commit_oid,
            "url": f"{api}/repos/{repo.full_name}/commits/{snapshot.commit_oid}",
        },
        "protected": _is_protected(repo, org, branch),
        "protection_url": f"{api}/repos/{repo.full_name}/branches/{branch}/protection",
    }


def branch_json(api: str, repo: FakeRepo, org: FakeOrg, branch: str) -> Json:
    snapshot = repo.git()
    assert snapshot is not None
    oid = snapshot.commit_oid
    commit_url = f"{api}/repos/{repo.full_name}/commits/{oid}"
    who = {"name": "Fake Dev", "email": "dev@example.org", "date": iso(repo.head_date)}
    rule = branch_rule_for(repo, branch)
    data: Json = {
        "name": branch,
        "commit": {
            "sha": oid,
            "node_id": node_id("Commit", oid),
            "url": commit_url,
            "html_url": f"{WEB}/{repo.full_name}/commit/{oid}",
            "comments_url": f"{commit_url}/comments",
            "commit": {
                "url": f"{api}/repos/{repo.full_name}/git/commits/{oid}",
                "author": who,
                "committer": who,
                "message": f"Update {repo.name}",
                "comment_count": 0,
                "tree": {
                    "sha": snapshot.tree_oid,
                    "url": f"{api}/repos/{repo.full_name}/git/trees/{snapshot.tree_oid}",
                },
            },
            "author": account_json(api, "fake-dev", stable_id("User", "fake-dev"), "User"),
            "committer": account_json(api, "fake-dev", stable_id("User", "fake-dev"), "User"),
            "parents": [],
        },
        "_links": {
            "html": f"{WEB}/{repo.full_name}/tree/{branch}",
            "self": f"{api}/repos/{repo.full_name}/branches/{branch}",
        },
        "protected": _is_protected(repo, org, branch),
        # Without admin rights GitHub shows only whether protection is on.
        "protection": {"enabled": rule is not None},
        "protection_url": f"{api}/repos/{repo.full_name}/branches/{branch}/protection",
    }
    if rule is not None:
        data["pattern"] = rule.pattern
        data["required_approving_review_count"] = rule.required_approving_review_count
    return data
