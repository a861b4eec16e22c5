"""File filters (issue 11 §2): a pre-commit hook's `files`/`types`/`types_or`/`exclude_types`
(and a well-known hook repository's defaults) or a lint-staged glob that lets no file of a language
through does not analyse that language; filters are hostile input, decided on RE2 or not at all."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from test_ci_facts import PROPERTY, facts_of
from test_recognised_tools import covered, matrix

from secposture.facts import file_filters, languages, precommit, tools
from secposture.probes.static_analysis_coverage import impl as static_probe

TS_APP: dict[str, str | bytes] = {
    "src/app.ts": "export const a = 1\n",
    "src/routes/index.ts": "export {}\n",
    "src/views/page.tsx": "export {}\n",
    "eslint.config.js": "export default []\n",
}


def hooks_config(hook: str) -> str:
    return f"repos:\n  - repo: https://github.com/pre-commit/mirrors-eslint\n    rev: v9.17.0\n    hooks:\n{hook}"


def test_eslint_hook_at_its_default_types_covers_javascript_only() -> None:
    config = hooks_config("      - id: eslint\n")
    facts = facts_of({**TS_APP, ".pre-commit-config.yaml": config})
    uses = facts.get(tools.precommit_uses)
    assert covered(uses, "eslint") == {"javascript"}
    assert "include no typescript file" in next(u for u in uses if u.tool.id == "eslint").evidence
    assert matrix(static_probe.run(facts))[("typescript", "pre-commit")] == ""
    # Widened as mirrors-eslint's README says: TypeScript is linted.
    config = hooks_config("      - id: eslint\n        files: \\.[jt]sx?$\n        types: [file]\n")
    facts = facts_of({**TS_APP, ".pre-commit-config.yaml": config})
    assert covered(facts.get(tools.precommit_uses), "eslint") == {"javascript", "typescript"}
    config = hooks_config(
        "      - id: eslint\n        types_or: [javascript, ts, tsx]\n        types: [file]\n"
    )
    facts = facts_of({**TS_APP, ".pre-commit-config.yaml": config})
    assert covered(facts.get(tools.precommit_uses), "eslint") == {"javascript", "typescript"}


def test_local_hook_files_and_exclude_filters() -> None:
    config = (
        "repos:\n  - repo: local\n    hooks:\n"
        "      - id: lint-js\n        name: lint\n        entry: npx eslint\n        language: system\n"
        "        files: ^legacy/.*\\.js$\n"
        "      - id: mypy\n        name: mypy\n        entry: mypy\n        language: system\n"
        "        exclude: |\n          (?x)^(\n            migrations/.*|   # generated\n            docs/.*\n          )$\n"
    )
    files = {**TS_APP, "app/models.py": "", ".pre-commit-config.yaml": config}
    uses = facts_of(files).get(tools.precommit_uses)
    assert covered(uses, "eslint") == set()  # legacy/*.js matches no file here
    assert covered(uses, "mypy") == {"python"}
    files["legacy/old.js"] = "var a\n"
    uses = facts_of(files).get(tools.precommit_uses)
    assert covered(uses, "eslint") == {"javascript"}


def test_filter_languages_from_globs() -> None:
    files: dict[str, str | bytes] = {
        **TS_APP,
        "utils/build.js": "",
        "web/app/main.ts": "",
        "scripts/run.sh": "",
    }
    facts = facts_of(files)

    def passed(*globs: str, base: str = "") -> set[str] | None:
        got = file_filters.languages_passed(facts, file_filters.from_globs(globs, base))
        return None if got is None else set(got)

    assert passed("*.js") == {"javascript"}
    assert passed("*.{js,ts}") == {"javascript", "typescript"}
    assert passed("*.{js,jsx,ts,tsx}") == {"javascript", "typescript"}
    assert passed("src/**/*.ts") == {"typescript"}
    assert passed("lib/**/*.ts") == set()
    assert passed("**/*.sh") == {"shell"}
    assert passed("*") == {"javascript", "typescript", "shell"}
    assert passed("*.+(js|mjs)") == {"javascript"}
    assert passed("app/**/*.ts", base="web") == {"typescript"}
    assert passed("*.js", base="web") == set()  # the web/ config sees web/ files only
    assert passed("!(*.test).js") is None  # not decided: narrows nothing
    assert passed("*.{1..3}") is None


def test_filter_regexes_run_on_re2_and_bad_ones_narrow_nothing() -> None:
    facts = facts_of({**TS_APP, "a.py": ""})
    hostile = file_filters.FileFilter(files="(a|aa)+$(?<=x)")
    assert file_filters.languages_passed(facts, hostile) is None
    slow = file_filters.FileFilter(files="^(a+)+$")  # catastrophic on Python's engine
    assert file_filters.languages_passed(facts, slow) == frozenset()


@PROPERTY
@given(
    st.text(max_size=60),
    st.lists(st.text(max_size=12), max_size=4),
    st.lists(st.text(max_size=30), max_size=4),
)
def test_filters_never_raise(regex: str, tags: list[str], globs: list[str]) -> None:
    facts = facts_of({**TS_APP, "a.py": "", "k8s/x.yaml": ""})
    for flt in (
        file_filters.FileFilter(files=regex, exclude=regex, types=tuple(tags)),
        file_filters.FileFilter(types_or=tuple(tags), exclude_types=tuple(tags)),
        file_filters.from_globs(globs),
        file_filters.from_globs(globs, base=regex),
    ):
        got = file_filters.languages_passed(facts, flt)
        assert got is None or got <= set(facts.get(languages.collect))
    rx = file_filters.glob_regex(regex)
    assert rx is None or isinstance(rx, str)


@PROPERTY
@given(
    st.lists(st.sampled_from(["src", "lib", "a.b", "x-y", "deep"]), min_size=0, max_size=3),
    st.sampled_from(["js", "ts", "py", "sh"]),
)
def test_simple_globs_agree_with_fnmatch(folders: list[str], ext: str) -> None:
    """`**/*.EXT` and `*.EXT` pass exactly the files with that extension, at any depth."""
    from fnmatch import fnmatchcase

    path = "/".join([*folders, f"file.{ext}"])
    for glob in ("*.ts", "**/*.ts", "*.{js,ts}"):
        flt = file_filters.from_globs([glob])
        expected = any(fnmatchcase(path.rpartition("/")[2], g) for g in _braces(glob))
        assert file_filters.passes(flt, path) is expected, (glob, path)


def _braces(glob: str) -> list[str]:
    if "{" not in glob:
        return [glob.replace("**/", "")]
    head, _, rest = glob.partition("{")
    body, _, tail = rest.partition("}")
    return [head + b + tail for b in body.split(",")]


def test_precommit_hook_keeps_its_filter() -> None:
    config = "repos:\n  - repo: local\n    hooks:\n      - id: x\n        entry: x\n        files: \\.py$\n        types_or: [python, pyi]\n"
    parsed = facts_of({".pre-commit-config.yaml": config}).get(precommit.collect)
    assert parsed is not None
    flt = parsed.hooks[0].file_filter
    assert flt is not None and flt.files == "\\.py$" and flt.types_or == ("python", "pyi")
    assert flt.types is None
