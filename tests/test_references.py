"""Following references into other repositories (ADR 0014): reusable workflows, composite
actions and pre-commit hook repositories read at their pinned refs from the fake GitHub (which
validates every query), the cache and --offline, the catalogue fallback, the chain in the
evidence, `unknown` for what could not be read, cycles, the depth limit and hostile files.

Modelled on real estates: a service's workflow calls `ORG/pipelines/.github/workflows/
security-scan.yml@v2` with `scan_type: image`, which calls a composite action of
`ORG/shared-actions` pinned by SHA that runs `snyk container test` only when
`inputs.scan_type == 'image'`; a pre-commit config names a team's hook repository whose hook
`baseline` is a script running gitleaks.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import TODAY, MakeRepo, git, result, scan
from fake_github import FakeGitHub, FakeOrg, FakeRepo
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secposture.cli.main import main
from secposture.facts import calls
from secposture.facts.interface import Facts
from secposture.facts.references import nested, parse_uses, prefetch
from secposture.model import Outcome, Status
from secposture.policy import default_policy
from secposture.probes.interface import probe_reads
from secposture.scan import scan_github_org
from secposture.sources.github.auth import Secret, TokenCredentials
from secposture.sources.github.fetch import GitHubFetcher, RepoFilter
from secposture.sources.github.transport import GitHubClient
from secposture.sources.memory import MemorySnapshot
from secposture.sources.references.cache import CachedReferences, ReferenceCache
from secposture.sources.references.github import GitHubReferences, ReferenceStore
from secposture.sources.references.interface import (
    ABSENT,
    READ,
    UNREAD,
    Reference,
    reference,
    valid_path,
    valid_ref,
    valid_repo,
)
from secposture.sources.references.none import NoReferences

TOKEN = "tok-refs-9d41c0"  # nosec B105 - a token of the fake server only

SCAN_WORKFLOW = """\
name: security scan
on:
  workflow_call:
    inputs:
      scan_type:
        type: string
        default: image
      image:
        type: string
        default: ''
jobs:
  scan:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - name: Snyk
        uses: acme/shared-actions/actions/snyk-scan@{sha}
        with:
          scan_type: ${{{{ inputs.scan_type }}}}
          image: ${{{{ inputs.image }}}}
"""

SNYK_ACTION = """\
name: Snyk scan
inputs:
  scan_type:
    default: image
  image:
    default: ''
runs:
  using: composite
  steps:
    - name: Image
      if: inputs.scan_type == 'image'
      shell: bash
      run: |
        snyk container test "${{ inputs.image }}" --severity-threshold=high
    - name: Files
      if: ${{ inputs.scan_type == 'fs' }}
      shell: bash
      run: snyk test --all-projects
"""

HOOKS = """\
- id: baseline
  name: secret scanner
  entry: hooks/gitleaks/run.sh
  language: script
  pass_filenames: false
  stages: [pre-commit]
"""

RUN_SH = """\
#!/usr/bin/env bash
set -euo pipefail
if ! command -v gitleaks >/dev/null 2>&1; then
  echo "install gitleaks" >&2
  exit 1
fi
gitleaks git --pre-commit --staged --redact --exit-code 1
"""


def shared_org() -> tuple[FakeOrg, str]:
    """acme's shared repositories; returns the org and the SHA the pipeline pins the action at."""
    actions = FakeRepo(
        "acme", "shared-actions", files={"actions/snyk-scan/action.yml": SNYK_ACTION.encode()}
    )
    snapshot = actions.git()
    assert snapshot is not None
    sha = snapshot.commit_oid
    pipelines = FakeRepo(
        "acme",
        "pipelines",
        # The default branch no longer scans: only the tag names the file the callers use.
        files={".github/workflows/security-scan.yml": b"on: workflow_call\njobs: {}\n"},
        tags={
            "v2": {".github/workflows/security-scan.yml": SCAN_WORKFLOW.format(sha=sha).encode()}
        },
    )
    hooks = FakeRepo(
        "acme",
        "security-hooks",
        tags={
            "v2.0.2": {
                ".pre-commit-hooks.yaml": HOOKS.encode(),
                "hooks/gitleaks/run.sh": RUN_SH.encode(),
            }
        },
        annotated_tags={"v2.0.2"},
    )
    return FakeOrg("acme", [actions, pipelines, hooks]), sha


def service(
    scan_type: str = "image", uses: str = "acme/pipelines/.github/workflows/security-scan.yml@v2"
) -> dict[str, str]:
    return {
        "Dockerfile": "FROM python:3.12-slim\nCOPY . /app\n",
        ".github/workflows/security.yml": f"""\
name: Security
on:
  schedule:
    - cron: '0 6 * * 1'
permissions:
  contents: read
jobs:
  image-scan:
    uses: {uses}
    with:
      scan_type: '{scan_type}'
      image: ghcr.io/acme/service:latest
    secrets: inherit
""",
    }


