"""Opening the register: where it is, the engine, migrations on open, and transactions.

Where: `--db URL` (or a file path), else $SECPOSTURE_DATABASE_URL, else the SQLite file
`$XDG_DATA_HOME/secposture/register.db` (default `~/.local/share/secposture/register.db`).
PostgreSQL URLs (`postgresql://user@host/db`) use psycopg 3.

Transactions: `Database.write(actor, fn)` runs `fn(tx)` in one transaction and retries it when a
concurrent writer got there first (a stale version, a lock timeout, a serialization failure or a
unique key taken in between), so no update is lost and nothing is half-written. On SQLite a write
transaction starts with BEGIN IMMEDIATE: writers queue on the file lock (WAL mode lets readers
carry on) instead of failing when two upgrade their read lock at once.
"""

from __future__ import annotations

import os
import random
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote

from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    IntegrityError,
    NoSuchModuleError,
    OperationalError,
)
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from secposture.register.errors import Conflict, DatabaseError, RegisterError
from secposture.register.location import ENV_URL, default_path

ENV_TIMEZONE = "SECPOSTURE_TIMEZONE"
DEFAULT_TIMEZONE = "Europe/London"
# The newest migration in migrations/versions (a test checks they agree): a register already at
# this revision opens without loading Alembic at all.
HEAD_REVISION = "0005"
MIGRATIONS = Path(__file__).parent / "migrations"
# Any fixed number: PostgreSQL's advisory lock that lets one process at a time migrate.
MIGRATION_LOCK = 0x5EC905
SQLITE_BUSY_SECONDS = 30.0
WRITE_ATTEMPTS = 12
# PostgreSQL SQLSTATEs worth retrying: serialization failure, deadlock, lock not available.
_RETRY_SQLSTATES = {"40001", "40P01", "55P03"}

T = TypeVar("T")


@dataclass
class Tx:
    """One transaction: the session, who is acting, and the moment the change is recorded at."""

    session: Session
    actor: str
    now: datetime
    writing: bool
    timezone: str = DEFAULT_TIMEZONE

    @property
    def today(self) -> date:
        """The calendar date in the team's time zone: what "today" means for due dates."""
        from secposture.register.due import local_today

        return local_today(self.timezone, now=self.now)


HIDDEN = "***"
# Connection options shown as they are: they say how to connect, never where or as whom. Any
# other option's value (password, sslpassword, passfile, host, hostaddr, port, user, service,
# sslkey, options, ...) is hidden.
_SHOWN_OPTIONS = frozenset(
    {
        "application_name",
        "channel_binding",
        "client_encoding",
        "connect_timeout",
        "gssencmode",
        "sslmode",
        "target_session_attrs",
    }
)
# Shorter values are not hunted for in free text: masking them would garble the message.
_MIN_MASKED_CHARS = 3
# What libpq and psycopg name in their own words: `at "HOST" (ADDRESS)`, `on socket "PATH"`,
# `user "NAME"`, `role "NAME"`, `host name "HOST"`, `host 'HOST'`, `hostaddr: 'ADDRESS'`, `port N`.
_DRIVER_NAMES = re.compile(
    r"""\b(at|on socket|user|role|host name|host|hostaddr|port)(:?\s+)(?:"[^"]*"|'[^']*')"""
    r"""(?:\s*\([^)]*\))?"""
)
_DRIVER_PORT = re.compile(r"\b(port)(:?\s+)\d+")


def safe_url(url: URL) -> str:
    """The register's URL as every message shows it (ADR 0013): a PostgreSQL URL keeps its
    driver, database name and harmless options, and hides the user, password, host and port and
    every other option's value (`?password=`, `sslpassword=`, `passfile=`, `host=`...). A SQLite
    register is a file of the user's own: its path is shown."""
    if url.get_backend_name() == "sqlite":
        return url.render_as_string(hide_password=True)
    query = {
        key: value if key.lower() in _SHOWN_OPTIONS else HIDDEN for key, value in url.query.items()
    }
    hidden = URL.create(
        url.drivername,
        username=HIDDEN if url.username else None,
        password=HIDDEN if url.password else None,
        host=HIDDEN if url.host else None,
        database=url.database,
        query=query,
    )
    # Unquoted: the placeholders read as *** rather than %2A%2A%2A.
    return unquote(hidden.render_as_string(hide_password=False))


