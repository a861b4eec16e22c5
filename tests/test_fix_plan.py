"""plan_fixes on in-memory snapshots (any Snapshot works: a checkout, or GitHub's): every
language's recipe is recognised by the scan at every stage, the plan writes nothing, and hostile
configuration files are refused rather than clobbered."""

from __future__ import annotations

import pytest
from conftest import TODAY

from secposture import catalogue
from secposture.errors import SecpostureError
from secposture.fix.interface import FixPlan
from secposture.fix.overlay import OverlaySnapshot, PlannedFile
from secposture.fix.plan import plan_fixes
from secposture.model import ScanReport, Status
from secposture.policy import default_policy
from secposture.scan import scan_snapshot
from secposture.sources.memory import MemorySnapshot

SAMPLES = {
    "python": {"app.py": "print(1)\n"},
    "javascript": {"web/index.js": "console.log(1)\n"},
    "typescript": {"web/index.ts": "export {}\n"},
    "go": {"go.mod": "module x\n", "main.go": "package main\n"},
    "php": {"index.php": "<?php echo 1;\n"},
    "ruby": {"app.rb": "puts 1\n"},
    "java": {"src/App.java": "class App {}\n"},
    "kotlin": {"src/App.kt": "fun main() {}\n"},
    "csharp": {"src/App.cs": "class App {}\n"},
    "rust": {"Cargo.toml": "[package]\nname = 'x'\n", "src/main.rs": "fn main() {}\n"},
    "terraform": {"infra/main.tf": 'resource "null_resource" "x" {}\n'},
    "dockerfile": {"Dockerfile": "FROM scratch\n"},
    "shell": {"scripts/run.sh": "#!/bin/sh\necho\n"},
    "kubernetes": {"k8s/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\n"},
    "scala": {"build.sbt": 'name := "x"\n', "src/main/scala/App.scala": "object App\n"},
    "cloudformation": {
        "cloudformation/stack.yaml": "AWSTemplateFormatVersion: '2010-09-09'\nResources: {}\n"
    },
}


def _plan(files: dict[str, str], **kwargs: object) -> tuple[MemorySnapshot, FixPlan]:
    snapshot = MemorySnapshot(files)
    policy = default_policy()
    report = scan_snapshot(snapshot, policy, TODAY)
    return snapshot, plan_fixes(snapshot, policy, report, today=TODAY, **kwargs)  # type: ignore[arg-type]


def _after(snapshot: MemorySnapshot, plan: FixPlan) -> ScanReport:
    planned = {c.path: PlannedFile(c.path, c.before, c.after) for c in plan.changes}
    return scan_snapshot(OverlaySnapshot(snapshot, planned), default_policy(), TODAY)


def test_every_language_has_samples() -> None:
    assert set(SAMPLES) == set(catalogue.load("languages")["languages"])


@pytest.mark.parametrize("language", sorted(SAMPLES))
def test_each_language_is_analysed_at_every_stage_after_the_fix(language: str) -> None:
    snapshot, plan = _plan(SAMPLES[language], only=["static-analysis"])
    report = _after(snapshot, plan)
    (control,) = [r for r in report.results if r.id == "static-analysis"]
    mine = [f for f in control.findings if f.values.get("language") == language]
    if not catalogue.load("languages")["languages"][language].get("static_analysis", True):
        assert mine == []  # infrastructure the control does not ask analysers for (CloudFormation)
        return
    assert {f.values["stage"] for f in mine} == {"pre-commit", "ci", "ide"}
    assert all(f.outcome.value == "positive" for f in mine), [f.message for f in mine]


def test_the_plan_says_what_will_pass_afterwards_and_writes_nothing() -> None:
    files = {"app.py": "x\n", "requirements.txt": "flask\n"}
    snapshot, plan = _plan(files)
    assert dict(snapshot._files) == files  # nothing written into the snapshot
    report = _after(snapshot, plan)
    for control in ("dependency-update-config", "secrets-pre-commit", "static-analysis"):
        assert next(r for r in report.results if r.id == control).status is Status.PASS
    # The threat model is an agenda, not a review: the plan says what is still to do.
    assert any(n.startswith("threat-model: hold the first session") for n in plan.notes)


