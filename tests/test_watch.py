"""Watching the estate (issue 15 §2): GitHub App webhooks at /github/webhook become rescans
through the register's queue, and the repository-issue action opens, updates, reminds and
closes one issue per drifting repository. Real parts throughout: the dashboard under uvicorn,
the fake GitHub (every REST call and GraphQL query validated, with GitHub's secondary limits on
writes), real SQLite and PostgreSQL registers."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fake_github import FakeGitHub, FakeOrg, FakeRepo
from fake_github.issues import issues_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from web_server import add_accounts, password_for, serve, web_settings

from secposture.policy import Policy, default_policy
from secposture.register.database import Database, Tx
from secposture.register.models import ScanRun
from secposture.register.watch_tables import WatchScan
from secposture.sources.github.auth import Secret, TokenCredentials
from secposture.sources.github.transport import GitHubClient
from secposture.watch import queue
from secposture.watch.interface import RescanRequest, WatchSettings
from secposture.watch.repository_issue import MARKER, WritePacer, parse_config
from secposture.watch.service import WatchState
from secposture.watch.webhook import decide, signature_valid
from secposture.watch.worker import Watcher
from secposture.web.app import create_app

TOKEN = "tok-watch-admin"  # nosec B105 - the fake GitHub's token
READER = "tok-watch-reader"  # nosec B105 - the fake GitHub's token of a read-only outsider
SECRET = "webhook-secret-for-tests-0123456789"  # nosec B105 - a test-only secret
CONFIG = b"""[issues]
enabled = true
strategy = "opt-out"
exclude = ["legacy"]
reminder_days = 1
"""
DEPENDABOT = b"""version: 2
updates:
  - package-ecosystem: pip
    directory: /
    schedule:
      interval: weekly
