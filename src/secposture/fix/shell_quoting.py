"""Where a `${{ ... }}` sits in a `run:` script, as the shell will read it: unquoted, inside
double or single quotes, in a here-document, in a comment; and the shell-variable reference that
can stand in its place there without changing what the script does with a benign value.

GitHub pastes an expression's value into the script before the shell starts, so the value is
read as code. A variable reference is expanded by the shell after parsing, so its value is never
code. The reference must fit the place it goes:

- bash/sh: `"${NAME}"` unquoted (one word, no globbing), `${NAME}` inside double quotes, in an
  expanding here-document or a comment, `'"${NAME}"'` inside single quotes (close, expand inside
  double quotes, reopen).
- pwsh/powershell: `${env:NAME}` unquoted, inside double quotes or an expanding here-string, or
  in a comment.

Anywhere else (backticks, `$'...'`, arithmetic, a quoted here-document, PowerShell single quotes
and subexpressions, any other shell) the place is not understood well enough: None, and the
caller leaves the script as it is and says so. The scanner is linear and never raises: scripts
are hostile input.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import Enum


class Place(Enum):
    UNQUOTED = "unquoted"
    DOUBLE = "double-quoted"
    SINGLE = "single-quoted"
    HEREDOC = "here-document"
    COMMENT = "comment"
    UNKNOWN = "unknown"


POSIX_SHELLS = frozenset({"bash", "sh"})
POWERSHELLS = frozenset({"pwsh", "powershell"})

_HEREDOC = re.compile(r"<<(-?)[ \t]*(?:'([^'\n]*)'|\"([^\"\n]*)\"|\\?([A-Za-z0-9_.-]+))")
_WORD_START = frozenset(" \t\n;|&(){}")


def shell_name(shell: str | None) -> str | None:
    """The shell a `shell:` value runs (`bash -e {0}` is bash); None for a custom command that
    is not one of the shells understood here."""
    if shell is None:
        return None
    words = shell.strip().split()
    if not words:
        return None
    name = words[0].rsplit("/", 1)[-1].lower()
    return name if name in POSIX_SHELLS | POWERSHELLS | {"python", "cmd"} else None


def reference(shell: str, place: Place, name: str) -> str | None:
    """What replaces an expression at `place` in a script run by `shell`: a reference to the
    environment variable `name`; None where that cannot be done safely."""
    if shell in POSIX_SHELLS:
        return {
            Place.UNQUOTED: f'"${{{name}}}"',
            Place.DOUBLE: f"${{{name}}}",
            Place.HEREDOC: f"${{{name}}}",
            Place.COMMENT: f"${{{name}}}",
            Place.SINGLE: f"'\"${{{name}}}\"'",
        }.get(place)
    powershell_places = (Place.UNQUOTED, Place.DOUBLE, Place.HEREDOC, Place.COMMENT)
    if shell in POWERSHELLS and place in powershell_places:
        return f"${{env:{name}}}"
    return None


def places(
    shell: str, script: str, spans: Iterable[tuple[int, int]], at: Iterable[int]
) -> dict[int, Place]:
    """The place of each offset in `at` within `script`. `spans` are the script's expressions
    (start, end): GitHub replaces them before the shell reads the script, so quotes inside
    them do not count (they are read as plain characters)."""
    masked = list(script)
    for start, end in spans:
        for index in range(max(start, 0), min(end, len(masked))):
            masked[index] = "_"
    text = "".join(masked)
    wanted = sorted(set(at))
    if shell in POSIX_SHELLS:
        found = _posix(text, wanted)
    elif shell in POWERSHELLS:
        found = _powershell(text, wanted)
    else:
        found = {}
    return {offset: found.get(offset, Place.UNKNOWN) for offset in wanted}


def _posix(text: str, wanted: list[int]) -> dict[int, Place]:
    """One pass over a bash/sh script with a stack of contexts: `$(` opens a command (unquoted
    again) until its `)`; here-document bodies start after the line that opens them."""
    out: dict[int, Place] = {}
    targets = set(wanted)
    stack: list[str] = ["u"]  # u: unquoted, d: double quotes, s: single, c: comment, x: unknown
    closers: list[str] = []  # what ends each `x` or `$(` context
    pending: list[tuple[str, bool, bool]] = []  # here-documents opened on this line
    i, n = 0, len(text)
    while i < n:
        top = stack[-1]
        if i in targets:
            out[i] = _POSIX_PLACES[top]
        ch = text[i]
        if ch == "\n" and pending:
            i = _heredoc_bodies(text, i + 1, pending, targets, out)
            pending = []
            if top == "c":
                stack.pop()
            continue
        if top == "c":
            if ch == "\n":
                stack.pop()
            i += 1
            continue
        if top == "s":
            if ch == "'":
                stack.pop()
            i += 1
            continue
        if top == "x":
            closer = closers[-1]
            if ch == "\\":
                i += 2
                continue
            if text.startswith(closer, i):
                stack.pop()
                closers.pop()
                i += len(closer)
                continue
            i += 1
            continue
        if top == "d":
            if ch == "\\":
                i += 2
            elif ch == '"':
                stack.pop()
                i += 1
            elif text.startswith("$(", i) and not text.startswith("$((", i):
                stack.append("u")
                closers.append(")")
                i += 2
            elif ch == "`":
                stack.append("x")
                closers.append("`")
                i += 1
            else:
                i += 1
            continue
        # unquoted: at the top level or inside `$( ... )`
        if ch == "\\":
            i += 2
        elif ch == "'":
            stack.append("s")
            i += 1
        elif ch == '"':
            stack.append("d")
            i += 1
        elif text.startswith("$'", i):
            stack.append("x")
            closers.append("'")
            i += 2
        elif text.startswith("$((", i):
            stack.append("x")
            closers.append("))")
            i += 3
        elif text.startswith("$(", i):
            stack.append("u")
            closers.append(")")
            i += 2
        elif ch == "`":
            stack.append("x")
            closers.append("`")
            i += 1
        elif ch == ")" and len(stack) > 1 and closers and closers[-1] == ")":
            stack.pop()
            closers.pop()
            i += 1
        elif ch == "#" and (i == 0 or text[i - 1] in _WORD_START) and text[i - 2 : i] != "${":
            stack.append("c")
            i += 1
        elif text.startswith("<<", i) and not text.startswith("<<<", i):
            match = _HEREDOC.match(text, i)
            if match is None:
                i += 2
                continue
            quoted = match.group(2) is not None or match.group(3) is not None
            word = match.group(2) or match.group(3) or match.group(4) or ""
            if match.group(4) is not None and text[i + 2 : match.start(4)].strip(" \t-") == "\\":
                quoted = True  # <<\EOF is quoted too
            pending.append((word, match.group(1) == "-", quoted))
            i = match.end()
        else:
            i += 1
    return out


_POSIX_PLACES = {
    "u": Place.UNQUOTED,
    "d": Place.DOUBLE,
    "s": Place.SINGLE,
    "c": Place.COMMENT,
    "x": Place.UNKNOWN,
}


def _heredoc_bodies(
    text: str,
    i: int,
    pending: list[tuple[str, bool, bool]],
    targets: set[int],
    out: dict[int, Place],
) -> int:
    """Skip the bodies of the here-documents opened on the line before `i`, recording the places
    inside them; returns where the script goes on."""
    n = len(text)
    for word, strip_tabs, quoted in pending:
        while i < n:
            end = text.find("\n", i)
            end = n if end < 0 else end
            line = text[i:end]
            if (line.lstrip("\t") if strip_tabs else line) == word:
                i = end + 1
                break
            for offset in targets:
                if i <= offset < end:
                    # An expanding body reads `$(...)` and backticks too; a place inside one
                    # of those is not worth the risk.
                    plain = not quoted and "`" not in line and "$(" not in line
                    out[offset] = Place.HEREDOC if plain else Place.UNKNOWN
            i = end + 1
    return i


def _powershell(text: str, wanted: list[int]) -> dict[int, Place]:
    out: dict[int, Place] = {}
    targets = set(wanted)
    state = "u"  # u, d (double quotes), s (single), c (comment), b (<# #>), hd/hs here-strings
    i, n = 0, len(text)
    while i < n:
        if i in targets:
            out[i] = {
                "u": Place.UNQUOTED,
                "d": Place.DOUBLE,
                "hd": Place.HEREDOC,
                "c": Place.COMMENT,
                "b": Place.COMMENT,
            }.get(state, Place.UNKNOWN)
        ch = text[i]
        if state == "c":
            state = "u" if ch == "\n" else state
            i += 1
        elif state == "b":
            if text.startswith("#>", i):
                state, i = "u", i + 2
            else:
                i += 1
        elif state == "s":
            if text.startswith("''", i):
                i += 2
            elif ch == "'":
                state, i = "u", i + 1
            else:
                i += 1
        elif state == "d":
            if ch == "`" or text.startswith('""', i):
                i += 2
            elif ch == '"':
                state, i = "u", i + 1
            elif text.startswith("$(", i):
                state, i = "x", i + 2  # a subexpression: not followed
            else:
                i += 1
        elif state in ("hd", "hs"):
            closer = '"@' if state == "hd" else "'@"
            if text.startswith(closer, i) and (i == 0 or text[i - 1] == "\n"):
                state, i = "u", i + 2
            elif state == "hd" and text.startswith("$(", i):
                state, i = "x", i + 2
            else:
                i += 1
        elif state == "x":
            i += 1  # everything after a subexpression is unknown
        elif ch == "`":
            i += 2
        elif text.startswith('@"', i):
            state, i = "hd", i + 2
        elif text.startswith("@'", i):
            state, i = "hs", i + 2
        elif text.startswith("<#", i):
            state, i = "b", i + 2
        elif ch == "#":
            state, i = "c", i + 1
        elif ch == "'":
            state, i = "s", i + 1
        elif ch == '"':
            state, i = "d", i + 1
        elif text.startswith("$(", i):
            state, i = "x", i + 2
        else:
            i += 1
    return out
