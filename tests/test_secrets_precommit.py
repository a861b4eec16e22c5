"""The secrets-pre-commit control end to end: a secret detector on commit passes; key checks alone or
a push-only detector are partial; none, a manual-only one or no config fail; a config that cannot be
analysed (not YAML to our parser, binary, beyond the parser's limits) is unknown, naming the file."""

from __future__ import annotations

from conftest import MakeRepo, result, scan
from hypothesis import given
from hypothesis import strategies as st
from test_ci_facts import PROPERTY, facts_of

from secposture.model import Outcome, Status
from secposture.probes.interface import load_probe

PROBE = "precommit-runs-secret-detector"
HOOKS_REPO = "  - repo: https://github.com/pre-commit/pre-commit-hooks\n    rev: v5.0.0\n    hooks:\n      - id: check-yaml\n"


def secrets(make_repo: MakeRepo, config: str | bytes | None, fixture: str | None = None):  # type: ignore[no-untyped-def]
    files = {"README.md": "# app\n"} if config is None else {".pre-commit-config.yaml": config}
    return result(scan(make_repo(fixture, files)), "secrets-pre-commit")


def test_gitleaks_on_commit_passes(make_repo: MakeRepo) -> None:
    got = result(scan(make_repo("sa-python-complete")), "secrets-pre-commit")
    assert got.status is Status.PASS
    (only,) = got.findings
    assert only.message == "secret detection runs on commit: gitleaks (hook `gitleaks` at line 14)"
    assert (only.location.path, only.location.line) == (".pre-commit-config.yaml", 14)  # type: ignore[union-attr]


def test_local_hook_whose_entry_runs_a_detector_passes(make_repo: MakeRepo) -> None:
    config = "repos:\n  - repo: local\n    hooks:\n      - id: secrets\n        name: secrets\n        entry: make secrets\n        language: system\n"
    files = {
        ".pre-commit-config.yaml": config,
        "Makefile": "secrets:\n\ttrufflehog git file://. --since-commit HEAD --fail\n",
    }
    got = result(scan(make_repo(None, files)), "secrets-pre-commit")
    assert got.status is Status.PASS
    assert "trufflehog" in got.findings[0].message


WRAPPER = """#!/bin/bash
# A gitleaks wrapper: the subcommand is worked out below, then run natively.
function get-cmd-to-run() {
  echo "protect --source $PWD --verbose --staged"
}
function run-natively() {
  # shellcheck disable=SC2086
  gitleaks $cmd
}
cmd="$(get-cmd-to-run)" run-natively
"""


def test_a_wrapper_script_that_runs_gitleaks_with_computed_arguments_passes(
    make_repo: MakeRepo,
) -> None:
    # Modelled on a template whose config sits at scripts/config/pre-commit.yaml and whose hook
    # runs a wrapper: the subcommand is in a variable, and the binary still runs.
    config = (
        "repos:\n- repo: local\n  hooks:\n  - id: scan-secrets\n    name: Scan secrets\n"
        "    entry: bash -c 'check=staged-changes ./scripts/githooks/scan-secrets.sh'\n"
        "    language: system\n    pass_filenames: false\n"
    )
    files = {
        "scripts/config/pre-commit.yaml": config,
        "scripts/init.mk": "githooks-config:\n\tpre-commit install --config scripts/config/pre-commit.yaml\n",
        "Makefile": "include scripts/init.mk\n",
        "scripts/githooks/scan-secrets.sh": WRAPPER,
    }
    got = result(scan(make_repo(None, files)), "secrets-pre-commit")
    assert got.status is Status.PASS, got.summary
    assert "gitleaks" in got.findings[0].message
    # Only naming it runs nothing: bare `gitleaks` prints its help; a comment runs nothing.
    files["scripts/githooks/scan-secrets.sh"] = "#!/bin/sh\n# gitleaks $cmd\necho gitleaks\n"
    got = result(scan(make_repo(None, files)), "secrets-pre-commit")
    assert got.status is Status.FAIL, got.summary


def test_detect_private_key_alone_is_partial(make_repo: MakeRepo) -> None:
    got = result(scan(make_repo("sa-polyglot-partial")), "secrets-pre-commit")
    assert got.status is Status.PARTIAL
    assert "`detect-private-key`, `detect-aws-credentials`" in got.findings[0].message
    assert got.remediation is not None and "gitleaks" in got.remediation


def test_push_only_detector_is_partial(make_repo: MakeRepo) -> None:
    config = "repos:\n  - repo: https://github.com/Yelp/detect-secrets\n    rev: v1.5.0\n    hooks:\n      - id: detect-secrets\n        stages: [pre-push]\n"
    got = secrets(make_repo, config)
    assert got.status is Status.PARTIAL
    assert "runs only on push" in got.findings[0].message


def test_manual_only_detector_fails(make_repo: MakeRepo) -> None:
    config = "default_stages: [manual]\nrepos:\n  - repo: https://github.com/gitleaks/gitleaks\n    rev: v8.21.2\n    hooks:\n      - id: gitleaks\n"
    got = secrets(make_repo, config)
    assert got.status is Status.FAIL
    assert "run only when asked" in got.findings[0].message and "manual" in got.findings[0].message


def test_no_detector_no_config_fail_and_a_malformed_config_is_unknown(make_repo: MakeRepo) -> None:
    got = secrets(make_repo, "repos:\n" + HOOKS_REPO)
    assert (
        got.status is Status.FAIL and "has 1 hook but no secret detector" in got.findings[0].message
    )
    got = secrets(make_repo, None)
    assert (
        got.status is Status.FAIL
        and "there is no .pre-commit-config.yaml" in got.findings[0].message
    )
    report = scan(make_repo(None, {".pre-commit-config.yaml": "repos:\n  - repo: [unclosed\n"}))
    got = result(report, "secrets-pre-commit")
    assert got.status is Status.UNKNOWN
    assert ".pre-commit-config.yaml cannot be analysed (is not valid YAML" in got.summary
    assert any(p.path == ".pre-commit-config.yaml" for p in report.problems)
    got = secrets(make_repo, b"\xff\xfe\x00\x00")
    assert got.status is Status.UNKNOWN and "binary" in got.findings[0].message
    # Parsed, but not a config pre-commit can run: that much is known, and it fails.
    got = secrets(make_repo, "just text\n")
    assert got.status is Status.FAIL and "is not a pre-commit config" in got.findings[0].message


def test_yml_spelling_is_read(make_repo: MakeRepo) -> None:
    config = "repos:\n  - repo: https://github.com/sirwart/ripsecrets\n    rev: v0.1.8\n    hooks:\n      - id: ripsecrets\n"
    got = result(scan(make_repo(None, {".pre-commit-config.yml": config})), "secrets-pre-commit")
    assert got.status is Status.PASS


@PROPERTY
@given(st.text(max_size=300) | st.binary(max_size=60))
def test_probe_answers_any_config(config: str | bytes) -> None:
    (only,) = load_probe(PROBE).run(facts_of({".pre-commit-config.yaml": config}))
    assert only.outcome in (Outcome.POSITIVE, Outcome.PARTIAL, Outcome.NEGATIVE, Outcome.UNKNOWN)
    assert only.outcome is not Outcome.UNKNOWN or ".pre-commit-config.yaml" in only.message
