"""Workflow hardening with GitHub (issue 12, ADR 0016), against the fake GitHub server: with a
token, `fix` pins each tag to what GitHub says it names now, all in one GraphQL query checked
against GitHub's schema; `fix --org --pr` carries the workflow edits when the credentials may
push workflow files, and leaves them out, saying why, when they may not (a classic token
without the `workflow` scope, an App without `workflows: write`), as GitHub would refuse them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from conftest import TODAY, MakeRepo, scan
from fake_github import FakeGitHub, FakeOrg, FakeRepo, new_app_key
from fake_github.git_data import branch_head, find_commit
from fake_github.model import blobs_of
from test_fix_support import commit_all, fix_json, status

from secposture.fix.estate import fix_org
from secposture.fix.pull_request import BRANCH
from secposture.model import Status
from secposture.policy import default_policy
from secposture.sources.github.auth import (
    AppCredentials,
    InstallationTarget,
    PrivateKey,
    Secret,
    TokenCredentials,
)
from secposture.sources.github.fetch import RepoFilter
from secposture.sources.github.transport import GitHubClient

TOKEN = "tok-pins-41c9"  # nosec B105 - a token of the fake server only
CLASSIC = "tok-classic-repo-only-77aa"  # nosec B105
CLASSIC_WORKFLOW = "tok-classic-workflow-08bb"  # nosec B105
ACTION = "name: a\nruns:\n  using: node20\n  main: index.js\n"
SONAR = "name: s\nruns:\n  using: composite\n  steps: []\n"
RISKY = """\
name: CI
on:
  issues:
jobs:
  greet:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo "${{ github.event.issue.title }}"
