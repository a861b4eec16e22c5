"""Workflow security: workflow-permissions, actions-pinned and dangerous-workflow, end to end on real
git repositories, plus hostile workflow files and property tests of the expression scanner."""

from __future__ import annotations

import json
import time
from datetime import date

import pytest
from conftest import MakeRepo, result, scan
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secposture.facts.interface import Facts
from secposture.facts.workflow_expressions import (
    config,
    context_paths,
    expressions,
    untrusted_in,
)
from secposture.model import Outcome, Status
from secposture.policy import default_policy
from secposture.probes.interface import load_probe
from secposture.sources.memory import MemorySnapshot

WORKFLOW_PROBES = (
    "workflow-jobs-least-privilege",
    "actions-pinned-by-sha",
    "workflow-no-untrusted-checkout",
    "workflow-no-script-injection",
)
SHA = "11bd71901bbe5b1630ceea73d27597364c9af683"


def run_probes(files: dict[str, str | bytes]) -> dict[str, list[Outcome]]:
    facts = Facts(MemorySnapshot(files), default_policy(), date(2026, 11, 29))
    return {p: [f.outcome for f in load_probe(p).run(facts)] for p in WORKFLOW_PROBES}


def messages(report_result: object) -> str:
    return "\n".join(f"{f.location} {f.message}" for f in report_result.findings)  # type: ignore[attr-defined]


# --- end to end: every status ------------------------------------------------------------------


def test_hardened_workflows_pass(make_repo: MakeRepo) -> None:
    report = scan(make_repo("workflows-hardened"))
    perms = result(report, "workflow-permissions")
    assert perms.status is Status.PASS
    text = messages(perms)
    # Explicit but broad grants pass, and the message names the write scopes.
    assert (
        "job `publish` in .github/workflows/release.yml: explicit permissions, with write to contents, id-token"
        in text
    )
    assert "job `security`" in text  # a reusable-workflow call job counts
    assert result(report, "actions-pinned").status is Status.PASS
    pinned = messages(result(report, "actions-pinned"))
    assert ".github/actions/setup-env/action.yml:10" in pinned  # composite action steps are checked
    assert "docker://hadolint/hadolint@sha256:" in pinned
    assert "./.github/actions/setup-env" not in pinned  # local actions are skipped
    danger = result(report, "dangerous-workflow")
    assert danger.status is Status.PASS
    # triage.yml passes issue title and body through env: that must not be flagged.
    assert "triage.yml expands no attacker-controlled values" in messages(danger)
    assert (
        "labeler.yml runs on pull_request_target but checks out no pull-request code"
        in messages(danger)
    )


def test_risky_workflows_fail_with_file_and_line(make_repo: MakeRepo) -> None:
    report = scan(make_repo("workflows-risky"))
    perms = result(report, "workflow-permissions")
    assert perms.status is Status.FAIL
    text = messages(perms)
    assert (
        ".github/workflows/ci.yml:5 job `build` in .github/workflows/ci.yml sets no `permissions`"
        in text
    )
    assert (
        "job `respond` in .github/workflows/comment-commands.yml runs with `write-all` (job permissions)"
        in text
    )
    assert (
        "job `preview` in .github/workflows/preview.yml runs with `write-all` (workflow permissions)"
        in text
    )
    assert perms.remediation is not None

    pinned = result(report, "actions-pinned")
    assert pinned.status is Status.FAIL
    text = messages(pinned)
    # The place is said once: by the location, not again in the message.
    assert (
        ".github/workflows/ci.yml:8 `actions/checkout@v4` is not pinned to a commit SHA: "
        "`@v4` is a tag or branch" in text
    )
    assert ".github/workflows/ci.yml:8 .github/workflows/ci.yml:8" not in text
    assert "`actions/checkout@main` is not pinned to a commit SHA: `@main` is a tag" in text
    assert (
        ".github/actions/node-build/action.yml:6" in text
    )  # actions/cache@v4 in the composite action

    danger = result(report, "dangerous-workflow")
    assert danger.status is Status.FAIL
    text = messages(danger)
    assert (
        ".github/workflows/preview.yml:16 " in text
        and "ref: ${{ github.event.pull_request.head.sha }}" in text
    )
    assert ".github/workflows/post-ci.yml:17 " in text and 'git fetch origin "$HEAD_SHA"' in text
    # The exact line inside the run block, not the step's first line.
    assert ".github/workflows/preview.yml:22 " in text and "github.event.pull_request.title" in text
    assert ".github/workflows/preview.yml:23 " in text and "github.head_ref" in text
    assert (
        ".github/workflows/comment-commands.yml:16 " in text
        and "actions/github-script `script`" in text
    )
    assert (
        ".github/actions/node-build/action.yml:13 " in text
        and "github.event.head_commit.message" in text
    )


