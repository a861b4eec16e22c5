"""The local source: a git checkout (the files `git ls-files` lists) or, failing that, a plain folder.

Security stance (ADR 0003, ADR 0009): git is run only through `_git_start`, with settings that stop a
hostile repository's own config from running commands (core.fsmonitor, a partial clone's fetch),
never with hooks, and only on a `.git` that does not lead out of the checkout; files are read only
inside the root, never through a link that leads out of it, and never beyond the size limit.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from secposture.errors import SecpostureError
from secposture.model import Problem, Target
from secposture.sources.interface import (
    DEFAULT_MAX_FILE_BYTES,
    IgnoreRule,
    Snapshot,
    Source,
    UnreadableFile,
    decode_text,
    too_large,
)

# A repository's own .git/config must not be able to make our git calls run a program (ADR 0003,
# ADR 0009). Our commands (ls-files, rev-parse, log, config) need no hook, editor, pager, filter,
# diff driver or network; these settings stop what could still start one: core.fsmonitor runs a
# command on ls-files, log.showSignature runs gpg.program on log, and a partial clone's missing
# object makes log fetch it from the promisor remote, which runs core.sshCommand, core.gitProxy,
# remote.<name>.uploadpack or an ext:: URL.
_GIT_SAFE_CONFIG = (
    "--no-pager",
    "-c", "core.fsmonitor=false",
    "-c", "core.untrackedCache=false",
    "-c", "log.showSignature=false",
    "-c", "protocol.allow=never",
    "-c", "safe.directory=*",
)  # fmt: skip
_GIT_ENV = {
    "GIT_OPTIONAL_LOCKS": "0",
    "GIT_TERMINAL_PROMPT": "0",
    # A missing object of a partial clone is not fetched (git 2.39.4 and later honour it).
    "GIT_NO_LAZY_FETCH": "1",
    # A list of the transports allowed, here none, overrides every protocol.* setting: the
    # repository's own `protocol.file.allow = always` beats `-c protocol.allow=never`.
    "GIT_ALLOW_PROTOCOL": "",
    "LC_ALL": "C",
}
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
    if "PATH" in env:
        env["PATH"] = _absolute_folders(env["PATH"])
    return env


@lru_cache(maxsize=8)
def _absolute_folders(search_path: str) -> str:
    """PATH without its relative folders: "." or an empty entry would find a program (`git`, or
    a remote helper git looks up) in the checkout, where git runs."""
    return os.pathsep.join(f for f in search_path.split(os.pathsep) if os.path.isabs(f))


@lru_cache(maxsize=8)
def _which_git(search_path: str | None) -> str | None:
    return shutil.which("git", path=_absolute_folders(search_path or os.defpath))


class GitCheckout(NamedTuple):
    """A work tree and the `.git` git is to use for it, found and checked without running git."""

    top_level: str  # the work tree's top folder (a real path)
    git_entry: str  # top_level/.git: a folder, or a file or link that leads git to one


class RefusedGitFolder(NamedTuple):
    """A `.git` that would lead git out of the checkout, and why it is not used."""

    top_level: str
    entry: str  # ".git", ".git/refs", ...
    reason: str


class NotACheckout(OSError):
    """No git checkout that git may be run on (none, or its `.git` was refused)."""


def _start_git(*args: str) -> subprocess.Popen[bytes]:
    """Start git with the safe settings and environment: the one way this project starts git."""
    # Looked up once per PATH: searching PATH costs a stat per folder, and an estate scan runs
    # git for every repository.
    git = _which_git(os.environ.get("PATH"))
    if git is None:
        raise FileNotFoundError("git")
    return subprocess.Popen(
        [git, *_GIT_SAFE_CONFIG, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=_git_env(),
    )


def _git_start(checkout: GitCheckout, *args: str) -> subprocess.Popen[bytes]:
    # The git folder and the work tree are named, not discovered: the checkout's own
    # core.worktree cannot move git to another folder.
    return _start_git(
        f"--git-dir={checkout.git_entry}",
        f"--work-tree={checkout.top_level}",
        "-C",
        checkout.top_level,
        *args,
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


def _git(where: Path | GitCheckout, *args: str) -> subprocess.CompletedProcess[bytes]:
    """Run git on the checkout `where` is in (the one hardened way this project runs git)."""
    if isinstance(where, GitCheckout):
        checkout = where
    else:
        found = find_checkout(where)
        if not isinstance(found, GitCheckout):
            raise NotACheckout(f"{where}: not in a git checkout git may be run on")
        checkout = found
    return _git_finish(_git_start(checkout, *args))


def _git_config_value(config_file: str, key: str) -> str | None:
    """One value of a git config file (no includes), or None."""
    folder = os.path.dirname(config_file)
    try:
        proc = _start_git("-C", folder, "config", "--file", config_file, "--get", key)
    except OSError:
        return None
    done = _git_finish(proc)
    value = done.stdout.decode("utf-8", "surrogateescape").strip()
    return value if done.returncode == 0 and value else None


# The entries of a git folder that the commands we run read: none may be a link out of the
# checkout (an outside index lists another repository's files; outside refs or HEAD put an outside
# file's text where a commit belongs).
_GIT_FOLDER_ENTRIES = ("HEAD", "commondir", "config", "index", "objects", "packed-refs", "refs")
_LINK_OUT = "is a link that points outside the repository; not followed"


def find_checkout(path: str | os.PathLike[str]) -> GitCheckout | RefusedGitFolder | None:
    """The git checkout `path` is in, checked, or None when it is in none.

    Like git's own discovery: the nearest folder at or above `path` (on the same file system)
    that holds a `.git`. Unlike it, a `.git` file or link that leads out of the checkout is
    followed only to a git folder that names this checkout as its work tree (a worktree's or a
    submodule's), and a git folder in the checkout must not link out of it (ADR 0009).
    """
    here = os.path.realpath(path)
    try:
        device = os.stat(here).st_dev
    except OSError:
        return None
    while True:
        entry = os.path.join(here, ".git")
        try:
            st = os.lstat(entry)
        except OSError:
            pass
        else:
            return _check_git_entry(here, entry, st)
        parent = os.path.dirname(here)
        try:
            if parent == here or os.stat(parent).st_dev != device:
                return None
        except OSError:
            return None
        here = parent


def _check_git_entry(
    top: str, entry: str, st: os.stat_result
) -> GitCheckout | RefusedGitFolder | None:
    if stat.S_ISDIR(st.st_mode):
        return _check_git_folder(top, entry, entry)
    if stat.S_ISLNK(st.st_mode):
        folder = os.path.realpath(entry)
    else:
        pointer = _small_file(entry)  # a worktree's or submodule's `gitdir: PATH`
        if pointer is None or not pointer.startswith(b"gitdir: "):
            return None  # not a git checkout; git would refuse it too
        named = os.fsdecode(pointer[8:].rstrip(b"\r\n"))
        folder = os.path.realpath(os.path.join(top, named))
    if not os.path.isdir(folder):
        return None  # leads nowhere; git would refuse it too
    if _inside(folder, top):
        return _check_git_folder(top, entry, folder)
    if _names_work_tree(folder, top):
        return GitCheckout(top, entry)
    return RefusedGitFolder(
        top,
        ".git",
        "leads outside the checkout to a git folder that does not name this checkout as its "
        "work tree; not followed, the folder is scanned without git (a worktree's or "
        "submodule's git folder names it; for a separate git folder, set its core.worktree)",
    )


def _check_git_folder(top: str, entry: str, folder: str) -> GitCheckout | RefusedGitFolder:
    """A git folder inside the checkout is used unless something in it leads out."""
    for name in _GIT_FOLDER_ENTRIES:
        path = os.path.join(folder, name)
        if os.path.islink(path) and not _inside(os.path.realpath(path), top):
            return RefusedGitFolder(top, f".git/{name}", _LINK_OUT)
    common = _small_file(os.path.join(folder, "commondir"))
    if common is not None:
        named = os.path.realpath(os.path.join(folder, os.fsdecode(common.strip())))
        if not _inside(named, top):
            return RefusedGitFolder(
                top, ".git/commondir", "names a git folder outside the repository; not followed"
            )
        for name in _GIT_FOLDER_ENTRIES:
            path = os.path.join(named, name)
            if os.path.islink(path) and not _inside(os.path.realpath(path), top):
                return RefusedGitFolder(top, ".git/commondir", _LINK_OUT)
    return GitCheckout(top, entry)


def _names_work_tree(folder: str, top: str) -> bool:
    """Whether a git folder outside the checkout says `top` is its work tree."""
    # A worktree's git folder holds the path of the worktree's `.git` file.
    back = _small_file(os.path.join(folder, "gitdir"))
    if back is not None:
        named = os.path.join(folder, os.fsdecode(back.strip()))
        if os.path.basename(named) == ".git" and os.path.realpath(os.path.dirname(named)) == top:
            return True
    # A submodule's git folder (and a separate one that has been told) sets core.worktree.
    worktree = _git_config_value(os.path.join(folder, "config"), "core.worktree")
    return worktree is not None and os.path.realpath(os.path.join(folder, worktree)) == top


_SHA = re.compile(rb"[0-9a-f]{40}|[0-9a-f]{64}")
_SMALL = 4096
_PACKED_REFS_LIMIT = 8 * 1024 * 1024
_POSIX = os.sep == "/" and os.altsep is None
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
_O_NOFOLLOW: int = getattr(os, "O_NOFOLLOW", 0)
_O_DIRECTORY: int = getattr(os, "O_DIRECTORY", 0)
# Opening each component relative to its folder, never through a link, needs these.
_WALK_WITHOUT_LINKS = bool(_O_NOFOLLOW and _O_DIRECTORY) and os.open in os.supports_dir_fd


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


def _file_below(folder_fd: int, parts: list[bytes], limit: int = _SMALL) -> bytes | None:
    """A regular file's bytes (up to `limit`), reached from an open folder one component at a
    time without following a link at any of them; None where that is not what it is."""
    opened: list[int] = []
    try:
        here = folder_fd
        for part in parts[:-1]:
            here = os.open(part, os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW, dir_fd=here)
            opened.append(here)
        fd = os.open(parts[-1], _OPEN_FLAGS | _O_NOFOLLOW, dir_fd=here)
        opened.append(fd)
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
            return None
        chunks: list[bytes] = []
        size = 0
        while size < st.st_size:
            chunk = os.read(fd, st.st_size - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        for fd in opened:
            os.close(fd)


def _head_from_git_dir(checkout: GitCheckout) -> str | None:
    """HEAD's commit read from `.git` as data (the common layouts only), or None to ask git.

    Reading two small files saves a process per repository. Every component is opened without
    following a link: a linked `.git/refs` must not put an outside file's text where the commit
    belongs. Anything unusual (a worktree's `.git` file, a link, a common dir, the reftable
    backend, a ref in neither place) is left to git, which is asked for a commit that exists.
    """
    if not _WALK_WITHOUT_LINKS:
        return None
    try:
        git_fd = os.open(checkout.git_entry, os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW)
    except OSError:
        return None  # a `.git` file or link: git follows it
    try:
        for unusual in ("reftable", "commondir"):
            try:
                os.lstat(unusual, dir_fd=git_fd)
            except FileNotFoundError:
                continue
            except OSError:
                pass
            return None
        head = _file_below(git_fd, [b"HEAD"])
        if head is None:
            return None
        head = head.strip()
        if _SHA.fullmatch(head):
            return head.decode()
        if not head.startswith(b"ref: refs/"):
            return None
        ref = head[5:]
        parts = ref.split(b"/")
        if b"\0" in ref or any(part in (b"", b".", b"..") for part in parts):
            return None
        loose = _file_below(git_fd, parts)
        if loose is not None and _SHA.fullmatch(loose.strip()):
            return loose.strip().decode()
        packed = _file_below(git_fd, [b"packed-refs"], _PACKED_REFS_LIMIT)
        return None if packed is None else _packed_ref(packed, ref)
    finally:
        os.close(git_fd)


def _packed_ref(packed: bytes, ref: bytes) -> str | None:
    """The ref's commit in `packed-refs` (refs git has packed), or None."""
    for line in packed.splitlines():
        sha, _, name = line.partition(b" ")
        if name == ref and _SHA.fullmatch(sha):
            return sha.decode()
    return None


def _inside(real: str, root: str) -> bool:
    try:
        return os.path.commonpath([real, root]) == root
    except ValueError:  # different drives on Windows
        return False


class LocalSnapshot(Snapshot):
    def __init__(
        self,
        root: Path,
        paths: Iterable[str],
        target: Target,
        max_file_bytes: int,
        checkout: GitCheckout | None,
        real_root: str | None = None,
    ) -> None:
        self.root = root
        self.paths = tuple(sorted(paths))
        self.target = target
        self.max_file_bytes = max_file_bytes
        self._checkout = checkout  # None: no history to ask git about
        self._real_root = os.path.realpath(root) if real_root is None else real_root
        self._root_prefix = os.path.join(root, "")  # the root and a separator
        self._folder_inside: dict[str, bool] = {}
        self._texts: dict[str, str] = {}
        # Repository folders known to be real folders all the way down from the root (or
        # missing): no link on the way can lead out of the root.
        self._plain_folders: set[str] = {""}

    # The git work tree the files are in (with or without history): what `git add` reads.
    work_tree: GitCheckout | None = None

    def ignored_by(
        self, path: str, gitignores: Mapping[str, str] | None = None
    ) -> IgnoreRule | None:
        if self.work_tree is None:
            return None
        if not gitignores:
            return _check_ignore(self.work_tree, self.work_tree.top_level, path)
        # The planned .gitignore files are laid out in a scratch folder that git takes for the
        # work tree; the repository's own git folder still gives .git/info/exclude and config.
        with tempfile.TemporaryDirectory(prefix="secposture-ignore-") as scratch:
            parts = path.split("/")
            for depth in range(len(parts)):
                rel = "/".join([*parts[:depth], ".gitignore"])
                text = gitignores.get(rel)
                if text is None:
                    try:
                        text = decode_text(self._read_bytes(rel))
                    except UnreadableFile:
                        continue
                target = Path(scratch, *rel.split("/"))
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, "utf-8")
            return _check_ignore(self.work_tree, scratch, path)

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


