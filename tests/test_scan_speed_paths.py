"""The shortcuts that make scanning many repositories fast give the same answers as the plain ways
they replace: the shared path index, glob matching, the shell splitter, YAML tag resolution, the
ASCII keyword scan, the folder link check and the git watchdog."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import time
from fnmatch import fnmatchcase
from pathlib import Path

import pytest
from conftest import MakeRepo
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secposture.facts import languages, parsing
from secposture.facts.paths import PathIndex
from secposture.facts.scripts import segments
from secposture.paths import glob_matcher, is_excluded
from secposture.probes.tests_exercise_security import impl as tests_probe
from secposture.sources import local
from secposture.sources.interface import UnreadableFile
from secposture.sources.local import LocalSource, Watchdog

PROPERTY = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# Path-like text: short segments over an alphabet with dots, the odd case and wildcards' look-alikes.
_SEGMENT = st.text(alphabet="abAB._-tx", min_size=1, max_size=6)
_PATH = st.lists(_SEGMENT, min_size=1, max_size=4).map("/".join)
_GLOB = st.lists(
    st.text(alphabet="abAB._-tx*?/", min_size=1, max_size=8), min_size=1, max_size=4
).map(tuple)


# --- the path index ------------------------------------------------------------------------------


@PROPERTY
@given(
    st.lists(_PATH, max_size=30, unique=True),
    st.sets(_SEGMENT, max_size=3),
    st.lists(_GLOB, max_size=1),
)
def test_index_keeps_what_is_excluded_would_keep(
    paths: list[str], excluded_dirs: set[str], exclude: list[tuple[str, ...]]
) -> None:
    globs = exclude[0] if exclude else ()
    index = PathIndex(paths, frozenset(excluded_dirs), globs)
    expected = sorted(p for p in paths if not is_excluded(p, frozenset(excluded_dirs), globs))
    assert list(index.kept) == expected
    assert index.kept_names == tuple(p.rpartition("/")[2] for p in expected)
    for folder, in_folder in index.kept_folders.items():
        assert in_folder == [p for p in expected if p.rpartition("/")[0] == folder]
    assert sorted(p for found in index.folders.values() for p in found) == sorted(paths)


@PROPERTY
@given(st.lists(_PATH, max_size=30, unique=True), _GLOB)
def test_candidates_include_every_match(paths: list[str], globs: tuple[str, ...]) -> None:
    """`like` and `named_like` may return more than matches, never fewer, and in path order."""
    index = PathIndex(paths, frozenset())
    by_path = index.like(globs)
    assert by_path == sorted(by_path)
    assert {p for p in index.kept if any(fnmatchcase(p, g) for g in globs)} <= set(by_path)
    name_globs = tuple(g for g in globs if "/" not in g)
    by_name = index.named_like(name_globs)
    assert by_name == sorted(by_name)
    wanted = {
        p for p in index.kept if any(fnmatchcase(p.rpartition("/")[2], g) for g in name_globs)
    }
    assert wanted <= set(by_name)


def test_named_finds_excluded_paths_by_name() -> None:
    index = PathIndex(
        ["action.yml", "build/action.yml", "node_modules/x/action.yaml", "src/a.py"],
        frozenset({"build", "node_modules"}),
    )
    assert index.named("action.yml", "action.yaml") == [
        "action.yml",
        "build/action.yml",
        "node_modules/x/action.yaml",
    ]
    assert "build/action.yml" not in index.kept


@PROPERTY
@given(_GLOB, st.lists(_PATH, max_size=20))
def test_glob_matcher_is_fnmatch(globs: tuple[str, ...], paths: list[str]) -> None:
    match = glob_matcher(globs)
    for path in paths:
        assert match(path) == any(fnmatchcase(path, g) for g in globs), (globs, path)


def test_glob_matcher_floating_globs() -> None:
    match = glob_matcher(("*threat*model*.py", "*/test_*.py"))
    assert match("docs/threat/x/model.py") and match("a/test_b.py") and match("threatmodel.py")
    assert (
        not match("docs/model/threat.py") and not match("test_b.py") and not match("a/test_b.pyc")
    )


# --- languages ------------------------------------------------------------------------------------

_KUBERNETES_BEFORE = [
    r"(^|/)(k8s|kubernetes|kustomize|manifests|deploy/k8s|helm|charts)/.*\.ya?ml$",
    r"(^|/)kustomization\.ya?ml$",
    r"(^|/)Chart\.yaml$",
]
_K8S_PARTS = st.sampled_from(
    ["k8s", "kubernetes", "kustomize", "manifests", "deploy", "helm", "charts", "Chart.yaml",
     "kustomization.yml", "kustomization.yaml", "a.yml", "b.yaml", "x", "Chart.yml", "\n"]
)  # fmt: skip


@PROPERTY
@given(st.lists(_K8S_PARTS, min_size=1, max_size=5).map("/".join))
def test_kubernetes_pattern_matches_what_the_three_did(path: str) -> None:
    """The shipped catalogue's one kubernetes pattern is the three it replaced, joined."""
    (joined,) = [
        rx for rx, name in languages._compiled(frozenset()).patterns if name == "kubernetes"
    ]
    before = any(re.search(p, path) for p in _KUBERNETES_BEFORE)
    assert bool(joined.search(path)) == before


