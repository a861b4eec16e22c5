"""A hostile or broken GitHub (issue 10, section 2; ADR 0012): endless pagination, a server that
echoes the token, a GitHub that cannot be reached, and a checkout whose remote names another
host or repository. Real HTTP over loopback to the fake GitHub server (switched to misbehave),
to a closed port and to a listener that never answers."""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from conftest import TODAY, git, write_files
from fake_github import (
    BranchRule,
    FakeGitHub,
    FakeOrg,
    FakeRepo,
    Listener,
    closed_port,
    new_app_key,
)

from secposture.cli.main import main
from secposture.model import EstateReport, ScanReport, Status
from secposture.policy import default_policy
from secposture.probes.interface import probe_reads
from secposture.scan import scan_github_org
from secposture.sources.github.auth import Secret, TokenCredentials
from secposture.sources.github.fetch import GitHubFetcher, RepoFilter, declared_reads
from secposture.sources.github.transport import GitHubClient

ADMIN = "tok-admin-hostile-5e1d07"  # nosec B105 - a token of the fake server only
SETTINGS_CONTROLS = ("pr-review-required", "dependabot-security-updates", "secret-scanning")
FORMATS = ("terminal", "json", "markdown", "sarif", "html")
ORG_FORMATS = ("terminal", "json", "csv", "markdown", "html")
T = TypeVar("T")


