"""GitHub's REST API as its OpenAPI description says: requests are routed by the description's
path templates, their parameters checked against it, and every response body validated against
the operation's response schema before it is sent."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from jsonschema.protocols import Validator
from openapi_schema_validator import OAS30Validator, oas30_format_checker

from .alerts import ALERT_OPERATIONS, NULLABLE_ENUM_OPERATIONS, nullable_enums
from .alerts import may_read as may_read_alerts
from .alerts import rest_json as alert_json
from .auth import Authenticator, Principal
from .git_data import find_tree, resolve_commitish
from .issues import ISSUE_OPERATIONS
from .limits import RateLimits
from .model import FakeOrg, FakeRepo, branch_rule_for, iso
from .rest_json import (
    Json,
    account_json,
    branch_json,
    branch_rules_json,
    contents_json,
    org_json,
    protection_json,
    repo_json,
    resolve_tree,
    ruleset_json,
    short_branch_json,
    tree_json,
)
from .rest_writes import WRITE_OPERATIONS
from .schemas import rest_full, rest_subset

API_VERSION = "2022-11-28"
MEDIA_TYPE = "application/vnd.github+json"
DOCS = "https://docs.github.com/rest"
MAX_PER_PAGE = 100
# Operations the tests need that rest-subset.json does not hold; described by the full file.
FULL_ONLY = (
    ("GET", "/orgs/{org}/installation"),
    ("POST", "/app/installations/{installation_id}/access_tokens"),
)
APP_JWT_OPERATIONS = frozenset(f"{m} {t}" for m, t in FULL_ONLY)
NOT_FOUND = {"message": "Not Found", "documentation_url": DOCS, "status": "404"}


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    source: str  # "subset" | "full"
    pattern: re.Pattern[str]

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"


def _template_regex(template: str, multi_segment: frozenset[str]) -> re.Pattern[str]:
    """A path template as a regex; parameters marked x-multi-segment (a file path, a ref)
    may hold slashes, every other parameter is one segment."""
    parts = re.split(r"(\{[^}]+\})", template)
    regex = "".join(
        (f"(?P<{p[1:-1]}>.+)" if p[1:-1] in multi_segment else f"(?P<{p[1:-1]}>[^/]+)")
        if p.startswith("{")
        else re.escape(p)
        for p in parts
    )
    return re.compile(f"{regex}\\Z")


def _plain_oneof(schema: Any) -> Any:
    """The schema without discriminators that map "array" to a branch.

    GitHub's contents response is oneOf(directory listing, file, ...) with a discriminator on
    `type`, mapping "array" to the listing; a discriminator can only read objects, so the
    validator would reject every listing. Plain oneOf picks the branch by the schemas alone.
    """
    if isinstance(schema, list):
        return [_plain_oneof(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    cleaned = {k: _plain_oneof(v) for k, v in schema.items()}
    mapping = cleaned.get("discriminator", {}).get("mapping", {})
    if "array" in mapping:
        del cleaned["discriminator"]
    return cleaned


def _multi_segment(document: dict[str, Any], operation: dict[str, Any]) -> frozenset[str]:
    names = set()
    for param in operation.get("parameters", []):
        if "$ref" in param:
            param = document["components"]["parameters"][param["$ref"].rsplit("/", 1)[1]]
        if param.get("in") == "path" and param.get("x-multi-segment"):
            names.add(param["name"])
    return frozenset(names)


class RestDescription:
    """The operations of rest-subset.json (plus FULL_ONLY from the full file, loaded lazily)."""

    def __init__(self) -> None:
        self.operations: list[Operation] = []
        subset = rest_subset()
        for template, item in subset["paths"].items():
            for method, operation in item.items():
                if method in ("get", "put", "post", "patch", "delete"):
                    regex = _template_regex(template, _multi_segment(subset, operation))
                    self.operations.append(Operation(method.upper(), template, "subset", regex))
        for method, template in FULL_ONLY:
            regex = _template_regex(template, frozenset())
            self.operations.append(Operation(method, template, "full", regex))
        # The writes (and their reads) are validated against the full description, loaded
        # when first used; their multi-segment parameters are declared beside them (a test
        # checks them against the description).
        for method, template, multi in WRITE_OPERATIONS + ISSUE_OPERATIONS + ALERT_OPERATIONS:
            regex = _template_regex(template, multi)
            self.operations.append(Operation(method, template, "full", regex))
        self._validators: dict[tuple[str, str], Validator] = {}
        self._lock = threading.Lock()

    @staticmethod
    def document(op: Operation) -> dict[str, Any]:
        return rest_subset() if op.source == "subset" else rest_full()

    def spec(self, op: Operation) -> dict[str, Any]:
        spec: dict[str, Any] = self.document(op)["paths"][op.template][op.method.lower()]
        return spec

    def route(self, method: str, raw_path: str) -> tuple[Operation, dict[str, str]] | None:
        """The operation for a request. A multi-segment parameter ({branch}, {path}) could
        swallow a longer template's tail, so the template with most literal text wins."""
        best: tuple[int, Operation, dict[str, str]] | None = None
        for op in self.operations:
            if op.method != method:
                continue
            match = op.pattern.match(raw_path)
            if match:
                literal = len(re.sub(r"\{[^}]+\}", "", op.template))
                if best is None or literal > best[0]:
                    params = {k: unquote(v) for k, v in match.groupdict().items()}
                    best = (literal, op, params)
        return None if best is None else (best[1], best[2])

    def _resolve(self, op: Operation, item: dict[str, Any]) -> dict[str, Any]:
        ref = item.get("$ref")
        if not isinstance(ref, str):
            return item
        node: Any = self.document(op)
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        resolved: dict[str, Any] = node
        return resolved

    def parameters(self, op: Operation, location: str) -> dict[str, dict[str, Any]]:
        params = [self._resolve(op, p) for p in self.spec(op).get("parameters", [])]
        return {p["name"]: p for p in params if p.get("in") == location}

    def response(self, op: Operation, status: int) -> dict[str, Any] | None:
        responses = self.spec(op).get("responses", {})
        item = responses.get(str(status))
        return None if item is None else self._resolve(op, item)

    def validator(self, op: Operation, key: str, schema: dict[str, Any]) -> Validator:
        with self._lock:
            cache_key = (f"{op.source}:{op.key}", key)
            validator = self._validators.get(cache_key)
            if validator is None:
                # "#/components/..." references resolve against the description's components.
                components = self.document(op)["components"]
                if op.key in NULLABLE_ENUM_OPERATIONS:
                    components = nullable_enums(components)
                root = {**_plain_oneof(schema), "components": components}
                validator = OAS30Validator(root, format_checker=oas30_format_checker)
                self._validators[cache_key] = validator
            return validator

    def body_schema(self, op: Operation, status: int) -> tuple[str, dict[str, Any] | None]:
        """The schema a response body must meet; None when the status carries no body.

        A status the operation does not describe (a rate-limit 403, a 401, a 422) is one of
        GitHub's generic errors: a basic-error body.
        """
        response = self.response(op, status)
        if response is None:
            return "basic-error", {"$ref": "#/components/schemas/basic-error"}
        content = response.get("content", {}).get("application/json")
        if content is None:
            return f"{status}:none", None
        schema: dict[str, Any] = content["schema"]
        return str(status), schema

    def check_response(self, op: Operation, status: int, body: Any) -> str | None:
        """What is wrong with a response body, or None when it validates."""
        key, schema = self.body_schema(op, status)
        if schema is None:
            if body is None:
                return None
            if status < 400:
                return f"{op.key} {status} must have no body"
            # An error described without content still carries GitHub's basic-error body.
            key, schema = "basic-error", {"$ref": "#/components/schemas/basic-error"}
        validator = self.validator(op, key, schema)
        error = next(iter(validator.iter_errors(body)), None)
        if error is None:
            return None
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        return f"{op.key} {status} response fails its schema at {where}: {error.message[:300]}"


