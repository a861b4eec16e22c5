"""Dependency-update configuration: Dependabot (.github/dependabot.yml) and Renovate.

Both are parsed into what they cover; `coverage()` answers whether one ecosystem at one directory is
kept up to date, and by which entry. A file that cannot be used is a Problem and covers nothing.

Renovate configuration may be JSON5. `json5_to_json` accepts what Renovate configs use in practice:
`//` and `/* */` comments, trailing commas, single-quoted strings and unquoted keys. Not supported
(the file becomes a Problem): hexadecimal numbers, Infinity/NaN, leading `+` or `.` in numbers and
strings continued over lines with a backslash.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from secposture import catalogue
from secposture.facts.ecosystems import (
    EcosystemSpec,
    ManifestDir,
    dir_glob_matches,
    dir_segments,
    glob_matches,
    is_glob,
    normalise_dir,
    specs,
)
from secposture.facts.interface import Facts
from secposture.facts.parsing import line_of, load_yaml
from secposture.model import Problem

DEPENDABOT_FILES = (".github/dependabot.yml", ".github/dependabot.yaml")


@dataclass(frozen=True)
class UpdateEntry:
    """One `updates:` item of dependabot.yml."""

    path: str
    line: int | None
    package_ecosystem: str
    directories: tuple[str, ...]  # normalised; may be globs


@dataclass
class DependabotConfig:
    path: str
    entries: list[UpdateEntry] = field(default_factory=list)
    problem: Problem | None = None  # set when the file as a whole cannot be used
    entry_problems: list[str] = field(default_factory=list)  # entries skipped or suspect
    analysed: bool = True  # False: not parsed at all, so what it covers is unknown
    # The entries indexed per ecosystem spec, built on first use (see _CoverageIndex).
    _indexes: dict[str, _CoverageIndex] = field(default_factory=dict, repr=False, compare=False)

    def first_covering(self, spec: EcosystemSpec, directory: str) -> UpdateEntry | None:
        """The first entry (in file order) that covers `directory` for `spec`'s ecosystem."""
        index = self._indexes.get(spec.name)
        if index is None:
            index = self._indexes[spec.name] = _CoverageIndex(self.entries, spec)
        return index.first(directory)


@dataclass
class RenovateConfig:
    path: str
    line: int | None = 1
    enabled: bool = True
    enabled_managers: frozenset[str] = frozenset()  # empty: Renovate's default set
    managers_on: frozenset[str] = frozenset()  # `"<manager>": {"enabled": true}`
    managers_off: frozenset[str] = frozenset()  # `"<manager>": {"enabled": false}`
    ignore_paths: tuple[str, ...] = ()
    ignore_paths_origin: str = ""
    key_lines: dict[str, int] = field(default_factory=dict)  # top-level key -> line, for evidence
    problem: Problem | None = None
    analysed: bool = True  # False: not parsed at all, so what it covers is unknown

    def line_of(self, key: str) -> int | None:
        return self.key_lines.get(key, self.line)


@dataclass
class UpdateConfigs:
    dependabot: DependabotConfig | None = None
    renovate: RenovateConfig | None = None

    @property
    def problems(self) -> list[Problem]:
        return [c.problem for c in (self.dependabot, self.renovate) if c and c.problem]


@dataclass(frozen=True)
class Coverage:
    """Whether one ecosystem directory is covered, the evidence either way, and the fix."""

    covered: bool
    path: str | None
    line: int | None
    detail: str
    fix: str = ""
    unanalysed: Problem | None = None  # the config could not be analysed: it may cover it


def _unusable(path: str, problem: Problem, analysed: bool) -> Coverage:
    """A config file that could not be used covers nothing we can see; the fix is to mend it."""
    fix = f"fix {path} ({problem.message})"
    return Coverage(False, path, problem.line, str(problem), fix, None if analysed else problem)


# --- Dependabot ----------------------------------------------------------------------------------


def _known_dependabot_names() -> frozenset[str]:
    names = {n for spec in specs().values() for n in spec.dependabot}
    names.update(catalogue.load("ecosystems").get("dependabot", {}).get("other_ecosystems", ()))
    return frozenset(names)


