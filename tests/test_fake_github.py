"""The fake GitHub server: as strict as GitHub, and as GitHub says it behaves.

Every test talks to the real server over loopback HTTP with httpx.
"""

from __future__ import annotations

import base64
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from graphql import parse, validate

from tests.fake_github import (
    BranchRule,
    BypassActor,
    FakeGitHub,
    FakeOrg,
    FakeRepo,
    PullRequestRule,
    Ruleset,
    generate_org,
)
from tests.fake_github.graphql_limits import analyse, select_operation
from tests.fake_github.schemas import graphql_schema

ADMIN = "tok-admin-3c9e"
READ = "tok-read-77b1"
HEADERS = {"X-GitHub-Api-Version": "2022-11-28", "Accept": "application/vnd.github+json"}
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(32)
BIG = b"-- reference data\n" + b"x" * 600_000
APP_ID = 12345


def shaped_repo() -> FakeRepo:
    return FakeRepo(
        "acme",
        "shaped",
        files={
            "README.md": b"# shaped\n",
            "src/app/main.py": b"print('hi')\n",
            "src/app/deep/er/still/x.txt": b"deep\n",
            "docs/logo.png": PNG,
            "data/big.sql": BIG,
            "docs/latin.txt": "caf\u00e9 cr\u00e8me\n".encode("latin-1"),
        },
        branch_rules=[
            BranchRule(
                "main",
                required_approving_review_count=2,
                is_admin_enforced=True,
                bypass_actors=[BypassActor("Team", "leads"), BypassActor("User", "alice")],
            )
        ],
        rulesets=[
            Ruleset(
                101,
                "Protect default",
                pull_request=PullRequestRule(1, dismiss_stale_reviews_on_push=True),
                bypass_actors=[
                    BypassActor("OrganizationAdmin"),
                    BypassActor("Integration", "deploy-bot", bypass_mode="pull_request"),
                ],
            )
        ],
        security_and_analysis={
            "dependabot_security_updates": "enabled",
            "secret_scanning": "enabled",  # pragma: allowlist secret
            "secret_scanning_push_protection": "disabled",  # pragma: allowlist secret
        },
        vulnerability_alerts=True,
        topics=["python", "internal"],
    )


@pytest.fixture(scope="module")
def org() -> FakeOrg:
    generated = generate_org("acme", n_repos=30, seed=7)
    return FakeOrg("acme", [*generated.repos, shaped_repo()])


@contextmanager
def start(org: FakeOrg, **options: Any) -> Iterator[tuple[FakeGitHub, str]]:
    gh = FakeGitHub(orgs=[org], tokens={ADMIN: "admin", READ: "read"}, **options)
    with gh.serve() as base_url:
        yield gh, base_url


@pytest.fixture
def fake(org: FakeOrg) -> Iterator[tuple[FakeGitHub, str]]:
    with start(org) as served:
        yield served


def client(base_url: str, token: str | None = ADMIN, **headers: str) -> httpx.Client:
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=base_url, headers={**HEADERS, **auth, **headers}, timeout=30)


def graphql(
    base_url: str, query: str, token: str | None = ADMIN, **variables: Any
) -> httpx.Response:
    with client(base_url, token) as http:
        return http.post("/graphql", json={"query": query, "variables": variables})


# --- GraphQL validation -----------------------------------------------------------------------


def test_an_unknown_field_is_refused_in_githubs_words_and_recorded(
    fake: tuple[FakeGitHub, str],
) -> None:
    gh, base_url = fake
    response = graphql(base_url, '{ repository(owner: "acme", name: "shaped") { stars } }')
    assert response.status_code == 200
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["message"] == "Field 'stars' doesn't exist on type 'Repository'"
    assert body["errors"][0]["extensions"]["code"] == "undefinedField"
    assert len(gh.unvalidated) == 1


def test_a_connection_needs_first_or_last_unless_only_counted(fake: tuple[FakeGitHub, str]) -> None:
    gh, base_url = fake
    body = graphql(
        base_url, '{ organization(login: "acme") { repositories { nodes { name } } } }'
    ).json()
    assert body["errors"] == [
        {
            "type": "MISSING_PAGINATION_BOUNDARIES",
            "path": ["query", "organization", "repositories"],
            "locations": [{"line": 1, "column": 33}],
            "message": "You must provide a `first` or `last` value to properly paginate the "
            "`repositories` connection.",
        }
    ]
    counted = graphql(base_url, '{ organization(login: "acme") { repositories { totalCount } } }')
    assert counted.json() == {"data": {"organization": {"repositories": {"totalCount": 31}}}}
    assert len(gh.unvalidated) == 1


