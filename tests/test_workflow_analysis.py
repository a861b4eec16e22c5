"""Workflow analysis on patterns from real repositories (issue 11, tests/corpus/README.md patterns
17 and 18): workflow-level grants and who inherits them, reusable workflows and their caller's
token, expressions parsed rather than matched, and untrusted values followed through `with:` into
`inputs.*`. Each fixture is modelled on how real teams write these workflows (not a copy of one);
benchmarks/compare_zizmor.py runs zizmor on the same fixtures (`--fixtures`)."""

from __future__ import annotations

import json
import time
from datetime import date

import pytest
from conftest import MakeRepo, result, scan
from hypothesis import given, settings
from hypothesis import strategies as st

from secposture.facts.interface import Facts
from secposture.facts.parsing import parse_yaml
from secposture.facts.workflow_expressions import (
    Resolvers,
    config,
    context_paths,
    dataflow_paths,
    tainted_call_inputs,
    untrusted_in,
    walk_steps,
)
from secposture.facts.workflows import Job, Workflow, parse_workflow
from secposture.model import Finding, Outcome, Status
from secposture.policy import default_policy
from secposture.probes.interface import load_probe
from secposture.sources.memory import MemorySnapshot

SHA = "11bd71901bbe5b1630ceea73d27597364c9af683"

# A pipeline whose shared steps live in another repository, with the writes its build job needs
# (push an image, sign it) granted once for the whole workflow: every job inherits them.
PIPELINE = f"""\
name: Pipeline
on:
  push:
    branches: [main]
  workflow_dispatch:
permissions:
  contents: read
  packages: write
  id-token: write
  attestations: write
jobs:
  helm_lint:
    uses: octo-org/shared-actions/.github/workflows/test_helm_lint.yml@v2
  app_version:
    runs-on: ubuntu-latest
    outputs:
      version: ${{{{ steps.version.outputs.version }}}}
    steps:
      - uses: actions/checkout@{SHA} # v4
      - id: version
        run: echo "version=$(date '+%Y-%m-%d').${{{{ github.run_number }}}}" >> "$GITHUB_OUTPUT"
  build:
    needs: [helm_lint, app_version]
    uses: octo-org/shared-actions/.github/workflows/docker_build.yml@v2
    with:
      version: ${{{{ needs.app_version.outputs.version }}}}
"""

# Two scans in one workflow, the grants of one given to both.
SCAN_TWO_JOBS = """\
name: Checkov and Sonar
on:
  workflow_call:
  push:
    branches: [main]
  pull_request:
permissions:
  contents: read
  id-token: write
  actions: read
  security-events: write
jobs:
  checkov-scan:
    uses: octo-org/workflow-checkov-scan/.github/workflows/checkov-scan.yml@1.8.0
  sonarqube-scanner:
    uses: octo-org/workflow-sonarqube-scan/.github/workflows/sonarqube-scan.yml@1.1.3
    secrets: inherit
"""

# CodeQL: one job, calling a shared workflow; the grant is the one that job hands on.
CODEQL_CALL = """\
name: CodeQL
on:
  pull_request:
  schedule:
    - cron: '0 6 * * 1'
permissions:
  security-events: write
  contents: read
jobs:
  analyze:
    uses: octo-org/ci/.github/workflows/_run-codeql-scan.yml@master
    with:
      languages: javascript
"""

# CodeQL in the workflow itself: the analysis uploads results, which needs security-events.
CODEQL_STEPS = f"""\
name: CodeQL
on: [push]
permissions:
  contents: read
  security-events: write
jobs:
  analyze:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@{SHA} # v4
      - uses: github/codeql-action/init@{SHA} # v3
        with:
          languages: python
      - uses: github/codeql-action/analyze@{SHA} # v3
"""

# One job, granted issue writes it never uses: it checks out and runs the tests.
UNUSED_WRITE = f"""\
name: Tests
on: [pull_request]
permissions:
  contents: read
  issues: write
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@{SHA} # v4
      - uses: actions/setup-node@{SHA} # v4
      - run: npm ci && npm test
"""

