"""What every report format needs to say the same thing: counts, the headline, the order of
controls, the static-analysis matrix; and `clean`, which makes repository-derived text safe to
show before each format applies its own escaping (rich markup, Markdown, HTML, SARIF links).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from secposture.model import ControlResult, Finding, Level, Location, Outcome, ScanReport, Status

# The probe whose findings (values language=, stage=, tools=) make the static-analysis matrix.
ANALYSIS_PROBE = "static-analysis-coverage"
STAGES = ("pre-commit", "ci", "ide")


def status_counts(report: ScanReport) -> dict[str, int]:
    counts = Counter(r.status.value for r in report.results)
    return {s.value: counts.get(s.value, 0) for s in Status}


def level_counts(report: ScanReport) -> dict[str, dict[str, int]]:
    """Status counts per level, every level and status present (zeros included)."""
    out: dict[str, dict[str, int]] = {}
    for level in Level:
        counts = Counter(r.status.value for r in report.results if r.level is level)
        out[level.value] = {s.value: counts.get(s.value, 0) for s in Status}
    return out


def by_level(report: ScanReport) -> list[tuple[Level, list[ControlResult]]]:
    """The controls grouped by level, strictest first, in catalogue order; empty levels left out."""
    groups = [(level, [r for r in report.results if r.level is level]) for level in Level]
    return [(level, rows) for level, rows in groups if rows]


def failing_at(report: ScanReport, level: Level) -> list[ControlResult]:
    """Controls of exactly this level that fail or are partial."""
    return [r for r in report.results if r.level is level and r.status.failing]


def headline(report: ScanReport) -> str:
    """One sentence for the top of a report: how many required controls fail, then the rest."""
    required = failing_at(report, Level.REQUIRED)
    n = len(required)
    if n:
        text = f"{n} required control{'s' if n != 1 else ''} failing"
    else:
        text = "No required controls failing"
    others = [
        f"{len(failing_at(report, level))} {level.value}"
        for level in (Level.RECOMMENDED, Level.EXTRA)
        if failing_at(report, level)
    ]
    if others:
        text += f" ({' and '.join(others)} also failing)"
    return text


def not_positive(result: ControlResult) -> list[Finding]:
    """The findings that explain a status other than pass (what is missing, and where)."""
    return [
        f for f in result.findings if f.outcome not in (Outcome.POSITIVE, Outcome.NOT_APPLICABLE)
    ]


# --- the static-analysis matrix -----------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    outcome: Outcome
    tools: tuple[str, ...]
    location: Location | None


@dataclass(frozen=True)
class Matrix:
    languages: tuple[str, ...]
    cells: dict[tuple[str, str], Cell]

    def cell(self, language: str, stage: str) -> Cell | None:
        return self.cells.get((language, stage))


def analysis_matrix(report: ScanReport) -> Matrix | None:
    """Language x stage, from the findings of the static-analysis probe; None when it did not run."""
    findings = [f for r in report.results for f in r.findings if f.probe == ANALYSIS_PROBE]
    cells: dict[tuple[str, str], Cell] = {}
    languages: list[str] = []
    for f in findings:
        language = f.values.get("language")
        stage = f.values.get("stage")
        if not language or stage not in STAGES:
            continue
        if language not in languages:
            languages.append(language)
        tools = tuple(t.strip() for t in f.values.get("tools", "").split(",") if t.strip())
        cells[(language, stage)] = Cell(f.outcome, tools, f.location)
    if not languages:
        return None
    return Matrix(tuple(languages), cells)


# --- making repository text safe to show --------------------------------------------------------

# Control characters (they move the cursor or colour a terminal), DEL, C1 controls, and the Unicode
# bidirectional overrides that can make a file name read differently from what it is, and the Unicode
# line and paragraph separators (U+2028, U+2029) that break a Markdown table row in some readers.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")
# A file name that is not UTF-8 arrives with surrogate escapes (see sources/local.py).
_SURROGATE = re.compile("[\udc80-\udcff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _visible(match: re.Match[str]) -> str:
    ch = match.group()
    named = _NAMED.get(ch)
    if named is not None:
        return named
    code = ord(ch)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def _byte(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()) - 0xDC00:02x}"


def clean(text: str, *, keep_newlines: bool = False) -> str:
    """Text with control characters, bidi overrides and undecodable bytes shown as escapes."""
    text = _SURROGATE.sub(_byte, text)
    if keep_newlines:
        return "\n".join(_UNSAFE.sub(_visible, line) for line in text.split("\n"))
    return _UNSAFE.sub(_visible, text)


# What a UTF-8 store (SQLite, PostgreSQL, a JSON file) cannot hold: a surrogate has no UTF-8
# encoding, and PostgreSQL refuses NUL in text.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> str:
    """Text any UTF-8 store accepts, for the register: an undecodable byte of a name as `\\xNN`,
    as `clean` shows it, a lone surrogate as `\\uXXXX`, NUL as `\\x00`; the rest unchanged."""
    if _UNSTORABLE.search(text) is None:
        return text
    return _UNSTORABLE.sub(_visible, _SURROGATE.sub(_byte, text))


def storable_tree(value: Any) -> Any:
    """`storable` applied to every string (keys too) of a JSON-shaped value."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return {storable_tree(k): storable_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable_tree(v) for v in value]
    return value


def clean_tree(value: Any) -> Any:
    """`clean` applied to every string (keys too) of a JSON-shaped value; newlines are kept."""
    if isinstance(value, str):
        return clean(value, keep_newlines=True)
    if isinstance(value, dict):
        return {clean_tree(k): clean_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_tree(v) for v in value]
    return value


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"
