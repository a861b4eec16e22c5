"""The readers of hostile YAML, TOML and JSON stay bounded (docs/adr/0010-parse-budgets.md): an alias
bomb, nesting thousands deep, a long line or a non-UTF-8 file up to the size limit costs a fraction
of a second and a few megabytes, and becomes a Problem naming the file and line, never a hang, a
crash or a dropped file. Legitimate aliases (GitLab's `<<: *defaults`) still read as before."""

from __future__ import annotations

import faulthandler
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from conftest import TODAY
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from secposture.facts import ci, dependabot, ecosystems, precommit, scripts, tools, workflows
from secposture.facts.interface import Facts
from secposture.facts.parsing import (
    YamlLimitError,
    compose_yaml,
    line_of,
    load_json,
    load_toml,
    parse_yaml,
)
from secposture.policy import default_policy
from secposture.scan import scan_snapshot
from secposture.sources.interface import DEFAULT_MAX_FILE_BYTES
from secposture.sources.memory import MemorySnapshot

MiB = DEFAULT_MAX_FILE_BYTES
# Generous bounds, so that a loaded two-core machine does not fail them, yet an exponential or
# quadratic reader does: CPU seconds of this process and the peak of Python's allocations.
MAX_SECONDS = 2.0
MAX_BYTES = 200 * 1024 * 1024


