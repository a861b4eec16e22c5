"""Severity of a security issue: CVE ids, CVSS vectors and scores, and the patch-by date.

Pure functions, no database: the register's commands and the dashboard call them to validate what
a user typed before anything is stored. Every error is a ValueError whose message says what to
change, and never repeats more than a short excerpt of the input.

CVSS scoring is RedHat's maintained `cvss` library; this module adds the checks that turn its
terse errors into ones a user can act on (which metric is missing, which values are allowed).
"""

from __future__ import annotations

import importlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from types import MappingProxyType
from typing import Any

from secposture import catalogue

SEVERITIES = ("none", "low", "medium", "high", "critical")


def _load_patch_days() -> Mapping[str, int]:
    return MappingProxyType(dict(catalogue.patch_days()))


# The MoJ schedule (data/patch_schedule.toml): critical/high 7 days, medium 28, low 90.
DEFAULT_PATCH_DAYS: Mapping[str, int] = _load_patch_days()

# The oldest CVE ids are from 1999; a CNA may reserve ids for next year in late December.
FIRST_CVE_YEAR = 1999
_CVE_ID = re.compile(r"CVE-([0-9]{4})-([0-9]{4,})", re.ASCII)
_SEPARATORS = re.compile(r"[\s,;]+")
# Dashes a word processor substitutes for the hyphen in pasted ids.
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"))
# The longest valid CVSS v4.0 vector, every optional metric included, is about 250 characters.
_MAX_VECTOR_CHARS = 512
_EXCERPT_CHARS = 40


@dataclass(frozen=True)
class CvssScore:
    """A scored CVSS vector.

    `version` is "3.0", "3.1" or "4.0"; `vector` is the library's normalised form of the input.
    `base_score` is the CVSS v3 base score (temporal and environmental metrics in the vector are
    kept in `vector` but not scored), or for v4.0 the vector's score, which includes any threat
    and environmental metrics given (CVSS-B, CVSS-BT or CVSS-BTE: v4.0 has one score).
    `severity` is the qualitative rating of that score, lower case: one of SEVERITIES.
    """

    version: str
    vector: str
    base_score: float
    severity: str


def parse_cve_ids(text: str, *, today: date | None = None) -> list[str]:
    """The CVE ids in `text`, separated by commas, semicolons or white space.

    Ids are normalised to upper case ("cve-2021-44228" -> "CVE-2021-44228", typographic dashes
    become hyphens) and de-duplicated keeping the first occurrence's order. An empty text gives
    []. The year must be from 1999 to next year (`today` defaults to the local date); the
    sequence has four or more digits, without leading zeros when longer than four (the CVE id
    syntax). Anything else raises ValueError naming the bad item.
    """
    last_year = (today or date.today()).year + 1
    ids: list[str] = []
    for item in _SEPARATORS.split(text.translate(_DASHES)):
        if not item:
            continue
        cve_id = _check_cve_id(item, last_year)
        if cve_id not in ids:
            ids.append(cve_id)
    return ids


def _check_cve_id(item: str, last_year: int) -> str:
    cve_id = item.upper()
    match = _CVE_ID.fullmatch(cve_id)
    if match is None:
        raise ValueError(
            f"{_excerpt(item)} is not a CVE id: write CVE-YEAR-NUMBER, e.g. CVE-2024-3094, "
            "separated by commas or spaces"
        )
    year, sequence = int(match[1]), match[2]
    if not FIRST_CVE_YEAR <= year <= last_year:
        raise ValueError(
            f"{cve_id}: the year {year} is not possible: CVE ids run from {FIRST_CVE_YEAR} "
            f"to {last_year}"
        )
    if len(sequence) > 4 and sequence.startswith("0"):
        raise ValueError(
            f"{_excerpt(cve_id)}: a CVE number longer than four digits has no leading zero"
        )
    return cve_id


def severity_of(score: float) -> str:
    """The CVSS qualitative severity of a score from 0.0 to 10.0 (the same scale in v3 and v4).

    0.0 none, 0.1-3.9 low, 4.0-6.9 medium, 7.0-8.9 high, 9.0-10.0 critical. A score outside
    0-10 (or not a number) raises ValueError.
    """
    if isinstance(score, bool) or not isinstance(score, int | float) or math.isnan(score):
        raise ValueError(f"a CVSS score is a number from 0.0 to 10.0, not {score!r}")
    if not 0.0 <= score <= 10.0:
        raise ValueError(f"a CVSS score is from 0.0 to 10.0, not {score}")
    if score == 0.0:
        return "none"
    if score < 4.0:
        return "low"
    if score < 7.0:
        return "medium"
    if score < 9.0:
        return "high"
    return "critical"


def score_vector(vector: str) -> CvssScore:
    """Score a CVSS v3.0, v3.1 or v4.0 vector string ("CVSS:3.1/AV:N/AC:L/...").

    Surrounding white space is ignored and lower case is accepted (every CVSS 3 and 4 metric
    and value is upper case). CVSS v2, a vector without its "CVSS:3.1/" or "CVSS:4.0/" prefix,
    an unknown or repeated metric, a value the metric does not allow and a missing base metric
    each raise ValueError saying which metric and what is allowed.
    """
    if not isinstance(vector, str):
        raise ValueError(
            "a CVSS vector is text such as CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
        )
    text = vector.strip().upper()
    if not text:
        raise ValueError("the CVSS vector is empty: give one such as CVSS:3.1/AV:N/AC:L/...")
    if len(text) > _MAX_VECTOR_CHARS:
        raise ValueError(f"the CVSS vector is too long ({len(text)} characters): it is not one")
    version, fields = _split_version(text)
    _check_metrics(version, fields)
    return _score(version, text)


