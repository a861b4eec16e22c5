"""The sign-in limits under real concurrency: the dashboard under uvicorn on loopback
(tests/web_server.py), many sign-ins sent at once over real connections. An attempt is counted
before its password is checked, so concurrent attempts cannot all slip under the limit; password
checks (argon2id, 64 MiB each by default) run a few at a time; and the client address the limit
counts is the connection's own unless the operator names the proxies to trust (ADR 0013)."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any

import httpx
import pytest
from conftest import fixed_clock
from web_server import serve, web_settings

from secposture.cli.serve import server_config
from secposture.register.database import Database
from secposture.web import accounts
from secposture.web.app import create_app
from secposture.web.security import LoginLimiter, SignInLimited

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "the right password for ann"  # pragma: allowlist secret
WRONG = "not the password at all"


@pytest.fixture
def register(sqlite_register_url: str) -> Iterator[Database]:
    database = Database.open(sqlite_register_url, clock=fixed_clock)
    try:
        yield database
    finally:
        database.close()


def add_account(database: Database, username: str, hashing: dict[str, Any]) -> None:
    hasher = accounts.hasher_for(hashing)
    new = accounts.NewUser(username, "viewer", password=PASSWORD)
    database.write("setup", lambda tx: accounts.add_user(tx, new, hasher))


async def ready_clients(
    stack: AsyncExitStack, base: str, count: int
) -> list[tuple[httpx.AsyncClient, str]]:
    """`count` browsers, each with its own session cookie and the sign-in form's CSRF token."""
    clients = []
    # A new connection per request: on a busy machine getting 60 forms ready can outlast
    # uvicorn's 5 s keep-alive, and a reused connection it has closed fails to read.
    fresh = httpx.Limits(max_keepalive_connections=0)
    for _ in range(count):
        client = await stack.enter_async_context(
            httpx.AsyncClient(base_url=base, timeout=30, limits=fresh)
        )
        form = await client.get("/login")
        match = CSRF.search(form.text)
        assert match is not None
        clients.append((client, match.group(1)))
    return clients


async def post_all(
    clients: list[tuple[httpx.AsyncClient, str]],
    attempts: list[tuple[str, str]],
    headers: list[dict[str, str]] | None = None,
) -> list[httpx.Response]:
    """Every (username, password) posted at the same moment, one connection each."""

    async def one(index: int) -> httpx.Response:
        client, token = clients[index]
        username, password = attempts[index]
        data = {"username": username, "password": password, "csrf_token": token, "next": "/"}
        return await client.post("/login", data=data, headers=(headers or [{}] * 99)[index])

    return list(await asyncio.gather(*(one(i) for i in range(len(attempts)))))


def statuses(responses: list[httpx.Response]) -> Counter[int]:
    return Counter(r.status_code for r in responses)


def test_concurrent_sign_ins_cannot_race_past_the_account_limit(register: Database) -> None:
    # A hash that takes a while to check widens the window a racing attempt would need.
    add_account(register, "ann", {"time_cost": 2, "memory_cost": 4096, "parallelism": 1})
    app = create_app(web_settings(str(register.url)), register)
    with serve(app) as base:

        async def attack() -> tuple[list[httpx.Response], httpx.Response, httpx.Response]:
            async with AsyncExitStack() as stack:
                clients = await ready_clients(stack, base, 60)
                wrong = await post_all(clients[:59], [("ann", WRONG)] * 59)
                right = await post_all(clients[59:], [("ann", PASSWORD)])
                after = await clients[59][0].get("/")
                return wrong, right[0], after

        wrong, right, after = asyncio.run(attack())
    counted = statuses(wrong)
    # 401: the password was checked and was wrong; 429: refused without a check.
    assert counted == {401: 5, 429: 54}, counted
    assert right.status_code == 429 and "Too many failed sign-ins" in right.text
    assert after.status_code == 303 and after.headers["location"] == "/login"


