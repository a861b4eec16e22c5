"""The dashboard's account tables: migration 0002 creates exactly register/web_accounts.py, and a register
made before the dashboard existed gains them when it is opened."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, inspect

import secposture.register.web_accounts  # noqa: F401  # the account tables join the register's metadata
from secposture.register.database import HEAD_REVISION, MIGRATIONS, Database
from secposture.register.models import Base
from secposture.web.app import create_app
from secposture.web.settings import WebSettings


def test_the_migrated_account_tables_are_exactly_the_models(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with Database.open(str(tmp_path / "r.db")) as database, database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        assert {"web_user", "web_session"} <= set(inspect(conn).get_table_names())


def test_a_register_from_before_the_dashboard_gains_the_account_tables(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    path = tmp_path / "old.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
    engine.dispose()
    with Database.open(str(path)) as database:
        assert database.revision() == HEAD_REVISION
        create_app(WebSettings(database_url=str(path)), database=database)
        assert inspect(database.engine).has_table("web_user")
