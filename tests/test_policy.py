"""The policy file: secposture.toml or [tool.secposture] in pyproject.toml, validated key by key."""

from __future__ import annotations

import contextlib
import tomllib
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import TODAY, MakeRepo, result, scan
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secposture.errors import PolicyError
from secposture.facts.interface import Facts
from secposture.model import Level, Status
from secposture.policy import apply_policy, default_policy, load_policy, load_policy_file
from secposture.scan import scan_path
from secposture.sources.local import LocalSource

FIXTURES = Path(__file__).parent / "fixtures"
POLICY = (FIXTURES / "report-basic" / "secposture.toml").read_text("utf-8")
BASIC_CONTROLS = {
    "ithc",
    "dependabot-security-updates",
    "pr-review-required",
    "secret-scanning",
    "security-policy",
}


def apply(data: dict[str, Any]) -> Any:
    return apply_policy(default_policy(), data, "secposture.toml")


def error_of(data: dict[str, Any]) -> str:
    with pytest.raises(PolicyError) as exc:
        apply(data)
    return str(exc.value)


# --- where the policy comes from ---------------------------------------------------------------------


def test_secposture_toml_disables_controls(make_repo: MakeRepo) -> None:
    report = scan(make_repo("report-basic"))
    assert {r.id for r in report.results} == BASIC_CONTROLS


def test_pyproject_tool_table(make_repo: MakeRepo) -> None:
    root = make_repo("policy-in-pyproject")
    report, policy = scan_path(root, today=TODAY)
    assert policy.origin == "pyproject.toml [tool.secposture]"
    assert {r.id for r in report.results} == BASIC_CONTROLS
    assert result(report, "security-policy").level is Level.RECOMMENDED  # level changed
    assert policy.controls["ithc"].interval_months == 6  # interval applied
    assert policy.controls["threat-model"].interval_months == 6  # untouched: the catalogue's
    assert policy.fail_on == "recommended"
    assert "inventory-lint" in {t.id for t in policy.tools}  # tools added to the catalogue
    assert {t.id for t in default_policy().tools} < {t.id for t in policy.tools}
    # exclude globs: not among the repository's own paths, still known by exact name.
    facts = Facts(LocalSource(root).snapshot(), policy, TODAY)
    assert "src/inventory/generated/stock_pb2.py" not in facts.paths
    assert "src/inventory/__init__.py" in facts.paths
    assert facts.exists("src/inventory/generated/stock_pb2.py")


def test_secposture_toml_wins_over_pyproject(make_repo: MakeRepo) -> None:
    root = make_repo("policy-in-pyproject", {"secposture.toml": POLICY})
    _report, policy = scan_path(root, today=TODAY)
    assert policy.origin == "secposture.toml"
    assert policy.controls["security-policy"].level is Level.EXTRA


def test_pyproject_without_the_table_uses_the_baseline() -> None:
    snapshot_policy = load_policy_file("x/secposture.toml", "")
    assert snapshot_policy.controls == default_policy().controls
    with pytest.raises(PolicyError, match=r"pyproject.toml: has no \[tool.secposture\] table"):
        load_policy_file("x/pyproject.toml", '[project]\nname = "x"\n')


def test_explicit_pyproject_policy_file() -> None:
    text = (FIXTURES / "policy-in-pyproject" / "pyproject.toml").read_text("utf-8")
    policy = load_policy_file("shared/pyproject.toml", text)
    assert policy.origin == "shared/pyproject.toml [tool.secposture]"
    assert not policy.controls["codeowners"].enabled


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[tool]\nsecposture = 3\n", "tool.secposture: must be a table"),
        ("tool = 1\n[tool.x]\n", "not valid TOML"),
    ],
)
def test_pyproject_with_a_wrong_shape(make_repo: MakeRepo, text: str, needle: str) -> None:
    root = make_repo(None, {"pyproject.toml": text})
    with pytest.raises(PolicyError, match=needle):
        load_policy(LocalSource(root).snapshot())


def test_pyproject_tool_that_is_not_a_table_is_ignored(make_repo: MakeRepo) -> None:
    root = make_repo(None, {"pyproject.toml": 'tool = "nothing"\n'})
    assert load_policy(LocalSource(root).snapshot()).origin is None


def test_malformed_toml_names_the_line(make_repo: MakeRepo) -> None:
    root = make_repo(
        "report-basic",
        {"secposture.toml": 'fail_on = "required"\n[controls.ithc\nenabled = false\n'},
    )
    with pytest.raises(PolicyError, match=r"secposture.toml: not valid TOML: .*line 2"):
        scan_path(root, today=TODAY)


