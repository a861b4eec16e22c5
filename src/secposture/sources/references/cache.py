"""An on-disk cache of files read from other repositories, so that repeated checkout scans (and
`--offline` ones) need not ask GitHub again.

Files are kept by commit SHA: what a SHA names never changes. A tag or branch is remembered as
the SHA it named, for `ttl_s` (an hour) when GitHub can be asked again, and as long as it is
kept when it cannot (`--offline`, no token): the report then rests on what the cache holds.

The cache is the user's (`$XDG_CACHE_HOME/secposture/references`, else
`~/.cache/secposture/references`), private (0700 folders, 0600 files) and refused when it is not:
a folder that is a link, or that another user owns or can write, could feed a scan anything.
Its entries are hostile too: each is named by a hash of what it holds (nothing from a reference
becomes a path), opened without following links, size-checked before it is read, checked
against its own name's fields, and its text gets the checks of a tracked file. Entries are
bounded in number and bytes; the oldest are removed first.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from secposture.sources.interface import (
    DEFAULT_MAX_FILE_BYTES,
    UnreadableFile,
    decode_text,
)
from secposture.sources.references.interface import (
    ABSENT,
    READ,
    UNREAD,
    Fetched,
    Reference,
    ReferenceReader,
)

TTL_S = 3600.0
MAX_ENTRIES = 10_000
MAX_BYTES = 256 * 1024 * 1024
_VERSION = 1
_OVERHEAD = 4096  # JSON around a text, and its escapes, beyond the text's own bytes


def default_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or ""
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".cache"
    return root / "secposture" / "references"


class CacheUnusable(Exception):
    """The cache folder is not private to this user: it is not used (the message says why)."""


def _private_dir(path: Path) -> None:
    """Make `path` (0700) if missing; refuse one that is a link, not ours, or open to others."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.lstat(path)
    except OSError as exc:
        raise CacheUnusable(f"{path}: {exc.strerror or exc}") from None
    if not stat.S_ISDIR(info.st_mode):
        raise CacheUnusable(f"{path} is not a folder (a link is not followed)")
    if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
        raise CacheUnusable(f"{path} belongs to another user")
    if info.st_mode & 0o077:
        try:
            os.chmod(path, 0o700)  # ours: made private rather than refused
        except OSError as exc:
            raise CacheUnusable(f"{path} is open to other users: {exc.strerror}") from None


