"""Dashboard accounts: add, list, change role, disable and enable, and check a password.

Each change goes through the register's history (`record`), so who gave whom which role is kept
like any other register change. Passwords are hashed with argon2id (argon2-cffi); the hash is
never returned by `to_dict`, shown on a page or written to the history.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select

from secposture.register import validate
from secposture.register.database import Tx
from secposture.register.errors import Duplicate, InvalidField, NotFound
from secposture.register.history import record
from secposture.register.web_accounts import ACTIVE, DISABLED, LOCAL, OIDC, WebUser
from secposture.web.auth import OidcRefused, end_user_sessions
from secposture.web.settings import ROLES

MIN_PASSWORD = 12
# argon2 takes any length, but hashing megabytes on every attempt is a denial of service.
MAX_PASSWORD = 1024
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}")


@cache
def hasher(parameters: tuple[tuple[str, Any], ...] = ()) -> PasswordHasher:
    return PasswordHasher(**dict(parameters))


def hasher_for(parameters: Mapping[str, Any] | None) -> PasswordHasher:
    return hasher(tuple(sorted((parameters or {}).items())))


# A hash of nothing anyone can type: checked when the user name is unknown, so an unknown name
# takes as long to refuse as a wrong password and timing does not reveal which names exist.
@cache
def _decoy(ph: PasswordHasher) -> str:
    return ph.hash("\x00 no such account \x00")


@dataclass(frozen=True)
class Account:
    """An account as plain values, safe to keep after its transaction (no password hash)."""

    id: int
    username: str
    display_name: str
    role: str
    auth: str
    status: str
    rehash: bool = False  # the password verified against a hash with outdated parameters

    @classmethod
    def of(cls, user: WebUser, *, rehash: bool = False) -> Account:
        return cls(
            user.id, user.username, user.display_name, user.role, user.auth, user.status, rehash
        )


@dataclass(frozen=True)
class NewUser:
    username: str
    role: str
    display_name: str = ""
    email: str | None = None
    password: str | None = None  # None: the account signs in through OIDC only


def check_username(value: str) -> str:
    name = value.strip()
    if not _USERNAME.fullmatch(name):
        raise InvalidField(
            "username",
            "use 1-100 letters, digits and . _ @ + - (starting with a letter or digit)",
        )
    return name


def check_role(value: str) -> str:
    return validate.choice("role", value, ROLES)


def check_password(password: str, username: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InvalidField("password", f"too short: at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise InvalidField("password", f"too long: at most {MAX_PASSWORD} characters")
    if password.strip().casefold() == username.casefold():
        raise InvalidField("password", "must not be the user name")
    return password


def add_user(tx: Tx, data: NewUser, ph: PasswordHasher | None = None) -> WebUser:
    username = check_username(data.username)
    if find_user(tx, username) is not None:
        raise Duplicate(f"user {username!r} already exists")
    email = _email(data.email) if data.email else None
    password_hash = None
    if data.password is not None:
        password_hash = (ph or hasher()).hash(check_password(data.password, username))
    user = WebUser(
        username=username,
        username_key=username.casefold(),
        display_name=validate.line("display_name", data.display_name or username),
        email=email,
        role=check_role(data.role),
        auth=LOCAL if password_hash is not None else OIDC,
        password_hash=password_hash,
        status=ACTIVE,
    )
    record(tx, user, "created", None)
    return user


def find_user(tx: Tx, username: str, *, for_update: bool = False) -> WebUser | None:
    query = select(WebUser).where(WebUser.username_key == username.strip().casefold())
    if for_update:
        query = query.with_for_update(of=WebUser)
    return tx.session.scalars(query).first()


def get_user(tx: Tx, username: str | int, *, for_update: bool = False) -> WebUser:
    if isinstance(username, int):
        query = select(WebUser).where(WebUser.id == username)
        if for_update:
            query = query.with_for_update(of=WebUser)
        user = tx.session.scalars(query).first()
    else:
        user = find_user(tx, username, for_update=for_update)
    if user is None:
        raise NotFound(f"no user {str(username)[:60]!r} (secposture user list shows them)")
    return user


def list_users(tx: Tx) -> list[WebUser]:
    return list(tx.session.scalars(select(WebUser).order_by(WebUser.username_key)))


def set_role(tx: Tx, username: str | int, role: str) -> WebUser:
    user = get_user(tx, username, for_update=True)
    new_role = check_role(role)
    if user.role == new_role:
        raise InvalidField("role", f"{user.username} is already {new_role}")
    before = user.to_dict()
    user.role = new_role
    record(tx, user, "role_changed", before)
    return user


def set_status(tx: Tx, username: str | int, *, active: bool) -> WebUser:
    """Disable (signs the user out everywhere: sessions check the status) or enable again."""
    user = get_user(tx, username, for_update=True)
    status = ACTIVE if active else DISABLED
    if user.status == status:
        raise InvalidField("status", f"{user.username} is already {status}")
    before = user.to_dict()
    user.status = status
    record(tx, user, "enabled" if active else "disabled", before)
    if not active:
        end_user_sessions(tx, user.id)
    return user


def verify_password(tx: Tx, username: str, password: str, ph: PasswordHasher) -> Account | None:
    """The active local user these credentials belong to, else None (for any reason: the
    caller shows one generic message)."""
    user = find_user(tx, username) if _USERNAME.fullmatch(username.strip()) else None
    stored = user.password_hash if user is not None else None
    try:
        ph.verify(stored or _decoy(ph), password[:MAX_PASSWORD])
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if user is None or stored is None or user.status != ACTIVE:
        return None
    return Account.of(user, rehash=ph.check_needs_rehash(stored))


def rehash(tx: Tx, user_id: int, password: str, ph: PasswordHasher) -> None:
    """Store the password hashed with today's parameters (they were raised since). Not a change
    of the account that people need in the history: the hash is not part of it."""
    user = get_user(tx, user_id, for_update=True)
    user.password_hash = ph.hash(password)


def _email(value: str) -> str:
    email = validate.line("email", value).lower()
    local, at, domain = email.rpartition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in email):
        raise InvalidField("email", f"{email[:60]!r} is not an email address")
    return email


UNVERIFIED = (
    "the identity provider did not confirm that this email address is verified, so the "
    "sign-in cannot be linked to an account or make one: ask an admin"
)


def oidc_user(
    tx: Tx,
    *,
    issuer: str,
    subject: str,
    email: str,
    email_verified: bool,
    display_name: str,
    mapped_role: str | None,
) -> WebUser | None:
    """The account an OIDC identity signs in as (ADR 0013). An identity bound before is found by
    issuer and subject, never by its email (which may have changed, or been claimed). The first
    sign-in of an identity goes by its email, so only when the provider says it is verified:
    an account pre-provisioned for the email is bound (its issuer and subject stored), else a
    new one is made (viewer, unless the role claim maps to a role); an unverified email raises
    OidcRefused. None when the account is disabled, local, or bound to another identity."""
    user = tx.session.scalars(
        select(WebUser)
        .where(WebUser.oidc_issuer == issuer, WebUser.oidc_subject == subject)
        .with_for_update(of=WebUser)
    ).first()
    if user is None:
        if not email_verified:
            raise OidcRefused(UNVERIFIED)
        user = find_user(tx, email, for_update=True)
        if user is not None and (user.auth != OIDC or user.oidc_subject is not None):
            # A local account, or an email already bound to another identity: never take it over.
            return None
    if user is None:
        return add_oidc_account(tx, issuer, subject, email, display_name, mapped_role)
    if user.status != ACTIVE:
        return None
    before = user.to_dict()
    changed = user.oidc_subject is None
    user.oidc_issuer, user.oidc_subject = issuer, subject
    if mapped_role is not None and mapped_role != user.role:
        user.role = mapped_role
        changed = True
    if changed:
        record(tx, user, "signed_in_oidc", before)
    return user


def add_oidc_account(
    tx: Tx, issuer: str, subject: str, email: str, display_name: str, role: str | None
) -> WebUser:
    user = WebUser(
        username=email,
        username_key=email.casefold(),
        display_name=validate.line("display_name", display_name or email),
        email=email,
        role=role or ROLES[0],
        auth=OIDC,
        password_hash=None,
        oidc_issuer=issuer,
        oidc_subject=subject,
        status=ACTIVE,
    )
    record(tx, user, "created", None)
    return user
