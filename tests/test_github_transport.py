"""The GitHub HTTP transport: headers, pagination, ETags, rate limits, retries, errors, secrecy.

Protocol edge cases are served by httpx.MockTransport playing GitHub (exact headers and timings,
with a fake clock so a 60-second wait takes no time); integration with the fake GitHub server is
at the end of this file.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fake_github import FakeGitHub, generate_org

from secposture import __version__
from secposture.errors import SecpostureError
from secposture.model import ApiUsage
from secposture.sources.github.auth import (
    GitHubAuthError,
    InstallationTarget,
    Secret,
    TokenCredentials,
    credentials_from_env,
)
from secposture.sources.github.transport import (
    GitHubClient,
    GitHubError,
    GitHubUnavailable,
    GraphQLTooLarge,
    RateLimitError,
    graphql_url_for,
    next_link,
)

NOW = 1_800_000_000.0
TOKEN = "ghp_transport0test0token000000000000000000"
API = "https://api.github.com"
Handler = Callable[[httpx.Request], httpx.Response]


class FakeClock:
    def __init__(self) -> None:
        self.now = NOW
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Recorder:
    """GitHub played by a list of canned answers (the last repeats); records every request."""

    def __init__(self, *answers: httpx.Response | Callable[[httpx.Request], httpx.Response]):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        return answer(request) if callable(answer) else answer


def token_creds(token: str = TOKEN) -> TokenCredentials:
    return TokenCredentials(Secret(token), "GITHUB_TOKEN")


def make_client(
    handler: Handler, clock: FakeClock | None = None, base_url: str = API, **options: Any
) -> GitHubClient:
    clock = clock or FakeClock()
    return GitHubClient(
        base_url,
        options.pop("credentials", None) or token_creds(),
        transport=httpx.MockTransport(handler),
        clock=clock.time,
        sleep=clock.sleep,
        **options,
    )


def ok(body: Any = None, **headers: str) -> httpx.Response:
    return httpx.Response(200, json={} if body is None else body, headers=headers)


def limited(status: int = 403, body: str = "", **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"message": body}, headers=headers)


# -- requests and URLs ----------------------------------------------------------------------


def test_every_request_carries_githubs_headers() -> None:
    github = Recorder(ok({"login": "acme"}), ok({"data": {"viewer": {"login": "me"}}}))
    with make_client(github) as client:
        assert client.rest_get("/orgs/acme").json == {"login": "acme"}
        client.graphql("query { viewer { login } }")
    for request in github.requests:
        assert request.headers["accept"] == "application/vnd.github+json"
        assert request.headers["x-github-api-version"] == "2022-11-28"
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        assert request.headers["user-agent"] == f"secposture/{__version__}"
    assert str(github.requests[1].url) == f"{API}/graphql"
    assert json.loads(github.requests[1].content) == {"query": "query { viewer { login } }"}


@pytest.mark.parametrize(
    ("base", "graphql"),
    [
        ("https://api.github.com", "https://api.github.com/graphql"),
        ("https://ghe.example.org/api/v3", "https://ghe.example.org/api/graphql"),
        ("https://ghe.example.org/api/v3/", "https://ghe.example.org/api/graphql"),
        ("http://127.0.0.1:8123", "http://127.0.0.1:8123/graphql"),
    ],
)
def test_graphql_url(base: str, graphql: str) -> None:
    assert graphql_url_for(base) == graphql


def test_enterprise_server_paths() -> None:
    github = Recorder(ok([]), ok({"data": {}}))
    with make_client(github, base_url="https://ghe.example.org/api/v3") as client:
        client.rest_get("/orgs/acme/repos", {"type": "all"})
        client.graphql("query { viewer { login } }")
    urls = [str(r.url) for r in github.requests]
    assert urls == [
        "https://ghe.example.org/api/v3/orgs/acme/repos?type=all",
        "https://ghe.example.org/api/graphql",
    ]


@pytest.mark.parametrize(
    ("base", "message"),
    [
        ("http://ghe.example.org/api/v3", "plain http"),
        ("ftp://ghe.example.org", "http(s) URL"),
        ("https://user:pw@ghe.example.org", "must not carry credentials"),
    ],
)
def test_unsafe_base_urls_are_refused(base: str, message: str) -> None:
    with pytest.raises(SecpostureError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make_client(Recorder(ok()), base_url=base)


@pytest.mark.parametrize("path", ["https://evil.example/x", "//evil.example/x", "orgs/acme"])
def test_paths_cannot_leave_the_api(path: str) -> None:
    github = Recorder(ok())
    with make_client(github) as client, pytest.raises(GitHubError, match="not a GitHub API path"):
        client.rest_get(path)
    assert github.requests == []


# -- pagination -----------------------------------------------------------------------------


def pages_of(items: list[int], per_page: int) -> Handler:
    def answer(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        chunk = items[(page - 1) * per_page : page * per_page]
        links = []
        if page * per_page < len(items):
            nxt = request.url.copy_set_param("page", str(page + 1))
            links.append(f'<{nxt}>; rel="next"')
        links.append(f'<{request.url.copy_set_param("page", "9")}>; rel="last"')
        return httpx.Response(200, json=chunk, headers={"link": ", ".join(links)})

    return answer


def test_pages_follow_link_next_to_the_end() -> None:
    github = Recorder(pages_of(list(range(250)), 100))
    with make_client(github) as client:
        items = list(client.rest_pages("/orgs/acme/repos", {"type": "all"}))
    assert items == list(range(250))
    assert len(github.requests) == 3
    first = github.requests[0].url.params
    assert (first["per_page"], first["type"]) == ("100", "all")


def test_wrapped_lists_give_their_items() -> None:
    github = Recorder(ok({"total_count": 2, "repositories": [{"id": 1}, {"id": 2}]}))
    with make_client(github) as client:
        assert list(client.rest_pages("/installation/repositories")) == [{"id": 1}, {"id": 2}]


def test_a_next_link_to_another_host_is_not_followed() -> None:
    github = Recorder(ok([1], link='<https://evil.example/steal?page=2>; rel="next"'))
    with make_client(github) as client, pytest.raises(GitHubError, match="another site"):
        list(client.rest_pages("/orgs/acme/repos"))
    assert len(github.requests) == 1


def test_a_next_link_outside_the_enterprise_api_root_is_not_followed() -> None:
    base = "https://ghe.example.org/api/v3"
    github = Recorder(ok([1], link='<https://ghe.example.org/login?page=2>; rel="next"'))
    with make_client(github, base_url=base) as client, pytest.raises(GitHubError):
        list(client.rest_pages("/orgs/acme/repos"))
    assert len(github.requests) == 1


def test_a_looping_next_link_stops() -> None:
    github = Recorder(ok([1], link=f'<{API}/orgs/acme/repos?per_page=100>; rel="next"'))
    with make_client(github) as client, pytest.raises(GitHubError, match="does not end"):
        list(client.rest_pages("/orgs/acme/repos"))
    assert len(github.requests) == 1


def test_link_header_parsing() -> None:
    header = (
        '<https://api.github.com/x?labels=a,b&page=3>; rel="last", '
        '<https://api.github.com/x?labels=a,b&page=2>; rel="next"'
    )
    assert next_link(header) == "https://api.github.com/x?labels=a,b&page=2"
    assert next_link('<https://api.github.com/x?page=1>; rel="prev"') is None
    assert next_link(None) is None


# -- ETag cache -----------------------------------------------------------------------------


def etag_server(body: Any, etag: str = '"v1"') -> Handler:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.headers.get("if-none-match") == etag:
            return httpx.Response(304, headers={"etag": etag})
        return httpx.Response(200, json=body, headers={"etag": etag})

    return answer


def test_etag_revalidation_serves_the_cached_body() -> None:
    github = Recorder(etag_server({"name": "api"}))
    with make_client(github) as client:
        first = client.rest_get("/repos/acme/api")
        second = client.rest_get("/repos/acme/api")
        assert second.json == first.json == {"name": "api"}
        assert (first.not_modified, second.not_modified) == (False, True)
        assert github.requests[1].headers["if-none-match"] == '"v1"'
        assert client.counters().not_modified == 1
        # Other parameters are another resource: no If-None-Match.
        client.rest_get("/repos/acme/api", {"x": "1"})
        assert "if-none-match" not in github.requests[2].headers


def test_the_cache_is_not_shared_between_credentials() -> None:
    github = Recorder(etag_server({"private": True}))
    transport = httpx.MockTransport(github)
    for token in ("ghp_one", "ghp_two"):
        with GitHubClient(API, token_creds(token), transport=transport) as client:
            client.rest_get("/repos/acme/api")
    assert all("if-none-match" not in r.headers for r in github.requests)
    assert token_creds("ghp_one").identity != token_creds("ghp_two").identity
    assert "ghp_one" not in token_creds("ghp_one").identity


# -- rate limits ----------------------------------------------------------------------------


def test_primary_limit_waits_until_the_reset() -> None:
    clock = FakeClock()
    reset = str(int(NOW) + 30)
    github = Recorder(
        limited(
            403,
            "API rate limit exceeded",
            **{"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset},
        ),
        ok({"ok": True}),
    )
    with make_client(github, clock) as client:
        assert client.rest_get("/orgs/acme").json == {"ok": True}
        usage = client.usage()
    assert clock.sleeps == [pytest.approx(31)]  # to the reset, plus a second of clock skew
    assert (usage.retries, usage.seconds, usage.rest_requests) == (1, pytest.approx(31), 2)


def test_primary_limit_too_far_away_fails_clearly_without_waiting() -> None:
    clock = FakeClock()
    github = Recorder(
        limited(
            403,
            "API rate limit exceeded",
            **{"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 3000)},
        )
    )
    with (
        make_client(github, clock, max_wait=900) as client,
        pytest.raises(RateLimitError) as caught,
    ):
        client.rest_get("/orgs/acme/repos")
    message = str(caught.value)
    assert "GitHub GET /orgs/acme/repos: rate limit reached" in message
    assert "50 min away, longer than the 15 min" in message
    assert clock.sleeps == []
    assert isinstance(caught.value, SecpostureError)


@pytest.mark.parametrize(
    "headers",
    [
        {"retry-after": "inf"},
        {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "99999999999999999999"},
        {"retry-after": "Wed, 21 Oct 2999 07:28:00 GMT"},
    ],
)
def test_absurd_rate_limit_headers_fail_clearly(headers: dict[str, str]) -> None:
    clock = FakeClock()
    github = Recorder(limited(403, "API rate limit exceeded", **headers))
    with make_client(github, clock) as client, pytest.raises(RateLimitError, match="rate limit"):
        client.rest_get("/orgs/acme")
    assert all(wait <= 900 for wait in clock.sleeps)


def test_secondary_limit_honours_retry_after() -> None:
    clock = FakeClock()
    github = Recorder(limited(429, "slow down", **{"retry-after": "7"}), ok())
    with make_client(github, clock) as client:
        client.rest_get("/orgs/acme")
    assert clock.sleeps == [pytest.approx(7)]


def test_secondary_limit_without_retry_after_waits_a_minute_then_longer() -> None:
    clock = FakeClock()
    message = "You have exceeded a secondary rate limit. Please wait a few minutes."
    github = Recorder(limited(403, message), limited(403, message), ok())
    with make_client(github, clock) as client:
        client.rest_get("/orgs/acme")
    assert clock.sleeps == [pytest.approx(60), pytest.approx(120)]


def test_secondary_minimum_wait_is_configurable() -> None:
    clock = FakeClock()
    github = Recorder(limited(403, "secondary rate limit"), ok())
    with make_client(github, clock, secondary_min_wait=0.5) as client:
        client.rest_get("/orgs/acme")
    assert clock.sleeps == [pytest.approx(0.5)]


def test_a_limit_that_never_lifts_gives_up_after_max_retries() -> None:
    github = Recorder(limited(429, "", **{"retry-after": "1"}))
    with (
        make_client(github, max_retries=3) as client,
        pytest.raises(RateLimitError, match="still rate limited after 3 retries"),
    ):
        client.rest_get("/orgs/acme")
    assert len(github.requests) == 4


def test_a_plain_403_is_not_a_rate_limit() -> None:
    clock = FakeClock()
    github = Recorder(
        limited(403, "Resource not accessible by integration", **{"x-ratelimit-remaining": "4000"})
    )
    with make_client(github, clock) as client, pytest.raises(GitHubError) as caught:
        client.rest_get("/repos/acme/api/vulnerability-alerts")
    assert clock.sleeps == [] and len(github.requests) == 1
    message = str(caught.value)
    assert "GitHub GET /repos/acme/api/vulnerability-alerts: 403 Forbidden" in message
    assert "Resource not accessible by integration" in message
    assert caught.value.status == 403


def test_graphql_rate_limited_error_waits_for_the_reset() -> None:
    clock = FakeClock()
    body = {
        "data": None,
        "errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded"}],
    }
    github = Recorder(
        httpx.Response(
            200,
            json=body,
            headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 10)},
        ),
        ok({"data": {"viewer": {"login": "me"}}}),
    )
    with make_client(github, clock) as client:
        result = client.graphql("query { viewer { login } }")
    assert result.data == {"viewer": {"login": "me"}}
    assert clock.sleeps == [pytest.approx(11)]


def test_a_rate_limit_pauses_every_thread() -> None:
    """After a secondary limit no thread sends until the pause is over (GitHub counts them)."""
    first_limited = threading.Event()
    arrivals: list[tuple[str, float]] = []
    lock = threading.Lock()

    def github(request: httpx.Request) -> httpx.Response:
        with lock:
            arrivals.append((request.url.path, time.monotonic()))
            first = len(arrivals) == 1
        if first:
            first_limited.set()
            return limited(403, "You have exceeded a secondary rate limit")
        return ok()

    client = GitHubClient(
        API, token_creds(), transport=httpx.MockTransport(github), secondary_min_wait=0.3
    )
    a = threading.Thread(target=client.rest_get, args=("/a",))
    a.start()
    first_limited.wait(5)
    time.sleep(0.05)  # thread a is now pausing
    client.rest_get("/b")
    a.join()
    client.close()
    limited_at = arrivals[0][1]
    later = dict(arrivals[1:])
    assert later["/b"] - limited_at >= 0.25
    assert later["/a"] - limited_at >= 0.25


# -- server errors and retries --------------------------------------------------------------


def test_server_errors_are_retried_with_backoff() -> None:
    clock = FakeClock()
    github = Recorder(httpx.Response(502), httpx.Response(503), ok({"fine": 1}))
    with make_client(github, clock, backoff_base=1.0) as client:
        assert client.rest_get("/orgs/acme").json == {"fine": 1}
        assert client.counters().retries == 2
    # Jittered exponential: half to all of 1 s, then of 2 s.
    assert 0.5 <= clock.sleeps[0] <= 1.0 and 1.0 <= clock.sleeps[1] <= 2.0


def test_server_errors_give_up_after_max_retries() -> None:
    github = Recorder(httpx.Response(504))
    with make_client(github, max_retries=2) as client, pytest.raises(GitHubUnavailable) as caught:
        client.rest_get("/orgs/acme/repos")
    assert len(github.requests) == 3
    assert str(caught.value) == "GitHub GET /orgs/acme/repos: 504 Gateway Timeout (after 2 retries)"


def test_connection_errors_are_retried_once() -> None:
    """A refused connection is retried once, not six times (issue 10: a GitHub that cannot be
    reached must fail fast, naming the host)."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    github = Recorder(refuse, ok({"up": True}))
    with make_client(github) as client:
        assert client.rest_get("/orgs/acme").json == {"up": True}
    github = Recorder(refuse, refuse, ok({"up": True}))
    with make_client(github) as client, pytest.raises(GitHubUnavailable) as caught:
        client.rest_get("/orgs/acme")
    assert len(github.requests) == 2
    assert "cannot reach api.github.com (connection refused or no route) after 1 retry" in str(
        caught.value
    )


