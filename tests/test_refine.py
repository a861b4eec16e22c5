"""`secposture refine`: a ticket's words -> the OWASP Top 10 (2021 and 2025) questions for it.

The matching runs on the shipped data; the command runs through click's CliRunner and, for the
terminal and error paths, as a real process.
"""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from secposture.cli.main import cli
from secposture.cli.refine import MAX_TICKET_BYTES
from secposture.refine import (
    EDITIONS,
    categories,
    checklist,
    match_ticket,
    parse_edition,
    render_markdown,
    stem,
)

TITLES_2021 = [
    "Broken Access Control",
    "Cryptographic Failures",
    "Injection",
    "Insecure Design",
    "Security Misconfiguration",
    "Vulnerable and Outdated Components",
    "Identification and Authentication Failures",
    "Software and Data Integrity Failures",
    "Security Logging and Monitoring Failures",
    "Server-Side Request Forgery (SSRF)",
]
# As published in November 2025 (owasp.org/Top10/2025/).
TITLES_2025 = [
    "Broken Access Control",
    "Security Misconfiguration",
    "Software Supply Chain Failures",
    "Cryptographic Failures",
    "Injection",
    "Insecure Design",
    "Authentication Failures",
    "Software or Data Integrity Failures",
    "Security Logging and Alerting Failures",
    "Mishandling of Exceptional Conditions",
]


def ids(text: str, editions: tuple[str, ...] = EDITIONS) -> dict[str, tuple[str, ...]]:
    return {match.category.id: match.triggers for match in match_ticket(text, editions)}


# --- the data ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("edition", "titles"), [("2021", TITLES_2021), ("2025", TITLES_2025)])
def test_each_edition_has_its_ten_published_categories(edition: str, titles: list[str]) -> None:
    found = categories((edition,))
    assert [c.id for c in found] == [f"A{n:02d}:{edition}" for n in range(1, 11)]
    assert [c.title for c in found] == titles
    for category in found:
        assert 2 <= len(category.questions) <= 4
        assert category.url.startswith("https://owasp.org/Top10/")
        assert category.keywords


def test_2025_urls_are_under_the_2025_edition() -> None:
    assert all("/Top10/2025/A" in c.url for c in categories(("2025",)))
    assert not any("/2025/" in c.url for c in categories(("2021",)))


@pytest.mark.parametrize(
    ("value", "editions"),
    [("both", ("2025", "2021")), ("2021", ("2021",)), ("2025", ("2025",)), (" BOTH ", EDITIONS)],
)
def test_parse_edition(value: str, editions: tuple[str, ...]) -> None:
    assert parse_edition(value) == editions


def test_an_unknown_edition_is_refused() -> None:
    with pytest.raises(ValueError, match="2021, 2025 or both"):
        parse_edition("2017")
    with pytest.raises(ValueError, match="2021, 2025 or both"):
        match_ticket("login", ("2017",))


# --- matching ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "same_stem"),
    [
        (["login", "logins", "Login", "LOGINS"], True),
        (["logged", "logging", "logs", "log"], True),
        (["policy", "policies"], True),
        (["cookie", "cookies"], True),
        (["encode", "encoded", "encoding"], True),
        (["install", "installed", "installing"], True),
        (["access", "accesses"], True),
        (["user", "users"], True),
    ],
)
def test_stemming_folds_plurals_and_tenses(words: list[str], same_stem: bool) -> None:
    assert (len({stem(word) for word in words}) == 1) is same_stem


@pytest.mark.parametrize(
    "text",
    [
        "Users can log in with their email",
        "Once the user has logged in, show the dashboard",
        "Logging in should take one step",
        "Fix the log-in page",
        "New LOGIN page",
        "Add SSO for logins",
        "Require MFA",
        "Reset password flow",
    ],
)
def test_authentication_words_trigger_a07_in_both_editions(text: str) -> None:
    found = ids(text)
    assert "A07:2021" in found and "A07:2025" in found


def test_a_word_inside_a_longer_phrase_does_not_count_alone() -> None:
    # "logged in" is authentication, not logging...
    found = ids("Once the user has logged in, show their name")
    assert "A07:2025" in found and "A09:2025" not in found
    # ...but logging is.
    assert "A09:2025" in ids("Add audit logging of admin actions")


def test_a_phrase_does_not_match_across_a_sentence() -> None:
    found = ids("Rotate the log. In the next sprint we add colours")
    assert found.get("A07:2025") is None
    assert found["A09:2025"] == ("log",)


@pytest.mark.parametrize(
    "text", ["Update the catalogue dialog", "Blogging page copy", "Restyle the button colour"]
)
def test_words_match_whole_not_inside_other_words(text: str) -> None:
    assert ids(text) == {}


