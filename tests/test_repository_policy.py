"""A scanned repository's own policy (secposture.toml, [tool.secposture]) is hostile input.

What it may do (docs/adr/0011-what-a-repositorys-own-policy-may-do.md): tighten always; loosen
only where the operator's policy (`--policy`) allows it in `[repository_policy] allow`, or in a
scan of a local checkout without `--policy`, where the checkout's file is the user's own. Its
regular expressions run on RE2, which cannot backtrack. An unusable file is a problem recorded
against that repository: it never ends an estate run, and a checkout's unreadable pyproject.toml
never ends a scan.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conftest import MakeRepo
from fake_github import FakeGitHub, FakeOrg, FakeRepo
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secposture.cli.main import main
from secposture.errors import PolicyError
from secposture.policy import PERMISSIONS, default_policy, load_policy_file, resolve_policy
from secposture.sources.memory import MemorySnapshot

FIXTURES = Path(__file__).parent / "fixtures"
BASIC = (FIXTURES / "report-basic" / "secposture.toml").read_text("utf-8")
ADMIN = "tok-admin-5d1e70"  # nosec B105 - a token of the fake server only
ONE_GIB = 1024**3
WAIVER = (
    '\n[[waivers]]\ncontrol = "security-policy"\nreason = "we say so"\n'
    'approver = "Ourselves"\nexpires = 2099-12-31\n'
)


def run(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    captured = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 2), captured.out, captured.err


def operator_policy(tmp_path: Path, text: str = "") -> Path:
    path = tmp_path / "operator.toml"
    path.write_text(text, "utf-8")
    return path


def json_scan(
    repo: Path, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, dict[str, Any]]:
    code, out, err = run("scan", str(repo), "--format", "json", "--offline", *args, capsys=capsys)
    assert code in (0, 1), err
    return code, json.loads(out)


def status_of(report: dict[str, Any], control: str) -> str | None:
    return next((c["status"] for c in report["controls"] if c["id"] == control), None)


def changes(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    own = report["repository_policy"]
    assert own is not None
    return {c["key"]: c for c in own["changes"]}


# --- regular expressions: RE2, never a hang ------------------------------------------------------

HANG_TOOL = '[[tools]]\nid = "evil"\nlanguages = ["python"]\ncommands = ["^(a|aa)+$"]\n'


def _workflow(run_line: str) -> str:
    return (
        "on: push\njobs:\n  lint:\n    runs-on: ubuntu-latest\n    steps:\n"
        f"      - run: {run_line}\n"
    )


@pytest.mark.parametrize("policy_given", [False, True], ids=["own-file", "operator-file"])
def test_a_policy_regex_cannot_hang_the_scan(
    make_repo: MakeRepo, tmp_path: Path, policy_given: bool
) -> None:
    """`^(a|aa)+$` against 60 a's and a b takes Python's engine hours; RE2 answers at once."""
    files = {"src/app.py": "print(1)\n", ".github/workflows/ci.yml": _workflow("a" * 60 + "b")}
    args = []
    if policy_given:
        args = ["--policy", str(operator_policy(tmp_path, HANG_TOOL))]
    else:
        files["secposture.toml"] = HANG_TOOL
    repo = make_repo(None, files)
    started = time.monotonic()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "secposture", "scan", str(repo), "--offline", *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the scan hung on a policy's regular expression")
    assert proc.returncode in (0, 1), proc.stderr
    assert time.monotonic() - started < 30


@pytest.mark.parametrize(
    ("pattern", "why"),
    [("(a)\\\\1", "invalid escape"), ("foo(?=bar)", "(?="), ("(?<!x)y", "(?<")],
    ids=["backreference", "lookahead", "lookbehind"],
)
def test_a_pattern_re2_cannot_run_is_a_policy_error_naming_tool_and_pattern(
    pattern: str, why: str
) -> None:
    text = f'[[tools]]\nid = "acme-lint"\ncommands = ["ok", "{pattern}"]\n'
    with pytest.raises(PolicyError) as exc:
        load_policy_file("org.toml", text)
    message = str(exc.value)
    assert message.startswith("org.toml: tools[0].commands[1]: ")
    assert "acme-lint" in message
    assert pattern.replace("\\\\", "\\") in message
    assert why in message
    assert "\n" not in message


def test_a_policy_may_add_only_so_many_patterns() -> None:
    tool = '[[tools]]\nid = "t"\ncommands = [' + ", ".join(['"x"'] * 20) + "]\n"
    load_policy_file("org.toml", tool * 50)  # 1,000: the most a policy may add
    with pytest.raises(PolicyError, match="1001 command patterns, more than the 1000"):
        load_policy_file("org.toml", tool * 50 + '[[tools]]\nid = "u"\ncommands = ["y"]\n')
    with pytest.raises(PolicyError, match=r"tools\[0\]\.commands"):
        load_policy_file("org.toml", '[[tools]]\nid = "t"\ncommands = ["' + "a" * 1001 + '"]\n')


def test_an_unusable_pattern_in_a_repositorys_file_is_recorded_and_the_scan_goes_on(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = BASIC + '[[tools]]\nid = "x"\ncommands = ["(a)\\\\1"]\n'
    repo = make_repo(None, {"secposture.toml": text})
    _, report = json_scan(repo, capsys, "--policy", str(operator_policy(tmp_path)))
    own = report["repository_policy"]
    assert own["path"] == "secposture.toml" and "tools[0].commands[0]" in own["error"]
    assert any(
        p["path"] == "secposture.toml" and "of tool x" in p["message"] for p in report["problems"]
    )


# --- what a repository's own policy may do ---------------------------------------------------------


def test_a_repository_cannot_raise_its_own_size_limit(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo("report-basic", {"secposture.toml": f"[limits]\nmax_file_bytes = {ONE_GIB}\n"})
    _, report = json_scan(repo, capsys, "--policy", str(operator_policy(tmp_path)))
    limit = changes(report)["limits.max_file_bytes"]
    assert limit["applied"] is False and limit["needs"] == "limits"
    assert limit["value"] == str(ONE_GIB) and limit["was"] == str(1024 * 1024)
    resolved = resolve_policy(
        MemorySnapshot({"secposture.toml": f"[limits]\nmax_file_bytes = {ONE_GIB}\n"}),
        default_policy(),
    )
    assert resolved.policy.max_file_bytes == 1024 * 1024
    allowing = operator_policy(tmp_path, '[repository_policy]\nallow = ["limits"]\n')
    _, report = json_scan(repo, capsys, "--policy", str(allowing))
    assert changes(report)["limits.max_file_bytes"]["applied"] is True


@pytest.mark.parametrize(
    ("allow", "expected"),
    [
        ([], {"security-policy": "fail", "ithc": "unknown"}),
        (["waivers"], {"security-policy": "waived", "ithc": "unknown"}),
        (["disable"], {"security-policy": "fail", "ithc": None}),
        (["waivers", "disable"], {"security-policy": "waived", "ithc": None}),
    ],
)
def test_a_self_waiver_and_a_disabled_control_need_the_operators_leave(
    make_repo: MakeRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    allow: list[str],
    expected: dict[str, str | None],
) -> None:
    own = '[controls.ithc]\nenabled = false\n[controls.security-policy]\nlevel = "required"\n'
    repo = make_repo(None, {"secposture.toml": own + WAIVER})
    # The operator keeps only the controls that need no other files (security-policy, ithc, ...).
    allowing = f"\n[repository_policy]\nallow = {json.dumps(allow)}\n"
    operator = operator_policy(tmp_path, BASIC + allowing)
    code, report = json_scan(repo, capsys, "--policy", str(operator))
    assert {c: status_of(report, c) for c in expected} == expected
    found = changes(report)
    assert found["controls.security-policy.level"]["applied"] is True  # raising a level tightens
    assert found["controls.security-policy.level"]["needs"] is None
    assert found["waivers[0]"]["applied"] is ("waivers" in allow)
    assert found["controls.ithc.enabled"]["applied"] is ("disable" in allow)
    assert code == (0 if "waivers" in allow else 1)  # required and failing unless waived
    refused = [p for p in report["problems"] if p["path"] == "secposture.toml"]
    assert len(refused) == 2 - len(allow)
    if "waivers" not in allow:
        assert any("waivers[0]" in p["message"] and "'waivers'" in p["message"] for p in refused)


def test_a_checkouts_own_file_is_trusted_without_policy_and_says_what_it_loosens(
    make_repo: MakeRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(None, {"secposture.toml": "[controls.ithc]\nenabled = false\n" + WAIVER})
    _, report = json_scan(repo, capsys)
    own = report["repository_policy"]
    assert own["trusted"] is True and own["error"] is None
    assert status_of(report, "ithc") is None
    assert status_of(report, "security-policy") == "waived"
    assert {c["key"]: c["needs"] for c in own["changes"]} == {
        "controls.ithc.enabled": "disable",
        "waivers[0]": "waivers",
    }
    _, out, _ = run("scan", str(repo), "--offline", "--no-color", capsys=capsys)
    assert "secposture.toml" in out and "waivers[0]" in out  # the terminal names the loosening


def test_a_repository_cannot_grant_itself_permissions(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = '[repository_policy]\nallow = ["waivers"]\n' + WAIVER
    repo = make_repo(None, {"secposture.toml": text})
    _, report = json_scan(repo, capsys, "--policy", str(operator_policy(tmp_path)))
    found = changes(report)
    assert found["repository_policy.allow"]["applied"] is False
    assert found["waivers[0]"]["applied"] is False
    assert status_of(report, "security-policy") == "fail"


@pytest.mark.parametrize(
    ("own", "key", "needs"),
    [
        ('exclude = ["**"]', "exclude[0]", "exclude"),
        (
            '[[tools]]\nid = "anything"\nlanguages = ["python"]\ncommands = ["."]',
            "tools[0]",
            "tools",
        ),
        (
            '[static_analysis]\nignore_languages = ["python"]',
            "static_analysis.ignore_languages[0]",
            "ignore_languages",
        ),
        ('fail_on = "never"', "fail_on", "fail_on"),
        ('[controls.security-adrs]\nlevel = "extra"', "controls.security-adrs.level", "levels"),
        (
            "[controls.threat-model]\ninterval_months = 120",
            "controls.threat-model.interval_months",
            "intervals",
        ),
        ("[limits]\nmax_test_files_read = 0", "limits.max_test_files_read", "limits"),
    ],
)
def test_every_loosening_is_refused_by_default(own: str, key: str, needs: str) -> None:
    resolved = resolve_policy(MemorySnapshot({"secposture.toml": own + "\n"}), default_policy())
    assert resolved.own is not None and resolved.own.error is None
    (change,) = resolved.own.changes
    assert (change.key, change.needs, change.applied) == (key, needs, False)
    base = default_policy()
    assert resolved.policy.controls == base.controls
    assert resolved.policy.tools == base.tools
    assert (resolved.policy.exclude, resolved.policy.ignore_languages) == ((), frozenset())
    assert resolved.policy.fail_on is None
    assert resolved.policy.max_test_files_read == base.max_test_files_read


def test_tightening_applies_under_an_operator_policy() -> None:
    own = (
        'fail_on = "recommended"\n[controls.secrets-in-tree]\nenabled = true\n'
        "[controls.threat-model]\ninterval_months = 3\n"
        '[controls.pr-template-security]\nlevel = "required"\n'
    )
    resolved = resolve_policy(MemorySnapshot({"secposture.toml": own}), default_policy())
    assert resolved.own is not None
    assert all(c.applied and c.needs is None for c in resolved.own.changes)
    policy = resolved.policy
    assert policy.fail_on == "recommended"
    assert policy.controls["secrets-in-tree"].enabled
    assert policy.controls["threat-model"].interval_months == 3
    assert policy.controls["pr-template-security"].level.value == "required"


def test_the_command_line_wins_over_an_allowed_limit(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo("report-basic", {"secposture.toml": f"[limits]\nmax_file_bytes = {ONE_GIB}\n"})
    allowing = operator_policy(tmp_path, '[repository_policy]\nallow = ["limits"]\n')
    _, report = json_scan(repo, capsys, "--policy", str(allowing), "--max-file-size", "4096")
    change = changes(report)["limits.max_file_bytes"]
    assert change["applied"] is False and "command line" in change["reason"]


# --- an unusable file: recorded against its repository -------------------------------------------------


def test_a_checkouts_non_utf8_pyproject_is_a_problem_not_an_abort(
    make_repo: MakeRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(None, {"pyproject.toml": b'[project]\nname = "caf\xe9"\n'})
    code, report = json_scan(repo, capsys)
    assert code in (0, 1)
    problem = next(p for p in report["problems"] if p["path"] == "pyproject.toml")
    assert "UTF-8" in problem["message"] and "[tool.secposture]" in problem["message"]
    assert report["repository_policy"]["error"] is not None


def test_a_checkouts_own_broken_secposture_toml_is_still_an_error(
    make_repo: MakeRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    """The user's own typo must be heard: exit 2, as for a bad --policy."""
    repo = make_repo(None, {"secposture.toml": 'fail_on = "sometimes"\n'})
    code, _, err = run("scan", str(repo), "--offline", capsys=capsys)
    assert code == 2 and "secposture.toml" in err and "fail_on" in err


