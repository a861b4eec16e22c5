"""Analysers a JVM build applies, which run when CI runs the build's lifecycle.

Java, Kotlin and Scala teams rarely call their linters by name: the build applies a plugin
(Gradle `id("io.gitlab.arturbosch.detekt")`, a Maven `maven-checkstyle-plugin` execution with the
`check` goal, an organisation's convention plugin that applies ktlint) and CI runs `./gradlew
check`, `./mvnw verify` or `sbt test`. The catalogue (tools.toml `[[build_plugins]]`) says which
plugin applies which tool and which lifecycle runs it; this module finds the plugins in the build
files and the CI commands that run them.

Build files are read as text (never evaluated), bounded in number and size; comments are dropped
so that a commented-out plugin does not count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from secposture import catalogue
from secposture.facts.interface import Facts

MAX_BUILD_FILES = 50
MAX_BUILD_CHARS = 500_000
GRADLE_FILES = ("build.gradle", "build.gradle.kts")
MAVEN_FILES = ("pom.xml",)
SBT_FILES = ("build.sbt",)

# Gradle: `check` and `build` (which depends on it) run the verification tasks plugins add.
_GRADLE = re.compile(
    r"(?:^|[\s/])gradlew?(?:\.bat)?(?:\s+\S+)*?\s+(?:\S*:)?(?:check|build)(?:\s|$)"
)
# Maven: the lifecycle phases, in order; a goal bound to a phase runs for that phase and later.
_MAVEN_PHASES = ("validate", "compile", "test", "package", "verify", "install", "deploy")
_MAVEN = re.compile(
    r"(?:^|[\s/])mvnw?(?:\.cmd)?(?:\s+\S+)*?\s+(" + "|".join(_MAVEN_PHASES) + r")(?:\s|$)"
)
# sbt: a task that compiles runs what hooks into compilation (wartremover).
_SBT = re.compile(
    r"(?:^|[\s/])sbt(?:\s+\S+)*?\s+(?:\S*[/:])?(?:compile|test|package|assembly|stage|dist|publish\w*)(?:\s|$)"
)
_LINE_COMMENT = re.compile(r"(?m)(?<![:\"'])//[^\n]*")
_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_XML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_XML_SKIPPED = re.compile(r"<(pluginManagement|reporting)>.*?</\1>", re.DOTALL)
_XML_PLUGIN = re.compile(r"<plugin>(.*?)</plugin>", re.DOTALL)
_XML_ARTIFACT = re.compile(r"<artifactId>\s*([\w.-]{1,200})\s*</artifactId>")
_XML_GOAL = re.compile(r"<goal>\s*([\w.-]{1,100})\s*</goal>")
_XML_PHASE = re.compile(r"<phase>\s*([\w-]{1,50})\s*</phase>")


@dataclass(frozen=True)
class AppliedPlugin:
    tool: str  # catalogue tool id
    build: str  # "gradle" | "maven" | "sbt"
    plugin: str  # what applies it: a plugin id, an artifactId
    path: str
    line: int | None
    phase: str = "verify"  # Maven: the earliest phase that runs it


@dataclass(frozen=True)
class BuildRun:
    """A CI command that runs a build lifecycle, and a plugin that lifecycle runs."""

    plugin: AppliedPlugin
    command_text: str


@cache
def _spec() -> tuple[dict[str, Any], ...]:
    return tuple(catalogue.load("tools").get("build_plugins", []))


def _strip_code_comments(text: str) -> str:
    return _LINE_COMMENT.sub("", _BLOCK_COMMENT.sub(" ", text))


def _line(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


@cache
def _gradle_patterns(plugin: str) -> re.Pattern[str]:
    quoted = re.escape(plugin)
    forms = [
        rf"\bid\s*\(?\s*[\"']{quoted}[\"']",
        rf"\bapply\s*\(?\s*plugin\s*[:=]\s*[\"']{quoted}[\"']",
    ]
    if "." not in plugin:  # a core plugin: `plugins { checkstyle }` in the Kotlin DSL
        forms.append(rf"^[ \t]*`?{quoted}`?[ \t]*$")
    return re.compile("|".join(forms), re.MULTILINE)


def _read(facts: Facts, path: str) -> str | None:
    text = facts.read(path)
    if text is None or len(text) > MAX_BUILD_CHARS:
        return None
    return text


def _files(facts: Facts, names: tuple[str, ...]) -> list[str]:
    found = [p for name in names for p in facts.by_name.get(name, ())]
    return sorted(found, key=lambda p: (p.count("/"), p))[:MAX_BUILD_FILES]


def _gradle(facts: Facts) -> list[AppliedPlugin]:
    wanted = [(s["tool"], p) for s in _spec() for p in s.get("gradle", ())]
    out: list[AppliedPlugin] = []
    for path in _files(facts, GRADLE_FILES):
        raw = _read(facts, path)
        if raw is None:
            continue
        text = _strip_code_comments(raw)
        for tool, plugin in wanted:
            match = _gradle_patterns(plugin).search(text)
            if match is not None:
                out.append(AppliedPlugin(tool, "gradle", plugin, path, _line(text, match.start())))
    return out


def _maven(facts: Facts) -> list[AppliedPlugin]:
    wanted: dict[str, tuple[str, tuple[str, ...]]] = {}
    for s in _spec():
        for artifact in s.get("maven", ()):
            wanted[artifact] = (s["tool"], tuple(s.get("maven_goals", ("check",))))
    out: list[AppliedPlugin] = []
    for path in _files(facts, MAVEN_FILES):
        raw = _read(facts, path)
        if raw is None:
            continue
        text = _XML_SKIPPED.sub(_blank, _XML_COMMENT.sub(_blank, raw))
        for block in _XML_PLUGIN.finditer(text):
            artifact = _XML_ARTIFACT.search(block.group(1))
            if artifact is None or artifact.group(1) not in wanted:
                continue
            tool, goals = wanted[artifact.group(1)]
            if not any(g in goals for g in _XML_GOAL.findall(block.group(1))):
                continue  # declared without an execution that runs its check: it runs nothing
            phase = _XML_PHASE.search(block.group(1))
            phase_name = phase.group(1) if phase and phase.group(1) in _MAVEN_PHASES else "verify"
            out.append(
                AppliedPlugin(
                    tool,
                    "maven",
                    artifact.group(1),
                    path,
                    _line(text, block.start()),
                    phase_name,
                )
            )
    return out


def _blank(match: re.Match[str]) -> str:
    """A removed section keeps its line breaks, so that lines after it stay right."""
    return "\n" * match.group(0).count("\n")


def _sbt(facts: Facts) -> list[AppliedPlugin]:
    out: list[AppliedPlugin] = []
    plugins_files = [
        p for p in facts.by_name.get("plugins.sbt", ()) if p.endswith("project/plugins.sbt")
    ][:MAX_BUILD_FILES]
    builds = _files(facts, SBT_FILES)
    texts = {p: _strip_code_comments(t) for p in plugins_files + builds if (t := _read(facts, p))}
    for s in _spec():
        for plugin in s.get("sbt", ()):
            where = next((p for p in plugins_files if plugin in texts.get(p, "")), None)
            if where is None:
                continue
            # The plugin does nothing until the build sets what it checks (wartremoverErrors).
            keys = tuple(s.get("sbt_keys", ()))
            configured = next(
                (p for p in builds if not keys or any(k in texts.get(p, "") for k in keys)), None
            )
            if configured is not None:
                text = texts.get(where, "")
                out.append(
                    AppliedPlugin(s["tool"], "sbt", plugin, where, _line(text, text.find(plugin)))
                )
    return out


def applied(facts: Facts) -> list[AppliedPlugin]:
    """The catalogued analysers that the repository's builds apply."""
    return _gradle(facts) + _maven(facts) + _sbt(facts)


def runs(facts: Facts, text: str) -> list[AppliedPlugin]:
    """The applied analysers that one command's build lifecycle runs (none for most commands)."""
    if "gradle" not in text and "mvn" not in text and "sbt" not in text:
        return []
    gradle = _GRADLE.search(text)
    maven = _MAVEN.search(text)
    sbt = _SBT.search(text)
    if gradle is None and maven is None and sbt is None:
        return []
    out = []
    for plugin in facts.get(applied):
        if plugin.build == "gradle" and gradle is not None:
            out.append(plugin)
        elif plugin.build == "maven" and maven is not None:
            reached = _MAVEN_PHASES.index(maven.group(1))
            if reached >= _MAVEN_PHASES.index(plugin.phase):
                out.append(plugin)
        elif plugin.build == "sbt" and sbt is not None:
            out.append(plugin)
    return out