# A reusable workflow (`on: workflow_call` only) whose jobs set no permissions, and its callers.
CALLEE_TESTS = f"""\
name: Unit tests
on:
  workflow_call:
    inputs:
      node-version:
        type: string
        default: '20'
jobs:
  unit:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@{SHA} # v4
      - run: npm ci && npm test
"""
CALLER_SCOPED = """\
name: PR
on: [pull_request]
permissions:
  contents: read
jobs:
  tests:
    uses: ./.github/workflows/unit-tests.yml
"""
CALLER_UNSCOPED = """\
name: Nightly
on:
  schedule:
    - cron: '0 2 * * *'
jobs:
  tests:
    uses: ./.github/workflows/unit-tests.yml
"""

# Tags made by an earlier step, read back in a privileged workflow: `-github` is part of a step id.
STEP_OUTPUTS = f"""\
name: Tag
on:
  pull_request_target:
    types: [closed]
permissions:
  contents: read
jobs:
  tag:
    if: github.event.pull_request.merged == true
    runs-on: ubuntu-latest
    steps:
      - id: create-github-tag
        uses: octo-org/semver-tag-action@{SHA} # v4
      - run: |
          echo "Tagged ${{{{ steps.create-github-tag.outputs.tag }}}}"
          echo "Ref ${{{{ steps.get-github-ref.outputs.github_ref }}}}"
"""

# Boolean expressions in scripts: none can carry the text they test.
BOOLEANS = """\
name: Triage
on:
  issues:
    types: [opened]
  pull_request_target:
permissions:
  contents: read
jobs:
  triage:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "${{ contains(github.event.pull_request.labels.*.name, 'skip-release') }}"
          echo "${{ github.event.issue.title == 'help' }}"
          echo "${{ github.event.pull_request.title != '' }}"
          echo "${{ startsWith(github.head_ref, 'dependabot/') }}"
          echo "${{ endsWith(github.event.pull_request.head.ref, '-hotfix') }}"
          echo "${{ !github.event.issue.body }}"
          echo "${{ github.event.issue.title != '' && 'titled' || 'untitled' }}"
"""
# `||` returns one of its operands: the title itself when it is not empty.
OR_VALUE = """\
name: Triage
on:
  issues:
    types: [opened]
permissions:
  contents: read
jobs:
  triage:
    runs-on: ubuntu-latest
    steps:
      - run: echo "${{ github.event.issue.title || 'untitled' }}"
"""

# repository_dispatch: an outside service sends the payload.
DISPATCH_PAYLOAD = """\
name: Deploy on dispatch
on:
  repository_dispatch:
    types: [deploy]
permissions:
  contents: read
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - run: ./deploy.sh "${{ github.event.client_payload.version }}"
"""

# A comment-driven workflow whose script lives in a reusable workflow of the repository.
COMMENT_CALLER = """\
name: Commands
on:
  issue_comment:
    types: [created]
permissions:
  contents: read
jobs:
  respond:
    if: startsWith(github.event.comment.body, '/deploy')
    uses: ./.github/workflows/respond.yml
    with:
      comment: ${{ github.event.comment.body }}
      dry-run: ${{ contains(github.event.comment.body, '--dry-run') }}
      number: ${{ github.event.issue.number }}
"""
COMMENT_CALLEE = f"""\
name: Respond
on:
  workflow_call:
    inputs:
      comment:
        type: string
        required: true
      dry-run:
        type: boolean
        default: false
      number:
        type: number
jobs:
  respond:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@{SHA} # v4
      - name: Safe, through the environment
        env:
          COMMENT: ${{{{ inputs.comment }}}}
        run: echo "$COMMENT" | ./scripts/parse-command.sh
      - name: Unsafe, inline
        run: |
          echo "Dry run: ${{{{ inputs.dry-run }}}} on #${{{{ inputs.number }}}}"
          ./scripts/deploy.sh "${{{{ inputs.comment }}}}"
"""

# The same through a composite action of the repository.
COMMENT_ACTION_CALLER = f"""\
name: Commands
on:
  issue_comment:
    types: [created]
permissions:
  contents: read
jobs:
  respond:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@{SHA} # v4
      - uses: ./.github/actions/respond
        with:
          body: ${{{{ github.event.comment.body }}}}
"""
COMMENT_ACTION = """\
name: Respond
inputs:
  body:
    description: the comment
runs:
  using: composite
  steps:
    - shell: bash
      run: echo "${{ inputs.body }}" | ./scripts/parse-command.sh
"""

