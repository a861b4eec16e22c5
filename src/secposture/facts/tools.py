"""Which catalogue tools (data/tools.toml plus the policy's `[[tools]]`) run where: in pre-commit
hooks, in CI, and set up for the IDE, each use with the file and line that shows it.

Multi-tool runners whose language coverage depends on their inputs (CodeQL `languages`,
super-linter `VALIDATE_*`, MegaLinter flavors and ENABLE/DISABLE) are narrowed with the maps in
data/runners.toml.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import cache, lru_cache
from typing import Any

from secposture import catalogue
from secposture.facts import build_plugins, file_filters, git_hooks, hook_repos, precommit
from secposture.facts import ci as ci_facts
from secposture.facts import ide as ide_facts
from secposture.facts import languages as languages_facts
from secposture.facts.interface import Facts
from secposture.facts.parsing import load_json, load_toml, load_yaml
from secposture.facts.scripts import (
    Command,
    PreCommitRun,
    parse_ini,
    segments,
    strip_keywords,
    unwrap,
)
from secposture.model import Location
from secposture.paths import glob_matcher
from secposture.policy import Tool
from secposture.policy_regex import MAX_JOINED_MEMORY, Pattern, compile_pattern

ALL = "*"
PRE_COMMIT, CI, IDE = "pre-commit", "ci", "ide"
STAGES = (PRE_COMMIT, CI, IDE)
_MAX_CONFIG_FILES = 20
_MEGALINTER_FILES = (".mega-linter.yml", ".mega-linter.yaml", ".megalinter.yml", ".megalinter.yaml")
_OFF = {"false", "off", "none", "0", "disabled", ""}


@dataclass(frozen=True)
class ToolUse:
    tool: Tool
    stage: str  # "pre-commit" | "ci" | "ide"
    languages: frozenset[str]  # the languages this use covers ("*": every language)
    location: Location
    evidence: str  # what was seen, for a user: "hook `ruff` (astral-sh/ruff-pre-commit)"

    def covers(self, language: str) -> bool:
        return ALL in self.languages or language in self.languages

    def has_purpose(self, purpose: str) -> bool:
        return purpose in self.tool.purposes

    def describe(self) -> str:
        return f"{self.tool.id}: {self.evidence}"


@dataclass
class _Compiled:
    tool: Tool
    commands: list[Pattern]
    actions: tuple[str, ...]
    templates: tuple[str, ...]
    hooks: frozenset[str]
    repos: frozenset[str]
    extensions: frozenset[str]
    conditions: list[tuple[str, frozenset[str] | None]]  # (input, allowed values; None = set)
    # The command patterns in one (None: none, or they cannot be joined): one search per text.
    command_search: Callable[[str], object] | None = None


@dataclass
class Catalogue:
    tools: list[_Compiled] = field(default_factory=list)
    config_index: _ConfigIndex | None = field(default=None, repr=False, compare=False)
    # Every tool's command patterns in one: most commands match none (None: cannot be joined).
    any_command: Callable[[str], object] | None = field(default=None, repr=False, compare=False)
    # Action and template/orb names -> (catalogue position, tool): a use looks up its name and
    # the folders above it rather than testing every tool.
    by_action: dict[str, list[tuple[int, _Compiled]]] = field(
        default_factory=dict, repr=False, compare=False
    )
    by_template: dict[str, list[tuple[int, _Compiled]]] = field(
        default_factory=dict, repr=False, compare=False
    )
    # Hook ids, and the hook repositories of tools that name no hook ids, the same way.
    by_hook: dict[str, list[tuple[int, _Compiled]]] = field(
        default_factory=dict, repr=False, compare=False
    )
    by_hook_repo: dict[str, list[tuple[int, _Compiled]]] = field(
        default_factory=dict, repr=False, compare=False
    )


def _conditions(raw: Iterable[str]) -> list[tuple[str, frozenset[str] | None]]:
    out: list[tuple[str, frozenset[str] | None]] = []
    for item in raw:
        name, _, values = item.partition("=")
        allowed = None if values == ALL else frozenset(v.strip().lower() for v in values.split("|"))
        out.append((name.strip(), allowed))
    return out


def compile_catalogue(facts: Facts) -> Catalogue:
    """The policy's tools with their patterns compiled (once per process and tool set)."""
    global _last_compiled
    tools = facts.policy.tools
    last = _last_compiled
    if last is not None and last[0] is tools:
        compiled, errors = last[1]  # the same tools object: skip hashing every tool
    else:
        compiled, errors = _compile_tools(tools)
        _last_compiled = (tools, (compiled, errors))
    for message in errors:
        facts.problem(facts.policy.origin or "tools", message)
    return compiled