def safe_message(text: str, url: URL) -> str:
    """`text` about `url` (a driver's error, say) without what safe_url hides: every such value
    of the URL wherever it appears, and the hosts, addresses, ports and user names the driver
    names in its own words."""
    values = {url.username, url.password, url.host, str(url.port) if url.port else None}
    for key, value in url.query.items():
        if key.lower() not in _SHOWN_OPTIONS:
            values.update(value if isinstance(value, tuple) else (value,))
    values.add(url.render_as_string(hide_password=False))
    for value in sorted((v for v in values if v), key=len, reverse=True):
        if len(value) >= _MIN_MASKED_CHARS:
            text = text.replace(value, HIDDEN)
    for pattern in (_DRIVER_NAMES, _DRIVER_PORT):
        text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}{HIDDEN}", text)
    return text


def resolve_url(db: str | None, *, create: bool = True) -> URL:
    """The database to open: `--db` (URL or file path), else $SECPOSTURE_DATABASE_URL, else the
    default SQLite file (its folder created, private to the user, when `create`)."""
    given = db if db else os.environ.get(ENV_URL) or None
    if given is None:
        path = default_path()
        if create:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        return URL.create("sqlite", database=str(path))
    if "://" not in given:
        return URL.create("sqlite", database=str(Path(given).expanduser()))
    try:
        url = make_url(given)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise DatabaseError(
            "--db: not a database URL (use sqlite:///PATH, a file path, or "
            "postgresql://USER@HOST/DATABASE)"
        ) from None
    backend = url.get_backend_name()
    if backend == "postgresql":
        if url.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
            url = url.set(drivername="postgresql+psycopg")
        return url
    if backend == "sqlite":
        return url
    raise DatabaseError(
        f"--db: {backend} databases are not supported: use SQLite or PostgreSQL ({safe_url(url)})"
    )


