"""Generated files that work the first time and follow the repository's own ways: a git-ignored
`.vscode/` gets the usual exception (or a plain note why not), an existing PR template gets the
checklist appended in its own style, hooks frozen by SHA stay frozen, actions are no older than
those the repository runs, new Dependabot entries share the existing schedule. Fix, commit, scan;
a second run changes nothing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import MakeRepo, git, result
from test_fix_support import (
    change_for,
    changed_paths,
    fix_json,
    fixed_and_scanned,
    lines_kept,
    status,
)

from secposture.facts.parsing import parse_yaml
from secposture.model import Status

PYTHON = {"app.py": "print(1)\n", "requirements.txt": "flask==3.1.0\n"}


@pytest.fixture(autouse=True)
def no_personal_git_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The machine's own global excludes file must not decide these tests."""
    empty = tmp_path / "no-config"
    empty.mkdir()
    monkeypatch.setenv("HOME", str(empty))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(empty))


EXTENSIONS = ".vscode/extensions.json"


def ignored(root: Path, path: str) -> bool:
    """Whether `git add` would skip `path`, as git itself says."""
    try:
        git(root, "check-ignore", "-q", "--no-index", path)
    except subprocess.CalledProcessError:  # exit status 1: not ignored
        return False
    return True


# --- .vscode/extensions.json in a git-ignored .vscode/ --------------------------------------------


@pytest.mark.parametrize(
    ("gitignore", "expected"),
    [
        # The usual editor block: the folder rule becomes a rule for what is in it.
        (
            "# Editors\n.vscode/\n.idea/\n",
            "# Editors\n**/.vscode/*\n!.vscode/extensions.json\n.idea/\n",
        ),
        ("/.vscode\n*.pyc\n", "/.vscode/*\n!.vscode/extensions.json\n*.pyc\n"),
        # Already a rule for the folder's files: only the exception is added.
        (
            ".vscode/*\n!.vscode/settings.json\n",
            ".vscode/*\n!.vscode/extensions.json\n!.vscode/settings.json\n",
        ),
        # A broader rule stays; the folder comes back under it, and only the file with it.
        (
            ".*\n!.gitignore\n!.github/\n!.pre-commit-config.yaml\n",
            ".*\n!.gitignore\n!.github/\n!.pre-commit-config.yaml\n"
            "!/.vscode/\n/.vscode/*\n!.vscode/extensions.json\n",
        ),
        # A negation after the folder rule does nothing while the folder is excluded: the rules
        # stay, so that it does not start to work now.
        (
            ".vscode\n!.vscode/settings.json\n",
            ".vscode\n!.vscode/settings.json\n!/.vscode/\n/.vscode/*\n!.vscode/extensions.json\n",
        ),
        ("*.json\n", "*.json\n!.vscode/extensions.json\n"),
    ],
)
def test_a_git_ignored_vscode_folder_gets_the_usual_exception(
    make_repo: MakeRepo, gitignore: str, expected: str
) -> None:
    root = make_repo(files={**PYTHON, ".gitignore": gitignore})
    others = (".vscode/settings.json", "sub/.vscode/settings.json", ".vscode/x/extensions.json")
    before = {path: ignored(root, path) for path in others}
    data, report = fixed_and_scanned(root, "--only", "static-analysis")
    assert (root / ".gitignore").read_text() == expected
    assert change_for(data, ".gitignore")["action"] == "edit"
    assert "re-included .vscode/extensions.json" in change_for(data, ".gitignore")["summary"]
    # `git add -A` took it, and the scan sees the editor's analyser.
    assert EXTENSIONS in git(root, "ls-files").split()
    assert status(report, "static-analysis") is Status.PASS, result(
        report, "static-analysis"
    ).summary
    # Nothing else changes: what git ignored before, it ignores still.
    assert {path: ignored(root, path) for path in others} == before
    assert fix_json(root, "--only", "static-analysis")["changes"] == []


