"""Which languages a hook's or a lint-staged entry's file filter lets through.

A linter that runs only on the files its filter passes analyses nothing else: an eslint hook left
at mirrors-eslint's default `types: [javascript]`, or a lint-staged `"*.js"` entry, never sees a
TypeScript file. A filter covers a language when it passes at least one of that language's files
in the repository (facts.languages keeps a sample of each language's files).

Two filter forms:
- pre-commit: `files` / `exclude` (Python regular expressions searched over the path), `types`
  (all of these identify tags), `types_or` (any of them) and `exclude_types` (none of them);
- lint-staged: globs (micromatch): without a `/` a glob matches the file name anywhere, with one it
  matches the path relative to the folder of the lint-staged config.

Filters come from repository files, so they are hostile: regular expressions run on RE2 (linear
time, bounded memory), globs are translated by a bounded translator, and a filter this module
cannot decide (a Python-only regex, an extglob negation) covers every language: it is evidence
this module cannot narrow, never a reason to fail.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from identify import identify

from secposture import catalogue
from secposture.facts import languages
from secposture.facts.interface import Facts
from secposture.policy_regex import Pattern, compile_pattern

MAX_FILTER_CHARS = 2000  # a longer regex or glob is not decided (it covers every language)
MAX_GLOBS = 100
MAX_BRACE_EXPANSIONS = 64
# Tags identify gives from the file system, not from a name: a filter asking for them can pass
# a file of any language, and one excluding them cannot be sure to exclude it.
_UNKNOWABLE_TAGS = frozenset({"executable", "non-executable", "symlink"})
_ALWAYS_TAGS = frozenset({"file"})


@dataclass(frozen=True)
class FileFilter:
    """A file filter; None in a field means the key was not given (its default applies)."""

    files: str | None = None
    exclude: str | None = None
    types: tuple[str, ...] | None = None
    types_or: tuple[str, ...] | None = None
    exclude_types: tuple[str, ...] | None = None
    globs: tuple[str, ...] | None = None  # lint-staged: any of them
    base: str = ""  # the folder lint-staged globs with a `/` are relative to
    origin: str = ""  # where it was read: "pre-commit/mirrors-eslint's default", a file:line

    def over(self, defaults: FileFilter | None) -> FileFilter:
        """This filter's keys over a hook repository's defaults (pre-commit merges key by key)."""
        if defaults is None:
            return self
        return FileFilter(
            files=self.files if self.files is not None else defaults.files,
            exclude=self.exclude if self.exclude is not None else defaults.exclude,
            types=self.types if self.types is not None else defaults.types,
            types_or=self.types_or if self.types_or is not None else defaults.types_or,
            exclude_types=(
                self.exclude_types if self.exclude_types is not None else defaults.exclude_types
            ),
            globs=self.globs if self.globs is not None else defaults.globs,
            base=self.base or defaults.base,
            origin=self.origin or defaults.origin,
        )

    @property
    def narrows(self) -> bool:
        """Whether it can pass fewer files than every file."""
        return any(
            v not in (None, "", ()) and v != ("file",)
            for v in (self.files, self.types, self.types_or, self.exclude_types, self.globs)
        ) or self.exclude not in (None, "", "^$")

    def describe(self) -> str:
        parts = []
        if self.globs is not None:
            parts.append(" ".join(f"`{g}`" for g in self.globs[:5]))
        for key in ("files", "exclude"):
            value = getattr(self, key)
            if value not in (None, "", "^$"):
                parts.append(f"{key}: `{value[:80]}`")
        for key in ("types", "types_or", "exclude_types"):
            value = getattr(self, key)
            if value:
                parts.append(f"{key}: [{', '.join(value[:8])}]")
        text = ", ".join(parts) or "every file"
        return f"{text} ({self.origin})" if self.origin else text


# --- reading filters -----------------------------------------------------------------------------


def _tags(raw: Any) -> tuple[str, ...] | None:
    if isinstance(raw, str):
        return (raw,)
    if isinstance(raw, list):
        return tuple(str(t) for t in raw[:50] if isinstance(t, str | int))
    return None


def _regex(raw: Any) -> str | None:
    return raw if isinstance(raw, str) else None


def from_hook(raw: Mapping[Any, Any], origin: str = "") -> FileFilter | None:
    """The filter keys a pre-commit hook entry (or a hook repository's manifest) sets; None when
    it sets none."""
    keys = ("files", "exclude", "types", "types_or", "exclude_types")
    if not any(k in raw for k in keys):
        return None
    return FileFilter(
        files=_regex(raw.get("files")),
        exclude=_regex(raw.get("exclude")),
        types=_tags(raw.get("types")),
        types_or=_tags(raw.get("types_or")),
        exclude_types=_tags(raw.get("exclude_types")),
        origin=origin,
    )


def from_globs(globs: Iterable[str], base: str = "", origin: str = "") -> FileFilter:
    """A lint-staged entry's filter: its key (one glob, or a brace list)."""
    return FileFilter(globs=tuple(list(globs)[:MAX_GLOBS]), base=base.strip("/"), origin=origin)


@lru_cache(maxsize=1)
def _hook_defaults() -> dict[tuple[str, str], FileFilter]:
    out: dict[tuple[str, str], FileFilter] = {}
    for entry in catalogue.load("tools").get("hook_filters", []):
        repo, hook = str(entry.get("repo", "")).lower(), str(entry.get("hook", ""))
        found = from_hook(entry, f"{repo}'s default for `{hook}`")
        if repo and hook and found is not None:
            out[(repo, hook)] = found
    return out


def hook_default(repo: str, hook_id: str) -> FileFilter | None:
    """The filter a well-known hook repository gives a hook in its .pre-commit-hooks.yaml."""
    return _hook_defaults().get((repo.lower(), hook_id))


# --- deciding ------------------------------------------------------------------------------------


def _verbose_to_compact(pattern: str) -> str:
    """`(?x)` patterns (common in pre-commit configs) without their whitespace and comments, as
    RE2 has no verbose mode: whitespace and `#...` outside classes and escapes are dropped."""
    out: list[str] = []
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        ch = pattern[i]
        if ch == "\\" and i + 1 < n:
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
            out.append(ch)
        elif ch == "[":
            in_class = True
            out.append(ch)
            if pattern[i + 1 : i + 2] == "]":  # `[]...]`: a literal ] first
                out.append("]")
                i += 1
        elif ch.isspace():
            pass
        elif ch == "#":
            end = pattern.find("\n", i)
            i = n if end < 0 else end
            continue
        else:
            out.append(ch)
        i += 1
    return "".join(out)


_VERBOSE = re.compile(r"^\(\?([aiLmsux]*)x([aiLmsux]*)\)")


@lru_cache(maxsize=512)
def compile_filter_regex(pattern: str) -> Pattern | None:
    """A pre-commit `files`/`exclude` regex on RE2; None when it cannot be decided."""
    if len(pattern) > MAX_FILTER_CHARS:
        return None
    verbose = _VERBOSE.match(pattern)
    if verbose is not None:
        flags = verbose.group(1) + verbose.group(2)
        body = _verbose_to_compact(pattern[verbose.end() :])
        pattern = (f"(?{flags})" if flags else "") + body
    try:
        return compile_pattern(pattern)
    except ValueError:
        return None


def _expand_braces(glob: str, budget: list[int]) -> list[str] | None:
    """`*.{js,ts}` -> `*.js`, `*.ts` (nested braces too); None beyond the budget or unbalanced."""
    start = glob.find("{")
    if start < 0:
        return [glob]
    depth = 0
    for end in range(start, len(glob)):
        if glob[end] == "{":
            depth += 1
        elif glob[end] == "}":
            depth -= 1
            if depth == 0:
                break
    else:
        return None
    inner = glob[start + 1 : end]
    if ".." in inner and "," not in inner:
        return None  # a range ({1..3}): rare in lint-staged keys, not decided
    options, depth, last = [], 0, 0
    for i, ch in enumerate(inner):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "," and depth == 0:
            options.append(inner[last:i])
            last = i + 1
    options.append(inner[last:])
    out: list[str] = []
    for option in options:
        budget[0] -= 1
        if budget[0] < 0:
            return None
        expanded = _expand_braces(glob[:start] + option + glob[end + 1 :], budget)
        if expanded is None:
            return None
        out.extend(expanded)
    return out


_EXTGLOB = re.compile(r"([@+*?])\(([^()]*)\)")


def glob_regex(glob: str) -> str | None:
    """A micromatch glob as a regular expression over a path (for RE2); None when undecided."""
    if not glob or len(glob) > MAX_FILTER_CHARS or glob.startswith("!") or "!(" in glob:
        return None
    expanded = _expand_braces(glob, [MAX_BRACE_EXPANSIONS])
    if expanded is None:
        return None
    return "|".join(f"(?:{_one_glob(g)})" for g in expanded)


def _one_glob(glob: str) -> str:
    out: list[str] = []
    i, n = 0, len(glob)
    while i < n:
        ext = _EXTGLOB.match(glob, i)
        if ext is not None:
            kind, body = ext.group(1), ext.group(2)
            alternatives = "|".join(_one_glob(part) for part in body.split("|"))
            out.append(f"(?:{alternatives})" + {"@": "", "+": "+", "*": "*", "?": "?"}[kind])
            i = ext.end()
            continue
        ch = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:[^/]*/)*")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif ch == "*":
            out.append("[^/]*")
            i += 1
        elif ch == "?":
            out.append("[^/]")
            i += 1
        elif ch == "[":
            end = glob.find("]", i + 2)
            if end < 0:
                out.append(re.escape(ch))
                i += 1
            else:
                body = glob[i + 1 : end]
                negate = body[:1] in ("!", "^")
                body = body[1:] if negate else body
                cleaned = "".join("\\" + c if c in "\\]^[" else c for c in body)
                out.append(f"[{'^' if negate else ''}{cleaned}]")
                i = end + 1
        elif ch == "\\" and i + 1 < n:
            out.append(re.escape(glob[i + 1]))
            i += 2
        else:
            out.append(re.escape(ch))
            i += 1
    return "".join(out)


