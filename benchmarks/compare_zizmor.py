"""Side by side with zizmor on the three workflow controls (issue 11).

For each repository of the hand-labelled corpus (tests/corpus/corpus.toml) whose bare git mirror is
present, the workflows and actions at the pinned commit (`.github/**` and every `action.y*ml`) are
copied to a temporary folder; secposture's workflow probes and zizmor (offline, regular persona)
both read that folder. Per workflow file, each tool's verdict on each control is `bad` or `ok`:

    workflow-permissions  secposture workflow-jobs-least-privilege  zizmor excessive-permissions
    actions-pinned        secposture actions-pinned-by-sha          zizmor unpinned-uses
    dangerous-workflow    secposture workflow-no-untrusted-checkout zizmor dangerous-triggers
                          and workflow-no-script-injection          and template-injection

and the script prints the agreement per control, every disagreement (file, both verdicts, what each
said), and each tool's control status per repository against the hand labels. zizmor has no control
status: it is taken per workflow file (pass: no file flagged, fail: every file, else partial), a
rougher count than secposture's per job and per reference, so its label column is approximate. The fixtures of
tests/test_workflow_analysis.py can be compared the same way with `--fixtures`.

    .venv/bin/pip install zizmor        # not a dependency of secposture
    .venv/bin/python benchmarks/compare_zizmor.py [--mirror /work/.mirror] [--fixtures] [--verbose]
        [--checkov PATH/TO/checkov]   # checkov in a venv of its own: it brings ~70 packages
                                      # and would pin packaging back to 23.2
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import subprocess  # nosec B404 - git and zizmor with fixed arguments, no shell
import sys
import tempfile
import textwrap
import tomllib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from secposture.controls.evaluate import aggregate
from secposture.facts.interface import Facts
from secposture.model import Finding, Outcome
from secposture.policy import default_policy
from secposture.probes.interface import load_probe
from secposture.sources.memory import MemorySnapshot

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus" / "corpus.toml"
TODAY = date(2026, 12, 7)

CONTROLS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    # control: (secposture probes, zizmor audits, aggregation rule)
    "workflow-permissions": (("workflow-jobs-least-privilege",), ("excessive-permissions",), ""),
    "actions-pinned": (("actions-pinned-by-sha",), ("unpinned-uses",), ""),
    "dangerous-workflow": (
        ("workflow-no-untrusted-checkout", "workflow-no-script-injection"),
        ("dangerous-triggers", "template-injection"),
        "strict",
    ),
}


# Why the tools differ, per class of disagreement (measured on the corpus of tests/corpus/).
EXPLANATIONS: dict[tuple[str, str, str], str] = {
    ("dangerous-workflow", "ok", "bad"): (
        "zizmor flags (1) a pull_request_target / workflow_run / issue_comment trigger by itself "
        "(dangerous-triggers): secposture asks whether such a workflow checks out untrusted code or "
        "expands untrusted text, and the corpus's look-alikes (no checkout, base checkout, Slack "
        "only) do neither; (2) workflow_dispatch inputs and github.event.repository.* in run: "
        "(High): only people with write access dispatch, and admins name the repository, so "
        "secposture does not count them (data/workflow_security.toml says why); (3) steps.* and "
        "needs.* outputs (Informational/Low, gone with medium+ only): the workflow's own values; "
        "(4) a reusable workflow's string inputs in run: with no caller in view: secposture "
        "reports the injection where a caller passes untrusted text, naming the chain. Where zizmor "
        "is right: a step output computed from untrusted text is not followed by secposture."
    ),
    ("dangerous-workflow", "bad", "ok"): (
        "secposture follows with: into the inputs of the repository's reusable workflows: a "
        "pull_request_target caller's head SHA checked out in the callee is reported at the "
        "callee's checkout (zizmor reports the caller's trigger, in another file)."
    ),
    ("workflow-permissions", "bad", "ok"): (
        "A reusable workflow's jobs that run with a caller's repository-default token: zizmor "
        "reports only the caller; secposture reports the caller and, naming it, the jobs that use "
        "that token. And a write granted to a single job that no step of it can use (every step "
        "known): zizmor judges a single job's grant only in its pedantic persona."
    ),
    ("workflow-permissions", "ok", "bad"): (
        "zizmor counts a top-level read-all, or a reusable workflow with no permissions, against "
        "it; secposture accepts read-all (read-only) and judges a reusable workflow by its caller."
    ),
    ("actions-pinned", "bad", "ok"): "zizmor's policy may allow some owners to pin by tag.",
    ("actions-pinned", "ok", "bad"): "zizmor may flag a reference secposture leaves out.",
}


@dataclass
class FileVerdicts:
    ours: dict[str, str] = field(default_factory=dict)  # control -> bad | ok
    theirs: dict[str, str] = field(default_factory=dict)
    theirs_medium: dict[str, str] = field(default_factory=dict)  # medium+ severity and confidence
    checkov: dict[str, str] = field(default_factory=dict)
    our_notes: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    their_notes: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))


def _git(mirror: Path, *args: str) -> bytes:
    return subprocess.run(  # nosec B603 B607 - git with fixed arguments
        ["git", "-C", str(mirror), *args], check=True, capture_output=True
    ).stdout


def export(mirror: Path, commit: str, dest: Path) -> dict[str, str | bytes]:
    """The workflow and action files of a commit, written under dest and returned by path."""
    names = _git(mirror, "ls-tree", "-r", "--name-only", commit).decode().splitlines()
    wanted = [
        n
        for n in names
        if n.startswith(".github/") or n.rsplit("/", 1)[-1] in ("action.yml", "action.yaml")
    ]
    files: dict[str, str | bytes] = {}
    for name in wanted:
        data = _git(mirror, "show", f"{commit}:{name}")
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        try:
            files[name] = data.decode("utf-8")
        except UnicodeDecodeError:
            files[name] = data
    return files


def ours(files: dict[str, str | bytes]) -> tuple[dict[str, FileVerdicts], dict[str, str]]:
    """secposture's verdict per file and control, and its status per control."""
    facts = Facts(MemorySnapshot(files), default_policy(), TODAY)
    per_file: dict[str, FileVerdicts] = defaultdict(FileVerdicts)
    statuses: dict[str, str] = {}
    for control, (probes, _audits, rule) in CONTROLS.items():
        findings: list[Finding] = [f for p in probes for f in load_probe(p).run(facts)]
        statuses[control] = aggregate(findings, rule).value
        for f in findings:
            path = f.location.path if f.location is not None else None
            if path is None or not path.startswith(".github/workflows/"):
                continue  # composite actions are judged through the workflows that use them
            verdicts = per_file[path]
            if f.outcome in (Outcome.NEGATIVE, Outcome.PARTIAL):
                verdicts.ours[control] = "bad"
                verdicts.our_notes[control].append(f.message[:160])
            elif f.outcome is Outcome.POSITIVE:
                verdicts.ours.setdefault(control, "ok")
    return per_file, statuses