@contextmanager
def hang_guard(seconds: float = 120) -> Iterator[None]:
    """A hang (the bug these tests catch) ends the test process with a traceback instead of
    stalling the suite: C code expanding an alias bomb never returns to take a signal."""
    faulthandler.dump_traceback_later(seconds, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


def measured(work: Callable[[], Any]) -> tuple[Any, float, int]:
    """(What `work` returned or raised, its CPU seconds, its peak traced bytes). Timed without
    tracemalloc (which slows allocation severalfold), then run again traced for the memory:
    `work` must start afresh each time (new Facts, whose collectors cache what they found)."""
    with hang_guard():
        start = time.process_time()
        outcome = _outcome(work)
        seconds = time.process_time() - start
        tracemalloc.start()
        try:
            _outcome(work)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    return outcome, seconds, peak


def _outcome(work: Callable[[], Any]) -> Any:
    try:
        return work()
    except ValueError as exc:
        return exc


def bounded(work: Callable[[], Any]) -> Any:
    outcome, seconds, peak = measured(work)
    assert seconds < MAX_SECONDS, f"took {seconds:.2f} s of CPU"
    assert peak < MAX_BYTES, f"peaked at {peak / 1e6:.0f} MB"
    return outcome


def facts_of(files: dict[str, str | bytes]) -> Facts:
    return Facts(MemorySnapshot(files), default_policy(), TODAY)


def laughs(levels: int, fanout: int = 9) -> list[str]:
    """Anchors &a0..&aN, each a list of `fanout` aliases of the one before: *aN expands to
    fanout**N leaves while the text stays a few hundred bytes."""
    lines = [f"&a0 [{', '.join(['lol'] * fanout)}]"]
    lines += [f"&a{i} [{', '.join([f'*a{i - 1}'] * fanout)}]" for i in range(1, levels + 1)]
    return lines


def workflow_bomb(where: str, levels: int = 10) -> str:
    """The issue's workflow: the bomb's anchors in an unused key, its last alias at `where`."""
    anchors = "\n".join(f"  - {line}" for line in laughs(levels))
    last = f"*a{levels}"
    on = last if where == "on" else "push"
    step = {"run": f"run: {last}", "with": f"uses: actions/checkout@v4\n        with: {last}"}.get(
        where, "run: make"
    )
    return (
        f"x-anchors:\n{anchors}\non: {on}\njobs:\n  b:\n    runs-on: ubuntu-latest\n"
        f"    steps:\n      - {step}\n"
    )


# --- alias bombs -----------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["run", "on", "with"])
def test_a_workflow_alias_bomb_is_refused_in_well_under_a_second(where: str) -> None:
    text = workflow_bomb(where)
    assert len(text) < 1000  # the was 642 bytes
    files: dict[str, str | bytes] = {".github/workflows/bomb.yml": text}
    assert bounded(lambda: facts_of(files).get(workflows.collect)) == []
    facts = facts_of(files)
    assert facts.get(workflows.collect) == []
    problem = facts.problem_for(".github/workflows/bomb.yml")
    assert problem is not None and problem.line is not None
    assert problem.message.startswith("exceeds the scanner's limits for YAML: aliases expand it")
    (hidden,) = facts.get(workflows.unanalysed)
    assert hidden is problem
    _, seconds, peak = measured(lambda: parse_yaml(text))
    assert seconds < 0.5 and peak < 10 * 1024 * 1024


def test_a_gitlab_script_bomb_is_refused() -> None:
    anchors = "\n".join(f"  - {line}" for line in laughs(10))
    text = f".anchors:\n{anchors}\nlint:\n  script: *a10\n"
    found = bounded(lambda: facts_of({".gitlab-ci.yml": text}).get(ci.collect))
    assert found.files == [] and [p.path for p in found.unanalysed] == [".gitlab-ci.yml"]


def test_a_dependabot_ignore_bomb_is_refused_by_facts_and_by_the_editor() -> None:
    anchors = "\n".join(f"  - {line}" for line in laughs(8))
    text = (
        f"x:\n{anchors}\nversion: 2\nupdates:\n  - package-ecosystem: pip\n    directory: /\n"
        "    schedule: {interval: weekly}\n    ignore: *a8\n"
    )
    files: dict[str, str | bytes] = {".github/dependabot.yml": text, "package.json": "{}"}
    config = bounded(lambda: facts_of(files).get(dependabot.collect)).dependabot
    assert config is not None and not config.analysed and config.problem is not None
    assert "aliases expand it" in config.problem.message
    error = bounded(lambda: compose_yaml(text))
    assert isinstance(error, YamlLimitError)


def test_legitimate_aliases_still_read_as_before() -> None:
    gitlab = (
        ".defaults: &defaults\n  image: python:3.12\n  before_script: [pip install -e .]\n"
        ".job_template: &job_template\n  <<: *defaults\n  script:\n    - ruff check .\n"
        "lint:\n  <<: *job_template\n  stage: test\n"
        "scan:\n  <<: *job_template\n  script: [semgrep scan --config auto]\n"
        "variables: &vars {A: '1'}\n"
        "test:\n  variables: *vars\n  script: [pytest]\n"
    )
    doc = parse_yaml(gitlab)
    assert doc["lint"] == {
        "stage": "test",
        "image": "python:3.12",
        "before_script": ["pip install -e ."],
        "script": ["ruff check ."],
    }
    assert doc["scan"]["script"] == ["semgrep scan --config auto"]
    assert doc["lint"]["before_script"] is doc[".defaults"]["before_script"]  # shared
    assert line_of(doc, "scan") == 11
    facts = facts_of({".gitlab-ci.yml": gitlab})
    commands = {c.text for c in facts.get(ci.collect).commands}
    assert {"ruff check .", "semgrep scan --config auto", "pip install -e ."} <= commands


def test_a_large_ci_file_merging_its_defaults_into_every_job_is_accepted() -> None:
    """The budget leaves room for real repetition: 400 jobs, each merging 2 KB of defaults."""
    script = "\n".join(f"    - echo step {i} with some words to make it long" for i in range(40))
    jobs = "".join(f"job{i}:\n  <<: *defaults\n  stage: test\n" for i in range(400))
    text = f".defaults: &defaults\n  image: python:3.12\n  script:\n{script}\n{jobs}"
    doc = bounded(lambda: parse_yaml(text))
    assert len(doc) == 401 and doc["job399"]["script"] is doc[".defaults"]["script"]


def test_aliases_of_a_large_scalar_count_its_size() -> None:
    text = 'big: &big "' + "x" * 100_000 + '"\nmany: [' + ", ".join(["*big"] * 100) + "]\n"
    error = bounded(lambda: parse_yaml(text))
    assert isinstance(error, YamlLimitError) and error.line == 2


# --- nesting ---------------------------------------------------------------------------------------


def test_deep_block_nesting_is_refused_without_crashing_the_process() -> None:
    """libyaml's composer recursed in C: 60 KB of `- - - ...` killed the interpreter (SIGSEGV),
    and with it a whole `scan --org`. Run apart, so that a regression fails this test alone."""
    program = (
        "from secposture.facts.parsing import parse_yaml\n"
        "for text in ['- ' * 30000 + 'a', 'a:\\n' + ''.join('  ' * i + 'b:\\n' for i in range(1, 700)),"
        " '[' * 100000, '{a: ' * 100000, '[{' * 50000]:\n"
        "    try:\n"
        "        parse_yaml(text)\n"
        "    except ValueError as exc:\n"
        "        print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("collections nested deeper than 100 levels") == 5


@pytest.mark.parametrize(
    "text",
    [
        "# " + "{" * 101 + "\n",  # a comment
        "k: |\n  " + "{" * 101 + "\n",  # a block scalar (awk, JSON in a heredoc)
        "k: '" + "[" * 500 + "'\n",  # a quoted string
    ],
)
def test_brackets_outside_collections_do_not_count_as_nesting(text: str) -> None:
    parse_yaml("on: push\n" + text)


def test_nesting_up_to_the_limit_reads() -> None:
    assert parse_yaml("a: " + "[" * 99 + "]" * 99)["a"] == parse_yaml("[" * 99 + "]" * 99)
    assert len(parse_yaml("- " * 100 + "x")) == 1
    with pytest.raises(YamlLimitError, match="nested deeper than 100 levels") as caught:
        parse_yaml("a:\n  b: " + "[" * 99 + "]" * 99)
    assert caught.value.line == 2


def test_the_pure_python_parser_decides_only_for_realistic_sizes() -> None:
    """What libyaml rejects is parsed again by the YAML 1.2 parser, 20 times slower: a config of
    a realistic size is read; a large one keeps libyaml's answer in bounded time."""
    tail = "docker: [{image: cimg/python:3.12}]\n"
    assert parse_yaml(tail) == {"docker": [{"image": "cimg/python:3.12"}]}
    big = "y: [" + ("x" * 1000 + ", ") * 500 + "a]\n" + tail
    error = bounded(lambda: parse_yaml(big))
    assert isinstance(error, ValueError) and "line 2" in str(error)


# --- TOML and JSON ---------------------------------------------------------------------------------

# Beside the file under test, files that make the readers read it: a Cargo workspace member, a
# package.json below the root (npm workspaces), a language for the IDE and tool facts.
COMPANIONS: dict[str, str | bytes] = {
    "a/Cargo.toml": "[package]\n",
    "a/package.json": "{}",
    "go.mod": "",
    "app.py": "x\n",
}


def read_everything(files: dict[str, str | bytes]) -> Facts:
    """Facts of `files` with every TOML and JSON reader run over them."""
    facts = facts_of(files)
    for collect in (ecosystems.collect, dependabot.collect, tools.ide_uses, ci.collect):
        facts.get(collect)
    scripts.Expander(facts).expand("npm run lint && tox -e lint", ".gitlab-ci.yml", 1)
    return facts


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("pyproject.toml", "a = " + "[" * 3000 + "]" * 3000),
        ("pyproject.toml", "a = " + "{b = " * 3000 + "}" * 3000),
        ("pyproject.toml", "[project]\nversion = " + "1" * 5000 + "\n"),
        ("Cargo.toml", "[package]\nx = " + "[" * 3000),
        ("tox.toml", "env_list = " + "[" * 3000),
        ("package.json", '{"workspaces": ' + "[" * 100_000),
        ("package.json", '{"version": ' + "1" * 5000 + "}"),
        ("renovate.json", '{"a": ' + "1" * 5000 + "}"),
        (".vscode/extensions.json", '{"recommendations": ' + "1" * 5000 + "}"),
    ],
)
def test_toml_and_json_beyond_the_parsers_become_problems(path: str, text: str) -> None:
    files: dict[str, str | bytes] = {path: text, **COMPANIONS}
    facts = bounded(lambda: read_everything(files))
    assert isinstance(facts, Facts)
    problem = facts.problem_for(path)
    assert problem is not None and problem.message.startswith(
        ("is not valid", "exceeds the scanner's limits")
    )
    report = scan_snapshot(MemorySnapshot(files), default_policy(), TODAY)
    for result in report.results:
        assert all("internal error" not in f.message for f in result.findings)