def _entry_dirs(item: dict[str, Any]) -> tuple[str, ...] | None:
    """`directory` and/or `directories`, normalised; None when neither is a string (list)."""
    raw: list[Any] = [item.get("directory")]
    many = item.get("directories")
    if isinstance(many, list):
        raw.extend(many)
    dirs = tuple(normalise_dir(d) for d in raw if isinstance(d, str) and d.strip())
    return dirs or None


def _entries(facts: Facts, config: DependabotConfig, updates: list[Any]) -> list[UpdateEntry]:
    known = _known_dependabot_names()
    entries = []

    def report(message: str, line: int | None) -> None:
        config.entry_problems.append(f"{message} (line {line})" if line else message)
        facts.problem(config.path, message, line)

    for i, item in enumerate(updates):
        line = line_of(updates, i)
        if not isinstance(item, dict):
            report(f"updates[{i}] is not a mapping", line)
            continue
        ecosystem = item.get("package-ecosystem")
        dirs = _entry_dirs(item)
        if not isinstance(ecosystem, str) or dirs is None:
            report(
                f"updates[{i}] needs `package-ecosystem` and `directory` (or `directories`)", line
            )
            continue
        if ecosystem not in known:
            report(f"updates[{i}]: unknown package-ecosystem {ecosystem!r}", line)
        entries.append(UpdateEntry(config.path, line, ecosystem, dirs))
    return entries


def parse_dependabot(facts: Facts, path: str) -> DependabotConfig:
    config = DependabotConfig(path)
    doc = load_yaml(facts, path)
    if doc is None:
        config.analysed = facts.problem_for(path) is None  # else: unreadable, not YAML, too big
        config.problem = facts.problem_for(path) or facts.problem(path, "is empty")
        return config
    if not isinstance(doc, dict):
        config.problem = facts.problem(
            path, "is not a mapping: expected `version: 2` and `updates:`"
        )
        return config
    version = doc.get("version")
    if version != 2 or isinstance(version, bool):
        config.problem = facts.problem(
            path,
            f"`version` must be 2 (found {version!r}): Dependabot ignores this file",
            line_of(doc, "version") if "version" in doc else 1,
        )
        return config
    updates = doc.get("updates")
    if not isinstance(updates, list):
        config.problem = facts.problem(
            path, "`updates` must be a list of entries", line_of(doc, "updates") or 1
        )
        return config
    config.entries = _entries(facts, config, updates)
    return config


# --- Renovate ------------------------------------------------------------------------------------


def _read_string(text: str, start: int) -> tuple[str, int]:
    """A JSON5 string literal starting at `start` as a JSON string literal, and the index after it."""
    quote = text[start]
    out: list[str] = []
    i = start + 1
    n = len(text)
    while i < n and text[i] != quote:
        c = text[i]
        if c == "\\" and i + 1 < n:
            pair = text[i : i + 2]
            out.append("'" if pair == "\\'" else pair)
            i += 2
            continue
        if c == "\n":
            break  # unterminated: json.loads will report it
        out.append('\\"' if c == '"' else c)
        i += 1
    return '"' + "".join(out) + '"', i + 1


def _skip_comment(text: str, i: int, out: list[str]) -> int:
    """Past a comment at `i`, keeping its newlines so JSON errors name the right line."""
    if text.startswith("//", i):
        end = text.find("\n", i)
        return len(text) if end < 0 else end
    end = text.find("*/", i + 2)
    end = len(text) if end < 0 else end + 2
    out.append("\n" * text.count("\n", i, end))
    return end


def _drop_trailing_comma(out: list[str]) -> None:
    for k in range(len(out) - 1, -1, -1):
        if out[k].strip():
            if out[k] == ",":
                out[k] = ""
            return


def _identifier_end(text: str, i: int) -> int:
    j = i
    while j < len(text) and (text[j].isalnum() or text[j] in "_$"):
        j += 1
    return j


