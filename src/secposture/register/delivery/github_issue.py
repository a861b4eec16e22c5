"""The GitHub issue channel: an issue in the Security team's private repository, labelled with
the severity and the product, through the same client and credentials as every other GitHub
call (sources/github: GITHUB_TOKEN or GH_TOKEN, or a GitHub App; GITHUB_API_URL for a GitHub
Enterprise Server).

The repository is read first and must be private: an issue in a public or internal repository
would disclose the vulnerability to everyone who can read it. An update edits the issue it
opened before (title, body, labels) and comments on it with what changed, so the team is told.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from secposture.errors import SecpostureError
from secposture.register.delivery.interface import (
    AUTHENTICATION,
    CONFIGURATION,
    CONNECTION,
    DNS,
    HTTP_STATUS,
    REFUSED,
    TIMEOUT,
    TLS,
    DeliveryError,
    DeliveryResult,
    Outgoing,
    network_failure,
)
from secposture.reports import issue_report
from secposture.reports.markdown_format import md
from secposture.sources.github.auth import (
    GitHubAuthError,
    InstallationTarget,
    credentials_from_env,
)
from secposture.sources.github.options import api_url_from
from secposture.sources.github.transport import (
    GitHubClient,
    GitHubError,
    GitHubUnavailable,
    RestResponse,
)

NAME = "github"
MAX_LABEL_CHARS = 50  # GitHub refuses longer label names
MAX_BODY_CHARS = 65_536  # and longer issue bodies
# A send is interactive: one retry of a failing server, then the person decides.
SEND_RETRIES = 1


class GitHubIssueChannel:
    def __init__(
        self, repository: str, *, env: Mapping[str, str] | None = None, timeout: float = 30.0
    ) -> None:
        self._repository = repository
        self._owner, _, self._name = repository.partition("/")
        self._env = env
        self._timeout = timeout

    @property
    def name(self) -> str:
        return NAME

    @property
    def destination(self) -> str:
        return self._repository

    def send(self, outgoing: Outgoing) -> DeliveryResult:
        try:
            credentials = credentials_from_env(
                self._env, target=InstallationTarget(self._owner, self._name)
            )
        except GitHubAuthError as exc:
            raise DeliveryError(NAME, CONFIGURATION, str(exc)) from None
        base = api_url_from(None if self._env is None else self._env.get("GITHUB_API_URL"))
        try:
            with GitHubClient(
                base,
                credentials,
                concurrency=1,
                max_retries=SEND_RETRIES,
                timeout=self._timeout,
                write_interval=0,
            ) as client:
                return self._send(client, outgoing)
        except DeliveryError:
            raise
        except GitHubAuthError as exc:
            raise DeliveryError(NAME, AUTHENTICATION, str(exc)) from None
        except GitHubUnavailable as exc:  # GitHubUnreachable too
            if exc.status is not None:
                raise DeliveryError(NAME, HTTP_STATUS, str(exc)) from None
            # What failed underneath (DNS, refused, TLS), from the exception it replaced.
            cause = network_failure(NAME, exc, self._host(base)).kind
            kind = cause if cause in (DNS, TLS, CONNECTION, TIMEOUT) else CONNECTION
            raise DeliveryError(NAME, kind, str(exc)) from None
        except GitHubError as exc:
            if exc.status in (401, 403):
                raise DeliveryError(NAME, AUTHENTICATION, str(exc)) from None
            raise DeliveryError(NAME, HTTP_STATUS, str(exc)) from None
        except SecpostureError as exc:
            raise DeliveryError(NAME, CONFIGURATION, str(exc)) from None

    @staticmethod
    def _host(base: str) -> str:
        return base.split("://", 1)[-1].split("/", 1)[0]

    def _send(self, client: GitHubClient, outgoing: Outgoing) -> DeliveryResult:
        path = f"/repos/{self._repository}"
        repo = client.rest_get(path).json
        if (
            not isinstance(repo, dict)
            or repo.get("private") is not True
            or repo.get("visibility", "private") != "private"
        ):
            raise DeliveryError(
                NAME,
                REFUSED,
                f"{self._repository} is not a private repository: an issue there would disclose "
                "the vulnerability to everyone who can read it",
            )
        issue = outgoing.issue
        fields: dict[str, Any] = {
            "title": _title(outgoing),
            "body": _body(outgoing),
            "labels": labels(issue.severity, issue.product.name),
        }
        previous = outgoing.previous
        number = previous.reference if previous is not None else None
        if (
            number is not None
            and number.isdigit()
            and previous is not None
            and (previous.destination == self._repository)
        ):
            edited = _object(client.rest("PATCH", f"{path}/issues/{number}", fields))
            comment = _object(
                client.rest(
                    "POST",
                    f"{path}/issues/{number}/comments",
                    {"body": md(outgoing.preface() or "Sent again.")},
                )
            )
            return DeliveryResult(
                NAME,
                self._repository,
                reference=str(edited.get("number", number)),
                url=str(comment.get("html_url") or edited.get("html_url") or ""),
            )
        created = _object(client.rest("POST", f"{path}/issues", fields))
        return DeliveryResult(
            NAME,
            self._repository,
            reference=str(created.get("number", "")) or None,
            url=str(created.get("html_url", "")) or None,
        )


def _object(response: RestResponse) -> dict[str, Any]:
    data = response.json
    if not isinstance(data, dict):
        raise DeliveryError(
            NAME, HTTP_STATUS, f"GitHub answered {response.status} without an issue"
        )
    return data


def labels(severity: str, product: str) -> list[str]:
    """`severity: high` and `product: NAME`, each within GitHub's 50 characters."""
    product_label = " ".join(f"product: {product}".split())
    if len(product_label) > MAX_LABEL_CHARS:
        product_label = product_label[: MAX_LABEL_CHARS - 1] + "…"
    return [f"severity: {severity}", product_label]


def _title(outgoing: Outgoing) -> str:
    return " ".join(issue_report.subject(outgoing.issue).split())[:256]


def _body(outgoing: Outgoing) -> str:
    preface = outgoing.preface()
    parts = [f"> {md(preface)}\n" if preface else "", issue_report.markdown(outgoing.issue)]
    parts.append(f"\n---\nSent with secposture by {md(outgoing.sender)}.\n")
    body = "\n".join(parts)
    if len(body) > MAX_BODY_CHARS:
        body = (
            body[: MAX_BODY_CHARS - 80]
            + "\n\n… (cut at GitHub's limit: the full report is in the register)\n"
        )
    return body