def test_triggers_are_the_tickets_words_as_written_in_order() -> None:
    found = ids("Users Logged   In can change their Password; passwords are hashed")
    assert found["A07:2025"] == ("Logged In", "Password")
    assert found["A02:2021"] == ("hashed",)


def test_each_keyword_is_listed_once_as_first_written() -> None:
    found = ids("SQL sql Sql query queries")
    assert found["A05:2025"] == ("SQL", "query")


def test_the_editions_differ_where_the_lists_differ() -> None:
    # Exceptional conditions are new in 2025; SSRF has its own 2021 category and is part of
    # broken access control in 2025.
    found = ids("Call the webhook URL; on timeout retry, and fail closed")
    assert "A10:2025" in found and "A10:2021" in found and "A01:2025" in found
    assert found["A10:2025"] == ("timeout", "retry", "fail closed")
    assert "A01:2021" not in found


def test_supply_chain_is_2025s_a03() -> None:
    found = ids("Bump the base image and pin GitHub Actions in the build pipeline")
    assert "A03:2025" in found and "A06:2021" in found and "A08:2021" in found
    assert "github actions" in [t.casefold() for t in found["A03:2025"]]


def test_only_the_chosen_edition_is_matched() -> None:
    assert set(ids("New login page", ("2021",))) == {"A07:2021"}
    assert set(ids("New login page", ("2025",))) == {"A07:2025"}


def test_a_phrase_of_another_edition_does_not_hide_a_match() -> None:
    # "prompt injection" is a 2025 keyword only; for 2021 "injection" still counts.
    assert ids("Guard against prompt injection", ("2021",))["A03:2021"] == ("injection",)
    assert ids("Guard against prompt injection", ("2025",))["A05:2025"] == ("prompt injection",)


def test_checklist_all_lists_every_category_keeping_triggers() -> None:
    everything = checklist("New login page", include_all=True)
    assert len(everything) == 20
    triggered = {m.category.id: m.triggers for m in everything if m.triggers}
    assert triggered == {"A07:2025": ("login",), "A07:2021": ("login",)}
    assert [m.category.edition for m in everything] == ["2025"] * 10 + ["2021"] * 10


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=400),
        st.lists(
            st.sampled_from(
                ["log", "in", "-", " ", "/", "\n", ".", "Logged", "sign", "ci", "cd", "é"]
            ),
            max_size=60,
        ).map("".join),
    )
)
def test_any_text_matches_without_raising(text: str) -> None:
    matches = checklist(text, include_all=False)
    squeezed = " ".join(text.split())
    for match in matches:
        assert match.triggers
        for trigger in match.triggers:
            assert trigger and "`" not in trigger and "\n" not in trigger
            assert trigger in squeezed
    render_markdown(matches)


def test_a_megabyte_of_hostile_text_is_linear_work() -> None:
    # Repeated near-phrases and long words: a backtracking matcher would never finish.
    text = ("log-in-" * 50_000) + ("a" * 200_000) + (" sign\n" * 20_000)
    found = ids(text)
    assert "A07:2025" in found


# --- Markdown -----------------------------------------------------------------------------------


def test_markdown_groups_questions_by_category_and_says_why() -> None:
    text = render_markdown(match_ticket("Add a password reset link to the login page"))
    assert text.startswith("### Security refinement: OWASP Top 10\n")
    assert text.index("#### OWASP Top 10:2025") < text.index("#### OWASP Top 10:2021")
    assert (
        "**A07:2025 Authentication Failures** "
        "([OWASP](https://owasp.org/Top10/2025/A07_2025-Authentication_Failures/)): "
        "the ticket mentions `password reset`, `login`"
    ) in text
    a07 = next(c for c in categories(("2025",)) if c.id == "A07:2025")
    for question in a07.questions:
        assert f"- [ ] {question}\n" in text


def test_markdown_says_when_an_edition_has_no_match() -> None:
    text = render_markdown(match_ticket("On timeout, retry"))
    assert "A10:2025 Mishandling of Exceptional Conditions" in text
    assert "No category of the OWASP Top 10:2021 matched." in text


def test_markdown_with_no_match_suggests_all() -> None:
    text = render_markdown([])
    assert "No category of the OWASP Top 10:2025 or OWASP Top 10:2021 matched" in text
    assert "secposture refine --all" in text
    assert "- [ ]" not in text


def test_many_triggers_are_cut_short() -> None:
    text = render_markdown(
        match_ticket(
            "sql query nosql database search filter input form comment html template xss script",
            ("2021",),
        )
    )
    assert re.search(r"`script`|and \d+ more", text)
    assert "and 5 more" in text


# --- the command ------------------------------------------------------------------------------