def test_mixed_workflows_are_partial(make_repo: MakeRepo) -> None:
    extra = """\
name: Docs
on: push
jobs:
  docs:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: make docs
"""
    report = scan(make_repo("workflows-hardened", {".github/workflows/docs.yml": extra}))
    assert result(report, "workflow-permissions").status is Status.PARTIAL
    assert "job `docs` in .github/workflows/docs.yml sets no `permissions`" in messages(
        result(report, "workflow-permissions")
    )
    assert result(report, "actions-pinned").status is Status.PARTIAL
    assert ".github/workflows/docs.yml:7" in messages(result(report, "actions-pinned"))


def test_no_workflows_is_not_applicable(make_repo: MakeRepo) -> None:
    report = scan(make_repo(None, {"README.md": "# no CI here\n"}))
    for control in ("workflow-permissions", "actions-pinned", "dangerous-workflow"):
        assert result(report, control).status is Status.NOT_APPLICABLE, control


def test_only_local_actions_is_not_applicable_for_pinning(make_repo: MakeRepo) -> None:
    workflow = """\
on: push
permissions:
  contents: read
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: ./.github/actions/setup
      - run: make test
"""
    action = "runs:\n  using: composite\n  steps:\n    - run: echo hi\n      shell: bash\n"
    repo = make_repo(
        None, {".github/workflows/ci.yml": workflow, ".github/actions/setup/action.yml": action}
    )
    report = scan(repo)
    assert result(report, "actions-pinned").status is Status.NOT_APPLICABLE
    assert result(report, "workflow-permissions").status is Status.PASS


# --- workflow-permissions details ---------------------------------------------------------------


def test_workflow_level_write_all_is_reported_even_when_jobs_override(make_repo: MakeRepo) -> None:
    workflow = """\
on: push
permissions: write-all
jobs:
  build:
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - run: make
"""
    report = scan(make_repo(None, {".github/workflows/ci.yml": workflow}))
    perms = result(report, "workflow-permissions")
    assert perms.status is Status.PARTIAL
    text = messages(perms)
    assert (
        ".github/workflows/ci.yml:2 .github/workflows/ci.yml sets `permissions: write-all`" in text
    )
    assert (
        "job `build` in .github/workflows/ci.yml: explicit read-only permissions (job permissions)"
        in text
    )


def test_read_all_empty_and_invalid_permissions(make_repo: MakeRepo) -> None:
    workflow = """\
on: push
jobs:
  a:
    permissions: read-all
    runs-on: ubuntu-latest
    steps: [{run: a}]
  b:
    permissions: {}
    runs-on: ubuntu-latest
    steps: [{run: b}]
  c:
    permissions: [contents]
    runs-on: ubuntu-latest
    steps: [{run: c}]
  call:
    uses: octo/wf/.github/workflows/x.yml@v1
"""
    report = scan(make_repo(None, {".github/workflows/ci.yml": workflow}))
    text = messages(result(report, "workflow-permissions"))
    assert "job `a` in .github/workflows/ci.yml: read-all" in text
    assert "job `b` in .github/workflows/ci.yml: no permissions (`{}`)" in text
    assert "job `c` in .github/workflows/ci.yml has invalid permissions" in text
    assert (
        ".github/workflows/ci.yml:15 job `call` in .github/workflows/ci.yml sets no `permissions`"
        in text
    )
    pinned = messages(result(report, "actions-pinned"))
    assert (
        ".github/workflows/ci.yml:16" in pinned and "octo/wf/.github/workflows/x.yml@v1" in pinned
    )


