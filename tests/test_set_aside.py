"""Test data, examples and development environments are not the product (issue 11 §3).

Each fixture is modelled on a layout real repositories use (a library's examples/, Go's testdata/,
Jest's __fixtures__, a linter's corpus of action.yml files, a terratest root module under test/,
a devcontainer's Dockerfile): the languages, ecosystems, images and actions to pin that count,
and what the report says was set aside."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import jsonschema
import pytest
from conftest import MakeRepo, result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from memory_repo import scan_only

from secposture import catalogue
from secposture.facts import ecosystems, languages, workflows
from secposture.facts.interface import Facts
from secposture.facts.paths import PathIndex, set_aside_rules
from secposture.model import Outcome, ScanReport, Status
from secposture.policy import Policy, default_policy, load_policy_file, resolve_policy
from secposture.probes.container_images_scanned import impl as containers
from secposture.probes.infrastructure_security_tested import impl as infrastructure
from secposture.reports import html_format, markdown_format, sarif_format, terminal_format
from secposture.reports.interface import RenderOptions
from secposture.reports.json_format import as_dict
from secposture.sources.local import LocalSource
from secposture.sources.memory import MemorySnapshot

ROOT = Path(__file__).parent.parent
SHA = "11bd71901bbe5b1630ceea73d27597364c9af683"
DEPS = "dependency-update-config"
IMAGES = "container-scanning"
PINNED = "actions-pinned"


def facts_for(root: Path, operator: Policy | None = None) -> Facts:
    excluded = frozenset(catalogue.load("defaults")["excluded_dirs"])
    snapshot = LocalSource(root, excluded_dirs=excluded).snapshot()
    policy = resolve_policy(snapshot, operator or default_policy(), trusted=True).policy
    return Facts(snapshot, policy, date(2026, 11, 29))


def dirs(facts: Facts) -> dict[str, list[str]]:
    return {k: [d.directory for d in v] for k, v in facts.get(ecosystems.collect).items()}


def aside(facts: Facts) -> list[tuple[str, str, int]]:
    return [(f.path, f.kind, f.files) for f in facts.set_aside.folders]


def dependabot(*entries: tuple[str, str]) -> str:
    lines = ["version: 2", "updates:"]
    for ecosystem, directory in entries:
        lines += [
            f"  - package-ecosystem: {ecosystem}",
            f'    directory: "{directory}"',
            "    schedule:",
            "      interval: weekly",
        ]
    return "\n".join(lines) + "\n"


def workflow(*steps: str) -> str:
    body = "".join(f"      - {s}\n" for s in steps)
    return (
        "on: [push]\npermissions:\n  contents: read\njobs:\n  test:\n"
        f"    runs-on: ubuntu-latest\n    steps:\n{body}"
    )


def composite(*uses: str) -> str:
    body = "".join(f"    - uses: {u}\n" for u in uses)
    return f"name: x\nruns:\n  using: composite\n  steps:\n{body}"


# --- a library with examples/ (flask, terraform-aws-vpc, govuk-casa) ------------------------------

LIBRARY = {
    "pyproject.toml": '[project]\nname = "flask"\ndependencies = ["werkzeug>=3.1", "jinja2>=3.1.2"]\n',
    "src/flask/__init__.py": "from .app import Flask as Flask\n",
    "src/flask/app.py": "class Flask:\n    pass\n",
    "tests/test_basic.py": "def test_escaping(app):\n    assert '&lt;' in app.render('<')\n",
    "tests/test_apps/cliapp/app.py": "from flask import Flask\napp = Flask(__name__)\n",
    "examples/tutorial/pyproject.toml": '[project]\nname = "flaskr"\ndependencies = ["flask"]\n',
    "examples/tutorial/flaskr/__init__.py": "def create_app():\n    pass\n",
    "examples/javascript/pyproject.toml": '[project]\nname = "js_example"\ndependencies = ["flask"]\n',
    "examples/javascript/js_example/static/fetch.js": "fetch('/add').then(r => r.json())\n",
    "examples/celery/requirements.txt": "celery[redis]\nflask\n",
    "examples/celery/src/task_app/tasks.py": "def add(a, b):\n    return a + b\n",
    ".github/workflows/tests.yaml": workflow(f"uses: actions/checkout@{SHA}"),
    ".github/dependabot.yml": dependabot(("pip", "/"), ("github-actions", "/")),
}
EXAMPLE_FILES = sum(1 for p in LIBRARY if p.startswith("examples/"))


def test_a_librarys_examples_add_no_languages_or_ecosystems(make_repo: MakeRepo) -> None:
    root = make_repo(files=LIBRARY)
    facts = facts_for(root)
    assert set(facts.get(languages.collect)) == {"python"}  # not the examples' JavaScript
    assert dirs(facts) == {"pip": ["/"], "github-actions": ["/"]}
    assert aside(facts) == [("examples", "examples", EXAMPLE_FILES)]
    report = scan_only(root, DEPS)
    assert result(report, DEPS).status is Status.PASS, result(report, DEPS).summary
    assert report.set_aside is not None and report.set_aside.files == EXAMPLE_FILES
    # The tests (and the small apps they drive) stay the repository's own.
    assert "tests/test_apps/cliapp/app.py" in facts.product_paths


def test_the_policys_include_puts_examples_back(make_repo: MakeRepo, tmp_path: Path) -> None:
    root = make_repo(files=LIBRARY)
    operator = load_policy_file("operator.toml", 'include = ["examples/*"]\n')
    facts = facts_for(root, operator)
    assert set(facts.get(languages.collect)) == {"python", "javascript"}
    assert dirs(facts)["pip"] == [
        "/",
        "/examples/celery",
        "/examples/javascript",
        "/examples/tutorial",
    ]
    assert facts.set_aside.files == 0 and facts.set_aside.included == EXAMPLE_FILES
    policy = tmp_path / "operator.toml"
    policy.write_text(f'include = ["examples/*"]\n[controls.{DEPS}]\nenabled = true\n', "utf-8")
    from conftest import scan

    r = result(scan(root, policy_file=policy), DEPS)
    assert r.status is Status.PARTIAL  # the examples now count, and nothing covers them


# --- Go's testdata/ (gitleaks) --------------------------------------------------------------------


def test_go_testdata_adds_no_ecosystems_or_images(make_repo: MakeRepo) -> None:
    root = make_repo(
        files={
            "go.mod": "module github.com/zricethezav/gitleaks/v8\n\ngo 1.23\n",
            "main.go": "package main\n\nfunc main() {}\n",
            "detect/detect.go": "package detect\n",
            "detect/detect_test.go": "package detect\n",
            "testdata/config/simple.toml": '[[rules]]\nid = "aws"\n',
            "testdata/repos/small/api/api.go": "package api\n",
            "testdata/repos/node/package.json": '{"name": "leaky", "dependencies": {"x": "1"}}\n',
            "testdata/repos/node/Dockerfile": "FROM node:20\n",
            "Dockerfile": "FROM golang:1.23 AS build\nCOPY . .\nRUN go build\n",
            ".github/dependabot.yml": dependabot(("gomod", "/"), ("docker", "/")),
        }
    )
    facts = facts_for(root)
    assert dirs(facts) == {"gomod": ["/"], "docker": ["/"]}
    assert [b.location.path for b in containers.builds(facts)] == ["Dockerfile"]
    assert set(facts.get(languages.collect)) == {"go", "dockerfile"}
    assert aside(facts) == [("testdata", "test data", 4)]
    assert result(scan_only(root, DEPS), DEPS).status is Status.PASS


# --- Jest's __fixtures__, __mocks__, __snapshots__; fixture projects in a test folder -------------


def test_js_fixtures_mocks_and_snapshots_are_set_aside(make_repo: MakeRepo) -> None:
    root = make_repo(
        files={
            "package.json": '{"name": "resolver", "devDependencies": {"jest": "^29.7.0"}}\n',
            "tsconfig.json": "{}\n",
            "src/index.ts": "export const resolve = (p: string) => p\n",
            "src/__tests__/index.test.ts": "test('resolves', () => {})\n",
            "src/__tests__/__snapshots__/index.test.ts.snap": "exports[`x`] = `y`;\n",
            "src/__fixtures__/workspace/package.json": '{"workspaces": ["packages/*"]}\n',
            "src/__fixtures__/workspace/packages/a/package.json": '{"name": "a"}\n',
            "__mocks__/fs.js": "module.exports = {}\n",
            ".github/dependabot.yml": dependabot(("npm", "/")),
        }
    )
    facts = facts_for(root)
    assert dirs(facts) == {"npm": ["/"]}
    assert set(facts.get(languages.collect)) == {"typescript"}  # not the mock's JavaScript
    assert aside(facts) == [
        ("__mocks__", "test data", 1),
        ("src/__fixtures__", "test data", 2),
        ("src/__tests__/__snapshots__", "test data", 1),
    ]
    assert result(scan_only(root, DEPS), DEPS).status is Status.PASS


def test_projects_in_a_test_folder_are_fixtures_its_own_manifest_is_not(
    make_repo: MakeRepo,
) -> None:
    """helmet's test/project-setups/*/package.json are fixture projects; a test suite's own
    manifest (test/e2e/package.json, terratest's test/go.mod) is real."""
    root = make_repo(
        files={
            "package.json": '{"name": "helmet"}\n',
            "index.ts": "export default function helmet() {}\n",
            "test/index.test.ts": "it('sets headers', () => {})\n",
            "test/project-setups/javascript-esm/package.json": '{"private": true, "type": "module"}\n',
            "test/project-setups/javascript-esm/check.js": "import helmet from 'helmet'\n",
            "test/project-setups/typescript-esnext/package.json": '{"private": true}\n',
            "test/e2e/package.json": '{"devDependencies": {"@playwright/test": "^1.48.0"}}\n',
        }
    )
    facts = facts_for(root)
    assert dirs(facts) == {"npm": ["/", "/test/e2e"]}
    assert aside(facts) == [("test/project-setups", "test data", 2)]


# --- a linter's own test corpus (zizmor) ----------------------------------------------------------

LINTER = {
    "Cargo.toml": '[workspace]\nmembers = ["crates/*"]\n',
    "crates/zizmor/Cargo.toml": '[package]\nname = "zizmor"\n[dependencies]\nserde = "1"\n',
    "crates/zizmor/src/main.rs": "fn main() {}\n",
    ".github/workflows/ci.yml": workflow(f"uses: actions/checkout@{SHA}", "run: cargo test"),
    ".github/dependabot.yml": dependabot(("cargo", "/"), ("github-actions", "/")),
    "crates/zizmor/tests/integration/test-data/unpinned-uses/action.yml": composite(
        "actions/checkout@v4", "docker://ubuntu"
    ),
    "crates/zizmor/tests/integration/test-data/template-injection/action.yml": composite(
        "actions/github-script@v7"
    ),
    "crates/zizmor/tests/integration/test-data/invalid/invalid-action-1/action.yml": "runs: [\n",
    "crates/zizmor/tests/integration/test-data/dependabot-cooldown/missing/dependabot.yml": (
        "version: 2\nupdates:\n  - package-ecosystem: pip\n    directory: /\n"
    ),
    "crates/zizmor/tests/integration/test-data/e2e-menagerie/.github/workflows/hackme.yml": (
        workflow("uses: actions/checkout@main")
    ),
    "crates/zizmor/tests/integration/test-data/e2e-menagerie/Dockerfile": "FROM ubuntu\n",
    "crates/zizmor/tests/integration/snapshots/e2e__menagerie.snap": "---\nsource: x\n",
}


def test_a_linters_test_corpus_has_no_actions_to_pin_or_cover(make_repo: MakeRepo) -> None:
    root = make_repo(files=LINTER)
    facts = facts_for(root)
    assert facts.get(workflows.collect_local_actions) == {}
    assert dirs(facts) == {"cargo": ["/"], "github-actions": ["/"]}
    report = scan_only(root, DEPS, PINNED, IMAGES)
    assert result(report, PINNED).status is Status.PASS, result(report, PINNED).summary
    assert result(report, DEPS).status is Status.PASS, result(report, DEPS).summary
    assert result(report, IMAGES).status is Status.NOT_APPLICABLE
    # Its deliberately broken fixtures are not read, so they are no problems of the scan.
    assert not [p for p in report.problems if "test-data" in p.path]
    assert report.set_aside is not None
    assert [(f.path, f.files) for f in report.set_aside.folders] == [
        ("crates/zizmor/tests/integration/snapshots", 1),
        ("crates/zizmor/tests/integration/test-data", 6),
    ]


def test_an_action_under_a_test_folder_that_a_workflow_calls_is_real(make_repo: MakeRepo) -> None:
    root = make_repo(
        files={
            ".github/workflows/ci.yml": workflow(
                f"uses: actions/checkout@{SHA}", "uses: ./tests/actions/setup-env"
            ),
            "tests/actions/setup-env/action.yml": composite(
                "actions/setup-go@v5", "./tests/actions/cache"
            ),
            "tests/actions/cache/action.yml": composite("actions/cache@v4"),
            "tests/fixtures/uncalled/action.yml": composite("someone/else@v1"),
            "go.mod": "module example.com/x\n",
        }
    )
    facts = facts_for(root)
    assert set(facts.get(workflows.collect_local_actions)) == {
        "tests/actions/setup-env",
        "tests/actions/cache",
    }
    assert dirs(facts)["github-actions"] == [
        "/",
        "/tests/actions/cache",
        "/tests/actions/setup-env",
    ]
    r = result(scan_only(root, PINNED), PINNED)
    assert r.status is Status.PARTIAL
    unpinned = {f.location.path for f in r.findings if f.outcome is Outcome.NEGATIVE and f.location}
    assert unpinned == {"tests/actions/setup-env/action.yml", "tests/actions/cache/action.yml"}


# --- Terraform: terratest root modules, test infrastructure, demos (s3-bucket, vault) --------------


def test_terratest_root_module_is_not_a_directory_to_cover(make_repo: MakeRepo) -> None:
    root = make_repo(
        files={
            "main.tf": 'resource "aws_s3_bucket" "default" {\n  bucket_prefix = var.bucket_prefix\n}\n',
            "variables.tf": 'variable "bucket_prefix" {\n  type = string\n}\n',
            "test/go.mod": "module github.com/org/terraform-s3-bucket\n\ngo 1.23\n",
            "test/module_test.go": "package main_test\n",
            "test/unit-test/main.tf": 'module "s3" {\n  source = "../.."\n  bucket_prefix = "unit-test-bucket"\n}\n',
            "test/unit-test/providers.tf": 'provider "aws" {\n  region = "eu-west-2"\n}\n',
            ".github/workflows/code-scanning.yml": workflow(f"uses: actions/checkout@{SHA}"),
            ".github/dependabot.yml": dependabot(
                ("github-actions", "/"), ("terraform", "/"), ("gomod", "/test")
            ),
        }
    )
    facts = facts_for(root)
    assert dirs(facts) == {"gomod": ["/test"], "terraform": ["/"], "github-actions": ["/"]}
    assert aside(facts) == [("test/unit-test", "test data", 2)]
    assert result(scan_only(root, DEPS), DEPS).status is Status.PASS


def test_test_and_demo_infrastructure_is_not_the_products(make_repo: MakeRepo) -> None:
    """A Go operator whose only Terraform stands up its integration tests and a demo: no
    Terraform to security-test, no Terraform directories or test charts to keep up to date."""
    root = make_repo(
        files={
            "go.mod": "module github.com/hashicorp/vault-secrets-operator\n",
            "main.go": "package main\n",
            "chart/Chart.yaml": "apiVersion: v2\nname: vault-secrets-operator\n",
            "chart/templates/deployment.yaml": "kind: Deployment\n",
            "test/integration/infra/eks/main.tf": 'module "eks" {\n  source = "x"\n}\n',
            "test/integration/charts/postgresql/Chart.yaml": "apiVersion: v2\nname: postgresql\n",
            "test/integration/vaultstaticsecret/terraform/main.tf": 'resource "x" "y" {}\n',
            "test/integration/vaultstaticsecret_integration_test.go": "package integration\n",
            "demo/infra/app/main.tf": 'resource "kubernetes_namespace" "demo" {}\n',
        }
    )
    facts = facts_for(root)
    assert set(facts.get(languages.collect)) == {"go", "kubernetes"}
    assert dirs(facts) == {"gomod": ["/"], "helm": ["/chart"]}
    infra = infrastructure.run(facts)
    assert {f.values.get("language") for f in infra} == {"kubernetes"}


# --- development environments and test images (spring-petclinic, eps, nhs template) ---------------


def test_devcontainer_and_test_images_are_not_product_images(make_repo: MakeRepo) -> None:
    root = make_repo(
        files={
            "pom.xml": "<project><artifactId>spring-petclinic</artifactId></project>\n",
            "src/main/java/org/springframework/samples/petclinic/PetClinicApplication.java": (
                "package org.springframework.samples.petclinic;\n"
            ),
            "src/main/java/com/example/demo/fixtures/Seed.java": "package com.example.demo.fixtures;\n",
            "src/test/java/org/springframework/samples/petclinic/PetClinicTests.java": "class T {}\n",
            "src/test/resources/db/postgres/docker-compose.yml": "services:\n  db:\n    image: postgres\n",
            ".devcontainer/Dockerfile": "FROM mcr.microsoft.com/devcontainers/java:21\n",
            ".devcontainer/devcontainer.json": '{"build": {"dockerfile": "Dockerfile"}}\n',
            ".devcontainer/on-create.sh": "#!/bin/sh\n./mvnw -q dependency:go-offline\n",
            "scripts/docker/tests/Dockerfile": "FROM alpine\n",
            "k8s/petclinic.yml": "kind: Deployment\n",
        }
    )
    facts = facts_for(root)
    # Java packages named `samples`, `example`, `demo` or `fixtures` are code, not examples.
    assert set(facts.get(languages.collect)) == {"java", "shell", "kubernetes"}
    assert dirs(facts) == {"maven": ["/"], "devcontainers": ["/"]}
    assert containers.builds(facts) == []
    assert aside(facts) == [
        (".devcontainer", "development environment", 1),
        ("scripts/docker/tests", "test data", 1),
        ("src/test/resources", "test data", 1),
    ]
    assert result(scan_only(root, IMAGES), IMAGES).status is Status.NOT_APPLICABLE


def test_registry_scanning_in_a_test_fixture_is_no_evidence(make_repo: MakeRepo) -> None:
    ecr = (
        'resource "aws_ecr_repository" "app" {\n  name = "app"\n'
        "  image_scanning_configuration {\n    scan_on_push = true\n  }\n}\n"
    )
    root = make_repo(files={"Dockerfile": "FROM python:3.13\n", "test/fixtures/ecr/main.tf": ecr})
    r = result(scan_only(root, IMAGES), IMAGES)
    assert r.status is Status.FAIL, r.summary
    assert not containers.ecr_blocks(facts_for(root))


# --- the policy -----------------------------------------------------------------------------------


def test_a_repositorys_own_include_tightens_so_it_applies_without_leave() -> None:
    snapshot = MemorySnapshot(
        {"secposture.toml": 'include = ["examples/*"]\nexclude = ["src/*"]\n'}
    )
    resolved = resolve_policy(snapshot, default_policy())  # untrusted, no leave granted
    assert resolved.policy.include == ("examples/*",)
    assert resolved.policy.exclude == ()  # hiding files still needs the operator's leave
    assert resolved.own is not None
    changes = {c.key: c for c in resolved.own.changes}
    assert changes["include[0]"].applied and changes["include[0]"].needs is None
    assert not changes["exclude[0]"].applied and changes["exclude[0]"].needs == "exclude"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('include = "examples/*"', "include"),
        ('include = [""]', "include[0]"),
        ("include = [1]", "include[0]"),
    ],
)
def test_an_invalid_include_names_the_key(text: str, key: str) -> None:
    from secposture.errors import PolicyError

    with pytest.raises(PolicyError, match=re.escape(f"invalid policy: {key}: ")):
        load_policy_file("p.toml", text + "\n")


