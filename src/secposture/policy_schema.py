"""The policy file's schema (pydantic). Kept apart from policy.py so pydantic loads only when needed."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from secposture.errors import PolicyError


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
    commands: list[str] = Field(default_factory=list)
    ide_extensions: list[str] = Field(default_factory=list)
    config_files: list[str] = Field(default_factory=list)
    config_keys: list[str] = Field(default_factory=list)
    ci_templates: list[str] = Field(default_factory=list)
    action_inputs: list[str] = Field(default_factory=list)
    ide_settings: list[str] = Field(default_factory=list)
    jetbrains: list[str] = Field(default_factory=list)
    weak: bool = False

    @field_validator("commands")
    @classmethod
    def _regexes(cls, commands: list[str]) -> list[str]:
        for i, pattern in enumerate(commands):
            try:
                re.compile(pattern)
            except (re.error, RecursionError, OverflowError) as exc:
                raise ValueError(
                    f"commands[{i}] is not a valid regular expression: {exc}"
                ) from None
        return commands


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


class PolicyFile(_Strict):
    exclude: list[str] = Field(default_factory=list)
    fail_on: Literal["required", "recommended", "never"] | None = None
    limits: Limits = Field(default_factory=Limits)
    controls: dict[str, ControlOverride] = Field(default_factory=dict)
    tools: list[ToolEntry] = Field(default_factory=list)
    static_analysis: StaticAnalysis = Field(default_factory=StaticAnalysis)
    waivers: list[WaiverEntry] = Field(default_factory=list)


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
    return parsed
