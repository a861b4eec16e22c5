"""threat-model: artefacts (documents, pytm, Threagile, Threat Dragon, OTM) and their review date."""

from __future__ import annotations

import json
from datetime import date

import pytest
from conftest import MakeRepo, git, result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from memory_repo import facts_of, scan_only

from secposture.facts import threat_models
from secposture.model import Outcome, Status
from secposture.probes.threat_model_reviewed import impl as probe

CONTROL = "threat-model"
README = "docs/threat-model/README.md"


def kinds(files: dict[str, str | bytes]) -> dict[str, str]:
    return {a.path: a.kind for a in facts_of(files).get(threat_models.collect).artefacts}


def front(day: str) -> str:
    return f"---\nlast_reviewed_on: {day}\n---\n# Threat model\n"


# --- end to end, every status ---------------------------------------------------------------------


def test_recently_reviewed_markdown_threat_model_passes(make_repo: MakeRepo) -> None:
    r = result(scan_only(make_repo("threat-model-docs"), CONTROL), CONTROL)
    assert r.status is Status.PASS, r.summary
    (f,) = r.findings
    assert f.message == (
        "threat model last reviewed on 2026-09-15 (front matter last_reviewed_on of "
        f"{README}); next review due by 2027-03-15 (every 6 months)"
    )
    assert str(f.location) == f"{README}:2"


def test_overdue_review_fails_and_says_since_when(make_repo: MakeRepo) -> None:
    root = make_repo("threat-model-docs", {README: front("2025-12-01")})
    r = result(scan_only(root, CONTROL), CONTROL)
    assert r.status is Status.FAIL
    assert "review overdue since 2026-06-01" in r.findings[0].message
    assert r.remediation is not None


def test_policy_interval_applies_to_threagile_date(make_repo: MakeRepo) -> None:
    root = make_repo("threat-model-threagile")
    r = result(scan_only(root, CONTROL), CONTROL)
    assert r.status is Status.FAIL  # 2026-03-20 + 6 months < 2026-11-29
    assert "(Threagile date of threagile.yaml)" in r.findings[0].message
    assert str(r.findings[0].location) == "threagile.yaml:4"
    r = result(scan_only(root, CONTROL, settings={CONTROL: "interval_months = 12"}), CONTROL)
    assert r.status is Status.PASS
    assert "next review due by 2027-03-20 (every 12 months)" in r.findings[0].message


def test_tools_without_a_review_date_are_partial_and_say_what_to_write(
    make_repo: MakeRepo,
) -> None:
    """No silent dating by the last commit (issue 12): pytm, Threat Dragon and OTM record no
    review date, so the threat model is there but its review is not."""
    r = result(scan_only(make_repo("threat-model-tools"), CONTROL), CONTROL)
    assert r.status is Status.PARTIAL, r.summary
    (f,) = r.findings
    assert "tm.py (pytm)" in f.message and "no review date is recorded" in f.message
    assert f"`last_reviewed_on: YYYY-MM-DD` front matter in a new {README}" in f.message
    assert "`secposture threat-model record`" in f.message
    assert "a commit is not a review" in f.message
    assert "2026-11-01" not in f.message  # the fixture's commit date is no review date
    assert f.values == {}


def test_an_old_commit_does_not_make_the_review_overdue_either(make_repo: MakeRepo) -> None:
    root = make_repo("threat-model-tools", commit=False)
    old = "2025-01-10T09:00:00+00:00"
    git(
        root,
        "commit",
        "-q",
        "--no-verify",
        "-m",
        "old",
        env={"GIT_COMMITTER_DATE": old, "GIT_AUTHOR_DATE": old},
    )
    r = result(scan_only(root, CONTROL), CONTROL)
    assert r.status is Status.PARTIAL
    assert "2025-01-10" not in r.summary and "overdue" not in r.summary


def test_a_plain_folder_is_partial_like_a_checkout(make_repo: MakeRepo) -> None:
    r = result(scan_only(make_repo("threat-model-tools", use_git=False), CONTROL), CONTROL)
    assert r.status is Status.PARTIAL
    assert "tm.py (pytm)" in r.findings[0].message
    assert "no review date is recorded" in r.findings[0].message


def test_an_undated_threagile_model_says_to_set_its_date() -> None:
    (f,) = probe.run(facts_of({"threagile.yaml": "threagile_version: 1.0.0\ntitle: x\n"}))
    assert f.outcome is Outcome.PARTIAL
    assert "`date: YYYY-MM-DD` in threagile.yaml" in f.message


def test_the_date_goes_into_the_folders_readme() -> None:
    files: dict[str, str | bytes] = {
        "docs/threat-model/threats.md": "# Threats\n",
        README: "# Threat model\n",
        "docs/threat-model/diagram.png": b"\x89PNG\r\n",
    }
    (f,) = probe.run(facts_of(files))
    assert f.outcome is Outcome.PARTIAL
    assert f"`last_reviewed_on: YYYY-MM-DD` front matter in {README}" in f.message


