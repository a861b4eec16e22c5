"""Benchmark: `secposture scan` of one repository of a few thousand files, as a pre-commit hook runs it.

Measures median wall time of the whole command (interpreter start included) against the 0.5 s target,
with the interpreter's own start and `git ls-files` measured in the same run as baselines, and lists
the slowest imports (`python -X importtime`).

    .venv/bin/python benchmarks/bench_scan.py [--files 3000] [--runs 15]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from repo_generator import generate

TARGET_S = 0.5


def median_time(cmd: list[str], runs: int) -> float:
    subprocess.run(cmd, capture_output=True, check=False)  # warm the page cache
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=False)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def top_imports(cmd: list[str], n: int = 12) -> list[tuple[int, str]]:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    rows = []
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if m and len(m.group(3)) <= 2:  # top-level imports only
            rows.append((int(m.group(2)), m.group(4)))
    return sorted(rows, reverse=True)[:n]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--files", type=int, default=3000)
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    py = sys.executable
    # An installed package has its bytecode compiled; an editable checkout under
    # PYTHONDONTWRITEBYTECODE would recompile every module on every run and time that instead.
    import compileall

    import secposture

    compileall.compile_dir(str(Path(secposture.__file__).parent), quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        repo = generate(Path(tmp) / "repo", seed=1, n_files=args.files)
        scan = [py, "-m", "secposture", "scan", str(repo), "--format", "json", "--fail-on", "never"]
        interp = median_time([py, "-c", "pass"], args.runs)
        ls_files = median_time(["git", "-C", str(repo), "ls-files", "-z"], args.runs)
        whole = median_time(scan, args.runs)
        imports = top_imports([py, "-X", "importtime", *scan[1:]])
    print(f"repository: {args.files} files, {args.runs} runs, medians")
    print(f"  python -c pass         {interp * 1000:7.1f} ms")
    print(f"  git ls-files           {ls_files * 1000:7.1f} ms")
    print(
        f"  secposture scan        {whole * 1000:7.1f} ms   target {TARGET_S * 1000:.0f} ms: "
        f"ratio to target {whole / TARGET_S:.2f} ({'met' if whole <= TARGET_S else 'MISSED'})"
    )
    print(f"  scan / interpreter start ratio: {whole / interp:.1f}x")
    print("slowest top-level imports during a scan (cumulative us):")
    for us, name in imports:
        print(f"  {us:8d}  {name}")


if __name__ == "__main__":
    main()
