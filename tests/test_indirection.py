"""Indirection inside the repository (issue 11 §1): lint-staged run by a pre-commit hook or by
husky runs its commands only on the files its globs name; `bash -c '...'` runs its text; a
`pre-commit run --all-files` CI step runs every hook; `tox -e lint` runs that env's commands; a
local reusable workflow gets its caller's `with:` values. Each a real git repository, modelled
on the real files the corpus labels (tests/corpus/README.md, patterns 3 and 11)."""

from __future__ import annotations

from conftest import MakeRepo, result, scan
from hypothesis import given, settings
from hypothesis import strategies as st

from secposture.facts import lint_staged
from secposture.facts.inputs import definitely_false, substitute, substitute_condition
from secposture.facts.interface import Facts
from secposture.model import ControlResult, Status
from secposture.policy import default_policy
from secposture.sources.memory import MemorySnapshot

TS_APP = {
    "package.json": '{\n  "name": "app",\n  "scripts": {"lint": "eslint . --cache"},\n'
    '  "devDependencies": {"eslint": "^9.0.0", "husky": "^9.0.0", "lint-staged": "^15.0.0"}\n}\n',
    "server/index.ts": "export const port = 3000\n",
    "server/routes.ts": "export const routes = []\n",
}


def matrix(control: ControlResult) -> dict[tuple[str, str], str]:
    return {(f.values["language"], f.values["stage"]): f.values["tools"] for f in control.findings}


def test_lint_staged_glob_that_misses_typescript_lints_no_typescript(make_repo: MakeRepo) -> None:
    files = {
        **TS_APP,
        "server/legacy.js": "module.exports = {}\n",
        ".husky/pre-commit": "npx lint-staged\n",
        ".lintstagedrc": '{\n  "*.js": ["npm run lint", "prettier --write"]\n}\n',
    }
    static = result(scan(make_repo(files=files)), "static-analysis")
    got = matrix(static)
    assert got[("javascript", "pre-commit")] == "eslint"
    assert got[("typescript", "pre-commit")] == ""


def test_lint_staged_from_a_pre_commit_hook_and_a_js_config(make_repo: MakeRepo) -> None:
    files = {
        **TS_APP,
        ".pre-commit-config.yaml": (
            "repos:\n  - repo: local\n    hooks:\n      - id: lint\n        name: linting code\n"
            "        language: system\n        entry: ./node_modules/.bin/lint-staged\n"
            "        pass_filenames: false\n"
        ),
        "lint-staged.config.mjs": "export default {\n  '*.{ts,js,mjs,css}': ['eslint --fix'],\n}\n",
    }
    static = result(scan(make_repo(files=files)), "static-analysis")
    assert matrix(static)[("typescript", "pre-commit")] == "eslint"
    evidence = next(
        f.message
        for f in static.findings
        if f.values == {"language": "typescript", "stage": "pre-commit", "tools": "eslint"}
    )
    assert "lint-staged.config.mjs" in evidence


def test_a_lint_staged_block_without_a_hook_manager_runs_nothing(make_repo: MakeRepo) -> None:
    package = (
        '{\n  "name": "app",\n  "devDependencies": {"lint-staged": "^15.0.0"},\n'
        '  "lint-staged": {"*.ts": "eslint"}\n}\n'
    )
    static = result(scan(make_repo(files={**TS_APP, "package.json": package})), "static-analysis")
    assert matrix(static)[("typescript", "pre-commit")] == ""


def test_npm_pre_commit_package_runs_its_scripts(make_repo: MakeRepo) -> None:
    package = (
        '{\n  "name": "app",\n  "scripts": {"lint": "eslint ."},\n'
        '  "pre-commit": ["lint"],\n  "devDependencies": {"pre-commit": "^1.2.2"}\n}\n'
    )
    static = result(scan(make_repo(files={**TS_APP, "package.json": package})), "static-analysis")
    assert matrix(static)[("typescript", "pre-commit")] == "eslint"


def test_bash_c_runs_its_text(make_repo: MakeRepo) -> None:
    files = {
        ".pre-commit-config.yaml": (
            "repos:\n- repo: local\n  hooks:\n  - id: scan-secrets\n    name: Scan secrets\n"
            "    entry: bash -c 'check=staged-changes ./scripts/githooks/scan-secrets.sh'\n"
            "    language: system\n    pass_filenames: false\n"
        ),
        "scripts/githooks/scan-secrets.sh": "#!/bin/bash\nset -e\ngitleaks protect --staged --redact\n",
    }
    control = result(scan(make_repo(files=files)), "secrets-pre-commit")
    assert control.status is Status.PASS, control.summary