def test_no_threat_model_fails_and_lists_where_it_looked(make_repo: MakeRepo) -> None:
    r = result(scan_only(make_repo(files={"README.md": "# app\n"}), CONTROL), CONTROL)
    assert r.status is Status.FAIL
    message = r.findings[0].message
    assert "no threat model found: looked in docs/threat-model/" in message
    assert "register record" in message


# --- facts ---------------------------------------------------------------------------------------


def test_artefact_kinds() -> None:
    files: dict[str, str | bytes] = {
        "docs/threat-model/README.md": "# TM\n",
        "docs/threat-model/model.py": "from pytm import TM\n",
        "docs/threat-model/diagram.png": b"\x89PNG\r\n",
        "docs/security/threat-model.md": "# TM\n",
        "threat_model/threagile.yml": "threagile_version: 1.0.0\n",
        "docs/threat-models/dragon.json": json.dumps({"summary": {}, "detail": {"diagrams": []}}),
        "src/app/tm.py": "import pytm\n",
        "src/app/threat_model_helpers.py": "import os\n",  # named like one, but no pytm
        "design/api.otm.json": '{"otmVersion": "0.2.0"}',
        "design/other.threatdragon.json": "[]",  # not a Threat Dragon model
        "security/threagile.yaml": "title: x\n",  # named Threagile: counts
    }
    assert kinds(files) == {
        "docs/threat-model/README.md": "document",
        "docs/threat-model/model.py": "pytm",
        "docs/threat-model/diagram.png": "document",
        "docs/security/threat-model.md": "document",
        "threat_model/threagile.yml": "Threagile",
        "docs/threat-models/dragon.json": "Threat Dragon",
        "src/app/tm.py": "pytm",
        "design/api.otm.json": "Open Threat Model",
        "security/threagile.yaml": "Threagile",
    }


def test_the_latest_recorded_date_wins() -> None:
    files: dict[str, str | bytes] = {
        README: front("2026-01-05"),
        "docs/threat-model/x.md": front("2025-12-01"),
        "docs/threat-model/y.md": "# y\n",  # undated: no date of its own
    }
    (f,) = probe.run(facts_of(files))
    assert f.outcome is Outcome.NEGATIVE
    assert "last reviewed on 2026-01-05" in f.message


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("2026-02-30", "is not a date"),
        ("soon", "is not a date"),
        ("2027-01-01", "is in the future"),
        ("[2026-01-01]", "is not a date"),
    ],
)
def test_bad_review_dates_are_problems_and_leave_it_partial(value: str, problem: str) -> None:
    facts = facts_of({README: front(value)})
    (f,) = probe.run(facts)
    assert f.outcome is Outcome.PARTIAL
    assert "no review date is recorded" in f.message
    assert problem in f.message  # the evidence says why the recorded date was not used
    found = facts.problem_for(README)
    assert found is not None and problem in found.message and found.line == 2


GENERATED = (
    "---\n# Written by `secposture fix`.\ngenerated_by: secposture fix 0.1.0\n"
    "last_reviewed_on: {day}\n---\n# Threat model: app\n"
)


def test_the_generated_template_is_no_session_and_its_placeholder_no_problem() -> None:
    facts = facts_of({README: GENERATED.format(day="not yet reviewed")})
    (f,) = probe.run(facts)
    assert f.outcome is Outcome.NEGATIVE
    assert f.message.startswith("template present, no session recorded: ")
    assert f"set `last_reviewed_on: YYYY-MM-DD` in {README}" in f.message
    assert str(f.location) == f"{README}:3"  # the marker
    assert f.values == {"generated": README}
    assert facts.problems == []


def test_the_template_with_its_marker_deleted_still_records_no_session() -> None:
    """Deleting the generated_by line holds no session: the file still says it is not reviewed."""
    text = GENERATED.format(day="not yet reviewed").replace(
        "generated_by: secposture fix 0.1.0\n", ""
    )
    facts = facts_of({README: text})
    (f,) = probe.run(facts)
    assert f.outcome is Outcome.NEGATIVE
    assert f.message.startswith("template present, no session recorded: ")
    assert str(f.location) == f"{README}:3"  # its `last_reviewed_on` line
    assert facts.problems == []


def test_a_generated_template_beside_the_teams_own_files_is_partial() -> None:
    files: dict[str, str | bytes] = {
        README: GENERATED.format(day="not yet reviewed"),
        "docs/threat-model/threats.md": "# Threats\n\n1. Spoofed webhooks\n",
    }
    (f,) = probe.run(facts_of(files))
    assert f.outcome is Outcome.PARTIAL  # something was written, but no session dated
    assert f"`last_reviewed_on: YYYY-MM-DD` front matter in {README}" in f.message


def test_a_date_written_into_the_generated_template_is_a_review() -> None:
    (f,) = probe.run(facts_of({README: GENERATED.format(day="2026-11-02")}))
    assert f.outcome is Outcome.POSITIVE
    assert "last reviewed on 2026-11-02" in f.message


def test_iso_datetime_string_and_yaml_date() -> None:
    for value in ("'2026-10-01T10:00:00Z'", "2026-10-01", "2026-10-01 10:00:00"):
        (f,) = probe.run(facts_of({README: front(value)}))
        assert "last reviewed on 2026-10-01" in f.message, value


