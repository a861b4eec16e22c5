from __future__ import annotations

from secposture.facts import dependabot, ecosystems
from secposture.facts.ecosystems import EcosystemSpec, ManifestDir
from secposture.facts.interface import Facts
from secposture.model import Finding, Location, Outcome
from secposture.probes.interface import finding, probe_id, unanalysed

PROBE = probe_id(__name__)


def _entry_hint(spec: EcosystemSpec, location: ManifestDir) -> str:
    if not spec.dependabot:  # sbt: only Renovate can update it
        return f"Dependabot cannot update {spec.label}; {dependabot.renovate_hint(spec)}"
    return (
        f"add .github/dependabot.yml (`version: 2`) with `- package-ecosystem: "
        f"{spec.dependabot[0]}` and `directory: {location.directory}`"
    )


def _finding(
    facts: Facts, configs: dependabot.UpdateConfigs, spec: EcosystemSpec, location: ManifestDir
) -> Finding:
    what = f"{spec.label} at {location.directory}"
    values = {"ecosystem": spec.name, "directory": location.directory}
    manifest = Location(location.manifests[0]) if location.manifests else None
    answers = dependabot.coverage(configs, spec, location)
    if answers and answers[0].covered:
        best = answers[0]
        return finding(
            PROBE,
            Outcome.POSITIVE,
            f"{what} is covered by {best.detail}",
            Location(best.path, best.line),
            **values,
        )
    unknown = _unknown(facts, spec, location, answers)
    if unknown is not None:
        return unknown
    if not answers:
        return finding(
            PROBE,
            Outcome.NEGATIVE,
            f"{what} ({location.manifests[0]}) has no dependency updates: there is no "
            f".github/dependabot.yml and no Renovate config; {_entry_hint(spec, location)}",
            manifest,
            **values,
        )
    best = answers[0]
    reasons = "; ".join(a.detail for a in answers)
    fixes = " or ".join(a.fix for a in answers if a.fix)
    return finding(
        PROBE,
        Outcome.NEGATIVE,
        f"{what} is not covered: {reasons}; to fix, {fixes}",
        Location(best.path, best.line) if best.line else manifest,
        **values,
    )


def _unknown(
    facts: Facts,
    spec: EcosystemSpec,
    location: ManifestDir,
    answers: list[dependabot.Coverage],
) -> Finding | None:
    """Unknown rather than negative when a configuration that may cover the directory, or the
    manifest that says whether it has dependencies, could not be analysed."""
    what = f"{spec.label} at {location.directory}"
    values = {"ecosystem": spec.name, "directory": location.directory}
    for answer in answers:
        if answer.unanalysed is not None:
            consequence = f"whether {what} is kept up to date is unknown"
            return unanalysed(PROBE, answer.unanalysed, consequence, **values)
    for manifest in location.manifests:
        problem = facts.problem_for(manifest)
        if problem is not None and manifest.rpartition("/")[2] in spec.declares:
            consequence = (
                f"whether it declares dependencies of {what}, to keep up to date, is unknown"
            )
            return unanalysed(PROBE, problem, consequence, **values)
    return None


def run(facts: Facts) -> list[Finding]:
    present = facts.get(ecosystems.collect)
    if not present:
        return [
            finding(
                PROBE,
                Outcome.NOT_APPLICABLE,
                "no package manifests, workflows or submodules: nothing to keep up to date",
            )
        ]
    configs = facts.get(dependabot.collect)
    specs = ecosystems.specs()
    return [
        _finding(facts, configs, specs[name], location)
        for name, locations in present.items()
        for location in locations
    ]
