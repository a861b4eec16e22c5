"""A branch, a commit and a pull request with the generated files, through GitHub's Git Data API
(no clone): the blobs and a tree on the default branch's tree -> a commit ->
`refs/heads/secposture/fix` -> the pull request; four writes for a new pull request.

Idempotent: an open pull request from `secposture/fix` is found first. When its branch already
holds every generated file and its description is the one we would write, nothing is written
("unchanged"); otherwise a new commit goes on top of the branch (merging the default branch in
when it has moved, so the pull request shows only our changes) and the description is updated.
The reads that decide this are made in a dry run too, so it reports exactly what a real run would
do without writing anything.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from secposture.errors import SecpostureError
from secposture.fix.interface import FileChange
from secposture.sources.github.transport import GitHubClient, RestResponse

BRANCH = "secposture/fix"
REF = f"refs/heads/{BRANCH}"
TITLE = "secposture: add what the security baseline needs"
MARKER = "<!-- secposture:fix -->"  # marks the description as ours, for people and tools
SECURITY_IN_OUR_PROCESS = (
    "https://docs.opg.service.justice.gov.uk/documentation/guides/security_process.html"
)
_CITES_PROCESS = re.compile(r"(?:^|\s)(?:1[01]|[1-9])\. |Security in our Process")
MAX_BODY_CHARS = 60_000  # GitHub refuses descriptions over 65,536 characters
FILE_MODES = {0o100644: "100644", 0o100755: "100755"}
REFUSED = (403, 404, 409, 422)
NEEDS_WRITE = (
    "needs write access to the repository's contents and pull requests (a token with the repo "
    "scope or Contents and Pull requests: write, or a GitHub App with those permissions)"
)

OPENED = "opened"
UPDATED = "updated"
UNCHANGED = "unchanged"
WOULD_OPEN = "would-open"
WOULD_UPDATE = "would-update"


class PublishError(SecpostureError):
    """GitHub refused a step of opening or updating the pull request; says which and why."""


@dataclass(frozen=True)
class FixTarget:
    """Where the changes go: the repository, its default branch, and the commit of that branch
    the changes were planned on."""

    owner: str
    name: str
    default_branch: str
    base_commit: str
    modes: Mapping[str, int]  # the file modes of existing files (an executable stays one)

    @property
    def path(self) -> str:
        return f"/repos/{quote(self.owner, safe='')}/{quote(self.name, safe='')}"


@dataclass(frozen=True)
class OpenPull:
    number: int
    url: str | None
    head_sha: str
    body: str


@dataclass(frozen=True)
class Published:
    action: str  # OPENED | UPDATED | UNCHANGED | WOULD_OPEN | WOULD_UPDATE
    url: str | None
    detail: str


def publish(
    client: GitHubClient,
    target: FixTarget,
    changes: Sequence[FileChange],
    *,
    dry_run: bool,
    notes: Sequence[str] = (),
) -> Published:
    """Open the pull request, or bring the open one up to date; raises PublishError (or another
    SecpostureError) when GitHub refuses or fails a step. `notes` are said in the description
    (what was left out of it, and why)."""
    body = pull_request_body(changes, notes)
    existing = find_open_pull(client, target)
    if existing is None:
        if dry_run:
            return Published(WOULD_OPEN, None, f"a new pull request with {_count(changes)}")
        return _open(client, target, changes, body)
    held = _tree_blobs(client, target, existing.head_sha)
    files_current = holds_all(held, changes)
    body_current = _normalised(existing.body) == _normalised(body)
    if files_current and body_current:
        return Published(UNCHANGED, existing.url, f"pull request #{existing.number} is up to date")
    stale = [] if files_current else ["files"]
    stale += [] if body_current else ["description"]
    reason = f"pull request #{existing.number}: {' and '.join(stale)} out of date"
    tip = None if files_current else _commit(client, target, existing.head_sha)
    if tip is not None and not _is_ours(tip):
        # Someone has worked on the branch: their edits are not ours to overwrite.
        return Published(
            UNCHANGED,
            existing.url,
            f"{reason}, but the branch has commits by someone else since secposture's; left "
            "as it is (merge or close the pull request, and the next run opens a new one)",
        )
    if dry_run:
        return Published(WOULD_UPDATE, existing.url, reason)
    if tip is not None:
        parents = _parents_on_top(target, existing.head_sha, tip)
        commit = write_commit(client, target, changes, parents, held or {})
        ref = f"{target.path}/git/refs/heads/{BRANCH}"
        _call(client, "PATCH", ref, {"sha": commit, "force": False})
    if not body_current:
        _call(client, "PATCH", f"{target.path}/pulls/{existing.number}", {"body": body})
    return Published(UPDATED, existing.url, f"{reason}; updated")


def find_open_pull(client: GitHubClient, target: FixTarget) -> OpenPull | None:
    """The open pull request from secposture/fix of this repository, if any."""
    params = {"head": f"{target.owner}:{BRANCH}", "state": "open"}
    response = client.rest_get(f"{target.path}/pulls", params, allow=(404,))
    if response.status == 404 or not isinstance(response.json, list):
        raise PublishError(
            f"{target.owner}/{target.name}: cannot list pull requests (not found, or not "
            "visible to this token)"
        )
    for item in response.json:
        if not isinstance(item, Mapping):
            continue
        head = item.get("head")
        number = item.get("number")
        if not isinstance(head, Mapping) or head.get("ref") != BRANCH:
            continue
        if not isinstance(number, int) or not isinstance(head.get("sha"), str):
            continue
        url = item.get("html_url")
        text = item.get("body")
        return OpenPull(
            number=number,
            url=url if isinstance(url, str) else None,
            head_sha=str(head["sha"]),
            body=text if isinstance(text, str) else "",
        )
    return None


def holds_all(blobs: Mapping[str, str] | None, changes: Sequence[FileChange]) -> bool:
    """Whether a branch's files (path -> blob id) already have every generated text; compared
    by Git blob id, so no file is downloaded. None (a listing too large) counts as not."""
    return blobs is not None and all(blobs.get(c.path) == blob_id(c.after) for c in changes)


def write_commit(
    client: GitHubClient,
    target: FixTarget,
    changes: Sequence[FileChange],
    parents: Sequence[str],
    held: Mapping[str, str] | None = None,
) -> str:
    """The files' blobs and a tree on the default branch's tree (one request), then a commit;
    returns the commit's id.

    Each new text goes in the tree request's `content`, from which GitHub writes the blob: two
    writes whatever the number of files, where a POST /git/blobs per file would spend GitHub's
    allowance of content-creating requests (about 80 a minute, 500 an hour) several times
    faster across an estate. A blob the branch already holds (`held`: path -> blob id) is
    referred to by its id."""
    held = held or {}
    base_tree = _commit_tree(client, target, target.base_commit)
    entries: list[dict[str, str]] = []
    for change in changes:
        mode = FILE_MODES.get(target.modes.get(change.path, 0o100644), "100644")
        entry = {"path": change.path, "mode": mode, "type": "blob"}
        sha = blob_id(change.after)
        if held.get(change.path) == sha:
            entry["sha"] = sha
        else:
            entry["content"] = change.after
        entries.append(entry)
    tree = _call(
        client, "POST", f"{target.path}/git/trees", {"base_tree": base_tree, "tree": entries}
    )
    commit = _call(
        client,
        "POST",
        f"{target.path}/git/commits",
        {
            "message": commit_message(changes),
            "tree": _field(tree, "tree", "sha"),
            "parents": list(parents),
        },
    )
    return _field(commit, "commit", "sha")


def _open(
    client: GitHubClient, target: FixTarget, changes: Sequence[FileChange], body: str
) -> Published:
    commit = write_commit(client, target, changes, [target.base_commit])
    left_over = client.rest_get(f"{target.path}/git/ref/heads/{BRANCH}", allow=(404, 409))
    if left_over.status == 200:
        # The branch of a pull request closed earlier: start it again from the default branch.
        _call(
            client,
            "PATCH",
            f"{target.path}/git/refs/heads/{BRANCH}",
            {"sha": commit, "force": True},
        )
    else:
        _call(client, "POST", f"{target.path}/git/refs", {"ref": REF, "sha": commit})
    pull = _call(
        client,
        "POST",
        f"{target.path}/pulls",
        {
            "title": TITLE,
            "head": BRANCH,
            "base": target.default_branch,
            "body": body,
            "maintainer_can_modify": True,
        },
    )
    url = pull.get("html_url") if isinstance(pull, Mapping) else None
    number = pull.get("number") if isinstance(pull, Mapping) else None
    return Published(
        OPENED,
        url if isinstance(url, str) else None,
        f"pull request #{number} with {_count(changes)}",
    )


def _parents_on_top(target: FixTarget, tip_sha: str, tip: Mapping[str, Any]) -> list[str]:
    """The new commit goes on top of the branch; when the default branch has moved since, it
    is merged in as a second parent, so the pull request shows only the generated changes."""
    parents = tip.get("parents")
    shas = {p.get("sha") for p in parents or [] if isinstance(p, Mapping)}
    if tip_sha == target.base_commit or target.base_commit in shas:
        return [tip_sha]
    return [tip_sha, target.base_commit]


def _commit(client: GitHubClient, target: FixTarget, sha: str) -> Mapping[str, Any]:
    answer = _get(client, f"{target.path}/git/commits/{sha}")
    if not isinstance(answer, Mapping):
        raise PublishError(f"GitHub's answer for commit {sha[:12]} is not a commit")
    return answer


def _is_ours(commit: Mapping[str, Any]) -> bool:
    """A commit secposture wrote (its message starts with our title)."""
    message = commit.get("message")
    return isinstance(message, str) and message.startswith(TITLE)


def _commit_tree(client: GitHubClient, target: FixTarget, commit: str) -> str:
    return _field(_commit(client, target, commit), "commit", "tree", "sha")


def _tree_blobs(client: GitHubClient, target: FixTarget, commit: str) -> dict[str, str] | None:
    """Path -> blob id of every file in a commit's tree; None when GitHub truncated the list."""
    answer = _get(client, f"{target.path}/git/trees/{commit}", {"recursive": "1"})
    entries = answer.get("tree") if isinstance(answer, Mapping) else None
    if not isinstance(entries, list) or answer.get("truncated"):
        return None
    blobs: dict[str, str] = {}
    for entry in entries:
        if isinstance(entry, Mapping) and entry.get("type") == "blob":
            path, sha = entry.get("path"), entry.get("sha")
            if isinstance(path, str) and isinstance(sha, str):
                blobs[path] = sha
    return blobs


