"""The shipped catalogues (secposture/data/*.toml) each have a typed model and validate against it;
a malformed catalogue is an error that names the file and the key, not a KeyError mid-scan."""

from __future__ import annotations

import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from secposture import catalogue, catalogue_schema
from secposture.catalogue import CatalogueError
from secposture.catalogue_schema import ControlsFile, PatchScheduleFile

SHIPPED = sorted(
    entry.name.removesuffix(".toml")
    for entry in resources.files("secposture.data").iterdir()
    if entry.name.endswith(".toml")
)

GOOD_CONTROL = """
[controls.threat-model]
title = "Threat model reviewed"
level = "required"
guidance = "3."
probes = ["threat-model-reviewed"]
interval_months = 6
remediation = "Hold a session."
"""


def test_every_catalogue_file_has_a_model() -> None:
    assert sorted(catalogue_schema.MODELS) == SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_catalogue_validates(name: str) -> None:
    text = resources.files("secposture.data").joinpath(f"{name}.toml").read_text("utf-8")
    table, model = catalogue_schema.parse(name, text, catalogue_schema.MODELS[name])
    assert isinstance(model, catalogue_schema.MODELS[name])
    assert table == catalogue.load(name)


def test_controls_are_typed_and_keep_their_order() -> None:
    controls = catalogue.controls()
    assert list(controls)[:2] == ["ticket-security", "security-tests"]
    assert all(spec.id == key for key, spec in controls.items())
    assert controls["secrets-in-tree"].enabled is False
    assert controls["dangerous-workflow"].rule == "strict"
    assert {spec.level for spec in controls.values()} == {"required", "recommended", "extra"}


def test_review_intervals_come_from_the_controls_catalogue() -> None:
    assert catalogue.interval_months("threat-model") == 6
    assert catalogue.interval_months("ithc") == 12
    with pytest.raises(CatalogueError, match=r"controls\.codeowners: has no interval_months"):
        catalogue.interval_months("codeowners")


def test_a_control_with_no_level_names_the_file_and_key() -> None:
    text = GOOD_CONTROL.replace('level = "required"\n', "")
    with pytest.raises(CatalogueError) as caught:
        catalogue_schema.parse("controls", text, ControlsFile)
    assert str(caught.value).startswith("data/controls.toml: invalid catalogue: ")
    assert "controls.threat-model.level: Field required" in str(caught.value)


def test_an_unknown_level_names_the_file_and_key() -> None:
    text = GOOD_CONTROL.replace('level = "required"', 'level = "mandatory"')
    with pytest.raises(
        CatalogueError, match=r"data/controls\.toml: .*controls\.threat-model\.level"
    ):
        catalogue_schema.parse("controls", text, ControlsFile)


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (("interval_months = 6", 'interval_months = "6"'), "interval_months"),
        (("interval_months = 6", "interval_months = 0"), "interval_months"),
        (('probes = ["threat-model-reviewed"]', "probes = []"), "probes"),
        (("remediation =", "remedation ="), "remedation"),
        (('title = "Threat model reviewed"', 'title = "Threat"\nrule = "lenient"'), "rule"),
    ],
)
def test_a_mistyped_or_misspelt_control_key_is_named(change: tuple[str, str], key: str) -> None:
    text = GOOD_CONTROL.replace(*change)
    with pytest.raises(CatalogueError, match=rf"controls\.threat-model\.{key}"):
        catalogue_schema.parse("controls", text, ControlsFile)


def test_a_catalogue_that_is_not_toml_names_the_file() -> None:
    with pytest.raises(CatalogueError, match=r"^data/patch_schedule\.toml: not valid TOML"):
        catalogue_schema.parse("patch_schedule", "[patch_days\ncritical = 7", PatchScheduleFile)


def test_a_missing_severity_names_the_key() -> None:
    with pytest.raises(CatalogueError, match=r"patch_days\.low: Field required"):
        catalogue_schema.parse(
            "patch_schedule",
            "[patch_days]\ncritical = 7\nhigh = 7\nmedium = 28\n",
            PatchScheduleFile,
        )


def test_a_control_the_catalogue_does_not_know_counts_as_extra() -> None:
    custom = catalogue.custom_control("our-own-control")
    assert (custom.id, custom.title, custom.level) == (
        "our-own-control",
        "our-own-control",
        "extra",
    )


def test_the_review_intervals_are_resolved_one_way() -> None:
    from secposture.policy import default_policy
    from secposture.register.due_list import review_intervals

    policy = default_policy()
    assert policy.interval_months("threat-model") == catalogue.interval_months("threat-model")
    assert policy.interval_months("ithc") == catalogue.interval_months("ithc")
    assert review_intervals() == {"threat-model": 6, "ithc": 12}
    assert review_intervals({"ithc": 24}) == {"threat-model": 6, "ithc": 24}


@pytest.mark.parametrize("name", SHIPPED)
def test_each_catalogue_has_its_typed_loader(name: str) -> None:
    loader = getattr(catalogue, name)
    assert isinstance(loader(), catalogue_schema.MODELS[name]) or name == "controls"


def test_the_lock_holds_the_digest_of_every_shipped_catalogue() -> None:
    """The digests a scan trusts are those of the files this suite validated: a catalogue edited
    without `python -m secposture.catalogue_schema --lock` fails here, not in a user's scan."""
    assert dict(catalogue._locked()) == catalogue_schema.write_lock()


def test_a_catalogue_the_lock_does_not_know_is_validated_as_it_loads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(catalogue, "_locked", lambda: {})
    catalogue.load.cache_clear()
    try:
        assert catalogue.load("controls")["controls"]["threat-model"]["interval_months"] == 6
        monkeypatch.setattr(
            catalogue_schema, "parse", lambda *a: (_ for _ in ()).throw(CatalogueError("checked"))
        )
        catalogue.load.cache_clear()
        with pytest.raises(CatalogueError, match="checked"):
            catalogue.load("tools")
    finally:
        catalogue.load.cache_clear()


def test_a_scan_reads_the_locked_catalogues_without_pydantic(tmp_path: Path) -> None:
    """pydantic is a third of a scan's start-up: the shipped, validated catalogues need none."""
    (tmp_path / "app.py").write_text("print('x')\n")
    code = (
        "import sys; from pathlib import Path; from secposture.scan import scan_path; "
        f"scan_path(Path({str(tmp_path)!r})); print('pydantic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr
