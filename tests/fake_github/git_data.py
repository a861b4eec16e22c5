"""Git objects, refs and history of a fake repository, for the Git Data API.

The default branch's head is built from the repository's `files` (see GitSnapshot); everything
written through the API (blobs, trees, commits, other branches) lives in `repo.git_objects` and
`repo.branches`. The default branch itself is never moved by the API: a fix arrives by a pull
request, so a scan of the default branch is unchanged until someone merges it.
"""

from __future__ import annotations

from .model import (
    FakeCommit,
    FakeRepo,
    GitBlob,
    GitObject,
    GitSnapshot,
    GitTree,
)

MAX_HISTORY = 10_000  # commits walked when checking a fast-forward


def head_commit(repo: FakeRepo, snapshot: GitSnapshot) -> FakeCommit:
    """The default branch's head as a commit object (the fake keeps no earlier history)."""
    return FakeCommit(
        oid=snapshot.commit_oid,
        tree=snapshot.root,
        parents=(),
        message=f"Update {repo.name}\n",
        author_name="Fake Dev",
        author_email="dev@example.org",
        when=repo.head_date,
    )


def find_object(repo: FakeRepo, oid: str) -> GitObject | FakeCommit | None:
    """Any object of the repository by its full id."""
    stored = repo.git_objects.get(oid)
    if stored is not None:
        return stored
    snapshot = repo.git()
    if snapshot is None:
        return None
    if oid == snapshot.commit_oid:
        return head_commit(repo, snapshot)
    for obj in snapshot.objects.values():
        if obj.oid == oid:
            return obj
    return None


def find_commit(repo: FakeRepo, oid: str) -> FakeCommit | None:
    found = find_object(repo, oid)
    return found if isinstance(found, FakeCommit) else None


def find_tree(repo: FakeRepo, oid: str) -> GitTree | None:
    found = find_object(repo, oid)
    return found if isinstance(found, GitTree) else None


def find_blob(repo: FakeRepo, oid: str) -> GitBlob | None:
    found = find_object(repo, oid)
    return found if isinstance(found, GitBlob) else None


def branch_head(repo: FakeRepo, branch: str) -> str | None:
    """The commit a branch points at, or None when there is no such branch."""
    snapshot = repo.git()
    if snapshot is not None and branch == repo.default_branch:
        return snapshot.commit_oid
    return repo.branches.get(branch)


def resolve_commitish(repo: FakeRepo, name: str) -> FakeCommit | None:
    """A commit named by its id, a branch name or refs/heads/<branch>."""
    branch = name.removeprefix("refs/heads/")
    oid = branch_head(repo, branch) or name
    return find_commit(repo, oid)


def is_ancestor(repo: FakeRepo, ancestor: str, descendant: str) -> bool:
    """Whether `ancestor` is reachable from `descendant` (a fast-forward check)."""
    seen: set[str] = set()
    pending = [descendant]
    while pending and len(seen) < MAX_HISTORY:
        oid = pending.pop()
        if oid == ancestor:
            return True
        if oid in seen:
            continue
        seen.add(oid)
        commit = find_commit(repo, oid)
        if commit is not None:
            pending.extend(commit.parents)
    return False


def commits_between(repo: FakeRepo, base: str, head: str) -> int:
    """Commits reachable from `head` but not from `base` (a pull request's commit count)."""
    reachable_from_base: set[str] = set()
    pending = [base]
    while pending and len(reachable_from_base) < MAX_HISTORY:
        oid = pending.pop()
        if oid in reachable_from_base:
            continue
        reachable_from_base.add(oid)
        commit = find_commit(repo, oid)
        if commit is not None:
            pending.extend(commit.parents)
    count = 0
    seen: set[str] = set()
    pending = [head]
    while pending and len(seen) < MAX_HISTORY:
        oid = pending.pop()
        if oid in seen or oid in reachable_from_base:
            continue
        seen.add(oid)
        count += 1
        commit = find_commit(repo, oid)
        if commit is not None:
            pending.extend(commit.parents)
    return count


def store(repo: FakeRepo, *objects: GitObject | FakeCommit) -> None:
    for obj in objects:
        repo.git_objects[obj.oid] = obj