_last_compiled: tuple[tuple[Tool, ...], tuple[Catalogue, tuple[str, ...]]] | None = None


@lru_cache(maxsize=8)
def _compile_tools(tools: tuple[Tool, ...]) -> tuple[Catalogue, tuple[str, ...]]:
    # An estate scan uses one policy for thousands of repositories: compile its tools once.
    out = Catalogue()
    errors: list[str] = []
    for tool in tools:
        patterns: list[Pattern] = []
        for pattern in tool.commands:
            try:
                patterns.append(_compile(tool, pattern))
            except (re.error, RecursionError, OverflowError, ValueError) as exc:
                errors.append(
                    f"tool {tool.id}: command pattern {pattern!r} is not a regular expression: {exc}"
                )
        out.tools.append(
            _Compiled(
                tool=tool,
                commands=patterns,
                actions=tuple(a.lower().rstrip("/") for a in tool.actions),
                templates=tuple(t.lower() for t in tool.ci_templates),
                hooks=frozenset(tool.precommit_hooks),
                repos=frozenset(r.lower() for r in tool.precommit_repos),
                extensions=frozenset(e.lower() for e in tool.ide_extensions),
                conditions=_conditions(tool.action_inputs),
                command_search=_joined(patterns, policy=tool.origin is not None),
            )
        )
    out.any_command = _any_of(
        [p for c in out.tools if c.tool.origin is None for p in c.commands],
        [p for c in out.tools if c.tool.origin is not None for p in c.commands],
    )
    for position, compiled in enumerate(out.tools):
        for index, names in (
            (out.by_action, compiled.actions),
            (out.by_template, compiled.templates),
            (out.by_hook, compiled.hooks),
            (out.by_hook_repo, frozenset() if compiled.hooks else compiled.repos),
        ):
            for name in set(names):
                index.setdefault(name, []).append((position, compiled))
    return out, tuple(errors)


def _compile(tool: Tool, pattern: str) -> Pattern:
    # A policy file's patterns run on RE2, which cannot backtrack (policy_regex); the shipped
    # catalogue's are reviewed and use Python's syntax (a lookahead among them).
    if tool.origin is None:
        return re.compile(pattern)
    return compile_pattern(pattern)


def _joined(patterns: list[Pattern], *, policy: bool = False) -> Callable[[str], object] | None:
    """One search for "any of these patterns", where joining cannot change what they match:
    not for Python patterns with groups, which a backreference or a conditional could refer to
    (global flags, which would apply to them all, fail to compile joined); RE2 has neither."""
    if not patterns or (not policy and any(p.groups for p in patterns)):
        return None
    joined = "|".join(f"(?:{p.pattern})" for p in patterns)
    try:
        if policy:
            return compile_pattern(joined, max_mem=MAX_JOINED_MEMORY).search
        return re.compile(joined).search
    except (re.error, RecursionError, OverflowError, ValueError):
        return None


def _any_of(shipped: list[Pattern], added: list[Pattern]) -> Callable[[str], object] | None:
    """One prefilter over every tool's patterns: the shipped ones joined on `re`, a policy's on
    RE2. None when there are none, or some could not be joined (every tool is then asked)."""
    searches = []
    for patterns, policy in ((shipped, False), (added, True)):
        if not patterns:
            continue
        search = _joined(patterns, policy=policy)
        if search is None:
            return None
        searches.append(search)
    if len(searches) < 2:
        return searches[0] if searches else None
    return lambda text: any(search(text) for search in searches)


def _languages(tool: Tool) -> frozenset[str]:
    return frozenset(tool.languages) if tool.languages else frozenset({ALL})


def _short(text: str, limit: int = 100) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _via(command: Command) -> str:
    return f" (via {' -> '.join(command.via)})" if command.via else ""


# --- commands ----------------------------------------------------------------------------------


@cache
def _ignored_prefixes() -> dict[str, tuple[tuple[str, ...], ...]]:
    """The ignored command prefixes by their first word."""
    out: dict[str, list[tuple[str, ...]]] = {}
    for prefix in catalogue.load("runners")["commands"]["ignore"]:
        words = tuple(prefix.split())
        out.setdefault(words[0], []).append(words)
    return {first: tuple(prefixes) for first, prefixes in out.items()}


