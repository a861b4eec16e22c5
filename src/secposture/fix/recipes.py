"""What the generators write, read from data/fix_templates.toml (tools per language, file places)
and data/fix_pins.toml (hook revisions, action SHAs, package versions)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from secposture import catalogue
from secposture.fix import conventions
from secposture.fix.yaml_edit import Commented


@dataclass(frozen=True)
class HookRecipe:
    key: str
    repo: str
    id: str
    rev: str
    args: tuple[str, ...] = ()

    def as_repo_entry(self, *, frozen: bool = False) -> dict[str, Any]:
        """The `repos:` item that adds this hook, at its pinned revision; `frozen`: by the
        revision's commit SHA with the tag in a comment, as `pre-commit autoupdate --freeze`
        writes it (by tag when the commit is not known)."""
        hook: dict[str, Any] = {"id": self.id}
        if self.args:
            hook["args"] = list(self.args)
        sha = self.frozen_sha() if frozen else None
        rev: str | Commented = Commented(sha, f"frozen: {self.rev}") if sha else self.rev
        return {"repo": self.repo, "rev": rev, "hooks": [hook]}

    def frozen_sha(self) -> str | None:
        """The commit of this revision, when the pins know it."""
        known = pins().get("precommit_frozen", {}).get(self.repo)
        if not isinstance(known, dict) or known.get("rev") != self.rev:
            return None
        sha = known.get("sha")
        return sha if isinstance(sha, str) else None


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


def action(name: str, at_least: tuple[int, ...] | None = None) -> Commented:
    """`owner/repo@<sha>` with the release in a comment, as a workflow's `uses:` value: the
    default release, or where the repository already runs a later one (`at_least`), the oldest
    pinned release that is no older than it (the newest known when none is)."""
    pin = release(name, at_least)
    return Commented(f"{name}@{pin['sha']}", pin["version"])


def release(name: str, at_least: tuple[int, ...] | None = None) -> dict[str, str]:
    """The pinned release (`sha`, `version`) of an action to write, as `action` chooses it."""
    default: dict[str, str] = pins()["actions"][name]
    if at_least is None:
        return default
    known: list[dict[str, str]] = [default, *pins().get("action_releases", {}).get(name, ())]
    ordered = sorted(known, key=lambda p: conventions.version(p["version"]) or ())
    for pin in ordered:
        found = conventions.version(pin["version"])
        if found is not None and conventions.at_least(found, at_least):
            return pin
    return ordered[-1]


def pypi(package: str) -> str:
    return f"{package}=={pins()['pypi'][package]}"


def files() -> dict[str, Any]:
    result: dict[str, Any] = templates()["files"]
    return result


def template_text(name: str) -> str:
    """A Markdown or text template shipped in secposture/fix/templates/."""
    return resources.files("secposture.fix").joinpath("templates", name).read_text("utf-8")
