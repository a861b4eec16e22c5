"""The container-scanning control end to end: image scans in CI and ECR scanning in Terraform pass,
filesystem-only scans are partial, unscanned builds fail, and no containers is not applicable."""

from __future__ import annotations

from conftest import MakeRepo, result, scan
from hypothesis import given
from hypothesis import strategies as st
from test_ci_facts import PROPERTY, facts_of, workflow

from secposture.model import Outcome, Status
from secposture.probes.container_images_scanned import impl

TRIVY_IMAGE = "- uses: aquasecurity/trivy-action@0.28.0\n  with:\n    image-ref: inventory:latest\n    exit-code: '1'"


def test_image_scan_in_ci_passes(make_repo: MakeRepo) -> None:
    got = result(
        scan(make_repo("sa-go-bare", {".github/workflows/scan.yml": workflow(TRIVY_IMAGE)})),
        "container-scanning",
    )
    assert got.status is Status.PASS
    (only,) = got.findings
    assert "trivy-image" in only.message and only.location.path == ".github/workflows/scan.yml"  # type: ignore[union-attr]


METADATA_FRAGMENT = """# === Metadata ===
ARG IMAGE
ARG BUILD_VERSION
LABEL \\
    org.opencontainers.image.base.name=$IMAGE \\
    org.opencontainers.image.version=$BUILD_VERSION
"""


def test_a_dockerfile_fragment_without_from_builds_no_image(make_repo: MakeRepo) -> None:
    # Labels that a script appends to other Dockerfiles: no base image, so no image of its own,
    # and no Dockerfile code to analyse either.
    root = make_repo(
        files={"scripts/docker/Dockerfile.metadata": METADATA_FRAGMENT, "README.md": "# x\n"}
    )
    report = scan(root)
    assert result(report, "container-scanning").status is Status.NOT_APPLICABLE
    static = result(report, "static-analysis")
    assert not [f for f in static.findings if f.values.get("language") == "dockerfile"]
    # A Dockerfile with a FROM after its ARGs and comments is one.
    root = make_repo(
        files={"Dockerfile": "# syntax=docker/dockerfile:1\nARG BASE=alpine\nfrom ${BASE}\n"}
    )
    assert result(scan(root), "container-scanning").status is Status.FAIL


def test_other_image_scanners_pass() -> None:
    for step in (
        "- uses: anchore/scan-action@v6\n  with:\n    image: app:1",
        "- run: docker scout cves app:1 --exit-code",
        "- uses: snyk/actions/docker@master\n  with:\n    image: app:1",
        "- run: grype registry:ghcr.io/acme/app:1 --fail-on high",
        "- run: aws ecr wait image-scan-complete --repository-name app --image-id imageTag=1",
    ):
        facts = facts_of(
            {"Dockerfile": "FROM scratch\n", ".github/workflows/ci.yml": workflow(step)}
        )
        assert [f.outcome for f in impl.run(facts)] == [Outcome.POSITIVE], step


def test_gitlab_container_scanning_template_passes(make_repo: MakeRepo) -> None:
    got = result(scan(make_repo("gitlab-rails-app")), "container-scanning")
    assert got.status is Status.PASS and "gitlab-container-scanning" in got.summary


def test_ecr_scan_on_push_passes(make_repo: MakeRepo) -> None:
    got = result(scan(make_repo("terraform-ecr-policy")), "container-scanning")
    assert got.status is Status.PASS
    (only,) = got.findings
    assert (only.location.path, only.location.line) == ("modules/registry/main.tf", 6)  # type: ignore[union-attr]
    assert "scan_on_push = true" in only.message


def test_registry_scanning_and_ecr_module() -> None:
    registry = 'resource "aws_ecr_registry_scanning_configuration" "this" {\n  scan_type = "ENHANCED"\n  rule {\n    scan_frequency = "CONTINUOUS_SCAN"\n  }\n}\n'
    facts = facts_of({"Dockerfile": "FROM scratch\n", "infra/ecr.tf": registry})
    assert [f.outcome for f in impl.run(facts)] == [Outcome.POSITIVE]
    module = (
        'module "ecr" {\n  source = "terraform-aws-modules/ecr/aws"\n  repository_name = "app"\n}\n'
    )
    facts = facts_of({"Dockerfile": "FROM scratch\n", "ecr.tf": module})
    assert [f.outcome for f in impl.run(facts)] == [Outcome.POSITIVE]
    off = module.replace('repository_name = "app"', "repository_image_scan_on_push = false")
    facts = facts_of({"Dockerfile": "FROM scratch\n", "ecr.tf": off})
    assert [f.outcome for f in impl.run(facts)] == [Outcome.NEGATIVE, Outcome.NEGATIVE]


def test_filesystem_scan_only_is_partial(make_repo: MakeRepo) -> None:
    got = result(scan(make_repo("sa-polyglot-partial")), "container-scanning")
    assert got.status is Status.PARTIAL
    partial = next(f for f in got.findings if f.outcome is Outcome.PARTIAL)
    assert "trivy fs" in partial.message and "via `make scan`" in partial.message
    gap = next(f for f in got.findings if f.outcome is Outcome.NEGATIVE)
    assert (
        "aws_ecr_repository.api at infra/main.tf:5 has no image_scanning_configuration"
        in gap.message
    )


def test_unscanned_build_fails(make_repo: MakeRepo) -> None:
    got = result(scan(make_repo("sa-go-bare")), "container-scanning")
    assert got.status is Status.FAIL
    assert "Dockerfile is a container build file" in got.summary
    assert "docker/build-push-action" in got.summary


def test_ci_build_without_dockerfile_is_detected_and_no_build_is_not_applicable(
    make_repo: MakeRepo,
) -> None:
    facts = facts_of(
        {
            "main.go": "package main\n",
            ".github/workflows/ko.yml": workflow("- run: ko build ./cmd/app --bare"),
        }
    )
    (only,) = impl.run(facts)
    assert only.outcome is Outcome.NEGATIVE and "ko build" in only.message
    facts = facts_of({"pom.xml": "<project/>", "Jenkinsfile": "sh './mvnw compile jib:build'\n"})
    assert impl.run(facts)[0].outcome is Outcome.NEGATIVE
    got = result(scan(make_repo("sa-python-complete")), "container-scanning")
    assert got.status is Status.NOT_APPLICABLE


def test_scan_on_push_from_a_variable_is_not_trusted() -> None:
    text = 'resource "aws_ecr_repository" "x" {\n  name = "x"\n  image_scanning_configuration {\n    scan_on_push = var.scan\n  }\n}\n'
    (block,) = impl.parse_ecr("ecr.tf", text)
    assert not block.scans and "var.scan" in block.detail and block.location.line == 4


@PROPERTY
@given(
    st.text(
        alphabet=st.sampled_from(
            list(
                'resource module "aws_ecr_repository" image_scanning_configuration scan_on_push = true {}#\n'
            )
        ),
        max_size=400,
    )
)
def test_terraform_scanner_never_raises(text: str) -> None:
    impl.parse_ecr("x.tf", text)