@pytest.fixture
def github() -> Iterator[tuple[FakeGitHub, str, str]]:
    org, sha = shared_org()
    gh = FakeGitHub(orgs=[org], tokens={TOKEN: "read"})
    with gh.serve() as base_url:
        yield gh, base_url, sha


def client(base_url: str) -> GitHubClient:
    return GitHubClient(base_url, TokenCredentials(Secret(TOKEN), "GITHUB_TOKEN"))


def reader(base_url: str, cache: ReferenceCache | None = None) -> GitHubReferences:
    store = ReferenceStore(client(base_url), cache, discover=nested)
    return GitHubReferences(store, eager=True)


# --- a checkout scan that reads its references ---------------------------------------------------


def test_reusable_workflow_into_composite_action_runs_an_image_scan(
    github: tuple[FakeGitHub, str, str], make_repo: MakeRepo
) -> None:
    gh, base_url, sha = github
    root = make_repo(files=service("image"))
    report = scan(root, references=reader(base_url))
    control = result(report, "container-scanning")
    assert control.status is Status.PASS, control.summary
    evidence = next(f for f in control.findings if f.outcome is Outcome.POSITIVE)
    # The chain: the caller's file and line, then each callee's ORG/REPO@ref file and line.
    assert ".github/workflows/security.yml:9" in evidence.message
    assert "acme/pipelines@v2:.github/workflows/security-scan.yml:17" in evidence.message
    assert f"acme/shared-actions@{sha}:actions/snyk-scan/action.yml:14" in evidence.message
    assert "snyk container test" in evidence.message
    # The finding points at this repository's line where the chain starts.
    assert evidence.location is not None
    assert (evidence.location.path, evidence.location.line) == (".github/workflows/security.yml", 9)
    assert gh.unvalidated == []


def test_inputs_decide_which_steps_run(
    github: tuple[FakeGitHub, str, str], make_repo: MakeRepo
) -> None:
    _, base_url, _ = github
    report = scan(make_repo(files=service("fs")), references=reader(base_url))
    control = result(report, "container-scanning")
    # `scan_type: fs` runs the filesystem scan only: no image is scanned.
    assert control.status is not Status.PASS
    assert "snyk container test" not in " ".join(f.message for f in control.findings)


def test_unread_reference_is_unknown_naming_it_and_how_to_read_it(make_repo: MakeRepo) -> None:
    root = make_repo(files=service("image"))
    report = scan(root, references=NoReferences())
    control = result(report, "container-scanning")
    assert control.status is Status.UNKNOWN, control.summary
    message = control.findings[0].message
    assert "acme/pipelines/.github/workflows/security-scan.yml@v2" in message
    assert ".github/workflows/security.yml:9" in message
    assert "GITHUB_TOKEN" in message and "--offline" in message
    assert "no image scan" not in control.summary
    # Every format shows it: a problem on the caller's file.
    assert any("security-scan.yml@v2" in p.message for p in report.problems)


def test_the_default_checkout_scan_reads_nothing_and_says_so(make_repo: MakeRepo) -> None:
    report = scan(make_repo(files=service("image")))
    assert result(report, "container-scanning").status is Status.UNKNOWN


def test_missing_file_at_the_ref_is_unknown_not_fail(
    github: tuple[FakeGitHub, str, str], make_repo: MakeRepo
) -> None:
    _, base_url, _ = github
    files = service("image", uses="acme/pipelines/.github/workflows/gone.yml@v2")
    control = result(
        scan(make_repo(files=files), references=reader(base_url)), "container-scanning"
    )
    assert control.status is Status.UNKNOWN
    assert "no such file at that ref" in control.findings[0].message


def test_repository_not_visible_says_which_token_would_read_it(
    github: tuple[FakeGitHub, str, str], make_repo: MakeRepo
) -> None:
    _, base_url, _ = github
    files = service("image", uses="other/private/.github/workflows/scan.yml@v1")
    control = result(
        scan(make_repo(files=files), references=reader(base_url)), "container-scanning"
    )
    assert control.status is Status.UNKNOWN
    assert "a token that can read other/private" in control.findings[0].message


# --- the cache and --offline -----------------------------------------------------------------------


def test_cache_serves_offline_scans_and_is_private(
    github: tuple[FakeGitHub, str, str], make_repo: MakeRepo, tmp_path: Path
) -> None:
    gh, base_url, _ = github
    root = make_repo(files=service("image"))
    folder = tmp_path / "cache"
    warm = ReferenceCache(folder, "github.com")
    assert (
        result(scan(root, references=reader(base_url, warm)), "container-scanning").status
        is Status.PASS
    )
    for sub in (folder, folder / "files", folder / "refs"):
        assert stat.S_IMODE(os.lstat(sub).st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in (folder / "files").iterdir())
    gh.reset_log()
    # Offline: the same verdict from the cache alone, and no request at all.
    cold = CachedReferences(ReferenceCache(folder, "github.com"), "--offline was given", "x")
    assert result(scan(root, references=cold), "container-scanning").status is Status.PASS
    assert gh.graphql_requests == 0
    # Another host's cache holds nothing of github.com's.
    other = CachedReferences(ReferenceCache(folder, "ghe.example.org"), "--offline was given", "x")
    assert result(scan(root, references=other), "container-scanning").status is Status.UNKNOWN