def within(seconds: float, work: Callable[[], T]) -> T:
    """`work()`, failing the test (instead of hanging it) if it takes longer than `seconds`."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = work()
        except BaseException as exc:  # handed to the test below
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s: it does not stop"
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


def repos(n: int = 3) -> list[FakeRepo]:
    return [
        FakeRepo(
            "acme",
            f"svc-{i}",
            files={
                "README.md": b"# service\n",
                "SECURITY.md": b"# Security\n\nReport to security@example.org\n",
                ".github/workflows/ci.yml": b"on: push\njobs:\n  t:\n    runs-on: x\n"
                b"    steps:\n      - run: make test\n",
            },
            branch_rules=[BranchRule(pattern="main", required_approving_review_count=1)],
        )
        for i in range(n)
    ]


@pytest.fixture
def fake() -> Iterator[tuple[FakeGitHub, str]]:
    gh = FakeGitHub(orgs=[FakeOrg("acme", repos())], tokens={ADMIN: "admin"})
    with gh.serve() as base_url:
        yield gh, base_url


def client_of(base_url: str, **limits: Any) -> GitHubClient:
    from secposture.sources.github.limits import GitHubLimits

    return GitHubClient(
        base_url,
        TokenCredentials(Secret(ADMIN), "GITHUB_TOKEN"),
        limits=GitHubLimits(**limits),
        backoff_base=0.01,
    )


def estate_of(base_url: str, **limits: Any) -> EstateReport:
    with client_of(base_url, **limits) as client:
        fetcher = GitHubFetcher(client, default_policy(), today=TODAY, reads=probe_reads)
        return scan_github_org(fetcher, "acme", RepoFilter(), TODAY)


def status(report: ScanReport | None, control: str) -> Status:
    assert report is not None
    return next(r.status for r in report.results if r.id == control)


def summary(report: ScanReport | None, control: str) -> str:
    assert report is not None
    return next(r.summary for r in report.results if r.id == control)


def follow_ups(gh: FakeGitHub) -> int:
    """GraphQL requests for one more page of a connection (asked with `after:`)."""
    return sum(
        1
        for r in gh.log
        if r.kind == "graphql" and r.repos_in_query == 1 and r.graphql_cost is not None
    )


def file_controls() -> set[str]:
    """The controls whose probes read files (not settings or the register)."""
    from secposture.probes.interface import load_probe

    policy = default_policy()
    return {
        cid
        for cid, control in policy.controls.items()
        if control.enabled
        and any(
            not glob.startswith(("api:", "register:"))
            for probe in control.probes
            for glob in load_probe(probe).definition.reads
        )
    }


# -- 1. pagination that does not end ---------------------------------------------------------------


def test_a_repeated_cursor_is_noticed_and_review_becomes_unknown(
    fake: tuple[FakeGitHub, str],
) -> None:
    gh, base_url = fake
    gh.misbehaviour.repeat_cursor = True
    estate = within(60, lambda: estate_of(base_url))
    # Round one gives the cursor; one follow-up per connection repeats it: then we stop.
    assert gh.graphql_requests <= 2 + 2 * 3 + 4, gh.graphql_requests
    assert len(estate.repositories) == 3
    for entry in estate.repositories:
        assert status(entry.report, "pr-review-required") is Status.UNKNOWN
        assert "same cursor" in summary(entry.report, "pr-review-required")
        assert entry.report is not None
        problems = [str(p) for p in entry.report.problems]
        assert any("same cursor" in p and "branchProtectionRules" in p for p in problems)
        # Nothing else was cut: the files decide their controls as usual.
        assert status(entry.report, "security-policy") is Status.PASS
    assert gh.unvalidated == []


def test_a_checkouts_settings_with_a_repeated_cursor_leave_review_unknown(
    fake: tuple[FakeGitHub, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    gh, base_url = fake
    gh.misbehaviour.repeat_cursor = True
    monkeypatch.setenv("GITHUB_TOKEN", ADMIN)
    root = checkout_of(tmp_path, f"{base_url}/acme/svc-0.git")
    argv = ["scan", str(root), "--github-url", base_url, "--format", "json"]
    assert within(60, lambda: run_cli(argv)) in (0, 1)
    controls = {c["id"]: c for c in json.loads(capsys.readouterr().out)["controls"]}
    assert controls["pr-review-required"]["status"] == "unknown"
    assert "same cursor" in controls["pr-review-required"]["summary"]
    assert controls["secret-scanning"]["status"] != "unknown"  # the rest was read whole
    assert gh.graphql_requests <= 3


def test_endless_cursors_stop_at_the_page_cap_per_connection(
    fake: tuple[FakeGitHub, str],
) -> None:
    gh, base_url = fake
    gh.misbehaviour.endless_cursor = True
    estate = within(60, lambda: estate_of(base_url, connection_pages=3))
    # Three repositories, two connections each, three follow-up pages each.
    assert follow_ups(gh) == 3 * 2 * 3
    for entry in estate.repositories:
        assert status(entry.report, "pr-review-required") is Status.UNKNOWN
        assert "3 more pages" in summary(entry.report, "pr-review-required")
    assert gh.unvalidated == []


def test_endless_cursors_stop_at_the_run_cap(fake: tuple[FakeGitHub, str]) -> None:
    gh, base_url = fake
    gh.misbehaviour.endless_cursor = True
    estate = within(60, lambda: estate_of(base_url, connection_pages=3, run_connection_pages=4))
    assert follow_ups(gh) == 4
    for entry in estate.repositories:
        assert status(entry.report, "pr-review-required") is Status.UNKNOWN
    assert any("4 follow-up pages" in note for note in estate.usage.cut)


def test_endless_rest_pages_end_the_listing_and_the_estate_says_so(
    fake: tuple[FakeGitHub, str],
) -> None:
    gh, base_url = fake
    gh.misbehaviour.endless_rest_pages = True
    estate = within(60, lambda: estate_of(base_url))
    # Page 2 adds no repository: the listing ends there.
    assert sum(1 for r in gh.log if r.path.startswith("/orgs/acme/repos")) == 2
    assert len(estate.repositories) == 3
    assert all(r.report is not None for r in estate.repositories)
    assert any("listing" in note and "no repository" in note for note in estate.usage.cut)


def test_every_estate_format_says_what_the_run_cut(
    fake: tuple[FakeGitHub, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gh, base_url = fake
    gh.misbehaviour.endless_rest_pages = True
    monkeypatch.setenv("GITHUB_TOKEN", ADMIN)
    texts = org_outputs(base_url, tmp_path)
    assert len(texts) == len(ORG_FORMATS)
    for fmt, text in zip(ORG_FORMATS, texts, strict=True):
        if fmt != "csv":  # rows of repositories and controls only: nothing estate-wide
            # (the terminal folds long lines at its width)
            assert "linked to more pages that added no repository" in " ".join(text.split()), fmt


def test_a_listing_longer_than_the_page_cap_is_cut_and_said() -> None:
    from secposture.sources.github.limits import GitHubLimits

    served = 0

    def github(request: httpx.Request) -> httpx.Response:
        nonlocal served
        served += 1
        page = int(request.url.params.get("page", "1"))
        more = f'<https://api.github.com/orgs/acme/repos?per_page=100&page={page + 1}>; rel="next"'
        return httpx.Response(
            200,
            json=[{"name": f"r{page}", "owner": {"login": "acme"}}],
            headers={"link": more},
        )

    creds = TokenCredentials(Secret(ADMIN), "GITHUB_TOKEN")
    with GitHubClient(
        "https://api.github.com",
        creds,
        limits=GitHubLimits(listing_pages=7),
        transport=httpx.MockTransport(github),
    ) as client:
        fetcher = GitHubFetcher(client, default_policy(), today=TODAY, reads=probe_reads)
        states = within(30, lambda: fetcher.list_org("acme", RepoFilter()))
    assert served == 7 and len(states) == 7
    assert any("7 pages" in note for note in fetcher.cut)


def test_the_run_byte_budget_stops_reading_and_every_cut_is_said(
    fake: tuple[FakeGitHub, str],
) -> None:
    gh, base_url = fake
    # Enough for the listing and round one (a few KiB), not for the file texts.
    with client_of(base_url) as probe:
        fetcher = GitHubFetcher(probe, default_policy(), today=TODAY, reads=probe_reads)
        states = fetcher.list_org("acme", RepoFilter())
        fetcher.fetch_round_one(states)
        budget = probe.counters().bytes_read + 200
    gh.reset_log()
    estate = within(60, lambda: estate_of(base_url, run_bytes=budget))
    assert any("budget" in note for note in estate.usage.cut), estate.usage.cut
    reading_files = file_controls()
    for entry in estate.repositories:
        assert entry.report is not None, entry.error
        for result in entry.report.results:
            if result.id in reading_files:
                assert result.status is Status.UNKNOWN, (entry.name, result.id, result.status)
        assert any("budget" in p.message for p in entry.report.problems)
        # The settings were read before the budget ran out: still decided.
        assert status(entry.report, "pr-review-required") is Status.PASS


def test_a_repository_over_its_file_budget_is_unknown_where_files_decide() -> None:
    big = FakeRepo(
        "acme",
        "big",
        files={f"docs/adr/{i:04}-decision.md": b"# Decision\n" + b"x" * 4000 for i in range(30)}
        | {"SECURITY.md": b"# Security\n"},
    )
    small = FakeRepo("acme", "small", files={"SECURITY.md": b"# Security\n"})
    gh = FakeGitHub(orgs=[FakeOrg("acme", [big, small])], tokens={ADMIN: "admin"})
    with gh.serve() as base_url:
        estate = estate_of(base_url, repo_file_bytes=20_000)
    by_name = {e.name: e.report for e in estate.repositories}
    cut = by_name["acme/big"]
    assert cut is not None
    assert any("20,000 bytes" in p.message for p in cut.problems), cut.problems
    assert status(cut, "security-adrs") is Status.UNKNOWN
    assert status(by_name["acme/small"], "security-policy") is Status.PASS
    assert gh.unvalidated == []


def test_a_repository_over_its_file_list_budget_stops_listing_deeper() -> None:
    deep = {f"a/b/c/d/e/f/g/h/{i}.txt": b"x\n" for i in range(3)}
    repo = FakeRepo("acme", "deep", files={"README.md": b"# x\n", **deep})
    gh = FakeGitHub(orgs=[FakeOrg("acme", [repo])], tokens={ADMIN: "admin"})
    with gh.serve() as base_url:
        estate = estate_of(base_url, repo_files=1)
    report = estate.repositories[0].report
    assert report is not None
    assert any("file list" in p.message for p in report.problems), report.problems
    assert status(report, "security-policy") is Status.UNKNOWN


# -- 2. a token echoed by the server ---------------------------------------------------------------


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)  # every logger: ours, httpx's and httpcore's
    yield caplog


def run_cli(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    code = exit_info.value.code
    assert isinstance(code, int)
    return code


def org_outputs(base_url: str, tmp_path: Path) -> list[str]:
    """Every estate format, written to files; the exit codes are 0, 1 or 2 (an error)."""
    texts = []
    for fmt in ORG_FORMATS:
        target = tmp_path / f"estate.{fmt}"
        code = run_cli(
            ["scan", "--org", "acme", "--github-url", base_url, "--format", fmt, "-o", str(target)]
        )
        assert code in (0, 1, 2)
        if target.exists():
            texts.append(target.read_text("utf-8"))
    return texts


def checkout_of(tmp_path: Path, remote: str, name: str = "checkout") -> Path:
    root = tmp_path / name
    root.mkdir()
    write_files(root, {"README.md": "# app\n"})
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "init")
    git(root, "remote", "add", "origin", remote)
    return root


def checkout_outputs(root: Path, base_url: str, tmp_path: Path, *extra: str) -> list[str]:
    texts = []
    for fmt in FORMATS:
        target = tmp_path / f"report-{fmt}"
        code = run_cli(
            [
                "scan",
                str(root),
                "--github-url",
                base_url,
                "--format",
                fmt,
                "-o",
                str(target),
                *extra,
            ]
        )
        assert code in (0, 1)
        texts.append(target.read_text("utf-8"))
    return texts


def assert_token_nowhere(
    texts: list[str], capsys: pytest.CaptureFixture[str], logs: pytest.LogCaptureFixture
) -> str:
    captured = capsys.readouterr()
    shown = [*texts, captured.out, captured.err]
    shown += [r.getMessage() for r in logs.records]
    shown += [logging.Formatter().format(r) for r in logs.records]
    for text in shown:
        assert ADMIN not in text
    return captured.err


@pytest.mark.parametrize("refusal", [403, 404, 500])
def test_a_token_echoed_in_rest_errors_and_headers_is_never_shown(
    refusal: int,
    fake: tuple[FakeGitHub, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    all_logs: pytest.LogCaptureFixture,
) -> None:
    gh, base_url = fake
    gh.misbehaviour.echo_authorization = True
    gh.misbehaviour.refuse_rest = refusal
    monkeypatch.setenv("GITHUB_TOKEN", ADMIN)
    texts = org_outputs(base_url, tmp_path)
    repo = gh.orgs[0].repos[0]
    root = checkout_of(tmp_path, f"{base_url}/{repo.full_name}.git")
    texts += checkout_outputs(root, base_url, tmp_path)
    err = assert_token_nowhere(texts, capsys, all_logs)
    assert "Authorization: Bearer ***" in err  # the message is still shown, the token is not
    assert any(r.status == refusal for r in gh.log)


def test_a_token_echoed_in_graphql_errors_is_never_shown(
    fake: tuple[FakeGitHub, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    all_logs: pytest.LogCaptureFixture,
) -> None:
    gh, base_url = fake
    gh.misbehaviour.echo_authorization = True
    monkeypatch.setenv("GITHUB_TOKEN", ADMIN)
    texts = org_outputs(base_url, tmp_path)
    # Every repository was refused with the echo: the estate says why, without the token.
    estate = json.loads(texts[ORG_FORMATS.index("json")])
    assert estate["repositories"] and all(
        "Bearer ***" in r["error"] for r in estate["repositories"]
    )
    repo = gh.orgs[0].repos[0]
    root = checkout_of(tmp_path, f"{base_url}/{repo.full_name}.git")
    texts += checkout_outputs(root, base_url, tmp_path)
    err = assert_token_nowhere(texts, capsys, all_logs)
    assert "Bearer ***" in err


def test_an_app_jwt_and_installation_token_echoed_are_never_shown(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    all_logs: pytest.LogCaptureFixture,
) -> None:
    pem, public = new_app_key()
    key_file = tmp_path / "app.pem"
    key_file.write_text(pem)
    gh = FakeGitHub(orgs=[FakeOrg("acme", repos(2))], tokens={}, apps={4242: public})
    gh.misbehaviour.echo_authorization = True
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    app = ["--app-id", "4242", "--app-key", str(key_file)]
    with gh.serve() as base_url:
        # The installation token works; GraphQL echoes it in every error.
        code = run_cli(["scan", "--org", "acme", "--github-url", base_url, *app])
        assert code in (0, 1, 2)
        # The JWT itself is echoed by the refused installation lookup.
        gh.misbehaviour.refuse_rest = 403
        assert run_cli(["scan", "--org", "acme", "--github-url", base_url, *app]) == 2
    captured = capsys.readouterr()
    shown = captured.out + captured.err + "".join(r.getMessage() for r in all_logs.records)
    assert "Bearer ***" in shown
    # A JWT is three base64url parts; an installation token is what the fake minted.
    assert not re.search(r"eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+", shown)
    assert not re.search(r"ghs_[A-Za-z0-9]{10,}", shown)


def test_a_reason_phrase_echoing_the_token_is_redacted() -> None:
    def github(request: httpx.Request) -> httpx.Response:
        auth = request.headers["authorization"].encode()
        return httpx.Response(
            403, json={"message": "no"}, extensions={"reason_phrase": b"Forbidden " + auth}
        )

    from secposture.errors import SecpostureError

    creds = TokenCredentials(Secret(ADMIN), "GITHUB_TOKEN")
    with (
        GitHubClient(
            "https://api.github.com", creds, transport=httpx.MockTransport(github)
        ) as client,
        pytest.raises(SecpostureError) as caught,
    ):
        client.rest_get("/orgs/acme")
    assert ADMIN not in str(caught.value) and "***" in str(caught.value)


def test_a_token_written_with_json_escapes_is_redacted_once_decoded() -> None:
    escaped = "".join(f"\\u{ord(ch):04x}" for ch in ADMIN)

    def github(request: httpx.Request) -> httpx.Response:
        body = f'{{"tree": [{{"path": "docs/{escaped}.md"}}]}}'
        return httpx.Response(200, content=body.encode())

    creds = TokenCredentials(Secret(ADMIN), "GITHUB_TOKEN")
    with GitHubClient(
        "https://api.github.com", creds, transport=httpx.MockTransport(github)
    ) as client:
        assert client.rest_get("/repos/acme/x/git/trees/HEAD").json == {
            "tree": [{"path": "docs/***.md"}]
        }


def test_an_answer_nested_too_deeply_is_a_clear_error() -> None:
    from secposture.errors import SecpostureError

    def github(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"[" * 5000 + b"]" * 5000)

    creds = TokenCredentials(Secret(ADMIN), "GITHUB_TOKEN")
    with (
        GitHubClient(
            "https://api.github.com", creds, transport=httpx.MockTransport(github)
        ) as client,
        pytest.raises(SecpostureError, match="not JSON"),
    ):
        client.rest_get("/orgs/acme")


def test_log_records_never_carry_a_registered_secret(all_logs: pytest.LogCaptureFixture) -> None:
    from secposture.redaction import redact

    Secret("logged-credential-4c1e9a77")
    for name in ("secposture.github", "httpx", "httpcore"):
        logging.getLogger(name).warning("echo %s", "logged-credential-4c1e9a77")
    assert len(all_logs.records) == 3
    for record in all_logs.records:
        assert "logged-credential-4c1e9a77" not in record.getMessage()
    assert redact("x logged-credential-4c1e9a77 y") == "x *** y"


# -- 3. GitHub cannot be reached ------------------------------------------------------------------


def timed_cli(argv: list[str]) -> tuple[int, float]:
    started = time.monotonic()
    code = run_cli(argv)
    return code, time.monotonic() - started


def test_an_org_scan_against_a_refused_port_fails_fast_naming_the_host(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", ADMIN)
    with closed_port() as port:
        url = f"http://127.0.0.1:{port}"
        code, seconds = within(
            60, lambda: timed_cli(["scan", "--org", "acme", "--github-url", url])
        )
    err = capsys.readouterr().err
    assert code == 2 and seconds < 10, (code, seconds)
    lines = err.strip().splitlines()
    assert any("retrying" in line and "127.0.0.1" in line for line in lines), err
    errors = [line for line in lines if line.startswith("secposture: error:")]
    assert len(errors) == 1 and "cannot reach 127.0.0.1" in errors[0], err


def test_an_org_scan_against_a_host_that_never_answers_fails_fast(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", ADMIN)
    with Listener().running() as silent:
        code, seconds = within(
            60, lambda: timed_cli(["scan", "--org", "acme", "--github-url", silent.url])
        )
    err = capsys.readouterr().err
    assert code == 2 and seconds < 10, (code, seconds)
    errors = [line for line in err.splitlines() if line.startswith("secposture: error:")]
    assert len(errors) == 1 and "127.0.0.1" in errors[0] and "did not answer" in errors[0], err


@pytest.mark.parametrize("kind", ["refused", "silent"])
def test_a_checkout_scan_falls_back_to_its_files_when_github_cannot_be_reached(
    kind: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", ADMIN)
    with closed_port() as port, Listener().running() as silent:
        url = f"http://127.0.0.1:{port}" if kind == "refused" else silent.url
        root = checkout_of(tmp_path, f"{url}/acme/app.git")
        code, seconds = within(
            60, lambda: timed_cli(["scan", str(root), "--github-url", url, "--format", "json"])
        )
    captured = capsys.readouterr()
    assert code in (0, 1) and seconds < 10, (code, seconds)
    assert "127.0.0.1" in captured.err and "warning" in captured.err
    report = json.loads(captured.out)
    controls = {c["id"]: c for c in report["controls"]}
    for control in SETTINGS_CONTROLS:
        assert controls[control]["status"] == "unknown"
        assert "could not be reached" in controls[control]["summary"], controls[control]
        assert "scan with a GitHub token" not in controls[control]["summary"]
    assert controls["security-policy"]["status"] == "fail"  # the files still decide theirs


def mock_client(handler: Callable[[httpx.Request], httpx.Response], **limits: Any) -> GitHubClient:
    from secposture.sources.github.limits import GitHubLimits

    return GitHubClient(
        "https://api.github.com",
        TokenCredentials(Secret(ADMIN), "GITHUB_TOKEN"),
        limits=GitHubLimits(**limits),
        transport=httpx.MockTransport(handler),
        sleep=lambda seconds: None,
    )


def test_until_the_host_answers_a_rest_request_waits_briefly_and_is_not_retried() -> None:
    from secposture.sources.github.transport import GitHubUnreachable

    timeouts: list[dict[str, float]] = []

    def silent(request: httpx.Request) -> httpx.Response:
        timeouts.append(request.extensions["timeout"])
        raise httpx.ReadTimeout("timed out", request=request)

    with mock_client(silent) as client, pytest.raises(GitHubUnreachable) as caught:
        client.rest_get("/orgs/acme")
    assert len(timeouts) == 1 and timeouts[0]["read"] == 5.0 and timeouts[0]["connect"] == 5.0
    assert caught.value.host == "api.github.com"
    assert "api.github.com accepted the connection but did not answer within 5 s" in str(
        caught.value
    )


def test_after_the_first_answer_timeouts_and_retries_are_as_before() -> None:
    seen: list[dict[str, float]] = []
    answers = iter([httpx.Response(200, json={}), "timeout", httpx.Response(200, json={"ok": 1})])

    def github(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        answer = next(answers)
        if answer == "timeout":
            raise httpx.ReadTimeout("timed out", request=request)
        assert isinstance(answer, httpx.Response)
        return answer

    with mock_client(github) as client:
        client.rest_get("/orgs/acme")
        assert client.rest_get("/orgs/acme/repos").json == {"ok": 1}
    assert [t["read"] for t in seen] == [5.0, 30.0, 30.0]


def test_each_retry_is_said_as_a_warning_naming_the_host(
    all_logs: pytest.LogCaptureFixture,
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    from secposture.sources.github.transport import GitHubUnreachable

    with mock_client(refuse) as client, pytest.raises(GitHubUnreachable):
        client.rest_get("/orgs/acme")
    warnings = [r.getMessage() for r in all_logs.records if r.levelno == logging.WARNING]
    assert warnings == [
        next(w for w in warnings if "cannot reach api.github.com" in w and "retrying in" in w)
    ]


def test_the_run_byte_budget_stops_sending() -> None:
    from secposture.sources.github.transport import RunBudgetExhausted

    sent = 0

    def github(request: httpx.Request) -> httpx.Response:
        nonlocal sent
        sent += 1
        return httpx.Response(200, json={"pad": "x" * 1000})

    with mock_client(github, run_bytes=2500) as client:
        client.rest_get("/a")
        client.rest_get("/b")
        with pytest.raises(RunBudgetExhausted, match="budget of 2,500 bytes"):
            client.rest_get("/c")
        with pytest.raises(RunBudgetExhausted, match="not sent"):
            client.rest_get("/d")
        assert client.counters().bytes_read > 2500
    assert sent == 3


def test_a_repeated_page_link_is_a_cut_listing() -> None:
    from secposture.sources.github.transport import PaginationCut

    def github(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json=[1],
            headers={
                "link": '<https://api.github.com/orgs/acme/repos?per_page=100&page=2>; rel="next"'
            },
        )

    pages = []
    with mock_client(github) as client, pytest.raises(PaginationCut, match="already read"):
        for page in client.rest_page_responses("/orgs/acme/repos"):
            pages.append(page)
    assert len(pages) == 2


# -- 4. a checkout's remote is the checkout's word, not the operator's ---------------------------


def test_every_report_format_names_the_repository_whose_settings_were_read(
    fake: tuple[FakeGitHub, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gh, base_url = fake
    monkeypatch.setenv("GITHUB_TOKEN", ADMIN)
    repo = gh.orgs[0].repos[1]
    root = checkout_of(tmp_path, f"git@127.0.0.1:{repo.full_name}.git")
    texts = checkout_outputs(root, base_url, tmp_path)
    for fmt, text in zip(FORMATS, texts, strict=True):
        assert repo.full_name in text, fmt
    report = json.loads(texts[FORMATS.index("json")])
    assert report["target"]["repository"] == repo.full_name
    assert all(c["status"] != "unknown" for c in report["controls"] if c["id"] in SETTINGS_CONTROLS)


@pytest.mark.parametrize(
    "remote",
    [
        "http://127.0.0.2:{port}/acme/svc-0.git",
        "https://127.0.0.2/acme/svc-0.git",
        "git@127.0.0.2:acme/svc-0.git",
        "ssh://git@127.0.0.2:{port}/acme/svc-0.git",
        "https://127.0.0.1@127.0.0.2/acme/svc-0.git",
        "https://127.0.0.1.evil.example/acme/svc-0.git",
        "https://evil.example/127.0.0.1/acme/svc-0.git",
    ],
)
def test_a_remote_on_another_host_is_never_sent_the_token(
    remote: str,
    fake: tuple[FakeGitHub, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    gh, base_url = fake
    monkeypatch.setenv("GITHUB_TOKEN", ADMIN)
    with Listener("127.0.0.2").running() as evil:
        root = checkout_of(tmp_path, remote.format(port=evil.port))
        gh.reset_log()
        code = run_cli(["scan", str(root), "--github-url", base_url, "--format", "json"])
    assert code in (0, 1)
    assert evil.connections == 0 and ADMIN.encode() not in evil.received
    assert gh.log == []  # not even the configured API is asked about a repository elsewhere
    report = json.loads(capsys.readouterr().out)
    for control in report["controls"]:
        if control["id"] in SETTINGS_CONTROLS:
            assert control["status"] == "unknown"
            assert "on the configured GitHub (127.0.0.1)" in control["summary"], control


def test_a_github_com_remote_is_not_asked_about_when_the_api_is_enterprise_server(
    fake: tuple[FakeGitHub, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    gh, base_url = fake
    monkeypatch.setenv("GITHUB_TOKEN", ADMIN)
    root = checkout_of(tmp_path, "https://github.com/acme/svc-0.git")
    gh.reset_log()
    code = run_cli(["scan", str(root), "--github-url", f"{base_url}/api/v3", "--format", "json"])
    assert code in (0, 1)
    assert gh.log == []
    report = json.loads(capsys.readouterr().out)
    assert report["target"]["repository"] == "acme/svc-0"  # still named, for the register
    for control in report["controls"]:
        if control["id"] in SETTINGS_CONTROLS:
            assert "github.com" in control["summary"] and "127.0.0.1" in control["summary"]


def test_the_operators_repository_option_wins_over_the_checkouts_remote(
    fake: tuple[FakeGitHub, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    gh, base_url = fake
    monkeypatch.setenv("GITHUB_TOKEN", ADMIN)
    root = checkout_of(tmp_path, f"{base_url}/acme/svc-0.git")
    gh.reset_log()
    argv = ["scan", str(root), "--github-url", base_url, "--format", "json"]
    assert run_cli([*argv, "--repository", "acme/svc-2"]) in (0, 1)
    report = json.loads(capsys.readouterr().out)
    assert report["target"]["repository"] == "acme/svc-2"
    assert {r.path for r in gh.log if r.kind == "rest"} == {"/repos/acme/svc-2"}


def test_declared_reads_cover_the_file_controls() -> None:
    """The helper above and the fetcher agree on which controls read files."""
    assert declared_reads(default_policy(), probe_reads)
    assert "security-policy" in file_controls() and "pr-review-required" not in file_controls()