def _name(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


class ReferenceCache:
    """The cache of one GitHub host (its files and refs never mix with another host's)."""

    def __init__(
        self,
        root: Path,
        host: str,
        *,
        ttl_s: float = TTL_S,
        max_entries: int = MAX_ENTRIES,
        max_bytes: int = MAX_BYTES,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.root = root
        self.host = host.lower()
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_file_bytes = max_file_bytes
        self.clock = clock
        self._lock = threading.Lock()
        for folder in (root, root / "files", root / "refs"):
            _private_dir(folder)
        self._measured = False  # entries are counted at the first write, not on every scan
        self._count = self._bytes = 0

    # -- refs -------------------------------------------------------------------------------

    def commit_for(self, repo: str, ref: str, *, stale_ok: bool = False) -> str | None:
        """The SHA `ref` named when last asked; None when unknown or older than the TTL (unless
        `stale_ok`: nothing can be asked, so what is kept is the best there is)."""
        entry = self._load(self.root / "refs" / _name(self.host, repo, ref), 4096)
        if entry is None or (entry.get("host"), entry.get("repo"), entry.get("ref")) != (
            self.host,
            repo,
            ref,
        ):
            return None
        commit, at = entry.get("commit"), entry.get("at")
        if not isinstance(commit, str) or len(commit) != 40 or not isinstance(at, int | float):
            return None
        if not stale_ok and not 0 <= self.clock() - at <= self.ttl_s:
            return None
        return commit.lower()

    def remember_commit(self, repo: str, ref: str, commit: str) -> None:
        entry = {
            "v": _VERSION,
            "host": self.host,
            "repo": repo,
            "ref": ref,
            "commit": commit,
            "at": self.clock(),
        }
        self._write(self.root / "refs" / _name(self.host, repo, ref), entry)

    # -- files ------------------------------------------------------------------------------

    def file(self, repo: str, commit: str, path: str) -> tuple[str, str | None] | None:
        """(READ, text) or (ABSENT, None) as stored for the file at that commit; None when the
        cache does not hold it (or holds something unusable, which is then removed)."""
        where = self.root / "files" / _name(self.host, repo, commit, path)
        entry = self._load(where, self.max_file_bytes * 6 + _OVERHEAD)
        if entry is None:
            return None
        fields = (entry.get("host"), entry.get("repo"), entry.get("commit"), entry.get("path"))
        if fields != (self.host, repo, commit, path):
            self._discard(where)
            return None
        if entry.get("state") == ABSENT:
            return ABSENT, None
        text = entry.get("text")
        if entry.get("state") != READ or not isinstance(text, str):
            self._discard(where)
            return None
        data = text.encode("utf-8", "surrogatepass")
        if len(data) > self.max_file_bytes:
            return None  # read under a larger limit: this scan's limit says no
        try:
            return READ, decode_text(data)
        except UnreadableFile:
            self._discard(where)
            return None

    def store_file(self, repo: str, commit: str, path: str, text: str | None) -> None:
        """Keep a file's text (None: it does not exist at that commit)."""
        entry: dict[str, Any] = {
            "v": _VERSION,
            "host": self.host,
            "repo": repo,
            "commit": commit,
            "path": path,
            "state": READ if text is not None else ABSENT,
        }
        if text is not None:
            entry["text"] = text
        self._write(self.root / "files" / _name(self.host, repo, commit, path), entry)

    # -- storage ----------------------------------------------------------------------------

    def _load(self, where: Path, limit: int) -> dict[str, Any] | None:
        try:
            fd = os.open(where, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
                return None
            with os.fdopen(fd, "rb") as fh:
                fd = -1
                data = fh.read(limit + 1)
        except OSError:
            return None
        finally:
            if fd >= 0:
                os.close(fd)
        try:
            entry = json.loads(data.decode("utf-8"))
        except (ValueError, RecursionError):
            self._discard(where)
            return None
        if not isinstance(entry, dict) or entry.get("v") != _VERSION:
            return None
        return entry

    def _write(self, where: Path, entry: dict[str, Any]) -> None:
        data = json.dumps(entry, ensure_ascii=True).encode("ascii")
        with self._lock:
            if not self._measured:
                self._count, self._bytes = self._measure()
                self._measured = True
            if self._count >= self.max_entries or self._bytes + len(data) > self.max_bytes:
                self._evict(len(data))
            try:
                fd, temp = tempfile.mkstemp(dir=where.parent, prefix=".tmp-")
                try:
                    with os.fdopen(fd, "wb") as fh:
                        fh.write(data)
                    os.replace(temp, where)
                except OSError:
                    with contextlib.suppress(OSError):
                        os.unlink(temp)
                    raise
            except OSError:
                return  # a cache that cannot be written is only slower
            self._count += 1
            self._bytes += len(data)

    def _entries(self) -> list[tuple[float, int, Path]]:
        out: list[tuple[float, int, Path]] = []
        for folder in (self.root / "files", self.root / "refs"):
            try:
                with os.scandir(folder) as it:
                    for item in it:
                        with contextlib.suppress(OSError):
                            info = item.stat(follow_symlinks=False)
                            out.append((info.st_mtime, info.st_size, Path(item.path)))
            except OSError:
                continue
        return out

    def _measure(self) -> tuple[int, int]:
        entries = self._entries()
        return len(entries), sum(size for _, size, _ in entries)

    def _evict(self, incoming: int) -> None:
        """Remove the oldest entries until a tenth of the room is free."""
        entries = sorted(self._entries())
        count, total = len(entries), sum(size for _, size, _ in entries)
        keep_count, keep_bytes = self.max_entries * 9 // 10, self.max_bytes * 9 // 10 - incoming
        for _, size, path in entries:
            if count <= keep_count and total <= keep_bytes:
                break
            with contextlib.suppress(OSError):
                os.unlink(path)
            count -= 1
            total -= size
        self._count, self._bytes = count, max(total, 0)

    def _discard(self, where: Path) -> None:
        with contextlib.suppress(OSError):
            os.unlink(where)


def open_cache(
    host: str, max_file_bytes: int, warn: Callable[[str], None]
) -> ReferenceCache | None:
    """The user's cache for a GitHub host; None, with a warning, when its folder is unusable."""
    try:
        return ReferenceCache(default_root(), host, max_file_bytes=max_file_bytes)
    except CacheUnusable as exc:
        warn(f"the cache of referenced files is not used: {exc}")
        return None


class CachedReferences(ReferenceReader):
    """The cache alone: `--offline`, or a checkout scanned without a token."""

    def __init__(self, cache: ReferenceCache, why: str, how: str) -> None:
        self.cache = cache
        self.why = why  # why GitHub is not asked
        self.how = how

    def read(self, references: Sequence[Reference]) -> list[Fetched]:
        out: list[Fetched] = []
        for ref in references:
            commit = (
                ref.ref if ref.pinned else self.cache.commit_for(ref.repo, ref.ref, stale_ok=True)
            )
            held = self.cache.file(ref.repo, commit, ref.path) if commit else None
            if held is None or commit is None:
                why = f"not in the cache, and {self.why}"
                out.append(Fetched(ref, UNREAD, why=why, how=self.how))
            else:
                state, text = held
                out.append(Fetched(ref, state, text=text, commit=commit))
        return out
