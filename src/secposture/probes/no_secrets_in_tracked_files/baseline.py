"""The repository's `.secrets.baseline` (detect-secrets), read as hostile input.

Only data is taken from it: accepted secrets (file and hashed secret), the built-in plugins and
filters it names and their plain parameters, and its exclusion regexes once they pass a check
against catastrophic backtracking. Custom plugins and filters (`file://...`) are repository code
and are never loaded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from secposture.facts.interface import Facts
from secposture.facts.parsing import load_json

_MAX_PATTERN = 500
_QUANTIFIERS = frozenset("+*{")
_BACKREFERENCE = re.compile(r"\\[1-9]|\(\?P=")


@dataclass
class Baseline:
    path: str | None = None
    # (file, hashed secret) -> is_secret as audited (None: not audited)
    known: dict[tuple[str, str], bool | None] = field(default_factory=dict)
    plugins: dict[str, dict[str, Any]] | None = None  # None: secposture's defaults
    filters: list[str] | None = None  # None: secposture's defaults
    exclude_files: list[re.Pattern[str]] = field(default_factory=list)
    exclude_lines: list[re.Pattern[str]] = field(default_factory=list)
    exclude_secrets: list[re.Pattern[str]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # settings not honoured, for the report


def safe_regex(pattern: object) -> re.Pattern[str] | str:
    """The compiled pattern, or why it is refused."""
    if not isinstance(pattern, str):
        return f"regex {str(pattern)[:40]!r} is not a string"
    if len(pattern) > _MAX_PATTERN:
        return f"regex of {len(pattern)} characters is too long (limit {_MAX_PATTERN})"
    if nested_quantifier(pattern) or _BACKREFERENCE.search(pattern):
        return f"regex {pattern[:60]!r} could backtrack catastrophically; not used"
    try:
        return re.compile(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        return f"regex {pattern[:60]!r} is invalid: {exc}"


def nested_quantifier(pattern: str) -> bool:
    """Whether a quantified group contains a quantifier, e.g. `(a+)+` or `(\\w*x)*`: the shape
    behind catastrophic backtracking. Approximate on purpose: refusing a safe regex only makes
    the scan stricter. One pass, so a hostile pattern cannot make this check slow."""
    stack: list[bool] = []  # per open group: does it contain a quantifier?
    closed_with_quantifier = False  # the group that just closed contained one
    escaped = in_class = False
    for ch in pattern:
        if escaped:
            escaped = False
            closed_with_quantifier = False
            continue
        if ch == "\\":
            escaped = True
        elif in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            stack.append(False)
        elif ch == ")" and stack:
            closed_with_quantifier = stack.pop()
            if stack:
                stack[-1] = stack[-1] or closed_with_quantifier
            continue
        elif ch in _QUANTIFIERS:
            if closed_with_quantifier:
                return True
            if stack:
                stack[-1] = True
        closed_with_quantifier = False
    return False


def load(facts: Facts, cfg: dict[str, Any]) -> Baseline:
    """The baseline named in the catalogue (empty when absent). A file that does not parse is a
    Problem; settings that are not honoured are listed in `ignored` for the caller to report."""
    path: str = cfg["baseline"]
    if not facts.exists(path):
        return Baseline()
    found = Baseline(path=path)
    data = load_json(facts, path)
    if data is None:
        return found  # load_json recorded why
    if not isinstance(data, dict):
        facts.problem(path, "is not a detect-secrets baseline: expected a JSON object")
        return found
    _results(found, data.get("results"))
    _plugins(found, data.get("plugins_used"), set(cfg["plugin_parameters"]))
    _filters(found, data.get("filters_used"), cfg["regex_filters"], set(cfg["supported_filters"]))
    _old_exclude(found, data.get("exclude"))
    return found


def _results(found: Baseline, results: Any) -> None:
    if not isinstance(results, dict):
        if results is not None:
            found.ignored.append("`results` is not a mapping of file to secrets")
        return
    unread = 0
    for filename, entries in results.items():
        if not isinstance(entries, list):
            unread += 1
            continue
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("hashed_secret"), str):
                unread += 1
                continue
            audited = entry.get("is_secret")
            key = (str(filename), entry["hashed_secret"])
            found.known[key] = audited if isinstance(audited, bool) else None
    if unread:
        found.ignored.append(f"{unread} `results` entries without a hashed_secret")


def _plugins(found: Baseline, plugins: Any, parameters: set[str]) -> None:
    if not isinstance(plugins, list):
        if plugins is not None:
            found.ignored.append("`plugins_used` is not a list")
        return
    chosen: dict[str, dict[str, Any]] = {}
    for entry in plugins:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            found.ignored.append("a `plugins_used` entry without a name")
            continue
        if "path" in entry:
            found.ignored.append(f"custom plugin {entry['name'][:60]!r} (repository code, not run)")
            continue
        chosen[entry["name"]] = {k: v for k, v in entry.items() if k in parameters}
    found.plugins = chosen


def _filters(
    found: Baseline, filters: Any, regex_filters: dict[str, str], supported: set[str]
) -> None:
    if not isinstance(filters, list):
        if filters is not None:
            found.ignored.append("`filters_used` is not a list")
        return
    by_path = {v: k for k, v in regex_filters.items()}
    names: list[str] = []
    for entry in filters:
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            found.ignored.append("a `filters_used` entry without a path")
            continue
        kind = by_path.get(entry["path"])
        if kind is None:
            if entry["path"] in supported:
                names.append(entry["path"])
            elif not entry["path"].startswith("detect_secrets.filters.common."):
                # common.* are detect-secrets' own bookkeeping (baseline file, verification).
                found.ignored.append(f"filter {entry['path'][:80]!r} (not run by secposture)")
            continue
        raw = entry.get("pattern")
        for pattern in raw if isinstance(raw, list) else [raw]:
            _add_regex(found, kind, pattern)
    found.filters = names


def _old_exclude(found: Baseline, exclude: Any) -> None:
    """detect-secrets before 1.0 wrote `exclude: {files: REGEX, lines: REGEX}`."""
    if not isinstance(exclude, dict):
        if exclude is not None:
            found.ignored.append("`exclude` is not a mapping")
        return
    for key, kind in (("files", "file"), ("lines", "line")):
        if exclude.get(key):
            _add_regex(found, kind, exclude[key])


def _add_regex(found: Baseline, kind: str, pattern: object) -> None:
    compiled = safe_regex(pattern)
    if isinstance(compiled, str):
        found.ignored.append(f"{kind} exclusion {compiled}")
        return
    {"file": found.exclude_files, "line": found.exclude_lines, "secret": found.exclude_secrets}[
        kind
    ].append(compiled)