def test_a_tag_is_asked_again_after_an_hour_a_sha_never(
    github: tuple[FakeGitHub, str, str], tmp_path: Path
) -> None:
    gh, base_url, sha = github
    clock = [1_000_000.0]
    cache = ReferenceCache(tmp_path / "c", "github.com", clock=lambda: clock[0])
    tag = Reference("acme/pipelines", "v2", ".github/workflows/security-scan.yml")
    pinned = Reference("acme/shared-actions", sha, "actions/snyk-scan/action.yml")
    first = reader(base_url, cache).read([tag, pinned])
    assert [f.state for f in first] == [READ, READ]
    gh.reset_log()
    assert [f.state for f in reader(base_url, cache).read([tag, pinned])] == [READ, READ]
    assert gh.graphql_requests == 0
    clock[0] += 3601
    assert [f.state for f in reader(base_url, cache).read([tag, pinned])] == [READ, READ]
    assert gh.graphql_requests == 1  # the tag, again; the SHA's file came from the cache
    # Offline, a tag older than the hour still reads from the cache.
    clock[0] += 86_400
    offline = CachedReferences(cache, "--offline was given", "x").read([tag])
    assert offline[0].state == READ


def test_cache_refuses_a_folder_open_to_others_or_a_link(tmp_path: Path) -> None:
    from secposture.sources.references.cache import CacheUnusable

    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    os.chmod(shared, 0o777)  # noqa: S103  # nosec B103 - the hostile set-up under test
    ReferenceCache(shared, "github.com")
    assert stat.S_IMODE(os.lstat(shared).st_mode) == 0o700  # ours: made private
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (tmp_path / "elsewhere").mkdir()
    with pytest.raises(CacheUnusable, match="not a folder"):
        ReferenceCache(link, "github.com")


def test_tampered_cache_entries_are_ignored(tmp_path: Path) -> None:
    cache = ReferenceCache(tmp_path / "c", "github.com", max_file_bytes=2048)
    sha = "a" * 40
    cache.store_file("acme/x", sha, "action.yml", "runs: {using: composite}\n")
    (entry,) = (tmp_path / "c" / "files").iterdir()
    data = json.loads(entry.read_text())
    # An entry whose fields do not match its name (swapped or forged) is not used.
    data["path"] = "other.yml"
    entry.write_text(json.dumps(data))
    assert cache.file("acme/x", sha, "action.yml") is None
    cache.store_file("acme/x", sha, "action.yml", "x\0binary")
    assert cache.file("acme/x", sha, "action.yml") is None
    cache.store_file("acme/x", sha, "action.yml", "y" * 4096)  # over this scan's limit
    assert cache.file("acme/x", sha, "action.yml") is None
    (entry,) = (tmp_path / "c" / "files").iterdir()
    entry.write_bytes(b"{not json")
    assert cache.file("acme/x", sha, "action.yml") is None


def test_cache_is_bounded_in_entries(tmp_path: Path) -> None:
    cache = ReferenceCache(tmp_path / "c", "github.com", max_entries=20)
    for i in range(60):
        cache.store_file("acme/x", f"{i:040x}", "action.yml", f"name: {i}\n")
    assert len(list((tmp_path / "c" / "files").iterdir())) <= 20
    assert cache.file("acme/x", f"{59:040x}", "action.yml") == (READ, "name: 59\n")


# --- the catalogue fallback and the policy -------------------------------------------------------


def test_policy_catalogue_entry_decides_an_unread_reference_and_the_file_wins(
    github: tuple[FakeGitHub, str, str], make_repo: MakeRepo, tmp_path: Path
) -> None:
    _, base_url, _ = github
    policy = tmp_path / "org-policy.toml"
    policy.write_text(
        '[[shared_actions]]\nuses = "acme/pipelines/.github/workflows/security-scan.yml"\n'
        'runs = ["trivy image $IMAGE"]\n'
    )
    root = make_repo(files=service("fs"))
    offline = result(
        scan(root, policy_file=policy, references=NoReferences()), "container-scanning"
    )
    assert offline.status is Status.PASS
    assert "catalogue of shared actions" in offline.findings[0].message
    # Read, the file decides: `scan_type: fs` scans no image, whatever the catalogue says.
    read = result(scan(root, policy_file=policy, references=reader(base_url)), "container-scanning")
    assert read.status is not Status.PASS