def test_pre_commit_run_all_files_in_ci_counts_every_hook_as_ci(make_repo: MakeRepo) -> None:
    files = {
        "app.py": "print('hi')\n",
        ".pre-commit-config.yaml": (
            "repos:\n  - repo: https://github.com/astral-sh/ruff-pre-commit\n    rev: v0.6.9\n"
            "    hooks:\n      - id: ruff\n"
        ),
        ".github/workflows/ci.yml": (
            "on: push\njobs:\n  lint:\n    runs-on: ubuntu-latest\n    steps:\n"
            "      - uses: actions/checkout@v4\n      - run: pre-commit run --all-files\n"
        ),
    }
    static = result(scan(make_repo(files=files)), "static-analysis")
    assert matrix(static)[("python", "ci")] == "ruff"


def test_tox_env_run_in_ci_runs_its_commands(make_repo: MakeRepo) -> None:
    files = {
        "app.py": "print('hi')\n",
        "tox.ini": "[tox]\nenvlist = py312\n\n[testenv:lint]\ncommands =\n    ruff check .\n",
        ".github/workflows/ci.yml": (
            "on: push\njobs:\n  lint:\n    runs-on: ubuntu-latest\n    steps:\n"
            "      - uses: actions/checkout@v4\n      - run: pipx run tox -e lint\n"
        ),
    }
    static = result(scan(make_repo(files=files)), "static-analysis")
    assert matrix(static)[("python", "ci")] == "ruff"


def test_local_reusable_workflow_gets_its_callers_inputs(make_repo: MakeRepo) -> None:
    files = {
        "Dockerfile": "FROM alpine:3.20\n",
        ".github/workflows/ci.yml": (
            "on: push\njobs:\n  scan:\n    uses: ./.github/workflows/scan.yml\n"
            "    with:\n      kind: image\n"
        ),
        ".github/workflows/scan.yml": (
            "on:\n  workflow_call:\n    inputs:\n      kind: {type: string, default: fs}\n"
            "jobs:\n  scan:\n    runs-on: ubuntu-latest\n    steps:\n"
            "      - if: inputs.kind == 'image'\n        run: trivy image app:latest\n"
            "      - if: inputs.kind == 'fs'\n        run: trivy fs .\n"
        ),
    }
    control = result(scan(make_repo(files=files)), "container-scanning")
    assert control.status is Status.PASS, control.summary
    assert "via `uses: ./.github/workflows/scan.yml` at .github/workflows/ci.yml:4" in (
        control.findings[0].message
    )


def test_a_step_whose_if_is_false_runs_nothing(make_repo: MakeRepo) -> None:
    files = {
        "Dockerfile": "FROM alpine:3.20\n",
        ".github/workflows/ci.yml": (
            "on: push\njobs:\n  scan:\n    runs-on: ubuntu-latest\n    steps:\n"
            "      - if: false\n        run: trivy image app:latest\n"
        ),
    }
    assert result(scan(make_repo(files=files)), "container-scanning").status is Status.FAIL


def test_lint_staged_configs_are_read_not_run() -> None:
    snapshot = MemorySnapshot(
        {
            "web/.lintstagedrc.yaml": "'*.ts':\n  - eslint --max-warnings 0\n'*.css': stylelint\n",
            ".lintstagedrc.js": "module.exports = { '*.py': () => 'ruff check' }\n",
        }
    )
    facts = Facts(snapshot, default_policy(), TODAY_FOR_FACTS)
    web = lint_staged.config_for(facts, "web")
    assert web is not None and web.path == "web/.lintstagedrc.yaml"
    assert [(e.glob, e.command) for e in web.entries] == [
        ("*.ts", "eslint --max-warnings 0"),
        ("*.css", "stylelint"),
    ]
    top = lint_staged.config_for(facts, "")
    assert top is not None and top.entries == ()  # a function: not seen, never run


TODAY_FOR_FACTS = __import__("datetime").date(2026, 11, 29)


@settings(max_examples=200, deadline=None)
@given(
    st.text(max_size=300), st.dictionaries(st.text(max_size=10), st.text(max_size=40), max_size=4)
)
def test_substitution_and_conditions_never_raise(text: str, inputs: dict[str, str]) -> None:
    lowered = {k.lower(): v for k, v in inputs.items()}
    substitute(text, lowered)
    definitely_false(substitute_condition(text, lowered))
    definitely_false(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="()!&|=<>' .abcinputs_fsimage", max_size=200))
def test_conditions_of_operators_never_raise(text: str) -> None:
    definitely_false(text)


def test_condition_evaluation() -> None:
    assert definitely_false("false") and definitely_false("${{ false }}")
    assert definitely_false("'image' == 'fs'") and not definitely_false("'IMAGE' == 'image'")
    assert definitely_false("always() && 'a' == 'b'")
    assert not definitely_false("failure() || 'a' == 'b'")
    assert not definitely_false("github.event_name == 'push'")
    assert definitely_false("!('a' == 'a')") and definitely_false("'' ")
    assert not definitely_false("startsWith(github.ref, 'refs/tags/') && 1 < 2")
    assert definitely_false("1 > 2") and not definitely_false("(((((")
    assert not definitely_false("${{ inputs.x }} text")  # text around an expression: a string
    assert definitely_false("(" * 60 + "false" + ")" * 60) is False  # too deep: not decided


