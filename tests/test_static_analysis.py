"""The static-analysis control end to end: pass, partial, fail and not_applicable on real git
repositories, and the language x stage values the report formats render."""

from __future__ import annotations

from conftest import MakeRepo, result, scan
from hypothesis import given
from hypothesis import strategies as st
from test_ci_facts import PROPERTY, facts_of

from secposture.model import Outcome, Status
from secposture.probes.interface import load_probe

PROBE = "static-analysis-coverage"


def matrix(report_result: object) -> dict[tuple[str, str], str]:
    return {
        (f.values["language"], f.values["stage"]): f.values["tools"]
        for f in report_result.findings  # type: ignore[attr-defined]
    }


def test_every_language_in_every_stage_passes(make_repo: MakeRepo) -> None:
    static = result(scan(make_repo("sa-python-complete")), "static-analysis")
    assert static.status is Status.PASS, static.summary
    assert matrix(static) == {
        ("python", "pre-commit"): "ruff,mypy",
        ("python", "ci"): "ruff,mypy",
        ("python", "ide"): "ruff,mypy",
    }
    for f in static.findings:
        assert set(f.values) == {"language", "stage", "tools"}
        assert f.location is not None and f.location.path
    ci = next(f for f in static.findings if f.values["stage"] == "ci")
    # pre-commit/action runs the hooks in CI: the evidence is the workflow step.
    assert ci.location is not None
    assert (ci.location.path, ci.location.line) == (".github/workflows/ci.yml", 19)
    assert "run in CI by `uses: pre-commit/action@v3.0.1`" in ci.message
    ide = next(f for f in static.findings if f.values["stage"] == "ide")
    assert "charliermarsh.ruff" in ide.message and ".vscode/extensions.json" in ide.message
    # bandit's hook runs only at the manual stage, so it is not a pre-commit use.
    assert "bandit" not in matrix(static)[("python", "pre-commit")]


def test_some_languages_and_stages_is_partial(make_repo: MakeRepo) -> None:
    static = result(scan(make_repo("sa-polyglot-partial")), "static-analysis")
    assert static.status is Status.PARTIAL
    got = matrix(static)
    assert got[("python", "pre-commit")] == "ruff" and got[("python", "ci")] == "ruff"
    assert got[("python", "ide")] == ""  # ms-python.python alone is not an analyser
    assert (
        got[("typescript", "ci")] == "eslint,tsc"
    )  # make lint -> make -C web lint -> npm run lint
    assert got[("terraform", "pre-commit")] == "checkov" and got[("terraform", "ci")] == ""
    assert got[("dockerfile", "pre-commit")] == ""  # terraform_checkov checks Terraform only
    assert got[("shell", "ci")] == ""
    eslint = next(
        f
        for f in static.findings
        if f.values == {"language": "typescript", "stage": "ci", "tools": "eslint,tsc"}
    )
    assert eslint.location is not None and eslint.location.path == "web/package.json"
    assert "via `make lint` at .github/workflows/ci.yml:15" in eslint.message
    missing = next(
        f
        for f in static.findings
        if f.values["language"] == "shell" and f.values["stage"] == "pre-commit"
    )
    assert missing.outcome is Outcome.NEGATIVE
    assert (
        "scripts/deploy.sh" in missing.message and "shellcheck (hook shellcheck" in missing.message
    )


def test_no_analysers_fail(make_repo: MakeRepo) -> None:
    static = result(scan(make_repo("sa-go-bare")), "static-analysis")
    assert static.status is Status.FAIL
    assert all(f.outcome is Outcome.NEGATIVE and f.values["tools"] == "" for f in static.findings)
    messages = "\n".join(f.message for f in static.findings)
    assert "there is no .pre-commit-config.yaml" in messages
    assert "none of the CI configuration (.github/workflows/build.yml) runs one" in messages
    assert "golangci-lint (action golangci/golangci-lint-action)" in messages


def test_no_language_is_not_applicable(make_repo: MakeRepo) -> None:
    static = result(
        scan(make_repo(None, {"README.md": "# docs\n", "docs/index.md": "hello\n"})),
        "static-analysis",
    )
    assert static.status is Status.NOT_APPLICABLE


def test_ignored_languages_and_malformed_precommit(make_repo: MakeRepo) -> None:
    files = {
        "app.py": "print(1)\n",
        "run.sh": "#!/bin/sh\n",
        "pyproject.toml": '[tool.secposture.static_analysis]\nignore_languages = ["shell"]\n',
        ".pre-commit-config.yaml": "repos:\n  - repo: x\n    hooks: [\n",
    }
    static = result(scan(make_repo(None, files)), "static-analysis")
    assert {f.values["language"] for f in static.findings} == {"python"}
    pre = next(f for f in static.findings if f.values["stage"] == "pre-commit")
    assert ".pre-commit-config.yaml cannot be analysed (is not valid YAML" in pre.message
    assert pre.outcome.value == "unknown"


@PROPERTY
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "a.py",
                "b.go",
                "c.tf",
                "Dockerfile",
                "d.sh",
                ".pre-commit-config.yaml",
                ".vscode/extensions.json",
                ".github/workflows/ci.yml",
                "Makefile",
                "package.json",
            ]
        ),
        st.text(max_size=200) | st.binary(max_size=50),
        max_size=8,
    )
)
def test_probe_never_raises_on_arbitrary_files(files: dict[str, str | bytes]) -> None:
    findings = load_probe(PROBE).run(facts_of(files))
    assert findings
