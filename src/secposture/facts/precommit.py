"""The pre-commit configuration (.pre-commit-config.yaml): hook repositories, hooks, their stages and
lines, and the `ci:` section that makes pre-commit.ci run the hooks in CI too.

Anything of the wrong shape is skipped (and, for the whole file, recorded as a Problem): a hostile
config must never stop the scan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from secposture.facts.file_filters import FileFilter, from_hook
from secposture.facts.interface import Facts
from secposture.facts.parsing import line_of, load_yaml
from secposture.facts.references import Unread

CONFIG_FILES = (".pre-commit-config.yaml", ".pre-commit-config.yml")

# Stage names, old and new (pre-commit 3.2 renamed `commit` to `pre-commit` and so on).
COMMIT_STAGES = frozenset({"commit", "pre-commit", "pre-merge-commit", "merge-commit"})
PUSH_STAGES = frozenset({"push", "pre-push"})

# github.com/OWNER/REPO[.git][/]: the form most configs use; anything else is kept as written.
_GITHUB = re.compile(
    r"^(?:https?://|git://|ssh://git@|git@)?(?:www\.)?github\.com[:/]([\w.-]+)/([\w.-]+?)(?:\.git)?/?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Hook:
    id: str
    repo: str  # "owner/repo" (lower case) for GitHub, "local", "meta", or the URL as written
    line: int | None
    rev: str | None = None
    entry: str | None = None  # the command of a local hook (or an override)
    language: str | None = None
    stages: tuple[str, ...] = ()  # effective stages; () = every stage
    # The hook's own `files`/`exclude`/`types`/`types_or`/`exclude_types`, None when it sets none.
    file_filter: FileFilter | None = None
    args: tuple[str, ...] | None = None  # `args:` in the config (they replace the hook's own)
    # What the hook repository defines the hook to run (its .pre-commit-hooks.yaml at `rev`),
    # when it was read or catalogued (ADR 0014); `unread` when it could not be.
    definition: HookDefinition | None = None
    unread: Unread | None = None

    @property
    def runs_on_commit(self) -> bool:
        return not self.stages or bool(COMMIT_STAGES.intersection(self.stages))

    @property
    def runs_on_push(self) -> bool:
        return not self.stages or bool(PUSH_STAGES.intersection(self.stages))

    def runs_at(self, stage: str) -> bool:
        """Whether `pre-commit run --hook-stage STAGE` runs it."""
        if not self.stages:
            return True
        wanted = {stage}
        for group in (COMMIT_STAGES, PUSH_STAGES):
            if stage in group:
                wanted |= group
        return bool(wanted.intersection(self.stages))

    def stages_text(self) -> str:
        return ", ".join(self.stages) if self.stages else "every stage"


@dataclass(frozen=True)
class HookDefinition:
    """A hook as its repository's .pre-commit-hooks.yaml defines it (or the catalogue of shared
    actions says it runs)."""

    entry: str  # the command, with the args in effect
    language: str | None
    path: str  # the key of the hooks file read (owner/repo@rev:.pre-commit-hooks.yaml), or a label
    line: int | None
    script: str | None = None  # `language: script`: the key of the script read from the repository
    script_why: str = ""  # why the script could not be read
    catalogued: bool = False


@dataclass
class PreCommitConfig:
    path: str
    hooks: list[Hook] = field(default_factory=list)
    ci_line: int | None = None  # line of the `ci:` section (pre-commit.ci), None when absent
    ci_skip: frozenset[str] = frozenset()  # hook ids pre-commit.ci skips
    valid: bool = True  # False: malformed; facts.problem_for(path) says why
    # False: the file could not be analysed (not YAML to our parser, beyond its limits,
    # unreadable): what pre-commit makes of it is unknown.
    analysed: bool = True
    installed_by: str | None = None  # "Makefile:34": `pre-commit install --config` installs it

    @property
    def runs_in_precommit_ci(self) -> bool:
        return self.ci_line is not None


def repo_name(url: str) -> str:
    """`owner/repo` in lower case for a GitHub URL; otherwise the URL (or local/meta) as written."""
    url = url.strip()
    match = _GITHUB.match(url)
    if match:
        return f"{match.group(1)}/{match.group(2)}".lower()
    return url


def _stages(raw: Any) -> tuple[str, ...]:
    if isinstance(raw, str):
        return (raw,)
    if isinstance(raw, list):
        return tuple(str(s) for s in raw if isinstance(s, str | int))
    return ()


def _text(raw: Any) -> str | None:
    if raw is None or isinstance(raw, dict | list):
        return None
    return str(raw)


def _entry(raw: dict[Any, Any]) -> str | None:
    entry = _text(raw.get("entry"))
    if entry is None:
        return None
    args = raw.get("args")
    if isinstance(args, list):
        entry = " ".join([entry, *(str(a) for a in args if isinstance(a, str | int | float))])
    return entry


def _args(raw: Any) -> tuple[str, ...] | None:
    if not isinstance(raw, list):
        return None
    return tuple(str(a) for a in raw[:100] if isinstance(a, str | int | float))


def parse_config(path: str, doc: Any) -> PreCommitConfig | None:
    """The config of a parsed document; None when it is not a pre-commit config at all."""
    if isinstance(doc, list):  # the old (pre-1.0) form: a bare list of repos
        doc = {"repos": doc}
    if not isinstance(doc, dict):
        return None
    config = PreCommitConfig(path=path)
    default_stages = _stages(doc.get("default_stages"))
    repos = doc.get("repos")
    if not isinstance(repos, list):
        return None
    for repo_index, raw_repo in enumerate(repos):
        if not isinstance(raw_repo, dict) or not isinstance(raw_repo.get("repo"), str):
            continue
        name = repo_name(raw_repo["repo"])
        rev = _text(raw_repo.get("rev"))
        hooks = raw_repo.get("hooks")
        if not isinstance(hooks, list):
            continue
        for hook_index, raw in enumerate(hooks):
            if not isinstance(raw, dict) or raw.get("id") is None:
                continue
            stages = _stages(raw.get("stages")) if "stages" in raw else default_stages
            line = line_of(hooks, hook_index) or line_of(repos, repo_index)
            config.hooks.append(
                Hook(
                    id=str(raw["id"]),
                    repo=name,
                    line=line,
                    rev=rev,
                    entry=_entry(raw),
                    language=_text(raw.get("language")),
                    stages=stages,
                    file_filter=from_hook(raw, f"{path}:{line}" if line else path),
                    args=_args(raw.get("args")),
                )
            )
    ci = doc.get("ci")
    if "ci" in doc and (ci is None or isinstance(ci, dict)):
        config.ci_line = line_of(doc, "ci")
        skip = ci.get("skip") if isinstance(ci, dict) else None
        if isinstance(skip, list):
            config.ci_skip = frozenset(str(s) for s in skip)
    return config


def collect(facts: Facts) -> PreCommitConfig | None:
    """The repository's pre-commit config; None when there is none. A malformed one has
    valid=False. The config is the one `pre-commit install --config PATH` installs when the
    repository's Makefiles, scripts or package.json do so, else .pre-commit-config.yaml; hooks
    of hook repositories that no catalogue knows are followed to their definitions (ADR 0014)."""
    installed = installed_config(facts)
    paths = (installed[0],) if installed is not None else CONFIG_FILES
    for path in paths:
        if not facts.exists(path):
            continue
        doc = load_yaml(facts, path)
        if doc is None:
            if facts.problem_for(path) is None:  # an empty file parses to None
                facts.problem(path, "is empty: no hooks are configured")
                return PreCommitConfig(path=path, valid=False)
            return PreCommitConfig(path=path, valid=False, analysed=False)
        config = parse_config(path, doc)
        if config is None:
            facts.problem(
                path, "is not a pre-commit config: expected a mapping with a `repos` list"
            )
            return PreCommitConfig(path=path, valid=False)
        from secposture.facts.hook_repos import resolve_hooks

        config.hooks = resolve_hooks(facts, config.path, config.hooks)
        if installed is not None:
            config.installed_by = installed[1]
        return config
    return None


# `pre-commit install --config PATH` (or `-c PATH`, `--config=PATH`), on one logical line.
_INSTALL = re.compile(
    r"\b(?:pre-commit|prek)\s+install\b[^\n;&|]{0,400}?\s(?:--config(?:=|\s+)|-c\s+)['\"]?([^\s'\";&|]{1,300})"
)
_INSTALLERS = ("Makefile", "makefile", "GNUmakefile", "package.json")
_MAX_INSTALLER_FILES = 30


def installed_config(facts: Facts) -> tuple[str, str] | None:
    """(config path, where it is installed) when a Makefile (or an included *.mk), a script
    under scripts/ or a package.json script runs `pre-commit install --config PATH` on a config
    the repository has; None otherwise."""
    return facts.get(_installed_config)


def _installed_config(facts: Facts) -> tuple[str, str] | None:
    from secposture.facts.scripts import _logical_lines

    by_name = facts.by_name
    candidates = sorted(p for name in _INSTALLERS for p in by_name.get(name, ()))
    candidates += facts.matching("*.mk")
    candidates += [
        p for p in facts.matching("*.sh") if p.startswith(("scripts/", "script/", "bin/"))
    ]
    for path in candidates[:_MAX_INSTALLER_FILES]:
        text = facts.read(path)
        if text is None or "install" not in text:
            continue
        for number, line in _logical_lines(text):
            match = _INSTALL.search(line[:4000])
            if match is None:
                continue
            target = match.group(1).removeprefix("./")
            folder = path.rpartition("/")[0]
            for found in (target, f"{folder}/{target}" if folder else target):
                if facts.exists(found) and found.endswith((".yaml", ".yml")):
                    return found, f"{path}:{number}"
    return None