def zizmor(folder: Path) -> list[dict[str, Any]]:
    exe = shutil.which("zizmor") or str(Path(sys.executable).parent / "zizmor")
    done = subprocess.run(  # nosec B603 - zizmor with fixed arguments
        [exe, "--offline", "--no-config", "--format", "json", "--no-progress", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if "no inputs collected" in done.stderr:
        return []  # nothing for zizmor to read (no workflows or actions)
    if done.returncode not in (0, 10, 11, 12, 13, 14):  # 1x: findings of some severity
        raise RuntimeError(f"zizmor failed ({done.returncode}): {done.stderr[-500:]}")
    result: list[dict[str, Any]] = json.loads(done.stdout or "[]")
    return result


def theirs(folder: Path, per_file: dict[str, FileVerdicts]) -> dict[str, str]:
    """zizmor's verdict per file and control (into per_file), and its status per control: fail
    when every workflow file it judged is bad, partial when some are, pass when none."""
    by_audit = {a: c for c, (_p, audits, _r) in CONTROLS.items() for a in audits}
    for item in zizmor(folder):
        control = by_audit.get(str(item.get("ident")))
        if control is None:
            continue
        locations = item.get("locations") or []
        primary = next(
            (loc for loc in locations if loc.get("symbolic", {}).get("kind") == "Primary"),
            locations[0] if locations else None,
        )
        if primary is None:
            continue
        local = primary["symbolic"]["key"]["Local"]
        given = str(local.get("verbatim_path") or local.get("given_path"))
        path = str(Path(given).resolve().relative_to(folder.resolve()))
        if not path.startswith(".github/workflows/"):
            continue
        line = primary["concrete"]["location"]["start_point"]["row"] + 1
        verdicts = per_file[path]
        verdicts.theirs[control] = "bad"
        graded = item.get("determinations") or {}
        severity, confidence = graded.get("severity"), graded.get("confidence")
        if severity in ("Medium", "High") and confidence in ("Medium", "High"):
            verdicts.theirs_medium[control] = "bad"
        feature = " ".join(str(primary["concrete"].get("feature", "")).split())
        note = primary["symbolic"].get("annotation", "")
        verdicts.their_notes[control].append(
            f"{item.get('ident')}:{line} [{severity}/{confidence}] {note}: {feature}"[:200]
        )
    statuses: dict[str, str] = {}
    for control in CONTROLS:
        judged = [v for v in per_file.values() if control in v.ours or control in v.theirs]
        bad = sum(1 for v in judged if v.theirs.get(control) == "bad")
        statuses[control] = (
            "not_applicable"
            if not judged
            else "pass"
            if bad == 0
            else "fail"
            if bad == len(judged)
            else "partial"
        )
    return statuses


# checkov's GitHub Actions checks that answer the same questions (it has none on pinning).
CHECKOV_CHECKS = {"CKV2_GHA_1": "workflow-permissions", "CKV_GHA_2": "dangerous-workflow"}


def checkov(exe: str, folder: Path, per_file: dict[str, FileVerdicts]) -> None:
    """checkov's verdict per file and control, into per_file."""
    done = subprocess.run(  # nosec B603 - checkov with fixed arguments
        [exe, "-d", str(folder), "--framework", "github_actions", "-o", "json", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
    )
    reports = json.loads(done.stdout or "[]")
    for report in reports if isinstance(reports, list) else [reports]:
        results = report.get("results", {}) if isinstance(report, dict) else {}
        for failed in results.get("failed_checks", []):
            control = CHECKOV_CHECKS.get(failed.get("check_id", ""))
            path = str(failed.get("file_path", "")).lstrip("/")
            if control is not None and path.startswith(".github/workflows/"):
                per_file[path].checkov[control] = "bad"


@dataclass
class Tally:
    files: Counter[str] = field(default_factory=Counter)  # control -> files compared
    agree: Counter[str] = field(default_factory=Counter)
    agree_medium: Counter[str] = field(default_factory=Counter)
    agree_checkov: Counter[str] = field(default_factory=Counter)
    classes: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    ours_vs_label: Counter[str] = field(default_factory=Counter)
    theirs_vs_label: Counter[str] = field(default_factory=Counter)
    labelled: Counter[str] = field(default_factory=Counter)


def compare(
    name: str,
    files: dict[str, str | bytes],
    folder: Path,
    labels: dict[str, str],
    tally: Tally,
    verbose: bool,
    checkov_exe: str | None = None,
) -> None:
    per_file, our_status = ours(files)
    their_status = theirs(folder, per_file)
    if checkov_exe is not None and files:
        checkov(checkov_exe, folder, per_file)
    for path in sorted(per_file):
        verdicts = per_file[path]
        for control in CONTROLS:
            if control not in verdicts.ours and control not in verdicts.theirs:
                continue
            a = verdicts.ours.get(control, "ok")
            b = verdicts.theirs.get(control, "ok")
            tally.files[control] += 1
            tally.agree_medium[control] += a == verdicts.theirs_medium.get(control, "ok")
            tally.agree_checkov[control] += a == verdicts.checkov.get(control, "ok")
            if checkov_exe is not None and a != verdicts.checkov.get(control, "ok") and verbose:
                print(
                    f"  {name} {path} {control}: secposture {a}, checkov {verdicts.checkov.get(control, 'ok')}"
                )
            if a == b:
                tally.agree[control] += 1
                continue
            tally.classes[(control, a, b)] += 1
            print(f"  {name} {path} {control}: secposture {a}, zizmor {b}")
            if verbose:
                for note in (verdicts.our_notes[control] or ["-"])[:2]:
                    print(f"      secposture: {note}")
                for note in (verdicts.their_notes[control] or ["-"])[:2]:
                    print(f"      zizmor:     {note}")
    for control in CONTROLS:
        label = labels.get(control)
        if label is None:
            continue
        tally.labelled[control] += 1
        tally.ours_vs_label[control] += our_status[control] == label
        tally.theirs_vs_label[control] += their_status[control] == label
        if our_status[control] != label or verbose:
            print(
                f"  {name} {control}: label {label}, secposture {our_status[control]}, "
                f"zizmor {their_status[control]}"
            )


def corpus_repositories(mirror: Path) -> list[tuple[str, Path, str, dict[str, str]]]:
    corpus = tomllib.loads(CORPUS.read_text("utf-8"))
    out = []
    for repo in corpus["repository"]:
        git_dir = mirror / repo["name"].replace("/", "+") / "repo"
        if not git_dir.is_dir():
            print(f"  skipped {repo['name']}: no mirror at {git_dir}")
            continue
        labels = {c: repo["labels"][c]["status"] for c in CONTROLS if c in repo["labels"]}
        out.append((repo["name"], git_dir, repo["commit"], labels))
    return out


def _fixtures() -> dict[str, dict[str, str]]:
    """FIXTURES of tests/test_workflow_analysis.py: {name: {path: text}}."""
    spec = importlib.util.spec_from_file_location(
        "test_workflow_analysis", ROOT / "tests" / "test_workflow_analysis.py"
    )
    if spec is None or spec.loader is None:
        raise RuntimeError("tests/test_workflow_analysis.py cannot be loaded")
    sys.path.insert(0, str(ROOT / "tests"))  # it imports conftest
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fixtures: dict[str, dict[str, str]] = module.FIXTURES
    return fixtures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", type=Path, default=Path("/work/.mirror"))
    parser.add_argument("--fixtures", action="store_true", help="compare the test fixtures too")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--checkov", metavar="EXE", help="compare checkov's checks too")
    args = parser.parse_args()
    tally = Tally()
    with tempfile.TemporaryDirectory() as tmp:
        print("Disagreements per workflow file (secposture vs zizmor):")
        for name, git_dir, commit, labels in corpus_repositories(args.mirror):
            folder = Path(tmp) / name.replace("/", "+")
            files = export(git_dir, commit, folder)
            if not files:
                folder.mkdir(parents=True, exist_ok=True)
            compare(name, files, folder, labels, tally, args.verbose, args.checkov)
        if args.fixtures:
            for name, fixture in _fixtures().items():
                folder = Path(tmp) / "fixtures" / name
                for path, text in fixture.items():
                    (folder / path).parent.mkdir(parents=True, exist_ok=True)
                    (folder / path).write_text(text, "utf-8")
                given: dict[str, str | bytes] = dict(fixture)
                compare(f"fixture:{name}", given, folder, {}, tally, args.verbose, args.checkov)
    print()
    print(
        "| control | workflow files | agree | agreement | agreement, zizmor medium+ only "
        "| secposture = label | zizmor = label |"
    )
    print("|---|---|---|---|---|---|---|")
    for control in CONTROLS:
        compared = tally.files[control]
        share = f"{100 * tally.agree[control] / compared:.0f} %" if compared else "-"
        medium = f"{100 * tally.agree_medium[control] / compared:.0f} %" if compared else "-"
        n = tally.labelled[control]
        print(
            f"| {control} | {compared} | {tally.agree[control]} | {share} | {medium} | "
            f"{tally.ours_vs_label[control]}/{n} | {tally.theirs_vs_label[control]}/{n} |"
        )
    if args.checkov:
        print()
        print("| control | workflow files | agreement with checkov |")
        print("|---|---|---|")
        for control in CONTROLS:
            compared = tally.files[control]
            share = f"{100 * tally.agree_checkov[control] / compared:.0f} %" if compared else "-"
            if control not in CHECKOV_CHECKS.values():
                share = "no such check"
            print(f"| {control} | {compared} | {share} |")
    print()
    print("Disagreement classes (control, secposture, zizmor): files")
    for (control, a, b), count in sorted(tally.classes.items()):
        print(f"  {control}: secposture {a}, zizmor {b}: {count}")
        print(textwrap.indent(textwrap.fill(EXPLANATIONS.get((control, a, b), "-"), 96), "      "))


if __name__ == "__main__":
    main()