@lru_cache(maxsize=512)
def _compiled_globs(globs: tuple[str, ...], base: str) -> tuple[Pattern, Pattern | None] | None:
    """(over file names, over paths) for the globs without and with a `/`; None if undecided."""
    by_name, by_path = [], []
    for glob in globs:
        rx = glob_regex(glob.lstrip("./") if glob.startswith("./") else glob)
        if rx is None:
            return None
        if "/" in glob.rstrip("/"):
            prefix = re.escape(base + "/") if base else ""
            by_path.append(f"^{prefix}(?:{rx})$")
        else:
            by_name.append(f"^(?:{rx})$")
    try:
        name_rx = compile_pattern("|".join(by_name)) if by_name else None
        path_rx = compile_pattern("|".join(by_path)) if by_path else None
    except ValueError:
        return None
    if name_rx is None and path_rx is None:
        return None
    return (name_rx or _NEVER, path_rx)


class _Never:
    pattern = "(?!)"
    groups = 0

    def search(self, text: str) -> None:
        return None


_NEVER = _Never()


@lru_cache(maxsize=16384)
def _tags_of(name: str) -> frozenset[str]:
    return frozenset(identify.tags_from_filename(name)) | _ALWAYS_TAGS


def _types_pass(flt: FileFilter, tags: frozenset[str]) -> bool:
    types = ("file",) if flt.types is None else flt.types
    if not all(t in tags or t in _UNKNOWABLE_TAGS for t in types):
        return False
    if flt.types_or and not any(t in tags or t in _UNKNOWABLE_TAGS for t in flt.types_or):
        return False
    return not any(t in tags for t in flt.exclude_types or ())


