"""The REST operations that change a repository: its security settings, rulesets, the Git Data
API (blobs, trees, commits, refs) and pull requests, with the reads that go with them.

Each is described by GitHub's full OpenAPI description (api.github.com.json): request bodies and
responses are validated against it like every other operation (see rest_api.py). Permissions
follow GitHub: settings and rulesets need admin access, Git data and pull requests need push
(write) access; the default branch is never moved by the API.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from .git_data import (
    branch_head,
    commits_between,
    find_blob,
    find_commit,
    find_tree,
    is_ancestor,
    resolve_commitish,
    store,
)
from .graphql_api import node_id
from .model import (
    PLAIN_RULES,
    FakeCommit,
    FakeOrg,
    FakePull,
    FakeRepo,
    GitBlob,
    GitTree,
    PullRequestRule,
    Ruleset,
    blob_of,
    blobs_of,
    commit_oid,
    iso,
    stable_id,
    tree_of,
)
from .rest_json import WEB, Json, account_json, repo_json, ruleset_json, tree_json

# (method, template, path parameters that may hold "/"), all described by the full file only.
WRITE_OPERATIONS: tuple[tuple[str, str, frozenset[str]], ...] = (
    ("PUT", "/repos/{owner}/{repo}/vulnerability-alerts", frozenset()),
    ("PUT", "/repos/{owner}/{repo}/automated-security-fixes", frozenset()),
    ("PATCH", "/repos/{owner}/{repo}", frozenset()),
    ("POST", "/repos/{owner}/{repo}/rulesets", frozenset()),
    ("POST", "/repos/{owner}/{repo}/git/blobs", frozenset()),
    ("GET", "/repos/{owner}/{repo}/git/blobs/{file_sha}", frozenset()),
    ("POST", "/repos/{owner}/{repo}/git/trees", frozenset()),
    ("POST", "/repos/{owner}/{repo}/git/commits", frozenset()),
    ("GET", "/repos/{owner}/{repo}/git/commits/{commit_sha}", frozenset({"commit_sha"})),
    ("GET", "/repos/{owner}/{repo}/git/ref/{ref}", frozenset({"ref"})),
    ("POST", "/repos/{owner}/{repo}/git/refs", frozenset()),
    ("PATCH", "/repos/{owner}/{repo}/git/refs/{ref}", frozenset({"ref"})),
    ("GET", "/repos/{owner}/{repo}/pulls", frozenset()),
    ("POST", "/repos/{owner}/{repo}/pulls", frozenset()),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", frozenset()),
    ("PATCH", "/repos/{owner}/{repo}/pulls/{pull_number}", frozenset()),
)

DOCS = "https://docs.github.com/rest"
PUSH_LEVELS = frozenset({"write", "maintain", "admin"})
SETTINGS_FIELDS = frozenset(
    {"secret_scanning", "secret_scanning_push_protection", "dependabot_security_updates"}
)
# What the fake applies from a PATCH of the repository; anything else is recorded, not ignored.
REPO_FIELDS = frozenset({"description", "homepage", "security_and_analysis"})
FILE_MODES = {"100644": 0o100644, "100755": 0o100755, "120000": 0o120000}
MAX_BODY_CHARS = 65_536  # GitHub refuses longer pull request bodies
_REF_NAME = re.compile(r"refs/[^\s~^:?*\[\\]+/[^\s~^:?*\[\\]+")


class Refusal(Exception):
    """GitHub's answer to a request it will not carry out (status and message)."""

    def __init__(self, status: int, message: str, problem: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.problem = problem  # a request the fake cannot model: recorded in gh.unvalidated


# --- Context --------------------------------------------------------------------------------


class WriteContext:
    """One request's repository and caller, as the handlers need them."""

    def __init__(
        self,
        org: FakeOrg,
        repo: FakeRepo,
        api: str,
        login: str,
        user_id: int,
        *,
        workflows: bool = True,
        installation: bool = False,
    ) -> None:
        self.org = org
        self.repo = repo
        self.api = api
        self.login = login
        self.user_id = user_id
        self.workflows = workflows  # may push changes to .github/workflows/
        self.installation = installation  # a GitHub App's installation token

    @property
    def base(self) -> str:
        return f"{self.api}/repos/{self.repo.full_name}"


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def body_of(raw: bytes) -> dict[str, Any]:
    data = json.loads(raw) if raw.strip() else {}
    if not isinstance(data, dict):
        raise Refusal(400, "Problems parsing JSON")
    return data


# --- Settings -------------------------------------------------------------------------------


def enable_vulnerability_alerts(ctx: WriteContext) -> Json | None:
    ctx.repo.vulnerability_alerts = True
    return None


def enable_automated_security_fixes(ctx: WriteContext) -> Json | None:
    if not ctx.repo.vulnerability_alerts:
        raise Refusal(
            422,
            "Failed to enable automated security fixes: vulnerability alerts must be enabled "
            "for this repository first",
        )
    ctx.repo.security_and_analysis["dependabot_security_updates"] = "enabled"
    return None


def update_repo(ctx: WriteContext, body: dict[str, Any], admin: bool) -> list[str]:
    """Apply a PATCH of the repository; returns the fields it names that the fake ignores."""
    ignored = sorted(set(body) - REPO_FIELDS)
    wanted = body.get("security_and_analysis") or {}
    if wanted and not admin:
        raise Refusal(403, "Must have admin rights to Repository.")
    settings = dict(ctx.repo.security_and_analysis)
    for name, value in wanted.items():
        status = value.get("status") if isinstance(value, dict) else None
        if name not in SETTINGS_FIELDS:
            ignored.append(f"security_and_analysis.{name}")
            continue
        if status not in ("enabled", "disabled"):
            raise Refusal(422, f"Invalid status for {name}: use enabled or disabled")
        settings[name] = status
    turning_on = {k for k, v in settings.items() if v == "enabled"} - {
        k for k, v in ctx.repo.security_and_analysis.items() if v == "enabled"
    }
    if turning_on & {"secret_scanning", "secret_scanning_push_protection"} and not (
        ctx.repo.secret_scanning_available
    ):
        raise Refusal(
            422,
            "Secret scanning is not available for this repository: it needs GitHub Secret "
            "Protection (Advanced Security) for private repositories",
        )
    if (
        settings["secret_scanning_push_protection"] == "enabled"
        and settings["secret_scanning"] != "enabled"
    ):
        raise Refusal(422, "Secret scanning push protection requires secret scanning")
    if settings["dependabot_security_updates"] == "enabled" and not ctx.repo.vulnerability_alerts:
        raise Refusal(422, "Dependabot security updates require vulnerability alerts")
    ctx.repo.security_and_analysis = settings
    if isinstance(body.get("description"), str):
        ctx.repo.description = body["description"]
    return ignored


def create_ruleset(ctx: WriteContext, body: dict[str, Any]) -> Ruleset:
    name = str(body["name"])
    if any(r.name == name for r in ctx.repo.rulesets):
        raise Refusal(422, "Validation Failed: Name must be unique")
    conditions = body.get("conditions") or {}
    ref_name = conditions.get("ref_name") or {}
    pull_request: PullRequestRule | None = None
    plain: list[str] = []
    for rule in body.get("rules") or []:
        kind = rule.get("type")
        if kind == "pull_request":
            params = rule.get("parameters") or {}
            pull_request = PullRequestRule(
                required_approving_review_count=params["required_approving_review_count"],
                dismiss_stale_reviews_on_push=params["dismiss_stale_reviews_on_push"],
                require_code_owner_review=params["require_code_owner_review"],
                require_last_push_approval=params["require_last_push_approval"],
                required_review_thread_resolution=params["required_review_thread_resolution"],
            )
        elif kind in PLAIN_RULES:
            plain.append(kind)
        else:
            raise Refusal(
                422,
                f"The fake GitHub server does not model rule type {kind!r}",
                problem=f"POST /repos/{{owner}}/{{repo}}/rulesets: rule type {kind!r} not modelled",
            )
    if body.get("bypass_actors"):
        raise Refusal(
            422,
            "The fake GitHub server does not model bypass actors on created rulesets",
            problem="POST /repos/{owner}/{repo}/rulesets: bypass_actors not modelled",
        )
    when = now()
    ruleset = Ruleset(
        stable_id("ruleset", ctx.repo.full_name, name),
        name,
        enforcement=str(body["enforcement"]),
        target=str(body.get("target", "branch")),
        include=[str(p) for p in ref_name.get("include") or []],
        exclude=[str(p) for p in ref_name.get("exclude") or []],
        pull_request=pull_request,
        other_rules=plain,
        created_at=when,
        updated_at=when,
    )
    ctx.repo.rulesets.append(ruleset)
    return ruleset


# --- Git data -------------------------------------------------------------------------------


def short_blob_json(ctx: WriteContext, blob: GitBlob) -> Json:
    return {"url": f"{ctx.base}/git/blobs/{blob.oid}", "sha": blob.oid}


def blob_json(ctx: WriteContext, blob: GitBlob) -> Json:
    encoded = base64.b64encode(blob.data).decode()
    return {
        "content": "\n".join(encoded[i : i + 60] for i in range(0, len(encoded), 60)) + "\n",
        "encoding": "base64",
        "url": f"{ctx.base}/git/blobs/{blob.oid}",
        "sha": blob.oid,
        "size": blob.size,
        "node_id": node_id("Blob", blob.oid),
    }


def create_blob(ctx: WriteContext, body: dict[str, Any]) -> GitBlob:
    content = str(body["content"])
    encoding = body.get("encoding", "utf-8")
    if encoding in ("utf-8", "utf8"):
        data = content.encode("utf-8", "surrogatepass")
    elif encoding == "base64":
        try:
            data = base64.b64decode(content, validate=False)
        except (binascii.Error, ValueError):
            raise Refusal(422, "content is not valid Base64") from None
    else:
        raise Refusal(422, f"encoding must be utf-8 or base64, not {encoding!r}")
    blob = blob_of(data)
    store(ctx.repo, blob)
    return blob


def create_tree(ctx: WriteContext, body: dict[str, Any]) -> GitTree:
    files: dict[str, GitBlob] = {}
    base = body.get("base_tree")
    if base is not None:
        base_tree = find_tree(ctx.repo, str(base))
        if base_tree is None:
            raise Refusal(422, f"base_tree {str(base)[:40]} is not a tree of this repository")
        files = blobs_of(base_tree)
    for index, entry in enumerate(body["tree"]):
        path = str(entry.get("path", "")).strip("/")
        if not path or any(part in ("", ".", "..", ".git") for part in path.split("/")):
            raise Refusal(422, f"tree.path at index {index} is not a valid path")
        mode, kind = entry.get("mode"), entry.get("type")
        if kind != "blob" or mode not in FILE_MODES:
            raise Refusal(
                422,
                f"tree entry {path}: the fake models files (type blob, mode 100644/100755/"
                "120000) only",
                problem=f"POST /repos/{{owner}}/{{repo}}/git/trees: entry {kind} {mode} not modelled",
            )
        has_sha, has_content = "sha" in entry, "content" in entry
        if has_sha == has_content:
            raise Refusal(422, f"tree entry {path}: give either sha or content")
        if has_content:
            try:
                data = str(entry["content"]).encode("utf-8")
            except UnicodeEncodeError:
                raise Refusal(422, f"tree entry {path}: content is not valid UTF-8") from None
            blob = blob_of(data, FILE_MODES[mode])
            store(ctx.repo, blob)
            files[path] = blob
            continue
        sha = entry["sha"]
        if sha is None:
            files = {p: b for p, b in files.items() if p != path and not p.startswith(path + "/")}
            continue
        found = find_blob(ctx.repo, str(sha))
        if found is None:
            raise Refusal(422, f"tree.sha {str(sha)[:40]} is not a valid blob")
        files = {p: b for p, b in files.items() if not p.startswith(path + "/")}
        files[path] = GitBlob(found.oid, found.data, FILE_MODES[mode])
    try:
        root, objects = tree_of(files)
    except ValueError as exc:
        raise Refusal(422, f"Invalid tree: {exc}") from None
    store(ctx.repo, root, *objects.values())
    return root


def git_tree_json(ctx: WriteContext, tree: GitTree) -> Json:
    return tree_json(ctx.api, ctx.repo, tree, recursive=False)


def _person(name: str, email: str, when: datetime) -> Json:
    return {"name": name, "email": email, "date": iso(when)}


def git_commit_json(ctx: WriteContext, commit: FakeCommit) -> Json:
    who = _person(commit.author_name, commit.author_email, commit.when)
    return {
        "sha": commit.oid,
        "node_id": node_id("Commit", commit.oid),
        "url": f"{ctx.base}/git/commits/{commit.oid}",
        "html_url": f"{WEB}/{ctx.repo.full_name}/commit/{commit.oid}",
        "author": who,
        "committer": who,
        "message": commit.message,
        "tree": {"sha": commit.tree.oid, "url": f"{ctx.base}/git/trees/{commit.tree.oid}"},
        "parents": [
            {
                "sha": parent,
                "url": f"{ctx.base}/git/commits/{parent}",
                "html_url": f"{WEB}/{ctx.repo.full_name}/commit/{parent}",
            }
            for parent in commit.parents
        ],
        "verification": {
            "verified": False,
            "reason": "unsigned",
            "signature": None,
            "payload": None,
            "verified_at": None,
        },
    }


def create_commit(ctx: WriteContext, body: dict[str, Any]) -> FakeCommit:
    tree = find_tree(ctx.repo, str(body["tree"]))
    if tree is None:
        raise Refusal(422, "Tree SHA does not exist")
    parents = tuple(str(p) for p in body.get("parents") or [])
    for parent in parents:
        if find_commit(ctx.repo, parent) is None:
            raise Refusal(422, "Parent SHA does not exist or is not a commit object")
    author = body.get("author") or {}
    name = str(author.get("name") or ctx.login)
    email = str(author.get("email") or f"{ctx.user_id}+{ctx.login}@users.noreply.github.com")
    when = now()
    message = str(body["message"])
    oid = commit_oid(tree.oid, parents, name, email, when, message)
    commit = FakeCommit(oid, tree, parents, message, name, email, when)
    store(ctx.repo, commit)
    return commit


def git_ref_json(ctx: WriteContext, branch: str, sha: str) -> Json:
    ref = f"refs/heads/{branch}"
    return {
        "ref": ref,
        "node_id": node_id("Ref", f"{ctx.repo.id}:{branch}"),
        "url": f"{ctx.base}/git/{ref}",
        "object": {"type": "commit", "sha": sha, "url": f"{ctx.base}/git/commits/{sha}"},
    }


def create_ref(ctx: WriteContext, body: dict[str, Any]) -> tuple[str, str]:
    ref, sha = str(body["ref"]), str(body["sha"])
    if not _REF_NAME.fullmatch(ref) or ".." in ref or ref.endswith((".", "/", ".lock")):
        raise Refusal(422, "Reference name is not valid (refs/heads/<name>)")
    if not ref.startswith("refs/heads/"):
        raise Refusal(
            422,
            "The fake GitHub server models branches only",
            problem=f"POST /repos/{{owner}}/{{repo}}/git/refs: {ref[:60]} not modelled",
        )
    branch = ref.removeprefix("refs/heads/")
    if branch_head(ctx.repo, branch) is not None:
        raise Refusal(422, "Reference already exists")
    if find_commit(ctx.repo, sha) is None:
        raise Refusal(422, "Object does not exist")
    _check_workflow_push(ctx, sha)
    ctx.repo.branches[branch] = sha
    return branch, sha


def _check_workflow_push(ctx: WriteContext, sha: str) -> None:
    """GitHub refuses a ref that brings changes to .github/workflows/ from a classic token
    without the `workflow` scope, or an App installation without `workflows: write` (the
    change is judged against the default branch's head)."""
    if ctx.workflows:
        return
    commit = find_commit(ctx.repo, sha)
    head = ctx.repo.git()
    if commit is None or head is None:
        return

    def workflow_files(tree: GitTree) -> dict[str, str]:
        return {p: b.oid for p, b in blobs_of(tree).items() if p.startswith(".github/workflows/")}

    new, old = workflow_files(commit.tree), workflow_files(head.root)
    changed = sorted(p for p in set(new) | set(old) if new.get(p) != old.get(p))
    if changed:
        who, need = (
            ("a GitHub App", "`workflows` permission")
            if ctx.installation
            else ("a Personal Access Token", "`workflow` scope")
        )
        raise Refusal(
            422,
            f"refusing to allow {who} to create or update workflow `{changed[0]}` without {need}",
        )


def update_ref(ctx: WriteContext, ref: str, body: dict[str, Any]) -> tuple[str, str]:
    if not ref.startswith("heads/"):
        raise Refusal(422, "Reference does not exist")
    branch = ref.removeprefix("heads/")
    if branch == ctx.repo.default_branch:
        raise Refusal(
            422,
            "The fake GitHub server does not move the default branch",
            problem="PATCH /repos/{owner}/{repo}/git/refs/{ref}: default branch not modelled",
        )
    current = ctx.repo.branches.get(branch)
    if current is None:
        raise Refusal(422, "Reference does not exist")
    sha = str(body["sha"])
    if find_commit(ctx.repo, sha) is None:
        raise Refusal(422, "Object does not exist")
    if not body.get("force", False) and not is_ancestor(ctx.repo, current, sha):
        raise Refusal(422, "Update is not a fast forward")
    _check_workflow_push(ctx, sha)
    ctx.repo.branches[branch] = sha
    return branch, sha


# --- Pull requests --------------------------------------------------------------------------


def _link(href: str) -> Json:
    return {"href": href}


def _side(ctx: WriteContext, branch: str, sha: str, principal_view: Callable[[], Json]) -> Json:
    return {
        "label": f"{ctx.org.login}:{branch}",
        "ref": branch,
        "sha": sha,
        "repo": principal_view(),
        "user": account_json(ctx.api, ctx.org.login, ctx.org.id, "Organization"),
    }


def _diff_counts(base: GitTree | None, head: GitTree | None) -> tuple[int, int, int]:
    """(additions, deletions, changed files) between two trees, by lines."""
    before = blobs_of(base) if base else {}
    after = blobs_of(head) if head else {}
    additions = deletions = changed = 0
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old is not None and new is not None and old.oid == new.oid:
            continue
        changed += 1
        old_lines = old.data.decode("utf-8", "replace").splitlines() if old else []
        new_lines = new.data.decode("utf-8", "replace").splitlines() if new else []
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(
            None, old_lines, new_lines, autojunk=False
        ).get_opcodes():
            if tag in ("replace", "delete"):
                deletions += i2 - i1
            if tag in ("replace", "insert"):
                additions += j2 - j1
    return additions, deletions, changed


def pull_json(
    ctx: WriteContext, pull: FakePull, repo_view: Callable[[], Json], *, full: bool
) -> Json:
    number = pull.number
    html = f"{WEB}/{ctx.repo.full_name}/pull/{number}"
    url = f"{ctx.base}/pulls/{number}"
    issue = f"{ctx.base}/issues/{number}"
    head_sha = branch_head(ctx.repo, pull.head) or ""
    base_sha = branch_head(ctx.repo, pull.base) or ""
    user = account_json(ctx.api, pull.user, pull.user_id, "User")
    closed = pull.state == "closed"
    data: Json = {
        "url": url,
        "id": stable_id("pull", ctx.repo.full_name, str(number)),
        "node_id": node_id("PullRequest", f"{ctx.repo.id}:{number}"),
        "html_url": html,
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "issue_url": issue,
        "commits_url": f"{url}/commits",
        "review_comments_url": f"{url}/comments",
        "review_comment_url": f"{ctx.base}/pulls/comments{{/number}}",
        "comments_url": f"{issue}/comments",
        "statuses_url": f"{ctx.base}/statuses/{head_sha}",
        "number": number,
        "state": pull.state,
        "locked": False,
        "title": pull.title,
        "user": user,
        "body": pull.body,
        "labels": [],
        "milestone": None,
        "active_lock_reason": None,
        "created_at": iso(pull.created_at),
        "updated_at": iso(pull.updated_at),
        "closed_at": iso(pull.updated_at) if closed else None,
        "merged_at": None,
        "merge_commit_sha": None,
        "assignee": None,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "head": _side(ctx, pull.head, head_sha, repo_view),
        "base": _side(ctx, pull.base, base_sha, repo_view),
        "_links": {
            "self": _link(url),
            "html": _link(html),
            "issue": _link(issue),
            "comments": _link(f"{issue}/comments"),
            "review_comments": _link(f"{url}/comments"),
            "review_comment": _link(f"{ctx.base}/pulls/comments{{/number}}"),
            "commits": _link(f"{url}/commits"),
            "statuses": _link(f"{ctx.base}/statuses/{head_sha}"),
        },
        "author_association": "MEMBER",
        "auto_merge": None,
        "draft": pull.draft,
    }
    if full:
        head_commit = find_commit(ctx.repo, head_sha)
        base_commit = find_commit(ctx.repo, base_sha)
        additions, deletions, changed = _diff_counts(
            base_commit.tree if base_commit else None, head_commit.tree if head_commit else None
        )
        data.update(
            {
                "merged": False,
                "mergeable": None if closed else True,
                "rebaseable": None if closed else True,
                "mergeable_state": "unknown" if closed else "clean",
                "merged_by": None,
                "comments": 0,
                "review_comments": 0,
                "maintainer_can_modify": pull.maintainer_can_modify,
                "commits": commits_between(ctx.repo, base_sha, head_sha),
                "additions": additions,
                "deletions": deletions,
                "changed_files": changed,
            }
        )
    return data


def _head_branch(ctx: WriteContext, head: str) -> str:
    """`head` is "branch" or "owner:branch"; only branches of this repository are modelled."""
    owner, colon, branch = head.rpartition(":")
    if colon and owner.lower() != ctx.org.login.lower():
        raise Refusal(
            422,
            "Validation Failed: pull requests from forks are not modelled by the fake",
            problem="POST /repos/{owner}/{repo}/pulls: a head from another owner",
        )
    return branch


def create_pull(ctx: WriteContext, body: dict[str, Any]) -> FakePull:
    if "issue" in body or not isinstance(body.get("title"), str):
        raise Refusal(422, "Validation Failed: title is required")
    head = _head_branch(ctx, str(body.get("head", "")))
    base = str(body.get("base", ""))
    text = body.get("body")
    if isinstance(text, str) and len(text) > MAX_BODY_CHARS:
        raise Refusal(422, f"Validation Failed: body is too long (maximum is {MAX_BODY_CHARS})")
    head_sha, base_sha = branch_head(ctx.repo, head), branch_head(ctx.repo, base)
    if head_sha is None:
        raise Refusal(422, "Validation Failed: head does not exist")
    if base_sha is None:
        raise Refusal(422, "Validation Failed: base does not exist")
    if head == base or is_ancestor(ctx.repo, head_sha, base_sha):
        raise Refusal(422, f"Validation Failed: No commits between {base} and {head}")
    for pull in ctx.repo.pulls:
        if pull.state == "open" and pull.head == head and pull.base == base:
            raise Refusal(
                422, f"Validation Failed: A pull request already exists for {ctx.org.login}:{head}."
            )
    when = now()
    pull = FakePull(
        number=len(ctx.repo.pulls) + 1,
        title=str(body["title"]),
        body=text if isinstance(text, str) else None,
        head=head,
        base=base,
        user=ctx.login,
        user_id=ctx.user_id,
        created_at=when,
        updated_at=when,
        draft=bool(body.get("draft", False)),
        maintainer_can_modify=bool(body.get("maintainer_can_modify", True)),
    )
    ctx.repo.pulls.append(pull)
    return pull


def update_pull(ctx: WriteContext, pull: FakePull, body: dict[str, Any]) -> None:
    text = body.get("body")
    if isinstance(text, str) and len(text) > MAX_BODY_CHARS:
        raise Refusal(422, f"Validation Failed: body is too long (maximum is {MAX_BODY_CHARS})")
    if "base" in body and branch_head(ctx.repo, str(body["base"])) is None:
        raise Refusal(422, "Validation Failed: base does not exist")
    if isinstance(body.get("title"), str):
        pull.title = body["title"]
    if "body" in body:
        pull.body = text if isinstance(text, str) else None
    if body.get("state") in ("open", "closed"):
        pull.state = body["state"]
    if "base" in body:
        pull.base = str(body["base"])
    if "maintainer_can_modify" in body:
        pull.maintainer_can_modify = bool(body["maintainer_can_modify"])
    pull.updated_at = now()


def matching_pulls(ctx: WriteContext, query: dict[str, Any]) -> list[FakePull]:
    """GET /pulls filters: state (default open), head "owner:branch", base; newest first."""
    state = query.get("state", "open")
    pulls = [p for p in ctx.repo.pulls if state == "all" or p.state == state]
    head = query.get("head")
    if head is not None:
        owner, _, branch = str(head).rpartition(":")
        if owner and owner.lower() != ctx.org.login.lower():
            return []
        pulls = [p for p in pulls if p.head == branch]
    base = query.get("base")
    if base is not None:
        pulls = [p for p in pulls if p.base == base]
    sort = query.get("sort", "created")
    direction = query.get("direction", "desc")

    def key(pull: FakePull) -> tuple[datetime, int]:
        return (pull.updated_at if sort == "updated" else pull.created_at, pull.number)

    return sorted(pulls, key=key, reverse=direction == "desc")


def find_pull(ctx: WriteContext, number: str) -> FakePull | None:
    for pull in ctx.repo.pulls:
        if str(pull.number) == number:
            return pull
    return None


def resolve(ctx: WriteContext, name: str) -> FakeCommit | None:
    return resolve_commitish(ctx.repo, name)


def repo_view(ctx: WriteContext, principal: Any) -> Json:
    return repo_json(ctx.api, ctx.repo, ctx.org, principal, full=False)


def ruleset_view(ctx: WriteContext, ruleset: Ruleset, principal: Any) -> Json:
    return ruleset_json(ctx.api, ctx.repo, ctx.org, ruleset, principal, detailed=True)
