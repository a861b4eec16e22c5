"""The one HTTP client everything uses to reach GitHub (REST and GraphQL), on httpx.

What it takes care of, so callers only ask for data:
- GitHub's headers (API version, media type, Authorization built from a `Secret`, User-Agent);
- ETag caching of GETs (per credential identity, never the token) and `Link` pagination;
- rate limits: the primary limit waits for its reset (or fails clearly when that is too far away),
  secondary limits wait `Retry-After` or at least a minute, growing; every thread pauses together;
- 502/503/504: jittered exponential backoff, up to `server_retries`; GraphQL server errors become
  `GraphQLTooLarge` so the fetcher can halve its batch;
- a host that cannot be reached fails fast (ADR 0012): a short connect timeout, a short wait for
  the first answer, at most one retry, each retry said as a WARNING log record (the command line
  prints them), and a one-line error naming the host;
- the limits of limits.py: the size of one answer and of all of a run's answers, the pages of a
  listing (a repeated page link is noticed);
- counters for the usage report, and DEBUG logs of method, path, status and duration.

A request is never sent outside the base URL's origin: pagination links and redirects that point
elsewhere are refused, so the token cannot be carried to another host. Every answer has the
credential values this process holds blanked out before anything reads it (redaction.py), so a
server that echoes the Authorization header cannot put the token into a message, log or report.
"""

from __future__ import annotations

import json as jsonlib
import logging
import math
import random
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from secposture import __version__
from secposture.errors import SecpostureError
from secposture.model import ApiUsage
from secposture.redaction import guard_logger, holds_secret, redact, redact_bytes, redact_tree
from secposture.sources.github.auth import Credentials, GitHubAuthError, Secret
from secposture.sources.github.limits import DEFAULT_LIMITS, GitHubLimits, size

logger = logging.getLogger("secposture.github")
# Our records and the HTTP client's are redacted: httpx quotes the server's reason phrase,
# httpcore's DEBUG traces quote every response header. A filter sees only the records of the
# logger it is on, so each of httpcore's loggers is guarded.
_HTTPCORE_LOGGERS = ("connection", "http11", "http2", "proxy", "socks")
for _name in (
    "secposture.github",
    "httpx",
    "httpcore",
    *(f"httpcore.{n}" for n in _HTTPCORE_LOGGERS),
):
    guard_logger(_name)

DEFAULT_BASE_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
MEDIA_TYPE = "application/vnd.github+json"
PER_PAGE = 100
CACHE_ENTRIES = 4096
RETRYABLE_STATUSES = frozenset({502, 503, 504})
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE"})
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_SECONDARY_MARKERS = (b"secondary rate limit", b"abuse detection")
_LINK = re.compile(r"<([^>]*)>([^<]*)")
_REL = re.compile(r"""rel\s*=\s*"?([^";,]*)"?""")


class GitHubError(SecpostureError):
    """GitHub refused or failed a request; the message names method, path and status, no token."""

    def __init__(
        self, message: str, *, method: str = "", path: str = "", status: int | None = None
    ) -> None:
        super().__init__(redact(message))
        self.method = method
        self.path = redact(path)
        self.status = status


class RateLimitError(GitHubError):
    """A rate limit that would take longer than `max_wait` to lift, or never lifted."""


class GitHubUnavailable(GitHubError):
    """GitHub kept failing (5xx, connection errors) after every retry."""


class GitHubUnreachable(GitHubUnavailable):
    """No answer from the host at all: refused, no route, or silent. `host` is named."""

    def __init__(self, message: str, *, host: str, method: str = "", path: str = "") -> None:
        super().__init__(message, method=method, path=path)
        self.host = host


class LimitReached(GitHubError):
    """A limit of limits.py stopped reading (the caller reports what it cut)."""


class PaginationCut(LimitReached):
    """A listing that did not end: the page cap, or a page link seen before."""


class RunBudgetExhausted(LimitReached):
    """This run has read as many bytes of answers as `GitHubLimits.run_bytes` allows."""


class GraphQLTooLarge(GitHubError):
    """GitHub failed a GraphQL query with a server error or timeout: usually the query was too
    expensive to answer in time. Retrying it unchanged will fail again; ask for less."""


