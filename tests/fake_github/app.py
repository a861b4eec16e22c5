"""The ASGI application: authentication, limits, latency and logging around the two APIs."""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .auth import AuthError, Principal, bearer
from .graphql_api import run_query
from .limits import (
    REST_LIMITS_DOC,
    SECONDARY_DOC,
    Bucket,
    anonymous_headers,
    primary_exceeded_message,
    secondary_message,
)
from .rest_api import (
    API_VERSION,
    APP_JWT_OPERATIONS,
    DOCS,
    HANDLERS,
    NOT_FOUND,
    Operation,
    RestRequest,
    RestResponse,
    RestState,
    check_headers,
    check_query,
    check_request_body,
    error,
)
from .rest_write_api import WRITE_HANDLERS

if TYPE_CHECKING:
    from .server import FakeGitHub

GRAPHQL_PATHS = ("/graphql", "/api/graphql")
ENTERPRISE_PREFIX = "/api/v3"
GRAPHQL_AUTH_DOC = (
    "https://docs.github.com/graphql/guides/forming-calls-with-graphql#authenticating-with-graphql"
)
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]


def _json_response(status: int, body: Any, headers: dict[str, str]) -> Response:
    content = _content(body)
    media = "application/json; charset=utf-8" if body is not None else None
    return Response(content, status, headers=headers, media_type=media)


def _content(body: Any) -> bytes:
    return b"" if body is None else json.dumps(body).encode()


def _etag(content: bytes) -> str:
    return f'W/"{hashlib.sha256(content).hexdigest()}"'