"""


def policy_of(*ids: str) -> Policy:
    """The baseline with only these controls on: the tests decide what fails."""
    policy = default_policy()
    controls = {cid: replace(c, enabled=cid in ids) for cid, c in policy.controls.items()}
    return replace(policy, controls=controls)


def make_org(*names: str) -> FakeOrg:
    repos = [
        FakeRepo("acme", name, files={"requirements.txt": b"requests==2.32.0\n"}) for name in names
    ]
    repos.append(FakeRepo("acme", ".github", files={"secposture-watch.toml": CONFIG}))
    return FakeOrg("acme", repos)


def push(name: str, branch: str = "main", org: str = "acme") -> dict[str, Any]:
    return {
        "ref": f"refs/heads/{branch}",
        "repository": {
            "full_name": f"{org}/{name}",
            "name": name,
            "owner": {"login": org},
            "default_branch": "main",
        },
        "organization": {"login": org},
        "sender": {"login": "alice"},
    }


def signed(
    event: str,
    payload: dict[str, Any],
    *,
    delivery: str | None = None,
    secret: str = SECRET,
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": signature,
        "Content-Type": "application/json",
    }
    return body, headers


@dataclass
class Estate:
    gh: FakeGitHub
    org: FakeOrg
    database: Database
    watcher: Watcher
    base: str  # the dashboard's URL
    http: httpx.Client
    gh_url: str = ""  # the fake GitHub's

    def deliver(self, event: str, payload: dict[str, Any], **kwargs: Any) -> httpx.Response:
        body, headers = signed(event, payload, **kwargs)
        return self.http.post(f"{self.base}/github/webhook", content=body, headers=headers)

    def rescans(self) -> list[dict[str, Any]]:
        return list(
            self.database.read(
                lambda tx: [
                    s.to_dict()
                    for s in tx.session.scalars(select(WatchScan).order_by(WatchScan.id))
                ]
            )
        )

    def jobs(self) -> list[dict[str, Any]]:
        return list(self.database.read(queue.pending))

    def run(self, **kwargs: Any) -> Any:
        return self.watcher.run_pending(**kwargs)


def _estate(
    register_url: str,
    org: FakeOrg,
    *,
    settle: timedelta = timedelta(0),
    secret: str = SECRET,
    write_interval: float = 0.25,
    pacer: WritePacer | None = None,
) -> Iterator[Estate]:
    gh = FakeGitHub(
        orgs=[org],
        tokens={TOKEN: "admin", READER: "read"},
        write_spacing_s=0.2,
        writes_per_minute=40,
    )
    database = Database.open(register_url)
    settings = WatchSettings(
        organisation="acme", webhook_secret=secret, settle=settle, full_rescan_every=None
    )
    with gh.serve() as api:
        watcher = Watcher(
            database,
            settings,
            policy_of("dependency-update-config"),
            lambda: GitHubClient(
                api,
                TokenCredentials(Secret(TOKEN), "GITHUB_TOKEN"),
                write_interval=write_interval,
                secondary_min_wait=0.5,
            ),
            pacer=pacer,
        )
        app = create_app(web_settings(register_url), database, watch=WatchState(settings))
        try:
            with serve(app) as base, httpx.Client(timeout=30) as http:
                yield Estate(gh, org, database, watcher, base, http, api)
        finally:
            watcher.stop()
            database.close()
    assert gh.unvalidated == []


@pytest.fixture
def estate(register_url: str) -> Iterator[Estate]:
    yield from _estate(register_url, make_org("payments", "ledger", "legacy"))


@pytest.fixture
def sqlite_estate(sqlite_register_url: str) -> Iterator[Estate]:
    yield from _estate(sqlite_register_url, make_org("payments", "ledger", "legacy"))


# --- end to end ----------------------------------------------------------------------------------


def test_a_signed_push_rescans_and_opens_an_issue_and_the_fix_closes_it(estate: Estate) -> None:
    answer = estate.deliver("push", push("payments"))
    assert answer.status_code == 202, answer.text
    assert [j["repository"] for j in estate.jobs()] == ["acme/payments"]

    results = estate.run()
    assert [(r.repository, r.reason, r.outcome) for r in results] == [
        ("acme/payments", "push", "recorded")
    ]
    assert results[0].issue is not None and results[0].issue.action == "opened"
    (issue,) = issues_of(estate.org.repo("payments"))  # type: ignore[arg-type]
    assert issue.state == "open"
    assert MARKER in (issue.body or "")
    assert "dependency-update-config" in (issue.body or "")
    assert "secposture fix --only dependency-update-config" in (issue.body or "")
    assert issue.labels == ["secposture"]
    (rescan,) = estate.rescans()
    assert (rescan["repository"], rescan["reason"], rescan["outcome"]) == (
        "acme/payments",
        "push",
        "recorded",
    )
    assert rescan["detail"] == "push to main by alice"
    assert rescan["scan"] is not None  # recorded as `scan --record` does
    assert estate.jobs() == []

    # The fix is pushed: the repository now has its Dependabot configuration.
    repo = estate.org.repo("payments")
    assert repo is not None
    repo.files[".github/dependabot.yml"] = DEPENDABOT
    assert estate.deliver("push", push("payments")).status_code == 202
    (result,) = estate.run()
    assert result.issue is not None and result.issue.action == "closed"
    assert issue.state == "closed"
    assert len(issues_of(repo)) == 1  # closed, not a second one opened
    runs = estate.database.read(
        lambda tx: tx.session.scalar(select(func.count()).select_from(ScanRun))
    )
    assert runs == 2
    assert estate.gh.limits.write_refusals == 0


def test_the_dashboard_shows_each_rescan_and_why_and_every_write(
    sqlite_estate: Estate,
) -> None:
    estate = sqlite_estate
    add_accounts(estate.database, ["viewer"])
    estate.deliver("push", push("payments"))
    estate.run()
    with httpx.Client(base_url=estate.base, timeout=30) as browser:
        login = browser.get("/login")
        token = login.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        browser.post(
            "/login",
            data={"username": "viewer", "password": password_for("viewer"), "csrf_token": token},
        )
        page = browser.get("/watch")
        repository = browser.get("/repository", params={"name": "acme/payments"})
    assert page.status_code == 200
    assert 'data-repository="acme/payments"' in page.text
    assert "push to main by alice" in page.text
    assert 'data-action="opened"' in page.text
    assert SECRET not in page.text  # the page says only whether webhooks are on
    assert repository.status_code == 200
    assert 'data-testid="repository-rescan"' in repository.text
    assert "push to main by alice" in repository.text


def test_the_worker_thread_answers_a_push_within_seconds(sqlite_estate: Estate) -> None:
    import time

    estate = sqlite_estate
    estate.watcher.settings = replace(estate.watcher.settings, poll_seconds=0.2)
    estate.watcher.start()
    started = time.monotonic()
    estate.deliver("push", push("ledger"))
    repo = estate.org.repo("ledger")
    assert repo is not None
    while not issues_of(repo) and time.monotonic() - started < 30:
        time.sleep(0.05)
    assert issues_of(repo), "no issue within 30 s of the push"


# --- the endpoint's defences ---------------------------------------------------------------------


def test_a_bad_or_missing_signature_is_refused_with_401_and_queues_nothing(
    sqlite_estate: Estate,
) -> None:
    estate = sqlite_estate
    body, headers = signed("push", push("payments"), secret="not-the-secret-at-all-000000")
    url = f"{estate.base}/github/webhook"
    assert estate.http.post(url, content=body, headers=headers).status_code == 401
    unsigned = {k: v for k, v in headers.items() if k != "X-Hub-Signature-256"}
    assert estate.http.post(url, content=body, headers=unsigned).status_code == 401
    sha1 = {**unsigned, "X-Hub-Signature": "sha1=" + hashlib.sha1(body).hexdigest()}  # noqa: S324
    assert estate.http.post(url, content=body, headers=sha1).status_code == 401
    # Signed for another body: the signature covers every byte.
    good_body, good_headers = signed("push", push("payments"))
    tampered = good_body.replace(b"payments", b"ledger")
    assert estate.http.post(url, content=tampered, headers=good_headers).status_code == 401
    assert estate.jobs() == []


def test_a_replayed_delivery_is_ignored(sqlite_estate: Estate) -> None:
    estate = sqlite_estate
    delivery = str(uuid.uuid4())
    assert estate.deliver("push", push("payments"), delivery=delivery).status_code == 202
    estate.run()
    replay = estate.deliver("push", push("payments"), delivery=delivery)
    assert replay.status_code == 200
    assert "already received" in replay.text
    assert estate.jobs() == []
    assert len(estate.rescans()) == 1


def test_200_deliveries_for_one_repository_in_a_second_are_one_rescan(register_url: str) -> None:
    import time

    for estate in _estate(register_url, make_org("payments"), settle=timedelta(seconds=5)):
        deliveries = [signed("push", push("payments")) for _ in range(200)]
        url = f"{estate.base}/github/webhook"

        def send(
            item: tuple[bytes, dict[str, str]], http: httpx.Client = estate.http, url: str = url
        ) -> int:
            return http.post(url, content=item[0], headers=item[1]).status_code

        started = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(send, deliveries))
        elapsed = time.monotonic() - started
        assert statuses == [202] * 200
        assert elapsed < 10, f"200 deliveries took {elapsed:.1f} s"
        (job,) = estate.jobs()
        assert job["requests"] == 200
        assert estate.run() == []  # still settling: nothing is due yet
        results = estate.run(at=datetime.fromisoformat(job["run_after"]) + timedelta(seconds=1))
        assert [r.repository for r in results] == ["acme/payments"]
        assert len(estate.rescans()) == 1
        assert estate.jobs() == []


def test_without_a_secret_every_delivery_is_refused_with_403(sqlite_register_url: str) -> None:
    for estate in _estate(sqlite_register_url, make_org("payments"), secret=""):
        body, headers = signed("push", push("payments"))
        answer = estate.http.post(f"{estate.base}/github/webhook", content=body, headers=headers)
        assert answer.status_code == 403
        assert estate.jobs() == []


def test_a_signed_delivery_that_is_not_json_or_has_no_id_is_400(sqlite_estate: Estate) -> None:
    estate = sqlite_estate
    url = f"{estate.base}/github/webhook"
    body = b"[" * 100_000  # nesting that would exhaust a recursive parser
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": signature,
    }
    assert estate.http.post(url, content=body, headers=headers).status_code == 400
    body, headers = signed("push", push("payments"))
    del headers["X-GitHub-Delivery"]
    assert estate.http.post(url, content=body, headers=headers).status_code == 400
    huge = b"x" * (3 * 1024 * 1024)
    assert estate.http.post(url, content=huge, headers=headers).status_code == 413
    assert estate.jobs() == []


def test_only_the_webhook_is_exempt_from_the_csrf_check(sqlite_estate: Estate) -> None:
    answer = sqlite_estate.http.post(f"{sqlite_estate.base}/logout")
    assert answer.status_code == 403


# --- the repository-issue action -----------------------------------------------------------------


def test_the_issue_is_updated_when_failures_change_and_reminded_at_most_daily(
    sqlite_estate: Estate,
) -> None:
    estate = sqlite_estate
    estate.watcher.policy = policy_of("dependency-update-config", "security-adrs")
    estate.deliver("push", push("payments"))
    (first,) = estate.run()
    assert first.issue is not None and first.issue.action == "opened"
    repo = estate.org.repo("payments")
    assert repo is not None
    (issue,) = issues_of(repo)
    assert "security-adrs" in (issue.body or "")

    # Unchanged failures the same day: no write at all.
    estate.deliver("push", push("payments"))
    (same,) = estate.run()
    assert same.issue is not None and same.issue.action == "unchanged"
    assert issue.comments == []

    # One of the two is fixed: the same issue is updated, not a second one opened.
    repo.files[".github/dependabot.yml"] = DEPENDABOT
    estate.deliver("push", push("payments"))
    (changed,) = estate.run()
    assert changed.issue is not None and changed.issue.action == "updated"
    assert len(issues_of(repo)) == 1
    assert "dependency-update-config" not in (issue.body or "")
    assert "1 required control failing" in issue.title

    # A day later, still failing: one reminder, and not another the same day.
    later = estate.database.clock() + timedelta(days=1, minutes=1)
    estate.database.clock = lambda: later
    estate.deliver("push", push("payments"))
    (reminded,) = estate.run()
    assert reminded.issue is not None and reminded.issue.action == "reminded"
    estate.deliver("push", push("payments"))
    (again,) = estate.run()
    assert again.issue is not None and again.issue.action == "unchanged"
    assert len(issue.comments) == 1


def test_opted_out_and_archived_repositories_get_no_issue(sqlite_estate: Estate) -> None:
    estate = sqlite_estate
    estate.deliver("push", push("legacy"))
    (result,) = estate.run()
    assert result.issue is not None and result.issue.action == "skipped"
    assert issues_of(estate.org.repo("legacy")) == []  # type: ignore[arg-type]
    repo = estate.org.repo("ledger")
    assert repo is not None
    repo.topics = ["secposture-issues-off"]  # the repository overrides (allowed by default)
    estate.deliver("push", push("ledger"))
    (override,) = estate.run()
    assert override.issue is not None and override.issue.action == "skipped"
    assert issues_of(repo) == []


def test_our_own_issue_is_found_by_its_marker_when_the_register_lost_it(
    sqlite_register_url: str, tmp_path: Path
) -> None:
    org = make_org("payments")
    repo = org.repo("payments")
    assert repo is not None
    for estate in _estate(sqlite_register_url, org):
        estate.deliver("push", push("payments"))
        estate.run()
    for estate in _estate(f"sqlite:///{tmp_path / 'new-register.db'}", org):
        # A new register knows no issue number: the open issue is found by its marker.
        estate.watcher.policy = policy_of("dependency-update-config", "security-adrs")
        estate.deliver("push", push("payments"))
        (result,) = estate.run()
        assert result.issue is not None and result.issue.action == "updated"
    assert len(issues_of(repo)) == 1


def test_writes_stay_under_the_secondary_limits(sqlite_register_url: str) -> None:
    names = [f"service-{i:02d}" for i in range(12)]
    org = make_org(*names)
    pacer = WritePacer(per_minute=8, per_hour=400)
    for estate in _estate(sqlite_register_url, org, pacer=pacer):
        for name in names:
            estate.deliver("push", push(name))
        results = estate.run()
        actions = [r.issue.action for r in results if r.issue is not None]
        assert actions.count("opened") == 8
        assert actions.count("deferred") == 4
        assert estate.gh.limits.write_refusals == 0  # no write refused by the fake's limits
        # The deferred ones are queued again, to write when the budget allows.
        assert {j["repository"] for j in estate.jobs()} == {
            f"acme/{n}"
            for n in names
            if not issues_of(org.repo(n))  # type: ignore[arg-type]
        }


# --- the schedule and the queue ------------------------------------------------------------------


def test_the_scheduled_full_rescan_covers_every_repository_once_an_interval(
    sqlite_estate: Estate,
) -> None:
    estate = sqlite_estate
    estate.watcher.settings = replace(
        estate.watcher.settings, full_rescan_every=timedelta(hours=24)
    )
    assert estate.watcher.schedule_full_rescan() is True
    assert estate.watcher.schedule_full_rescan() is False  # already queued
    results = estate.run()
    assert sorted(r.repository for r in results) == [
        "acme/.github",
        "acme/ledger",
        "acme/legacy",
        "acme/payments",
    ]
    assert {r["reason"] for r in estate.rescans()} == {"schedule"}
    assert all("requests for 4 repositories" in r["detail"] for r in estate.rescans())
    assert estate.watcher.schedule_full_rescan() is False  # done less than a day ago
    tomorrow = estate.database.clock() + timedelta(hours=25)
    assert estate.watcher.schedule_full_rescan(at=tomorrow) is True


def _enqueue(database: Database, request: RescanRequest) -> None:
    def add(tx: Tx) -> None:
        queue.enqueue(tx, request, timedelta(0))

    database.write("t", add)


def _claim(database: Database, worker: str, now: datetime) -> queue.ClaimedJob | None:
    def take(tx: Tx) -> queue.ClaimedJob | None:
        return queue.claim(tx, worker, now, timedelta(minutes=30))

    claimed: queue.ClaimedJob | None = database.write("t", take)
    return claimed


def test_workers_in_parallel_never_take_the_same_job(register_url: str) -> None:
    with Database.open(register_url) as database:
        names = [f"acme/repo-{i:02d}" for i in range(24)]
        for name in names:
            _enqueue(database, RescanRequest(name, "push", "push to main"))
        now = database.clock() + timedelta(seconds=1)

        def work(worker: str) -> list[str]:
            taken = []
            while (job := _claim(database, worker, now)) is not None:
                taken.append(job.repository)
            return taken

        with ThreadPoolExecutor(4) as pool:
            per_worker = list(pool.map(work, ["w1", "w2", "w3", "w4"]))
        everything = [name for taken in per_worker for name in taken]
        assert sorted(everything) == names  # each job once, none twice


def test_a_request_while_a_job_runs_runs_it_once_more_after(register_url: str) -> None:
    with Database.open(register_url) as database:
        _enqueue(database, RescanRequest("acme/a", "push", "push to main"))
        now = database.clock() + timedelta(seconds=1)
        taken = [_claim(database, w, now) for w in ("one", "two")]
        assert taken[1] is None
        # A request while a job runs: it runs once more afterwards, not twice at once.
        running = taken[0]
        assert running is not None
        again = RescanRequest(running.repository, "push", "push to main")
        _enqueue(database, again)
        assert _claim(database, "two", now) is None

        def finish(tx: Tx) -> None:
            queue.finish(
                tx,
                running,
                "one",
                None,
                retry_after=timedelta(0),
                max_attempts=3,
                settle=timedelta(0),
            )

        database.write("t", finish)
        rerun = _claim(database, "two", now + timedelta(seconds=1))
        assert rerun is not None and rerun.repository == running.repository


# --- what a delivery asks for --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "payload", "wanted"),
    [
        ("push", push("payments"), ["acme/payments"]),
        ("push", push("payments", branch="feature"), []),
        ("push", push("payments", org="other"), []),
        ("repository", {**push("x"), "action": "renamed"}, ["acme/x"]),
        ("repository", {**push("x"), "action": "archived"}, ["acme/x"]),
        ("repository", {**push("x"), "action": "edited"}, []),
        ("branch_protection_rule", {**push("x"), "action": "deleted"}, ["acme/x"]),
        ("security_and_analysis", {**push("x"), "action": "x"}, ["acme/x"]),
        ("repository_ruleset", {"action": "edited", "organization": {"login": "acme"}}, ["*"]),
        (
            "installation",
            {"action": "created", "installation": {"account": {"login": "acme"}}},
            ["*"],
        ),
        (
            "installation_repositories",
            {
                "action": "added",
                "installation": {"account": {"login": "acme"}},
                "repositories_added": [{"full_name": "acme/new"}, {"full_name": "../etc"}],
            },
            ["acme/new"],
        ),
        ("issues", {**push("x"), "action": "opened"}, []),
        ("ping", {"zen": "Keep it logically awesome."}, []),
    ],
)
def test_which_deliveries_queue_which_rescans(
    event: str, payload: dict[str, Any], wanted: list[str]
) -> None:
    decision = decide(event, payload, "d-1", "acme")
    assert [r.repository for r in decision.rescans] == wanted


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    event=st.sampled_from(
        ["push", "repository", "repository_ruleset", "installation", "installation_repositories"]
    ),
    payload=st.dictionaries(
        st.sampled_from(
            ["ref", "repository", "action", "organization", "installation", "repositories_added"]
        ),
        JSON,
    ),
)
def test_any_payload_gives_a_decision_never_a_crash(event: str, payload: dict[str, Any]) -> None:
    decision = decide(event, payload, "d", "acme")
    for request in decision.rescans:
        assert request.repository == "*" or request.repository.count("/") == 1


@given(st.text(max_size=100), st.binary(max_size=200))
def test_any_signature_header_is_checked_never_a_crash(header: str, body: bytes) -> None:
    assert signature_valid(SECRET, body, header) is False


def test_the_organisations_configuration_says_where_issues_go() -> None:
    opt_in = parse_config(
        '[issues]\nenabled = true\nstrategy = "opt-in"\nrepositories = ["Payments"]\n'
        'topics = ["production"]\nallow_repository_override = false\n'
    )
    assert opt_in.applies("payments", [])
    assert opt_in.applies("ledger", ["production"])
    assert not opt_in.applies("ledger", [])
    assert opt_in.applies("payments", ["secposture-issues-off"])  # no override allowed
    assert not parse_config("").applies("payments", [])  # off until the organisation opts in
    broken = parse_config("[issues]\nenabled = true\nreminder_days = 0\n")
    assert not broken.applies("payments", [])
    assert broken.problem is not None and "reminder_days" in broken.problem
    assert parse_config("[issues\n").problem is not None


# --- secposture serve --watch --------------------------------------------------------------------


def test_serve_watch_without_github_credentials_says_so(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from secposture.cli.main import cli

    result = CliRunner().invoke(
        cli, ["serve", "--watch", "acme", "--db", f"sqlite:///{tmp_path / 'r.db'}"]
    )
    assert result.exit_code == 2
    assert "no GitHub credentials" in result.output


def test_serve_watch_builds_the_dashboard_with_its_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from secposture.cli.serve import _watching_app

    monkeypatch.setenv("GITHUB_TOKEN", "not-a-real-token")
    monkeypatch.setenv("SECPOSTURE_GITHUB_WEBHOOK_SECRET", SECRET)
    app, database = _watching_app(
        web_settings(f"sqlite:///{tmp_path / 'r.db'}"), "acme", 6, True, None, None
    )
    try:
        watch = app.state.watch
        assert watch.watcher is not None
        assert watch.settings.organisation == "acme"
        assert watch.settings.webhook_secret == SECRET
        assert watch.settings.full_rescan_every == timedelta(hours=6)
    finally:
        database.close()
    app, database = _watching_app(
        web_settings(f"sqlite:///{tmp_path / 'r.db'}"), "acme", 0, False, None, None
    )
    database.close()
    assert app.state.watch.watcher is None  # queueing only
    assert app.state.watch.settings.full_rescan_every is None


@settings(max_examples=300)
@given(st.text(max_size=400))
def test_any_configuration_text_gives_a_configuration_never_a_crash(text: str) -> None:
    config = parse_config(text)
    assert config.problem is None or not config.applies("payments", [])


TOML_SCALAR = st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=30)


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value)  # a JSON string is a TOML basic string


@settings(max_examples=200)
@given(
    st.dictionaries(
        st.sampled_from(
            ["enabled", "strategy", "repositories", "topics", "exclude", "reminder_days", "label"]
        ),
        TOML_SCALAR | st.lists(TOML_SCALAR, max_size=4),
    )
)
def test_any_issues_table_gives_a_configuration_never_a_crash(table: dict[str, Any]) -> None:
    text = "[issues]\n" + "".join(f"{key} = {_toml(value)}\n" for key, value in table.items())
    config = parse_config(text)
    assert config.problem is None or not config.applies("payments", [])


def test_the_webhook_answers_at_once_while_a_rescan_is_running(register_url: str) -> None:
    import threading
    import time

    for estate in _estate(register_url, make_org("payments", "ledger")):
        estate.gh.latency_s = 0.5  # each GitHub request takes half a second: a rescan, seconds
        running = threading.Thread(target=estate.run)
        estate.deliver("push", push("payments"))
        running.start()
        time.sleep(0.3)  # the rescan of payments is under way
        started = time.perf_counter()
        answer = estate.deliver("push", push("ledger"))
        answered = time.perf_counter() - started
        running.join(60)
        assert answer.status_code == 202
        assert answered < 0.5, f"the webhook took {answered:.2f} s: it must only queue"


def test_an_archived_repository_is_rescanned_but_never_written_to(sqlite_estate: Estate) -> None:
    estate = sqlite_estate
    repo = estate.org.repo("payments")
    assert repo is not None
    repo.archived = True
    answer = estate.deliver("repository", {**push("payments"), "action": "archived"})
    assert answer.status_code == 202
    (result,) = estate.run()
    assert result.issue is not None and result.issue.action == "skipped"
    assert estate.gh.writes() == []


def test_an_issue_that_only_quotes_our_marker_is_not_taken_for_ours(sqlite_estate: Estate) -> None:
    estate = sqlite_estate
    repo = estate.org.repo("payments")
    assert repo is not None
    body = f"Please look at this: {MARKER} close me"
    with GitHubClient(estate.gh_url, TokenCredentials(Secret(READER), "GITHUB_TOKEN")) as outsider:
        outsider.rest(
            "POST",
            "/repos/acme/payments/issues",
            {"title": "hello", "body": body, "labels": ["secposture"]},
        )
    (forged,) = issues_of(repo)
    assert forged.labels == []  # GitHub dropped the outsider's label...
    forged.labels = ["secposture"]  # ...but someone triaging gave it ours
    estate.deliver("push", push("payments"))
    (result,) = estate.run()
    assert result.issue is not None and result.issue.action == "opened"
    assert len(issues_of(repo)) == 2
    assert (forged.state, forged.body) == ("open", body)  # left as it was


def test_a_push_is_not_held_up_by_the_full_rescan(sqlite_estate: Estate) -> None:
    estate = sqlite_estate
    estate.watcher.settings = replace(
        estate.watcher.settings, full_rescan_every=timedelta(hours=24)
    )
    assert estate.watcher.schedule_full_rescan() is True
    # The organisation thread has taken the full rescan and is still at it...
    full = _claim(estate.database, "elsewhere/organisation", estate.database.clock())
    assert full is not None and full.repository == "*"
    estate.deliver("push", push("payments"))
    # ...the organisation thread would not take the push, the repository thread does at once.
    assert estate.watcher.run_pending(scope="organisation") == []
    (result,) = estate.watcher.run_pending(scope="repository")
    assert (result.repository, result.reason) == ("acme/payments", "push")
    assert [j["repository"] for j in estate.jobs()] == ["*"]  # the full rescan goes on


def test_the_watcher_runs_a_thread_for_repositories_and_one_for_the_organisation(
    sqlite_estate: Estate,
) -> None:
    import threading

    estate = sqlite_estate
    estate.watcher.start()
    try:
        names = {t.name for t in threading.enumerate()}
        assert {"secposture-watch-repository", "secposture-watch-organisation"} <= names
    finally:
        estate.watcher.stop()
    names = {t.name for t in threading.enumerate()}
    assert "secposture-watch-repository" not in names


@settings(max_examples=200)
@given(message=st.text(max_size=300), path=st.text(max_size=100))
def test_repository_text_in_an_issue_is_inline_code_on_one_line(message: str, path: str) -> None:
    from secposture.model import ControlResult, Finding, Level, Location, Outcome, Status
    from secposture.watch.repository_issue import render

    hostile = f"`@acme/security` [click](https://evil.example) \n# Heading {message}"
    finding = Finding("p", Outcome.NEGATIVE, hostile, Location(path=f"{path}\n<!-- x -->"))
    result = ControlResult(
        "c", "Title", Level.REQUIRED, "g", Status.FAIL, "summary\n# not a heading", (finding,)
    )
    _title, body = render("acme/payments", [result])
    evidence = [line for line in body.splitlines() if line.startswith("- negative")]
    assert len(evidence) == 1  # newlines in repository text cannot start a heading or a list
    (line,) = evidence
    # Everything from the repository sits between one pair of backticks each.
    assert line.count("`") == 4
    headings = [x for x in body.splitlines() if x.startswith("#")]
    assert headings == ["### c: Title"]


def test_opting_a_repository_out_closes_its_open_issue_saying_why(sqlite_estate: Estate) -> None:
    estate = sqlite_estate
    estate.deliver("push", push("payments"))
    estate.run()
    repo = estate.org.repo("payments")
    assert repo is not None
    (issue,) = issues_of(repo)
    repo.topics = ["secposture-issues-off"]
    estate.deliver("repository", {**push("payments"), "action": "edited"})  # not watched
    estate.deliver("push", push("payments"))
    (result,) = estate.run()
    assert result.issue is not None and result.issue.action == "closed"
    assert issue.state == "closed"
    assert "no longer watched" in (issue.body or "")


def test_an_issue_deleted_on_github_is_opened_afresh(sqlite_estate: Estate) -> None:
    estate = sqlite_estate
    estate.deliver("push", push("payments"))
    estate.run()
    repo = estate.org.repo("payments")
    assert repo is not None
    issues_of(repo).clear()  # someone deleted it
    later = estate.database.clock() + timedelta(days=2)
    estate.database.clock = lambda: later
    estate.deliver("push", push("payments"))
    (reminder,) = estate.run()
    assert reminder.issue is not None and reminder.issue.action == "failed"
    estate.deliver("push", push("payments"))
    (again,) = estate.run()
    assert again.issue is not None and again.issue.action == "opened"
    assert len(issues_of(repo)) == 1


def test_secposture_history_shows_the_writes_to_a_repository_issue(
    sqlite_estate: Estate, sqlite_register_url: str
) -> None:
    """The watcher's writes are history like any other record's, in the terminal too."""
    from click.testing import CliRunner

    from secposture.cli.main import cli

    sqlite_estate.deliver("push", push("payments"))
    sqlite_estate.run()
    shown = CliRunner().invoke(
        cli, ["history", "repository-issue", "1", "--db", sqlite_register_url]
    )
    assert shown.exit_code == 0, shown.output
    assert "History of repository issue 1" in shown.output
    assert "opened by secposture watch" in shown.output
