"""Ticket refinement: the OWASP Top 10 questions a ticket's words suggest, as a Markdown checklist.

The categories, their trigger words and their questions are data (data/owasp_top10.toml), for
the 2021 and 2025 editions; the command asks about the current one (2025) unless told otherwise.
Each question is written once and named by the categories that ask it, so a checklist asks it
once: with both editions, a 2021 category whose questions the 2025 list already asked points to
them.

Matching is plain and predictable, so an engineer can see why a category was chosen: the ticket
is split into words, each word is stemmed (logins -> login, logged -> log), and a keyword or
phrase matches where the same stems stand next to each other, separated only by spaces, hyphens
or a slash ("log in", "log-in", "ci/cd"). A match inside a longer matching phrase does not count
on its own: "logged in" is authentication, not logging.

There are no regular expressions built from data or input: one linear tokenizer and dictionary
look-ups, so hostile text costs time in proportion to its length and never raises.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, NamedTuple

from secposture import catalogue

# Output order: the current edition first.
EDITIONS = ("2025", "2021")
MAX_TRIGGERS_SHOWN = 8
MIN_QUESTIONS, MAX_QUESTIONS = 2, 4

_WORD = re.compile(r"[^\W_]+")
_CATEGORY_ID = re.compile(r"A(0[1-9]|10):(\d{4})")
# Characters that may separate the words of a phrase, and how many of them: "log-in", "ci/cd",
# a line break inside "sign\nin"; not a full stop, so "...a log. In the..." is no "log in".
_PHRASE_GAP_CHARS = frozenset(" \t\r\n-/\u00a0")
_MAX_PHRASE_GAP = 3
_VOWELS = frozenset("aeiouy")
_MAX_STEMMED_CHARS = 40


@dataclass(frozen=True)
class Category:
    """One OWASP Top 10 category of one edition, with its trigger words and questions."""

    id: str  # "A07:2025"
    edition: str  # "2025"
    title: str
    url: str
    keywords: tuple[str, ...]
    questions: tuple[str, ...]  # the texts, in the category's order
    question_ids: tuple[str, ...] = ()  # their names in [questions], the same order


@dataclass(frozen=True)
class CategoryMatch:
    """A category for the checklist; `triggers` are the ticket's words that chose it, as written
    (first occurrence first; empty when the category is listed only because of --all)."""

    category: Category
    triggers: tuple[str, ...]


class _Token(NamedTuple):  # a tuple: a ticket has hundreds of thousands of words at most
    stem: str
    start: int
    end: int
    joins_previous: bool  # only a phrase gap separates it from the token before


def parse_edition(value: str) -> tuple[str, ...]:
    """The editions for "2021", "2025" or "both" (current edition first); ValueError otherwise."""
    choice = value.strip().lower()
    if choice == "both":
        return EDITIONS
    if choice in EDITIONS:
        return (choice,)
    raise ValueError(f"unknown OWASP Top 10 edition {value[:20]!r}: use 2021, 2025 or both")


def edition_name(edition: str) -> str:
    """The edition's published name, e.g. "OWASP Top 10:2025"."""
    return str(_data()["editions"][parse_edition(edition)[0]])


def categories(editions: Sequence[str] = EDITIONS) -> list[Category]:
    """Every category of the given editions, in edition order, then A01..A10; an edition other
    than 2021 or 2025 raises ValueError."""
    for edition in editions:
        parse_edition(edition)
    by_edition: dict[str, list[Category]] = {edition: [] for edition in editions}
    for category in load_categories():
        if category.edition in by_edition:
            by_edition[category.edition].append(category)
    return [category for edition in editions for category in by_edition[edition]]


def match_ticket(text: str, editions: Sequence[str] = EDITIONS) -> list[CategoryMatch]:
    """The categories of `editions` whose keywords occur in `text`, with the words that did it."""
    wanted = categories(editions)
    triggers = _triggers_by_category(text, tuple(dict.fromkeys(editions)))
    return [
        CategoryMatch(category, tuple(triggers[category.id]))
        for category in wanted
        if triggers.get(category.id)
    ]


