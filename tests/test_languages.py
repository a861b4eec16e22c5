"""Languages come from tracked file names, outside vendored folders and policy excludes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from conftest import MakeRepo
from hypothesis import given, settings
from hypothesis import strategies as st

from secposture import catalogue
from secposture.facts import languages, workflows
from secposture.facts.interface import Facts
from secposture.policy import default_policy, load_policy
from secposture.sources.local import LocalSource


def facts_for(root: Path) -> Facts:
    excluded = frozenset(catalogue.load("defaults")["excluded_dirs"])
    snapshot = LocalSource(root, excluded_dirs=excluded).snapshot()
    return Facts(snapshot, load_policy(snapshot), date(2026, 11, 29))


def test_languages_from_a_monorepo_ignore_vendored_folders(make_repo: MakeRepo) -> None:
    root = make_repo(
        files={
            "api/app.py": "print(1)\n",
            "web/src/App.tsx": "export {}\n",
            "web/node_modules/left-pad/index.js": "module.exports = 1\n",
            "vendor/github.com/x/y.go": "package y\n",
            "infra/main.tf": "",
            "deploy/k8s/deployment.yaml": "kind: Deployment\n",
            "scripts/release.sh": "echo hi\n",
            "Dockerfile": "FROM scratch\n",
        }
    )
    found = facts_for(root).get(languages.collect)
    assert set(found) == {"python", "typescript", "terraform", "kubernetes", "shell", "dockerfile"}
    assert found["terraform"].infrastructure and found["kubernetes"].infrastructure
    assert not found["python"].infrastructure
    assert found["python"].examples == ["api/app.py"]


def test_policy_excludes_and_ignored_languages(make_repo: MakeRepo) -> None:
    root = make_repo(
        files={
            "app.py": "",
            "tests/fixtures/site/index.js": "",
            "tools/build.sh": "",
            "secposture.toml": 'exclude = ["tests/fixtures/**"]\n[static_analysis]\nignore_languages = ["shell"]\n',
        }
    )
    assert set(facts_for(root).get(languages.collect)) == {"python"}


def test_empty_repository_has_no_languages(make_repo: MakeRepo) -> None:
    root = make_repo(commit=False)
    assert facts_for(root).get(languages.collect) == {}


def test_workflow_shapes_are_parsed_with_lines(make_repo: MakeRepo) -> None:
    root = make_repo(
        files={
            ".github/workflows/ci.yml": (
                "on: [push]\npermissions:\n  contents: read\njobs:\n  test:\n    runs-on: x\n"
                "    steps:\n      - uses: actions/checkout@v4\n      - run: make lint\n"
                "  call:\n    uses: ./.github/workflows/reusable.yml\n"
            ),
            ".github/workflows/broken.yml": "on: [push\n",
            ".github/workflows/list.yml": "- just\n- a list\n",
            ".github/workflows/nested/ignored.yml": "on: push\n",
            ".github/actions/lint/action.yml": "runs:\n  using: composite\n  steps:\n    - run: ruff check .\n      shell: bash\n",
        }
    )
    facts = facts_for(root)
    flows = {w.path: w for w in facts.get(workflows.collect)}
    assert set(flows) == {".github/workflows/ci.yml"}
    ci = flows[".github/workflows/ci.yml"]
    assert ci.triggers == frozenset({"push"})
    assert ci.permissions == {"contents": "read"} and ci.permissions_line == 2
    test, call = ci.jobs
    assert [s.uses for s in test.steps] == ["actions/checkout@v4", None]
    assert test.steps[1].run == "make lint" and test.steps[1].line == 9
    assert call.uses == "./.github/workflows/reusable.yml"
    problems = {p.path: p.message for p in facts.problems}
    assert "not valid YAML" in problems[".github/workflows/broken.yml"]
    assert "not a workflow" in problems[".github/workflows/list.yml"]
    actions = facts.get(workflows.collect_local_actions)
    assert actions[".github/actions/lint"].steps[0].run == "ruff check ."


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=100, deadline=None)
@given(doc=st.dictionaries(st.sampled_from(["on", "jobs", "permissions", "x"]), yaml_values))
def test_parse_workflow_never_raises_on_any_shape(doc: dict[str, object]) -> None:
    workflows.parse_workflow(".github/workflows/x.yml", doc)


def test_default_policy_has_every_control_of_the_spec() -> None:
    ids = set(default_policy().controls)
    assert ids == {
        "ticket-security", "security-tests", "threat-model", "ithc",
        "dependabot-security-updates", "dependency-update-config", "container-scanning",
        "pr-review-required", "secrets-pre-commit", "static-analysis", "security-adrs",
        "pr-template-security", "secret-scanning", "security-policy", "codeowners",
        "workflow-permissions", "actions-pinned", "dangerous-workflow", "secrets-in-tree",
        "vulnerabilities-patched-in-time",
    }  # fmt: skip


def test_deeply_nested_yaml_is_refused_before_parsing() -> None:
    import pytest

    from secposture.facts.parsing import parse_yaml

    with pytest.raises(ValueError, match="nested deeper"):
        parse_yaml("[" * 5000)
    assert parse_yaml("a: [1, {b: [2]}]") == {"a": [1, {"b": [2]}]}


def test_local_actions_in_build_folders_count_but_policy_excludes_do_not(
    make_repo: MakeRepo,
) -> None:
    action = "runs:\n  using: composite\n  steps:\n    - uses: actions/cache@v4\n"
    root = make_repo(
        files={
            ".github/actions/build/action.yml": action,
            "tests/fixtures/repo/.github/actions/x/action.yml": action,
            "secposture.toml": 'exclude = ["tests/fixtures/**"]\n',
        }
    )
    assert set(facts_for(root).get(workflows.collect_local_actions)) == {".github/actions/build"}


def test_yaml_aliases_are_shared_merges_applied_and_recursion_refused() -> None:
    import pytest

    from secposture.facts.parsing import line_of, parse_yaml

    lol = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for i in range(9):  # a "billion laughs": 9**10 leaves if expanded
        prev, name = chr(97 + i), chr(98 + i)
        lol += f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]\n"
    # Shared, not copied; but readers of the data would expand it, so it is refused.
    with pytest.raises(ValueError, match="aliases expand it beyond"):
        parse_yaml(lol)
    doc = parse_yaml("a: &a [lol, lol]\nb: [*a, *a]\n")
    assert doc["b"][0] is doc["b"][1] is doc["a"]

    gitlab = ".defaults: &defaults\n  image: python\n  script: [ruff check .]\nlint:\n  <<: *defaults\n  image: python:3.12\n"
    job = parse_yaml(gitlab)["lint"]
    assert job == {"image": "python:3.12", "script": ["ruff check ."]}
    assert line_of(parse_yaml(gitlab), "lint") == 4

    with pytest.raises(ValueError, match="recursive alias"):
        parse_yaml("a: &x [*x]\n")
    with pytest.raises(ValueError, match="duplicate key"):
        parse_yaml("a: 1\na: 2\n")
    # libyaml rejects this flow mapping; the YAML 1.2 parser accepts it, and decides.
    assert parse_yaml("docker: [{image: cimg/python:3.12}]\n") == {
        "docker": [{"image": "cimg/python:3.12"}]
    }