@dataclass(frozen=True)
class RestResponse:
    status: int
    json: Any  # decoded JSON body; None for an empty body (204)
    headers: Mapping[str, str]  # case-insensitive (httpx.Headers)
    not_modified: bool = False  # served from the ETag cache after GitHub answered 304


@dataclass(frozen=True)
class GraphQLResponse:
    data: dict[str, Any] | None
    # GitHub's error objects as sent ("message", "type", "path" list, ...): partial data is
    # normal (FORBIDDEN on one field, NOT_FOUND on one alias), so the caller decides.
    errors: tuple[dict[str, Any], ...]
    cost: int | None  # from `rateLimit { cost }` when the query asked for it


@dataclass(frozen=True)
class TransportCounters:
    """Everything counted; `GitHubClient.usage()` gives the report's subset as ApiUsage."""

    rest_requests: int = 0
    graphql_requests: int = 0
    graphql_points: int = 0
    retries: int = 0
    not_modified: int = 0
    seconds_waited: float = 0.0
    bytes_read: int = 0


@dataclass(frozen=True)
class _Answer:
    status: int
    reason: str
    headers: httpx.Headers
    body: bytes
    url: str
    retries: int = 0  # how many times this request was resent before this answer


@dataclass(frozen=True)
class _CacheEntry:
    etag: str
    response: RestResponse


def graphql_url_for(base_url: str) -> str:
    """GitHub Enterprise Server's REST root ends in /api/v3 and GraphQL is /api/graphql;
    elsewhere (api.github.com, the fake server) GraphQL is base + /graphql."""
    base = base_url.rstrip("/")
    if base.endswith("/api/v3"):
        return base[: -len("/api/v3")] + "/api/graphql"
    return base + "/graphql"


