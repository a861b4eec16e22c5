"""The policy file: `secposture.toml`, or `[tool.secposture]` in pyproject.toml.

It enables or disables controls, sets their levels and intervals, excludes paths, adds tools to the
catalogue and records waivers. The file is validated with pydantic (imported only when a policy file
exists, to keep a plain scan's start-up fast); an invalid file is an error that names the key.

A scanned repository's own file is hostile input (docs/adr/0011-*.md): over the operator's policy
it may tighten, and loosen only with the operator's leave (`[repository_policy] allow`); every
setting it asks for is reported, applied or refused.
"""

from __future__ import annotations

import tomllib
import typing
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from secposture import catalogue
from secposture.errors import PolicyError
from secposture.model import Level, PolicyChange, RepositoryPolicy

if TYPE_CHECKING:
    from secposture.policy_schema import ControlOverride, PolicyFile
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
    # The policy file that added it (its patterns run on RE2); None: the shipped catalogue.
    origin: str | None = None


@dataclass(frozen=True)
class SharedAction:
    """A policy's entry in the catalogue of shared actions (data/shared_actions.toml): what a
    reusable workflow or action of another repository (`uses`), or the hooks of a hook
    repository (`hooks`: id -> command), run, for scans that cannot read them (ADR 0014)."""

    uses: str  # owner/repo[/path]; for hooks, owner/repo
    runs: tuple[str, ...] = ()
    inputs: tuple[tuple[str, str], ...] = ()
    hooks: tuple[tuple[str, str], ...] = ()
    origin: str | None = None


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
    # Globs that put back into the product what the defaults set aside as test data or examples.
    include: tuple[str, ...] = ()
    ignore_languages: frozenset[str] = frozenset()
    max_file_bytes: int = 1024 * 1024
    max_test_files_read: int = 2000
    fail_on: str | None = None
    origin: str | None = None  # the file it came from, for messages
    # What a scanned repository's own policy file may loosen (PERMISSIONS; docs/adr/0011-*.md).
    repository_allow: frozenset[str] = frozenset()
    pinned: frozenset[str] = frozenset()  # keys the command line set: no policy file changes them
    # Entries added to the catalogue of shared actions (ADR 0014).
    shared_actions: tuple[SharedAction, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def enabled_controls(self) -> list[ControlSettings]:
        return [c for c in self.controls.values() if c.enabled]

    def interval_months(self, control_id: str) -> int:
        """A dated duty's review interval (threat-model, ithc): the policy's, which starts as
        the controls catalogue's (data/controls.toml) and a policy file may change."""
        control = self.controls.get(control_id)
        months = control.interval_months if control is not None else None
        return months or catalogue.interval_months(control_id)


def _tool_from_dict(d: dict[str, Any]) -> Tool:
    fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
    return Tool(**fields)


def default_policy() -> Policy:
    """The baseline as shipped: every control at its catalogue level, no waivers."""
    controls, tools = _baseline()
    # The tables, not the models: a scan reads the validated catalogues without pydantic.
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
            title=c.title,
            level=Level(c.level),
            guidance=c.guidance,
            probes=tuple(c.probes),
            remediation=c.remediation,
            rule=c.rule,
            enabled=c.enabled,
            interval_months=c.interval_months,
        )
        for cid, c in catalogue.controls().items()
    }
    tools = tuple(_tool_from_dict(t) for t in catalogue.load("tools")["tools"])
    return controls, tools


# --- reading a policy file ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Found:
    """A repository's policy file: its table, or why it cannot be used."""

    path: str  # "secposture.toml" or "pyproject.toml"
    origin: str  # for messages: "pyproject.toml [tool.secposture]"
    table: dict[str, Any] | None
    message: str = ""  # unusable: the whole error, as a --policy file's would read
    reason: str = ""  # unusable: the same without the file's name, for a problem recorded on it
    # Unusable, and certainly the user's own secposture settings (not a pyproject.toml that
    # merely cannot be read): an error in a scan that trusts the file.
    fatal: bool = False


def _find(snapshot: Snapshot) -> _Found | None:
    """The repository's policy: secposture.toml, else pyproject.toml's [tool.secposture]."""
    from secposture.sources.interface import UnreadableFile

    for name in (POLICY_FILE, PYPROJECT):
        if name not in snapshot.paths:
            continue
        own_file = name == POLICY_FILE
        try:
            data = _loads(snapshot.read_text(name))
        except UnreadableFile as exc:
            return _unusable(name, name, f"{name} {exc}", f"{name} ", fatal=own_file)
        except ValueError as exc:
            return _unusable(name, name, f"{name}: {exc}", f"{name}: ", fatal=own_file)
        if own_file:
            return _Found(name, name, data)
        origin = f"{name} [tool.secposture]"
        tool = data.get("tool")
        if not isinstance(tool, dict) or "secposture" not in tool:
            continue
        if not isinstance(tool["secposture"], dict):
            message = f"{name}: tool.secposture: must be a table"
            return _unusable(name, origin, message, f"{name}: ", fatal=True)
        return _Found(name, origin, tool["secposture"])
    return None


def _unusable(path: str, origin: str, message: str, prefix: str, *, fatal: bool) -> _Found:
    reason = message.removeprefix(prefix)
    if path == PYPROJECT and origin == path:
        reason += "; any [tool.secposture] in it was not applied"
    else:
        reason += "; its policy was not applied"
    return _Found(path, origin, None, message, reason, fatal)


def find_policy_text(snapshot: Snapshot) -> tuple[str, dict[str, Any]] | None:
    """The policy table and the file it came from, if the repository has one; PolicyError when
    the file cannot be read."""
    found = _find(snapshot)
    if found is None:
        return None
    if found.table is None:
        raise PolicyError(found.message)
    return found.origin, found.table


def _tool_table(name: str, data: dict[str, Any]) -> dict[str, Any] | None:
    """`[tool.secposture]` of a pyproject.toml, None when absent; an error when not a table."""
    tool = data.get("tool")
    if not isinstance(tool, dict) or "secposture" not in tool:
        return None
    table = tool["secposture"]
    if not isinstance(table, dict):
        raise PolicyError(f"{name}: tool.secposture: must be a table")
    return table