def test_a_post_is_not_resent_after_a_server_error() -> None:
    github = Recorder(httpx.Response(502))
    with make_client(github) as client, pytest.raises(GitHubUnavailable) as caught:
        client.rest("POST", "/repos/acme/api/pulls", {"title": "Add SECURITY.md"})
    assert len(github.requests) == 1
    assert str(caught.value) == "GitHub POST /repos/acme/api/pulls: 502 Bad Gateway"


def test_writes_are_spaced_apart() -> None:
    clock = FakeClock()
    github = Recorder(httpx.Response(204))
    with make_client(github, clock, write_interval=1.0) as client:
        assert client.rest("PUT", "/repos/acme/api/vulnerability-alerts").status == 204
        client.rest("PUT", "/repos/acme/web/vulnerability-alerts")
    assert clock.sleeps == [pytest.approx(1.0)]
    assert [r.method for r in github.requests] == ["PUT", "PUT"]


def test_graphql_server_error_is_too_large_at_once_when_the_caller_splits() -> None:
    github = Recorder(httpx.Response(502, json={"message": "Server Error"}))
    with make_client(github) as client, pytest.raises(GraphQLTooLarge) as caught:
        client.graphql("query { a: viewer { login } }", retry_server_errors=False)
    assert len(github.requests) == 1
    assert caught.value.status == 502
    assert not isinstance(caught.value, GitHubUnavailable)


