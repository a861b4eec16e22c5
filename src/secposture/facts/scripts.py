"""Indirection in commands: what `make lint`, `npm run lint`, `tox -e lint`, `nox -s lint` or
`./scripts/lint.sh` run, read from the repository's Makefiles, package.json scripts, tox and nox
configs and shell scripts (read as text, never executed).

An `Expander` turns one command text (a CI step's `run:`, a hook's `entry`) into the command lines it
stands for, each with the file and line it was read from and the chain of invocations that reached
it. Expansion is recursive, cycle-safe and bounded in depth and in lines.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from secposture.facts.interface import Facts
from secposture.facts.parsing import load_json, load_toml

MAX_DEPTH = 8
MAX_PREREQUISITE_DEPTH = 100  # a chain of prerequisites deeper than this is not followed
MAX_LINES = 5000  # per expander: a hostile Makefile cannot make a scan slow
MAX_LINE_CHARS = 4000
MAX_FALLBACK_FILES = 30  # other Makefiles/package.json files searched for a target not at the root

MAKEFILE_NAMES = ("GNUmakefile", "makefile", "Makefile")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_WRAPPERS = {
    "sudo",
    "env",
    "time",
    "exec",
    "nice",
    "nohup",
    "command",
    "xargs",
    "npx",
    "bunx",
    "uvx",
    "--yes",
    "-y",
}
_RUNNERS = {
    ("poetry", "run"), ("uv", "run"), ("pipenv", "run"), ("hatch", "run"), ("pdm", "run"), ("rye", "run"),
    ("npm", "exec"), ("pnpm", "exec"), ("yarn", "exec"), ("pnpm", "dlx"), ("yarn", "dlx"), ("bundle", "exec"),
    ("pipx", "run"),
}  # fmt: skip
_MAKE_WORDS = {"make", "gmake", "$(MAKE)", "${MAKE}", "$MAKE"}
_MAKE_ARG_OPTS = {
    "-C",
    "--directory",
    "-f",
    "--file",
    "--makefile",
    "-j",
    "--jobs",
    "-l",
    "--load-average",
    "-o",
    "--old-file",
    "-W",
    "--what-if",
    "-I",
    "--include-dir",
}
_NPM_RUN = {"run", "run-script", "rum", "urn"}
_NPM_SHORT = {
    "test": "test",
    "t": "test",
    "tst": "test",
    "start": "start",
    "stop": "stop",
    "restart": "restart",
}
_PKG_DIR_OPTS = {"--prefix", "-C", "--cwd", "--dir"}
_PKG_ARG_OPTS = {"-w", "--workspace", "--filter", "-F"}
_SHELLS = {"bash", "sh", "zsh", "dash", "ksh"}
_SCRIPT_SUFFIXES = (".sh", ".bash")
_BUILD_WRAPPERS = {"gradlew", "mvnw"}  # their arguments name the tasks; the scripts only bootstrap
_PUNCT = set("();<>|&")
_MAKE_VAR = re.compile(r"\$[({]MAKE[)}]|\$MAKE\b")
_STRING_LITERAL = re.compile(r"""["']([^"'\\\n]{1,300})["']""")
_NOX_DEF = re.compile(r"^(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(")
_NOX_NAME = re.compile(r"""name\s*=\s*["']([^"'\n]{1,100})["']""")
_TOX_FACTOR = re.compile(r"^([!\w.,{}-]{1,200}):\s+(\S.*)$")


@dataclass(frozen=True)
class Command:
    """One command line, where it was read, and how CI (or a hook) reaches it."""

    text: str
    path: str
    line: int | None
    via: tuple[str, ...] = ()  # outermost first: "`make lint` at .github/workflows/ci.yml:30"
    # Where the chain starts in this repository, when the command is in a file of another
    # repository (`path` is then its key, owner/repo@ref:path): the location findings point at.
    anchor: tuple[str, int | None] | None = None
    # The files the command runs on, when a runner limits them (a lint-staged glob): a linter
    # given only `*.js` files analyses no TypeScript (file_filters.FileFilter).
    file_filter: Any = None

    def where(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path

    def located(self) -> tuple[str, int | None]:
        """The file and line of this repository that a finding about the command points at."""
        return self.anchor if self.anchor is not None else (self.path, self.line)


@dataclass(frozen=True)
class PreCommitRun:
    """`pre-commit run` (or prek) seen in a command: which hook (None = all) at which stage."""

    command: Command
    hook: str | None
    stage: str


# --- parsed files ------------------------------------------------------------------------------


@dataclass
class MakeTarget:
    line: int
    prerequisites: list[str] = field(default_factory=list)
    recipe: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class Makefile:
    path: str
    targets: dict[str, MakeTarget] = field(default_factory=dict)
    default: str | None = None


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Lines with backslash continuations joined, each with its first physical line (1-based)."""
    out: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
        if raw.endswith("\\") and not raw.endswith("\\\\"):
            pending.append(raw[:-1])
            continue
        pending.append(raw)
        out.append((start, " ".join(p.strip() if i else p for i, p in enumerate(pending))))
        pending = []
    if pending:
        out.append((start, " ".join(pending)))
    return out