# A branch name handed to a reusable workflow that only puts it in the environment: safe.
BRANCH_CALLER = """\
name: Pull request
on: [pull_request]
permissions:
  contents: read
jobs:
  tag:
    uses: ./.github/workflows/tag-release.yml
    with:
      branch_name: ${{ github.event.pull_request.head.ref }}
"""
BRANCH_CALLEE = """\
name: Tag release
on:
  workflow_call:
    inputs:
      branch_name:
        type: string
jobs:
  tag:
    runs-on: ubuntu-latest
    steps:
      - env:
          BRANCH_NAME: ${{ inputs.branch_name }}
        run: ./scripts/tag.sh "$BRANCH_NAME"
"""

# pull_request_target handing the pull request's head to a reusable workflow that checks it out.
PRT_CALLER = """\
name: Preview
on: pull_request_target
permissions:
  contents: read
jobs:
  preview:
    uses: ./.github/workflows/build-preview.yml
    with:
      ref: ${{ github.event.pull_request.head.sha }}
    secrets: inherit
"""
PRT_CALLEE = f"""\
name: Build preview
on:
  workflow_call:
    inputs:
      ref:
        type: string
        required: true
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@{SHA} # v4
        with:
          ref: ${{{{ inputs.ref }}}}
      - run: npm ci && npm run build
        env:
          DEPLOY_TOKEN: ${{{{ secrets.PREVIEW_DEPLOY_TOKEN }}}}
"""

# Dangerous-looking, safe: pull_request_target that checks nothing out, or only the base.
PRT_NO_CHECKOUT = f"""\
name: PR title
on:
  pull_request_target:
    types: [opened, edited, synchronize]
permissions:
  pull-requests: read
jobs:
  main:
    runs-on: ubuntu-latest
    steps:
      - uses: amannn/action-semantic-pull-request@{SHA} # v6
        env:
          GITHUB_TOKEN: ${{{{ secrets.GITHUB_TOKEN }}}}
"""
PRT_BASE_CHECKOUT = f"""\
name: Copy PR template
on:
  pull_request_target:
    types: [opened]
permissions:
  contents: read
  pull-requests: write
jobs:
  copy:
    if: github.actor == 'dependabot[bot]'
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@{SHA} # v4
      - uses: actions/github-script@{SHA} # v7
        with:
          script: |
            const body = require('fs').readFileSync('.github/pull_request_template.md', 'utf8')
            await github.rest.issues.createComment({{...context.repo, issue_number: context.issue.number, body}})
"""
# workflow_run that only tells Slack, through a reusable workflow.
RUN_SLACK = """\
name: On failure
on:
  workflow_run:
    workflows: ["Path to live"]
    types: [completed]
    branches: [main]
permissions:
  contents: read
jobs:
  on-failure:
    if: ${{ github.event.workflow_run.conclusion == 'failure' }}
    uses: ./.github/workflows/slack.yml
    with:
      message: "Path to live failed: ${{ github.event.workflow_run.html_url }}"
    secrets: inherit
"""
SLACK = """\
name: Slack
on:
  workflow_call:
    inputs:
      message:
        type: string
jobs:
  post:
    runs-on: ubuntu-latest
    permissions: {}
    steps:
      - env:
          SLACK_WEBHOOK: ${{ secrets.SLACK_WEBHOOK }}
          MESSAGE: ${{ inputs.message }}
        run: |
          jq -n --arg text "$MESSAGE" '{text: $text}' | curl -sS -X POST -d @- "$SLACK_WEBHOOK"
"""
# workflow_dispatch inputs come from people with write access; untrusted values outside scripts.
DISPATCH_INPUTS = f"""\
name: Upgrade tickets
on:
  workflow_dispatch:
    inputs:
      upgrade-version:
        required: true
        type: string
concurrency:
  group: ${{{{ github.workflow }}}}-${{{{ github.event.pull_request.head.label || github.head_ref }}}}
permissions:
  contents: read
jobs:
  tickets:
    if: ${{{{ !contains(github.event.issue.title, 'skip') }}}}
    runs-on: ubuntu-latest
    env:
      TITLE: ${{{{ github.event.pull_request.title }}}}
    steps:
      - uses: octo-org/jira-sync@{SHA} # v1
        with:
          summary: ${{{{ github.event.issue.title }}}}
          description: ${{{{ github.event.issue.body }}}}
      - run: |
          go run main.go -upgrade-version "${{{{ github.event.inputs.upgrade-version }}}}"
          echo "${{{{ inputs.upgrade-version }}}} for ${{{{ github.event.repository.name }}}}"
          echo "$TITLE"
"""

