"""The role matrix, the estate and the account tables on PostgreSQL (the team's register): the
same HTTP requests as test_web_roles.py against a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from test_web_helpers import ROLES, Dashboard, open_dashboard, record, scan_report, today
from test_web_roles import prepare, run_matrix

from secposture.register.database import Database
from secposture.register.models import Base

pytestmark = pytest.mark.parametrize("register_url", ["postgresql"], indirect=True)


@pytest.fixture
def dashboard(register_url: str) -> Iterator[Dashboard]:
    yield from open_dashboard(register_url)


@pytest.mark.parametrize("role", [None, *ROLES])
def test_each_role_sees_and_does_only_what_it_may_on_postgresql(
    dashboard: Dashboard, role: str | None
) -> None:
    ids = prepare(dashboard)
    run_matrix(dashboard, role, ids)


def test_the_estate_and_its_trend_on_postgresql(dashboard: Dashboard) -> None:
    day = today(dashboard.database) - timedelta(days=1)
    record(
        dashboard.database,
        scan_report("acme/a", {"threat-model": "fail"}, when=f"{day}T23:30:00+00:00"),
    )
    record(
        dashboard.database,
        scan_report("acme/a", {"threat-model": "pass"}, when=f"{day}T23:45:00+00:00"),
    )
    record(
        dashboard.database,
        scan_report("acme/b", {"threat-model": "pass"}, when=f"{day}T08:00:00+00:00"),
    )
    html = dashboard.as_role("viewer").get("/").text
    assert "2 of 2 repositories" in html
    assert '<tr data-level="required"><th scope="row">required</th><td>2</td><td>2</td>' in html
    assert f"<tr><td>{day}</td><td>required</td><td>2</td><td>3</td></tr>" in html


def test_the_account_tables_match_the_models_on_postgresql(register_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import secposture.register.web_accounts  # noqa: F401  # the account tables join Base.metadata

    with Database.open(register_url) as database, database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