def parse_makefile(path: str, text: str) -> Makefile:
    """Rules and their recipes; variables, conditionals and functions are not evaluated."""
    makefile = Makefile(path)
    current: list[MakeTarget] = []
    in_define = False
    for number, line in _logical_lines(text):
        stripped = line.strip()
        if in_define:
            in_define = stripped != "endef"
            continue
        if stripped.startswith("define ") or stripped == "define":
            in_define = True
            continue
        if line.startswith("\t"):
            for target in current:
                target.recipe.append((number, line[1:]))
            continue
        if not stripped or stripped.startswith("#"):
            continue
        rule = _rule(line)
        if rule is None:
            current = []
            continue
        names, prerequisites, inline = rule
        current = []
        for name in names:
            target = makefile.targets.setdefault(name, MakeTarget(number))
            target.prerequisites.extend(prerequisites)
            if inline:
                target.recipe.append((number, inline))
            current.append(target)
            if makefile.default is None and not name.startswith(".") and "%" not in name:
                makefile.default = name
    return makefile


_AUTOMATIC = re.compile(r"\$(?:@|\*|\(@\)|\{@\}|\(\*\)|\{\*\})")


def _match_anything(rule: MakeTarget, name: str) -> MakeTarget:
    """The match-anything rule (`%:`) for the target `name`: `$@` and `$*` are its name."""
    recipe = [(number, _AUTOMATIC.sub(name, line)) for number, line in rule.recipe]
    prerequisites = [p.replace("%", name) for p in rule.prerequisites]
    return MakeTarget(rule.line, prerequisites, recipe)


def _file_option(args: list[str]) -> str | None:
    """The Makefile a `make` command names with -f/--file, as written."""
    for i, arg in enumerate(args):
        if arg in ("-f", "--file", "--makefile") and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(("--file=", "--makefile=")):
            return arg.partition("=")[2]
    return None


def _rule(line: str) -> tuple[list[str], list[str], str] | None:
    """(targets, prerequisites, recipe after `;`) of a rule line; None for anything else."""
    colon = line.find(":")
    if colon <= 0:
        return None
    rest = line[colon + 1 :]
    if rest.startswith("=") or rest.startswith(":="):  # `X := y`, `X ::= y`
        return None
    head = line[:colon]
    if (
        "=" in head
        or head.lstrip() != head
        or head.startswith(("ifeq", "ifneq", "ifdef", "ifndef", "include", "-include", "export"))
    ):
        return None
    rest = rest.lstrip(":")  # double-colon rules
    prereq_text, _, inline = rest.partition(";")
    if re.match(r"^\s*[A-Za-z_][\w.]*\s*[:+?!]?=", prereq_text):  # target-specific variable
        return [t for t in head.split() if t], [], ""
    prerequisites = [p for p in prereq_text.split() if p != "|" and not p.startswith("$")]
    return [t for t in head.split() if t], prerequisites, inline.strip()


