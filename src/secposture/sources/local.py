"""The local source: a git checkout (the files `git ls-files` lists) or, failing that, a plain folder.

Security stance (ADR 0003): git is run with options that stop a hostile repository's own config from
running commands (core.fsmonitor), never with hooks; files are read only inside the root, never
through a link that leads out of it, and never beyond the size limit.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import threading
import time
from collections.abc import Iterable
from datetime import datetime
from fnmatch import fnmatchcase
from functools import lru_cache
from pathlib import Path

from secposture.errors import SecpostureError
from secposture.model import Target
from secposture.sources.interface import (
    DEFAULT_MAX_FILE_BYTES,
    Snapshot,
    Source,
    UnreadableFile,
    decode_text,
    too_large,
)

# A repository's own .git/config must not be able to make our git calls run a program:
# core.fsmonitor runs a command on ls-files; log.showSignature would run gpg.program on log.
_GIT_SAFE_CONFIG = (
    "-c", "core.fsmonitor=false",
    "-c", "core.untrackedCache=false",
    "-c", "log.showSignature=false",
    "-c", "safe.directory=*",
)  # fmt: skip
_GIT_ENV = {"GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
# Set by a calling git (a pre-commit hook) or a user's shell, these would point our calls at another
# repository than the one named by -C.
_GIT_LOCATION_VARS = (
    "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_NAMESPACE", "GIT_CEILING_DIRECTORIES",
    "GIT_DISCOVERY_ACROSS_FILESYSTEM",
)  # fmt: skip


def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _GIT_LOCATION_VARS}
    env.update(_GIT_ENV)
    return env


@lru_cache(maxsize=8)
def _which_git(search_path: str | None) -> str | None:
    return shutil.which("git", path=search_path)


def _git_start(root: Path, *args: str) -> subprocess.Popen[bytes]:
    # Looked up once per PATH: searching PATH costs a stat per folder, and an estate scan runs
    # git for every repository.
    git = _which_git(os.environ.get("PATH"))
    if git is None:
        raise FileNotFoundError("git")
    return subprocess.Popen(
        [git, *_GIT_SAFE_CONFIG, "-C", str(root), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=_git_env(),
    )


_GIT_TIMEOUT = 120.0


class Watchdog:
    """Kills the processes it watches once they outlive their time limit.

    `communicate(timeout=...)` waits for the exit by polling with sleeps (a millisecond per call),
    and a `threading.Timer` per call costs a thread start (0.2 ms per repository in an estate
    scan). One thread serves every call instead: it checks the deadlines every `tick` seconds
    and ends when nothing is left to watch; the next call starts it again.
    """

    def __init__(self, timeout: float, tick: float = 1.0) -> None:
        self.timeout = timeout
        self.tick = tick
        self._lock = threading.Lock()
        self._deadlines: dict[subprocess.Popen[bytes], float] = {}
        self._running = False

    def watch(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._deadlines[proc] = time.monotonic() + self.timeout
            if not self._running:
                self._running = True
                threading.Thread(
                    target=self._run, name="secposture-git-watchdog", daemon=True
                ).start()

    def release(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._deadlines.pop(proc, None)

    def _run(self) -> None:
        while True:
            time.sleep(self.tick)
            with self._lock:
                now = time.monotonic()
                for proc, deadline in list(self._deadlines.items()):
                    if deadline <= now:
                        del self._deadlines[proc]
                        proc.kill()
                if not self._deadlines:
                    self._running = False
                    return


_WATCHDOG = Watchdog(_GIT_TIMEOUT)


def _git_finish(proc: subprocess.Popen[bytes]) -> subprocess.CompletedProcess[bytes]:
    _WATCHDOG.watch(proc)
    try:
        out, err = proc.communicate()
    finally:
        _WATCHDOG.release(proc)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return _git_finish(_git_start(root, *args))


_SHA = re.compile(rb"[0-9a-f]{40}|[0-9a-f]{64}")
_SMALL = 4096
_POSIX = os.sep == "/" and os.altsep is None
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
_O_NOFOLLOW: int = getattr(os, "O_NOFOLLOW", 0)


def _small_file(path: str) -> bytes | None:
    """A short regular file's bytes, never through a link; None where that is not what it is."""
    # os calls rather than pathlib's: this runs twice per repository of an estate scan.
    if not _O_NOFOLLOW and os.path.islink(path):
        return None
    try:
        fd = os.open(path, _OPEN_FLAGS | _O_NOFOLLOW)  # a link fails to open
    except OSError:
        return None
    try:
        return os.read(fd, _SMALL) if stat.S_ISREG(os.fstat(fd).st_mode) else None
    except OSError:
        return None
    finally:
        os.close(fd)