def test_first_above_100_is_refused(fake: tuple[FakeGitHub, str]) -> None:
    gh, base_url = fake
    query = '{ organization(login: "acme") { repositories(first: 101) { nodes { name } } } }'
    error = graphql(base_url, query).json()["errors"][0]
    assert error["type"] == "EXCESSIVE_PAGINATION"
    assert error["message"] == (
        "Requesting 101 records on the `repositories` connection exceeds the `first` limit of "
        "100 records."
    )
    # A variable counts the same as a literal.
    with_variable = graphql(
        base_url,
        'query($n: Int!) { organization(login: "acme") { repositories(first: $n) { nodes { name } } } }',
        n=500,
    )
    assert with_variable.json()["errors"][0]["type"] == "EXCESSIVE_PAGINATION"
    assert len(gh.unvalidated) == 2


def test_a_query_over_500000_nodes_is_refused(fake: tuple[FakeGitHub, str]) -> None:
    gh, base_url = fake
    query = """{ organization(login: "acme") { repositories(first: 100) { nodes {
        refs(first: 100, refPrefix: "refs/heads/") { nodes {
          associatedPullRequests(first: 100) { nodes { id } } } } } } } }"""
    body = graphql(base_url, query).json()
    assert body["errors"][0]["type"] == "MAX_NODE_LIMIT_EXCEEDED"
    assert body["errors"][0]["message"] == (
        "By the time this query traverses to the associatedPullRequests connection, it is "
        "requesting up to 1,000,000 possible nodes which exceeds the maximum limit of 500,000."
    )
    assert gh.graphql_points == 0
    assert len(gh.unvalidated) == 1


def test_malformed_requests_get_clear_errors(fake: tuple[FakeGitHub, str]) -> None:
    gh, base_url = fake
    with client(base_url) as http:
        not_json = http.post("/graphql", content=b"{nope")
        no_query = http.post("/graphql", json={"query": 42})
        syntax = http.post("/graphql", json={"query": "{ repository(owner: "})
    assert not_json.status_code == 400
    assert not_json.json()["message"] == "Problems parsing JSON"
    assert no_query.json()["errors"][0]["message"] == (
        "A query attribute must be specified and must be a string."
    )
    assert syntax.status_code == 200
    assert syntax.json()["errors"][0]["message"].startswith("Syntax Error")
    assert len(gh.unvalidated) == 3


def test_a_hand_built_organisation_is_checked() -> None:
    with pytest.raises(ValueError, match="visibility"):
        FakeRepo("acme", "x", visibility="secret")
    twice = FakeOrg("acme", [FakeRepo("acme", "x"), FakeRepo("acme", "X")])
    with pytest.raises(ValueError, match="appears twice"):
        FakeGitHub(orgs=[twice], tokens={})
    elsewhere = FakeOrg("acme", [FakeRepo("other", "x")])
    with pytest.raises(ValueError, match="not owned by acme"):
        FakeGitHub(orgs=[elsewhere], tokens={})
    with pytest.raises(ValueError, match="token access"):
        FakeGitHub(orgs=[], tokens={"t": "owner"})


# --- Cost and rate limits -----------------------------------------------------------------------

DOC_SIMPLE = """query { viewer { repositories(first: 50) { edges { repository: node { name
  issues(first: 10) { totalCount edges { node { title bodyHTML } } } } } } } }"""
DOC_COMPLEX = """query { viewer { repositories(first: 50) { edges { repository: node { name
  pullRequests(first: 20) { edges { pullRequest: node { title
    comments(first: 10) { edges { comment: node { bodyHTML } } } } } }
  issues(first: 20) { totalCount edges { issue: node { title bodyHTML
    comments(first: 10) { edges { comment: node { bodyHTML } } } } } } } } }
  followers(first: 10) { edges { follower: node { login } } } } }"""
DOC_COST = """query { viewer { login repositories(first: 100) { edges { node { id
  issues(first: 50) { edges { node { id labels(first: 60) { edges { node { id name } } } } } } } } } } }"""