def test_the_toml_and_json_loaders_name_deep_nesting() -> None:
    facts = facts_of({"pyproject.toml": "a = " + "[" * 3000, "package.json": "[" * 5000})
    assert load_toml(facts, "pyproject.toml") is None and load_json(facts, "package.json") is None
    for path, kind in (("pyproject.toml", "TOML"), ("package.json", "JSON")):
        problem = facts.problem_for(path)
        assert problem is not None
        assert (
            problem.message
            == f"exceeds the scanner's limits for {kind}: nested too deeply for the parser"
        )


# --- properties: bounded for any input up to the size limit ----------------------------------------

BOUNDED = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Fragments whose repetition makes the expensive shapes: nesting of every kind, long and many
# scalars, anchors and aliases, keys, comments and bytes a parser must refuse.
OPENERS = ["[", "{", "- ", "{a: ", "[{", "- [", "a:\n  ", "? ", "- a:\n  ", "!!seq [", "&x ["]
REPEATED = [
    "a, ", "- x\n", "k: v\n", "'q', ", '"\\u0041", ', "# {[{[\n", "&a x\n", "*a\n", "\t", "\x00",
    "\ufeff", "\u2028", "x" * 64, "k: |\n  {{{\n", "? [a]\n: b\n", "<<: {a: 1}\n", "%YAML 1.2\n",
    "---\n", "!!binary aGk=\n", "2025-13-45\n",
]  # fmt: skip
size = st.integers(min_value=1, max_value=MiB)


