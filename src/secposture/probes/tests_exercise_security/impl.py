"""tests-exercise-security: tests whose names and assertions show security behaviour, or DAST in CI.

Evidence is what a test does, never a word that happens to be in a test file: a status assertion
(`assert r.status_code == 403`, `.expect(401)`, `status().isForbidden()`), a security header, escaped
HTML or a cookie attribute inside an assertion, or a test named for security behaviour
(`test_other_users_account_is_forbidden`, `it('rejects requests without a token')`). Comments,
imports and relative paths are blanked before anything is matched (lexing.py). The strongest
evidence comes first: an assertion inside a test named for security behaviour, then an assertion,
then a test name alone.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from secposture import catalogue
from secposture.facts import languages, tools
from secposture.facts.interface import Facts
from secposture.model import Finding, Location, Outcome
from secposture.paths import glob_matcher
from secposture.probes.interface import finding, probe_id
from secposture.probes.tests_exercise_security import lexing

PROBE = probe_id(__name__)
_SNIPPET = 80
_NAME_SHOWN = 100
_NEWLINE = re.compile("\n")
_MAX_CANDIDATES = 400  # signal positions checked per file: enough to find one in an assertion

# Strength of a piece of evidence: what a test asserts beats what it is called.
NAME = 1
ASSERTION = 2
NAMED_ASSERTION = 3  # an assertion inside a test named for security behaviour


@dataclass(frozen=True)
class Evidence:
    path: str
    line: int
    category: str
    snippet: str  # the line as written (the assertion), or the test's name
    strength: int
    test: str | None = None  # the name of the test the assertion is in, as written

    def describe(self) -> str:
        where = f"{self.path}:{self.line}"
        if self.strength == NAME:
            return f"a test is named for security behaviour ({self.category}): {where} `{self.snippet}`"
        within = f" in test `{_short(self.test, _NAME_SHOWN)}`" if self.test else ""
        return (
            f"tests assert security behaviour ({self.category}){within}: {where} `{self.snippet}`"
        )


@dataclass(frozen=True)
class _Categories:
    assertion: tuple[tuple[str, re.Pattern[str]], ...]  # over bare code
    assertion_text: tuple[tuple[str, re.Pattern[str]], ...]  # over code with its strings
    names: re.Pattern[str]  # every category's name pattern, one group each (over `_words`)
    named: tuple[str, ...]  # the categories in `names`, by group
    order: tuple[str, ...]


@cache
def _config() -> dict[str, Any]:
    return catalogue.load("security_tests")


@cache
def _categories() -> _Categories:
    """The catalogue's patterns, compiled for lower-cased ASCII text (see `_lowered`)."""
    spec: dict[str, dict[str, str]] = _config()["categories"]

    def each(key: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
        return tuple((name, re.compile(c[key], re.ASCII)) for name, c in spec.items() if key in c)

    named = [name for name, c in spec.items() if "name" in c]
    joined = "|".join(f"(?P<c{i}>{spec[name]['name']})" for i, name in enumerate(named))
    return _Categories(
        assertion=each("assertion"),
        assertion_text=each("assertion_text"),
        names=re.compile(joined or "(?!)", re.ASCII),
        named=tuple(named),
        order=tuple(spec),
    )


def _name_category(name: str) -> str | None:
    """The category a test's name shows, or None."""
    categories = _categories()
    match = categories.names.search(_words(name))
    if match is None or match.lastgroup is None:
        return None
    return categories.named[int(match.lastgroup[1:])]


def _lowered(text: str) -> str:
    """The text in lower case, each non-ASCII character as `?`: the same length, so offsets (and
    lines) stay, and the catalogue's lower-case ASCII patterns match it as they would the text
    without case (faster than IGNORECASE, which folds Unicode case at every position)."""
    if not text.isascii():
        text = text.encode("ascii", "replace").decode("ascii")
    return text.lower()


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_WORD = re.compile(r"[A-Za-z]+|[0-9]+")


def _words(name: str) -> str:
    """A test's name as lower-case words: `TestPostValidateCsrfInvalid` -> "test post validate
    csrf invalid", `test_other_users_account_is_forbidden` -> "test other users account is
    forbidden", `should 403 when traversing past root` as it is."""
    return " ".join(_WORD.findall(_CAMEL.sub(" ", name))).lower()


# --- test declarations, by language family -------------------------------------------------------


def _word(*words: str) -> str:
    """Any of these words, not inside a longer name (`it(` but not `submit(`, `t.Run` but not
    `st.Run`): the check that no name character comes before sits after each word's first letter,
    where it costs nothing, rather than before it (a leading `\\b` makes the regex engine try
    every position of the file)."""
    return (
        "(?:"
        + "|".join(f"{w[0]}(?<![\\w.$]{re.escape(w[0])}){re.escape(w[1:])}" for w in words)
        + ")"
    )


_STR = r"""(?:"([^"\n]{1,300})"|'([^'\n]{1,300})'|`([^`\n]{1,300})`)"""
_JS_TEST = (
    _word("it", "test", "describe", "context", "specify", "scenario", "suite", "should")
    + r"(?:\.(?:only|skip|each|concurrent|todo|failing))?[ \t]*\([ \t]*"
    + _STR
)
# A test method after its annotation on a line of its own (JUnit, xUnit, NUnit, MSTest), other
# annotations between: `@Test\n  void deniesOtherUsers() {`, `[Fact]\npublic async Task X()`.
_ANNOTATED = (
    r"(?:@(?:Test|ParameterizedTest|RepeatedTest|TestFactory|TestTemplate)|"
    r"\[(?:Fact|Theory|Test|TestMethod|TestCase))\b(?:\([^)\n]{0,200}\))?\]?[ \t]*\n"
    r"(?:[ \t]*[@\[][^\n]{0,300}\n){0,5}[ \t]*"
    r"(?:(?:public|private|protected|internal|open|override|suspend|static|final|async)[ \t]+){0,5}"
    r"(?:void|fun|def|[A-Za-z_][\w<>\[\],.?]{0,60})[ \t]+(\w{1,200})[ \t]*\("
)
_DECLARATIONS = {
    "python": [
        r"\n[ \t]*(?:async[ \t]+)?def[ \t]+(test\w{0,200})",
        r"\n[ \t]*class[ \t]+(Test\w{0,200})",
    ],
    "c": [
        _JS_TEST,
        _word("fun") + r"[ \t]+`([^`\n]{1,300})`",
        _ANNOTATED,
        r"@Test[ \t]+(?:\w{1,40}[ \t]+){0,4}(\w{1,200})[ \t]*\(",
        _word("void") + r"[ \t]+(test\w{1,200})[ \t]*\(",
        r"@DisplayName\([ \t]*\"([^\"\n]{1,300})\"",
    ],
    "scala": [
        r"\"([^\"\n]{1,300})\"[ \t]+(?:in|should|must|when|which|can|taggedAs)\b",
        _word("should", "must", "can", "it", "test", "describe", "scenario", "Scenario")
        + r"[ \t]*\(?[ \t]*\"([^\"\n]{1,300})\"",
    ],
    "go": [
        _word("func") + r"[ \t]+(Test\w{1,200})[ \t]*\(",
        _word("t.Run") + r"\([ \t]*\"([^\"\n]{1,300})\"",
        r"\n[ \t]*(?:name|desc|description|title|scenario|testName|tcName|caseName)[ \t]*:[ \t]*\"([^\"\n]{1,300})\"",
    ],
    "rust": [
        r"#\[[\w:]{0,40}test[\w:]{0,40}[^\n\]]{0,200}\][ \t]*\n(?:[ \t]*#\[[^\n]{0,300}\n){0,5}"
        r"[ \t]*(?:pub[ \t]+)?(?:async[ \t]+)?fn[ \t]+(\w{1,200})",
    ],
    "php": [
        _word("function") + r"[ \t]+(test\w{1,200})[ \t]*\(",
        r"@test\b[^\n]{0,200}\n(?:[^\n]{0,300}\n){0,3}?[^\n]{0,200}?\bfunction[ \t]+(\w{1,200})",
        _word("it", "test") + r"\([ \t]*" + _STR,
    ],
    "ruby": [
        r"\n[ \t]*(?:it|test|should|should_not|context|describe|scenario|specify|feature|example)"
        r"[ \t]*\(?[ \t]*(?:\"([^\"\n]{1,300})\"|'([^'\n]{1,300})')",
        r"\n[ \t]*def[ \t]+(test_\w{1,200})",
    ],
    "gherkin": [
        r"\n[ \t]*(?:Scenario(?:[ \t]+Outline|[ \t]+Template)?|Example)[ \t]*:[ \t]*([^\n]{1,300})"
    ],
}


@cache
def _declarations(family: str) -> re.Pattern[str]:
    patterns = _DECLARATIONS.get(family, _DECLARATIONS["c"])
    return re.compile("|".join(f"(?:{p})" for p in patterns))


# An assertion starts here (over bare code, case-insensitive): assert*, expect*, should*, must*,
# want*: (Go tables), raises (pytest), .to (RSpec), .then() (RestAssured), t.Error/t.Fatal and a
# comparison in an `if` (Go).
_OPENER = re.compile(
    r"\b(?:assert\w{0,40}|expect\w{0,40}|refute\w{0,40}|verify\w{0,40}|should\w{0,40}|must\w{0,40}"
    r"|want\w{0,40}|raises?\w{0,20}|andExpect|require\.\w{1,40}|to(?:Throw|Be|Equal|Have)\w{0,40})\b"
    r"|\.(?:to|to_not|not_to)\b|\.then\(\)|\bt\.(?:Error|Fatal)\w{0,10}|\bif\b[^\n]{0,200}?[!=]==?",
    re.IGNORECASE,
)


# A function that asserts, being defined, asserts nothing (`const assertUnauthorised = (...) =>`,
# `def assert_forbidden(response):`): its callers do.
_DEFINITION = re.compile(
    r"[ \t]*(?:(?:export|async|public|private|protected|static|suspend|inline)[ \t]+){0,3}"
    r"(?:function\b|def\b|fun\b|func\b|fn\b|(?:const|let|var|val)[ \t]+\w+[ \t]*=[ \t]*(?:async\b|function\b|\())"
)


@cache
def _negation() -> re.Pattern[str]:
    return re.compile(_config()["negation"], re.IGNORECASE)


# --- one file --------------------------------------------------------------------------------------


class _File:
    """A test file's lines and assertion windows, computed as they are asked for."""

    def __init__(self, source: lexing.Source) -> None:
        self.source = source
        self.bare_lines = source.bare.split("\n")
        self._newlines: dict[str, list[int]] = {}
        self._starts: dict[int, int | None] = {}

    def line_of(self, text: str, offset: int) -> int:
        """0-based line of an offset into the file's `bare` or `code` text (the same lines, not
        the same offsets: strings are blanked in one)."""
        newlines = self._newlines.get(text)
        if newlines is None:
            body = self.source.bare if text == "bare" else self.source.code
            newlines = self._newlines[text] = [m.start() for m in _NEWLINE.finditer(body)]
        return bisect_left(newlines, offset)

    def assertion_start(self, line: int) -> int | None:
        """The first line of the assertion a line is part of, or None: an opener on it, or on a
        line above whose brackets are still open (or whose method chain goes on:
        `.expectStatus()` / `.isForbidden`), within the configured span."""
        if line not in self._starts:
            self._starts[line] = self._find_start(line)
        return self._starts[line]

    def _find_start(self, line: int) -> int | None:
        span = int(_config()["assertion_lines"])
        lines = self.bare_lines
        for start in range(line, max(line - span, -1), -1):
            opener = _OPENER.search(lines[start])
            if opener is None or _DEFINITION.match(lines[start]):
                continue
            depth = lexing.depth_change(lines[start][opener.start() :])
            for k in range(start + 1, line + 1):
                if depth <= 0 and not lines[k].lstrip().startswith("."):
                    return None
                depth = max(depth, 0) + lexing.depth_change(lines[k])
            return start
        return None

    def negated(self, start: int, line: int) -> bool:
        """Whether the assertion from `start` to `line` says the value is *not* the one matched."""
        negation = _negation()
        return any(negation.search(self.bare_lines[k]) for k in range(start, line + 1))


def _declared(source: lexing.Source) -> tuple[list[int], list[str]]:
    """(0-based lines, names) of the test declarations, in order."""
    lines: list[int] = []
    names: list[str] = []
    # Patterns that begin a line start with a line break (a literal the engine skips to, where
    # `^` is tried at every position): the text gets one before its first line.
    code = "\n" + source.code
    newlines = -1
    at = 0
    for match in _declarations(source.family).finditer(code):
        name = next((g for g in match.groups() if g), None)
        if name is None:
            continue
        start = match.start(match.lastindex or 0)
        newlines += code.count("\n", at, start)
        at = start
        lines.append(newlines)
        names.append(name.strip())
    return lines, names


def _signals(file: _File) -> Iterator[tuple[int, str, bool]]:
    """(0-based line, category, whether a negation cancels it) of each signal in the file's code,
    in no particular order: status codes and identifiers in bare code (an assertion that they are
    *not* what came back cancels them), header names, escaped HTML and such in code with strings."""
    categories = _categories()
    searched = (
        ("bare", _lowered(file.source.bare), categories.assertion, True),
        ("code", _lowered(file.source.code), categories.assertion_text, False),
    )
    count = 0
    for which, text, patterns, negatable in searched:
        for category, pattern in patterns:
            for match in pattern.finditer(text):
                yield file.line_of(which, match.start()), category, negatable
                count += 1
                if count >= _MAX_CANDIDATES:
                    return


def scan_source(path: str, source: lexing.Source) -> Evidence | None:
    """The strongest evidence in one test file, the earliest of equal strength."""
    file = _File(source)
    decl_lines, decl_names = _declared(source)
    name_categories = [_name_category(n) for n in decl_names]
    order = {c: i for i, c in enumerate(_categories().order)}
    best: tuple[int, int, int] | None = None  # (-strength, line, category order)
    best_evidence: Evidence | None = None
    for line, category, negatable in _signals(file):
        start = file.assertion_start(line)
        if start is None or (negatable and file.negated(start, line)):
            continue
        at = bisect_right(decl_lines, line) - 1
        test = decl_names[at] if at >= 0 else None
        strength = NAMED_ASSERTION if at >= 0 and name_categories[at] else ASSERTION
        key = (-strength, line, order[category])
        if best is None or key < best:
            best = key
            best_evidence = Evidence(path, line + 1, category, "", strength, test)
    if best_evidence is not None:
        raw = source.code.split("\n")[best_evidence.line - 1].strip()
        return Evidence(
            path,
            best_evidence.line,
            best_evidence.category,
            _short(raw, _SNIPPET),
            best_evidence.strength,
            best_evidence.test,
        )
    for line, name, named in zip(decl_lines, decl_names, name_categories, strict=True):
        if named is not None:
            return Evidence(path, line + 1, named, _short(name, _SNIPPET), NAME, name)
    return None


def scan_text(path: str, text: str) -> Evidence | None:
    """The strongest evidence that a test file exercises security behaviour, or None."""
    return scan_source(path, lexing.read(path, text))


def _short(text: str | None, limit: int) -> str:
    text = text or ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- which files ------------------------------------------------------------------------------------


def test_files(facts: Facts) -> list[str]:
    """Test files that are code, the ones whose names suggest security first."""
    spec = _config()
    suffixes = tuple(spec["code_suffixes"])
    is_test = glob_matcher(tuple(spec["test_globs"]))
    found = [
        p
        for p in facts.paths
        if p.endswith(suffixes) and is_test(p) and not facts.is_set_aside(p)  # examples' tests
    ]
    priority = _priority(tuple(spec["priority_words"]))
    return sorted(found, key=lambda p: (priority(p.lower()) is None, p))


@cache
def _priority(words: tuple[str, ...]) -> Callable[[str], re.Match[str] | None]:
    """Whether a (lower-case) path has one of the priority words: one search for them all."""
    if not words:
        return lambda _path: None
    return re.compile("|".join(re.escape(w) for w in words)).search


def example_subject(facts: Facts, path: str, source: lexing.Source) -> str | None:
    """The example app a test file exercises, when it imports one: a module in an example folder
    (`examples/`, `demo/`, ...) that the scan sets aside as not the product (facts/paths.py; the
    policy's `include` puts it back). Its tests test the example, not the product: express's
    `test/acceptance/auth.js` requires `../../examples/auth`."""
    folders = frozenset(_config()["example_folders"])
    everything = facts.index.all
    for module in source.imports:
        target = lexing.resolve(path, module)
        if target is None or folders.isdisjoint(target.lower().split("/")):
            continue
        i = bisect_left(everything, target)
        found = []
        while i < len(everything) and everything[i].startswith(target):
            rest = everything[i][len(target) :]
            if rest == "" or rest[0] in "./":
                found.append(everything[i])
            i += 1
        if found and all(facts.is_set_aside(p) for p in found):
            return target
    return None


@dataclass
class Search:
    evidence: list[Evidence]
    read: int
    total: int
    examples: list[tuple[str, str]]  # (test file, the example app it tests), set aside


def search(facts: Facts) -> Search:
    """Test files read in priority order, at most the policy's limit: stops once enough files have
    the strongest evidence (an assertion in a test named for security behaviour), or a bounded
    number of files after the first evidence, weaker evidence being all there is."""
    files = test_files(facts)
    spec = _config()
    enough, upgrade = int(spec["enough_files"]), int(spec["upgrade_reads"])
    found: list[Evidence] = []
    examples: list[tuple[str, str]] = []
    read = 0
    since_first = 0
    for path in files[: facts.policy.max_test_files_read]:
        if found:
            if since_first >= upgrade:
                break
            since_first += 1
        text = facts.read(path)
        read += 1
        if text is None:
            continue
        source = lexing.read(path, text)
        evidence = scan_source(path, source)
        if evidence is None:
            continue
        subject = example_subject(facts, path, source)
        if subject is not None:
            examples.append((path, subject))
            continue
        found.append(evidence)
        if sum(e.strength == NAMED_ASSERTION for e in found) >= enough:
            break
    found.sort(key=lambda e: -e.strength)  # stable: priority order within a strength
    return Search(found[:enough], read, len(files), examples)


def find_evidence(facts: Facts) -> tuple[list[Evidence], int, int]:
    """(evidence, files read, test files): the strongest first."""
    found = search(facts)
    return found.evidence, found.read, found.total


def _only_tests(facts: Facts) -> list[str] | None:
    """The languages whose every file is a test (terratest beside a Terraform module), when no
    other code than infrastructure code and tests is present: no application to test."""
    spec = _config()
    is_test = glob_matcher(tuple(spec["test_globs"]))
    code = [lang for lang in facts.get(languages.collect).values() if not lang.infrastructure]
    for lang in code:
        complete = len(lang.sample) >= lang.files
        if not complete or not all(is_test(p) for p in lang.sample):
            return None
    return [lang.name for lang in code]


def run(facts: Facts) -> list[Finding]:
    if not facts.get(languages.collect):
        return [
            finding(
                PROBE,
                Outcome.NOT_APPLICABLE,
                "the repository has no code in a language secposture knows",
            )
        ]
    only_tests = _only_tests(facts)
    if only_tests is not None:
        tests = f" and tests of it ({', '.join(only_tests)})" if only_tests else ""
        return [
            finding(
                PROBE,
                Outcome.NOT_APPLICABLE,
                f"no application code: only infrastructure code{tests}, whose security the "
                "infrastructure checks test",
            )
        ]
    out: list[Finding] = []
    dast = [u for u in facts.get(tools.ci_uses) if u.has_purpose("dast")]
    for use in list({u.tool.id: u for u in dast}.values()):
        out.append(
            finding(
                PROBE, Outcome.POSITIVE, f"a DAST scan runs in CI: {use.describe()}", use.location
            )
        )
    found = search(facts)
    for n, item in enumerate(found.evidence):
        out.append(
            finding(
                PROBE,
                Outcome.POSITIVE,
                item.describe() + ("" if n else _examples_note(found)),
                Location(item.path, item.line),
                strength={NAME: "name", ASSERTION: "assertion"}.get(
                    item.strength, "named assertion"
                ),
            )
        )
    if out:
        return out
    return [finding(PROBE, Outcome.NEGATIVE, _negative(facts, found) + _examples_note(found))]


def _examples_note(found: Search) -> str:
    if not found.examples:
        return ""
    path, subject = found.examples[0]
    more = len(found.examples) - 1
    others = f" and {more} more" if more else ""
    return f" (set aside: tests of example apps, not the product: {path} tests {subject}/{others})"


def _negative(facts: Facts, found: Search) -> str:
    read, total = found.read, found.total
    categories = ", ".join(_categories().order)
    if total == 0:
        return "no test files found (tests/, test/, __tests__/, spec/, *_test.go, test_*.py, *.test.ts, *Test.java, ...) and no DAST scan (such as OWASP ZAP) runs in CI"
    if facts.policy.max_test_files_read == 0:
        return f"{total} test files, none read (limits.max_test_files_read = 0), and no DAST scan runs in CI"
    limited = f" (the first {read} of {total}: limits.max_test_files_read)" if read < total else ""
    return (
        f"none of the {read} test files read{limited} has a test named for, or an assertion of, "
        f"security behaviour ({categories}); words in comments, imports and paths do not count; "
        "and no DAST scan (such as OWASP ZAP) runs in CI"
    )