def run(*args: str, stdin: str | bytes | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["refine", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_refine_text_argument_unquoted_words_join() -> None:
    code, out, err = run("Add", "a", "password", "reset", "link")
    assert code == 0, err
    assert "A07:2025 Authentication Failures" in out and "A07:2021" not in out
    assert "`password reset`" in out


def test_refine_a_file(tmp_path: Path) -> None:
    ticket = tmp_path / "ticket.md"
    ticket.write_text("# Export\n\nLet admins export users to CSV.\n", "utf-8")
    code, out, _ = run("--file", str(ticket), "--edition", "2025")
    assert code == 0
    assert "A05:2025 Injection" in out and "`CSV`" in out
    assert "A01:2025 Broken Access Control" in out and "`admins`" in out
    assert "2021" not in out


def test_refine_a_file_with_a_bom_and_bad_bytes(tmp_path: Path) -> None:
    ticket = tmp_path / "ticket.txt"
    ticket.write_bytes(b"\xef\xbb\xbfNew login page \xff\xfe caf\xe9")
    code, out, _ = run("-f", str(ticket))
    assert code == 0
    assert "`login`" in out


@pytest.mark.parametrize("args", [("-",), ()])
def test_refine_standard_input(args: tuple[str, ...]) -> None:
    code, out, _ = run(*args, stdin="Store the card number encrypted at rest\n")
    assert code == 0
    assert "A04:2025 Cryptographic Failures" in out
    assert "`card number`, `encrypted`, `at rest`" in out


def test_refine_all_gives_the_whole_checklist() -> None:
    code, out, _ = run("--all")
    assert code == 0
    assert out.count("- [ ] ") >= 2 * 10
    assert len(re.findall(r"^\*\*A\d\d:2025 ", out, re.MULTILINE)) == 10
    assert "the ticket mentions" not in out
    code, both, _ = run("--all", "--edition", "both")
    assert len(re.findall(r"^\*\*A\d\d:20(21|25) ", both, re.MULTILINE)) == 20
    # Each question once: the 2021 list adds only what 2025 does not ask.
    assert both.count("- [ ] ") == len(set(printed_questions(both))) > out.count("- [ ] ")


def test_refine_all_with_text_marks_the_matches() -> None:
    code, out, _ = run("--all", "--edition", "2021", "login")
    assert code == 0
    assert len(re.findall(r"^\*\*A\d\d:2021 ", out, re.MULTILINE)) == 10
    assert out.count("the ticket mentions") == 1


def test_refine_no_match_says_so_and_exits_0() -> None:
    code, out, _ = run("Change the button colour to green")
    assert code == 0
    assert "No category" in out and "--all" in out


@pytest.mark.parametrize(
    ("args", "stdin", "needle"),
    [
        (("--edition", "2017"), None, "'2017' is not one of"),
        (("words", "--file", "ticket.md"), None, "not both"),
        (("--file", "/nonexistent/ticket.md"), None, "/nonexistent/ticket.md: no such file"),
        (("-",), "", "standard input: the ticket's text is empty"),
        (("-",), "   \n", "the ticket's text is empty"),
        (("-",), b"login\x00\x01", "looks like a binary file"),
        (("-",), b"a" * (MAX_TICKET_BYTES + 1), "more than 1 MiB"),
        (("   ",), None, "the argument: the ticket's text is empty"),
    ],
)
def test_refine_bad_input_is_a_usage_error(
    args: tuple[str, ...], stdin: str | bytes | None, needle: str
) -> None:
    code, out, err = run(*args, stdin=stdin)
    assert code == 2
    assert needle in err
    assert out == ""


def test_refine_a_folder_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = run("--file", str(tmp_path))
    assert code == 2
    assert "is a directory" in err


def _module_run(args: list[str], stdin: int | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "secposture", "refine", *args],
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_refine_as_a_process_errors_are_one_line() -> None:
    proc = _module_run(["--file", "/nonexistent/ticket.md"])
    assert proc.returncode == 2
    assert proc.stderr == "secposture: error: /nonexistent/ticket.md: no such file\n"
    assert "Traceback" not in proc.stderr


def test_refine_on_a_terminal_without_text_explains_instead_of_waiting() -> None:
    # Standard input is a real terminal: the command must not sit waiting for a ticket.
    controller, terminal = pty.openpty()
    try:
        proc = _module_run([], stdin=terminal)
    finally:
        os.close(terminal)
        os.close(controller)
    assert proc.returncode == 2
    assert "give the ticket's text as an argument, --file PATH, or on standard input" in proc.stderr


def test_refine_piped_into_head_is_quiet() -> None:
    shell = f"{sys.executable} -m secposture refine --all | head -n 1"
    proc = subprocess.run(
        ["sh", "-c", shell], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.stdout == "### Security refinement: OWASP Top 10\n"
    assert proc.stderr == ""


def test_the_command_module_imports_only_click_and_the_standard_library() -> None:
    code = (
        "import sys; before = set(sys.modules); import secposture.cli.refine; "
        "new = {m.split('.')[0] for m in set(sys.modules) - before}; "
        "print(sorted(new - set(sys.stdlib_module_names) - {'click', 'secposture'})); "
        "print(sorted(m for m in sys.modules if m.startswith('secposture')))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    third_party, ours = proc.stdout.splitlines()
    assert third_party == "[]"
    assert ours == (
        "['secposture', 'secposture.cli', 'secposture.cli.common', 'secposture.cli.refine', "
        "'secposture.errors']"
    )


def test_help_teaches_with_examples() -> None:
    code, out, _ = run("--help")
    assert code == 0
    assert "Examples:" in out and "secposture refine --file ticket.md" in out
    assert "Exit codes:" in out


# --- one list of questions, each asked once (issue 13) -----------------------------------------

# Words that carry no meaning of their own, left out when comparing two questions.
_FILLER = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "how",
        "if",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "so",
        "that",
        "the",
        "their",
        "them",
        "there",
        "these",
        "they",
        "this",
        "to",
        "what",
        "when",
        "where",
        "which",
        "who",
        "with",
    ]
)


def _meaning(question: str) -> frozenset[str]:
    return frozenset(
        stem(w) for w in re.findall(r"[^\W_]+", question) if w.casefold() not in _FILLER
    )


def near_duplicates(questions: list[str], threshold: float = 0.5) -> list[tuple[str, str]]:
    """Pairs of questions sharing at least `threshold` of their words (Jaccard on stems), or
    where one's words are nearly all the other's."""
    pairs = []
    for i, first in enumerate(questions):
        for second in questions[i + 1 :]:
            a, b = _meaning(first), _meaning(second)
            shared = len(a & b)
            if shared / len(a | b) >= threshold or shared / min(len(a), len(b)) >= 0.8:
                pairs.append((first, second))
    return pairs


def printed_questions(out: str) -> list[str]:
    return [line.removeprefix("- [ ] ") for line in out.splitlines() if line.startswith("- [ ] ")]


TICKETS = [
    "Add a password reset link to the login page",
    "Call the webhook URL; on timeout retry, and fail closed",
    "Bump the base image and pin GitHub Actions in the build pipeline; deserialise the YAML",
    "Let admins export users to CSV and log every export; alert on bulk exports",
]


@pytest.mark.parametrize(
    "edition", [(), ("--edition", "2025"), ("--edition", "2021"), ("--edition", "both")]
)
@pytest.mark.parametrize("ticket", [*TICKETS, None])
def test_no_two_questions_printed_for_a_ticket_say_the_same_thing(
    edition: tuple[str, ...], ticket: str | None
) -> None:
    code, out, err = run(*edition, *(("--all",) if ticket is None else (ticket,)))
    assert code == 0, err
    questions = printed_questions(out)
    assert questions
    assert near_duplicates(questions) == []


def test_the_current_edition_is_the_default() -> None:
    code, out, _ = run("Add a password reset link to the login page")
    assert code == 0
    assert "A07:2025 Authentication Failures" in out
    assert "2021" not in out
    code, out, _ = run("--edition", "2021", "Add a password reset link to the login page")
    assert "A07:2021 Identification and Authentication Failures" in out
    assert "2025" not in out


def test_both_editions_ask_a_shared_question_once_and_point_to_it() -> None:
    code, out, _ = run("--edition", "both", "New login page")
    assert code == 0
    assert "A07:2025" in out and "A07:2021" in out
    a07 = next(c for c in categories(("2025",)) if c.id == "A07:2025")
    for question in a07.questions:
        assert out.count(question) == 1
    section_2021 = out.split("#### OWASP Top 10:2021", 1)[1]
    assert "asked above, under A07:2025" in section_2021


def test_the_near_duplicate_check_finds_a_reworded_question() -> None:
    # The check itself: the 2021 and 2025 wordings of the injection question were near-duplicates.
    assert near_duplicates(
        [
            "Where does user-supplied data reach an interpreter (SQL or NoSQL query, shell, LDAP, "
            "template, HTML, spreadsheet export), and is it parameterised or escaped there?",
            "Where does user-supplied data reach an interpreter (SQL or NoSQL query, shell, LDAP, "
            "template, HTML, spreadsheet export, an LLM prompt), and is it parameterised or "
            "escaped there?",
        ]
    )


def test_questions_are_data_each_written_once() -> None:
    from secposture.refine import _data

    data = _data()
    texts = list(data["questions"].values())
    assert len(texts) == len(set(texts))
    assert near_duplicates(texts) == [], "two questions of the data say the same thing"
    used = {q for c in data["category"] for q in c["questions"]}
    assert used == set(data["questions"])  # none unused, none missing
