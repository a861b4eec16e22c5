"""The register's storage: where it lives, migrations, history, locking, and two real processes
writing at once, on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from postgres import PostgresServer
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm.exc import StaleDataError

from secposture.register.database import HEAD_REVISION, MIGRATIONS, Database, Tx, resolve_url
from secposture.register.errors import Conflict, DatabaseError, NotFound
from secposture.register.history import history_of
from secposture.register.models import Base, History, Product, Risk
from secposture.register.products import add_product, get_product, retire_product, update_product
from secposture.register.risks import RiskInput, add_action, add_risk, get_risk, review_risk

SRC = Path(__file__).resolve().parent.parent / "src"


def _product(tx: Tx, name: str = "payments") -> Product:
    return add_product(
        tx, name, owner="Jo Bloggs", repositories=["acme/pay-api"], data_classification="official"
    )


def _risk(tx: Tx, product: str = "payments") -> Risk:
    return add_risk(
        tx,
        RiskInput(
            title="Webhook replay",
            register="product",
            product=product,
            cause="webhooks are not signed",
            event="a refund is replayed",
            effect="money lost",
            owner="Jo Bloggs",
            likelihood_before=3,
            impact_before=4,
            treatment="treat",
        ),
    )


# --- where the register lives ---------------------------------------------------------------


def test_default_register_is_under_xdg_data_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SECPOSTURE_DATABASE_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    with Database.open() as database:
        database.write("tester", _product)
    path = tmp_path / "data" / "secposture" / "register.db"
    assert path.is_file()
    # The register holds security issues: only its owner may read it.
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_default_register_falls_back_to_local_share(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SECPOSTURE_DATABASE_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")  # XDG: relative paths are ignored
    monkeypatch.setenv("HOME", str(tmp_path))
    url = resolve_url(None)
    assert url.database == str(tmp_path / ".local" / "share" / "secposture" / "register.db")


def test_environment_url_then_option_win(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECPOSTURE_DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    assert resolve_url(None).database == str(tmp_path / "env.db")
    assert resolve_url(str(tmp_path / "plain-path.db")).database == str(tmp_path / "plain-path.db")
    pg = resolve_url("postgresql://team:s3cret@db.example.org/register")
    assert pg.drivername == "postgresql+psycopg"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u@h/db", "mysql databases are not supported"),
        ("sqlite://", "give the SQLite database a file path"),
        ("sqlite:////no/such/folder/r.db", "folder /no/such/folder does not exist"),
        ("not a url://x", "not a database URL"),
        ("postgresql://u@h:port/db", "not a database URL"),
    ],
)
def test_unusable_database_urls_are_clear_errors(url: str, message: str) -> None:
    with pytest.raises(DatabaseError, match=re.escape(message)):
        Database.open(url)


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are notes, not a database\n" * 100)
    with pytest.raises(DatabaseError, match="is not a SQLite database"):
        Database.open(str(path))


def test_unreachable_postgresql_never_shows_the_password(tmp_path: Path) -> None:
    url = f"postgresql://team:Sup3rS3cret@/register?host={tmp_path}&port=5999"
    with pytest.raises(DatabaseError) as caught:
        Database.open(url)
    assert "Sup3rS3cret" not in str(caught.value)
    assert "***" in str(caught.value)


def test_invalid_time_zone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECPOSTURE_TIMEZONE", "Mars/Olympus")
    with pytest.raises(DatabaseError, match="SECPOSTURE_TIMEZONE: unknown time zone"):
        Database.open(str(tmp_path / "r.db"))


# --- migrations ------------------------------------------------------------------------------


def test_head_revision_constant_matches_the_migrations() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION


def test_migrated_schema_is_exactly_the_models(register_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with Database.open(register_url) as database:
        assert database.revision() == HEAD_REVISION
        with database.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []


def test_a_register_from_a_newer_secposture_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    Database.open(str(path)).close()
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    engine.dispose()
    with pytest.raises(DatabaseError, match="newer secposture"):
        Database.open(str(path))


# --- history ---------------------------------------------------------------------------------


def test_every_change_appends_history_with_before_and_after(register_url: str) -> None:
    with Database.open(register_url) as database:
        database.write("alice", _product)
        database.write(
            "bob", lambda tx: update_product(tx, "payments", add_repositories=["acme/pay-web"])
        )
        database.write("carol", lambda tx: retire_product(tx, "payments"))
        rows = database.read(
            lambda tx: [
                h.to_dict() for h in history_of(tx, "product", get_product(tx, "payments").id)
            ]
        )
    assert [(r["action"], r["actor"]) for r in rows] == [
        ("created", "alice"),
        ("updated", "bob"),
        ("retired", "carol"),
    ]
    assert rows[0]["before"] is None
    assert rows[0]["after"]["repositories"] == ["acme/pay-api"]
    assert rows[1]["before"]["repositories"] == ["acme/pay-api"]
    assert rows[1]["after"]["repositories"] == ["acme/pay-api", "acme/pay-web"]
    assert rows[2]["before"]["status"] == "active"
    assert rows[2]["after"]["status"] == "retired"
    assert rows[0]["at"] <= rows[1]["at"] <= rows[2]["at"]


def test_retired_records_are_kept(register_url: str) -> None:
    with Database.open(register_url) as database:
        database.write("alice", _product)
        database.write("alice", lambda tx: retire_product(tx, "payments"))
        count = database.read(lambda tx: tx.session.scalar(select(func.count(Product.id))))
        status = database.read(lambda tx: get_product(tx, "payments").status)
    assert (count, status) == (1, "retired")


def test_the_register_never_deletes() -> None:
    """Nothing is hard-deleted: no register code issues a DELETE (product repository links go
    with their product's history, through the ORM's orphan handling, and are not records)."""
    for path in (SRC / "secposture" / "register").rglob("*.py"):
        source = path.read_text("utf-8")
        assert ".delete(" not in source, path
        assert "DELETE" not in source.replace("ondelete", ""), path


def test_a_failed_change_writes_no_history(register_url: str) -> None:
    with Database.open(register_url) as database:
        database.write("alice", _product)
        with pytest.raises(NotFound):
            database.write(
                "alice",
                lambda tx: (update_product(tx, "payments", owner="Sam"), get_risk(tx, 99)),
            )
        owner = database.read(lambda tx: get_product(tx, "payments").owner)
        count = database.read(lambda tx: tx.session.scalar(select(func.count(History.id))))
    assert (owner, count) == ("Jo Bloggs", 1)


# --- optimistic locking ----------------------------------------------------------------------


def test_a_change_from_a_stale_copy_is_refused(register_url: str) -> None:
    with Database.open(register_url) as database:
        database.write("alice", _product)
        risk_id = database.write("alice", lambda tx: _risk(tx).id)
        seen = database.read(lambda tx: get_risk(tx, risk_id).version)
        database.write("bob", lambda tx: review_risk(tx, risk_id, expected_version=seen))
        with pytest.raises(Conflict, match="changed by someone else"):
            database.write("carol", lambda tx: review_risk(tx, risk_id, expected_version=seen))
        assert database.read(lambda tx: get_risk(tx, risk_id).version) == seen + 1


def test_a_write_that_loses_a_race_is_retried(tmp_path: Path) -> None:
    attempts = []

    def flaky(tx: Tx) -> int:
        attempts.append(1)
        if len(attempts) == 1:
            raise StaleDataError("risk 1 was updated by another process")
        return _product(tx).id

    with Database.open(str(tmp_path / "r.db")) as database:
        assert database.write("alice", flaky) == 1
    assert len(attempts) == 2


def test_a_write_that_keeps_losing_gives_up_clearly(tmp_path: Path) -> None:
    def always_stale(tx: Tx) -> None:
        raise StaleDataError("stale")

    with (
        Database.open(str(tmp_path / "r.db")) as database,
        pytest.raises(Conflict, match="3 times in a row; try again"),
    ):
        database.write("alice", always_stale, attempts=3)


# --- two real processes writing at once ------------------------------------------------------

WORKER = """
import os, sys, time
from secposture.register.database import Database
from secposture.register.products import add_product
from secposture.register.risks import add_action

