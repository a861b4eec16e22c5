"""Languages present in the repository, from file names (identify tags) and path patterns.

File names alone decide: reading every file for a shebang would cost a scan its speed, and a script
without an extension is rare in the languages the baseline names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from identify import identify

from secposture import catalogue
from secposture.facts.interface import Facts

_EXAMPLES = 3


@dataclass
class Language:
    name: str
    infrastructure: bool
    files: int = 0
    examples: list[str] = field(default_factory=list)


def collect(facts: Facts) -> dict[str, Language]:
    """Languages by name, in catalogue order, less the policy's `static_analysis.ignore_languages`."""
    spec = catalogue.load("languages")["languages"]
    ignored = facts.policy.ignore_languages
    by_tag: dict[str, str] = {}
    patterns: list[tuple[re.Pattern[str], str]] = []
    for name, entry in spec.items():
        if name in ignored:
            continue
        for tag in entry.get("tags", ()):
            by_tag.setdefault(tag, name)
        patterns.extend((re.compile(p), name) for p in entry.get("path_patterns", ()))
    found: dict[str, Language] = {}

    def add(name: str, path: str) -> None:
        lang = found.get(name)
        if lang is None:
            lang = found[name] = Language(name, bool(spec[name].get("infrastructure", False)))
        lang.files += 1
        if len(lang.examples) < _EXAMPLES:
            lang.examples.append(path)

    for path in facts.paths:
        basename = path.rpartition("/")[2]
        names = {by_tag[t] for t in identify.tags_from_filename(basename) if t in by_tag}
        names.update(name for rx, name in patterns if rx.search(path))
        for name in names:
            add(name, path)
    return {name: found[name] for name in spec if name in found}
