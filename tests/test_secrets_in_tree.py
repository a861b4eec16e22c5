"""The opt-in secrets-in-tree control: detect-secrets in-process over tracked text files.

Fake credentials are assembled at run time so that this repository's own secret scanners do not
flag its test files.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import date
from pathlib import Path

import pytest
from conftest import MakeRepo, result, scan
from hypothesis import given, settings
from hypothesis import strategies as st

from secposture import catalogue
from secposture.facts.interface import Facts
from secposture.model import ScanReport, Status
from secposture.policy import default_policy
from secposture.probes.no_secrets_in_tracked_files import baseline as baseline_file
from secposture.probes.no_secrets_in_tracked_files.baseline import (
    Baseline,
    nested_quantifier,
    safe_regex,
)
from secposture.probes.no_secrets_in_tracked_files.scanner import Scanner
from secposture.reports.interface import FORMATS, RenderOptions, renderer
from secposture.sources.memory import MemorySnapshot

AWS_KEY = "AKIA" + "Q3RZ7XKD2LWP9M4T"
SLACK = "xoxb-" + "1234567890-0987654321-" + "aBcDeFgHiJkLmNoPqRsTuVwX"
GITHUB = "ghp_" + "0123456789abcdefghijABCDEFGHIJklmnopqr"
STRIPE = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
PRIVATE_KEY = "-----BEGIN RSA " + "PRIVATE KEY-----"
HEX = "a3f5" + "9c2e7b1d8f604e5a"  # 20 hex characters, high entropy
PASSWORD = "Tr0ub4dor" + "-horse-9"


def sha1(value: str) -> str:
    return hashlib.sha1(value.encode()).hexdigest()  # noqa: S324 - the hash detect-secrets uses


def prod_env() -> str:
    return f"# production settings\nREGION=eu-west-2\nAWS_ACCESS_KEY_ID={AWS_KEY}\n"


def secret_result(report: ScanReport) -> object:
    return result(report, "secrets-in-tree")


def negatives(report: ScanReport) -> list[str]:
    control = result(report, "secrets-in-tree")
    return [f"{f.location} {f.message}" for f in control.findings if f.outcome.value == "negative"]


# --- opt-in ---------------------------------------------------------------------------------------


def test_not_run_unless_asked(make_repo: MakeRepo) -> None:
    report = scan(make_repo("secrets-clean-app"))
    assert "secrets-in-tree" not in {r.id for r in report.results}


def test_clean_tree_passes_with_deep(make_repo: MakeRepo) -> None:
    report = scan(make_repo("secrets-clean-app"), deep=True)
    control = result(report, "secrets-in-tree")
    assert control.status is Status.PASS
    assert "no secrets found in" in control.summary and "detect-secrets plugins" in control.summary


def test_policy_file_enables_it(make_repo: MakeRepo) -> None:
    policy = "[controls.secrets-in-tree]\nenabled = true\n"
    repo = make_repo(
        "secrets-clean-app", {"secposture.toml": policy, "config/prod.env": prod_env()}
    )
    assert result(scan(repo), "secrets-in-tree").status is Status.FAIL


# --- findings -------------------------------------------------------------------------------------


def test_secrets_fail_with_file_line_and_type_only(make_repo: MakeRepo) -> None:
    files = {
        "config/prod.env": prod_env(),
        "deploy/notify.py": f'SLACK_TOKEN = "{SLACK}"\n',
        "keys/id_rsa": PRIVATE_KEY + "\nMIIEow\n",
    }
    report = scan(make_repo("secrets-clean-app", files), deep=True)
    control = result(report, "secrets-in-tree")
    assert control.status is Status.FAIL
    found = negatives(report)
    assert any(
        line.startswith("config/prod.env:3 ") and "possible AWS Access Key" in line
        for line in found
    )
    assert any(line.startswith("deploy/notify.py:1 ") and "Slack Token" in line for line in found)
    assert any(line.startswith("keys/id_rsa:1 ") and "Private Key" in line for line in found)
    assert control.remediation is not None and "Rotate" in control.remediation


def test_no_secret_value_or_hash_in_any_report_format(make_repo: MakeRepo) -> None:
    repo = make_repo(
        "secrets-clean-app", {"config/prod.env": prod_env(), "a.py": f'token = "{GITHUB}"\n'}
    )
    report = scan(repo, deep=True)
    assert result(report, "secrets-in-tree").status is Status.FAIL
    rendered = []
    for fmt in FORMATS:
        try:
            render = renderer(fmt)
        except ImportError:  # a format another engineer has not written yet
            continue
        rendered.append(render(report, RenderOptions(verbose=True)))
    rendered.append(json.dumps([r.to_dict() for r in report.results]))
    rendered.append(json.dumps([p.to_dict() for p in report.problems]))
    assert len(rendered) >= 3
    for text in rendered:
        for value in (AWS_KEY, GITHUB, sha1(AWS_KEY), sha1(GITHUB)):
            assert value not in text


def test_allowlist_pragma_and_filters_are_honoured(make_repo: MakeRepo) -> None:
    files = {
        "a.py": f'key = "{AWS_KEY}"  # pragma: allowlist secret\n',
        "b.py": f"# pragma: allowlist nextline secret\nkey = '{AWS_KEY}'\n",
        "c.py": 'password = "${DB_PASSWORD}"\napi_key = request.headers["x-api-key"]\n',
        "yarn.lock": f'"x": integrity "{AWS_KEY}"\n',
    }
    report = scan(make_repo(None, files), deep=True)
    assert result(report, "secrets-in-tree").status is Status.PASS, negatives(report)


def test_binary_huge_and_non_utf8_files_are_skipped(make_repo: MakeRepo) -> None:
    files: dict[str, str | bytes] = {
        "logo.png": b"\x89PNG\r\n\x1a\n\x00" + AWS_KEY.encode(),
        "data.bin2": b"\x00\x00" + AWS_KEY.encode(),
        "latin.txt": ("caf\xe9 " + AWS_KEY).encode("latin-1"),
        "big.txt": "x = 1\n" * 2000 + AWS_KEY,
        "ok.py": "print('hello')\n",
    }
    report = scan(make_repo(None, files), deep=True, max_file_bytes=4096)
    assert result(report, "secrets-in-tree").status is Status.PASS
    problems = {p.path for p in report.problems}
    assert {"data.bin2", "latin.txt", "big.txt"} <= problems
    assert "logo.png" not in problems  # skipped by extension, never read


# --- .secrets.baseline ----------------------------------------------------------------------------


def baseline(results: dict[str, list[dict[str, object]]], **extra: object) -> str:
    data: dict[str, object] = {
        "version": "1.5.0",
        "plugins_used": [],
        "filters_used": [],
        "results": results,
    }
    data.update(extra)
    if not data["plugins_used"]:
        del data["plugins_used"]  # the defaults
    return json.dumps(data, indent=2)


def entry(path: str, **fields: object) -> dict[str, object]:
    return {
        "type": "AWS Access Key",
        "filename": path,
        "hashed_secret": sha1(AWS_KEY),
        "is_verified": False,
        "line_number": 3,
        **fields,
    }


@pytest.mark.parametrize("fields", [{}, {"is_secret": False}])
def test_baseline_accepts_listed_secrets(make_repo: MakeRepo, fields: dict[str, object]) -> None:
    listed = baseline({"config/prod.env": [entry("config/prod.env", **fields)]})
    repo = make_repo(
        "secrets-clean-app", {"config/prod.env": prod_env(), ".secrets.baseline": listed}
    )
    control = result(scan(repo, deep=True), "secrets-in-tree")
    assert control.status is Status.PASS
    assert "less those accepted in .secrets.baseline" in control.summary


def test_baseline_entry_audited_as_real_still_fails(make_repo: MakeRepo) -> None:
    listed = baseline({"config/prod.env": [entry("config/prod.env", is_secret=True)]})
    repo = make_repo(
        "secrets-clean-app", {"config/prod.env": prod_env(), ".secrets.baseline": listed}
    )
    report = scan(repo, deep=True)
    assert result(report, "secrets-in-tree").status is Status.FAIL
    assert "audited as a real secret in .secrets.baseline" in negatives(report)[0]


def test_baseline_matches_by_file(make_repo: MakeRepo) -> None:
    listed = baseline({"config/other.env": [entry("config/other.env")]})
    repo = make_repo(
        "secrets-clean-app", {"config/prod.env": prod_env(), ".secrets.baseline": listed}
    )
    assert result(scan(repo, deep=True), "secrets-in-tree").status is Status.FAIL


def test_baseline_regex_filters(make_repo: MakeRepo) -> None:
    filters = [
        {
            "path": "detect_secrets.filters.regex.should_exclude_file",
            "pattern": ["^tests/fixtures/"],
        },
        {"path": "detect_secrets.filters.regex.should_exclude_line", "pattern": ["EXAMPLE-ONLY"]},
        {"path": "detect_secrets.filters.heuristic.is_templated_secret"},
    ]
    files = {
        "tests/fixtures/keys.env": prod_env(),
        "docs/howto.md": f"export AWS_ACCESS_KEY_ID={AWS_KEY}  # EXAMPLE-ONLY\n",
        ".secrets.baseline": baseline({}, filters_used=filters),
    }
    report = scan(make_repo(None, files), deep=True)
    assert result(report, "secrets-in-tree").status is Status.PASS, negatives(report)


def test_old_style_exclude(make_repo: MakeRepo) -> None:
    files = {
        "vendor_keys/k.env": prod_env(),
        ".secrets.baseline": baseline({}, exclude={"files": "^vendor_keys/", "lines": None}),
    }
    assert result(scan(make_repo(None, files), deep=True), "secrets-in-tree").status is Status.PASS


def test_catastrophic_regex_in_baseline_is_refused(make_repo: MakeRepo) -> None:
    filters = [{"path": "detect_secrets.filters.regex.should_exclude_line", "pattern": ["(a+)+$"]}]
    files = {
        "config/prod.env": prod_env() + "a" * 40 + "!\n",
        ".secrets.baseline": baseline({}, filters_used=filters),
    }
    start = time.perf_counter()
    report = scan(make_repo(None, files), deep=True)
    assert time.perf_counter() - start < 30
    assert result(report, "secrets-in-tree").status is Status.FAIL
    problem = next(p for p in report.problems if p.path == ".secrets.baseline")
    assert "backtrack" in problem.message


def test_custom_plugins_and_filters_in_baseline_are_never_executed(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    marker = tmp_path / "executed"
    evil = f"from pathlib import Path\nPath({str(marker)!r}).write_text('pwned')\n"
    data = {
        "plugins_used": [
            {"name": "EvilDetector", "path": "file://evil_plugin.py"},
            {"name": "AWSKeyDetector"},
        ],
        "filters_used": [
            {"path": "file://evil_plugin.py::should_exclude"},
            {
                "path": "detect_secrets.filters.common.is_ignored_due_to_verification_policies",
                "min_level": 2,
            },
        ],
        "results": {},
    }
    files = {
        "evil_plugin.py": evil,
        "config/prod.env": prod_env(),
        ".secrets.baseline": json.dumps(data),
    }
    repo = make_repo(None, files)
    report = scan(repo, deep=True)
    assert not marker.exists()
    assert result(report, "secrets-in-tree").status is Status.FAIL
    problem = next(p for p in report.problems if p.path == ".secrets.baseline")
    assert "not run" in problem.message


def test_baseline_plugins_choose_what_runs(make_repo: MakeRepo) -> None:
    data = {"plugins_used": [{"name": "SlackDetector"}, {"name": "NoSuchDetector"}], "results": {}}
    files = {"config/prod.env": prod_env(), ".secrets.baseline": json.dumps(data)}
    report = scan(make_repo(None, files), deep=True)
    assert result(report, "secrets-in-tree").status is Status.PASS  # AWS detector not chosen
    assert "1 detect-secrets plugins" in result(report, "secrets-in-tree").summary


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[1, 2, 3]",
        '{"results": [1], "plugins_used": {"a": 1}, "filters_used": "x", "exclude": [1]}',
        '{"results": {"config/prod.env": [1, {"hashed_secret": 7}, {"no": "hash"}]}, "plugins_used": [1, {"name": 3}, {"name": "Base64HighEntropyString", "limit": "high"}, {"name": "KeywordDetector", "keyword_exclude": "(x+)+"}]}',
        b"\x00\x01\x02",
        '{"filters_used": [{"path": "detect_secrets.filters.regex.should_exclude_file", "pattern": [1, null, "["]}]}',
    ],
)
def test_hostile_baselines_never_crash(make_repo: MakeRepo, content: str | bytes) -> None:
    files = {"config/prod.env": prod_env(), ".secrets.baseline": content}
    report = scan(make_repo(None, files), deep=True)
    # One of these chooses only plugins that miss the AWS key: that is the baseline's choice.
    assert result(report, "secrets-in-tree").status in (Status.FAIL, Status.PASS)
    assert any(p.path == ".secrets.baseline" for p in report.problems)


# --- the scanner ----------------------------------------------------------------------------------

EVERY_KIND = "\n".join(
    [
        f"aws_access_key_id = {AWS_KEY}",
        f'slack = "{SLACK}"',
        f"GITHUB_TOKEN={GITHUB}",
        f'stripe.api_key = "{STRIPE}"',
        PRIVATE_KEY,
        f'checksum = "{HEX}"',
        f'password = "{PASSWORD}"',
        f"db_pass: {PASSWORD}",
        "url = 'https://admin:" + "s3cr3tP4ss" + "@db.example.org/app'",
        "jwt = 'eyJhbGciOiJIUzI1NiJ9."
        + "eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U'",
        'cloudant_password = "' + "a" * 24 + '"',
        "ibm_cloud_iam_key = '" + "abcdefghij" * 4 + "4a'",
        "artifactory = AKC"
        + "p8jRRwdEeVLfmCBzzALLrLP7YX8dP2ceWQ2CxHNg4NZrsCcW1rAoJ9HsBvrH9tB86aQ5VMF",
        'secret_access_key = "' + "0123456789abcdef" * 3 + '"',
    ]
)


def make_scanner(base: Baseline | None = None) -> Scanner:
    return Scanner(base or Baseline(), catalogue.load("secrets"), [])


def test_prefilter_finds_exactly_what_an_unfiltered_scan_finds() -> None:
    scanner = make_scanner()
    for path in ("settings.py", "config.yaml", "app.go", "README.md", ".env", "x.js"):
        fast = list(scanner.scan(path, EVERY_KIND))
        slow = list(scanner.scan(path, EVERY_KIND, prefilter=False))
        assert fast == slow, path
        assert len({h.type for h in fast}) >= 8, (path, fast)


@settings(max_examples=75, deadline=None)
@given(st.lists(st.sampled_from(EVERY_KIND.splitlines()) | st.text(max_size=80), max_size=12))
def test_prefilter_equivalence_on_mixed_text(lines: list[str]) -> None:
    scanner = make_scanner()
    text = "\n".join(lines)
    assert list(scanner.scan("f.py", text)) == list(scanner.scan("f.py", text, prefilter=False))


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=3000))
def test_scanner_never_raises(text: str) -> None:
    list(make_scanner().scan("any.txt", text))


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=15,
)
_baseline_shaped = st.fixed_dictionaries(
    {},
    optional={
        "results": st.dictionaries(
            st.text(max_size=10),
            st.lists(
                _json
                | st.fixed_dictionaries({"hashed_secret": st.text(max_size=8), "is_secret": _json}),
                max_size=3,
            ),
            max_size=3,
        )
        | _json,
        "plugins_used": st.lists(
            st.fixed_dictionaries(
                {
                    "name": st.sampled_from(
                        ["KeywordDetector", "Base64HighEntropyString", "AWSKeyDetector", "X"]
                    )
                    | _json
                },
                optional={"limit": _json, "keyword_exclude": _json, "path": _json},
            )
            | _json,
            max_size=3,
        )
        | _json,
        "filters_used": st.lists(
            st.fixed_dictionaries(
                {
                    "path": st.sampled_from(
                        [
                            "detect_secrets.filters.regex.should_exclude_line",
                            "detect_secrets.filters.regex.should_exclude_file",
                            "detect_secrets.filters.heuristic.is_lock_file",
                            "x.y",
                        ]
                    )
                    | _json
                },
                optional={"pattern": _json},
            )
            | _json,
            max_size=3,
        )
        | _json,
        "exclude": _json,
    },
)


@settings(max_examples=75, deadline=None)
@given(_baseline_shaped | _json)
def test_baseline_loading_never_raises(data: object) -> None:
    facts = Facts(
        MemorySnapshot({".secrets.baseline": json.dumps(data), "a.env": prod_env()}),
        default_policy(),
        date(2026, 11, 29),
    )
    loaded = baseline_file.load(facts, catalogue.load("secrets"))
    scanner = Scanner(loaded, catalogue.load("secrets"), [])
    list(scanner.scan("a.env", prod_env()))


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=600))
def test_regex_guard_never_raises(pattern: str) -> None:
    nested_quantifier(pattern)
    compiled = safe_regex(pattern)
    if not isinstance(compiled, str):
        start = time.perf_counter()
        compiled.search("a" * 2000 + "!")
        assert time.perf_counter() - start < 1


@pytest.mark.parametrize(
    "pattern", ["(a+)+$", "(\\w*x)*", "((ab)*)+", "(?:a|b+){2,}", "(.*a){12}", "(a)\\1"]
)
def test_regex_guard_refuses_backtracking_shapes(pattern: str) -> None:
    assert isinstance(safe_regex(pattern), str)


@pytest.mark.parametrize(
    "pattern", ["^tests/", "\\.min\\.js$", "EXAMPLE", "[a+]+", "(abc)+", "pragma: (no)?secret"]
)
def test_regex_guard_accepts_plain_patterns(pattern: str) -> None:
    assert not isinstance(safe_regex(pattern), str)


def test_many_files_scan_quickly(make_repo: MakeRepo) -> None:
    module = "".join(
        f"def f{i}(x: int) -> int:\n    return x * {i}  # compute\n\n" for i in range(60)
    )
    files = {f"pkg/m{i}.py": module for i in range(400)}
    files["pkg/settings.py"] = f'SECRET_KEY = "{PASSWORD}"\n'
    repo = make_repo(None, files)
    start = time.perf_counter()
    report = scan(repo, deep=True)
    elapsed = time.perf_counter() - start
    assert negatives(report) and negatives(report)[0].startswith("pkg/settings.py:1 ")
    assert elapsed < 30, elapsed


def test_long_lists_of_secrets_are_capped(make_repo: MakeRepo) -> None:
    keys = "".join(f"k{i} = AKIA{i:016d}\n".replace("0", "Q") for i in range(210))
    report = scan(make_repo(None, {"keys.txt": keys}), deep=True)
    found = result(report, "secrets-in-tree").findings
    assert len(found) == catalogue.load("secrets")["max_reported"] + 1
    assert found[-1].message == "and 10 more possible secrets not listed"
