from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from secposture import catalogue
from secposture.facts import ci as ci_facts
from secposture.facts import tools
from secposture.facts.interface import Facts
from secposture.facts.languages import dockerfile_fragment
from secposture.facts.tools import ToolUse, runnable_text
from secposture.model import Finding, Location, Outcome
from secposture.paths import glob_matcher
from secposture.probes.interface import finding, probe_id, unanalysed, unread

PROBE = probe_id(__name__)
_MAX_TF_FILES = 500
_MAX_BLOCK_LINES = 400
_RESOURCE = re.compile(r'^\s*(resource|module)\s+"([\w-]{1,80})"(?:\s+"([^"\n]{1,200})")?\s*\{')
_SCAN_ON_PUSH = re.compile(r"\bscan_on_push\s*=\s*(\S{1,80})")


@dataclass(frozen=True)
class Build:
    what: str
    location: Location


@dataclass(frozen=True)
class EcrBlock:
    kind: str  # "repository" | "registry" | "module"
    name: str
    location: Location
    scans: bool
    detail: str


@cache
def _config() -> dict[str, Any]:
    return catalogue.load("containers")


@cache
def _build_patterns() -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in _config()["build_commands"])


def builds(facts: Facts) -> list[Build]:
    """Evidence that container images are built: Dockerfiles, and image builds in CI."""
    spec = _config()
    build_files = tuple(spec["build_files"])
    is_build_file = glob_matcher(build_files)
    # The product's build files: a test image or a devcontainer's is not an image it ships, and
    # a fragment with no FROM (one that a script appends to another Dockerfile) builds nothing.
    found = [
        Build(f"{p} is a container build file", Location(p, 1))
        for p in facts.index.product.named_like(build_files)
        if is_build_file(p.rpartition("/")[2]) and not dockerfile_fragment(facts, p)
    ]
    ci = facts.get(ci_facts.collect)
    for command in ci.commands:
        if any(rx.search(t) for t in runnable_text(command.text) for rx in _build_patterns()):
            found.append(
                Build(
                    f"CI builds an image: `{command.text[:100]}` at {command.where()}",
                    Location(*command.located()),
                )
            )
    for use in ci.uses:
        names = (
            spec["build_actions"] if use.kind in ("action", "workflow") else spec["build_templates"]
        )
        if any(use.name == n or use.name.startswith(n + "/") for n in names):
            found.append(
                Build(
                    f"CI builds an image: `{use.name}` at {use.where()}",
                    Location(*use.located()),
                )
            )
    return found


def run(facts: Facts) -> list[Finding]:
    built = builds(facts)
    blind = facts.get(ci_facts.collect).unanalysed
    if not built and blind:
        return [unanalysed(PROBE, blind[0], "whether CI builds container images is unknown")]
    if not built:
        return [
            finding(
                PROBE,
                Outcome.NOT_APPLICABLE,
                "no container images are built (no Dockerfile or Containerfile, no image build in CI)",
            )
        ]
    ci = facts.get(tools.ci_uses)
    scans = _first_per_tool([u for u in ci if u.has_purpose("image-scan")])
    out = [
        finding(
            PROBE, Outcome.POSITIVE, f"built images are scanned in CI: {u.describe()}", u.location
        )
        for u in scans
    ]
    ecr = ecr_blocks(facts)
    out += [finding(PROBE, Outcome.POSITIVE, b.detail, b.location) for b in ecr if b.scans]
    if out:
        return out
    refs = facts.get(ci_facts.collect).unread
    if refs:
        # The scan may run in a workflow or action of another repository that was not read:
        # unknown, naming it, never "no image scan runs" (ADR 0014).
        return [unread(PROBE, refs, "whether CI scans the images it builds is unknown")]
    # No scan of images: ECR repositories without scan-on-push are the gaps to name.
    out += [finding(PROBE, Outcome.NEGATIVE, b.detail, b.location) for b in ecr]
    partial = _first_per_tool(
        [u for u in ci if any(u.has_purpose(p) for p in _config()["partial_purposes"])]
    )
    if partial:
        shown = "; ".join(u.describe() for u in partial[:3])
        out.append(
            finding(
                PROBE,
                Outcome.PARTIAL,
                f"only a filesystem or configuration scan runs in CI ({shown}); it does not scan the built image's OS packages and layers",
                partial[0].location,
            )
        )
        return out
    if blind:
        out.append(unanalysed(PROBE, blind[0], "whether CI scans the images it builds is unknown"))
        return out
    what = "; ".join(b.what for b in built[:3])
    out.append(
        finding(
            PROBE,
            Outcome.NEGATIVE,
            f"container images are built ({what}) but no image scan runs in CI (Trivy, Grype, Snyk container, Docker Scout, ...) and Terraform does not turn on ECR scan-on-push",
            built[0].location,
        )
    )
    return out


