"""Files of other repositories read from local bare mirrors: `ROOT/OWNER+NAME/repo`, the layout
the corpus (tests/corpus/) and an air-gapped estate keep their copies in (ADR 0014).

git runs only the hardened way the local source runs it (sources/local.py: no hooks, filters,
pagers, protocols or lazy fetches), on a mirror the operator named, with a ref and a path that
sources/references/interface.py already checked; the ref is handed to git after
`--end-of-options`, as one argument. Text gets the checks of a tracked file.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from secposture.sources.interface import (
    DEFAULT_MAX_FILE_BYTES,
    UnreadableFile,
    decode_text,
    too_large,
)
from secposture.sources.local import _git_finish, _start_git
from secposture.sources.references.interface import (
    ABSENT,
    READ,
    UNREAD,
    Fetched,
    Reference,
    ReferenceReader,
)


class MirrorReferences(ReferenceReader):
    def __init__(self, root: Path, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> None:
        self.root = root
        self.max_file_bytes = max_file_bytes
        self._mirrors: dict[str, Path] | None = None
        self._commits: dict[tuple[str, str], str | None] = {}

    def _mirror(self, repo: str) -> Path | None:
        if self._mirrors is None:
            found: dict[str, Path] = {}
            try:
                names = os.listdir(self.root)
            except OSError:
                names = []
            for name in names:
                owner, plus, rest = name.partition("+")
                folder = self.root / name / "repo"
                if plus and folder.is_dir() and not folder.is_symlink():
                    found[f"{owner}/{rest}".lower()] = folder
            self._mirrors = found
        return self._mirrors.get(repo)

    def read(self, references: Sequence[Reference]) -> list[Fetched]:
        return [self._read(r) for r in references]

    def _read(self, ref: Reference) -> Fetched:
        mirror = self._mirror(ref.repo)
        how = f"put a mirror of {ref.repo} in {self.root}"
        if mirror is None:
            return Fetched(ref, UNREAD, why=f"there is no mirror of {ref.repo}", how=how)
        commit = self._commit(mirror, ref)
        if commit is None:
            why = f"`{ref.ref}` is not a tag, branch or commit of {ref.repo}'s mirror"
            return Fetched(ref, UNREAD, why=why, how=f"update the mirror of {ref.repo}")
        size = _run(mirror, "cat-file", "-s", f"{commit}:{ref.path}")
        if size is None:
            return Fetched(ref, ABSENT, commit=commit, why="no such file at that ref")
        try:
            length = int(size.strip() or b"0")
        except ValueError:
            return Fetched(ref, UNREAD, commit=commit, why="its size could not be read", how="")
        if length > self.max_file_bytes:
            return Fetched(ref, UNREAD, commit=commit, why=too_large(length, self.max_file_bytes))
        data = _run(mirror, "cat-file", "blob", f"{commit}:{ref.path}")
        if data is None:
            return Fetched(ref, UNREAD, commit=commit, why="git could not read it", how="")
        try:
            return Fetched(ref, READ, text=decode_text(data), commit=commit)
        except UnreadableFile as exc:
            return Fetched(ref, UNREAD, commit=commit, why=str(exc), how="")

    def _commit(self, mirror: Path, ref: Reference) -> str | None:
        key = (ref.repo, ref.ref)
        if key not in self._commits:
            out = _run(
                mirror,
                "rev-parse",
                "--verify",
                "--quiet",
                "--end-of-options",
                f"{ref.ref}^{{commit}}",
            )
            value = out.decode("ascii", "replace").strip() if out else ""
            self._commits[key] = value if len(value) == 40 else None
        return self._commits[key]


def _run(mirror: Path, *args: str) -> bytes | None:
    try:
        done = _git_finish(_start_git(f"--git-dir={mirror}", *args))
    except OSError:
        return None
    return done.stdout if done.returncode == 0 else None