# --- shell lines ----------------------------------------------------------------------------------


def _shlex_segments(line: str) -> list[list[str]]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    out: list[list[str]] = [[]]
    for token in lexer:
        if token and set(token) <= set("();<>|&"):
            out.append([])
        else:
            out[-1].append(token)
    return [s for s in out if s]


@PROPERTY
@given(st.text(alphabet="ab1 -_=./*?~$(){};<>|&#\t\r\n\x0b\x0c\xe9!%+,:[]", max_size=40))
def test_plain_shell_lines_split_as_shlex_splits_them(line: str) -> None:
    assert segments(line) == _shlex_segments(line)


def test_quoted_shell_lines_still_use_shlex() -> None:
    assert segments("echo 'a && b' && make lint") == [["echo", "a && b"], ["make", "lint"]]
    assert segments('say "unbalanced') == [["say", '"unbalanced']]


# --- YAML -----------------------------------------------------------------------------------------

_SCALARS = [
    "yes", "no", "on", "off", "true", "False", "TRUE", "null", "Null", "~", "", "1", "-1", "+1",
    "0x1F", "0o17", "017", "1_000", "1.5", "-.inf", ".NaN", "1e3", "6.02e+23", "2025-06-01",
    "2025-06-01 10:00:00", "2025-6-1", "<<", "=", "abc", "0b101", "12:30", "1:20:30", ".5",
]  # fmt: skip


def _parse_with_stock_resolver(text: str) -> object:
    """parse_yaml with ruamel's own Resolver.resolve for plain scalars (what resolve_plain
    replaces)."""
    from dataclasses import replace

    from ruamel.yaml.nodes import ScalarNode
    from ruamel.yaml.resolver import Resolver

    ruamel = parsing._ruamel()
    stock = Resolver()
    saved = parsing._YAML
    parsing._YAML = replace(
        ruamel, resolve_plain=lambda value: stock.resolve(ScalarNode, value, (True, False))
    )
    try:
        return parsing.parse_yaml(text)
    finally:
        parsing._YAML = saved


@pytest.mark.parametrize("scalar", _SCALARS)
def test_yaml_scalars_resolve_as_ruamel_resolves_them(scalar: str) -> None:
    """The loader's faster resolver gives the values and types ruamel's own resolver gives."""
    text = f"key: {scalar}\nlist: [{scalar}]\n{scalar or 'empty'}: 1\n"
    try:
        expected = _parse_with_stock_resolver(text)
    except ValueError as exc:
        with pytest.raises(ValueError, match=re.escape(str(exc))):
            parsing.parse_yaml(text)
        return
    got = parsing.parse_yaml(text)
    assert got == expected
    values = [got["key"], *got["list"]]
    wanted = [expected["key"], *expected["list"]]  # type: ignore[index]
    assert [type(v) for v in values] == [type(v) for v in wanted]
    assert [type(k) for k in got] == [type(k) for k in expected]  # type: ignore[attr-defined]