_IGNORE_MATCH = re.compile(r"(.*?):(\d+):(.*)\t")


def _check_ignore(checkout: GitCheckout, work_tree: str, path: str) -> IgnoreRule | None:
    """`git check-ignore -v` for one path, the work tree named (ours or a scratch copy of its
    .gitignore files); None when nothing ignores it or a negation (`!`) re-includes it. Like the
    other commands, it runs no hook, filter or program of the repository's: it reads ignore files
    (core.excludesFile names one) and writes nothing."""
    proc = _git_finish(
        _start_git(
            f"--git-dir={checkout.git_entry}",
            f"--work-tree={work_tree}",
            "-C",
            work_tree,
            "check-ignore",
            "--no-index",
            "--verbose",
            "--non-matching",
            "--",
            path,
        )
    )
    if proc.returncode not in (0, 1):
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise OSError(
            f"git check-ignore failed: {message[0][:200] if message else proc.returncode}"
        )
    found = _IGNORE_MATCH.match(proc.stdout.decode("utf-8", "surrogateescape"))
    if found is None or not found.group(1) or found.group(3).startswith("!"):
        return None
    source = found.group(1)
    in_work_tree = not os.path.isabs(source) and source.rpartition("/")[2] == ".gitignore"
    return IgnoreRule(source, int(found.group(2)), found.group(3), in_work_tree)