# --- Requests and responses -----------------------------------------------------------------


@dataclass
class RestRequest:
    op: Operation
    params: dict[str, str]
    query: dict[str, Any]
    api: str  # the API root URL the client used (http://127.0.0.1:PORT or .../api/v3)
    url_path: str  # the request path as the client sent it, for Link headers
    raw_query: list[tuple[str, str]]
    body: bytes
    principal: Principal | None = None
    app_id: int | None = None


@dataclass
class RestResponse:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class RestState:
    orgs: list[FakeOrg]
    auth: Authenticator
    limits: RateLimits
    # Older Enterprise Server versions list repositories without security_and_analysis even for
    # admins; the per-repository endpoints still answer.
    listing_omits_security: bool = False
    # Where a handler records a request the fake cannot model (FakeGitHub.problem).
    report: Callable[[str], None] | None = None


def error(status: int, message: str, doc: str = DOCS) -> RestResponse:
    return RestResponse(
        status, {"message": message, "documentation_url": doc, "status": str(status)}
    )


def check_query(
    description: RestDescription, op: Operation, items: list[tuple[str, str]]
) -> tuple[dict[str, Any], list[str]]:
    """Coerce and check query parameters; returns (values, problems)."""
    declared = description.parameters(op, "query")
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name, raw in items:
        param = declared.get(name)
        if param is None:
            problems.append(f"{op.key}: unknown query parameter {name!r}")
            continue
        schema = param.get("schema", {})
        value: Any = raw
        kind = schema.get("type")
        if kind == "integer":
            if not re.fullmatch(r"-?\d+", raw):
                problems.append(f"{op.key}: query parameter {name}={raw!r} is not an integer")
                continue
            value = int(raw)
        elif kind == "boolean":
            if raw not in ("true", "false"):
                problems.append(f"{op.key}: query parameter {name}={raw!r} is not a boolean")
                continue
            value = raw == "true"
        if "enum" in schema and value not in schema["enum"]:
            problems.append(
                f"{op.key}: query parameter {name}={raw!r} is not one of {schema['enum']}"
            )
            continue
        if name == "per_page" and not 1 <= value <= MAX_PER_PAGE:
            problems.append(f"{op.key}: per_page={raw} is outside 1..{MAX_PER_PAGE}")
            continue
        if name == "page" and value < 1:
            problems.append(f"{op.key}: page={raw} is below 1")
            continue
        values[name] = value
    return values, problems