def passes(flt: FileFilter, path: str) -> bool | None:
    """Whether the filter passes `path`; None when it cannot be decided."""
    name = path.rpartition("/")[2]
    if not _types_pass(flt, _tags_of(name)):
        return False
    return _paths_pass(flt, path, name)


def _paths_pass(flt: FileFilter, path: str, name: str) -> bool | None:
    """The filter's globs and regular expressions on one path (its types aside)."""
    if flt.globs is not None:
        # lint-staged hands an entry only the staged files under its config's folder.
        if flt.base and not path.startswith(flt.base + "/"):
            return False
        compiled = _compiled_globs(flt.globs, flt.base)
        if compiled is None:
            return None
        name_rx, path_rx = compiled
        if not (name_rx.search(name) or (path_rx is not None and path_rx.search(path))):
            return False
    if flt.files:
        files = compile_filter_regex(flt.files)
        if files is None:
            return None
        if not files.search(path):
            return False
    if flt.exclude and flt.exclude != "^$":
        exclude = compile_filter_regex(flt.exclude)
        # An exclude that cannot be decided is left out: it could keep this file or drop it.
        if exclude is not None and exclude.search(path):
            return False
    return True


def _decided(facts: Facts) -> dict[FileFilter, frozenset[str] | None]:
    """Filters already decided in this scan (a hook's is asked for pre-commit, CI and more)."""
    return {}


