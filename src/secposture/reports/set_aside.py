"""What the scan did not count as the product (test data, examples, development environments), in
words every format shares. The JSON report lists every folder; the other formats say it in a line."""

from __future__ import annotations

from secposture.model import SetAside

MAX_FOLDERS = 5  # folders named in one line


def set_aside_note(aside: SetAside | None, *, brief: bool = False) -> str | None:
    """One line on what was set aside and how to put it back; None when nothing was. `brief`
    names one folder and leaves out what setting aside means (the brief terminal view)."""
    if not aside:
        return None
    parts = []
    if aside.files:
        kinds = [_KINDS.get(k, k) for k in sorted({f.kind for f in aside.folders}, key=_order)]
        what = ", ".join(kinds[:-1]) + (" or " if len(kinds) > 1 else "") + kinds[-1]
        limit = 1 if brief else MAX_FOLDERS
        shown = ", ".join(f"{f.path}/" for f in aside.folders[:limit])
        more = len(aside.folders) - limit
        shown += f" and {more} more" if more > 0 else ""
        meaning = (
            ""
            if brief
            else "; they add no languages, ecosystems, images or actions to pin, and the policy's "
            "`include` puts a folder back"
        )
        parts.append(
            f"set aside as {what}: {_count(aside.files, 'file')} in "
            f"{_count(len(aside.folders), 'folder')} ({shown}){meaning}"
        )
    if aside.included:
        parts.append(
            f"the policy's `include` put back {_count(aside.included, 'file')} that would be set "
            "aside as test data or examples"
        )
    return "; ".join(parts)


# Each kind as the note says it, in the order it says them.
_KINDS = {
    "test data": "test data",
    "examples": "examples",
    "development environment": "development environments",
}


def _order(kind: str) -> int:
    return list(_KINDS).index(kind) if kind in _KINDS else len(_KINDS)


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"