def test_a_deeply_nested_operator_policy_is_a_policy_error(tmp_path: Path) -> None:
    text = "exclude = " + "[" * 3000 + "]" * 3000 + "\n"
    with pytest.raises(PolicyError, match="nested too deeply"):
        load_policy_file(str(tmp_path / "p.toml"), text)


BAD_PYPROJECTS = {
    "invalid-table": b'[tool.secposture]\nfail_on = "sometimes"\n',
    "not-utf8": b'[project]\nname = "caf\xe9"\n\xff\xfe = 1\n',
    "nested-deep": b"[tool.secposture]\nexclude = " + b"[" * 3000 + b"]" * 3000 + b"\n",
}
NEEDLES = {"invalid-table": "fail_on", "not-utf8": "not valid TOML", "nested-deep": "nested"}


@pytest.fixture
def estate_with_bad_policies() -> Iterator[str]:
    def good(name: str) -> FakeRepo:
        return FakeRepo("acme", name, files={"README.md": b"# app\n", "SECURITY.md": b"# x\n"})

    bad = [
        FakeRepo("acme", name, files={"README.md": b"# app\n", "pyproject.toml": text})
        for name, text in BAD_PYPROJECTS.items()
    ]
    waiving = FakeRepo(
        "acme",
        "self-waiver",
        files={"README.md": b"# app\n", "secposture.toml": WAIVER.encode()},
    )
    repos = [good("alpha"), *bad, waiving, good("zulu")]
    gh = FakeGitHub(orgs=[FakeOrg("acme", repos)], tokens={ADMIN: "admin"})
    with gh.serve() as base_url:
        yield base_url
    assert gh.unvalidated == []


