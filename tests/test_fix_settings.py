"""`secposture fix --apply-settings` against the fake GitHub server over loopback HTTP: only what
is off is changed, every write validates against GitHub's OpenAPI description, a token without
admin access gets a reason per setting (never a traceback), a dry run writes nothing, and the scan
afterwards shows the settings controls passing."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from conftest import TODAY
from fake_github import BranchRule, FakeGitHub, FakeOrg, FakeRepo, PullRequestRule, Ruleset

from secposture.errors import SecpostureError
from secposture.fix.settings import (
    ALREADY,
    CHANGED,
    FAILED,
    PUSH_PROTECTION,
    REVIEW_REQUIRED,
    RULESET_NAME,
    SECRET_SCANNING,
    SECURITY_UPDATES,
    SETTINGS,
    VULNERABILITY_ALERTS,
    WOULD_CHANGE,
    SettingOutcome,
    apply_settings,
)
from secposture.model import Status
from secposture.policy import default_policy
from secposture.probes.interface import probe_reads
from secposture.scan import scan_github_repo
from secposture.sources.github.auth import Secret, TokenCredentials
from secposture.sources.github.fetch import GitHubFetcher
from secposture.sources.github.transport import GitHubClient

ADMIN = "tok-admin-e41d7c"  # nosec B105 - tokens of the fake server only
READ = "tok-read-9a02f3"  # nosec B105
WRITE = "tok-write-1c5b88"  # nosec B105
SETTINGS_CONTROLS = ("dependabot-security-updates", "secret-scanning", "pr-review-required")
ON = {
    "dependabot_security_updates": "enabled",
    "secret_scanning": "enabled",
    "secret_scanning_push_protection": "enabled",
}


def bare(name: str = "app", **kwargs: object) -> FakeRepo:
    return FakeRepo("acme", name, files={"README.md": b"# app\n"}, **kwargs)  # type: ignore[arg-type]


@contextmanager
def serving(*repos: FakeRepo) -> Iterator[tuple[FakeGitHub, str]]:
    gh = FakeGitHub(
        orgs=[FakeOrg("acme", list(repos))], tokens={ADMIN: "admin", READ: "read", WRITE: "write"}
    )
    with gh.serve() as base_url:
        yield gh, base_url


def client(base_url: str, token: str = ADMIN) -> GitHubClient:
    # write_interval 0: the spacing of writes is the transport's, tested there; keep tests fast.
    return GitHubClient(
        base_url, TokenCredentials(Secret(token), "GITHUB_TOKEN"), write_interval=0.0
    )


def by_setting(outcomes: list[SettingOutcome]) -> dict[str, SettingOutcome]:
    assert [o.setting for o in outcomes] == list(SETTINGS)
    return {o.setting: o for o in outcomes}


def statuses_after(base_url: str, name: str = "app") -> dict[str, Status]:
    with client(base_url) as gh:
        report = scan_github_repo(
            GitHubFetcher(gh, default_policy(), today=TODAY, reads=probe_reads), "acme", name
        )
    return {r.id: r.status for r in report.results if r.id in SETTINGS_CONTROLS}


def test_an_admin_token_turns_on_everything_that_is_off_and_the_scan_then_passes() -> None:
    repo = bare()
    with serving(repo) as (gh, base_url):
        assert set(statuses_after(base_url).values()) == {Status.FAIL}
        gh.reset_log()
        with client(base_url) as api:
            outcomes = by_setting(apply_settings(api, "acme", "app"))
        writes = [(w.method, w.path, w.status) for w in gh.writes()]
        after = statuses_after(base_url)
    assert {s: o.status for s, o in outcomes.items()} == dict.fromkeys(SETTINGS, CHANGED)
    assert "PUT /repos/acme/app/vulnerability-alerts" in outcomes[VULNERABILITY_ALERTS].detail
    assert RULESET_NAME in outcomes[REVIEW_REQUIRED].detail
    # Alerts before security updates (GitHub refuses them the other way round); one PATCH for
    # secret scanning and push protection together.
    assert writes == [
        ("PUT", "/repos/acme/app/vulnerability-alerts", 204),
        ("PUT", "/repos/acme/app/automated-security-fixes", 204),
        ("PATCH", "/repos/acme/app", 200),
        ("POST", "/repos/acme/app/rulesets", 201),
    ]
    assert gh.unvalidated == []
    assert after == dict.fromkeys(SETTINGS_CONTROLS, Status.PASS)
    (ruleset,) = repo.rulesets
    assert ruleset.enforcement == "active" and ruleset.include == ["~DEFAULT_BRANCH"]
    assert ruleset.pull_request is not None
    assert ruleset.pull_request.required_approving_review_count == 1
    assert ruleset.bypass_actors == []


def test_a_second_run_reports_already_and_writes_nothing() -> None:
    with serving(bare()) as (gh, base_url):
        with client(base_url) as api:
            apply_settings(api, "acme", "app")
            gh.reset_log()
            again = by_setting(apply_settings(api, "acme", "app"))
        assert gh.writes() == []
    assert {o.status for o in again.values()} == {ALREADY}
    assert "already requires 1 approving review on main" in again[REVIEW_REQUIRED].detail


def test_only_what_is_off_is_changed() -> None:
    repo = bare(
        security_and_analysis={**ON, "secret_scanning_push_protection": "disabled"},
        vulnerability_alerts=True,
        branch_rules=[BranchRule("main", required_approving_review_count=2)],
    )
    with serving(repo) as (gh, base_url), client(base_url) as api:
        outcomes = by_setting(apply_settings(api, "acme", "app"))
        writes = [(w.method, w.path) for w in gh.writes()]
    assert {s: o.status for s, o in outcomes.items()} == {
        VULNERABILITY_ALERTS: ALREADY,
        SECURITY_UPDATES: ALREADY,
        SECRET_SCANNING: ALREADY,
        PUSH_PROTECTION: CHANGED,
        REVIEW_REQUIRED: ALREADY,
    }
    assert "branch protection rule 'main' already requires 2 approving reviews" in (
        outcomes[REVIEW_REQUIRED].detail
    )
    assert writes == [("PATCH", "/repos/acme/app")]
    assert repo.rulesets == []
    assert repo.security_and_analysis == ON
    assert gh.unvalidated == []


def test_a_dry_run_says_what_would_change_and_writes_nothing() -> None:
    repo = bare(vulnerability_alerts=True)
    with serving(repo) as (gh, base_url), client(base_url) as api:
        outcomes = by_setting(apply_settings(api, "acme", "app", dry_run=True))
        assert gh.writes() == []
    assert outcomes[VULNERABILITY_ALERTS].status == ALREADY
    for setting in (SECURITY_UPDATES, SECRET_SCANNING, PUSH_PROTECTION, REVIEW_REQUIRED):
        assert outcomes[setting].status == WOULD_CHANGE, setting
        assert outcomes[setting].detail.startswith("would "), setting
    assert repo.security_and_analysis["secret_scanning"] == "disabled"
    assert repo.rulesets == []


@pytest.mark.parametrize("access", ["read", "write"])
def test_without_admin_access_each_setting_fails_with_the_reason(access: str) -> None:
    token = {"read": READ, "write": WRITE}[access]
    repo = bare()
    with serving(repo) as (gh, base_url), client(base_url, token) as api:
        outcomes = by_setting(apply_settings(api, "acme", "app"))
        after = statuses_after(base_url)
    assert {o.status for o in outcomes.values()} == {FAILED}
    for setting in (VULNERABILITY_ALERTS, SECRET_SCANNING, PUSH_PROTECTION, REVIEW_REQUIRED):
        assert "needs admin access" in outcomes[setting].detail, setting
    assert "need vulnerability alerts" in outcomes[SECURITY_UPDATES].detail
    assert repo.security_and_analysis["secret_scanning"] == "disabled"
    assert not repo.vulnerability_alerts and repo.rulesets == []
    assert set(after.values()) == {Status.FAIL}
    assert gh.unvalidated == []


def test_a_dry_run_with_a_read_token_says_it_cannot_see_and_needs_admin() -> None:
    with serving(bare()) as (gh, base_url), client(base_url, READ) as api:
        outcomes = by_setting(apply_settings(api, "acme", "app", dry_run=True))
        assert gh.writes() == []
    detail = outcomes[SECRET_SCANNING].detail
    assert outcomes[SECRET_SCANNING].status == WOULD_CHANGE
    assert "not visible to this token" in detail and "needs admin access" in detail


def test_a_feature_the_repository_lacks_is_reported_with_githubs_reason() -> None:
    repo = bare(secret_scanning_available=False)
    with serving(repo) as (gh, base_url), client(base_url) as api:
        outcomes = by_setting(apply_settings(api, "acme", "app"))
    assert outcomes[SECRET_SCANNING].status == FAILED
    assert "Secret scanning is not available" in outcomes[SECRET_SCANNING].detail
    assert outcomes[PUSH_PROTECTION].status == FAILED
    # The others do not depend on it and still change.
    assert outcomes[VULNERABILITY_ALERTS].status == CHANGED
    assert outcomes[REVIEW_REQUIRED].status == CHANGED
    assert gh.unvalidated == []


def test_a_review_rule_that_is_not_enforced_does_not_count() -> None:
    evaluate = Ruleset(77, "Protect main", enforcement="evaluate", pull_request=PullRequestRule(2))
    repo = bare(rulesets=[evaluate])
    with serving(repo) as (_, base_url), client(base_url) as api:
        outcome = by_setting(apply_settings(api, "acme", "app"))[REVIEW_REQUIRED]
    assert outcome.status == CHANGED
    assert [r.name for r in repo.rulesets] == ["Protect main", RULESET_NAME]


def test_our_own_ruleset_turned_off_by_someone_is_left_alone() -> None:
    ours = Ruleset(78, RULESET_NAME, enforcement="disabled", pull_request=PullRequestRule(1))
    repo = bare(rulesets=[ours])
    with serving(repo) as (gh, base_url), client(base_url) as api:
        outcome = by_setting(apply_settings(api, "acme", "app"))[REVIEW_REQUIRED]
        ruleset_writes = [w for w in gh.writes() if w.path.endswith("/rulesets")]
    assert outcome.status == FAILED
    assert "left as it is" in outcome.detail
    assert ruleset_writes == []
    assert repo.rulesets == [ours]


def test_an_archived_repository_is_read_only() -> None:
    repo = bare(archived=True)
    with serving(repo) as (_, base_url), client(base_url) as api:
        outcomes = by_setting(apply_settings(api, "acme", "app"))
    assert outcomes[VULNERABILITY_ALERTS].status == FAILED
    assert "archived" in outcomes[VULNERABILITY_ALERTS].detail


def test_a_missing_repository_is_a_clear_error() -> None:
    with (
        serving(bare()) as (_, base_url),
        client(base_url) as api,
        pytest.raises(SecpostureError, match="acme/nope not found"),
    ):
        apply_settings(api, "acme", "nope")


def test_the_token_is_never_in_the_outcomes_or_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with serving(bare()) as (_, base_url):
        for token in (READ, ADMIN):
            with client(base_url, token) as api:
                outcomes = apply_settings(api, "acme", "app") + apply_settings(
                    api, "acme", "app", dry_run=True
                )
            text = repr(outcomes) + " ".join(o.detail for o in outcomes)
            assert token not in text
    assert caplog.records, "the transport logs its requests at DEBUG"
    assert all(t not in caplog.text for t in (READ, ADMIN))