def _name(real_root: str, root: Path) -> str:
    return os.path.basename(real_root) or str(root)


class LocalSource(Source):
    """A checkout on disk. Git's index decides what is in the repository; a plain folder is walked.

    A folder inside a checkout stands for its repository: the checkout's top level is scanned
    (`snapshot().root` says which), unless git tracks nothing in that folder (an untracked
    folder inside some other repository), which is walked as a plain folder.
    """

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
        real_root = os.path.realpath(root)
        found = find_checkout(real_root)
        listed = self._git_paths(found, real_root) if isinstance(found, GitCheckout) else None
        problems: tuple[Problem, ...] = ()
        if isinstance(found, RefusedGitFolder):
            where = os.path.relpath(os.path.join(found.top_level, found.entry), real_root)
            problems = (Problem(where.replace(os.sep, "/"), found.reason),)
        checkout = None
        if listed is None:
            paths = self._walk()
            target = Target(name=_name(real_root, root), source="folder", path=str(root))
        else:
            paths, commit, checkout = listed
            if checkout.top_level != real_root:
                root, real_root = Path(checkout.top_level), checkout.top_level
            target = Target(
                name=_name(real_root, root), source="git", path=str(root), commit=commit
            )
            if commit is None:
                checkout = None  # no history to ask about
        # Every tracked path is kept: the facts stage drops vendored folders and policy excludes
        # where they matter (languages, ecosystems), while a `.github/actions/build/` action or
        # a policy file must still be found.
        snapshot = LocalSnapshot(root, paths, target, self.max_file_bytes, checkout, real_root)
        snapshot.problems = problems
        snapshot.work_tree = listed[2] if listed is not None else None
        return snapshot

    def _git_paths(
        self, checkout: GitCheckout, real_root: str
    ) -> tuple[list[str], str | None, GitCheckout] | None:
        """The checkout's tracked paths, HEAD's commit and the checkout, or None when git cannot
        list it or tracks nothing in the folder asked for."""
        try:
            listing = _git_start(checkout, "ls-files", "-z", "--cached")
        except OSError:
            return None  # no git on this machine: walk the folder instead
        # HEAD is read from .git while git lists the files; a process asks only when .git
        # cannot answer (a scan of a small repository is mostly processes). ^{commit}: git names
        # only a commit the repository has, never whatever text a ref's file holds.
        commit = _head_from_git_dir(checkout)
        head_proc = None
        if commit is None:
            try:
                head_proc = _git_start(checkout, "rev-parse", "-q", "--verify", "HEAD^{commit}")
            except OSError:
                _git_finish(listing)
                return None
        proc = _git_finish(listing)
        if head_proc is not None:
            head = _git_finish(head_proc)
            commit = (
                head.stdout.decode("ascii", "replace").strip() if head.returncode == 0 else None
            )
        if proc.returncode != 0:
            return None  # not a git work tree
        # git gives bytes; a name that is not UTF-8 is kept, escaped, rather than dropped.
        # Decoded at once (a NUL is never part of a UTF-8 sequence, so each name decodes
        # as it would alone), then split.
        names = proc.stdout.decode("utf-8", "surrogateescape")
        paths = [path for path in names.split("\0") if path]
        if real_root != checkout.top_level:
            prefix = os.path.relpath(real_root, checkout.top_level).replace(os.sep, "/") + "/"
            if not any(path.startswith(prefix) for path in paths):
                return None  # an untracked folder inside some other repository: walk it
        return paths, commit, checkout

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
                if fn != ".git":  # a worktree's `.git` file is git's, never the repository's
                    paths.append(fn if rel == "." else f"{rel}/{fn}".replace(os.sep, "/"))
        return paths