def check_headers(headers: dict[str, str]) -> list[str]:
    problems = []
    version = headers.get("x-github-api-version")
    if version != API_VERSION:
        problems.append(
            f"X-GitHub-Api-Version must be {API_VERSION}, got {version!r}"
            if version
            else f"missing X-GitHub-Api-Version: {API_VERSION}"
        )
    accept = [a.split(";")[0].strip() for a in headers.get("accept", "").split(",")]
    if MEDIA_TYPE not in accept:
        problems.append(f"missing Accept: {MEDIA_TYPE}")
    return problems


def link_header(request: RestRequest, page: int, last: int) -> str | None:
    """GitHub's pagination Link header (next/last, prev/first where they apply)."""
    if last <= 1:
        return None

    def url(number: int) -> str:
        kept = [(k, v) for k, v in request.raw_query if k != "page"]
        query = "&".join(f"{k}={v}" for k, v in [*kept, ("page", str(number))])
        return f"{request.api.rsplit('/api/v3', 1)[0]}{request.url_path}?{query}"

    links = []
    if page > 1:
        links += [f'<{url(page - 1)}>; rel="prev"', f'<{url(1)}>; rel="first"']
    if page < last:
        links += [f'<{url(page + 1)}>; rel="next"', f'<{url(last)}>; rel="last"']
    return ", ".join(links)


