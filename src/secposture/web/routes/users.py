"""Accounts (admin only): list, add (a local password, or an OIDC account by email), change a
role, disable and enable. Each change is in the register's history with the admin as actor."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import func, select
from starlette.responses import RedirectResponse, Response

from secposture.register.database import Tx
from secposture.register.errors import InvalidField, RegisterError
from secposture.register.web_accounts import WebSession
from secposture.web import accounts, queries
from secposture.web.context import CanManageUsers, PostedForm, database, state
from secposture.web.rendering import page
from secposture.web.settings import ROLES

router = APIRouter()


@router.get("/users")
def users_page(request: Request, user: CanManageUsers) -> Response:
    return _users(request)


def _users(
    request: Request,
    error: str | RegisterError | None = None,
    values: dict[str, str] | None = None,
    failed_form: str | None = None,
) -> Response:
    def read(tx: Tx) -> dict[str, Any]:
        last = dict(
            tx.session.execute(
                select(WebSession.user_id, func.max(WebSession.created_at)).group_by(
                    WebSession.user_id
                )
            ).all()
        )
        users = [{**u.to_dict(), "last_sign_in": last.get(u.id)} for u in accounts.list_users(tx)]
        names = {u["id"]: u["username"] for u in users}
        history = [
            {**row, "user": names.get(row["entity_id"], "?")}
            for row in queries.history_rows(tx, "user", limit=50)
        ]
        return {"users": users, "history": history}

    data = database(request).read(read)
    return page(
        request,
        "users.html",
        {
            **data,
            "roles": ROLES,
            "oidc": state(request).oidc is not None,
            "error": error,
            "values": values or {},
            "failed_form": failed_form,
        },
        status_code=400 if error else 200,
    )


@router.post("/users")
def user_add(request: Request, user: CanManageUsers, form: PostedForm) -> Response:
    password = form.text("password")
    if password != form.text("password_again"):
        return _users(request, "password: the two passwords differ", form.values(), "user-add")
    ph = accounts.hasher_for(state(request).settings.argon2_parameters)
    new = accounts.NewUser(
        username=form.text("username"),
        role=form.text("role"),
        display_name=form.text("display_name"),
        email=form.optional("email"),
        password=password or None,
    )
    try:
        database(request).write(user.actor, lambda tx: accounts.add_user(tx, new, ph))
    except RegisterError as exc:
        return _users(request, exc, form.values(), "user-add")
    request.session["flash"] = f"User {new.username.strip()} added."
    return RedirectResponse("/users", status_code=303)


@router.post("/users/{user_id}/role")
def user_role(request: Request, user: CanManageUsers, user_id: int, form: PostedForm) -> Response:
    def change(tx: Tx) -> None:
        if user_id == user.user_id:
            raise InvalidField("role", "you cannot change your own role (another admin can)")
        accounts.set_role(tx, user_id, form.text("role"))

    try:
        database(request).write(user.actor, change)
    except RegisterError as exc:
        return _users(request, exc)
    request.session["flash"] = "Role changed."
    return RedirectResponse("/users", status_code=303)


@router.post("/users/{user_id}/status")
def user_status(request: Request, user: CanManageUsers, user_id: int, form: PostedForm) -> Response:
    active = form.text("status") == "active"

    def change(tx: Tx) -> None:
        if user_id == user.user_id:
            raise InvalidField("status", "you cannot disable your own account")
        accounts.set_status(tx, user_id, active=active)

    try:
        database(request).write(user.actor, change)
    except RegisterError as exc:
        return _users(request, exc)
    request.session["flash"] = "Account enabled." if active else "Account disabled."
    return RedirectResponse("/users", status_code=303)
