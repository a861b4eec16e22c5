"""The history as a person reads it in the terminal: each change's fields, before -> after, as
`--format json` holds them; and a risk review's note, kept in the history (issue 13). Real SQLite
and PostgreSQL registers through the command line."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from conftest import fixed_clock
from postgres import PostgresServer

from secposture.cli.main import cli
from secposture.register.database import HEAD_REVISION, MIGRATIONS, Database, Tx
from secposture.register.models import History

Run = Callable[..., Result]

RISK = (
    "--title", "Webhook replay", "--owner", "Jo Bloggs", "--register", "organisation",
    "--cause", "webhooks are not signed", "--event", "an attacker replays a refund",
    "--effect", "money lost", "--likelihood", "3", "--impact", "4", "--treatment", "treat",
)  # fmt: skip


@pytest.fixture
def run(register_url: str) -> Run:
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        environment = {
            "SECPOSTURE_DATABASE_URL": register_url,
            "SECPOSTURE_ACTOR": "Test Engineer",
            "NO_COLOR": "1",
        }
        return runner.invoke(cli, list(args), env=environment, catch_exceptions=False)

    return invoke


def ok(result: Result) -> str:
    assert result.exit_code == 0, (result.output, result.stderr)
    return result.stdout


def test_history_shows_each_changed_field_before_and_after(run: Run) -> None:
    ok(run("product", "add", "payments", "--owner", "Jo Bloggs", "--repo", "acme/pay-api",
           "--classification", "official"))  # fmt: skip
    ok(run("product", "update", "payments", "--owner", "Sam Smith", "--add-repo", "acme/pay-web"))
    out = ok(run("history", "product", "1"))
    assert "created by Test Engineer" in out and "updated by Test Engineer" in out
    assert "owner: Jo Bloggs → Sam Smith" in out
    assert "repositories: + acme/pay-web" in out
    # The same lines under `show --history`.
    shown = ok(run("product", "show", "payments", "--history"))
    assert "owner: Jo Bloggs → Sam Smith" in shown


def test_a_risk_review_keeps_its_note_in_the_history_and_on_the_risk(run: Run) -> None:
    ok(run("risk", "add", *RISK))
    reviewed = json.loads(
        ok(
            run("risk", "review", "1", "--likelihood-after", "2",
                "--note", "Signed webhooks in test; replay window now 5 minutes",
                "--format", "json")
        )
    )  # fmt: skip
    assert reviewed["last_review_note"] == "Signed webhooks in test; replay window now 5 minutes"
    history = json.loads(ok(run("history", "risk", "1", "--format", "json")))
    assert history[1]["before"]["last_review_note"] is None
    assert history[1]["after"]["last_review_note"] == reviewed["last_review_note"]
    out = ok(run("history", "risk", "1"))
    assert "likelihood after: 3 → 2" in out
    assert "last review note: - → Signed webhooks in test; replay window now 5 minutes" in out
    shown = ok(run("risk", "show", "1"))
    assert "last review note" in shown and "replay window now 5 minutes" in shown
    # The next review without a note: the note is the last review's, so it goes.
    ok(run("risk", "review", "1"))
    assert json.loads(ok(run("risk", "show", "1", "--format", "json")))["last_review_note"] is None


def test_long_and_multi_line_values_read_in_the_terminal(run: Run) -> None:
    ok(run("risk", "add", *RISK))
    long_line = "word " * 400
    note = "First finding: keys rotate.\nSecond finding: backups restore.\n" + long_line
    ok(run("risk", "review", "1", "--note", note))
    out = ok(run("history", "risk", "1"))
    assert "  last review note:\n" in out
    assert "    First finding: keys rotate.\n    Second finding: backups restore.\n" in out
    assert long_line.strip() not in out  # cut short, saying how much more there is
    assert re.search(r"\n    word word .*word… \(1,9\d\d more characters\)\n", out)
    assert "(values cut short with … are whole in --format json)" in out
    assert max(len(line) for line in out.splitlines()) <= 120


def test_history_escapes_what_it_shows(register_url: str, run: Run) -> None:
    """A value in the history is shown as the reports show text: no terminal escapes."""
    ok(run("risk", "add", *RISK))

    def hostile_row(tx: Tx) -> None:
        tx.session.add(
            History(
                entity="risk",
                entity_id=1,
                action="updated",
                actor="mallory\x1b]0;owned\x07",
                at=tx.now,
                before={"owner": "Jo Bloggs"},
                after={"owner": "\x1b[2J\x1b[31mEve\r\nBcc: x"},
            )
        )

    with Database.open(register_url, clock=fixed_clock) as database:
        database.write("test", hostile_row)
    out = ok(run("history", "risk", "1"))
    assert "\x1b" not in out and "\x07" not in out and "\r" not in out
    assert "\\x1b[2J" in out and "mallory\\x1b]0;owned\\x07" in out


# --- the migration that adds the note --------------------------------------------------------


def _register_at(url: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.begin() as conn:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database().replace("postgresql://", "postgresql+psycopg://", 1)


def test_a_register_from_before_the_note_keeps_its_risks(empty_database_url: str) -> None:
    from sqlalchemy import create_engine, text

    _register_at(empty_database_url, "0002")
    engine = create_engine(empty_database_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO risk (id, version, created_at, updated_at, title, register, cause, "
                "event, effect, owner, likelihood_before, impact_before, likelihood_after, "
                "impact_after, score_before, score_after, treatment, actions, next_review_on, "
                "status) VALUES (1, 1, :now, :now, 'Old risk', 'organisation', 'c', 'e', 'f', "
                "'Jo', 3, 4, 3, 4, 12, 12, 'treat', '[]', '2027-01-01', 'open')"
            ),
            {"now": fixed_clock()},
        )
    engine.dispose()
    with Database.open(empty_database_url, clock=fixed_clock) as database:
        assert database.revision() == HEAD_REVISION
        from secposture.register.risks import get_risk

        risk: dict[str, Any] = database.read(lambda tx: get_risk(tx, 1).to_dict())
    assert risk["title"] == "Old risk" and risk["last_review_note"] is None