def test_a_repositorys_own_catalogue_entry_needs_the_operators_leave(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    own = (
        '[[shared_actions]]\nuses = "acme/pipelines/.github/workflows/security-scan.yml"\n'
        'runs = ["trivy image $IMAGE"]\n'
    )
    root = make_repo(files={**service("image"), "secposture.toml": own})
    operator = tmp_path / "operator.toml"
    operator.write_text("fail_on = 'required'\n")
    report = scan(root, policy_file=operator, references=NoReferences())
    assert result(report, "container-scanning").status is Status.UNKNOWN
    refused = [c for c in report.repository_policy.changes if c.key.startswith("shared_actions")]  # type: ignore[union-attr]
    assert refused and not refused[0].applied and refused[0].needs == "tools"
    operator.write_text('[repository_policy]\nallow = ["tools"]\n')
    report = scan(root, policy_file=operator, references=NoReferences())
    assert result(report, "container-scanning").status is Status.PASS


def test_shipped_catalogue_entries_are_well_formed() -> None:
    from secposture.facts.references import shared_catalogue

    facts = Facts(MemorySnapshot({}), default_policy(), TODAY)
    found = shared_catalogue(facts)
    assert found.entries and found.hook_repos
    for entry in found.entries.values():
        assert parse_uses(f"{entry.uses}@v1") is not None, entry.uses
        assert entry.runs
        for item in entry.runs:
            assert set(item) <= {"run", "uses", "with", "if"}
    assert found.leaf("actions/checkout") and found.leaf("github/codeql-action/init")
    assert not found.leaf("acme/shared-actions/actions/snyk-scan")


# --- cycles, depth and hostile references --------------------------------------------------------


def chain_org(length: int, cycle: bool = False) -> FakeOrg:
    files: dict[str, bytes] = {}
    for i in range(length):
        last = i == length - 1
        if last and cycle:
            body = "  next:\n    uses: ./.github/workflows/w0.yml\n"
        elif last:
            body = "  scan:\n    runs-on: ubuntu-latest\n    steps:\n      - run: trivy image app:latest\n"
        else:
            body = f"  next:\n    uses: ./.github/workflows/w{i + 1}.yml\n"
        files[f".github/workflows/w{i}.yml"] = f"on: workflow_call\njobs:\n{body}".encode()
    return FakeOrg("acme", [FakeRepo("acme", "chain", files=files)])


def chain_service() -> dict[str, str]:
    return service(uses="acme/chain/.github/workflows/w0.yml@main")


def test_a_cycle_of_reusable_workflows_ends(make_repo: MakeRepo) -> None:
    gh = FakeGitHub(orgs=[chain_org(3, cycle=True)], tokens={TOKEN: "read"})
    with gh.serve() as base_url:
        report = scan(make_repo(files=chain_service()), references=reader(base_url))
    control = result(report, "container-scanning")
    assert control.status is Status.FAIL  # read whole: nothing scans the image
    assert gh.graphql_requests <= 4


def test_the_depth_limit_leaves_what_is_beyond_it_unknown(make_repo: MakeRepo) -> None:
    gh = FakeGitHub(orgs=[chain_org(4)], tokens={TOKEN: "read"})
    with gh.serve() as base_url:
        within = scan(make_repo(files=chain_service()), references=reader(base_url))
    assert result(within, "container-scanning").status is Status.PASS
    gh = FakeGitHub(orgs=[chain_org(6)], tokens={TOKEN: "read"})
    with gh.serve() as base_url:
        beyond = scan(make_repo(files=chain_service()), references=reader(base_url))
    control = result(beyond, "container-scanning")
    assert control.status is Status.UNKNOWN
    assert "more than 4 references deep" in control.findings[0].message


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"on: workflow_call\njobs: {}\n#" + b"x" * (1024 * 1024 + 10) + b"\n", "over the"),
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", "binary"),
        (
            b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
            b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
            b"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
            "cannot be analysed",
        ),
        (b"- just\n- a list\n", "is not a workflow"),
    ],
    ids=["huge", "binary", "yaml-bomb", "not-a-workflow"],
)
def test_hostile_referenced_files_are_unknown_never_a_crash(
    content: bytes, why: str, make_repo: MakeRepo
) -> None:
    org = FakeOrg(
        "acme", [FakeRepo("acme", "pipelines", files={".github/workflows/scan.yml": content})]
    )
    gh = FakeGitHub(orgs=[org], tokens={TOKEN: "read"})
    files = service(uses="acme/pipelines/.github/workflows/scan.yml@main")
    with gh.serve() as base_url:
        report = scan(make_repo(files=files), references=reader(base_url))
    control = result(report, "container-scanning")
    assert control.status is Status.UNKNOWN
    assert why in control.findings[0].message
    assert gh.unvalidated == []


@pytest.mark.parametrize(
    "uses",
    [
        "acme/pipelines/.github/workflows/scan.yml@v1..v2",
        "acme/pipelines/.github/workflows/scan.yml@main~1",
        "acme/pipelines/.github/workflows/scan.yml@HEAD:secrets.txt",
        "acme/pipelines/.github/workflows/../../secrets.yml@main",
        "acme/pipelines/README.md@main",
        "not-a-repo@main",
        "acme/pipe lines/.github/workflows/scan.yml@main",
        "-acme/pipelines/.github/workflows/scan.yml@main",
        "acme/pipelines/.github/workflows/scan.yml@${{ github.ref }}",
    ],
)
def test_odd_references_are_never_asked_of_github(uses: str, make_repo: MakeRepo) -> None:
    gh = FakeGitHub(orgs=[FakeOrg("acme", [])], tokens={TOKEN: "read"})
    with gh.serve() as base_url:
        report = scan(make_repo(files=service(uses=uses)), references=reader(base_url))
    assert gh.graphql_requests == 0
    control = result(report, "container-scanning")
    assert control.status is Status.UNKNOWN
    assert "not" in control.findings[0].message