def test_an_org_scan_records_bad_policies_and_scans_the_rest(
    estate_with_bad_policies: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", ADMIN)
    base = ["scan", "--org", "acme", "--github-url", estate_with_bad_policies]
    code, out, err = run(*base, "--format", "json", capsys=capsys)
    assert code in (0, 1), err
    estate = json.loads(out)
    by_name = {r["name"].split("/")[1]: r for r in estate["repositories"]}
    assert set(by_name) == {"alpha", *BAD_PYPROJECTS, "self-waiver", "zulu"}
    assert all(r["report"] is not None for r in by_name.values()), err
    for name, needle in NEEDLES.items():
        report = by_name[name]["report"]
        own = report["repository_policy"]
        assert own["path"] == "pyproject.toml" and needle in own["error"], (name, own)
        assert any(
            p["path"] == "pyproject.toml" and needle in p["message"] for p in report["problems"]
        ), name
    waiving = by_name["self-waiver"]["report"]
    assert status_of(waiving, "security-policy") == "fail"  # refused: no operator policy allows it
    assert changes(waiving)["waivers[0]"]["applied"] is False
    assert by_name["alpha"]["report"]["repository_policy"] is None
    assert estate["summary"]["repositories"]["own_policy"] == 4
    # Every estate format names the repositories that set their own policy, and what went wrong.
    for fmt in ("terminal", "markdown", "html", "csv"):
        code, text, err = run(*base, "--format", fmt, "--no-color", capsys=capsys)
        assert code in (0, 1), err
        for name in (*BAD_PYPROJECTS, "self-waiver"):
            assert name in text, (fmt, name)
        assert ("waivers\\[0\\]" if fmt == "markdown" else "waivers[0]") in text, fmt
        assert "nested" in text, fmt


def test_an_org_scan_honours_the_operators_leave(
    estate_with_bad_policies: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", ADMIN)
    operator = operator_policy(tmp_path, '[repository_policy]\nallow = ["waivers"]\n')
    code, out, err = run(
        "scan",
        "--org",
        "acme",
        "--github-url",
        estate_with_bad_policies,
        "--policy",
        str(operator),
        "--format",
        "json",
        capsys=capsys,
    )
    assert code in (0, 1), err
    by_name = {r["name"].split("/")[1]: r for r in json.loads(out)["repositories"]}
    assert status_of(by_name["self-waiver"]["report"], "security-policy") == "waived"


# --- properties: the loader returns a policy or a clear error, nothing else ---------------------------

_deep = st.integers(1, 4000).map(lambda n: "x = " + "[" * n + "]" * n + "\n") | st.integers(
    1, 4000
).map(lambda n: "x = " + "{a = " * n + "1" + "}" * n + "\n")
_texts = st.text(max_size=300) | _deep | st.sampled_from([BASIC, WAIVER, HANG_TOOL])


def _check(files: dict[str, str | bytes]) -> None:
    snapshot = MemorySnapshot(files)
    resolved = resolve_policy(snapshot, default_policy())  # limited: never raises
    assert resolved.policy.controls.keys() == default_policy().controls.keys()
    try:
        trusted = resolve_policy(snapshot, default_policy(), trusted=True)
    except PolicyError as exc:
        assert str(exc).startswith(("secposture.toml", "pyproject.toml"))
        assert "\n" not in str(exc)
    else:
        assert trusted.policy.controls.keys() == default_policy().controls.keys()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(["secposture.toml", "pyproject.toml"]), text=_texts)
def test_property_any_policy_text(name: str, text: str) -> None:
    if name == "pyproject.toml" and text.startswith("x = "):
        text = "[tool.secposture]\n" + text
    _check({name: text})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(["secposture.toml", "pyproject.toml"]), data=st.binary(max_size=300))
