"""Words for people: plurals, the first clause of a message, and cutting text short without
breaking a sentence. Every format and message uses these, so they all read the same way."""

from __future__ import annotations

ELLIPSIS = "…"


def plural(n: int, word: str, many: str | None = None) -> str:
    """`1 rule`, `2 rules`, `1,204 files`; `many` for irregular plurals (`retry`, `retries`)."""
    return f"{n:,} {word if n == 1 else many or word + 's'}"


def plural_word(n: int, word: str, many: str | None = None) -> str:
    """The noun alone, agreeing with `n`: `rule` or `rules`."""
    return word if n == 1 else many or word + "s"


def clip(text: str, limit: int) -> str:
    """A quoted snippet (a command, a hook id, a line of a template) at most `limit` characters,
    cut at a word where it can be and always marked with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    cut = text[: max(1, limit - 1)]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


# Where a clause ends: a colon or semicolon and a space, or a full stop and a space before the next
# sentence. Only at the top level: not inside brackets, backticks or quotes, where a colon is part
# of a path, a command or an example (`@main`, "Q: what?").
_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = {")", "]", "}"}
# A full stop that ends one of these does not end a sentence.
_ABBREVIATIONS = ("e.g", "i.e", "etc", "vs", "cf", "no")


def _top_level_breaks(text: str, marks: str) -> list[int]:
    """Indexes of `marks` characters that are followed by a space and sit at the top level."""
    depth = 0
    quote: str | None = None
    out: list[int] = []
    for i, ch in enumerate(text):
        if quote is not None:
            if ch == quote:
                quote = None
            continue
        if ch == "`" or (ch == '"' and depth == 0):
            quote = ch
        elif ch in _OPENERS:
            depth += 1
        elif ch in _CLOSERS:
            depth = max(0, depth - 1)
        elif depth == 0 and ch in marks and text[i + 1 : i + 2] == " ":
            if ch == "." and _abbreviated(text, i):
                continue
            out.append(i)
    return out


def _abbreviated(text: str, dot: int) -> bool:
    """Whether the full stop at `dot` closes an abbreviation or an ellipsis, not a sentence."""
    before = text[:dot]
    if not before or before[-1] == "." or before[-1].isdigit():
        return True  # "...", "v1.2."
    word = before.rsplit(" ", 1)[-1].lstrip("(\"'`").lower()
    return word in _ABBREVIATIONS


def gist(message: str) -> str:
    """The first clause of a message: what it says before its first top-level `: `, `; ` or `. `.

    Messages are written headline first ("no threat model found: looked in ..."), so this is the
    one line that says what is wrong; the whole message is the evidence."""
    breaks = _top_level_breaks(message, ":;.")
    head = message[: breaks[0]] if breaks else message
    return head.rstrip(" ,") or message


def shorten(text: str, limit: int) -> str:
    """Text at most `limit` characters, cut after the last whole sentence or clause that fits,
    with an ellipsis; a text with no such boundary early enough is cut at a word, with one."""
    if len(text) <= limit:
        return text
    room = limit - 1
    breaks = [i for i in _top_level_breaks(text, ".;:,") if i < room]
    # A boundary early on would throw much of the room away ("not observable…" where "not
    # observable: repository settings are not…" fits): a word is better then.
    if breaks and breaks[-1] >= room * 2 // 3:
        return text[: breaks[-1]].rstrip() + ELLIPSIS
    return clip(text, limit)
