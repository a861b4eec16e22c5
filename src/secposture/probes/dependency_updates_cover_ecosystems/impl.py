from __future__ import annotations

from secposture.facts import dependabot, ecosystems
from secposture.facts.ecosystems import EcosystemSpec, ManifestDir
from secposture.facts.interface import Facts
from secposture.model import Finding, Location, Outcome
from secposture.probes.interface import finding

PROBE = "dependency-updates-cover-ecosystems"


def _entry_hint(spec: EcosystemSpec, location: ManifestDir) -> str:
    return (
        f"add .github/dependabot.yml (`version: 2`) with `- package-ecosystem: "
        f"{spec.dependabot[0]}` and `directory: {location.directory}`"
    )


def _finding(
    configs: dependabot.UpdateConfigs, spec: EcosystemSpec, location: ManifestDir
) -> Finding:
    what = f"{spec.label} at {location.directory}"
    values = {"ecosystem": spec.name, "directory": location.directory}
    manifest = Location(location.manifests[0]) if location.manifests else None
    answers = dependabot.coverage(configs, spec, location)
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
    if best.covered:
        return finding(
            PROBE,
            Outcome.POSITIVE,
            f"{what} is covered by {best.detail}",
            Location(best.path, best.line),
            **values,
        )
    reasons = "; ".join(a.detail for a in answers)
    fixes = " or ".join(a.fix for a in answers if a.fix)
    return finding(
        PROBE,
        Outcome.NEGATIVE,
        f"{what} is not covered: {reasons}; to fix, {fixes}",
        Location(best.path, best.line) if best.line else manifest,
        **values,
    )


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
        _finding(configs, specs[name], location)
        for name, locations in present.items()
        for location in locations
    ]
