"""FakeGitHub: the configuration, the counters and the server thread."""

from __future__ import annotations

import gc
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn

from .app import build_app
from .auth import Authenticator
from .limits import RateLimits
from .misbehaviour import Misbehaviour
from .model import FakeOrg
from .rest_api import RestDescription
from .schemas import graphql_schema

START_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    status: int
    kind: str  # "rest" | "graphql"
    graphql_cost: int | None
    repos_in_query: int
    query: str = ""


class FakeGitHub:
    """A strict stand-in for api.github.com (REST and GraphQL) serving generated organisations.

    `tokens` maps each token to its access ("admin" or "read", also "triage", "write",
    "maintain") on every repository of `orgs`; `apps` maps GitHub App ids to their RSA public
    keys (PEM) for app JWTs. `token_scopes` makes a token a classic one with those scopes
    ("repo, workflow": sent in X-OAuth-Scopes; without `workflow` it cannot push changes to
    .github/workflows/, as GitHub refuses); `app_permissions` sets an App's installation
    permissions (without `workflows: write`, likewise). See tests/fake_github/__init__.py.
    """

    def __init__(
        self,
        orgs: Iterable[FakeOrg],
        tokens: dict[str, str],
        *,
        latency_s: float = 0.0,
        rate_limit: int = 5000,
        graphql_rate_limit: int = 5000,
        secondary_limit_after: int | None = None,
        fail_graphql_over_repos: int | None = None,
        apps: dict[int, str] | None = None,
        listing_omits_security: bool = False,
        token_scopes: dict[str, str] | None = None,
        app_permissions: dict[int, dict[str, str]] | None = None,
        write_spacing_s: float | None = None,
        writes_per_minute: int | None = None,
    ) -> None:
        self.orgs = list(orgs)
        for org in self.orgs:
            org.check()
        self.auth = Authenticator(tokens, apps or {}, token_scopes, app_permissions)
        self.limits = RateLimits(
            rate_limit,
            graphql_rate_limit,
            secondary_limit_after,
            write_spacing_s,
            writes_per_minute,
        )
        self.latency_s = latency_s
        self.fail_graphql_over_repos = fail_graphql_over_repos
        self.listing_omits_security = listing_omits_security
        self.misbehaviour = Misbehaviour()  # switched on by the hostile-server tests
        self.description = RestDescription()
        graphql_schema()  # parse GitHub's schema now (once per process), not in the first request
        self.log: list[RequestRecord] = []
        self.unvalidated: list[str] = []
        self.rest_requests = 0
        self.graphql_requests = 0
        self.graphql_points = 0
        self._request_ids = 0
        self._lock = threading.Lock()
        # The organisations and the schema live as long as the server: keep the cyclic
        # collector from walking them again and again during large queries.
        gc.freeze()

    def __repr__(self) -> str:
        return (
            f"FakeGitHub(orgs={[o.login for o in self.orgs]}, latency_s={self.latency_s}, "
            f"requests={len(self.log)}, unvalidated={len(self.unvalidated)})"
        )

    def writes(self) -> list[RequestRecord]:
        """The REST requests that may change something (every method but GET and HEAD)."""
        with self._lock:
            return [r for r in self.log if r.kind == "rest" and r.method not in ("GET", "HEAD")]

    def reset_log(self) -> None:
        """Clear the log and counters (and re-arm the secondary limit); `unvalidated` stays."""
        with self._lock:
            self.log.clear()
            self.rest_requests = 0
            self.graphql_requests = 0
            self.graphql_points = 0
        self.limits.rearm_secondary()

    def record(
        self,
        method: str,
        path: str,
        status: int,
        kind: str,
        cost: int | None,
        repos: int,
        query: str,
    ) -> None:
        with self._lock:
            self.log.append(RequestRecord(method, path, status, kind, cost, repos, query))

    def problem(self, message: str) -> None:
        with self._lock:
            self.unvalidated.append(message)

    def next_request_id(self) -> str:
        with self._lock:
            self._request_ids += 1
            return f"FAKE:{self._request_ids:06X}"

    @contextmanager
    def serve(self) -> Iterator[str]:
        """Run the server on 127.0.0.1 (a free port) in a background thread; yields its URL."""
        # IPPROTO_TCP explicitly: asyncio only turns Nagle off (TCP_NODELAY) on sockets that
        # say so, and with Nagle on every response with a body waits 40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            build_app(self),
            log_level="warning",
            access_log=False,
            lifespan="off",
            loop="asyncio",
            http="h11",
            timeout_keep_alive=30,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="fake-github", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                sock.close()
                raise RuntimeError("the fake GitHub server did not start")
            time.sleep(0.005)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            thread.join(START_TIMEOUT_S)
            sock.close()
