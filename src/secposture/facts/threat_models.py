"""Threat-model artefacts in the repository, and when the threat model was last reviewed.

Artefacts: documents in a threat-model folder (Markdown front matter `last_reviewed_on` gives the
review date), pytm scripts (read, never run), Threagile models (their `date`), Threat Dragon models
and Open Threat Model documents. Only a recorded date is a review: a commit is not one (it may fix
a typo), so an artefact that records no date has none (ADR 0015).

A document `secposture fix` generated carries the `generated_by` marker (facts/generated.py): an
agenda for a session, not the record of one. Its placeholder `last_reviewed_on: not yet reviewed`
is no date and no problem either: it says that no session was held, with the marker deleted or
not; a date a person wrote there is a review like any other.

Not artefacts of the product: look-alikes in test folders, test data and examples; empty files and
placeholders (`.gitkeep`) in a threat-model folder; and the example models in the repository of a
threat-modelling tool itself (pytm's `tm.py` beside its `pytm/` package). They are kept, with why,
in `set_aside`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

from secposture import catalogue
from secposture.dates import as_date
from secposture.facts import generated
from secposture.facts.interface import Facts
from secposture.facts.parsing import front_matter, line_of, load_json, load_yaml
from secposture.paths import glob_matcher

DOCUMENT = "document"
PYTM = "pytm"
THREAGILE = "Threagile"
THREAT_DRAGON = "Threat Dragon"
OTM = "Open Threat Model"

_PYTM_IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+pytm[ \t.]|import[ \t]+pytm\b)", re.MULTILINE)
_TEXT_EXTENSIONS = (".md", ".markdown", ".rst", ".adoc", ".txt")
_FOLDERS_NAMED = 5


@dataclass
class Artefact:
    path: str
    kind: str
    review_date: date | None = None
    date_source: str | None = None  # e.g. "front matter last_reviewed_on"
    line: int | None = None
    note: str | None = None  # why a recorded date could not be used
    generated: int | None = None  # the line of the generated_by marker (a template of fix's)
    unreviewed: bool = False  # it says so: the template's `last_reviewed_on: not yet reviewed`

    @property
    def dated_in_front_matter(self) -> bool:
        """A text document: its front matter is where `last_reviewed_on` is written."""
        return self.kind == DOCUMENT and self.path.lower().endswith(_TEXT_EXTENSIONS)


@dataclass
class ThreatModels:
    artefacts: list[Artefact] = field(default_factory=list)
    # Files that look like artefacts but are not the product's threat model: (path, why).
    set_aside: list[tuple[str, str]] = field(default_factory=list)

    @property
    def only_templates(self) -> bool:
        """Every artefact is the template `fix` generates (marked, or saying it is not yet
        reviewed): no session has left anything behind."""
        return bool(self.artefacts) and all(
            a.generated is not None or a.unreviewed for a in self.artefacts
        )


@dataclass(frozen=True)
class Review:
    """The latest recorded review: its date and where it is recorded."""

    day: date
    path: str
    line: int | None
    source: str


@cache
def _data() -> dict[str, Any]:
    return catalogue.load("threat_model")


def looked_in() -> str:
    """The usual threat-model folders, for a message (catalogue order, the likeliest first)."""
    folders = [g.removesuffix("/*") + "/" for g in _data()["locations"] if g.endswith("/*")]
    shown = ", ".join(folders[:_FOLDERS_NAMED])
    more = len(folders) - _FOLDERS_NAMED
    return f"{shown} (and {more} more)" if more > 0 else shown


def _matches(path: str, globs: list[str]) -> bool:
    """Whether the lower-cased path matches a glob (`*` crosses folders)."""
    return glob_matcher(tuple(globs))(path.lower())


@cache
def _matchers() -> tuple[Callable[[str], bool], ...]:
    """(any of the three below: most paths are none, in a threat-model location, a pytm
    script's name, a structured model's name)."""
    data = _data()
    structured = data["threagile_names"] + data["threat_dragon_names"] + data["otm_names"]
    return (
        glob_matcher(tuple(data["locations"] + data["pytm_names"] + structured)),
        glob_matcher(tuple(data["locations"])),
        glob_matcher(tuple(data["pytm_names"])),
        glob_matcher(tuple(structured)),
    )


def _recorded_date(facts: Facts, artefact: Artefact, value: Any, source: str) -> None:
    """Set the artefact's review date from a recorded value; a bad one is a Problem and a note."""
    day = as_date(value)
    if day is None:
        problem = facts.problem(
            artefact.path,
            f"{source} {_shown(value)} is not a date (write YYYY-MM-DD)",
            artefact.line,
        )
    elif day > facts.today:
        problem = facts.problem(
            artefact.path, f"{source} {day.isoformat()} is in the future", artefact.line
        )
    else:
        artefact.review_date, artefact.date_source = day, source
        return
    artefact.note = problem.message if problem.path == artefact.path else str(problem)


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return "(a mapping)"
    if isinstance(value, list):
        return "(a list)"
    return repr(value)[:60]


def _key_line(text: str, key: str) -> int | None:
    match = re.search(rf"^[ \t]*{re.escape(key)}[ \t]*:", text, re.MULTILINE)
    return None if match is None else text.count("\n", 0, match.start()) + 1