def _json_key_line(text: str, key: str, after: int = 0) -> int | None:
    index = text.find(f'"{key}"', after)
    if index < 0:
        return None
    return text.count("\n", 0, index) + 1


# --- tox --------------------------------------------------------------------------------------


def parse_ini(text: str) -> dict[str, dict[str, tuple[int, list[tuple[int, str]]]]]:
    """A forgiving INI reader: section -> key -> (line, value lines with their line numbers)."""
    sections: dict[str, dict[str, tuple[int, list[tuple[int, str]]]]] = {}
    section: dict[str, tuple[int, list[tuple[int, str]]]] | None = None
    key: str | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith(("#", ";")):
            continue
        if raw[0] in " \t":
            if section is not None and key is not None:
                section[key][1].append((number, raw.strip()))
            continue
        stripped = raw.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            section = sections.setdefault(stripped[1:-1].strip(), {})
            key = None
            continue
        name, sep, value = stripped.partition("=")
        if not sep or section is None:
            key = None
            continue
        key = name.strip()
        section[key] = (number, [(number, value.strip())] if value.strip() else [])
    return sections


def _brace_expand(name: str, limit: int = 200) -> list[str]:
    """tox's generative names: `py{311,312}-lint` -> py311-lint, py312-lint (bounded)."""
    results = [""]
    for part in re.split(r"(\{[^{}]*\})", name):
        options = part[1:-1].split(",") if part.startswith("{") else [part]
        results = [r + o.strip() for r in results for o in options][:limit]
    return results


def _factor_filter(lines: list[tuple[int, str]], env: str) -> list[tuple[int, str]]:
    factors = set(env.split("-"))
    out: list[tuple[int, str]] = []
    for number, text in lines:
        match = _TOX_FACTOR.match(text)
        if match is None or "/" in match.group(1):
            out.append((number, text))
            continue
        wanted = [c for cond in _brace_expand(match.group(1)) for c in cond.split(",")]
        if any(
            (w[1:] not in factors) if w.startswith("!") else (w in factors) for w in wanted if w
        ):
            out.append((number, match.group(2)))
    return out


# --- the expander ------------------------------------------------------------------------------