FIXTURES: dict[str, dict[str, str]] = {
    "inherited-write": {".github/workflows/pipeline.yml": PIPELINE},
    "scan-two-jobs": {".github/workflows/checkov-sonar-scan.yaml": SCAN_TWO_JOBS},
    "codeql-call": {".github/workflows/codeql.yml": CODEQL_CALL},
    "codeql-steps": {".github/workflows/codeql.yml": CODEQL_STEPS},
    "unused-write": {".github/workflows/test.yml": UNUSED_WRITE},
    "callee-scoped-caller": {
        ".github/workflows/unit-tests.yml": CALLEE_TESTS,
        ".github/workflows/pr.yml": CALLER_SCOPED,
    },
    "callee-unscoped-caller": {
        ".github/workflows/unit-tests.yml": CALLEE_TESTS,
        ".github/workflows/nightly.yml": CALLER_UNSCOPED,
    },
    "callee-alone": {".github/workflows/unit-tests.yml": CALLEE_TESTS},
    "step-outputs": {".github/workflows/tag.yml": STEP_OUTPUTS},
    "booleans": {".github/workflows/triage.yml": BOOLEANS},
    "or-value": {".github/workflows/triage.yml": OR_VALUE},
    "dispatch-payload": {".github/workflows/deploy.yml": DISPATCH_PAYLOAD},
    "comment-call": {
        ".github/workflows/commands.yml": COMMENT_CALLER,
        ".github/workflows/respond.yml": COMMENT_CALLEE,
    },
    "comment-action": {
        ".github/workflows/commands.yml": COMMENT_ACTION_CALLER,
        ".github/actions/respond/action.yml": COMMENT_ACTION,
    },
    "branch-through-env": {
        ".github/workflows/pull-request.yml": BRANCH_CALLER,
        ".github/workflows/tag-release.yml": BRANCH_CALLEE,
    },
    "prt-call-checkout": {
        ".github/workflows/preview.yml": PRT_CALLER,
        ".github/workflows/build-preview.yml": PRT_CALLEE,
    },
    "prt-no-checkout": {".github/workflows/pr-title.yml": PRT_NO_CHECKOUT},
    "prt-base-checkout": {".github/workflows/copy-pr-template.yml": PRT_BASE_CHECKOUT},
    "workflow-run-slack": {
        ".github/workflows/on-failure.yml": RUN_SLACK,
        ".github/workflows/slack.yml": SLACK,
    },
    "dispatch-inputs": {".github/workflows/upgrade-tickets.yml": DISPATCH_INPUTS},
}


def line(text: str, needle: str) -> int:
    """1-based line of the first line of text that contains needle."""
    return next(i for i, row in enumerate(text.splitlines(), 1) if needle in row)


def findings(make_repo: MakeRepo, fixture: str, control: str) -> tuple[Status, list[Finding]]:
    report = scan(make_repo(None, dict(FIXTURES[fixture])))
    found = result(report, control)
    return found.status, list(found.findings)


def negatives(found: list[Finding]) -> list[Finding]:
    return [f for f in found if f.outcome is Outcome.NEGATIVE]


# --- 1. a workflow-level write grant inherited by its jobs --------------------------------------


@pytest.mark.parametrize(
    ("fixture", "path", "jobs"),
    [
        ("inherited-write", ".github/workflows/pipeline.yml", 3),
        ("scan-two-jobs", ".github/workflows/checkov-sonar-scan.yaml", 2),
    ],
)
def test_workflow_level_write_inherited_by_several_jobs_fails(
    make_repo: MakeRepo, fixture: str, path: str, jobs: int
) -> None:
    status, found = findings(make_repo, fixture, "workflow-permissions")
    assert status is Status.FAIL
    bad = negatives(found)
    assert len(bad) == jobs
    text = FIXTURES[fixture][path]
    for f in bad:
        assert f.location is not None and f.location.line == line(text, "permissions:")
        assert "inherits the workflow-level write to" in f.message
        assert f"as do {jobs - 1} other job(s)" in f.message


def test_single_job_that_hands_the_grant_to_its_called_workflow_passes(make_repo: MakeRepo) -> None:
    status, found = findings(make_repo, "codeql-call", "workflow-permissions")
    assert status is Status.PASS
    assert "octo-org/ci/.github/workflows/_run-codeql-scan.yml@master" in found[0].message


