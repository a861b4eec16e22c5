"""CI, pre-commit and IDE facts and the tool catalogue: parsing, indirection, multi-tool runners,
policy-added tools, hostile input and property tests (in memory, so they stay fast)."""

from __future__ import annotations

import contextlib
import json
from datetime import date

from conftest import MakeRepo, result, scan
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secposture.facts import ci, ide, precommit, scripts, tools
from secposture.facts.interface import Facts
from secposture.facts.scripts import Expander, parse_ini, parse_makefile
from secposture.model import Status
from secposture.policy import Policy, default_policy
from secposture.sources.memory import MemorySnapshot

PROPERTY = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def facts_of(files: dict[str, str | bytes], policy: Policy | None = None) -> Facts:
    return Facts(MemorySnapshot(files), policy or default_policy(), date(2026, 11, 29))


def tool_ids(uses: list[tools.ToolUse]) -> set[str]:
    return {u.tool.id for u in uses}


def workflow(*steps: str) -> str:
    body = "\n".join(f"      {line}" for step in steps for line in step.strip("\n").splitlines())
    return f"on: push\njobs:\n  check:\n    runs-on: ubuntu-latest\n    steps:\n{body}\n"


# --- pre-commit ---------------------------------------------------------------------------------


def test_precommit_config_repos_hooks_stages_and_ci_section() -> None:
    config_text = """\
default_stages: [pre-commit]
ci:
  autofix_prs: true
  skip: [mypy]
repos:
  - repo: git@github.com:Gitleaks/gitleaks.git
    rev: v8.21.2
    hooks:
      - id: gitleaks
  - repo: local
    hooks:
      - id: mypy
        name: mypy
        entry: poetry run mypy
        args: [--strict]
        language: system
        stages: [manual]
  - repo: meta
    hooks:
      - id: check-hooks-apply
"""
    facts = facts_of({".pre-commit-config.yaml": config_text})
    config = facts.get(precommit.collect)
    assert config is not None and config.valid
    gitleaks, mypy, meta = config.hooks
    assert (gitleaks.repo, gitleaks.rev, gitleaks.line, gitleaks.runs_on_commit) == (
        "gitleaks/gitleaks",
        "v8.21.2",
        9,
        True,
    )
    assert mypy.repo == "local" and mypy.entry == "poetry run mypy --strict"
    assert not mypy.runs_on_commit and mypy.runs_at("manual")
    assert meta.repo == "meta" and meta.stages == ("pre-commit",)
    assert config.runs_in_precommit_ci and config.ci_line == 2 and config.ci_skip == {"mypy"}
    # Manual-only hooks are not pre-commit uses; pre-commit.ci runs commit hooks less `skip`.
    assert tool_ids(facts.get(tools.precommit_uses)) == {"gitleaks"}
    assert tool_ids(facts.get(tools.ci_uses)) == {"gitleaks"}


def test_precommit_repo_names() -> None:
    assert precommit.repo_name("https://github.com/PyCQA/bandit") == "pycqa/bandit"
    assert (
        precommit.repo_name("https://github.com/pre-commit/mirrors-mypy.git/")
        == "pre-commit/mirrors-mypy"
    )
    assert (
        precommit.repo_name("https://gitlab.com/pycqa/flake8") == "https://gitlab.com/pycqa/flake8"
    )
    assert precommit.repo_name("local") == "local"


def test_old_list_form_and_bad_shapes() -> None:
    old = "- repo: https://github.com/Yelp/detect-secrets\n  sha: v1.0\n  hooks:\n    - id: detect-secrets\n"
    config = facts_of({".pre-commit-config.yaml": old}).get(precommit.collect)
    assert config is not None and [h.id for h in config.hooks] == ["detect-secrets"]
    for text in (
        "repos: {a: 1}\n",
        "just a string\n",
        "repos:\n  - 42\n  - repo: x\n    hooks: nope\n",
    ):
        facts = facts_of({".pre-commit-config.yaml": text})
        got = facts.get(precommit.collect)
        assert got is not None
        assert not got.hooks


