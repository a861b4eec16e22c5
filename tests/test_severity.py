"""Security-issue severity: CVE ids, CVSS v3/v4 vectors and scores, and the MoJ patch-by date.

Scores are checked against published values (NVD and FIRST's examples), not against the library
that computes them; errors must say which metric is wrong and what is allowed.
"""

from __future__ import annotations

import math
import re
from datetime import date

import pytest
from cvss import CVSS3
from hypothesis import given, settings
from hypothesis import strategies as st

from secposture.register.severity import (
    DEFAULT_PATCH_DAYS,
    SEVERITIES,
    CvssScore,
    parse_cve_ids,
    patch_by,
    score_vector,
    severity_of,
)

TODAY = date(2026, 11, 29)
CVE_SHAPE = re.compile(r"CVE-(\d{4})-(\d{4,})")

# --- CVE ids ----------------------------------------------------------------------------------


def test_cve_ids_are_normalised_deduplicated_and_kept_in_order() -> None:
    text = "cve-2024-3094, CVE-2021-44228 CVE-2024-3094;\ncve-2014-0160,,"
    assert parse_cve_ids(text, today=TODAY) == ["CVE-2024-3094", "CVE-2021-44228", "CVE-2014-0160"]


def test_cve_ids_pasted_with_typographic_dashes_are_accepted() -> None:
    assert parse_cve_ids("CVE\u20132021\u201344228", today=TODAY) == ["CVE-2021-44228"]


@pytest.mark.parametrize("text", ["", "   ", ",;\n"])
def test_no_cve_ids_is_an_empty_list(text: str) -> None:
    assert parse_cve_ids(text, today=TODAY) == []


@pytest.mark.parametrize(
    "cve_id",
    ["CVE-1999-0001", "CVE-2014-0160", "CVE-2021-1234567", "CVE-2027-1000", "CVE-2024-10000"],
)
def test_valid_cve_ids(cve_id: str) -> None:
    assert parse_cve_ids(cve_id, today=TODAY) == [cve_id]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("CVE-24-1", "'CVE-24-1' is not a CVE id"),
        ("CVE-2024-123", "'CVE-2024-123' is not a CVE id"),  # fewer than four digits
        ("CVE-2024-3094 log4shell", "'log4shell' is not a CVE id"),
        ("GHSA-jfh8-c2jp-5v3q", "'GHSA-jfh8-c2jp-5v3q' is not a CVE id"),
        ("CVE-1998-0001", "the year 1998 is not possible"),
        ("CVE-2028-1234", "the year 2028 is not possible: CVE ids run from 1999 to 2027"),
        ("CVE-2024-01234", "no leading zero"),
        ("CVE-２０２４-3094", "is not a CVE id"),  # full-width digits are not ASCII digits
    ],
)
def test_a_bad_cve_id_is_named_in_the_error(text: str, needle: str) -> None:
    with pytest.raises(ValueError, match=re.escape(needle)):
        parse_cve_ids(text, today=TODAY)


def test_a_long_bad_item_is_cut_short_in_the_error() -> None:
    with pytest.raises(ValueError) as caught:
        parse_cve_ids("X" * 10_000, today=TODAY)
    assert len(str(caught.value)) < 200


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_gives_cve_ids_or_a_value_error(text: str) -> None:
    try:
        ids = parse_cve_ids(text, today=TODAY)
    except ValueError as exc:
        assert str(exc)
        return
    assert len(ids) == len(set(ids))
    for cve_id in ids:
        match = CVE_SHAPE.fullmatch(cve_id)
        assert match is not None and 1999 <= int(match[1]) <= 2027