def test_single_job_that_needs_the_grant_passes_with_the_step_as_evidence(
    make_repo: MakeRepo,
) -> None:
    status, found = findings(make_repo, "codeql-steps", "workflow-permissions")
    assert status is Status.PASS
    where = line(CODEQL_STEPS, "codeql-action/analyze")
    assert f"needed: .github/workflows/codeql.yml:{where} github/codeql-action/analyze" in (
        found[0].message
    )


def test_single_job_granted_a_write_no_step_needs_fails(make_repo: MakeRepo) -> None:
    status, found = findings(make_repo, "unused-write", "workflow-permissions")
    assert status is Status.FAIL
    assert "granted write to issues (workflow permissions) but no step needs it" in (
        found[0].message
    )


# --- 2. a reusable workflow's jobs run with their caller's token --------------------------------


def test_reusable_workflow_job_is_judged_by_its_callers_grant(make_repo: MakeRepo) -> None:
    status, found = findings(make_repo, "callee-scoped-caller", "workflow-permissions")
    assert status is Status.PASS
    unit = next(f for f in found if "job `unit`" in f.message)
    assert unit.outcome is Outcome.POSITIVE
    assert "runs with the token its caller grants explicitly (.github/workflows/pr.yml:" in (
        unit.message
    )
    assert "repository default" not in unit.message


def test_reusable_workflow_job_with_a_caller_that_grants_nothing_names_the_caller(
    make_repo: MakeRepo,
) -> None:
    status, found = findings(make_repo, "callee-unscoped-caller", "workflow-permissions")
    assert status is Status.FAIL
    unit = next(f for f in found if "job `unit`" in f.message)
    where = line(CALLER_UNSCOPED, "tests:")
    assert f"and .github/workflows/nightly.yml:{where} job `tests` sets no `permissions`" in (
        unit.message
    )


def test_reusable_workflow_called_only_from_elsewhere_is_judged_there(make_repo: MakeRepo) -> None:
    status, found = findings(make_repo, "callee-alone", "workflow-permissions")
    assert status is Status.NOT_APPLICABLE
    assert "runs with the token of the workflow that calls it" in found[0].message


# --- 3-5. expressions: contexts, booleans, client_payload ---------------------------------------


def test_a_step_id_containing_github_is_not_the_github_context(make_repo: MakeRepo) -> None:
    status, _found = findings(make_repo, "step-outputs", "dangerous-workflow")
    assert status is Status.PASS
    assert context_paths("${{ steps.create-github-tag.outputs.x }}") == [
        ("steps", "create-github-tag", "outputs", "x")
    ]


def test_boolean_expressions_cannot_inject_but_or_returns_a_value(make_repo: MakeRepo) -> None:
    status, _found = findings(make_repo, "booleans", "dangerous-workflow")
    assert status is Status.PASS
    status, found = findings(make_repo, "or-value", "dangerous-workflow")
    assert status is Status.FAIL
    assert "github.event.issue.title is attacker-controlled" in negatives(found)[0].message


def test_repository_dispatch_payload_is_attacker_controlled(make_repo: MakeRepo) -> None:
    status, found = findings(make_repo, "dispatch-payload", "dangerous-workflow")
    assert status is Status.FAIL
    bad = negatives(found)[0]
    assert bad.location is not None
    assert bad.location.line == line(DISPATCH_PAYLOAD, "client_payload")
    assert "github.event.client_payload.version is attacker-controlled" in bad.message