def test_hostile_precommit_files_are_problems() -> None:
    for content in (b"\xff\xfe\x00binary", "repos: [\n", "", "repos:\n  - repo: a\n    repo: b\n"):
        facts = facts_of({".pre-commit-config.yaml": content})
        config = facts.get(precommit.collect)
        assert config is not None and not config.valid
        assert facts.problem_for(".pre-commit-config.yaml") is not None


@PROPERTY
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda c: (
            st.lists(c, max_size=4)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "repos",
                        "repo",
                        "hooks",
                        "id",
                        "stages",
                        "entry",
                        "args",
                        "ci",
                        "skip",
                        "rev",
                        "default_stages",
                    ]
                )
                | st.text(max_size=8),
                c,
                max_size=5,
            )
        ),
        max_leaves=30,
    )
)
def test_precommit_parser_never_raises(doc: object) -> None:
    facts = facts_of({".pre-commit-config.yaml": json.dumps(doc)})
    facts.get(precommit.collect)
    facts.get(tools.precommit_uses)
    facts.get(tools.ci_uses)


# --- indirection --------------------------------------------------------------------------------


MAKEFILE = """\
.PHONY: all lint check loop
PY := python3
all: lint

lint: check types
\t@echo linting
\t-$(PY) -m ruff check src \\
\t\t--output-format=github

check:
\t$(MAKE) -C web lint

types: ; mypy src

loop: loop
\t$(MAKE) loop
"""


def test_make_targets_prerequisites_subdirectories_and_cycles() -> None:
    facts = facts_of(
        {"Makefile": MAKEFILE, "web/Makefile": "lint:\n\tnpx eslint .\n", "src/a.py": ""}
    )
    expander = Expander(facts)
    out = expander.expand("make", ".github/workflows/ci.yml", 10)
    texts = [c.text for c in out]
    assert "npx eslint ." in texts and "mypy src" in texts
    ruff = next(c for c in out if "ruff check" in c.text)
    assert ruff.text.endswith("--output-format=github") and (ruff.path, ruff.line) == (
        "Makefile",
        7,
    )
    assert ruff.via == ("`make` at .github/workflows/ci.yml:10", "Makefile target lint")
    eslint = next(c for c in out if c.text == "npx eslint .")
    assert eslint.path == "web/Makefile" and eslint.via[-1] == "web/Makefile target lint"
    # A target that depends on itself, and a recipe that calls it again, end.
    assert expander.expand("make loop", "ci.yml", 1)


def test_deep_and_wide_makefiles_are_bounded() -> None:
    chain = "".join(f"t{i}: t{i + 1}\n\techo {i}\n" for i in range(3000))
    wide = "all:\n" + "".join("\t$(MAKE) all\n" for _ in range(200))
    facts = facts_of({"Makefile": chain, "sub/Makefile": wide})
    assert len(Expander(facts).expand("make t0", "ci.yml", 1)) <= 102
    assert len(Expander(facts).expand("make -C sub", "ci.yml", 1)) <= 202


def test_makefile_parser_rules() -> None:
    parsed = parse_makefile(
        "Makefile",
        "X := 1\nY ?= 2\nA B: C | D $(E)\n\techo a\n%.o: %.c\n\tcc\ndefine F\nlint:\nendef\n",
    )
    assert set(parsed.targets) == {"A", "B", "%.o"}
    assert parsed.targets["A"].prerequisites == ["C", "D"]
    assert parsed.default == "A"


def test_npm_yarn_pnpm_scripts_with_pre_scripts_and_recursion() -> None:
    package = json.dumps(
        {
            "scripts": {
                "prelint": "tsc --noEmit",
                "lint": "eslint src && npm run lint:css",
                "lint:css": "stylelint '**/*.css'",
                "a": "npm run b",
                "b": "npm run a",
                "check": "run-p lint:*",
            }
        },
        indent=2,
    )
    facts = facts_of({"package.json": package})
    for command in (
        "npm run lint",
        "yarn lint",
        "yarn run lint",
        "pnpm lint",
        "pnpm run lint",
        "npm --prefix . run lint",
    ):
        texts = [c.text for c in Expander(facts).expand(command, "ci.yml", 1)]
        assert "tsc --noEmit" in texts and "eslint src && npm run lint:css" in texts, command
    assert Expander(facts).expand("npm run a", "ci.yml", 1)  # cycle-safe
    texts = [c.text for c in Expander(facts).expand("npx run-p lint:*", "ci.yml", 1)]
    assert "stylelint '**/*.css'" in texts
    lint = next(
        c
        for c in Expander(facts).expand("npm test && npm run lint", "ci.yml", 1)
        if c.text.startswith("eslint")
    )
    assert lint.line == 4  # the line of "lint" in package.json


