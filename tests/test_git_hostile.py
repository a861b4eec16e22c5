"""A checkout's own `.git` is hostile input (ADR 0003, ADR 0009).

Its config must not make a scan (or `fix --dry-run`) run a program: each known way git runs a
command from a repository's config is planted so that it would create a marker file, the checkout
is scanned and fixed in a dry run through the command line, and no marker may appear. Each trap is
then fired by plain git, which proves the trap was live and the test means something.

Its layout must not make a scan read outside the checkout: links in `.git`, a `.git` file or link
that leads to another repository, a `core.worktree` that names another folder.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import GIT_ENV, MakeRepo, git

from secposture.cli.main import cli
from secposture.sources.local import LocalSource

THREAT_MODEL = "docs/threat-model/README.md"


def commit_all(root: Path, message: str = "change") -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "--no-verify", "-m", message)


def base_repository(make_repo: MakeRepo) -> Path:
    """Two commits, and a threat model with no review date. The scan once asked git for its last
    commit date (`git log -- PATH`, which a lazy fetch could hijack); it no longer dates a threat
    model by a commit (ADR 0015), and the traps below show that no git command it runs fires them."""
    root = make_repo(
        None,
        {
            THREAT_MODEL: "# Threat model\n\nThe service's data flows.\n",
            "notes.txt": "one\n",
            "README.md": "# app\n",
        },
    )
    (root / THREAT_MODEL).write_text("# Threat model\n\nThe service's data flows, again.\n")
    (root / "notes.txt").write_text("two\n", "utf-8")
    commit_all(root)
    return root


def scan_and_fix(root: Path) -> dict[str, object]:
    """A full scan and a `fix --dry-run`, as a user runs them; the scan's JSON report."""
    runner = CliRunner()
    scanned = runner.invoke(
        cli, ["scan", str(root), "--offline", "--format", "json"], catch_exceptions=False
    )
    assert scanned.exit_code in (0, 1), scanned.output
    fixed = runner.invoke(cli, ["fix", str(root), "--dry-run"], catch_exceptions=False)
    assert fixed.exit_code == 0, fixed.output
    report: dict[str, object] = json.loads(scanned.stdout)
    return report


# --- the traps ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Planted:
    root: Path
    marker: Path
    command: str  # a shell command that creates the marker and fails
    script: Path  # an executable that does the same (for keys git runs without a shell)
    upstream: Path  # another repository on disk, for remotes that are local paths


Plant = Callable[[Planted], None]


def config(p: Planted, *pairs: tuple[str, str]) -> None:
    for key, value in pairs:
        git(p.root, "config", key, value)


def attributes(p: Planted, line: str) -> None:
    # .git/info/attributes: no tracked file changes, and git reads it like .gitattributes.
    info = p.root / ".git" / "info"
    info.mkdir(exist_ok=True)
    with (info / "attributes").open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def lazy_fetch(p: Planted, url: str) -> None:
    """A partial clone missing an object that `git log -- PATH` needs: git fetches it from the
    promisor remote, which runs whatever that remote's config names."""
    config(
        p,
        ("core.repositoryformatversion", "1"),
        ("extensions.partialClone", "origin"),
        ("remote.origin.url", url),
        ("remote.origin.promisor", "true"),
        ("remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*"),
    )
    tree = git(p.root, "rev-parse", "HEAD~1^{tree}").strip()
    (p.root / ".git" / "objects" / tree[:2] / tree[2:]).unlink()


def signed_head(p: Planted) -> None:
    """Make HEAD a commit with a (made-up) signature, so that showing it runs gpg.program."""
    tree = git(p.root, "rev-parse", "HEAD^{tree}").strip()
    parent = git(p.root, "rev-parse", "HEAD").strip()
    body = (
        f"tree {tree}\nparent {parent}\n"
        "author Test <test@example.org> 1793534400 +0000\n"
        "committer Test <test@example.org> 1793534400 +0000\n"
        "gpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEE\n -----END PGP SIGNATURE-----\n"
        "\nsigned\n"
    )
    proc = subprocess.run(
        ["git", "-C", str(p.root), "hash-object", "-t", "commit", "-w", "--stdin"],
        input=body,
        capture_output=True,
        text=True,
        check=True,
    )
    git(p.root, "update-ref", "refs/heads/main", proc.stdout.strip())