def test_graphql_server_error_is_too_large_after_the_retries() -> None:
    github = Recorder(httpx.Response(502))
    with make_client(github, max_retries=2) as client, pytest.raises(GraphQLTooLarge):
        client.graphql("query { viewer { login } }")
    assert len(github.requests) == 3


def test_graphql_read_timeout_is_too_large() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    github = Recorder(slow)
    with make_client(github) as client, pytest.raises(GraphQLTooLarge, match="no answer in time"):
        client.graphql("query { viewer { login } }", retry_server_errors=False)
    assert len(github.requests) == 1


# -- GraphQL answers ------------------------------------------------------------------------


def test_partial_data_comes_back_with_its_errors_and_cost() -> None:
    body = {
        "data": {"r0": {"name": "api"}, "r1": None, "rateLimit": {"cost": 3, "remaining": 4990}},
        "errors": [
            {"type": "NOT_FOUND", "path": ["r1"], "message": "Could not resolve to a Repository"},
            {"type": "FORBIDDEN", "path": ["r0", "rulesets"], "message": "Resource not accessible"},
        ],
    }
    github = Recorder(ok(body), ok({"data": {"viewer": {"login": "me"}}}))
    with make_client(github) as client:
        result = client.graphql("query($n: Int!) { x }", {"n": 1})
        client.graphql("query { viewer { login } }")
        usage = client.usage()
    assert result.data is not None and result.data["r0"] == {"name": "api"}
    assert [e["type"] for e in result.errors] == ["NOT_FOUND", "FORBIDDEN"]
    assert result.errors[1]["path"] == ["r0", "rulesets"]
    assert result.cost == 3
    assert json.loads(github.requests[0].content)["variables"] == {"n": 1}
    assert usage == ApiUsage(rest_requests=0, graphql_requests=2, graphql_points=4, retries=0)