def test_reference_parts_are_validated() -> None:
    assert valid_repo("Acme/Pipelines") == "acme/pipelines"
    assert valid_repo("acme") is None and valid_repo("acme/..") is None
    assert valid_repo("a/b/c") is None and valid_repo("-x/y") is None
    assert valid_ref("v2") == "v2" and valid_ref("release/2026-12") == "release/2026-12"
    assert valid_ref("A" * 40) == "a" * 40
    for bad in (
        "v1..v2",
        "main~1",
        "main^",
        "HEAD:x",
        "@{1}",
        "x y",
        "-v",
        "a//b",
        "x.lock",
        "",
        "\x00",
    ):
        assert valid_ref(bad) is None, bad
    assert valid_path("./actions//lint/") == "actions/lint"
    for bad in ("../x", "a/../../b", "/etc/passwd", "a\\b", "a:b", "a\nb", ""):
        assert valid_path(bad) is None, bad
    assert reference("acme/x", "v1", "a/../b") is None


# --- pre-commit hook repositories ------------------------------------------------------------------


PRECOMMIT = """\
repos:
  - repo: https://github.com/acme/security-hooks
    rev: v2.0.2
    hooks:
      - id: baseline
        env:
          GITLEAKS_CONFIG: .gitleaks.toml
"""


def test_hook_repository_hook_is_followed_to_the_detector_it_runs(
    github: tuple[FakeGitHub, str, str], make_repo: MakeRepo
) -> None:
    gh, base_url, _ = github
    root = make_repo(files={".pre-commit-config.yaml": PRECOMMIT})
    control = result(scan(root, references=reader(base_url)), "secrets-pre-commit")
    assert control.status is Status.PASS, control.summary
    assert "gitleaks" in control.summary
    assert gh.unvalidated == []
    # Unread, the hook is unknown, naming the repository and how to read it: never "no detector".
    unread = result(scan(root, references=NoReferences()), "secrets-pre-commit")
    assert unread.status is Status.UNKNOWN
    assert "acme/security-hooks@v2.0.2 hook `baseline`" in unread.summary
    assert "GITHUB_TOKEN" in unread.summary


def test_hook_chain_is_in_the_evidence(github: tuple[FakeGitHub, str, str]) -> None:
    from secposture.facts.tools import precommit_uses

    _, base_url, _ = github
    snapshot = MemorySnapshot({".pre-commit-config.yaml": PRECOMMIT})
    snapshot.references = reader(base_url)
    facts = Facts(snapshot, default_policy(), TODAY)
    (use,) = [u for u in facts.get(precommit_uses) if u.tool.id == "gitleaks"]
    assert "acme/security-hooks@v2.0.2:hooks/gitleaks/run.sh:7" in use.evidence
    assert "acme/security-hooks@v2.0.2:.pre-commit-hooks.yaml:1" in use.evidence
    assert (use.location.path, use.location.line) == (".pre-commit-config.yaml", 5)


def test_policy_hook_catalogue_without_a_token(make_repo: MakeRepo, tmp_path: Path) -> None:
    root = make_repo(files={".pre-commit-config.yaml": PRECOMMIT})
    policy = tmp_path / "p.toml"
    policy.write_text(
        '[[shared_hooks]]\nuses = "acme/security-hooks"\nhooks = { baseline = "gitleaks protect --staged" }\n'
    )
    control = result(
        scan(root, policy_file=policy, references=NoReferences()), "secrets-pre-commit"
    )
    assert control.status is Status.PASS, control.summary


def test_well_known_hook_repositories_are_not_unknown_without_a_token(make_repo: MakeRepo) -> None:
    config = """\
repos:
  - repo: https://github.com/pre-commit/pre-commit-hooks
    rev: v5.0.0
    hooks:
      - id: trailing-whitespace
  - repo: https://github.com/psf/black
    rev: 24.10.0
    hooks:
      - id: black
"""
    control = result(
        scan(make_repo(files={".pre-commit-config.yaml": config})), "secrets-pre-commit"
    )
    assert control.status is Status.FAIL  # known to run no detector: a real fail


def test_precommit_config_installed_from_another_path(make_repo: MakeRepo) -> None:
    files = {
        "Makefile": "include scripts/init.mk\n",
        "scripts/init.mk": (
            "githooks-config: # install the hooks\n"
            "\tpre-commit install \\\n"
            "\t\t--config scripts/config/pre-commit.yaml \\\n"
            "\t\t--install-hooks\n"
        ),
        "scripts/config/pre-commit.yaml": (
            "repos:\n- repo: local\n  hooks:\n  - id: scan-secrets\n    name: Scan secrets\n"
            "    entry: bash -c 'gitleaks protect --staged --redact'\n    language: system\n"
        ),
    }
    control = result(scan(make_repo(files=files)), "secrets-pre-commit")
    assert control.status is Status.PASS, control.summary
    assert "scripts/config/pre-commit.yaml" in control.findings[0].location.path  # type: ignore[union-attr]