@pytest.mark.parametrize(
    ("query", "nodes", "cost"),
    [(DOC_SIMPLE, 550, 1), (DOC_COMPLEX, 22_060, 21), (DOC_COST, 305_100, 51)],
)
def test_node_counts_and_costs_match_githubs_documented_examples(
    query: str, nodes: int, cost: int
) -> None:
    schema = graphql_schema()
    document = parse(query)
    assert validate(schema, document) == []
    operation = select_operation(document, None)
    assert operation is not None
    limits = analyse(schema, document, operation, {})
    assert (limits.node_count, limits.cost, limits.errors) == (nodes, cost, [])


COSTLY = """{ organization(login: "acme") { repositories(first: 100) { nodes {
  branchProtectionRules(first: 10) { nodes { bypassPullRequestAllowances(first: 10) { nodes { id } } } } } } }
  rateLimit { cost remaining used limit nodeCount resetAt } }"""


def test_points_are_charged_reported_and_exhausted_like_github(org: FakeOrg) -> None:
    # 1 + 100 + 100 x 10 = 1,101 requests -> 11 points; a budget of 25 allows two queries.
    with start(org, graphql_rate_limit=25) as (gh, base_url):
        first = graphql(base_url, COSTLY)
        rate = first.json()["data"]["rateLimit"]
        assert {k: rate[k] for k in ("cost", "remaining", "used", "limit", "nodeCount")} == {
            "cost": 11,
            "remaining": 14,
            "used": 11,
            "limit": 25,
            "nodeCount": 11_100,
        }
        assert first.headers["x-ratelimit-resource"] == "graphql"
        assert first.headers["x-ratelimit-remaining"] == "14"
        assert graphql(base_url, COSTLY).json()["data"]["rateLimit"]["remaining"] == 3
        refused = graphql(base_url, COSTLY)
        assert refused.status_code == 200
        assert refused.json()["errors"][0]["type"] == "RATE_LIMITED"
        assert "data" not in refused.json()
        assert gh.graphql_points == 22
        assert [r.graphql_cost for r in gh.log] == [11, 11, None]
        assert gh.unvalidated == []


def test_rest_primary_limit_and_conditional_requests(org: FakeOrg) -> None:
    with start(org, rate_limit=3) as (gh, base_url):
        with client(base_url) as http:
            first = http.get("/repos/acme/shaped")
            assert first.headers["x-ratelimit-remaining"] == "2"
            etag = first.headers["etag"]
            # A matching If-None-Match: 304, no body, nothing charged.
            again = http.get("/repos/acme/shaped", headers={"If-None-Match": etag})
            assert (again.status_code, again.content) == (304, b"")
            assert again.headers["x-ratelimit-remaining"] == "2"
            assert http.get("/rate_limit").json()["resources"]["core"]["used"] == 1
            http.get("/repos/acme/shaped/rulesets")
            http.get("/orgs/acme")
            refused = http.get("/orgs/acme")
        assert refused.status_code == 403
        assert refused.headers["x-ratelimit-remaining"] == "0"
        assert refused.json()["message"].startswith("API rate limit exceeded for user ID ")
        assert gh.unvalidated == []


def test_an_etag_changes_with_the_data(fake: tuple[FakeGitHub, str], org: FakeOrg) -> None:
    _, base_url = fake
    repo = org.repo("shaped")
    assert repo is not None
    with client(base_url) as http:
        etag = http.get("/repos/acme/shaped").headers["etag"]
        old = repo.description
        repo.description = "changed"
        try:
            changed = http.get("/repos/acme/shaped", headers={"If-None-Match": etag})
        finally:
            repo.description = old
    assert changed.status_code == 200
    assert changed.json()["description"] == "changed"
    assert changed.headers["etag"] != etag


def test_secondary_limit_answers_403_with_retry_after_once(org: FakeOrg) -> None:
    with start(org, secondary_limit_after=2) as (gh, base_url):
        with client(base_url) as http:
            statuses = [http.get("/orgs/acme") for _ in range(2)]
            limited = http.get("/orgs/acme")
            after = http.get("/orgs/acme")
        assert [r.status_code for r in statuses] == [200, 200]
        assert limited.status_code == 403
        assert limited.headers["retry-after"] == "1"
        assert "secondary rate limit" in limited.json()["message"]
        assert after.status_code == 200
        assert [r.status for r in gh.log] == [200, 200, 403, 200]