@pytest.mark.parametrize("content", [b"<html>oops</html>", b"[1, 2]", b'{"data": 5}'])
def test_a_malformed_graphql_answer_is_a_clear_error(content: bytes) -> None:
    github = Recorder(httpx.Response(200, content=content))
    with make_client(github) as client, pytest.raises(GitHubError, match="not a GraphQL response"):
        client.graphql("query { viewer { login } }")


# -- errors ---------------------------------------------------------------------------------


def test_not_found_names_method_path_and_status() -> None:
    github = Recorder(httpx.Response(404, json={"message": "Not Found"}))
    with make_client(github) as client:
        with pytest.raises(GitHubError) as caught:
            client.rest_get("/repos/acme/nope")
        assert str(caught.value) == (
            "GitHub GET /repos/acme/nope: 404 Not Found (not found, or not visible to GITHUB_TOKEN)"
        )
        assert (caught.value.method, caught.value.path, caught.value.status) == (
            "GET",
            "/repos/acme/nope",
            404,
        )
        # A caller that expects 404 (a setting that is off) asks for it.
        assert client.rest_get("/repos/acme/nope", allow=(404,)).status == 404


def test_bad_credentials_is_an_auth_error_naming_the_variable() -> None:
    github = Recorder(httpx.Response(401, json={"message": "Bad credentials"}))
    with make_client(github) as client, pytest.raises(GitHubAuthError) as caught:
        client.rest_get("/orgs/acme")
    assert "rejected the credentials from GITHUB_TOKEN" in str(caught.value)
    assert len(github.requests) == 1  # the same token would be refused again