@pytest.mark.parametrize(
    ("expression", "flows"),
    [
        ("${{ contains(github.event.issue.title, 'x') }}", []),
        ("${{ github.event.issue.title == 'x' }}", []),
        ("${{ github.event.issue.title != 'x' }}", []),
        ("${{ startsWith(github.head_ref, 'x') }}", []),
        ("${{ endsWith(github.head_ref, 'x') }}", []),
        ("${{ !github.event.issue.body }}", []),
        ("${{ github.event.issue.title && 'yes' }}", []),  # a falsy title is '' or null
        ("${{ a == b && 'yes' || 'no' }}", []),
        ("${{ 'prefix' && github.head_ref }}", [("github", "head_ref")]),
        ("${{ github.head_ref || 'main' }}", [("github", "head_ref")]),
        ("${{ format('{0}}}', github.head_ref) }}", [("github", "head_ref")]),
        ("${{ toJSON(github.event.issue) }}", [("github", "event", "issue")]),
        ("${{ fromJSON(github.event.issue.body).x }}", [("github", "event", "issue", "body")]),
        ("${{ matrix[github.event.issue.title] }}", [("matrix", "*")]),
        (
            "${{ github.event['pull_request']['title'] }}",
            [("github", "event", "pull_request", "title")],
        ),
        (
            "${{ case(github.head_ref == 'a', 'x', github.event.issue.title) }}",
            [("github", "event", "issue", "title")],
        ),
        ("${{ hashFiles(github.event.issue.title) }}", []),
    ],
)
def test_dataflow_of_expressions(expression: str, flows: list[tuple[str, ...]]) -> None:
    assert dataflow_paths(expression) == flows


def test_unparsable_expression_is_read_conservatively() -> None:
    # An operator GitHub does not have: every context it mentions is taken to flow.
    assert dataflow_paths("${{ github.event.issue.title + 'x' }}") == [
        ("github", "event", "issue", "title")
    ]
    assert untrusted_in("${{ github.event.issue.title ~ 1 }}", config().untrusted_contexts)


def test_attacker_controlled_contexts_are_reviewed() -> None:
    """GitHub's list of untrusted input, Security Lab's additions, and what is left out on
    purpose (data/workflow_security.toml says why)."""
    untrusted = config().untrusted_contexts
    for expected in (
        "github.event.issue.title",
        "github.event.issue.body",
        "github.event.pull_request.title",
        "github.event.pull_request.body",
        "github.event.comment.body",
        "github.event.review.body",
        "github.event.review_comment.body",
        "github.event.pages[0].page_name",
        "github.event.commits[0].message",
        "github.event.commits[0].author.email",
        "github.event.head_commit.author.name",
        "github.event.pull_request.head.ref",
        "github.event.pull_request.head.label",
        "github.event.pull_request.head.repo.default_branch",
        "github.event.discussion.title",
        "github.event.workflow_run.head_branch",
        "github.event.workflow_run.display_title",
        "github.event.workflow_run.head_commit.message",
        "github.event.client_payload.anything.at.all",
        "github.head_ref",
    ):
        assert untrusted_in("${{ " + expected + " }}", untrusted), expected
    for safe in (
        "github.event.inputs.version",
        "inputs.version",
        "github.event.repository.name",
        "github.event.pull_request.number",
        "github.event.pull_request.head.sha",
        "github.event.sender.login",
        "github.event.action",
        "github.event_name",
    ):
        assert not untrusted_in("${{ " + safe + " }}", untrusted), safe


# --- 6. untrusted values through with: -> inputs.* ----------------------------------------------


def test_untrusted_value_through_a_reusable_workflows_inputs_names_the_chain(
    make_repo: MakeRepo,
) -> None:
    status, found = findings(make_repo, "comment-call", "dangerous-workflow")
    assert status is Status.FAIL
    bad = negatives(found)
    assert len(bad) == 1  # not the env: route, not the boolean or number inputs
    callee_line = line(COMMENT_CALLEE, '"${{ inputs.comment }}"')
    caller_line = line(COMMENT_CALLER, "comment: ${{")  # the `with:` entry
    assert bad[0].location is not None
    assert (bad[0].location.path, bad[0].location.line) == (
        ".github/workflows/respond.yml",
        callee_line,
    )
    assert (
        f"github.event.comment.body -> .github/workflows/commands.yml:{caller_line} with: "
        "`comment`" in bad[0].message
    )
    assert "called by .github/workflows/commands.yml" in bad[0].message


def test_untrusted_value_through_a_composite_actions_inputs(make_repo: MakeRepo) -> None:
    status, found = findings(make_repo, "comment-action", "dangerous-workflow")
    assert status is Status.FAIL
    bad = negatives(found)[0]
    assert bad.location is not None and bad.location.path == ".github/actions/respond/action.yml"
    assert "github.event.comment.body -> .github/workflows/commands.yml:" in bad.message


def test_untrusted_value_passed_on_only_through_env_is_safe(make_repo: MakeRepo) -> None:
    status, _found = findings(make_repo, "branch-through-env", "dangerous-workflow")
    assert status is Status.PASS


