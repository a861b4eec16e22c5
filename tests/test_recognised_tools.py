"""Recognising what teams really run (issue 11 §2): catalogue entries for tools found on real
repositories (Snyk IaC, JavaScript Standard Style, clippy's Cargo.toml lints, Scala and sbt,
CloudFormation scanners), configuration that is not editor evidence (sonar-project.properties),
and formatters, which are no analysers."""

from __future__ import annotations

import json
import re

from conftest import MakeRepo, result, scan
from hypothesis import given
from hypothesis import strategies as st
from test_ci_facts import PROPERTY, facts_of, tool_ids, workflow

from secposture import catalogue
from secposture.facts import ecosystems, languages, tools
from secposture.model import Outcome, Status
from secposture.probes.dependency_updates_cover_ecosystems import impl as updates_probe
from secposture.probes.infrastructure_security_tested import impl as infra_probe
from secposture.probes.static_analysis_coverage import impl as static_probe

ANALYSIS = "static-analysis"


def analysers(uses: list[tools.ToolUse]) -> set[str]:
    return {u.tool.id for u in uses if u.has_purpose(ANALYSIS)}


def covered(uses: list[tools.ToolUse], tool_id: str) -> set[str]:
    return {lang for u in uses if u.tool.id == tool_id for lang in u.languages}


def matrix(findings: object) -> dict[tuple[str, str], str]:
    return {
        (f.values["language"], f.values["stage"]): f.values["tools"]
        for f in findings  # type: ignore[attr-defined]
    }


FORMATTER_COMMANDS = [
    "gofmt -l .",
    "go fmt ./...",
    "goimports -l .",
    "scalafmt --check",
    "sbt scalafmtCheckAll scalafmtSbtCheck",
    "npx prettier --check .",
    "black --check .",
    "isort --check-only .",
    "ruff format --check .",
    "terraform fmt -check -recursive",
    "tofu fmt -check",
    "rustfmt --check src/main.rs",
    "cargo fmt --all -- --check",
    "shfmt -d scripts",
    "dotnet csharpier --check .",
]
FORMATTER_HOOKS = [
    ("https://github.com/psf/black", "black"),
    ("https://github.com/pre-commit/mirrors-prettier", "prettier"),
    ("https://github.com/antonbabenko/pre-commit-terraform", "terraform_fmt"),
    ("https://github.com/dnephin/pre-commit-golang", "go-fmt"),
    ("https://github.com/dnephin/pre-commit-golang", "go-imports"),
    ("https://github.com/doublify/pre-commit-rust", "fmt"),
    ("https://github.com/pycqa/isort", "isort"),
    ("https://github.com/astral-sh/ruff-pre-commit", "ruff-format"),
    ("https://github.com/scop/pre-commit-shfmt", "shfmt"),
    ("https://github.com/macisamuele/language-formatters-pre-commit-hooks", "pretty-format-kotlin"),
]


def test_formatters_are_not_analysers() -> None:
    """gofmt, scalafmt, prettier, black, terraform fmt and rustfmt change layout; they find no
    bugs, so they never satisfy static analysis, as commands or as hooks."""
    step = "- run: |\n" + "\n".join(f"    {c}" for c in FORMATTER_COMMANDS)
    config = "repos:\n" + "".join(
        f"  - repo: {repo}\n    rev: v1\n    hooks:\n      - id: {hook}\n"
        for repo, hook in FORMATTER_HOOKS
    )
    facts = facts_of(
        {".github/workflows/ci.yml": workflow(step), ".pre-commit-config.yaml": config}
    )
    assert analysers(facts.get(tools.ci_uses)) == set()
    assert analysers(facts.get(tools.precommit_uses)) == set()
    # Nor are they in the catalogue under another name.
    ids = {t.id for t in facts.policy.tools}
    for name in ("gofmt", "scalafmt", "prettier", "black", "rustfmt", "terraform-fmt", "isort"):
        assert name not in ids


# --- catalogue additions -------------------------------------------------------------------------


def test_sonar_project_properties_configures_ci_not_the_editor() -> None:
    files: dict[str, str | bytes] = {
        "app/main.py": "print(1)\n",
        "sonar-project.properties": "sonar.projectKey=acme_app\nsonar.organization=acme\nsonar.sources=app\n",
        "pyproject.toml": '[project]\nname = "app"\n\n[tool.sonar]\nprojectKey = "acme_app"\n',
    }
    assert "sonar" not in tool_ids(facts_of(files).get(tools.ide_uses))
    files[".devcontainer/devcontainer.json"] = (
        '{"customizations": {"vscode": {"extensions": ["SonarSource.sonarlint-vscode"]}}}'
    )
    uses = facts_of(files).get(tools.ide_uses)
    assert [u.location.path for u in uses if u.tool.id == "sonar"] == [
        ".devcontainer/devcontainer.json"
    ]


