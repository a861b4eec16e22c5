"""Writing a fix plan into a checkout, and showing it as a unified diff (--dry-run).

The plan was made from the snapshot (tracked files); the working tree may hold more. Before
anything is written, each change is checked against the disk: a file the plan would create that
exists untracked is left alone (unless --force, or it already holds exactly the planned text),
and nothing is written through a symbolic link or outside the checkout. Files are written whole
to a temporary file beside them and renamed into place, keeping an existing file's mode.
"""

from __future__ import annotations

import difflib
import os
import stat
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from secposture.fix.interface import FileChange, FixPlan, Skipped

_MAX_EXISTING_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Reconciled:
    plan: FixPlan
    already: tuple[str, ...] = ()  # planned files the working tree already holds, untracked


class _Refused(Exception):
    pass


def _target(root: Path, rel: str) -> Path:
    """The file `rel` inside `root`, refusing any path that leaves it or passes through a link."""
    parts = rel.split("/")
    if not rel or rel.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\\" in rel:
        raise _Refused(f"{rel!r} is not a plain path inside the checkout")
    current = root
    for index, part in enumerate(parts):
        current = current / part
        try:
            mode = current.lstat().st_mode
        except FileNotFoundError:
            return root.joinpath(*parts)
        except OSError as exc:
            raise _Refused(f"{rel}: cannot be checked ({exc.strerror or exc})") from None
        if stat.S_ISLNK(mode):
            raise _Refused(f"{rel}: {current.relative_to(root)} is a symbolic link; not followed")
        if index < len(parts) - 1 and not stat.S_ISDIR(mode):
            raise _Refused(f"{rel}: {current.relative_to(root)} is a file, not a folder")
    return current


def _disk_text(path: Path) -> str | None:
    """The text of an existing regular file (None when there is none)."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(info.st_mode):
        raise _Refused("exists and is not a regular file")
    if info.st_size > _MAX_EXISTING_BYTES:
        raise _Refused(f"exists and is over {_MAX_EXISTING_BYTES:,} bytes")
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _Refused("exists and is not UTF-8 text") from None
    except OSError as exc:
        raise _Refused(f"cannot be read ({exc.strerror or exc})") from None


def reconcile(root: Path, plan: FixPlan, *, force: bool) -> Reconciled:
    """The plan as it applies to the working tree under `root`."""
    changes: list[FileChange] = []
    skipped = list(plan.skipped)
    already: list[str] = []
    for change in plan.changes:
        try:
            target = _target(root, change.path)
            on_disk = _disk_text(target)
        except _Refused as exc:
            message = str(exc)
            where = message if message.startswith(change.path) else f"{change.path} {message}"
            skipped.append(Skipped(change.control, f"{where}: not written"))
            continue
        if on_disk == change.after:
            if change.before is None:
                already.append(change.path)
            continue
        if on_disk != change.before:
            if change.before is None and force:
                changes.append(replace(change, before=on_disk, action="replace"))
                continue
            why = (
                "exists in the working tree but is not tracked by git"
                if change.before is None
                else "has changed since it was read"
            )
            hint = "; --force replaces it" if change.before is None else "; run the fix again"
            skipped.append(Skipped(change.control, f"{change.path} {why}: not written{hint}"))
            continue
        changes.append(change)
    return Reconciled(FixPlan(tuple(changes), tuple(skipped), plan.notes), tuple(already))


def apply_plan(root: Path, plan: FixPlan) -> list[str]:
    """Write every change of a reconciled plan; returns the paths written."""
    written = []
    for change in plan.changes:
        target = _target(root, change.path)
        _write(root, target, change.after)
        written.append(change.path)
    return written


def _write(root: Path, target: Path, text: str) -> None:
    _make_parents(root, target.parent)
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = None
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".secposture", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(temp, mode if mode is not None else 0o644)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _make_parents(root: Path, folder: Path) -> None:
    """Create missing folders, refusing to go through a link (checked again at write time)."""
    missing = []
    current = folder
    while current != root and not current.exists():
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        path.mkdir()
    rel = folder.relative_to(root)
    check = root
    for part in rel.parts:
        check = check / part
        if check.is_symlink():
            raise OSError(f"{rel}: {check.relative_to(root)} is a symbolic link")


def unified_diff(changes: tuple[FileChange, ...] | list[FileChange]) -> str:
    """Every change as one unified diff (`a/` and `b/` paths, /dev/null for new files)."""
    out: list[str] = []
    for change in changes:
        before = (change.before or "").splitlines(keepends=True)
        after = change.after.splitlines(keepends=True)
        old = "/dev/null" if change.before is None else f"a/{change.path}"
        lines = list(difflib.unified_diff(before, after, old, f"b/{change.path}"))
        for line in lines:
            out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)
