"""A fake GitHub for the tests and benchmarks: REST and GraphQL over generated organisations,
as strict as the real one.

    org = generate_org("acme", n_repos=50, seed=1)
    gh = FakeGitHub(orgs=[org], tokens={"tok-admin": "admin", "tok-read": "read"})
    with gh.serve() as base_url:   # REST at base_url (or base_url + "/api/v3"),
        ...                        # GraphQL at base_url + "/graphql" (or "/api/graphql")
    assert gh.unvalidated == []

- GraphQL queries are validated against GitHub's published schema and GitHub's own limits
  (first/last 1..100 on connections, 500,000 nodes, the documented point cost), then executed.
- REST requests are routed by GitHub's OpenAPI description; unknown operations (404), bad query
  parameters (422) and missing `X-GitHub-Api-Version`/`Accept` headers (400) are refused, and
  every response body is validated against the operation's schema (a failure answers 500).
- Writes (the fix command's): security settings (PUT vulnerability-alerts and
  automated-security-fixes, PATCH security_and_analysis, POST rulesets; admin only), the Git Data
  API (blobs, trees, commits, refs) and pull requests (push access). Request bodies and answers
  are validated against GitHub's full OpenAPI description. The default branch never moves:
  other branches live in `repo.branches`, created objects in `repo.git_objects`, pull requests
  in `repo.pulls`; `gh.writes()` lists the writing requests. Issues and comments (issues.py:
  `issues_of(repo)`), for the repository-issue action.
- Secondary limits: `secondary_limit_after` refuses one request of a burst; `write_spacing_s` and
  `writes_per_minute` refuse content-creating requests that come too close together, as GitHub
  does (`gh.limits.write_refusals` counts them).
- Misbehaviour on demand (`gh.misbehaviour`, see misbehaviour.py): repeated or endless cursors,
  endless REST pages, the Authorization header echoed in errors and headers, refusals; and
  beside it a refused port and a listener that never answers.
- Everything that did not validate is listed in `gh.unvalidated`; every request is in `gh.log`.
"""

from .auth import new_app_key
from .misbehaviour import Listener, Misbehaviour, closed_port
from .model import (
    BranchRule,
    BypassActor,
    FakeCommit,
    FakeOrg,
    FakePull,
    FakeRepo,
    PullRequestRule,
    Ruleset,
)
from .org import generate_org
from .server import FakeGitHub, RequestRecord

__all__ = [
    "BranchRule",
    "BypassActor",
    "FakeCommit",
    "FakeGitHub",
    "FakeOrg",
    "FakePull",
    "FakeRepo",
    "Listener",
    "Misbehaviour",
    "PullRequestRule",
    "RequestRecord",
    "Ruleset",
    "closed_port",
    "generate_org",
    "new_app_key",
]