def test_hostile_answers_get_clear_errors() -> None:
    escape = "\x1b[31mred\x1b]0;title\x07"
    github = Recorder(
        httpx.Response(200, content=b"\xff\xfe not json"),
        httpx.Response(422, json={"message": escape + "x" * 5000}),
        httpx.Response(200, content=b"[" * 200),
    )
    with make_client(github, max_response_bytes=100) as client:
        with pytest.raises(GitHubError, match="200 but the answer is not JSON"):
            client.rest_get("/a")
        with pytest.raises(GitHubError) as caught:
            client.rest_get("/b")
        assert "\x1b" not in str(caught.value) and len(str(caught.value)) < 400
        with pytest.raises(GitHubError, match="answer larger than 100 bytes"):
            client.rest_get("/c")


def test_redirects_are_followed_on_the_same_site_only() -> None:
    github = Recorder(
        httpx.Response(301, headers={"location": f"{API}/repositories/42"}),
        ok({"id": 42}),
        httpx.Response(307, headers={"location": "https://evil.example/repositories/42"}),
    )
    with make_client(github) as client:
        assert client.rest_get("/repos/acme/old-name").json == {"id": 42}
        assert str(github.requests[1].url) == f"{API}/repositories/42"
        with pytest.raises(GitHubError, match="another site"):
            client.rest_get("/repos/acme/moved")
    assert len(github.requests) == 3