def test_queries_over_n_repositories_time_out_with_502(org: FakeOrg) -> None:
    names = [r.name for r in org.repos]

    def query(count: int) -> str:
        aliases = " ".join(
            f'r{i}: repository(owner: "acme", name: "{n}") {{ name }}'
            for i, n in enumerate(names[:count])
        )
        return "{ " + aliases + " }"

    with start(org, fail_graphql_over_repos=3) as (gh, base_url):
        assert graphql(base_url, query(3)).status_code == 200
        failed = graphql(base_url, query(4))
        assert failed.status_code == 502
        assert failed.json()["data"] is None
        assert failed.json()["errors"][0]["message"].startswith(
            "Something went wrong while executing your query. This may be the result of a timeout"
        )
        assert [(r.status, r.repos_in_query) for r in gh.log] == [(200, 3), (502, 4)]


def test_latency_delays_every_answer_but_concurrent_requests_overlap(org: FakeOrg) -> None:
    with start(org, latency_s=0.3) as (_, base_url):

        def fetch(_: int) -> float:
            with client(base_url) as http:
                began = time.perf_counter()
                assert http.get("/orgs/acme").status_code == 200
                return time.perf_counter() - began

        began = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            each = list(pool.map(fetch, range(4)))
        together = time.perf_counter() - began
        assert min(each) >= 0.3
        assert together < 4 * 0.3  # one after another would take 1.2 s


# --- Pagination ---------------------------------------------------------------------------------


def test_org_repositories_page_through_rest_link_headers(
    fake: tuple[FakeGitHub, str], org: FakeOrg
) -> None:
    gh, base_url = fake
    names: list[str] = []
    url: str | None = "/orgs/acme/repos?per_page=7&sort=full_name"
    pages = 0
    with client(base_url) as http:
        while url:
            response = http.get(url)
            assert response.status_code == 200
            names += [r["name"] for r in response.json()]
            if pages == 0:
                assert 'page=5>; rel="last"' in response.headers["link"]
            url = response.links.get("next", {}).get("url")
            pages += 1
    assert pages == 5
    assert names == sorted((r.name for r in org.repos), key=str.lower)
    assert gh.unvalidated == []


def test_rest_query_parameters_and_headers_are_checked(fake: tuple[FakeGitHub, str]) -> None:
    gh, base_url = fake
    with client(base_url) as http:
        too_many = http.get("/orgs/acme/repos", params={"per_page": 101})
        unknown = http.get("/orgs/acme/repos", params={"flavour": "sweet"})
        bad_enum = http.get("/orgs/acme/repos", params={"type": "everything"})
        no_operation = http.get("/orgs/acme/teapots")
    with client(base_url, **{"X-GitHub-Api-Version": "2021-01-01"}) as http:
        old_version = http.get("/orgs/acme")
    bare = httpx.get(f"{base_url}/orgs/acme", headers={"Authorization": f"Bearer {ADMIN}"})
    assert [r.status_code for r in (too_many, unknown, bad_enum)] == [422, 422, 422]
    assert too_many.json()["message"] == "Validation Failed"
    assert no_operation.status_code == 404
    for response in (too_many, no_operation, old_version, bare):
        assert "etag" in response.headers
        assert "x-ratelimit-remaining" in response.headers
    assert (old_version.status_code, bare.status_code) == (400, 400)
    assert len(gh.unvalidated) == 7  # bare misses both headers
    assert any("per_page=101" in p for p in gh.unvalidated)