class Expander:
    """Expands commands against one scan's files; parsed files are cached per expander."""

    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self.precommit_runs: list[PreCommitRun] = []
        self._lines = 0
        self._anchor: tuple[str, int | None] | None = None
        self._filter: Any = None  # the file filter of the lint-staged entry being expanded
        self._makefiles: dict[str, Makefile | None] = {}
        self._scripts: dict[str, dict[str, str] | None] = {}
        # `make -f /usr/local/share/x.mk target`: a Makefile outside the repository (installed on
        # the CI machine), whose recipes no scan can read. What they run is unknown, not nothing.
        self.outside: list[tuple[Command, str]] = []

    # -- entry point --

    def expand(
        self,
        text: str,
        path: str,
        first_line: int | None,
        via: tuple[str, ...] = (),
        cwd: str = "",
        anchor: tuple[str, int | None] | None = None,
    ) -> list[Command]:
        """Every logical line of `text`, followed by what each line's invocations stand for.
        `anchor`: where in this repository the chain starts when `path` is a file of another
        repository; the commands it leads to keep it."""
        if anchor is None:
            return self._expand(text, path, first_line, via, cwd)
        outer, self._anchor = self._anchor, anchor
        try:
            return self._expand(text, path, first_line, via, cwd)
        finally:
            self._anchor = outer

    def _expand(
        self, text: str, path: str, first_line: int | None, via: tuple[str, ...], cwd: str
    ) -> list[Command]:
        out: list[Command] = []
        for offset, line in _logical_lines(text):
            if self._lines >= MAX_LINES:
                break
            line = line.strip()[:MAX_LINE_CHARS]
            if not line or line.startswith(("#", "//")):
                continue
            number = first_line + offset - 1 if first_line is not None else None
            command = Command(line, path, number, via, self._anchor, self._filter)
            out.append(command)
            self._lines += 1
            # A line already on the chain calls itself again (`$(MAKE) all` in `all`): a cycle.
            cycle = any(hop.endswith(f" at {command.where()}") for hop in via)
            if len(via) < MAX_DEPTH and not cycle:
                out.extend(self._invocations(command, cwd))
        return out

    def _invocations(self, command: Command, cwd: str) -> list[Command]:
        out: list[Command] = []
        for words in segments(command.text):
            if words[:1] == ["cd"] and len(words) == 2:
                cwd = _join(cwd, words[1])
                continue
            out.extend(self._dispatch(unwrap(words), command, cwd))
        return out

    def _dispatch(self, words: list[str], command: Command, cwd: str) -> list[Command]:
        if not words:
            return []
        head = words[0].rpartition("/")[2] if not words[0].startswith("$") else words[0]
        if words[0] in _MAKE_WORDS or head in ("make", "gmake"):
            return self._make(words[1:], command, cwd)
        if head in ("npm", "yarn", "pnpm", "bun"):
            return self._package_manager(head, words[1:], command, cwd)
        if head in ("npm-run-all", "run-s", "run-p", "npm-run-all2"):
            patterns = [w for w in words[1:] if not w.startswith("-")]
            return self._scripts_matching(patterns, command, cwd)
        if head == "tox":
            return self._tox(words[1:], command)
        if head == "nox":
            return self._nox(words[1:], command)
        if head in ("pre-commit", "prek"):
            self.record_precommit(words[1:], command)
            return []
        if head == "lint-staged":
            return self._lint_staged(command, cwd)
        if words[0] in _SHELLS and len(words) > 2 and words[1] == "-c":
            return self._shell_c(words[2], command, cwd)
        return self._shell_script(words, command, cwd)

    def _shell_c(self, text: str, command: Command, cwd: str) -> list[Command]:
        """`bash -c 'check=staged ./scripts/scan.sh'`: the quoted text is the command run."""
        if len(command.via) >= MAX_DEPTH or self._lines >= MAX_LINES:
            return []
        inner = Command(
            text[:MAX_LINE_CHARS],
            command.path,
            command.line,
            self._hop(command),
            self._anchor,
            self._filter,
        )
        self._lines += 1
        return [inner, *self._invocations(inner, cwd)]

    def _lint_staged(self, command: Command, cwd: str) -> list[Command]:
        """lint-staged runs, for each glob of its config, the commands listed for it on the
        staged files the glob matches: each command keeps the glob as its file filter."""
        from secposture.facts.lint_staged import config_for

        found = config_for(self.facts, cwd)
        if found is None:
            return []
        out: list[Command] = []
        outer = self._filter
        for entry in found.entries:
            self._filter = entry.file_filter
            try:
                hop = (*self._hop(command), f"{found.path} `{entry.glob[:80]}`")
                out.extend(self.expand(entry.command, found.path, entry.line, hop, cwd))
            finally:
                self._filter = outer
        return out

    def _hop(self, command: Command) -> tuple[str, ...]:
        return (*command.via, f"`{command.text[:120]}` at {command.where()}")

    # -- make --

    def _make(self, args: list[str], command: Command, cwd: str) -> list[Command]:
        directory, file, targets = cwd, None, []
        i = 0
        while i < len(args):
            arg = args[i]
            value = args[i + 1] if i + 1 < len(args) else ""
            if arg in ("-C", "--directory"):
                directory, i = _join(directory, value), i + 2
                continue
            if arg in ("-f", "--file", "--makefile"):
                file, i = _join(directory, value), i + 2
                continue
            if arg in _MAKE_ARG_OPTS:
                i += 2
                continue
            if arg.startswith("--directory="):
                directory = _join(directory, arg.partition("=")[2])
            elif arg.startswith("-C") and len(arg) > 2:
                directory = _join(directory, arg[2:])
            elif arg.startswith(("--file=", "--makefile=")):
                file = _join(directory, arg.partition("=")[2])
            elif not arg.startswith("-") and not _ASSIGNMENT.match(arg):
                targets.append(arg)
            i += 1
        if file is not None and (file_given := _file_option(args)) and file_given.startswith("/"):
            self.outside.append((command, file_given))
            return []
        makefile = self._find_makefile(file, directory, targets)
        if makefile is None:
            return []
        wanted = targets or ([makefile.default] if makefile.default else [])
        via = self._hop(command)
        out: list[Command] = []
        seen: set[str] = set()
        for target in wanted:
            out.extend(self._make_target(makefile, target, via, seen))
        return out

    def _find_makefile(
        self, file: str | None, directory: str, targets: list[str]
    ) -> Makefile | None:
        if file is not None:
            return self._makefile(file)
        for name in MAKEFILE_NAMES:
            found = self._makefile(_join(directory, name))
            if found is not None:
                return found
        if directory or not targets:
            return None
        # A CI step's working-directory is not known: any Makefile defining the target will do.
        by_name = self.facts.by_name
        candidates = sorted(p for name in MAKEFILE_NAMES for p in by_name.get(name, ()))
        for path in candidates[:MAX_FALLBACK_FILES]:
            found = self._makefile(path)
            if found is not None and targets[0] in found.targets:
                return found
        return None

    def _makefile(self, path: str) -> Makefile | None:
        if path not in self._makefiles:
            text = self.facts.read(path) if self.facts.exists(path) else None
            self._makefiles[path] = parse_makefile(path, text) if text is not None else None
        return self._makefiles[path]

    def _make_target(
        self, makefile: Makefile, name: str, via: tuple[str, ...], seen: set[str], depth: int = 0
    ) -> list[Command]:
        target = makefile.targets.get(name)
        if target is None and "%" in makefile.targets and not name.startswith("."):
            target = _match_anything(makefile.targets["%"], name)  # `%:` serves every target
        marker = f"{makefile.path} target {name}"
        if (
            target is None
            or name in seen
            or marker in via
            or len(via) > MAX_DEPTH
            or depth > MAX_PREREQUISITE_DEPTH
        ):
            return []
        seen.add(name)  # cycle-safe: a target runs once per invocation, as in make
        out: list[Command] = []
        for prerequisite in target.prerequisites:
            out.extend(self._make_target(makefile, prerequisite, via, seen, depth + 1))
        directory = makefile.path.rpartition("/")[0]
        for number, line in target.recipe:
            out.extend(
                self.expand(
                    line.lstrip().lstrip("@-+").strip(),
                    makefile.path,
                    number,
                    (*via, marker),
                    directory,
                )
            )
        return out

    # -- npm, yarn, pnpm, bun --

    def _package_manager(
        self, tool: str, args: list[str], command: Command, cwd: str
    ) -> list[Command]:
        directory, names, workspace = cwd, [], False
        i = 0
        while i < len(args):
            arg = args[i]
            if arg in _PKG_DIR_OPTS and i + 1 < len(args):
                directory, i = _join(cwd, args[i + 1]), i + 2
                continue
            if arg in _PKG_ARG_OPTS:
                workspace, i = True, i + 2
                continue
            if arg.startswith(("--prefix=", "--cwd=", "--dir=")):
                directory = _join(cwd, arg.partition("=")[2])
            elif arg in ("-r", "--recursive", "--workspaces", "-ws") or arg.startswith(
                ("--filter=", "--workspace=")
            ):
                workspace = True
            elif arg == "--":
                break
            elif not arg.startswith("-"):
                names.append(arg)
            i += 1
        if not names:
            return []
        if names[0] in _NPM_RUN:
            script = names[1] if len(names) > 1 else None
        elif names[0] in _NPM_SHORT:
            script = _NPM_SHORT[names[0]]
        elif names[0] == "workspace" and len(names) > 2 and tool == "yarn":
            script, workspace = names[2], True
        elif tool in ("yarn", "pnpm"):
            script = names[0]  # `yarn lint` runs the script when there is one
        else:
            return []
        if script is None:
            return []
        return self._script(script, command, directory, search_all=workspace or not directory)

    def _package_scripts(self, path: str) -> dict[str, str] | None:
        if path not in self._scripts:
            doc = load_json(self.facts, path) if self.facts.exists(path) else None
            scripts = doc.get("scripts") if isinstance(doc, dict) else None
            self._scripts[path] = (
                {str(k): v for k, v in scripts.items() if isinstance(v, str)}
                if isinstance(scripts, dict)
                else None
            )
        return self._scripts[path]

    def _script(
        self, name: str, command: Command, directory: str, search_all: bool
    ) -> list[Command]:
        paths = [_join(directory, "package.json")]
        if search_all:
            others = [p for p in self.facts.by_name.get("package.json", ()) if p not in paths]
            paths.extend(others[:MAX_FALLBACK_FILES])
        for path in paths:
            scripts = self._package_scripts(path)
            if scripts is None or name not in scripts:
                continue
            return self._run_script(path, scripts, name, self._hop(command))
        return []

    def _run_script(
        self, path: str, scripts: dict[str, str], name: str, via: tuple[str, ...]
    ) -> list[Command]:
        text = self.facts.read(path) or ""
        after = text.find('"scripts"')
        directory = path.rpartition("/")[0]
        out: list[Command] = []
        for each in (f"pre{name}", name, f"post{name}"):
            if each in scripts and not any(f"{path} script {each}" in hop for hop in via):
                hop = (*via, f"{path} script {each}")
                out.extend(
                    self.expand(
                        scripts[each],
                        path,
                        _json_key_line(text, each, max(after, 0)),
                        hop,
                        directory,
                    )
                )
        return out

    def _scripts_matching(self, patterns: list[str], command: Command, cwd: str) -> list[Command]:
        path = _join(cwd, "package.json")
        scripts = self._package_scripts(path)
        if scripts is None:
            return []
        via = self._hop(command)
        names = [n for n in scripts for p in patterns if fnmatchcase(n, p.split(" ")[0])]
        out: list[Command] = []
        for name in dict.fromkeys(names):
            out.extend(self._run_script(path, scripts, name, via))
        return out

    # -- tox --

    def _tox(self, args: list[str], command: Command) -> list[Command]:
        envs: list[str] = []
        for i, arg in enumerate(args):
            if arg in ("-e", "--env") and i + 1 < len(args):
                envs.extend(e for e in args[i + 1].split(",") if e)
            elif arg.startswith(("-e", "--env=")) and len(arg) > 2 and not arg.startswith("--env "):
                value = arg.partition("=")[2] if arg.startswith("--env=") else arg[2:]
                envs.extend(e for e in value.split(",") if e)
        via = self._hop(command)
        if self.facts.exists("tox.ini"):
            return self._tox_ini("tox.ini", self.facts.read("tox.ini") or "", envs, via, 0)
        if self.facts.exists("tox.toml"):
            return self._tox_toml("tox.toml", load_toml(self.facts, "tox.toml"), envs, via)
        if self.facts.exists("pyproject.toml"):
            data = load_toml(self.facts, "pyproject.toml")
            tox = (
                data.get("tool", {}).get("tox")
                if isinstance(data, dict) and isinstance(data.get("tool"), dict)
                else None
            )
            if isinstance(tox, dict) and isinstance(tox.get("legacy_tox_ini"), str):
                text = self.facts.read("pyproject.toml") or ""
                offset = text[: max(text.find("legacy_tox_ini"), 0)].count("\n") + 1
                return self._tox_ini("pyproject.toml", tox["legacy_tox_ini"], envs, via, offset)
            if isinstance(tox, dict):
                return self._tox_toml("pyproject.toml", tox, envs, via)
        return []

    def _tox_ini(
        self, path: str, text: str, envs: list[str], via: tuple[str, ...], offset: int
    ) -> list[Command]:
        sections = parse_ini(text)
        base = sections.get("testenv", {})
        if not envs:
            listed = sections.get("tox", {}).get("envlist") or sections.get("tox", {}).get(
                "env_list"
            )
            names = [
                n
                for _, v in (listed[1] if listed else [])
                for part in v.split(",")
                for n in _brace_expand(part.strip())
                if n
            ]
            envs = names or [s.partition(":")[2] for s in sections if s.startswith("testenv:")]
        out: list[Command] = []
        for env in envs[:50]:
            section = sections.get(f"testenv:{env}", {})
            entry = section.get("commands") or base.get("commands")
            if entry is None:
                continue
            lines = [
                (n, "\n".join(_tox_commands_base(base) if "{[testenv]commands}" in t else [t]))
                for n, t in entry[1]
            ]
            hop = (*via, f"{path} env {env}")
            for number, line in _factor_filter(lines, env):
                out.extend(self.expand(line, path, number + offset, hop))
        return out

    def _tox_toml(
        self, path: str, data: Any, envs: list[str], via: tuple[str, ...]
    ) -> list[Command]:
        if not isinstance(data, dict):
            return []
        env = data.get("env")
        table: dict[str, Any] = env if isinstance(env, dict) else {}
        if not envs:
            listed = data.get("env_list")
            envs = [str(e) for e in listed] if isinstance(listed, list) else list(table)
        text = self.facts.read(path) or ""
        out: list[Command] = []
        for env in envs[:50]:
            env_table = (
                table.get(env) if isinstance(table.get(env), dict) else data.get("env_run_base")
            )
            commands = env_table.get("commands") if isinstance(env_table, dict) else None
            if not isinstance(commands, list):
                continue
            line = _text_line(text, f"env.{env}") or _text_line(text, f"{env} =")
            for cmd in commands:
                words = [str(w) for w in cmd] if isinstance(cmd, list) else [str(cmd)]
                out.extend(self.expand(" ".join(words), path, line, (*via, f"{path} env {env}")))
        return out

    # -- nox --

    def _nox(self, args: list[str], command: Command) -> list[Command]:
        sessions: list[str] = []
        for i, arg in enumerate(args):
            if arg in ("-s", "--session", "--sessions", "-e") and i + 1 < len(args):
                sessions.extend(a for a in args[i + 1 :] if not a.startswith("-"))
                break
        path = "noxfile.py"
        text = self.facts.read(path) if self.facts.exists(path) else None
        if text is None:
            return []
        via = self._hop(command)
        out: list[Command] = []
        for name, number, body in _nox_sessions(text):
            if sessions and name not in sessions:
                continue
            for offset, line in body:
                if ".run" in line or "run_always" in line:
                    words = _STRING_LITERAL.findall(line)
                    if words:
                        out.extend(
                            self.expand(
                                " ".join(words),
                                path,
                                number + offset,
                                (*via, f"{path} session {name}"),
                            )
                        )
        return out

    # -- pre-commit and shell scripts --

    def record_precommit(self, args: list[str], command: Command) -> None:
        if args and args[0] not in ("run",) and not args[0].startswith("-"):
            return  # install, autoupdate, ...: not a run
        stage, hook = "pre-commit", None
        rest = args[1:] if args[:1] == ["run"] else args
        i = 0
        while i < len(rest):
            arg = rest[i]
            if arg in (
                "--hook-stage",
                "--config",
                "-c",
                "--from-ref",
                "--to-ref",
                "-s",
                "-o",
                "--source",
                "--origin",
                "--color",
            ):
                if arg == "--hook-stage" and i + 1 < len(rest):
                    stage = rest[i + 1]
                i += 2
                continue
            if arg.startswith("--hook-stage="):
                stage = arg.partition("=")[2]
            elif arg == "--files":
                break
            elif not arg.startswith("-") and hook is None:
                hook = arg
            i += 1
        self.precommit_runs.append(PreCommitRun(command, hook, stage))

    def _shell_script(self, words: list[str], command: Command, cwd: str) -> list[Command]:
        script = words[1] if words[0] in _SHELLS and len(words) > 1 else words[0]
        if not script.endswith(_SCRIPT_SUFFIXES) and (
            not script.startswith("./") or script.rpartition("/")[2] in _BUILD_WRAPPERS
        ):
            return []
        path = _join(cwd, script)
        if not self.facts.exists(path) or any(f"script {path}" in hop for hop in command.via):
            return []
        text = self.facts.read(path)
        if text is None:
            return []
        via = (*self._hop(command), f"script {path}")
        return self.expand(text, path, 1, via, path.rpartition("/")[0])