def test_includes_are_bounded() -> None:
    from secposture.errors import PolicyError

    globs = ", ".join(f'"x{i}/*"' for i in range(1001))
    with pytest.raises(PolicyError, match="include"):
        load_policy_file("p.toml", f"include = [{globs}]\n")


# --- the report -----------------------------------------------------------------------------------


def _report(make_repo: MakeRepo) -> ScanReport:
    return scan_only(make_repo(files=LIBRARY | LINTER), DEPS)


def test_every_format_says_what_was_set_aside(make_repo: MakeRepo) -> None:
    report = _report(make_repo)
    data = as_dict(report)
    schema = json.loads((ROOT / "docs" / "report.schema.json").read_text("utf-8"))
    jsonschema.validate(data, schema)
    assert data["set_aside"] == {
        "files": EXAMPLE_FILES + 7,
        "folders": [
            {"path": "crates/zizmor/tests/integration/snapshots", "kind": "test data", "files": 1},
            {"path": "crates/zizmor/tests/integration/test-data", "kind": "test data", "files": 6},
            {"path": "examples", "kind": "examples", "files": EXAMPLE_FILES},
        ],
        "more_folders": 0,
        "included_files": 0,
    }
    line = (
        f"set aside as test data or examples: {EXAMPLE_FILES + 7} files in 3 folders "
        "(crates/zizmor/tests/integration/snapshots/, crates/zizmor/tests/integration/test-data/, "
        "examples/)"
    )
    options = RenderOptions()
    terminal = " ".join(terminal_format.render(report, RenderOptions(verbose=True)).split())
    assert line in terminal and "include" in terminal
    # The one-screen view names the first folder and how many more.
    brief = " ".join(terminal_format.render(report, RenderOptions(width=100)).split())
    assert (
        f"set aside as test data or examples: {EXAMPLE_FILES + 7} files in 3 folders "
        "(crates/zizmor/tests/integration/snapshots/ and 2 more)" in brief
    )
    assert line in markdown_format.render(report, options)
    assert line in html_format.render(report, options)
    sarif = json.loads(sarif_format.render(report, options))
    assert sarif["runs"][0]["properties"]["setAside"] == data["set_aside"]