def test_yaml_keeps_lines_merge_keys_and_custom_tags() -> None:
    text = "base: &b\n  x: 1\njob:\n  <<: *b\n  y: !reference [a, b]\n  'q': \"s\"\n  z: !t text\n"
    doc = parsing.parse_yaml(text)
    assert doc == {"base": {"x": 1}, "job": {"y": ["a", "b"], "q": "s", "z": "text", "x": 1}}
    assert parsing.line_of(doc, "job") == 3 and parsing.line_of(doc["job"], "q") == 6
    assert _parse_with_stock_resolver(text) == doc


_FLAT_WORDS = st.sampled_from(
    ["accepted", "2025-06-01", "2025-6-1", "1", "017", "0o17", "0x1F", "1_000", "1.5", "1e3",
     "true", "False", "null", "yes", "on", "security", "v1.2.3", "_x", "a-b", "2025-13-45", "NULL"]
)  # fmt: skip
_FLAT_KEYS = st.sampled_from(["status", "date", "tags", "deciders", "true", "null", "a_b", "x-y"])


@PROPERTY
@given(
    st.lists(
        st.tuples(
            _FLAT_KEYS,
            st.one_of(
                _FLAT_WORDS,
                st.lists(_FLAT_WORDS, max_size=3).map(lambda w: "[" + ", ".join(w) + "]"),
            ),
            st.sampled_from([" ", "  "]),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_flat_front_matter_reads_as_the_yaml_parser_reads_it(
    entries: list[tuple[str, str, str]],
) -> None:
    block = [f"{key}:{gap}{value}" for key, value, gap in entries]
    flat = parsing._flat_yaml(block)
    try:
        parsed = parsing.parse_yaml("\n".join(block))
    except ValueError:
        assert flat is None  # what the parser refuses is left to it
        return
    if flat is None:
        return  # left to the parser (a key that reads as a bool, a repeated key)
    assert flat == parsed and list(flat) == list(parsed)
    assert flat.key_lines == parsed.key_lines and flat.line == parsed.line
    for key, value in flat.items():
        assert type(value) is type(parsed[key])
        if isinstance(value, parsing.YamlList):
            assert [type(v) for v in value] == [type(v) for v in parsed[key]]
            assert (value.line, value.item_lines) == (parsed[key].line, parsed[key].item_lines)


def test_front_matter_outside_the_flat_shape_goes_to_the_parser() -> None:
    text = "---\ntitle: Use OIDC: everywhere\nnested:\n  a: 1\n---\n"
    assert parsing.front_matter(text) == (None, 5)  # `a: b: c` is not YAML
    text = "---\ntitle: 'Use OIDC'\ndate: 2025-06-01 # reviewed\ntags:\n  - security\n---\n"
    meta, length = parsing.front_matter(text)
    assert meta is not None and meta["title"] == "Use OIDC" and meta["tags"] == ["security"]
    assert str(meta["date"]) == "2025-06-01" and length == 6


# --- the security-tests scan ----------------------------------------------------------------------

_FRAGMENTS = [
    "assert ", "status_code", " == ", "401", "403", "Forbidden", "CSRF", "xss", "<SCRIPT>", "Bcrypt",
    "CORS", "Rate-Limit", "LOGIN_REQUIRED", "Authorization", "../../", "\n", " ", "_", "x", "HTTP403",
    "SameSite", "SQL injection", "Throttled", "\x1c", "\x1f", "expect(", "\t", "&LT;", "HttpOnly",
    "Content-Security-Policy", "AuthError", "bad_csrf_token", "Invalid-Signature", "429",
]  # fmt: skip


@PROPERTY
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=40).map("".join))
def test_lower_cased_ascii_matching_finds_what_ignorecase_finds(text: str) -> None:
    """The catalogue's patterns run over the text lower-cased once, without IGNORECASE (faster):
    on ASCII text they find the same spans as IGNORECASE does on the text as written."""
    assert text.isascii()
    lowered = tests_probe._lowered(text)
    for spec in tests_probe._config()["categories"].values():
        for key in ("assertion", "assertion_text"):
            if key not in spec:
                continue
            want = [m.span() for m in re.finditer(spec[key], text, re.IGNORECASE)]
            got = [m.span() for m in re.finditer(spec[key], lowered, re.ASCII)]
            assert want == got, (key, text)


@PROPERTY
@given(st.text(max_size=200))
def test_lowering_keeps_every_offset(text: str) -> None:
    """Non-ASCII characters become one `?` each: offsets, hence lines, stay where they were."""
    lowered = tests_probe._lowered(text)
    assert len(lowered) == len(text) and lowered.isascii()
    assert [i for i, c in enumerate(lowered) if c == "\n"] == [
        i for i, c in enumerate(text) if c == "\n"
    ]


# --- reading files --------------------------------------------------------------------------------


def test_file_below_a_folder_link_that_leads_out_is_refused(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere"
    (outside / "deeper").mkdir(parents=True)
    (outside / "deeper" / "SECURITY.md").write_text("outside\n", "utf-8")
    root = make_repo("report-basic")
    (root / "docs" / "linked").symlink_to(outside, target_is_directory=True)
    snapshot = LocalSource(root).snapshot()
    assert snapshot.read_text("docs/architecture.md")  # a plain folder on the way
    with pytest.raises(UnreadableFile, match="points outside"):
        snapshot.read_text("docs/linked/deeper/SECURITY.md")


def test_file_below_a_folder_link_inside_the_repository_is_read(make_repo: MakeRepo) -> None:
    root = make_repo("report-basic")
    (root / "real" / "deeper").mkdir(parents=True)
    (root / "real" / "deeper" / "notes.md").write_text("inside\n", "utf-8")
    (root / "alias").symlink_to(root / "real", target_is_directory=True)
    snapshot = LocalSource(root).snapshot()
    assert snapshot.read_text("alias/deeper/notes.md") == "inside\n"
    assert snapshot.read_text("real/deeper/notes.md") == "inside\n"


def test_a_file_read_twice_is_read_once(make_repo: MakeRepo) -> None:
    root = make_repo("report-basic")
    snapshot = LocalSource(root).snapshot()
    first = snapshot.read_text("SECURITY.md")
    (root / "SECURITY.md").write_text("changed\n", "utf-8")
    assert snapshot.read_text("SECURITY.md") is first  # one scan sees one version of a file


# --- the git watchdog -----------------------------------------------------------------------------


def test_watchdog_kills_a_process_that_outlives_its_limit() -> None:
    watchdog = Watchdog(timeout=0.2, tick=0.05)
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    start = time.monotonic()
    watchdog.watch(proc)
    proc.wait(timeout=10)
    assert time.monotonic() - start < 5 and proc.returncode != 0


def test_watchdog_leaves_a_finished_process_alone_and_stops_when_idle() -> None:
    watchdog = Watchdog(timeout=0.2, tick=0.05)
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    watchdog.watch(proc)
    proc.wait(timeout=10)
    watchdog.release(proc)
    time.sleep(0.3)
    assert proc.returncode == 0 and not watchdog._running


def test_git_calls_share_one_watchdog(make_repo: MakeRepo) -> None:
    root = make_repo("report-basic")
    for _ in range(3):
        assert LocalSource(root).snapshot().paths
    assert not local._WATCHDOG._deadlines  # every call released its process