def test_org_repositories_page_through_graphql_cursors(
    fake: tuple[FakeGitHub, str], org: FakeOrg
) -> None:
    gh, base_url = fake
    query = """query($after: String) { organization(login: "acme") {
      repositories(first: 8, after: $after) { totalCount pageInfo { hasNextPage endCursor }
        nodes { name } } } }"""
    names: list[str] = []
    after = None
    while True:
        body = graphql(base_url, query, after=after).json()
        connection = body["data"]["organization"]["repositories"]
        assert connection["totalCount"] == len(org.repos)
        names += [n["name"] for n in connection["nodes"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert names == [r.name for r in org.repos]
    bad = graphql(base_url, query, after="not-a-cursor").json()
    assert bad["errors"][0]["type"] == "INVALID_CURSOR_ARGUMENTS"
    assert gh.unvalidated == []


# --- Read and admin tokens ---------------------------------------------------------------------

SETTINGS = """{ r: repository(owner: "acme", name: "shaped") { viewerPermission
  hasVulnerabilityAlertsEnabled
  branchProtectionRules(first: 5) { totalCount nodes { pattern requiresApprovingReviews
    requiredApprovingReviewCount isAdminEnforced
    bypassPullRequestAllowances(first: 5) { nodes { actor { __typename ... on User { login }
      ... on Team { slug } } } } } } }
  s: repository(owner: "acme", name: "shaped") { viewerPermission
    rulesets(first: 5) { nodes { databaseId name enforcement target
      conditions { refName { include exclude } }
      rules(first: 10) { nodes { type parameters { ... on PullRequestParameters {
        requiredApprovingReviewCount dismissStaleReviewsOnPush requireCodeOwnerReview } } } }
      bypassActors(first: 5) { nodes { bypassMode organizationAdmin actor { __typename
        ... on App { slug } } } } } } }
  missing: repository(owner: "acme", name: "nope") { name } }"""


def test_an_admin_token_sees_protection_and_bypass_actors(fake: tuple[FakeGitHub, str]) -> None:
    gh, base_url = fake
    body = graphql(base_url, SETTINGS).json()
    rules = body["data"]["r"]["branchProtectionRules"]
    assert body["data"]["r"]["viewerPermission"] == "ADMIN"
    assert rules["nodes"][0] == {
        "pattern": "main",
        "requiresApprovingReviews": True,
        "requiredApprovingReviewCount": 2,
        "isAdminEnforced": True,
        "bypassPullRequestAllowances": {
            "nodes": [
                {"actor": {"__typename": "Team", "slug": "leads"}},
                {"actor": {"__typename": "User", "login": "alice"}},
            ]
        },
    }
    ruleset = body["data"]["s"]["rulesets"]["nodes"][0]
    assert ruleset["conditions"] == {"refName": {"include": ["~DEFAULT_BRANCH"], "exclude": []}}
    assert [r["type"] for r in ruleset["rules"]["nodes"]] == [
        "DELETION",
        "NON_FAST_FORWARD",
        "PULL_REQUEST",
    ]
    assert ruleset["rules"]["nodes"][2]["parameters"] == {
        "requiredApprovingReviewCount": 1,
        "dismissStaleReviewsOnPush": True,
        "requireCodeOwnerReview": False,
    }
    assert ruleset["bypassActors"]["nodes"] == [
        {"bypassMode": "ALWAYS", "organizationAdmin": True, "actor": None},
        {
            "bypassMode": "PULL_REQUEST",
            "organizationAdmin": False,
            "actor": {"__typename": "App", "slug": "deploy-bot"},
        },
    ]
    # A missing repository is an error for its alias only.
    assert body["data"]["missing"] is None
    assert body["errors"] == [
        {
            "type": "NOT_FOUND",
            "path": ["missing"],
            "locations": [{"line": 14, "column": 3}],
            "message": "Could not resolve to a Repository with the name 'acme/nope'.",
        }
    ]
    assert gh.unvalidated == []


def test_a_read_token_is_forbidden_the_protection_rules(fake: tuple[FakeGitHub, str]) -> None:
    gh, base_url = fake
    body = graphql(base_url, SETTINGS, token=READ).json()
    forbidden = [e for e in body["errors"] if e["type"] == "FORBIDDEN"]
    assert {tuple(e["path"]) for e in forbidden} == {
        ("r", "branchProtectionRules"),
        ("s", "rulesets", "nodes", 0, "bypassActors"),
    }
    # branchProtectionRules is non-null in GitHub's schema: its null nulls the repository.
    assert body["data"]["r"] is None
    assert body["data"]["s"]["viewerPermission"] == "READ"
    assert body["data"]["s"]["rulesets"]["nodes"][0]["bypassActors"] is None
    assert gh.unvalidated == []


def test_rest_settings_differ_between_read_and_admin(fake: tuple[FakeGitHub, str]) -> None:
    gh, base_url = fake
    paths = [
        "/repos/acme/shaped",
        "/repos/acme/shaped/automated-security-fixes",
        "/repos/acme/shaped/vulnerability-alerts",
        "/repos/acme/shaped/branches/main/protection",
        "/repos/acme/shaped/rulesets/101",
    ]
    with client(base_url, ADMIN) as admin, client(base_url, READ) as reader:
        as_admin = [admin.get(p) for p in paths]
        as_reader = [reader.get(p) for p in paths]
        listed = reader.get("/orgs/acme/repos", params={"per_page": 100}).json()
    assert [r.status_code for r in as_admin] == [200, 200, 204, 200, 200]
    assert [r.status_code for r in as_reader] == [200, 404, 404, 403, 200]
    assert as_admin[0].json()["security_and_analysis"]["secret_scanning"] == {"status": "enabled"}
    assert "security_and_analysis" not in as_reader[0].json()
    assert all("security_and_analysis" not in r for r in listed)
    assert as_admin[1].json() == {"enabled": True, "paused": False}
    protection = as_admin[3].json()["required_pull_request_reviews"]
    assert protection["required_approving_review_count"] == 2
    assert [t["slug"] for t in protection["bypass_pull_request_allowances"]["teams"]] == ["leads"]
    assert as_admin[4].json()["bypass_actors"][0] == {
        "actor_id": None,
        "actor_type": "OrganizationAdmin",
        "bypass_mode": "always",
    }
    assert "bypass_actors" not in as_reader[4].json()
    assert gh.unvalidated == []


def test_unknown_and_absent_tokens_get_401(fake: tuple[FakeGitHub, str]) -> None:
    gh, base_url = fake
    assert graphql(base_url, "{ viewer { login } }", token="tok-nope").status_code == 401
    anonymous = graphql(base_url, "{ viewer { login } }", token=None)
    assert anonymous.status_code == 401
    assert anonymous.json()["message"] == "This endpoint requires you to be authenticated."
    with client(base_url, "tok-nope") as http:
        rest = http.get("/orgs/acme")
    assert (rest.status_code, rest.json()["message"]) == (401, "Bad credentials")
    # Tokens never reach the log, the problems or the repr.
    seen = repr(gh) + repr(gh.log) + repr(gh.unvalidated) + repr(gh.auth)
    assert ADMIN not in seen and READ not in seen and "tok-nope" not in seen


# --- Git objects ------------------------------------------------------------------------------

FILES = """query($e1: String!, $e2: String!) { repository(owner: "acme", name: "shaped") {
  isEmpty defaultBranchRef { name target { ... on Commit { oid committedDate
    history(first: 5, path: "docs") { totalCount nodes { committedDate } } } } }
  root: object(expression: "HEAD:") { ... on Tree { oid entries { name path type mode
    object { ... on Blob { byteSize isBinary isTruncated text }
      ... on Tree { entries { name type object { ... on Tree { entries { path } } } } } } } } }
  byBranch: object(expression: $e1) { ... on Blob { text } }
  byOid: object(expression: $e2) { ... on Blob { text } }
  missing: object(expression: "HEAD:no/such/file") { oid } } }"""


def test_trees_and_blobs_answer_like_github(fake: tuple[FakeGitHub, str], org: FakeOrg) -> None:
    gh, base_url = fake
    repo = org.repo("shaped")
    assert repo is not None
    snapshot = repo.git()
    assert snapshot is not None
    body = graphql(
        base_url, FILES, e1="main:src/app/main.py", e2=f"{snapshot.commit_oid}:README.md"
    ).json()
    data = body["data"]["repository"]
    assert data["defaultBranchRef"]["target"]["oid"] == snapshot.commit_oid
    entries = {e["name"]: e for e in data["root"]["entries"]}
    assert list(entries) == ["README.md", "data", "docs", "src"]  # Git's order
    docs = {e["name"]: e["object"] for e in entries["docs"]["object"]["entries"]}
    assert docs["logo.png"] == {}  # a Blob: only the Tree fragment was asked for at this depth
    big = entries["data"]["object"]["entries"][0]
    assert big == {"name": "big.sql", "type": "blob", "object": {}}
    assert entries["README.md"]["mode"] == 33188
    assert entries["src"]["type"] == "tree"
    assert data["byBranch"]["text"] == "print('hi')\n"
    assert data["byOid"]["text"] == "# shaped\n"
    assert data["missing"] is None
    blobs = graphql(
        base_url,
        """{ repository(owner: "acme", name: "shaped") {
          png: object(expression: "HEAD:docs/logo.png") { ... on Blob { isBinary text byteSize } }
          big: object(expression: "HEAD:data/big.sql") { ... on Blob { isTruncated byteSize text } }
          latin: object(expression: "HEAD:docs/latin.txt") { ... on Blob { isBinary text } } } }""",
    ).json()["data"]["repository"]
    assert blobs["png"] == {"isBinary": True, "text": None, "byteSize": len(PNG)}
    assert blobs["big"]["isTruncated"] is True
    assert blobs["big"]["byteSize"] == len(BIG)
    assert blobs["big"]["text"] == BIG[:512_000].decode()
    assert blobs["latin"] == {"isBinary": False, "text": "caf\u00e9 cr\u00e8me\n"}
    assert gh.unvalidated == []


def test_an_empty_repository_has_no_default_branch(
    fake: tuple[FakeGitHub, str], org: FakeOrg
) -> None:
    _, base_url = fake
    empty = next(r for r in org.repos if r.is_empty)
    query = """query($name: String!) { repository(owner: "acme", name: $name) { isEmpty
      defaultBranchRef { name } object(expression: "HEAD:README.md") { oid } } }"""
    body = graphql(base_url, query, name=empty.name).json()
    assert body == {
        "data": {"repository": {"isEmpty": True, "defaultBranchRef": None, "object": None}}
    }
    with client(base_url) as http:
        assert http.get(f"/repos/acme/{empty.name}/git/trees/main").status_code == 409


def test_object_ids_are_gits(tmp_path: Path) -> None:
    files = {"README.md": b"# x\n", "src/a/b.py": b"pass\n", "src/a.py": b"", "src-b.txt": b"z\n"}
    repo = FakeRepo("acme", "x", files=files)
    for rel, content in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(content)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "add", "-A"], check=True)
    tree = subprocess.run(
        ["git", "-C", str(tmp_path), "write-tree"], capture_output=True, text=True, check=True
    ).stdout.strip()
    snapshot = repo.git()
    assert snapshot is not None
    assert snapshot.tree_oid == tree


