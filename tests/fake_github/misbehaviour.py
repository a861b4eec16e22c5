"""Ways the fake GitHub can break, for the tests of a hostile or broken GitHub (ADR 0012).

All are off by default; set them on `FakeGitHub.misbehaviour` while the server runs. Each one
rewrites an answer the fake built and validated as usual (a query GitHub would refuse is still
refused); the rewrite is what a broken or hostile server would send instead.

- `repeat_cursor`: every connection that gives an endCursor says hasNextPage, always with the
  same cursor.
- `endless_cursor`: the same, with a new cursor every time (so only a page cap stops it).
- `endless_rest_pages`: every page of a REST list links to one more page (empty past the end).
- `echo_authorization`: answers quote the request's Authorization header: in an
  `x-echo-authorization` header on every answer, in REST error messages, and (GraphQL) as an
  error on every repository asked for, whose data is then null.
- `refuse_rest`: every REST request is answered with this status (e.g. 403, 502) instead.

Beside the fake, for what no server can do: `closed_port()` (nothing listens: refused) and
`Listener` (accepts connections and never answers; counts them and what they sent).
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import Response

ECHO_HEADER = "x-echo-authorization"


@dataclass
class Misbehaviour:
    repeat_cursor: bool = False
    endless_cursor: bool = False
    endless_rest_pages: bool = False
    echo_authorization: bool = False
    refuse_rest: int | None = None
    _cursors: int = field(default=0, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def any(self) -> bool:
        return bool(
            self.repeat_cursor
            or self.endless_cursor
            or self.endless_rest_pages
            or self.echo_authorization
            or self.refuse_rest
        )

    # -- REST ---------------------------------------------------------------------------------

    def rest_refusal(self, request: Request) -> Response | None:
        """The answer to every REST request while `refuse_rest` is set."""
        if self.refuse_rest is None:
            return None
        message = "Resource not accessible by integration"
        if self.echo_authorization:
            message += f" (you sent Authorization: {request.headers.get('authorization', '')})"
        body = {"message": message, "documentation_url": "https://docs.github.com/rest"}
        return self._json(self.refuse_rest, body, request, {})

    def rest_answer(self, request: Request, response: Response) -> Response:
        body = bytes(response.body)
        headers = _headers(response)
        if self.echo_authorization and response.status_code >= 400:
            decoded = _json_or_none(body)
            if isinstance(decoded, dict):
                said = request.headers.get("authorization", "")
                decoded["message"] = f"{decoded.get('message', '')} (Authorization: {said})"
                body = json.dumps(decoded).encode()
        listing = request.method == "GET" and response.status_code == 200
        if self.endless_rest_pages and listing and isinstance(_json_or_none(body), list):
            query = dict(parse_qsl(request.url.query))
            query["page"] = str(int(query.get("page", "1") or 1) + 1)
            base = f"{request.url.scheme}://{request.url.netloc}{request.url.path}"
            headers["link"] = f'<{base}?{urlencode(query)}>; rel="next"'
        return self._rebuilt(response.status_code, body, request, headers)

    # -- GraphQL ------------------------------------------------------------------------------

    def graphql_answer(self, request: Request, response: Response) -> Response:
        decoded = _json_or_none(bytes(response.body))
        if not isinstance(decoded, dict):
            body = bytes(response.body)
            return self._rebuilt(response.status_code, body, request, _headers(response))
        data = decoded.get("data")
        if isinstance(data, dict) and (self.repeat_cursor or self.endless_cursor):
            self._rewrite_pages(data)
        if isinstance(data, dict) and self.echo_authorization:
            said = request.headers.get("authorization", "")
            errors = decoded.setdefault("errors", [])
            for alias in [k for k in data if k != "rateLimit"]:
                data[alias] = None
                errors.append(
                    {
                        "type": "NOT_FOUND",
                        "path": [alias],
                        "message": f"Could not resolve to a Repository with Authorization: {said}",
                    }
                )
        body = json.dumps(decoded).encode()
        return self._rebuilt(response.status_code, body, request, _headers(response))

    def _rewrite_pages(self, node: Any) -> None:
        if isinstance(node, dict):
            page = node.get("pageInfo")
            if isinstance(page, dict) and "endCursor" in page:
                page["hasNextPage"] = True
                page["endCursor"] = self._next_cursor()
            for value in node.values():
                self._rewrite_pages(value)
        elif isinstance(node, list):
            for value in node:
                self._rewrite_pages(value)

    def _next_cursor(self) -> str:
        if self.repeat_cursor:
            number = 0
        else:
            with self._lock:
                self._cursors += 1
                number = 1_000_000 + self._cursors
        # The fake's own cursor format, so the follow-up query is valid (and answers empty).
        return base64.b64encode(f"cursor:v2:{number}".encode()).decode()

    # -- answers ------------------------------------------------------------------------------

    def _rebuilt(
        self, status: int, body: bytes, request: Request, headers: dict[str, str]
    ) -> Response:
        if self.echo_authorization:
            headers[ECHO_HEADER] = request.headers.get("authorization", "")
        headers.pop("content-length", None)
        return Response(body, status, headers=headers)

    def _json(self, status: int, body: Any, request: Request, headers: dict[str, str]) -> Response:
        headers = {**headers, "content-type": "application/json; charset=utf-8"}
        return self._rebuilt(status, json.dumps(body).encode(), request, headers)


def _headers(response: Response) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in response.raw_headers}


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


# -- no server at all ---------------------------------------------------------------------------


@contextmanager
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 that nothing listens on: connecting is refused at once. The port is
    held (bound, not listening) meanwhile, so no other server of the test run can take it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        yield port


class Listener:
    """A TCP server on `host` that accepts every connection, reads what is sent and never
    answers: a host that swallows requests. Counts connections and keeps the bytes received."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.connections = 0
        self.received = b""
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind((host, 0))
        self._sock.listen(16)
        self.port: int = self._sock.getsockname()[1]
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, name="listener", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._open.append(conn)
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        try:
            while chunk := conn.recv(65536):
                with self._lock:
                    self.received += chunk
        except OSError:
            return

    @contextmanager
    def running(self) -> Iterator[Listener]:
        self._thread.start()
        try:
            yield self
        finally:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            self._sock.close()
            with self._lock:
                for conn in self._open:
                    conn.close()