# --- hostile input -------------------------------------------------------------------------------

HOSTILE: list[str | bytes] = [
    b"\x00binary",
    b"\xff\xfe not utf-8",
    "",
    "[]",
    "- a\n- b\n",
    "{",
    "key: [",
    "null",
    "---\n- list\n---\n",
    "---\nlast_reviewed_on: {a: 1}\n---\n",
    "---\nlast_reviewed_on:\n---\n",
    "threagile_version: 1\ndate: [1]\n",
    "threagile_version: 1\ndate: 99999-01-01\n",
    '{"summary": 1, "detail": []}',
    '{"otmVersion": null}',
    "[" * 1000,
    "from pytm import *\n" * 10_000,
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_artefacts_never_raise(text: str | bytes) -> None:
    names = [
        README,
        "docs/threat-model/m.yaml",
        "docs/threat-model/m.json",
        "docs/threat-model/m.py",
        "threagile.yaml",
        "x.threatdragon.json",
        "y.otm.yml",
        "tm.py",
    ]
    (f,) = probe.run(facts_of(dict.fromkeys(names, text)))
    assert f.outcome in (Outcome.UNKNOWN, Outcome.POSITIVE, Outcome.PARTIAL, Outcome.NEGATIVE)


@settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300), st.dates(min_value=date(1900, 1, 1)))
def test_threat_model_parsing_never_raises(text: str, day: date) -> None:
    files: dict[str, str | bytes] = {
        README: f"---\nlast_reviewed_on: {text[:20]}\n---\n{text}",
        "docs/threat-model/m.yaml": f"threagile_version: 1\ndate: {day.isoformat()}\n{text}",
        "docs/threat-model/m.json": text,
        "z.otm.json": text,
        "threagile.yml": text,
    }
    (f,) = probe.run(facts_of(files))
    assert f.outcome in (Outcome.UNKNOWN, Outcome.POSITIVE, Outcome.PARTIAL, Outcome.NEGATIVE)


# --- issue 11: what is the product's threat model (corpus pattern 16) --------------------------------

PYTM_EXAMPLE = (
    'from pytm import TM, Actor, Boundary, Server\n\ntm = TM("my test tm")\ntm.process()\n'
)


def test_a_threat_modelling_librarys_example_model_is_not_the_products() -> None:
    """OWASP/pytm: the root tm.py is "an example model" of the library whose source sits beside
    it, and pytm/tm.py is the library's TM class (no pytm import): neither is a threat model of
    pytm."""
    files: dict[str, str | bytes] = {
        "tm.py": PYTM_EXAMPLE,
        "pytm/__init__.py": "from .pytm import TM\n",
        "pytm/tm.py": '"""TM (Threat Model) - the main container."""\nfrom .element import Element\n',
        "docs/threats.md": "# Threats\n",
    }
    models = facts_of(files).get(threat_models.collect)
    assert models.artefacts == []
    assert models.set_aside == [
        (
            "tm.py",
            "an example model of pytm, whose own source this repository holds "
            "(pytm/__init__.py): not a threat model of the product",
        )
    ]
    (f,) = probe.run(facts_of(files))
    assert f.outcome is Outcome.NEGATIVE and f.message.startswith("no threat model found")


def test_a_product_that_uses_pytm_has_a_threat_model() -> None:
    assert kinds({"tm.py": PYTM_EXAMPLE, "app/__init__.py": ""}) == {"tm.py": "pytm"}


def test_a_threat_model_folder_without_a_review_date_is_an_artefact() -> None:
    """hashicorp/vault-secrets-operator docs/threat-model/README.md: a full threat model with no
    review date is an artefact, never "no threat model"; with no recorded date it is partial (the
    corpus label), never dated by its last commit (issue 12)."""
    files: dict[str, str | bytes] = {
        README: "# Vault Secrets Operator threat model\n\n## Scope\n\n## Threats\n"
    }
    assert kinds(files) == {README: "document"}
    (f,) = probe.run(facts_of(files))
    assert f.outcome is Outcome.PARTIAL and "threat model found" in f.message


def test_placeholders_tests_and_examples_are_not_artefacts() -> None:
    files: dict[str, str | bytes] = {
        "docs/threat-model/.gitkeep": "",
        "docs/threat-models/README.md": "   \n",
        "tests/fixtures/app/tm.py": PYTM_EXAMPLE,
        "test/threagile.yaml": "threagile_version: 1.0.0\n",
        "examples/shop/threagile.yaml": "threagile_version: 1.0.0\n",
    }
    models = facts_of(files).get(threat_models.collect)
    assert models.artefacts == []
    assert dict(models.set_aside) == {
        "docs/threat-model/.gitkeep": "empty, or a placeholder",
        "docs/threat-models/README.md": "empty, or a placeholder",
        "tests/fixtures/app/tm.py": "in a test folder",
        "test/threagile.yaml": "in a test folder",
        "examples/shop/threagile.yaml": "test data or an example, not the product",
    }
