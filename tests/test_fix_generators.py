"""`secposture fix` on real checkouts of several shapes: after the fix (and `git add`), the scan
shows each generator's control passing; a second fix changes nothing; existing YAML keeps its
comments and order; existing Markdown is replaced only with --force."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import MakeRepo, result, scan
from test_fix_support import (
    change_for,
    changed_paths,
    commit_all,
    fix_json,
    fixed_and_scanned,
    lines_kept,
    status,
)

from secposture.facts.parsing import parse_yaml
from secposture.model import Status

WORKFLOW = ".github/workflows/secposture-security.yml"
FILE_CONTROLS = (
    "dependency-update-config",
    "secrets-pre-commit",
    "static-analysis",
    "container-scanning",
    "pr-template-security",
    "security-policy",
    "codeowners",
    "workflow-permissions",
    "actions-pinned",
    "dangerous-workflow",
)
SHAPES = (
    "fix-empty",
    "fix-python-app",
    "fix-node-monorepo",
    "fix-go-docker",
    "fix-partial-configs",
)


@pytest.mark.parametrize("shape", SHAPES)
def test_fix_makes_the_file_controls_pass_and_a_second_run_changes_nothing(
    make_repo: MakeRepo, shape: str
) -> None:
    root = make_repo(shape)
    first, report = fixed_and_scanned(root, "--codeowner", "@acme/owners")
    assert first["changes"], first
    for control in FILE_CONTROLS:
        assert status(report, control) in (Status.PASS, Status.NOT_APPLICABLE), (
            control,
            result(report, control).summary,
        )
    second = fix_json(root, "--codeowner", "@acme/owners")
    assert second["changes"] == []
    assert second["already_written"] == []


def test_python_app_gets_pip_updates_hooks_and_ci(make_repo: MakeRepo) -> None:
    root = make_repo("fix-python-app")
    data, report = fixed_and_scanned(root)
    dependabot = parse_yaml((root / ".github/dependabot.yml").read_text())
    entries = {(e["package-ecosystem"], e.get("directory")) for e in dependabot["updates"]}
    assert entries == {("pip", "/"), ("github-actions", "/")}  # the new workflow brings actions
    hooks = (root / ".pre-commit-config.yaml").read_text()
    for expected in ("gitleaks/gitleaks", "rev: v8.", "id: ruff-check", "id: bandit"):
        assert expected in hooks
    summary = result(report, "static-analysis")
    assert all(f.outcome.value == "positive" for f in summary.findings), summary.summary
    assert status(report, "container-scanning") is Status.NOT_APPLICABLE
    assert "image-scan" not in (root / WORKFLOW).read_text()
    assert change_for(data, ".pre-commit-config.yaml")["controls"] == [
        "secrets-pre-commit",
        "static-analysis",
    ]


def test_node_monorepo_gets_npm_at_each_package_directory(make_repo: MakeRepo) -> None:
    root = make_repo("fix-node-monorepo")
    fixed_and_scanned(root)
    dependabot = parse_yaml((root / ".github/dependabot.yml").read_text())
    npm = [e for e in dependabot["updates"] if e["package-ecosystem"] == "npm"]
    assert npm == [
        {
            "package-ecosystem": "npm",
            "directories": ["/frontend", "/services/api"],
            "schedule": {"interval": "weekly"},
        }
    ]


def test_go_with_dockerfile_gets_gomod_docker_and_an_image_scan(make_repo: MakeRepo) -> None:
    root = make_repo("fix-go-docker")
    _, report = fixed_and_scanned(root)
    dependabot = parse_yaml((root / ".github/dependabot.yml").read_text())
    ecosystems = [e["package-ecosystem"] for e in dependabot["updates"]]
    assert ecosystems == ["gomod", "docker", "github-actions"]
    workflow = parse_yaml((root / WORKFLOW).read_text())
    scan_job = workflow["jobs"]["image-scan"]
    assert scan_job["permissions"] == {
        "contents": "read",
        "security-events": "write",
        "actions": "read",
    }
    assert workflow["permissions"] == {"contents": "read"}
    assert "permissions" not in workflow["jobs"]["static-analysis"]  # read-only, inherited
    uses = [s.get("uses", "") for s in scan_job["steps"]]
    assert any(u.startswith("aquasecurity/trivy-action@") for u in uses)
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)
    assert scan_job["strategy"]["matrix"]["include"] == [
        {"name": "root-dockerfile", "dockerfile": "Dockerfile", "context": "."}
    ]
    static = workflow["jobs"]["static-analysis"]["steps"]
    assert {"name": "Vet Go code", "run": "go vet ./..."} in static
    assert status(report, "container-scanning") is Status.PASS


def test_partial_configs_keep_their_comments_and_order(make_repo: MakeRepo) -> None:
    root = make_repo("fix-partial-configs")
    hooks_before = (root / ".pre-commit-config.yaml").read_text()
    updates_before = (root / ".github/dependabot.yml").read_text()
    data, report = fixed_and_scanned(root)
    hooks_after = (root / ".pre-commit-config.yaml").read_text()
    updates_after = (root / ".github/dependabot.yml").read_text()
    assert lines_kept(hooks_before, hooks_after)
    assert lines_kept(updates_before, updates_after)
    # The additions come after the user's own entries, inside the lists they extend.
    assert hooks_after.index("id: end-of-file-fixer") < hooks_after.index("gitleaks")
    assert hooks_after.index("gitleaks") < hooks_after.index("# pre-commit.ci settings")
    assert updates_after.index('directory: "/service"') < updates_after.index("/frontend")
    assert updates_after.index("/frontend") < updates_after.index("# Renovate was tried")
    assert change_for(data, ".github/dependabot.yml")["action"] == "edit"
    assert status(report, "secrets-pre-commit") is Status.PASS
    assert status(report, "dependency-update-config") is Status.PASS


def test_a_detector_that_runs_only_on_push_is_reported_not_duplicated(make_repo: MakeRepo) -> None:
    config = (
        "repos:\n"
        "  - repo: https://github.com/gitleaks/gitleaks\n"
        "    rev: v8.30.1\n"
        "    hooks:\n"
        "      - id: gitleaks\n"
        "        stages: [pre-push]\n"
    )
    root = make_repo(files={".pre-commit-config.yaml": config})
    data = fix_json(root, "--only", "secrets-pre-commit")
    assert data["changes"] == []
    (skipped,) = data["skipped"]
    assert skipped["control"] == "secrets-pre-commit"
    assert "runs at pre-push only" in skipped["reason"]
    assert (root / ".pre-commit-config.yaml").read_text() == config


def test_the_workflow_is_a_new_file_and_user_workflows_are_hardened_in_place(
    make_repo: MakeRepo,
) -> None:
    risky = (
        "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v4\n      - run: docker build .\n"
    )
    root = make_repo(
        "fix-go-docker", {".github/workflows/build.yml": risky, ".github/dependabot.yml": ""}
    )
    data, report = fixed_and_scanned(root, "--force")
    hardened = (root / ".github/workflows/build.yml").read_text()
    assert "permissions:\n  contents: read\n" in hardened
    assert "actions/checkout@v4\n" not in hardened and " # v4\n" in hardened
    assert "      - run: docker build .\n" in hardened
    assert WORKFLOW in changed_paths(data)
    assert status(report, "container-scanning") is Status.PASS
    for control in ("actions-pinned", "workflow-permissions"):
        assert status(report, control) is Status.PASS, result(report, control).summary


def test_an_existing_generated_workflow_is_replaced_only_with_force(make_repo: MakeRepo) -> None:
    root = make_repo("fix-go-docker", {WORKFLOW: "name: mine\non: push\njobs: {}\n"})
    data = fix_json(root, "--only", "container-scanning")
    assert data["changes"] == []
    assert "--force regenerates it" in data["skipped"][0]["reason"]
    forced = fix_json(root, "--only", "container-scanning", "--force")
    assert change_for(forced, WORKFLOW)["action"] == "replace"
    commit_all(root)
    assert status(scan(root), "container-scanning") is Status.PASS


def test_an_existing_pr_template_gets_the_checklist_appended(make_repo: MakeRepo) -> None:
    mine = "## Summary\n\nWhat changed.\n"
    root = make_repo(files={".github/pull_request_template.md": mine, "README.md": "x\n"})
    data = fix_json(root, "--only", "pr-template-security")
    assert change_for(data, ".github/pull_request_template.md")["action"] == "edit"
    assert data["skipped"] == []
    after = (root / ".github/pull_request_template.md").read_text()
    assert after.startswith(mine + "\n## Security checklist\n")
    commit_all(root)
    report = scan(root)
    assert status(report, "pr-template-security") is Status.PASS
    # The checklist names the OWASP Top 10, but at review: it does not show refinement (issue 12).
    assert status(report, "ticket-security") is Status.PARTIAL


def test_adr_goes_into_the_existing_log_with_its_numbering(make_repo: MakeRepo) -> None:
    root = make_repo(
        files={
            "docs/decisions/001-use-postgres.md": "# 1. Use PostgreSQL\n\n## Decision\n\nPostgres.\n",
            "docs/decisions/002-use-react.md": "# 2. Use React\n\n## Decision\n\nReact.\n",
        }
    )
    data, report = fixed_and_scanned(root, "--only", "security-adrs")
    assert changed_paths(data) == [
        "docs/decisions/003-record-security-decisions.md",
        "docs/decisions/template.md",
    ]
    # Generated, the ADR is proposed: no decision is recorded until the team accepts it.
    assert status(report, "security-adrs") is Status.FAIL
    summary = result(report, "security-adrs").summary
    assert "was generated by secposture fix and its status is 'proposed'" in summary
    adr = root / "docs/decisions/003-record-security-decisions.md"
    assert "# 3. Record security decisions" in adr.read_text()
    assert fix_json(root, "--only", "security-adrs")["changes"] == []  # not a second one
    # The team makes it its decision: accepted, and the generated_by line deleted.
    text = adr.read_text().replace("Status: Proposed", "Status: Accepted")
    adr.write_text("".join(ln for ln in text.splitlines(True) if "generated_by:" not in ln))
    commit_all(root)
    assert status(scan(root), "security-adrs") is Status.PASS


def test_threat_model_records_no_review_that_did_not_happen(make_repo: MakeRepo) -> None:
    root = make_repo("fix-python-app")
    data, report = fixed_and_scanned(root, "--only", "threat-model")
    assert changed_paths(data) == ["docs/threat-model/README.md"]
    text = (root / "docs/threat-model/README.md").read_text()
    assert "last_reviewed_on: not yet reviewed" in text
    assert "## Agenda for the first session" in text
    # The scan finds the template, and no session: a commit of it is no review (issue 12).
    found = result(report, "threat-model")
    assert found.status is Status.FAIL
    assert found.summary.startswith("template present, no session recorded")
    # Where a threat model exists, its review is what is missing: nothing is generated.
    again = fix_json(root, "--only", "threat-model")
    assert again["changes"] == []


def test_security_policy_empty_file_needs_force(make_repo: MakeRepo) -> None:
    root = make_repo(files={"SECURITY.md": "\n", "README.md": "x\n"})
    data = fix_json(root, "--only", "security-policy")
    assert data["changes"] == [] and "exists" in data["skipped"][0]["reason"]
    forced, report = fixed_and_scanned(root, "--only", "security-policy", "--force")
    assert changed_paths(forced) == ["SECURITY.md"]
    assert status(report, "security-policy") is Status.PASS


def test_codeowners_stub_names_the_owner_given(make_repo: MakeRepo) -> None:
    root = make_repo("fix-empty")
    _, report = fixed_and_scanned(root, "--only", "codeowners", "--codeowner", "@acme/payments")
    assert "* @acme/payments" in (root / ".github/CODEOWNERS").read_text()
    assert status(report, "codeowners") is Status.PASS


def test_vscode_extensions_with_comments_are_edited_in_place(make_repo: MakeRepo) -> None:
    existing = (
        "{\n"
        "  // Team favourites\n"
        '  "recommendations": [\n'
        '    "editorconfig.editorconfig", // formatting\n'
        "  ],\n"
        '  "unwantedRecommendations": []\n'
        "}\n"
    )
    root = make_repo("fix-python-app", {".vscode/extensions.json": existing})
    data, report = fixed_and_scanned(root, "--only", "static-analysis")
    after = (root / ".vscode/extensions.json").read_text()
    assert lines_kept(existing, after)
    assert '"charliermarsh.ruff",' in after
    assert change_for(data, ".vscode/extensions.json")["action"] == "edit"
    assert status(report, "static-analysis") is Status.PASS


def test_renovate_gaps_are_reported_not_filled_with_dependabot(make_repo: MakeRepo) -> None:
    root = make_repo("fix-python-app", {"renovate.json": '{"enabledManagers": ["npm"]}\n'})
    data = fix_json(root, "--only", "dependency-update-config")
    assert data["changes"] == []
    assert "Renovate is configured (renovate.json)" in data["skipped"][0]["reason"]
    assert not (root / ".github/dependabot.yml").exists()


def test_with_only_a_control_the_others_are_left_alone(make_repo: MakeRepo) -> None:
    root = make_repo("fix-python-app")
    data = fix_json(root, "--only", "secrets-pre-commit")
    assert changed_paths(data) == [".pre-commit-config.yaml"]
    text = (root / ".pre-commit-config.yaml").read_text()
    assert "gitleaks" in text and "ruff" not in text


def test_a_workflow_only_fix_says_dependabot_would_miss_it(make_repo: MakeRepo) -> None:
    root = make_repo("fix-python-app", {".github/dependabot.yml": _PIP_ONLY})
    data = fix_json(root, "--only", "static-analysis")
    assert any(
        n.startswith("dependency-update-config would become partial") and "--only" in n
        for n in data["notes"]
    ), data["notes"]


_PIP_ONLY = (
    "version: 2\nupdates:\n  - package-ecosystem: pip\n    directory: /\n"
    "    schedule:\n      interval: weekly\n"
)


def test_untracked_file_in_the_way_is_left_alone(make_repo: MakeRepo, tmp_path: Path) -> None:
    root = make_repo("fix-empty")
    (root / "SECURITY.md").write_text("mine, not committed\n")
    data = fix_json(root, "--only", "security-policy")
    assert data["changes"] == []
    assert "not tracked by git" in data["skipped"][0]["reason"]
    assert (root / "SECURITY.md").read_text() == "mine, not committed\n"
