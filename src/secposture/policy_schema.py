"""The policy file's schema (pydantic). Kept apart from policy.py so pydantic loads only when needed."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from secposture.errors import PolicyError
from secposture.policy import Permission

# Bounds on a policy's patterns (each runs on RE2 over every CI command): far above any real
# catalogue (the shipped one has 98 patterns), low enough that a 1 MiB policy cannot make a scan
# take gigabytes: 1,000 crafted patterns cost about 70 MiB and 3 s over 100 KB of CI commands.
MAX_TOOLS = 200
MAX_COMMANDS_PER_TOOL = 20
MAX_PATTERNS = 1000
MAX_PATTERN_CHARS = 1000


class _Strict(BaseModel):
    # strict: a policy says what it means; `interval_months = true` or `"12"` is an error, not 1/12.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class ControlOverride(_Strict):
    enabled: bool | None = None
    level: Literal["required", "recommended", "extra"] | None = None
    interval_months: int | None = Field(default=None, ge=1, le=120)


class ToolEntry(_Strict):
    id: str = Field(min_length=1)
    languages: list[str] = Field(default_factory=list)
    purposes: list[str] = Field(default_factory=lambda: ["static-analysis"])
    precommit_hooks: list[str] = Field(default_factory=list)
    precommit_repos: list[str] = Field(default_factory=list)
    actions: list[str] = Field(default_factory=list)
    commands: list[Annotated[str, Field(max_length=MAX_PATTERN_CHARS)]] = Field(
        default_factory=list, max_length=MAX_COMMANDS_PER_TOOL
    )
    ide_extensions: list[str] = Field(default_factory=list)
    config_files: list[str] = Field(default_factory=list)
    config_keys: list[str] = Field(default_factory=list)
    ci_templates: list[str] = Field(default_factory=list)
    action_inputs: list[str] = Field(default_factory=list)
    ide_settings: list[str] = Field(default_factory=list)
    jetbrains: list[str] = Field(default_factory=list)
    weak: bool = False


class SharedActionEntry(_Strict):
    """What a reusable workflow or action of another repository runs (ADR 0014)."""

    uses: str = Field(
        min_length=3,
        max_length=300,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+(/[^@\s]+)?$",
    )
    runs: list[Annotated[str, Field(min_length=1, max_length=MAX_PATTERN_CHARS)]] = Field(
        min_length=1, max_length=MAX_COMMANDS_PER_TOOL
    )
    inputs: dict[str, Annotated[str, Field(max_length=MAX_PATTERN_CHARS)]] = Field(
        default_factory=dict, max_length=50
    )


class SharedHooksEntry(_Strict):
    """What the hooks of a pre-commit hook repository run: hook id -> command (ADR 0014)."""

    uses: str = Field(
        min_length=3, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+$"
    )
    hooks: dict[str, Annotated[str, Field(min_length=1, max_length=MAX_PATTERN_CHARS)]] = Field(
        min_length=1, max_length=MAX_COMMANDS_PER_TOOL
    )


class WaiverEntry(_Strict):
    control: str
    reason: str = Field(min_length=1)
    approver: str = Field(min_length=1)
    expires: date


class Limits(_Strict):
    max_file_bytes: int | None = Field(default=None, ge=1024, le=1024**3)
    max_test_files_read: int | None = Field(default=None, ge=0, le=1_000_000)


class StaticAnalysis(_Strict):
    ignore_languages: list[str] = Field(default_factory=list)


class RepositoryPolicyRules(_Strict):
    """Read from the operator's policy only: what a scanned repository's own file may loosen."""

    allow: list[Permission] = Field(default_factory=list)


class PolicyFile(_Strict):
    exclude: list[str] = Field(default_factory=list)
    # Put back test data or examples the defaults set aside (each glob is tested per path).
    include: list[Annotated[str, Field(min_length=1, max_length=MAX_PATTERN_CHARS)]] = Field(
        default_factory=list, max_length=MAX_PATTERNS
    )
    fail_on: Literal["required", "recommended", "never"] | None = None
    limits: Limits = Field(default_factory=Limits)
    controls: dict[str, ControlOverride] = Field(default_factory=dict)
    tools: list[ToolEntry] = Field(default_factory=list, max_length=MAX_TOOLS)
    shared_actions: list[SharedActionEntry] = Field(default_factory=list, max_length=MAX_TOOLS)
    shared_hooks: list[SharedHooksEntry] = Field(default_factory=list, max_length=MAX_TOOLS)
    static_analysis: StaticAnalysis = Field(default_factory=StaticAnalysis)
    waivers: list[WaiverEntry] = Field(default_factory=list)
    repository_policy: RepositoryPolicyRules = Field(default_factory=RepositoryPolicyRules)


def _key(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _hint(loc: tuple[int | str, ...]) -> str:
    if loc and loc[-1] == "expires":
        return " (write a TOML date, without quotes: expires = 2027-03-31)"
    return ""


def validate(data: dict[str, Any], origin: str, known_controls: set[str]) -> PolicyFile:
    try:
        parsed = PolicyFile.model_validate(data)
    except ValidationError as exc:
        lines = [f"{_key(e['loc'])}: {e['msg']}{_hint(e['loc'])}" for e in exc.errors()]
        raise PolicyError(f"{origin}: invalid policy: " + "; ".join(lines)) from None
    known = ", ".join(sorted(known_controls))
    for cid in parsed.controls:
        if cid not in known_controls:
            raise PolicyError(f"{origin}: controls.{cid}: unknown control (known: {known})")
    for i, waiver in enumerate(parsed.waivers):
        if waiver.control not in known_controls:
            raise PolicyError(
                f"{origin}: waivers[{i}].control: unknown control {waiver.control!r} "
                f"(known: {known})"
            )
    _check_patterns(parsed, origin)
    return parsed


def _check_patterns(parsed: PolicyFile, origin: str) -> None:
    """Every command pattern compiles on RE2, the engine the scan runs it on."""
    from secposture.policy_regex import compile_pattern

    total = sum(len(tool.commands) for tool in parsed.tools)
    if total > MAX_PATTERNS:
        raise PolicyError(
            f"{origin}: tools: {total} command patterns, more than the {MAX_PATTERNS} a policy "
            "may add (each is searched over every command CI runs)"
        )
    for i, tool in enumerate(parsed.tools):
        for j, pattern in enumerate(tool.commands):
            try:
                compile_pattern(pattern)
            except ValueError as exc:
                raise PolicyError(
                    f"{origin}: tools[{i}].commands[{j}]: pattern '{_shown(pattern)}' of tool "
                    f"{_shown(tool.id)} "
                    f"cannot run on RE2: {exc} (policy patterns use RE2 syntax, which has no "
                    "backreferences or lookaround, so that no pattern can hang a scan)"
                ) from None


def _shown(text: str) -> str:
    """`text` on one line: control characters as escapes (a message is one line)."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)