# --- actions-pinned details ---------------------------------------------------------------------


def test_pinning_forms(make_repo: MakeRepo) -> None:
    workflow = f"""\
on: push
permissions: read-all
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@{SHA}
      - uses: actions/checkout@{SHA[:7]}
      - uses: github/codeql-action/init@{SHA}
      - uses: docker://alpine:3.20
      - uses: docker://alpine@sha256:{"a" * 64}
      - uses: octo/no-ref
      - uses: ./local
"""
    report = scan(make_repo(None, {".github/workflows/ci.yml": workflow}))
    findings = {f.location.line: f for f in result(report, "actions-pinned").findings}  # type: ignore[union-attr]
    assert findings[7].outcome is Outcome.POSITIVE
    assert findings[8].outcome is Outcome.NEGATIVE  # a short SHA can collide
    assert findings[9].outcome is Outcome.POSITIVE  # owner/repo/path@sha
    assert findings[10].outcome is Outcome.NEGATIVE
    assert "not pinned by its `@sha256:` digest" in findings[10].message
    assert findings[11].outcome is Outcome.POSITIVE
    assert findings[12].outcome is Outcome.NEGATIVE and "no `@ref`" in findings[12].message
    assert 13 not in findings
    assert result(report, "actions-pinned").status is Status.PARTIAL


# --- dangerous-workflow details -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("trigger", "step", "line"),
    [
        ("pull_request_target", "run: gh pr checkout ${{ github.event.pull_request.number }}", 7),
        (
            "pull_request_target",
            "run: git fetch origin refs/pull/${{ github.event.number }}/merge && git checkout FETCH_HEAD",
            7,
        ),
        (
            "workflow_run",
            "uses: actions/checkout@v4\n        with:\n          ref: ${{ github.event.workflow_run.head_branch }}",
            9,  # the `ref:` line
        ),
        (
            "pull_request_target",
            "uses: actions/checkout@v4\n        with:\n          ref: refs/pull/${{ github.event.pull_request.number }}/head",
            9,
        ),
        ("pull_request_target", "run: git checkout ${{ github.head_ref }}", 7),
        (
            "pull_request_target",
            "uses: actions/checkout@v4\n        with:\n"
            "          repository: ${{ github.event.pull_request.head.repo.full_name }}",
            9,  # the fork's default branch is untrusted code too
        ),
    ],
)
def test_untrusted_checkout_variants(
    make_repo: MakeRepo, trigger: str, step: str, line: int
) -> None:
    workflow = f"on: {trigger}\npermissions: read-all\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n      - {step}\n"
    report = scan(make_repo(None, {".github/workflows/w.yml": workflow}))
    danger = result(report, "dangerous-workflow")
    assert danger.status is Status.FAIL, messages(danger)
    bad = [f for f in danger.findings if f.probe == "workflow-no-untrusted-checkout"]
    assert bad[0].outcome is Outcome.NEGATIVE
    assert bad[0].location is not None and bad[0].location.line == line
    assert f"runs on {trigger}" in bad[0].message


def test_pull_request_checkout_of_head_is_not_privileged(make_repo: MakeRepo) -> None:
    workflow = """\
on: pull_request
permissions: read-all
jobs:
  j:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
"""
    report = scan(make_repo(None, {".github/workflows/w.yml": workflow}))
    assert result(report, "dangerous-workflow").status is Status.PASS


