"""The models the shipped catalogues (`secposture/data/*.toml`) are validated against.

pydantic is imported here only: a scan whose catalogues match the digests the test suite recorded
(`data/catalogues.lock.json`) never loads this module; a catalogue that differs (an edited
install, a file the lock does not know) is validated against its model before anything reads it.
Regenerate the lock after editing a catalogue: `python -m secposture.catalogue_schema --lock`.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tomllib
from importlib import resources
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from secposture.catalogue import LOCK_FILE, CatalogueError

Strs = list[str]
LevelName = Literal["required", "recommended", "extra"]


class _Table(BaseModel):
    # strict and closed: a shipped catalogue says exactly what it means, and a misspelt key is an
    # error rather than a setting silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, defer_build=True)


# --- controls.toml ------------------------------------------------------------------------------


class ControlSpec(_Table):
    """A control of the baseline: its probes, how their findings combine, and its level."""

    id: str  # its key in the file, set when the file loads
    title: str = Field(min_length=1)
    level: LevelName
    guidance: str
    probes: Strs = Field(min_length=1)
    remediation: str
    rule: Literal["coverage", "strict"] = "coverage"
    enabled: bool = True
    # Only the controls that are a dated duty (threat-model review, ITHC) have one.
    interval_months: int | None = Field(default=None, ge=1, le=120)


class ControlsFile(_Table):
    controls: dict[str, ControlSpec]

    @model_validator(mode="before")
    @classmethod
    def _ids_from_keys(cls, data: Any) -> Any:
        # Each control's id is its table's key: written once in the file, carried by the model.
        if isinstance(data, dict) and isinstance(data.get("controls"), dict):
            controls = {
                key: {**entry, "id": key} if isinstance(entry, dict) else entry
                for key, entry in data["controls"].items()
            }
            return {**data, "controls": controls}
        return data


# --- the other catalogues -----------------------------------------------------------------------


class ActionPinsRepository(_Table):
    as_of: str
    tags: dict[str, str]


class ActionPinsFile(_Table):
    recorded_on: str
    repositories: dict[str, ActionPinsRepository]


class AdrFile(_Table):
    folders: Strs
    folder_words: Strs
    extensions: Strs
    not_adrs: Strs
    template_words: Strs
    madr_keys: Strs
    decision_headings: Strs
    context_headings: Strs
    undecided_statuses: Strs
    decided_statuses: Strs
    template_statuses: int
    signpost_words: int
    security_tags: Strs
    keywords: Strs
    weak_keywords: Strs


class TerraformScanning(_Table):
    repository_resource: str
    registry_scanning_resource: str
    module_source: str
    module_scan_off: str


class ContainersFile(_Table):
    build_files: Strs
    build_commands: Strs
    build_actions: Strs
    build_templates: Strs
    partial_purposes: Strs
    terraform: TerraformScanning


class SetAside(_Table):
    test_data_dirs: Strs
    example_dirs: Strs
    top_example_dirs: Strs
    package_dirs: Strs
    test_dirs: Strs
    dirs_in_tests: Strs
    files_in_tests: Strs
    manifests_in_test_subfolders: bool
    development_dirs: Strs
    development_files: Strs
    keep: Strs


class DefaultsFile(_Table):
    excluded_dirs: Strs
    max_file_bytes: int = Field(ge=1)
    max_test_files_read: int = Field(ge=0)
    set_aside: SetAside


class Workspace(_Table):
    file: str
    format: str
    key: str


class EcosystemSpec(_Table):
    label: str
    manifests: Strs
    dependabot: Strs
    renovate: Strs
    declares: dict[str, Strs] = Field(default_factory=dict)
    workspace: Workspace | None = None
    ancestor_covers: Strs = Field(default_factory=list)
    directory_aliases: dict[str, str] = Field(default_factory=dict)
    renovate_default_enabled: bool = True
    root_only: bool = False


class DependabotEcosystems(_Table):
    other_ecosystems: Strs


class RenovateSettings(_Table):
    config_files: Strs
    ignoring_presets: Strs
    preset_ignore_paths: Strs


class EcosystemsFile(_Table):
    ecosystems: dict[str, EcosystemSpec]
    dependabot: DependabotEcosystems
    renovate: RenovateSettings


class Pin(_Table):
    sha: str = Field(pattern=r"^[0-9a-f]{40}$")
    version: str


class FrozenRev(_Table):
    rev: str
    sha: str = Field(pattern=r"^[0-9a-f]{40}$")


class FixPinsFile(_Table):
    actions: dict[str, Pin]
    action_releases: dict[str, list[Pin]]
    precommit: dict[str, str]
    precommit_frozen: dict[str, FrozenRev]
    pypi: dict[str, str]
    runtimes: dict[str, str]


class HookTemplate(_Table):
    repo: str
    id: str
    purpose: str | None = None
    args: Strs = Field(default_factory=list)


class CiStep(_Table):
    name: str
    run: str
    setup: str | None = None
    pip: Strs = Field(default_factory=list)
    per_directory: str | None = None


class LanguageFix(_Table):
    hooks: Strs
    ci: Strs
    extensions: Strs


class DependabotTemplate(_Table):
    schedule: str
    by_manifest: dict[str, str]


class WorkflowTemplate(_Table):
    path: str
    name: str
    branches: Strs
    runner: str
    trivy_severity: str
    max_images: int = Field(ge=1)


class ImageScanTemplate(_Table):
    test_only_words: Strs
    release_stages: Strs
    step_name: str


class FixTemplatesFile(_Table):
    secret_detector: str
    hooks: dict[str, HookTemplate]
    ci_steps: dict[str, CiStep]
    languages: dict[str, LanguageFix]
    dependabot: DependabotTemplate
    workflow: WorkflowTemplate
    image_scan: ImageScanTemplate
    files: dict[str, str]


class LanguageSpec(_Table):
    tags: Strs
    infrastructure: bool = False
    path_patterns: Strs = Field(default_factory=list)
    path_suffixes: Strs = Field(default_factory=list)
    static_analysis: bool = True


class LanguagesFile(_Table):
    languages: dict[str, LanguageSpec]


class OwaspCategory(_Table):
    id: str
    title: str
    url: str
    keywords: Strs
    questions: Strs
    keywords_from: Strs = Field(default_factory=list)


class OwaspFile(_Table):
    editions: dict[str, str]
    questions: dict[str, str]
    category: list[OwaspCategory]


class PatchDays(_Table):
    critical: int = Field(ge=1)
    high: int = Field(ge=1)
    medium: int = Field(ge=1)
    low: int = Field(ge=1)


class PatchScheduleFile(_Table):
    patch_days: PatchDays


class SarifSettings(_Table):
    security_severity: dict[LevelName, str]
    result_level: dict[LevelName, str]
    fallback: str
    locations: dict[str, str]


class MarkdownSettings(_Table):
    max_chars: int = Field(ge=1)


class ReportFormatsFile(_Table):
    sarif: SarifSettings
    markdown: MarkdownSettings


class RunnerCommands(_Table):
    ignore: Strs


class Runner(_Table):
    kind: str
    languages: dict[str, Strs] = Field(default_factory=dict)
    env_prefix: str | None = None
    not_validators: Strs = Field(default_factory=list)
    validators: dict[str, Strs] = Field(default_factory=dict)
    linters: dict[str, Strs] = Field(default_factory=dict)
    flavors: dict[str, Strs] = Field(default_factory=dict)


class RunnersFile(_Table):
    commands: RunnerCommands
    runners: dict[str, Runner]


class RegexFilters(_Table):
    file: str
    line: str
    secret: str


class SecretsFile(_Table):
    baseline: str
    default_disabled_plugins: Strs
    default_filters: Strs
    supported_filters: Strs
    regex_filters: RegexFilters
    plugin_parameters: Strs
    max_reported: int = Field(ge=1)
    prefilter_words: dict[str, Strs]


class SecurityTestCategory(_Table):
    name: str
    assertion: str | None = None
    assertion_text: str | None = None


class InfrastructureTests(_Table):
    policy_test_globs: Strs
    policy_globs: Strs
    tflint_tool: str
    tflint_configs: Strs
    tflint_rules_plugin: str


class SecurityTestsFile(_Table):
    test_globs: Strs
    code_suffixes: Strs
    priority_words: Strs
    enough_files: int = Field(ge=1)
    upgrade_reads: int = Field(ge=0)
    example_folders: Strs
    negation: str
    assertion_lines: int = Field(ge=1)
    categories: dict[str, SecurityTestCategory]
    infrastructure: InfrastructureTests


class SharedStep(_Table):
    model_config = ConfigDict(populate_by_name=True)

    uses: str | None = None
    with_: dict[str, str] = Field(default_factory=dict, alias="with")
    run: str | None = None
    if_: str | None = Field(default=None, alias="if")


class SharedReference(_Table):
    uses: str
    seen: str
    inputs: dict[str, str] = Field(default_factory=dict)
    runs: list[SharedStep]


class SharedHooks(_Table):
    repo: str
    seen: str
    hooks: dict[str, str]


class SharedActionsFile(_Table):
    leaf_actions: Strs
    leaf_name_patterns: Strs
    leaf_hook_repos: Strs
    references: list[SharedReference]
    hooks: list[SharedHooks]


class TemplatesFile(_Table):
    pr_templates: Strs
    pr_template_folders: Strs
    issue_template_folders: Strs
    issue_templates: Strs
    not_templates: Strs
    security: Strs
    redirects: Strs
    not_questions: Strs
    owasp_top10: Strs


class ThreatModelFile(_Table):
    locations: Strs
    review_keys: Strs
    pytm_names: Strs
    threagile_names: Strs
    threat_dragon_names: Strs
    otm_names: Strs
    generated_placeholder: str
    max_files_read: int = Field(ge=1)
    not_in_folders: Strs
    placeholders: Strs
    tool_sources: dict[str, Strs]


class ToolSpec(_Table):
    """A tool the scan recognises; the fields are those of `policy.Tool`."""

    id: str = Field(min_length=1)
    languages: Strs = Field(default_factory=list)
    purposes: Strs = Field(default_factory=lambda: ["static-analysis"])
    precommit_hooks: Strs = Field(default_factory=list)
    precommit_repos: Strs = Field(default_factory=list)
    actions: Strs = Field(default_factory=list)
    commands: Strs = Field(default_factory=list)
    ide_extensions: Strs = Field(default_factory=list)
    config_files: Strs = Field(default_factory=list)
    config_keys: Strs = Field(default_factory=list)
    ci_templates: Strs = Field(default_factory=list)
    action_inputs: Strs = Field(default_factory=list)
    ide_settings: Strs = Field(default_factory=list)
    jetbrains: Strs = Field(default_factory=list)
    weak: bool = False


class BuildPlugin(_Table):
    tool: str
    gradle: Strs = Field(default_factory=list)
    maven: Strs = Field(default_factory=list)
    maven_goals: Strs = Field(default_factory=list)
    sbt: Strs = Field(default_factory=list)
    sbt_keys: Strs = Field(default_factory=list)


class HookFilter(_Table):
    repo: str
    hook: str
    types: Strs


class ToolsFile(_Table):
    tools: list[ToolSpec]
    build_plugins: list[BuildPlugin]
    hook_filters: list[HookFilter]


class TokenNeed(_Table):
    model_config = ConfigDict(populate_by_name=True)

    scopes: Strs
    why: str
    uses: str | None = None
    run: str | None = None
    with_: dict[str, str] = Field(default_factory=dict, alias="with")


class WorkflowSecurityFile(_Table):
    privileged_triggers: Strs
    checkout_actions: Strs
    checkout_ref_inputs: Strs
    untrusted_refs: Strs
    untrusted_ref_literals: Strs
    checkout_commands: Strs
    always_untrusted_commands: Strs
    untrusted_contexts: Strs
    script_actions: Strs
    script_inputs: Strs
    token_free_actions: Strs
    token_taking_actions: Strs
    token_needs: list[TokenNeed]


M = TypeVar("M", bound=_Table)

# Every file in secposture/data/ and its model (tests/test_catalogues.py checks none is missing).
MODELS: dict[str, type[_Table]] = {
    "action_pins": ActionPinsFile,
    "adr": AdrFile,
    "containers": ContainersFile,
    "controls": ControlsFile,
    "defaults": DefaultsFile,
    "ecosystems": EcosystemsFile,
    "fix_pins": FixPinsFile,
    "fix_templates": FixTemplatesFile,
    "languages": LanguagesFile,
    "owasp_top10": OwaspFile,
    "patch_schedule": PatchScheduleFile,
    "report_formats": ReportFormatsFile,
    "runners": RunnersFile,
    "secrets": SecretsFile,
    "security_tests": SecurityTestsFile,
    "shared_actions": SharedActionsFile,
    "templates": TemplatesFile,
    "threat_model": ThreatModelFile,
    "tools": ToolsFile,
    "workflow_security": WorkflowSecurityFile,
}


def parse(name: str, text: str, model: type[M]) -> tuple[dict[str, Any], M]:
    """A catalogue's text, parsed and validated: its table and its model.

    A file that is not TOML, or does not match its model, is a CatalogueError naming the file
    (`data/NAME.toml`) and each key at fault."""
    origin = f"data/{name}.toml"
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{origin}: not valid TOML: {exc}") from None
    try:
        return table, model.model_validate(table)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '(file)'}: {error['msg']}"
            for error in exc.errors()
        )
        raise CatalogueError(f"{origin}: invalid catalogue: {problems}") from None


def write_lock() -> dict[str, str]:
    """Validate every shipped catalogue and record its digest in the lock; the digests."""
    data = resources.files("secposture.data")
    digests: dict[str, str] = {}
    for name, model in sorted(MODELS.items()):
        raw = data.joinpath(f"{name}.toml").read_bytes()
        parse(name, raw.decode("utf-8"), model)
        digests[name] = hashlib.sha256(raw).hexdigest()
    return digests


if __name__ == "__main__":
    if sys.argv[1:] != ["--lock"]:
        raise SystemExit("usage: python -m secposture.catalogue_schema --lock")
    lock = resources.files("secposture.data").joinpath(LOCK_FILE)
    with resources.as_file(lock) as path:
        path.write_text(json.dumps(write_lock(), indent=2, sort_keys=True) + "\n", "utf-8")
    print(f"validated and locked {len(MODELS)} catalogues")
