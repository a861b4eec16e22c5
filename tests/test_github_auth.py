"""GitHub credentials: tokens from the environment, GitHub App JWTs and installation tokens.

GitHub's App endpoints are played by httpx.MockTransport (it stands in for GitHub, not for our
code); integration with the fake GitHub server is in test_github_transport.py.
"""

from __future__ import annotations

import json
import pickle
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from secposture.sources.github.auth import (
    AppCredentials,
    GitHubAuthError,
    InstallationTarget,
    PrivateKey,
    Secret,
    TokenCredentials,
    credentials_from_env,
)
from secposture.sources.github.transport import GitHubClient

NOW = 1_800_000_000.0
TOKEN = "ghp_unit0test0token0value0000000000000000"


class FakeClock:
    def __init__(self) -> None:
        self.now = NOW
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def pem(rsa_key: rsa.RSAPrivateKey) -> str:
    return rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeAppGitHub:
    """GitHub's App endpoints: checks the JWT like GitHub does, mints numbered tokens."""

    def __init__(
        self, key: rsa.RSAPrivateKey, clock: FakeClock, installations: dict[str, int]
    ) -> None:
        self.public = key.public_key()
        self.clock = clock
        self.installations = installations  # "orgs/acme" or "repos/acme/api" -> id
        self.minted: list[str] = []
        self.jwts: list[str] = []
        self.api_tokens: list[str] = []  # Authorization of ordinary API calls
        self.refuse_tokens: set[str] = set()

    def _jwt_ok(self, request: httpx.Request) -> bool:
        token = request.headers["authorization"].removeprefix("Bearer ")
        self.jwts.append(token)
        try:
            # The times are checked against the test's clock, never the machine's.
            claims = jwt.decode(
                token,
                self.public,
                algorithms=["RS256"],
                options={"verify_iat": False, "verify_exp": False},
            )
        except jwt.PyJWTError:
            return False
        now = self.clock.now
        return now < claims["exp"] <= now + 600 and claims["iat"] <= now

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/installation"):
            if not self._jwt_ok(request):
                return httpx.Response(
                    401, json={"message": "A JSON web token could not be decoded"}
                )
            key = path.strip("/").removesuffix("/installation")
            if key not in self.installations:
                return httpx.Response(404, json={"message": "Not Found"})
            return httpx.Response(200, json={"id": self.installations[key]})
        if path.startswith("/app/installations/"):
            if request.method != "POST" or not self._jwt_ok(request):
                return httpx.Response(401, json={"message": "Bad credentials"})
            installation = int(path.split("/")[3])
            if installation not in self.installations.values():
                return httpx.Response(404, json={"message": "Not Found"})
            token = f"ghs_installation{len(self.minted):04d}secretvalue"
            self.minted.append(token)
            return httpx.Response(
                201, json={"token": token, "expires_at": iso(self.clock.now + 3600)}
            )
        bearer = request.headers["authorization"].removeprefix("Bearer ")
        self.api_tokens.append(bearer)
        if bearer not in self.minted or bearer in self.refuse_tokens:
            return httpx.Response(401, json={"message": "Bad credentials"})
        return httpx.Response(200, json={"login": "acme"})


def app_client(github: FakeAppGitHub, creds: AppCredentials, clock: FakeClock) -> GitHubClient:
    return GitHubClient(
        "https://api.github.com",
        creds,
        transport=httpx.MockTransport(github),
        clock=clock.time,
        sleep=clock.sleep,
    )


# -- Secret ---------------------------------------------------------------------------------


def test_secret_is_redacted_everywhere_but_reveal() -> None:
    secret = Secret(TOKEN)
    for shown in (str(secret), repr(secret), f"{secret}", f"{secret!r}", str([secret])):
        assert TOKEN not in shown
        assert "***" in shown
    assert secret.reveal() == TOKEN
    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_fingerprint_identifies_without_revealing() -> None:
    assert Secret(TOKEN).fingerprint() == Secret(TOKEN).fingerprint()
    assert Secret(TOKEN).fingerprint() != Secret(TOKEN + "x").fingerprint()
    assert TOKEN not in Secret(TOKEN).fingerprint()


# -- tokens from the environment ------------------------------------------------------------


def test_github_token_wins_over_gh_token() -> None:
    creds = credentials_from_env({"GITHUB_TOKEN": "ghp_first", "GH_TOKEN": "ghp_second"})
    assert isinstance(creds, TokenCredentials)
    assert creds.source == "GITHUB_TOKEN"
    assert creds.bearer(None).reveal() == "ghp_first"  # type: ignore[arg-type]


def test_gh_token_is_the_fallback_and_blank_counts_as_unset() -> None:
    creds = credentials_from_env({"GITHUB_TOKEN": "  \n", "GH_TOKEN": " ghp_second\n"})
    assert creds.source == "GH_TOKEN"
    assert creds.bearer(None).reveal() == "ghp_second"  # type: ignore[arg-type]


def test_no_token_is_a_clear_error() -> None:
    with pytest.raises(GitHubAuthError, match="set GITHUB_TOKEN"):
        credentials_from_env({})