def blob_id(text: str) -> str:
    """The Git blob id GitHub gives `text` stored as UTF-8 (as the blobs are created)."""
    data = text.encode("utf-8", "surrogatepass")
    header = f"blob {len(data)}\0".encode()
    return hashlib.sha1(header + data, usedforsecurity=False).hexdigest()


# -- workflow files ------------------------------------------------------------------------------

WORKFLOWS_DIR = ".github/workflows/"


@dataclass(frozen=True)
class WorkflowAccess:
    """Whether the credentials may push changes to .github/workflows/ (GitHub refuses them from a
    classic token without the `workflow` scope, or an App without `workflows: write`); None when
    that cannot be told before trying (a fine-grained token), with why for people."""

    allowed: bool | None
    why: str = ""


def touches_workflows(change: FileChange) -> bool:
    return change.path.startswith(WORKFLOWS_DIR)


def workflow_access(client: GitHubClient, target: FixTarget) -> WorkflowAccess:
    """Read before anything is pushed: an App's installation permissions (given with its
    token), or a classic token's scopes (X-OAuth-Scopes on any answer)."""
    from secposture.sources.github.auth import AppCredentials

    credentials = client.credentials
    if isinstance(credentials, AppCredentials):
        credentials.bearer(client)  # minted once: GitHub says what it may do with the token
        granted = credentials.permissions
        if granted is None:
            return WorkflowAccess(None, f"{credentials.source}'s permissions were not given")
        if granted.get("workflows") == "write":
            return WorkflowAccess(True)
        return WorkflowAccess(
            False,
            f"{credentials.source} lacks the `workflows: write` permission, which GitHub "
            "requires to change files in .github/workflows/",
        )
    response = client.rest_get(target.path, allow=(403, 404))
    scopes = response.headers.get("x-oauth-scopes")
    if scopes is None:
        return WorkflowAccess(
            None,
            "the token's permissions cannot be read in advance (a fine-grained token needs "
            "Workflows: write)",
        )
    listed = [s.strip() for s in scopes.split(",") if s.strip()]
    if "workflow" in listed:
        return WorkflowAccess(True)
    return WorkflowAccess(
        False,
        "the token lacks the `workflow` scope, which GitHub requires to change files in "
        f".github/workflows/ (its scopes: {', '.join(listed) or 'none'})",
    )


