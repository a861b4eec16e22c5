"""Benchmark: the dashboard's estate page and risk list over a large register in PostgreSQL.

Issue 6 §5: with 2,000 repositories x 20 controls and 10,000 risks in PostgreSQL, the estate page
and the risk list render in at most 300 ms median server time.

A throwaway PostgreSQL server (tests/postgres.py) gets the register's schema (migrations), then
the scan results and risks are bulk-inserted into its real tables (benchmarks/web_seed.py). Each
page is requested N times through the real ASGI app in this process (httpx's ASGITransport, no
network), signed in as a security user, after two warm-up requests. Same-run baselines:

- floor: the bare SQL behind the page: every statement one request of it sent to the database
  (captured with a SQLAlchemy event), run again through the driver and fetched, in the same
  order. No page can be faster than reading its data; the statement count shows N+1 queries;
- /healthz: a trivial response through the same middleware (cookies, headers, CSRF check).

The first request of each page (cold: the trend cache empty) is printed apart from the median.
A breakdown splits the estate page into its register reads and rendering, so a page that misses
the target says where its time goes.

Pauses: each page is timed with the collector as `secposture serve` runs it (the start-up heap
frozen, ADR 0013's thresholds: `settle_heap`) and, as the same-run baseline, with CPython's
defaults, alternating the two (default, served, default, served) so neither gets the warmer
caches. Beside the median: p90, p90 / median, and the full (generation 2) collections that ran
during the timed requests, how many and the longest.

    .venv/bin/python benchmarks/bench_web.py [--repositories 2000] [--controls 20]
        [--risks 10000] [--scans-per-repository 1] [-n 15] [--sqlite]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, event

sys.path.insert(0, str(Path(__file__).resolve().parent))
from web_seed import bulk_seed  # also puts tests/ on the path  # noqa: I001
from postgres import PostgresServer, find_bindir
from web_server import add_accounts, password_for, web_settings

from secposture.register.database import Database
from secposture.web import charts, queries
from secposture.web.app import GC_THRESHOLDS, create_app, settle_heap
from secposture.web.rendering import environment, heatmap

TARGET_MS = 300.0
TRANSACTION_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"}
WARM_UP = 2
ESTATE = "/"
RISKS = "/risks"
RISKS_FILTERED = (
    "/risks?status=open&register=product&min_score=4&text=exposure&sort=score&desc=1&page=3"
)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def timed(fn: Callable[[], Any], n: int) -> list[float]:
    for _ in range(WARM_UP):
        fn()
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


@contextmanager
def register(use_sqlite: bool) -> Iterator[Database]:
    """An empty, migrated register in a throwaway PostgreSQL server (or a SQLite file)."""
    if use_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            database = Database.open(f"sqlite:///{Path(tmp) / 'register.db'}")
            try:
                yield database
            finally:
                database.close()
        return
    bindir = find_bindir()
    if bindir is None:
        sys.exit("PostgreSQL is not installed (initdb, pg_ctl): apt-get install postgresql")
    server = PostgresServer(bindir)
    server.start()
    try:
        database = Database.open(server.create_database())
        try:
            yield database
        finally:
            database.close()
    finally:
        server.stop()


async def sign_in(client: httpx.AsyncClient, role: str) -> None:
    form = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    if token is None:
        sys.exit("the sign-in page has no CSRF token field")
    done = await client.post(
        "/login",
        data={
            "username": role,
            "password": password_for(role),
            "csrf_token": token.group(1),
            "next": "/",
        },
    )
    if done.status_code != 303:
        sys.exit(f"signing in failed: HTTP {done.status_code}")


@dataclass
class Timed:
    first: float  # ms, the very first request (cold caches)
    times: list[float]  # ms, after the warm-up
    size: int  # bytes of the last response
    shows: str  # what the page says it shows ("2000 of 2000 repositories", "3,412 risks")
    statements: list[tuple[str, Any]]  # the SQL one request sent: (statement, parameters)
    full_collections: list[float]  # ms, each generation-2 collection during the timed requests


@contextmanager
def full_collections() -> Iterator[list[float]]:
    """The duration (ms) of every full collection while the block runs."""
    pauses: list[float] = []
    started: list[float] = []

    def watch(phase: str, info: dict[str, Any]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            started.append(time.perf_counter())
        elif started:
            pauses.append((time.perf_counter() - started.pop()) * 1000)

    gc.callbacks.append(watch)
    try:
        yield pauses
    finally:
        gc.callbacks.remove(watch)


@contextmanager
def collector(served: bool) -> Iterator[None]:
    """The collector as `serve` runs it (served) or CPython's defaults; restored afterwards."""
    defaults = gc.get_threshold()
    if served:
        settle_heap()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*defaults)