def checklist(
    text: str, editions: Sequence[str] = EDITIONS, *, include_all: bool = False
) -> list[CategoryMatch]:
    """The matched categories, or with `include_all` every category (matched ones keep their
    triggers)."""
    if not include_all:
        return match_ticket(text, editions)
    found = {match.category.id: match for match in match_ticket(text, editions)}
    return [
        found.get(category.id, CategoryMatch(category, ())) for category in categories(editions)
    ]


def render_markdown(
    matches: Sequence[CategoryMatch],
    editions: Sequence[str] = EDITIONS,
    *,
    include_all: bool = False,
) -> str:
    """The checklist as Markdown for a ticket: `- [ ]` questions grouped by category, each saying
    which words triggered it; or, with no matches, a note suggesting --all."""
    names = " and ".join(edition_name(edition) for edition in editions)
    if not matches:
        either = " or ".join(edition_name(edition) for edition in editions)
        return (
            f"No category of the {either} matched the words of this ticket.\n"
            "Run `secposture refine --all` for the whole checklist, or say in the ticket which "
            "data, users, inputs and integrations it touches and run it again.\n"
        )
    lines = ["### Security refinement: OWASP Top 10", ""]
    if include_all:
        lines.append(f"The whole checklist of the {names}.")
    else:
        lines.append(f"The categories of the {names} that this ticket's words suggest.")
    lines += ["Answer each question in the ticket, or say why it does not apply.", ""]
    asked: dict[str, str] = {}  # question -> the category it was first asked under
    for edition in editions:
        in_edition = [m for m in matches if m.category.edition == edition]
        lines += _edition_section(edition, in_edition, asked)
    return "\n".join(lines).rstrip("\n") + "\n"


def _edition_section(
    edition: str, matches: Sequence[CategoryMatch], asked: dict[str, str]
) -> list[str]:
    """One edition's categories and their questions; a question already in `asked` (under an
    earlier category) is not asked again, the category says where it was."""
    lines = [f"#### {edition_name(edition)}", ""]
    if not matches:
        return [*lines, f"No category of the {edition_name(edition)} matched.", ""]
    for match in matches:
        category = match.category
        heading = f"**{category.id} {category.title}** ([OWASP]({category.url}))"
        lines += [heading + _because(match.triggers), ""]
        new = [q for q in category.questions if q not in asked]
        earlier = list(dict.fromkeys(asked[q] for q in category.questions if q in asked))
        if earlier:
            lines += [_asked_above(len(category.questions) - len(new), new, earlier), ""]
        lines += [f"- [ ] {question}" for question in new]
        asked.update((question, category.id) for question in new)
        if new:
            lines.append("")
    return lines


def _asked_above(count: int, new: Sequence[str], where: Sequence[str]) -> str:
    under = " and ".join(where)
    if not new:
        return f"Its questions are asked above, under {under}."
    total = count + len(new)
    verb = "is" if count == 1 else "are"
    rest = "the other" if len(new) == 1 else "the others"
    return f"{count} of its {total} questions {verb} asked above, under {under}; {rest}:"


def _because(triggers: Sequence[str]) -> str:
    if not triggers:
        return ""
    shown = ", ".join(f"`{trigger}`" for trigger in triggers[:MAX_TRIGGERS_SHOWN])
    more = len(triggers) - MAX_TRIGGERS_SHOWN
    return f": the ticket mentions {shown}" + (f" and {more} more" if more > 0 else "")


# --- matching ---------------------------------------------------------------------------------


def stem(word: str) -> str:
    """A crude English stem, the same for the ticket and the keywords: plurals, -ed and -ing go,
    a doubled final consonant is undoubled (logged -> log), final e and y are folded (cookie and
    cookies -> cooki, policy and policies -> polici). Words of three letters or fewer are kept,
    and so are words too long to be a keyword's."""
    folded = word.casefold()
    if len(folded) > _MAX_STEMMED_CHARS:
        return folded
    return _stem(folded)


