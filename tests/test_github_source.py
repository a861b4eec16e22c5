"""The GitHub source end to end, against the fake GitHub server over loopback HTTP: an organisation
in a handful of requests, the settings controls, what a read-only token cannot see, parity with a
scan of a checkout of the same content, and tokens that never reach any output."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import TODAY, git, write_files
from fake_github import BranchRule, FakeGitHub, FakeOrg, FakeRepo, generate_org, new_app_key

from secposture.cli.main import main
from secposture.model import EstateReport, Status
from secposture.policy import default_policy
from secposture.probes.interface import probe_reads
from secposture.scan import scan_github_org, scan_path
from secposture.sources.github.auth import Secret, TokenCredentials
from secposture.sources.github.fetch import GitHubFetcher, RepoFilter
from secposture.sources.github.transport import GitHubClient

ADMIN = "tok-admin-7f3a9c"  # nosec B105 - tokens of the fake server only
READ = "tok-read-51be02"  # nosec B105
SETTINGS_CONTROLS = {"pr-review-required", "dependabot-security-updates", "secret-scanning"}
# The open Dependabot alerts are read from GitHub only (a checkout without a token: unknown).
NOT_FROM_FILES = SETTINGS_CONTROLS | {"ithc", "vulnerabilities-patched-in-time"}


@pytest.fixture(scope="module")
def org() -> FakeOrg:
    return generate_org("acme", n_repos=24, seed=11)


@pytest.fixture
def fake(org: FakeOrg) -> Iterator[tuple[FakeGitHub, str]]:
    gh = FakeGitHub(orgs=[org], tokens={ADMIN: "admin", READ: "read"})
    with gh.serve() as base_url:
        yield gh, base_url


def estate_of(
    base_url: str, token: str = ADMIN, repo_filter: RepoFilter | None = None, **client: object
) -> tuple[EstateReport, GitHubClient]:
    gh = GitHubClient(base_url, TokenCredentials(Secret(token), "GITHUB_TOKEN"), **client)  # type: ignore[arg-type]
    fetcher = GitHubFetcher(gh, default_policy(), today=TODAY, reads=probe_reads)
    estate = scan_github_org(fetcher, "acme", repo_filter or RepoFilter(), TODAY)
    gh.close()
    return estate, gh


def test_org_scan_costs_a_handful_of_requests_and_every_one_validates(
    fake: tuple[FakeGitHub, str], org: FakeOrg
) -> None:
    gh, base_url = fake
    estate, _ = estate_of(base_url)
    expected = [r.full_name for r in org.repos if not r.archived and not r.fork]
    assert sorted(r.name for r in estate.repositories) == sorted(expected)
    assert all(r.report is not None for r in estate.repositories), [
        (r.name, r.error) for r in estate.repositories if r.report is None
    ]
    assert gh.unvalidated == []
    # One listing page, one round-one query, a few content rounds: not per repository.
    assert gh.rest_requests == 1
    assert gh.graphql_requests <= 8
    assert estate.usage.requests == gh.rest_requests + gh.graphql_requests
    assert estate.usage.graphql_points >= 1


def test_filters_include_archived_forks_topics_and_name_globs(
    fake: tuple[FakeGitHub, str], org: FakeOrg
) -> None:
    _, base_url = fake
    everything, _ = estate_of(base_url, repo_filter=RepoFilter(True, True))
    assert len(everything.repositories) == len(org.repos)
    first = org.repos[0].name
    named, _ = estate_of(base_url, repo_filter=RepoFilter(True, True, name_globs=(first,)))
    assert [r.name for r in named.repositories] == [f"acme/{first}"]
    topic = next((t for r in org.repos for t in r.topics), None)
    if topic is not None:
        tagged, _ = estate_of(base_url, repo_filter=RepoFilter(True, True, topics=(topic,)))
        assert tagged.repositories
        assert all(topic in r.topics for r in tagged.repositories)


def test_settings_controls_are_decided_with_an_admin_token() -> None:
    protected = FakeRepo(
        "acme",
        "protected",
        files={"README.md": b"# app\n"},
        security_and_analysis={
            "dependabot_security_updates": "enabled",
            "secret_scanning": "enabled",
            "secret_scanning_push_protection": "enabled",
        },
        vulnerability_alerts=True,
        branch_rules=[
            BranchRule(pattern="main", required_approving_review_count=2, is_admin_enforced=True)
        ],
    )
    bare = FakeRepo("acme", "bare", files={"README.md": b"# app\n"})
    gh = FakeGitHub(
        orgs=[FakeOrg("acme", [protected, bare])], tokens={ADMIN: "admin", READ: "read"}
    )
    with gh.serve() as base_url:
        admin, _ = estate_of(base_url)
        read, _ = estate_of(base_url, READ)
    assert gh.unvalidated == []
    by_name = {r.name: r.report for r in admin.repositories}
    good, poor = by_name["acme/protected"], by_name["acme/bare"]
    assert good is not None and poor is not None
    statuses = {r.id: r.status for r in good.results}
    assert {c: statuses[c] for c in SETTINGS_CONTROLS} == dict.fromkeys(
        SETTINGS_CONTROLS, Status.PASS
    )
    review = next(r for r in good.results if r.id == "pr-review-required")
    assert "2 approving reviews" in review.findings[0].message
    poor_statuses = {r.id: r.status for r in poor.results}
    assert {c: poor_statuses[c] for c in SETTINGS_CONTROLS} == dict.fromkeys(
        SETTINGS_CONTROLS, Status.FAIL
    )
    # A read-only token: never `fail` for what it cannot see, and it says which access decides.
    for entry in read.repositories:
        assert entry.report is not None
        for result in entry.report.results:
            if result.id in SETTINGS_CONTROLS:
                assert result.status is Status.UNKNOWN, (entry.name, result.id)
                assert "admin" in result.summary


def test_same_verdicts_as_a_scan_of_a_checkout_of_the_same_content(
    org: FakeOrg, tmp_path: Path
) -> None:
    repos = [replace(r, file_dates={}) for r in org.repos if r.default_branch is not None]
    gh = FakeGitHub(orgs=[FakeOrg("acme", repos)], tokens={ADMIN: "admin"})
    with gh.serve() as base_url:
        estate, _ = estate_of(base_url, repo_filter=RepoFilter(True, True))
    assert gh.unvalidated == []
    remote = {r.name: r.report for r in estate.repositories}
    compared = 0
    for repo in repos:
        root = tmp_path / repo.name
        root.mkdir()
        write_files(root, dict(repo.files))
        when = repo.head_date.isoformat()
        git(root, "init", "-q", "-b", repo.default_branch or "main")
        git(root, "add", "-A")
        git(
            root,
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "content",
            env={"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when},
        )
        local, _ = scan_path(root, today=TODAY)
        github = remote[repo.full_name]
        assert github is not None, repo.full_name
        local_status = {r.id: r.status for r in local.results if r.id not in NOT_FROM_FILES}
        github_status = {r.id: r.status for r in github.results if r.id not in NOT_FROM_FILES}
        assert github_status == local_status, repo.full_name
        compared += 1
    assert compared >= 10


def test_folders_deeper_than_one_listing_are_listed_in_later_rounds() -> None:
    deep = "services/billing/api/v2/internal/app/package.json"
    repo = FakeRepo("acme", "deep", files={deep: b'{"name": "app"}\n', "README.md": b"# x\n"})
    gh = FakeGitHub(orgs=[FakeOrg("acme", [repo])], tokens={ADMIN: "admin"})
    with gh.serve() as base_url:
        estate, _ = estate_of(base_url)
    report = estate.repositories[0].report
    assert report is not None
    deps = next(r for r in report.results if r.id == "dependency-update-config")
    assert "/services/billing/api/v2/internal/app" in deps.summary


def test_batches_are_halved_when_github_times_out(org: FakeOrg) -> None:
    gh = FakeGitHub(orgs=[org], tokens={ADMIN: "admin"}, fail_graphql_over_repos=5)
    with gh.serve() as base_url:
        estate, _ = estate_of(base_url)
    assert all(r.report is not None for r in estate.repositories)
    assert any(rec.status == 502 for rec in gh.log)
    assert gh.unvalidated == []


def test_secondary_rate_limit_is_waited_out(org: FakeOrg) -> None:
    gh = FakeGitHub(orgs=[org], tokens={ADMIN: "admin"}, secondary_limit_after=1)
    with gh.serve() as base_url:
        estate, client = estate_of(base_url, secondary_min_wait=0.01, backoff_base=0.01)
    assert all(r.report is not None for r in estate.repositories)
    assert any(rec.status == 403 for rec in gh.log)
    assert client.usage().retries >= 1


def test_cli_org_scan_writes_the_estate_and_never_the_token(
    fake: tuple[FakeGitHub, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    gh, base_url = fake
    monkeypatch.setenv("GITHUB_TOKEN", ADMIN)
    out = tmp_path / "estate.json"
    outputs = []
    for fmt, target in (
        ("json", out),
        ("csv", tmp_path / "e.csv"),
        ("markdown", tmp_path / "e.md"),
        ("html", tmp_path / "e.html"),
    ):
        with pytest.raises(SystemExit) as exit_info:
            main(
                [
                    "scan",
                    "--org",
                    "acme",
                    "--github-url",
                    base_url,
                    "--format",
                    fmt,
                    "-o",
                    str(target),
                ]
            )
        assert exit_info.value.code in (0, 1)
        outputs.append(target.read_text("utf-8"))
    with pytest.raises(SystemExit):
        main(["scan", "--org", "acme", "--github-url", base_url, "--no-color"])
    captured = capsys.readouterr()
    estate = json.loads(out.read_text("utf-8"))
    assert len(estate["repositories"]) > 5
    for text in (*outputs, captured.out, captured.err):
        assert ADMIN not in text
    assert estate["repositories"][0]["name"].split("/")[1] in captured.out
    assert gh.unvalidated == []


def test_cli_bad_token_is_a_clear_error_without_the_token(
    fake: tuple[FakeGitHub, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, base_url = fake
    monkeypatch.setenv("GITHUB_TOKEN", "tok-wrong-123456")
    with pytest.raises(SystemExit) as exit_info:
        main(["scan", "--org", "acme", "--github-url", base_url])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "401" in err or "credentials" in err.lower()
    assert "tok-wrong-123456" not in err
    assert "Traceback" not in err


def test_cli_scans_owner_repo_without_a_clone(
    fake: tuple[FakeGitHub, str],
    org: FakeOrg,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, base_url = fake
    repo = next(r for r in org.repos if r.default_branch is not None)
    monkeypatch.setenv("GITHUB_TOKEN", ADMIN)
    with pytest.raises(SystemExit) as exit_info:
        main(["scan", repo.full_name, "--github-url", base_url, "--format", "json"])
    assert exit_info.value.code in (0, 1)
    report = json.loads(capsys.readouterr().out)
    assert report["target"]["name"] == repo.full_name
    assert report["target"]["source"] == "github"
    with pytest.raises(SystemExit) as exit_info:
        main(["scan", "acme/does-not-exist", "--github-url", base_url])
    assert exit_info.value.code == 2
    assert "not found" in capsys.readouterr().err


def test_cli_checkout_with_a_token_asks_its_github_remote_for_settings(
    fake: tuple[FakeGitHub, str],
    org: FakeOrg,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    gh, base_url = fake
    repo = next(r for r in org.repos if r.default_branch is not None)
    root = tmp_path / "checkout"
    root.mkdir()
    write_files(root, {"README.md": "# app\n"})
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "init")
    git(root, "remote", "add", "origin", f"{base_url}/{repo.full_name}.git")
    monkeypatch.setenv("GITHUB_TOKEN", ADMIN)
    gh.reset_log()
    with pytest.raises(SystemExit):
        main(["scan", str(root), "--github-url", base_url, "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    statuses = {r["id"]: r["status"] for r in report["controls"]}
    assert all(statuses[c] != "unknown" for c in SETTINGS_CONTROLS), statuses
    assert gh.rest_requests + gh.graphql_requests <= 2
    with pytest.raises(SystemExit):
        main(["scan", str(root), "--github-url", base_url, "--format", "json", "--offline"])
    statuses = {r["id"]: r["status"] for r in json.loads(capsys.readouterr().out)["controls"]}
    assert all(statuses[c] == "unknown" for c in SETTINGS_CONTROLS)


def test_request_budget_scales_sublinearly() -> None:
    """0.1 requests per repository is the target at estate scale; check the shape on 120."""
    org = generate_org("acme", n_repos=120, seed=3)
    gh = FakeGitHub(orgs=[org], tokens={ADMIN: "admin"})
    with gh.serve() as base_url:
        estate, _ = estate_of(base_url, repo_filter=RepoFilter(True, True))
    n = len(estate.repositories)
    assert gh.rest_requests == math.ceil(n / 100)
    assert (gh.rest_requests + gh.graphql_requests) / n <= 0.15


def test_hostile_file_names_cannot_change_a_query() -> None:
    """Paths are written into queries as string literals only: quotes, braces and backslashes
    in a name are data, and the fake server validates every query against GitHub's schema."""
    name = 'docs/adr/0002-"}) { x } \\ security.md'
    adr = b"---\ntags: [security]\n---\n# 2. Encrypt data at rest\n\n## Decision\nWe encrypt.\n"
    repo = FakeRepo(
        "acme", "hostile", files={"docs/adr/0001-record.md": b"# 1. Record\n", name: adr}
    )
    gh = FakeGitHub(orgs=[FakeOrg("acme", [repo])], tokens={ADMIN: "admin"})
    with gh.serve() as base_url:
        estate, _ = estate_of(base_url)
    assert gh.unvalidated == []
    report = estate.repositories[0].report
    assert report is not None
    adrs = next(r for r in report.results if r.id == "security-adrs")
    assert adrs.status is Status.PASS, adrs.summary


