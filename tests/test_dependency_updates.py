"""dependency-update-config: ecosystems and their directories, Dependabot and Renovate coverage."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from conftest import MakeRepo, result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from memory_repo import facts_of, scan_only

from secposture.facts import dependabot, ecosystems
from secposture.model import Outcome, Status
from secposture.probes.dependency_updates_cover_ecosystems import impl as probe

CONTROL = "dependency-update-config"
DEPENDABOT = ".github/dependabot.yml"


def located(findings: object) -> dict[tuple[str, str], Outcome]:
    return {(f.values["ecosystem"], f.values["directory"]): f.outcome for f in findings}  # type: ignore[attr-defined]


def dirs(files: dict[str, str | bytes]) -> dict[str, list[str]]:
    found = facts_of(files).get(ecosystems.collect)
    return {name: [d.directory for d in ds] for name, ds in found.items()}


# --- end to end, every status ---------------------------------------------------------------------


def test_monorepo_with_every_ecosystem_covered_passes(make_repo: MakeRepo) -> None:
    r = result(scan_only(make_repo("deps-monorepo"), CONTROL), CONTROL)
    assert r.status is Status.PASS, r.summary
    assert located(r.findings) == {
        ("pip", "/"): Outcome.POSITIVE,
        ("npm", "/frontend"): Outcome.POSITIVE,  # workspace packages are the root's to update
        ("gomod", "/services/api"): Outcome.POSITIVE,
        ("gomod", "/services/worker"): Outcome.POSITIVE,
        ("maven", "/java"): Outcome.POSITIVE,  # module poms are covered by the parent pom
        ("docker", "/"): Outcome.POSITIVE,
        ("docker", "/services/api"): Outcome.POSITIVE,
        ("terraform", "/infra"): Outcome.POSITIVE,
        ("terraform", "/infra/modules/vpc"): Outcome.POSITIVE,
        ("github-actions", "/"): Outcome.POSITIVE,
        ("github-actions", "/.github/actions/setup"): Outcome.POSITIVE,
        ("gitsubmodule", "/"): Outcome.POSITIVE,
    }
    gomod = next(f for f in r.findings if f.values["ecosystem"] == "gomod")
    assert str(gomod.location) == f"{DEPENDABOT}:15"
    assert "/services/*" in gomod.message


def test_missing_entries_make_it_partial_and_say_what_to_add(make_repo: MakeRepo) -> None:
    config = (
        "version: 2\nupdates:\n"
        "  - package-ecosystem: pip\n    directory: /\n    schedule: {interval: weekly}\n"
        "  - package-ecosystem: npm\n    directory: /frontend\n    schedule: {interval: weekly}\n"
    )
    r = result(scan_only(make_repo("deps-monorepo", {DEPENDABOT: config}), CONTROL), CONTROL)
    assert r.status is Status.PARTIAL
    outcomes = located(r.findings)
    assert outcomes[("pip", "/")] is Outcome.POSITIVE
    assert outcomes[("gomod", "/services/worker")] is Outcome.NEGATIVE
    worker = next(f for f in r.findings if f.values.get("directory") == "/services/worker")
    assert "Go modules at /services/worker is not covered" in worker.message
    assert "no `gomod` entry for /services/worker" in worker.message
    assert "`- package-ecosystem: gomod` with `directory: /services/worker`" in worker.message
    assert r.remediation is not None


def test_no_configuration_at_all_fails(make_repo: MakeRepo) -> None:
    r = result(scan_only(make_repo(files={"go.mod": "module x\n"}), CONTROL), CONTROL)
    assert r.status is Status.FAIL
    (only,) = r.findings
    assert only.outcome is Outcome.NEGATIVE
    assert "no .github/dependabot.yml and no Renovate config" in only.message
    assert str(only.location) == "go.mod"


def test_dependabot_version_1_fails_citing_the_problem(make_repo: MakeRepo) -> None:
    config = "version: 1\nupdate_configs:\n  - package_manager: python\n    directory: /\n"
    report = scan_only(
        make_repo(files={"requirements.txt": "flask\n", DEPENDABOT: config}), CONTROL
    )
    r = result(report, CONTROL)
    assert r.status is Status.FAIL
    assert "`version` must be 2 (found 1)" in r.findings[0].message
    assert str(r.findings[0].location) == f"{DEPENDABOT}:1"
    assert any(p.path == DEPENDABOT for p in report.problems)


def test_nothing_to_update_is_not_applicable(make_repo: MakeRepo) -> None:
    r = result(scan_only(make_repo(files={"README.md": "# notes\n"}), CONTROL), CONTROL)
    assert r.status is Status.NOT_APPLICABLE
    assert r.remediation is None


def test_renovate_json5_with_enabled_managers_and_preset_ignore_paths(make_repo: MakeRepo) -> None:
    r = result(scan_only(make_repo("deps-renovate"), CONTROL), CONTROL)
    assert r.status is Status.PARTIAL
    outcomes = located(r.findings)
    assert outcomes == {
        ("npm", "/tests/e2e"): Outcome.NEGATIVE,
        ("npm", "/web"): Outcome.POSITIVE,
        ("gomod", "/"): Outcome.POSITIVE,
        ("docker", "/web"): Outcome.NEGATIVE,
        ("github-actions", "/"): Outcome.POSITIVE,
    }
    by_dir = {(f.values["ecosystem"], f.values["directory"]): f for f in r.findings}
    assert "enabledManagers leave out dockerfile" in by_dir[("docker", "/web")].message
    assert "preset config:recommended" in by_dir[("npm", "/tests/e2e")].message
    assert by_dir[("gomod", "/")].location is not None
    assert by_dir[("gomod", "/")].location.path == "renovate.json5"


def test_renovate_disabled_fails(make_repo: MakeRepo) -> None:
    files = {"go.mod": "module x\n", "renovate.json": '{"enabled": false}\n'}
    r = result(scan_only(make_repo(files=files), CONTROL), CONTROL)
    assert r.status is Status.FAIL
    assert "sets `enabled: false`" in r.findings[0].message


# --- facts: ecosystems ----------------------------------------------------------------------------


def test_pyproject_counts_only_when_it_declares_dependencies() -> None:
    assert dirs({"pyproject.toml": "[tool.ruff]\nline-length = 100\n"}) == {}
    assert dirs({"pyproject.toml": "[project]\nname = 'x'\ndependencies = []\n"}) == {"pip": ["/"]}
    poetry = "[tool.poetry.dependencies]\npython = '^3.11'\n"
    assert dirs({"api/pyproject.toml": poetry}) == {"pip": ["/api"]}
    assert dirs({"uv.lock": "version = 1\n"}) == {"pip": ["/"]}


def test_requirements_folder_belongs_to_its_parent() -> None:
    files: dict[str, str | bytes] = {
        "svc/requirements/base.txt": "",
        "svc/requirements/requirements-dev.txt": "",
    }
    assert dirs(files) == {"pip": ["/svc"]}


def test_vendored_and_nested_manifests() -> None:
    files: dict[str, str | bytes] = {
        "package.json": "{}",
        "node_modules/left-pad/package.json": "{}",
        "frontend/package.json": "{}",
        "frontend/admin/package.json": "{}",  # no workspaces: its own directory
    }
    assert dirs(files) == {"npm": ["/", "/frontend", "/frontend/admin"]}


def test_workspaces_yarn_form_and_cargo_members() -> None:
    files: dict[str, str | bytes] = {
        "package.json": json.dumps({"workspaces": {"packages": ["apps/**", "!apps/skip"]}}),
        "apps/web/package.json": "{}",
        "apps/tools/cli/package.json": "{}",
        "other/package.json": "{}",
        "Cargo.toml": '[workspace]\nmembers = ["crates/*"]\n',
        "crates/core/Cargo.toml": "[package]\nname = 'core'\n",
        "bench/Cargo.toml": "[package]\nname = 'bench'\n",
    }
    assert dirs(files) == {"npm": ["/", "/other"], "cargo": ["/", "/bench"]}


def test_gradle_settings_and_dotnet_solution_cover_nested_projects() -> None:
    files: dict[str, str | bytes] = {
        "settings.gradle.kts": 'include("app")\n',
        "build.gradle.kts": "",
        "app/build.gradle.kts": "",
        "samples/build.gradle": "",  # below the root settings file: the root entry covers it
        "dotnet/App.sln": "",
        "dotnet/src/App/App.csproj": "",
        "tools/Tool.csproj": "",
    }
    assert dirs(files) == {"gradle": ["/"], "nuget": ["/dotnet", "/tools"]}


def test_actions_compose_submodules_and_helm() -> None:
    files: dict[str, str | bytes] = {
        ".github/workflows/ci.yml": "on: push\njobs: {}\n",
        ".github/workflows/sub/ignored.yml": "on: push\n",
        "action.yml": "runs:\n  using: composite\n  steps:\n    - uses: actions/cache@v4\n",
        ".github/actions/local-only/action.yml": "runs:\n  using: composite\n  steps:\n    - run: echo\n",
        "deploy/compose.yaml": "services: {}\n",
        "vendor-ish/.gitmodules": "",  # a .gitmodules anywhere is read from the root by Git
        "charts/api/Chart.yaml": "apiVersion: v2\n",
        ".devcontainer/devcontainer.json": "{}",
    }
    assert dirs(files) == {
        "docker-compose": ["/deploy"],
        "github-actions": ["/"],
        "gitsubmodule": ["/"],
        "helm": ["/charts/api"],
        "devcontainers": ["/"],
    }


# --- facts: Dependabot and Renovate coverage ------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "directory", "expected"),
    [
        ("/", "/", True),
        ("/frontend", "/frontend/admin", False),
        ("/apps/*", "/apps/web", True),
        ("/apps/*", "/apps/web/admin", False),
        ("/apps/*", "/apps", False),
        ("/**", "/", True),
        ("/**", "/a/b/c", True),
        ("/packages/**/*", "/packages/a", True),
        ("/packages/**/*", "/packages", False),
        ("packages/*/", "/packages/x", True),
        ("/svc-*", "/svc-api", True),
        ("/" + "**/" * 100 + "x", "/x", False),  # absurdly long: matches nothing, quickly
    ],
)
def test_directory_globs(pattern: str, directory: str, expected: bool) -> None:
    assert ecosystems.dir_glob_matches(pattern, directory) is expected


def coverage_of(files: dict[str, str | bytes]) -> dict[tuple[str, str], Outcome]:
    return located(probe.run(facts_of(files)))


def test_directory_matching_is_precise_and_normalised() -> None:
    config = (
        "version: 2\nupdates:\n"
        "  - package-ecosystem: npm\n    directory: frontend/\n"
        "  - package-ecosystem: github-actions\n    directory: /.github/workflows\n"
    )
    files: dict[str, str | bytes] = {
        DEPENDABOT: config,
        "frontend/package.json": "{}",
        "frontend/admin/package.json": "{}",
        ".github/workflows/ci.yml": "on: push\n",
    }
    assert coverage_of(files) == {
        ("npm", "/frontend"): Outcome.POSITIVE,
        ("npm", "/frontend/admin"): Outcome.NEGATIVE,
        ("github-actions", "/"): Outcome.POSITIVE,
    }


def test_a_mistyped_entry_is_named_in_the_finding() -> None:
    config = "version: 2\nupdates:\n  - package-ecosystem: pipenv\n    directory: /\n"
    (f,) = probe.run(facts_of({DEPENDABOT: config, "Pipfile": ""}))
    assert f.outcome is Outcome.NEGATIVE
    assert "updates[0]: unknown package-ecosystem 'pipenv' (line 3)" in f.message


def test_uv_and_bun_entries_count_for_their_ecosystems() -> None:
    config = (
        "version: 2\nupdates:\n  - package-ecosystem: uv\n    directory: /\n"
        "  - package-ecosystem: bun\n    directory: /web\n"
    )
    files: dict[str, str | bytes] = {
        DEPENDABOT: config,
        "uv.lock": "",
        "web/package.json": "{}",
    }
    assert set(coverage_of(files).values()) == {Outcome.POSITIVE}


def test_renovate_in_package_json_and_submodules_default_off() -> None:
    pkg = json.dumps({"name": "x", "renovate": {"extends": ["config:recommended"]}})
    files: dict[str, str | bytes] = {"package.json": pkg, ".gitmodules": ""}
    found = coverage_of(files)
    assert found == {("npm", "/"): Outcome.POSITIVE, ("gitsubmodule", "/"): Outcome.NEGATIVE}
    on = json.dumps({"name": "x", "renovate": {"git-submodules": {"enabled": True}}})
    assert set(coverage_of({"package.json": on, ".gitmodules": ""}).values()) == {Outcome.POSITIVE}


def test_renovate_explicit_ignore_paths_and_disabled_manager() -> None:
    config = '{"ignorePaths": ["legacy/"], "docker-compose": {"enabled": false}}'
    files: dict[str, str | bytes] = {
        "renovate.json": config,
        "legacy/go.mod": "",
        "go.mod": "",
        "compose.yml": "",
    }
    assert coverage_of(files) == {
        ("gomod", "/"): Outcome.POSITIVE,
        ("gomod", "/legacy"): Outcome.NEGATIVE,
        ("docker-compose", "/"): Outcome.NEGATIVE,
    }


def test_dependabot_yaml_extension_and_policy_excluded_actions() -> None:
    files: dict[str, str | bytes] = {
        ".github/dependabot.yaml": "version: 2\nupdates:\n  - package-ecosystem: github-actions\n    directory: /\n",
        ".github/workflows/ci.yml": "on: push\n",
        "tests/fixtures/app/action.yml": "runs:\n  using: composite\n  steps:\n    - uses: actions/cache@v4\n",
    }
    facts = facts_of(files)
    facts.policy = replace(facts.policy, exclude=("tests/fixtures/**",))
    assert located(probe.run(facts)) == {("github-actions", "/"): Outcome.POSITIVE}


def test_renovate_first_config_file_wins() -> None:
    files: dict[str, str | bytes] = {
        "renovate.json": '{"enabled": false}',
        ".github/renovate.json": "{}",
        "go.mod": "",
    }
    configs = facts_of(files).get(dependabot.collect)
    assert configs.renovate is not None and configs.renovate.path == "renovate.json"
    assert not configs.renovate.enabled


def test_dependabot_and_renovate_either_covers() -> None:
    files: dict[str, str | bytes] = {
        DEPENDABOT: "version: 2\nupdates:\n  - package-ecosystem: npm\n    directory: /\n",
        ".renovaterc": "{enabledManagers: ['gomod']}",
        "package.json": "{}",
        "go.mod": "",
    }
    assert set(coverage_of(files).values()) == {Outcome.POSITIVE}


def test_json5_conversion() -> None:
    text = """// c
    {
      key: 'it\\'s "quoted"', /* block
      comment */ list: [1, 2,],
      "url": "https://example.org//x", $schema: 'a',
    }"""
    assert json.loads(dependabot.json5_to_json(text)) == {
        "key": 'it\'s "quoted"',
        "list": [1, 2],
        "url": "https://example.org//x",
        "$schema": "a",
    }


# --- hostile input -------------------------------------------------------------------------------


HOSTILE_YAML: list[str | bytes] = [
    b"\x00\x01\x02binary",
    b"version: 2\nupdates: \xff\xfe\n",
    "",
    "[]",
    "- just\n- a list\n",
    "version: '2'\nupdates: []\n",
    "version: true\nupdates: []\n",
    "version: 2\nupdates: {pip: /}\n",
    "version: 2\nupdates:\n  - 5\n  - package-ecosystem: [1]\n    directory: {a: b}\n",
    "version: 2\nupdates:\n  - package-ecosystem: pipenv\n    directory: /\n",
    "version: 2\nupdates:\n  - package-ecosystem: npm\n    directories: [1, null, '']\n",
    "version: 2\nversion: 2\n",
    "version: 2\nupdates: &a [*a]\n",
    "key: [unclosed\n",
    "\t- tab",
    "[" * 1000 + "]" * 1000,
    "version: 2\nupdates:\n" + "  - package-ecosystem: npm\n    directory: /x\n" * 2000,
]


@pytest.mark.parametrize("text", HOSTILE_YAML, ids=range(len(HOSTILE_YAML)))
def test_hostile_dependabot_files_never_raise(text: str | bytes) -> None:
    facts = facts_of({DEPENDABOT: text, "package.json": "{}"})
    (finding,) = probe.run(facts)
    assert finding.outcome in (Outcome.POSITIVE, Outcome.NEGATIVE, Outcome.UNKNOWN)
    if finding.outcome is Outcome.UNKNOWN:  # it could not be analysed: it says which and why
        assert DEPENDABOT in finding.message and facts.problem_for(DEPENDABOT) is not None


def test_malformed_dependabot_is_unknown_naming_the_problem() -> None:
    """Not read is not "covers nothing": what Dependabot makes of it is unknown (ADR 0010)."""
    facts = facts_of({DEPENDABOT: "version: 2\nupdates: [\n", "package.json": "{}"})
    (finding,) = probe.run(facts)
    assert finding.outcome is Outcome.UNKNOWN
    assert finding.message.startswith(f"{DEPENDABOT} cannot be analysed (is not valid YAML")
    assert finding.location is not None and (finding.location.path, finding.location.line) == (
        DEPENDABOT,
        3,
    )
    # A file that parses but is not what Dependabot reads still fails: that much is known.
    facts = facts_of({DEPENDABOT: "version: 1\nupdates: []\n", "package.json": "{}"})
    (finding,) = probe.run(facts)
    assert finding.outcome is Outcome.NEGATIVE and "`version` must be 2" in finding.message


HOSTILE_JSON: list[str | bytes] = [
    "{",
    "[1, 2]",
    "null",
    '"text"',
    '{"enabledManagers": 5, "ignorePaths": {"a": 1}}',
    '{"enabled": "no", "extends": 7}',
    "{'unterminated: 1}",
    "/* never closed",
    "{a: b c}",
    "[" * 100000,
    b"\xff\xfe{}",
    b"{\x00}",
    '{"renovate": []}',
    "{,}",
    '{"a": 1,,}',
]


@pytest.mark.parametrize("text", HOSTILE_JSON, ids=range(len(HOSTILE_JSON)))
def test_hostile_renovate_and_package_json_never_raise(text: str | bytes) -> None:
    for name in ("renovate.json", ".renovaterc.json5", "package.json"):
        files: dict[str, str | bytes] = {name: text, "go.mod": "", "apps/x/package.json": "{}"}
        findings = probe.run(facts_of(files))
        assert findings
        for f in findings:
            assert f.outcome in (Outcome.POSITIVE, Outcome.NEGATIVE, Outcome.UNKNOWN)
            assert f.outcome is not Outcome.UNKNOWN or name in f.message


@pytest.mark.parametrize(
    "text",
    ["[project\n", b"\xff", "project = 5\n", "[project]\ndependencies = 'x'\n", "x = [" * 3000],
)
def test_hostile_pyproject_and_cargo(text: str | bytes) -> None:
    files: dict[str, str | bytes] = {"pyproject.toml": text, "Cargo.toml": text, "a/Cargo.toml": ""}
    found = dirs(files)
    assert found.get("cargo", []) in (["/", "/a"], ["/"])


# --- properties ----------------------------------------------------------------------------------

FAST = settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=15), children, max_size=5)
    ),
    max_leaves=25,
)
dependabot_like = st.fixed_dictionaries(
    {
        "version": st.sampled_from([2, 1, "2", None]),
        "updates": st.lists(
            st.fixed_dictionaries(
                {
                    "package-ecosystem": st.sampled_from(["npm", "pip", "gomod", 3, None]),
                    "directory": st.sampled_from(["/", "/a", "a/*", "/**", "", 5]),
                    "directories": json_values,
                }
            ),
            max_size=4,
        )
        | json_values,
    },
)


@FAST
@given(st.text(max_size=300))
def test_json5_conversion_never_raises(text: str) -> None:
    out = dependabot.json5_to_json(text)
    assert isinstance(out, str)


@FAST
@given(st.text(max_size=300) | json_values.map(json.dumps))
def test_renovate_parsing_never_raises(text: str) -> None:
    findings = probe.run(facts_of({"renovate.json5": text, "package.json": text, "x/go.mod": ""}))
    assert findings


@FAST
@given(st.text(max_size=300) | dependabot_like.map(json.dumps) | json_values.map(json.dumps))
def test_dependabot_parsing_never_raises(text: str) -> None:
    findings = probe.run(facts_of({DEPENDABOT: text, "a/package.json": "{}", "go.mod": ""}))
    assert {f.values["directory"] for f in findings} == {"/", "/a"}


path_segment = st.text(alphabet="ab*?[]/.-_", min_size=1, max_size=6)


@FAST
@given(st.lists(path_segment, max_size=8), st.lists(path_segment, max_size=8))
def test_glob_matching_never_raises_and_double_star_matches_all(
    pattern: list[str], path: list[str]
) -> None:
    ecosystems.glob_matches(pattern, path)
    assert ecosystems.glob_matches(["**"], path)


@FAST
@given(
    st.lists(st.text(alphabet="abcp/.-_ACDGPRSmqjxtuolnkf", min_size=1, max_size=30), max_size=30),
    st.text(max_size=200),
)
def test_ecosystem_facts_never_raise(paths: list[str], text: str) -> None:
    files: dict[str, str | bytes] = {p.strip("/") or "x": text for p in paths}
    files.update({"package.json": text, "pyproject.toml": text, "Cargo.toml": text})
    found = facts_of(files).get(ecosystems.collect)
    for locations in found.values():
        assert [d.directory for d in locations] == sorted({d.directory for d in locations})


# --- the coverage index answers as testing every entry did -----------------------------------------


def first_covering_by_testing_every_entry(
    config: dependabot.DependabotConfig, spec: ecosystems.EcosystemSpec, directory: str
) -> dependabot.UpdateEntry | None:
    """What the index replaces: each directory tested against every entry, in file order."""
    return next((e for e in config.entries if dependabot._entry_covers(e, spec, directory)), None)


_DIR_SEGMENT = st.sampled_from(
    ["a", "b", "apps", "api", ".github", "workflows", "*", "**", "a*", "?", "[ab]", "x.y"]
)
_DIRECTORY = st.lists(_DIR_SEGMENT, max_size=4).map(lambda parts: "/" + "/".join(parts))
_ENTRY = st.tuples(
    st.sampled_from(["npm", "gomod", "github-actions", "docker", "pip", "uv"]),
    st.lists(
        _DIRECTORY | st.sampled_from(["", ".", "./apps/", "/.github/workflows"]),
        min_size=1,
        max_size=3,
    ),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_ENTRY, max_size=12), st.lists(_DIRECTORY, max_size=12))
def test_indexed_coverage_equals_testing_every_entry(
    entries: list[tuple[str, list[str]]], asked: list[str]
) -> None:
    config = dependabot.DependabotConfig(DEPENDABOT)
    for line, (ecosystem, raw) in enumerate(entries, start=3):
        directories = tuple(ecosystems.normalise_dir(d) for d in raw)
        config.entries.append(dependabot.UpdateEntry(DEPENDABOT, line, ecosystem, directories))
    for spec in ecosystems.specs().values():
        for directory in [*asked, "/", "/.github/workflows", "/apps/api"]:
            expected = first_covering_by_testing_every_entry(config, spec, directory)
            assert config.first_covering(spec, directory) == expected, (spec.name, directory)
