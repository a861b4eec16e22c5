"""Primary and secondary rate limits, per token, with GitHub's headers and messages."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

WINDOW_S = 3600
REST_LIMITS_DOC = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
SECONDARY_DOC = (
    "https://docs.github.com/free-pro-team@latest/rest/overview/"
    "rate-limits-for-the-rest-api#about-secondary-rate-limits"
)
GRAPHQL_LIMITS_DOC = (
    "https://docs.github.com/graphql/overview/rate-limits-and-query-limits-for-the-graphql-api"
)


@dataclass
class Bucket:
    """One hourly budget: REST requests ("core") or GraphQL points ("graphql")."""

    resource: str
    limit: int
    used: int = 0
    reset_at: float = 0.0

    def refresh(self, now: float) -> None:
        if now >= self.reset_at:
            self.used = 0
            self.reset_at = float(int(now) + WINDOW_S)

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)

    def headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-used": str(self.used),
            "x-ratelimit-reset": str(int(self.reset_at)),
            "x-ratelimit-resource": self.resource,
        }


def anonymous_headers() -> dict[str, str]:
    """Unauthenticated callers (and app JWTs) see the anonymous budget: 60 requests an hour."""
    return Bucket("core", 60, 0, float(int(time.time()) + WINDOW_S)).headers()


class RateLimits:
    """Budgets per principal (keyed by an opaque id, never the token) and the secondary limit."""

    def __init__(
        self,
        core_limit: int,
        graphql_limit: int,
        secondary_after: int | None,
        write_spacing_s: float | None = None,
        writes_per_minute: int | None = None,
    ) -> None:
        self.core_limit = core_limit
        self.graphql_limit = graphql_limit
        self.secondary_after = secondary_after
        # GitHub's secondary limits on content-creating requests (POST, PATCH, PUT, DELETE):
        # at least a second apart, and at most 80 a minute. Tests scale the numbers down.
        self.write_spacing_s = write_spacing_s
        self.writes_per_minute = writes_per_minute
        self.write_refusals = 0
        self._writes: dict[str, list[float]] = {}
        self._buckets: dict[tuple[str, str], Bucket] = {}
        self._burst = 0
        self._secondary_fired = False
        self._lock = threading.Lock()

    def bucket(self, principal_id: str, resource: str) -> Bucket:
        with self._lock:
            key = (principal_id, resource)
            bucket = self._buckets.get(key)
            if bucket is None:
                limit = self.graphql_limit if resource == "graphql" else self.core_limit
                bucket = self._buckets[key] = Bucket(resource, limit)
            bucket.refresh(time.time())
            return bucket

    def secondary_hit(self) -> bool:
        """True for the (N+1)th request of the burst, once."""
        if self.secondary_after is None:
            return False
        with self._lock:
            self._burst += 1
            if not self._secondary_fired and self._burst > self.secondary_after:
                self._secondary_fired = True
                return True
            return False

    def write_too_soon(self, principal_id: str, now: float | None = None) -> bool:
        """Whether a content-creating request breaks the write limits (counted as refused)."""
        if self.write_spacing_s is None and self.writes_per_minute is None:
            return False
        moment = time.monotonic() if now is None else now
        with self._lock:
            times = self._writes.setdefault(principal_id, [])
            times[:] = [t for t in times if t > moment - 60]
            too_soon = (
                self.write_spacing_s is not None
                and bool(times)
                and moment - times[-1] < self.write_spacing_s
            ) or (self.writes_per_minute is not None and len(times) >= self.writes_per_minute)
            if too_soon:
                self.write_refusals += 1
            else:
                times.append(moment)
            return too_soon

    def rearm_secondary(self) -> None:
        with self._lock:
            self._burst = 0
            self._secondary_fired = False


def primary_exceeded_message(subject: str) -> str:
    return f"API rate limit exceeded for {subject}."


def secondary_message(request_id: str) -> str:
    return (
        "You have exceeded a secondary rate limit. Please wait a few minutes before you try "
        "again. If you reach out to GitHub Support for help, please include the request ID "
        f"{request_id}."
    )