url, name, what, count, go = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
while not os.path.exists(go):
    time.sleep(0.002)
database = Database.open(url)  # both processes may be migrating a fresh register right now
for i in range(count):
    if what == "products":
        database.write(name, lambda tx: add_product(
            tx, f"{name}-{i}", owner=name, data_classification="official"))
    else:
        database.write(name, lambda tx: add_action(tx, int(what), f"{name} action {i}"))
database.close()
"""


def _race(url: str, what: str, count: int, tmp_path: Path) -> None:
    """Two processes do `count` writes each, starting together; both must succeed."""
    go = tmp_path / f"go-{what}"
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, url, name, what, str(count), str(go)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("first", "second")
    ]
    time.sleep(0.3)  # let both import and wait on the start line
    go.touch()
    for worker in workers:
        _out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err


def _concurrent_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A fresh, not yet migrated database: the two processes race to create it too."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'race.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_processes_migrate_and_insert_without_losing_anything(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = _concurrent_url(backend, tmp_path, request)
    _race(url, "products", 15, tmp_path)
    with Database.open(url) as database:
        names = database.read(lambda tx: set(tx.session.scalars(select(Product.name))))
        history = database.read(lambda tx: tx.session.scalar(select(func.count(History.id))))
    assert names == {f"{who}-{i}" for who in ("first", "second") for i in range(15)}
    assert history == 30


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_processes_updating_one_risk_lose_no_update(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Each process appends actions to the same risk: read, change, write. Without locking the
    later write would drop the other's actions."""
    url = _concurrent_url(backend, tmp_path, request)
    with Database.open(url) as database:
        database.write("setup", _product)
        risk_id = database.write("setup", lambda tx: _risk(tx).id)
    _race(url, str(risk_id), 20, tmp_path)
    with Database.open(url) as database:
        risk = database.read(lambda tx: get_risk(tx, risk_id).to_dict())
        added = database.read(
            lambda tx: [
                h.actor for h in history_of(tx, "risk", risk_id) if h.action == "action_added"
            ]
        )
    expected = {f"{who} action {i}" for who in ("first", "second") for i in range(20)}
    assert set(risk["actions"]) == expected
    assert len(risk["actions"]) == 40
    assert risk["version"] == 41
    assert sorted(added) == ["first"] * 20 + ["second"] * 20


