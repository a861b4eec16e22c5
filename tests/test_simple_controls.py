"""The simple controls: security-policy, the three settings controls, ithc, and `--deep`."""

from __future__ import annotations

import pytest
from conftest import MakeRepo, result, scan

from secposture.model import Outcome, Status


@pytest.mark.parametrize(
    "place",
    [
        "SECURITY.md",
        ".github/SECURITY.md",
        "docs/SECURITY.md",
        "Security.md",
        ".github/security.md",
    ],
)
def test_security_policy_passes_where_github_looks(make_repo: MakeRepo, place: str) -> None:
    text = "# Security policy\n\nReport vulnerabilities to security@example.org; we reply within 5 days.\n"
    report = scan(make_repo(None, {place: text}))
    control = result(report, "security-policy")
    assert control.status is Status.PASS
    assert control.findings[0].location is not None and control.findings[0].location.path == place
    assert control.remediation is None


def test_security_policy_missing_fails(make_repo: MakeRepo) -> None:
    control = result(scan(make_repo(None, {"README.md": "# app\n"})), "security-policy")
    assert control.status is Status.FAIL
    assert "no SECURITY.md" in control.summary
    assert control.remediation is not None and "SECURITY.md" in control.remediation


@pytest.mark.parametrize(
    ("content", "expected"),
    [("", "is empty"), ("  \n\n\t\n", "is empty"), (b"\x00\x01PK\x03\x04", "binary")],
)
def test_security_policy_empty_or_binary_fails(
    make_repo: MakeRepo, content: str | bytes, expected: str
) -> None:
    report = scan(make_repo(None, {"SECURITY.md": content}))
    control = result(report, "security-policy")
    assert control.status is Status.FAIL
    assert expected in control.summary
    assert str(control.findings[0].location) == "SECURITY.md"


def test_security_policy_in_a_plain_folder(make_repo: MakeRepo) -> None:
    repo = make_repo(None, {"SECURITY.md": "# Reporting\nEmail us.\n"}, use_git=False)
    assert result(scan(repo), "security-policy").status is Status.PASS


@pytest.mark.parametrize(
    ("control", "decided_by"),
    [
        ("dependabot-security-updates", "security_and_analysis.dependabot_security_updates"),
        ("pr-review-required", "branch protection or rulesets"),
        ("secret-scanning", "secret_scanning_push_protection"),
    ],
)
def test_settings_controls_are_unknown_from_a_checkout(
    make_repo: MakeRepo, control: str, decided_by: str
) -> None:
    found = result(scan(make_repo(None, {"README.md": "# app\n"})), control)
    assert found.status is Status.UNKNOWN
    assert [f.outcome for f in found.findings] == [Outcome.UNKNOWN]
    assert "GitHub token" in found.summary  # what access would decide it
    assert decided_by in found.summary  # and which setting
    assert found.remediation is not None


def test_ithc_is_unknown_and_names_the_register(make_repo: MakeRepo) -> None:
    found = result(scan(make_repo(None, {"README.md": "# app\n"})), "ithc")
    assert found.status is Status.UNKNOWN
    assert "register" in found.summary and "ITHC or pen test" in found.summary
    assert "secposture ithc record" in found.summary


def test_deep_enables_secrets_in_tree(make_repo: MakeRepo) -> None:
    repo = make_repo(None, {"README.md": "# app\n"})
    assert "secrets-in-tree" not in {r.id for r in scan(repo).results}
    deep = scan(repo, deep=True)
    assert result(deep, "secrets-in-tree").status is Status.PASS