def _ignored(words: list[str], ignored: dict[str, tuple[tuple[str, ...], ...]]) -> bool:
    prefixes = ignored.get(words[0]) if words else None
    return prefixes is not None and any(tuple(words[: len(p)]) == p for p in prefixes)


def runnable_text(text: str) -> list[str]:
    """The command segments of a line that run something (not `pip install ruff`, not `echo`)."""
    return list(_runnable(text))


@lru_cache(maxsize=4096)
def _runnable(text: str) -> tuple[str, ...]:
    # Split once per text: the tool catalogue and the container probe both ask, and CI lines
    # (`pip install -e .`, `make lint`) recur across an estate's repositories.
    ignored = _ignored_prefixes()
    out: list[str] = []
    for segment in segments(strip_shell_comment(text)):
        raw = strip_keywords(segment)
        words = unwrap(raw)
        if not words or _informational(words):
            continue
        # `command -v ruff` is ignored before unwrap() takes `command` for a wrapper.
        if _ignored(raw, ignored) or _ignored(words, ignored):
            continue
        if _ignored([w for w in words if not w.startswith("-")], ignored):
            continue
        out.append(" ".join(words))
    return tuple(out)


# `ruff --version`, `shellcheck -V`, `trivy version`, `semgrep --help`: the tool prints and exits.
_INFO_OPTIONS = frozenset({"--version", "--help", "--usage"})
# `-v` is left out: it means verbose to flake8 and mypy, which then still run.
_INFO_ALONE = frozenset({"-V", "-h", "-version", "-help", "version", "help"})


def _informational(words: list[str]) -> bool:
    """A command that only asks for a version or for help: it analyses nothing."""
    if any(w in _INFO_OPTIONS for w in words[1:]):
        return True
    # A short flag or a `version`/`help` subcommand means that only as the first argument.
    return len(words) >= 2 and words[1] in _INFO_ALONE and (len(words) == 2 or words[1][0] != "-")


def strip_shell_comment(text: str) -> str:
    """Each line of `text` without its shell comment: a `#` that starts a word outside quotes
    (`make test  # then ruff check` runs make only; `echo "#1"` and `${#x}` keep theirs)."""
    if "#" not in text:
        return text
    return "\n".join(_strip_line_comment(line) for line in text.split("\n"))