def _document(facts: Facts, path: str) -> Artefact:
    artefact = Artefact(path, DOCUMENT)
    text = facts.read(path) if path.lower().endswith(_TEXT_EXTENSIONS) else None
    if not text:
        return artefact
    artefact.generated = generated.marker_line(text)
    meta, length = front_matter(text)
    if meta is None and length:
        meta = _raw_front_matter(text, length)  # unparsable YAML (2026-02-30): read the keys raw
    key = next((k for k in _data()["review_keys"] if meta and k in meta), None)
    if meta is not None and key is not None:
        artefact.line = _key_line(text, key)
        if meta[key] == _data()["generated_placeholder"]:
            artefact.unreviewed = True  # the template's own words: no session, nothing malformed
            return artefact
        _recorded_date(facts, artefact, meta[key], f"front matter {key}")
    return artefact


def _raw_front_matter(text: str, length: int) -> dict[str, Any]:
    """`key: value` lines of a front matter block YAML could not parse, values as written."""
    raw: dict[str, Any] = {}
    for line in text.splitlines()[1 : length - 1]:
        key, colon, value = line.partition(":")
        if colon and key.strip() in _data()["review_keys"]:
            raw.setdefault(key.strip(), value.strip().strip("'\""))
    return raw


def _structured(facts: Facts, path: str, in_location: bool) -> Artefact | None:
    """A Threagile, Threat Dragon or OTM model, or None when the file is none of them."""
    lower = path.lower()
    doc = load_json(facts, path) if lower.endswith(".json") else load_yaml(facts, path)
    if not isinstance(doc, dict):
        return None
    if "threagile_version" in doc or (
        not in_location and _matches(path, _data()["threagile_names"])
    ):
        artefact = Artefact(path, THREAGILE)
        if "date" in doc:
            artefact.line = line_of(doc, "date")
            _recorded_date(facts, artefact, doc["date"], "Threagile date")
        return artefact
    detail = doc.get("detail")
    if "summary" in doc and isinstance(detail, dict) and "diagrams" in detail:
        return Artefact(path, THREAT_DRAGON)
    if "otmVersion" in doc:
        return Artefact(path, OTM)
    return None


def _pytm(facts: Facts, path: str) -> Artefact | None:
    text = facts.read(path)
    if text is None or not _PYTM_IMPORT.search(text):
        return None
    return Artefact(path, PYTM)


def _named(facts: Facts, path: str, lower: str) -> Artefact | None:
    """A named artefact outside the threat-model folders (pytm script, Threagile, Dragon, OTM)."""
    _, _, pytm_name, structured_name = _matchers()
    if pytm_name(lower):
        return _pytm(facts, path)
    if structured_name(lower):
        return _structured(facts, path, in_location=False)
    return None


def _in_location(facts: Facts, path: str) -> Artefact:
    lower = path.lower()
    if lower.endswith(".py"):
        return _pytm(facts, path) or Artefact(path, DOCUMENT)
    if lower.endswith((".json", ".yaml", ".yml")):
        return _structured(facts, path, in_location=True) or Artefact(path, DOCUMENT)
    return _document(facts, path)


def _not_the_products(facts: Facts, path: str, lower: str) -> str | None:
    """Why a path that looks like an artefact is not the product's threat model, or None."""
    data = _data()
    folders = lower.split("/")[:-1]
    if not set(data["not_in_folders"]).isdisjoint(folders):
        return "in a test folder"
    if facts.is_set_aside(path):
        return "test data or an example, not the product"
    return None


@cache
def _tool_source_paths() -> dict[str, tuple[str, ...]]:
    return {kind: tuple(paths) for kind, paths in _data()["tool_sources"].items()}


def _own_tool(facts: Facts, kind: str) -> str | None:
    """A file of the tool's own source, when the repository is that threat-modelling tool."""
    return next((p for p in _tool_source_paths().get(kind, ()) if facts.exists(p)), None)


def _placeholder(facts: Facts, path: str) -> bool:
    """An empty file or a placeholder (`.gitkeep`): no threat model in it."""
    if path.rpartition("/")[2].lower() in _data()["placeholders"]:
        return True
    if not path.lower().endswith(_TEXT_EXTENSIONS):
        return False
    text = facts.read(path)
    return text is not None and not text.strip()


def collect(facts: Facts) -> ThreatModels:
    data = _data()
    models = ThreatModels()
    reads = 0
    candidate, in_location = _matchers()[:2]
    for path in facts.paths:
        lower = path.lower()
        if not candidate(lower):
            continue
        why = _not_the_products(facts, path, lower)
        if why is not None:
            models.set_aside.append((path, why))
            continue
        if in_location(lower):
            if _placeholder(facts, path):
                models.set_aside.append((path, "empty, or a placeholder"))
                continue
            if reads >= data["max_files_read"]:
                models.artefacts.append(Artefact(path, DOCUMENT))
                continue
            reads += 1
            models.artefacts.append(_in_location(facts, path))
            continue
        artefact = _named(facts, path, lower)
        if artefact is not None:
            models.artefacts.append(artefact)
    for artefact in list(models.artefacts):
        source = _own_tool(facts, artefact.kind)
        if source is not None:
            models.artefacts.remove(artefact)
            models.set_aside.append(
                (
                    artefact.path,
                    f"an example model of {artefact.kind}, whose own source this repository "
                    f"holds ({source}): not a threat model of the product",
                )
            )
    return models


def latest_review(models: ThreatModels) -> Review | None:
    """The latest recorded review date of an artefact, or None when none records one."""
    recorded = [(a.review_date, a.path, a) for a in models.artefacts if a.review_date is not None]
    if not recorded:
        return None
    day, path, best = max(recorded, key=lambda t: (t[0], t[1]))
    return Review(day, path, best.line, f"{best.date_source} of {path}")
