"""Architecture Decision Records: the ADR log, its records, and which record security decisions.

An ADR log is wherever a repository keeps numbered decision records:
- a usual folder (data/adr.toml), the folder adr-tools' `.adr-dir` or log4brains' `.log4brains.yml`
  names: every file named NNN-title (3+ digits, `adr-012-...` too) or carrying MADR front matter;
- any other folder whose name says decisions (`architecture-decision-record/`, `design_decisions/`):
  its numbered files that read as ADRs (a Decision section, and a status or a Context section);
- anywhere, a file whose name says it is an ADR (`docs/arch/adr-001-title.md`, `ADR-002_Title.md`).
Any Markdown flavour (Nygard, MADR with front matter, a metadata table), reStructuredText and
AsciiDoc. A template (`template` in its name, `{{ placeholders }}`, a status listing the choices, a
number placeholder) is not an ADR.

An ADR records a security decision when it is tagged so, or when its subject (title, else file name)
or its decision (the Decision section, whatever its heading) is a security one (data/adr.toml
keywords, whole words); a word said in passing elsewhere does not count. An ADR that records no
decision in force (proposed, draft, rejected) or only points to one kept elsewhere (a sign-post: a
title and a link) does not count either. Each reason is kept with its line, for the evidence.

An ADR `secposture fix` generated (the `generated_by` marker, facts/generated.py) records what the
tool wrote, not what the team decided: it counts only once a person has made it the team's
decision, by accepting it and deleting the marker (ADR 0015).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from secposture import catalogue
from secposture.facts import generated
from secposture.facts.interface import Facts
from secposture.facts.parsing import front_matter, load_yaml

ADR_DIR_FILE = ".adr-dir"
LOG4BRAINS_FILE = ".log4brains.yml"
_MAX_ADRS_READ = 1000  # a log larger than this is read in part (sorted order): enough to decide
_MAX_LOOSE_READ = 200  # numbered files outside ADR folders read to see whether they are ADRs
_MAX_LINE = 2000  # longer lines are not headings or tag lines worth parsing

_NUMBERED = re.compile(r"(?:adr[-_ ]?)?\d{3,}(?:[-_ .]|$)", re.IGNORECASE)
_NAMED_ADR = re.compile(r"adr[-_ ]?\d{1,}(?:[-_ .:]|$)", re.IGNORECASE)
_NUMBER_PLACEHOLDER = re.compile(
    r"(?:adr[-_ ]?)?(?:n{3,}|x{3,}|#{3,}|\?{3,})(?:[-_ .]|$)", re.IGNORECASE
)
_PLACEHOLDER = re.compile(r"\{\{[^{}\n]{0,100}\}\}|\{%[^%\n]{0,100}%\}")
_BRACED_TITLE = re.compile(r"[{\[][^{}\[\]\n]{1,200}[}\]]")
_DOLLAR_PLACEHOLDER = re.compile(
    r"\$\{?[A-Za-z_]\w{0,40}\}?"
)  # string.Template: `# $number. Title`
_MD_HEADING = re.compile(r" {0,3}(#{1,6})[ \t]+(\S.*)")
_ADOC_HEADING = re.compile(r"(={1,6})[ \t]+(\S.*)")
_UNDERLINE = re.compile(r"([=\-~^\"'`#*+])\1{2,}[ \t]*")
_TAGS_LINE = re.compile(
    r"[\s*_>|-]{0,10}tags?[*_]{0,3}[ \t]*[:=|][*_]{0,3}[ \t]*(\S.*)", re.IGNORECASE
)
_STATUS_LINE = re.compile(
    r"[\s*_>|-]{0,10}status[*_]{0,3}[ \t]*[:=|][*_]{0,3}[ \t]*(\S.*)", re.IGNORECASE
)
_DATE_LINE = re.compile(r"[\s*_>|-]{0,10}(?:date|deciders?|owners?|authors?)\b", re.IGNORECASE)
_FENCE = re.compile(r" {0,3}(```|~~~)")
_NUMBER_PREFIX = re.compile(r"^\s*(?:\d+[.)]?\s+)?")
_LINK = re.compile(r"https?://|\]\([^)\s]{1,500}\)")
_WORDS = re.compile(r"[A-Za-z]{2,}")
_URL = re.compile(r"https?://\S{0,2000}")
_LINK_TARGET = re.compile(r"\]\([^)\s]{0,500}\)")


def _prose(line: str) -> str:
    """A line without its URLs and link targets: `https://` is no decision about HTTPS."""
    return _LINK_TARGET.sub("]", _URL.sub(" ", line[:_MAX_LINE]))


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
    status: str | None = None  # the status it records, as found (lower case), if any
    # Why it records no decision in force, if so: its status, or that it only points elsewhere.
    not_a_decision: str | None = None
    generated: int | None = None  # the line of the generated_by marker: written by fix

    @property
    def security(self) -> bool:
        """Whether it records a security decision: reasons, a decision in force, and the team's
        (not a file fix generated that nobody has made their own)."""
        return bool(self.reasons) and self.not_a_decision is None and self.generated is None

    @property
    def not_the_teams(self) -> str | None:
        """Why an ADR fix generated is not (yet) a decision of the team, or None when it is not
        one of fix's."""
        if self.generated is None:
            return None
        if self.not_a_decision is not None:
            return (
                f"was generated by secposture fix and {self.not_a_decision}; once the team agrees, "
                "set its status to Accepted and delete its generated_by line "
                f"(line {self.generated})"
            )
        return (
            "was generated by secposture fix and is still marked so: delete its generated_by line "
            f"(line {self.generated}) once the team has made the decision its own"
        )


