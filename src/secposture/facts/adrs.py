"""Architecture Decision Records: the ADR log, its records, and which record security decisions.

An ADR is a document in an ADR folder (data/adr.toml, or the folder adr-tools' `.adr-dir` names)
named NNNN-title (3+ digits) or carrying MADR front matter. It records a security decision when it
is tagged so, or when its title or its Decision section uses a security keyword; each reason is kept
with its line, for the evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from secposture import catalogue
from secposture.facts.interface import Facts
from secposture.facts.parsing import front_matter

ADR_DIR_FILE = ".adr-dir"
_MAX_ADRS_READ = 1000  # a log larger than this is read in part (sorted order): enough to decide
_MAX_LINE = 2000  # longer lines are not headings or tag lines worth parsing

_NUMBERED = re.compile(r"(?:adr[-_ ]?)?\d{3,}(?:[-_ .]|$)", re.IGNORECASE)
_MD_HEADING = re.compile(r" {0,3}(#{1,6})[ \t]+(\S.*)")
_ADOC_HEADING = re.compile(r"(={1,6})[ \t]+(\S.*)")
_UNDERLINE = re.compile(r"([=\-~^\"'`#*+])\1{2,}[ \t]*")
_TAGS_LINE = re.compile(
    r"[\s*_>|-]{0,10}tags?[*_]{0,3}[ \t]*[:=][*_]{0,3}[ \t]*(\S.*)", re.IGNORECASE
)
_FENCE = re.compile(r" {0,3}(```|~~~)")
_NUMBER_PREFIX = re.compile(r"^\s*(?:\d+[.)]?\s+)?")


@dataclass(frozen=True)
class Reason:
    """Why an ADR counts as a security decision, and the line that shows it."""

    text: str
    line: int | None = None


@dataclass
class Adr:
    path: str
    title: str
    title_line: int | None
    reasons: list[Reason] = field(default_factory=list)

    @property
    def security(self) -> bool:
        return bool(self.reasons)


@dataclass
class AdrLog:
    folders: list[str] = field(default_factory=list)  # ADR folders present (with any files)
    adrs: list[Adr] = field(default_factory=list)
    adr_dir_note: str | None = None  # what .adr-dir said, when it could not be used


@dataclass(frozen=True)
class _Heading:
    index: int  # 0-based line index
    level: int
    text: str


@cache
def _data() -> dict[str, Any]:
    return catalogue.load("adr")


@cache
def keyword_regex() -> re.Pattern[str]:
    """One regex for every security keyword: whole words, plural allowed, `*` = any ending."""
    parts = []
    for word in _data()["keywords"]:
        if word.endswith("*"):
            parts.append(re.escape(word[:-1]) + r"\w*")
        else:
            parts.append(r"[\s-]+".join(re.escape(w) for w in word.split()) + r"(?:s|es)?")
    return re.compile(r"\b(?:" + "|".join(parts) + r")\b", re.IGNORECASE)


def first_keyword(text: str) -> str | None:
    match = keyword_regex().search(text)
    return match.group(0) if match else None


# --- finding the log -----------------------------------------------------------------------------


def _adr_dir(facts: Facts, log: AdrLog) -> str | None:
    """The folder adr-tools' .adr-dir names, when it is a safe relative path."""
    if not facts.exists(ADR_DIR_FILE):
        return None
    text = facts.read(ADR_DIR_FILE)
    first = next((ln.strip() for ln in (text or "").splitlines() if ln.strip()), "")
    folder = first.replace("\\", "/").removeprefix("./").strip("/")
    if not folder or first.startswith("/") or ".." in folder.split("/") or len(folder) > 300:
        log.adr_dir_note = f"{ADR_DIR_FILE} does not name a folder inside the repository"
        return None
    return folder.lower()


def _folder_of(path: str, folders: frozenset[str], nested: tuple[str, ...]) -> str | None:
    """The ADR folder holding `path`: a listed folder at the root, or a multi-part one anywhere."""
    lower = path.lower()
    parts = lower.split("/")[:-1]
    for i in range(len(parts), 0, -1):
        prefix = "/".join(parts[:i])
        if prefix in folders:
            return path[: len(prefix)]
        if any(prefix.endswith("/" + f) for f in nested):
            return path[: len(prefix)]
    return None


def _candidate(path: str) -> bool:
    name = path.rpartition("/")[2]
    stem, dot, ext = name.rpartition(".")
    if not dot or f".{ext.lower()}" not in _data()["extensions"]:
        return False
    return stem.lower() not in _data()["not_adrs"]


def _log_folders(adr_dir: str | None) -> tuple[frozenset[str], tuple[str, ...], frozenset[str]]:
    """(ADR folders, the ones with several parts, their last parts), lower case."""
    if adr_dir is None:
        return _catalogue_log_folders()  # most repositories: the same every time
    return _folder_sets((*_catalogue_folders(), adr_dir))


@cache
def _catalogue_folders() -> tuple[str, ...]:
    return tuple(f.lower() for f in _data()["folders"])


@cache
def _catalogue_log_folders() -> tuple[frozenset[str], tuple[str, ...], frozenset[str]]:
    return _folder_sets(_catalogue_folders())


def _folder_sets(
    listed: tuple[str, ...],
) -> tuple[frozenset[str], tuple[str, ...], frozenset[str]]:
    nested = tuple(f for f in listed if "/" in f)
    return frozenset(listed), nested, frozenset(f.rpartition("/")[2] for f in listed)


