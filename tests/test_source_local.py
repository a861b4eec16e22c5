"""The local source on bad input: plain folders, empty repositories, links, binary and huge files,
odd file names, unreadable files, and a repository whose git config tries to run a command.

Each case ends in a status for every control and, where a file could not be used, a Problem that
says why; never an exception and never a read outside the repository.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest
from conftest import MakeRepo, git, result, scan
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secposture.errors import SecpostureError
from secposture.model import Status
from secposture.reports.interface import FORMATS, RenderOptions, renderer
from secposture.sources import local
from secposture.sources.interface import UnreadableFile
from secposture.sources.local import LocalSource

FIXTURES = Path(__file__).parent / "fixtures"
POLICY = (FIXTURES / "report-basic" / "secposture.toml").read_text("utf-8")


def commit_all(root: Path) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "--no-verify", "-m", "change")


def problems_for(report: object, path: str) -> list[str]:
    return [p.message for p in report.problems if p.path == path]  # type: ignore[attr-defined]


def _probes_missing() -> list[str]:
    """Probe modules named by the shipped controls that are not written yet (other engineers' work)."""
    import importlib

    from secposture.policy import default_policy

    missing = []
    for control in default_policy().controls.values():
        for probe in control.probes:
            try:
                importlib.import_module(f"secposture.probes.{probe.replace('-', '_')}.impl")
            except ImportError:
                missing.append(probe)
    return missing


needs_all_probes = pytest.mark.skipif(
    bool(_probes_missing()), reason=f"probes not yet implemented: {', '.join(_probes_missing())}"
)


# --- what is scanned ----------------------------------------------------------------------------------


def test_plain_folder_is_walked_and_excluded_folders_pruned(make_repo: MakeRepo) -> None:
    root = make_repo(
        "report-basic",
        {
            "node_modules/left-pad/index.js": "module.exports = 1\n",
            "vendor/github.com/x/y.go": "package y\n",
            "src/payments/build/out.txt": "generated\n",
        },
        use_git=False,
    )
    snapshot = LocalSource(
        root, excluded_dirs=frozenset({"node_modules", "vendor", "build"})
    ).snapshot()
    assert snapshot.target.source == "folder" and snapshot.target.commit is None
    assert "SECURITY.md" in snapshot.paths and "src/payments/app.py" in snapshot.paths
    assert not [
        p for p in snapshot.paths if p.startswith(("node_modules", "vendor")) or "/build/" in p
    ]
    report = scan(root)
    assert report.target.source == "folder"
    assert result(report, "security-policy").status is Status.PASS


def test_untracked_folder_inside_another_repository_is_walked(make_repo: MakeRepo) -> None:
    outer = make_repo(None, {"README.md": "outer\n"})
    inner = outer / "checkouts" / "service"
    inner.mkdir(parents=True)
    (inner / "SECURITY.md").write_text("# Security\n\nReport to security@example.org\n", "utf-8")
    snapshot = LocalSource(inner).snapshot()
    assert snapshot.target.source == "folder"
    assert snapshot.paths == ("SECURITY.md",)


def test_git_lists_only_tracked_files(make_repo: MakeRepo) -> None:
    root = make_repo("report-basic")
    (root / "untracked.txt").write_text("not in git\n", "utf-8")
    snapshot = LocalSource(root).snapshot()
    assert snapshot.target.source == "git" and snapshot.target.commit
    assert "untracked.txt" not in snapshot.paths and "SECURITY.md" in snapshot.paths


def test_empty_repository_without_commits(make_repo: MakeRepo) -> None:
    root = make_repo(None, {"secposture.toml": POLICY}, commit=False)  # staged, never committed
    report = scan(root)
    assert report.target.source == "git" and report.target.commit is None
    assert {r.id for r in report.results} == {
        "ithc",
        "dependabot-security-updates",
        "pr-review-required",
        "secret-scanning",
        "security-policy",
    }
    assert all(isinstance(r.status, Status) for r in report.results)
    assert result(report, "security-policy").status is Status.FAIL


@needs_all_probes
def test_empty_repository_every_shipped_control_gets_a_status(make_repo: MakeRepo) -> None:
    root = make_repo(None, commit=False)
    report = scan(root)
    from secposture.policy import default_policy

    assert {r.id for r in report.results} == {c.id for c in default_policy().enabled_controls()}
    for fmt in FORMATS:
        renderer(fmt)(report, RenderOptions())


# --- files that cannot be used ----------------------------------------------------------------------


def test_binary_security_policy_is_a_problem(make_repo: MakeRepo) -> None:
    root = make_repo("report-basic", {"SECURITY.md": b"%PDF-1.7\n\x00\x01\x02binary"})
    report = scan(root)
    assert problems_for(report, "SECURITY.md") == ["is binary, not text"]
    r = result(report, "security-policy")
    assert r.status is Status.FAIL and "binary" in r.summary


def test_non_utf8_security_policy_is_a_problem(make_repo: MakeRepo) -> None:
    root = make_repo("report-basic", {"SECURITY.md": "# Sécurité\n".encode("latin-1")})
    report = scan(root)
    assert problems_for(report, "SECURITY.md") == ["is not valid UTF-8 (byte 0xe9 at offset 3)"]
    assert result(report, "security-policy").status is Status.FAIL


def test_utf8_bom_is_accepted(make_repo: MakeRepo) -> None:
    root = make_repo(
        "report-basic",
        {"SECURITY.md": "\ufeff# Security\nReport to security@example.org\n".encode()},
    )
    report = scan(root)
    assert result(report, "security-policy").status is Status.PASS


def test_huge_file_over_the_limit_and_raising_it(make_repo: MakeRepo) -> None:
    big = "# Security\n" + "Report vulnerabilities to security@example.org.\n" * 30_000  # ~1.4 MB
    root = make_repo("report-basic", {"SECURITY.md": big})
    report = scan(root)
    [message] = problems_for(report, "SECURITY.md")
    assert "over the 1,048,576-byte limit" in message and "max_file_bytes" in message
    assert result(report, "security-policy").status is Status.FAIL
    # --max-file-size (max_file_bytes) raises it ...
    assert (
        result(scan(root, max_file_bytes=2 * 1024 * 1024), "security-policy").status is Status.PASS
    )
    # ... and so does the policy's limits.max_file_bytes.
    root = make_repo(
        "report-basic",
        {"SECURITY.md": big, "secposture.toml": POLICY + "\n[limits]\nmax_file_bytes = 2097152\n"},
    )
    assert result(scan(root), "security-policy").status is Status.PASS


def test_file_that_grows_past_the_limit_after_the_size_check(
    make_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_repo("report-basic")
    snapshot = LocalSource(root).snapshot()
    snapshot.max_file_bytes = 1024
    real_stat = os.stat

    def small_stat(path: object, *args: object, **kwargs: object) -> os.stat_result:
        st_ = real_stat(path, *args, **kwargs)  # type: ignore[arg-type]
        fields = list(st_)
        fields[stat.ST_SIZE] = 10
        return os.stat_result(fields)

    (root / "SECURITY.md").write_text("x" * 5000, "utf-8")
    monkeypatch.setattr(os, "stat", small_stat)
    with pytest.raises(UnreadableFile, match="over the 1,024-byte limit"):
        snapshot.read_text("SECURITY.md")


# --- links --------------------------------------------------------------------------------------------


def test_link_pointing_outside_is_not_followed(make_repo: MakeRepo, tmp_path: Path) -> None:
    secret = tmp_path / "outside-secret.txt"
    secret.write_text("TOP-SECRET-VALUE\n", "utf-8")
    root = make_repo("report-basic")
    (root / "SECURITY.md").unlink()
    (root / "SECURITY.md").symlink_to(secret)
    commit_all(root)
    report = scan(root)
    assert problems_for(report, "SECURITY.md") == [
        "is a link that points outside the repository; not followed"
    ]
    assert result(report, "security-policy").status is Status.FAIL
    for fmt in FORMATS:
        assert "TOP-SECRET-VALUE" not in renderer(fmt)(report, RenderOptions(verbose=True))


def test_link_to_an_absolute_system_file_is_not_followed(make_repo: MakeRepo) -> None:
    root = make_repo("report-basic")
    (root / "SECURITY.md").unlink()
    (root / "SECURITY.md").symlink_to("/etc/passwd")
    commit_all(root)
    with pytest.raises(UnreadableFile, match="points outside"):
        LocalSource(root).snapshot().read_text("SECURITY.md")


def test_folder_link_on_the_way_out_is_not_followed(make_repo: MakeRepo, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "SECURITY.md").write_text("outside\n", "utf-8")
    root = make_repo("report-basic", use_git=False)
    (root / "docs" / "linked").symlink_to(outside, target_is_directory=True)
    snapshot = LocalSource(root).snapshot()
    assert "docs/linked/SECURITY.md" not in snapshot.paths  # the walk does not follow folder links
    with pytest.raises(UnreadableFile, match="points outside"):
        snapshot.read_text("docs/linked/SECURITY.md")  # nor does a direct read


def test_link_inside_the_repository_is_followed(make_repo: MakeRepo) -> None:
    root = make_repo("report-basic")
    (root / "docs" / "security-policy.md").write_text(
        "# Security\n\nReport to security@example.org\n", "utf-8"
    )
    (root / "SECURITY.md").unlink()
    (root / "SECURITY.md").symlink_to("docs/security-policy.md")
    commit_all(root)
    report = scan(root)
    assert not report.problems
    assert result(report, "security-policy").status is Status.PASS


def test_link_loop_and_dangling_link(make_repo: MakeRepo) -> None:
    root = make_repo("report-basic")
    (root / "SECURITY.md").unlink()
    (root / "SECURITY.md").symlink_to("loop-a")
    (root / "loop-a").symlink_to("loop-b")
    (root / "loop-b").symlink_to("loop-a")
    (root / "dangling.md").symlink_to("does-not-exist.md")
    commit_all(root)
    report = scan(root)
    [message] = problems_for(report, "SECURITY.md")
    assert "symbolic links" in message or "link" in message
    assert result(report, "security-policy").status is Status.FAIL
    with pytest.raises(UnreadableFile, match="dangling"):
        LocalSource(root).snapshot().read_text("dangling.md")


# --- odd files ----------------------------------------------------------------------------------------


def test_unreadable_file_real_permissions(make_repo: MakeRepo) -> None:
    if os.geteuid() == 0:
        pytest.skip(
            "running as root: chmod 000 does not stop root reading; "
            "test_unreadable_file_reported covers the error path"
        )
    root = make_repo("report-basic")
    (root / "SECURITY.md").chmod(0)
    try:
        report = scan(root)
    finally:
        (root / "SECURITY.md").chmod(0o644)
    assert "Permission denied" in problems_for(report, "SECURITY.md")[0]


def test_unreadable_file_reported(make_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    # Root reads any file whatever its mode (CI runs as root), so the OS's refusal is simulated.
    root = make_repo("report-basic")
    real_open = os.open

    def denying_open(file: str, *args: int, **kwargs: int) -> int:
        if str(file).endswith("SECURITY.md"):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(local.os, "open", denying_open)
    report = scan(root)
    assert problems_for(report, "SECURITY.md") == ["cannot be read: Permission denied"]
    assert result(report, "security-policy").status is Status.FAIL


def test_tracked_file_deleted_from_the_working_tree(make_repo: MakeRepo) -> None:
    root = make_repo("report-basic")
    (root / "SECURITY.md").unlink()
    report = scan(root)
    assert problems_for(report, "SECURITY.md") == [
        "is tracked by git but missing from the working tree"
    ]
    assert result(report, "security-policy").status is Status.FAIL


def test_fifo_is_never_opened(make_repo: MakeRepo) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this system")
    root = make_repo("report-basic", use_git=False)
    (root / "SECURITY.md").unlink()
    os.mkfifo(root / "SECURITY.md")
    report = scan(root)  # would block forever if the FIFO were opened
    assert problems_for(report, "SECURITY.md") == ["is not a regular file; not read"]


def test_odd_file_names(make_repo: MakeRepo) -> None:
    root = make_repo("report-basic")
    (root / "docs" / "with space.md").write_text("space\n", "utf-8")
    (root / "docs" / "new\nline.md").write_text("newline\n", "utf-8")
    latin1 = os.fsencode(root / "docs") + b"/caf\xe9.md"
    with open(latin1, "wb") as fh:
        fh.write(b"latin-1 name\n")
    commit_all(root)
    snapshot = LocalSource(root).snapshot()
    odd = {"docs/with space.md", "docs/new\nline.md", "docs/caf\udce9.md"}
    assert odd <= set(snapshot.paths)
    for path in odd:
        assert snapshot.read_text(path)
    report = scan(root)
    for fmt in FORMATS:
        renderer(fmt)(report, RenderOptions(verbose=True)).encode("utf-8")


def test_path_is_a_file_or_missing(tmp_path: Path) -> None:
    f = tmp_path / "a-file"
    f.write_text("x", "utf-8")
    with pytest.raises(SecpostureError, match="not a folder"):
        LocalSource(f).snapshot()
    with pytest.raises(SecpostureError, match="no such folder"):
        LocalSource(tmp_path / "missing").snapshot()


# --- git must not run repository-controlled commands -------------------------------------------------


def test_core_fsmonitor_in_repository_config_does_not_run(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    root = make_repo("report-basic")
    marker = tmp_path / "fsmonitor-ran"
    git(root, "config", "core.fsmonitor", f"touch '{marker}'; false")
    report = scan(root)
    assert result(report, "security-policy").status is Status.PASS
    assert not marker.exists(), "core.fsmonitor from the repository's .git/config ran during a scan"
    # The trap is live: git without our overrides runs it.
    subprocess.run(["git", "-C", str(root), "ls-files"], capture_output=True, check=False)
    assert marker.exists(), (
        "the test's fsmonitor hook did not fire for plain git; the test proves nothing"
    )


def test_git_location_variables_from_the_caller_are_ignored(
    make_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = make_repo(None, {"OTHER.md": "other\n"})
    root = make_repo("report-basic")
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(other))
    snapshot = LocalSource(root).snapshot()
    assert "SECURITY.md" in snapshot.paths and "OTHER.md" not in snapshot.paths


# --- property: any file name and content ------------------------------------------------------------

_name = st.text(
    st.characters(codec="utf-8", exclude_characters="/\x00"), min_size=1, max_size=20
).filter(lambda n: n not in (".", "..", ".git"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files=st.dictionaries(_name, st.binary(max_size=200), min_size=1, max_size=4))
def test_property_any_plain_folder_reads_or_reports(files: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, data in files.items():
            try:
                (root / name).write_bytes(data)
            except OSError:  # a name the file system refuses (too long in bytes)
                continue
        snapshot = LocalSource(root).snapshot()
        for path in snapshot.paths:
            try:
                text = snapshot.read_text(path)
            except UnreadableFile as exc:
                assert str(exc)
            else:
                assert isinstance(text, str)
        json.dumps([p.encode("utf-8", "surrogateescape").hex() for p in snapshot.paths])


def test_head_commit_matches_git_in_every_layout(make_repo: MakeRepo) -> None:
    """HEAD is read from .git as data where it can be; it must agree with git in every layout."""
    from conftest import git

    from secposture.sources.local import LocalSource

    root = make_repo(files={"a.txt": "a\n"})
    expected = git(root, "rev-parse", "HEAD").strip()
    assert LocalSource(root).snapshot().target.commit == expected  # loose ref
    git(root, "pack-refs", "--all")
    assert LocalSource(root).snapshot().target.commit == expected  # packed ref
    git(root, "checkout", "-q", "--detach")
    assert LocalSource(root).snapshot().target.commit == expected  # detached HEAD
    unborn = make_repo(commit=False)
    assert LocalSource(unborn).snapshot().target.commit is None  # no commit yet
    (root / "sub").mkdir()
    (root / "sub" / "b.txt").write_text("b\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "sub")
    assert (
        LocalSource(root / "sub").snapshot().target.commit == git(root, "rev-parse", "HEAD").strip()
    )
