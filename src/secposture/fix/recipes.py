"""What the generators write, read from data/fix_templates.toml (tools per language, file places)
and data/fix_pins.toml (hook revisions, action SHAs, package versions)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from secposture import catalogue
from secposture.fix.yaml_edit import Commented


@dataclass(frozen=True)
class HookRecipe:
    key: str
    repo: str
    id: str
    rev: str
    args: tuple[str, ...] = ()

    def as_repo_entry(self) -> dict[str, Any]:
        """The `repos:` item that adds this hook (with its pinned revision)."""
        hook: dict[str, Any] = {"id": self.id}
        if self.args:
            hook["args"] = list(self.args)
        return {"repo": self.repo, "rev": self.rev, "hooks": [hook]}


@dataclass(frozen=True)
class CiStep:
    key: str
    name: str
    run: str
    setup: str | None = None  # "python" | "go" | None
    pip: tuple[str, ...] = ()  # package names; versions come from the pins
    per_directory: str | None = None  # an ecosystem: one step per directory of its manifests


@dataclass(frozen=True)
class LanguageRecipe:
    hooks: tuple[str, ...]
    ci: tuple[str, ...]
    extensions: tuple[str, ...]


@cache
def templates() -> dict[str, Any]:
    return catalogue.load("fix_templates")


@cache
def pins() -> dict[str, Any]:
    return catalogue.load("fix_pins")


def hook(key: str) -> HookRecipe:
    raw = templates()["hooks"][key]
    return HookRecipe(
        key=key,
        repo=raw["repo"],
        id=raw["id"],
        rev=pins()["precommit"][raw["repo"]],
        args=tuple(raw.get("args", ())),
    )


def ci_step(key: str) -> CiStep:
    raw = templates()["ci_steps"][key]
    return CiStep(
        key=key,
        name=raw["name"],
        run=raw["run"],
        setup=raw.get("setup"),
        pip=tuple(raw.get("pip", ())),
        per_directory=raw.get("per_directory"),
    )


def language(name: str) -> LanguageRecipe | None:
    raw = templates()["languages"].get(name)
    if raw is None:
        return None
    return LanguageRecipe(
        hooks=tuple(raw.get("hooks", ())),
        ci=tuple(raw.get("ci", ())),
        extensions=tuple(raw.get("extensions", ())),
    )


def action(name: str) -> Commented:
    """`owner/repo@<sha>` with the release in a comment, as a workflow's `uses:` value."""
    pin = pins()["actions"][name]
    return Commented(f"{name}@{pin['sha']}", pin["version"])


def pypi(package: str) -> str:
    return f"{package}=={pins()['pypi'][package]}"


def files() -> dict[str, Any]:
    result: dict[str, Any] = templates()["files"]
    return result


def template_text(name: str) -> str:
    """A Markdown or text template shipped in secposture/fix/templates/."""
    return resources.files("secposture.fix").joinpath("templates", name).read_text("utf-8")