def hooks(p: Planted, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in (
        "pre-commit",
        "commit-msg",
        "post-commit",
        "post-checkout",
        "post-index-change",
        "reference-transaction",
        "pre-auto-gc",
        "fsmonitor-watchman",
    ):
        hook = folder / name
        hook.write_text(f"#!/bin/sh\ntouch '{p.marker}'\nexit 0\n", "utf-8")
        hook.chmod(0o755)


def conflicting_branch(p: Planted) -> None:
    """A branch whose notes.txt conflicts with main's, so merging it runs the merge driver."""
    git(p.root, "branch", "other", "HEAD~1")
    git(p.root, "checkout", "-q", "other")
    (p.root / "notes.txt").write_text("three\n", "utf-8")
    commit_all(p.root, "other")
    git(p.root, "checkout", "-q", "main")


def include_file(p: Planted) -> None:
    (p.root / ".git" / "more.gitconfig").write_text(
        f'[core]\n\tfsmonitor = "{p.command}"\n[remote "origin"]\n\tuploadpack = "{p.command}"\n',
        "utf-8",
    )


def remote_helper(p: Planted) -> None:
    """git-remote-evil in the checkout: git runs it for remote.<name>.vcs = evil when a relative
    folder on PATH ("." here, see the test) leads to the checkout, where git runs."""
    helper = p.root / "git-remote-evil"
    helper.write_text(f"#!/bin/sh\ntouch '{p.marker}'\nexit 1\n", "utf-8")
    helper.chmod(0o755)


def evil_hooks_path(p: Planted) -> None:
    hooks(p, p.root / ".git" / "evil-hooks")


def git_hooks(p: Planted) -> None:
    hooks(p, p.root / ".git" / "hooks")


@dataclass(frozen=True)
class Trap:
    """A way git runs a command named by a repository's config, and a plain git command that
    runs it. {command}, {script}, {marker} and {upstream} in the settings are filled in."""

    id: str
    settings: tuple[tuple[str, str], ...]
    trigger: tuple[str, ...]
    lazy_from: str | None = None  # a partial clone whose promisor remote is this URL
    attributes: str | None = None  # a line for .git/info/attributes
    prepare: Plant | None = None  # anything else the trap needs
    stdin: str = ""
    tty: bool = False  # the trigger needs a terminal (a pager)

    def plant(self, p: Planted) -> None:
        def fill(text: str) -> str:
            return text.format(
                command=p.command, script=p.script, marker=p.marker, upstream=p.upstream
            )

        if self.prepare is not None:
            self.prepare(p)
        if self.lazy_from is not None:
            lazy_fetch(p, fill(self.lazy_from))
        if self.attributes is not None:
            attributes(p, self.attributes)
        config(p, *((fill(key), fill(value)) for key, value in self.settings))


CREDENTIAL_QUESTION = "protocol=https\nhost=git.example.invalid\n\n"
LOG_THREAT_MODEL = ("log", "-1", "--format=%cI", "--", THREAT_MODEL)
COMMIT = ("commit", "--allow-empty", "-m", "x")

TRAPS = [
    Trap("core.fsmonitor", (("core.fsmonitor", "{command}"),), ("ls-files",)),
    Trap(
        "lazy fetch: remote.<name>.uploadpack (a local path)",
        (("remote.origin.uploadpack", "{command}"),),
        LOG_THREAT_MODEL,
        lazy_from="{upstream}",
    ),
    Trap(
        "lazy fetch: uploadpack with protocol.file.allow=always",
        (("remote.origin.uploadpack", "{command}"), ("protocol.file.allow", "always")),
        LOG_THREAT_MODEL,
        lazy_from="{upstream}",
    ),
    Trap(
        "lazy fetch: core.sshCommand",
        (("core.sshCommand", "{command}"),),
        LOG_THREAT_MODEL,
        lazy_from="ssh://git.example.invalid/acme/app.git",
    ),
    Trap(
        "lazy fetch: ext:: URL with protocol.ext.allow=always",
        (("protocol.ext.allow", "always"),),
        LOG_THREAT_MODEL,
        lazy_from="ext::sh {script}",
    ),
    Trap(
        "lazy fetch: url.<base>.insteadOf redirecting to ext::",
        (
            ("url.ext::sh {script} .insteadOf", "https://git.example.invalid/"),
            ("protocol.ext.allow", "always"),
        ),
        LOG_THREAT_MODEL,
        lazy_from="https://git.example.invalid/acme/app.git",
    ),
    Trap(
        "lazy fetch: core.gitProxy",
        (("core.gitProxy", "{script}"),),
        LOG_THREAT_MODEL,
        lazy_from="git://git.example.invalid/acme/app.git",
    ),
    Trap(
        "include.path: another config file with core.fsmonitor and an uploadpack",
        (("include.path", "more.gitconfig"),),
        ("ls-files",),
        lazy_from="{upstream}",
        prepare=include_file,
    ),
    Trap(
        "core.pager",
        (("core.pager", "touch '{marker}'; cat"), ("pager.log", "true")),
        ("log", "-1"),
        tty=True,
    ),
    Trap(
        "core.editor",
        (("core.editor", "{command}"),),
        ("commit", "--amend", "--allow-empty", "--no-verify"),
    ),
    Trap("sequence.editor", (("sequence.editor", "{command}"),), ("rebase", "-i", "HEAD~1")),
    Trap(
        "core.askPass",
        (("core.askPass", "{script}"),),
        ("credential", "fill"),
        stdin=CREDENTIAL_QUESTION,
    ),
    Trap(
        "credential.helper",
        (("credential.helper", "!f() {{ touch '{marker}'; }}; f"),),
        ("credential", "fill"),
        stdin=CREDENTIAL_QUESTION,
    ),
    Trap("diff.external", (("diff.external", "{command}"),), ("diff", "HEAD~1", "HEAD")),
    Trap(
        "diff.<driver>.textconv",
        (("diff.evil.textconv", "touch '{marker}'; cat"),),
        ("show", "HEAD"),
        attributes="* diff=evil",
    ),
    Trap(
        "filter.<driver>.clean",
        (("filter.evil.clean", "{command}"),),
        ("hash-object", "notes.txt"),
        attributes="* filter=evil",
    ),
    Trap(
        "filter.<driver>.smudge",
        (("filter.evil.smudge", "{command}"),),
        ("checkout-index", "--temp", "notes.txt"),
        attributes="* filter=evil",
    ),
    Trap(
        "filter.<driver>.process",
        (("filter.evil.process", "{command}"),),
        ("hash-object", "notes.txt"),
        attributes="* filter=evil",
    ),
    Trap(
        "gpg.program with log.showSignature",
        (("gpg.program", "{script}"), ("log.showSignature", "true")),
        ("log", "-1"),
        prepare=signed_head,
    ),
    Trap(
        "core.hooksPath",
        (("core.hooksPath", ".git/evil-hooks"),),
        COMMIT,
        prepare=evil_hooks_path,
    ),
    Trap(".git/hooks", (), COMMIT, prepare=git_hooks),
    Trap(
        "merge.<driver>.driver",
        (("merge.evil.driver", "{command}"),),
        ("merge", "--no-edit", "other"),
        attributes="notes.txt merge=evil",
        prepare=conflicting_branch,
    ),
    Trap(
        "lazy fetch: remote.<name>.vcs, a remote helper in the checkout found through PATH",
        (("remote.origin.vcs", "evil"),),
        LOG_THREAT_MODEL,
        lazy_from="https://git.example.invalid/acme/app.git",
        prepare=remote_helper,
    ),
    Trap(
        "remote.<name>.receivepack",
        (("remote.origin.url", "{upstream}"), ("remote.origin.receivepack", "{command}")),
        ("push", "origin", "HEAD:refs/heads/x"),
    ),
]

# Set by a user's shell, these would decide instead of the repository's config when the trap is
# fired (and the suite's own settings would stop it).
_TRIGGER_UNSET = (
    "GIT_EDITOR", "VISUAL", "EDITOR", "GIT_SEQUENCE_EDITOR", "GIT_ASKPASS", "SSH_ASKPASS",
    "GIT_PAGER", "PAGER", "GIT_EXTERNAL_DIFF", "GIT_SSH", "GIT_SSH_COMMAND", "GIT_PROXY_COMMAND",
    "GIT_TERMINAL_PROMPT", "GIT_ALLOW_PROTOCOL", "GIT_NO_LAZY_FETCH", "GIT_CONFIG_PARAMETERS",
)  # fmt: skip


def fire(root: Path, trap: Trap) -> None:
    env = {k: v for k, v in os.environ.items() if k not in _TRIGGER_UNSET}
    env.update(GIT_ENV)
    env["TERM"] = "xterm"
    command = ["git", "-C", str(root), *trap.trigger]
    if not trap.tty:
        subprocess.run(
            command, input=trap.stdin, env=env, capture_output=True, text=True, timeout=60
        )
        return
    leader, follower = pty.openpty()
    try:
        subprocess.run(
            command, stdin=subprocess.DEVNULL, stdout=follower, stderr=follower, env=env, timeout=60
        )
    finally:
        os.close(follower)
        os.close(leader)


@pytest.fixture
def planted(make_repo: MakeRepo, tmp_path: Path) -> Planted:
    root = base_repository(make_repo)
    marker = tmp_path / "command-ran"
    script = root / ".git" / "trap.sh"
    script.write_text(f"#!/bin/sh\ntouch '{marker}'\nexit 1\n", "utf-8")
    script.chmod(0o755)
    upstream = make_repo(None, {"README.md": "# upstream\n"})
    return Planted(root, marker, f"touch '{marker}'; false", script, upstream)


@pytest.mark.parametrize("trap", TRAPS, ids=[t.id for t in TRAPS])
def test_repository_config_never_runs_a_command(
    planted: Planted, trap: Trap, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A user's PATH may hold "." (or an empty entry): git looks up programs it runs there too.
    monkeypatch.setenv("PATH", os.pathsep.join([".", os.environ["PATH"]]))
    trap.plant(planted)
    scan_and_fix(planted.root)
    assert not planted.marker.exists(), f"{trap.id} from the checkout's .git/config ran"
    fire(planted.root, trap)
    assert planted.marker.exists(), f"plain `git {' '.join(trap.trigger)}` did not run {trap.id}"


def test_lazy_fetch_is_refused_and_the_scan_still_gives_a_verdict(planted: Planted) -> None:
    lazy_fetch(planted, str(planted.upstream))
    config(planted, ("remote.origin.uploadpack", planted.command))
    report = scan_and_fix(planted.root)
    assert not planted.marker.exists()
    threat_model = next(c for c in report["controls"] if c["id"] == "threat-model")  # type: ignore[attr-defined]
    assert threat_model["status"] == "partial"  # undated: never dated by a commit (ADR 0015)


def test_git_on_path_is_never_taken_from_the_checkout(
    make_repo: MakeRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With "." (or an empty entry) on PATH, `git` would name a program in the checkout."""
    marker = tmp_path / "fake-git-ran"
    root = make_repo(None, {"README.md": "# app\n"})
    fake = root / "git"
    fake.write_text(f"#!/bin/sh\ntouch '{marker}'\nexit 1\n", "utf-8")
    fake.chmod(0o755)
    monkeypatch.chdir(root)
    monkeypatch.setenv("PATH", os.pathsep.join([".", "", os.environ["PATH"]]))
    snapshot = LocalSource(Path(".")).snapshot()
    assert not marker.exists()
    assert snapshot.target.source == "git" and "README.md" in snapshot.paths


# --- the layout of .git must not lead a scan outside the checkout ----------------------------------

HEX64 = "ab" * 32
HEX40 = "cd" * 20


def outside_file(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir(exist_ok=True)
    path = folder / "x"
    path.write_text(text + "\n", "utf-8")
    return path


def rendered(root: Path) -> str:
    """Every report format of a scan of `root`, and `fix --dry-run`'s output, in one text."""
    runner = CliRunner()
    out = []
    for fmt in ("json", "sarif", "markdown", "html", "terminal"):
        result = runner.invoke(
            cli, ["scan", str(root), "--offline", "--verbose", "--format", fmt],
            catch_exceptions=False,
        )  # fmt: skip
        assert result.exit_code in (0, 1), result.output
        out.append(result.output)
    fixed = runner.invoke(cli, ["fix", str(root), "--dry-run"], catch_exceptions=False)
    assert fixed.exit_code == 0, fixed.output
    return "\n".join([*out, fixed.output])


def problems(root: Path) -> list[dict[str, object]]:
    result = CliRunner().invoke(
        cli, ["scan", str(root), "--offline", "--format", "json"], catch_exceptions=False
    )
    found: list[dict[str, object]] = json.loads(result.stdout)["problems"]
    return found


@pytest.mark.parametrize("secret", [HEX64, HEX40], ids=["64 hex", "40 hex"])
def test_linked_refs_folder_does_not_leak_an_outside_file(
    make_repo: MakeRepo, tmp_path: Path, secret: str
) -> None:
    outside = outside_file(tmp_path, secret).parent
    root = make_repo(None, {"README.md": "# app\n"})
    (root / ".git" / "refs").rename(root / ".git" / "refs.real")
    (root / ".git" / "refs").symlink_to(outside, target_is_directory=True)
    (root / ".git" / "HEAD").write_text("ref: refs/x\n", "utf-8")
    snapshot = LocalSource(root).snapshot()
    assert snapshot.target.commit != secret
    assert "README.md" in snapshot.paths
    assert secret not in rendered(root)
    [problem] = problems(root)
    assert problem["path"] == ".git/refs" and "outside" in str(problem["message"])


def test_link_deeper_in_refs_does_not_leak_an_outside_file(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    outside = outside_file(tmp_path, HEX40).parent
    root = make_repo(None, {"README.md": "# app\n"})
    (root / ".git" / "refs" / "evil").symlink_to(outside, target_is_directory=True)
    (root / ".git" / "HEAD").write_text("ref: refs/evil/x\n", "utf-8")
    snapshot = LocalSource(root).snapshot()
    assert snapshot.target.source == "git"
    assert snapshot.target.commit is None  # git cannot name a commit that is not in the repository
    assert HEX40 not in rendered(root)


def test_linked_head_and_packed_refs_do_not_leak_an_outside_file(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    secret = outside_file(tmp_path, HEX40)
    packed = tmp_path / "outside" / "packed-refs"
    packed.write_text(f"{HEX40} refs/heads/main\n", "utf-8")
    head_link = make_repo(None, {"README.md": "# app\n"})
    (head_link / ".git" / "HEAD").unlink()
    (head_link / ".git" / "HEAD").symlink_to(secret)
    packed_link = make_repo(None, {"README.md": "# app\n"})
    (packed_link / ".git" / "refs" / "heads" / "main").unlink()
    (packed_link / ".git" / "packed-refs").symlink_to(packed)
    for root in (head_link, packed_link):
        assert LocalSource(root).snapshot().target.commit != HEX40
        assert HEX40 not in rendered(root)


def test_git_folder_that_leads_to_another_repository_is_not_used(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    other = make_repo(None, {"PRIVATE-PLANS.md": "# plans\n"})
    other_head = git(other, "rev-parse", "HEAD").strip()
    linked = make_repo(None, {"README.md": "# app\n"}, use_git=False)
    (linked / ".git").symlink_to(other / ".git", target_is_directory=True)
    pointer = make_repo(None, {"README.md": "# app\n"}, use_git=False)
    (pointer / ".git").write_text(f"gitdir: {other / '.git'}\n", "utf-8")
    for root in (linked, pointer):
        snapshot = LocalSource(root).snapshot()
        assert snapshot.target.source == "folder"
        assert snapshot.paths == ("README.md",)
        text = rendered(root)
        assert "PRIVATE-PLANS" not in text and other_head not in text
        [problem] = problems(root)
        assert problem["path"] == ".git" and "does not name this checkout" in str(
            problem["message"]
        )


@pytest.mark.parametrize("entry", ["index", "objects", "config", "commondir"])
def test_git_folder_entries_that_lead_to_another_repository_are_not_used(
    make_repo: MakeRepo, entry: str
) -> None:
    other = make_repo(None, {"PRIVATE-PLANS.md": "# plans\n"})
    root = make_repo(None, {"README.md": "# app\n"})
    if entry == "commondir":
        (root / ".git" / "commondir").write_text(f"{other / '.git'}\n", "utf-8")
    else:
        target = root / ".git" / entry
        if target.is_dir():
            target.rename(root / ".git" / f"{entry}.real")
        else:
            target.unlink()
        target.symlink_to(other / ".git" / entry)
    snapshot = LocalSource(root).snapshot()
    assert "PRIVATE-PLANS.md" not in snapshot.paths
    assert snapshot.target.commit != git(other, "rev-parse", "HEAD").strip()
    assert "PRIVATE-PLANS" not in rendered(root)
    [problem] = problems(root)
    assert problem["path"] == f".git/{entry}"


def test_git_folder_linked_inside_the_checkout_is_used(make_repo: MakeRepo) -> None:
    root = make_repo(None, {"README.md": "# app\n"})
    head = git(root, "rev-parse", "HEAD").strip()
    (root / ".git").rename(root / ".git-real")
    (root / ".git").symlink_to(".git-real", target_is_directory=True)
    snapshot = LocalSource(root).snapshot()
    assert snapshot.target.source == "git" and snapshot.target.commit == head


def test_a_worktree_and_a_separate_git_folder_that_names_its_work_tree_are_used(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    main = make_repo(None, {"README.md": "# app\n"})
    head = git(main, "rev-parse", "HEAD").strip()
    worktree = tmp_path / "worktree"
    git(main, "worktree", "add", "-q", "--detach", str(worktree))
    snapshot = LocalSource(worktree).snapshot()
    assert snapshot.target.source == "git" and snapshot.target.commit == head
    assert snapshot.paths == ("README.md",)

    separate = tmp_path / "separate"
    git(tmp_path, "init", "-q", "--separate-git-dir", str(tmp_path / "separate.git"), str(separate))
    (separate / "README.md").write_text("# app\n", "utf-8")
    commit_all(separate)
    # Nothing in a separate git folder names its work tree: it is not used until it does.
    snapshot = LocalSource(separate).snapshot()
    assert snapshot.target.source == "folder"
    [problem] = problems(separate)
    assert "core.worktree" in str(problem["message"])
    git(separate, "config", "core.worktree", "../separate")  # as a submodule's git folder does
    snapshot = LocalSource(separate).snapshot()
    assert snapshot.target.source == "git" and snapshot.paths == ("README.md",)
    assert snapshot.target.commit == git(separate, "rev-parse", "HEAD").strip()


def test_core_worktree_naming_another_folder_is_not_followed(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    """The checkout's own config cannot move the scan to another folder."""
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "sub").mkdir(parents=True)
    (elsewhere / "SECURITY.md").write_text("TOP-SECRET-VALUE\n", "utf-8")
    root = make_repo(None, {"SECURITY.md": "# Security\n", "sub/a.txt": "a\n"})
    (root / "SECURITY.md").unlink()  # tracked, missing from the working tree
    git(root, "config", "core.worktree", str(elsewhere))
    for where in (root, root / "sub"):
        snapshot = LocalSource(where).snapshot()
        assert snapshot.root == root
        text = rendered(where)
        assert "TOP-SECRET-VALUE" not in text


# --- a subfolder of a checkout: the repository is scanned ------------------------------------------


def test_scanning_a_subfolder_scans_the_repository_and_says_so(
    make_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_repo(
        None,
        {
            "SECURITY.md": "# Security\n\nReport to security@example.org\n",
            "services/api/app.py": "print('hi')\n",
        },
    )
    runner = CliRunner()
    for args, cwd in (
        (["scan", "services/api"], root),
        (["scan"], root / "services" / "api"),
        (["scan", "."], root / "services"),
    ):
        monkeypatch.chdir(cwd)
        result = runner.invoke(
            cli, [*args, "--offline", "--format", "json"], catch_exceptions=False
        )
        report = json.loads(result.stdout)
        assert report["target"]["path"] == str(root)
        assert report["target"]["source"] == "git"
        policy = next(c for c in report["controls"] if c["id"] == "security-policy")
        assert policy["status"] == "pass"
        assert f"scanning the repository at {root} (the top level of " in result.stderr
        assert "(the top level of .)" not in result.stderr  # "." is named


def test_fixing_from_a_subfolder_fixes_the_repository_and_says_so(
    make_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_repo(None, {"services/api/app.py": "print('hi')\n"})
    monkeypatch.chdir(root / "services")
    result = CliRunner().invoke(cli, ["fix", "api"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"fixing the repository at {root} (the top level of api)" in result.stderr
    assert (root / "SECURITY.md").is_file()
    assert not (root / "services" / "api" / "SECURITY.md").exists()
    assert not (root / "services" / "SECURITY.md").exists()


def test_untracked_folder_inside_another_repository_is_walked_not_its_repository(
    make_repo: MakeRepo,
) -> None:
    outer = make_repo(None, {"README.md": "outer\n", "OUTER-ONLY.md": "x\n"})
    inner = outer / "checkouts" / "service"
    inner.mkdir(parents=True)
    (inner / "SECURITY.md").write_text("# Security\n\nReport to security@example.org\n", "utf-8")
    result = CliRunner().invoke(
        cli, ["scan", str(inner), "--offline", "--format", "json"], catch_exceptions=False
    )
    report = json.loads(result.stdout)
    assert report["target"]["source"] == "folder" and report["target"]["path"] == str(inner)
    assert "scanning the repository" not in result.stderr
    assert LocalSource(inner).snapshot().paths == ("SECURITY.md",)


def test_the_remote_is_never_read_from_a_config_file_outside_the_checkout(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    """The remote names the repository whose settings a token reads: an include.path that
    leads to another repository's config must not choose it."""
    from secposture.sources.github.remote import checkout_remote

    outside = tmp_path / "another.gitconfig"
    outside.write_text('[remote "origin"]\n\turl = https://github.com/victim/private\n', "utf-8")
    root = make_repo(None, {"README.md": "# app\n", "sub/a.txt": "a\n"})
    git(root, "config", "include.path", str(outside))
    assert checkout_remote(root, "github.com") is None
    git(root, "config", "remote.upstream.url", "https://github.com/acme/app.git")
    for where in (root, root / "sub"):
        remote = checkout_remote(where, "github.com")
        assert remote is not None and remote.full_name == "acme/app"


def test_the_project_starts_processes_in_one_place() -> None:
    """git is started only by sources/local.py's _start_git, with the safe settings: a new call
    elsewhere would bypass them."""
    import ast

    import secposture

    spawners = {
        "subprocess": {"Popen", "run", "call", "check_call", "check_output", "getoutput"},
        "os": {"system", "popen", "posix_spawn", "posix_spawnp"}
        | {f"{verb}{tail}" for verb in ("exec", "spawn") for tail in ("l", "lp", "v", "vp")},
        "asyncio": {"create_subprocess_exec", "create_subprocess_shell"},
    }
    found = []
    package = Path(secposture.__file__).parent
    for source in sorted(package.rglob("*.py")):
        tree = ast.parse(source.read_text("utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef):
                continue
            for call in ast.walk(node):
                if (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Attribute)
                    and isinstance(call.func.value, ast.Name)
                    and call.func.attr in spawners.get(call.func.value.id, ())
                ):
                    found.append(f"{source.relative_to(package)}:{node.name}")
    assert found == ["sources/local.py:_start_git"]