# --- an organisation: each distinct reference once for the estate --------------------------------


def test_org_scan_fetches_each_reference_once_for_the_estate() -> None:
    org, _ = shared_org()
    services = [
        FakeRepo("acme", f"svc-{i}", files={k: v.encode() for k, v in service("image").items()})
        for i in range(30)
    ]
    org.repos.extend(services)
    gh = FakeGitHub(orgs=[org], tokens={TOKEN: "read"})
    with gh.serve() as base_url, client(base_url) as gh_client:
        fetcher = GitHubFetcher(gh_client, default_policy(), today=TODAY, reads=probe_reads)
        estate = scan_github_org(fetcher, "acme", RepoFilter(), TODAY)
        assert fetcher.references is not None
        fetched = fetcher.references.fetched_files
    reports = {r.name: r.report for r in estate.repositories}
    for svc in services:
        report = reports[svc.full_name]
        assert report is not None
        assert result(report, "container-scanning").status is Status.PASS
    # Two distinct referenced files (and action.yaml, asked beside action.yml) for 30 callers.
    assert fetched <= 3
    assert gh.unvalidated == []
    assert gh.graphql_requests <= 8


# --- what the workflow probes get ----------------------------------------------------------------


def test_reusable_calls_map_with_to_inputs_and_keep_untrusted_text(make_repo: MakeRepo) -> None:
    files = {
        ".github/workflows/triage.yml": """\
on: issues
jobs:
  label:
    uses: ./.github/workflows/label.yml
    with:
      title: ${{ github.event.issue.title }}
""",
        ".github/workflows/label.yml": """\
on:
  workflow_call:
    inputs:
      title: {type: string}
      mode: {type: string, default: quick}
jobs:
  run:
    runs-on: ubuntu-latest
    steps:
      - run: echo "${{ inputs.title }} ${{ inputs.mode }}"
""",
    }
    snapshot = MemorySnapshot(files)
    facts = Facts(snapshot, default_policy(), TODAY)
    (call,) = calls.reusable_calls(facts)
    assert call.callee is not None and call.callee.path == ".github/workflows/label.yml"
    assert call.inputs == {"title": "${{ github.event.issue.title }}", "mode": "quick"}
    assert (call.caller.id, call.workflow.path, call.origin) == (
        "label",
        ".github/workflows/triage.yml",
        "",
    )
    through = [
        s
        for s in calls.resolved_steps(facts)
        if s.workflow.path == ".github/workflows/triage.yml" and s.step.run
    ]
    assert through[0].step.run == 'echo "${{ github.event.issue.title }} quick"'
    assert through[0].via == (
        "`uses: ./.github/workflows/label.yml` at .github/workflows/triage.yml:4",
    )
    assert (through[0].anchor.path, through[0].anchor.line) == (".github/workflows/triage.yml", 4)


