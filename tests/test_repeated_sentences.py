"""No report says the same sentence twice about one control (issue 13).

Every fixture repository is scanned and rendered in every format; each control's block (a row of
the terminal table, a `<details>` of the Markdown and HTML reports, a result of the JSON and SARIF)
must hold each sentence once, and the brief terminal view must fit one screen.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from conftest import FIXTURES, MakeRepo, scan

from secposture.model import ScanReport, Status
from secposture.reports.interface import RenderOptions, renderer

FIXTURE_NAMES = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())
# A sentence ends at a full stop before a capital letter, or at a line break; shorter pieces ("no GitHub workflows") may
# fairly recur, as in a count and its list, so only sentences this long are compared.
_SENTENCE_END = re.compile(r"(?<!e\.g\.)(?<!i\.e\.)(?<=\.)\s+(?=[A-Z])|\n+")
_MIN_SENTENCE = 30
_DECORATION = " │┃|-*•✔✘◐?–≈!>`_"


def sentences(text: str) -> list[str]:
    out = []
    for piece in _SENTENCE_END.split(text):
        piece = piece.strip(_DECORATION).strip()
        if len(piece) >= _MIN_SENTENCE:
            out.append(piece)
    return out


def repeated(text: str) -> dict[str, int]:
    return {s: n for s, n in Counter(sentences(text)).items() if n > 1}


def test_repeated_finds_a_sentence_said_twice() -> None:
    said_twice = "no threat model found in docs/threat-model/\n  ✘ no threat model found in docs/threat-model/"
    assert repeated(said_twice) == {"no threat model found in docs/threat-model/": 2}
    assert repeated("a sentence that is long enough to count. another one, also long enough") == {}


def _terminal_rows(text: str) -> list[str]:
    """The rows of rich tables as blocks: a row starts where the status column is not blank."""
    rows: list[str] = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.split("│")]
        if len(cells) < 4:
            continue
        status, rest = cells[1], " ".join(cells[2:])
        if status or not rows:
            rows.append(rest)
        else:
            rows[-1] += "\n" + rest
    return rows


def _blocks(fmt: str, text: str) -> list[str]:
    if fmt == "terminal":
        # width 1000: no cell wraps, so each finding is one line of its row
        return _terminal_rows(text) or [text]
    if fmt in ("markdown", "html"):
        blocks = re.findall(r"<details.*?</details>", text, flags=re.S)
        # A list item or paragraph is a line; inline tags (code, b) are not breaks.
        lines = (re.sub(r"<(?:/?(?:li|p|ul|summary|details)|br)\b[^>]*>", "\n", b) for b in blocks)
        return [html.unescape(re.sub(r"<[^>]+>", "", b)) for b in lines]
    data = json.loads(text)
    if fmt == "json":
        # A result's summary quotes its findings by design (a consumer reads either); each on
        # its own must not repeat itself, and no finding is listed twice.
        blocks = []
        for r in data["controls"]:
            blocks.append(r["summary"])
            blocks.append(
                "\n".join(
                    f"{f['probe']} {f.get('location')}: {f['message']}" for f in r["findings"]
                )
            )
        return blocks
    return [r["message"]["text"] for r in data["runs"][0]["results"]]


def _report(make_repo: MakeRepo, name: str) -> ScanReport:
    return scan(make_repo(name))


@pytest.mark.parametrize("name", FIXTURE_NAMES)
@pytest.mark.parametrize("fmt", ["terminal", "markdown", "html", "json", "sarif"])
def test_no_control_says_a_sentence_twice(make_repo: MakeRepo, name: str, fmt: str) -> None:
    report = _report(make_repo, name)
    text = renderer(fmt)(report, RenderOptions(width=1000, verbose=True))
    for block in _blocks(fmt, text):
        assert repeated(block) == {}, (name, fmt, block)


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_the_brief_terminal_view_fits_one_screen(make_repo: MakeRepo, name: str) -> None:
    report = _report(make_repo, name)
    text = renderer("terminal")(report, RenderOptions(width=100))
    lines = text.splitlines()
    assert len(lines) <= 40, text
    assert all(len(line) <= 100 for line in lines), text
    # One row per control, what does not pass first, each sentence once.
    rows = [line for line in lines if line[:1] in "✘◐?≈✔–"]
    assert len(rows) == len(report.results)
    order = [r.status for r in report.results]
    failing = [s for s in order if s in (Status.FAIL, Status.PARTIAL)]
    assert [line.split()[1] for line in rows[: len(failing)]] == [
        s.value for s in sorted(failing, key=lambda s: s is not Status.FAIL)
    ]
    assert repeated(text) == {}, text


def test_the_verbose_view_does_not_repeat_the_summary_over_its_finding(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    """The issue's example: a control whose summary is its single finding said it twice."""
    report = scan(make_repo(files={"app.py": "print('x')\n"}))
    text = renderer("terminal")(report, RenderOptions(width=1000, verbose=True))
    assert text.count("no threat model found") == 1
    assert text.count("no SECURITY.md") == 1
