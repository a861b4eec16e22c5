"""The dashboard application: `create_app(settings) -> FastAPI` (see the package docstring for
the routes and ADR 0008 for the security decisions).

Order of the layers, outermost first: security headers (on every response, errors included), the
signed session cookie, then the app-wide CSRF check (a dependency of every route), the route's
role check (a dependency), and the route. Register errors become a page with the message and
the form as it was typed; nothing becomes a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from importlib import resources
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from secposture.register.database import Database, safe_message, safe_url
from secposture.register.errors import Conflict, DatabaseError, NotFound, RegisterError
from secposture.watch.interface import WatchSettings
from secposture.watch.service import WatchState
from secposture.web.auth import OidcClient
from secposture.web.context import (
    CsrfRefused,
    SignInRequired,
    WebState,
    csrf_protect,
    signed_in,
)
from secposture.web.queries import TrendCache
from secposture.web.rendering import page
from secposture.web.security import BodyLimit, LoginLimiter, PasswordCheckGate, SecurityHeaders
from secposture.web.settings import SettingsError, WebSettings

SECURE_COOKIE = "__Host-secposture"  # __Host-: Secure, Path=/, no Domain; the browser insists
PLAIN_COOKIE = "secposture"
UNREACHABLE = (
    "The register cannot be reached just now. Try again in a few minutes; if this goes on, "
    "tell whoever runs the dashboard (the server's log says why)."
)
BUSY = (
    "The register was busy, or the change clashed with another made at the same moment: try again."
)
log = logging.getLogger("secposture.web")
# The largest form: a security issue's six fields at the register's limit of 20,000 characters
# each, in UTF-8 and URL-encoded, fits well within this.
MAX_BODY_BYTES = 2 * 1024 * 1024


def cookie_name(settings: WebSettings) -> str:
    return SECURE_COOKIE if settings.secure_cookies else PLAIN_COOKIE


def create_app(
    settings: WebSettings,
    database: Database | None = None,
    *,
    watch: WatchState | None = None,
) -> FastAPI:
    """The dashboard over the register `settings.database_url` (or an open `database`, which
    the caller then closes). `watch`: the webhook's settings and the worker to wake [default:
    settings from the environment, no worker]; a worker given is started and stopped with the
    app."""
    owned = database is None
    register = (
        database
        if database is not None
        else Database.open(settings.database_url, timezone=settings.timezone)
    )
    try:
        _check_schema(register)
        oidc = OidcClient(settings.oidc) if settings.oidc is not None else None
        secret = settings.resolved_secret()
    except BaseException:
        if owned:
            register.close()
        raise

    watching = watch if watch is not None else WatchState(WatchSettings.from_env())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if watching.watcher is not None:
            watching.watcher.start()
        yield
        if watching.watcher is not None:
            await run_in_threadpool(watching.watcher.stop)
        if owned:
            register.close()

    app = FastAPI(
        title="secposture",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(csrf_protect)],
        lifespan=lifespan,
    )
    window = settings.login_window.total_seconds()
    app.state.web = WebState(
        settings=settings,
        database=register,
        limiter=LoginLimiter(
            settings.login_failures_per_account, settings.login_failures_per_client, window
        ),
        password_checks=PasswordCheckGate(
            settings.password_checks_at_once, settings.password_check_wait.total_seconds()
        ),
        oidc=oidc,
        trend=TrendCache(),
    )
    app.state.watch = watching
    _add_routes(app)
    static = resources.files("secposture.web").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    _add_error_pages(app)
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie=cookie_name(settings),
        max_age=int(settings.session_lifetime / timedelta(seconds=1)),
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)
    app.add_middleware(SecurityHeaders, hsts=settings.secure_cookies)
    return app


# The collector's thresholds while serving (ADR 0013). A risk-list request allocates some 20,000
# container objects; at CPython's default 700 a request ran about 30 young collections, and
# every ten of ten of those a full one, which walked the whole ~150,000-object heap (the ORM,
# Jinja2, FastAPI, the catalogue) for up to 200 ms on a busy machine: one request in five had
# one, so p90 was three to four times the median. With the start-up heap frozen a full
# collection walks only what came after it, and a young generation of 10,000 lets most of a
# request's objects be freed by reference counting before any collection looks at them.
GC_THRESHOLDS = (10_000, 10, 10)


def settle_heap() -> None:
    """Once the app is built, before serving: compile every template, then move everything
    alive into the collector's permanent generation (gc.freeze: never scanned again; start-up
    objects live as long as the process anyway) and set GC_THRESHOLDS. Process-wide, so
    `serve` calls it, not create_app (tests build many apps in one process)."""
    import gc

    from secposture.web.rendering import environment

    templates = environment()
    for name in templates.list_templates():
        templates.get_template(name)
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def _check_schema(database: Database) -> None:
    """The accounts tables come with migration 0002; a register opened by an older secposture's
    Database.open may not have them yet."""
    from sqlalchemy import inspect

    # Through the register's own read, so a failure is its redacted error (ADR 0013).
    if not database.read(lambda tx: inspect(tx.session.connection()).has_table("web_user")):
        raise SettingsError(
            "the register has no dashboard accounts table (migration 0002): upgrade secposture, "
            "whose next `secposture` register command migrates it"
        )


def _add_routes(app: FastAPI) -> None:
    from secposture.web.routes import (
        due,
        estate,
        github_webhook,
        issues,
        products,
        risks,
        session,
        users,
        waivers,
        watch,
    )

    for module in (
        session,
        estate,
        products,
        due,
        issues,
        risks,
        waivers,
        users,
        watch,
        github_webhook,
    ):
        app.include_router(module.router)


def _add_error_pages(app: FastAPI) -> None:
    @app.exception_handler(SignInRequired)
    async def sign_in(request: Request, exc: SignInRequired) -> Response:
        target = "/login"
        if exc.next_path and exc.next_path != "/":
            target += "?" + urlencode({"next": exc.next_path})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(CsrfRefused)
    async def csrf(request: Request, exc: CsrfRefused) -> Response:
        return await _error(
            request,
            403,
            "The form has expired or did not come from this site",
            "Go back, reload the page and try again.",
        )

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        titles = {403: "Not allowed", 404: "Not found", 405: "Method not allowed"}
        detail = exc.detail if isinstance(exc.detail, str) else ""
        return await _error(request, exc.status_code, titles.get(exc.status_code, "Error"), detail)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        return await _error(request, 400, "Bad request", "The address or form was not understood.")

    @app.exception_handler(RegisterError)
    async def register_error(request: Request, exc: RegisterError) -> Response:
        status = 404 if isinstance(exc, NotFound) else 409 if isinstance(exc, Conflict) else 400
        url = request.app.state.web.database.url
        message = str(exc)
        if isinstance(exc, DatabaseError) or safe_url(url) in message:
            # The database's own words are for whoever runs the dashboard (redacted again, in
            # case a message was built elsewhere), never for the page: ADR 0013.
            log.error("the register cannot be reached: %s", safe_message(message, url))
            if isinstance(exc, DatabaseError):
                return await _error(request, 503, "Not done", UNREACHABLE)
            return await _error(request, status, "Not done", BUSY)
        return await _error(request, status, "Not done", message)

    from starlette.exceptions import HTTPException as StarletteHTTPException

    @app.exception_handler(StarletteHTTPException)
    async def starlette_error(request: Request, exc: StarletteHTTPException) -> Response:
        return await http_error(request, HTTPException(exc.status_code, exc.detail))


async def _error(request: Request, status: int, title: str, detail: str) -> Response:
    if request.url.path.startswith("/static/"):
        return PlainTextResponse(title, status_code=status)
    if not hasattr(request.state, "user"):  # an unknown address: still show who is signed in
        try:
            await run_in_threadpool(signed_in, request)
        except RegisterError:  # the register is down too: the page shows no one signed in
            request.state.user = None
    return page(request, "error.html", {"title": title, "detail": detail}, status_code=status)