def test_npm_script_found_in_a_subfolder_package() -> None:
    facts = facts_of({"frontend/package.json": '{"scripts": {"lint": "biome ci ."}}'})
    uses = facts.get(tools.ci_uses)
    assert not uses
    texts = [c.text for c in Expander(facts).expand("npm run lint", "ci.yml", 1)]
    assert "biome ci ." in texts


def test_tox_envs_factors_and_base_commands() -> None:
    tox_ini = """\
[tox]
envlist = py{311,312}, lint

[testenv]
deps = pytest
commands =
    pytest {posargs}
    lint: ruff check .

[testenv:types]
commands = mypy src
"""
    facts = facts_of({"tox.ini": tox_ini})
    texts = [c.text for c in Expander(facts).expand("tox -e types,lint", "ci.yml", 1)]
    assert "mypy src" in texts and "ruff check ." in texts
    every = [c.text for c in Expander(facts).expand("python -m tox", "ci.yml", 1)]
    assert every.count("pytest {posargs}") == 3
    ruff = next(
        c for c in Expander(facts).expand("tox -e lint", "ci.yml", 1) if c.text == "ruff check ."
    )
    assert (ruff.path, ruff.line) == ("tox.ini", 8)


def test_tox_in_pyproject_and_nox_sessions() -> None:
    pyproject = '[tool.tox]\nenv_list = ["lint"]\n[tool.tox.env.lint]\ncommands = [["bandit", "-r", "src"]]\n'
    facts = facts_of({"pyproject.toml": pyproject})
    assert "bandit -r src" in [c.text for c in Expander(facts).expand("tox", "ci.yml", 1)]
    noxfile = 'import nox\n\n\n@nox.session(name="lint")\ndef lint_code(session):\n    session.install("pylint")\n    session.run("pylint", "src")\n'
    facts = facts_of({"noxfile.py": noxfile})
    out = Expander(facts).expand("nox -s lint", "ci.yml", 1)
    assert [c.text for c in out if c.path == "noxfile.py"] == ["pylint src"]


def test_shell_scripts_and_precommit_runs() -> None:
    facts = facts_of(
        {"scripts/lint.sh": "#!/bin/sh\nset -e\nshellcheck scripts/*.sh\n", "gradlew": "exec java"}
    )
    expander = Expander(facts)
    out = expander.expand(
        "cd scripts && ./lint.sh\nbash scripts/lint.sh\n./gradlew spotbugsMain", "ci.yml", 5
    )
    assert [c.line for c in out if c.text.startswith("shellcheck")] == [3, 3]
    assert not any(c.path == "gradlew" for c in out)
    expander.expand(
        "pre-commit run --all-files --hook-stage manual\npre-commit run gitleaks\npre-commit install",
        "ci.yml",
        1,
    )
    assert [(r.hook, r.stage) for r in expander.precommit_runs] == [
        (None, "manual"),
        ("gitleaks", "pre-commit"),
    ]


@PROPERTY
@given(st.text(max_size=400))
def test_make_and_ini_parsers_never_raise(text: str) -> None:
    parse_makefile("Makefile", text)
    parse_ini(text)
    scripts.segments(text)


@PROPERTY
@given(
    st.text(
        alphabet=st.sampled_from(list("make npm run tox -e lint:;&|$(){}\\\n\t'\"./")), max_size=200
    )
)
def test_expander_never_raises(text: str) -> None:
    facts = facts_of(
        {
            "Makefile": "lint:\n\tmake lint\n\t" + text,
            "package.json": json.dumps({"scripts": {"lint": text}}),
            "tox.ini": "[testenv]\ncommands = " + text,
        }
    )
    Expander(facts).expand(text, "ci.yml", 1)


