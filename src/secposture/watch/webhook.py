"""A GitHub App's webhook deliveries: is it GitHub's (the signature), which delivery (its id),
and which repositories it asks us to rescan. No I/O here: the route reads the request, this
decides, the queue (queue.py) remembers.

GitHub signs each delivery's body with the App's webhook secret: `X-Hub-Signature-256:
sha256=<hex HMAC-SHA256>`. It is compared in constant time (hmac.compare_digest) with the one
computed here; no other header (the older SHA-1 `X-Hub-Signature`) is accepted.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from secposture.register.watch_tables import ALL_REPOSITORIES, DELIVERY
from secposture.watch.interface import RescanRequest, repository_name

SIGNATURE_HEADER = "x-hub-signature-256"
DELIVERY_HEADER = "x-github-delivery"
EVENT_HEADER = "x-github-event"
SIGNATURE_PREFIX = "sha256="

# The events whose every action can change a control's status.
ANY_ACTION = frozenset({"branch_protection_rule", "repository_ruleset", "security_and_analysis"})
REPOSITORY_ACTIONS = frozenset(
    {"created", "renamed", "archived", "unarchived", "transferred", "publicized", "privatized"}
)
# Installation changes: the App can now see (or see more of) the organisation.
INSTALLATION_ACTIONS = frozenset({"created", "new_permissions_accepted", "unsuspend"})


class BadDelivery(Exception):
    """A signed delivery we cannot use (no id, not JSON): answered 400, nothing queued."""


def signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    """Whether `header` is GitHub's signature of `body` with `secret`, compared in constant
    time. A missing, malformed or SHA-1 signature is not valid."""
    if not secret or header is None:
        return False
    given = header.strip().encode("latin-1", "replace")
    expected = SIGNATURE_PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), given)


def delivery_id(header: str | None) -> str:
    """The delivery's id (a GUID): printable, short. GitHub sends one with every delivery."""
    value = (header or "").strip()
    if not value or len(value) > DELIVERY or not all(c.isalnum() or c in "-_" for c in value):
        raise BadDelivery("X-GitHub-Delivery is missing or is not a delivery id")
    return value


def event_name(header: str | None) -> str:
    value = (header or "").strip()
    if not value or len(value) > 40 or not all(c.isalnum() or c == "_" for c in value):
        raise BadDelivery("X-GitHub-Event is missing or is not an event name")
    return value


def parse_payload(body: bytes) -> Mapping[str, Any]:
    """The delivery's JSON object. Deeply nested JSON is refused, not a crash."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        raise BadDelivery("the delivery's body is not JSON") from None
    if not isinstance(payload, Mapping):
        raise BadDelivery("the delivery's body is not a JSON object")
    return payload


@dataclass(frozen=True)
class Decision:
    """What a delivery asks for: rescans (none: nothing to do for this event)."""

    event: str
    rescans: tuple[RescanRequest, ...]
    why_not: str = ""  # said in the answer when nothing is queued


def decide(event: str, payload: Mapping[str, Any], delivery: str, organisation: str) -> Decision:
    """Which rescans a delivery of `event` asks for. Deliveries about another organisation (an
    App installed elsewhere too) ask for nothing."""
    action = payload.get("action") if isinstance(payload.get("action"), str) else ""
    owner = _owner(payload)
    if organisation and owner is not None and owner.lower() != organisation.lower():
        return Decision(event, (), f"not about {organisation}")

    def one(reason_detail: str) -> Decision:
        name = _repository(payload)
        if name is None:
            return Decision(event, (), "no repository named")
        return Decision(event, (RescanRequest(name, event, reason_detail, delivery),))

    def everything(reason_detail: str) -> Decision:
        return Decision(event, (RescanRequest(ALL_REPOSITORIES, event, reason_detail, delivery),))

    if event == "push":
        repo = payload.get("repository")
        default = repo.get("default_branch") if isinstance(repo, Mapping) else None
        ref = payload.get("ref")
        if not isinstance(default, str) or ref != f"refs/heads/{default}":
            return Decision(event, (), "not a push to the default branch")
        return one(f"push to {default}{_by(payload)}")
    if event == "repository":
        if action not in REPOSITORY_ACTIONS:
            return Decision(event, (), f"repository {action or 'event'} changes no control")
        return one(f"repository {action}{_by(payload)}")
    if event in ANY_ACTION:
        if event == "repository_ruleset" and _repository(payload) is None:
            return everything(f"organisation ruleset {action}{_by(payload)}")
        return one(f"{event.replace('_', ' ')} {action}{_by(payload)}".strip())
    if event == "installation":
        if action not in INSTALLATION_ACTIONS:
            return Decision(event, (), f"installation {action}: nothing to scan")
        return everything(f"installation {action}{_by(payload)}")
    if event == "installation_repositories":
        added = payload.get("repositories_added")
        names = [
            n
            for n in (
                _full_name(item) for item in (added if isinstance(added, list) else [])[:1000]
            )
            if n is not None
        ]
        detail = f"added to the installation{_by(payload)}"
        return Decision(
            event, tuple(RescanRequest(n, event, detail, delivery) for n in names), "none added"
        )
    if event == "ping":
        return Decision(event, (), "ping")
    return Decision(event, (), f"{event} is not watched")


def _repository(payload: Mapping[str, Any]) -> str | None:
    return _full_name(payload.get("repository"))


def _full_name(item: object) -> str | None:
    if not isinstance(item, Mapping):
        return None
    full = item.get("full_name")
    if isinstance(full, str) and full.count("/") == 1:
        owner_login, name = full.split("/")
        return repository_name(owner_login, name)
    owner = item.get("owner")
    login = owner.get("login") if isinstance(owner, Mapping) else None
    return repository_name(login, item.get("name"))


def _owner(payload: Mapping[str, Any]) -> str | None:
    for key in ("organization", "installation"):
        holder: object = payload.get(key)
        if key == "installation" and isinstance(holder, Mapping):
            holder = holder.get("account")
        if isinstance(holder, Mapping) and isinstance(holder.get("login"), str):
            return str(holder["login"])
    name = _repository(payload)
    return name.split("/")[0] if name else None


def _by(payload: Mapping[str, Any]) -> str:
    sender = payload.get("sender")
    login = sender.get("login") if isinstance(sender, Mapping) else None
    if isinstance(login, str) and repository_name(login.removesuffix("[bot]"), "x"):
        return f" by {login}"
    return ""