def test_rest_trees_and_contents_agree_with_the_files(
    fake: tuple[FakeGitHub, str], org: FakeOrg
) -> None:
    gh, base_url = fake
    repo = org.repo("shaped")
    assert repo is not None
    with client(base_url, READ) as http:
        tree = http.get("/repos/acme/shaped/git/trees/main", params={"recursive": "1"}).json()
        blobs = {e["path"] for e in tree["tree"] if e["type"] == "blob"}
        readme = http.get("/repos/acme/shaped/contents/README.md").json()
        listing = http.get("/repos/acme/shaped/contents/src/app").json()
    assert blobs == set(repo.files)
    assert base64.b64decode(readme["content"]) == b"# shaped\n"
    assert [(i["name"], i["type"]) for i in listing] == [("deep", "dir"), ("main.py", "file")]
    assert gh.unvalidated == []


# --- Schema checking of the fake's own answers -------------------------------------------------


def test_a_response_that_fails_githubs_schema_is_caught(org: FakeOrg) -> None:
    # GitHub allows at most 6 required approvals in classic protection: this rule cannot exist.
    impossible = FakeRepo(
        "odd", "impossible", files={"a": b"a"}, branch_rules=[BranchRule("main", 7)]
    )
    odd = FakeOrg("odd", [impossible])
    with start(odd) as (gh, base_url):
        with client(base_url) as http:
            response = http.get("/repos/odd/impossible/branches/main/protection")
        assert response.status_code == 500
        assert len(gh.unvalidated) == 1
        assert (
            "response fails its schema at required_pull_request_reviews/required_approving_review_count"
            in gh.unvalidated[0]
        )