def refused_workflows(exc: SecpostureError) -> bool:
    """Whether GitHub refused a push because it changes workflow files."""
    text = str(exc).lower()
    return "refusing to allow" in text and "workflow" in text


# -- text ----------------------------------------------------------------------------------------


def commit_message(changes: Sequence[FileChange]) -> str:
    lines = [TITLE, ""]
    for change in changes:
        controls = ", ".join(_controls(change))
        lines.append(f"- {change.path} {change.verb} ({controls}): {_one_line(change.summary)}")
    return "\n".join(lines) + "\n"


def pull_request_body(changes: Sequence[FileChange], notes: Sequence[str] = ()) -> str:
    """Per change: the controls, what and why, and the guidance with its link; bounded to
    GitHub's limit (the commit message lists every change in any case). `notes` come first,
    after the table: what is not in the pull request, and why."""
    head = [
        "This pull request was opened by secposture. It adds what the failing controls of the "
        "security baseline need; each change below says which control it is for, what it does "
        "and why, and the guidance behind it. Review it like any other change: edit the files "
        "on this branch, or close the pull request to leave things as they are.",
        "",
        "| File | Change | Controls |",
        "| --- | --- | --- |",
    ]
    head += [
        f"| `{_code(c.path)}` | {c.verb} | {', '.join(f'`{_code(k)}`' for k in _controls(c))} |"
        for c in changes
    ]
    head += [""] + [f"> **Not included:** {_one_line(note)}" for note in notes] if notes else []
    sections = [_section(c) for c in changes]
    tail = ["", "After merging, `secposture scan` shows the controls passing.", "", MARKER]
    body = "\n".join([*head, "", *sections, *tail])
    if len(body) <= MAX_BODY_CHARS:
        return body
    kept: list[str] = []
    size = len("\n".join([*head, *tail])) + 200
    for section in sections:
        if size + len(section) > MAX_BODY_CHARS:
            break
        kept.append(section)
        size += len(section) + 1
    note = f"_{len(sections) - len(kept)} more change(s) are described in the commit message._"
    return "\n".join([*head, "", *kept, note, *tail])


