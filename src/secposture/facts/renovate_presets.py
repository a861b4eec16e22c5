"""Renovate presets kept in other repositories, read like the other references (ADR 0014):
`github>OWNER/REPO[//PATH][:PRESET][#TAG]` and `local>OWNER/REPO[:PRESET]` in `extends` name a
JSON (or JSON5) file of that repository (`default.json` for the default preset, `PRESET.json`
for a named one) at the tag, else at the default branch. Presets extend further presets; each is
followed to a depth of four, never around a cycle.

`resolve` gives the config as Renovate would merge it: each preset in `extends` order, then the
file's own keys over them (objects merged key by key, `packageRules` added to, anything else
replaced). Built-in presets (`config:recommended`, `:semanticCommits`, `helpers:...`) are not
references: they are kept, in order, in `extends` of the result for the caller to interpret. A
preset that could not be read is `unread`: what it sets is unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from secposture.facts.interface import Facts
from secposture.facts.references import (
    MAX_DEPTH,
    PRESET_KIND,
    Read,
    Unread,
    read_first,
    record_unread,
    why_unread,
)
from secposture.model import Location
from secposture.sources.references.interface import Reference, reference, valid_path

# github>owner/repo, //path/to/preset, :preset, (args), #tag
_PRESET = re.compile(
    r"^(?P<host>github|local)>(?P<repo>[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+?)"
    r"(?://(?P<path>[^:#()]+))?(?::(?P<name>[^#()]+))?(?:\([^)]*\))?(?:#(?P<tag>[^\s]+))?$"
)
_OTHER_HOSTS = ("gitlab>", "gitea>", "bitbucket>", "bitbucket-server>", "forgejo>")
_MAX_PRESETS = 50


@dataclass
class Resolved:
    config: dict[str, Any]  # merged: presets first, the file's own keys over them
    read: list[str] = field(default_factory=list)  # keys of the preset files read, in order
    unread: list[Unread] = field(default_factory=list)


def preset_candidates(name: str) -> list[Reference] | None:
    """The files a repository preset names (JSON, then JSON5); None when `name` is not one."""
    match = _PRESET.match(name.strip())
    if match is None:
        return None
    ref = match.group("tag") or "HEAD"
    folder = (match.group("path") or "").strip("/")
    preset = match.group("name")
    if preset is None and folder:
        folder, _, preset = folder.rpartition("/")
    stems = [preset] if preset else ["default", "renovate"]
    out: list[Reference] = []
    for stem in stems:
        # `:base.json` names the file itself; `:base` names base.json (or base.json5).
        for ext in ("",) if stem.endswith((".json", ".json5")) else (".json", ".json5"):
            path = valid_path(f"{folder}/{stem}{ext}" if folder else f"{stem}{ext}")
            found = reference(match.group("repo"), ref, path) if path else None
            if found is not None:
                out.append(found)
    return out


def resolve(facts: Facts, path: str, data: dict[str, Any], line: int | None = None) -> Resolved:
    """`data` (the config read from `path`) with the presets of other repositories it extends
    merged in, as Renovate does; what could not be read is in `unread`."""
    out = Resolved({})
    merged = _with_presets(facts, path, data, out, (), frozenset(), line)
    out.config = merged
    return out


def _with_presets(
    facts: Facts,
    path: str,
    data: dict[str, Any],
    out: Resolved,
    via: tuple[str, ...],
    chain: frozenset[str],
    line: int | None,
) -> dict[str, Any]:
    extends = data.get("extends")
    names = [e for e in extends if isinstance(e, str)] if isinstance(extends, list) else []
    base: dict[str, Any] = {}
    builtins: list[str] = []
    for name in names[:_MAX_PRESETS]:
        candidates = preset_candidates(name)
        if candidates is None:
            if name.startswith(_OTHER_HOSTS):
                why = "presets on other hosts than GitHub are not read"
                out.unread.append(_unread(facts, name, path, line, via, why))
            else:
                builtins.append(name)
            continue
        preset = _read_preset(facts, name, candidates, path, line, out, via, chain)
        if preset is not None:
            base = _merge(base, preset)
    own = {k: v for k, v in data.items() if k != "extends"}
    merged = _merge(base, own)
    inherited = merged.get("extends")
    merged["extends"] = [*(inherited if isinstance(inherited, list) else []), *builtins]
    return merged


def _read_preset(
    facts: Facts,
    name: str,
    candidates: list[Reference],
    path: str,
    line: int | None,
    out: Resolved,
    via: tuple[str, ...],
    chain: frozenset[str],
) -> dict[str, Any] | None:
    if len(via) >= MAX_DEPTH:
        why = f"it is more than {MAX_DEPTH} presets deep, the limit"
        out.unread.append(_unread(facts, name, path, line, via, why))
        return None
    if any(c.key in chain for c in candidates):
        return None  # a cycle: its keys are merged already
    found = read_first(facts, candidates)
    if not isinstance(found, Read):
        why, how = why_unread(found)
        out.unread.append(_unread(facts, name, path, line, via, why, how))
        return None
    from secposture.facts.dependabot import _load_json5

    doc = _load_json5(facts, found.key)
    if not isinstance(doc, dict):
        problem = facts.problem_for(found.key)
        why = f"{found.key} cannot be analysed ({problem.message if problem else 'not an object'})"
        out.unread.append(_unread(facts, name, path, line, via, why))
        return None
    out.read.append(found.key)
    hop = f"`{name[:120]}` at {path}:{line}" if line else f"`{name[:120]}` at {path}"
    return _with_presets(facts, found.key, doc, out, (*via, hop), chain | {found.key}, None)


def _unread(
    facts: Facts,
    name: str,
    path: str,
    line: int | None,
    via: tuple[str, ...],
    why: str,
    how: str = "",
) -> Unread:
    anchor = Location(path, line)
    return record_unread(facts, Unread(name, PRESET_KIND, path, line, why, how, anchor, via))


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Renovate's merge of a config over another: objects key by key, `packageRules` added
    to, lists and values replaced."""
    out = dict(base)
    for key, value in over.items():
        old = out.get(key)
        if key == "packageRules" and isinstance(old, list) and isinstance(value, list):
            out[key] = [*old, *value]
        elif isinstance(old, dict) and isinstance(value, dict):
            out[key] = _merge(old, value)
        else:
            out[key] = value
    return out
