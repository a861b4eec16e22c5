"""What each job's GITHUB_TOKEN is needed for, read from the workflow.

A fact shared by the probe that judges each job's grants (workflow-jobs-least-privilege) and the
fix that writes them (fix/generators/workflow_permissions.py), so that both agree on what a job
needs. The table in data/workflow_security.toml proves needs (SARIF upload needs
`security-events: write`); it never proves their absence, so a step it does not know, a step
handed the token, or a reusable workflow that could not be read leaves every scope open.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from secposture.facts.interface import Facts
from secposture.facts.workflow_expressions import (
    Config,
    Resolvers,
    TokenNeed,
    action_path,
    config,
    context_paths,
    expressions,
    resolvers,
)
from secposture.facts.workflows import Job, Step, Workflow

WRITE_ALL = "write-all"
_MAX_CALL_DEPTH = 4  # reusable workflows nest at most 4 levels on GitHub
_TOKEN_CONTEXTS = {("secrets", "github_token"), ("github", "token")}


@dataclass
class Needs:
    """What a job's token is needed for: scopes proven by the table, and why any other scope may be
    needed too (None where every step is known)."""

    proven: dict[str, str] = field(default_factory=dict)  # scope -> evidence
    open: str | None = None
    # Scopes a script uses without being handed the token: `contents` through the credentials
    # actions/checkout leaves in .git/config, `id-token` through ACTIONS_ID_TOKEN_REQUEST_URL.
    implicit: dict[str, str] = field(default_factory=dict)

    def add(self, other: Needs) -> None:
        for scope, why in other.proven.items():
            self.proven.setdefault(scope, why)
        for scope, why in other.implicit.items():
            self.implicit.setdefault(scope, why)
        self.open = self.open or other.open

    def may_need(self, scope: str) -> str | None:
        """Why the scope may be needed, or None when it is provably not."""
        if scope in self.proven:
            return f"needed: {self.proven[scope]}"
        if self.open is not None:
            return f"may be needed: {self.open}"
        if scope in self.implicit:
            return f"may be needed: {self.implicit[scope]}"
        return None


def job_needs(facts: Facts) -> Callable[[Job], Needs]:
    """What each job's token is needed for: its steps, or the reusable workflow it calls."""
    return TokenNeeds(config(), resolvers(facts)).needs


class TokenNeeds:
    def __init__(self, cfg: Config, resolve: Resolvers) -> None:
        self.cfg = cfg
        self.resolve = resolve
        self.callee_needs: dict[str, Needs] = {}  # each called workflow judged once: calls fan out

    def needs(self, job: Job, depth: int = 0, seen: frozenset[str] = frozenset()) -> Needs:
        """What the job's token is needed for: its steps, or the reusable workflow it calls."""
        if job.uses is not None:
            return self.call_needs(job, self.resolve.workflow(job), depth, seen)
        found = Needs()
        self._steps(job.steps, found, depth)
        return found

    def call_needs(
        self, job: Job, callee: Workflow | None, depth: int = 0, seen: frozenset[str] = frozenset()
    ) -> Needs:
        """What a call job's token is needed for: what the called workflow's jobs ask for (their
        `permissions`), or need by their steps. An unread callee may need anything."""
        if callee is None or depth >= _MAX_CALL_DEPTH or callee.path in seen:
            return Needs(open=f"it calls {job.uses}, which could not be read")
        known = self.callee_needs.get(callee.path)
        if known is not None:
            return known
        found = self.callee_needs[callee.path] = Needs()
        for inner in callee.jobs:
            asked = inner.permissions if inner.permissions is not None else callee.permissions
            where = f"{callee.path}:{inner.line} job `{inner.id}`"
            if is_write_all(asked):
                found.open = f"{where} asks for write-all"
            elif isinstance(asked, Mapping):
                for scope in write_scopes(asked):
                    found.proven.setdefault(scope, f"{where} asks for {scope}: write")
            else:
                found.add(self.needs(inner, depth + 1, seen | {callee.path}))
        return found

    def _steps(self, steps: list[Step], found: Needs, depth: int) -> None:
        checked_out = False
        for step in steps:
            where = f"{step.path}:{step.line}"
            token_handed = _hands_token(step)
            if step.uses is not None:
                uses = step.uses
                if uses.startswith("./"):
                    action = self.resolve.action(uses)
                    if action is None or action.problem is not None or depth >= _MAX_CALL_DEPTH:
                        found.open = found.open or f"{where} uses {uses}, which could not be read"
                    else:
                        self._steps(action.steps, found, depth + 1)
                    continue
                path = action_path(uses)
                matched = [need for need in self.cfg.token_needs if _need_matches(need, path, step)]
                listed = matched or _listed(path, self.cfg.token_free_actions)
                action = (
                    None if listed or uses.startswith("docker://") else self.resolve.action(uses)
                )
                if action is not None and action.problem is None and depth < _MAX_CALL_DEPTH:
                    self._steps(action.steps, found, depth + 1)  # another repository's composite
                    continue
                for need in matched:
                    for scope in need.scopes:
                        found.proven.setdefault(scope, f"{where} {uses.split('@')[0]} ({need.why})")
                if _listed(path, self.cfg.checkout_actions):
                    persist = step.with_.get("persist-credentials", "").strip().lower()
                    checked_out = checked_out or persist != "false"
                if matched or (uses.startswith("docker://") and not token_handed):
                    continue
                if _listed(path, self.cfg.token_free_actions):
                    continue
                if _listed(path, self.cfg.token_taking_actions) or token_handed:
                    found.open = found.open or f"{where} hands the token to {uses.split('@')[0]}"
                else:
                    found.open = found.open or (
                        f"{where} uses {uses.split('@')[0]}, whose needs are not in the table"
                    )
            if step.run is not None:
                for need in self.cfg.token_needs:
                    if need.run is not None and need.run.search(step.run):
                        for scope in need.scopes:
                            found.proven.setdefault(
                                scope, f"{where} runs a command that {need.why}"
                            )
                if token_handed:
                    found.open = found.open or f"{where} hands the token to a script"
                found.implicit.setdefault(
                    "id-token", f"{where} runs a script, which may ask for an OIDC token"
                )
                if checked_out:
                    found.implicit.setdefault(
                        "contents",
                        f"{where} runs a script after actions/checkout left the token in "
                        ".git/config",
                    )


def write_scopes(value: Any) -> list[str]:
    """The scopes a `permissions` value grants write to, sorted (none for a string like
    `write-all`: ask is_write_all)."""
    if not isinstance(value, Mapping):
        return []
    return sorted(str(k) for k, v in value.items() if str(v).strip().lower() == "write")


def is_write_all(value: Any) -> bool:
    return isinstance(value, str) and value.strip() == WRITE_ALL


def _listed(path: str, names: tuple[str, ...]) -> bool:
    return any(path == name or path.startswith(name + "/") for name in names)


def _need_matches(need: TokenNeed, path: str, step: Step) -> bool:
    if not need.uses or not _listed(path, (need.uses,)):
        return False
    given = {key.lower(): value.strip() for key, value in step.with_.items()}
    for key, wanted in need.with_:
        value = given.get(key, "")
        if not value or (wanted != "*" and value.lower() != wanted.lower()):
            return False
    return True


def _hands_token(step: Step) -> bool:
    """Whether the step is given the job's token in `with:` or `env:` (or a script reads it)."""
    texts = [*step.with_.values(), *step.env.values()]
    if step.run is not None:
        texts.append(step.run)
    return any(
        path[:2] in _TOKEN_CONTEXTS
        for text in texts
        for expr in expressions(text)
        for path in context_paths(expr.text)
    )
