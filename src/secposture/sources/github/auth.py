"""Credentials for the GitHub API: a token from the environment, or a GitHub App installation.

ADR 0005: tokens come from the environment (or are minted from an App key) and never leave the
process. Every token, JWT and key is held in a `Secret` (or a redacted key holder) whose `str` and
`repr` say nothing; `Secret.reveal()` is the one way to the raw value and is called only where the
Authorization header is built. Error messages name where a credential came from, never its value.
ADR 0012: a `Secret`'s value is also registered for redaction, so text that quotes it (a server
echoing the Authorization header) shows *** instead.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from secposture.errors import SecpostureError
from secposture.redaction import redact, register

TOKEN_VARIABLES = ("GITHUB_TOKEN", "GH_TOKEN")
APP_ID_VARIABLE = "SECPOSTURE_APP_ID"
APP_KEY_VARIABLE = "SECPOSTURE_APP_PRIVATE_KEY"  # the PEM text itself
APP_KEY_FILE_VARIABLE = "SECPOSTURE_APP_PRIVATE_KEY_FILE"  # a path to the PEM file
APP_INSTALLATION_VARIABLE = "SECPOSTURE_APP_INSTALLATION_ID"

JWT_BACKDATE_S = 60  # GitHub's advice: allow for the clock of this machine running ahead
JWT_LIFETIME_S = 540  # exp must be at most 10 minutes ahead; 9 leaves room for clock drift
REFRESH_MARGIN_S = 300  # mint a new installation token this long before the old one expires
MAX_KEY_BYTES = 64 * 1024  # an RSA PEM is a few kB; anything far larger is not a key

# A per-process key: credential identities (cache keys) cannot be reversed or compared across runs.
_IDENTITY_KEY = secrets.token_bytes(32)


class GitHubAuthError(SecpostureError):
    """No usable credentials, or GitHub refused them. Never contains a token or key."""


class Secret:
    """A token, JWT or key text: redacted in str/repr and in any text `redact` sees;
    `reveal()` is the only way to the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        register(value)

    def reveal(self) -> str:
        """The raw value, for building an Authorization header (and nothing else)."""
        return self._value

    def fingerprint(self) -> str:
        """A keyed hash of the value: the same within this process, useless outside it."""
        return _fingerprint(self._value)

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        # Pickling would write the value to disk or a pipe: refuse rather than leak.
        raise TypeError("a Secret cannot be pickled")


def _fingerprint(value: str) -> str:
    return hmac.new(_IDENTITY_KEY, value.encode(), hashlib.sha256).hexdigest()[:32]


class AppApi(Protocol):
    """The HTTP calls a GitHub App needs, authenticated with its JWT (GitHubClient provides them)."""

    def app_request(
        self, method: str, path: str, bearer: Secret, json: Mapping[str, Any] | None = None
    ) -> tuple[int, Any]:
        """Send one request with `bearer` as the token; answer (status, decoded JSON or None)."""
        ...


class Credentials(Protocol):
    """What GitHubClient needs from any kind of credential."""

    @property
    def identity(self) -> str:
        """A non-secret key for caches: different credentials never share cached answers."""
        ...

    @property
    def source(self) -> str:
        """Where the credential came from, for messages: "GITHUB_TOKEN", "GitHub App 123"."""
        ...

    def bearer(self, api: AppApi) -> Secret:
        """The token to send now (an App mints or refreshes its installation token here)."""
        ...

    def rejected(self, bearer: Secret) -> bool:
        """GitHub answered 401 to `bearer`: forget it; True when a fresh one is worth a retry."""
        ...


class TokenCredentials:
    """A personal access token, fine-grained token or Actions token taken from the environment."""

    def __init__(self, token: Secret, source: str) -> None:
        self._token = token
        self._source = source
        self._identity = "token:" + token.fingerprint()

    @property
    def identity(self) -> str:
        return self._identity

    @property
    def source(self) -> str:
        return self._source

    def bearer(self, api: AppApi) -> Secret:
        return self._token

    def rejected(self, bearer: Secret) -> bool:
        return False  # the same token would be refused again

    def __repr__(self) -> str:
        return f"TokenCredentials(source={self._source!r}, token=***)"


class PrivateKey:
    """An App's RSA private key, parsed (so it is known to be valid) and redacted in repr."""

    __slots__ = ("_key",)

    def __init__(self, key: RSAPrivateKey) -> None:
        self._key = key

    @classmethod
    def from_pem(cls, pem: bytes, origin: str) -> PrivateKey:
        """Parse a PEM RSA key; `origin` (a path or a variable name) is all an error names."""
        if len(pem) > MAX_KEY_BYTES:
            raise GitHubAuthError(f"{origin}: too large to be a GitHub App private key")
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError):
            # The library's message may quote the input; say what is wrong without it.
            raise GitHubAuthError(
                f"{origin}: not a valid PEM private key (expected the unencrypted .pem file "
                "GitHub generated for the App)"
            ) from None
        if not isinstance(key, RSAPrivateKey):
            raise GitHubAuthError(f"{origin}: GitHub App keys are RSA keys; this is another kind")
        return cls(key)

    @classmethod
    def from_file(cls, path: Path) -> PrivateKey:
        try:
            with path.open("rb") as handle:
                pem = handle.read(MAX_KEY_BYTES + 1)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise GitHubAuthError(
                f"{path}: cannot read the GitHub App private key: {reason}"
            ) from None
        return cls.from_pem(pem, str(path))

    def sign(self, claims: Mapping[str, Any]) -> Secret:
        return Secret(jwt.encode(dict(claims), self._key, algorithm="RS256"))

    def __repr__(self) -> str:
        return "PrivateKey(***)"