# --- CVSS -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vector", "version", "score", "severity"),
    [
        # CVE-2021-44228 (Log4Shell), NVD.
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", "3.1", 10.0, "critical"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "3.1", 9.8, "critical"),
        # CVE-2014-0160 (Heartbleed), NVD.
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", "3.1", 7.5, "high"),
        # The typical reflected cross-site scripting score.
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", "3.1", 6.1, "medium"),
        ("CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", "3.1", 3.1, "low"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", "3.1", 0.0, "none"),
        ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", "3.0", 7.5, "high"),
        # FIRST's CVSS v4.0 calculator: network, no privileges, high impact on the system.
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "4.0", 9.3, "critical"),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N", "4.0", 0.0, "none"),
    ],
)
def test_published_vectors_score_as_published(
    vector: str, version: str, score: float, severity: str
) -> None:
    assert score_vector(vector) == CvssScore(version, vector, score, severity)


def test_a_vector_is_normalised_case_space_and_order() -> None:
    scored = score_vector("  cvss:3.1/s:u/av:n/ac:l/pr:n/ui:n/c:h/i:h/a:h \n")
    assert scored.vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    assert scored.base_score == 9.8


def test_v3_temporal_metrics_are_kept_but_the_base_score_is_reported() -> None:
    scored = score_vector("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O/RC:R")
    assert scored.base_score == 9.8
    assert scored.vector.endswith("/E:U/RL:O/RC:R")


def test_v4_threat_metrics_lower_the_score() -> None:
    base = score_vector("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N")
    unproven = score_vector("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U")
    assert unproven.base_score < base.base_score


@pytest.mark.parametrize(
    ("vector", "needles"),
    [
        ("", ["empty"]),
        ("AV:N/AC:L/Au:N/C:P/I:P/A:P", ["v2", "not supported", "CVSS:3.1/"]),
        ("AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", ["must start with its version", "CVSS:3.1/"]),
        ("CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P", ["version '2.0' is not supported"]),
        ("CVSS:3.1", ["no metrics"]),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", ["missing base metric", "A (Availability)"]),
        (
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U",
            ["C (Confidentiality)", "I (Integrity)", "A (Availability)"],
        ),
        (
            "CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            ["AV (Attack Vector)", "'Q'", "N, A, L, P"],
        ),
        ("CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", ["AV is given twice"]),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:1", ["unknown metric 'ZZ'"]),
        ("CVSS:3.1/AVN/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", ["'AVN' is not METRIC:VALUE"]),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/", ["empty field"]),
        ("CVSS:3.1/AV:N//AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", ["empty field"]),
        ("CVSS:3.1/AV:N:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", ["not METRIC:VALUE"]),
        ("CVSS:3.1/VC:H/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", ["unknown metric 'VC'"]),
        (
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N",
            ["CVSS 4.0", "SA (Subsequent System Impact Availability)"],
        ),
        (
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:Q",
            ["E (Exploit Maturity)", "X, A, P, U"],
        ),
        ("CVSS:4.0/AV:N/AC:L/PR:N/UI:N/C:H/I:H/A:H", ["CVSS 4.0", "unknown metric 'C'"]),
        ("CVSS:3.1/" + "AV:N/" * 200, ["too long"]),
    ],
)
def test_a_bad_vector_says_what_to_change(vector: str, needles: list[str]) -> None:
    with pytest.raises(ValueError) as caught:
        score_vector(vector)
    message = str(caught.value)
    for needle in needles:
        assert needle in message
    assert len(message) < 300


def _v31_vectors() -> st.SearchStrategy[str]:
    """Valid CVSS v3.1 base vectors: every combination of the base metrics is reachable."""
    choices = {
        "AV": "NALP",
        "AC": "LH",
        "PR": "NLH",
        "UI": "NR",
        "S": "UC",
        "C": "HLN",
        "I": "HLN",
        "A": "HLN",
    }
    parts = [
        st.sampled_from(list(values)).map(lambda v, m=m: f"{m}:{v}")
        for m, values in choices.items()
    ]
    return st.tuples(*parts).map(lambda fields: "CVSS:3.1/" + "/".join(fields))


@settings(max_examples=200, deadline=None)
@given(_v31_vectors())
def test_every_valid_v31_vector_scores_on_the_qualitative_scale(vector: str) -> None:
    scored = score_vector(vector)
    assert 0.0 <= scored.base_score <= 10.0
    assert scored.severity == severity_of(scored.base_score)
    # The severity scale agrees with the library's own rating of the same score.
    assert scored.severity == CVSS3(vector).severities()[0].lower()


