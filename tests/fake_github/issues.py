"""Issues and their comments (the repository-issue action's writes, and what it reads back).

Issues share their numbers with pull requests, as on GitHub. Anyone who can read a repository may
open an issue or comment on one; changing an issue someone else opened (its body, its state)
needs triage access or more. Labels that do not exist yet are created, as GitHub does for a
caller with push access.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .graphql_api import node_id
from .model import FakeRepo, iso, stable_id
from .rest_json import WEB, Json, account_json
from .rest_writes import Refusal, WriteContext, now

ISSUE_OPERATIONS: tuple[tuple[str, str, frozenset[str]], ...] = (
    ("GET", "/repos/{owner}/{repo}/issues", frozenset()),
    ("POST", "/repos/{owner}/{repo}/issues", frozenset()),
    ("GET", "/repos/{owner}/{repo}/issues/{issue_number}", frozenset()),
    ("PATCH", "/repos/{owner}/{repo}/issues/{issue_number}", frozenset()),
    ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments", frozenset()),
)
TRIAGE_LEVELS = frozenset({"triage", "write", "maintain", "admin"})


@dataclass
class FakeComment:
    id: int
    body: str
    user: str
    user_id: int
    created_at: datetime


@dataclass
class FakeIssue:
    number: int
    title: str
    body: str | None
    user: str
    user_id: int
    created_at: datetime
    updated_at: datetime
    labels: list[str] = field(default_factory=list)
    state: str = "open"
    state_reason: str | None = None
    closed_at: datetime | None = None
    comments: list[FakeComment] = field(default_factory=list)


def issues_of(repo: FakeRepo) -> list[FakeIssue]:
    """The repository's issues (kept on the repository object, made on first use)."""
    found: list[FakeIssue] = repo.__dict__.setdefault("_fake_issues", [])
    return found


def find_issue(repo: FakeRepo, number: str) -> FakeIssue | None:
    if not number.isdigit():
        return None
    return next((i for i in issues_of(repo) if i.number == int(number)), None)


def issue_json(ctx: WriteContext, issue: FakeIssue) -> Json:
    url = f"{ctx.base}/issues/{issue.number}"
    data: Json = {
        "id": stable_id("issue", ctx.repo.full_name, str(issue.number)),
        "node_id": node_id("Issue", f"{ctx.repo.id}:{issue.number}"),
        "url": url,
        "repository_url": ctx.base,
        "labels_url": f"{url}/labels{{/name}}",
        "comments_url": f"{url}/comments",
        "events_url": f"{url}/events",
        "html_url": f"{WEB}/{ctx.repo.full_name}/issues/{issue.number}",
        "number": issue.number,
        "state": issue.state,
        "title": issue.title,
        "body": issue.body,
        "user": account_json(ctx.api, issue.user, issue.user_id, "User"),
        "labels": [_label_json(ctx, name) for name in issue.labels],
        "assignee": None,
        "assignees": [],
        "milestone": None,
        "locked": False,
        "active_lock_reason": None,
        "comments": len(issue.comments),
        "closed_at": iso(issue.closed_at) if issue.closed_at else None,
        "created_at": iso(issue.created_at),
        "updated_at": iso(issue.updated_at),
        "author_association": "MEMBER",
    }
    return _with_reason(data, issue.state_reason)


def _with_reason(data: Json, reason: str | None) -> Json:
    # The description's enum does not list null although GitHub sends it: left out when none.
    if reason is not None:
        data["state_reason"] = reason
    return data


def comment_json(ctx: WriteContext, issue: FakeIssue, comment: FakeComment) -> Json:
    return {
        "id": comment.id,
        "node_id": node_id("IssueComment", comment.id),
        "url": f"{ctx.base}/issues/comments/{comment.id}",
        "html_url": f"{WEB}/{ctx.repo.full_name}/issues/{issue.number}#issuecomment-{comment.id}",
        "issue_url": f"{ctx.base}/issues/{issue.number}",
        "body": comment.body,
        "user": account_json(ctx.api, comment.user, comment.user_id, "User"),
        "created_at": iso(comment.created_at),
        "updated_at": iso(comment.created_at),
        "author_association": "MEMBER",
    }


def _label_json(ctx: WriteContext, name: str) -> Json:
    number = stable_id("label", ctx.repo.full_name, name)
    return {
        "id": number,
        "node_id": node_id("Label", number),
        "url": f"{ctx.base}/labels/{name}",
        "name": name,
        "description": None,
        "color": "d73a4a",
        "default": False,
    }


def list_issues(ctx: WriteContext, query: dict[str, Any]) -> list[Json]:
    """Newest first, like GitHub; filtered by state (default open) and labels (all of them)."""
    state = query.get("state", "open")
    wanted = [w.strip() for w in str(query.get("labels", "")).split(",") if w.strip()]
    found = [
        i
        for i in issues_of(ctx.repo)
        if (state == "all" or i.state == state) and all(w in i.labels for w in wanted)
    ]
    found.sort(key=lambda i: (i.created_at, i.number), reverse=True)
    return [issue_json(ctx, i) for i in found]


def create_issue(ctx: WriteContext, body: dict[str, Any], push: bool = True) -> FakeIssue:
    title = body.get("title")
    if not isinstance(title, str) or not title.strip():
        raise Refusal(422, "Validation Failed: title is missing")
    # GitHub silently drops the labels of a caller without push access.
    labels = [str(x) for x in body.get("labels") or [] if isinstance(x, str)] if push else []
    moment = now()
    taken = [i.number for i in issues_of(ctx.repo)] + [p.number for p in ctx.repo.pulls]
    issue = FakeIssue(
        number=max(taken, default=0) + 1,
        title=title,
        body=body.get("body"),
        user=ctx.login,
        user_id=ctx.user_id,
        created_at=moment,
        updated_at=moment,
        labels=labels,
    )
    issues_of(ctx.repo).append(issue)
    return issue


def update_issue(ctx: WriteContext, issue: FakeIssue, body: dict[str, Any], triage: bool) -> None:
    if issue.user != ctx.login and not triage:
        raise Refusal(403, "Must have triage access to change this issue.")
    if isinstance(body.get("title"), str):
        issue.title = body["title"]
    if "body" in body:
        issue.body = body["body"]
    if isinstance(body.get("labels"), list):
        issue.labels = [str(x) for x in body["labels"] if isinstance(x, str)]
    state = body.get("state")
    moment = now()
    if state in ("open", "closed") and state != issue.state:
        issue.state = state
        issue.closed_at = moment if state == "closed" else None
        issue.state_reason = body.get("state_reason") or (
            "completed" if state == "closed" else "reopened"
        )
    issue.updated_at = moment


def add_comment(ctx: WriteContext, issue: FakeIssue, body: dict[str, Any]) -> FakeComment:
    text = body.get("body")
    if not isinstance(text, str) or not text:
        raise Refusal(422, "Validation Failed: body is missing")
    moment = now()
    comment = FakeComment(
        id=stable_id("comment", ctx.repo.full_name, str(issue.number), str(len(issue.comments))),
        body=text,
        user=ctx.login,
        user_id=ctx.user_id,
        created_at=moment,
    )
    issue.comments.append(comment)
    issue.updated_at = moment
    return comment