def test_binary_policy_file(make_repo: MakeRepo) -> None:
    root = make_repo("report-basic", {"secposture.toml": b"\x00\x01binary"})
    with pytest.raises(PolicyError, match=r"secposture\.toml is binary"):
        scan_path(root, today=TODAY)


# --- validation: errors name the key -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"colour": "red"}, "colour: Extra inputs are not permitted"),
        (
            {"controls": {"threat-model": {"interval_months": "six"}}},
            "controls.threat-model.interval_months",
        ),
        (
            {"controls": {"threat-model": {"interval_months": True}}},
            "controls.threat-model.interval_months",
        ),
        (
            {"controls": {"threat-model": {"interval_months": 0}}},
            "controls.threat-model.interval_months",
        ),
        ({"controls": {"threat-model": {"cadence": 3}}}, "controls.threat-model.cadence"),
        ({"controls": {"threat-model": {"level": "mandatory"}}}, "controls.threat-model.level"),
        ({"controls": {"threat-model": "off"}}, "controls.threat-model"),
        (
            {"controls": {"threat-modle": {"enabled": False}}},
            "controls.threat-modle: unknown control",
        ),
        (
            {"controls": {"security-policy": {"interval_months": 6}}},
            "controls.security-policy.interval_months",
        ),
        ({"fail_on": "sometimes"}, "fail_on"),
        ({"exclude": "tests/**"}, "exclude"),
        ({"exclude": [1]}, "exclude[0]"),
        ({"limits": {"max_file_bytes": 10}}, "limits.max_file_bytes"),
        ({"limits": {"max_file_bytes": "1MB"}}, "limits.max_file_bytes"),
        ({"tools": [{"languages": ["python"]}]}, "tools[0].id"),
        ({"tools": [{"id": "x", "commands": ["(unclosed"]}]}, "tools[0].commands"),
        ({"tools": {"id": "x"}}, "tools"),
        ({"static_analysis": {"ignore_languages": "shell"}}, "static_analysis.ignore_languages"),
        ({"waivers": [{"control": "ithc", "reason": "r", "approver": "a"}]}, "waivers[0].expires"),
        (
            {
                "waivers": [
                    {"control": "ithc", "reason": "r", "approver": "a", "expires": "2027-01-01"}
                ]
            },
            "without quotes",
        ),
        (
            {
                "waivers": [
                    {"control": "nope", "reason": "r", "approver": "a", "expires": date(2027, 1, 1)}
                ]
            },
            "waivers[0].control: unknown control 'nope'",
        ),
        (
            {
                "waivers": [
                    {"control": "ithc", "reason": "", "approver": "a", "expires": date(2027, 1, 1)}
                ]
            },
            "waivers[0].reason",
        ),
    ],
)
def test_invalid_policy_names_the_key(data: dict[str, Any], needle: str) -> None:
    message = error_of(data)
    assert message.startswith("secposture.toml: ")
    assert needle in message
    assert "\n" not in message


def test_valid_policy_applies() -> None:
    policy = apply(
        {
            "exclude": ["tests/fixtures/**"],
            "fail_on": "never",
            "limits": {"max_file_bytes": 2_097_152, "max_test_files_read": 0},
            "controls": {
                "threat-model": {"interval_months": 12},
                "pr-template-security": {"level": "required"},
                "secrets-in-tree": {"enabled": True},
            },
            "static_analysis": {"ignore_languages": ["shell"]},
        }
    )
    assert policy.exclude == ("tests/fixtures/**",)
    assert policy.fail_on == "never"
    assert policy.max_file_bytes == 2_097_152
    assert policy.max_test_files_read == 0  # an explicit 0 is kept
    assert policy.controls["threat-model"].interval_months == 12
    assert policy.controls["pr-template-security"].level is Level.REQUIRED
    assert policy.controls["secrets-in-tree"].enabled
    assert policy.ignore_languages == frozenset({"shell"})


# --- waivers -----------------------------------------------------------------------------------------


def _waiver(expires: str, control: str = "security-policy") -> str:
    return (
        f'\n[[waivers]]\ncontrol = "{control}"\nreason = "the org-wide policy covers this repository"\n'
        f'approver = "Jane Smith (Security)"\nexpires = {expires}\n'
    )


def test_unexpired_waiver_waives_a_failing_control(make_repo: MakeRepo) -> None:
    root = make_repo("report-basic", {"secposture.toml": POLICY + _waiver("2027-03-31")})
    (root / "SECURITY.md").unlink()
    r = result(scan(root), "security-policy")
    assert r.status is Status.WAIVED
    assert "Jane Smith (Security)" in r.summary and "2027-03-31" in r.summary
    assert r.waiver is not None and not r.waiver.expired and r.waiver.origin == "secposture.toml"
    assert r.remediation  # still says what would fix it


