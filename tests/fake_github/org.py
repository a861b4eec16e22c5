"""Generated organisations: realistic variety, the same for the same seed.

Every organisation of a dozen repositories or more holds at least one of each special case (an
empty repository, a huge file, a binary file, non-UTF-8 text, an archived repository, a fork, a
monorepo, an exemplary repository, a bare one, rulesets, classic protection, no protection);
the rest are drawn at random from languages, baseline maturity and settings.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from . import content
from .alerts import generate_alerts
from .model import (
    BranchRule,
    BypassActor,
    FakeOrg,
    FakeRepo,
    PullRequestRule,
    Ruleset,
    stable_id,
)

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
SPECIAL_ROLES = (
    "exemplary",
    "bare",
    "empty",
    "huge",
    "binary",
    "latin1",
    "archived",
    "fork",
    "monorepo",
    "rulesets",
    "classic",
    "unprotected",
)
LANGUAGE_WEIGHTS = {
    "python": 22,
    "node": 20,
    "go": 12,
    "java": 12,
    "ruby": 7,
    "php": 6,
    "terraform": 10,
    "shell": 3,
    "monorepo": 8,
}
MATURITY = {"high": 0.9, "medium": 0.5, "low": 0.1}
WORDS_A = [
    "case",
    "court",
    "payments",
    "records",
    "notify",
    "identity",
    "search",
    "audit",
    "document",
    "calendar",
    "visit",
    "claims",
    "benefit",
    "licence",
    "survey",
    "archive",
]
WORDS_B = [
    "api",
    "web",
    "service",
    "worker",
    "frontend",
    "infra",
    "tools",
    "gateway",
    "importer",
    "exporter",
    "admin",
    "portal",
    "bot",
    "scripts",
    "platform",
    "sync",
]
TOPICS = [
    "govuk",
    "python",
    "typescript",
    "terraform",
    "aws",
    "internal",
    "public-facing",
    "data",
    "legacy",
    "beta",
]
HUGE_FILE_BYTES = 1_150_000
_huge_text: bytes | None = None


def _huge() -> bytes:
    """Over 1 MiB of SQL (one shared bytes object: generation stays fast)."""
    global _huge_text
    if _huge_text is None:
        lines = []
        size = 0
        number = 0
        while size < HUGE_FILE_BYTES:
            # File content for the scanner to read, never executed.
            line = f"INSERT INTO reference_codes (id, code, label) VALUES ({number}, 'C{number:06d}', 'Reference code {number}');\n"  # noqa: S608
            lines.append(line)
            size += len(line)
            number += 1
        _huge_text = "".join(lines).encode()
    return _huge_text


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00\x1f\xf3\xffa"
    + bytes(64)
)
LATIN1_NOTES = (
    "Notes de réunion: café, résumé, élève — données confidentielles à protéger.\n".replace(
        "—", "-"
    ).encode("latin-1")
)


def generate_org(
    login: str, n_repos: int = 50, seed: int = 0, *, shared_workflows: bool = False
) -> FakeOrg:
    """An organisation of `n_repos` generated repositories, deterministic from `seed`.

    `shared_workflows`: three more repositories hold the organisation's shared pipeline (reusable
    workflows at tags v1 and v2, composite actions pinned by SHA, a pre-commit hook repository),
    and many services call the same few of them, as government estates do (ADR 0014)."""
    if n_repos < 0:
        raise ValueError("n_repos must not be negative")
    # Seeded on purpose: the same seed must give the same organisation (not for secrets).
    rng = random.Random(f"{login}:{seed}")  # noqa: S311
    order = list(range(n_repos))
    rng.shuffle(order)
    roles = dict(zip(order, SPECIAL_ROLES, strict=False))
    names = _names(rng, n_repos)
    repos = [
        _repo(login, names[i], random.Random(f"{login}:{seed}:{i}"), roles.get(i))  # noqa: S311
        for i in range(n_repos)
    ]
    if shared_workflows:
        repos = _with_shared_pipeline(login, seed, repos)
    org = FakeOrg(login, repos, name=f"{login.title()} Digital", description="Generated for tests")
    if rng.random() < 0.5:
        # An organisation-wide ruleset being trialled: it applies to every repository but
        # does not enforce anything yet.
        org.rulesets.append(
            Ruleset(
                stable_id(login, "org-ruleset"),
                "org-baseline",
                enforcement="evaluate",
                pull_request=PullRequestRule(required_approving_review_count=1),
                bypass_actors=[BypassActor("OrganizationAdmin")],
            )
        )
    return org


def _names(rng: random.Random, count: int) -> list[str]:
    names: list[str] = []
    used: set[str] = set()
    for index in range(count):
        name = f"{rng.choice(WORDS_A)}-{rng.choice(WORDS_B)}"
        if name in used:
            name = f"{name}-{index}"
        used.add(name)
        names.append(name)
    return names


def _repo(owner: str, name: str, rng: random.Random, role: str | None) -> FakeRepo:
    maturity = {"exemplary": "high", "bare": "low"}.get(
        role or "", rng.choices(list(MATURITY), weights=[3, 4, 3])[0]
    )
    pushed = NOW - timedelta(days=rng.randint(0, 700), hours=rng.randint(0, 23))
    created = pushed - timedelta(days=rng.randint(30, 1500))
    default_branch = rng.choices(["main", "master", "develop"], weights=[82, 15, 3])[0]
    repo = FakeRepo(
        owner=owner,
        name=name,
        default_branch=default_branch,
        visibility=rng.choices(["private", "internal", "public"], weights=[60, 15, 25])[0],
        topics=rng.sample(TOPICS, rng.randint(0, 3)),
        description=f"{name.replace('-', ' ').capitalize()} for the service",
        pushed_at=pushed,
        created_at=created,
    )
    if role == "empty":
        repo.default_branch = None
        repo.description = None
        return repo
    if role == "archived" or (role is None and rng.random() < 0.07):
        repo.archived = True
        repo.pushed_at = pushed - timedelta(days=400)
    if role == "fork" or (role is None and rng.random() < 0.06):
        repo.fork = True
    files = _files(rng, owner, name, maturity, role)
    repo.files = {
        path: text.encode() if isinstance(text, str) else text for path, text in files.items()
    }
    repo.file_dates = {
        path: repo.pushed_at - timedelta(days=rng.randint(0, 300)) for path in repo.files
    }
    _settings(rng, repo, maturity)
    _protection(rng, repo, maturity, role)
    return repo


def _files(
    rng: random.Random, org: str, name: str, maturity: str, role: str | None
) -> dict[str, str | bytes]:
    p = MATURITY[maturity]
    everything = role == "exemplary"
    nothing = role == "bare"
    kind = (
        "monorepo"
        if role == "monorepo"
        else rng.choices(list(LANGUAGE_WEIGHTS), weights=list(LANGUAGE_WEIGHTS.values()))[0]
    )
    if kind == "monorepo":
        stack = content.monorepo_stack(rng, name)
    else:
        stack = content.LANGUAGE_STACKS[kind](rng, "", name)
        if kind not in ("terraform", "shell") and rng.random() < 0.5:
            stack.files["Dockerfile"] = content.dockerfile(rng, kind)
            stack.dockerfiles.append("Dockerfile")
            stack.ecosystems.append(("docker", "/"))
        if rng.random() < 0.15:
            stack.merge(content.shell_stack(rng, "", name))
    files: dict[str, str | bytes] = {"README.md": f"# {name}\n\nPart of {org}'s estate.\n"}
    files.update(stack.files)
    if nothing:
        return files

    def has(probability: float) -> bool:
        return everything or rng.random() < probability

    careful = everything or rng.random() < p
    if has(p):
        files[".github/workflows/ci.yml"] = content.workflow(
            rng, stack.ci_steps, stack.dockerfiles, careful=careful
        )
        stack.ecosystems.append(("github-actions", "/"))
    if has(p * 0.5):
        files[".github/workflows/codeql.yml"] = content.CODEQL
    if not everything and rng.random() < 0.05:
        files[".github/workflows/label.yml"] = content.DANGEROUS
    if has(p * 0.2):
        files[".github/workflows/zap.yml"] = content.ZAP
    if has(p):
        detector = (
            "gitleaks"
            if everything
            else rng.choice(["gitleaks", "detect-secrets", "trufflehog", "none"])
        )
        files[".pre-commit-config.yaml"] = content.precommit(rng, stack.hooks, detector)
        if detector == "detect-secrets":
            files[".secrets.baseline"] = '{\n  "version": "1.5.0",\n  "results": {}\n}\n'
    if has(p):
        coverage = 1.0 if everything else rng.choice([1.0, 1.0, 0.6])
        files[".github/dependabot.yml"] = content.dependabot(rng, stack.ecosystems, coverage)
    elif rng.random() < 0.1:
        files["renovate.json"] = '{\n  "extends": ["config:recommended"]\n}\n'
    if has(p):
        files["SECURITY.md"] = content.SECURITY_MD
    if has(p):
        where = rng.choice([".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"])
        files[".github/CODEOWNERS" if everything else where] = content.codeowners(rng, org)
    if has(p * 0.8):
        folder = "docs/adr" if everything or rng.random() < 0.8 else "docs/decisions"
        files.update(content.adr_files(rng, TODAY, everything or rng.random() < 0.6, folder))
    if has(p * 0.7):
        overdue = not everything and rng.random() < 0.4
        review = TODAY - timedelta(days=rng.randint(200, 600) if overdue else rng.randint(5, 150))
        files["docs/threat-model/README.md"] = content.threat_model(review)
    if has(p):
        secure = everything or rng.random() < 0.6
        files[".github/pull_request_template.md"] = (
            content.PR_TEMPLATE_SECURE if secure else content.PR_TEMPLATE_PLAIN
        )
    if has(p * 0.5):
        files[".github/ISSUE_TEMPLATE/feature_request.md"] = content.ISSUE_TEMPLATE
    if has(p * 0.6):
        files[".vscode/extensions.json"] = content.vscode_extensions(stack.languages)
    _oddities(rng, files, role)
    return files


def _oddities(rng: random.Random, files: dict[str, str | bytes], role: str | None) -> None:
    """Files a scanner must survive: huge, binary, not UTF-8."""
    if role == "huge" or rng.random() < 0.01:
        files["data/seed/reference-codes.sql"] = _huge()
    if role == "binary" or rng.random() < 0.12:
        files["docs/images/architecture.png"] = PNG
    if role == "latin1" or rng.random() < 0.03:
        files["docs/legacy/meeting-notes.txt"] = LATIN1_NOTES


def _settings(rng: random.Random, repo: FakeRepo, maturity: str) -> None:
    p = MATURITY[maturity]
    dependabot = rng.random() < p
    scanning = rng.random() < p * 0.9
    push_protection = scanning and rng.random() < 0.7
    states = {True: "enabled", False: "disabled"}
    repo.security_and_analysis = {
        "dependabot_security_updates": states[dependabot],
        "secret_scanning": states[scanning],
        "secret_scanning_push_protection": states[push_protection],
    }
    # Security updates need vulnerability alerts; alerts alone are common.
    repo.vulnerability_alerts = dependabot or rng.random() < 0.5
    # Alerts from their own random stream, so the rest of a generated organisation is the same
    # as before alerts were modelled.
    alerts_rng = random.Random(f"{repo.owner}/{repo.name}:alerts")  # noqa: S311
    repo.alerts = generate_alerts(repo, NOW, alerts_rng)


def _protection(rng: random.Random, repo: FakeRepo, maturity: str, role: str | None) -> None:
    weights = {"high": [50, 45, 5], "medium": [35, 35, 30], "low": [10, 20, 70]}[maturity]
    mode = {
        "rulesets": "rulesets",
        "classic": "classic",
        "unprotected": "none",
        "exemplary": "rulesets",
        "bare": "none",
    }.get(role or "", rng.choices(["rulesets", "classic", "none"], weights=weights)[0])
    branch = repo.default_branch or "main"
    if mode == "classic":
        pattern = branch if rng.random() < 0.85 else ("master" if branch == "main" else "main")
        repo.branch_rules.append(
            BranchRule(
                pattern=pattern,
                required_approving_review_count=rng.choices([0, 1, 2], weights=[20, 60, 20])[0],
                dismisses_stale_reviews=rng.random() < 0.5,
                requires_code_owner_reviews=rng.random() < 0.3,
                is_admin_enforced=rng.random() < 0.4,
                bypass_actors=[BypassActor("Team", "release-managers")]
                if rng.random() < 0.3
                else [],
                requires_status_checks=rng.random() < 0.5,
            )
        )
        if rng.random() < 0.3:
            repo.branch_rules.append(
                BranchRule(pattern="release/*", required_approving_review_count=1)
            )
    elif mode == "rulesets":
        everything = role == "exemplary"
        enforcement = (
            "active"
            if everything
            else rng.choices(["active", "evaluate", "disabled"], weights=[70, 20, 10])[0]
        )
        include = (
            ["~DEFAULT_BRANCH"]
            if everything
            else [rng.choice(["~DEFAULT_BRANCH", f"refs/heads/{branch}", "~ALL"])]
        )
        pull_request = (
            None
            if not everything and rng.random() < 0.15
            else PullRequestRule(
                required_approving_review_count=1
                if everything
                else rng.choices([0, 1, 2], weights=[15, 65, 20])[0],
                dismiss_stale_reviews_on_push=everything or rng.random() < 0.5,
                require_code_owner_review=everything or rng.random() < 0.3,
            )
        )
        actors = (
            [BypassActor("OrganizationAdmin", bypass_mode="always")] if rng.random() < 0.5 else []
        )
        if rng.random() < 0.3:
            actors.append(BypassActor("Team", "platform", bypass_mode="pull_request"))
        if rng.random() < 0.2:
            actors.append(BypassActor("Integration", "release-bot"))
        repo.rulesets.append(
            Ruleset(
                stable_id(repo.full_name, "ruleset"),
                f"Protect {branch}",
                enforcement=enforcement,
                include=include,
                exclude=["refs/heads/dependabot/**"] if rng.random() < 0.2 else [],
                pull_request=pull_request,
                bypass_actors=actors,
            )
        )


def _with_shared_pipeline(login: str, seed: int, repos: list[FakeRepo]) -> list[FakeRepo]:
    """The shared pipeline's repositories, and callers among the generated services: their own
    draw (the rest of the organisation stays as the seed makes it)."""
    actions = FakeRepo(
        login,
        "platform-actions",
        files={
            "actions/image-scan/action.yml": content.SHARED_IMAGE_SCAN_ACTION.encode(),
            "actions/setup/action.yml": content.SHARED_SETUP_ACTION.encode(),
        },
    )
    snapshot = actions.git()
    assert snapshot is not None
    sha = snapshot.commit_oid
    workflows = {
        ".github/workflows/security-scan.yml": content.SHARED_SCAN_WORKFLOW.format(
            org=login, sha=sha
        ).encode(),
        ".github/workflows/lint.yml": content.SHARED_LINT_WORKFLOW.format(
            org=login, sha=sha
        ).encode(),
    }
    pipelines = FakeRepo(
        login, "platform-pipelines", files=dict(workflows), tags={"v1": workflows, "v2": workflows}
    )
    hooks = FakeRepo(
        login,
        "platform-hooks",
        files={".pre-commit-hooks.yaml": content.SHARED_HOOKS.encode()},
        tags={
            "v1.0.0": {
                ".pre-commit-hooks.yaml": content.SHARED_HOOKS.encode(),
                "hooks/scan.sh": content.SHARED_HOOK_SCRIPT.encode(),
            }
        },
        annotated_tags={"v1.0.0"},
    )
    for repo in repos:
        rng = random.Random(f"{login}:{seed}:{repo.name}:shared")  # noqa: S311
        if repo.default_branch is None or not repo.files or rng.random() > 0.7:
            continue
        image = f"ghcr.io/{login}/{repo.name}:latest"
        has_image = "Dockerfile" in repo.files and rng.random() < 0.8
        lint = (
            rng.choice(["make lint", "npm run lint", "ruff check ."])
            if rng.random() < 0.6
            else None
        )
        if has_image or lint is not None:
            version = rng.choice(["v1", "v2", "v2"])
            caller = content.shared_caller(login, version, image if has_image else None, lint)
            repo.files[".github/workflows/platform.yml"] = caller.encode()
        config = repo.files.get(".pre-commit-config.yaml")
        if config is not None and rng.random() < 0.5:
            repo.files[".pre-commit-config.yaml"] = config + content.shared_hook(login).encode()
    return [*repos, actions, pipelines, hooks]