def _first_per_tool(uses: list[ToolUse]) -> list[ToolUse]:
    seen: dict[str, ToolUse] = {}
    for use in uses:
        seen.setdefault(use.tool.id, use)
    return list(seen.values())


# --- Terraform ---------------------------------------------------------------------------------


def ecr_blocks(facts: Facts) -> list[EcrBlock]:
    """ECR repositories, registry scanning configurations and ECR modules in the Terraform files."""
    out: list[EcrBlock] = []
    # The product's Terraform: a terratest fixture's registry is not where its images go.
    for path in facts.matching("*.tf", among=facts.product_paths)[:_MAX_TF_FILES]:
        text = facts.read(path)
        if text is None or ("aws_ecr" not in text and "/ecr/" not in text):
            continue
        out.extend(parse_ecr(path, text))
    return out


def _blocks(text: str) -> list[tuple[str, str, str, int, str]]:
    """(keyword, type, name, line, body) of top-level resource/module blocks, by brace counting."""
    lines = text.splitlines()
    out: list[tuple[str, str, str, int, str]] = []
    i = 0
    while i < len(lines):
        match = _RESOURCE.match(lines[i])
        if match is None:
            i += 1
            continue
        depth, body = 0, []
        for j in range(i, min(len(lines), i + _MAX_BLOCK_LINES)):
            code = lines[j].split("#", 1)[0]
            depth += code.count("{") - code.count("}")
            body.append(lines[j])
            if depth <= 0:
                break
        out.append(
            (
                match.group(1),
                match.group(2),
                match.group(3) or match.group(2),
                i + 1,
                "\n".join(body),
            )
        )
        i += max(len(body), 1)
    return out


def parse_ecr(path: str, text: str) -> list[EcrBlock]:
    spec = _config()["terraform"]
    out: list[EcrBlock] = []
    for keyword, kind, name, line, body in _blocks(text):
        where = Location(path, line)
        if keyword == "resource" and kind == spec["registry_scanning_resource"]:
            out.append(
                EcrBlock(
                    "registry",
                    name,
                    where,
                    True,
                    f"ECR registry scanning is configured ({kind}.{name}) at {path}:{line}",
                )
            )
        elif keyword == "resource" and kind == spec["repository_resource"]:
            out.append(_repository(path, name, line, body, where))
        elif keyword == "module" and re.search(spec["module_source"], body):
            off = re.search(spec["module_scan_off"], body) is not None
            state = "turns scan on push off" if off else "scans on push (the module's default)"
            out.append(
                EcrBlock(
                    "module", name, where, not off, f"ECR module `{name}` at {path}:{line} {state}"
                )
            )
    return out


def _repository(path: str, name: str, line: int, body: str, where: Location) -> EcrBlock:
    label = f"aws_ecr_repository.{name} at {path}:{line}"
    index = body.find("image_scanning_configuration")
    if index < 0:
        return EcrBlock(
            "repository",
            name,
            where,
            False,
            f"{label} has no image_scanning_configuration: images pushed to it are not scanned",
        )
    match = _SCAN_ON_PUSH.search(body, index)
    value = match.group(1).strip().lower() if match else ""
    at = Location(path, line + body.count("\n", 0, match.start())) if match else where
    if value == "true":
        return EcrBlock(
            "repository", name, at, True, f"{label} scans images on push (scan_on_push = true)"
        )
    if value in ("", "false"):
        return EcrBlock(
            "repository",
            name,
            at,
            False,
            f"{label} does not scan on push (scan_on_push = {value or 'unset'})",
        )
    return EcrBlock(
        "repository",
        name,
        at,
        False,
        f"{label} sets scan_on_push from `{value}`, which a scan cannot evaluate; set it to true",
    )