def _text_line(text: str, needle: str) -> int | None:
    index = text.find(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 else None


def _tox_commands_base(base: dict[str, tuple[int, list[tuple[int, str]]]]) -> list[str]:
    entry = base.get("commands")
    return [t for _, t in entry[1] if "{[testenv]commands}" not in t] if entry else []


def _nox_sessions(text: str) -> list[tuple[str, int, list[tuple[int, str]]]]:
    """(session name, def line, body lines as (offset from def line, text)) of each function."""
    lines = text.splitlines()
    out: list[tuple[str, int, list[tuple[int, str]]]] = []
    for index, line in enumerate(lines):
        match = _NOX_DEF.match(line)
        if match is None:
            continue
        decorators = " ".join(lines[max(0, index - 3) : index])
        if "session" not in decorators:
            continue
        named = _NOX_NAME.search(decorators)
        name = named.group(1) if named else match.group(1)
        body: list[tuple[int, str]] = []
        for offset, body_line in enumerate(lines[index + 1 : index + 400], 1):
            if body_line.strip() and not body_line[0].isspace():
                break
            body.append((offset, body_line.strip()))
        out.append((name, index + 1, body))
    return out


# Without quotes or backslashes, shlex (posix, punctuation_chars, whitespace_split, no comments)
# splits at its whitespace and sets runs of punctuation apart: this regex does the same.
_SHLEX_SPECIAL = frozenset("'\"\\")
_PLAIN_TOKENS = re.compile(r"[();<>|&]+|[^ \t\r\n();<>|&]+")


def _shlex_tokens(line: str) -> list[str]:
    try:
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = ""
        return list(lexer)
    except ValueError:  # unbalanced quotes: a plain split still finds most invocations
        return line.split()


def segments(line: str) -> list[list[str]]:
    """A shell line split at `&&`, `||`, `;`, `|` into the words of each simple command."""
    line = _MAKE_VAR.sub("make", line)  # `$(MAKE)` would otherwise split at its parentheses
    plain = _SHLEX_SPECIAL.isdisjoint(line)  # then a regex does what shlex does, 30 times faster
    tokens = _PLAIN_TOKENS.findall(line) if plain else _shlex_tokens(line)
    segments: list[list[str]] = [[]]
    for token in tokens:
        if token and set(token) <= _PUNCT:
            segments.append([])
        else:
            segments[-1].append(token)
    return [s for s in segments if s]


# Shell words that open a compound command: `if ruff check .; then` runs ruff, and
# `if command -v ruff; then` only looks it up.
SHELL_KEYWORDS = frozenset({"if", "then", "elif", "else", "while", "until", "do", "!", "{", "("})


def strip_keywords(words: list[str]) -> list[str]:
    """The simple command after any leading shell keywords (`if`, `then`, `!`, ...)."""
    i = 0
    while i < len(words) and words[i] in SHELL_KEYWORDS:
        i += 1
    return words[i:]


def unwrap(words: list[str]) -> list[str]:
    """Drop leading shell keywords, `VAR=value`, sudo/env/time wrappers and `poetry run`-style
    runners."""
    words = strip_keywords(words)
    i = 0
    while i < len(words):
        word = words[i]
        if _ASSIGNMENT.match(word) or word in _WRAPPERS:
            i += 1
        elif tuple(words[i : i + 2]) in _RUNNERS or (
            word in ("python", "python3") and words[i + 1 : i + 2] == ["-m"]
        ):
            i += 2
        else:
            break
    return words[i:]


def _join(cwd: str, path: str) -> str:
    """A repository path for `path` relative to `cwd` (repository-relative), normalised."""
    parts = [] if path.startswith("/") else [p for p in cwd.split("/") if p]
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return "/".join(parts)