def test_token_with_inner_whitespace_is_refused_without_echoing_it() -> None:
    value = "ghp_abc\r\nX-Injected: yes"
    with pytest.raises(GitHubAuthError) as caught:
        credentials_from_env({"GITHUB_TOKEN": value})
    assert "GITHUB_TOKEN" in str(caught.value)
    assert "ghp_abc" not in str(caught.value) and "Injected" not in str(caught.value)


def test_token_credentials_repr_hides_the_token() -> None:
    creds = credentials_from_env({"GITHUB_TOKEN": TOKEN})
    assert TOKEN not in repr(creds)
    assert TOKEN not in creds.identity


# -- App configuration ----------------------------------------------------------------------


def test_app_from_environment_wins_over_a_ci_token(pem: str) -> None:
    env = {
        "GITHUB_TOKEN": TOKEN,
        "SECPOSTURE_APP_ID": "12345",
        "SECPOSTURE_APP_PRIVATE_KEY": pem,
        "SECPOSTURE_APP_INSTALLATION_ID": "77",
    }
    creds = credentials_from_env(env)
    assert isinstance(creds, AppCredentials)
    assert (creds.app_id, creds.installation_id) == (12345, 77)
    assert creds.source == "GitHub App 12345"
    assert "BEGIN" not in repr(creds)


def test_app_key_from_a_file(tmp_path: Path, pem: str) -> None:
    key_file = tmp_path / "app.pem"
    key_file.write_text(pem)
    creds = credentials_from_env(
        {}, app_id=12345, private_key_file=key_file, target=InstallationTarget("acme")
    )
    assert isinstance(creds, AppCredentials)
    assert creds.installation_id is None  # discovered from the organisation later


def test_missing_key_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    with pytest.raises(GitHubAuthError, match=r"nope\.pem: cannot read the GitHub App private key"):
        credentials_from_env({}, app_id=1, private_key_file=missing, installation_id=2)


def test_unreadable_key_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(GitHubAuthError, match="cannot read"):
        credentials_from_env({}, app_id=1, private_key_file=tmp_path, installation_id=2)


def test_invalid_key_is_refused_without_quoting_it(pem: str) -> None:
    broken = pem.replace("A", "?", 40)
    with pytest.raises(GitHubAuthError) as caught:
        credentials_from_env({"SECPOSTURE_APP_PRIVATE_KEY": broken}, app_id=1, installation_id=2)
    message = str(caught.value)
    assert "SECPOSTURE_APP_PRIVATE_KEY: not a valid PEM private key" in message
    for line in broken.splitlines()[1:-1]:
        assert line not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_a_non_rsa_key_is_refused() -> None:
    ec_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    with pytest.raises(GitHubAuthError, match="RSA"):
        PrivateKey.from_pem(ec_pem.encode(), "app.pem")


def test_app_without_key_or_installation_is_a_clear_error(pem: str) -> None:
    with pytest.raises(GitHubAuthError, match="no private key"):
        credentials_from_env({"SECPOSTURE_APP_ID": "5"})
    with pytest.raises(GitHubAuthError, match="installation id"):
        credentials_from_env({"SECPOSTURE_APP_ID": "5", "SECPOSTURE_APP_PRIVATE_KEY": pem})
    with pytest.raises(GitHubAuthError, match="must be a number"):
        credentials_from_env({"SECPOSTURE_APP_ID": "five", "SECPOSTURE_APP_PRIVATE_KEY": pem})


# -- App JWT and installation tokens --------------------------------------------------------


def test_app_jwt_claims(rsa_key: rsa.RSAPrivateKey, pem: str) -> None:
    clock = FakeClock()
    creds = AppCredentials(
        12345, PrivateKey.from_pem(pem.encode(), "k"), installation_id=1, clock=clock.time
    )
    token = creds.app_jwt()
    assert "***" in repr(token)
    header = jwt.get_unverified_header(token.reveal())
    claims = jwt.decode(
        token.reveal(),
        rsa_key.public_key(),
        algorithms=["RS256"],
        options={"verify_iat": False, "verify_exp": False},
    )
    assert header["alg"] == "RS256"
    assert claims["iss"] == "12345"
    assert claims["iat"] == NOW - 60  # backdated for clock drift
    assert 0 < claims["exp"] - NOW <= 600  # GitHub refuses more than 10 minutes


def test_installation_token_is_minted_once_and_refreshed_before_expiry(
    rsa_key: rsa.RSAPrivateKey, pem: str
) -> None:
    clock = FakeClock()
    github = FakeAppGitHub(rsa_key, clock, {"orgs/acme": 77})
    creds = AppCredentials(
        12345, PrivateKey.from_pem(pem.encode(), "k"), installation_id=77, clock=clock.time
    )
    with app_client(github, creds, clock) as client:
        client.rest_get("/orgs/acme")
        client.rest_get("/orgs/acme/repos")
        assert len(github.minted) == 1
        assert github.api_tokens == [github.minted[0]] * 2
        clock.now += 3600 - 301  # still more than the 5-minute margin away
        client.rest_get("/user")
        assert len(github.minted) == 1
        clock.now += 2  # inside the margin: a new token before the old one lapses
        client.rest_get("/user")
        assert len(github.minted) == 2
        assert github.api_tokens[-1] == github.minted[1]
        assert creds.expires_at == pytest.approx(clock.now + 3600)