def _check_base_url(base_url: str) -> str:
    url = base_url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SecpostureError(
            "GitHub API URL must be an http(s) URL such as https://api.github.com"
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise SecpostureError(
            f"GitHub API URL for {parts.hostname} must not carry credentials, a query or a fragment"
        )
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise SecpostureError(
            f"refusing to send a GitHub token over plain http to {parts.hostname}: use https"
        )
    return url


def _printable(text: str, limit: int = 200) -> str:
    """A server's message made safe for one terminal line: no control characters, no credential
    values, bounded."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(redact(cleaned).split())[:limit]


def _decode(body: bytes, redacted: bool = True) -> Any:
    if not body.strip():
        return None
    try:
        decoded = jsonlib.loads(body)
        if redacted and b"\\u" in body:
            # The body's bytes were redacted on the way in; a value written with JSON's \uXXXX
            # escapes only appears once decoded.
            decoded = redact_tree(decoded)
    except RecursionError:
        raise ValueError("nested too deeply") from None  # callers: "not JSON"
    return decoded


def _github_message(body: bytes) -> str:
    try:
        decoded = _decode(body)
    except ValueError:
        return ""
    if isinstance(decoded, dict) and isinstance(decoded.get("message"), str):
        return _printable(decoded["message"])
    return ""


def next_link(link_header: str | None) -> str | None:
    """The rel="next" target of a Link header (URLs may contain commas: split on <...>)."""
    if not link_header:
        return None
    for match in _LINK.finditer(link_header):
        rel = _REL.search(match.group(2))
        if rel and "next" in rel.group(1).split():
            return match.group(1).strip()
    return None


def _retry_after(value: str | None, now: float) -> float | None:
    """Retry-After as seconds: GitHub sends a number; HTTP also allows a date."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


class GitHubClient:
    """Sync, thread-safe GitHub client: call it from a thread pool; at most `concurrency`
    requests are in flight at once."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        credentials: Credentials | None = None,
        *,
        concurrency: int = 4,
        limits: GitHubLimits = DEFAULT_LIMITS,
        max_retries: int | None = None,
        timeout: float | None = None,
        user_agent: str = f"secposture/{__version__}",
        max_wait: float = 15 * 60,
        secondary_min_wait: float = 60,
        backoff_base: float = 1.0,
        backoff_cap: float = 60,
        write_interval: float = 1.0,
        max_response_bytes: int | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """`limits` (limits.py) bounds everything; `max_retries`, `timeout` and
        `max_response_bytes` override its server_retries, read_timeout_s and response_bytes."""
        if credentials is None:
            raise GitHubAuthError("GitHubClient needs credentials (see credentials_from_env)")
        if concurrency < 1:
            raise SecpostureError("concurrency must be at least 1")
        if max_retries is not None:
            limits = replace(limits, server_retries=max_retries)
        if timeout is not None:
            limits = replace(limits, read_timeout_s=timeout)
        if max_response_bytes is not None:
            limits = replace(limits, response_bytes=max_response_bytes)
        self.limits = limits
        self.base_url = _check_base_url(base_url)
        self.graphql_url = graphql_url_for(self.base_url)
        self._origin = urlsplit(self.base_url)
        self.host = self._origin.hostname or "?"
        self._credentials = credentials
        self._max_retries = max(0, limits.server_retries)
        self._connect_retries = max(0, min(limits.connect_retries, self._max_retries))
        self._max_wait = max_wait
        self._secondary_min_wait = secondary_min_wait
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._write_interval = write_interval
        self._max_response_bytes = limits.response_bytes
        # Until the host has answered once, a request waits only this long for its answer.
        self._first_timeout = httpx.Timeout(
            limits.first_answer_timeout_s, connect=limits.connect_timeout_s
        )
        self._answered = False
        self._clock = clock
        self._sleep = sleep
        self._jitter = random.Random()  # noqa: S311  # nosec B311 - spreading retries
        self._headers = {
            "Accept": MEDIA_TYPE,
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": user_agent,
        }
        self._http = httpx.Client(
            timeout=httpx.Timeout(limits.read_timeout_s, connect=limits.connect_timeout_s),
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
            transport=transport,
            follow_redirects=False,  # redirects are followed here, same origin only
        )
        self._slots = threading.BoundedSemaphore(concurrency)
        self._lock = threading.Lock()  # counters, pause window
        self._write_lock = threading.Lock()
        self._cache_lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, str], _CacheEntry] = OrderedDict()
        self._counts: dict[str, float] = dict.fromkeys(
            ("rest", "graphql", "points", "retries", "not_modified", "waited", "bytes"), 0.0
        )
        self._paused_until = 0.0
        self._last_write = float("-inf")
        self._cut: dict[str, None] = {}  # what the run's limits cut, said once each

    # -- public API --------------------------------------------------------------------------

    def rest_get(
        self, path: str, params: Mapping[str, Any] | None = None, *, allow: Collection[int] = ()
    ) -> RestResponse:
        """GET a REST path (ETag-cached). 4xx raises GitHubError unless its status is in `allow`."""
        return self._get(self._url(path, params), allow)

    def rest_pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[Any]:
        """Every item of a list endpoint, across all its pages (see `rest_page_responses`).
        A page that wraps its list in an object ({"total_count": n, "repositories": [...]})
        gives the items of that list."""
        for page in self.rest_page_responses(path, params):
            yield from page_items(page, path)

    def rest_page_responses(
        self, path: str, params: Mapping[str, Any] | None = None
    ) -> Iterator[RestResponse]:
        """Every page of a list endpoint, following Link rel="next" (100 items a page). Raises
        PaginationCut, after the pages read so far, when a link repeats an earlier page or the
        listing goes past `limits.listing_pages`."""
        url: str | None = self._url(path, {"per_page": PER_PAGE, **(params or {})})
        seen: set[str] = set()
        while url is not None:
            if url in seen:
                raise PaginationCut(
                    f"GitHub GET {path}: pagination does not end: page {len(seen) + 1} links "
                    "back to a page already read",
                    method="GET",
                    path=path,
                )
            if len(seen) >= self.limits.listing_pages:
                raise PaginationCut(
                    f"GitHub GET {path}: pagination does not end: stopped after "
                    f"{len(seen):,} pages (the limit of a listing)",
                    method="GET",
                    path=path,
                )
            seen.add(url)
            page = self._get(url, ())
            yield page
            target = next_link(page.headers.get("link"))
            url = None if target is None else self._same_origin(urljoin(url, target), "GET", path)

    def rest(
        self,
        method: str,
        path: str,
        json: Any = None,
        *,
        allow: Collection[int] = (),
    ) -> RestResponse:
        """Any REST call (the writes the fix command makes). Not cached; writes are spaced
        `write_interval` apart, as GitHub asks, to stay clear of secondary limits."""
        method = method.upper()
        if method == "GET" and json is None:
            return self.rest_get(path, allow=allow)
        url = self._url(path, None)
        if method not in ("GET", "HEAD"):
            self._space_writes()
        answer = self._exchange(method, url, "rest", json_body=json)
        return self._rest_response(method, answer, allow)

    def graphql(
        self,
        query: str,
        variables: Mapping[str, Any] | None = None,
        *,
        retry_server_errors: bool = True,
    ) -> GraphQLResponse:
        """Run a GraphQL query. Errors in the answer are returned with whatever data came back.
        A server error or timeout raises GraphQLTooLarge: after the retries, or at once when
        `retry_server_errors` is False (the fetcher halves the batch instead)."""
        payload: dict[str, Any] = {"query": query}
        if variables:
            payload["variables"] = dict(variables)
        answer = self._exchange(
            "POST",
            self.graphql_url,
            "graphql",
            json_body=payload,
            retry_server_errors=retry_server_errors,
        )
        path = self._display(answer.url)
        if answer.status >= 500:
            raise GraphQLTooLarge(
                f"GitHub POST {path}: {answer.status} {answer.reason}: the query could not be "
                "answered (too large or too slow); ask for fewer repositories at once",
                method="POST",
                path=path,
                status=answer.status,
            )
        if answer.status != 200:
            raise self._error("POST", answer)
        try:
            body = _decode(answer.body)
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("data"), dict | None):
            raise GitHubError(
                f"GitHub POST {path}: the answer is not a GraphQL response",
                method="POST",
                path=path,
                status=answer.status,
            )
        data = body.get("data")
        raw_errors = body.get("errors")
        errors = tuple(
            e if isinstance(e, dict) else {"message": _printable(str(e))}
            for e in (raw_errors if isinstance(raw_errors, list) else [])
        )
        cost = _query_cost(data)
        with self._lock:
            self._counts["points"] += cost if cost is not None else 1  # GitHub's minimum charge
        return GraphQLResponse(data=data, errors=errors, cost=cost)

    def app_request(
        self, method: str, path: str, bearer: Secret, json: Mapping[str, Any] | None = None
    ) -> tuple[int, Any]:
        """A call authenticated as the App itself (its JWT), for AppCredentials."""
        # Not redacted on the way in: the answer may be a new installation token, which must
        # reach AppCredentials intact (its messages are redacted where they are built).
        answer = self._exchange(
            method.upper(),
            self._url(path, None),
            "rest",
            json_body=None if json is None else dict(json),
            bearer=bearer,
            redacted=False,
        )
        try:
            return answer.status, _decode(answer.body, redacted=False)
        except ValueError:
            return answer.status, None

    @property
    def credentials(self) -> Credentials:
        """Who the client calls as (to read what an App's installation may do; never a token)."""
        return self._credentials

    def counters(self) -> TransportCounters:
        with self._lock:
            c = dict(self._counts)
        return TransportCounters(
            rest_requests=int(c["rest"]),
            graphql_requests=int(c["graphql"]),
            graphql_points=int(c["points"]),
            retries=int(c["retries"]),
            not_modified=int(c["not_modified"]),
            seconds_waited=c["waited"],
            bytes_read=int(c["bytes"]),
        )

    def usage(self) -> ApiUsage:
        """The usage report: requests, GraphQL points, retries, seconds spent waiting, and what
        the run's limits cut."""
        c = self.counters()
        with self._lock:
            cut = tuple(self._cut)
        return ApiUsage(
            rest_requests=c.rest_requests,
            graphql_requests=c.graphql_requests,
            graphql_points=c.graphql_points,
            retries=c.retries,
            seconds=c.seconds_waited,
            cut=cut,
        )

    def note_cut(self, message: str) -> None:
        """Something this run's limits cut, for the usage report (said once)."""
        with self._lock:
            self._cut[redact(message)] = None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"GitHubClient(base_url={self.base_url!r}, credentials={self._credentials.source!r})"

    # -- requests ------------------------------------------------------------------------------

    def _get(self, url: str, allow: Collection[int]) -> RestResponse:
        key = (self._credentials.identity, url)
        with self._cache_lock:
            cached = self._cache.get(key)
        headers = {"If-None-Match": cached.etag} if cached else {}
        answer = self._exchange("GET", url, "rest", headers=headers)
        if answer.status == 304 and cached is not None:
            with self._lock:
                self._counts["not_modified"] += 1
            with self._cache_lock:
                self._cache.move_to_end(key)
            return RestResponse(
                cached.response.status, cached.response.json, answer.headers, not_modified=True
            )
        response = self._rest_response("GET", answer, allow)
        etag = answer.headers.get("etag")
        if etag and answer.status == 200:
            self._remember(key, _CacheEntry(etag, response))
        return response

    def _remember(self, key: tuple[str, str], entry: _CacheEntry) -> None:
        with self._cache_lock:
            self._cache[key] = entry
            self._cache.move_to_end(key)
            while len(self._cache) > CACHE_ENTRIES:
                self._cache.popitem(last=False)

    def _rest_response(self, method: str, answer: _Answer, allow: Collection[int]) -> RestResponse:
        if answer.status >= 300 and answer.status not in allow:
            raise self._error(method, answer)
        try:
            body = _decode(answer.body)
        except ValueError:
            if answer.status >= 300:
                body = None  # an allowed error status with an HTML page: the status is the answer
            else:
                path = self._display(answer.url)
                raise GitHubError(
                    f"GitHub {method} {path}: {answer.status} but the answer is not JSON",
                    method=method,
                    path=path,
                    status=answer.status,
                ) from None
        return RestResponse(answer.status, body, answer.headers)

    def _exchange(
        self,
        method: str,
        url: str,
        kind: str,
        *,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        bearer: Secret | None = None,
        retry_server_errors: bool = True,
        redacted: bool = True,
    ) -> _Answer:
        """Send until there is an answer to give back: waits out rate limits, retries server
        and connection errors, follows same-origin redirects of GETs, re-mints a refused App
        token once. 4xx/5xx answers that are not retried are returned for the caller to judge."""
        retries = secondary_hits = redirects = connect_failures = 0
        reauthenticated = False
        while True:
            self._wait_out_pause()
            token = bearer if bearer is not None else self._credentials.bearer(self)
            # GraphQL is never the first request (a listing, a repository or an App's
            # installation is) and may rightly take long: its timeouts keep their meaning.
            first_contact = not self._answered and kind != "graphql"
            try:
                answer = self._send_once(method, url, kind, json_body, headers, token, redacted)
            except httpx.TransportError as exc:
                if first_contact and _is_read_timeout(exc):
                    # The host took the request and said nothing: not serving. Do not wait again.
                    raise self._silent(method, url) from None
                if first_contact or isinstance(exc, _NO_CONNECTION):
                    if connect_failures >= self._connect_retries or not _may_resend(
                        method, kind, exc
                    ):
                        raise self._unreachable(method, url, exc, connect_failures) from None
                    connect_failures += 1
                    retries = self._back_off(
                        retries, None, f"cannot reach {self.host} ({_reason(exc)})"
                    )
                    continue
                too_large = kind == "graphql" and _is_read_timeout(exc)
                retry = retry_server_errors or not too_large
                if not retry or retries >= self._max_retries or not _may_resend(method, kind, exc):
                    raise self._transport_failure(method, url, exc, too_large, retries) from None
                retries = self._back_off(retries, None, f"{_reason(exc)}")
                continue

            wait = self._rate_limit_wait(answer, kind, secondary_hits, method)
            if wait is not None:
                if retries >= self._max_retries:
                    raise self._still_limited(method, answer)
                if not _is_primary(answer, kind):
                    secondary_hits += 1
                self._pause(wait)
                retries = self._count_retry(retries)
                continue

            if answer.status in RETRYABLE_STATUSES and (method in IDEMPOTENT or kind == "graphql"):
                if retry_server_errors and retries < self._max_retries:
                    retries = self._back_off(
                        retries,
                        answer.headers.get("retry-after"),
                        f"{answer.status} {_printable(answer.reason, 60)}",
                    )
                    continue
                return replace(answer, retries=retries)

            if (
                answer.status == 401
                and bearer is None
                and not reauthenticated
                and self._credentials.rejected(token)
            ):
                reauthenticated = True
                retries = self._count_retry(retries)
                continue

            if method == "GET" and answer.status in (301, 302, 303, 307, 308):
                location = answer.headers.get("location")
                if location and redirects < self.limits.max_redirects:
                    redirects += 1
                    url = self._same_origin(urljoin(url, location), method, self._display(url))
                    continue
            return replace(answer, retries=retries)

    def _send_once(
        self,
        method: str,
        url: str,
        kind: str,
        json_body: Any,
        headers: Mapping[str, str] | None,
        token: Secret,
        redacted: bool = True,
    ) -> _Answer:
        self._check_budget(method, url)
        request_headers = {**self._headers, **(headers or {})}
        request_headers["Authorization"] = f"Bearer {token.reveal()}"
        request = self._http.build_request(
            method,
            url,
            json=json_body,
            headers=request_headers,
            timeout=(
                self._first_timeout
                if not self._answered and kind != "graphql"
                else httpx.USE_CLIENT_DEFAULT
            ),
        )
        with self._slots:
            with self._lock:
                self._counts["graphql" if kind == "graphql" else "rest"] += 1
            started = time.perf_counter()
            response = self._http.send(request, stream=True)
            self._answered = True
            try:
                body = self._read_capped(method, url, response)
            finally:
                response.close()
            elapsed = time.perf_counter() - started
        logger.debug("%s %s %d %.3fs", method, self._display(url), response.status_code, elapsed)
        # The one door GitHub's words come in by: whatever a server echoes of our credentials
        # is blanked before anything decodes, logs or shows it.
        answer_headers = response.headers
        if redacted:
            body = redact_bytes(body)
            if any(holds_secret(value) for value in answer_headers.values()):
                answer_headers = httpx.Headers(
                    [(k, redact(v)) for k, v in answer_headers.multi_items()]
                )
        reason = _printable(response.reason_phrase, 100)
        return _Answer(response.status_code, reason, answer_headers, body, url)

    def _check_budget(self, method: str, url: str) -> None:
        with self._lock:
            spent = self._counts["bytes"]
        if spent >= self.limits.run_bytes:
            path = self._display(url)
            raise RunBudgetExhausted(
                f"GitHub {method} {path}: not sent: this run has read its budget of "
                f"{size(self.limits.run_bytes)} of GitHub answers",
                method=method,
                path=path,
            )

    def _read_capped(self, method: str, url: str, response: httpx.Response) -> bytes:
        chunks: list[bytes] = []
        read = 0
        for chunk in response.iter_bytes():
            read += len(chunk)
            with self._lock:
                self._counts["bytes"] += len(chunk)
                spent = self._counts["bytes"]
            if read > self._max_response_bytes:
                path = self._display(url)
                raise GitHubError(
                    f"GitHub {method} {path}: answer larger than "
                    f"{self._max_response_bytes:,} bytes; not read",
                    method=method,
                    path=path,
                    status=response.status_code,
                )
            if spent > self.limits.run_bytes:
                path = self._display(url)
                raise RunBudgetExhausted(
                    f"GitHub {method} {path}: not read whole: this run has read its budget "
                    f"of {size(self.limits.run_bytes)} of GitHub answers",
                    method=method,
                    path=path,
                    status=response.status_code,
                )
            chunks.append(chunk)
        return b"".join(chunks)

    # -- waiting -------------------------------------------------------------------------------

    def _rate_limit_wait(
        self, answer: _Answer, kind: str, secondary_hits: int, method: str
    ) -> float | None:
        """Seconds to wait before resending, or None when the answer is not a rate limit.
        GitHub's order: Retry-After; else remaining 0 → the reset time; else a minute, growing."""
        limited = answer.status in (403, 429) and (
            answer.status == 429
            or "retry-after" in answer.headers
            or answer.headers.get("x-ratelimit-remaining") == "0"
            or any(marker in answer.body.lower() for marker in _SECONDARY_MARKERS)
        )
        if not limited and not (kind == "graphql" and _graphql_rate_limited(answer)):
            return None
        now = self._clock()
        wait = _retry_after(answer.headers.get("retry-after"), now)
        if wait is None and _is_primary(answer, kind):
            reset = _int_header(answer.headers, "x-ratelimit-reset")
            if reset is not None:
                wait = max(0.0, reset - now) + 1  # a second past the reset, for clock skew
        if wait is None:
            wait = self._secondary_min_wait * 2**secondary_hits
        if wait > self._max_wait:
            path = self._display(answer.url)
            raise RateLimitError(
                f"GitHub {method} {path}: rate limit reached; it lifts {_when(now, wait)}, "
                f"longer than the {self._max_wait / 60:.0f} min this scan will wait. "
                "Try again later, or use a GitHub App (higher limits)",
                method=method,
                path=path,
                status=answer.status,
            )
        logger.warning("GitHub rate limit (%s): pausing %.1f s", self._display(answer.url), wait)
        return wait

    def _pause(self, seconds: float) -> None:
        """Pause every thread until `seconds` from now: GitHub counts requests made while
        limited against us, so nobody sends until the window has passed."""
        with self._lock:
            now = self._clock()
            until = now + seconds
            if until > self._paused_until:
                self._counts["waited"] += until - max(now, self._paused_until)
                self._paused_until = until

    def _wait_out_pause(self) -> None:
        while True:
            with self._lock:
                remaining = self._paused_until - self._clock()
            if remaining <= 0:
                return
            self._sleep(remaining)

    def _back_off(self, retries: int, retry_after: str | None, why: str) -> int:
        delay = _retry_after(retry_after, self._clock())
        if delay is None or delay > self._max_wait:
            ceiling = min(self._backoff_cap, self._backoff_base * 2**retries)
            delay = ceiling * (0.5 + self._jitter.random() / 2)
        logger.warning("GitHub: %s; retrying in %.1f s", why, delay)
        with self._lock:
            self._counts["waited"] += delay
        self._sleep(delay)
        return self._count_retry(retries)

    def _count_retry(self, retries: int) -> int:
        with self._lock:
            self._counts["retries"] += 1
        return retries + 1

    def _space_writes(self) -> None:
        with self._write_lock:
            wait = self._last_write + self._write_interval - self._clock()
            if wait > 0:
                self._sleep(wait)
            self._last_write = self._clock()

    # -- URLs and errors -----------------------------------------------------------------------

    def _url(self, path: str, params: Mapping[str, Any] | None) -> str:
        parts = urlsplit(path)
        if not path.startswith("/") or path.startswith("//") or parts.scheme or parts.netloc:
            raise GitHubError(f"not a GitHub API path: {_printable(path, 100)!r}", path=path)
        url = httpx.URL(self.base_url + path)
        if params:
            url = url.copy_merge_params({k: str(v) for k, v in params.items()})
        return str(url)

    def _same_origin(self, url: str, method: str, path: str) -> str:
        """A link GitHub gave us, if it stays on the API's origin; the token goes nowhere else."""
        parts = urlsplit(url)
        if (
            parts.scheme != self._origin.scheme
            or parts.netloc != self._origin.netloc
            or not parts.path.startswith(self._origin.path)
        ):
            raise GitHubError(
                f"GitHub {method} {path}: refusing to follow a link to another site "
                f"({_printable(parts.netloc or '?', 80)})",
                method=method,
                path=path,
            )
        return url

    def _display(self, url: str) -> str:
        """The URL without scheme and host, as messages and logs show it."""
        return url[len(self.base_url) :] if url.startswith(self.base_url) else urlsplit(url).path

    def _error(self, method: str, answer: _Answer) -> SecpostureError:
        path = self._display(answer.url)
        message = _github_message(answer.body)
        if answer.status == 401:
            return GitHubAuthError(
                f"GitHub rejected the credentials from {self._credentials.source} "
                f"({method} {path}: 401 {message or 'Bad credentials'}): the token may be "
                "expired, revoked or mistyped"
            )
        detail = f": {message}" if message and message != answer.reason else ""
        hint = ""
        if answer.status in (403, 404):
            hint = f" (not found, or not visible to {self._credentials.source})"
        if answer.status >= 500:
            tried = f" (after {answer.retries} retries)" if answer.retries else ""
            return GitHubUnavailable(
                f"GitHub {method} {path}: {answer.status} {answer.reason}{detail}{tried}",
                method=method,
                path=path,
                status=answer.status,
            )
        return GitHubError(
            f"GitHub {method} {path}: {answer.status} {answer.reason}{detail}{hint}",
            method=method,
            path=path,
            status=answer.status,
        )

    def _still_limited(self, method: str, answer: _Answer) -> RateLimitError:
        path = self._display(answer.url)
        return RateLimitError(
            f"GitHub {method} {path}: still rate limited after {self._max_retries} retries",
            method=method,
            path=path,
            status=answer.status,
        )

    def _transport_failure(
        self, method: str, url: str, exc: httpx.TransportError, too_large: bool, retries: int
    ) -> GitHubError:
        path = self._display(url)
        reason = _reason(exc)
        if too_large:
            return GraphQLTooLarge(
                f"GitHub {method} {path}: no answer in time ({reason}); ask for less at once",
                method=method,
                path=path,
            )
        return GitHubUnavailable(
            f"GitHub {method} {path}: {self.host} failed ({reason}) after {_retries(retries)}",
            method=method,
            path=path,
        )

    def _unreachable(
        self, method: str, url: str, exc: httpx.TransportError, retries: int
    ) -> GitHubUnreachable:
        path = self._display(url)
        return GitHubUnreachable(
            f"GitHub {method} {path}: cannot reach {self.host} ({_reason(exc)}) after "
            f"{_retries(retries)}; check the network, a proxy, or --github-url",
            host=self.host,
            method=method,
            path=path,
        )

    def _silent(self, method: str, url: str) -> GitHubUnreachable:
        path = self._display(url)
        seconds = self.limits.first_answer_timeout_s
        return GitHubUnreachable(
            f"GitHub {method} {path}: {self.host} accepted the connection but did not answer "
            f"within {seconds:g} s; check the network, a proxy, or --github-url",
            host=self.host,
            method=method,
            path=path,
        )


def page_items(page: RestResponse, path: str) -> list[Any]:
    """The items of one page of a list endpoint (a bare list, or the one list in an object)."""
    body = page.json
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        lists = [v for v in body.values() if isinstance(v, list)]
        if len(lists) == 1:
            return lists[0]
    raise GitHubError(
        f"GitHub GET {path}: expected a list of items, got something else",
        method="GET",
        path=path,
        status=page.status,
    )


# No connection was made (or it failed before any answer): the request never reached GitHub.
_NO_CONNECTION = (httpx.ConnectError, httpx.ConnectTimeout)


def _reason(exc: httpx.TransportError) -> str:
    """What failed, in words. The exception's own text could quote the request: not used."""
    if isinstance(exc, httpx.ConnectTimeout):
        return "no connection in time"
    if isinstance(exc, httpx.ConnectError):
        return "connection refused or no route"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the connection closed without an answer"
    if isinstance(exc, httpx.TimeoutException):
        return "no answer in time"
    return type(exc).__name__


def _retries(n: int) -> str:
    return f"{n} {'retry' if n == 1 else 'retries'}"


def _is_read_timeout(exc: httpx.TransportError) -> bool:
    return isinstance(exc, httpx.TimeoutException) and not isinstance(
        exc, httpx.ConnectTimeout | httpx.PoolTimeout
    )


def _may_resend(method: str, kind: str, exc: httpx.TransportError) -> bool:
    """A read or GraphQL query may be sent again; a non-idempotent write only when it cannot
    have reached GitHub (the connection was never made)."""
    if method in IDEMPOTENT or kind == "graphql":
        return True
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def _when(now: float, wait: float) -> str:
    """ "at 14:05 UTC, 47 min away" (a server may send an absurd reset time: say so)."""
    try:
        until = datetime.fromtimestamp(now + wait, UTC).strftime("%H:%M UTC")
    except (OverflowError, OSError, ValueError):
        return "at an unknown time"
    return f"at {until}, {wait / 60:.0f} min away"


def _int_header(headers: httpx.Headers, name: str) -> int | None:
    try:
        return int(headers.get(name, ""))
    except ValueError:
        return None


def _graphql_rate_limited(answer: _Answer) -> bool:
    if b"RATE_LIMITED" not in answer.body:
        return False
    try:
        body = _decode(answer.body)
    except ValueError:
        return False
    errors = body.get("errors") if isinstance(body, dict) else None
    return isinstance(errors, list) and any(
        isinstance(e, dict) and e.get("type") == "RATE_LIMITED" for e in errors
    )


def _is_primary(answer: _Answer, kind: str) -> bool:
    return answer.headers.get("x-ratelimit-remaining") == "0" or (
        kind == "graphql" and _graphql_rate_limited(answer)
    )


def _query_cost(data: dict[str, Any] | None) -> int | None:
    rate = data.get("rateLimit") if data else None
    cost = rate.get("cost") if isinstance(rate, dict) else None
    return cost if isinstance(cost, int) and not isinstance(cost, bool) else None
