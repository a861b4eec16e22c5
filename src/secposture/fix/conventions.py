"""The repository's own conventions that generated files follow: the versions of the actions its
workflows run (a generated workflow never runs an older one), whether its pre-commit hooks are
frozen by commit SHA (`pre-commit autoupdate --freeze`), and the schedule its Dependabot entries
share. Read from the facts as planned, never guessed: where the repository says nothing, the
shipped defaults stand.
"""

from __future__ import annotations

import re
from typing import Any

from secposture.facts import dependabot as dependabot_facts
from secposture.facts import precommit as precommit_facts
from secposture.facts.interface import Facts

Version = tuple[int, ...]
_USES = re.compile(
    r"""^[ \t]*(?:-[ \t]+)?uses:[ \t]*["']?([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)(?:/[^@\s"']*)?@([A-Za-z0-9_.-]+)["']?(?:[ \t]+#[ \t]*(\S+))?""",
    re.MULTILINE,
)
_VERSION = re.compile(r"v?(\d{1,6})(?:\.(\d{1,6}))?(?:\.(\d{1,6}))?")
_SHA = re.compile(r"[0-9a-f]{40}")
_ACTION_FILES = (".github/*.yml", ".github/*.yaml", "action.yml", "*/action.yml", "action.yaml")
_MAX_FILES = 300


def version(text: str | None) -> Version | None:
    """`v5`, `v5.1`, `5.1.0` as (5,), (5, 1), (5, 1, 0); None for a branch or anything else."""
    if not text:
        return None
    match = _VERSION.fullmatch(text.strip())
    if match is None:
        return None
    return tuple(int(part) for part in match.groups() if part is not None)


def at_least(candidate: Version, wanted: Version) -> bool:
    """Whether `candidate` (a full version) is no older than `wanted` to the precision `wanted`
    is written with (v6.1.0 satisfies `v6`; v5.1.0 does not)."""
    return candidate[: len(wanted)] >= wanted


def action_versions(facts: Facts) -> dict[str, Version]:
    """The newest version of each action (`owner/repo`, lower case) the repository's workflows and
    actions already run: from the tag, or from the comment beside a SHA (`@<sha> # v4.2.2`)."""
    newest: dict[str, Version] = {}
    for path in facts.matching(*_ACTION_FILES, among=facts.all_paths)[:_MAX_FILES]:
        text = facts.read(path)
        if text is None or "uses:" not in text:
            continue
        for match in _USES.finditer(text):
            name, ref, comment = match.group(1).lower(), match.group(2), match.group(3)
            found = version(comment) if _SHA.fullmatch(ref) else version(ref)
            if found is not None and found > newest.get(name, ()):
                newest[name] = found
    return newest


def repository_of(action: str) -> str:
    """`github/codeql-action/upload-sarif` -> `github/codeql-action` (versions are per repository)."""
    return "/".join(action.lower().split("/")[:2])


def hooks_frozen(facts: Facts) -> bool:
    """Whether the pre-commit config pins most of its hook repositories by commit SHA."""
    config = facts.get(precommit_facts.collect)
    if config is None:
        return False
    revs = {h.repo: h.rev for h in config.hooks if h.repo not in ("local", "meta")}
    if not revs:
        return False
    frozen = sum(1 for rev in revs.values() if rev is not None and _SHA.fullmatch(rev))
    return frozen * 2 > len(revs)


def dependabot_schedule(facts: Facts) -> dict[str, Any] | None:
    """The `schedule` every existing Dependabot entry shares, or None (none, or they differ)."""
    configs = facts.get(dependabot_facts.collect)
    if configs.dependabot is None:
        return None
    text = facts.read(configs.dependabot.path)
    if text is None:
        return None
    from secposture.facts.parsing import parse_yaml

    try:
        doc = parse_yaml(text)
    except ValueError:
        return None
    updates = doc.get("updates") if isinstance(doc, dict) else None
    if not isinstance(updates, list) or not updates:
        return None
    schedules = [u.get("schedule") for u in updates if isinstance(u, dict)]
    first = schedules[0] if schedules else None
    if not isinstance(first, dict) or any(s != first for s in schedules):
        return None
    plain = {
        str(k): v for k, v in first.items() if isinstance(v, str | int) and not isinstance(v, bool)
    }
    return plain if plain.get("interval") else None