class Handler:
    def __init__(self, gh: FakeGitHub) -> None:
        self.gh = gh
        self.state = RestState(
            gh.orgs, gh.auth, gh.limits, gh.listing_omits_security, report=gh.problem
        )

    async def __call__(self, request: Request) -> Response:
        if self.gh.latency_s > 0:
            await asyncio.sleep(self.gh.latency_s)
        path = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1")
        misbehaviour = self.gh.misbehaviour
        try:
            if not misbehaviour.any():
                if path in GRAPHQL_PATHS:
                    return await self.graphql(request, path)
                return await self.rest(request, path)
            if path in GRAPHQL_PATHS:
                return misbehaviour.graphql_answer(request, await self.graphql(request, path))
            refusal = misbehaviour.rest_refusal(request)
            if refusal is not None:
                self.gh.rest_requests += 1
                return self._done(request, path, "rest", refusal)
            return misbehaviour.rest_answer(request, await self.rest(request, path))
        except Exception as exc:
            # A bug in the fake: the test sees a 500 and the cause in gh.unvalidated.
            self.gh.problem(f"{request.method} {path}: the fake crashed: {exc!r}"[:500])
            body = {"message": "The fake GitHub server crashed", "documentation_url": DOCS}
            return self._done(request, path, "rest", _json_response(500, body, {}))

    # GraphQL ----------------------------------------------------------------------------------
    async def graphql(self, request: Request, path: str) -> Response:
        gh = self.gh
        gh.graphql_requests += 1
        request_id = gh.next_request_id()
        base = {"x-github-request-id": request_id, **anonymous_headers()}
        if request.method != "POST":
            gh.problem(f"{request.method} {path}: GraphQL takes POST only")
            return self._done(request, path, "graphql", _json_response(404, NOT_FOUND, base))
        try:
            principal = gh.auth.principal(bearer(request.headers.get("authorization")))
        except AuthError as exc:
            message = (
                "This endpoint requires you to be authenticated."
                if exc.message == "Requires authentication"
                else exc.message
            )
            body = {"message": message, "documentation_url": GRAPHQL_AUTH_DOC}
            return self._done(request, path, "graphql", _json_response(401, body, base))
        bucket = gh.limits.bucket(principal.id, "graphql")
        base.update(bucket.headers())
        if gh.limits.secondary_hit():
            return self._done(request, path, "graphql", self._secondary(bucket, request_id))
        raw = await request.body()
        try:
            payload = json.loads(raw)
        except ValueError:
            gh.problem(f"POST {path}: body is not JSON")
            body = {"message": "Problems parsing JSON", "documentation_url": GRAPHQL_AUTH_DOC}
            return self._done(request, path, "graphql", _json_response(400, body, base))
        outcome = run_query(
            payload, principal, gh.orgs, gh.limits, gh.fail_graphql_over_repos, request_id
        )
        for problem in outcome.problems:
            gh.problem(problem)
        if outcome.cost:
            gh.graphql_points += outcome.cost
        headers = {**base, **(outcome.bucket or bucket).headers()}
        response = _json_response(outcome.status, outcome.body, headers)
        return self._done(request, path, "graphql", response, outcome.cost, outcome.repos)

    # REST -------------------------------------------------------------------------------------
    async def rest(self, request: Request, raw_path: str) -> Response:
        gh = self.gh
        gh.rest_requests += 1
        request_id = gh.next_request_id()
        prefix = ENTERPRISE_PREFIX if raw_path.startswith(ENTERPRISE_PREFIX + "/") else ""
        path = raw_path[len(prefix) :]
        route = gh.description.route(request.method, path)
        raw_body = await request.body()
        # Problems with the request itself are recorded first, answered after authentication.
        refusal, query = self._check_request(request, path, route, raw_body)
        op = route[0] if route else None
        token = bearer(request.headers.get("authorization"))
        principal: Principal | None = None
        app_id: int | None = None
        try:
            if op is not None and op.key in APP_JWT_OPERATIONS:
                app_id = gh.auth.app_from_jwt(token)
            else:
                principal = gh.auth.principal(token)
        except AuthError as exc:
            refusal = error(exc.status, exc.message)
        bucket = gh.limits.bucket(principal.id, "core") if principal else None

        def answer(response: RestResponse, *, charge: bool = True) -> Response:
            return self._rest_answer(request, raw_path, request_id, bucket, response, charge)

        if refusal is not None and refusal.status == 401:
            return answer(refusal, charge=False)
        if gh.limits.secondary_hit():
            return self._done(request, raw_path, "rest", self._secondary(bucket, request_id))
        writing = request.method not in ("GET", "HEAD")
        if writing and principal is not None and gh.limits.write_too_soon(principal.id):
            return self._done(request, raw_path, "rest", self._secondary(bucket, request_id))
        free = op is not None and op.key == "GET /rate_limit"
        if bucket is not None and principal is not None and bucket.remaining == 0 and not free:
            message = primary_exceeded_message(principal.rate_limit_subject())
            return answer(error(403, message, REST_LIMITS_DOC), charge=False)
        if refusal is not None or route is None:
            return answer(refusal or RestResponse(404, NOT_FOUND))
        rest_request = RestRequest(
            route[0],
            route[1],
            query,
            f"{request.url.scheme}://{request.url.netloc}{prefix}",
            raw_path,
            request.query_params.multi_items(),
            raw_body,
            principal,
            app_id,
        )
        response = self._handle(rest_request)
        if principal is not None and principal.oauth_scopes is not None:
            response.headers.setdefault("x-oauth-scopes", principal.oauth_scopes)
        if request.method == "GET" and response.status == 200:
            etag = _etag(_content(response.body))
            if request.headers.get("if-none-match") == etag:
                # A conditional request answered 304 does not count against the rate limit.
                not_modified = RestResponse(304, None, {"etag": etag})
                if principal is not None and principal.oauth_scopes is not None:
                    not_modified.headers["x-oauth-scopes"] = principal.oauth_scopes
                return answer(not_modified, charge=False)
        return answer(response, charge=not free)

    def _check_request(
        self,
        request: Request,
        path: str,
        route: tuple[Operation, dict[str, str]] | None,
        raw_body: bytes,
    ) -> tuple[RestResponse | None, dict[str, Any]]:
        """GitHub's refusal of a malformed request (404, 400, 422), recorded as a problem."""
        gh = self.gh
        if route is None:
            gh.problem(f"{request.method} {path}: no such operation in GitHub's REST description")
            return RestResponse(404, NOT_FOUND), {}
        op, params = route
        header_problems = check_headers({k.lower(): v for k, v in request.headers.items()})
        for problem in header_problems:
            gh.problem(f"{op.key}: {problem}")
        if header_problems:
            return error(400, "; ".join(header_problems)), {}
        query, query_problems = check_query(gh.description, op, request.query_params.multi_items())
        for problem in query_problems:
            gh.problem(problem)
        if query_problems:
            body = {
                "message": "Validation Failed",
                "errors": [
                    {"resource": op.key, "code": "invalid", "message": p} for p in query_problems
                ],
                "documentation_url": DOCS,
                "status": "422",
            }
            return RestResponse(422, body), query
        for name, param in gh.description.parameters(op, "path").items():
            if param.get("schema", {}).get("type") == "integer" and not params[name].isdigit():
                return error(404, "Not Found"), query
        body_problem = check_request_body(gh.description, op, raw_body)
        if body_problem:
            gh.problem(body_problem)
            status = 400 if body_problem == "Problems parsing JSON" else 422
            return error(status, body_problem), query
        return None, query

    def _handle(self, rest_request: RestRequest) -> RestResponse:
        """Run the operation's handler and check its answer against GitHub's description."""
        gh = self.gh
        op = rest_request.op
        handler = HANDLERS.get(op.key) or WRITE_HANDLERS.get(op.key)
        if handler is None:
            gh.problem(f"{op.key}: described by GitHub but not implemented by the fake")
            return error(501, f"The fake GitHub server does not implement {op.key}")
        response = handler(self.state, rest_request)
        invalid = gh.description.check_response(op, response.status, response.body)
        if invalid is None:
            return response
        gh.problem(invalid)
        return error(500, "The fake GitHub server built a response that fails GitHub's schema")

    def _rest_answer(
        self,
        request: Request,
        path: str,
        request_id: str,
        bucket: Bucket | None,
        response: RestResponse,
        charge: bool,
    ) -> Response:
        headers = {
            "x-github-request-id": request_id,
            "x-github-media-type": "github.v3; format=json",
            "x-github-api-version-selected": API_VERSION,
            **response.headers,
        }
        if request.method == "GET" and "etag" not in headers:
            headers["etag"] = _etag(_content(response.body))
        if bucket is not None and charge:
            bucket.used += 1
        headers.update(bucket.headers() if bucket is not None else anonymous_headers())
        if response.status == 304:
            return self._done(request, path, "rest", Response(b"", 304, headers=headers))
        return self._done(
            request, path, "rest", _json_response(response.status, response.body, headers)
        )

    # Shared -----------------------------------------------------------------------------------
    def _secondary(self, bucket: Bucket | None, request_id: str) -> Response:
        headers = {"retry-after": "1", "x-github-request-id": request_id}
        if bucket is not None:
            headers.update(bucket.headers())
        body = {"message": secondary_message(request_id), "documentation_url": SECONDARY_DOC}
        return _json_response(403, body, headers)

    def _done(
        self,
        request: Request,
        path: str,
        kind: str,
        response: Response,
        cost: int | None = None,
        repos: int = 0,
    ) -> Response:
        self.gh.record(
            request.method, path, response.status_code, kind, cost, repos, request.url.query
        )
        return response


def build_app(gh: FakeGitHub) -> Starlette:
    handler = Handler(gh)

    async def endpoint(request: Request) -> Response:
        return await handler(request)

    return Starlette(routes=[Route("/{path:path}", endpoint, methods=METHODS)])
