"""How long the default terminal report is on the labelled corpus (issue 13's target: a typical
service repository's default scan fits 40 lines at 100 columns).

Each corpus repository is checked out at its pinned commit from its local mirror (as
tests/corpus/agreement.py does), scanned as a checkout with no token and no register, and rendered
at 100 columns in the default and --verbose views. Prints lines per repository and the median.

    python benchmarks/brief_report_lines.py [--mirrors /work/.mirror]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "corpus"))

import agreement  # type: ignore[import-not-found]

from secposture.reports.interface import RenderOptions, renderer
from secposture.scan import scan_path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirrors", type=Path, default=agreement.DEFAULT_MIRRORS)
    parser.add_argument("--width", type=int, default=100)
    args = parser.parse_args()
    corpus = agreement.load_corpus()
    references = agreement.mirror_references(args.mirrors)
    brief_lines, verbose_lines = [], []
    for repo in corpus["repository"]:
        mirror = agreement.ensure_mirror(args.mirrors, repo["name"], clone=False)
        if mirror is None:
            continue
        with agreement.checkout(mirror, repo["commit"]) as work:
            report, _ = scan_path(
                work, today=agreement.LABELLED_ON, references=references, repository=repo["name"]
            )
        brief = renderer("terminal")(report, RenderOptions(width=args.width))
        verbose = renderer("terminal")(report, RenderOptions(width=args.width, verbose=True))
        n, v = len(brief.splitlines()), len(verbose.splitlines())
        widest = max(len(line) for line in brief.splitlines())
        brief_lines.append(n)
        verbose_lines.append(v)
        print(f"{repo['name']:<55} default {n:>3} lines (widest {widest}), --verbose {v:>4}")
    print(
        f"{len(brief_lines)} repositories at {args.width} columns: default median "
        f"{statistics.median(brief_lines)} lines, max {max(brief_lines)}, "
        f"{sum(n <= 40 for n in brief_lines)} within 40; --verbose median "
        f"{statistics.median(verbose_lines)}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
