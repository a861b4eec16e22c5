"""Signing in and out: the local form, OIDC, and a health check for the proxy in front."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from secposture.register.database import Tx
from secposture.register.web_accounts import LOCAL, OIDC
from secposture.web import accounts
from secposture.web.auth import OidcRefused, end_session, start_session
from secposture.web.context import SESSION_KEY, PostedForm, WebState, signed_in, state
from secposture.web.rendering import page
from secposture.web.security import ServerBusy, SignInLimited, csrf_token, safe_next

router = APIRouter()

FAILED = "Sign-in failed: check the user name and password."
LIMITED = "Too many failed sign-ins: wait a few minutes and try again."
BUSY = "The dashboard is busy signing people in: try again in a few seconds."
BUSY_RETRY_SECONDS = 5
NEXT_KEY = "next"


@router.get("/healthz", include_in_schema=False)
def health() -> PlainTextResponse:
    return PlainTextResponse("ok")


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    if signed_in(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, safe_next(next))


def _login_page(
    request: Request, next_path: str, error: str | None = None, status_code: int = 200
) -> Response:
    web = state(request)
    return page(
        request,
        "login.html",
        {
            "next_path": next_path,
            "error": error,
            "oidc_name": web.oidc.settings.name if web.oidc is not None else None,
        },
        status_code=status_code,
    )


@router.post("/login")
async def login(request: Request, form: PostedForm) -> Response:
    web = state(request)
    username = form.text("username").strip()[:200]
    password = form.text("password")
    next_path = safe_next(form.text("next"))
    client = request.client.host if request.client else "unknown"
    try:
        attempt = web.limiter.reserve(username, client)
    except SignInLimited as limited:
        response = _login_page(request, next_path, LIMITED, status_code=429)
        response.headers["Retry-After"] = str(limited.retry_after)
        return response
    hasher = accounts.hasher_for(web.settings.argon2_parameters)

    def check() -> accounts.Account | None:
        user = web.database.read(
            lambda tx: accounts.verify_password(tx, username, password, hasher)
        )
        if user is not None and user.rehash:
            web.database.write(
                user.username, lambda tx: accounts.rehash(tx, user.id, password, hasher)
            )
        return user

    try:
        user = await web.password_checks.run(check)
    except ServerBusy:
        web.limiter.release(attempt)
        response = _login_page(request, next_path, BUSY, status_code=503)
        response.headers["Retry-After"] = str(BUSY_RETRY_SECONDS)
        return response
    except Exception:
        web.limiter.release(attempt)  # the register failed: not a wrong password
        raise
    if user is None:
        return _login_page(request, next_path, FAILED, status_code=401)
    web.limiter.succeeded(attempt)
    await _begin(request, web, user, LOCAL)
    return RedirectResponse(next_path, status_code=303)


async def _begin(request: Request, web: WebState, user: accounts.Account, via: str) -> None:
    """A new session: the old cookie's contents (and CSRF token) are discarded first."""
    old = request.session.get(SESSION_KEY)
    request.session.clear()
    if old is not None:
        await run_in_threadpool(end_session, web.database, old)
    token = await run_in_threadpool(start_session, web.database, user, via, web.settings)
    request.session[SESSION_KEY] = token
    csrf_token(request.session)


@router.post("/logout")
async def logout(request: Request) -> Response:
    web = state(request)
    token = request.session.get(SESSION_KEY)
    request.session.clear()
    await run_in_threadpool(end_session, web.database, token)
    request.session["flash"] = "You have signed out."
    return RedirectResponse("/login", status_code=303)


@router.get("/login/oidc")
async def oidc_start(request: Request, next: str = "/") -> Response:
    web = state(request)
    if web.oidc is None:
        return _login_page(request, "/", "Single sign-on is not configured.", status_code=404)
    request.session[NEXT_KEY] = safe_next(next)
    redirect_uri = str(request.url_for("oidc_callback"))
    try:
        response: Response = await web.oidc.redirect(request, redirect_uri)
    except Exception:  # the provider's metadata could not be read
        return _login_page(
            request, "/", "The identity provider could not be reached.", status_code=502
        )
    return response


@router.get("/auth/callback", name="oidc_callback")
async def oidc_callback(request: Request) -> Response:
    web = state(request)
    if web.oidc is None:
        return _login_page(request, "/", "Single sign-on is not configured.", status_code=404)
    next_path = safe_next(request.session.pop(NEXT_KEY, "/"))
    try:
        identity = await web.oidc.identity(request)
    except OidcRefused as exc:
        return _login_page(request, "/", f"Sign-in failed: {exc}.", status_code=403)

    def bind(tx: Tx) -> accounts.Account | None:
        found = accounts.oidc_user(
            tx,
            issuer=identity.issuer,
            subject=identity.subject,
            email=identity.email,
            email_verified=identity.email_verified,
            display_name=identity.name,
            mapped_role=identity.role,
        )
        return accounts.Account.of(found) if found is not None else None

    try:
        user = await run_in_threadpool(web.database.write, identity.email, bind)
    except OidcRefused as exc:
        return _login_page(request, "/", f"Sign-in failed: {exc}.", status_code=403)
    if user is None:
        return _login_page(
            request, "/", "Sign-in failed: this account may not sign in here.", status_code=403
        )
    await _begin(request, web, user, OIDC)
    return RedirectResponse(next_path, status_code=303)