def test_property_any_policy_bytes(name: str, data: bytes) -> None:
    _check({name: data})


@settings(max_examples=100, deadline=None)
@given(text=_texts)
def test_property_any_operator_policy_text(text: str) -> None:
    try:
        load_policy_file("operator.toml", text)
    except PolicyError as exc:
        assert str(exc).startswith("operator.toml: ")


# --- property: without leave, a repository's policy never loosens the operator's --------------------

_CONTROL_IDS = sorted(default_policy().controls)
_plain = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=6)
_override = st.fixed_dictionaries(
    {},
    optional={
        "enabled": st.booleans(),
        "level": st.sampled_from(["required", "recommended", "extra"]),
        "interval_months": st.integers(1, 120),
    },
)
_waiver = st.fixed_dictionaries(
    {
        "control": st.sampled_from(_CONTROL_IDS),
        "reason": st.just("r"),
        "approver": st.just("a"),
        "expires": st.dates(),
    }
)
_tool = st.fixed_dictionaries(
    {"id": st.just("t"), "commands": st.lists(st.sampled_from([".", "x+", "^a"]), max_size=2)}
)
_tables = st.fixed_dictionaries(
    {},
    optional={
        "fail_on": st.sampled_from(["required", "recommended", "never"]),
        "exclude": st.lists(_plain, max_size=2),
        "controls": st.dictionaries(st.sampled_from(_CONTROL_IDS), _override, max_size=6),
        "limits": st.fixed_dictionaries(
            {},
            optional={
                "max_file_bytes": st.integers(1024, ONE_GIB),
                "max_test_files_read": st.integers(0, 1_000_000),
            },
        ),
        "static_analysis": st.fixed_dictionaries(
            {"ignore_languages": st.lists(st.sampled_from(["python", "shell"]), max_size=2)}
        ),
        "waivers": st.lists(_waiver, max_size=2),
        "tools": st.lists(_tool, max_size=2),
    },
)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # no control characters: valid TOML too
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return str(value)  # integers, dates