def test_per_repository_endpoints_decide_security_when_the_listing_omits_it() -> None:
    on = FakeRepo(
        "acme",
        "on",
        files={"README.md": b"# x\n"},
        vulnerability_alerts=True,
        security_and_analysis={
            "dependabot_security_updates": "enabled",
            "secret_scanning": "enabled",
            "secret_scanning_push_protection": "disabled",
        },
    )
    off = FakeRepo("acme", "off", files={"README.md": b"# x\n"})
    gh = FakeGitHub(
        orgs=[FakeOrg("acme", [on, off])], tokens={ADMIN: "admin"}, listing_omits_security=True
    )
    with gh.serve() as base_url:
        estate, _ = estate_of(base_url)
    assert gh.unvalidated == []
    status = {
        (e.name, r.id): r.status
        for e in estate.repositories
        if e.report is not None
        for r in e.report.results
    }
    assert status[("acme/on", "dependabot-security-updates")] is Status.PASS
    assert status[("acme/on", "secret-scanning")] is Status.PARTIAL
    assert status[("acme/off", "dependabot-security-updates")] is Status.FAIL


def test_cli_authenticates_as_a_github_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pem, public = new_app_key()
    key_file = tmp_path / "app.pem"
    key_file.write_text(pem)
    repo = FakeRepo("acme", "app", files={"README.md": b"# x\n"})
    gh = FakeGitHub(orgs=[FakeOrg("acme", [repo])], tokens={}, apps={4242: public})
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    with gh.serve() as base_url, pytest.raises(SystemExit) as exit_info:
        main(
            [
                "scan",
                "--org",
                "acme",
                "--github-url",
                base_url,
                "--app-id",
                "4242",
                "--app-key",
                str(key_file),
                "--format",
                "json",
            ]
        )
    assert exit_info.value.code in (0, 1)
    out = capsys.readouterr()
    assert json.loads(out.out)["repositories"][0]["name"] == "acme/app"
    assert "PRIVATE KEY" not in out.out + out.err
    assert gh.unvalidated == []