def test_pull_request_target_checkout_inside_a_called_workflow_fails(make_repo: MakeRepo) -> None:
    status, found = findings(make_repo, "prt-call-checkout", "dangerous-workflow")
    assert status is Status.FAIL
    bad = next(f for f in negatives(found) if f.probe == "workflow-no-untrusted-checkout")
    assert bad.location is not None
    assert bad.location.path == ".github/workflows/build-preview.yml"
    assert bad.location.line == line(PRT_CALLEE, "ref: ${{ inputs.ref }}")
    assert "github.event.pull_request.head.sha -> .github/workflows/preview.yml:" in bad.message


# --- 7. dangerous-looking, safe -----------------------------------------------------------------


@pytest.mark.parametrize(
    "fixture", ["prt-no-checkout", "prt-base-checkout", "workflow-run-slack", "dispatch-inputs"]
)
def test_dangerous_looking_workflows_that_are_safe(make_repo: MakeRepo, fixture: str) -> None:
    status, found = findings(make_repo, fixture, "dangerous-workflow")
    assert status is Status.PASS, [f.message for f in negatives(found)]


# --- the function a resolver of other repositories feeds ----------------------------------------


def _workflow(path: str, text: str) -> Workflow:
    parsed = parse_workflow(path, parse_yaml(text))
    assert parsed is not None
    return parsed


def test_a_callee_from_another_repository_is_followed_when_a_resolver_supplies_it() -> None:
    """workflow_run -> a shared workflow in another repository that checks out the triggering
    run's commit: found once the callee is read (the release pattern of corpus pattern 17)."""
    caller = _workflow(
        ".github/workflows/release.yml",
        "on:\n  workflow_run:\n    workflows: [CI]\n    types: [completed]\n"
        "permissions:\n  contents: read\njobs:\n  release:\n"
        "    uses: octo-org/shared/.github/workflows/release.yml@main\n"
        "    with:\n      title: ${{ github.event.workflow_run.display_title }}\n",
    )
    callee = _workflow(
        "octo-org/shared/.github/workflows/release.yml",
        "on:\n  workflow_call:\n    inputs:\n      title:\n        type: string\njobs:\n"
        "  release:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v4\n        with:\n"
        "          ref: ${{ github.event.workflow_run.head_commit.id }}\n"
        "      - run: echo ${{ inputs.title }}\n",
    )
    call: Job = caller.jobs[0]
    tainted = tainted_call_inputs(call, callee, config().untrusted_contexts)
    assert tainted["title"].described() == (
        "github.event.workflow_run.display_title -> .github/workflows/release.yml:8 with: `title`"
    )
    resolve = Resolvers(workflow=lambda job: callee if job is call else None, action=lambda _: None)
    steps = list(walk_steps(caller, resolve, config().untrusted_refs))
    assert [s.step.path for s in steps] == [callee.path, callee.path]
    assert all(s.called for s in steps)
    scripts = list(walk_steps(caller, resolve, config().untrusted_contexts))
    assert scripts[1].inputs["title"].context == "github.event.workflow_run.display_title"


def test_cycles_and_depth_of_calls_end() -> None:
    text = (
        "on:\n  workflow_call:\n  push:\njobs:\n  again:\n    uses: ./.github/workflows/loop.yml\n"
    )
    files: dict[str, str | bytes] = {".github/workflows/loop.yml": text}
    facts = Facts(MemorySnapshot(files), default_policy(), date(2026, 12, 7))
    for probe in ("workflow-no-script-injection", "workflow-no-untrusted-checkout"):
        assert load_probe(probe).run(facts)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab.()[]'!=&|<>,* -_gihtubenv0x")), max_size=120))
def test_expression_parser_never_raises_and_flows_are_read(body: str) -> None:
    expression = "${{ " + body + " }}"
    flows = dataflow_paths(expression)
    reads = context_paths(expression)
    assert set(flows) <= set(reads)


def test_deep_nesting_is_refused_not_recursed() -> None:
    deep = "${{ " + "(" * 5000 + "github.head_ref" + ")" * 5000 + " }}"
    assert dataflow_paths(deep) == [("github", "head_ref")]  # read conservatively
    negations = "${{ " + "!" * 5000 + "github.head_ref }}"
    assert dataflow_paths(negations) == [("github", "head_ref")]
    chain = "${{ " + " || ".join(["github.head_ref"] * 2000) + " }}"
    assert dataflow_paths(chain) == [("github", "head_ref")] * 2000