def test_cli_offline_checkout_uses_the_cache_only(
    github: tuple[FakeGitHub, str, str],
    make_repo: MakeRepo,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    gh, base_url, _ = github
    root = make_repo(files=service("image"))
    git(root, "remote", "add", "origin", f"{base_url}/acme/service.git")
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    args = [
        "scan",
        str(root),
        "--github-url",
        base_url,
        "--format",
        "json",
        "--repository",
        "acme/pipelines",
    ]
    with pytest.raises(SystemExit):
        main(args)
    online = {r["id"]: r["status"] for r in json.loads(capsys.readouterr().out)["controls"]}
    assert online["container-scanning"] == "pass"
    gh.reset_log()
    with pytest.raises(SystemExit):
        main([*args, "--offline"])
    offline = {r["id"]: r["status"] for r in json.loads(capsys.readouterr().out)["controls"]}
    assert offline["container-scanning"] == "pass"
    assert gh.graphql_requests == 0 and gh.rest_requests == 0
    monkeypatch.delenv("GITHUB_TOKEN")
    cold = Path(os.environ["XDG_CACHE_HOME"]).parent / "other-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cold))
    with pytest.raises(SystemExit):
        main(args[:-2])
    report = json.loads(capsys.readouterr().out)
    control = next(r for r in report["controls"] if r["id"] == "container-scanning")
    assert control["status"] == "unknown"
    assert "GITHUB_TOKEN" in control["summary"]


def test_absent_and_unread_states(github: tuple[FakeGitHub, str, str]) -> None:
    _, base_url, _ = github
    found = reader(base_url).read(
        [
            Reference("acme/shared-actions", "main", "actions/snyk-scan/action.yaml"),
            Reference("acme/shared-actions", "no-such-tag", "action.yml"),
        ]
    )
    assert found[0].state == ABSENT
    assert found[1].state == UNREAD and "not a tag, branch or commit" in found[1].why


def test_another_owners_unread_action_is_a_leaf_its_own_owners_is_unknown(
    make_repo: MakeRepo,
) -> None:
    def with_step(uses: str) -> dict[str, str]:
        return {
            "Dockerfile": "FROM alpine:3.20\n",
            ".github/workflows/ci.yml": (
                "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n"
                f"      - uses: {uses}\n      - run: docker build -t app .\n"
            ),
        }

    other = scan(
        make_repo(files=with_step("someone/lock-threads@v5")),
        references=NoReferences(),
        repository="acme/service",
    )
    assert result(other, "container-scanning").status is Status.FAIL
    assert not any("lock-threads" in p.message for p in other.problems)
    own = scan(
        make_repo(files=with_step("acme/build-and-push@v3")),
        references=NoReferences(),
        repository="acme/service",
    )
    control = result(own, "container-scanning")
    assert control.status is Status.UNKNOWN
    assert "acme/build-and-push@v3" in control.findings[0].message
    # An action that says what it does (sets a tool up, notifies) is a leaf whoever owns it.
    setup = scan(
        make_repo(files=with_step("acme/setup-helm@v3")),
        references=NoReferences(),
        repository="acme/service",
    )
    assert result(setup, "container-scanning").status is Status.FAIL


CODESEE_LIKE = """\
name: Map
description: checks out the pull request and maps it
inputs:
  api-token: {required: true}
runs:
  using: composite
  steps:
    - name: Check out the code
      uses: actions/checkout@v4
      with:
        repository: ${{ github.event.pull_request.head.repo.full_name }}
        ref: ${{ github.event.pull_request.head.ref }}
    - shell: bash
      run: npx map-code --token "${{ inputs.api-token }}"
"""

PR_TARGET = """\
on:
  pull_request_target:
    types: [opened, synchronize]
permissions:
  contents: read
jobs:
  map:
    runs-on: ubuntu-latest
    steps:
      - uses: vendor/map-action@v2
        with:
          api-token: ${{ secrets.MAP_TOKEN }}
"""


def test_privileged_workflow_into_another_owners_composite_action(make_repo: MakeRepo) -> None:
    org = FakeOrg(
        "vendor",
        [FakeRepo("vendor", "map-action", tags={"v2": {"action.yml": CODESEE_LIKE.encode()}})],
    )
    gh = FakeGitHub(orgs=[org], tokens={TOKEN: "read"})
    root = make_repo(files={".github/workflows/map.yml": PR_TARGET})
    with gh.serve() as base_url:
        read = scan(root, references=reader(base_url), repository="acme/service")
    control = result(read, "dangerous-workflow")
    assert control.status is Status.FAIL, control.summary
    assert "vendor/map-action@v2:action.yml" in control.summary
    # Unread, whoever owns it: unknown naming it, not "checks out no pull-request code".
    unread = result(
        scan(root, references=NoReferences(), repository="acme/service"), "dangerous-workflow"
    )
    assert unread.status is Status.UNKNOWN, unread.summary
    assert "vendor/map-action@v2" in unread.summary


def test_mirror_reader_reads_bare_mirrors_at_the_pinned_ref(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    from secposture.sources.references.mirror import MirrorReferences

    source = make_repo(
        files={".github/workflows/security-scan.yml": "on: workflow_call\njobs: {}\n"}
    )
    git(source, "tag", "v1")
    write = source / ".github/workflows/security-scan.yml"
    write.write_text(SCAN_WORKFLOW.format(sha="0" * 40))
    git(source, "commit", "-qam", "scan")
    git(source, "tag", "v2")
    mirrors = tmp_path / "mirrors"
    (mirrors / "acme+pipelines").mkdir(parents=True)
    git(tmp_path, "clone", "-q", "--bare", str(source), str(mirrors / "acme+pipelines" / "repo"))
    found = MirrorReferences(mirrors).read(
        [
            Reference("acme/pipelines", "v1", ".github/workflows/security-scan.yml"),
            Reference("acme/pipelines", "v2", ".github/workflows/security-scan.yml"),
            Reference("acme/pipelines", "v2", "missing.yml"),
            Reference("acme/pipelines", "v9", "x.yml"),
            Reference("acme/other", "v1", "x.yml"),
        ]
    )
    assert [f.state for f in found] == [READ, READ, ABSENT, UNREAD, UNREAD]
    assert "jobs: {}" in (found[0].text or "") and "snyk-scan" in (found[1].text or "")
    assert "no mirror of acme/other" in found[4].why


# --- Renovate presets in other repositories -------------------------------------------------------


def renovate_org() -> FakeOrg:
    files = {
        "default.json": b'{\n  "extends": ["config:recommended"]\n}\n',
        "jvm.json": b'{\n  "extends": ["github>acme/renovate-config"],\n  "enabledManagers": ["gradle", "gradle-wrapper"]\n}\n',
        "loop.json": b'{"extends": ["github>acme/renovate-config:loop"]}\n',
    }
    return FakeOrg("acme", [FakeRepo("acme", "renovate-config", files=files)])


def gradle_service(extends: str) -> dict[str, str]:
    return {
        "renovate.json": f'{{\n  "extends": ["{extends}"]\n}}\n',
        "build.gradle.kts": 'plugins { kotlin("jvm") version "2.0.0" }\n',
        "web/package.json": '{"name": "web", "dependencies": {"express": "^4.0.0"}}\n',
    }


def test_renovate_preset_of_another_repository_is_merged(make_repo: MakeRepo) -> None:
    from secposture.facts import renovate_presets

    gh = FakeGitHub(orgs=[renovate_org()], tokens={TOKEN: "read"})
    root = make_repo(files=gradle_service("github>acme/renovate-config:jvm"))
    with gh.serve() as base_url:
        report = scan(root, references=reader(base_url))
        snapshot = MemorySnapshot({})
        snapshot.references = reader(base_url)
        facts = Facts(snapshot, default_policy(), TODAY)
        resolved = renovate_presets.resolve(
            facts,
            "renovate.json",
            {"extends": ["github>acme/renovate-config:jvm", ":semanticCommits"]},
        )
        looped = renovate_presets.resolve(
            facts, "renovate.json", {"extends": ["github>acme/renovate-config:loop"]}
        )
    assert resolved.config["enabledManagers"] == ["gradle", "gradle-wrapper"]
    assert resolved.config["extends"] == ["config:recommended", ":semanticCommits"]
    assert resolved.read == [
        "acme/renovate-config@HEAD:jvm.json",
        "acme/renovate-config@HEAD:default.json",
    ]
    assert looped.unread == []  # a cycle ends
    control = result(report, "dependency-update-config")
    # enabledManagers from the preset leaves npm out: web/ is not covered.
    assert control.status is Status.PARTIAL, control.summary
    unread = result(scan(root, references=NoReferences()), "dependency-update-config")
    assert unread.status is Status.UNKNOWN, unread.summary
    assert "github>acme/renovate-config:jvm" in unread.summary


def test_renovate_preset_names() -> None:
    from secposture.facts.renovate_presets import preset_candidates

    def first(name: str) -> str:
        return next(r.key for r in preset_candidates(name) or [])

    keys = [r.key for r in preset_candidates("github>acme/cfg") or []]
    assert keys[:2] == ["acme/cfg@HEAD:default.json", "acme/cfg@HEAD:default.json5"]
    assert first("local>acme/cfg:node#v2") == "acme/cfg@v2:node.json"
    assert first("github>acme/cfg//presets/jvm") == "acme/cfg@HEAD:presets/jvm.json"
    assert first("github>acme/cfg:x(arg)") == "acme/cfg@HEAD:x.json"
    assert [r.key for r in preset_candidates("github>acme/cfg:base.json") or []] == [
        "acme/cfg@HEAD:base.json"
    ]
    for name in ("config:recommended", ":semanticCommits", "github>acme", "github>acme/cfg:../x"):
        assert not preset_candidates(name), name


# --- properties: hostile text never raises, and what is accepted is safe to use ------------------

PROPERTY = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@PROPERTY
@given(st.text(max_size=120), st.text(max_size=120), st.text(max_size=300))
def test_accepted_references_are_plain(repo: str, ref: str, path: str) -> None:
    found = reference(repo, ref, path)
    if found is None:
        return
    assert found.repo.count("/") == 1 and found.repo == found.repo.lower()
    assert ".." not in found.ref and ":" not in found.ref and "~" not in found.ref
    assert not any(c in found.ref for c in "^@{}\\ \t\n\x00")
    assert not found.path.startswith("/") and ".." not in found.path.split("/")
    assert not any(ord(c) < 32 or c in "\\:" for c in found.path)


@PROPERTY
@given(st.text(max_size=400))
def test_uses_and_discovery_never_raise(text: str) -> None:
    parse_uses(text)
    nested(Reference("acme/x", "v1", ".github/workflows/a.yml"), text)
    nested(Reference("acme/x", "v1", ".pre-commit-hooks.yaml"), text)
    prefetch(".github/workflows/a.yml", f"jobs:\n  a:\n    uses: {text}\n", ())
    prefetch(".pre-commit-config.yaml", text, ())


@PROPERTY
@given(st.binary(max_size=600))
def test_cache_entries_of_any_bytes_never_raise(data: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        cache = ReferenceCache(Path(tmp) / "c", "github.com", max_file_bytes=1024)
        sha = "b" * 40
        cache.store_file("acme/x", sha, "a.yml", "x: 1\n")
        (entry,) = (Path(tmp) / "c" / "files").iterdir()
        entry.write_bytes(data)
        assert cache.file("acme/x", sha, "a.yml") in (None, (READ, "x: 1\n"))
        cache.remember_commit("acme/x", "v1", sha)
        (ref_entry,) = (Path(tmp) / "c" / "refs").iterdir()
        ref_entry.write_bytes(data)
        assert cache.commit_for("acme/x", "v1") in (None, sha)
