"""detect-secrets in-process over text already read: its plugins and false-positive filters, line
by line, without its file reading, transformers, custom code or secret verification (no network).

The secret value never leaves this module: a Hit carries the type and the hash only.
"""

from __future__ import annotations

import hashlib
import inspect
import math
import re
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from secposture.probes.no_secrets_in_tracked_files.baseline import Baseline, safe_regex

_VERIFY_FILTER = "detect_secrets.filters.common.is_ignored_due_to_verification_policies"
_PLUGIN_MODULE = "detect_secrets.plugins."


@dataclass(frozen=True)
class Hit:
    line: int
    type: str
    hashed: str  # sha1 of the secret, as detect-secrets writes it in a baseline


class _Prefilter:
    """Necessary conditions for a plugin to match a line: one of `words` in the lower-cased line,
    then one of `patterns` (either may be absent)."""

    def __init__(
        self, plugin: Any, words: tuple[str, ...] | None, patterns: list[re.Pattern[str]] | None
    ) -> None:
        self.plugin = plugin
        self.words = words
        self.patterns = patterns
        # Words never contain a newline, so each occurrence lies within one line.
        self._words_rx = re.compile("|".join(map(re.escape, words))) if words else None

    def file_may_match(self, text: str, lower: str) -> bool:
        if self.words is not None:
            return any(w in lower for w in self.words)  # its regexes run per line, if at all
        return self.patterns is None or any(p.search(text) for p in self.patterns)

    def lines_with_words(self, lower: str, starts: list[int]) -> set[int]:
        """0-based indexes of the lines holding one of the words (`starts`: line offsets)."""
        if self._words_rx is None:
            return set(range(len(starts)))
        return {bisect_right(starts, m.start()) - 1 for m in self._words_rx.finditer(lower)}

    def line_may_match(self, line: str) -> bool:
        return self.patterns is None or any(p.search(line) for p in self.patterns)


@dataclass(frozen=True)
class _Filter:
    function: Callable[..., Any]
    parameters: frozenset[str]


def _no_verification() -> None:
    """A plugin verifies what it finds (a call to the provider's API) when this global filter is on;
    a scan must never call out, so make sure it is off."""
    from detect_secrets.settings import get_settings

    settings = get_settings()
    if _VERIFY_FILTER in settings.filters:
        settings.disable_filters(_VERIFY_FILTER)