def test_nothing_set_aside_leaves_the_field_out(make_repo: MakeRepo) -> None:
    report = scan_only(make_repo(files={"go.mod": "module x\n"}), DEPS)
    assert report.set_aside is None
    assert "set_aside" not in as_dict(report)
    assert "set aside" not in terminal_format.render(report, RenderOptions())


# --- properties of the rules ----------------------------------------------------------------------

_NAMES = st.sampled_from(
    [
        "src", "app", "test", "tests", "Tests", "e2e", "browser-tests", "spec", "data", "resources",
        "fixtures", "testdata", "__fixtures__", "__snapshots__", "examples", "example", "demo",
        ".devcontainer", ".github", "actions", "java", "main", "infra", "charts", "x",
    ]
)  # fmt: skip
_FILES = st.sampled_from(
    [
        "package.json",
        "go.mod",
        "main.tf",
        "Dockerfile",
        "action.yml",
        "app.py",
        "a.txt",
        "Chart.yaml",
    ]
)
_PATHS = st.tuples(st.lists(_NAMES, max_size=5), _FILES).map(lambda t: "/".join([*t[0], t[1]]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PATHS, max_size=40, unique=True))
def test_product_and_set_aside_split_the_repositorys_own_paths(paths: list[str]) -> None:
    index = PathIndex(paths, frozenset({"vendor"}), (), set_aside_rules())
    product, aside_paths = set(index.product.paths), index.set_aside_paths
    assert product | aside_paths == set(index.kept) and not product & aside_paths
    assert list(index.product.paths) == sorted(product)
    assert (
        index.set_aside.files == len(aside_paths) == sum(f.files for f in index.set_aside.folders)
    )
    for path in aside_paths:
        assert not path.startswith(".github/")  # what GitHub reads is always the repository's own
        assert any(path.startswith(f.path + "/") for f in index.set_aside.folders)
    everything = PathIndex(paths, frozenset({"vendor"}), (), set_aside_rules(("*",)))
    assert everything.product.paths == index.kept  # `include = ["*"]` puts every file back
    assert everything.set_aside.included == len(aside_paths)