_FIELDS = st.tuples(
    st.sampled_from(["AV", "AC", "AT", "PR", "UI", "S", "C", "I", "A", "VC", "E", "", "x"]),
    st.sampled_from(["N", "L", "H", "X", "A", "P", "R", "U", "C", "", ":"]),
)
_NEAR_VECTORS = st.tuples(
    st.sampled_from(["CVSS:3.1/", "CVSS:4.0/", "CVSS:3.0/", "cvss:3.1/", ""]),
    st.lists(_FIELDS, max_size=14),
).map(lambda parts: parts[0] + "/".join(f"{m}:{v}" for m, v in parts[1]))


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=120), _NEAR_VECTORS))
def test_any_vector_text_scores_or_raises_value_error(vector: str) -> None:
    try:
        scored = score_vector(vector)
    except ValueError as exc:
        assert str(exc)
        return
    assert scored.severity in SEVERITIES


@pytest.mark.parametrize(
    ("score", "severity"),
    [
        (0.0, "none"),
        (0.1, "low"),
        (3.9, "low"),
        (4.0, "medium"),
        (6.9, "medium"),
        (7.0, "high"),
        (8.9, "high"),
        (9.0, "critical"),
        (10.0, "critical"),
        (5, "medium"),
    ],
)
def test_severity_scale_boundaries(score: float, severity: str) -> None:
    assert severity_of(score) == severity


@pytest.mark.parametrize("score", [-0.1, 10.1, math.nan, math.inf, True])
def test_a_score_off_the_scale_is_refused(score: float) -> None:
    with pytest.raises(ValueError, match=re.escape("0.0 to 10.0")):
        severity_of(score)


# --- patch-by dates ---------------------------------------------------------------------------


def test_the_default_schedule_is_the_mojs_and_read_only() -> None:
    assert dict(DEFAULT_PATCH_DAYS) == {"critical": 7, "high": 7, "medium": 28, "low": 90}
    with pytest.raises(TypeError):
        DEFAULT_PATCH_DAYS["low"] = 365  # type: ignore[index]


@pytest.mark.parametrize(
    ("severity", "raised_on", "expected"),
    [
        ("critical", date(2026, 11, 29), date(2026, 12, 6)),
        ("high", date(2026, 12, 28), date(2027, 1, 4)),  # across the year's end
        ("medium", date(2028, 2, 10), date(2028, 3, 9)),  # 29 February 2028 counts
        ("low", date(2026, 11, 29), date(2027, 2, 27)),
        ("Critical ", date(2026, 11, 29), date(2026, 12, 6)),  # as typed
        ("none", date(2026, 11, 29), date(2027, 2, 27)),  # 0.0 still gets the low schedule
    ],
)
def test_patch_by_follows_the_schedule(severity: str, raised_on: date, expected: date) -> None:
    assert patch_by(severity, raised_on) == expected


def test_a_team_schedule_replaces_the_default() -> None:
    schedule = {"critical": 1, "high": 3, "medium": 14, "low": 30, "none": 180}
    assert patch_by("critical", date(2026, 11, 29), schedule) == date(2026, 11, 30)
    assert patch_by("none", date(2026, 11, 29), schedule) == date(2027, 5, 28)


@pytest.mark.parametrize(
    ("severity", "schedule", "needle"),
    [
        ("urgent", None, "unknown severity 'urgent': use one of none, low, medium, high, critical"),
        ("", None, "unknown severity"),
        ("high", {"critical": 7}, "no number of days for high"),
        ("high", {"high": -1}, "whole number >= 0"),
        ("high", {"high": 2.5}, "whole number >= 0"),
    ],
)
def test_a_bad_severity_or_schedule_is_refused(
    severity: str, schedule: dict[str, int] | None, needle: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(needle)):
        patch_by(severity, date(2026, 11, 29), schedule)


def test_a_patch_date_past_the_calendar_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="past the year 9999"):
        patch_by("low", date(9999, 12, 1))
