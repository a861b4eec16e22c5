"""Handlers of the writing operations (see rest_writes.py), in rest_api.py's handler shape:
permissions first, then the change, then GitHub's representation of the result."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .git_data import branch_head, find_blob, find_commit
from .issues import (
    TRIAGE_LEVELS,
    add_comment,
    comment_json,
    create_issue,
    find_issue,
    issue_json,
    list_issues,
    update_issue,
)
from .rest_api import DOCS, RestRequest, RestResponse, RestState, _paginate, _repo, error
from .rest_json import repo_json
from .rest_writes import (
    PUSH_LEVELS,
    Refusal,
    WriteContext,
    blob_json,
    body_of,
    create_blob,
    create_commit,
    create_pull,
    create_ref,
    create_ruleset,
    create_tree,
    enable_automated_security_fixes,
    enable_vulnerability_alerts,
    find_pull,
    git_commit_json,
    git_ref_json,
    git_tree_json,
    matching_pulls,
    pull_json,
    repo_view,
    ruleset_view,
    short_blob_json,
    update_pull,
    update_ref,
    update_repo,
)

Handler = Callable[[RestState, RestRequest], RestResponse]
ADMIN_REFUSAL = "Must have admin rights to Repository."
PUSH_REFUSAL = "Resource not accessible by personal access token"


def _context(state: RestState, request: RestRequest) -> WriteContext | None:
    found = _repo(state, request)
    if found is None:
        return None
    org, repo = found
    principal = request.principal
    assert principal is not None
    return WriteContext(
        org,
        repo,
        request.api,
        principal.login,
        principal.user_id,
        workflows=principal.workflows,
        installation=principal.kind == "installation",
    )


def _guarded(need: str, hidden: bool = False) -> Callable[[Callable[..., RestResponse]], Handler]:
    """Wrap a handler: the repository must exist and the caller have `need` access ("read",
    "push" or "admin"); a Refusal becomes GitHub's error answer. `hidden`: GitHub answers 404
    rather than 403 to callers without the access (it does not confirm the setting exists)."""

    def wrap(fn: Callable[..., RestResponse]) -> Handler:
        def handler(state: RestState, request: RestRequest) -> RestResponse:
            ctx = _context(state, request)
            if ctx is None:
                return error(404, "Not Found")
            principal = request.principal
            assert principal is not None
            allowed = (
                need == "read"
                or (need == "push" and principal.access in PUSH_LEVELS)
                or (need == "admin" and principal.is_admin)
            )
            if not allowed:
                if hidden:
                    return error(404, "Not Found")
                return error(403, ADMIN_REFUSAL if need == "admin" else PUSH_REFUSAL)
            if ctx.repo.archived and request.op.method != "GET":
                return error(403, "Repository was archived so is read-only.")
            try:
                return fn(state, request, ctx)
            except Refusal as refusal:
                if refusal.problem and state.report is not None:
                    state.report(refusal.problem)
                return error(refusal.status, refusal.message, DOCS)

        return handler

    return wrap


def _empty_guard(ctx: WriteContext) -> None:
    if ctx.repo.is_empty:
        raise Refusal(409, "Git Repository is empty.")


# --- Settings -------------------------------------------------------------------------------


@_guarded("admin", hidden=True)
def put_vulnerability_alerts(
    state: RestState, request: RestRequest, ctx: WriteContext
) -> RestResponse:
    enable_vulnerability_alerts(ctx)
    return RestResponse(204)


@_guarded("admin", hidden=True)
def put_automated_security_fixes(
    state: RestState, request: RestRequest, ctx: WriteContext
) -> RestResponse:
    enable_automated_security_fixes(ctx)
    return RestResponse(204)


@_guarded("read")
def patch_repo(state: RestState, request: RestRequest, ctx: WriteContext) -> RestResponse:
    principal = request.principal
    assert principal is not None
    body = body_of(request.body)
    if principal.access not in ("admin", "maintain"):
        raise Refusal(403, ADMIN_REFUSAL)
    ignored = update_repo(ctx, body, principal.is_admin)
    if ignored and state.report is not None:
        state.report(f"PATCH /repos/{{owner}}/{{repo}}: fields not modelled: {ignored}")
    return RestResponse(200, repo_json(ctx.api, ctx.repo, ctx.org, principal, full=True))


@_guarded("admin", hidden=True)
def post_ruleset(state: RestState, request: RestRequest, ctx: WriteContext) -> RestResponse:
    ruleset = create_ruleset(ctx, body_of(request.body))
    return RestResponse(201, ruleset_view(ctx, ruleset, request.principal))


# --- Git data -------------------------------------------------------------------------------


@_guarded("push")
def post_blob(state: RestState, request: RestRequest, ctx: WriteContext) -> RestResponse:
    blob = create_blob(ctx, body_of(request.body))
    return RestResponse(
        201, short_blob_json(ctx, blob), {"location": short_blob_json(ctx, blob)["url"]}
    )


@_guarded("read")
def get_blob(state: RestState, request: RestRequest, ctx: WriteContext) -> RestResponse:
    blob = find_blob(ctx.repo, request.params["file_sha"])
    if blob is None:
        return error(404, "Not Found")
    return RestResponse(200, blob_json(ctx, blob))


@_guarded("push")
def post_tree(state: RestState, request: RestRequest, ctx: WriteContext) -> RestResponse:
    _empty_guard(ctx)
    tree = create_tree(ctx, body_of(request.body))
    return RestResponse(201, git_tree_json(ctx, tree))


@_guarded("push")
def post_commit(state: RestState, request: RestRequest, ctx: WriteContext) -> RestResponse:
    _empty_guard(ctx)
    commit = create_commit(ctx, body_of(request.body))
    return RestResponse(201, git_commit_json(ctx, commit))


@_guarded("read")
def get_commit(state: RestState, request: RestRequest, ctx: WriteContext) -> RestResponse:
    _empty_guard(ctx)
    commit = find_commit(ctx.repo, request.params["commit_sha"])
    if commit is None:
        return error(404, "Not Found")
    return RestResponse(200, git_commit_json(ctx, commit))


@_guarded("read")
def get_ref(state: RestState, request: RestRequest, ctx: WriteContext) -> RestResponse:
    _empty_guard(ctx)
    ref = request.params["ref"]
    branch = ref.removeprefix("heads/") if ref.startswith("heads/") else None
    sha = branch_head(ctx.repo, branch) if branch else None
    if branch is None or sha is None:
        return error(404, "Not Found")
    return RestResponse(200, git_ref_json(ctx, branch, sha))


@_guarded("push")
def post_ref(state: RestState, request: RestRequest, ctx: WriteContext) -> RestResponse:
    _empty_guard(ctx)
    branch, sha = create_ref(ctx, body_of(request.body))
    return RestResponse(201, git_ref_json(ctx, branch, sha))


@_guarded("push")
def patch_ref(state: RestState, request: RestRequest, ctx: WriteContext) -> RestResponse:
    _empty_guard(ctx)
    branch, sha = update_ref(ctx, request.params["ref"], body_of(request.body))
    return RestResponse(200, git_ref_json(ctx, branch, sha))


# --- Pull requests --------------------------------------------------------------------------


def _repo_view(ctx: WriteContext, request: RestRequest) -> Callable[[], dict[str, Any]]:
    principal = request.principal
    assert principal is not None
    return lambda: repo_view(ctx, principal)


@_guarded("read")
def list_pulls(state: RestState, request: RestRequest, ctx: WriteContext) -> RestResponse:
    view = _repo_view(ctx, request)
    items = [pull_json(ctx, p, view, full=False) for p in matching_pulls(ctx, request.query)]
    return _paginate(request, items)


@_guarded("read")
def get_pull(state: RestState, request: RestRequest, ctx: WriteContext) -> RestResponse:
    pull = find_pull(ctx, request.params["pull_number"])
    if pull is None:
        return error(404, "Not Found")
    return RestResponse(200, pull_json(ctx, pull, _repo_view(ctx, request), full=True))


@_guarded("push")
def post_pull(state: RestState, request: RestRequest, ctx: WriteContext) -> RestResponse:
    _empty_guard(ctx)
    pull = create_pull(ctx, body_of(request.body))
    body = pull_json(ctx, pull, _repo_view(ctx, request), full=True)
    return RestResponse(201, body, {"location": body["url"]})


@_guarded("push")
def patch_pull(state: RestState, request: RestRequest, ctx: WriteContext) -> RestResponse:
    pull = find_pull(ctx, request.params["pull_number"])
    if pull is None:
        return error(404, "Not Found")
    update_pull(ctx, pull, body_of(request.body))
    return RestResponse(200, pull_json(ctx, pull, _repo_view(ctx, request), full=True))


# --- Issues (the repository-issue action) -----------------------------------------------------


@_guarded("read")
def get_issues(state: RestState, request: RestRequest, ctx: WriteContext) -> RestResponse:
    return _paginate(request, list_issues(ctx, request.query))


@_guarded("read")
def post_issue(state: RestState, request: RestRequest, ctx: WriteContext) -> RestResponse:
    principal = request.principal
    assert principal is not None
    issue = create_issue(ctx, body_of(request.body), principal.access in PUSH_LEVELS)
    body = issue_json(ctx, issue)
    return RestResponse(201, body, {"location": body["url"]})


@_guarded("read")
def get_issue(state: RestState, request: RestRequest, ctx: WriteContext) -> RestResponse:
    issue = find_issue(ctx.repo, request.params["issue_number"])
    if issue is None:
        return error(404, "Not Found")
    return RestResponse(200, issue_json(ctx, issue))


@_guarded("read")
def patch_issue(state: RestState, request: RestRequest, ctx: WriteContext) -> RestResponse:
    issue = find_issue(ctx.repo, request.params["issue_number"])
    if issue is None:
        return error(404, "Not Found")
    principal = request.principal
    assert principal is not None
    update_issue(ctx, issue, body_of(request.body), principal.access in TRIAGE_LEVELS)
    return RestResponse(200, issue_json(ctx, issue))


@_guarded("read")
def post_issue_comment(state: RestState, request: RestRequest, ctx: WriteContext) -> RestResponse:
    issue = find_issue(ctx.repo, request.params["issue_number"])
    if issue is None:
        return error(404, "Not Found")
    comment = add_comment(ctx, issue, body_of(request.body))
    body = comment_json(ctx, issue, comment)
    return RestResponse(201, body, {"location": body["url"]})


WRITE_HANDLERS: dict[str, Handler] = {
    "PUT /repos/{owner}/{repo}/vulnerability-alerts": put_vulnerability_alerts,
    "PUT /repos/{owner}/{repo}/automated-security-fixes": put_automated_security_fixes,
    "PATCH /repos/{owner}/{repo}": patch_repo,
    "POST /repos/{owner}/{repo}/rulesets": post_ruleset,
    "POST /repos/{owner}/{repo}/git/blobs": post_blob,
    "GET /repos/{owner}/{repo}/git/blobs/{file_sha}": get_blob,
    "POST /repos/{owner}/{repo}/git/trees": post_tree,
    "POST /repos/{owner}/{repo}/git/commits": post_commit,
    "GET /repos/{owner}/{repo}/git/commits/{commit_sha}": get_commit,
    "GET /repos/{owner}/{repo}/git/ref/{ref}": get_ref,
    "POST /repos/{owner}/{repo}/git/refs": post_ref,
    "PATCH /repos/{owner}/{repo}/git/refs/{ref}": patch_ref,
    "GET /repos/{owner}/{repo}/pulls": list_pulls,
    "POST /repos/{owner}/{repo}/pulls": post_pull,
    "GET /repos/{owner}/{repo}/pulls/{pull_number}": get_pull,
    "PATCH /repos/{owner}/{repo}/pulls/{pull_number}": patch_pull,
    "GET /repos/{owner}/{repo}/issues": get_issues,
    "POST /repos/{owner}/{repo}/issues": post_issue,
    "GET /repos/{owner}/{repo}/issues/{issue_number}": get_issue,
    "PATCH /repos/{owner}/{repo}/issues/{issue_number}": patch_issue,
    "POST /repos/{owner}/{repo}/issues/{issue_number}/comments": post_issue_comment,
}