def patch_by(severity: str, raised_on: date, schedule: Mapping[str, int] | None = None) -> date:
    """The date an issue of `severity` raised on `raised_on` must be patched by.

    `schedule` maps severities to days (default DEFAULT_PATCH_DAYS, the MoJ schedule). Severity
    is case-insensitive. "none" (a CVSS score of 0.0) uses the schedule's "none" entry if it has
    one, else its "low" entry: an issue worth raising still gets a date, never none at all.
    An unknown severity, a schedule without an entry for it, or a negative number of days raises
    ValueError.
    """
    name = severity.strip().lower() if isinstance(severity, str) else ""
    if name not in SEVERITIES:
        raise ValueError(
            f"unknown severity {_excerpt(str(severity))}: use one of {', '.join(SEVERITIES)}"
        )
    days_by_severity = DEFAULT_PATCH_DAYS if schedule is None else schedule
    if name == "none" and "none" not in days_by_severity:
        name = "low"
    if name not in days_by_severity:
        raise ValueError(f"the patch schedule gives no number of days for {name} severity")
    days = days_by_severity[name]
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        raise ValueError(f"the patch schedule's days for {name} must be a whole number >= 0")
    try:
        return raised_on + timedelta(days=days)
    except OverflowError:
        raise ValueError(f"{days} days after {raised_on} is past the year 9999") from None


# --- CVSS checks ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Metrics:
    """One CVSS version's metrics: names, the values each allows, which are mandatory."""

    names: Mapping[str, str]
    values: Mapping[str, tuple[str, ...]]
    mandatory: tuple[str, ...]


def _cvss() -> Any:
    # The `cvss` library ships no type information; importing it as a module object keeps strict
    # mypy checking our side without an override for the whole package.
    return importlib.import_module("cvss")


def _metrics(version: str) -> _Metrics:
    if version == "4.0":
        c4 = importlib.import_module("cvss.constants4")
        return _Metrics(
            names=dict(c4.METRICS_ABBREVIATIONS),
            values={name: tuple(values) for name, values in c4.METRICS_VALUE_NAMES.items()},
            mandatory=tuple(c4.METRICS_MANDATORY),
        )
    c3 = importlib.import_module("cvss.constants3")
    return _Metrics(
        names=dict(c3.METRICS_ABBREVIATIONS),
        values={name: tuple(values) for name, values in c3.METRICS_VALUES.items()},
        mandatory=tuple(c3.METRICS_MANDATORY),
    )


def _split_version(text: str) -> tuple[str, list[str]]:
    """The version ("3.0", "3.1", "4.0") and the METRIC:VALUE fields after the prefix."""
    if not text.startswith("CVSS:"):
        if "/AU:" in f"/{text}":
            raise ValueError(
                "CVSS v2 vectors are not supported: give the CVSS v3.1 or v4.0 vector "
                "(NVD lists both), starting CVSS:3.1/ or CVSS:4.0/"
            )
        raise ValueError(
            "the CVSS vector must start with its version, CVSS:3.1/ or CVSS:4.0/ "
            "(e.g. CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H)"
        )
    prefix, _, rest = text.partition("/")
    version = prefix.removeprefix("CVSS:")
    if version not in ("3.0", "3.1", "4.0"):
        raise ValueError(
            f"CVSS version {_excerpt(version)} is not supported: give a v3.1 or v4.0 vector "
            "(v3.0 is accepted too)"
        )
    if not rest:
        raise ValueError(f"the CVSS {version} vector has no metrics after CVSS:{version}/")
    return version, rest.split("/")


def _check_metrics(version: str, fields: list[str]) -> None:
    known = _metrics(version)
    seen: set[str] = set()
    for field in fields:
        metric, colon, value = field.partition(":")
        if not field:
            raise ValueError(
                f"the CVSS {version} vector has an empty field (two '/' together, or one at the end)"
            )
        if not colon or not metric or ":" in value:
            raise ValueError(
                f"CVSS {version} vector: {_excerpt(field)} is not METRIC:VALUE (e.g. AV:N)"
            )
        if metric not in known.values:
            raise ValueError(
                f"CVSS {version} vector: unknown metric {_excerpt(metric)}; the base metrics are "
                f"{', '.join(known.mandatory)}"
            )
        if metric in seen:
            raise ValueError(f"CVSS {version} vector: {metric} is given twice")
        seen.add(metric)
        allowed = known.values[metric]
        if value not in allowed:
            raise ValueError(
                f"CVSS {version} vector: {metric} ({known.names.get(metric, metric)}) cannot be "
                f"{_excerpt(value)}; use one of {', '.join(allowed)}"
            )
    missing = [metric for metric in known.mandatory if metric not in seen]
    if missing:
        described = ", ".join(f"{metric} ({known.names.get(metric, metric)})" for metric in missing)
        raise ValueError(f"CVSS {version} vector: missing base metric(s) {described}")


def _score(version: str, text: str) -> CvssScore:
    cvss = _cvss()
    try:
        scored = cvss.CVSS4(text) if version == "4.0" else cvss.CVSS3(text)
        score = float(scored.base_score)
        normalised = str(scored.clean_vector())
    except cvss.CVSSError as exc:  # a check above missed a rule the library enforces
        raise ValueError(f"CVSS {version} vector: {' '.join(str(exc).split())}") from None
    return CvssScore(
        version=version, vector=normalised, base_score=score, severity=severity_of(score)
    )


def _excerpt(text: str) -> str:
    """The start of a user's input, quoted, for an error message: long input is cut short."""
    if len(text) > _EXCERPT_CHARS:
        text = text[:_EXCERPT_CHARS] + "…"
    return repr(text)