@contextmanager
def captured_sql(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Every statement sent to the database while the block runs."""
    statements: list[tuple[str, Any]] = []

    def before(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


SHOWS = re.compile(r'data-testid="(?:estate-count|risks-count)">([^<]+)<')


async def time_pages(
    app: Any, engine: Engine, paths: list[str], n: int, first: dict[str, float]
) -> dict[str, Timed]:
    """Each path's request times (ms), size and SQL, through the ASGI app in-process. The very
    first request of each path (cold caches) is timed into `first` when it is not there yet."""
    transport = httpx.ASGITransport(app=app)
    out: dict[str, Timed] = {}
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        await sign_in(client, "security")
        for path in paths:
            if path not in first:
                t0 = time.perf_counter()
                await client.get(path)
                first[path] = (time.perf_counter() - t0) * 1000
        for path in paths:
            times = []
            for _ in range(WARM_UP):
                await client.get(path)
            with full_collections() as pauses:
                for _ in range(n):
                    t0 = time.perf_counter()
                    response = await client.get(path)
                    times.append((time.perf_counter() - t0) * 1000)
                    if response.status_code != 200:
                        sys.exit(f"GET {path}: HTTP {response.status_code}")
            with captured_sql(engine) as statements:
                await client.get(path)
            shows = SHOWS.search(response.text)
            out[path] = Timed(
                first[path] if path in first else times[0],
                times,
                len(response.content),
                shows.group(1) if shows else "",
                statements,
                pauses,
            )
    return out


def merged(runs: list[dict[str, Timed]]) -> dict[str, Timed]:
    """Several rounds of the same pages as one: their times and pauses together."""
    out: dict[str, Timed] = {}
    for path, result in runs[0].items():
        out[path] = Timed(
            result.first,
            [t for run in runs for t in run[path].times],
            result.size,
            result.shows,
            result.statements,
            [p for run in runs for p in run[path].full_collections],
        )
    return out


def sql_floor(database: Database, statements: list[tuple[str, Any]]) -> Callable[[], Any]:
    """The statements a page sent, run again through the driver and fetched, then rolled back
    (a page may also write, e.g. a session's last-seen time)."""

    def run() -> None:
        with database.engine.connect() as conn:
            for statement, parameters in statements:
                if statement.split(None, 1)[0].upper() in TRANSACTION_CONTROL:
                    continue  # the connection's own transaction stands in for the page's
                result = conn.exec_driver_sql(statement, parameters)
                if result.returns_rows:
                    result.all()
            conn.rollback()

    return run


def breakdown(database: Database, n: int) -> list[tuple[str, list[float]]]:
    """Where the estate page's time goes: its register reads, then each rendering step."""
    data: dict[str, Any] = {}

    def read_estate() -> None:
        data["estate"] = database.read(queries.estate)

    def read_trend() -> None:
        data["points"] = database.read(lambda tx: queries.trend(tx, days=90))

    read_estate()
    read_trend()

    def render() -> None:
        environment().get_template("estate.html").render(
            {
                "request_path": "/",
                "user": None,
                "csrf_token": "x" * 43,
                "flash": None,
                "error": None,
                "values": {},
                "failed_form": None,
                "oidc_name": None,
                "estate": data["estate"],
                "heatmap": heatmap(data["estate"]),
                "compliance_chart": charts.compliance_svg(data["estate"].compliance),
                "trend_chart": charts.trend_svg(data["points"]),
                "points": data["points"],
                "q": "",
                "failing": False,
                "trend_days": 90,
            }
        )

    return [
        ("read: queries.estate (matrix + compliance)", timed(read_estate, n)),
        ("read: queries.trend, uncached (page: TrendCache)", timed(read_trend, n)),
        ("render: heatmap(estate) alone", timed(lambda: heatmap(data["estate"]), n)),
        ("render: whole template (incl. heatmap)", timed(render, n)),
    ]


def line(label: str, times: list[float], target: float | None, floor: float | None) -> str:
    median = statistics.median(times)
    text = f"  {label:<52} median {median:7.1f} ms   p90 {percentile(times, 0.9):7.1f} ms"
    if target is not None:
        text += f"   {median / target:5.2f}x of {target:.0f} ms"
    if floor is not None and floor > 0:
        text += f"   {median / floor:5.1f}x floor"
    return text


def pause_line(label: str, result: Timed) -> str:
    median = statistics.median(result.times)
    p90 = percentile(result.times, 0.9)
    pauses = result.full_collections
    longest = f"longest {max(pauses):6.1f} ms" if pauses else "longest      - ms"
    return (
        f"  {label:<40} median {median:7.1f} ms   p90 {p90:7.1f} ms   p90/median "
        f"{p90 / median:4.1f}   full collections {len(pauses):3d} in {len(result.times)} "
        f"requests, {longest}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--repositories", type=int, default=2_000)
    ap.add_argument("--controls", type=int, default=20)
    ap.add_argument("--risks", type=int, default=10_000)
    ap.add_argument("--scans-per-repository", type=int, default=1)
    ap.add_argument("-n", type=int, default=15, help="timed requests per page")
    ap.add_argument("--sqlite", action="store_true", help="a SQLite register instead")
    args = ap.parse_args()

    with register(args.sqlite) as database:
        t0 = time.perf_counter()
        add_accounts(database, ["security"])
        counts = bulk_seed(
            database,
            repositories=args.repositories,
            controls=args.controls,
            risks=args.risks,
            scans_per_repository=args.scans_per_repository,
        )
        print(
            f"register: {database.dialect}; seeded in {time.perf_counter() - t0:.1f} s: "
            + ", ".join(f"{v:,} {k}" for k, v in counts.items())
        )
        app = create_app(web_settings(str(database.url)), database)
        paths = ["/healthz", ESTATE, RISKS, RISKS_FILTERED]
        first: dict[str, float] = {}
        rounds: dict[bool, list[dict[str, Timed]]] = {False: [], True: []}
        for served in (False, True, False, True):
            with collector(served):
                rounds[served].append(
                    asyncio.run(time_pages(app, database.engine, paths, args.n, first))
                )
        pages, untuned = merged(rounds[True]), merged(rounds[False])
        floors = {
            path: timed(sql_floor(database, pages[path].statements), args.n) for path in paths[1:]
        }
        parts = breakdown(database, args.n)

    print(
        f"\nserver time per request, N={2 * args.n} in two rounds (after {WARM_UP} warm-up each), "
        f"collector as serve runs it, target {TARGET_MS:.0f} ms"
    )
    names = {
        "/healthz": "trivial page /healthz (baseline)",
        ESTATE: "estate page /",
        RISKS: "risk list, first page",
        RISKS_FILTERED: "risk list, filtered + sorted, page 3",
    }
    missed = []
    for path, result in pages.items():
        times = result.times
        floor = statistics.median(floors[path]) if path in floors else None
        target = TARGET_MS if path != "/healthz" else None
        print(line(names[path], times, target, floor))
        if target is not None and statistics.median(times) > target:
            missed.append(names[path])
    print(
        "\npauses: the collector as serve runs it (start-up heap frozen, thresholds "
        f"{GC_THRESHOLDS}) against CPython's defaults {gc.get_threshold()}, alternating rounds"
    )
    short = {ESTATE: "estate", RISKS: "risk list", RISKS_FILTERED: "risk list, filtered"}
    for path in paths[1:]:
        print(pause_line(f"{short[path]}, defaults", untuned[path]))
        print(pause_line(f"{short[path]}, as served", pages[path]))
        ratio = percentile(untuned[path].times, 0.9) / percentile(pages[path].times, 0.9)
        print(f"  {'':<40} p90 {ratio:4.1f}x lower as served")
    print("\nfirst request of each page (cold caches)")
    for path, result in pages.items():
        print(f"  {names[path]:<52} {result.first:7.1f} ms")
    print("\nsame-run floors: the bare SQL behind each page (its statements, run again)")
    for path, times in floors.items():
        label = f"{len(pages[path].statements)} statements of {names[path]}"
        print(line(label[:52], times, None, None))
    print("\nestate page breakdown")
    for label, times in parts:
        print(line(label, times, None, None))
    print("\nwhat the pages showed")
    for path, result in pages.items():
        if result.shows:
            print(f"  {path}: {result.shows.strip()} ({result.size / 1024:,.0f} KiB of HTML)")
    if missed:
        print("MISSED the 300 ms target: " + "; ".join(missed))
        sys.exit(1)
    print("both pages within the 300 ms median target")


if __name__ == "__main__":
    main()
