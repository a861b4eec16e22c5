"""GOV.UK's date input as the dashboard reads it: three boxes (day, month, year), each checked,
and a message that says which box is wrong. Any text typed into the boxes gives a date or a
DateFieldError, never another exception."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.datastructures import FormData

from secposture.register.errors import InvalidField
from secposture.web.forms import DateFieldError, Form, parse_day_month_year
from secposture.web.rendering import error_summary, shown_error


@pytest.mark.parametrize(
    ("day", "month", "year", "expected"),
    [
        ("27", "3", "2026", date(2026, 3, 27)),
        (" 05 ", "02", "2027", date(2027, 2, 5)),  # leading zeros and spaces
        ("1", "feb", "2027", date(2027, 2, 1)),  # a month's name, any case, short or long
        ("1", "September", "2026", date(2026, 9, 1)),
        ("1", "Sept.", "2026", date(2026, 9, 1)),
        ("29", "2", "2028", date(2028, 2, 29)),  # a leap year
    ],
)
def test_a_day_month_and_year_give_that_date(
    day: str, month: str, year: str, expected: date
) -> None:
    assert parse_day_month_year("held_on", day, month, year) == expected


def test_three_empty_boxes_are_no_date() -> None:
    assert parse_day_month_year("held_on", "", " ", "") is None


@pytest.mark.parametrize(
    ("day", "month", "year", "part", "message"),
    [
        (
            "31",
            "2",
            "2027",
            "day",
            "31 February 2027 is not a real date: February 2027 has 28 days",
        ),
        (
            "29",
            "2",
            "2027",
            "day",
            "29 February 2027 is not a real date: February 2027 has 28 days",
        ),
        ("31", "4", "2026", "day", "31 April 2026 is not a real date: April 2026 has 30 days"),
        ("0", "4", "2026", "day", "0 April 2026 is not a real date: April 2026 has 30 days"),
        ("1", "2", "26", "year", "the year must have 4 numbers, like 2026"),
        ("1", "2", "0026", "year", "the year must have 4 numbers, like 2026"),
        ("1", "2", "20266", "year", "the year must have 4 numbers, like 2026"),
        ("1", "13", "2026", "month", "the month must be from 1 to 12"),
        ("1", "0", "2026", "month", "the month must be from 1 to 12"),
        ("1", "Smarch", "2026", "month", "the month must be a number from 1 to 12, or its name"),
        ("first", "2", "2026", "day", "the day must be a number, like 27"),
        ("٣", "2", "2026", "day", "the day must be a number, like 27"),  # only 0-9 are digits here
        ("1", "", "", "month", "must include a month and a year"),
        ("", "2", "2026", "day", "must include a day"),
    ],
)
def test_an_impossible_date_says_which_box_is_wrong(
    day: str, month: str, year: str, part: str, message: str
) -> None:
    with pytest.raises(DateFieldError) as refused:
        parse_day_month_year("held_on", day, month, year)
    assert refused.value.field == "held_on"
    assert refused.value.part == part
    assert refused.value.detail.startswith(message)


@given(st.text(max_size=12), st.text(max_size=12), st.text(max_size=12))
def test_any_text_in_the_boxes_is_a_date_or_a_clear_error(day: str, month: str, year: str) -> None:
    try:
        found = parse_day_month_year("held_on", day, month, year)
    except DateFieldError as refused:
        assert refused.part in ("day", "month", "year")
        assert refused.detail
        return
    if found is None:
        assert not (day.strip() or month.strip() or year.strip())
    else:
        assert found.year == int(year.strip()) and found.day == int(day.strip())


@given(st.dates(min_value=date(1000, 1, 1)))
def test_every_real_date_typed_as_numbers_comes_back(day: date) -> None:
    assert parse_day_month_year("x", str(day.day), str(day.month), str(day.year)) == day
    assert parse_day_month_year("x", f"{day.day:02d}", f"{day.month:02d}", str(day.year)) == day


def test_a_form_reads_the_three_boxes_or_one_iso_date() -> None:
    boxes = Form(
        FormData([("held_on-day", "7"), ("held_on-month", "12"), ("held_on-year", "2026")])
    )
    assert boxes.day("held_on") == date(2026, 12, 7)
    # Scripts and older pages post one YYYY-MM-DD field: still read, and still checked.
    assert Form(FormData([("held_on", "2026-12-07")])).day("held_on") == date(2026, 12, 7)
    with pytest.raises(InvalidField):
        Form(FormData([("held_on", "2026-02-30")])).day("held_on")
    assert Form(FormData([])).day("held_on") is None
    with pytest.raises(DateFieldError) as refused:
        Form(
            FormData([("held_on-day", "31"), ("held_on-month", "2"), ("held_on-year", "2026")])
        ).day("held_on")
    assert refused.value.part == "day"


# --- the error summary --------------------------------------------------------------------------

FORM_BODY = (
    '<label for="risk-title" id="risk-title-label">Title &amp; summary'
    ' <span class="req">(required)</span></label><input id="risk-title">'
    '<fieldset><legend class="label" id="risk-held_on-label">Held on</legend>'
    '<input id="risk-held_on-day"><input id="risk-held_on-month"><input id="risk-held_on-year">'
    "</fieldset>"
)


def test_the_summary_links_to_the_field_by_its_label_and_escapes_what_was_typed() -> None:
    shown = shown_error(InvalidField("title", "'<script>alert(1)</script>' is too long"))
    summary = str(error_summary(FORM_BODY, "risk", shown))
    assert '<a href="#risk-title" data-testid="error">' in summary
    assert (
        "Title &amp; summary: &#39;&lt;script&gt;alert(1)&lt;/script&gt;&#39; is too long"
        in summary
    )
    assert "<script>" not in summary


def test_a_date_error_links_to_the_wrong_box_or_to_the_day() -> None:
    month = shown_error(DateFieldError("held_on", "the month must be from 1 to 12", "month"))
    assert 'href="#risk-held_on-month"' in str(error_summary(FORM_BODY, "risk", month))
    # The register's own check of a date (in the future, before another) names no box.
    future = shown_error(InvalidField("held_on", "2027-01-01 is in the future"))
    summary = str(error_summary(FORM_BODY, "risk", future))
    assert (
        'href="#risk-held_on-day"' in summary and "Held on: 2027-01-01 is in the future" in summary
    )


def test_an_error_about_no_field_on_the_page_is_shown_without_a_link_or_a_stored_name() -> None:
    shown = shown_error(InvalidField("performed_on", "2027-01-01 is in the future"))
    summary = str(error_summary(FORM_BODY, "risk", shown))
    assert "<a " not in summary
    assert "performed_on" not in summary and "2027-01-01 is in the future" in summary
    assert str(error_summary(FORM_BODY, "risk", None)) == ""
