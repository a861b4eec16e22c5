from __future__ import annotations

import re
from functools import cache
from typing import Any

from secposture import catalogue
from secposture.facts import ci as ci_facts
from secposture.facts import languages, tools
from secposture.facts.interface import Facts
from secposture.facts.tools import ToolUse
from secposture.model import Finding, Location, Outcome
from secposture.probes.interface import finding, probe_id, unread

PROBE = probe_id(__name__)
PURPOSE = "iac-scan"


@cache
def _config() -> dict[str, Any]:
    spec: dict[str, Any] = catalogue.load("security_tests")["infrastructure"]
    return spec


@cache
def _plugin_pattern() -> re.Pattern[str]:
    return re.compile(_config()["tflint_rules_plugin"])


def run(facts: Facts) -> list[Finding]:
    infra = [lang for lang in facts.get(languages.collect).values() if lang.infrastructure]
    if not infra:
        return [
            finding(
                PROBE,
                Outcome.NOT_APPLICABLE,
                "no infrastructure code (Terraform, Kubernetes manifests) is present",
            )
        ]
    ci = [u for u in facts.get(tools.ci_uses) if u.has_purpose(PURPOSE)]
    ci += _tflint_with_rules(facts)
    local = [u for u in facts.get(tools.precommit_uses) if u.has_purpose(PURPOSE)]
    policy_tests = facts.matching(*_config()["policy_test_globs"])
    out: list[Finding] = []
    for lang in infra:
        values = {"language": lang.name}
        in_ci = [u for u in ci if u.covers(lang.name)]
        if in_ci:
            shown = "; ".join(u.describe() for u in _first_per_tool(in_ci)[:3])
            out.append(
                finding(
                    PROBE,
                    Outcome.POSITIVE,
                    f"{lang.name} security is checked in CI: {shown}",
                    in_ci[0].location,
                    **values,
                )
            )
        elif policy_tests:
            listed = ", ".join(policy_tests[:3])
            out.append(
                finding(
                    PROBE,
                    Outcome.POSITIVE,
                    f"{lang.name}: policy tests exist ({listed})",
                    Location(policy_tests[0], 1),
                    **values,
                )
            )
        elif refs := facts.get(ci_facts.collect).unread:
            consequence = f"whether CI checks the security of the {lang.name} code is unknown"
            out.append(unread(PROBE, refs, consequence, **values))
        elif any(u.covers(lang.name) for u in local):
            use = next(u for u in local if u.covers(lang.name))
            message = f"{lang.name} security is checked only in pre-commit ({use.describe()}), which a commit can skip; run it in CI too (or run pre-commit in CI)"
            out.append(finding(PROBE, Outcome.PARTIAL, message, use.location, **values))
        else:
            example = f" (e.g. {lang.examples[0]})" if lang.examples else ""
            message = f"{lang.name} code{example} is not security-tested: no IaC scanner (checkov, tfsec, trivy config, terrascan, kics, conftest) runs in CI and there are no policy tests (*_test.rego)"
            out.append(
                finding(
                    PROBE,
                    Outcome.NEGATIVE,
                    message,
                    Location(lang.examples[0]) if lang.examples else None,
                    **values,
                )
            )
    return out


def _first_per_tool(uses: list[ToolUse]) -> list[ToolUse]:
    seen: dict[str, ToolUse] = {}
    for use in uses:
        seen.setdefault(use.tool.id, use)
    return list(seen.values())


def _tflint_with_rules(facts: Facts) -> list[ToolUse]:
    """tflint in CI counts as a security check when its config enables a cloud ruleset plugin."""
    spec = _config()
    runs = [u for u in facts.get(tools.ci_uses) if u.tool.id == spec["tflint_tool"]]
    if not runs:
        return []
    for path in facts.matching(*spec["tflint_configs"]):
        text = facts.read(path) or ""
        match = _plugin_pattern().search(text)
        if match is not None:
            line = text.count("\n", 0, match.start()) + 1
            use = runs[0]
            evidence = f"{use.evidence}, with the ruleset plugin at {path}:{line}"
            return [ToolUse(use.tool, use.stage, use.languages, use.location, evidence)]
    return []