def _head_from_git_dir(root: Path) -> str | None:
    """HEAD's commit read from `.git` as data (the common layouts only), or None to ask git.

    Reading two small files saves a process per repository; anything unusual (a worktree's
    `.git` file, the reftable backend, a ref in neither place) is left to `git rev-parse`.
    """
    git_dir = os.path.join(root, ".git")
    try:
        is_dir = stat.S_ISDIR(os.lstat(git_dir).st_mode)  # not through a link
    except OSError:
        return None
    if not is_dir or os.path.exists(os.path.join(git_dir, "reftable")):
        return None
    head = _small_file(os.path.join(git_dir, "HEAD"))
    if head is None:
        return None
    head = head.strip()
    if _SHA.fullmatch(head):
        return head.decode()
    if not head.startswith(b"ref: refs/"):
        return None
    ref = head[5:]
    if b".." in ref or b"\0" in ref:
        return None
    loose = _small_file(os.path.join(git_dir, ref.decode("utf-8", "replace")))
    if loose is not None and _SHA.fullmatch(loose.strip()):
        return loose.strip().decode()
    return _packed_ref(Path(git_dir), ref)


def _packed_ref(git_dir: Path, ref: bytes) -> str | None:
    """The ref's commit in `packed-refs` (refs git has packed), or None."""
    packed = git_dir / "packed-refs"
    try:
        if packed.is_symlink() or not packed.is_file() or packed.stat().st_size > 8 * 1024 * 1024:
            return None
        for line in packed.read_bytes().splitlines():
            sha, _, name = line.partition(b" ")
            if name == ref and _SHA.fullmatch(sha):
                return sha.decode()
    except OSError:
        return None
    return None


def _inside(real: str, root: str) -> bool:
    try:
        return os.path.commonpath([real, root]) == root
    except ValueError:  # different drives on Windows
        return False


def is_excluded(path: str, excluded_dirs: frozenset[str], exclude_globs: tuple[str, ...]) -> bool:
    """Whether a repository path is vendored/generated (by folder name) or excluded by policy."""
    parts = path.split("/")
    if any(part in excluded_dirs for part in parts[:-1]):
        return True
    return any(fnmatchcase(path, g) for g in exclude_globs)