def test_every_new_file_is_taken_by_git_add_under_a_dotfile_rule(make_repo: MakeRepo) -> None:
    """A `.*` rule (dotfiles kept out, a few let back in) also catches .github/ and
    .pre-commit-config.yaml: each new file gets its exception, and the scan sees them all."""
    gitignore = "# local settings\n.*\n!.gitignore\n"
    root = make_repo(files={**PYTHON, ".gitignore": gitignore})
    data, report = fixed_and_scanned(root)
    tracked = git(root, "ls-files").split()
    for path in (
        EXTENSIONS,
        ".pre-commit-config.yaml",
        ".github/workflows/secposture-security.yml",
        ".github/dependabot.yml",
        ".github/pull_request_template.md",
    ):
        assert path in tracked, (path, (root / ".gitignore").read_text())
    for control in ("static-analysis", "secrets-pre-commit", "dependency-update-config"):
        assert status(report, control) is Status.PASS, result(report, control).summary
    assert ignored(root, ".env") and ignored(root, ".vscode/settings.json")
    assert ignored(root, ".github/other.yml")
    assert fix_json(root)["changes"] == []
    assert "re-included" in change_for(data, ".gitignore")["summary"]


def test_other_editor_files_stay_ignored(make_repo: MakeRepo) -> None:
    root = make_repo(files={**PYTHON, ".gitignore": ".vscode/\n"})
    fixed_and_scanned(root, "--only", "static-analysis")
    for path in (".vscode/settings.json", ".vscode/launch.json", "sub/.vscode/settings.json"):
        assert ignored(root, path), path
    assert not ignored(root, EXTENSIONS)


def test_an_ignore_file_inside_vscode_gets_the_exception_there(make_repo: MakeRepo) -> None:
    root = make_repo(files={**PYTHON, ".vscode/.gitignore": "*\n!.gitignore\n"})
    data, report = fixed_and_scanned(root, "--only", "static-analysis")
    assert (root / ".vscode/.gitignore").read_text() == "*\n!/extensions.json\n!.gitignore\n"
    assert ".gitignore" not in changed_paths(data)
    assert status(report, "static-analysis") is Status.PASS


def test_an_exclude_outside_the_repository_is_said_plainly(make_repo: MakeRepo) -> None:
    root = make_repo(files=PYTHON)
    (root / ".git" / "info").mkdir(exist_ok=True)
    (root / ".git" / "info" / "exclude").write_text(".vscode/\n")
    data, report = fixed_and_scanned(root, "--only", "static-analysis")
    assert ".gitignore" not in changed_paths(data)
    note = next(n for n in data["notes"] if EXTENSIONS in n and "ignored by" in n)
    assert ".git/info/exclude, line 1" in note
    assert f"git add -f {EXTENSIONS}" in note
    assert "static-analysis will not see" in note
    assert status(report, "static-analysis") is Status.PARTIAL  # as the note says