# -- concurrency and counters ---------------------------------------------------------------


def test_concurrency_bounds_requests_in_flight() -> None:
    in_flight = peak = 0
    lock = threading.Lock()

    def github(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(0.02)
        with lock:
            in_flight -= 1
        return ok([])

    client = GitHubClient(API, token_creds(), transport=httpx.MockTransport(github), concurrency=2)
    threads = [
        threading.Thread(target=client.rest_get, args=(f"/repos/acme/r{i}",)) for i in range(10)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak == 2
    assert client.counters().rest_requests == 10
    client.close()


# -- secrecy --------------------------------------------------------------------------------


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)  # every logger, httpx's and httpcore's included
    yield caplog


def test_requests_are_logged_at_debug(all_logs: pytest.LogCaptureFixture) -> None:
    with make_client(Recorder(ok([]))) as client:
        client.rest_get("/orgs/acme/repos", {"page": 2})
    ours = [r for r in all_logs.records if r.name == "secposture.github"]
    assert len(ours) == 1 and ours[0].levelno == logging.DEBUG
    assert ours[0].getMessage().startswith("GET /orgs/acme/repos?page=2 200 ")


def test_the_token_appears_in_no_log_error_or_repr(all_logs: pytest.LogCaptureFixture) -> None:
    message = "You have exceeded a secondary rate limit"
    github = Recorder(
        ok([1], link=f'<{API}/orgs/acme/repos?page=2>; rel="next"'),
        ok([2]),
        httpx.Response(404, json={"message": "Not Found"}),
        httpx.Response(502),
        limited(403, message, **{"retry-after": "99999"}),
        httpx.Response(401, json={"message": "Bad credentials"}),
    )
    shown: list[str] = []
    with make_client(github, max_retries=0) as client:
        list(client.rest_pages("/orgs/acme/repos"))
        for path in ("/a", "/b", "/c", "/d"):
            try:
                client.rest_get(path)
            except SecpostureError as exc:
                shown += [str(exc), repr(exc), repr(exc.__cause__), repr(exc.__context__)]
        shown += [repr(client), repr(client.usage()), repr(client.counters())]
    shown += [r.getMessage() for r in all_logs.records]
    assert len(shown) > 15
    assert all(TOKEN not in text for text in shown)
    assert all(r.args is None or TOKEN not in repr(r.args) for r in all_logs.records)


def test_app_key_jwt_and_installation_tokens_appear_nowhere(
    all_logs: pytest.LogCaptureFixture,
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    secrets_seen: list[str] = []
    minted = 0

    def github(request: httpx.Request) -> httpx.Response:
        nonlocal minted
        secrets_seen.append(request.headers["authorization"].removeprefix("Bearer "))
        if request.url.path == "/orgs/acme/installation":
            return ok({"id": 9})
        if request.url.path == "/app/installations/9/access_tokens":
            minted += 1
            token = f"ghs_minted{minted}installation0token0secret"
            return httpx.Response(201, json={"token": token, "expires_at": "2099-01-01T00:00:00Z"})
        if request.url.path == "/revoked":
            return httpx.Response(401, json={"message": "Bad credentials"})
        return httpx.Response(404, json={"message": "Not Found"})

    creds = credentials_from_env(
        {"SECPOSTURE_APP_ID": "321", "SECPOSTURE_APP_PRIVATE_KEY": pem},
        target=InstallationTarget("acme"),
    )
    shown: list[str] = [repr(creds), str(creds)]
    with GitHubClient(API, creds, transport=httpx.MockTransport(github)) as client:
        for path in ("/missing", "/revoked"):
            try:
                client.rest_get(path)
            except SecpostureError as exc:
                shown += [str(exc), repr(exc)]
        shown += [repr(client), repr(creds)]
    shown += [r.getMessage() for r in all_logs.records]
    assert minted == 2  # the 401 re-minted once before giving up
    assert len(secrets_seen) >= 6  # JWTs and installation tokens were really sent
    pem_lines = [line for line in pem.splitlines() if "-----" not in line]
    for text in shown:
        assert not any(secret in text for secret in secrets_seen)
        assert not any(line in text for line in pem_lines)


# -- against the fake GitHub server ---------------------------------------------------------
# Real HTTP over loopback to a server that validates every request against GitHub's published
# OpenAPI description and GraphQL schema.

FAKE_TOKENS = {"tok-admin": "admin", "tok-read": "read"}


@pytest.fixture(scope="module")
def app_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def fake(app_key: rsa.RSAPrivateKey) -> Iterator[tuple[FakeGitHub, str]]:
    public = (
        app_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    gh = FakeGitHub(
        orgs=[generate_org("acme", n_repos=12, seed=1)],
        tokens=FAKE_TOKENS,
        fail_graphql_over_repos=3,
        apps={12345: public},
    )
    with gh.serve() as base_url:
        yield gh, base_url
    assert gh.unvalidated == []


def fake_client(base_url: str, token: str = "tok-admin", **options: Any) -> GitHubClient:  # noqa: S107
    return GitHubClient(base_url, token_creds(token), **options)


def repo_names(gh: FakeGitHub) -> list[str]:
    return sorted(r.name for r in gh.orgs[0].repos)


def test_fake_listing_follows_every_page(fake: tuple[FakeGitHub, str]) -> None:
    gh, base_url = fake
    with fake_client(base_url, "tok-read") as client:
        items = list(client.rest_pages("/orgs/acme/repos", {"per_page": 5}))
        usage = client.usage()
    assert sorted(item["name"] for item in items) == repo_names(gh)
    assert usage.rest_requests == 3  # 12 repositories, 5 a page


def test_fake_etag_revalidation(fake: tuple[FakeGitHub, str]) -> None:
    gh, base_url = fake
    name = repo_names(gh)[0]
    with fake_client(base_url) as client:
        first = client.rest_get(f"/repos/acme/{name}")
        gh.reset_log()
        second = client.rest_get(f"/repos/acme/{name}")
        assert second.not_modified and second.json == first.json
        assert client.counters().not_modified == 1
    assert [record.status for record in gh.log] == [304]


def test_fake_read_token_versus_admin_token(fake: tuple[FakeGitHub, str]) -> None:
    gh, base_url = fake
    repo = next(r for r in gh.orgs[0].repos if not r.is_empty and r.vulnerability_alerts)
    alerts = f"/repos/acme/{repo.name}/vulnerability-alerts"
    fixes = f"/repos/acme/{repo.name}/automated-security-fixes"
    with fake_client(base_url, "tok-read") as reader:
        # GitHub hides admin-only settings from everyone else as "not found".
        assert reader.rest_get(alerts, allow=(404,)).status == 404
        with pytest.raises(GitHubError) as caught:
            reader.rest_get(fixes)
    assert caught.value.status == 404
    assert str(caught.value) == (
        f"GitHub GET {fixes}: 404 Not Found (not found, or not visible to GITHUB_TOKEN)"
    )
    with fake_client(base_url, "tok-admin") as admin:
        assert admin.rest_get(alerts, allow=(404,)).status == 204
        assert admin.rest_get(fixes).json.keys() == {"enabled", "paused"}


def test_fake_bad_token(fake: tuple[FakeGitHub, str]) -> None:
    _, base_url = fake
    with fake_client(base_url, "tok-wrong") as client, pytest.raises(GitHubAuthError) as caught:
        client.rest_get("/orgs/acme")
    assert "GITHUB_TOKEN" in str(caught.value) and "tok-wrong" not in str(caught.value)


def repos_query(names: list[str]) -> str:
    aliases = " ".join(
        f'r{i}: repository(owner: "acme", name: {json.dumps(n)}) {{ name }}'
        for i, n in enumerate(names)
    )
    return f"query {{ {aliases} rateLimit {{ cost remaining }} }}"


def test_fake_graphql_partial_data_and_cost(fake: tuple[FakeGitHub, str]) -> None:
    gh, base_url = fake
    name = repo_names(gh)[0]
    with fake_client(base_url, "tok-read") as client:
        result = client.graphql(repos_query([name, "no-such-repo"]))
        usage = client.usage()
    assert result.data is not None
    assert result.data["r0"] == {"name": name} and result.data["r1"] is None
    assert [(e.get("type"), e.get("path")) for e in result.errors] == [("NOT_FOUND", ["r1"])]
    assert result.cost is not None and result.cost >= 1
    assert (usage.graphql_requests, usage.graphql_points) == (1, result.cost)


def test_fake_oversized_graphql_is_too_large(fake: tuple[FakeGitHub, str]) -> None:
    gh, base_url = fake
    gh.reset_log()
    with fake_client(base_url) as client, pytest.raises(GraphQLTooLarge):
        client.graphql(repos_query(repo_names(gh)[:4]), retry_server_errors=False)
    assert [(r.kind, r.status) for r in gh.log] == [("graphql", 502)]


def test_fake_secondary_limit_is_waited_out(fake: tuple[FakeGitHub, str]) -> None:
    gh, base_url = fake
    gh.limits.secondary_after = 1
    gh.reset_log()
    try:
        with fake_client(base_url, secondary_min_wait=0.1) as client:
            client.rest_get("/orgs/acme")
            started = time.monotonic()
            assert client.rest_get("/orgs/acme/repos").status == 200
            waited = time.monotonic() - started
            assert client.counters().retries == 1
    finally:
        gh.limits.secondary_after = None
    assert [r.status for r in gh.log] == [200, 403, 200]
    assert waited >= 0.9  # the fake's Retry-After: 1


def test_fake_primary_limit_too_far_away_fails_clearly(app_key: rsa.RSAPrivateKey) -> None:
    gh = FakeGitHub(
        orgs=[generate_org("acme", n_repos=2, seed=2)], tokens=FAKE_TOKENS, rate_limit=2
    )
    with gh.serve() as base_url, fake_client(base_url) as client:
        # Different pages: a 304 would not count against the limit.
        client.rest_get("/orgs/acme/repos", {"per_page": 1})
        client.rest_get("/orgs/acme/repos", {"per_page": 2})
        started = time.monotonic()
        with pytest.raises(RateLimitError, match="rate limit reached; it lifts at"):
            client.rest_get("/orgs/acme/repos", {"per_page": 3})
        assert time.monotonic() - started < 5
    assert gh.unvalidated == []


def test_fake_app_installation_token(
    fake: tuple[FakeGitHub, str], app_key: rsa.RSAPrivateKey
) -> None:
    gh, base_url = fake
    pem = app_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    creds = credentials_from_env(
        {"SECPOSTURE_APP_ID": "12345", "SECPOSTURE_APP_PRIVATE_KEY": pem},
        target=InstallationTarget("acme"),
    )
    gh.reset_log()
    with GitHubClient(base_url, creds) as client:
        names = sorted(item["name"] for item in client.rest_pages("/orgs/acme/repos"))
        result = client.graphql(repos_query(names[:2]))
    assert names == repo_names(gh)
    assert result.errors == ()
    assert [(r.method, r.path.split("?")[0], r.status) for r in gh.log] == [
        ("GET", "/orgs/acme/installation", 200),
        ("POST", f"/app/installations/{creds.installation_id}/access_tokens", 201),  # type: ignore[union-attr]
        ("GET", "/orgs/acme/repos", 200),
        ("POST", "/graphql", 200),
    ]
