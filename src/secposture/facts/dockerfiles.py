"""What a Dockerfile reads from its build context: the sources of COPY and ADD (and of RUN's bind
mounts), its stages, and a check of those sources against the files under a context.

Read as text, never built. The parser follows BuildKit's syntax where it decides what is read from
the context: the `escape` directive, line continuations, heredocs (their lines are content, not
instructions; a heredoc source is inline text, not a file), the JSON array form, flags such as
`--from` (another stage or image: not the context), `--chown`, `--chmod`, `--link`, and ARG and ENV
values substituted into paths where they are known. A source whose variables cannot be known is
listed apart, never guessed. Paths are cleaned as BuildKit cleans them: relative to the context's
root, `..` never leaving it.
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field

from secposture.paths import folder_glob_regex

MAX_LINES = 20_000  # a hostile Dockerfile is read this far, no further
_DIRECTIVE = re.compile(r"#\s*([A-Za-z]+)\s*=\s*(\S+)\s*$")
_HEREDOC = re.compile(r"<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")
_VAR = re.compile(
    r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))"
)
_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|git@)", re.IGNORECASE)
_MOUNT_BIND = re.compile(r"--mount=(\S+)")
_GLOB = frozenset("*?[")


@dataclass(frozen=True)
class Stage:
    name: str | None  # `AS name`, lower case
    line: int


@dataclass(frozen=True)
class ContextSource:
    """A path a build reads from its context, as written and as the context's root sees it."""

    written: str
    path: str  # cleaned: relative to the context's root, "" for the root itself
    line: int
    instruction: str  # COPY, ADD or RUN (a bind mount)

    @property
    def glob(self) -> bool:
        return not _GLOB.isdisjoint(self.path)


@dataclass(frozen=True)
class Dockerfile:
    stages: tuple[Stage, ...] = ()
    sources: tuple[ContextSource, ...] = ()
    # Sources whose variables have no known value (a build argument with no default).
    unresolved: tuple[ContextSource, ...] = ()

    @property
    def builds_an_image(self) -> bool:
        return bool(self.stages)


@dataclass
class _State:
    escape: str = "\\"
    global_args: dict[str, str | None] = field(default_factory=dict)
    values: dict[str, str | None] = field(default_factory=dict)  # ARG and ENV of this stage
    stages: list[Stage] = field(default_factory=list)
    sources: list[ContextSource] = field(default_factory=list)
    unresolved: list[ContextSource] = field(default_factory=list)


def clean(path: str) -> str:
    """A path as BuildKit reads it inside the context: from its root, `..` stopping there."""
    cleaned = posixpath.normpath("/" + path.replace("\\", "/")).lstrip("/")
    return "" if cleaned == "." else cleaned


def _instructions(text: str) -> list[tuple[int, str, list[str]]]:
    """(line, logical line, heredoc bodies) of each instruction, continuation lines joined."""
    lines = text.splitlines()[:MAX_LINES]
    escape = "\\"
    start = 0
    # Parser directives come first, before any instruction, comment or blank line.
    while start < len(lines):
        match = _DIRECTIVE.fullmatch(lines[start].strip())
        if match is None:
            break
        if match.group(1).lower() == "escape" and match.group(2) in ("\\", "`"):
            escape = match.group(2)
        start += 1
    out: list[tuple[int, str, list[str]]] = []
    i = start
    while i < len(lines):
        raw = lines[i]
        if not raw.strip() or raw.lstrip().startswith("#"):
            i += 1
            continue
        first = i + 1
        parts: list[str] = []
        line = raw.rstrip()
        while line.endswith(escape) and i + 1 < len(lines):
            parts.append(line[: -len(escape)])
            i += 1
            # Comment and empty lines inside a continued instruction are dropped, as BuildKit does.
            while i < len(lines) and (not lines[i].strip() or lines[i].lstrip().startswith("#")):
                i += 1
            line = lines[i].rstrip() if i < len(lines) else ""
        parts.append(line[: -len(escape)] if line.endswith(escape) else line)
        logical = " ".join(p.strip() for p in parts)
        i += 1
        bodies: list[str] = []
        for marker in _HEREDOC.finditer(logical):
            strip_tabs, word = marker.group(1) == "-", marker.group(3)
            body: list[str] = []
            while i < len(lines):
                candidate = lines[i].lstrip("\t") if strip_tabs else lines[i]
                i += 1
                if candidate == word:
                    break
                body.append(candidate)
            bodies.append("\n".join(body))
        out.append((first, logical, bodies))
    return out


def _expand(text: str, values: dict[str, str | None]) -> str | None:
    """`text` with `$NAME`, `${NAME}`, `${NAME:-default}` and `${NAME:+alt}` substituted; None when
    a variable's value is not known."""
    unknown = False

    def value(match: re.Match[str]) -> str:
        nonlocal unknown
        name = match.group(1) or match.group(4)
        operator, word = match.group(2), match.group(3) or ""
        current = values.get(name)
        if operator in (":-", "-"):
            return current if current else word
        if operator in (":+", "+"):
            if name not in values:
                unknown = True
                return ""
            return word if current else ""
        if current is None:
            unknown = True
            return ""
        return current

    expanded = _VAR.sub(value, text)
    return None if unknown else expanded


