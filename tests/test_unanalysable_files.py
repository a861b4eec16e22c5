"""A file that cannot be analysed never turns a control `n/a` or `pass` (docs/adr/0010-parse-budgets.md):
malformed, an alias bomb or nested too deep, it makes the controls that read it `unknown`, naming the
file and why. Real repositories, scanned and fixed end to end."""

from __future__ import annotations

import pytest
from conftest import MakeRepo, result, scan
from test_fix_support import fix_json
from test_parse_budgets import hang_guard, laughs, workflow_bomb

from secposture.model import ControlResult, Outcome, Status

WORKFLOW_CONTROLS = ("workflow-permissions", "actions-pinned", "dangerous-workflow")
CHECKOUT = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683"  # v4.2.2
CLEAN_WORKFLOW = (
    "on: push\npermissions:\n  contents: read\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
    f"    steps:\n      - uses: {CHECKOUT}\n      - run: make test\n"
)
DANGEROUS = (
    "on: pull_request_target\npermissions:\n  contents: read\njobs:\n  build:\n"
    "    runs-on: ubuntu-latest\n    steps:\n"
    f"      - uses: {CHECKOUT}\n        with:\n"
    "          ref: ${{ github.event.pull_request.head.sha }}\n"
    "      - run: make build\n"
)


def bomb_in(key: str, levels: int = 10) -> str:
    """A mapping whose `key` is an alias expanding to 9**levels leaves (a few hundred bytes)."""
    anchors = "\n".join(f"  - {line}" for line in laughs(levels))
    return f"x-anchors:\n{anchors}\n{key}: *a{levels}\n"


# Each way a file cannot be analysed: not YAML, an alias bomb, nested deeper than the limit.
BAD_WORKFLOWS = {
    "malformed": "on: push\njobs: [\n",
    "bomb": workflow_bomb("run"),
    "deep": "on: push\njobs:\n  a:\n    steps: " + "[" * 150 + "]" * 150 + "\n",
}


def cannot_be_analysed(got: ControlResult, path: str) -> None:
    assert got.status is Status.UNKNOWN, (got.id, got.status, got.summary)
    assert f"{path} cannot be analysed" in got.summary
    assert any(
        f.outcome is Outcome.UNKNOWN and f.location is not None and f.location.path == path
        for f in got.findings
    )


@pytest.mark.parametrize("kind", BAD_WORKFLOWS)
def test_a_workflow_that_cannot_be_analysed_makes_the_workflow_controls_unknown(
    make_repo: MakeRepo, kind: str
) -> None:
    bad = ".github/workflows/bad.yml"
    with hang_guard():
        alone = scan(make_repo(None, {bad: BAD_WORKFLOWS[kind]}))
        beside_a_clean_one = scan(
            make_repo(None, {bad: BAD_WORKFLOWS[kind], ".github/workflows/ok.yml": CLEAN_WORKFLOW})
        )
    for report in (alone, beside_a_clean_one):
        problem = next(p for p in report.problems if p.path == bad)
        assert problem.line is not None
        for control in WORKFLOW_CONTROLS:
            cannot_be_analysed(result(report, control), bad)


@pytest.mark.parametrize(
    "hiding",
    [
        "# " + "{" * 101 + "\n",  # a comment
        "x-note: |\n  " + "{" * 101 + "\n",  # a block scalar
        "x-note: '" + "[" * 101 + "'\n",  # a quoted string
    ],
)
def test_brackets_outside_collections_do_not_hide_a_dangerous_workflow(
    make_repo: MakeRepo, hiding: str
) -> None:
    report = scan(make_repo(None, {".github/workflows/pr.yml": hiding + DANGEROUS}))
    got = result(report, "dangerous-workflow")
    assert got.status is Status.FAIL
    assert "checks out untrusted pull-request code" in got.summary
    assert not report.problems


def test_a_composite_action_that_cannot_be_analysed_is_unknown(make_repo: MakeRepo) -> None:
    workflow = DANGEROUS.replace(
        f"      - uses: {CHECKOUT}\n        with:\n"
        "          ref: ${{ github.event.pull_request.head.sha }}\n",
        "      - uses: ./.github/actions/setup\n",
    )
    action = ".github/actions/setup/action.yml"
    files = {".github/workflows/pr.yml": workflow, action: bomb_in("runs")}
    with hang_guard():
        report = scan(make_repo(None, files))
    cannot_be_analysed(result(report, "dangerous-workflow"), action)


BAD_PRECOMMIT = {
    "malformed": "repos:\n  - repo: [unclosed\n",
    "bomb": bomb_in("repos"),
    "deep": "repos: " + "[" * 150 + "]" * 150 + "\n",
}


@pytest.mark.parametrize("kind", BAD_PRECOMMIT)
def test_a_precommit_config_that_cannot_be_analysed_is_unknown(
    make_repo: MakeRepo, kind: str
) -> None:
    files = {".pre-commit-config.yaml": BAD_PRECOMMIT[kind], "app.py": "print(1)\n"}
    with hang_guard():
        report = scan(make_repo(None, files))
    cannot_be_analysed(result(report, "secrets-pre-commit"), ".pre-commit-config.yaml")
    static = result(report, "static-analysis")
    assert static.status not in (Status.PASS, Status.NOT_APPLICABLE)
    (pre,) = [f for f in static.findings if f.values["stage"] == "pre-commit"]
    assert pre.outcome is Outcome.UNKNOWN
    assert pre.message.startswith(".pre-commit-config.yaml cannot be analysed")


