"""`secposture fix --org ORG [--pr]` and the pull requests behind it, against the fake GitHub
server over loopback HTTP: blobs, a tree, a commit, a branch and a pull request through the Git
Data API, every write validated against GitHub's OpenAPI description; idempotent (a second run
writes nothing); a dry run by default that writes nothing; tokens never in the output."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from conftest import TODAY
from fake_github import FakeGitHub, FakeOrg, FakeRepo
from fake_github.git_data import branch_head, find_commit
from fake_github.model import EXEC_MODE, blobs_of
from fake_github.rest_writes import WRITE_OPERATIONS
from fake_github.schemas import rest_full

from secposture.errors import SecpostureError
from secposture.fix.estate import RepoFix, fix_org, fix_repo, render_fixes
from secposture.fix.interface import FileChange
from secposture.fix.pull_request import (
    BRANCH,
    MARKER,
    OPENED,
    SECURITY_IN_OUR_PROCESS,
    TITLE,
    UNCHANGED,
    UPDATED,
    WOULD_OPEN,
    WOULD_UPDATE,
    FixTarget,
    Published,
    blob_id,
    publish,
    pull_request_body,
)
from secposture.model import Status
from secposture.policy import default_policy
from secposture.probes.interface import probe_reads
from secposture.scan import scan_github_repo
from secposture.sources.github.auth import Secret, TokenCredentials
from secposture.sources.github.fetch import GitHubFetcher, RepoFilter
from secposture.sources.github.transport import GitHubClient

ADMIN = "tok-admin-5d1e0b"  # nosec B105 - tokens of the fake server only
READ = "tok-read-c7a233"  # nosec B105
WRITE = "tok-write-08f9e4"  # nosec B105
TOKENS = {ADMIN: "admin", READ: "read", WRITE: "write"}
README = b"# app\n"
SECURITY = FileChange(
    "SECURITY.md",
    None,
    "# Security policy\n\nReport vulnerabilities to security@example.org.\n",
    "security-policy",
    "Add SECURITY.md: how to report a vulnerability privately.",
    "Beyond the guidance: a security policy tells reporters how to report a vulnerability.",
)
TEMPLATE = FileChange(
    ".github/pull_request_template.md",
    None,
    "## Security checklist\n- [ ] OWASP Top 10 considered\n",
    "pr-template-security",
    "Add a pull request template with a security checklist.",
    "11. Recommended: a pull request template with security checks specific to the product.",
)


@contextmanager
def serving(*repos: FakeRepo) -> Iterator[tuple[FakeGitHub, str]]:
    gh = FakeGitHub(orgs=[FakeOrg("acme", list(repos))], tokens=TOKENS)
    with gh.serve() as base_url:
        yield gh, base_url


def client(base_url: str, token: str = ADMIN) -> GitHubClient:
    # write_interval 0: the spacing itself is the transport's, tested there; keep tests fast.
    return GitHubClient(
        base_url, TokenCredentials(Secret(token), "GITHUB_TOKEN"), write_interval=0.0
    )


def app_repo(**files: bytes) -> FakeRepo:
    return FakeRepo("acme", "app", files={"README.md": README, **files})


def target_of(repo: FakeRepo) -> FixTarget:
    snapshot = repo.git()
    assert snapshot is not None
    modes = {path: blob.mode for path, blob in blobs_of(snapshot.root).items()}
    return FixTarget("acme", repo.name, "main", snapshot.commit_oid, modes)


def edited(change: FileChange, text: str) -> FileChange:
    return FileChange(change.path, change.before, text, change.control, change.summary)


def branch_files(repo: FakeRepo) -> dict[str, bytes]:
    head = branch_head(repo, BRANCH)
    assert head is not None
    commit = find_commit(repo, head)
    assert commit is not None
    return {path: blob.data for path, blob in blobs_of(commit.tree).items()}


# --- The fake's Git Data API and pull requests ----------------------------------------------


def test_the_fakes_write_operations_are_githubs_and_their_path_parameters_match() -> None:
    document = rest_full()
    for method, template, multi in WRITE_OPERATIONS:
        operation = document["paths"][template][method.lower()]
        declared = set()
        for param in operation["parameters"]:
            if "$ref" in param:
                param = document["components"]["parameters"][param["$ref"].rsplit("/", 1)[1]]
            if param.get("in") == "path" and param.get("x-multi-segment"):
                declared.add(param["name"])
        assert declared == set(multi), (method, template)


def test_the_fake_refuses_what_github_refuses() -> None:
    repo = app_repo()
    with serving(repo) as (gh, base_url), client(base_url) as api:
        head = branch_head(repo, "main")
        assert head is not None
        tree = api.rest("POST", "/repos/acme/app/git/trees", {"tree": []}).json["sha"]
        root = api.rest(
            "POST", "/repos/acme/app/git/commits", {"message": "root", "tree": tree}
        ).json["sha"]
        api.rest("POST", "/repos/acme/app/git/refs", {"ref": f"refs/heads/{BRANCH}", "sha": head})
        refused = {
            "duplicate branch": api.rest(
                "POST",
                "/repos/acme/app/git/refs",
                {"ref": f"refs/heads/{BRANCH}", "sha": head},
                allow=(422,),
            ),
            "not a fast forward": api.rest(
                "PATCH",
                f"/repos/acme/app/git/refs/heads/{BRANCH}",
                {"sha": root},
                allow=(422,),
            ),
            "no commits between": api.rest(
                "POST",
                "/repos/acme/app/pulls",
                {"title": "t", "head": BRANCH, "base": "main"},
                allow=(422,),
            ),
            "unknown parent": api.rest(
                "POST",
                "/repos/acme/app/git/commits",
                {"message": "m", "tree": tree, "parents": ["0" * 40]},
                allow=(422,),
            ),
            "a body the description refuses": api.rest(
                "POST", "/repos/acme/app/git/blobs", {"encoding": "utf-8"}, allow=(422,)
            ),
        }
        messages = {k: (r.status, r.json["message"]) for k, r in refused.items()}
        forced = api.rest(
            "PATCH", f"/repos/acme/app/git/refs/heads/{BRANCH}", {"sha": root, "force": True}
        )
    assert messages["duplicate branch"] == (422, "Reference already exists")
    assert messages["not a fast forward"] == (422, "Update is not a fast forward")
    assert messages["no commits between"][1].endswith(f"No commits between main and {BRANCH}")
    assert messages["unknown parent"][0] == 422
    assert messages["a body the description refuses"][0] == 422
    assert forced.json["object"]["sha"] == root
    # Only the body the description refuses is a problem of the request itself.
    assert gh.unvalidated == [
        "POST /repos/{owner}/{repo}/git/blobs request body: 'content' is a required property"
    ]


# --- Pull requests through the Git Data API -----------------------------------------------


def test_a_pull_request_is_opened_through_the_git_data_api() -> None:
    repo = app_repo()
    changes = [SECURITY, TEMPLATE]
    with serving(repo) as (gh, base_url), client(base_url) as api:
        result = publish(api, target_of(repo), changes, dry_run=False)
        writes = [(w.method, w.path, w.status) for w in gh.writes()]
        pull = api.rest_get("/repos/acme/app/pulls/1").json
    assert result.action == OPENED
    assert result.url == "https://github.com/acme/app/pull/1"
    # The blobs come with the tree: four writes, whatever the number of files.
    assert writes == [
        ("POST", "/repos/acme/app/git/trees", 201),
        ("POST", "/repos/acme/app/git/commits", 201),
        ("POST", "/repos/acme/app/git/refs", 201),
        ("POST", "/repos/acme/app/pulls", 201),
    ]
    assert gh.unvalidated == []
    # The branch is the default branch plus the generated files; the default branch is as it was.
    assert branch_files(repo) == {
        "README.md": README,
        SECURITY.path: SECURITY.after.encode(),
        TEMPLATE.path: TEMPLATE.after.encode(),
    }
    head = find_commit(repo, branch_head(repo, BRANCH) or "")
    assert head is not None and head.parents == (target_of(repo).base_commit,)
    assert repo.files == {"README.md": README}
    (opened,) = repo.pulls
    assert (opened.title, opened.head, opened.base, opened.state) == (TITLE, BRANCH, "main", "open")
    assert pull["changed_files"] == 2 and pull["commits"] == 1
    body = opened.body or ""
    for change in changes:
        assert f"`{change.control}`" in body and change.summary in body and change.path in body
        assert f"Guidance: {change.guidance}" in body
    # A numbered line of the guidance links to the page it comes from.
    assert f"{TEMPLATE.guidance} <{SECURITY_IN_OUR_PROCESS}>" in body
    assert f"{SECURITY.guidance}\n" in body
    assert body.rstrip().endswith(MARKER)


def test_a_second_run_with_nothing_new_is_unchanged_and_writes_nothing() -> None:
    repo = app_repo()
    with serving(repo) as (gh, base_url), client(base_url) as api:
        publish(api, target_of(repo), [SECURITY], dry_run=False)
        gh.reset_log()
        again = publish(api, target_of(repo), [SECURITY], dry_run=False)
        assert gh.writes() == []
        reads = len(gh.log)
    assert again == Published(UNCHANGED, "https://github.com/acme/app/pull/1", again.detail)
    assert reads <= 2  # the open pull request, and its branch's tree
    assert len(repo.pulls) == 1


def test_new_content_goes_on_top_of_the_open_pull_requests_branch() -> None:
    repo = app_repo()
    with serving(repo) as (gh, base_url), client(base_url) as api:
        publish(api, target_of(repo), [SECURITY], dry_run=False)
        first = branch_head(repo, BRANCH)
        gh.reset_log()
        newer = edited(SECURITY, "# Security policy\n\nUse the form at example.org/report.\n")
        result = publish(api, target_of(repo), [newer, TEMPLATE], dry_run=False)
        writes = [(w.method, w.path) for w in gh.writes()]
    assert result.action == UPDATED
    assert writes == [
        ("POST", "/repos/acme/app/git/trees"),
        ("POST", "/repos/acme/app/git/commits"),
        ("PATCH", f"/repos/acme/app/git/refs/heads/{BRANCH}"),
        ("PATCH", "/repos/acme/app/pulls/1"),
    ]
    head = find_commit(repo, branch_head(repo, BRANCH) or "")
    assert head is not None and head.parents == (first,)  # on top: nothing force-pushed
    assert branch_files(repo)[SECURITY.path] == newer.after.encode()
    assert len(repo.pulls) == 1 and TEMPLATE.summary in (repo.pulls[0].body or "")
    assert gh.unvalidated == []


def test_a_moved_default_branch_is_merged_in_so_the_pull_request_shows_only_the_fix() -> None:
    repo = app_repo()
    with serving(repo) as (gh, base_url), client(base_url) as api:
        publish(api, target_of(repo), [SECURITY], dry_run=False)
        first = branch_head(repo, BRANCH)
        repo.files["CHANGELOG.md"] = b"# Changes\n"  # someone merged something into main
        moved = target_of(repo)
        result = publish(api, moved, [SECURITY, TEMPLATE], dry_run=False)
        pull = api.rest_get("/repos/acme/app/pulls/1").json
    assert result.action == UPDATED
    head = find_commit(repo, branch_head(repo, BRANCH) or "")
    assert head is not None and head.parents == (first, moved.base_commit)
    assert set(branch_files(repo)) == {"README.md", "CHANGELOG.md", SECURITY.path, TEMPLATE.path}
    assert pull["changed_files"] == 2
    assert gh.unvalidated == []


def test_someone_elses_work_on_the_branch_is_never_overwritten() -> None:
    repo = app_repo()
    with serving(repo) as (gh, base_url), client(base_url) as api:
        publish(api, target_of(repo), [SECURITY], dry_run=False)
        # A person fills in the security contact on the pull request's branch.
        tip = branch_head(repo, BRANCH)
        base_tree = api.rest_get(f"/repos/acme/app/git/commits/{tip}").json["tree"]["sha"]
        mine = {"path": SECURITY.path, "mode": "100644", "type": "blob", "content": "# Ours\n"}
        tree = api.rest(
            "POST", "/repos/acme/app/git/trees", {"base_tree": base_tree, "tree": [mine]}
        )
        commit = api.rest(
            "POST",
            "/repos/acme/app/git/commits",
            {"message": "Fill in the contact", "tree": tree.json["sha"], "parents": [tip]},
        )
        api.rest("PATCH", f"/repos/acme/app/git/refs/heads/{BRANCH}", {"sha": commit.json["sha"]})
        gh.reset_log()
        dry = publish(api, target_of(repo), [SECURITY, TEMPLATE], dry_run=True)
        real = publish(api, target_of(repo), [SECURITY, TEMPLATE], dry_run=False)
        assert gh.writes() == []
    assert dry.action == real.action == UNCHANGED
    assert "commits by someone else" in real.detail
    assert branch_files(repo)[SECURITY.path] == b"# Ours\n"


def test_only_the_description_is_updated_when_only_it_is_out_of_date() -> None:
    repo = app_repo()
    with serving(repo) as (gh, base_url), client(base_url) as api:
        publish(api, target_of(repo), [SECURITY], dry_run=False)
        repo.pulls[0].body = "edited by someone"
        gh.reset_log()
        result = publish(api, target_of(repo), [SECURITY], dry_run=False)
        writes = [(w.method, w.path) for w in gh.writes()]
    assert result.action == UPDATED and "description out of date" in result.detail
    assert writes == [("PATCH", "/repos/acme/app/pulls/1")]
    assert repo.pulls[0].body == pull_request_body([SECURITY])


def test_a_dry_run_reads_but_never_writes() -> None:
    repo = app_repo()
    with serving(repo) as (gh, base_url), client(base_url) as api:
        would_open = publish(api, target_of(repo), [SECURITY], dry_run=True)
        assert gh.writes() == [] and repo.pulls == [] and repo.branches == {}
        publish(api, target_of(repo), [SECURITY], dry_run=False)
        gh.reset_log()
        would_update = publish(api, target_of(repo), [SECURITY, TEMPLATE], dry_run=True)
        unchanged = publish(api, target_of(repo), [SECURITY], dry_run=True)
        assert gh.writes() == []
    assert would_open.action == WOULD_OPEN and "1 file" in would_open.detail
    assert would_update.action == WOULD_UPDATE and would_update.url
    assert "files and description out of date" in would_update.detail
    assert unchanged.action == UNCHANGED


def test_after_a_closed_pull_request_a_new_one_is_opened_from_the_default_branch() -> None:
    repo = app_repo()
    with serving(repo) as (gh, base_url), client(base_url) as api:
        publish(api, target_of(repo), [SECURITY], dry_run=False)
        repo.pulls[0].state = "closed"  # someone closed it, leaving the branch
        result = publish(api, target_of(repo), [SECURITY, TEMPLATE], dry_run=False)
    assert result.action == OPENED and result.url == "https://github.com/acme/app/pull/2"
    head = find_commit(repo, branch_head(repo, BRANCH) or "")
    assert head is not None and head.parents == (target_of(repo).base_commit,)
    assert [p.state for p in repo.pulls] == ["closed", "open"]
    assert gh.unvalidated == []


def test_an_executable_file_stays_executable() -> None:
    repo = app_repo(**{"scripts/check.sh": b"#!/bin/sh\n"})
    change = FileChange("scripts/check.sh", "#!/bin/sh\n", "#!/bin/sh\nset -eu\n", "x", "s")
    with serving(repo) as (_, base_url), client(base_url) as api:
        publish(api, target_of(repo), [change], dry_run=False)
    head = find_commit(repo, branch_head(repo, BRANCH) or "")
    assert head is not None
    assert blobs_of(head.tree)["scripts/check.sh"].mode == EXEC_MODE


def test_a_token_that_cannot_push_gets_a_clear_reason() -> None:
    repo = app_repo()
    with (
        serving(repo) as (_, base_url),
        client(base_url, READ) as api,
        pytest.raises(SecpostureError) as caught,
    ):
        publish(api, target_of(repo), [SECURITY], dry_run=False)
    message = str(caught.value)
    assert "needs write access" in message and "403" in message
    assert READ not in message
    assert repo.branches == {} and repo.pulls == []


def test_the_body_is_bounded_to_githubs_limit() -> None:
    many = [
        FileChange(f"docs/{i}.md", None, "x\n", "security-adrs", "y" * 2000, "z") for i in range(60)
    ]
    body = pull_request_body(many)
    assert len(body) < 65_536
    assert "more change(s) are described in the commit message" in body
    assert body.rstrip().endswith(MARKER)


def test_blob_ids_are_gits() -> None:
    assert blob_id("hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"


def test_the_token_never_reaches_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    repo = app_repo()
    with serving(repo) as (_, base_url), client(base_url) as api:
        result = publish(api, target_of(repo), [SECURITY], dry_run=False)
    assert caplog.records
    assert ADMIN not in caplog.text and ADMIN not in json.dumps(result.__dict__)


# --- The estate: secposture fix --org ORG [--pr] --------------------------------------------

PYTHON_APP = {
    "README.md": README,
    "pyproject.toml": b'[project]\nname = "app"\nversion = "1.0.0"\ndependencies = ["flask"]\n',
    "src/app/__init__.py": b'"""app."""\n',
}


def estate_repos() -> list[FakeRepo]:
    """A bare Python service, an archived one, an empty one, and one owned by nobody else."""
    return [
        FakeRepo("acme", "service", files=dict(PYTHON_APP)),
        FakeRepo("acme", "legacy", files=dict(PYTHON_APP), archived=True),
        FakeRepo("acme", "empty", default_branch=None),
        FakeRepo("acme", "docs", files={"README.md": README, "docs/index.md": b"# Docs\n"}),
    ]


def run_fix(
    base_url: str, *, open_prs: bool, token: str = ADMIN, archived: bool = False
) -> list[RepoFix]:
    with client(base_url, token) as api:
        return fix_org(
            api,
            "acme",
            RepoFilter(include_archived=archived),
            default_policy(),
            open_prs=open_prs,
            today=TODAY,
        )


def actions(fixes: list[RepoFix]) -> dict[str, str]:
    return {f.repository: f.action for f in fixes}


def test_the_estate_dry_run_summarises_what_would_be_opened_and_writes_nothing() -> None:
    with serving(*estate_repos()) as (gh, base_url):
        fixes = run_fix(base_url, open_prs=False, archived=True)
        assert gh.writes() == []
        assert all(not r.pulls and not r.branches for r in gh.orgs[0].repos)
    assert actions(fixes) == {
        "acme/service": "would-open",
        "acme/legacy": "failed",
        "acme/empty": "failed",
        "acme/docs": "would-open",
    }
    by_name = {f.repository: f for f in fixes}
    service = by_name["acme/service"]
    paths = {c.path for c in service.changes}
    assert {"SECURITY.md", ".pre-commit-config.yaml", ".github/dependabot.yml"} <= paths
    assert "archived" in by_name["acme/legacy"].detail
    assert "empty" in by_name["acme/empty"].detail
    text = render_fixes(fixes)
    assert "acme/service" in text and "would-open" in text and "+ SECURITY.md" in text
    assert "2 pull requests would be opened, 2 failed" in text
    assert "Dry run: nothing was written" in text
    assert gh.unvalidated == []


def test_with_pr_each_failing_repository_gets_one_pull_request_validated_by_github() -> None:
    repos = estate_repos()
    with serving(*repos) as (gh, base_url):
        fixes = run_fix(base_url, open_prs=True)
        write_paths = {w.path.split("/", 4)[-1] for w in gh.writes()}
    assert actions(fixes) == {
        "acme/service": "opened",
        "acme/empty": "failed",
        "acme/docs": "opened",
    }
    assert gh.unvalidated == []
    assert write_paths == {"git/trees", "git/commits", "git/refs", "pulls"}
    service = next(f for f in fixes if f.repository == "acme/service")
    assert service.url == "https://github.com/acme/service/pull/1"
    (pull,) = repos[0].pulls
    body = pull.body or ""
    for change in service.changes:
        assert change.path in body and change.summary.strip() in body
    assert SECURITY_IN_OUR_PROCESS in body
    # The branch holds exactly the generated texts, on top of the default branch's files.
    files = branch_files(repos[0])
    assert {c.path: c.after.encode() for c in service.changes}.items() <= files.items()
    assert repos[0].files.items() <= files.items()
    assert repos[1].pulls == [] and repos[1].branches == {}  # archived: not even listed
    text = render_fixes(fixes)
    assert "2 pull requests opened, 1 failed." in text and "Dry run" not in text


def test_a_second_run_reports_unchanged_and_makes_no_write_calls() -> None:
    with serving(*estate_repos()) as (gh, base_url):
        run_fix(base_url, open_prs=True)
        gh.reset_log()
        again = run_fix(base_url, open_prs=True)
        assert gh.writes() == []
        dry = run_fix(base_url, open_prs=False)
        assert gh.writes() == []
    assert actions(again) == {
        "acme/service": "unchanged",
        "acme/empty": "failed",
        "acme/docs": "unchanged",
    }
    assert actions(dry) == actions(again)
    assert "2 up to date" in render_fixes(again)


def test_a_repository_that_changed_gets_its_pull_request_updated_not_duplicated() -> None:
    repos = estate_repos()
    with serving(*repos) as (gh, base_url):
        run_fix(base_url, open_prs=True)
        first_head = branch_head(repos[3], BRANCH)
        # Someone adds a Node.js app to the docs repository: Dependabot must now cover npm.
        repos[3].files["package.json"] = b'{"name": "docs-site", "version": "1.0.0"}\n'
        repos[3].files["package-lock.json"] = b'{"lockfileVersion": 3, "packages": {}}\n'
        gh.reset_log()
        fixes = run_fix(base_url, open_prs=True)
    assert actions(fixes)["acme/docs"] == "updated"
    assert actions(fixes)["acme/service"] == "unchanged"
    assert len(repos[3].pulls) == 1
    head = find_commit(repos[3], branch_head(repos[3], BRANCH) or "")
    assert head is not None and head.parents[0] == first_head
    assert b"npm" in branch_files(repos[3])[".github/dependabot.yml"]
    assert {w.path for w in gh.writes()} <= {
        "/repos/acme/docs/git/trees",
        "/repos/acme/docs/git/commits",
        f"/repos/acme/docs/git/refs/heads/{BRANCH}",
        "/repos/acme/docs/pulls/1",
    }
    assert gh.unvalidated == []


def test_the_fixed_branch_scans_clean_of_what_was_fixed_and_plans_nothing_more() -> None:
    service = FakeRepo("acme", "service", files=dict(PYTHON_APP))
    with serving(service) as (_, base_url):
        (fix,) = run_fix(base_url, open_prs=True)
        fixed = FakeRepo("acme", "service", files=branch_files(service))
    with serving(fixed) as (gh, base_url):
        (again,) = run_fix(base_url, open_prs=False)
        with client(base_url) as api:
            report = scan_github_repo(
                GitHubFetcher(api, default_policy(), today=TODAY, reads=probe_reads),
                "acme",
                "service",
            )
    assert fix.action == "opened"
    assert again.action == "nothing-to-fix", again
    statuses = {r.id: r.status for r in report.results}
    for control in ("security-policy", "pr-template-security", "secrets-pre-commit"):
        assert statuses[control] is Status.PASS, control
    assert gh.writes() == []


def test_a_token_that_cannot_push_fails_each_repository_with_the_reason() -> None:
    repos = estate_repos()
    with serving(*repos) as (_, base_url):
        fixes = run_fix(base_url, open_prs=True, token=READ)
    failed = {f.repository: f.detail for f in fixes if f.action == "failed"}
    assert set(failed) == {"acme/service", "acme/docs", "acme/empty"}
    assert "needs write access" in failed["acme/service"]
    assert all(not r.pulls and not r.branches for r in repos)
    assert READ not in render_fixes(fixes) + render_fixes(fixes, "json")


def test_one_repository_by_name() -> None:
    repos = estate_repos()
    with serving(*repos) as (_, base_url), client(base_url) as api:
        dry = fix_repo(api, "acme", "docs", default_policy(), open_prs=False, today=TODAY)
        opened = fix_repo(api, "acme", "docs", default_policy(), open_prs=True, today=TODAY)
        with pytest.raises(SecpostureError, match="acme/nope not found"):
            fix_repo(api, "acme", "nope", default_policy(), open_prs=False, today=TODAY)
    assert (dry.action, opened.action) == ("would-open", "opened")
    assert [p.head for p in repos[3].pulls] == [BRANCH]


def test_the_summary_as_json_and_a_clear_error_for_an_unknown_format() -> None:
    with serving(*estate_repos()) as (_, base_url):
        fixes = run_fix(base_url, open_prs=False)
    data = json.loads(render_fixes(fixes, "json"))
    assert data["dry_run"] is True
    assert data["summary"] == {"would-open": 2, "failed": 1}
    service = next(r for r in data["repositories"] if r["repository"] == "acme/service")
    assert service["action"] == "would-open" and service["url"] is None
    assert {"path", "new", "control", "summary", "guidance"} <= set(service["changes"][0])
    with pytest.raises(SecpostureError, match="unknown format 'xml'"):
        render_fixes(fixes, "xml")


def test_hostile_names_and_messages_cannot_break_the_terminal() -> None:
    fix = RepoFix("acme/\x1b[31mred", "failed", None, (), "GitHub said:\x07 no\nway")
    text = render_fixes([fix])
    assert "\x1b" not in text and "\x07" not in text
    assert "GitHub said: no way" in text


def test_the_estate_never_prints_or_logs_the_token(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with serving(*estate_repos()) as (_, base_url):
        fixes = run_fix(base_url, open_prs=True)
        fixes += run_fix(base_url, open_prs=False)
    output = render_fixes(fixes) + render_fixes(fixes, "json") + repr(fixes)
    assert ADMIN not in output and ADMIN not in caplog.text


def test_a_secondary_limit_on_a_write_is_waited_out_and_nothing_is_duplicated() -> None:
    # Find where the first write falls, then make GitHub refuse exactly that request.
    with serving(app_repo()) as (gh, base_url), client(base_url) as api:
        publish(api, target_of(app_repo()), [SECURITY], dry_run=False)
        first_write = next(i for i, r in enumerate(gh.log) if r.method != "GET")
    repo = app_repo()
    gh = FakeGitHub(
        orgs=[FakeOrg("acme", [repo])], tokens=TOKENS, secondary_limit_after=first_write
    )
    waits: list[float] = []
    now = [time.time()]

    def sleep(seconds: float) -> None:  # a clock that moves when waited on: no real waiting
        waits.append(seconds)
        now[0] += seconds

    with gh.serve() as base_url:
        api = GitHubClient(
            base_url,
            TokenCredentials(Secret(ADMIN), "GITHUB_TOKEN"),
            write_interval=0.0,
            clock=lambda: now[0],
            sleep=sleep,
        )
        with api:
            result = publish(api, target_of(repo), [SECURITY], dry_run=False)
    statuses = [(r.method, r.path.rsplit("/", 1)[-1], r.status) for r in gh.writes()]
    assert result.action == OPENED and len(repo.pulls) == 1
    assert statuses[:2] == [("POST", "trees", 403), ("POST", "trees", 201)]
    assert sum(waits) >= 1  # GitHub's Retry-After, honoured before resending
    assert gh.unvalidated == []


def test_writes_are_few_and_a_second_apart_by_default() -> None:
    waits: list[float] = []
    now = [time.time()]

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    repo = app_repo()
    with serving(repo) as (gh, base_url):
        api = GitHubClient(
            base_url,
            TokenCredentials(Secret(ADMIN), "GITHUB_TOKEN"),
            clock=lambda: now[0],
            sleep=sleep,
        )
        with api:
            publish(api, target_of(repo), [SECURITY, TEMPLATE], dry_run=False)
        writes = len(gh.writes())
    assert writes == 4  # tree (with the blobs), commit, branch, pull request
    assert waits == [pytest.approx(1.0)] * (writes - 1)


def test_the_generators_options_apply_to_every_repository() -> None:
    with serving(*estate_repos()) as (gh, base_url), client(base_url) as api:
        only = fix_org(
            api,
            "acme",
            RepoFilter(),
            default_policy(),
            open_prs=False,
            today=TODAY,
            only=["security-policy"],
        )
        gh.reset_log()
        with pytest.raises(SecpostureError, match="unknown control 'no-such-control'"):
            fix_org(
                api,
                "acme",
                RepoFilter(),
                default_policy(),
                open_prs=False,
                only=["no-such-control"],
            )
        assert gh.log == []  # refused before anything was read
    opened = [f for f in only if f.action == "would-open"]
    assert opened and all([c.path for c in f.changes] == ["SECURITY.md"] for f in opened)


def test_cli_org_is_a_dry_run_until_pr_and_passes_only_through(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`secposture fix --org` writes nothing; `--pr --only security-policy` opens a pull
    request that adds SECURITY.md alone; the token never shows."""
    from secposture.cli.main import main

    repo = FakeRepo("acme", "app", files={"README.md": b"# app\n", "app.py": b"print(1)\n"})
    gh = FakeGitHub(orgs=[FakeOrg("acme", [repo])], tokens=TOKENS)
    monkeypatch.setenv("GITHUB_TOKEN", ADMIN)
    with gh.serve() as base_url:
        monkeypatch.setenv("GITHUB_API_URL", base_url)
        with pytest.raises(SystemExit) as exit_info:
            main(["fix", "--org", "acme", "--format", "json"])
        assert exit_info.value.code == 0
        assert gh.writes() == []
        dry = capsys.readouterr()
        assert "would-open" in dry.out
        with pytest.raises(SystemExit) as exit_info:
            main(["fix", "--org", "acme", "--pr", "--only", "security-policy", "--format", "json"])
        assert exit_info.value.code == 0
        opened = capsys.readouterr()
    assert gh.unvalidated == []
    pulls = [w for w in gh.writes() if w.path.endswith("/pulls")]
    assert len(pulls) == 1
    assert "opened" in opened.out and "SECURITY.md" in opened.out
    assert ".pre-commit-config.yaml" not in opened.out
    for text in (dry.out, dry.err, opened.out, opened.err):
        assert ADMIN not in text


def test_a_repositorys_own_waiver_does_not_stop_its_fix_without_the_operators_leave() -> None:
    # The repository waives and disables security-policy in its own file (docs/adr/0011-*.md):
    # an estate's fix reads it as untrusted, exactly as the scan does, so SECURITY.md is still
    # proposed; with the operator's leave the waiver holds and nothing is proposed for it.
    own = (
        b"[tool.secposture.controls.security-policy]\nenabled = false\n"
        b'[[tool.secposture.waivers]]\ncontrol = "security-policy"\nreason = "mine"\n'
        b'approver = "me"\nexpires = "2099-01-01"\n'
    )
    repo = app_repo(**{"pyproject.toml": own})
    with serving(repo) as (_gh, base_url), client(base_url) as api:
        fix = fix_repo(api, "acme", "app", default_policy(), open_prs=False, today=TODAY)
    assert "SECURITY.md" in {c.path for c in fix.changes}