# --- GitHub App ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def app_jwt(key: rsa.RSAPrivateKey, lifetime_s: int = 540, app_id: int = APP_ID) -> str:
    now = int(time.time())
    return jwt.encode(
        {"iat": now - 30, "exp": now + lifetime_s, "iss": str(app_id)}, key, algorithm="RS256"
    )


def test_an_app_jwt_buys_an_installation_token_with_admin_access(
    org: FakeOrg, app_key: rsa.RSAPrivateKey
) -> None:
    with start(org, apps={APP_ID: public_pem(app_key)}) as (gh, base_url):
        with client(base_url, app_jwt(app_key)) as http:
            installation = http.get("/orgs/acme/installation")
            assert installation.status_code == 200
            number = installation.json()["id"]
            created = http.post(f"/app/installations/{number}/access_tokens")
        assert created.status_code == 201
        token = created.json()["token"]
        assert token.startswith("ghs_")
        body = graphql(
            base_url,
            '{ repository(owner: "acme", name: "shaped") { viewerPermission } }',
            token=token,
        )
        assert body.json() == {"data": {"repository": {"viewerPermission": "ADMIN"}}}
        assert gh.unvalidated == []
        assert token not in repr(gh.log)


def test_bad_app_jwts_are_refused(org: FakeOrg, app_key: rsa.RSAPrivateKey) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with start(org, apps={APP_ID: public_pem(app_key)}) as (_, base_url):
        with client(base_url, app_jwt(other)) as forged:
            wrong_key = forged.get("/orgs/acme/installation")
        with client(base_url, app_jwt(app_key, lifetime_s=1200)) as greedy:
            too_long = greedy.get("/orgs/acme/installation")
        with client(base_url, app_jwt(app_key)) as http:
            as_user = http.get("/orgs/acme")  # an app JWT is not a token for the API
        assert (wrong_key.status_code, wrong_key.json()["message"]) == (
            401,
            "A JSON web token could not be decoded",
        )
        assert too_long.status_code == 401
        assert "too far in the future" in too_long.json()["message"]
        assert as_user.status_code == 401


