"""The codeowners control: which CODEOWNERS GitHub reads, and whether it parses."""

from __future__ import annotations

import time

import pytest
from conftest import MakeRepo, result, scan
from hypothesis import given, settings
from hypothesis import strategies as st

from secposture.facts.codeowners import LineError, Rule, is_owner, parse, parse_line, tokens
from secposture.model import Outcome, Status


def findings(report: object, probe: str) -> list[object]:
    return [f for f in result(report, "codeowners").findings if f.probe == probe]  # type: ignore[arg-type]


def test_valid_codeowners_passes(make_repo: MakeRepo) -> None:
    report = scan(make_repo("codeowners-valid"))
    control = result(report, "codeowners")
    assert control.status is Status.PASS
    valid = control.findings[1]
    assert valid.message == ".github/CODEOWNERS parses: 7 rules, 6 with owners"
    assert str(valid.location) == ".github/CODEOWNERS:5"
    assert control.remediation is None


def test_invalid_lines_make_it_partial_with_file_and_line(make_repo: MakeRepo) -> None:
    report = scan(make_repo("codeowners-invalid"))
    control = result(report, "codeowners")
    assert control.status is Status.PARTIAL
    present, *bad = control.findings
    assert present.outcome is Outcome.POSITIVE
    assert "GitHub ignores docs/CODEOWNERS" in present.message
    assert [str(f.location) for f in bad] == [
        "CODEOWNERS:4",
        "CODEOWNERS:7",
        "CODEOWNERS:8",
        "CODEOWNERS:9",
    ]
    assert "`[ ]`" in bad[0].message
    assert "`!` negation" in bad[1].message
    assert "'not-an-owner'" in bad[2].message
    assert "a pattern must come first" in bad[3].message
    assert control.remediation is not None


def test_missing_codeowners_fails(make_repo: MakeRepo) -> None:
    report = scan(make_repo(None, {"README.md": "# x\n"}))
    control = result(report, "codeowners")
    assert control.status is Status.FAIL
    outcomes = {f.probe: f.outcome for f in control.findings}
    assert outcomes == {
        "codeowners-present": Outcome.NEGATIVE,
        "codeowners-valid": Outcome.NOT_APPLICABLE,
    }
    assert "no CODEOWNERS file in .github/, the root or docs/" in control.summary


@pytest.mark.parametrize("place", ["CODEOWNERS", "docs/CODEOWNERS", ".github/CODEOWNERS"])
def test_every_place_github_reads(make_repo: MakeRepo, place: str) -> None:
    report = scan(make_repo(None, {place: "* @acme/team\n"}))
    assert result(report, "codeowners").status is Status.PASS
    assert findings(report, "codeowners-present")[0].location.path == place  # type: ignore[attr-defined]


def test_github_folder_wins_over_root(make_repo: MakeRepo) -> None:
    files = {".github/CODEOWNERS": "* @acme/team\n", "CODEOWNERS": "!nonsense\n"}
    report = scan(make_repo(None, files))
    control = result(report, "codeowners")
    assert control.status is Status.PASS
    assert "GitHub ignores CODEOWNERS" in control.findings[0].message


@pytest.mark.parametrize("text", ["", "# only comments\n\n   \n# more\n"])
def test_file_without_rules_is_negative(make_repo: MakeRepo, text: str) -> None:
    report = scan(make_repo(None, {".github/CODEOWNERS": text}))
    assert result(report, "codeowners").status is Status.PARTIAL
    assert "has no rules" in findings(report, "codeowners-valid")[0].message  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"* @acme/team\n\x00\x01binary", "binary"),
        ("* @acme/caf\xe9\n".encode("latin-1"), "UTF-8"),
        ("# filler\n" * 1000, "limit"),
    ],
)
def test_unreadable_codeowners_is_negative_citing_the_problem(
    make_repo: MakeRepo, content: str | bytes, expected: str
) -> None:
    report = scan(make_repo(None, {".github/CODEOWNERS": content}), max_file_bytes=4096)
    control = result(report, "codeowners")
    assert control.status is Status.PARTIAL
    valid = findings(report, "codeowners-valid")[0]
    assert valid.outcome is Outcome.NEGATIVE  # type: ignore[attr-defined]
    assert expected in valid.message  # type: ignore[attr-defined]
    assert any(p.path == ".github/CODEOWNERS" for p in report.problems)