def test_concurrent_sign_ins_cannot_race_past_the_address_limit(register: Database) -> None:
    add_account(register, "ann", {"time_cost": 2, "memory_cost": 4096, "parallelism": 1})
    app = create_app(web_settings(str(register.url), login_failures_per_client=20), register)
    with serve(app) as base:

        async def attack() -> tuple[list[httpx.Response], httpx.Response]:
            async with AsyncExitStack() as stack:
                clients = await ready_clients(stack, base, 60)
                guesses = [(f"guess{i}", WRONG) for i in range(59)]
                wrong = await post_all(clients[:59], guesses)
                right = await post_all(clients[59:], [("ann", PASSWORD)])
                return wrong, right[0]

        wrong, right = asyncio.run(attack())
    assert statuses(wrong) == {401: 20, 429: 39}
    assert right.status_code == 429


def test_password_checks_run_a_few_at_a_time_and_the_rest_are_told_to_retry(
    register: Database,
) -> None:
    # A check takes longer than a sign-in waits for a place (0.1-0.25 s against 0.05 s).
    slow = {"time_cost": 12, "memory_cost": 16384, "parallelism": 1}
    names = [f"user{i}" for i in range(6)]
    for name in names:
        add_account(register, name, slow)
    settings = web_settings(
        str(register.url), password_checks_at_once=1, password_check_wait=timedelta(seconds=0.05)
    )
    app = create_app(settings, register)
    with serve(app) as base:

        async def sign_in_all() -> tuple[list[httpx.Response], list[httpx.Response]]:
            async with AsyncExitStack() as stack:
                clients = await ready_clients(stack, base, len(names))
                first = await post_all(clients, [(name, PASSWORD) for name in names])
                busy = [i for i, r in enumerate(first) if r.status_code == 503]
                retried = [(await post_all([clients[i]], [(names[i], PASSWORD)]))[0] for i in busy]
                return first, retried

        first, retried = asyncio.run(sign_in_all())
    counted = statuses(first)
    assert counted[503] >= 3 and counted[303] >= 1 and counted[503] + counted[303] == 6, counted
    refused = next(r for r in first if r.status_code == 503)
    assert "busy signing people in" in refused.text and int(refused.headers["retry-after"]) > 0
    # A turned-away attempt was never checked, so it counts against no limit: each signs in now.
    assert [r.status_code for r in retried] == [303] * counted[503]


def test_an_attempt_counts_until_it_succeeds_or_was_never_checked() -> None:
    limiter = LoginLimiter(per_account=5, per_client=2, window_seconds=60)
    for moment in range(10):  # successes from one address (a shared NAT) never add up
        limiter.succeeded(limiter.reserve(f"person{moment}", "10.0.0.1", now=moment))
    unchecked = limiter.reserve("ann", "10.0.0.1", now=10)
    limiter.release(unchecked)
    limiter.reserve("bo", "10.0.0.1", now=11)  # a failure: stays counted
    limiter.reserve("cy", "10.0.0.1", now=12)
    with pytest.raises(SignInLimited):
        limiter.reserve("dee", "10.0.0.1", now=13)


def forged_sign_ins(base: str, count: int) -> list[int]:
    """`count` wrong passwords from this machine, each claiming another address."""

    async def send() -> list[int]:
        async with AsyncExitStack() as stack:
            clients = await ready_clients(stack, base, count)
            headers = [{"X-Forwarded-For": f"203.0.113.{i + 1}"} for i in range(count)]
            guesses = [(f"guess{i}", WRONG) for i in range(count)]
            return [r.status_code for r in await post_all(clients, guesses, headers)]

    return asyncio.run(send())


def test_forwarded_addresses_are_not_believed_unless_the_operator_names_the_proxy(
    register: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # uvicorn would believe X-Forwarded-For from 127.0.0.1, or from whatever this says.
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "*")
    app = create_app(web_settings(str(register.url), login_failures_per_client=3), register)
    config = server_config(app, host="127.0.0.1", port=0, forwarded_allow_ips=None)
    assert not config.proxy_headers
    with serve(app, config) as base:
        # One address (the connection's) whatever each request claims: the fourth is refused.
        assert sorted(forged_sign_ins(base, 4)) == [401, 401, 401, 429]


def test_forwarded_addresses_from_a_named_proxy_are_the_client_addresses(
    register: Database,
) -> None:
    app = create_app(web_settings(str(register.url), login_failures_per_client=3), register)
    config = server_config(app, host="127.0.0.1", port=0, forwarded_allow_ips="127.0.0.1")
    with serve(app, config) as base:
        assert forged_sign_ins(base, 4) == [401] * 4  # four clients behind the proxy
