"""Where a scan of many small repositories spends its time: the snapshot, file reads, YAML parsing,
and each collector and probe on its own (time in the ones it calls is not counted twice).

A helper for bench_many_repos.py: when its ratio moves, this says which part moved.

    .venv/bin/python benchmarks/profile_scan_parts.py [--repos 60] [--rounds 3]

The wrappers add about a microsecond per call, so small parts read a little high.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from repo_generator import generate

from secposture import catalogue
from secposture.controls import evaluate as evaluate_module
from secposture.facts import parsing
from secposture.facts.interface import Facts
from secposture.facts.paths import PathIndex
from secposture.policy import load_policy
from secposture.probes import interface as probes
from secposture.sources.local import LocalSnapshot, LocalSource

own_time: dict[str, float] = defaultdict(float)
_open_calls: list[float] = []  # time spent in the calls made by each open call


def timed(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        _open_calls.append(0.0)
        try:
            return func(*args, **kwargs)
        finally:
            took = time.perf_counter() - start
            own_time[name] += took - _open_calls.pop()
            if _open_calls:
                _open_calls[-1] += took

    return wrapper


def instrument() -> None:
    original_get = Facts.get

    def get(self: Facts, collector: Callable[[Facts], Any]) -> Any:
        if collector in self._cache:
            return self._cache[collector]
        name = f"{collector.__module__.rpartition('.')[2]}.{collector.__name__}"
        return timed(name, original_get)(self, collector)

    Facts.get = get  # type: ignore[method-assign]
    LocalSnapshot.read_text = timed("(file reads)", LocalSnapshot.read_text)  # type: ignore[method-assign]
    parsing.parse_yaml = timed("(YAML parsing)", parsing.parse_yaml)
    PathIndex.__init__ = timed("(path index)", PathIndex.__init__)  # type: ignore[method-assign]
    original_load = probes.load_probe

    def load_probe(probe_id: str) -> probes.Probe:
        probe = original_load(probe_id)
        return probes.Probe(probe.definition, timed(f"probe {probe_id}", probe.run))

    evaluate_module.load_probe = load_probe  # type: ignore[assignment]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repos", type=int, default=60)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    excluded = frozenset(catalogue.load("defaults")["excluded_dirs"])
    with tempfile.TemporaryDirectory() as tmp:
        roots = [
            generate(Path(tmp) / f"r{i}", seed=i, n_files=40 + (i % 7) * 25)
            for i in range(args.repos)
        ]
        instrument()
        scans = 0
        for round_ in range(args.rounds + 1):  # the first round warms up (imports, catalogues)
            if round_ == 1:
                own_time.clear()
                scans = 0
            for root in roots:
                start = time.perf_counter()
                snapshot = LocalSource(root, excluded_dirs=excluded).snapshot()
                own_time["(snapshot: git ls-files, HEAD)"] += time.perf_counter() - start
                facts = Facts(snapshot, load_policy(snapshot), date.today())
                start = time.perf_counter()
                evaluate_module.evaluate(facts)
                own_time["(evaluate, all parts)"] += time.perf_counter() - start
                scans += 1
    for name, total in sorted(own_time.items(), key=lambda item: -item[1]):
        print(f"{total / scans * 1e6:9.1f} us  {name}")


if __name__ == "__main__":
    main()
