"""The security-tests control end to end: tests with security behaviour or DAST in CI, and
infrastructure security checks (IaC scanners in CI, policy tests)."""

from __future__ import annotations

from conftest import MakeRepo, result, scan
from hypothesis import given
from hypothesis import strategies as st
from test_ci_facts import PROPERTY, facts_of, workflow

from secposture.model import Outcome, Status
from secposture.probes.infrastructure_security_tested import impl as infra
from secposture.probes.tests_exercise_security import impl as tests_probe


def outcomes(report_result: object, probe: str) -> list[Outcome]:
    return [f.outcome for f in report_result.findings if f.probe == probe]  # type: ignore[attr-defined]


def test_security_tests_pass_with_file_and_line(make_repo: MakeRepo) -> None:
    got = result(scan(make_repo("sa-python-complete")), "security-tests")
    assert got.status is Status.PASS
    first = next(f for f in got.findings if f.probe == "tests-exercise-security")
    assert (first.location.path, first.location.line) == ("tests/test_accounts.py", 3)  # type: ignore[union-attr]
    assert "access control (401/403)" in first.message and "status_code == 401" in first.message
    assert outcomes(got, "infrastructure-security-tested") == [Outcome.NOT_APPLICABLE]


def test_dast_in_ci_counts(make_repo: MakeRepo) -> None:
    got = result(scan(make_repo("gitlab-rails-app")), "security-tests")
    assert got.status is Status.PASS
    assert "a DAST scan runs in CI: gitlab-dast" in got.findings[0].message
    zap = workflow(
        "- uses: zaproxy/action-baseline@v0.14.0\n  with:\n    target: https://staging.example.org"
    )
    got = result(
        scan(make_repo("sa-go-bare", {".github/workflows/zap.yml": zap})), "security-tests"
    )
    assert got.status is Status.PASS and "zap" in got.findings[0].message


def test_no_security_tests_fail(make_repo: MakeRepo) -> None:
    got = result(scan(make_repo("sa-go-bare")), "security-tests")
    assert got.status is Status.FAIL
    assert "none of the 1 test files read exercises security behaviour" in got.summary


def test_no_code_is_not_applicable_and_no_tests_is_named(make_repo: MakeRepo) -> None:
    got = result(scan(make_repo(None, {"README.md": "# notes\n"})), "security-tests")
    assert got.status is Status.NOT_APPLICABLE
    got = result(scan(make_repo(None, {"app.py": "print(1)\n"})), "security-tests")
    assert got.status is Status.FAIL and "no test files found" in got.summary


def test_reading_limit_is_honoured(make_repo: MakeRepo) -> None:
    files = {"pyproject.toml": "[tool.secposture.limits]\nmax_test_files_read = 0\n"}
    got = result(scan(make_repo("sa-python-complete", files)), "security-tests")
    assert got.status is Status.FAIL and "limits.max_test_files_read = 0" in got.summary


def test_reading_stops_early_and_security_named_files_come_first() -> None:
    files: dict[str, str | bytes] = {
        f"tests/test_m{i:03}.py": "def test_x():\n    assert 1\n" for i in range(200)
    }
    files.update(
        {
            f"tests/test_csrf_{i}.py": "def test_csrf():\n    assert 'csrf' in form\n"
            for i in range(5)
        }
    )
    facts = facts_of(files)
    evidence, read, total = tests_probe.find_evidence(facts)
    assert (len(evidence), read, total) == (3, 3, 205)
    assert all("csrf" in e.path for e in evidence)


def test_infrastructure_statuses(make_repo: MakeRepo) -> None:
    # Policy tests (conftest/OPA) count.
    got = result(scan(make_repo("terraform-ecr-policy")), "security-tests")
    assert outcomes(got, "infrastructure-security-tested") == [Outcome.POSITIVE]
    # A scanner in pre-commit only is partial.
    got = result(scan(make_repo("sa-polyglot-partial")), "security-tests")
    assert outcomes(got, "infrastructure-security-tested") == [Outcome.PARTIAL]
    # checkov in CI covers Terraform and Kubernetes.
    ci = workflow("- uses: bridgecrewio/checkov-action@v12\n  with:\n    directory: .")
    files = {".github/workflows/iac.yml": ci, "k8s/deployment.yaml": "kind: Deployment\n"}
    got = result(scan(make_repo("sa-polyglot-partial", files)), "security-tests")
    infra_findings = [f for f in got.findings if f.probe == "infrastructure-security-tested"]
    assert [(f.values["language"], f.outcome) for f in infra_findings] == [
        ("terraform", Outcome.POSITIVE),
        ("kubernetes", Outcome.POSITIVE),
    ]
    assert infra_findings[0].location.path == ".github/workflows/iac.yml"  # type: ignore[union-attr]
    # Nothing: negative, naming the code.
    got = result(
        scan(
            make_repo(
                None, {"main.tf": 'resource "aws_s3_bucket" "b" {}\n', "tests/test_x.py": "csrf\n"}
            )
        ),
        "security-tests",
    )
    assert got.status is Status.PARTIAL
    assert "terraform code (e.g. main.tf) is not security-tested" in got.summary


def test_tflint_counts_only_with_a_ruleset_plugin() -> None:
    ci = workflow("- run: tflint --recursive")
    plugin = 'plugin "aws" {\n  enabled = true\n  version = "0.34.0"\n  source  = "github.com/terraform-linters/tflint-ruleset-aws"\n}\n'
    with_rules = facts_of({"main.tf": "", ".github/workflows/ci.yml": ci, ".tflint.hcl": plugin})
    assert [f.outcome for f in infra.run(with_rules)] == [Outcome.POSITIVE]
    without = facts_of(
        {
            "main.tf": "",
            ".github/workflows/ci.yml": ci,
            ".tflint.hcl": 'plugin "terraform" {\n  enabled = true\n}\n',
        }
    )
    assert [f.outcome for f in infra.run(without)] == [Outcome.NEGATIVE]


@PROPERTY
@given(st.text(max_size=2000))
def test_keyword_scan_never_raises(text: str) -> None:
    found = tests_probe.scan_text("t.py", text)
    if found is not None:
        assert 1 <= found.line <= text.count("\n") + 1


def test_keyword_scan_is_fast_on_hostile_text() -> None:
    import time

    text = ("status " + "a" * 5000 + " ") * 50 + "x" * 100_000
    start = time.perf_counter()
    tests_probe.scan_text("t.py", text)
    assert time.perf_counter() - start < 2


_FRAGMENTS = [
    "assert ", "status_code", " == ", "401", "403", "404", "Forbidden", "csrf", "XSS", "<script>",
    "bcrypt", "cors", "rate limit", "login_required", "authorization", "../../", "\n", " ", "_",
    "x", "HTTP403", "samesite", "sql injection", "throttled", "\u212a", "expect(",
]  # fmt: skip


@PROPERTY
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=40).map("".join))
def test_keyword_scan_agrees_with_one_alternation(text: str) -> None:
    """The earliest match of any category, the first category on a tie: what one alternation of
    all the catalogue's patterns finds."""
    import re

    keywords = tests_probe._config()["keywords"]
    names = list(keywords)
    joined = "|".join(f"(?P<k{i}>{p})" for i, p in enumerate(keywords.values()))
    match = re.compile(joined, re.IGNORECASE).search(text)
    found = tests_probe.scan_text("t.py", text)
    if match is None:
        assert found is None
    else:
        assert found is not None
        assert found.category == names[int(str(match.lastgroup)[1:])]
        assert found.line == text.count("\n", 0, match.start()) + 1