class LocalSnapshot(Snapshot):
    def __init__(
        self,
        root: Path,
        paths: Iterable[str],
        target: Target,
        max_file_bytes: int,
        has_history: bool,
        real_root: str | None = None,
    ) -> None:
        self.root = root
        self.paths = tuple(sorted(paths))
        self.target = target
        self.max_file_bytes = max_file_bytes
        self._has_history = has_history
        self._real_root = os.path.realpath(root) if real_root is None else real_root
        self._root_prefix = os.path.join(root, "")  # the root and a separator
        self._folder_inside: dict[str, bool] = {}
        self._texts: dict[str, str] = {}
        # Repository folders known to be real folders all the way down from the root (or
        # missing): no link on the way can lead out of the root.
        self._plain_folders: set[str] = {""}

    def read_text(self, path: str) -> str:
        # Kept: the policy loader and the facts both read pyproject.toml.
        text = self._texts.get(path)
        if text is None:
            text = self._texts[path] = decode_text(self._read_bytes(path))
        return text

    def _read_bytes(self, path: str) -> bytes:
        # os.path.join, without its generality: a scan reads dozens of files per repository.
        relative = not path.startswith("/") if _POSIX else not os.path.isabs(path)
        full = self._root_prefix + path if relative else path
        plain = relative and path.rpartition("/")[0] in self._plain_folders  # the usual case
        if not plain and not self._plain_folder(path):
            self._refuse_outside_folder(full)
        fd = None
        if _O_NOFOLLOW:
            # The common case, a plain file, in one call: a link fails to open (ELOOP) and takes
            # the checked way below.
            try:
                fd = os.open(full, _OPEN_FLAGS | _O_NOFOLLOW)
            except OSError:
                fd = None
        if fd is None:
            self._refuse_outside_link(full)
            fd = self._open(full)
        try:
            st = os.fstat(fd)
            if stat.S_ISDIR(st.st_mode):
                raise UnreadableFile("is a folder, not a file")
            if not stat.S_ISREG(st.st_mode):
                # A FIFO or device would block or never end: never read.
                raise UnreadableFile("is not a regular file; not read")
            if st.st_size > self.max_file_bytes:
                raise UnreadableFile(self._too_large(st.st_size))
            data = self._read_fd(fd, st.st_size)
        finally:
            os.close(fd)
        if len(data) > self.max_file_bytes:  # it grew after the size check
            raise UnreadableFile(self._too_large(len(data)))
        return data

    @staticmethod
    def _open(full: str) -> int:
        try:
            # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
            return os.open(full, _OPEN_FLAGS)
        except FileNotFoundError:
            if os.path.islink(full):
                raise UnreadableFile("is a link to nothing (dangling link)") from None
            raise UnreadableFile("is tracked by git but missing from the working tree") from None
        except IsADirectoryError:
            raise UnreadableFile("is a folder, not a file") from None
        except OSError as exc:
            raise UnreadableFile(f"cannot be read: {exc.strerror or exc}") from None

    def _read_fd(self, fd: int, size: int) -> bytes:
        """Up to max_file_bytes + 1 bytes: the size fstat gave, then more only if it grew."""
        limit = self.max_file_bytes + 1
        want = min(size + 1, limit)
        try:
            first = os.read(fd, want)
            # The usual end: the size fstat gave, then nothing more (one test, not the loop).
            if not first or len(first) >= limit:
                return first
            want = min(max(want, 65536), limit - len(first))
            chunk = os.read(fd, want)
            if not chunk:
                return first
            chunks = [first, chunk]
            total = len(first) + len(chunk)
            while total < limit:
                want = min(max(want, 65536), limit - total)
                chunk = os.read(fd, want)
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
        except OSError as exc:
            raise UnreadableFile(f"cannot be read: {exc.strerror or exc}") from None
        return b"".join(chunks)

    def _plain_folder(self, path: str) -> bool:
        """Whether the folders on the way to a repository path are plain folders (no links):
        one lstat per folder, where resolving the whole path costs one per component of the
        root's own path too. Anything else is left to _refuse_outside_folder."""
        folder = path.rpartition("/")[0]
        if folder in self._plain_folders:
            return True
        if not _POSIX or path.startswith("/"):
            return False
        parts = folder.split("/")
        if any(part in ("", ".", "..") for part in parts):
            return False
        for i in range(1, len(parts) + 1):
            prefix = "/".join(parts[:i])
            if prefix in self._plain_folders:
                continue
            try:
                if stat.S_ISLNK(os.lstat(self._root_prefix + prefix).st_mode):
                    return False
            except OSError:
                pass  # missing (or unreadable): no link to follow; opening the file will say
            self._plain_folders.add(prefix)
        return True

    def _refuse_outside_folder(self, full: str) -> None:
        """Refuse a path whose folder's real location is outside the root (a folder on the way
        being a link: a plain folder's walk can list one). Folders are resolved once each; most
        scans read many files from few folders."""
        parent = os.path.dirname(full)
        inside = self._folder_inside.get(parent)
        if inside is None:
            inside = _inside(os.path.realpath(parent), self._real_root)
            self._folder_inside[parent] = inside
        if not inside:
            raise UnreadableFile("is a link that points outside the repository; not followed")

    def _refuse_outside_link(self, full: str) -> None:
        """Refuse a file that is itself a link leading out of the root."""
        if os.path.islink(full) and not _inside(os.path.realpath(full), self._real_root):
            raise UnreadableFile("is a link that points outside the repository; not followed")

    def _too_large(self, size: int) -> str:
        return too_large(size, self.max_file_bytes)

    def last_commit_date(self, path: str) -> datetime | None:
        if not self._has_history:
            return None
        try:
            proc = _git(self.root, "log", "-1", "--format=%cI", "--", path)
        except (OSError, subprocess.SubprocessError):
            return None
        text = proc.stdout.decode("ascii", "replace").strip()
        if proc.returncode != 0 or not text:
            return None
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            return None