def _paginate(request: RestRequest, items: list[Any]) -> RestResponse:
    per_page = request.query.get("per_page", 30)
    page = request.query.get("page", 1)
    last = max(1, -(-len(items) // per_page))
    chunk = items[(page - 1) * per_page : page * per_page]
    response = RestResponse(200, chunk)
    link = link_header(request, page, last)
    if link:
        response.headers["link"] = link
    return response


# --- Handlers -------------------------------------------------------------------------------


def _org(state: RestState, request: RestRequest, login: str) -> FakeOrg | None:
    principal = request.principal
    for org in state.orgs:
        if org.login.lower() == login.lower():
            return org if principal is None or principal.sees_org(org.login) else None
    return None


def _repo(state: RestState, request: RestRequest) -> tuple[FakeOrg, FakeRepo] | None:
    org = _org(state, request, request.params["owner"])
    repo = org.repo(request.params["repo"]) if org else None
    return None if org is None or repo is None else (org, repo)


def _principal(request: RestRequest) -> Principal:
    assert request.principal is not None
    return request.principal


def get_org(state: RestState, request: RestRequest) -> RestResponse:
    org = _org(state, request, request.params["org"])
    if org is None:
        return error(404, "Not Found")
    return RestResponse(200, org_json(request.api, org, _principal(request)))


SORT_KEYS: dict[str, Callable[[FakeRepo], Any]] = {
    "created": lambda r: r.created_at,
    "updated": lambda r: r.pushed_at,
    "pushed": lambda r: r.pushed_at,
    "full_name": lambda r: r.full_name.lower(),
}
TYPE_FILTERS: dict[str, Callable[[FakeRepo], bool]] = {
    "all": lambda r: True,
    "member": lambda r: True,
    "public": lambda r: not r.private,
    "private": lambda r: r.private,
    "forks": lambda r: r.fork,
    "sources": lambda r: not r.fork,
}


def list_org_repos(state: RestState, request: RestRequest) -> RestResponse:
    org = _org(state, request, request.params["org"])
    if org is None:
        return error(404, "Not Found")
    query = request.query
    repos = [r for r in org.repos if TYPE_FILTERS[query.get("type", "all")](r)]
    sort = query.get("sort", "created")
    direction = query.get("direction", "asc" if sort == "full_name" else "desc")
    repos.sort(key=lambda r: (SORT_KEYS[sort](r), r.name.lower()), reverse=direction == "desc")
    principal = _principal(request)
    items = [repo_json(request.api, r, org, principal, full=False) for r in repos]
    if state.listing_omits_security:
        for item in items:
            item.pop("security_and_analysis", None)
    return _paginate(request, items)


def get_repo(state: RestState, request: RestRequest) -> RestResponse:
    found = _repo(state, request)
    if found is None:
        return error(404, "Not Found", f"{DOCS}/repos/repos#get-a-repository")
    org, repo = found
    return RestResponse(200, repo_json(request.api, repo, org, _principal(request), full=True))


def get_automated_security_fixes(state: RestState, request: RestRequest) -> RestResponse:
    found = _repo(state, request)
    # Admin only: anyone else is told the repository (or the setting) does not exist.
    if found is None or not _principal(request).is_admin or not found[1].vulnerability_alerts:
        return error(404, "Not Found")
    enabled = found[1].security_and_analysis["dependabot_security_updates"] == "enabled"
    return RestResponse(200, {"enabled": enabled, "paused": False})


def get_vulnerability_alerts(state: RestState, request: RestRequest) -> RestResponse:
    found = _repo(state, request)
    if found is None or not _principal(request).is_admin or not found[1].vulnerability_alerts:
        return error(404, "Not Found")
    return RestResponse(204)


def get_dependabot_alert(state: RestState, request: RestRequest) -> RestResponse:
    found = _repo(state, request)
    if found is None:
        return error(404, "Not Found")
    if not may_read_alerts(_principal(request)):
        return error(403, "Resource not accessible by integration")
    repo = found[1]
    number = request.params["alert_number"]
    alert = next((a for a in repo.alerts if str(a.number) == number), None)
    if alert is None or not repo.vulnerability_alerts:
        return error(404, "Not Found")
    return RestResponse(200, alert_json(request.api, repo, alert))


def get_branch_protection(state: RestState, request: RestRequest) -> RestResponse:
    found = _repo(state, request)
    if found is None:
        return error(404, "Not Found")
    org, repo = found
    if not _principal(request).is_admin:
        return error(403, "Must have admin rights to Repository.")
    branch = request.params["branch"]
    if repo.is_empty or branch != repo.default_branch:
        return error(404, "Branch not found")
    rule = branch_rule_for(repo, branch)
    if rule is None:
        return error(404, "Branch not protected")
    return RestResponse(200, protection_json(request.api, repo, org, branch, rule))


def get_branch_rules(state: RestState, request: RestRequest) -> RestResponse:
    found = _repo(state, request)
    if found is None:
        return error(404, "Not Found")
    org, repo = found
    return _paginate(request, branch_rules_json(repo, org, request.params["branch"]))


def get_tree(state: RestState, request: RestRequest) -> RestResponse:
    found = _repo(state, request)
    if found is None:
        return error(404, "Not Found")
    _, repo = found
    snapshot = repo.git()
    if snapshot is None:
        return error(409, "Git Repository is empty.")
    wanted = request.params["tree_sha"]
    tree = resolve_tree(repo, snapshot, wanted)
    if tree is None:
        # A tree or commit written through the Git Data API, or another branch.
        commit = resolve_commitish(repo, wanted)
        tree = commit.tree if commit is not None else find_tree(repo, wanted)
    if tree is None:
        return error(404, "Not Found")
    recursive = "recursive" in request.query
    return RestResponse(200, tree_json(request.api, repo, tree, recursive=recursive))


def get_contents(state: RestState, request: RestRequest) -> RestResponse:
    found = _repo(state, request)
    if found is None:
        return error(404, "Not Found")
    _, repo = found
    snapshot = repo.git()
    if snapshot is None:
        return error(404, "This repository is empty.")
    ref = request.query.get("ref")
    if ref is not None and resolve_tree(repo, snapshot, ref) is None:
        return error(404, f"No commit found for the ref {ref}")
    path = request.params["path"].strip("/")
    obj = snapshot.lookup(path)
    if obj is None or not path:
        return error(404, "Not Found")
    return RestResponse(200, contents_json(request.api, repo, path, obj))


def list_branches(state: RestState, request: RestRequest) -> RestResponse:
    found = _repo(state, request)
    if found is None:
        return error(404, "Not Found")
    org, repo = found
    branches = [] if repo.default_branch is None or repo.is_empty else [repo.default_branch]
    items = [short_branch_json(request.api, repo, org, b) for b in branches]
    wanted = request.query.get("protected")
    if wanted is not None:
        items = [i for i in items if i["protected"] == wanted]
    return _paginate(request, items)


def get_branch(state: RestState, request: RestRequest) -> RestResponse:
    found = _repo(state, request)
    if found is None:
        return error(404, "Not Found")
    org, repo = found
    branch = request.params["branch"]
    if repo.is_empty or branch != repo.default_branch:
        return error(404, "Branch not found")
    return RestResponse(200, branch_json(request.api, repo, org, branch))


def _rulesets_of(org: FakeOrg, repo: FakeRepo, include_parents: bool) -> list[Any]:
    return [*repo.rulesets, *(org.rulesets if include_parents else [])]


def list_repo_rulesets(state: RestState, request: RestRequest) -> RestResponse:
    found = _repo(state, request)
    if found is None:
        return error(404, "Not Found")
    org, repo = found
    targets = request.query.get("targets")
    wanted = set(targets.split(",")) if targets else None
    rulesets = [
        r
        for r in _rulesets_of(org, repo, request.query.get("includes_parents", True))
        if wanted is None or r.target in wanted
    ]
    principal = _principal(request)
    items = [ruleset_json(request.api, repo, org, r, principal, detailed=False) for r in rulesets]
    return _paginate(request, items)


def get_repo_ruleset(state: RestState, request: RestRequest) -> RestResponse:
    found = _repo(state, request)
    if found is None:
        return error(404, "Not Found")
    org, repo = found
    wanted = request.params["ruleset_id"]
    include_parents = request.query.get("includes_parents", True)
    for ruleset in _rulesets_of(org, repo, include_parents):
        if str(ruleset.id) == wanted:
            body = ruleset_json(request.api, repo, org, ruleset, _principal(request), detailed=True)
            return RestResponse(200, body)
    return error(404, "Not Found")


def get_rate_limit(state: RestState, request: RestRequest) -> RestResponse:
    principal = _principal(request)
    resources = {}
    for resource in ("core", "graphql", "search"):
        bucket = state.limits.bucket(principal.id, resource)
        resources[resource] = {
            "limit": bucket.limit,
            "remaining": bucket.remaining,
            "reset": int(bucket.reset_at),
            "used": bucket.used,
        }
    return RestResponse(200, {"resources": resources, "rate": resources["core"]})


def _installation_json(state: RestState, request: RestRequest, org: FakeOrg) -> Json:
    assert request.app_id is not None
    number = state.auth.installation_id(request.app_id, org.login)
    api = request.api
    return {
        "id": number,
        "account": account_json(api, org.login, org.id, "Organization"),
        "repository_selection": "all",
        "access_tokens_url": f"{api}/app/installations/{number}/access_tokens",
        "repositories_url": f"{api}/installation/repositories",
        "html_url": f"https://github.com/organizations/{org.login}/settings/installations/{number}",
        "app_id": request.app_id,
        "app_slug": f"fake-app-{request.app_id}",
        "target_id": org.id,
        "target_type": "Organization",
        "permissions": {"administration": "read", "contents": "read", "metadata": "read"},
        "events": [],
        "created_at": "2025-01-01T00:00:00Z",
        "updated_at": "2025-01-01T00:00:00Z",
        "single_file_name": None,
        "suspended_by": None,
        "suspended_at": None,
    }


def get_org_installation(state: RestState, request: RestRequest) -> RestResponse:
    org = _org(state, request, request.params["org"])
    if org is None:
        return error(404, "Not Found")
    return RestResponse(200, _installation_json(state, request, org))


def create_installation_token(state: RestState, request: RestRequest) -> RestResponse:
    assert request.app_id is not None
    wanted = request.params["installation_id"]
    for org in state.orgs:
        number = state.auth.installation_id(request.app_id, org.login)
        if str(number) == wanted:
            token, expires = state.auth.issue_installation_token(request.app_id, number, org.login)
            return RestResponse(
                201,
                {
                    "token": token,
                    "expires_at": iso(datetime.fromtimestamp(expires, tz=UTC)),
                    "permissions": state.auth.app_permissions(request.app_id),
                    "repository_selection": "all",
                },
            )
    return error(404, "Not Found")


HANDLERS: dict[str, Callable[[RestState, RestRequest], RestResponse]] = {
    "GET /orgs/{org}": get_org,
    "GET /orgs/{org}/repos": list_org_repos,
    "GET /repos/{owner}/{repo}": get_repo,
    "GET /repos/{owner}/{repo}/automated-security-fixes": get_automated_security_fixes,
    "GET /repos/{owner}/{repo}/vulnerability-alerts": get_vulnerability_alerts,
    "GET /repos/{owner}/{repo}/dependabot/alerts/{alert_number}": get_dependabot_alert,
    "GET /repos/{owner}/{repo}/branches/{branch}/protection": get_branch_protection,
    "GET /repos/{owner}/{repo}/rules/branches/{branch}": get_branch_rules,
    "GET /repos/{owner}/{repo}/rulesets": list_repo_rulesets,
    "GET /repos/{owner}/{repo}/rulesets/{ruleset_id}": get_repo_ruleset,
    "GET /repos/{owner}/{repo}/git/trees/{tree_sha}": get_tree,
    "GET /repos/{owner}/{repo}/contents/{path}": get_contents,
    "GET /repos/{owner}/{repo}/branches": list_branches,
    "GET /repos/{owner}/{repo}/branches/{branch}": get_branch,
    "GET /rate_limit": get_rate_limit,
    "GET /orgs/{org}/installation": get_org_installation,
    "POST /app/installations/{installation_id}/access_tokens": create_installation_token,
}


def check_request_body(description: RestDescription, op: Operation, body: bytes) -> str | None:
    """What is wrong with a JSON request body, or None."""
    spec = description.spec(op).get("requestBody")
    if not body.strip():
        return "request body required" if spec and spec.get("required") else None
    try:
        data = json.loads(body)
    except ValueError:
        return "Problems parsing JSON"
    if spec is None:
        return None
    schema = spec["content"]["application/json"]["schema"]
    validator = description.validator(op, "request", schema)
    problem = next(iter(validator.iter_errors(data)), None)
    return None if problem is None else f"{op.key} request body: {problem.message[:300]}"