def test_calls_that_fan_out_are_cut_and_said_not_followed_forever() -> None:
    """Three levels of 60 jobs each calling the next workflow: 216,000 jobs if followed."""
    files: dict[str, str | bytes] = {}
    for level in range(3):
        callee = f"./.github/workflows/level{level + 1}.yml"
        jobs = "".join(f"  j{i}:\n    uses: {callee}\n" for i in range(60))
        trigger = "pull_request_target" if level == 0 else "workflow_call"
        files[f".github/workflows/level{level}.yml"] = (
            f"on: {trigger}\npermissions: {{}}\njobs:\n{jobs}"
        )
    files[".github/workflows/level3.yml"] = (
        "on: workflow_call\njobs:\n  leaf:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo ${{ github.event.pull_request.title }}\n"
    )
    facts = Facts(MemorySnapshot(files), default_policy(), date(2026, 12, 7))
    started = time.perf_counter()
    injection = load_probe("workflow-no-script-injection").run(facts)
    checkout = load_probe("workflow-no-untrusted-checkout").run(facts)
    least = load_probe("workflow-jobs-least-privilege").run(facts)
    assert time.perf_counter() - started < 10
    cut = [f for f in injection + checkout if f.outcome is Outcome.UNKNOWN]
    assert cut and "more than 20,000 jobs and steps" in cut[0].message
    assert any(f.outcome is Outcome.NEGATIVE for f in injection)  # the leaf's own injection
    assert len(least) == 3 * 60 + 1


_values = st.sampled_from(
    [
        "${{ github.event.issue.title }}",
        "${{ inputs.a }}",
        "${{ env.A }}",
        "${{ github.event.pull_request.head.sha }}",
        "${{ contains(github.head_ref, 'x') }}",
        "plain",
        "${{ inputs.a || github.head_ref }}",
    ]
)
_names = st.sampled_from(["a", "b", "A"])
_local = st.sampled_from(["./.github/workflows/w0.yml", "./.github/workflows/w1.yml", "./a"])


@st.composite
def _call_graph(draw: st.DrawFn) -> dict[str, str | bytes]:
    """Workflows that call each other and a composite action, passing values along."""
    files: dict[str, str | bytes] = {}
    for index in range(2):
        jobs: dict[str, object] = {}
        for j in range(draw(st.integers(0, 3))):
            env = draw(st.dictionaries(_names, _values, max_size=2))
            with_ = draw(st.dictionaries(_names, _values, max_size=2))
            if draw(st.booleans()):
                jobs[f"j{j}"] = {"uses": draw(_local), "with": with_, "env": env}
            else:
                steps = [
                    {"uses": draw(_local), "with": with_},
                    {"run": f"echo {draw(_values)}", "env": env},
                    {"uses": "actions/checkout@v4", "with": {"ref": draw(_values)}},
                ]
                jobs[f"j{j}"] = {"steps": steps, "permissions": {"contents": "write"}}
        workflow = {
            "on": {
                draw(st.sampled_from(["pull_request_target", "push"])): None,
                "workflow_call": {
                    "inputs": {"a": {"type": draw(st.sampled_from(["string", "boolean"]))}}
                },
            },
            "permissions": draw(st.sampled_from([None, {"issues": "write"}, "write-all"])),
            "env": draw(st.dictionaries(_names, _values, max_size=2)),
            "jobs": jobs,
        }
        files[f".github/workflows/w{index}.yml"] = json.dumps(workflow)
    action_steps = [{"run": f"echo {draw(_values)}"}, {"uses": "./a", "with": {"a": draw(_values)}}]
    files["a/action.yml"] = json.dumps({"runs": {"using": "composite", "steps": action_steps}})
    return files


@settings(max_examples=60, deadline=None)
@given(_call_graph())
def test_workflow_probes_follow_any_call_graph_without_raising(
    files: dict[str, str | bytes],
) -> None:
    facts = Facts(MemorySnapshot(files), default_policy(), date(2026, 12, 7))
    for probe in (
        "workflow-jobs-least-privilege",
        "workflow-no-script-injection",
        "workflow-no-untrusted-checkout",
    ):
        found = load_probe(probe).run(facts)
        assert found, probe
        assert all("internal error" not in f.message for f in found)
