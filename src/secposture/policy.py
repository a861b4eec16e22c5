"""The policy file: `secposture.toml`, or `[tool.secposture]` in pyproject.toml.

It enables or disables controls, sets their levels and intervals, excludes paths, adds tools to the
catalogue and records waivers. The file is validated with pydantic (imported only when a policy file
exists, to keep a plain scan's start-up fast); an invalid file is an error that names the key.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache
from typing import TYPE_CHECKING, Any

from secposture import catalogue
from secposture.errors import PolicyError
from secposture.model import Level

if TYPE_CHECKING:
    from secposture.sources.interface import Snapshot

POLICY_FILE = "secposture.toml"
PYPROJECT = "pyproject.toml"


@dataclass(frozen=True)
class Tool:
    """A catalogue entry: how to recognise a tool in pre-commit, CI and the IDE."""

    id: str
    languages: tuple[str, ...] = ()  # "*" = every language (multi-tool runners)
    purposes: tuple[str, ...] = ("static-analysis",)
    precommit_hooks: tuple[str, ...] = ()  # hook ids
    precommit_repos: tuple[str, ...] = ()  # "owner/repo" of a hook repository
    actions: tuple[str, ...] = ()  # "owner/repo[/path]" of a GitHub Action
    commands: tuple[str, ...] = ()  # regular expressions over commands run in CI or by a hook
    ide_extensions: tuple[str, ...] = ()  # VS Code extension ids
    config_files: tuple[str, ...] = ()  # globs of configuration files IDE integrations read
    # Optional, added for CI, IDE and scanner recognition (all default to "not used"):
    config_keys: tuple[
        str, ...
    ] = ()  # "FILE:dotted.key": pyproject.toml:tool.ruff, setup.cfg:flake8
    ci_templates: tuple[str, ...] = ()  # GitLab include templates/components, CircleCI orbs
    action_inputs: tuple[str, ...] = ()  # "input=v1|v2" all must hold; "=" alone: unset; "=*": set
    ide_settings: tuple[str, ...] = ()  # VS Code settings keys, "key" (not false) or "key=value"
    jetbrains: tuple[str, ...] = ()  # names in .idea/*.xml (plugin ids, components, inspections)
    weak: bool = False  # recognised, but covers the purpose only in part (detect-private-key)


@dataclass(frozen=True)
class ControlSettings:
    id: str
    title: str
    level: Level
    guidance: str
    probes: tuple[str, ...]
    remediation: str
    rule: str = "coverage"
    enabled: bool = True
    interval_months: int | None = None


@dataclass(frozen=True)
class Waiver:
    control: str
    reason: str
    approver: str
    expires: date
    origin: str = "policy file"

    def expired(self, today: date) -> bool:
        return self.expires < today


@dataclass(frozen=True)
class Policy:
    controls: dict[str, ControlSettings]
    tools: tuple[Tool, ...]
    waivers: tuple[Waiver, ...] = ()
    exclude: tuple[str, ...] = ()
    excluded_dirs: frozenset[str] = frozenset()
    ignore_languages: frozenset[str] = frozenset()
    max_file_bytes: int = 1024 * 1024
    max_test_files_read: int = 2000
    fail_on: str | None = None
    origin: str | None = None  # the file it came from, for messages
    extra: dict[str, Any] = field(default_factory=dict)

    def enabled_controls(self) -> list[ControlSettings]:
        return [c for c in self.controls.values() if c.enabled]


def _tool_from_dict(d: dict[str, Any]) -> Tool:
    fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
    return Tool(**fields)


def default_policy() -> Policy:
    """The baseline as shipped: every control at its catalogue level, no waivers."""
    controls, tools = _baseline()
    defaults = catalogue.load("defaults")
    return Policy(
        controls=dict(controls),
        tools=tools,
        excluded_dirs=frozenset(defaults["excluded_dirs"]),
        max_file_bytes=defaults["max_file_bytes"],
        max_test_files_read=defaults["max_test_files_read"],
    )


@cache
def _baseline() -> tuple[dict[str, ControlSettings], tuple[Tool, ...]]:
    # Built once per process: an estate scan loads the baseline for every repository, and the same
    # tools tuple (the same object) lets per-tool-set caches answer without hashing 80 tools.
    controls = {
        cid: ControlSettings(
            id=cid,
            title=c["title"],
            level=Level(c["level"]),
            guidance=c["guidance"],
            probes=tuple(c["probes"]),
            remediation=c["remediation"],
            rule=c.get("rule", "coverage"),
            enabled=c.get("enabled", True),
            interval_months=c.get("interval_months"),
        )
        for cid, c in catalogue.load("controls")["controls"].items()
    }
    tools = tuple(_tool_from_dict(t) for t in catalogue.load("tools")["tools"])
    return controls, tools


def find_policy_text(snapshot: Snapshot) -> tuple[str, dict[str, Any]] | None:
    """The policy table and the file it came from, if the repository has one."""
    for name in (POLICY_FILE, PYPROJECT):
        if name not in snapshot.paths:
            continue
        from secposture.sources.interface import UnreadableFile

        try:
            text = snapshot.read_text(name)
        except UnreadableFile as exc:
            raise PolicyError(f"{name} {exc}") from None
        data = _parse_toml(name, text)
        if name == POLICY_FILE:
            return name, data
        table = _tool_table(name, data)
        if table is not None:
            return f"{name} [tool.secposture]", table
    return None


def _tool_table(name: str, data: dict[str, Any]) -> dict[str, Any] | None:
    """`[tool.secposture]` of a pyproject.toml, None when absent; an error when not a table."""
    tool = data.get("tool")
    if not isinstance(tool, dict) or "secposture" not in tool:
        return None
    table = tool["secposture"]
    if not isinstance(table, dict):
        raise PolicyError(f"{name}: tool.secposture: must be a table")
    return table


def _parse_toml(name: str, text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{name}: not valid TOML: {exc}") from None


def load_policy_file(path: str, text: str) -> Policy:
    """A policy from an explicit file (`--policy`): secposture.toml or a pyproject.toml."""
    data = _parse_toml(path, text)
    table = _tool_table(path, data)
    if table is not None:
        return apply_policy(default_policy(), table, f"{path} [tool.secposture]")
    if path.replace("\\", "/").rsplit("/", 1)[-1] == PYPROJECT:
        raise PolicyError(f"{path}: has no [tool.secposture] table")
    return apply_policy(default_policy(), data, path)


def load_policy(snapshot: Snapshot) -> Policy:
    found = find_policy_text(snapshot)
    base = default_policy()
    if found is None:
        return base
    origin, data = found
    return apply_policy(base, data, origin)


def apply_policy(base: Policy, data: dict[str, Any], origin: str) -> Policy:
    """Validate a policy table and lay it over the shipped baseline."""
    from secposture import policy_schema

    parsed = policy_schema.validate(data, origin, known_controls=set(base.controls))
    controls = dict(base.controls)
    for cid, override in parsed.controls.items():
        changes = override.model_dump(exclude_none=True)
        if "level" in changes:
            changes["level"] = Level(changes["level"])
        if "interval_months" in changes and controls[cid].interval_months is None:
            with_interval = ", ".join(c.id for c in controls.values() if c.interval_months)
            raise PolicyError(
                f"{origin}: controls.{cid}.interval_months: {cid} has no review interval "
                f"(controls with one: {with_interval})"
            )
        controls[cid] = replace(controls[cid], **changes)
    added = tuple(_tool_from_dict(t.model_dump()) for t in parsed.tools)
    waivers = tuple(
        Waiver(w.control, w.reason, w.approver, w.expires, origin) for w in parsed.waivers
    )
    limits = parsed.limits
    return replace(
        base,
        controls=controls,
        tools=base.tools + added,
        waivers=waivers,
        exclude=tuple(parsed.exclude),
        ignore_languages=frozenset(parsed.static_analysis.ignore_languages),
        max_file_bytes=_given(limits.max_file_bytes, base.max_file_bytes),
        max_test_files_read=_given(limits.max_test_files_read, base.max_test_files_read),
        fail_on=parsed.fail_on,
        origin=origin,
    )


def _given(value: int | None, default: int) -> int:
    # `or` would turn an explicit 0 (read no test files) back into the default.
    return default if value is None else value