# --- CI sources ---------------------------------------------------------------------------------


def test_github_steps_local_composite_actions_and_docker_actions() -> None:
    action = "runs:\n  using: composite\n  steps:\n    - run: golangci-lint run ./...\n      shell: bash\n    - uses: ./.github/actions/lint\n"
    files = {
        ".github/workflows/ci.yml": workflow(
            "- uses: ./.github/actions/lint",
            "- uses: docker://hadolint/hadolint:v2.12.0\n  with:\n    args: hadolint Dockerfile",
            "- name: vet\n  run: |\n    echo start\n    go vet ./...",
        ),
        ".github/actions/lint/action.yml": action,
    }
    facts = facts_of(files)
    uses = facts.get(tools.ci_uses)
    assert {"golangci-lint", "hadolint", "go-vet"} <= tool_ids(uses)
    vet = next(u for u in uses if u.tool.id == "go-vet")
    assert vet.location.path == ".github/workflows/ci.yml" and vet.location.line == 13
    golangci = next(u for u in uses if u.tool.id == "golangci-lint")
    assert "local action `./.github/actions/lint`" in golangci.evidence


def test_install_and_echo_lines_do_not_count() -> None:
    facts = facts_of(
        {
            ".github/workflows/ci.yml": workflow(
                "- run: pip install ruff mypy bandit\n- run: echo 'run mypy later'"
            )
        }
    )
    assert not tool_ids(facts.get(tools.ci_uses))
    facts = facts_of({".github/workflows/ci.yml": workflow("- run: pip install mypy && mypy src")})
    assert tool_ids(facts.get(tools.ci_uses)) == {"mypy"}


def test_gitlab_scripts_templates_components_and_local_includes() -> None:
    gitlab = """\
include:
  - template: Security/SAST.gitlab-ci.yml
  - component: $CI_SERVER_FQDN/components/secret-detection/secret-detection@1.1
  - project: my-group/ci-templates
    file: /templates/build.yml
  - local: /ci/lint.yml
  - https://example.org/remote.yml
default:
  before_script: [echo hi]
lint:
  script:
    - - shellcheck bin/*.sh
    - golangci-lint run
"""
    facts = facts_of(
        {".gitlab-ci.yml": gitlab, "ci/lint.yml": ".base:\n  script: tflint --recursive\n"}
    )
    got = facts.get(ci.collect)
    assert got.files == [".gitlab-ci.yml", "ci/lint.yml"]
    names = [u.name for u in got.uses]
    assert names == [
        "security/sast.gitlab-ci.yml",
        "components/secret-detection/secret-detection",
        "my-group/ci-templates/templates/build.yml",
    ]
    ids = tool_ids(facts.get(tools.ci_uses))
    assert {
        "gitlab-sast",
        "gitlab-secret-detection",
        "shellcheck",
        "golangci-lint",
        "tflint",
    } <= ids
    shellcheck = next(u for u in facts.get(tools.ci_uses) if u.tool.id == "shellcheck")
    assert shellcheck.location.line == 12


def test_circleci_runs_orbs_and_plain_text_pipelines() -> None:
    circle = """\
version: 2.1
orbs:
  snyk: snyk/snyk@2.1.0
jobs:
  lint:
    docker: [{image: cimg/python:3.12}]
    steps:
      - checkout
      - run: flake8 .
      - run:
          name: types
          command: |
            pyright
      - snyk/scan:
          severity-threshold: high
workflows:
  main:
    jobs: [lint, snyk/scan]
"""
    jenkins = "pipeline {\n  stages {\n    stage('lint') { steps { sh 'make lint' } }\n    stage('scan') { steps { sh \"trivy image app:latest\" } }\n  }\n}\n"
    files = {
        ".circleci/config.yml": circle,
        "Jenkinsfile": jenkins,
        "Makefile": "lint:\n\tphpstan analyse src\n",
        "bitbucket-pipelines.yml": "pipelines:\n  default:\n    - step:\n        script:\n          - rubocop\n",
    }
    facts = facts_of(files)
    uses = facts.get(tools.ci_uses)
    assert {"flake8", "pyright", "phpstan", "trivy-image", "rubocop"} <= tool_ids(uses)
    orbs = [u.name for u in facts.get(ci.collect).uses]
    assert orbs == ["snyk/snyk/scan", "snyk/snyk/scan"]
    phpstan = next(u for u in uses if u.tool.id == "phpstan")
    assert phpstan.location.path == "Makefile" and "Jenkinsfile:3" in phpstan.evidence


