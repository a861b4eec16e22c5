"""The chat channels: a Slack incoming webhook and a Microsoft Teams workflow webhook, one
message format each (docs/sending-issues.md).

The webhook URL is the credential: it is never shown (a result names only its host), redirects
are not followed (they could carry the report elsewhere), and everything typed into the issue is
escaped so it cannot mention @channel, add a link or change the layout.

- Slack: `{"text": subject, "blocks": [header, fields, one section per fact]}` in mrkdwn with
  `&`, `<` and `>` escaped, as Slack asks. Slack answers 200 `ok`.
- Teams: a `message` with one Adaptive Card 1.4 (a header, a FactSet, a TextBlock per fact),
  Markdown escaped. The workflow answers 200 or 202.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

from secposture import __version__
from secposture.redaction import guard_logger, redact
from secposture.register.delivery.interface import (
    AUTHENTICATION,
    HTTP_STATUS,
    TIMEOUT,
    DeliveryError,
    DeliveryResult,
    Outgoing,
    network_failure,
)
from secposture.register.issues import SIX
from secposture.reports import issue_report
from secposture.reports.common import clean

# httpx logs every request's URL at INFO, and the URL is the credential: its records (and
# httpcore's traces) are redacted even in a process that never loads the GitHub client.
for _logger in (
    "httpx",
    "httpcore",
    *(f"httpcore.{n}" for n in ("connection", "http11", "http2", "proxy", "socks")),
):
    guard_logger(_logger)

SLACK, TEAMS = "slack", "teams"
# Slack: a header's text is at most 150 characters, a section's 3000; a message 50 blocks.
SLACK_HEADER_CHARS = 150
SLACK_SECTION_CHARS = 3000
# Teams: a card is at most about 28 KB; each fact is kept well under it.
TEAMS_FACT_CHARS = 3000
MAX_ANSWER_BYTES = 4096
CUT = "… (cut: the full report is in the register)"


class ChatChannel:
    def __init__(self, kind: str, url: str, *, timeout: float) -> None:
        if kind not in (SLACK, TEAMS):
            raise ValueError(kind)
        self._kind = kind
        self._url = url
        self._timeout = timeout
        self._host = urlsplit(url).hostname or "?"

    @property
    def name(self) -> str:
        return self._kind

    @property
    def destination(self) -> str:
        return f"{'Slack' if self._kind == SLACK else 'Teams'} webhook at {self._host}"

    def payload(self, outgoing: Outgoing) -> dict[str, Any]:
        return slack_payload(outgoing) if self._kind == SLACK else teams_payload(outgoing)

    def send(self, outgoing: Outgoing) -> DeliveryResult:
        body = self.payload(outgoing)
        try:
            with (
                httpx.Client(
                    timeout=httpx.Timeout(self._timeout),
                    follow_redirects=False,
                    headers={"User-Agent": f"secposture/{__version__}"},
                ) as client,
                client.stream("POST", self._url, json=body) as response,
            ):
                answer = _read_capped(response)
        except httpx.TimeoutException:
            raise DeliveryError(
                self._kind, TIMEOUT, f"{self._host} did not answer within {self._timeout:g} s"
            ) from None
        except httpx.TransportError as exc:
            raise network_failure(self._kind, exc, self._host) from None
        return self._result(response.status_code, answer)

    def _result(self, status: int, answer: str) -> DeliveryResult:
        said = _printable(answer)
        if status in (401, 403):
            raise DeliveryError(
                self._kind,
                AUTHENTICATION,
                f"{self._host} answered {status} {said}: the webhook URL is revoked or wrong",
            )
        if status == 200 and self._kind == SLACK and answer.strip() not in ("ok", ""):
            raise DeliveryError(self._kind, HTTP_STATUS, f"{self._host} answered 200 {said}")
        if status not in (200, 201, 202, 204):
            raise DeliveryError(self._kind, HTTP_STATUS, f"{self._host} answered {status} {said}")
        return DeliveryResult(self._kind, self.destination, detail=f"{status} {said}".strip())


def _read_capped(response: httpx.Response) -> str:
    data = b""
    for chunk in response.iter_bytes():
        data += chunk
        if len(data) > MAX_ANSWER_BYTES:
            break
    return data[:MAX_ANSWER_BYTES].decode("utf-8", "replace")


def _printable(text: str) -> str:
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(redact(cleaned).split())[:200]


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - len(CUT)] + CUT


def _facts(outgoing: Outgoing) -> list[tuple[str, str]]:
    issue = outgoing.issue
    return [
        ("Product", issue.product.name),
        ("Severity", f"{issue.severity}; patch by {issue.patch_by}"),
        ("CVSS", f"{issue.cvss_score} ({issue.cvss_severity}) {issue.cvss_vector}"),
        ("Raised", f"{issue.raised_on} by {issue.reporter}"),
        ("Ticket", issue.ticket_link),
        ("Status", issue.status.replace("_", " ")),
    ]


def _six(outgoing: Outgoing) -> list[tuple[str, str]]:
    issue = outgoing.issue
    values = {
        "cve_ids": ", ".join(issue.cve_ids) or "None known.",
        "conversation_links": "\n".join(issue.conversation_links) or "None.",
    }
    return [
        (title, clean(values.get(key) or str(getattr(issue, key)), keep_newlines=True))
        for key, title in SIX
    ]


def slack_escape(text: str) -> str:
    """Slack's mrkdwn control characters: with these escaped, typed text cannot link, mention
    (<!channel>, <@U…>) or format as code beyond what it says."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(outgoing: Outgoing) -> dict[str, Any]:
    subject = clean(issue_report.subject(outgoing.issue))
    preface = outgoing.preface()
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _cut(subject, SLACK_HEADER_CHARS)},
        }
    ]
    if preface:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": slack_escape(preface)}}
        )
    blocks.append(
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*{name}*\n{slack_escape(_cut(value, 1900))}"}
                for name, value in _facts(outgoing)
            ],
        }
    )
    for title, value in _six(outgoing):
        text = f"*{title}*\n{slack_escape(value)}"
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, SLACK_SECTION_CHARS)}}
        )
    fallback = f"{preface} {subject}" if preface else subject
    return {"text": slack_escape(fallback), "blocks": blocks, "unfurl_links": False}


_TEAMS_SPECIAL = frozenset("\\`*_{}[]()#+-.!|>~<&")


def teams_escape(text: str) -> str:
    """A card's Markdown subset made literal: every character it could read as markup is
    backslash-escaped (a card renders no HTML, so entities would show as typed)."""
    return "".join(f"\\{ch}" if ch in _TEAMS_SPECIAL else ch for ch in clean(text))


def teams_payload(outgoing: Outgoing) -> dict[str, Any]:
    subject = clean(issue_report.subject(outgoing.issue))
    preface = outgoing.preface()
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": teams_escape(subject),
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
        }
    ]
    if preface:
        body.append(
            {"type": "TextBlock", "text": teams_escape(preface), "wrap": True, "color": "Attention"}
        )
    body.append(
        {
            "type": "FactSet",
            "facts": [
                {"title": name, "value": teams_escape(value)} for name, value in _facts(outgoing)
            ],
        }
    )
    for title, value in _six(outgoing):
        body.append({"type": "TextBlock", "text": title, "weight": "Bolder", "wrap": True})
        text = "\n\n".join(teams_escape(line) for line in value.splitlines() if line.strip())
        body.append(
            {"type": "TextBlock", "text": _cut(text or "-", TEAMS_FACT_CHARS), "wrap": True}
        )
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": body,
                },
            }
        ],
    }
