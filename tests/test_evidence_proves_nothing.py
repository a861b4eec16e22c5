"""Evidence that proves nothing (issue 11 §2): removing, looking up or asking a tool for its
version runs no analysis, nor does a comment; MegaLinter and super-linter count only for the
analysers they enable; editor recommendations in dev containers count, parsed as JSON with
comments."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from test_ci_facts import PROPERTY, facts_of, tool_ids, workflow
from test_recognised_tools import covered, matrix

from secposture import catalogue
from secposture.facts import ide, tools
from secposture.probes.static_analysis_coverage import impl as static_probe

# --- evidence that proves nothing ------------------------------------------------------------------


def test_removing_looking_up_or_asking_a_tool_for_its_version_does_not_run_it() -> None:
    """Real CI lines that name a linter without running it (an uninstall before a pinned
    install, a version print in a setup step, `which`)."""
    lines = [
        "sudo apt purge -y shellcheck",
        "sudo apt-get -y remove shellcheck",
        "apt-get purge --auto-remove -y shellcheck",
        "pip uninstall -y ruff",
        "python -m pip uninstall --yes mypy",
        "npm uninstall eslint",
        "npm rm --save-dev eslint",
        "yarn remove standard",
        "brew uninstall hadolint",
        "brew remove tflint",
        "which ruff",
        "command -v shellcheck",
        "ruff --version",
        "mypy --version",
        "mypy -V",
        "shellcheck --version",
        "semgrep --version",
        "hadolint --version",
        "golangci-lint --help",
        "tflint --version",
        "checkov --version",
        "npx eslint --version",
        "cargo clippy --version",
        "trivy version",
        "sudo apt-get -y install shellcheck",
        "docker pull hadolint/hadolint:v2.12.0",
        "pip show bandit",
    ]
    step = "- name: set up linters\n  run: |\n" + "\n".join(f"    {line}" for line in lines)
    facts = facts_of({".github/workflows/ci.yml": workflow(step)})
    assert tool_ids(facts.get(tools.ci_uses)) == set()


def test_a_tool_run_after_its_install_or_version_line_still_counts() -> None:
    step = (
        "- run: |\n"
        "    sudo apt-get -y install shellcheck && shellcheck --version\n"
        "    shellcheck scripts/*.sh\n"
        "    pip install ruff && ruff check --output-format=github .\n"
        "    mypy -v src\n"
        "    flake8 -v"
    )
    uses = facts_of({".github/workflows/ci.yml": workflow(step)}).get(tools.ci_uses)
    assert tool_ids(uses) == {"shellcheck", "ruff", "mypy", "flake8"}  # -v: verbose, it runs
    shellcheck = next(u for u in uses if u.tool.id == "shellcheck")
    assert shellcheck.location.line == 8  # the line that runs it, not the install


def test_a_tool_looked_up_in_an_if_is_not_run_by_the_lookup() -> None:
    # Modelled on a wrapper script: `if command -v sonar-scanner ...; then` looks it up, and
    # the line that runs it is the evidence; `if ruff check .; then` does run ruff.
    step = (
        "- run: |\n"
        '    if command -v shellcheck > /dev/null 2>&1 && ! test -n "$CI"; then\n'
        "      echo found\n"
        "    fi\n"
        "    while ! which hadolint; do sleep 1; done\n"
        "    if ruff check .; then echo clean; fi"
    )
    uses = facts_of({".github/workflows/ci.yml": workflow(step)}).get(tools.ci_uses)
    assert tool_ids(uses) == {"ruff"}


def test_comments_never_run_a_tool() -> None:
    step = (
        "- run: |\n"
        "    make test  # then: ruff check . && mypy src\n"
        "    pytest -q ;# bandit -r src\n"
        '    echo "#1 build" && hadolint Dockerfile\n'
        "    url=https://example.org/#ruff check"
    )
    uses = facts_of({".github/workflows/ci.yml": workflow(step)}).get(tools.ci_uses)
    assert tool_ids(uses) == {"hadolint"}
    assert tools.strip_shell_comment("a 'b # c' # d") == "a 'b # c' "
    assert tools.strip_shell_comment("echo ${#x} $# a\\#b") == "echo ${#x} $# a\\#b"


@PROPERTY
@given(st.text(max_size=200))
def test_comment_stripping_never_raises_and_keeps_lines(text: str) -> None:
    stripped = tools.strip_shell_comment(text)
    assert stripped.count("\n") == text.count("\n")
    assert all(
        len(a) <= len(b) for a, b in zip(stripped.split("\n"), text.split("\n"), strict=True)
    )


# --- MegaLinter and super-linter: only the linters they enable ------------------------------------


def megalinter_languages(settings: dict[str, object], flavor: str = "") -> set[str]:
    spec = catalogue.load("runners")["runners"]["megalinter"]
    return set(tools.megalinter_languages(spec, settings, flavor)[0])


def test_megalinter_limited_to_formatters_analyses_nothing() -> None:
    """Modelled on a shared `format-code` action: MegaLinter's terraform flavor with
    ENABLE_LINTERS set to prettier, terraform fmt and markdownlint."""
    action = (
        "name: Code Formatter\nruns:\n  using: composite\n  steps:\n"
        "    - uses: oxsecurity/megalinter/flavors/terraform@e08c2b05e3dbc40af4c23f41172ef1e068a7d651\n"
        "      env:\n        APPLY_FIXES: all\n        DISABLE_ERRORS: true\n"
        "        ENABLE_LINTERS: JSON_PRETTIER,YAML_PRETTIER,TERRAFORM_TERRAFORM_FMT,MARKDOWN_MARKDOWNLINT\n"
    )
    files: dict[str, str | bytes] = {
        "main.tf": "",
        "scripts/deploy.sh": "#!/bin/sh\n",
        ".github/actions/format-code/action.yml": action,
        ".github/workflows/format.yml": workflow("- uses: ./.github/actions/format-code"),
    }
    facts = facts_of(files)
    uses = [u for u in facts.get(tools.ci_uses) if u.tool.id == "megalinter"]
    assert uses and all(not u.languages for u in uses)
    assert "no analyser among them" in uses[0].evidence
    got = matrix(static_probe.run(facts))
    assert got[("terraform", "ci")] == "" and got[("shell", "ci")] == ""


def test_megalinter_enable_disable_rules() -> None:
    assert megalinter_languages({"ENABLE_LINTERS": ["TERRAFORM_TFLINT", "BASH_SHFMT"]}) == {
        "terraform"
    }
    assert megalinter_languages({"ENABLE": "PYTHON,BASH"}) == {"python", "shell"}
    # ENABLE and ENABLE_LINTERS add up; DISABLE_LINTERS takes out the last Python analysers.
    got = megalinter_languages(
        {
            "ENABLE": ["PYTHON"],
            "ENABLE_LINTERS": ["GO_GOLANGCI_LINT"],
            "DISABLE_LINTERS": [
                "PYTHON_PYLINT", "PYTHON_FLAKE8", "PYTHON_BANDIT", "PYTHON_MYPY",
                "PYTHON_PYRIGHT", "PYTHON_RUFF",
            ],
        }
    )  # fmt: skip
    assert got == {"go"}
    # REPOSITORY_SEMGREP analyses Python too: both descriptors must go.
    assert "python" in megalinter_languages({"DISABLE": ["PYTHON"]})
    assert "python" not in megalinter_languages({"DISABLE": ["PYTHON", "REPOSITORY"]})
    assert megalinter_languages({}, "python") == {
        "python",
        "shell",
        "dockerfile",
        "kubernetes",
        "terraform",
    }
    assert megalinter_languages({"ENABLE_LINTERS": "${{ inputs.enable_linters }}"}) == set()


def test_megalinter_config_file_and_runner_command() -> None:
    files: dict[str, str | bytes] = {
        "app.py": "",
        "run.sh": "",
        ".mega-linter.yml": "APPLY_FIXES: none\nENABLE_LINTERS:\n  - PYTHON_RUFF\n  - PYTHON_BLACK\n",
        ".github/workflows/mega.yml": workflow("- run: npx mega-linter-runner --flavor python"),
    }
    uses = facts_of(files).get(tools.ci_uses)
    assert covered(uses, "megalinter") == {"python"}
    files[".mega-linter.yml"] = "ENABLE_LINTERS: [PYTHON_BLACK, PYTHON_ISORT]\n"
    uses = facts_of(files).get(tools.ci_uses)
    assert covered(uses, "megalinter") == set()
    # MEGALINTER_CONFIG names another file.
    files[".github/linters/mega.yml"] = "ENABLE: [BASH]\n"
    files[".github/workflows/mega.yml"] = workflow(
        "- uses: oxsecurity/megalinter@v8\n  env:\n    MEGALINTER_CONFIG: .github/linters/mega.yml"
    )
    uses = facts_of(files).get(tools.ci_uses)
    assert covered(uses, "megalinter") == {"shell"}


@PROPERTY
@given(
    st.dictionaries(
        st.sampled_from(["ENABLE", "ENABLE_LINTERS", "DISABLE", "DISABLE_LINTERS", "APPLY_FIXES"]),
        st.one_of(
            st.text(max_size=80),
            st.lists(
                st.sampled_from(
                    ["PYTHON", "PYTHON_RUFF", "BASH_SHFMT", "TERRAFORM", "X_Y", "", "${{ a }}"]
                ),
                max_size=6,
            ),
            st.integers(),
            st.none(),
            st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
        ),
        max_size=5,
    ),
    st.sampled_from(["", "python", "terraform", "nope"]),
)
def test_megalinter_settings_never_raise_and_stay_within_the_map(
    settings: dict[str, object], flavor: str
) -> None:
    spec = catalogue.load("runners")["runners"]["megalinter"]
    every = {lang for langs in spec["linters"].values() for lang in langs}
    got, note = tools.megalinter_languages(spec, settings, flavor)
    assert got <= every and isinstance(note, str)
    enabled_names = set()
    for key in ("ENABLE", "ENABLE_LINTERS"):
        value = settings.get(key)
        enabled_names |= tools._names(value)
    if enabled_names and not any(
        n in spec["linters"] or any(k.startswith(n + "_") for k in spec["linters"])
        for n in enabled_names
    ):
        assert got == set()  # nothing known enabled: nothing covered


@PROPERTY
@given(st.text(max_size=400))
def test_megalinter_config_file_never_raises(text: str) -> None:
    files: dict[str, str | bytes] = {
        "a.py": "",
        ".mega-linter.yml": text,
        ".github/workflows/m.yml": workflow("- uses: oxsecurity/megalinter@v8"),
    }
    facts = facts_of(files)
    for use in facts.get(tools.ci_uses):
        assert use.languages <= set(catalogue.load("languages")["languages"])


def test_super_linter_formatters_and_exec_bit_cover_nothing() -> None:
    env = "    VALIDATE_PYTHON_BLACK: true\n    VALIDATE_TERRAFORM_FMT: true\n    VALIDATE_BASH_EXEC: true\n    VALIDATE_PHP_BUILTIN: true"
    step = f"- uses: super-linter/super-linter@v7\n  env:\n{env}"
    uses = facts_of({".github/workflows/lint.yml": workflow(step)}).get(tools.ci_uses)
    assert covered(uses, "super-linter") == set()
    step = f"- uses: super-linter/super-linter@v7\n  env:\n{env}\n    VALIDATE_BASH: true"
    uses = facts_of({".github/workflows/lint.yml": workflow(step)}).get(tools.ci_uses)
    assert covered(uses, "super-linter") == {"shell"}


# --- IDE: dev container recommendations -------------------------------------------------------------

DEVCONTAINER = """\
// Modelled on a team's dev container: comments, pinned versions and a trailing comma.
{
  "name": "PSU",
  "build": {"dockerfile": "Dockerfile", "context": ".."},
  "customizations": {
    "vscode": {
      "extensions": [
        "AmazonWebServices.aws-toolkit-vscode",
        "ms-python.flake8@2025.2.0", // pinned
        "dbaeumer.vscode-eslint",
        /* shell scripts */ "timonwong.shellcheck",
        "-ms-python.pylint",
      ],
      "settings": {"python.linting.flake8Enabled": true, "pylint.enabled": false,},
    },
  },
}
"""


def test_devcontainer_recommendations_count_for_the_editor() -> None:
    facts = facts_of(
        {
            ".devcontainer/devcontainer.json": DEVCONTAINER,
            "scripts/a.py": "",
            "scripts/b.sh": "",
            "src/c.ts": "",
        }
    )
    found = {e.id for e in facts.get(ide.collect).extensions}
    assert found == {
        "amazonwebservices.aws-toolkit-vscode",
        "ms-python.flake8",
        "dbaeumer.vscode-eslint",
        "timonwong.shellcheck",
    }
    got = matrix(static_probe.run(facts))
    assert got[("python", "ide")] == "flake8"
    assert got[("typescript", "ide")] == "eslint"
    assert got[("shell", "ide")] == "shellcheck"
    assert ide.extension_id("-ms-python.pylint") is None
    assert ide.extension_id(" Publisher.Name@1.2.3 ") == "publisher.name"


EXTENSION_IDS = st.from_regex(r"[a-z][a-z0-9-]{0,10}\.[a-z][a-z0-9-]{0,15}", fullmatch=True)


@PROPERTY
@given(
    st.lists(EXTENSION_IDS, min_size=1, max_size=6, unique=True),
    st.lists(
        st.sampled_from(["", " // note", " /* x */", "\n  // line\n"]), min_size=6, max_size=6
    ),
    st.booleans(),
)
def test_devcontainer_extensions_survive_comments_and_trailing_commas(
    ids: list[str], comments: list[str], trailing: bool
) -> None:
    items = ",".join(f'{comments[i % len(comments)]}\n        "{e}"' for i, e in enumerate(ids))
    text = (
        '// dev container\n{\n  "customizations": {\n    "vscode": {\n      "extensions": ['
        + items
        + ("," if trailing else "")
        + "\n      ],\n    },\n  },\n}\n"
    )
    facts = facts_of({".devcontainer/devcontainer.json": text})
    assert [e.id for e in facts.get(ide.collect).extensions] == ids


@PROPERTY
@given(st.text(max_size=300) | st.binary(max_size=60))
def test_devcontainer_parsing_never_raises(content: str | bytes) -> None:
    facts = facts_of({".devcontainer/devcontainer.json": content, "a.py": ""})
    facts.get(tools.ide_uses)


def test_deep_devcontainer_is_a_problem_not_a_crash() -> None:
    deep = '{"customizations": ' + "[" * 5000 + "]" * 5000 + "}"
    facts = facts_of({".devcontainer/devcontainer.json": deep, "a.py": ""})
    assert facts.get(tools.ide_uses) == []
    assert facts.problem_for(".devcontainer/devcontainer.json") is not None
