"""Benchmark: many repositories scanned in one process, against a floor measured in the same run.

The floor for a repository is what no scanner can avoid: `git ls-files` plus reading exactly the files
the probes read. Target: the scan costs at most 2x the floor per repository (median).

    .venv/bin/python benchmarks/bench_many_repos.py [--repos 500]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from repo_generator import generate

from secposture import catalogue
from secposture.controls.evaluate import evaluate
from secposture.facts.interface import Facts
from secposture.policy import load_policy
from secposture.sources.local import LocalSource

TARGET_RATIO = 2.0


def scan_once(root: Path, today: date) -> tuple[float, list[str]]:
    t0 = time.perf_counter()
    excluded = frozenset(catalogue.load("defaults")["excluded_dirs"])
    snapshot = LocalSource(root, excluded_dirs=excluded).snapshot()
    policy = load_policy(snapshot)
    facts = Facts(snapshot, policy, today)
    evaluate(facts)
    return time.perf_counter() - t0, facts.files_read()


def floor_once(root: Path, files: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(["git", "-C", str(root), "ls-files", "-z"], capture_output=True, check=True)
    for rel in files:
        with open(root / rel, "rb") as fh:
            fh.read()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repos", type=int, default=500)
    args = ap.parse_args()
    today = date.today()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        roots = [
            generate(Path(tmp) / f"r{i}", seed=i, n_files=40 + (i % 7) * 25)
            for i in range(args.repos)
        ]
        print(f"generated {len(roots)} repositories in {time.perf_counter() - t0:.1f} s")
        scan_once(roots[0], today)  # imports and catalogue loading are not per-repository costs
        scans, floors, reads = [], [], []
        for root in roots:
            took, files = scan_once(root, today)
            scans.append(took)
            reads.append(len(files))
            floors.append(floor_once(root, files))
    ratios = [s / f for s, f in zip(scans, floors, strict=True)]
    s_med, f_med = statistics.median(scans), statistics.median(floors)
    print(f"files read per repository (median): {statistics.median(reads):.0f}")
    print(f"scan per repository   median {s_med * 1000:7.2f} ms  (total {sum(scans):.1f} s)")
    print(
        f"floor per repository  median {f_med * 1000:7.2f} ms  (git ls-files + reading those files)"
    )
    print(
        f"ratio scan/floor: median of per-repo ratios {statistics.median(ratios):.2f}, "
        f"ratio of medians {s_med / f_med:.2f}; target <= {TARGET_RATIO} "
        f"({'met' if statistics.median(ratios) <= TARGET_RATIO else 'MISSED'})"
    )


if __name__ == "__main__":
    main()