def _files_by_folder(facts: Facts, log: AdrLog) -> dict[str, list[str]]:
    folders, nested, last_names = _log_folders(_adr_dir(facts, log))
    found: dict[str, list[str]] = {}
    # A path can only lie in an ADR folder if one of its folders has an ADR folder's name; which
    # ADR folder holds a path depends on its folder alone, so each folder is tested once.
    for folder, paths in sorted(facts.index.kept_folders.items()):
        if not folder or last_names.isdisjoint(folder.lower().split("/")):
            continue
        adr_folder = _folder_of(paths[0], folders, nested)
        if adr_folder is not None:
            found.setdefault(adr_folder, []).extend(paths)
    return found


# --- reading one ADR -----------------------------------------------------------------------------


def _headings(lines: list[str]) -> list[_Heading]:
    """Markdown (ATX and setext), AsciiDoc and reStructuredText headings, outside code fences."""
    found: list[_Heading] = []
    underline_levels: dict[str, int] = {}
    fenced = False
    for i, line in enumerate(lines):
        if len(line) > _MAX_LINE:
            continue
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            continue
        md = _MD_HEADING.fullmatch(line) or _ADOC_HEADING.fullmatch(line)
        if md:
            found.append(_Heading(i, len(md.group(1)), md.group(2).strip().rstrip("#").strip()))
            continue
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        under = _UNDERLINE.fullmatch(nxt) if len(nxt) <= _MAX_LINE else None
        if under and line.strip() and not _UNDERLINE.fullmatch(line):
            level = underline_levels.setdefault(under.group(1), len(underline_levels) + 1)
            found.append(_Heading(i, level, line.strip()))
    return found


def _heading_key(text: str) -> str:
    return _NUMBER_PREFIX.sub("", text).strip().strip(":").strip().lower()


def _decision_reason(lines: list[str], headings: list[_Heading], offset: int) -> Reason | None:
    wanted = set(_data()["decision_headings"])
    for n, heading in enumerate(headings):
        if _heading_key(heading.text) not in wanted:
            continue
        end = next((h.index for h in headings[n + 1 :] if h.level <= heading.level), len(lines))
        for i in range(heading.index + 1, end):
            word = first_keyword(lines[i][:_MAX_LINE])
            if word:
                return Reason(f"its {heading.text} section mentions {word!r}", offset + i + 1)
    return None


def _tags(value: Any) -> list[str]:
    if isinstance(value, str):
        value = re.split(r"[,;\s]+", value)
    if not isinstance(value, list):
        return []
    return [str(v).strip("#[]`*'\" ").lower() for v in value]


def _tag_reasons(meta: dict[str, Any] | None, lines: list[str], offset: int) -> list[Reason]:
    security = set(_data()["security_tags"])
    if meta is not None:
        hit = next((t for t in _tags(meta.get("tags")) if t in security), None)
        if hit:
            at = next(
                (i + 1 for i, ln in enumerate(lines[:offset]) if ln.lstrip().startswith("tags")),
                None,
            )
            return [Reason(f"its front matter tags include {hit!r}", at)]
    for i, line in enumerate(lines[offset:], start=offset):
        match = _TAGS_LINE.fullmatch(line) if len(line) <= _MAX_LINE else None
        if match:
            hit = next((t for t in _tags(match.group(1)) if t in security), None)
            if hit:
                return [Reason(f"its Tags line includes {hit!r}", i + 1)]
    return []


def _title(
    meta: dict[str, Any] | None, path: str, headings: list[_Heading], offset: int
) -> tuple[str, int | None]:
    if headings:
        return headings[0].text, offset + headings[0].index + 1
    if meta is not None and isinstance(meta.get("title"), str):
        return meta["title"], None
    return _name_words(path), None


def _name_words(path: str) -> str:
    stem = path.rpartition("/")[2].rpartition(".")[0]
    return (
        re.sub(r"^(?:adr[-_ ]?)?\d+[-_ .]*", "", stem, flags=re.IGNORECASE)
        .replace("-", " ")
        .replace("_", " ")
    )


def read_adr(facts: Facts, path: str, numbered: bool) -> Adr | None:
    """The ADR at `path`, or None when it is not one (unnumbered without MADR front matter)."""
    text = facts.read(path)
    if text is None:
        return Adr(path, _name_words(path), None) if numbered else None
    meta, offset = front_matter(text)
    if not numbered and not (meta and any(k in meta for k in _data()["madr_keys"])):
        return None
    lines = text.splitlines()
    headings = _headings(lines[offset:])
    title, title_line = _title(meta, path, headings, offset)
    adr = Adr(path, title, title_line)
    adr.reasons.extend(_tag_reasons(meta, lines, offset))
    from_name = title == _name_words(path) and title_line is None
    word = None if from_name else first_keyword(title[:_MAX_LINE])
    if word:
        adr.reasons.append(Reason(f"its title mentions {word!r}", title_line))
    else:
        word = first_keyword(_name_words(path))
        if word:
            adr.reasons.append(Reason(f"its file name mentions {word!r}"))
    decision = _decision_reason(lines[offset:], headings, offset)
    if decision is not None:
        adr.reasons.append(decision)
    return adr


def collect(facts: Facts) -> AdrLog:
    log = AdrLog()
    by_folder = _files_by_folder(facts, log)
    log.folders = sorted(by_folder)
    candidates = sorted(p for paths in by_folder.values() for p in paths if _candidate(p))
    for path in candidates[:_MAX_ADRS_READ]:
        numbered = bool(_NUMBERED.match(path.rpartition("/")[2]))
        adr = read_adr(facts, path, numbered)
        if adr is not None:
            log.adrs.append(adr)
    return log