def _tag_groups(facts: Facts) -> dict[str, dict[frozenset[str], tuple[str, ...]]]:
    """Each language's sampled files grouped by their identify tags: a types-only filter is
    decided once per group, not once per file."""
    out: dict[str, dict[frozenset[str], tuple[str, ...]]] = {}
    for name, lang in facts.get(languages.collect).items():
        groups: dict[frozenset[str], list[str]] = {}
        for path in lang.sample:
            groups.setdefault(_tags_of(path.rpartition("/")[2]), []).append(path)
        out[name] = {tags: tuple(paths) for tags, paths in groups.items()}
    return out


def languages_passed(facts: Facts, flt: FileFilter) -> frozenset[str] | None:
    """The languages present at least one of whose files the filter passes; None when the filter
    cannot be decided (then it narrows nothing)."""
    if not flt.narrows:
        return None
    decided = facts.get(_decided)
    if flt not in decided:
        decided[flt] = _languages_passed(facts, flt)
    return decided[flt]


def _languages_passed(facts: Facts, flt: FileFilter) -> frozenset[str] | None:
    by_path = flt.globs is not None or bool(flt.files) or flt.exclude not in (None, "", "^$")
    present = facts.get(languages.collect)
    out: set[str] = set()
    for name, groups in facts.get(_tag_groups).items():
        found = False
        for tags, paths in groups.items():
            if not _types_pass(flt, tags):
                continue
            if not by_path:
                found = True
                break
            result = _any_path_passes(flt, paths)
            if result is None:
                return None
            if result:
                found = True
                break
        # Only a sample was tried: a larger language the sample misses is not decided.
        lang = present[name]
        if found or lang.files > len(lang.sample):
            out.add(name)
    return frozenset(out)


def _any_path_passes(flt: FileFilter, paths: tuple[str, ...]) -> bool | None:
    for path in paths:
        result = _paths_pass(flt, path, path.rpartition("/")[2])
        if result is None:
            return None
        if result:
            return True
    return False


def narrowed(
    covered: frozenset[str], passed: frozenset[str] | None, every: str = "*"
) -> frozenset[str]:
    """A use's languages less those its filter lets no file of through."""
    if passed is None:
        return covered
    if every in covered:
        return passed
    return covered & passed


__all__ = [
    "FileFilter",
    "compile_filter_regex",
    "from_globs",
    "from_hook",
    "glob_regex",
    "hook_default",
    "languages_passed",
    "narrowed",
    "passes",
]