class Database:
    """An open register: `Database.open(url)` migrates it to the current schema."""

    def __init__(
        self,
        engine: Engine,
        timezone: str | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.engine = engine
        self.url = engine.url
        self.timezone = _checked_timezone(
            timezone or os.environ.get(ENV_TIMEZONE) or DEFAULT_TIMEZONE
        )
        # The moment each transaction records (and "today" derives from): the wall clock, or a
        # fixed one that tests and reproducible runs hand in.
        self.clock = clock or _utc_now
        self.missing: str | None = None  # see open(create=False)
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(
        cls,
        db: str | None = None,
        *,
        timezone: str | None = None,
        clock: Callable[[], datetime] | None = None,
        create: bool = True,
    ) -> Database:
        """Open (creating and migrating as needed) the register `db` names (see resolve_url);
        `timezone` is the team's, for "today" [default: $SECPOSTURE_TIMEZONE, else
        Europe/London]; `clock` gives "now" [default: the system's clock, in UTC].

        `create=False` is for commands that only read: a SQLite register that does not exist
        yet is not created (a later scan would then find a register and behave differently);
        an empty one in memory stands in for it, and `missing` names the file."""
        url = resolve_url(db, create=create)
        missing = None if create else _missing_sqlite_file(url)
        engine = _memory_engine() if missing else _engine(url)
        try:
            database = cls(engine, timezone, clock)
            database.missing = missing
            database.migrate()
        except BaseException:
            engine.dispose()
            raise
        return database

    @property
    def missing_note(self) -> str | None:
        """What to tell a reader of a register that does not exist yet (None: it exists)."""
        if self.missing is None:
            return None
        return (
            f"note: no register at {self.missing} yet, so nothing is recorded "
            "(a write such as `secposture product add` creates it)"
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- transactions -------------------------------------------------------------------------

    def write(self, actor: str, fn: Callable[[Tx], T], *, attempts: int = WRITE_ATTEMPTS) -> T:
        """`fn(tx)` in one transaction, committed; retried when a concurrent writer collided.

        `fn` must only touch the database (it may run more than once). A RegisterError it raises
        rolls everything back and is not retried."""
        return self._run(actor, fn, writing=True, attempts=attempts)

    def read(self, fn: Callable[[Tx], T]) -> T:
        """`fn(tx)` in a read-only transaction (rolled back at the end)."""
        return self._run("", fn, writing=False, attempts=3)

    def _run(self, actor: str, fn: Callable[[Tx], T], *, writing: bool, attempts: int) -> T:
        for attempt in range(1, attempts + 1):
            try:
                with self._session(writing) as session:
                    tx = Tx(session, actor, self.clock(), writing, self.timezone)
                    result = fn(tx)
                    if writing:
                        session.commit()
                    return result
            except RegisterError:
                raise
            except (StaleDataError, IntegrityError, OperationalError) as exc:
                if not _retryable(exc) or attempt == attempts:
                    raise _translate(exc, self.url, attempts) from None
                # Back off a growing, random while so the two writers stop colliding.
                time.sleep(random.uniform(0.005, 0.02) * attempt)  # noqa: S311  # nosec B311
            except DBAPIError as exc:
                raise _translate(exc, self.url, attempts) from None
        raise AssertionError("unreachable")

    @contextmanager
    def _session(self, writing: bool) -> Iterator[Session]:
        with self._sessions() as session:
            # The options reach the connection before its BEGIN (see _sqlite_begin).
            session.connection(execution_options={"secposture_write": writing})
            try:
                yield session
            finally:
                session.rollback()

    # --- schema -------------------------------------------------------------------------------

    def revision(self) -> str | None:
        """The schema revision the database is at (None: empty database)."""
        try:
            with self.engine.connect() as conn:
                return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except (OperationalError, DBAPIError) as exc:
            if _missing_table(exc):
                return None
            raise _translate(exc, self.url, 1) from None

    def migrate(self) -> None:
        """Bring the schema to HEAD_REVISION, one process at a time."""
        if self.revision() == HEAD_REVISION:
            return
        from alembic import command
        from alembic.config import Config
        from alembic.util import CommandError

        try:
            with self.engine.connect() as conn:
                conn = conn.execution_options(secposture_write=True)
                with conn.begin():
                    if self.dialect == "postgresql":
                        conn.execute(
                            text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
                        )
                    config = Config()
                    config.set_main_option("script_location", str(MIGRATIONS))
                    config.attributes["connection"] = conn
                    command.upgrade(config, "head")
        except CommandError as exc:
            raise DatabaseError(
                f"{safe_url(self.url)}: cannot migrate the register "
                f"({safe_message(str(exc), self.url)}); it may have been created by a newer "
                "secposture: upgrade secposture"
            ) from None
        except DBAPIError as exc:
            raise _translate(exc, self.url, 1) from None


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _checked_timezone(name: str) -> str:
    from secposture.register.due import local_today

    try:
        local_today(name)
    except ValueError as exc:
        raise DatabaseError(f"{ENV_TIMEZONE}: {exc}") from None
    return name


def _engine(url: URL) -> Engine:
    try:
        if url.get_backend_name() == "sqlite":
            return _sqlite_engine(url)
        return create_engine(url, connect_args={"connect_timeout": 10})
    except NoSuchModuleError:
        raise DatabaseError(f"--db: no driver for {url.drivername}") from None
    except ModuleNotFoundError as exc:
        raise DatabaseError(
            f"--db: PostgreSQL needs psycopg: pip install 'secposture[postgres]' ({exc.name})"
        ) from None


def _missing_sqlite_file(url: URL) -> str | None:
    """The path of a SQLite register that does not exist yet (None: it exists, or not SQLite)."""
    if url.get_backend_name() != "sqlite" or not url.database:
        return None
    path = Path(url.database)
    if path.exists() or path.is_symlink():
        return None
    # A named file in a folder that does not exist is a typo, reported as for a write; the
    # embedded register's folder is made only by the first write.
    return str(path) if path.parent.is_dir() or path == default_path() else None


def _memory_engine() -> Engine:
    """An empty register in memory, one connection shared by every session (StaticPool)."""
    from sqlalchemy.pool import StaticPool

    engine = create_engine(
        "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        raise DatabaseError("--db: give the SQLite database a file path (sqlite:///PATH)")
    path = Path(database)
    if path.is_dir():
        raise DatabaseError(
            f"--db: {path} is a folder; give a file name such as {path}/register.db"
        )
    if not path.parent.is_dir():
        raise DatabaseError(f"--db: folder {path.parent} does not exist")
    if not path.exists():
        _create_private_file(path)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS})
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _create_private_file(path: Path) -> None:
    """The register holds security issues: readable by its owner only."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
    except FileExistsError:
        pass  # another process created it first
    except OSError as exc:
        raise DatabaseError(f"--db: cannot create {path}: {exc.strerror or exc}") from None


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy emits BEGIN itself (below): Python's sqlite3 would begin too late, after reads.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    writing = conn.get_execution_options().get("secposture_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


def _sqlstate(exc: DBAPIError) -> str | None:
    state = getattr(exc.orig, "sqlstate", None)
    return state if isinstance(state, str) else None


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, StaleDataError | IntegrityError):
        return True
    if isinstance(exc, OperationalError):
        message = str(exc.orig).lower()
        return (
            _sqlstate(exc) in _RETRY_SQLSTATES
            or "database is locked" in message
            or "database table is locked" in message
            or "busy" in message
        )
    return False


def _missing_table(exc: DBAPIError) -> bool:
    message = str(exc.orig).lower()
    return "no such table" in message or _sqlstate(exc) == "42P01"


def _translate(exc: Exception, url: URL, attempts: int) -> RegisterError:
    """A database failure as one line that names the database but never its password."""
    if isinstance(exc, StaleDataError):
        return Conflict(
            f"the record was changed by someone else at the same time, {attempts} times in a "
            "row; try again"
        )
    where = safe_url(url)
    detail = str(exc.orig) if isinstance(exc, DBAPIError) else str(exc)
    detail = safe_message(" ".join(detail.split()), url)
    if isinstance(exc, IntegrityError):
        return Conflict(f"{where}: the change clashed with another record ({detail})")
    if "file is not a database" in detail:
        return DatabaseError(f"--db: {url.database} is not a SQLite database")
    if isinstance(exc, OperationalError) and _retryable(exc):
        return Conflict(f"{where}: the register is busy ({detail}); try again")
    return DatabaseError(f"{where}: {detail}")


def revision_command(message: str, url: str) -> Path:
    """For developers: write the next migration by comparing models.py with `url` at head."""
    from alembic import command
    from alembic.config import Config

    database = Database.open(url)
    try:
        number = int(HEAD_REVISION) + 1
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.set_main_option("file_template", "r%%(rev)s_%%(slug)s")
        with database.engine.begin() as conn:
            config.attributes["connection"] = conn
            script = command.revision(config, message, autogenerate=True, rev_id=f"{number:04d}")
    finally:
        database.close()
    if script is None or isinstance(script, list):
        raise DatabaseError("alembic wrote no single revision")
    return Path(script.path)


if __name__ == "__main__":  # python -m secposture.register.database revision MESSAGE [URL]
    import sys

    if len(sys.argv) < 3 or sys.argv[1] != "revision":
        raise SystemExit("usage: python -m secposture.register.database revision MESSAGE [URL]")
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        target = sys.argv[3] if len(sys.argv) > 3 else f"sqlite:///{scratch}/scratch.db"
        print(revision_command(sys.argv[2], target))
