"""The dashboard's defences that are not about who you are: CSRF, response headers, the
sign-in rate limit and safe redirects (ADR 0008).

CSRF: a synchronizer token per session (`session["csrf"]`, 32 random bytes) is put in every
form as the hidden field `csrf_token`; every POST, PUT, PATCH and DELETE must carry it (or the
X-CSRF-Token header), compared in constant time, and must not be marked by the browser as
coming from another site (Sec-Fetch-Site cross-site or same-site). The session cookie is
SameSite=Lax as well. The token is replaced when someone signs in or out.

Request bodies over 2 MiB are refused (413) before they are read. uvicorn's access log leaves
out the OIDC callback's query (its one-time code).

Headers on every response: a Content-Security-Policy with no 'unsafe-inline' anywhere (pages
load one local style sheet and one local script; charts are inline SVG drawn with attributes,
not style), frame-ancestors 'none' and X-Frame-Options DENY, X-Content-Type-Options nosniff,
Referrer-Policy no-referrer, a Permissions-Policy that turns off powerful features,
Cross-Origin-Opener-Policy and -Resource-Policy same-origin, Cache-Control no-store for pages
(they hold security issues and risks), and Strict-Transport-Security when cookies are Secure
(the dashboard is then served over https by the proxy in front of it).

Rate limit: failed sign-ins are counted per account (default 5 in 15 minutes) and per client
address (default 20 in 15 minutes); past either, sign-in answers 429 without checking the
password until the window has moved on. Each attempt is counted before its password is checked
(and taken off again if it succeeds), so concurrent attempts cannot race past the limit. Counts
live in this process's memory (one uvicorn worker), capped in size. The client address is the
connection's, unless `serve --forwarded-allow-ips` names the proxies whose X-Forwarded-For to
believe (ADR 0013).

Password checks run at most a few at a time (PasswordCheckGate); a sign-in that finds no place
within a few seconds answers 503 without checking.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import anyio
import anyio.to_thread
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "clipboard-read",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)
HSTS = "max-age=31536000; includeSubDomains"

T = TypeVar("T")


def csrf_token(session: MutableMapping[str, Any]) -> str:
    """The session's token, made on first use."""
    token = session.get("csrf")
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def csrf_valid(session: MutableMapping[str, Any], given: str | None) -> bool:
    expected = session.get("csrf")
    if not isinstance(expected, str) or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def same_origin(fetch_site: str | None) -> bool:
    """Whether the browser says the request came from this site (Sec-Fetch-Site). Browsers
    without the header rely on the token alone; proxies may rewrite Host, so Origin is not
    compared with it."""
    return fetch_site is None or fetch_site.lower() in ("same-origin", "none")


def safe_next(target: str | None, default: str = "/") -> str:
    """A path on this site to go to after signing in; anything else (another host, a scheme,
    "//evil", backslashes) gives `default`: no open redirect."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(c) < 32 for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


class SecurityHeaders:
    """Pure ASGI middleware adding the headers above to every response."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = CSP
                headers["X-Content-Type-Options"] = "nosniff"
                headers["X-Frame-Options"] = "DENY"
                headers["Referrer-Policy"] = "no-referrer"
                headers["Permissions-Policy"] = PERMISSIONS_POLICY
                headers["Cross-Origin-Opener-Policy"] = "same-origin"
                headers["Cross-Origin-Resource-Policy"] = "same-origin"
                if not static:
                    headers["Cache-Control"] = "no-store"
                if self.hsts:
                    headers["Strict-Transport-Security"] = HSTS
            await send(message)

        await self.app(scope, receive, send_with_headers)


@dataclass(frozen=True)
class Attempt:
    """A sign-in attempt counted against its account and client address."""

    account: str
    client: str
    moment: float


class SignInLimited(Exception):
    """Too many failed sign-ins for the account or the address: refused without a check."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


class LoginLimiter:
    """Failed sign-ins per account and per client address in a sliding window.

    An attempt is counted (`reserve`) before its password is checked, in one step under the
    lock: concurrent attempts cannot all pass the check before any is counted as failed. A
    successful or unchecked attempt is taken off again (`succeeded`, `release`)."""

    MAX_KEYS = 50_000

    def __init__(self, per_account: int, per_client: int, window_seconds: float) -> None:
        self.per_account = per_account
        self.per_client = per_client
        self.window = window_seconds
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def reserve(self, account: str, client: str, now: float | None = None) -> Attempt:
        """Count an attempt, or raise SignInLimited when either limit is reached."""
        moment = time.monotonic() if now is None else now
        attempt = Attempt(f"account:{account.strip().casefold()}", f"client:{client}", moment)
        with self._lock:
            waits = [
                self._wait(attempt.account, self.per_account, moment),
                self._wait(attempt.client, self.per_client, moment),
            ]
            blocked = [w for w in waits if w is not None]
            if blocked:
                raise SignInLimited(max(blocked))
            for key in (attempt.account, attempt.client):
                times = self._failures.pop(key, None) or deque()
                times.append(moment)
                self._failures[key] = times  # most recently failed last
            while len(self._failures) > self.MAX_KEYS:
                self._failures.popitem(last=False)
        return attempt

    def succeeded(self, attempt: Attempt) -> None:
        """The password was right: the account's failures are forgiven, and this attempt does
        not count against the address (people behind one NAT sign in all day)."""
        with self._lock:
            self._failures.pop(attempt.account, None)
            self._forget(attempt.client, attempt.moment)

    def release(self, attempt: Attempt) -> None:
        """The password was never checked (the server was busy): the attempt does not count."""
        with self._lock:
            self._forget(attempt.account, attempt.moment)
            self._forget(attempt.client, attempt.moment)

    def _forget(self, key: str, moment: float) -> None:
        times = self._failures.get(key)
        if times is not None and moment in times:
            times.remove(moment)

    def _wait(self, key: str, limit: int, now: float) -> int | None:
        times = self._failures.get(key)
        if not times:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) < limit:
            return None
        return max(1, int(times[0] + self.window - now) + 1)


class PasswordCheckGate:
    """At most `limit` password checks at once; the rest wait up to `wait_seconds` in the event
    loop (not in a worker thread), then are turned away. Each argon2id check holds its memory
    cost (64 MiB by default) and already uses several cores, so running more at once only
    queues them for the CPU while the memory adds up: 60 at once took the server to 1 GB."""

    def __init__(self, limit: int, wait_seconds: float) -> None:
        self.wait = wait_seconds
        self.places = anyio.CapacityLimiter(limit)

    async def run(self, fn: Callable[[], T]) -> T:
        """`fn()` in a worker thread once a place is free; ServerBusy if none frees in time."""
        try:
            with anyio.fail_after(self.wait):
                await self.places.acquire()
        except TimeoutError:
            raise ServerBusy() from None
        try:
            return await anyio.to_thread.run_sync(fn)
        finally:
            self.places.release()


class ServerBusy(Exception):
    """No place to check a password came free in time."""


class BodyLimit:
    """Refuse request bodies over `max_bytes` (413) before anything reads them: no form of the
    dashboard needs more than a few pages of text, and a huge upload must not fill memory."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _too_large(send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge()
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await _too_large(send)


class _TooLarge(Exception):
    pass


async def _too_large(send: Send) -> None:
    body = b"Request too large"
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RedactCallbackQuery:
    """A logging filter for uvicorn's access log: the OIDC callback's query (the one-time
    authorization code and state) is not written to logs."""

    def filter(self, record: Any) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path = args[2]
            if path.startswith("/auth/callback?"):
                record.args = (*args[:2], "/auth/callback?[redacted]", *args[3:])
        return True
