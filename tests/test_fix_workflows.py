"""`secposture fix` hardens existing workflows in place (issue 12, ADR 0016): on a corpus of
workflows modelled on real repositories (tests/fixtures/workflow-corpus), fix then scan turns
actions-pinned, workflow-permissions and dangerous-workflow to pass, or says what it left and why;
actionlint accepts every edited file; nothing changes but the hardening (the same triggers, jobs
and steps, compared structurally); comments and key order survive; a second run changes nothing.
Hostile files (anchors, flow mappings, several documents, CRLF, tabs, odd `uses:`) are edited
exactly or left alone with a note, never broken."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from actionlint import problems as actionlint_problems
from conftest import FIXTURES, TODAY, MakeRepo, result, scan
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_fix_support import commit_all, fix_json, status

from secposture.facts.parsing import parse_yaml
from secposture.fix.plan import plan_fixes
from secposture.model import Status
from secposture.policy import default_policy
from secposture.scan import scan_snapshot
from secposture.sources.memory import MemorySnapshot

CONTROLS = ("actions-pinned", "workflow-permissions", "dangerous-workflow")
ONLY = [arg for control in CONTROLS for arg in ("--only", control)]
CORPUS = FIXTURES / "workflow-corpus"
MODELS = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())
# What the fix leaves, offline, and the words that say so (in a note or a skipped reason).
LEFT = {
    ("core-cloud-checkov-sonar", "actions-pinned"): "core-cloud-workflow-sonarqube-scan@1.1.7",
    ("express-ci", "actions-pinned"): "coverallsapp/github-action@v2",
    ("flask-release", "dangerous-workflow"): "which shell runs it cannot be told",
    ("pytm-pull-request-target", "dangerous-workflow"): "checks out untrusted pull-request code",
}
# Jobs whose token needs secposture cannot know: each gets a `# secposture: review` comment.
REVIEWED = {"core-cloud-checkov-sonar": 1, "express-ci": 1, "flask-release": 1}
SHA = re.compile(r"[0-9a-f]{40}")


def workflow_files(root: Path) -> dict[str, str]:
    found = [*root.glob(".github/workflows/*.y*ml"), *root.glob(".github/actions/*/action.y*ml")]
    return {str(p.relative_to(root)): p.read_bytes().decode() for p in sorted(found)}


def said(data: dict[str, Any]) -> str:
    return " ".join([*data["notes"], *(s["reason"] for s in data["skipped"])])


# --- what must not change -----------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _same_pin(before: Any, after: Any) -> bool:
    if before == after:
        return True
    if not isinstance(before, str) or not isinstance(after, str) or "@" not in before:
        return False
    head, _, sha = after.rpartition("@")
    return head == before.rpartition("@")[0] and SHA.fullmatch(sha) is not None


def _restores(after: str, added: dict[str, str], before: str) -> bool:
    """Whether the script, each reference to a new variable put back as the expression it
    holds, is the script it was: `"${N}"` stood for the expression unquoted or for the
    expression in its own double quotes; `'"${N}"'`, `${env:N}` and `${N}` for the expression."""
    if not added:
        return after == before
    names = "|".join(re.escape(n) for n in added)
    form = re.compile(
        rf"'\"\$\{{({names})\}}\"'|\"\$\{{({names})\}}\"|\$\{{env:({names})\}}|\$\{{({names})\}}"
    )
    pattern: list[str] = []
    at = 0
    for match in form.finditer(after):
        pattern.append(re.escape(after[at : match.start()]))
        name = next(g for g in match.groups() if g is not None)
        value = re.escape(added[name])
        pattern.append(f'(?:{value}|"{value}")' if match.group(2) else value)
        at = match.end()
    pattern.append(re.escape(after[at:]))
    return re.fullmatch("".join(pattern), before, re.DOTALL) is not None


def _same_step(before: dict[str, Any], after: dict[str, Any]) -> None:
    assert [k for k in after if k != "env"] == [k for k in before if k != "env"], (before, after)
    for key, value in before.items():
        if key == "uses":
            assert _same_pin(value, after[key]), (value, after[key])
        elif key not in ("run", "env"):
            assert after[key] == value
    old_env, new_env = before.get("env") or {}, after.get("env") or {}
    assert all(new_env.get(k) == v for k, v in old_env.items())
    added = {k: v for k, v in new_env.items() if k not in old_env}
    if "run" in before:
        assert _restores(after["run"], added, before["run"]), (before["run"], after["run"])
    else:
        assert not added


def _same_job(before: dict[str, Any], after: dict[str, Any]) -> None:
    assert [k for k in after if k != "permissions"] == [k for k in before if k != "permissions"]
    for key, value in before.items():
        if key == "steps":
            assert len(after["steps"]) == len(value)
            for old, new in zip(value, after["steps"], strict=True):
                _same_step(old, new)
        elif key == "uses":
            assert _same_pin(value, after[key])
        elif key != "permissions":
            assert after[key] == value, key


def assert_only_hardened(before_text: str, after_text: str) -> None:
    """Same triggers, jobs, steps and everything else; only pins, permissions, a step's new
    `env:` and the references to it may differ."""
    before, after = _plain(parse_yaml(before_text)), _plain(parse_yaml(after_text))
    assert [k for k in after if k != "permissions"] == [k for k in before if k != "permissions"]
    for key, value in before.items():
        if key == "jobs":
            assert list(after["jobs"]) == list(value)
            for job_id, job in value.items():
                _same_job(job, after["jobs"][job_id])
        elif key == "runs" and isinstance(value, dict):
            _same_job(value, after["runs"])
        elif key != "permissions":
            assert after[key] == value, key


def comments_kept(before: str, after: str) -> bool:
    """Every whole-line comment of `before` is in `after`, in the same order."""
    wanted = [line.strip() for line in before.splitlines() if line.strip().startswith("#")]
    remaining = iter(line.strip() for line in after.splitlines())
    return all(any(line == candidate for candidate in remaining) for line in wanted)


# --- actionlint ---------------------------------------------------------------------------------


def actionlint(root: Path, paths: list[str]) -> list[str]:
    return actionlint_problems(root, paths)


# --- the corpus ---------------------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
def test_fix_then_scan_hardens_each_model_or_says_what_it_left(
    make_repo: MakeRepo, model: str
) -> None:
    root = make_repo(f"workflow-corpus/{model}")
    report = scan(root)
    assert any(status(report, c).failing for c in CONTROLS), model
    before = workflow_files(root)
    data = fix_json(root, "--offline", *ONLY)
    commit_all(root)
    after = workflow_files(root)
    report = scan(root)
    for control in CONTROLS:
        left = LEFT.get((model, control))
        if left is None:
            assert status(report, control) is Status.PASS, (
                control,
                result(report, control).summary,
            )
        else:
            assert status(report, control).failing, control
            assert left in said(data), said(data)
    reviews = sum(text.count("# secposture: review:") for text in after.values())
    assert reviews == REVIEWED.get(model, 0)
    if reviews:
        assert "`# secposture: review` comment" in said(data)
    changed = [path for path in before if before[path] != after[path]]
    assert changed
    for path in changed:
        assert_only_hardened(before[path], after[path])
        assert comments_kept(before[path], after[path]), path
    second = fix_json(root, "--offline", *ONLY)
    assert second["changes"] == []


@pytest.mark.parametrize("model", MODELS)
def test_actionlint_accepts_every_edited_workflow(make_repo: MakeRepo, model: str) -> None:
    root = make_repo(f"workflow-corpus/{model}")
    before = workflow_files(root)
    fix_json(root, "--offline", *ONLY)
    after = workflow_files(root)
    changed = [path for path in before if before[path] != after[path]]
    problems = actionlint(root, changed)
    # Untrusted expressions left inline on purpose (LEFT) are the only complaint allowed.
    assert [p for p in problems if "potentially untrusted" not in p] == []
    if (model, "dangerous-workflow") not in LEFT:
        assert problems == []


def test_workflow_level_writes_move_to_the_job_that_needs_them(make_repo: MakeRepo) -> None:
    root = make_repo("workflow-corpus/hmpps-pipeline")
    fix_json(root, "--offline", *ONLY)
    doc = parse_yaml((root / ".github/workflows/pipeline.yml").read_text())
    assert doc["permissions"] == {"contents": "read", "packages": "read", "attestations": "read"}
    assert doc["jobs"]["build"]["permissions"] == {
        "contents": "read",
        "attestations": "write",
        "id-token": "write",
        "packages": "write",
    }
    assert "permissions" not in doc["jobs"]["app_version"]
    assert "permissions" not in doc["jobs"]["deploy_dev"]
    text = (root / ".github/workflows/pipeline.yml").read_text()
    assert re.search(r"uses: actions/checkout@[0-9a-f]{40} # v4 # WORKFLOW_VERSION\n", text)


def test_an_untrusted_input_of_a_reusable_workflow_moves_into_env(make_repo: MakeRepo) -> None:
    root = make_repo("workflow-corpus/opg-workflow-pr")
    fix_json(root, "--offline", *ONLY)
    step = parse_yaml((root / ".github/workflows/go-unit-tests.yml").read_text())["jobs"][
        "go_unit_tests"
    ]["steps"][2]
    assert step["env"] == {"BRANCH": "${{ inputs.branch }}"}
    assert step["run"].startswith('echo "Testing ${BRANCH} at ${{ inputs.commit_sha }}"\n')
    caller = parse_yaml((root / ".github/workflows/workflow_pr.yml").read_text())
    # The caller's writes went to the call jobs whose workflows need them; no `none` repeated.
    assert caller["jobs"]["create_tags"]["permissions"]["contents"] == "write"
    docker = caller["jobs"]["docker_build_scan_push"]["permissions"]
    assert docker["security-events"] == "write" and "none" not in docker.values()
    assert caller["permissions"]["contents"] == "read"
    assert "id-token" not in caller["permissions"]


# --- hostile files ------------------------------------------------------------------------------

RISKY_RUN = 'echo "${{ github.event.issue.title }}"'


@contextmanager
def fixed(make_repo: MakeRepo, files: dict[str, str]) -> Iterator[tuple[Path, dict[str, Any]]]:
    root = make_repo(files=files)
    data = fix_json(root, "--offline", *ONLY)
    yield root, data
    assert fix_json(root, "--offline", *ONLY)["changes"] == []  # a second run changes nothing


def test_anchors_and_aliases_are_edited_where_the_data_allows_and_never_broken(
    make_repo: MakeRepo,
) -> None:
    text = (
        "on: issues\n"
        "jobs:\n"
        "  a:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - &checkout\n"
        "        uses: actions/checkout@v4.2.2\n"
        "      - uses: &setup actions/setup-python@v5.3.0\n"
        f"      - run: {RISKY_RUN}\n"
        "  b:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - *checkout\n"
        "      - uses: *setup\n"
    )
    with fixed(make_repo, {".github/workflows/ci.yml": text}) as (root, _data):
        after = (root / ".github/workflows/ci.yml").read_text()
        doc = parse_yaml(after)
        uses = [s.get("uses") for job in doc["jobs"].values() for s in job["steps"]]
        assert all(SHA.search(u) for u in uses if u), uses
        assert "*checkout" in after and "*setup" in after
        assert_only_hardened(text, after)


def test_flow_mappings_get_their_pins_and_a_note_where_a_block_cannot_go(
    make_repo: MakeRepo,
) -> None:
    text = (
        "on: issues\n"
        "jobs: {a: {runs-on: ubuntu-latest, steps: [{uses: actions/checkout@v4.2.2}, "
        f"{{run: '{RISKY_RUN}'}}]}}}}\n"
    )
    with fixed(make_repo, {".github/workflows/ci.yml": text}) as (root, data):
        after = (root / ".github/workflows/ci.yml").read_text()
        assert "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683" in after
        assert "flow style" in said(data)
        assert_only_hardened(text, after)


def test_a_file_of_several_documents_is_left_alone(make_repo: MakeRepo) -> None:
    text = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v4\n---\nx: 1\n"
    with fixed(make_repo, {".github/workflows/ci.yml": text}) as (root, _data):
        assert (root / ".github/workflows/ci.yml").read_text() == text
        assert status(scan(root), "actions-pinned") is Status.UNKNOWN


def test_crlf_and_tabs_in_block_scalars_survive(make_repo: MakeRepo) -> None:
    text = (
        "on: issues\r\n"
        "jobs:\r\n"
        "  a:\r\n"
        "    runs-on: ubuntu-latest\r\n"
        "    steps:\r\n"
        "      - uses: actions/checkout@v4.2.2\r\n"
        "      - run: |\r\n"
        "          if true; then\r\n"
        '          \techo "${{ github.event.issue.title }}"\r\n'
        "          fi\r\n"
    )
    with fixed(make_repo, {".github/workflows/ci.yml": text}) as (root, _data):
        after = (root / ".github/workflows/ci.yml").read_bytes().decode()
        assert after.count("\n") == after.count("\r\n")
        assert '\techo "${ISSUE_TITLE}"\r\n' in after
        assert_only_hardened(text, after)
        for control in CONTROLS:
            commit_all(root)
            assert status(scan(root), control) is Status.PASS, control


@pytest.mark.parametrize(
    "line",
    [
        "      - uses:    'actions/checkout@v4.2.2'   # the code",
        '      - "uses": "actions/checkout@v4.2.2"',
        "      - uses : actions/checkout@v4.2.2",
        "      - uses: ./.github/actions/local",
        "      - uses: docker://alpine:3.20",
    ],
)
def test_uses_with_odd_spacing_and_quotes(make_repo: MakeRepo, line: str) -> None:
    text = f"on: push\npermissions: {{}}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n{line}\n"
    files = {".github/workflows/ci.yml": text}
    if "./.github" in line:
        files[".github/actions/local/action.yml"] = "runs:\n  using: composite\n  steps: []\n"
    with fixed(make_repo, files) as (root, data):
        after = (root / ".github/workflows/ci.yml").read_text()
        if "checkout" in line:
            assert "11bd71901bbe5b1630ceea73d27597364c9af683" in after
            assert "# v4.2.2" in after
            assert "# the code" in after or "the code" not in line
        else:
            assert after == text
        if "docker://" in line:
            assert "docker:// images are not pinned" in said(data)
        assert_only_hardened(text, after)


@pytest.mark.parametrize(
    ("shell_lines", "expected"),
    [
        ("        shell: pwsh\n", 'Write-Host "${env:ISSUE_TITLE}"'),
        ("        shell: python\n", None),
        ("        shell: cmd\n", None),
        ("", 'Write-Host "${ISSUE_TITLE}"'),
    ],
)
def test_scripts_for_other_shells(
    make_repo: MakeRepo, shell_lines: str, expected: str | None
) -> None:
    text = (
        "on: issues\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        '      - run: Write-Host "${{ github.event.issue.title }}"\n' + shell_lines
    )
    with fixed(make_repo, {".github/workflows/ci.yml": text}) as (root, data):
        after = (root / ".github/workflows/ci.yml").read_text()
        if expected is None:
            assert after == text
            assert "reads environment variables differently" in said(data)
        else:
            assert expected in after
            assert_only_hardened(text, after)


def test_env_names_never_collide(make_repo: MakeRepo) -> None:
    text = (
        "on: issues\npermissions: {}\nenv:\n  ISSUE_TITLE: fixed\njobs:\n  a:\n"
        "    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: |\n"
        "          ISSUE_TITLE_2=x\n"
        '          echo "$ISSUE_TITLE_2 ${{ github.event.issue.title }}"\n'
    )
    with fixed(make_repo, {".github/workflows/ci.yml": text}) as (root, _data):
        step = parse_yaml((root / ".github/workflows/ci.yml").read_text())["jobs"]["a"]["steps"][0]
        assert step["env"] == {"ISSUE_TITLE_3": "${{ github.event.issue.title }}"}
        assert '"$ISSUE_TITLE_2 ${ISSUE_TITLE_3}"' in step["run"]


def test_a_job_level_write_no_step_needs_is_lowered(make_repo: MakeRepo) -> None:
    text = (
        "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    permissions:\n      contents: read  # to check out\n      issues: write\n"
        "    steps:\n      - uses: actions/checkout@v4.2.2\n"
    )
    with fixed(make_repo, {".github/workflows/ci.yml": text}) as (root, _data):
        after = (root / ".github/workflows/ci.yml").read_text()
        assert "      contents: read  # to check out\n      issues: read\n" in after
        commit_all(root)
        assert status(scan(root), "workflow-permissions") is Status.PASS


def test_a_call_grants_what_the_called_workflows_jobs_ask_for_reads_included(
    make_repo: MakeRepo,
) -> None:
    """A called workflow's jobs get no more than the call grants (GitHub refuses to run them,
    and actionlint says so): a caller left with `contents: read` must still grant the
    `packages: read` its callee asks for (govuk-one-login/ipv-core-front's shape)."""
    caller = (
        "on: push\njobs:\n  tests:\n    uses: ./.github/workflows/tests.yml\n"
        "  lint:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make lint\n"
    )
    callee = (
        "on: workflow_call\njobs:\n  run-tests:\n    runs-on: ubuntu-latest\n"
        "    permissions:\n      contents: read\n      packages: read\n"
        "    steps:\n      - run: make test\n"
    )
    files = {".github/workflows/ci.yml": caller, ".github/workflows/tests.yml": callee}
    with fixed(make_repo, files) as (root, _data):
        doc = parse_yaml((root / ".github/workflows/ci.yml").read_text())
        assert doc["permissions"] == {"contents": "read"}
        assert doc["jobs"]["tests"]["permissions"] == {"contents": "read", "packages": "read"}
        assert "permissions" not in doc["jobs"]["lint"]
        assert actionlint(root, [".github/workflows/ci.yml"]) == []


def test_a_write_lowered_in_a_called_workflow_is_lowered_in_its_caller_in_the_same_run(
    make_repo: MakeRepo,
) -> None:
    """NHSDigital/eps-prescription-status-update-api's shape: the call grants what the called
    job asks for, and the called job asks for a write none of its steps needs. One run lowers
    both; a second changes nothing (`fixed` checks it)."""
    caller = (
        "on: push\npermissions: {}\njobs:\n  regression:\n"
        "    uses: ./.github/workflows/regression.yml\n"
        "    permissions:\n      id-token: write\n      contents: write\n"
    )
    callee = (
        "on: workflow_call\npermissions: {}\njobs:\n  run:\n    runs-on: ubuntu-latest\n"
        "    permissions:\n      id-token: write\n      contents: write\n    steps:\n"
        "      - uses: actions/checkout@v4.2.2\n        with:\n          persist-credentials: false\n"
        "      - uses: aws-actions/configure-aws-credentials@v4\n        with:\n"
        "          role-to-assume: arn:aws:iam::1:role/x\n          aws-region: eu-west-2\n"
    )
    files = {".github/workflows/ci.yml": caller, ".github/workflows/regression.yml": callee}
    with fixed(make_repo, files) as (root, _data):
        for path in files:
            doc = parse_yaml((root / path).read_text())
            job = next(iter(doc["jobs"].values()))
            assert job["permissions"] == {"id-token": "write", "contents": "read"}, path
        commit_all(root)
        assert status(scan(root), "workflow-permissions") is Status.PASS


# --- any workflow -------------------------------------------------------------------------------

_USES = st.sampled_from(
    [
        "actions/checkout@v4",
        "actions/checkout@v4.2.2",
        "'actions/setup-python@v5'",
        '"github/codeql-action/upload-sarif@v3"',
        "acme/unknown@v1",
        "./.github/actions/local",
        "docker://alpine:3",
        "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683",
    ]
)
_UNTRUSTED = st.sampled_from(
    ["github.event.issue.title", "github.head_ref", "github.event.comment.body", "github.sha"]
)
_AROUND = st.sampled_from(
    ["echo {e}", 'echo "x {e} y"', "echo '{e}'", "cat <<EOF\n{e}\nEOF", "echo `{e}`", "# {e}"]
)
_SHELL = st.sampled_from(["", "bash", "pwsh", "python", "sh"])
_PERMISSIONS = st.sampled_from(
    [
        "",
        "permissions: write-all\n",
        "permissions: {contents: write}\n",
        "permissions:\n  issues: write\n",
    ]
)


@st.composite
def _workflows(draw: st.DrawFn) -> str:
    lines = ["on: [push, issues]", draw(_PERMISSIONS).rstrip("\n"), "jobs:"]
    for j in range(draw(st.integers(1, 3))):
        lines += [f"  job{j}:", "    runs-on: ubuntu-latest"]
        lines.append("    steps:")
        for _ in range(draw(st.integers(1, 3))):
            if draw(st.booleans()):
                lines.append(f"      - uses: {draw(_USES)}")
                continue
            script = draw(_AROUND).format(e="${{ " + draw(_UNTRUSTED) + " }}")
            lines.append("      - run: |")
            lines += [f"          {line}" for line in script.splitlines()]
            shell = draw(_SHELL)
            if shell:
                lines.append(f"        shell: {shell}")
    return "\n".join(line for line in lines if line) + "\n"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(_workflows(), st.text(max_size=300)))
def test_any_workflow_is_hardened_exactly_or_left_alone(text: str) -> None:
    files = {
        ".github/workflows/ci.yml": text,
        ".github/actions/local/action.yml": "runs:\n  using: composite\n  steps: []\n",
    }
    snapshot = MemorySnapshot(files)
    policy = default_policy()
    report = scan_snapshot(snapshot, policy, TODAY)
    plan = plan_fixes(snapshot, policy, report, today=TODAY, only=list(CONTROLS))
    for change in plan.changes:
        assert change.before is not None
        assert_only_hardened(change.before, change.after)
