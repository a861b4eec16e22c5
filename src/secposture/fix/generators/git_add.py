"""A file `fix` creates must be one that `git add -A` takes: where the repository's .gitignore
excludes it (a git-ignored `.vscode/`, a `.*` rule that catches `.github/`), the exception is
added there (fix/gitignore.py), shown in the diff; where an exclude outside the repository does,
a note says so and what to run. Helpers for the generators, not a generator."""

from __future__ import annotations

from secposture.fix import gitignore
from secposture.fix.generators import Workspace


def make_addable(ws: Workspace, path: str, control: str) -> None:
    """Plan the .gitignore exception that lets `git add` take the new file `path`, or note why
    not. Nothing to do for a tracked file, or a source without a work tree (GitHub)."""
    if path in ws.base.paths:
        return

    def tracked(ignore_file: str) -> str | None:
        if ignore_file not in ws.base.paths and ignore_file not in ws.files:
            return None
        usable, text = ws.existing_text(ignore_file, control)
        return text if usable else None

    planned = {p: f.after for p, f in ws.files.items() if p.rpartition("/")[2] == ".gitignore"}
    try:
        found = gitignore.reinclude(ws.base, path, tracked, planned)
    except OSError as exc:
        _note(
            ws,
            f"{control}: whether git ignores {path} could not be checked ({exc}): if "
            f"`git status` does not list it, `git add -f {path}`",
        )
        return
    if isinstance(found, gitignore.CannotReinclude):
        _note(
            ws,
            f"{control} will not see {path} after a commit unless it is added by hand: "
            f"{found.reason}",
        )
        return
    if found is None:
        return
    for ignore_file, text in found.texts.items():
        said = "; ".join(c.partition(": ")[2] for c in found.changes if c.startswith(ignore_file))
        ws.write(ignore_file, text, control, f"re-included {path}, which git ignored ({said})")


def _note(ws: Workspace, text: str) -> None:
    if text not in ws.notes:
        ws.notes.append(text)