@PROPERTY
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=15),
        lambda c: (
            st.lists(c, max_size=4)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "include",
                        "script",
                        "template",
                        "local",
                        "jobs",
                        "steps",
                        "run",
                        "command",
                        "orbs",
                        "workflows",
                        "before_script",
                        "component",
                    ]
                )
                | st.text(max_size=6),
                c,
                max_size=5,
            )
        ),
        max_leaves=30,
    )
)
def test_ci_collectors_never_raise(doc: object) -> None:
    text = json.dumps(doc)
    files: dict[str, str | bytes] = {
        ".gitlab-ci.yml": text,
        ".circleci/config.yml": text,
        ".github/workflows/x.yml": text,
        "Jenkinsfile": text,
    }
    facts = facts_of(files)
    facts.get(ci.collect)
    facts.get(tools.ci_uses)


def test_hostile_ci_files_are_problems_not_crashes() -> None:
    facts = facts_of(
        {
            ".gitlab-ci.yml": b"\xff\xfe",
            ".circleci/config.yml": "- a list\n",
            "Jenkinsfile": b"\x00\x01",
        }
    )
    assert facts.get(ci.collect).commands == []
    assert facts.problem_for(".gitlab-ci.yml") is not None
    assert facts.problem_for(".circleci/config.yml") is not None


# --- multi-tool runners -------------------------------------------------------------------------


def covered(facts: Facts, tool_id: str) -> set[str]:
    return {lang for u in facts.get(tools.ci_uses) if u.tool.id == tool_id for lang in u.languages}


def test_codeql_languages_input_matrix_and_default() -> None:
    init = "- uses: github/codeql-action/init@v3\n  with:\n    languages: {langs}\n- uses: github/codeql-action/analyze@v3"
    facts = facts_of(
        {
            ".github/workflows/codeql.yml": workflow(
                init.format(langs="javascript-typescript, java-kotlin")
            )
        }
    )
    assert covered(facts, "codeql") == {"javascript", "typescript", "java", "kotlin"}
    matrix = workflow(init.format(langs="${{ matrix.language }}")).replace(
        "    runs-on",
        "    strategy:\n      matrix:\n        language: [ 'python', 'go' ]\n    runs-on",
    )
    facts = facts_of({".github/workflows/codeql.yml": matrix})
    assert covered(facts, "codeql") == {"python", "go"}
    facts = facts_of(
        {".github/workflows/codeql.yml": workflow("- uses: github/codeql-action/init@v3")}
    )
    assert {"python", "ruby", "csharp"} <= covered(facts, "codeql")


def test_super_linter_validate_rules() -> None:
    step = "- uses: super-linter/super-linter@v7\n  env:\n{env}"
    facts = facts_of(
        {
            ".github/workflows/lint.yml": workflow(
                step.format(
                    env="    VALIDATE_ALL_CODEBASE: false\n    VALIDATE_PYTHON_RUFF: true\n    VALIDATE_BASH: true"
                )
            )
        }
    )
    assert covered(facts, "super-linter") == {"python", "shell"}
    facts = facts_of(
        {
            ".github/workflows/lint.yml": workflow(
                step.format(env="    VALIDATE_GO: false\n    VALIDATE_GO_MODULES: false")
            )
        }
    )
    langs = covered(facts, "super-linter")
    assert "go" not in langs and {"python", "terraform", "kubernetes"} <= langs