def test_snyk_iac_test_is_an_infrastructure_scan() -> None:
    terraform = {"main.tf": 'resource "aws_s3_bucket" "logs" {}\n'}
    for step in (
        "- uses: snyk/actions/setup@master\n- run: snyk iac test --severity-threshold=high ./terraform",
        "- uses: snyk/actions/iac@master\n  with:\n    file: terraform/",
    ):
        facts = facts_of({**terraform, ".github/workflows/iac.yml": workflow(step)})
        uses = facts.get(tools.ci_uses)
        assert "snyk-iac" in tool_ids(uses)
        assert [f.outcome for f in infra_probe.run(facts)] == [Outcome.POSITIVE]
    # `snyk iac describe` reports drift: it tests nothing; `snyk test` is a dependency scan.
    step = "- run: snyk iac describe --only-managed\n- run: snyk test --all-projects"
    facts = facts_of({**terraform, ".github/workflows/iac.yml": workflow(step)})
    assert "snyk-iac" not in tool_ids(facts.get(tools.ci_uses))
    assert [f.outcome for f in infra_probe.run(facts)] == [Outcome.NEGATIVE]


def test_javascript_standard_style(make_repo: MakeRepo) -> None:
    """Modelled on a GOV.UK Pay frontend: `standard --fix` behind `npm run lint` in CI, its
    settings in package.json's `standard` key, and a lint-staged block no hook manager runs."""
    report = scan(make_repo("node-standard-style"))
    got = matrix(result(report, ANALYSIS).findings)
    assert got[("javascript", "ci")] == "standard"
    assert got[("javascript", "ide")] == "standard"
    assert got[("javascript", "pre-commit")] == ""
    ci = next(
        f
        for f in result(report, ANALYSIS).findings
        if f.values == {"language": "javascript", "stage": "ci", "tools": "standard"}
    )
    assert ci.location is not None and ci.location.path == "package.json"
    assert "via `npm run lint` at .github/workflows/ci.yml:" in ci.message


def test_standard_variants_and_look_alikes() -> None:
    step = (
        "- run: yarn run standardx 'app/assets/javascripts/**/*.js'\n"
        "- run: npx ts-standard --fix src\n"
        "- run: node_modules/.bin/semistandard"
    )
    uses = facts_of({".github/workflows/ci.yml": workflow(step)}).get(tools.ci_uses)
    assert tool_ids(uses) == {"standard", "ts-standard"}
    assert covered(uses, "ts-standard") == {"typescript", "javascript"}
    assert covered(uses, "standard") == {"javascript"}
    # phpcs's --standard option, Ruby's standardrb and a word in another command are not it.
    step = (
        "- run: vendor/bin/phpcs --standard=PSR12 src\n"
        "- run: bundle exec standardrb\n"
        "- run: git commit -m standard"
    )
    uses = facts_of({".github/workflows/ci.yml": workflow(step)}).get(tools.ci_uses)
    assert tool_ids(uses) == {"phpcs", "standardrb"}
    ide_files: dict[str, str | bytes] = {
        "package.json": '{"name": "a", "standardx": {"env": {"browser": true}}}',
        ".vscode/extensions.json": '{"recommendations": ["standard.vscode-standard"]}',
    }
    uses = facts_of(ide_files).get(tools.ide_uses)
    assert [u.location.path for u in uses if u.tool.id == "standard"] == [
        ".vscode/extensions.json",
        "package.json",
    ]


def test_clippy_lints_in_cargo_toml_configure_the_editor() -> None:
    workspace = (
        '[workspace]\nmembers = ["crates/*"]\n\n[workspace.lints.clippy]\n'
        'dbg_macro = "warn"\nunwrap_used = "warn"\n'
    )
    crate = (
        '[package]\nname = "tool"\n\n[lints.clippy]\npedantic = { level = "warn", priority = -1 }\n'
    )
    inherited = '[package]\nname = "cli"\n\n[lints]\nworkspace = true\n'
    facts = facts_of(
        {
            "Cargo.toml": workspace,
            "crates/tool/Cargo.toml": crate,
            "crates/cli/Cargo.toml": inherited,
            "crates/tool/src/lib.rs": "",
        }
    )
    uses = [u for u in facts.get(tools.ide_uses) if u.tool.id == "clippy"]
    assert [(u.location.path, u.location.line) for u in uses] == [
        ("Cargo.toml", 4),
        ("crates/tool/Cargo.toml", 4),
    ]
    # Cargo.toml without lint levels says nothing about clippy.
    facts = facts_of({"Cargo.toml": inherited, "src/main.rs": ""})
    assert "clippy" not in tool_ids(facts.get(tools.ide_uses))