BAD_DEPENDABOT = {
    "malformed": "version: 2\nupdates: [\n",
    "bomb": bomb_in("updates"),
    "deep": "version: 2\nupdates: " + "[" * 150 + "]" * 150 + "\n",
}


@pytest.mark.parametrize("kind", BAD_DEPENDABOT)
def test_a_dependabot_config_that_cannot_be_analysed_is_unknown(
    make_repo: MakeRepo, kind: str
) -> None:
    files = {".github/dependabot.yml": BAD_DEPENDABOT[kind], "requirements.txt": "flask\n"}
    with hang_guard():
        report = scan(make_repo(None, files))
    got = result(report, "dependency-update-config")
    assert got.status is Status.UNKNOWN
    assert got.summary.startswith(".github/dependabot.yml cannot be analysed")
    assert (
        "whether Python (pip, Pipenv, Poetry, uv) at / is kept up to date is unknown" in got.summary
    )


@pytest.mark.parametrize(
    "text", ["{", "[" * 100_000, '{"extends": [' + "1" * 5000 + "]}"], ids=["bad", "deep", "int"]
)
def test_a_renovate_config_that_cannot_be_analysed_is_unknown(
    make_repo: MakeRepo, text: str
) -> None:
    report = scan(make_repo(None, {"renovate.json": text, "go.mod": "module x\n"}))
    got = result(report, "dependency-update-config")
    assert got.status is Status.UNKNOWN and "renovate.json" in got.summary


def test_a_manifest_that_cannot_be_analysed_is_not_left_out(make_repo: MakeRepo) -> None:
    """pyproject.toml counts as a pip manifest only when it declares dependencies: one nested
    3,000 deep cannot say, so the control is unknown, not `n/a`."""
    report = scan(make_repo(None, {"pyproject.toml": "[project]\nx = " + "[" * 3000 + "\n"}))
    got = result(report, "dependency-update-config")
    assert got.status is Status.UNKNOWN
    assert got.summary.startswith(
        "pyproject.toml cannot be analysed (exceeds the scanner's limits for TOML"
    )


@pytest.mark.parametrize(
    ("path", "text"),
    [
        (".gitlab-ci.yml", "lint:\n  script: [\n"),
        (".gitlab-ci.yml", bomb_in("lint")),
        (".circleci/config.yml", "version: 2.1\njobs: " + "{a: " * 150 + "}" * 150 + "\n"),
        (".github/workflows/ci.yml", workflow_bomb("with")),
    ],
    ids=["gitlab-malformed", "gitlab-bomb", "circleci-deep", "workflow-bomb"],
)
def test_ci_configuration_that_cannot_be_analysed_leaves_the_ci_stage_unknown(
    make_repo: MakeRepo, path: str, text: str
) -> None:
    with hang_guard():
        report = scan(make_repo(None, {path: text, "app.py": "print(1)\n"}))
    static = result(report, "static-analysis")
    (in_ci,) = [f for f in static.findings if f.values["stage"] == "ci"]
    assert in_ci.outcome is Outcome.UNKNOWN
    assert in_ci.message.startswith(f"{path} cannot be analysed")


def test_fix_refuses_a_dependabot_bomb_quickly_and_force_replaces_it(make_repo: MakeRepo) -> None:
    """`fix` used to expand `ignore: *a8` while comparing the edit: minutes and gigabytes."""
    anchors = "\n".join(f"  - {line}" for line in laughs(8))
    text = (
        f"x:\n{anchors}\nversion: 2\nupdates:\n  - package-ecosystem: npm\n    directory: /\n"
        "    schedule: {interval: weekly}\n    ignore: *a8\n"
    )
    root = make_repo(None, {".github/dependabot.yml": text, "requirements.txt": "flask\n"})
    with hang_guard():
        data = fix_json(root, "--only", "dependency-update-config")
    assert data["changes"] == []
    (skipped,) = data["skipped"]
    assert ".github/dependabot.yml exceeds the scanner's limits for YAML" in skipped["reason"]
    assert "--force" in skipped["reason"]
    with hang_guard():
        data = fix_json(root, "--only", "dependency-update-config", "--force")
    (change,) = data["changes"]
    assert change["path"] == ".github/dependabot.yml" and change["action"] == "replace"
    assert "*a8" not in (root / ".github/dependabot.yml").read_text()


@pytest.mark.parametrize("dockerfile", [True, False], ids=["built-here", "maybe-built-in-ci"])
def test_container_scanning_with_ci_that_cannot_be_analysed_is_unknown(
    make_repo: MakeRepo, dockerfile: bool
) -> None:
    files = {".github/workflows/ci.yml": workflow_bomb("run")}
    if dockerfile:
        files["Dockerfile"] = "FROM python:3.12\n"
    with hang_guard():
        report = scan(make_repo(None, files))
    cannot_be_analysed(result(report, "container-scanning"), ".github/workflows/ci.yml")


def test_an_issue_form_that_cannot_be_analysed_is_unknown(make_repo: MakeRepo) -> None:
    form = ".github/ISSUE_TEMPLATE/bug.yml"
    with hang_guard():
        report = scan(make_repo(None, {form: bomb_in("body")}))
    cannot_be_analysed(result(report, "ticket-security"), form)