@dataclass(frozen=True)
class InstallationTarget:
    """Where to look up an App's installation when its id is not given: an org or a repository."""

    owner: str
    repo: str | None = None

    def path(self) -> str:
        owner = quote(self.owner, safe="")
        if self.repo is None:
            return f"/orgs/{owner}/installation"
        return f"/repos/{owner}/{quote(self.repo, safe='')}/installation"

    def describe(self) -> str:
        return self.owner if self.repo is None else f"{self.owner}/{self.repo}"


class AppCredentials:
    """A GitHub App installation: an RS256 JWT exchanged for an installation token, refreshed
    a few minutes before it expires. Thread-safe: concurrent callers share one mint."""

    def __init__(
        self,
        app_id: int,
        private_key: PrivateKey,
        *,
        installation_id: int | None = None,
        target: InstallationTarget | None = None,
        clock: Callable[[], float] = time.time,
        refresh_margin: float = REFRESH_MARGIN_S,
    ) -> None:
        if installation_id is None and target is None:
            raise GitHubAuthError(
                f"GitHub App {app_id}: give the installation id ({APP_INSTALLATION_VARIABLE}) "
                "or an organisation or repository to find it from"
            )
        self.app_id = app_id
        self._key = private_key
        self._installation_id = installation_id
        self._target = target
        self._clock = clock
        self._refresh_margin = refresh_margin
        self._lock = threading.Lock()
        self._token: Secret | None = None
        self._expires_at = 0.0
        # What the installation token may do, as GitHub said when it was minted ("workflows":
        # "write" lets it push changes to .github/workflows/); None before the first mint.
        self.permissions: dict[str, str] | None = None
        where = (
            str(installation_id)
            if installation_id is not None or target is None
            else target.describe()
        )
        # Not a Secret: an app id is not secret, and registering it would mask it in messages.
        self._identity = "app:" + _fingerprint(f"{app_id}:{where}")

    @property
    def identity(self) -> str:
        return self._identity

    @property
    def source(self) -> str:
        return f"GitHub App {self.app_id}"

    @property
    def installation_id(self) -> int | None:
        return self._installation_id

    @property
    def expires_at(self) -> float:
        """When the current installation token expires (epoch seconds; 0 before the first)."""
        return self._expires_at

    def app_jwt(self) -> Secret:
        """A JWT for the App itself: iat backdated for clock drift, exp within GitHub's 10 min."""
        now = int(self._clock())
        claims = {"iat": now - JWT_BACKDATE_S, "exp": now + JWT_LIFETIME_S, "iss": str(self.app_id)}
        return self._key.sign(claims)

    def bearer(self, api: AppApi) -> Secret:
        with self._lock:
            if self._token is None or self._clock() >= self._expires_at - self._refresh_margin:
                self._token, self._expires_at = self._mint(api)
            return self._token

    def rejected(self, bearer: Secret) -> bool:
        with self._lock:
            if self._token is bearer:
                self._token = None  # revoked or expired early: the next call mints a new one
            return True

    def _mint(self, api: AppApi) -> tuple[Secret, float]:
        app_jwt = self.app_jwt()
        installation = self._installation_id
        if installation is None:
            installation = self._discover(api, app_jwt)
            self._installation_id = installation
        status, body = api.app_request(
            "POST", f"/app/installations/{installation}/access_tokens", app_jwt
        )
        self._check_app_known(status, body)
        if status == 404:
            raise GitHubAuthError(
                f"{self.source}: installation {installation} not found (is the App still "
                f"installed?){_detail(body)}"
            )
        if status != 201 or not isinstance(body, dict):
            raise GitHubAuthError(
                f"{self.source}: GitHub answered {status} when asked for an installation "
                f"token{_detail(body)}"
            )
        granted = body.get("permissions")
        if isinstance(granted, dict):
            self.permissions = {str(k): str(v) for k, v in granted.items()}
        return _installation_token(body, self.source)

    def _discover(self, api: AppApi, app_jwt: Secret) -> int:
        target = self._target
        if target is None:  # unreachable: the constructor asks for an id or a target
            raise GitHubAuthError(f"{self.source}: no installation id")
        status, body = api.app_request("GET", target.path(), app_jwt)
        self._check_app_known(status, body)
        if status == 404:
            kind = "organisation" if target.repo is None else "repository"
            raise GitHubAuthError(
                f"{self.source} is not installed on {kind} {target.describe()}: install it there, "
                f"or give the installation id{_detail(body)}"
            )
        installation = body.get("id") if isinstance(body, dict) else None
        if status != 200 or not isinstance(installation, int) or isinstance(installation, bool):
            raise GitHubAuthError(
                f"{self.source}: GitHub answered {status} when asked for the installation on "
                f"{target.describe()}{_detail(body)}"
            )
        return installation

    def _check_app_known(self, status: int, body: Any) -> None:
        """GitHub's answers to a JWT it cannot use: an unknown app id, or a key or clock problem."""
        if status in (401, 404) and "integration not found" in _detail(body).lower():
            raise GitHubAuthError(
                f"GitHub does not know {self.source}: check the app id{_detail(body)}"
            )
        if status == 401:
            raise GitHubAuthError(
                f"{self.source}: GitHub rejected the App's JWT (401 bad credentials): check the "
                "app id, that the private key belongs to this App, and this machine's clock"
                f"{_detail(body)}"
            )

    def __repr__(self) -> str:
        return f"AppCredentials(app_id={self.app_id}, installation_id={self._installation_id})"