def test_megalinter_flavor_and_enable() -> None:
    facts = facts_of(
        {".github/workflows/mega.yml": workflow("- uses: oxsecurity/megalinter/flavors/python@v8")}
    )
    assert covered(facts, "megalinter") == {
        "python",
        "shell",
        "dockerfile",
        "kubernetes",
        "terraform",
    }
    facts = facts_of(
        {
            ".github/workflows/mega.yml": workflow("- uses: oxsecurity/megalinter@v8"),
            ".mega-linter.yml": "ENABLE_LINTERS: [GO_GOLANGCI_LINT, TERRAFORM_TFLINT]\n",
        }
    )
    assert covered(facts, "megalinter") == {"go", "terraform"}


def test_trivy_action_scan_types() -> None:
    step = "- uses: aquasecurity/trivy-action@0.28.0\n  with:\n    {inputs}"
    expect = {
        "image-ref: app:1": "trivy-image",
        "scan-type: fs": "trivy-fs",
        "scan-type: config": "trivy-config",
        "scan-type: 'image'": "trivy-image",
    }
    for inputs, tool_id in expect.items():
        facts = facts_of({".github/workflows/scan.yml": workflow(step.format(inputs=inputs))})
        assert tool_ids(facts.get(tools.ci_uses)) == {tool_id}, inputs


# --- IDE ----------------------------------------------------------------------------------------


def test_jsonc_comments_and_trailing_commas() -> None:
    text = '{\n  // a comment with "quotes"\n  "a": "http://x//y", /* block\n comment */ "b": [1, 2,],\n}\n'
    assert ide.parse_jsonc(text) == {"a": "http://x//y", "b": [1, 2]}
    try:
        ide.parse_jsonc('{\n"a": }')
    except ValueError as exc:
        assert "line 2" in str(exc)
    else:
        raise AssertionError("expected ValueError")


@PROPERTY
@given(st.text(max_size=300))
def test_jsonc_parser_raises_only_value_error(text: str) -> None:
    with contextlib.suppress(ValueError):
        ide.parse_jsonc(text)


def test_ide_extensions_settings_jetbrains_and_config() -> None:
    files: dict[str, str | bytes] = {
        ".vscode/settings.json": '{\n  "go.lintTool": "golangci-lint",\n  "[python]": {"editor.defaultFormatter": "charliermarsh.ruff"},\n  "eslint.enable": false,\n}',
        ".vscode/extensions.json": '{"recommendations": ["Timonwong.ShellCheck"]}',
        ".idea/externalDependencies.xml": '<project version="4">\n  <component name="ExternalDependencies">\n    <plugin id="com.leinardi.pycharm.pylint" />\n  </component>\n</project>\n',
        "proj.code-workspace": '{"extensions": {"recommendations": ["dbaeumer.vscode-eslint"]}}',
        "setup.cfg": "[metadata]\nname = x\n\n[flake8]\nmax-line-length = 100\n",
        "services/api/pyproject.toml": "[tool.mypy]\nstrict = true\n",
        "deploy/.hadolint.yaml": "ignored: [DL3008]\n",
        ".devcontainer/go/devcontainer.json": '{"customizations": {"vscode": {"extensions": ["golang.go"]}}}',
    }
    facts = facts_of(files)
    uses = facts.get(tools.ide_uses)
    ids = tool_ids(uses)
    assert {
        "golangci-lint",
        "ruff",
        "shellcheck",
        "pylint",
        "eslint",
        "flake8",
        "mypy",
        "hadolint",
        "go-vet",
    } <= ids
    flake8 = next(u for u in uses if u.tool.id == "flake8")
    assert (flake8.location.path, flake8.location.line) == ("setup.cfg", 4)
    assert "editor integrations read" in flake8.evidence
    # `"eslint.enable": false` is not a use; the workspace recommendation is.
    assert [u.location.path for u in uses if u.tool.id == "eslint"] == ["proj.code-workspace"]


def test_hostile_ide_files() -> None:
    facts = facts_of(
        {
            ".vscode/settings.json": "{ not json",
            ".vscode/extensions.json": '{"recommendations": {"a": 1}}',
            ".devcontainer/devcontainer.json": b"\xff",
        }
    )
    assert facts.get(tools.ide_uses) == []
    assert facts.problem_for(".vscode/settings.json") is not None