"""
APP_ID = 4711
ONLY = [
    "--only",
    "actions-pinned",
    "--only",
    "workflow-permissions",
    "--only",
    "dangerous-workflow",
]


def action_repos() -> list[FakeOrg]:
    checkout = FakeRepo(
        "actions",
        "checkout",
        files={"action.yml": ACTION},
        tags={"v4": {"action.yml": ACTION + "# v4\n"}, "v4.2.2": {"action.yml": ACTION}},
        annotated_tags={"v4"},
    )
    sonar = FakeRepo(
        "UKHomeOffice",
        "core-cloud-workflow-sonarqube-scan",
        files={"action.yml": SONAR},
        tags={"1.1.7": {"action.yml": SONAR + "# 1.1.7\n"}},
    )
    return [FakeOrg("actions", [checkout]), FakeOrg("UKHomeOffice", [sonar])]


@contextmanager
def github_env(monkeypatch: pytest.MonkeyPatch, orgs: list[FakeOrg]) -> Iterator[FakeGitHub]:
    gh = FakeGitHub(orgs=orgs, tokens={TOKEN: "read"})
    with gh.serve() as base_url:
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        monkeypatch.setenv("GITHUB_API_URL", base_url)
        yield gh


def test_with_a_token_tags_are_pinned_to_what_github_says_in_one_query(
    make_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    orgs = action_repos()
    root = make_repo("workflow-corpus/core-cloud-checkov-sonar")
    with github_env(monkeypatch, orgs) as gh:
        data = fix_json(root, "--only", "actions-pinned")
        graphql = [r for r in gh.log if r.kind == "graphql"]
        assert gh.unvalidated == []
    # One query for the actions' files the scan follows (ADR 0014), one for every tag.
    assert len(graphql) == 2
    text = (root / ".github/workflows/checkov-sonar-scan.yaml").read_text()
    checkout = orgs[0].repos[0].tag_snapshot("v4")
    sonar = orgs[1].repos[0].tag_snapshot("1.1.7")
    assert checkout is not None and sonar is not None
    # v4 is an annotated tag: the pin is the commit it names, not the tag object.
    assert f"actions/checkout@{checkout.commit_oid} # v4\n" in text
    assert f"core-cloud-workflow-sonarqube-scan@{sonar.commit_oid} # 1.1.7\n" in text
    # Repositories the fake does not hold are left, with GitHub's reason.
    assert "bridgecrewio/checkov-action@v12" in text
    assert "not found on GitHub" in " ".join(data["notes"])
    assert "pinned offline" not in " ".join(data["notes"])


def test_offline_never_asks_github(make_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_repo("workflow-corpus/composite-action")
    with github_env(monkeypatch, action_repos()) as gh:
        fix_json(root, "--offline", "--only", "actions-pinned")
        assert [r for r in gh.log if r.kind == "graphql"] == []
    commit_all(root)


# --- the estate ----------------------------------------------------------------------------------


def estate(token_scopes: dict[str, str] | None = None, **kwargs: object) -> FakeGitHub:
    service = FakeRepo(
        "acme",
        "service",
        files={"README.md": b"# app\n", ".github/workflows/ci.yml": RISKY.encode()},
    )
    tokens = {TOKEN: "admin", CLASSIC: "admin", CLASSIC_WORKFLOW: "admin"}
    scopes = token_scopes or {CLASSIC: "repo, read:org", CLASSIC_WORKFLOW: "repo, workflow"}
    return FakeGitHub(
        orgs=[FakeOrg("acme", [service]), *action_repos()],
        tokens=tokens,
        token_scopes=scopes,
        **kwargs,  # type: ignore[arg-type]
    )


def branch_files(repo: FakeRepo) -> dict[str, bytes]:
    head = branch_head(repo, BRANCH)
    assert head is not None
    commit = find_commit(repo, head)
    assert commit is not None
    return {path: blob.data for path, blob in blobs_of(commit.tree).items()}


def org_fix(base_url: str, credentials: object, *, open_prs: bool) -> list[object]:
    with GitHubClient(base_url, credentials, write_interval=0.0) as api:  # type: ignore[arg-type]
        return list(
            fix_org(
                api,
                "acme",
                RepoFilter(),
                default_policy(),
                open_prs=open_prs,
                today=TODAY,
                only=["actions-pinned", "workflow-permissions", "dangerous-workflow"],
            )
        )


def test_org_pr_carries_the_workflow_edits_when_the_token_has_the_workflow_scope() -> None:
    gh = estate()
    with gh.serve() as base_url:
        (fix,) = org_fix(base_url, TokenCredentials(Secret(CLASSIC_WORKFLOW), "t"), open_prs=True)
    assert gh.unvalidated == []
    assert fix.action == "opened", fix.detail  # type: ignore[attr-defined]
    files = branch_files(gh.orgs[0].repos[0])
    edited = files[".github/workflows/ci.yml"].decode()
    assert re.search(r"actions/checkout@[0-9a-f]{40} # v4\n", edited)
    assert 'echo "${ISSUE_TITLE}"' in edited and "permissions:\n  contents: read\n" in edited


def test_org_pr_leaves_workflow_files_out_without_the_workflow_scope_and_says_why() -> None:
    gh = estate()
    service = gh.orgs[0].repos[0]
    service.files["SECURITY.md"] = b""  # nothing else to fix: the workflow edits are all
    with gh.serve() as base_url:
        (dry,) = org_fix(base_url, TokenCredentials(Secret(CLASSIC), "t"), open_prs=False)
        (fix,) = org_fix(base_url, TokenCredentials(Secret(CLASSIC), "t"), open_prs=True)
    assert gh.unvalidated == []
    for outcome in (dry, fix):
        assert outcome.action == "failed"  # type: ignore[attr-defined]
        assert "lacks the `workflow` scope" in outcome.detail  # type: ignore[attr-defined]
        assert ".github/workflows/ci.yml" in outcome.detail  # type: ignore[attr-defined]
    assert not service.pulls and not service.branches


def test_the_other_files_still_get_their_pull_request_and_the_note_says_why() -> None:
    gh = estate()
    service = gh.orgs[0].repos[0]
    with (
        gh.serve() as base_url,
        GitHubClient(base_url, TokenCredentials(Secret(CLASSIC), "t"), write_interval=0.0) as api,
    ):
        (fix,) = fix_org(api, "acme", RepoFilter(), default_policy(), open_prs=True, today=TODAY)
    assert gh.unvalidated == []
    assert fix.action == "opened", fix.detail
    assert "left out" in fix.detail and "`workflow` scope" in fix.detail
    files = branch_files(service)
    assert files[".github/workflows/ci.yml"] == RISKY.encode()  # unchanged: left out
    assert "SECURITY.md" in files
    (pull,) = service.pulls
    assert "**Not included:**" in (pull.body or "")
    assert all(not c.path.startswith(".github/workflows/") for c in fix.changes)


def test_github_refuses_a_workflow_push_without_the_scope_as_the_fake_models_it() -> None:
    """The fake refuses what GitHub refuses: a ref that changes .github/workflows/ from a
    classic token without `workflow` (so the check above is not the fake's only guard)."""
    from secposture.fix.interface import FileChange
    from secposture.fix.pull_request import FixTarget, PublishError, publish

    gh = estate()
    service = gh.orgs[0].repos[0]
    snapshot = service.git()
    assert snapshot is not None
    target = FixTarget("acme", "service", "main", snapshot.commit_oid, {})
    change = FileChange(".github/workflows/ci.yml", RISKY, RISKY + "# x\n", "actions-pinned", "x")
    with (
        gh.serve() as base_url,
        GitHubClient(base_url, TokenCredentials(Secret(CLASSIC), "t"), write_interval=0.0) as api,
        pytest.raises(PublishError, match="without `workflow` scope"),
    ):
        publish(api, target, [change], dry_run=False)
    assert not service.branches


def test_an_app_without_workflows_write_has_its_workflow_edits_left_out() -> None:
    private, public = new_app_key()
    gh = estate(
        apps={APP_ID: public},
        app_permissions={APP_ID: {"contents": "write", "pull_requests": "write"}},
    )
    service = gh.orgs[0].repos[0]
    key = PrivateKey.from_pem(private.encode(), "test key")
    credentials = AppCredentials(APP_ID, key, target=InstallationTarget("acme", None))
    with gh.serve() as base_url:
        (fix,) = org_fix(base_url, credentials, open_prs=True)
    assert gh.unvalidated == []
    assert "lacks the `workflows: write` permission" in fix.detail  # type: ignore[attr-defined]
    assert not service.branches and not service.pulls


def test_after_the_pull_request_is_merged_the_scan_passes(
    make_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the pull request carries is what a checkout fix writes: merged, the controls pass."""
    root = make_repo(files={".github/workflows/ci.yml": RISKY})
    with github_env(monkeypatch, action_repos()):
        fix_json(root, *ONLY)
    commit_all(root)
    report = scan(root)
    for control in ("actions-pinned", "workflow-permissions", "dangerous-workflow"):
        assert status(report, control) is Status.PASS, control


SHARED_BUILD = """\
on:
  workflow_call:
jobs:
  build:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      packages: write
    steps:
      - run: make image
"""
CALLER = """\
on: push
permissions:
  contents: write
  packages: write
jobs:
  build:
    uses: acme/shared/.github/workflows/build.yml@v1
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: make test
"""


def test_fix_reads_the_workflows_a_job_calls_in_other_repositories(
    make_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan reads other repositories' workflows as the scan does (ADR 0014): the call job
    gets exactly what the shared workflow's job asks for, not a review comment, and the job
    that needs nothing keeps only read access."""
    shared = FakeRepo(
        "acme",
        "shared",
        files={".github/workflows/build.yml": SHARED_BUILD},
        tags={"v1": {".github/workflows/build.yml": SHARED_BUILD}},
    )
    root = make_repo(files={".github/workflows/ci.yml": CALLER})
    with github_env(monkeypatch, [*action_repos(), FakeOrg("acme", [shared])]) as gh:
        data = fix_json(root, *ONLY)
        assert gh.unvalidated == []
    text = (root / ".github/workflows/ci.yml").read_text()
    assert "secposture: review" not in text, text
    from secposture.facts.parsing import parse_yaml

    doc = parse_yaml(text)
    assert doc["permissions"] == {"contents": "read", "packages": "read"}
    assert doc["jobs"]["build"]["permissions"] == {"contents": "read", "packages": "write"}
    assert "permissions" not in doc["jobs"]["test"]
    assert re.search(r"acme/shared/\.github/workflows/build\.yml@[0-9a-f]{40} # v1\n", text)
    assert data["skipped"] == []
