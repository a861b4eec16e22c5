"""`secposture serve` and `secposture user add|list|disable|enable`: the dashboard and its
accounts.

Imports only click and the standard library: the dashboard's dependencies load when a command
runs.

`serve` listens on 127.0.0.1:8000 by default. It speaks plain HTTP: for anyone but this machine
put a TLS-terminating proxy in front and pass --allow-remote (it refuses a non-loopback address
without it). Session cookies are Secure (sent only over https) unless --insecure-cookies, which
is for http://localhost development and refused with a non-loopback address.
"""

from __future__ import annotations

import ipaddress
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from secposture.cli.common import (
    actor_option,
    db_option,
    errors_as_input,
    format_option,
    read_register,
    write_register,
)
from secposture.errors import SecpostureError

if TYPE_CHECKING:
    import uvicorn

# The dashboard's register (serve, user): the embedded one unless named.
DB_HELP = (
    "The register: a database URL (sqlite:///PATH, postgresql://USER@HOST/DB) or a SQLite file "
    "[default: $SECPOSTURE_DATABASE_URL, else the embedded register]."
)
SERVE_HELP = """Serve the dashboard: the estate, products, due dates and registers in a browser.

\b
Plain HTTP on 127.0.0.1 by default. To serve others, terminate TLS in front (a reverse proxy
such as nginx or a cloud load balancer) and pass --allow-remote; cookies are Secure, so the
dashboard must be reached over https. For http://localhost development use --insecure-cookies.

\b
Accounts: `secposture user add NAME --role admin` (local, argon2id), or OIDC from the
environment: SECPOSTURE_OIDC_ISSUER, SECPOSTURE_OIDC_CLIENT_ID, SECPOSTURE_OIDC_CLIENT_SECRET,
SECPOSTURE_OIDC_ALLOWED_DOMAINS (and optionally SECPOSTURE_OIDC_ROLES_CLAIM,
SECPOSTURE_OIDC_ROLES, SECPOSTURE_OIDC_NAME). SECPOSTURE_SESSION_SECRET (32+ characters) keeps
people signed in across restarts."""


def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@click.command("serve", help=SERVE_HELP)
@db_option(help=DB_HELP)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--allow-remote",
    is_flag=True,
    help="Listen on a non-loopback address (TLS must be terminated in front).",
)
@click.option(
    "--insecure-cookies",
    is_flag=True,
    help="Cookies without Secure, for plain-http localhost development only.",
)
@click.option(
    "--forwarded-allow-ips",
    metavar="IPS",
    default=None,
    help="The proxies (comma-separated addresses or networks) whose X-Forwarded-For and "
    "X-Forwarded-Proto to believe: the client address the sign-in limit counts, and https for "
    "the OIDC callback. Without it no forwarded header is believed, from anywhere.",
)
@click.option(
    "--watch",
    "watch_org",
    metavar="ORG",
    default=None,
    help="Watch this GitHub organisation (docs/watching.md): rescan a repository when its "
    "GitHub App's webhook says it changed (POST /github/webhook, signed with "
    "$SECPOSTURE_GITHUB_WEBHOOK_SECRET) and the whole organisation on a schedule, and keep an "
    "issue in each repository that fails a required control, as ORG/.github/"
    "secposture-watch.toml allows. GitHub credentials as for scan --org.",
)
@click.option(
    "--full-rescan-every",
    metavar="HOURS",
    type=click.FloatRange(min=0),
    default=None,
    help="--watch: rescan the whole organisation this often; 0 for never "
    "[default: $SECPOSTURE_WATCH_FULL_RESCAN_HOURS, else 24].",
)
@click.option(
    "--watch-worker/--no-watch-worker",
    default=True,
    show_default=True,
    help="--watch: run the rescans in this process; --no-watch-worker only queues them, for "
    "another `serve --watch` process sharing the PostgreSQL register.",
)
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="--watch: the policy the rescans use, as scan --policy.",
)
@click.option(
    "--github-url",
    metavar="URL",
    default=None,
    help="--watch: the GitHub API [default: $GITHUB_API_URL, else https://api.github.com].",
)
@errors_as_input
def serve(
    db: str | None,
    host: str,
    port: int,
    allow_remote: bool,
    insecure_cookies: bool,
    forwarded_allow_ips: str | None,
    watch_org: str | None,
    full_rescan_every: float | None,
    watch_worker: bool,
    policy_file: Path | None,
    github_url: str | None,
) -> None:
    loopback = is_loopback(host)
    if not loopback and not allow_remote:
        raise SecpostureError(
            f"refusing to listen on {host}: the dashboard speaks plain HTTP. Terminate TLS in "
            "front of it (a reverse proxy) and pass --allow-remote, or use --host 127.0.0.1"
        )
    if insecure_cookies and not loopback:
        raise SecpostureError("--insecure-cookies is for plain-http localhost development only")
    import uvicorn

    from secposture.web.app import create_app, settle_heap
    from secposture.web.settings import OidcSettings, WebSettings

    settings = WebSettings(
        database_url=db, secure_cookies=not insecure_cookies, oidc=OidcSettings.from_env()
    )
    if watch_org is None:
        app = create_app(settings)
        database = None
    else:
        app, database = _watching_app(
            settings, watch_org, full_rescan_every, watch_worker, policy_file, github_url
        )
    scheme = "http" if insecure_cookies else "https (via your proxy)"
    click.echo(f"secposture dashboard on http://{host}:{port} — open it over {scheme}", err=True)
    _hint_accounts(app)
    settle_heap()
    config = server_config(app, host=host, port=port, forwarded_allow_ips=forwarded_allow_ips)
    if config.proxy_headers:
        click.echo(f"believing X-Forwarded-For from {config.forwarded_allow_ips}", err=True)
    try:
        uvicorn.Server(config).run()
    finally:
        if database is not None:
            database.close()