def test_env_indirection_is_safe_but_inline_env_of_untrusted_value_is_not(
    make_repo: MakeRepo,
) -> None:
    workflow = """\
on: issues
permissions: read-all
jobs:
  j:
    runs-on: ubuntu-latest
    steps:
      - env:
          TITLE: ${{ github.event.issue.title }}
        run: echo "$TITLE"
      - env:
          TITLE: ${{ github.event.issue.title }}
        run: |
          echo start
          echo "${{ env.TITLE }}"
"""
    report = scan(make_repo(None, {".github/workflows/w.yml": workflow}))
    danger = result(report, "dangerous-workflow")
    assert danger.status is Status.FAIL
    bad = [f for f in danger.findings if f.outcome is Outcome.NEGATIVE]
    assert len(bad) == 1
    assert bad[0].location is not None and bad[0].location.line == 14
    assert "github.event.issue.title -> .github/workflows/w.yml:11 env: `TITLE`" in bad[0].message


def test_safe_expressions_in_run_pass(make_repo: MakeRepo) -> None:
    workflow = """\
on: pull_request_target
permissions: read-all
jobs:
  j:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "${{ github.event.pull_request.number }} ${{ github.event.pull_request.head.sha }}"
          echo "${{ github.repository }} ${{ secrets.TOKEN != '' }} ${{ github.event_name }}"
"""
    report = scan(make_repo(None, {".github/workflows/w.yml": workflow}))
    assert result(report, "dangerous-workflow").status is Status.PASS


def test_to_json_of_an_untrusted_object_is_flagged() -> None:
    cfg = config()
    assert untrusted_in("echo '${{ toJSON(github.event.issue) }}'", cfg.untrusted_contexts)
    assert untrusted_in("${{ github.event.commits[0].message }}", cfg.untrusted_contexts)
    assert untrusted_in("${{ github.event['pull_request']['title'] }}", cfg.untrusted_contexts)
    assert untrusted_in("${{ GITHUB.EVENT.ISSUE.BODY }}", cfg.untrusted_contexts)
    assert not untrusted_in("${{ github.event.issue.number }}", cfg.untrusted_contexts)
    assert not untrusted_in("${{ steps.x.outputs.github }}", cfg.untrusted_contexts)


# --- hostile input ------------------------------------------------------------------------------


HOSTILE_WORKFLOWS: dict[str, str | bytes] = {
    ".github/workflows/bad-yaml.yml": "on: push\njobs:\n  a: [unclosed\n",
    ".github/workflows/list.yml": "- just\n- a list\n",
    ".github/workflows/scalar.yml": "hello\n",
    ".github/workflows/empty.yml": "",
    ".github/workflows/jobs-list.yml": "on: push\njobs: [a, b]\n",
    ".github/workflows/steps-map.yml": "on: push\njobs:\n  a:\n    steps: {uses: x}\n",
    ".github/workflows/odd-values.yml": (
        "on: {pull_request_target: [1, 2]}\npermissions: 7\njobs:\n  a:\n    permissions: [write-all]\n"
        "    uses: [1]\n    steps:\n      - uses: {a: b}\n        with: [1, 2]\n        env: x\n"
        "        run: [echo]\n      - 42\n      - null\n"
    ),
    ".github/workflows/dupes.yml": "on: push\non: pull_request\njobs: {}\n",
    ".github/workflows/tags.yml": "on: !!python/object:os.system echo\njobs: {}\n",
    ".github/workflows/anchors.yml": "x: &a [*a]\n",
    ".github/workflows/binary.yml": b"\x00\x01\x02on: push",
    ".github/workflows/latin1.yml": "on: push\nname: caf\xe9\n".encode("latin-1"),
    ".github/workflows/unclosed-expr.yml": "on: push\njobs:\n  a:\n    steps:\n      - run: echo ${{ github.event.issue.title\n",
    ".github/actions/x/action.yml": "runs: [1]\n",
}


def test_hostile_workflow_files_never_crash(make_repo: MakeRepo) -> None:
    report = scan(make_repo(None, HOSTILE_WORKFLOWS))
    problems = {p.path: p.message for p in report.problems}
    assert "valid YAML" in problems[".github/workflows/bad-yaml.yml"]
    assert "binary" in problems[".github/workflows/binary.yml"]
    assert "UTF-8" in problems[".github/workflows/latin1.yml"]
    assert "not a workflow" in problems[".github/workflows/list.yml"]
    for control in ("workflow-permissions", "actions-pinned", "dangerous-workflow"):
        assert result(report, control).status in set(Status), control


