"""What `secposture fix` does to the corpus's workflows (issue 12): each repository of
tests/corpus/corpus.toml checked out at its pinned commit (from the local mirrors, as
agreement.py does), fixed offline for the three workflow controls only, committed, and scanned
again as agreement.py scans (no token, the references read from their mirrors).

    .venv/bin/python tests/corpus/fix_workflows.py            # the table and the totals
    .venv/bin/python tests/corpus/fix_workflows.py --repo pallets/flask -v
    .venv/bin/python tests/corpus/fix_workflows.py --pins mirror   # tags as a token would pin them

Counted per workflow file (each file of .github/workflows/ and each local action.yml):
whether any finding of the three controls' probes that names the file is negative or unknown,
before and after; and per file fix edited, whether actionlint (if installed) reports anything it
did not report before, and whether a second fix changes it again.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from agreement import CORPUS, DEFAULT_MIRRORS, LABELLED_ON, checkout, ensure_mirror, load_corpus

CONTROLS = ("actions-pinned", "workflow-permissions", "dangerous-workflow")


def _git(work: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "corpus",
        "GIT_AUTHOR_EMAIL": "corpus@example.org",
        "GIT_COMMITTER_NAME": "corpus",
        "GIT_COMMITTER_EMAIL": "corpus@example.org",
    }
    proc = subprocess.run(
        ["git", *args], cwd=work, capture_output=True, text=True, env=env, check=True
    )
    return proc.stdout


def _scan(work: Path, mirrors: Path, name: str) -> dict[str, tuple[str, set[str]]]:
    """Per control: its status, and the files its failing or unknown findings name."""
    from secposture.model import Outcome
    from secposture.scan import scan_path
    from secposture.sources.references.mirror import MirrorReferences

    report, _ = scan_path(
        work, today=LABELLED_ON, references=MirrorReferences(mirrors), repository=name
    )
    out: dict[str, tuple[str, set[str]]] = {}
    for result in report.results:
        if result.id in CONTROLS:
            bad = {
                f.location.path
                for f in result.findings
                if f.outcome in (Outcome.NEGATIVE, Outcome.UNKNOWN) and f.location is not None
            }
            out[result.id] = (result.status.value, bad)
    return out


class MirrorPins:
    """What a token would give (`GitHubPins`), from the local mirrors instead of GitHub: the
    commit each tag or branch names in the mirror of its repository (for --pins mirror)."""

    def __init__(self, mirrors: Path) -> None:
        self.mirrors = mirrors

    def prepare(self, wanted: object) -> None:
        return None

    def pin(self, repo: str, ref: str) -> object:
        from secposture.fix.action_pins import FULL_SHA, Pin

        mirror = self.mirrors / repo.replace("/", "+") / "repo"
        if not mirror.is_dir():
            return f"{repo} has no mirror"
        for name, branch in ((f"refs/tags/{ref}", False), (f"refs/heads/{ref}", True)):
            proc = subprocess.run(
                ["git", "-C", str(mirror), "rev-parse", "--verify", "-q", f"{name}^{{commit}}"],
                capture_output=True,
                text=True,
                check=False,
            )
            sha = proc.stdout.strip()
            if proc.returncode == 0 and FULL_SHA.fullmatch(sha):
                return Pin(sha, "the mirror", branch=branch)
        return f"`{ref}` is not a tag or branch of {repo}'s mirror"


def _fix(work: Path, mirrors: Path, pins: str = "table") -> dict[str, object]:
    """`secposture fix --offline --only ...` as the command makes it, but with the references
    read from the mirrors (the command would read them from GitHub, or its cache)."""
    from secposture import catalogue
    from secposture.fix.action_pins import TablePins
    from secposture.fix.apply import apply_plan, reconcile
    from secposture.fix.plan import plan_fixes
    from secposture.policy import default_policy, resolve_policy
    from secposture.scan import scan_snapshot
    from secposture.sources.local import LocalSource
    from secposture.sources.references.mirror import MirrorReferences

    defaults = catalogue.load("defaults")
    snapshot = LocalSource(work, excluded_dirs=frozenset(defaults["excluded_dirs"])).snapshot()
    snapshot.references = MirrorReferences(mirrors)
    resolved = resolve_policy(snapshot, default_policy(), trusted=True)
    report = scan_snapshot(snapshot, resolved.policy, LABELLED_ON, own=resolved.own)
    source = MirrorPins(mirrors) if pins == "mirror" else TablePins()
    plan = plan_fixes(
        snapshot,
        resolved.policy,
        report,
        only=CONTROLS,
        today=LABELLED_ON,
        pins=source,  # type: ignore[arg-type]
    )
    reconciled = reconcile(work, plan, force=False)
    apply_plan(work, reconciled.plan)
    return {
        "changes": [{"path": c.path, "after": c.after} for c in reconciled.plan.changes],
        "notes": list(reconciled.plan.notes),
        "skipped": [{"reason": s.reason} for s in reconciled.plan.skipped],
    }


def _workflow_files(work: Path) -> list[str]:
    tracked = _git(work, "ls-files", "-z").split("\0")
    return [
        p
        for p in tracked
        if (
            p.startswith(".github/workflows/")
            and p.count("/") == 2
            and p.endswith((".yml", ".yaml"))
        )
        or p.rsplit("/", 1)[-1] in ("action.yml", "action.yaml")
    ]


def _actionlint(work: Path, paths: list[str]) -> set[str]:
    binary = shutil.which("actionlint") or str(Path(sys.executable).with_name("actionlint"))
    workflows = [p for p in paths if p.startswith(".github/workflows/")]
    if not workflows or not Path(binary).exists():
        return set()
    proc = subprocess.run(
        [
            binary,
            "-oneline",
            "-no-color",
            "-shellcheck=",
            "-pyflakes=",
            "-format",
            "{{range $e := .}}{{$e.Filepath}}|{{$e.Kind}}|{{$e.Message}}\n{{end}}",
            *workflows,
        ],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return {line for line in proc.stdout.splitlines() if line.strip()}


def run(args: argparse.Namespace) -> int:
    corpus = load_corpus(args.corpus)
    os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="secposture-corpus-data-")
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "SECPOSTURE_DATABASE_URL"):
        os.environ.pop(name, None)
    totals: Counter[str] = Counter()
    moves: Counter[tuple[str, str, str]] = Counter()
    print(f"{'repository':52} {'files':>5} {'clean before':>12} {'after':>5}  controls")
    for repo in corpus["repository"]:  # type: ignore[index]
        name = repo["name"]
        if args.repo and name not in args.repo:
            continue
        mirror = ensure_mirror(args.mirrors, name, False)
        if mirror is None:
            print(f"skipped {name}: no mirror", file=sys.stderr)
            continue
        with checkout(mirror, repo["commit"]) as work:
            files = _workflow_files(work)
            before = _scan(work, args.mirrors, name)
            texts = {p: (work / p).read_bytes() for p in files}
            lint_before = _actionlint(work, files)
            data = _fix(work, args.mirrors, args.pins)
            _git(work, "add", "-A")
            _git(work, "commit", "-q", "--no-verify", "--allow-empty", "-m", "fix")
            after = _scan(work, args.mirrors, name)
            edited = [p for p in files if (work / p).read_bytes() != texts[p]]
            lint_after = _actionlint(work, edited)
            strip = {line.split("|", 1)[0] + "|" + line.split("|", 2)[1] for line in lint_before}
            new_lint = [
                line
                for line in lint_after
                if line.split("|", 1)[0] + "|" + line.split("|", 2)[1] not in strip
                and "potentially untrusted" not in line
            ]
            second = _fix(work, args.mirrors, args.pins)
        bad_before = set().union(*(b for _, b in before.values())) & set(files)
        bad_after = set().union(*(b for _, b in after.values())) & set(files)
        reviews = sum(
            str(c["after"]).count("# secposture: review:")  # type: ignore[index]
            for c in data["changes"]  # type: ignore[attr-defined]
        )
        totals["repositories"] += 1
        totals["files"] += len(files)
        totals["clean before"] += len(files) - len(bad_before)
        totals["clean after"] += len(files) - len(bad_after)
        totals["edited"] += len(edited)
        totals["edited with new actionlint errors"] += len(
            {line.split("|")[0] for line in new_lint}
        )
        totals["changed again by a second fix"] += len(second["changes"])  # type: ignore[arg-type]
        totals["review comments"] += reviews
        states = []
        for control in CONTROLS:
            was, now = before[control][0], after[control][0]
            moves[(control, was, now)] += 1
            states.append(f"{control.split('-')[0][:8]} {was}->{now}")
        print(
            f"{name:52} {len(files):5} {len(files) - len(bad_before):12} "
            f"{len(files) - len(bad_after):5}  {'; '.join(states)}"
        )
        if args.verbose:
            for change in second["changes"]:  # type: ignore[attr-defined]
                print(f"    changed again: {change['path']}")
            for line in new_lint:
                print(f"    actionlint: {line}")
            for note in data["notes"]:  # type: ignore[union-attr]
                print(f"    note: {str(note)[:300]}")
            for skipped in data["skipped"]:  # type: ignore[union-attr]
                print(f"    not changed: {str(skipped['reason'])[:300]}")  # type: ignore[index]
    print()
    for key, value in totals.items():
        print(f"{key:40} {value}")
    print("\ncontrol status, before -> after:")
    for (control, was, now), count in sorted(moves.items()):
        print(f"  {control:22} {was:15} -> {now:15} {count}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--mirrors", type=Path, default=DEFAULT_MIRRORS)
    parser.add_argument("--repo", action="append", help="only this repository (repeatable)")
    parser.add_argument("-v", "--verbose", action="store_true", help="notes and actionlint")
    parser.add_argument(
        "--pins",
        choices=("table", "mirror"),
        default="table",
        help="pin from secposture's table (as offline), or from the mirrors (as with a token)",
    )
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