def test_a_global_excludes_file_is_named_and_not_edited(
    make_repo: MakeRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "xdg"
    (config / "git").mkdir(parents=True)
    (config / "git" / "ignore").write_text("# my editor\n.vscode/\n")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    root = make_repo(files={**PYTHON, ".gitignore": "*.pyc\n"})
    data = fix_json(root, "--only", "static-analysis")
    assert ".gitignore" not in changed_paths(data)
    note = next(n for n in data["notes"] if "core.excludesFile" in n)
    assert "line 2" in note and f"git add -f {EXTENSIONS}" in note


def test_a_global_exclude_behind_the_repositorys_own_rule_is_found(
    make_repo: MakeRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The repository's `.vscode/` hides a global `.vscode/` from git's first answer; asked
    again with the edit laid over, git names the global file, and nothing is edited."""
    config = tmp_path / "xdg"
    (config / "git").mkdir(parents=True)
    (config / "git" / "ignore").write_text(".vscode/\n")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    root = make_repo(files={**PYTHON, ".gitignore": ".vscode/\n"})
    data = fix_json(root, "--only", "static-analysis")
    assert ".gitignore" not in changed_paths(data)
    assert any("core.excludesFile" in n for n in data["notes"])


def test_a_tracked_extensions_file_needs_no_exception(make_repo: MakeRepo) -> None:
    existing = '{\n  "recommendations": ["editorconfig.editorconfig"]\n}\n'
    root = make_repo(files={**PYTHON, ".gitignore": ".vscode/\n"}, commit=False)
    (root / ".vscode").mkdir()
    (root / EXTENSIONS).write_text(existing)
    git(root, "add", "-A")
    git(root, "add", "-f", EXTENSIONS)
    git(root, "commit", "-q", "--no-verify", "-m", "fixture")
    data, report = fixed_and_scanned(root, "--only", "static-analysis")
    assert ".gitignore" not in changed_paths(data)
    assert status(report, "static-analysis") is Status.PASS


# --- an existing PR template -----------------------------------------------------------------------


def test_the_checklist_is_appended_in_the_templates_own_style(make_repo: MakeRepo) -> None:
    # Modelled on alphagov's templates: level-3 headings, `*` lists, CRLF line endings.
    mine = (
        "### What\r\n\r\nDescribe the change.\r\n\r\n### Checklist\r\n\r\n"
        "* [ ] Tests added\r\n* [ ] Docs updated\r\n"
    )
    root = make_repo(files={**PYTHON, ".github/PULL_REQUEST_TEMPLATE.md": mine})
    data, report = fixed_and_scanned(root, "--only", "pr-template-security")
    after = (root / ".github/PULL_REQUEST_TEMPLATE.md").read_bytes().decode()
    assert after.startswith(mine + "\r\n### Security checklist\r\n")
    assert "* [ ] I have considered which OWASP Top 10 risks" in after
    assert "\n- [ ]" not in after and "\r\n" in after and "\n" not in after.replace("\r\n", "")
    assert change_for(data, ".github/PULL_REQUEST_TEMPLATE.md")["action"] == "edit"
    assert status(report, "pr-template-security") is Status.PASS
    assert fix_json(root, "--only", "pr-template-security")["changes"] == []


def test_every_template_of_several_gets_the_checklist(make_repo: MakeRepo) -> None:
    files = {
        ".github/PULL_REQUEST_TEMPLATE/feature.md": "## Feature\n\n- [ ] Demoed\n",
        ".github/PULL_REQUEST_TEMPLATE/release.md": "Release notes:\n",
    }
    root = make_repo(files={**PYTHON, **files})
    data, report = fixed_and_scanned(root, "--only", "pr-template-security")
    assert sorted(changed_paths(data)) == sorted(files)
    for path, before in files.items():
        after = (root / path).read_text()
        assert lines_kept(before, after) and "Security checklist" in after
    assert (
        (root / ".github/PULL_REQUEST_TEMPLATE/release.md")
        .read_text()
        .startswith("Release notes:\n\n## Security checklist\n")
    )
    assert status(report, "pr-template-security") is Status.PASS


# --- pre-commit hooks frozen by SHA ----------------------------------------------------------------

FROZEN = """\
repos:
  - repo: https://github.com/pre-commit/pre-commit-hooks
    rev: 3e8a8703264a2f4a69428a0aa4dcb512790b2c8c  # frozen: v6.0.0
    hooks:
      - id: end-of-file-fixer
  - repo: https://github.com/astral-sh/ruff-pre-commit
    rev: 488940d9de1b658fac229e34c521d75a6ea476f2  # frozen: v0.14.5
    hooks:
      - id: ruff-format
"""


def test_hooks_frozen_by_sha_stay_frozen(make_repo: MakeRepo) -> None:
    root = make_repo(files={**PYTHON, ".pre-commit-config.yaml": FROZEN})
    _, report = fixed_and_scanned(root, "--only", "secrets-pre-commit")
    after = (root / ".pre-commit-config.yaml").read_text()
    assert lines_kept(FROZEN, after)
    assert "rev: 83d9cd684c87d95d656c1458ef04895a7f1cbd8e  # frozen: v8.30.1" in after
    assert parse_yaml(after)["repos"][-1]["rev"] == "83d9cd684c87d95d656c1458ef04895a7f1cbd8e"
    assert status(report, "secrets-pre-commit") is Status.PASS
    assert fix_json(root, "--only", "secrets-pre-commit")["changes"] == []


def test_hooks_pinned_by_tag_stay_by_tag(make_repo: MakeRepo) -> None:
    by_tag = FROZEN.replace(
        "3e8a8703264a2f4a69428a0aa4dcb512790b2c8c  # frozen: v6.0.0", "v6.0.0"
    ).replace("488940d9de1b658fac229e34c521d75a6ea476f2  # frozen: v0.14.5", "v0.14.5")
    root = make_repo(files={**PYTHON, ".pre-commit-config.yaml": by_tag})
    fixed_and_scanned(root, "--only", "secrets-pre-commit")
    after = (root / ".pre-commit-config.yaml").read_text()
    assert "rev: v8.30.1\n" in after and "frozen" not in after


def test_a_hook_with_no_known_commit_is_added_by_tag_with_a_note(make_repo: MakeRepo) -> None:
    files = {"web/app.js": "console.log(1)\n", "package.json": "{}\n"}
    root = make_repo(files={**files, ".pre-commit-config.yaml": FROZEN})
    data = fix_json(root, "--only", "static-analysis")
    after = (root / ".pre-commit-config.yaml").read_text()
    assert "repo: https://github.com/semgrep/pre-commit\n    rev: v1." in after
    assert any(
        "https://github.com/semgrep/pre-commit" in n and "--freeze" in n for n in data["notes"]
    )


# --- action versions no older than the repository's ------------------------------------------------


def test_generated_actions_are_no_older_than_the_repositorys(make_repo: MakeRepo) -> None:
    workflow = (
        "on: push\npermissions:\n  contents: read\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - uses: actions/checkout@de0fac2e4500dabe0009e67214ff5f5447ce83dd # v6.0.2\n"
        "      - uses: actions/setup-python@v7\n"
        "      - run: pytest\n"
    )
    root = make_repo(files={**PYTHON, ".github/workflows/test.yml": workflow})
    fixed_and_scanned(root, "--only", "static-analysis")
    text = (root / ".github/workflows/secposture-security.yml").read_text()
    assert "actions/checkout@d23441a48e516b6c34aea4fa41551a30e30af803  # v6.1.0" in text
    assert "actions/setup-python@5fda3b95a4ea91299a34e894583c3862153e4b97  # v7.0.0" in text


def test_without_actions_the_defaults_stand(make_repo: MakeRepo) -> None:
    root = make_repo(files=PYTHON)
    fixed_and_scanned(root, "--only", "static-analysis")
    text = (root / ".github/workflows/secposture-security.yml").read_text()
    assert "# v4.2.2" in text


# --- Dependabot: the schedule the entries share ----------------------------------------------------


def test_new_dependabot_entries_share_the_existing_schedule(make_repo: MakeRepo) -> None:
    config = (
        "version: 2\nupdates:\n  - package-ecosystem: pip\n    directory: /\n    schedule:\n"
        '      interval: daily\n      time: "09:00"\n      timezone: Europe/London\n'
    )
    files = {**PYTHON, "web/package.json": "{}\n", ".github/dependabot.yml": config}
    root = make_repo(files=files)
    _, report = fixed_and_scanned(root, "--only", "dependency-update-config")
    updates = parse_yaml((root / ".github/dependabot.yml").read_text())["updates"]
    npm = next(u for u in updates if u["package-ecosystem"] == "npm")
    assert npm["schedule"] == {"interval": "daily", "time": "09:00", "timezone": "Europe/London"}
    assert status(report, "dependency-update-config") is Status.PASS