class LocalSource(Source):
    """A checkout on disk. Git's index decides what is in the repository; a plain folder is walked."""

    def __init__(
        self,
        root: Path,
        excluded_dirs: frozenset[str] = frozenset(),
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    ) -> None:
        self.root = root
        self.excluded_dirs = excluded_dirs
        self.max_file_bytes = max_file_bytes

    def snapshot(self) -> LocalSnapshot:
        root = self.root
        if not root.exists():
            raise SecpostureError(f"{root}: no such folder")
        if not root.is_dir():
            raise SecpostureError(f"{root}: not a folder (give the checkout's folder)")
        if not os.access(root, os.R_OK | os.X_OK):
            raise SecpostureError(f"{root}: permission denied")
        listed = self._git_paths()
        real_root = os.path.realpath(root)
        name = os.path.basename(real_root) or str(root)
        if listed is None:
            paths = self._walk()
            target = Target(name=name, source="folder", path=str(root))
            has_history = False
        else:
            paths, commit = listed
            target = Target(name=name, source="git", path=str(root), commit=commit)
            has_history = commit is not None
        # Every tracked path is kept: the facts stage drops vendored folders and policy excludes
        # where they matter (languages, ecosystems), while a `.github/actions/build/` action or
        # a policy file must still be found.
        return LocalSnapshot(root, paths, target, self.max_file_bytes, has_history, real_root)

    def _git_paths(self) -> tuple[list[str], str | None] | None:
        """Tracked paths and HEAD's commit, or None when this is not a git work tree."""
        try:
            listing = _git_start(self.root, "ls-files", "-z", "--cached", ".")
        except OSError:
            return None  # no git on this machine: walk the folder instead
        # HEAD is read from .git while git lists the files; a process asks only when .git
        # cannot answer (a scan of a small repository is mostly processes).
        commit = _head_from_git_dir(self.root)
        head_proc = None
        if commit is None:
            try:
                head_proc = _git_start(self.root, "rev-parse", "-q", "--verify", "HEAD")
            except OSError:
                _git_finish(listing)
                return None
        proc = _git_finish(listing)
        if head_proc is not None:
            head = _git_finish(head_proc)
            commit = head.stdout.decode().strip() if head.returncode == 0 else None
        if proc.returncode != 0:
            return None  # not a git work tree
        if not proc.stdout.strip(b"\0") and self._below_top_level():
            return None  # an untracked folder inside some other repository: walk it
        # git gives bytes; a name that is not UTF-8 is kept, escaped, rather than dropped.
        # Decoded at once (a NUL is never part of a UTF-8 sequence, so each name decodes
        # as it would alone), then split.
        names = proc.stdout.decode("utf-8", "surrogateescape")
        return [path for path in names.split("\0") if path], commit

    def _below_top_level(self) -> bool:
        proc = _git(self.root, "rev-parse", "--show-prefix")
        return proc.returncode == 0 and bool(proc.stdout.strip())

    def _walk(self) -> list[str]:
        paths: list[str] = []
        root = str(self.root)
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            rel = os.path.relpath(dirpath, root)
            # Pruned for speed (node_modules can hold 100,000 files), except in .github/.
            keep_all = rel == ".github" or rel.startswith(".github" + os.sep)
            dirnames[:] = [
                d for d in dirnames if d != ".git" and (keep_all or d not in self.excluded_dirs)
            ]
            for fn in filenames:
                paths.append(fn if rel == "." else f"{rel}/{fn}".replace(os.sep, "/"))
        return paths