@dataclass
class AdrLog:
    folders: list[str] = field(default_factory=list)  # ADR folders present (with any files)
    adrs: list[Adr] = field(default_factory=list)
    adr_dir_note: str | None = None  # what .adr-dir or .log4brains.yml said, when unusable
    templates: list[str] = field(default_factory=list)  # templates for ADRs in the log's folders


@dataclass(frozen=True)
class _Heading:
    index: int  # 0-based line index
    level: int
    text: str


@cache
def _data() -> dict[str, Any]:
    return catalogue.load("adr")


def _word_pattern(words: Iterable[str]) -> str:
    parts = []
    for word in words:
        if word.endswith("*"):
            parts.append(re.escape(word[:-1]) + r"\w{0,30}")
        else:
            joined = r"[\s-]{1,5}".join(re.escape(w) for w in re.split(r"[\s-]+", word))
            parts.append(joined + r"(?:s|es)?")
    return r"\b(?:" + "|".join(parts) + r")\b"


@cache
def keyword_regex() -> re.Pattern[str]:
    """One regex for every (strong) security keyword: whole words, plural allowed, `*` = any
    ending."""
    return re.compile(_word_pattern(_data()["keywords"]), re.IGNORECASE)


@cache
def _weak_regex() -> re.Pattern[str]:
    return re.compile(_word_pattern(_data()["weak_keywords"]), re.IGNORECASE)


def first_keyword(text: str) -> str | None:
    match = keyword_regex().search(text)
    return match.group(0) if match else None


@cache
def _weak_set() -> frozenset[str]:
    return frozenset(w.lower() for w in _data()["weak_keywords"])


def _weak_words(text: str) -> dict[str, None]:
    """The weak keywords in a text, in order, one form each ("secrets" and "secret" are one)."""
    found: dict[str, None] = {}
    for match in _weak_regex().finditer(text):
        word = re.sub(r"[\s-]+", " ", match.group(0).lower())
        for plural in ("es", "s"):
            if word.endswith(plural) and word[: -len(plural)] in _weak_set():
                word = word[: -len(plural)]
                break
        found[word] = None
    return found