def _detail(body: Any) -> str:
    """GitHub's own message, bounded, stripped of control characters and of any credential value
    it echoes (the App's answers are not redacted on the way in: they carry the new token)."""
    message = body.get("message") if isinstance(body, dict) else None
    if not isinstance(message, str) or not message.strip():
        return ""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in message)
    return f" (GitHub: {' '.join(redact(cleaned).split())[:200]})"


def _installation_token(body: Mapping[str, Any], source: str) -> tuple[Secret, float]:
    token, expires = body.get("token"), body.get("expires_at")
    if not isinstance(token, str) or not _is_header_safe(token):
        raise GitHubAuthError(f"{source}: GitHub's installation token answer has no usable token")
    try:
        expires_at = datetime.fromisoformat(str(expires)).timestamp()
    except ValueError:
        raise GitHubAuthError(
            f"{source}: GitHub's installation token answer has no valid expires_at"
        ) from None
    return Secret(token), expires_at


def _is_header_safe(token: str) -> bool:
    """Printable ASCII without spaces: anything else would break (or smuggle into) the header."""
    return bool(token) and all(33 <= ord(ch) <= 126 for ch in token)


def token_from_env(env: Mapping[str, str]) -> TokenCredentials | None:
    """GITHUB_TOKEN, else GH_TOKEN; None when neither is set. Surrounding whitespace is dropped."""
    for name in TOKEN_VARIABLES:
        value = env.get(name, "").strip()
        if not value:
            continue
        if not _is_header_safe(value):
            raise GitHubAuthError(
                f"{name} contains spaces or control characters: it is not a GitHub token"
            )
        return TokenCredentials(Secret(value), name)
    return None


def _parse_id(value: str | int | None, what: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, int):
        number = value
    else:
        try:
            number = int(value.strip())
        except ValueError:
            raise GitHubAuthError(f"{what} must be a number, got {value.strip()[:40]!r}") from None
    if number <= 0:
        raise GitHubAuthError(f"{what} must be a positive number")
    return number


def _app_key(env: Mapping[str, str], key_file: Path | None) -> PrivateKey:
    if key_file is not None:
        return PrivateKey.from_file(key_file)
    if env.get(APP_KEY_VARIABLE, "").strip():
        return PrivateKey.from_pem(env[APP_KEY_VARIABLE].encode(), APP_KEY_VARIABLE)
    if env.get(APP_KEY_FILE_VARIABLE, "").strip():
        return PrivateKey.from_file(Path(env[APP_KEY_FILE_VARIABLE].strip()))
    raise GitHubAuthError(
        f"GitHub App: no private key: give the .pem file path or set {APP_KEY_VARIABLE}"
    )


def credentials_from_env(
    env: Mapping[str, str] | None = None,
    *,
    app_id: str | int | None = None,
    private_key_file: Path | None = None,
    installation_id: str | int | None = None,
    target: InstallationTarget | None = None,
    clock: Callable[[], float] = time.time,
) -> TokenCredentials | AppCredentials:
    """The credentials to use: a GitHub App when an app id is given (argument or
    SECPOSTURE_APP_ID), else GITHUB_TOKEN, else GH_TOKEN. An App wins over a token because
    CI sets GITHUB_TOKEN whether or not the user meant it for this."""
    env = os.environ if env is None else env
    app = _parse_id(app_id if app_id is not None else env.get(APP_ID_VARIABLE), "GitHub App id")
    if app is not None:
        installation = _parse_id(
            installation_id if installation_id is not None else env.get(APP_INSTALLATION_VARIABLE),
            "GitHub App installation id",
        )
        return AppCredentials(
            app,
            _app_key(env, private_key_file),
            installation_id=installation,
            target=target,
            clock=clock,
        )
    token = token_from_env(env)
    if token is None:
        raise GitHubAuthError(
            "no GitHub credentials: set GITHUB_TOKEN (or GH_TOKEN) to a token, or give a GitHub "
            f"App ({APP_ID_VARIABLE} and its private key)"
        )
    return token