def _section(change: FileChange) -> str:
    controls = ", ".join(f"`{_code(k)}`" for k in _controls(change))
    lines = [f"### `{_code(change.path)}` ({change.verb})", "", f"For {controls}.", ""]
    lines.append(change.summary.strip())
    guidance = " ".join(change.guidance.split())
    if guidance:
        lines += ["", f"Guidance: {guidance}{guidance_links(guidance)}"]
    return "\n".join(lines) + "\n"


def guidance_links(guidance: str) -> str:
    """Links for a guidance text: its own URLs, and the Security in our Process page for a
    numbered line of it (the controls' guidance cites those lines by number)."""
    links = [word.rstrip(".,;)") for word in guidance.split() if word.startswith("https://")]
    if _CITES_PROCESS.search(guidance):
        links.append(SECURITY_IN_OUR_PROCESS)
    unique = list(dict.fromkeys(links))
    return "".join(f" <{link}>" for link in unique) if unique else ""


def _controls(change: FileChange) -> tuple[str, ...]:
    return change.controls or (change.control,)


def _code(text: str) -> str:
    """Text safe inside a Markdown code span in a table cell (a path may hold anything)."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text)
    return cleaned.replace("`", "'").replace("|", "\\|")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _printable(text: str, limit: int = 300) -> str:
    """A server's message made safe for one terminal line."""
    return _one_line("".join(ch if ch.isprintable() else " " for ch in text))[:limit]


def _count(changes: Sequence[FileChange]) -> str:
    return f"{len(changes)} file{'s' if len(changes) != 1 else ''}"


def _normalised(text: str) -> str:
    return text.replace("\r\n", "\n").strip()


# -- calls ---------------------------------------------------------------------------------------


def _get(client: GitHubClient, path: str, params: Mapping[str, str] | None = None) -> Any:
    response = client.rest_get(path, params, allow=REFUSED)
    if response.status >= 300:
        raise PublishError(_refusal("GET", path, response))
    return response.json


def _call(client: GitHubClient, method: str, path: str, body: Mapping[str, Any]) -> Any:
    response = client.rest(method, path, dict(body), allow=REFUSED)
    if response.status >= 300:
        raise PublishError(_refusal(method, path, response))
    return response.json


def _refusal(method: str, path: str, response: RestResponse) -> str:
    body = response.json
    message = body.get("message") if isinstance(body, Mapping) else None
    said = _printable(message) if isinstance(message, str) else ""
    detail = f": {said}" if said else ""
    if response.status in (403, 404) and "archived" not in said.lower():
        return f"{method} {path}: {response.status}{detail}; {NEEDS_WRITE}"
    return f"{method} {path}: GitHub refused ({response.status}{detail})"


def _field(answer: Any, what: str, *keys: str) -> str:
    """The string at answer[keys[0]][keys[1]]... in GitHub's answer about `what`."""
    value: Any = answer
    for key in keys:
        value = value.get(key) if isinstance(value, Mapping) else None
    if not isinstance(value, str) or not value:
        raise PublishError(f"GitHub's answer for the new {what} has no {'.'.join(keys)}")
    return value