@st.composite
def hostile_yaml(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["nest", "repeat", "bomb", "mixed"]))
    if kind == "nest":
        opener = draw(st.sampled_from(OPENERS))
        depth = draw(st.integers(min_value=1, max_value=MiB // len(opener)))
        closer = "".join({"[": "]", "{": "}"}.get(c, "") for c in reversed(opener))
        return opener * depth + draw(st.sampled_from(["", "x", closer * depth]))
    if kind == "repeat":
        fragment = draw(st.sampled_from(REPEATED))
        return (fragment * (draw(size) // len(fragment) + 1))[:MiB]
    if kind == "bomb":
        levels = draw(st.integers(min_value=1, max_value=40))
        fanout = draw(st.integers(min_value=2, max_value=30))
        at = draw(st.sampled_from(["k: *a{n}\n", "- *a{n}\n", "? *a{n}\n: v\n", "<<: *a{n}\n"]))
        body = "\n".join(f"a{i}: {line}" for i, line in enumerate(laughs(levels, fanout)))
        return body + "\n" + ("x:\n  " + at.format(n=levels).replace("\n", "\n  "))
    head = draw(st.text(max_size=200))
    fragment = draw(st.sampled_from(REPEATED + OPENERS))
    return (head + fragment * (draw(size) // len(fragment) + 1))[:MiB]


# The costliest shapes found, at the size limit: node after node until the node limit, anchors,
# one alias repeated, a plain scalar of a whole megabyte.
AT_THE_LIMIT = [
    ("a, " * MiB)[: MiB - 1] + "]",
    "[" + ("a, " * MiB)[: MiB - 2] + "]",
    ("k: v\n" * MiB)[:MiB],
    "".join(f"- &a{i} x\n" for i in range(MiB // 12)),
    "a: &a x\nb: [" + ", ".join(["*a"] * (MiB // 5)) + "]\n",
    "k: " + "x" * (MiB - 3),
    "[" * MiB,
]


@BOUNDED
@given(hostile_yaml())
@example(AT_THE_LIMIT[0])
@example(AT_THE_LIMIT[1])
@example(AT_THE_LIMIT[2])
@example(AT_THE_LIMIT[3])
@example(AT_THE_LIMIT[4])
@example(AT_THE_LIMIT[5])
@example(AT_THE_LIMIT[6])
def test_yaml_parsing_is_bounded_up_to_the_size_limit(text: str) -> None:
    outcome = bounded(lambda: parse_yaml(text))
    if isinstance(outcome, Exception):
        assert str(outcome)  # a reason, for the Problem


WHERE = [
    ".github/workflows/ci.yml",
    ".gitlab-ci.yml",
    ".pre-commit-config.yaml",
    ".github/dependabot.yml",
    ".circleci/config.yml",
    ".github/ISSUE_TEMPLATE/bug.yml",
    "docs/adr/0001-x.md",
]


@BOUNDED
@given(hostile_yaml(), st.sampled_from(WHERE), st.sampled_from([b"", b"\xff", b"\x00"]))
@example(AT_THE_LIMIT[1], WHERE[0], b"")
@example(AT_THE_LIMIT[2], WHERE[1], b"")
@example(AT_THE_LIMIT[4], WHERE[2], b"")
@example(AT_THE_LIMIT[3], WHERE[3], b"")
def test_every_yaml_reader_is_bounded_up_to_the_size_limit(
    text: str, path: str, bad_bytes: bytes
) -> None:
    if path.endswith(".md"):
        text = "---\n" + text + "\n---\n# Title\n"
    # As a source reads it: bytes, decoded as UTF-8 or refused (not UTF-8, NUL: binary).
    data = (text.encode("utf-8") + bad_bytes)[:MiB]
    files: dict[str, str | bytes] = {path: data, "app.py": "x\n", "requirements.txt": ""}
    report = bounded(lambda: scan_snapshot(MemorySnapshot(files), default_policy(), TODAY))
    assert not isinstance(report, Exception)
    for result in report.results:
        assert all("internal error" not in f.message for f in result.findings)


@st.composite
def hostile_toml_or_json(draw: st.DrawFn) -> tuple[str, str | bytes]:
    path = draw(
        st.sampled_from(
            ["pyproject.toml", "Cargo.toml", "tox.toml", "package.json", "renovate.json",
             "composer.json", ".vscode/settings.json", ".secrets.baseline"]
        )
    )  # fmt: skip
    fragment = draw(
        st.sampled_from(
            ["[", "{", "a = [", "{a = ", "[a.", '{"a": ', "[[", "1" * 5000, '"\\u', "\x00",
             "a = 1\n", '"k": 1, ', "# x\n", "\\", "a.b.c.d = 1\n", "[[t]]\n", "\ud800"]
        )
    )  # fmt: skip
    text = (draw(st.text(max_size=100)) + fragment * (draw(size) // len(fragment) + 1))[:MiB]
    data = text.encode("utf-8", "surrogatepass")  # as read from a source: lone surrogates
    return path, data[:MiB] + draw(st.sampled_from([b"", b"\xff\xfe"]))  # are not UTF-8 either


@BOUNDED
@given(hostile_toml_or_json())
@example(("pyproject.toml", ("[[tool.x]]\nx = 1\n" * MiB)[:MiB]))
@example(("renovate.json5", "{ignorePaths: [" + "'a', " * (MiB // 5 - 10) + "'a',], // x\n}"))
def test_toml_and_json_readers_are_bounded_up_to_the_size_limit(
    file: tuple[str, str | bytes],
) -> None:
    path, text = file
    files: dict[str, str | bytes] = {path: text, **COMPANIONS}
    facts = bounded(lambda: read_everything(files))
    assert isinstance(facts, Facts) and facts.get(precommit.collect) is None