# --- the catalogue and the policy ------------------------------------------------------------------


def test_catalogue_is_complete_and_valid() -> None:
    policy = default_policy()
    ids = {t.id for t in policy.tools}
    for wanted in (
        "ruff",
        "bandit",
        "mypy",
        "pylint",
        "flake8",
        "pyright",
        "semgrep",
        "eslint",
        "tsc",
        "biome",
        "oxlint",
        "njsscan",
        "golangci-lint",
        "go-vet",
        "staticcheck",
        "gosec",
        "phpstan",
        "psalm",
        "phpcs",
        "rubocop",
        "brakeman",
        "standardrb",
        "spotbugs",
        "pmd",
        "checkstyle",
        "errorprone",
        "detekt",
        "ktlint",
        "roslyn-analyzers",
        "security-code-scan",
        "sonar",
        "tflint",
        "tfsec",
        "checkov",
        "trivy-config",
        "terrascan",
        "hadolint",
        "shellcheck",
        "kube-linter",
        "kubeconform",
        "kube-score",
        "datree",
        "polaris",
        "clippy",
        "cargo-audit",
        "super-linter",
        "megalinter",
        "codeql",
        "gitleaks",
        "detect-secrets",
        "trufflehog",
        "git-secrets",
        "ggshield",
        "talisman",
        "secretlint",
        "ripsecrets",
        "kingfisher",
        "trivy-image",
        "grype",
        "snyk-container",
        "docker-scout",
        "clair",
        "gitlab-container-scanning",
        "ecr-image-scan",
        "kics",
        "conftest",
        "zap",
        "nuclei",
    ):
        assert wanted in ids, wanted
    languages = set(
        __import__("secposture.catalogue", fromlist=["load"]).load("languages")["languages"]
    )
    for tool in policy.tools:
        assert set(tool.languages) <= languages | {"*"}, tool.id


def test_policy_added_tool_is_recognised(make_repo: MakeRepo) -> None:
    policy = """\
[[tools]]
id = "acme-go-lint"
languages = ["go"]
precommit_hooks = ["acme-lint"]
commands = ['(?:^|\\s)acme-lint\\s+check\\b']
ide_extensions = ["acme.go-lint"]
"""
    files = {
        "secposture.toml": policy,
        "main.go": "package main\n\nfunc main() {}\n",
        ".pre-commit-config.yaml": "repos:\n  - repo: https://github.com/acme/lint\n    rev: v1\n    hooks:\n      - id: acme-lint\n",
        ".github/workflows/ci.yml": workflow("- run: acme-lint check ./..."),
        ".vscode/extensions.json": '{"recommendations": ["acme.go-lint"]}',
    }
    report = scan(make_repo(None, files))
    static = result(report, "static-analysis")
    assert static.status is Status.PASS, static.summary
    assert {f.values["tools"] for f in static.findings} == {"acme-go-lint"}


def test_action_lookup_matches_a_name_or_a_folder_above_it() -> None:
    """Tools found for an action or template by name: those naming it or a folder above it, in
    catalogue order, as testing every tool would find them."""
    facts = facts_of({})
    catalogue_ = facts.get(tools.compile_catalogue)
    names = {n for c in catalogue_.tools for n in (*c.actions, *c.templates)}
    samples = set(names) | {"", "/", "x", "github/codeql-action/init/extra", "/lead/x"}
    samples |= {n + "/sub" for n in names} | {n + "x" for n in names} | {n[:-1] for n in names}
    for kind in ("action", "template"):
        for name in sorted(samples):
            use = ci.ActionUse(kind, name, None, {}, "ci.yml", 1)
            got = [u.tool.id for u in tools.match_use(facts, use)]
            expected = [
                c.tool.id
                for c in catalogue_.tools
                if any(
                    name == n or name.startswith(n + "/")
                    for n in (c.templates if kind == "template" else c.actions)
                )
                and tools._inputs_hold(c, {})
            ]
            assert got == expected, name
