"""The `secposture fix` command: --dry-run prints a diff and writes nothing, output formats, exit
codes, and hostile checkouts (links out of the tree, files in the way)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from conftest import MakeRepo, git
from test_fix_support import changed_paths, fix_json, run_fix, tree

from secposture.cli.fix import add_commands, fix


def test_dry_run_prints_a_diff_and_writes_nothing(make_repo: MakeRepo) -> None:
    root = make_repo("fix-partial-configs")
    before = tree(root)
    outcome = run_fix(root, "--dry-run")
    assert outcome.exit_code == 0, outcome.output
    assert tree(root) == before
    text = outcome.output
    assert "--- a/.github/dependabot.yml\n+++ b/.github/dependabot.yml\n@@" in text
    assert "--- /dev/null\n+++ b/SECURITY.md\n" in text
    assert "+  - package-ecosystem: npm\n" in text
    assert "would change" in text and "(dry run)" in text
    assert (
        "dependency-update-config\n  would edit .github/dependabot.yml: added updates for npm"
        in text
    )


def test_json_plan_for_machines(make_repo: MakeRepo) -> None:
    root = make_repo("fix-python-app")
    data = fix_json(root, "--dry-run")
    assert data["schema"] == "secposture-fix/1" and data["dry_run"] is True
    first = data["changes"][0]
    assert set(first) == {"path", "action", "controls", "summary", "guidance", "diff"}
    assert first["diff"].startswith("--- /dev/null\n")
    assert {s["control"] for s in data["skipped"]} >= {"pr-review-required", "security-tests"}
    assert not (root / ".pre-commit-config.yaml").exists()


def test_text_report_says_what_changed_and_what_to_do_next(make_repo: MakeRepo) -> None:
    root = make_repo("fix-python-app")
    outcome = run_fix(root)
    assert outcome.exit_code == 0
    text = outcome.output
    assert text.startswith("secposture fix: changed 11 files in ")
    assert "secrets-pre-commit\n  created .pre-commit-config.yaml: added gitleaks" in text
    assert "static-analysis\n  created .pre-commit-config.yaml: added ruff-check (python)" in text
    assert "Not changed:\n  - security-tests:" in text
    assert "`git add` them" in text
    # Run again before `git add`: the files are there, nothing is written twice.
    again = run_fix(root)
    assert again.exit_code == 0
    assert "nothing to change" in again.output
    assert "Already written (not tracked by git yet): .pre-commit-config.yaml" in again.output


def test_nothing_to_do_exits_zero(make_repo: MakeRepo) -> None:
    root = make_repo("fix-empty")
    outcome = run_fix(root, "--only", "container-scanning")
    assert outcome.exit_code == 0
    assert outcome.output.startswith("secposture fix: nothing to change in ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--only", "no-such-control"], "unknown control 'no-such-control'"),
        (["--codeowner", "not an owner"], "is not an @user, @org/team or email address"),
        (["--pr"], "--pr opens pull requests across an organisation: give --org ORG"),
        (["--apply-settings"], "set GITHUB_TOKEN"),
        (["--org", "acme", "--dry-run", "--pr"], "contradict"),
        (["--org", "acme"], "set GITHUB_TOKEN"),
    ],
)
def test_input_errors_exit_2_with_one_line(
    make_repo: MakeRepo, args: list[str], message: str
) -> None:
    root = make_repo("fix-empty")
    outcome = CliRunner().invoke(fix, [str(root), *args])
    assert outcome.exit_code == 2, outcome.output
    assert message in outcome.output
    assert "Traceback" not in outcome.output
    assert not (root / "SECURITY.md").exists()


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_a_path_that_is_not_a_folder_exits_2(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "x"
    if kind == "file":
        target.write_text("x")
    outcome = CliRunner().invoke(fix, [str(target)])
    assert outcome.exit_code == 2
    assert "`secposture fix` works on a checkout" in outcome.output


def test_nothing_is_written_through_a_link_out_of_the_checkout(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = make_repo("fix-empty")
    os.symlink(outside, root / ".github")
    data = fix_json(root)
    assert not any(p.startswith(".github/") for p in changed_paths(data))
    assert list(outside.iterdir()) == []
    reasons = [s["reason"] for s in data["skipped"]]
    assert any(".github is a symbolic link; not followed" in r for r in reasons), reasons
    assert (root / "SECURITY.md").exists()  # the rest is written


def test_escape_sequences_in_paths_are_not_printed(make_repo: MakeRepo) -> None:
    root = make_repo(files={"docs/adr/\x1b[31mred.md": "# not an ADR\n", "README.md": "x\n"})
    outcome = run_fix(root, "--dry-run", "--only", "security-adrs")
    assert "\x1b" not in outcome.output


def test_add_commands_registers_fix() -> None:
    group = click.Group()
    add_commands(group)
    assert "fix" in group.commands
    outcome = CliRunner().invoke(group, ["fix", "--help"])
    assert outcome.exit_code == 0
    assert "--dry-run" in outcome.output and ".pre-commit-config.yaml" in outcome.output


def test_json_output_is_valid_when_paths_are_odd(make_repo: MakeRepo) -> None:
    root = make_repo(files={"weird dir/Dockerfile": "FROM scratch\n"})
    outcome = run_fix(root, "--format", "json", "--dry-run", "--only", "container-scanning")
    data = json.loads(outcome.output)
    assert data["changes"] == []
    assert "weird dir/Dockerfile" in data["skipped"][0]["reason"]


def test_a_file_where_a_folder_is_needed_is_reported(make_repo: MakeRepo) -> None:
    root = make_repo(files={"docs": "notes, not a folder\n", "README.md": "x\n"})
    data = fix_json(root, "--only", "security-adrs")
    assert data["changes"] == []
    reasons = [s["reason"] for s in data["skipped"]]
    assert any("docs is a file, not a folder: not written" in r for r in reasons), reasons
    assert (root / "docs").read_text() == "notes, not a folder\n"


def test_only_a_passing_control_says_there_is_nothing_to_fix(make_repo: MakeRepo) -> None:
    root = make_repo(files={"SECURITY.md": "Report to security@example.org\n"})
    data = fix_json(root, "--only", "security-policy")
    assert data["changes"] == []
    assert "security-policy is pass: nothing to fix" in data["notes"]


# --- the GitHub side, through the fake GitHub server over loopback HTTP --------------------------

ADMIN = "tok-fix-cli-admin"  # nosec B105 - a token of the fake server only


def _fake_github() -> Any:
    from fake_github import FakeGitHub, FakeOrg, FakeRepo

    app = FakeRepo("acme", "app", files={"README.md": b"# app\n", "app.py": b"print(1)\n"})
    return FakeGitHub(orgs=[FakeOrg("acme", [app])], tokens={ADMIN: "admin"})


def test_apply_settings_dry_run_says_what_would_change(
    make_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_repo("fix-empty")
    git(root, "remote", "add", "origin", "https://127.0.0.1/acme/app.git")
    with _fake_github().serve() as base_url:
        monkeypatch.setenv("GITHUB_API_URL", base_url)
        monkeypatch.setenv("GITHUB_TOKEN", ADMIN)
        outcome = run_fix(root, "--dry-run", "--apply-settings", "--only", "security-policy")
    assert outcome.exit_code == 0, outcome.output
    assert "Settings:\n  - vulnerability-alerts: would-change" in outcome.output
    assert ADMIN not in outcome.output
    assert not (root / "SECURITY.md").exists()


def test_apply_settings_needs_a_github_remote(
    make_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_repo("fix-empty")
    monkeypatch.setenv("GITHUB_TOKEN", ADMIN)
    outcome = CliRunner().invoke(fix, [str(root), "--apply-settings"])
    assert outcome.exit_code == 2
    assert "no remote on the configured GitHub (github.com)" in outcome.output
    assert ADMIN not in outcome.output
    assert not (root / "SECURITY.md").exists()  # nothing written before the error


def test_apply_settings_never_lets_a_remote_on_another_host_choose_the_repository(
    make_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The API is an Enterprise Server (the fake on loopback); the checkout's remote is on
    # github.com: its repository is not the one to change, so nothing is asked or written.
    root = make_repo("fix-empty")
    git(root, "remote", "add", "origin", "https://github.com/acme/app.git")
    github = _fake_github()
    with github.serve() as base_url:
        monkeypatch.setenv("GITHUB_API_URL", base_url)
        monkeypatch.setenv("GITHUB_TOKEN", ADMIN)
        outcome = CliRunner().invoke(fix, [str(root), "--dry-run", "--apply-settings"])
    assert outcome.exit_code == 2, outcome.output
    assert "no remote on the configured GitHub (127.0.0.1)" in outcome.output
    assert github.log == []


def test_fix_on_a_checkout_whose_pyproject_is_not_utf8_still_fixes(make_repo: MakeRepo) -> None:
    # The file may hold no policy at all: it is a problem on it, not the end of the fix
    # (docs/adr/0011-*.md), as for `scan`.
    root = make_repo("fix-empty", {"pyproject.toml": b"[project]\nname = 'caf\xe9'\n"})
    outcome = run_fix(root, "--dry-run", "--only", "security-policy")
    assert outcome.exit_code == 0, outcome.output
    assert "+++ b/SECURITY.md" in outcome.output


def test_org_without_pr_says_what_would_be_opened(monkeypatch: pytest.MonkeyPatch) -> None:
    with _fake_github().serve() as base_url:
        monkeypatch.setenv("GITHUB_API_URL", base_url)
        monkeypatch.setenv("GITHUB_TOKEN", ADMIN)
        outcome = CliRunner().invoke(fix, ["--org", "acme", "--format", "json"])
    assert outcome.exit_code == 0, outcome.output
    assert "acme/app" in outcome.output
    assert ADMIN not in outcome.output