def test_reads_carry_on_while_another_process_writes(tmp_path: Path) -> None:
    """SQLite runs in WAL mode: a reader is not blocked by an open write transaction."""
    url = str(tmp_path / "r.db")
    with Database.open(url) as writer, Database.open(url) as reader:
        writer.write("alice", _product)

        def slow_write(tx: Tx) -> None:
            update_product(tx, "payments", owner="Sam")
            started = time.perf_counter()
            owner = reader.read(lambda rtx: get_product(rtx, "payments").owner)
            assert owner == "Jo Bloggs"  # the committed value, not the pending one
            assert time.perf_counter() - started < 2

        writer.write("alice", slow_write)
        assert reader.read(lambda tx: get_product(tx, "payments").owner) == "Sam"


def test_records_outlive_a_rolled_back_attempt_in_the_same_process(tmp_path: Path) -> None:
    with Database.open(str(tmp_path / "r.db")) as database:
        database.write("alice", _product)
        with pytest.raises(Conflict):
            database.write(
                "alice", lambda tx: update_product(tx, "payments", owner="X", expected_version=7)
            )
        assert database.read(lambda tx: get_product(tx, "payments").version) == 1


def test_add_action_twice_is_refused(tmp_path: Path) -> None:
    with Database.open(str(tmp_path / "r.db")) as database:
        database.write("alice", _product)
        risk_id = database.write("alice", lambda tx: _risk(tx).id)
        database.write("alice", lambda tx: add_action(tx, risk_id, "sign webhooks"))
        with pytest.raises(Exception, match="already has that action"):
            database.write("alice", lambda tx: add_action(tx, risk_id, "sign webhooks"))


def test_timestamps_are_utc(tmp_path: Path) -> None:
    with Database.open(str(tmp_path / "r.db")) as database:
        created = database.write("alice", lambda tx: _product(tx).created_at)
        stored = database.read(lambda tx: get_product(tx, "payments").created_at)
    assert stored.utcoffset() == timedelta(0)
    assert abs(stored - created) < timedelta(seconds=1)


def test_a_write_holds_the_write_lock_and_a_read_does_not(tmp_path: Path) -> None:
    """SQLite writers queue on BEGIN IMMEDIATE (so none fails upgrading a read lock midway);
    readers take no write lock."""
    import sqlite3

    path = tmp_path / "r.db"

    def try_to_write() -> str:
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            return "free"
        except sqlite3.OperationalError as exc:
            return str(exc)
        finally:
            other.close()

    with Database.open(str(path)) as database:
        assert database.write("alice", lambda tx: (_product(tx), try_to_write())[1]) == (
            "database is locked"
        )
        assert database.read(lambda tx: (get_product(tx, "payments"), try_to_write())[1]) == "free"


def test_risks_without_an_expiry_sort_last_on_both_databases(register_url: str) -> None:
    from secposture.register.risks import accept_risk, list_risks

    with Database.open(register_url) as database:
        database.write("a", _product)
        first = database.write("a", lambda tx: _risk(tx).id)
        second = database.write(
            "a",
            lambda tx: (
                add_risk(
                    tx,
                    RiskInput(
                        title="Other",
                        register="organisation",
                        cause="c",
                        event="e",
                        effect="f",
                        owner="o",
                        likelihood_before=1,
                        impact_before=1,
                        treatment="tolerate",
                    ),
                ).id
            ),
        )
        database.write(
            "a",
            lambda tx: accept_risk(
                tx, second, accepted_by="Director", expires_on=tx.today + timedelta(days=9)
            ),
        )
        for descending in (False, True):
            order = database.read(
                lambda tx, d=descending: [
                    r.id for r in list_risks(tx, sort="expires", descending=d).items
                ]
            )
            assert order == [second, first]