def test_huge_workflow_is_a_problem_not_a_crash(make_repo: MakeRepo) -> None:
    body = "on: push\njobs:\n  a:\n    steps:\n      - run: |\n" + "          echo x\n" * 2000
    report = scan(make_repo(None, {".github/workflows/big.yml": body}), max_file_bytes=4096)
    assert any(
        p.path == ".github/workflows/big.yml" and "limit" in p.message for p in report.problems
    )
    # Not read is not "no workflow": what it runs is unknown (docs/adr/0010-parse-budgets.md).
    permissions = result(report, "workflow-permissions")
    assert permissions.status is Status.UNKNOWN
    assert ".github/workflows/big.yml cannot be analysed" in permissions.summary


def test_expression_scanning_is_linear() -> None:
    hostile = "${{ " * 200_000 + "github.event.issue.title"
    start = time.perf_counter()
    assert list(expressions(hostile)) == []
    assert untrusted_in("${{ github" + ".a" * 100_000 + " }}", config().untrusted_contexts) == []
    assert context_paths("github" + "['x'" * 50_000) == [("github",)]
    assert time.perf_counter() - start < 5


# --- properties ---------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(st.text())
def test_expression_helpers_never_raise(text: str) -> None:
    for expr in expressions(text):
        assert text[expr.start : expr.start + len(expr.text)] == expr.text
        assert expr.text.startswith("${{") and expr.text.endswith("}}")
        for path in context_paths(expr.text):
            assert path and path[0]
    untrusted_in(text, config().untrusted_contexts)


_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=30)
    | st.sampled_from(
        [
            "write-all",
            "read-all",
            "pull_request_target",
            "workflow_run",
            "actions/checkout@v4",
            "docker://x",
            "./local",
            "${{ github.event.issue.title }}",
            "${{ github.head_ref }}",
            "git checkout ${{ github.event.pull_request.head.sha }}",
            "gh pr checkout 1",
        ]
    )
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
_steps = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "uses": _values,
            "run": _values,
            "with": _values,
            "env": _values,
            "name": _values,
        },
    )
    | _values,
    max_size=4,
)
_jobs = st.dictionaries(
    st.text(min_size=1, max_size=8),
    st.fixed_dictionaries(
        {}, optional={"permissions": _values, "uses": _values, "steps": _steps, "with": _values}
    )
    | _values,
    max_size=3,
)
_workflow = (
    st.fixed_dictionaries({}, optional={"on": _values, "permissions": _values, "jobs": _jobs})
    | _values
)


@settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_workflow, _steps)
def test_workflow_probes_never_raise_on_arbitrary_structures(
    workflow: object, action_steps: object
) -> None:
    files: dict[str, str | bytes] = {
        ".github/workflows/w.yml": json.dumps(workflow),  # JSON is YAML: any structure, exactly
        ".github/actions/a/action.yml": json.dumps(
            {"runs": {"using": "composite", "steps": action_steps}}
        ),
    }
    outcomes = run_probes(files)
    for probe, found in outcomes.items():
        assert found, probe


@settings(max_examples=75, deadline=None)
@given(st.text(max_size=2000))
def test_workflow_probes_never_raise_on_arbitrary_text(text: str) -> None:
    run_probes({".github/workflows/w.yml": text, ".github/actions/a/action.yml": text})


# A composite action in a folder named like build output is still the repository's own action.


def test_composite_action_in_a_build_folder_is_checked(make_repo: MakeRepo) -> None:
    workflow = "on: push\npermissions: read-all\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: ./.github/actions/build\n"
    action = "runs:\n  using: composite\n  steps:\n    - uses: actions/cache@v4\n"
    report = scan(
        make_repo(
            None, {".github/workflows/w.yml": workflow, ".github/actions/build/action.yml": action}
        )
    )
    assert result(report, "actions-pinned").status is Status.FAIL