def _words(rest: str) -> list[str]:
    """The arguments of COPY/ADD: a JSON array, or words split as a shell would (quotes kept
    apart); what cannot be split is split on whitespace."""
    stripped = rest.strip()
    if stripped.startswith("["):
        try:
            parsed = json.loads(stripped)
        except ValueError:
            parsed = None
        if isinstance(parsed, list) and all(isinstance(p, str) for p in parsed):
            return list(parsed)
    try:
        return shlex.split(stripped, posix=True)
    except ValueError:
        return stripped.split()


def _assignments(rest: str) -> list[tuple[str, str | None]]:
    """ARG and ENV: `NAME`, `NAME=value`, several of them, or ENV's old `NAME value` form."""
    words = _words(rest)
    if len(words) >= 2 and "=" not in words[0]:
        return [(words[0], " ".join(words[1:]))]  # ENV NAME value
    out: list[tuple[str, str | None]] = []
    for word in words:
        name, eq, value = word.partition("=")
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            out.append((name, value if eq else None))
    return out


def _flags(words: list[str]) -> tuple[dict[str, str], list[str]]:
    flags: dict[str, str] = {}
    index = 0
    while index < len(words) and words[index].startswith("--"):
        name, _, value = words[index][2:].partition("=")
        flags[name.lower()] = value
        index += 1
    return flags, words[index:]


def _add_source(state: _State, written: str, line: int, instruction: str) -> None:
    expanded = _expand(written, state.values)
    if expanded is None:
        state.unresolved.append(ContextSource(written, written, line, instruction))
        return
    state.sources.append(ContextSource(written, clean(expanded), line, instruction))


def _copy(state: _State, instruction: str, rest: str, line: int) -> None:
    flags, words = _flags(_words(rest))
    if "from" in flags or len(words) < 2:
        return  # another stage, an image or a named context: not this build context
    for written in words[:-1]:
        if _HEREDOC.fullmatch(written) or written.startswith("<<"):
            continue  # inline content
        if instruction == "ADD" and _REMOTE.match(written):
            continue  # a URL or a git repository
        _add_source(state, written, line, instruction)


def _run_mounts(state: _State, rest: str, line: int) -> None:
    for match in _MOUNT_BIND.finditer(rest):
        options = dict(
            part.partition("=")[::2] for part in match.group(1).split(",") if "=" in part
        )
        if options.get("type") != "bind" or "from" in options:
            continue
        source = options.get("source") or options.get("src")
        if source:
            _add_source(state, source, line, "RUN")


def parse(text: str) -> Dockerfile:
    """The stages and context sources of a Dockerfile; never raises on any text."""
    state = _State()
    for line, logical, _bodies in _instructions(text):
        keyword, _, rest = logical.strip().partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            words = [w for w in rest.split() if not w.startswith("--")]
            name = words[2].lower() if len(words) >= 3 and words[1].lower() == "as" else None
            state.stages.append(Stage(name, line))
            # Global ARGs are seen in a stage only when declared again there (their defaults
            # carry over); each stage starts again.
            state.values = {}
        elif keyword == "ARG":
            for name, value in _assignments(rest):
                if not state.stages:
                    state.global_args[name] = value
                elif value is None:
                    state.values[name] = state.global_args.get(name)
                else:
                    state.values[name] = _expand(value, state.values)
        elif keyword == "ENV" and state.stages:
            for name, value in _assignments(rest):
                state.values[name] = None if value is None else _expand(value, state.values)
        elif keyword in ("COPY", "ADD") and state.stages:
            _copy(state, keyword, rest, line)
        elif keyword == "RUN" and state.stages and "--mount" in rest:
            _run_mounts(state, rest, line)
    return Dockerfile(tuple(state.stages), tuple(state.sources), tuple(state.unresolved))


# --- checking the sources against a context -----------------------------------------------------


def context_entries(context: str, paths: Iterable[str]) -> frozenset[str]:
    """The files and folders under `context` ("" or "." for the repository's root), as paths
    relative to it."""
    prefix = "" if context in ("", ".") else clean(context) + "/"
    entries: set[str] = set()
    for path in paths:
        if not path.startswith(prefix):
            continue
        rel = path[len(prefix) :]
        parts = rel.split("/")
        for depth in range(1, len(parts) + 1):
            entries.add("/".join(parts[:depth]))
    return frozenset(entries)


def exists(source: ContextSource, entries: frozenset[str]) -> bool:
    """Whether the source names a file or folder in the context (a glob: matches one)."""
    if not source.path:
        return True
    if not source.glob:
        return source.path in entries
    regex = folder_glob_regex(source.path, double_star=False)
    return any(regex.fullmatch(entry) for entry in entries)


def missing_sources(dockerfile: Dockerfile, context: str, paths: Iterable[str]) -> list[str]:
    """The sources of `dockerfile` that are not under `context` among `paths` (the repository's
    files): each as written, with its line. Empty when the build would find every one."""
    entries = context_entries(context, paths)
    return [f"{s.written} (line {s.line})" for s in dockerfile.sources if not exists(s, entries)]