def test_over_three_megabytes_github_ignores_it(make_repo: MakeRepo) -> None:
    big = "* @acme/team\n" + "# padding padding padding padding padding padding padding\n" * 56_000
    assert len(big) > 3 * 1024 * 1024
    report = scan(make_repo(None, {".github/CODEOWNERS": big}), max_file_bytes=8 * 1024 * 1024)
    valid = findings(report, "codeowners-valid")[0]
    assert valid.outcome is Outcome.NEGATIVE  # type: ignore[attr-defined]
    assert "over 3 MB" in valid.message  # type: ignore[attr-defined]


def test_many_bad_lines_are_summarised(make_repo: MakeRepo) -> None:
    text = "".join(f"!/dir{i}/ @acme/team\n" for i in range(12))
    report = scan(make_repo(None, {"CODEOWNERS": text}))
    bad = findings(report, "codeowners-valid")
    assert len(bad) == 6
    assert "7 more invalid lines" in bad[-1].message  # type: ignore[attr-defined]


# --- the line parser ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "owners"),
    [
        ("*.js    @js-owner #This is an inline comment.", ("@js-owner",)),
        ("/build/logs/ @doctocat", ("@doctocat",)),
        ("docs/*  docs@example.com", ("docs@example.com",)),
        ("/apps/github", ()),
        ("/my\\ dir/ @octo-org/octocats", ("@octo-org/octocats",)),
        ("\\#file_with_pound.rb @octocat", ("@octocat",)),
        ("**/logs @user_emu", ("@user_emu",)),
    ],
)
def test_valid_lines(line: str, owners: tuple[str, ...]) -> None:
    parsed = parse_line(3, line)
    assert isinstance(parsed, Rule), parsed
    assert parsed.owners == owners and parsed.line == 3


@pytest.mark.parametrize(
    "line",
    [
        "!*.md @a",
        "*.[ch] @a",
        "[Section] @a",
        "@a",
        "src/ @",
        "src/ @-bad",
        "src/ user",
        "src/ @a/b/c",
    ],
)
def test_invalid_lines(line: str) -> None:
    assert isinstance(parse_line(1, line), LineError)


def test_comments_and_blanks_are_skipped() -> None:
    assert parse_line(1, "   ") is None
    assert parse_line(1, "  # comment @x") is None
    assert tokens("a\\ b  c\t d\\") == ["a\\ b", "c", "d\\"]
    assert is_owner("@acme/team") and is_owner("a.b@example.co.uk") and not is_owner("@")


def test_hostile_owner_tokens_are_fast() -> None:
    start = time.perf_counter()
    parse("CODEOWNERS", "x " + "a@" * 50_000 + "\n" + "y " + "@" + "a-" * 50_000 + "\n")
    assert time.perf_counter() - start < 2


@settings(max_examples=100, deadline=None)
@given(st.text())
def test_parse_never_raises_and_accounts_for_every_line(text: str) -> None:
    parsed = parse("CODEOWNERS", text)
    numbers = [r.line for r in parsed.rules] + [e.line for e in parsed.errors]
    assert len(numbers) == len(set(numbers))
    assert all(1 <= n <= len(text.splitlines()) for n in numbers)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["*", "/src/", "@a", "@org/team", "x@y.z", "!", "[a]", "#", "\\ ", " ", "\t"]
        ),
        max_size=8,
    )
)
def test_parse_line_of_plausible_tokens_never_raises(parts: list[str]) -> None:
    parse_line(1, " ".join(parts))