def test_reusable_workflow_calls_that_fan_out_are_walked_within_a_budget() -> None:
    """Three levels of 60 jobs, each calling the next level: 216,000 jobs if all were walked."""
    import time
    from datetime import date

    from secposture.facts import calls

    files: dict[str, str | bytes] = {}
    for level in range(3):
        jobs = "".join(
            f"  j{i}:\n    uses: ./.github/workflows/level{level + 1}.yml\n" for i in range(60)
        )
        trigger = "push" if level == 0 else "workflow_call"
        files[f".github/workflows/level{level}.yml"] = f"on: {trigger}\njobs:\n{jobs}"
    files[".github/workflows/level3.yml"] = (
        "on: workflow_call\njobs:\n  leaf:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: ruff check .\n"
    )
    facts = Facts(MemorySnapshot(files), default_policy(), date(2026, 12, 7))
    started = time.process_time()
    walked = calls.walk(facts)[".github/workflows/level0.yml"]
    assert time.process_time() - started < 5  # was 25 s of CPU, 219,660 calls recorded
    assert len(walked.calls) <= calls.MAX_VISITS
    (cut,) = [u for u in walked.unread if "fan out" in u.why]
    assert f"past {calls.MAX_VISITS:,} jobs" in cut.why
    assert walked.steps and walked.steps[0].step.run == "ruff check ."  # what was walked stays


def test_a_command_handed_in_through_a_steps_env_is_what_runs(make_repo: MakeRepo) -> None:
    # A shared workflow takes the build command as an input and runs it from a step's env
    # (`bash -lc "${GRADLE_COMMAND}"`), as HMPPS's gradle_verify does; `echo "$CMD"` runs nothing.
    files = {
        "app.py": "print(1)\n",
        ".github/workflows/ci.yml": "on: push\npermissions: {}\njobs:\n  verify:\n"
        "    uses: ./.github/workflows/verify.yml\n    with:\n"
        "      lint-command: 'CI=1 ruff check .'\n      note: 'mypy src'\n",
        ".github/workflows/verify.yml": "on:\n  workflow_call:\n    inputs:\n"
        "      lint-command: {type: string}\n      note: {type: string}\n"
        "jobs:\n  run:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - name: lint\n        shell: bash\n        env:\n"
        "          LINT_COMMAND: ${{ inputs.lint-command }}\n"
        "          NOTE: ${{ inputs.note }}\n"
        '        run: |\n          bash -lc "${LINT_COMMAND}"\n          echo "$NOTE"\n',
    }
    static = result(scan(make_repo(files=files)), "static-analysis")
    ci = [f for f in static.findings if f.values.get("stage") == "ci"]
    assert [f.outcome.value for f in ci] == ["positive"], [f.message for f in ci]
    assert "ruff" in ci[0].message and "mypy" not in ci[0].message
    assert ".github/workflows/verify.yml:" in ci[0].message


INFRA = {"infra/main.tf": 'resource "aws_s3_bucket" "b" {}\n', "README.md": "# x\n"}
MAKE_WORKFLOW = (
    "on: push\npermissions: {}\njobs:\n  checks:\n    runs-on: ubuntu-latest\n"
    "    steps:\n      - run: make iac-scan\n"
)


def test_a_make_catch_all_into_a_makefile_of_the_repository_is_followed(
    make_repo: MakeRepo,
) -> None:
    files = {
        **INFRA,
        ".github/workflows/ci.yml": MAKE_WORKFLOW,
        "Makefile": "build:\n\tgo build ./...\n\n%:\n\t@$(MAKE) -f scripts/checks.mk $@\n",
        "scripts/checks.mk": "iac-scan:\n\tcheckov -d infra --quiet\n",
    }
    tested = result(scan(make_repo(files=files)), "security-tests")
    infra = [f for f in tested.findings if "checkov" in f.message]
    assert infra and infra[0].outcome.value == "positive", tested.summary


def test_a_make_catch_all_into_a_makefile_outside_the_repository_is_unknown(
    make_repo: MakeRepo,
) -> None:
    # The catch-all hands every other target to a Makefile the CI image installs: what
    # `make iac-scan` runs cannot be read, so the infrastructure part is unknown, not failed.
    files = {
        **INFRA,
        ".github/workflows/ci.yml": MAKE_WORKFLOW,
        "Makefile": "build:\n\tgo build ./...\n\n%:\n\t@$(MAKE) -f /usr/local/share/x/common.mk $@\n",
    }
    tested = result(scan(make_repo(files=files)), "security-tests")
    assert tested.status is Status.UNKNOWN, tested.summary
    assert "/usr/local/share/x/common.mk is not in the repository" in tested.summary