def json5_to_json(text: str) -> str:
    """Rewrite the JSON5 that Renovate configs use into JSON, in one pass (see module docstring)."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"'":
            literal, i = _read_string(text, i)
            out.append(literal)
        elif text.startswith(("//", "/*"), i):
            i = _skip_comment(text, i, out)
        elif c in "}]":
            _drop_trailing_comma(out)
            out.append(c)
            i += 1
        elif c.isalpha() or c in "_$":
            j = _identifier_end(text, i)
            k = j
            while k < n and text[k] in " \t\r\n":
                k += 1
            word = text[i:j]
            out.append(f'"{word}"' if k < n and text[k] == ":" else word)
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _load_json5(facts: Facts, path: str) -> Any | None:
    text = facts.read(path)
    if text is None:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        pass  # not plain JSON: try it as JSON5
    try:
        return json.loads(json5_to_json(text))
    except RecursionError:
        facts.problem(path, "exceeds the scanner's limits for JSON5: nested too deeply")
    except ValueError as exc:  # JSONDecodeError, or an integer of more than 4,300 digits
        line = getattr(exc, "lineno", None)
        facts.problem(path, f"is not valid JSON/JSON5: {getattr(exc, 'msg', exc)}", line)
    return None


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _renovate_managers() -> frozenset[str]:
    return frozenset(m for spec in specs().values() for m in spec.renovate)


def _renovate_from(config: RenovateConfig, data: dict[str, Any]) -> RenovateConfig:
    if data.get("enabled") is False:
        config.enabled = False
    config.enabled_managers = frozenset(_strings(data.get("enabledManagers")))
    on: set[str] = set()
    off: set[str] = set()
    for manager in _renovate_managers():
        block = data.get(manager)
        if isinstance(block, dict) and isinstance(block.get("enabled"), bool):
            (on if block["enabled"] else off).add(manager)
    config.managers_on, config.managers_off = frozenset(on), frozenset(off)
    rules = catalogue.load("ecosystems")["renovate"]
    if "ignorePaths" in data:
        config.ignore_paths = tuple(_strings(data["ignorePaths"]))
        config.ignore_paths_origin = "ignorePaths"
    else:
        preset = next(
            (p for p in _strings(data.get("extends")) if p in rules["ignoring_presets"]), None
        )
        if preset is not None:
            config.ignore_paths = tuple(rules["preset_ignore_paths"])
            config.ignore_paths_origin = f"the ignorePaths of preset {preset}"
    return config


_EVIDENCE_KEYS = ("enabled", "enabledManagers", "ignorePaths", "extends", "renovate")


def _key_lines(text: str | None) -> dict[str, int]:
    """Lines of the keys cited as evidence, found in the text (JSON parsers keep no lines)."""
    lines: dict[str, int] = {}
    for key in _EVIDENCE_KEYS:
        match = re.search(rf"""["']?{key}["']?[ \t]*:""", text or "")
        if match is not None:
            lines[key] = text.count("\n", 0, match.start()) + 1 if text else 1
    return lines


def _renovate_in_package_json(facts: Facts) -> RenovateConfig | None:
    if not facts.exists("package.json"):
        return None
    text = facts.read("package.json")
    if text is None or '"renovate"' not in text:  # most package.json files: no need to parse
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None  # the ecosystem facts report a malformed package.json
    if not isinstance(data, dict) or "renovate" not in data:
        return None
    config = RenovateConfig("package.json", _key_lines(text).get("renovate", 1))
    block = data["renovate"]
    if not isinstance(block, dict):
        config.problem = facts.problem("package.json", "`renovate` must be an object", config.line)
        return config
    return _renovate_from(config, _with_presets(facts, config, block))


def parse_renovate(facts: Facts) -> RenovateConfig | None:
    """The config Renovate would use: the first of its file names present, else package.json."""
    for path in catalogue.load("ecosystems")["renovate"]["config_files"]:
        if not facts.exists(path):
            continue
        config = RenovateConfig(path)
        data = _load_json5(facts, path)
        config.key_lines = _key_lines(facts.read(path))
        if data is None:
            config.analysed = False
            config.problem = facts.problem_for(path) or facts.problem(path, "cannot be read")
        elif not isinstance(data, dict):
            config.problem = facts.problem(path, "is not a JSON object")
        else:
            _renovate_from(config, _with_presets(facts, config, data))
        return config
    return _renovate_in_package_json(facts)


def _with_presets(facts: Facts, config: RenovateConfig, data: dict[str, Any]) -> dict[str, Any]:
    """The config with the presets of other repositories it extends merged in (ADR 0014); one
    that could not be read leaves what the config covers unknown, naming it."""
    from secposture.facts.renovate_presets import resolve

    resolved = resolve(facts, config.path, data, config.line_of("extends"))
    if resolved.unread:
        config.analysed = False
        config.problem = resolved.unread[0].problem()
    return resolved.config


def collect(facts: Facts) -> UpdateConfigs:
    configs = UpdateConfigs()
    path = next((p for p in DEPENDABOT_FILES if facts.exists(p)), None)
    if path is not None:
        configs.dependabot = parse_dependabot(facts, path)
    configs.renovate = parse_renovate(facts)
    return configs


# --- coverage ------------------------------------------------------------------------------------


def _entry_covers(entry: UpdateEntry, spec: EcosystemSpec, directory: str) -> bool:
    """Whether one entry covers one directory: the rule the index answers for all entries."""
    if entry.package_ecosystem not in spec.dependabot:
        return False
    for raw in entry.directories:
        pattern = spec.directory_aliases.get(raw, raw)
        if pattern == directory or (is_glob(pattern) and dir_glob_matches(pattern, directory)):
            return True
    return False


class _CoverageIndex:
    """One ecosystem's entries by directory, so that asking for each of thousands of manifest
    folders costs a lookup, not a pass over every entry (which made coverage quadratic).

    Literal directories are a dict (first entry wins); glob directories are grouped by their
    literal leading segments (`/apps/*/api` under ("apps",)), so a folder is tested only against
    the globs that can match below its own ancestors."""

    def __init__(self, entries: Iterable[UpdateEntry], spec: EcosystemSpec) -> None:
        self.entries: list[UpdateEntry] = []
        self.literal: dict[str, int] = {}
        self.globs: dict[tuple[str, ...], list[tuple[int, tuple[str, ...]]]] = {}
        for entry in entries:
            if entry.package_ecosystem not in spec.dependabot:
                continue
            i = len(self.entries)
            self.entries.append(entry)
            for raw in entry.directories:
                pattern = spec.directory_aliases.get(raw, raw)
                self.literal.setdefault(pattern, i)  # a glob's text may also name a folder
                if is_glob(pattern):
                    segments = dir_segments(normalise_dir(pattern))
                    lead = 0
                    while lead < len(segments) and not is_glob(segments[lead]):
                        lead += 1
                    self.globs.setdefault(segments[:lead], []).append((i, segments))

    def first(self, directory: str) -> UpdateEntry | None:
        best = self.literal.get(directory)
        if self.globs:
            parts = dir_segments(directory)
            for depth in range(len(parts) + 1):
                for i, segments in self.globs.get(parts[:depth], ()):
                    if best is not None and i >= best:
                        break  # each bucket is in file order: no earlier entry is left in it
                    if glob_matches(segments, parts):
                        best = i
                        break
        return None if best is None else self.entries[best]


def dependabot_coverage(
    config: DependabotConfig, spec: EcosystemSpec, location: ManifestDir
) -> Coverage:
    name = spec.dependabot[0]
    fix = (
        f"add `- package-ecosystem: {name}` with `directory: {location.directory}` to "
        f"{config.path} (or a `directories` glob that matches it)"
    )
    if config.problem is not None:
        return _unusable(config.path, config.problem, config.analysed)
    entry = config.first_covering(spec, location.directory)
    if entry is not None:
        return Coverage(
            True,
            entry.path,
            entry.line,
            f"Dependabot entry `{entry.package_ecosystem}` for "
            f"{', '.join(entry.directories)} at {entry.path}:{entry.line}",
        )
    also = f" ({'; '.join(config.entry_problems[:3])})" if config.entry_problems else ""
    return Coverage(
        False,
        config.path,
        None,
        f"{config.path} has no `{name}` entry for {location.directory}{also}",
        fix,
    )


def _ignored(path: str, patterns: Iterable[str]) -> str | None:
    """The ignorePaths pattern that drops a file, matched as Renovate does: glob or substring."""
    segments = dir_segments(path)
    for pattern in patterns:
        if pattern and (pattern in path or glob_matches(dir_segments(pattern), segments)):
            return pattern
    return None


def _active_managers(config: RenovateConfig, spec: EcosystemSpec) -> set[str]:
    active: set[str]
    if config.enabled_managers:
        active = set(spec.renovate & config.enabled_managers)
    else:
        active = set(spec.renovate) if spec.renovate_default_enabled else set()
        active |= spec.renovate & config.managers_on
    return active - set(config.managers_off)


def renovate_coverage(
    config: RenovateConfig, spec: EcosystemSpec, location: ManifestDir
) -> Coverage:
    where = f"Renovate config {config.path}"
    if config.problem is not None:
        return _unusable(config.path, config.problem, config.analysed)
    if not config.enabled:
        return Coverage(
            False,
            config.path,
            config.line_of("enabled"),
            f"{where} sets `enabled: false`",
            f"remove `enabled: false` from {config.path}",
        )
    if not _active_managers(config, spec):
        return _managers_off(config, spec)
    manifests = [m.lstrip("/") for m in location.manifests]
    hits = [_ignored(m, config.ignore_paths) for m in manifests]
    if manifests and all(hits):
        return Coverage(
            False,
            config.path,
            config.line_of(
                "ignorePaths" if config.ignore_paths_origin == "ignorePaths" else "extends"
            ),
            f"{where}: {config.ignore_paths_origin} ({hits[0]}) excludes {location.directory}",
            f"narrow ignorePaths in {config.path}, or, if {location.directory} holds no real "
            "dependencies, add it to the secposture policy's `exclude`",
        )
    return Coverage(True, config.path, config.line_of("enabledManagers"), where)


def _managers_off(config: RenovateConfig, spec: EcosystemSpec) -> Coverage:
    """Why Renovate's managers for this ecosystem are off, and how to turn one on."""
    names = sorted(spec.renovate)
    where = f"Renovate config {config.path}"
    if config.enabled_managers:
        return Coverage(
            False,
            config.path,
            config.line_of("enabledManagers"),
            f"{where}: its enabledManagers leave out {', '.join(names)}",
            f"add `{names[0]}` to enabledManagers in {config.path}",
        )
    off = sorted(spec.renovate & config.managers_off)
    detail = (
        f"{where} disables {', '.join(off)}"
        if off
        else f"{where}: Renovate leaves {', '.join(names)} off unless enabled"
    )
    return Coverage(
        False,
        config.path,
        config.line,
        detail,
        f'set `"{names[0]}": {{"enabled": true}}` in {config.path}',
    )


def renovate_hint(spec: EcosystemSpec) -> str:
    """How to cover an ecosystem that Dependabot cannot update (sbt): with Renovate."""
    managers = ", ".join(f"`{m}`" for m in sorted(spec.renovate)) or "its managers"
    return f"add a Renovate config (renovate.json; Renovate's {managers} manager covers it)"


def _dependabot_cannot(config: DependabotConfig, spec: EcosystemSpec) -> Coverage:
    # Dependabot has no package-ecosystem for it: no entry could ever cover it.
    return Coverage(
        False,
        config.path,
        None,
        f"Dependabot cannot update {spec.label}: it has no such package ecosystem",
        renovate_hint(spec),
    )


def coverage(configs: UpdateConfigs, spec: EcosystemSpec, location: ManifestDir) -> list[Coverage]:
    """Each configuration's answer for one ecosystem directory (covered ones first)."""
    answers = []
    if configs.dependabot is not None:
        answers.append(
            dependabot_coverage(configs.dependabot, spec, location)
            if spec.dependabot
            else _dependabot_cannot(configs.dependabot, spec)
        )
    if configs.renovate is not None:
        answers.append(renovate_coverage(configs.renovate, spec, location))
    return sorted(answers, key=lambda c: not c.covered)