def test_scala_is_a_language_and_scalafmt_no_analyser(make_repo: MakeRepo) -> None:
    """Modelled on an HMRC Play frontend: sbt, Scala sources, sbt-scalafmt and .scalafmt.conf,
    no CI in the repository, no dependency bot."""
    repo = make_repo("scala-play-frontend")
    report = scan(repo)
    static = result(report, ANALYSIS)
    assert static.status is Status.FAIL
    assert {f.values["language"] for f in static.findings} == {"scala"}
    assert all(f.values["tools"] == "" for f in static.findings)
    updates = result(report, "dependency-update-config")
    assert updates.status is Status.FAIL
    sbt = next(f for f in updates.findings if f.values["ecosystem"] == "sbt")
    assert sbt.values["directory"] == "/"
    # Dependabot has no sbt ecosystem: the remedy is Renovate.
    assert "Renovate" in sbt.message and "package-ecosystem: sbt" not in sbt.message


def test_scala_analysers_in_ci_and_their_configuration() -> None:
    files: dict[str, str | bytes] = {
        "build.sbt": 'scalaVersion := "2.13.16"\n',
        "project/plugins.sbt": 'addSbtPlugin("org.scalastyle" %% "scalastyle-sbt-plugin" % "1.0.0")\n',
        "src/main/scala/App.scala": "object App\n",
        "scalastyle-config.xml": "<scalastyle><name>Scalastyle standard configuration</name></scalastyle>\n",
        ".scalafix.conf": "rules = [DisableSyntax, RemoveUnused]\n",
        ".github/workflows/ci.yml": workflow(
            "- run: sbt clean scalafmtCheckAll scalastyle Test/scalastyle test\n"
            '- run: sbt "scalafixAll --check"\n'
            "- run: sbt scapegoat"
        ),
    }
    facts = facts_of(files)
    assert tool_ids(facts.get(tools.ci_uses)) == {"scalastyle", "scalafix", "scapegoat"}
    assert {"scalastyle", "scalafix"} <= tool_ids(facts.get(tools.ide_uses))
    got = matrix(static_probe.run(facts))
    assert got[("scala", "ci")] == "scalastyle,scalafix,scapegoat"
    assert got[("scala", "pre-commit")] == ""
    # Formatting checks alone are no analysis.
    files[".github/workflows/ci.yml"] = workflow("- run: sbt scalafmtCheckAll test")
    assert tool_ids(facts_of(files).get(tools.ci_uses)) == set()


def test_sbt_is_covered_by_renovate_and_never_by_dependabot() -> None:
    sbt_build: dict[str, str | bytes] = {
        "build.sbt": 'scalaVersion := "3.3.6"\n',
        "project/plugins.sbt": 'addSbtPlugin("org.scalameta" % "sbt-scalafmt" % "2.4.0")\n',
        "project/build.properties": "sbt.version=1.11.7\n",
        "modules/api/build.sbt": 'name := "api"\n',
    }
    facts = facts_of(sbt_build)
    found = {name: [d.directory for d in ds] for name, ds in facts.get(ecosystems.collect).items()}
    assert found == {"sbt": ["/"]}  # modules/api belongs to the root build
    dependabot_yml = "version: 2\nupdates:\n  - package-ecosystem: github-actions\n    directory: /\n    schedule: {interval: weekly}\n"
    findings = updates_probe.run(facts_of({**sbt_build, ".github/dependabot.yml": dependabot_yml}))
    assert [f.outcome for f in findings] == [Outcome.NEGATIVE]
    assert "Dependabot cannot update Scala (sbt)" in findings[0].message
    assert "Renovate" in findings[0].message
    renovate = {"renovate.json": json.dumps({"extends": ["config:recommended"]})}
    findings = updates_probe.run(facts_of({**sbt_build, **renovate}))
    assert [f.outcome for f in findings] == [Outcome.POSITIVE]
    narrowed = {"renovate.json": json.dumps({"enabledManagers": ["npm"]})}
    findings = updates_probe.run(facts_of({**sbt_build, **narrowed}))
    assert [f.outcome for f in findings] == [Outcome.NEGATIVE]
    assert "enabledManagers leave out sbt" in findings[0].message


