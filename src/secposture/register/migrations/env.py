"""Alembic environment: secposture.register.database runs it on an open connection, inside the
transaction that holds the migration lock, so two processes opening a new register migrate once."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from secposture.register.models import Base


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite alters tables by copying them; batch mode does that
        transactional_ddl=True,  # our SQLite connections run DDL inside the transaction too
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    # `alembic -x url=... revision --autogenerate` from a developer's shell (see README.md here).
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("give the database: alembic -x url=sqlite:///register.db ...")
    engine = create_engine(url)
    with engine.begin() as conn:
        _migrate(conn)
    engine.dispose()


run()