def test_expired_waiver_fails_and_names_the_waiver(make_repo: MakeRepo) -> None:
    root = make_repo("report-basic", {"secposture.toml": POLICY + _waiver("2026-06-30")})
    (root / "SECURITY.md").unlink()
    r = result(scan(root), "security-policy")
    assert r.status is Status.FAIL
    assert "waiver expired on 2026-06-30" in r.summary and "Jane Smith (Security)" in r.summary
    assert r.waiver is not None and r.waiver.expired


def test_waiver_expiring_today_still_applies(make_repo: MakeRepo) -> None:
    root = make_repo("report-basic", {"secposture.toml": POLICY + _waiver(TODAY.isoformat())})
    (root / "SECURITY.md").unlink()
    assert result(scan(root), "security-policy").status is Status.WAIVED


def test_waiver_on_a_passing_control_leaves_it_passing(make_repo: MakeRepo) -> None:
    root = make_repo("report-basic", {"secposture.toml": POLICY + _waiver("2027-03-31")})
    r = result(scan(root), "security-policy")
    assert r.status is Status.PASS and r.waiver is None


def test_waiver_on_an_unknown_control(make_repo: MakeRepo) -> None:
    root = make_repo("report-basic", {"secposture.toml": POLICY + _waiver("2027-03-31", "ithc")})
    assert result(scan(root), "ithc").status is Status.WAIVED


def test_the_latest_live_waiver_is_the_one_shown(make_repo: MakeRepo) -> None:
    root = make_repo(
        "report-basic", {"secposture.toml": POLICY + _waiver("2026-01-01") + _waiver("2027-05-01")}
    )
    (root / "SECURITY.md").unlink()
    r = result(scan(root), "security-policy")
    assert r.status is Status.WAIVED and r.waiver is not None and r.waiver.expires == "2027-05-01"


# --- properties: nothing but PolicyError ---------------------------------------------------------------

_KEYS = [
    "exclude",
    "fail_on",
    "limits",
    "controls",
    "tools",
    "static_analysis",
    "waivers",
    "enabled",
    "level",
    "interval_months",
    "id",
    "languages",
    "commands",
    "control",
    "reason",
    "approver",
    "expires",
    "max_file_bytes",
    "max_test_files_read",
    "ignore_languages",
    "threat-model",
    "ithc",
    "security-policy",
]
_scalars = (
    st.none().map(lambda _: "")  # TOML has no null
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=True)
    | st.text(max_size=10)
    | st.dates()
    | st.datetimes()
    | st.times()
    | st.sampled_from(["required", "recommended", "extra", "never", "(", "python", "2027-01-01"])
)
_toml = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(_KEYS) | st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.dictionaries(st.sampled_from(_KEYS) | st.text(max_size=8), _toml, max_size=5))
def test_property_apply_policy_raises_only_policy_error(data: dict[str, Any]) -> None:
    try:
        policy = apply(data)
    except PolicyError as exc:
        assert str(exc).startswith("secposture.toml: ")
    else:
        assert policy.controls.keys() == default_policy().controls.keys()


_control_ids = st.sampled_from(sorted(default_policy().controls))
_override = st.fixed_dictionaries(
    {},
    optional={
        "enabled": st.booleans() | st.integers(0, 2),
        "level": st.sampled_from(["required", "recommended", "extra", "bad"]),
        "interval_months": st.integers(-2, 200) | st.text(max_size=3),
    },
)


@settings(max_examples=100, deadline=None)
@given(
    controls=st.dictionaries(_control_ids, _override, max_size=5),
    expires=st.dates() | st.datetimes() | st.text(max_size=12),
)
def test_property_near_valid_policies(controls: dict[str, Any], expires: Any) -> None:
    data = {
        "controls": controls,
        "waivers": [{"control": "ithc", "reason": "r", "approver": "a", "expires": expires}],
    }
    try:
        policy = apply(data)
    except PolicyError:
        return
    for cid, override in controls.items():
        if "level" in override:
            assert policy.controls[cid].level.value == override["level"]


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=200))
def test_property_any_policy_text(text: str) -> None:
    with contextlib.suppress(PolicyError):
        load_policy_file("secposture.toml", text)


def test_toml_dates_and_datetimes_for_expires() -> None:
    data = tomllib.loads(
        '[[waivers]]\ncontrol = "ithc"\nreason = "r"\napprover = "a"\nexpires = 2027-01-01T00:00:00\n'
    )
    assert isinstance(data["waivers"][0]["expires"], datetime)
    try:
        policy = apply(data)
    except PolicyError as exc:
        assert "waivers[0].expires" in str(exc)
    else:
        assert policy.waivers[0].expires == date(2027, 1, 1)