def test_cloudformation_templates_are_infrastructure_for_security_tests_only() -> None:
    template = (
        "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\n"
        "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n"
    )
    sam = {
        "SAMtemplates/main_template.yaml": template,
        "SAMtemplates/functions/main.yaml": template,
        "packages/api/src/handler.ts": "export const handler = async () => ({})\n",
    }
    facts = facts_of(dict(sam))
    present = facts.get(languages.collect)
    assert set(present) == {"typescript", "cloudformation"}
    assert present["cloudformation"].infrastructure
    # static-analysis asks about TypeScript only (CloudFormation is found by names alone).
    assert {f.values["language"] for f in static_probe.run(facts)} == {"typescript"}
    assert [f.outcome for f in infra_probe.run(facts)] == [Outcome.NEGATIVE]
    for step in (
        "- run: cfn-guard validate --data SAMtemplates --rules rules/ncsc.guard --show-summary fail",
        "- run: checkov --directory SAMtemplates --framework cloudformation",
        "- uses: stelligent/cfn_nag@master\n  with:\n    input_path: SAMtemplates",
    ):
        facts = facts_of({**sam, ".github/workflows/iac.yml": workflow(step)})
        assert [f.outcome for f in infra_probe.run(facts)] == [Outcome.POSITIVE], step
    # cfn-lint checks templates against the specification: analysis, not a security test.
    facts = facts_of(
        {
            **sam,
            ".github/workflows/iac.yml": workflow("- run: cfn-lint -I 'SAMtemplates/**/*.y*ml'"),
        }
    )
    assert "cfn-lint" in analysers(facts.get(tools.ci_uses))
    assert [f.outcome for f in infra_probe.run(facts)] == [Outcome.NEGATIVE]


def test_cloudformation_names() -> None:
    spec = catalogue.load("languages")["languages"]["cloudformation"]
    pattern = re.compile(spec["path_patterns"][0])
    found = [
        "template.yaml",
        "deploy/template.yaml",
        "cloudformation/vpc.json",
        "infra/cfn/bucket.yml",
        "SAMtemplates/functions/main.yaml",
        "stacks/network.cfn.yaml",
    ]
    not_found = [
        "templates/service/template.yaml",  # a scaffolder's template (Backstage)
        "a/b/template.yaml",
        ".github/template.yml",
        "src/cfn.py",
        "docs/cloudformation.md",
    ]
    assert [p for p in found if not pattern.search(p)] == []
    assert [p for p in not_found if pattern.search(p)] == []


def test_linters_run_from_their_images_and_actions() -> None:
    """Teams run linters from their published images (tag included) and from actions other
    than the first one the catalogue knew."""
    step = (
        "- run: docker run --rm -i hadolint/hadolint:v2.12.0 < Dockerfile\n"
        '- run: docker run --rm -v "$PWD:/mnt" koalaman/shellcheck:stable scripts/*.sh\n'
        "- run: docker run --rm -v $PWD:/tf bridgecrew/checkov:3 -d /tf\n"
        "- run: docker run aquasec/trivy:0.58.1 image --exit-code 1 app:${{ github.sha }}\n"
        "- uses: redhat-plumbers-in-action/differential-shellcheck@v5"
    )
    uses = facts_of({".github/workflows/lint.yml": workflow(step)}).get(tools.ci_uses)
    assert tool_ids(uses) == {"hadolint", "shellcheck", "checkov", "trivy-image"}
    # Pulling the image runs nothing.
    step = "- run: docker pull hadolint/hadolint:v2.12.0 && docker pull aquasec/trivy:0.58.1"
    uses = facts_of({".github/workflows/lint.yml": workflow(step)}).get(tools.ci_uses)
    assert tool_ids(uses) == set()


_PATH_PART = st.sampled_from(
    ["k8s", "helm", "charts", "cfn", "cloudformation", "SAMtemplates", "templates", "deploy", "a"]
)
_FILE_NAME = st.sampled_from(
    ["template.yaml", "x.yml", "Chart.yaml", "kustomization.yaml", "a.json", "b.template",
     "s.cfn.yaml", "main.tf", "x.yaml.bak", "README.md", "values.YAML"]
)  # fmt: skip


@PROPERTY
@given(st.lists(_PATH_PART, max_size=4), _FILE_NAME)
def test_path_patterns_only_match_their_declared_suffixes(folders: list[str], name: str) -> None:
    """languages.toml's path_suffixes rule paths out before the regex runs: a pattern must never
    match a path that does not end with one of them."""
    path = "/".join([*folders, name])
    for entry in catalogue.load("languages")["languages"].values():
        for pattern in entry.get("path_patterns", ()):
            if re.search(pattern, path):
                assert path.endswith(tuple(entry["path_suffixes"])), (pattern, path)
