"""A file in another repository at a ref: what a scan asks for when a workflow calls a reusable
workflow or an action of another repository, or a pre-commit config names a hook repository
(docs/adr/0014-following-references-to-other-repositories.md).

Every part of a reference comes from a scanned repository and is hostile: a repository name
that is not OWNER/REPO, a ref with `..`, `~`, `^`, `:` or a control character, a path that
climbs out with `..`, or anything too long is refused here, before any reader builds a query,
a cache key or a message from it. Readers return the text with the same checks as a tracked
file (size, NUL bytes, UTF-8), or say why there is none and what would read it.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Sequence
from dataclasses import dataclass

_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")
_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")
# Git ref names a workflow or config can pin: tags, branches and commit SHAs. Revision syntax
# (`~`, `^`, `@{`, `:`), `..`, spaces and control characters are refused: the ref is written into
# a GraphQL expression, and only a plain name may name what is read.
_REF = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._/+-]{0,254}")
_SHA = re.compile(r"[0-9a-f]{40}")
_PATH_PART = re.compile(r"[^\x00-\x1f\x7f\\:]{1,255}")
MAX_PATH_CHARS = 1000

READ, ABSENT, UNREAD, PENDING = "read", "absent", "unread", "pending"


@dataclass(frozen=True, order=True)
class Reference:
    """`path` in the GitHub repository `repo` ("owner/name", lower case) at `ref` as written."""

    repo: str
    ref: str
    path: str

    @property
    def key(self) -> str:
        """How evidence names the file: `owner/repo@ref:path` (git's REV:PATH, with the repo)."""
        return f"{self.repo}@{self.ref}:{self.path}"

    @property
    def pinned(self) -> bool:
        """The ref is a full commit SHA: what it names never changes."""
        return _SHA.fullmatch(self.ref) is not None


def valid_repo(text: str) -> str | None:
    """`owner/name` in lower case, or None when it is not a GitHub repository name."""
    owner, slash, name = text.partition("/")
    if not slash or not _OWNER.fullmatch(owner) or not _NAME.fullmatch(name):
        return None
    if name in (".", "..") or name.endswith(".git"):
        return None
    return f"{owner}/{name}".lower()


def valid_ref(text: str) -> str | None:
    """The ref when it is a plain tag, branch or SHA; None for revision syntax or odd text."""
    ref = text.strip()
    if not _REF.fullmatch(ref):
        return None
    if ".." in ref or "//" in ref or ref.endswith(("/", ".", ".lock")):
        return None
    # A SHA is written in lower case in keys, so that `ABC…` and `abc…` are one file.
    return ref.lower() if _SHA.fullmatch(ref.lower()) else ref


def valid_path(text: str) -> str | None:
    """A normalised relative path inside the repository, or None (absolute, `..`, control
    characters, backslashes or colons, too long)."""
    if len(text) > MAX_PATH_CHARS or text.startswith("/"):
        return None
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if not parts or any(p == ".." or not _PATH_PART.fullmatch(p) for p in parts):
        return None
    return "/".join(parts)


def reference(repo: str, ref: str, path: str) -> Reference | None:
    """A Reference when all three parts are valid, else None."""
    good_repo, good_ref, good_path = valid_repo(repo), valid_ref(ref), valid_path(path)
    if good_repo is None or good_ref is None or good_path is None:
        return None
    return Reference(good_repo, good_ref, good_path)


@dataclass(frozen=True)
class Fetched:
    """What became of one reference.

    `state`: READ (text holds it), ABSENT (the ref exists and the file does not: a caller may try
    another name), UNREAD (`why` says what stopped it, `how` what would read it) or PENDING (a
    batched reader fetches it in its next round; the scan runs again then)."""

    reference: Reference
    state: str
    text: str | None = None
    commit: str | None = None  # the commit the ref named, when known
    why: str = ""
    how: str = ""


class ReferenceReader(abc.ABC):
    """Reads files of other repositories for one scan."""

    @abc.abstractmethod
    def read(self, references: Sequence[Reference]) -> list[Fetched]:
        """One answer per reference, in order. Candidates of one lookup (action.yml and
        action.yaml) are asked together, so a batched reader fetches them in one round."""

    def waiting(self) -> bool:
        """Whether something asked for is still to be fetched (the scan is then run again)."""
        return False
