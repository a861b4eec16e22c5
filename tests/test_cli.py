"""The command line: formats, --output, --fail-on and exit codes, errors as one line on stderr.

Runs through click's CliRunner and through the installed `secposture` console script.
The repositories use a policy (tests/fixtures/report-basic/secposture.toml) that keeps only the
controls whose probes need nothing else: security-policy, the settings-based controls and ithc.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from conftest import MakeRepo

from secposture.cli import main as cli_module
from secposture.cli.main import cli

ROOT = Path(__file__).parent.parent
SCRIPT = Path(sys.executable).parent / "secposture"
REPORT_SCHEMA = json.loads((ROOT / "docs" / "report.schema.json").read_text("utf-8"))
POLICY = (Path(__file__).parent / "fixtures" / "report-basic" / "secposture.toml").read_text(
    "utf-8"
)


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def script(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    if not SCRIPT.exists():
        pytest.skip(f"the console script is not installed at {SCRIPT}")
    return subprocess.run(
        [str(SCRIPT), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        env={**os.environ, **(env or {})},
        check=False,
    )


def with_level(level: str, extra: str = "") -> str:
    """The basic policy with security-policy moved to `level` (it fails where SECURITY.md is missing)."""
    return POLICY + f'\n[controls.security-policy]\nlevel = "{level}"\n' + extra


def _assert_one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("secposture: error: ")
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


# --- formats and output ------------------------------------------------------------------------


def test_default_terminal_report(make_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")  # the width a pipe's terminal would give
    repo = make_repo("report-basic")
    code, out, _ = run("scan", str(repo), "--no-color")
    assert code == 0
    # One screen: a row per control with its level, what does not pass first, then the headline.
    assert "why, and the fix" in out and "required" in out and "extra" in out
    assert "security-policy" in out and "ithc" in out
    assert len(out.splitlines()) <= 40
    assert "\x1b[" not in out


@pytest.mark.parametrize("fmt", ["json", "sarif", "markdown", "html"])
def test_every_format_from_a_real_scan(make_repo: MakeRepo, fmt: str) -> None:
    repo = make_repo("report-basic", {"secposture.toml": with_level("required")}, commit=True)
    (repo / "SECURITY.md").unlink()  # tracked but missing: a problem and a failing control
    code, out, _ = run("scan", str(repo), "--format", fmt)
    assert code == 1
    if fmt == "json":
        data = json.loads(out)
        jsonschema.Draft202012Validator(REPORT_SCHEMA).validate(data)
        assert {c["id"] for c in data["controls"]} == {
            "ithc",
            "dependabot-security-updates",
            "pr-review-required",
            "secret-scanning",
            "security-policy",
        }
        assert data["target"]["source"] == "git" and len(data["target"]["commit"]) == 40
    elif fmt == "sarif":
        data = json.loads(out)
        assert data["version"] == "2.1.0"
        assert any(r["ruleId"] == "security-policy" for r in data["runs"][0]["results"])
    elif fmt == "markdown":
        assert "1 required control failing" in out
    else:
        assert out.startswith("<!DOCTYPE html>") and "security-policy" in out


def test_output_file(make_repo: MakeRepo, tmp_path: Path) -> None:
    repo = make_repo("report-basic")
    target = tmp_path / "out" / "report.json"
    target.parent.mkdir()
    code, out, _ = run("scan", str(repo), "--format", "json", "--output", str(target))
    assert code == 0 and out == ""
    assert json.loads(target.read_text("utf-8"))["schema_version"] == "1.1"


def test_verbose_shows_every_finding_with_its_file(make_repo: MakeRepo) -> None:
    repo = make_repo("report-basic")
    _, brief, _ = run("scan", str(repo), "--no-color")
    _, verbose, _ = run("scan", str(repo), "--no-color", "--verbose")
    assert "(SECURITY.md:1)" in verbose and "(SECURITY.md:1)" not in brief


def test_color_flags_and_no_color_env(make_repo: MakeRepo) -> None:
    repo = make_repo("report-basic")
    assert "\x1b[" in run("scan", str(repo), "--color")[1]
    assert "\x1b[" not in run("scan", str(repo), "--no-color")[1]
    # Not a terminal (CliRunner): no colour unless asked.
    assert "\x1b[" not in run("scan", str(repo))[1]
    assert "\x1b[" not in run("scan", str(repo), env={"NO_COLOR": "1"})[1]


def test_max_file_size_flag(make_repo: MakeRepo) -> None:
    repo = make_repo(
        "report-basic",
        {"SECURITY.md": "# Security\n\n" + "Report to security@example.org.\n" * 100},
    )
    _, out, _ = run("scan", str(repo), "--format", "json")
    assert _status(out, "security-policy") == "pass"
    _, out, _ = run("scan", str(repo), "--format", "json", "--max-file-size", "1024")
    data = json.loads(out)
    assert _status(out, "security-policy") == "fail"
    assert any("over the 1,024-byte limit" in p["message"] for p in data["problems"])


def test_deep_enables_secrets_in_tree(make_repo: MakeRepo) -> None:
    pytest.importorskip("secposture.probes.no_secrets_in_tracked_files.impl")
    repo = make_repo("report-basic")
    _, out, _ = run("scan", str(repo), "--format", "json")
    assert "secrets-in-tree" not in {c["id"] for c in json.loads(out)["controls"]}
    _, out, _ = run("scan", str(repo), "--format", "json", "--deep")
    assert "secrets-in-tree" in {c["id"] for c in json.loads(out)["controls"]}


def _status(out: str, control: str) -> str:
    for c in json.loads(out)["controls"]:
        if c["id"] == control:
            status: str = c["status"]
            return status
    raise AssertionError(f"no {control}")


# --- --fail-on and exit codes --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "fail_on", "expected"),
    [
        ("required", None, 1),
        ("required", "required", 1),
        ("required", "never", 0),
        ("recommended", None, 0),
        ("recommended", "required", 0),
        ("recommended", "recommended", 1),
        ("extra", "recommended", 0),  # extra controls never fail the exit code
    ],
)
def test_fail_on_levels(
    make_repo: MakeRepo, level: str, fail_on: str | None, expected: int
) -> None:
    repo = make_repo("report-basic", {"secposture.toml": with_level(level)})
    (repo / "SECURITY.md").unlink()
    args = ["scan", str(repo), "--format", "json"] + (["--fail-on", fail_on] if fail_on else [])
    code, out, _ = run(*args)
    assert _status(out, "security-policy") == "fail"
    assert code == expected


def test_policy_fail_on_is_the_default_and_the_flag_wins(make_repo: MakeRepo) -> None:
    policy = with_level("recommended").replace('fail_on = "required"', 'fail_on = "recommended"')
    repo = make_repo("report-basic", {"secposture.toml": policy})
    (repo / "SECURITY.md").unlink()
    assert run("scan", str(repo))[0] == 1
    assert run("scan", str(repo), "--fail-on", "required")[0] == 0


def test_waived_and_unknown_do_not_fail(make_repo: MakeRepo) -> None:
    waiver = (
        '\n[[waivers]]\ncontrol = "security-policy"\nreason = "policy lives in the org repository"\n'
        'approver = "Jane Smith (Security)"\nexpires = 2099-12-31\n'
    )
    repo = make_repo("report-basic", {"secposture.toml": with_level("required", waiver)})
    (repo / "SECURITY.md").unlink()
    code, out, _ = run("scan", str(repo), "--format", "json")
    assert code == 0
    assert _status(out, "security-policy") == "waived"
    assert _status(out, "ithc") == "unknown"  # required and unknown: does not fail either


def test_policy_option_replaces_the_checkouts_policy(make_repo: MakeRepo, tmp_path: Path) -> None:
    repo = make_repo("report-basic")
    (repo / "SECURITY.md").unlink()
    shared = tmp_path / "org-policy.toml"
    shared.write_text(with_level("required"), "utf-8")
    assert run("scan", str(repo))[0] == 0  # the checkout's policy: security-policy is extra
    assert run("scan", str(repo), "--policy", str(shared))[0] == 1


# --- errors: exit 2, one line ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["scan", "--format", "xml"], "'xml' is not one of"),
        (["scan", "--no-such-option"], "No such option"),
        (["scan", "--fail-on", "sometimes"], "'sometimes' is not one of"),
        (["scan", "--max-file-size", "10"], "--max-file-size"),
        (["scan", "/nonexistent/repo"], "no such folder"),
        (["scan", "--policy", "/nonexistent/policy.toml"], "policy file not found"),
        (["frobnicate"], "No such command"),
    ],
)
def test_usage_errors_exit_2_via_clirunner(args: list[str], needle: str) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert needle in result.output


def test_path_that_is_a_file(tmp_path: Path) -> None:
    f = tmp_path / "file.txt"
    f.write_text("x", "utf-8")
    proc = script("scan", str(f))
    _assert_one_line_error(proc, "not a folder")


def test_missing_folder_via_console_script(tmp_path: Path) -> None:
    _assert_one_line_error(script("scan", str(tmp_path / "missing")), "no such folder")


def test_bad_option_via_console_script() -> None:
    _assert_one_line_error(script("scan", "--format", "xml"), "'xml' is not one of", "--help")


def test_invalid_policy_names_the_key(make_repo: MakeRepo) -> None:
    repo = make_repo(
        "report-basic",
        {"secposture.toml": POLICY + '\n[controls.threat-model]\ninterval_months = "six"\n'},
    )
    # TOML allows the table only once, so a second [controls.threat-model] is itself an error.
    proc = script("scan", str(repo))
    _assert_one_line_error(proc, "secposture.toml", "line")
    repo = make_repo(
        "report-basic",
        {
            "secposture.toml": POLICY.replace(
                "[controls.threat-model]\nenabled = false",
                '[controls.threat-model]\ninterval_months = "six"',
            )
        },
    )
    _assert_one_line_error(script("scan", str(repo)), "controls.threat-model.interval_months")


def test_error_from_policy_text_cannot_drive_the_terminal(make_repo: MakeRepo) -> None:
    repo = make_repo("report-basic", {"secposture.toml": POLICY + '\n"\\u001b[2Jevil" = 1\n'})
    proc = script("scan", str(repo))
    _assert_one_line_error(proc, "\\x1b[2Jevil", "Extra inputs are not permitted")
    assert "\x1b" not in proc.stderr


def test_unwritable_output(make_repo: MakeRepo, tmp_path: Path) -> None:
    repo = make_repo("report-basic")
    _assert_one_line_error(
        script("scan", str(repo), "-o", str(tmp_path / "no" / "such" / "dir" / "r.json")),
        "does not exist",
    )
    _assert_one_line_error(script("scan", str(repo), "-o", str(tmp_path)), str(tmp_path))


def test_internal_error_is_one_line(
    monkeypatch: pytest.MonkeyPatch, make_repo: MakeRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo("report-basic")

    def broken(fmt: str) -> object:
        raise RuntimeError("renderer exploded\nsecond line")

    monkeypatch.setattr("secposture.reports.interface.renderer", broken)
    monkeypatch.delenv("SECPOSTURE_DEBUG", raising=False)
    with pytest.raises(SystemExit) as exc:
        cli_module.main(["scan", str(repo)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert (
        err.count("\n") == 1
        and "internal error: RuntimeError: renderer exploded second line" in err
    )


def test_main_exit_codes_in_process(
    make_repo: MakeRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo("report-basic", {"secposture.toml": with_level("required")})
    with pytest.raises(SystemExit) as exc:
        cli_module.main(["scan", str(repo), "--format", "json"])
    assert exc.value.code == 0
    (repo / "SECURITY.md").unlink()
    with pytest.raises(SystemExit) as exc:
        cli_module.main(["scan", str(repo), "--format", "json"])
    assert exc.value.code == 1
    capsys.readouterr()


# --- the console script ----------------------------------------------------------------------------


def test_console_script_scan_exit_codes(make_repo: MakeRepo) -> None:
    repo = make_repo("report-basic", {"secposture.toml": with_level("required")})
    ok = script("scan", "--format", "json", cwd=repo)  # PATH defaults to the current folder
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["target"]["name"] == repo.name
    (repo / "SECURITY.md").unlink()
    failing = script("scan", str(repo), "--no-color")
    assert failing.returncode == 1 and failing.stderr == ""
    assert "1 required control failing" in failing.stdout


def test_help_teaches() -> None:
    proc = script("scan", "--help")
    assert proc.returncode == 0
    for text in (
        "Examples:",
        "--format",
        "--fail-on",
        "Exit codes:",
        "secposture scan --format sarif",
    ):
        assert text in proc.stdout
    top = script()
    assert (
        top.returncode == 0
        and "secposture COMMAND --help" in top.stdout
        and "secposture serve" in top.stdout
    )
    version = script("--version")
    assert version.returncode == 0 and "secposture" in version.stdout


def test_output_to_a_closed_pipe_is_quiet(make_repo: MakeRepo) -> None:
    if not SCRIPT.exists():
        pytest.skip(f"the console script is not installed at {SCRIPT}")
    repo = make_repo("report-basic")
    # The reader goes away, as with `secposture scan | head -c 10`.
    proc = subprocess.Popen(
        [str(SCRIPT), "scan", str(repo), "--format", "html"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before the report is written: the write meets a closed pipe
    err = proc.stderr.read().decode("utf-8", "replace")
    assert proc.wait(timeout=120) == 0  # the scan's own result: nothing failing
    assert "Traceback" not in err and "Exception ignored" not in err, err


def test_lazy_commands_match_what_their_modules_add() -> None:
    """`secposture scan` does not import the register's commands; every lazily named command
    exists, and no module adds a command the lazy table does not know (it would be unreachable
    until help is listed)."""
    import importlib

    import click

    from secposture.cli.main import LAZY_COMMANDS

    for module in set(LAZY_COMMANDS.values()):
        group = click.Group()
        importlib.import_module(module).add_commands(group)
        expected = {name for name, owner in LAZY_COMMANDS.items() if owner == module}
        assert set(group.commands) == expected, module


def test_a_plain_scan_loads_neither_the_database_nor_the_github_client(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    """Start-up is part of the pre-commit budget: no register and no token, no SQLAlchemy or
    httpx imported (they cost more than the scan itself)."""
    import os
    import subprocess
    import sys

    root = make_repo(None, {"README.md": "# app\n"})
    code = (
        "import sys\n"
        "from secposture.cli.main import main\n"
        "try:\n"
        f"    main(['scan', {str(root)!r}, '--format', 'json'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = sorted(m for m in ('sqlalchemy', 'httpx', 'jwt', 'alembic') if m in sys.modules)\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "GH_TOKEN")}
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert "HEAVY []" in proc.stderr, proc.stderr[-500:]
