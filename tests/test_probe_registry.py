"""The probe registry: every probe folder is one a control names and the other way round, every
def.toml validates, and every outcome a probe gives in the fixture scans is one its def.toml
declares (`outcomes`), so that what a def.toml says a probe can answer is what it answers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, TODAY, MakeRepo, scan

from secposture import catalogue
from secposture.catalogue import CatalogueError
from secposture.model import Outcome, ScanReport
from secposture.probes.interface import SOURCES, load_probe, module_name, parse_definition
from secposture.register.scan_context import DatedRecord, ProductRecords, RepositoryRecords
from secposture.sources.interface import (
    Observation,
    ReviewRequirement,
    ReviewRule,
    Settings,
)


def _folders() -> set[str]:
    root = resources.files("secposture.probes")
    return {
        entry.name
        for entry in root.iterdir()
        if entry.is_dir() and entry.joinpath("def.toml").is_file()
    }


def _named_by_controls() -> dict[str, list[str]]:
    """Probe id -> the controls that name it."""
    named: dict[str, list[str]] = {}
    for control_id, control in catalogue.load("controls")["controls"].items():
        for probe in control["probes"]:
            named.setdefault(probe, []).append(control_id)
    return named


def test_every_probe_folder_is_named_by_a_control_and_every_named_probe_has_a_folder() -> None:
    folders = _folders()
    named = {module_name(p) for p in _named_by_controls()}
    assert sorted(folders - named) == [], "probe folders no control in controls.toml names"
    assert sorted(named - folders) == [], "probes controls.toml names that have no folder"


def test_every_probe_definition_validates_and_names_its_own_folder() -> None:
    for probe_id in _named_by_controls():
        definition = load_probe(probe_id).definition  # validated as it loads
        assert definition.id == probe_id
        assert definition.outcomes, probe_id
        assert set(definition.sources) <= set(SOURCES), probe_id
        # A probe that reads settings is decided through the API; one that reads files is
        # decided from a checkout and from GitHub alike (the same answers: ADR 0002).
        if any(r.startswith("api:") for r in definition.reads):
            assert "github" in definition.sources, probe_id
        if any(not r.startswith(("api:", "register:")) for r in definition.reads):
            assert {"checkout", "github"} <= set(definition.sources), probe_id
        if any(r.startswith("register:") for r in definition.reads):
            assert "register" in definition.sources, probe_id


_GOOD: dict[str, Any] = {
    "id": "some-probe",
    "question": "Is it so?",
    "remediation": "Make it so.",
    "guidance": "Somewhere",
    "reads": ["*.md"],
    "sources": ["checkout", "github"],
    "outcomes": {"positive": "it is so", "negative": "it is not"},
}


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"outcomes": {}}, "`outcomes` must be a table"),
        ({"outcomes": ["positive"]}, "`outcomes` must be a table"),
        ({"outcomes": {"pass": "it passes"}}, "`outcomes.pass` is not one of"),
        ({"outcomes": {"positive": ""}}, "`positive` must be a non-empty string"),
        ({"outcomes": {"positive": 1}}, "`positive` must be a non-empty string"),
        ({"sources": []}, "`sources` must list some of checkout, github, register"),
        ({"sources": ["gitlab"]}, "`sources` must list some of"),
        ({"sources": ["github", "github"]}, "once each"),
        ({"sources": "github"}, "`sources` must be a list"),
        ({"reads": "*.md"}, "`reads` must be a list"),
        ({"question": ""}, "`question` must be a non-empty string"),
        ({"outcome": {}}, "unknown keys outcome"),
    ],
)
def test_a_definition_that_says_what_no_probe_can_is_refused_naming_the_key(
    change: dict[str, Any], said: str
) -> None:
    with pytest.raises(CatalogueError, match=r"probes/x/def\.toml") as raised:
        parse_definition({**_GOOD, **change}, "probes/x/def.toml")
    assert said in str(raised.value)


def test_a_definition_without_an_optional_key_loads() -> None:
    raw = {k: v for k, v in _GOOD.items() if k != "reads"}
    definition = parse_definition(raw, "probes/x/def.toml")
    assert definition.reads == ()
    assert definition.outcomes == {Outcome.POSITIVE: "it is so", Outcome.NEGATIVE: "it is not"}


def _fixture_repositories() -> Iterator[str]:
    for folder in sorted(FIXTURES.iterdir()):
        if not folder.is_dir():
            continue
        if folder.name == "workflow-corpus":  # one folder a repository
            yield from (f"{folder.name}/{f.name}" for f in sorted(folder.iterdir()) if f.is_dir())
        else:
            yield folder.name


def _on(field: str, enabled: bool | None) -> Observation:
    return Observation(field, enabled, needs="admin access" if enabled is None else "")


def _settings(enabled: bool | None) -> Settings:
    rule = ReviewRule(
        "ruleset", "main", "rulesets[0]", 1 if enabled else 0, True, True, None, active=True
    )
    return Settings(
        observed=True,
        reason="",
        dependabot_security_updates=_on("security_and_analysis.dependabot", enabled),
        vulnerability_alerts=_on("vulnerabilityAlerts", enabled),
        secret_scanning=_on("security_and_analysis.secret_scanning", enabled),
        secret_scanning_push_protection=_on("security_and_analysis.push_protection", enabled),
        review=ReviewRequirement("main", (rule,), visible=enabled is not None),
    )


def _records(fresh: bool) -> RepositoryRecords:
    day = TODAY - timedelta(days=30 if fresh else 800)
    product = ProductRecords(
        "Lasting power of attorney",
        DatedRecord("threat-model review 1", day, "STRIDE workshop"),
        DatedRecord("assurance 1", day, "ITHC by a CHECK supplier"),
        None,
    )
    return RepositoryRecords("octo-org/app", (product,), ())


def _undeclared(report: ScanReport, seen: dict[str, set[Outcome]]) -> list[str]:
    wrong = []
    for result in report.results:
        for f in result.findings:
            seen.setdefault(f.probe, set()).add(f.outcome)
            if f.outcome not in load_probe(f.probe).definition.outcomes:
                wrong.append(f"{f.probe} gave {f.outcome.value}: {f.message[:160]}")
    return wrong


def test_every_outcome_the_fixture_scans_give_is_one_the_probe_declares(
    make_repo: MakeRepo,
) -> None:
    """Every fixture repository, with every control on, from a checkout alone, then with the
    GitHub settings on, off and invisible, and with register records recent and overdue."""
    seen: dict[str, set[Outcome]] = {}
    wrong: list[str] = []
    variants: list[dict[str, object]] = [
        {},
        {"settings": _settings(True), "records": _records(True), "repository": "octo-org/app"},
        {"settings": _settings(False), "records": _records(False), "repository": "octo-org/app"},
        {"settings": _settings(None)},
    ]
    for n, fixture in enumerate(_fixture_repositories()):
        root: Path = make_repo(fixture)
        # Every fixture from a checkout; the settings and register variants on a few suffice.
        for variant in variants if n % 8 == 0 else variants[:1]:
            wrong += _undeclared(scan(root, TODAY, deep=True, **variant), seen)
    assert wrong == []
    # The scans reach every probe, so the check above covers each of them.
    assert set(seen) == set(_named_by_controls())