def _strip_line_comment(line: str) -> str:
    quote = ""
    escaped = False
    for i, ch in enumerate(line):
        if escaped:
            escaped = False
        elif ch == "\\" and quote != "'":
            escaped = True
        elif quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t;&|("):
            return line[:i]
    return line


def match_command(catalogue_: Catalogue, command: Command, stage: str) -> list[ToolUse]:
    out: list[ToolUse] = []
    texts = runnable_text(command.text)
    if not texts:
        return out
    if catalogue_.any_command is not None and not any(catalogue_.any_command(t) for t in texts):
        return out
    for compiled in catalogue_.tools:
        if not compiled.commands:
            continue
        search = compiled.command_search
        if search is not None:
            hit = any(map(search, texts))
        else:
            hit = any(p.search(t) for p in compiled.commands for t in texts)
        if hit:
            out.append(
                ToolUse(
                    compiled.tool,
                    stage,
                    _languages(compiled.tool),
                    Location(*command.located()),
                    f"`{_short(command.text)}` at {command.where()}{_via(command)}",
                )
            )
    return out


# --- pre-commit hooks --------------------------------------------------------------------------


def match_hook(
    facts: Facts,
    hook: precommit.Hook,
    config_path: str,
    stage: str,
    context: str = "",
    where: Location | None = None,
) -> list[ToolUse]:
    """Tools a hook runs; `where` overrides the location (the CI line that runs the hook)."""
    catalogue_ = facts.get(compile_catalogue)
    where = where or Location(config_path, hook.line)
    label = (
        f"hook `{hook.id}` ({hook.repo})"
        + (f" at {config_path}:{hook.line}" if hook.line else "")
        + context
    )
    out: list[ToolUse] = []
    matched: set[str] = set()
    # Tools naming the hook's id, and tools naming no ids but its repository, in catalogue order.
    found = catalogue_.by_hook.get(hook.id, []) + catalogue_.by_hook_repo.get(hook.repo, [])
    for _, compiled in sorted(found, key=lambda item: item[0]):
        out.append(ToolUse(compiled.tool, stage, _languages(compiled.tool), where, label))
        matched.add(compiled.tool.id)
    # A local hook's entry (or an overriding one) is a command: `make lint`, `poetry run mypy`;
    # a hook repository's hook runs what its .pre-commit-hooks.yaml defines (ADR 0014).
    for command in hook_repos.hook_commands(facts, hook, config_path):
        for use in _match_filtered(facts, catalogue_, command, stage):
            if use.tool.id not in matched:
                matched.add(use.tool.id)
                out.append(
                    ToolUse(use.tool, stage, use.languages, where, f"{label}: {use.evidence}")
                )
    flt = hook_filter(hook)
    return narrow_by_filter(facts, out, flt) if flt is not None else out


def hook_filter(hook: precommit.Hook) -> file_filters.FileFilter | None:
    """The files a hook runs on: its own filter keys over its hook repository's defaults."""
    default = file_filters.hook_default(hook.repo, hook.id)
    if hook.file_filter is None:
        return default
    return hook.file_filter.over(default)


def narrow_by_filter(
    facts: Facts, uses: list[ToolUse], flt: file_filters.FileFilter
) -> list[ToolUse]:
    """Uses less the languages whose files the filter never passes: an eslint hook left at
    `types: [javascript]`, or a lint-staged `*.js` entry, analyses no TypeScript. A filter that
    cannot be decided narrows nothing."""
    passed = file_filters.languages_passed(facts, flt) if uses else None
    if passed is None:
        return uses
    out: list[ToolUse] = []
    for use in uses:
        languages = file_filters.narrowed(use.languages, passed, ALL)
        if languages == use.languages:
            out.append(use)
            continue
        present = set(facts.get(languages_facts.collect))
        claimed = present if ALL in use.languages else present & set(use.languages)
        left_out = sorted(claimed - languages)
        note = (
            f"; its files ({flt.describe()}) include no {', '.join(left_out)} file"
            if left_out
            else ""
        )
        out.append(ToolUse(use.tool, use.stage, languages, use.location, use.evidence + note))
    return out


def _match_filtered(
    facts: Facts, catalogue_: Catalogue, command: Command, stage: str
) -> list[ToolUse]:
    """match_command, narrowed to the files the command runs on (a lint-staged glob)."""
    uses = match_command(catalogue_, command, stage)
    if uses and command.file_filter is not None:
        return narrow_by_filter(facts, uses, command.file_filter)
    return uses


def git_hook_uses(facts: Facts) -> list[ToolUse]:
    """Tools the Node-installed git hooks (husky, simple-git-hooks, the npm `pre-commit`
    package) run on commit."""
    catalogue_ = facts.get(compile_catalogue)
    out: list[ToolUse] = []
    for command in facts.get(git_hooks.collect):
        out.extend(_match_filtered(facts, catalogue_, command, PRE_COMMIT))
    return out


def precommit_uses(facts: Facts) -> list[ToolUse]:
    """Tools the pre-commit config runs when committing or pushing (not `manual`-only hooks),
    and those the Node-installed git hooks run."""
    config = facts.get(precommit.collect)
    if config is None:
        return facts.get(git_hook_uses)
    out: list[ToolUse] = list(facts.get(git_hook_uses))
    for hook in config.hooks:
        if hook.runs_on_commit or hook.runs_on_push:
            context = "" if hook.runs_on_commit else f" (runs at {hook.stages_text()} only)"
            out.extend(match_hook(facts, hook, config.path, PRE_COMMIT, context))
    return out


# --- CI ----------------------------------------------------------------------------------------


def _inputs_hold(compiled: _Compiled, inputs: dict[str, str]) -> bool:
    lowered = {k.lower(): v.strip().lower() for k, v in inputs.items()}
    for name, allowed in compiled.conditions:
        value = lowered.get(name.lower())
        if allowed is None:
            if not value:
                return False
        elif (value or "") not in allowed:
            return False
    return True


def match_use(facts: Facts, use: ci_facts.ActionUse) -> list[ToolUse]:
    catalogue_ = facts.get(compile_catalogue)
    label = f"`{use.name}{'@' + use.ref[:60] if use.ref else ''}` at {use.where()}"
    if use.via:
        label += f" (via {' -> '.join(use.via)})"
    out: list[ToolUse] = []
    index = catalogue_.by_template if use.kind in ("template", "orb") else catalogue_.by_action
    # A tool names the action itself or a folder above it (`owner/repo` for `owner/repo/path`).
    name = use.name
    keys = [name] + [name[:i] for i in range(len(name)) if name[i] == "/"]
    for _, compiled in sorted({p: c for key in keys for p, c in index.get(key, ())}.items()):
        if not _inputs_hold(compiled, use.inputs):
            continue
        languages, note = _runner_languages(facts, compiled.tool, use)
        out.append(ToolUse(compiled.tool, CI, languages, Location(*use.located()), label + note))
    return out


def _hooks_run_in_ci(facts: Facts) -> list[ToolUse]:
    config = facts.get(precommit.collect)
    if config is None or not config.hooks:
        return []
    ci = facts.get(ci_facts.collect)
    out: list[ToolUse] = []
    for run in ci.precommit_runs:
        context = f", run in CI by `{_short(run.command.text, 60)}` at {run.command.where()}"
        for hook in config.hooks:
            if (run.hook is None or run.hook == hook.id) and hook.runs_at(run.stage):
                at = Location(*run.command.located())
                out.extend(match_hook(facts, hook, config.path, CI, context, at))
    if config.runs_in_precommit_ci:
        context = f", run in CI by pre-commit.ci (`ci:` at {config.path}:{config.ci_line})"
        for hook in config.hooks:
            if hook.id not in config.ci_skip and hook.runs_on_commit:
                at = Location(config.path, config.ci_line)
                out.extend(match_hook(facts, hook, config.path, CI, context, at))
    return out


def ci_uses(facts: Facts) -> list[ToolUse]:
    """Tools CI runs: commands, actions/templates/orbs, and pre-commit hooks run in CI."""
    catalogue_ = facts.get(compile_catalogue)
    ci = facts.get(ci_facts.collect)
    out: list[ToolUse] = []
    for command in ci.commands:
        out.extend(
            _narrowed(facts, u, command.text) for u in match_command(catalogue_, command, CI)
        )
        out.extend(_build_plugin_uses(facts, catalogue_, command))
    for use in ci.uses:
        out.extend(match_use(facts, use))
    out.extend(_hooks_run_in_ci(facts))
    return out


def _build_plugin_uses(facts: Facts, catalogue_: Catalogue, command: Command) -> list[ToolUse]:
    """Analysers the build applies, run by this command's lifecycle (`./gradlew check`)."""
    out: list[ToolUse] = []
    seen: set[str] = set()
    for text in runnable_text(command.text):
        for plugin in build_plugins.runs(facts, text):
            tool = next((c.tool for c in catalogue_.tools if c.tool.id == plugin.tool), None)
            if tool is None or tool.id in seen:
                continue
            seen.add(tool.id)
            where = f"{plugin.path}:{plugin.line}" if plugin.line else plugin.path
            evidence = (
                f"`{_short(command.text)}` at {command.where()}{_via(command)} runs {tool.id}, "
                f"applied by `{plugin.plugin}` at {where}"
            )
            out.append(
                ToolUse(tool, CI, _languages(tool), Location(command.path, command.line), evidence)
            )
    return out


# --- runners whose languages depend on their inputs ----------------------------------------------


def _runner_languages(
    facts: Facts, tool: Tool, use: ci_facts.ActionUse
) -> tuple[frozenset[str], str]:
    runners = catalogue.load("runners")
    spec = runners.get("runners", {}).get(tool.id)
    if not isinstance(spec, dict):
        return _languages(tool), ""
    kind = spec.get("kind")
    if kind == "codeql":
        return _codeql(facts, spec, use)
    if kind == "super-linter":
        return _super_linter(spec, use)
    if kind == "megalinter":
        return _megalinter(facts, spec, use)
    return _languages(tool), ""


def _narrowed(facts: Facts, use: ToolUse, text: str) -> ToolUse:
    """A MegaLinter run from a command (`npx mega-linter-runner`) covers what its config file
    enables, as the action does."""
    spec = catalogue.load("runners").get("runners", {}).get(use.tool.id)
    if not isinstance(spec, dict) or spec.get("kind") != "megalinter":
        return use
    flavor = re.search(r"--flavor[\s=]+([\w-]{1,40})", text)
    languages, note = megalinter_languages(
        spec, _megalinter_config(facts), flavor.group(1) if flavor else ""
    )
    return ToolUse(use.tool, use.stage, languages, use.location, use.evidence + note)


def _mapped(names: Iterable[str], mapping: dict[str, Any]) -> set[str]:
    out: set[str] = set()
    for name in names:
        langs = mapping.get(name.strip().lower().strip("'\""))
        if isinstance(langs, list):
            out.update(str(lang) for lang in langs)
    return out


def _codeql(
    facts: Facts, spec: dict[str, Any], use: ci_facts.ActionUse
) -> tuple[frozenset[str], str]:
    mapping: dict[str, Any] = spec.get("languages", {})
    every = {lang for langs in mapping.values() for lang in langs}
    raw = use.inputs.get("languages", "")
    if not use.name.endswith("/init"):
        return frozenset(), ""  # `analyze` and `upload-sarif` analyse what `init` named
    if not raw.strip():
        return frozenset(every), " (no `languages` input: every CodeQL language present)"
    if "${{" in raw:
        text = facts.read(use.path) or ""
        # The matrix is usually in the same workflow: `language: [ 'python', 'javascript' ]`.
        found = re.findall(r"\blanguage:\s*\[([^\]\n]{0,300})\]", text) + re.findall(
            r"-\s*language:\s*['\"]?([\w-]{1,40})", text
        )
        names = [n for chunk in found for n in re.split(r"[,\s]+", chunk) if n]
        languages = _mapped(names, mapping)
        if languages:
            return frozenset(languages), " (languages from the job matrix)"
        return frozenset(every), " (languages from an expression: taken as every CodeQL language)"
    return frozenset(_mapped(re.split(r"[,\s]+", raw), mapping)), ""


def _super_linter(spec: dict[str, Any], use: ci_facts.ActionUse) -> tuple[frozenset[str], str]:
    validators: dict[str, list[str]] = spec.get("validators", {})
    prefix = str(spec.get("env_prefix", "VALIDATE_"))
    not_validators = set(spec.get("not_validators", ()))
    given = {
        k[len(prefix) :].upper(): v.strip().lower()
        for k, v in use.inputs.items()
        if k.upper().startswith(prefix) and k[len(prefix) :].upper() not in not_validators
    }
    enabled = {k for k, v in given.items() if v == "true"}
    disabled = {k for k, v in given.items() if v == "false"}
    if enabled:
        names = [v for v in validators if v in enabled]
        note = f" (only {', '.join(sorted(enabled))} enabled)"
    else:
        names = [v for v in validators if v not in disabled]
        note = f" ({', '.join(sorted(disabled))} disabled)" if disabled else ""
    return frozenset(
        _mapped([n.lower() for n in names], {k.lower(): v for k, v in validators.items()})
    ), note


def _megalinter(
    facts: Facts, spec: dict[str, Any], use: ci_facts.ActionUse
) -> tuple[frozenset[str], str]:
    settings = dict(_megalinter_config(facts, use.inputs.get("MEGALINTER_CONFIG")))
    settings.update({k.upper(): v for k, v in use.inputs.items()})
    flavor = use.name.partition("/flavors/")[2].partition("/")[0]
    return megalinter_languages(spec, settings, flavor)


_MEGALINTER_KEYS = ("ENABLE", "ENABLE_LINTERS", "DISABLE", "DISABLE_LINTERS")


def megalinter_languages(
    spec: dict[str, Any], settings: dict[str, Any], flavor: str = ""
) -> tuple[frozenset[str], str]:
    """The languages a MegaLinter run analyses, from its linters as its settings (the config
    file's keys, then the step's env/with) enable them: a linter maps to the languages it
    analyses, a formatter to none."""
    linters: dict[str, list[str]] = spec.get("linters", {})
    flavors: dict[str, list[str]] = spec.get("flavors", {})
    unresolved = [k for k in _MEGALINTER_KEYS if "${{" in str(settings.get(k, ""))]
    if unresolved:
        # Which linters run depends on a value this scan cannot see: none is claimed.
        return frozenset(), f" ({', '.join(unresolved)} from an expression: no linter counted)"
    enable, enable_linters = _names(settings.get("ENABLE")), _names(settings.get("ENABLE_LINTERS"))
    disable, disable_linters = (
        _names(settings.get("DISABLE")),
        _names(settings.get("DISABLE_LINTERS")),
    )
    active = [
        key
        for key in linters
        if (not enable and not enable_linters)
        or key in enable_linters
        or key.partition("_")[0] in enable
    ]
    active = [k for k in active if k not in disable_linters and k.partition("_")[0] not in disable]
    languages = {lang for key in active for lang in linters[key]}
    notes: list[str] = []
    if flavor and flavor in flavors:
        languages &= set(flavors[flavor])
        notes.append(f"flavor {flavor}")
    for key, names in (
        ("enabled", enable | enable_linters),
        ("disabled", disable | disable_linters),
    ):
        if names:
            notes.append(f"{key} {', '.join(sorted(names)[:8])}")
    if (enable or enable_linters) and not languages:
        notes.append("no analyser among them")
    return frozenset(languages), f" ({'; '.join(notes)})" if notes else ""


def _names(value: Any) -> set[str]:
    if isinstance(value, list):
        return {str(v).strip().upper() for v in value[:500] if str(v).strip()}
    if isinstance(value, str):
        return {v.strip().upper() for v in value.split(",")[:500] if v.strip()}
    return set()


def _megalinter_config(facts: Facts, configured: str | None = None) -> dict[str, Any]:
    """The MegaLinter config file: MEGALINTER_CONFIG when it names a file in the repository,
    else the first of the usual names at the top."""
    candidates = list(_MEGALINTER_FILES)
    if configured and "${{" not in configured and "://" not in configured:
        path = configured.strip()
        while path.startswith(("./", "/")):
            path = path[1:] if path.startswith("/") else path[2:]
        candidates.insert(0, path)
    for path in candidates:
        if path and facts.exists(path):
            doc = load_yaml(facts, path)
            return {str(k).upper(): v for k, v in doc.items()} if isinstance(doc, dict) else {}
    return {}


# --- IDE ---------------------------------------------------------------------------------------


def _setting_matches(rule: str, key: str, value: str) -> bool:
    want_key, has_value, want_value = rule.partition("=")
    if key != want_key:
        return False
    if has_value:
        return value.lower() == want_value.lower() or want_value.lower() in value.lower().split(",")
    return value.lower() not in _OFF


@dataclass
class _ConfigIndex:
    """The catalogue's configuration files and keys, indexed once per catalogue."""

    literal: dict[str, list[_Compiled]]  # file name or path -> tools
    wild: list[tuple[str, _Compiled]]  # globs, in catalogue order
    # Whether any wild glob over the file name / over the whole path can match: most paths
    # match none, and one regex says so faster than a loop of fnmatch.
    any_name: Callable[[str], bool]
    any_path: Callable[[str], bool]
    keys: dict[str, list[tuple[str, _Compiled]]]  # file name -> (dotted key, tool)
    # For finding the candidate paths: file names and name globs; paths; path globs.
    name_globs: tuple[str, ...] = ()
    literal_paths: tuple[str, ...] = ()
    path_globs: tuple[str, ...] = ()


def _config_index(catalogue_: Catalogue) -> _ConfigIndex:
    if catalogue_.config_index is not None:
        return catalogue_.config_index
    literal: dict[str, list[_Compiled]] = {}
    wild: list[tuple[str, _Compiled]] = []
    keys: dict[str, list[tuple[str, _Compiled]]] = {}
    for compiled in catalogue_.tools:
        for glob in compiled.tool.config_files:
            if any(c in glob for c in "*?["):
                wild.append((glob, compiled))
            else:
                literal.setdefault(glob, []).append(compiled)
        for entry in compiled.tool.config_keys:
            file, _, key = entry.partition(":")
            if key:
                keys.setdefault(file, []).append((key, compiled))
    index = _ConfigIndex(
        literal=literal,
        wild=wild,
        any_name=glob_matcher(tuple(g for g, _ in wild if "/" not in g)),
        any_path=glob_matcher(tuple(g for g, _ in wild if "/" in g)),
        keys=keys,
        name_globs=tuple(g for g in [*literal, *(g for g, _ in wild)] if "/" not in g),
        literal_paths=tuple(g for g in literal if "/" in g),
        path_globs=tuple(g for g, _ in wild if "/" in g),
    )
    catalogue_.config_index = index
    return index


def _config_file_uses(facts: Facts, catalogue_: Catalogue) -> list[ToolUse]:
    index = _config_index(catalogue_)
    literal, wild = index.literal, index.wild
    any_name, any_path = index.any_name, index.any_path
    seen: set[tuple[str, str]] = set()
    out: list[ToolUse] = []
    for path in _config_file_candidates(facts, index):
        name = path.rpartition("/")[2]
        by_name, by_path = literal.get(name), literal.get(path)
        globbed = any_name(name) or any_path(path)
        if by_name is None and by_path is None and not globbed:
            continue
        hits = list(by_name or ()) + list(by_path or ())
        if globbed:
            hits += [c for glob, c in wild if fnmatchcase(path if "/" in glob else name, glob)]
        for compiled in hits:
            if (compiled.tool.id, name) in seen:
                continue
            seen.add((compiled.tool.id, name))
            out.append(
                ToolUse(
                    compiled.tool,
                    IDE,
                    _languages(compiled.tool),
                    Location(path),
                    f"configuration file {path} (editor integrations read it)",
                )
            )
    return out


def _config_file_candidates(facts: Facts, index: _ConfigIndex) -> list[str]:
    """The kept paths that can be a configuration file (by name, path or glob), sorted: looked
    up by name, extension and folder rather than testing every path."""
    paths = facts.index
    found = set(paths.named_like(index.name_globs))
    found.update(p for p in index.literal_paths if p in paths.kept_set)
    found.update(paths.like(index.path_globs))
    return sorted(found)


def _config_key_uses(facts: Facts, catalogue_: Catalogue) -> list[ToolUse]:
    out: list[ToolUse] = []
    for file, keys in _config_index(catalogue_).keys.items():
        paths = sorted(facts.by_name.get(file, ()), key=lambda p: (p.count("/"), p))
        for path in paths[:_MAX_CONFIG_FILES]:
            present = _present_keys(facts, path, [k for k, _ in keys])
            for key, compiled in keys:
                if key in present:
                    where = Location(path, present[key])
                    out.append(
                        ToolUse(
                            compiled.tool,
                            IDE,
                            _languages(compiled.tool),
                            where,
                            f"`{key}` settings in {path} (editor integrations read them)",
                        )
                    )
    return out


def _present_keys(facts: Facts, path: str, keys: list[str]) -> dict[str, int | None]:
    """Which of the dotted keys (TOML/JSON) or sections (INI) the file has, with their lines."""
    text = facts.read(path)
    if text is None:
        return {}
    found: dict[str, int | None] = {}
    if path.endswith((".toml", ".json")):
        doc = load_toml(facts, path) if path.endswith(".toml") else load_json(facts, path)
        for key in keys:
            node: Any = doc
            for part in key.split("."):
                node = node.get(part) if isinstance(node, dict) else None
            if node is not None:
                found[key] = _line_of_text(text, f"[{key}") or _line_of_text(
                    text, f'"{key.rpartition(".")[2]}"'
                )
        return found
    sections = parse_ini(text)
    for key in keys:
        if key in sections:
            found[key] = _line_of_text(text, f"[{key}]")
    return found


def _line_of_text(text: str, needle: str) -> int | None:
    index = text.find(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 else None


def ide_uses(facts: Facts) -> list[ToolUse]:
    """Tools recommended or set up for editors, and tools whose configuration is committed."""
    catalogue_ = facts.get(compile_catalogue)
    ide = facts.get(ide_facts.collect)
    out: list[ToolUse] = []
    for ext in ide.extensions:
        for compiled in catalogue_.tools:
            if ext.id in compiled.extensions:
                out.append(
                    ToolUse(
                        compiled.tool,
                        IDE,
                        _languages(compiled.tool),
                        Location(ext.path, ext.line),
                        f"VS Code extension `{ext.id}` recommended in {ext.path}",
                    )
                )
    for setting in ide.settings:
        for compiled in catalogue_.tools:
            if any(
                _setting_matches(rule, setting.key, setting.value)
                for rule in compiled.tool.ide_settings
            ) or (setting.value.lower() in compiled.extensions):
                out.append(
                    ToolUse(
                        compiled.tool,
                        IDE,
                        _languages(compiled.tool),
                        Location(setting.path, setting.line),
                        f"VS Code setting `{setting.key}` in {setting.path}",
                    )
                )
    for path in ide.idea_files:
        text = facts.read(path) or ""
        for compiled in catalogue_.tools:
            name = next((n for n in compiled.tool.jetbrains if n in text), None)
            if name is not None:
                where = Location(path, _line_of_text(text, name))
                out.append(
                    ToolUse(
                        compiled.tool,
                        IDE,
                        _languages(compiled.tool),
                        where,
                        f"JetBrains IDE configuration {path} names `{name}`",
                    )
                )
    out.extend(_config_file_uses(facts, catalogue_))
    out.extend(_config_key_uses(facts, catalogue_))
    return out


def uses_by_stage(facts: Facts) -> dict[str, list[ToolUse]]:
    return {PRE_COMMIT: facts.get(precommit_uses), CI: facts.get(ci_uses), IDE: facts.get(ide_uses)}


__all__ = [
    "ALL",
    "CI",
    "IDE",
    "PRE_COMMIT",
    "STAGES",
    "PreCommitRun",
    "ToolUse",
    "ci_uses",
    "ide_uses",
    "precommit_uses",
]