def _loads(text: str) -> dict[str, Any]:
    """TOML text as a table; ValueError saying what is wrong."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"not valid TOML: {exc}") from None
    except RecursionError:
        # tomllib recurses per nested array or inline table: 3,000 `[` exhaust the stack.
        raise ValueError("not valid TOML: arrays or tables nested too deeply to read") from None


def _parse_toml(name: str, text: str) -> dict[str, Any]:
    try:
        return _loads(text)
    except ValueError as exc:
        raise PolicyError(f"{name}: {exc}") from None


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
    """The repository's own policy over the baseline, applied in full; PolicyError when it
    cannot be read or is invalid (see resolve_policy for a scan that records that instead)."""
    found = find_policy_text(snapshot)
    base = default_policy()
    if found is None:
        return base
    origin, data = found
    return apply_policy(base, data, origin)


@dataclass(frozen=True)
class ResolvedPolicy:
    """The policy a repository is scanned with, and what its own policy file did."""

    policy: Policy
    own: RepositoryPolicy | None


def resolve_policy(
    snapshot: Snapshot, operator: Policy, *, trusted: bool = False
) -> ResolvedPolicy:
    """The repository's own policy file laid over the operator's policy (docs/adr/0011-*.md).

    Untrusted (the default: an estate, OWNER/REPO, or any scan given --policy): the file may
    tighten; it loosens only where `operator.repository_allow` says, and an unusable file is
    recorded on the repository while `operator` applies. Trusted (a local checkout scanned
    without --policy, whose file is the user's own): every setting applies, and an invalid
    secposture.toml or [tool.secposture] is a PolicyError, as a bad --policy file is. A
    pyproject.toml that cannot be read at all is recorded either way: it may hold no policy.
    Settings the command line pinned never change.
    """
    found = _find(snapshot)
    if found is None:
        return ResolvedPolicy(operator, None)
    if found.table is None:
        if trusted and found.fatal:
            raise PolicyError(found.message)
        own = RepositoryPolicy(found.path, found.origin, trusted, error=found.reason)
        return ResolvedPolicy(operator, own)
    from secposture import policy_schema

    try:
        parsed = policy_schema.validate(found.table, found.origin, set(operator.controls))
        allow = None if trusted else operator.repository_allow
        policy, changes = _layer(operator, parsed, found.origin, allow)
    except PolicyError as exc:
        if trusted:
            raise
        reason = str(exc).removeprefix(f"{found.origin}: ") + "; its policy was not applied"
        own = RepositoryPolicy(found.path, found.origin, trusted, error=reason)
        return ResolvedPolicy(operator, own)
    own = RepositoryPolicy(found.path, found.origin, trusted, tuple(changes))
    return ResolvedPolicy(policy, own)


# --- laying a policy over another ---------------------------------------------------------------

# What the operator's policy may let a repository's own policy loosen (docs/adr/0011-*.md).
Permission = Literal[
    "disable",
    "levels",
    "intervals",
    "waivers",
    "exclude",
    "tools",
    "ignore_languages",
    "limits",
    "fail_on",
]
PERMISSIONS: tuple[str, ...] = typing.get_args(Permission)
# --fail-on thresholds from the most lenient: `recommended` fails on more controls than `required`.
_FAIL_ON_STRICTNESS = {"never": 0, "required": 1, "recommended": 2}
# Keys the command line sets (--max-file-size, --deep): no policy file changes them.
PIN_MAX_FILE_BYTES = "limits.max_file_bytes"
PIN_DEEP = "controls.secrets-in-tree.enabled"


def apply_policy(base: Policy, data: dict[str, Any], origin: str) -> Policy:
    """Validate a policy table and lay it over `base` in full (the operator's own file)."""
    from secposture import policy_schema

    parsed = policy_schema.validate(data, origin, known_controls=set(base.controls))
    policy, _changes = _layer(base, parsed, origin, None)
    return policy


class _Changes:
    """The settings a file asks for, each applied or refused with the reason."""

    def __init__(self, base: Policy, allow: frozenset[str] | None) -> None:
        self.base = base
        self.allow = allow  # None: everything applies
        self.items: list[PolicyChange] = []

    def decide(self, key: str, value: str, was: str | None, needs: str | None) -> bool:
        """Whether the setting applies; recorded either way. `needs`: None when it tightens."""
        if key in self.base.pinned:
            reason = "set on the command line"
        elif needs is None or self.allow is None or needs in self.allow:
            reason = ""
        else:
            reason = (
                "a repository's own policy may not loosen this unless the operator's policy "
                f"(--policy) allows '{needs}' in [repository_policy] allow"
            )
        self.items.append(PolicyChange(key, value, was, needs, not reason, reason))
        return not reason


def _text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _layer(
    base: Policy, parsed: PolicyFile, origin: str, allow: frozenset[str] | None
) -> tuple[Policy, list[PolicyChange]]:
    """`parsed` (from `origin`) over `base`. `allow` None: every setting applies (the operator's
    file, or a trusted checkout's); otherwise a setting that loosens applies only when its
    permission is in `allow`. Returns the policy and every setting that changes something."""
    changes = _Changes(base, allow)
    controls = dict(base.controls)
    for cid, override in parsed.controls.items():
        controls[cid] = _layer_control(changes, controls[cid], override, origin)
    waivers = list(base.waivers)
    for i, w in enumerate(parsed.waivers):
        shown = f"{w.control} until {w.expires}: {w.reason} (approved by {w.approver})"
        if changes.decide(f"waivers[{i}]", shown, None, "waivers"):
            waivers.append(Waiver(w.control, w.reason, w.approver, w.expires, origin))
    exclude = list(base.exclude)
    for i, glob in enumerate(parsed.exclude):
        if glob not in exclude and changes.decide(f"exclude[{i}]", glob, None, "exclude"):
            exclude.append(glob)
    include = list(base.include)
    for i, glob in enumerate(parsed.include):
        # Counting more files as the product hides none from any control: it only tightens.
        if glob not in include and changes.decide(f"include[{i}]", glob, None, None):
            include.append(glob)
    tools = list(base.tools)
    for i, entry in enumerate(parsed.tools):
        if changes.decide(f"tools[{i}]", entry.id, None, "tools"):
            tools.append(replace(_tool_from_dict(entry.model_dump()), origin=origin))
    shared = list(base.shared_actions)
    # An entry says what a reference runs: it can make a control pass, as a tool's pattern
    # can, so a repository's own policy needs the same leave (ADR 0014).
    for i, action in enumerate(parsed.shared_actions):
        if changes.decide(f"shared_actions[{i}]", action.uses, None, "tools"):
            shared.append(_shared_from(action, origin))
    for i, hooks in enumerate(parsed.shared_hooks):
        if changes.decide(f"shared_hooks[{i}]", hooks.uses, None, "tools"):
            shared.append(_shared_from(hooks, origin))
    ignored = set(base.ignore_languages)
    for i, language in enumerate(parsed.static_analysis.ignore_languages):
        key = f"static_analysis.ignore_languages[{i}]"
        if language not in ignored and changes.decide(key, language, None, "ignore_languages"):
            ignored.add(language)
    limits = {
        "max_file_bytes": base.max_file_bytes,
        "max_test_files_read": base.max_test_files_read,
    }
    for name, given in parsed.limits.model_dump().items():
        was = limits[name]
        if given not in (None, was) and changes.decide(
            f"limits.{name}", str(given), str(was), "limits"
        ):
            limits[name] = given
    fail_on = base.fail_on
    if parsed.fail_on is not None:
        current = base.fail_on or "required"
        if parsed.fail_on == current:
            fail_on = parsed.fail_on
        else:
            stricter = _FAIL_ON_STRICTNESS[parsed.fail_on] > _FAIL_ON_STRICTNESS[current]
            if changes.decide("fail_on", parsed.fail_on, current, None if stricter else "fail_on"):
                fail_on = parsed.fail_on
    repository_allow = base.repository_allow
    granted = parsed.repository_policy.allow
    if allow is None:
        repository_allow = frozenset(granted)
    elif granted:
        changes.items.append(
            PolicyChange(
                "repository_policy.allow",
                ", ".join(granted),
                None,
                None,
                applied=False,
                reason="only the operator's policy (--policy) grants a repository's policy leave",
            )
        )
    policy = replace(
        base,
        controls=controls,
        tools=tuple(tools),
        shared_actions=tuple(shared),
        waivers=tuple(waivers),
        exclude=tuple(exclude),
        include=tuple(include),
        ignore_languages=frozenset(ignored),
        max_file_bytes=limits["max_file_bytes"],
        max_test_files_read=limits["max_test_files_read"],
        fail_on=fail_on,
        repository_allow=repository_allow,
        # Messages name the file whose settings rule: a repository's refused file is not it.
        origin=origin if allow is None else base.origin,
    )
    return policy, changes.items


def _shared_from(item: Any, origin: str) -> SharedAction:
    """A `[[shared_actions]]` or `[[shared_hooks]]` entry of a policy file (policy_schema)."""
    hooks = getattr(item, "hooks", None) or {}
    return SharedAction(
        uses=item.uses,
        runs=tuple(getattr(item, "runs", ()) or ()),
        inputs=tuple(sorted((getattr(item, "inputs", None) or {}).items())),
        hooks=tuple(sorted(hooks.items())),
        origin=origin,
    )


def _layer_control(
    changes: _Changes, current: ControlSettings, override: ControlOverride, origin: str
) -> ControlSettings:
    cid = current.id
    updates: dict[str, Any] = {}
    if override.enabled is not None and override.enabled != current.enabled:
        needs = None if override.enabled else "disable"
        key = f"controls.{cid}.enabled"
        if changes.decide(key, _text(override.enabled), _text(current.enabled), needs):
            updates["enabled"] = override.enabled
    if override.level is not None and override.level != current.level.value:
        level = Level(override.level)
        needs = None if level.rank < current.level.rank else "levels"
        if changes.decide(f"controls.{cid}.level", level.value, current.level.value, needs):
            updates["level"] = level
    months = override.interval_months
    if months is not None:
        if current.interval_months is None:
            with_interval = ", ".join(
                c.id for c in _baseline()[0].values() if c.interval_months is not None
            )
            raise PolicyError(
                f"{origin}: controls.{cid}.interval_months: {cid} has no review interval "
                f"(controls with one: {with_interval})"
            )
        if months != current.interval_months:
            needs = None if months < current.interval_months else "intervals"
            key = f"controls.{cid}.interval_months"
            if changes.decide(key, str(months), str(current.interval_months), needs):
                updates["interval_months"] = months
    return replace(current, **updates) if updates else current


def _given(value: int | None, default: int) -> int:
    # `or` would turn an explicit 0 (read no test files) back into the default.
    return default if value is None else value