@cache
def _status_regex(kind: str) -> re.Pattern[str]:
    words = sorted(_data()[kind], key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b", re.IGNORECASE)


# --- finding the log -----------------------------------------------------------------------------


def _safe_folder(value: str) -> str | None:
    folder = value.strip().replace("\\", "/").removeprefix("./").strip("/")
    if (
        not folder
        or value.strip().startswith("/")
        or ".." in folder.split("/")
        or len(folder) > 300
    ):
        return None
    return folder.lower()


def _adr_dir(facts: Facts, log: AdrLog) -> list[str]:
    """The folders adr-tools' .adr-dir and log4brains' .log4brains.yml name, when they are safe
    relative paths."""
    named: list[str] = []
    if facts.exists(ADR_DIR_FILE):
        text = facts.read(ADR_DIR_FILE)
        first = next((ln.strip() for ln in (text or "").splitlines() if ln.strip()), "")
        folder = _safe_folder(first)
        if folder is None:
            log.adr_dir_note = f"{ADR_DIR_FILE} does not name a folder inside the repository"
        else:
            named.append(folder)
    if facts.exists(LOG4BRAINS_FILE):
        config = load_yaml(facts, LOG4BRAINS_FILE)
        project = config.get("project") if isinstance(config, dict) else None
        values: list[object] = []
        if isinstance(project, dict):
            values.append(project.get("adrFolder"))
            packages = project.get("packages")
            if isinstance(packages, list):
                values.extend(p.get("adrFolder") for p in packages[:100] if isinstance(p, dict))
        for value in values:
            folder = _safe_folder(value) if isinstance(value, str) else None
            if folder is not None:
                named.append(folder)
    return named


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


def _extension_ok(name: str) -> bool:
    stem, dot, ext = name.rpartition(".")
    return bool(dot) and bool(stem) and f".{ext.lower()}" in _data()["extensions"]


def _template_name(name: str) -> bool:
    """`template` in the name, or a number placeholder (`ADR-XXX_...`, `nnnn-title.md`)."""
    stem = name.rpartition(".")[0].lower()
    words = set(re.split(r"[-_. ]+", stem))
    return (
        stem in _data()["not_adrs"]
        or not words.isdisjoint(_data()["template_words"])
        or bool(_NUMBER_PLACEHOLDER.match(stem))
    )


def _is_template_file(path: str) -> bool:
    """A template for ADRs by its name (`template.md`, `0000-adr-template.md`)."""
    name = path.rpartition("/")[2]
    words = set(re.split(r"[-_. ]+", name.rpartition(".")[0].lower()))
    return _extension_ok(name) and not words.isdisjoint(_data()["template_words"])


def _candidate(path: str) -> bool:
    """A file that may be an ADR: not a template by its name or its folder (`fix/templates/`)."""
    folder, _, name = path.rpartition("/")
    in_templates = not set(folder.lower().split("/")).isdisjoint(_data()["template_words"])
    return _extension_ok(name) and not _template_name(name) and not in_templates


def _log_folders(named: list[str]) -> tuple[frozenset[str], tuple[str, ...], frozenset[str]]:
    """(ADR folders, the ones with several parts, their last parts), lower case."""
    if not named:
        return _catalogue_log_folders()  # most repositories: the same every time
    return _folder_sets((*_catalogue_folders(), *named))


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


def _named_for_decisions(folder: str) -> str | None:
    """The part of a folder path whose name says it holds decisions (`docs/design_decisions`,
    `architecture-decision-record`), or None."""
    words = frozenset(_data()["folder_words"])
    parts = folder.split("/")
    for i in range(len(parts) - 1, -1, -1):
        if not words.isdisjoint(re.split(r"[-_. ]+", parts[i].lower())):
            return "/".join(parts[: i + 1])
    return None


@dataclass
class _Found:
    """Candidate ADR files: trusted (in a known ADR folder, or named ADR-NNN), and loose (numbered
    files that must read as ADRs), each by the log folder they would belong to."""

    trusted: dict[str, list[str]] = field(default_factory=dict)
    loose: dict[str, list[str]] = field(default_factory=dict)


def _find(facts: Facts, log: AdrLog) -> _Found:
    folders, nested, last_names = _log_folders(_adr_dir(facts, log))
    found = _Found()
    # Which ADR folder holds a path depends on its folder alone: each folder is tested once.
    for folder, paths in sorted(facts.index.kept_folders.items()):
        if not folder or facts.is_set_aside(paths[0]):
            continue  # the root holds no log; test data and examples are not the product's
        lower_parts = folder.lower().split("/")
        if not last_names.isdisjoint(lower_parts):
            adr_folder = _folder_of(paths[0], folders, nested)
            if adr_folder is not None:
                found.trusted.setdefault(adr_folder, []).extend(paths)
                continue
        named = _named_for_decisions(folder)
        for path in paths:
            name = path.rpartition("/")[2]
            if not _extension_ok(name):
                continue
            if _NAMED_ADR.match(name):
                found.trusted.setdefault(folder, []).append(path)
            elif _NUMBERED.match(name):
                found.loose.setdefault(named or folder, []).append(path)
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


def _sections(
    lines: list[str], headings: list[_Heading], wanted: Iterable[str]
) -> list[tuple[_Heading, int]]:
    """(heading, end line index) of each section whose heading is one of `wanted`."""
    keys = set(wanted)
    out = []
    for n, heading in enumerate(headings):
        if _heading_key(heading.text) in keys:
            end = next((h.index for h in headings[n + 1 :] if h.level <= heading.level), len(lines))
            out.append((heading, end))
    return out


def _decision_reason(
    lines: list[str], headings: list[_Heading], offset: int
) -> tuple[Reason | None, bool]:
    """(a security decision in a Decision section: a keyword, or two different weak ones; whether
    a Decision section names any security word at all)."""
    any_word = False
    for heading, end in _sections(lines, headings, _data()["decision_headings"]):
        weak: dict[str, int] = {}
        for i in range(heading.index + 1, end):
            line = _prose(lines[i])
            word = first_keyword(line)
            if word:
                return Reason(
                    f"its {heading.text} section decides on {word!r}", offset + i + 1
                ), True
            for found in _weak_words(line):
                weak.setdefault(found, offset + i + 1)
            if len(weak) >= 2:
                shown = " and ".join(repr(w) for w in list(weak)[:2])
                reason = Reason(
                    f"its {heading.text} section decides on {shown}", min(weak.values())
                )
                return reason, True
        any_word = any_word or bool(weak)
    return None, any_word


def _tags(value: Any) -> list[str]:
    if isinstance(value, str):
        value = re.split(r"[,;\s]+", value)
    if not isinstance(value, list):
        return []
    return [str(v).strip("#[]`*'\" ").lower() for v in value[:200]]


def _tag_reasons(
    meta: dict[str, Any] | None, lines: list[str], headings: list[_Heading], offset: int
) -> list[Reason]:
    security = set(_data()["security_tags"])
    if meta is not None:
        hit = next((t for t in _tags(meta.get("tags")) if t in security), None)
        if hit:
            at = next(
                (i + 1 for i, ln in enumerate(lines[:offset]) if ln.lstrip().startswith("tags")),
                None,
            )
            return [Reason(f"its front matter tags include {hit!r}", at)]
    body = lines[offset:]
    for i, line in enumerate(body):
        match = _TAGS_LINE.fullmatch(line) if len(line) <= _MAX_LINE else None
        if match:
            hit = next((t for t in _tags(match.group(1)) if t in security), None)
            if hit:
                return [Reason(f"its Tags line includes {hit!r}", offset + i + 1)]
    for heading, end in _sections(body, headings, ("tags", "tag")):
        for i in range(heading.index + 1, end):
            hit = next((t for t in _tags(_prose(body[i])) if t in security), None)
            if hit:
                return [Reason(f"its Tags section includes {hit!r}", offset + i + 1)]
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


def _status(meta: dict[str, Any] | None, lines: list[str], headings: list[_Heading]) -> str | None:
    """What the ADR says its status is (front matter, a Status section's first line, a Status
    line or table row), as written."""
    if meta is not None and isinstance(meta.get("status"), str):
        return str(meta["status"])[:_MAX_LINE]
    for heading, end in _sections(lines, headings, ("status",)):
        first = next((ln for ln in lines[heading.index + 1 : end] if ln.strip()), None)
        if first is not None:
            return first[:_MAX_LINE]
    for line in lines[:60]:
        match = _STATUS_LINE.fullmatch(line) if len(line) <= _MAX_LINE else None
        if match:
            return match.group(1)
    return None


def _template_status(status: str) -> bool:
    """A status that lists the choices (`{proposed | rejected | accepted}`): a template's."""
    named = {
        m.group(0).lower()
        for kind in ("undecided_statuses", "decided_statuses")
        for m in _status_regex(kind).finditer(status)
    }
    return len(named) >= int(_data()["template_statuses"])


def _not_in_force(status: str) -> str | None:
    """The status word that means no decision is in force, when it is the first one named."""
    undecided = _status_regex("undecided_statuses").search(status)
    if undecided is None:
        return None
    decided = _status_regex("decided_statuses").search(status)
    if decided is not None and decided.start() < undecided.start():
        return None  # "Accepted (proposed 2024-01-02)", "Superseded: was proposed as ..."
    return undecided.group(0).lower()


def _signpost(lines: list[str], headings: list[_Heading], title_index: int | None) -> bool:
    """A title and a link to a decision kept elsewhere, and little else: a sign-post."""
    if _sections(lines, headings, _data()["decision_headings"]):
        return False
    heading_lines = {h.index for h in headings}
    body = [
        ln
        for i, ln in enumerate(lines[:200])
        if i != title_index
        and i not in heading_lines
        and not _DATE_LINE.match(ln)
        and not _STATUS_LINE.fullmatch(ln[:_MAX_LINE])
        and not _UNDERLINE.fullmatch(ln[:_MAX_LINE])
    ]
    text = "\n".join(body)
    if not _LINK.search(text):
        return False
    words = len(_WORDS.findall(_URL.sub(" ", text)))
    return words < int(_data()["signpost_words"]) and len(lines) < 200


def _reads_as_adr(lines: list[str], headings: list[_Heading], status: str | None) -> bool:
    """Outside a known ADR folder, a numbered document is an ADR when it has a Decision section,
    and a status or a Context section."""
    if not _sections(lines, headings, _data()["decision_headings"]):
        return False
    return status is not None or bool(_sections(lines, headings, _data()["context_headings"]))


def read_adr(facts: Facts, path: str, numbered: bool, trusted: bool = True) -> Adr | None:
    """The ADR at `path`, or None when it is not one: unnumbered without MADR front matter, a
    template, or (outside a known ADR folder, `trusted` False) a document that does not read as
    an ADR."""
    text = facts.read(path)
    if text is None:
        return Adr(path, _name_words(path), None) if numbered and trusted else None
    meta, offset = front_matter(text)
    if not numbered and not (meta and any(k in meta for k in _data()["madr_keys"])):
        return None
    lines = text.splitlines()
    body = lines[offset:]
    headings = _headings(body)
    title, title_line = _title(meta, path, headings, offset)
    status = _status(meta, body, headings)
    if (
        _PLACEHOLDER.search(text)
        or _BRACED_TITLE.fullmatch(title.strip())
        or _DOLLAR_PLACEHOLDER.search(title)
        or (status is not None and _template_status(status))
    ):
        return None  # a template for ADRs, not an ADR
    if not trusted and not _reads_as_adr(body, headings, status):
        return None
    adr = Adr(path, title, title_line, status=status.strip().lower() if status else None)
    adr.generated = generated.marker_line(text)
    if status is not None:
        word = _not_in_force(status)
        if word is not None:
            adr.not_a_decision = f"its status is {word!r}: no decision in force"
    title_index = headings[0].index if headings else None
    if adr.not_a_decision is None and _signpost(body, headings, title_index):
        adr.not_a_decision = "it only points to a decision kept elsewhere (a title and a link)"
    adr.reasons.extend(_tag_reasons(meta, lines, headings, offset))
    decision, decision_words = _decision_reason(body, headings, offset)
    adr.reasons.extend(_subject_reasons(path, title, title_line, decision_words))
    if decision is not None:
        adr.reasons.append(decision)
    return adr


def _subject_reasons(
    path: str, title: str, title_line: int | None, decision_words: bool
) -> list[Reason]:
    """Reasons in the ADR's subject: a keyword in its title (else its file name), or a weak one
    there with a security word in the Decision section too, or two weak ones."""
    from_name = title == _name_words(path) and title_line is None
    subject = _name_words(path) if from_name else _prose(title)
    where = "file name" if from_name else "title"
    word = first_keyword(subject)
    if word is None and not from_name:
        word = first_keyword(_name_words(path))
        if word is not None:
            return [Reason(f"its file name is about {word!r}")]
    if word:
        return [Reason(f"its {where} is about {word!r}", None if from_name else title_line)]
    weak = list(_weak_words(subject))
    if weak and (decision_words or len(weak) >= 2):
        return [Reason(f"its {where} is about {weak[0]!r}", None if from_name else title_line)]
    return []


def collect(facts: Facts) -> AdrLog:
    log = AdrLog()
    found = _find(facts, log)
    read = 0
    for folder, paths in sorted(found.trusted.items()):
        candidates = sorted(p for p in paths if _candidate(p))
        log.templates.extend(sorted(p for p in paths if _is_template_file(p)))
        for path in candidates[: max(0, _MAX_ADRS_READ - read)]:
            read += 1
            numbered = bool(_NUMBERED.match(path.rpartition("/")[2]))
            adr = read_adr(facts, path, numbered)
            if adr is not None:
                log.adrs.append(adr)
                if folder not in log.folders:
                    log.folders.append(folder)
        if folder not in log.folders and paths:
            log.folders.append(folder)  # an ADR folder without ADRs: said so
    loose = 0
    for folder, paths in sorted(found.loose.items()):
        for path in sorted(p for p in paths if _candidate(p)):
            if loose >= _MAX_LOOSE_READ:
                break
            loose += 1
            adr = read_adr(facts, path, numbered=True, trusted=False)
            if adr is not None:
                log.adrs.append(adr)
                if folder not in log.folders:
                    log.folders.append(folder)
    log.folders.sort()
    log.adrs.sort(key=lambda a: a.path)
    return log