@pytest.mark.parametrize(
    "text",
    [
        "repos: [\n",  # not YAML
        "just text\n",  # not a pre-commit config
        "repos: *undefined\n",
        "repos:\n  - repo: a\n    hooks: []\nrepos: again\n",  # a duplicate key
        "\0binary",
    ],
)
def test_a_malformed_precommit_config_is_refused_not_clobbered(text: str) -> None:
    _, plan = _plan({".pre-commit-config.yaml": text, "app.py": "x"}, only=["secrets-pre-commit"])
    assert plan.changes == ()
    (skipped,) = plan.skipped
    assert skipped.control == "secrets-pre-commit"
    assert ".pre-commit-config.yaml" in skipped.reason and "not" in skipped.reason


def test_force_replaces_a_malformed_config() -> None:
    _, plan = _plan(
        {".pre-commit-config.yaml": "repos: [\n", "app.py": "x"},
        only=["secrets-pre-commit"],
        force=True,
    )
    (change,) = plan.changes
    assert change.action == "replace" and "gitleaks" in change.after


@pytest.mark.parametrize(
    "text",
    [
        "version: 1\nupdates: []\n",
        "version: 2\nupdates: {}\n",
        "version: 2\nupdates:\n",  # null
        "version: 2\nupdates: [{package-ecosystem: pip, directory: /x}]\n",  # flow with items
        "%YAML 1.2\n---\nversion: 2\n...\n---\nupdates: []\n",  # two documents
    ],
)
def test_a_dependabot_file_that_cannot_be_extended_is_left_alone(text: str) -> None:
    _, plan = _plan(
        {".github/dependabot.yml": text, "requirements.txt": "flask\n"},
        only=["dependency-update-config"],
    )
    assert plan.changes == ()
    (skipped,) = plan.skipped
    assert skipped.reason.startswith(".github/dependabot.yml")
    assert "--force" in skipped.reason


def test_an_empty_flow_list_of_updates_is_extended_in_block_style() -> None:
    text = "version: 2\nupdates: []   # nothing yet\n"
    _, plan = _plan(
        {".github/dependabot.yml": text, "requirements.txt": "flask\n"},
        only=["dependency-update-config"],
    )
    (change,) = plan.changes
    assert change.after.startswith("version: 2\nupdates:  # nothing yet\n  # Added by secposture")
    assert "  - package-ecosystem: pip\n    directory: /\n" in change.after


def test_unknown_and_disabled_controls_are_input_errors() -> None:
    with pytest.raises(SecpostureError, match="unknown control 'no-such'"):
        _plan({"a.py": "x"}, only=["no-such"])
    with pytest.raises(SecpostureError, match="secrets-in-tree is disabled"):
        _plan({"a.py": "x"}, only=["secrets-in-tree"])


def test_a_codeowner_that_is_not_an_owner_is_an_input_error() -> None:
    with pytest.raises(SecpostureError, match="not an @user"):
        _plan({"a.py": "x"}, codeowner="@acme/team\n* @evil")


def test_settings_controls_point_at_apply_settings() -> None:
    _, plan = _plan({"a.py": "x"})
    reasons = {s.control: s.reason for s in plan.skipped}
    for control in ("dependabot-security-updates", "pr-review-required", "secret-scanning"):
        assert "--apply-settings" in reasons[control]


def test_the_data_pins_every_hook_action_and_package() -> None:
    templates = catalogue.load("fix_templates")
    pins = catalogue.load("fix_pins")
    for key, hook in templates["hooks"].items():
        assert pins["precommit"].get(hook["repo"]), key
    for name, pin in pins["actions"].items():
        assert len(pin["sha"]) == 40 and int(pin["sha"], 16) >= 0, name
        assert pin["version"].startswith("v"), name
    for key, step in templates["ci_steps"].items():
        for package in step.get("pip", ()):
            assert pins["pypi"].get(package), (key, package)
    for name, recipe in templates["languages"].items():
        assert all(k in templates["hooks"] for k in recipe["hooks"]), name
        assert all(k in templates["ci_steps"] for k in recipe["ci"]), name
    assert set(templates["languages"]) == set(catalogue.load("languages")["languages"])
