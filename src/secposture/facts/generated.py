"""The marker `secposture fix` leaves in the files it writes, so that the scan can tell them apart.

A generated file is a starting point, not evidence that a person did anything: a threat-model
agenda is no session, a proposed ADR of ours is no decision of the team, an issue template of ours
is not how the team refines its tickets. Every such file carries one line (docs/generated-files.md):

    generated_by: secposture fix 0.1.0              a key, in front matter that is ours
    # generated_by: secposture fix 0.1.0 ...        a comment, in YAML whose keys are GitHub's
    <!-- generated_by: secposture fix 0.1.0 ... --> a comment, in Markdown whose front matter is
                                                    GitHub's or that has none

The process controls read it (threat-model, security-adrs, ticket-security); a person removes it
when the file has become theirs. It is looked for near the top only, where `fix` writes it, so
that a document quoting the line further down (this project's own ADRs) is not taken for one.
"""

from __future__ import annotations

import re

from secposture import __version__

KEY = "generated_by"
WRITER = "secposture fix"
# The marker is written in the first lines; a front matter comment or two may come before it.
HEAD_LINES = 30
_HEAD_CHARS = 20_000
_MARKER = re.compile(rf"[ \t]*(?:#[ \t]*|<!--[ \t]*)?{KEY}[ \t]*:[ \t]*[\"']?{WRITER}\b")


def marker() -> str:
    """The marker's words, as `fix` writes them: `generated_by: secposture fix VERSION`."""
    return f"{KEY}: {WRITER} {__version__}"


def marker_line(text: str) -> int | None:
    """The line (1-based) of the marker in the first lines of `text`, or None: not generated, or
    adopted (a person removed the line)."""
    # Only the head is split: a large file costs no more than a small one.
    for number, line in enumerate(text[:_HEAD_CHARS].splitlines()[:HEAD_LINES], start=1):
        if _MARKER.match(line[:200]):
            return number
    return None
