from __future__ import annotations

from secposture.facts import ci as ci_facts
from secposture.facts import ide, languages, precommit, tools
from secposture.facts.interface import Facts
from secposture.facts.references import Unread, significant
from secposture.facts.tools import CI, IDE, PRE_COMMIT, STAGES, ToolUse
from secposture.model import Finding, Location, Outcome, Problem
from secposture.policy import Tool
from secposture.probes.interface import finding, probe_id, unanalysed, unread
from secposture.text import plural

PROBE = probe_id(__name__)
PURPOSE = "static-analysis"
_STAGE_LABEL = {PRE_COMMIT: "pre-commit", CI: "CI", IDE: "the IDE"}
_EVIDENCE_SHOWN = 3
_SUGGESTIONS = 3


def run(facts: Facts) -> list[Finding]:
    present = languages.analysed(facts)
    if not present:
        return [
            finding(
                PROBE,
                Outcome.NOT_APPLICABLE,
                "no language that the tool catalogue covers is present",
            )
        ]
    analysers = {
        stage: [u for u in uses if u.has_purpose(PURPOSE)]
        for stage, uses in tools.uses_by_stage(facts).items()
    }
    out: list[Finding] = []
    for language in present.values():
        for stage in STAGES:
            found = [u for u in analysers[stage] if u.covers(language.name)]
            out.append(_finding(facts, language, stage, found))
    return out


def _first_per_tool(uses: list[ToolUse]) -> list[ToolUse]:
    seen: dict[str, ToolUse] = {}
    for use in uses:
        seen.setdefault(use.tool.id, use)
    return list(seen.values())


def _finding(
    facts: Facts, language: languages.Language, stage: str, found: list[ToolUse]
) -> Finding:
    firsts = _first_per_tool(found)
    tool_ids = ",".join(u.tool.id for u in firsts)
    values = {"language": language.name, "stage": stage, "tools": tool_ids}
    if firsts:
        shown = "; ".join(u.describe() for u in firsts[:_EVIDENCE_SHOWN])
        more = (
            f"; and {len(firsts) - _EVIDENCE_SHOWN} more" if len(firsts) > _EVIDENCE_SHOWN else ""
        )
        message = f"{language.name} is analysed in {_STAGE_LABEL[stage]}: {shown}{more}"
        return finding(PROBE, Outcome.POSITIVE, message, firsts[0].location, **values)
    blind = _unanalysed(facts, stage)
    if blind:
        more = f" (and {len(blind) - 1} more such files)" if len(blind) > 1 else ""
        return unanalysed(
            PROBE,
            blind[0],
            f"whether {_STAGE_LABEL[stage]} runs a static analyser for {language.name} is "
            f"unknown{more}",
            **values,
        )
    refs = _unread(facts, stage)
    if refs:
        consequence = (
            f"whether {_STAGE_LABEL[stage]} runs a static analyser for {language.name} is unknown"
        )
        return unread(PROBE, refs, consequence, **values)
    example = (
        f" ({plural(language.files, 'file')}, e.g. {language.examples[0]})"
        if language.examples
        else ""
    )
    why, where = _missing(facts, stage)
    hint = _suggest(facts, language.name, stage)
    message = (
        f"no static analyser for {language.name}{example} in {_STAGE_LABEL[stage]}: {why}{hint}"
    )
    return finding(PROBE, Outcome.NEGATIVE, message, where, **values)


def _unanalysed(facts: Facts, stage: str) -> list[Problem]:
    """The files of a stage that could not be analysed: an analyser may be configured there."""
    if stage == PRE_COMMIT:
        config = facts.get(precommit.collect)
        problem = facts.problem_for(config.path) if config is not None else None
        return [problem] if config is not None and not config.analysed and problem else []
    if stage == CI:
        return facts.get(ci_facts.collect).unanalysed
    found = (facts.problem_for(path) for path in facts.get(ide.collect).files)
    return [problem for problem in found if problem is not None]


def _unread(facts: Facts, stage: str) -> list[Unread]:
    """References of a stage that could not be read: an analyser may run in them (ADR 0014)."""
    if stage == CI:
        return facts.get(ci_facts.collect).unread
    if stage == PRE_COMMIT:
        config = facts.get(precommit.collect)
        if config is None:
            return []
        return [
            h.unread for h in config.hooks if h.unread is not None and significant(facts, h.unread)
        ]
    return []


def _missing(facts: Facts, stage: str) -> tuple[str, Location | None]:
    """Why nothing was found at a stage, and the file that was checked."""
    if stage == PRE_COMMIT:
        config = facts.get(precommit.collect)
        if config is None:
            return "there is no .pre-commit-config.yaml", None
        if not config.valid:
            problem = facts.problem_for(config.path)
            return (
                f"{config.path} cannot be used ({problem.message if problem else 'malformed'})",
                Location(config.path, problem.line if problem else None),
            )
        return f"no hook in {config.path} covers it", Location(config.path)
    if stage == CI:
        files = facts.get(ci_facts.collect).files
        if not files:
            return (
                "no CI configuration was found (GitHub workflows, GitLab CI, CircleCI, Jenkinsfile, Azure, Bitbucket)",
                None,
            )
        listed = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
        return f"none of the CI configuration ({listed}) runs one", Location(files[0])
    return (
        "no editor extension is recommended (.vscode/extensions.json, devcontainer), no editor setting enables one and no analyser configuration file is committed",
        None,
    )


# Suggestions for the last tool set seen, by (language, stage): an estate scan shares one policy's
# tools (the same object: found by identity, as hashing 80 tools costs more than the pass over
# the catalogue that each suggestion is).
_suggestions: tuple[tuple[Tool, ...], dict[tuple[str, str], str]] | None = None


def _suggest(facts: Facts, language: str, stage: str) -> str:
    global _suggestions
    tools = facts.policy.tools
    if _suggestions is None or _suggestions[0] is not tools:
        _suggestions = (tools, {})
    memo = _suggestions[1]
    key = (language, stage)
    if key not in memo:
        memo[key] = _suggestion(tools, language, stage)
    return memo[key]


def _suggestion(tools: tuple[Tool, ...], language: str, stage: str) -> str:
    candidates = [
        t for t in tools if PURPOSE in t.purposes and language in t.languages and _usable(t, stage)
    ]
    if not candidates:
        return ""
    return "; add one, e.g. " + ", ".join(_how(t, stage) for t in candidates[:_SUGGESTIONS])


def _usable(tool: Tool, stage: str) -> bool:
    if stage == PRE_COMMIT:
        return bool(tool.precommit_hooks)
    if stage == CI:
        return bool(tool.commands or tool.actions)
    return bool(tool.ide_extensions or tool.config_files)


def _how(tool: Tool, stage: str) -> str:
    if stage == PRE_COMMIT:
        repo = f" from {tool.precommit_repos[0]}" if tool.precommit_repos else ""
        return f"{tool.id} (hook {tool.precommit_hooks[0]}{repo})"
    if stage == CI:
        return f"{tool.id} (action {tool.actions[0]})" if tool.actions else tool.id
    if tool.ide_extensions:
        return f"{tool.id} (extension {tool.ide_extensions[0]})"
    return f"{tool.id} (commit {tool.config_files[0]})"
