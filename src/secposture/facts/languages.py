"""Languages of the product, from file names (identify tags) and path patterns.

Test data, examples and development environments (facts.product_paths) add none.

File names alone decide: reading every file for a shebang would cost a scan its speed, and a script
without an extension is rare in the languages the baseline names. One exception: a file named like
a Dockerfile that has no FROM instruction is a fragment (labels a script appends to other
Dockerfiles), not a Dockerfile; repositories have few, so they are read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from identify import identify

from secposture import catalogue
from secposture.facts.interface import Facts

_EXAMPLES = 3
MAX_SAMPLED = 2000


@dataclass
class Language:
    name: str
    infrastructure: bool
    files: int = 0
    examples: list[str] = field(default_factory=list)
    # False: infrastructure found by names alone, which static-analysis does not ask about.
    static_analysis: bool = True
    # Its files, up to MAX_SAMPLED: what a hook's or lint-staged entry's file filter is tried on.
    sample: list[str] = field(default_factory=list, repr=False)


@dataclass(frozen=True)
class _Spec:
    spec: dict[str, Any]
    by_tag: dict[str, str]
    patterns: tuple[tuple[re.Pattern[str], str], ...]
    any_pattern: re.Pattern[str] | None  # every path pattern in one: most paths match none
    # The file-name endings a path pattern can match (None: any): a string test before the regex.
    suffixes: tuple[str, ...] | None = None


@cache
def _compiled(ignored: frozenset[str]) -> _Spec:
    """The catalogue less the ignored languages, compiled once per process and ignore list."""
    spec = catalogue.load("languages")["languages"]
    by_tag: dict[str, str] = {}
    patterns: list[tuple[re.Pattern[str], str]] = []
    suffixes: list[str] | None = []
    for name, entry in spec.items():
        if name in ignored:
            continue
        for tag in entry.get("tags", ()):
            by_tag.setdefault(tag, name)
        patterns.extend((re.compile(p), name) for p in entry.get("path_patterns", ()))
        if entry.get("path_patterns"):
            ends = entry.get("path_suffixes")
            suffixes = None if ends is None or suffixes is None else suffixes + list(ends)
    joined = "|".join(f"(?:{rx.pattern})" for rx, _ in patterns)
    return _Spec(
        spec,
        by_tag,
        tuple(patterns),
        re.compile(joined) if patterns else None,
        tuple(suffixes) if suffixes is not None else None,
    )


@lru_cache(maxsize=16384)
def _tag_names(ignored: frozenset[str], basename: str) -> frozenset[str]:
    """Languages a file name's identify tags give: many names recur (`__init__.py`, `index.ts`)."""
    by_tag = _compiled(ignored).by_tag
    return frozenset(by_tag[t] for t in identify.tags_from_filename(basename) if t in by_tag)


def collect(facts: Facts) -> dict[str, Language]:
    """Languages by name, in catalogue order, less the policy's `static_analysis.ignore_languages`."""
    ignored = facts.policy.ignore_languages
    compiled = _compiled(ignored)
    spec = compiled.spec
    any_pattern = compiled.any_pattern
    found: dict[str, Language] = {}
    # The product's languages: test data, examples and development environments add none.
    product = facts.index.product
    # The paths a path pattern matches, filtered in one pass (most paths match none).
    candidates = product.paths
    if compiled.suffixes is not None:
        candidates = tuple(p for p in candidates if p.endswith(compiled.suffixes))
    matched = frozenset(filter(any_pattern.search, candidates)) if any_pattern else frozenset()
    for path, file_name in zip(product.paths, product.names, strict=True):
        names = _tag_names(ignored, file_name)
        if path in matched:
            names = names | {name for rx, name in compiled.patterns if rx.search(path)}
        if DOCKERFILE in names and dockerfile_fragment(facts, path):
            names = names - {DOCKERFILE}
        for name in names:
            lang = found.get(name)
            if lang is None:
                entry = spec[name]
                lang = found[name] = Language(
                    name,
                    bool(entry.get("infrastructure", False)),
                    static_analysis=bool(entry.get("static_analysis", True)),
                )
            lang.files += 1
            if len(lang.examples) < _EXAMPLES:
                lang.examples.append(path)
            if len(lang.sample) < MAX_SAMPLED:
                lang.sample.append(path)
    return {name: found[name] for name in spec if name in found}


DOCKERFILE = "dockerfile"
_FROM = re.compile(r"^[ \t]*FROM[ \t]+\S", re.IGNORECASE | re.MULTILINE)


def dockerfile_fragment(facts: Facts, path: str) -> bool:
    """A file named like a Dockerfile that names no base image (no FROM instruction): a
    fragment, which builds no image of its own. One that cannot be read is taken to be a
    Dockerfile: what it holds is not known."""
    text = facts.read(path)
    return text is not None and _FROM.search(text) is None


def analysed(facts: Facts) -> dict[str, Language]:
    """The languages present that the static-analysis control asks about."""
    return {n: lang for n, lang in facts.get(collect).items() if lang.static_analysis}