@lru_cache(maxsize=65536)  # a ticket repeats its words; only short words are cached
def _stem(word: str) -> str:
    if len(word) <= 3:
        return word
    if word.endswith(("sses", "ies")):  # classes -> class, policies -> polici
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ing", "ed"):
        base = word[: -len(suffix)]
        if word.endswith(suffix) and len(base) >= 3 and _VOWELS & set(base):
            word = _undouble(base)
            break
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]
    if len(word) > 3 and word.endswith("y"):
        word = word[:-1] + "i"
    return word


def _undouble(word: str) -> str:
    # Porter's rule: "logg" -> "log", but "install", "pass", "buzz" keep their double letter.
    if len(word) >= 2 and word[-1] == word[-2] and word[-1] not in "lszaeiouy":
        return word[:-1]
    return word


def tokenize(text: str) -> list[_Token]:
    """The words of `text` with their stems and positions, in order."""
    tokens: list[_Token] = []
    previous_end: int | None = None
    for found in _WORD.finditer(text):
        start, end = found.span()
        joins = previous_end is not None and _is_phrase_gap(text, previous_end, start)
        tokens.append(_Token(stem(found.group()), start, end, joins))
        previous_end = end
    return tokens


def _is_phrase_gap(text: str, start: int, end: int) -> bool:
    return end - start <= _MAX_PHRASE_GAP and all(c in _PHRASE_GAP_CHARS for c in text[start:end])


def _triggers_by_category(text: str, editions: tuple[str, ...]) -> dict[str, list[str]]:
    """For each category of `editions`, the ticket's words matching its keywords: one per
    keyword, as first written ("Password", not also "passwords")."""
    tokens = tokenize(text)
    found: dict[str, list[str]] = {}
    seen: dict[str, set[tuple[str, ...]]] = {}
    for start, length, category_ids in _longest_occurrences(tokens, _keyword_index(editions)):
        stems = tuple(token.stem for token in tokens[start : start + length])
        # The words as written; the gaps between them are only spaces, hyphens or a slash.
        surface = " ".join(text[tokens[start].start : tokens[start + length - 1].end].split())
        for category_id in category_ids:
            if stems in seen.setdefault(category_id, set()):
                continue
            seen[category_id].add(stems)
            found.setdefault(category_id, []).append(surface)
    return found


def _longest_occurrences(
    tokens: Sequence[_Token], index: Mapping[str, Sequence[tuple[tuple[str, ...], frozenset[str]]]]
) -> Iterable[tuple[int, int, frozenset[str]]]:
    """(start, length, category ids) of each keyword occurrence not inside a longer one."""
    occurrences: list[tuple[int, int, frozenset[str]]] = []
    for position, token in enumerate(tokens):
        for phrase, category_ids in index.get(token.stem, ()):
            if _phrase_at(tokens, position, phrase):
                occurrences.append((position, len(phrase), category_ids))
    # A span inside a longer occurrence ("log" inside "logged in") does not count alone. Sorted
    # by start, longest first, a span ending within the furthest end seen so far is inside one.
    covered_until = -1
    kept: list[tuple[int, int, frozenset[str]]] = []
    for start, length, category_ids in sorted(occurrences, key=lambda o: (o[0], -o[1])):
        if start + length <= covered_until:
            continue
        kept.append((start, length, category_ids))
        covered_until = start + length
    return kept


def _phrase_at(tokens: Sequence[_Token], position: int, phrase: tuple[str, ...]) -> bool:
    if position + len(phrase) > len(tokens):
        return False
    return all(
        tokens[position + offset].stem == part and tokens[position + offset].joins_previous
        for offset, part in enumerate(phrase[1:], start=1)
    )


@cache
def _keyword_index(
    editions: tuple[str, ...],
) -> Mapping[str, Sequence[tuple[tuple[str, ...], frozenset[str]]]]:
    """First stem -> [(stems of a keyword, ids of the categories listing it)], for the categories
    of `editions` only (a longer phrase of another edition must not hide a match)."""
    owners: dict[tuple[str, ...], set[str]] = {}
    for category in categories(editions):
        for keyword in category.keywords:
            owners.setdefault(_keyword_stems(keyword), set()).add(category.id)
    index: dict[str, list[tuple[tuple[str, ...], frozenset[str]]]] = {}
    for stems, ids in owners.items():
        index.setdefault(stems[0], []).append((stems, frozenset(ids)))
    return index