def toml_of(table: dict[str, Any]) -> str:
    """The TOML text of a policy table of the shape `_tables` makes."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in table.items() if not isinstance(v, dict | list)]
    lines += [f"{k} = {_toml_value(v)}" for k, v in table.items() if k == "exclude"]
    for cid, override in table.get("controls", {}).items():
        lines.append(f'[controls."{cid}"]')
        lines += [f"{k} = {_toml_value(v)}" for k, v in override.items()]
    for name in ("limits", "static_analysis"):
        if name in table:
            lines.append(f"[{name}]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in table[name].items()]
    for name in ("waivers", "tools"):
        for entry in table.get(name, []):
            lines.append(f"[[{name}]]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in entry.items()]
    return "\n".join(lines) + "\n"


_STRICTNESS = {None: 1, "never": 0, "required": 1, "recommended": 2}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=_tables)
def test_property_without_leave_a_repository_policy_never_loosens(table: dict[str, Any]) -> None:
    operator = default_policy()
    for cid, override in table.get("controls", {}).items():
        if operator.controls[cid].interval_months is None:
            override.pop("interval_months", None)  # an error for these: tested elsewhere
    snapshot = MemorySnapshot({"secposture.toml": toml_of(table)})
    resolved = resolve_policy(snapshot, operator)
    assert resolved.own is not None
    policy = resolved.policy
    for cid, before in operator.controls.items():
        after = policy.controls[cid]
        assert after.enabled or not before.enabled
        assert after.level.rank <= before.level.rank
        if before.interval_months is not None:
            assert after.interval_months is not None
            assert after.interval_months <= before.interval_months
    assert (policy.waivers, policy.exclude, policy.tools) == ((), (), operator.tools)
    assert policy.ignore_languages == frozenset()
    assert (policy.max_file_bytes, policy.max_test_files_read) == (
        operator.max_file_bytes,
        operator.max_test_files_read,
    )
    assert _STRICTNESS[policy.fail_on] >= _STRICTNESS[operator.fail_on]
    if resolved.own.error is None:
        # With every permission, the file rules as it does in a trusted scan.
        everything = replace(operator, repository_allow=frozenset(PERMISSIONS))
        allowed = resolve_policy(snapshot, everything).policy
        trusted = resolve_policy(snapshot, operator, trusted=True).policy
        assert replace(allowed, repository_allow=frozenset(), origin=None) == replace(
            trusted, origin=None
        )
