"""The data catalogues shipped in `secposture/data/`: controls, languages, tools, ecosystems.

They are data so that a team can extend them in its policy file without changing code. Each file
has a typed model (`catalogue_schema`) and is validated before anything reads it: a catalogue with a
missing, misspelt or mistyped key is an error that names the file and the key, not a KeyError deep
in a scan. The test suite validates every shipped file and records its digest in
`data/catalogues.lock.json`; a file that matches its digest is the one validated, so a scan reads
it without loading pydantic (about a third of a scan's start-up otherwise), and any other content
is validated as it loads. `load` gives a file's table; the typed loaders (`controls()`,
`patch_days()`, ...) are the ones new code should use.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from secposture.errors import SecpostureError

if TYPE_CHECKING:
    from secposture import catalogue_schema as schema

LevelName = Literal["required", "recommended", "extra"]
M = TypeVar("M", bound="schema._Table")
LOCK_FILE = "catalogues.lock.json"


class CatalogueError(SecpostureError):
    """A catalogue file is invalid; the message names the file and the key."""


@dataclass(frozen=True)
class ControlSpec:
    """A control of the baseline: its probes, how their findings combine, and its level
    (validated by `catalogue_schema.ControlSpec`, which has the same fields)."""

    id: str  # its key in the file
    title: str
    level: LevelName
    guidance: str
    probes: tuple[str, ...]
    remediation: str
    rule: Literal["coverage", "strict"] = "coverage"
    enabled: bool = True
    # Only the controls that are a dated duty (threat-model review, ITHC) have one.
    interval_months: int | None = None


@cache
def _locked() -> Mapping[str, str]:
    """The digests of the shipped catalogues as the test suite validated them."""
    text = resources.files("secposture.data").joinpath(LOCK_FILE).read_text("utf-8")
    digests: dict[str, str] = json.loads(text)
    return digests


@cache
def load(name: str) -> dict[str, Any]:
    """A catalogue file by name (without `.toml`), parsed and validated once per process."""
    entry = resources.files("secposture.data").joinpath(f"{name}.toml")
    if not entry.is_file():
        raise CatalogueError(f"data/{name}.toml: no such catalogue")
    raw = entry.read_bytes()
    if _locked().get(name) == hashlib.sha256(raw).hexdigest():
        return tomllib.loads(raw.decode("utf-8"))
    return _validated(name, raw.decode("utf-8"))[0]


def _validated(name: str, text: str) -> tuple[dict[str, Any], Any]:
    from secposture import catalogue_schema

    model = catalogue_schema.MODELS.get(name)
    if model is None:
        raise CatalogueError(f"data/{name}.toml: no such catalogue")
    return catalogue_schema.parse(name, text, model)


_TYPED: dict[str, object] = {}  # each file's model, validated once per process


def typed(name: str, model: type[M]) -> M:
    """A catalogue file by name as its pydantic model (from `catalogue_schema`), validated."""
    found = _TYPED.get(name)
    if found is None:
        found = _TYPED[name] = model.model_validate(load(name))
    if not isinstance(found, model):
        raise TypeError(f"data/{name}.toml is a {type(found).__name__}, not a {model.__name__}")
    return found


@cache
def controls() -> Mapping[str, ControlSpec]:
    """The baseline's controls, in their documented order."""
    return MappingProxyType(
        {
            key: ControlSpec(
                id=key,
                title=entry["title"],
                level=entry["level"],
                guidance=entry["guidance"],
                probes=tuple(entry["probes"]),
                remediation=entry["remediation"],
                rule=entry.get("rule", "coverage"),
                enabled=entry.get("enabled", True),
                interval_months=entry.get("interval_months"),
            )
            for key, entry in load("controls")["controls"].items()
        }
    )


def custom_control(control_id: str) -> ControlSpec:
    """A control the catalogue does not know (a policy's own, or one since removed) as a recorded
    result names it: titled by its id, at the extra level, with nothing more to say."""
    return ControlSpec(
        id=control_id, title=control_id, level="extra", guidance="", probes=(), remediation=""
    )


def interval_months(control_id: str) -> int:
    """How many months a dated duty (threat-model review, ITHC) may go between records, as the
    catalogue sets it; a policy file may change it per control (policy.ControlSettings)."""
    months = controls()[control_id].interval_months
    if months is None:
        raise CatalogueError(f"data/controls.toml: controls.{control_id}: has no interval_months")
    return months


def patch_days() -> Mapping[str, int]:
    """Days to patch a security issue by severity (critical, high, medium, low)."""
    return MappingProxyType(dict(load("patch_schedule")["patch_days"]))


def defaults() -> schema.DefaultsFile:
    from secposture.catalogue_schema import DefaultsFile

    return typed("defaults", DefaultsFile)


def tools() -> schema.ToolsFile:
    from secposture.catalogue_schema import ToolsFile

    return typed("tools", ToolsFile)


def ecosystems() -> schema.EcosystemsFile:
    from secposture.catalogue_schema import EcosystemsFile

    return typed("ecosystems", EcosystemsFile)


def languages() -> schema.LanguagesFile:
    from secposture.catalogue_schema import LanguagesFile

    return typed("languages", LanguagesFile)


def owasp_top10() -> schema.OwaspFile:
    from secposture.catalogue_schema import OwaspFile

    return typed("owasp_top10", OwaspFile)


def report_formats() -> schema.ReportFormatsFile:
    from secposture.catalogue_schema import ReportFormatsFile

    return typed("report_formats", ReportFormatsFile)


def threat_model() -> schema.ThreatModelFile:
    from secposture.catalogue_schema import ThreatModelFile

    return typed("threat_model", ThreatModelFile)


def action_pins() -> schema.ActionPinsFile:
    from secposture.catalogue_schema import ActionPinsFile

    return typed("action_pins", ActionPinsFile)


def adr() -> schema.AdrFile:
    from secposture.catalogue_schema import AdrFile

    return typed("adr", AdrFile)


def containers() -> schema.ContainersFile:
    from secposture.catalogue_schema import ContainersFile

    return typed("containers", ContainersFile)


def fix_pins() -> schema.FixPinsFile:
    from secposture.catalogue_schema import FixPinsFile

    return typed("fix_pins", FixPinsFile)


def fix_templates() -> schema.FixTemplatesFile:
    from secposture.catalogue_schema import FixTemplatesFile

    return typed("fix_templates", FixTemplatesFile)


def runners() -> schema.RunnersFile:
    from secposture.catalogue_schema import RunnersFile

    return typed("runners", RunnersFile)


def secrets() -> schema.SecretsFile:
    from secposture.catalogue_schema import SecretsFile

    return typed("secrets", SecretsFile)


def security_tests() -> schema.SecurityTestsFile:
    from secposture.catalogue_schema import SecurityTestsFile

    return typed("security_tests", SecurityTestsFile)


def shared_actions() -> schema.SharedActionsFile:
    from secposture.catalogue_schema import SharedActionsFile

    return typed("shared_actions", SharedActionsFile)


def templates() -> schema.TemplatesFile:
    from secposture.catalogue_schema import TemplatesFile

    return typed("templates", TemplatesFile)


def workflow_security() -> schema.WorkflowSecurityFile:
    from secposture.catalogue_schema import WorkflowSecurityFile

    return typed("workflow_security", WorkflowSecurityFile)


def patch_schedule() -> schema.PatchScheduleFile:
    from secposture.catalogue_schema import PatchScheduleFile

    return typed("patch_schedule", PatchScheduleFile)
