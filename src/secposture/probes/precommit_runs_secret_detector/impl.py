from __future__ import annotations

from secposture.facts import precommit
from secposture.facts.interface import Facts
from secposture.facts.precommit import Hook, PreCommitConfig
from secposture.facts.references import significant
from secposture.facts.tools import PRE_COMMIT, ToolUse, match_hook
from secposture.model import Finding, Location, Outcome
from secposture.probes.interface import finding, probe_id, unanalysed, unread
from secposture.text import plural

PROBE = probe_id(__name__)
PURPOSE = "secret-detection"


def run(facts: Facts) -> list[Finding]:
    config = facts.get(precommit.collect)
    if config is None:
        return [
            finding(
                PROBE,
                Outcome.NEGATIVE,
                "there is no .pre-commit-config.yaml, so no pre-commit hook stops secrets being committed",
            )
        ]
    problem = facts.problem_for(config.path)
    if not config.analysed and problem is not None:
        return [
            unanalysed(
                PROBE,
                problem,
                "whether it runs a secret detector is unknown (if pre-commit cannot read it "
                "either, no hook runs at all)",
            )
        ]
    if not config.valid:
        reason = problem.message if problem else "is malformed"
        where = Location(config.path, problem.line if problem else None)
        return [
            finding(
                PROBE,
                Outcome.NEGATIVE,
                f"{config.path} {reason}; pre-commit cannot run any hook, secret detectors included",
                where,
            )
        ]
    detectors = _detectors(facts, config)
    on_commit = [(h, u) for h, u in detectors if h.runs_on_commit]
    strong = [(h, u) for h, u in on_commit if not u.tool.weak]
    if strong:
        use = strong[0][1]
        names = ", ".join(dict.fromkeys(f"{u.tool.id} ({_hook_label(h)})" for h, u in strong))
        return [
            finding(
                PROBE, Outcome.POSITIVE, f"secret detection runs on commit: {names}", use.location
            )
        ]
    later = [
        (h, u) for h, u in detectors if not u.tool.weak and not h.runs_on_commit and h.runs_on_push
    ]
    if on_commit or later:
        use = (on_commit or later)[0][1]
        return [
            finding(
                PROBE, Outcome.PARTIAL, _partial_message(config, on_commit, later), use.location
            )
        ]
    refs = [
        h.unread
        for h in config.hooks
        if h.unread is not None and h.runs_on_commit and significant(facts, h.unread)
    ]
    if refs:
        # A hook of a repository that could not be read may be the detector (ADR 0014).
        return [unread(PROBE, refs, "whether a secret detector runs on commit is unknown")]
    manual = [h for h, _ in detectors]
    if manual:
        listed = ", ".join(_hook_label(h) for h in manual)
        return [
            finding(
                PROBE,
                Outcome.NEGATIVE,
                f"the secret detector hooks in {config.path} run only when asked ({listed}: stages {manual[0].stages_text()}), not on commit; remove `stages: [manual]`",
                Location(config.path, manual[0].line),
            )
        ]
    return [
        finding(
            PROBE,
            Outcome.NEGATIVE,
            f"{config.path} has {plural(len(config.hooks), 'hook')} but no secret detector (gitleaks, detect-secrets, trufflehog, git-secrets, ggshield, talisman, ...)",
            Location(config.path, 1),
        )
    ]


def _detectors(facts: Facts, config: PreCommitConfig) -> list[tuple[Hook, ToolUse]]:
    out: list[tuple[Hook, ToolUse]] = []
    for hook in config.hooks:
        for use in match_hook(facts, hook, config.path, PRE_COMMIT):
            if use.has_purpose(PURPOSE):
                out.append((hook, use))
    return out


def _hook_label(hook: Hook) -> str:
    where = f" at line {hook.line}" if hook.line else ""
    return f"hook `{hook.id}`{where}"


def _partial_message(
    config: PreCommitConfig, weak: list[tuple[Hook, ToolUse]], later: list[tuple[Hook, ToolUse]]
) -> str:
    parts: list[str] = []
    if weak:
        names = ", ".join(dict.fromkeys(f"`{h.id}`" for h, _ in weak))
        parts.append(
            f"only {names} runs on commit, which finds private keys or AWS keys but not tokens and passwords"
        )
    if later:
        names = ", ".join(
            dict.fromkeys(
                f"{u.tool.id} ({_hook_label(h)}, stages {h.stages_text()})" for h, u in later
            )
        )
        parts.append(
            f"a full secret detector runs only on push, after the secret is committed: {names}"
        )
    return (
        f"{config.path}: "
        + "; ".join(parts)
        + "; add gitleaks or detect-secrets at the commit stage"
    )
