"""Benchmark: dependency-update coverage of a repository with thousands of manifest folders.

Each folder has a package.json and its own Dependabot entry (as a large monorepo's generated
dependabot.yml has), plus a few glob entries. Testing every folder against every entry was
quadratic (about 8 million entry tests at 4,000 folders); the coverage index answers each folder
with a lookup. Both run here on the same parsed configuration, and must give the same answers.

    .venv/bin/python benchmarks/bench_dependabot_coverage.py [--folders 4000] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import date

from secposture.facts import dependabot, ecosystems
from secposture.facts.interface import Facts
from secposture.policy import default_policy
from secposture.probes.dependency_updates_cover_ecosystems import impl as probe
from secposture.sources.memory import MemorySnapshot

Answer = dependabot.UpdateEntry | None


def repository(folders: int) -> dict[str, str | bytes]:
    files: dict[str, str | bytes] = {".github/workflows/ci.yml": "on: push\njobs: {}\n"}
    lines = ["version: 2", "updates:"]
    for i in range(folders):
        folder = f"services/svc{i:05d}"
        files[f"{folder}/package.json"] = '{"name": "svc", "dependencies": {"left-pad": "1"}}\n'
        lines += [f"  - package-ecosystem: npm\n    directory: /{folder}"]
    for i in range(20):  # go tools, covered by one glob entry
        files[f"tools/tool{i}/go.mod"] = f"module example.com/tool{i}\n"
    lines += [
        "  - package-ecosystem: gomod\n    directories: ['/tools/*']",
        "  - package-ecosystem: github-actions\n    directory: /",
    ]
    files[".github/dependabot.yml"] = "\n".join(lines) + "\n"
    return files


def by_testing_every_entry(
    config: dependabot.DependabotConfig, spec: ecosystems.EcosystemSpec, directory: str
) -> Answer:
    """The way before the index: every entry tested, in file order, for each folder."""
    return next((e for e in config.entries if dependabot._entry_covers(e, spec, directory)), None)


def indexed(
    config: dependabot.DependabotConfig, spec: ecosystems.EcosystemSpec, directory: str
) -> Answer:
    return config.first_covering(spec, directory)


def answers(
    facts: Facts,
    config: dependabot.DependabotConfig,
    way: Callable[[dependabot.DependabotConfig, ecosystems.EcosystemSpec, str], Answer],
) -> list[Answer]:
    config._indexes.clear()  # the index is built inside the timing, as a scan builds it
    specs = ecosystems.specs()
    return [
        way(config, specs[name], location.directory)
        for name, locations in facts.get(ecosystems.collect).items()
        for location in locations
    ]


def median(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--folders", type=int, default=4000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    facts = Facts(MemorySnapshot(repository(args.folders)), default_policy(), date(2026, 12, 7))
    config = facts.get(dependabot.collect).dependabot
    assert config is not None and config.problem is None
    locations = sum(len(v) for v in facts.get(ecosystems.collect).values())

    calls = 0
    plain = dependabot._entry_covers

    def counting(*a: object) -> bool:
        nonlocal calls
        calls += 1
        return plain(*a)  # type: ignore[arg-type]

    dependabot._entry_covers = counting  # type: ignore[assignment]
    try:
        before_answers = answers(facts, config, by_testing_every_entry)
    finally:
        dependabot._entry_covers = plain
    assert answers(facts, config, indexed) == before_answers, "the index answers differently"

    before = median(lambda: answers(facts, config, by_testing_every_entry), args.runs)
    after = median(lambda: answers(facts, config, indexed), args.runs)
    whole = median(lambda: probe.run(facts), args.runs)
    print(
        f"repository: {args.folders} npm folders, {len(config.entries)} Dependabot entries, "
        f"{locations} ecosystem directories; {args.runs} runs, medians"
    )
    print(f"  every entry per folder   {before * 1000:9.1f} ms   ({calls:,} entry tests)")
    print(f"  coverage index           {after * 1000:9.1f} ms")
    print(f"  ratio before / after     {before / after:9.1f}x")
    print(f"  the whole probe (index)  {whole * 1000:9.1f} ms")


if __name__ == "__main__":
    main()