def _keyword_stems(keyword: str) -> tuple[str, ...]:
    return tuple(token.stem for token in tokenize(keyword))


# --- data -------------------------------------------------------------------------------------


@cache
def _data() -> dict[str, Any]:
    return catalogue.load("owasp_top10")


@cache
def load_categories() -> tuple[Category, ...]:
    """The categories of data/owasp_top10.toml, checked: a malformed entry raises ValueError
    naming the category and the field."""
    data = _data()
    raw = data.get("category")
    if not isinstance(raw, list):
        raise ValueError("owasp_top10.toml: no [[category]] entries")
    questions = _questions(data.get("questions"))
    by_id = {str(entry.get("id")): entry for entry in raw if isinstance(entry, dict)}
    loaded = [_category(entry, by_id, data.get("editions", {}), questions) for entry in raw]
    unused = sorted(set(questions) - {name for c in loaded for name in c.question_ids})
    if unused:
        raise ValueError(f"owasp_top10.toml: question {unused[0]!r} is asked by no category")
    return tuple(sorted(loaded, key=lambda c: (EDITIONS.index(c.edition), c.id)))


def _questions(raw: object) -> Mapping[str, str]:
    """[questions]: name -> text, each text written once."""
    if not isinstance(raw, dict) or not raw:
        raise ValueError("owasp_top10.toml: no [questions] table")
    texts: dict[str, str] = {}
    for name, text in raw.items():
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"owasp_top10.toml: question {name!r} must be a non-empty string")
        if text in texts.values():
            raise ValueError(f"owasp_top10.toml: question {name!r} repeats another's text")
        texts[name] = text
    return texts


def _category(
    entry: object,
    by_id: Mapping[str, Any],
    editions: Mapping[str, Any],
    known_questions: Mapping[str, str],
) -> Category:
    if not isinstance(entry, dict):
        raise ValueError("owasp_top10.toml: a [[category]] entry is not a table")
    category_id = str(entry.get("id", ""))
    match = _CATEGORY_ID.fullmatch(category_id)
    if match is None or match[2] not in EDITIONS or match[2] not in editions:
        raise ValueError(f"owasp_top10.toml: category id {category_id!r} is not A01..A10:2021/2025")
    keywords = list(_strings(entry, "keywords", category_id))
    for source in _strings(entry, "keywords_from", category_id, required=False):
        if source not in by_id:
            raise ValueError(
                f"owasp_top10.toml: {category_id}: keywords_from {source!r} is unknown"
            )
        keywords += _strings(by_id[source], "keywords", source)
    if not keywords or any(not _keyword_stems(keyword) for keyword in keywords):
        raise ValueError(f"owasp_top10.toml: {category_id}: keywords are missing or have no words")
    question_ids = tuple(dict.fromkeys(_strings(entry, "questions", category_id)))
    if not MIN_QUESTIONS <= len(question_ids) <= MAX_QUESTIONS:
        raise ValueError(
            f"owasp_top10.toml: {category_id}: give {MIN_QUESTIONS} to {MAX_QUESTIONS} questions"
        )
    unknown = [name for name in question_ids if name not in known_questions]
    if unknown:
        raise ValueError(f"owasp_top10.toml: {category_id}: no question named {unknown[0]!r}")
    return Category(
        id=category_id,
        edition=match[2],
        title=_text(entry, "title", category_id),
        url=_text(entry, "url", category_id),
        keywords=tuple(dict.fromkeys(keywords)),
        questions=tuple(known_questions[name] for name in question_ids),
        question_ids=question_ids,
    )


def _strings(
    entry: Mapping[str, Any], key: str, where: str, *, required: bool = True
) -> tuple[str, ...]:
    value = entry.get(key, None if required else [])
    if not isinstance(value, list) or not all(
        isinstance(item, str) and item.strip() for item in value
    ):
        raise ValueError(f"owasp_top10.toml: {where}: {key} must be a list of non-empty strings")
    return tuple(value)


def _text(entry: Mapping[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"owasp_top10.toml: {where}: {key} must be a non-empty string")
    return value