# --- Enterprise-style base URL -----------------------------------------------------------------


def test_enterprise_style_paths_answer_too(fake: tuple[FakeGitHub, str]) -> None:
    gh, base_url = fake
    with client(base_url) as http:
        rest = http.get("/api/v3/repos/acme/shaped")
        query = http.post("/api/graphql", json={"query": "{ viewer { login } }"})
    assert rest.status_code == 200
    assert rest.json()["url"] == f"{base_url}/api/v3/repos/acme/shaped"
    assert query.json() == {"data": {"viewer": {"login": "octo-admin-0"}}}
    assert gh.unvalidated == []


# --- Generated organisations --------------------------------------------------------------------


def test_generated_organisations_are_deterministic() -> None:
    def shape(org: FakeOrg) -> list[tuple[Any, ...]]:
        return [
            (r.name, r.files, r.file_dates, r.branch_rules, r.rulesets, r.security_and_analysis)
            for r in org.repos
        ]

    assert shape(generate_org("acme", 40, seed=3)) == shape(generate_org("acme", 40, seed=3))
    assert shape(generate_org("acme", 40, seed=3)) != shape(generate_org("acme", 40, seed=4))


def test_generated_organisations_are_varied() -> None:
    org = generate_org("acme", n_repos=50, seed=1)
    repos = org.repos
    paths = {p for r in repos for p in r.files}
    contents = [c for r in repos for c in r.files.values()]
    assert len({r.name for r in repos}) == 50
    assert any(r.is_empty for r in repos)
    assert any(r.archived for r in repos) and any(r.fork for r in repos)
    assert any(len(c) > 1024 * 1024 for c in contents)
    assert any(b"\0" in c for c in contents)
    assert any(not _utf8(c) for c in contents)
    assert {"rulesets", "classic", "none"} <= {
        "rulesets" if r.rulesets else "classic" if r.branch_rules else "none" for r in repos
    }
    markers = [
        "pyproject.toml",
        "package.json",
        "go.mod",
        "Gemfile",
        "composer.json",
        ".tf",
        "Dockerfile",
        ".sh",
    ]
    for marker in markers:
        assert any(p.endswith(marker) for p in paths), marker
    assert any(p.endswith(("pom.xml", "build.gradle.kts")) for p in paths)
    assert max(p.count("/") for p in paths) >= 4  # monorepo folders
    process = [
        ".pre-commit-config.yaml",
        ".github/dependabot.yml",
        "SECURITY.md",
        "docs/threat-model/README.md",
    ]
    for name in process:
        assert 0 < sum(name in r.files for r in repos) < 50, name
    texts = b"".join(c for c in contents if len(c) < 100_000)
    assert b"gitleaks" in texts and b"last_reviewed_on:" in texts and b"trivy-action" in texts
    assert len({r.security_and_analysis["dependabot_security_updates"] for r in repos}) == 2


def test_a_large_generated_organisation_is_served_and_validates() -> None:
    org = generate_org("big", n_repos=2000, seed=9)
    assert len({r.name for r in org.repos}) == 2000
    with start(org) as (gh, base_url):
        names = [r.name for r in org.repos[:100]]
        aliases = " ".join(
            f'r{i}: repository(owner: "big", name: "{n}") {{ ...R }}' for i, n in enumerate(names)
        )
        fragment = """fragment R on Repository { nameWithOwner isEmpty
          object(expression: "HEAD:") { ... on Tree { entries { name type object {
            ... on Blob { byteSize isBinary text }
            ... on Tree { entries { name type object { ... on Tree { entries { name type object {
              ... on Tree { entries { name } } } } } } } } } } } } }"""
        response = graphql(base_url, "{ " + aliases + " } " + fragment)
        assert response.status_code == 200
        assert "errors" not in response.json()
        assert len(response.json()["data"]) == 100
        assert gh.unvalidated == []


def _utf8(content: bytes) -> bool:
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