def _watching_app(
    settings: Any,
    organisation: str,
    full_rescan_every: float | None,
    worker: bool,
    policy_file: Path | None,
    github_url: str | None,
) -> tuple[Any, Any]:
    """The dashboard with the watcher (started and stopped with the app) over one register."""
    from datetime import timedelta

    from secposture.register.database import Database
    from secposture.sources.github.options import api_url_from
    from secposture.watch.interface import WatchSettings
    from secposture.watch.service import start_watching
    from secposture.web.app import create_app

    every = None if full_rescan_every is None else timedelta(hours=full_rescan_every)
    watch_settings = WatchSettings.from_env(organisation=organisation.strip())
    if every is not None:
        from dataclasses import replace

        watch_settings = replace(watch_settings, full_rescan_every=every or None)
    if not watch_settings.webhook_secret:
        click.echo(
            "watching without webhooks: SECPOSTURE_GITHUB_WEBHOOK_SECRET is not set, so "
            "/github/webhook refuses every delivery (403); only the schedule rescans",
            err=True,
        )
    database = Database.open(settings.database_url, timezone=settings.timezone)
    try:
        watch = start_watching(
            database,
            watch_settings,
            api_url=api_url_from(github_url),
            policy_file=policy_file,
            worker=worker,
        )
        app = create_app(settings, database, watch=watch)
    except BaseException:
        database.close()
        raise
    click.echo(f"watching {organisation}" + ("" if worker else " (queueing only)"), err=True)
    return app, database


def server_config(
    app: Any, *, host: str, port: int, forwarded_allow_ips: str | None
) -> uvicorn.Config:
    """How `serve` runs uvicorn. Forwarded headers are believed only from the proxies the
    operator names: uvicorn by default believes them from 127.0.0.1 (or $FORWARDED_ALLOW_IPS),
    so without a proxy any local client could choose the address the sign-in limit counts."""
    import uvicorn

    trusted = (forwarded_allow_ips or "").strip()
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted,  # never None, which would read $FORWARDED_ALLOW_IPS
        server_header=False,
        log_level="info",
        log_config=_log_config(),
    )


def _log_config() -> dict[str, Any]:
    """uvicorn's logging, with the OIDC callback's code and state kept out of the access log."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_callback"] = {
        "()": "secposture.web.security.RedactCallbackQuery"
    }
    config["handlers"]["access"]["filters"] = ["redact_callback"]
    return config


def _hint_accounts(app: Any) -> None:
    from secposture.web.accounts import list_users

    web = app.state.web
    if web.oidc is None and not web.database.read(list_users):
        click.echo(
            "no accounts yet: add one with `secposture user add NAME --role admin`", err=True
        )


@click.group("user")
def user() -> None:
    """Dashboard accounts: add, list, disable and enable."""


@user.command("add")
@click.argument("username")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["viewer", "engineer", "architect", "security", "admin"]),
    help="What the account may see and do.",
)
@click.option("--name", "display_name", default="", help="The person's name.")
@click.option("--email", default=None, help="Their email address.")
@click.option(
    "--oidc",
    is_flag=True,
    help="No password: the account signs in through OIDC (USERNAME is its email).",
)
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input, not a prompt."
)
@db_option(help=DB_HELP)
@actor_option(help="Who is adding the account, for the history.")
@errors_as_input
def user_add(
    username: str,
    role: str,
    display_name: str,
    email: str | None,
    oidc: bool,
    password_stdin: bool,
    db: str | None,
    actor: str | None,
) -> None:
    """Add a dashboard account (argon2id password, asked for twice)."""
    password = None
    if not oidc:
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    from secposture.web.accounts import NewUser, add_user

    new = NewUser(
        username=username,
        role=role,
        display_name=display_name,
        email=email or (username if oidc else None),
        password=password,
    )
    name = write_register(db, actor, lambda tx: add_user(tx, new).username)
    click.echo(f"added {name} ({role})")


@user.command("list")
@format_option("terminal", "json", help=None, show_default=False)
@db_option(help=DB_HELP)
@errors_as_input
def user_list(fmt: str, db: str | None) -> None:
    """The accounts, their roles and status (never a password hash)."""
    from secposture.web.accounts import list_users

    # Listing never creates a register.
    rows = read_register(db, lambda tx: [u.to_dict() for u in list_users(tx)])
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=True))
        return
    from secposture.reports.register_text import table

    columns = [
        ("username", "User"),
        ("display_name", "Name"),
        ("role", "Role"),
        ("auth", "Sign-in"),
        ("status", "Status"),
    ]
    click.echo(table("Dashboard accounts", columns, rows), nl=False)


def _status_command(name: str, active: bool, doing: str, summary: str) -> None:
    """`user disable` and `user enable`: one account's status, recorded in the history."""

    @user.command(name, help=summary)
    @click.argument("username")
    @db_option(help=DB_HELP)
    @actor_option(help=f"Who is {doing} the account, for the history.")
    @errors_as_input
    def set_account_status(username: str, db: str | None, actor: str | None) -> None:
        from secposture.web.accounts import set_status

        write_register(db, actor, lambda tx: set_status(tx, username, active=active))
        click.echo(f"{name}d {username}")


_status_command(
    "disable",
    False,
    "disabling",
    "Disable an account: it is signed out everywhere and cannot sign in.",
)
_status_command("enable", True, "enabling", "Let a disabled account sign in again.")


def add_commands(group: click.Group) -> None:
    """Add `serve` and `user` to the `secposture` command group."""
    group.add_command(serve)
    group.add_command(user)
