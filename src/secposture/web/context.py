"""What every route shares: the app's state (settings, register, rate limiter, OIDC client),
the signed-in user, role checks and the posted form.

`require(capability)` is the one gate: not signed in -> 303 to /login (back afterwards); signed
in without the role -> 403. Routes ask for it as a dependency, so the check runs before the
route's code, and the role matrix test reads every route's capability from the same table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from starlette.datastructures import FormData

from secposture.register.database import Database
from secposture.web.auth import CAPABILITIES, OidcClient, SignedIn, load_session
from secposture.web.forms import Form
from secposture.web.queries import TrendCache
from secposture.web.security import (
    CSRF_FIELD,
    CSRF_HEADER,
    UNSAFE_METHODS,
    LoginLimiter,
    PasswordCheckGate,
    csrf_valid,
    same_origin,
)
from secposture.web.settings import WebSettings

SESSION_KEY = "sid"
# GitHub's webhook deliveries: no browser and no session; the HMAC signature authenticates them
# instead, and a cross-site form cannot forge it (routes/github_webhook.py, ADR 0019). Nothing
# else is exempt.
CSRF_EXEMPT_PATHS = frozenset({"/github/webhook"})
MAX_FORM_FIELDS = 200


@dataclass
class WebState:
    settings: WebSettings
    database: Database
    limiter: LoginLimiter
    password_checks: PasswordCheckGate
    oidc: OidcClient | None
    trend: TrendCache


class SignInRequired(Exception):
    """Not signed in: the handler redirects to the sign-in page."""

    def __init__(self, next_path: str | None) -> None:
        super().__init__("sign in required")
        self.next_path = next_path


class CsrfRefused(Exception):
    """An unsafe request without this session's CSRF token, or from another origin."""


def state(request: Request) -> WebState:
    web: WebState = request.app.state.web
    return web


def database(request: Request) -> Database:
    return state(request).database


def signed_in(request: Request) -> SignedIn | None:
    """The request's user (None when not signed in), loaded once per request."""
    if hasattr(request.state, "user"):
        cached: SignedIn | None = request.state.user
        return cached
    web = state(request)
    user = load_session(web.database, request.session.get(SESSION_KEY), web.settings)
    if user is None and SESSION_KEY in request.session:
        del request.session[SESSION_KEY]  # ended or expired: forget it
    request.state.user = user
    return user


class Requires:
    """A dependency: the signed-in user, if their role has `capability`."""

    def __init__(self, capability: str) -> None:
        if capability not in CAPABILITIES:
            raise ValueError(f"unknown capability {capability}")
        self.capability = capability

    def __call__(self, request: Request) -> SignedIn:
        user = signed_in(request)
        if user is None:
            path = request.url.path
            if request.url.query:
                path += "?" + request.url.query
            raise SignInRequired(path if request.method == "GET" else None)
        if not user.can(self.capability):
            needed = CAPABILITIES[self.capability]
            raise HTTPException(
                403, f"Your role ({user.role}) does not allow this: it needs {needed} or above."
            )
        return user


# The signed-in user with a capability, as a route parameter type: `user: CanViewRisks`.
CanViewEstate = Annotated[SignedIn, Depends(Requires("view_estate"))]
CanViewProducts = Annotated[SignedIn, Depends(Requires("view_products"))]
CanViewDue = Annotated[SignedIn, Depends(Requires("view_due"))]
CanRaiseIssue = Annotated[SignedIn, Depends(Requires("raise_issue"))]
CanRecordThreatModel = Annotated[SignedIn, Depends(Requires("record_threat_model"))]
CanViewIssues = Annotated[SignedIn, Depends(Requires("view_issues"))]
CanManageIssues = Annotated[SignedIn, Depends(Requires("manage_issues"))]
CanViewRisks = Annotated[SignedIn, Depends(Requires("view_risks"))]
CanManageRisks = Annotated[SignedIn, Depends(Requires("manage_risks"))]
CanViewWaivers = Annotated[SignedIn, Depends(Requires("view_waivers"))]
CanManageWaivers = Annotated[SignedIn, Depends(Requires("manage_waivers"))]
CanEditProducts = Annotated[SignedIn, Depends(Requires("edit_products"))]
CanRecordAssurance = Annotated[SignedIn, Depends(Requires("record_assurance"))]
CanAcceptRisks = Annotated[SignedIn, Depends(Requires("accept_risks"))]
CanManageUsers = Annotated[SignedIn, Depends(Requires("manage_users"))]


async def csrf_protect(request: Request) -> None:
    """App-wide dependency: every unsafe method must carry this session's token."""
    if request.method not in UNSAFE_METHODS:
        return
    if request.url.path in CSRF_EXEMPT_PATHS:
        return
    if not same_origin(request.headers.get("sec-fetch-site")):
        raise CsrfRefused()
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not csrf_valid(request.session, given):
        raise CsrfRefused()


async def posted_form(request: Request) -> Form:
    data: FormData = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    return Form(data)


PostedForm = Annotated[Form, Depends(posted_form)]
