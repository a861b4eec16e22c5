"""Pre-commit hooks of hook repositories, followed to what they run (ADR 0014).

A hook id names no tool by itself: `baseline` from a team's security-hooks repository may run
gitleaks. For a hook the catalogues do not know (tools.toml by hook id or repository, the leaf
hook repositories of data/shared_actions.toml), the repository's `.pre-commit-hooks.yaml` is read
at the config's `rev`, and the hook's `entry` (with the config's `args`, else its own) is what
runs; for `language: script` the entry is a script of that repository, read too. A hook
repository that cannot be read falls back to the catalogue of shared actions; else the hook is
unread, and the controls that depend on it are `unknown`.
"""

from __future__ import annotations

import shlex
from dataclasses import replace
from typing import Any

from secposture.facts.interface import Facts
from secposture.facts.parsing import line_of, load_yaml
from secposture.facts.precommit import Hook, HookDefinition
from secposture.facts.references import (
    CATALOGUE_LABEL,
    HOOKS_KIND,
    Read,
    Unread,
    hooks_reference,
    read_first,
    record_unread,
    shared_catalogue,
    why_unread,
)
from secposture.facts.scripts import Command, Expander
from secposture.model import Location
from secposture.sources.references.interface import reference, valid_path

_NOT_REPOSITORIES = ("local", "meta", "builtin")


def resolve_hooks(facts: Facts, config_path: str, hooks: list[Hook]) -> list[Hook]:
    """The hooks with what their repositories define them to run, where that is needed."""
    return [_resolved(facts, config_path, hook) for hook in hooks]


def _resolved(facts: Facts, config_path: str, hook: Hook) -> Hook:
    if hook.repo in _NOT_REPOSITORIES or "/" not in hook.repo or "://" in hook.repo:
        return hook
    if hook.entry is not None:
        return hook  # the config overrides the entry: that is what runs
    catalogue = shared_catalogue(facts)
    catalogued = catalogue.hook_repos.get(hook.repo)
    if catalogued is None and catalogue.known_hook(hook.repo, hook.id):
        return hook  # the tool catalogue knows it by its id or repository
    anchor = Location(config_path, hook.line)
    uses = f"{hook.repo}@{hook.rev or '?'} hook `{hook.id[:80]}`"
    base = Unread(uses, HOOKS_KIND, config_path, hook.line, "", "", anchor)
    ref = hooks_reference(hook.repo, hook.rev or "")
    if ref is None:
        why = "its `rev` is not a plain tag, branch or commit" if hook.rev else "it has no `rev`"
        return replace(hook, unread=record_unread(facts, replace(base, why=why)))
    found = read_first(facts, [ref])
    if isinstance(found, Read):
        return _defined(facts, hook, found, base)
    if catalogued is not None and hook.id in catalogued.hooks:
        label = f"{hook.repo} ({CATALOGUE_LABEL}, from {catalogued.origin})"
        definition = HookDefinition(catalogued.hooks[hook.id], None, label, None, catalogued=True)
        return replace(hook, definition=definition)
    why, how = why_unread(found)
    return replace(hook, unread=record_unread(facts, replace(base, why=why, how=how)))


def _defined(facts: Facts, hook: Hook, found: Read, base: Unread) -> Hook:
    doc = load_yaml(facts, found.key)
    if not isinstance(doc, list):
        problem = facts.problem_for(found.key)
        why = problem.message if problem else "it is not a list of hooks"
        unread = replace(base, why=f"{found.key} cannot be analysed ({why})")
        return replace(hook, unread=record_unread(facts, unread))
    for index, raw in enumerate(doc[:500]):
        if isinstance(raw, dict) and str(raw.get("id")) == hook.id:
            return replace(
                hook, definition=_definition(facts, hook, found, raw, line_of(doc, index))
            )
    unread = replace(base, why=f"{found.key} defines no hook `{hook.id[:80]}`", how="")
    return replace(hook, unread=record_unread(facts, unread))


def _definition(
    facts: Facts, hook: Hook, found: Read, raw: dict[Any, Any], line: int | None
) -> HookDefinition:
    entry = raw.get("entry")
    entry_text = "" if entry is None or isinstance(entry, dict | list) else str(entry)[:2000]
    own_args = raw.get("args")
    args = hook.args
    if args is None and isinstance(own_args, list):
        args = tuple(str(a) for a in own_args[:100] if isinstance(a, str | int | float))
    command = " ".join([entry_text, *(shlex.quote(a) for a in args or ())]).strip()
    language = raw.get("language")
    language_text = str(language) if isinstance(language, str) else None
    definition = HookDefinition(command, language_text, found.key, line)
    if language_text != "script" or not entry_text.strip():
        return definition
    # `language: script`: the entry's first word is a script of the hook repository.
    first = entry_text.split()[0]
    path = valid_path(first)
    script = reference(found.reference.repo, found.reference.ref, path) if path else None
    if script is None:
        return replace(definition, script_why="its script path is not a plain relative path")
    read = read_first(facts, [script])
    if isinstance(read, Read):
        return replace(definition, script=read.key)
    why, _ = why_unread(read)
    return replace(definition, script_why=why)


def hook_commands(facts: Facts, hook: Hook, config_path: str) -> list[Command]:
    """The commands a hook runs: its entry in the config, else its definition's entry and, for a
    script hook, the script's lines; each with the chain from the config's line."""
    expander = Expander(facts)
    if hook.entry:
        return expander.expand(hook.entry, config_path, hook.line)
    definition = hook.definition
    if definition is None or not definition.entry:
        return []
    via = (f"hook `{hook.id[:80]}` at {config_path}:{hook.line}",)
    anchor = (config_path, hook.line)
    out = expander.expand(definition.entry, definition.path, definition.line, via, anchor=anchor)
    if definition.script is not None:
        text = facts.read(definition.script) or ""
        hop = f"`{definition.entry[:120]}` at {definition.path}:{definition.line}"
        out += expander.expand(text, definition.script, 1, (*via, hop), anchor=anchor)
    return out