def test_installation_is_discovered_from_the_organisation(
    rsa_key: rsa.RSAPrivateKey, pem: str
) -> None:
    clock = FakeClock()
    github = FakeAppGitHub(rsa_key, clock, {"orgs/acme": 77, "repos/solo/api": 88})
    creds = AppCredentials(
        1,
        PrivateKey.from_pem(pem.encode(), "k"),
        target=InstallationTarget("acme"),
        clock=clock.time,
    )
    with app_client(github, creds, clock) as client:
        assert client.rest_get("/orgs/acme").status == 200
    assert creds.installation_id == 77

    repo_creds = AppCredentials(
        1,
        PrivateKey.from_pem(pem.encode(), "k"),
        target=InstallationTarget("solo", "api"),
        clock=clock.time,
    )
    with app_client(github, repo_creds, clock) as client:
        client.rest_get("/repos/solo/api")
    assert repo_creds.installation_id == 88


def test_app_not_installed_on_the_org(rsa_key: rsa.RSAPrivateKey, pem: str) -> None:
    clock = FakeClock()
    github = FakeAppGitHub(rsa_key, clock, {"orgs/acme": 77})
    creds = AppCredentials(
        1,
        PrivateKey.from_pem(pem.encode(), "k"),
        target=InstallationTarget("other"),
        clock=clock.time,
    )
    with app_client(github, creds, clock) as client, pytest.raises(GitHubAuthError) as caught:
        client.rest_get("/orgs/other/repos")
    assert "GitHub App 1 is not installed on organisation other" in str(caught.value)


def test_a_key_of_another_app_is_bad_credentials(rsa_key: rsa.RSAPrivateKey) -> None:
    clock = FakeClock()
    github = FakeAppGitHub(rsa_key, clock, {"orgs/acme": 77})
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    creds = AppCredentials(1, PrivateKey(other), installation_id=77, clock=clock.time)
    with app_client(github, creds, clock) as client, pytest.raises(GitHubAuthError) as caught:
        client.rest_get("/orgs/acme")
    message = str(caught.value)
    assert "rejected the App's JWT (401 bad credentials)" in message
    assert all(token not in message for token in github.jwts)


def test_a_revoked_installation_token_is_replaced_once(
    rsa_key: rsa.RSAPrivateKey, pem: str
) -> None:
    clock = FakeClock()
    github = FakeAppGitHub(rsa_key, clock, {"orgs/acme": 77})
    creds = AppCredentials(
        1, PrivateKey.from_pem(pem.encode(), "k"), installation_id=77, clock=clock.time
    )
    with app_client(github, creds, clock) as client:
        client.rest_get("/orgs/acme")
        github.refuse_tokens.add(github.minted[0])  # revoked on GitHub's side
        assert client.rest_get("/orgs/acme/repos").status == 200
        assert len(github.minted) == 2
        # Every new token refused too: one retry, then a clear error rather than a loop.
        github.refuse_tokens.add(github.minted[1])
        github.refuse_tokens.add("ghs_installation0002secretvalue")
        with pytest.raises(GitHubAuthError, match="GitHub App 1"):
            client.rest_get("/orgs/acme/teams")
    assert len(github.minted) == 3


def test_concurrent_callers_share_one_mint(rsa_key: rsa.RSAPrivateKey, pem: str) -> None:
    github = FakeAppGitHub(rsa_key, FakeClock(), {"orgs/acme": 77})
    github.clock.now = time.time()

    def slow_github(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/app/"):
            time.sleep(0.05)  # a slow mint: every other thread arrives while it runs
        return github(request)

    creds = AppCredentials(1, PrivateKey.from_pem(pem.encode(), "k"), installation_id=77)
    client = GitHubClient(
        "https://api.github.com", creds, transport=httpx.MockTransport(slow_github), concurrency=8
    )
    errors: list[BaseException] = []

    def call() -> None:
        try:
            client.rest_get("/orgs/acme")
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    client.close()
    assert errors == []
    assert len(github.minted) == 1


def test_malformed_token_answer_is_a_clear_error(pem: str) -> None:
    def github(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, content=json.dumps({"token": "x y", "expires_at": "soon"}))

    creds = AppCredentials(1, PrivateKey.from_pem(pem.encode(), "k"), installation_id=7)
    client = GitHubClient("https://api.github.com", creds, transport=httpx.MockTransport(github))
    with pytest.raises(GitHubAuthError, match="no usable token"):
        client.rest_get("/orgs/acme")


def test_an_unknown_app_id_is_named(pem: str) -> None:
    def github(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"message": "Integration not found"})

    creds = AppCredentials(
        999, PrivateKey.from_pem(pem.encode(), "k"), target=InstallationTarget("acme")
    )
    client = GitHubClient("https://api.github.com", creds, transport=httpx.MockTransport(github))
    with pytest.raises(
        GitHubAuthError, match="GitHub does not know GitHub App 999: check the app id"
    ):
        client.rest_get("/orgs/acme")
