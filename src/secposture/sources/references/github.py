"""Files of other repositories read from GitHub, in batched GraphQL rounds (ADR 0014).

One `ReferenceStore` serves a whole run: in an organisation scan each distinct (repository, ref,
path) is fetched once for the estate, however many repositories call it, and every tag a run
meets names one commit for the whole run. Repositories ask through a `GitHubReferences` reader:

- deferred (`scan --org`, `scan OWNER/REPO`): what is not fetched yet is PENDING; the fetcher
  fetches every repository's wanted references in one query per round, inside its content
  rounds, and scans the repositories that asked again (sources/github/fetch.py).
- eager (a checkout): a lookup that misses fetches at once, with whatever else is wanted.

When a fetched file is itself a workflow or action, `discover` names the references inside it,
which are fetched in the next round without waiting for a scan to ask (up to `max_depth`).
Answers are hostile like a repository's files: size from `byteSize` and `isTruncated`, binary
refused, text decoded with the checks every file gets. A cache, when given, is read first and
filled with what was fetched.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from secposture.sources.github import queries
from secposture.sources.github.transport import (
    GitHubClient,
    GitHubError,
    GitHubUnreachable,
    GraphQLTooLarge,
    RunBudgetExhausted,
)
from secposture.sources.interface import (
    DEFAULT_MAX_FILE_BYTES,
    UnreadableFile,
    decode_text,
    too_large,
)
from secposture.sources.references.cache import ReferenceCache
from secposture.sources.references.interface import (
    ABSENT,
    PENDING,
    READ,
    UNREAD,
    Fetched,
    Reference,
    ReferenceReader,
)

GROUPS_PER_QUERY = 50  # (repository, ref) pairs per query
FILES_PER_QUERY = 150  # files per query: references are small, a few KiB each
MAX_FILES = 5_000  # distinct referenced files one run reads
MAX_DEPTH = 4

Discover = Callable[[Reference, str], Iterable[Reference]]


class ReferenceStore:
    def __init__(
        self,
        client: GitHubClient,
        cache: ReferenceCache | None = None,
        *,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        discover: Discover | None = None,
        max_depth: int = MAX_DEPTH,
        max_files: int = MAX_FILES,
    ) -> None:
        self.client = client
        self.cache = cache
        self.max_file_bytes = max_file_bytes
        self.discover = discover
        self.max_depth = max_depth
        self.max_files = max_files
        self.fetched_files = 0  # asked of GitHub in this run
        self._done: dict[Reference, Fetched] = {}
        self._wanted: dict[Reference, int] = {}  # -> depth
        self._commits: dict[tuple[str, str], str | None] = {}
        self._lock = threading.RLock()
        self.unreachable = ""  # GitHub could not be reached: nothing more is asked of it

    # -- lookups ----------------------------------------------------------------------------

    def get(self, ref: Reference) -> Fetched | None:
        """What is known of `ref` in this run or from the cache; None: not fetched yet."""
        with self._lock:
            done = self._done.get(ref)
            if done is not None:
                return done
            if self.cache is None:
                return None
            commit = self._commit(ref)
            if commit is None:
                return None
            held = self.cache.file(ref.repo, commit, ref.path)
            if held is None:
                return None
            state, text = held
            found = Fetched(ref, state, text=text, commit=commit)
            self._done[ref] = found
            return found

    def known(self, ref: Reference) -> bool:
        with self._lock:
            return ref in self._done

    def _commit(self, ref: Reference) -> str | None:
        if ref.pinned:
            return ref.ref
        key = (ref.repo, ref.ref)
        if key in self._commits:
            return self._commits[key]
        commit = self.cache.commit_for(ref.repo, ref.ref) if self.cache is not None else None
        if commit is not None:
            self._commits[key] = commit
        return commit

    def want(self, refs: Iterable[Reference], depth: int = 0) -> None:
        with self._lock:
            for ref in refs:
                if ref not in self._done:
                    self._wanted[ref] = min(depth, self._wanted.get(ref, depth))

    def pending(self) -> bool:
        with self._lock:
            return bool(self._wanted)

    # -- fetching ---------------------------------------------------------------------------

    def fetch(self) -> bool:
        """One round: every wanted reference, batched. False when nothing was wanted."""
        with self._lock:
            wanted = {r: d for r, d in self._wanted.items() if r not in self._done}
            self._wanted.clear()
            for ref in list(wanted):
                if self.get(ref) is not None:  # the cache holds it after all
                    del wanted[ref]
            room = max(self.max_files - self.fetched_files, 0)
            over = sorted(wanted)[room:]
            for ref in over:
                del wanted[ref]
                self._done[ref] = Fetched(
                    ref,
                    UNREAD,
                    why=f"this run's limit of {self.max_files:,} referenced files was reached",
                    how="scan fewer repositories at once",
                )
            self.fetched_files += len(wanted)
        if not wanted:
            return bool(over)
        if self.unreachable:
            self._fail([sorted(wanted)], self.unreachable, "scan again when GitHub can be reached")
            return True
        groups: dict[tuple[str, str], list[Reference]] = {}
        for ref in sorted(wanted):
            groups.setdefault((ref.repo, ref.ref), []).append(ref)
        chunks = [
            g[i : i + FILES_PER_QUERY]
            for g in groups.values()
            for i in range(0, len(g), FILES_PER_QUERY)
        ]
        for batch in _batches(chunks):
            self._fetch_batch(batch, wanted)
        return True

    def _fetch_batch(self, batch: list[list[Reference]], depths: Mapping[Reference, int]) -> None:
        spec = [(*g[0].repo.split("/", 1), g[0].ref, [r.path for r in g]) for g in batch]
        try:
            result = self.client.graphql(
                queries.references_query(spec),  # type: ignore[arg-type]
                retry_server_errors=False,
            )
        except GraphQLTooLarge:
            if len(batch) > 1:
                half = len(batch) // 2
                self._fetch_batch(batch[:half], depths)
                self._fetch_batch(batch[half:], depths)
                return
            self._fail(batch, "GitHub could not answer in time", "scan again later")
            return
        except RunBudgetExhausted as exc:
            self._fail(batch, str(exc), "scan fewer repositories at once")
            return
        except GitHubUnreachable as exc:
            self.unreachable = f"GitHub ({exc.host}) could not be reached"
            self._fail(batch, self.unreachable, "scan again when GitHub can be reached")
            return
        except GitHubError as exc:
            self._fail(batch, f"GitHub refused: {exc}", "check the token and scan again")
            return
        data = result.data or {}
        errors = _errors_by_alias(result.errors)
        for i, group in enumerate(batch):
            self._store_group(group, data.get(f"x{i}"), errors.get(f"x{i}", []), depths)

    def _fail(self, batch: list[list[Reference]], why: str, how: str) -> None:
        with self._lock:
            for group in batch:
                for ref in group:
                    self._done[ref] = Fetched(ref, UNREAD, why=why, how=how)

    def _store_group(
        self,
        group: list[Reference],
        answer: object,
        errors: list[Mapping[str, Any]],
        depths: Mapping[Reference, int],
    ) -> None:
        first = group[0]
        if not isinstance(answer, Mapping):
            said = "; ".join(str(e.get("message", ""))[:200] for e in errors[:1])
            why = f"{first.repo} was not found on GitHub, or this token cannot read it" + (
                f" ({said})" if said else ""
            )
            self._fail([group], why, f"scan with a token that can read {first.repo}")
            return
        commit = _commit_oid(answer.get("c"))
        with self._lock:
            if not first.pinned:
                self._commits[(first.repo, first.ref)] = commit
            if commit is None:
                why = f"`{first.ref}` is not a tag, branch or commit of {first.repo}"
                for ref in group:
                    self._done[ref] = Fetched(ref, UNREAD, why=why, how="fix the reference")
                return
            if self.cache is not None and not first.pinned:
                self.cache.remember_commit(first.repo, first.ref, commit)
        for j, ref in enumerate(group):
            found = self._blob(ref, answer.get(f"f{j}"), commit)
            with self._lock:
                self._done[ref] = found
            if self.cache is not None and found.state in (READ, ABSENT):
                self.cache.store_file(ref.repo, commit, ref.path, found.text)
            if found.state == READ and found.text is not None and self.discover is not None:
                depth = depths.get(ref, 0) + 1
                if depth <= self.max_depth:
                    self.want(self.discover(ref, found.text), depth)

    def _blob(self, ref: Reference, blob: object, commit: str) -> Fetched:
        if not isinstance(blob, Mapping):
            return Fetched(ref, ABSENT, commit=commit, why="no such file at that ref")
        size = blob.get("byteSize")
        size = size if isinstance(size, int) else 0
        if blob.get("isBinary"):
            return Fetched(ref, UNREAD, commit=commit, why="is binary, not text", how="")
        if size > self.max_file_bytes or blob.get("isTruncated"):
            why = too_large(size, self.max_file_bytes)
            return Fetched(ref, UNREAD, commit=commit, why=why, how="")
        text = blob.get("text")
        if not isinstance(text, str):
            return Fetched(ref, UNREAD, commit=commit, why="GitHub gave no text for it", how="")
        try:
            clean = decode_text(text.encode("utf-8", "surrogatepass"))
        except UnreadableFile as exc:
            return Fetched(ref, UNREAD, commit=commit, why=str(exc), how="")
        if len(clean.encode("utf-8", "surrogatepass")) > self.max_file_bytes:
            why = too_large(len(clean.encode("utf-8", "surrogatepass")), self.max_file_bytes)
            return Fetched(ref, UNREAD, commit=commit, why=why, how="")
        return Fetched(ref, READ, text=clean, commit=commit)


class GitHubReferences(ReferenceReader):
    """One scan's view of the store. Eager: a miss is fetched at once (a checkout's scan);
    deferred: a miss is PENDING until the fetcher's next round (an estate's scan)."""

    def __init__(self, store: ReferenceStore, *, eager: bool) -> None:
        self.store = store
        self.eager = eager
        self._waiting: set[Reference] = set()

    def read(self, references: Sequence[Reference]) -> list[Fetched]:
        found = [self.store.get(r) for r in references]
        missing = [r for r, f in zip(references, found, strict=True) if f is None]
        if missing:
            self.store.want(missing)
            if self.eager:
                self.store.fetch()
                found = [f or self.store.get(r) for r, f in zip(references, found, strict=True)]
            else:
                self._waiting.update(missing)
        out: list[Fetched] = []
        for ref, got in zip(references, found, strict=True):
            if got is not None:
                out.append(got)
            elif self.eager:
                out.append(Fetched(ref, UNREAD, why="GitHub did not answer for it", how=""))
            else:
                out.append(Fetched(ref, PENDING, why="to be fetched in the next round"))
        return out

    def waiting(self) -> bool:
        self._waiting = {r for r in self._waiting if not self.store.known(r)}
        return bool(self._waiting)


def _commit_oid(node: object) -> str | None:
    if not isinstance(node, Mapping):
        return None
    oid = node.get("oid")
    if oid is None and isinstance(node.get("target"), Mapping):
        oid = node["target"].get("oid")
    if isinstance(oid, str) and len(oid) == 40 and all(c in "0123456789abcdef" for c in oid):
        return oid
    return None


def _batches(groups: list[list[Reference]]) -> list[list[list[Reference]]]:
    out: list[list[list[Reference]]] = []
    current: list[list[Reference]] = []
    files = 0
    for group in groups:
        if current and (len(current) >= GROUPS_PER_QUERY or files + len(group) > FILES_PER_QUERY):
            out.append(current)
            current, files = [], 0
        current.append(group)
        files += len(group)
    if current:
        out.append(current)
    return out


def _errors_by_alias(
    errors: Iterable[Mapping[str, Any]] | None,
) -> dict[str, list[Mapping[str, Any]]]:
    out: dict[str, list[Mapping[str, Any]]] = {}
    for error in errors or ():
        path = error.get("path")
        if isinstance(path, list) and path:
            out.setdefault(str(path[0]), []).append(error)
    return out