def _plugin_classes() -> dict[str, type[Any]]:
    """detect-secrets' built-in plugin classes by class name (never custom ones from a path)."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    classes: list[type[Any]] = list(get_mapping_from_secret_type_to_class().values())
    return {cls.__name__: cls for cls in classes if cls.__module__.startswith(_PLUGIN_MODULE)}


def _make_plugin(cls: type[Any], params: dict[str, Any], notes: list[str]) -> Any | None:
    kwargs: dict[str, Any] = {}
    limit = params.get("limit")
    if isinstance(limit, int | float) and not isinstance(limit, bool) and math.isfinite(limit):
        kwargs["limit"] = float(min(max(limit, 0.0), 8.0))
    exclude = params.get("keyword_exclude")
    if isinstance(exclude, str) and exclude:
        checked = safe_regex(exclude)
        if isinstance(checked, str):
            notes.append(f"keyword_exclude {checked}")
        else:
            kwargs["keyword_exclude"] = exclude
    accepted = inspect.signature(cls).parameters
    try:
        return cls(**{k: v for k, v in kwargs.items() if k in accepted})
    except (TypeError, ValueError) as exc:
        notes.append(f"plugin {cls.__name__} not usable: {exc}")
        return None


def plugins(baseline: Baseline, disabled: set[str], notes: list[str]) -> list[Any]:
    classes = _plugin_classes()
    if baseline.plugins is None:
        chosen: dict[str, dict[str, Any]] = {name: {} for name in classes if name not in disabled}
    else:
        chosen = baseline.plugins
    out = []
    for name, params in sorted(chosen.items()):
        cls = classes.get(name)
        if cls is None:
            notes.append(f"unknown plugin {name[:60]!r}")
            continue
        plugin = _make_plugin(cls, params, notes)
        if plugin is not None:
            out.append(plugin)
    return out


def _load_filter(path: str) -> _Filter | None:
    module, _, name = path.rpartition(".")
    if not module.startswith("detect_secrets.filters."):
        return None
    try:
        function = getattr(import_module(module), name)
    except (ImportError, AttributeError):
        return None
    return _Filter(function, frozenset(inspect.signature(function).parameters))


def necessary(plugin: Any) -> list[re.Pattern[str]] | None:
    """Regexes at least one of which matches any line the plugin can report (None: unknown).

    Run over a whole file first (in C) they let most files and lines skip most plugins, which is
    what makes a deep scan affordable. Each is a necessary condition only: a match still goes
    through the plugin itself. A test checks that results equal an unfiltered scan.
    """
    from detect_secrets.plugins import keyword
    from detect_secrets.plugins.base import RegexBasedDetector
    from detect_secrets.plugins.high_entropy_strings import HighEntropyStringsPlugin

    if isinstance(plugin, RegexBasedDetector):
        patterns = list(plugin.denylist)
        if any(r"\A" in p.pattern or r"\Z" in p.pattern for p in patterns):
            return None
        # MULTILINE: `^`/`$` then match at each line of the file as they do on one line.
        return [re.compile(p.pattern, p.flags | re.MULTILINE) for p in patterns]
    if isinstance(plugin, HighEntropyStringsPlugin):
        # Shannon entropy of n characters is at most log2(n): shorter strings cannot pass.
        shortest = max(1, int(2**plugin.entropy_limit))
        charset = re.escape(plugin.charset)
        return [re.compile(f"(['\"])[{charset}]{{{shortest},}}\\1")]
    if isinstance(plugin, keyword.KeywordDetector):
        return [re.compile(keyword.DENYLIST_REGEX, re.IGNORECASE)]
    return None


class Scanner:
    def __init__(self, baseline: Baseline, cfg: dict[str, Any], notes: list[str]) -> None:
        _no_verification()
        from detect_secrets.filters.heuristic import is_non_text_file

        self.baseline = baseline
        self.plugins = plugins(baseline, set(cfg["default_disabled_plugins"]), notes)
        words: dict[str, list[str]] = cfg.get("prefilter_words", {})
        self._prefilters = [
            _Prefilter(
                plugin,
                tuple(words[type(plugin).__name__]) if type(plugin).__name__ in words else None,
                necessary(plugin),
            )
            for plugin in self.plugins
        ]
        names = baseline.filters if baseline.filters is not None else cfg["default_filters"]
        loaded = [f for f in map(_load_filter, names) if f is not None]
        # Split by what a filter looks at, so each runs only as often as it must.
        self.file_filters = [f for f in loaded if f.parameters == {"filename"}]
        self.secret_filters = [f for f in loaded if "secret" in f.parameters]
        self.line_filters = [
            f for f in loaded if f not in self.file_filters and f not in self.secret_filters
        ]
        self._is_non_text_file = is_non_text_file

    def skips(self, path: str) -> bool:
        """Whether a file is not scanned at all (by name, before it is read)."""
        if path == self.baseline.path or self._is_non_text_file(path):
            return True
        if any(rx.search(path) for rx in self.baseline.exclude_files):
            return True
        return any(f.function(filename=path) for f in self.file_filters)

    def scan(self, path: str, text: str, prefilter: bool = True) -> Iterator[Hit]:
        """Possible secrets in text; `prefilter=False` runs every plugin on every line (tests)."""
        lines = [raw.rstrip() for raw in text.splitlines()]
        for index, plugins_here in self._candidates(lines, prefilter):
            number, line = index + 1, lines[index]
            found = [
                (plugin, secret)
                for plugin in plugins_here
                for secret in plugin.analyze_line(filename=path, line=line, line_number=number)
            ]
            if found and not self._line_filtered(path, line, lines, number):
                yield from self._hits(path, line, number, found)

    def _candidates(self, lines: list[str], prefilter: bool) -> Iterator[tuple[int, list[Any]]]:
        """(line index, plugins that may match it), only for lines some plugin may match."""
        if not prefilter:
            for index in range(len(lines)):
                yield index, self.plugins
            return
        joined = "\n".join(lines)
        lower = joined.lower()
        active = [f for f in self._prefilters if f.file_may_match(joined, lower)]
        if not active:
            return
        starts, offset = [], 0
        for line in lines:
            starts.append(offset)
            offset += len(line) + 1
        worded = {id(f): f.lines_with_words(lower, starts) for f in active if f.words is not None}
        wanted = set().union(*worded.values()) if worded else set()
        if any(f.words is None for f in active):
            wanted = set(range(len(lines)))
        for index in sorted(wanted):
            here = [
                f.plugin
                for f in active
                if (f.words is None or index in worded[id(f)]) and f.line_may_match(lines[index])
            ]
            if here:
                yield index, here

    def _hits(
        self, path: str, line: str, number: int, found: list[tuple[Any, Any]]
    ) -> Iterator[Hit]:
        seen: set[tuple[str, str]] = set()
        for plugin, secret in found:
            value = secret.secret_value or ""
            if self._secret_filtered(path, line, plugin, value):
                continue
            # sha1 because that is the hash detect-secrets writes in a baseline.
            key = (
                secret.type,
                hashlib.sha1(value.encode("utf-8"), usedforsecurity=False).hexdigest(),
            )
            if key not in seen:
                seen.add(key)
                yield Hit(number, key[0], key[1])

    def _line_filtered(self, path: str, line: str, lines: list[str], number: int) -> bool:
        if any(rx.search(line) for rx in self.baseline.exclude_lines):
            return True
        from detect_secrets.util.code_snippet import get_code_snippet

        available = {"filename": path, "line": line, "context": get_code_snippet(lines, number)}
        return any(_call(f, available) for f in self.line_filters)

    def _secret_filtered(self, path: str, line: str, plugin: Any, value: str) -> bool:
        if any(rx.search(value) for rx in self.baseline.exclude_secrets):
            return True
        available = {"filename": path, "line": line, "plugin": plugin, "secret": value}
        return any(_call(f, available) for f in self.secret_filters)


def _call(f: _Filter, available: dict[str, Any]) -> bool:
    if not f.parameters <= available.keys():
        return False  # a filter needing what a line scan does not have
    return bool(f.function(**{name: available[name] for name in f.parameters}))
