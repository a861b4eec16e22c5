"""How often secposture agrees with the hand-made labels of the corpus (tests/corpus/corpus.toml).

Each repository is checked out at its pinned commit from a local mirror (a bare git directory,
`MIRRORS/OWNER+NAME/repo`, as the search tool's fetch leaves it; `--clone` clones missing ones
from github.com instead) and scanned as the labels assume: a checkout, no token, no register.
The files of the repositories a label followed (its `references`) are read from their mirrors,
so that shared workflows, actions and hook repositories are followed offline, at the refs the
repositories pin.

    .venv/bin/python tests/corpus/agreement.py                 # the table, and each disagreement
    .venv/bin/python tests/corpus/agreement.py --json out.json # the figures for the README
    .venv/bin/python tests/corpus/agreement.py --repo alphagov/signon -v

Agreement is counted per (repository, control): the scan's status equals the label's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import tomllib
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

CORPUS = Path(__file__).with_name("corpus.toml")
DEFAULT_MIRRORS = Path("/work/.mirror")
LABELLED_ON = date(2026, 12, 7)


@dataclass(frozen=True)
class Outcome:
    repository: str
    control: str
    label: str
    scanned: str | None  # None: the scan had no result for the control
    evidence: str  # the label's
    summary: str  # the scan's

    @property
    def agrees(self) -> bool:
        return self.label == self.scanned


def load_corpus(path: Path = CORPUS) -> dict[str, object]:
    return tomllib.loads(path.read_text("utf-8"))


def mirror_of(mirrors: Path, name: str) -> Path:
    return mirrors / name.replace("/", "+") / "repo"


def _git(*args: str, cwd: Path | None = None) -> str:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1"}
    proc = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, env=env, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {proc.stderr.strip()}")
    return proc.stdout


def ensure_mirror(mirrors: Path, name: str, clone: bool) -> Path | None:
    path = mirror_of(mirrors, name)
    if path.is_dir():
        return path
    if not clone:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    _git("clone", "-q", "--bare", f"https://github.com/{name}.git", str(path))
    return path


@contextmanager
def checkout(mirror: Path, commit: str) -> Iterator[Path]:
    """The repository at `commit`, checked out in a temporary folder (a real git work tree)."""
    with tempfile.TemporaryDirectory(prefix="secposture-corpus-") as tmp:
        work = Path(tmp) / mirror.parent.name.split("+", 1)[1]
        _git("clone", "-q", "--no-checkout", "--shared", str(mirror), str(work))
        _git("-c", "advice.detachedHead=false", "checkout", "-q", commit, cwd=work)
        yield work


def mirror_references(mirrors: Path) -> object:
    """How the scan reads the files of the repositories a label followed (its `references`):
    from their mirrors, at the refs the repositories pin (sources/references/mirror.py)."""
    from secposture.sources.references.mirror import MirrorReferences

    return MirrorReferences(mirrors)


def scan_one(
    work: Path, references: object = None, repository: str | None = None
) -> dict[str, tuple[str, str]]:
    from secposture.scan import scan_path

    report, _policy = scan_path(
        work,
        today=LABELLED_ON,
        references=references,  # type: ignore[arg-type]
        repository=repository,
    )
    return {r.id: (r.status.value, r.summary) for r in report.results}


def run(args: argparse.Namespace) -> list[Outcome]:
    corpus = load_corpus(args.corpus)
    # No register and no token: the labels assume a checkout scan with neither.
    os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="secposture-corpus-data-")
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "SECPOSTURE_DATABASE_URL"):
        os.environ.pop(name, None)
    references = mirror_references(args.mirrors)
    controls: list[str] = list(corpus["controls"])  # type: ignore[call-overload]
    outcomes: list[Outcome] = []
    for repo in corpus["repository"]:  # type: ignore[index]
        name = repo["name"]
        if args.repo and name not in args.repo:
            continue
        mirror = ensure_mirror(args.mirrors, name, args.clone)
        if mirror is None:
            print(f"skipped {name}: no mirror at {mirror_of(args.mirrors, name)}", file=sys.stderr)
            continue
        with checkout(mirror, repo["commit"]) as work:
            scanned = scan_one(work, references, name)
        for control in controls:
            label = repo["labels"].get(control)
            if label is None:
                continue
            status, summary = scanned.get(control, (None, ""))
            outcomes.append(
                Outcome(name, control, label["status"], status, label["evidence"], summary)
            )
    return outcomes


def table(outcomes: list[Outcome]) -> str:
    by_control: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_control[o.control].append(o)
    lines = [f"{'control':30} agree / labels"]
    for control, items in by_control.items():
        agree = sum(o.agrees for o in items)
        lines.append(f"{control:30} {agree:5} / {len(items)}")
    agree = sum(o.agrees for o in outcomes)
    share = agree / len(outcomes) if outcomes else 0.0
    repositories = len({o.repository for o in outcomes})
    lines.append(
        f"{'all':30} {agree:5} / {len(outcomes)}  = {share:.1%} over {repositories} repositories"
    )
    decided = [o for o in outcomes if o.label != "unknown"]
    if decided:
        hit = sum(o.agrees for o in decided)
        lines.append(
            f"{'labels other than unknown':30} {hit:5} / {len(decided)}  = {hit / len(decided):.1%}"
        )
    return "\n".join(lines)


def disagreements(outcomes: list[Outcome], verbose: bool) -> str:
    lines = []
    for o in outcomes:
        if o.agrees:
            continue
        lines.append(f"- {o.repository} {o.control}: label {o.label}, scan {o.scanned}")
        if verbose:
            lines.append(f"    label:  {o.evidence}")
            lines.append(f"    scan:   {o.summary}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--mirrors", type=Path, default=DEFAULT_MIRRORS)
    parser.add_argument(
        "--clone", action="store_true", help="clone missing mirrors from github.com"
    )
    parser.add_argument("--repo", action="append", help="only this repository (repeatable)")
    parser.add_argument("--json", type=Path, help="write the figures and disagreements here")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="evidence of each disagreement"
    )
    args = parser.parse_args(argv)
    outcomes = run(args)
    print(table(outcomes))
    confusion = Counter((o.label, o.scanned) for o in outcomes if not o.agrees)
    if confusion:
        print("\nlabel -> scan, where they differ:")
        for (label, scanned), count in confusion.most_common():
            print(f"  {label:15} -> {scanned!s:15} {count}")
        print("\ndisagreements:")
        print(disagreements(outcomes, args.verbose))
    if args.json:
        agree = sum(o.agrees for o in outcomes)
        args.json.write_text(
            json.dumps(
                {
                    "labels": len(outcomes),
                    "agree": agree,
                    "agreement": agree / len(outcomes) if outcomes else None,
                    "disagreements": [o.__dict__ for o in outcomes if not o.agrees],
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
