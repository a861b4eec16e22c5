"""Benchmark: hostile YAML at the 1 MiB size limit costs no more than a realistic file of that size.

The baseline, measured in the same run, is parsing 1 MiB of realistic configuration (workflow jobs
with steps, anchors merged as GitLab CI does). Each hostile case (docs/adr/0010-parse-budgets.md) is
timed and its peak memory traced, and its time is printed as a ratio to the baseline. Target: no
case above 2x the baseline, none above 50 MB.

    .venv/bin/python benchmarks/bench_parse_budgets.py [--runs 5]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
import tracemalloc
from collections.abc import Callable

from secposture.facts.parsing import parse_yaml
from secposture.sources.interface import DEFAULT_MAX_FILE_BYTES

MiB = DEFAULT_MAX_FILE_BYTES
TARGET_RATIO = 2.0
TARGET_BYTES = 50 * 1024 * 1024


def realistic() -> str:
    """Jobs that merge shared defaults and run a few steps each, up to 1 MiB."""
    head = ".defaults: &defaults\n  image: python:3.12\n  before_script: [pip install -e .]\n"
    job = (
        "job{i}:\n  <<: *defaults\n  stage: test\n  script:\n"
        "    - ruff check . && mypy src\n    - pytest -q --cov=src tests/\n"
        '  rules:\n    - if: $CI_PIPELINE_SOURCE == "merge_request_event"\n'
    )
    jobs, size, i = [head], len(head), 0
    while size < MiB - 300:
        text = job.format(i=i)
        jobs.append(text)
        size += len(text)
        i += 1
    return "".join(jobs)


def laughs(levels: int) -> str:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + f"\njobs:\n  b:\n    steps:\n      - run: *a{levels}\n"


CASES: dict[str, str] = {
    "billion laughs (642 B workflow)": laughs(10),
    "block nesting `- - -`": ("- " * MiB)[:MiB],
    "flow nesting `[[[`": "[" * MiB,
    "comment of braces": "# " + "{" * (MiB - 3) + "\n",
    "nodes to the limit `a, a, ...`": "[" + ("a, " * MiB)[: MiB - 2] + "]",
    "one alias many times": "a: &a x\nb: [" + ", ".join(["*a"] * (MiB // 5)) + "]\n",
    "a 1 MiB plain scalar": "k: " + "x" * (MiB - 3),
    "anchors on every item": "".join(f"- &a{i} x\n" for i in range(MiB // 12)),
}


def run(text: str) -> None:
    with contextlib.suppress(ValueError):  # a refusal is the expected outcome for most cases
        parse_yaml(text)


def median_seconds(work: Callable[[], None], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.process_time()
        work()
        times.append(time.process_time() - t0)
    return statistics.median(times)


def peak_bytes(work: Callable[[], None]) -> int:
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    base_text = realistic()
    run(base_text)  # load ruamel once, outside the timings
    base = median_seconds(lambda: run(base_text), args.runs)
    print(f"baseline: realistic YAML, {len(base_text):,} chars: {base * 1000:7.1f} ms CPU (median)")
    worst = 0.0
    for name, text in CASES.items():
        seconds = median_seconds(lambda text=text: run(text), args.runs)  # type: ignore[misc]
        peak = peak_bytes(lambda text=text: run(text))  # type: ignore[misc]
        ratio = seconds / base
        worst = max(worst, ratio)
        flag = "" if ratio <= TARGET_RATIO and peak <= TARGET_BYTES else "  MISSED"
        print(
            f"  {name:34} {len(text):>9,} chars {seconds * 1000:7.1f} ms  ratio {ratio:4.2f}  "
            f"peak {peak / 1e6:5.1f} MB{flag}"
        )
    print(f"worst ratio to the baseline: {worst:.2f} (target {TARGET_RATIO:.1f})")


if __name__ == "__main__":
    main()
